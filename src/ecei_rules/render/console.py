"""Readable renderings of decisions for terminals (rich); problems are printed by ``cli.common.print_problems``."""

from __future__ import annotations

import json
from collections.abc import Iterable
from fractions import Fraction
from typing import TYPE_CHECKING, Any

from rich.console import Console, Group
from rich.panel import Panel
from rich.table import Table
from rich.text import Text

from ecei_rules.core.canonical import to_json
from ecei_rules.core.pointers import json_path
from ecei_rules.core.terminal import clean, text
from ecei_rules.engine.decision import CriterionResult, Decision, ParameterUse

if TYPE_CHECKING:
    from ecei_rules.compare.bump import BumpReport
    from ecei_rules.compare.diff import Diff

_STYLE = {"met": "bold green", "not_met": "bold red", "unknown": "bold yellow"}
_WORD = {"met": "met", "not_met": "not met", "unknown": "unknown"}
def _label_style(label: str) -> str:
    """No label in red, any label awarded in green: the styles know no methodology's label names."""
    return "bold red" if label == "none" else "bold green"


def _value(value: Any) -> str:
    shown = to_json(value)
    if isinstance(shown, list):
        return f"[{len(shown)} item{'s' if len(shown) != 1 else ''}]"
    if isinstance(shown, bool):
        return "true" if shown else "false"
    return str(shown)


def _param(p: ParameterUse) -> str:
    unit = f" {p.unit}" if p.unit else ""
    value = _value(p.value) if not isinstance(p.value, tuple) else f"[{len(p.value)} ids]"
    return f"{p.name} = {value}{unit} ({p.provenance})"


def _outcome(outcome: str) -> Text:
    return Text(_WORD[outcome], style=_STYLE[outcome])


def validity_end(decision: Decision) -> str:
    """The end of a decision's validity for people: a date, "(no expiry)", or "(undecided)"."""
    if decision.valid_until is not None:
        return decision.valid_until.isoformat()
    return "(no expiry)" if decision.validity_expires is False else "(undecided)"


def decision_renderable(decision: Decision, *, noun: str | None = None) -> Group:
    """A rich renderable that explains one decision; ``noun`` names its subject (the ruleset's declared
    subject noun, e.g. "appliance model"; without it, the key its JSON names the subject by)."""
    head = Text()
    head.append(clean(f"{decision.methodology} {decision.version}"), style="bold")
    head.append(f"  sha256 {decision.ruleset_sha256[:16]}…\n", style="dim")
    head.append(clean(decision.resolution.reason) + "\n", style="italic")
    if decision.subject:
        head.append(f"{clean(noun or decision.subject_key)} {clean(decision.subject)}\n")
    head.append("label: ")
    head.append(decision.label.upper(), style=_label_style(decision.label))
    if decision.valid_from is not None:
        head.append(f"   valid {decision.valid_from.isoformat()} to {validity_end(decision)}")
        if decision.validity_rule:
            head.append(f"  (rule {clean(decision.validity_rule)})", style="dim")

    tiers = Table(title="Tiers (highest first)", title_justify="left", expand=False)
    tiers.add_column("label")
    tiers.add_column("outcome")
    tiers.add_column("requires")
    tiers.add_column("because")
    for tier in decision.tiers:
        because = _because(decision, tier.requires, tier.outcome)
        if tier.outcome == "unknown" and tier.missing:
            because += ("; " if because else "") + "missing " + ", ".join(json_path(m) for m in tier.missing[:6])
            if len(tier.missing) > 6:
                because += f" and {len(tier.missing) - 6} more"
        tiers.add_row(text(tier.label), _outcome(tier.outcome), text(", ".join(tier.requires)), text(because))

    parts: list[Any] = [Panel(head, title="decision", expand=False), tiers]
    for score in decision.scores:
        line = Text()
        line.append(clean(f"{score.title} ({score.id}): "))
        line.append_text(_outcome(score.outcome))
        t = score.threshold
        # a share of the total weight shows its product; a minimum (points) is the weight needed itself
        share = Fraction(str(t.value)) * Fraction(str(score.total_weight)) == Fraction(str(score.required_weight))
        need = f"{t.name} {_value(t.value)} x {_value(score.total_weight)}" if share else t.name
        line.append(clean(f" — met weight {_value(score.met_weight)} of {_value(score.total_weight)} "
                    f"(unknown {_value(score.unknown_weight)}); needs {_value(score.required_weight)} = "
                    f"{need} ({t.provenance}); weights {score.weights_provenance}"))
        parts.append(line)
    for group in decision.groups:
        line = text(f"{group.title} ({group.id}): ")
        line.append_text(_outcome(group.outcome))
        line.append(clean(" — all of " + ", ".join(group.all_of)), style="dim")
        parts.append(line)

    if decision.derived:
        parts.append(_derived_table(decision))
    crit = Table(title="Criteria", title_justify="left")
    crit.add_column("id", no_wrap=True)
    crit.add_column("criterion")
    crit.add_column("outcome", no_wrap=True)
    crit.add_column("read")
    crit.add_column("threshold (provenance)")
    for c in decision.criteria:
        # a criterion reading derived values: its condition on them, and only the parameters it reads itself
        shown = [_param(p) for p in c.parameters] if not c.derived else [c.condition, *map(_param, _own(c)[1])]
        crit.add_row(text(c.id), text(c.title), _outcome(c.outcome), Text(_reads(c)), text("; ".join(shown)))
    parts.append(crit)
    return Group(*parts)


