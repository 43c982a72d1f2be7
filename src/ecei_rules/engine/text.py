"""The fast path of the evaluator's text mode: a decision's canonical JSON text, decided and
written in one pass by code generated per version, without the models.

:func:`ecei_rules.engine.evaluate.decision_text` gives ``evaluate(...).canonical_text()``
byte for byte; replay needs the text, not the models.

Most of a decision's text does not depend on the assessment, and what does is a function
of few values. A criterion's outcome and its part of the trace (the inputs it read, the
absent ones, the outcome) depend only on the values at the pointers it reads: its
condition reads nothing else (parameters are constants and the language has no clock).
So each criterion remembers, for the values it has seen, its outcome and its text; an
assessment whose values it has seen costs a key walk and a dictionary look-up, and its
condition is not run again. Criteria that read the same inputs (a criterion and its variant
for another tier) share one look-up.

* The key of a declared boolean, number, date or string is its value: validated values of
  one input that are equal have the same text and decide alike (``2`` and ``2.0`` both
  write ``2``). Any other key holds each value's class with it (``true`` is not ``1``).
* A list or an object read is looked up by a frozen copy while that finds something often
  enough (one in eight of the first :data:`FROZEN_TRIAL` look-ups); else the criterion is
  decided every time.
* The tables are bounded in bytes, not only in entries: each holds at most
  :data:`MEMO_LIMIT` entries, and a version's tables (criteria and scores together) at most
  :data:`MEMO_BYTES` of estimated memory (:data:`BYTES_PER_CHAR` bytes a character of an
  entry's texts, which show every value its key keeps alive). An entry estimated above
  :data:`MEMO_ENTRY_BYTES` is never stored, and a list or an object of more than
  :data:`MEMO_ITEMS` items is never frozen nor looked up: an assessment with 100,000
  improvement areas is decided, not remembered. ``memo_bytes`` of a :class:`TextPlan` is what
  its tables hold by that estimate.

Per version, one straight-line function is generated: it walks each input once, looks up
or decides each criterion, works out groups, scores and tiers in local variables and joins
the criteria's texts with their constant parts at once. Only generated names and whole
numbers go into its source (the tests parse it to check); every key, id and text of the
ruleset is bound in its namespace.

The property suite checks the text against :meth:`Decision.canonical_text` of
:func:`ecei_rules.evaluate` and of the reference evaluator, on generated assessments of
every shipped version and of the every-construct ruleset, and with nothing remembered.
"""

from __future__ import annotations

from collections.abc import Callable
from contextlib import suppress
from types import MappingProxyType
from typing import Any

from ecei_rules.core.logic import OUTCOMES, UNKNOWN
from ecei_rules.core.pointers import MISSING, split_pointer
from ecei_rules.engine.plan import (
    FastCriterion,
    FastGroup,
    FastScore,
    FastTier,
    Plan,
    absent_inputs,
    derived_read,
    points_results,
    points_weight,
    score_outcome,
    whole,
)
from ecei_rules.engine.serialise import Serialiser, nullable, number, string
from ecei_rules.ruleset.inputs import AssessmentValidator, Field

#: Values remembered per criterion (and (met, unknown) weights per score).
MEMO_LIMIT = 8192
#: Estimated bytes a version's tables may hold in all (criteria and scores together).
MEMO_BYTES = 64 * 1024 * 1024
#: An entry (its key and texts) estimated above this many bytes is decided every time, not stored.
MEMO_ENTRY_BYTES = 64 * 1024
#: A list or an object read with more items than this is not frozen, looked up nor stored.
MEMO_ITEMS = 1000
#: An entry's estimated bytes per character of its texts. The texts show every value of the key
#: (the inputs read, as JSON), so this covers the texts themselves (one byte a character, four
#: beyond Latin-1), the key's strings (likewise) and the tuples of a frozen list or object.
BYTES_PER_CHAR = 8
#: Lookups by frozen key (a list or an object read) after which a criterion that found less than
#: an eighth of them stops remembering and is decided every time.
FROZEN_TRIAL = 4096

