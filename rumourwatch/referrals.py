"""交办属地单位: an alert's event handed to the unit where it happened (seed 001 item 5: 属地管理、分级负责、
谁主管谁负责).

A monitor refers an open alert to a registered unit (the county bureau, the hospital the story names)
with what it is asked to do — check the facts, explain to the people concerned, report what it found
— and a time to report back by, so the release inside the 5-hour clock can say what is true. The
unit's correspondent is told on any page and sees it on 信息报送, the unit's mailbox (units.email) is
mailed, and the reply joins the alert's steps. A referral not answered by its time shows as overdue to
both sides and is chased once (alerts.escalate_overdue: the monitors and the unit's mailbox). Every
step is audited and is a step of the alert.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from . import store
from .alerts import WorkflowError
from .records import iso

REQUEST_MAX = 500
REPLY_MAX = 2000
HOURS = (2, 4, 12, 24, 48, 72)  # the times to report back by a monitor chooses from
# a referral's state (`state`) as the pages, the special report and the ledger name it
STATE_ZH = {"waiting": "待反馈", "overdue": "超时未反馈", "replied": "已反馈", "replied_late": "超时反馈",
            "withdrawn": "已撤回"}


def default_hours(severity: str) -> int:
    """一级 and 二级 events need the unit's facts before the 5-hour release; a 三级 one, within a day."""
    return 4 if severity in ("一级", "二级") else 24


def _check_text(value, limit: int, what: str) -> str:
    """`value` stripped (empty when none: the callers refuse it with their own words); WorkflowError
    over `limit` characters."""
    text = (value or "").strip()
    if len(text) > limit:
        raise WorkflowError(f"the referral's {what} has {len(text)} characters; at most {limit}",
                            "referral_text_long", n=len(text), max=limit)
    return text


def refer(db, alert_id: int, unit_id: int, request: str, *, actor: str, now: datetime, hours: float = 24,
          rules: dict | None = None) -> dict:
    """Hand an open alert to a unit, to report back within `hours`, and mail the unit when it has a
    mailbox (`rules`: the alert rules' notify settings; read from the rules file when None).
    WorkflowError, and nothing written, for a closed or unknown alert, an unknown or inactive unit, an
    empty request, or a referral of this alert to this unit still awaiting its reply."""
    from . import notify
    from .alerts import load_rules

    alert = store.get_alert(db, alert_id)
    if alert is None:
        raise WorkflowError(f"alert {alert_id} does not exist", "no_alert", id=alert_id)
    if alert["status"] not in store.WORKFLOW_OPEN_STATUSES:
        raise WorkflowError(f"alert {alert_id} is {alert['status']}; only an open alert can be referred",
                            "referral_alert_closed", id=alert_id, alert_status=alert["status"])
    unit = store.get_unit(db, unit_id)
    if unit is None or not unit["active"]:
        raise WorkflowError(f"unit {unit_id!r} is not an active registered unit", "referral_unit", unit=unit_id)
    request = _check_text(request, REQUEST_MAX, "request")
    if not request:
        raise WorkflowError("a referral needs what the unit is asked to do", "referral_request_missing")
    if not 0 < float(hours) <= 24 * 7:
        raise WorkflowError(f"{hours} hours to reply is not between 0 and a week", "referral_hours", hours=hours)
    waiting = store.list_referrals(db, alert_id=alert_id, unit_id=unit["id"], status="referred")
    if waiting:
        raise WorkflowError(f"alert {alert_id} waits on {unit['name']}'s reply to referral #{waiting[0]['id']}",
                            "referral_waiting", id=waiting[0]["id"], unit=unit["name"])
    at, due = iso(now), iso(now + timedelta(hours=float(hours)))
    with store.transaction(db):
        rid = store.insert_referral(db, {"alert_id": alert_id, "unit_id": unit["id"], "request": request,
                                         "referred_by": actor, "referred_at": at, "due_at": due,
                                         "status": "referred"})
        store.add_alert_step(db, alert_id, "referred", at, actor, f"{unit['name']}：{request}")
        store.record_audit(db, actor, "alert.refer", "alert", alert_id,
                           {"referral": rid, "unit": unit["name"], "due_at": due}, at=at)
        made = store.get_referral(db, rid)
        notify.queue_referral(db, alert, made, rules or load_rules(), now)
    return made


def _waiting(db, referral_id: int) -> dict:
    found = store.get_referral(db, referral_id)
    if found is None:
        raise WorkflowError(f"no referral #{referral_id}", "referral_missing", id=referral_id)
    if found["status"] != "referred":
        raise WorkflowError(f"referral #{referral_id} is {found['status']} already", "referral_done",
                            id=referral_id, referral_status=found["status"])
    return found


def reply(db, referral_id: int, text: str, *, actor: str, now: datetime, unit_id: int | None) -> dict:
    """The unit reports what it found and did. `unit_id`: the actor's unit (None: the office, entering
    a reply the unit gave by telephone)."""
    found = _waiting(db, referral_id)
    if unit_id is not None and found["unit_id"] != unit_id:
        raise WorkflowError(f"referral #{referral_id} is another unit's", "referral_other_unit", id=referral_id)
    text = _check_text(text, REPLY_MAX, "reply")
    if not text:
        raise WorkflowError("a reply needs what the unit found and did", "referral_reply_missing")
    at = iso(now)
    late = at > found["due_at"]
    with store.transaction(db):
        store.update_referral(db, referral_id, status="replied", reply=text, replied_by=actor, replied_at=at)
        store.add_alert_step(db, found["alert_id"], "referral_replied", at, actor, f"{found['unit_name']}：{text}")
        store.record_audit(db, actor, "alert.referral_reply", "alert", found["alert_id"],
                           {"referral": referral_id, "unit": found["unit_name"], "late": late}, at=at)
    return store.get_referral(db, referral_id)


def withdraw(db, referral_id: int, *, actor: str, now: datetime, reason: str | None = None) -> dict:
    """The office takes a referral back (the wrong unit, or the facts came from elsewhere)."""
    found = _waiting(db, referral_id)
    at = iso(now)
    reason = (reason or "").strip() or None
    with store.transaction(db):
        store.update_referral(db, referral_id, status="withdrawn", withdrawn_by=actor, withdrawn_at=at,
                              withdraw_reason=reason)
        store.add_alert_step(db, found["alert_id"], "referral_withdrawn", at, actor,
                             f"{found['unit_name']}" + (f"：{reason}" if reason else ""))
        store.record_audit(db, actor, "alert.referral_withdraw", "alert", found["alert_id"],
                           {"referral": referral_id, "unit": found["unit_name"], "reason": reason}, at=at)
    return store.get_referral(db, referral_id)


def state(referral: dict, now: datetime) -> str:
    """'waiting', 'overdue', 'replied', 'replied_late' or 'withdrawn'."""
    if referral["status"] == "withdrawn":
        return "withdrawn"
    if referral["status"] == "replied":
        return "replied_late" if referral["replied_at"] > referral["due_at"] else "replied"
    return "overdue" if iso(now) > referral["due_at"] else "waiting"


def suggested_units(units: list[dict], alert: dict) -> list[dict]:
    """The units to offer for an alert, those of its region first (属地), then the rest by code."""
    region = alert.get("region") or ""
    return sorted(units, key=lambda u: (not (region and u.get("region") and
                                             (u["region"] in region or region in u["region"])), u["code"]))
