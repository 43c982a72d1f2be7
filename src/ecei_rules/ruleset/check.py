"""Check a validated ruleset document before any assessment arrives: names, types, references,
cycles, labels, validity coverage, costs, numbers and date bounds.

Every condition is compiled here once (that is how it is type-checked); what later stages need
of those compilations is kept on the :class:`CheckedRuleset` this returns. The engine builds its
runtime plan from a checked ruleset; nothing here knows about the engine.

Problems are returned as `Diagnostic` (a code, a message, a JSON pointer into the
document and, for conditions, a character offset); the loader turns them into located
diagnostics.
"""

from __future__ import annotations

import ast
import dataclasses
import datetime as dt
from collections.abc import Callable, Collection, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from fractions import Fraction

from ecei_rules.core.pointers import pointer_join
from ecei_rules.errors import Diagnostic, did_you_mean
from ecei_rules.language.cost import Costed, check_costs
from ecei_rules.language.expr import (
    ANY,
    BOOL,
    DATE,
    DEC,
    FUNCTIONS,
    INT,
    STR,
    Compiled,
    Parses,
    Scope,
    Table,
    Ty,
    compile_expression,
    parse,
)
from ecei_rules.ruleset.bands import intervals, parse_interval, plain
from ecei_rules.ruleset.dates import DateBounds, ValiditySpans
from ecei_rules.ruleset.inputs import AssessmentValidator, Field, InputResolver
from ecei_rules.ruleset.model import (
    NONE_LABEL,
    Criterion,
    Derived,
    Group,
    InputSpec,
    Parameter,
    ParameterTable,
    ParameterUse,
    RulesetDocument,
    Score,
    ValidityRule,
    band_criteria,
    parameter_entries,
    parameter_use,
    score_outcomes,
    table_entry,
)
from ecei_rules.ruleset.numbers import add_number_problems
from ecei_rules.ruleset.subject import path_keys

#: The names a condition gives a meaning of its own: no input may take them.
RESERVED_INPUTS = ("params", "label", "true", "false")
#: How many derived values a chain of derived values that read each other may hold (``d1`` reads
#: ``d0``: a chain of two): whatever nests one step per derived value (the SQL engine's query, a
#: subquery per value) goes at most this deep.
MAX_DERIVED_CHAIN = 32
#: How many levels a derived value's expression may nest with each derived value it reads written out
#: in its place (and theirs in theirs): whatever reads an expression through the derived values it
#: names (what an unknown value needs, in each evaluator) goes at most this deep.
MAX_DERIVED_NESTING = 200


@dataclass(frozen=True)
class CriterionPlan:
    """A compiled criterion, with what it reads (sorted) and the parameters it uses."""

    id: str
    spec: Criterion
    compiled: Compiled
    reads: tuple[str, ...]
    parameters: tuple[ParameterUse, ...]
    derived: tuple[str, ...] = ()  # the derived values its condition reads (sorted)


@dataclass(frozen=True)
class GroupPlan:
    """A group: met when every member is met."""

    id: str
    spec: Group


@dataclass(frozen=True)
class PointsPlan:
    """A number a score weighs as it is (``points``): its compiled value, the inputs it reads
    (sorted, through the derived values it reads), the parameters and derived values it reads,
    and the most it adds."""

    id: str
    value: str
    compiled: Compiled
    reads: tuple[str, ...]
    maximum: Decimal | int
    parameters: tuple[ParameterUse, ...]
    derived: tuple[str, ...]


@dataclass(frozen=True)
class ScorePlan:
    """A weighted score over criteria with its threshold parameter: a share of the total weight,
    or (``absolute``) the met weight itself. A level of a score is a plan of its own, whose
    ``spec`` holds the score's weights and the level's threshold (see ``score_outcomes``)."""

    id: str
    spec: Score
    threshold: Decimal | int
    total: Decimal | int
    threshold_use: ParameterUse
    absolute: bool = False
    points: tuple[PointsPlan, ...] = ()  # numbers weighed as they are, in the order written

    @property
    def required(self) -> Fraction:
        """The met weight needed: threshold x total (or the minimum itself), exactly."""
        if self.absolute:
            return Fraction(self.threshold)
        return Fraction(self.threshold) * Fraction(self.total)


@dataclass(frozen=True)
class DerivedPlan:
    """A compiled derived value: what it reads transitively (inputs sorted, parameters by name)
    and the derived values it reads itself (sorted)."""

    id: str
    spec: Derived
    compiled: Compiled
    reads: tuple[str, ...]
    derived: tuple[str, ...]
    parameters: tuple[ParameterUse, ...]


@dataclass(frozen=True)
class RulePlan:
    """A compiled validity rule."""

    spec: ValidityRule
    when: Compiled | None
    valid_until: Compiled | None  # None: valid_until: never (the label does not expire)


@dataclass(frozen=True)
class CheckedRuleset:
    """A ruleset document that passed every check, with what the checks compiled: the input
    tree and its validator, each condition, composites in dependency order, validity rules."""

    doc: RulesetDocument
    inputs: Field
    validator: AssessmentValidator
    criteria: tuple[CriterionPlan, ...]
    composites: tuple[GroupPlan | ScorePlan, ...]  # in dependency order
    valid_from: Compiled
    rules: tuple[RulePlan, ...]
    kinds: Mapping[str, str]  # id -> criterion | group | score
    derived: tuple[DerivedPlan, ...] = ()  # in dependency order
    tables: Mapping[str, Table] = dataclasses.field(default_factory=dict)  # parameter tables, keys resolved
    #: the scope the criteria were compiled in (inputs, parameters, tables, derived values by name): parts of
    #: a condition compiled again in it are what the engine reads of where an evaluation went
    scope: Scope | None = None


