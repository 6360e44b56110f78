"""Near-duplicate grouping: one rumour copied by many accounts becomes one cluster.

MinHash over character 3-gram shingles of the normalised text, with locality-sensitive banding:
items sharing a band are candidates, confirmed when their estimated Jaccard similarity passes the
threshold. Hashes are stable across processes (crc32, fixed seeds), so signatures stored in the
database stay comparable after a restart.
"""

from __future__ import annotations

import re
import zlib

import numpy as np

NUM_PERM = 32
BANDS = 8
ROWS = NUM_PERM // BANDS
_PRIME = np.uint64((1 << 61) - 1)
_rng = np.random.RandomState(20260101)
_A = _rng.randint(1, 1 << 31, size=NUM_PERM).astype(np.uint64)
_B = _rng.randint(0, 1 << 31, size=NUM_PERM).astype(np.uint64)

# What copies change and readers don't notice: links, @mentions, hashtags' marks, punctuation, spaces.
_NOISE = re.compile(r"https?://\S+|@[\w\-]+|[\s\W_]+", re.UNICODE)


def cluster_text(text: str) -> str:
    return _NOISE.sub("", text.lower())


def shingles(text: str, k: int = 3) -> set[str]:
    t = cluster_text(text)
    if len(t) <= k:
        return {t} if t else set()
    return {t[i:i + k] for i in range(len(t) - k + 1)}


def signature(text: str, max_chars: int = 2000) -> np.ndarray | None:
    """MinHash signature (NUM_PERM uint32), or None for texts too short to compare."""
    sh = shingles(text[:max_chars])
    if len(sh) < 4:
        return None
    h = np.fromiter((zlib.crc32(s.encode("utf-8")) for s in sh), dtype=np.uint64, count=len(sh))
    perm = (np.outer(h, _A) + _B) % _PRIME
    return (perm.min(axis=0) & np.uint64(0xFFFFFFFF)).astype(np.uint32)


def bands(sig: np.ndarray) -> list[str]:
    return [f"{b}:{sig[b * ROWS:(b + 1) * ROWS].tobytes().hex()}" for b in range(BANDS)]


def similarity(a: np.ndarray, b: np.ndarray) -> float:
    """Estimated Jaccard similarity of two signatures."""
    return float(np.mean(a == b))


def to_blob(sig: np.ndarray) -> bytes:
    return sig.astype(np.uint32).tobytes()


def from_blob(blob: bytes) -> np.ndarray:
    return np.frombuffer(blob, dtype=np.uint32)
