"""Opinion polarity (情感倾向): positive / neutral / negative, as health-commission reports count it.

A fitted `PolarityModel` is a plain picklable object (no lambdas or closures): one sparse
pipeline from text to class probabilities, scored in one vectorised call per batch. It needs no
data bundle at score time. Training lives in `training/train_polarity.py`.
"""

from __future__ import annotations

import numpy as np

from .ngrams import hashed_counts, normalise_text

POLARITIES = ("positive", "neutral", "negative")
# The labels the reports use (the 2018 Inner Mongolia report: 正面 / 中性 / 负面).
POLARITY_ZH = {"positive": "正面", "neutral": "中性", "negative": "负面"}


class PolarityModel:
    """Hashed char 1–2-gram TF-IDF + multinomial logistic regression over the three polarities.

    `bias` is a per-class log-probability offset chosen on the training data's own
    cross-validation (macro-F1), never on an evaluation set.
    """

    def __init__(self, tfidf, classifier, bias=None, info: dict | None = None):
        self.tfidf = tfidf  # a fitted TfidfTransformer over ngrams.hashed_counts
        self.classifier = classifier
        classes = [str(c) for c in classifier.classes_]
        if sorted(classes) != sorted(POLARITIES):
            raise ValueError(f"polarity classifier must know {POLARITIES}, got {classes}")
        self.classes = classes
        self.bias = np.zeros(len(classes)) if bias is None else np.asarray(bias, dtype=float)
        self.info = dict(info or {})

    def predict_proba_texts(self, texts: list[str]) -> np.ndarray:
        """Rows of probabilities in `self.classes` order, after the class offsets."""
        if not texts:
            return np.zeros((0, len(self.classes)))
        X = self.tfidf.transform(hashed_counts(texts))
        logp = np.log(np.clip(self.classifier.predict_proba(X), 1e-12, 1.0)) + self.bias
        logp -= logp.max(axis=1, keepdims=True)
        p = np.exp(logp)
        return p / p.sum(axis=1, keepdims=True)

    def predict_texts(self, texts: list[str]) -> list[str]:
        P = self.predict_proba_texts(texts)
        return [self.classes[i] for i in P.argmax(axis=1)]

    def predict_docs(self, docs) -> list[dict]:
        """One dict per doc: `polarity` and `polarity_scores` (positive/neutral/negative)."""
        texts = []
        for i, doc in enumerate(docs):
            text = getattr(doc, "text", None)
            if not isinstance(text, str):
                raise TypeError(f"docs[{i}] has no text string (got {type(doc).__name__})")
            texts.append(text)
        P = self.predict_proba_texts(texts)
        out = []
        for row in P:
            scores = {c: float(row[j]) for j, c in enumerate(self.classes)}
            best = max(POLARITIES, key=lambda c: scores[c])
            out.append({"polarity": best,
                        "polarity_scores": {c: scores[c] for c in POLARITIES}})
        return out

    def __repr__(self) -> str:
        return f"PolarityModel({self.info.get('features', '?')}, C={self.info.get('C', '?')})"


def polarity_ratios(polarities) -> dict:
    """Counts and shares per polarity, the line leaders read ("中性 62.9%, 正面 36.7% ...")."""
    counts = {p: 0 for p in POLARITIES}
    for p in polarities:
        if p not in counts:
            raise ValueError(f"unknown polarity {p!r}; expected one of {POLARITIES}")
        counts[p] += 1
    total = sum(counts.values())
    return {p: {"label": POLARITY_ZH[p], "count": counts[p],
                "share": (counts[p] / total) if total else 0.0} for p in POLARITIES}


__all__ = ["POLARITIES", "POLARITY_ZH", "PolarityModel", "normalise_text", "polarity_ratios"]
