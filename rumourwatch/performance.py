"""专家履职情况: how each expert of the pool took part in a period, for the pool's "dynamic management"
(DOMAIN: experts' performance is evaluated; Jilin's pool has 1,000+ experts): tasks offered,
accepted, declined or left unanswered past the acceptance deadline, clarifications published and how
many on time, drafts returned in review, reviews done for others, how long accepting took, and when
each last accepted a task. A few plain flags point at whom to talk to before the roster is renewed:
an active expert who took no task (unless away for half the period or more: experts.add_absence),
one who declines most offers, one who lets offers lapse. And how their published clarifications read against the content standard
(draftcheck, 稿件自查, read again now): how many have no warning, and the warnings most often left.
And the media's invitations (rumourwatch.media, seed 000 §(三)2) made in the period: offered,
accepted, done. An expert who took media work is not idle. And the experts' trainings (专家培训,
rumourwatch.trainings, seed 001 18) each took part in during the period.

The 专家库 page shows it for a period with a CSV; `rumourwatch experts performance` prints or
writes it. Figures only, no score: a low count may mean no alert in one's specialty.
"""

from __future__ import annotations

import statistics
from collections import Counter

from . import draftcheck, store
from .exports import csv_text
from .records import beijing, hours_between, parse_time

# the flags (codes; FLAG_ZH says them in Chinese)
IDLE, DECLINES, LAPSES = "idle", "declines", "lapses"
FLAG_ZH = {IDLE: "期内未承担任务", DECLINES: "多数指派被谢绝", LAPSES: "多次超时未响应"}
DECLINE_FLAG_MIN_OFFERS = 3  # "most offers declined" needs at least this many offers
DECLINE_FLAG_SHARE = 0.5
LAPSE_FLAG_MIN = 2
AWAY_SHARE = 0.5  # away this share of the period or more, taking no task is no flag

CSV_HEADER = ("专家", "职称", "单位", "级别", "地区", "在库", "指派", "接受", "谢绝", "超时未响应", "发布澄清",
              "按时发布", "审核退回", "审核他人稿件", "接受中位用时（小时）", "最近一次接受任务", "不可用天数", "自查无提示", "常见自查提示",
              "媒体约请", "接受约请", "完成约请", "参加培训", "提示")


def performance(db, start: str, end: str, vocab=None) -> list[dict]:
    """One row per expert of the roster (those out of the pool too, when they had tasks in the
    period) for the assignments offered in [start, end): counts, the median hours to accept, the
    last acceptance ever, the self-check of the clarifications published (`vocab`: draftcheck's,
    the bundle's when None) and the flags; busiest first."""
    activity = store.expert_activity(db, start, end)
    checked = _self_checks(db, [a["id"] for a in activity["assignments"] if a["status"] == "completed"], vocab)
    away = _away_days(db, start, end)
    invited = store.media_offer_counts(db, start, end) if store.has_tables(db, "media_offers") else {}
    trained = store.trained_experts(db, beijing(start, "%Y-%m-%d"), beijing(end, "%Y-%m-%d")) \
        if store.has_tables(db, "training_experts") else {}
    period_days = (parse_time(end) - parse_time(start)).total_seconds() / 86400
    by_expert: dict[int, list[dict]] = {}
    for a in activity["assignments"]:
        by_expert.setdefault(a["expert_id"], []).append(a)
    rows = []
    for e in store.list_experts(db):
        tasks = by_expert.get(e["id"], [])
        media = invited.get(e["id"], {})
        if not e["active"] and not tasks and not media:
            continue
        accepted = [a for a in tasks if a["responded_at"] and a["status"] != "declined"]
        completed = [a for a in tasks if a["status"] == "completed"]
        row = {
            "expert_id": e["id"], "name": e["name"], "title": e["title"], "institution": e["institution"],
            "level": e["level"], "region": e["region"], "active": bool(e["active"]),
            "offered": len(tasks), "accepted": len(accepted),
            "declined": sum(a["status"] == "declined" for a in tasks),
            "lapsed": sum(not a["responded_at"] and a["escalated_at"] is not None for a in tasks),
            "published": len(completed),
            "on_time": sum(a["completed_at"] <= a["due_at"] for a in completed),
            "returned": activity["returned"].get(e["id"], 0), "reviewed": activity["reviewed"].get(e["id"], 0),
            "accept_hours": (round(statistics.median(h), 1) if (h := [hours_between(a["assigned_at"], a["responded_at"])
                                                                        for a in accepted]) else None),
            "last_accepted": activity["last_accepted"].get(e["id"]),
            "away_days": round(away.get(e["id"], 0.0), 1),
            "clean": sum(not w for w in checked.get(e["id"], [])),
            "common_warnings": _common(checked.get(e["id"], [])),
            "media_offered": sum(media.values()),
            "media_accepted": media.get("accepted", 0) + media.get("completed", 0),
            "media_completed": media.get("completed", 0),
            "trainings": trained.get(e["id"], {}).get("n", 0),
        }
        row["flags"] = _flags(row, bool(activity["assignments"]), row["away_days"] >= AWAY_SHARE * period_days)
        rows.append(row)
    rows.sort(key=lambda r: (-r["published"], -r["accepted"], -r["offered"], r["name"]))
    return rows


