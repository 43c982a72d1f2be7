"""Synthetic populations of assessments for any ruleset, reproducible by seed.

A population is a stream of raw assessments (dates as ISO strings, numbers as ``int`` or
``Decimal``), the same for the same arguments and seed. By default each assessment follows the
declared inputs of the version in force on its date; with ``versions`` every assessment carries
the union of those versions' inputs, so that each of them accepts it once projected onto its own
inputs (what impact analysis does: the older version ignores what only the newer one declares).

Synth knows no methodology: every value is drawn from its declaration (type, bounds, enum values,
pattern, catalogue ids, list sizes, object fields, optional fields sometimes left out) and aimed
at the thresholds the version's conditions compare it with, on both sides of each and exactly at
it (:mod:`ecei_rules.testing.synth_goals` reads them, :mod:`ecei_rules.testing.synth_draw` draws;
its docstring states every distribution). A comparison of a computed value with a constant
(``100 * energy / (0.233 * volume + 245) <= 42``) is solved for one input it reads: in
:data:`SOLVE_SHARE` of the assessments one such comparison is chosen and that input set by
bisection to the grid value just below, at or just above the threshold.

**Dates.** ``assessed_on`` is uniform over ``[start, end]``; with ``as_of=D`` over the
``window_months`` (default 12) months up to and including D: from the day after the same day
``window_months`` months earlier (the 12 months up to 2020-06-30 are 2019-07-01 .. 2020-06-30).

**Coverage-guided drawing.** Every candidate is decided (by each version it is for: the engine's
label mode with every outcome kept, no decision built) and each assessment kept is counted in a
:class:`~ecei_rules.testing.synth_coverage.Coverage`: per label, and per criterion, group, score
and tier how many came out met, not met and unknown. While some label has less than
half its fair share (``1 / (2 * labels)``, ``none`` included) or some outcome has not occurred at
all, each assessment is drawn up to :data:`TRIES` times and the first candidate that adds such a
label or outcome is kept (else the first candidate). A wish that :data:`GIVE_UP` assessments
could not meet is dropped (an outcome no input can reach), so the cost stays bounded; candidates
set aside are counted in ``Coverage.drawn``.

**Derived values.** A comparison of a derived value (a ``derived:`` section) is solved like any
computed comparison: ``synth_goals.derived_expressions`` gives each derived name its expression,
written out in the goal to find the inputs it reads. The bisection evaluates each derived value
the comparison reads once per step, in dependency order, and those the moving input does not
change once per solve (the same values as the expression written out, at a fraction of the cost).

**Profile.** Realism specific to one methodology (names, country codes, how many earlier awards)
is data, not code: a profile file (:func:`load_profile`; see ``examples/synth/``) gives
templates, choices and list lengths by JSON pointer, and replaces synth's own draws there.
"""

from __future__ import annotations

import datetime as dt
import random
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from decimal import Decimal
from fractions import Fraction
from pathlib import Path
from typing import Any

from ecei_rules.core.files import FileReadError, read_limited
from ecei_rules.core.logic import month_end
from ecei_rules.engine.evaluate import validate_assessment
from ecei_rules.errors import AssessmentError
from ecei_rules.language.interpreter import UNDEFINED, Expression, Interpreter, Range, parse, reads
from ecei_rules.registry import OFFICIAL, Registry
from ecei_rules.ruleset.inputs import project
from ecei_rules.ruleset.load import Ruleset
from ecei_rules.ruleset.safe_yaml import MAX_BYTES, parse_yaml
from ecei_rules.testing.synth_coverage import OUTCOMES, Coverage, VersionCoverage, outcomes
from ecei_rules.testing.synth_draw import (
    Drawer,
    Node,
    Profile,
    ProfileError,
    grid,
    merge,
    out_number,
    step_of,
)
from ecei_rules.testing.synth_goals import Computed, goals_of

WINDOW_MONTHS = 12
TRIES = 8
GIVE_UP = 40
SOLVE_SHARE = 0.6
REPAIRS = 40
#: The most bytes a profile file may have (a ruleset's limit: a profile is smaller than the ruleset it serves).
MAX_PROFILE_BYTES = MAX_BYTES

__all__ = ["Coverage", "Profile", "load_profile", "synthesize", "window"]


