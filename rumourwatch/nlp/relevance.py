"""Health relevance (健康相关) and Healthy China topic of media items.

`HealthRelevanceModel` is one picklable object holding everything it needs at score time
(vectorisers, the medical-term list, keyword rules, classifiers): it never reads the data bundle
when scoring. Training lives in `training/train_relevance.py`.

Features (hashtag hijacking is common, so the `#hashtags#` get features of their own): hashed
char 1–2-gram TF-IDF of the text and of its hashtags, per-topic keyword counts in body and tags,
and a THUOCL medical-term count.
"""

from __future__ import annotations

import numpy as np
from scipy import sparse
from sklearn.feature_extraction.text import CountVectorizer, TfidfTransformer

from .ngrams import char_counts, doc_texts, hashed_columns, hashed_counts
from .topics import ALL_TOPICS, OTHER_TOPIC, TOPICS, TopicRules, split_hashtags

HEALTH_THRESHOLD = 0.5


class RelevanceFeatures:
    """Text -> sparse feature matrix: TF-IDF of the shared hashed char 1–2-gram counts of the
    whole text, TF-IDF of the hashtags' own n-grams, keyword counts per topic in body and tags,
    and the number of (two-character) medical-lexicon terms present."""

    def __init__(self, medical_terms: list[str], rules: TopicRules | None = None):
        self.medical_terms = sorted(set(t for t in medical_terms if 2 <= len(t) <= 7))
        self.rules = rules or TopicRules()
        self.text_tfidf = TfidfTransformer(sublinear_tf=True)
        self.tag_features = 2 ** 16
        self.tag_tfidf = TfidfTransformer(sublinear_tf=True)
        self.term_columns = np.asarray(hashed_columns(self.medical_terms), dtype=np.int64)

    def split(self, texts):
        pairs = [split_hashtags(t) for t in texts]
        return [p[0] for p in pairs], [p[1] for p in pairs]

    def _dense(self, counts, bodies, tags) -> np.ndarray:
        rule_rows = [self.rules.counts(b) + self.rules.counts(t) + [len(b.strip()) == 0]
                     for b, t in zip(bodies, tags)]
        D = np.log1p(np.asarray(rule_rows, dtype=np.float32))
        if len(self.term_columns):
            terms = np.asarray((counts[:, self.term_columns] > 0).sum(axis=1)).ravel()
        else:
            terms = np.zeros(counts.shape[0])
        return np.hstack([D, np.log1p(terms.astype(np.float32))[:, None]])

    def fit(self, texts):
        texts = list(texts)
        _, tags = self.split(texts)
        self.text_tfidf.fit(hashed_counts(texts))
        self.tag_tfidf.fit(char_counts(tags, (1, 2), self.tag_features))
        return self

    def transform(self, texts):
        texts = list(texts)
        counts = hashed_counts(texts)
        bodies, tags = self.split(texts)
        return sparse.hstack([self.text_tfidf.transform(counts),
                              self.tag_tfidf.transform(char_counts(tags, (1, 2), self.tag_features)),
                              sparse.csr_matrix(self._dense(counts, bodies, tags))], format="csr")

    def medical_term_counts(self, texts) -> np.ndarray:
        """Distinct medical-lexicon terms (2–7 characters) in each body. Training-time only
        (weak labels, baseline): slower than the hashed features."""
        bodies, _ = self.split(texts)
        vec = CountVectorizer(analyzer="char", ngram_range=(2, 7), lowercase=False,
                              vocabulary=self.medical_terms)
        return np.asarray((vec.transform(bodies) > 0).sum(axis=1)).ravel()


class HealthRelevanceModel:
    """Health probability and a Healthy China topic for each doc.

    `topic_rule_weight` blends the classifier's topic probabilities with the keyword-rule
    distribution, so a topic rarely seen in the hand labels (e.g. 控烟) can still be named.
    """

    def __init__(self, features: RelevanceFeatures, health_clf, topic_clf,
                 topic_rule_weight: float = 0.0, info: dict | None = None):
        self.features = features
        self.health_clf = health_clf
        self.topic_clf = topic_clf
        self.topic_rule_weight = float(topic_rule_weight)
        self.info = dict(info or {})
        self.threshold = HEALTH_THRESHOLD

    def health_probability(self, texts) -> np.ndarray:
        if not texts:
            return np.zeros(0)
        X = self.features.transform(texts)
        return self.health_clf.predict_proba(X)[:, list(self.health_clf.classes_).index(1)]

    def topic_proba(self, texts, X=None) -> np.ndarray:
        """Rows over TOPICS (the 15 actions, never 其他)."""
        if X is None:
            X = self.features.transform(texts)
        P = np.zeros((X.shape[0], len(TOPICS)))
        clf_cols = [TOPICS.index(str(c)) for c in self.topic_clf.classes_]
        P[:, clf_cols] = self.topic_clf.predict_proba(X)
        if self.topic_rule_weight > 0:
            # The body's keyword counts are the first columns of the dense block at the end
            # of X (log1p-scaled); reuse them rather than running the rules again.
            k = len(self.features.rules.topics)
            start = X.shape[1] - (2 * k + 2)
            R = np.expm1(X[:, start:start + k].toarray())
            full = np.zeros((X.shape[0], len(TOPICS)))
            full[:, [TOPICS.index(t) for t in self.features.rules.topics]] = R
            full += 0.1  # smoothing: no keyword = no preference
            full /= full.sum(axis=1, keepdims=True)
            P = (1 - self.topic_rule_weight) * P + self.topic_rule_weight * full
        return P

    def predict_texts(self, texts) -> list[dict]:
        texts = list(texts)
        if not texts:
            return []
        X = self.features.transform(texts)
        ph = self.health_clf.predict_proba(X)[:, list(self.health_clf.classes_).index(1)]
        PT = self.topic_proba(texts, X)
        out = []
        for p, row in zip(ph, PT):
            related = bool(p >= self.threshold)
            if related:
                j = int(row.argmax())
                topic, tp = TOPICS[j], float(row[j])
            else:
                topic, tp = OTHER_TOPIC, float(1.0 - p)
            out.append({"health_probability": float(p), "health_related": related,
                        "topic": topic, "topic_probability": tp})
        return out

    def predict_docs(self, docs) -> list[dict]:
        """One dict per doc: health_probability, health_related, topic, topic_probability."""
        return self.predict_texts(doc_texts(docs))

    def __repr__(self) -> str:
        return f"HealthRelevanceModel(trained on {self.info.get('n_train', '?')} texts)"


__all__ = ["ALL_TOPICS", "HealthRelevanceModel", "RelevanceFeatures", "TOPICS", "OTHER_TOPIC"]
