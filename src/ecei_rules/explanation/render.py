"""Explanations as plain text and as Markdown, in the explanation's language.

Both renderings show the same content: the summary, each tier with the criteria that decide
it (value read, threshold with provenance, clause), near misses, and what it takes to reach
each tier above the awarded one. Headings and connecting words come from the message file.
"""

from __future__ import annotations

from collections.abc import Iterator

from ecei_rules.core.terminal import clean
from ecei_rules.engine.decision import ParameterUse
from ecei_rules.explanation.citations import citation_links
from ecei_rules.explanation.messages import Messages
from ecei_rules.explanation.model import (
    CriterionExplanation,
    DerivedExplanation,
    Explanation,
    ScoreExplanation,
    TierPath,
)

#: Change sets of more changes than this are listed by the criteria they meet (each change is listed once below).
LONG_SET = 5
#: A number of minimal change sets above this is not printed (the options state them compactly).
MAX_COUNTED = 1000


class _View:
    def __init__(self, expl: Explanation, messages: Messages | None) -> None:
        self.e = expl
        self.msg = messages if messages is not None and messages.language == expl.language else Messages(expl.language)
        self.criteria = {c.id: c for c in expl.criteria}
        self.scores = {s.id: s for s in expl.scores}
        self.derived = {d.id: d for d in expl.derived}

    def head(self, key: str) -> str:
        return self.msg.template(f"heading.{key}")

    def percent(self) -> str:
        return self.msg.number(self.e.settings.near_margin * 100)

    def details(self, c: CriterionExplanation) -> Iterator[str]:
        """The lines under a criterion: its clause, the derived values it compared and its band class, then each
        threshold it reads itself with its provenance (a derived value's parameters are listed with it, once)."""
        if c.clause:
            yield f"{self.head('clause')}: {c.clause}"
        for name, value in c.derived.items():
            yield f"{self.head('value')}: " + self.value_words(name, value)
        if c.band is not None:
            b = c.band
            yield f"{self.head('band')}: " + self.msg("criterion.band", title=b.title, name=b.name, interval=b.interval,
                                                      unit=f" {b.unit}" if b.unit else "")
        own = c.parameters if not c.derived else [p for p in c.parameters if p.name in c.own_parameters]
        for p in own:
            yield f"{self.head('threshold')}: " + self.parameter(p)

    def value_words(self, name: str, value: object) -> str:
        """A derived value as a criterion compared it: ``energy_index = 41.1 %``."""
        d = self.derived.get(name)
        if value is None and d is not None:
            return self.msg(f"criterion.value_{d.outcome}", name=name)
        unit = f" {d.unit}" if d is not None and d.unit else ""
        return self.msg("criterion.value", name=name, value=value, unit=unit)

    def parameter(self, p: ParameterUse) -> str:
        """A parameter with its value and provenance."""
        unit = f" {p.unit}" if p.unit else ""
        provenance = self.msg(f"provenance.{p.provenance}", source=p.source)
        return self.msg("criterion.parameter", name=p.name, value=p.value, unit=unit, provenance=provenance)

    def derived_lines(self, d: DerivedExplanation) -> Iterator[str]:
        """The lines under a derived value: the parameters its own expression reads, with their provenance."""
        for p in d.parameters:
            if p.name in d.own_parameters:
                yield f"{self.head('parameter')}: " + self.parameter(p)

    def score_details(self, s: ScoreExplanation) -> Iterator[str]:
        if s.clause:
            yield f"{self.head('clause')}: {s.clause}"
        t = s.threshold
        yield f"{self.head('threshold')}: " + self.msg("score.threshold", name=t.name, share=t.value,
                                                       provenance=self.msg(f"provenance.{t.provenance}",
                                                                           source=t.source))
        yield f"{self.head('weights')}: " + self.msg(f"provenance.{s.weights_provenance}", source=s.weights_source)

    def path_lines(self, p: TierPath) -> Iterator[tuple[str, str]]:
        """(kind, text) of one tier's path: kind is heading, para, numbered (a change set) or item (a change)."""
        yield "heading", self.msg("path.heading", title=p.title, outcome=self.msg.template(f"outcome.{p.outcome}"))
        yield "para", p.input_sentence or p.sentence
        if p.input_sets and p.reachable:
            shown = len(p.input_sets)
            if p.input_sets_total > MAX_COUNTED:  # an exponential count says nothing: the options above say it all
                yield "para", self.msg("path.shown_many", shown=shown)
            elif p.input_sets_total > shown:
                yield "para", self.msg("path.shown", count=p.input_sets_total, shown=shown)
            else:
                yield "para", self.msg("path.one_way", p.input_sets_total)
            for s in p.input_sets:
                if s.size > LONG_SET:
                    text = self.msg("path.set_long", count=s.size, ids=self.msg.template("list.separator").join(
                        s.criteria))
                    text += f" ({self.msg.template('path.verified')})" if s.verified else ""
                else:
                    text = s.sentence
                yield "numbered", text
        if p.reachable and p.changes and (p.needs or any(s.size > LONG_SET for s in p.input_sets)):
            yield "para", self.head("changes") + ":"
            for ch in p.changes:
                yield "item", f"{ch.criterion}: {ch.sentence}"


