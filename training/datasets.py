"""Loaders for the bundle's labelled rumour sets as Docs, and time-ordered split helpers.

CHECKED (COVID-19 Weibo, labels fake/real) and CED (general Weibo, rumor/non-rumor) both become
label 1 = rumour, 0 = not. Records that cannot become a Doc are returned with their reason
instead of being dropped silently.
"""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass
from datetime import datetime
from functools import lru_cache
from pathlib import Path

from rumourwatch.cluster import group_near_duplicates
from rumourwatch.config import BundleLines, data_file
from rumourwatch.errors import RecordError
from rumourwatch.evaluation import VERDICT_LABELS  # monitors' and experts' verdicts as labels
from rumourwatch.records import Doc, doc_from_bundle
from rumourwatch.sources.replay import DATASET_FILES

RUMOUR_FILES = {
    "checked": "rumour/checked_train.jsonl.gz",
    "ced": "rumour/ced_train.jsonl.gz",
}
LABELS = {"fake": 1, "real": 0, "rumor": 1, "non-rumor": 0}
# The unlabelled feed whose ordinary posts the rumour model learns as not rumours (load_background)
BACKGROUND_FILE = DATASET_FILES["stream"]
BACKGROUND_POSTS = 5000


@dataclass
class LabelledDoc:
    id: str
    dataset: str
    doc: Doc
    label: int

    @property
    def published_at(self) -> datetime:
        return self.doc.published_at


@dataclass
class Rejected:
    dataset: str
    line: int
    reason: str


