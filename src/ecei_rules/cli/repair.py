"""``ecei-rules repair``: truncate a decision log to its last good record, saying what was removed."""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from ecei_rules.cli.app import Format, _console, _err, app
from ecei_rules.core.terminal import markup, path_text, show_path

if TYPE_CHECKING:
    from ecei_rules.audit.log import StoredRecord


@app.command("repair")
def repair_command(
    log: Annotated[Path, typer.Argument(help="A decision log (SQLite) or a JSONL export.")],
    dry_run: Annotated[bool, typer.Option("--dry-run", help="Say what would be removed; change nothing.")] = False,
    expect_head: Annotated[str | None, typer.Option(
        "--expect-head", help="The hash of the last acknowledged record, kept outside the log: exit 1 if the "
        "repaired log does not end there (a tail cut at a record boundary shows only this way).")] = None,
    expect_count: Annotated[int | None, typer.Option(
        "--expect-count", help="The number of acknowledged records, kept outside the log: exit 1 if the "
        "repaired log holds a different number.")] = None,
    format: Annotated[Format, typer.Option("--format", "-f", help="text for people, json for machines.")]
    = Format.text,
) -> None:
    """Keep the longest prefix of records 1..k that verifies (hash, chain, order); remove everything after it.

    Everything from the first bad record on is removed, including intact records after it (they chain
    from a record that cannot be trusted). Exit 0 when nothing needed removing, 1 when something was
    removed (or would be, with --dry-run) or the log does not end at the expected head, 2 on usage errors.
    """
    from ecei_rules.audit.log import LogError, open_rows
    from ecei_rules.audit.repair import check_head, ranges, repair

    if not log.exists():
        _err().print(f"[red]error:[/red] no such log: {markup(show_path(log))}")
        raise typer.Exit(2)
    try:
        plan = repair(log, dry_run=dry_run)
        short = check_head(open_rows(log) if not dry_run else _prefix(log, plan.kept),
                           head=expect_head, count=expect_count) if expect_head or expect_count is not None else []
    except LogError as exc:
        _err().print(f"[red]error:[/red] {markup(exc)}")
        raise typer.Exit(2) from None
    seqs, lines = plan.removed_seqs, plan.removed_lines
    if format is Format.json:
        print(json.dumps({"log": path_text(log), "dry_run": dry_run, "kept": plan.kept, "head": plan.head,
                          "removed": len(plan.removed), "removed_seqs": seqs, "removed_lines": lines,
                          "first_bad": plan.first_bad or None, "tail_problems": short}, indent=2))
    else:
        console = _console()
        verb = "would remove" if dry_run else "removed"
        if plan.clean:
            console.print(f"[green]repair {markup(show_path(log))}: {plan.kept} record(s), all verify; nothing "
                          "removed[/green]", highlight=False)
        else:
            console.print(f"[red]repair {markup(show_path(log))}: the first bad record is at "
                          f"{plan.first_bad}[/red]", highlight=False)
            console.print(f"kept records 1-{plan.kept} ({plan.kept} record(s), head {plan.head})"
                          if plan.kept else "kept no records (the first record is bad)", highlight=False)
            console.print(f"{verb} {len(plan.removed)} row(s): everything from the first bad record on, "
                          "including any intact records after it", highlight=False)
            if seqs:
                console.print(f"  {verb} record(s) (seq): {ranges(seqs)}", highlight=False)
            if lines:
                console.print(f"  {verb} unreadable line(s) (line number): {ranges(lines)}", highlight=False)
        for problem in short:
            console.print(f"[red]tail:[/red] {markup(problem)}", highlight=False)
    raise typer.Exit(0 if plan.clean and not short else 1)


def _prefix(log: Path, kept: int) -> list[StoredRecord]:
    from ecei_rules.audit.log import open_rows

    return list(open_rows(log))[:kept]