def param_type(p: Parameter) -> Ty:
    """The static type of a parameter's value."""
    return value_type(p.value)


def value_type(v: object) -> Ty:
    """The static type of a parameter's (or a table entry's) value."""
    if isinstance(v, bool):
        return BOOL
    if isinstance(v, int):
        return INT
    if isinstance(v, Decimal):
        return DEC
    if isinstance(v, dt.date):
        return DATE
    if isinstance(v, tuple):
        return Ty("list", item=STR, size=len(v))
    return STR


def _date_bounds(doc: RulesetDocument, root: Field, add: Callable[..., None], parses: Parses | None = None) -> None:
    """Bound every date input that month_end shifts (see :mod:`ecei_rules.ruleset.dates`)."""
    bounds = DateBounds(root, {name: p.value for name, p in doc.parameters.items()}, add, parses)
    for name, value in doc.derived.items():
        bounds.expression(value.value, pointer_join("/derived", name, "value"))
    for cid, crit in doc.criteria.items():
        bounds.expression(crit.when, pointer_join("/criteria", cid, "when"))
    bounds.expression(doc.validity.valid_from, "/validity/valid_from")
    for i, rule in enumerate(doc.validity.rules):
        base = pointer_join("/validity/rules", i)
        if rule.when is not None:
            bounds.expression(rule.when, pointer_join(base, "when"))
        if rule.expires:
            bounds.expression(rule.valid_until, pointer_join(base, "valid_until"))

    def checks(f: Field, pointer: str) -> None:
        if f.kind == "object":
            for i, check in enumerate(f.spec.checks):
                bounds.expression(check.rule, pointer_join(pointer, "checks", i, "rule"), f.fields)
            for name, sub in f.fields.items():
                checks(sub, pointer_join(pointer, "fields", name))
        elif f.kind == "list" and f.items is not None:
            checks(f.items, pointer_join(pointer, "items"))

    for name, f in root.fields.items():
        checks(f, pointer_join("/inputs", name))
    bounds.apply()
    _validity_spans(doc, bounds, add)


def _validity_spans(doc: RulesetDocument, bounds: DateBounds, add: Callable[..., None]) -> None:
    """A validity rule that ends before it starts whatever the assessment is E303 (where it
    depends on the assessment, the evaluators refuse that assessment: A007)."""
    spans = ValiditySpans(bounds)
    for i, rule in enumerate(doc.validity.rules):
        found = spans.always_before(rule.valid_until, doc.validity.valid_from) if rule.expires else None
        if found is not None:
            end, start = found
            add("E303", f"the validity rule '{rule.id}' ends before it starts, whatever the assessment: its "
                f"valid_until is at the latest {end.isoformat()}, valid_from at the earliest {start.isoformat()}",
                pointer_join("/validity/rules", i, "valid_until"), None)


_SECTIONS = {"criteria": "criterion", "groups": "group", "scores": "score"}


