"""The live dashboard in a real browser: headless Chromium (Debian's) driven by Playwright.

Starts `streamlit run dashboard/streamlit_app.py` on a temporary store, logs in as a monitor, appends
an item while the page is open (as a replay would) and expects it on the page without a reload.
Chromium missing is a failure, not a skip: CI installs it.
"""

from __future__ import annotations

import re
import warnings

import dashboard_fixtures as fx
import pytest
from local_servers import wait_for_idle
from playwright.sync_api import TimeoutError as PlaywrightTimeout

from rumourwatch.store import now_utc

pytestmark = pytest.mark.browser

SCREENSHOTS = fx.ROOT / "screenshots"
NEW_TEXT = "最新消息：网传生姜煮水可以代替降压药，医生提醒高血压患者切勿自行停药。"
WAIT_MS = 30_000


@pytest.fixture(scope="module")
def app(tmp_path_factory):
    """A running dashboard on a fixture store; yields (base url, db path, fixture ids)."""
    with fx.served_store(tmp_path_factory.mktemp("browser")) as served:
        yield served


def open_logged_in(browser, url: str):
    page = browser.new_page(viewport={"width": 1440, "height": 1900}, locale="zh-CN")
    dialogs: list[str] = []
    page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
    page.goto(url)
    page.get_by_label("用户名").fill(fx.MONITOR)
    page.get_by_label("密码").fill(fx.MONITOR_PASSWORD)
    page.get_by_role("button", name="登录", exact=True).click()
    return page, dialogs


def show_whole_period(page, line: str = "共 6 条：") -> None:
    """The live page opens on today (Beijing). The fixture's recent items are published 5 to 50
    minutes before now, so shortly after Beijing midnight some of them are yesterday's: a check on
    them must look at the whole period, or it fails between 00:00 and 00:50 China time. Its `line`:
    the six health items (the page's default), or 共 7 条 with 仅健康相关 unticked."""
    page.get_by_text("全部", exact=True).click()
    page.get_by_text(line).wait_for(timeout=WAIT_MS)


def test_new_items_appear_on_the_live_page_without_a_reload(app, browser):
    base, db_path, _ = app
    # the whole feed (仅健康相关 unticked): a new item is not known to be about health until scored
    page, dialogs = open_logged_in(browser, base + "/?health=0")
    page.get_by_role("heading", name="当前最可能的谣言").wait_for(timeout=WAIT_MS)
    show_whole_period(page, "共 7 条：")
    page.get_by_text(fx.EXPECTED_OPINION_ALL_7D).wait_for(timeout=WAIT_MS)  # all seven fixture items
    assert page.get_by_text(NEW_TEXT).count() == 0

    fx.append_item(db_path, "live-new-1", NEW_TEXT, now=now_utc())

    # The live fragment refreshes every second: the item shows up, and the report line counts it
    # as not yet scored, with no navigation or reload on our side.
    page.get_by_text(NEW_TEXT).first.wait_for(state="attached", timeout=WAIT_MS)
    page.get_by_text("另有 2 条尚未评分").wait_for(timeout=WAIT_MS)
    assert page.url.split("?")[0].rstrip("/") == base  # (the address holds the period chosen: ?range=all)
    assert not dialogs

    SCREENSHOTS.mkdir(exist_ok=True)
    page.wait_for_timeout(1500)  # let the charts finish drawing
    page.screenshot(path=str(SCREENSHOTS / "live_monitor.png"))
    page.close()


def where(page) -> str:
    """The page's url and first headings, to say where a click led."""
    return f"{page.url}, headings {[h.inner_text() for h in page.get_by_role('heading').all()][:6]}"


def back_to_live(page, base: str) -> None:
    """Open the live page again as a user would (the session cookie keeps the login)."""
    page.goto(base + "/")
    page.get_by_role("heading", name="当前最可能的谣言").wait_for(timeout=WAIT_MS)
    show_whole_period(page)


