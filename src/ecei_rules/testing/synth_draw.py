"""One synthetic assessment drawn from the declared inputs of one or more versions, aimed at the
thresholds of their conditions (:mod:`ecei_rules.testing.synth_goals`).

How a value is drawn (every choice from the one seeded random source):

* **Quality.** Each assessment has a quality ``q ~ Beta(5, 2)``. A goal of a criterion weighted in
  a score passes with probability ``q ** 2.5``, any other criterion or validity goal with
  ``1 - (1 - q) ** 4``; a goal on the items of a list passes with probability 0.7 for each item
  by itself; a check of the inputs always holds. Every goal on one input shares one uniform draw,
  so a value that passes a strict threshold also passes a lenient one of the same input.
* **Numbers.** The goals' pass or fail choices make an interval; 45 % of the values lie exactly at
  one of the thresholds in it or one or two steps inside (a step is 1 for integers, 0.01 or the
  finest decimal place of the thresholds for decimals), the rest are uniform over the interval.
  An open side reaches as far as the scale of the input: the largest of its thresholds, of its
  declared bounds and of the constants it is computed with elsewhere (at least 10 steps, 100 when
  nothing is known), so an unbounded decimal is drawn over the range its thresholds live in.
* **Dates.** ``assessed_on`` is given. A date compared with another date (directly, through
  ``month_end`` or ``months_between``) is drawn a whole number of months from it, that number
  drawn like an integer with the comparisons' thresholds in months (and 0: before or after the
  other date); 60 % fall on the same day of the month, the rest within ten days of it. A date
  compared with a date literal is drawn like an integer (its day number) around that day, within a
  year of it (half the time, when it is also compared with another date). A date compared with
  nothing lies 36 months before to 12 months after ``assessed_on``.
* **Lists** have 0 to 4 items unless a count of them is compared with a constant (then drawn like
  an integer around it); **strings** are a value they are compared with (half the time, when
  there is one), a catalogue id, a string matching their pattern (RE2), or ``<name>-<index>``;
  **enums** likewise.
* **Unknowns.** An optional top-level input is left out with probability 0.03; 8 % of the
  assessments are sparse and leave out each optional nested field with probability 0.3.

A profile (:class:`Profile`) can replace any of these draws for a given pointer with data: a
template, a list of choices (optionally weighted), or a distribution of list lengths.
"""

from __future__ import annotations

import datetime as dt
import math
import random
import re
import string
from collections.abc import Sequence
from dataclasses import dataclass, field
from decimal import ROUND_CEILING, ROUND_FLOOR, Decimal
from typing import Any

from ecei_rules.core.logic import month_end
from ecei_rules.core.pointers import pointer_join
from ecei_rules.ruleset.analysis import passes
from ecei_rules.ruleset.inputs import Field
from ecei_rules.ruleset.load import Ruleset
from ecei_rules.testing.regex_draw import draw_matching
from ecei_rules.testing.synth_goals import Goal, Goals

QUALITY_BETA = (5.0, 2.0)
SCORE_EXPONENT = 2.5
GATE_EXPONENT = 3
ITEM_PASS = 0.7
SPARSE_SHARE = 0.08
SPARSE_DROP = 0.3
TOP_DROP = 0.03
AT_EDGE = 0.45
SAME_DAY = 0.6
MAX_DRAWN_ITEMS = 4
DEFAULT_SPAN = Decimal(100)
DATE_SPAN = (-36, 12)
_LAST_DAY = dt.date.max.toordinal()
DAYS_SPAN = 365
_NEGATE = {">=": "<", ">": "<=", "<=": ">", "<": ">="}


def dec(value: Any) -> Decimal | None:
    if value is None or isinstance(value, bool):
        return None
    return Decimal(str(value))


@dataclass
class Node:
    """One input declared by one or more versions, merged so that a value fits all of them."""

    kind: str
    required: bool
    minimum: Decimal | None = None
    maximum: Decimal | None = None
    values: tuple[str, ...] = ()
    ids: tuple[str, ...] = ()
    declared: Field | None = None  # the first declaration (pattern, lengths, calendar)
    members: dict[str, Node] = field(default_factory=dict)
    items: Node | None = None
    max_items: int = MAX_DRAWN_ITEMS
    has_default: bool = False


