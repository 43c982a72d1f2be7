"""``ecei-rules evaluate-durable`` and ``ecei-rules cross-check``: the durable-rules backend on the
command line (the optional extra ``ecei-rules[durable]``).

Registered on the app when :mod:`ecei_rules.cli.app` is imported. :func:`evaluate_durable` and
:func:`cross_check_log_command` hold the logic, so ``evaluate --engine durable`` and
``replay LOG --cross-check durable`` can call them too. Exit codes: 0 success (and the engines
agree); 1 an assessment is invalid, durable-rules failed, or the engines disagree; 2 usage
errors (unknown version, no file, the extra is not installed).
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.console import Console
from rich.markup import escape

from ecei_rules.batch import Resolver, error_json, fixed_resolver, read_assessments, registry_resolver
from ecei_rules.cli.app import Format, FormatOption, RulesetsOption, _exit_on_load_errors, app
from ecei_rules.core.canonical import to_json
from ecei_rules.core.terminal import SafeConsole
from ecei_rules.errors import AssessmentError
from ecei_rules.registry import DEFAULT_METHODOLOGY, Registry
from ecei_rules.render.console import print_assessment_error
from ecei_rules.ruleset.load import load_ruleset

if TYPE_CHECKING:
    from ecei_rules.audit.replay import AuditReport


def _err() -> Console:
    return SafeConsole(stderr=True)


def _usage(message: str) -> typer.Exit:
    _err().print(f"[red]error:[/red] {escape(message)}", highlight=False)
    return typer.Exit(2)


def require_durable() -> None:
    """Exit 2 with the install hint when durable-rules cannot be used."""
    from ecei_rules.backends._durable_runtime import DurableUnavailableError, runtime

    try:
        runtime()
    except DurableUnavailableError as exc:
        raise _usage(str(exc)) from None


def print_durable_decision(decision: Any, console: Console, differences: dict[str, Any] | None = None) -> None:
    """A durable decision for people: label and validity, tiers, how criteria were decided, scores."""
    until = (f", valid {decision.valid_from} to {decision.valid_until} ({decision.validity_rule})"
             if decision.label != "none" else "")
    console.print(f"{decision.methodology} {decision.version} decided by durable-rules "
                  f"({decision.durable_ruleset}): label {decision.label}{until}", highlight=False, markup=False)
    for tier in decision.tiers:
        missing = f" (missing: {', '.join(tier.missing)})" if tier.missing else ""
        console.print(f"  tier {tier.label}: {tier.outcome}{missing}", highlight=False, markup=False)
    for sid, score in decision.scores.items():
        console.print(f"  score {sid}: {score.outcome}, met {_num(score.met_weight)} + unknown "
                      f"{_num(score.unknown_weight)} of {_num(score.total_weight)} "
                      f"(needs {_num(score.required_weight)})", highlight=False, markup=False)
    by: dict[str, list[str]] = {}
    for cid, how in decision.evaluated_by.items():
        by.setdefault(how, []).append(cid)
    for how, ids in by.items():
        shown = ", ".join(ids) if len(ids) <= 8 else f"{len(ids)} criteria"
        console.print(f"  decided by {how}: {shown}", highlight=False, markup=False)
    counts = {o: sum(1 for v in decision.criteria.values() if v == o) for o in ("met", "not_met", "unknown")}
    console.print(f"  criteria: {counts['met']} met, {counts['not_met']} not met, {counts['unknown']} unknown; "
                  f"{len(decision.trace)} durable rules fired", highlight=False)
    if differences is not None:
        if not differences:
            console.print("  [green]cross-check: the core engine reaches the same decision[/green]")
        else:
            console.print("  [red]cross-check: the engines disagree[/red]")
            for key, value in differences.items():
                console.print(f"    {key}: {json.dumps(to_json(value), ensure_ascii=False)[:300]}",
                              highlight=False, markup=False)


def _num(value: Any) -> str:
    return str(value.numerator) if value.denominator == 1 else str(float(value))


def evaluate_durable(assessment: Path, resolve: Resolver, format: Format, *, check: bool = False) -> int:
    """Decide every assessment of a file with durable-rules (and, with ``check``, compare with the
    core engine); print; return the exit code."""
    from ecei_rules.backends.durable import decide_many

    require_durable()
    console = SafeConsole(soft_wrap=False)
    batch = assessment.suffix == ".jsonl"
    failures = 0
    for outcome in decide_many(read_assessments(assessment), resolve, check=check):
        if outcome.error is not None or outcome.differences:
            failures += 1
        if format is Format.json:
            sys.stdout.write(json.dumps(outcome.to_json(), ensure_ascii=False, separators=(",", ":")) + "\n")
            continue
        prefix = f"line {outcome.index}: " if batch else ""
        if outcome.decision is not None:
            if batch:
                console.rule(f"line {outcome.index}")
            print_durable_decision(outcome.decision, console, outcome.differences)
        elif isinstance(outcome.error, AssessmentError):
            print_assessment_error(outcome.error.diagnostics, console, prefix)
        else:
            console.print(prefix + str(error_json(outcome.error)["message"]), highlight=False, markup=False)
    sys.stdout.flush()
    return 1 if failures else 0


def cross_check_report(log: Path, registry: Registry) -> AuditReport:
    """Re-decide every record of a log with durable-rules (exit 2 without the extra or the log).

    ``replay LOG --cross-check durable`` adds the findings of this report to the replay's."""
    from ecei_rules.audit.log import open_rows
    from ecei_rules.backends.durable import cross_check_log

    require_durable()
    if not log.exists():
        raise _usage(f"no such log: {log}")
    return cross_check_log(open_rows(log), registry)


