"""Near-duplicate grouping: one rumour copied by many accounts becomes one cluster.

MinHash over character 3-gram shingles of the normalised text, with locality-sensitive banding:
items sharing a band are candidates, confirmed when their estimated Jaccard similarity passes the
threshold. Hashes are stable across processes (fixed arithmetic and seeds), so signatures stored in
the database stay comparable after a restart.
"""

from __future__ import annotations

import re

import numpy as np

from .nlp.tokenizer import EMOTICON

NUM_PERM = 32
BANDS = 8
ROWS = NUM_PERM // BANDS
_rng = np.random.RandomState(20260101)
# Multiply-shift hashing (h * a + b mod 2^64, top 32 bits) with odd 64-bit multipliers: one hash
# function per permutation, no modulo.
_A = (_rng.randint(0, 1 << 62, size=NUM_PERM, dtype=np.int64).astype(np.uint64) << np.uint64(1)) | np.uint64(1)
_B = _rng.randint(0, 1 << 62, size=NUM_PERM, dtype=np.int64).astype(np.uint64)

# What copies change and readers don't notice: links, @mentions, Weibo's emoticon codes ([怒]),
# hashtags' marks, punctuation, spaces. A run of punctuation stops at "@" and "[", so that a mention
# or an emoticon right after it ("[怒]@某人", "转发//@某人:", "好 [赞]") goes as a whole.
_NOISE = re.compile(r"https?://\S+|@[\w\-]+|" + EMOTICON.pattern + r"|[^\w@\[]+|[_@\[]", re.UNICODE)
# Whole #topic# tags: bots paste one body under whichever topics are trending ("hashtag hijacking")
_HASHTAG = re.compile(r"#[^#\n]{1,60}#")
# A body this long says enough on its own; a shorter one ("武汉加油！") keeps its tags, which may
# carry the claim itself ("#喝醋能杀死病毒# 转发").
MIN_BODY_CHARS = 20


def cluster_text(text: str) -> str:
    """The text as copies share it: lower case, without links, @mentions, emoticon codes,
    punctuation and spaces,
    and without its #topic# tags when the rest is long enough to compare on its own, so one body
    posted under different trending topics is one cluster."""
    lowered = text.lower()
    body = _NOISE.sub("", _HASHTAG.sub(" ", lowered))
    return body if len(body) >= MIN_BODY_CHARS else _NOISE.sub("", lowered)


# Copies are compared on their first MAX_CHARS characters.
MAX_CHARS = 2000


def compared_text(text: str) -> str:
    """What a text's MinHash signature is made of: its first MAX_CHARS characters, as `cluster_text`
    reduces them."""
    return cluster_text(text[:MAX_CHARS])


# Shingles hashed at once per chunk: a chunk's hash table is CHUNK_SHINGLES x NUM_PERM x 8 bytes (16 MB).
CHUNK_SHINGLES = 65_536


def minhash(texts: list[str]) -> list[np.ndarray | None]:
    """MinHash signatures of texts already reduced by `cluster_text` (a batch at once), None for a
    text with fewer than 4 distinct 3-gram shingles.

    Each shingle's three code points are packed into one integer (exact: code points fit in 21
    bits), then NUM_PERM multiply-shift hashes of it: the same family at any time and in any process.
    The whole batch is one array, so the cost per text is a few vector operations, not a Python loop
    over its shingles."""
    out: list[np.ndarray | None] = [None] * len(texts)
    todo = [i for i, t in enumerate(texts) if _comparable(t)]
    start = 0
    while start < len(todo):
        end, size = start, 0
        while end < len(todo) and (end == start or size + len(texts[todo[end]]) <= CHUNK_SHINGLES):
            size += len(texts[todo[end]])
            end += 1
        _minhash_chunk(texts, todo[start:end], out)
        start = end
    return out


def _comparable(text: str) -> bool:
    """At least 4 distinct 3-gram shingles. A text of 6 or more characters, 4 or more of them
    distinct, always has 4 (each first and last appearance of a character starts new shingles), so
    only a text of at most 3 distinct characters ("哈哈哈哈哈哈") is counted."""
    if len(text) < 6:
        return False
    if len(set(text[:16])) >= 4 or len(set(text)) >= 4:
        return True
    return len(set(zip(text, text[1:], text[2:]))) >= 4


