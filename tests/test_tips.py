"""Tips from the hotlines and the reporting channel (seed 000 §(四)1): recorded with their channel, the
reported content filed as an item the worker scores, repeated reports of one story counted, bad
tips refused with nothing written; and the 举报线索 page a monitor records them on."""

from __future__ import annotations

import json
import re
from datetime import timedelta

import dashboard_fixtures as fx
import pytest
from streamlit.testing.v1 import AppTest

from dashboard import data
from rumourwatch import auth, store, tips
from rumourwatch.alerts import WorkflowError
from rumourwatch.errors import RecordError
from rumourwatch.ingest import MAX_STORED_CHARS
from rumourwatch.score import score_pending
from rumourwatch.uploads import UploadError

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
    return fx.open_app("app_pages/tips.py", username)


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
    assert any("点击一行打开该线索对应的条目" in c.value for c in at.caption)
    # a click on a row opens the item the tip was filed as
    at.session_state["tips_table_0"] = {"selection": {"rows": [0], "columns": [], "cells": []}}
    at.run()
    assert not at.exception and at.query_params["item"] == str(tip["item_id"])
    assert [x.value for x in at.title] == ["条目详情"]


def test_a_tip_without_content_is_refused_in_chinese(page_env):
    at = _submit(_page(), "  ", "12320-9")
    assert [e.value for e in at.error] == ["操作未完成：请填写举报内容：被举报信息的原文或其说法。未登记任何内容。"]
    assert at.text_input(key="tip_work_order_0").value == "12320-9"  # what was typed stays, to correct it
    assert any("没有登记的线索" in i.value for i in at.info)


def test_an_expert_cannot_open_the_tips_page(page_env):
    at = _page("expert1")
    assert at.error and "无权访问" in at.error[0].value
    assert not at.text_area


# --- a hotline's export -------------------------------------------------------------------------

EXPORT_ZH = ("工单号,受理时间,渠道,举报内容,平台,备注\n"
             f"GD-1,2026-11-23 09:10,12320卫生健康热线,{CLAIM},微信群,来电\n"
             "GD-2,2026-11-23 09:40,网络举报,听说盐水漱口能预防所有呼吸道传染病，大家快转告家人,,\n"
             "GD-3,昨天下午,12320,喝板蓝根能防新冠,,\n"            # no readable time
             "GD-4,2026-11-23 10:00,12320,   ,,\n"                  # no content
             "GD-5,2026-11-23 10:05,微信,喝醋软化血管,,\n"          # not a channel
             f"GD-6,2026-11-23 10:20,12345,{CLAIM},,,多出的一列\n")  # one value too many


def test_a_hotline_export_is_recorded_row_by_row_and_bad_rows_are_set_aside_with_why(db, now):
    report = tips.import_tips(db, EXPORT_ZH.encode("gb18030"), "monitor1", now, origin="orders-1123.csv")
    assert (report.recorded, report.already) == (2, 0)
    assert [(row, exc.key) for row, exc in report.problems] == [
        (4, "record_bad_date"), (5, "tip_text"), (6, "tip_channel"), (7, "tips_extra")]
    assert report.errors[0].startswith("row 4: ")
    # set aside, not dropped: each bad row is kept with its reason where the data-quality page lists rejects
    rejects = sorted(store.list_rejects(db), key=lambda r: r["position"])
    assert [(r["source"], r["origin"], r["position"], r["reason_key"]) for r in rejects] == [
        ("tips-import", "orders-1123.csv", f"row:{n}", key)
        for n, key in ((4, "record_bad_date"), (5, "tip_text"), (6, "tip_channel"), (7, "tips_extra"))]
    assert json.loads(rejects[0]["raw"])["received_at"] == "昨天下午"
    rows = {r["work_order"]: r for r in store.list_tips(db)}
    assert set(rows) == {"GD-1", "GD-2"}
    assert (rows["GD-1"]["channel"], rows["GD-1"]["platform"], rows["GD-1"]["note"]) == ("12320", "微信群", "来电")
    assert rows["GD-1"]["received_at"] == "2026-11-23T01:10:00Z"  # China time in the file
    assert (rows["GD-2"]["channel"], rows["GD-2"]["platform"]) == ("online", tips.TIP_PLATFORM)
    # the same export again (the next day's export repeats yesterday's rows): nothing twice
    again = tips.import_tips(db, EXPORT_ZH.encode("utf-8"), "monitor1", now)
    assert (again.recorded, again.already, len(again.problems)) == (0, 2, 4)
    assert len(store.list_tips(db)) == 2 and store.count_items(db) == 2


