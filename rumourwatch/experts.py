"""Expert pool and the clarification workflow: roster (CSV import/export), suggestion with
reasons, assignment lifecycle (offer → accept / decline → reassign), drafts, review, publication,
verdicts, the publisher watchlist and takedown requests (seed 000 §(四)2).

Every action runs in one transaction with its audit-log entry. Times come from the caller (`now`),
so tests drive them with an injected clock.
"""

from __future__ import annotations

import json
import statistics
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path

from . import draftcheck, notify, store
from .alerts import WorkflowError, close_dismissed, load_rules
from .exports import csv_text, uncell
from .language import LANGUAGE_ZH, unread_language, written_in
from .records import iso, parse_time
from .uploads import MAX_MB, table_rows

TOPICS = ("健康知识普及", "合理膳食", "全民健身", "控烟", "心理健康促进", "健康环境促进", "妇幼健康促进",
          "中小学健康促进", "职业健康保护", "老年健康促进", "心脑血管疾病防治", "癌症防治", "慢性呼吸系统疾病防治",
          "糖尿病防治", "传染病及地方病防控")
# Clinical departments an expert may list, and the topics each one can speak to.
DEPARTMENT_TOPICS = {
    "心血管内科": ("心脑血管疾病防治",), "神经内科": ("心脑血管疾病防治", "老年健康促进"),
    "肿瘤科": ("癌症防治",), "内分泌科": ("糖尿病防治", "合理膳食"), "呼吸内科": ("慢性呼吸系统疾病防治", "控烟"),
    "感染科": ("传染病及地方病防控",), "疾病预防控制": ("传染病及地方病防控", "健康环境促进"),
    "妇产科": ("妇幼健康促进",), "儿科": ("妇幼健康促进", "中小学健康促进"), "精神心理科": ("心理健康促进",),
    "临床营养科": ("合理膳食",), "老年医学科": ("老年健康促进",), "职业病科": ("职业健康保护",),
    "康复医学科": ("全民健身",), "运动医学科": ("全民健身",), "药学部": ("健康知识普及",),
    "全科医学科": ("健康知识普及",), "中医科": ("健康知识普及",), "消化内科": ("合理膳食", "癌症防治"),
    "急诊科": ("健康知识普及",), "皮肤科": ("健康环境促进",), "眼科": ("中小学健康促进",), "口腔科": ("健康知识普及",),
}
SPECIALTIES = TOPICS + tuple(DEPARTMENT_TOPICS)
LEVELS = ("国家级", "省级", "市级", "县级")
# Levels that fit each severity, best first (一级 needs national/provincial voices).
LEVEL_FIT = {"一级": ("国家级", "省级"), "二级": ("省级", "市级"), "三级": ("市级", "县级")}
VERDICTS = {"rumour": "确认谣言", "not_rumour": "非谣言", "unverifiable": "无法核实"}
CSV_COLUMNS = ("name", "title", "institution", "specialties", "level", "region", "capacity", "phone", "email", "active",
               "languages")
REQUIRED = ("name", "institution", "specialties", "level")


# --- roster -----------------------------------------------------------------------------------

@dataclass
class ImportReport:
    created: int = 0
    updated: int = 0
    errors: list[str] = field(default_factory=list)  # 'row N: …' in English (CLI, audit log)
    problems: list[tuple[int, list[WorkflowError]]] = field(default_factory=list)  # (N, the row's problems)

    @property
    def rows_ok(self) -> int:
        return self.created + self.updated


def _split_list(text: str) -> list[str]:
    for sep in ("；", "，", "、", ",", "|", "/"):
        text = text.replace(sep, ";")
    return [s.strip() for s in text.split(";") if s.strip()]


# The scripts an expert may write clarifications in besides Chinese, by code or Chinese name.
_LANGUAGE_CODES = {**{c: c for c in LANGUAGE_ZH}, **{z: c for c, z in LANGUAGE_ZH.items()},
                   "蒙文": "mn", "蒙古语": "mn", "藏语": "bo", "维吾尔语": "ug", "维文": "ug"}


def expert_languages(expert: dict) -> list[str]:
    """The codes of the scripts (LANGUAGE_ZH) an expert writes besides Chinese."""
    return json.loads(expert.get("languages") or "[]")


def languages_text(expert: dict) -> str:
    """The scripts an expert writes besides Chinese, in Chinese: "蒙古文、藏文" (empty: Chinese only)."""
    return "、".join(LANGUAGE_ZH.get(c, c) for c in expert_languages(expert))


def alert_language(db, alert: dict) -> str | None:
    """The script ('mn', 'bo', 'ug') of the alert's item when the models cannot read it (the story is
    told in Mongolian, Tibetan or Uyghur: its clarification is best written in that script too)."""
    item = store.get_item(db, alert["item_id"]) if alert.get("item_id") else None
    return unread_language(item["text"]) if item else None


def language_writers(db, language: str) -> list[dict]:
    """The active experts who write `language` ('mn', 'bo', 'ug') besides Chinese."""
    return [e for e in store.list_experts(db, active_only=True) if language in expert_languages(e)]


class RowError(ValueError):
    """Every problem of a roster row: `str()` joins them in English; each of `problems` is a
    WorkflowError (not raised) naming its Chinese text for the dashboard."""

    def __init__(self, *problems: WorkflowError):
        super().__init__("; ".join(str(p) for p in problems))
        self.problems = list(problems)


