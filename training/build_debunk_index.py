"""Build and evaluate the "already debunked" knowledge base (rumourwatch.knowledge.DebunkIndex).

    python -m training.build_debunk_index            # build, calibrate, print the evaluation
    python -m training.build_debunk_index candidates # pairs for hand-checking (to stdout, not git)
    python -m training.build_debunk_index top-up     # round 2: more pairs near the threshold

`fit(settings)` is what training/train.py calls; it reads the bundle's debunk articles and sets
the 已辟谣 threshold from the hand-checked pairs in data/labels/debunk_matches.csv, rescored with
the index just built. `evaluate(settings)` reports precision/recall of that threshold on the same
pairs, per source, with a leave-one-source-out check, and how often a confirmed match is to an
article published before the item.
"""

from __future__ import annotations

import csv
import hashlib
import json
import math
import sys
from collections import defaultdict
from pathlib import Path

import numpy as np

from rumourwatch.config import REPO_ROOT, BundleLines, data_file, load_settings
from rumourwatch.errors import DataBundleError
from rumourwatch.knowledge import DEFAULT_THRESHOLD, DebunkIndex
from rumourwatch.records import CST, parse_time

ARTICLES = "debunks/debunk_articles.jsonl.gz"
CHECKED = "rumour/checked_train.jsonl.gz"
CED = "rumour/ced_train.jsonl.gz"
STREAM = "stream/covid_weibo_2020_sample.jsonl.gz"
LABELS = REPO_ROOT / "data" / "labels" / "debunk_matches.csv"
LABEL_COLUMNS = ["source", "item_id", "article_url", "score", "same_claim", "note"]

# A monitor trusts 已辟谣, so the threshold is the lowest score at which the hand-checked pairs
# scoring at or above it are at least this precise (and at least MIN_PAIRS of them).
TARGET_PRECISION = 0.95
MIN_PAIRS = 20
MIN_LOWER_BOUND = 0.85
GROUP_PRECISION = 0.90  # every source (checked, ced, stream) on its own
GROUP_MIN_FLAGS = 10
MAX_PER_ARTICLE = 3  # hand-checked pairs per (source, matched article)


def read_jsonl(path: Path) -> list[dict]:
    with BundleLines(path) as f:
        return [json.loads(line) for line in f if line.strip()]


def stream_id(text: str) -> str:
    """Id of a stream post (the stream has no ids): first 16 hex digits of sha1 of its text."""
    return hashlib.sha1(text.encode("utf-8")).hexdigest()[:16]


def build(settings, threshold: float = DEFAULT_THRESHOLD) -> DebunkIndex:
    """The index over the bundle's articles, with the given threshold (no calibration)."""
    path = data_file(settings, ARTICLES)
    index = DebunkIndex(threshold=threshold).fit(read_jsonl(path), source=ARTICLES)
    if index.rejected:
        print(f"set aside {len(index.rejected)} debunk articles: {index.rejected[:5]}",
              file=sys.stderr)
    return index


# -- hand-checked labels ---------------------------------------------------------------------

def read_labels(path: Path = LABELS) -> list[dict]:
    """Hand-checked (item, article) pairs; raises ValueError naming the bad row."""
    if not path.exists():
        return []
    rows = []
    with open(path, encoding="utf-8", newline="") as f:
        reader = csv.DictReader(f)
        if reader.fieldnames != LABEL_COLUMNS:
            raise ValueError(f"{path}: columns must be {','.join(LABEL_COLUMNS)}")
        for n, row in enumerate(reader, start=2):
            if row["same_claim"] not in {"0", "1"}:
                raise ValueError(f"{path} line {n}: same_claim must be 0 or 1")
            row["same_claim"] = int(row["same_claim"])
            row["score"] = float(row["score"])
            rows.append(row)
    return rows


def item_texts(settings, wanted: dict[str, set[str]]) -> dict[tuple[str, str], dict]:
    """(source, item_id) → {text, date} for the labelled items, read from the bundle."""
    found: dict[tuple[str, str], dict] = {}
    for source, rel in (("checked", CHECKED), ("ced", CED)):
        if not wanted.get(source):
            continue
        for r in read_jsonl(data_file(settings, rel)):
            if str(r["id"]) in wanted[source]:
                found[(source, str(r["id"]))] = {"text": r["text"], "date": r.get("date")}
    if wanted.get("stream"):
        with BundleLines(data_file(settings, STREAM)) as f:
            for line in f:
                r = json.loads(line)
                sid = stream_id(r["text"])
                if sid in wanted["stream"]:
                    found[("stream", sid)] = {"text": r["text"], "date": r.get("date")}
    return found


