"""The one serialiser of decisions: RFC 8785 canonical JSON of a
:class:`~ecei_rules.engine.decision.Decision`, written directly.

``canonical_json(decision.to_json())`` is the definition (the tests compare with it);
:func:`decision_text` writes it from the models, and the evaluator's text mode writes the same
bytes from the parts its generated code decides, with this module's writers (:func:`middle` of
a criterion, :func:`tail` after the groups) and no other. This gives the same bytes
about ten times faster, because most of a decision is the same from one decision to the next
(titles, clauses, conditions, parameters and their citations, weights): the JSON text of
those parts is remembered, and only the outcomes, the inputs read and the numbers are
written each time. Anything unusual (a number beyond 15 digits, a float in exponent form,
a key outside the Basic Multilingual Plane, a list or object among the inputs read) is
written by :func:`ecei_rules.core.canonical.canonical_json`. The property suite checks the
equality on generated decisions of every shipped version.

The memo tables hold JSON text of immutable values only, and are bounded in entries
(:data:`_LIMIT`) and in estimated bytes (:data:`TABLE_BYTES` each, 48 MiB for the six: an
entry's text at four bytes a character, eight where its key is a value it shows); an entry
estimated above :data:`ENTRY_BYTES` (a long string an assessment holds, an object with many
keys) is written every time, never stored.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any, TypeVar

import rfc8785

from ecei_rules.core.canonical import canonical_json, compact_encoder, number_to_json, to_json, unsafe
from ecei_rules.ruleset.model import ParameterUse

_LIMIT = 20_000
#: Estimated bytes each table may hold, and the largest entry stored.
TABLE_BYTES = 8 * 1024 * 1024
ENTRY_BYTES = 16 * 1024


K = TypeVar("K")
V = TypeVar("V")


class _Table(dict[K, V]):
    """A memo table bounded in entries and in estimated bytes: when full it is emptied (or, with
    ``keep``, stops growing: the values met first, the ruleset's own texts, stay)."""

    __slots__ = ("keep", "used")

    def __init__(self, *, keep: bool = False) -> None:
        super().__init__()
        self.keep = keep
        self.used = 0

    def put(self, key: K, value: V, cost: int) -> None:
        if cost > ENTRY_BYTES:
            return
        if len(self) >= _LIMIT or self.used + cost > TABLE_BYTES:
            if self.keep:
                return
            self.clear()
            self.used = 0
        self[key] = value
        self.used += cost


_strings: _Table[str, str] = _Table(keep=True)
_groups: _Table[tuple[str, str, str, tuple[str, ...]], str] = _Table()
_tiers: _Table[tuple[str, str, str, tuple[str, ...], tuple[str, ...]], str] = _Table()
_criteria: _Table[tuple[str, str, str | None, str], tuple[object, str, str]] = _Table()
_weights: _Table[tuple[tuple[str, Any], ...], str] = _Table()
_fragments: _Table[tuple[Any, ...], str] = _Table()
_layouts: _Table[tuple[Any, ...], tuple[tuple[str, str], ...]] = _Table()
# values whose text depends only on their class and value (equal values, equal text)
_SCALARS = frozenset({str, bool, int, Decimal, dt.date})


def _string(value: str) -> str:
    found = _strings.get(value)
    if found is None:
        found = canonical_json([value])[1:-1].decode("utf-8")
        _strings.put(value, found, 200 + 8 * len(found))  # the value and its text
    return found


def _number(value: Any) -> str:
    n = number_to_json(value) if value.__class__ is not int else value
    if n.__class__ is int and -(10**15) < n < 10**15:
        return str(n)
    if n.__class__ is float:
        text = repr(n)
        if "e" not in text and not text.endswith(".0"):
            return text
    return rfc8785.dumps(n).decode("utf-8")


def _value(value: Any) -> str:
    cls = value.__class__
    if cls is str:
        return _string(value)
    if cls is bool:
        return "true" if value else "false"
    if cls is int or cls is Decimal:
        return _number(value)
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
            return _keyed(value, _value)
        return "[" + ",".join([_value(v) for v in value]) + "]"
    return canonical_json([to_json(value)])[1:-1].decode("utf-8")


def _engine_value(value: Any) -> Any:
    """The JSON value of a date or a decimal inside a list or an object read (else TypeError)."""
    if isinstance(value, dt.date):
        return value.isoformat()
    if value.__class__ is Decimal:
        return number_to_json(value)
    raise TypeError(f"no JSON form for {type(value).__name__} here")


_encode = compact_encoder(_engine_value)


def _keyed(mapping: dict[str, Any], write: Any) -> str:
    keys = tuple(mapping)
    layout = _layouts.get(keys)
    if layout is None:  # the members in canonical order with their '"key":', per set of keys
        if not all(k.__class__ is str and k.isascii() for k in keys):
            return canonical_json({str(k): to_json(v) for k, v in mapping.items()}).decode("utf-8")
        layout = tuple((k, _string(k) + ":") for k in sorted(keys))
        if len(keys) <= 256:
            _layouts.put(keys, layout, 200 + sum([200 + 8 * len(k) for k in keys]))
    return "{" + ",".join([key + write(mapping[k]) for k, key in layout]) + "}"


def _strings_list(values: tuple[str, ...]) -> str:
    return "[" + ",".join(_string(v) for v in values) + "]"


def _parameter(p: ParameterUse) -> str:
    unit = "null" if p.unit is None else _string(p.unit)
    return (f'{{"name":{_string(p.name)},"provenance":{_string(p.provenance)},"source":{_string(p.source)},'
            f'"unit":{unit},"value":{_value(p.value)}}}')


def _parameters(params: tuple[ParameterUse, ...]) -> str:
    """The text of a criterion's parameters (remembered with the criterion's constant parts)."""
    return "[" + ",".join(_parameter(p) for p in params) + "]"


def _nullable(value: str | None) -> str:
    return "null" if value is None else _string(value)


def decision_text(d: Any) -> str:
    """The RFC 8785 canonical JSON text of ``d.to_json()``."""
    out: list[str] = ['{"criteria":[']
    add = out.append
    first = True
    for c in d.criteria:
        if not first:
            add(",")
        first = False
        key = (c.id, c.title, c.clause, c.condition)
        entry = _criteria.get(key)
        if entry is None or entry[0] is not c.parameters:
            entry = (c.parameters,
                     f'{{"clause":{_nullable(c.clause)},"condition":{_string(c.condition)},"id":{_string(c.id)},'
                     '"inputs":',
                     f',"parameters":{_parameters(c.parameters)},"title":{_string(c.title)}}}')
            _criteria.put(key, entry, 300 + 4 * (len(entry[1]) + len(entry[2])))
        inputs = c.inputs
        middle = None
        if len(inputs) == 1:
            ((k, v),) = inputs.items()
            cls = v.__class__
            if cls in _SCALARS:  # the text of one input read, its absence list and the outcome, remembered
                fragment_key = (c.outcome, c.missing, k, cls, v)
                middle = _fragments.get(fragment_key)
                if middle is None:
                    middle = _middle(c)
                    _fragments.put(fragment_key, middle, 300 + 8 * len(middle))  # it shows the value
        add(entry[1])
        add(middle if middle is not None else _middle(c))
        add(entry[2])
    add('],"groups":[')
    add(",".join(_group(g) for g in d.groups))
    add(tail(d.label, d.methodology, d.organisation, d.resolution, d.ruleset_sha256,
             ",".join(_score(s) for s in d.scores), ",".join(_tier(t) for t in d.tiers),
             d.valid_from, d.valid_until, d.validity_inputs, d.validity_rule, d.version))
    return "".join(out)


def tail(label: str, methodology: str, organisation: str | None, resolution: Any, ruleset_sha256: str,
         scores: str, tiers: str, valid_from: dt.date | None, valid_until: dt.date | None,
         validity_inputs: dict[str, Any], validity_rule: str | None, version: str) -> str:
    """A decision's text after its groups (``],"label":...}``), the scores' and tiers' texts given."""
    return "".join((
        '],"label":', _string(label), ',"methodology":', _string(methodology),
        ',"organisation":', _nullable(organisation),
        ',"resolution":{"method":', _string(resolution.method), ',"reason":', _string(resolution.reason),
        '},"ruleset_sha256":', _string(ruleset_sha256), ',"scores":[', scores, '],"tiers":[', tiers,
        '],"valid_from":', _date(valid_from), ',"valid_until":', _date(valid_until),
        ',"validity_inputs":', _keyed(validity_inputs, _value) if validity_inputs else "{}",
        ',"validity_rule":', _nullable(validity_rule), ',"version":', _string(version), "}"))


def _date(value: dt.date | None) -> str:
    return "null" if value is None else f'"{value.isoformat()}"'


def _middle(c: Any) -> str:
    """``{inputs},"missing":[...],"outcome":"..."`` of a criterion result."""
    return middle(c.inputs, c.missing, c.outcome)


def middle(inputs: dict[str, Any], missing: tuple[str, ...], outcome: str) -> str:
    """``{inputs},"missing":[...],"outcome":"..."``: the part of a criterion's text that
    depends on the assessment."""
    if len(inputs) == 1:
        ((k, v),) = inputs.items()
        read = f"{{{_string(k)}:{_value(v)}}}" if k.isascii() else _keyed(inputs, _value)
    else:
        read = _keyed(inputs, _value)
    gone = _strings_list(missing) if missing else "[]"
    return f'{read},"missing":{gone},"outcome":"{outcome}"'


def _group(g: Any) -> str:
    key = (g.id, g.title, g.outcome, g.all_of)
    found = _groups.get(key)
    if found is None:
        found = (f'{{"all_of":{_strings_list(g.all_of)},"id":{_string(g.id)},'
                 f'"outcome":"{g.outcome}","title":{_string(g.title)}}}')
        _groups.put(key, found, 200 + 8 * len(found))  # the key's strings and the text
    return found


def _tier(t: Any) -> str:
    key = (t.label, t.title, t.outcome, t.requires, t.missing)
    found = _tiers.get(key)
    if found is None:
        found = (f'{{"label":{_string(t.label)},"missing":{_strings_list(t.missing)},'
                 f'"outcome":"{t.outcome}","requires":{_strings_list(t.requires)},'
                 f'"title":{_string(t.title)}}}')
        _tiers.put(key, found, 200 + 8 * len(found))  # the key's strings and the text
    return found


def _score(s: Any) -> str:
    return (f'{{"clause":{_nullable(s.clause)},"id":{_string(s.id)},"met_weight":{_number(s.met_weight)},'
            f'"outcome":"{s.outcome}","required_weight":{_number(s.required_weight)},'
            f'"threshold":{_parameter(s.threshold)},"title":{_string(s.title)},'
            f'"total_weight":{_number(s.total_weight)},"unknown_weight":{_number(s.unknown_weight)},'
            f'"weights":{_weights_text(s.weights)},"weights_provenance":{_string(s.weights_provenance)},'
            f'"weights_source":{_string(s.weights_source)}}}')


def _weights_text(weights: dict[str, Any]) -> str:
    key = tuple(weights.items())
    found = _weights.get(key)
    if found is None:
        found = _keyed(weights, _number)
        _weights.put(key, found, 200 + 100 * len(key) + 4 * len(found))
    return found
