"""Login and roles in a real browser: headless Chromium (Debian's) driven by Playwright.

Each role logs in and finds exactly its pages in the navigation, and cannot open another role's page
by typing its address; a wrong password gets a clear Chinese error; an expired session goes back to
the login form with a note; reloading the page or opening another tab keeps the login until logout.
Chromium missing is a failure, not a skip.
"""

from __future__ import annotations

import csv
import io
import json
import re
from datetime import timedelta
from pathlib import Path

import pytest
from local_servers import APP, require_chromium, running_dashboard, wait_for_idle
from playwright.sync_api import TimeoutError as PlaywrightTimeout
from playwright.sync_api import expect

from rumourwatch import audit, auth, store

pytestmark = pytest.mark.browser

PASSWORD = "browser pw 1"
USERS = {"root": "admin", "mon": "monitor", "wang": "expert", "ana": "analyst", "boss": "leader"}
WAIT_MS = 30_000


def _app_pages() -> list[tuple[str, str]]:
    """(url_path, title) of every page registered in the navigation, read from streamlit_app.py."""
    from dashboard.strings import t

    source = APP.read_text(encoding="utf-8")
    pages = []
    for title, url in re.findall(r'st\.Page\("[^"]+",\s*title=t\("([^"]+)"\).*?url_path="([^"]+)"', source, flags=re.S):
        pages.append((url, t(title)))
    assert len(pages) >= 5, pages
    return pages


@pytest.fixture(scope="module")
def app(tmp_path_factory):
    require_chromium()
    tmp = tmp_path_factory.mktemp("auth-browser")
    db_path = tmp / "auth.db"
    db = store.open_db(db_path)
    for name, role in USERS.items():
        auth.create_user(db, name, PASSWORD, role, "test", expert_id=1 if role == "expert" else None)
    db.conn.close()
    with running_dashboard(tmp, RUMOURWATCH_DB_PATH=str(db_path), RUMOURWATCH_MODELS_DIR=str(tmp / "no-models"),
                           RUMOURWATCH_MAX_LOGIN_FAILURES="5") as base:
        yield base, db_path


def _login(browser, url: str, username: str, password: str = PASSWORD):
    """Log in on a new page: of a new browser context when `browser` is the Browser, or a new tab
    of `browser` when it is a BrowserContext (tabs share its cookies)."""
    if hasattr(browser, "new_context"):
        page = browser.new_page(viewport={"width": 1440, "height": 1200}, locale="zh-CN")
    else:
        page = browser.new_page()
    dialogs: list[str] = []
    page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
    page.goto(url)
    page.get_by_label("用户名").fill(username)
    page.get_by_label("密码").fill(password)
    page.get_by_role("button", name="登录", exact=True).click()
    return page, dialogs


def _nav_titles(page) -> list[str]:
    nav = page.locator("[data-testid='stSidebarNav']")
    nav.wait_for(timeout=WAIT_MS)
    more = nav.get_by_role("button", name=re.compile("View|more|更多"))
    if more.count():
        more.first.click()
    # A link's text is its Material icon name, then its title on the last line.
    return sorted(t.strip().splitlines()[-1].strip() for t in nav.locator("a").all_inner_texts() if t.strip())


ROLE_LABEL = {"admin": "管理员", "monitor": "舆情监测员", "expert": "专家", "analyst": "分析员", "leader": "领导"}


@pytest.mark.parametrize("username", list(USERS))
def test_each_role_sees_only_its_pages(app, browser, username):
    base, _ = app
    role = USERS[username]
    pages = _app_pages()
    expected = sorted(title for url, title in pages if auth.page_allowed(role, url))
    page, dialogs = _login(browser, base + "/", username)
    page.get_by_text(f"当前用户：{username}（{ROLE_LABEL[role]}）").wait_for(timeout=WAIT_MS)
    if expected:
        assert _nav_titles(page) == expected
    else:
        page.get_by_text("暂无可用页面").wait_for(timeout=WAIT_MS)
    page.get_by_role("button", name="退出登录").wait_for(timeout=WAIT_MS)
    assert not dialogs
    page.close()
    # Typing the address of a page the role may not open (then logging in there) does not open it.
    # (A typed address is a new browser session, so it starts at the login form.)
    for url, title in pages:
        # The monitor tries user management; the leader tries the alert rules (a leader cannot change rules).
        if auth.page_allowed(role, url) or (role, url) not in (("monitor", "users"), ("leader", "rules")):
            continue
        page, dialogs = _login(browser, f"{base}/{url}", username)
        page.get_by_text(f"当前用户：{username}").wait_for(timeout=WAIT_MS)
        page.wait_for_timeout(500)
        assert page.get_by_role("heading", name=title, exact=True).count() == 0, (username, url)
        if url == "users":
            assert page.get_by_text("新增账号").count() == 0
        assert not dialogs
        page.close()


