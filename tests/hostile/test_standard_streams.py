"""Standard streams as a caller may leave them: closed (``>&-``, ``<&-``, ``2>&-``), or with an encoding that
lacks characters the output holds (``PYTHONIOENCODING=ascii``).

Before: a closed standard output or input was an internal error to report (``'NoneType' object has no
attribute 'buffer'``), after ``record`` had appended its decisions; a text output in ASCII or Latin-1 was an
internal error (UnicodeEncodeError) at its first ``…``. Each runs as a real process, its descriptor closed
before the interpreter starts.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
from collections.abc import Callable
from pathlib import Path

import pytest
from cli_harness import EXAMPLES, command, subprocess_env

from ecei_rules.cli.app import EXIT_USAGE

GOLD = str(EXAMPLES / "gold-2021.json")


def _run(*args: str, closing: int | None = None,
         env: dict[str, str] | None = None) -> subprocess.CompletedProcess[bytes]:
    """``ecei-rules ARGS`` with descriptor ``closing`` closed when it starts (its other output captured)."""
    close: Callable[[], None] | None = None if closing is None else (lambda: os.close(closing))
    return subprocess.run(command(*args), stdin=subprocess.DEVNULL if closing != 0 else None,
                          stdout=subprocess.PIPE if closing != 1 else None,
                          stderr=subprocess.PIPE if closing != 2 else None,
                          env={**subprocess_env(), **(env or {})}, preexec_fn=close, timeout=300, check=False)


@pytest.mark.parametrize("args", [["evaluate", GOLD], ["evaluate", GOLD, "--format", "json"], ["versions"]])
def test_a_closed_standard_output_is_a_usage_error_saying_so(args: list[str]) -> None:
    done = _run(*args, closing=1)
    assert done.returncode == EXIT_USAGE
    assert done.stderr.decode().startswith("error: standard output was closed when the command started (give it "
                                           "a file, a pipe or /dev/null) while running 'ecei-rules ")


def test_record_with_a_closed_standard_output_changes_nothing(tmp_path: Path) -> None:
    """``record`` would append, then fail to say what it appended: it stops before, and no log is made."""
    log = tmp_path / "decisions.db"
    done = _run("record", GOLD, "--log", str(log), closing=1)
    assert done.returncode == EXIT_USAGE
    assert "standard output was closed when the command started" in done.stderr.decode()
    assert "nothing was changed" in done.stderr.decode()
    assert not log.exists()


def test_a_command_that_writes_to_a_file_works_with_standard_output_closed(tmp_path: Path) -> None:
    """``synth -o`` writes its population to the file and its summary to standard error: closing standard
    output changes nothing it writes (the file is the same, byte for byte, as with standard output open)."""
    closed, opened = tmp_path / "closed.jsonl", tmp_path / "open.jsonl"
    args = ["synth", "--as-of", "2024-06-30", "-n", "30", "--seed", "3", "-o"]
    done = _run(*args, str(closed), closing=1)
    assert done.returncode == 0, done.stderr
    assert _run(*args, str(opened)).returncode == 0
    assert closed.read_bytes() == opened.read_bytes()
    assert len(closed.read_bytes().splitlines()) == 30


def test_a_closed_standard_input_is_a_usage_error_saying_so() -> None:
    done = _run("evaluate", "-", closing=0)
    assert done.returncode == EXIT_USAGE
    assert done.stderr.decode().startswith("error: standard input was closed when the command started")


def test_a_closed_standard_error_leaves_the_exit_code_and_the_output_as_they_are() -> None:
    failed = _run("evaluate", "no-such-file.json", closing=2)
    assert failed.returncode == EXIT_USAGE
    assert failed.stdout == b""
    decided = _run("evaluate", GOLD, "--format", "json", "--fields", "label", closing=2)
    assert decided.returncode == 0
    assert decided.stdout == b'{"label":"gold","valid_from":"2021-05-18","valid_until":"2023-05-31"}\n'


@pytest.mark.parametrize(("encoding", "environment"), [
    ("ascii", {"PYTHONIOENCODING": "ascii"}), ("latin-1", {"PYTHONIOENCODING": "latin-1"}),
    ("ascii", {"PYTHONIOENCODING": "", "LC_ALL": "C", "LANG": "C", "PYTHONUTF8": "0"}),  # a container's C locale
])
def test_text_output_in_an_encoding_without_a_character_writes_it_as_an_escape(
        encoding: str, environment: dict[str, str]) -> None:
    """The text report of the Gold example cuts a hash with ``…``: in ASCII or Latin-1 it is written ``\\u2026``,
    and so is every character the encoding lacks; the rest is as in UTF-8 (but for the boxes, which rich draws
    with ASCII characters there)."""
    utf8 = _run("evaluate", GOLD, env={"PYTHONIOENCODING": "utf-8"})
    narrow = _run("evaluate", GOLD, env=environment)
    assert narrow.returncode == utf8.returncode == 0, narrow.stderr
    text, written = utf8.stdout.decode("utf-8"), narrow.stdout.decode(encoding)
    assert "…" in text
    assert "\\u2026" in written

    def words(report: str) -> str:  # letters, digits, spaces and punctuation: not the boxes' lines
        return re.sub(r"[^\w\s.,:()/@]", "", report)

    unboxed = re.sub("[\u2500-\u257f]", "", text)  # box drawing
    assert words(written) == words("".join(c if c.encode(encoding, "ignore") else _json_escape(c) for c in unboxed))


def _json_escape(char: str) -> str:
    """A character as JSON escapes it: ``\\u00fc``; beyond the BMP, its UTF-16 pair."""
    units = char.encode("utf-16-be")
    return "".join(f"\\u{int.from_bytes(units[i:i + 2], 'big'):04x}" for i in range(0, len(units), 2))


@pytest.mark.parametrize("args", [["explain", "{file}", "--format", "json"],
                                  ["explain", "{lines}", "--format", "json"]])
def test_json_output_in_ascii_is_the_same_json(tmp_path: Path, args: list[str]) -> None:
    """A name with Latin, Greek, CJK and an emoji, written as JSON to an ASCII output: the characters it lacks are
    JSON escapes (``\\u00fc``, a surrogate pair for the emoji), so the output is JSON, and the same JSON as in
    UTF-8. (Python's ``backslashreplace`` would write ``\\xfc``, which is not JSON; before, it was an internal
    error.)"""
    data = json.loads((EXAMPLES / "gold-2021.json").read_text(encoding="utf-8"))
    data["organisation"]["name"] = "Müller Ωmega 東京 \U0001F600"
    one, lines = tmp_path / "one.json", tmp_path / "lines.jsonl"
    one.write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")
    lines.write_text(json.dumps(data, ensure_ascii=False) + "\n", encoding="utf-8")
    named = [a.format(file=one, lines=lines) for a in args]
    utf8 = _run(*named, env={"PYTHONIOENCODING": "utf-8"})
    narrow = _run(*named, env={"PYTHONIOENCODING": "ascii"})
    assert narrow.returncode == utf8.returncode == 0, narrow.stderr
    assert narrow.stdout.isascii()
    decoded = [json.loads(line) for line in narrow.stdout.decode("ascii").splitlines()] if "{lines}" in args \
        else json.loads(narrow.stdout)
    expected = [json.loads(line) for line in utf8.stdout.decode("utf-8").splitlines()] if "{lines}" in args \
        else json.loads(utf8.stdout)
    assert decoded == expected
    assert "Müller Ωmega 東京 \U0001F600" in utf8.stdout.decode("utf-8")  # the explanation names the organisation
