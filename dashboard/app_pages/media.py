"""媒体约请 (seed 000 §(三)2): a media outlet asks for a pool expert for an interview, a programme, a
live show, an article or the review of a health programme; the office records it, offers it to one
of the experts the pool suggests (the topic's specialty, a level at or above the outlet's, free
then, not invited often lately), and records what came of it. Experts answer on the workbench
(rumourwatch.media). Reachable as `?request=ID`. The office's press conferences, media activities
and part in the higher commission's press events (新闻发布与媒体活动, seed 001 and 004) are recorded
here too (rumourwatch.press)."""

from datetime import datetime, timedelta
from datetime import time as dt_time

import streamlit as st

from dashboard import data
from dashboard import workflow_ui as ui
from dashboard.auth import require_role
from dashboard.strings import t
from rumourwatch import media, press, store
from rumourwatch.errors import RumourwatchError
from rumourwatch.experts import LEVELS, TOPICS
from rumourwatch.records import CST, iso

user = require_role("monitor", "admin")
path = ui.db_path()
actor = user["username"]
st.title(t("media.title"))
st.caption(t("media.caption"))
ui.flash()

# --- a new request ---------------------------------------------------------------------------
now_cn = data.now_utc().astimezone(CST)
gen = st.session_state.get("media_form_gen", 0)  # a saved request empties the form (new keys)
with st.expander(t("media.new"), expanded=False), ui.action_form(f"media_form_{gen}"):
    c = st.columns([2, 1, 1])
    outlet = c[0].text_input(t("media.outlet"), key=f"media_outlet_{gen}", placeholder=t("media.outlet.placeholder"))
    level = c[1].selectbox(t("media.outlet_level"), LEVELS, index=LEVELS.index("市级"), key=f"media_level_{gen}")
    kind = c[2].selectbox(t("media.kind"), media.KINDS, key=f"media_kind_{gen}")
    c = st.columns([2, 2, 1])
    programme = c[0].text_input(t("media.field.programme"), key=f"media_programme_{gen}")
    topic = c[1].selectbox(t("media.topic"), [None, *TOPICS], key=f"media_topic_{gen}",
                           format_func=lambda v: t("media.topic.none") if v is None else v)
    region = c[2].text_input(t("media.region"), key=f"media_region_{gen}")
    c = st.columns(3)
    day = c[0].date_input(t("media.day"), value=(now_cn + timedelta(days=1)).date(), min_value=now_cn.date(),
                          key=f"media_day_{gen}")
    clock = c[1].time_input(t("media.time"), value=datetime.strptime("09:00", "%H:%M").time(),
                            step=timedelta(minutes=15), key=f"media_time_{gen}")
    hours = c[2].number_input(t("media.hours"), min_value=0.5, max_value=media.MAX_HOURS, value=2.0, step=0.5,
                              key=f"media_hours_{gen}")
    contact = st.text_input(t("media.field.contact"), key=f"media_contact_{gen}", help=t("media.contact.help"))
    note = st.text_area(t("media.field.note"), key=f"media_note_{gen}", height=80)
    if st.form_submit_button(t("media.save"), type="primary"):
        try:
            request_id = data.workflow(path, media.create_request, outlet=outlet, outlet_level=level, kind=kind,
                                       starts_at=datetime.combine(day, clock, tzinfo=CST), hours=hours,
                                       actor=actor, now=data.now_utc(), programme=programme, topic=topic,
                                       region=region, contact=contact, note=note)
        except RumourwatchError as exc:
            ui.show_error(exc, "wf.error")
        else:
            st.session_state["media_form_gen"] = gen + 1
            st.session_state[ui.FLASH_KEY] = t("media.saved", id=request_id)
            st.query_params["request"] = str(request_id)
            st.rerun()

