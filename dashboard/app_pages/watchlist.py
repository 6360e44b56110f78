"""发布者关注名单 (seed 000 §(四)2): accounts with items confirmed false in a period, with their
reach, exported for the competent authority; and takedown requests, requested → removed / refused."""

from datetime import datetime, timedelta

import streamlit as st

from dashboard import data, workflow_ui as ui
from dashboard.auth import can, require_role
from dashboard.strings import t
from dashboard.ui import nav_key, open_search
from rumourwatch import experts, store
from rumourwatch.records import CST

user = require_role("monitor", "leader", "admin")
path = ui.db_path()
st.title(t("wl.title"))
st.caption(t("wl.caption"))
ui.flash()

today = data.china_today()
cols = st.columns([2, 1])
span = cols[0].date_input(t("wl.range"), value=(today - timedelta(days=30), today), key="wl_range")
minimum = cols[1].number_input(t("wl.min"), min_value=1, value=1, step=1, key="wl_min")
span = ui.picked_days(span)
if len(span) < 2:
    st.stop()
start = datetime(span[0].year, span[0].month, span[0].day, tzinfo=CST)
end = datetime(span[1].year, span[1].month, span[1].day, tzinfo=CST) + timedelta(days=1)
rows = ui.call(path, experts.publisher_watchlist, start, end, int(minimum))
if rows:
    # a row opens every item of that account on 条目检索 (the table comes back unselected on return)
    picked = ui.table([dict(r, last=data.to_china(r["last_at"]),
                            takedowns=f"{r['takedowns_requested']}/{r['takedowns_removed']}",
                            followers="" if r["followers"] is None else r["followers"]) for r in rows],
                      {"platform": t("col.platform"), "account": t("col.account"),
                       "false_items": t("col.false_items"), "clusters": t("col.clusters"), "reach": t("col.reach"),
                       "followers": t("col.followers"), "last": t("col.last_at"), "takedowns": t("col.takedowns")},
                      key=nav_key("watchlist_table"), pick="account")
    st.caption(t("wl.click"))
    if picked:
        open_search(account=picked)
    st.download_button(t("wl.export"), experts.watchlist_csv(rows).encode("utf-8"),
                       file_name=f"publisher_watchlist_{span[0]}_{span[1]}.csv", mime="text/csv")
else:
    st.info(t("wl.empty"))

st.subheader(t("wl.takedowns"))
may_act = can("alerts.manage", user)
if may_act:
    with ui.action_form("takedown_form"):
        c = st.columns([1, 3, 1], vertical_alignment="bottom")
        item_id = c[0].number_input(t("wl.takedown.item"), min_value=1, step=1, value=None, key="td_item")
        note = c[1].text_input(t("wl.takedown.note"), key="td_note")
        if c[2].form_submit_button(t("wl.takedown.request"), type="primary"):
            if not item_id:  # pressing with no item said nothing before
                st.error(t("wf.error", detail=t("wl.takedown.need_item")))
            else:
                ui.act(path, t("wl.takedown.request"), experts.request_takedown, int(item_id), user["username"],
                       data.now_utc(), note)
takedowns = ui.call(path, store.list_takedowns)
ui.table([dict(d, status_label=t(f"wl.takedown.status.{d['status']}"), at=data.to_china(d["requested_at"]),
               outcome=data.to_china(d["outcome_at"])) for d in takedowns],
         {"id": "#", "item_id": t("col.item"), "platform": t("col.platform"), "account": t("col.account"),
          "url": t("col.url"), "status_label": t("col.status"), "at": t("wl.takedown.col.requested_at"),
          "outcome": t("wl.takedown.col.outcome_at"), "note": t("col.note")}, key="takedown_table")
if may_act:
    for d in [d for d in takedowns if d["status"] == "requested"]:
        c = st.columns(2)
        if c[0].button(t("wl.takedown.removed", id=d["id"]), key=f"td_removed_{d['id']}"):
            ui.act(path, t("wl.takedown.removed", id=d["id"]), experts.record_takedown_outcome, d["id"], "removed",
                   user["username"], data.now_utc())
        if c[1].button(t("wl.takedown.refused", id=d["id"]), key=f"td_refused_{d['id']}"):
            ui.act(path, t("wl.takedown.refused", id=d["id"]), experts.record_takedown_outcome, d["id"], "refused",
                   user["username"], data.now_utc())