def validate_expert_row(raw: dict) -> dict:
    """A roster row → a clean expert dict; RowError with every problem of the row."""
    problems = []
    row = {k: uncell(raw.get(k) or "").strip() if isinstance(raw.get(k), str) or raw.get(k) is None else raw.get(k)
           for k in CSV_COLUMNS}
    for k in REQUIRED:
        if not row[k]:
            problems.append(WorkflowError(f"{k} is required", "roster_required", column=k))
    specialties = _split_list(row["specialties"]) if row["specialties"] else []
    unknown = [s for s in specialties if s not in SPECIALTIES]
    if unknown:
        topics, departments = "、".join(TOPICS[:3]), "、".join(list(DEPARTMENT_TOPICS)[:3])
        problems.append(WorkflowError(f"specialties {', '.join(unknown)} not recognised; use the 15 topic categories "
                                      f"({topics}…) or clinical departments ({departments}…)", "roster_specialties",
                                      value="、".join(unknown), topics=topics, departments=departments))
    if row["level"] and row["level"] not in LEVELS:
        problems.append(WorkflowError(f"level must be one of {', '.join(LEVELS)} (got {row['level']!r})",
                                      "roster_level", value=row["level"], levels="、".join(LEVELS)))
    capacity = 3
    if row["capacity"] not in ("", None):
        try:
            capacity = int(str(row["capacity"]))
            if capacity < 1 or capacity > 50:
                raise ValueError
        except ValueError:
            problems.append(WorkflowError(f"capacity must be a whole number from 1 to 50 (got {row['capacity']!r})",
                                          "roster_capacity", value=row["capacity"]))
    email = row["email"] or None
    if email and ("@" not in email or " " in email):
        problems.append(WorkflowError(f"email {email!r} is not an email address", "roster_email", value=email))
    languages, unknown = [], []
    for name in _split_list(row["languages"] or ""):
        code = _LANGUAGE_CODES.get(name.lower())
        (languages if code else unknown).append(code or name)
    if unknown:
        problems.append(WorkflowError(f"languages {', '.join(unknown)} not recognised; use "
                                      f"{', '.join(f'{c} ({z})' for c, z in LANGUAGE_ZH.items())} (Chinese is assumed)",
                                      "roster_languages", value="、".join(unknown),
                                      allowed="、".join(LANGUAGE_ZH.values())))
    active = str(row["active"] or "1").strip().lower()
    if active not in ("1", "0", "true", "false", "yes", "no", "是", "否"):
        problems.append(WorkflowError(f"active must be 1 or 0 (got {row['active']!r})", "roster_active",
                                      value=row["active"]))
    if problems:
        raise RowError(*problems)
    return {"name": row["name"], "title": row["title"] or None, "institution": row["institution"],
            "specialties": json.dumps(specialties, ensure_ascii=False), "level": row["level"],
            "region": row["region"] or None, "capacity": capacity, "phone": row["phone"] or None, "email": email,
            "active": int(active in ("1", "true", "yes", "是")),
            "languages": json.dumps(sorted(set(languages))) if languages else None}


def import_roster(db, source, actor: str, now: datetime, name: str | None = None,
                  max_mb: float = MAX_MB) -> ImportReport:
    """Import a roster (path, bytes or text: an Excel workbook's first sheet when named .xlsx, else CSV,
    UTF-8 or GB18030, commas or tabs; uploads.table_rows; `name` is an uploaded file's). A file that
    is no such table (UTF-16, an .xls, larger than `max_mb`, a workbook that is none) is refused whole. Valid rows are added or updated (same name and institution = same expert); each
    bad row is reported as 'row N: …' (N = line in the file)."""
    if isinstance(source, str) and "\n" in source:  # as export_roster wrote it
        source, name = source.removeprefix("\ufeff").encode("utf-8"), None
    elif not isinstance(source, bytes):
        if not Path(source).is_file():
            raise WorkflowError(f"roster file {source} does not exist", "roster_missing", path=str(source))
        source, name = Path(source).read_bytes(), str(source)
    header, rows = table_rows(name, source, max_mb)
    missing = [c for c in REQUIRED if c not in header]
    if missing:
        raise WorkflowError(f"roster header lacks column(s) {', '.join(missing)}; expected {','.join(CSV_COLUMNS)}",
                            "roster_header", missing="、".join(missing), expected=",".join(CSV_COLUMNS))
    keep_languages = "languages" not in header  # a roster file from before: the experts keep theirs
    report = ImportReport()
    at = iso(now)
    seen = {}
    with store.transaction(db):
        for line, raw in rows:
            extra = raw.get(None)
            try:
                if extra:
                    raise RowError(WorkflowError(f"{len(extra)} more value(s) than columns (a comma inside a field "
                                                 "needs quotes)", "roster_extra", n=len(extra)))
                row = validate_expert_row(raw)
                if keep_languages:
                    del row["languages"]
                key = (row["name"], row["institution"])
                if key in seen:
                    raise RowError(WorkflowError(f"same expert as row {seen[key]} (name and institution)",
                                                 "roster_duplicate", row=seen[key]))
                seen[key] = line
            except RowError as exc:
                report.errors.append(f"row {line}: {exc}")
                report.problems.append((line, exc.problems))
                continue
            _, created = store.upsert_expert(db, row, at)
            report.created += created
            report.updated += not created
        store.record_audit(db, actor, "experts.import", "experts", None,
                           {"created": report.created, "updated": report.updated, "errors": report.errors}, at=at)
    return report


def export_roster(db) -> str:
    """The roster as CSV text in the import format (round-trips), for Excel or WPS as every export is
    (rumourwatch.exports): a byte-order mark, and a cell a spreadsheet would run or turn into a number
    (a phone number written +86 …) kept as text by a leading apostrophe, which the import drops."""
    return csv_text(CSV_COLUMNS, ([e["name"], e["title"], e["institution"], ";".join(json.loads(e["specialties"])),
                                   e["level"], e["region"], e["capacity"], e["phone"], e["email"], e["active"],
                                   ";".join(LANGUAGE_ZH[c] for c in expert_languages(e))]
                                  for e in store.list_experts(db)))


def expert_topics(expert: dict) -> set[str]:
    specs = json.loads(expert["specialties"]) if isinstance(expert["specialties"], str) else expert["specialties"]
    topics = {s for s in specs if s in TOPICS}
    for s in specs:
        topics.update(DEPARTMENT_TOPICS.get(s, ()))
    return topics


# --- suggestion ------------------------------------------------------------------------------

def specialty_fit(expert: dict, topic: str | None, what: str, unknown: str) -> tuple[float, str]:
    """How an expert's specialties fit a Healthy China topic: 40 points for the topic itself, 32 for
    a department that covers it, 0 otherwise; with the reason in Chinese (`what` names the topic's
    owner in the mismatch, 条目话题 / 约请话题; `unknown` is said when there is no topic)."""
    specs = json.loads(expert["specialties"]) if isinstance(expert["specialties"], str) else expert["specialties"]
    if not topic:
        return 0.0, unknown
    if topic in specs:
        return 40.0, f"专业对口：擅长「{topic}」"
    if topic in expert_topics(expert):
        dept = next(s for s in specs if topic in DEPARTMENT_TOPICS.get(s, ()))
        return 32.0, f"专业相关：{dept}可解读「{topic}」"
    return 0.0, f"专业不完全对口（{what}「{topic}」）"


