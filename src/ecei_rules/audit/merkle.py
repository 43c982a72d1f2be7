"""Merkle trees over a decision log's records, hashed exactly as RFC 9162 (Certificate Transparency 2.0) §2.1 says.

The tree's leaves are the records in seq order; the data of a leaf is the 32 raw bytes of the
record's hash (``bytes.fromhex(record.hash)``), which already covers the whole record. With
SHA-256 as the hash::

    leaf hash   = SHA-256(0x00 || leaf data)
    node hash   = SHA-256(0x01 || left || right)
    MTH({})     = SHA-256("")                      (the empty tree)
    MTH(D[n])   = node hash of MTH(D[0:k]) and MTH(D[k:n]), k the largest power of two < n

Every function here works on *leaf hashes* (``leaf_hash(data)`` of each leaf), so a tree of
a log is built from its stored record hashes without reading the records again.

:class:`Frontier` holds the roots of the perfect subtrees a tree of ``size`` leaves splits into
(at most one per bit of ``size``, largest first): appending a leaf is O(log n) and the root is
O(log n) from it, so a log can sign the root of every append cheaply. Proofs are generated
iteratively (no recursion, O(n) hashing for one proof) and verified with the algorithms of
RFC 9162 §2.1.3.2 (inclusion) and §2.1.4.2 (consistency).

The verifiers never raise on malformed input: a wrong type, a hash of the wrong length, an
index outside the tree, ``m > n``, a missing or extra proof element: all return False.
The generators raise ValueError for arguments outside the tree.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Sequence
from typing import Any

HASH_SIZE = 32
#: MTH of the empty tree: SHA-256 of the empty string.
EMPTY_ROOT = hashlib.sha256(b"").digest()

_sha256 = hashlib.sha256


def leaf_hash(data: bytes) -> bytes:
    """The hash of a leaf: SHA-256(0x00 || data)."""
    return _sha256(b"\x00" + data).digest()


def node_hash(left: bytes, right: bytes) -> bytes:
    """The hash of an interior node: SHA-256(0x01 || left || right)."""
    return _sha256(b"\x01" + left + right).digest()


def record_leaf(record_hash: str) -> bytes:
    """The leaf hash of a record, from its hash (64 hexadecimal digits); ValueError otherwise."""
    if len(record_hash) != 2 * HASH_SIZE:
        raise ValueError(f"a record hash has {2 * HASH_SIZE} hexadecimal digits, not {len(record_hash)}")
    return leaf_hash(bytes.fromhex(record_hash))


def _split(n: int) -> int:
    """The largest power of two smaller than n (n >= 2)."""
    return 1 << ((n - 1).bit_length() - 1)


class Frontier:
    """The compact range of a tree of ``size`` leaves: the roots of its perfect subtrees, left to
    right (largest first), one per set bit of ``size``. Append is O(log n); so is :meth:`root`."""

    __slots__ = ("nodes", "size")

    def __init__(self, size: int = 0, nodes: Iterable[bytes] = ()) -> None:
        self.size = size
        self.nodes = list(nodes)
        if size < 0 or len(self.nodes) != size.bit_count() or any(
                not isinstance(n, bytes) or len(n) != HASH_SIZE for n in self.nodes):
            raise ValueError(f"not the frontier of a tree of {size} leaves")

    def append(self, leaf: bytes) -> None:
        """Add one leaf hash on the right."""
        nodes, size, top = self.nodes, self.size, leaf
        while size & 1:
            top = node_hash(nodes.pop(), top)
            size >>= 1
        nodes.append(top)
        self.size += 1

    def extend(self, leaves: Iterable[bytes]) -> None:
        """Add leaf hashes on the right, in order."""
        for leaf in leaves:
            self.append(leaf)

    def root(self) -> bytes:
        """MTH of the tree so far (EMPTY_ROOT when it has no leaf)."""
        nodes = self.nodes
        if not nodes:
            return EMPTY_ROOT
        top = nodes[-1]
        for node in reversed(nodes[:-1]):
            top = node_hash(node, top)
        return top

    def copy(self) -> Frontier:
        """An independent copy."""
        return Frontier(self.size, self.nodes)


def root(leaves: Iterable[bytes]) -> bytes:
    """MTH of a tree given its leaf hashes in order (O(n) hashing, O(log n) memory)."""
    frontier = Frontier()
    frontier.extend(leaves)
    return frontier.root()


def _range_root(leaves: Sequence[bytes], start: int, end: int) -> bytes:
    """MTH of ``leaves[start:end]``."""
    frontier = Frontier()
    for i in range(start, end):
        frontier.append(leaves[i])
    return frontier.root()


def _size(leaves: Sequence[bytes], size: int | None) -> int:
    n = len(leaves) if size is None else size
    if type(n) is not int or not 0 <= n <= len(leaves):
        raise ValueError(f"a tree size from 0 to {len(leaves)}, not {n!r}")
    return n


def inclusion_proof(index: int, leaves: Sequence[bytes], size: int | None = None) -> list[bytes]:
    """RFC 9162 PATH(index, D[size]): the audit path of leaf ``index`` in the tree of the first
    ``size`` leaves (default: all), from the leaf's sibling up to the root's other child."""
    n = _size(leaves, size)
    if type(index) is not int or not 0 <= index < n:
        raise ValueError(f"a leaf index from 0 to {n - 1}, not {index!r}")
    path: list[bytes] = []
    start, end = 0, n
    while end - start > 1:
        k = _split(end - start)
        if index - start < k:
            path.append(_range_root(leaves, start + k, end))
            end = start + k
        else:
            path.append(_range_root(leaves, start, start + k))
            start += k
    path.reverse()
    return path


def consistency_proof(m: int, leaves: Sequence[bytes], size: int | None = None) -> list[bytes]:
    """RFC 9162 PROOF(m, D[size]) = SUBPROOF(m, D[size], true): that the tree of the first ``m``
    leaves is a prefix of the tree of the first ``size`` (default: all), 0 < m <= size; empty
    when m == size."""
    n = _size(leaves, size)
    if type(m) is not int or not 0 < m <= n:
        raise ValueError(f"an earlier tree size from 1 to {n}, not {m!r}")
    proof: list[bytes] = []
    start, end, whole = 0, n, True
    while True:
        if m == end - start:
            if not whole:
                proof.append(_range_root(leaves, start, end))
            break
        k = _split(end - start)
        if m <= k:
            proof.append(_range_root(leaves, start + k, end))
            end = start + k
        else:
            proof.append(_range_root(leaves, start, start + k))
            start += k
            m -= k
            whole = False
    proof.reverse()
    return proof


def _is_hash(value: Any) -> bool:
    return isinstance(value, bytes) and len(value) == HASH_SIZE


def _is_count(value: Any) -> bool:
    return type(value) is int and value >= 0


def _is_path(value: Any) -> bool:
    return isinstance(value, (list, tuple)) and all(_is_hash(p) for p in value)


def verify_inclusion(leaf: bytes, index: int, size: int, proof: Sequence[bytes], root_hash: bytes) -> bool:
    """Whether ``proof`` shows the leaf hash ``leaf`` at ``index`` in the tree of ``size`` leaves
    whose root is ``root_hash`` (RFC 9162 §2.1.3.2). False for any malformed input."""
    if not (_is_hash(leaf) and _is_hash(root_hash) and _is_count(index) and _is_count(size) and _is_path(proof)):
        return False
    if index >= size:
        return False
    climbed = _climb(index, size - 1, None, leaf, proof)
    return climbed is not None and climbed[1] == root_hash


def verify_consistency(m: int, n: int, first_root: bytes, second_root: bytes, proof: Sequence[bytes]) -> bool:
    """Whether ``proof`` shows the tree of ``m`` leaves with root ``first_root`` is a prefix of the tree
    of ``n`` leaves with root ``second_root`` (RFC 9162 §2.1.4.2), 0 < m <= n; for m == n the proof
    is empty and the roots equal. False for any malformed input."""
    if not (_is_count(m) and _is_count(n) and _is_hash(first_root) and _is_hash(second_root) and _is_path(proof)):
        return False
    if not 0 < m <= n:
        return False
    if m == n:
        return len(proof) == 0 and first_root == second_root
    if not proof:
        return False
    path = list(proof)
    if m & (m - 1) == 0:  # m an exact power of two: the old root is the proof's first node
        path.insert(0, first_root)
    fn, sn = m - 1, n - 1
    while fn & 1:
        fn >>= 1
        sn >>= 1
    climbed = _climb(fn, sn, path[0], path[0], path[1:])
    return climbed is not None and climbed == (first_root, second_root)


def _climb(fn: int, sn: int, first: bytes | None, second: bytes,
           path: Sequence[bytes]) -> tuple[bytes | None, bytes] | None:
    """The walk both RFC 9162 verifications share: from the node at ``fn`` (of last node ``sn``),
    hash each node of ``path`` in on its side into ``second`` and, where it is on the left, into
    ``first`` (None: not kept). The two hashes reached, or None when the path does not end at the
    root (too long or too short)."""
    for c in path:
        if sn == 0:
            return None
        if fn & 1 or fn == sn:
            if first is not None:
                first = node_hash(c, first)
            second = node_hash(c, second)
            if not fn & 1:
                while fn and not fn & 1:
                    fn >>= 1
                    sn >>= 1
        else:
            second = node_hash(second, c)
        fn >>= 1
        sn >>= 1
    return (first, second) if sn == 0 else None
