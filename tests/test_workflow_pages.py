"""Smoke tests of the workflow pages with Streamlit's AppTest: each page renders for its role
without an exception, and a role without access is refused."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime, timedelta

import pytest
from streamlit.testing.v1 import AppTest
from workflow_helpers import (
    PASSWORD,
    RUMOUR_TEXT,
    add_item,
    rules,
    run_page,
    seed_workflow_db,
)

from dashboard import auth as dashboard_auth
from dashboard.auth import login_for_test
from dashboard.workflow_ui import refusal
from rumourwatch import alerts, auth, experts, store, tips
from rumourwatch.config import REPO_ROOT
from rumourwatch.records import CST

PAGES = str(REPO_ROOT / "dashboard" / "app_pages") + "/"
APP = str(REPO_ROOT / "dashboard" / "streamlit_app.py")


@pytest.fixture
def seeded(tmp_path, monkeypatch):
    path = tmp_path / "pages.db"
    now = datetime.now(UTC).replace(microsecond=0)
    info = seed_workflow_db(path, now)
    monkeypatch.setenv("RUMOURWATCH_DB_PATH", str(path))
    return path, info, now


_run = run_page


@pytest.mark.parametrize("page,username", [("alerts.py", "monitor1"), ("workbench.py", "li"),
                                           ("expert_pool.py", "admin1"), ("watchlist.py", "monitor1"),
                                           ("rules.py", "admin1"), ("workbench.py", "admin1")])
def test_page_renders_for_its_role(seeded, page, username):
    path, info, now = seeded
    at = _run(page, username, path)
    assert not at.exception, at.exception
    assert not at.error, [e.value for e in at.error]


def test_the_alert_list_shows_the_kinds_picked(seeded):
    """A monitor working through the watched keywords' alerts picks that kind, or several."""
    path, info, now = seeded
    db = store.open_db(path)
    add_item(db, "网传喝板蓝根能预防所有病毒", now, probability=0.1)
    [watched] = alerts.evaluate_alerts(db, now, rules(watch={"keywords": ["板蓝根"]}))
    db.conn.close()
    at = _run("alerts.py", "monitor1", path)

    def listed():
        return set(next(df.value for df in at.dataframe if "编号" in df.value.columns)["编号"])

    assert listed() == {str(i) for i in [*info["alerts"], watched]}
    kinds = at.get("button_group")[-1]
    kinds.set_value(["keyword"]).run()
    assert listed() == {str(watched)}
    at.get("button_group")[-1].set_value(["keyword", "rumour"]).run()
    assert listed() == {str(i) for i in [*info["alerts"], watched]}
    at.get("button_group")[-1].set_value(["tip"]).run()
    assert not any("编号" in df.value.columns for df in at.dataframe)
    assert any("所选状态与类型下没有预警" in i.value for i in at.info)


def test_a_monitor_dismisses_several_alerts_at_once_and_one_closed_meanwhile_keeps_its_reason(seeded):
    path, info, now = seeded
    at = _run("alerts.py", "monitor1", path)
    at.multiselect(key="bulk_ids").set_value(info["alerts"])
    at.text_input(key="bulk_reason").input("误报：讽刺段子")
    db = store.open_db(path)
    alerts.dismiss_alert(db, info["alerts"][0], "admin1", now, "已核实")  # someone else, while the form was open
    db.conn.close()
    next(b for b in at.button if b.label == "排除所选预警").click()
    at.run()
    assert not at.exception
    # the one closed meanwhile is no longer offered when the form comes back: only the other is dismissed here
    assert [m.value for m in at.success] == ["已排除 1 条预警。"]
    db = store.open_db(path)
    assert [store.alert_steps(db, a)[-1]["note"] for a in info["alerts"]] == ["已核实", "误报：讽刺段子"]
    assert {store.get_alert(db, a)["status"] for a in info["alerts"]} == {"dismissed"}
    # leaders read the alerts and act on none of them
    auth.create_user(db, "boss", PASSWORD, "leader", "test")
    db.conn.close()
    at = _run("alerts.py", "boss", path)
    assert not at.exception and not any(m.label.startswith("处置中的预警") for m in at.multiselect)


def test_the_alert_ledger_of_this_month_downloads_from_the_alert_page(seeded):
    path, info, now = seeded
    at = _run("alerts.py", "monitor1", path)
    [button] = at.get("download_button")
    assert button.proto.label == f"下载台账（CSV，共 {len(info['alerts'])} 条预警）"
    # a range of days with no alert: nothing to download
    today = now.astimezone(CST).date()
    at.date_input(key="ledger_range").set_value((today - timedelta(days=40), today - timedelta(days=35))).run()
    [button] = at.get("download_button")
    assert button.proto.label == "下载台账（CSV，共 0 条预警）" and button.proto.disabled


def test_the_expert_pool_shows_how_each_expert_took_part_and_exports_it(seeded):
    path, info, now = seeded
    db = store.open_db(path)
    aid = experts.assign_expert(db, info["alerts"][0], info["experts"]["李样本"], "monitor1", now, rules())
    experts.accept_assignment(db, aid, "li", now + timedelta(minutes=45), actor_expert_id=info["experts"]["李样本"])
    db.conn.close()
    at = _run("expert_pool.py", "admin1", path)
    table = next(df.value for df in at.dataframe if "超时未响应" in df.value.columns).set_index("姓名")
    assert (table.loc["李样本", "指派"], table.loc["李样本", "接受"], table.loc["李样本", "接受中位用时（小时）"]) == (
        "1", "1", "0.8")
    assert table.loc["李样本", "提示"] == "" and table.loc["王虚构", "提示"] == "期内未承担任务"
    assert [d.proto.label for d in at.get("download_button")] == ["导出名单（CSV）", "导出履职情况（CSV）",
                                                                  "下载公布名单（Word）", "下载公布名单（CSV）"]


def test_alert_detail_shows_clocks_and_suggestions(seeded):
    path, info, now = seeded
    at = _run("alerts.py", "monitor1", path, {"alert": str(info["alerts"][0])})
    assert not at.exception
    labels = [b.label for b in at.button]
    assert any(label.startswith("指派给 ") for label in labels)
    assert any("剩余 4 小时" in m.delta or "剩余 5 小时" in m.delta for m in at.metric if m.delta)
    assert any(c.value == "本预警的相似条目（共 3 条）" for c in at.caption)


def test_alert_detail_says_how_often_the_public_reported_the_story(seeded):
    path, info, now = seeded
    at = _run("alerts.py", "monitor1", path, {"alert": str(info["alerts"][0])})
    assert not any(i.value.startswith("公众举报") for i in at.info)
    db = store.open_db(path)
    for channel, minutes in (("12320", 50), ("online", 20), ("12320", 10)):
        tips.record_tip(db, channel=channel, text=RUMOUR_TEXT, actor="monitor1", now=now,
                        received_at=now - timedelta(minutes=minutes))
    db.conn.close()
    at = _run("alerts.py", "monitor1", path, {"alert": str(info["alerts"][0])})
    [shown] = [i.value for i in at.info if i.value.startswith("公众举报")]
    last = (now - timedelta(minutes=10)).astimezone(CST).strftime("%m-%d %H:%M")
    assert shown == f"公众举报：3 次（12320 卫生健康热线 2，网络举报 1；最近 {last}）"


def test_alert_detail_says_how_many_copies_there_are_beyond_those_listed(seeded, monkeypatch):
    from dashboard import data

    path, info, _ = seeded
    monkeypatch.setattr(data, "COPIES_SHOWN", 2)
    at = _run("alerts.py", "monitor1", path, {"alert": str(info["alerts"][0])})
    assert not at.exception
    assert any(c.value == "本预警的相似条目共 3 条，下表列出最早发布的 2 条" for c in at.caption)
    [copies] = [df.value for df in at.dataframe if "已澄清" in df.value.columns]
    assert list(copies["条目"]) == [str(i) for i in info["copies"][:2]]  # published at the same time: the first ingested


def test_expert_sees_only_own_assignments(seeded):
    path, info, now = seeded
    db = store.open_db(path)
    experts.assign_expert(db, info["alerts"][0], info["experts"]["李样本"], "monitor1", now, rules())
    db.conn.close()
    mine = _run("workbench.py", "li", path)
    assert any(b.label == "接受任务 #1" for b in mine.button)
    other = _run("workbench.py", "zhang", path)
    assert not any(b.label.startswith("接受任务") for b in other.button)


def test_expert_cannot_open_the_roster(seeded):
    path, info, now = seeded
    at = _run("expert_pool.py", "li", path)
    assert at.error and "无权访问" in at.error[0].value


