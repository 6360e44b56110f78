"""媒体约请专家: media outlets invite experts of the health science expert pool.

Seed 000 §(三)2: media running health science activities invite their experts from the pools, in
principle; city media are encouraged to invite experts of city level or above first; media are
encouraged to put pool experts on the review teams of health programmes, columns and public-service
adverts. The commission's office records a request (outlet and its level, what for, when, topic),
is shown the pool's experts that fit (the topic's specialty, a level at or above the outlet's, free
then, not invited often lately), and offers it to one expert at a time; the expert accepts or
declines on the workbench (a decline gives a reason, and the request goes back to the office); the
office records what came of it (a link to the programme or article) or cancels it. Each step is
audited; each expert's part is counted in 专家履职情况, and the reports count the period's requests.
"""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from urllib.parse import urlparse

from . import notify, store
from .alerts import WorkflowError, load_rules
from .experts import LEVELS, TOPICS, available_expert, away_between, specialty_fit
from .records import beijing, iso, parse_time

KINDS = ("访谈", "节目录制", "直播", "撰稿", "节目审核")  # 节目审核: seed 000 §(三)2's review teams
STATUSES = ("open", "offered", "accepted", "completed", "cancelled")  # a request's
CLOSED = ("completed", "cancelled")
ACTIVE = ("offered", "accepted")                       # an offer that holds the request
OUTLET_MAX = 100
TEXT_MAX = 500
MAX_HOURS = 24.0
RECENT_DAYS = 30  # invitations accepted in these days make an expert rank lower, so work is shared
ANSWER_HOURS = 24.0  # an offer unanswered this long, or this close to the activity, is chased once


def _request_or_fail(db, request_id: int) -> dict:
    request = store.get_media_request(db, request_id)
    if request is None:
        raise WorkflowError(f"media request {request_id} does not exist", "media_no_request", id=request_id)
    return request


def _away(db, request: dict) -> dict[int, dict]:
    """Experts with an absence overlapping the activity, each with that absence."""
    end = iso(parse_time(request["starts_at"]) + timedelta(hours=request["hours"]))
    return away_between(db, request["starts_at"], end)


def create_request(db, *, outlet: str, outlet_level: str, kind: str, starts_at: datetime, hours: float,
                   actor: str, now: datetime, programme: str = "", topic: str | None = None,
                   region: str | None = None, contact: str = "", note: str = "") -> int:
    """Record a media outlet's request for an expert; returns its id. Refused, saying why, when the
    outlet is missing, a level, kind or topic is not one of the product's, or the time has passed."""
    outlet = (outlet or "").strip()
    if not outlet or len(outlet) > OUTLET_MAX:
        raise WorkflowError(f"the outlet's name is needed (up to {OUTLET_MAX} characters)", "media_outlet",
                            limit=OUTLET_MAX)
    if outlet_level not in LEVELS:
        raise WorkflowError(f"outlet level {outlet_level!r} is not one of {', '.join(LEVELS)}", "media_level",
                            value=outlet_level)
    if kind not in KINDS:
        raise WorkflowError(f"activity {kind!r} is not one of {', '.join(KINDS)}", "media_kind", value=kind)
    topic = topic or None
    if topic is not None and topic not in TOPICS:
        raise WorkflowError(f"topic {topic!r} is not a Healthy China action", "media_topic", value=topic)
    if not 0 < float(hours) <= MAX_HOURS:
        raise WorkflowError(f"the activity lasts more than 0 and at most {MAX_HOURS:g} hours, got {hours}",
                            "media_hours", value=hours, limit=f"{MAX_HOURS:g}")
    if starts_at <= now:
        raise WorkflowError(f"the activity's time {iso(starts_at)} has passed: an invitation is for a time to come",
                            "media_past", at=iso(starts_at))
    for label, text in (("programme", programme), ("contact", contact), ("note", note)):
        if len(text or "") > TEXT_MAX:
            raise WorkflowError(f"the {label} is longer than {TEXT_MAX} characters", "media_text_long",
                                media_field=label, limit=TEXT_MAX)
    at = iso(now)
    with store.transaction(db):
        request_id = store.insert_media_request(db, {
            "outlet": outlet, "outlet_level": outlet_level, "kind": kind, "programme": (programme or "").strip(),
            "topic": topic, "region": (region or "").strip() or None, "starts_at": iso(starts_at),
            "hours": float(hours), "contact": (contact or "").strip(), "note": (note or "").strip(),
            "status": "open", "requested_by": actor, "created_at": at, "updated_at": at})
        store.record_audit(db, actor, "media.request", "media_request", request_id,
                           {"outlet": outlet, "outlet_level": outlet_level, "kind": kind, "topic": topic,
                            "starts_at": iso(starts_at)}, at=at)
    return request_id