def render_text(expl: Explanation, *, messages: Messages | None = None) -> str:
    """The explanation as plain text (for terminals and e-mails).

    ``messages`` are the explanation language's messages when the caller already holds them
    (e.g. from an `ExplanationCache`); by default they are read again.
    """
    v = _View(expl, messages)
    out: list[str] = [*expl.summary, ""]

    def add(depth: int, text: str) -> None:
        out.append("  " * depth + text)

    def criterion(c: CriterionExplanation, depth: int) -> None:
        add(depth, f"- {c.sentence}")
        for line in v.details(c):
            add(depth + 2, line)

    add(0, v.head("tiers"))
    for tier in expl.tiers:
        add(1, tier.sentence)
        for ref in (*tier.not_met, *tier.unknown):
            if ref in v.scores:
                s = v.scores[ref]
                add(2, f"- {s.sentence}")
                for line in v.score_details(s):
                    add(4, line)
                for cid in (*s.not_met, *s.unknown):
                    criterion(v.criteria[cid], 3)
            elif ref in v.criteria:
                criterion(v.criteria[ref], 2)
    out.append("")
    add(0, v.head("near_misses"))
    if expl.near_misses:
        add(1, v.msg("near.margin", percent=v.percent()))
        for n in expl.near_misses:
            add(1, f"- {n.sentence}")
    else:
        add(1, v.msg("near.no_miss" if expl.narrow_passes else "near.none", percent=v.percent()))
    if expl.narrow_passes:
        add(0, v.head("narrow_passes"))
        for n in expl.narrow_passes:
            add(1, f"- {n.sentence}")
    if expl.what_it_takes:
        out.append("")
        add(0, v.head("what_it_takes"))
        for p in expl.what_it_takes:
            number = 0
            for kind, line in v.path_lines(p):
                if kind == "numbered":
                    number += 1
                    add(3, f"{number}. {line}")
                else:
                    add({"heading": 1, "para": 2, "item": 3}[kind], line)
    out.append("")
    add(0, v.head("criteria"))
    for c in expl.criteria:
        add(1, f"- {c.sentence}")
    out += _derived_lines(v)
    return "\n".join(clean(line) for line in out) + "\n"  # a value cannot start a line or move the cursor


def _derived_lines(v: _View) -> list[str]:
    """The derived values of the explanation, one sentence each (nothing without them)."""
    if not v.e.derived:
        return []
    out = ["", v.head("derived")]
    for d in v.e.derived:
        out += [f"  - {d.sentence}", *(f"      {line}" for line in v.derived_lines(d))]
    return out


def _cell(text: object) -> str:
    return str(text).replace("|", "\\|").replace("\n", " ")


def _markdown_tiers(v: _View) -> list[str]:
    """Each tier with the scores and criteria that decide it."""
    out = [f"## {v.head('tiers')}", ""]

    def criterion(c: CriterionExplanation, indent: str) -> None:
        out.append(f"{indent}- {c.sentence}")
        for line in v.details(c):
            out.append(f"{indent}  - {line}")

    for tier in v.e.tiers:
        out += [f"### {tier.title}", "", tier.sentence, ""]
        for ref in (*tier.not_met, *tier.unknown):
            if ref in v.scores:
                s = v.scores[ref]
                out.append(f"- {s.sentence}")
                out.extend(f"  - {line}" for line in v.score_details(s))
                for cid in (*s.not_met, *s.unknown):
                    criterion(v.criteria[cid], "  ")
            elif ref in v.criteria:
                criterion(v.criteria[ref], "")
        if tier.not_met or tier.unknown:
            out.append("")
    return out


