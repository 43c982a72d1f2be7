"""Populations for the fast-path tests: assessments with inputs left out."""

from __future__ import annotations

import copy
import random
from typing import Any


def thinned(data: Any, rng: random.Random) -> Any:
    """A copy with about one key in seven left out, at every level (inputs absent: unknowns)."""
    out = copy.deepcopy(data)
    stack = [out]
    while stack:
        node = stack.pop()
        if isinstance(node, dict):
            for key in list(node):
                if rng.random() < 0.15:
                    del node[key]
                else:
                    stack.append(node[key])
        elif isinstance(node, list):
            stack.extend(node)
    return out
