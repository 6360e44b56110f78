"""Login, sessions and role checks for the dashboard. The rules live in `rumourwatch.auth`; this
module only asks for them and draws the login form.

Pages call `require_role(...)` (or `require_permission(...)`) at the top:

    from dashboard.auth import require_role
    user = require_role("monitor", "admin")      # {"username", "role", "expert_id", ...}

With no valid session the login form is shown and the page stops; with a role not allowed the page
shows why and stops. Admin passes every check. The session token lives in `st.session_state` and in a
browser session cookie (SameSite=Strict, Secure over HTTPS; the store keeps only its hash), so
reloading the page or opening another tab of the same browser keeps the login; logging out or
`session_idle_minutes` without activity ends it (a session cookie usually dies with the browser, but
a browser that restores its tabs may keep it: the idle limit is what bounds a login).

Tests log in without a password with `login_for_test(at, username)` (AppTest), see its docstring.
"""

from __future__ import annotations

import json
import re
import threading
from dataclasses import dataclass, field
from pathlib import Path

import streamlit as st

from dashboard.strings import t
from dashboard.workflow_ui import show_error
from rumourwatch import auth, store
from rumourwatch.config import load_settings
from rumourwatch.errors import ConfigError, RumourwatchError
from rumourwatch.records import beijing

TOKEN_KEY = "rw_auth_token"
EXPIRED_KEY = "rw_auth_expired"
CODE_FOR_KEY = "rw_login_code_for"  # the login name whose password was right and whose code is asked for
COOKIE = "rw_session"
COOKIE_ACTION_KEY = "rw_cookie_action"  # "set" after a login, ("clear", token) after a logout or expiry
COOKIE_READ_KEY = "rw_cookie_read"      # this Streamlit session has looked at the cookie
_TOKEN_SHAPE = re.compile(r"[A-Za-z0-9_-]{16,256}")  # secrets.token_urlsafe (fullmatch)


@dataclass
class _AuthConn:
    db: object
    lock: threading.Lock = field(default_factory=threading.Lock)


@st.cache_resource(show_spinner=False)
def _auth_connection(path: str) -> _AuthConn:
    # Login writes (sessions, failure counts, audit), so this connection is read-write, unlike the
    # dashboard's query connection. Opening it also brings the schema up to date (adds the users table).
    return _AuthConn(store.open_db(path))


def _settings():
    try:
        return load_settings()
    except ConfigError as exc:
        show_error(exc)
        st.stop()


def _with_db(fn, *args, **kwargs):
    settings = _settings()
    path = settings.db_path
    if not Path(path).is_file():
        st.info(t("auth.no_database", path=path))
        st.stop()
    try:
        conn = _auth_connection(path)
        with conn.lock:
            return fn(conn.db, *args, **kwargs)
    except auth.AuthError:
        raise
    except RumourwatchError as exc:
        show_error(exc)
        st.stop()


def policy() -> auth.Policy:
    return auth.Policy.from_settings(_settings())


def current_user() -> dict | None:
    """The logged-in user ({"id", "username", "role", "expert_id", "display_name"}) or None.
    A session that timed out is dropped here and the login form will say so."""
    token = st.session_state.get(TOKEN_KEY) or _token_from_cookie()
    if not token:
        return None
    user = _with_db(auth.session_user, token, policy())
    if user is None:
        st.session_state.pop(TOKEN_KEY, None)
        # ended by the idle limit or by an administrator: say so; by a logout in another tab: just log in
        st.session_state[EXPIRED_KEY] = _with_db(auth.session_end_reason, token)
        _forget_cookie(token)
    return user


def _token_from_cookie() -> str | None:
    """A reloaded page or a new tab starts a new Streamlit session: take the token from the
    browser's cookie, once per session (the cookies Streamlit shows are those of the page's
    connection, not the browser's current ones: a token logged out here must not come back)."""
    if st.session_state.get(COOKIE_READ_KEY):
        return None
    st.session_state[COOKIE_READ_KEY] = True
    token = st.context.cookies.get(_cookie_name())
    if not isinstance(token, str) or not _TOKEN_SHAPE.fullmatch(token):
        return None
    st.session_state[TOKEN_KEY] = token
    return token