def test_roster_import_names_each_bad_row_in_chinese_with_its_row_and_values(seeded):
    path, _, _ = seeded
    header = "name,title,institution,specialties,level,region,capacity,phone,email,active\n"
    csv_text = (header + "赵示例,医师,示例医院,感染科,乡级,示例县,2,,,1\n"
                "孙示例,医师,,感染科,省级,示例省,abc,,not-an-email,1\n")
    at = _run("expert_pool.py", "admin1", path)
    at.file_uploader(key="roster_upload").set_value(("roster.csv", csv_text.encode("utf-8"), "text/csv"))
    at.run()
    next(b for b in at.button if b.label == "导入").click().run()
    assert not at.exception
    assert [w.value for w in at.warning] == ["以下行未导入（行号为文件中的行）："]
    [rows] = [m.value for m in at.markdown if "第 2 行" in m.value]
    assert "第 2 行：级别“乡级”无效：只能填 国家级、省级、市级、县级 之一。" in rows
    assert "第 3 行：“institution”列为空" in rows and "接单上限“abc”无效" in rows
    assert "邮箱“not\\-an\\-email”不是有效的邮箱地址" in rows  # escaped: shows as typed
    assert not re.search(r"[a-z]+ (is required|must be|is not)", rows)  # no English left


def test_rules_page_saves_the_file_and_rejects_bad_quiet_hours(seeded, tmp_path, monkeypatch):
    path, info, now = seeded
    import shutil

    from rumourwatch import alerts

    rules_file = tmp_path / "rules.toml"
    shutil.copy(REPO_ROOT / "config" / "alert_rules.toml", rules_file)
    monkeypatch.setenv("RUMOURWATCH_ALERT_RULES", str(rules_file))
    at = _run("rules.py", "admin1", path)
    keywords = next(a for a in at.text_area if a.label == "关注词（每行一个）")
    keywords.set_value("示例关注词\n另一个词")
    next(b for b in at.button if b.label == "保存规则").click()
    at.run()
    assert not at.exception and not at.error
    assert alerts.load_rules(rules_file)["watch"]["keywords"] == ["示例关注词", "另一个词"]
    next(x for x in at.number_input if x.label == "每词单独预警事件数").set_value(10)
    next(x for x in at.number_input if x.label.startswith("合并时段")).set_value(6.0)
    next(x for x in at.number_input if x.label == "最少举报次数").set_value(5)
    next(b for b in at.button if b.label == "保存规则").click()
    at.run()
    assert not at.exception and not at.error
    assert alerts.load_rules(rules_file)["tips"] == {"enabled": True, "min_tips": 5, "window_hours": 24.0,
                                                     "severity": "三级"}
    watch = alerts.load_rules(rules_file)["watch"]
    assert (watch["digest_after"], watch["digest_window_hours"], watch["keywords"]) == (10, 6.0, ["示例关注词", "另一个词"])
    quiet = next(x for x in at.text_input if x.label.startswith("免打扰时段"))
    quiet.set_value("整夜")
    next(b for b in at.button if b.label == "保存规则").click()
    at.run()
    [error] = [e.replace("\\", "") for e in _errors(at)]
    assert error == ("规则未保存：免打扰时段“整夜”的写法不对：应写成“开始-结束”的北京时间，如 22:00-07:00；"
                     "不设免打扰请留空。")
    assert alerts.load_rules(rules_file)["notify"]["quiet_hours"] == "22:00-07:00"  # unchanged
    next(x for x in at.text_input if x.label.startswith("免打扰时段")).set_value("22:00-07:00")
    # a watched keyword is a search query: one with only words to leave out is refused by its line
    next(a for a in at.text_area if a.label == "关注词（每行一个）").set_value("示例关注词\n-宠物")
    next(b for b in at.button if b.label == "保存规则").click()
    at.run()
    [error] = [e.replace("\\", "") for e in _errors(at)]
    assert error == ("规则未保存：关注词“-宠物”无法按检索条件使用：检索条件中只有排除词（以 - 开头）："
                     "请至少写一个要查找的词。")
    assert alerts.load_rules(rules_file)["watch"]["keywords"] == ["示例关注词", "另一个词"]  # unchanged
    next(a for a in at.text_area if a.label == "关注词（每行一个）").set_value("示例关注词\n另一个词")
    next(a for a in at.text_area if a.label.startswith("群机器人")).set_value("https://example.org/hook\nexample.org/robot")
    next(b for b in at.button if b.label == "保存规则").click()
    at.run()
    [error] = [e.replace("\\", "") for e in _errors(at)]
    assert error == ("规则未保存：预警规则“群机器人 Webhook 地址第 2 行”的地址“example.org/robot”无效："
                     "应以 http:// 或 https:// 开头，请填写完整网址。")
    [detail] = [e for e in at.expander if e.label == "技术细节（英文原文，供管理员排查）"]
    assert detail.code[0].value == "alert rule notify.webhooks[1]: needs a url starting with http:// or https://"
    assert alerts.load_rules(rules_file)["notify"]["webhooks"] == []  # unchanged
    # the spread thresholds are edited under Chinese column names, not min_copies and the like
    labels = {name: c.get("label") for name, c in json.loads(at.dataframe[0].proto.columns).items()}
    assert labels == {"severity": "级别", "min_copies": "最少副本数", "min_reach": "最少传播量",
                      "min_velocity": "最低传播速度（每小时）", "_index": None}


def test_a_rules_form_drawn_before_a_monitor_watched_a_keyword_is_not_saved_over_it(seeded, rules_file):
    """The admin's form shows the rules as they were; a monitor watches a keyword from 条目检索; the
    admin's save is refused with why, the page shows the new rules, and the next save keeps both."""
    path, info, now = seeded
    at = _run("rules.py", "admin1", path)
    alerts.set_watched("keywords", "板蓝根 预防", True, "monitor1", store.open_db(path), rules_file)
    next(x for x in at.number_input if x.label == "最少举报次数").set_value(5)
    next(b for b in at.button if b.label == "保存规则").click()
    at.run()
    [error] = [e.replace("\\", "") for e in _errors(at)]
    assert error.startswith("规则未保存：预警规则文件") and "在您读取之后已被修改" in error
    assert alerts.load_rules(rules_file)["watch"]["keywords"] == ["板蓝根 预防"]
    assert alerts.load_rules(rules_file)["tips"]["min_tips"] == 3  # not saved
    keywords = next(a for a in at.text_area if a.label == "关注词（每行一个）")
    assert keywords.value == "板蓝根 预防"  # the form now shows the rules as they are
    next(x for x in at.number_input if x.label == "最少举报次数").set_value(5)
    next(b for b in at.button if b.label == "保存规则").click()
    at.run()
    assert not _errors(at)
    saved = alerts.load_rules(rules_file)
    assert (saved["watch"]["keywords"], saved["tips"]["min_tips"]) == (["板蓝根 预防"], 5)


def test_rules_page_sets_the_administrators_security_mailboxes_and_lists_deliveries_by_subject(seeded, tmp_path,
                                                                                                   monkeypatch):
    import shutil

    from rumourwatch import alerts
    from rumourwatch.records import iso

    path, _, now = seeded
    rules_file = tmp_path / "rules.toml"
    shutil.copy(REPO_ROOT / "config" / "alert_rules.toml", rules_file)
    monkeypatch.setenv("RUMOURWATCH_ALERT_RULES", str(rules_file))
    db = store.open_db(path)
    with store.transaction(db):
        sent = store.insert_notification(db, {
            "created_at": iso(now), "channel": "email", "target": "sec@example.org", "subject": "【安全提醒】账号 mon 被锁定",
            "body": "-", "urgent": 1, "alert_id": None, "event": "security", "status": "pending", "attempts": 0,
            "next_attempt_at": iso(now)})
        store.record_delivery(db, sent, iso(now), True, "250 OK", None)
    at = _run("rules.py", "admin1", path)
    next(a for a in at.text_area if a.label == "管理员邮箱（安全提醒，每行一个）").set_value("sec@example.org\n\nit@example.org")
    next(x for x in at.number_input if x.label.startswith("登录失败提醒阈值")).set_value(20)
    next(b for b in at.button if b.label == "保存规则").click().run()
    assert not at.exception and not at.error
    saved = alerts.load_rules(rules_file)["notify"]
    assert (saved["admin_emails"], saved["security_failed_logins"]) == (["sec@example.org", "it@example.org"], 20)
    log = at.dataframe[-1].value
    assert list(log["标题"]) == ["【安全提醒】账号 mon 被锁定"] and "security" not in log.to_string()


