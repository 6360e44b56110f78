"""我的账号: every user changes their own password and sets up two-step login (an authenticator
app's 6-digit code after the password; rumourwatch.totp). Both are audited; a password change
keeps this login, ends the others, and the rules of the 用户管理 page apply."""

import streamlit as st

from dashboard import auth as dashboard_auth
from dashboard.auth import require_role
from dashboard.strings import t
from dashboard.workflow_ui import refusal
from rumourwatch import auth, store, totp

RECOVERY_KEY = "account_recovery_codes"  # new recovery codes, shown on the next run only

user = require_role()
st.title(t("account.title"))
if auth.two_step_missing(user, dashboard_auth.policy()):
    st.warning(t("auth.two_step_required", role=t(f"role.{user['role']}")))
st.caption(t("account.caption", name=user["username"], role=t(f"role.{user['role']}")))

flash = st.session_state.pop("account_flash", None)
if flash:
    st.success(flash)


def act(message: str, fn, *args, **kwargs):
    """Run a change of one's own account; show why it was refused, or rerun with a note."""
    try:
        result = dashboard_auth.run_db(fn, *args, **kwargs)
    except auth.AuthError as exc:
        st.error(refusal(exc))
        return None
    if message:
        st.session_state["account_flash"] = message
        st.rerun()
    return result


st.subheader(t("account.password"))
with st.form("own_password", clear_on_submit=True, width=420):
    current = st.text_input(t("account.password.current"), type="password", key="own_pw_current")
    new1 = st.text_input(t("account.password.new"), type="password", help=t("users.password.help"), key="own_pw1")
    new2 = st.text_input(t("users.password.repeat"), type="password", key="own_pw2")
    change = st.form_submit_button(t("account.password.button"), type="primary")
if change:
    if new1 != new2:
        st.error(t("users.password.mismatch"))
    else:
        act(t("account.password.done"), auth.change_own_password, user["username"], current, new1,
            dashboard_auth.policy(), token=st.session_state.get(dashboard_auth.TOKEN_KEY))

st.subheader(t("account.two_step"))
st.caption(t("account.two_step.caption"))
me = dashboard_auth.run_db(store.get_user, user["username"], True)
codes = st.session_state.pop(RECOVERY_KEY, None)
if codes:  # shown this once: only their hashes are kept
    st.warning(t("account.recovery.shown", n=len(codes)))
    st.code("\n".join(codes), language=None)
    st.download_button(t("account.recovery.download"), "\n".join([t("account.recovery.file", name=user["username"]),
                                                                   *codes, ""]),
                       f"rumourwatch-{user['username']}-恢复码.txt", mime="text/plain", key="recovery_download")
if me["totp_enabled_at"]:
    st.success(t("account.two_step.on", at=dashboard_auth.to_china(me["totp_enabled_at"])))
    left = me["recovery_codes_left"]
    (st.caption if left > 2 else st.warning)(t("account.recovery.left", n=left))
    with st.form("recovery_new", clear_on_submit=True, width=420):
        password = st.text_input(t("account.password.current"), type="password", key="recovery_password")
        remake = st.form_submit_button(t("account.recovery.new"), help=t("account.recovery.new.help"))
    if remake:
        made = act("", auth.new_recovery_codes, user["username"], password, dashboard_auth.policy())
        if made:
            st.session_state[RECOVERY_KEY] = made
            st.rerun()
    with st.form("two_step_off", clear_on_submit=True, width=420):
        code = st.text_input(t("auth.code"), max_chars=8, key="two_step_off_code", help=t("account.two_step.off.help"))
        off = st.form_submit_button(t("account.two_step.off"))
    if off:
        act(t("account.two_step.off.done"), auth.disable_two_step, user["username"], user["username"], code)
elif me["totp_pending"]:
    secret = me["totp_pending"]
    st.markdown(t("account.two_step.scan"))
    import segno

    st.image(segno.make(totp.provisioning_uri(secret, user["username"]), error="m").svg_inline(scale=5), width=220)
    st.code(" ".join(secret[i:i + 4] for i in range(0, len(secret), 4)), language=None)
    st.caption(t("account.two_step.manual", issuer=totp.ISSUER, name=user["username"]))
    with st.form("two_step_confirm", clear_on_submit=True, width=420):
        code = st.text_input(t("auth.code"), max_chars=8, key="two_step_code", placeholder="123456")
        confirm = st.form_submit_button(t("account.two_step.confirm"), type="primary")
    if confirm:
        done = act("", auth.confirm_two_step, user["username"], code)
        if done:
            st.session_state[RECOVERY_KEY] = done["recovery_codes"]
            st.session_state["account_flash"] = t("account.two_step.on.done")
            st.rerun()
    if st.button(t("account.two_step.restart"), key="two_step_restart"):
        act("", auth.begin_two_step, user["username"])
        st.rerun()
else:
    st.info(t("account.two_step.off.state"))
    if st.button(t("account.two_step.begin"), key="two_step_begin", type="primary"):
        act("", auth.begin_two_step, user["username"])
        st.rerun()
