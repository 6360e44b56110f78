"""Health relevance and Healthy China topic: hand labels, weak supervision, fit and evaluate.

Protocol: `fit(settings) -> HealthRelevanceModel` is the production model: it trains from the bundle
at `settings.data_dir` plus every hand label in `data/labels/` (LABEL_FILES: the random rounds, and
rounds 3–4 drawn by topic keywords, which teach the topic classifier only). The recipe (weights,
rules) was chosen on the random rounds' training part only. `evaluate(settings) -> dict` reports on the held-out part of each file with a
model fitted on the training parts alone (`fit(settings, hand=training_part())`), and cross-fits the
production recipe over the random rounds' hold-out (`crossfit`). See `data/labels/README.md` for how
the labels were made.
"""

from __future__ import annotations

import csv
import json
import math
import random
import re
from collections.abc import Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from types import MappingProxyType

from rumourwatch.cluster import group_near_duplicates
from rumourwatch.config import BundleLines, data_file
from rumourwatch.errors import DataBundleError, RecordError
from rumourwatch.evaluation import bootstrap_intervals
from rumourwatch.nlp.topics import (
    ALL_TOPICS,
    OTHER_TOPIC,
    TOPIC_KEYWORDS,
    split_hashtags,
)
from rumourwatch.nlp.topics import TOPICS as TOPICS_
from rumourwatch.sources import HAND_LABELS, TARGETED_HAND_LABELS
from rumourwatch.sources.replay import LABEL_SOURCES, label_id

# The random rounds' labels (the hold-out figures comparable since round 1 come from these), and
# rounds 3–4's, drawn by topic keywords (TARGETED_TOPICS): each file is split on its own.
LABELS_FILE = HAND_LABELS
TARGETED_LABELS_FILE = TARGETED_HAND_LABELS
LABEL_FILES = (LABELS_FILE, TARGETED_LABELS_FILE)
# Part of rounds 3–4 was labelled by two annotators independently: both readings, for the agreement
# figure (the label the models learn, adjudicated where they differ, is in TARGETED_LABELS_FILE).
DOUBLE_READINGS_FILE = TARGETED_LABELS_FILE.with_name("health_topic_double_readings.csv")
DOUBLE_READING_COLUMNS = ("source", "item_id", "first_by", "first_health_related", "first_topic",
                          "second_by", "second_health_related", "second_topic")
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
# Rounds 3 and 4 (data/labels/health_topic_targeted.csv): the random rounds found 0–9 items for most
# Healthy China actions, too few to learn or check them. For each of these thin topics, items not
# drawn before whose text holds one of the topic's keywords (topics.TOPIC_KEYWORDS); many such
# items are not about health at all ("学生" in school news, "运动" in a movement), which is what the
# model must also learn.
TARGETED_TOPICS = ("控烟", "职业健康保护", "慢性呼吸系统疾病防治", "糖尿病防治", "妇幼健康促进",
                   "中小学健康促进", "全民健身", "心理健康促进", "老年健康促进", "癌症防治",
                   "心脑血管疾病防治", "健康环境促进")
# (sources, items per topic, keyword in the first line only). Round 3 found mostly epidemic posts
# (the stream is most of the bundle), so round 4 draws from the debunk articles, where a keyword in
# the title names the subject, and from CED's general Weibo posts.
TARGETED_ROUNDS = ((tuple(SOURCE_FILES), 25, False), (("debunk", "ced"), 20, True))
HOLDOUT_FRACTION = 0.3
HOLDOUT_SEED = 7


def item_id(source: str, record: dict) -> str:
    """Stable id of a bundle record: its own `id`, else sha1 of the stream text / debunk url (the
    replay computes the same ids to leave these labelled items out: one definition)."""
    return label_id(LABEL_SOURCES.get(source, source), record)


def item_text(source: str, record: dict) -> str:
    """The text a model sees for a record; a debunk article is seen as its title and opening."""
    if source == "debunk":
        return f"{record.get('title') or ''}\n{(record.get('text') or '')[:300]}"
    return record.get("text") or ""


def source_index(settings, source: str) -> Mapping[str, str]:
    """item_id -> text for one source (the first record wins where ids repeat, e.g. reposted urls),
    read-only. Read once per file version in a process: an evaluation fits several models, each
    resolving its labels and drawing its weak examples from the same files (about 10 s a read)."""
    if source not in SOURCE_FILES:
        raise ValueError(f"unknown label source {source!r}; choose one of {sorted(SOURCE_FILES)}")
    path = data_file(settings, SOURCE_FILES[source])
    stat = path.stat()
    return _source_index(source, str(path.resolve()), stat.st_mtime_ns, stat.st_size)


@lru_cache(maxsize=len(SOURCE_FILES))
def _source_index(source: str, path: str, mtime_ns: int, size: int) -> Mapping[str, str]:
    with BundleLines(path) as fh:
        records = [json.loads(line) for line in fh if line.strip()]
    index: dict[str, str] = {}
    for record in records:
        index.setdefault(item_id(source, record), item_text(source, record))
    return MappingProxyType(index)


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


