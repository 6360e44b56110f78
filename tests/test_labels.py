"""Analysts' hand labels of health relevance and topic (the 数据标注 page): the rules of the label file,
the queue that picks what to label, how the model agreed, the export, the page itself, and that a
retrained relevance model learns from the labels."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime, timedelta

import dashboard_fixtures as fx
import pytest
from streamlit.testing.v1 import AppTest

from dashboard.auth import login_for_test
from rumourwatch import auth, labels, store
from rumourwatch.alerts import WorkflowError
from rumourwatch.ingest import ingest_item
from rumourwatch.records import iso

NOW = datetime(2026, 11, 23, 4, 0, tzinfo=UTC)
# (text, the model's health probability and topic when it scored the item)
ITEMS = [
    ("社区卫生服务中心下周起周六上午增开老年人流感疫苗接种门诊", 0.97, "传染病及地方病防控"),
    ("今晚八点体育频道直播足球联赛，主队主场迎战升班马", 0.03, None),
    ("吸烟的人每天喝一杯柠檬水就能把肺里的焦油排干净，医生都在偷偷喝", 0.48, "健康知识普及"),
    ("小区门口新开了一家面包店，开业前三天全场八折", 0.40, None),
    ("办公室久坐人群每小时起身活动五分钟，可以减轻腰背疼痛", 0.62, "全民健身"),
]


def _store(path) -> list[int]:
    db = store.open_db(path)
    ids, rows = [], []
    for k, (text, p, topic) in enumerate(ITEMS):
        at = NOW - timedelta(hours=len(ITEMS) - k)
        with store.transaction(db):
            ingest_item(db, {"id": f"h{k}", "platform": "微博", "account": f"账号{k}", "text": text,
                             "date": at.isoformat()}, "test", at)
        item_id = db.execute("SELECT id FROM items WHERE external_id = ?", [f"h{k}"]).fetchone()[0]
        ids.append(item_id)
        rows.append({"item_id": item_id, "model_version": "test-v1", "computed_at": iso(at + timedelta(minutes=1)),
                     "reactions_seen": 0, "rumour_probability": 0.1, "is_rumour": 0, "polarity": "neutral",
                     "health_probability": p, "health_related": int(p >= 0.5), "topic": topic})
    with store.transaction(db):
        store.save_scores(db, rows)
    auth.create_user(db, fx.ANALYST, fx.ANALYST_PASSWORD, "analyst", actor="test")
    auth.create_user(db, fx.MONITOR, fx.MONITOR_PASSWORD, "monitor", actor="test")
    db.conn.close()
    return ids


@pytest.fixture
def labelled_store(tmp_path):
    path = tmp_path / "labels.db"
    return path, _store(path)


def test_labels_follow_the_label_files_rules_and_the_latest_one_counts(labelled_store):
    path, ids = labelled_store
    db = store.open_db(path)
    with pytest.raises(WorkflowError, match="15 Healthy China topics"):
        labels.record_label(db, ids[0], True, "其他", "analyst1", NOW)
    with pytest.raises(WorkflowError, match="not about health has topic 其他"):
        labels.record_label(db, ids[1], False, "全民健身", "analyst1", NOW)
    with pytest.raises(WorkflowError, match="does not exist"):
        labels.record_label(db, 999, False, None, "analyst1", NOW)
    labels.record_label(db, ids[1], False, None, "analyst1", NOW, sample="random")
    labels.record_label(db, ids[2], False, None, "analyst1", NOW, sample="random")
    labels.record_label(db, ids[2], True, "控烟", "analyst2", NOW + timedelta(minutes=1), sample="random",
                        note="吸烟相关谣言")
    rows = store.latest_labels(db)
    assert [(r["item_id"], r["health_related"], r["topic"], r["labelled_by"]) for r in rows] == [
        (ids[1], 0, "其他", "analyst1"), (ids[2], 1, "控烟", "analyst2")]
    # what the model said when the label was given is kept beside it
    assert (rows[1]["predicted_health"], rows[1]["predicted_topic"]) == (0.48, "健康知识普及")
    assert any(a["action"] == "label.record" for a in store.audit_entries(db, limit=10))

    figures = labels.agreement(rows)
    # item 1: model 0.03 (not health), label no -> right; item 2: model 0.48 (not health), label yes -> wrong
    assert figures["random"]["health"] == {"n": 2, "accuracy": 0.5, "precision": None, "recall": 0.0}
    assert figures["random"]["topic"] == {"n": 1, "accuracy": 0.0}

    exported = list(csv.reader(io.StringIO(labels.export_csv(rows))))
    assert exported[0] == list(labels.EXPORT_COLUMNS)
    assert exported[2] == ["store", "微博:h2", "yes", "控烟", "analyst2", "吸烟相关谣言"]
    assert not any(ITEMS[2][0] in cell for row in exported for cell in row)  # ids and labels, never texts
    db.conn.close()


def test_the_queue_offers_the_least_certain_unlabelled_item_first(labelled_store):
    path, ids = labelled_store
    db = store.open_db(path)
    order = [r["id"] for r in store.label_queue(db, "uncertain", limit=5)]
    assert order == [ids[2], ids[3], ids[4], ids[0], ids[1]]  # |p - 0.5| = 0.02, 0.10, 0.12, 0.47, 0.47
    labels.record_label(db, ids[2], True, "控烟", "analyst1", NOW, sample="uncertain")
    assert [r["id"] for r in store.label_queue(db, "uncertain", limit=2, skip=[ids[3]])] == [ids[4], ids[0]]
    assert [r["id"] for r in store.label_queue(db, "recent", limit=1)] == [ids[4]]
    assert sorted(r["id"] for r in store.label_queue(db, "random", limit=10)) == sorted(set(ids) - {ids[2]})
    db.conn.close()


def _page(path, monkeypatch, username=fx.ANALYST) -> AppTest:
    monkeypatch.setenv("RUMOURWATCH_DB_PATH", str(path))
    at = AppTest.from_file(str(fx.ROOT / "dashboard" / "app_pages" / "labels.py"), default_timeout=30)
    login_for_test(at, username)
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def test_analyst_labels_items_one_after_another_on_the_page(labelled_store, monkeypatch):
    path, ids = labelled_store
    at = _page(path, monkeypatch)
    assert at.text[0].value == ITEMS[2][0]  # the least certain first
    [health] = [r for r in at.radio if r.label == "是否与健康相关"]
    health.set_value(True)
    [topic] = [s for s in at.selectbox if s.label == "健康中国行动主题"]
    assert topic.value == "健康知识普及"  # the model's topic is offered
    topic.set_value("控烟")
    next(b for b in at.button if b.label == "保存并下一条").click().run()
    assert not at.exception, [e.value for e in at.exception]
    assert any(f"已保存条目 #{ids[2]}" in s.value for s in at.success)
    assert at.text[0].value == ITEMS[3][0]  # the next one
    db = store.open_db(path, read_only=True)
    [row] = store.latest_labels(db)
    db.conn.close()
    assert (row["item_id"], row["health_related"], row["topic"], row["sample"], row["labelled_by"]) == \
        (ids[2], 1, "控烟", "uncertain", fx.ANALYST)

    # skipping moves on without a label; a random sample measures the model
    next(b for b in at.button if b.label == "跳过").click().run()
    assert at.text[0].value == ITEMS[4][0]
    metrics = {m.label: m.value for m in at.metric}
    assert metrics["已标注条目"] == "1"
    assert metrics["健康准确率（全部）"] == "0.0%"  # 0.48 was a miss
    assert metrics["健康准确率（随机）"] == "—"
    assert [b.label for b in at.get("download_button")] == ["导出标注（CSV）"]

    # a random draw: the item labelled is the one that was on screen, not a fresh draw
    next(r for r in at.radio if r.label == "抽取方式").set_value("random").run()
    shown = at.text[0].value
    next(r for r in at.radio if r.label == "是否与健康相关").set_value(False)
    next(b for b in at.button if b.label == "保存并下一条").click().run()
    db = store.open_db(path, read_only=True)
    latest = store.latest_labels(db)[-1]
    db.conn.close()
    assert ITEMS[ids.index(latest["item_id"])][0] == shown
    assert (latest["sample"], latest["health_related"], latest["topic"]) == ("random", 0, "其他")


def test_saving_without_a_health_answer_says_what_is_missing_and_saves_nothing(labelled_store, monkeypatch):
    path, _ = labelled_store
    at = _page(path, monkeypatch)
    next(b for b in at.button if b.label == "保存并下一条").click().run()  # nothing chosen
    assert any("请先选择该条目是否与健康相关" in e.value for e in at.error), [e.value for e in at.error]
    assert at.text[0].value == ITEMS[2][0]  # still the same item
    db = store.open_db(path, read_only=True)
    assert store.latest_labels(db) == []
    db.conn.close()


def test_a_refused_save_keeps_the_answer_and_note_and_a_saved_label_empties_the_form(labelled_store, monkeypatch):
    path, ids = labelled_store
    at = _page(path, monkeypatch)
    next(b for b in at.button if b.label == "跳过").click().run()  # to an item the model gave no topic
    assert at.text[0].value == ITEMS[3][0]
    assert next(s for s in at.selectbox if s.label == "健康中国行动主题").value is None
    note = "示例备注：请组长复核"
    next(r for r in at.radio if r.label == "是否与健康相关").set_value(True)
    next(x for x in at.text_input if x.label == "备注（可选）").input(note)
    next(b for b in at.button if b.label == "保存并下一条").click().run()
    assert any("需要选择一个健康中国行动主题" in e.value for e in at.error), [e.value for e in at.error]
    assert at.text[0].value == ITEMS[3][0]
    # the analyst picks the topic the message asked for and saves again: the answer and the note
    # chosen before the refusal are still there (they used to be wiped, so this said 请先选择…)
    next(s for s in at.selectbox if s.label == "健康中国行动主题").set_value("控烟")
    next(b for b in at.button if b.label == "保存并下一条").click().run()
    assert not at.error, [e.value for e in at.error]
    db = store.open_db(path, read_only=True)
    [row] = store.latest_labels(db)
    db.conn.close()
    assert (row["item_id"], row["health_related"], row["topic"], row["note"]) == (ids[3], 1, "控烟", note)
    # saved: the next item's form starts empty
    assert at.text[0].value == ITEMS[4][0]
    assert next(r for r in at.radio if r.label == "是否与健康相关").value is None
    assert next(x for x in at.text_input if x.label == "备注（可选）").value == ""


def test_monitors_cannot_label(labelled_store, monkeypatch):
    path, _ = labelled_store
    at = _page(path, monkeypatch, username=fx.MONITOR)
    assert at.error and not at.text


def test_a_retrained_relevance_model_learns_the_labels_made_in_the_store(tmp_path):
    """Some short smoking posts read as not health (the model card's known gap): label eight smoking
    posts in the store, retrain the relevance model with that store, and a new smoking post is
    health and 控烟."""
    from rumourwatch.config import load_settings
    from rumourwatch.records import Doc
    from tests.conftest import DATA_DIR
    from training.train_relevance import fit

    smoking = ["戒烟第三天，烟瘾上来的时候嚼口香糖有用吗", "二手烟对孩子的肺伤害很大，家里请不要吸烟",
               "电子烟不是戒烟工具，青少年更不要尝试", "公共场所禁止吸烟的规定下月起执行",
               "吸烟会让血管变硬，心梗风险成倍增加", "每年5月31日是世界无烟日，今年的主题是保护青少年",
               "烟草里的尼古丁会让人上瘾，越早戒烟越好", "室内全面禁烟，餐馆里也不能抽烟了"]
    path = tmp_path / "smoking.db"
    db = store.open_db(path)
    for k, text in enumerate(smoking):
        at = NOW - timedelta(hours=k)
        with store.transaction(db):
            ingest_item(db, {"id": f"s{k}", "platform": "微博", "text": text, "date": at.isoformat()}, "test", at)
        item_id = db.execute("SELECT id FROM items WHERE external_id = ?", [f"s{k}"]).fetchone()[0]
        labels.record_label(db, item_id, True, "控烟", "analyst1", NOW)
    db.conn.close()
    settings = load_settings(data_dir=str(DATA_DIR))
    # ("朋友劝我戒烟，说吸烟伤肺，我该从哪里开始" was the probe until the model learnt from 5,000 debunk
    # articles: it now reads as health and 控烟 without the store's labels)
    probe = Doc("戒烟一个月了，感觉呼吸顺畅多了", None)
    before = fit(settings).predict_docs([probe])[0]
    model = fit(settings, labels_db=path)
    after = model.predict_docs([probe])[0]
    assert model.info["n_store_labels"] == 8
    assert before["health_related"] is False and before["topic"] == "其他"
    assert after["health_related"] is True and after["topic"] == "控烟"
    assert after["health_probability"] > before["health_probability"]


def _item_view(path, monkeypatch, username: str, item_id: int) -> AppTest:
    monkeypatch.setenv("RUMOURWATCH_DB_PATH", str(path))
    at = AppTest.from_file(str(fx.ROOT / "dashboard" / "app_pages" / "item.py"), default_timeout=30)
    login_for_test(at, username)
    at.query_params["item"] = str(item_id)
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def test_an_analyst_labels_an_item_from_its_item_view(labelled_store, monkeypatch):
    path, ids = labelled_store
    at = _item_view(path, monkeypatch, fx.ANALYST, ids[4])
    assert any("该条目尚无人工标注" in c.value for c in at.caption)
    next(r for r in at.radio if r.label == "是否与健康相关").set_value(True)
    assert next(s for s in at.selectbox if s.label == "健康中国行动主题").value == "全民健身"  # the model's topic
    next(b for b in at.button if b.label == "保存标注").click().run()
    assert any("已保存标注" in s.value for s in at.success)
    db = store.open_db(path, read_only=True)
    [row] = store.labels_for_item(db, ids[4])
    db.conn.close()
    assert (row["health_related"], row["topic"], row["sample"]) == (1, "全民健身", "item")
    at.run()
    assert any("当前标注：是，主题 全民健身" in c.value for c in at.caption)


def test_monitors_see_no_label_form_in_the_item_view(labelled_store, monkeypatch):
    path, ids = labelled_store
    at = _item_view(path, monkeypatch, fx.MONITOR, ids[4])
    assert at.text  # the item is shown
    assert not [b for b in at.button if b.label == "保存标注"]
