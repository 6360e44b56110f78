"""卫生健康纪念日 (宣传节点): the health observance days an office plans its publicity around, and
what the feed said of their topics.

Seed 001 (Jilin, 3): "利用中国医师节、世界卫生日、世界人口日等卫生健康纪念日及传统节日等时机，组织开展专题
报道、集中宣传"; seed 004 counts its 节日纪念日宣传活动 and its 爱国卫生月. A day is also a moment the
feed talks about its topic: what was said of it last time, and what was said now, is what the
office and its experts prepare for. Each day belongs to one of the 15 Healthy China actions (the
topics the items are classified in, rumourwatch.experts.TOPICS).

BUILT_IN holds the national days (fixed dates, the n-th weekday of a month, or a week or a month);
an office adds its own (a region's day, a city's 健康日) to the `health_days` table, changes one, and
removes one with its reason (kept, no longer shown). Audited.

    upcoming(db, today, threshold)    # the days in the next UPCOMING_DAYS, each with its topic's figures
    around(db, occurrence, threshold) # a day's window against the weeks before it
"""

from __future__ import annotations

import calendar
import json
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from . import store
from .alerts import WorkflowError
from .experts import TOPICS, expert_topics
from .records import CST, beijing, iso

UPCOMING_DAYS = 45      # the days the risk page and the monthly notice look ahead
WINDOW_DAYS = 3         # a day's window: from this many days before its first day to as many after its last
BASELINE_DAYS = 28      # … compared with the daily mean of the days before the window
RECENT_DAYS = 30        # an upcoming day's topic: what the feed said of it lately
NAME_MAX, NOTE_MAX, REASON_MAX = 40, 200, 200
MAX_SPAN = 31           # a local day lasts at most a month


@dataclass(frozen=True)
class HealthDay:
    name: str
    topic: str
    month: int
    day: int | None = None       # a fixed date, or
    weekday: int | None = None   # the nth such weekday (0 Monday) of the month (nth -1: the last)
    nth: int | None = None
    days: int = 1                # how many days it lasts (a week: 7; a month: 0, the whole month)
    id: int | None = None        # a local day's row; None for a national one
    note: str | None = None

    def first(self, year: int) -> date:
        if self.day is not None:
            return date(year, self.month, self.day)
        if self.days == 0 and self.weekday is None:
            return date(year, self.month, 1)
        weeks = calendar.monthcalendar(year, self.month)
        found = [w[self.weekday] for w in weeks if w[self.weekday]]
        return date(year, self.month, found[self.nth - 1] if self.nth > 0 else found[self.nth])

    def last(self, year: int) -> date:
        first = self.first(year)
        if self.days == 0:
            return date(year, self.month, calendar.monthrange(year, self.month)[1])
        return first + timedelta(days=self.days - 1)


def _fixed(name: str, topic: str, month: int, day: int, days: int = 1) -> HealthDay:
    return HealthDay(name, topic, month, day=day, days=days)


def _nth(name: str, topic: str, month: int, weekday: int, nth: int) -> HealthDay:
    return HealthDay(name, topic, month, weekday=weekday, nth=nth)


# The national health observance days the commissions' publicity follows, each under the Healthy
# China action its rumours and questions fall in.
BUILT_IN = (
    _nth("世界防治麻风病日", "传染病及地方病防控", 1, 6, -1),
    _fixed("世界癌症日", "癌症防治", 2, 4),
    _fixed("全国爱耳日", "健康知识普及", 3, 3),
    _fixed("世界睡眠日", "心理健康促进", 3, 21),
    _fixed("世界防治结核病日", "传染病及地方病防控", 3, 24),
    HealthDay("爱国卫生月", "健康环境促进", 4, days=0),
    _fixed("世界卫生日", "健康知识普及", 4, 7),
    _fixed("全国肿瘤防治宣传周", "癌症防治", 4, 15, days=7),
    _fixed("全国儿童预防接种日", "传染病及地方病防控", 4, 25),
    _fixed("《职业病防治法》宣传周", "职业健康保护", 4, 25, days=7),
    _nth("世界哮喘日", "慢性呼吸系统疾病防治", 5, 1, 1),
    _fixed("全国防治碘缺乏病日", "传染病及地方病防控", 5, 15),
    _fixed("世界高血压日", "心脑血管疾病防治", 5, 17),
    _fixed("中国学生营养日", "合理膳食", 5, 20),
    _fixed("世界无烟日", "控烟", 5, 31),
    _fixed("世界环境日", "健康环境促进", 6, 5),
    _fixed("全国爱眼日", "中小学健康促进", 6, 6),
    _fixed("世界人口日", "妇幼健康促进", 7, 11),
    _fixed("世界肝炎日", "传染病及地方病防控", 7, 28),
    _fixed("世界母乳喂养周", "妇幼健康促进", 8, 1, days=7),
    _fixed("全民健身日", "全民健身", 8, 8),
    _fixed("中国医师节", "健康知识普及", 8, 19),
    _fixed("全民健康生活方式日", "合理膳食", 9, 1),
    _fixed("世界预防自杀日", "心理健康促进", 9, 10),
    _fixed("全国爱牙日", "健康知识普及", 9, 20),
    _fixed("世界阿尔茨海默病日", "老年健康促进", 9, 21),
    _fixed("世界心脏日", "心脑血管疾病防治", 9, 29),
    _fixed("全国高血压日", "心脑血管疾病防治", 10, 8),
    _fixed("世界精神卫生日", "心理健康促进", 10, 10),
    _fixed("世界骨质疏松日", "老年健康促进", 10, 20),
    _fixed("世界卒中日", "心脑血管疾病防治", 10, 29),
    _fixed("联合国糖尿病日", "糖尿病防治", 11, 14),
    _nth("世界慢阻肺日", "慢性呼吸系统疾病防治", 11, 2, 3),
    _fixed("世界艾滋病日", "传染病及地方病防控", 12, 1),
)