def _markdown_near(v: _View) -> list[str]:
    """The near misses and the narrow passes."""
    expl = v.e
    out = [f"## {v.head('near_misses')}", ""]
    if expl.near_misses:
        out += [v.msg("near.margin", percent=v.percent()), ""]
        out += [f"- {n.sentence}" for n in expl.near_misses]
    else:
        out.append(v.msg("near.no_miss" if expl.narrow_passes else "near.none", percent=v.percent()))
    if expl.narrow_passes:
        out += ["", f"### {v.head('narrow_passes')}", ""]
        out += [f"- {n.sentence}" for n in expl.narrow_passes]
    return [*out, ""]


def _markdown_path(v: _View, p: TierPath) -> list[str]:
    """What it takes to reach one tier: headings, paragraphs, numbered change sets, listed changes."""
    out: list[str] = []
    number = 0
    previous = "para"
    for kind, line in v.path_lines(p):
        if kind in ("heading", "para") or previous in ("heading", "para"):
            out.append("")  # a blank line around headings and paragraphs, and before a list
        if kind == "heading":
            out.append(f"### {line}")
        elif kind == "numbered":
            number += 1
            out.append(f"{number}. {line}")
        else:
            out.append(f"- {line}" if kind == "item" else line)
        previous = kind
    return [*out, ""]


def _markdown_criteria(v: _View) -> list[str]:
    """The table of every criterion: outcome, values read, thresholds, clause."""
    out = [f"## {v.head('criteria')}", "",
           f"| id | {v.head('criterion')} | {v.head('outcome')} | {v.head('reads')} | {v.head('threshold')} | "
           f"{v.head('clause')} |", "|---|---|---|---|---|---|"]
    for c in v.e.criteria:
        reads = "; ".join([f"{k} = {v.msg.value(val)}" for k, val in c.inputs.items()]
                          + [f"{k}: {v.msg.template('value.missing')}" for k in c.missing])
        own = c.parameters if not c.derived else [p for p in c.parameters if p.name in c.own_parameters]
        thresholds = "; ".join([v.value_words(name, value) for name, value in c.derived.items()]
                               + ([c.band.interval] if c.band is not None else [])
                               + [f"{p.name} = {v.msg.value(p.value)} ({p.provenance})" for p in own])
        out.append(f"| {_cell(c.id)} | {_cell(c.title)} | {_cell(v.msg.template('outcome.' + c.outcome))} | "
                   f"{_cell(reads)} | {_cell(thresholds)} | {_cell(c.clause or '')} |")
    return out


def render_markdown(expl: Explanation, *, spec: str | None = None, messages: Messages | None = None) -> str:
    """The explanation as Markdown (for reports and the docs).

    Args:
        expl: the explanation.
        spec: the address of the methodology's specification page (in the docs,
            ``specification/<methodology>/``); when given, each citation "spec section N" of a
            clause or a provenance links to the anchor of its section there.
        messages: as for `render_text`.
    """
    v = _View(expl, messages)
    who = expl.subject_name or expl.subject or ""
    out: list[str] = [f"# {expl.methodology} {expl.version}" + (f": {who}" if who else ""), ""]
    out += [*(f"{s}  " for s in expl.summary), ""]
    out += _markdown_tiers(v)
    out += _markdown_near(v)
    if expl.what_it_takes:
        out += [f"## {v.head('what_it_takes')}", ""]
        for p in expl.what_it_takes:
            out += _markdown_path(v, p)
    out += _markdown_criteria(v)
    if expl.derived:
        out += ["", f"## {v.head('derived')}", ""]
        for d in expl.derived:
            out += [f"- {d.sentence}", *(f"  - {line}" for line in v.derived_lines(d))]
    text = "\n".join(clean(line) for line in out).rstrip("\n") + "\n"
    while "\n\n\n" in text:  # one blank line between blocks
        text = text.replace("\n\n\n", "\n\n")
    return text if spec is None else citation_links(text, spec)
