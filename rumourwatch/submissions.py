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
import re
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from pathlib import Path

from . import ingest, store
from .alerts import WorkflowError
from .errors import RumourwatchError
from .records import CST, iso
from .reports import parse_month
from .uploads import MAX_MB, table_rows

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


def _checked(db, *, unit_id, kind: str, title, content, url, platform, occurred_at: datetime | None,
             now: datetime) -> tuple[dict | None, dict, list[WorkflowError]]:
    """A submission's unit, its clean fields and every problem found (WorkflowErrors, not raised):
    the kind, the unit (unknown, inactive), the title and content (missing, too long), the link (not
    a web address), the time (ahead of `now`)."""
    problems: list[WorkflowError] = []

    def check(fn, *args):
        try:
            return fn(*args)
        except WorkflowError as exc:
            problems.append(exc)
            return None

    def too_long(field: str) -> bool:
        return any(p.params.get("submission_field") == field for p in problems)

    if kind not in KINDS:
        problems.append(WorkflowError(f"unknown submission kind {kind!r}; one of {', '.join(KINDS)}",
                                      "submission_kind", value=kind))
    unit = check(_unit, db, unit_id)
    title = check(_text, title, TITLE_MAX, "title")
    if title is None and not too_long("title"):
        problems.append(WorkflowError("a submission needs its title", "submission_title_missing"))
    content = check(_text, content, CONTENT_MAX, "content")
    if content is None and not too_long("content"):
        problems.append(WorkflowError("a submission needs its content", "submission_content_missing"))
    url = (url or "").strip() or None
    if url and not url.lower().startswith(("http://", "https://")):
        problems.append(WorkflowError(f"the link {url!r} is not a web address (http:// or https://)",
                                      "submission_url", value=url))
    if occurred_at is not None and (occurred_at - now).total_seconds() > _FUTURE_TOLERANCE_S:
        problems.append(WorkflowError(f"the submission's time {iso(occurred_at)} is in the future",
                                      "submission_future", at=occurred_at.astimezone(CST).strftime("%Y-%m-%d %H:%M")))
    fields = {"kind": kind, "title": title, "content": content, "url": url,
              "platform": (platform or "").strip() or None, "occurred_at": iso(occurred_at) if occurred_at else None}
    return unit, fields, problems


def _feed_item(unit: dict, fields: dict, now: datetime, seen: str | None = None):
    """A 舆情信息 submission's content as an item for the feed, published when it happened or was
    seen (else `seen`, else now); RecordError for content the feed refuses, before any write; None
    for the other kinds."""
    if fields["kind"] != "opinion":
        return None
    return ingest.normalise_item({"title": fields["title"], "text": fields["content"], "url": fields["url"],
                                  "platform": fields["platform"] or PLATFORM, "account": unit["name"],
                                  "date": fields["occurred_at"] or seen}, f"unit:{unit['code']}", now)


def _file(db, unit: dict, fields: dict, item, *, actor: str, at: datetime, now: datetime, **decision) -> int:
    """Store one checked submission made `at` (and its item), inside the caller's transaction."""
    item_id = None
    if item is not None:
        ingest.ingest_item(db, item, f"unit:{unit['code']}", now)
        item_id = store.find_item(db, item.row["platform"], item.row["external_id"])["id"]
    return store.insert_submission(db, {"unit_id": unit["id"], **fields, "submitted_by": actor,
                                        "submitted_at": iso(at), "status": "submitted", "item_id": item_id,
                                        **decision})


def submit(db, *, unit_id: int, kind: str, title: str, content: str, actor: str, now: datetime,
           url: str | None = None, platform: str | None = None, occurred_at: datetime | None = None) -> dict:
    """Record one submission of `unit_id` by `actor` (a correspondent of the unit, or the office
    entering one received by mail). WorkflowError, and nothing written, when a field is missing, too
    long, the link is not a web address, the time lies ahead or the unit is unknown or inactive.
    Returns the stored submission (with `item_id` for 舆情信息)."""
    unit, fields, problems = _checked(db, unit_id=unit_id, kind=kind, title=title, content=content, url=url,
                                      platform=platform, occurred_at=occurred_at, now=now)
    if problems:
        raise problems[0]
    item = _feed_item(unit, fields, now)
    with store.transaction(db):
        sid = _file(db, unit, fields, item, actor=actor, at=now, now=now)
        store.record_audit(db, actor, "submission.submit", "submission", sid,
                           {"unit": unit["name"], "kind": kind, "item_id": store.get_submission(db, sid)["item_id"]},
                           at=iso(now))
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


