"""用户管理: accounts, roles, disabling, password resets and unlocking. Admin only; every change is
written to the audit log with the acting admin (rumourwatch/auth.py does the work)."""

import pandas as pd
import streamlit as st

from dashboard import auth as dashboard_auth
from dashboard.auth import require_role
from dashboard.strings import t
from dashboard.workflow_ui import refusal, show_error
from rumourwatch import auth, store
from rumourwatch.errors import RumourwatchError

user = require_role("admin")
st.title(t("users.title"))

flash = st.session_state.pop("users_flash", None)
if flash:
    st.success(flash)


def act(message: str, fn, *args, **kwargs) -> None:
    """Run an account change as the logged-in admin; show why it was refused, or rerun with a note."""
    try:
        dashboard_auth.run_db(fn, *args, **kwargs)
    except auth.AuthError as exc:
        st.error(t("users.refused", detail=refusal(exc)))
    except RumourwatchError as exc:
        show_error(exc, "users.refused")
    else:
        st.session_state["users_flash"] = message
        st.rerun()


def state_label(u: dict) -> str:
    if u["disabled"]:
        return t("users.state.disabled")
    if u["locked_until"]:
        return t("users.state.locked", until=dashboard_auth.to_china(u["locked_until"]))
    return t("users.state.active")


accounts = dashboard_auth.run_db(auth.list_users)
frame = pd.DataFrame([{
    t("users.col.username"): u["username"], t("users.col.name"): u["display_name"] or "",
    t("users.col.role"): t(f"role.{u['role']}"), t("users.col.expert"): "" if u["expert_id"] is None else str(u["expert_id"]),
    t("users.col.unit"): u["unit_name"] or "",
    t("users.col.state"): state_label(u), t("users.col.last_login"): dashboard_auth.to_china(u["last_login_at"]),
    t("users.col.two_step"): t("users.two_step.on", n=u["recovery_codes_left"]) if u["totp_enabled_at"]
    else t("users.two_step.off"),
} for u in accounts])
st.caption(t("users.count", n=len(accounts)))
st.dataframe(frame, hide_index=True, width="stretch")

# who is logged in now: a login nobody recognises is ended from the 状态 tab below (强制下线)
online = dashboard_auth.run_db(auth.open_sessions, dashboard_auth.policy())
st.subheader(t("users.online", n=len(online)))
if online:
    st.dataframe(pd.DataFrame([{
        t("users.col.username"): s["username"], t("users.col.role"): t(f"role.{s['role']}"),
        t("users.online.since"): dashboard_auth.to_china(s["created_at"]),
        t("users.online.seen"): dashboard_auth.to_china(s["last_seen_at"]),
    } for s in online]), hide_index=True, width="stretch")

roles = list(auth.ROLES)
role_label = {r: t(f"role.{r}") for r in roles}
# a correspondent reports for one registered unit (信息报送); None: no unit
all_units = dashboard_auth.run_db(store.list_units, active_only=False)
unit_ids = [None] + [u["id"] for u in all_units if u["active"]]
unit_names = {u["id"]: u["name"] for u in all_units}


def unit_label(unit_id) -> str:
    return t("users.unit.none") if unit_id is None else unit_names.get(unit_id, str(unit_id))


st.subheader(t("users.add"))
with st.form("add_user", clear_on_submit=True):
    cols = st.columns(2)
    new_name = cols[0].text_input(t("users.col.username"), help=t("users.username.help"), max_chars=32,
                                 key="new_username")
    display = cols[1].text_input(t("users.col.name"), max_chars=64, key="new_display")
    cols = st.columns(3)
    new_role = cols[0].selectbox(t("users.col.role"), roles, format_func=role_label.get, index=0, key="new_role")
    expert_id = cols[1].number_input(t("users.col.expert"), min_value=0, step=1, value=0,
                                     help=t("users.expert.help"), key="new_expert")
    new_unit = cols[2].selectbox(t("users.col.unit"), unit_ids, format_func=unit_label, key="new_unit",
                                 help=t("users.unit.help"))
    cols = st.columns(2)
    pw1 = cols[0].text_input(t("auth.password"), type="password", help=t("users.password.help"), key="new_pw1")
    pw2 = cols[1].text_input(t("users.password.repeat"), type="password", key="new_pw2")
    add = st.form_submit_button(t("users.add.button"), type="primary")
if add:
    if pw1 != pw2:
        st.error(t("users.password.mismatch"))
    else:
        act(t("users.added", name=new_name), auth.create_user, new_name.strip(), pw1, new_role, user["username"],
            display_name=display.strip() or None, expert_id=int(expert_id) or None, unit_id=new_unit)

if accounts:
    st.subheader(t("users.change"))
    names = [u["username"] for u in accounts]
    pick = st.selectbox(t("users.pick"), names, key="users_pick")
    chosen = next(u for u in accounts if u["username"] == pick)
    tab_role, tab_state, tab_pw = st.tabs([t("users.tab.role"), t("users.tab.state"), t("users.tab.password")])
    with tab_role:
        role = st.selectbox(t("users.col.role"), roles, index=roles.index(chosen["role"]),
                            format_func=role_label.get, key="users_role")
        eid = st.number_input(t("users.col.expert"), min_value=0, step=1, value=chosen["expert_id"] or 0,
                              key="users_expert", help=t("users.expert.help"))
        choices = unit_ids if chosen["unit_id"] in unit_ids else [*unit_ids, chosen["unit_id"]]
        uid = st.selectbox(t("users.col.unit"), choices, index=choices.index(chosen["unit_id"]),
                           format_func=unit_label, key="users_unit", help=t("users.unit.help"))
        if st.button(t("users.role.button"), key="users_role_btn"):
            act(t("users.role.done", name=pick, role=role_label[role]), auth.set_role, pick, role,
                user["username"], expert_id=int(eid) or None, unit_id=uid)
    with tab_state:
        st.caption(state_label(chosen))
        if chosen["disabled"]:
            if st.button(t("users.enable"), key="users_enable"):
                act(t("users.enabled", name=pick), auth.set_disabled, pick, False, user["username"])
        elif st.button(t("users.disable"), key="users_disable"):
            act(t("users.disabled", name=pick), auth.set_disabled, pick, True, user["username"])
        if chosen["locked_until"] and st.button(t("users.unlock"), key="users_unlock"):
            act(t("users.unlocked", name=pick), auth.unlock, pick, user["username"])
        if chosen["totp_enabled_at"] and pick != user["username"] and st.button(
                t("users.two_step.reset"), key="users_two_step_reset", help=t("users.two_step.reset.help")):
            act(t("users.two_step.reset.done", name=pick), auth.disable_two_step, pick, user["username"])
        sessions = sum(s["username"] == pick for s in online)
        st.caption(t("users.sessions", n=sessions))
        if sessions and st.button(t("users.end_sessions"), key="users_end_sessions",
                                  help=t("users.end_sessions.help")):
            act(t("users.sessions_ended", name=pick), auth.end_sessions, pick, user["username"])
    with tab_pw:
        with st.form("reset_pw", clear_on_submit=True):
            r1 = st.text_input(t("auth.password"), type="password", help=t("users.password.help"))
            r2 = st.text_input(t("users.password.repeat"), type="password")
            reset = st.form_submit_button(t("users.password.button"))
        if reset:
            if r1 != r2:
                st.error(t("users.password.mismatch"))
            else:
                act(t("users.password.done", name=pick), auth.set_password, pick, r1, user["username"])