def file_sha256(path: str | Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


_PLAIN_DATE = re.compile(r"^(\d{4})-(\d\d)-(\d\d) (\d\d):(\d\d)(?::(\d\d))?$")


def _fast_dates(record: dict) -> None:
    """Bundle dates ('YYYY-MM-DD HH:MM[:SS]', China time) as naive datetimes, which parse_time
    takes as China time: the same result, several times faster than trying each format."""
    for key in ("reposts", "comments"):
        for r in record.get(key) or []:
            if isinstance(r, dict) and isinstance(r.get("date"), str):
                m = _PLAIN_DATE.match(r["date"])
                if m:
                    try:
                        r["date"] = datetime(*(int(g) for g in m.groups() if g is not None))
                    except ValueError:
                        pass  # left as text: parse_time reports it


def load_rumour_set(settings, name: str) -> tuple[list[LabelledDoc], list[Rejected]]:
    """Labelled docs of one set ('checked' or 'ced') in time order, plus the records set aside."""
    if name not in RUMOUR_FILES:
        raise ValueError(f"unknown rumour set {name!r}; choose one of {sorted(RUMOUR_FILES)}")
    path = data_file(settings, RUMOUR_FILES[name])
    stat = path.stat()
    items, rejected = _load_cached(str(path), stat.st_mtime_ns, stat.st_size, name)
    return list(items), list(rejected)


def _json_lines(path: str, name: str, rejected: list[Rejected]):
    """(line number, record) of a bundle file; a line that is not a JSON object goes to `rejected`."""
    with BundleLines(path) as fh:
        for lineno, line in enumerate(fh, 1):
            try:
                record = json.loads(line)
            except json.JSONDecodeError as exc:
                rejected.append(Rejected(name, lineno, f"not JSON: {exc}"))
                continue
            if isinstance(record, dict):
                yield lineno, record
            else:
                rejected.append(Rejected(name, lineno, f"not a JSON object but {type(record).__name__}"))


@lru_cache(maxsize=4)
def _load_cached(path: str, mtime_ns: int, size: int, name: str):
    # Docs are shared between callers of one process: treat them as read-only (as_of copies).
    items: list[LabelledDoc] = []
    rejected: list[Rejected] = []
    for lineno, record in _json_lines(path, name, rejected):
        label = LABELS.get(record.get("label"))
        if label is None:
            rejected.append(Rejected(name, lineno, f"unknown label {record.get('label')!r}"))
            continue
        _fast_dates(record)
        try:
            doc = doc_from_bundle(record)
        except RecordError as exc:
            rejected.append(Rejected(name, lineno, str(exc)))
            continue
        if doc.published_at is None:
            rejected.append(Rejected(name, lineno, "no date: cannot be placed in time"))
            continue
        items.append(LabelledDoc(str(record.get("id", lineno)), name, doc, label))
    items.sort(key=lambda it: it.published_at)
    return tuple(items), tuple(rejected)


def load_background(settings, posts: int = BACKGROUND_POSTS, before: str | None = None,
                    unlike=()) -> tuple[list[Doc], list[Rejected]]:
    """Ordinary posts of a real feed for the rumour model to learn as not rumours
    (RumourModel.fit's `background`): up to `posts` distinct texts of the bundle's unlabelled
    stream sample, the same ones every run (in the order of a hash of the text), only those dated
    before `before` ('YYYY-MM-DD') when it is given. A post that is a copy or a near-duplicate (as
    the worker clusters, MinHash Jaccard ≥ 0.8) of one of the texts `unlike` (the labelled
    rumours) is left out: a known rumour going round the feed is not an ordinary post. Plus the
    records set aside, with their reason."""
    path = data_file(settings, BACKGROUND_FILE)
    stat = path.stat()
    pool, rejected = _background_pool(str(path), stat.st_mtime_ns, stat.st_size, before)
    unlike = [text for text in unlike if isinstance(text, str)]
    exact = {text.strip() for text in unlike}
    kept: list[str] = []
    start = 0
    while len(kept) < posts and start < len(pool):
        size = posts - len(kept) + 100
        chunk = [text for text in pool[start:start + size] if text not in exact]
        start += size
        groups = group_near_duplicates(unlike + chunk)
        known = set(groups[:len(unlike)].tolist())
        kept += [text for text, g in zip(chunk, groups[len(unlike):]) if g not in known]
    return [doc_from_bundle({"text": text}) for text in kept[:posts]], list(rejected)


@lru_cache(maxsize=2)
def _background_pool(path: str, mtime_ns: int, size: int, before: str | None):
    """The stream's distinct non-empty texts (dated before `before`, when given), in hash order."""
    texts: dict[str, str] = {}
    rejected: list[Rejected] = []
    for lineno, record, day in _stream_records(path, rejected, dated=before is not None):
        if before is not None and day >= before:
            continue
        text = record["text"].strip()
        texts.setdefault(hashlib.sha1(text.encode("utf-8", "surrogatepass")).hexdigest(), text)
    return tuple(texts[key] for key in sorted(texts)), tuple(rejected)


def _stream_records(path: str, rejected: list[Rejected], dated: bool):
    """(line number, record, its day or None) of the stream sample's records that have a text
    (and, when `dated`, a valid 'YYYY-MM-DD' day); the others go to `rejected` with the reason."""
    for lineno, record in _json_lines(path, "stream", rejected):
        text = record.get("text")
        if not isinstance(text, str):
            rejected.append(Rejected("stream", lineno, "text is missing or not a string"))
            continue
        if not text.strip():
            rejected.append(Rejected("stream", lineno, "text is empty"))
            continue
        day = record.get("date")
        if dated and not _is_day(day):
            rejected.append(Rejected("stream", lineno, f"date {day!r} is not a YYYY-MM-DD day: "
                                                       "cannot be placed in time"))
            continue
        yield lineno, record, day


def load_stream_posts(settings, since: str) -> tuple[list[Doc], list[Rejected]]:
    """The stream sample's posts dated `since` ('YYYY-MM-DD') or later, as they arrive (text and
    account), plus the records set aside with their reason."""
    rejected: list[Rejected] = []
    docs = [doc_from_bundle({"text": record["text"], "user_id": record.get("user_id")})
            for _, record, day in _stream_records(str(data_file(settings, BACKGROUND_FILE)), rejected, True)
            if day >= since]
    return docs, rejected


def _is_day(value) -> bool:
    if not isinstance(value, str) or not _DAY.match(value):
        return False
    try:
        datetime.strptime(value, "%Y-%m-%d")
    except ValueError:
        return False
    return True


_DAY = re.compile(r"^\d{4}-\d\d-\d\d$")


def load_rumour_sets(settings, names=("checked", "ced")) -> dict[str, list[LabelledDoc]]:
    """Each named set, time-ordered. Set-aside records are reported on stderr-friendly lists."""
    return {name: load_rumour_set(settings, name)[0] for name in names}


def training_files(settings, names=("checked", "ced")) -> dict[str, str]:
    """Bundle-relative file name -> sha256, recorded in the model manifest."""
    return {RUMOUR_FILES[n]: file_sha256(data_file(settings, RUMOUR_FILES[n])) for n in names}


def time_split(items: list[LabelledDoc], train_fraction: float = 0.8):
    """(earlier, later): the first `train_fraction` of the items by publish time, and the rest."""
    if not 0 < train_fraction < 1:
        raise ValueError("train_fraction must be between 0 and 1")
    ordered = sorted(items, key=lambda it: it.published_at)
    cut = int(round(len(ordered) * train_fraction))
    return ordered[:cut], ordered[cut:]


def split_each(sets: dict[str, list[LabelledDoc]], train_fraction: float = 0.8):
    """Time split of every set separately: ({name: earlier}, {name: later})."""
    earlier, later = {}, {}
    for name, items in sets.items():
        earlier[name], later[name] = time_split(items, train_fraction)
    return earlier, later


def load_verdict_set(db_path: str | Path, name: str = "verdicts") -> tuple[list[LabelledDoc], list[Rejected]]:
    """Items of a rumourwatch store that have a verdict, labelled as the workflow reads verdicts
    (store.verdict_labels: the latest verdict by time on the item or on its cluster, so a verdict on
    one copy of a claim labels its copies), with all their reactions stored so far, in time order;
    plus the verdicts set aside (the `line` of a Rejected is the verdict id). An item whose verdict
    is "unverifiable" is left out (it says nothing about the item's label), and is not reported."""
    from rumourwatch import score, store

    db = store.open_db(db_path, read_only=True)
    try:
        labelled = {v["item_id"]: v for v in store.verdict_labels(db) if v["verdict"] in VERDICT_LABELS}
        rows = {row["id"]: row for row in store.load_items_for_scoring(db, list(labelled))}
    finally:
        db.conn.close()
    items: list[LabelledDoc] = []
    rejected: list[Rejected] = []
    for item_id, v in labelled.items():  # verdict_labels joins items: every labelled item has its row
        try:
            doc = score.doc_from_row(rows[item_id])
        except RecordError as exc:
            rejected.append(Rejected(name, v["verdict_id"], f"item {item_id}: {exc}"))
            continue
        if doc.published_at is None:
            rejected.append(Rejected(name, v["verdict_id"], f"item {item_id} has no publication time: "
                                                      "cannot be placed in time"))
            continue
        items.append(LabelledDoc(f"item:{item_id}", name, doc, VERDICT_LABELS[v["verdict"]]))
    items.sort(key=lambda it: it.published_at)
    return items, rejected


def describe_verdicts(db_path, items: list[LabelledDoc], rejected: list[Rejected]) -> str:
    """One line on a verdict set as load_verdict_set read it, for training and evaluation logs."""
    line = f"verdicts: {len(items)} items ({sum(it.label for it in items)} rumours) from {db_path}"
    if rejected:
        line += f"; {len(rejected)} set aside, e.g. verdict {rejected[0].line}: {rejected[0].reason}"
    return line


def print_evaluation(evaluate) -> None:
    """`python -m training.train_polarity` and the like: run `evaluate(settings)` and print its
    result as JSON; a missing or damaged bundle is one "Error:" line and exit status 1, not a
    traceback."""
    import sys

    from rumourwatch.config import load_settings
    from rumourwatch.errors import RumourwatchError

    try:
        result = evaluate(load_settings())
    except RumourwatchError as exc:
        print(f"Error: {exc}", file=sys.stderr)
        sys.exit(1)
    json.dump(result, sys.stdout, ensure_ascii=False, indent=2)
    print()
