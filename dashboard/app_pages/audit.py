"""审计日志: who did what and when (logins, account changes, workflow actions). Admin only, read-only."""

import json

import pandas as pd
import streamlit as st

from dashboard import auth as dashboard_auth
from dashboard.auth import require_role
from dashboard.strings import t
from rumourwatch import store

require_role("admin")
st.title(t("audit.title"))

with st.container(horizontal=True, vertical_alignment="bottom"):
    actor = st.text_input(t("audit.actor"), key="audit_actor", max_chars=64, width=200)
    target_type = st.text_input(t("audit.target_type"), key="audit_target", max_chars=64, width=200)
    action = st.text_input(t("audit.action"), key="audit_action", max_chars=64, width=200)
    limit = st.number_input(t("audit.limit"), min_value=10, max_value=5000, value=200, step=50, width=160)

rows = dashboard_auth.run_db(store.audit_entries, limit=int(limit), actor=actor.strip() or None,
                             target_type=target_type.strip() or None)
if action.strip():
    rows = [r for r in rows if action.strip() in r["action"]]
if not rows:
    st.info(t("audit.empty"))
    st.stop()


def details(raw) -> str:
    if not raw:
        return ""
    try:
        return json.dumps(json.loads(raw), ensure_ascii=False)
    except ValueError:
        return str(raw)


st.caption(t("audit.caption", n=len(rows)))
# Cells are plain text: an actor or detail holding markup from a hostile login name stays inert.
st.dataframe(pd.DataFrame([{
    t("audit.col.at"): dashboard_auth.to_china(r["at"], seconds=True), t("audit.col.actor"): r["actor"],
    t("audit.col.action"): r["action"], t("audit.col.target"): " ".join(
        str(x) for x in (r["target_type"], r["target_id"]) if x is not None),
    t("audit.col.details"): details(r["details"]),
} for r in rows]), hide_index=True, width="stretch")
