"""RFC 9162 / RFC 6962 Merkle trees: known answers, a brute-force reference, properties.

The known answers are the RFC 6962 test data used by the Certificate Transparency
implementations: eight leaves, their tree roots for every size, and audit paths and
consistency proofs for selected pairs. The leaf and node hashes are recomputed here by hand
(hashlib, explicit 0x00/0x01 prefixes) so the expected values do not come from the code
under test.
"""

from __future__ import annotations

import hashlib

import pytest
from budget import examples
from hypothesis import given, settings
from hypothesis import strategies as st

from govcloud.ledger import merkle

LEAVES = [bytes.fromhex(h) for h in ["", "00", "10", "2021", "3031", "40414243", "5051525354555657", "606162636465666768696a6b6c6d6e6f"]]

ROOTS = {
    0: "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
    1: "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
    2: "fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
    3: "aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77",
    4: "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
    5: "4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4",
    6: "76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef",
    7: "ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c",
    8: "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328",
}

# (leaf index, tree size) -> audit path, leaf to root
INCLUSION = {
    (0, 1): [],
    (0, 8): [
        "96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
        "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
        "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4",
    ],
    (5, 8): [
        "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
        "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
        "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
    ],
    (2, 3): ["fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125"],
    (1, 5): [
        "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
        "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
        "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
    ],
}

# (old size, new size) -> consistency proof
CONSISTENCY = {
    (1, 1): [],
    (1, 8): [
        "96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
        "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
        "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4",
    ],
    (6, 8): [
        "0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a",
        "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
        "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
    ],
    (2, 5): [
        "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
        "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
    ],
}

SHA = merkle.Hasher(merkle.SHA256)


def by_hand_leaf(data: bytes) -> bytes:
    return hashlib.sha256(b"\x00" + data).digest()


def by_hand_node(left: bytes, right: bytes) -> bytes:
    return hashlib.sha256(b"\x01" + left + right).digest()


LEAF_HASHES = [by_hand_leaf(leaf) for leaf in LEAVES]


def subtree_of(leaf_hashes):
    return lambda start, end: merkle.root_of(SHA, leaf_hashes[start:end])


def test_domain_separation_by_hand() -> None:
    # Leaf and node hashes carry different prefixes, so a node can never pose as a leaf.
    assert SHA.leaf(b"\x01\x02") == by_hand_leaf(b"\x01\x02") != hashlib.sha256(b"\x01\x02").digest()
    assert SHA.node(LEAF_HASHES[0], LEAF_HASHES[1]) == by_hand_node(LEAF_HASHES[0], LEAF_HASHES[1])
    assert SHA.leaf(LEAF_HASHES[0] + LEAF_HASHES[1]) != SHA.node(LEAF_HASHES[0], LEAF_HASHES[1])


def test_roots_of_the_rfc6962_test_data_computed_by_hand() -> None:
    h = LEAF_HASHES
    n01, n23, n45, n67 = by_hand_node(h[0], h[1]), by_hand_node(h[2], h[3]), by_hand_node(h[4], h[5]), by_hand_node(h[6], h[7])
    by_hand = {
        0: hashlib.sha256(b"").digest(),
        1: h[0],
        2: n01,
        3: by_hand_node(n01, h[2]),  # largest power of two below 3 is 2
        4: by_hand_node(n01, n23),
        5: by_hand_node(by_hand_node(n01, n23), h[4]),
        6: by_hand_node(by_hand_node(n01, n23), n45),
        7: by_hand_node(by_hand_node(n01, n23), by_hand_node(n45, h[6])),
        8: by_hand_node(by_hand_node(n01, n23), by_hand_node(n45, n67)),
    }
    for size, expected in ROOTS.items():
        assert by_hand[size].hex() == expected
        assert merkle.root_of(SHA, LEAF_HASHES[:size]).hex() == expected
        frontier = merkle.Frontier(SHA)
        for leaf in LEAF_HASHES[:size]:
            frontier.append(leaf)
        assert frontier.root().hex() == expected


@pytest.mark.parametrize("index,size", sorted(INCLUSION))
def test_inclusion_known_answers(index: int, size: int) -> None:
    subtree = subtree_of(LEAF_HASHES[:size])
    path = merkle.inclusion_path(subtree, index, size)
    assert [p.hex() for p in path] == INCLUSION[(index, size)]
    assert merkle.verify_inclusion(SHA, LEAF_HASHES[index], index, size, path, bytes.fromhex(ROOTS[size]))