# (value, inputs/missing/outcome text) of each criterion that reads the same inputs, in order
Entry = tuple[Any, ...]
#: env -> (the criteria's text, the label, the groups' texts, the scores' texts, the tiers' texts)
Decide = Callable[[dict[str, Any]], tuple[str, str, str, str, str]]


def _decider(cs: list[FastCriterion], memo: dict[Any, Entry], budget: list[int],
             containers: bool, typed: bool, middle: Callable[..., str],
             serialiser_read: Callable[[dict[str, Any]], str]) -> Callable[[dict[str, Any], Any], Entry]:
    """Decide criteria that read the same inputs and write their texts: ``(value, text)`` for
    each, in one tuple, remembered under ``key`` unless a table is full.

    With ``containers`` (an input read may be a list or an object), the generated code calls
    this without looking in the table: a key holding a list or an object is looked up here by
    its frozen form, while that finds something often enough; with ``typed`` (every input read
    is declared, with no untyped part), frozen by value alone. ``middle`` is the version's
    serialiser's writer of a criterion's inputs, absent inputs and outcome; ``serialiser_read``
    its writer of the derived values a criterion read (which its inputs decide)."""
    fns, reader = [c.fn for c in cs], cs[0].inputs
    # a criterion that reads derived values: its text from them on (its head stops before them)
    heads = [(c.derived, f'"id":{string(c.id)},"inputs":') if c.derived else None for c in cs]
    tries = [0, 0]  # lookups by frozen key, and how many found something
    freeze = _frozen_typed if typed else _frozen

    def decide(env: dict[str, Any], key: Any) -> Entry:
        if containers:
            frozen = large = False
            for v in key:
                if v.__class__ is list or v.__class__ is dict:
                    frozen = True
                    if len(v) > MEMO_ITEMS:
                        large = True
            if not frozen:
                found = memo.get(key)
                if found is not None:
                    return found
            elif large or (tries[0] >= FROZEN_TRIAL and tries[1] * 8 < tries[0]):
                key = None  # too large to remember, or rarely found again: decided every time
            else:
                tries[0] += 1
                try:
                    key = tuple([freeze(v) if v.__class__ is list or v.__class__ is dict else v for v in key])
                    found = memo.get(key)
                except TypeError:  # a list inside an object (by value alone): frozen fully
                    key = tuple([_frozen(v) if v.__class__ is list or v.__class__ is dict else v for v in key])
                    found = memo.get(key)
                if found is not None:
                    tries[1] += 1
                    return found
        read, missing = reader(env)
        entry: tuple[Any, ...] = ()
        for fn, head in zip(fns, heads, strict=True):
            value = fn(env)
            if value is not True and value is not False:
                value = UNKNOWN
            text = middle(read, missing, OUTCOMES[value])
            if head is not None:
                text = serialiser_read(derived_read(head[0], env)) + head[1] + text
            entry += (value, text)
        if key is not None and len(memo) < MEMO_LIMIT and budget[0] > 0:
            # estimated: the texts show every value of the key, as JSON (see BYTES_PER_CHAR)
            cost = 256 + BYTES_PER_CHAR * sum(map(len, entry[1::2]))
            if cost <= MEMO_ENTRY_BYTES and cost <= budget[0]:
                with suppress(TypeError):  # a value beyond lists, objects and plain values: not remembered
                    memo[key] = entry
                    budget[0] -= cost
        return entry

    return decide


def _frozen_typed(value: Any) -> Any:
    """A list of objects or an object as nested tuples of its values (hashable when they are
    plain): enough to tell apart values of one declared input, whose classes are fixed."""
    if value.__class__ is dict:
        return (dict, tuple(value.items()))
    return tuple([tuple(v.items()) if v.__class__ is dict else v for v in value])