def test_an_export_without_its_columns_is_refused_whole(db, now):
    with pytest.raises(WorkflowError) as caught:
        tips.import_tips(db, "工单号,举报内容\nGD-1,某说法\n".encode(), "monitor1", now)
    assert caught.value.key == "tips_header" and "received_at" in str(caught.value)
    # the channel may come from the caller instead of a column
    report = tips.import_tips(db, "received_at,text\n2026-11-23 09:00,某保健品能根治糖尿病\n".encode(), "m", now,
                              channel="12345")
    assert report.recorded == 1 and store.list_tips(db)[0]["channel"] == "12345"
    with pytest.raises(WorkflowError) as caught:
        tips.import_tips(db, b"received_at,text\n", "m", now)  # no channel column, none given
    assert caught.value.key == "tips_header"


@pytest.mark.parametrize("name,data,says", [
    ("orders.csv", b"PK\x03\x04\x14\x00\x06\x00" + b"\x00" * 64, "Excel xlsx"),  # a workbook renamed .csv
    ("orders.csv", EXPORT_ZH.encode("utf-16"), "UTF-16"),  # Excel's "Unicode text"
    ("orders.xlsx", EXPORT_ZH.encode(), "不是 Excel 工作簿"),  # CSV text named as a workbook
    ("orders.csv", b"", "文件为空"),
])
def test_a_file_that_is_no_csv_text_is_refused_whole_saying_what_it_is(db, now, name, data, says):
    with pytest.raises(UploadError) as caught:
        tips.import_tips(db, data, "m", now, channel="12320", origin=name)
    assert says in caught.value.zh
    assert store.list_tips(db) == [] and store.list_rejects(db) == []


def test_a_tab_separated_export_is_read_by_its_header(db, now):
    # a hotline system's "text" export: tabs between columns, and commas inside the reported words
    export = ("工单号\t受理时间\t渠道\t举报内容\n"
              "GD-1\t2026-11-23 09:10\t12320\t网传喝白醋能软化血管，一个月治好高血压，快转给家人\n")
    report = tips.import_tips(db, export.encode("gb18030"), "m", now, origin="orders.txt.csv")
    assert (report.recorded, report.problems) == (1, [])
    [row] = store.list_tips(db)
    assert row["work_order"] == "GD-1" and row["text"].startswith("网传喝白醋能软化血管，一个月")


def test_a_work_order_typed_twice_is_refused(db, now):
    first = tips.record_tip(db, channel="12320", text=CLAIM, actor="m", now=now, work_order="GD-9")
    with pytest.raises(WorkflowError) as caught:
        tips.record_tip(db, channel="12320", text="另一种说法", actor="m", now=now, work_order="GD-9")
    assert caught.value.key == "tip_duplicate" and caught.value.params["tip"] == first["tip_id"]
    # the same number on another channel is another work order
    tips.record_tip(db, channel="12345", text=CLAIM, actor="m", now=now, work_order="GD-9")
    assert len(store.list_tips(db)) == 2


