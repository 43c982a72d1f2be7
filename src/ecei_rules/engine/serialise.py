"""The one serialiser of decisions: RFC 8785 canonical JSON of a
:class:`~ecei_rules.engine.decision.Decision`, written directly.

``canonical_json(decision.to_json())`` is the definition (the tests compare with it);
:meth:`Serialiser.decision_text` writes it from the models, and the evaluator's text mode writes
the same bytes from the parts its generated code decides, with this module's writers
(:meth:`Serialiser.middle` of a criterion, :meth:`Serialiser.tail` after the groups) and no other.
This gives the same bytes about ten times faster, because most of a decision is the same from one
decision to the next (titles, clauses, conditions, parameters and their citations, weights): the
JSON text of those parts is remembered, and only the outcomes, the inputs read and the numbers
are written each time. Strings are written by the standard library's C encoder, whose text is
the canonical text of a string (a look-up costs more than writing it again); anything unusual (a
number beyond 15 digits, a float in exponent form, a key outside the Basic Multilingual Plane, a
lone surrogate, a list or object among the inputs read) is written by
:func:`ecei_rules.core.canonical.canonical_json`. The property suite checks the equality on
generated decisions of every shipped version.

A :class:`Serialiser` owns its memo tables; nothing is remembered by the process. Each production
evaluator owns one (:attr:`ecei_rules.engine.evaluator.Evaluator.serialiser`), which its text mode
writes with and which the decisions it builds keep, so that their ``canonical_text`` finds it; a
decision made otherwise (the reference evaluator, a model parsed from JSON, a copy) is written by
a serialiser of its own for that one call. The tables hold JSON text of immutable values only,
and are bounded in entries (:data:`_LIMIT`) and in estimated bytes (:data:`TABLE_BYTES` each, 48
MiB for the six of one serialiser: an entry's text at four bytes a character, eight where its key
is a value it shows); an entry estimated above :data:`ENTRY_BYTES` (an object with many keys, a
long string an assessment holds) is written every time, never stored.
"""

from __future__ import annotations

import datetime as dt
import json
import re
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, TypeVar

import rfc8785

from ecei_rules.core.canonical import canonical_json, compact_encoder, number_to_json, to_json, unsafe
from ecei_rules.errors import InputError
from ecei_rules.ruleset.model import ParameterUse
from ecei_rules.ruleset.subject import IMPLIED

_LIMIT = 20_000
#: Estimated bytes each table may hold, and the largest entry stored.
TABLE_BYTES = 8 * 1024 * 1024
ENTRY_BYTES = 16 * 1024


K = TypeVar("K")
V = TypeVar("V")


class _Table(dict[K, V]):
    """A memo table bounded in entries and in estimated bytes: when full it is emptied."""

    __slots__ = ("used",)

    def __init__(self) -> None:
        super().__init__()
        self.used = 0

    def put(self, key: K, value: V, cost: int) -> None:
        if cost > ENTRY_BYTES:
            return
        if len(self) >= _LIMIT or self.used + cost > TABLE_BYTES:
            self.clear()
            self.used = 0
        self[key] = value
        self.used += cost


# values whose text depends only on their class and value (equal values, equal text)
_SCALARS = frozenset({str, bool, int, Decimal, dt.date})
# the standard library's writer of a JSON string (its C accelerator where there is one): with raw
# non-ASCII characters, the same text as RFC 8785 for every string without a lone surrogate
_encode_string: Callable[[str], str] = getattr(json.encoder, "c_encode_basestring", None) \
    or json.encoder.py_encode_basestring
_SURROGATE = re.compile("[\ud800-\udfff]")


def string(value: str) -> str:
    """The canonical text of a string."""
    if value.isascii() or _SURROGATE.search(value) is None:
        return _encode_string(value)
    return canonical_json([value])[1:-1].decode("utf-8")  # raises, as the canonical form does


def number(value: Any) -> str:
    """The canonical text of a number (an int, a Decimal or a Fraction)."""
    n = number_to_json(value) if value.__class__ is not int else value
    if n.__class__ is int and -(10**15) < n < 10**15:
        return str(n)
    if n.__class__ is float:
        text = repr(n)
        if "e" not in text and not text.endswith(".0"):
            return text
    return rfc8785.dumps(n).decode("utf-8")