def targeted_sample(settings, rounds=TARGETED_ROUNDS, topics=TARGETED_TOPICS,
                    seed: int = SAMPLE_SEED) -> list[tuple[str, str, str, str]]:
    """[(topic drawn for, source, item_id, text)]: rounds 3 and 4 of the labelling sample (seeded).

    Items of the random rounds are left out, and an item is drawn once only (for the first topic
    that draws it). The topic it was drawn for is not its label: the annotators decide health and
    topic from the text as in the random rounds."""
    taken = {(source, iid) for source, iid, _ in labelling_sample(settings, seed=seed)}
    indexes = {source: source_index(settings, source) for source in SOURCE_FILES}
    out = []
    for r, (sources, per_topic, first_line) in enumerate(rounds, 3):
        pool = sorted((source, iid, text) for source in sources for iid, text in indexes[source].items())
        for topic in topics:
            words = TOPIC_KEYWORDS[topic]
            matching = [(s, i, t) for s, i, t in pool if (s, i) not in taken
                        and any(w in (t.split("\n", 1)[0] if first_line else t) for w in words)]
            suffix = "" if r == 3 else f":{r}"
            for source, iid, text in random.Random(f"{seed}:targeted:{topic}{suffix}").sample(
                    matching, min(per_topic, len(matching))):
                taken.add((source, iid))
                out.append((topic, source, iid, text))
    return out


# --- hand labels ---------------------------------------------------------------------------

@dataclass
class HandLabel:
    source: str
    item_id: str
    health_related: bool
    topic: str
    labelled_by: str
    note: str


@contextmanager
def _label_csv(path: Path, columns: tuple[str, ...], what: str):
    """The rows of a labels CSV as ("path:line", row), once its header is checked; a missing file
    or a wrong header is an error saying so."""
    if not path.exists():
        raise DataBundleError(f"{what} file {path} is missing")
    with path.open(encoding="utf-8", newline="") as fh:
        reader = csv.DictReader(fh)
        if tuple(reader.fieldnames or ()) != columns:
            raise RecordError(f"{path}: columns must be {','.join(columns)}, "
                              f"got {','.join(reader.fieldnames or [])}")
        yield ((f"{path}:{lineno}", r) for lineno, r in enumerate(reader, 2))


def load_hand_labels(path: str | Path = LABELS_FILE) -> list[HandLabel]:
    """Validated rows of the labels CSV; any bad row is an error naming its line and problem."""
    path = Path(path)
    rows: list[HandLabel] = []
    seen: set[tuple[str, str]] = set()
    with _label_csv(path, LABEL_COLUMNS, "hand-label") as records:
        for where, r in records:
            if r["source"] not in SOURCE_FILES:
                raise RecordError(f"{where}: source {r['source']!r} is not one of "
                                  f"{sorted(SOURCE_FILES)}")
            if not r["item_id"]:
                raise RecordError(f"{where}: item_id is empty")
            if r["health_related"] not in ("yes", "no"):
                raise RecordError(f"{where}: health_related must be yes or no, "
                                  f"got {r['health_related']!r}")
            related = r["health_related"] == "yes"
            if r["topic"] not in ALL_TOPICS:
                raise RecordError(f"{where}: topic {r['topic']!r} is not a Healthy China action "
                                  f"or {OTHER_TOPIC}")
            if related == (r["topic"] == OTHER_TOPIC):
                raise RecordError(f"{where}: topic must be {OTHER_TOPIC} exactly when "
                                  "health_related is no")
            if not r["labelled_by"]:
                raise RecordError(f"{where}: labelled_by is empty")
            key = (r["source"], r["item_id"])
            if key in seen:
                raise RecordError(f"{where}: {r['source']} item {r['item_id']} is labelled twice")
            seen.add(key)
            rows.append(HandLabel(r["source"], r["item_id"], related, r["topic"],
                                  r["labelled_by"], r["note"] or ""))
    return rows


def resolve_texts(settings, labels: list[HandLabel]) -> list[str]:
    """The bundle text behind each label; an id that resolves to nothing is an error."""
    indexes: dict[str, Mapping[str, str]] = {}
    texts = []
    for lab in labels:
        if lab.source not in indexes:
            indexes[lab.source] = source_index(settings, lab.source)
        text = indexes[lab.source].get(lab.item_id)
        if text is None:
            raise RecordError(f"label {lab.source}/{lab.item_id} matches no record of "
                              f"{SOURCE_FILES[lab.source]}")
        texts.append(text)
    return texts


def split_hand_labels(labels: list[HandLabel], fraction: float = HOLDOUT_FRACTION,
                      seed: int = HOLDOUT_SEED) -> tuple[list[HandLabel], list[HandLabel]]:
    """(train, holdout), stratified by source × health_related; deterministic for a seed."""
    groups: dict[tuple[str, bool], list[HandLabel]] = {}
    for lab in labels:
        groups.setdefault((lab.source, lab.health_related), []).append(lab)
    train, hold = [], []
    for key in sorted(groups):
        items = sorted(groups[key], key=lambda l: l.item_id)
        random.Random(f"{seed}:{key[0]}:{key[1]}").shuffle(items)
        n_hold = round(len(items) * fraction)
        hold.extend(items[:n_hold])
        train.extend(items[n_hold:])
    return train, hold


def hand_label_parts(files=LABEL_FILES) -> list[tuple[list[HandLabel], list[HandLabel]]]:
    """(training part, hold-out) of each hand-label file, each split on its own, so that adding a
    file leaves the hold-out of the others as it was. A label may appear in one file only."""
    parts, seen = [], {}
    for path in files:
        labels = load_hand_labels(path)
        for lab in labels:
            other = seen.setdefault((lab.source, lab.item_id), path)
            if other != path:
                raise RecordError(f"{path}: {lab.source} item {lab.item_id} is also labelled in {other}")
        parts.append(split_hand_labels(labels))
    return parts


