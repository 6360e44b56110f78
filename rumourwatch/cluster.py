"""Near-duplicate grouping: one rumour copied by many accounts becomes one cluster.

MinHash over character 3-gram shingles of the normalised text, with locality-sensitive banding:
items sharing a band are candidates, confirmed when their estimated Jaccard similarity passes the
threshold. Hashes are stable across processes (fixed arithmetic and seeds), so signatures stored in
the database stay comparable after a restart.

A story retold in other words, each copy with an opening or a closing of its own, shares too
little of its text for Jaccard (0.4–0.7). For texts long enough, a copy also joins a cluster when
most of the shorter text is contained in the longer one (`containment`): bands of two signature
values find those candidates, and the first text of each candidate cluster is compared with the
new one exactly, shingle by shingle.
"""

from __future__ import annotations

import re
from functools import lru_cache
from typing import NamedTuple

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


# Containment (retold copies): a new text joins a cluster whose first text shares at least
# MIN_SHARED shingles with it (a sentence's worth), CONTAINMENT of the shorter text's shingles. Read
# on the stream sample: between 0.6 and 0.7, over a third of the merges were different comments
# under one shared link title, or advertisements of one template; under 32 shingles, such a title
# alone (~28 characters) made most of a short comment.
CONTAINMENT = 0.7
MIN_SHARED = 32
# Shorter than this without its #topic# tags, a text cannot share MIN_SHARED shingles: it keeps the
# Jaccard rule alone (and a text short enough to keep its tags, which may carry the claim, is never
# compared by containment).
MIN_CONTAINED_CHARS = MIN_SHARED + 2
# The longer text may be at most this many times the shorter: beyond that, what they share is a
# small part of the longer (a digest of the day's news holding many stories, a long commentary
# quoting a post), and a digest first in a cluster would gather each of its stories.
MAX_LONGER = 3
# The longer text must add at least this many shingles of its own (a clause): two texts that differ
# only by a few characters swapped inside, like one rumour formula with another remedy in it
# ("紧急扩散！喝淡盐水可以…" / "紧急扩散！吃大蒜可以…"), make different claims, not a retelling.
MIN_ADDED = 10
# A retelling keeps the story's numbers. The same template filled in for another day or place
# (a daily count, a press conference's date and number) changes them: when more than this many
# of the shorter text's numbers are missing from the longer, they are different reports.
MAX_NUMBERS_CHANGED = 1
_NUMBER = re.compile(r"\d+")


def _reduce(text: str) -> tuple[str, bool]:
    """`cluster_text(text)`, and whether it is the body alone (its tags stripped)."""
    lowered = text.lower()
    body = _NOISE.sub("", _HASHTAG.sub(" ", lowered))
    if len(body) >= MIN_BODY_CHARS:
        return body, True
    return _NOISE.sub("", lowered), False


def cluster_text(text: str) -> str:
    """The text as copies share it: lower case, without links, @mentions, emoticon codes,
    punctuation and spaces,
    and without its #topic# tags when the rest is long enough to compare on its own, so one body
    posted under different trending topics is one cluster."""
    return _reduce(text)[0]


# Copies are compared on their first MAX_CHARS characters.
MAX_CHARS = 2000


def compared(text: str) -> tuple[str, bool]:
    """What a text's MinHash signature is made of (its first MAX_CHARS characters, as `cluster_text`
    reduces them), and whether that is its body alone, without its #topic# tags."""
    return _reduce(text[:MAX_CHARS])


def compared_text(text: str) -> str:
    """What a text's MinHash signature is made of (`compared`)."""
    return compared(text)[0]


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
# A body (a text compared without its tags) is banded by its first 16 signature values in pairs,
# keyed "c<band>:<hex>". A retold copy (Jaccard 0.3–0.6) shares a pair with its cluster's first
# text far more often than four values (on the stream sample these 8 pairs found 95 % of the
# containment merges that all 16 pairs found), and a copy (Jaccard 0.8) shares one almost surely
# (missed 0.03 % of the time in theory, against 1.5 % for the four-value bands). So a body has no
# other bands: as many keys per cluster as before.
PAIR_ROWS = 2
PAIR_BANDS = 8
PAIR_PREFIX = "c"
_PAIR_HEX = PAIR_ROWS * 8
# Of the NUM_PERM signature values, a retold copy and its cluster's first text agreed on 6 or more
# in every containment merge on the stream sample when all candidates were compared; texts that
# share one pair by chance mostly agree on 2–4. Those are passed over without comparing texts.
MIN_AGREEING = 5
# The texts of at most this many candidates, those agreeing most, are compared: a story told many
# ways brings dozens of clusters of its versions.
MAX_COMPARED = 8
# A band shared by more clusters than this stands for boilerplate rather than a story (on the
# stream sample, one pair of values came with 1,470 clusters: posts ending in a video card's
# "L…的微博视频"). No more clusters are added to it, and only this many of a longer one in a store
# from before are candidates: a copy shares several bands, so it is found through the others.
MAX_BAND_CLUSTERS = 64


