"""值班交接: what a monitor's shift hands to the next one.

Monitors watch the feed in shifts, and the 5-hour clock of seed 001 runs through the night. When a
shift ends, the outgoing monitor hands over (`write_handover`): what the shift saw and did (items,
alerts raised, the steps people took, verdicts, takedown requests, tips), what is still open with
the clocks that fall due in the next shift, what waits on someone else (an expert who has not
accepted a task, a clarification waiting for review or publication, a platform that has not
answered a takedown request), the experts away during the next shift, sources that have gone quiet, and a note in the monitor's own words.
The record keeps the shift as it stood then (a snapshot), so it reads the same later.

The incoming monitor sees the latest handover on the live page until they confirm receipt
(`receive_handover`, 确认接班); the 值班交接 page and `rumourwatch handover` show the shift so far,
write a handover and list the earlier ones.
"""

from __future__ import annotations

import json
from collections import Counter
from datetime import datetime, timedelta

from . import readings, store
from .alerts import SEVERITIES, WorkflowError, list_alerts
from .experts import VERDICTS
from .language import scripts_text
from .ledger import ALERT_KIND_ZH, ALERT_STATUS_ZH, step_text
from .records import beijing, iso, parse_time
from .reports import clip

SHIFT_HOURS = 8.0  # a shift's length when no handover marks its start
LAST_HANDOVER_HOURS = 24.0  # a shift starts at the latest handover when that is at most this old
AHEAD_HOURS = 8.0  # clocks that fall due this soon are the next shift's
MAX_SHIFT_DAYS = 7
NOTE_MAX = 2000
PENDING_HOURS = 24.0  # an unreceived handover is shown on the live page this long
LISTED = 20  # rows of each list in the text of a handover (the page shows them all)
TITLE_CHARS = 40  # an alert's or a clarification's title in that text, clipped


def default_since(db, now: datetime) -> datetime:
    """Where the current shift began: the latest handover, when it is at most LAST_HANDOVER_HOURS
    old, else SHIFT_HOURS ago."""
    latest = store.list_handovers(db, limit=1)
    if latest:
        at = parse_time(latest[0]["created_at"])
        if timedelta(0) < now - at <= timedelta(hours=LAST_HANDOVER_HOURS):
            return at
    return now - timedelta(hours=SHIFT_HOURS)


def _check_span(since: datetime, now: datetime) -> None:
    if since >= now:
        raise WorkflowError(f"the shift must start before now (got {iso(since)})", "handover_since_future",
                            at=iso(since))
    if now - since > timedelta(days=MAX_SHIFT_DAYS):
        raise WorkflowError(f"a shift covers at most {MAX_SHIFT_DAYS} days (got from {iso(since)})",
                            "handover_span", days=MAX_SHIFT_DAYS)


def next_clock(view: dict) -> tuple[str | None, str | None]:
    """An open alert's next unmet clock: ('respond_by' | 'conference_by', deadline) or (None, None)."""
    if view["responded_at"] is None:
        return "respond_by", view["respond_by"]
    if view["conference_by"] and view["conference_at"] is None:
        return "conference_by", view["conference_by"]
    return None, None


def _hours(a: datetime, b: str) -> float:
    return round((parse_time(b) - a).total_seconds() / 3600, 2)


def open_alerts(db, now: datetime) -> list[dict]:
    """The alerts still being worked, newest first, each with its next unmet clock (`next_clock`),
    whether a clock is missed and its expert's name: what a handover passes on and 领导概览 lists as late."""
    experts = {e["id"]: e["name"] for e in store.list_experts(db)}
    out = []
    for v in list_alerts(db, now, "active"):
        clock, deadline = next_clock(v)
        out.append({"id": v["id"], "severity": v["severity"], "kind": v["kind"], "title": v["title"],
                    "status": v["status"], "expert": experts.get(v["assigned_expert"]), "clock": clock,
                    "deadline": deadline, "overdue": v["overdue"]})
    return out


