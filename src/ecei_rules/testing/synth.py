"""Synthetic populations of realistic assessments, reproducible by seed.

A population is a stream of raw assessments (dates as ISO strings, numbers as ``int`` or
``Decimal``), the same for the same arguments and seed. By default each assessment follows the
declared inputs of the version in force on its date; with ``versions`` every assessment carries
the union of those versions' inputs, so that each of them accepts it once projected onto its own
inputs (what impact analysis does: the older version ignores what only the newer one declares).

Dates (``assessed_on``)
    Uniform over ``[start, end]``; with ``as_of=D`` over the ``window_months`` (default 12) months
    up to and including D: from the day after the same day ``window_months`` months earlier (the
    12 months up to 2020-06-30 are 2019-07-01 .. 2020-06-30).

Assumptions (documented, not sourced; they shape the population, never a decision):

A1. Each organisation has a quality ``q ~ Beta(5, 2)`` (mean 0.71): most clusters are decent,
    few are excellent.
A2. Every input a criterion compares with a threshold gets one uniform draw ``u`` per
    organisation; the comparison passes when ``u < p`` for its role, so one value passes a strict
    Gold threshold only if it also passes the lenient Silver minimum of the same indicator:

    * a *score* criterion (weighted in a score: the Gold indicators) passes with
      ``p = q ** 2.5``;
    * a *gate* criterion (anything else: the Bronze benchmarking and success stories, the Silver
      baseline minimums, the eligibility criteria EC1..EC6) passes with ``p = 1 - (1 - q) ** 4``
      (most organisations that apply meet the minimums).

    A boolean compared with ``true`` by both kinds of criteria follows the gate probability.
A3. A value that passes or fails lies near the threshold that decides it: 40 % exactly at the
    boundary or one or two steps (1, or 0.01 for decimals) inside it, 45 % uniform within 30 %
    of the threshold, 15 % uniform within 150 % (always inside the declared range).
A4. Relations between two inputs (EC3: ``2 * private > committed``) hold with the gate
    probability; half the values sit at the boundary (a tie is not a majority), half anywhere.
A5. History: 35 % of organisations have no earlier label, 45 % one, 20 % two; each is Bronze
    (70 %), Silver (15 %) or Gold (15 %). The first Bronze lies 17 to 25 whole months before the
    assessment with probability 0.6 (the Silver window of 18 to 24 months and both edges), else
    6 to 48 months; other entries 6 to 48 months. Half of the award dates fall on the same day
    of the month as the assessment (months_between exactly on a whole month), the rest within
    10 days of it. Every entry was valid for 24 months (``valid_until = month_end(awarded, 24)``),
    so the renewal window (up to 12 months after expiry) is well covered too.
A6. Improvement areas: an organisation with a Bronze 12 to 30 months back is a Silver
    candidate and, with probability 0.9, lists 2 to 5 areas (3 and 4 most often), each in the
    Silver scope with probability 0.9 (one duplicated entry with probability 0.1), validated
    with the gate probability. Other organisations give an empty list (50 %), no list (20 %) or
    1 to 3 areas anywhere in the catalogue (30 %). Only catalogue ids every requested version
    accepts are used.
A7. Missing data (unknown): 8 % of organisations are sparse and leave out each optional nested
    field with probability 0.3; every organisation leaves out each optional top-level object
    (benchmarking, indicators, eligibility, ...) with probability 0.03.
A8. Values without a threshold are uniform over a plausible range (the declared range, counts
    0 to 60); countries uniform over 13 member states.

With these assumptions every tier a version defines appears in a population of a few hundred
(measured on 4,000 assessments 2011-2024, seed 1, each under the version in force): under 1.2.0
about 7 % none, 72 % Bronze, 10 % Silver and 12 % Gold; under 2.0.0 and later about 28 % none,
51 % Bronze, 10 % Silver and 11 % Gold (the eligibility criteria and the success stories gate
every label); under 1.1.0 about 6 % none, 83 % Bronze, 11 % Gold; under 1.0.0 about 9 % none,
91 % Bronze.
"""

from __future__ import annotations

import datetime as dt
import random
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from decimal import ROUND_CEILING, ROUND_FLOOR, Decimal
from typing import Any

from ecei_rules.core.logic import month_end, months_between
from ecei_rules.registry import DEFAULT_METHODOLOGY, Registry
from ecei_rules.ruleset.analysis import criterion_targets, passes, relations, targets
from ecei_rules.ruleset.inputs import Field
from ecei_rules.ruleset.load import Ruleset

