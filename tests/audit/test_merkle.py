"""The Merkle tree of a decision log against an independent, literal reading of RFC 9162 §2.1.

The reference below is written from the RFC's definitions (MTH, PATH, PROOF/SUBPROOF), recursive
and on raw leaf data, sharing no code with ``ecei_rules.audit.merkle``. The module must agree with
it on every tree of 1 to 64 leaves (every index, every pair of sizes) and on random trees up to
100,000 leaves, its verifiers must accept what the reference proves, and reject every tampering.
"""

from __future__ import annotations

import hashlib
import random

import pytest
from hypothesis import given
from hypothesis import strategies as st
from rfc9162_reference import MTH, PATH, PROOF, H, shape

from ecei_rules.audit import merkle

# --- helpers ----------------------------------------------------------------------------------


def data(n: int, seed: int = 0) -> list[bytes]:
    """n leaves of 32 bytes (record hashes, as a log's leaves are)."""
    return [hashlib.sha256(f"{seed}:{i}".encode()).digest() for i in range(n)]


def leaves(ds: list[bytes]) -> list[bytes]:
    return [merkle.leaf_hash(d) for d in ds]


def flip(h: bytes, bit: int = 0) -> bytes:
    return h[:bit // 8] + bytes([h[bit // 8] ^ (1 << (bit % 8))]) + h[bit // 8 + 1:]


SMALL = range(1, 65)


# --- agreement with the reference -------------------------------------------------------------


def test_empty_tree_root_is_sha256_of_the_empty_string() -> None:
    """MTH({}) = SHA-256(""), as the RFC defines it."""
    assert merkle.root([]) == MTH([]) == hashlib.sha256(b"").digest() == merkle.EMPTY_ROOT


def test_root_equals_the_reference_mth_for_every_size_1_to_64() -> None:
    """The module's root of n leaves equals the reference MTH for every n from 1 to 64, and so does
    the frontier's root after each append."""
    ds = data(64)
    frontier = merkle.Frontier()
    for n in SMALL:
        frontier.append(merkle.leaf_hash(ds[n - 1]))
        assert merkle.root(leaves(ds[:n])) == MTH(ds[:n])
        assert frontier.root() == MTH(ds[:n])
        assert frontier.size == n


def test_inclusion_proofs_equal_the_reference_path_and_verify_for_every_index_of_sizes_1_to_64() -> None:
    """For every tree size n <= 64 and every index, the module's proof is the reference PATH, and the
    module's verifier accepts it against the reference MTH."""
    ds = data(64, seed=1)
    lv = leaves(ds)
    for n in SMALL:
        top = MTH(ds[:n])
        for i in range(n):
            expected = PATH(i, ds[:n])
            assert merkle.inclusion_proof(i, lv, n) == expected
            assert merkle.verify_inclusion(lv[i], i, n, expected, top)


def test_consistency_proofs_equal_the_reference_proof_and_verify_for_every_pair_of_sizes_1_to_64() -> None:
    """For every 0 < m <= n <= 64, the module's consistency proof is the reference PROOF, and the
    module's verifier accepts it against the two reference roots."""
    ds = data(64, seed=2)
    lv = leaves(ds)
    roots = {n: MTH(ds[:n]) for n in SMALL}
    for n in SMALL:
        for m in range(1, n + 1):
            expected = PROOF(m, ds[:n])
            assert merkle.consistency_proof(m, lv, n) == expected
            assert merkle.verify_consistency(m, n, roots[m], roots[n], expected)


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_random_sizes_up_to_100000_agree_with_the_reference(seed: int) -> None:
    """On random trees up to 100,000 leaves (seeded), root, inclusion proofs of random indices and a
    consistency proof from a random earlier size agree with the reference and verify."""
    rng = random.Random(seed)
    n = rng.randint(65, 100_000) if seed != 3 else 100_000
    ds = data(n, seed=seed)
    lv = leaves(ds)
    top = MTH(ds)
    assert merkle.root(lv) == top
    for i in (0, n - 1, rng.randrange(n)):
        proof = merkle.inclusion_proof(i, lv)
        assert proof == PATH(i, ds)
        assert merkle.verify_inclusion(lv[i], i, n, proof, top)
    m = rng.randint(1, n - 1) if seed != 3 else 1_000
    proof = merkle.consistency_proof(m, lv)
    assert proof == PROOF(m, ds)
    assert merkle.verify_consistency(m, n, MTH(ds[:m]), top, proof)


def test_frontier_survives_a_copy_and_rejects_a_wrong_shape() -> None:
    """A frontier of n leaves holds one node per set bit of n; any other shape is refused."""
    ds = data(13)
    frontier = merkle.Frontier()
    frontier.extend(leaves(ds))
    assert len(frontier.nodes) == bin(13).count("1")
    again = merkle.Frontier(frontier.size, frontier.nodes)
    assert again.root() == MTH(ds)
    with pytest.raises(ValueError, match="frontier"):
        merkle.Frontier(13, frontier.nodes[:-1])
    with pytest.raises(ValueError, match="frontier"):
        merkle.Frontier(4, [b"x" * 31])


def test_generators_refuse_arguments_outside_the_tree() -> None:
    """An index >= size, a size beyond the leaves, or m outside 1..n raise ValueError."""
    lv = leaves(data(5))
    for bad in [(5,), (-1,), (0, 6)]:
        with pytest.raises(ValueError, match=r"index|size"):
            merkle.inclusion_proof(*bad[:1], lv, *bad[1:])
    for m in (0, 6, -1):
        with pytest.raises(ValueError, match="size"):
            merkle.consistency_proof(m, lv)


# --- tampering: every change to a proof is rejected -------------------------------------------


def _inclusion_cases() -> list[tuple[int, int]]:
    return [(n, i) for n in (1, 2, 3, 5, 7, 8, 9, 16, 17, 31, 33) for i in range(n)]


def test_every_tampered_inclusion_proof_is_rejected() -> None:
    """For trees of several shapes and every index: a bit flipped in any element, an element dropped,
    added or swapped with another, a wrong index, a wrong leaf or a wrong root: the verifier says False.
    A wrong size is refused whenever it changes the proof's left/right pattern; where it does not,
    RFC 9162's algorithm cannot tell the sizes apart, which is why a receipt takes its size from the
    signed checkpoint (the signature binds size and root)."""
    ds = data(33, seed=4)
    lv = leaves(ds)
    for n, i in _inclusion_cases():
        top = MTH(ds[:n])
        proof = PATH(i, ds[:n])
        ok = merkle.verify_inclusion
        assert ok(lv[i], i, n, proof, top)
        for j in range(len(proof)):
            for bit in (0, 7, 130, 255):
                assert not ok(lv[i], i, n, [*proof[:j], flip(proof[j], bit), *proof[j + 1:]], top)
            assert not ok(lv[i], i, n, proof[:j] + proof[j + 1:], top)  # dropped
        for extra in (proof[0] if proof else top, H(b"x")):
            for at in range(len(proof) + 1):
                assert not ok(lv[i], i, n, [*proof[:at], extra, *proof[at:]], top)  # added
        for a in range(len(proof)):
            for b in range(a + 1, len(proof)):
                swapped = list(proof)
                swapped[a], swapped[b] = swapped[b], swapped[a]
                if swapped != proof:
                    assert not ok(lv[i], i, n, swapped, top)
        for other in range(n + 2):
            if other != i:
                assert not ok(lv[i], other, n, proof, top)
        for size in range(40):
            if size != n:  # rejected unless the RFC algorithm cannot tell the sizes apart (bound by the signature)
                assert ok(lv[i], i, size, proof, top) == (i < size and shape(i, size) == shape(i, n))
        assert not ok(flip(lv[i]), i, n, proof, top)
        assert not ok(lv[i], i, n, proof, flip(top))


def test_every_tampered_consistency_proof_is_rejected() -> None:
    """For every 0 < m < n <= 20: flipping a bit of any element, dropping, adding or swapping
    elements, another m or n, or a wrong root on either side: the verifier says False."""
    ds = data(21, seed=5)
    roots = {n: MTH(ds[:n]) for n in range(1, 22)}
    ok = merkle.verify_consistency
    for n in range(2, 21):
        for m in range(1, n):
            proof = PROOF(m, ds[:n])
            first, second = roots[m], roots[n]
            assert ok(m, n, first, second, proof)
            for j in range(len(proof)):
                for bit in (0, 255):
                    assert not ok(m, n, first, second, [*proof[:j], flip(proof[j], bit), *proof[j + 1:]])
                assert not ok(m, n, first, second, proof[:j] + proof[j + 1:])
            for at in range(len(proof) + 1):
                assert not ok(m, n, first, second, [*proof[:at], H(b"extra"), *proof[at:]])
            for a in range(len(proof)):
                for b in range(a + 1, len(proof)):
                    swapped = list(proof)
                    swapped[a], swapped[b] = swapped[b], swapped[a]
                    if swapped != proof:
                        assert not ok(m, n, first, second, swapped)
            assert not ok(m, n, flip(first), second, proof)
            assert not ok(m, n, first, flip(second), proof)
            for other in range(1, 22):
                if other != m:
                    assert not ok(other, n, roots[other], second, proof) or PROOF(other, ds[:n]) == proof
                if other != n and other >= m:
                    assert not ok(m, other, first, roots[other], proof) or PROOF(m, ds[:other]) == proof


def test_verifiers_return_false_for_malformed_input_and_never_raise() -> None:
    """Wrong types, hashes of the wrong length, negative or boolean numbers, an index >= size,
    m > n, m == 0, a proof that is not a list of 32-byte hashes: False, no exception."""
    ds = data(6)
    lv = leaves(ds)
    top = MTH(ds)
    proof = PATH(2, ds)
    bad_inclusion = [
        (lv[2][:31], 2, 6, proof, top), (lv[2], 2, 6, proof, top[:31]), (lv[2], 2, 6, [*proof[:-1], b"\x00" * 33], top),
        (lv[2], -1, 6, proof, top), (lv[2], 6, 6, proof, top), (lv[2], 2, 0, proof, top), (lv[2], True, 6, proof, top),
        (lv[2], 2, 6.0, proof, top), ("ab" * 32, 2, 6, proof, top), (lv[2], 2, 6, None, top),
        (lv[2], 2, 6, [p.hex() for p in proof], top), (lv[2], 2, 6, proof[0], top), (None, None, None, None, None),
    ]
    for args in bad_inclusion:
        assert merkle.verify_inclusion(*args) is False  # type: ignore[arg-type]
    cproof = PROOF(3, ds)
    first = MTH(ds[:3])
    bad_consistency = [
        (3, 6, first[:31], top, cproof), (3, 6, first, top + b"\x00", cproof), (7, 6, first, top, cproof),
        (0, 6, merkle.EMPTY_ROOT, top, []), (-3, 6, first, top, cproof), (3, 6, first, top, []),
        (3, 6, first, top, "proof"), (3, 6, first, top, [*cproof, 5]), (6, 6, top, top, cproof),
        (3, 3, first, top, []), (False, 6, first, top, cproof), (3, 6, None, None, None),
    ]
    for args in bad_consistency:
        assert merkle.verify_consistency(*args) is False  # type: ignore[arg-type]
    assert merkle.verify_consistency(6, 6, top, top, [])  # the same tree: an empty proof


def test_record_leaf_is_the_leaf_hash_of_the_raw_record_hash() -> None:
    """A record's leaf is SHA-256(0x00 || the 32 raw bytes of its hash); anything but 64 hex digits is refused."""
    digest = hashlib.sha256(b"record").hexdigest()
    assert merkle.record_leaf(digest) == H(b"\x00" + bytes.fromhex(digest))
    for bad in ("", digest[:-2], digest + "00", "zz" * 32):
        with pytest.raises(ValueError, match="hex"):
            merkle.record_leaf(bad)


_anything = st.one_of(st.none(), st.booleans(), st.integers(-3, 2**70), st.binary(max_size=40), st.text(max_size=5),
                      st.lists(st.binary(min_size=31, max_size=33), max_size=4))


@given(leaf=_anything, index=_anything, size=_anything, proof=st.one_of(_anything, st.lists(_anything, max_size=4)),
       top=_anything)
def test_verify_inclusion_returns_a_bool_and_never_raises_for_any_input(leaf, index, size, proof, top) -> None:
    """Property: whatever values of whatever types reach verify_inclusion, it answers True or False."""
    assert merkle.verify_inclusion(leaf, index, size, proof, top) in (True, False)


@given(m=_anything, n=_anything, first=_anything, second=_anything,
       proof=st.one_of(_anything, st.lists(_anything, max_size=4)))
def test_verify_consistency_returns_a_bool_and_never_raises_for_any_input(m, n, first, second, proof) -> None:
    """Property: whatever values of whatever types reach verify_consistency, it answers True or False."""
    assert merkle.verify_consistency(m, n, first, second, proof) in (True, False)


@given(n=st.integers(1, 300), data=st.data())
def test_proofs_of_any_tree_up_to_300_leaves_verify_and_equal_the_reference(n: int, data: st.DataObject) -> None:
    """Property: for any tree size n <= 300, any index and any earlier size m, the module's proofs are the
    reference's and verify."""
    ds = [hashlib.sha256(i.to_bytes(4, "big")).digest() for i in range(n)]
    lv = leaves(ds)
    i = data.draw(st.integers(0, n - 1))
    m = data.draw(st.integers(1, n))
    top = MTH(ds)
    assert merkle.inclusion_proof(i, lv) == PATH(i, ds)
    assert merkle.verify_inclusion(lv[i], i, n, PATH(i, ds), top)
    assert merkle.consistency_proof(m, lv) == PROOF(m, ds)
    assert merkle.verify_consistency(m, n, MTH(ds[:m]), top, PROOF(m, ds))