def shift_summary(db, since: datetime, now: datetime, quiet_hours: float | None = None) -> dict:
    """The shift from `since` to `now` and what it leaves open, as a JSON-ready dict (the snapshot a
    handover keeps). `quiet_hours`: sources silent this long are listed (None: sources not judged)."""
    _check_span(since, now)
    start, end = iso(since), iso(now)
    counts = store.summary_counts(db, start, end)

    raised = [{"id": a["id"], "severity": a["severity"], "kind": a["kind"], "title": a["title"],
               "status": a["status"]} for a in store.report_alerts(db, start, end)]
    steps = store.alert_steps_between(db, start, end)
    people = [s for s in steps if not s["actor"].startswith("system")]
    actions = Counter(s["step"].partition(":")[0] for s in people)
    actions.pop("created", None)  # a person's "created" is a tip's or a rule's alert, already in `raised`
    escalations = sum(1 for s in steps if s["step"].startswith("escalated"))

    left = []
    for a in open_alerts(db, now):
        hours = _hours(now, a["deadline"]) if a["deadline"] else None
        left.append(dict(a, hours_left=hours, due_next_shift=hours is not None and 0 < hours <= AHEAD_HOURS))
    # overdue first, then by the deadline nearest; alerts whose clocks are all met last
    left.sort(key=lambda a: (not a["overdue"], a["deadline"] is None, a["deadline"] or "", a["id"]))

    offered = [{"assignment_id": a["id"], "alert_id": a["alert_id"], "expert": a["expert_name"],
                "severity": a["severity"], "assigned_at": a["assigned_at"], "due_at": a["due_at"],
                "hours_left": _hours(now, a["due_at"])}
               for a in store.expert_assignments(db, statuses=("offered",))]
    reviews = [{"clarification_id": c["id"], "alert_id": c["alert_id"], "status": c["status"], "title": c["title"],
                "since": c["submitted_at"] if c["status"] == "in_review" else c["reviewed_at"]}
               for status in ("in_review", "approved") for c in store.clarifications_by_status(db, status)]
    takedowns = [{"id": d["id"], "item_id": d["item_id"], "platform": d["platform"], "account": d["account"],
                  "requested_at": d["requested_at"], "hours": -_hours(now, d["requested_at"])}
                 for d in reversed(store.list_takedowns(db, "requested"))]

    # media outlets' requests still without an expert who accepted (rumourwatch.media), soonest first
    media = [{"id": r["id"], "outlet": r["outlet"], "kind": r["kind"], "status": r["status"],
              "expert": r["expert_name"], "starts_at": r["starts_at"], "hours_left": _hours(now, r["starts_at"])}
             for r in reversed(store.media_requests(db, ("open", "offered"), since=end))] \
        if store.has_tables(db, "media_requests") else []

    # alerts referred to the units where they happened, still unanswered (rumourwatch.referrals), due first
    referred = [{"id": r["id"], "alert_id": r["alert_id"], "unit": r["unit_name"], "due_at": r["due_at"],
                 "hours_left": _hours(now, r["due_at"])}
                for r in store.list_referrals(db, status="referred")] if store.has_tables(db, "referrals") else []
    # the units' reports waiting for the office's decision (rumourwatch.submissions)
    submitted = store.list_submissions(db, status="submitted") if store.has_tables(db, "submissions") else []

    # the posts in a script the models cannot read, still waiting for a reader (rumourwatch.readings)
    unread = readings.waiting(db) if store.has_tables(db, "human_readings") else {}

    away = [{"expert": a["expert_name"], "starts_at": a["starts_at"], "ends_at": a["ends_at"], "reason": a["reason"]}
            for a in store.absences_between(db, end, iso(now + timedelta(hours=AHEAD_HOURS)))]

    sources = []
    if quiet_hours is not None:
        from .worker import source_health

        for row in store.source_status(db):
            health = source_health(row, now, quiet_hours)
            if health["state"] not in ("ok", "imported", "retired"):
                sources.append({"source": row["source"], **health})

    return {
        "since": start, "until": end, "ahead_hours": AHEAD_HOURS,
        "items": {"items": counts["items"], "health_related": counts["health_related"],
                  "flagged_health": counts["flagged_health"]},
        "tips": len(store.report_tips(db, start, end)),
        "alerts_raised": raised,
        "actions": dict(actions.most_common()),
        "actors": dict(Counter(s["actor"] for s in people).most_common()),
        "escalations": escalations,
        "verdicts": {k: n for k, n in store.verdict_counts_between(db, start, end).items() if n},
        "takedowns": store.takedown_counts_between(db, start, end),
        "open_alerts": left,
        "offered": offered,
        "reviews": reviews,
        "takedowns_pending": takedowns,
        "media_pending": media,
        "referrals_pending": referred,
        "submissions_pending": {"n": len(submitted),
                                "oldest": submitted[0]["submitted_at"] if submitted else None},
        "unread": unread,
        "experts_away": away,
        "sources": sources,
    }


