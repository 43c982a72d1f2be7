"""Markdown pages of the documentation site, generated from rulesets and the code itself.

Pure functions: each takes loaded rulesets (or the command-line app, the diagnostic codes,
a decision) and returns Markdown text or JSON Schema documents; none reads a file or a
clock. ``docs/hooks.py`` calls them while ``mkdocs build`` runs and adds what they return
to the build, so the published pages always say what the rulesets and the code say and
nothing generated is ever committed.

>>> from ecei_rules.registry import Registry  # doctest: +SKIP
>>> registry = Registry.shipped()  # doctest: +SKIP
>>> pages = site_pages({"ecei-labels": [registry.get("ecei-labels", v)  # doctest: +SKIP
...                                     for v in registry.versions("ecei-labels")]})
>>> sorted(pages)[:2]  # doctest: +SKIP
['methodologies/ecei-labels/1.0.0.md', 'methodologies/ecei-labels/1.1.0.md']
"""

from __future__ import annotations

import ast
import datetime as dt
import html
import io
import itertools
import json
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from decimal import Decimal
from typing import Any

from ecei_rules.compare.bump import declared_bump
from ecei_rules.compare.diff import Diff, semantic_diff
from ecei_rules.core.terminal import clean
from ecei_rules.engine.decision import Decision
from ecei_rules.explanation.citations import citation_links
from ecei_rules.language.interpreter import parameters as parameter_reads
from ecei_rules.language.interpreter import parse as parse_expression
from ecei_rules.language.interpreter import reads as input_reads
from ecei_rules.registry import OFFICIAL
from ecei_rules.render.diff import about, change_sections, diff_title, summary_rows
from ecei_rules.render.markdown import attribute, code, cut, show, small, table, text, value_range
from ecei_rules.ruleset.bands import class_condition, intervals
from ecei_rules.ruleset.inputs import Field, assessment_schema
from ecei_rules.ruleset.load import Ruleset
from ecei_rules.ruleset.model import (
    ParameterUse,
    RulesetDocument,
    band_criteria,
    parameter_entries,
    ruleset_json_schema,
    score_outcomes,
    selection_line,
    table_entry,
)
from ecei_rules.ruleset.subject import resolve as resolve_subject

#: Where generated pages live in the site (relative to the docs directory).
ROOT = "methodologies"
#: Where the JSON Schemas are written in the built site.
SCHEMA_ROOT = "schema"
#: Where a methodology's written specification lives (``docs/specification/<methodology>.md``).
SPEC_ROOT = "specification"


# -- Markdown helpers -------------------------------------------------------------------------


def anchor(kind: str, ident: str) -> str:
    """A stable HTML id for an item of a version page, e.g. ``criterion-SB-4.1.5``."""
    return f"{kind}-" + re.sub(r"[^A-Za-z0-9._-]", "-", ident)


def fixed_table(kind: str, head: Sequence[str], rows: Iterable[Sequence[str]]) -> list[str]:
    """A table with fixed column widths (``docs/stylesheets/extra.css``, class ``ecei-KIND``)."""
    return [f'<div class="ecei-fixed ecei-{kind}" markdown>', "", *table(head, rows), "</div>", ""]


def admonition(kind: str, title: str, body: str, *, collapsible: bool = False) -> list[str]:
    """A Material admonition (``!!!``) or a collapsed block (``???``)."""
    marker = "???" if collapsible else "!!!"
    return [f'{marker} {kind} "{title}"', "", *(("    " + line) if line else "" for line in body.splitlines()), ""]


def version_ranges(versions: Sequence[str], order: Sequence[str]) -> str:
    """``1.1.0 to 2.0.0, 3.0.1``: the versions as runs of consecutive versions in ``order``."""
    index = {v: i for i, v in enumerate(order)}
    runs: list[list[str]] = []
    for v in sorted(versions, key=index.__getitem__):
        if runs and index[runs[-1][-1]] == index[v] - 1:
            runs[-1].append(v)
        else:
            runs.append([v])
    return ", ".join(r[0] if len(r) == 1 else f"{r[0]} to {r[-1]}" for r in runs)


def page_path(methodology: str, version: str) -> str:
    """The docs path of a version page."""
    return f"{ROOT}/{methodology}/{version}.md"


def changes_path(methodology: str, old: str, new: str) -> str:
    """The docs path of the page of changes between two versions."""
    return f"{ROOT}/{methodology}/changes/{old}-{new}.md"


def provenance_path(methodology: str) -> str:
    """The docs path of a methodology's provenance page."""
    return f"{ROOT}/{methodology}/provenance.md"


def schema_path(methodology: str | None = None, version: str | None = None) -> str:
    """The site path of the ruleset schema (no arguments) or of a version's assessment schema."""
    if methodology is None or version is None:
        return f"{SCHEMA_ROOT}/ruleset.json"
    return f"{SCHEMA_ROOT}/{methodology}/{version}/assessment.json"


def spec_path(methodology: str) -> str:
    """The docs path of a methodology's written specification (a hand-written page, not generated)."""
    return f"{SPEC_ROOT}/{methodology}.md"


def _relative(target: str, start: str) -> str:
    """A link from the page ``start`` to ``target`` (both docs paths)."""
    base = start.split("/")[:-1]
    parts = target.split("/")
    common = 0
    while common < min(len(base), len(parts) - 1) and base[common] == parts[common]:
        common += 1
    return "/".join([".."] * (len(base) - common) + parts[common:])


# -- one version ----------------------------------------------------------------------------


def _reach(doc: RulesetDocument) -> dict[str, set[str]]:
    """Criterion id -> the labels whose tier requires it (directly or through groups and scores)."""
    reached: dict[str, set[str]] = {cid: set() for cid in doc.criteria}

    def walk(ref: str, label: str, seen: set[str]) -> None:
        if ref in seen:
            return
        seen.add(ref)
        if ref in reached:
            reached[ref].add(label)
        elif ref in doc.groups:
            for member in doc.groups[ref].all_of:
                walk(member, label, seen)
        elif _score_of(doc, ref) is not None:
            for member in doc.scores[_score_of(doc, ref) or ""].weights:
                walk(member, label, seen)

    for label, tier in doc.tiers.items():
        for ref in tier.requires:
            walk(ref, label, set())
    return reached


def _ref_link(doc: RulesetDocument, ref: str) -> str:
    if ref in doc.criteria:
        return f"[{text(ref)}](#{anchor('criterion', ref)})"
    if ref in doc.groups:
        return f"[{text(ref)}](#{anchor('group', ref)})"
    owner = _score_of(doc, ref)
    if owner is not None:
        return f"[{text(ref)}](#{anchor('score', owner)})"
    return code(ref)


def _score_of(doc: RulesetDocument, ref: str) -> str | None:
    """The score an outcome id belongs to: the score itself, or the score of a level ``<score>.<level>``."""
    if ref in doc.scores:
        return ref
    for sid, score in doc.scores.items():
        if ref.startswith(sid + ".") and ref[len(sid) + 1:] in score.levels:
            return sid
    return None


def _labels_words(labels: Sequence[str], shown: Callable[[str], str] = text) -> str:
    """``Silver and Gold``: the labels capitalised, each ``shown`` (escaped for Markdown, by default)."""
    names = [shown(label.capitalize()) for label in labels]
    return names[0] if len(names) == 1 else ", ".join(names[:-1]) + " and " + names[-1]


def _provenance(source: str | None, assumed: str | None) -> str:
    if source is not None:
        return f"**sourced**: {text(source)}"
    return f"**assumed**: {text(assumed or '')}"


def _param_cell(doc: RulesetDocument, name: str, note: str | None = None) -> str:
    """A parameter as ``name = value unit``, then its provenance: in full, or as a link to a note."""
    p = parameter_entries(doc)[name]
    unit = f" {text(p.unit)}" if p.unit else ""
    value = f"{len(p.value)} items" if isinstance(p.value, tuple) else show(p.value)
    head = f"[{code(name)}](#{anchor('parameter', name)}) = **{text(value)}**{unit}"
    if note is None:
        return head + small(_provenance(p.source, p.assumed))
    why = attribute(p.source or p.assumed or "")
    return head + small(f'<span title="{why}">{p.provenance}</span> {note}')


