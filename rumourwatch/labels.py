"""Analysts' hand labels of health relevance and Healthy China topic, made on the 数据标注 page:
recording them, how the model agreed with them, and their export in the format of
`data/labels/health_topic.csv` (ids and labels, never the texts). Retraining
(`rumourwatch train --verdicts DB`, the 模型与评估 page) adds them to the relevance model's training.

The rules are the hand-label file's: the topic is one of the 15 Healthy China actions for a health
item and 其他 exactly when the item is not about health. The latest label on an item counts.
"""

from __future__ import annotations

import csv
import io
from datetime import datetime

from . import store
from .alerts import WorkflowError
from .nlp.topics import OTHER_TOPIC, TOPICS
from .records import iso

SAMPLES = ("uncertain", "random", "recent")  # how the 数据标注 page picks the next item
EXPORT_COLUMNS = ("source", "item_id", "health_related", "topic", "labelled_by", "note")
EXPORT_SOURCE = "store"  # item_id is then "<platform>:<external id>" of the store's item


def checked_topic(health_related: bool, topic: str | None) -> str:
    """The topic to record for an item judged (not) about health: one of the 15 Healthy China
    topics for a health item, 其他 for one that is not (given or not); WorkflowError otherwise."""
    topic = (topic or "").strip() or None
    if health_related:
        if topic not in TOPICS:
            raise WorkflowError(f"a health item needs one of the 15 Healthy China topics (got {topic!r})", "label_topic",
                                value=topic or "")
        return topic
    if topic not in (None, OTHER_TOPIC):
        raise WorkflowError(f"an item not about health has topic {OTHER_TOPIC} (got {topic!r})", "label_not_health",
                            value=topic, other=OTHER_TOPIC)
    return OTHER_TOPIC


def record_label(db, item_id: int, health_related: bool, topic: str | None, actor: str, now: datetime,
                 sample: str = "item", note: str | None = None) -> int:
    """Record a label; WorkflowError saying what is wrong for a bad one. What the model said about
    the item at that moment (its latest score) is kept beside the label."""
    if sample not in (*SAMPLES, "item"):
        raise WorkflowError(f"sample must be one of {', '.join((*SAMPLES, 'item'))} (got {sample!r})", "bad_sample",
                            value=sample)
    topic = checked_topic(health_related, topic)
    item = store.get_item(db, item_id)
    if item is None:
        raise WorkflowError(f"item {item_id} does not exist", "no_item", id=item_id)
    latest = store.score_history(db, item_id)
    score = latest[-1] if latest else {}
    at = iso(now)
    with store.transaction(db):
        label_id = store.insert_label(db, {
            "item_id": item_id, "health_related": int(bool(health_related)), "topic": topic,
            "note": (note or "").strip() or None, "sample": sample, "labelled_by": actor, "at": at,
            "predicted_health": score.get("health_probability"), "predicted_topic": score.get("topic"),
            "model_version": score.get("model_version")})
        store.record_audit(db, actor, "label.record", "item", item_id,
                           {"health_related": bool(health_related), "topic": topic, "sample": sample}, at=at)
    return label_id


def _share(hits: int, n: int) -> float | None:
    return round(hits / n, 4) if n else None


def agreement(labels: list[dict]) -> dict:
    """How the model's calls when each item was labelled agreed with the labels (latest per item):
    {"labelled", "health": {n, accuracy, precision, recall}, "topic": {n, accuracy}} overall and
    for the random sample alone ("random"), the unbiased figure (the uncertain queue picks exactly
    the items the model finds hard)."""
    def figures(rows):
        judged = [r for r in rows if r.get("predicted_health") is not None]
        pred = [r["predicted_health"] >= 0.5 for r in judged]
        gold = [bool(r["health_related"]) for r in judged]
        tp = sum(p and g for p, g in zip(pred, gold))
        health_items = [r for r in judged if r["health_related"] and r.get("predicted_topic")]
        return {"health": {"n": len(judged), "accuracy": _share(sum(p == g for p, g in zip(pred, gold)), len(judged)),
                           "precision": _share(tp, sum(pred)), "recall": _share(tp, sum(gold))},
                "topic": {"n": len(health_items),
                          "accuracy": _share(sum(r["predicted_topic"] == r["topic"] for r in health_items),
                                             len(health_items))}}

    return {"labelled": len(labels), "by_sample": {s: sum(r["sample"] == s for r in labels) for s in (*SAMPLES, "item")},
            "all": figures(labels), "random": figures([r for r in labels if r["sample"] == "random"])}


def export_csv(labels: list[dict]) -> str:
    """The labels as CSV in the columns of data/labels/health_topic.csv (no texts)."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(EXPORT_COLUMNS)
    for r in labels:
        writer.writerow([EXPORT_SOURCE, f"{r['platform']}:{r['external_id']}", "yes" if r["health_related"] else "no",
                         r["topic"], r["labelled_by"], r.get("note") or ""])
    return out.getvalue()
