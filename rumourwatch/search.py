"""Keyword search over the stored items (条目检索): a monitor hears of a claim, or a leader asks
"what is being said about HPV vaccines this month?", and wants every item that mentions it, how
many stories they are, how many were flagged, the opinion line and the daily count.

The query language is the one Chinese monitoring tools use, kept small:

    疫苗 副作用          both words (terms are separated by spaces)
    口罩|N95             either word (| or ｜)
    疫苗 -宠物           疫苗 but not 宠物 (a leading - or －)
    "新冠 疫苗"          a phrase with its space (straight or Chinese quotes)

A term matches anywhere in an item's title or text, as typed: Chinese has no spaces, so a term is
a substring, not a word (searching 中药 finds 中药材 too). A post the models cannot read (written in
Mongolian, Tibetan or Uyghur script) is also found by the Chinese gist of its human reading
(rumourwatch.readings), which its snippet then shows. ASCII letters match in either case and in
their full-width forms (N95 finds ｎ９５ and Ｎ９５).

A search can also be narrowed to one account (or author), or be only that: every item of an
account, for monitors sorting out repeat publishers; likewise to one Healthy China topic (the
items the models put under it): what is said of a topic before its health observance day.

The search scans the chosen period's items (a LIKE per spelling of each term); nothing extra is
written when items arrive, so ingest is not slowed. `bench/bench_search.py` times it at 1 M items.
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass
from datetime import date, timedelta
from functools import cached_property

from . import store
from .errors import RumourwatchError
from .exports import csv_text
from .opinion import LABELS, opinion_line
from .records import CST, parse_time
from .reports import china_time

MAX_TERMS = 10          # terms and alternatives together: each is a LIKE over every item of the period
MAX_TERM_CHARS = 50
LIST_LIMIT = 200        # items listed on the page (newest or likeliest first)
EXPORT_LIMIT = 20_000   # rows in one CSV export
ORDERS = ("time", "probability")
SNIPPET_CHARS = 120
SNIPPET_BEFORE = 10     # characters shown before the first hit: a table cell shows the first 25 or so

_QUOTES = {'"': '"', "“": "”"}
_OR = ("|", "｜")
_NOT = ("-", "－")


class SearchError(RumourwatchError):
    """A search query that cannot be run (empty, only exclusions, too many or too long terms)."""


@dataclass(frozen=True)
class Query:
    """A parsed query: every group must match through one of its terms, no excluded term may."""

    groups: tuple[tuple[str, ...], ...]
    excluded: tuple[str, ...]

    def spellings(self) -> tuple[tuple[tuple[str, ...], ...], tuple[str, ...]]:
        """The groups and exclusions with each term's width and case variants, as the store matches
        them."""
        groups = tuple(tuple(v for term in group for v in variants(term)) for group in self.groups)
        excluded = tuple(v for term in self.excluded for v in variants(term))
        return groups, excluded

    @property
    def terms(self) -> tuple[str, ...]:
        """The terms to find in a text (for snippets), in the order typed."""
        return tuple(term for group in self.groups for term in group)

    @cached_property
    def _folded(self) -> tuple[tuple[tuple[str, ...], ...], tuple[str, ...]]:
        groups, excluded = self.spellings()
        return (tuple(tuple(dict.fromkeys(fold(v) for v in group)) for group in groups),
                tuple(dict.fromkeys(fold(v) for v in excluded)))

    def matches(self, folded_text: str) -> bool:
        """Whether a text, already `fold`ed, matches as the store's search would find it (each term in
        each of its spellings), for one item at a time: the alert rules' watched keywords. Join an
        item's title and text with a character no term has ("\x00"), so no phrase spans the two."""
        groups, excluded = self._folded
        return (all(any(term in folded_text for term in group) for group in groups)
                and not any(term in folded_text for term in excluded))


def _tokens(text: str) -> list[str]:
    """Split on white space (the ideographic space too) outside quotes; quotes keep a phrase whole."""
    out, current, closing = [], [], None
    for ch in text:
        if closing is not None:
            if ch == closing:
                closing = None
            else:
                current.append(ch)
        elif ch in _QUOTES:
            closing = _QUOTES[ch]
        elif ch.isspace():
            if current:
                out.append("".join(current))
            current = []
        else:
            current.append(ch)
    if current:
        out.append("".join(current))
    return out


