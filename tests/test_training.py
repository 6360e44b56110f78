"""Training on the real data bundle, time-ordered: loaders, a small model beats chance on later
items, the evaluation writes its card, and train_all saves a loadable bundle."""

from __future__ import annotations

import gzip
import json

import pytest

from rumourwatch.nlp.bundle import MANIFEST_NAME, ModelBundle
from rumourwatch.nlp.rumour import RumourConfig
from rumourwatch.records import Doc
from rumourwatch.records import date_in_post_year
from training.datasets import RUMOUR_FILES, load_rumour_set, time_split

# Small and fast: fewer hashed columns and decision-time copies than production.
SMALL = RumourConfig(n_features=1 << 17, cuts=(0.0, None))


@pytest.mark.parametrize("name", ["checked", "ced"])
def test_rumour_sets_load_every_record_in_time_order(settings, name):
    items, rejected = load_rumour_set(settings, name)
    with gzip.open(f"{settings.data_dir}/{RUMOUR_FILES[name]}", "rt", encoding="utf-8") as fh:
        lines = sum(1 for _ in fh)
    assert len(items) + len(rejected) == lines
    assert rejected == []  # nothing in the bundle is malformed once year-less dates are read
    assert {it.label for it in items} == {0, 1}
    times = [it.published_at for it in items]
    assert times == sorted(times)
    earlier, later = time_split(items, 0.8)
    assert len(earlier) == round(0.8 * len(items)) and earlier[-1].published_at <= later[0].published_at


def test_year_less_repost_dates_take_the_post_year():
    record = {"date": "2012-12-30 22:00", "reposts": [
        {"date": "12月31日 09:15", "text": "转发"}, {"date": "01月02日 10:00", "text": "转发"},
        {"date": "2013-01-03 08:00", "text": "转发"}]}
    # the one rule, applied by doc_from_bundle for training and for score-file alike
    assert [date_in_post_year(r["date"], record["date"]) for r in record["reposts"]] == [
        "2012-12-31 09:15", "2013-01-02 10:00", "2013-01-03 08:00"]


@pytest.fixture(scope="module")
def evaluation(tmp_path_factory):
    from rumourwatch.config import load_settings
    from tests.conftest import DATA_DIR
    from training.evaluate import evaluate

    out = tmp_path_factory.mktemp("cards")
    return out, evaluate(load_settings(data_dir=str(DATA_DIR)), out, config=SMALL, echo=lambda *_: None)


def test_small_model_ranks_later_items_better_than_chance_and_than_text_alone(evaluation):
    _, result = evaluation
    for name in ("checked", "ced"):
        at6 = result["results"]["model"][name]["6h"]
        share = at6["rumours"] / at6["n"]
        assert at6["pr_auc"] > share + 0.3, (name, at6)  # chance PR-AUC is the rumour share
        assert 0.0 <= at6["ece"] <= 1.0
    ced = result["results"]["model"]["ced"]
    assert ced["6h"]["pr_auc"] > ced["0h"]["pr_auc"]  # an early look at reposts helps
    assert set(result["results"]["baseline"]["pooled"]) == {"0h", "1h", "6h", "24h"}


def test_evaluation_writes_card_json_and_plot(evaluation):
    out, result = evaluation
    card = (out / "rumour.md").read_text(encoding="utf-8")
    assert "| ced | 6h |" in card and "| checked | 0h |" in card
    assert f"{result['results']['model']['ced']['6h']['macro_f1']:.3f}" in card
    assert json.loads((out / "rumour_eval.json").read_text(encoding="utf-8"))["results"] == result["results"]
    assert (out / "rumour_reliability.png").read_bytes()[:4] == b"\x89PNG"


def test_train_all_saves_a_bundle_that_loads_and_scores(settings, tmp_path):
    from training.train import ensure_models, train_all

    settings = settings.replace(models_dir=str(tmp_path / "models"))
    lines = []
    bundle = train_all(settings, echo=lines.append, components=("rumour",), rumour_config=SMALL)
    manifest = json.loads((tmp_path / "models" / MANIFEST_NAME).read_text(encoding="utf-8"))
    assert set(manifest["training_data"]) >= set(RUMOUR_FILES.values())
    assert set(manifest["trained_until"]) == {"checked", "ced"}
    assert any("saved" in line for line in lines)
    again = ensure_models(settings, echo=lines.append)  # loads, does not retrain
    assert again.version == bundle.version == ModelBundle.load(settings.models_dir).version
    [row] = again.score([Doc("网传喝醋能软化血管，转给家人", None)])
    assert 0 <= row["rumour_probability"] <= 1 and row["polarity"] is None
