"""The reaction-aware rumour model: Doc -> calibrated probability that the item makes a false claim.

Features use only what is known at the decision time:
- the item's text, as hashed character 1-3-grams weighted by TF-IDF;
- the reactions known so far (the caller cuts them with `Doc.as_of`): their texts as hashed
  character n-grams in a separate space, so doubt and debunk phrasing (谣言, 辟谣, 假的, 真的吗, 求证…)
  is learned from data; their count, spread velocity, share of comments vs reposts, time to the first
  reaction, and the account facts in `doc.user` when present.
The record's final totals (repost_num, comment_num, like_num) are never read: they are gathered
after the decision time.

Character n-grams are hashed with numpy over all texts of a batch at once: sklearn's Python
analyzers manage a few hundred reaction-laden items a second, this keeps scoring in the thousands.
"""

from __future__ import annotations

import math
import operator
import re
from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp
from scipy.special import expit
from sklearn.base import BaseEstimator, ClassifierMixin, TransformerMixin
from sklearn.ensemble import GradientBoostingClassifier
from sklearn.linear_model import LogisticRegression

from ..evaluation import macro_f1_rows
from ..records import Doc

# Decision times used to augment training: every item is seen with its reactions cut at each.
AUGMENT_CUTS: tuple[float | None, ...] = (0.0, 1.0, 6.0, 24.0, None)

_DIGITS = re.compile(r"\d")
_URL = re.compile(r"https?://\S+|www\.\S+")
_MENTION = re.compile(r"@[^\s@:：,，。!！?？/]{1,30}")
# Several @mentions in a row (a post tagging @人民日报 @央视新闻 … at its end, or names a feed
# anonymised to "@@@@") read as one: each bare "@" is an n-gram of its own, so a run of them filled
# a short post's TF-IDF vector, and the labelled rumours' slightly larger share of mentions made
# every extra mention count as evidence (four tags took an official notice from 0.07 to 0.63).
_MENTION_RUN = re.compile(r"@(?:[\s,，、;；]*@)+")
_CHAIN = re.compile(r"//@[^\x01]*")  # the earlier repost chain quoted after a repost's own words
# Bare repost markers the client fills in (快转微博 is Weibo's one-tap "quick repost")
_TRIVIAL = re.compile(r"快转微博|转发微博|repost|轉發微博", re.IGNORECASE)
# A short hand list only feeds one dense "doubt share" feature; the n-grams learn the rest.
_DOUBT = re.compile(r"谣言|辟谣|造谣|假的|真的吗|真的假的|求证|不实|假消息|谣传|别信|不要信|骗|假新闻|已证实是假")

_NA = float("nan")
_Z_CLIP = 4.0  # standardised facts are clipped: an odd value must not decide alone


# What scrapers leave before a reaction's words: a comment shown as "name：words" scraped without
# the name keeps "：". CHECKED's comments on fake posts all start so and those on real posts do not
# (56 % against 5 % of reactions), so a model that kept it learnt a bare "：" as about 30 log-odds
# of rumour: any live comment starting with one flagged its post.
_LEADING_SEPARATORS = " \t\u3000：:"


def own_words(text: str) -> str:
    """A reaction's own words: what comes before the quoted repost chain "//@earlier: ...", without
    the separator a scraper leaves in front of them."""
    return text.split("//@", 1)[0].lstrip(_LEADING_SEPARATORS)


def said(text: str) -> str:
    """What a reaction says itself: its own words without the client's bare-repost markers
    (转发微博, 快转微博), so '' for a bare repost."""
    return _TRIVIAL.sub("", own_words(text or "")).strip()


def doubting(words: str) -> bool:
    """Whether what a reaction says itself (`said`) doubts, denies or warns (谣言, 假的, 求证, 别信…):
    the cues of the model's doubt share, read on one reaction, as the special report counts them."""
    return bool(_DOUBT.search(words))


def normalise_text(text: str) -> str:
    """Lower case, every digit as 0 (so lengths stay and explanations can point back into the
    text), links as one character, @mentions as a bare @ (a run of them as one)."""
    text = text.lower()
    text = _URL.sub("\x02", text)
    text = _MENTION_RUN.sub("@", _MENTION.sub("@", text))
    return _DIGITS.sub("0", text)