def rescore(index: DebunkIndex, settings, labels: list[dict]) -> list[dict]:
    """The labelled pairs with `new_score`: the cosine of item and article in this index.

    A pair whose item or article is no longer found keeps no new_score and is reported.
    """
    wanted: dict[str, set[str]] = defaultdict(set)
    for row in labels:
        wanted[row["source"]].add(row["item_id"])
    texts = item_texts(settings, wanted)
    col_of: dict[str, list[int]] = defaultdict(list)
    for j, url in enumerate(index.urls):
        col_of[url].append(j)
    usable = [r for r in labels if (r["source"], r["item_id"]) in texts and col_of.get(r["article_url"])]
    missing = len(labels) - len(usable)
    if missing:
        print(f"{missing} labelled pairs could not be rescored (item or article not found)",
              file=sys.stderr)
    sims = index.scores([texts[(r["source"], r["item_id"])]["text"] for r in usable])
    out = []
    for i, r in enumerate(usable):
        item = texts[(r["source"], r["item_id"])]
        # a url shared by several articles: the best-scoring one is the one the matcher showed
        j = max(col_of[r["article_url"]], key=lambda c: sims[i, c])
        out.append({**r, "new_score": float(sims[i, j]), "item_date": item["date"],
                    "article_known_from": index.known_from[j]})
    return out


def calibrate(scores, labels, groups=None, target: float = TARGET_PRECISION,
              min_pairs: int = MIN_PAIRS, min_lower_bound: float = MIN_LOWER_BOUND,
              group_target: float = GROUP_PRECISION):
    """Lowest score threshold whose pairs at or above it reach `target` precision, with the
    95% Wilson lower bound of that precision at least `min_lower_bound` (so a handful of lucky
    pairs cannot set it) and, when `groups` (e.g. sources) are given, every group with at least
    GROUP_MIN_FLAGS pairs above the threshold at least `group_target` precise: the live feed
    must not pay for the easy reposts of the labelled rumour sets.

    Returns (threshold, precision, recall, n_at_or_above); None threshold when unreachable.
    """
    scores = np.asarray(scores, dtype=float)
    labels = np.asarray(labels, dtype=int)
    groups = np.asarray(groups if groups is not None else [""] * len(scores))
    positives = labels.sum()
    best = (None, float("nan"), 0.0, 0)
    for t in sorted(set(scores.tolist()), reverse=True):
        above = scores >= t
        n = int(above.sum())
        k = int(labels[above].sum())
        precision = k / n
        ok = n >= min_pairs and precision >= target and _wilson_low(k, n) >= min_lower_bound
        for g in set(groups[above].tolist()):
            sel = above & (groups == g)
            if sel.sum() >= GROUP_MIN_FLAGS and labels[sel].mean() < group_target:
                ok = False
        if ok:
            recall = k / positives if positives else float("nan")
            best = (float(t), float(precision), float(recall), n)
    return best


def precision_recall(scores, labels, threshold: float) -> dict:
    scores = np.asarray(scores, dtype=float)
    labels = np.asarray(labels, dtype=int)
    above = scores >= threshold
    tp = int((labels[above] == 1).sum())
    return {
        "pairs": len(labels),
        "same_claim": int(labels.sum()),
        "flagged": int(above.sum()),
        "true_flags": tp,
        "precision": round(tp / above.sum(), 3) if above.sum() else None,
        "recall": round(tp / labels.sum(), 3) if labels.sum() else None,
        "precision_wilson_low": _wilson_low(tp, int(above.sum())),
    }


def _wilson_low(k: int, n: int, z: float = 1.96):
    if n == 0:
        return None
    p = k / n
    centre = p + z * z / (2 * n)
    spread = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n))
    return round((centre - spread) / (1 + z * z / n), 3)


# -- protocol entry points -------------------------------------------------------------------

def fit(settings) -> DebunkIndex:
    """Build the index and set its threshold from the hand-checked pairs (DEFAULT_THRESHOLD
    when the labels are absent or cannot reach the target precision)."""
    index = build(settings)
    labels = read_labels()
    metrics: dict = {"threshold_source": "default"}
    if labels:
        pairs = rescore(index, settings, labels)
        scores = [p["new_score"] for p in pairs]
        truth = [p["same_claim"] for p in pairs]
        threshold, *_ = calibrate(scores, truth, [p["source"] for p in pairs])
        if threshold is not None:
            index.threshold = threshold
            metrics["threshold_source"] = "hand-checked pairs"
        metrics["hand_checked"] = precision_recall(scores, truth, index.threshold)
    metrics["threshold"] = index.threshold
    index.info = {"metrics": metrics, "labels": str(LABELS.relative_to(REPO_ROOT))}
    return index