def suggest_experts(db, alert_id: int, limit: int = 5, exclude: set | None = None,
                    now: datetime | None = None) -> list[dict]:
    """Rank active experts for an alert; each with a score (0–100) and its reasons in Chinese.

    Specialty vs the item's topic (40), level vs severity (20), region (10), free capacity (15),
    past response time (15). Experts at capacity, who declined this alert, or away at some time in
    the next TASK_HOURS from `now` (default: the time now; `unavailable_experts`) are left out.
    When the alert's item is written in a script the models cannot read (`alert_language`), the
    experts who write that script come first, whatever their score (`writes_language`; a
    clarification its readers cannot read does not reach them), each row saying whether they do.
    """
    alert = store.get_alert(db, alert_id)
    if alert is None:
        raise WorkflowError(f"alert {alert_id} does not exist", "no_alert", id=alert_id)
    previous = store.alert_assignments(db, alert_id)
    excluded = set(exclude or ()) | {a["expert_id"] for a in previous
                                     if a["status"] in ("declined", "offered", "accepted", "submitted")}
    excluded |= set(unavailable_experts(db, now or store.now_utc()))
    loads = store.expert_loads(db)
    history = store.expert_response_hours(db)
    topic, severity, region = alert["topic"], alert["severity"], alert["region"]
    language = alert_language(db, alert)
    ranked = []
    for e in store.list_experts(db, active_only=True):
        if e["id"] in excluded:
            continue
        load = loads.get(e["id"], 0)
        if load >= e["capacity"]:
            continue
        score, reason = specialty_fit(e, topic, "条目话题", "条目话题未知，未按专业加分")
        reasons = [reason]
        fit = LEVEL_FIT[severity]
        if e["level"] == fit[0]:
            score += 20
            reasons.append(f"级别匹配：{e['level']}专家适合{severity}预警")
        elif e["level"] in fit:
            score += 15
            reasons.append(f"级别适合：{e['level']}专家可处理{severity}预警")
        elif abs(LEVELS.index(e["level"]) - LEVELS.index(fit[0])) == 1 or \
                abs(LEVELS.index(e["level"]) - LEVELS.index(fit[-1])) == 1:
            score += 8
            reasons.append(f"级别相近：{e['level']}（{severity}预警宜由{'/'.join(fit)}专家处理）")
        else:
            reasons.append(f"级别不匹配：{e['level']}（{severity}预警宜由{'/'.join(fit)}专家处理）")
        if region and e["region"] == region:
            score += 10
            reasons.append(f"同地区：{region}")
        elif e["level"] == "国家级":
            score += 6
            reasons.append("国家级专家，不受地区限制")
        elif region:
            reasons.append(f"不同地区（专家在{e['region'] or '未知'}，条目在{region}）")
        free = 1 - load / e["capacity"]
        score += 15 * free
        reasons.append(f"当前负荷 {load}/{e['capacity']}")
        times = history.get(e["id"])
        if times:
            median = statistics.median(times)
            score += 15 if median <= 2 else 10 if median <= 5 else 3
            reasons.append(f"以往响应中位 {median:.1f} 小时（{len(times)} 次）")
        else:
            score += 7
            reasons.append("暂无历史响应记录")
        writes = bool(language) and language in expert_languages(e)
        if language:
            script = LANGUAGE_ZH[language]
            reasons.insert(0, f"可用{script}撰写澄清（本事件条目为{script}）" if writes
                           else f"不能用{script}撰写（本事件条目为{script}），只能写中文澄清")
        ranked.append({"expert_id": e["id"], "name": e["name"], "title": e["title"], "institution": e["institution"],
                       "level": e["level"], "region": e["region"], "score": round(score, 1), "reasons": reasons,
                       "load": load, "capacity": e["capacity"], "writes_language": writes})
    ranked.sort(key=lambda r: (not r["writes_language"], -r["score"], r["load"], r["expert_id"]))
    return ranked[:limit]


# --- availability: leave, travel, a conference (不可用时段) --------------------------------------

TASK_HOURS = 5.0  # away at any time this soon, an expert is passed over: a task is done within the 5-hour clock
ABSENCE_MAX_DAYS = 366
ABSENCE_REASON_MAX = 200


def unavailable_experts(db, now: datetime, hours: float = TASK_HOURS) -> dict[int, dict]:
    """The experts away at some time in the next `hours`: {expert_id: the first such absence, with
    the expert's name}. Suggestions leave them out and an assignment to one is refused."""
    return away_between(db, iso(now), iso(now + timedelta(hours=hours)))


def away_between(db, start: str, end: str) -> dict[int, dict]:
    """The experts away at some time in [start, end): {expert_id: the first such absence, with the
    expert's name}."""
    out: dict[int, dict] = {}
    for a in store.absences_between(db, start, end):
        out.setdefault(a["expert_id"], a)
    return out


def absences(db, now: datetime, expert_id: int | None = None) -> list[dict]:
    """The absences not yet over (current and planned), by start; one expert's with `expert_id`."""
    return store.absences_between(db, iso(now), "9999", expert_id)


def _check_absence_actor(expert_id: int, actor_expert_id: int | None) -> None:
    if actor_expert_id is not None and actor_expert_id != expert_id:
        raise WorkflowError(f"expert {actor_expert_id} cannot set another expert's absence", "not_your_absence")