class _Notes:
    """Numbered provenance notes under a table: one per distinct citation or reason."""

    def __init__(self, prefix: str, what: str = "thresholds") -> None:
        self.prefix = prefix
        self.what = what
        self.texts: dict[str, int] = {}

    def ref(self, doc: RulesetDocument, name: str) -> str:
        p = parameter_entries(doc)[name]
        body = _provenance(p.source, p.assumed)
        number = self.texts.setdefault(body, len(self.texts) + 1)
        return f"[[{number}]](#{self.prefix}-{number})"

    def render(self) -> list[str]:
        if not self.texts:
            return []
        lines = [f"<small>Provenance of the {self.what} above:</small>", ""]
        lines += [f'{n}. <small id="{self.prefix}-{n}">{body}</small>' for body, n in self.texts.items()]
        return [*lines, ""]


def _criteria_sections(ruleset: Ruleset) -> list[str]:
    doc = ruleset.document
    reached = _reach(doc)
    uses = {c.id: _own_parameters(c.spec.when, c.parameters, doc) if c.derived else [p.name for p in c.parameters]
            for c in ruleset.plan.criteria}
    reads = {c.id: c.derived for c in ruleset.plan.criteria}
    classes = set(band_criteria(doc.bands))
    order = list(doc.labels)
    buckets: dict[tuple[str, ...], list[str]] = {}
    for cid, labels in reached.items():
        if cid not in classes:  # a band's classes are shown with its table of bounds
            buckets.setdefault(tuple(sorted(labels, key=order.index)), []).append(cid)

    def rank(key: tuple[str, ...]) -> tuple[int, int, list[int]]:
        if not key:
            return (2, 0, [])
        return (0 if len(key) == 1 else 1, -len(key), [-order.index(label) for label in key])

    out: list[str] = []
    for key in sorted(buckets, key=rank):
        ids = buckets[key]
        if not key:
            heading, intro = "Criteria no tier requires", "No tier requires these criteria; decisions report them."
            named = heading
        elif len(key) == 1:
            named = f"{key[0].capitalize()} criteria"  # the heading's words, for the notes' ids
            heading = f"{text(key[0].capitalize())} criteria"
            tier = doc.tiers[key[0]]
            counted = f"{len(ids)} {'criterion' if len(ids) == 1 else 'criteria'}"
            intro = (f"Only {text(tier.title)} requires these "
                     f"({counted}; the tier requires {', '.join(_ref_link(doc, r) for r in tier.requires)}).")
        else:
            every = len(key) == len(doc.tiers)
            named = "Criteria every tier requires" if every else f"Criteria {_labels_words(key, str)} require"
            heading = "Criteria every tier requires" if every else f"Criteria {_labels_words(key)} require"
            intro = f"Required by {_labels_words(key)} ({len(ids)} criteria)."
        notes = _Notes("note-" + re.sub(r"[^a-z0-9]+", "-", named.lower()).strip("-"))
        rows = []
        for cid in ids:
            c = doc.criteria[cid]
            title = f'<span id="{anchor("criterion", cid)}"></span>**{text(c.title)}**'
            detail = text(c.clause) if c.clause else ""
            if c.description:
                detail += (" " if detail else "") + text(c.description)
            thresholds = "<br>".join([*(_param_cell(doc, name, notes.ref(doc, name)) for name in uses.get(cid, [])),
                                      *(_derived_link(d) for d in reads.get(cid, ()))])
            rows.append([code(cid), title + small(detail), code(c.when), thresholds or "—"])
        out += [f"### {heading}", "", intro, "", *fixed_table("criteria", ["id", "criterion and clause", "condition",
                                                                        "threshold: value, unit, provenance"], rows)]
        out += notes.render()
    return out


def _own_parameters(expression: str, used: Iterable[ParameterUse], doc: RulesetDocument) -> list[str]:
    """The parameters an expression reads itself, not through the derived values it reads (in the order of
    ``used``, every parameter it reads)."""
    own = _reads(expression, doc)[1]
    return [p.name for p in used if p.name in own]


def _reads(expression: str, doc: RulesetDocument, variables: tuple[str, ...] = ()) -> tuple[list[str], list[str],
                                                                                             list[str]]:
    """What an expression reads itself: input paths (dotted), parameter names and derived value names
    (``variables``: names that are neither, such as a validity rule's ``label``)."""
    parsed = parse_expression(expression)
    inputs: list[str] = []
    derived: list[str] = []
    for pointer in sorted(input_reads(parsed, variables)):
        path = ".".join(part.replace("~1", "/").replace("~0", "~") for part in pointer[1:].split("/"))
        (derived if path in doc.derived else inputs).append(path)
    tables = {name: {key: table_entry(name, key) for key in t.entries()} for name, t in doc.tables.items()}
    return inputs, sorted(parameter_reads(parsed, tables)), derived


def _derived_link(name: str) -> str:
    return f"derived value [{code(name)}](#{anchor('derived', name)})"


def readable(expression: str) -> list[str]:
    """An expression as lines to read: a chain of conditional choices one branch a line
    (``a if c else b if d else e`` as ``a if c``, ``else b if d``, ``else e``), whitespace as one space."""
    parsed = parse_expression(expression)

    def segment(node: ast.AST) -> str:
        return " ".join((ast.get_source_segment(parsed.wrapped, node) or "").split())

    node: ast.AST = parsed.tree
    if not isinstance(node, ast.IfExp):
        return [" ".join(expression.split())]
    lines: list[str] = []
    while isinstance(node, ast.IfExp):
        body = segment(node.body)
        if isinstance(node.body, ast.IfExp):
            body = f"({body})"
        lines.append(("else " if lines else "") + f"{body} if {segment(node.test)}")
        node = node.orelse
    return [*lines, f"else {segment(node)}"]


def _allowed(f: Field) -> list[str]:
    """What an input field allows: its range, values, pattern, catalogue, default and checks."""
    spec = f.spec
    allowed: list[str] = []
    if spec.minimum is not None or spec.maximum is not None:
        allowed.append(value_range(spec.minimum, spec.maximum))
    if f.kind == "enum":
        allowed.append(", ".join(code(v) for v in spec.values or ()))
    if spec.pattern:
        allowed.append("matches " + code(spec.pattern))
    if spec.catalogue:
        target = f"[{text(spec.catalogue)}](#{anchor('catalogue', spec.catalogue)})"
        allowed.append(f"keys: the ids of catalogue {target}" if f.kind == "map"
                       else f"an id of catalogue {target}")
    if spec.default is not None:
        allowed.append("default " + code(json.dumps(spec.default)))
    allowed += ["check " + code(check.rule) for check in spec.checks]
    return allowed


def _input_rows(f: Field, path: str, rows: list[list[str]], doc: RulesetDocument) -> None:
    spec = f.spec
    if path:
        kind = f.kind + (f" ({code(f.type_name)})" if f.type_name else "")
        rows.append([code(path), kind, "yes" if spec.required else "no", "; ".join(_allowed(f)) or "—",
                     text(spec.description or "")])
    if f.kind == "object":
        for name, sub in f.fields.items():
            _input_rows(sub, f"{path}.{name}" if path else name, rows, doc)
    elif f.kind == "list" and f.items is not None:
        _input_rows(f.items, f"{path}[]", rows, doc)
    # a catalogue map's entries are the catalogue's items: listed in the catalogue table


def _item_provenance(item: Any) -> str:
    if item.source is not None:
        return f'<span title="{attribute(item.source)}">sourced</span>'
    return "**assumed**: " + text(item.assumed) if item.assumed is not None else "—"


def _source_block(name: str, source: str) -> list[str]:
    # longer than any run of backticks in the file, so no line of it can close the block (and write Markdown)
    fence = "`" * max(3, 1 + max((len(run) for run in re.findall(r"`+", source)), default=0))
    body = "\n".join([f"{fence}yaml", source.rstrip("\n"), fence])
    return admonition("abstract", f"The file {name}", body, collapsible=True)


