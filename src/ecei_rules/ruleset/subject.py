"""The subject of a ruleset: what it labels, how its decisions and explanations name it.

A ruleset may declare its subject (``subject: {noun, plural, id, name}``, the inputs that hold
the id and the display name). One that declares none has the **implied subject** below: the
subject of the first methodology (ECEI), kept so that every decision those rulesets make keeps
its bytes (the key ``"organisation"``, read from ``organisation.id``). :data:`IMPLIED` is the
one place in the package that names it; every evaluator, the serialiser, explanations, impact
reports and the docs pages read a ruleset's :class:`ResolvedSubject` (:func:`resolve`) instead.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from ecei_rules.ruleset.model import RulesetDocument, Subject

#: The key under which a decision names a declared subject's id.
DECLARED_KEY = "subject"


@dataclass(frozen=True)
class ResolvedSubject:
    """A ruleset's subject: its nouns, the keys of the inputs holding its id and name, and the
    key its decisions' JSON names it by."""

    noun: str
    plural: str
    id: tuple[str, ...]
    name: tuple[str, ...] | None
    key: str
    declared: bool

    def id_of(self, data: Mapping[str, Any]) -> str | None:
        """The subject's id in validated data, when it is a string."""
        return _string_at(data, self.id)

    def name_of(self, data: Mapping[str, Any]) -> str | None:
        """The subject's display name in validated data, when it is a string."""
        return _string_at(data, self.name) if self.name is not None else None


#: The implied subject of a ruleset that declares none (the first methodology's): its decisions
#: keep the key "organisation", read from organisation.id, and organisation.name names it.
IMPLIED = ResolvedSubject(noun="organisation", plural="organisations", id=("organisation", "id"),
                          name=("organisation", "name"), key="organisation", declared=False)


def path_keys(path: str) -> tuple[str, ...]:
    """The keys of a dotted input path (``building.id``)."""
    return tuple(path.split("."))


def declared(subject: Subject) -> ResolvedSubject:
    """A declared subject, resolved."""
    return ResolvedSubject(
        noun=subject.noun, plural=subject.plural if subject.plural is not None else subject.noun + "s",
        id=path_keys(subject.id), name=path_keys(subject.name) if subject.name is not None else None,
        key=DECLARED_KEY, declared=True)


def resolve(doc: RulesetDocument) -> ResolvedSubject:
    """The subject of a ruleset document: the one it declares, else :data:`IMPLIED`."""
    return declared(doc.subject) if doc.subject is not None else IMPLIED


def _string_at(data: Mapping[str, Any], keys: tuple[str, ...]) -> str | None:
    node: Any = data.get(keys[0])
    for key in keys[1:]:
        if node.__class__ is not dict:
            return None
        node = node.get(key)
    return node if node.__class__ is str else None
