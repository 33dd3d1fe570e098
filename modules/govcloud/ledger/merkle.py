"""Merkle tree hashing, audit paths and consistency proofs exactly as RFC 9162 section 2.1.

Why not a library: pymerkle 7.0 (the maintained PyPI candidate) computes RFC-conformant root
hashes (0x00/0x01 domain separation, split at the largest power of two below n; its roots
match the RFC 6962 test vectors), but its proofs are its own format (a path that includes the
leaf itself plus "rule"/"subset" bit lists, four hashes where RFC 9162 has three for 6 -> 8)
verified by its own algorithm rather than the RFC's, it keeps every node in memory or SQLite
instead of our append-only files, and it offers no SM3. Other PyPI Merkle packages either hash
without domain separation (merkletools, merklelib) or build Bitcoin-style trees that duplicate
the last node. So the RFC's own definitions are implemented here, small and checked in
tests/ledger against the RFC 6962 test vectors and a brute-force reference.

The algorithms take a ``subtree`` function, ``subtree(start, end) -> MTH(D[start:end])``, so
the same code serves an in-memory list of leaf hashes (tests, offline tools) and the ledger's
level files, where every perfect subtree hash is one read (proofs in O(log n) reads).
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Callable, Sequence

from cryptography.hazmat.primitives import hashes

SHA256 = "sha256"
SM3 = "sm3"
HASH_ALGORITHMS = (SHA256, SM3)
DIGEST_SIZE = 32  # both SHA-256 and SM3

LEAF_PREFIX = b"\x00"
NODE_PREFIX = b"\x01"

HashFunction = Callable[[bytes], bytes]
Subtree = Callable[[int, int], bytes]


def _sha256(data: bytes) -> bytes:
    return hashlib.sha256(data).digest()


def _sm3(data: bytes) -> bytes:
    digest = hashes.Hash(hashes.SM3())
    digest.update(data)
    return digest.finalize()


def hash_function(algorithm: str) -> HashFunction:
    if algorithm == SHA256:
        return _sha256
    if algorithm == SM3:
        return _sm3
    raise ValueError(f"unknown hash algorithm {algorithm!r}; use one of {', '.join(HASH_ALGORITHMS)}")


class Hasher:
    """The RFC's HASH with its leaf and node domain separation."""

    def __init__(self, algorithm: str = SHA256):
        self.algorithm = algorithm
        self.digest = hash_function(algorithm)

    def empty_root(self) -> bytes:
        return self.digest(b"")

    def leaf(self, data: bytes) -> bytes:
        return self.digest(LEAF_PREFIX + data)

    def node(self, left: bytes, right: bytes) -> bytes:
        return self.digest(NODE_PREFIX + left + right)


def split_point(n: int) -> int:
    """The largest power of two smaller than n (n > 1)."""
    return 1 << ((n - 1).bit_length() - 1)


def is_perfect(start: int, end: int) -> bool:
    """True when D[start:end] is a complete aligned subtree (one node of the tree)."""
    width = end - start
    return width > 0 and width & (width - 1) == 0 and start % width == 0


def root_of(hasher: Hasher, leaf_hashes: Sequence[bytes]) -> bytes:
    """MTH(D[n]) by the RFC's recursive definition: the reference the tests compare against."""
    if not leaf_hashes:
        return hasher.empty_root()
    if len(leaf_hashes) == 1:
        return leaf_hashes[0]
    k = split_point(len(leaf_hashes))
    return hasher.node(root_of(hasher, leaf_hashes[:k]), root_of(hasher, leaf_hashes[k:]))