def all_hand_labels(files=LABEL_FILES) -> list[HandLabel]:
    """Every hand label of every file (the production model learns from all of them)."""
    return [lab for train, hold in hand_label_parts(files) for lab in train + hold]


def training_part(files=LABEL_FILES) -> list[HandLabel]:
    """The training parts of every file: what the models behind the hold-out figures learn from."""
    return [lab for train, _ in hand_label_parts(files) for lab in train]


def load_double_readings(path=DOUBLE_READINGS_FILE, labels_file=TARGETED_LABELS_FILE) -> list[dict]:
    """Rows of the double-readings file (two annotators' independent labels of one item of
    `labels_file`); a bad row is an error naming its line and what is wrong with it."""
    path = Path(path)
    labelled = {(lab.source, lab.item_id) for lab in load_hand_labels(labels_file)}
    rows, seen = [], set()
    with _label_csv(path, DOUBLE_READING_COLUMNS, "double-readings") as records:
        for where, r in records:
            key = (r["source"], r["item_id"])
            if key not in labelled:
                raise RecordError(f"{where}: {r['source']} item {r['item_id']!r} is not labelled in {labels_file}")
            if key in seen:
                raise RecordError(f"{where}: {r['source']} item {r['item_id']} is read twice already")
            seen.add(key)
            for who in ("first", "second"):
                related, topic = r[f"{who}_health_related"], r[f"{who}_topic"]
                if not (r[f"{who}_by"] or "").strip():
                    raise RecordError(f"{where}: {who}_by (the annotator) is empty")
                if related not in ("yes", "no") or topic not in ALL_TOPICS or (
                        (related == "yes") == (topic == OTHER_TOPIC)):
                    raise RecordError(f"{where}: {who} reading {related}/{topic} is not a "
                                      f"valid label (yes with a Healthy China action, or no with {OTHER_TOPIC})")
            if r["first_by"] == r["second_by"]:
                raise RecordError(f"{where}: both readings are by {r['first_by']}")
            rows.append(r)
    if not rows:
        raise RecordError(f"{path}: no double readings in it")
    return rows


def annotator_agreement(path=DOUBLE_READINGS_FILE, labels_file=TARGETED_LABELS_FILE) -> dict:
    """Agreement of two annotators who labelled the same items independently: health (share of
    items and Cohen's kappa) and topic (share of items with the same topic, 其他 included)."""
    from sklearn.metrics import cohen_kappa_score

    rows = load_double_readings(path, labels_file)
    first_h = [r["first_health_related"] for r in rows]
    second_h = [r["second_health_related"] for r in rows]
    kappa = float(cohen_kappa_score(first_h, second_h))  # undefined (nan) when all say the same
    return {
        "items": len(rows),
        "health_agreement": round(sum(a == b for a, b in zip(first_h, second_h)) / len(rows), 4),
        "health_kappa": None if math.isnan(kappa) else round(kappa, 4),
        "topic_agreement": round(sum(r["first_topic"] == r["second_topic"] for r in rows) / len(rows), 4),
    }


# --- weak supervision ----------------------------------------------------------------------

MEDICAL_LEXICON = "lexicon/THUOCL_medical.txt"
# The most frequent THUOCL medical terms are everyday words (精神, 检查, 恢复, 意识, 接触 ...);
# they say nothing about health on their own.
GENERIC_TERMS = 300
# Nearly every debunk article (5,520 kept, less the hand-labelled ones): their titles are the
# training's one-sentence health claims. With 1,500, 25 of 40 one-sentence food claims written as a
# check ("吃韭菜能壮阳") read as not health; with 5,000, 8 (models/cards/relevance.md).
WEAK_SIZES = {"stream": 3000, "ced": 1000, "debunk": 5000, "checked": 800}
# ... but the topic classifier learns the keyword-rule topics of this many of them, as before: all
# 5,000 cost topic accuracy (keyword-drawn hold-out 0.693 -> 0.642), the rules' topics being noisy
WEAK_TOPIC_SIZES = {"debunk": 1500}
WEAK_SEED = 11
WEAK_WEIGHTS = (0.0, 0.05, 0.1, 0.3, 1.0)
TOPIC_RULE_WEIGHTS = (0.0, 0.3, 0.6)
CV_FOLDS = 3
# Chosen by select_hyperparameters (see models/cards/relevance.md).
WEAK_WEIGHT = 0.3
TOPIC_RULE_WEIGHT = 0.3
C = 4.0
EPIDEMIC = "传染病及地方病防控"


def medical_terms(settings) -> list[str]:
    """THUOCL medical terms (2–7 characters) minus the most frequent, generic ones."""
    path = data_file(settings, MEDICAL_LEXICON)
    rows = []
    with open(path, encoding="utf-8") as fh:
        for lineno, line in enumerate(fh, 1):
            parts = line.rstrip("\n").split("\t")
            if not parts[0].strip():
                continue
            try:
                df = int(parts[1]) if len(parts) > 1 else 0
            except ValueError:
                raise DataBundleError(f"{path}:{lineno}: frequency {parts[1]!r} is not a number")
            rows.append((parts[0].strip(), df))
    rows.sort(key=lambda r: -r[1])
    return [w for w, _ in rows[GENERIC_TERMS:] if 2 <= len(w) <= 7]


@dataclass
class WeakExample:
    source: str
    text: str
    health: int
    topic: str | None