def suggest(db, request_id: int, limit: int = 5) -> list[dict]:
    """Rank the active experts for a request; each with a score (0–100) and its reasons in Chinese.

    Specialty vs the topic (40), a level at or above the outlet's (30: city media invite city-level
    experts and above first), the same region (10), few invitations accepted in the last
    RECENT_DAYS days (20, less 5 for each). Left out: experts away at any time during the activity,
    and those this request was offered to already.
    """
    request = _request_or_fail(db, request_id)
    asked = {o["expert_id"] for o in store.media_offers(db, request_id)}  # declined, silent or taken back
    away = _away(db, request)
    since = iso(parse_time(request["created_at"]) - timedelta(days=RECENT_DAYS))
    recent = store.media_offer_counts(db, since)
    topic, level, region = request["topic"], request["outlet_level"], request["region"]
    ranked = []
    for e in store.list_experts(db, active_only=True):
        if e["id"] in asked or e["id"] in away:
            continue
        score, reason = specialty_fit(e, topic, "约请话题", "约请未指定话题，未按专业加分")
        reasons = [reason]
        if LEVELS.index(e["level"]) <= LEVELS.index(level):
            score += 30
            reasons.append(f"级别符合：{e['level']}专家（{level}媒体宜优先邀请{level}及以上专家）")
        else:
            reasons.append(f"级别低于媒体：{e['level']}专家（{level}媒体宜优先邀请{level}及以上专家）")
        if region and e["region"] == region:
            score += 10
            reasons.append(f"同地区：{region}")
        counts = recent.get(e["id"], {})
        n = counts.get("accepted", 0) + counts.get("completed", 0)
        score += max(0, 20 - 5 * n)
        reasons.append(f"近 {RECENT_DAYS} 天接受媒体约请 {n} 次")
        ranked.append({"expert_id": e["id"], "name": e["name"], "title": e["title"], "institution": e["institution"],
                       "level": e["level"], "region": e["region"], "score": round(score, 1), "reasons": reasons,
                       "recent": n})
    ranked.sort(key=lambda r: (-r["score"], r["recent"], r["expert_id"]))
    return ranked[:limit]


def offer(db, request_id: int, expert_id: int, actor: str, now: datetime, rules: dict | None = None) -> int:
    """Offer a request to one expert (mailed to them); returns the offer id. The request must be
    waiting for an expert, the expert active, free during the activity and not asked before."""
    rules = rules or load_rules()
    request = _request_or_fail(db, request_id)
    if request["status"] != "open":
        raise WorkflowError(f"media request {request_id} is {request['status']}; only an open one can be offered",
                            "media_not_open", id=request_id, media_status=request["status"])
    expert = available_expert(db, expert_id, _away(db, request))
    if any(o["expert_id"] == expert_id and o["status"] == "declined" for o in store.media_offers(db, request_id)):
        raise WorkflowError(f"expert {expert_id} declined media request {request_id} already", "media_declined_before",
                            name=expert["name"], id=request_id)
    ranked = {s["expert_id"]: s for s in suggest(db, request_id, limit=10_000)}.get(expert_id)
    at = iso(now)
    with store.transaction(db):
        offer_id = store.insert_media_offer(db, {
            "request_id": request_id, "expert_id": expert_id, "status": "offered",
            "score": ranked and ranked["score"], "reasons": json.dumps(ranked["reasons"] if ranked else [],
                                                                      ensure_ascii=False),
            "offered_by": actor, "offered_at": at})
        store.update_media_request(db, request_id, {"status": "offered", "expert_id": expert_id, "updated_at": at})
        store.record_audit(db, actor, "media.offer", "media_request", request_id,
                           {"offer_id": offer_id, "expert_id": expert_id}, at=at)
        notify.queue_media(db, store.get_media_request(db, request_id), "offer", rules, now, expert=expert)
    return offer_id


