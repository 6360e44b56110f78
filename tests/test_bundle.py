"""The model bundle: save/load with a verified manifest, refusals, scoring keys, explanations."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest

from rumourwatch.errors import ModelError
from rumourwatch.nlp.bundle import ARTIFACT_NAME, MANIFEST_NAME, ModelBundle
from rumourwatch.nlp.rumour import RumourConfig, RumourModel
from rumourwatch.nlp.tokenizer import MedicalTokenizer
from rumourwatch.records import Doc, Reaction
from tests.rumour_fixtures import T0, make_items


@pytest.fixture(scope="module")
def rumour_model():
    items = make_items(300, seed=3)
    model = RumourModel(RumourConfig(n_features=1 << 16, cuts=(0.0, None))).fit(
        [d for d, _ in items], [y for _, y in items])
    model.tokenizer_ = MedicalTokenizer([("板蓝根", 100)])
    return model


@pytest.fixture
def saved(tmp_path, rumour_model):
    bundle = ModelBundle({"rumour": rumour_model})
    bundle.save(tmp_path, training_data={"fictional.jsonl": "0" * 64}, metrics={"x": 1})
    return tmp_path


def test_saved_bundle_loads_with_its_manifest(saved):
    bundle = ModelBundle.load(saved)
    manifest = json.loads((saved / MANIFEST_NAME).read_text(encoding="utf-8"))
    assert bundle.version == manifest["version"]
    assert set(manifest["libraries"]) >= {"sklearn", "jieba", "numpy", "python"}
    assert manifest["training_data"] == {"fictional.jsonl": "0" * 64}
    assert 0 < manifest["threshold"] < 1 and "created_at" in manifest and "git_commit" in manifest
    # analysts read how firmly the calibration slice supports the flag threshold
    low, high = manifest["threshold_range"]
    assert low <= high and [low, high] == list(bundle.rumour.threshold_range_)


def test_score_gives_every_key_and_none_for_missing_components(saved):
    bundle = ModelBundle.load(saved)
    [row] = bundle.score([Doc("网传板蓝根能彻底治好流感，赶紧转发给家人！", T0)])
    assert set(row) == {"rumour_probability", "is_rumour", "polarity", "polarity_scores",
                        "health_probability", "health_related", "topic", "model_version"}
    assert 0 <= row["rumour_probability"] <= 1
    assert row["is_rumour"] == (row["rumour_probability"] >= bundle.threshold)
    assert row["polarity"] is None and row["health_probability"] is None and row["topic"] is None
    assert row["model_version"] == bundle.version
    assert bundle.match_debunks(["任何文字"], k=2) is None


def test_missing_models_are_refused_with_what_to_run(tmp_path):
    with pytest.raises(ModelError, match=r"manifest.json is missing.*python -m training.train"):
        ModelBundle.load(tmp_path / "nothing-here")


def test_missing_artifact_is_refused(saved):
    (saved / ARTIFACT_NAME).unlink()
    with pytest.raises(ModelError, match=r"rumourwatch-models.pkl is missing"):
        ModelBundle.load(saved)


def test_tampered_artifact_is_refused(saved):
    with open(saved / ARTIFACT_NAME, "ab") as fh:
        fh.write(b"\x00")
    with pytest.raises(ModelError, match=r"does not match its manifest.*will not be loaded"):
        ModelBundle.load(saved)


def test_other_sklearn_version_is_refused(saved):
    path = saved / MANIFEST_NAME
    manifest = json.loads(path.read_text(encoding="utf-8"))
    manifest["libraries"]["sklearn"] = "0.1.0"
    path.write_text(json.dumps(manifest), encoding="utf-8")
    with pytest.raises(ModelError, match=r"trained with scikit-learn 0.1.0"):
        ModelBundle.load(saved)


def test_garbled_manifest_is_refused(saved):
    (saved / MANIFEST_NAME).write_text("{not json", encoding="utf-8")
    with pytest.raises(ModelError, match=r"manifest.*unreadable"):
        ModelBundle.load(saved)


def test_explanation_lists_the_words_that_push_the_score_up(saved):
    bundle = ModelBundle.load(saved)
    doc = Doc("紧急扩散！吃板蓝根会引发胃病，千万别再吃", T0, [
        Reaction("comment", "这是谣言吧", T0 + timedelta(minutes=5), "a"),
        Reaction("comment", "收到", T0 + timedelta(minutes=9), "b")])
    out = bundle.explain(doc)
    words = [w["term"] for w in out["words"]]
    assert {"扩散", "紧急", "千万别", "引发"} & set(words)  # the alarmist wording of the rumours
    assert not {"收到"} & {w["term"] for w in out["reactions"]}  # thanks do not push it up
    assert out["reactions"][0]["term"] == "谣言"
    # whole reactions the reaction-level model reads as doubting: the doubt, not the thanks
    assert [r["term"] for r in out["reaction_examples"]] == ["这是谣言吧"]
    assert all(w["weight"] > 0 for w in out["words"] + out["reactions"])
    assert out["words"] == sorted(out["words"], key=lambda w: -w["weight"])
    assert 0 <= out["rumour_probability"] <= 1


def test_score_rejects_what_is_not_a_doc(saved):
    with pytest.raises(TypeError, match=r"docs\[0\] is a str"):
        ModelBundle.load(saved).score(["网传"])