def test_rules_are_saved_with_their_audit_entry_or_not_at_all(seeded, tmp_path, monkeypatch):
    """The database refuses the audit entry (as a full or failing disk would): the page says so in
    Chinese, the rules file is not changed, and the same save works once the database does."""
    import shutil

    path, _, _ = seeded
    rules_file = tmp_path / "rules.toml"
    shutil.copy(REPO_ROOT / "config" / "alert_rules.toml", rules_file)
    before = rules_file.read_bytes()
    monkeypatch.setenv("RUMOURWATCH_ALERT_RULES", str(rules_file))
    db = store.open_db(path)
    db.execute("""CREATE TRIGGER refuse_audit BEFORE INSERT ON audit_log WHEN NEW.action = 'rules.save'
                  BEGIN SELECT RAISE(ABORT, 'disk I/O error'); END""")
    at = _run("rules.py", "admin1", path)
    next(a for a in at.text_area if a.label == "关注词（每行一个）").set_value("示例关注词")
    next(b for b in at.button if b.label == "保存规则").click().run()
    assert not at.exception, at.exception
    [error] = [e.replace("\\", "") for e in _errors(at)]
    assert error == f"规则未保存：读写数据库 {path} 时出错：请刷新页面重试；如仍出错，请把下方技术细节交给管理员。"
    [detail] = [e for e in at.expander if e.label == "技术细节（英文原文，供管理员排查）"]
    assert "disk I/O error" in detail.code[0].value
    assert rules_file.read_bytes() == before and sorted(p.name for p in tmp_path.iterdir() if "rules" in p.name) == [
        "rules.toml"]
    assert not store.audit_entries(db, target_type="rules")

    db.execute("DROP TRIGGER refuse_audit")
    next(b for b in at.button if b.label == "保存规则").click().run()
    assert not _errors(at)
    assert alerts.load_rules(rules_file)["watch"]["keywords"] == ["示例关注词"]
    [entry] = store.audit_entries(db, target_type="rules")
    assert (entry["actor"], entry["action"], json.loads(entry["details"])["rules"]["watch"]["keywords"]) == (
        "admin1", "rules.save", ["示例关注词"])
    db.conn.close()


def test_a_broken_rules_file_says_in_chinese_what_to_fix_on_every_workflow_page(seeded, tmp_path, monkeypatch):
    path, _, _ = seeded
    rules_file = tmp_path / "rules.toml"
    rules_file.write_text("[notify]\nquiet_hours = 22:00-07:00\n", encoding="utf-8")  # unquoted: not TOML
    monkeypatch.setenv("RUMOURWATCH_ALERT_RULES", str(rules_file))
    for page, username in (("alerts.py", "monitor1"), ("workbench.py", "li"), ("rules.py", "admin1")):
        at = _run(page, username, path)
        assert not at.exception, at.exception
        [error] = [e.replace("\\", "") for e in _errors(at)]
        assert error == (f"预警规则文件 {rules_file} 的格式有误（不是有效的 TOML）：请按下方技术细节中的行号修正该文件，"
                         "或换回默认规则文件 config/alert_rules.toml，然后刷新页面。"), page
        [detail] = [e for e in at.expander if e.label == "技术细节（英文原文，供管理员排查）"]
        assert "is not valid TOML" in detail.code[0].value and "line 2" in detail.code[0].value
    rules_file.unlink()
    at = _run("alerts.py", "monitor1", path)
    assert _errors(at)[0].replace("\\", "").startswith(f"预警规则文件 {rules_file} 不存在：请把默认规则文件 config/alert_rules.toml 复制到该位置")


def test_scraped_text_and_review_notes_are_shown_as_text(seeded):
    path, info, now = seeded
    hostile = "<script>alert(1)</script> [领取补贴](javascript:alert(2)) **加粗**"
    db = store.open_db(path)
    alert_id = info["alerts"][0]
    item_id = store.get_alert(db, alert_id)["item_id"]
    db.execute("UPDATE items SET text = ? WHERE id = ?", [hostile, item_id])
    aid = experts.assign_expert(db, alert_id, info["experts"]["李样本"], "monitor1", now, rules())
    experts.accept_assignment(db, aid, "li", now)
    cid = experts.save_draft(db, aid, "li", now, "标题", "正文")
    experts.submit_for_review(db, cid, "li", now)
    experts.review_clarification(db, cid, "zhang", now, approve=False, note="[点此](javascript:alert(3)) <b>改</b>")
    db.conn.close()
    at = _run("workbench.py", "li", path)
    assert not at.exception
    assert any(hostile in x.value for x in at.text)
    assert not any("<script>" in m.value for m in at.markdown)
    [warning] = at.warning
    assert "\\[点此\\]\\(javascript" in warning.value  # escaped: shows as typed, is no link


def test_overdue_alert_shows_a_banner_and_time_past(seeded):
    path, info, now = seeded
    db = store.open_db(path)
    alert_id = info["alerts"][0]
    db.execute("UPDATE alerts SET respond_by = '2026-01-01T00:00:00Z' WHERE id = ?", [alert_id])
    db.conn.close()
    at = _run("alerts.py", "monitor1", path, {"alert": str(alert_id)})
    assert not at.exception
    # overdue, but the workflow tick has not escalated it yet: the page must not claim it has
    [banner] = [e.value for e in at.error if "已超过处置时限" in e.value]
    assert "尚未督办" in banner and "已于" not in banner
    assert any(m.delta and m.delta.startswith("已超时") for m in at.metric)
    [steps] = [df.value for df in at.dataframe if "操作人" in df.value.columns]
    assert "系统" in set(steps["操作人"]) and "system" not in set(steps["操作人"])  # the software's own steps

    db = store.open_db(path)
    alerts.escalate_overdue(db, now, rules())
    db.conn.close()
    at = _run("alerts.py", "monitor1", path, {"alert": str(alert_id)})
    [banner] = [e.value for e in at.error if "已超过处置时限" in e.value]
    assert "向领导督办" in banner and "已于" in banner and "尚未督办" not in banner

    db = store.open_db(path)  # dismissed: its clocks stop with it
    db.execute("UPDATE alerts SET status = 'dismissed' WHERE id = ?", [alert_id])
    db.conn.close()
    at = _run("alerts.py", "monitor1", path, {"alert": str(alert_id)})
    assert not [e for e in at.error if "已超过处置时限" in e.value]
    assert any(m.delta == "已排除，不再计时" for m in at.metric)


def test_item_page_shows_a_copy_as_clarified_once_the_clarification_is_published(seeded):
    path, info, now = seeded
    db = store.open_db(path)
    alert_id, li = info["alerts"][0], info["experts"]["李样本"]
    copy = info["copies"][-1]
    before = _run("item.py", "monitor1", path, {"item": str(copy)})
    assert not any("已澄清" in s.value for s in before.success)
    assert _metric(before, "已辟谣") != "是"

    aid = experts.assign_expert(db, alert_id, li, "monitor1", now, rules())
    experts.accept_assignment(db, aid, "li", now, actor_expert_id=li)
    cid = experts.save_draft(db, aid, "li", now, "<b>示例澄清</b>：淡盐水不能预防病毒", "示例澄清正文。",
                             actor_expert_id=li)
    experts.submit_for_review(db, cid, "li", now, actor_expert_id=li)
    experts.review_clarification(db, cid, "zhang", now, approve=True)
    later = now + timedelta(minutes=30)  # the pages' caches key on the alert's update time
    experts.publish_clarification(db, cid, "monitor1", later, "https://example.org/clarify/1")

    after = _run("item.py", "monitor1", path, {"item": str(copy)})
    assert not after.exception
    [banner] = [s.value for s in after.success if "已澄清" in s.value]
    assert "\\<b\\>示例澄清\\</b\\>" in banner  # the expert's title is escaped, shown as text
    assert any(b.proto.url == "https://example.org/clarify/1" for b in after.get("link_button"))
    # the tile above the banner agrees with it, for the alert's own item and each copy
    own = store.get_alert(db, alert_id)["item_id"]
    for item_id in {own, *info["copies"]}:
        assert _metric(_run("item.py", "monitor1", path, {"item": str(item_id)}), "已辟谣") == "是"


def _clarified_story(db, info, now):
    """A story with 20 reactions before its clarification (2 doubting, published 29 hours ago by
    李样本) and none after, but one more copy: (alert id, clarification id, the later copy)."""
    t0, text = now - timedelta(hours=50), "网传每天空腹吃三瓣生大蒜能杀死体内所有癌细胞，化疗都不用做了"
    add_item(db, text, t0, reposts=300, account="示例养生号", reactions=[
        ("repost", t0 + timedelta(minutes=30 * k + 10), "谣言吧，别信" if k < 2 else "转发微博") for k in range(20)])
    [alert_id] = alerts.evaluate_alerts(db, t0 + timedelta(hours=1), rules())
    li = info["experts"]["李样本"]
    aid = experts.assign_expert(db, alert_id, li, "monitor1", t0 + timedelta(hours=2), rules())
    experts.accept_assignment(db, aid, "li", t0 + timedelta(hours=2), actor_expert_id=li)
    cid = experts.save_draft(db, aid, "li", t0 + timedelta(hours=3), "大蒜不能杀死癌细胞", "正文", actor_expert_id=li)
    experts.submit_for_review(db, cid, "li", t0 + timedelta(hours=3), actor_expert_id=li)
    experts.review_clarification(db, cid, "zhang", t0 + timedelta(hours=4), approve=True)
    experts.publish_clarification(db, cid, "monitor1", t0 + timedelta(hours=21), "https://example.org/clarify/9")
    late = add_item(db, text, t0 + timedelta(hours=30), account="示例网友丙")
    return alert_id, cid, late