def evaluate(settings, index: DebunkIndex | None = None) -> dict:
    """Precision/recall of the 已辟谣 threshold on the hand-checked pairs, and related figures."""
    index = index or fit(settings)
    labels = read_labels()
    if not labels:
        raise DataBundleError(f"no hand-checked pairs at {LABELS}")
    pairs = rescore(index, settings, labels)
    scores = [p["new_score"] for p in pairs]
    truth = [p["same_claim"] for p in pairs]
    result = {"index": index.describe(), "threshold": index.threshold,
              "overall": precision_recall(scores, truth, index.threshold), "by_source": {}}
    for source in sorted({p["source"] for p in pairs}):
        sub = [p for p in pairs if p["source"] == source]
        result["by_source"][source] = precision_recall(
            [p["new_score"] for p in sub], [p["same_claim"] for p in sub], index.threshold)
    # Leave one source out: calibrate on the others, measure on the held-out source.
    held = {}
    for source in sorted({p["source"] for p in pairs}):
        train = [p for p in pairs if p["source"] != source]
        test = [p for p in pairs if p["source"] == source]
        t, *_ = calibrate([p["new_score"] for p in train], [p["same_claim"] for p in train],
                          [p["source"] for p in train])
        if t is not None:
            held[source] = {"threshold": t, **precision_recall(
                [p["new_score"] for p in test], [p["same_claim"] for p in test], t)}
    result["leave_one_source_out"] = held
    # Could the clarification have been known when the item was posted? (articles dated by day
    # count from the end of that day; stream posts dated by day count from its start)
    def predates(p):
        return (p["article_known_from"] is not None and p["item_date"] is not None
                and p["article_known_from"] <= parse_time(p["item_date"]))

    confirmed = [p for p in pairs if p["same_claim"] == 1 and p["new_score"] >= index.threshold]
    same = [p for p in pairs if p["same_claim"] == 1]
    result["confirmed_matches"] = len(confirmed)
    result["confirmed_article_predates_item"] = sum(map(predates, confirmed))
    result["same_claim_pairs"] = len(same)
    result["same_claim_article_predates_item"] = sum(map(predates, same))
    result["whole_sets"] = coverage(settings, index)
    return result


def coverage(settings, index: DebunkIndex) -> dict:
    """How many items of each whole set the index flags 已辟谣: with every article, and with only
    the articles known before the item (what a live system could have shown at the time)."""
    out = {}
    for source, rel, positive in (("checked", CHECKED, "fake"), ("ced", CED, "rumor")):
        rows = read_jsonl(data_file(settings, rel))
        for is_positive in (True, False):
            sub = [r for r in rows if (r["label"] == positive) == is_positive]
            label = positive if is_positive else ("real" if source == "checked" else "non-rumor")
            out[f"{source}/{label}"] = _flag_counts(index, sub)
    with BundleLines(data_file(settings, STREAM)) as f:
        out["stream"] = _flag_counts(index, [json.loads(line) for line in f])
    return out


def _flag_counts(index: DebunkIndex, rows: list[dict]) -> dict:
    flagged = sum(1 for m in index.best([r["text"] for r in rows]) if m and m.already_debunked)
    by_time: dict[str, list[str]] = defaultdict(list)
    for r in rows:
        by_time[r.get("date") or ""].append(r["text"])
    known_then = 0
    for when, texts in by_time.items():
        if not when:
            continue  # undated items cannot be placed in time
        known_then += sum(1 for m in index.best(texts, before=parse_time(when))
                          if m and m.already_debunked)
    return {"items": len(rows), "flagged": flagged, "flagged_with_articles_known_then": known_then}


# -- candidates for hand-checking ------------------------------------------------------------