def add_absence(db, expert_id: int, starts_at: datetime, ends_at: datetime, reason: str, actor: str,
                now: datetime, actor_expert_id: int | None = None) -> dict:
    """Record that an expert cannot take tasks from `starts_at` to `ends_at` (the expert on the
    workbench: `actor_expert_id`, their own only; an admin on 专家库: anyone's). A task only offered
    to the expert and due after the absence begins is passed on at once, as a declined one would be
    (to the next suggested expert, or back to the monitors): waiting out the acceptance hour for an
    expert known to be away would cost the 5-hour clock. Returns {"id", "open_tasks", "passed_on"}:
    the accepted tasks due after the absence begins, which the expert must finish or a monitor
    withdraw (withdraw_assignment), and the offered ones passed on ({"assignment_id", "alert_id",
    "to": the new assignment id or None})."""
    expert = store.get_expert(db, expert_id)
    if expert is None:
        raise WorkflowError(f"expert {expert_id} does not exist or is inactive", "no_expert", id=expert_id)
    _check_absence_actor(expert_id, actor_expert_id)
    reason = (reason or "").strip()
    if len(reason) > ABSENCE_REASON_MAX:
        raise WorkflowError(f"the reason has {len(reason)} characters; at most {ABSENCE_REASON_MAX}",
                            "absence_reason_long", n=len(reason), max=ABSENCE_REASON_MAX)
    if ends_at <= starts_at:
        raise WorkflowError(f"an absence must end after it starts ({iso(starts_at)} → {iso(ends_at)})",
                            "absence_order", at=iso(starts_at), until=iso(ends_at))
    if ends_at <= now:
        raise WorkflowError(f"the absence is over already (it ended {iso(ends_at)})", "absence_past",
                            until=iso(ends_at))
    if ends_at - starts_at > timedelta(days=ABSENCE_MAX_DAYS):
        raise WorkflowError(f"an absence lasts at most {ABSENCE_MAX_DAYS} days; for longer, make the expert "
                            "inactive on the roster", "absence_long", days=ABSENCE_MAX_DAYS)
    at = iso(now)
    with store.transaction(db):
        absence_id = store.insert_absence(db, {"expert_id": expert_id, "starts_at": iso(starts_at),
                                               "ends_at": iso(ends_at), "reason": reason, "created_by": actor,
                                               "created_at": at})
        store.record_audit(db, actor, "expert.absence_add", "expert", expert_id,
                           {"absence_id": absence_id, "starts_at": iso(starts_at), "ends_at": iso(ends_at),
                            "reason": reason}, at=at)
    tasks, passed_on = [], []
    for a in store.expert_assignments(db, expert_id, ("offered", "accepted")):
        if a["due_at"] <= iso(starts_at):
            continue
        if a["status"] == "offered":
            to = decline_assignment(db, a["id"], "system:away", now, f"专家不可用：{reason or '已登记不可用时段'}")
            passed_on.append({"assignment_id": a["id"], "alert_id": a["alert_id"], "to": to})
        else:
            tasks.append({"assignment_id": a["id"], "alert_id": a["alert_id"], "status": a["status"],
                          "due_at": a["due_at"]})
    return {"id": absence_id, "open_tasks": tasks, "passed_on": passed_on}


def remove_absence(db, absence_id: int, actor: str, now: datetime, actor_expert_id: int | None = None) -> None:
    """Delete an absence (back earlier, trip cancelled); the audit log keeps what it was."""
    absence = store.get_absence(db, absence_id)
    if absence is None:
        raise WorkflowError(f"absence {absence_id} does not exist", "no_absence", id=absence_id)
    _check_absence_actor(absence["expert_id"], actor_expert_id)
    with store.transaction(db):
        store.delete_absence(db, absence_id)
        store.record_audit(db, actor, "expert.absence_remove", "expert", absence["expert_id"],
                           {k: absence[k] for k in ("id", "starts_at", "ends_at", "reason")}, at=iso(now))


# --- assignment lifecycle -------------------------------------------------------------------

def available_expert(db, expert_id: int, away: dict[int, dict]) -> dict:
    """The expert, refused when not in the pool or away (`away`: {expert_id: absence} for the time
    the work is wanted)."""
    expert = store.get_expert(db, expert_id)
    if expert is None or not expert["active"]:
        raise WorkflowError(f"expert {expert_id} does not exist or is inactive", "no_expert", id=expert_id)
    absence = away.get(expert_id)
    if absence:
        raise WorkflowError(f"expert {expert_id} is away from {absence['starts_at']} to {absence['ends_at']}",
                            "expert_away", name=expert["name"], at=absence["starts_at"], until=absence["ends_at"],
                            reason=absence["reason"] or "—")
    return expert


def _alert_or_fail(db, alert_id: int) -> dict:
    alert = store.get_alert(db, alert_id)
    if alert is None:
        raise WorkflowError(f"alert {alert_id} does not exist", "no_alert", id=alert_id)
    return alert


def _assignment_or_fail(db, assignment_id: int) -> dict:
    a = store.get_assignment(db, assignment_id)
    if a is None:
        raise WorkflowError(f"assignment {assignment_id} does not exist", "no_assignment", id=assignment_id)
    return a


def _check_expert_actor(assignment: dict, actor_expert_id: int | None) -> None:
    if actor_expert_id is not None and actor_expert_id != assignment["expert_id"]:
        raise WorkflowError(f"assignment {assignment['id']} belongs to another expert", "not_your_assignment",
                            id=assignment["id"])


def _check_not_cancelled(assignment: dict) -> None:
    """An assignment withdrawn with its dismissed alert (alerts.close_dismissed) takes no more work."""
    if assignment["status"] == "cancelled":
        raise WorkflowError(f"assignment {assignment['id']} was withdrawn: alert {assignment['alert_id']} was "
                            "dismissed, nothing more is needed", "assignment_cancelled", id=assignment["id"],
                            alert=assignment["alert_id"])


def _offer(db, alert: dict, expert: dict, actor: str, now: datetime, rules: dict, score=None, reasons=None) -> int:
    at = iso(now)
    due = min(now + timedelta(hours=rules["clocks"]["accept_hours"]), parse_time(alert["respond_by"]))
    if due <= now:
        due = now + timedelta(hours=rules["clocks"]["accept_hours"])
    assignment_id = store.insert_assignment(db, {
        "alert_id": alert["id"], "expert_id": expert["id"], "status": "offered", "score": score,
        "reasons": json.dumps(reasons or [], ensure_ascii=False), "assigned_by": actor, "assigned_at": at,
        "due_at": iso(due)})
    store.update_alert(db, alert["id"], {"status": "assigned", "assigned_expert": expert["id"], "updated_at": at})
    store.add_alert_step(db, alert["id"], "assigned", at, actor, f"指派 {expert['name']}（任务 #{assignment_id}）")
    store.record_audit(db, actor, "assignment.offer", "assignment", assignment_id,
                       {"alert_id": alert["id"], "expert_id": expert["id"], "score": score}, at=at)
    notify.queue_assignment(db, store.get_alert(db, alert["id"]), expert, assignment_id, rules, now)
    return assignment_id


