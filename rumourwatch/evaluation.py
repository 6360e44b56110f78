"""Scoring figures shared by the offline evaluation (training/evaluate.py) and the analysts' model
page: macro-F1, rumour precision / recall, PR-AUC, Brier score and calibration error, and how the
live model's flags agreed with the verdicts monitors and experts recorded.

A live check reads, for each item's latest verdict (确认谣言 / 非谣言), the score the model had given
the item *before* that verdict, which is what the monitor saw when judging. A score computed after
the verdict is never used: by then more reactions were in, and a retrained model may have learnt the
verdict itself.
"""

from __future__ import annotations

from datetime import datetime

import numpy as np
from sklearn.metrics import (
    average_precision_score,
    brier_score_loss,
    f1_score,
    precision_score,
    recall_score,
)

from .records import CST, parse_time

VERDICT_LABELS = {"rumour": 1, "not_rumour": 0}  # "unverifiable" says nothing about the label
MISSES_SHOWN = 50  # disagreements listed for the analyst, most confident first


def expected_calibration_error(y, p, bins: int = 10) -> float:
    """Weighted mean |observed rumour rate - mean probability| over equal-width probability bins."""
    y, p = np.asarray(y, float), np.asarray(p, float)
    idx = np.minimum((p * bins).astype(int), bins - 1)
    total = 0.0
    for b in range(bins):
        m = idx == b
        if m.any():
            total += m.mean() * abs(y[m].mean() - p[m].mean())
    return float(total)


def reliability_curve(y, p, bins: int = 10) -> list[dict]:
    y, p = np.asarray(y, float), np.asarray(p, float)
    idx = np.minimum((p * bins).astype(int), bins - 1)
    return [{"bin": b, "n": int((idx == b).sum()), "mean_probability": float(p[idx == b].mean()),
             "rumour_rate": float(y[idx == b].mean())} for b in range(bins) if (idx == b).any()]


def metrics(y, p, threshold: float | None = None, pred=None) -> dict:
    """Figures for labels y (1 = rumour) and probabilities p; flags are p >= threshold, or `pred`
    when given (the flags as they were raised, e.g. under an earlier model's threshold)."""
    y = np.asarray(y, dtype=int)
    p = np.asarray(p, dtype=float)
    pred = (p >= threshold).astype(int) if pred is None else np.asarray(pred, dtype=int)
    return {
        "n": len(y), "rumours": int(y.sum()),
        "macro_f1": round(float(f1_score(y, pred, average="macro", zero_division=0)), 4),
        "precision": round(float(precision_score(y, pred, zero_division=0)), 4),
        "recall": round(float(recall_score(y, pred, zero_division=0)), 4),
        "pr_auc": round(float(average_precision_score(y, p)), 4) if 0 < y.sum() < len(y) else None,
        "brier": round(float(brier_score_loss(y, p, labels=[0, 1])), 4),
        "ece": round(expected_calibration_error(y, p), 4),
    }


BOOTSTRAP_RESAMPLES = 2000
INTERVAL_LEVEL = 0.95


def macro_f1_rows(tp, fp, fn) -> np.ndarray:
    """Macro-F1 per row from per-class counts (rows × classes), over the classes that occur in the
    gold labels or the predictions of that row (as sklearn's macro average does)."""
    denominator = 2 * tp + fp + fn
    present = denominator > 0
    f1 = np.divide(2 * tp, denominator, out=np.zeros_like(denominator, dtype=float), where=present)
    return f1.sum(axis=1) / np.maximum(present.sum(axis=1), 1)


def _group_sums(groups, n_items: int, columns: np.ndarray) -> np.ndarray:
    """Per-group sums of `columns` (items × k) as G × k; each item its own group without `groups`."""
    groups = np.arange(n_items) if groups is None else np.asarray(groups)
    if len(groups) != n_items:
        raise ValueError(f"{len(groups)} group numbers for {n_items} items")
    _, codes = np.unique(groups, return_inverse=True)
    sums = np.zeros((codes.max() + 1 if n_items else 0, columns.shape[1]))
    np.add.at(sums, codes, columns)
    return sums