class _Checker:
    """One pass over a document: each step adds its problems and keeps what it compiled."""

    def __init__(self, doc: RulesetDocument, parses: Parses | None = None) -> None:
        self.doc = doc
        #: conditions parsed, by their text: each is parsed once, however many checks read it
        self.parses: Parses = {} if parses is None else parses
        self.problems: list[Diagnostic] = []
        self.costed: list[Costed] = []  # every compiled condition with how often a decision may run it
        self.root = Field("object", InputSpec(type="object", required=True))
        self.params = {name: (param_type(p), p.value) for name, p in doc.parameters.items()}
        self.kinds: dict[str, str] = {}
        self.tables: dict[str, Table] = {}
        self.entries = parameter_entries(doc)  # parameters and table entries, by the names decisions give them
        #: the version opts into ranges (``unknowns: {derived: ranges}``); every scope says so
        self.ranges = doc.unknowns is not None and doc.unknowns.derived == "ranges"
        self.scope = Scope(inputs={}, params=self.params, ranges=self.ranges)

    def add(self, code: str, message: str, pointer: str, offset: int | None = None,
            suggestion: str | None = None) -> None:
        self.problems.append(Diagnostic(code, message, pointer=pointer, suggestion=suggestion, offset=offset))

    def compile_at(self, text: str, pointer: str, want: Ty, scope: Scope | None = None) -> Compiled | None:
        """``text`` compiled in ``scope`` (the document's by default) if it has the type ``want``."""
        compiled, errors = compile_expression(text, scope or self.scope, self.parses)
        for e in errors:
            self.add(e.code, e.message, pointer, e.offset, e.suggestion)
        if compiled is None or compiled.ty.kind in (want.kind, "any"):
            return compiled
        if want.kind == "decimal" and compiled.ty.numeric:
            return compiled
        self.add("E204", f"this must be a {want.describe()}, but it is a {compiled.ty.describe()}",
                 pointer, 0, "compare it, e.g. x >= params.minimum" if want.kind == "boolean" else None)
        return None

    # -- inputs ------------------------------------------------------------------------------
    def inputs(self) -> None:
        """Resolve the declared inputs into the field tree the validator and conditions use."""
        doc = self.doc
        resolver = InputResolver(doc.types, doc.catalogues)
        for name, spec in doc.inputs.items():
            self.root.fields[name] = resolver.resolve(spec, pointer_join("/inputs", name))
        for code, message, pointer, suggestion in resolver.problems:
            self.add(code, message, pointer, None, suggestion)
        for name in doc.inputs:
            if name in RESERVED_INPUTS:
                self.add("E108", f"the input name '{name}' is reserved in conditions", pointer_join("/inputs", name))
        for cat_id, cat in doc.catalogues.items():
            for item_id, item in cat.items.items():
                if (item.source is None) == (item.assumed is None) and cat.source is None:
                    self.add("E102", "give 'source' or 'assumed' for this catalogue item (or a 'source' for the "
                             "catalogue)", pointer_join("/catalogues", cat_id, "items", item_id))
        for name, table in doc.tables.items():
            self.table(name, table)
        self.scope = Scope(inputs={name: f.ty() for name, f in self.root.fields.items()}, params=self.params,
                           tables=self.tables, ranges=self.ranges)
        for name, f in self.root.fields.items():
            self.object_checks(f, pointer_join("/inputs", name))

    def object_checks(self, f: Field, pointer: str, runs: int = 1, why: str = "") -> None:
        """Compile the consistency checks of object inputs in the object's own scope, as the
        tree is built (a check of an object inside lists runs once per item)."""
        if f.kind == "object":
            for i, check in enumerate(f.spec.checks):
                sc = Scope(inputs={k: sub.ty() for k, sub in f.fields.items()}, params=self.params, tables=self.tables,
                           ranges=self.ranges)
                where = pointer_join(pointer, "checks", i, "rule")
                c = self.compile_at(check.rule, where, BOOL, sc)
                if check.field is not None and check.field not in f.fields:
                    self.add("E104", f"unknown field '{check.field}'", pointer_join(pointer, "checks", i, "field"),
                             None, did_you_mean(check.field, f.fields))
                if c is not None:
                    f.checks.append((c, check.message, check.field))
                    self.costed.append(Costed(where, c, runs, why))
            for name, sub in f.fields.items():
                self.object_checks(sub, pointer_join(pointer, "fields", name), runs, why)
        elif f.kind == "list" and f.items is not None:
            step = f"once per item of {pointer} (up to {f.max_items:,})"
            self.object_checks(f.items, pointer_join(pointer, "items"), runs * max(f.max_items, 1),
                               f"{why} and {step}" if why else step)

    # -- parameter tables ----------------------------------------------------------------------
    def table(self, name: str, table: ParameterTable) -> None:
        """A parameter table: its keys resolved, an entry (or the default) for every key and none
        for any other, its entries of one type, each with a provenance; kept for the scope when sound."""
        where = pointer_join("/tables", name)
        if name in self.doc.parameters:
            self.add("E108", f"'{name}' names both a parameter and a parameter table", where)
            return
        self.tables[name] = Table(ANY, {}, {}, "")  # conditions read it without a cascade of errors
        resolved = self.table_keys(table.keys, pointer_join(where, "keys"))
        if resolved is None:
            return
        keys, keyed_by = resolved
        sound = True
        for key in table.values:
            if key not in keys:
                self.add("E104", f"'{key}' is not a key of the table '{name}' ({keyed_by})",
                         pointer_join(where, "values", key), None, did_you_mean(key, keys))
                sound = False
        missing = [k for k in keys if k not in table.values]
        if missing and table.default is None:
            self.add("E102", f"the table '{name}' has no entry for {', '.join(repr(m) for m in missing)} "
                     f"({keyed_by}) and no default", pointer_join(where, "values"), None,
                     "give each key an entry, or the table a 'default'")
            sound = False
        ty = self.table_type(name, table, where)
        if not sound or ty is None:
            return
        values: dict[str, object] = {}
        entries: dict[str, str] = {}
        for key in keys:
            entry_key = key if key in table.values else "*"
            parameter = table.parameter(entry_key, table.entries()[entry_key])
            values[key], entries[key] = parameter.value, table_entry(name, entry_key)
        self.tables[name] = Table(ty, values, entries, keyed_by)

    def table_type(self, name: str, table: ParameterTable, where: str) -> Ty | None:
        """The one type of a table's entries (whole numbers and decimals: a number), each entry with a
        provenance; None after a problem."""
        types: dict[str, Ty] = {}
        for key, entry in table.entries().items():
            p = table.parameter(key, entry)
            at = pointer_join(where, "default") if key == "*" else pointer_join(where, "values", key)
            if p.source is None and p.assumed is None:
                self.add("E102", f"give 'source' or 'assumed' for this entry of the table '{name}' (or for the "
                         "table)", at)
            types[at] = value_type(p.value)
        kinds = [("number" if t.numeric else t.kind) for t in types.values()]
        if len(set(kinds)) > 1:
            most = max(kinds, key=kinds.count)  # the others are the odd ones out
            plural = {"number": "numbers", "boolean": "booleans", "date": "dates", "string": "strings",
                      "list": "lists"}
            for (at, _), kind in zip(types.items(), kinds, strict=True):
                if kind != most:
                    self.add("E204", f"the entries of the table '{name}' must have one type: this one is a "
                             f"{kind}, the others {plural.get(most, most)}", at)
            return None
        found = list(types.values())
        if found and found[0].numeric:
            return INT if all(t.kind == "integer" for t in found) else DEC
        return found[0] if found else None

    def table_keys(self, keys: tuple[str, ...] | str, where: str) -> tuple[tuple[str, ...], str] | None:
        """A table's keys and what they are (for messages): a list, a declared enum type, a catalogue,
        or the values of an enum or catalogue input (a dotted path through objects and list items)."""
        doc = self.doc
        if not isinstance(keys, str):
            if len(set(keys)) != len(keys) or not keys:
                self.add("E108", "the keys of a table must be listed once each, and at least one", where)
                return None
            return tuple(keys), "its listed keys"
        spec = doc.types.get(keys)
        if spec is not None and spec.type == "enum" and spec.values:
            return tuple(spec.values), f"the values of the type {keys}"
        if keys in doc.catalogues:
            return tuple(doc.catalogues[keys].items), f"the items of the catalogue {keys}"
        return self.enum_input(keys, where)

    def enum_input(self, path: str, where: str) -> tuple[tuple[str, ...], str] | None:
        """The values of the enum (or catalogue) input at a dotted path through objects and list items."""
        doc = self.doc
        f: Field | None = self.root
        for part in path.split("."):
            while f is not None and f.kind == "list":
                f = f.items
            members = f.fields if f is not None and f.kind == "object" else {}
            if part not in members:
                enums = [t for t, v in doc.types.items() if v.type == "enum"]
                self.add("E104", f"the keys '{path}' name no enum type, catalogue or enum input ('{part}' is "
                         "unknown)", where, None, did_you_mean(part, [*members, *doc.catalogues, *enums]))
                return None
            f = members[part]
        ty = f.ty() if f is not None else None
        if ty is None or ty.kind != "string" or not ty.values:
            self.add("E204", f"the keys '{path}' must name an enum or catalogue input, not a "
                     f"{ty.describe() if ty is not None else 'value'}", where)
            return None
        return ty.values, f"the values of {path}"

    # -- ids and criteria ----------------------------------------------------------------------
    def ids(self) -> None:
        """Every criterion, group and score id names one thing."""
        for section, ids in (("criteria", self.doc.criteria), ("groups", self.doc.groups),
                             ("scores", score_outcomes(self.doc))):
            for item_id in ids:
                if item_id in self.kinds:
                    self.add("E108", f"the id '{item_id}' is used by both {self.kinds[item_id]} and {section}",
                             pointer_join("/" + section, item_id))
                self.kinds.setdefault(item_id, _SECTIONS[section])

    def bands(self) -> dict[str, str]:
        """Each band's value is a number; the criteria of its classes are those generated from it
        (an id written under 'criteria' too is a clash). Returns class criterion id -> the pointer
        its problems are reported at (the band's 'of'), without the bands whose value fails."""
        doc = self.doc
        out: dict[str, str] = {}
        generated = band_criteria(doc.bands)
        for bid, band in doc.bands.items():
            where = pointer_join("/bands", bid, "of")
            ok = self.compile_at(band.of, where, DEC) is not None
            ok = self.band_bounds(bid, band.bounds) and ok
            for name in band.classes:
                cid = f"{bid}.{name}"
                if doc.criteria.get(cid) != generated.get(cid):
                    self.add("E108", f"the id '{cid}' is used by both a criterion and the band '{bid}'",
                             pointer_join("/bands", bid, "classes", name))
                elif ok:
                    out[cid] = where
        return out

    def band_bounds(self, bid: str, bounds: dict[str, str]) -> bool:
        """The bounds of a band that name parameters: each a number parameter, and the table, with
        their values, without gaps or overlaps (a table of numbers only was checked by the model)."""
        named = {name: parse_interval(name, text).parameters for name, text in bounds.items()}
        if not any(named.values()):
            return True
        values: dict[str, Decimal] = {}
        for name, parameters in named.items():
            for p in parameters:
                where = pointer_join("/bands", bid, "classes", name)
                value = self.doc.parameters[p].value if p in self.doc.parameters else None
                if p not in self.doc.parameters:
                    self.add("E105", f"unknown parameter '{p}' in the bounds of the class '{name}'", where, None,
                             did_you_mean(p, self.doc.parameters))
                elif isinstance(value, bool) or not isinstance(value, (int, Decimal)):
                    self.add("E204", f"the bound '{p}' of the class '{name}' must be a number parameter, not "
                             f"{param_type(self.doc.parameters[p]).describe()}", where)
                else:
                    values[p] = Decimal(value)
        if len(values) < len({p for ps in named.values() for p in ps}):
            return False
        try:
            intervals(bounds, values)
        except ValueError as exc:
            shown = ", ".join(f"{p} = {plain(v)}" for p, v in sorted(values.items()))
            self.add("E103", f"{exc} (with the parameters {shown})", pointer_join("/bands", bid, "classes"))
            return False
        return True

    def criteria(self) -> tuple[CriterionPlan, ...]:
        doc = self.doc
        out: list[CriterionPlan] = []
        classes = self.bands()
        band_ids = {f"{bid}.{name}" for bid, band in doc.bands.items() for name in band.classes}
        for cid, crit in doc.criteria.items():
            if cid in band_ids and cid not in classes:
                continue  # the band's own problem is reported once, at the band
            where = classes.get(cid) or pointer_join("/criteria", cid, "when")
            c = self.compile_at(crit.when, where, BOOL)
            if c is not None:
                self.costed.append(Costed(where, c))
                uses = tuple(parameter_use(n, self.entries[n]) for n in sorted(c.params))
                out.append(CriterionPlan(cid, crit, c, tuple(sorted(c.reads)), uses,
                                         _derived_read(crit.when, doc.derived, self.parses)))
        return tuple(out)

    # -- derived values ----------------------------------------------------------------------------
    def derived(self) -> tuple[DerivedPlan, ...]:
        """Check the derived values' names, order them by what they read (a cycle is a problem,
        reported once), and compile each, type-checked against its declared type, in a scope
        where every derived value is a name; the criteria and validity rules then see them too."""
        doc = self.doc
        for name in doc.derived:
            clash = ("an input" if name in doc.inputs else "a reserved name" if name in RESERVED_INPUTS
                     else "a function" if name in FUNCTIONS else None)
            if clash is not None:
                self.add("E108", f"the derived value '{name}' has the name of {clash}; choose another",
                         pointer_join("/derived", name))
        uses = {name: _names_used(d.value, self.parses) & set(doc.derived) for name, d in doc.derived.items()}
        # every derived value is a name from the start (no cascade of unknown names after an error)
        known = {name: (_DERIVED_TYPES[d.type], frozenset[str](), frozenset[str]()) for name, d in doc.derived.items()}
        out: list[DerivedPlan] = []
        #: each value's longest chain of derived values down from it (itself included), and the next one on it
        chain: dict[str, tuple[int, str | None]] = {}
        nesting: dict[str, int] = {}  # how deep each one nests, written out
        beyond: set[str] = set()  # past a bound: reported where it is crossed, not again in those that read it
        for name in dependency_order({name: sorted(used) for name, used in uses.items()}, lambda cycle: self.add(
                "E108", "derived values refer to each other in a cycle: " + " -> ".join(cycle),
                pointer_join("/derived", cycle[0], "value"))):
            below = max(((chain[u][0], u) for u in sorted(uses[name]) if u in chain), default=(0, None))
            chain[name] = (below[0] + 1, below[1])
            nesting[name] = _nesting(doc.derived[name].value, nesting, self.parses)
            problem = None if uses[name] & beyond else _too_deep(name, chain, nesting[name])
            if problem is not None or uses[name] & beyond:
                beyond.add(name)
                if problem is not None:
                    self.add("E108", problem, pointer_join("/derived", name, "value"), None,
                             "compute it in fewer steps: one derived value may read several others, and inputs")
                continue
            plan = self.derived_value(name, tuple(sorted(uses[name])), known)
            if plan is not None:
                known[name] = (known[name][0], plan.compiled.reads, plan.compiled.params)
                out.append(plan)
        self.scope = Scope(self.scope.inputs, self.params, derived=known, tables=self.tables, ranges=self.ranges)
        return tuple(out)

    def derived_value(self, name: str, uses: tuple[str, ...],
                      known: Mapping[str, tuple[Ty, frozenset[str], frozenset[str]]]) -> DerivedPlan | None:
        """One derived value compiled (in a scope where those it reads are names) and checked
        against its declared type; None after a problem."""
        spec = self.doc.derived[name]
        where = pointer_join("/derived", name, "value")
        compiled, errors = compile_expression(spec.value, Scope(self.scope.inputs, self.params, derived=known,
                                                                strict=True, tables=self.tables, ranges=self.ranges),
                                              self.parses)
        for e in errors:
            self.add(e.code, e.message, where, e.offset, e.suggestion)
        if compiled is None:
            return None
        want, got = known[name][0], compiled.ty
        if got.kind != "any" and got.kind != want.kind and not (want.kind == "decimal" and got.numeric):
            self.add("E204", f"the derived value '{name}' is declared {spec.type}, but its value is a "
                     f"{got.describe()}", pointer_join("/derived", name, "type"), None,
                     "round it with round(x), floor(x) or ceil(x)" if want.kind == "integer" and got.numeric else None)
            return None
        self.costed.append(Costed(where, compiled))
        return DerivedPlan(name, spec, compiled, tuple(sorted(compiled.reads)), uses,
                           tuple(parameter_use(n, self.entries[n]) for n in sorted(compiled.params)))

    def refs(self, refs: tuple[str, ...], pointer: str) -> None:
        """Each of ``refs`` names a criterion, group or score."""
        for i, ref in enumerate(refs):
            if ref not in self.kinds:
                self.add("E106", f"unknown criterion, group or score '{ref}'", pointer_join(pointer, i),
                         None, did_you_mean(ref, self.kinds))

    # -- groups and scores ---------------------------------------------------------------------
    def threshold(self, name: str, pointer: str, total: Decimal | None = None) -> Decimal | int | None:
        """The value of a score's threshold parameter, if it is a number between 0 and 1; with
        ``total`` (a ``minimum``), a number of points between 0 and the total weight."""
        doc = self.doc
        if name not in doc.parameters:
            self.add("E105", f"unknown parameter '{name}'", pointer, None, did_you_mean(name, doc.parameters))
            return None
        value = doc.parameters[name].value
        where = pointer_join("/parameters", name, "value")
        what = "a number between 0 and 1" if total is None else "a number of points"
        if isinstance(value, bool) or not isinstance(value, (int, Decimal)):
            self.add("E204", f"the threshold parameter '{name}' must be {what}, "
                     f"not {param_type(doc.parameters[name]).describe()} {value!r}", where, None,
                     'a number is written without quotes: 0.8, not "0.8"' if isinstance(value, str) else None)
            return None
        if total is None and not 0 <= value <= 1:
            self.add("E103", f"the threshold parameter '{name}' must lie between 0 and 1 (a share of "
                     f"the total weight), not {value}", where)
            return None
        if total is not None and not 0 <= value <= total:
            self.add("E103", f"the minimum parameter '{name}' must lie between 0 and the total weight "
                     f"{plain(total)} (points that can be reached), not {value}", pointer)
            return None
        return value

    def scores(self) -> dict[str, ScorePlan]:
        doc = self.doc
        for gid, group in doc.groups.items():
            self.refs(group.all_of, pointer_join("/groups", gid, "all_of"))
        for sid, score in doc.scores.items():
            for ref in score.weights:
                if self.kinds.get(ref) != "criterion":
                    self.add("E106", f"'{ref}' is not a criterion", pointer_join("/scores", sid, "weights", ref),
                             None, did_you_mean(ref, doc.criteria))
        points = {sid: self.points(sid, score) for sid, score in doc.scores.items() if score.points}
        parent = {(f"{sid}.{lid}" if score.levels else sid): sid for sid, score in doc.scores.items()
                  for lid in (score.levels or ("",))}
        plans: dict[str, ScorePlan] = {}
        for sid, (score, where) in score_outcomes(doc).items():
            weighed = points.get(parent[sid], ())
            if weighed is None:
                continue  # a value of its points was reported
            total = sum(score.weights.values(), start=Decimal(0)) + sum((p.maximum for p in score.points.values()),
                                                                        start=Decimal(0))
            name = score.threshold if score.threshold is not None else score.minimum
            assert name is not None  # the model requires one of them
            absolute = score.threshold is None
            threshold = self.threshold(name, where, Decimal(total) if absolute else None)
            if threshold is not None:
                plans[sid] = ScorePlan(sid, score, threshold, int(total) if total == int(total) else total,
                                       parameter_use(name, doc.parameters[name]), absolute, weighed)
        return plans

    def points(self, sid: str, score: Score) -> tuple[PointsPlan, ...] | None:
        """The numbers a score weighs (``points``), each compiled as a number in the criteria's scope
        (inputs, parameters, derived values) under a name that is not a criterion it weighs; None
        after a problem."""
        out: list[PointsPlan] = []
        for pid, spec in score.points.items():
            where = pointer_join("/scores", sid, "points", pid)
            if pid in score.weights:
                self.add("E108", f"'{pid}' names both a weighted criterion and points of the score '{sid}'", where)
                continue
            c = self.compile_at(spec.value, pointer_join(where, "value"), DEC)
            if c is not None:
                self.costed.append(Costed(pointer_join(where, "value"), c))
                out.append(PointsPlan(pid, spec.value, c, tuple(sorted(c.reads)), spec.maximum,
                                      tuple(parameter_use(n, self.entries[n]) for n in sorted(c.params)),
                                      _derived_read(spec.value, self.doc.derived, self.parses)))
        return tuple(out) if len(out) == len(score.points) else None

    def order(self) -> list[str]:
        """Groups and scores in dependency order; a cycle is a problem."""
        doc = self.doc
        deps: dict[str, tuple[str, ...]] = {gid: g.all_of for gid, g in doc.groups.items()}
        deps.update({sid: tuple(s.weights) for sid, (s, _) in score_outcomes(doc).items()})

        def cycle(names: tuple[str, ...]) -> None:
            where = (pointer_join("/groups", names[0]) if names[0] in doc.groups
                     else score_outcomes(doc)[names[0]][1].rsplit("/", 1)[0])
            self.add("E108", f"groups refer to each other in a cycle: {' -> '.join(names)}", where)

        return dependency_order(deps, cycle)

    def composites(self) -> tuple[GroupPlan | ScorePlan, ...]:
        scores = self.scores()
        out: list[GroupPlan | ScorePlan] = []
        for node in self.order():
            if node in self.doc.groups:
                out.append(GroupPlan(node, self.doc.groups[node]))
            elif node in scores:
                out.append(scores[node])
        return tuple(out)

    # -- labels, tiers and validity ------------------------------------------------------------
    def labels(self) -> None:
        doc = self.doc
        labels = doc.labels
        if len(set(labels)) != len(labels):
            self.add("E108", "a label is listed twice", "/labels")
        if NONE_LABEL in labels:
            self.add("E108", "'none' is implied below every label; do not list it", "/labels")
        for label in labels:
            if label not in doc.tiers:
                self.add("E102", f"the label '{label}' has no tier under 'tiers'", "/tiers")
        for label, tier in doc.tiers.items():
            if label not in labels:
                self.add("E106", f"the tier '{label}' is not one of the labels", pointer_join("/tiers", label), None,
                         did_you_mean(label, labels))
            self.refs(tier.requires, pointer_join("/tiers", label, "requires"))
        mapping = doc.labels_from
        for old, label in (mapping.map.items() if mapping is not None else ()):
            if label not in (*labels, NONE_LABEL) or (old == NONE_LABEL and label != NONE_LABEL):
                self.add("E106", f"labels_from maps '{old}' to '{label}', which is not one of this version's labels",
                         pointer_join("/labels_from/map", old), None, did_you_mean(label, labels))

    def rule(self, i: int, rule: ValidityRule, scope: Scope) -> RulePlan | None:
        """One validity rule compiled in the scope that knows ``label``."""
        labels = self.doc.labels
        base = pointer_join("/validity/rules", i)
        for j, label in enumerate(rule.labels):
            if label not in labels:
                self.add("E106", f"unknown label '{label}'", pointer_join(base, "labels", j), None,
                         did_you_mean(label, labels))
        when = self.compile_at(rule.when, pointer_join(base, "when"), BOOL, scope) if rule.when else None
        until = self.compile_at(rule.valid_until, pointer_join(base, "valid_until"), DATE, scope) \
            if rule.expires else None
        self.never(i, rule)
        self.costed.extend(Costed(pointer_join(base, key), c) for key, c in (("when", when), ("valid_until", until))
                           if c is not None)
        if (until is not None or not rule.expires) and (rule.when is None or when is not None):
            return RulePlan(rule, when, until)
        return None

    def never(self, i: int, rule: ValidityRule) -> None:
        """A rule with ``valid_until: never``: the word must not also name an input, and its id (by which
        decisions name the rule applied, and whether it expires) must be its own."""
        if rule.expires:
            return
        if "never" in self.doc.inputs:
            self.add("E108", "'valid_until: never' means no expiry, but an input is named 'never' too",
                     pointer_join("/validity/rules", i, "valid_until"), None, "rename the input")
        if [r.id for r in self.doc.validity.rules].count(rule.id) > 1:
            self.add("E108", f"the validity rule id '{rule.id}' is used twice, and this rule has no expiry",
                     pointer_join("/validity/rules", i, "id"))

    def validity(self) -> tuple[Compiled | None, tuple[RulePlan, ...]]:
        doc = self.doc
        scope = Scope(inputs=self.scope.inputs, params=self.params, tables=self.tables,
                      variables={"label": Ty("string", values=tuple(doc.labels))}, derived=self.scope.derived,
                      ranges=self.ranges)
        valid_from = self.compile_at(doc.validity.valid_from, "/validity/valid_from", DATE, scope)
        rules = [self.rule(i, rule, scope) for i, rule in enumerate(doc.validity.rules)]
        covered = {label for rule in doc.validity.rules if rule.when is None for label in rule.labels}
        for label in doc.labels:
            if label not in covered:
                self.add("E301", f"no validity rule without 'when' covers the label '{label}', so its validity "
                         "could be undecided", "/validity/rules", None, "end the list with a rule that has no 'when'")
        if valid_from is not None:
            self.costed.append(Costed("/validity/valid_from", valid_from))
        return valid_from, tuple(r for r in rules if r is not None)

    def subject(self) -> None:
        """The declared subject's id and name name declared string inputs."""
        subject = self.doc.subject
        if subject is None:
            return
        for key, path in (("id", subject.id), ("name", subject.name)):
            if path is None:
                continue
            where = pointer_join("/subject", key)
            f = self.input_at(path, f"the subject's {key}", where)
            if f is not None and f.kind not in ("string", "enum"):
                self.add("E103", f"the subject's {key} '{path}' must be a string input, not {f.ty().describe()}",
                         where)

    def input_at(self, path: str, what: str, where: str) -> Field | None:
        """The declared input a dotted path names; None after a problem (E104, with a suggestion)."""
        f: Field = self.root
        seen: list[str] = []
        for part in path_keys(path):
            members = f.fields if f.kind == "object" else {}
            if part not in members:
                self.add("E104", f"{what} '{path}' is not a declared input: {'.'.join([*seen, part])} is unknown",
                         where, None, did_you_mean(part, members))
                return None
            f = members[part]
            seen.append(part)
        return f

    def selected_by(self) -> None:
        """The inputs that choose the version exist: a date input, and a string or enum input whose
        declared values (an enum's) include every value named."""
        chosen = self.doc.selected_by
        if chosen is None:
            return
        if chosen.date is not None:
            f = self.input_at(chosen.date, "the date that chooses the version", "/selected_by/date")
            if f is not None and f.kind != "date":
                self.add("E103", f"the date that chooses the version, '{chosen.date}', must be a date input, not "
                         f"{f.ty().describe()}", "/selected_by/date")
        if chosen.input is not None:
            f = self.input_at(chosen.input, "the input that chooses the version", "/selected_by/input")
            if f is not None and f.kind not in ("string", "enum"):
                self.add("E103", f"the input that chooses the version, '{chosen.input}', must be a string or enum "
                         f"input, not {f.ty().describe()}", "/selected_by/input")
            elif f is not None and f.kind == "enum":
                allowed = [str(v) for v in f.spec.values or ()]
                for i, value in enumerate(chosen.values):
                    if value not in allowed:
                        self.add("E103", f"'{value}' is not a value of the input '{chosen.input}' (its values: "
                                 f"{', '.join(allowed)})", pointer_join("/selected_by/values", i), None,
                                 did_you_mean(value, allowed))
        if len(set(chosen.values)) != len(chosen.values):
            self.add("E108", "a value is listed twice", "/selected_by/values")

    def whole(self) -> None:
        """Checks of the document as a whole: costs, numbers, date bounds."""
        for cp in check_costs(self.costed):
            self.problems.append(cp)
        add_number_problems(self.doc, self.add)
        _date_bounds(self.doc, self.root, self.add, self.parses)


