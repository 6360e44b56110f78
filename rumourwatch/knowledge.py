"""The "already debunked" knowledge base: match incoming items to published clarifications.

A `DebunkIndex` holds char n-gram TF-IDF vectors of debunk articles. Each article is indexed by
its *claim*: the title plus the rumour statement when the article quotes it (流言：… 真相：…,
流传内容：… 鉴定结果：…), else the title plus the article's opening. Incoming items resemble the
claim, not the long explanation, so indexing the whole text would drown the match.

The index is self-contained: it keeps each article's title, url, platform, date and a short
snippet, so it scores without the data bundle. It pickles (no lambdas, no closures).
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

import numpy as np
import pandas as pd
import scipy.sparse as sp

from .errors import ModelError, RecordError
from .nlp.tokenizer import EMOTICON
from .records import UTC, parse_time

# Cosine similarity at or above which an item counts as 已辟谣. Chosen on hand-checked pairs for
# high precision; see data/labels/DEBUNK_MATCHES.md. `training/build_debunk_index.fit` re-derives
# it from the labels with the index actually built and stores it on the object.
DEFAULT_THRESHOLD = 0.33
# Below this similarity a match is almost never about the same claim: of the hand-checked top
# matches (data/labels/debunk_matches.csv) scoring under 0.05, 1 of 35 was; from 0.05 to 0.12,
# 4 of 10. The item view folds such matches away and the experts' workbench leaves them out, so a
# list of unrelated articles does not read as "related clarifications".
FAINT_SIMILARITY = 0.05

SNIPPET_CHARS = 80
LEAD_CHARS = 160  # opening of an article used when it quotes no explicit claim
CLAIM_CHARS = 300  # longest claim statement kept
BATCH = 2000  # texts scored at once by match()

# Markers that open the quoted rumour, and those that close it (start of the verdict).
_CLAIM_START = re.compile(r"(?:流言|流传内容|网传内容|传言|谣言内容)\s*[：:]\s*")
_CLAIM_END = re.compile(r"(?:真相|鉴定结果|要点|结论|查证|辟谣)\s*[：:]")

# Boilerplate that opens many WeChat-account and news articles and says nothing about the claim.
_BOILERPLATE = (
    re.compile(r"^.{0,120}?功能介绍.{0,200}?(?:\d{4}-\d{2}-\d{2} \d{2}:\d{2}\s*\S{0,6})"),
    re.compile(r"^(?:文\s*[|/｜]\s*捉谣记\S*|来源[：:]\S{0,30}|原\s*创\s*[：:]\s*\S{0,30})\s*"),
    re.compile(r"^当前无WIFI.{0,60}?(?:继续播放|流量)\S*\s*"),
    re.compile(r"^人民网北京\d{1,2}月\d{1,2}日电\s*(?:（[^）]{0,30}）)?\s*"),
)
_DAY_ONLY = re.compile(r"^\d{4}[-/]\d{1,2}[-/]\d{1,2}$")
# What a post carries besides its claim: Weibo's emoticon codes ([泪]), @mentions, share and video
# boilerplate. Two posts that share only these are not about the same claim.
_POST_NOISE = re.compile(EMOTICON.pattern + r"|@[^\s:：,，@]{1,30}|分享图片|转发微博|网页链接|查看图片|秒拍视频|的微博视频")
_WORD = re.compile(r"\w")
# A claim (or post) with fewer word characters than this, once its noise is gone, is not compared:
# "分享图片" or a line of emoticons says too little to recognise a repeat of it.
MIN_CLAIM_CHARS = 10
# Posts whose fast similarity to some claim reaches this share of the threshold are re-scored on
# their claim words (the fast pass hashes the whole text once for the articles and the claims).
CANDIDATE_SHARE = 0.6
_URL = re.compile(r"https?://\S+")
_SPACE = re.compile(r"\s+")


# Full-width ASCII forms and the ideographic space, the compatibility characters of nearly every
# Chinese post (，！？：), mapped as NFKC maps them. Mapping them first leaves most posts already in
# NFKC, which is checked far faster than it is applied (4 against 13 µs a stream post).
_FULL_WIDTH = re.compile("[\uff01-\uff5e\u3000]")


def _half_width(match: re.Match) -> str:
    code = ord(match.group())
    return " " if code == 0x3000 else chr(code - 0xFEE0)


def nfkc(text: str) -> str:
    """unicodedata.normalize("NFKC", text), the same string, faster on Chinese text: a full-width
    form decomposes to the ASCII character it is mapped to, so the two strings' NFKC is the same."""
    text = _FULL_WIDTH.sub(_half_width, text)
    return text if unicodedata.is_normalized("NFKC", text) else unicodedata.normalize("NFKC", text)