def test_the_cli_imports_an_export_and_exits_1_when_rows_were_set_aside(tmp_path, monkeypatch):
    from click.testing import CliRunner

    from rumourwatch.cli import cli

    db_path = tmp_path / "cli.db"
    monkeypatch.setenv("RUMOURWATCH_DB_PATH", str(db_path))
    export = tmp_path / "orders.csv"
    export.write_bytes(EXPORT_ZH.encode("gb18030"))
    result = CliRunner().invoke(cli, ["tips", "import", str(export), "--actor", "monitor1"])
    assert result.exit_code == 1, result.output
    assert "2 tip(s) recorded, 0 recorded before, 4 row(s) rejected" in result.stdout
    assert "row 5: a tip needs the reported content" in result.stderr
    db = store.open_db(db_path, read_only=True)
    assert {r["work_order"] for r in store.list_tips(db)} == {"GD-1", "GD-2"}
    db.conn.close()
    good = tmp_path / "good.csv"
    good.write_text("received_at,text\n2026-11-23 09:00,某保健品能根治糖尿病\n", encoding="utf-8")
    result = CliRunner().invoke(cli, ["tips", "import", str(good), "--channel", "online"])
    assert result.exit_code == 0 and "1 tip(s) recorded" in result.stdout


def test_a_monitor_imports_an_export_on_the_page_and_sees_each_bad_row_in_chinese(page_env):
    at = _page()
    at.file_uploader(key="tip_import_file_0").set_value(("orders.csv", EXPORT_ZH.encode("gb18030"), "text/csv"))
    at.run()
    next(b for b in at.button if b.label == "导入").click().run()
    assert not at.exception, [e.value for e in at.exception]
    assert [w.value for w in at.warning] == ["已登记 2 条线索；0 条此前已登记，未重复登记；4 行有问题，未登记。"]
    errors = [e.value for e in at.error]
    assert errors[0].startswith("第 4 行：") and errors[1] == "第 5 行：请填写举报内容：被举报信息的原文或其说法。未登记任何内容。"
    assert errors[2] == "第 6 行：线索渠道“微信”不在可选范围内，请从列表中选择。"
    assert not any(re.search(r"[a-z]{4,} [a-z]{3,}", e) for e in errors)  # no English left
    [table] = [df.value for df in at.dataframe if "同一内容线索数" in df.value.columns]
    assert set(table["工单号"]) == {"GD-1", "GD-2"}
    # the rows set aside are listed with the other rejects on 数据源与质量, with the file's name
    sources = fx.open_app("app_pages/sources.py")
    shown = "\n".join(df.value.to_csv() for df in sources.dataframe)
    assert "tips-import" in shown and "orders.csv" in shown
    assert "请填写举报内容：被举报信息的原文或其说法。" in shown


def test_a_workbook_uploaded_as_csv_is_refused_on_the_page_saying_how_to_save_it(page_env):
    at = _page()
    book = b"PK\x03\x04\x14\x00\x06\x00" + b"\x00" * 64
    at.file_uploader(key="tip_import_file_0").set_value(("orders.csv", book, "text/csv"))
    at.run()
    next(b for b in at.button if b.label == "导入").click().run()
    assert not at.exception, [e.value for e in at.exception]
    [error] = [e.value for e in at.error]
    assert "内容是 ZIP/Excel xlsx" in error and "不是文本文件。请导出为" in error
    assert not at.expander or not any(x.label == "技术细节" for x in at.expander)  # a refusal, not a fault
    assert not any(df.value.shape[0] for df in at.dataframe if "同一内容线索数" in df.value.columns)