def test_admin_opens_user_management_and_audit(app, browser):
    base, db_path = app
    page, _ = _login(browser, f"{base}/users", "root")
    page.get_by_role("heading", name="用户管理").wait_for(timeout=WAIT_MS)
    page.get_by_text("新增账号").first.wait_for(timeout=WAIT_MS)
    page.locator("[data-testid='stSidebarNav'] a", has_text="审计日志").click()
    page.get_by_role("heading", name="审计日志").wait_for(timeout=WAIT_MS)
    page.get_by_text("user.add").first.wait_for(state="attached", timeout=WAIT_MS)  # a grid cell
    wait_for_idle(page)
    page.get_by_role("button", name=re.compile("导出 CSV")).click()  # the file is made, and the export recorded
    button = page.get_by_test_id("stDownloadButton").get_by_role("button", name=re.compile("下载 审计日志_"))
    expect(button).to_be_enabled(timeout=WAIT_MS)
    wait_for_idle(page)
    with page.expect_download(timeout=WAIT_MS) as download:
        button.click()
    assert re.fullmatch(r"审计日志_\d{4}-\d\d-\d\d_\d{4}-\d\d-\d\d\.csv", download.value.suggested_filename)
    rows = list(csv.reader(io.StringIO(Path(download.value.path()).read_text(encoding="utf-8-sig"))))
    assert rows[0] == list(audit.CSV_HEADER)
    assert [r[1:6] for r in rows if r[3] == "user.add" and r[5] == "账号 mon"] == [
        ["test", "新增账号", "user.add", "账号", "账号 mon"]]
    assert any(r[1:4] == ["root", "登录", "login"] for r in rows)
    # taking the log away is itself in the log, under the administrator's name
    exports = store.audit_entries(store.open_db(db_path, read_only=True), actions=["audit.export"])
    assert [(e["actor"], json.loads(e["details"])["rows"]) for e in exports] == [("root", len(rows) - 1)]
    page.close()


def test_wrong_password_shows_a_chinese_error_and_stays_on_login(app, browser):
    base, _ = app
    page, _ = _login(browser, base + "/", "mon", "not the password")
    page.get_by_text("用户名或密码错误，请重新输入。").wait_for(timeout=WAIT_MS)
    page.get_by_label("密码").wait_for(timeout=WAIT_MS)
    assert page.get_by_text("当前用户：").count() == 0
    page.close()


def test_expired_session_returns_to_login_with_a_note(app, browser):
    base, db_path = app
    page, _ = _login(browser, base + "/", "ana")
    page.get_by_text("当前用户：ana（分析员）").wait_for(timeout=WAIT_MS)
    # The run after the login is over before the session is dated back: a run still drawing would
    # find it idle itself and show the note to nobody (CI saw it once the sidebar read the store too).
    wait_for_idle(page, WAIT_MS)
    # The analyst walks away: make their last activity 31 minutes old (idle limit 30).
    db = store.open_db(db_path)
    user = store.get_user(db, "ana")
    db.execute("UPDATE sessions SET last_seen_at = ? WHERE user_id = ? AND ended_at IS NULL",
               [store.iso(store.now_utc() - timedelta(minutes=31)), user["id"]])
    db.conn.close()
    # Any action reruns the app: open another page (not the current one, which would not rerun).
    page.locator("[data-testid='stSidebarNav'] a", has_text="数据源与质量").click()
    page.get_by_text("登录已超时（超过 30 分钟无操作），请重新登录。").wait_for(timeout=WAIT_MS)
    page.get_by_label("密码").wait_for(timeout=WAIT_MS)
    page.wait_for_timeout(1000)  # let the run finish, so elements of the previous page are gone
    assert page.get_by_text("当前用户：").count() == 0
    page.close()


