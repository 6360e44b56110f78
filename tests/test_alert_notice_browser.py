"""新预警提醒 in a real browser: a monitor reading another page is told of a new 一级 or 二级 alert
within a refresh, with a link to it and a chime; a 三级 one is counted; nothing is announced twice;
the chime can be switched off; a role that does not handle alerts gets no notices."""

from __future__ import annotations

from datetime import timedelta

import dashboard_fixtures as fx
import pytest
from local_servers import wait_for_idle

from rumourwatch import alerts, auth, store
from rumourwatch.store import now_utc

pytestmark = pytest.mark.browser

WAIT_MS = 30_000
ANALYST, ANALYST_PASSWORD = "analyst1", "fixture-password-2"


@pytest.fixture(scope="module")
def app(tmp_path_factory):
    with fx.served_store(tmp_path_factory.mktemp("notice")) as (base, db_path, ids):
        db = store.open_db(db_path)
        auth.create_user(db, ANALYST, ANALYST_PASSWORD, "analyst", actor="test")
        db.conn.close()
        yield base, db_path, ids


def log_in(browser, url: str, username: str, password: str):
    page = browser.new_page(viewport={"width": 1440, "height": 1000}, locale="zh-CN")
    page.goto(url)
    page.get_by_label("用户名").fill(username)
    page.get_by_label("密码").fill(password)
    page.get_by_role("button", name="登录", exact=True).click()
    wait_for_idle(page)
    return page


def raise_on(db_path, item_id: int, severity: str, reason: str) -> int:
    db = store.open_db(db_path)
    try:
        return alerts.raise_alert(db, item_id, severity, reason, "monitor2", now_utc())["alert_id"]
    finally:
        db.conn.close()


def toasts(page, text: str):
    return page.get_by_test_id("stToast").filter(has_text=text)


def test_a_new_urgent_alert_is_announced_on_another_page_with_a_link_and_a_chime(app, browser):
    base, db_path, ids = app
    page = log_in(browser, f"{base}/search", fx.MONITOR, fx.MONITOR_PASSWORD)
    sound = page.get_by_role("switch", name="新预警提示音")
    sound.wait_for(timeout=WAIT_MS)
    assert sound.is_checked()  # on unless a monitor switches it off
    page.wait_for_timeout(2500)  # two refreshes: what was raised before the tab opened is not news
    assert page.get_by_test_id("stToast").count() == 0

    alert_id = raise_on(db_path, ids["w1"], "一级", "领导批示：尽快核实")
    urgent = toasts(page, f"一级预警 #{alert_id}")
    urgent.wait_for(timeout=WAIT_MS)
    assert "人工上报：网传每天空腹喝三杯白醋" in urgent.inner_text()  # its kind and the start of its title
    assert urgent.get_by_role("link", name="查看").get_attribute("href").endswith(f"alerts?alert={alert_id}")
    chime = page.locator(f".st-key-notice_chime_a{alert_id} audio")
    chime.wait_for(state="attached", timeout=WAIT_MS)
    assert chime.get_attribute("autoplay") is not None and not chime.is_visible()  # heard, not shown
    page.wait_for_function(f"""() => {{ const a = document.querySelector('.st-key-notice_chime_a{alert_id} audio');
                                        return a !== null && a.currentTime > 0 }}""", timeout=WAIT_MS)  # it played
    page.wait_for_timeout(3000)  # three more refreshes: announced once, and it stays until dismissed
    assert toasts(page, f"一级预警 #{alert_id}").count() == 1
    urgent.get_by_role("button").last.click()  # dismissed (×): it does not come back at the next refreshes
    page.wait_for_timeout(2500)
    assert toasts(page, f"一级预警 #{alert_id}").count() == 0

    # a 三级 alert is counted in a notice of its own, without a chime
    minor = raise_on(db_path, ids["h1"], "三级", "关注")
    toasts(page, "另有 1 起新预警").wait_for(timeout=WAIT_MS)
    page.wait_for_timeout(1500)
    assert toasts(page, f"#{minor}").count() == 0 and page.locator(f".st-key-notice_chime_a{minor}").count() == 0

    # the chime switched off: the notice still comes, silently
    page.get_by_test_id("stSidebar").get_by_text("新预警提示音", exact=True).click()
    wait_for_idle(page)
    assert not sound.is_checked()
    second = raise_on(db_path, ids["f1"], "二级", "多个平台扩散")
    toasts(page, f"二级预警 #{second}").wait_for(timeout=WAIT_MS)
    page.wait_for_timeout(1500)
    assert page.locator(f".st-key-notice_chime_a{second}").count() == 0
    page.close()


