"""舆情风险点 (seed 001: "定期梳理舆情风险点"): the topics, accounts and places that keep producing
negative or false health items in a period, with the weeks they came back in; each table exports as
CSV, and an account opens its items on 条目检索. Monitors, leaders and admins."""

from datetime import timedelta

import streamlit as st

from dashboard import data, workflow_ui as ui
from dashboard.auth import require_role
from dashboard.strings import t
from dashboard.ui import nav_key, open_search
from rumourwatch import risk

user = require_role("monitor", "leader", "admin")
path = ui.db_path()
settings = data.settings()
st.title(t("risk.title"))
st.caption(t("risk.caption", weeks=risk.RECURRING_WEEKS, threshold=f"{settings.rumour_threshold:g}"))

SPANS = {"30": 30, "90": 90, "180": 180, "custom": None}
today = data.china_today()
cols = st.columns([2, 3])
span = cols[0].segmented_control(t("risk.span"), list(SPANS), default="90", key="risk_span",
                                 format_func=lambda k: t(f"risk.span.{k}"))
custom = None
if span == "custom":
    custom = ui.picked_days(cols[1].date_input(t("risk.range"), value=(today - timedelta(days=89), today),
                                               key="risk_range"))
    if len(custom) < 2:
        st.stop()
else:
    custom = (today - timedelta(days=SPANS[span or "90"] - 1), today)
start, end = data.period_bounds("custom", tuple(custom))
points = data.risk_points(path, start, end, settings.rumour_threshold)
st.info(risk.summary(points), icon=":material/crisis_alert:")

weeks = points["period"]["weeks"]
tabs = st.tabs([t(f"risk.tab.{k}", n=sum(r["recurring"] for r in points[k])) for k in risk.KINDS])
for tab, kind in zip(tabs, risk.KINDS):
    with tab:
        if not points[kind]:
            st.info(t(f"risk.empty.{kind}"))
            continue
        # the very rows and headers of the CSV, so the page and the file say the same
        header = risk.HEADERS[kind]
        picked = ui.table([dict(zip(header, row)) for row in risk.rows(points, kind)], {h: h for h in header},
                          key=nav_key(f"risk_{kind}"), pick="账号" if kind == "accounts" else None)
        if kind == "accounts":
            st.caption(t("risk.accounts.click"))
            if picked:
                open_search(account=picked)
        st.download_button(t("risk.export"), risk.risk_csv(points, kind).encode("utf-8"),
                           file_name=f"舆情风险点_{t(f'risk.kind.{kind}')}_{custom[0]}_{custom[1]}.csv",
                           mime="text/csv", key=f"risk_export_{kind}")
