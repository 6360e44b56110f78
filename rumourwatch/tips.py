"""Tips from the public (seed 000 §(四)1): the false-information reporting channel (虚假信息举报)
and the 12320 health hotline / 12345 government service hotline feed items in.

A tip is recorded with its channel, when it came in and the hotline's work-order number; the content it
reports becomes a media item (source "tip:<channel>", on the platform where it was seen, else
"举报线索"), which the worker scores, clusters with its copies and alerts on like any other. Several
tips about one story are one item (or one cluster) with several tips: how often the public reports a
story is itself a signal.
No reporter's name or phone number is asked for or kept.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import datetime

from . import ingest, store
from .alerts import WorkflowError
from .errors import RumourwatchError
from .records import iso, parse_time
from .uploads import MAX_MB, table_rows

# where a tip came in: the 12320 health hotline, the 12345 government service hotline, the online
# reporting channel, any other (the dashboard names them: strings.py tips.channel.<code>)
CHANNELS = ("12320", "12345", "online", "other")
# the platform a tip's item is filed under when the reporter did not say where the content was seen
# (a data value, shown as it is, like "微博"): the same claim from any channel is then one item
TIP_PLATFORM = "举报线索"
# a hotline's clock may run a little ahead of the server's
_FUTURE_TOLERANCE_S = 300.0


def record_tip(db, *, channel: str, text: str, actor: str, now: datetime, received_at: datetime | None = None,
               platform: str | None = None, url: str | None = None, account: str | None = None,
               published_at: datetime | None = None, work_order: str | None = None, note: str | None = None) -> dict:
    """Record one tip and file its content as an item (or find the item already filed).

    `text` is the reported claim as the reporter gave it (or the operator wrote it down); `url`,
    `platform`, `account`, `published_at` say where and when it was published, when known.
    Returns {"tip_id", "item_id", "new_item"}. WorkflowError (or RecordError for content ingest
    refuses) when the tip cannot be recorded; then nothing is."""
    if channel not in CHANNELS:
        raise WorkflowError(f"unknown tip channel {channel!r}; one of {', '.join(CHANNELS)}", "tip_channel",
                            value=channel)
    if not (text or "").strip():
        raise WorkflowError("a tip needs the reported content: what the claim says", "tip_text")
    received = received_at or now
    for name, when in (("received_at", received), ("published_at", published_at)):
        if when is not None and (when - now).total_seconds() > _FUTURE_TOLERANCE_S:
            raise WorkflowError(f"the tip's {name} {iso(when)} is in the future", "tip_future", at=iso(when))
    work_order = (work_order or "").strip() or None
    if work_order:
        earlier = store.find_tip(db, channel, work_order)
        if earlier:
            raise WorkflowError(f"work order {work_order} of channel {channel} is tip #{earlier['id']} already",
                                "tip_duplicate", work_order=work_order, tip=earlier["id"], item=earlier["item_id"])
    record = {"text": text, "platform": (platform or "").strip() or TIP_PLATFORM,
              "url": (url or "").strip() or None, "account": (account or "").strip() or None,
              "date": iso(published_at) if published_at else None}
    source = f"tip:{channel}"
    item = ingest.normalise_item(record, source, now)  # RecordError (e.g. too long) before anything is written
    key = (item.row["platform"], item.row["external_id"])
    at = iso(now)
    with store.transaction(db):
        result = ingest.ingest_item(db, item, source, now)
        item_id = store.find_item(db, *key)["id"]
        tip_id = store.insert_tip(db, {
            "item_id": item_id, "channel": channel, "received_at": iso(received), "recorded_by": actor,
            "recorded_at": at, "work_order": work_order, "note": (note or "").strip() or None})
        store.record_audit(db, actor, "tip.record", "tip", tip_id,
                           {"item_id": item_id, "channel": channel, "work_order": work_order}, at=at)
    return {"tip_id": tip_id, "item_id": item_id, "new_item": bool(result.new_items)}



# --- a hotline's export: one tip a row --------------------------------------------------------

# the columns of an import file, and the headers a Chinese export may give them
IMPORT_COLUMNS = ("work_order", "received_at", "channel", "text", "platform", "account", "url", "published_at",
                  "note")
_HEADERS_ZH = {"工单号": "work_order", "受理时间": "received_at", "收到时间": "received_at", "渠道": "channel",
               "线索渠道": "channel", "举报内容": "text", "内容": "text", "平台": "platform", "出现平台": "platform",
               "账号": "account", "发布账号": "account", "链接": "url", "原文链接": "url", "发布时间": "published_at",
               "备注": "note"}


def channel_code(value: str) -> str:
    """A channel as an export may name it ('12320', '12320卫生健康热线', '网络举报', 'online') → its
    code; any other value is returned as it is (record_tip then names it as unknown)."""
    value = (value or "").strip()
    if value in CHANNELS:
        return value
    for code, marks in (("12320", ("12320",)), ("12345", ("12345",)), ("online", ("网络", "网上", "在线")),
                        ("other", ("其他", "其它"))):
        if any(m in value for m in marks):
            return code
    return value


@dataclass
class TipImport:
    recorded: int = 0
    already: int = 0  # rows whose channel and work-order number were recorded before (a re-import)
    errors: list[str] = field(default_factory=list)  # 'row N: …' in English (CLI, audit log)
    problems: list[tuple[int, RumourwatchError]] = field(default_factory=list)  # (N, why) for the dashboard


IMPORT_SOURCE = "tips-import"  # the rejects' source: 数据源与质量 lists a set-aside row under it


def import_tips(db, data: bytes, actor: str, now: datetime, channel: str | None = None,
                origin: str = "", max_mb: float = MAX_MB) -> TipImport:
    """Record the tips of an export (an Excel workbook's first sheet when `origin` is named .xlsx, else
    CSV: UTF-8 or GB18030, commas or tabs; English or Chinese headers, IMPORT_COLUMNS / _HEADERS_ZH;
    uploads.table_rows). `channel` fills rows that name none. A file that is no such table (UTF-16,
    an .xls, larger than `max_mb`, a workbook that is none) is refused whole. Each good row is recorded as by `record_tip`
    (each in its own transaction); a row already recorded (same channel and work-order number) is
    counted, not recorded again; each bad row is set aside as 'row N: why' in the report and in the
    rejects table (with the row, `origin` naming the file), and the others go on."""
    header, rows = table_rows(origin, data, max_mb, rename=lambda column: _HEADERS_ZH.get(column, column))
    missing = [c for c in ("received_at", "text") if c not in header] + (
        ["channel"] if channel is None and "channel" not in header else [])
    if missing:
        raise WorkflowError(f"the tips file lacks column(s) {', '.join(missing)}; columns: {','.join(IMPORT_COLUMNS)}",
                            "tips_header", missing="、".join(missing), expected=",".join(IMPORT_COLUMNS))
    report = TipImport()
    for line, raw in rows:
        row = {k: (raw.get(k) or "").strip() for k in IMPORT_COLUMNS}
        row["channel"] = channel_code(row["channel"] or (channel or ""))
        try:
            if raw.get(None):
                raise WorkflowError(f"{len(raw[None])} more value(s) than columns (a comma inside a field needs "
                                    "quotes)", "tips_extra", n=len(raw[None]))
            if not row["received_at"]:
                raise WorkflowError("the row has no received time", "tips_no_received")
            received, published = parse_time(row["received_at"]), parse_time(row["published_at"])
            done = record_tip(db, channel=row["channel"], text=row["text"], actor=actor, now=now,
                              received_at=received, platform=row["platform"], url=row["url"],
                              account=row["account"], published_at=published, work_order=row["work_order"],
                              note=row["note"])
        except RumourwatchError as exc:
            if getattr(exc, "key", None) == "tip_duplicate":
                report.already += 1
                continue
            report.errors.append(f"row {line}: {exc}")
            report.problems.append((line, exc))
            with store.transaction(db):
                store.add_reject(db, IMPORT_SOURCE, str(exc), json.dumps(raw, ensure_ascii=False, default=str),
                                 origin, f"row:{line}", getattr(exc, "key", None), getattr(exc, "params", None))
            continue
        report.recorded += bool(done["tip_id"])
    return report
