"""Tips from the hotlines and the reporting channel (seed 000 §(四)1): recorded with their channel, the
reported content filed as an item the worker scores, repeated reports of one story counted, bad
tips refused with nothing written; and the 举报线索 page a monitor records them on."""

from __future__ import annotations

from datetime import timedelta

import dashboard_fixtures as fx
import pytest
from streamlit.testing.v1 import AppTest

from dashboard import data
from dashboard.auth import login_for_test
from rumourwatch import auth, store, tips
from rumourwatch.alerts import WorkflowError
from rumourwatch.errors import RecordError
from rumourwatch.ingest import MAX_STORED_CHARS
from rumourwatch.score import score_pending

CLAIM = "网传每天空腹喝三杯白醋可以软化血管，一个月治好高血压，医生都不会告诉你这个秘方！"


def test_a_tip_files_its_content_as_an_item_the_worker_scores(db, now, rule_bundle):
    done = tips.record_tip(db, channel="12320", text=CLAIM, actor="monitor1", now=now,
                           received_at=now - timedelta(minutes=20), work_order="GD-2026-0012",
                           note="来电者称已在多个家庭群看到")
    assert done["new_item"]
    item = store.get_item(db, done["item_id"])
    assert (item["platform"], item["source"], item["text"]) == ("举报线索", "tip:12320", CLAIM)
    [tip] = store.list_tips(db)
    assert (tip["channel"], tip["work_order"], tip["recorded_by"], tip["story_tips"]) == (
        "12320", "GD-2026-0012", "monitor1", 1)
    assert tip["received_at"] == "2026-11-23T07:40:00Z" and tip["scored_at"] is None
    [entry] = store.audit_entries(db, target_type="tip")
    assert (entry["action"], entry["actor"], entry["target_id"]) == ("tip.record", "monitor1", str(done["tip_id"]))
    # the worker's next poll scores it like any item that arrived from a feed
    assert score_pending(db, rule_bundle, now) == 1
    [tip] = store.list_tips(db)
    assert tip["scored_at"] is not None and tip["rumour_probability"] == pytest.approx(0.1)


def test_where_the_content_was_seen_is_kept(db, now):
    done = tips.record_tip(db, channel="online", text=CLAIM, actor="monitor1", now=now, platform="微信公众号",
                           account="养生堂摘编", url="https://mp.example/a1",
                           published_at=now - timedelta(days=1))
    item = store.get_item(db, done["item_id"])
    assert (item["platform"], item["account"], item["url"]) == ("微信公众号", "养生堂摘编", "https://mp.example/a1")
    assert item["published_at"] == "2026-11-22T08:00:00Z" and not item["quality_flags"]


def test_reports_of_one_story_are_counted_together(db, now):
    first = tips.record_tip(db, channel="12320", text=CLAIM, actor="monitor1", now=now)
    again = tips.record_tip(db, channel="12345", text=CLAIM, actor="monitor2", now=now + timedelta(hours=1))
    assert again["item_id"] == first["item_id"] and not again["new_item"]  # the same content: one item
    # a retelling seen elsewhere is an item of its own, in the same story (cluster)
    copy = tips.record_tip(db, channel="online", text="转发：" + CLAIM, actor="monitor1", platform="微博",
                           now=now + timedelta(hours=2))
    assert copy["new_item"] and copy["item_id"] != first["item_id"]
    rows = store.list_tips(db)
    assert [r["id"] for r in rows] == [copy["tip_id"], again["tip_id"], first["tip_id"]]  # newest first
    assert [r["story_tips"] for r in rows] == [3, 3, 3]
    assert store.count_items(db) == 2
    other = tips.record_tip(db, channel="12320", text="听说盐水漱口能预防所有呼吸道传染病，大家快转告家人", actor="m",
                            now=now + timedelta(hours=3))
    assert store.list_tips(db)[0]["id"] == other["tip_id"] and store.list_tips(db)[0]["story_tips"] == 1
    assert [r["id"] for r in store.list_tips(db, start="2026-11-23T09:30:00Z")] == [other["tip_id"], copy["tip_id"]]


