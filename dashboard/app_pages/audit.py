"""审计日志: who did what and when (logins, account changes, workflow actions), found by period,
kind of action, person and object, named in Chinese (rumourwatch.audit), and exported as CSV for a
review; the export is itself an entry. Admin only, read-only."""

from datetime import timedelta

import pandas as pd
import streamlit as st

from dashboard import auth as dashboard_auth
from dashboard import data, ui
from dashboard.auth import require_role
from dashboard.strings import t
from dashboard.workflow_ui import picked_days
from rumourwatch import audit

user = require_role("admin")
st.title(t("audit.title"))
st.caption(t("audit.page_caption"))
path = ui.page_settings().db_path


def show_seal() -> None:
    """Whether the log's seals verify, on request (every entry is read): the 系统自检 finding."""
    from rumourwatch.selfcheck import check_audit_seal

    key_file = ui.page_settings().audit_key_file
    if key_file and not st.button(t("audit.verify"), key="audit_verify", icon=":material/verified:",
                                  help=t("audit.verify.help")):
        return
    for finding in dashboard_auth.run_db(check_audit_seal, key_file):
        ui.show_finding(finding)


show_seal()

today = data.now_utc().astimezone(data.CST).date()
with st.container(horizontal=True, vertical_alignment="bottom"):
    span = st.date_input(t("audit.period"), value=(today - timedelta(days=29), today), max_value=today,
                         key="audit_period", width=240)
    group = st.selectbox(t("audit.group"), [None, *audit.GROUP_ZH], key="audit_group", width=150,
                         format_func=lambda g: t("audit.any") if g is None else audit.GROUP_ZH[g])
    action = st.text_input(t("audit.action"), key="audit_action", max_chars=64, width=170,
                           help=t("audit.action.help"))
    actor = st.text_input(t("audit.actor"), key="audit_actor", max_chars=64, width=150, help=t("audit.actor.help"))
    target_type = st.selectbox(t("audit.target_type"), [None, *audit.TARGET_ZH], key="audit_target", width=130,
                               format_func=lambda k: t("audit.any") if k is None else audit.TARGET_ZH[k])
    target_id = st.text_input(t("audit.target_id"), key="audit_target_id", max_chars=200, width=130,
                              help=t("audit.target_id.help"))
    limit = st.number_input(t("audit.limit"), min_value=10, max_value=5000, value=200, step=50, width=140)

picked = picked_days(span)
first, last = (picked[0], picked[-1]) if picked else (today, today)
start, end = data.period_bounds("custom", (first, last))
query = audit.AuditQuery(start=start, end=end, actor=actor.strip() or None, group=group,
                         contains=action.strip() or None, target_type=target_type,
                         target_id=target_id.strip() or None)
rows, total = dashboard_auth.run_db(audit.search, query, int(limit))
if not rows:
    st.info(t("audit.empty"))
    st.stop()

st.caption(t("audit.caption", total=f"{total:,}", n=f"{len(rows):,}"))
columns = [t("audit.col.at"), t("audit.col.actor"), t("audit.col.action"), t("audit.col.code"),
           t("audit.col.target"), t("audit.col.details")]
# Cells are plain text: an actor or detail holding markup from a hostile login name stays inert.
st.dataframe(pd.DataFrame([(r[0], r[1], r[2], r[3], r[5], r[6]) for r in map(audit.row, rows)], columns=columns),
             hide_index=True, width="stretch",
             column_config={columns[0]: st.column_config.TextColumn(width=150),
                            columns[2]: st.column_config.TextColumn(width=150),
                            columns[3]: st.column_config.TextColumn(width=130)})

shown = min(total, audit.EXPORT_LIMIT)


def export_file() -> tuple[bytes, str, str]:
    """The CSV of every entry matching (up to EXPORT_LIMIT), made now and recorded (audit.export)."""
    text, made, _ = data.workflow(path, audit.export, query, user["username"], data.now_utc())
    name = f"审计日志_{first}_{last}.csv"
    return text.encode("utf-8"), name, t("audit.export.download", name=name, n=f"{made:,}")


ui.export_in_two_steps("audit_export", repr(query), t("audit.export", n=f"{shown:,}"), t("audit.export.help"),
                       export_file)
if total > audit.EXPORT_LIMIT:
    st.caption(t("audit.export.capped", limit=f"{audit.EXPORT_LIMIT:,}", total=f"{total:,}"))