def _in_force(doc: RulesetDocument, following: Ruleset | None, here: str) -> str:
    """When a version is in force: from its date to the day before the next published one's, or as the latest;
    for a version chosen by an input's value, within its line (the next version for the same values). A draft or
    a withdrawn version is never in force (nothing is decided under it but to simulate)."""
    if doc.status not in OFFICIAL:
        return (f"never: a {text(doc.status)} version is not in force (its effective date, "
                f"{doc.effective_from.isoformat()}, counts only to simulate: `evaluate --simulate`)")
    chosen = doc.selected_by
    line = f"for {code(chosen.input)} {', '.join(text(v) for v in chosen.values)}: " \
        if chosen is not None and chosen.input is not None else ""
    date = code(chosen.date) if chosen is not None and chosen.date is not None else code("assessed_on")
    in_force = f"{line}{date} from {doc.effective_from.isoformat()}" if chosen is not None \
        else f"from {doc.effective_from.isoformat()}"
    if following is not None and following.document.effective_from > doc.effective_from:
        last = following.document.effective_from - dt.timedelta(days=1)
        link = _relative(page_path(doc.methodology, following.version), here)
        return in_force + f" to {last.isoformat()} (then [{following.version}]({link}))"
    return in_force + (", the latest version" if not line else ", the latest version for these values")


def _selection(doc: RulesetDocument, here: str) -> list[list[str]]:
    """The rows saying how the registry chooses the version (``selected_by``) and whose tests it runs too
    (``tests_from``), when it says so."""
    rows: list[list[str]] = []
    chosen = doc.selected_by
    if chosen is not None:
        parts = [f"{code(chosen.input)} is {' or '.join(text(v) for v in chosen.values)}"] if chosen.input else []
        date = chosen.date or "assessed_on"
        parts.append(f"{code(date)} is on or after its effective date"
                     + (" (not assessed_on)" if chosen.date is not None else ""))
        rows.append(["chosen by", "the registry, when " + " and ".join(parts)
                     + "; of the versions that apply, the latest"])
    lent = doc.tests_from
    if lent is not None:
        version = lent if isinstance(lent, str) else lent.version
        drop = () if isinstance(lent, str) else lent.drop
        rows.append(["tests lent by", f"[{version}]({_relative(page_path(doc.methodology, version), here)}) (its "
                     "embedded tests and fixtures run here too" + (", but " + ", ".join(text(d) for d in drop)
                                                                   if drop else "") + ")"])
    return rows


def _metadata(ruleset: Ruleset, previous: Ruleset | None, following: Ruleset | None, here: str) -> list[str]:
    """The table of a version's metadata: methodology, version, status, dates, approval, hash, links."""
    doc = ruleset.document
    m, v = doc.methodology, doc.version
    meta = [
        ["methodology", f"{code(m)}: {text(doc.title)}"],
        ["version", code(v) + (f" ({declared_bump(previous.version, v)} over [{previous.version}]"
                                f"({_relative(page_path(m, previous.version), here)}))" if previous else "")],
        ["status", text(doc.status)],
        ["effective from", text(doc.effective_from.isoformat())],
        ["in force", _in_force(doc, following, here)],
    ]
    meta += _selection(doc, here)
    if doc.announced_on is not None:
        meta.append(["announced on", doc.announced_on.isoformat()])
    if doc.supersedes is not None:
        meta.append(["supersedes", f"[{doc.supersedes}]({_relative(page_path(m, doc.supersedes), here)})"])
    if doc.labels_from is not None:
        mapped = doc.labels_from
        meta.append(["labels mapped from", f"[{mapped.version}]({_relative(page_path(m, mapped.version), here)}) "
                     "(a rescale: impact compares labels of the two versions by this mapping): "
                     + ", ".join(f"{text(a)} → {text(b)}" for a, b in mapped.map.items())])
    if doc.extends is not None:
        meta.append(["extends", f"{code(doc.extends)} (the file is a merge patch over it)"])
    a = doc.approval
    meta.append(["approval", f"{text(a.body)}, {a.date.isoformat()}" + small(text(a.reference or ""))
                 if a is not None else "none recorded"])
    meta += [
        ["content sha256", code(ruleset.sha256)],
        ["labels", " &lt; ".join(["none", *(text(label) for label in doc.labels)])],
    ]
    subject = resolve_subject(doc)
    meta.append(["subject", f"each decision labels one {text(subject.noun)} (plural: {text(subject.plural)}), its id "
                 f"read from {code('.'.join(subject.id))}" + (f", its name from {code('.'.join(subject.name))}"
                                                            if subject.name is not None else "")
                 + ("" if subject.declared else " (the implied subject: the ruleset declares none)")])
    if previous is not None:
        meta.append(["changes", f"[from {previous.version}]({_relative(changes_path(m, previous.version, v), here)})"])
    meta.append(["assessment schema", f"[{schema_path(m, v)}]({_relative(schema_path(m, v), here)})"])
    return table(["", ""], meta)


def _tiers_section(doc: RulesetDocument) -> list[str]:
    """The tiers, highest first, with what each requires."""
    lines = ["## Tiers", "", "The label is the highest tier that is met; tiers are independent.", ""]
    tier_rows = []
    for label in reversed(doc.labels):
        tier = doc.tiers[label]
        tier_rows.append([f'<span id="{anchor("tier", label)}"></span>{code(label)}', text(tier.title),
                          ", ".join(_ref_link(doc, r) for r in tier.requires) + small(text(tier.description or ""))])
    lines += table(["label", "title", "requires (all of)"], tier_rows)
    return lines


def _readers(ruleset: Ruleset) -> dict[str, list[str]]:
    """Derived value -> links to what reads it directly: criteria, bands, other derived values, validity."""
    doc = ruleset.document
    out: dict[str, list[str]] = {name: [] for name in doc.derived}
    classes = set(band_criteria(doc.bands))
    for c in ruleset.plan.criteria:
        if c.id not in classes:
            for name in c.derived:
                out[name].append(f"criterion {_ref_link(doc, c.id)}")
    for bid, band in doc.bands.items():
        for name in _reads(band.of, doc)[2]:
            out[name].append(f"band [{code(bid)}](#{anchor('band', bid)})")
    for d in ruleset.plan.derived:
        for name in d.derived:
            out[name].append(_derived_link(d.id))
    for name in _reads(doc.validity.valid_from, doc, ("label",))[2]:
        out[name].append(code("valid_from"))
    for rule in doc.validity.rules:
        texts = [rule.when or "", rule.valid_until if rule.expires else ""]
        for name in dict.fromkeys(n for t in texts if t for n in _reads(t, doc, ("label",))[2]):
            out[name].append(f"validity rule [{code(rule.id)}](#{anchor('rule', rule.id)})")
    return out


def _derived_section(ruleset: Ruleset) -> list[str]:
    """The derived values in the order they are computed: type and unit, documentation, the expression
    one branch a line, what each reads itself (inputs, parameters with their provenance, derived
    values) and what reads it."""
    doc = ruleset.document
    if not doc.derived:
        return []
    lines = ["## Derived values", "",
             f"{len(doc.derived)} values computed once per decision, in this order, from the inputs, the parameters "
             "and the values above them; conditions read them by name. A value is *known*, *unknown* (an input it "
             "needs is unknown) or *undefined* (a division by zero, `min` or `max` over no items), and every decision "
             "shows each value with what it read.", ""]
    notes = _Notes("note-derived", "parameters")
    readers = _readers(ruleset)
    rows = []
    for d in ruleset.plan.derived:
        spec = d.spec
        kind = spec.type + (f", {text(spec.unit)}" if spec.unit else "")
        about = " ".join(text(t) for t in (spec.clause, spec.description) if t)
        head = (f'<span id="{anchor("derived", d.id)}"></span>{code(d.id)}<br>**{text(spec.title)}**'
                + small(f"{kind}" + (f". {about}" if about else "")))
        inputs, params, derived = _reads(spec.value, doc)
        reads = [*(_derived_link(name) for name in derived),
                 *(_param_cell(doc, name, notes.ref(doc, name)) for name in params if name in parameter_entries(doc)),
                 *(f"input {code(path)}" for path in inputs)]
        rows.append([head, "<br>".join(code(line) for line in readable(spec.value)), "<br>".join(reads) or "—",
                     "<br>".join(readers[d.id]) or "—"])
    lines += fixed_table("derived", ["derived value", "value", "reads", "read by"], rows)
    lines += notes.render()
    return lines