def test_selecting_a_top_rumour_opens_its_item_view(app, browser):
    base, db_path, ids = app
    page, _ = open_logged_in(browser, base + "/")
    live_heading = page.get_by_role("heading", name="当前最可能的谣言")
    live_heading.wait_for(timeout=WAIT_MS)
    show_whole_period(page)
    heading = page.get_by_role("heading", name=f"条目 #{ids['w1']}")
    text = page.locator("[data-testid='stText']").filter(has_text=fx.VINEGAR)
    back = page.get_by_role("button", name="返回实时监测")
    # The grid is a canvas: click the selection cell of its first data row (header and rows are 35 px).
    # The fragment redraws the table every second here; a click that lands mid-redraw is retried,
    # as a user would click again, and one that led elsewhere goes back to the live page first.
    # The item view counts as open once its heading and text show and are still there 1.5 s later:
    # before ui.open_item dropped the refreshing fragment, the view went blank just after the switch
    # in 7 of 20 runs of this file (a Streamlit race, see the README's known issues); a user reloads
    # or clicks again. Each miss is a warning; a miss on every try fails.
    table = page.locator("[data-testid='stDataFrame']").first  # the top-rumours table
    misses: list[str] = []
    for attempt in range(6):
        try:
            table.wait_for(timeout=WAIT_MS)  # a redraw can take the table off the page for a moment
        except PlaywrightTimeout:
            misses.append(f"try {attempt}: no table for {WAIT_MS // 1000} s at {where(page)}")
            back_to_live(page, base)
            continue
        box = table.bounding_box()
        if box is None:
            continue
        page.mouse.click(box["x"] + 15, box["y"] + 35 + 17)
        try:
            heading.wait_for(timeout=15_000)
            text.wait_for(timeout=15_000)
            page.wait_for_timeout(1500)
            if heading.is_visible() and text.is_visible() and back.is_visible():
                break
            misses.append(f"try {attempt}: the item view went blank at {where(page)}")
        except PlaywrightTimeout:
            misses.append(f"try {attempt}: the click led to {where(page)}")
        if live_heading.count() == 0:
            back_to_live(page, base)
    else:
        SCREENSHOTS.mkdir(exist_ok=True)
        page.screenshot(path=str(SCREENSHOTS / "top_rumour_click_failed.png"))
        log = (db_path.parent / "streamlit.log").read_text(encoding="utf-8", errors="replace")
        pytest.fail(f"no click opened item #{ids['w1']}:\n" + "\n".join(misses)
                    + f"\nstreamlit log (end):\n{log[-3000:]}")
    if misses:
        warnings.warn(f"opening item #{ids['w1']} took {len(misses) + 1} clicks: " + "; ".join(misses),
                      stacklevel=1)
    # The browser's Back returns to the live page: it used to land on /?item=ID, which the live page
    # forwarded straight to the item again, so the user stayed on the item view.
    page.go_back()
    live_heading.wait_for(timeout=WAIT_MS)
    page.wait_for_timeout(1500)
    assert live_heading.is_visible() and heading.count() == 0, where(page)
    assert page.get_by_role("radio", name="全部", exact=True).is_checked()  # the period chosen is kept
    page.go_forward()
    heading.wait_for(timeout=WAIT_MS)
    back.click()
    live_heading.wait_for(timeout=WAIT_MS)
    page.close()


def test_hostile_item_text_is_shown_as_text_in_the_browser(app, browser):
    base, _, ids = app
    # `?item=ID` on the main url survives the login (the monitor page forwards it to the item view).
    page, dialogs = open_logged_in(browser, f"{base}/?item={ids['h1']}")
    page.get_by_text("紧急通知：大蒜泡水连喝七天").first.wait_for(timeout=WAIT_MS)
    body = page.locator("[data-testid='stText']").first.inner_text()
    assert "<script>alert(1)</script>" in body
    assert "[领取免费体检](javascript:alert(2))" in body
    assert page.locator("a[href^='javascript']").count() == 0
    page.wait_for_timeout(1500)
    assert not dialogs  # no script ran
    page.screenshot(path=str(SCREENSHOTS / "item_view.png"))
    page.close()


def test_sources_page_renders_rejects_in_the_browser(app, browser):
    base, _, _ = app
    page, dialogs = open_logged_in(browser, base + "/")
    page.get_by_role("link", name="数据源与质量").click()
    page.get_by_role("heading", name="数据源与质量").wait_for(timeout=WAIT_MS)
    # the failing source's banner (its English error is folded away under 技术细节)
    page.get_by_text("原因见下方技术细节").first.wait_for(timeout=WAIT_MS)
    # The newest reject's raw payload, verbatim (spaces kept) in a code block.
    page.locator("[data-testid='stCode']").filter(has_text='"text": "   "').wait_for(timeout=WAIT_MS)
    assert not dialogs
    page.screenshot(path=str(SCREENSHOTS / "sources.png"))
    page.close()