def cross_check_log_command(log: Path, registry: Registry, format: Format) -> int:
    """Re-decide every record of a log with durable-rules; print the disagreements; return the exit code."""
    report = cross_check_report(log, registry)
    if format is Format.json:
        print(json.dumps(report.to_json(), indent=2, ensure_ascii=False))
    else:
        console = SafeConsole(soft_wrap=False)
        findings = report.sorted()
        for finding in findings[:50]:
            console.print(f"[red]{finding.kind}[/red] {escape(finding.message)}", highlight=False)
            for key, value in list(finding.details.items())[:6]:
                console.print(f"    {key}: {json.dumps(to_json(value), ensure_ascii=False)[:300]}",
                              highlight=False, markup=False)
        if len(findings) > 50:
            console.print(f"... and {len(findings) - 50} more finding(s)")
        if report.ok:
            console.print(f"[green]cross-check: durable-rules reaches all {report.records} recorded "
                          "decision(s)[/green]")
        else:
            console.print(f"[red]cross-check: {report.records} record(s), {len(findings)} finding(s); the first "
                          f"is record {abs(findings[0].seq)}[/red]")
    return 0 if report.ok else 1


def _resolver(ruleset: Path | None, rulesets: Path | None, methodology: str, version: str | None) -> Resolver:
    with _exit_on_load_errors():
        if ruleset is not None:
            return fixed_resolver(load_ruleset(ruleset))
        registry = Registry(rulesets) if rulesets is not None else Registry.shipped()
        for v in [version] if version is not None else registry.versions(methodology):
            registry.get(methodology, v)
        return registry_resolver(registry, methodology, version)


@app.command("evaluate-durable")
def evaluate_durable_command(
    assessment: Annotated[Path, typer.Argument(help="An assessment (.json, .yaml) or a batch (.jsonl).")],
    ruleset: Annotated[Path | None, typer.Option("--ruleset", "-r", help="Evaluate with this ruleset file.")] = None,
    methodology: Annotated[str, typer.Option("--methodology", "-m", help="Methodology id.")] = DEFAULT_METHODOLOGY,
    version: Annotated[str | None, typer.Option("--version", "-v", help="Pin a version (default: the one "
                                                "in force on each assessment's assessed_on).")] = None,
    rulesets: RulesetsOption = None,
    check: Annotated[bool, typer.Option("--cross-check", help="Also decide with the core engine and report "
                                        "every disagreement (exit 1 if any).")] = False,
    format: FormatOption = Format.text,
) -> None:
    """Decide each assessment with the independent durable-rules engine (needs ecei-rules[durable])."""
    if not assessment.exists():
        raise _usage(f"no such file: {assessment}")
    resolve = _resolver(ruleset, rulesets, methodology, version)
    raise typer.Exit(evaluate_durable(assessment, resolve, format, check=check))


@app.command("cross-check")
def cross_check_command(
    log: Annotated[Path, typer.Argument(help="A decision log (SQLite) or its JSONL export.")],
    rulesets: RulesetsOption = None,
    format: FormatOption = Format.text,
) -> None:
    """Re-decide every logged record with durable-rules under the version it names; exit 1 on any disagreement."""
    registry = Registry(rulesets) if rulesets is not None else Registry.shipped()
    raise typer.Exit(cross_check_log_command(log, registry, format))