def normalise(text: str) -> str:
    """Text as the vectoriser sees it: NFKC (full-width → half-width), lower case, no urls."""
    text = nfkc(text or "").lower()
    text = _URL.sub(" ", text)
    text = text.replace("\u200b", "")
    return _SPACE.sub(" ", text).strip()


def claim_words(text: str) -> str:
    """A post as its claim is compared with the claims of published clarifications: normalised,
    without emoticon codes, @mentions and share boilerplate; empty when fewer than
    MIN_CLAIM_CHARS word characters are left."""
    words = _SPACE.sub(" ", _POST_NOISE.sub(" ", normalise(text))).strip()
    return words if len(_WORD.findall(words)) >= MIN_CLAIM_CHARS else ""


_HASHTAG = re.compile(r"#[^#\n]{1,60}#")
_REPOST_MARK = re.compile(r"//\s*[:：]?")  # what "//@name:" leaves once the mention is gone


def suggested_claim(text: str) -> str:
    """A first statement of the claim a post makes, for the expert to correct: its text without
    #topic# tags (usually headlines the post comments on, shared by thousands of unrelated posts),
    emoticon codes, @mentions, links and share boilerplate."""
    text = _URL.sub(" ", _HASHTAG.sub(" ", text or ""))
    text = _REPOST_MARK.sub(" ", _POST_NOISE.sub(" ", text)).replace("\u200b", "")
    return _SPACE.sub(" ", text).strip(" ：:，,?？")


def claim_of(title: str, text: str) -> str:
    """The claim part of a debunk article: the quoted rumour when present, else the opening."""
    body = _SPACE.sub(" ", text or "").strip()
    m = _CLAIM_START.search(body[:400])
    if m:
        rest = body[m.end():]
        end = _CLAIM_END.search(rest)
        claim = rest[: end.start()] if end else rest
        return claim[:CLAIM_CHARS].strip()
    for pattern in _BOILERPLATE:
        body = pattern.sub("", body, count=1)
    return body[:LEAD_CHARS].strip()


def index_text(title: str, text: str) -> str:
    """What one article contributes to the index: its title and its claim."""
    return f"{title or ''} {claim_of(title, text)}"


def _snippet(title: str, text: str) -> str:
    claim = claim_of(title, text)
    return claim[:SNIPPET_CHARS] + ("…" if len(claim) > SNIPPET_CHARS else "")


@dataclass(frozen=True)
class Match:
    """One published clarification that resembles an item, with its cosine similarity."""

    url: str
    title: str
    platform: str
    date: datetime | None  # publication time, UTC
    score: float
    snippet: str
    already_debunked: bool = False  # score at or above the index's calibrated threshold


@dataclass(frozen=True)
class ClaimSet:
    """Claims vectorised by DebunkIndex.claim_set: their n-gram hashes (vocab), each hash's idf,
    and the normalised (n-grams × claims) matrix."""

    vocab: pd.Index
    idf: np.ndarray
    matrix_t: sp.csr_matrix
    size: int

    def __len__(self) -> int:
        return self.size


def _as_utc(when: datetime) -> datetime:
    if not isinstance(when, datetime):
        raise TypeError(f"before must be a datetime or None, got {type(when).__name__}")
    return parse_time(when)  # naive → China time, aware → converted; returns UTC


_MIX = np.uint64(0x9E3779B97F4A7C15)
_PRIME = np.uint64(1000003)


