"""新闻发布会: the office's register of the press conferences it held.

Seed 001 (Jilin): press conferences on major policies and important work (2), a press conference
within 24 hours of a sudden public-opinion event (6), 新闻发言人制度 (8). Seed 004 (Inner Mongolia):
"每月至少组织一场媒体活动，至少召开一次新闻发布会". The office records each conference — when, the
topic, the spokesperson, the media invited, a link to the release or recording — and one recorded
on an alert (its 24-hour step, `alerts.record_step`) is entered here by that step, so the register
holds them all. One recorded by mistake is removed with the reason (kept, no longer counted). The
reports count a period's conferences and say which months had none (MONTHLY_MINIMUM). Audited.
"""

from __future__ import annotations

from datetime import datetime, time

from . import store
from .alerts import WorkflowError
from .records import CST, beijing, iso

TOPIC_MAX = 100
TEXT_MAX = 200
NOTE_MAX = 1000
REASON_MAX = 200
MONTHLY_MINIMUM = 1  # seed 004: 每月……至少召开一次新闻发布会
_FUTURE_TOLERANCE_S = 300.0


def _text(value, limit: int, field: str) -> str | None:
    text = (value or "").strip()
    if len(text) > limit:
        raise WorkflowError(f"the press conference's {field} has {len(text)} characters; at most {limit}",
                            "press_text_long", press_field=field, n=len(text), max=limit)
    return text or None


def record(db, *, held_at: datetime, topic: str, actor: str, now: datetime, spokesperson: str | None = None,
           media: str | None = None, url: str | None = None, note: str | None = None,
           alert_id: int | None = None) -> dict:
    """Record a press conference held at `held_at` (not ahead of now). WorkflowError, and nothing
    written, when the topic is missing, a text too long, the link not a web address or the time
    ahead. Returns the stored conference."""
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
        conference_id = _insert(db, held_at=held_at, topic=topic, actor=actor, now=now, alert_id=alert_id, **fields)
    return store.get_press_conference(db, conference_id)


def _insert(db, *, held_at: datetime, topic: str, actor: str, now: datetime, alert_id: int | None = None,
            **fields) -> int:
    """Store one conference and its audit entry, inside the caller's transaction (an alert's
    conference step enters its conference with it)."""
    at = iso(now)
    conference_id = store.insert_press_conference(db, {"held_at": iso(held_at), "topic": topic, "alert_id": alert_id,
                                                       "recorded_by": actor, "recorded_at": at, **fields})
    store.record_audit(db, actor, "press.record", "press_conference", conference_id,
                       {"held_at": iso(held_at), "topic": topic, "alert_id": alert_id}, at=at)
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
    """The conferences held in [start, end) (ISO): how many, those on an alert, the spokespersons
    (most conferences first), and `months` ('2026-11') in which none was held."""
    held = store.list_press_conferences(db, start=start, end=end, limit=100_000)
    speakers: dict[str, int] = {}
    for c in held:
        if c["spokesperson"]:
            speakers[c["spokesperson"]] = speakers.get(c["spokesperson"], 0) + 1
    in_month = {beijing(c["held_at"], "%Y-%m") for c in held}
    return {"held": len(held), "on_alerts": sum(1 for c in held if c["alert_id"]),
            "spokespersons": sorted(speakers, key=lambda k: (-speakers[k], k)),
            "months_without": [m for m in months if m not in in_month], "minimum": MONTHLY_MINIMUM}


def day_time(day, clock: time) -> datetime:
    """A Beijing day and time as a datetime (the page's date and time pickers)."""
    return datetime.combine(day, clock, tzinfo=CST)
