"""The semantic diff of two ruleset versions: what changed, section by section, and
whether each change can alter a decision.

Inputs are compared as their resolved schema (named types and catalogues expanded), so a
change to a named type shows at every field that uses it; conditions are compared in
their normalised form, so re-formatting is not a change.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any, Literal

from ecei_rules.core.canonical import to_json
from ecei_rules.core.pointers import pointer_join
from ecei_rules.language.expr import normalize
from ecei_rules.ruleset.bands import parse_interval
from ecei_rules.ruleset.inputs import Field
from ecei_rules.ruleset.load import Ruleset
from ecei_rules.ruleset.model import band_intervals, parameter_entries, score_outcomes

Kind = Literal["added", "removed", "changed"]
Effect = Literal["none", "compatible", "breaking"]
SECTIONS = ("metadata", "inputs", "catalogues", "parameters", "tables", "derived", "criteria", "groups", "scores",
            "bands", "labels", "tiers", "validity")


@dataclass(frozen=True)
class Change:
    """One semantic change between two versions."""

    section: str
    kind: Kind
    id: str  # the item (an input path, a parameter name, a criterion id, ...)
    attribute: str | None  # what changed about it (None for added or removed items)
    old: Any
    new: Any
    decides: bool  # whether the change can alter a decision (label or validity)
    schema: Effect = "none"  # effect on the assessment schema

    def describe(self) -> str:
        """One readable line."""
        what = f"{self.section} {self.id}"
        if self.kind == "added":
            return f"{what}: added" + (f" ({_short(self.new)})" if self.new is not None else "")
        if self.kind == "removed":
            return f"{what}: removed"
        return f"{what}: {self.attribute} {_short(self.old)} -> {_short(self.new)}"

    def to_json(self) -> dict[str, Any]:
        """The change as JSON."""
        return {"section": self.section, "kind": self.kind, "id": self.id, "attribute": self.attribute,
                "old": to_json(self.old), "new": to_json(self.new), "decides": self.decides,
                "schema": self.schema}


def _short(value: Any) -> str:
    shown = to_json(value)  # a mapping or a list as JSON text, never as Python writes it
    text = json.dumps(shown, ensure_ascii=False) if isinstance(shown, (dict, list)) else str(shown)
    return text if len(text) <= 80 else text[:77] + "..."


@dataclass
class Diff:
    """All changes from ``old`` to ``new``."""

    old: Ruleset
    new: Ruleset
    changes: list[Change] = field(default_factory=list)

    def section(self, name: str) -> list[Change]:
        """The changes of one section."""
        return [c for c in self.changes if c.section == name]

    @property
    def decision_changes(self) -> list[Change]:
        """Changes that can alter a decision."""
        return [c for c in self.changes if c.decides]

    @property
    def schema_effect(self) -> Effect:
        """none: identical input schema; compatible: only optional fields added; breaking: else."""
        effects = {c.schema for c in self.changes}
        if "breaking" in effects:
            return "breaking"
        return "compatible" if "compatible" in effects else "none"

    def changed_ids(self, section: str) -> set[str]:
        """Ids of items of a section that were added, removed or changed."""
        return {c.id for c in self.changes if c.section == section}

    def to_json(self) -> dict[str, Any]:
        """The diff as JSON."""
        return {
            "old": {"methodology": self.old.methodology, "version": self.old.version, "sha256": self.old.sha256},
            "new": {"methodology": self.new.methodology, "version": self.new.version, "sha256": self.new.sha256},
            "schema": self.schema_effect,
            "changes": [c.to_json() for c in self.changes],
        }


# --------------------------------------------------------------------------------------------


def _input_leaves(f: Field, pointer: str, out: dict[str, dict[str, Any]]) -> None:
    spec = f.spec
    info: dict[str, Any] = {"type": f.kind, "required": spec.required}
    for key in ("minimum", "maximum", "pattern", "catalogue"):
        value = getattr(spec, key)
        if value is not None:
            info[key] = value
    if f.kind == "enum":
        info["values"] = tuple(spec.values or ())
    if f.kind == "string" and f.catalogue_ids:
        info["catalogue ids"] = f.catalogue_ids
    if spec.default is not None:
        info["default"] = spec.default
    if spec.checks:
        info["checks"] = tuple(normalize(c.rule) for c in spec.checks)
    if spec.description:
        info["description"] = spec.description
    if pointer:
        out[pointer] = info
    members = f.fields if f.kind == "object" else f.entries if f.kind == "map" else {}
    for name, sub in members.items():
        _input_leaves(sub, pointer_join(pointer, name), out)
    if f.kind == "list" and f.items is not None:
        _input_leaves(f.items, pointer + "/-", out)


def _compare_items(diff: Diff, section: str, old: dict[str, Any], new: dict[str, Any], *,
                   explanatory: frozenset[str] = frozenset(), schema: bool = False,
                   old_required: dict[str, bool] | None = None) -> None:
    for key in old:
        if key not in new:
            diff.changes.append(Change(section, "removed", key, None, old[key], None, True,
                                       "breaking" if schema else "none"))
    for key, value in new.items():
        if key not in old:
            effect: Effect = "none"
            if schema:
                required = isinstance(value, dict) and bool(value.get("required"))
                effect = "breaking" if required and not _ancestor_new_optional(key, old, new) else "compatible"
            diff.changes.append(Change(section, "added", key, None, None, value, True, effect))
            continue
        before = old[key]
        if before == value:
            continue
        if isinstance(before, dict) and isinstance(value, dict):
            for attr in sorted(set(before) | set(value)):
                a, b = before.get(attr), value.get(attr)
                if a == b:
                    continue
                decides = attr not in explanatory
                effect = _schema_effect(attr, a, b) if schema else "none"
                diff.changes.append(Change(section, "changed", key, attr, a, b, decides, effect))
        else:
            diff.changes.append(Change(section, "changed", key, "value", before, value, True,
                                       "breaking" if schema else "none"))


def _schema_effect(attr: str, a: Any, b: Any) -> Effect:
    """Whether changing one attribute of an input keeps every old-valid assessment valid."""
    if attr == "description":
        return "none"
    if attr in ("values", "catalogue ids"):
        return "compatible" if set(a or ()) <= set(b or ()) else "breaking"
    if attr == "minimum":
        return "compatible" if b is None or (a is not None and b <= a) else "breaking"
    if attr == "maximum":
        return "compatible" if b is None or (a is not None and b >= a) else "breaking"
    if attr == "required":
        return "compatible" if a and not b else "breaking"
    return "breaking"


def _ancestor_new_optional(key: str, old: dict[str, Any], new: dict[str, Any]) -> bool:
    """True when some ancestor of ``key`` is new in ``new`` and optional (so the whole subtree is optional)."""
    probe = key
    while "/" in probe[1:]:
        probe = probe.rsplit("/", 1)[0]
        if probe not in old and probe in new:
            info = new[probe]
            if isinstance(info, dict) and not info.get("required"):
                return True
    return False


def _dump(model: Any) -> Any:
    return model.model_dump(mode="python", exclude_defaults=True)


def semantic_diff(old: Ruleset, new: Ruleset) -> Diff:
    """Compare two versions section by section."""
    diff = Diff(old, new)
    od, nd = old.document, new.document
    _diff_metadata(diff, od, nd)
    old_inputs: dict[str, dict[str, Any]] = {}
    new_inputs: dict[str, dict[str, Any]] = {}
    _input_leaves(old.plan.inputs, "", old_inputs)
    _input_leaves(new.plan.inputs, "", new_inputs)
    _compare_items(diff, "inputs", old_inputs, new_inputs, explanatory=frozenset({"description"}), schema=True)
    _diff_catalogues(diff, od, nd)
    # a parameter table's entries are parameters of their own here (mc[chill]), as decisions name them
    _compare_items(diff, "parameters", {k: _dump(v) for k, v in parameter_entries(od).items()},
                   {k: _dump(v) for k, v in parameter_entries(nd).items()},
                   explanatory=frozenset({"title", "source", "assumed"}))
    _diff_tables(diff, old, new)
    # derived values: the expression (normalised) and the type decide; title, unit, clause explain
    _compare_items(diff, "derived", _derived(od), _derived(nd),
                   explanatory=frozenset({"title", "unit", "clause", "description"}))
    _compare_items(diff, "criteria", _criteria(od), _criteria(nd),
                   explanatory=frozenset({"title", "clause", "description"}))
    _compare_items(diff, "groups", {k: _dump(v) for k, v in od.groups.items()},
                   {k: _dump(v) for k, v in nd.groups.items()}, explanatory=frozenset({"title", "clause"}))
    _diff_scores(diff, od, nd)
    _diff_bands(diff, od, nd)
    if od.labels != nd.labels:
        diff.changes.append(Change("labels", "changed", "labels", "order", od.labels, nd.labels, True))
    _compare_items(diff, "tiers", {k: _dump(v) for k, v in od.tiers.items()},
                   {k: _dump(v) for k, v in nd.tiers.items()},
                   explanatory=frozenset({"title", "description"}))
    if normalize(od.validity.valid_from) != normalize(nd.validity.valid_from):
        diff.changes.append(Change("validity", "changed", "valid_from", "expression", od.validity.valid_from,
                                   nd.validity.valid_from, True))
    _compare_items(diff, "validity", _rules(od), _rules(nd), explanatory=frozenset({"title", "clause"}))
    return diff


_META_KEYS = ("methodology", "title", "description", "status", "effective_from", "announced_on", "supersedes",
              "approval", "subject", "unknowns", "selected_by", "tests_from")
#: metadata that decides: another methodology, or how unknowns are computed (ranges opted into or not)
_DECIDING_META = frozenset({"methodology", "unknowns"})


def _diff_metadata(diff: Diff, od: Any, nd: Any) -> None:
    """Metadata: nothing here decides (which version applies, by its date or its ``selected_by``, is the
    registry's business; ``tests_from`` lends tests), but the methodology and ``unknowns`` (ranges opted
    into)."""
    for key in _META_KEYS:
        a, b = getattr(od, key), getattr(nd, key)
        if a != b:
            diff.changes.append(Change("metadata", "changed", key, key,
                                       _dump(a) if hasattr(a, "model_dump") else a,
                                       _dump(b) if hasattr(b, "model_dump") else b, key in _DECIDING_META))


def _diff_catalogues(diff: Diff, od: Any, nd: Any) -> None:
    """Catalogue items: a type already shows in the inputs; a title and provenance explain, and an item
    added or removed decides nothing by itself."""
    old_items = {f"{c}/{i}": _dump(item) for c, cat in od.catalogues.items() for i, item in cat.items.items()}
    new_items = {f"{c}/{i}": _dump(item) for c, cat in nd.catalogues.items() for i, item in cat.items.items()}
    _compare_items(diff, "catalogues", old_items, new_items,
                   explanatory=frozenset({"title", "description", "source", "assumed", "category"}))
    for i, c in enumerate(diff.changes):
        if c.section == "catalogues" and c.kind != "changed":
            diff.changes[i] = Change(c.section, c.kind, c.id, c.attribute, c.old, c.new, False, "none")


def _derived(doc: Any) -> dict[str, Any]:
    return {k: {**_dump(v), "value": normalize(v.value)} for k, v in doc.derived.items()}


def _criteria(doc: Any) -> dict[str, Any]:
    return {k: {**_dump(v), "when": normalize(v.when)} for k, v in doc.criteria.items()}


def _diff_scores(diff: Diff, od: Any, nd: Any) -> None:
    """Scores: added or removed whole, else the weights one by one, then threshold and explanations."""
    old, new = score_outcomes(od), score_outcomes(nd)
    for sid in sorted(set(old) | set(new)):
        a, b = old[sid][0] if sid in old else None, new[sid][0] if sid in new else None
        if a is None or b is None:
            diff.changes.append(Change("scores", "added" if a is None else "removed", sid, None,
                                       None if a is None else _dump(a), None if b is None else _dump(b), True))
            continue
        for crit in sorted(set(a.weights) | set(b.weights)):
            wa, wb = a.weights.get(crit), b.weights.get(crit)
            if wa != wb:
                diff.changes.append(Change("scores", "changed", sid, f"weight of {crit}", wa, wb, True))
        for pid in sorted(set(a.points) | set(b.points)):  # numbers weighed as they are
            pa, pb = a.points.get(pid), b.points.get(pid)
            if pa is None or pb is None:
                diff.changes.append(Change("scores", "changed", sid, f"points {pid}",
                                           None if pa is None else _points(pa), None if pb is None else _points(pb),
                                           True))
                continue
            for attr, va, vb in (("value", normalize(pa.value), normalize(pb.value)),
                                 ("maximum", pa.maximum, pb.maximum)):
                if va != vb:
                    diff.changes.append(Change("scores", "changed", sid, f"points {pid} {attr}", va, vb, True))
        for attr in ("threshold", "minimum", "title", "clause", "source", "assumed"):
            va, vb = getattr(a, attr), getattr(b, attr)
            if va != vb:
                diff.changes.append(Change("scores", "changed", sid, attr, va, vb, attr in ("threshold", "minimum")))


def _diff_tables(diff: Diff, old: Ruleset, new: Ruleset) -> None:
    """Parameter tables, key by key as conditions read them (each key of the enum or catalogue it is keyed
    by, with the entry it reads, its own or the default): a key added or removed, or whose value changed
    (a default that changed moves every key that reads it). The entries themselves are parameters
    (``mc[chill]``, the default ``mc[*]``), whose changes and provenance the parameters section shows."""
    a, b = old.plan.tables, new.plan.tables
    for name in sorted(set(a) | set(b)):
        ta, tb = a.get(name), b.get(name)
        keys_a = dict(ta.values) if ta is not None else {}
        keys_b = dict(tb.values) if tb is not None else {}
        for key in dict.fromkeys((*keys_a, *keys_b)):
            item = f"{name}[{key}]"
            if key not in keys_b:
                diff.changes.append(Change("tables", "removed", item, None, _keyed(ta, key), None, True))
            elif key not in keys_a:
                diff.changes.append(Change("tables", "added", item, None, None, _keyed(tb, key), True))
            elif keys_a[key] != keys_b[key] or _is_whole(keys_a[key]) != _is_whole(keys_b[key]):
                diff.changes.append(Change("tables", "changed", item, "value", _keyed(ta, key), _keyed(tb, key),
                                           True))


def _keyed(table: Any, key: str) -> dict[str, Any]:
    """A key of a table as a diff shows it: its value and the entry it reads."""
    return {"value": table.values[key], "entry": table.entries[key]}


def _is_whole(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _diff_bands(diff: Diff, od: Any, nd: Any) -> None:
    """Bands, class by class: a class added or removed, its interval as written, and as its bounds' parameters
    give it (a bound moved by a parameter, with the parameter's value and provenance); the value placed
    (``of``) and the band's order of classes decide; titles, units, clauses and provenance explain. Each
    class is a criterion too (``<band>.<class>``), which the criteria section shows as its condition."""
    for bid in sorted(set(od.bands) | set(nd.bands)):
        a, b = od.bands.get(bid), nd.bands.get(bid)
        if a is None or b is None:
            diff.changes.append(Change("bands", "added" if a is None else "removed", bid, None,
                                       None if a is None else dict(a.bounds), None if b is None else dict(b.bounds),
                                       True))
            continue
        if normalize(a.of) != normalize(b.of):
            diff.changes.append(Change("bands", "changed", bid, "of", a.of, b.of, True))
        if [n for n in a.bounds if n in b.bounds] != [n for n in b.bounds if n in a.bounds]:
            diff.changes.append(Change("bands", "changed", bid, "order", list(a.bounds), list(b.bounds), True))
        for attr in ("title", "unit", "clause", "source", "assumed"):
            va, vb = getattr(a, attr), getattr(b, attr)
            if va != vb:
                diff.changes.append(Change("bands", "changed", bid, attr, va, vb, False))
        _diff_classes(diff, bid, od, nd)


def _diff_classes(diff: Diff, bid: str, od: Any, nd: Any) -> None:
    """The classes of a band in both versions (see `_diff_bands`)."""
    a, b = od.bands[bid], nd.bands[bid]
    resolved_a, resolved_b = band_intervals(od, bid), band_intervals(nd, bid)
    for name in dict.fromkeys((*a.bounds, *b.bounds)):
        cid = f"{bid}.{name}"
        if name not in b.bounds or name not in a.bounds:
            gone = name not in b.bounds
            shown = _class(od if gone else nd, bid, name, resolved_a if gone else resolved_b)
            diff.changes.append(Change("bands", "removed" if gone else "added", cid, None, shown if gone else None,
                                       None if gone else shown, True))
            continue
        if a.bounds[name] != b.bounds[name]:
            diff.changes.append(Change("bands", "changed", cid, "bounds", a.bounds[name], b.bounds[name], True))
        elif resolved_a[name] != resolved_b[name]:  # the same bounds, moved by the parameters they name
            diff.changes.append(Change("bands", "changed", cid, "interval", _class(od, bid, name, resolved_a),
                                       _class(nd, bid, name, resolved_b), True))
        for attr in ("clause", "source", "assumed"):  # a class's own (the band's are shown with the band)
            va, vb = getattr(a.classes[name], attr, None), getattr(b.classes[name], attr, None)
            if va != vb:
                diff.changes.append(Change("bands", "changed", cid, attr, va, vb, False))


def _class(doc: Any, bid: str, name: str, resolved: dict[str, Any]) -> dict[str, Any]:
    """A class as a diff shows it: its interval as written and as a range of the value, and each parameter
    its bounds name with its value and provenance."""
    band = doc.bands[bid]
    out: dict[str, Any] = {"bounds": band.bounds[name], "interval": resolved[name].text(normalize(band.of))}
    named = parse_interval(name, band.bounds[name]).parameters
    if named:
        entries = parameter_entries(doc)
        out["parameters"] = {p: {"value": entries[p].value, "unit": entries[p].unit,
                                 "provenance": entries[p].source if entries[p].source is not None
                                 else f"assumed: {entries[p].assumed}"} for p in named if p in entries}
    return out


def _points(p: Any) -> dict[str, Any]:
    return {"value": normalize(p.value), "maximum": p.maximum}


def _rules(doc: Any) -> dict[str, Any]:
    out = {}
    for position, r in enumerate(doc.validity.rules):
        d = _dump(r)
        d["when"] = normalize(r.when) if r.when else None
        d["valid_until"] = normalize(r.valid_until)
        d["position"] = position
        out[r.id] = d
    return out
