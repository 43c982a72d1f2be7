"""Commands on rulesets themselves: ``validate``, ``test``, ``versions``, ``schema``, ``diff``,
``bump-check``, ``lint`` and ``lock``."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from ecei_rules.batch import named_ruleset, split_version
from ecei_rules.cli.common import (
    EXIT_FINDINGS,
    MAX_EXAMPLES,
    Format,
    FormatOption,
    MethodologyOption,
    ReportFormat,
    RulesetsOption,
    check_stdout,
    console,
    exit_on_load_errors,
    print_json,
    print_problems,
    registry,
    write_failed,
    yaml_files,
)
from ecei_rules.core.terminal import markup, path_text, show_path, text
from ecei_rules.errors import Diagnostic, RulesetError
from ecei_rules.registry import Registry
from ecei_rules.ruleset.inputs import assessment_schema
from ecei_rules.ruleset.load import ParseCache, Ruleset, check_ruleset, each_problem_once, load_ruleset
from ecei_rules.ruleset.model import ruleset_json_schema

RulesetPaths = Annotated[list[Path], typer.Argument(metavar="PATHS", help="Ruleset files or directories of "
                                                    "rulesets.")]
ExamplesOption = Annotated[int, typer.Option("--examples", metavar="N", min=1, max=MAX_EXAMPLES,
                                             help="The search's budget: assessments decided at most (authored, "
                                             "directed, generated) to confirm the static verdict, 1 to "
                                             "1,000,000; the generated search runs in rounds of at most 500 "
                                             "(memory bounded whatever N).")]


def validate(paths: RulesetPaths, format: FormatOption = Format.text) -> None:
    """Check rulesets; print every problem with file:line:column. Exit 1 on any error."""
    files = yaml_files(paths)
    found: list[Diagnostic] = []  # a base's problem, or a loop, is one problem, however many versions meet it
    parses = ParseCache()  # versions that extend each other: each file parsed once
    bad = 0
    for f in files:
        diags = check_ruleset(f, cache=parses)
        bad += any(d.severity == "error" for d in diags)
        found.extend(diags)
    all_diags = each_problem_once(found)
    errors = [d for d in all_diags if d.severity == "error"]
    if format is Format.json:
        # a file name that is not UTF-8 is written with its bytes as \\xff (never as a lone surrogate)
        print(json.dumps({"files": [path_text(f) for f in files],
                          "diagnostics": [{**d.to_json(), "file": None if d.file is None else path_text(d.file)}
                                          for d in all_diags], "errors": len(errors)}, indent=2))
    else:
        out = console()
        print_problems(all_diags, out)
        if errors:
            out.print(f"[red]{len(errors)} error(s) in {bad} of {len(files)} file(s)[/red]")
        else:
            out.print(f"[green]{len(files)} file(s) valid[/green]")
    raise typer.Exit(EXIT_FINDINGS if errors or not files else 0)


def run_tests(
    paths: Annotated[list[Path] | None, typer.Argument(metavar="PATHS", help="Ruleset files or directories "
                                                       "(default: the shipped rulesets).")] = None,
) -> None:
    """Run the tests embedded in rulesets; exit 1 if any fails."""
    files = yaml_files(paths or [Registry.shipped().root])
    from ecei_rules.testing.embedded import run_embedded  # this command's alone: not imported at start-up

    out = console()
    passed = failed = 0
    parses = ParseCache()
    shown: list[Diagnostic] = []  # a base's problem, or a loop, once, however many versions meet it
    for f in files:
        try:
            loaded = load_ruleset(f, cache=parses)
        except RulesetError as exc:
            seen, shown = len(shown), each_problem_once([*shown, *exc.diagnostics])
            print_problems(shown[seen:], out)
            failed += 1
            continue
        for result in run_embedded(loaded):
            if result.passed:
                passed += 1
            else:
                failed += 1
                for line in result.report().splitlines():
                    out.print(text(line), soft_wrap=True)
    out.print(f"embedded tests: {passed} passed, {failed} failed in {len(files)} ruleset(s)")
    raise typer.Exit(EXIT_FINDINGS if failed else 0)


def versions(methodology: MethodologyOption = None, rulesets: RulesetsOption = None,
             format: FormatOption = Format.text) -> None:
    """List the versions of a methodology with their effective dates and content hashes."""
    found = registry(rulesets)
    with exit_on_load_errors(ruleset=EXIT_FINDINGS):
        chosen = split_version(None, methodology)[0] or found.default_methodology()
        rows = [found.get(chosen, v) for v in found.versions(chosen)]
    if format is Format.json:
        print(json.dumps([{
            "methodology": r.methodology, "version": r.version, "status": r.document.status,
            "effective_from": r.document.effective_from.isoformat(),
            "approval": r.document.approval.body if r.document.approval else None, "sha256": r.sha256,
        } for r in rows], indent=2))
        return
    table = Table(title=text(chosen))
    for col in ("version", "effective from", "status", "approved by", "labels", "sha256"):
        table.add_column(col)
    for r in rows:
        d = r.document
        table.add_row(text(d.version), d.effective_from.isoformat(), text(d.status),
                      text(d.approval.body if d.approval else ""), text(", ".join(d.labels)), r.sha256[:16])
    console().print(table)


def schema(
    assessment: Annotated[bool, typer.Option("--assessment", help="The assessment schema of a version instead "
                                             "of the ruleset schema.")] = False,
    methodology: MethodologyOption = None,
    version: Annotated[str | None, typer.Option("--version", "-v", metavar="VERSION", help="The version: 3.0.1 "
                                                "or energy-label@3.0.1 (default: the latest).")] = None,
    rulesets: RulesetsOption = None,
) -> None:
    """Print a JSON Schema: of ruleset files (for editors), or of one version's assessments (for forms)."""
    if not assessment:
        print(json.dumps(ruleset_json_schema(), indent=2))
        return
    found = registry(rulesets)
    with exit_on_load_errors():
        named, spec = split_version(version, methodology)
        chosen = named or found.default_methodology()
        ruleset = found.lookup(f"{chosen}@{spec or found.versions(chosen)[-1]}", allow_unpublished=True)
    print(json.dumps(assessment_schema(ruleset), indent=2))