def test_logout_returns_to_login(app, browser):
    base, _ = app
    page, _ = _login(browser, base + "/", "boss")
    page.get_by_text("当前用户：boss（领导）").wait_for(timeout=WAIT_MS)
    page.get_by_role("button", name="退出登录").click()
    page.get_by_label("密码").wait_for(timeout=WAIT_MS)
    page.wait_for_timeout(1000)
    assert page.get_by_text("当前用户：").count() == 0
    page.close()


def _logged_in_as(page, text: str) -> bool:
    page.wait_for_timeout(1500)  # let the run finish: the login form or the user box
    return page.get_by_text(text).count() > 0


def _session_cookies(context) -> list[dict]:
    return [c for c in context.cookies() if c["name"].startswith("rw_session")]


def _wait_for_cookie(page, present: bool = True) -> None:
    """Until the browser holds (or no longer holds) the dashboard's session cookie."""
    script = "document.cookie.split('; ').some(c => c.startsWith('rw_session_') && c.split('=')[1])"
    page.wait_for_function(script if present else f"!({script})", timeout=WAIT_MS)


def _new_browser(browser):
    return browser.new_context(viewport={"width": 1440, "height": 1200}, locale="zh-CN")


def _monitor_in_two_tabs(browser, base: str, second_url: str):
    """(context, first tab, second tab): "mon" logs in on the first; the second, opened on
    `second_url` in the same browser, is logged in by the cookie."""
    context = _new_browser(browser)
    first, _ = _login(context, base + "/", "mon")
    first.get_by_text("当前用户：mon（舆情监测员）").wait_for(timeout=WAIT_MS)
    _wait_for_cookie(first)
    second = context.new_page()
    second.goto(second_url)
    second.get_by_text("当前用户：mon（舆情监测员）").wait_for(timeout=WAIT_MS)
    return context, first, second


def test_reloading_or_a_second_tab_keeps_the_login_until_logout(app, browser):
    """A monitor who presses F5 or opens an alert in a new tab is still logged in; after logging
    out, neither the reloaded page nor the other tab is, and the server no longer knows the token."""
    base, db_path = app
    context = _new_browser(browser)
    page, dialogs = _login(context, base + "/", "mon")
    page.get_by_text("当前用户：mon（舆情监测员）").wait_for(timeout=WAIT_MS)
    _wait_for_cookie(page)
    cookie = _session_cookies(context)
    assert len(cookie) == 1 and cookie[0]["sameSite"] == "Strict" and cookie[0]["expires"] == -1  # dies with the browser
    assert cookie[0]["name"] == "rw_session_" + base.rsplit(":", 1)[1]  # one per dashboard (port)
    page.reload()
    page.get_by_text("当前用户：mon（舆情监测员）").wait_for(timeout=WAIT_MS)
    assert page.get_by_label("密码").count() == 0
    other = context.new_page()   # another tab of the same browser
    other.goto(f"{base}/sources")
    other.get_by_text("当前用户：mon（舆情监测员）").wait_for(timeout=WAIT_MS)
    other.get_by_role("heading", name="数据源与质量").wait_for(timeout=WAIT_MS)
    other.close()
    # another browser (a new context: no cookie) starts at the login form
    stranger = browser.new_page()
    stranger.goto(base + "/")
    stranger.get_by_label("密码").wait_for(timeout=WAIT_MS)
    assert not _logged_in_as(stranger, "当前用户：")
    stranger.close()

    page.get_by_role("button", name="退出登录").click()
    page.get_by_label("密码").wait_for(timeout=WAIT_MS)
    _wait_for_cookie(page, present=False)
    page.reload()
    page.get_by_label("密码").wait_for(timeout=WAIT_MS)
    assert not _logged_in_as(page, "当前用户：")
    assert page.get_by_text("登录已超时").count() == 0  # a logout is not a time-out
    # the token the cookie held is dead on the server too: sending it by hand opens nothing
    context.add_cookies([{**cookie[0]}])
    page.reload()
    page.get_by_label("密码").wait_for(timeout=WAIT_MS)
    assert not _logged_in_as(page, "当前用户：")
    db = store.open_db(db_path)
    assert auth.session_user(db, cookie[0]["value"]) is None
    db.conn.close()
    assert not dialogs
    context.close()


