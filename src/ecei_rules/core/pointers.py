"""JSON pointers (RFC 6901) as the package uses them: join, split, look up, and show as a JSON path.

``MISSING`` is the one marker for "no value at this pointer"; every evaluator, the validator and the
explanations use it, so an absent input is the same object wherever it is tested.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Final


class Missing:
    """The type of :data:`MISSING`: no value at a pointer (not ``None``, which is a value). Compare
    with ``is MISSING``; the one instance is the module's, and it pickles as itself."""

    __slots__ = ()

    def __repr__(self) -> str:
        return "MISSING"

    def __reduce__(self) -> str:
        return "MISSING"  # pickles (to worker processes) as the module's one instance



#: The marker :func:`lookup` returns for an absent value.
MISSING: Final = Missing()

#: Where a value sits, built only when a problem is reported: a JSON pointer, or (parent, key).
Path = str | tuple[Any, str | int]


def unescape(part: str) -> str:
    """One reference token of a pointer, unescaped (``a~1b`` -> ``a/b``)."""
    return part.replace("~1", "/").replace("~0", "~")


def escape(part: str | int) -> str:
    """One key as a reference token (``a/b`` -> ``a~1b``)."""
    return str(part).replace("~", "~0").replace("/", "~1")


def split_pointer(pointer: str) -> tuple[str, ...]:
    """The keys of a JSON pointer (``/a/b~1c`` -> ``("a", "b/c")``)."""
    return tuple(unescape(raw) for raw in pointer.split("/")[1:])


def pointer_join(pointer: str, *parts: str | int) -> str:
    """Append parts to a JSON pointer, escaping ``~`` and ``/``."""
    for part in parts:
        pointer += "/" + escape(part)
    return pointer


def pointer_of(path: Path) -> str:
    """The JSON pointer of a path (a pointer, or nested ``(parent, key)`` pairs)."""
    keys: list[str | int] = []
    while not isinstance(path, str):
        path, key = path
        keys.append(key)
    for key in reversed(keys):
        path = pointer_join(path, key)
    return path


def lookup(data: Mapping[str, Any], pointer: str) -> Any:
    """The value at a JSON pointer in nested objects, or :data:`MISSING`."""
    node: Any = data
    for raw in pointer.split("/")[1:]:
        part = unescape(raw)
        if isinstance(node, dict) and part in node:
            node = node[part]
        else:
            return MISSING
    return node


def json_path(pointer: str) -> str:
    """Turn a JSON pointer (``/a/0/b``) into a JSON path (``$.a[0].b``)."""
    out = "$"
    if not pointer:
        return out
    for raw in pointer.split("/")[1:]:
        part = unescape(raw)
        if part.isdigit():
            out += f"[{part}]"
        elif part.isidentifier():
            out += f".{part}"
        else:
            out += "[" + _quote(part) + "]"
    return out


def _quote(text: str) -> str:
    return "'" + text.replace("\\", "\\\\").replace("'", "\\'") + "'"


def set_at(data: dict[str, Any], pointer: str, value: Any) -> None:
    """Set the value at a JSON pointer, creating objects on the way."""
    parts = split_pointer(pointer)
    node = data
    for part in parts[:-1]:
        child = node.get(part)
        if not isinstance(child, dict):
            child = {}
            node[part] = child
        node = child
    node[parts[-1]] = value