def test_a_clock_run_out_is_announced_whatever_the_severity(app, browser):
    """The worker's round escalates an alert whose 5-hour clock ran out (and mails the leaders): the
    monitor on another page is told at once, with the deadline, and hears the chime."""
    base, db_path, ids = app
    page = log_in(browser, f"{base}/handover", fx.MONITOR, fx.MONITOR_PASSWORD)
    page.get_by_role("switch", name="新预警提示音").wait_for(timeout=WAIT_MS)
    db = store.open_db(db_path)
    try:  # raised six hours ago by hand, nothing released since; the round escalates it now
        alert_id = alerts.raise_alert(db, ids["n1"], "三级", "六小时前上报", "monitor2",
                                      now_utc() - timedelta(hours=6))["alert_id"]
        [event] = alerts.escalate_overdue(db, now_utc())
        assert (event["alert_id"], event["deadline"]) == (alert_id, "respond_by")
        step = max(s["id"] for s in store.alert_steps(db, alert_id))
    finally:
        db.conn.close()
    late = toasts(page, f"三级预警 #{alert_id} 超时")
    late.wait_for(timeout=WAIT_MS)
    assert "5 小时内发布信息的时限" in late.inner_text() and "已过" in late.inner_text()
    assert late.get_by_role("link", name="查看").get_attribute("href").endswith(f"alerts?alert={alert_id}")
    page.locator(f".st-key-notice_chime_e{step} audio").wait_for(state="attached", timeout=WAIT_MS)
    page.wait_for_timeout(2500)
    assert toasts(page, f"#{alert_id} 超时").count() == 1  # once
    page.close()


def fresh_item(db_path, name: str, claim: str) -> int:
    """A new story of its own (a new item, so its alert is a new one, not one grown)."""
    return fx.append_item(db_path, f"notice-{name}", f"网传{claim}，专家提醒不要轻信。", now_utc())


def test_a_leader_is_told_of_a_new_first_level_alert_and_of_nothing_less(app, browser):
    """A 一级 alert is a sudden event: the leaders call its press conference within 24 hours."""
    base, db_path, _ = app
    db = store.open_db(db_path)
    auth.create_user(db, "leader1", "Leader-password-9", "leader", actor="test")
    db.conn.close()
    page = log_in(browser, f"{base}/reports", "leader1", "Leader-password-9")
    page.get_by_role("switch", name="新预警提示音").wait_for(timeout=WAIT_MS)
    second = raise_on(db_path, fresh_item(db_path, "l2", "喝绿豆汤能预防流感"), "二级", "扩散")
    first = raise_on(db_path, fresh_item(db_path, "l1", "某地自来水含有致癌物"), "一级", "多地转发")
    toasts(page, f"一级预警 #{first}").wait_for(timeout=WAIT_MS)
    page.locator(f".st-key-notice_chime_a{first} audio").wait_for(state="attached", timeout=WAIT_MS)
    assert toasts(page, f"#{second}").count() == 0 and toasts(page, "另有").count() == 0
    page.close()