def hashed_ngram_cells(texts: list[str], ngram_range=(1, 3), n_features: int = 1 << 20,
                       seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """(row, column) of every character n-gram occurrence of the texts, hashed, in no particular
    order; characters \\x00/\\x01 break n-grams. `n_features` must be a power of two."""
    n_docs = len(texts)
    if n_docs == 0:
        return np.zeros(0, dtype=np.int32), np.zeros(0, dtype=np.int32)
    joined = "\x00".join(texts) + "\x00"
    codes = np.frombuffer(joined.encode("utf-32-le"), dtype=np.uint32)
    lengths = np.fromiter((len(t) + 1 for t in texts), dtype=np.int64, count=n_docs)
    doc_of = np.repeat(np.arange(n_docs, dtype=np.int32), lengths)
    # breaks_before[i] = number of break characters before position i
    breaks_before = np.concatenate([[0], np.cumsum(codes < 2, dtype=np.int32)])
    mask = np.uint32(n_features - 1)
    rows, cols = [], []
    lo, hi = ngram_range
    with np.errstate(over="ignore"):
        for n in range(lo, hi + 1):
            m = len(codes) - n + 1
            if m <= 0:
                continue
            h = codes[:m] + np.uint32((n * 0x9E3779B1 + seed * 0x85EBCA77) & 0xFFFFFFFF)
            for k in range(1, n):
                h = h * np.uint32(0x01000193) + codes[k:k + m]
            h ^= h >> np.uint32(15)
            h *= np.uint32(0x2C1B3C6D)
            h ^= h >> np.uint32(12)
            ok = breaks_before[n:m + n] == breaks_before[:m]
            rows.append(doc_of[:m][ok])
            cols.append(h[ok] & mask)
    if not rows:
        return np.zeros(0, dtype=np.int32), np.zeros(0, dtype=np.int32)
    return np.concatenate(rows), np.concatenate(cols).astype(np.int32)


def hashed_char_ngrams(texts: list[str], ngram_range=(1, 3), n_features: int = 1 << 20,
                       seed: int = 0) -> sp.csr_matrix:
    """Hashed character n-gram counts, one row per text; characters \\x00/\\x01 break n-grams.

    A repeated n-gram appears as repeated entries of the row (not summed): every linear
    product is the same and scoring skips a sort. `n_features` must be a power of two.
    """
    n_docs = len(texts)
    if n_docs == 0:
        return sp.csr_matrix((0, n_features), dtype=np.float32)
    r, c = hashed_ngram_cells(texts, ngram_range, n_features, seed)
    indptr = np.zeros(n_docs + 1, dtype=np.int64)
    order = np.argsort(r, kind="stable")
    np.cumsum(np.bincount(r, minlength=n_docs), out=indptr[1:])
    return sp.csr_matrix((np.ones(len(c), dtype=np.float32), c[order], indptr),
                         shape=(n_docs, n_features))


class _HashedTfidf:
    """TF-IDF over hashed n-grams, rows scaled to unit length (repeats counted as occurrences);
    n-grams seen in fewer than min_df training docs are dropped."""

    def __init__(self, ngram_range, n_features, seed, min_df):
        self.ngram_range, self.n_features, self.seed, self.min_df = ngram_range, n_features, seed, min_df
        self.idf_ = None

    def counts(self, texts):
        return hashed_char_ngrams(texts, self.ngram_range, self.n_features, self.seed)

    def fit(self, texts):
        x = self.counts(texts)
        x.sum_duplicates()
        df = np.bincount(x.indices, minlength=self.n_features)
        n = x.shape[0]
        idf = np.log((1.0 + n) / (1.0 + df)) + 1.0
        idf[df < self.min_df] = 0.0
        self.idf_ = idf.astype(np.float32)
        return self

    def transform(self, texts):
        x = self.counts(texts)
        x.data = self.idf_[x.indices]
        sq = np.add.reduceat(np.append(x.data * x.data, 0.0), np.minimum(x.indptr[:-1], len(x.data)))
        sq[np.diff(x.indptr) == 0] = 0.0
        norms = np.sqrt(sq)
        norms[norms == 0] = 1.0
        x.data /= np.repeat(norms, np.diff(x.indptr)).astype(np.float32)
        return x


DENSE_NAMES = (
    "has_reactions", "log_reactions", "log_reposts", "log_comments", "comment_share",
    "log_velocity_per_hour", "log_first_reaction_minutes", "log_reactions_first_hour",
    "trivial_share", "doubt_share", "distinct_user_share", "log_mean_reaction_chars",
    "has_user", "log_followers", "log_friends", "log_messages", "verified", "verified_type_personal",
    "verified_type_org", "gender_f", "log_text_chars", "has_url", "pics", "has_pic", "has_video",
    "question_marks", "exclamations", "has_brackets", "has_hashtag",
)


def _num(value) -> float:
    try:
        v = float(value)
    except (TypeError, ValueError, OverflowError):  # OverflowError: an integer too large for a float
        return 0.0
    return v if math.isfinite(v) else 0.0


def _doc_facts(doc: Doc, max_chars: int) -> tuple[list[float], str]:
    """Dense facts of one doc and its reactions' own words (reactions as cut by the caller)."""
    reactions = doc.reactions
    n = len(reactions)
    u = doc.user or {}
    extra = doc.extra or {}
    text = doc.text or ""
    if n:
        n_comment = sum(1 for r in reactions if r.kind == "comment")
        texts = [(r.text or "").lstrip(_LEADING_SEPARATORS) for r in reactions]
        joined = "\x01".join(texts)
        # a repost's own words come before the quoted chain "//@earlier: ..."
        own = "\x01".join([own_words(t) for t in texts])
        trivial = len(_TRIVIAL.findall(own)) + own.count("\x01\x01") + own.startswith("\x01")
        doubt = len(_DOUBT.findall(joined))
        words = normalise_text(_TRIVIAL.sub("", own[:max_chars + 200]))[:max_chars]
        velocity = first_min = first_hour = 0.0
        if doc.published_at is not None:
            t0 = doc.published_at.timestamp()
            offsets = np.array([r.at.timestamp() for r in reactions if r.at is not None]) - t0
            if len(offsets):
                offsets = np.maximum(offsets, 0.0) / 3600.0
                velocity = len(offsets) / max(float(offsets.max()), 0.25)
                first_min = float(offsets.min()) * 60.0
                first_hour = float((offsets <= 1.0).sum())
        users = len({r.user_id for r in reactions})
        reaction_part = [
            1.0, math.log1p(n), math.log1p(n - n_comment), math.log1p(n_comment), n_comment / n,
            math.log1p(velocity), math.log1p(first_min), math.log1p(first_hour),
            min(trivial / n, 1.0), min(doubt / n, 1.0), users / n, math.log1p(len(joined) / n)]
    else:
        words = ""
        # rates of reactions that do not exist are unknown (NaN -> the training mean), not zero
        reaction_part = [0.0, 0.0, 0.0, 0.0, _NA, _NA, _NA, 0.0, _NA, _NA, _NA, _NA]
    if not u:  # no account facts: unknown, not an account with 0 followers
        user_part = [0.0, _NA, _NA, _NA, _NA, _NA, _NA, _NA]
    else:
        vtype = _num(u.get("verified_type", -1))
        user_part = [
            1.0, math.log1p(max(0.0, _num(u.get("followers")))),
            math.log1p(max(0.0, _num(u.get("friends")))), math.log1p(max(0.0, _num(u.get("messages")))),
            1.0 if u.get("verified") else 0.0, 1.0 if vtype == 0 else 0.0,
            1.0 if vtype > 0 else 0.0, 1.0 if u.get("gender") == "f" else 0.0]
    return reaction_part + user_part + [
        math.log1p(len(text)), 1.0 if extra.get("has_url") else 0.0,
        min(_num(extra.get("pics")), 9.0) / 9.0, 1.0 if extra.get("has_pic") else 0.0,
        1.0 if extra.get("has_video") else 0.0, min(text.count("?") + text.count("？"), 5) / 5.0,
        min(text.count("!") + text.count("！"), 5) / 5.0,
        1.0 if ("【" in text or "[" in text) else 0.0, 1.0 if "#" in text else 0.0,
    ], words


ACCOUNT_NAMES = ("account_record",)
REACTOR_NAMES = ("reactor_record",)
_ACCOUNT_PSEUDO = 2.0  # pseudo-posts at the training base rate: one post says little


def _account(doc: Doc) -> str | None:
    account = (doc.extra or {}).get("account")
    return str(account) if account not in (None, "") else None


_USER_ID = operator.attrgetter("user_id")


def _reactors(doc: Doc) -> set[str]:
    """The distinct accounts that reposted or commented on the doc (as cut by the caller); a
    reaction's user_id is a string or None (records.reactions_from_bundle, ingest)."""
    ids = set(map(_USER_ID, doc.reactions))
    ids.discard(None)
    ids.discard("")
    return ids


def _count_records(keyed, labels) -> dict[str, tuple[int, int]]:
    """{key: (labelled items, rumours among them)} from (doc keys, label) pairs."""
    counts: dict[str, tuple[int, int]] = {}
    for keys, y in zip(keyed, labels):
        for key in keys:
            n, r = counts.get(key, (0, 0))
            counts[key] = (n + 1, r + int(y))
    return counts


def _base_rate(labels: np.ndarray) -> float:
    """The training share of rumours, kept off 0 and 1 (0.5 without labels): the records' prior."""
    return float(np.clip(labels.mean(), 0.01, 0.99)) if len(labels) else 0.5


def _record_log_odds(n: int, r: int, prior: float) -> float:
    """Smoothed log-odds that a record of n labelled items with r rumours is a rumour record,
    against the base rate: 0 for no record, near 0 for a short one."""
    k = _ACCOUNT_PSEUDO
    return math.log((r + k * prior) / (n - r + k * (1 - prior))) - math.log(prior / (1 - prior))


def dense_features(doc: Doc) -> list[float]:
    """Counts, velocity, account and layout facts of one doc, in DENSE_NAMES order."""
    return _doc_facts(doc, 0)[0]


def reaction_text(doc: Doc, max_chars: int = 1000) -> str:
    """The reactions' own words (quoted repost chains, mentions and bare '转发微博' removed)."""
    return _doc_facts(doc, max_chars)[1]


class RumourFeatures(BaseEstimator, TransformerMixin):
    """Doc list -> sparse matrix: [text n-grams | reaction n-grams | dense facts]."""

    def __init__(self, n_features: int = 1 << 20, text_ngrams=(1, 3), reaction_ngrams=(1, 2),
                 min_df: int = 2, reaction_weight: float = 1.0, dense_weight: float = 1.0,
                 max_reaction_chars: int = 1000):
        self.n_features = n_features
        self.text_ngrams = text_ngrams
        self.reaction_ngrams = reaction_ngrams
        self.min_df = min_df
        self.reaction_weight = reaction_weight
        self.dense_weight = dense_weight
        self.max_reaction_chars = max_reaction_chars

    def _parts(self, docs):
        texts = [normalise_text(d.text or "") for d in docs]
        facts = [_doc_facts(d, self.max_reaction_chars) for d in docs]
        reacts = [f[1] for f in facts]
        dense = np.array([f[0] for f in facts], dtype=np.float64).reshape(
            len(docs), len(DENSE_NAMES))
        return texts, reacts, dense

    # -- the publishing account's track record ------------------------------------------------
    # Log-odds (against the training base rate) that the account's labelled posts were rumours,
    # smoothed with pseudo-posts: 0 for an account without labelled posts. It is not a feature of
    # the models (there, "no track record" would come to mean "rumour" whenever one account wrote
    # most true posts, as in CHECKED): it shifts the calibrated log-odds of posts from accounts
    # with a record only (RumourModel.account_weight_).
    def fit_accounts(self, docs, labels) -> "RumourFeatures":
        labels = np.asarray(labels, dtype=int)
        self.account_prior_ = _base_rate(labels)
        self.accounts_ = _count_records([[a] if (a := _account(d)) is not None else [] for d in docs],
                                        labels)
        return self

    def account_features(self, docs) -> np.ndarray:
        """(len(docs), 1): each doc's account record (0 when the account has no labelled posts)."""
        accounts = getattr(self, "accounts_", None) or {}
        prior = getattr(self, "account_prior_", 0.5)
        out = np.zeros((len(docs), len(ACCOUNT_NAMES)))
        for i, d in enumerate(docs):
            n, r = accounts.get(_account(d), (0, 0))
            if n:
                out[i, 0] = _record_log_odds(n, r, prior)
        return out

    # -- the reacting accounts' track records --------------------------------------------------
    # For every account that reposted or commented on labelled items (all their reactions, not
    # cut), how many of those items were rumours. An item's value is the mean record of its
    # reactors known so far that have one; the calibrator weighs it (RumourModel), so it is fitted
    # out of sample like the other margins. Those who keep passing rumours on, or keep answering
    # official news, are a signal the words of one item do not carry.
    def fit_reactors(self, docs, labels) -> RumourFeatures:
        labels = np.asarray(labels, dtype=int)
        prior = _base_rate(labels)
        # kept as each account's log-odds: scoring only looks them up
        self.reactors_ = {u: _record_log_odds(n, r, prior)
                          for u, (n, r) in _count_records([_reactors(d) for d in docs], labels).items()}
        return self

    def reactor_features(self, docs) -> np.ndarray:
        """(len(docs), 1): the mean record of each doc's reactors that have one (0 when none has)."""
        reactors = self.reactors_
        out = np.zeros((len(docs), len(REACTOR_NAMES)))
        for i, d in enumerate(docs):
            known = [v for v in map(reactors.get, _reactors(d)) if v is not None]
            if known:
                out[i, 0] = sum(known) / len(known)
        return out

    def fit(self, docs, y=None):
        texts, reacts, dense = self._parts(docs)
        self.text_ = _HashedTfidf(self.text_ngrams, self.n_features, 1, self.min_df).fit(texts)
        self.react_ = _HashedTfidf(self.reaction_ngrams, self.n_features, 2, self.min_df).fit(
            [t for t in reacts if t])
        mean = np.nanmean(np.where(np.isnan(dense).all(axis=0), 0.0, dense), axis=0)
        std = np.nanstd(np.where(np.isnan(dense).all(axis=0), 0.0, dense), axis=0)
        std[~(std > 0)] = 1.0
        self.dense_mean_, self.dense_std_ = mean, std
        return self

    def dense_z(self, dense: np.ndarray) -> np.ndarray:
        """Standardised, unknowns at the training mean, clipped, times dense_weight."""
        z = (np.asarray(dense, dtype=float) - self.dense_mean_) / self.dense_std_
        z = np.clip(np.nan_to_num(z, nan=0.0), -_Z_CLIP, _Z_CLIP)
        return z * self.dense_weight

    def transform_blocks(self, docs, with_facts: bool = False):
        """(text n-grams, reaction n-grams, dense facts) as three matrices, not yet stacked; with
        `with_facts`, also the facts as they are (unstandardised, unknowns NaN)."""
        texts, reacts, dense = self._parts(docs)
        xt = self.text_.transform(texts)
        xr = self.react_.transform(reacts)
        xr.data *= np.float32(self.reaction_weight)
        blocks = (xt, xr, self.dense_z(dense))
        return (blocks, dense) if with_facts else blocks

    def transform(self, docs):
        xt, xr, xd = self.transform_blocks(docs)
        return sp.hstack([xt, xr, sp.csr_matrix(xd)], format="csr", dtype=np.float32)

    def linear_margin(self, docs, coef: np.ndarray, intercept: float) -> np.ndarray:
        """coef . features + intercept, block by block (scoring skips stacking the matrix)."""
        return self.blocks_margin(self.transform_blocks(docs), coef, intercept)

    def blocks_margin(self, blocks, coef: np.ndarray, intercept: float) -> np.ndarray:
        """coef . features + intercept for blocks already made by `transform_blocks`."""
        xt, xr, xd = blocks
        f = self.n_features
        return (xt @ coef[:f]) + (xr @ coef[f:2 * f]) + (xd @ coef[2 * f:]) + intercept


class RepostModel:
    """How each reaction on its own reads: a logistic model over the char n-grams of single
    reactions' own words (quoted chains and bare "转发微博" removed), every reaction labelled with its
    item's label and weighted 1/k among its item's k worded reactions, so a 100-repost item counts
    as much as a 3-repost one. An item's reactions are summarised as their summed margin over
    k + `prior_reactions` (the calibrator weighs it): the mean, drawn towards 0 when there are few
    reactions, as if `prior_reactions` more said nothing either way. Where the joint model sees all
    reactions as one bag of n-grams, this one sees how many separate people doubt, warn or mock.
    (When the summary was the plain mean, adding the share of reactions above 0 as a second input
    scored the same on the inner time folds, so it stays one input.) Why the prior: single reactions read the item's story
    as much as its truth (praise of a hero, 辛苦了, reads as a reaction to true news), and the mean
    of three such reactions weighed as much as the mean of a hundred: four praising comments on a
    false story about a doctor took its score from 0.64 to 0.06.

    An item whose reactions are all bare reposts ("转发微博", empty) has no mean: the summary says so
    in its own column, so that the calibrator learns what such items are instead of reading a mean
    of 0 (itself far on the rumour side of a typical item's mean) as evidence."""

    SUMMARY_NAMES = ("repost_margin", "repost_none_worded")

    def __init__(self, C: float = 1.0, n_features: int = 1 << 20, ngram_range=(1, 3),
                 min_df: int = 2, max_chars: int = 200, random_state: int = 0, prior_reactions: float = 0.0):
        self.C, self.n_features, self.ngram_range = C, n_features, ngram_range
        self.min_df, self.max_chars, self.random_state = min_df, max_chars, random_state
        self.prior_reactions = prior_reactions

    def worded(self, doc: Doc) -> list[str]:
        """The doc's reactions that say something of their own (not only punctuation once the bare
        markers are gone: "转发微博。" says nothing), normalised and cut to max_chars."""
        if not doc.reactions:
            return []
        # one regex pass over all reactions: newline-separated (links and @mentions stop at
        # whitespace), newlines inside a reaction made spaces first
        joined = _TRIVIAL.sub("", "\n".join([own_words(r.text or "").replace("\n", " ")
                                             for r in doc.reactions]))
        return [t.strip()[:self.max_chars]
                for raw, t in zip(joined.split("\n"), normalise_text(joined).split("\n"))
                if any(ch.isalnum() for ch in raw)]

    def fit(self, docs: list[Doc], labels, weights=None) -> RepostModel:
        labels = np.asarray(labels, dtype=int)
        weights = np.ones(len(docs)) if weights is None else np.asarray(weights, dtype=float)
        texts, ys, ws = [], [], []
        for d, y, w in zip(docs, labels, weights):
            own = self.worded(d)
            if not own:
                continue
            texts += own
            ys += [int(y)] * len(own)
            ws += [w / len(own)] * len(own)
        self.vectorizer_ = self.classifier_ = None
        if len(set(ys)) < 2:  # no reactions with words of both classes: every margin stays 0
            return self
        self.vectorizer_ = _HashedTfidf(self.ngram_range, self.n_features, 3, self.min_df).fit(texts)
        ws = np.asarray(ws)
        self.classifier_ = LogisticRegression(C=self.C, solver="liblinear", max_iter=2000,
                                              random_state=self.random_state).fit(
            self.vectorizer_.transform(texts), ys, sample_weight=ws * (len(ws) / ws.sum()))
        return self

    def denominator(self, k: int) -> float:
        """What the summed margin of k worded reactions is divided by in the summary."""
        return k + self.prior_reactions

    def reaction_margins(self, docs: list[Doc]) -> list[np.ndarray]:
        """Per doc, the margin of each worded reaction (empty when it has none)."""
        return self.margins_of([self.worded(d) for d in docs])

    def margins_of(self, per: list[list[str]]) -> list[np.ndarray]:
        """Per list of worded reactions (as `worded` gives them), the margin of each."""
        flat = [t for own in per for t in own]
        if self.classifier_ is None or not flat:
            return [np.zeros(len(own)) for own in per]
        m = self.vectorizer_.transform(flat) @ self.classifier_.coef_.ravel() + float(
            self.classifier_.intercept_[0])
        return np.split(m, np.cumsum([len(own) for own in per])[:-1])

    def summary(self, docs: list[Doc]) -> np.ndarray:
        """(len(docs), 2): the summed margin of each doc's k worded reactions over k +
        prior_reactions (0 without any), and 1 where the doc has reactions but none of them worded."""
        out = np.zeros((len(docs), len(self.SUMMARY_NAMES)))
        for i, (d, m) in enumerate(zip(docs, self.reaction_margins(docs))):
            if len(m):
                out[i, 0] = float(m.sum()) / self.denominator(len(m))
            elif d.reactions:
                out[i, 1] = 1.0
        return out


@dataclass
class RumourConfig:
    """Training recipe; the defaults are the production model's."""

    C: float = 16.0
    n_features: int = 1 << 20
    text_ngrams: tuple = (1, 3)
    reaction_weight: float = 1.0
    dense_weight: float = 0.5
    cuts: tuple = AUGMENT_CUTS
    calibration_fraction: float = 0.2
    class_weight: str | None = "balanced"
    # > 0 weights later items of each set more (linearly in time rank, mean weight 1), so the model
    # follows drift in what rumours look like and how common they are
    recency_weight: float = 0.0
    # A text-only logistic regression on the same hashed text n-grams, one row per item, whose
    # margin the calibrator weighs beside the joint model's (0 = off). Text-only decisions lean on it.
    text_C: float = 4.0
    # A reaction-level logistic model (RepostModel): each reaction's own words, labelled with its
    # item's label; the calibrator weighs an item's summed reaction margins over (k + repost_prior)
    # for its k worded reactions (repost_C 0 = off). Chosen on the inner time split (first 64 % of
    # each set trained, next 16 % tested) among 0 (the mean), 3, 10, 30, 100 and 300 (see the card).
    repost_C: float = 1.0
    repost_prior: float = 100.0
    # The calibrator also weighs the publishing account's track record (RumourFeatures.fit_accounts)
    account_record: bool = True
    # ... and the reacting accounts' records (RumourFeatures.fit_reactors)
    reactor_record: bool = True
    # Ordinary posts of a real feed (RumourModel.fit's `background`, unlabelled) join the joint and
    # the text-only models' training as not rumours, each weighing this much of a labelled item in
    # the sample weights (the joint model's balanced class weights count that weight among the
    # not-rumours, and the n-gram IDF and the numeric features' scaling are fitted with the posts).
    # The labelled sets set news against rumours, so without them personal, emotional posts, which
    # make up most of a feed, read as rumours (see models/cards/rumour.md).
    background_weight: float = 0.05
    # For an item with reactions, shallow boosted trees (depth 2, this many, 0 = off) correct the
    # calibrator's log-odds from its inputs and the item's raw facts (counts, velocity, doubt...):
    # the linear calibrator cannot weigh one signal by another (a fast spread reads differently
    # with doubting comments than with praising ones). Fitted on the calibration slice's items with
    # reactions, starting from the calibrator's log-odds (RumourModel.pattern_correction). On two
    # inner time splits (first 64 % / 56 % of each set trained, the next 16 % / 24 % tested) CED
    # macro-F1 at 1 / 6 / 24 h went 0.917 / 0.922 / 0.925 -> 0.930 / 0.936 / 0.933 and
    # 0.915 / 0.917 / 0.921 -> 0.929 / 0.940 / 0.945; CHECKED and every 0 h figure unchanged.
    reaction_trees: int = 150
    random_state: int = 0


class RumourModel(BaseEstimator, ClassifierMixin):
    """RumourFeatures and a logistic regression (the joint model), a text-only logistic regression on
    the same text n-grams, a reaction-level model (RepostModel), and a calibrator that combines their
    margins and the reactors' track record (with separate weights when an item has no reactions
    yet), fitted on a time-later slice of the training data: the three models and the records are
    first fitted on the earlier part and scored on the later one, then refitted on everything,
    keeping that calibration and threshold."""

    def __init__(self, config: RumourConfig | None = None):
        self.config = config

    def _new_parts(self):
        cfg = self.config or RumourConfig()
        feats = RumourFeatures(n_features=cfg.n_features, text_ngrams=tuple(cfg.text_ngrams),
                               reaction_weight=cfg.reaction_weight,
                               dense_weight=cfg.dense_weight)
        clf = LogisticRegression(C=cfg.C, class_weight=cfg.class_weight, solver="liblinear", dual=True,
                                 max_iter=2000, random_state=cfg.random_state)
        return feats, clf

    @staticmethod
    def _augment(docs, labels, cuts):
        out_docs, out_y = [], []
        for cut in cuts:
            for d, y in zip(docs, labels):
                out_docs.append(d.as_of(cut))
                out_y.append(y)
        return out_docs, np.asarray(out_y)

    def _fit_base(self, docs, labels, weights=None, background=()):
        cfg = self.config or RumourConfig()
        feats, clf = self._new_parts()
        adocs, ay = self._augment(docs, labels, cfg.cuts)
        aw = None if weights is None else np.tile(np.asarray(weights, float), len(cfg.cuts))
        background = list(background) if cfg.background_weight > 0 else []
        tdocs, ty, tw = docs, labels, weights
        if background:
            # A background post has no reactions, so its decision-time copies would all be the
            # same: one copy stands for them, weighted as len(cuts) copies of background_weight.
            adocs, ay, aw = _with_background(adocs, ay, aw, background,
                                             cfg.background_weight * len(cfg.cuts))
            tdocs, ty, tw = _with_background(docs, labels, weights, background, cfg.background_weight)
        feats.fit(adocs)
        # track records are of labelled posts only: a background post says nothing of its account
        if cfg.account_record:
            feats.fit_accounts(docs, labels)
        if cfg.reactor_record:
            feats.fit_reactors(docs, labels)
        x = feats.transform(adocs)
        clf.fit(x, ay, sample_weight=aw)
        text_clf = None
        if cfg.text_C > 0:
            xt = feats.text_.transform([normalise_text(d.text or "") for d in tdocs])
            text_clf = LogisticRegression(C=cfg.text_C, solver="liblinear", max_iter=2000,
                                          random_state=cfg.random_state).fit(xt, ty, sample_weight=tw)
        repost = None
        if cfg.repost_C > 0:
            repost = RepostModel(C=cfg.repost_C, n_features=cfg.n_features, random_state=cfg.random_state,
                                 prior_reactions=cfg.repost_prior).fit(docs, labels, weights)
        return feats, clf, text_clf, repost

    @staticmethod
    def _margins(feats, clf, text_clf, repost, docs) -> tuple[np.ndarray, np.ndarray]:
        """Per doc: the joint margin, the text-only margin (when there is a text model; the text
        block is hashed once for both), the reaction-level summary (when there is a RepostModel)
        and the reactors' record (when the features have reactor records), in that order; and the
        docs' raw facts (DENSE_NAMES), which the reaction-pattern trees read."""
        blocks, facts = feats.transform_blocks(docs, with_facts=True)
        cols = [feats.blocks_margin(blocks, clf.coef_.ravel(), float(clf.intercept_[0]))[:, None]]
        if text_clf is not None:
            cols.append((blocks[0] @ text_clf.coef_.ravel() + float(text_clf.intercept_[0]))[:, None])
        if repost is not None:
            cols.append(repost.summary(docs))
        if getattr(feats, "reactors_", None) is not None:
            cols.append(feats.reactor_features(docs))
        return np.hstack(cols), facts

    @staticmethod
    def _recency(idx_by_group, n, strength):
        w = np.ones(n)
        if strength > 0:
            for idx in idx_by_group:
                r = (np.arange(len(idx)) + 0.5) / max(len(idx), 1)
                w[idx] = 1.0 + strength * (r - 0.5)
        return w

    def fit(self, docs: list[Doc], labels, groups=None, background=()):
        """Fit on docs (time-ordered within each group, e.g. dataset); labels 1 = rumour.

        The last `calibration_fraction` of each group by time is the calibration slice.
        `background`: unlabelled ordinary posts of a real feed, taught as not rumours to the joint
        and text-only models (config.background_weight each), in both fits; they stay out of the
        calibration slice, the threshold and the track records, which rest on labelled items only.
        """
        cfg = self.config or RumourConfig()
        labels = np.asarray(labels)
        groups = np.asarray(groups if groups is not None else ["all"] * len(docs))
        early, late, ordered = [], [], []
        for g in np.unique(groups):
            idx = [i for i in np.flatnonzero(groups == g)]
            idx.sort(key=lambda i: docs[i].published_at.timestamp() if docs[i].published_at else 0)
            cut = int(round(len(idx) * (1 - cfg.calibration_fraction)))
            early += idx[:cut]
            late += idx[cut:]
            ordered.append(idx)
        pos = {i: k for k, i in enumerate(early)}
        w_early = self._recency([[pos[i] for i in idx if i in pos] for idx in ordered], len(early),
                                cfg.recency_weight)
        background = list(background)
        feats, clf, text_clf, repost = self._fit_base([docs[i] for i in early], labels[early], w_early,
                                                      background)
        late_docs = [docs[i] for i in late]
        cdocs, cy = self._augment(late_docs, labels[late], cfg.cuts)
        margin, facts = self._margins(feats, clf, text_clf, repost, cdocs)
        inputs = _calibration_inputs(margin, cdocs)
        self.calibrator_ = LogisticRegression(C=1e4, max_iter=1000,
                                              random_state=cfg.random_state).fit(inputs, cy)
        cal_z = self.calibrator_.decision_function(inputs)
        # then the trees' correction for items with reactions, starting from those log-odds
        self.pattern_trees_ = None
        reacted = np.fromiter((bool(d.reactions) for d in cdocs), dtype=bool, count=len(cdocs))
        # on a small slice (a first retrain on a few hundred verdicts) trees would learn its noise
        if (cfg.reaction_trees > 0 and reacted.sum() >= MIN_TREE_ROWS and cy[reacted].min() == 0
                and cy[reacted].max() == 1):
            self.pattern_trees_ = GradientBoostingClassifier(
                init=_CalibratorStart(self.calibrator_, inputs.shape[1]), max_depth=2, learning_rate=0.05,
                n_estimators=cfg.reaction_trees, min_samples_leaf=40, random_state=cfg.random_state,
            ).fit(_pattern_inputs(inputs[reacted], facts[reacted]), cy[reacted])
            trees_z = self._pattern(inputs, facts, cdocs, cal_z)
        else:
            trees_z = np.zeros(len(cdocs))
        # Then the account's record shifts the log-odds of posts whose account has labelled posts,
        # fitted on those alone: a post from an account without a record keeps its probability.
        # (The later posts' records come from the earlier posts only: out of sample.)
        self.account_weight_ = 0.0
        if cfg.account_record:
            record = feats.account_features(cdocs)[:, 0]
            known = record != 0
            if known.any():
                self.account_weight_ = _offset_slope(cal_z[known], record[known], cy[known])
                cal_z = cal_z + _account_shift(self.account_weight_, record)
        # The account weight above and the threshold are read off the linear calibrator's log-odds,
        # without the trees' correction: the trees are fitted on this same slice, so their scores
        # here are better separated than they will be on new items, and a weight or a cut chosen
        # on them moved the flags of every decision time, 0 h's included.
        cal_p = _sigmoid(cal_z)
        self.threshold_ = choose_threshold(cy, cal_p)
        # how far the same rule moves on resamples of the slice's items: the slice does not tell the
        # cuts inside this range apart
        self.threshold_range_ = threshold_range(cy, cal_p, len(late), seed=cfg.random_state)
        cal_p = _sigmoid(cal_z + trees_z)  # the scores as the model gives them, for the report below
        # In-sample for the calibrator and threshold, out-of-sample for the model: a sanity
        # figure recorded in the manifest, not the evaluation (training/evaluate.py is).
        self.calibration_report_ = {}
        cgroups = np.tile(groups[late], len(cfg.cuts))
        ccuts = np.repeat(["all" if c is None else f"{c:g}h" for c in cfg.cuts], len(late))
        from sklearn.metrics import f1_score
        for g in np.unique(groups):
            for c in dict.fromkeys(ccuts):
                m = (cgroups == g) & (ccuts == c)
                if m.any():
                    self.calibration_report_[f"{g}@{c}"] = {
                        "n": int(m.sum()), "macro_f1": round(float(f1_score(
                            cy[m], cal_p[m] >= self.threshold_, average="macro", zero_division=0)), 4)}
        self.calibration_size_ = len(late)
        self.features_, self.classifier_, self.text_classifier_, self.repost_model_ = self._fit_base(
            docs, labels, self._recency(ordered, len(docs), cfg.recency_weight), background)
        self.background_size_ = len(background) if cfg.background_weight > 0 else 0
        self.classes_ = np.array([0, 1])
        return self

    def decision_function(self, docs: list[Doc]) -> np.ndarray:
        coef = self.classifier_.coef_.ravel()
        return self.features_.linear_margin(docs, coef, float(self.classifier_.intercept_[0]))

    def rumour_log_odds(self, docs: list[Doc]) -> np.ndarray:
        """The calibrated log-odds that each doc is a rumour (the account's record shift included),
        kept in log-odds space so that nothing saturates before the last step."""
        margins, facts = self._margins(self.features_, self.classifier_, self.text_classifier_,
                                       self.repost_model_, docs)
        inputs = _calibration_inputs(margins, docs)
        z = self.calibrator_.decision_function(inputs)
        z = z + self._pattern(inputs, facts, docs, z)
        weight = getattr(self, "account_weight_", 0.0)
        if weight:
            z = z + _account_shift(weight, self.features_.account_features(docs)[:, 0])
        return z

    def _pattern(self, inputs: np.ndarray, facts: np.ndarray, docs: list[Doc], z: np.ndarray) -> np.ndarray:
        """The trees' correction to the calibrator's log-odds `z` (0 for an item without reactions,
        or a model without trees)."""
        out = np.zeros(len(docs))
        trees = getattr(self, "pattern_trees_", None)
        reacted = np.fromiter((bool(d.reactions) for d in docs), dtype=bool, count=len(docs))
        if trees is not None and reacted.any():
            x = _pattern_inputs(inputs[reacted], facts[reacted])
            out[reacted] = trees.decision_function(x).ravel() - z[reacted]
        return out

    def pattern_correction(self, doc: Doc) -> float:
        """The reaction-pattern trees' part in the doc's calibrated log-odds (config.reaction_trees):
        how the combination of its reactions' facts moves the score beyond their linear parts."""
        if getattr(self, "pattern_trees_", None) is None or not doc.reactions:
            return 0.0
        margins, facts = self._margins(self.features_, self.classifier_, self.text_classifier_,
                                       self.repost_model_, [doc])
        inputs = _calibration_inputs(margins, [doc])
        return float(self._pattern(inputs, facts, [doc], self.calibrator_.decision_function(inputs))[0])

    def predict_proba(self, docs: list[Doc]) -> np.ndarray:
        p = _sigmoid(self.rumour_log_odds(docs))
        return np.column_stack([1 - p, p])

    def reaction_contributions(self, doc: Doc) -> list[tuple[str, float]]:
        """Each worded reaction's part in the calibrated log-odds through the reaction-level
        summary (RepostModel): calibrator weight * margin / (k + prior) over the k worded reactions,
        so the parts add up to the summary's term."""
        repost = self.repost_model_
        own = repost.worded(doc) if repost is not None else []
        if not own:
            return []
        margins = repost.margins_of([own])[0]
        weight = self.calibrated_slopes(has_reactions=True)[0][repost.SUMMARY_NAMES[0]]
        parts = weight * margins / repost.denominator(len(own))
        return [(text, float(w)) for text, w in zip(own, parts)]

    def reactor_contribution(self, doc: Doc) -> float:
        """The reactors' record's part in the calibrated log-odds (0 without reactor records, or
        when none of the doc's reactors has one)."""
        if getattr(self.features_, "reactors_", None) is None:
            return 0.0
        record = float(self.features_.reactor_features([doc])[0, 0])
        # a doc with a record has reactions, so the slopes for docs without reactions do not apply
        return self.calibrated_slopes(has_reactions=True)[0][REACTOR_NAMES[0]] * record

    def _margin_names(self) -> list[str]:
        """The margins in _margins' order (joint, text-only, reaction-level summary, reactors'
        record), as the calibrator's inputs begin with them."""
        names = ["joint"] + ["text"] * (self.text_classifier_ is not None)
        names += list(RepostModel.SUMMARY_NAMES) * (self.repost_model_ is not None)
        names += list(REACTOR_NAMES) * (getattr(self.features_, "reactors_", None) is not None)
        return names

    def calibrated_slopes(self, has_reactions: bool) -> tuple[dict[str, float], float]:
        """How the calibrator turns the margins into log-odds for an item with (or without)
        reactions: ({margin name: slope}, intercept), so that the calibrated log-odds before the
        account shift are intercept + sum(slope * margin) (see _calibration_inputs)."""
        names = self._margin_names()
        coef = self.calibrator_.coef_.ravel()
        k, bare = len(names), 0.0 if has_reactions else 1.0
        if len(coef) != 2 * k + 1:  # the layout _calibration_inputs gives
            raise ValueError(f"the calibrator has {len(coef)} inputs, expected {2 * k + 1} for the margins {names}")
        slopes = {n: float(coef[i] + bare * coef[k + i]) for i, n in enumerate(names)}
        return slopes, float(self.calibrator_.intercept_[0] + bare * coef[2 * k])

    def rumour_probability(self, docs: list[Doc]) -> np.ndarray:
        if not docs:
            return np.zeros(0)
        return self.predict_proba(docs)[:, 1]

    def predict(self, docs: list[Doc]) -> np.ndarray:
        return (self.rumour_probability(docs) >= self.threshold_).astype(int)


# An account's record moves a post's odds by at most e^4 (about 55×) either way: a strong signal in
# the words and reactions can still flag a post from a trusted account, or clear one from a
# discredited account.
MAX_ACCOUNT_SHIFT = 4.0


def _with_background(docs, labels, weights, background, weight: float):
    """docs + background, labels + 0s, weights + `weight` each (weights None = all 1)."""
    base = np.ones(len(docs)) if weights is None else np.asarray(weights, dtype=float)
    return (list(docs) + background,
            np.concatenate([np.asarray(labels), np.zeros(len(background), dtype=np.asarray(labels).dtype)]),
            np.concatenate([base, np.full(len(background), weight)]))


def _account_shift(weight: float, record: np.ndarray) -> np.ndarray:
    return np.clip(weight * np.asarray(record, dtype=float), -MAX_ACCOUNT_SHIFT, MAX_ACCOUNT_SHIFT)


def _sigmoid(z: np.ndarray) -> np.ndarray:
    return expit(np.asarray(z, dtype=float))  # no overflow however far out the log-odds are


def _offset_slope(offset: np.ndarray, x: np.ndarray, y: np.ndarray, steps: int = 50) -> float:
    """w minimising the log-loss of sigmoid(offset + w * x) (Newton's method; convex in w), with
    a small ridge so that a record that separates perfectly still gives a finite weight."""
    w, ridge = 0.0, 1e-2
    for _ in range(steps):
        p = _sigmoid(offset + w * x)
        grad = float(np.dot(p - y, x)) + ridge * w
        hess = float(np.dot(p * (1 - p), x * x)) + ridge
        step = grad / hess
        w -= step
        if abs(step) < 1e-8:
            break
    return float(w)


MIN_TREE_ROWS = 1000  # decision-time copies with reactions in the calibration slice (CED and CHECKED: 3,410)


class _CalibratorStart(BaseEstimator, ClassifierMixin):
    """The boosted trees' starting point (GradientBoostingClassifier's `init`): the fitted linear
    calibrator's probabilities from the first `k` input columns, so the trees fit what it leaves."""

    def __init__(self, calibrator=None, k: int = 0):
        self.calibrator = calibrator
        self.k = k

    def fit(self, X, y, sample_weight=None):  # already fitted on the same slice
        self.classes_ = np.array([0, 1])
        return self

    def predict_proba(self, X) -> np.ndarray:
        p = _sigmoid(self.calibrator.decision_function(np.asarray(X)[:, :self.k]))
        return np.column_stack([1 - p, p])


def _pattern_inputs(inputs: np.ndarray, facts: np.ndarray) -> np.ndarray:
    """The trees' inputs: the calibrator's, then the docs' raw facts (unknown ones as -1)."""
    return np.hstack([inputs, np.nan_to_num(np.asarray(facts, dtype=float), nan=-1.0)])


def _calibration_inputs(margins: np.ndarray, docs: list[Doc]) -> np.ndarray:
    """Calibration inputs: the margins (joint model, and text-only model when there is one), each
    again for items with no reactions yet, and an offset for those. A decision without reactions
    sits on another scale (the reaction features are all absent) and rests on the wording alone,
    so it gets its own slopes and intercept."""
    margins = np.asarray(margins, dtype=float).reshape(len(docs), -1)
    bare = np.fromiter((not d.reactions for d in docs), dtype=float, count=len(docs))
    return np.column_stack([margins, margins * bare[:, None], bare])


THRESHOLD_CUTS = np.round(np.arange(0.05, 0.951, 0.01), 2)


def macro_f1_curve(y, p, cuts=THRESHOLD_CUTS) -> np.ndarray:
    """Macro-F1 of the flags p >= t for every cut t, as sklearn's f1_score(average="macro",
    zero_division=0) gives it, for all cuts in one pass (the evaluation's macro_f1_rows on the
    counts of each cut)."""
    y = np.asarray(y).astype(bool)
    flags = np.asarray(p, dtype=float)[None, :] >= np.asarray(cuts, dtype=float)[:, None]
    tp = (flags & y).sum(axis=1)
    fp = flags.sum(axis=1) - tp
    fn = y.sum() - tp
    tn = len(y) - tp - fp - fn
    # per class, rumour and not: the not-rumour class's hits are the true negatives
    return macro_f1_rows(np.column_stack([tp, tn]), np.column_stack([fp, fn]), np.column_stack([fn, fp]))


def choose_threshold(y, p) -> float:
    """Probability cut that maximises macro-F1 on a validation slice (ties: nearest to 0.5)."""
    best = (-1.0, 0.0, 0.5)
    for t, f in zip(THRESHOLD_CUTS, macro_f1_curve(y, p)):
        key = (round(float(f), 4), -abs(t - 0.5))
        if key > best[:2]:
            best = (key[0], key[1], float(t))
    return best[2]


THRESHOLD_RESAMPLES = 200


def threshold_range(y, p, n_items: int, resamples: int = THRESHOLD_RESAMPLES,
                    seed: int = 0) -> tuple[float, float]:
    """The 5th and 95th percentiles of the cut `choose_threshold` picks on `resamples` bootstrap
    resamples of a validation slice's items. Rows are the slice's items at each decision time,
    time-major (row k * n_items + i is item i at the k-th time, as RumourModel._augment lays them
    out): an item is drawn with all its copies. If anything the range is narrow: the calibrator is
    not refitted on each resample, and near-duplicate items are drawn apart."""
    y, p = np.asarray(y), np.asarray(p, dtype=float)
    if n_items <= 0 or len(y) % n_items:
        raise ValueError(f"{len(y)} rows are not whole copies of {n_items} items")
    copies = len(y) // n_items
    rng = np.random.default_rng(seed)
    picks = []
    for _ in range(resamples):
        items = rng.integers(0, n_items, n_items)
        rows = (items[None, :] + n_items * np.arange(copies)[:, None]).ravel()
        if 0 < y[rows].sum() < len(rows):  # a resample needs both classes to pick a cut
            picks.append(choose_threshold(y[rows], p[rows]))
    if not picks:
        return (float("nan"), float("nan"))
    low, high = np.percentile(picks, [5, 95])
    return (round(float(low), 2), round(float(high), 2))
