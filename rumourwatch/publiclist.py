"""专家库名单公布: the pool's list as published to the public, in batches.

Seed 000 §(一)1: "通过各单位推荐和专业评价，不断吸纳符合条件的专家进入健康科普专家库，并分批向社会公布
名单". The published list names each expert in the pool — name, title, institution, fields, level,
region — and nothing an expert gave the office to be reached by (phone, mailbox, capacity), grouped
by level, national first. A batch is the experts who joined the pool since the last list published
(or since a day the office picks); the first list is the whole pool. Written as a Word document laid
out as an official document (wordfile) for the office to issue under its own header, or as CSV.
Publishing is audited, and the day of the last list kept, so the next batch starts there.

    rows = public_list(db, since="2026-11-01")
    path = write_public_list(db, "名单.docx", actor="admin", now=now, since=None)
"""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path

from . import store
from .experts import LEVELS
from .exports import csv_text
from .records import CST, beijing, iso

HEADER = ("序号", "姓名", "职称", "单位", "专业领域", "级别", "地区")
STATE_KEY = "public_list_published"  # workflow_state: the last list published {"at", "count", "since"}
FORMATS = (".docx", ".csv")


def public_list(db, since: str | None = None, after: str | None = None) -> list[dict]:
    """The experts in the pool (active) — those who joined on or after the day `since` ('YYYY-MM-DD',
    Beijing), or after the time `after` (ISO: the last list's), when given; no contact details.
    Ordered by level (national first), region, name."""
    rows = []
    for e in store.list_experts(db, active_only=True):
        if since and beijing(e["created_at"], "%Y-%m-%d") < since or after and e["created_at"] <= after:
            continue
        rows.append({"name": e["name"], "title": e["title"] or "", "institution": e["institution"],
                     "fields": "、".join(json.loads(e["specialties"])), "level": e["level"],
                     "region": e["region"] or ""})
    return sorted(rows, key=lambda r: (LEVELS.index(r["level"]), r["region"], r["name"]))


def last_published(db) -> dict | None:
    """The last list published: {"at" (ISO), "count", "since"}, or None."""
    raw = store.workflow_state(db, STATE_KEY)
    return json.loads(raw) if raw else None


def _table(rows: list[dict]) -> list[list]:
    return [[i, r["name"], r["title"], r["institution"], r["fields"], r["level"], r["region"]]
            for i, r in enumerate(rows, 1)]


def list_csv(rows: list[dict]) -> str:
    return csv_text(HEADER, _table(rows))


def list_docx(rows: list[dict], output: str | Path, now: datetime, since: str | None = None) -> Path:
    """The list as a Word document: one table a level, national first; `since` (a day) says it is
    a batch of the experts who joined since then."""
    from .wordfile import write_docx

    day = now.astimezone(CST).date()
    subtitle = (f"（{since} 以来新增入库专家，截至 {day.year} 年 {day.month} 月 {day.day} 日）" if since
                else f"（截至 {day.year} 年 {day.month} 月 {day.day} 日）")
    parts = []
    for level in LEVELS:
        at_level = [r for r in rows if r["level"] == level]
        if at_level:
            table = [row[:5] + row[6:] for row in _table(at_level)]  # the level is the heading
            parts.append((f"{level}专家（{len(at_level)} 位）",
                          [("table", None, [h for h in HEADER if h != "级别"], table, ())]))
    if not parts:
        parts.append(("名单", [("empty", "没有符合条件的专家。")]))
    return write_docx(output, "健康科普专家库专家名单", subtitle, [f"共 {len(rows)} 位专家"], parts,
                      "本名单不含专家联系方式。", generated_at=now)


def record_published(db, *, count: int, since: str | None, actor: str, now: datetime, fmt: str) -> None:
    """The list was published (written, or downloaded from the page): audited, and the day kept."""
    at = iso(now)
    with store.transaction(db):
        store.set_workflow_state(db, STATE_KEY, json.dumps({"at": at, "count": count, "since": since}))
        store.record_audit(db, actor, "experts.publish_list", "experts", None,
                           {"count": count, "since": since, "format": fmt}, at=at)


def write_public_list(db, output: str | Path, *, actor: str, now: datetime, since: str | None = None,
                      new: bool = False) -> int:
    """Write the list to `output` (.docx or .csv) — the whole pool, the experts who joined since the
    day `since`, or (`new`) those who joined since the last list published — and record it as
    published. Returns how many experts it names. ValueError for another file type."""
    output = Path(output)
    if output.suffix.lower() not in FORMATS:
        raise ValueError(f"the list is written as {' or '.join(FORMATS)}, not {output.suffix or 'no extension'}")
    last = last_published(db) if new else None
    rows = public_list(db, since, after=last["at"] if last else None)
    label = since or (beijing(last["at"], "%Y-%m-%d") if last else None)
    if output.suffix.lower() == ".csv":
        output.parent.mkdir(parents=True, exist_ok=True)
        output.write_text(list_csv(rows), encoding="utf-8", newline="")
    else:
        list_docx(rows, output, now, label)
    record_published(db, count=len(rows), since=label, actor=actor, now=now, fmt=output.suffix.lower()[1:])
    return len(rows)