def _engine_value(value: Any) -> Any:
    """The JSON value of a date or a decimal inside a list or an object read (else TypeError)."""
    if isinstance(value, dt.date):
        return value.isoformat()
    if value.__class__ is Decimal:
        return number_to_json(value)
    raise TypeError(f"no JSON form for {type(value).__name__} here")


_encode = compact_encoder(_engine_value)


def strings_list(values: tuple[str, ...]) -> str:
    """The canonical text of a list of strings."""
    return "[" + ",".join([string(v) for v in values]) + "]"


def nullable(value: str | None) -> str:
    """The canonical text of a string or null."""
    return "null" if value is None else string(value)


def date(value: dt.date | None) -> str:
    """The canonical text of a date or null."""
    return "null" if value is None else f'"{value.isoformat()}"'


class Serialiser:
    """The writer of decisions' canonical text and the memo tables it fills (see the module).

    Safe to share between threads: an entry is a complete text put in one step, and a table that
    is emptied while another thread reads it only costs that thread a write."""

    __slots__ = ("_criteria", "_fragments", "_groups", "_layouts", "_tiers", "_weights")

    def __init__(self) -> None:
        self._groups: _Table[tuple[str, str, str, tuple[str, ...]], str] = _Table()
        self._tiers: _Table[tuple[str, str, str, tuple[str, ...], tuple[str, ...]], str] = _Table()
        self._criteria: _Table[tuple[str, str, str | None, str], tuple[object, str, str]] = _Table()
        self._weights: _Table[tuple[tuple[str, Any], ...], str] = _Table()
        self._fragments: _Table[tuple[Any, ...], str] = _Table()
        self._layouts: _Table[tuple[Any, ...], tuple[tuple[str, str], ...]] = _Table()

    @property
    def tables(self) -> tuple[_Table[Any, Any], ...]:
        """The memo tables (for the tests of their bounds)."""
        return (self._groups, self._tiers, self._criteria, self._weights, self._fragments, self._layouts)

    def value(self, value: Any) -> str:
        """The canonical text of an input's value."""
        cls = value.__class__
        if cls is str:
            return string(value)
        if cls is bool:
            return "true" if value else "false"
        if cls is int or cls is Decimal:
            return number(value)
        if cls is dt.date:
            return f'"{value.isoformat()}"'
        if value is None:
            return "null"
        if cls is list or cls is tuple or cls is dict:
            try:  # the standard library's C encoder, where its text is the canonical text
                text = _encode(value)
            except (TypeError, ValueError):
                text = None
            if text is not None and not unsafe(text):
                return text
            if cls is dict:
                return self.keyed(value, self.value)
            return "[" + ",".join([self.value(v) for v in value]) + "]"
        return canonical_json([to_json(value)])[1:-1].decode("utf-8")

    def keyed(self, mapping: dict[str, Any], write: Callable[[Any], str]) -> str:
        """The canonical text of an object, each member's value written by ``write``."""
        keys = tuple(mapping)
        layout = self._layouts.get(keys)
        if layout is None:  # the members in canonical order with their '"key":', per set of keys
            if not all(k.__class__ is str and k.isascii() for k in keys):
                return canonical_json({str(k): to_json(v) for k, v in mapping.items()}).decode("utf-8")
            layout = tuple((k, string(k) + ":") for k in sorted(keys))
            if len(keys) <= 256:
                self._layouts.put(keys, layout, 200 + sum([200 + 8 * len(k) for k in keys]))
        return "{" + ",".join([key + write(mapping[k]) for k, key in layout]) + "}"

    def parameter(self, p: ParameterUse) -> str:
        """The canonical text of a parameter read."""
        unit = "null" if p.unit is None else string(p.unit)
        return (f'{{"name":{string(p.name)},"provenance":{string(p.provenance)},"source":{string(p.source)},'
                f'"unit":{unit},"value":{self.value(p.value)}}}')

    def parameters(self, params: tuple[ParameterUse, ...]) -> str:
        """The text of a criterion's parameters (remembered with the criterion's constant parts)."""
        return "[" + ",".join([self.parameter(p) for p in params]) + "]"

    def decision_text(self, d: Any) -> str:
        """The RFC 8785 canonical JSON text of ``d.to_json()``."""
        out: list[str] = ['{"criteria":[']
        add = out.append
        criteria, fragments, middle = self._criteria, self._fragments, self.middle
        first = True
        for c in d.criteria:
            if not first:
                add(",")
            first = False
            key = (c.id, c.title, c.clause, c.condition)
            entry = criteria.get(key)
            if entry is None or entry[0] is not c.parameters:
                entry = (c.parameters,
                         f'{{"clause":{nullable(c.clause)},"condition":{string(c.condition)},"id":{string(c.id)},'
                         '"inputs":',
                         f',"parameters":{self.parameters(c.parameters)},"title":{string(c.title)}}}')
                criteria.put(key, entry, 300 + 4 * (len(entry[1]) + len(entry[2])))
            inputs = c.inputs
            text = None
            if len(inputs) == 1:
                ((k, v),) = inputs.items()
                cls = v.__class__
                if cls in _SCALARS:  # the text of one input read, its absence list and the outcome, remembered
                    fragment_key = (c.outcome, c.missing, k, cls, v)
                    text = fragments.get(fragment_key)
                    if text is None:
                        text = middle(inputs, c.missing, c.outcome)
                        fragments.put(fragment_key, text, 300 + 8 * len(text))  # it shows the value
            add(entry[1] if not c.derived else self.with_derived(entry[1], c.derived))
            add(text if text is not None else middle(inputs, c.missing, c.outcome))
            add(entry[2])
        add('],"groups":[' if not d.derived else self.derived_results(d.derived) + ',"groups":[')
        add(",".join([self.group(g) for g in d.groups]))
        add(self.tail(d.label, d.methodology, d.subject, d.resolution, d.ruleset_sha256,
                      ",".join([self.score(s) for s in d.scores]), ",".join([self.tier(t) for t in d.tiers]),
                      d.valid_from, d.valid_until, d.validity_inputs, d.validity_rule, d.version,
                      d.subject_key, d.validity_expires))
        return "".join(out)

    def tail(self, label: str, methodology: str, subject: str | None, resolution: Any, ruleset_sha256: str,
             scores: str, tiers: str, valid_from: dt.date | None, valid_until: dt.date | None,
             validity_inputs: dict[str, Any], validity_rule: str | None, version: str,
             subject_key: str = IMPLIED.key, validity_expires: bool | None = None) -> str:
        """A decision's text after its groups (``],"label":...}``), the scores' and tiers' texts given.
        The subject's id is written under ``subject_key`` (the implied subject's key sorts between
        "methodology" and "resolution", a declared subject's between "scores" and "tiers");
        ``"validity_expires":false`` only for a label that does not expire."""
        member = f',{string(subject_key)}:{nullable(subject)}'
        early = subject_key < "resolution"
        return "".join((
            '],"label":', string(label), ',"methodology":', string(methodology), member if early else "",
            ',"resolution":{"method":', string(resolution.method), ',"reason":', string(resolution.reason),
            '},"ruleset_sha256":', string(ruleset_sha256), ',"scores":[', scores, "]", "" if early else member,
            ',"tiers":[', tiers, '],"valid_from":', date(valid_from), ',"valid_until":', date(valid_until),
            "" if validity_expires is None else ',"validity_expires":false',
            ',"validity_inputs":', self.keyed(validity_inputs, self.value) if validity_inputs else "{}",
            ',"validity_rule":', nullable(validity_rule), ',"version":', string(version), "}"))

    def middle(self, inputs: dict[str, Any], missing: tuple[str, ...], outcome: str) -> str:
        """``{inputs},"missing":[...],"outcome":"..."``: the part of a criterion's text that
        depends on the assessment."""
        if len(inputs) == 1:
            ((k, v),) = inputs.items()
            read = f"{{{string(k)}:{self.value(v)}}}" if k.isascii() else self.keyed(inputs, self.value)
        else:
            read = self.keyed(inputs, self.value)
        gone = strings_list(missing) if missing else "[]"
        return f'{read},"missing":{gone},"outcome":"{outcome}"'

    # -- derived values (written only for a ruleset that declares them) ------------------------------
    def with_derived(self, head: str, values: dict[str, Any]) -> str:
        """A criterion's text up to its inputs (``{"clause":...,"id":...,"inputs":``) with the
        derived values it read (``"derived":{...}``) in their place, before its id."""
        at = head.index(',"id":') + 1  # a JSON string escapes its quotes: the first one is the key
        return head[:at] + self.derived_read(values) + head[at:]

    def derived_read(self, values: dict[str, Any]) -> str:
        """``"derived":{id: value},``: the derived values a criterion read."""
        return '"derived":' + self.keyed(values, self.value) + ","

    def derived_results(self, results: tuple[Any, ...]) -> str:
        """``],"derived":[...]``: the text of a decision's derived values after its criteria."""
        return '],"derived":[' + ",".join([self.derived_result(r) for r in results]) + "]"

    def derived_result(self, r: Any) -> str:
        """A derived value's text."""
        return (f'{{"derived":{strings_list(r.derived)},"expression":{string(r.expression)},"id":{string(r.id)},'
                f'"inputs":{self.keyed(r.inputs, self.value) if r.inputs else "{}"},'
                f'"missing":{strings_list(r.missing)},"outcome":"{r.outcome}",'
                f'"parameters":{self.parameters(r.parameters)},'
                f'{self.between(r.range) if r.range is not None else ""}"reason":{nullable(r.reason)},'
                f'"title":{string(r.title)},"unit":{nullable(r.unit)},"value":{self.value(r.value)}}}')

    def between(self, ends: tuple[Any, Any]) -> str:
        """``"range":[lo,hi],``: the range of an unknown derived value, when it has one."""
        return f'"range":[{self.value(ends[0])},{self.value(ends[1])}],'

    def group(self, g: Any) -> str:
        """A group result's text."""
        key = (g.id, g.title, g.outcome, g.all_of)
        found = self._groups.get(key)
        if found is None:
            found = (f'{{"all_of":{strings_list(g.all_of)},"id":{string(g.id)},'
                     f'"outcome":"{g.outcome}","title":{string(g.title)}}}')
            self._groups.put(key, found, 200 + 8 * len(found))  # the key's strings and the text
        return found

    def tier(self, t: Any) -> str:
        """A tier result's text."""
        key = (t.label, t.title, t.outcome, t.requires, t.missing)
        found = self._tiers.get(key)
        if found is None:
            found = (f'{{"label":{string(t.label)},"missing":{strings_list(t.missing)},'
                     f'"outcome":"{t.outcome}","requires":{strings_list(t.requires)},'
                     f'"title":{string(t.title)}}}')
            self._tiers.put(key, found, 200 + 8 * len(found))  # the key's strings and the text
        return found

    def score(self, s: Any) -> str:
        """A score result's text."""
        return (f'{{"clause":{nullable(s.clause)},"id":{string(s.id)},"met_weight":{number(s.met_weight)},'
                f'"outcome":"{s.outcome}",{self.points(s.points) if s.points else ""}'
                f'"required_weight":{number(s.required_weight)},'
                f'"threshold":{self.parameter(s.threshold)},"title":{string(s.title)},'
                f'"total_weight":{number(s.total_weight)},"unknown_weight":{number(s.unknown_weight)},'
                f'"weights":{self.weights(s.weights)},"weights_provenance":{string(s.weights_provenance)},'
                f'"weights_source":{string(s.weights_source)}}}')

    def points(self, points: dict[str, Any]) -> str:
        """``"points":{...},``: the numbers a score weighs as they are (written only when it has them)."""
        return '"points":' + self.keyed(points, self.points_entry) + ","

    def points_entry(self, p: Any) -> str:
        """One number a score weighs as it is."""
        return (f'{{"counted":{"null" if p.counted is None else number(p.counted)},'
                f'"expression":{string(p.expression)},"maximum":{number(p.maximum)},"value":{self.value(p.value)}}}')

    def weights(self, weights: dict[str, Any]) -> str:
        """A score's weights' text."""
        key = tuple(weights.items())
        found = self._weights.get(key)
        if found is None:
            found = self.keyed(weights, number)
            self._weights.put(key, found, 200 + 100 * len(key) + 4 * len(found))
        return found


