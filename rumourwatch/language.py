"""Which texts the models can read. They are trained on Chinese; regional deployments also see posts
in the scripts of China's other official languages (DOMAIN.md 11: Inner Mongolia publishes in
Mongolian and Chinese). A post written mostly in Mongolian, Tibetan or Uyghur script would get a
rumour probability and a polarity from Chinese models that never saw a word of it: the scorer leaves
those unassessed instead (rumourwatch.score), and the item view asks for a human reading.

Latin-script posts (English, pinyin, hashtags) and emoji-only posts are read as before: Chinese feeds
are full of them and the models were trained with them.
"""

from __future__ import annotations

import re

# script -> its letters (the main block and its presentation forms; the Mongolian Supplement's head marks
# are left out: with an astral range the scan of every text took 1.4 µs instead of 1.0 on the stream)
_SCRIPTS: dict[str, re.Pattern] = {
    "mn": re.compile("[\u1800-\u18af]"),                                                    # Mongolian
    "bo": re.compile("[\u0f00-\u0fff]"),                                                    # Tibetan
    "ug": re.compile("[\u0600-\u06ff\u0750-\u077f\ufb50-\ufdff\ufe70-\ufeff]"),              # Uyghur
}
_ANY = re.compile("[" + "".join(p.pattern[1:-1] for p in _SCRIPTS.values()) + "]")  # one class: one C scan
_HAN = re.compile("[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\U00020000-\U0003134f]")
LANGUAGE_NAMES = {"mn": "Mongolian", "bo": "Tibetan", "ug": "Uyghur"}
LANGUAGE_ZH = {"mn": "蒙古文", "bo": "藏文", "ug": "维吾尔文"}  # as reports and handovers name them
MIN_LETTERS = 10  # fewer letters of another script than this (a name, a greeting) do not make a post unreadable
MIN_HAN = 10      # a sentence of Chinese: the models read the post (a bilingual post has one)


def unread_language(text: str | None) -> str | None:
    """'mn', 'bo' or 'ug' when `text` is written in that script (at least MIN_LETTERS of its letters)
    with less Chinese than a sentence (under MIN_HAN Han characters), so the models cannot read it;
    None otherwise (Chinese, bilingual, Latin, emoji, empty). One C-speed scan for a text without
    those scripts (nearly every text of a Chinese feed)."""
    if not text or text.isascii() or _ANY.search(text) is None:
        return None
    code, n = _most_letters(text)
    return code if n >= MIN_LETTERS and len(_HAN.findall(text)) < MIN_HAN else None


def _most_letters(text: str) -> tuple[str, int]:
    """The script of those three with the most letters in `text`, and how many."""
    return max(((c, len(p.findall(text))) for c, p in _SCRIPTS.items()), key=lambda kv: kv[1])


def written_in(text: str | None) -> str | None:
    """The script ('mn', 'bo', 'ug') a text is written in, with at least MIN_LETTERS letters of it and
    more of them than Han characters (a name of a hospital or a drug in Chinese inside is fine): for a
    clarification's version for readers of that script, which may quote Chinese, unlike a post the
    models cannot read (`unread_language`)."""
    if not text or _ANY.search(text) is None:
        return None
    code, n = _most_letters(text)
    return code if n >= MIN_LETTERS and n > len(_HAN.findall(text)) else None


def scripts_text(counts: dict[str, int]) -> str:
    """Posts counted by script, as the reports, handovers and notices print them: "蒙古文 2 条、藏文 1
    条", the most first."""
    return "、".join(f"{LANGUAGE_ZH.get(code, code)} {n:,} 条"
                    for code, n in sorted(counts.items(), key=lambda kv: (-kv[1], kv[0])))
