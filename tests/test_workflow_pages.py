"""Smoke tests of the workflow pages with Streamlit's AppTest: each page renders for its role
without an exception, and a role without access is refused."""

from __future__ import annotations

import re
from datetime import datetime, timezone

import pytest
from streamlit.testing.v1 import AppTest

from dashboard import auth as dashboard_auth
from dashboard.auth import login_for_test
from rumourwatch import alerts, auth, experts, store
from rumourwatch.config import REPO_ROOT

from workflow_helpers import PASSWORD, rules, seed_workflow_db

PAGES = str(REPO_ROOT / "dashboard" / "app_pages") + "/"
APP = str(REPO_ROOT / "dashboard" / "streamlit_app.py")


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

    aid = experts.assign_expert(db, alert_id, li, "monitor1", now, rules())
    experts.accept_assignment(db, aid, "li", now, actor_expert_id=li)
    cid = experts.save_draft(db, aid, "li", now, "<b>示例澄清</b>：淡盐水不能预防病毒", "示例澄清正文。",
                             actor_expert_id=li)
    experts.submit_for_review(db, cid, "li", now, actor_expert_id=li)
    experts.review_clarification(db, cid, "zhang", now, approve=True)
    experts.publish_clarification(db, cid, "monitor1", now, "https://example.org/clarify/1")

    after = _run("item.py", "monitor1", path, {"item": str(copy)})
    assert not after.exception
    [banner] = [s.value for s in after.success if "已澄清" in s.value]
    assert "\\<b\\>示例澄清\\</b\\>" in banner  # the expert's title is escaped, shown as text
    assert any(b.proto.url == "https://example.org/clarify/1" for b in after.get("link_button"))


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
                                            ("boss", "预警与处置时限"), ("admin1", "实时监测")])
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