def assign_expert(db, alert_id: int, expert_id: int, actor: str, now: datetime, rules: dict | None = None) -> int:
    """A monitor confirms an expert for an alert: the expert is offered the task. Returns the assignment id."""
    rules = rules or load_rules()
    alert = _alert_or_fail(db, alert_id)
    if alert["status"] in ("published", "dismissed"):
        raise WorkflowError(f"alert {alert_id} is already {alert['status']}; nothing to assign", "assign_closed",
                            id=alert_id, alert_status=alert["status"])
    expert = available_expert(db, expert_id, unavailable_experts(db, now))
    active = [a for a in store.alert_assignments(db, alert_id) if a["status"] in store.ASSIGNMENT_ACTIVE]
    if active:
        raise WorkflowError(f"alert {alert_id} already has active assignment #{active[0]['id']} "
                            f"({active[0]['expert_name']}, {active[0]['status']})", "assign_active", id=alert_id,
                            assignment=active[0]["id"], expert=active[0]["expert_name"],
                            assign_status=active[0]["status"])
    suggestion = next((s for s in suggest_experts(db, alert_id, limit=1000, now=now) if s["expert_id"] == expert_id),
                      None)
    with store.transaction(db):
        if store.get_alert(db, alert_id)["status"] == "open":
            store.add_alert_step(db, alert_id, "confirmed", iso(now), actor, "监测员确认预警")
        return _offer(db, alert, expert, actor, now, rules, suggestion and suggestion["score"],
                      suggestion and suggestion["reasons"])


def accept_assignment(db, assignment_id: int, actor: str, now: datetime, actor_expert_id: int | None = None) -> dict:
    a = _assignment_or_fail(db, assignment_id)
    _check_expert_actor(a, actor_expert_id)
    _check_not_cancelled(a)
    if a["status"] != "offered":
        raise WorkflowError(f"assignment {assignment_id} is {a['status']}; only an offered task can be accepted",
                            "accept_not_offered", id=assignment_id, assign_status=a["status"])
    alert = store.get_alert(db, a["alert_id"])
    at = iso(now)
    due = parse_time(alert["respond_by"])
    if due <= now:
        due = now + timedelta(hours=2)
    with store.transaction(db):
        store.update_assignment(db, assignment_id, {"status": "accepted", "responded_at": at, "due_at": iso(due),
                                                    "escalated_at": None})
        store.update_alert(db, a["alert_id"], {"status": "in_progress", "updated_at": at})
        store.add_alert_step(db, a["alert_id"], "accepted", at, actor, f"任务 #{assignment_id}")
        store.record_audit(db, actor, "assignment.accept", "assignment", assignment_id, {"alert_id": a["alert_id"]}, at=at)
    return store.get_assignment(db, assignment_id)


def decline_assignment(db, assignment_id: int, actor: str, now: datetime, reason: str,
                       actor_expert_id: int | None = None, rules: dict | None = None,
                       reassign: bool = True) -> int | None:
    """The expert declines; the task goes to the next suggested expert. Returns the new assignment
    id, or None when nobody is left (the alert goes back to the monitors, who are notified)."""
    rules = rules or load_rules()
    a = _assignment_or_fail(db, assignment_id)
    _check_expert_actor(a, actor_expert_id)
    _check_not_cancelled(a)
    if a["status"] not in ("offered", "accepted"):
        raise WorkflowError(f"assignment {assignment_id} is {a['status']}; it can no longer be declined",
                            "decline_late", id=assignment_id, assign_status=a["status"])
    if not reason or not reason.strip():
        raise WorkflowError("declining needs a reason (e.g. 专业不对口, 时间冲突)", "decline_reason")
    at = iso(now)
    with store.transaction(db):
        store.update_assignment(db, assignment_id, {"status": "declined", "responded_at": at, "decline_reason": reason})
        store.add_alert_step(db, a["alert_id"], "declined", at, actor, f"任务 #{assignment_id}：{reason}")
        store.record_audit(db, actor, "assignment.decline", "assignment", assignment_id,
                           {"alert_id": a["alert_id"], "reason": reason}, at=at)
        nxt = suggest_experts(db, a["alert_id"], limit=1, now=now) if reassign else []
        alert = store.get_alert(db, a["alert_id"])
        if nxt:
            expert = store.get_expert(db, nxt[0]["expert_id"])
            new_id = _offer(db, alert, expert, "system:reassign", now, rules, nxt[0]["score"], nxt[0]["reasons"])
            store.record_audit(db, "system:reassign", "assignment.reassign", "assignment", new_id,
                               {"after": assignment_id, "expert_id": expert["id"]}, at=at)
            return new_id
        store.update_alert(db, a["alert_id"], {"status": "open", "assigned_expert": None, "updated_at": at})
        store.add_alert_step(db, a["alert_id"], "unassigned", at, "system", "无可改派专家，退回监测员")
        notify.queue_escalation(db, store.get_alert(db, a["alert_id"]), "assignment", rules, now,
                                assignment=store.get_assignment(db, assignment_id))
        return None


REVIEWERS_SUGGESTED = 3


def suggest_reviewers(db, clarification: dict, now: datetime, limit: int = REVIEWERS_SUGGESTED) -> list[dict]:
    """Experts to review a submitted clarification ("由相应领域的专家进行编写与审核", seed 000
    §(三)1): active experts of the pool with an account, not its author, not away in the next
    hours (TASK_HOURS), of the alert's Healthy China topic when it has one; highest level first,
    then the least busy. Each row is the expert with its `username`."""
    alert = store.get_alert(db, clarification["alert_id"]) or {}
    topic = alert.get("topic")
    accounts = store.expert_accounts(db)
    away = unavailable_experts(db, now)
    loads = store.expert_loads(db)
    level = {name: n for n, name in enumerate(LEVELS)}
    found = [dict(e, username=accounts[e["id"]]) for e in store.list_experts(db, True)
             if e["id"] in accounts and e["id"] != clarification.get("expert_id") and e["id"] not in away
             and (topic not in TOPICS or topic in expert_topics(e))]
    found.sort(key=lambda e: (level.get(e["level"], len(LEVELS)), loads.get(e["id"], 0), e["name"]))
    return found[:limit]