def bootstrap_intervals(gold, pred, baseline_pred=None, prob=None, groups=None,
                        resamples: int = BOOTSTRAP_RESAMPLES, level: float = INTERVAL_LEVEL,
                        seed: int = 0) -> dict:
    """Percentile bootstrap intervals of the figures a test set gives, resampling whole groups.

    `gold` and `pred` are labels of any kind (two or more classes); `groups` gives a group per item
    (e.g. cluster.group_near_duplicates of the texts) so that copies of one post are drawn together
    and count as the one piece of evidence they are; without it every item is its own group.
    Returns {"macro_f1": [lo, hi], "accuracy": [lo, hi]}, plus "gain_over_baseline" and
    "accuracy_gain_over_baseline" (the paired differences in macro-F1 and in accuracy, both models
    read on the same resamples) when `baseline_pred` is given, and
    "ece" (expected calibration error, binary gold 0/1 with `prob` the probability of 1) when
    `prob` is given. Every figure is a sum over items per resample, so one matrix product per
    figure does all the resamples."""
    gold, pred = np.asarray(gold), np.asarray(pred)
    n = len(gold)
    if len(pred) != n or (baseline_pred is not None and len(baseline_pred) != n) \
            or (prob is not None and len(prob) != n):
        raise ValueError("gold, predictions and probabilities must have one entry per item")
    if n == 0:
        raise ValueError("no items: an interval needs at least one")
    preds = [pred] + ([np.asarray(baseline_pred)] if baseline_pred is not None else [])
    classes = np.unique(np.concatenate([gold.astype(str)] + [p.astype(str) for p in preds]))
    g = gold.astype(str)[:, None] == classes
    columns = [np.ones((n, 1))]
    for p in preds:
        q = p.astype(str)[:, None] == classes
        columns += [g & q, ~g & q, g & ~q, (g & q).any(axis=1, keepdims=True)]  # tp, fp, fn, correct
    if prob is not None:
        p = np.clip(np.asarray(prob, dtype=float), 0.0, 1.0)
        bins = np.minimum((p * 10).astype(int), 9)[:, None] == np.arange(10)
        columns += [bins * np.asarray(gold, dtype=float)[:, None], bins * p[:, None]]
    sums = _group_sums(groups, n, np.hstack(columns).astype(float))
    weights = np.random.default_rng(seed).multinomial(len(sums), np.full(len(sums), 1 / len(sums)),
                                                      size=resamples)
    drawn = weights @ sums  # resamples × columns
    k = len(classes)
    items = drawn[:, 0]
    at, f1s, accuracies = 1, [], []
    for _ in preds:
        tp, fp, fn = (drawn[:, at + j * k: at + (j + 1) * k] for j in range(3))
        f1s.append(macro_f1_rows(tp, fp, fn))
        accuracies.append(drawn[:, at + 3 * k] / items)
        at += 3 * k + 1
    figures = {"macro_f1": f1s[0], "accuracy": accuracies[0]}
    if baseline_pred is not None:
        figures["gain_over_baseline"] = f1s[0] - f1s[1]
        figures["accuracy_gain_over_baseline"] = accuracies[0] - accuracies[1]
    if prob is not None:
        rumours, mass = drawn[:, at:at + 10], drawn[:, at + 10:at + 20]
        figures["ece"] = np.abs(rumours - mass).sum(axis=1) / items
    tail = (1 - level) / 2 * 100
    return {name: [round(float(np.percentile(v, tail)), 4), round(float(np.percentile(v, 100 - tail)), 4)]
            for name, v in figures.items()}


def interval_text(interval, signed: bool = False) -> str:
    """A [lo, hi] interval as "lo – hi", three decimals (with signs for a gain): one form for the
    model card, the notebook and the dashboard."""
    form = "{:+.3f}" if signed else "{:.3f}"
    return f"{form.format(interval[0])} – {form.format(interval[1])}"


def _counts(y: np.ndarray, pred: np.ndarray) -> dict:
    return {"flagged_confirmed": int(((pred == 1) & (y == 1)).sum()),
            "flagged_dismissed": int(((pred == 1) & (y == 0)).sum()),
            "missed": int(((pred == 0) & (y == 1)).sum()),
            "cleared": int(((pred == 0) & (y == 0)).sum())}


def _figures(rows: list[dict]) -> dict:
    """metrics() and counts of verdict rows, with "macro_f1_interval": its 95% bootstrap interval,
    copies of one post (the same cluster) drawn together."""
    y = np.array([VERDICT_LABELS[r["verdict"]] for r in rows], dtype=int)
    p = np.array([r["rumour_probability"] for r in rows], dtype=float)
    pred = np.array([int(r["is_rumour"]) for r in rows], dtype=int)
    groups = [f"c{r['cluster_id']}" if r.get("cluster_id") is not None else f"i{r['item_id']}" for r in rows]
    return {**metrics(y, p, pred=pred), **_counts(y, pred),
            "macro_f1_interval": bootstrap_intervals(y, pred, groups=groups)["macro_f1"]}


def _week(at: str) -> str:
    """The Monday (China time) of the week a verdict was recorded, as YYYY-MM-DD."""
    day = parse_time(at).astimezone(CST).date()
    return datetime.fromordinal(day.toordinal() - day.weekday()).strftime("%Y-%m-%d")


def verdict_check(rows: list[dict]) -> dict:
    """How the live flags agreed with the verdicts. `rows` as `store.verdict_scores` gives them:
    one per item's latest verdict, with the last score before it (rumour_probability None when the
    item had not been scored by then).

    Returns {"judged", "judged_rumours", "unscored", "overall" (figures, or None), "by_version": [{version, ...}],
    "by_week": [{week, ...}], "reliability": [...], "misses": [rows where flag and verdict differ,
    the most confident first]}."""
    judged = [r for r in rows if r["verdict"] in VERDICT_LABELS]
    scored = [r for r in judged if r.get("rumour_probability") is not None and r.get("is_rumour") is not None]
    out = {"judged": len(judged), "judged_rumours": sum(VERDICT_LABELS[r["verdict"]] for r in judged),
           "unscored": len(judged) - len(scored), "overall": None,
           "by_version": [], "by_week": [], "reliability": [], "misses": []}
    if not scored:
        return out
    out["overall"] = _figures(scored)
    by_version: dict[str, list[dict]] = {}
    by_week: dict[str, list[dict]] = {}
    for r in scored:
        by_version.setdefault(r["model_version"], []).append(r)
        by_week.setdefault(_week(r["at"]), []).append(r)
    out["by_version"] = [{"version": v, "first_verdict": min(r["at"] for r in rs),
                          "last_verdict": max(r["at"] for r in rs), **_figures(rs)}
                         for v, rs in sorted(by_version.items(), key=lambda kv: min(r["at"] for r in kv[1]))]
    out["by_week"] = [{"week": w, **_figures(rs)} for w, rs in sorted(by_week.items())]
    y = [VERDICT_LABELS[r["verdict"]] for r in scored]
    out["reliability"] = reliability_curve(y, [r["rumour_probability"] for r in scored])
    misses = [r for r in scored if int(r["is_rumour"]) != VERDICT_LABELS[r["verdict"]]]
    misses.sort(key=lambda r: -abs(r["rumour_probability"] - VERDICT_LABELS[r["verdict"]]))
    out["misses"] = misses[:MISSES_SHOWN]
    out["misses_total"] = len(misses)
    return out