def _strong_counts(features, texts):
    """(health keyword hits outside diet, diet hits, medical terms) in each body."""
    rules = features.rules
    diet = rules.topics.index("合理膳食")
    terms = features.medical_term_counts(texts)
    strong, food, counts = [], [], []
    for text, n_terms in zip(texts, terms):
        c = rules.counts(split_hashtags(text)[0])
        counts.append(c)
        food.append(c[diet])
        strong.append(sum(c) - c[diet] + int(n_terms))
    return strong, food, counts


def weak_examples(settings, features, exclude: set[tuple[str, str]]) -> list[WeakExample]:
    """Distant labels from unlabelled bundle records (never any hand-labelled id).

    CHECKED is a COVID-19 rumour set: every post counts as health / epidemic. Elsewhere a body
    with two or more health keywords or medical terms (or one plus a diet keyword, or three
    diet keywords: food safety is health) is health (topic by keyword rule); a body
    of 8+ characters with none at all (not even food words) in body *and* hashtags is not; the
    rest is left out (a cheering body under an epidemic hashtag is health by the label protocol,
    a hijacking one is not: only the hand labels teach that difference). Each example's short view
    (`headline`), if it has one, follows it with the same label. Past WEAK_TOPIC_SIZES of a source,
    health examples teach health relevance only (topic None).
    """
    from rumourwatch.nlp.topics import rule_topic

    out: list[WeakExample] = []
    for source, n in WEAK_SIZES.items():
        pool = [(i, t) for i, t in source_index(settings, source).items()
                if (source, i) not in exclude]
        rng = random.Random(f"{WEAK_SEED}:{source}")
        pool = rng.sample(pool, min(n, len(pool)))
        texts = [t for _, t in pool]
        if source == "checked":
            out.extend(WeakExample(source, t, 1, EPIDEMIC) for t in texts)
            continue
        strong, food, counts = _strong_counts(features, texts)
        topics_up_to = WEAK_TOPIC_SIZES.get(source, len(texts))
        for k, (text, s, f, c) in enumerate(zip(texts, strong, food, counts)):
            body, tags = split_hashtags(text)
            if s >= 2 or (s >= 1 and f >= 1) or f >= 3:
                label = WeakExample(source, text, 1,
                                    rule_topic(c, features.rules.topics) if k < topics_up_to else None)
            elif s == 0 and f == 0 and len(body.strip()) >= 8 and not any(
                    features.rules.counts(tags)):
                label = WeakExample(source, text, 0, None)
            else:
                continue
            out.append(label)
            title = headline(source, text, bool(label.health))
            if title is not None:
                # the title alone, with the label its article's words gave
                out.append(WeakExample(source, title, label.health, label.topic))
    return out


# --- short views ---------------------------------------------------------------------------

HEADLINE_SOURCES = ("debunk",)
# A title shorter than this names no claim ("辟谣", "真相来了").
HEADLINE_MIN_CHARS = 6


_SENTENCE_END = re.compile(r"[。！？!?；;…\n]")
# someone else's words quoted in a repost: not the record's own sentence
_REPOST_CHAIN = re.compile(r"//@.*", re.DOTALL)
# A first sentence longer than this share of its body is nearly the record again: no view.
MAX_FRAGMENT_SHARE = 0.6


def headline(source: str, text: str, health: bool = True) -> str | None:
    """A short view of a labelled record that keeps its label: a debunk article's title (its model
    text is title + opening), and the first sentence of a record not about health (no part of it
    is about health either; hashtags and a quoted repost chain left out), when it is clearly
    shorter than the record. None when there is none or it is too short to say anything. Media
    items often arrive as a headline or one short sentence: a model that learnt health from whole
    articles called two in three health debunk titles not health (see models/cards/relevance.md)."""
    if source in HEADLINE_SOURCES:
        title = text.split("\n", 1)[0].strip()
    elif not health:
        body = _REPOST_CHAIN.sub("", split_hashtags(text)[0]).strip()
        title = _SENTENCE_END.split(body, 1)[0].strip()
        if len(title) > MAX_FRAGMENT_SHARE * len(body):
            return None
    else:
        return None
    return title if len(title) >= HEADLINE_MIN_CHARS else None


def _headline_rows(sources, texts, health) -> list[tuple[int, str]]:
    """(index of the record, its short view) for every record that has one."""
    out = []
    for i, (source, text, h) in enumerate(zip(sources, texts, health)):
        title = headline(source, text, h)
        if title is not None:
            out.append((i, title))
    return out


# --- fit -----------------------------------------------------------------------------------

def _lr(class_weight="balanced"):
    from sklearn.linear_model import LogisticRegression

    return LogisticRegression(C=C, max_iter=3000, class_weight=class_weight)


def _fit_heads(X_hand, y_hand, t_hand, X_weak, y_weak, t_weak, weak_weight, health_rows=None):
    """(health classifier, topic classifier) on hand rows plus weak rows at `weak_weight`. The
    health classifier learns from the hand rows where `health_rows` is true (default all), the
    topic classifier from every health row."""
    import numpy as np
    from scipy import sparse

    n_hand = len(y_hand)
    if weak_weight > 0 and X_weak is not None and X_weak.shape[0]:
        X = sparse.vstack([X_hand, X_weak], format="csr")
        y = np.concatenate([y_hand, y_weak])
        w = np.concatenate([np.ones(n_hand), np.full(len(y_weak), weak_weight)])
        t = list(t_hand) + list(t_weak)
    else:
        X, y, w, t = X_hand, np.asarray(y_hand), np.ones(n_hand), list(t_hand)
    use = np.ones(len(y), dtype=bool)
    if health_rows is not None:
        use[:n_hand] = health_rows
    health = _fit_used_columns(_lr(), X[use], y[use], w[use])
    rows = [i for i, topic in enumerate(t) if y[i] == 1 and topic]
    topic = _fit_used_columns(_lr(class_weight=None), X[rows], [t[i] for i in rows], w[rows])
    return health, topic