def withdraw_assignment(db, assignment_id: int, actor: str, now: datetime, reason: str,
                        rules: dict | None = None) -> dict:
    """A monitor takes an offered or accepted task back from its expert (away, not answering, not
    the right person), saying why: the task is cancelled and moves to the expert's withdrawn tasks,
    the expert is told, and the alert goes back to the monitors to assign again (its clocks run on).
    A draft the expert had saved stays with the alert; one under review must be returned first."""
    rules = rules or load_rules()
    a = _assignment_or_fail(db, assignment_id)
    if a["status"] == "submitted":
        raise WorkflowError(f"assignment {assignment_id} has a draft under review; return it in review first",
                            "withdraw_in_review", id=assignment_id)
    if a["status"] not in ("offered", "accepted"):
        raise WorkflowError(f"assignment {assignment_id} is {a['status']}; only an offered or accepted task can be "
                            "withdrawn", "withdraw_closed", id=assignment_id, assign_status=a["status"])
    reason = (reason or "").strip()
    if not reason:
        raise WorkflowError("withdrawing a task needs a reason (e.g. 专家出差, 超时未接受)", "withdraw_reason")
    at = iso(now)
    expert = store.get_expert(db, a["expert_id"])
    with store.transaction(db):
        store.update_assignment(db, assignment_id, {"status": "cancelled", "cancelled_at": at, "cancelled_by": actor,
                                                    "cancel_reason": reason})
        store.update_alert(db, a["alert_id"], {"status": "open", "assigned_expert": None, "updated_at": at})
        store.add_alert_step(db, a["alert_id"], "withdrawn", at, actor,
                             f"任务 #{assignment_id}（{expert['name']}）撤回：{reason}")
        store.record_audit(db, actor, "assignment.withdraw", "assignment", assignment_id,
                           {"alert_id": a["alert_id"], "was": a["status"], "reason": reason}, at=at)
        notify.queue_withdrawal(db, store.get_alert(db, a["alert_id"]), expert, assignment_id, reason, rules, now,
                                dismissed=False)
    return store.get_assignment(db, assignment_id)


def away_before_due(db, assignment: dict, now: datetime) -> dict | None:
    """The first absence of the assignment's expert between now and the task's due time, None when
    the expert is there until then (the 预警 page warns, so the task can be withdrawn in time)."""
    if assignment["status"] not in ("offered", "accepted") or not assignment.get("due_at"):
        return None
    found = store.absences_between(db, iso(now), assignment["due_at"], assignment["expert_id"])
    return found[0] if found else None


# --- clarifications --------------------------------------------------------------------------

TRANSLATION_MAX = 20_000  # characters of a clarification's version in another script


def save_draft(db, assignment_id: int, actor: str, now: datetime, title: str, body: str,
               references: str = "", actor_expert_id: int | None = None, *, claim: str | None = None,
               translation: str | None = None) -> int:
    """Create or update the assignment's draft clarification. Returns the clarification id.

    `claim` states the claim the clarification answers, in the words a post would use (e.g.
    "喝淡盐水可以预防病毒感染"): once published, later posts repeating it show this clarification
    (rumourwatch.score). None keeps what the draft has; without one, a claim is suggested from
    the alert's item text (knowledge.suggested_claim).

    `translation` is the clarification in Mongolian, Tibetan or Uyghur script (its title and text),
    for readers of a story told in that script (`alert_language`); its script is recorded. None
    keeps what the draft has, "" removes it; a text in no such script is refused."""
    from .knowledge import claim_words

    a = _assignment_or_fail(db, assignment_id)
    _check_expert_actor(a, actor_expert_id)
    _check_not_cancelled(a)
    if a["status"] not in ("accepted", "submitted"):
        raise WorkflowError(f"assignment {assignment_id} is {a['status']}; accept it before drafting",
                            "draft_not_accepted", id=assignment_id, assign_status=a["status"])
    if not title.strip() or not body.strip():
        raise WorkflowError("a clarification needs a title and a body", "draft_empty")
    if claim is not None and claim.strip() and not claim_words(claim):
        raise WorkflowError("the claim is too short to recognise repeats of it: state it in at least ten characters, "
                            "as a post would (emoticons and @mentions do not count)", "claim_short", value=claim.strip())
    version = {}
    if translation is not None:
        translation = translation.strip()
        language = written_in(translation) if translation else None
        if translation and language is None:
            raise WorkflowError("the translation must be written in Mongolian, Tibetan or Uyghur script (the Chinese "
                                "version goes in the title and body)", "translation_script")
        if len(translation) > TRANSLATION_MAX:
            raise WorkflowError(f"the translation is {len(translation):,} characters, over {TRANSLATION_MAX:,}",
                                "translation_long", length=f"{len(translation):,}", limit=f"{TRANSLATION_MAX:,}")
        version = {"translation": translation or None, "translation_language": language}
    alert = store.get_alert(db, a["alert_id"])
    at = iso(now)
    existing = [c for c in store.clarifications_for_alert(db, a["alert_id"])
                if c["assignment_id"] == assignment_id and c["status"] in ("draft", "in_review")]
    with store.transaction(db):
        if existing:
            c = existing[0]
            if c["status"] == "in_review":
                raise WorkflowError(f"clarification {c['id']} is under review; wait for the reviewer", "draft_in_review",
                                    id=c["id"])
            changes = {"title": title, "body": body, "references_text": references, "updated_at": at, **version}
            if claim is not None:
                changes["claim"] = claim.strip() or None
            store.update_clarification(db, c["id"], changes)
            cid = c["id"]
        else:
            cid = store.insert_clarification(db, {
                "alert_id": a["alert_id"], "assignment_id": assignment_id, "expert_id": a["expert_id"],
                "cluster_id": alert["cluster_id"], "title": title, "body": body, "references_text": references,
                "claim": (claim or "").strip() or None, "status": "draft", "author": actor, "created_at": at,
                "updated_at": at, **version})
            store.add_alert_step(db, a["alert_id"], "drafted", at, actor, f"澄清稿 #{cid}")
        store.record_audit(db, actor, "clarification.draft", "clarification", cid, {"assignment_id": assignment_id}, at=at)
    return cid


def submit_for_review(db, clarification_id: int, actor: str, now: datetime, actor_expert_id: int | None = None,
                      rules: dict | None = None, vocab=None) -> dict:
    """The author submits a draft for review; the monitors are told it waits (notify.queue_review_event).
    The draft's self-check (draftcheck: `vocab` the bundle's, read when None) goes into the alert's
    timeline and the audit log: the reviewer sees what was left to weigh."""
    c = store.get_clarification(db, clarification_id)
    if c is None:
        raise WorkflowError(f"clarification {clarification_id} does not exist", "no_clarification", id=clarification_id)
    if actor_expert_id is not None and c["expert_id"] != actor_expert_id:
        raise WorkflowError(f"clarification {clarification_id} belongs to another expert", "not_your_clarification",
                            id=clarification_id)
    if c["assignment_id"]:
        _check_not_cancelled(store.get_assignment(db, c["assignment_id"]))
    if c["status"] != "draft":
        raise WorkflowError(f"clarification {clarification_id} is {c['status']}; only a draft can be submitted",
                            "submit_not_draft", id=clarification_id, clar_status=c["status"])
    checks = draftcheck.clarification_checks(db, c, vocab=vocab)
    at = iso(now)
    with store.transaction(db):
        store.update_clarification(db, clarification_id, {"status": "in_review", "submitted_at": at, "updated_at": at})
        if c["assignment_id"]:
            store.update_assignment(db, c["assignment_id"], {"status": "submitted", "submitted_at": at})
        store.update_alert(db, c["alert_id"], {"status": "in_review", "updated_at": at})
        store.add_alert_step(db, c["alert_id"], "submitted", at, actor,
                             f"澄清稿 #{clarification_id} 提交审核；{draftcheck.summary(checks)}")
        store.record_audit(db, actor, "clarification.submit", "clarification", clarification_id,
                           {"self_check": [w.key for w in draftcheck.warnings(checks)]}, at=at)
        notify.queue_review_event(db, store.get_alert(db, c["alert_id"]), store.get_clarification(db, clarification_id),
                                  "review_requested", rules or load_rules(), now,
                                  reviewers=suggest_reviewers(db, c, now))
    return store.get_clarification(db, clarification_id)