def test_analyst_opens_a_flag_the_verdict_contradicted_from_the_model_page(app, browser):
    base, db_path, ids = app
    fx.add_verdicts(db_path, ids, now=now_utc())
    page = browser.new_page(viewport={"width": 1440, "height": 2400}, locale="zh-CN")
    page.goto(base + "/models")
    page.get_by_label("用户名").fill(fx.ANALYST)
    page.get_by_label("密码").fill(fx.ANALYST_PASSWORD)
    page.get_by_role("button", name="登录", exact=True).click()
    page.get_by_role("heading", name="上线表现：预警与人工核定对照").wait_for(timeout=WAIT_MS)
    page.get_by_text("共 2 条，按模型把握程度排序").wait_for(timeout=WAIT_MS)
    # The disagreements table: its first row is f1, the 4 % score on an item confirmed as a rumour.
    table = page.locator("[data-testid='stDataFrame']").filter(has=page.get_by_text("核定前评分"))
    heading = page.get_by_role("heading", name=f"条目 #{ids['f1']}")
    wait_for_idle(page, WAIT_MS)  # a click on a table the run is still drawing can be lost
    box = table.first.bounding_box()
    page.mouse.click(box["x"] + 15, box["y"] + 35 + 17)
    heading.wait_for(timeout=WAIT_MS)
    page.locator("[data-testid='stText']").filter(has_text=fx.FLU_SHOT).wait_for(timeout=WAIT_MS)
    page.close()


def test_a_reload_keeps_the_live_filters_and_their_address_opens_them_elsewhere(app, browser):
    """The filters chosen are in the address: a reload keeps them, and the address sent to a
    colleague (another browser, who logs in first) opens the page filtered the same way."""
    base, _, _ = app
    page, dialogs = open_logged_in(browser, base + "/")
    page.get_by_role("heading", name="当前最可能的谣言").wait_for(timeout=WAIT_MS)
    health = page.get_by_role("checkbox", name="仅健康相关")
    assert health.is_checked()  # by default, as the reports count
    show_whole_period(page)
    wait_for_idle(page, WAIT_MS)
    health_line = page.get_by_text(re.compile(r"^共 \d+ 条：")).first.inner_text()
    page.get_by_text("仅健康相关", exact=True).click()
    page.wait_for_function("new URL(location.href).searchParams.get('health') === '0'", timeout=WAIT_MS)
    assert "range=all" in page.url, page.url
    wait_for_idle(page, WAIT_MS)  # the address is written before the line is drawn again
    filtered = page.get_by_text(re.compile(r"^共 \d+ 条：")).first
    filtered.wait_for(timeout=WAIT_MS)
    line = filtered.inner_text()
    assert line != health_line and line.startswith("共 7 条"), (line, health_line)  # + the weather post

    # Away by the sidebar and back: the filters stay, and Back still returns to the page before
    # (a write of the address on arrival was a step of the history: Back stayed on this page).
    live_heading = page.get_by_role("heading", name="当前最可能的谣言")
    page.get_by_role("link", name="数据源与质量").click()
    sources_heading = page.get_by_role("heading", name="数据源与质量")
    sources_heading.wait_for(timeout=WAIT_MS)
    page.get_by_role("link", name="实时监测").click()
    live_heading.wait_for(timeout=WAIT_MS)
    page.get_by_text(line, exact=True).wait_for(timeout=WAIT_MS)
    wait_for_idle(page, WAIT_MS)
    page.go_back()
    sources_heading.wait_for(timeout=WAIT_MS)
    page.go_back()
    live_heading.wait_for(timeout=WAIT_MS)
    page.get_by_text(line, exact=True).wait_for(timeout=WAIT_MS)
    assert "health=0" in page.url, page.url

    page.reload()
    page.get_by_role("heading", name="当前最可能的谣言").wait_for(timeout=WAIT_MS)
    page.get_by_text(line, exact=True).wait_for(timeout=WAIT_MS)
    assert not health.is_checked() and page.get_by_role("radio", name="全部", exact=True).is_checked()
    address = page.url
    page.close()

    other, other_dialogs = open_logged_in(browser, address)
    other.get_by_text(line, exact=True).wait_for(timeout=WAIT_MS)
    assert not other.get_by_role("checkbox", name="仅健康相关").is_checked()
    assert not dialogs and not other_dialogs
    other.close()