def merge(fields: list[Field]) -> Node:
    """One node for the same input declared by several versions: the tightest bounds, the values and
    catalogue ids every version allows, and the members and items merged the same way."""
    first = fields[0]
    same = [f for f in fields if f.kind == first.kind]
    node = Node(first.kind, any(f.required for f in fields), *_bounds(same), declared=first,
                max_items=min(f.max_items for f in same), has_default=all(f.spec.default is not None for f in same))
    node.values = _common([tuple(f.spec.values or ()) for f in same]) if first.kind == "enum" else ()
    node.ids = _common([f.catalogue_ids for f in same if f.catalogue_ids])
    names: dict[str, list[Field]] = {}
    for f in same:
        for name, sub in _members(f).items():
            names.setdefault(name, []).append(sub)
    node.members = {name: merge(subs) for name, subs in names.items()}
    items = [f.items for f in same if f.kind == "list" and f.items is not None]
    node.items = merge(items) if items else None
    return node


def _bounds(fields: list[Field]) -> tuple[Decimal | None, Decimal | None]:
    """The highest minimum and the lowest maximum the fields declare."""
    mins = [m for m in (dec(f.spec.minimum) for f in fields) if m is not None]
    maxs = [m for m in (dec(f.spec.maximum) for f in fields) if m is not None]
    return max(mins, default=None), min(maxs, default=None)


def _common(lists: list[tuple[str, ...]]) -> tuple[str, ...]:
    """The values every list has, in the first one's order (none without lists)."""
    if not lists:
        return ()
    common = set.intersection(*(set(values) for values in lists))
    return tuple(v for v in lists[0] if v in common)


def _members(f: Field) -> dict[str, Field]:
    """The named members of an object or the entries of a map (none for other kinds)."""
    if f.kind == "object":
        return f.fields
    return f.entries if f.kind == "map" else {}


@dataclass
class Profile:
    """Data that replaces synth's own draws for given pointers (list items as ``-``)."""

    templates: dict[str, str] = field(default_factory=dict)  # pointer -> "text {index}" (str.format)
    choices: dict[str, tuple[list[Any], list[float] | None]] = field(default_factory=dict)
    lengths: dict[str, tuple[list[int], list[float]]] = field(default_factory=dict)  # list pointer -> lengths

    @classmethod
    def from_data(cls, data: Any) -> Profile:
        """A profile from plain data (a parsed YAML or JSON file).

        Raises:
            ProfileError: a wrong shape (a ValueError; its ``pointer`` says where in the data).
        """
        if data is None:
            return cls()
        if not isinstance(data, dict) or set(data) - {"templates", "choices", "lengths", "description"}:
            extra = sorted(set(data) - {"templates", "choices", "lengths", "description"}) \
                if isinstance(data, dict) else []
            raise ProfileError("a synth profile is a mapping of 'templates', 'choices' and 'lengths' (and a "
                               "'description')", pointer_join("", str(extra[0])) if extra else "")
        out = cls()
        for pointer, template in _mapping(data, "templates").items():
            problem = _template_problem(str(template))
            if problem is not None:
                raise ProfileError(f"templates for {pointer}: {problem}", pointer_join("/templates", pointer))
            out.templates[pointer] = str(template)
        for pointer, spec in _mapping(data, "choices").items():
            at = pointer_join("/choices", pointer)
            if isinstance(spec, dict):
                out.choices[pointer] = (list(spec), _weights(spec, f"choices for {pointer}", at))
            elif isinstance(spec, list) and spec:
                out.choices[pointer] = (list(spec), None)
            else:
                raise ProfileError(f"choices for {pointer}: a non-empty list, or a mapping of value -> weight", at)
        for pointer, spec in _mapping(data, "lengths").items():
            at = pointer_join("/lengths", pointer)
            if not isinstance(spec, dict) or not spec:
                raise ProfileError(f"lengths for {pointer}: a mapping of length -> weight", at)
            try:
                lengths = [int(k) for k in spec]
            except ValueError as error:
                raise ProfileError(f"lengths for {pointer}: the lengths are whole numbers", at) from error
            if any(n < 0 for n in lengths):
                raise ProfileError(f"lengths for {pointer}: the lengths are whole numbers >= 0", at)
            out.lengths[pointer] = (lengths, _weights(spec, f"lengths for {pointer}", at))
        return out