def _frozen(value: Any) -> Any:
    """A hashable form of a JSON value that tells classes apart (``true`` from ``1``) at every level."""
    cls = value.__class__
    if cls is list:
        return (list, tuple([_frozen(v) for v in value]))
    if cls is dict:
        return (dict, tuple([(k, _frozen(v)) for k, v in value.items()]))
    return (cls, value)


class Source:
    """The source of the generated function and the namespace its names refer to."""

    def __init__(self) -> None:
        self.lines: list[str] = []
        self.ns: dict[str, Any] = {"M": MISSING, "U": UNKNOWN, "EMPTY": MappingProxyType({}), "SCORE": score_outcome}
        self.walked: dict[tuple[str, ...], str] = {}
        self.parents: dict[tuple[str, ...], str] = {}

    def const(self, prefix: str, value: Any) -> str:
        name = f"{prefix}{len(self.ns)}"
        self.ns[name] = value
        return name

    def walk(self, keys: tuple[str, ...]) -> str:
        """The variable holding the value at ``keys`` (or M), walked once from its parent."""
        name = self.walked.get(keys)
        if name is None:
            key = self.const("K", keys[-1])
            name = self.walked[keys] = f"w{len(self.walked)}"
            parent = "env" if len(keys) == 1 else self.parent(keys[:-1])
            self.lines.append(f"    {name} = {parent}.get({key}, M)")
        return name

    def parent(self, keys: tuple[str, ...]) -> str:
        """The variable holding the object at ``keys``, or an empty one when it is absent or not
        an object (its members are then absent), worked out once."""
        name = self.parents.get(keys)
        if name is None:
            value = self.walk(keys)
            name = self.parents[keys] = f"d{value[1:]}"
            self.lines.append(f"    {name} = {value} if {value}.__class__ is dict else EMPTY")
        return name

    def conjunction(self, target: str, refs: list[str]) -> None:
        """``target`` = Kleene conjunction of the variables ``refs``."""
        self.lines += conjunction_lines(target, refs)


def conjunction_lines(target: str, refs: list[str]) -> list[str]:
    """The generated lines setting ``target`` to the Kleene conjunction of the variables ``refs``
    (each True, False or ``U``)."""
    if not refs:
        return [f"    {target} = True"]
    return [f"    if {' or '.join(f'{r} is False' for r in refs)}:",
            f"        {target} = False",
            f"    elif {' and '.join(f'{r} is True' for r in refs)}:",
            f"        {target} = True",
            "    else:",
            f"        {target} = U"]


def scalar_input(root: Field, keys: tuple[str, ...]) -> bool:
    """Whether the declared input at ``keys`` is a boolean, number, date or string (validated
    values of one such input with equal values have the same text and decide alike)."""
    f: Field | None = root
    for key in keys:
        if f is None:
            return False
        f = f.fields.get(key) if f.kind == "object" else f.entries.get(key) if f.kind == "map" else None
    return f is not None and f.kind in ("boolean", "integer", "decimal", "date", "string", "enum")


def map_presence(src: Source, root: Field, pointers: tuple[str, ...]) -> list[str]:
    """The generated tests of whether each map input that ``pointers`` read entries of is there (a
    dict), for a look-up's key: ``values(m)`` reads the entries of ``m`` and is unknown when ``m`` is
    absent, but a list of absent entries when it is empty, so the entries' values alone do not
    decide a criterion that reads them."""
    tests: list[str] = []
    seen: set[tuple[str, ...]] = set()
    for pointer in pointers:
        keys = split_pointer(pointer)
        f: Field | None = root
        for depth, key in enumerate(keys):
            if f is None:
                break
            if f.kind == "map" and depth and keys[:depth] not in seen:
                seen.add(keys[:depth])
                tests.append(f"{src.walk(keys[:depth])}.__class__ is dict")
            f = f.fields.get(key) if f.kind == "object" else f.entries.get(key) if f.kind == "map" else None
    return tests