def test_alert_detail_says_how_the_story_went_on_after_its_clarification(seeded):
    """The alert page shows the two windows, the verdict and the later copy, which opens its item."""
    path, info, now = seeded
    db = store.open_db(path)
    alert_id, cid, late = _clarified_story(db, info, now)
    at = _run("alerts.py", "monitor1", path, {"alert": str(alert_id)})
    assert not at.exception, at.exception
    assert any(c.value == "辟谣效果：澄清稿发布前后各 24 小时" for c in at.caption)
    assert _metric(at, "新增相关条目（前 → 后）") == "1 → 1"
    assert _metric(at, "新增互动（前 → 后）") == "20 → 0"
    assert _metric(at, "质疑、辟谣类互动占比（前 → 后）") == "100% → —"  # both worded reactions doubt it
    assert any(s.value.startswith("发布后传播明显回落（新增条目与互动 -95%）") for s in at.success)
    # the copies posted since the clarification (the copies table lists the first one too)
    [since] = [d.value for d in at.dataframe if "示例网友丙" in d.value.to_string()
               and "示例养生号" not in d.value.to_string()]
    assert list(since["条目"]) == [str(late)]
    # five stories without a clarification that fell as much at the same age: no success to claim
    for k, claim in enumerate(["紧急通知：示例市自来水被病毒污染，这两天千万不要喝", "微波炉加热的饭菜会致癌，赶紧扔掉微波炉",
                               "隔夜的西瓜含有剧毒，吃了会导致肝衰竭", "用白醋泡脚一周就能治好高血压，降压药可以停了",
                               "打完疫苗三个月内不能吃海鲜，否则会过敏死亡"]):
        t = now - timedelta(days=20 - k)
        add_item(db, claim, t, reposts=300, account=f"示例号{k}", reaction_times=[
            *(t + timedelta(minutes=50 * j + 5) for j in range(19)), t + timedelta(hours=21)])
        alerts.evaluate_alerts(db, t, rules())
    at = _run("alerts.py", "monitor1", path, {"alert": str(alert_id)})
    assert not any("明显回落" in s.value for s in at.success)
    assert any("中位变化 -95%（5 起），与未辟谣的预警事件相近" in s.value for s in at.info)
    store.update_clarification(db, cid, {"status": "approved"})  # not published (any more): nothing to follow
    at = _run("alerts.py", "monitor1", path, {"alert": str(alert_id)})
    assert not at.exception and not any("辟谣效果" in c.value for c in at.caption)


def test_an_expert_sees_what_followed_each_of_their_published_clarifications(seeded):
    path, info, now = seeded
    _clarified_story(store.open_db(path), info, now)
    at = _run("workbench.py", "li", path)
    assert not at.exception, at.exception
    [table] = [d.value for d in at.dataframe if "辟谣效果" in d.value.columns]
    assert list(table["标题"]) == ["大蒜不能杀死癌细胞"]
    assert list(table["辟谣效果"]) == ["明显回落 -95%"]
    other = _run("workbench.py", "zhang", path)  # another expert's list has none of 李样本's
    assert not any("辟谣效果" in d.value.columns for d in other.dataframe)


def _metric(at: AppTest, label: str) -> str:
    [value] = [m.value for m in at.metric if m.label == label]
    return value


def test_an_alert_on_a_reworded_repeat_points_to_the_clarification_published_here(seeded):
    from workflow_helpers import REWORDED_RUMOUR, IndexedRuleBundle, add_item

    from rumourwatch.alerts import evaluate_alerts
    from rumourwatch.score import score_items

    path, info, now = seeded
    db = store.open_db(path)
    alert_id, li = info["alerts"][0], info["experts"]["李样本"]
    aid = experts.assign_expert(db, alert_id, li, "monitor1", now, rules())
    experts.accept_assignment(db, aid, "li", now, actor_expert_id=li)
    cid = experts.save_draft(db, aid, "li", now, "淡盐水不能预防示例病毒", "示例澄清正文。", actor_expert_id=li)
    experts.submit_for_review(db, cid, "li", now, actor_expert_id=li)
    experts.review_clarification(db, cid, "zhang", now, approve=True)
    experts.publish_clarification(db, cid, "monitor1", now, "https://example.org/clarify/7")
    reworded = add_item(db, REWORDED_RUMOUR, now, reposts=600)  # spreads on its own: a new alert
    [new_alert] = [a for a in evaluate_alerts(db, now, rules()) if a not in info["alerts"]]
    score_items(db, IndexedRuleBundle(), [reworded], now)
    db.conn.close()

    at = _run("alerts.py", "monitor1", path, {"alert": str(new_alert)})
    assert not at.exception
    [note] = [i.value for i in at.info if "本机构已就相似说法发布澄清" in i.value]
    assert "example\\.org/clarify/7" in note  # the url, escaped for Markdown
    assert re.search(r"相似度 0\.[3-9]\d", note)
    assert not any("整组相似条目已澄清" in s.value for s in at.success)  # not its own cluster's


def test_workbench_lists_close_clarifications_with_their_similarity_and_leaves_faint_ones_out(
        seeded, monkeypatch):
    """An expert's related clarifications are the knowledge base's matches that may be about the
    same claim: one too unlike the item (below knowledge.FAINT_SIMILARITY) is not listed."""
    from types import SimpleNamespace

    from dashboard import data
    from rumourwatch.knowledge import Match

    class Bundle:
        version = "fake"
        debunks = SimpleNamespace(threshold=0.33)

        def match_debunks(self, texts, k):
            return [[Match("https://debunk.example/close", "示例辟谣：同一说法", "科普网站", now, 0.41, "",
                           already_debunked=True),
                     Match("https://debunk.example/faint", "示例科普：无关文章", "科普网站", now, 0.03, "",
                           already_debunked=False)]]

    path, info, now = seeded
    monkeypatch.setattr(data, "model_bundle", lambda models_dir: Bundle())
    db = store.open_db(path)
    experts.assign_expert(db, info["alerts"][0], info["experts"]["李样本"], "monitor1", now, rules())
    db.conn.close()
    at = _run("workbench.py", "li", path)
    assert not at.exception, at.exception
    [related] = [df.value for df in at.dataframe if "相似度" in df.value.columns]
    assert list(related["标题"]) == ["示例辟谣：同一说法"] and list(related["相似度"]) == ["0.41"]


def test_open_item_button_on_an_alert_shows_that_items_view(seeded):
    """预警 → 打开条目详情 lands on the alert's representative item, with its text."""
    path, info, _ = seeded
    db = store.open_db(path)
    alert = store.get_alert(db, info["alerts"][0])
    item = store.get_item(db, alert["item_id"])
    db.conn.close()
    at = AppTest.from_file(str(REPO_ROOT / "dashboard" / "streamlit_app.py"), default_timeout=30)
    login_for_test(at, "monitor1", str(path))
    at.query_params["alert"] = str(alert["id"])
    at.switch_page("app_pages/alerts.py")
    at.run()
    assert not at.exception, at.exception
    next(b for b in at.button if b.label == "打开条目详情").click().run()
    assert not at.exception, at.exception
    assert [x.value for x in at.title] == ["条目详情"]
    assert item["text"] in [x.value for x in at.text]
    # The alert stays in the address: Streamlit writes it into the alerts page's address before the
    # switch, and that is the step the browser's Back returns to (it showed /alerts?item=… before).
    assert at.query_params["item"] == str(item["id"]) and at.query_params["alert"] == str(alert["id"])
    assert at.session_state["_nav_epoch"] == 1  # the tables get fresh keys, as from the live page


def _verdict_on_item_view(path, item_id: int, choice: str, reason: str) -> AppTest:
    at = _run("item.py", "monitor1", path, {"item": str(item_id)})
    next(r for r in at.radio if r.label.startswith("结论（条目 #")).set_value(choice)
    next(x for x in at.text_input if x.label.startswith("依据（条目 #")).set_value(reason)
    next(b for b in at.button if b.label.startswith("保存结论（条目 #")).click()
    at.run()
    assert not at.exception, at.exception
    return at