def _offer_or_fail(db, offer_id: int, actor_expert_id: int | None) -> dict:
    o = store.get_media_offer(db, offer_id)
    if o is None:
        raise WorkflowError(f"media offer {offer_id} does not exist", "media_no_offer", id=offer_id)
    if actor_expert_id is not None and o["expert_id"] != actor_expert_id:
        raise WorkflowError(f"media offer {offer_id} was made to another expert", "media_not_yours", id=offer_id)
    return o


def respond(db, offer_id: int, accept: bool, actor: str, now: datetime, reason: str = "",
            actor_expert_id: int | None = None, rules: dict | None = None) -> dict:
    """The expert accepts or declines (with a reason) an offer; a declined request goes back to the
    office, which is told. Returns the request as it now stands."""
    rules = rules or load_rules()
    o = _offer_or_fail(db, offer_id, actor_expert_id)
    if o["status"] != "offered":
        raise WorkflowError(f"media offer {offer_id} is {o['status']}; only an open offer can be answered",
                            "media_not_offered", id=offer_id, media_status=o["status"])
    reason = (reason or "").strip()
    if not accept and not reason:
        raise WorkflowError("declining needs a reason (e.g. 时间冲突, 专业不对口)", "media_decline_reason")
    starts = store.get_media_request(db, o["request_id"])["starts_at"]
    if accept and parse_time(starts) <= now:  # too late to take part: declined, the office cancels or moves it
        raise WorkflowError(f"media offer {offer_id} was for {starts}, which has begun: it can only be declined",
                            "media_offer_passed", id=offer_id, at=beijing(starts))
    at = iso(now)
    with store.transaction(db):
        store.update_media_offer(db, offer_id, {"status": "accepted" if accept else "declined", "responded_at": at,
                                                "reason": reason or None})
        changes = {"status": "accepted"} if accept else {"status": "open", "expert_id": None}
        store.update_media_request(db, o["request_id"], {**changes, "updated_at": at})
        store.record_audit(db, actor, "media.accept" if accept else "media.decline", "media_request",
                           o["request_id"], {"offer_id": offer_id, "reason": reason or None}, at=at)
        request = store.get_media_request(db, o["request_id"])
        if not accept:
            notify.queue_media(db, request, "declined", rules, now, expert=store.get_expert(db, o["expert_id"]),
                               reason=reason)
    return request


def _active_offer(db, request_id: int) -> dict | None:
    return next((o for o in store.media_offers(db, request_id) if o["status"] in ACTIVE), None)


def complete(db, request_id: int, actor: str, now: datetime, url: str = "", note: str = "") -> dict:
    """Record that the activity took place, with a link to the programme or article when there is
    one. Only for an accepted request whose time has come."""
    request = _request_or_fail(db, request_id)
    if request["status"] != "accepted":
        raise WorkflowError(f"media request {request_id} is {request['status']}; only an accepted one can be done",
                            "media_not_accepted", id=request_id, media_status=request["status"])
    if parse_time(request["starts_at"]) > now:
        raise WorkflowError(f"media request {request_id} is for {request['starts_at']}, still to come",
                            "media_not_yet", id=request_id, at=request["starts_at"])
    url = (url or "").strip()
    if url and (urlparse(url).scheme not in ("http", "https") or not urlparse(url).netloc):
        raise WorkflowError(f"{url!r} is not a web address (http:// or https://)", "media_bad_url", value=url)
    at = iso(now)
    offer_row = _active_offer(db, request_id)
    with store.transaction(db):
        store.update_media_request(db, request_id, {"status": "completed", "outcome_url": url or None,
                                                    "outcome_note": (note or "").strip() or None, "closed_at": at,
                                                    "updated_at": at})
        if offer_row:
            store.update_media_offer(db, offer_row["id"], {"status": "completed"})
        store.record_audit(db, actor, "media.complete", "media_request", request_id, {"url": url or None}, at=at)
    return store.get_media_request(db, request_id)


def cancel(db, request_id: int, actor: str, now: datetime, reason: str, rules: dict | None = None) -> dict:
    """Cancel a request (the outlet called it off, or nobody fits); an expert it was offered to or who
    accepted it is told. Needs a reason."""
    request = _request_or_fail(db, request_id)
    if request["status"] in CLOSED:
        raise WorkflowError(f"media request {request_id} is already {request['status']}", "media_closed",
                            id=request_id, media_status=request["status"])
    reason = (reason or "").strip()
    if not reason:
        raise WorkflowError("cancelling needs a reason (e.g. 栏目取消录制)", "media_cancel_reason")
    at = iso(now)
    return _take_back(db, request_id, actor, now, reason, rules, "media.cancel", "cancelled",
                      {"status": "cancelled", "cancel_reason": reason, "closed_at": at, "updated_at": at})


