"""JSON equality for the fast-path tests: the same classes everywhere (``true`` is not ``1``,
``1`` is not ``1.0``) and the same key order."""

from __future__ import annotations

from typing import Any


def same_json(a: Any, b: Any, *, huge_integers_as_floats: bool = False) -> bool:
    """Equal class for class and key for key; with ``huge_integers_as_floats``, an integer of
    ``a`` beyond 64 bits may be the float of it in ``b``."""
    if huge_integers_as_floats and type(a) is int and abs(a) >= 2**63 and type(b) is float:
        return b == float(a)
    if type(a) is not type(b):
        return False
    if isinstance(a, dict):
        return list(a) == list(b) and all(same_json(a[k], b[k], huge_integers_as_floats=huge_integers_as_floats)
                                          for k in a)
    if isinstance(a, list):
        return len(a) == len(b) and all(same_json(x, y, huge_integers_as_floats=huge_integers_as_floats)
                                        for x, y in zip(a, b, strict=True))
    return bool(a == b)
