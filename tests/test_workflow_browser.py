"""The response workflow in a real browser (headless Chromium via Playwright, Debian's chromium).

A monitor confirms a suggested expert; that expert declines and the task is reassigned to the next
suggestion, who sees it in their own workbench. A second alert goes assign → accept → draft →
review (by another expert) → publish, and the item's whole cluster then shows as clarified.
Chromium missing is a failure, never a skip.
"""

from __future__ import annotations

import json
from datetime import datetime, timezone

import pytest
from local_servers import (
    page_messages,
    require_chromium,
    running_dashboard,
    wait_for_idle,
    wait_for_rerun,
)
from playwright.sync_api import Error as PlaywrightError
from workflow_helpers import PASSWORD, seed_workflow_db

from rumourwatch import experts, store
from rumourwatch.config import REPO_ROOT

pytestmark = pytest.mark.browser

WAIT_MS = 30_000


@pytest.fixture(scope="module")
def app(tmp_path_factory):
    require_chromium()
    tmp = tmp_path_factory.mktemp("workflow_browser")
    db_path = tmp / "workflow.db"
    info = seed_workflow_db(db_path, datetime.now(timezone.utc).replace(microsecond=0))
    with running_dashboard(tmp, RUMOURWATCH_DB_PATH=str(db_path), RUMOURWATCH_MODELS_DIR=str(tmp / "no-models"),
                           RUMOURWATCH_ALERT_RULES=str(REPO_ROOT / "config" / "alert_rules.toml")) as base:
        yield base, db_path, info


@pytest.fixture(scope="module")
def sessions(browser):
    """One logged-in tab per user for the module (logging in again would only cost time)."""
    pages: dict = {}
    yield pages
    for page in pages.values():
        page.context.close()


def login(browser, base: str, username: str, nav: str, alert_id: int | None = None, sessions=None):
    """A browser context (its own session) logged in as `username`, on the page `nav` of the
    sidebar. The session lives in the browser tab, so pages are reached by the app's own links."""
    page = (sessions or {}).get(username)
    if page is None:
        context = browser.new_context(viewport={"width": 1440, "height": 2400}, locale="zh-CN")
        page = context.new_page()
        page.goto(base + "/")
        page.get_by_label("用户名").fill(username)
        page.get_by_label("密码").fill(PASSWORD)
        page.get_by_role("button", name="登录", exact=True).click()
        page.get_by_text("当前用户").first.wait_for(timeout=WAIT_MS)
        if sessions is not None:
            sessions[username] = page
    goto(page, nav, alert_id)
    return page