def test_a_not_rumour_verdict_on_the_item_view_dismisses_its_open_alert_with_the_reason(seeded):
    path, info, _ = seeded
    alert_id, other = info["alerts"]
    copy = info["copies"][-1]  # a copy, not the alert's representative: the verdict covers the cluster
    before = _run("alerts.py", "monitor1", path, {"alert": str(alert_id)})
    assert next(m.value for m in before.metric if m.label == "处置中预警") == "2"

    _verdict_on_item_view(path, copy, "not_rumour", "经核实为正常科普，并非谣言")

    db = store.open_db(path, read_only=True)
    alert = store.get_alert(db, alert_id)
    assert alert["status"] == "dismissed" and alert["closed_at"]
    steps = [(s["step"], s["actor"], s["note"]) for s in store.alert_steps(db, alert_id)]
    assert steps[-2:] == [("verdict:not_rumour", "monitor1", "经核实为正常科普，并非谣言"),
                          ("dismissed", "monitor1", "经核实为正常科普，并非谣言")]
    assert store.get_alert(db, other)["status"] == "open"  # another claim's alert is left alone
    db.conn.close()
    at = _run("alerts.py", "monitor1", path, {"alert": str(alert_id)})
    assert next(m.value for m in at.metric if m.label == "处置中预警") == "1"
    assert any(s.value.startswith(f"预警 #{alert_id}（") and s.value.endswith("，已排除）") for s in at.subheader)
    assert not any(b.label.startswith("指派给 ") for b in at.button)  # no more expert suggestions
    [table] = [df.value for df in at.dataframe if "操作人" in df.value.columns]
    assert {"研判结论（非谣言）", "排除（误报）"} <= set(table["步骤"])


def test_a_rumour_verdict_on_the_item_view_is_a_step_of_the_alert_that_stays_open(seeded):
    path, info, _ = seeded
    alert_id = info["alerts"][0]
    _verdict_on_item_view(path, info["copies"][0], "rumour", "与权威资料不符")
    db = store.open_db(path, read_only=True)
    assert store.get_alert(db, alert_id)["status"] == "open"
    assert [(s["step"], s["note"]) for s in store.alert_steps(db, alert_id)][-1] == ("verdict:rumour", "与权威资料不符")
    db.conn.close()
    at = _run("alerts.py", "monitor1", path, {"alert": str(alert_id)})
    assert any(b.label.startswith("指派给 ") for b in at.button)  # a confirmed rumour still needs an expert
def _errors(at: AppTest) -> list[str]:
    return [e.value for e in at.error]


def test_verdict_form_starts_without_a_choice_and_refusals_are_in_chinese(seeded):
    path, info, _ = seeded
    alert_id = info["alerts"][0]
    at = _run("alerts.py", "monitor1", path, {"alert": str(alert_id)})
    [radio] = [r for r in at.radio if r.key == "alert_verdict"]
    assert radio.value is None  # no verdict pre-selected: 确认谣言 is not saved by accident
    save = next(b for b in at.button if b.label.startswith("保存结论"))
    save.click().run()
    assert not at.exception
    assert any("尚未选择结论" in e for e in _errors(at)), _errors(at)

    radio = next(r for r in at.radio if r.key == "alert_verdict")
    radio.set_value("rumour")
    next(b for b in at.button if b.label.startswith("保存结论")).click().run()
    [error] = _errors(at)
    assert error == "操作未完成：研判结论需要填写依据，请填写后再保存。"
    db = store.open_db(path)
    assert db.execute("SELECT COUNT(*) FROM verdicts").fetchone()[0] == 0
    db.conn.close()


def test_dismissing_without_a_reason_says_so_in_chinese(seeded):
    path, info, _ = seeded
    at = _run("alerts.py", "monitor1", path, {"alert": str(info["alerts"][0])})
    next(b for b in at.button if b.label.startswith("排除此预警")).click().run()
    assert not at.exception
    [error] = _errors(at)
    assert error.startswith("操作未完成：排除预警需要填写原因") and "dismissal" not in error


def test_declining_without_a_reason_says_so_in_chinese(seeded):
    path, info, now = seeded
    db = store.open_db(path)
    aid = experts.assign_expert(db, info["alerts"][0], info["experts"]["李样本"], "monitor1", now, rules())
    db.conn.close()
    at = _run("workbench.py", "li", path)
    next(b for b in at.button if b.label == f"婉拒任务 #{aid}").click().run()
    assert not at.exception
    [error] = _errors(at)
    assert "婉拒需要填写原因" in error and "declining" not in error


def test_a_task_leaves_the_workbench_when_its_alert_is_dismissed(seeded):
    path, info, now = seeded
    alert_id = info["alerts"][0]
    db = store.open_db(path)
    aid = experts.assign_expert(db, alert_id, info["experts"]["李样本"], "monitor1", now, rules())
    db.conn.close()
    stale = _run("workbench.py", "li", path)  # the expert's page, open before the monitor acts
    monitor = _run("alerts.py", "monitor1", path, {"alert": str(alert_id)})
    next(i for i in monitor.text_input if i.key == "dismiss_reason").input("误报：讽刺段子")
    next(b for b in monitor.button if b.label.startswith("排除此预警")).click().run()
    assert not monitor.exception and not _errors(monitor)
    # accepting on the stale page takes nothing on: the page reloads without the task
    next(b for b in stale.button if b.label == f"接受任务 #{aid}").click().run()
    assert not stale.exception and not _errors(stale)
    assert not any(b.label.startswith("接受任务") for b in stale.button)
    assert "暂无待处理任务。" in [i.value for i in stale.info]
    db = store.open_db(path)
    assert store.get_assignment(db, aid)["status"] == "cancelled"
    with pytest.raises(experts.WorkflowError) as refused:  # the same action from elsewhere says why
        experts.accept_assignment(db, aid, "li", now)
    db.conn.close()
    assert refusal(refused.value) == f"任务 #{aid} 已撤回：预警 #{alert_id} 已被排除，无需再处理。请刷新工作台。"


def test_a_withdrawn_task_is_listed_for_its_expert_and_the_alert_shows_when_it_was_withdrawn(seeded):
    """The task does not silently vanish: the expert's workbench lists it with when, by whom and
    why, and the monitor's assignment table has the time it was withdrawn."""
    from dashboard.data import to_china

    path, info, now = seeded
    alert_id = info["alerts"][0]
    db = store.open_db(path)
    aid = experts.assign_expert(db, alert_id, info["experts"]["李样本"], "monitor1", now, rules())
    experts.accept_assignment(db, aid, "li", now)
    withdrawn_at = now + timedelta(minutes=12)
    alerts.dismiss_alert(db, alert_id, "monitor1", withdrawn_at, "误报：讽刺段子", rules())
    db.conn.close()
    at = _run("workbench.py", "li", path)
    assert not at.exception and "暂无待处理任务。" in [i.value for i in at.info]
    assert "已撤回的任务" in [h.value for h in at.subheader]
    [table] = [df.value for df in at.dataframe if "撤回时间" in df.value.columns]
    assert table.to_dict("records") == [{"#": str(aid), "编号": str(alert_id),
                                         "标题": store.get_alert(store.open_db(path), alert_id)["title"],
                                         "撤回时间": to_china(withdrawn_at), "操作人": "monitor1",
                                         "撤回原因": "误报：讽刺段子"}]
    other = _run("workbench.py", "zhang", path)  # another expert's withdrawn task is not theirs
    assert not [df for df in other.dataframe if "撤回时间" in df.value.columns]

    monitor = _run("alerts.py", "monitor1", path, {"alert": str(alert_id)})
    [assigned] = [df.value for df in monitor.dataframe if "撤回时间" in df.value.columns]
    row = assigned.to_dict("records")[0]
    assert (row["状态"], row["撤回时间"], row["说明"]) == ("已取消", to_china(withdrawn_at), "随预警排除撤回：误报：讽刺段子")


def test_an_action_on_a_busy_database_says_so_in_chinese_and_works_once_it_is_free(seeded, monkeypatch):
    import sqlite3

    path, info, _ = seeded
    alert_id = info["alerts"][0]
    monkeypatch.setattr(store, "BUSY_TIMEOUT_MS", 50)
    at = _run("alerts.py", "monitor1", path, {"alert": str(alert_id)})
    blocker = sqlite3.connect(str(path), isolation_level=None)
    blocker.execute("BEGIN IMMEDIATE")  # the worker writing a long batch
    try:
        next(i for i in at.text_input if i.key == "dismiss_reason").input("误报：讽刺段子")
        next(b for b in at.button if b.label.startswith("排除此预警")).click().run()
    finally:
        blocker.execute("ROLLBACK")
    assert not at.exception
    [error] = [e.replace("\\", "") for e in _errors(at)]
    assert error == (f"操作未完成：数据库 {path} 正忙（采集程序或其他用户正在写入），这次未能完成：请稍候片刻后刷新页面或重试。")
    [detail] = [e for e in at.expander if e.label == "技术细节（英文原文，供管理员排查）"]
    assert "is locked" in detail.code[0].value
    next(b for b in at.button if b.label.startswith("排除此预警")).click().run()  # retried: done
    assert not _errors(at)
    db = store.open_db(path)
    assert store.get_alert(db, alert_id)["status"] == "dismissed"
    db.conn.close()


def _removed_takedown(db, info, now) -> int:
    """A takedown request for the first alert's item, recorded as removed: its id."""
    item_id = store.get_alert(db, info["alerts"][0])["item_id"]
    tid = experts.request_takedown(db, item_id, "monitor1", now)
    experts.record_takedown_outcome(db, tid, "removed", "monitor1", now)
    return tid