def _forget_cookie(token: str | None) -> None:
    """Have the browser drop the cookie if it still holds `token` (another tab may have logged in
    since: its cookie stays)."""
    if token and _TOKEN_SHAPE.fullmatch(token):
        st.session_state[COOKIE_ACTION_KEY] = ("clear", token)


def _cookie_name() -> str:
    """One cookie per dashboard: two served from one host name (other ports) do not share it."""
    return f"{COOKIE}_{st.get_option('server.port')}"


def _write_cookie() -> None:
    """Set or clear the session cookie in the browser, when a login, a logout or an expiry asked
    for it. The request stays until a page run completes (cookie_written): a run cut short by
    st.switch_page (the ?item= links) can drop the script before the browser gets it."""
    action = st.session_state.get(COOKIE_ACTION_KEY)
    token = st.session_state.get(TOKEN_KEY)
    name = _cookie_name()
    path = "/" + str(st.get_option("server.baseUrlPath") or "").strip("/")
    secure = "; Secure" if isinstance(st.context.url, str) and st.context.url.startswith("https:") else ""
    if action == "set" and token and _TOKEN_SHAPE.fullmatch(token):
        script = f"document.cookie = {_js(f'{name}={token}; Path={path}; SameSite=Strict{secure}')};"
    elif isinstance(action, tuple) and action[0] == "clear":
        script = (f"if (document.cookie.split('; ').indexOf({_js(f'{name}={action[1]}')}) >= 0) "
                  f"document.cookie = {_js(f'{name}=; Path={path}; Max-Age=0; SameSite=Strict{secure}')};")
    else:
        return
    st.html(f"<script>{script}</script>", unsafe_allow_javascript=True)


def _js(text: str) -> str:
    """A JavaScript string literal that cannot end the <script> element it sits in."""
    return json.dumps(text).replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")


def cookie_written() -> None:
    """Called by the app entrypoint once the page has run to its end: the cookie script went out."""
    st.session_state.pop(COOKIE_ACTION_KEY, None)


def to_china(value: str | None, seconds: bool = False) -> str:
    """A stored UTC time as Beijing time for display ("" for none)."""
    return beijing(value, "%Y-%m-%d %H:%M" + (":%S" if seconds else "")) or ""


def run_db(fn, *args, **kwargs):
    """Call `fn(db, ...)` on the dashboard's read-write connection (admin pages: users, audit).
    AuthError and other RumourwatchErrors propagate for the page to show."""
    conn = _auth_connection(_settings().db_path)
    with conn.lock:
        return fn(conn.db, *args, **kwargs)


def login_form() -> None:
    """The Chinese login form; on success the session is stored and the app reruns."""
    st.title(t("auth.title"))
    if _with_db(store.count_users) == 0:
        st.info(t("auth.no_users"))
        return
    ended = st.session_state.pop(EXPIRED_KEY, None)
    if ended == "idle":
        st.warning(t("auth.expired", minutes=f"{policy().session_idle_minutes:g}"))
    elif ended == "ended_by_admin":
        st.warning(t("auth.ended_by_admin"))
    elif ended in ("own_password", "password_changed"):  # changed by the user elsewhere, or by an administrator
        st.warning(t(f"auth.ended.{ended}"))
    # an account with two-step login: once its password was right, the form asks for the code too
    asks_code = bool(st.session_state.get(CODE_FOR_KEY))
    with st.form("login", clear_on_submit=False, enter_to_submit=True, width=420):
        username = st.text_input(t("auth.username"), key="login_username", max_chars=64)
        password = st.text_input(t("auth.password"), type="password", key="login_password", max_chars=1024)
        code = st.text_input(t("auth.code"), key="login_code", max_chars=16, help=t("auth.code.help"),
                             placeholder="123456") if asks_code else None
        submitted = st.form_submit_button(t("auth.submit"), type="primary")
    if asks_code and not submitted:
        st.info(t("wferr.code_required"))
    if not submitted:
        return
    if not username or not password:
        st.error(t("auth.missing"))
        return
    try:
        token, user = _with_db(auth.login, username.strip(), password, policy(), code=code)
    except auth.AuthError as exc:
        if exc.reason == "code_required":
            st.session_state[CODE_FOR_KEY] = username.strip()
            st.rerun()
        elif exc.reason == "locked":
            st.error(t("wferr.locked", until=to_china(exc.until)))
        elif exc.reason == "disabled":
            st.error(t("wferr.disabled"))
        elif exc.reason == "wrong_code":
            st.error(t("wferr.wrong_code"))
        else:
            st.error(t("wferr.bad_credentials"))
        return
    st.session_state[TOKEN_KEY] = token
    st.session_state[COOKIE_ACTION_KEY] = "set"
    for key in ("login_password", "login_code", CODE_FOR_KEY):
        st.session_state.pop(key, None)
    st.rerun()


