"""举报线索 (seed 000 §(四)1): tips from the 12320 / 12345 hotlines and the online reporting channel.
A monitor records what was reported; the content enters the feed as an item that the worker scores,
clusters and alerts on like any other (rumourwatch.tips). Below: the tips of a period, with their
items' scores and how many tips name the same story."""

from datetime import datetime, timedelta

import streamlit as st

from dashboard import data
from dashboard import workflow_ui as ui
from dashboard.auth import can, may_open, require_role
from dashboard.strings import t
from dashboard.ui import channel_label, debunked_label, nav_key, open_item, probability_text
from rumourwatch import store, tips
from rumourwatch.errors import RumourwatchError
from rumourwatch.records import CST, iso

user = require_role("monitor", "admin")
path = ui.db_path()
st.title(t("tips.title"))
st.caption(t("tips.caption"))
ui.flash()

if can("tips.record", user):
    now_cn = data.now_utc().astimezone(CST)
    # A recorded tip empties the form for the next call: its widgets are drawn anew under keys of
    # the next generation (a failed one keeps what was typed, to correct it).
    gen = st.session_state.get("tip_form_gen", 0)
    with ui.action_form(f"tip_form_{gen}"):
        c = st.columns([1, 1, 1, 1])
        channel = c[0].selectbox(t("tips.channel"), list(tips.CHANNELS), format_func=channel_label,
                                 key=f"tip_channel_{gen}")
        work_order = c[1].text_input(t("tips.work_order"), key=f"tip_work_order_{gen}", help=t("tips.work_order.help"))
        day = c[2].date_input(t("tips.received_day"), value=now_cn.date(), max_value=now_cn.date(), key=f"tip_day_{gen}")
        clock = c[3].time_input(t("tips.received_time"), value=now_cn.time().replace(second=0, microsecond=0),
                                step=timedelta(minutes=1), key=f"tip_time_{gen}")
        text = st.text_area(t("tips.text"), key=f"tip_text_{gen}", help=t("tips.text.help"))
        c = st.columns([1, 1, 2])
        platform = c[0].text_input(t("tips.platform"), key=f"tip_platform_{gen}", placeholder=t("tips.platform.placeholder"))
        account = c[1].text_input(t("tips.account"), key=f"tip_account_{gen}")
        url = c[2].text_input(t("tips.url"), key=f"tip_url_{gen}")
        note = st.text_input(t("tips.note"), key=f"tip_note_{gen}", help=t("tips.note.help"))
        if st.form_submit_button(t("tips.submit"), type="primary"):
            received = datetime.combine(day, clock, tzinfo=CST)
            try:
                done = data.workflow(path, tips.record_tip, channel=channel, text=text, actor=user["username"],
                                     now=data.now_utc(), received_at=received, platform=platform, url=url,
                                     account=account, work_order=work_order, note=note)
            except RumourwatchError as exc:
                ui.show_error(exc, "wf.error")
            else:
                st.session_state["tip_form_gen"] = gen + 1
                st.session_state[ui.FLASH_KEY] = t("tips.done" if done["new_item"] else "tips.done.known",
                                                   tip=done["tip_id"], item=done["item_id"])
                st.rerun()

    with st.expander(t("tips.import")):
        st.caption(t("tips.import.caption"))
        # an imported file leaves the uploader: the next run draws it empty (a new key), so a second
        # press cannot record the rows without a work-order number twice
        upload_gen = st.session_state.get("tip_import_gen", 0)
        c = st.columns([1, 2], vertical_alignment="bottom")
        default = c[0].selectbox(t("tips.import.channel"), list(tips.CHANNELS),
                                 format_func=channel_label, key="tip_import_channel")
        upload = c[1].file_uploader(t("tips.import.file"), type=["xlsx", "csv"], key=f"tip_import_file_{upload_gen}")
        if st.button(t("tips.import.submit"), disabled=upload is None) and upload is not None:
            try:
                report = data.workflow(path, tips.import_tips, upload.getvalue(), user["username"],
                                       data.now_utc(), default, origin=upload.name,
                                       max_mb=data.settings().max_upload_mb)
            except RumourwatchError as exc:
                ui.show_error(exc, "wf.error")
            else:
                st.session_state["tip_import_gen"] = upload_gen + 1
                shown = st.warning if report.problems else st.success
                shown(t("tips.import.done", recorded=report.recorded, already=report.already,
                        bad=len(report.problems)))
                for row, exc in report.problems:
                    st.error(t("tips.import.row", row=row, why=ui.refusal(exc)))

st.subheader(t("tips.list"))
days = st.segmented_control(t("tips.period"), [7, 30, 90], default=30, format_func=lambda d: t("tips.days", n=d),
                            key="tips_days") or 30
start = data.now_utc() - timedelta(days=int(days))
rows = ui.call(path, store.list_tips, iso(start))
if not rows:
    st.info(t("tips.empty"))
else:
    clickable = may_open("item", user)
    picked = ui.table([dict(r, at=data.to_china(r["received_at"]), channel_label=channel_label(r["channel"]),
                            probability=probability_text(r),
                            debunked=debunked_label(r))
                       for r in rows],
                      {"id": "#", "at": t("tips.col.received"), "channel_label": t("tips.channel"),
                       "work_order": t("tips.work_order"), "item_id": t("col.item"), "platform": t("col.platform"),
                       "text": t("col.text"), "probability": t("col.probability"), "debunked": t("col.debunked"),
                       "story_tips": t("tips.col.story_tips"), "recorded_by": t("tips.col.recorded_by"),
                       "note": t("col.note")}, key=nav_key("tips_table"),
                      pick="item_id" if clickable else None)
    if clickable:
        st.caption(t("tips.click"))
    if picked is not None:
        open_item(int(picked))