def test_the_upload_limit_set_for_the_site_is_the_one_the_page_and_the_cli_apply(page_env, tmp_path, monkeypatch):
    from click.testing import CliRunner

    from rumourwatch.cli import cli

    monkeypatch.setenv("RUMOURWATCH_MAX_UPLOAD_MB", "0.0005")  # 524 bytes; the export is larger
    assert len(EXPORT_ZH.encode()) > 600
    at = _page()
    at.file_uploader(key="tip_import_file_0").set_value(("orders.csv", EXPORT_ZH.encode(), "text/csv"))
    at.run()
    next(b for b in at.button if b.label == "导入").click().run()
    [error] = [e.value for e in at.error]
    assert "文件过大" in error and "上限为 0\\.0005 MB。请拆分后分批上传。" in error
    export = tmp_path / "orders.csv"
    export.write_bytes(EXPORT_ZH.encode())
    result = CliRunner().invoke(cli, ["tips", "import", str(export)])
    assert result.exit_code == 1 and "the limit is 0.0005 MB" in result.output
    assert store.list_tips(store.open_db(page_env, read_only=True)) == []


def test_the_tips_on_a_story_are_summed_over_its_copies(db, now):
    first = tips.record_tip(db, channel="12320", text=CLAIM, actor="m", now=now, received_at=now - timedelta(hours=2))
    tips.record_tip(db, channel="12320", text=CLAIM, actor="m", now=now, received_at=now - timedelta(hours=1))
    copy = tips.record_tip(db, channel="online", text="转发：" + CLAIM, actor="m", platform="微博", now=now)
    for item_id in (first["item_id"], copy["item_id"]):
        assert store.story_tips(db, item_id) == {"n": 3, "last": "2026-11-23T08:00:00Z",
                                                 "channels": {"12320": 2, "online": 1}}
    other = tips.record_tip(db, channel="12345", text="听说盐水漱口能预防所有呼吸道传染病，大家快转告家人", actor="m", now=now)
    assert store.story_tips(db, other["item_id"])["n"] == 1


def test_the_item_view_says_how_often_the_public_reported_the_story(page_env):
    db = store.open_db(page_env)
    w1 = fx.item_id(db, "微博", "w1")
    assert store.story_tips(db, w1)["n"] == 0
    tips.record_tip(db, channel="12320", text=fx.VINEGAR_COPY, actor=fx.MONITOR, now=fx.NOW)  # c1's words
    db.conn.close()
    at = fx.open_app("app_pages/item.py", item=w1)
    meta = next(df.value for df in at.dataframe if "项目" in df.value.columns).set_index("项目")["内容"]
    assert meta["公众举报"] == "1 次（12320 卫生健康热线 1；最近 11-23 12:00）"
    assert meta["采集来源"] == "fixture"  # w1 came from a feed: its source as the worker names it
    db = store.open_db(page_env, read_only=True)
    tipped = store.list_tips(db)[0]["item_id"]
    db.conn.close()
    at.query_params["item"] = str(tipped)
    at.run()
    meta = next(df.value for df in at.dataframe if "项目" in df.value.columns).set_index("项目")["内容"]
    assert meta["采集来源"] == "举报线索（12320 卫生健康热线）"


def test_the_weekly_summary_counts_the_tips_and_the_stories_confirmed_false(db, now):
    from rumourwatch import experts, reports

    week = reports.current_period("weekly", now)
    assert "本周未登记公众举报线索。" in reports.volume_lines(reports.compute_weekly(db, week, now=now))
    first = tips.record_tip(db, channel="12320", text=CLAIM, actor="m", now=now)
    tips.record_tip(db, channel="online", text="转发：" + CLAIM, actor="m", platform="微博", now=now)
    tips.record_tip(db, channel="12320", text="听说盐水漱口能预防所有呼吸道传染病，大家快转告家人", actor="m", now=now)
    tips.record_tip(db, channel="12345", text="上个月的说法", actor="m", now=now,  # the week before: not counted
                    received_at=now - timedelta(days=8))
    experts.record_verdict(db, first["item_id"], "rumour", "与权威资料不符", "monitor1", now)
    report = reports.compute_weekly(db, week, now=now)
    line = "本周登记公众举报线索 3 条（12320 卫生健康热线 2 条，网络举报 1 条），涉及 2 个内容，其中经研判确认谣言 1 个。"
    assert line in reports.volume_lines(report)  # (the next week's health days may follow)
    assert line in reports.render_markdown(report) and line in reports.render_html(report, charts=False)