# --- 信息报送台账: a ledger of pieces the units sent before the platform, or by mail ------------------

# columns of a ledger file (an office's spreadsheet saved as CSV), by their English or Chinese names
LEDGER_COLUMNS = ("unit", "kind", "title", "content", "date", "status", "adopted_in", "note", "url", "platform")
LEDGER_REQUIRED = ("unit", "kind", "title", "content", "date")
LEDGER_ZH = {"单位": "unit", "报送单位": "unit", "类别": "kind", "标题": "title", "内容": "content", "报送日期": "date",
             "日期": "date", "状态": "status", "采用于": "adopted_in", "说明": "note", "链接": "url", "出现平台": "platform"}
KIND_NAMES = {"舆情信息": "opinion", "工作动态": "work", "健康科普": "science", **{k: k for k in KINDS}}
STATUS_NAMES = {"": "submitted", "待处理": "submitted", "已采用": "adopted", "采用": "adopted", "未采用": "declined",
                "不采用": "declined", "submitted": "submitted", "adopted": "adopted", "declined": "declined"}
_DAY = re.compile(r"(\d{4})\s*[-/.年]\s*(\d{1,2})\s*[-/.月]\s*(\d{1,2})\s*日?")
LEDGER_TIME = time(12, 0)  # a ledger gives the day: the piece counts at noon of it (Beijing)


@dataclass
class LedgerReport:
    created: int = 0
    items: int = 0  # 舆情信息 filed in the feed
    errors: list[str] = field(default_factory=list)  # 'row N: …' in English (CLI, audit log)
    problems: list[tuple[int, list[RumourwatchError]]] = field(default_factory=list)  # (N, the row's problems)


def ledger_template() -> str:
    """A ledger file to fill in (Excel, WPS): the Chinese column names and one example row."""
    from .exports import csv_text

    names = {v: k for k, v in LEDGER_ZH.items() if k not in ("报送单位", "日期")}
    return csv_text([names[c] for c in LEDGER_COLUMNS],
                    [["U001", "工作动态", "开展健康科普进社区活动", "本周在三个社区开展健康科普讲座，约 200 名居民参加。",
                      "2026-11-05", "已采用", "舆情日报", "", "", ""]])


def _ledger_rows(source, name: str | None, max_mb: float) -> tuple[list[str], list[tuple[int, dict]]]:
    """A ledger's header and rows (`uploads.table_rows`): from a path, or an upload's bytes."""
    if not isinstance(source, bytes):
        path = Path(source)
        if not path.is_file():
            raise WorkflowError(f"ledger file {path} does not exist", "ledger_missing", path=str(path))
        source, name = path.read_bytes(), str(path)
    return table_rows(name, source, max_mb, rename=lambda column: LEDGER_ZH.get(column, column))


def import_ledger(db, source, *, actor: str, now: datetime, name: str | None = None,
                  max_mb: float = MAX_MB) -> LedgerReport:
    """Record the pieces of a 信息报送台账 (an Excel workbook's first sheet, or a CSV, UTF-8 or GB18030,
    commas or tabs: a path, or the bytes of an upload named `name`): one row a piece, columns `unit` (code or name), `kind`
    (舆情信息 / 工作动态 / 健康科普), `title`, `content`, `date` (the day it was reported; it counts in
    that month), optional `status` (待处理 / 已采用 / 未采用: declined needs its `note`), `adopted_in`,
    `note`, `url`, `platform` — or their Chinese names (单位, 类别, 标题, 内容, 报送日期 …). A file that
    is no such text, or lacks a required column, is refused whole; each bad row is set aside with
    every problem it has, the others recorded (a 舆情信息 row also enters the feed, as a submitted
    one does). A row already recorded (same unit, day and title) is set aside as a duplicate, so a
    ledger imported twice counts once. One audit entry says what was imported and what set aside."""
    header, raws = _ledger_rows(source, name, max_mb)
    missing = [c for c in LEDGER_REQUIRED if c not in header]
    if missing:
        raise WorkflowError(f"the ledger's header lacks column(s) {', '.join(missing)}; expected "
                            f"{','.join(LEDGER_COLUMNS)} (or 单位,类别,标题,内容,报送日期 …)", "ledger_header",
                            missing="、".join(missing))
    report, seen, rows = LedgerReport(), {}, []
    for line, raw in raws:
        problems, row = _ledger_row(db, raw, seen, line, actor, now)
        if problems:
            report.problems.append((line, problems))
            report.errors.append(f"row {line}: " + "; ".join(str(p) for p in problems))
        else:
            rows.append(row)
    at = iso(now)
    with store.transaction(db):
        for unit, fields, item, when, decision in rows:
            _file(db, unit, fields, item, actor=actor, at=when, now=now, **decision)
            report.created += 1
            report.items += item is not None
        store.record_audit(db, actor, "submission.import", "submission", None,
                           {"created": report.created, "items": report.items, "errors": report.errors}, at=at)
    return report