def window(as_of: dt.date, months: int = WINDOW_MONTHS) -> tuple[dt.date, dt.date]:
    """The ``months`` months up to and including ``as_of``: (first day, ``as_of``).

    Raises:
        ValueError: ``months`` is below 1, or the window would begin before the calendar's first day (0001-01-01).
    """
    if months < 1:
        raise ValueError("the window must span at least one month")
    index = as_of.year * 12 + as_of.month - 1 - months
    year, month = divmod(index, 12)
    if year < dt.MINYEAR:
        raise ValueError(f"the {months} months up to {as_of.isoformat()} would begin before 0001-01-01")
    last = month_end(dt.date(year, month + 1, 1), 0).day
    return dt.date(year, month + 1, min(as_of.day, last)) + dt.timedelta(days=1), as_of


def load_profile(path: str | Path) -> Profile:
    """Read a profile file (YAML or JSON) as every file a user names is read (``core.files``: opened once, a
    regular file only, at most `MAX_PROFILE_BYTES`: a named pipe, a device or a directory is refused, a file
    too large is refused by its size, not read).

    Raises:
        ValueError: the file cannot be read, is not a regular file, is too large, is not UTF-8 or not YAML, or
            has a wrong shape; a wrong shape is located, ``FILE:LINE:COLUMN: message (at /json/pointer)``, the
            pointer naming the key path in the profile (``/choices/~1site~1region``).
    """
    try:
        raw = read_limited(path, MAX_PROFILE_BYTES, f"profile {path}")
    except FileReadError as error:
        raise ValueError(error.message) from None
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as error:
        raise ValueError(f"cannot read the profile {path}: it is not UTF-8 text ({error.reason} at byte "
                         f"{error.start})") from None
    parsed = parse_yaml(text, str(path))
    if parsed.diagnostics:
        problem = parsed.diagnostics[0]
        where = f":{problem.line}:{problem.column}" if problem.line is not None else ""
        raise ValueError(f"the profile {path}{where}: {problem.message}")
    try:
        return Profile.from_data(parsed.data)
    except ProfileError as error:
        line, column = parsed.positions.locate(error.pointer, key=True)
        where = f"{path}:{line}:{column}" if line is not None else f"{path}"
        raise ValueError(f"the profile {where}: {error} (at {error.pointer or '/'})") from None