def bands(sig: np.ndarray, body: bool = False) -> list[str]:
    """The signature's LSH keys. For a text short enough to keep its tags: band number and its ROWS
    values in hex ("3:0a1b…"); for a body: its PAIR_BANDS pairs ("c3:0a1b…")."""
    digits = sig.astype(np.uint32, copy=False).tobytes().hex()
    if body:
        return [f"{PAIR_PREFIX}{b}:{digits[b * _PAIR_HEX:(b + 1) * _PAIR_HEX]}" for b in range(PAIR_BANDS)]
    return [f"{b}:{digits[b * _BAND_HEX:(b + 1) * _BAND_HEX]}" for b in range(BANDS)]


class Signed(NamedTuple):
    """A text ready to be matched: its MinHash signature, its LSH keys, and the text itself when it
    is a body long enough for containment (else None)."""
    signature: np.ndarray
    keys: list[str]
    text: str | None


def sign(texts: list[tuple[str, bool]]) -> list[Signed | None]:
    """`Signed` per (text, body) pair from `compared` (a batch at once), None for a text too short
    to compare."""
    sigs = minhash([text for text, _ in texts])
    return [None if sig is None else Signed(sig, bands(sig, body),
                                             text if body and len(text) >= MIN_CONTAINED_CHARS else None)
            for sig, (text, body) in zip(sigs, texts)]


def shingles(text: str) -> set[str]:
    """The text's character 3-grams (what its signature is made of)."""
    return {text[i:i + 3] for i in range(len(text) - 2)}


class Told(NamedTuple):
    """What containment compares of a text (as `compared` reduces it): its shingles and numbers."""
    shingles: frozenset[str]
    numbers: frozenset[int]


def told(text: str) -> Told:
    """The `Told` of a text reduced by `compared`."""
    return Told(frozenset(shingles(text)), frozenset(int(n) for n in _NUMBER.findall(text)))


def containment(new: Told, first: Told) -> float:
    """How much of the shorter text the longer holds (shingles shared / the shorter's), 0 when
    they are not one story retold: the longer more than MAX_LONGER times the shorter; fewer than
    MIN_SHARED shingles shared; the longer adding fewer than MIN_ADDED of its own; or more than
    MAX_NUMBERS_CHANGED of the shorter's numbers missing from the longer."""
    shorter, longer = (new, first) if len(new.shingles) <= len(first.shingles) else (first, new)
    if len(longer.shingles) > MAX_LONGER * len(shorter.shingles):
        return 0.0
    shared = len(new.shingles & first.shingles)
    if (shared < MIN_SHARED or len(longer.shingles) - shared < MIN_ADDED
            or len(shorter.numbers - longer.numbers) > MAX_NUMBERS_CHANGED):
        return 0.0
    return shared / len(shorter.shingles)


def similarity(a: np.ndarray, b: np.ndarray) -> float:
    """Estimated Jaccard similarity of two signatures."""
    return float(np.mean(a == b))


def _agreeing(sig: np.ndarray, blobs: list[bytes]) -> np.ndarray:
    """How many of its values each stored signature shares with `sig`, all at once: a common band
    can bring dozens."""
    return (np.frombuffer(b"".join(blobs), dtype=np.uint32).reshape(len(blobs), NUM_PERM) == sig).sum(axis=1)


def to_blob(sig: np.ndarray) -> bytes:
    return sig.astype(np.uint32).tobytes()


def from_blob(blob: bytes) -> np.ndarray:
    return np.frombuffer(blob, dtype=np.uint32)


class Match(NamedTuple):
    """Where a text goes: its group; "new" (it starts the group), "copy" (a near-duplicate of the
    group's first text or of a retelling in it) or "retold" (it holds most of the first text, or the
    first text holds most of it); and the LSH keys that now point to the group: a new group's, or a
    retelling's, so that its own copies find the group through it (none for a copy)."""
    group: int
    kind: str
    keys: list[str]


