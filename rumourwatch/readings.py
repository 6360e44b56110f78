"""人工判读: human readings of the items the models cannot read.

The models read Chinese. A post written mostly in Mongolian, Tibetan or Uyghur script
(rumourwatch.language; DOMAIN 11: Inner Mongolia publishes in Mongolian and Chinese) is scored with
no rumour probability, polarity or health relevance, rather than a guess: without a reader it never
reaches the opinion figures, the topic counts or the reports, and nobody who cannot read the script
knows what it says. A monitor who reads it records here whether it is about health, its Healthy
China topic, its polarity and its gist in Chinese (for the colleagues, experts and leaders who cannot
read it). The latest reading of an item is its figures: the item's relevance, topic and polarity
columns take it, so every count that reads them (the live page, 舆情报告, 舆情风险点) counts it, and
the scorer keeps it when it scores the item again as reactions arrive (rumourwatch.score). Whether it
is a rumour is the verdict's business (the item view's 人工研判), as for any item.
"""

from __future__ import annotations

import json
from datetime import datetime, timedelta

from . import store
from .alerts import WorkflowError
from .labels import checked_topic
from .language import LANGUAGE_NAMES, unread_language
from .opinion import POLARITIES
from .records import iso, parse_time

GIST_MAX = 500  # characters of the Chinese gist
NOTICE_EVERY = timedelta(hours=1)  # the monitors are told of newly arrived posts at most this often
NOTICE_KEY = "readings.notice"  # workflow_state: {"item": the last item told of, "at": when}


def record_reading(db, item_id: int, health_related: bool, topic: str | None, polarity: str, gist: str,
                   actor: str, now: datetime) -> int:
    """Record a reading of item `item_id` and give the item its figures; WorkflowError saying what is
    wrong otherwise. A health item needs its gist (what it says, in Chinese): the experts and leaders
    who see it cannot read it. Audited."""
    if polarity not in POLARITIES:
        raise WorkflowError(f"polarity must be one of {', '.join(POLARITIES)} (got {polarity!r})", "reading_polarity",
                            value=polarity or "")
    topic = checked_topic(health_related, topic)
    gist = (gist or "").strip()
    if health_related and not gist:
        raise WorkflowError("a health item's reading needs its gist in Chinese: those who see it cannot read it",
                            "reading_gist")
    if len(gist) > GIST_MAX:
        raise WorkflowError(f"the gist is {len(gist)} characters long; at most {GIST_MAX}", "reading_gist_long",
                            n=len(gist), limit=GIST_MAX)
    item = store.get_item(db, item_id)
    if item is None:
        raise WorkflowError(f"item {item_id} does not exist", "no_item", id=item_id)
    language = unread_language(item.get("text"))
    if language is None:
        raise WorkflowError(f"item {item_id} is not written mostly in Mongolian, Tibetan or Uyghur script: the models "
                            "read it (label it or give a verdict instead)", "reading_not_needed", id=item_id)
    at = iso(now)
    row = {"item_id": item_id, "language": language, "health_related": int(bool(health_related)), "topic": topic,
           "polarity": polarity, "gist": gist, "read_by": actor, "at": at}
    with store.transaction(db):
        reading_id = store.insert_reading(db, row)
        store.apply_readings(db, [item_id])
        store.record_audit(db, actor, "reading.record", "item", item_id,
                           {k: row[k] for k in ("language", "health_related", "topic", "polarity")}, at=at)
    return reading_id


def pending(db, language: str | None = None, limit: int = 200) -> list[dict]:
    """Items the models could not read that nobody has read yet, newest first, each with its
    `language` ('mn', 'bo', 'ug'); only those of `language` when given."""
    if language is not None and language not in LANGUAGE_NAMES:
        raise WorkflowError(f"language must be one of {', '.join(LANGUAGE_NAMES)} (got {language!r})",
                            "reading_language", value=language)
    out = []
    for row in _unread(db):
        if language in (None, row["language"]):
            out.append(row)
            if len(out) >= limit:
                break
    return out


def _unread(db, **scope):
    """The posts the models left unassessed that nobody has read yet, newest first, each with its
    `language` (store.unread_unassessed_items' rows in `scope`; a post without a script the models
    cannot read, left unassessed for another reason, is not one)."""
    for row in store.unread_unassessed_items(db, **scope):
        row["language"] = unread_language(row.get("text"))
        if row["language"] is not None:
            yield row


def waiting(db, start: str | None = None, end: str | None = None, platforms: list[str] | None = None) -> dict:
    """{language: n} of the posts published in [start, end) (on `platforms`) still waiting for a reader."""
    out: dict[str, int] = {}
    for row in _unread(db, start=start, end=end, platforms=platforms):
        out[row["language"]] = out.get(row["language"], 0) + 1
    return out


def counts(db, start: str | None = None, end: str | None = None, platforms: list[str] | None = None) -> dict:
    """Over items published in [start, end) (on `platforms`): {"pending": {language: n}, "read":
    {language: n}, "read_health": n} — what is still waiting for a reader, by script, and what
    readers have read (by the script they read), of which about health."""
    pending_n = waiting(db, start, end, platforms)
    read_n: dict[str, int] = {}
    health = 0
    for row in store.read_items(db, start=start, end=end, platforms=platforms):
        read_n[row["language"]] = read_n.get(row["language"], 0) + 1
        health += bool(row["health_related"])
    return {"pending": pending_n, "read": read_n, "read_health": health}


def recent(db, limit: int = 50) -> list[dict]:
    """The latest readings, newest first, each with its item's platform, account and time."""
    return store.recent_readings(db, limit)


def notify_waiting(db, now: datetime, rules: dict) -> dict | None:
    """Tell the monitors' group bots and mailboxes of the posts in a script the models cannot read
    that arrived since the last notice and nobody has read yet (at most once every NOTICE_EVERY):
    without it they wait, out of the opinion figures, until someone happens to open the page. Run by
    the worker's round and `rumourwatch alerts escalate`. Returns {"items", "notifications"}, or
    None when there was nothing new to tell (or it is too soon)."""
    from .notify import queue_readings

    mark = json.loads(store.workflow_state(db, NOTICE_KEY) or "{}")
    if mark.get("at") and now - parse_time(mark["at"]) < NOTICE_EVERY:
        return None
    new = list(_unread(db, after_id=int(mark.get("item") or 0)))
    if not new:
        return None
    with store.transaction(db):
        ids = queue_readings(db, new, waiting(db), rules, now)
        store.set_workflow_state(db, NOTICE_KEY, json.dumps({"item": max(r["id"] for r in new), "at": iso(now)}))
    return {"items": len(new), "notifications": ids}
