"""Hostile text reaching a terminal (issue 20, item 5): escape sequences, bidi overrides and rich markup in
names, ids, keys, file names and rulesets are shown as visible escapes, never acted on.

Every command's text output is attacked with each hostile string; colour is off (NO_COLOR, not a terminal),
so no control character at all may reach stdout or stderr (but newlines this program writes). JSON output
is compared byte for byte with what the library writes.
"""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path
from typing import Any

import pytest
from cli_harness import EXAMPLES, cli, unsafe

from ecei_rules import load_ruleset
from ecei_rules.audit.log import DecisionLog
from ecei_rules.batch import decide
from ecei_rules.cli.app import run
from ecei_rules.compare.diff import semantic_diff
from ecei_rules.core.terminal import clean, show_path
from ecei_rules.registry import Registry
from ecei_rules.render.docs import changes_page

EVERY = Path(__file__).resolve().parent.parent / "data" / "every" / "1.0.0.yaml"

#: Each one alone would clear the screen, move the cursor, retitle the window, hide text, reverse it, or
#: (markup and emoji codes) be read by rich.
HOSTILE = [
    "\x1b[2J", "\x1b]0;pwned\x07", "\x1b]8;;http://x\x1b\\link\x1b]8;;\x1b\\", "\x1b[1A\x1b[2K", "\x1b[8m",
    "\r", "\x08\x08\x08", "\x9b2J", "\x9d0;t\x9c", "\x00", "\x7f", "\x0b\x0c", "\u202e", "\u2066", "\u061c",
    "\u200b", "\ufeff", "\u2028", "\u2029", "\U000e0041", "\n", "\t",
    "[bold]x[/bold]", "[/]", "[link=http://x]y[/link]", ":skull:",
]
IDS = [repr(h)[1:-1] or "empty" for h in HOSTILE]
MARKUP = {"[bold]x[/bold]", "[/]", "[link=http://x]y[/link]", ":skull:"}


def assert_safe(text: str, hostile: str) -> None:
    assert not unsafe(text), list(unsafe(text))[:5]
    if hostile in MARKUP:  # printed as written: rich did not read it
        assert hostile in text.replace("\n", "")
    assert "\U0001f480" not in text  # no skull emoji


def gold(name: str, org_id: str) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((EXAMPLES / "gold-2021.json").read_text(encoding="utf-8"))
    data["organisation"]["name"] = f"Evil {name} Cluster"
    data["organisation"]["id"] = f"NO{name}0131"
    return data


@pytest.fixture(scope="module")
def every_payload() -> str:
    """All hostile strings in one name (for the slower commands)."""
    return "".join(HOSTILE)


@pytest.mark.parametrize("hostile", HOSTILE, ids=IDS)
def test_evaluate_shows_hostile_names_as_escapes_and_json_is_unchanged(tmp_path: Path, hostile: str) -> None:
    path = tmp_path / "a.json"
    data = gold(hostile, hostile)
    path.write_text(json.dumps(data), encoding="utf-8")
    ran = cli(["evaluate", str(path)])
    assert ran.code == 0, ran.both
    assert_safe(ran.both, hostile)
    assert "GOLD" in ran.stdout
    if hostile not in MARKUP:
        assert clean(data["organisation"]["id"]) in ran.stdout  # shown, escaped, not dropped
    assert cli(["evaluate", str(path), "--format", "json"]).stdout == decide(data).canonical_text() + "\n"


@pytest.mark.parametrize("hostile", ["every", "[bold]x[/bold]", "[/]", ":skull:", "\n"])
def test_explain_text_and_markdown_show_hostile_names_as_escapes(tmp_path: Path, hostile: str,
                                                                 every_payload: str) -> None:
    hostile = every_payload if hostile == "every" else hostile
    path = tmp_path / "a.json"
    data = gold(hostile, hostile)
    path.write_text(json.dumps(data), encoding="utf-8")
    for args in (["explain", str(path)], ["explain", str(path), "--format", "markdown"]):
        ran = cli(args)
        assert ran.code == 0, ran.both
        assert_safe(ran.both, hostile)
        assert clean(data["organisation"]["id"]) in ran.stdout
    explained = cli(["explain", str(path), "--format", "json"])
    assert explained.code == 0
    assert json.loads(explained.stdout)["organisation"] == data["organisation"]["id"]


@pytest.mark.parametrize("hostile", HOSTILE, ids=IDS)
def test_assessment_errors_with_hostile_keys_and_values(tmp_path: Path, hostile: str) -> None:
    data = gold("x", "y")
    data[f"extra{hostile}"] = hostile
    data["organisation"]["country"] = hostile
    single = tmp_path / "a.json"
    single.write_text(json.dumps(data), encoding="utf-8")
    batch = tmp_path / "b.jsonl"
    batch.write_text(json.dumps(data) + "\n" + json.dumps({hostile: 1}) + "\n" + hostile + "\n", encoding="utf-8")
    commands = [["evaluate", str(batch)]]
    if hostile == HOSTILE[0]:  # the other commands once
        commands += [["evaluate", str(single)], ["explain", str(single)], ["explain", str(batch)]]
    for args in commands:
        ran = cli(args)
        assert ran.code == 1, ran.both
        assert "A002" in ran.both
        assert_safe(ran.both, hostile)