def review_clarification(db, clarification_id: int, reviewer: str, now: datetime, approve: bool,
                         note: str = "", rules: dict | None = None, vocab=None) -> dict:
    """A reviewer (not the author) approves, or returns the draft with a note. The monitors are told
    an approved one is to be published; the author, a returned one's note. The self-check's warnings
    the reviewer decided with (draftcheck, the reviewer's own field among them) are kept in the
    audit log, and an approval's step in the timeline names them."""
    c = store.get_clarification(db, clarification_id)
    if c is None:
        raise WorkflowError(f"clarification {clarification_id} does not exist", "no_clarification", id=clarification_id)
    if c["status"] != "in_review":
        raise WorkflowError(f"clarification {clarification_id} is {c['status']}; only one under review can be reviewed",
                            "review_not_in_review", id=clarification_id, clar_status=c["status"])
    if reviewer == c["author"]:
        raise WorkflowError("the author cannot review their own clarification; ask another expert or a monitor",
                            "review_own")
    if not approve and not note.strip():
        raise WorkflowError("returning a draft needs a note saying what to change", "return_note")
    warned = draftcheck.warnings(draftcheck.clarification_checks(
        db, c, vocab=vocab, reviewer=reviewer))
    step_note = note or None
    if approve and warned:
        step_note = "；".join(filter(None, [note, f"审核时{draftcheck.summary(warned)}"]))
    at = iso(now)
    with store.transaction(db):
        store.update_clarification(db, clarification_id, {
            "status": "approved" if approve else "draft", "reviewed_by": reviewer, "reviewed_at": at,
            "review_note": note or None, "updated_at": at})
        if not approve:
            if c["assignment_id"]:
                store.update_assignment(db, c["assignment_id"], {"status": "accepted"})
            store.update_alert(db, c["alert_id"], {"status": "in_progress", "updated_at": at})
        store.add_alert_step(db, c["alert_id"], "approved" if approve else "returned", at, reviewer, step_note)
        store.record_audit(db, reviewer, "clarification.approve" if approve else "clarification.return",
                           "clarification", clarification_id, {"note": note, "self_check": [w.key for w in warned]},
                           at=at)
        author = store.get_expert(db, c["expert_id"]) if c["expert_id"] is not None else None
        notify.queue_review_event(db, store.get_alert(db, c["alert_id"]), store.get_clarification(db, clarification_id),
                                  "clarification_approved" if approve else "clarification_returned",
                                  rules or load_rules(), now, expert=author)
    return store.get_clarification(db, clarification_id)


def publish_clarification(db, clarification_id: int, actor: str, now: datetime, url: str,
                          published_at: datetime | None = None) -> dict:
    """Record the publication (url, time): the alert's information-release step is done and the
    item's whole cluster shows as clarified."""
    c = store.get_clarification(db, clarification_id)
    if c is None:
        raise WorkflowError(f"clarification {clarification_id} does not exist", "no_clarification", id=clarification_id)
    if c["status"] != "approved":
        raise WorkflowError(f"clarification {clarification_id} is {c['status']}; it must be approved before publishing",
                            "publish_not_approved", id=clarification_id, clar_status=c["status"])
    if not url or not url.strip().startswith(("http://", "https://")):
        raise WorkflowError("the publication url must start with http:// or https://", "publish_url",
                            value=(url or "").strip())
    at = iso(now)
    pub = iso(published_at or now)
    alert = store.get_alert(db, c["alert_id"])
    with store.transaction(db):
        store.update_clarification(db, clarification_id, {"status": "published", "published_url": url.strip(),
                                                          "published_at": pub, "published_by": actor, "updated_at": at})
        if c["assignment_id"]:
            store.update_assignment(db, c["assignment_id"], {"status": "completed", "completed_at": at})
        changes = {"status": "published", "closed_at": at, "updated_at": at}
        if not alert["responded_at"]:
            changes["responded_at"] = pub
        store.update_alert(db, c["alert_id"], changes)
        store.add_alert_step(db, c["alert_id"], "published", at, actor, url.strip())
        store.mark_clarified(db, clarification_id)  # its item and cluster read 已辟谣 at once
        store.record_audit(db, actor, "clarification.publish", "clarification", clarification_id,
                           {"url": url, "published_at": pub, "alert_id": c["alert_id"]}, at=at)
    return store.get_clarification(db, clarification_id)


def item_clarification(db, item_id: int) -> dict | None:
    """The published clarification that covers this item: the one of its cluster, else the one
    whose claim the item repeats (its latest score matched it: rumourwatch.score), then marked
    `similar` with the match's `similarity`, for the monitor to check that it is the same claim."""
    item = store.get_item(db, item_id)
    if item is None:
        return None
    found = store.published_clarification_for_cluster(db, item["cluster_id"], item_id)
    if found is not None or not item.get("debunk_clarification_id"):
        return found
    matched = store.get_clarification(db, item["debunk_clarification_id"])
    if matched is None or matched["status"] != "published":
        return None
    return dict(matched, similar=True, similarity=store.latest_debunk_score(db, item_id))


# --- verdicts ---------------------------------------------------------------------------------

