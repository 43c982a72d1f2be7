"""Files a user names (issue 20, item 3): opened once, checked to be regular files, read with
a byte limit. Devices (``/dev/zero``, ``/dev/urandom``, a link to them), FIFOs, directories,
sockets and huge sparse files given as a ruleset, a lock file or an assessment are refused
with a located diagnostic naming what the file is, quickly and without reading them; a
``.jsonl`` batch may be a named pipe (it is streamed, 8 MiB per line at most).
"""

from __future__ import annotations

import gc
import json
import os
import shutil
import socket
import tempfile
import threading
import tracemalloc
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from ecei_rules.batch import read_assessments
from ecei_rules.cli.app import app
from ecei_rules.core.files import FileReadError, open_stream, read_limited
from ecei_rules.registry import Registry
from ecei_rules.ruleset.load import check_ruleset
from ecei_rules.ruleset.safe_yaml import MAX_BYTES

ROOT = Path(__file__).resolve().parent.parent.parent
MINIMAL = ROOT / "tests" / "data" / "minimal.yaml"
GOLD = ROOT / "examples" / "gold-2021.json"
MiB = 1024 * 1024

needs_devices = pytest.mark.skipif(not (os.path.exists("/dev/zero") and os.path.exists("/dev/urandom")),
                                   reason="no /dev/zero or /dev/urandom here")
needs_fifo = pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="no named pipes here")


def peak_of(work: Callable[[], Any]) -> tuple[Any, int]:
    """(what ``work`` returns, the peak bytes it allocated, by tracemalloc)."""
    gc.collect()
    tracemalloc.start()
    try:
        base = tracemalloc.get_traced_memory()[0]
        tracemalloc.reset_peak()
        result = work()
        peak = tracemalloc.get_traced_memory()[1] - base
    finally:
        tracemalloc.stop()
    return result, peak


def finishes(work: Callable[[], Any], seconds: float = 10.0) -> Any:
    """Run ``work`` in a thread; fail (instead of hanging) if it blocks."""
    box: dict[str, Any] = {}

    def run() -> None:
        try:
            box["result"] = work()
        except BaseException as exc:  # handed to the test
            box["error"] = exc

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    thread.join(seconds)
    assert not thread.is_alive(), "blocked"
    if "error" in box:
        raise box["error"]
    return box.get("result")


@pytest.fixture
def fifo(tmp_path: Path) -> Callable[[str], Path]:
    def make(name: str) -> Path:
        path = tmp_path / name
        os.mkfifo(path)
        return path

    return make


@pytest.fixture
def short_dir() -> Iterator[Path]:
    """A directory with a short path (a Unix socket's path is limited to about 100 bytes)."""
    path = Path(tempfile.mkdtemp(prefix="ecei-"))
    yield path
    shutil.rmtree(path, ignore_errors=True)


def hostile_files(tmp_path: Path, fifo: Callable[[str], Path], suffix: str) -> dict[str, tuple[Path, str]]:
    """name -> (path with ``suffix``, the words its refusal must hold)."""
    out: dict[str, tuple[Path, str]] = {}
    if os.path.exists("/dev/zero"):
        out["/dev/zero"] = (Path("/dev/zero"), "character device")
        link = tmp_path / f"zero{suffix}"
        link.symlink_to("/dev/zero")
        out["link to /dev/zero"] = (link, "character device")
        urandom = tmp_path / f"urandom{suffix}"
        urandom.symlink_to("/dev/urandom")
        out["link to /dev/urandom"] = (urandom, "character device")
    directory = tmp_path / f"folder{suffix}"
    directory.mkdir()
    out["directory"] = (directory, "a directory")
    if hasattr(os, "mkfifo"):
        out["FIFO"] = (fifo(f"pipe{suffix}"), "named pipe (FIFO)")
    missing = tmp_path / f"missing{suffix}"
    out["missing"] = (missing, "No such file")
    dangling = tmp_path / f"dangling{suffix}"
    dangling.symlink_to(tmp_path / "nowhere")
    out["dangling link"] = (dangling, "No such file")
    return out


# -- the helper ----------------------------------------------------------------------------------


def test_a_regular_file_is_read(tmp_path: Path) -> None:
    path = tmp_path / "ok.txt"
    path.write_bytes(b"x" * 100)
    assert read_limited(path, 100, "file") == b"x" * 100