def _bands_section(ruleset: Ruleset) -> list[str]:
    """Each band: the value it places, its clause and provenance, and its table of classes with each interval
    as written and the labels whose tier requires the class."""
    doc = ruleset.document
    if not doc.bands:
        return []
    reached = _reach(doc)
    order = list(doc.labels)
    lines = ["## Bands", "", "A band places a value into one class by a table of bounds; each class "
             "`<band>.<class>` is met when the value lies in its interval, and is required by tiers like a criterion. "
             "A parenthesis leaves an end out, a bracket takes it in; the classes leave no gap and do not overlap.", ""]
    entries = parameter_entries(doc)
    for bid, band in doc.bands.items():
        unit = f" {text(band.unit)}" if band.unit else ""
        derived = _reads(band.of, doc)[2]
        reading = " (reads " + ", ".join(_derived_link(n) for n in derived) + ")" if derived else ""
        value = _derived_link(band.of.strip()) if band.of.strip() in doc.derived else code(band.of) + reading
        lines += [f'### {text(band.title)} {{#{anchor("band", bid)}}}', "",
                  f"- id {code(bid)}: places {value}{unit} into {len(band.classes)} classes",
                  *([f"- clause: {text(band.clause)}"] if band.clause else []),
                  *(f"- reads {_param_cell(doc, name)}" for name in _reads(band.of, doc)[1] if name in entries),
                  f"- bounds provenance: {_provenance(band.source, band.assumed)}", ""]
        rows = []
        for interval in intervals(band.bounds):  # as written, in the order written (bounds may name parameters)
            cid = f"{bid}.{interval.name}"
            labels = sorted(reached.get(cid, ()), key=order.index)
            rows.append([f'<span id="{anchor("criterion", cid)}"></span>{code(interval.name)}',
                         code(band.bounds[interval.name]), code(class_condition(band.of, interval)) + unit,
                         ", ".join(f"[{code(label)}](#{anchor('tier', label)})" for label in labels) or "no tier"])
        lines += table(["class", "interval as written", "the value placed", "required by the tier of"], rows)
    return lines


def _groups_section(doc: RulesetDocument) -> list[str]:
    """The groups (Kleene conjunctions) with their members."""
    if not doc.groups:
        return []
    lines = ["## Groups", "", "A group is met when all its members are met (Kleene conjunction).", ""]
    rows = []
    for gid, g in doc.groups.items():
        rows.append([f'<span id="{anchor("group", gid)}"></span>{code(gid)}',
                     f"**{text(g.title)}**" + small(text(g.clause or "")),
                     ", ".join(_ref_link(doc, r) for r in g.all_of)])
    lines += table(["id", "group and clause", "all of"], rows)
    return lines


def _score_section(doc: RulesetDocument, sid: str) -> list[str]:
    """One score: its total weight, threshold (or minimum, or levels) and provenance, and its criteria by weight."""
    s = doc.scores[sid]
    total, weighed = _score_total(s)
    lines = [f'### {text(s.title)} {{#{anchor("score", sid)}}}', "",
             f"- id {code(sid)}: {len(s.weights)} criteria{weighed}, total weight **{show(total)}**"]
    for oid, (flat, _) in score_outcomes(doc).items():
        if oid != sid and not (oid.startswith(sid + ".") and oid[len(sid) + 1:] in s.levels):
            continue
        name = flat.threshold if flat.threshold is not None else flat.minimum
        assert name is not None  # the model requires one
        p = parameter_entries(doc)[name]
        value = p.value if isinstance(p.value, (int, Decimal)) and not isinstance(p.value, bool) else None
        needed = None if value is None else (Decimal(str(value)) * total if flat.threshold is not None
                                             else Decimal(str(value)))
        unit = f" {text(p.unit)}" if p.unit else ""
        need = (f"; the met weight must reach **{show(needed.normalize() if needed % 1 else int(needed))}**"
                if needed is not None else "")
        what = "threshold" if flat.threshold is not None else "minimum"
        head = f"- {what}" if oid == sid else f"- level {code(oid)} ({text(flat.title)}), {what}"
        need += _level_tiers(doc, oid, sid)
        lines += [f"{head}: [{code(name)}](#{anchor('parameter', name)}) = **{text(show(p.value))}**{unit}{need}",
                  f"- {what} provenance: {_provenance(p.source, p.assumed)}" if oid == sid
                  else f"    - provenance: {_provenance(p.source, p.assumed)}"]
    lines += [f"- weights provenance: {_provenance(s.source, s.assumed)}",
              *([f"- clause: {text(s.clause)}"] if s.clause else []), ""]
    by_weight: dict[Decimal | int, list[str]] = {}
    for cid, w in s.weights.items():
        by_weight.setdefault(w, []).append(cid)
    rows = [[f"**{show(w)}**", str(len(ids)), show(w * len(ids)),
             ", ".join(_ref_link(doc, cid) for cid in ids)]
            for w, ids in sorted(by_weight.items(), key=lambda kv: -kv[0])]
    return lines + _score_points(s, rows)


def _score_total(s: Any) -> tuple[Any, str]:
    """A score's total weight (its criteria's weights and the maxima of the numbers it weighs), and the words
    for those numbers (empty without them)."""
    total = sum(s.weights.values()) + sum(p.maximum for p in s.points.values())
    return total, (f" and {len(s.points)} numbers weighed as they are" if s.points else "")


def _score_points(s: Any, rows: list[list[str]]) -> list[str]:
    """The table of a score's criteria by weight (``rows``, none for a score of numbers alone), then the numbers
    it weighs as they are: what each counts is its value, from 0 to its maximum."""
    lines = table(["weight", "count", "subtotal", "criteria"], rows) if rows else []
    if not s.points:
        return lines
    return [*lines, "", "Numbers weighed as they are (each adds its value, from 0 up to its maximum):", "",
            *table(["name", "value", "maximum"], [[code(pid), code(p.value), f"**{show(p.maximum)}**"]
                                                  for pid, p in s.points.items()])]


def _level_tiers(doc: RulesetDocument, oid: str, sid: str) -> str:
    """``; required by the tier of gold`` for a level ``oid`` of the score ``sid`` that tiers require."""
    tiers = [f"[{code(t)}](#{anchor('tier', t)})" for t in doc.labels if oid != sid and oid in doc.tiers[t].requires]
    return "; required by the tier of " + ", ".join(tiers) if tiers else ""


def _validity_section(doc: RulesetDocument) -> list[str]:
    """The validity rules, in the order they are tried."""
    lines = ["## Validity", "", f"Valid from {code(doc.validity.valid_from)}. The first rule that applies to the "
             "decided label gives `valid_until` (`label` is the decided label).", ""]
    rows = []
    for i, r in enumerate(doc.validity.rules, 1):
        rows.append([str(i), f'<span id="{anchor("rule", r.id)}"></span>{code(r.id)} {text(r.title)}'
                     + small(text(r.clause or "")),
                     ", ".join(code(label) for label in r.labels), code(r.when) if r.when else "always",
                     code(r.valid_until) if r.expires else "never (no expiry)"])
    lines += fixed_table("rules", ["#", "rule", "labels", "applies when", "valid until"], rows)
    return lines


def _parameters_section(doc: RulesetDocument) -> list[str]:
    """Every parameter with its value, unit and provenance."""
    lines = ["## Parameters", "", f"{sum(p.source is not None for p in parameter_entries(doc).values())} sourced, "
             f"{sum(p.assumed is not None for p in parameter_entries(doc).values())} assumed.", ""]
    rows = []
    for name, p in parameter_entries(doc).items():
        value = show(p.value)
        rows.append([f'<span id="{anchor("parameter", name)}"></span>{code(name)}' + small(text(p.title or "")),
                     f"**{text(value)}**", text(p.unit or ""), _provenance(p.source, p.assumed)])
    lines += fixed_table("parameters", ["parameter", "value", "unit", "provenance"], rows)
    return lines


