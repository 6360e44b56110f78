"""Health relevance and Healthy China topic: hand labels, weak supervision, fit and evaluate.

Protocol: `fit(settings) -> HealthRelevanceModel` trains from the bundle at `settings.data_dir`
plus the hand labels in `data/labels/health_topic.csv` (only their training part);
`evaluate(settings) -> dict` reports on the held-out part of the hand labels, which is never used
for training or for tuning rules. See `data/labels/README.md` for how the labels were made.
"""

from __future__ import annotations

import csv
import gzip
import hashlib
import json
import random
from dataclasses import dataclass
from pathlib import Path

from rumourwatch.config import REPO_ROOT, data_file
from rumourwatch.errors import DataBundleError, RecordError

LABELS_FILE = REPO_ROOT / "data" / "labels" / "health_topic.csv"
LABEL_COLUMNS = ("source", "item_id", "health_related", "topic", "labelled_by", "note")

# Where each labelled source lives in the bundle, and which field holds the text a model sees.
SOURCE_FILES = {
    "stream": "stream/covid_weibo_2020_sample.jsonl.gz",
    "ced": "rumour/ced_train.jsonl.gz",
    "checked": "rumour/checked_train.jsonl.gz",
    "debunk": "debunks/debunk_articles.jsonl.gz",
}

# How many items of each source the labelling sample drew, in rounds (seeded; see
# data/labels/README.md). Round 2 added debunk titles because round 1 had few items on topics
# other than the epidemic; each round draws only items not drawn before.
SAMPLE_ROUNDS = (
    {"stream": 400, "ced": 130, "checked": 30, "debunk": 110},
    {"debunk": 150, "ced": 50},
)
SAMPLE_SEED = 20200203
HOLDOUT_FRACTION = 0.3
HOLDOUT_SEED = 7


def sha1_16(text: str) -> str:
    return hashlib.sha1(text.encode("utf-8")).hexdigest()[:16]


def item_id(source: str, record: dict) -> str:
    """Stable id of a bundle record: its own `id`, else sha1 of the stream text / debunk url."""
    if source == "stream":
        return sha1_16(record["text"])
    if source == "debunk":
        return sha1_16(record["url"])
    return str(record["id"])


def item_text(source: str, record: dict) -> str:
    """The text a model sees for a record; a debunk article is seen as its title and opening."""
    if source == "debunk":
        return f"{record.get('title') or ''}\n{(record.get('text') or '')[:300]}"
    return record.get("text") or ""


def read_source(settings, source: str) -> list[dict]:
    """All records of one labelled source, in file order."""
    if source not in SOURCE_FILES:
        raise ValueError(f"unknown label source {source!r}; choose one of {sorted(SOURCE_FILES)}")
    path = data_file(settings, SOURCE_FILES[source])
    with gzip.open(path, "rt", encoding="utf-8") as fh:
        return [json.loads(line) for line in fh if line.strip()]


def source_index(settings, source: str) -> dict[str, str]:
    """item_id -> text for one source (the first record wins where ids repeat, e.g. reposted urls)."""
    index: dict[str, str] = {}
    for record in read_source(settings, source):
        index.setdefault(item_id(source, record), item_text(source, record))
    return index


def labelling_sample(settings, rounds=SAMPLE_ROUNDS, seed: int = SAMPLE_SEED):
    """[(source, item_id, text)]: the seeded random sample that was hand-labelled.

    Distinct ids only (the stream repeats texts); the order is the order of labelling.
    """
    out = []
    taken: set[tuple[str, str]] = set()
    indexes: dict[str, dict[str, str]] = {}
    for r, sizes in enumerate(rounds, 1):
        for source, n in sizes.items():
            if source not in indexes:
                indexes[source] = source_index(settings, source)
            suffix = "" if r == 1 else f":{r}"
            rng = random.Random(f"{seed}:{source}{suffix}")
            pool = [(i, t) for i, t in indexes[source].items() if (source, i) not in taken]
            for iid, text in rng.sample(pool, n):
                taken.add((source, iid))
                out.append((source, iid, text))
    return out
