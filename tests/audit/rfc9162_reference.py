"""An independent reference for RFC 9162 §2.1, written literally from the RFC's definitions
(recursive, on raw leaf data, sharing no code with ``ecei_rules.audit.merkle``): MTH (§2.1.1),
PATH (§2.1.3.1) and PROOF/SUBPROOF (§2.1.4.1). The tests hold the library to it."""

from __future__ import annotations

import hashlib


def H(data: bytes) -> bytes:
    return hashlib.sha256(data).digest()


def k_of(n: int) -> int:
    """The largest power of two smaller than n (n > 1)."""
    k = 1
    while k * 2 < n:
        k *= 2
    return k


def MTH(ds: list[bytes]) -> bytes:
    n = len(ds)
    if n == 0:
        return H(b"")
    if n == 1:
        return H(b"\x00" + ds[0])
    k = k_of(n)
    return H(b"\x01" + MTH(ds[:k]) + MTH(ds[k:]))


def PATH(m: int, ds: list[bytes]) -> list[bytes]:
    n = len(ds)
    if n == 1:
        return []
    k = k_of(n)
    if m < k:
        return [*PATH(m, ds[:k]), MTH(ds[k:])]
    return [*PATH(m - k, ds[k:]), MTH(ds[:k])]


def SUBPROOF(m: int, ds: list[bytes], b: bool) -> list[bytes]:
    n = len(ds)
    if m == n:
        return [] if b else [MTH(ds)]
    k = k_of(n)
    if m <= k:
        return [*SUBPROOF(m, ds[:k], b), MTH(ds[k:])]
    return [*SUBPROOF(m - k, ds[k:], False), MTH(ds[:k])]


def PROOF(m: int, ds: list[bytes]) -> list[bytes]:
    return SUBPROOF(m, ds, True)


def shape(m: int, n: int) -> list[str]:
    """Which side each element of PATH(m, D[n]) stands on (the recursion of PATH, without hashes)."""
    if n == 1:
        return []
    k = k_of(n)
    return [*shape(m, k), "right"] if m < k else [*shape(m - k, n - k), "left"]