def _declared(root: Field, keys: tuple[str, ...]) -> bool:
    """Whether the input at ``keys`` is declared with a type all the way down (no untyped part)."""
    f: Field | None = root
    for key in keys:
        if f is None:
            return False
        f = f.fields.get(key) if f.kind == "object" else f.entries.get(key) if f.kind == "map" else None
    return f is not None and AssessmentValidator(f).typed


def _generate(text_plan: TextPlan, reads: list[tuple[str, ...]]) -> Decide:
    """One straight-line function deciding a version's criteria, groups, scores and tiers, and
    writing their texts.

    Only names made here and whole numbers go into the source: every key, id and text of the
    ruleset is bound in the function's namespace, so nothing a ruleset holds can become code.
    """
    src = Source()
    src.lines.append("def decide(env):")
    var: dict[str, str] = {}  # criterion, group or score id -> its variable
    pieces = _gen_criteria(text_plan, src, reads, var)
    # the criteria's texts between their constant parts, joined at once
    joints = [src.const("J", joint) for joint in text_plan.joints]
    parts = [part for pair in zip(joints, pieces, strict=False) for part in pair] + [joints[-1]]
    src.lines.append(f"    criteria = ''.join(({', '.join(parts)},))")
    groups, scores = _gen_composites(text_plan, src, var)
    tiers = _gen_tiers(text_plan, src, var)
    src.lines.append(f"    return (criteria, label, {_joined(groups)}, {_joined(scores)}, {_joined(tiers)})")
    text_plan.source = "\n".join(src.lines)
    exec(compile(text_plan.source, "<ecei-rules: decide>", "exec"), src.ns)  # names only, see above
    decide: Decide = src.ns["decide"]
    return decide


def _gen_criteria(text_plan: TextPlan, src: Source, reads: list[tuple[str, ...]], var: dict[str, str]) -> list[str]:
    """The lines that look up or decide each criterion; the expressions of their texts."""
    plan, lines = text_plan.plan, src.lines
    budget = text_plan.budget  # estimated bytes the tables of this version may still take
    # criteria that read the same inputs (a criterion and its variant for another tier) share
    # one look-up, made where the first of them stands
    sharing: dict[tuple[str, ...], list[int]] = {}
    for i, pointers in enumerate(reads):
        sharing.setdefault(pointers, []).append(i)
    pieces: list[str] = []
    for i, (c, pointers) in enumerate(zip(plan.criteria, reads, strict=True)):
        same = sharing[pointers]
        entry, place = f"e{same[0]}", 2 * same.index(i)
        if i == same[0]:
            _gen_lookup(text_plan, src, [plan.criteria[m] for m in same], pointers, entry, budget)
        var[c.id] = f"c{i}"
        lines.append(f"    c{i} = {entry}[{place}]")
        pieces.append(f"{entry}[{place + 1}]")
    return pieces


def _gen_lookup(text_plan: TextPlan, src: Source, same: list[FastCriterion], pointers: tuple[str, ...],
                entry: str, budget: list[int]) -> None:
    """The lines that set ``entry`` for criteria reading ``pointers``: from the table, or decided."""
    memo: dict[Any, Entry] = {}
    root = text_plan.plan.checked.inputs
    scalars = all(scalar_input(root, split_pointer(p)) for p in pointers)
    typed = all(_declared(root, split_pointer(p)) for p in pointers)
    decider = _decider(same, memo, budget, not scalars, typed, text_plan.serialiser.middle,
                       text_plan.serialiser.derived_read)
    table, call = src.const("T", memo), src.const("D", decider)
    walked = [src.walk(split_pointer(p)) for p in pointers]
    walked += [f"({test})" for test in map_presence(src, root, pointers)]
    if scalars:  # plain typed values: equal values have equal classes or equal texts
        key = walked[0] if len(walked) == 1 else f"({', '.join(walked)}{',' if len(walked) == 1 else ''})"
        src.lines.extend([f"    {entry} = {table}.get({key})",
                          f"    if {entry} is None:",
                          f"        {entry} = {call}(env, {key})"])
    else:  # a list or an object may be read: the decider looks up its frozen form
        key = f"({', '.join(f'{w}.__class__, {w}' for w in walked)},)"
        src.lines.append(f"    {entry} = {call}(env, {key})")


