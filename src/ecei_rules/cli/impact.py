"""The ``synth`` and ``impact`` commands.

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
from pathlib import Path
from typing import Annotated

import typer

from ecei_rules.batch import named_ruleset
from ecei_rules.cli.common import (
    EXIT_FINDINGS,
    ReportFormat,
    RulesetsOption,
    check_input,
    check_output,
    err_console,
    exit_on_load_errors,
    fail,
    open_output,
    progress,
    registry,
    stdin_as_file,
    write_failed,
)
from ecei_rules.core.canonical import to_json
from ecei_rules.core.terminal import SafeConsole, clean, markup, show_path
from ecei_rules.core.workers import worker_count

MethodologyOption = Annotated[str | None, typer.Option("--methodology", "-m", metavar="ID", help="The methodology of "
                                                "bare versions (3.0.0).")]


def synth(
    as_of: Annotated[str, typer.Option("--as-of", metavar="DATE", help="Assessments are dated in the months up to "
                                       "and including this date (YYYY-MM-DD).")],
    n: Annotated[int, typer.Option("--n", "-n", min=1, metavar="N", help="How many assessments.")] = 1000,
    seed: Annotated[int, typer.Option("--seed", "-s", metavar="N", help="The random seed (same seed, same "
                                      "population).")] = 0,
    months: Annotated[int, typer.Option("--months", min=1, metavar="N", help="How many months up to "
                                        "--as-of.")] = 12,
    version: Annotated[list[str] | None, typer.Option(
        "--version", "-v", metavar="VERSION", help="Give every assessment the union of these versions' inputs, so "
        "that each accepts it once projected (repeat: -v 1.2.0 -v 2.0.0). Default: the version in force on each "
        "date.")] = None,
    methodology: MethodologyOption = None,
    rulesets: RulesetsOption = None,
    out: Annotated[Path | None, typer.Option("--out", "-o", metavar="FILE", help="Write the JSON Lines here "
                                             "(default: stdout).")] = None,
    profile: Annotated[Path | None, typer.Option("--profile", metavar="FILE", help="A profile (YAML): templates, "
                                                 "choices and list lengths by JSON pointer that replace synth's "
                                                 "own draws (realistic names, codes, list lengths).")] = None,
    coverage: Annotated[bool, typer.Option("--coverage/--no-coverage", help="Print, on stderr, how many "
                                           "assessments met, did not meet and left unknown each tier, criterion, "
                                           "group and score (default: the labels only).")] = False,
    report: Annotated[Path | None, typer.Option("--report", metavar="FILE", help="Write that coverage as JSON to "
                                                "FILE.")] = None,
) -> None:
    """Write a synthetic population of assessments as JSON Lines, reproducible by seed.

    Every value is drawn from its declaration and aimed at the thresholds the version's conditions
    compare it with (both sides and exactly at each); stderr shows how often each label came out.
    The distributions are stated in the ecei_rules.testing.synth modules.
    """
    from ecei_rules.testing.synth import Coverage, load_profile, synthesize, window

    try:
        day = dt.date.fromisoformat(as_of)
    except ValueError:
        fail(f"--as-of {as_of!r} is not a date (YYYY-MM-DD)")
    hints = None
    if profile is not None:
        try:
            hints = load_profile(profile)
        except ValueError as error:
            fail(str(error))
    found = registry(rulesets)
    with exit_on_load_errors():
        chosen = [named_ruleset(v, found, methodology) for v in version] if version else None
        try:
            start, end = window(day, months)
        except ValueError as error:
            fail(f"--as-of {as_of} --months {months}: {error}")
        if chosen is None:
            found.in_force(methodology or found.default_methodology(), start)
    seen = Coverage()
    check_output(report, "the report")  # before the population is drawn, not after
    handle = open_output(out, "the assessments")
    try:
        for data in synthesize(n, seed=seed, as_of=day, window_months=months, registry=found,
                               methodology=methodology, versions=chosen, profile=hints, coverage=seen):
            handle.write(json.dumps(to_json(data), ensure_ascii=False, separators=(",", ":")) + "\n")
    except ValueError as error:
        fail(str(error))
    finally:
        if out is not None:
            handle.close()
        else:
            handle.flush()
    what = ("the union of the inputs of " + ", ".join(r.version for r in chosen)) if chosen \
        else "the inputs of the version in force on each date"
    err_console().print(f"{n:,} assessments (seed {seed}) dated {start.isoformat()} to {end.isoformat()}, with "
                        f"{what}" + (f", written to {markup(show_path(out))}" if out is not None else ""))
    for line in (seen.text() if coverage else seen.labels_text()).splitlines():
        err_console().print(markup(line), highlight=False, soft_wrap=True)
    if report is not None:
        try:
            report.write_text(json.dumps(seen.to_json(), indent=2) + "\n", encoding="utf-8")
        except OSError as error:
            write_failed(f"cannot write the report {show_path(report)}", error)


def _write_chart(svg: str, path: Path) -> None:
    """The chart written to ``path`` (.png through rsvg-convert, else SVG); exit 2 when it cannot be written."""
    if path.suffix.lower() == ".png":
        tool = shutil.which("rsvg-convert")
        if tool is None:
            fail("a PNG chart needs rsvg-convert (librsvg); write an .svg instead")
        done = subprocess.run([tool, "-f", "png", "-o", str(path)], input=svg.encode("utf-8"), check=False,
                              capture_output=True)
        if done.returncode != 0:
            fail(f"cannot write the chart {show_path(path)}: rsvg-convert says "
                 f"{done.stderr.decode('utf-8', 'replace').strip()[:200]}")
        return
    try:
        path.write_text(svg, encoding="utf-8")
    except OSError as error:
        write_failed(f"cannot write the chart {show_path(path)}", error)


def impact(
    population: Annotated[Path, typer.Argument(metavar="POPULATION", help="The population: assessments as JSON "
                                               "Lines (streamed; - reads standard input), or one .json / .yaml "
                                               "assessment.")],
    old: Annotated[str, typer.Option("--from", metavar="VERSION", help="The version in use: a reference "
                                     "(energy-label@1.2.0), a version (1.2.0) or a ruleset file.")],
    new: Annotated[str, typer.Option("--to", metavar="VERSION", help="The revised version, likewise "
                                     "(energy-label@2.0.0).")],
    format: Annotated[ReportFormat, typer.Option("--format", "-f", metavar="text|json|markdown", help="text "
                                                 "(rich tables), json or markdown.")] = ReportFormat.text,
    chart: Annotated[Path | None, typer.Option("--chart", metavar="FILE", help="Also write the transition chart: "
                                               ".svg (or .png with rsvg-convert installed).")] = None,
    out: Annotated[Path | None, typer.Option("--out", "-o", metavar="FILE", help="Write the report here "
                                             "(default: stdout).")] = None,
    jobs: Annotated[int | None, typer.Option("--jobs", "-j", min=1, metavar="N", help="Worker processes "
                                             "(default: every core).")] = None,
    limit: Annotated[int | None, typer.Option("--limit", min=0, metavar="N", help="Changed subjects listed "
                                              "(default: 20 in text, 50 in Markdown, all in JSON).")] = None,
    show_progress: Annotated[bool | None, typer.Option("--progress/--no-progress", help="A progress bar on stderr "
                                                       "(default: on a terminal).")] = None,
    methodology: MethodologyOption = None,
    rulesets: RulesetsOption = None,
    engine: Annotated[str, typer.Option("--engine", metavar="ENGINE", help="python (default), or sql: the "
                                        "same report, every assessment decided by one SQL query per version on "
                                        "DuckDB (the [sql] extra); POPULATION may then be a directory prepared for "
                                        "it (ecei_rules.backends.sql_impact.prepare_impact).")] = "python",
) -> None:
    """What moving a population from one version to another does: who gains or loses which label, and which
    changed criterion causes it. Exit 1 when some assessment could not be evaluated."""
    from ecei_rules.compare.impact import count_lines
    from ecei_rules.compare.impact import impact as impact_of
    from ecei_rules.render.impact import impact_markdown, impact_renderable, transition_chart

    check_output(out, "the report")  # before the study, not after it
    check_output(chart, "the chart")
    run = impact_of
    if engine != "python":  # a population prepared for the SQL engine is a directory
        from ecei_rules.cli.sql import impact_sql

        run, jobs = impact_sql(engine, population), 1
    else:
        check_input(population)
    found = registry(rulesets)
    with exit_on_load_errors():
        a, b = named_ruleset(old, found, methodology), named_ruleset(new, found, methodology)
    if jobs != 1:  # never more workers than the cores and the memory allow
        jobs, note = worker_count(jobs)
        if note:
            err_console().print(f"note: {note}", highlight=False)
    with stdin_as_file(population) as path:
        tick, done = progress(count_lines(path), "impact",
                              enabled=show_progress if show_progress is not None else sys.stderr.isatty())
        try:
            report = run(a, b, path, jobs=jobs, progress=tick)
        finally:
            done()
    if chart is not None:
        _write_chart(transition_chart(report), chart)
    handle = open_output(out, "the report")
    try:
        if format is ReportFormat.json:
            handle.write(json.dumps(report.to_json(limit=limit), indent=2, ensure_ascii=False) + "\n")
        elif format is ReportFormat.markdown:
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
        err_console().print(f"chart written to {markup(show_path(chart))}")
    raise typer.Exit(EXIT_FINDINGS if report.errors else 0)


#: The commands of this module, by name.
COMMANDS = (("synth", synth), ("impact", impact))
