"""Shared hashed character n-gram counts for the polarity and relevance models.

Both models read the same char 1–2-gram counts of the same (mention- and url-normalised) text,
hashed into a fixed space, so there is no vocabulary to look up and nothing to fit here. The
last batch is memoised: when the scorer runs polarity and relevance over the same docs, the
text is analysed once. Each model applies its own fitted TF-IDF weighting on top.
"""

from __future__ import annotations

import re
import threading

from .rumour import hashed_char_ngrams, hashed_ngram_cells

N_FEATURES = 2 ** 18
NGRAM_RANGE = (1, 2)

_MENTION = re.compile(r"@[\w\-·]+")
_SPACES = re.compile(r"\s\s+")
_URL = re.compile(r"https?://\S+")

_lock = threading.Lock()
_last: tuple[list[str], object] | None = None


def normalise_text(text: str) -> str:
    """Collapse @mentions and urls: names and links carry neither polarity nor topic."""
    return _MENTION.sub("@U", _URL.sub(" URL ", text or ""))


def doc_texts(docs) -> list[str]:
    """Each doc's text, for the text-only models; a doc without a text string is a caller's bug."""
    texts = []
    for i, doc in enumerate(docs):
        text = getattr(doc, "text", None)
        if not isinstance(text, str):
            raise TypeError(f"docs[{i}] has no text string (got {type(doc).__name__})")
        texts.append(text)
    return texts


def _prepared(texts: list[str]) -> list[str]:
    return [_SPACES.sub(" ", (t or "").lower()) for t in texts]


def char_counts(texts: list[str], ngram_range=NGRAM_RANGE, n_features: int = N_FEATURES):
    """Sparse char n-gram counts of lower-cased texts (runs of white space as one space), hashed with
    numpy over the whole batch (sklearn's char analyzer walks each text in Python: ~8× slower)."""
    x = hashed_char_ngrams(_prepared(texts), ngram_range, n_features)
    x.sum_duplicates()
    return x


def ngram_cells(texts: list[str], ngram_range, n_features: int):
    """(row, hashed column) of every char n-gram occurrence, as `char_counts` hashes them, without
    building a matrix: for looking a few known n-grams up in a batch."""
    return hashed_ngram_cells(_prepared(texts), ngram_range, n_features)


def hashed_counts(texts: list[str]):
    """Sparse (len(texts) × N_FEATURES) char 1–2-gram counts of the normalised texts."""
    global _last
    texts = list(texts)
    with _lock:
        if _last is not None and _last[0] == texts:
            return _last[1]
    X = char_counts([normalise_text(t) for t in texts])
    with _lock:
        _last = (texts, X)
    return X


def hashed_columns(terms: list[str]) -> list[int]:
    """Columns of the hashed space that the given 2-character terms fall into."""
    two = [t.lower() for t in terms if len(t) == 2]
    if not two:
        return []
    return sorted(set(char_counts(two, (2, 2)).nonzero()[1].tolist()))