def local_days(db) -> list[HealthDay]:
    """The office's own days (not removed), in calendar order."""
    if not store.has_tables(db, "health_days"):
        return []
    return [HealthDay(r["name"], r["topic"], r["month"], day=r["day"], days=r["days"], id=r["id"], note=r["note"])
            for r in store.list_health_days(db)]


def all_days(db) -> list[HealthDay]:
    """The national days and the office's own."""
    return [*BUILT_IN, *local_days(db)]


def occurrences(days: list[HealthDay], start: date, end: date) -> list[dict]:
    """Each day's occurrences that overlap [start, end] (inclusive), first day first: the day, its
    first and last date."""
    out = []
    for year in range(start.year - 1, end.year + 1):
        for d in days:
            first, last = d.first(year), d.last(year)
            if first <= end and last >= start:
                out.append({"day": d, "first": first, "last": last})
    return sorted(out, key=lambda o: (o["first"], o["day"].name))


def _bounds(first: date, last: date) -> tuple[str, str]:
    """[first, last] (Beijing days) as ISO (UTC) bounds [start, end)."""
    return store.day_range(first, (last - first).days + 1)


def daily_figures(db, first: date, last: date, threshold: float) -> dict[tuple[str, str], tuple[int, int]]:
    """{(Beijing day 'YYYY-MM-DD', topic): (health items, flagged ones)} for the days [first, last],
    in one read (ads and clarification publishers' posts left out, as the risk points count)."""
    return {(r["day"], r["topic"]): (r["items"], r["flagged"])
            for r in store.topic_day_counts(db, *_bounds(first, last), threshold)}


def _sum(daily: dict, topic: str, first: date, last: date) -> tuple[int, int]:
    items = flagged = 0
    for k in range((last - first).days + 1):
        n, f = daily.get(((first + timedelta(days=k)).isoformat(), topic), (0, 0))
        items, flagged = items + n, flagged + f
    return items, flagged


def window(occurrence: dict, until: date | None = None) -> tuple[date, date]:
    """The days a day's topic is read over: WINDOW_DAYS before its first day to as many after its
    last, or to `until` (the last whole day there is) when that comes first."""
    last = occurrence["last"] + timedelta(days=WINDOW_DAYS)
    return occurrence["first"] - timedelta(days=WINDOW_DAYS), min(last, until) if until else last


def around(db, occurrence: dict, threshold: float, daily: dict | None = None, until: date | None = None) -> dict:
    """What the feed said of a day's topic in its window (`window`; cut at `until`, so a window still
    running is read over its days so far), against the daily mean of the BASELINE_DAYS before:
    items, flagged, the change of the daily items in percent (None without items before). `daily`
    (`daily_figures`) must cover the baseline and the window when given."""
    first, last = window(occurrence, until)
    since = first - timedelta(days=BASELINE_DAYS)
    if daily is None:
        daily = daily_figures(db, since, last, threshold)
    topic = occurrence["day"].topic
    items, flagged = _sum(daily, topic, first, last)
    before, _ = _sum(daily, topic, since, first - timedelta(days=1))
    per_day, before_per_day = items / ((last - first).days + 1), before / BASELINE_DAYS
    change = round(100 * (per_day - before_per_day) / before_per_day) if before_per_day else None
    return {"items": items, "flagged": flagged, "window_first": first.isoformat(), "window_last": last.isoformat(),
            "change": change, "before_per_day": round(before_per_day, 1)}