def require_login(pages: dict | None = None) -> dict:
    """The logged-in user; otherwise show the login form and stop the script.

    The app entrypoint passes its navigation `pages`: they are registered (hidden) while the login
    form shows, so an address such as /users still names its page once the user has logged in."""
    user = current_user()
    _write_cookie()
    if user is None:
        if pages:
            st.navigation(_before_login(pages), position="hidden")
        login_form()
        st.stop()
    return user


# The name of "/", whichever page a role has there (Streamlit tells pages apart by this name)
HOME_URL_PATH = "home"


def _before_login(pages: dict) -> dict:
    """The navigation while the login form shows: every page under its name, and "/" as the same
    page ("home") that `pages_for` makes each role's main page after login. Without it "/" would be
    the first page (实时监测) under its own name, and the login's rerun would move the address of a
    user who opened "/" to /live, a page not every role has."""
    sections = {section: list(section_pages) for section, section_pages in pages.items()}
    first = next(iter(sections.values()), None)
    if first is not None:
        first.insert(0, st.Page(_home_before_login, title=t("app.title"), url_path=HOME_URL_PATH, default=True))
    return sections


def _home_before_login() -> None:
    """Never run: the login form stands in for every page until the user has logged in."""


def rerun_if_session_ended() -> None:
    """For fragments that refresh on a timer (the live page, the sources page): once the session
    has ended (a logout in another tab, the idle limit, a disabled account), rerun the whole app,
    which shows the login form, instead of going on showing fresh data. The check does not count
    as activity: watching is not working."""
    if not _with_db(auth.session_active, st.session_state.get(TOKEN_KEY), policy()):
        st.rerun(scope="app")


def require_role(*roles: str) -> dict:
    """The logged-in user when their role is one of `roles` (admin always passes; no roles = any
    logged-in user). Shows the login form or a clear refusal and stops the page otherwise."""
    for role in roles:
        auth.check_role(role)
    user = require_login()
    if roles and user["role"] not in roles and user["role"] != "admin":
        _refuse(user, roles)
        st.stop()
    return user


def _refuse(user: dict, roles) -> None:
    allowed = "、".join(t(f"role.{r}") for r in roles)
    st.error(t("auth.forbidden", role=t(f"role.{user['role']}"), allowed=allowed))


def require_permission(permission: str) -> dict:
    """Like require_role, by permission name from `rumourwatch.auth.PERMISSIONS`."""
    user = require_login()
    if not auth.can(user["role"], permission):
        st.error(t("auth.forbidden.action", role=t(f"role.{user['role']}")))
        st.stop()
    return user


def require_item_access(item_id: int, user: dict | None = None) -> dict:
    """The user when they may open item `item_id` (an expert: only items of their assignments);
    otherwise a clear refusal and the page stops. For the item page, after it has read the id."""
    user = user or require_login()
    if not _with_db(auth.may_view_item, user, item_id):
        st.error(t("auth.item_forbidden", id=item_id))
        st.stop()
    return user


def can(permission: str, user: dict | None = None) -> bool:
    """Whether the (current) user may do `permission`; for showing or hiding buttons."""
    user = user if user is not None else current_user()
    return bool(user) and auth.can(user["role"], permission)


def may_open(url_path: str, user: dict | None = None) -> bool:
    """Whether the (current) user's navigation has the page `url_path`; for drawing or hiding the
    buttons that switch to another page."""
    user = user if user is not None else current_user()
    return bool(user) and auth.page_allowed(user["role"], url_path)


