"""信息报送: the units' information submissions (seed 002 §四(四)).

"原则上各县（市、区）卫体局、委直属各单位每月报送信息不少于4条", with a monthly notice (月通报) that
ranks them. Each registered unit (`units`) has one or more correspondents (通讯员: the role
`correspondent`, tied to the unit) who submit what the unit has to report:

- 舆情信息 (`opinion`): a claim or public feeling about health seen locally (a WeChat group, a
  hospital's waiting room, a local account). Its content is also filed in the feed as an item, as a
  hotline tip is, so the models score it and it is checked against the published clarifications at
  once, and a story already in the feed gathers it;
- 工作动态 (`work`): the unit's work (a campaign, a clarification given locally, a training);
- 健康科普 (`science`): a health science piece the unit wrote or published.

The office (monitors, administrators) adopts each (采用, saying where it used it: the daily report,
the website, a channel) or declines it with the reason, which the unit reads. A submission counts in
the month it was submitted, adopted or not (the rule counts what was reported); one withdrawn by the
unit before a decision does not count. Every step is audited.
"""

from __future__ import annotations

import json
from datetime import datetime, timedelta

from . import ingest, store
from .alerts import WorkflowError
from .records import CST, iso
from .reports import parse_month

KINDS = ("opinion", "work", "science")
COUNTED = ("submitted", "adopted", "declined")  # what the monthly minimum counts (not the withdrawn)
PLATFORM = "单位报送"  # the platform of an opinion submission's item when no platform is given
TITLE_MAX = 80
CONTENT_MAX = 5000
NOTE_MAX = 500
ADOPTED_IN_MAX = 40
# where an adopted piece was used: suggestions only, any text is accepted
ADOPTED_IN = ("舆情日报", "舆情周报", "月通报", "官方网站", "微信公众号", "上报上级", "其他")
_FUTURE_TOLERANCE_S = 300.0


def _text(value, limit: int, field: str) -> str | None:
    """`value` stripped (None when empty: the callers say which fields are required); WorkflowError
    over `limit` characters, naming the `field`."""
    text = (value or "").strip()
    if len(text) > limit:
        raise WorkflowError(f"the submission's {field} has {len(text)} characters; at most {limit}",
                            "submission_text_long", submission_field=field, n=len(text), max=limit)
    return text or None


def _unit(db, unit_id) -> dict:
    unit = store.get_unit(db, unit_id) if unit_id is not None else None
    if unit is None:
        raise WorkflowError(f"unit {unit_id!r} is not registered (`rumourwatch report import-units`)",
                            "submission_no_unit", unit=unit_id)
    if not unit["active"]:
        raise WorkflowError(f"unit {unit['name']} is no longer active", "submission_unit_inactive",
                            unit=unit["name"])
    return unit


def submit(db, *, unit_id: int, kind: str, title: str, content: str, actor: str, now: datetime,
           url: str | None = None, platform: str | None = None, occurred_at: datetime | None = None) -> dict:
    """Record one submission of `unit_id` by `actor` (a correspondent of the unit, or the office
    entering one received by mail). WorkflowError, and nothing written, when a field is missing, too
    long, the link is not a web address, the time lies ahead or the unit is unknown or inactive.
    Returns the stored submission (with `item_id` for 舆情信息)."""
    if kind not in KINDS:
        raise WorkflowError(f"unknown submission kind {kind!r}; one of {', '.join(KINDS)}", "submission_kind",
                            value=kind)
    unit = _unit(db, unit_id)
    title = _text(title, TITLE_MAX, "title")
    if not title:
        raise WorkflowError("a submission needs its title", "submission_title_missing")
    content = _text(content, CONTENT_MAX, "content")
    if not content:
        raise WorkflowError("a submission needs its content", "submission_content_missing")
    url = (url or "").strip() or None
    if url and not url.lower().startswith(("http://", "https://")):
        raise WorkflowError(f"the link {url!r} is not a web address (http:// or https://)", "submission_url",
                            value=url)
    if occurred_at is not None and (occurred_at - now).total_seconds() > _FUTURE_TOLERANCE_S:
        raise WorkflowError(f"the submission's time {iso(occurred_at)} is in the future", "submission_future",
                            at=occurred_at.astimezone(CST).strftime("%Y-%m-%d %H:%M"))
    platform = (platform or "").strip() or None
    item = None
    if kind == "opinion":  # filed as an item (RecordError for content the feed refuses, before any write)
        item = ingest.normalise_item({"title": title, "text": content, "url": url,
                                      "platform": platform or PLATFORM, "account": unit["name"],
                                      "date": iso(occurred_at) if occurred_at else None},
                                     f"unit:{unit['code']}", now)
    at = iso(now)
    with store.transaction(db):
        item_id = None
        if item is not None:
            ingest.ingest_item(db, item, f"unit:{unit['code']}", now)
            item_id = store.find_item(db, item.row["platform"], item.row["external_id"])["id"]
        sid = store.insert_submission(db, {
            "unit_id": unit["id"], "kind": kind, "title": title, "content": content, "url": url,
            "platform": platform, "occurred_at": iso(occurred_at) if occurred_at else None,
            "submitted_by": actor, "submitted_at": at, "status": "submitted", "item_id": item_id})
        store.record_audit(db, actor, "submission.submit", "submission", sid,
                           {"unit": unit["name"], "kind": kind, "item_id": item_id}, at=at)
    return store.get_submission(db, sid)


def _pending(db, submission_id: int) -> dict:
    found = store.get_submission(db, submission_id)
    if found is None:
        raise WorkflowError(f"no submission #{submission_id}", "submission_missing", id=submission_id)
    if found["status"] != "submitted":
        raise WorkflowError(f"submission #{submission_id} is {found['status']} already; only one awaiting a "
                            f"decision can change", "submission_decided", id=submission_id,
                            submission_status=found["status"])
    return found