def test_a_stale_tab_does_not_log_out_the_user_who_logged_in_since(app, browser):
    """Tab 2 still shows mon's page after mon logged out in tab 1 and ana logged in there: tab 2
    goes back to the login form (without a false time-out note), and ana's cookie stays."""
    base, _ = app
    context, first, second = _monitor_in_two_tabs(browser, base, f"{base}/sources")
    first.get_by_role("button", name="退出登录").click()
    first.get_by_label("用户名").wait_for(timeout=WAIT_MS)
    wait_for_idle(first, WAIT_MS)  # until the logout's run is over and the old page is gone
    first.get_by_label("用户名").fill("ana")
    first.get_by_label("密码").fill(PASSWORD)
    first.get_by_role("button", name="登录", exact=True).click()
    first.get_by_text("当前用户：ana（分析员）").wait_for(timeout=WAIT_MS)
    _wait_for_cookie(first)
    ana_cookie = _session_cookies(context)
    try:  # any action reruns tab 2 ...
        second.locator("[data-testid='stSidebarNav'] a", has_text="实时监测").click(timeout=5_000)
    except PlaywrightTimeout:  # ... unless its own refresh (every 5 s on this page) already went to the login
        pass
    second.get_by_label("密码").wait_for(timeout=WAIT_MS)
    assert second.get_by_text("登录已超时").count() == 0
    second.wait_for_timeout(1500)  # its run is over: had it cleared the cookie, it would be gone now
    assert _session_cookies(context) == ana_cookie
    first.reload()
    first.get_by_text("当前用户：ana（分析员）").wait_for(timeout=WAIT_MS)
    context.close()


def test_logging_in_through_an_item_link_keeps_the_login_on_reload(app, browser):
    """Alert messages link to /?item=ID; the page switches to the item view straight after the
    login, and the login must still reach the browser's cookie."""
    base, _ = app
    context = _new_browser(browser)
    page, _ = _login(context, base + "/?item=1", "mon")
    page.get_by_text("当前用户：mon（舆情监测员）").wait_for(timeout=WAIT_MS)
    _wait_for_cookie(page)
    page.reload()
    page.get_by_text("当前用户：mon（舆情监测员）").wait_for(timeout=WAIT_MS)
    context.close()


def test_a_reload_after_the_idle_limit_asks_for_the_password_again(app, browser):
    base, db_path = app
    context = _new_browser(browser)
    page, _ = _login(context, base + "/", "wang")
    page.get_by_text("当前用户：wang（专家）").wait_for(timeout=WAIT_MS)
    _wait_for_cookie(page)
    # The page's run after the login checks the session again as it draws the workbench: dated back
    # under a run still drawing, that check ends the session as idle and clears the cookie, and the
    # reload then finds no login at all (CI saw it on a loaded machine).
    wait_for_idle(page, WAIT_MS)
    db = store.open_db(db_path)
    user = store.get_user(db, "wang")
    db.execute("UPDATE sessions SET last_seen_at = ? WHERE user_id = ? AND ended_at IS NULL",
               [store.iso(store.now_utc() - timedelta(minutes=31)), user["id"]])
    db.conn.close()
    page.reload()
    page.get_by_text("登录已超时（超过 30 分钟无操作），请重新登录。").wait_for(timeout=WAIT_MS)
    assert not _logged_in_as(page, "当前用户：")
    _wait_for_cookie(page, present=False)
    context.close()


def test_a_self_refreshing_page_stops_showing_data_once_its_session_ends_elsewhere(app, browser):
    """The live page refreshes itself: after a logout in another tab of the same browser it goes
    back to the login form by itself, without anyone clicking in it."""
    base, _ = app
    context, watching, other = _monitor_in_two_tabs(browser, base, base + "/")
    other.get_by_role("button", name="退出登录").click()
    other.get_by_label("密码").wait_for(timeout=WAIT_MS)
    # the live page refreshes every 5 s (dashboard_refresh_seconds): nobody touches it
    watching.get_by_label("密码").wait_for(timeout=WAIT_MS)
    assert not _logged_in_as(watching, "当前用户：")
    context.close()