def labels_from_problems(doc: RulesetDocument, earlier: Sequence[str] | None) -> list[Diagnostic]:
    """The problems of ``labels_from`` against the labels of the version it names (None: that version cannot
    be read): each of its labels mapped, and nothing else."""
    mapping = doc.labels_from
    if mapping is None:
        return []
    base = "/labels_from"
    if earlier is None:
        return [Diagnostic("E106", f"labels_from names version {mapping.version}, which is not beside this file",
                           pointer=f"{base}/version")]
    out = [Diagnostic("E106", f"'{old}' is not a label of version {mapping.version}", pointer=pointer_join(
        f"{base}/map", old), suggestion=did_you_mean(old, earlier)) for old in mapping.map
        if old not in (*earlier, NONE_LABEL)]
    missing = [label for label in earlier if label not in mapping.map]
    if missing:
        out.append(Diagnostic("E102", f"labels_from does not map {', '.join(repr(m) for m in missing)} of version "
                              f"{mapping.version}", pointer=f"{base}/map"))
    return out


def check_document(doc: RulesetDocument, *, parses: Parses | None = None) -> tuple[CheckedRuleset | None,
                                                                                  list[Diagnostic]]:
    """Check ``doc``; return the checked ruleset (None if there were errors) and all problems.
    ``parses``: conditions already parsed, to reuse and keep (a registry passes its own)."""
    checker = _Checker(doc, parses)
    checker.inputs()
    checker.ids()
    derived = checker.derived()
    criteria = checker.criteria()
    composites = checker.composites()
    checker.labels()
    valid_from, rules = checker.validity()
    checker.subject()
    checker.selected_by()
    checker.whole()
    if checker.problems or valid_from is None:
        return None, checker.problems
    root = checker.root
    return CheckedRuleset(doc, root, AssessmentValidator(root), criteria, composites, valid_from, rules,
                          dict(checker.kinds), derived, dict(checker.tables), checker.scope), checker.problems