def parse_query(text: str, words_needed: bool = True) -> Query:
    """Parse what the user typed (module docstring); SearchError says what is wrong with it.
    `words_needed` False: a query without a word to find is allowed (an account's items)."""
    text = unicodedata.normalize("NFC", text or "").strip()  # items are stored NFC (ingest)
    groups: list[tuple[str, ...]] = []
    excluded: list[str] = []
    for token in _tokens(text):
        negate = token.startswith(_NOT)
        if negate:
            token = token[1:]
        for bar in _OR[1:]:
            token = token.replace(bar, _OR[0])
        terms = tuple(dict.fromkeys(t.strip() for t in token.split(_OR[0]) if t.strip()))
        if not terms:
            continue  # a lone "-" or "|"
        for term in terms:
            if len(term) > MAX_TERM_CHARS:
                raise SearchError(f"search term '{term[:20]}…' is longer than {MAX_TERM_CHARS} characters",
                                  "search_term_long", term=term[:20], limit=MAX_TERM_CHARS)
        if negate:
            excluded.extend(terms)
        else:
            groups.append(terms)
    if not groups and words_needed:
        if excluded:
            raise SearchError("a search needs at least one word to find, not only words to leave out",
                              "search_only_excluded")
        raise SearchError("type at least one word to search for", "search_empty")
    count = sum(len(g) for g in groups) + len(excluded)
    if count > MAX_TERMS:
        raise SearchError(f"a search takes at most {MAX_TERMS} terms, this one has {count}",
                          "search_too_many", count=count, limit=MAX_TERMS)
    return Query(groups=tuple(groups), excluded=tuple(dict.fromkeys(excluded)))


def fold(text: str) -> str:
    """A text as `Query.matches` reads it: in lower case, as LIKE compares ASCII letters (the widths are
    the terms' spellings, `variants`). No NFKC here: Chinese punctuation is full width, so it would
    rewrite nearly every post, at 15 times the cost."""
    return text.lower()


def _full_width(text: str) -> str:
    return "".join(chr(ord(c) + 0xFEE0) if "!" <= c <= "~" else "\u3000" if c == " " else c for c in text)


def variants(term: str) -> tuple[str, ...]:
    """The spellings of `term` to look for: as typed, its half-width form (NFKC folds Ｎ９５ to N95) and
    its full-width forms in both cases (LIKE folds the case of ASCII letters only)."""
    half = unicodedata.normalize("NFKC", term)
    if not any("!" <= c <= "~" for c in half):
        return tuple(dict.fromkeys((term, half)))
    return tuple(dict.fromkeys((term, half, _full_width(half.upper()), _full_width(half.lower()))))


def _filters(platforms, health_only: bool, min_probability: float | None, account: str | None,
             topic: str | None = None) -> dict:
    return {"platforms": list(platforms) if platforms else None, "health_only": bool(health_only),
            "min_probability": min_probability or None, "account": (account or "").strip() or None,
            "topic": (topic or "").strip() or None}


def run(db, query: Query, start: str | None, end: str | None, threshold: float, *, platforms=(),
        health_only: bool = False, min_probability: float | None = None, account: str | None = None,
        order: str = "time", limit: int = LIST_LIMIT, topic: str | None = None) -> dict:
    """Search items published in [start, end) (UTC ISO; None = open), by `account` (its account or
    author name, exactly) and under `topic` (a Healthy China topic) when given. Returns

    - `total`, `stories` (distinct clusters), `flagged` (rumour probability ≥ `threshold`),
      `debunked`, `health`, `unscored`;
    - `polarity` counts, and `line`, the opinion line of the matching items in the reports' form;
    - `days`: per China day, `n` and `flagged` (days without a hit left out);
    - `items`: at most `limit` matching items in `order` ("time": newest first, "probability"),
      each with a `snippet` around its first hit.
    """
    if order not in ORDERS:
        raise ValueError(f"order must be one of {', '.join(ORDERS)}, not {order!r}")
    groups, excluded = query.spellings()
    filters = _filters(platforms, health_only, min_probability, account, topic)
    rows, stories, first = store.search_hits(db, groups, excluded, start, end, threshold, order, limit, **filters)
    polarity = {"positive": 0, "neutral": 0, "negative": 0, None: 0}
    days: dict[str, dict] = {}
    totals = {"total": 0, "flagged": 0, "debunked": 0, "health": 0}
    for r in rows:
        polarity[r["polarity"] if r["polarity"] in polarity else None] += r["n"]
        day = days.setdefault(r["day"], {"day": r["day"], "n": 0, "flagged": 0})
        day["n"] += r["n"]
        day["flagged"] += r["flagged"]
        totals["total"] += r["n"]
        for key in ("flagged", "debunked", "health"):
            totals[key] += r[key]
    items = store.items_with_text(db, first)
    gists = store.latest_gists(db, [i["id"] for i in items if i.get("rumour_probability") is None]) \
        if store.has_tables(db, "human_readings") else {}
    for item in items:
        item["snippet"] = snippet(item.get("text") or "", query)
        if item["id"] in gists and not _hit(item.get("text") or "", query):  # found by its reading's gist
            item["snippet"] = GIST_MARK + snippet(gists[item["id"]], query)
    return dict(totals, stories=stories, unscored=polarity[None], polarity=polarity, line=opinion_line(polarity),
                days=_every_day(days, start, end), items=items, order=order)