@pytest.mark.parametrize("hostile", ["\x1b[2J", "\r\u202e", "[bold]x", "\x9b2J\x07"], ids=["csi", "cr-bidi", "markup",
                                                                                          "c1"])
def test_file_names_are_shown_as_escapes(tmp_path: Path, hostile: str) -> None:
    folder = tmp_path / f"d{hostile}"
    folder.mkdir()
    bad = folder / f"r{hostile}.yaml"
    bad.write_text("methodology: [\n", encoding="utf-8")
    for args in (["validate", str(bad)], ["validate", str(folder)], ["evaluate", str(folder / "none.json")],
                 ["evaluate", str(folder)], ["explain", str(folder / "none.json")], ["verify", str(folder / "x.db")],
                 ["repair", str(folder / "x.db")], ["diff", str(bad), str(bad)],
                 ["impact", str(folder / "p.jsonl"), "--from", "1.0.0", "--to", "2.0.0"]):
        ran = cli(args)
        assert ran.code in (1, 2), (args, ran.both)
        assert_safe(ran.both, hostile)
        assert "Traceback" not in ran.both


def test_a_file_name_that_is_not_utf8(tmp_path: Path) -> None:
    """A file name's bytes that are not UTF-8 are shown as \\xff, in text and in JSON (never a lone surrogate)."""
    name = b"r\xff\x1b.yaml".decode("utf-8", "surrogateescape")
    path = tmp_path / name
    path.write_text("a: [\n", encoding="utf-8")
    shown = show_path(path)
    assert shown.endswith("r\\xff\\x1b.yaml")
    text = cli(["validate", str(tmp_path)])
    assert text.code == 1
    assert shown in text.stdout
    assert_safe(text.both, "")
    as_json = cli(["validate", str(tmp_path), "--format", "json"])
    assert as_json.code == 1
    report = json.loads(as_json.stdout)
    assert report["files"] == [str(tmp_path / "r\\xff\x1b.yaml")]
    assert report["diagnostics"][0]["file"] == report["files"][0]
    assert "\\udcff" not in as_json.stdout


def hostile_ruleset(tmp_path: Path, payload: str) -> Path:
    """tests/data/every with a criterion title, a clause and an approval body holding ``payload`` (as YAML
    double-quoted escapes: YAML itself allows no raw control characters)."""
    escaped = "".join(c if c.isprintable() and c not in '"\\' else
                      f"\\x{ord(c):02x}" if ord(c) < 0x100 else f"\\u{ord(c):04x}" if ord(c) < 0x10000 else
                      f"\\U{ord(c):08x}" for c in payload)
    text = EVERY.read_text(encoding="utf-8")
    out = []
    done = False
    for line in text.splitlines():
        stripped = line.lstrip()
        if not done and stripped == "title: Enough management":
            line = line[: len(line) - len(stripped)] + f'title: "Evil {escaped} criterion"'
            done = True
        out.append(line)
    assert done
    target = tmp_path / "every" / "1.0.0.yaml"
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text("\n".join(out) + "\n", encoding="utf-8")
    return target


def test_rulesets_with_hostile_titles_in_diff_and_test(tmp_path: Path, every_payload: str) -> None:
    new = hostile_ruleset(tmp_path, "[bold]x[/bold] " + every_payload)
    # the markup is printed as written: literally in the terminal's tables; in Markdown with its brackets
    # escaped, so a Markdown viewer shows "[bold]x[/bold]" too (and rich reads neither)
    for fmt, shown in (("text", "[bold]x[/bold]"), ("markdown", "\\[bold\\]x\\[/bold\\]")):
        ran = cli(["diff", str(EVERY), str(new), "--format", fmt])
        assert ran.code == 0, ran.both
        assert "Evil" in ran.stdout
        assert_safe(ran.both, "")
        assert shown in ran.stdout.replace("\n", "")
    page = changes_page(semantic_diff(load_ruleset(EVERY), load_ruleset(new)))  # the site's page of the same diff
    assert_safe(page, "")
    assert "\\[bold\\]x\\[/bold\\]" in page
    ran = cli(["diff", str(EVERY), str(new), "--format", "json"])
    changes = json.loads(ran.stdout)["changes"]  # JSON keeps the text as it is
    assert any(c.get("new") == f"Evil [bold]x[/bold] {every_payload} criterion" for c in changes)
    tested = cli(["test", str(new)])
    assert_safe(tested.both, "")