WINDOW_MONTHS = 12
QUALITY_BETA = (5.0, 2.0)
SCORE_EXPONENT = 2.5
GATE_EXPONENT = 4
SPARSE_SHARE = 0.08
SPARSE_DROP = 0.3
TOP_DROP = 0.03
COUNTRIES = ("DE", "FR", "ES", "IT", "NO", "DK", "SE", "PL", "AT", "BE", "NL", "PT", "CZ")

Goal = tuple[str, Decimal, str]  # (op, threshold, role: "score" or "gate")


def window(as_of: dt.date, months: int = WINDOW_MONTHS) -> tuple[dt.date, dt.date]:
    """The ``months`` months up to and including ``as_of``: (first day, ``as_of``)."""
    if months < 1:
        raise ValueError("the window must span at least one month")
    index = as_of.year * 12 + as_of.month - 1 - months
    year, month = divmod(index, 12)
    last = month_end(dt.date(year, month + 1, 1), 0).day
    return dt.date(year, month + 1, min(as_of.day, last)) + dt.timedelta(days=1), as_of


def _dec(value: Any) -> Decimal | None:
    if value is None or isinstance(value, bool):
        return None
    return Decimal(str(value))


@dataclass
class _Node:
    """One input declared by one or more versions, merged so that a value fits all of them."""

    kind: str
    required: bool
    minimum: Decimal | None = None
    maximum: Decimal | None = None
    values: tuple[str, ...] = ()
    ids: tuple[str, ...] = ()
    pattern: str | None = None
    members: dict[str, _Node] = field(default_factory=dict)
    items: _Node | None = None


def _merge(fields: list[Field]) -> _Node:
    """One node for the same input declared by several versions: the tightest bounds, the values and
    catalogue ids every version allows, and the members and items merged the same way."""
    first = fields[0]
    same = [f for f in fields if f.kind == first.kind]
    lo, hi = _tightest(same)
    node = _Node(first.kind, any(f.required for f in fields), lo, hi, pattern=first.spec.pattern)
    if first.kind == "enum":
        allowed = set.intersection(*(set(f.spec.values or ()) for f in same))
        node.values = tuple(v for v in first.spec.values or () if v in allowed)
    node.ids = _common_ids(same)
    names: dict[str, list[Field]] = {}
    for f in same:
        for name, sub in _children(f).items():
            names.setdefault(name, []).append(sub)
    node.members = {name: _merge(subs) for name, subs in names.items()}
    items = [f.items for f in same if f.kind == "list" and f.items is not None]
    node.items = _merge(items) if items else None
    return node


def _tightest(fields: list[Field]) -> tuple[Decimal | None, Decimal | None]:
    """The highest minimum and the lowest maximum the fields declare."""
    mins = [m for m in (_dec(f.spec.minimum) for f in fields) if m is not None]
    maxs = [m for m in (_dec(f.spec.maximum) for f in fields) if m is not None]
    return (max(mins) if mins else None), (min(maxs) if maxs else None)


def _common_ids(fields: list[Field]) -> tuple[str, ...]:
    """The catalogue ids every field with ids allows, in the first one's order."""
    with_ids = [f for f in fields if f.catalogue_ids]
    if not with_ids:
        return ()
    common = set.intersection(*(set(f.catalogue_ids) for f in with_ids))
    return tuple(i for i in with_ids[0].catalogue_ids if i in common)


def _children(f: Field) -> dict[str, Field]:
    """The named members of an object or the entries of a map (none for other kinds)."""
    if f.kind == "object":
        return dict(f.fields)
    return dict(f.entries) if f.kind == "map" else {}


def _goals(rulesets: Sequence[Ruleset]) -> dict[str, list[Goal]]:
    """pointer -> the thresholds it is compared with, each with the role of its criterion."""
    out: dict[str, list[Goal]] = {}
    for ruleset in rulesets:
        weighted = {c for s in ruleset.document.scores.values() for c in s.weights}
        roles: dict[tuple[str, str, Decimal], str] = {}
        for cid, (pointer, op, threshold) in criterion_targets(ruleset).items():
            if isinstance(threshold, Decimal):
                role = "score" if cid in weighted else "gate"
                if roles.get((pointer, op, threshold)) != "gate":
                    roles[(pointer, op, threshold)] = role
        for pointer, goals in targets(ruleset).items():
            for op, threshold in goals:
                if isinstance(threshold, bool) or op not in (">=", ">", "<=", "<"):
                    continue
                goal = (op, threshold, roles.get((pointer, op, threshold), "gate"))
                if goal not in out.setdefault(pointer, []):
                    out[pointer].append(goal)
    return out