def record_verdict(db, item_id: int, verdict: str, reason: str, actor: str, now: datetime,
                   alert_id: int | None = None) -> int:
    """Confirmed rumour / not a rumour / unverifiable for an item and its cluster (retraining labels).

    The verdict is a step of `alert_id` and of every alert still open on the item or its cluster;
    'not_rumour' dismisses those open alerts with the verdict's reason (a false alarm needs no
    clarification). A dismissed alert that keeps spreading to a higher severity reopens as any other
    (alerts._upsert_alert)."""
    if verdict not in VERDICTS:
        raise WorkflowError(f"verdict must be one of {', '.join(VERDICTS)} (got {verdict!r})", "bad_verdict",
                            value=verdict)
    if not reason or not reason.strip():
        raise WorkflowError("a verdict needs a reason", "verdict_reason")
    item = store.get_item(db, item_id)
    if item is None:
        raise WorkflowError(f"item {item_id} does not exist", "no_item", id=item_id)
    at = iso(now)
    with store.transaction(db):
        vid = store.insert_verdict(db, {"item_id": item_id, "cluster_id": item["cluster_id"], "alert_id": alert_id,
                                        "verdict": verdict, "reason": reason.strip(), "actor": actor, "at": at})
        open_alerts = store.open_alerts_for_item(db, item_id)
        stepped = ({alert_id} if alert_id else set()) | {a["id"] for a in open_alerts}
        for aid in sorted(stepped):
            store.add_alert_step(db, aid, f"verdict:{verdict}", at, actor, reason.strip())
        if verdict == "not_rumour":
            for a in open_alerts:
                close_dismissed(db, a["id"], actor, at, reason.strip())
        store.record_audit(db, actor, "verdict.record", "item", item_id,
                           {"verdict": verdict, "reason": reason, "cluster_id": item["cluster_id"]}, at=at)
    return vid


# --- publisher watchlist and takedowns --------------------------------------------------------

def _followers(user_json: str | None) -> int | None:
    if not user_json:
        return None
    try:
        user = json.loads(user_json)
    except ValueError:
        return None
    for key in ("followers", "followers_count", "fans"):
        value = user.get(key) if isinstance(user, dict) else None
        if isinstance(value, (int, float)):
            return int(value)
    return None


def publisher_watchlist(db, since: datetime | None, until: datetime | None, min_false_items: int = 1) -> list[dict]:
    """Accounts with items confirmed false (verdict 'rumour') published in [since, until), with reach."""
    by_account: dict = {}
    for i in store.confirmed_false_items(db, iso(since), iso(until)):
        account = i["account"] or i["author"]
        if not account:
            continue
        key = (i["platform"], account)
        row = by_account.setdefault(key, {"platform": i["platform"], "account": account, "false_items": 0,
                                          "clusters": set(), "reach": 0, "followers": None, "first_at": None,
                                          "last_at": None, "example_urls": []})
        row["false_items"] += 1
        row["clusters"].add(i["cluster_id"] or -i["id"])
        row["reach"] += (i["repost_num"] or 0) + (i["comment_num"] or 0) + (i["like_num"] or 0)
        followers = _followers(i["user_json"])
        if followers is not None:
            row["followers"] = max(row["followers"] or 0, followers)
        row["first_at"] = min(filter(None, [row["first_at"], i["published_at"]]))
        row["last_at"] = max(filter(None, [row["last_at"], i["published_at"]]))
        if i["url"] and len(row["example_urls"]) < 3:
            row["example_urls"].append(i["url"])
    takedowns = store.list_takedowns(db, limit=100000)
    out = []
    for row in by_account.values():
        if row["false_items"] < min_false_items:
            continue
        row["clusters"] = len(row["clusters"])
        mine = [t for t in takedowns if t["platform"] == row["platform"] and t["account"] == row["account"]]
        row["takedowns_requested"] = len(mine)
        row["takedowns_removed"] = sum(t["status"] == "removed" for t in mine)
        out.append(row)
    out.sort(key=lambda r: (-r["false_items"], -r["reach"], r["account"]))
    return out


WATCHLIST_CSV_HEADER = ("平台", "账号", "确认虚假条目数", "涉及谣言数", "传播量（转发+评论+点赞）", "粉丝数",
                        "首次发布（UTC）", "最近发布（UTC）", "删除请求数", "已删除数", "示例链接")


def watchlist_csv(rows: list[dict]) -> str:
    """The watchlist as CSV for reporting to the competent authority (`exports.csv_text`: UTF-8 with
    BOM for Excel; an account name written as a formula stays text)."""
    return csv_text(WATCHLIST_CSV_HEADER, (
        [r["platform"], r["account"], r["false_items"], r["clusters"], r["reach"], r["followers"], r["first_at"],
         r["last_at"], r["takedowns_requested"], r["takedowns_removed"], " ".join(r["example_urls"])] for r in rows))


def request_takedown(db, item_id: int, actor: str, now: datetime, note: str = "") -> int:
    """Record a request to the platform to delete a false item (status 'requested')."""
    item = store.get_item(db, item_id)
    if item is None:
        raise WorkflowError(f"item {item_id} does not exist", "no_item", id=item_id)
    open_ = [t for t in store.list_takedowns(db, "requested", 100000) if t["item_id"] == item_id]
    if open_:
        raise WorkflowError(f"item {item_id} already has an open takedown request #{open_[0]['id']}", "takedown_open",
                            id=item_id, takedown=open_[0]["id"])
    at = iso(now)
    with store.transaction(db):
        tid = store.insert_takedown(db, {"item_id": item_id, "platform": item["platform"], "account": item["account"],
                                         "url": item["url"], "status": "requested", "requested_by": actor,
                                         "requested_at": at, "note": note or None})
        store.record_audit(db, actor, "takedown.request", "takedown", tid, {"item_id": item_id, "note": note}, at=at)
    return tid


def record_takedown_outcome(db, takedown_id: int, outcome: str, actor: str, now: datetime, note: str = "") -> dict:
    if outcome not in ("removed", "refused"):
        raise WorkflowError(f"outcome must be removed or refused (got {outcome!r})", "bad_outcome", value=outcome)
    t = store.get_takedown(db, takedown_id)
    if t is None:
        raise WorkflowError(f"takedown request {takedown_id} does not exist", "no_takedown", id=takedown_id)
    if t["status"] != "requested":
        raise WorkflowError(f"takedown request {takedown_id} is already {t['status']}", "takedown_closed",
                            id=takedown_id, takedown_status=t["status"])
    at = iso(now)
    with store.transaction(db):
        store.update_takedown(db, takedown_id, {"status": outcome, "outcome_by": actor, "outcome_at": at,
                                                "outcome_note": note or None})
        store.record_audit(db, actor, f"takedown.{outcome}", "takedown", takedown_id, {"note": note}, at=at)
    return store.get_takedown(db, takedown_id)