def test_diff_markdown_and_the_changes_page_escape_pipes_newlines_and_html(tmp_path: Path) -> None:
    """A criterion title with a pipe, a newline and HTML stays one cell of one table row, as text, in both
    renderings of the diff as Markdown: the CLI's ``--format markdown`` and the site's changes page."""
    new = hostile_ruleset(tmp_path, "a | b <script>alert(1)</script>\nsecond line")
    ran = cli(["diff", str(EVERY), str(new), "--format", "markdown"])
    assert ran.code == 0, ran.both
    assert_safe(ran.both, "")
    page = changes_page(semantic_diff(load_ruleset(EVERY), load_ruleset(new)))
    escaped = "Evil a \\| b &lt;script&gt;alert(1)&lt;/script&gt; second line criterion"
    for shown in (ran.stdout, page):
        assert "<script>" not in shown
        rows = [line for line in shown.splitlines() if "Evil" in line]
        assert len(rows) == 1  # the newline did not start a line of its own
        assert rows[0].startswith("| **changed** <code>")
        cells = re.split(r"(?<!\\)\|", rows[0])[1:-1]
        assert len(cells) == 4  # change, old, new, decides: the pipe did not make a fifth
        assert cells[2].strip() == escaped


def test_record_verify_replay_and_impact_with_a_hostile_organisation(tmp_path: Path, every_payload: str) -> None:
    data = gold(every_payload, every_payload)
    population = tmp_path / "pop.jsonl"
    population.write_text(json.dumps(data) + "\n" + json.dumps({**data, "assessed_on": "2021-06-01"}) + "\n",
                          encoding="utf-8")
    log = tmp_path / "log.db"
    for args in (["record", str(population), "--log", str(log), "--at", "2026-01-01T00:00:00+00:00"],
                 ["verify", str(log)], ["replay", str(log)], ["replay", str(log), "--under", "ecei-labels@2.0.0"],
                 ["export", str(log), str(tmp_path / "out.jsonl")],
                 ["impact", str(population), "--from", "2.0.0", "--to", "3.0.1"],
                 ["impact", str(population), "--from", "2.0.0", "--to", "3.0.1", "--format", "markdown"]):
        ran = cli(args)
        assert ran.code == 0, (args, ran.both)
        assert_safe(ran.both, "")


def test_findings_of_a_hostile_log_are_shown_as_escapes(tmp_path: Path, every_payload: str) -> None:
    """A log received from a platform is hostile too: junk lines and edited records in an export."""
    data = gold("x", "y")
    log = tmp_path / "log.db"
    with DecisionLog(log) as store:
        store.append(decide(data), data, decided_at="2026-01-01T00:00:00+00:00")
        rows = list(store.rows())
    record = json.loads(rows[0].text)
    record["hash"] = every_payload
    record["input"]["organisation"]["name"] = every_payload
    export = tmp_path / "hostile.jsonl"
    export.write_text(json.dumps(record) + "\n" + every_payload.replace("\n", "") + "\n", encoding="utf-8")
    for args in (["verify", str(export)], ["replay", str(export)], ["import", str(export), str(tmp_path / "n.db")],
                 ["repair", str(export), "--dry-run"]):
        ran = cli(args)
        assert ran.code == 1, (args, ran.both)
        assert_safe(ran.both, "")


@pytest.mark.parametrize("hostile", ["\x1b[2J", "\x9b2J", "[bold]x[/bold]", "\u202e"], ids=["csi", "c1", "markup",
                                                                                             "bidi"])
def test_usage_errors_and_internal_errors_are_cleaned(monkeypatch: pytest.MonkeyPatch, hostile: str) -> None:
    for args in ([hostile], ["evaluate", "--format", hostile, "x"], ["evaluate", "--version", hostile,
                                                                    str(EXAMPLES / "gold-2021.json")],
                 ["diff", f"ecei-labels@{hostile}", "ecei-labels@2.0.0"], ["record", "--log", "x.db", "--at", hostile,
                                                                         "a.json"]):
        ran = cli(args)
        assert ran.code == 2, (args, ran.both)
        assert_safe(ran.both, hostile)

    def boom(self: Registry, *args: object, **kwargs: object) -> None:
        raise RuntimeError(f"oops {hostile}")

    monkeypatch.setattr(Registry, "versions", boom)
    ran = cli(["versions"])
    assert ran.code == 2
    assert ran.stdout == ""
    assert ran.stderr.startswith("error: internal error (RuntimeError: oops ")
    assert "while running 'ecei-rules versions'; please report it with the input" in ran.stderr
    assert_safe(ran.both, "")


def test_the_json_of_every_shipped_example_is_unchanged() -> None:
    """No hostile text here: the sanitiser is the identity on ordinary output, byte for byte."""
    for path in sorted(EXAMPLES.glob("*.json")):
        data = json.loads(path.read_text(encoding="utf-8"))
        assert cli(["evaluate", str(path), "--format", "json"]).stdout == decide(data).canonical_text() + "\n"


def test_versions_table_and_a_copy_of_the_rulesets(tmp_path: Path) -> None:
    shutil.copytree(Registry.shipped().root, tmp_path / "r")
    ran = cli(["versions", "--rulesets", str(tmp_path / "r")])
    assert ran.code == 0
    assert_safe(ran.both, "")
    assert run(["versions", "--format", "json"]) == 0