def _self_checks(db, assignment_ids: list[int], vocab) -> dict[int, list[list[str]]]:
    """Per expert, for each clarification of theirs published from these assignments, the short
    labels of its self-check's warnings (an empty list: none)."""
    out: dict[int, list[list[str]]] = {}
    published = store.published_for_assignments(db, assignment_ids)
    if published:
        vocab = vocab or draftcheck.bundle_vocabulary()  # read once, not per clarification
    for c in published:
        warned = draftcheck.warnings(draftcheck.clarification_checks(db, c, vocab=vocab))
        out.setdefault(c["expert_id"], []).append([w.short or w.key for w in warned])
    return out


def _common(warned: list[list[str]], top: int = 3) -> str:
    """'未写明适用人群 3、未列出依据 2': the warnings left most often, with how many clarifications."""
    counts = Counter(label for labels in warned for label in labels)
    return "、".join(f"{label} {n}" for label, n in counts.most_common(top))


def _away_days(db, start: str, end: str) -> dict[int, float]:
    """Days each expert was recorded away (experts.add_absence) within [start, end); overlapping
    absences of one expert count once."""
    lo, hi = parse_time(start), parse_time(end)
    spans: dict[int, list[tuple]] = {}
    for a in store.absences_between(db, start, end):
        spans.setdefault(a["expert_id"], []).append((max(lo, parse_time(a["starts_at"])),
                                                     min(hi, parse_time(a["ends_at"]))))
    days = {}
    for expert_id, rows in spans.items():
        total, reach = 0.0, lo
        for s, e in sorted(rows):
            s = max(s, reach)
            if e > s:
                total += (e - s).total_seconds()
                reach = e
        days[expert_id] = total / 86400
    return days


def _flags(row: dict, anyone_asked: bool, away: bool = False) -> list[str]:
    """The flags of one row; "idle" only in a period in which someone was asked (with no task offered
    to anyone, taking none says nothing) and the expert was not away for much of it."""
    flags = []
    if anyone_asked and not away and row["active"] and not row["accepted"] and not row["reviewed"] \
            and not row.get("media_accepted"):
        flags.append(IDLE)
    if row["offered"] >= DECLINE_FLAG_MIN_OFFERS and row["declined"] >= DECLINE_FLAG_SHARE * row["offered"]:
        flags.append(DECLINES)
    if row["lapsed"] >= LAPSE_FLAG_MIN:
        flags.append(LAPSES)
    return flags


def performance_csv(rows: list[dict]) -> str:
    """The rows as CSV for Excel (exports.csv_text), Beijing times, flags in Chinese."""
    return csv_text(CSV_HEADER, (
        [r["name"], r["title"], r["institution"], r["level"], r["region"], "是" if r["active"] else "否",
         r["offered"], r["accepted"], r["declined"], r["lapsed"], r["published"], r["on_time"], r["returned"],
         r["reviewed"], r["accept_hours"], beijing(r["last_accepted"]), r["away_days"], r["clean"],
         r["common_warnings"], r["media_offered"], r["media_accepted"], r["media_completed"], r["trainings"],
         "；".join(FLAG_ZH[f] for f in r["flags"])]
        for r in rows))
