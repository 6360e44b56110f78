"""Polarity model trained on the real SMP2020 bundle, checked on sentences written for the test."""

import pickle

import pytest
from sklearn.metrics import f1_score

from rumourwatch.config import load_settings
from rumourwatch.nlp.polarity import POLARITIES, POLARITY_ZH, polarity_ratios
from rumourwatch.records import Doc
from training import train_polarity

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def model():
    return train_polarity.fit(load_settings())


@pytest.mark.parametrize("text,expected", [
    ("感谢医护人员，辛苦了！", "positive"),
    ("太好了，奶奶治愈出院了，谢谢医生们！", "positive"),
    ("太可怕了，我好害怕", "negative"),
    ("气死我了，这些人怎么还不戴口罩", "negative"),
    ("国家卫健委发布最新疫情通报。", "neutral"),
    ("医院门诊时间为上午八点至下午五点。", "neutral"),
])
def test_clear_sentences_get_their_polarity(model, text, expected):
    (result,) = model.predict_docs([Doc(text)])
    assert result["polarity"] == expected, result


def test_scores_are_a_distribution_over_three_polarities(model):
    results = model.predict_docs([Doc("谢谢大家"), Doc("好难过"), Doc("")])
    for r in results:
        assert set(r["polarity_scores"]) == set(POLARITIES)
        assert sum(r["polarity_scores"].values()) == pytest.approx(1.0)
        assert r["polarity"] == max(r["polarity_scores"], key=r["polarity_scores"].get)


def test_model_survives_pickling_and_scores_the_same(model):
    docs = [Doc("感谢医护人员，辛苦了！"), Doc("太可怕了")]
    again = pickle.loads(pickle.dumps(model))
    assert again.predict_docs(docs) == model.predict_docs(docs)


def test_a_doc_without_text_is_rejected_with_its_position(model):
    with pytest.raises(TypeError, match=r"docs\[1\]"):
        model.predict_docs([Doc("好"), object()])


def _posts(settings, relative):
    texts, emotions = train_polarity.load_emotions(settings, relative)
    return texts, [train_polarity.emotion_to_polarity(e) for e in emotions]


@pytest.fixture(scope="module")
def covid_only():
    """The model as trained on the COVID training file alone (no general-Weibo posts)."""
    settings = load_settings()
    return train_polarity.fit_with_priors(settings, *_posts(settings, train_polarity.TRAIN_FILE))


def test_the_model_reads_its_priors_and_they_help_on_general_weibo(model, covid_only):
    """usual_eval (general Weibo, not COVID) is where the labelled posts' own words run out: the
    lexicon and the emoticon- and review-trained margins must lift it clearly (0.683 → 0.714 when
    they were adopted; paired-bootstrap 95% interval of the gain about [+0.017, +0.045]). Both
    models learn from the training file alone, so usual_eval is unseen."""
    settings = load_settings()
    assert model.priors is not None and "emoticon_margin" in model.priors.names
    assert model.info["emoticon_examples"] > 10_000 and model.info["lexicon_words"] > 50_000
    without = train_polarity.fit_texts(*_posts(settings, train_polarity.TRAIN_FILE))
    etexts, gold = _posts(settings, train_polarity.EVAL_FILES["usual_eval"])
    with_priors = f1_score(gold, covid_only.predict_texts(etexts), average="macro")
    assert with_priors >= f1_score(gold, without.predict_texts(etexts), average="macro") + 0.015


def test_production_model_learns_from_every_labelled_file(model):
    """The production model has read the eval files' posts too, general Weibo counted twice."""
    settings = load_settings()
    trained_on = model.info["trained_on"]
    assert trained_on == {rel: {"posts": len(_posts(settings, rel)[0]), "copies": copies}
                          for rel, copies in train_polarity.PRODUCTION_FILES}
    assert trained_on[train_polarity.EVAL_FILES["usual_eval"]]["copies"] == 2
    assert model.info["n_train"] == sum(v["posts"] * v["copies"] for v in trained_on.values())


def test_general_weibo_posts_lift_general_weibo_posts_never_seen(covid_only):
    """Why the production model reads usual_eval: half of it, added to the COVID training file
    (twice, as in production), must lift macro-F1 on the other half clearly. Cross-fitted over both
    halves the gain was 0.714 → 0.758."""
    from sklearn.model_selection import StratifiedKFold

    settings = load_settings()
    texts, y = _posts(settings, train_polarity.TRAIN_FILE)
    etexts, eemotions = train_polarity.load_emotions(settings, train_polarity.EVAL_FILES["usual_eval"])
    gold = [train_polarity.emotion_to_polarity(e) for e in eemotions]
    learn, held = next(StratifiedKFold(2, shuffle=True, random_state=0).split(etexts, eemotions))
    extra_texts, extra_y = [etexts[i] for i in learn], [gold[i] for i in learn]
    both = train_polarity.fit_with_priors(settings, texts + extra_texts * 2, y + extra_y * 2)
    held_texts, held_gold = [etexts[i] for i in held], [gold[i] for i in held]
    before = f1_score(held_gold, covid_only.predict_texts(held_texts), average="macro")
    after = f1_score(held_gold, both.predict_texts(held_texts), average="macro")
    assert after >= before + 0.02, (before, after)


def test_report_labels_and_ratios():
    assert POLARITY_ZH == {"positive": "正面", "neutral": "中性", "negative": "负面"}
    ratios = polarity_ratios(["neutral", "neutral", "positive", "negative"])
    assert ratios["neutral"] == {"label": "中性", "count": 2, "share": 0.5}
    with pytest.raises(ValueError, match="unknown polarity"):
        polarity_ratios(["happy"])


def test_surprise_mapping_is_documented_and_unknown_emotions_fail():
    assert train_polarity.emotion_to_polarity("surprise") == train_polarity.SURPRISE_POLARITY
    assert train_polarity.emotion_to_polarity("fear") == "negative"
    with pytest.raises(ValueError, match="unknown emotion"):
        train_polarity.emotion_to_polarity("joy")