def test_takedown_of_a_missing_item_keeps_its_id_and_the_outcome_time_has_its_own_header(seeded):
    path, info, now = seeded
    db = store.open_db(path)
    _removed_takedown(db, info, now)
    db.conn.close()
    at = _run("watchlist.py", "monitor1", path)
    [table] = [df.value for df in at.dataframe if "结果登记时间" in df.value.columns]
    assert "截止时间" not in table.columns and "请求时间" in table.columns

    next(n for n in at.number_input if n.label == "条目编号").set_value(9999999)
    next(b for b in at.button if b.label == "登记删除请求").click().run()
    assert not at.exception
    [error] = _errors(at)
    assert "条目 #9999999 不存在" in error and "does not exist" not in error


def test_a_takedown_request_without_an_item_says_so_and_records_nothing(seeded):
    path, _info, _now = seeded
    at = _run("watchlist.py", "monitor1", path)
    next(i for i in at.text_input if i.key == "td_note").input("致函某平台")
    next(b for b in at.button if b.label == "登记删除请求").click().run()  # no item number typed
    [error] = _errors(at)
    assert "请先填写要删除的条目编号" in error
    db = store.open_db(path)
    assert store.list_takedowns(db) == []
    db.conn.close()


def test_a_status_in_a_refusal_is_named_in_chinese(seeded):
    path, info, now = seeded
    db = store.open_db(path)
    tid = _removed_takedown(db, info, now)
    with pytest.raises(experts.WorkflowError) as refused:
        experts.record_takedown_outcome(db, tid, "refused", "monitor1", now)
    db.conn.close()
    assert refusal(refused.value) == f"删除请求 #{tid} 已是“已删除”状态，无需再记录结果。"
    assert str(refused.value) == f"takedown request {tid} is already removed"  # the CLI's message


def test_an_automatic_reassignment_is_shown_as_the_system(seeded):
    path, info, now = seeded
    db = store.open_db(path)
    aid = experts.assign_expert(db, info["alerts"][0], info["experts"]["李样本"], "monitor1", now, rules())
    experts.decline_assignment(db, aid, "li", now, "时间冲突", rules=rules())
    actors = {s["actor"] for s in store.alert_steps(db, info["alerts"][0])}
    db.conn.close()
    assert "system:reassign" in actors  # the software offered the task to the next expert
    at = _run("alerts.py", "monitor1", path, {"alert": str(info["alerts"][0])})
    [steps] = [df.value for df in at.dataframe if "操作人" in df.value.columns]
    assert "系统（自动改派）" in set(steps["操作人"])
    assert not any(a.startswith("system") for a in steps["操作人"])
def test_alert_list_shows_what_a_monitor_acts_on_first_most_urgent_alert_at_the_top(seeded):
    """At 1366 px the table's first columns are in view: status, overdue and time left, severity,
    the title; the rows run overdue first, then least time left, closed alerts last (not newest first)."""
    from datetime import timedelta

    from workflow_helpers import add_item

    from rumourwatch.records import iso

    path, info, now = seeded
    db = store.open_db(path)
    add_item(db, "示例谣言：每天空腹喝白酒能杀死示例病毒，家家都要备上几瓶，快转", now, reposts=600)
    [newest] = [a for a in alerts.evaluate_alerts(db, now, rules()) if a not in info["alerts"]]
    older, old = info["alerts"]
    db.execute("UPDATE alerts SET conference_by = NULL")
    db.execute("UPDATE alerts SET respond_by = ? WHERE id = ?", [iso(now - timedelta(hours=1)), older])
    db.execute("UPDATE alerts SET respond_by = ? WHERE id = ?", [iso(now + timedelta(hours=2)), old])
    db.execute("UPDATE alerts SET respond_by = ? WHERE id = ?", [iso(now + timedelta(hours=1)), newest])
    db.conn.close()
    at = _run("alerts.py", "monitor1", path)
    [table] = [df.value for df in at.dataframe]
    assert list(table.columns[:6]) == ["状态", "超时", "发布剩余", "发布会剩余", "级别", "编号"]
    assert list(table.columns).index("标题") < 8
    assert list(table["编号"]) == [str(older), str(newest), str(old)]
    assert table["超时"].tolist() == ["是", "", ""]
    assert table["发布剩余"].iloc[0].startswith("已超时") and table["发布剩余"].iloc[1].startswith("剩余 0 小时")

    db = store.open_db(path)
    alerts.dismiss_alert(db, older, "monitor1", now, "示例：误报")
    db.conn.close()
    at.button_group(key="alerts_filter").set_value("all").run()
    [table] = [df.value for df in at.dataframe]
    assert list(table["编号"]) == [str(newest), str(old), str(older)]  # the closed one last
    assert table["状态"].iloc[-1] == "已排除"


def test_alert_list_and_clocks_refresh_on_the_live_pages_cadence_and_the_forms_stay_outside(
        seeded, monkeypatch):
    """New and newly overdue alerts, the counts and the clocks redraw themselves every
    dashboard_refresh_seconds (as the live page does); the alert's forms are not part of a refresh,
    so what the monitor is typing there is not reset. AppTest cannot fire a fragment's timer: this
    records which fragment, with which interval, draws each element."""
    import functools

    import streamlit as st
    from streamlit.delta_generator import DeltaGenerator

    path, info, _ = seeded
    monkeypatch.setenv("RUMOURWATCH_DASHBOARD_REFRESH_SECONDS", "7")
    running, drawn = [], {}
    real_fragment = st.fragment

    def fragment(func=None, *, run_every=None, **kwargs):
        def wrap(f):
            @functools.wraps(f)
            def body(*a, **k):
                running.append(run_every)
                try:
                    return f(*a, **k)
                finally:
                    running.pop()
            return real_fragment(body, run_every=run_every, **kwargs)
        return wrap(func) if func else wrap

    def recorder(real, name_of):
        def draw(*a, **k):
            drawn[name_of(*a, **k)] = running[-1] if running else None
            return real(*a, **k)
        return draw

    monkeypatch.setattr(st, "fragment", fragment)
    monkeypatch.setattr(st, "dataframe", recorder(st.dataframe, lambda *a, **k: k.get("key")))
    monkeypatch.setattr(st, "text_input", recorder(st.text_input, lambda *a, **k: k.get("key")))
    monkeypatch.setattr(DeltaGenerator, "metric", recorder(DeltaGenerator.metric, lambda self, label, *a, **k: label))
    at = _run("alerts.py", "monitor1", path, {"alert": str(info["alerts"][0])})
    assert not at.exception, at.exception
    assert any("每 7 秒自动刷新" in c.value for c in at.caption)
    assert drawn["alerts_table_0"] == 7
    assert drawn["处置中预警"] == drawn["已超时"] == 7  # the counts
    assert drawn["信息发布时限"] == drawn["发布会时限"] == 7  # the open alert's clocks
    assert drawn["step_note"] is None and drawn["dismiss_reason"] is None
# --- navigation per role: main pages, named addresses, buttons to pages the role has ----------------

def _app(username: str, path, page: str | None = None, query=None) -> AppTest:
    """The whole app (navigation included) as `username`; a leader "boss" is added on first use."""
    db = store.open_db(path)
    if username == "boss" and not store.get_user(db, "boss"):
        auth.create_user(db, "boss", PASSWORD, "leader", "test")
    db.conn.close()
    at = AppTest.from_file(APP, default_timeout=30)
    login_for_test(at, username, str(path))
    for k, v in (query or {}).items():
        at.query_params[k] = v
    if page:
        at.switch_page(page)
    return at.run()


@pytest.mark.parametrize("username,title", [("monitor1", "实时监测"), ("li", "专家工作台"),
                                            ("boss", "领导概览"), ("admin1", "实时监测")])
def test_each_role_lands_on_its_main_page(seeded, username, title):
    # An expert used to land on an empty 条目详情 pointing to 实时监测, a page experts do not have.
    at = _app(username, seeded[0])
    assert not at.exception, at.exception
    assert [x.value for x in at.title] == [title]


@pytest.mark.parametrize("username", ["monitor1", "li", "boss", "admin1"])
def test_every_page_of_a_role_has_its_named_address(seeded, monkeypatch, username):
    """Streamlit finds a page by its address (/alerts) among the registered url_paths, and the default
    page's url_path is "" — a leader's /alerts?alert=… was "Page not found" while alerts was their
    default. Every page the role has must answer to its own name, and one page to "/"."""
    registered = []

    def recording(user, pages, real=dashboard_auth.pages_for):
        registered.append((user["role"], pages, real(user, pages)))
        return registered[-1][2]

    monkeypatch.setattr(dashboard_auth, "pages_for", recording)
    at = _app(username, seeded[0])
    assert not at.exception, at.exception
    role, app_pages, nav = registered[-1]
    names = {p._url_path for section in app_pages.values() for p in section}
    addresses = [p.url_path for section in nav.values() for p in section]
    assert {n for n in names if auth.page_allowed(role, n)} <= set(addresses)
    assert addresses.count("") == 1