def _gen_composites(text_plan: TextPlan, src: Source, var: dict[str, str]) -> tuple[list[str], list[str]]:
    """The lines that work out groups and scores; the expressions of their texts."""
    lines = src.lines
    groups: list[str] = []
    scores: list[str] = []
    for j, comp in enumerate(text_plan.plan.composites):
        if isinstance(comp, FastGroup):
            target = var[comp.id] = f"g{j}"
            src.conjunction(target, [var[m] for m in comp.members])
            texts = {value: text_plan.serialiser.group(result) for value, result in comp.results.items()}
            groups.append(f"{src.const('G', texts)}[{target}]")
        else:
            target = var[comp.id] = f"s{j}"
            lines.append("    met = unknown = 0")
            for ref, weight in comp.weights:
                lines.extend([f"    if {var[ref]} is True:", f"        met += {int(weight)}",
                              f"    elif {var[ref]} is U:", f"        unknown += {int(weight)}"])
            need, den = int(comp.required_num), int(comp.required_den)
            writer = src.const("S", _ScoreText(text_plan, comp, text_plan.budget))
            if comp.points:  # numbers weighed as they are: added, and written, from the assessment
                weigh = src.const("P", _PointsText(text_plan, comp))
                lines.append(f"    met, unknown, points = {weigh}(env, met, unknown)")
            lines.extend([f"    {target} = SCORE(met, unknown, {need}, {den})",
                          f"    t{j} = {writer}({target}, met, unknown{', points' if comp.points else ''})"])
            scores.append(f"t{j}")
    return groups, scores


def _gen_tiers(text_plan: TextPlan, src: Source, var: dict[str, str]) -> list[str]:
    """The lines that work out the tiers and the label; the expressions of the tiers' texts, highest first."""
    plan, lines, tier_text = text_plan.plan, src.lines, text_plan.serialiser.tier
    lines.append('    label = "none"')
    tiers: list[str] = []
    for j, tier in enumerate(plan.tiers):
        target = f"r{j}"
        src.conjunction(target, [var[r] for r in tier.requires])
        lines.extend([f"    if {target} is True:", f"        label = {src.const('L', tier.label)}"])
        known = src.const("R", {True: tier_text(plan.tier(tier, "met", ())),
                                False: tier_text(plan.tier(tier, "not_met", ()))})
        unknown = src.const("Q", _UnknownTier(plan, tier, tier_text))
        tiers.append(f"({known}[{target}] if {target} is not U else {unknown}(env, values, absent))")
    values = ", ".join(f"{src.const('I', ref)}: {name}" for ref, name in var.items())
    any_unknown = " or ".join(f"r{j} is U" for j in range(len(plan.tiers))) or "False"
    lines.extend([f"    if {any_unknown}:",  # the absent inputs behind an unknown tier need every value
                  f"        values = {{{values}}}",
                  "        absent = {}",
                  "    else:",
                  "        values = absent = None"])
    tiers.reverse()
    return tiers


def _joined(parts: list[str]) -> str:
    return f'",".join(({", ".join(parts)}{"," if len(parts) == 1 else ""}))' if parts else '""'