def char_ngram_hashes(texts: Sequence[str], ngram_range: tuple[int, int]):
    """(row, hash) of every char n-gram of the normalised texts, computed in numpy.

    The texts are joined with NUL separators into one code-point array; an n-gram's 64-bit hash
    is a polynomial over its code points mixed with n. Windows that cross a separator are left
    out. This is ~10× faster than a Python analyzer and has no vocabulary to look up.
    """
    norm = [normalise(t).replace("\x00", " ") for t in texts]
    lengths = np.fromiter((len(t) + 1 for t in norm), dtype=np.int64, count=len(norm))
    joined = "\x00".join(norm) + "\x00"
    # surrogatepass: a lone surrogate (broken emoji from a feed) is one more code point, not a crash
    codes = np.frombuffer(joined.encode("utf-32-le", "surrogatepass"),
                          dtype=np.uint32).astype(np.uint64)
    row_of = np.repeat(np.arange(len(norm), dtype=np.int64), lengths)
    sep_before = np.concatenate(([0], np.cumsum(codes == 0)))  # separators before position i
    rows, hashes = [], []
    total = codes.shape[0]
    for n in range(ngram_range[0], ngram_range[1] + 1):
        m = total - n + 1
        if m <= 0:
            continue
        h = np.full(m, np.uint64(n), dtype=np.uint64)
        with np.errstate(over="ignore"):
            for j in range(n):
                h = h * _PRIME + codes[j:j + m]
            h = h * _MIX
        ok = sep_before[n:n + m] == sep_before[:m]  # no NUL inside the window
        rows.append(row_of[:m][ok])
        hashes.append(h[ok])
    if not rows:
        return np.zeros(0, np.int64), np.zeros(0, np.uint64)
    return np.concatenate(rows), np.concatenate(hashes)


def _top_k(sims, k: int):
    """Column indices of each row's k largest values, best first (ties: lower index first).

    A few argmax passes beat argpartition on wide float rows by ~5× for the small k used here.
    Found values are masked in place and restored afterwards (no 45 MB working copy).
    """
    n_rows, n_cols = sims.shape
    k = min(k, n_cols)
    if k > 16:
        return np.argsort(-sims, axis=1, kind="stable")[:, :k]
    top = np.empty((n_rows, k), dtype=np.int64)
    rows = np.arange(n_rows)
    saved = []
    for i in range(k):
        top[:, i] = sims.argmax(axis=1)
        if i < k - 1:
            saved.append(sims[rows, top[:, i]].copy())
            sims[rows, top[:, i]] = -np.inf
    for i, values in enumerate(saved):
        sims[rows, top[:, i]] = values
    return top


def _checked_texts(texts) -> list[str]:
    if isinstance(texts, str):
        raise TypeError("texts must be a list of strings, not one string")
    texts = list(texts)
    for i, t in enumerate(texts):
        if not isinstance(t, str):
            raise TypeError(f"texts[{i}] must be a string, got {type(t).__name__}")
    return texts


def _sublinear(counts):
    return (1.0 + np.log(counts)).astype(np.float32)