def _booleans(rulesets: Sequence[Ruleset]) -> dict[str, str]:
    """pointer -> role, for booleans a criterion requires to be true."""
    out: dict[str, str] = {}
    for ruleset in rulesets:
        weighted = {c for s in ruleset.document.scores.values() for c in s.weights}
        for cid, (pointer, op, threshold) in criterion_targets(ruleset).items():
            if op == "==" and threshold is True:
                role = "score" if cid in weighted else "gate"
                out[pointer] = "gate" if "gate" in (role, out.get(pointer)) else role
        for pointer, goals in targets(ruleset).items():
            if ("==", True) in goals and pointer not in out:
                out[pointer] = "gate"
    return out


def _param(rulesets: Sequence[Ruleset], name: str, default: Any) -> Any:
    for ruleset in rulesets:
        p = ruleset.document.parameters.get(name)
        if p is not None:
            return p.value
    return default



class _Generator:
    """Assessments for one set of versions (one version, or several for a comparison)."""

    def __init__(self, rulesets: Sequence[Ruleset], rng: random.Random) -> None:
        self.rulesets = list(rulesets)
        self.rng = rng
        self.root = _merge([r.plan.inputs for r in self.rulesets])
        self.goals = _goals(self.rulesets)
        self.flags = _booleans(self.rulesets)
        self.relations = list(dict.fromkeys(rel for r in self.rulesets for rel in relations(r)))
        self.scope = tuple(str(i) for i in _param(self.rulesets, "silver_scope", ()) or ())
        self.window = (int(_param(self.rulesets, "silver_min_months_since_bronze", 18)),
                       int(_param(self.rulesets, "silver_max_months_since_bronze", 24)))
        self.quality = 0.0
        self.sparse = False
        self.on = dt.date(2000, 1, 1)
        self.draws: dict[str, float] = {}
        self.past: list[dict[str, Any]] | None = None

    # -- probabilities ---------------------------------------------------------------------------

    def chance(self, role: str) -> float:
        if role == "score":
            return float(self.quality ** SCORE_EXPONENT)
        return float(1 - (1 - self.quality) ** GATE_EXPONENT)

    def draw(self, pointer: str) -> float:
        if pointer not in self.draws:
            self.draws[pointer] = self.rng.random()
        return self.draws[pointer]

    # -- one assessment --------------------------------------------------------------------------

    def assessment(self, on: dt.date, index: int) -> dict[str, Any]:
        rng = self.rng
        self.quality = rng.betavariate(*QUALITY_BETA)
        self.sparse = rng.random() < SPARSE_SHARE
        self.on = on
        self.draws = {}
        hist = self.root.members.get("history")
        self.past = None
        if hist is not None and hist.kind == "list" and hist.items is not None \
                and {"label", "awarded_on", "valid_until"} <= set(hist.items.members):
            # drawn first: the improvement areas depend on it (A6)
            self.past = self.history(hist.items)
        data = self.members(self.root, "", top=True)
        data["assessed_on"] = on.isoformat()
        org = data.get("organisation")
        if isinstance(org, dict):
            if "id" in org:
                org["id"] = f"SYN-{index:06d}"
            if "name" in org:
                org["name"] = f"Synthetic cluster {index}"
        self.repair(data)
        return data

    def repair(self, data: dict[str, Any]) -> None:
        """Drop whatever a version rejects (the union of inputs must fit every version)."""
        from ecei_rules.ruleset.inputs import project

        for _ in range(40):
            for ruleset in self.rulesets:
                view = project(data, ruleset.plan.inputs)[0] if len(self.rulesets) > 1 else data
                _, problems = ruleset.plan.validator.validate(view)
                if problems:
                    if not self.remove(data, problems[0].pointer):
                        return
                    break
            else:
                return

    def remove(self, data: dict[str, Any], pointer: str) -> bool:
        """Drop the nearest removable thing at or above ``pointer``: a list item or an optional field."""
        parts = [p.replace("~1", "/").replace("~0", "~") for p in pointer.split("/")[1:]]
        while parts:
            node: Any = data
            spec: _Node | None = self.root
            for part in parts[:-1]:
                node = node[int(part)] if isinstance(node, list) else node.get(part) if isinstance(node, dict) \
                    else None
                spec = (spec.items if spec and spec.kind == "list" else spec.members.get(part) if spec else None)
            last = parts[-1]
            if isinstance(node, list) and last.isdigit() and int(last) < len(node):
                del node[int(last)]
                return True
            child = spec.members.get(last) if spec is not None and spec.kind != "list" else None
            if isinstance(node, dict) and last in node and (child is None or not child.required):
                del node[last]
                return True
            parts = parts[:-1]
        return False

    def members(self, node: _Node, pointer: str, top: bool = False) -> dict[str, Any]:
        rng = self.rng
        out: dict[str, Any] = {}
        for name, sub in node.members.items():
            child = f"{pointer}/{name}"
            if child == "/improvement_areas":
                areas = self.improvement_areas(sub)
                if areas is not None:
                    out[name] = areas
                continue
            if not sub.required:
                if top and sub.kind != "list" and rng.random() < TOP_DROP:
                    continue
                if not top and self.sparse and rng.random() < SPARSE_DROP:
                    continue
            out[name] = self.value(sub, child)
        for a, ka, op, b, kb in self.relations:
            parent, name_a = a.rsplit("/", 1)
            name_b = b.rsplit("/", 1)[1]
            if parent == pointer and b.rsplit("/", 1)[0] == pointer and name_a in out \
                    and isinstance(out.get(name_b), int):
                out[name_a] = self.related(ka, op, kb, out[name_b])
        return out

    def related(self, ka: int, op: str, kb: int, other: int) -> int:
        """A value c in [0, other] with ``ka * c op kb * other`` holding with the gate probability."""
        want = self.rng.random() < self.chance("gate")
        good = [c for c in range(other + 1) if passes(op, Decimal(ka * c), Decimal(kb * other)) == want]
        if not good:
            return other if want else 0
        edge = good[0] if want else good[-1]
        if self.rng.random() < 0.5:
            return edge
        return self.rng.choice(good)

    def value(self, node: _Node, pointer: str) -> Any:
        rng = self.rng
        kind = node.kind
        if kind == "boolean":
            role = self.flags.get(pointer)
            if role is not None:
                return self.draw(pointer) < self.chance(role)
            return rng.random() < 0.7
        if kind in ("integer", "decimal"):
            return self.number(node, pointer)
        if kind == "date":
            return (self.on - dt.timedelta(days=rng.randint(0, 900))).isoformat()
        if kind == "enum":
            return rng.choice(list(node.values or ("x",)))
        if kind == "string":
            if node.ids:
                return rng.choice(node.ids)
            if node.pattern == "[A-Z]{2}":
                return rng.choice(COUNTRIES)
            return f"{pointer.rsplit('/', 1)[-1]}-{rng.randint(1, 9999)}"
        if kind == "list":
            if node.items is None:
                return []
            if pointer == "/history" and self.past is not None:
                return self.past
            return [self.value(node.items, pointer + "/-") for _ in range(rng.randint(0, 5))]
        if kind in ("object", "map"):
            return self.members(node, pointer)
        return None

    # -- numbers near their thresholds -----------------------------------------------------------

    def number(self, node: _Node, pointer: str) -> Any:
        rng = self.rng
        integer = node.kind == "integer"
        step = Decimal(1) if integer else Decimal("0.01")
        goals = self.goals.get(pointer, [])
        lo_field = _grid(node.minimum, step, up=True) if node.minimum is not None else None
        hi_field = _grid(node.maximum, step, up=False) if node.maximum is not None else None
        if goals:
            u = self.draw(pointer)
            wanted = [(op, t, u < self.chance(role), role) for op, t, role in goals]
            # infeasible (a strict threshold passed, a lenient one failed): drop score goals first
            for keep in (wanted, [w for w in wanted if w[3] == "gate"], []):
                bounds = _interval([(op, t, passing) for op, t, passing, _ in keep], step)
                lo, hi = _clip(bounds[0], lo_field, True), _clip(bounds[1], hi_field, False)
                if keep and (lo is None or hi is None or lo <= hi):
                    return _out(self.pick(lo, hi, bounds, step), integer)
        lo = lo_field if lo_field is not None else Decimal(0)
        hi = hi_field if hi_field is not None else Decimal(60)
        return _out(_uniform(rng, lo, hi, step), integer)

    def pick(self, lo: Decimal | None, hi: Decimal | None, bounds: tuple[Decimal | None, Decimal | None],
             step: Decimal) -> Decimal:
        """A value in [lo, hi]: often at a threshold edge of the interval (``bounds``), else drawn near it."""
        rng = self.rng
        roll = rng.random()
        if roll < 0.4:
            # at the threshold edge of the interval, or one or two steps inside it
            inside = _near_edges(lo, hi, bounds, step)
            if inside:
                return rng.choice(inside)
        edges = [e for e in bounds if e is not None]
        anchor = edges[0] if edges else Decimal(0)
        spread = max(abs(anchor) * (Decimal("0.3") if roll < 0.85 else Decimal("1.5")), 2 * step)
        low, high = _spread(lo, hi, bounds, anchor, spread)
        return _uniform(rng, low, max(low, high), step)

    # -- history and improvement areas -----------------------------------------------------------

    def history(self, item: _Node) -> list[dict[str, Any]]:
        rng = self.rng
        labels = list(item.members["label"].values or ("bronze",))
        weights = [{"bronze": 0.7, "silver": 0.15, "gold": 0.15}.get(label, 0.1) for label in labels]
        out: list[dict[str, Any]] = []
        count = rng.choices([0, 1, 2], [0.35, 0.45, 0.2])[0]
        first_bronze = True
        for _ in range(count):
            label = rng.choices(labels, weights)[0]
            lo, hi = self.window
            if label == "bronze" and first_bronze and rng.random() < 0.6:
                months = rng.randint(lo - 1, hi + 1)
            else:
                months = rng.randint(6, 48)
            first_bronze = first_bronze and label != "bronze"
            back = month_end(self.on, -months)
            awarded = back.replace(day=min(self.on.day, back.day))
            if rng.random() < 0.5:
                awarded += dt.timedelta(days=rng.randint(-10, 10))
            awarded = min(awarded, self.on)
            out.append({"label": label, "awarded_on": awarded.isoformat(),
                        "valid_until": month_end(awarded, 24).isoformat()})
        return out

    def improvement_areas(self, node: _Node) -> list[dict[str, Any]] | None:
        rng = self.rng
        item = node.items
        if item is None or "indicator" not in item.members:
            return None
        ids = item.members["indicator"].ids
        scope = [i for i in self.scope if i in ids] or list(ids)
        if not ids:
            return []
        if self.renewal_candidate() and rng.random() < 0.9:
            picked, chance = self.gate_areas(scope, ids), self.chance("gate")
        else:
            roll = rng.random()
            if roll < 0.5:
                return []
            if roll < 0.7:
                return None
            picked, chance = [rng.choice(ids) for _ in range(rng.randint(1, 3))], 0.7
        out: list[dict[str, Any]] = []
        for indicator in picked:
            area: dict[str, Any] = {"indicator": indicator}
            if "validated" in item.members:
                area["validated"] = rng.random() < chance
            out.append(area)
        return out

    def renewal_candidate(self) -> bool:
        """Whether the history has a Bronze award 12 to 30 months before the assessment (a renewal)."""
        return any(12 <= months_between(dt.date.fromisoformat(entry["awarded_on"]), self.on) <= 30
                   for entry in self.past or [] if entry["label"] == "bronze")

    def gate_areas(self, scope: list[str], ids: tuple[str, ...]) -> list[str]:
        """Two to five improvement areas, mostly in scope, sometimes one repeated."""
        rng = self.rng
        k = rng.choice([2, 3, 3, 4, 4, 5])
        picked = [rng.choice(scope) if rng.random() < 0.9 else rng.choice(ids) for _ in range(k)]
        picked = list(dict.fromkeys(picked))
        if rng.random() < 0.1 and picked:
            picked.append(picked[0])
        return picked


