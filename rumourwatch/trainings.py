"""通讯员培训: the trainings the office holds for the units' correspondents (seed 002 §四(四):
"常态化举办卫健系统通讯员培训，原则上每半年开展一次").

The office (monitors, administrators) records each training held — the day, a title, the units whose
correspondents took part, how many people (人次) when counted, a note — and removes one recorded by
mistake (kept, with the reason, no longer counted). The rule is read by calendar half-year, as an
office's half-year and annual summaries count their work: at least one training in 上半年 (January to
June) and one in 下半年 (July to December). The page says whether this half has had its training and
how many days are left; 系统自检 warns in a half's last DUE_WARN_DAYS days while none was held; the
monthly, quarterly and annual reports list the trainings of their period and judge the halves they
cover. Every step is audited.

专家培训 (seed 001, 18: "采取有效方式开展业务培训，提升科普专家的创作能力和应用新媒体技术传播科普知识的
能力"; 15: the pool's dynamic management) are recorded the same way with `audience="experts"`, naming
the pool's experts who took part: the 专家库 page lists them, each expert's last training shows in
the roster and on their workbench, 专家履职情况 counts them, and the reports' experts section says a
period's. No minimum is set for them, so nothing is judged.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta

from . import store
from .alerts import WorkflowError
from .records import CST, iso

TITLE_MAX = 80
NOTE_MAX = 1000
REASON_MAX = 200
ATTENDEES_MAX = 100_000
DUE_WARN_DAYS = 60  # 系统自检 warns this many days before a half-year ends without a training


def half_of(day: date) -> tuple[int, int]:
    """(year, 1) for January–June, (year, 2) for July–December."""
    return day.year, 1 if day.month <= 6 else 2


def half_bounds(year: int, half: int) -> tuple[date, date]:
    """The first day of the half-year and the first day after it."""
    return (date(year, 1, 1), date(year, 7, 1)) if half == 1 else (date(year, 7, 1), date(year + 1, 1, 1))


def _text(value, limit: int, field: str) -> str | None:
    text = (value or "").strip()
    if len(text) > limit:
        raise WorkflowError(f"the training's {field} has {len(text)} characters; at most {limit}",
                            "training_text_long", training_field=field, n=len(text), max=limit)
    return text or None


AUDIENCES = ("correspondents", "experts")


def record(db, *, held_on: date, title: str, actor: str, now: datetime, unit_ids: list[int] | None = None,
           attendees: int | None = None, note: str | None = None, audience: str = "correspondents",
           expert_ids: list[int] | None = None) -> dict:
    """Record a training held on `held_on` (a Beijing day, not after today) for the correspondents of
    `unit_ids` (registered, active; at least one), or, `audience="experts"`, for the pool's experts
    `expert_ids` (in the pool; at least one). WorkflowError, and nothing written, when the title is
    missing, a text too long, the day ahead, no unit (expert) or an unknown or inactive one, or the
    number of people not a count. Returns the stored training."""
    if audience not in AUDIENCES:
        raise ValueError(f"a training is for {' or '.join(AUDIENCES)}, not {audience!r}")
    title = _text(title, TITLE_MAX, "title")
    if not title:
        raise WorkflowError("a training needs its title", "training_title_missing")
    note = _text(note, NOTE_MAX, "note")
    today = now.astimezone(CST).date()
    if held_on > today:
        raise WorkflowError(f"the training's day {held_on} is after today; record a training once held",
                            "training_future", day=held_on.isoformat())
    if attendees is not None and not 0 < attendees <= ATTENDEES_MAX:
        raise WorkflowError(f"{attendees} people trained is not a count (1 to {ATTENDEES_MAX})",
                            "training_attendees", value=attendees, max=ATTENDEES_MAX)
    ids = _units(db, unit_ids) if audience == "correspondents" else []
    experts = _experts(db, expert_ids) if audience == "experts" else []
    at = iso(now)
    with store.transaction(db):
        training_id = store.insert_training(db, {
            "held_on": held_on.isoformat(), "title": title, "attendees": attendees, "note": note,
            "audience": audience, "recorded_by": actor, "recorded_at": at}, ids, experts)
        store.record_audit(db, actor, "training.record", "training", training_id,
                           {"held_on": held_on.isoformat(), "title": title, "audience": audience,
                            "units" if audience == "correspondents" else "experts": len(ids or experts),
                            "attendees": attendees}, at=at)
    return store.get_training(db, training_id)


def _units(db, unit_ids: list[int] | None) -> list[int]:
    ids = list(dict.fromkeys(unit_ids or []))
    if not ids:
        raise WorkflowError("a training needs the units whose correspondents took part", "training_no_units")
    units = {u["id"]: u for u in store.list_units(db, active_only=False)}
    for unit_id in ids:
        unit = units.get(unit_id)
        if unit is None or not unit["active"]:
            raise WorkflowError(f"unit {unit_id!r} is not a registered active unit", "training_unit",
                                unit=unit["name"] if unit else unit_id)
    return ids


def _experts(db, expert_ids: list[int] | None) -> list[int]:
    ids = list(dict.fromkeys(expert_ids or []))
    if not ids:
        raise WorkflowError("an experts' training needs the experts who took part", "training_no_experts")
    pool = {e["id"]: e for e in store.list_experts(db)}
    for expert_id in ids:
        expert = pool.get(expert_id)
        if expert is None or not expert["active"]:
            raise WorkflowError(f"expert {expert_id!r} is not in the pool", "training_expert",
                                expert=expert["name"] if expert else expert_id)
    return ids


def remove(db, training_id: int, *, reason: str, actor: str, now: datetime) -> dict:
    """Take back a training recorded by mistake (kept with the reason; no longer counted)."""
    found = store.get_training(db, training_id)
    if found is None or found["removed_at"]:
        raise WorkflowError(f"no training #{training_id} to remove", "training_missing", id=training_id)
    reason = _text(reason, REASON_MAX, "reason")
    if not reason:
        raise WorkflowError("removing a training needs the reason", "training_reason_missing")
    at = iso(now)
    with store.transaction(db):
        store.update_training(db, training_id, removed_by=actor, removed_at=at, remove_reason=reason)
        store.record_audit(db, actor, "training.remove", "training", training_id,
                           {"held_on": found["held_on"], "title": found["title"], "reason": reason}, at=at)
    return store.get_training(db, training_id)


def halves(db, first: date, end: date) -> list[dict]:
    """The half-years touching the days [first, end), each with the trainings (not removed) held in
    it: year, half, start, end (dates), trainings (the latest first), held (how many)."""
    out = []
    year, half = half_of(first)
    while True:
        start, stop = half_bounds(year, half)
        if start >= end:
            return out
        held = store.list_trainings(db, start=start.isoformat(), end=stop.isoformat())
        out.append({"year": year, "half": half, "start": start, "end": stop, "trainings": held, "held": len(held)})
        year, half = (year, 2) if half == 1 else (year + 1, 1)


def half_status(db, now: datetime) -> dict:
    """This half-year (Beijing): year, half, trainings held, days left (today included), and
    `due_soon` — none held yet with DUE_WARN_DAYS days or fewer left."""
    today = now.astimezone(CST).date()
    this = halves(db, today, today + timedelta(days=1))[0]
    left = (this["end"] - today).days
    return {**this, "days_left": left, "due_soon": not this["held"] and left <= DUE_WARN_DAYS}
