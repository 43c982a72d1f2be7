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
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from pydantic import ValidationError

from ecei_rules.core.pointers import pointer_join
from ecei_rules.errors import Diagnostic
from ecei_rules.ruleset.model import RulesetDocument

#: Sections that map names to entries, and the codes by which a missing entry shows elsewhere.
_NAMED = {
    "types": ("E107", "E302"), "catalogues": ("E107", "E302"), "inputs": ("E104", "E302"),
    "parameters": ("E105",), "criteria": ("E106", "E302"), "groups": ("E106", "E302"),
    "scores": ("E106", "E302"), "tiers": ("E102", "E302"), "fixtures": ("E302",),
}
#: Values that stand in for a required one the model refused (no check reads them).
_PLACEHOLDERS: dict[str, Any] = {
    "methodology": "placeholder", "version": "0.0.0", "title": "", "status": "draft",
    "effective_from": dt.date(2000, 1, 1),
}
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

    def cascades(self, problem: Diagnostic) -> bool:
        """Whether ``problem`` only follows from something set aside."""
        if any(problem.pointer == p or problem.pointer.startswith(p + "/") for p in self.pointers):
            return True
        for section, name in self.names:
            codes = _NAMED.get(section) or _WHOLE.get(section, ())
            if problem.code in codes and (name == "*" or f"'{name}'" in problem.message or (
                    problem.code == "E302" and f"/{name}/" in problem.pointer + "/")):
                return True
        return False


def salvage(data: dict[str, Any], error: ValidationError, aside: Salvage) -> tuple[RulesetDocument | None, Salvage]:
    """The document without what the model refused (None when it cannot be had), and ``aside``
    with what was set aside added."""
    kept = copy.deepcopy(data)
    for _ in range(ROUNDS):
        for err in error.errors(include_url=False):
            _set_aside(kept, tuple(err["loc"]), err["type"], aside)
        try:
            return RulesetDocument.model_validate(kept), aside
        except ValidationError as again:
            error = again
    return None, aside


def _set_aside(data: dict[str, Any], loc: tuple[Any, ...], kind: str, aside: Salvage) -> None:
    section = str(loc[0]) if loc else ""
    if kind == "extra_forbidden" and remove_key(data, loc):  # an unknown key alone
        return
    if section in _NAMED:
        entries = data.get(section)
        if len(loc) > 1 and (section, str(loc[1])) in aside.names:
            return  # set aside already (the model found several problems in it)
        if len(loc) > 1 and isinstance(entries, dict) and str(loc[1]) in entries:
            del entries[str(loc[1])]
            aside.names.add((section, str(loc[1])))
            aside.pointers.add(pointer_join("/" + section, str(loc[1])))
        else:
            data[section] = {}
            aside.names.add((section, "*"))
    elif section in ("tests", "validity"):
        _placeholder(data, section, loc, aside)
    elif section == "labels":
        tiers = data.get("tiers")
        data["labels"] = [str(k) for k in tiers] if isinstance(tiers, dict) and tiers else ["\0"]
        aside.names.add(("labels", "*"))
        aside.pointers.add("/labels")
    elif section in _PLACEHOLDERS:
        data[section] = _PLACEHOLDERS[section]
    else:
        data.pop(section, None)


def remove_key(data: Any, loc: Iterable[Any]) -> bool:
    """Remove the key at ``loc``; False when it is not there."""
    *path, last = loc
    for part in path:
        if isinstance(data, dict) and str(part) in data:
            data = data[str(part)]
        elif isinstance(data, list) and isinstance(part, int) and 0 <= part < len(data):
            data = data[part]
        else:
            return False
    if isinstance(data, dict) and str(last) in data:
        del data[str(last)]
        return True
    return False


def _placeholder(data: dict[str, Any], section: str, loc: tuple[Any, ...], aside: Salvage) -> None:
    """A test or a validity rule is replaced in place (the entries after it keep their pointers)."""
    if section == "tests":
        tests = data.get("tests")
        if len(loc) > 1 and isinstance(tests, list) and isinstance(loc[1], int) and loc[1] < len(tests):
            tests[loc[1]] = {**_TEST, "name": f"\0{loc[1]}"}
            aside.pointers.add(pointer_join("/tests", loc[1]))
        else:
            data["tests"] = []
            aside.pointers.add("/tests")
        return
    validity = data.get("validity")
    rules = validity.get("rules") if isinstance(validity, dict) else None
    if len(loc) > 2 and loc[1] == "rules" and isinstance(rules, list) and isinstance(loc[2], int) \
            and loc[2] < len(rules):
        rules[loc[2]] = dict(_RULE)
        aside.pointers.add(pointer_join("/validity/rules", loc[2]))
        aside.names.add(("validity", "*"))
    elif len(loc) > 1 and loc[1] == "valid_from" and isinstance(validity, dict):
        validity["valid_from"] = "\0"
        aside.pointers.add("/validity/valid_from")
    else:
        data["validity"] = {"valid_from": "\0", "rules": [dict(_RULE)]}
        aside.pointers.add("/validity")
        aside.names.add(("validity", "*"))
