"""Login, role checks and the admin pages (users, audit) through Streamlit's AppTest."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime, timedelta

import pytest
from streamlit.testing.v1 import AppTest

from dashboard.auth import TOKEN_KEY, login_for_test
from rumourwatch import auth, store
from rumourwatch.config import REPO_ROOT
from rumourwatch.records import CST, iso

APP = str(REPO_ROOT / "dashboard" / "streamlit_app.py")
USERS_PAGE = str(REPO_ROOT / "dashboard" / "app_pages" / "users.py")
AUDIT_PAGE = str(REPO_ROOT / "dashboard" / "app_pages" / "audit.py")
PW = "dashboard pw 1"
ROLES = {"root": "admin", "mon": "monitor", "exp": "expert", "ana": "analyst", "boss": "leader"}


@pytest.fixture
def app_db(tmp_path, monkeypatch):
    monkeypatch.setattr(auth, "SCRYPT_N", 2 ** 10)
    path = tmp_path / "app.db"
    monkeypatch.setenv("RUMOURWATCH_DB_PATH", str(path))
    monkeypatch.setenv("RUMOURWATCH_MAX_LOGIN_FAILURES", "3")
    db = store.open_db(path)
    for name, role in ROLES.items():
        auth.create_user(db, name, PW, role, "test", expert_id=3 if role == "expert" else None)
    return db


def _app(path=APP) -> AppTest:
    return AppTest.from_file(path, default_timeout=60)


def _login(at: AppTest, username: str, password: str) -> AppTest:
    at.text_input(key="login_username").input(username)
    at.text_input(key="login_password").input(password)
    at.button[0].click()
    return at.run()


def _errors(at) -> list[str]:
    return [e.value for e in at.error]


def test_app_asks_for_login_first(app_db):
    at = _app().run()
    assert not at.exception
    assert [x.value for x in at.title] == ["登录"]
    assert at.text_input(key="login_password").proto.type == 1  # PASSWORD: typed characters are hidden


def test_wrong_password_gives_a_chinese_error_and_right_one_logs_in(app_db):
    at = _login(_app().run(), "mon", "not the password")
    assert _errors(at) == ["用户名或密码错误，请重新输入。连续多次输错后账号将被临时锁定。"]
    assert TOKEN_KEY not in at.session_state
    at = _login(at, "mon", PW)
    assert not at.exception and not _errors(at)
    assert "当前用户：mon（舆情监测员）" in [c.value for c in at.sidebar.caption]


def test_lockout_message_after_repeated_failures(app_db):
    at = _app().run()
    for _ in range(3):
        at = _login(at, "ana", "wrong wrong")
    assert _errors(at)[0].startswith("密码错误次数过多，账号已临时锁定")
    at = _login(at, "ana", PW)
    assert _errors(at)[0].startswith("密码错误次数过多")


def test_expired_session_goes_back_to_login_with_a_note(app_db, monkeypatch):
    at = _app()
    token = login_for_test(at, "mon")
    at.run()
    assert [x.value for x in at.title] != ["登录"]
    # Pretend the last activity was 31 minutes ago (default idle limit 30).
    old = store.iso(store.now_utc() - timedelta(minutes=31))
    app_db.execute("UPDATE sessions SET last_seen_at = ?", [old])
    at.run()
    assert [x.value for x in at.title] == ["登录"]
    assert [w.value for w in at.warning] == ["登录已超时（超过 30 分钟无操作），请重新登录。"]
    assert auth.session_user(app_db, token) is None


def test_logout_button_ends_the_session(app_db):
    at = _app()
    token = login_for_test(at, "boss")
    at.run()
    at.sidebar.button(key="logout").click()
    at.run()
    assert [x.value for x in at.title] == ["登录"]
    assert auth.session_user(app_db, token) is None


def test_disabled_user_is_logged_out_on_next_click(app_db):
    at = _app()
    login_for_test(at, "mon")
    at.run()
    auth.set_disabled(app_db, "mon", True, "root")
    at.run()
    assert [x.value for x in at.title] == ["登录"]
    at = _login(at, "mon", PW)
    assert _errors(at) == ["该账号已停用，请联系管理员。"]


@pytest.mark.parametrize("username", ["mon", "exp", "ana", "boss"])
def test_admin_pages_refuse_other_roles(app_db, username):
    for page in (USERS_PAGE, AUDIT_PAGE):
        at = _app(page)
        login_for_test(at, username)
        at.run()
        assert not at.exception
        assert _errors(at)[0].startswith(f"当前角色（{auth_label(username)}）无权访问此页面")
        assert not at.dataframe  # nothing of the page was drawn


def auth_label(username: str) -> str:
    return {"monitor": "舆情监测员", "expert": "专家", "analyst": "分析员", "leader": "领导",
            "admin": "管理员"}[ROLES[username]]


def test_page_without_login_shows_the_login_form(app_db):
    at = _app(USERS_PAGE).run()
    assert [x.value for x in at.title] == ["登录"] and not at.dataframe


def test_admin_adds_a_user_changes_role_and_disables(app_db):
    at = _app(USERS_PAGE)
    login_for_test(at, "root")
    at.run()
    assert not at.exception
    table = at.dataframe[0].value
    assert sorted(table["用户名"]) == sorted(ROLES)
    at.text_input(key="new_username").input("new.expert")
    at.text_input(key="new_display").input("新专家")
    at.selectbox(key="new_role").set_value("expert")
    at.number_input(key="new_expert").set_value(12)
    at.text_input(key="new_pw1").input("brand new pw")
    at.text_input(key="new_pw2").input("brand new pw")
    at.button[0].click()
    at.run()
    assert not at.exception and not _errors(at)
    assert [s.value for s in at.success] == ["已创建账号 new.expert。"]
    created = store.get_user(app_db, "new.expert")
    assert created["role"] == "expert" and created["expert_id"] == 12
    assert store.audit_entries(app_db, actor="root")[0]["action"] == "user.add"

    at.selectbox(key="users_pick").set_value("mon")
    at.run()
    at.button(key="users_disable").click()
    at.run()
    assert store.get_user(app_db, "mon")["disabled"] == 1
    assert [s.value for s in at.success] == ["已停用账号 mon。"]


def test_admin_sees_who_is_online_and_logs_a_user_out_who_is_told_why(app_db):
    mon = _app()
    login_for_test(mon, "mon")
    mon.run()
    assert mon.sidebar.button  # logged in
    at = _app(USERS_PAGE)
    login_for_test(at, "root")
    at.run()
    assert at.subheader[0].value == "当前在线（2 个登录）"
    online = at.dataframe[1].value
    assert sorted(zip(online["用户名"], online["角色"])) == [("mon", "舆情监测员"), ("root", "管理员")]
    at.selectbox(key="users_pick").set_value("mon").run()
    assert "该账号当前有 1 个登录会话。" in [c.value for c in at.caption]
    at.button(key="users_end_sessions").click().run()
    assert [s.value for s in at.success] == ["已结束 mon 的全部登录。"]
    assert at.subheader[0].value == "当前在线（1 个登录）"
    assert store.get_user(app_db, "mon")["disabled"] == 0
    mon.run()  # the monitor's next click: back to the login form, saying why
    assert [x.value for x in mon.title] == ["登录"]
    assert [w.value for w in mon.warning] == ["管理员已结束您的登录，请重新登录；如有疑问请联系管理员。"]
    assert not at.exception and not mon.exception


def test_admin_cannot_disable_the_last_admin_and_is_told_why(app_db):
    at = _app(USERS_PAGE)
    login_for_test(at, "root")
    at.run()
    at.selectbox(key="users_pick").set_value("root")
    at.run()
    at.button(key="users_disable").click()
    at.run()
    assert _errors(at) == [("操作未执行：root 是系统中最后一个启用的管理员，不能停用或改为其他角色："
                            "请先新增或启用另一个管理员账号。")]
    assert store.get_user(app_db, "root")["disabled"] == 0


def _add_user(at: AppTest, username: str, password: str) -> AppTest:
    at.text_input(key="new_username").input(username)
    at.text_input(key="new_pw1").input(password)
    at.text_input(key="new_pw2").input(password)
    at.button[0].click()
    return at.run()


@pytest.mark.parametrize("username,password,said", [
    ("someone", "short", "操作未执行：密码太短：至少需要 8 个字符，请设置更长的密码。"),
    ("someone", "12345678", ("操作未执行：密码过于常见或有规律（如 12345678、password、qwertyui、11111111），"
                             "容易被猜中：请换一个。")),
    ("someone", "Someone@2025", "操作未执行：密码不能是登录名加数字或符号（如 mon123、Admin@2024）：请换一个。"),
    ("has space", "long enough 1", ("操作未执行：用户名“has space”无效：请使用 2–32 位字母、数字、"
                                    "下划线（_）、点（.）或连字符（-）。")),
    ("MON", "long enough 1", "操作未执行：用户名 MON 已被使用（不区分大小写）：请换一个用户名。"),
])
def test_a_refused_new_account_says_why_in_chinese(app_db, username, password, said):
    at = _app(USERS_PAGE)
    login_for_test(at, "root")
    at = _add_user(at.run(), username, password)
    assert not at.exception
    assert _errors(at) == [said]
    assert store.count_users(app_db) == len(ROLES)


def test_password_mismatch_is_refused(app_db):
    at = _app(USERS_PAGE)
    login_for_test(at, "root")
    at.run()
    at.text_input(key="new_username").input("someone")
    at.text_input(key="new_pw1").input("first pass 1")
    at.text_input(key="new_pw2").input("other pass 2")
    at.button[0].click()
    at.run()
    assert _errors(at) == ["两次输入的密码不一致，请重新输入。"]
    assert store.get_user(app_db, "someone") is None


def test_audit_page_lists_logins_and_changes(app_db):
    auth.login(app_db, "mon", PW)
    auth.set_role(app_db, "ana", "leader", "root")
    at = _app(AUDIT_PAGE)
    login_for_test(at, "root")
    at.run()
    assert not at.exception
    frame = at.dataframe[0].value
    assert list(frame["操作代码"][:3]) == ["session.start", "user.role", "login"]
    assert list(frame["操作"][:3]) == ["免密码开启会话（测试或受信工具）", "修改角色", "登录"]
    assert list(frame["对象"][:3]) == ["账号 root", "账号 ana", "账号 mon"]
    at.text_input(key="audit_actor").input("root")
    at.run()
    frame = at.dataframe[0].value
    assert set(frame["操作人"]) == {"root"}
    assert list(frame["操作"]) == ["修改角色"]
    assert json.loads(frame["详情"][0]) == {"from": "analyst", "to": "leader", "expert_id": None}


def _audit_at(db, when, actor, action, target_type=None, target_id=None) -> None:
    with store.transaction(db):
        store.record_audit(db, actor, action, target_type, target_id, at=iso(when))


def test_audit_page_finds_an_old_action_behind_newer_ones_and_says_how_many_match(app_db):
    now = datetime.now(UTC)
    _audit_at(app_db, now - timedelta(days=3), "mon", "alert.dismiss", "alert", 7)
    for k in range(30):
        _audit_at(app_db, now - timedelta(hours=k), "mon", "alert.create", "alert", 100 + k)
    at = _app(AUDIT_PAGE)
    login_for_test(at, "root")
    at.run()
    at.number_input[0].set_value(10).run()
    assert len(at.dataframe[0].value) == 10
    assert "alert.dismiss" not in set(at.dataframe[0].value["操作代码"])
    # the words of the Chinese name, applied before the limit: the dismissal behind 30 newer entries
    at.text_input(key="audit_action").input("排除").run()
    frame = at.dataframe[0].value
    assert list(frame["操作"]) == ["排除预警"] and list(frame["对象"]) == ["预警 #7"]
    assert [c.value for c in at.caption][-1] == "符合条件的共 1 条，显示最新的 1 条。"
    at.text_input(key="audit_action").input("").run()
    # with the five accounts made by the fixture and root's session: 37
    assert "符合条件的共 37 条，显示最新的 10 条。" in [c.value for c in at.caption]
    assert at.get("download_button") == []  # nothing made, nothing recorded, until asked for
    assert store.audit_entries(app_db, actions=["audit.export"]) == []
    at.button(key="audit_export_make").click().run()
    assert not at.exception
    [made] = store.audit_entries(app_db, actions=["audit.export"])
    assert made["actor"] == "root" and json.loads(made["details"])["rows"] == 37
    [button] = at.get("download_button")
    assert re.fullmatch(r"下载 审计日志_\d{4}-\d\d-\d\d_\d{4}-\d\d-\d\d\.csv（37 条）", button.proto.label)
    # other conditions: the file made for the old ones is not offered
    at.text_input(key="audit_actor").input("root").run()
    assert at.get("download_button") == []


def test_audit_page_narrows_by_period_kind_and_object(app_db):
    now = datetime.now(UTC)
    _audit_at(app_db, now - timedelta(days=40), "mon", "login", "user", "mon")
    _audit_at(app_db, now - timedelta(days=2), "mon", "login.failed", "user", "mon")
    _audit_at(app_db, now - timedelta(days=1), "root", "user.disable", "user", "ana")
    _audit_at(app_db, now - timedelta(hours=1), "mon", "alert.dismiss", "alert", 12)
    at = _app(AUDIT_PAGE)
    login_for_test(at, "root")
    at.run()
    codes = list(at.dataframe[0].value["操作代码"])
    assert "login" not in codes  # 40 days ago: before the default 30 days
    assert codes == ["session.start", *["user.add"] * 5, "alert.dismiss", "user.disable", "login.failed"]
    today = datetime.now(UTC).astimezone(CST).date()
    at.date_input(key="audit_period").set_value((today - timedelta(days=45), today - timedelta(days=35))).run()
    assert list(at.dataframe[0].value["操作代码"]) == ["login"]
    at.date_input(key="audit_period").set_value((today - timedelta(days=2),)).run()  # the first day clicked
    assert [i.value for i in at.info] == ["请选择结束日期。"]
    assert list(at.dataframe[0].value["操作代码"]) == ["login.failed"]  # that one day, until the last is chosen
    at.date_input(key="audit_period").set_value((today - timedelta(days=45), today)).run()
    at.selectbox(key="audit_group").set_value("signin").run()
    assert list(at.dataframe[0].value["操作"]) == ["免密码开启会话（测试或受信工具）", "登录失败", "登录"]
    at.selectbox(key="audit_group").set_value(None).run()
    at.selectbox(key="audit_target").set_value("alert").run()
    at.text_input(key="audit_target_id").input("12").run()
    assert list(at.dataframe[0].value["对象"]) == ["预警 #12"]
    at.text_input(key="audit_target_id").input("13").run()
    assert not at.dataframe and [i.value for i in at.info] == ["所选期间没有符合条件的审计记录。"]
    assert not at.exception


def test_expert_cannot_open_an_item_outside_their_assignments(app_db):
    from rumourwatch import ingest
    from rumourwatch.records import parse_time
    from rumourwatch.sources.base import RawItem

    with store.transaction(app_db):
        ingest.ingest_events(app_db, [RawItem({"id": "x1", "text": "网传某地自来水有毒，尚未核实", "date": "2026-11-23 09:00"})],
                             "test", parse_time("2026-11-23 10:00"))
    item_id = app_db.execute("SELECT id FROM items").fetchone()[0]
    at = _app()
    login_for_test(at, "exp")
    at.query_params["item"] = str(item_id)
    at.switch_page("app_pages/item.py")
    at.run()
    assert not at.exception
    assert _errors(at) == [f"无权查看条目 {item_id}：专家只能查看指派给自己的预警所涉及的条目。"]
    assert not at.text  # the item's text was not shown
    at = _app()
    login_for_test(at, "mon")
    at.query_params["item"] = str(item_id)
    at.switch_page("app_pages/item.py")
    at.run()
    assert [x.value for x in at.text] == ["网传某地自来水有毒，尚未核实"]