def _near_edges(lo: Decimal | None, hi: Decimal | None, bounds: tuple[Decimal | None, Decimal | None],
                step: Decimal) -> list[Decimal]:
    """The threshold edges of an interval and the values one and two steps inside, within [lo, hi]."""
    inside = [bounds[0] + k * step for k in range(3)] if bounds[0] is not None else []
    inside += [bounds[1] - k * step for k in range(3)] if bounds[1] is not None else []
    return [v for v in inside if (lo is None or v >= lo) and (hi is None or v <= hi)]


def _spread(lo: Decimal | None, hi: Decimal | None, bounds: tuple[Decimal | None, Decimal | None],
            anchor: Decimal, spread: Decimal) -> tuple[Decimal, Decimal]:
    """Where to draw from: [lo, hi], an open side ``spread`` away from the other (or from ``anchor``); a
    bounded interval with one threshold edge stays within ``spread`` of it."""
    low = lo if lo is not None else (hi if hi is not None else anchor) - spread
    high = hi if hi is not None else (lo if lo is not None else anchor) + spread
    if lo is not None and hi is not None:
        if bounds[0] is not None and bounds[1] is None:
            high = min(hi, lo + spread)
        elif bounds[1] is not None and bounds[0] is None:
            low = max(lo, hi - spread)
    return low, high


