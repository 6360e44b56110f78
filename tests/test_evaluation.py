"""Uncertainty of the evaluation figures: bootstrap intervals that count copies of one post once."""

import numpy as np
import pytest
from sklearn.metrics import accuracy_score, f1_score

from rumourwatch.cluster import group_near_duplicates
from rumourwatch.evaluation import bootstrap_intervals, expected_calibration_error


def _test_set(n, seed=0):
    """Labels, a model right on ~85% of items and a baseline right on ~65%, and probabilities."""
    rng = np.random.default_rng(seed)
    y = rng.integers(0, 2, n)
    model = np.where(rng.random(n) < 0.85, y, 1 - y)
    baseline = np.where(rng.random(n) < 0.65, y, 1 - y)
    prob = np.clip(np.where(model == 1, 0.8, 0.2) + rng.normal(0, 0.1, n), 0, 1)
    return y, model, baseline, prob


def test_copies_of_one_post_share_a_group_and_other_posts_do_not():
    rumour = "网传喝碱性水可以治疗癌症，医生都不会告诉你的秘密，赶紧转发给家人"
    texts = [rumour,
             "市疾控中心发布今年流感疫苗接种时间安排，请市民按预约时间前往接种点",
             "@健康达人 " + rumour + " http://t.cn/abc",  # a copy with a mention and a link
             rumour.replace("，", " "),                    # a copy with other punctuation
             "好",                                          # too short to compare: a group of its own
             "好"]
    groups = group_near_duplicates(texts)
    assert groups[0] == groups[2] == groups[3]
    assert len({groups[0], groups[1], groups[4], groups[5]}) == 4
    assert group_near_duplicates([]).tolist() == []


def test_intervals_hold_the_figures_they_bracket():
    y, model, baseline, prob = _test_set(600)
    out = bootstrap_intervals(y, model, baseline, prob, seed=1)
    f1 = f1_score(y, model, average="macro")
    gain = f1 - f1_score(y, baseline, average="macro")
    accuracy_gain = accuracy_score(y, model) - accuracy_score(y, baseline)
    for name, value in (("macro_f1", f1), ("accuracy", accuracy_score(y, model)),
                        ("gain_over_baseline", gain), ("accuracy_gain_over_baseline", accuracy_gain),
                        ("ece", expected_calibration_error(y, prob))):
        lo, hi = out[name]
        assert lo < value < hi, (name, value, out[name])
    assert out["gain_over_baseline"][0] > 0.1  # a 20-point better model is shown clearly better
    assert bootstrap_intervals(y, model, baseline, prob, seed=1) == out  # reproducible


def test_more_test_items_give_a_narrower_interval():
    widths = []
    for n in (200, 3200):
        y, model, _, _ = _test_set(n, seed=2)
        lo, hi = bootstrap_intervals(y, model)["macro_f1"]
        widths.append(hi - lo)
    assert widths[1] < widths[0] / 2.5  # sixteen times the items, about a quarter of the width


def test_two_models_that_agree_have_no_gain_and_a_coin_flip_apart_has_an_interval_around_zero():
    y, model, _, _ = _test_set(400, seed=3)
    assert bootstrap_intervals(y, model, model)["gain_over_baseline"] == [0.0, 0.0]
    rng = np.random.default_rng(4)
    a = np.where(rng.random(400) < 0.8, y, 1 - y)
    b = np.where(rng.random(400) < 0.8, y, 1 - y)
    lo, hi = bootstrap_intervals(y, a, b)["gain_over_baseline"]
    assert lo < 0 < hi


def test_copies_drawn_together_do_not_fake_certainty():
    """Five copies of every post are no more evidence than one post each: with the copies grouped
    the interval is as wide as for the originals; counted as independent items it would be
    narrower than the data can support."""
    y, model, _, _ = _test_set(300, seed=5)
    single = bootstrap_intervals(y, model)["macro_f1"]
    copies = np.repeat(np.arange(300), 5)
    grouped = bootstrap_intervals(y[copies], model[copies], groups=copies)["macro_f1"]
    naive = bootstrap_intervals(y[copies], model[copies])["macro_f1"]
    width = single[1] - single[0]
    assert grouped[1] - grouped[0] == pytest.approx(width, rel=0.15)
    assert naive[1] - naive[0] < 0.6 * width


def test_any_number_of_classes_and_label_kinds():
    y = np.array(["positive", "neutral", "negative"] * 100)
    pred = y.copy()
    pred[::7] = "neutral"
    out = bootstrap_intervals(y, pred)
    assert out["macro_f1"][0] < f1_score(y, pred, average="macro") < out["macro_f1"][1]
    assert set(out) == {"macro_f1", "accuracy"}  # no baseline, no probabilities: no gain, no ECE


def test_mismatched_or_empty_inputs_are_refused_with_what_is_wrong():
    with pytest.raises(ValueError, match="one entry per item"):
        bootstrap_intervals([0, 1, 1], [0, 1])
    with pytest.raises(ValueError, match="3 group numbers for 2 items"):
        bootstrap_intervals([0, 1], [0, 1], groups=[0, 1, 2])
    with pytest.raises(ValueError, match="no items"):
        bootstrap_intervals([], [])
