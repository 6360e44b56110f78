"""jieba word segmentation with the THUOCL medical lexicon as user words.

jieba takes about a second to initialise, so one jieba tokenizer is built per process and per
word list, and shared. A `MedicalTokenizer` pickles as its word list only (no jieba state), so a
model artifact carries the lexicon it was trained with and never needs the data bundle at score
time.
"""

from __future__ import annotations

import hashlib
import logging
import math
import re
import threading
from collections import Counter, defaultdict
from collections.abc import Iterable
from pathlib import Path

from ..errors import DataBundleError

LEXICON_FILE = "lexicon/THUOCL_medical.txt"

# THUOCL frequencies are document counts from a large corpus; capped so that a common medical
# term cannot outweigh jieba's own dictionary and swallow the words around it.
_MAX_USER_FREQ = 20000
_MIN_USER_FREQ = 5

# Particles, pronouns and other function characters (simplified and traditional): the explanations
# group them as the post's style, and a discovered word neither starts nor ends with one.
FUNCTION_CHARS = frozenset("了的地得着过被把给让吗呢吧啊呀哦嘛啦呗哈呵嘿哇噢喔么这那哪谁我你您他她它们咱是在就都也又还"
                           "才再很太更最挺真和与及或而且但却這們麼還與")
# A number phrase's measure word ("一张图", "这句话", "10元券") glues to the next character often
# enough to look like a word: a discovered word does not start with one.
_MEASURE_CHARS = frozenset("个件句张条次点元位名只头份种篇本台辆颗项日号")  # 日, 号: "6日晚", "3号线"
# ... and a two-character piece ending in 市/省/县/区 is the end of a place name (沈阳市 -> 阳市)
_PLACE_SUFFIXES = frozenset("市省县区")
_HAN_RUN = re.compile(r"[\u4e00-\u9fff]+")
# A Weibo emoticon code ([怒], [蜡烛]), the one pattern for it: explanations show it as one term,
# discovery leaves its name out (no word of the post), the knowledge base drops it from claims
EMOTICON = re.compile(r"\[[^\[\]\s]{1,8}\]")

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


def _neighbour_entropy(neighbours: Counter, n: int) -> float:
    """Entropy of the characters seen next to a string on one side over its n occurrences; the
    start or end of a run (punctuation, text boundary) counts as a new neighbour each time."""
    h = -sum(c / n * math.log(c / n) for c in neighbours.values())
    boundary = n - sum(neighbours.values())
    return h + (boundary / n * math.log(n) if boundary > 0 else 0.0)


def discover_words(texts: Iterable[str], tokenizer: MedicalTokenizer | None = None, min_count: int = 8,
                   min_cohesion: float = 3.0, min_freedom: float = 1.5, max_len: int = 4,
                   max_freq: int = 100) -> list[tuple[str, int]]:
    """Words of a feed that the dictionary lacks, found in the feed itself (new-word discovery by
    cohesion and freedom): strings of 2 to `max_len` Chinese characters seen at least `min_count`
    times whose parts occur together far more often than chance (pointwise mutual information at
    the weakest split >= `min_cohesion`) and which are used in varied contexts (entropy of the
    characters on either side >= `min_freedom`), and which `tokenizer` (jieba's dictionary plus its
    user words, precise mode) cuts into single characters. Names (李兰娟), platform words (微博,
    超话), new terms (流调, 绿码) and traditional characters (醫院) come out as single characters
    otherwise, and an explanation listing 微 and 博 says nothing. A word nearly always followed by
    the same one (新冠 by 肺炎 or 病毒) is not free enough to be found: it stays 新 / 冠. Emoticon
    codes ([蜡烛]) are left out: their names are not the post's words.

    Returns (word, frequency) pairs for MedicalTokenizer's user words, most frequent first, the
    frequency capped at `max_freq` so that a dictionary word covering the same characters mostly
    keeps winning: mostly runs of single characters are joined. (On 2,000 stream posts, 18 of
    49,813 dictionary words were cut, about half of them rightly: 从轻 / 症 became 从 / 轻症.)"""
    runs = [r for t in texts for r in _HAN_RUN.findall(EMOTICON.sub(" ", t or ""))]
    counts: Counter = Counter()
    for r in runs:
        for n in range(1, max_len + 1):
            counts.update(r[i:i + n] for i in range(len(r) - n + 1))
    chars = sum(c for w, c in counts.items() if len(w) == 1)
    candidates = {w: c for w, c in counts.items()
                  if len(w) >= 2 and c >= min_count and w[0] not in FUNCTION_CHARS
                  and w[-1] not in FUNCTION_CHARS and w[0] not in _MEASURE_CHARS
                  and not (len(w) == 2 and w[1] in _PLACE_SUFFIXES)}
    cohesive = {w: c for w, c in candidates.items()
                if min(math.log(c * chars / (counts[w[:i]] * counts[w[i:]])) for i in range(1, len(w)))
                >= min_cohesion}
    left: dict[str, Counter] = defaultdict(Counter)
    right: dict[str, Counter] = defaultdict(Counter)
    for r in runs:
        for n in range(2, max_len + 1):
            for i in range(len(r) - n + 1):
                w = r[i:i + n]
                if w in cohesive:
                    if i > 0:
                        left[w][r[i - 1]] += 1
                    if i + n < len(r):
                        right[w][r[i + n]] += 1
    tok = tokenizer or MedicalTokenizer()
    found = [(w, min(c, max_freq)) for w, c in sorted(cohesive.items(), key=lambda kv: (-kv[1], kv[0]))
             if min(_neighbour_entropy(left[w], c), _neighbour_entropy(right[w], c)) >= min_freedom
             and all(len(piece) == 1 for piece in tok.tokenize(w))]
    return found


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
