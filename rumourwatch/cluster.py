"""Near-duplicate grouping: one rumour copied by many accounts becomes one cluster.

MinHash over character 3-gram shingles of the normalised text, with locality-sensitive banding:
items sharing a band are candidates, confirmed when their estimated Jaccard similarity passes the
threshold. Hashes are stable across processes (fixed arithmetic and seeds), so signatures stored in
the database stay comparable after a restart.
"""

from __future__ import annotations

import re

import numpy as np

NUM_PERM = 32
BANDS = 8
ROWS = NUM_PERM // BANDS
_rng = np.random.RandomState(20260101)
# Multiply-shift hashing (h * a + b mod 2^64, top 32 bits) with odd 64-bit multipliers: one hash
# function per permutation, no modulo.
_A = (_rng.randint(0, 1 << 62, size=NUM_PERM, dtype=np.int64).astype(np.uint64) << np.uint64(1)) | np.uint64(1)
_B = _rng.randint(0, 1 << 62, size=NUM_PERM, dtype=np.int64).astype(np.uint64)

# What copies change and readers don't notice: links, @mentions, hashtags' marks, punctuation, spaces.
_NOISE = re.compile(r"https?://\S+|@[\w\-]+|[\s\W_]+", re.UNICODE)
# Whole #topic# tags: bots paste one body under whichever topics are trending ("hashtag hijacking")
_HASHTAG = re.compile(r"#[^#\n]{1,60}#")
# A body this long says enough on its own; a shorter one ("武汉加油！") keeps its tags, which may
# carry the claim itself ("#喝醋能杀死病毒# 转发").
MIN_BODY_CHARS = 20


def cluster_text(text: str) -> str:
    """The text as copies share it: lower case, without links, @mentions, punctuation and spaces,
    and without its #topic# tags when the rest is long enough to compare on its own, so one body
    posted under different trending topics is one cluster."""
    lowered = text.lower()
    body = _NOISE.sub("", _HASHTAG.sub(" ", lowered))
    return body if len(body) >= MIN_BODY_CHARS else _NOISE.sub("", lowered)


def signature(text: str, max_chars: int = 2000) -> np.ndarray | None:
    """MinHash signature (NUM_PERM uint32), or None for texts too short to compare.

    The 3-gram shingles are hashed with numpy: each shingle's three code points packed into one
    integer (exact: code points fit in 21 bits), then NUM_PERM multiply-shift hashes of it — the same
    family at any time and in any process."""
    t = cluster_text(text[:max_chars])
    if len(t) < 3:
        return None
    c = np.frombuffer(t.encode("utf-32-le", "surrogatepass"), dtype=np.uint32).astype(np.uint64)
    packed = np.unique((c[:-2] << np.uint64(42)) | (c[1:-1] << np.uint64(21)) | c[2:])
    if len(packed) < 4:
        return None
    with np.errstate(over="ignore"):
        perm = (packed[:, None] * _A + _B) >> np.uint64(32)
    return perm.min(axis=0).astype(np.uint32)


def bands(sig: np.ndarray) -> list[str]:
    return [f"{b}:{sig[b * ROWS:(b + 1) * ROWS].tobytes().hex()}" for b in range(BANDS)]


def similarity(a: np.ndarray, b: np.ndarray) -> float:
    """Estimated Jaccard similarity of two signatures."""
    return float(np.mean(a == b))


def best_match(sig: np.ndarray, candidates: list[tuple[int, bytes]], threshold: float) -> int | None:
    """The candidate cluster most similar to `sig` at or above `threshold` (first on ties), else None.
    All candidates are compared at once: a common band can bring dozens."""
    sims = (np.frombuffer(b"".join(blob for _, blob in candidates), dtype=np.uint32)
            .reshape(len(candidates), NUM_PERM) == sig).mean(axis=1)
    i = int(np.argmax(sims))
    return candidates[i][0] if sims[i] >= threshold else None


def to_blob(sig: np.ndarray) -> bytes:
    return sig.astype(np.uint32).tobytes()


def from_blob(blob: bytes) -> np.ndarray:
    return np.frombuffer(blob, dtype=np.uint32)


def group_near_duplicates(texts, threshold: float = 0.8) -> np.ndarray:
    """A group number per text: copies of one text (estimated Jaccard ≥ `threshold` with the
    group's first text) share it, as the worker's clusters would. A text too short to compare is
    a group of its own. Used offline, e.g. so that five copies of one rumour count once when a
    figure's uncertainty is estimated."""
    groups = np.empty(len(texts), dtype=np.int64)
    firsts: list[bytes] = []  # each group's first signature, as the store keeps a cluster's
    by_band: dict[str, list[int]] = {}
    for i, text in enumerate(texts):
        sig = signature(text)
        if sig is None:
            groups[i] = len(firsts)
            firsts.append(b"")
            continue
        keys = bands(sig)
        seen = dict.fromkeys(g for key in keys for g in by_band.get(key, ()))
        best = best_match(sig, [(g, firsts[g]) for g in seen], threshold) if seen else None
        if best is None:
            best = len(firsts)
            firsts.append(to_blob(sig))
            for key in keys:
                by_band.setdefault(key, []).append(best)
        groups[i] = best
    return groups