def decision_text(d: Any, serialiser: Serialiser | None = None) -> str:
    """The RFC 8785 canonical JSON text of ``d.to_json()``, written by ``serialiser`` (by default a
    new one, whose tables last for this one decision)."""
    return (serialiser or Serialiser()).decision_text(d)


# -- output selection: the members of a decision's JSON a caller asks for (--fields) -----------------

#: The members of a decision's JSON that a selection names, each with the members of its object (or of
#: each object of its list) that a dotted name selects (``tiers.outcome``); () for a value selected
#: whole only. ``subject`` is the subject's id, written under the key the whole decision uses
#: (``subject``, or the implied subject's key for a ruleset that declares none; that key, and either
#: key with ``.id``, name it too).
DECISION_FIELDS: dict[str, tuple[str, ...]] = {
    "criteria": ("clause", "condition", "derived", "id", "inputs", "missing", "outcome", "parameters", "title"),
    "derived": ("derived", "expression", "id", "inputs", "missing", "outcome", "parameters", "range", "reason",
                "title", "unit", "value"),
    "groups": ("all_of", "id", "outcome", "title"),
    "label": (),
    "methodology": (),
    "resolution": ("method", "reason"),
    "ruleset_sha256": (),
    "scores": ("clause", "id", "met_weight", "outcome", "points", "required_weight", "threshold", "title",
               "total_weight", "unknown_weight", "weights", "weights_provenance", "weights_source"),
    "subject": (),
    "tiers": ("label", "missing", "outcome", "requires", "title"),
    "valid_from": (),
    "valid_until": (),
    "validity_expires": (),
    "validity_inputs": (),
    "validity_rule": (),
    "version": (),
}
#: The members written without the decision's trace: a selection of these alone is decided in label
#: mode (no criterion, group, score or tier result is built).
UNTRACED = frozenset({"label", "methodology", "resolution", "ruleset_sha256", "subject", "valid_from",
                      "valid_until", "validity_expires", "validity_inputs", "validity_rule", "version"})
