"""新闻发布与媒体活动: the office's register of its press conferences and media activities.

Seed 001 (Jilin): press conferences on major policies and important work (2), a press conference
within 24 hours of a sudden public-opinion event (6), 新闻发言人制度 (8). Seed 004 (Inner Mongolia):
"每月至少组织一场媒体活动，至少召开一次新闻发布会，每年至少参加一次自治区卫生健康委组织的新闻发布活动".
The office records each one (KINDS: its own conference, a media activity it organised — a media
open day, a group interview, a live programme —, its part in a press event the higher commission
held, or a training in press work and media literacy for its staff and leaders, seed 001 9) —
when, the topic, the spokesperson or who took part, the media, a link to the release or
recording — and a conference recorded on an alert (its 24-hour step, `alerts.record_step`) is
entered here by that step, so the register holds them all. One recorded by mistake is removed with
the reason (kept, no longer counted). The reports count a period's entries of each kind and judge
them against MINIMUMS (the trainings have none); 系统自检 warns near a period's end (`due`). Audited.
"""

from __future__ import annotations

from datetime import datetime, time, timedelta

from . import store
from .alerts import WorkflowError
from .records import CST, beijing, iso

TOPIC_MAX = 100
TEXT_MAX = 200
NOTE_MAX = 1000
REASON_MAX = 200
KINDS = ("conference", "media_event", "upper_event", "training")
# seed 004: each kind's minimum, and the period it is counted in
MINIMUMS = {"conference": ("month", 1),    # 每月……至少召开一次新闻发布会
            "media_event": ("month", 1),   # 每月至少组织一场媒体活动
            "upper_event": ("year", 1)}    # 每年至少参加一次（上级）卫生健康委组织的新闻发布活动
MONTHLY_MINIMUM = MINIMUMS["conference"][1]
KIND_ZH = {"conference": "新闻发布会", "media_event": "媒体活动", "upper_event": "参加上级新闻发布活动",
           "training": "新闻发布业务培训"}  # seed 001, 9: 新闻发布和新闻采访等业务培训, 领导干部媒体素养 (no minimum)
RULE_ZH = {"conference": "每月至少召开 {n} 次新闻发布会", "media_event": "每月至少组织 {n} 场媒体活动",
           "upper_event": "每年至少参加 {n} 次上级卫生健康委组织的新闻发布活动"}
DUE_WARN_DAYS = {"month": 7, "year": 61}  # 系统自检 warns this close to the period's end while none is held
_FUTURE_TOLERANCE_S = 300.0


def _text(value, limit: int, field: str) -> str | None:
    text = (value or "").strip()
    if len(text) > limit:
        raise WorkflowError(f"the press conference's {field} has {len(text)} characters; at most {limit}",
                            "press_text_long", press_field=field, n=len(text), max=limit)
    return text or None


def record(db, *, held_at: datetime, topic: str, actor: str, now: datetime, spokesperson: str | None = None,
           media: str | None = None, url: str | None = None, note: str | None = None,
           alert_id: int | None = None, kind: str = "conference") -> dict:
    """Record a press conference (or another of KINDS) held at `held_at` (not ahead of now).
    WorkflowError, and nothing written, when the kind is unknown, the topic missing, a text too
    long, the link not a web address or the time ahead. Returns the stored entry."""
    if kind not in KINDS:
        raise WorkflowError(f"{kind!r} is not a kind of press work ({', '.join(KINDS)})", "press_kind", value=kind)
    topic = _text(topic, TOPIC_MAX, "topic")
    if not topic:
        raise WorkflowError("a press conference needs its topic", "press_topic_missing")
    fields = {"spokesperson": _text(spokesperson, TEXT_MAX, "spokesperson"), "media": _text(media, TEXT_MAX, "media"),
              "url": _text(url, TEXT_MAX, "url"), "note": _text(note, NOTE_MAX, "note")}
    if fields["url"] and not fields["url"].lower().startswith(("http://", "https://")):
        raise WorkflowError(f"the link {fields['url']!r} is not a web address (http:// or https://)", "press_url",
                            value=fields["url"])
    if (held_at - now).total_seconds() > _FUTURE_TOLERANCE_S:
        raise WorkflowError(f"the press conference's time {iso(held_at)} is ahead; record one once held",
                            "press_future", at=held_at.astimezone(CST).strftime("%Y-%m-%d %H:%M"))
    with store.transaction(db):
        conference_id = _insert(db, held_at=held_at, topic=topic, actor=actor, now=now, alert_id=alert_id, kind=kind,
                                **fields)
    return store.get_press_conference(db, conference_id)