def withdraw(db, submission_id: int, *, actor: str, unit_id: int | None, now: datetime) -> dict:
    """The unit takes back a submission not yet decided (a mistake, a duplicate): it no longer counts.
    `unit_id` is the actor's unit (None: the office, who may withdraw any)."""
    found = _pending(db, submission_id)
    if unit_id is not None and found["unit_id"] != unit_id:
        raise WorkflowError(f"submission #{submission_id} is another unit's", "submission_other_unit",
                            id=submission_id)
    at = iso(now)
    with store.transaction(db):
        store.update_submission(db, submission_id, status="withdrawn", decided_by=actor, decided_at=at)
        store.record_audit(db, actor, "submission.withdraw", "submission", submission_id,
                           {"unit": found["unit_name"]}, at=at)
    return store.get_submission(db, submission_id)


def decide(db, submission_id: int, *, adopt: bool, actor: str, now: datetime, adopted_in: str | None = None,
           note: str | None = None) -> dict:
    """The office adopts a submission (saying where it used it) or declines it (saying why: the unit
    reads it). Only a submission awaiting a decision can be decided."""
    found = _pending(db, submission_id)
    note = _text(note, NOTE_MAX, "note")
    if not adopt and not note:
        raise WorkflowError("declining a submission needs the reason, which the unit reads", "submission_note_missing")
    adopted_in = _text(adopted_in, ADOPTED_IN_MAX, "adopted_in") if adopt else None
    at = iso(now)
    status = "adopted" if adopt else "declined"
    with store.transaction(db):
        store.update_submission(db, submission_id, status=status, decided_by=actor, decided_at=at,
                                adopted_in=adopted_in, decision_note=note)
        store.record_audit(db, actor, "submission.adopt" if adopt else "submission.decline", "submission",
                           submission_id, {"unit": found["unit_name"], "adopted_in": adopted_in, "note": note},
                           at=at)
    return store.get_submission(db, submission_id)


def month_bounds(month: str) -> tuple[str, str]:
    """'2026-11' -> the ISO (UTC) bounds of that China-time month."""
    period = parse_month(month)
    return period.start, period.end


def units_month(db, units: list[dict], month: str, default_minimum: int) -> dict[int, dict]:
    """Each unit's month, as the monthly notice judges it: how many pieces it submitted (counted:
    not withdrawn), adopted, declined, still awaiting a decision, the clarifications its experts
    published (an expert's institution is the unit's name), the two together (`counted`) and
    the minimum it must reach (the unit's own, else `default_minimum`). {unit id: month}."""
    start, end = month_bounds(month)
    counts = store.submission_counts(db, start, end)
    published: dict[str, int] = {}
    if store.has_tables(db, "clarifications", "alerts", "experts"):
        for c in store.report_clarifications(db, start, end):
            if c["institution"]:
                published[c["institution"]] = published.get(c["institution"], 0) + 1
    out = {}
    for unit in units:
        mine = counts.get(unit["id"], {})
        minimum = unit["monthly_minimum"] if unit.get("monthly_minimum") is not None else default_minimum
        submitted = sum(mine.get(s, 0) for s in COUNTED)
        counted = submitted + published.get(unit["name"], 0)
        out[unit["id"]] = {"month": month, "submitted": submitted, "adopted": mine.get("adopted", 0),
                           "declined": mine.get("declined", 0), "pending": mine.get("submitted", 0),
                           "withdrawn": mine.get("withdrawn", 0), "clarifications": published.get(unit["name"], 0),
                           "counted": counted, "minimum": minimum, "met": counted >= minimum}
    return out


def unit_month(db, unit: dict, month: str, default_minimum: int) -> dict:
    """One unit's month (`units_month`)."""
    return units_month(db, [unit], month, default_minimum)[unit["id"]]


def current_month(now: datetime) -> str:
    return now.astimezone(CST).strftime("%Y-%m")


def days_left(now: datetime) -> int:
    """The days left in the China-time month of `now`, today included."""
    today = now.astimezone(CST).date()
    return ((today.replace(day=28) + timedelta(days=4)).replace(day=1) - today).days


REMIND_DAYS = 3  # the units still short are mailed once when this many days of the month are left
REMIND_KEY = "unit_reminders:{month}"  # workflow_state: the units reminded that month


def remind_short_units(db, now: datetime, rules: dict, default_minimum: int = 4) -> list[dict]:
    """催报: once a month, in its last REMIND_DAYS days (Beijing time), mail each active unit with a
    mailbox that has not yet reached its minimum (as the monthly notice will count it): what it has,
    what is missing, the days left. Run by the worker's round and `rumourwatch alerts escalate`.
    Returns the units reminded."""
    from .notify import queue_unit_reminder

    left = days_left(now)
    if left > REMIND_DAYS:
        return []
    month = current_month(now)
    key = REMIND_KEY.format(month=month)
    done = set(json.loads(store.workflow_state(db, key) or "[]"))
    units = [u for u in store.list_units(db) if u.get("email") and u["id"] not in done]
    if not units:
        return []
    reminded = []
    with store.transaction(db):
        for unit in units:
            m = units_month(db, [unit], month, default_minimum)[unit["id"]]
            done.add(unit["id"])
            if m["met"]:
                continue
            queue_unit_reminder(db, unit, m, left, rules, now)
            store.record_audit(db, "system", "submission.remind", "unit", unit["code"],
                               {"month": month, "counted": m["counted"], "minimum": m["minimum"]}, at=iso(now))
            reminded.append({"unit": unit["name"], "counted": m["counted"], "minimum": m["minimum"]})
        store.set_workflow_state(db, key, json.dumps(sorted(done)))
    return reminded
