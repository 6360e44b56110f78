"""辟谣效果: did the story slow down once the clarification was out?

Seed 000 asks to "加强健康科普知识监测与评估" and to organise experts to clarify what spreads widely;
the leaders who read that a clarification was published next ask whether it helped. This module
compares a story's spread in equal windows before and after its clarification was published:

- the story's new copies (items) and new reactions (reposts, comments) in the WINDOW_HOURS before
  the publication and in as many hours after it (fewer while the clarification is younger than
  that: both windows then have the hours since publication, so the figures stay comparable);
- of the reactions with words of their own, the share that doubts or denies the claim (the rumour
  model's doubt cues, `nlp.rumour.doubting`): more doubt after it is the public repeating the
  clarification;
- the copies posted since the publication, latest first: whom to ask a platform to take down.

Spread falls on its own: most stories are loudest in their first hours. So each figure sits beside
a **reference**: the same comparison for the stories of recent alerts that had no clarification,
taken at the same age (hours after their alert) as this one was published. A clarification whose
story fell much faster than those did is the one that likely helped; the page says "before and
after", never "because of".

    e = clarification_effect(db, clarification_id, now)
    rows = period_effects(db, start, end, now)        # the clarifications published in a period
    text = effects_csv(rows)

The alert page and the special report show one clarification's effect; the weekly and monthly
reports list the period's; `rumourwatch report effect` prints or writes them.
"""

from __future__ import annotations

import statistics
from datetime import datetime, timedelta

from . import store
from .exports import csv_text
from .nlp.rumour import doubting, said
from .records import beijing, hours_between, iso, parse_time

WINDOW_HOURS = 24.0        # compared: this many hours before the publication with as many after it
MIN_HOURS_AFTER = 2.0      # a clarification younger than this: too early to say anything
MIN_ACTIVITY_BEFORE = 10   # fewer new items and reactions before it: the story had already gone quiet
FELL, EASED = -0.5, -0.2   # the change in new items + reactions that reads 明显回落 / 有所回落
REFERENCE_DAYS = 90        # the reference reads the alerts of this many days before the publication
REFERENCE_ALERTS = 200     # at most this many of them (the latest)
REFERENCE_MIN = 5          # fewer comparable stories than this: no reference
COMPARE_MARGIN = 0.10      # a change this much (10 points) below / above the reference reads faster / slower
STILL_SHOWN = 10           # copies posted since the publication, listed

# the outcomes (codes; STATUS_ZH says them)
TOO_EARLY, QUIET, FELL_CODE, EASED_CODE, NOT_FALLEN = "too_early", "quiet", "fell", "eased", "not_fallen"
STATUS_ZH = {
    TOO_EARLY: f"发布不足 {MIN_HOURS_AFTER:g} 小时，尚难判断",
    QUIET: "发布前传播已很少，无从比较",
    FELL_CODE: "发布后传播明显回落",
    EASED_CODE: "发布后传播有所回落",
    NOT_FALLEN: "发布后传播未见回落",
}
COMPARED_ZH = {"faster": "回落快于未辟谣的预警事件", "slower": "回落慢于未辟谣的预警事件",
               "similar": "与未辟谣的预警事件相近"}
CAVEAT = ("为辟谣稿发布前后同样时长内的对比，传播本身也会随时间自然回落，请对照未辟谣的预警事件在相同时点的变化阅读；"
          "不代表因果。")

HEADER = ("澄清稿", "预警", "专家", "发布时间", "对比时长（小时）", "发布前新增条目", "发布后新增条目", "发布前新增互动",
          "发布后新增互动", "变化（%）", "发布前质疑占比（%）", "发布后质疑占比（%）", "结论", "未辟谣的预警事件变化（中位，%）",
          "对照事件数", "对比", "发布后新增条目（至今）", "链接")


class EffectError(ValueError):
    """No such clarification, or one not published yet."""


def _change(before: int, after: int) -> float | None:
    return (after - before) / before if before else None


def _side(counts: dict) -> dict:
    """One window's figures: new items, reactions, and of the reactions with words of their own how
    many doubt or deny."""
    texts = counts.pop("texts", None)
    out = {"items": counts["items"], "reactions": counts["reactions"]}
    if texts is not None:
        worded = [w for t in texts if (w := said(t))]
        out.update(worded=len(worded), doubting=sum(1 for w in worded if doubting(w)))
    return out


def _activity(side: dict) -> int:
    return side["items"] + side["reactions"]


def _status(before: dict, after: dict, elapsed: float) -> tuple[str, float | None]:
    if elapsed < MIN_HOURS_AFTER:
        return TOO_EARLY, None
    if _activity(before) < MIN_ACTIVITY_BEFORE:
        return QUIET, None
    change = _change(_activity(before), _activity(after))
    return (FELL_CODE if change <= FELL else EASED_CODE if change <= EASED else NOT_FALLEN), change