def test_an_expert_is_told_of_a_task_offered_to_them_and_of_no_one_elses(app, browser):
    from workflow_helpers import ROSTER_CSV

    from rumourwatch import experts

    base, db_path, _ = app
    db = store.open_db(db_path)
    if not store.list_experts(db):
        experts.import_roster(db, ROSTER_CSV, "admin", now_utc())
    by_name = {e["name"]: e["id"] for e in store.list_experts(db)}
    auth.create_user(db, "expert1", "Expert-password-9", "expert", actor="test", expert_id=by_name["李样本"])
    db.conn.close()
    page = log_in(browser, f"{base}/workbench", "expert1", "Expert-password-9")
    page.get_by_role("switch", name="新任务提示音").wait_for(timeout=WAIT_MS)
    theirs = raise_on(db_path, fresh_item(db_path, "e1", "吃大蒜能治新冠"), "二级", "需专家澄清")
    others = raise_on(db_path, fresh_item(db_path, "e2", "醋泡黑豆能降血压"), "二级", "需专家澄清")
    db = store.open_db(db_path)
    try:
        experts.assign_expert(db, others, by_name["张示例"], "monitor1", now_utc())
        experts.assign_expert(db, theirs, by_name["李样本"], "monitor1", now_utc())
    finally:
        db.conn.close()
    task = toasts(page, "新的澄清任务")
    task.wait_for(timeout=WAIT_MS)
    assert f"预警 #{theirs}" in task.inner_text() and "前接受或谢绝" in task.inner_text()
    assert task.get_by_role("link", name="去处理").get_attribute("href").endswith("workbench")
    page.wait_for_timeout(2500)
    assert toasts(page, "新的澄清任务").count() == 1 and toasts(page, f"#{others}").count() == 0
    # the alerts themselves are the monitors' news, not the expert's: no alert notice (its link is 查看)
    assert page.get_by_test_id("stToast").get_by_role("link", name="查看").count() == 0
    page.close()


def test_a_correspondent_is_told_of_an_alert_referred_to_their_unit_and_of_no_other_units(app, browser):
    from rumourwatch import referrals

    base, db_path, _ = app
    db = store.open_db(db_path)
    with store.transaction(db):
        store.upsert_units(db, [{"code": "N1", "name": "通知县卫生健康局", "kind": "县区卫健局", "region": None,
                                 "monthly_minimum": None, "active": 1},
                                {"code": "N2", "name": "通知市人民医院", "kind": "医院", "region": None,
                                 "monthly_minimum": None, "active": 1}], "2026-11-01T00:00:00Z")
    mine, other = store.find_unit(db, "N1"), store.find_unit(db, "N2")
    auth.create_user(db, "corr1", "Corr-password-9", "correspondent", actor="test", unit_id=mine["id"])
    db.conn.close()
    page = log_in(browser, f"{base}/submissions", "corr1", "Corr-password-9")
    page.get_by_role("switch", name="新交办提示音").wait_for(timeout=WAIT_MS)
    # their menu: their unit's reporting and their account, under a section named for them
    menu = page.get_by_test_id("stSidebarNav").inner_text()
    assert "本单位" in menu and "信息报送" in menu and "舆情监测" not in menu
    theirs = raise_on(db_path, fresh_item(db_path, "r1", "喝板蓝根能预防一切病毒"), "二级", "需属地核实")
    db = store.open_db(db_path)
    try:
        referrals.refer(db, theirs, other["id"], "请核实。", actor="monitor1", now=now_utc(), hours=4)
        referrals.refer(db, theirs, mine["id"], "请核实本县情况并反馈。", actor="monitor1", now=now_utc(), hours=4)
    finally:
        db.conn.close()
    notice = toasts(page, "新的交办事项")
    notice.wait_for(timeout=WAIT_MS)
    assert f"预警 #{theirs}" in notice.inner_text() and "前核实并反馈" in notice.inner_text()
    assert notice.get_by_role("link", name="去反馈").get_attribute("href").endswith("submissions")
    # and its chime (its player is drawn with the notice, and may attach just after the toast shows)
    page.locator('[class*="st-key-notice_chime_r"] audio').wait_for(state="attached", timeout=WAIT_MS)
    assert page.locator('[class*="st-key-notice_chime_r"] audio').count() == 1
    page.wait_for_timeout(2500)
    assert toasts(page, "新的交办事项").count() == 1  # the other unit's referral of the same alert: not theirs
    # nor the alert itself: the alerts are the monitors' news (their notice's link is 查看)
    assert page.get_by_test_id("stToast").get_by_role("link", name="查看").count() == 0
    page.close()


def test_a_role_that_does_not_handle_alerts_gets_no_notices(app, browser):
    base, db_path, ids = app
    page = log_in(browser, f"{base}/search", ANALYST, ANALYST_PASSWORD)
    page.get_by_role("heading").first.wait_for(timeout=WAIT_MS)
    alert_id = raise_on(db_path, ids["n2"], "一级", "分析员不处置预警")
    page.wait_for_timeout(3000)
    assert page.get_by_role("switch", name="新预警提示音").count() == 0
    assert toasts(page, f"#{alert_id}").count() == 0
    page.close()