def upcoming(db, today: date, threshold: float, horizon: int = UPCOMING_DAYS) -> list[dict]:
    """The days under way or beginning in the next `horizon` days, first first: name, topic, first
    and last date, days until it begins (0 while under way), local or national; its topic's health
    items and flagged ones in the last RECENT_DAYS; the flagged ones around the same day last year
    (its window; None before the store's first item); the active pool experts who speak to the
    topic; the clarifications published here on it."""
    days = all_days(db)
    experts = [e for e in store.list_experts(db) if e["active"]]
    earliest = store.earliest_published(db)
    first_day = date.fromisoformat(beijing(earliest, "%Y-%m-%d")) if earliest else None
    recent = {r["topic"]: r for r in store.topic_counts(db, *_bounds(today - timedelta(days=RECENT_DAYS - 1), today),
                                                         threshold)}  # (one read of the month, all topics)
    out = []
    for o in occurrences(days, today, today + timedelta(days=horizon)):
        d = o["day"]
        before = next(iter(occurrences([d], o["first"] - timedelta(days=366), o["first"] - timedelta(days=1))), None)
        last_year = around(db, before, threshold) if before and first_day and before["first"] >= first_day else None
        r = recent.get(d.topic, {})
        out.append({"name": d.name, "topic": d.topic, "first": o["first"].isoformat(), "last": o["last"].isoformat(),
                    "in_days": max((o["first"] - today).days, 0), "local": d.id is not None, "id": d.id,
                    "recent_items": r.get("items", 0), "recent_flagged": r.get("flagged", 0),
                    "last_year_flagged": last_year["flagged"] if last_year else None,
                    "experts": sum(1 for e in experts if d.topic in expert_topics(e)),
                    "clarifications": store.count_published_clarifications(db, d.topic)})
    return out


def starting_between(db, first: date, last: date) -> list[dict]:
    """The days that begin on Beijing days [first, last]: name, topic, first and last date."""
    return [{"name": o["day"].name, "topic": o["day"].topic, "first": o["first"].isoformat(),
             "last": o["last"].isoformat(), "occurrence": o}
            for o in occurrences(all_days(db), first, last) if first <= o["first"] <= last]


def held_between(db, first: date, last: date, threshold: float, until: date | None = None) -> list[dict]:
    """The days that began on Beijing days [first, last], each with its window's figures (`around`,
    cut at `until`, the last whole day there is), all read at once."""
    days = starting_between(db, first, last)
    if not days:
        return []
    spans = [window(d["occurrence"], until) for d in days]
    daily = daily_figures(db, min(a for a, _ in spans) - timedelta(days=BASELINE_DAYS), max(b for _, b in spans),
                          threshold)
    return [{k: v for k, v in d.items() if k != "occurrence"} | around(db, d["occurrence"], threshold, daily, until)
            for d in days]


# --- the reminder ----------------------------------------------------------------------------

REMIND_DAYS = 7  # the monitors are told this many days before a day begins
REMIND_KEY = "health_days_reminded"  # workflow_state: the occurrences told of (`_told`)


def _told(name: str, first: str) -> str:
    """An occurrence as the reminder keeps it: its name and first day ('YYYY-MM-DD')."""
    return f"{name}|{first}"


def remind_ahead(db, now: datetime, rules: dict, threshold: float = 0.5) -> list[dict]:
    """Tell the monitors' group bots and mailboxes, once, of each day that begins within REMIND_DAYS
    (Beijing), with what the feed said of its topic lately and a year before and the experts at
    hand, so the office prepares its science pieces and clarifications. Run by the worker's round
    and `rumourwatch alerts escalate`. Returns the days told of."""
    from .notify import queue_health_day

    today = now.astimezone(CST).date()
    told = set(json.loads(store.workflow_state(db, REMIND_KEY) or "[]"))
    due = {_told(o["day"].name, o["first"].isoformat())
           for o in occurrences(all_days(db), today + timedelta(days=1), today + timedelta(days=REMIND_DAYS))
           if o["first"] > today} - told
    if not due:  # (every round of the worker comes here: the figures are read only for a day to tell of)
        return []
    new = [d for d in upcoming(db, today, threshold, horizon=REMIND_DAYS) if _told(d["name"], d["first"]) in due]
    with store.transaction(db):
        for d in new:
            queue_health_day(db, d, rules, now)
        kept = {k for k in told if k.split("|")[-1] >= (today - timedelta(days=400)).isoformat()}
        store.set_workflow_state(db, REMIND_KEY, json.dumps(sorted(kept | {_told(d["name"], d["first"]) for d in new})))
    return new