@pytest.mark.parametrize("old,new", sorted(CONSISTENCY))
def test_consistency_known_answers(old: int, new: int) -> None:
    proof = merkle.consistency_proof(subtree_of(LEAF_HASHES[:new]), old, new)
    assert [p.hex() for p in proof] == CONSISTENCY[(old, new)]
    assert merkle.verify_consistency(SHA, old, new, bytes.fromhex(ROOTS[old]), bytes.fromhex(ROOTS[new]), proof)


def test_sm3_is_the_standard_sm3() -> None:
    # GB/T 32905-2016 appendix A example 1: SM3("abc").
    assert merkle.hash_function(merkle.SM3)(b"abc").hex() == "66c7f0f462eeedd9d1f2d46bdc10e4e24167c4875cf2f7a2297da02b8f4ba8e0"
    sm3 = merkle.Hasher(merkle.SM3)
    assert sm3.leaf(b"x") == merkle.hash_function(merkle.SM3)(b"\x00x")
    assert sm3.node(b"a" * 32, b"b" * 32) == merkle.hash_function(merkle.SM3)(b"\x01" + b"a" * 32 + b"b" * 32)


# --- a brute-force reference written straight from the RFC's recursive definitions ---------
def ref_mth(leaves: list[bytes]) -> bytes:
    if not leaves:
        return hashlib.sha256(b"").digest()
    if len(leaves) == 1:
        return leaves[0]
    k = 1
    while k * 2 < len(leaves):
        k *= 2
    return by_hand_node(ref_mth(leaves[:k]), ref_mth(leaves[k:]))


def ref_path(m: int, leaves: list[bytes]) -> list[bytes]:
    n = len(leaves)
    if n == 1:
        return []
    k = 1
    while k * 2 < n:
        k *= 2
    if m < k:
        return ref_path(m, leaves[:k]) + [ref_mth(leaves[k:])]
    return ref_path(m - k, leaves[k:]) + [ref_mth(leaves[:k])]


def ref_subproof(m: int, leaves: list[bytes], complete: bool) -> list[bytes]:
    n = len(leaves)
    if m == n:
        return [] if complete else [ref_mth(leaves)]
    k = 1
    while k * 2 < n:
        k *= 2
    if m <= k:
        return ref_subproof(m, leaves[:k], complete) + [ref_mth(leaves[k:])]
    return ref_subproof(m - k, leaves[k:], False) + [ref_mth(leaves[:k])]


N_MAX = 24
ALL = [by_hand_leaf(i.to_bytes(2, "big")) for i in range(N_MAX)]


@pytest.mark.parametrize("size", range(1, N_MAX + 1))
def test_every_proof_matches_the_reference_and_verifies(size: int) -> None:
    leaves = ALL[:size]
    root = ref_mth(leaves)
    assert merkle.root_of(SHA, leaves) == root
    memory = merkle.memory_subtree(SHA, leaves)
    for index in range(size):
        path = merkle.inclusion_path(memory, index, size)
        assert path == ref_path(index, leaves)
        assert merkle.verify_inclusion(SHA, leaves[index], index, size, path, root)
        # the same path proves nothing for another position or another leaf
        for other in range(size):
            if other != index:
                assert not merkle.verify_inclusion(SHA, leaves[index], other, size, path, root)
        assert not merkle.verify_inclusion(SHA, SHA.leaf(b"forged"), index, size, path, root)
    for old in range(1, size + 1):
        proof = merkle.consistency_proof(memory, old, size)
        assert proof == ref_subproof(old, leaves, True)
        old_root = ref_mth(leaves[:old])
        assert merkle.verify_consistency(SHA, old, size, old_root, root, proof)
        if old < size:
            assert not merkle.verify_consistency(SHA, old, size, SHA.leaf(b"other"), root, proof)
            assert not merkle.verify_consistency(SHA, old, size, old_root, SHA.leaf(b"other"), proof)
            assert not merkle.verify_consistency(SHA, old, size, old_root, root, proof[:-1])
            assert not merkle.verify_consistency(SHA, old, size, old_root, root, proof + [root])


@pytest.mark.parametrize("size", [1, 2, 3, 5, 7, 8, 13])
def test_every_altered_proof_hash_fails(size: int) -> None:
    leaves = ALL[:size]
    root, memory = ref_mth(leaves), merkle.memory_subtree(SHA, leaves)
    for index in range(size):
        path = merkle.inclusion_path(memory, index, size)
        for i in range(len(path)):
            bad = list(path)
            bad[i] = bytes([bad[i][0] ^ 1]) + bad[i][1:]
            assert not merkle.verify_inclusion(SHA, leaves[index], index, size, bad, root)
        assert not merkle.verify_inclusion(SHA, leaves[index], index, size, path + [root], root)
        if path:
            assert not merkle.verify_inclusion(SHA, leaves[index], index, size, path[:-1], root)
    for old in range(1, size):
        proof = merkle.consistency_proof(memory, old, size)
        for i in range(len(proof)):
            bad = list(proof)
            bad[i] = bytes([bad[i][0] ^ 1]) + bad[i][1:]
            assert not merkle.verify_consistency(SHA, old, size, ref_mth(leaves[:old]), root, bad)