class DebunkIndex:
    """Char n-gram TF-IDF over debunk articles; cosine top-k matching in batch.

    `threshold` is the score at or above which a match means 已辟谣 (`already_debunked`).
    """

    def __init__(self, threshold: float = DEFAULT_THRESHOLD, ngram_range: tuple[int, int] = (2, 4),
                 max_df: float = 0.02):
        self.threshold = float(threshold)
        self.ngram_range = tuple(ngram_range)
        self.max_df = max_df
        self.vocab = None  # sorted 64-bit hashes of the articles' n-grams
        self._vocab_index = None
        self.idf = None
        self.unseen_idf = 1.0
        self.features = 0
        self.matrix_t = None  # (features × articles) CSR: item vectors @ matrix_t = cosines
        self.titles: list[str] = []
        self.urls: list[str] = []
        self.platforms: list[str] = []
        self.dates: list[datetime | None] = []
        self.known_from: list[datetime | None] = []  # when each article counts as published
        self.snippets: list[str] = []
        self._epoch = np.zeros(0)
        self.rejected: list[tuple[int, str]] = []  # (input position, reason) of unusable articles
        self.fitted_on: str = ""
        self.info: dict = {}  # calibration facts for the bundle manifest ({"metrics": {...}})

    # -- building ------------------------------------------------------------------------
    def fit(self, articles: Iterable[dict], source: str = "") -> DebunkIndex:
        """Index articles (dicts with title, url, platform, date, text).

        Articles without a title and text, or with an unreadable date, are set aside in
        `self.rejected` with the reason. Exact repeats of (url, title) keep the longer text.
        """
        kept: dict[tuple[str, str], dict] = {}
        rejected: list[tuple[int, str]] = []
        for i, a in enumerate(articles):
            if not isinstance(a, dict):
                rejected.append((i, "not an object"))
                continue
            title, text = a.get("title") or "", a.get("text") or ""
            if not isinstance(title, str) or not isinstance(text, str):
                rejected.append((i, "title and text must be strings"))
                continue
            if not title.strip() and not text.strip():
                rejected.append((i, "no title and no text"))
                continue
            try:
                date = parse_time(a.get("date"))
            except RecordError as exc:
                rejected.append((i, str(exc)))
                continue
            key = (str(a.get("url") or ""), title)
            known = date
            if date is not None and _DAY_ONLY.match(str(a.get("date")).strip()):
                # a day-precision date: the article may appear any time that day, so it counts
                # as known only once the day is over (no peeking at a same-day clarification)
                known = date + timedelta(days=1)
            row = {"title": title, "text": text, "url": key[0], "date": date, "known": known,
                   "platform": str(a.get("platform") or "")}
            if key not in kept or len(text) > len(kept[key]["text"]):
                kept[key] = row
        # Ordered by when each article became known (undated last), so that `before=` keeps a
        # prefix of the columns: a free slice instead of masking a million scores.
        rows = sorted(kept.values(), key=lambda r: (r["known"] is None,
                                                      r["known"] or datetime.min.replace(tzinfo=UTC)))
        if not rows:
            raise RecordError("no usable debunk articles to index (each needs a title or text)")
        n_docs = len(rows)
        r, h = char_ngram_hashes([index_text(x["title"], x["text"]) for x in rows],
                                 self.ngram_range)
        self.vocab, col = np.unique(h, return_inverse=True)
        self._vocab_index = None
        counts = sp.csr_matrix((np.ones(len(col), np.float32), (r, col.ravel())),
                               shape=(n_docs, len(self.vocab)))
        counts.sum_duplicates()
        df = np.bincount(counts.indices, minlength=len(self.vocab))
        # Smoothed idf as in scikit-learn. An item's n-grams that no article has get the highest
        # idf and count in its norm, so unrelated content lowers its cosine.
        idf = np.log((1.0 + n_docs) / (1.0 + df)) + 1.0
        self.unseen_idf = float(np.log(1.0 + n_docs) + 1.0)
        if n_docs > 50:
            # Very common n-grams (新冠, 谣言, 网传) say nothing about which claim; zeroing them
            # also keeps the item × article product sparse and fast.
            idf = np.where(df > self.max_df * n_docs, 0.0, idf)
        self.idf = idf.astype(np.float32)
        counts.data = _sublinear(counts.data) * self.idf[counts.indices]
        norms = np.sqrt(np.asarray(counts.multiply(counts).sum(axis=1)).ravel())
        norms[norms == 0] = 1.0
        matrix = sp.diags((1.0 / norms).astype(np.float32)) @ counts
        self.matrix_t = matrix.T.tocsr().astype(np.float32)
        self.features = len(self.vocab)
        self.titles = [r["title"] for r in rows]
        self.urls = [r["url"] for r in rows]
        self.platforms = [r["platform"] for r in rows]
        self.dates = [r["date"] for r in rows]
        self.snippets = [_snippet(r["title"], r["text"]) for r in rows]
        self.known_from = [r["known"] for r in rows]
        self._epoch = np.array([d.timestamp() if d else np.nan for d in self.known_from])
        self.rejected = rejected
        self.fitted_on = source
        return self

    def __len__(self) -> int:
        return len(self.urls)

    # -- scoring -------------------------------------------------------------------------
    def _check_fitted(self) -> None:
        if self.vocab is None:
            raise ModelError("the debunk index is not built; run training (build_debunk_index)")

    def _lookup(self):
        # A hash table over the n-gram hashes: ~8× faster than searchsorted on the sorted vocab.
        # Built on first use, not pickled (it is derived).
        if self._vocab_index is None:
            self._vocab_index = pd.Index(self.vocab)
        return self._vocab_index

    def __getstate__(self):
        state = dict(self.__dict__)
        state["_vocab_index"] = None
        return state

    def _vectorise(self, texts: list[str]):
        """Per batch of texts: (x, rows, hashes, norms). x is the texts' TF-IDF over the index's
        n-grams, L2-normalised with `norms`, in which n-grams the index lacks count with the highest
        idf (so unrelated content lowers a cosine); rows and hashes are every n-gram occurrence."""
        n = len(texts)
        rows, h = char_ngram_hashes(texts, self.ngram_range)
        pos = self._lookup().get_indexer(h)
        seen = pos >= 0
        x = sp.csr_matrix((np.ones(int(seen.sum()), np.float32), (rows[seen], pos[seen])),
                          shape=(n, len(self.vocab)))
        x.sum_duplicates()
        x.data = _sublinear(x.data) * self.idf[x.indices]
        sq = np.asarray(x.multiply(x).sum(axis=1)).ravel()
        if (~seen).any():
            # n-grams unknown to the index: count each distinct one per text with the top idf
            unseen_rows = rows[~seen]
            key = h[~seen] ^ (unseen_rows.astype(np.uint64) * _PRIME)
            codes, distinct = pd.factorize(key)  # hash-based: ~2× faster than np.unique's sort here
            tf = np.bincount(codes, minlength=len(distinct))
            row_of = np.empty(len(distinct), unseen_rows.dtype)
            row_of[codes] = unseen_rows  # a key's occurrences are all in one text
            w = _sublinear(tf.astype(np.float32)) * self.unseen_idf
            sq += np.bincount(row_of, weights=w * w, minlength=n)
        norms = np.sqrt(sq)
        norms[norms == 0] = 1.0
        x = sp.diags((1.0 / norms).astype(np.float32)) @ x
        return x, rows, h, norms

    def scores(self, texts: Sequence[str]):
        """Dense (items × articles) cosine similarities."""
        self._check_fitted()
        x = self._vectorise(_checked_texts(texts))[0]
        return (x @ self.matrix_t).toarray()

    # -- claims outside the index: the clarifications published here -------------------
    def claim_set(self, claims: Sequence[str]) -> ClaimSet:
        """Claims to compare texts with (`similarity`, `match_with_claims`), weighted as the index
        weighs n-grams. Unlike articles, n-grams that no article has match too (with the highest
        idf): a new rumour's own words are mostly unknown to the articles, and without them a
        verbatim copy of a claim would score about 0.25."""
        self._check_fitted()
        claims = [claim_words(c) for c in _checked_texts(claims)]
        rows, h = char_ngram_hashes(claims, self.ngram_range)
        col, vocab = pd.factorize(h)  # hash-based: ~5× faster than np.unique's sort
        pos = self._lookup().get_indexer(vocab)
        idf = np.where(pos >= 0, self.idf[np.maximum(pos, 0)], self.unseen_idf).astype(np.float32)
        m = sp.csr_matrix((np.ones(len(col), np.float32), (rows, col)), shape=(len(claims), len(vocab)))
        m.sum_duplicates()
        m.data = _sublinear(m.data) * idf[m.indices]
        norms = np.sqrt(np.asarray(m.multiply(m).sum(axis=1)).ravel())
        norms[norms == 0] = 1.0
        m = sp.diags((1.0 / norms).astype(np.float32)) @ m
        return ClaimSet(pd.Index(vocab), idf, m.T.tocsr(), len(claims))

    def _claim_scores(self, rows, h, norms, n: int, claims: ClaimSet) -> np.ndarray:
        # Only the texts' n-grams that some claim has enter the product; the norms are the full ones.
        cpos = claims.vocab.get_indexer(h)
        hit = cpos >= 0
        x = sp.csr_matrix((np.ones(int(hit.sum()), np.float32), (rows[hit], cpos[hit])),
                          shape=(n, len(claims.vocab)))
        x.sum_duplicates()
        x.data = _sublinear(x.data) * claims.idf[x.indices]
        x = sp.diags((1.0 / norms).astype(np.float32)) @ x
        return (x @ claims.matrix_t).toarray()

    def similarity(self, texts: Sequence[str], claims: Sequence[str] | ClaimSet) -> np.ndarray:
        """Dense (texts × claims) cosine similarities of their claim words (`claim_words`), on the
        articles' scale (the threshold applies) but with every n-gram counted on both sides, so a
        copy of a claim scores 1. A text or claim too short to compare scores 0."""
        self._check_fitted()
        claims = claims if isinstance(claims, ClaimSet) else self.claim_set(claims)
        texts = [claim_words(t) for t in _checked_texts(texts)]
        if not texts or not len(claims):
            return np.zeros((len(texts), len(claims)), np.float32)
        out = []
        for start in range(0, len(texts), BATCH):
            batch = texts[start:start + BATCH]
            _, rows, h, norms = self._vectorise(batch)
            out.append(self._claim_scores(rows, h, norms, len(batch), claims))
        return np.vstack(out)

    def match(self, texts: Sequence[str], k: int = 5,
              before: datetime | None = None) -> list[list[Match]]:
        """For each text, its k most similar articles, best first (score > 0 only).

        `before` keeps only articles published strictly before that time (naive = China time),
        i.e. clarifications that could have been known then; undated articles are then left out.
        An article dated by day only counts as published at the end of that day.
        """
        return self.match_with_claims(texts, k, before=before)[0]

    def match_with_claims(self, texts: Sequence[str], k: int = 5, claims: ClaimSet | None = None,
                          before: datetime | None = None) -> tuple[list[list[Match]], np.ndarray | None]:
        """`match`, and with `claims` also `similarity(texts, claims)`, from one pass over the texts:
        their n-grams are hashed and looked up once for both, and the texts whose fast similarity
        (whole texts) to some claim reaches CANDIDATE_SHARE of the threshold are re-scored exactly.
        The other rows keep the fast figure, which stays below that share."""
        if k < 1:
            raise ValueError("k must be at least 1")
        self._check_fitted()
        texts = _checked_texts(texts)
        n_known = None
        if before is not None:
            cutoff = _as_utc(before).timestamp()
            # columns are sorted by known-from time, undated (NaN) last
            known = self._epoch[~np.isnan(self._epoch)]
            n_known = int(np.searchsorted(known, cutoff, side="left"))
        out: list[list[Match]] = []
        sims = []
        # Batches bound the dense (texts × articles) score matrix: ~45 MB per 2,000 texts.
        for start in range(0, len(texts), BATCH):
            batch = texts[start:start + BATCH]
            x, rows, h, norms = self._vectorise(batch)
            out.extend(self._match_batch(x, len(batch), k, n_known))
            if claims is not None and len(claims):
                fast = self._claim_scores(rows, h, norms, len(batch), claims)
                near = np.flatnonzero(fast.max(axis=1) >= CANDIDATE_SHARE * self.threshold)
                if len(near):
                    fast[near] = self.similarity([batch[i] for i in near], claims)
                sims.append(fast)
        if claims is None:
            return out, None
        if not sims:
            return out, np.zeros((len(texts), len(claims)), np.float32)
        return out, np.vstack(sims)

    def _match_batch(self, x, n: int, k: int, n_known: int | None) -> list[list[Match]]:
        if n_known == 0:
            return [[] for _ in range(n)]
        sims = (x @ self.matrix_t).toarray()
        if n_known is not None:
            sims = sims[:, :n_known]
        top = _top_k(sims, k)
        top_scores = np.take_along_axis(sims, top, axis=1).tolist()
        out: list[list[Match]] = []
        for cols, values in zip(top.tolist(), top_scores):
            found = []
            for j, score in zip(cols, values):
                if score <= 0.0:
                    break
                found.append(Match(self.urls[j], self.titles[j], self.platforms[j],
                                   self.dates[j], score, self.snippets[j],
                                   score >= self.threshold))
            out.append(found)
        return out

    def best(self, texts: Sequence[str], before: datetime | None = None) -> list[Match | None]:
        """The single best match per text, or None when nothing resembles it."""
        return [m[0] if m else None for m in self.match(texts, k=1, before=before)]

    def already_debunked(self, score: float | Match | None) -> bool:
        """Whether a match score is high enough to show the item as 已辟谣."""
        if score is None:
            return False
        if isinstance(score, Match):
            score = score.score
        return float(score) >= self.threshold

    def debunked(self, texts: Sequence[str], before: datetime | None = None) -> list[Match | None]:
        """Per text, its best match when that match means 已辟谣, else None."""
        return [m if m is not None and self.already_debunked(m) else None
                for m in self.best(texts, before=before)]

    def describe(self) -> dict:
        """Plain facts for a model card or registry: size, threshold, date range, memory."""
        dated = [d for d in self.dates if d is not None]
        nbytes = 0
        if self.matrix_t is not None:
            m = self.matrix_t
            nbytes = m.data.nbytes + m.indices.nbytes + m.indptr.nbytes
        return {
            "articles": len(self),
            "rejected": len(self.rejected),
            "features": self.features,
            "threshold": self.threshold,
            "ngram_range": list(self.ngram_range),
            "first_article": min(dated).isoformat() if dated else None,
            "last_article": max(dated).isoformat() if dated else None,
            "matrix_bytes": int(nbytes),
            "fitted_on": self.fitted_on,
        }


__all__ = ["DEFAULT_THRESHOLD", "DebunkIndex", "Match", "claim_of", "index_text", "normalise"]