def _grid(value: Decimal, step: Decimal, *, up: bool) -> Decimal:
    return (value / step).to_integral_value(ROUND_CEILING if up else ROUND_FLOOR) * step


def _interval(constraints: list[tuple[str, Decimal, bool]], step: Decimal) -> tuple[Decimal | None, Decimal | None]:
    """The values on the grid of ``step`` that pass or fail each ``value op threshold`` as asked."""
    lo: Decimal | None = None
    hi: Decimal | None = None
    for op, t, passing in constraints:
        effective = op if passing else {">=": "<", ">": "<=", "<=": ">", "<": ">="}[op]
        if effective == ">=":
            bound, is_lo = _grid(t, step, up=True), True
        elif effective == ">":
            bound, is_lo = _grid(t, step, up=False) + step, True
        elif effective == "<=":
            bound, is_lo = _grid(t, step, up=False), False
        else:
            bound, is_lo = _grid(t, step, up=True) - step, False
        if is_lo:
            lo = bound if lo is None else max(lo, bound)
        else:
            hi = bound if hi is None else min(hi, bound)
    return lo, hi


def _clip(bound: Decimal | None, limit: Decimal | None, is_lo: bool) -> Decimal | None:
    if bound is None:
        return limit
    if limit is None:
        return bound
    return max(bound, limit) if is_lo else min(bound, limit)