#: The named selections: ``label`` is the label and its validity; ``summary`` every member but the
#: trace (criteria, derived, groups, scores, tiers); ``full`` the whole decision (the default).
PROFILES: dict[str, tuple[str, ...] | None] = {
    "label": ("label", "valid_from", "valid_until", "validity_expires"),
    "summary": ("label", "methodology", "resolution", "ruleset_sha256", "subject", "valid_from", "valid_until",
                "validity_expires", "validity_inputs", "validity_rule", "version"),
    "full": None,
}


class FieldsError(InputError, ValueError):
    """A selection that names a member a decision does not have (the message lists those it has)."""


@dataclass(frozen=True)
class Fields:
    """A selection of a decision's members: each member named (in key order) with None (the whole
    member) or the members of it selected.

    Its text is the canonical JSON of the selected members: each selected member's text is the text
    it has in the whole decision, in the same order (RFC 8785 sorts members by key); a member the
    decision does not have (``validity_expires`` of a label that expires, ``derived`` of a ruleset
    without derived values) is left out, as in the whole decision."""

    members: tuple[tuple[str, tuple[str, ...] | None], ...]

    @property
    def untraced(self) -> bool:
        """Whether every member selected is written without the trace (see `UNTRACED`)."""
        return all(name in UNTRACED for name, _ in self.members)

    def select(self, doc: dict[str, Any]) -> dict[str, Any]:
        """The selected members of a decision's JSON values (``Decision.to_json()``)."""
        out: dict[str, Any] = {}
        for name, sub in self.members:
            key = name if name != "subject" or name in doc else IMPLIED.key
            if key not in doc:
                continue
            value = doc[key]
            if sub is not None:
                value = [_pick(v, sub) for v in value] if isinstance(value, list) else _pick(value, sub)
            out[key] = value
        return out

    def text(self, doc: dict[str, Any]) -> str:
        """The canonical JSON text of the selected members of a decision's JSON values: each member
        written on its own (a string, a date, null, a boolean or a small integer directly, anything
        else as canonical JSON), in the key order of RFC 8785."""
        parts = sorted((key.encode("utf-16-be"), key, value) for key, value in self.select(doc).items())
        return "{" + ",".join(f"{_scalar(key)}:{_scalar(value)}" for _, key, value in parts) + "}"