def _derived_table(decision: Decision) -> Table:
    """The derived values of a decision, once: each value (or why it has none) with its unit."""
    table = Table(title="Derived values", title_justify="left")
    table.add_column("id", no_wrap=True)
    table.add_column("value")
    table.add_column("title")
    for d in decision.derived:
        if d.outcome == "known":
            shown = Text(clean(_value(d.value) + (f" {d.unit}" if d.unit else "")))
        else:
            shown = Text(clean(d.outcome + (f": {d.reason}" if d.reason else "")), style=_STYLE["unknown"])
        table.add_row(text(d.id), shown, text(d.title))
    return table


def _own(c: CriterionResult) -> tuple[frozenset[str], tuple[ParameterUse, ...]]:
    """The input pointers and the parameters a criterion's condition reads itself, not through the
    derived values it reads (which the decision shows once, in its own table)."""
    # imported here: a decision without derived values never needs it, and the command line starts faster
    from ecei_rules.language.interpreter import parameters as parameter_reads
    from ecei_rules.language.interpreter import parse as parse_expression
    from ecei_rules.language.interpreter import reads as input_reads

    parsed = parse_expression(c.condition)
    names = parameter_reads(parsed)
    return input_reads(parsed, tuple(c.derived)), tuple(p for p in c.parameters if p.name in names)


def _reads(c: CriterionResult) -> str:
    inputs, missing = c.inputs, c.missing
    if c.derived:  # the derived values it reads, the inputs it reads itself, every input missing
        own = _own(c)[0]
        inputs = {k: v for k, v in c.inputs.items() if k in own}
        read = [clean(f"{k} = {_value(v)}" if v is not None else f"{k} has no value") for k, v in c.derived.items()]
        read += [clean(f"{json_path(k)} = {_value(v)}") for k, v in inputs.items()]
        return "\n".join(read + [clean(f"{json_path(m)} missing") for m in missing])
    if len(inputs) + len(missing) == 1:  # the common case: one input, shown by its value
        return next((clean(_value(v)) for v in inputs.values()), "missing")
    items = [clean(f"{json_path(k)} = {_value(v)}") for k, v in inputs.items()]
    items += [clean(f"{json_path(m)} missing") for m in missing]
    return "\n".join(items)


def _because(decision: Decision, refs: Iterable[str], outcome: str) -> str:
    if outcome == "met":
        return "all met"
    wanted = "not_met" if outcome == "not_met" else "unknown"
    failing = [r for r in refs if decision.outcome_of(r) == wanted]
    word = "not met" if wanted == "not_met" else "unknown"
    return f"{word}: " + ", ".join(failing) if failing else ""


def print_decision(decision: Decision, console: Console, *, noun: str | None = None) -> None:
    """Print a decision with its explanation (``noun``: see `decision_renderable`)."""
    console.print(decision_renderable(decision, noun=noun))


# -- diffs ------------------------------------------------------------------------------------

_KIND = {"added": "+", "removed": "-", "changed": "~"}


def _md(value: object) -> str:
    shown = to_json(value)
    out = shown if isinstance(shown, str) else json.dumps(shown, ensure_ascii=False)
    out = clean(out.replace("|", "\\|").replace("\n", " "))
    return out if len(out) <= 120 else out[:117] + "..."


def print_diff(diff: Diff, console: Console) -> None:
    """The semantic diff as rich tables."""
    console.print(text(f"{diff.new.methodology}: {diff.old.version} → {diff.new.version}", style="bold"))
    console.print(text(f"input schema: {diff.schema_effect}; {len(diff.decision_changes)} of {len(diff.changes)} "
                       "changes can alter decisions"))
    from ecei_rules.compare.diff import SECTIONS

    for section in SECTIONS:
        changes = diff.section(section)
        if not changes:
            continue
        table = Table(title=section, title_justify="left")
        for col in ("", "item", "what", "old", "new", "decides"):
            table.add_column(col)
        for c in changes:
            table.add_row(_KIND[c.kind], text(c.id), text(c.attribute or ""),
                          Text(_md(c.old) if c.old is not None else ""), Text(_md(c.new) if c.new is not None else ""),
                          "yes" if c.decides else "no")
        console.print(table)


def print_bump(report: BumpReport, console: Console) -> None:
    """A bump check: declared and required bump, reasons and the counterexample."""
    verdict = Text("OK", style="bold green") if report.ok else Text("TOO SMALL", style="bold red")
    head = text(f"{report.old.methodology} {report.old.version} → {report.new.version}: declared "
                f"{report.declared}, required {report.required}  ")
    head.append_text(verdict)
    console.print(head)
    for reason in report.reasons:
        console.print(text(f"  - {reason}"))
    example = report.counterexample
    if example is not None:
        console.print("counterexample assessment:")
        console.print_json(json.dumps(to_json(example.assessment)))
        if example.ignored:
            console.print(text(f"  ignored by {report.new.version}: {', '.join(example.ignored)}"))
        for d in (example.old, example.new):
            if d is not None:
                validity = (f", valid {to_json(d.valid_from)} to {validity_end(d)}"
                            if d.valid_from is not None else " (no validity)")
                console.print(text(f"  {d.version}: label {d.label}{validity}"))
        if example.new is None:
            console.print(text(f"  {report.new.version} rejects it: " + "; ".join(example.new_problems)))
