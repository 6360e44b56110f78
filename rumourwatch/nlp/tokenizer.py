"""jieba word segmentation with the THUOCL medical lexicon as user words.

jieba takes about a second to initialise, so one jieba tokenizer is built per process and per
word list, and shared. A `MedicalTokenizer` pickles as its word list only (no jieba state), so a
model artifact carries the lexicon it was trained with and never needs the data bundle at score
time.
"""

from __future__ import annotations

import hashlib
import logging
import threading
from pathlib import Path

from ..errors import DataBundleError

LEXICON_FILE = "lexicon/THUOCL_medical.txt"

# THUOCL frequencies are document counts from a large corpus; capped so that a common medical
# term cannot outweigh jieba's own dictionary and swallow the words around it.
_MAX_USER_FREQ = 20000
_MIN_USER_FREQ = 5

_lock = threading.Lock()
_jieba_cache: dict[str, object] = {}


def read_lexicon(path: str | Path) -> list[tuple[str, int]]:
    """(word, frequency) pairs of a THUOCL-style `word<TAB>freq` file; unreadable lines say where."""
    path = Path(path)
    if not path.exists():
        raise DataBundleError(f"lexicon file {path} is missing")
    words: list[tuple[str, int]] = []
    with path.open(encoding="utf-8") as fh:
        for lineno, line in enumerate(fh, 1):
            line = line.strip()
            if not line:
                continue
            parts = line.split("\t")
            word = parts[0].strip()
            try:
                freq = int(parts[1]) if len(parts) > 1 else _MIN_USER_FREQ
            except ValueError:
                raise DataBundleError(
                    f"{path}:{lineno}: frequency {parts[1]!r} is not a whole number "
                    "(expected word<TAB>frequency)") from None
            if len(word) >= 2:  # single characters are already in jieba and would only add noise
                words.append((word, max(_MIN_USER_FREQ, min(freq, _MAX_USER_FREQ))))
    return words


def _jieba_for(words: tuple[tuple[str, int], ...]):
    key = hashlib.sha256(repr(words).encode("utf-8")).hexdigest()
    with _lock:
        tok = _jieba_cache.get(key)
        if tok is None:
            import jieba

            jieba.setLogLevel(logging.WARNING)
            tok = jieba.Tokenizer()
            tok.initialize()
            for word, freq in words:
                tok.add_word(word, freq)
            _jieba_cache[key] = tok
        return tok


class MedicalTokenizer:
    """Precise-mode jieba (HMM off: faster, and new-word guessing splits drug names badly)."""

    def __init__(self, user_words: list[tuple[str, int]] | None = None):
        self.user_words = tuple((str(w), int(f)) for w, f in (user_words or []))
        self._jieba = None

    @classmethod
    def from_bundle(cls, data_dir: str | Path) -> "MedicalTokenizer":
        return cls(read_lexicon(Path(data_dir) / LEXICON_FILE))

    def _tok(self):
        if self._jieba is None:
            self._jieba = _jieba_for(self.user_words)
        return self._jieba

    def tokenize(self, text: str) -> list[str]:
        """Words of the text, whitespace and empty pieces dropped."""
        return [w for w in self._tok().lcut(text, HMM=False) if w.strip()]

    def spans(self, text: str) -> list[tuple[str, int, int]]:
        """(word, start, end) for each word of the text, whitespace-only pieces dropped."""
        out, pos = [], 0
        for w in self._tok().lcut(text, HMM=False):
            if w.strip():
                out.append((w, pos, pos + len(w)))
            pos += len(w)
        return out

    def __call__(self, text: str) -> list[str]:
        return self.tokenize(text)

    def __getstate__(self):
        return {"user_words": self.user_words}

    def __setstate__(self, state):
        self.user_words = tuple(state["user_words"])
        self._jieba = None

    def __repr__(self) -> str:
        return f"MedicalTokenizer({len(self.user_words)} user words)"


_default = MedicalTokenizer()


def tokenize(text: str, tokenizer: MedicalTokenizer | None = None) -> list[str]:
    """Words of `text` with the given tokenizer (plain jieba dictionary when none is given)."""
    return (tokenizer or _default).tokenize(text)