def _insert(db, *, held_at: datetime, topic: str, actor: str, now: datetime, alert_id: int | None = None,
            kind: str = "conference", **fields) -> int:
    """Store one entry and its audit entry, inside the caller's transaction (an alert's
    conference step enters its conference with it)."""
    at = iso(now)
    conference_id = store.insert_press_conference(db, {"held_at": iso(held_at), "topic": topic, "alert_id": alert_id,
                                                       "kind": kind, "recorded_by": actor, "recorded_at": at, **fields})
    store.record_audit(db, actor, "press.record", "press_conference", conference_id,
                       {"held_at": iso(held_at), "kind": kind, "topic": topic, "alert_id": alert_id}, at=at)
    return conference_id


def remove(db, conference_id: int, *, reason: str, actor: str, now: datetime) -> dict:
    """Take back a conference recorded by mistake (kept with the reason; no longer counted)."""
    found = store.get_press_conference(db, conference_id)
    if found is None or found["removed_at"]:
        raise WorkflowError(f"no press conference #{conference_id} to remove", "press_missing", id=conference_id)
    reason = _text(reason, REASON_MAX, "reason")
    if not reason:
        raise WorkflowError("removing a press conference needs the reason", "press_reason_missing")
    at = iso(now)
    with store.transaction(db):
        store.update_press_conference(db, conference_id, removed_by=actor, removed_at=at, remove_reason=reason)
        store.record_audit(db, actor, "press.remove", "press_conference", conference_id,
                           {"topic": found["topic"], "reason": reason}, at=at)
    return store.get_press_conference(db, conference_id)


def summary(db, start: str, end: str, months: list[str]) -> dict:
    """The register's entries held in [start, end) (ISO). Its conferences: how many, those on an
    alert, the spokespersons (most conferences first), the `months` ('2026-11') in which none was
    held, the monthly minimum; "media": the media activities, likewise; "upper": the higher
    commission's events taken part in, and the yearly minimum; "training": the trainings in press
    work held."""
    held = store.list_press_conferences(db, start=start, end=end, limit=100_000)
    by_kind = {k: [c for c in held if c["kind"] == k] for k in KINDS}
    conferences = by_kind["conference"]
    speakers: dict[str, int] = {}
    for c in conferences:
        if c["spokesperson"]:
            speakers[c["spokesperson"]] = speakers.get(c["spokesperson"], 0) + 1
    return {"held": len(conferences), "on_alerts": sum(1 for c in conferences if c["alert_id"]),
            "spokespersons": sorted(speakers, key=lambda k: (-speakers[k], k)),
            "months_without": _months_without(conferences, months), "minimum": MINIMUMS["conference"][1],
            "media": {"held": len(by_kind["media_event"]), "minimum": MINIMUMS["media_event"][1],
                      "months_without": _months_without(by_kind["media_event"], months)},
            "upper": {"held": len(by_kind["upper_event"]), "minimum": MINIMUMS["upper_event"][1]},
            "training": {"held": len(by_kind["training"])}}


def _months_without(held: list[dict], months: list[str]) -> list[str]:
    in_month = {beijing(c["held_at"], "%Y-%m") for c in held}
    return [m for m in months if m not in in_month]


def due(db, now: datetime) -> list[dict]:
    """The kinds still missing their minimum this month (or year, Beijing) with DUE_WARN_DAYS or
    fewer days of it left: kind, its period ("month" or "year"), days left (today included), held,
    the rule in Chinese."""
    today = now.astimezone(CST).date()
    out = []
    for kind, (per, minimum) in MINIMUMS.items():
        first = today.replace(day=1) if per == "month" else today.replace(month=1, day=1)
        after = (first + timedelta(days=32)).replace(day=1) if per == "month" else first.replace(year=first.year + 1)
        left = (after - today).days
        start, end = store.day_range(first, (after - first).days)
        held = len(store.list_press_conferences(db, start=start, end=end, kind=kind))
        if held < minimum and left <= DUE_WARN_DAYS[per]:
            out.append({"kind": kind, "period": per, "days_left": left, "held": held,
                        "rule": RULE_ZH[kind].format(n=minimum)})
    return out


def day_time(day, clock: time) -> datetime:
    """A Beijing day and time as a datetime (the page's date and time pickers)."""
    return datetime.combine(day, clock, tzinfo=CST)