# --- the office's own days -------------------------------------------------------------------

def _text(value, limit: int, field: str) -> str | None:
    text = (value or "").strip()
    if len(text) > limit:
        raise WorkflowError(f"the health day's {field} has {len(text)} characters; at most {limit}",
                            "healthday_text_long", day_field=field, n=len(text), max=limit)
    return text or None


def _checked(db, name, topic, month, day, days, note, own_id: int | None = None) -> dict:
    """A local day's fields as kept, or WorkflowError saying which is wrong (a name another day
    has, national or local but for `own_id`)."""
    name = _text(name, NAME_MAX, "name")
    if not name:
        raise WorkflowError("a health day needs its name", "healthday_name_missing")
    if any(d.name == name and (d.id is None or d.id != own_id) for d in all_days(db)):
        raise WorkflowError(f"a health day named {name!r} is already listed", "healthday_taken", name=name)
    if topic not in TOPICS:
        raise WorkflowError(f"{topic!r} is not one of the 15 Healthy China actions", "healthday_topic", value=topic)
    try:
        date(2025, month, day)  # a year without 29 February
    except (TypeError, ValueError):
        raise WorkflowError(f"{month}-{day} is not a date every year has", "healthday_date", month=month,
                            day=day) from None
    if not 1 <= days <= MAX_SPAN:
        raise WorkflowError(f"a health day lasts 1 to {MAX_SPAN} days, not {days}", "healthday_span", n=days,
                            max=MAX_SPAN)
    return {"name": name, "topic": topic, "month": month, "day": day, "days": days,
            "note": _text(note, NOTE_MAX, "note")}


def add(db, *, name: str, topic: str, month: int, day: int, days: int, actor: str, now: datetime,
        note: str | None = None) -> dict:
    """Add the office's own observance day (every year on month-day, lasting `days` days).
    WorkflowError, and nothing written, when the name is missing or taken, the topic not one of
    the 15, the date impossible (29 February is refused: it is not in every year) or the span
    not 1 to MAX_SPAN days."""
    fields = _checked(db, name, topic, month, day, days, note)
    at = iso(now)
    with store.transaction(db):
        day_id = store.insert_health_day(db, {**fields, "added_by": actor, "added_at": at})
        store.record_audit(db, actor, "healthday.add", "health_day", day_id,
                           {k: fields[k] for k in ("name", "topic", "month", "day", "days")}, at=at)
    return store.get_health_day(db, day_id)


def edit(db, day_id: int, *, name: str, topic: str, month: int, day: int, days: int, actor: str, now: datetime,
         note: str | None = None) -> dict:
    """Change the office's own day (its name, topic, date, span or note), checked as `add` checks
    a new one; audited with what changed (修改本地卫生健康纪念日). A day told of already is told again
    if its date moves (the reminder knows a day by its name and first day)."""
    found = store.get_health_day(db, day_id)
    if found is None or found["removed_at"]:
        raise WorkflowError(f"no health day #{day_id} of the office's own to change", "healthday_missing", id=day_id)
    fields = _checked(db, name, topic, month, day, days, note, own_id=day_id)
    changed = {k: [found[k], v] for k, v in fields.items() if found[k] != v}
    if not changed:
        return found
    at = iso(now)
    with store.transaction(db):
        store.update_health_day(db, day_id, **{k: v for k, (_, v) in changed.items()})
        store.record_audit(db, actor, "healthday.edit", "health_day", day_id, {"name": found["name"], "changed": changed},
                           at=at)
    return store.get_health_day(db, day_id)


def remove(db, day_id: int, *, reason: str, actor: str, now: datetime) -> dict:
    """Take the office's own day off the list (kept with the reason)."""
    found = store.get_health_day(db, day_id)
    if found is None or found["removed_at"]:
        raise WorkflowError(f"no health day #{day_id} of the office's own to remove", "healthday_missing", id=day_id)
    reason = _text(reason, REASON_MAX, "reason")
    if not reason:
        raise WorkflowError("removing a health day needs the reason", "healthday_reason_missing")
    at = iso(now)
    with store.transaction(db):
        store.update_health_day(db, day_id, removed_by=actor, removed_at=at, remove_reason=reason)
        store.record_audit(db, actor, "healthday.remove", "health_day", day_id,
                           {"name": found["name"], "reason": reason}, at=at)
    return store.get_health_day(db, day_id)