def _tables_section(ruleset: Ruleset) -> list[str]:
    """Each parameter table, key by key as conditions read it: every key it is keyed by, with its value and the
    entry it reads (its own, or the default), each entry linked to its row under the parameters."""
    doc = ruleset.document
    if not doc.tables:
        return []
    lines = ["### Parameter tables", ""]
    entries = parameter_entries(doc)
    for name, spec in doc.tables.items():
        checked = ruleset.plan.tables.get(name)
        if checked is None:
            continue
        unit = f" ({text(spec.unit)})" if spec.unit else ""
        lines += [f"{code(name)}: {text(spec.title or name)}{unit}, one value for each of "
                  f"{text(checked.keyed_by)} ({len(checked.values)}), read `params.{name}[key]`.", ""]
        rows = []
        for key, value in checked.values.items():
            entry = checked.entries[key]
            p = entries[entry]
            rows.append([code(key), f"**{text(show(value))}**",
                         f"[{code(entry)}](#{anchor('parameter', entry)})" + (" (the default)"
                                                                              if entry.endswith("[*]") else ""),
                         _provenance(p.source, p.assumed)])
        lines += table(["key", "value", "entry", "provenance"], rows)
    return lines


def _inputs_section(ruleset: Ruleset, here: str) -> list[str]:
    """The assessment fields the version reads, its named types and its catalogues."""
    doc = ruleset.document
    m, v = doc.methodology, doc.version
    lines = ["## Inputs", "", "The assessment fields this version reads. An absent optional field is *unknown*, "
             "never a default; a nested field's `required` applies when its parent is present. "
             f"JSON Schema: [{schema_path(m, v)}]({_relative(schema_path(m, v), here)}).", ""]
    rows: list[list[str]] = []
    _input_rows(ruleset.plan.inputs, "", rows, doc)
    lines += fixed_table("inputs", ["field", "type", "required", "allowed", "description"], rows)

    if doc.types:
        lines += ["### Named types", ""]
        rows = []
        for name, t in doc.types.items():
            rows.append([code(name), text(t.type), value_range(t.minimum, t.maximum) or "—", text(t.description or "")])
        lines += table(["type", "base", "range", "description"], rows)

    for cname, cat in doc.catalogues.items():
        lines += [f'### Catalogue {text(cname)} {{#{anchor("catalogue", cname)}}}', "", text(cat.title)
                  + (f" ({len(cat.items)} items)."), ""]
        if cat.source:
            lines += [f"Source: {text(cat.source)}", ""]
        rows = [[code(iid), text(item.title), code(item.type), text(item.category or ""), _item_provenance(item)]
                for iid, item in cat.items.items()]
        lines += table(["id", "title", "type", "category", "provenance"], rows)
    return lines


def _tests_section(doc: RulesetDocument) -> list[str]:
    """The embedded tests, folded away."""
    if not doc.tests:
        return []
    lines = ["## Embedded tests", "", f"{len(doc.tests)} tests embedded in this version, each an assessment "
             "and the decision the methodology requires for it (`ecei-rules test` runs them).", ""]
    rows = [[text(t.name), code(t.expect.label)] for t in doc.tests]
    lines += admonition("example", f"The {len(doc.tests)} embedded tests",
                        "\n".join(table(["test", "label"], rows)), collapsible=True)
    return lines


def version_page(ruleset: Ruleset, *, previous: Ruleset | None = None, following: Ruleset | None = None,
                 source: str | None = None) -> str:
    """The page of one version: metadata, tiers, criteria, groups, scores, validity, parameters, inputs.

    ``previous`` and ``following`` are the neighbouring versions (for links and the period in
    force); ``source`` is the text of the version's file, shown collapsed at the end.
    """
    doc = ruleset.document
    m, v = doc.methodology, doc.version
    here = page_path(m, v)
    lines = ["---", f"title: {json.dumps(f'{m} {v}')}", "---", "", f"# {text(m)} {text(v)}", ""]
    if doc.description:
        lines += [text(doc.description), ""]
    lines += _metadata(ruleset, previous, following, here)
    lines += _tiers_section(doc)
    classes = len(band_criteria(doc.bands))
    count = f"{len(doc.criteria)} criteria" if not classes else \
        f"{len(doc.criteria) - classes} criteria and {classes} classes of [bands](#bands)"
    lines += ["## Criteria", "",
              f"{count}, each met, not met or unknown. Thresholds are parameters, with their "
              "provenance: **sourced** (a citation) or **assumed** (why).", ""]
    lines += _criteria_sections(ruleset)
    lines += _bands_section(ruleset)
    lines += _groups_section(doc)
    if doc.scores:
        lines += ["## Scores", ""]
        for sid in doc.scores:
            lines += _score_section(doc, sid)
    lines += _derived_section(ruleset)
    lines += _validity_section(doc)
    lines += _parameters_section(doc)
    lines += _tables_section(ruleset)
    lines += _inputs_section(ruleset, here)
    lines += _tests_section(doc)
    if source is not None:
        lines += ["## Source", ""]
        lines += _source_block(f"{v}.yaml", source)
    return "\n".join(lines)


# -- changes between two versions -------------------------------------------------------------

def changes_page(diff: Diff) -> str:
    """The changes from one version to the next: the semantic diff's summary and section tables
    (``render.diff``, the tables ``ecei-rules diff --format markdown`` prints), with links to both
    version pages and an anchor on each section."""
    old, new = diff.old, diff.new
    m = new.methodology
    here = changes_path(m, old.version, new.version)

    def version(v: str) -> str:
        return f"[{v}]({_relative(page_path(m, v), here)})"

    front = json.dumps(f"{m} {old.version} → {new.version}", ensure_ascii=False)
    lines = ["---", f"title: {front}", "---", "", f"# {diff_title(diff)}", ""]
    lines += table(["", ""], summary_rows(diff, version=version))
    lines += [f"`ecei-rules diff {m}@{old.version} {m}@{new.version}` prints the same diff (with `--format markdown`, "
              f"these tables); `ecei-rules bump-check {m}@{old.version} {m}@{new.version}` checks the declared bump "
              "by searching for an assessment the two versions decide differently.", ""]
    said = about(diff)
    if said is not None:
        lines += admonition("note", *said)
    lines += change_sections(diff, anchors=True, frame=lambda head, rows: fixed_table("changes", head, rows))
    return "\n".join(lines)


# -- provenance across versions ---------------------------------------------------------------


def _provenance_counts(rulesets: Sequence[Ruleset], link: Callable[[str], str]) -> list[str]:
    """Per version: how many parameters are sourced and assumed, assumed catalogue items and weights."""
    rows = []
    for r in rulesets:
        ps = parameter_entries(r.document).values()
        items = [i for cat in r.document.catalogues.values() for i in cat.items.values()]
        rows.append([link(r.version), str(sum(p.source is not None for p in ps)),
                     str(sum(p.assumed is not None for p in ps)), str(sum(i.assumed is not None for i in items)),
                     ", ".join(code(s) for s, score in r.document.scores.items() if score.assumed) or "—"])
    return table(["version", "sourced parameters", "assumed parameters", "assumed catalogue items",
                  "scores with assumed weights"], rows)


def _parameters_by_provenance(rulesets: Sequence[Ruleset], kind: str, heading: str, here: str) -> list[str]:
    """The parameters that are ``kind`` (assumed or sourced), each distinct value once with its versions."""
    m = rulesets[0].methodology
    order = [r.version for r in rulesets]
    found: dict[tuple[str, str, str, str, str], list[str]] = {}
    for r in rulesets:
        for name, p in parameter_entries(r.document).items():
            why = p.assumed if kind == "assumed" else p.source
            if why is not None:
                key = (name, show(p.value), p.unit or "", p.title or "", why)
                found.setdefault(key, []).append(r.version)
    lines = [f"## {heading}", "", f"{len({k[0] for k in found})} parameters.", ""]
    rows = [[f"[{code(name)}]({_relative(page_path(m, versions[-1]), here)}#{anchor('parameter', name)})"
             + small(text(title)), f"**{text(value)}**", text(unit),
             version_ranges(versions, order), text(why)]
            for (name, value, unit, title, why), versions in sorted(found.items(), key=lambda kv: (
                order.index(kv[1][0]), kv[0][0]))]
    lines += table(["parameter", "value", "unit", "versions", "why assumed" if kind == "assumed" else "citation"],
                   rows)
    return lines