def _two(old: str, new: str, rulesets: Path | None) -> tuple[Ruleset, Ruleset]:
    found = registry(rulesets)
    with exit_on_load_errors():
        return named_ruleset(old, found), named_ruleset(new, found)


def diff(
    old: Annotated[str, typer.Argument(metavar="OLD", help="A ruleset file, a version (2.0.0) or a reference "
                                       "(energy-label@2.0.0).")],
    new: Annotated[str, typer.Argument(metavar="NEW", help="Likewise, e.g. energy-label@3.0.0.")],
    rulesets: RulesetsOption = None,
    format: Annotated[ReportFormat, typer.Option("--format", "-f", metavar="text|json|markdown",
                                                 help="text, json or markdown.")] = ReportFormat.text,
) -> None:
    """The semantic diff of two versions: inputs, parameters, criteria, scores, tiers, validity, metadata."""
    from ecei_rules.compare.diff import semantic_diff
    from ecei_rules.render.console import print_diff
    from ecei_rules.render.diff import diff_markdown

    a, b = _two(old, new, rulesets)
    result = semantic_diff(a, b)
    if format is ReportFormat.json:
        print_json(result.to_json())
    elif format is ReportFormat.markdown:
        print(diff_markdown(result))
    else:
        print_diff(result, console())


def bump_check(
    old: Annotated[str, typer.Argument(metavar="OLD", help="The earlier version: a ruleset file, a version or a "
                                       "reference.")],
    new: Annotated[str, typer.Argument(metavar="NEW", help="The later version, likewise.")],
    examples: ExamplesOption = 500,
    shrink: Annotated[int, typer.Option("--shrink", metavar="N", min=0, help="Decisions spent at most making a "
                                        "counterexample smaller (0: shown as found).")] = 300,
    rulesets: RulesetsOption = None,
    format: FormatOption = Format.text,
) -> None:
    """Check that NEW's declared semver bump over OLD matches what its changes do to decisions. Exit 1 if too small."""
    from ecei_rules.render.console import print_bump
    from ecei_rules.testing.counterexample import bump_check as check

    a, b = _two(old, new, rulesets)
    report = check(a, b, max_examples=examples, shrink=shrink)
    if format is Format.json:
        print_json(report.to_json())
    else:
        print_bump(report, console())
    raise typer.Exit(0 if report.ok else EXIT_FINDINGS)


def lint(
    rulesets: RulesetsOption = None,
    notice_days: Annotated[int, typer.Option("--notice-days", metavar="DAYS", min=0, help="Days of notice expected "
                                             "between announced_on and effective_from (a warning).")] = 30,
    examples: Annotated[int, typer.Option("--examples", metavar="N", min=1, max=MAX_EXAMPLES,
                                          help="Assessments per bump-check search.")] = 500,
    format: FormatOption = Format.text,
) -> None:
    """Check a rulesets directory: files, lineage, published locks, notice, and every bump. Exit 1 on errors."""
    from ecei_rules.testing.lint import lint as run_lint

    report = run_lint(registry(rulesets), notice_days=notice_days, examples=examples)
    if format is Format.json:
        print(json.dumps({"diagnostics": [d.to_json() for d in report.diagnostics],
                          "bumps": [b.to_json() for b in report.bumps], "errors": len(report.errors)}, indent=2))
    else:
        out = console()
        print_problems(report.diagnostics, out)
        for b in report.bumps:
            mark = "[green]ok[/green]" if b.ok else "[red]too small[/red]"
            out.print(f"bump {markup(b.old.version)} -> {markup(b.new.version)}: declared {b.declared}, "
                      f"required {b.required} {mark}")
        out.print(f"{len(report.errors)} error(s), {len(report.diagnostics) - len(report.errors)} warning(s)")
    raise typer.Exit(EXIT_FINDINGS if report.errors else 0)


def lock(
    methodology: Annotated[str | None, typer.Option("--methodology", "-m", metavar="ID", help="Only this "
                                                    "methodology (default: every one).")] = None,
    rulesets: RulesetsOption = None,
) -> None:
    """Record the content hash of every published version not yet locked (never rewrites one)."""
    check_stdout()
    found = registry(rulesets)
    out = console()
    for m in [methodology] if methodology else found.methodologies():
        with exit_on_load_errors(ruleset=EXIT_FINDINGS):
            try:
                added = found.lock(m)
            except OSError as exc:  # a folder not writable, a read-only file system (a full disk: exit 3)
                write_failed(f"cannot write the lock {show_path(found.lock_path(m))}", exc)
        out.print(text(f"{m}: locked {', '.join(added) if added else 'nothing new'} in "
                       f"{show_path(found.lock_path(m))}"))


#: The commands of this module, by name, in the order the help lists them.
COMMANDS = (("validate", validate), ("test", run_tests), ("versions", versions), ("schema", schema),
            ("diff", diff), ("bump-check", bump_check), ("lint", lint), ("lock", lock))