# --- 新闻发布与媒体活动: the register of press work (rumourwatch.press) ----------------------------
now_utc = data.now_utc()
month_start = now_cn.replace(day=1, hour=0, minute=0, second=0, microsecond=0)
year_start = month_start.replace(month=1)
held = ui.call(path, store.list_press_conferences, limit=500)
this_month = {k: sum(1 for c in held if c["kind"] == k and c["held_at"] >= iso(month_start)) for k in press.KINDS}
with st.expander(t("press.title", conference=this_month["conference"], media=this_month["media_event"],
                   minimum=press.MONTHLY_MINIMUM)):
    st.caption(t("press.caption"))
    upper = sum(1 for c in held if c["kind"] == "upper_event" and c["held_at"] >= iso(year_start))
    st.caption(t("press.upper", y=now_cn.year, n=upper, minimum=press.MINIMUMS["upper_event"][1]))
    pgen = st.session_state.get("press_form_gen", 0)
    with ui.action_form(f"press_form_{pgen}"):
        c = st.columns([2, 1, 1, 3])
        kind = c[0].selectbox(t("press.kind"), press.KINDS, format_func=press.KIND_ZH.get,
                              key=f"press_kind_{pgen}")
        day = c[1].date_input(t("press.day"), value=now_cn.date(), max_value=now_cn.date(), key=f"press_day_{pgen}")
        clock = c[2].time_input(t("press.time"), value=dt_time(10, 0), key=f"press_time_{pgen}")
        topic = c[3].text_input(t("press.topic"), max_chars=press.TOPIC_MAX, key=f"press_topic_{pgen}",
                                placeholder=t("press.topic.placeholder"))
        c = st.columns(3)
        speaker = c[0].text_input(t("press.spokesperson"), max_chars=press.TEXT_MAX, key=f"press_speaker_{pgen}")
        invited = c[1].text_input(t("press.media"), max_chars=press.TEXT_MAX, key=f"press_media_{pgen}",
                                  placeholder=t("press.media.placeholder"))
        link = c[2].text_input(t("press.url"), max_chars=press.TEXT_MAX, key=f"press_url_{pgen}", placeholder="https://")
        if st.form_submit_button(t("press.submit"), type="primary"):
            try:
                done = data.workflow(path, press.record, held_at=press.day_time(day, clock), topic=topic, actor=actor,
                                     now=now_utc, spokesperson=speaker, media=invited, url=link, kind=kind)
            except RumourwatchError as exc:
                ui.show_error(exc, "wf.error")
            else:
                st.session_state["press_form_gen"] = pgen + 1
                st.session_state[ui.FLASH_KEY] = t("press.done", id=done["id"], kind=press.KIND_ZH[done["kind"]],
                                                   topic=done["topic"])
                st.rerun()
    if held:
        ui.table([{"id": c["id"], "kind": press.KIND_ZH[c["kind"]], "held": data.to_china(c["held_at"]),
                   "topic": c["topic"], "spokesperson": c["spokesperson"] or "", "media": c["media"] or "",
                   "alert": f"#{c['alert_id']}" if c["alert_id"] else "", "url": c["url"] or ""} for c in held],
                 {k: t(f"press.col.{k}") for k in ("id", "kind", "held", "topic", "spokesperson", "media", "alert",
                                                   "url")},
                 key="press_table")
        with ui.action_form("press_remove"):
            c = st.columns([2, 2, 1], vertical_alignment="bottom")
            pick = c[0].selectbox(t("press.remove.pick"), held, key="press_remove_pick",
                                  format_func=lambda r: f"#{r['id']} {data.to_china(r['held_at'])} "
                                                        f"{press.KIND_ZH[r['kind']]} {r['topic']}")
            reason = c[1].text_input(t("press.remove.reason"), max_chars=press.REASON_MAX, key="press_remove_reason")
            if c[2].form_submit_button(t("press.remove.submit")):
                ui.act(path, t("press.removed", id=pick["id"]), press.remove, pick["id"], reason=reason, actor=actor,
                       now=now_utc)
    else:
        st.info(t("press.empty"))

# --- the requests ----------------------------------------------------------------------------
shown = st.multiselect(t("media.filter"), media.STATUSES, default=[s for s in media.STATUSES if s not in media.CLOSED],
                       format_func=lambda s: t(f"media.status.{s}"), key="media_filter")
rows = ui.call(path, store.media_requests, tuple(shown) or media.STATUSES)
st.subheader(t("media.list", n=len(rows)))
if not rows:
    st.info(t("media.empty"))
else:
    table = [{"id": r["id"], "starts": data.to_china(r["starts_at"]), "outlet": r["outlet"],
              "level": r["outlet_level"], "kind": r["kind"], "topic": r["topic"] or t("media.topic.none"),
              "status": t(f"media.status.{r['status']}"), "expert": r["expert_name"] or "—"} for r in rows]
    picked = ui.table(table, {k: t(f"media.col.{k}") for k in table[0]}, key="media_table", pick="id")
    if picked is not None:
        st.query_params["request"] = str(picked)