def subtree_from(hasher: Hasher, perfect: Callable[[int, int], bytes]) -> Subtree:
    """``subtree(start, end)`` for any range the RFC's recursion visits, built from perfect
    subtree hashes (``perfect(level, index)``: node ``index`` at height ``level``)."""

    def subtree(start: int, end: int) -> bytes:
        if is_perfect(start, end):
            return perfect((end - start).bit_length() - 1, start // (end - start))
        k = split_point(end - start)
        return hasher.node(subtree(start, start + k), subtree(start + k, end))

    return subtree


def inclusion_path(subtree: Subtree, index: int, size: int) -> list[bytes]:
    """PATH(m, D[n]) of RFC 9162 2.1.3.1, leaf-to-root order."""
    if not 0 <= index < size:
        raise ValueError(f"leaf index {index} is outside a tree of size {size}")
    path: list[bytes] = []
    start, end = 0, size
    while end - start > 1:
        k = split_point(end - start)
        if index - start < k:
            path.append(subtree(start + k, end))
            end = start + k
        else:
            path.append(subtree(start, start + k))
            start += k
    path.reverse()
    return path


def consistency_proof(subtree: Subtree, old_size: int, new_size: int) -> list[bytes]:
    """PROOF(m, D[n]) = SUBPROOF(m, D[n], true) of RFC 9162 2.1.4.1, for 0 < m <= n."""
    if not 0 < old_size <= new_size:
        raise ValueError(f"no consistency proof from size {old_size} to size {new_size}")
    proof: list[bytes] = []
    start, m, n, whole = 0, old_size, new_size, True
    while m != n:
        k = split_point(n)
        if m <= k:
            proof.append(subtree(start + k, start + n))
            n = k
        else:
            proof.append(subtree(start, start + k))
            start, m, n, whole = start + k, m - k, n - k, False
    if not whole:
        proof.append(subtree(start, start + n))
    proof.reverse()
    return proof


def _shift_while_even(fn: int, sn: int) -> tuple[int, int]:
    """The RFC's "if LSB(fn) is not set, right-shift both fn and sn equally until either
    LSB(fn) is set or fn is 0" (a no-op when LSB(fn) is set)."""
    while fn and not fn & 1:
        fn >>= 1
        sn >>= 1
    return fn, sn


def verify_inclusion(hasher: Hasher, leaf_hash: bytes, index: int, size: int, path: Sequence[bytes], root: bytes) -> bool:
    """RFC 9162 2.1.3.2, step by step."""
    if index >= size or index < 0:
        return False
    fn, sn = index, size - 1
    r = leaf_hash
    for p in path:
        if sn == 0:
            return False
        if fn & 1 or fn == sn:
            r = hasher.node(p, r)
            fn, sn = _shift_while_even(fn, sn)
        else:
            r = hasher.node(r, p)
        fn >>= 1
        sn >>= 1
    return sn == 0 and hmac.compare_digest(r, root)


def verify_consistency(
    hasher: Hasher, old_size: int, new_size: int, old_root: bytes, new_root: bytes, proof: Sequence[bytes]
) -> bool:
    """RFC 9162 2.1.4.2, step by step; the two trivial cases the RFC leaves to the caller
    (equal sizes: equal roots and an empty proof; old size 0: anything grew from nothing)
    are decided first."""
    if old_size < 0 or new_size < old_size:
        return False
    if old_size == new_size:
        return not proof and hmac.compare_digest(old_root, new_root)
    if old_size == 0:
        return not proof
    if not proof:
        return False
    path = list(proof)
    if old_size & (old_size - 1) == 0:
        path.insert(0, old_root)
    fn, sn = old_size - 1, new_size - 1
    while fn & 1:
        fn >>= 1
        sn >>= 1
    fr = sr = path[0]
    for c in path[1:]:
        if sn == 0:
            return False
        if fn & 1 or fn == sn:
            fr = hasher.node(c, fr)
            sr = hasher.node(c, sr)
            fn, sn = _shift_while_even(fn, sn)
        else:
            sr = hasher.node(sr, c)
        fn >>= 1
        sn >>= 1
    return sn == 0 and hmac.compare_digest(fr, old_root) and hmac.compare_digest(sr, new_root)


class Frontier:
    """The right edge of the tree: the roots of its perfect subtrees, one per set bit of the
    size. Appending a leaf touches O(log n) of them (amortised O(1)), and the root is their
    fold; ``carries`` reports the new interior nodes so the caller can persist them."""

    def __init__(self, hasher: Hasher, size: int = 0, roots: dict[int, bytes] | None = None):
        self.hasher = hasher
        self.size = size
        self.roots: dict[int, bytes] = dict(roots or {})

    def append(self, leaf_hash: bytes) -> list[tuple[int, int, bytes]]:
        """Add one leaf; returns every new perfect node as (level, index, hash), leaf first."""
        created = [(0, self.size, leaf_hash)]
        node, level, size = leaf_hash, 0, self.size
        while size >> level & 1:
            node = self.hasher.node(self.roots.pop(level), node)
            level += 1
            created.append((level, (size + 1 >> level) - 1, node))
        self.roots[level] = node
        self.size += 1
        return created

    def root(self) -> bytes:
        if not self.size:
            return self.hasher.empty_root()
        result = None
        for level in sorted(self.roots):
            result = self.roots[level] if result is None else self.hasher.node(self.roots[level], result)
        assert result is not None
        return result


def build_levels(hasher: Hasher, leaf_hashes: Sequence[bytes]) -> list[list[bytes]]:
    """Every perfect node: ``levels[k][i]`` is the root of leaves [i * 2**k, (i + 1) * 2**k)."""
    levels = [list(leaf_hashes)]
    while len(levels[-1]) > 1:
        below = levels[-1]
        levels.append([hasher.node(below[i], below[i + 1]) for i in range(0, len(below) - 1, 2)])
    return levels


def memory_subtree(hasher: Hasher, leaf_hashes: Sequence[bytes]) -> Subtree:
    """``subtree`` over leaf hashes held in memory (offline tools, tests, cache rebuilds)."""
    levels = build_levels(hasher, leaf_hashes)
    return subtree_from(hasher, lambda level, index: levels[level][index])