def reference(db, at: datetime, delay_hours: float, window_hours: float, now: datetime,
              cache: dict | None = None) -> dict | None:
    """How stories without a clarification went on at the same age: for the alerts on one story
    created in the REFERENCE_DAYS before `at` (not dismissed, none clarified) whose comparison
    windows are over by `now`, the change in new items + reactions from the `window_hours` before
    `delay_hours` after the alert to as many after it; the median of those with enough to compare.
    {"n", "change"}, or None with fewer than REFERENCE_MIN such stories."""
    key = (iso(at)[:13], round(delay_hours), round(window_hours, 1))
    if cache is not None and key in cache:
        return cache[key]
    shift, window = timedelta(hours=delay_hours), timedelta(hours=window_hours)
    latest = min(at, now - shift - window)  # an alert created after this has no complete "after" window yet
    changes = []
    for a in store.unclarified_story_alerts(db, iso(at - timedelta(days=REFERENCE_DAYS)), iso(latest),
                                            REFERENCE_ALERTS):
        mid = parse_time(a["created_at"]) + shift
        counts = store.story_activity(db, a["cluster_id"], a["item_id"], iso(mid - window), iso(mid),
                                      iso(mid + window), words=False)
        before, after = _activity(counts["before"]), _activity(counts["after"])
        if before >= MIN_ACTIVITY_BEFORE:
            changes.append(_change(before, after))
    out = {"n": len(changes), "change": statistics.median(changes)} if len(changes) >= REFERENCE_MIN else None
    if cache is not None:
        cache[key] = out
    return out


def _compared(change: float | None, ref: dict | None) -> str | None:
    if change is None or ref is None:
        return None
    diff = change - ref["change"]
    return "faster" if diff <= -COMPARE_MARGIN else "slower" if diff >= COMPARE_MARGIN else "similar"


def clarification_effect(db, clarification_id: int, now: datetime, window_hours: float = WINDOW_HOURS,
                         cache: dict | None = None) -> dict:
    """The effect of published clarification `clarification_id` as it stands at `now` (plain values,
    JSON-ready). `cache` shares the references between the clarifications of one period."""
    c = store.get_clarification(db, clarification_id)
    if c is None:
        raise EffectError(f"clarification #{clarification_id} does not exist")
    if c["status"] != "published" or not c["published_at"]:
        raise EffectError(f"clarification #{clarification_id} is not published (status {c['status']})")
    alert = store.get_alert(db, c["alert_id"])
    published = parse_time(c["published_at"])
    elapsed = max((now - published).total_seconds() / 3600, 0.0)
    window = min(window_hours, elapsed)
    out = {"clarification_id": c["id"], "alert_id": c["alert_id"], "title": c["title"],
           "url": c["published_url"], "published_at": c["published_at"], "expert_id": c["expert_id"],
           "hours_since": round(elapsed, 1), "window_hours": round(window, 1), "before": None, "after": None,
           "change": None, "status": TOO_EARLY, "reference": None, "compared": None, "since_items": 0,
           "since_rows": [], "last_item_at": None}
    if not alert or not alert["item_id"]:  # a spike or a digest: no one story to follow
        out["status"] = None
        return out
    start, mid, end = published - timedelta(hours=window), published, published + timedelta(hours=window)
    counts = store.story_activity(db, alert["cluster_id"], alert["item_id"], iso(start), iso(mid), iso(end))
    before, after = _side(counts["before"]), _side(counts["after"])
    status, change = _status(before, after, elapsed)
    ref = None
    if change is not None:
        delay = max(hours_between(alert["created_at"], c["published_at"]) or 0.0, 0.0)
        ref = reference(db, published, delay, window, now, cache)
    n_since, rows = store.story_items_since(db, alert["cluster_id"], alert["item_id"], c["published_at"],
                                            STILL_SHOWN)
    out.update(before=before, after=after, change=change, status=status, reference=ref,
               compared=_compared(change, ref), since_items=n_since, since_rows=rows,
               last_item_at=store.story_spread(db, alert["cluster_id"], alert["item_id"])["last_at"])
    return out


def alert_effect(db, alert_id: int, now: datetime) -> dict | None:
    """The effect of the alert's first published clarification, or None when it has none."""
    published = [c for c in store.clarifications_for_alert(db, alert_id)
                 if c["status"] == "published" and c["published_at"]]
    if not published:
        return None
    return clarification_effect(db, min(published, key=lambda c: c["published_at"])["id"], now)


def period_effects(db, start: str, end: str, now: datetime, region: str | None = None) -> list[dict]:
    """The effect of every clarification published in [start, end) (`region`: the alert's), in
    publication order, each with its expert's name."""
    cache: dict = {}
    out = []
    for c in store.report_clarifications(db, start, end, region):
        e = clarification_effect(db, c["id"], now, cache=cache)
        e["expert"] = c["expert_name"] or ""
        out.append(e)
    return out