class ProfileError(ValueError):
    """A profile of a wrong shape: the message, and ``pointer``, the JSON pointer of the wrong value in the
    profile's data (``/choices/~1site~1region``; empty for the whole)."""

    def __init__(self, message: str, pointer: str) -> None:
        super().__init__(message)
        self.pointer = pointer


def _mapping(data: dict[str, Any], key: str) -> dict[str, Any]:
    value = data.get(key) or {}
    if not isinstance(value, dict) or not all(isinstance(k, str) and k.startswith("/") for k in value):
        raise ProfileError(f"'{key}' maps JSON pointers (/a/b, list items as -) to values", f"/{key}")
    return value


#: The format a template may give ``{index}``: Python's format of a whole number, with a width of at most two
#: digits (``{index:06d}``), so that a template's text stays short whatever the profile says.
_INDEX_FORMAT = re.compile(r"(?:[^{}]?[<>=^])?[+\- ]?#?0?[0-9]{0,2}[,_]?[bdoxXn]?")


def _template_problem(template: str) -> str | None:
    """Why a template cannot be one (None when it can): ``{index}`` is the only name it may use, without an
    attribute, an item or a conversion, formatted as `_INDEX_FORMAT` allows."""
    try:
        parts = list(string.Formatter().parse(template))
    except ValueError as error:
        return f"not a template ({error})"
    for _, name, spec, conversion in parts:
        if name is None:
            continue
        if name != "index" or conversion is not None:
            written = name + ("!" + conversion if conversion else "")
            return f"{{index}} is the only name a template may use (not {{{written}}})"
        if not _INDEX_FORMAT.fullmatch(spec or ""):
            return (f"{{index:{spec}}}: the format of a whole number with a width of at most two digits "
                    "(e.g. {index:06d})")
    return None


def _weights(spec: dict[Any, Any], what: str, at: str) -> list[float]:
    """The weights of a mapping of value -> weight: finite numbers >= 0 of a total above 0 (a draw needs one)."""
    weights: list[float] = []
    for key, value in spec.items():
        number = float(value) if isinstance(value, (int, float, Decimal)) and not isinstance(value, bool) else None
        if number is None or not math.isfinite(number) or number < 0:
            raise ProfileError(f"{what}: weights are finite numbers >= 0", pointer_join(at, str(key)))
        weights.append(number)
    total = sum(weights)
    if not math.isfinite(total):
        raise ProfileError(f"{what}: the weights add up to more than a number can hold", at)
    if total <= 0:
        raise ProfileError(f"{what}: the weights add up to 0: give at least one a weight above 0", at)
    return weights


def grid(value: Decimal, step: Decimal, *, up: bool) -> Decimal:
    return (value / step).to_integral_value(ROUND_CEILING if up else ROUND_FLOOR) * step


def interval(constraints: list[tuple[str, Decimal, bool]], step: Decimal) -> tuple[Decimal | None, Decimal | None]:
    """The values on the grid of ``step`` that pass or fail each ``value op threshold`` as asked."""
    lo: Decimal | None = None
    hi: Decimal | None = None
    for op, t, passing in constraints:
        effective = op if passing else _NEGATE[op]
        if effective in (">=", ">"):
            bound = grid(t, step, up=True) if effective == ">=" else grid(t, step, up=False) + step
            lo = bound if lo is None else max(lo, bound)
        else:
            bound = grid(t, step, up=False) if effective == "<=" else grid(t, step, up=True) - step
            hi = bound if hi is None else min(hi, bound)
    return lo, hi


def out_number(value: Decimal, integer: bool) -> Any:
    if integer:
        return int(value)
    return value.normalize() if value == value.to_integral_value() else value


def step_of(node: Node, thresholds: Sequence[Decimal]) -> Decimal:
    """1 for integers; for decimals 0.01, or the finest decimal place of the thresholds and bounds."""
    if node.kind == "integer":
        return Decimal(1)
    places = [-int(v.normalize().as_tuple().exponent) for v in (*thresholds, node.minimum, node.maximum)
              if v is not None and v.is_finite()]
    return Decimal(1).scaleb(-min(max([2, *places]), 6))