def candidates(settings, seed: int = 20260101) -> list[dict]:
    """(item, top match) pairs to check by hand: stratified over sources and score ranges.

    Texts are printed for the annotator only; the CSV keeps ids, scores and urls.
    """
    index = build(settings)
    rng = np.random.default_rng(seed)
    pools = []
    checked = read_jsonl(data_file(settings, CHECKED))
    ced = read_jsonl(data_file(settings, CED))
    pools.append(("checked", "fake", [r for r in checked if r["label"] == "fake"]))
    pools.append(("checked", "real", [r for r in checked if r["label"] == "real"]))
    pools.append(("ced", "rumor", [r for r in ced if r["label"] == "rumor"]))
    pools.append(("ced", "non-rumor", [r for r in ced if r["label"] == "non-rumor"]))
    with BundleLines(data_file(settings, STREAM)) as f:
        stream = [json.loads(line) for line in f]
    pools.append(("stream", "", stream))
    # per pool: how many pairs from each score band (high bands over-sampled: that is where the
    # threshold lies; low bands sampled to catch misses)
    bands = [(0.5, 1.01), (0.35, 0.5), (0.25, 0.35), (0.18, 0.25), (0.12, 0.18), (0.0, 0.12)]
    quota = {"fake": [40, 40, 40, 40, 30, 20], "real": [10, 10, 15, 15, 10, 5],
             "rumor": [15, 15, 15, 20, 15, 8], "non-rumor": [5, 5, 8, 10, 8, 4],
             "": [20, 20, 25, 25, 15, 8]}
    out = []
    per_article: dict[tuple[str, str], int] = defaultdict(int)
    for source, label, rows in pools:
        best = index.best([r["text"] for r in rows])
        for (lo, hi), q in zip(bands, quota[label]):
            idx = [i for i, m in enumerate(best) if m is not None and lo <= m.score < hi]
            taken = 0
            for i in rng.permutation(idx):
                r, m = rows[i], best[i]
                # reposts of one viral rumour would fill the sample with one claim: cap per article
                if per_article[(source, m.url)] >= MAX_PER_ARTICLE or taken >= q:
                    continue
                per_article[(source, m.url)] += 1
                taken += 1
                item_id = stream_id(r["text"]) if source == "stream" else str(r["id"])
                out.append({"source": source, "label": label, "item_id": item_id,
                            "date": r.get("date"), "text": r["text"],
                            "analysis": r.get("analysis") or "", "match": m})
    return out


def top_up_candidates(settings, seed: int = 7, floor: float = 0.22, per_article: int = 2) -> list[dict]:
    """Round 2: unlabelled items scoring at least `floor` (where the threshold lies), stream
    first (distinct texts), then CHECKED and CED, at most `per_article` per article."""
    index = build(settings)
    rng = np.random.default_rng(seed)
    done = {(r["source"], r["item_id"]) for r in read_labels()}
    taken: dict[str, int] = defaultdict(int)
    out = []
    with BundleLines(data_file(settings, STREAM)) as f:
        stream = list({r["text"]: r for r in map(json.loads, f)}.values())
    pools = [("stream", stream), ("checked", read_jsonl(data_file(settings, CHECKED))),
             ("ced", read_jsonl(data_file(settings, CED)))]
    for source, rows in pools:
        best = index.best([r["text"] for r in rows])
        idx = [i for i, m in enumerate(best) if m is not None and m.score >= floor]
        for i in rng.permutation(idx):
            r, m = rows[i], best[i]
            item_id = stream_id(r["text"]) if source == "stream" else str(r["id"])
            if (source, item_id) in done or taken[m.url] >= per_article:
                continue
            taken[m.url] += 1
            out.append({"source": source, "label": r.get("label", ""), "item_id": item_id,
                        "date": r.get("date"), "text": r["text"],
                        "analysis": r.get("analysis") or "", "match": m})
    return out


def main(argv: list[str]) -> None:
    settings = load_settings()
    if argv[:1] in (["candidates"], ["top-up"]):
        # texts go to the annotator's terminal only; never redirect this into the repository
        drawn = candidates(settings) if argv[0] == "candidates" else top_up_candidates(settings)
        for c in drawn:
            m = c["match"]
            print(json.dumps({"source": c["source"], "label": c["label"], "item_id": c["item_id"],
                              "date": c["date"], "text": c["text"][:300],
                              "analysis": c["analysis"][:200], "url": m.url, "score": m.score,
                              "title": m.title, "snippet": m.snippet,
                              "article_date": m.date.astimezone(CST).date().isoformat()
                              if m.date else None},
                             ensure_ascii=False))
        return
    print(json.dumps(evaluate(settings), ensure_ascii=False, indent=2, default=str))


if __name__ == "__main__":
    main(sys.argv[1:])