def _raw(value: Any) -> Any:
    """Dates as ISO strings, recursively."""
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, dict):
        return {k: _raw(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_raw(v) for v in value]
    return value


def _deciding(reg: Registry, methodology: str, on: dt.date, rng: random.Random) -> Ruleset:
    """The version an assessment dated ``on`` is drawn for: the version in force on that date; for a methodology
    whose versions are chosen by their ``selected_by``, the version in force on that date of one of its lines
    (the versions for one set of values of the input that chooses them), drawn alike."""
    if not reg.selects(methodology):
        return reg.in_force(methodology, on)
    latest: dict[tuple[str, ...] | None, tuple[dt.date, str]] = {}
    for version in reg.versions(methodology):
        status, starts = reg.header(methodology, version)
        if status not in OFFICIAL or starts > on:
            continue
        chosen = reg.selector(methodology, version)
        line = tuple(sorted(chosen.values)) if chosen is not None and chosen.input is not None else None
        if line not in latest or starts >= latest[line][0]:
            latest[line] = (starts, version)
    if not latest:
        return reg.in_force(methodology, on)  # none in force yet: its error
    lines = sorted(latest, key=lambda line: line or ())
    return reg.get(methodology, latest[lines[rng.randrange(len(lines))]][1])


def _selecting(rulesets: Sequence[Ruleset], data: dict[str, Any], on: dt.date, rng: random.Random) -> None:
    """Give an assessment drawn for versions chosen by their ``selected_by`` the values that choose them (so
    that the registry decides it under the version it was drawn for, and an impact study compares versions
    of one line on assessments of that line): a value of the input that chooses them that every one of them
    takes (none when they take none in common), and each date input that is not assessed_on the assessment
    date."""
    chosen = [r.document.selected_by for r in rulesets if r.document.selected_by is not None]
    if not chosen:
        return
    settings: dict[str, Any] = {c.date: on.isoformat() for c in chosen if c.date is not None}
    by_input = [c for c in chosen if c.input is not None]
    key = by_input[0].input if by_input and len({c.input for c in by_input}) == 1 else None
    if key is not None:
        common = [v for v in by_input[0].values if all(v in c.values for c in by_input)]
        if common:
            settings[key] = common[rng.randrange(len(common))]
    for path, value in settings.items():
        *parents, last = path.split(".")
        node = data
        for key in parents:
            node = node.setdefault(key, {}) if isinstance(node.get(key, {}), dict) else {}
        node[last] = value


class _Population:
    """The versions of one key (one version, or the union), their drawer and their coverage."""

    def __init__(self, rulesets: Sequence[Ruleset], profile: Profile, rng: random.Random,
                 coverage: Coverage) -> None:
        self.rulesets = list(rulesets)
        self.rng = rng
        root = merge([r.plan.inputs for r in self.rulesets])
        self.goals = goals_of(self.rulesets)
        self.drawer = Drawer(self.rulesets, self.goals, profile, rng)
        self.root: Node = root
        self.counts: list[VersionCoverage] = []
        for r in self.rulesets:
            found = coverage.versions.get(r.sha256)
            if found is None:
                found = coverage.versions[r.sha256] = VersionCoverage(
                    r.methodology, r.version, ("none", *r.document.labels))
            self.counts.append(found)
        self.misses: Counter[tuple[int, str, str, str]] = Counter()
        self.sides: dict[tuple[int, str], _Side] = {}

    # -- the wishes ------------------------------------------------------------------------------

    def wishes(self) -> set[tuple[int, str, str, str]]:
        """(version index, kind, id, outcome) still wished for: short labels and unseen outcomes."""
        out: set[tuple[int, str, str, str]] = set()
        for i, counts in enumerate(self.counts):
            fair = 1 / (2 * len(counts.labels_in_order))
            out |= {(i, "label", label, "awarded") for label in counts.labels_in_order
                    if counts.labels[label] < fair * (counts.decided + 1)}
            out |= {(i, kind, key, o) for (kind, key), c in counts.outcomes.items() for o in OUTCOMES if not c[o]}
        return {w for w in out if self.misses[w] < GIVE_UP}

    @staticmethod
    def grants(decisions: list[Any], wishes: set[tuple[int, str, str, str]]) -> bool:
        for i, d in enumerate(decisions):
            if (i, "label", d.label, "awarded") in wishes:
                return True
            rows = [("tier", t.label, t.outcome) for t in d.tiers]
            rows += [("criterion", c.id, c.outcome) for c in d.criteria]
            rows += [("group", g.id, g.outcome) for g in d.groups] + [("score", s.id, s.outcome) for s in d.scores]
            if any((i, *row) in wishes for row in rows):
                return True
        return False

    # -- one assessment --------------------------------------------------------------------------

    def draw(self, on: dt.date, index: int, coverage: Coverage) -> dict[str, Any]:
        wishes = self.wishes()
        first: tuple[dict[str, Any], list[Any]] | None = None
        for _ in range(TRIES if wishes else 1):
            data = self.candidate(on, index)
            decisions = self.decide(data)
            coverage.drawn += 1
            if first is None:
                first = (data, decisions)
            if not wishes or self.grants(decisions, wishes):
                break
        else:
            self.misses.update(wishes)
            data, decisions = first  # type: ignore[misc]
        for counts, decision in zip(self.counts, decisions, strict=True):
            counts.add(decision)
        coverage.kept += 1
        return data

    def candidate(self, on: dt.date, index: int) -> dict[str, Any]:
        data: dict[str, Any] = _raw(self.drawer.assessment(on, index))
        _selecting(self.rulesets, data, on, self.rng)  # versions chosen by selected_by: ones they apply to
        if self.goals.computed and self.rng.random() < SOLVE_SHARE:
            self.solve(data, self.rng.choice(self.goals.computed))
        self.repair(data)
        return data

    def decide(self, data: dict[str, Any]) -> list[Any]:
        """Each version's decision; ValueError when a version does not accept the assessment (a date asked
        for that the version cannot take, a value the profile gives that does not fit its declaration, or a
        required string whose pattern synth could not draw from: nothing else survives the repair)."""
        try:
            return [outcomes(r, dict(validate_assessment(r, self.view(data, i)).data))
                    for i, r in enumerate(self.rulesets)]
        except AssessmentError as error:
            first = error.diagnostics[0] if error.diagnostics else None
            where = f" at {first.pointer}: {first.message}" if first is not None else ""
            why = "the dates asked for: as_of and its window" if first is not None and first.pointer == "/assessed_on" \
                else "a value the profile gives that does not fit the input, or a pattern only RE2 reads"
            raise ValueError(f"synth drew an assessment that a version does not accept{where} ({why})") from error

    def view(self, data: dict[str, Any], i: int) -> Any:
        return project(data, self.rulesets[i].plan.inputs)[0] if len(self.rulesets) > 1 else data

    def repair(self, data: dict[str, Any]) -> None:
        """Drop whatever a version rejects (the union of inputs must fit every version)."""
        for _ in range(REPAIRS):
            for i, ruleset in enumerate(self.rulesets):
                _, problems = ruleset.plan.validator.validate(self.view(data, i))
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
            spec: Node | None = self.root
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

    # -- computed comparisons --------------------------------------------------------------------

    def solve(self, data: dict[str, Any], goal: Computed) -> None:
        """Set one input ``goal`` reads so that the computed value lies just below, at or just above
        its threshold (by bisection over the input's grid; nothing when the value does not cross it)."""
        rng = self.rng
        present = [p for p in goal.reads if "/-" not in p and _get(data, p) is not None]
        if not present:
            return
        pointer = rng.choice(present)
        node = _node(self.root, pointer)
        checked = [r.plan.validator.validate(self.view(data, i)) for i, r in enumerate(self.rulesets)]
        normalised = next((d for d, problems in checked if not problems and _get(d, pointer) is not None), None)
        if node is None or normalised is None:
            return
        step = step_of(node, [])
        span = self.drawer.span(pointer, [], node.minimum, node.maximum, step)
        lo = grid(node.minimum, step, up=True) if node.minimum is not None else -span
        hi = grid(node.maximum, step, up=False) if node.maximum is not None else lo + span
        computed = self.sides.get((id(goal), pointer))
        if computed is None:
            computed = self.sides[id(goal), pointer] = _Side(goal, pointer)
        computed.start(normalised)
        threshold = Fraction(goal.threshold)

        def side(k: int) -> int | None:
            _set(normalised, pointer, lo + k * step)
            value = computed.value(normalised)
            if goal.ranges and isinstance(value, Range):  # the range: wholly on one side, or across (0)
                return (Fraction(value.lo) > threshold) - (Fraction(value.hi) < threshold)
            if not isinstance(value, Fraction):
                return None
            return (value > threshold) - (value < threshold)

        top = int((hi - lo) / step)
        crossing = _crossing(side, top)
        if crossing is not None:
            a, b = crossing
            k = rng.choice([a, b, min(b + 1, top), max(a - 1, 0)])
            _set(data, pointer, out_number(lo + k * step, node.kind == "integer"))


class _Side:
    """The interpreter's value of a computed goal's side while one input it reads moves (the
    expressions parsed once per population). With derived values, each one the side reads is
    evaluated once, in dependency order: those that do not read the moving input once per solve
    (:meth:`start`), the others at every step (:meth:`value`)."""

    def __init__(self, goal: Computed, pointer: str) -> None:
        # a version that opts into ranges: its derived values read as the engine reads them
        self.interpreter = Interpreter(dict(goal.params), bounds=dict(goal.bounds), ranges=goal.ranges)
        self.derived_mode: dict[str, Any] = {UNDEFINED: []} if goal.ranges else {}
        self.expr = parse(goal.side if goal.stages else goal.text)
        self.top = pointer.split("/")[1].replace("~1", "/").replace("~0", "~")
        self.fixed: list[tuple[str, Expression]] = []
        self.moving: list[tuple[str, Expression]] = []
        moved: set[str] = set()
        for name, text in goal.stages:
            stage = parse(text)
            if any(_overlap(r, pointer) or r[1:] in moved for r in reads(stage)):
                moved.add(name)
                self.moving.append((name, stage))
            else:
                self.fixed.append((name, stage))
        self.inputs: dict[str, Any] = {}

    def start(self, data: dict[str, Any]) -> None:
        """Read validated data, and evaluate the derived values the moving input does not change."""
        self.inputs = self.interpreter.inputs(data)
        for name, stage in self.fixed:
            self.inputs[name] = self.interpreter.evaluate_in(stage, self.inputs, self.derived_mode)

    def value(self, data: dict[str, Any]) -> Any:
        """The side's value for ``data``, which differs from the data started with at most in the moving input."""
        self.inputs[self.top] = self.interpreter.inputs({self.top: data[self.top]})[self.top]
        for name, stage in self.moving:
            self.inputs[name] = self.interpreter.evaluate_in(stage, self.inputs, self.derived_mode)
        return self.interpreter.evaluate_in(self.expr, self.inputs)


def _overlap(read: str, pointer: str) -> bool:
    """A read of ``pointer``, of something inside it, or of something it is inside."""
    return read == pointer or pointer.startswith(read + "/") or read.startswith(pointer + "/")


def _crossing(side: Callable[[int], int | None], top: int) -> tuple[int, int] | None:
    """Two neighbouring grid points in [0, top] on either side of the threshold (``side`` is the sign
    of value - threshold at a grid point), found by bisection; None when the ends are on one side
    or a value is unknown."""
    a, b = 0, top
    first, last = side(a), side(b)
    if first is None or last is None or first == last:
        return None
    while b - a > 1:
        mid = (a + b) // 2
        s = side(mid)
        if s is None:
            return None
        if s == first:
            a = mid
        else:
            b = mid
    return a, b


def _get(data: Any, pointer: str) -> Any:
    node = data
    for part in pointer.split("/")[1:]:
        if not isinstance(node, dict):
            return None
        node = node.get(part.replace("~1", "/").replace("~0", "~"))
    return node


def _set(data: Any, pointer: str, value: Any) -> None:
    *parents, last = [p.replace("~1", "/").replace("~0", "~") for p in pointer.split("/")[1:]]
    node = data
    for part in parents:
        node = node[part]
    node[last] = value


def _node(root: Node, pointer: str) -> Node | None:
    node: Node | None = root
    for part in pointer.split("/")[1:]:
        if node is None:
            return None
        node = node.members.get(part.replace("~1", "/").replace("~0", "~"))
    return node


def synthesize(n: int, *, seed: int, start: dt.date | None = None, end: dt.date | None = None,
               registry: Registry | None = None, methodology: str | None = None,
               as_of: dt.date | None = None, window_months: int = WINDOW_MONTHS,
               versions: Sequence[str | Ruleset] | None = None, profile: Profile | None = None,
               coverage: Coverage | None = None) -> Iterator[dict[str, Any]]:
    """``n`` assessments, reproducible by ``seed`` (the distributions are stated in the modules).

    Args:
        n: how many assessments.
        seed: the random seed; the same arguments and seed give the same population.
        start, end: assessment dates are uniform in [start, end] ...
        as_of: ... or in the ``window_months`` months up to and including ``as_of``.
        registry: where the versions come from (default: the shipped rulesets).
        methodology: the methodology id (None: the registry's only one).
        versions: None: each assessment follows the version in force on its date. Otherwise
            versions (``"2.0.0"`` or loaded rulesets): every assessment carries the union of their
            inputs and each of them accepts it once projected onto its own inputs.
        profile: data that replaces some draws (names, codes, list lengths), see :func:`load_profile`.
        coverage: filled while the population is drawn: per version, label and criterion, group,
            score and tier outcome counts (see the module).
    """
    if as_of is not None:
        start, end = window(as_of, window_months)
    if start is None or end is None:
        raise ValueError("give as_of, or both start and end")
    if end < start:
        raise ValueError(f"the period ends ({end.isoformat()}) before it starts ({start.isoformat()})")
    reg = registry or Registry.shipped()
    methodology = methodology or reg.default_methodology()
    rng = random.Random(seed)
    seen = coverage if coverage is not None else Coverage()
    chosen_profile = profile or Profile()
    fixed: list[Ruleset] | None = None
    if versions is not None:
        fixed = [v if isinstance(v, Ruleset) else reg.get(methodology, v) for v in versions]
        if not fixed:
            raise ValueError("versions is empty")
    populations: dict[tuple[str, ...], _Population] = {}
    span = (end - start).days
    for index in range(1, n + 1):
        on = start + dt.timedelta(days=rng.randint(0, max(span, 0)))
        chosen = fixed if fixed is not None else [_deciding(reg, methodology, on, rng)]
        key = tuple(r.sha256 for r in chosen)
        population = populations.get(key)
        if population is None:
            population = populations[key] = _Population(chosen, chosen_profile, rng, seen)
        yield population.draw(on, index, seen)


# A step of the decimal grid is never finer than this many places (the validator's limits hold).
assert Decimal(1).scaleb(-6) > 0
