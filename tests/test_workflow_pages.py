"""Smoke tests of the workflow pages with Streamlit's AppTest: each page renders for its role
without an exception, and a role without access is refused."""

from __future__ import annotations

import re
from datetime import datetime, timedelta, timezone

import pytest
from streamlit.testing.v1 import AppTest

from dashboard.auth import login_for_test
from rumourwatch import alerts, experts, store
from rumourwatch.config import REPO_ROOT

from workflow_helpers import rules, seed_workflow_db

PAGES = str(REPO_ROOT / "dashboard" / "app_pages") + "/"


@pytest.fixture
def seeded(tmp_path, monkeypatch):
    path = tmp_path / "pages.db"
    now = datetime.now(timezone.utc).replace(microsecond=0)
    info = seed_workflow_db(path, now)
    monkeypatch.setenv("RUMOURWATCH_DB_PATH", str(path))
    return path, info, now


def _run(page: str, username: str, path, query=None) -> AppTest:
    at = AppTest.from_file(PAGES + page, default_timeout=30)
    login_for_test(at, username, str(path))
    for k, v in (query or {}).items():
        at.query_params[k] = v
    at.run()
    return at


@pytest.mark.parametrize("page,username", [("alerts.py", "monitor1"), ("workbench.py", "li"),
                                           ("expert_pool.py", "admin1"), ("watchlist.py", "monitor1"),
                                           ("rules.py", "admin1"), ("workbench.py", "admin1")])
def test_page_renders_for_its_role(seeded, page, username):
    path, info, now = seeded
    at = _run(page, username, path)
    assert not at.exception, at.exception
    assert not at.error, [e.value for e in at.error]


def test_alert_detail_shows_clocks_and_suggestions(seeded):
    path, info, now = seeded
    at = _run("alerts.py", "monitor1", path, {"alert": str(info["alerts"][0])})
    assert not at.exception
    labels = [b.label for b in at.button]
    assert any(label.startswith("指派给 ") for label in labels)
    assert any("剩余 4 小时" in m.delta or "剩余 5 小时" in m.delta for m in at.metric if m.delta)


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
    quiet = next(x for x in at.text_input if x.label.startswith("免打扰时段"))
    quiet.set_value("整夜")
    next(b for b in at.button if b.label == "保存规则").click()
    at.run()
    assert at.error and "notify.quiet_hours" in at.error[0].value
    assert alerts.load_rules(rules_file)["notify"]["quiet_hours"] == "22:00-07:00"  # unchanged


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
    assert at.query_params["item"] == str(item["id"]) and "alert" not in at.query_params
    assert at.session_state["_nav_epoch"] == 1  # the tables get fresh keys, as from the live page