def check_inputs(doc: RulesetDocument) -> tuple[AssessmentValidator, Mapping[str, str]] | None:
    """The assessment validator and the kinds of the ids, when the inputs are sound though other
    checks failed (the embedded tests' assessments are still checked then); None otherwise."""
    checker = _Checker(doc)
    checker.inputs()
    if any(not d.pointer.startswith("/tables/") for d in checker.problems):  # a table's problem leaves them sound
        return None
    checker.ids()
    return AssessmentValidator(checker.root), dict(checker.kinds)


_DERIVED_TYPES = {"boolean": BOOL, "integer": INT, "decimal": DEC, "date": DATE, "string": STR}


def _derived_read(text: str, derived: Collection[str], parses: Parses) -> tuple[str, ...]:
    """The derived values an expression reads, sorted (a version without any has none to look for)."""
    return tuple(sorted(_names_used(text, parses) & set(derived))) if derived else ()


def _names_used(text: str, parses: Parses | None = None) -> set[str]:
    """The bare names an expression uses (inputs, derived values, loop variables)."""
    tree, _ = parse(text, parses)
    return set() if tree is None else {n.id for n in ast.walk(tree) if isinstance(n, ast.Name)}


def _nesting(text: str, nesting: Mapping[str, int], parses: Parses | None) -> int:
    """How many levels ``text`` nests with each derived value it names written out in its place (its
    depth in ``nesting``; a name not there is counted as itself), counted without recursion."""
    tree, _ = parse(text, parses)
    if tree is None:
        return 0
    deepest = 0
    stack: list[tuple[ast.AST, int]] = [(tree, 1)]
    while stack:
        node, level = stack.pop()
        deepest = max(deepest, level + (nesting.get(node.id, 1) - 1 if isinstance(node, ast.Name) else 0))
        stack.extend((child, level + 1) for child in ast.iter_child_nodes(node)
                     if not isinstance(child, ast.expr_context))
    return deepest


