"""The ``synth`` and ``impact`` commands (registered on the main app when it is imported).

``ecei-rules synth --n 10000 --seed 7 --as-of 2020-06-30 --version 1.2.0 --version 2.0.0 --out pop.jsonl``
writes a synthetic population; ``ecei-rules impact --from ecei-labels@1.2.0 --to ecei-labels@2.0.0
pop.jsonl --chart impact.svg`` reports what the revision does to it, and why.
"""

from __future__ import annotations

import datetime as dt
import json
import shutil
import subprocess
import sys
from collections.abc import Callable
from enum import StrEnum
from pathlib import Path
from typing import Annotated, TextIO

import typer
from rich.console import Console

from ecei_rules.cli.app import app
from ecei_rules.core.canonical import to_json
from ecei_rules.core.terminal import SafeConsole, clean, markup, show_path
from ecei_rules.core.workers import worker_count
from ecei_rules.errors import ResolutionError, RulesetError
from ecei_rules.registry import DEFAULT_METHODOLOGY, Registry, parse_reference
from ecei_rules.render.console import print_diagnostics
from ecei_rules.ruleset.load import Ruleset, load_ruleset

RulesetsOption = Annotated[
    Path | None,
    typer.Option("--rulesets", help="A rulesets directory (default: the rulesets shipped with the package)."),
]


def _err() -> Console:
    return SafeConsole(stderr=True)


def _registry(rulesets: Path | None) -> Registry:
    return Registry(rulesets) if rulesets is not None else Registry.shipped()


def _fail(message: str) -> typer.Exit:
    _err().print(f"[red]error:[/red] {markup(message)}")
    return typer.Exit(2)


def _version(ref: str, registry: Registry, methodology: str) -> Ruleset:
    """A version named by ``2.0.0``, a reference (``ecei-labels@2.0.0``, ``ecei-labels@^2``) or a file."""
    path = Path(ref)
    if path.suffix in (".yaml", ".yml") or path.exists():
        return load_ruleset(path)
    if "@" not in ref and ref[:1].isdigit():
        ref = f"{methodology}@{ref}"
    parse_reference(ref)
    return registry.lookup(ref, allow_unpublished=True)


@app.command("synth")
def synth_command(
    as_of: Annotated[str, typer.Option("--as-of", help="Assessments are dated in the months up to and including "
                                       "this date (YYYY-MM-DD).")],
    n: Annotated[int, typer.Option("--n", "-n", min=1, help="How many assessments.")] = 1000,
    seed: Annotated[int, typer.Option("--seed", "-s", help="The random seed (same seed, same population).")] = 0,
    months: Annotated[int, typer.Option("--months", min=1, help="How many months up to --as-of.")] = 12,
    version: Annotated[list[str] | None, typer.Option(
        "--version", "-v", help="Give every assessment the union of these versions' inputs, so that each accepts "
        "it once projected (repeat: -v 1.2.0 -v 2.0.0). Default: the version in force on each date.")] = None,
    methodology: Annotated[str, typer.Option("--methodology", "-m", help="Methodology id.")] = DEFAULT_METHODOLOGY,
    rulesets: RulesetsOption = None,
    out: Annotated[Path | None, typer.Option("--out", "-o", help="Write the JSON Lines here (default: stdout).")]
    = None,
) -> None:
    """Write a synthetic population of realistic assessments as JSON Lines, reproducible by seed.

    The distributions are documented assumptions: see the ecei_rules.testing.synth module.
    """
    from ecei_rules.testing.synth import synthesize, window

    try:
        day = dt.date.fromisoformat(as_of)
    except ValueError:
        raise _fail(f"--as-of {as_of!r} is not a date (YYYY-MM-DD)") from None
    registry = _registry(rulesets)
    try:
        chosen = [_version(v, registry, methodology) for v in version] if version else None
        start, end = window(day, months)
        if chosen is None:
            registry.in_force(methodology, start)
    except ResolutionError as exc:
        raise _fail(str(exc)) from None
    except RulesetError as exc:
        print_diagnostics(exc.diagnostics, _err())
        raise typer.Exit(2) from None
    handle: TextIO = out.open("w", encoding="utf-8", newline="\n") if out is not None else sys.stdout
    try:
        for data in synthesize(n, seed=seed, as_of=day, window_months=months, registry=registry,
                               methodology=methodology, versions=chosen):
            handle.write(json.dumps(to_json(data), ensure_ascii=False, separators=(",", ":")) + "\n")
    finally:
        if out is not None:
            handle.close()
        else:
            handle.flush()
    what = ("the union of the inputs of " + ", ".join(r.version for r in chosen)) if chosen \
        else "the inputs of the version in force on each date"
    _err().print(f"{n:,} assessments (seed {seed}) dated {start.isoformat()} to {end.isoformat()}, with {what}"
                 + (f", written to {markup(show_path(out))}" if out is not None else ""))