def withdraw(db, request_id: int, actor: str, now: datetime, reason: str, rules: dict | None = None) -> dict:
    """Take a request back from the expert it was offered to (silent, or no longer able) so that it
    can be offered to another: the request is open again, the expert is told and not suggested for
    it again. Needs a reason."""
    request = _request_or_fail(db, request_id)
    if request["status"] not in ACTIVE:
        raise WorkflowError(f"media request {request_id} is {request['status']}; only one offered or accepted can "
                            "be withdrawn", "media_not_withdrawable", id=request_id, media_status=request["status"])
    reason = (reason or "").strip()
    if not reason:
        raise WorkflowError("withdrawing needs a reason (e.g. 专家未答复)", "media_withdraw_reason")
    return _take_back(db, request_id, actor, now, reason, rules, "media.withdraw", "withdrawn",
                      {"status": "open", "expert_id": None, "updated_at": iso(now)})


def _take_back(db, request_id: int, actor: str, now: datetime, reason: str, rules: dict | None, action: str,
               event: str, changes: dict) -> dict:
    """The request's active offer (if any) withdrawn with `reason`, the request changed, audited, and
    the expert mailed (notify.queue_media `event`)."""
    rules = rules or load_rules()
    offer_row = _active_offer(db, request_id)
    with store.transaction(db):
        store.update_media_request(db, request_id, changes)
        if offer_row:
            store.update_media_offer(db, offer_row["id"], {"status": "withdrawn", "reason": reason})
        store.record_audit(db, actor, action, "media_request", request_id, {"reason": reason}, at=iso(now))
        if offer_row:
            notify.queue_media(db, store.get_media_request(db, request_id), event, rules, now,
                               expert=store.get_expert(db, offer_row["expert_id"]), reason=reason)
    return store.get_media_request(db, request_id)


def chase_unanswered(db, now: datetime, rules: dict | None = None) -> list[dict]:
    """Once per offer: an invitation unanswered for ANSWER_HOURS, or whose activity is that close,
    reminds the expert by mail and tells the monitors, who may withdraw it and ask another (run with
    the alert escalations, by the worker and by `rumourwatch alerts escalate`). Returns the offers chased."""
    rules = rules or load_rules()
    if not store.has_tables(db, "media_offers"):
        return []
    at = iso(now)
    chased = store.media_offers_to_chase(db, iso(now - timedelta(hours=ANSWER_HOURS)),
                                         iso(now + timedelta(hours=ANSWER_HOURS)))
    with store.transaction(db):
        for o in chased:
            store.update_media_offer(db, o["offer_id"], {"reminded_at": at})
            store.record_audit(db, "system", "media.remind", "media_request", o["id"], {"offer_id": o["offer_id"]},
                               at=at)
            expert = {"name": o["expert_name"], "email": o["expert_email"]}
            notify.queue_media(db, o, "reminder", rules, now, expert=expert)
            notify.queue_media(db, o, "unanswered", rules, now, expert=expert)
    return [{"request_id": o["id"], "offer_id": o["offer_id"], "expert": o["expert_name"],
             "starts_at": o["starts_at"]} for o in chased]


def period_summary(db, start: str, end: str, region: str | None = None) -> dict:
    """The requests whose activity falls in [start, end) (of `region` when given): how many, done,
    cancelled, still open, and of those done how many by an expert at or above the outlet's level
    (seed 000 §(三)2)."""
    rows = [r for r in store.media_requests(db, since=start, until=end, limit=100_000)
            if not region or r["region"] == region]
    done = [r for r in rows if r["status"] == "completed"]
    fit = sum(1 for r in done if r["expert_level"] and LEVELS.index(r["expert_level"]) <= LEVELS.index(r["outlet_level"]))
    return {"requests": len(rows), "completed": len(done), "cancelled": sum(r["status"] == "cancelled" for r in rows),
            "waiting": sum(r["status"] not in CLOSED for r in rows), "level_fit": fit}