def goto(page, nav: str, alert_id: int | None = None) -> None:
    """Open a page from the sidebar (and an alert on the 预警 page); also how a view is refreshed."""
    page.get_by_role("link", name=nav).click()
    # .first: while the page reruns, the old run's copy of the heading can still be on screen
    # (strict mode failed a clean-clone run with two 专家工作台 headings)
    page.get_by_role("heading", name={"预警": "预警与处置时限", "专家工作台": "专家工作台"}[nav]).first.wait_for(
        timeout=WAIT_MS)
    if alert_id is not None:
        # The sidebar click may still be rerunning the page when the id is typed, and a rerun can
        # reset the box: type and open again (at most three times) until the alert's heading shows.
        # While it reruns, the old page's box is still shown beside the new one: wait for one.
        heading = page.get_by_role("heading", name=f"预警 #{alert_id}（")
        for attempt in range(3):
            try:
                page.wait_for_function("document.querySelectorAll('[aria-label=\"预警编号\"]').length === 1",
                                       timeout=WAIT_MS // 3)
                fill(page, "预警编号", str(alert_id))
                # Streamlit's English hint under a focused box ("Press Enter to submit form") is not shown
                assert page.get_by_text("Press Enter").filter(visible=True).count() == 0
                page.get_by_role("button", name="查看预警").click()
                heading.wait_for(timeout=WAIT_MS // 3)
                return
            except PlaywrightError:
                if attempt == 2:
                    raise


def click(page, name: str) -> None:
    wait_for_idle(page)
    page.get_by_role("button", name=name).click()
    try:
        page.get_by_text("已完成：" + name).first.wait_for(timeout=WAIT_MS)
    except PlaywrightError as exc:  # say what the page said instead (a refusal, an error)
        raise AssertionError(f"pressing {name!r} did not report success; the page shows: "
                             f"{page_messages(page)}") from exc


def fill(page, label: str, value: str) -> None:
    """Type into a box. The workflow's boxes sit in forms with their buttons, so the value goes
    with the press; a box outside a form is committed (Tab) and its rerun awaited."""
    wait_for_idle(page)
    box = page.get_by_label(label)
    box.fill(value)
    if not box.evaluate("e => e.closest('[data-testid=\"stForm\"]') !== null"):
        box.press("Tab")
        wait_for_rerun(page)


def _db(db_path):
    return store.open_db(db_path)


def _alert_for(db, copies: int) -> int:
    return next(a["id"] for a in store.list_alerts(db) if a["item_count"] == copies)


def test_declined_assignment_is_reassigned_to_the_next_suggestion(app, browser, sessions):
    base, db_path, info = app
    db = _db(db_path)
    alert_id = _alert_for(db, 1)
    ranked = experts.suggest_experts(db, alert_id)
    first, second = ranked[0], ranked[1]
    monitor = login(browser, base, "monitor1", "预警", alert_id, sessions=sessions)
    click(monitor, f"指派给 {first['name']}")
    [offer] = store.alert_assignments(db, alert_id)
    assert (offer["expert_id"], offer["status"], offer["assigned_by"]) == (first["expert_id"], "offered", "monitor1")

    user_of = {v: k for k, v in {"li": info["experts"]["李样本"], "zhang": info["experts"]["张示例"],
                                  "wang": info["experts"]["王虚构"], "qian": info["experts"]["钱测试"]}.items()}
    declining = login(browser, base, user_of[first["expert_id"]], "专家工作台", sessions=sessions)
    # typed and pressed at once, as a hurried expert does: the reason goes with the press
    wait_for_idle(declining)
    declining.get_by_label(f"婉拒理由（任务 #{offer['id']}）").fill("时间冲突，无法在时限内完成")
    click(declining, f"婉拒任务 #{offer['id']}")
    old, new = store.alert_assignments(db, alert_id)
    assert old["status"] == "declined" and old["decline_reason"] == "时间冲突，无法在时限内完成"
    assert (new["expert_id"], new["status"], new["assigned_by"]) == (second["expert_id"], "offered", "system:reassign")
    # the next expert finds it in their own queue; the one who declined no longer does
    nxt = login(browser, base, user_of[second["expert_id"]], "专家工作台", sessions=sessions)
    nxt.get_by_role("button", name=f"接受任务 #{new['id']}").wait_for(timeout=WAIT_MS)
    goto(declining, "专家工作台")
    # .first: while the page reruns, Streamlit can show the old run's copy of the message beside the
    # new one for a moment (CI met both at once: a strict-mode error, not a missing message)
    declining.get_by_text("暂无待处理任务").first.wait_for(timeout=WAIT_MS)


def test_assign_accept_draft_review_publish_clarifies_the_whole_cluster(app, browser, sessions):
    base, db_path, info = app
    db = _db(db_path)
    alert_id = _alert_for(db, 3)
    monitor = login(browser, base, "monitor1", "预警", alert_id, sessions=sessions)
    # the 5 h clock (its metric: the alert table above has the same words in a hidden grid cell)
    monitor.get_by_test_id("stMetric").get_by_text("剩余 4 小时").first.wait_for(timeout=WAIT_MS)
    top = experts.suggest_experts(db, alert_id)[0]
    assert top["name"] == "李样本"
    click(monitor, "指派给 李样本")
    [task] = [a for a in store.alert_assignments(db, alert_id) if a["status"] == "offered"]

    li = login(browser, base, "li", "专家工作台", sessions=sessions)
    li.get_by_text("淡盐水").first.wait_for(timeout=WAIT_MS)  # the item's text, shown as text
    click(li, f"接受任务 #{task['id']}")
    fill(li, "澄清标题", "喝淡盐水不能预防示例病毒感染")
    fill(li, "澄清正文", "示例澄清：目前没有证据表明淡盐水可以预防病毒感染，请以权威机构发布的信息为准。")
    fill(li, "参考资料", "《健康素养66条》（示例引用）")
    # the claim is suggested from the item, for the expert to state as a post would
    claim = li.get_by_role("textbox", name="所澄清的说法")  # (the label's help button has the name too)
    assert "喝淡盐水可以彻底预防示例病毒感染" in claim.input_value()
    claim.fill("喝淡盐水可以预防示例病毒感染")
    click(li, f"保存草稿（任务 #{task['id']}）")
    click(li, f"提交审核（任务 #{task['id']}）")
    [clar] = store.clarifications_for_alert(db, alert_id)
    assert clar["status"] == "in_review" and clar["author"] == "li"
    assert clar["claim"] == "喝淡盐水可以预防示例病毒感染"
    goto(li, "专家工作台")
    # an author never reviews their own draft (.first: while the page reruns, the old run's copy of
    # the line can still be on screen beside the new one)
    li.get_by_text("暂无待审核稿件").first.wait_for(timeout=WAIT_MS)
    assert li.get_by_role("button", name=f"通过审核 #{clar['id']}").count() == 0

    zhang = login(browser, base, "zhang", "专家工作台", sessions=sessions)
    click(zhang, f"通过审核 #{clar['id']}")
    fill(zhang, f"发布链接（稿件 #{clar['id']}）", "https://example.org/piyao/2026/001")
    click(zhang, f"记录发布 #{clar['id']}")

    alert = store.get_alert(db, alert_id)
    assert alert["status"] == "published" and alert["responded_at"] is not None
    for item_id in info["copies"]:
        assert experts.item_clarification(db, item_id)["published_url"] == "https://example.org/piyao/2026/001"
    steps = [s["step"] for s in store.alert_steps(db, alert_id)]
    assert steps[-6:] == ["assigned", "accepted", "drafted", "submitted", "approved", "published"]

    goto(monitor, "预警", alert_id)
    monitor.get_by_text("该条目所在的整组相似条目已澄清").wait_for(timeout=WAIT_MS)
    monitor.get_by_text("已澄清").first.wait_for(timeout=WAIT_MS)


def test_a_row_of_the_alert_list_opens_that_alert(app, browser, sessions):
    """A monitor works down the list: clicking a row opens that alert below, without typing its number."""
    import re

    base, db_path, _ = app
    known = {a["id"] for a in store.list_alerts(_db(db_path))}
    monitor = login(browser, base, "monitor1", "预警", sessions=sessions)
    table = monitor.locator("[data-testid='stDataFrame']").first
    opened = []
    for row in (0, 1):
        table.wait_for(timeout=WAIT_MS)
        wait_for_idle(monitor)
        box = table.bounding_box()
        # the grid is a canvas: click the selection cell of data row `row` (header and rows are 35 px)
        monitor.mouse.click(box["x"] + 15, box["y"] + 35 + 35 * row + 17)
        heading = monitor.get_by_role("heading", name=re.compile(r"^预警 #\d+（"))
        monitor.wait_for_function(f"new URL(location.href).searchParams.get('alert') !== "
                                  f"{json.dumps(str(opened[-1]) if opened else None)}", timeout=WAIT_MS)
        alert_id = int(re.search(r"[?&]alert=(\d+)", monitor.url).group(1))
        heading.filter(has_text=f"预警 #{alert_id}（").first.wait_for(timeout=WAIT_MS)
        opened.append(alert_id)
    assert len(set(opened)) == 2 and set(opened) <= known  # two rows, two alerts