class ImpactFormat(StrEnum):
    """Output formats of impact."""

    text = "text"
    json = "json"
    markdown = "markdown"


def _progress_bar(total: int | None, enabled: bool | None) -> tuple[Callable[[int], None] | None, Callable[[], None]]:
    """A progress bar on stderr (on a terminal unless forced with --progress)."""
    show = enabled if enabled is not None else sys.stderr.isatty()
    if not show:
        return None, lambda: None
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    bar = Progress(TextColumn("impact"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(), console=_err(),
                   transient=True)
    task = bar.add_task("impact", total=total)
    bar.start()
    return (lambda done: bar.update(task, completed=done)), bar.stop


def _write_chart(svg: str, path: Path) -> None:
    if path.suffix.lower() == ".png":
        tool = shutil.which("rsvg-convert")
        if tool is None:
            raise _fail("a PNG chart needs rsvg-convert (librsvg); write an .svg instead")
        subprocess.run([tool, "-f", "png", "-o", str(path)], input=svg.encode("utf-8"), check=True)
        return
    path.write_text(svg, encoding="utf-8")


@app.command("impact")
def impact_command(
    population: Annotated[Path, typer.Argument(help="The population: assessments as JSON Lines (streamed), or one "
                                               ".json / .yaml assessment.")],
    old: Annotated[str, typer.Option("--from", help="The version in use: a reference (ecei-labels@1.2.0), a "
                                     "version (1.2.0) or a ruleset file.")],
    new: Annotated[str, typer.Option("--to", help="The revised version, likewise (ecei-labels@2.0.0).")],
    format: Annotated[ImpactFormat, typer.Option("--format", "-f", help="text (rich tables), json or markdown.")]
    = ImpactFormat.text,
    chart: Annotated[Path | None, typer.Option("--chart", help="Also write the transition chart: .svg (or .png "
                                               "with rsvg-convert installed).")] = None,
    out: Annotated[Path | None, typer.Option("--out", "-o", help="Write the report here (default: stdout).")]
    = None,
    jobs: Annotated[int | None, typer.Option("--jobs", "-j", min=1, help="Worker processes (default: every "
                                             "core).")] = None,
    limit: Annotated[int | None, typer.Option("--limit", min=0, help="Changed organisations listed (default: 20 "
                                              "in text, 50 in Markdown, all in JSON).")] = None,
    progress: Annotated[bool | None, typer.Option("--progress/--no-progress", help="A progress bar on stderr "
                                                  "(default: on a terminal).")] = None,
    methodology: Annotated[str, typer.Option("--methodology", "-m", help="Methodology id for bare versions.")]
    = DEFAULT_METHODOLOGY,
    rulesets: RulesetsOption = None,
) -> None:
    """What moving a population from one version to another does: who gains or loses which label, and which
    changed criterion causes it. Exit 1 when some assessment could not be evaluated."""
    from ecei_rules.compare.impact import count_lines, impact
    from ecei_rules.render.impact import impact_markdown, impact_renderable, transition_chart

    if not population.exists():
        raise _fail(f"no such file: {show_path(population)}")
    registry = _registry(rulesets)
    try:
        a, b = _version(old, registry, methodology), _version(new, registry, methodology)
    except ResolutionError as exc:
        raise _fail(str(exc)) from None
    except RulesetError as exc:
        print_diagnostics(exc.diagnostics, _err())
        raise typer.Exit(2) from None
    if jobs != 1:  # never more workers than the cores and the memory allow
        jobs, note = worker_count(jobs)
        if note:
            _err().print(f"note: {note}", highlight=False)
    tick, done = _progress_bar(count_lines(population), progress)
    try:
        report = impact(a, b, population, jobs=jobs, progress=tick)
    finally:
        done()
    if chart is not None:
        _write_chart(transition_chart(report), chart)
    handle: TextIO = out.open("w", encoding="utf-8", newline="\n") if out is not None else sys.stdout
    try:
        if format is ImpactFormat.json:
            handle.write(json.dumps(report.to_json(limit=limit), indent=2, ensure_ascii=False) + "\n")
        elif format is ImpactFormat.markdown:
            markdown = impact_markdown(report, limit=50 if limit is None else limit)
            handle.write(clean(markdown, newlines=True) if out is None else markdown)
        else:
            console = SafeConsole(file=handle, soft_wrap=False,
                              width=160 if out is not None or not handle.isatty() else None)
            console.print(impact_renderable(report, limit=20 if limit is None else limit))
    finally:
        if out is not None:
            handle.close()
    if chart is not None:
        _err().print(f"chart written to {markup(show_path(chart))}")
    raise typer.Exit(1 if report.errors else 0)