def _fit_used_columns(clf, X, y, sample_weight):
    """`clf` (a logistic regression) fitted on the columns of X that some row has a value in, its
    coefficients then spread back over every column, zero on the others. Under its L2 penalty a
    column no row has stays at zero anyway, so it is the same model; but L-BFGS's work per step
    grows with the number of coefficients, and the topic classifier's rows (health items) use a
    third of the vocabulary fitted on all of them: 16 classes x 328k columns took 48 s, x 124k 20 s."""
    import numpy as np

    X = X.tocsc()
    used = np.flatnonzero(np.diff(X.indptr) > 0)
    clf.fit(X[:, used].tocsr(), y, sample_weight=sample_weight)
    coef = np.zeros((clf.coef_.shape[0], X.shape[1]), dtype=clf.coef_.dtype)
    coef[:, used] = clf.coef_
    clf.coef_, clf.n_features_in_ = coef, X.shape[1]
    return clf


def load_store_labels(db_path) -> tuple[list[HandLabel], list[str]]:
    """The latest label on each item of a rumourwatch store (the 数据标注 page), as hand labels of
    source "store" with the items' texts; none when the store has no labels table."""
    from rumourwatch import store

    db = store.open_db(db_path, read_only=True)
    try:
        if not store.has_tables(db, "labels"):
            return [], []
        rows = store.latest_labels(db)
        texts = {r["id"]: r["text"] for r in db.query(
            "SELECT id, text FROM items WHERE id IN (SELECT item_id FROM labels)")}
    finally:
        db.conn.close()
    labels = [HandLabel("store", f"{r['platform']}:{r['external_id']}", bool(r["health_related"]), r["topic"],
                        r["labelled_by"], r.get("note") or "") for r in rows]
    return labels, [texts[r["item_id"]] for r in rows]


def _prepare(settings, labels_db=None, hand: list[HandLabel] | None = None):
    """The hand labels `hand` (default: all of them; plus every label made in the store
    `labels_db`) and weak examples, featurised (shared by fit and selection). Weak examples never
    take a hand-labelled item, used here or not."""
    import numpy as np

    from rumourwatch.nlp.relevance import RelevanceFeatures

    by_file = {path.name: train_part + hold_part
               for path, (train_part, hold_part) in zip(LABEL_FILES, hand_label_parts())}
    labels = [lab for file_labels in by_file.values() for lab in file_labels]
    keyword_drawn = {(l.source, l.item_id) for l in by_file[TARGETED_LABELS_FILE.name]}
    train = list(labels if hand is None else hand)
    exclude = {(l.source, l.item_id) for l in labels}
    hand_texts = resolve_texts(settings, train)
    if labels_db is not None:
        store_labels, store_texts = load_store_labels(labels_db)
        train, hand_texts = train + store_labels, hand_texts + store_texts
    features = RelevanceFeatures(medical_terms(settings))
    weak = weak_examples(settings, features, exclude)
    weak_texts = [w.text for w in weak]
    # Each labelled item with a short view (`headline`) is also learnt from it, with the item's
    # label: rows are the items' texts, then those views; `origin` maps each row to its item.
    views = _headline_rows([l.source for l in train], hand_texts, [l.health_related for l in train])
    origin = list(range(len(train))) + [i for i, _ in views]
    row_texts = hand_texts + [title for _, title in views]
    features.fit(row_texts + weak_texts)
    # rounds 3-4 were drawn by topic keywords: not a sample of how often items are about health
    health_rows = [(l.source, l.item_id) not in keyword_drawn for l in train]
    return {
        "train": train, "hand_texts": hand_texts, "features": features, "weak": weak, "by_file": by_file,
        "n_hand": len(labels) if hand is None else len(hand), "n_headlines": len(views),
        "origin": np.array(origin),
        "X_hand": features.transform(row_texts),
        "health_rows": np.array([health_rows[i] for i in origin], dtype=bool),
        "y_hand": np.array([int(train[i].health_related) for i in origin]),
        "t_hand": [train[i].topic if train[i].health_related else None for i in origin],
        "X_weak": features.transform(weak_texts),
        "y_weak": np.array([w.health for w in weak]),
        "t_weak": [w.topic for w in weak],
    }