@pytest.mark.parametrize("kwargs,error,key", [
    ({"text": "   "}, WorkflowError, "tip_text"),
    ({"channel": "weixin"}, WorkflowError, "tip_channel"),
    ({"received_in": timedelta(hours=2)}, WorkflowError, "tip_future"),
    ({"published_in": timedelta(days=1)}, WorkflowError, "tip_future"),
    ({"text": "谣" * (MAX_STORED_CHARS + 1)}, RecordError, "record_text_too_long"),
])
def test_a_tip_that_cannot_be_recorded_is_refused_and_nothing_is_written(db, now, kwargs, error, key):
    args = {"channel": "12320", "text": CLAIM}
    received_in = kwargs.pop("received_in", None)
    published_in = kwargs.pop("published_in", None)
    args.update(kwargs)
    with pytest.raises(error) as caught:
        tips.record_tip(db, actor="monitor1", now=now, **args,
                        received_at=now + received_in if received_in else None,
                        published_at=now + published_in if published_in else None)
    assert caught.value.key == key
    assert store.list_tips(db) == [] and store.count_items(db) == 0
    assert store.audit_entries(db, target_type="tip") == []


# --- the 举报线索 page ----------------------------------------------------------------------------

@pytest.fixture
def page_env(tmp_path, monkeypatch):
    path = tmp_path / "tips.db"
    fx.build_store(path)
    db = store.open_db(path)
    auth.create_user(db, "expert1", fx.MONITOR_PASSWORD, "expert", actor="test")
    db.conn.close()
    monkeypatch.setenv("RUMOURWATCH_DB_PATH", str(path))
    monkeypatch.setenv("RUMOURWATCH_MODELS_DIR", str(tmp_path / "no-models"))
    monkeypatch.setattr(data, "now_utc", lambda: fx.NOW)
    return path


def _page(username: str = fx.MONITOR) -> AppTest:
    at = AppTest.from_file(str(fx.APP), default_timeout=30)
    login_for_test(at, username)
    at.switch_page("app_pages/tips.py")
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def _submit(at: AppTest, text: str, work_order: str = "", gen: int = 0) -> AppTest:
    at.selectbox(key=f"tip_channel_{gen}").set_value("12345")
    at.text_area(key=f"tip_text_{gen}").set_value(text)
    at.text_input(key=f"tip_work_order_{gen}").set_value(work_order)
    at.text_input(key=f"tip_platform_{gen}").set_value("抖音")
    next(b for b in at.button if b.label == "登记线索").click()
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def test_a_monitor_records_a_hotline_tip_and_sees_it_listed(page_env):
    at = _submit(_page(), fx.NO_AUTHOR, "12345-778")
    [done] = [s.value for s in at.success]
    db = store.open_db(page_env, read_only=True)
    [tip] = store.list_tips(db)
    db.conn.close()
    assert done == f"已登记线索 #{tip['id']}，内容已作为条目 #{tip['item_id']} 进入监测，稍后由模型评分。"
    assert (tip["channel"], tip["platform"], tip["work_order"], tip["recorded_by"]) == (
        "12345", "抖音", "12345-778", fx.MONITOR)
    [table] = [df.value for df in at.dataframe if "同一内容线索数" in df.value.columns]
    row = table.iloc[0]
    assert (row["线索渠道"], row["工单号"], row["平台"], row["谣言概率"], row["同一内容线索数"]) == (
        "12345 政务服务热线", "12345-778", "抖音", "未评分", "1")
    assert row["收到时间"] == "2026-11-23 12:00"  # now, in Beijing time
    # the form is empty again for the next call
    assert [at.text_area[0].value, at.text_input[0].value] == ["", ""]
    # the same content reported again is counted, not filed twice
    at = _submit(at, fx.NO_AUTHOR, gen=1)
    assert any("此前已登记为条目" in s.value for s in at.success)
    [table] = [df.value for df in at.dataframe if "同一内容线索数" in df.value.columns]
    assert list(table["同一内容线索数"]) == ["2", "2"]


def test_a_tip_without_content_is_refused_in_chinese(page_env):
    at = _submit(_page(), "  ", "12320-9")
    assert [e.value for e in at.error] == ["操作未完成：请填写举报内容：被举报信息的原文或其说法。未登记任何内容。"]
    assert at.text_input(key="tip_work_order_0").value == "12320-9"  # what was typed stays, to correct it
    assert any("没有登记的线索" in i.value for i in at.info)


def test_an_expert_cannot_open_the_tips_page(page_env):
    at = _page("expert1")
    assert at.error and "无权访问" in at.error[0].value
    assert not at.text_area