def write_handover(db, author: str, now: datetime, note: str = "", since: datetime | None = None,
                   quiet_hours: float | None = None, rules: dict | None = None) -> int:
    """Record the handover of the shift from `since` (default: `default_since`) to now with the
    outgoing monitor's note; returns its id. The monitors' group bots and mailboxes get its text."""
    from . import notify

    note = (note or "").strip()
    if len(note) > NOTE_MAX:
        raise WorkflowError(f"the handover note has {len(note)} characters; at most {NOTE_MAX}",
                            "handover_note_long", n=len(note), max=NOTE_MAX)
    with store.transaction(db):
        since = since or default_since(db, now)
        summary = shift_summary(db, since, now, quiet_hours)
        hid = store.insert_handover(db, {"created_at": iso(now), "author": author, "shift_from": iso(since),
                                         "note": note, "summary": json.dumps(summary, ensure_ascii=False)})
        store.record_audit(db, author, "handover.write", "handover", hid,
                           {"since": iso(since), "open_alerts": len(summary["open_alerts"])}, at=iso(now))
        if rules is not None:
            written = {"author": author, "created_at": iso(now), "note": note, "summary": summary}
            notify.queue_handover(db, hid, handover_subject(written), handover_lines(written), rules, now)
    return hid


def _read(row: dict) -> dict:
    """A stored handover with its snapshot read, and the figures the record and the live page show:
    the alerts the shift raised, and the open and overdue alerts it passed on."""
    s = json.loads(row["summary"])
    return dict(row, summary=s, alerts_raised=len(s["alerts_raised"]), open_alerts=len(s["open_alerts"]),
                overdue=sum(1 for a in s["open_alerts"] if a["overdue"]))


def handover(db, handover_id: int) -> dict:
    row = store.get_handover(db, handover_id)
    if row is None:
        raise WorkflowError(f"handover {handover_id} does not exist", "no_handover", id=handover_id)
    return _read(row)


def pending_handover(db, user: str, now: datetime) -> dict | None:
    """The latest handover, when it is not `user`'s own, nobody has confirmed it and it is at most
    PENDING_HOURS old: what the live page puts in front of the incoming monitor."""
    latest = store.list_handovers(db, limit=1)
    if not latest:
        return None
    row = latest[0]
    if row["received_by"] or row["author"] == user:
        return None
    if now - parse_time(row["created_at"]) > timedelta(hours=PENDING_HOURS):
        return None
    return _read(row)


def receive_handover(db, handover_id: int, user: str, now: datetime) -> dict:
    """The incoming monitor confirms they have read the handover (确认接班)."""
    with store.transaction(db):
        row = handover(db, handover_id)
        if row["received_by"]:
            raise WorkflowError(f"handover {handover_id} was already received by {row['received_by']}",
                                "handover_received", id=handover_id, user=row["received_by"],
                                at=row["received_at"])
        if row["author"] == user:
            raise WorkflowError(f"handover {handover_id} is {user}'s own; the next monitor receives it",
                                "handover_own", id=handover_id)
        store.mark_handover_received(db, handover_id, user, iso(now))
        store.record_audit(db, user, "handover.receive", "handover", handover_id, {"author": row["author"]},
                           at=iso(now))
    return handover(db, handover_id)