def _assumed_weights(rulesets: Sequence[Ruleset]) -> list[str]:
    """The scores whose weights are assumed, each distinct set of weights once with its versions."""
    order = [r.version for r in rulesets]
    weights: dict[tuple[str, str, str], list[str]] = {}
    for r in rulesets:
        for sid, s in r.document.scores.items():
            if s.assumed is not None:
                summary = ", ".join(f"{n} x {show(w)}" for w, n in sorted(
                    _count(s.weights.values()).items(), key=lambda kv: -kv[0]))
                weights.setdefault((sid, summary, s.assumed), []).append(r.version)
    if not weights:
        return []
    return ["## Assumed weights", "", *table(["score", "weights (criteria x weight)", "versions", "why assumed"],
                                             [[code(sid), text(summary), version_ranges(vs, order), text(why)]
                                              for (sid, summary, why), vs in weights.items()])]


def _assumed_bands(rulesets: Sequence[Ruleset]) -> list[str]:
    """The bands whose bounds are assumed, each distinct table once with its versions."""
    order = [r.version for r in rulesets]
    bands: dict[tuple[str, str, str], list[str]] = {}
    for r in rulesets:
        for bid, band in r.document.bands.items():
            if band.assumed is not None:
                classes = ", ".join(f"{name} {interval}" for name, interval in band.classes.items())
                bands.setdefault((bid, classes, band.assumed), []).append(r.version)
    if not bands:
        return []
    return ["## Assumed band bounds", "", *table(["band", "classes", "versions", "why assumed"],
                                                 [[code(bid), text(classes), version_ranges(vs, order), text(why)]
                                                  for (bid, classes, why), vs in bands.items()])]


def _assumed_items(rulesets: Sequence[Ruleset]) -> list[str]:
    """The catalogue items that are assumed, each once with its versions."""
    order = [r.version for r in rulesets]
    assumed_items: dict[tuple[str, str, str, str], list[str]] = {}
    for r in rulesets:
        for cname, cat in r.document.catalogues.items():
            for iid, item in cat.items.items():
                if item.assumed is not None:
                    assumed_items.setdefault((cname, iid, item.title, item.assumed), []).append(r.version)
    if not assumed_items:
        return []
    return ["## Assumed catalogue items", "", *table(["catalogue", "item", "versions", "why assumed"],
                                                     [[code(c), code(i) + small(text(t)), version_ranges(vs, order),
                                                       text(why)] for (c, i, t, why), vs in assumed_items.items()])]


def provenance_page(rulesets: Sequence[Ruleset]) -> str:
    """Every assumed value of a methodology across its versions (and, after them, the sourced ones)."""
    m = rulesets[0].methodology
    here = provenance_path(m)

    def link(version: str) -> str:
        return f"[{version}]({_relative(page_path(m, version), here)})"

    lines = ["---", f"title: {json.dumps(f'{m} provenance')}", "---", "",
             f"# {text(m)}: what is sourced and what is assumed", "",
             "Every parameter states its provenance: **sourced** with a citation, or **assumed** with the reason "
             "(no public source gives the value). This page collects them across all versions; a value that "
             "stayed the same in several versions is listed once, with the versions that carry it.", ""]
    lines += _provenance_counts(rulesets, link)
    lines += _parameters_by_provenance(rulesets, "assumed", "Assumed parameters", here)
    lines += _assumed_weights(rulesets)
    lines += _assumed_bands(rulesets)
    lines += _assumed_items(rulesets)
    lines += _parameters_by_provenance(rulesets, "sourced", "Sourced parameters", here)
    return "\n".join(lines)


def _count(values: Iterable[Decimal | int]) -> dict[Decimal | int, int]:
    out: dict[Decimal | int, int] = {}
    for v in values:
        out[v] = out.get(v, 0) + 1
    return out


# -- methodology overview -------------------------------------------------------------------


def methodology_page(rulesets: Sequence[Ruleset]) -> str:
    """A methodology's versions: dates, status, approval, bump and hash, with links."""
    m = rulesets[0].methodology
    here = f"{ROOT}/{m}/index.md"
    latest = rulesets[-1].document
    lines = ["---", f"title: {json.dumps(m)}", "---", "", f"# {text(latest.title)}", "",
             f"The methodology {code(m)} labels {text(resolve_subject(latest).plural)}: {len(rulesets)} versions. "
             "Each page below is generated from the "
             "version's ruleset when the site is built.", ""]
    rows = []
    previous: Ruleset | None = None
    for r in rulesets:
        d = r.document
        bump = declared_bump(previous.version, r.version) if previous else "—"
        changes = (f"[from {previous.version}]({_relative(changes_path(m, previous.version, r.version), here)})"
                   if previous else "")
        rows.append([f"[{r.version}]({_relative(page_path(m, r.version), here)})", d.effective_from.isoformat(),
                     text(d.status), text(d.approval.body) if d.approval else "—", bump,
                     ", ".join(text(label) for label in d.labels), code(r.sha256[:12]), changes])
        previous = r
    lines += table(["version", "effective from", "status", "approved by", "bump", "labels", "sha256", "changes"],
                   rows)
    lines += [f"The version in force on a date is the published version with the greatest `effective_from` on "
              f"or before it. Every assumed value: [provenance]({_relative(provenance_path(m), here)}).", ""]
    return "\n".join(lines)


def methodologies_index(methodologies: Mapping[str, Sequence[Ruleset]]) -> str:
    """The list of methodologies."""
    lines = ["# Methodologies", "", "Generated from the rulesets when the site is built.", ""]
    rows = []
    for m, rulesets in methodologies.items():
        latest = rulesets[-1]
        rows.append([f"[{code(m)}]({m}/index.md)", text(latest.document.title), str(len(rulesets)),
                     f"[{latest.version}]({m}/{latest.version}.md)"])
    lines += table(["methodology", "title", "versions", "latest"], rows)
    return "\n".join(lines)


# -- the whole generated set ----------------------------------------------------------------


def _methodology_pages(m: str, rulesets: Sequence[Ruleset], sources: Mapping[tuple[str, str], str]) -> dict[str, str]:
    """The pages of one methodology: its index, provenance, each version and each change."""
    pages = {f"{ROOT}/{m}/index.md": methodology_page(rulesets), provenance_path(m): provenance_page(rulesets)}
    for i, r in enumerate(rulesets):
        previous = rulesets[i - 1] if i else None
        # in force until the next version of its line (the same values of the input that chooses it)
        line = selection_line(r.document)
        following = next((f for f in rulesets[i + 1:]
                          if selection_line(f.document) == line and f.document.status in OFFICIAL), None)
        pages[page_path(m, r.version)] = version_page(
            r, previous=previous, following=following, source=sources.get((m, r.version)))
        if previous is not None:
            pages[changes_path(m, previous.version, r.version)] = changes_page(semantic_diff(previous, r))
    return pages


def site_pages(methodologies: Mapping[str, Sequence[Ruleset]],
               sources: Mapping[tuple[str, str], str] | None = None, *,
               specs: Mapping[str, str] | None = None) -> dict[str, str]:
    """Every generated methodology page: docs path -> Markdown.

    ``methodologies`` maps a methodology id to its versions in semver order; ``sources`` maps
    (methodology, version) to the text of the version's file; ``specs`` maps a methodology id
    to the docs path of its written specification (`spec_path`), whose sections the citations
    "spec section N" of its pages then link to.
    """
    pages = {f"{ROOT}/index.md": methodologies_index(methodologies)}
    for m, rulesets in methodologies.items():
        spec = (specs or {}).get(m)
        for path, markdown in _methodology_pages(m, rulesets, sources or {}).items():
            pages[path] = markdown if spec is None else citation_links(markdown, _relative(spec, path))
    return pages


def site_nav(methodologies: Mapping[str, Sequence[Ruleset]], specs: Mapping[str, str] | None = None) -> list[Any]:
    """The navigation of the generated pages, in mkdocs' ``nav`` form (with each written specification of ``specs``)."""
    nav: list[Any] = [f"{ROOT}/index.md"]
    for m, rulesets in methodologies.items():
        versions = [{r.version: page_path(m, r.version)} for r in rulesets]
        changes = [{f"{a.version} → {b.version}": changes_path(m, a.version, b.version)}
                   for a, b in itertools.pairwise(rulesets)]
        spec = [{"Specification": (specs or {})[m]}] if m in (specs or {}) else []
        nav.append({m: [f"{ROOT}/{m}/index.md", *spec, {"Versions": versions}, {"Changes": changes},
                        {"Provenance": provenance_path(m)}]})
    return nav