def _ledger_row(db, raw: dict, seen: dict, line: int, actor: str, now: datetime) -> tuple[list, tuple | None]:
    """One ledger row checked: (every problem it has, None) or ([], (unit, fields, item, when it
    counts, the office's decision))."""
    value = {k: (raw.get(k) or "").strip() for k in LEDGER_COLUMNS}
    problems: list[RumourwatchError] = []
    if raw.get(None):
        problems.append(WorkflowError(f"{len(raw[None])} more value(s) than columns (a comma inside a field needs "
                                      "quotes)", "ledger_extra", n=len(raw[None])))
    found = store.find_unit(db, value["unit"]) if value["unit"] else None
    unit, fields, checked = _checked(db, unit_id=found["id"] if found else value["unit"] or None,
                                     kind=KIND_NAMES.get(value["kind"], value["kind"]), title=value["title"],
                                     content=value["content"], url=value["url"], platform=value["platform"],
                                     occurred_at=None, now=now)
    problems += checked  # in the columns' order: the unit's, the piece's, then the day and the status
    day = _ledger_day(value["date"])
    if day is None:
        problems.append(WorkflowError(f"{value['date']!r} is not a day (2026-11-05)", "ledger_date",
                                      value=value["date"]))
    elif day > now.astimezone(CST).date():
        problems.append(WorkflowError(f"the day {day} is after today", "ledger_future", day=day.isoformat()))
        day = None
    status = STATUS_NAMES.get(value["status"])
    if status is None:
        problems.append(WorkflowError(f"unknown status {value['status']!r}; 待处理, 已采用 or 未采用", "ledger_status",
                                      value=value["status"]))
    note = value["note"] or None
    if status == "declined" and not note:
        problems.append(WorkflowError("declining a submission needs the reason, which the unit reads",
                                      "submission_note_missing"))
    if unit and fields["title"] and day:
        key = (unit["id"], day, fields["title"])
        start, end = store.day_range(day, 1)
        if key in seen:
            problems.append(WorkflowError(f"the same piece as row {seen[key]} (unit, day and title)",
                                          "ledger_duplicate_row", row=seen[key]))
        elif (earlier := store.find_submission(db, unit["id"], fields["title"], start, end)) is not None:
            problems.append(WorkflowError(f"already recorded as submission #{earlier} (unit, day and title)",
                                          "ledger_duplicate", id=earlier))
        seen.setdefault(key, line)
    if problems:
        return problems, None
    when = min(datetime.combine(day, LEDGER_TIME, tzinfo=CST), now)
    try:
        item = _feed_item(unit, fields, now, seen=iso(when))
    except RumourwatchError as exc:  # content the feed refuses
        return [exc], None
    decision = {}
    if status != "submitted":
        decision = {"status": status, "decided_at": iso(when), "decided_by": actor, "decision_note": note,
                    "adopted_in": (value["adopted_in"] or None) if status == "adopted" else None}
    return [], (unit, fields, item, when, decision)


def _ledger_day(text: str) -> date | None:
    """A ledger's day: 2026-11-05, 2026/11/5, 2026.11.5 or 2026年11月5日; None for anything else."""
    match = _DAY.fullmatch(text)
    try:
        return date(*map(int, match.groups())) if match else None
    except ValueError:  # 2026-02-30
        return None


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