def select_hyperparameters(settings) -> dict:
    """3-fold CV on the hand-label training part (never the hold-out) over the weak-label weight
    and the topic rule weight: health F1 and accuracy on the validation items, health accuracy on
    the validation debunk items read by their title alone, topic accuracy on the health items.
    Slow; its result is written into WEAK_WEIGHT / TOPIC_RULE_WEIGHT and the model card, so that
    `fit` is a single deterministic fit."""
    import numpy as np
    from sklearn.metrics import accuracy_score, f1_score
    from sklearn.model_selection import StratifiedKFold

    from rumourwatch.nlp.relevance import HealthRelevanceModel

    d = _prepare(settings, hand=training_part())
    X_hand, y_hand, t_hand = d["X_hand"], d["y_hand"], d["t_hand"]
    strata = [f"{l.source}:{int(l.health_related)}" for l in d["train"]]
    folds = list(StratifiedKFold(CV_FOLDS, shuffle=True, random_state=HOLDOUT_SEED)
                 .split(d["hand_texts"], strata))
    n_items = len(d["train"])
    titles = np.array([i >= n_items and d["train"][o].source in HEADLINE_SOURCES
                       for i, o in enumerate(d["origin"])])
    cv: dict = {}
    for ww in WEAK_WEIGHTS:
        f1s, item_acc, title_acc, accs = [], [], [], {rw: [] for rw in TOPIC_RULE_WEIGHTS}
        for tr_items, va_i in folds:
            # an item's title view learns with it (validation rows are the items themselves)
            tr_i = np.flatnonzero(np.isin(d["origin"], tr_items))
            h, t = _fit_heads(X_hand[tr_i], y_hand[tr_i], [t_hand[i] for i in tr_i],
                              d["X_weak"], d["y_weak"], d["t_weak"], ww, d["health_rows"][tr_i])
            predicted = h.predict(X_hand[va_i])
            f1s.append(f1_score(y_hand[va_i], predicted))
            item_acc.append(accuracy_score(y_hand[va_i], predicted))
            va_titles = np.flatnonzero(titles & np.isin(d["origin"], va_i))
            title_acc.append(accuracy_score(y_hand[va_titles], h.predict(X_hand[va_titles])))
            yes = [i for i in va_i if y_hand[i] == 1]
            for rw in TOPIC_RULE_WEIGHTS:
                m = HealthRelevanceModel(d["features"], h, t, rw)
                P = m.topic_proba([d["hand_texts"][i] for i in yes], X_hand[yes])
                accs[rw].append(accuracy_score([t_hand[i] for i in yes],
                                               [TOPICS_[j] for j in P.argmax(1)]))
        cv[str(ww)] = {"health_f1": round(float(np.mean(f1s)), 4),
                       "health_accuracy": round(float(np.mean(item_acc)), 4),
                       "title_health_accuracy": round(float(np.mean(title_acc)), 4),
                       "topic_acc": {str(rw): round(float(np.mean(a)), 4)
                                     for rw, a in accs.items()}}
    return cv


def fit(settings, labels_db=None, hand: list[HandLabel] | None = None):
    """The health relevance + topic model: hand labels (`hand`, default every one of them; plus the
    labels made in the store `labels_db`) plus weak supervision at WEAK_WEIGHT, topic blended with
    keyword rules at TOPIC_RULE_WEIGHT. The keyword-drawn labels (TARGETED_LABELS_FILE) teach the
    topic classifier only: drawn by keyword, they say nothing of how often an item is about health
    (learnt by the health classifier, they taught it that health keywords mean little)."""
    from rumourwatch.nlp.relevance import HealthRelevanceModel

    d = _prepare(settings, labels_db, hand)
    health, topic = _fit_heads(d["X_hand"], d["y_hand"], d["t_hand"], d["X_weak"], d["y_weak"],
                               d["t_weak"], WEAK_WEIGHT, d["health_rows"])
    per_file = _label_files_used(d["train"], d["by_file"])
    info = {
        "n_train": len(d["train"]), "n_weak": len(d["weak"]),
        "n_weak_health": int(d["y_weak"].sum()), "weak_weight": WEAK_WEIGHT,
        "n_headline_views": d["n_headlines"],
        "topic_rule_weight": TOPIC_RULE_WEIGHT, "C": C,
        "n_store_labels": sum(1 for lab in d["train"] if lab.source == "store"),
        "n_hand_labels": d["n_hand"],
        "hand_labels_by_file": {name: n for name, (n, _) in per_file.items()},
        "trained_on": [f"data/labels/{name} ({n} of {total} labels)" for name, (n, total) in per_file.items()]
        + ([f"labels in {labels_db}"] if labels_db is not None else [])
        + sorted(SOURCE_FILES.values()) + [MEDICAL_LEXICON],
        "topic_classes": [str(c) for c in topic.classes_],
    }
    return HealthRelevanceModel(d["features"], health, topic, TOPIC_RULE_WEIGHT, info)


def _label_files_used(train: list[HandLabel], by_file: dict[str, list[HandLabel]]
                      ) -> dict[str, tuple[int, int]]:
    """{file name: (labels of it among `train`, labels in it)} for each hand-label file."""
    used = {(lab.source, lab.item_id) for lab in train}
    return {name: (sum((lab.source, lab.item_id) in used for lab in labels), len(labels))
            for name, labels in by_file.items()}


# --- evaluate ------------------------------------------------------------------------------

def lexicon_baseline(settings, train_texts, train_y):
    """Baseline: health when a body has at least k health keywords / medical terms (k chosen on
    the training part), topic by keyword rule (健康知识普及 when no specific rule fires)."""
    import numpy as np
    from sklearn.metrics import f1_score

    from rumourwatch.nlp.relevance import RelevanceFeatures
    from rumourwatch.nlp.topics import GENERAL_TOPIC, rule_topic

    feats = RelevanceFeatures(medical_terms(settings))
    strong, _, _ = _strong_counts(feats, train_texts)
    k = max(range(1, 6), key=lambda k: f1_score(train_y, (np.array(strong) >= k).astype(int)))

    def predict(texts):
        s, _, counts = _strong_counts(feats, texts)
        out = []
        for si, c in zip(s, counts):
            if si >= k:
                out.append((1, rule_topic(c, feats.rules.topics) or GENERAL_TOPIC))
            else:
                out.append((0, OTHER_TOPIC))
        return out

    return k, predict


