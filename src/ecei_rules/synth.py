"""Synthetic populations of realistic assessments, reproducible by seed.

Assumptions (documented, not sourced; they shape the population, not any decision):

* each organisation has a *quality* q drawn from Beta(4, 2) (most clusters are decent, few are
  excellent); every criterion that compares one input with a threshold passes with
  probability sqrt(q), and its value then lies at or a little beyond the threshold (or short
  of it, when it fails), within 30 % of the threshold;
* 10 % of organisations leave some optional inputs out (unknown), each with probability 0.3;
* assessment dates are uniform over the period asked for; earlier labels (history) are drawn
  12 to 30 months before the assessment, so the Silver window (18 to 24 months) and the
  renewal window are both well represented;
* values without a threshold are uniform over a plausible range (counts 0 to 60).

Every generated assessment is valid for the version in force on its date.
"""

from __future__ import annotations

import datetime as dt
import random
from collections.abc import Iterator
from decimal import Decimal
from typing import Any

from .logic import month_end
from .registry import DEFAULT_METHODOLOGY, Registry
from .ruleset.inputs import Field
from .ruleset.load import Ruleset
from .testing.strategies import Relation, _in_range, _passes, relations, targets


class _Generator:
    def __init__(self, ruleset: Ruleset, rng: random.Random) -> None:
        self.ruleset = ruleset
        self.rng = rng
        self.targets = targets(ruleset)
        self.relations: list[Relation] = relations(ruleset)

    def assessment(self, on: dt.date, index: int) -> dict[str, Any]:
        rng = self.rng
        # each criterion passes with probability sqrt(q): most clusters meet most criteria
        self.quality = rng.betavariate(4, 2) ** 0.5
        self.sparse = rng.random() < 0.1
        self.on = on
        data = self.members(self.ruleset.plan.inputs, "", top=True)
        data["assessed_on"] = on.isoformat()
        org = data.get("organisation")
        if isinstance(org, dict):
            org["id"] = f"SYN-{index:06d}"
        for _ in range(10):
            _, problems = self.ruleset.plan.validator.validate(data)
            if not problems:
                return data
            self.drop(data, problems[0].pointer)
        return data

    def drop(self, data: dict[str, Any], pointer: str) -> None:
        parts = pointer.split("/")[1:]
        node: Any = data
        for part in parts[:-1]:
            node = node[int(part)] if isinstance(node, list) else node[part]
        if isinstance(node, list):
            del node[int(parts[-1])]
        else:
            node.pop(parts[-1], None)

    def members(self, f: Field, pointer: str, top: bool = False) -> dict[str, Any]:
        members = f.fields if f.kind == "object" else f.entries
        out: dict[str, Any] = {}
        for name, sub in members.items():
            child = f"{pointer}/{name}"
            if not sub.required and self.sparse and self.rng.random() < 0.3:
                continue
            if not sub.required and top and sub.kind != "list" and self.rng.random() < 0.03:
                continue
            out[name] = self.value(sub, child)
        for a, ka, op, b, kb in self.relations:
            name_a, name_b = a.rsplit("/", 1)[1], b.rsplit("/", 1)[1]
            if a.rsplit("/", 1)[0] == pointer and isinstance(out.get(name_b), int) and name_a in out:
                want = self.rng.random() < self.quality
                other = out[name_b]
                lo = (kb * other) // ka
                for c in (lo + 1, lo, lo - 1, other):
                    if c >= 0 and _passes(op, Decimal(ka * c), Decimal(kb * other)) == want and c <= other:
                        out[name_a] = c
                        break
        return out

    def value(self, f: Field, pointer: str) -> Any:
        rng = self.rng
        kind = f.kind
        goals = self.targets.get(pointer, [])
        if kind == "boolean":
            if ("==", True) in goals:
                return rng.random() < self.quality
            return rng.random() < 0.7
        if kind in ("integer", "decimal"):
            return self.number(f, goals)
        if kind == "date":
            return (self.on - dt.timedelta(days=rng.randint(0, 900))).isoformat()
        if kind == "enum":
            return rng.choice(list(f.spec.values or ("x",)))
        if kind == "string":
            if f.catalogue_ids:
                return rng.choice(list(f.catalogue_ids))
            if f.spec.pattern == "[A-Z]{2}":
                return rng.choice(["DE", "FR", "ES", "IT", "NO", "DK", "SE", "PL", "AT", "BE", "NL", "PT", "CZ"])
            return f"{pointer.rsplit('/', 1)[-1]}-{rng.randint(1, 9999)}"
        if kind == "list":
            assert f.items is not None
            if pointer == "/history":
                return self.history(f.items)
            return [self.value(f.items, pointer + "/-") for _ in range(rng.randint(0, 5))]
        if kind in ("object", "map"):
            return self.members(f, pointer)
        return None

    def number(self, f: Field, goals: list[tuple[str, Decimal | bool]]) -> Any:
        rng = self.rng
        integer = f.kind == "integer"
        numeric = [(op, t) for op, t in goals if isinstance(t, Decimal)]
        if numeric:
            op, threshold = numeric[0]
            passing = rng.random() < self.quality
            unit = Decimal(1) if integer else Decimal("0.01")
            scale = max(abs(threshold) * Decimal("0.3"), unit * 2)
            for _ in range(20):
                offset = Decimal(rng.random()) * scale
                offset = offset.quantize(unit) if not integer else Decimal(int(offset))
                up = op in (">=", ">")
                candidate = threshold + offset if up == passing else threshold - offset - (unit if passing == up else 0)
                if not passing and candidate == threshold and op in (">=", "<="):
                    candidate = threshold - unit if up else threshold + unit
                if _in_range(f, candidate) and _passes(op, candidate, threshold) == passing:
                    if integer:
                        return int(candidate)
                    return candidate.normalize() if candidate == candidate.to_integral_value() else candidate
        lo = f.spec.minimum if f.spec.minimum is not None else 0
        hi = f.spec.maximum if f.spec.maximum is not None else 60
        if integer:
            return rng.randint(int(lo), int(hi))
        return (Decimal(str(lo)) + (Decimal(str(hi)) - Decimal(str(lo))) * Decimal(rng.random())).quantize(
            Decimal("0.01"))

    def history(self, item: Field) -> list[dict[str, Any]]:
        rng = self.rng
        out = []
        labels = list(item.fields["label"].spec.values or ("bronze",)) if "label" in item.fields else ["bronze"]
        for _ in range(rng.choice([0, 0, 1, 1, 1, 2])):
            months = rng.randint(12, 30)
            awarded = month_end(self.on, -months).replace(day=min(self.on.day, 28))
            awarded = awarded + dt.timedelta(days=rng.randint(-15, 15))
            out.append({"label": rng.choice(labels[:1] * 3 + labels), "awarded_on": awarded.isoformat(),
                        "valid_until": month_end(awarded, 24).isoformat()})
        return out


def synthesize(n: int, *, seed: int, start: dt.date, end: dt.date, registry: Registry | None = None,
               methodology: str = DEFAULT_METHODOLOGY) -> Iterator[dict[str, Any]]:
    """``n`` assessments dated uniformly in [start, end], each valid for the version in force on its date."""
    reg = registry or Registry.shipped()
    rng = random.Random(seed)
    generators: dict[str, _Generator] = {}
    span = (end - start).days
    for index in range(1, n + 1):
        on = start + dt.timedelta(days=rng.randint(0, max(span, 0)))
        ruleset = reg.in_force(methodology, on)
        gen = generators.get(ruleset.version)
        if gen is None:
            gen = generators[ruleset.version] = _Generator(ruleset, rng)
        yield gen.assessment(on, index)