asked = st.query_params.get("request")
request = ui.call(path, store.get_media_request, int(asked)) if asked and asked.isdigit() else None
if asked and request is None:
    st.warning(t("media.missing", id=asked))
if request is None:
    st.stop()

# --- one request -----------------------------------------------------------------------------
st.divider()
st.subheader(t("media.detail", id=request["id"], outlet=request["outlet"], level=request["outlet_level"],
               kind=request["kind"]))
facts = [t("media.detail.when", at=data.to_china(request["starts_at"]), hours=f"{request['hours']:g}"),
         t("media.detail.topic", topic=request["topic"] or t("media.topic.none")),
         t("media.detail.status", status=t(f"media.status.{request['status']}"))]
if request["programme"]:
    facts.insert(0, t("media.detail.programme", programme=request["programme"]))
if request["region"]:
    facts.append(t("media.detail.region", region=request["region"]))
if request["contact"]:
    facts.append(t("media.detail.contact", contact=request["contact"]))
if request["expert_name"]:
    facts.append(t("media.detail.expert", name=request["expert_name"], level=request["expert_level"],
                   institution=request["expert_institution"] or "—"))
if request["outcome_url"] or request["outcome_note"]:
    facts.append(t("media.detail.outcome", url=request["outcome_url"] or "—", note=request["outcome_note"] or "—"))
if request["cancel_reason"]:
    facts.append(t("media.detail.cancelled", reason=request["cancel_reason"]))
for line in facts:
    st.markdown("- " + ui.escape(line))
if request["note"]:
    st.caption(ui.escape(request["note"]))

offers = ui.call(path, store.media_offers, request["id"])
if offers:
    st.markdown(f"**{t('media.offers')}**")
    ui.table([{"expert": o["expert_name"], "level": o["expert_level"], "status": t(f"media.status.{o['status']}"),
               "offered": data.to_china(o["offered_at"]), "answered": data.to_china(o["responded_at"]) or "—",
               "reason": o["reason"] or "—"} for o in offers],
             {k: t(f"media.offer.col.{k}") for k in ("expert", "level", "status", "offered", "answered", "reason")},
             key="media_offers")

if request["status"] == "open":
    st.markdown(f"**{t('media.suggest')}**")
    st.caption(t("media.suggest.caption"))
    suggestions = ui.call(path, media.suggest, request["id"])
    if not suggestions:
        st.info(t("media.suggest.none"))
    for s in suggestions:
        c = st.columns([3, 1], vertical_alignment="center")
        c[0].markdown(t("media.suggest.row", name=ui.escape(s["name"]), title=ui.escape(s["title"] or ""),
                        institution=ui.escape(s["institution"] or "—"), level=s["level"], score=f"{s['score']:g}")
                      + "  \n" + ui.escape("；".join(s["reasons"])))
        if c[1].button(t("media.offer.button", name=s["name"]), key=f"media_offer_{s['expert_id']}"):
            ui.act(path, t("media.offered", name=s["name"]), media.offer, request["id"], s["expert_id"], actor,
                   data.now_utc())

if request["status"] == "accepted":
    with ui.action_form("media_complete"):
        st.markdown(f"**{t('media.complete')}**")
        url = st.text_input(t("media.complete.url"), key="media_complete_url")
        outcome = st.text_input(t("media.complete.note"), key="media_complete_note")
        if st.form_submit_button(t("media.complete.button"), type="primary"):
            ui.act(path, t("media.completed"), media.complete, request["id"], actor, data.now_utc(), url, outcome)

if request["status"] in media.ACTIVE:
    with st.expander(t("media.withdraw")), ui.action_form("media_withdraw"):
        st.caption(t("media.withdraw.caption"))
        reason = st.text_input(t("media.withdraw.reason"), key="media_withdraw_reason")
        if st.form_submit_button(t("media.withdraw.button")):
            ui.act(path, t("media.withdrawn"), media.withdraw, request["id"], actor, data.now_utc(), reason)

if request["status"] not in media.CLOSED:
    with st.expander(t("media.cancel")), ui.action_form("media_cancel"):
        reason = st.text_input(t("media.cancel.reason"), key="media_cancel_reason")
        if st.form_submit_button(t("media.cancel.button")):
            ui.act(path, t("media.cancelled"), media.cancel, request["id"], actor, data.now_utc(), reason)