def history(db, limit: int = 30) -> list[dict]:
    """Earlier handovers, latest first, with their figures (from their snapshots)."""
    keys = ("id", "created_at", "author", "shift_from", "note", "received_by", "received_at", "alerts_raised",
            "open_alerts", "overdue")
    return [{k: h[k] for k in keys} for h in map(_read, store.list_handovers(db, limit))]


# --- text ---------------------------------------------------------------------------------------

def _t(value: str | None) -> str:
    return beijing(value, "%m-%d %H:%M") or ""


def _left_text(hours: float | None) -> str:
    if hours is None:
        return ""
    return f"超时 {-hours:.1f} 小时" if hours <= 0 else f"剩 {hours:.1f} 小时"


CLOCK_ZH = {"respond_by": "信息发布时限", "conference_by": "发布会时限"}


def _more(rows: list, shown: int = LISTED) -> list[str]:
    return [f"  …另有 {len(rows) - shown} 项，见值班交接页"] if len(rows) > shown else []


def _joined(counts: dict, names: dict | None = None) -> str:
    return "，".join(f"{(names or {}).get(k, k)} {n}" for k, n in counts.items())


def shift_lines(s: dict) -> list[str]:
    """一、本班情况: what the shift saw and did."""
    items = s["items"]
    lines = [(f"新增条目 {items['items']:,} 条，健康相关 {items['health_related']:,} 条，"
              f"其中疑似谣言 {items['flagged_health']:,} 条；公众举报 {s['tips']} 条。")]
    raised = s["alerts_raised"]
    if raised:
        by = Counter(a["severity"] for a in raised)
        lines.append(f"新生成预警 {len(raised)} 起（" + "，".join(f"{sev} {by[sev]}" for sev in SEVERITIES if by[sev])
                     + "）。")
    else:
        lines.append("本班未生成新预警。")
    if s["actions"]:
        who = "、".join(f"{name} {n}" for name, n in s["actors"].items())
        lines.append("处置操作：" + "，".join(f"{step_text(k)} {n} 次" for k, n in s["actions"].items())
                     + f"（{who}）。")
    if s["verdicts"]:
        lines.append("研判结论：" + _joined(s["verdicts"], VERDICTS) + "。")
    d = s["takedowns"]
    if any(d.values()):
        lines.append(f"删除请求：新发 {d['requested']} 项，平台已删除 {d['removed']} 项，拒绝 {d['refused']} 项。")
    if s["escalations"]:
        lines.append(f"超时督办 {s['escalations']} 次。")
    return lines