def test_a_leader_opens_a_shared_alert_without_an_item_button(seeded):
    # Leaders have no item page: clicking 打开条目详情 raised StreamlitPageNotFoundError.
    path, info, _ = seeded
    at = _app("boss", path, "app_pages/alerts.py", {"alert": str(info["alerts"][0])})
    assert not at.exception, at.exception
    assert "处置记录" in [c.value for c in at.caption]  # the shared alert is open
    assert "打开条目详情" not in [b.label for b in at.button]
    monitor = _app("monitor1", path, "app_pages/alerts.py", {"alert": str(info["alerts"][0])})
    assert "打开条目详情" in [b.label for b in monitor.button]


def test_an_expert_on_the_item_page_is_not_sent_to_the_live_page(seeded):
    # 返回实时监测 raised StreamlitPageNotFoundError for experts, and the hint pointed to that page.
    path, info, now = seeded
    db = store.open_db(path)
    alert = store.get_alert(db, info["alerts"][0])
    aid = experts.assign_expert(db, alert["id"], info["experts"]["李样本"], "monitor1", now, rules())
    experts.accept_assignment(db, aid, "li", now)
    db.conn.close()
    at = _app("li", path, "app_pages/item.py")
    assert not at.exception, at.exception
    assert "返回实时监测" not in [b.label for b in at.button]
    assert not any("实时监测" in x.value for x in at.info)
    at.query_params["item"] = str(alert["item_id"])
    at.run()
    assert not at.exception and not at.error, [e.value for e in at.error]
    assert [x.value for x in at.title] == ["条目详情"]
    assert "返回实时监测" not in [b.label for b in at.button]


@pytest.mark.parametrize("username,page,role,allowed", [
    ("boss", "app_pages/item.py", "领导", "舆情监测员、专家、分析员、管理员"),
    ("li", "app_pages/alerts.py", "专家", "舆情监测员、领导、管理员"),
])
def test_a_shared_link_to_a_page_the_role_does_not_have_says_so_in_chinese(seeded, username, page, role, allowed):
    # A monitor's /item?item=… link opened by a leader was Streamlit's English "Page not found".
    path, info, _ = seeded
    # Before its first run AppTest finds the page by file name, as the browser does by the address.
    at = _app(username, path, page, {"alert": str(info["alerts"][0]), "item": str(info["copies"][0])})
    assert not at.exception, at.exception
    assert [e.value for e in at.error] == [
        f"当前角色（{role}）无权访问此页面。此页面仅对以下角色开放：{allowed}。如需权限请联系管理员。"]
    assert not at.text  # nothing of the alert or the item is shown


def test_a_row_of_the_watchlist_opens_that_accounts_items_on_the_search_page(seeded):
    path, info, now = seeded
    db = store.open_db(path)
    item = store.get_item(db, store.get_alert(db, info["alerts"][0])["item_id"])
    experts.record_verdict(db, item["id"], "rumour", "已证伪", "monitor1", now)
    db.conn.close()
    at = _app("monitor1", path, "app_pages/watchlist.py")
    [table] = [df.value for df in at.dataframe if "确认虚假条目" in df.value.columns]
    assert item["account"] in set(table["账号"])  # the verdict covers its cluster's copies too
    # a click on the second row, as the grid reports it
    at.session_state["watchlist_table_0"] = {"selection": {"rows": [1], "columns": [], "cells": []}}
    at.run()
    assert not at.exception, at.exception
    assert at.query_params["account"] == table["账号"].iloc[1]
    assert any(f"账号为“{table['账号'].iloc[1]}”" in c.value for c in at.caption)
    assert {m.label: m.value for m in at.metric}["命中条目"] == "1"


def test_a_row_of_the_alert_list_opens_that_alert_and_the_list_comes_back_unselected(seeded):
    path, _, _ = seeded
    at = _run("alerts.py", "monitor1", path)
    [table] = [df.value for df in at.dataframe if "发布剩余" in df.value.columns]
    at.session_state["alerts_table_0"] = {"selection": {"rows": [1], "columns": [], "cells": []}}
    at.run()
    assert not at.exception, at.exception
    picked = table["编号"].iloc[1]
    assert at.query_params["alert"] == picked
    assert any(str(h.value).startswith(f"预警 #{picked}（") for kind in ("header", "subheader") for h in getattr(at, kind))
    # the list is redrawn under a new key, so a refresh that reorders it opens nothing else
    assert "alerts_table_1" in at.session_state and at.session_state["alerts_picks"] == 1


def test_a_special_report_on_the_alert_is_made_with_the_monitors_assessment(seeded):
    """舆情专报: the monitor writes an assessment, picks a format and downloads the report; a leader,
    who reads the alert page, can make one too."""
    path, info, now = seeded
    alert_id = info["alerts"][0]
    at = _run("alerts.py", "monitor1", path, {"alert": str(alert_id)})
    at.text_area(key="briefing_note").input("建议由省疾控中心专家今日发布澄清。")
    at.radio(key="briefing_format").set_value("md")
    next(b for b in at.button if b.label == "生成专报").click().run()
    assert not at.exception and not at.error, [e.value for e in at.error]
    got_id, fmt, body, name = at.session_state["briefing_file"]
    text = body.decode("utf-8")
    assert (got_id, fmt) == (alert_id, "md") and name.startswith(f"舆情专报_预警{alert_id}_") and name.endswith(".md")
    assert text.startswith("# 舆情专报") and "> 建议由省疾控中心专家今日发布澄清。" in text
    assert "共 3 条相关条目" in text  # the seeded rumour's three copies
    [button] = [d for d in at.get("download_button") if d.proto.label.startswith("下载 舆情专报")]
    assert button.proto.label == f"下载 {name}"
    db = store.open_db(path)
    auth.create_user(db, "leader1", PASSWORD, "leader", "test")
    db.conn.close()
    at = _run("alerts.py", "leader1", path, {"alert": str(alert_id)})
    assert not any(b.label.startswith("报送领导") for b in at.button)  # leaders receive it, monitors send it
    next(b for b in at.button if b.label == "生成专报").click().run()
    assert not at.exception and at.session_state["briefing_file"][1] == "pdf"
    assert at.session_state["briefing_file"][2].startswith(b"%PDF")


def test_the_special_report_is_mailed_to_the_leaders_from_the_alert_page(seeded, tmp_path, monkeypatch, smtp_server):
    controller, inbox = smtp_server
    path, info, now = seeded
    rules_path = tmp_path / "rules.toml"
    rules_path.write_text(f'[notify]\nsmtp_host = "127.0.0.1"\nsmtp_port = {controller.port}\n'
                          'leader_emails = ["leader@example.org"]\n', encoding="utf-8")
    monkeypatch.setenv("RUMOURWATCH_ALERT_RULES", str(rules_path))
    alert_id = info["alerts"][0]
    at = _run("alerts.py", "monitor1", path, {"alert": str(alert_id)})
    at.text_area(key="briefing_note").input("建议今日发布澄清。")
    next(b for b in at.button if b.label == "报送领导（邮件，1 人）").click().run()
    assert not at.exception and not at.error, [e.value for e in at.error]
    assert [to for to, _ in inbox.messages] == [["leader@example.org"]]
    assert "建议今日发布澄清。" in inbox.messages[0][1].get_body(("plain",)).get_content()
    steps = next(df.value for df in at.dataframe if "步骤" in df.value.columns)
    assert steps["步骤"].iloc[-1] == "报送舆情专报" and steps["操作人"].iloc[-1] == "monitor1"
    assert any(s.value.startswith("已于 ") and "由 monitor1 向领导报送专报" in s.value for s in at.success)


def test_a_top_severity_alert_not_yet_reported_to_the_leaders_says_so(seeded):
    path, info, now = seeded
    db = store.open_db(path)
    add_item(db, "网传示例市自来水被投毒，全城停水，赶紧去超市抢购矿泉水，转给家人", now, reposts=6000)
    [top] = alerts.evaluate_alerts(db, now, rules())
    assert store.get_alert(db, top)["severity"] == "一级"
    db.conn.close()
    at = _run("alerts.py", "monitor1", path, {"alert": str(top)})
    assert [w.value for w in at.warning if "尚未向领导报送专报" in w.value]
    at = _run("alerts.py", "monitor1", path, {"alert": str(info["alerts"][0])})  # 三级: no such warning
    assert not [w.value for w in at.warning if "尚未向领导报送专报" in w.value]