class NearDuplicates:
    """Matches signed texts to groups in memory. Each group is known by its first signature and
    text, the signatures of the retellings that joined it, and their LSH bands. A text joins the
    group sharing a band whose first text or a retelling it resembles most, at or above `threshold`
    (estimated Jaccard; the oldest group on ties): a copy. Failing that, a text long enough joins,
    among the MAX_COMPARED groups it resembles most, the one whose first text holds most of it or
    most of which it holds (`containment` at or above CONTAINMENT): a retelling. Else it starts a
    group. The worker's batches (`ingest.BatchClusters`) start from the stored clusters their bands
    point to; `group_near_duplicates` starts empty."""

    def __init__(self, threshold: float, by_band: dict[str, list[int]] | None = None,
                 signatures: dict[int, bytes] | None = None, next_id: int = 0,
                 first_texts: dict[int, str] | None = None, retellings: dict[int, list[bytes]] | None = None,
                 band_clusters: int | None = None):
        """`band_clusters`: at most this many groups per band (MAX_BAND_CLUSTERS), None: no limit."""
        self.threshold = threshold
        self.band_clusters = band_clusters
        self.by_band = {key: groups[-band_clusters:] if band_clusters else groups  # band -> group ids
                        for key, groups in (by_band or {}).items()}
        self.signatures = signatures if signatures is not None else {}  # group id -> first signature
        self.next_id = next_id
        self.first_texts = first_texts if first_texts is not None else {}  # group id -> first text, as stored
        self.retellings = retellings if retellings is not None else {}  # group id -> their signatures
        self._texts: dict[int, str] = {}  # group made here -> its first text as compared, when containable
        self._told: dict[int, Told | None] = {}  # group id -> its first text's, None: too short

    def match(self, signed: Signed) -> Match:
        """The group of a signed text."""
        sig, keys = signed.signature, signed.keys
        ids = sorted({group for key in keys for group in self.by_band.get(key, ())})
        mine = None
        if ids:
            agree = self._agreeing(sig, ids)
            most = int(np.argmax(agree))  # the oldest on ties
            if agree[most] / NUM_PERM >= self.threshold:
                return Match(ids[most], "copy", [])
            order = np.argsort(-agree, kind="stable")[:MAX_COMPARED]
            near = [ids[k] for k in order if agree[k] >= MIN_AGREEING]
            if near and signed.text is not None:
                mine = told(signed.text)
                best = self._most_contained(mine, near)
                if best is not None:
                    self.retellings.setdefault(best, []).append(to_blob(sig))
                    return Match(best, "retold", self._band(best, keys))
        best, self.next_id = self.next_id, self.next_id + 1
        self.signatures[best] = to_blob(sig)
        if signed.text is not None:
            self._texts[best] = signed.text
        if mine is not None:
            self._told[best] = mine
        return Match(best, "new", self._band(best, keys))

    def _band(self, group: int, keys: list[str]) -> list[str]:
        """Points the bands `keys` to `group`, but for those full already (`band_clusters`); the
        keys it was added to."""
        added = []
        for key in keys:
            groups = self.by_band.setdefault(key, [])
            if self.band_clusters is None or len(groups) < self.band_clusters:
                groups.append(group)
                added.append(key)
        return added

    def _agreeing(self, sig: np.ndarray, ids: list[int]) -> np.ndarray:
        """Per group, the most signature values that its first text or one of its retellings shares
        with `sig`."""
        blobs = [self.signatures[group] for group in ids]
        retold = [(k, self.retellings[group]) for k, group in enumerate(ids) if group in self.retellings]
        for _, signatures in retold:  # after the first ones
            blobs += signatures
        agree = _agreeing(sig, blobs)
        start = len(ids)
        for k, signatures in retold:
            agree[k] = max(agree[k], agree[start:start + len(signatures)].max())
            start += len(signatures)
        return agree[:len(ids)]

    def _most_contained(self, mine: Told, ids: list[int]) -> int | None:
        best, most = None, CONTAINMENT
        for group in ids:
            theirs = self._first_told(group)
            c = 0.0 if theirs is None else containment(mine, theirs)
            if c >= CONTAINMENT and (best is None or c > most):
                best, most = group, c
        return best

    def _first_told(self, group: int) -> Told | None:
        if group not in self._told:
            text = self._texts.get(group)
            if text is not None:
                self._told[group] = told(text)
            else:
                stored = self.first_texts.get(group)
                self._told[group] = None if stored is None else _stored_told(stored)
        return self._told[group]


@lru_cache(maxsize=2048)
def _stored_told(stored: str) -> Told | None:
    """The `Told` of a stored first text when it is long enough for containment. Kept across
    batches: the first texts of the clusters a popular story has made come up batch after batch."""
    text, body = compared(stored)
    return told(text) if body and len(text) >= MIN_CONTAINED_CHARS else None


def group_near_duplicates(texts, threshold: float = 0.8) -> np.ndarray:
    """A group number per text: copies of one text (estimated Jaccard ≥ `threshold` with the
    group's first text) share it, as the worker's clusters would (`NearDuplicates`), except that
    retold copies are not joined by containment here: training data and evaluation figures stay
    grouped as before. A text too short to compare is a group of its own. Used offline, e.g. so
    that five copies of one rumour count once when a figure's uncertainty is estimated."""
    groups = np.empty(len(texts), dtype=np.int64)
    index = NearDuplicates(threshold)
    for i, signed in enumerate(sign([(compared_text(text), False) for text in texts])):  # four-value bands
        if signed is None:
            groups[i], index.next_id = index.next_id, index.next_id + 1
        else:
            groups[i] = index.match(signed)[0]
    return groups