def _scores(gold_h, gold_t, pred_h, pred_t) -> dict:
    from sklearn.metrics import accuracy_score, f1_score, precision_score, recall_score

    yes = [i for i, g in enumerate(gold_h) if g]
    return {
        "n": len(gold_h),
        "health_accuracy": round(accuracy_score(gold_h, pred_h), 4),
        "health_f1": round(f1_score(gold_h, pred_h), 4),
        "health_precision": round(precision_score(gold_h, pred_h, zero_division=0), 4),
        "health_recall": round(recall_score(gold_h, pred_h, zero_division=0), 4),
        "topic_accuracy_all": round(accuracy_score(gold_t, pred_t), 4),
        "topic_accuracy_on_health_items": round(
            accuracy_score([gold_t[i] for i in yes], [pred_t[i] for i in yes]), 4) if yes else None,
    }


def _predict(model, texts) -> tuple[list[int], list[str]]:
    preds = model.predict_texts(texts)
    return [int(p["health_related"]) for p in preds], [p["topic"] for p in preds]


def _intervals(gold_h, gold_t, pred_h, pred_t, other_h, other_t, groups) -> dict:
    """95% bootstrap intervals (near-duplicate items drawn together) of the health and topic
    figures, with the paired gains over another model's labels of the same items."""
    return {"health": bootstrap_intervals(gold_h, pred_h, other_h, groups=groups),
            "topic": bootstrap_intervals(gold_t, pred_t, other_t, groups=groups)}


def crossfit(settings, train: list[HandLabel], hold: list[HandLabel], against=None,
             texts: list[str] | None = None) -> dict:
    """The production recipe (every hand label) on labels it never saw: the hold-out is split in
    two halves (stratified by source × health_related); a model fitted on the training part and
    one half labels the other half (evaluate passes both files' training parts, so the keyword-drawn
    hold-out stays out of it too). Compare with `evaluate`'s "holdout" (the training part alone,
    the same items): `against` = (health, topic) labels another model gave `hold`, in its order,
    adds the intervals of the gains over it. `texts` are the hold-out's texts when the caller has
    them (resolving them reads every bundle source)."""
    texts = resolve_texts(settings, hold) if texts is None else texts
    first, second = split_hand_labels(hold, 0.5, seed=HOLDOUT_SEED + 2)
    position = {id(label): i for i, label in enumerate(hold)}
    order, pred_h, pred_t = [], [], []
    for learn, part in ((first, second), (second, first)):
        h, t = _predict(fit(settings, hand=train + learn), [texts[position[id(label)]] for label in part])
        order += [position[id(label)] for label in part]
        pred_h += h
        pred_t += t
    gold_h = [int(hold[i].health_related) for i in order]
    gold_t = [hold[i].topic for i in order]
    out = {"folds": 2, **_scores(gold_h, gold_t, pred_h, pred_t)}
    if against is not None:
        groups = group_near_duplicates(texts)[order]
        out["interval_against_training_part"] = _intervals(
            gold_h, gold_t, pred_h, pred_t, [against[0][i] for i in order],
            [against[1][i] for i in order], groups)
    return out


def evaluate(settings, model=None, with_crossfit: bool = True) -> dict:
    """Figures on the hold-out part of the hand labels for a model fitted on the training part
    (`model`, else fitted here), beside the lexicon baseline; and the production recipe cross-fitted
    over the hold-out. "interval" entries are 95% bootstrap intervals, with the paired gains over
    the baseline (holdout) and over the training-part model (cross-fit)."""
    import time

    (train, hold), (targeted_train, targeted_hold) = hand_label_parts()
    if model is not None:
        _refuse_in_sample(model, {LABELS_FILE.name: len(train), TARGETED_LABELS_FILE.name: len(targeted_train)})
    train = train + targeted_train
    model = model or fit(settings, hand=train)
    texts = resolve_texts(settings, hold)
    gold_h = [int(l.health_related) for l in hold]
    gold_t = [l.topic for l in hold]
    start = time.perf_counter()
    pred_h, pred_t = _predict(model, texts)
    elapsed = time.perf_counter() - start
    train_texts = resolve_texts(settings, train)
    k, base = lexicon_baseline(settings, train_texts, [int(l.health_related) for l in train])
    bp = base(texts)
    base_h, base_t = [b[0] for b in bp], [b[1] for b in bp]
    out = {
        "holdout": {**_scores(gold_h, gold_t, pred_h, pred_t),
                    "interval": _intervals(gold_h, gold_t, pred_h, pred_t, base_h, base_t,
                                           group_near_duplicates(texts))},
        "baseline_lexicon": {"k": k, **_scores(gold_h, gold_t, base_h, base_t)},
        "by_source": {},
        "model": dict(model.info),
        "holdout_docs_per_second": round(len(texts) / elapsed, 1) if elapsed else None,
    }
    for source in sorted({l.source for l in hold}):
        idx = [i for i, l in enumerate(hold) if l.source == source]
        out["by_source"][source] = {
            "model": _scores([gold_h[i] for i in idx], [gold_t[i] for i in idx],
                             [pred_h[i] for i in idx], [pred_t[i] for i in idx]),
            "baseline": _scores([gold_h[i] for i in idx], [gold_t[i] for i in idx],
                                [bp[i][0] for i in idx], [bp[i][1] for i in idx]),
        }
    targeted_texts = resolve_texts(settings, targeted_hold)
    out["targeted_holdout"] = _targeted_figures(settings, model, targeted_hold, base, train_texts, targeted_texts)
    out["headlines_holdout"] = _headline_figures(
        model, hold + targeted_hold, texts + targeted_texts, base, train_texts)
    out["annotator_agreement"] = annotator_agreement()
    if with_crossfit:
        out["production_recipe_crossfit"] = crossfit(settings, train, hold, against=(pred_h, pred_t), texts=texts)
    return out