def schema_files(methodologies: Mapping[str, Sequence[Ruleset]]) -> dict[str, str]:
    """The JSON Schemas: site path -> JSON text (the ruleset schema and every version's assessment schema)."""
    files = {schema_path(): json.dumps(ruleset_json_schema(), indent=2) + "\n"}
    for m, rulesets in methodologies.items():
        for r in rulesets:
            schema = assessment_schema(r)
            files[schema_path(m, r.version)] = json.dumps(schema, indent=2) + "\n"
    return files


def schema_list(methodologies: Mapping[str, Sequence[Ruleset]], *, page: str, site_url: str | None) -> str:
    """A table of every published schema with its URL (absolute when the site URL is known)."""

    def url(path: str) -> str:
        return (site_url.rstrip("/") + "/" + path) if site_url else _relative(path, page)

    rows = [["ruleset files (every version)", f"[{schema_path()}]({url(schema_path())})"]]
    for m, rulesets in methodologies.items():
        for r in rulesets:
            rows.append([f"{code(m)} {r.version} assessments", f"[{schema_path(m, r.version)}]"
                                                               f"({url(schema_path(m, r.version))})"])
    return "\n".join(table(["schema of", "file"], rows))


# -- a site for one's own rulesets ------------------------------------------------------------

#: The stylesheet of a standalone site: the generated tables with fixed column widths.
SITE_CSS = """\
.md-typeset .ecei-fixed .md-typeset__table { display: block; }
.md-typeset .ecei-fixed table:not([class]) { display: table; table-layout: fixed; width: 100%; }
.md-typeset .ecei-fixed td code { overflow-wrap: anywhere; }
"""
#: The Markdown extensions the generated pages use (admonitions, collapsed blocks, attribute lists, ...).
SITE_EXTENSIONS: list[Any] = ["abbr", "admonition", "attr_list", "def_list", "footnotes", "md_in_html", "tables",
                              {"toc": {"permalink": True}}, "pymdownx.details", "pymdownx.highlight",
                              "pymdownx.inlinehilite", "pymdownx.superfences"]


def site_home(methodologies: Mapping[str, Sequence[Ruleset]], title: str) -> str:
    """The home page of a standalone site: its methodologies, each with its versions."""
    lines = [f"# {text(title)}", "", "Generated from the rulesets by `ecei-rules docs`: one page per version "
             "(tiers, criteria, bands, scores, derived values, validity, parameters with their provenance, inputs, "
             "embedded tests), one per "
             "pair of consecutive versions (the semantic diff) and one on provenance per methodology.", ""]
    rows = [[f"[{code(m)}]({ROOT}/{m}/index.md)", text(rs[-1].document.title),
             ", ".join(f"[{r.version}]({page_path(m, r.version)})" for r in rs)] for m, rs in methodologies.items()]
    lines += table(["methodology", "title", "versions"], rows)
    lines += ["", f"Error codes a ruleset or an assessment can produce: [error codes]({ERRORS_PAGE}).", ""]
    return "\n".join(lines)


#: Where a standalone site keeps its page of error codes.
ERRORS_PAGE = "reference/errors.md"


def standalone_site(methodologies: Mapping[str, Sequence[Ruleset]], sources: Mapping[tuple[str, str], str],
                    errors: str, *, title: str) -> dict[str, str]:
    """Every file of a documentation site for a rulesets directory of one's own, outside this repository:
    path (relative to the site's folder) -> text. ``mkdocs.yml`` (the Material theme and the Markdown
    extensions the pages use, from the ``docs`` extra) and, under ``docs/``, the home page, every page
    `site_pages` makes, the JSON Schemas, the page of error codes (``errors``, from `errors_page`) and
    a stylesheet. ``mkdocs build`` (or ``serve``) in that folder builds it."""
    import yaml

    files = {"docs/index.md": site_home(methodologies, title), f"docs/{ERRORS_PAGE}": errors,
             "docs/stylesheets/rulesets.css": SITE_CSS}
    files.update({f"docs/{path}": page for path, page in site_pages(methodologies, sources).items()})
    files.update({f"docs/{path}": schema for path, schema in schema_files(methodologies).items()})
    # the theme writes the site's name into its HTML as it is (an attribute's value too): escaped here, once
    name = html.escape(clean(" ".join(title.split())), quote=True)
    config = {"site_name": name, "docs_dir": "docs", "theme": {"name": "material"},
              "extra_css": ["stylesheets/rulesets.css"], "markdown_extensions": SITE_EXTENSIONS,
              "nav": [{"Home": "index.md"}, {"Methodologies": site_nav(methodologies)},
                      {"Error codes": ERRORS_PAGE}],
              "validation": {"omitted_files": "warn", "absolute_links": "warn", "unrecognized_links": "warn"}}
    files["mkdocs.yml"] = ("# Generated by ecei-rules docs; build the site with: mkdocs build (pip install "
                           "'ecei-rules[docs]')\n" + yaml.safe_dump(config, sort_keys=False, allow_unicode=True))
    return files


# -- error codes ----------------------------------------------------------------------------

_CODE_GROUPS = (
    ("E0", "Reading the file", "The file itself: its encoding, its YAML, its size. Reported by `ecei-rules validate` "
                               "and by every command that loads a ruleset."),
    ("E1", "The document", "Keys, types and references in the ruleset document."),
    ("E2", "Conditions", "The condition language: syntax, allowed constructs, functions and types."),
    ("E3", "Validity and embedded tests", "Coverage of the validity rules, and embedded tests."),
    ("L", "Lineage, locks and bumps", "The history of a methodology, checked by `ecei-rules lint`."),
    ("A", "Assessments", "An assessment that does not match the inputs a version declares; the diagnostic "
                         "carries the JSON path of the field."),
    ("R", "Requests", "A request no ruleset version answers; a batch's error object carries it with the path "
                      "`$.assessed_on`."),
    ("B", "Batches", "A batch item that failed for a reason no other code names."),
    ("Q", "SQL engine", "What the SQL engine (`--engine sql` of `evaluate` and `impact`, `ecei_rules.query`; the "
                        "`[sql]` extra) cannot decide exactly: a construct of a version it does not compile, or a "
                        "value of an assessment its table cannot hold."),
)


def errors_page(codes: Mapping[str, str], findings: Mapping[str, str] | None = None, *,
                language: str | None = "../language.md#diagnostics") -> str:
    """Every diagnostic code with its summary, one anchor per code (``#e104``); then every code of
    a decision log's finding (``#finding-chain_break``). ``language`` links the language reference
    (None: a site without it)."""
    see = f" The [language reference]({language}) explains the rules behind them." if language else ""
    lines = ["# Error codes", "",
             "Every diagnostic has a stable code; a code is never reused. Ruleset diagnostics read "
             "`file:line:column: CODE message in /json/pointer (suggestion)`; assessment diagnostics name the "
             "JSON path of the field. Each code has its own anchor on this page, e.g. `#e104`." + see, ""]
    seen: set[str] = set()
    for prefix, title, intro in _CODE_GROUPS:
        members = [c for c in codes if re.match(prefix, c)]
        if not members:
            continue
        lines += [f"## {title}", "", intro, ""]
        for c in members:
            seen.add(c)
            lines += [f"### {c} {{#{c.lower()}}}", "", text(codes[c][0].upper() + codes[c][1:]) + ".", ""]
    rest = [c for c in codes if c not in seen]
    if rest:
        lines += ["## Other", ""]
        for c in rest:
            lines += [f"### {c} {{#{c.lower()}}}", "", text(codes[c]) + ".", ""]
    if findings:
        lines += ["## Decision log findings", "",
                  "`verify`, `replay` and `cross-check` report what they find in a decision log with these "
                  "stable codes (the `kind` of each finding in their JSON), each at a record (its `seq`; a "
                  "negative number is a line of a JSONL export).", ""]
        for c, summary in findings.items():
            lines += [f"### `{c}` {{#finding-{c}}}", "", text(summary[0].upper() + summary[1:]) + ".", ""]
    return "\n".join(lines)


# -- the command line: its reference, read from the command line as --help shows it --------------------

