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

from datetime import datetime

from . import ingest, store
from .alerts import WorkflowError
from .records import iso

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
            "recorded_at": at, "work_order": (work_order or "").strip() or None, "note": (note or "").strip() or None})
        store.record_audit(db, actor, "tip.record", "tip", tip_id,
                           {"item_id": item_id, "channel": channel, "work_order": work_order}, at=at)
    return {"tip_id": tip_id, "item_id": item_id, "new_item": bool(result.new_items)}