def open_lines(s: dict) -> list[str]:
    """二、移交事项: what the next shift takes over."""
    alerts = s["open_alerts"]
    overdue = sum(1 for a in alerts if a["overdue"])
    soon = sum(1 for a in alerts if a["due_next_shift"])
    if not alerts:
        lines = ["没有未结预警。"]
    else:
        lines = [f"未结预警 {len(alerts)} 起，其中已超时 {overdue} 起，{s['ahead_hours']:g} 小时内到期 {soon} 起："]
        for a in alerts[:LISTED]:
            clock = (f"{CLOCK_ZH[a['clock']]} {_t(a['deadline'])}（{_left_text(a['hours_left'])}）" if a["clock"]
                     else "时限均已完成")
            expert = f"，专家 {a['expert']}" if a["expert"] else ""
            lines.append(f"  #{a['id']} {a['severity']} {ALERT_KIND_ZH.get(a['kind'], a['kind'])} "
                         f"{ALERT_STATUS_ZH.get(a['status'], a['status'])}{expert}：{clock}　{clip(a['title'], TITLE_CHARS)}")
        lines += _more(alerts)
    if s["offered"]:
        lines.append(f"待专家接受的指派 {len(s['offered'])} 项：")
        lines += [f"  预警 #{o['alert_id']} 指派 {o['expert']}（{_t(o['assigned_at'])}），"
                  f"接受时限 {_t(o['due_at'])}（{_left_text(o['hours_left'])}）" for o in s["offered"][:LISTED]]
        lines += _more(s["offered"])
    if s["reviews"]:
        waiting = Counter(r["status"] for r in s["reviews"])
        lines.append(f"澄清稿待审核 {waiting['in_review']} 篇，已通过待发布 {waiting['approved']} 篇：")
        lines += [f"  预警 #{r['alert_id']}「{clip(r['title'], TITLE_CHARS)}」（{'待审核' if r['status'] == 'in_review' else '待发布'}，"
                  f"{_t(r['since'])} 起）" for r in s["reviews"][:LISTED]]
        lines += _more(s["reviews"])
    if s["takedowns_pending"]:
        oldest = s["takedowns_pending"][0]
        lines.append(f"待平台答复的删除请求 {len(s['takedowns_pending'])} 项（最早于 {_t(oldest['requested_at'])} 提出）。")
    if s.get("media_pending"):  # (nor before media requests were kept)
        lines.append(f"媒体约请尚未落实专家 {len(s['media_pending'])} 项：")
        lines += [f"  #{m['id']} {m['outlet']} {m['kind']} {_t(m['starts_at'])}（{_left_text(m['hours_left'])}）："
                  + (f"待{m['expert']}答复" if m["status"] == "offered" else "待约请专家")
                  for m in s["media_pending"][:LISTED]]
        lines += _more(s["media_pending"])
    if s.get("referrals_pending"):  # (nor before referrals were kept)
        late = sum(1 for r in s["referrals_pending"] if r["hours_left"] < 0)
        lines.append(f"待属地单位反馈的交办 {len(s['referrals_pending'])} 项，其中已超时 {late} 项：")
        lines += [f"  预警 #{r['alert_id']} 交办 {r['unit']}，反馈时限 {_t(r['due_at'])}（{_left_text(r['hours_left'])}）"
                  for r in s["referrals_pending"][:LISTED]]
        lines += _more(s["referrals_pending"])
    if (waiting := s.get("submissions_pending")) and waiting["n"]:
        lines.append(f"待处理的单位报送信息 {waiting['n']} 条（最早于 {_t(waiting['oldest'])} 报送），见信息报送页。")
    if s.get("unread"):  # (nor before human readings were kept)
        lines.append(f"待人工判读的民族文字条目 {sum(s['unread'].values()):,} 条（{scripts_text(s['unread'])}），"
                     "未计入舆情比例，见民族文字判读页。")
    if s.get("experts_away"):  # handovers kept before experts' absences were recorded have none
        lines.append("下一班不可用的专家：" + "；".join(
            f"{a['expert']}（{_t(a['starts_at'])} 至 {_t(a['ends_at'])}" + (f"，{a['reason']}" if a["reason"] else "") + "）"
            for a in s["experts_away"]) + "。")
    for src in s["sources"]:
        lines.append(f"数据源 {src['source']} 异常：自 {_t(src['since'])} 起"
                     + ("未读取。" if src["state"] == "not_read" else "读取失败。" if src["state"] == "error"
                        else "没有新条目。"))
    return lines


def handover_subject(h: dict) -> str:
    return f"【值班交接】{h['author']} {_t(h['created_at'])}"


def handover_lines(h: dict) -> list[str]:
    """A handover as text: for the group bots and mailboxes, the CLI and printing."""
    s = h["summary"]
    return [f"值班交接：{h['author']}，{_t(h['created_at'])}（北京时间）",
            f"本班时段：{_t(s['since'])} 至 {_t(s['until'])}",
            "一、本班情况", *shift_lines(s),
            "二、移交事项", *open_lines(s),
            "三、交接事项", h["note"] or "（无）"]