def test_too_large_by_size_is_refused_before_reading(tmp_path: Path) -> None:
    path = tmp_path / "big.txt"
    path.write_bytes(b"x" * 101)
    with pytest.raises(FileReadError) as info:
        read_limited(path, 100, "file")
    assert info.value.too_large
    assert "larger than 100 bytes (101 bytes)" in info.value.message


def test_a_huge_sparse_file_costs_nothing(tmp_path: Path) -> None:
    """A 50 GiB sparse file: refused by its size, nothing of it read."""
    path = tmp_path / "sparse.yaml"
    with path.open("wb") as handle:
        handle.truncate(50 * 1024 * MiB)
    result, peak = peak_of(lambda: check_ruleset(path))
    assert [d.code for d in result] == ["E005"]
    assert peak < 1 * MiB


def test_a_file_whose_size_says_zero_is_still_read_with_the_limit() -> None:
    """/proc files are regular with a size of 0: the read itself stops at the limit."""
    if not os.path.exists("/proc/self/maps"):
        pytest.skip("no /proc here")
    assert os.stat("/proc/self/maps").st_size == 0
    with pytest.raises(FileReadError) as info:
        read_limited("/proc/self/maps", 16, "file")
    assert info.value.too_large


@pytest.mark.parametrize("suffix", [".yaml"])
def test_what_is_not_a_regular_file_is_named(tmp_path: Path, fifo: Callable[[str], Path], suffix: str) -> None:
    for name, (path, words) in hostile_files(tmp_path, fifo, suffix).items():
        with pytest.raises(FileReadError) as info:
            finishes(lambda p=path: read_limited(p, MAX_BYTES, "ruleset"))
        assert words in info.value.message, name
        assert not info.value.too_large, name


def test_a_socket_is_named(short_dir: Path) -> None:
    path = short_dir / "s.yaml"
    server = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        server.bind(str(path))
        with pytest.raises(FileReadError, match=r"a socket|No such device"):
            read_limited(path, 100, "ruleset")
    finally:
        server.close()


@needs_fifo
def test_a_fifo_opens_for_streaming_without_waiting(fifo: Callable[[str], Path]) -> None:
    path = fifo("batch.jsonl")
    handle = finishes(lambda: open_stream(path, "batch"))
    handle.close()


# -- rulesets ------------------------------------------------------------------------------------


def test_rulesets_that_are_not_regular_files(tmp_path: Path, fifo: Callable[[str], Path]) -> None:
    """E001 naming what the file is, in little memory and without blocking."""
    for name, (path, words) in hostile_files(tmp_path, fifo, ".yaml").items():
        diags, peak = peak_of(lambda p=path: finishes(lambda: check_ruleset(p)))
        assert [d.code for d in diags] == ["E001"], name
        assert words in diags[0].message, name
        assert diags[0].file == str(path), name
        assert peak < 2 * MiB, (name, peak)


@needs_devices
def test_cli_validate_and_evaluate_refuse_a_device_ruleset(tmp_path: Path) -> None:
    link = tmp_path / "r.yaml"
    link.symlink_to("/dev/zero")
    result = CliRunner().invoke(app, ["validate", str(link)])
    assert result.exit_code == 1
    assert "E001" in result.output
    assert "character device" in result.output
    result = CliRunner().invoke(app, ["evaluate", str(GOLD), "--ruleset", str(link)])
    assert result.exit_code == 2
    assert "character device" in result.stderr
    assert "Traceback" not in result.output


@needs_devices
def test_a_version_file_linked_to_a_device_in_a_registry(tmp_path: Path) -> None:
    """A rulesets folder whose 9.0.0.yaml links to /dev/urandom: lint reports E001, never reads it."""
    folder = tmp_path / "minimal"
    folder.mkdir()
    shutil.copy(MINIMAL, folder / "1.0.0.yaml")
    (folder / "9.0.0.yaml").symlink_to("/dev/urandom")
    result = finishes(lambda: CliRunner().invoke(app, ["lint", "--rulesets", str(tmp_path)]), 60)
    assert result.exit_code == 1
    assert "E001" in result.output
    assert "Traceback" not in result.output