def _decides(goal: Goal, step: Decimal, lo: Decimal | None, hi: Decimal | None) -> bool:
    """Whether values within [lo, hi] lie on both sides of the goal (``x >= 0`` of a number whose
    minimum is 0 decides nothing: its edge is no threshold to aim at)."""
    op, t, _ = goal
    sides = []
    for passing in (True, False):
        a, b = interval([(op, t, passing)], step)
        a = a if lo is None else lo if a is None else max(a, lo)
        b = b if hi is None else hi if b is None else min(b, hi)
        sides.append(a is None or b is None or a <= b)
    return all(sides)


def _feasible(wanted: list[tuple[str, Decimal, bool, str]], step: Decimal, lo: Decimal | None,
              hi: Decimal | None) -> tuple[Decimal | None, Decimal | None]:
    """The values within [lo, hi] on each side asked of each goal; if there are none, those on the
    passing side of the must goals alone; if none either, [lo, hi]."""
    for keep in (wanted, [w for w in wanted if w[3] == "must"]):
        a, b = interval([(op, t, ok) for op, t, ok, _ in keep], step)
        a = a if lo is None else lo if a is None else max(a, lo)
        b = b if hi is None else hi if b is None else min(b, hi)
        if a is None or b is None or a <= b:
            return a, b
    return lo, hi


def _closed(bounds: tuple[Decimal | None, Decimal | None], edges: list[Decimal],
            span: Decimal) -> tuple[Decimal, Decimal]:
    """An interval with its open sides closed ``span`` away from the other side (or from the lowest edge)."""
    a, b = bounds
    if b is not None:
        return (b - span if a is None else a), b
    start = a if a is not None else (edges[0] - span) if edges else Decimal(0)
    return start, start + span