class _ScoreText:
    """A score's text for its value and met and unknown weights (scaled), remembered."""

    def __init__(self, text_plan: TextPlan, score: FastScore, budget: list[int]) -> None:
        self.fast = text_plan.plan
        self.weights = text_plan.serialiser.weights(text_plan.plan.scores_weights[score.id])
        self.threshold = text_plan.serialiser.parameter(score.static["threshold"])
        self.score = score
        self.memo: dict[tuple[Any, int, str], str] = {}
        self.budget = budget  # shared with the version's criteria

    def __call__(self, value: Any, met: Any, unknown: int, points: str = "") -> str:
        key = (met, unknown, points)
        found = self.memo.get(key)
        if found is None:
            fast, score = self.fast, self.score
            s = score.static
            found = (f'{{"clause":{nullable(s["clause"])},"id":{string(s["id"])},'
                     f'"met_weight":{number(fast.number(score, met))},"outcome":"{OUTCOMES[value]}",{points}'
                     f'"required_weight":{number(s["required_weight"])},"threshold":{self.threshold},'
                     f'"title":{string(s["title"])},"total_weight":{number(s["total_weight"])},'
                     f'"unknown_weight":{number(fast.number(score, unknown))},'
                     f'"weights":{self.weights},'
                     f'"weights_provenance":{string(s["weights_provenance"])},'
                     f'"weights_source":{string(s["weights_source"])}}}')
            cost = 256 + BYTES_PER_CHAR * len(found)
            if len(self.memo) < MEMO_LIMIT and cost <= MEMO_ENTRY_BYTES and cost <= self.budget[0]:
                self.memo[key] = found
                self.budget[0] -= cost
        return found


class _PointsText:
    """The numbers a score weighs as they are: added to its met and unknown weights (scaled), and
    their text (``"points":{...},``), as the trace mode gives them."""

    def __init__(self, text_plan: TextPlan, score: FastScore) -> None:
        self.score = score
        self.write = text_plan.serialiser.points

    def __call__(self, env: dict[str, Any], met: int, unknown: int) -> tuple[Any, int, str]:
        more, unsure = points_weight(self.score, env)
        return whole(met + more), unknown + unsure, self.write(points_results(self.score, env))


class _UnknownTier:
    """An unknown tier's text: the absent inputs behind it are worked out from every value."""

    def __init__(self, fast: Plan, tier: FastTier, write: Callable[[Any], str]) -> None:
        self.fast = fast
        self.tier = tier
        self.write = write  # the version's serialiser's writer of a tier

    def __call__(self, env: dict[str, Any], values: dict[str, Any], memo: dict[str, tuple[str, ...]]) -> str:
        fast, tier = self.fast, self.tier
        return self.write(fast.tier(tier, "unknown", absent_inputs(fast, values, env, tier.requires, memo)))


class TextPlan:
    """The per-version constants and generated function of the evaluator's text mode."""

    def __init__(self, plan: Plan, serialiser: Serialiser) -> None:
        fast = plan
        self.plan = plan
        self.serialiser = serialiser  # the evaluator's: it writes the parts the tables do not hold
        # the constant text between one criterion's inputs/missing/outcome and the next one's
        heads = [f'{{"clause":{nullable(c.clause)},"condition":{string(c.condition)},'
                 + ("" if c.derived else f'"id":{string(c.id)},"inputs":') for c in fast.criteria]
        tails = [f',"parameters":{serialiser.parameters(c.parameters)},"title":{string(c.title)}}}'
                 for c in fast.criteria]
        joints = ['{"criteria":[' + heads[0]] if heads else ['{"criteria":[']
        joints += [tails[i] + "," + heads[i + 1] for i in range(len(heads) - 1)]
        # with derived values, the evaluator writes them and the groups' opening after the criteria
        joints.append((tails[-1] if tails else "") + ('],"groups":[' if not plan.derived else ""))
        self.joints = tuple(joints)
        self.source = ""  # the generated function's source, for reading and for the tests
        self.budget = [MEMO_BYTES]  # estimated bytes this version's tables may still take
        self.decide = _generate(self, [c.reads for c in plan.checked.criteria])

    @property
    def memo_bytes(self) -> int:
        """Estimated bytes held by this version's memo tables (at most :data:`MEMO_BYTES`)."""
        return MEMO_BYTES - self.budget[0]