PROGRAM = "ecei-rules"
#: The bracketed tail click adds to a parameter's help: ``[default: text]``, ``[required]``, ``[at least 1; required]``.
HELP_TAIL = re.compile(r"\s*\[(?P<items>[^\[\]]*)\]\s*$")


def _group_context(app: Any) -> tuple[Any, Any]:
    import typer.main

    group = typer.main.get_command(app)
    return group, group.context_class(group, info_name=PROGRAM)


def _usage(name: str, command: Any, sub: Any) -> str:
    """A command's usage line, the one ``--help`` prints (arguments by their metavar, optional ones in brackets)."""
    return " ".join([PROGRAM, name, *command.collect_usage_pieces(sub)])


def _param_row(param: Any, ctx: Any) -> tuple[str, list[str]]:
    """A parameter as ``--help`` shows it: its names (an argument by its metavar), its help with the range it
    takes, whether it is required and its default."""
    kind = getattr(param, "param_type_name", "option")
    record = param.get_help_record(ctx)
    names, said = record if record else ("/".join(param.opts), getattr(param, "help", "") or "")
    items: list[str] = []
    tail = HELP_TAIL.search(said)
    if tail is not None:
        items = [i.strip() for i in tail["items"].split(";")]
        said = said[:tail.start()]
    required = bool(param.required) or "required" in items
    default = next((i.removeprefix("default: ") for i in items if i.startswith("default: ")), "")
    rest = [i for i in items if i != "required" and not i.startswith("default: ")]
    meaning = said.strip() + (f" ({'; '.join(rest)})" if rest else "")
    return kind, [code(names), text(meaning) or "—", "yes" if required else "", code(default) if default else ""]


def cli_page(app: Any, *, intro: str | None = None) -> str:
    """The command-line reference, read from the typer app as ``--help`` shows it: each command's help, its
    usage line, its arguments (by their metavar) and its options, with what each requires and defaults to."""
    group, ctx = _group_context(app)
    lines = ["# Command line", "", f"`{PROGRAM}`: {text(group.help or '')}", ""]
    if intro:
        lines += [intro.strip(), ""]
    root_rows = [_param_row(p, ctx)[1] for p in group.get_params(ctx)]
    if root_rows:
        lines += [f"Options of `{PROGRAM}` itself, before a command:", ""]
        lines += table(["option", "meaning", "required", "default"], root_rows)
    commands = _commands(group, ctx)
    lines += ["The commands:", ""]
    lines += table(["command", "what it does"], [
        [f"[{code(n)}](#{n})", text(c.get_short_help_str(120))] for n, c in commands])
    for name, command in commands:
        sub = command.context_class(command, info_name=name, parent=ctx)
        rows = [_param_row(p, sub) for p in command.get_params(sub)]
        lines += [f"## {name} {{#{name}}}", "", text(command.help or ""), "", "```", _usage(name, command, sub),
                  "```", ""]
        arguments = [r for k, r in rows if k == "argument"]
        options = [r for k, r in rows if k != "argument"]
        if arguments:
            lines += table(["argument", "meaning", "required", "default"], arguments)
        if options:
            lines += table(["option", "meaning", "required", "default"], options)
    return "\n".join(lines)


def _commands(group: Any, ctx: Any) -> list[tuple[str, Any]]:
    """The visible commands, in the order ``--help`` lists them."""
    found = [(n, group.get_command(ctx, n)) for n in group.list_commands(ctx)]
    return [(n, c) for n, c in found if c is not None and not c.hidden]


def usage_and_help(app: Any, name: str, *, reference: str) -> str:
    """A command's usage line (as ``--help`` prints it) and help, with a link to its reference; empty when the
    command does not exist."""
    group, ctx = _group_context(app)
    command = dict(_commands(group, ctx)).get(name)
    if command is None:
        return ""
    sub = command.context_class(command, info_name=name, parent=ctx)
    return "\n".join(["```", _usage(name, command, sub), "```", "", text(command.help or ""),
                      f"Every option: [`{PROGRAM} {name}`]({reference}#{name}).", ""])


def command_names(app: Any) -> list[str]:
    """The names of the app's commands."""
    import typer.main

    group = typer.main.get_command(app)
    return [n for n, _ in _commands(group, group.context_class(group, info_name="x"))]


# -- fragments for hand-written pages -------------------------------------------------------


def markdown_section(document: str, heading: str) -> str:
    """The body of the section ``## heading`` of a Markdown document (up to the next heading of its level)."""
    lines = document.splitlines()
    out: list[str] = []
    level = 0
    fence = False
    for line in lines:
        if line.lstrip().startswith("```"):
            fence = not fence
        marks = len(line) - len(line.lstrip("#")) if line.startswith("#") and not fence else 0
        if level:
            if marks and marks <= level:
                break
            out.append(line)
        elif marks and line[marks:].strip() == heading:
            level = marks
    if not level:
        raise LookupError(f"no section '{heading}'")
    return "\n".join(out).strip() + "\n"


#: A Sphinx cross-reference role (``:func:`name```, ``:class:`~pkg.Name```), which Markdown would show raw.
_ROLE = re.compile(r":(?:class|meth|func|data|mod|attr|exc|obj):`(~?)([^`]+)`")


def docstring_body(doc: str | None) -> str:
    """A module docstring without its first paragraph (the summary), as Markdown: each Sphinx role
    becomes inline code of its target (``~`` keeps the last part, as Sphinx shows it)."""
    paragraphs = (doc or "").strip().split("\n\n")
    body = "\n\n".join(p.strip() for p in paragraphs[1:]) + "\n"
    return _ROLE.sub(lambda m: f"`{m[2].rsplit('.', 1)[-1] if m[1] else m[2]}`", body)


def decision_text(decision: Decision, *, width: int = 80) -> str:
    """The text explanation ``ecei-rules evaluate`` prints for a decision, without colour."""
    from rich.console import Console

    from ecei_rules.render.console import print_decision

    buffer = io.StringIO()
    console = Console(file=buffer, width=width, color_system=None, force_terminal=False, highlight=False,
                      soft_wrap=False)
    print_decision(decision, console)
    return "\n".join(line.rstrip() for line in buffer.getvalue().splitlines()) + "\n"


def decision_fragment(decision: Decision, command: str) -> str:
    """What a reader sees on running ``command``: the explanation, the criteria table folded away."""
    full = decision_text(decision)
    head, sep, tail = full.partition("Criteria")
    lines = ["```console", f"$ {command}", head.rstrip(), "```", ""]
    if sep:
        lines += admonition("example", f"The criteria table ({len(decision.criteria)} criteria)",
                            "```text\n" + (sep + tail).rstrip() + "\n```", collapsible=True)
    return "\n".join(lines)


def command_status(available: Sequence[str], wanted: Sequence[str], *, reference: str) -> str:
    """An admonition saying whether commands exist in the command line today, or are planned."""
    present = [w for w in wanted if w in available]
    missing = [w for w in wanted if w not in available]
    if not missing:
        links = ", ".join(f"[`ecei-rules {w}`]({reference}#{w})" for w in present)
        return "\n".join(admonition("success", "Available today", f"This page uses {links}; the reference lists "
                                    "their options, generated from the command line itself."))
    names = ", ".join(f"`ecei-rules {w}`" for w in missing)
    body = (f"Planned: {names} {'is' if len(missing) == 1 else 'are'} not in the command line yet "
            f"(`ecei-rules --help` lists what is). This page describes the intended workflow; it will name the "
            "commands once they exist.")
    if present:
        body += " Available today: " + ", ".join(f"[`ecei-rules {w}`]({reference}#{w})" for w in present) + "."
    return "\n".join(admonition("warning", "Planned", body))


def versions_bumps(rulesets: Sequence[Ruleset], *, page: str) -> str:
    """The declared bump of each version over its predecessor, with what the version says changed."""
    rows = []
    m = rulesets[0].methodology
    for previous, r in itertools.pairwise(rulesets):
        link = _relative(changes_path(m, previous.version, r.version), page)
        rows.append([f"[{previous.version} → {r.version}]({link})",
                     f"**{declared_bump(previous.version, r.version)}**", text(cut(r.document.description or "", 220))])
    return "\n".join(table(["versions", "declared bump", "what the version says changed"], rows))