# --- saying it --------------------------------------------------------------------------------

def pct(x: float | None, signed: bool = False) -> str:
    if x is None:
        return "—"
    return f"{x * 100:+.0f}%" if signed else f"{x * 100:.0f}%"


def doubt_share(side: dict | None) -> float | None:
    if not side or not side.get("worded"):
        return None
    return side["doubting"] / side["worded"]


def status_text(e: dict) -> str:
    """The outcome in one line: the verdict, its change and, when there is one, the reference."""
    if e["status"] is None:
        return "非单一事件预警，不评估辟谣效果"
    text = STATUS_ZH[e["status"]]
    if e["change"] is not None:
        text += f"（新增条目与互动 {pct(e['change'], signed=True)}）"
    if e["reference"]:
        text += (f"；未辟谣的预警事件在相同时点中位变化 {pct(e['reference']['change'], signed=True)}"
                 f"（{e['reference']['n']} 起），{COMPARED_ZH[e['compared']]}")
    elif e["change"] is not None:
        text += f"；未辟谣的预警事件不足 {REFERENCE_MIN} 起，暂无对照"
    return text


def short_text(e: dict) -> str:
    """The outcome in a table cell: 明显回落 -90%（快于未辟谣的预警事件）, 尚难判断…"""
    if e["status"] is None:
        return "非单一事件"
    if e["change"] is None:
        return STATUS_ZH[e["status"]]
    text = f"{STATUS_ZH[e['status']].removeprefix('发布后传播')} {pct(e['change'], signed=True)}"
    return text + (f"（{COMPARED_ZH[e['compared']]}）" if e["compared"] else "")


def lines(e: dict) -> list[str]:
    """The effect as sentences: when it was published, the figures before → after, then the outcome
    (outcome_lines)."""
    if e["status"] is None:
        return [status_text(e)]
    b, a = e["before"], e["after"]
    return [(f"澄清稿于 {beijing(e['published_at'])} 发布，距今 {e['hours_since']:g} 小时；"
             f"以下对比发布前后各 {e['window_hours']:g} 小时。"),
            (f"新增条目 {b['items']} → {a['items']}，新增互动 {b['reactions']} → {a['reactions']}；"
             f"有内容互动中质疑、辟谣类占比 {pct(doubt_share(b))} → {pct(doubt_share(a))}。"),
            *outcome_lines(e)]


def outcome_lines(e: dict) -> list[str]:
    """The verdict beside its reference, and the copies posted since (the special report prints
    these under its own table of the figures)."""
    since = (f"发布以来仍有 {e['since_items']} 条新的相关条目，最近一条发布于 {beijing(e['last_item_at'])}。"
             if e["since_items"] else "发布以来没有新的相关条目。")
    return [status_text(e) + "。", since]


def _pct_number(x: float | None):
    return None if x is None else round(x * 100, 1)  # a number a spreadsheet can sort and chart


def row(e: dict) -> tuple:
    """One clarification as a CSV row (HEADER): shares and changes as percent numbers."""
    b, a = e["before"] or {}, e["after"] or {}
    ref = e["reference"] or {}
    return (e["title"], e["alert_id"], e.get("expert", ""), beijing(e["published_at"]), e["window_hours"],
            b.get("items"), a.get("items"), b.get("reactions"), a.get("reactions"), _pct_number(e["change"]),
            _pct_number(doubt_share(b)), _pct_number(doubt_share(a)),
            STATUS_ZH[e["status"]] if e["status"] else "非单一事件", _pct_number(ref.get("change")), ref.get("n"),
            COMPARED_ZH.get(e["compared"]), e["since_items"], e["url"])


def effects_csv(effects: list[dict]) -> str:
    return csv_text(HEADER, [row(e) for e in effects])


def summary(effects: list[dict]) -> str:
    """One line for a period: how many clarifications, how many fell clearly, and beside the reference."""
    judged = [e for e in effects if e["status"] in (FELL_CODE, EASED_CODE, NOT_FALLEN)]
    if not effects:
        return "期内没有发布澄清稿。"
    text = f"期内发布澄清稿 {len(effects)} 篇，可评估 {len(judged)} 篇"
    if judged:
        text += (f"：发布后传播明显回落 {sum(e['status'] == FELL_CODE for e in judged)} 篇，"
                 f"有所回落 {sum(e['status'] == EASED_CODE for e in judged)} 篇，"
                 f"未见回落 {sum(e['status'] == NOT_FALLEN for e in judged)} 篇")
        compared = [e for e in judged if e["compared"]]
        if compared:
            text += f"；有对照的 {len(compared)} 篇中 {sum(e['compared'] == 'faster' for e in compared)} 篇回落快于未辟谣的预警事件"
    return text + "。"