def test_two_step_login_asks_for_the_authenticator_code_after_the_password(app, browser):
    """An account with two-step login: the right password brings a code field, a wrong code a Chinese
    error, the app's code the login; the QR code to set it up draws on 我的账号."""
    from datetime import UTC, datetime

    from rumourwatch import totp

    base, db_path = app
    db = store.open_db(db_path)
    auth.create_user(db, "twostep", PASSWORD, "leader", "test")
    secret = auth.begin_two_step(db, "twostep")
    # set up a minute ago: the code that confirmed it is used (a code logs in once), today's is not
    set_up = datetime.now(UTC) - timedelta(minutes=1)
    auth.confirm_two_step(db, "twostep", totp.code(secret, set_up), now=set_up)
    db.conn.close()
    page, _ = _login(browser, base + "/", "twostep")
    code = page.get_by_role("textbox", name="动态验证码")
    code.wait_for(timeout=WAIT_MS)
    page.get_by_text("该账号已开启两步验证").wait_for(timeout=WAIT_MS)
    assert not _logged_in_as(page, "当前用户：")
    wait_for_idle(page, WAIT_MS)
    wrong = "000000" if totp.code(secret, datetime.now(UTC)) != "000000" else "111111"
    code.fill(wrong)
    page.get_by_role("button", name="登录", exact=True).click()
    page.get_by_text("动态验证码错误或已使用过").wait_for(timeout=WAIT_MS)
    wait_for_idle(page, WAIT_MS)  # the form drawn again after the error: typing into it before is lost
    code.fill(totp.code(secret, datetime.now(UTC)))
    page.get_by_role("button", name="登录", exact=True).click()
    page.get_by_text("当前用户：twostep（领导）").wait_for(timeout=WAIT_MS)
    page.goto(base + "/account")
    page.get_by_text("两步验证已开启").wait_for(timeout=WAIT_MS)
    page.close()


def test_a_role_that_must_use_two_step_login_sees_only_its_account_page_until_set_up(browser, tmp_path):
    """With two_step_roles = admin, an administrator without it reaches only 我的账号 (any other
    address says why), sets it up there from the key shown, and then has every page."""
    from datetime import UTC, datetime

    from rumourwatch import totp

    db_path = tmp_path / "strict.db"
    db = store.open_db(db_path)
    auth.create_user(db, "root", PASSWORD, "admin", "test")
    auth.create_user(db, "boss", PASSWORD, "leader", "test")
    db.conn.close()
    with running_dashboard(tmp_path, RUMOURWATCH_DB_PATH=str(db_path), RUMOURWATCH_TWO_STEP_ROLES="admin",
                           RUMOURWATCH_MODELS_DIR=str(tmp_path / "no-models")) as base:
        page, _ = _login(browser, base + "/", "root")
        page.get_by_text("本系统要求管理员账号使用两步验证").wait_for(timeout=WAIT_MS)
        page.get_by_role("heading", name="我的账号").wait_for(timeout=WAIT_MS)
        wait_for_idle(page, WAIT_MS)
        nav = page.locator("[data-testid='stSidebarNav']")  # one page: Streamlit draws no menu at all
        assert nav.count() == 0 or _nav_titles(page) == ["我的账号"]
        page.goto(base + "/users")
        page.get_by_text("请先在“我的账号”页开启两步验证").wait_for(timeout=WAIT_MS)
        assert page.get_by_role("heading", name="用户管理").count() == 0
        page.goto(base + "/account")
        wait_for_idle(page, WAIT_MS)
        page.get_by_role("button", name="开启两步验证").click()
        key = page.locator("[data-testid='stCode'] code").first
        key.wait_for(timeout=WAIT_MS)
        secret = key.inner_text().replace(" ", "").strip()
        wait_for_idle(page, WAIT_MS)
        page.get_by_role("textbox", name="动态验证码").fill(totp.code(secret, datetime.now(UTC)))
        page.get_by_role("button", name="确认开启", exact=True).click()
        page.get_by_text("两步验证已开启").first.wait_for(timeout=WAIT_MS)
        titles = _nav_titles(page)
        assert "用户管理" in titles and "审计日志" in titles and "我的账号" in titles, titles
        page.close()
        # a role not listed logs in as before
        page, _ = _login(browser, base + "/", "boss")
        page.get_by_text("当前用户：boss（领导）").wait_for(timeout=WAIT_MS)
        assert "领导概览" in _nav_titles(page)
        page.close()