def pages_for(user: dict, pages: dict) -> dict:
    """The navigation sections filtered to the pages `user`'s role may open (empty sections dropped).
    Pages are matched by their url_path against `rumourwatch.auth.PAGE_ROLES`.

    The role's main page (`rumourwatch.auth.HOME_PAGES`) is the default, served at "/". Streamlit
    gives the default page no other address, so a shared link to its name (/alerts?alert=… for a
    leader) would be "Page not found": the same script is registered again, hidden, under its name.
    A page the role may not open keeps its name as a hidden page that says so in Chinese, so a link
    a monitor shares (/item?item=… to a leader) does not end in Streamlit's English "Page not found"."""
    # a role that must use two-step login, not set up yet: 我的账号 only, until it is
    missing = auth.two_step_missing(user, policy())
    home = ACCOUNT_URL_PATH if missing else auth.home_page(user["role"])
    out, refused = {}, []
    for section, section_pages in pages.items():
        kept = []
        for p in section_pages:
            name = getattr(p, "_url_path", None) or p.url_path
            if missing and name != ACCOUNT_URL_PATH:
                refused.append(st.Page(_two_step_first(user), title=p.title, icon=p.icon, url_path=name,
                                       visibility="hidden"))
                continue
            if not auth.page_allowed(user["role"], name):
                refused.append(st.Page(_refusal(user, name), title=p.title, icon=p.icon, url_path=name,
                                       visibility="hidden"))
                continue
            if name == home:
                kept += [st.Page(p._page, title=p.title, icon=p.icon, url_path=HOME_URL_PATH, default=True),
                         st.Page(p._page, title=p.title, icon=p.icon, url_path=name, visibility="hidden")]
            else:
                kept.append(p)
        if kept:
            out[_SECTION_FOR_ROLE.get((user["role"], section), section)] = kept
    if not out:  # st.navigation needs at least one page; say plainly there is nothing for this role yet
        out[t("app.title")] = [st.Page(_no_pages, title=t("auth.no_pages.title"), url_path="welcome",
                                       icon=":material/info:")]
    next(iter(out.values())).extend(refused)  # hidden: no section of their own in the menu
    return out


ACCOUNT_URL_PATH = "account"
# a section named for the role that sees it: a unit's correspondent does not monitor public opinion,
# they report their unit's work (信息报送, under 舆情监测 for the office)
_SECTION_FOR_ROLE = {("correspondent", t("nav.section.monitor")): t("nav.section.unit")}


def _two_step_first(user: dict):
    def refuse() -> None:
        st.warning(t("auth.two_step_required.page", role=t(f"role.{user['role']}")))
        st.page_link(f"app_pages/{ACCOUNT_URL_PATH}.py", label=t("page.account"), icon=":material/account_circle:")
    return refuse


def _refusal(user: dict, url_path: str):
    def refuse() -> None:
        _refuse(user, [r for r in auth.ROLES if auth.page_allowed(r, url_path)])
    return refuse


def _no_pages() -> None:
    user = current_user() or {}
    st.title(t("auth.no_pages.title"))
    st.info(t("auth.no_pages", role=t(f"role.{user.get('role', 'monitor')}")))


def logout() -> None:
    token = st.session_state.pop(TOKEN_KEY, None)
    _forget_cookie(token)
    if token:
        _with_db(auth.logout, token)


def user_box(user: dict) -> None:
    """Sidebar: who is logged in, in which role, and a logout button."""
    with st.sidebar:
        name = user.get("display_name") or user["username"]
        st.caption(t("auth.logged_in_as", name=name, role=t(f"role.{user['role']}")))
        from dashboard import data

        try:
            history = data.demo_history(data.settings().db_path)
        except RumourwatchError:  # the page itself says what is wrong with the store
            history = None
        if history:  # the demo's weeks before the live replay were simulated: say so on every page
            st.caption(t("demo.history", start=beijing(history["start"], "%m-%d"),
                         end=beijing(history["end"], "%m-%d %H:%M")))
        if st.button(t("auth.logout"), key="logout", icon=":material/logout:"):
            logout()
            st.rerun()


def login_for_test(at, username: str, db_path: str | None = None) -> str:
    """Log `username` in for an AppTest without a password: opens a session in the store and puts its
    token into `at.session_state`. The user must exist (create it with `rumourwatch.auth.create_user`)
    in the database named by `db_path` or, by default, `RUMOURWATCH_DB_PATH`. Returns the token.

        at = AppTest.from_file("dashboard/app_pages/workbench.py")
        login_for_test(at, "expert1")
        at.run()
    """
    path = db_path or load_settings().db_path
    db = store.open_db(path)
    try:
        token = auth.start_session(db, username, actor="test")
    finally:
        db.conn.close()
    at.session_state[TOKEN_KEY] = token
    return token