def _scalar(value: Any) -> str:
    """The canonical JSON text of one value: a plain string (printable ASCII without a quote or a
    backslash), null, a boolean or an integer an IEEE double holds written directly; anything else by
    the canonical writer."""
    cls = value.__class__
    if cls is str:
        if value.isascii() and value.isprintable() and '"' not in value and "\\" not in value:
            return f'"{value}"'
    elif value is None:
        return "null"
    elif cls is bool:
        return "true" if value else "false"
    elif cls is int and -_EXACT < value < _EXACT:
        return str(value)
    try:
        return canonical_json(value).decode("utf-8")
    except rfc8785.IntegerDomainError:  # a whole number beyond 2^53 read back from a decision's text, where it was
        return canonical_json(_doubles(value)).decode("utf-8")  # written as a double: written as that double again


def _doubles(value: Any) -> Any:
    """``value`` with each integer beyond 2^53 in magnitude as the double it was read from (see `_scalar`)."""
    if value.__class__ is int and not -_EXACT < value < _EXACT:
        return float(value)
    if isinstance(value, dict):
        return {k: _doubles(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_doubles(v) for v in value]
    return value


#: Integers below this in magnitude are written as their digits (RFC 8785 writes them as doubles).
_EXACT = 2**53


def _pick(value: dict[str, Any], sub: tuple[str, ...]) -> dict[str, Any]:
    return {k: value[k] for k in sub if k in value}


def field_names() -> list[str]:
    """Every name a selection may use: the members, then the dotted members of each."""
    names = [*DECISION_FIELDS, IMPLIED.key]
    names += [f"{name}.{sub}" for name, subs in DECISION_FIELDS.items() for sub in subs]
    return names


def parse_fields(spec: str) -> Fields | None:
    """The selection a person writes: a profile (``label``, ``summary``, ``full``: see `PROFILES`) or a
    comma list of members and dotted members (``label,valid_until``, ``label,subject,tiers.outcome``);
    None for the whole decision (``full``).

    Raises:
        FieldsError: a name no decision member has, with the nearest names and every name allowed.
    """
    spec = spec.strip()
    if spec in PROFILES:
        profile = PROFILES[spec]
        return None if profile is None else Fields(tuple((name, None) for name in profile))
    chosen: dict[str, tuple[str, ...] | None] = {}
    names = [name.strip() for name in spec.split(",")]
    if not any(names):
        raise FieldsError(f"no field named; {_allowed()}")
    for name in filter(None, names):
        member, sub = _member(name)
        if not sub or chosen.get(member, ()) is None:
            chosen[member] = None
        else:
            chosen[member] = tuple(sorted({*(chosen.get(member) or ()), sub}))
    return Fields(tuple(sorted(chosen.items())))


def _member(name: str) -> tuple[str, str]:
    """The member a name selects and the dotted member of it ('' for the whole member)."""
    member, _, sub = name.partition(".")
    if member in ("subject", IMPLIED.key):  # the subject's id, whatever key it is written under
        member, sub = "subject", "" if sub == "id" else sub
    if member not in DECISION_FIELDS or (sub and sub not in DECISION_FIELDS[member]):
        raise FieldsError(_unknown(name, member))
    return member, sub


def _unknown(name: str, member: str) -> str:
    import difflib

    if member in DECISION_FIELDS and not DECISION_FIELDS[member]:
        return f"'{member}' is selected whole, not by its members: write '{member}', not '{name}'; {_allowed()}"
    if name in PROFILES:
        return f"'{name}' is a profile: give it alone (--fields {name}), not in a list of fields; {_allowed()}"
    near = difflib.get_close_matches(name, list(dict.fromkeys(field_names() + list(PROFILES))), n=3, cutoff=0.6)
    hint = f" (did you mean {' or '.join(repr(n) for n in near)}?)" if near else ""
    return f"unknown field '{name}'{hint}; {_allowed()}"


def _allowed() -> str:
    members = ", ".join(sorted([*DECISION_FIELDS, IMPLIED.key]))
    dotted = "; ".join(f"{name}.{{{','.join(subs)}}}" for name, subs in DECISION_FIELDS.items() if subs)
    return (f"the fields are {members}; the dotted fields {dotted}; or one profile: "
            f"{', '.join(PROFILES)}")
