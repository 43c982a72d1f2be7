"""What of a document the model refuses can still be checked, so that one problem never hides
another: the entries the model refused are set aside (a parameter of the wrong type, a criterion
with an unknown key), the rest is validated again and checked, and every problem that only
follows from an entry set aside is dropped (a condition naming that parameter is not "unknown
parameter" twice over).

An entry of a named section (``/parameters/min_score``) is removed; a key the model does not know
is removed alone; what cannot be removed without moving other entries (a test, a validity rule,
a required value) is replaced by a placeholder, and every problem under it is dropped.
"""

from __future__ import annotations

import copy
import datetime as dt
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from pydantic import ValidationError

from ecei_rules.core.pointers import pointer_join
from ecei_rules.errors import Diagnostic, did_you_mean
from ecei_rules.ruleset.model import RulesetDocument

#: Sections that map names to entries, and the codes by which a missing entry shows elsewhere.
_NAMED = {
    "types": ("E107", "E302"), "catalogues": ("E104", "E107", "E302"), "inputs": ("E104", "E302"),
    "parameters": ("E105",), "tables": ("E105",), "criteria": ("E106", "E302"), "groups": ("E106", "E302"),
    "scores": ("E106", "E302"), "bands": ("E106", "E302"), "derived": ("E104", "E302"), "tiers": ("E102", "E302"),
    "fixtures": ("E302",),
}
#: Values that stand in for a required one the model refused (no check reads them).
_PLACEHOLDERS: dict[str, Any] = {
    "methodology": "placeholder", "version": "0.0.0", "title": "", "status": "draft",
    "effective_from": dt.date(2000, 1, 1),
}
#: Optional values no check reads: removed when refused.
_UNREAD = ("description", "announced_on", "supersedes", "approval", "extends")
_RULE = {"id": "placeholder", "title": "", "labels": ["\0"], "valid_until": "\0"}
_TEST = {"name": "", "expect": {"label": "none"}}
#: The codes by which a section replaced as a whole shows elsewhere.
_WHOLE = {"labels": ("E102", "E106", "E301", "E302"), "validity": ("E301",)}
ROUNDS = 4


@dataclass
class Salvage:
    """What was set aside: pointers whose problems are dropped, and names whose uses are."""

    pointers: set[str] = field(default_factory=set)
    names: set[tuple[str, str]] = field(default_factory=set)  # (section, name); name "*": the whole section
    #: False when something was refused that cannot be set aside here (then nothing is salvaged)
    whole: bool = True

    def cascades(self, problem: Diagnostic) -> bool:
        """Whether ``problem`` only follows from something set aside: it lies inside it, or it is
        of a code by which a missing entry of its section shows, and names it."""
        inside = problem.pointer + "/"
        if any(inside.startswith(p + "/") for p in self.pointers):
            return True
        return any(problem.code in (_NAMED.get(section) or _WHOLE.get(section, ())) and _names(problem, name)
                   for section, name in self.names)

    def suggestion(self, problem: Diagnostic) -> str | None:
        """The problem's own suggestion; when it has none and names something unknown, "did you
        mean" an entry that was set aside whose absence shows by the problem's code (a misspelt
        name close to an entry the model refused still gets its suggestion)."""
        if problem.suggestion is not None:
            return problem.suggestion
        named = re.search(r"'([^']+)'", problem.message)
        if named is None or not problem.message.startswith("unknown "):
            return None
        close = did_you_mean(named.group(1), (name for section, name in self.names
                                              if name != "*" and problem.code in _NAMED.get(section, ())))
        return None if close is None else close + " It was set aside for an error of its own"


def _names(problem: Diagnostic, name: str) -> bool:
    """Whether ``problem`` names ``name`` ("*": any), in its message or (a test's) in its pointer."""
    return name == "*" or f"'{name}'" in problem.message or f"'{name}." in problem.message or (
        problem.code == "E302" and f"/{name}/" in problem.pointer + "/")


def salvage(data: dict[str, Any], error: ValidationError, aside: Salvage) -> tuple[RulesetDocument | None, Salvage]:
    """The document without what the model refused (None when it cannot be had), and ``aside``
    with what was set aside added."""
    kept = copy.deepcopy(data)
    for _ in range(ROUNDS):
        for err in error.errors(include_url=False):
            _set_aside(kept, tuple(err["loc"]), err["type"], aside)
        if not aside.whole:
            break
        try:
            return RulesetDocument.model_validate(kept), aside
        except ValidationError as again:
            error = again
    return None, aside