def _refuse_in_sample(model, training_sizes: dict[str, int]) -> None:
    """A model that learnt from more labels of a file than that file's training part has would
    score some of its hold-out in-sample: refuse it. (A model from before the per-file count
    learnt from the random rounds only.)"""
    used = model.info.get("hand_labels_by_file") or {LABELS_FILE.name: model.info.get("n_hand_labels", 0)}
    for name, n in used.items():
        if n > training_sizes.get(name, 0):
            raise ValueError(f"this model learnt from {n} hand labels of {name}, more than the "
                             f"{training_sizes.get(name, 0)} of its training part, so the hold-out would be "
                             "scored in-sample: evaluate a model from fit(settings, hand=training_part())")


def _not_near_copies(texts: list[str], seen_texts: list[str]) -> list[int]:
    """Positions of the `texts` with no near-copy among `seen_texts` (MinHash, as the worker
    clusters): hold-out items a model would otherwise score in-sample."""
    groups = group_near_duplicates(list(seen_texts) + list(texts))
    seen = set(groups[:len(seen_texts)].tolist())
    return [i for i, g in enumerate(groups[len(seen_texts):]) if g not in seen]


def _targeted_figures(settings, model, hold: list[HandLabel], base, train_texts: list[str],
                      texts: list[str] | None = None) -> dict:
    """Rounds 3–4's hold-out (items drawn by topic keywords, so not a sample of a feed): the overall
    figures, model and baseline, and per topic of the gold labels how many items the model gave
    that topic (recall) and how many of the items it gave a topic were right (precision). A hold-out
    item with a near-copy among the training texts (MinHash, as the worker clusters) is left out:
    the keyword draw took several versions of some posts, and the split is by item. `texts` are
    the hold-out's texts when the caller has them (resolving them reads every bundle source)."""
    texts = resolve_texts(settings, hold) if texts is None else texts
    keep = _not_near_copies(texts, train_texts)
    left_out = len(hold) - len(keep)
    hold, texts = [hold[i] for i in keep], [texts[i] for i in keep]
    gold_h = [int(l.health_related) for l in hold]
    gold_t = [l.topic for l in hold]
    pred_h, pred_t = _predict(model, texts)
    bp = base(texts)
    per_topic = {}
    for topic in sorted(set(gold_t) | set(pred_t)):
        gold_n = sum(g == topic for g in gold_t)
        pred_n = sum(p == topic for p in pred_t)
        hit = sum(g == p == topic for g, p in zip(gold_t, pred_t))
        base_hit = sum(g == b[1] == topic for g, b in zip(gold_t, bp))
        per_topic[topic] = {"gold": gold_n, "predicted": pred_n, "right": hit, "baseline_right": base_hit}
    return {"near_copies_of_training_left_out": left_out,
            "model": _scores(gold_h, gold_t, pred_h, pred_t),
            "baseline": _scores(gold_h, gold_t, [b[0] for b in bp], [b[1] for b in bp]),
            "per_topic": per_topic,
            "interval": _intervals(gold_h, gold_t, pred_h, pred_t, [b[0] for b in bp],
                                   [b[1] for b in bp], group_near_duplicates(texts))}


def _headline_figures(model, hold: list[HandLabel], texts: list[str], base, train_texts: list[str]) -> dict:
    """The hold-out debunk articles of every label file seen by their title alone, labelled as their
    article: how the models read a headline or one short claim. A title with a near-copy among the
    training texts or their titles (the same rumour debunked on several platforms) is left out."""
    pairs = [(lab, headline(lab.source, text)) for lab, text in zip(hold, texts)
             if lab.source in HEADLINE_SOURCES]
    pairs = [(lab, title) for lab, title in pairs if title is not None]
    # every training text, and its first line (a debunk article's title)
    seen_texts = list(train_texts) + [t.split("\n", 1)[0] for t in train_texts]
    keep = [pairs[i] for i in _not_near_copies([title for _, title in pairs], seen_texts)]
    titles = [title for _, title in keep]
    gold_h = [int(lab.health_related) for lab, _ in keep]
    gold_t = [lab.topic for lab, _ in keep]
    pred_h, pred_t = _predict(model, titles)
    bp = base(titles)
    base_h, base_t = [b[0] for b in bp], [b[1] for b in bp]
    return {"n_debunk_titles": len(pairs), "near_copies_of_training_left_out": len(pairs) - len(keep),
            "model": _scores(gold_h, gold_t, pred_h, pred_t),
            "baseline": _scores(gold_h, gold_t, base_h, base_t),
            "interval": _intervals(gold_h, gold_t, pred_h, pred_t, base_h, base_t,
                                   group_near_duplicates(titles))}


if __name__ == "__main__":
    from .datasets import print_evaluation

    print_evaluation(evaluate)
