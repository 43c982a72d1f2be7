"""``ecei-rules evaluate-durable`` and ``ecei-rules cross-check``: the durable-rules backend on the
command line (the optional extra ``ecei-rules[durable]``).

``evaluate-durable`` is the one route to deciding with durable-rules: its decision is another
record (the durable rules fired, how each criterion was decided) and its options (``--cross-check``)
mean nothing to the core engine. ``replay LOG --cross-check durable`` adds the findings of
:func:`cross_check_report` to a replay's. Exit codes: 0 success (and the engines agree); 1 an
assessment is invalid, durable-rules failed, or the engines disagree; 2 usage errors (unknown
version, no file, the extra is not installed).
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.console import Console

from ecei_rules.cli import common
from ecei_rules.cli.decide import print_outcome_error, ready, resolver_spec
from ecei_rules.core.canonical import to_json
from ecei_rules.registry import Registry

if TYPE_CHECKING:
    from ecei_rules.audit.replay import AuditReport


def require_durable() -> None:
    """Exit 2 with the install hint when durable-rules cannot be used."""
    from ecei_rules.backends._durable_runtime import DurableUnavailableError, runtime

    try:
        runtime()
    except DurableUnavailableError as exc:
        common.fail(exc)


def print_durable_decision(decision: Any, out: Console, differences: dict[str, Any] | None = None) -> None:
    """A durable decision for people: label and validity, tiers, how criteria were decided, scores."""
    end = "(no expiry)" if decision.validity_expires is False else decision.valid_until
    until = (f", valid {decision.valid_from} to {end} ({decision.validity_rule})"
             if decision.label != "none" else "")
    out.print(f"{decision.methodology} {decision.version} decided by durable-rules "
              f"({decision.durable_ruleset}): label {decision.label}{until}", highlight=False, markup=False)
    for tier in decision.tiers:
        missing = f" (missing: {', '.join(tier.missing)})" if tier.missing else ""
        out.print(f"  tier {tier.label}: {tier.outcome}{missing}", highlight=False, markup=False)
    for sid, score in decision.scores.items():
        out.print(f"  score {sid}: {score.outcome}, met {_num(score.met_weight)} + unknown "
                  f"{_num(score.unknown_weight)} of {_num(score.total_weight)} "
                  f"(needs {_num(score.required_weight)})", highlight=False, markup=False)
    _print_decided_by(decision, out)
    if differences is not None:
        _print_differences(differences, out)


def _print_decided_by(decision: Any, out: Console) -> None:
    by: dict[str, list[str]] = {}
    for cid, how in decision.evaluated_by.items():
        by.setdefault(how, []).append(cid)
    for how, ids in by.items():
        shown = ", ".join(ids) if len(ids) <= 8 else f"{len(ids)} criteria"
        out.print(f"  decided by {how}: {shown}", highlight=False, markup=False)
    counts = {o: sum(1 for v in decision.criteria.values() if v == o) for o in ("met", "not_met", "unknown")}
    out.print(f"  criteria: {counts['met']} met, {counts['not_met']} not met, {counts['unknown']} unknown; "
              f"{len(decision.trace)} durable rules fired", highlight=False)


def _print_differences(differences: dict[str, Any], out: Console) -> None:
    if not differences:
        out.print("  [green]cross-check: the core engine reaches the same decision[/green]")
        return
    out.print("  [red]cross-check: the engines disagree[/red]")
    for key, value in differences.items():
        out.print(f"    {key}: {json.dumps(to_json(value), ensure_ascii=False)[:300]}", highlight=False,
                  markup=False)


def _num(value: Any) -> str:
    return str(value.numerator) if value.denominator == 1 else str(float(value))


def evaluate_durable(
    assessment: common.AssessmentArgument,
    ruleset: common.RulesetFileOption = None,
    methodology: common.MethodologyOption = None,
    version: common.VersionOption = None,
    rulesets: common.RulesetsOption = None,
    check: Annotated[bool, typer.Option("--cross-check", help="Also decide with the core engine and report "
                                        "every disagreement (exit 1 if any).")] = False,
    format: common.FormatOption = common.Format.text,
) -> None:
    """Decide each assessment with the independent durable-rules engine (needs ecei-rules[durable])."""
    from ecei_rules.backends.durable import decide_many

    common.check_input(assessment)
    resolve = ready(resolver_spec(ruleset, rulesets, methodology, version), None)
    require_durable()
    out = common.console()
    batch = common.is_batch(assessment)
    failures = 0
    for outcome in decide_many(common.read(assessment), resolve, check=check):
        failures += outcome.error is not None or bool(outcome.differences)
        if format is common.Format.json:
            sys.stdout.write(json.dumps(outcome.to_json(), ensure_ascii=False, separators=(",", ":")) + "\n")
        elif outcome.decision is not None:
            if batch:
                out.rule(f"line {outcome.index}")
            print_durable_decision(outcome.decision, out, outcome.differences)
        else:
            print_outcome_error(outcome.error, out, f"line {outcome.index}: " if batch else "")
    sys.stdout.flush()
    raise typer.Exit(common.EXIT_FINDINGS if failures else 0)


def cross_check_report(log: Path, found: Registry) -> AuditReport:
    """Re-decide every record of a log with durable-rules (exit 2 without the extra, or on a file that is not a log,
    in one line, as ``verify`` says it).

    ``replay LOG --cross-check durable`` adds the findings of this report to the replay's."""
    from ecei_rules.audit.log import LogError
    from ecei_rules.backends.durable import cross_check_log

    require_durable()
    if not log.exists():
        common.fail(f"no such log: {log}")
    rows, _ = common.log_rows(log)  # a file that is not a log: one line, exit 2
    try:
        return cross_check_log(rows, found)
    except LogError as exc:  # a database found damaged while it is read
        common.fail(exc)


def cross_check(
    log: Annotated[Path | None, typer.Argument(metavar="LOG", show_default=False,
                                               help="A decision log (SQLite) or its JSONL export.")] = None,
    log_option: common.LogOption = None,
    rulesets: common.RulesetsOption = None,
    format: common.FormatOption = common.Format.text,
) -> None:
    """Re-decide every logged record with durable-rules under the version it names; exit 1 on any disagreement."""
    report = cross_check_report(common.one_log(log, log_option), common.registry(rulesets))
    if format is common.Format.json:
        common.print_json(report.to_json())
        raise typer.Exit(0 if report.ok else common.EXIT_FINDINGS)
    findings = common.print_findings(report, cut=300)
    out = common.console()
    if report.ok:
        out.print(f"[green]cross-check: durable-rules reaches all {report.records} recorded decision(s)[/green]")
    else:
        out.print(f"[red]cross-check: {report.records} record(s), {len(findings)} finding(s); the first is record "
                  f"{abs(findings[0].seq)}[/red]")
    raise typer.Exit(0 if report.ok else common.EXIT_FINDINGS)


#: The commands of this module, by name.
COMMANDS = (("evaluate-durable", evaluate_durable), ("cross-check", cross_check))