def _too_deep(name: str, chain: Mapping[str, tuple[int, str | None]], nesting: int) -> str | None:
    """Why the derived value ``name`` crosses a bound on derived values that read each other (naming its
    chain), or None."""
    names = [name]
    while (below := chain[names[-1]][1]) is not None:
        names.append(below)
    shown = names[::-1]
    path = " -> ".join(shown) if len(shown) <= 6 else " -> ".join([*shown[:3], "...", *shown[-2:]])
    if len(shown) > MAX_DERIVED_CHAIN:
        return (f"the derived value '{name}' ends a chain of {len(shown)} derived values that read each other "
                f"({path}); a chain holds at most {MAX_DERIVED_CHAIN}")
    if nesting > MAX_DERIVED_NESTING:
        return (f"the derived value '{name}' nests {nesting} levels deep with the derived values it reads (and "
                f"those they read) written out in their places; at most {MAX_DERIVED_NESTING}")
    return None


def dependency_order(uses: Mapping[str, Iterable[str]], cycle: Callable[[tuple[str, ...]], None]) -> list[str]:
    """The names of ``uses``, each after the names it uses (visited in the order given; a name that
    is not a key of ``uses`` is not ordered), in declaration order otherwise; ``cycle`` is told
    each cycle once, as the names along it from where it was entered back to that name. The one
    ordering of derived values, groups and scores (a walk with a stack of its own: a chain of names
    as long as there are names never recurses)."""
    order: list[str] = []
    state: dict[str, int] = {}
    for start in uses:
        if state.get(start) == 2:
            continue
        state[start] = 1
        trail: list[str] = [start]
        pending: list[Iterator[str]] = [iter(uses[start])]
        while pending:
            dep = next(pending[-1], None)
            if dep is None:  # every name it uses is ordered: so is it
                pending.pop()
                node = trail.pop()
                state[node] = 2
                order.append(node)
            elif state.get(dep) == 2 or dep not in uses:
                continue
            elif state.get(dep) == 1:
                cycle((*trail[trail.index(dep):], dep))
            else:
                state[dep] = 1
                trail.append(dep)
                pending.append(iter(uses[dep]))
    return order