def watched_hits(db, keywords, accounts, start: str | None, end: str | None, threshold: float,
                 platforms=None, by_hour: bool = False) -> list[dict]:
    """The alert rules' watched keywords (queries) and accounts (an account's or author's items), each
    as {kind: "keyword" | "account", value, days: [(day, polarity, n, flagged)...]} for the items
    published in [start, end), in one scan for all of them (store.watch_hits; `by_hour`: the rows are
    per UTC hour, YYYY-MM-DDTHH). For the live page's and the reports' counts of what is watched."""
    lines = [("keyword", k, (*parse_query(k).spellings(), None)) for k in keywords]
    lines += [("account", a, ((), (), a)) for a in accounts]
    hits = store.watch_hits(db, [q for _, _, q in lines], start, end, threshold,
                            platforms=list(platforms) if platforms else None, by_hour=by_hour)
    return [{"kind": kind, "value": value, "days": days} for (kind, value, _), days in zip(lines, hits)]


def _every_day(days: dict[str, dict], start: str | None, end: str | None) -> list[dict]:
    """The per-day counts with the period's days that had no match as zeros, so a chart shows the gaps
    (an open period runs from its first match to its last)."""
    if not days:
        return []
    first = parse_time(start).astimezone(CST).date() if start else date.fromisoformat(min(days))
    last = (parse_time(end) - timedelta(seconds=1)).astimezone(CST).date() if end else date.fromisoformat(max(days))
    first, last = min(first, date.fromisoformat(min(days))), max(last, date.fromisoformat(max(days)))
    out, day = [], first
    while day <= last:
        key = day.isoformat()
        out.append(days.get(key, {"day": key, "n": 0, "flagged": 0}))
        day += timedelta(days=1)
    return out


GIST_MARK = "【人工判读大意】"  # before the snippet of a post found by the Chinese gist of its reading


def _hits(text: str, query: Query) -> list[int]:
    """Where in `text` (whitespace runs made one space) each of the query's terms first occurs."""
    folded = unicodedata.normalize("NFKC", text).lower()
    if len(folded) != len(text):  # NFKC changed the length (ligatures): positions would not line up
        folded = text.lower()
    return [i for term in query.terms for v in variants(term) if (i := folded.find(v.lower())) >= 0]


def _hit(text: str, query: Query) -> bool:
    return bool(_hits(" ".join(text.split()), query))


def snippet(text: str, query: Query, width: int = SNIPPET_CHARS) -> str:
    """`width` characters of `text` around the first place one of the query's terms occurs (the
    title, if that is where it matched, is not repeated): the start of the text when none does."""
    text = " ".join(text.split())
    hits = _hits(text, query)
    start = max(0, min(hits) - SNIPPET_BEFORE) if hits else 0
    part = text[start:start + width]
    return ("…" if start else "") + part + ("…" if start + width < len(text) else "")


EXPORT_HEADER = ("条目ID", "发布时间（北京时间）", "平台", "账号", "作者", "链接", "标题", "正文", "谣言概率",
                 "疑似谣言", "情感倾向", "健康相关", "主题", "已辟谣", "话题簇", "转发数", "评论数")


def export_csv(db, query: Query, start: str | None, end: str | None, threshold: float, *, platforms=(),
               health_only: bool = False, min_probability: float | None = None, account: str | None = None,
               limit: int = EXPORT_LIMIT, topic: str | None = None) -> tuple[str, int]:
    """The matching items, newest first, as CSV for Excel (`exports.csv_text`), at most `limit` rows;
    returns the text and the number of rows written."""
    groups, excluded = query.spellings()
    rows = store.search_items(db, groups, excluded, start, end, limit, "time",
                              **_filters(platforms, health_only, min_probability, account, topic))
    words = LABELS["zh-CN"]

    def yes_no(value):
        return "" if value is None else ("是" if value else "否")

    def line(r):
        p = r["rumour_probability"]
        return (r["id"], china_time(r["published_at"], "%Y-%m-%d %H:%M"), r["platform"], r["account"],
                r["author"], r["url"], r["title"], r["text"], "" if p is None else round(p, 4), "" if p is None else yes_no(p >= threshold),
                words.get(r["polarity"], ""), yes_no(r["health_related"]), r["topic"],
                yes_no(r["already_debunked"]), r["cluster_id"], r["repost_num"], r["comment_num"])

    return csv_text(EXPORT_HEADER, map(line, rows)), len(rows)