def _minhash_chunk(texts: list[str], which: list[int], out: list) -> None:
    lengths = np.array([len(texts[i]) for i in which], dtype=np.int64)
    c = np.frombuffer("".join(texts[i] for i in which).encode("utf-32-le", "surrogatepass"),
                      dtype=np.uint32).astype(np.uint64)
    packed = (c[:-2] << np.uint64(42)) | (c[1:-1] << np.uint64(21)) | c[2:]
    # Shingle k of text j starts at offset_j + k, k < length_j - 2: drop those that span two texts.
    # A shingle repeated within a text is hashed again; the minimum is the same.
    counts = lengths - 2
    starts = np.cumsum(counts) - counts
    pos = np.arange(int(counts.sum())) + np.repeat(np.cumsum(lengths) - lengths - starts, counts)
    with np.errstate(over="ignore"):  # one row per hash function: the minima run along rows
        hashed = np.multiply.outer(_A, packed[pos])
        hashed += _B[:, None]
    # The top 32 bits are the hash; taking them is monotone, so it is done once, on the minima.
    mins = np.ascontiguousarray((np.minimum.reduceat(hashed, starts, axis=1) >> np.uint64(32)).T, dtype=np.uint32)
    for j, i in enumerate(which):
        out[i] = mins[j]


_BAND_HEX = ROWS * 8  # hex digits of one band's ROWS uint32 values


def bands(sig: np.ndarray) -> list[str]:
    """The signature's LSH keys: band number and its ROWS values in hex ("3:0a1b…")."""
    digits = sig.astype(np.uint32, copy=False).tobytes().hex()
    return [f"{b}:{digits[b * _BAND_HEX:(b + 1) * _BAND_HEX]}" for b in range(BANDS)]


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


class NearDuplicates:
    """Matches signatures to groups of near-duplicates in memory: each group is known by its first
    signature and its LSH bands; a signature joins the most similar group sharing a band whose
    first signature it resembles at or above `threshold` (the oldest group on ties), else starts a
    group. The worker's batches (`ingest.BatchClusters`) start from the stored clusters their bands
    point to; `group_near_duplicates` starts empty."""

    def __init__(self, threshold: float, by_band: dict[str, list[int]] | None = None,
                 signatures: dict[int, bytes] | None = None, next_id: int = 0):
        self.threshold = threshold
        self.by_band = by_band if by_band is not None else {}  # band -> group ids
        self.signatures = signatures if signatures is not None else {}  # group id -> first signature
        self.next_id = next_id

    def match(self, sig: np.ndarray, keys: list[str]) -> tuple[int, bool]:
        """(group id, whether the group is new) for a signature with LSH bands `keys`."""
        ids = sorted({group for key in keys for group in self.by_band.get(key, ())})
        best = best_match(sig, [(i, self.signatures[i]) for i in ids], self.threshold) if ids else None
        if best is not None:
            return best, False
        best, self.next_id = self.next_id, self.next_id + 1
        self.signatures[best] = to_blob(sig)
        for key in keys:
            self.by_band.setdefault(key, []).append(best)
        return best, True


def group_near_duplicates(texts, threshold: float = 0.8) -> np.ndarray:
    """A group number per text: copies of one text (estimated Jaccard ≥ `threshold` with the
    group's first text) share it, as the worker's clusters would (`NearDuplicates`). A text too
    short to compare is a group of its own. Used offline, e.g. so that five copies of one rumour
    count once when a figure's uncertainty is estimated."""
    groups = np.empty(len(texts), dtype=np.int64)
    index = NearDuplicates(threshold)
    for i, sig in enumerate(minhash([compared_text(text) for text in texts])):
        if sig is None:
            groups[i], index.next_id = index.next_id, index.next_id + 1
        else:
            groups[i] = index.match(sig, bands(sig))[0]
    return groups