class Drawer:
    """Assessments for one set of versions (one version, or several for a comparison)."""

    def __init__(self, rulesets: Sequence[Ruleset], goals: Goals, profile: Profile, rng: random.Random) -> None:
        self.rulesets = list(rulesets)
        self.rng = rng
        self.root = merge([r.plan.inputs for r in self.rulesets])
        self.goals = goals
        self.profile = profile
        self.quality = 0.0
        self.sparse = False
        self.index = 0
        self.draws: dict[str, float] = {}
        self.grids: dict[str, tuple[list[Goal], Decimal, Decimal | None, Decimal | None, Decimal]] = {}

    # -- probabilities ---------------------------------------------------------------------------

    def wants(self, role: str, pointer: str) -> bool:
        """Whether a goal of this role on this input passes (one shared draw per input and assessment)."""
        if role == "must":
            return True
        if role == "item":
            return self.rng.random() < ITEM_PASS
        if pointer not in self.draws:
            self.draws[pointer] = self.rng.random()
        chance = self.quality ** SCORE_EXPONENT if role == "score" else 1 - (1 - self.quality) ** GATE_EXPONENT
        return self.draws[pointer] < chance

    # -- one assessment --------------------------------------------------------------------------

    def assessment(self, on: dt.date, index: int) -> dict[str, Any]:
        rng = self.rng
        self.quality = rng.betavariate(*QUALITY_BETA)
        self.sparse = rng.random() < SPARSE_SHARE
        self.index = index
        self.draws = {}
        data: dict[str, Any] = {"assessed_on": on}
        self.members(self.root, "", data, {"/assessed_on": on}, top=True)
        return data

    def members(self, node: Node, pointer: str, out: dict[str, Any], known: dict[str, Any], top: bool = False) -> None:
        """Fill ``out`` with the members of an object (or map); ``known`` holds the dates drawn so far
        by pointer (the assessment's and the current items'), for dates drawn relative to them."""
        rng = self.rng
        order = sorted(node.members.items(), key=lambda kv: kv[1].kind == "date")
        for name, sub in order:
            child = f"{pointer}/{name.replace('~', '~0').replace('/', '~1')}"
            if name in out:
                continue
            if not sub.required and not (sub.kind == "list" and sub.has_default and top):
                if top and rng.random() < TOP_DROP:
                    continue
                if not top and self.sparse and rng.random() < SPARSE_DROP:
                    continue
            out[name] = self.value(sub, child, known)
            if sub.kind == "date":
                known[child] = out[name]
        self.relate(pointer, out)

    def relate(self, pointer: str, out: dict[str, Any]) -> None:
        """Set the first number of each relation between two members (``k * a op m * b``) so that it holds
        or fails as its role says, half the time at the boundary; then mend what breaks a check."""
        relations = sorted(self.goals.relations, key=lambda r: r[5] == "must")
        for a, ka, op, b, kb, role in relations:
            parent, name_a = a.rsplit("/", 1)
            parent_b, name_b = b.rsplit("/", 1)
            other = out.get(name_b)
            if parent != pointer or parent_b != pointer or not isinstance(out.get(name_a), int) \
                    or not isinstance(other, int):
                continue
            holds = passes(op, Decimal(ka * out[name_a]), Decimal(kb * other))
            if role == "must" and holds:
                continue
            want = self.wants(role, a)
            good = [c for c in range(max(other, 0) * max(kb, 1) // max(ka, 1) + 2)
                    if passes(op, Decimal(ka * c), Decimal(kb * other)) == want]
            if not good:
                continue
            edges = [c for c in good if c - 1 not in good or c + 1 not in good]
            if role == "must":
                out[name_a] = min(good, key=lambda c: abs(c - out[name_a]))
            else:
                out[name_a] = self.rng.choice(edges) if self.rng.random() < 0.5 else self.rng.choice(good)

    def value(self, node: Node, pointer: str, known: dict[str, Any]) -> Any:
        rng = self.rng
        kind = node.kind
        profiled = self.profiled(pointer)
        if profiled is not None:
            return profiled[0]
        if kind == "boolean":
            role = self.goals.flags.get(pointer)
            return self.wants(role, pointer) if role is not None else rng.random() < 0.5
        if kind in ("integer", "decimal"):
            return self.number(node, pointer)
        if kind == "date":
            return self.date(node, pointer, known)
        if kind in ("enum", "string"):
            return self.string(node, pointer)
        if kind == "list":
            return self.items_of(node, pointer, known)
        if kind in ("object", "map"):
            out: dict[str, Any] = {}
            self.members(node, pointer, out, known)
            return out
        return None

    def profiled(self, pointer: str) -> tuple[Any] | None:
        template = self.profile.templates.get(pointer)
        if template is not None:
            return (template.format(index=self.index),)
        choice = self.profile.choices.get(pointer)
        if choice is not None:
            values, weights = choice
            return (self.rng.choices(values, weights)[0],)
        return None

    def string(self, node: Node, pointer: str) -> str:
        rng = self.rng
        allowed = node.values or node.ids
        compared = [v for v in self.goals.values.get(pointer, ()) if not allowed or v in allowed]
        if compared and rng.random() < 0.5:
            return rng.choice(compared)
        if allowed:
            return rng.choice(allowed)
        f = node.declared
        if f is not None and f.pattern is not None:
            drawn = draw_matching(f.pattern, rng, f.max_length)
            if drawn is not None:
                return drawn
        text = f"{pointer.rsplit('/', 1)[-1]}-{self.index:06d}"
        return text[: f.max_length] if f is not None else text

    def items_of(self, node: Node, pointer: str, known: dict[str, Any]) -> list[Any]:
        rng = self.rng
        if node.items is None:
            return []
        lengths = self.profile.lengths.get(pointer)
        sizes = self.goals.sizes.get(pointer, [])
        top = min(node.max_items, max([MAX_DRAWN_ITEMS, *(int(t) + 2 for _, t, _ in sizes)]))
        if lengths is not None:
            count = rng.choices(*lengths)[0]
        elif sizes:
            count = int(self.pick(sizes, [], Decimal(1), Decimal(0), Decimal(top), Decimal(top), pointer))
        else:
            count = rng.randint(0, min(MAX_DRAWN_ITEMS, node.max_items))
        out = []
        for _ in range(max(0, min(count, node.max_items))):
            item_known = {k: v for k, v in known.items() if not k.startswith(pointer + "/-/")}
            out.append(self.value(node.items, pointer + "/-", item_known))
        return out

    # -- numbers and dates near their thresholds -------------------------------------------------

    def number(self, node: Node, pointer: str) -> Any:
        known = self.grids.get(pointer)
        if known is None:
            goals = self.goals.numbers.get(pointer, [])
            step = step_of(node, [t for _, t, _ in goals])
            lo = grid(node.minimum, step, up=True) if node.minimum is not None else None
            hi = grid(node.maximum, step, up=False) if node.maximum is not None else None
            goals = [g for g in goals if _decides(g, step, lo, hi)]
            thresholds = [t for _, t, _ in goals]
            known = self.grids[pointer] = (goals, step, lo, hi, self.span(pointer, thresholds, lo, hi, step))
        goals, step, lo, hi, span = known
        return out_number(self.pick(goals, [], step, lo, hi, span, pointer), node.kind == "integer")

    def span(self, pointer: str, thresholds: list[Decimal], lo: Decimal | None, hi: Decimal | None,
             step: Decimal) -> Decimal:
        """How far an open side reaches: the scale of the input's thresholds, bounds and constants."""
        sizes = [abs(t) for t in thresholds]
        if lo is not None and hi is not None:
            sizes.append(hi - lo)
        sizes += [abs(b) for b in (lo, hi) if b is not None]
        scale = self.goals.scales.get(pointer)
        if scale is not None:
            sizes.append(2 * scale)
        found = max(sizes, default=Decimal(0))
        return max(found, 10 * step) if found else DEFAULT_SPAN

    def pick(self, goals: list[Goal], cuts: list[Decimal], step: Decimal, lo: Decimal | None, hi: Decimal | None,
             span: Decimal, pointer: str) -> Decimal:
        """A value on the grid of ``step`` within [lo, hi] that passes or fails each goal as its role
        says (the must goals always pass; a choice that leaves nothing drops the other goals)."""
        rng = self.rng
        wanted = [(op, t, self.wants(role, pointer), role) for op, t, role in goals]
        edges = sorted({t for _, t, _ in goals} | set(cuts))
        a, b = _closed(_feasible(wanted, step, lo, hi), edges, span)
        if rng.random() < AT_EDGE:
            near = [v for t in edges for k in (-2, -1, 0, 1, 2) if a <= (v := grid(t, step, up=True) + k * step) <= b]
            if near:
                return rng.choice(near)
        low, high = grid(a, step, up=True), grid(b, step, up=False)
        if high <= low:
            return low
        return low + step * rng.randint(0, int((high - low) / step))

    def date(self, node: Node, pointer: str, known: dict[str, Any]) -> dt.date:
        """A date a whole number of months from a date already drawn that it is compared with."""
        rng = self.rng
        anchors = [(other, goals) for other, goals in self.goals.dates.get(pointer, {}).items() if other in known]
        moments = self.goals.moments.get(pointer)
        if moments and (not anchors or rng.random() < 0.5):
            days = int(self.pick(moments, [], Decimal(1), None, None, Decimal(DAYS_SPAN), pointer))
            return self.calendar(node, dt.date.fromordinal(min(max(days, 1), dt.date.max.toordinal())))
        if anchors:
            other, goals = rng.choice(anchors)
            thresholds = [t for _, t, _ in goals]
            step = Decimal(1)
            span = max([Decimal(12), *(abs(t) for t in thresholds)])
            months = int(self.pick(goals, [Decimal(0)], step, None, None, span, pointer))
            anchor: dt.date = known[other]
        else:
            months = rng.randint(*DATE_SPAN)
            anchor = known["/assessed_on"]
            goals = []
        try:
            day = month_end(anchor, months)
        except OverflowError:  # past an end of the calendar (an anchor near 0001 or 9999): that end
            day = dt.date.max if months > 0 else dt.date.min
        drawn = day.replace(day=min(anchor.day, day.day))
        if rng.random() >= SAME_DAY:  # a few days either way, within the calendar
            drawn = dt.date.fromordinal(min(max(drawn.toordinal() + rng.randint(-10, 10), 1), _LAST_DAY))
        for other, musts in self.goals.dates.get(pointer, {}).items():
            for op, months_, role in musts:
                if role == "must" and other in known and months_ == 0 and not passes(op, drawn, known[other]):
                    drawn = known[other]
        return self.calendar(node, drawn)

    @staticmethod
    def calendar(node: Node, day: dt.date) -> dt.date:
        """The day, within the dates the input may hold (the calendar the ruleset's month_end calls allow)."""
        f = node.declared
        if f is not None and f.date_range is not None:
            return min(max(day, f.date_range[0]), f.date_range[1])
        return day