def _uniform(rng: random.Random, lo: Decimal, hi: Decimal, step: Decimal) -> Decimal:
    lo, hi = _grid(lo, step, up=True), _grid(hi, step, up=False)
    if hi <= lo:
        return lo
    return lo + step * rng.randint(0, int((hi - lo) / step))


def _out(value: Decimal, integer: bool) -> Any:
    if integer:
        return int(value)
    return value.normalize() if value == value.to_integral_value() else value


def synthesize(n: int, *, seed: int, start: dt.date | None = None, end: dt.date | None = None,
               registry: Registry | None = None, methodology: str = DEFAULT_METHODOLOGY,
               as_of: dt.date | None = None, window_months: int = WINDOW_MONTHS,
               versions: Sequence[str | Ruleset] | None = None) -> Iterator[dict[str, Any]]:
    """``n`` assessments, reproducible by ``seed`` (the distributions are the module's assumptions).

    Args:
        n: how many assessments.
        seed: the random seed; the same arguments and seed give the same population.
        start, end: assessment dates are uniform in [start, end] ...
        as_of: ... or in the ``window_months`` months up to and including ``as_of``.
        registry: where the versions come from (default: the shipped rulesets).
        methodology: the methodology id.
        versions: None: each assessment follows the version in force on its date. Otherwise
            versions (``"2.0.0"`` or loaded rulesets): every assessment carries the union of their
            inputs and each of them accepts it once projected onto its own inputs.
    """
    if as_of is not None:
        start, end = window(as_of, window_months)
    if start is None or end is None:
        raise ValueError("give as_of, or both start and end")
    if end < start:
        raise ValueError(f"the period ends ({end.isoformat()}) before it starts ({start.isoformat()})")
    reg = registry or Registry.shipped()
    rng = random.Random(seed)
    fixed: list[Ruleset] | None = None
    if versions is not None:
        fixed = [v if isinstance(v, Ruleset) else reg.get(methodology, v) for v in versions]
        if not fixed:
            raise ValueError("versions is empty")
    generators: dict[tuple[str, ...], _Generator] = {}
    span = (end - start).days
    for index in range(1, n + 1):
        on = start + dt.timedelta(days=rng.randint(0, max(span, 0)))
        chosen = fixed if fixed is not None else [reg.in_force(methodology, on)]
        key = tuple(r.sha256 for r in chosen)
        gen = generators.get(key)
        if gen is None:
            gen = generators[key] = _Generator(chosen, rng)
        yield gen.assessment(on, index)
