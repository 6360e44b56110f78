"""升温话题: the health hashtags (#话题#) taking off in the feed right now.

A monitor watching the live page sees today's counts, the likeliest rumours and what they chose to
watch; what they cannot see is a new topic the public has just started to talk about — the moment to
read it, before a claim under it spreads. On Weibo that topic is a hashtag. For the health items of
the last WINDOW_HOURS, each hashtag gets:

- its **stories** (distinct clusters of copies; an item without one counts as its own story) and
  accounts: bots paste one body under whatever is trending ("hashtag hijacking"), so items alone
  would crown the most pasted tag, and a tag needs MIN_STORIES stories from MIN_ACCOUNTS accounts;
- how that compares with the BASELINE_HOURS before, per hour: 新出现 (none before), 升温 ×N (at
  least RISING times the earlier rate), 持平 or 回落;
- its negative items and those flagged as likely rumours (rumour probability ≥ the threshold).

    rows = rising_tags(db, now, threshold=0.5)

The live page lists them (a row opens 条目检索 on the tag's words); the reports list a period's
hottest against the period before. An item's hashtags are read from its text once, at ingest
(`tags_of`, stored in `item_tags`); the figures are counted over them in SQL.
"""

from __future__ import annotations

import json
import re
from datetime import datetime, timedelta

from . import store
from .records import iso, parse_time

WINDOW_HOURS = 6
BASELINE_HOURS = 48
MIN_STORIES = 3
MIN_ACCOUNTS = 2
RISING = 2.0          # this many times the earlier hourly rate of stories: 升温
SHOWN = 15
TAG = re.compile(r"#([^#\n]{2,40})#")

STATUS_ZH = {"new": "新出现", "rising": "升温", "steady": "持平", "falling": "回落"}


def tags_of(text: str | None) -> list[str]:
    """The hashtags of a text, each once in the order they appear, without their # marks and outer
    spaces."""
    return list(dict.fromkeys(t for raw in TAG.findall(text or "") if (t := raw.strip())))


def search_query(tag: str) -> str:
    """条目检索's query for a tag: quoted, so a tag with a space in it is one phrase, as it was written."""
    return '"{}"'.format(tag.replace('"', " "))


def tag_stats(db, now: datetime, threshold: float, hours: float = WINDOW_HOURS,
              baseline_hours: float = BASELINE_HOURS, platforms: list[str] | None = None) -> dict[str, dict]:
    """Every hashtag of the health items published in the `hours` before `now`: {tag: {tag, stories,
    items, accounts, negative, flagged, before_stories, rate, before_rate, growth, status, latest_at}}
    (rates: stories per hour; growth None for a tag new in the window). Counted in SQL over the tags
    stored at ingest (store.tag_figures), not from the texts."""
    start = now - timedelta(hours=hours)
    before = store.tag_stories(db, iso(start - timedelta(hours=baseline_hours)), iso(start), platforms)
    out = {}
    for t in store.tag_figures(db, iso(start), iso(now), threshold, platforms):
        n_before = before.get(t["tag"], 0)
        rate, before_rate = t["stories"] / hours, n_before / baseline_hours
        growth = rate / before_rate if before_rate else None
        status = ("new" if growth is None else "rising" if growth >= RISING
                  else "falling" if growth <= 1 / RISING else "steady")
        out[t["tag"]] = dict(t, before_stories=n_before, rate=round(rate, 2), before_rate=round(before_rate, 2),
                             growth=None if growth is None else round(growth, 1), status=status)
    return out


def topics_of(stats: dict[str, dict], limit: int = SHOWN, rising_first: bool = True) -> list[dict]:
    """The tags of `stats` (tag_stats) with at least MIN_STORIES stories from MIN_ACCOUNTS accounts:
    the new and rising ones first, each group with the most stories first; without `rising_first`,
    the most stories first whatever their trend (a report's hottest tags)."""
    rows = [r for r in stats.values() if r["stories"] >= MIN_STORIES and r["accounts"] >= MIN_ACCOUNTS]
    rows.sort(key=lambda r: (rising_first and r["status"] not in ("new", "rising"), -r["stories"], r["tag"]))
    return rows[:limit]


def rising_tags(db, now: datetime, threshold: float, hours: float = WINDOW_HOURS,
                baseline_hours: float = BASELINE_HOURS, platforms: list[str] | None = None,
                limit: int = SHOWN, rising_first: bool = True) -> list[dict]:
    """The topics (topics_of) among the hashtags of the `hours` before `now` (tag_stats)."""
    return topics_of(tag_stats(db, now, threshold, hours, baseline_hours, platforms), limit, rising_first)


def alert_items(db, alert: dict, flag_probability: float, limit: int = 10) -> list[dict]:
    """The likely rumours under a 话题热度上升 alert's tag in the window it was last grown on, one per
    story, likeliest first (the alert page and the special report list them)."""
    m = json.loads(alert["metrics"] or "{}")
    end = parse_time(m.get("window_end") or alert["updated_at"])
    return store.tag_items(db, m["tag"], iso(end - timedelta(hours=m["window_hours"])), iso(end),
                           flag_probability, limit)


def item_tags(text: str | None, stats: dict[str, dict]) -> list[dict]:
    """The hashtags of one item's text, each with its figures in `stats` (tag_stats) or, when the
    window has no other item under it, None: [{tag, stats}] in the order they appear."""
    return [{"tag": tag, "stats": stats.get(tag)} for tag in tags_of(text)]


def status_text(row: dict) -> str:
    """新出现 / 升温 ×3.2 (×16, ×100 以上) / 持平 / 回落, as the live page prints it."""
    if row["status"] != "rising":
        return STATUS_ZH[row["status"]]
    g = row["growth"]
    return f"{STATUS_ZH['rising']} " + ("×100 以上" if g >= 100 else f"×{g:.0f}" if g >= 10 else f"×{g:g}")
