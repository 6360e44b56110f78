"""Two-step login and one's own password (rumourwatch.auth, rumourwatch.totp, 我的账号): what a user
setting up an authenticator app, logging in with it, losing the phone or changing their password
meets, and what an administrator sees."""

from datetime import UTC, datetime, timedelta

import pytest
from click.testing import CliRunner

from rumourwatch import auth, selfcheck, store, totp
from rumourwatch.cli import cli
from rumourwatch.config import REPO_ROOT

PASSWORD = "Two-step-password-7"
NOW = datetime(2026, 12, 5, 9, 0, 0, tzinfo=UTC)


@pytest.fixture
def db(tmp_path):
    db = store.open_db(tmp_path / "rw.db")
    auth.create_user(db, "chief", PASSWORD, "admin", "test")
    auth.create_user(db, "wang", PASSWORD, "monitor", "test")
    return db


def _enable(db, name, at=NOW) -> str:
    secret = auth.begin_two_step(db, name, now=at)
    auth.confirm_two_step(db, name, totp.code(secret, at), now=at)
    return secret


def test_codes_are_those_of_rfc_6238_that_any_authenticator_app_shows():
    secret = "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ"  # base32 of "12345678901234567890", the RFC's key
    # the RFC's SHA-1 vectors (8 digits) at T = 59 s and T = 1111111109 s; apps show their last 6
    assert totp.code_at(secret, 59 // 30, digits=8) == "94287082"
    assert totp.code_at(secret, 1111111109 // 30, digits=8) == "07081804"
    assert totp.code(secret, datetime.fromtimestamp(1111111109, UTC)) == "081804"
    uri = totp.provisioning_uri(secret, "wang")
    assert uri.startswith("otpauth://totp/") and f"secret={secret}" in uri and "period=30" in uri


def test_setting_up_needs_a_code_from_the_app_and_then_the_login_asks_for_one(db):
    secret = auth.begin_two_step(db, "wang", now=NOW)
    with pytest.raises(auth.AuthError) as bad:
        auth.confirm_two_step(db, "wang", "000000" if totp.code(secret, NOW) != "000000" else "111111", now=NOW)
    assert bad.value.reason == "two_step_bad_code"
    assert auth.login(db, "wang", PASSWORD, now=NOW)[1]["username"] == "wang"  # not on until confirmed
    auth.confirm_two_step(db, "wang", totp.code(secret, NOW), now=NOW)
    later = NOW + timedelta(minutes=5)
    with pytest.raises(auth.AuthError) as asked:
        auth.login(db, "wang", PASSWORD, now=later)
    assert asked.value.reason == "code_required"
    assert store.get_user(db, "wang")["failed_logins"] == 0  # the password was right: not a failure
    token, user = auth.login(db, "wang", PASSWORD, now=later, code=totp.code(secret, later))
    assert user["username"] == "wang" and auth.session_user(db, token, now=later)
    # the same code cannot log in twice (someone who saw it typed), nor the wrong password with a right code
    with pytest.raises(auth.AuthError) as replay:
        auth.login(db, "wang", PASSWORD, now=later, code=totp.code(secret, later))
    assert replay.value.reason == "wrong_code"
    with pytest.raises(auth.AuthError) as wrong_password:
        auth.login(db, "wang", "not-the-password-1", now=later + timedelta(minutes=1),
                   code=totp.code(secret, later + timedelta(minutes=1)))
    assert wrong_password.value.reason == "bad_credentials"
    # a phone 30 s off still works: the step before or after is accepted
    at = later + timedelta(minutes=3)
    assert auth.login(db, "wang", PASSWORD, now=at, code=totp.code(secret, at - timedelta(seconds=30)))


def test_wrong_codes_lock_the_account_as_wrong_passwords_do_and_are_audited(db):
    _enable(db, "wang")
    policy = auth.Policy(max_login_failures=3, lockout_minutes=15)
    at = NOW + timedelta(minutes=10)
    for n in range(3):
        with pytest.raises(auth.AuthError) as exc:
            auth.login(db, "wang", PASSWORD, policy, now=at, code="999999" if totp.code(
                store.get_user(db, "wang", True)["totp_secret"], at) != "999999" else "888888")
    assert exc.value.reason == "locked"
    failed = [e for e in store.audit_entries(db, limit=20) if e["action"] == "login.failed"]
    assert len(failed) == 3 and all('"wrong_code"' in e["details"] for e in failed)
    assert any(e["action"] == "user.locked" for e in store.audit_entries(db, limit=20))


def test_switching_off_needs_a_code_and_an_administrator_resets_a_lost_phone(db):
    secret = _enable(db, "wang")
    token, _ = auth.login(db, "wang", PASSWORD, now=NOW + timedelta(minutes=1),
                          code=totp.code(secret, NOW + timedelta(minutes=1)))
    with pytest.raises(auth.AuthError) as exc:
        auth.disable_two_step(db, "wang", "wang", code="", now=NOW + timedelta(minutes=2))
    assert exc.value.reason == "wrong_code"
    # the phone is lost: the administrator resets it; the user's sessions end, the next login is by password
    result = CliRunner().invoke(cli, ["--db", str(db.conn.execute("PRAGMA database_list").fetchone()[2]),
                                      "users", "reset-two-step", "wang"])
    assert result.exit_code == 0, result.output
    assert auth.session_user(db, token, now=NOW + timedelta(minutes=3)) is None
    assert auth.login(db, "wang", PASSWORD, now=NOW + timedelta(minutes=4))[1]["username"] == "wang"
    actions = [e["action"] for e in store.audit_entries(db, limit=50)]
    assert "user.two_step_on" in actions and "user.two_step_reset" in actions
    # on again, then off by the user with a current code
    secret = _enable(db, "wang", NOW + timedelta(minutes=5))
    at = NOW + timedelta(minutes=6)
    assert auth.disable_two_step(db, "wang", "wang", code=totp.code(secret, at), now=at)["totp_enabled_at"] is None


def test_a_user_changes_their_own_password_with_the_current_one(db):
    with pytest.raises(auth.AuthError) as wrong:
        auth.change_own_password(db, "wang", "not-it-at-all-9", "A-new-long-secret-3", now=NOW)
    assert wrong.value.reason == "bad_credentials" and store.get_user(db, "wang")["failed_logins"] == 1
    with pytest.raises(auth.AuthError) as same:
        auth.change_own_password(db, "wang", PASSWORD, PASSWORD, now=NOW)
    assert same.value.reason == "password_unchanged"
    with pytest.raises(auth.AuthError) as weak:
        auth.change_own_password(db, "wang", PASSWORD, "12345678", now=NOW)
    assert weak.value.key == "password_common"
    here, _ = auth.login(db, "wang", PASSWORD, now=NOW)       # where the user changes it
    elsewhere, _ = auth.login(db, "wang", PASSWORD, now=NOW)  # a browser left logged in, or someone with the old one
    auth.change_own_password(db, "wang", PASSWORD, "A-new-long-secret-3", now=NOW, token=here)
    assert auth.login(db, "wang", "A-new-long-secret-3", now=NOW)[1]["username"] == "wang"
    with pytest.raises(auth.AuthError):
        auth.login(db, "wang", PASSWORD, now=NOW)
    # the other login ends, saying why at its next click; this one goes on
    assert auth.session_end_reason(db, elsewhere) == "own_password"
    assert auth.session_end_reason(db, here) is None and auth.session_user(db, here, now=NOW)["username"] == "wang"
    entry = next(e for e in store.audit_entries(db, limit=20) if e["action"] == "user.password")
    assert entry["actor"] == "wang" and '"own": true' in entry["details"] and '"sessions_ended": 1' in entry["details"]


def test_a_recovery_code_logs_in_once_instead_of_the_apps_code(db):
    """A lost phone and no administrator at hand: one of the ten codes shown when two-step login was
    switched on logs in once; the password is still needed; new codes (the password asked for again)
    end the old ones; switching two-step login off ends them too."""
    secret = auth.begin_two_step(db, "wang", now=NOW)
    done = auth.confirm_two_step(db, "wang", totp.code(secret, NOW), now=NOW)
    codes = done["recovery_codes"]
    assert len(set(codes)) == 10 and all(len(c) == 11 and c[5] == "-" for c in codes)
    stored = store.get_user(db, "wang", True)["totp_recovery"]
    assert not any(c in stored or c.replace("-", "") in stored for c in codes)  # only their hashes are kept
    later = NOW + timedelta(hours=1)
    typed = " " + codes[3].upper().replace("-", " ") + " "  # read off paper: case, spaces and dash do not matter
    assert auth.login(db, "wang", PASSWORD, now=later, code=typed)[1]["username"] == "wang"
    entry = max((e for e in store.audit_entries(db, limit=50) if e["action"] == "login"), key=lambda e: e["id"])
    assert '"recovery_code": true' in entry["details"]
    assert '"recovery_codes_left": 9' in entry["details"]
    assert store.get_user(db, "wang")["recovery_codes_left"] == 9
    with pytest.raises(auth.AuthError) as again:  # each code once
        auth.login(db, "wang", PASSWORD, now=later, code=codes[3])
    assert again.value.reason == "wrong_code" and store.get_user(db, "wang")["failed_logins"] == 1
    with pytest.raises(auth.AuthError) as no_password:  # a code is no password
        auth.login(db, "wang", "not-the-password-9", now=later, code=codes[4])
    assert no_password.value.reason == "bad_credentials"
    # new codes: the password again; the old ones stop working
    with pytest.raises(auth.AuthError):
        auth.new_recovery_codes(db, "wang", "not-the-password-9", now=later)
    fresh = auth.new_recovery_codes(db, "wang", PASSWORD, now=later)
    assert set(fresh).isdisjoint(codes) and store.get_user(db, "wang")["recovery_codes_left"] == 10
    with pytest.raises(auth.AuthError):
        auth.login(db, "wang", PASSWORD, now=later, code=codes[5])
    assert auth.login(db, "wang", PASSWORD, now=later, code=fresh[0])[0]
    auth.disable_two_step(db, "wang", "chief", now=later)  # an administrator's reset
    assert store.get_user(db, "wang")["recovery_codes_left"] == 0
    with pytest.raises(auth.AuthError) as off:
        auth.new_recovery_codes(db, "wang", PASSWORD, now=later)
    assert off.value.reason == "two_step_off"


def test_check_names_administrators_logging_in_by_password_alone(db):
    found = [f for f in selfcheck.check_accounts(db) if f.key == "accounts.admin_one_step"]
    assert [(f.level, f.params["users"]) for f in found] == [("warning", "chief")]
    _enable(db, "chief")
    assert "accounts.admin_one_step" not in {f.key for f in selfcheck.check_accounts(db)}


def test_the_account_page_sets_up_the_app_and_changes_the_password(tmp_path, monkeypatch):
    from streamlit.testing.v1 import AppTest

    from dashboard.auth import login_for_test

    db_path = tmp_path / "rw.db"
    db = store.open_db(db_path)
    auth.create_user(db, "wang", PASSWORD, "monitor", "test")
    monkeypatch.setenv("RUMOURWATCH_DB_PATH", str(db_path))
    at = AppTest.from_file(str(REPO_ROOT / "dashboard" / "app_pages" / "account.py"), default_timeout=60)
    login_for_test(at, "wang", str(db_path))
    at.run()
    assert not at.exception and "两步验证未开启。" in [i.value for i in at.info]
    elsewhere = AppTest.from_file(str(REPO_ROOT / "dashboard" / "streamlit_app.py"), default_timeout=60)
    login_for_test(elsewhere, "wang", str(db_path))  # the same user logged in on another computer
    elsewhere.run()
    assert not elsewhere.exception and elsewhere.sidebar.button
    at.button(key="two_step_begin").click().run()
    assert not at.exception
    shown = at.code[0].value.replace(" ", "")  # the secret, for typing in by hand; the QR code above it
    assert shown == store.get_user(db, "wang", True)["totp_pending"]
    at.text_input(key="two_step_code").input(totp.code(shown, datetime.now(UTC)))
    at.button[[b.label for b in at.button].index("确认开启")].click().run()
    assert not at.exception
    assert any("两步验证已开启" in s.value for s in at.success), [s.value for s in at.success]
    assert store.get_user(db, "wang")["totp_enabled_at"]
    codes = at.code[-1].value.split("\n")  # the recovery codes, this once, to print or copy
    assert len(codes) == 10 and any("恢复码" in w.value for w in at.warning)
    assert at.get("download_button") and "还有 10 个可用" in " ".join(c.value for c in at.caption)
    at.run()
    assert not any(c.value == "\n".join(codes) for c in at.code)  # gone: only their hashes are kept
    assert auth.login(db, "wang", PASSWORD, code=codes[0])[0]
    # the password, in the same page
    at.text_input(key="own_pw_current").input(PASSWORD)
    at.text_input(key="own_pw1").input("A-new-long-secret-3")
    at.text_input(key="own_pw2").input("A-new-long-secret-3")
    at.button[[b.label for b in at.button].index("修改密码")].click().run()
    assert any("密码已修改" in s.value for s in at.success), [s.value for s in at.success]
    assert auth.verify_password("A-new-long-secret-3", store.get_user(db, "wang", True)["password_hash"])
    at.run()  # this login goes on
    assert not at.exception and at.title[0].value == "我的账号"
    elsewhere.run()  # the other one's next click: the login form, saying why
    assert [x.value for x in elsewhere.title] == ["登录"]
    assert [w.value for w in elsewhere.warning] == [
        "您的密码已在另一处登录中修改，这里的登录已结束，请用新密码登录。如非本人操作，请立即联系管理员。"]


def test_an_unknown_role_in_two_step_roles_is_refused_at_start():
    from rumourwatch.config import load_settings
    from rumourwatch.errors import ConfigError

    assert auth.Policy.from_settings(load_settings(two_step_roles="admin, leader")).two_step_roles == {"admin",
                                                                                                       "leader"}
    with pytest.raises(ConfigError) as exc:
        load_settings(env={"RUMOURWATCH_TWO_STEP_ROLES": "admin,boss"})
    assert exc.value.key == "setting_two_step_roles" and "boss" in str(exc.value)
    user = {"role": "admin", "two_step": False}
    assert auth.two_step_missing(user, auth.Policy(two_step_roles=frozenset({"admin"})))
    assert not auth.two_step_missing(dict(user, two_step=True), auth.Policy(two_step_roles=frozenset({"admin"})))
    assert not auth.two_step_missing(user, auth.Policy())