def _set_aside(data: dict[str, Any], loc: tuple[Any, ...], kind: str, aside: Salvage) -> None:
    section = str(loc[0]) if loc else ""
    if kind == "extra_forbidden" and remove_key(data, loc):  # an unknown key alone
        return
    handler = _entry if section in _NAMED else _HANDLERS.get(section, _value)
    handler(data, section, loc, aside)


def remove_key(data: Any, loc: Iterable[Any]) -> bool:
    """Remove the key at ``loc``; False when it is not there."""
    *path, last = loc
    for part in path:
        if isinstance(data, dict) and str(part) in data:
            data = data[str(part)]
        elif _index(data, part) is not None:
            data = data[part]
        else:
            return False
    if isinstance(data, dict) and str(last) in data:
        del data[str(last)]
        return True
    return False


def _index(items: Any, part: Any) -> int | None:
    """``part`` when it is an index of the list ``items``."""
    return part if isinstance(items, list) and isinstance(part, int) and 0 <= part < len(items) else None


def _entry(data: dict[str, Any], section: str, loc: tuple[Any, ...], aside: Salvage) -> None:
    """An entry of a named section is removed (one item, of a catalogue; the whole section, when it
    is not a mapping)."""
    entries, pointer = data.get(section), "/" + section
    depth = 3 if section == "catalogues" and len(loc) > 3 and loc[2] == "items" else 1
    if depth == 3:  # one item of a catalogue
        catalogue = entries.get(str(loc[1])) if isinstance(entries, dict) else None
        entries = catalogue.get("items") if isinstance(catalogue, dict) else None
        pointer = pointer_join(pointer, str(loc[1]), "items")
    name = str(loc[depth]) if len(loc) > depth else None
    if (section, name) in aside.names:
        return  # set aside already (the model found several problems in it)
    if name is not None and isinstance(entries, dict) and name in entries:
        del entries[name]
        aside.names.add((section, name))
        aside.pointers.add(pointer_join(pointer, name))
    else:
        data[section] = {}
        aside.names.add((section, "*"))


def _test(data: dict[str, Any], section: str, loc: tuple[Any, ...], aside: Salvage) -> None:
    """A test is replaced in place (the tests after it keep their pointers)."""
    tests = data.get("tests")
    index = _index(tests, loc[1] if len(loc) > 1 else None)
    if index is None:
        data["tests"] = []
        aside.pointers.add("/tests")
    else:
        data["tests"][index] = {**_TEST, "name": f"\0{index}"}
        aside.pointers.add(pointer_join("/tests", index))


def _rule(data: dict[str, Any], section: str, loc: tuple[Any, ...], aside: Salvage) -> None:
    """A validity rule is replaced in place; so is a refused 'valid_from' or the whole section."""
    validity = data.get("validity")
    rules = validity.get("rules") if isinstance(validity, dict) else None
    index = _index(rules, loc[2]) if len(loc) > 2 and loc[1] == "rules" else None
    if index is not None:
        data["validity"]["rules"][index] = dict(_RULE)
        aside.pointers.add(pointer_join("/validity/rules", index))
        aside.names.add(("validity", "*"))
    elif len(loc) > 1 and loc[1] == "valid_from" and isinstance(validity, dict):
        validity["valid_from"] = "\0"
        aside.pointers.add("/validity/valid_from")
    else:
        data["validity"] = {"valid_from": "\0", "rules": [dict(_RULE)]}
        aside.pointers.add("/validity")
        aside.names.add(("validity", "*"))


def _labels(data: dict[str, Any], section: str, loc: tuple[Any, ...], aside: Salvage) -> None:
    """Refused labels become the tiers' names (the checks of tiers and rules still run)."""
    tiers = data.get("tiers")
    data["labels"] = [str(k) for k in tiers] if isinstance(tiers, dict) and tiers else ["\0"]
    aside.names.add(("labels", "*"))
    aside.pointers.add("/labels")


def _value(data: dict[str, Any], section: str, loc: tuple[Any, ...], aside: Salvage) -> None:
    """A required value gets a placeholder, an optional one that nothing reads is removed; in a
    section this module does not know, nothing is salvaged (what reads it is unknown here)."""
    if section in _PLACEHOLDERS:
        data[section] = _PLACEHOLDERS[section]
    elif section in _UNREAD:
        data.pop(section, None)
    else:
        aside.whole = False


_HANDLERS = {"tests": _test, "validity": _rule, "labels": _labels}
