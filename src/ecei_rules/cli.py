"""The command line: a thin typer face over the library. No logic lives only here.

Exit codes: 0 success; 1 findings (invalid rulesets, invalid assessments, failed tests);
2 usage errors (unknown version, unreadable file).
"""

from __future__ import annotations

import json
import sys
from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from . import __version__
from .batch import decide_many, error_json, fixed_resolver, read_assessments, registry_resolver
from .errors import AssessmentError, Diagnostic, ResolutionError, RulesetError
from .registry import DEFAULT_METHODOLOGY, Registry
from .render import print_assessment_error, print_decision, print_diagnostics
from .ruleset.inputs import json_schema
from .ruleset.load import Ruleset, check_ruleset, load_ruleset
from .ruleset.model import ruleset_json_schema
from .testing.embedded import run_embedded

app = typer.Typer(
    name="ecei-rules",
    help="Decide, explain and check labels with versioned, declarative rulesets.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)


class Format(StrEnum):
    """Output formats."""

    text = "text"
    json = "json"


FormatOption = Annotated[Format, typer.Option("--format", "-f", help="text for people, json for machines.")]
RulesetsOption = Annotated[
    Path | None,
    typer.Option("--rulesets", help="A rulesets directory (default: the rulesets shipped with the package)."),
]


def _console() -> Console:
    return Console(soft_wrap=False, highlight=False)


def _err() -> Console:
    return Console(stderr=True, highlight=False)


def _registry(rulesets: Path | None) -> Registry:
    return Registry(rulesets) if rulesets is not None else Registry.shipped()


def _yaml_files(paths: list[Path]) -> list[Path]:
    files: list[Path] = []
    for p in paths:
        if p.is_dir():
            files.extend(sorted(q for q in p.rglob("*.y*ml") if q.suffix in (".yaml", ".yml")))
        else:
            files.append(p)
    return files


@app.command()
def validate(
    paths: Annotated[list[Path], typer.Argument(help="Ruleset files or directories of rulesets.")],
    format: FormatOption = Format.text,
) -> None:
    """Check rulesets; print every problem with file:line:column. Exit 1 on any error."""
    files = _yaml_files(paths)
    all_diags: list[Diagnostic] = []
    for f in files:
        all_diags.extend(check_ruleset(f))
    errors = [d for d in all_diags if d.severity == "error"]
    if format is Format.json:
        print(json.dumps({"files": [str(f) for f in files], "diagnostics": [d.to_dict() for d in all_diags],
                          "errors": len(errors)}, indent=2))
    else:
        console = _console()
        print_diagnostics(all_diags, console)
        bad = len({d.file for d in errors})
        if errors:
            console.print(f"[red]{len(errors)} error(s) in {bad} of {len(files)} file(s)[/red]")
        else:
            console.print(f"[green]{len(files)} file(s) valid[/green]")
    raise typer.Exit(1 if errors or not files else 0)


@app.command()
def evaluate(
    assessment: Annotated[Path, typer.Argument(help="An assessment (.json, .yaml) or a batch (.jsonl).")],
    ruleset: Annotated[Path | None, typer.Option("--ruleset", "-r", help="Evaluate with this ruleset file.")] = None,
    methodology: Annotated[str, typer.Option("--methodology", "-m", help="Methodology id.")] = DEFAULT_METHODOLOGY,
    version: Annotated[str | None, typer.Option("--version", "-v", help="Pin a version (default: the one "
                                                "in force on each assessment's assessed_on).")] = None,
    rulesets: RulesetsOption = None,
    format: FormatOption = Format.text,
) -> None:
    """Decide the label of each assessment and explain it (JSON Lines with --format json)."""
    if not assessment.exists():
        _err().print(f"[red]error:[/red] no such file: {assessment}")
        raise typer.Exit(2)
    if ruleset is not None:
        try:
            fixed = load_ruleset(ruleset)
        except RulesetError as exc:
            print_diagnostics(exc.diagnostics, _err())
            raise typer.Exit(2) from None
        resolve = fixed_resolver(fixed)
    else:
        registry = _registry(rulesets)
        try:
            if version is not None:
                registry.get(methodology, version)
            else:
                registry.versions(methodology)
        except ResolutionError as exc:
            _err().print(f"[red]error:[/red] {exc}")
            raise typer.Exit(2) from None
        except RulesetError as exc:
            print_diagnostics(exc.diagnostics, _err())
            raise typer.Exit(2) from None
        resolve = registry_resolver(registry, methodology, version)
    console = _console()
    failures = 0
    outcomes = decide_many(read_assessments(assessment), resolve)
    batch = assessment.suffix == ".jsonl"
    for outcome in outcomes:
        if outcome.error is not None:
            failures += 1
        if format is Format.json:
            sys.stdout.write(json.dumps(outcome.to_json(), ensure_ascii=False, separators=(",", ":")) + "\n")
            continue
        prefix = f"line {outcome.index}: " if batch else ""
        if outcome.decision is not None:
            if batch:
                console.rule(f"line {outcome.index}")
            print_decision(outcome.decision, console)
        elif isinstance(outcome.error, AssessmentError):
            print_assessment_error(outcome.error.diagnostics, console, prefix)
        else:
            console.print(prefix + str(error_json(outcome.error)["message"]))
    sys.stdout.flush()
    raise typer.Exit(1 if failures else 0)


@app.command()
def versions(
    methodology: Annotated[str, typer.Option("--methodology", "-m")] = DEFAULT_METHODOLOGY,
    rulesets: RulesetsOption = None,
    format: FormatOption = Format.text,
) -> None:
    """List the versions of a methodology with their effective dates and content hashes."""
    registry = _registry(rulesets)
    try:
        rows = [registry.get(methodology, v) for v in registry.versions(methodology)]
    except ResolutionError as exc:
        _err().print(f"[red]error:[/red] {exc}")
        raise typer.Exit(2) from None
    except RulesetError as exc:
        print_diagnostics(exc.diagnostics, _err())
        raise typer.Exit(1) from None
    if format is Format.json:
        print(json.dumps([{
            "methodology": r.methodology, "version": r.version, "status": r.document.status,
            "effective_from": r.document.effective_from.isoformat(),
            "approval": r.document.approval.body if r.document.approval else None, "sha256": r.sha256,
        } for r in rows], indent=2))
        return
    table = Table(title=f"{methodology}")
    for col in ("version", "effective from", "status", "approved by", "labels", "sha256"):
        table.add_column(col)
    for r in rows:
        d = r.document
        table.add_row(d.version, d.effective_from.isoformat(), d.status, d.approval.body if d.approval else "",
                      ", ".join(d.labels), r.sha256[:16])
    _console().print(table)


@app.command("test")
def run_tests(
    paths: Annotated[list[Path] | None, typer.Argument(help="Ruleset files or directories (default: shipped).")]
    = None,
) -> None:
    """Run the tests embedded in rulesets; exit 1 if any fails."""
    files = _yaml_files(paths or [Registry.shipped().root])
    console = _console()
    passed = failed = 0
    for f in files:
        try:
            loaded = load_ruleset(f)
        except RulesetError as exc:
            print_diagnostics(exc.diagnostics, console)
            failed += 1
            continue
        for result in run_embedded(loaded):
            if result.passed:
                passed += 1
            else:
                failed += 1
                console.print(result.report())
    console.print(f"embedded tests: {passed} passed, {failed} failed in {len(files)} ruleset(s)")
    raise typer.Exit(1 if failed else 0)


class DiffFormat(StrEnum):
    """Output formats of diff."""

    text = "text"
    json = "json"
    markdown = "markdown"


def _ruleset_arg(ref: str, registry: Registry) -> Ruleset:
    """A ruleset named by a file path or a registry reference (methodology@version or @range)."""
    path = Path(ref)
    if path.suffix in (".yaml", ".yml") or path.exists():
        return load_ruleset(path)
    return registry.lookup(ref, allow_unpublished=True)


def _two(old: str, new: str, rulesets: Path | None) -> tuple[Ruleset, Ruleset]:
    registry = _registry(rulesets)
    try:
        return _ruleset_arg(old, registry), _ruleset_arg(new, registry)
    except ResolutionError as exc:
        _err().print(f"[red]error:[/red] {exc}")
        raise typer.Exit(2) from None
    except RulesetError as exc:
        print_diagnostics(exc.diagnostics, _err())
        raise typer.Exit(2) from None


@app.command()
def diff(
    old: Annotated[str, typer.Argument(help="A ruleset file or reference, e.g. ecei-labels@2.0.0.")],
    new: Annotated[str, typer.Argument(help="A ruleset file or reference, e.g. ecei-labels@3.0.0.")],
    rulesets: RulesetsOption = None,
    format: Annotated[DiffFormat, typer.Option("--format", "-f")] = DiffFormat.text,
) -> None:
    """The semantic diff of two versions: inputs, parameters, criteria, scores, tiers, validity, metadata."""

    from .compare.diff import semantic_diff
    from .render import diff_markdown, print_diff

    a, b = _two(old, new, rulesets)
    result = semantic_diff(a, b)
    if format is DiffFormat.json:
        print(json.dumps(result.to_json(), indent=2, ensure_ascii=False))
    elif format is DiffFormat.markdown:
        print(diff_markdown(result))
    else:
        print_diff(result, _console())


@app.command("bump-check")
def bump_check_command(
    old: Annotated[str, typer.Argument(help="The earlier version: a file or a reference.")],
    new: Annotated[str, typer.Argument(help="The later version: a file or a reference.")],
    examples: Annotated[int, typer.Option("--examples", help="Assessments to generate in the search.")] = 2000,
    rulesets: RulesetsOption = None,
    format: FormatOption = Format.text,
) -> None:
    """Check that NEW's declared semver bump over OLD matches what its changes do to decisions. Exit 1 if too small."""

    from .compare.bump import bump_check
    from .render import print_bump

    a, b = _two(old, new, rulesets)
    report = bump_check(a, b, max_examples=examples)
    if format is Format.json:
        print(json.dumps(report.to_json(), indent=2, ensure_ascii=False))
    else:
        print_bump(report, _console())
    raise typer.Exit(0 if report.ok else 1)


@app.command("lint")
def lint_command(
    rulesets: RulesetsOption = None,
    notice_days: Annotated[int, typer.Option("--notice-days", help="Days of notice expected between "
                                             "announced_on and effective_from (a warning).")] = 30,
    examples: Annotated[int, typer.Option("--examples", help="Assessments per bump-check search.")] = 500,
    format: FormatOption = Format.text,
) -> None:
    """Check a rulesets directory: files, lineage, published locks, notice, and every bump. Exit 1 on errors."""
    from .lint import lint

    report = lint(_registry(rulesets), notice_days=notice_days, examples=examples)
    if format is Format.json:
        print(json.dumps({"diagnostics": [d.to_dict() for d in report.diagnostics],
                          "bumps": [b.to_json() for b in report.bumps], "errors": len(report.errors)}, indent=2))
    else:
        console = _console()
        print_diagnostics(report.diagnostics, console)
        for b in report.bumps:
            mark = "[green]ok[/green]" if b.ok else "[red]too small[/red]"
            console.print(f"bump {b.old.version} -> {b.new.version}: declared {b.declared}, required "
                          f"{b.required} {mark}")
        console.print(f"{len(report.errors)} error(s), {len(report.diagnostics) - len(report.errors)} warning(s)")
    raise typer.Exit(1 if report.errors else 0)


@app.command("lock")
def lock_command(
    methodology: Annotated[str | None, typer.Option("--methodology", "-m", help="Only this methodology.")] = None,
    rulesets: RulesetsOption = None,
) -> None:
    """Record the content hash of every published version not yet locked (never rewrites one)."""
    registry = _registry(rulesets)
    console = _console()
    for m in [methodology] if methodology else registry.methodologies():
        added = registry.lock(m)
        console.print(f"{m}: locked {', '.join(added) if added else 'nothing new'} in {registry.lock_path(m)}")


@app.command()
def schema(
    assessment: Annotated[bool, typer.Option("--assessment", help="The assessment schema of a version instead "
                                             "of the ruleset schema.")] = False,
    methodology: Annotated[str, typer.Option("--methodology", "-m")] = DEFAULT_METHODOLOGY,
    version: Annotated[str | None, typer.Option("--version", "-v", help="The version (default: the latest).")]
    = None,
    rulesets: RulesetsOption = None,
) -> None:
    """Print a JSON Schema: of ruleset files (for editors), or of one version's assessments (for forms)."""
    if not assessment:
        print(json.dumps(ruleset_json_schema(), indent=2))
        return
    registry = _registry(rulesets)
    try:
        chosen = registry.get(methodology, version or registry.versions(methodology)[-1])
    except ResolutionError as exc:
        _err().print(f"[red]error:[/red] {exc}")
        raise typer.Exit(2) from None
    title = f"{chosen.methodology} {chosen.version} assessment"
    print(json.dumps(json_schema(chosen.plan.inputs, title=title), indent=2))


def _version_callback(value: bool) -> None:
    if value:
        print(f"ecei-rules {__version__}")
        raise typer.Exit()


@app.callback()
def _main(
    show_version: Annotated[bool, typer.Option("--version", callback=_version_callback, is_eager=True,
                                               help="Show the version and exit.")] = False,
) -> None:
    """Decide, explain and check labels with versioned, declarative rulesets."""


def main() -> None:
    """Console entry point."""
    app()
