"""``ecei-rules repair``: truncate a decision log to its last good record, saying what was removed."""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from ecei_rules.cli.common import (
    EXIT_FINDINGS,
    Format,
    FormatOption,
    LogOption,
    check_expected_head,
    check_stdout,
    console,
    fail,
    one_log,
)
from ecei_rules.core.terminal import markup, path_text, show_path

if TYPE_CHECKING:
    from ecei_rules.audit.log import StoredRecord


def repair_log(
    log: Annotated[Path | None, typer.Argument(metavar="LOG", show_default=False,
                                               help="A decision log (SQLite) or a JSONL export.")] = None,
    log_option: LogOption = None,
    dry_run: Annotated[bool, typer.Option("--dry-run", help="Say what would be removed; change nothing.")] = False,
    expect_head: Annotated[str | None, typer.Option(
        "--expect-head", metavar="HASH", help="The hash of the last acknowledged record, kept outside the log: exit 1 "
        "if the repaired log does not end there (a tail cut at a record boundary shows only this way).")] = None,
    expect_count: Annotated[int | None, typer.Option(
        "--expect-count", min=0, metavar="N", help="The number of acknowledged records, kept outside the log: exit 1 "
        "if the repaired log holds a different number.")] = None,
    format: FormatOption = Format.text,
) -> None:
    """Keep the longest prefix of records 1..k that verifies (hash, chain, order); remove everything after it.

    Everything from the first bad record on is removed, including intact records after it (they chain
    from a record that cannot be trusted). Exit 0 when nothing needed removing, 1 when something was
    removed (or would be, with --dry-run) or the log does not end at the expected head, 2 on usage errors.
    """
    check_stdout()
    from ecei_rules.audit.log import LogError, open_rows
    from ecei_rules.audit.repair import check_head, ranges, repair

    log = one_log(log, log_option)
    check_expected_head(expect_head)  # before anything is changed
    if not log.exists():
        fail(f"no such log: {show_path(log)}")
    try:
        plan = repair(log, dry_run=dry_run)
        short = check_head(open_rows(log) if not dry_run else _prefix(log, plan.kept),
                           head=expect_head, count=expect_count) if expect_head or expect_count is not None else []
    except LogError as exc:
        fail(exc)
    seqs, lines = plan.removed_seqs, plan.removed_lines
    if format is Format.json:
        print(json.dumps({"log": path_text(log), "dry_run": dry_run, "kept": plan.kept, "head": plan.head,
                          "removed": len(plan.removed), "removed_seqs": seqs, "removed_lines": lines,
                          "first_bad": plan.first_bad or None, "tail_problems": short}, indent=2))
    else:
        out = console()
        verb = "would remove" if dry_run else "removed"
        if plan.clean:
            out.print(f"[green]repair {markup(show_path(log))}: {plan.kept} record(s), all verify; nothing "
                          "removed[/green]", highlight=False)
        else:
            out.print(f"[red]repair {markup(show_path(log))}: the first bad record is at "
                          f"{plan.first_bad}[/red]", highlight=False)
            out.print(f"kept records 1-{plan.kept} ({plan.kept} record(s), head {plan.head})"
                          if plan.kept else "kept no records (the first record is bad)", highlight=False)
            out.print(f"{verb} {len(plan.removed)} row(s): everything from the first bad record on, "
                          "including any intact records after it", highlight=False)
            if seqs:
                out.print(f"  {verb} record(s) (seq): {ranges(seqs)}", highlight=False)
            if lines:
                out.print(f"  {verb} unreadable line(s) (line number): {ranges(lines)}", highlight=False)
        for problem in short:
            out.print(f"[red]tail:[/red] {markup(problem)}", highlight=False)
    raise typer.Exit(0 if plan.clean and not short else EXIT_FINDINGS)


def _prefix(log: Path, kept: int) -> list[StoredRecord]:
    from ecei_rules.audit.log import open_rows

    return list(open_rows(log))[:kept]


#: The commands of this module, by name.
COMMANDS = (("repair", repair_log),)