@needs_devices
def test_a_lock_file_linked_to_a_device(tmp_path: Path) -> None:
    folder = tmp_path / "minimal"
    folder.mkdir()
    shutil.copy(MINIMAL, folder / "1.0.0.yaml")
    (folder / "published.lock.json").symlink_to("/dev/zero")
    registry = Registry(tmp_path)
    diags, peak = peak_of(lambda: registry.check_locks("minimal"))
    assert [d.code for d in diags] == ["L012"]
    assert "character device" in diags[0].message
    assert peak < 2 * MiB
    result = CliRunner().invoke(app, ["lock", "--rulesets", str(tmp_path)])
    assert result.exit_code == 1
    assert "L012" in result.stderr
    assert "Traceback" not in result.output


def test_a_lock_file_that_is_not_json(tmp_path: Path) -> None:
    folder = tmp_path / "minimal"
    folder.mkdir()
    shutil.copy(MINIMAL, folder / "1.0.0.yaml")
    (folder / "published.lock.json").write_text("{not json", encoding="utf-8")
    diags = Registry(tmp_path).check_locks("minimal")
    assert [d.code for d in diags] == ["L012"]
    assert "not readable JSON" in diags[0].message


# -- assessments ---------------------------------------------------------------------------------


@pytest.mark.parametrize("suffix", [".json", ".yaml", ".jsonl"])
def test_assessments_that_are_not_regular_files(tmp_path: Path, fifo: Callable[[str], Path], suffix: str) -> None:
    """One A006 item naming what the file is (a FIFO is allowed for a .jsonl batch: streamed)."""
    for name, (path, words) in hostile_files(tmp_path, fifo, suffix).items():
        if name == "FIFO" and suffix == ".jsonl":
            continue
        if name == "/dev/zero":
            continue  # its suffix decides how it is read: the links cover it
        items, peak = peak_of(lambda p=path: finishes(lambda: list(read_assessments(p))))
        assert len(items) == 1, name
        assert items[0].error is not None, name
        (d,) = items[0].error.diagnostics
        assert d.code == "A006", name
        assert words in d.message, name
        assert peak < 2 * MiB, (name, peak)


@pytest.mark.parametrize("suffix", [".json", ".yaml"])
def test_a_huge_sparse_assessment_is_refused_by_its_size(tmp_path: Path, suffix: str) -> None:
    path = tmp_path / f"sparse{suffix}"
    with path.open("wb") as handle:
        handle.truncate(50 * 1024 * MiB)
    items, peak = peak_of(lambda: list(read_assessments(path)))
    (d,) = items[0].error.diagnostics
    assert d.code == "A006"
    assert "larger than 8 MiB" in d.message
    assert peak < 1 * MiB


def test_a_huge_sparse_batch_is_read_a_line_at_a_time(tmp_path: Path) -> None:
    """A sparse .jsonl of 64 MiB of NUL bytes: lines over 8 MiB, each refused, memory bounded."""
    path = tmp_path / "sparse.jsonl"
    with path.open("wb") as handle:
        handle.truncate(64 * MiB)
    items, peak = peak_of(lambda: list(read_assessments(path, raw=True)))
    assert {d.code for item in items for d in item.error.diagnostics} == {"A006"}
    assert peak < 40 * MiB


@needs_fifo
def test_a_batch_may_be_a_named_pipe(fifo: Callable[[str], Path]) -> None:
    """A .jsonl FIFO is streamed: every line decided as it comes."""
    path = fifo("stream.jsonl")
    line = json.dumps(json.loads(GOLD.read_text(encoding="utf-8")))

    def writer() -> None:
        with open(path, "w", encoding="utf-8") as handle:
            for _ in range(3):
                handle.write(line + "\n")

    thread = threading.Thread(target=writer, daemon=True)
    thread.start()
    result = finishes(lambda: CliRunner().invoke(app, ["evaluate", str(path), "--format", "json"]), 60)
    thread.join(5)
    assert result.exit_code == 0, result.output
    assert len(result.stdout.splitlines()) == 3


@needs_devices
@pytest.mark.parametrize("suffix", [".json", ".yaml", ".jsonl"])
def test_cli_evaluate_of_a_device_assessment(tmp_path: Path, suffix: str) -> None:
    link = tmp_path / f"a{suffix}"
    link.symlink_to("/dev/urandom")
    result = finishes(lambda: CliRunner().invoke(app, ["evaluate", str(link), "--version", "3.0.1",
                                                       "--format", "json"]), 60)
    assert result.exit_code == 1
    (line,) = result.stdout.splitlines()
    error = json.loads(line)["error"]
    assert error["code"] == "A006"
    assert "character device" in error["message"]