def test_the_workbench_shows_the_drafts_self_check_to_its_author_and_reviewer(seeded):
    """稿件自查: the author sees what the saved draft lacks; a reviewer from another field is told so."""
    path, info, now = seeded
    db = store.open_db(path)
    alert_id = info["alerts"][0]
    aid = experts.assign_expert(db, alert_id, info["experts"]["李样本"], "monitor1", now, rules())
    experts.accept_assignment(db, aid, "li", now)
    cid = experts.save_draft(db, aid, "li", now, "喝淡盐水能预防病毒感染？没有科学依据", "淡盐水到不了肺部。",
                             claim="喝淡盐水可以预防病毒感染")
    db.conn.close()
    at = _run("workbench.py", "li", path)
    assert not at.exception
    [check] = [e for e in at.expander if e.label.startswith("稿件自查")]
    assert check.label == "稿件自查：提示 3 项"
    lines = [m.value for m in check.markdown]
    assert any("未列出依据" in v for v in lines) and any("未写明适用人群" in v for v in lines)
    assert any("正文仅 9 字" in v for v in lines)
    assert any("作者李样本的专业覆盖本条主题" in v for v in lines)

    db = store.open_db(path)
    experts.submit_for_review(db, cid, "li", now)
    db.conn.close()
    at = _run("workbench.py", "wang", path)  # a cardiologist reviewing an infectious-disease clarification
    [check] = [e for e in at.expander if e.label.startswith("稿件自查")]
    assert check.label == "稿件自查：提示 4 项"
    assert any("审核人王虚构的专业不含本条主题（传染病及地方病防控）" in m.value for m in check.markdown)


def test_an_expert_starts_a_draft_from_a_clarification_published_here(seeded):
    """The same rumour comes back: the expert fills the draft from the earlier clarification, adapts
    it and saves; nothing is saved before 保存草稿."""
    path, info, now = seeded
    db = store.open_db(path)
    first, second = info["alerts"][:2]
    aid = experts.assign_expert(db, first, info["experts"]["张示例"], "monitor1", now, rules())
    experts.accept_assignment(db, aid, "zhang", now)
    cid = experts.save_draft(db, aid, "zhang", now, "示例保健茶不能根治糖尿病", "正文：示例保健茶不能代替胰岛素。",
                             "国家卫生健康委指南", claim="示例牌保健茶能根治糖尿病")
    experts.submit_for_review(db, cid, "zhang", now)
    experts.review_clarification(db, cid, "li", now, approve=True)
    experts.publish_clarification(db, cid, "monitor1", now, "https://example.org/piyao/tea")
    task = experts.assign_expert(db, second, info["experts"]["李样本"], "monitor1", now, rules())
    experts.accept_assignment(db, task, "li", now)
    db.conn.close()
    at = _run("workbench.py", "li", path)
    assert at.selectbox(key=f"reuse_pick_{task}").options == [f"#{cid} 示例保健茶不能根治糖尿病"]
    assert at.text_input(key=f"title_{task}").value == ""
    at.button(key=f"reuse_{task}").click().run()
    assert not at.exception, at.exception
    assert at.text_input(key=f"title_{task}").value == "示例保健茶不能根治糖尿病"
    assert at.text_area(key=f"refs_{task}").value == "国家卫生健康委指南"
    assert at.text_area(key=f"claim_{task}").value == "示例牌保健茶能根治糖尿病"
    db = store.open_db(path)
    assert [c for c in store.clarifications_for_alert(db, second)] == []  # filled, not saved
    db.conn.close()
    at.text_input(key=f"title_{task}").set_value("示例保健茶不能根治糖尿病（再次辟谣）")
    at.button(key=f"save_{task}").click().run()
    assert not at.exception, at.exception
    db = store.open_db(path)
    [draft] = store.clarifications_for_alert(db, second)
    assert (draft["title"], draft["body"]) == ("示例保健茶不能根治糖尿病（再次辟谣）", "正文：示例保健茶不能代替胰岛素。")
    db.conn.close()


def test_the_next_expert_carries_on_from_the_draft_of_a_withdrawn_task(seeded):
    """A task withdrawn from an expert who had saved a draft (away, silent): the expert assigned
    next fills the form from that draft instead of starting again; nothing is saved before 保存草稿."""
    path, info, now = seeded
    db = store.open_db(path)
    first = info["alerts"][0]
    aid = experts.assign_expert(db, first, info["experts"]["张示例"], "monitor1", now, rules())
    experts.accept_assignment(db, aid, "zhang", now)
    old = experts.save_draft(db, aid, "zhang", now, "示例谣言不实", "正文：已写了一半的澄清。", "国家卫生健康委指南",
                             claim="示例牌保健茶能根治糖尿病，停药也没关系")
    experts.withdraw_assignment(db, aid, "monitor1", now, "专家出差", rules())
    task = experts.assign_expert(db, first, info["experts"]["李样本"], "monitor1", now, rules())
    experts.accept_assignment(db, task, "li", now)
    db.conn.close()
    at = _run("workbench.py", "li", path)
    pick = at.selectbox(key=f"reuse_pick_{task}")
    assert pick.options[0] == f"#{old} 示例谣言不实（张示例此前未完成的草稿，任务已撤回或谢绝）"
    at.button(key=f"reuse_{task}").click().run()
    assert not at.exception, at.exception
    assert at.text_area(key=f"body_{task}").value == "正文：已写了一半的澄清。"
    assert at.text_area(key=f"claim_{task}").value == "示例牌保健茶能根治糖尿病，停药也没关系"
    db = store.open_db(path)
    assert [c["assignment_id"] for c in store.clarifications_for_alert(db, first)] == [aid]  # not saved yet
    db.conn.close()


def test_a_submitted_draft_asks_reviewers_of_its_field_and_they_see_it_first(seeded):
    """The review request names and mails experts of the alert's field (not the author, not one
    away); on their workbench such drafts come first, marked 本领域."""
    path, info, now = seeded
    db = store.open_db(path)
    db.execute("DELETE FROM notifications")
    first, second = info["alerts"][:2]
    db.execute("UPDATE alerts SET topic = '心脑血管疾病防治' WHERE id = ?", [second])
    drafts = {}
    for alert_id, author in ((second, "李样本"), (first, "李样本")):
        aid = experts.assign_expert(db, alert_id, info["experts"][author], "monitor1", now, rules())
        experts.accept_assignment(db, aid, "li", now)
        drafts[alert_id] = experts.save_draft(db, aid, "li", now, f"标题{alert_id}", "正文", claim="示例说法，至少十个字的说法")
        experts.submit_for_review(db, drafts[alert_id], "li", now, rules=rules())
    body, targets = db.execute(
        "SELECT body, group_concat(target) FROM notifications WHERE event = 'review_requested' AND body LIKE ?",
        [f"%澄清稿 #{drafts[first]}%"]).fetchone()
    # 传染病及地方病防控: 张示例 (国家级) and 钱测试 (县级) of the pool's field, not the author 李样本
    assert "建议审核专家（本领域）：张示例（示例国家健康科普中心）、钱测试（示例县人民医院）" in body
    assert "zhang@example.org" in targets and "qian@example.org" in targets and "li@example.org" not in targets
    suggested = experts.suggest_reviewers(db, store.get_clarification(db, drafts[second]), now)
    assert [e["name"] for e in suggested] == ["王虚构"]  # the cardiologist, for the 心脑血管 draft
    db.conn.close()
    at = _run("workbench.py", "zhang", path)
    headers = [m.value for m in at.markdown if m.value.startswith("**稿件 #")]
    assert headers[0].startswith(f"**稿件 #{drafts[first]}") and "本领域（传染病及地方病防控）" in headers[0]
    assert headers[1].startswith(f"**稿件 #{drafts[second]}") and "本领域" not in headers[1]


def test_rules_page_sends_a_test_message_and_shows_each_channel(tmp_path, monkeypatch, smtp_server):
    """发送测试通知 on 预警规则: each channel reached or not, in Chinese, from the saved rules."""
    controller, inbox = smtp_server
    rules_file = tmp_path / "rules.toml"
    rules_file.write_text(f'[notify]\nmonitor_emails = ["mon@example.org"]\nleader_emails = ["boss@example.org"]\n'
                          f'smtp_host = "127.0.0.1"\nsmtp_port = {controller.port}\n', encoding="utf-8")
    db_path = tmp_path / "rw.db"
    db = store.open_db(db_path)
    auth.create_user(db, "root", "a long phrase 77", "admin", "test")
    db.conn.close()
    monkeypatch.setenv("RUMOURWATCH_DB_PATH", str(db_path))
    monkeypatch.setenv("RUMOURWATCH_ALERT_RULES", str(rules_file))
    at = AppTest.from_file(str(REPO_ROOT / "dashboard" / "app_pages" / "rules.py"), default_timeout=60)
    login_for_test(at, "root", str(db_path))
    at.run()
    at.button(key="rules_test").click().run()
    assert not at.exception
    assert "测试通知：2 / 2 个渠道送达。" in [s.value for s in at.success]
    [shown] = [d.value for d in at.dataframe if "名单" in d.value.columns]
    assert list(shown["名单"]) == ["监测员", "领导"] and list(shown["结果"]) == ["是", "是"]
    assert sorted(to[0] for to, _ in inbox.messages) == ["boss@example.org", "mon@example.org"]