def test_trivial_and_impossible_cases() -> None:
    root = ref_mth(ALL[:4])
    assert merkle.verify_consistency(SHA, 0, 4, b"", root, [])  # anything grew from nothing
    assert not merkle.verify_consistency(SHA, 0, 4, b"", root, [root])
    assert merkle.verify_consistency(SHA, 4, 4, root, root, [])
    assert not merkle.verify_consistency(SHA, 4, 4, root, ref_mth(ALL[:3]), [])
    assert not merkle.verify_consistency(SHA, 5, 4, root, root, [])
    assert not merkle.verify_consistency(SHA, 2, 4, ref_mth(ALL[:2]), root, [])
    assert not merkle.verify_inclusion(SHA, ALL[0], 4, 4, [], root)
    assert not merkle.verify_inclusion(SHA, ALL[0], -1, 4, [], root)
    with pytest.raises(ValueError):
        merkle.inclusion_path(merkle.memory_subtree(SHA, ALL[:4]), 4, 4)
    with pytest.raises(ValueError):
        merkle.consistency_proof(merkle.memory_subtree(SHA, ALL[:4]), 0, 4)
    with pytest.raises(ValueError):
        merkle.hash_function("md5")


def test_frontier_reports_every_new_perfect_node() -> None:
    frontier = merkle.Frontier(SHA)
    seen: dict[tuple[int, int], bytes] = {}
    for leaf in ALL[:13]:
        for level, index, node in frontier.append(leaf):
            seen[(level, index)] = node
    levels = merkle.build_levels(SHA, ALL[:13])
    assert seen == {(level, i): node for level, nodes in enumerate(levels) for i, node in enumerate(nodes)}


leaf_lists = st.lists(st.binary(max_size=40), min_size=1, max_size=150)


@settings(max_examples=examples(150), deadline=None)
@given(leaf_lists, st.data())
def test_property_proofs_hold_for_any_leaves(data_leaves: list[bytes], data: st.DataObject) -> None:
    leaves = [SHA.leaf(d) for d in data_leaves]
    size = len(leaves)
    memory = merkle.memory_subtree(SHA, leaves)
    root = merkle.root_of(SHA, leaves)
    index = data.draw(st.integers(0, size - 1))
    old = data.draw(st.integers(1, size))
    path = merkle.inclusion_path(memory, index, size)
    assert merkle.verify_inclusion(SHA, leaves[index], index, size, path, root)
    proof = merkle.consistency_proof(memory, old, size)
    assert merkle.verify_consistency(SHA, old, size, merkle.root_of(SHA, leaves[:old]), root, proof)
    # appending one leaf changes the root, and the old head is consistent with the new tree
    grown = leaves + [SHA.leaf(b"one more")]
    grown_root = merkle.root_of(SHA, grown)
    assert grown_root != root
    assert merkle.verify_consistency(SHA, size, size + 1, root, grown_root, merkle.consistency_proof(merkle.memory_subtree(SHA, grown), size, size + 1))


@settings(max_examples=examples(150), deadline=None)
@given(leaf_lists, st.data())
def test_property_changing_any_leaf_breaks_its_proofs(data_leaves: list[bytes], data: st.DataObject) -> None:
    leaves = [SHA.leaf(d) for d in data_leaves]
    size = len(leaves)
    index = data.draw(st.integers(0, size - 1))
    changed = list(leaves)
    changed[index] = SHA.leaf(data_leaves[index] + b"!")
    root = merkle.root_of(SHA, leaves)
    assert merkle.root_of(SHA, changed) != root
    path = merkle.inclusion_path(merkle.memory_subtree(SHA, changed), index, size)
    assert not merkle.verify_inclusion(SHA, changed[index], index, size, path, root)
    if index + 1 < size:
        old = data.draw(st.integers(index + 1, size - 1))
        proof = merkle.consistency_proof(merkle.memory_subtree(SHA, changed), old, size)
        assert not merkle.verify_consistency(SHA, old, size, merkle.root_of(SHA, leaves[:old]), merkle.root_of(SHA, changed), proof)