def test_a_story_the_public_keeps_reporting_raises_an_alert_whatever_its_score(db, now):
    from rumourwatch import alerts

    rules = alerts.validate_rules({})
    assert rules["tips"] == {"enabled": True, "min_tips": 3, "window_hours": 24.0, "severity": "三级"}
    old = tips.record_tip(db, channel="12320", text=CLAIM, actor="m", now=now, received_at=now - timedelta(hours=30))
    tips.record_tip(db, channel="12320", text=CLAIM, actor="m", now=now, received_at=now - timedelta(hours=3))
    tips.record_tip(db, channel="online", text="转发：" + CLAIM, actor="m", platform="微博", now=now)
    assert alerts.evaluate_alerts(db, now, rules) == []  # two within 24 hours; the third is older
    third = tips.record_tip(db, channel="12345", text=CLAIM, actor="m", now=now)
    [alert_id] = alerts.evaluate_alerts(db, now, rules)
    alert = store.get_alert(db, alert_id)
    assert (alert["kind"], alert["severity"], alert["status"]) == ("tip", "三级", "open")
    assert alert["cluster_id"] == store.get_item(db, old["item_id"])["cluster_id"] is not None
    assert [r["reason"] for r in json.loads(alert["rules"])] == ["24 小时内公众举报 3 次"]
    assert alert["respond_by"] == "2026-11-23T13:00:00Z"  # the 5-hour clock runs from the alert
    # a fourth report grows the same alert instead of raising another
    tips.record_tip(db, channel="12320", text=CLAIM, actor="m", now=now + timedelta(hours=1))
    assert alerts.evaluate_alerts(db, now + timedelta(hours=1), rules) == [alert_id]
    assert [r["reason"] for r in json.loads(store.get_alert(db, alert_id)["rules"])] == ["24 小时内公众举报 4 次"]
    assert len(store.list_alerts(db, limit=10)) == 1 and third["item_id"] == old["item_id"]


def test_the_tips_rule_can_be_switched_off_or_made_stricter(db, now):
    from rumourwatch import alerts

    for _ in range(3):
        tips.record_tip(db, channel="12320", text=CLAIM, actor="m", now=now)
    assert alerts.evaluate_alerts(db, now, alerts.validate_rules({"tips": {"enabled": False}})) == []
    tips.record_tip(db, channel="12320", text=CLAIM, actor="m", now=now)
    assert alerts.evaluate_alerts(db, now, alerts.validate_rules({"tips": {"min_tips": 5}})) == []
    with pytest.raises(Exception) as caught:
        alerts.validate_rules({"tips": {"severity": "四级"}})
    assert caught.value.key == "rules_severity"


def test_an_export_kept_as_an_excel_workbook_is_read_with_its_time_cells_in_beijing(db, now):
    """A 12345 system's export opened and saved in Excel: its received time is a date-time cell
    (Beijing time, as the hotline logs it), recorded as the CSV's would be; a bad row is set aside
    under its Excel row number."""
    import io
    from datetime import datetime as dt

    from openpyxl import Workbook

    book = Workbook()
    sheet = book.active
    sheet.append(["受理时间", "线索渠道", "举报内容", "工单号"])
    sheet.append([dt(2026, 11, 22, 9, 30), "12345", "群众反映有人在社区推销“量子水”称可治百病。", 20261122001])
    sheet.append([None, "12345", "没有受理时间的一行。", 20261122002])
    out = io.BytesIO()
    book.save(out)
    report = tips.import_tips(db, out.getvalue(), "m", now, origin="12345工单.xlsx")
    assert report.recorded == 1 and [line for line, _ in report.problems] == [3]
    [tip] = store.list_tips(db)
    assert (tip["received_at"], tip["work_order"], tip["channel"]) == ("2026-11-22T01:30:00Z", "20261122001", "12345")
