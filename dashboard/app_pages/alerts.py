"""预警: alerts with their 5 h / 24 h clocks and time left, the overdue view, and the monitor's
actions — confirm an expert from the ranked suggestions, record released information or a press
conference, dismiss a false alarm, record a verdict. Reachable as `?alert=ID`."""

import json

import streamlit as st

from dashboard import auth as dashboard_auth
from dashboard import data, workflow_ui as ui
from dashboard.auth import can, may_open, require_role
from dashboard.strings import t
from dashboard.ui import nav_key, one_line, open_by_number, open_item, open_search, similarity, tips_summary
from rumourwatch import alerts, briefing, effect, experts, ledger, ownmedia, referrals, reports, store, trending
from rumourwatch.errors import RumourwatchError
from rumourwatch.language import LANGUAGE_ZH
from rumourwatch.records import iso, parse_time

user = require_role("monitor", "leader", "admin")
may_act = can("alerts.manage", user)
path = ui.db_path()
rules = ui.rules()
# the live page's cadence: the counts, the list and the clocks redraw themselves in fragments; the
# one alert's forms are outside them, so a refresh never resets what is being typed there
REFRESH_SECONDS = max(1, int(data.settings().dashboard_refresh_seconds))

st.title(t("alerts.title"))
st.caption(t("alerts.caption"))
ui.flash()

FILTERS = {"active": "alerts.filter.active", "overdue": "alerts.filter.overdue", "published": "alerts.filter.published",
           "dismissed": "alerts.filter.dismissed", "all": "alerts.filter.all"}


@st.fragment(run_every=REFRESH_SECONDS)
def alert_list() -> None:
    """The counts and the alerts, most urgent first (overdue, then least time left, closed last)."""
    dashboard_auth.rerun_if_session_ended()
    now = data.now_utc()
    st.caption(t("updated_at", time=now.astimezone(data.CST).strftime("%H:%M:%S"), seconds=REFRESH_SECONDS))
    active = ui.call(path, alerts.list_alerts, now, "active")
    overdue = [a for a in active if a["overdue"]]
    cols = st.columns(3)
    cols[0].metric(t("alerts.metric.active"), len(active), border=True)
    cols[1].metric(t("alerts.metric.overdue"), len(overdue), border=True)
    cols[2].metric(t("alerts.metric.top"), sum(a["severity"] == "一级" for a in active), border=True)

    c = st.columns([3, 2], vertical_alignment="bottom")
    with c[0]:
        choice = st.segmented_control(t("alerts.filter"), list(FILTERS), format_func=lambda k: t(FILTERS[k]),
                                      default="active", key="alerts_filter")
    with c[1]:  # e.g. only the watched keywords' alerts, or all but them
        kinds = st.pills(t("alerts.kinds"), alerts.ALERT_KINDS, selection_mode="multi", key="alerts_kinds",
                         format_func=lambda k: ui.label("alert.kind", k), help=t("alerts.kinds.help"))
    rows = overdue if choice == "overdue" else ui.call(path, alerts.list_alerts, now,
                                                       None if choice in (None, "all") else choice)
    if kinds:
        rows = [r for r in rows if r["kind"] in kinds]
    if not rows:
        st.info(t("alerts.empty.kinds") if kinds else t("alerts.empty"))
        return
    names = {e["id"]: e["name"] for e in ui.call(path, store.list_experts)}
    shown = [dict(r, severity_label=r["severity"], status_label=ui.label("alert.status", r["status"]),
                  kind_label=ui.label("alert.kind", r["kind"]), created=data.to_china(r["created_at"]),
                  respond=data.to_china(r["respond_by"]),
                  respond_left=data.time_left_label(r["respond_by"], r["responded_at"], now, r["status"]),
                  conference=data.to_china(r["conference_by"]) if r["conference_by"] else t("wf.not_required"),
                  conference_left=data.time_left_label(r["conference_by"], r["conference_at"], now, r["status"]),
                  expert=names.get(r["assigned_expert"], ""), overdue_label=t("yes") if r["overdue"] else "")
             for r in data.alerts_by_urgency(rows)]
    # A row picked opens that alert below: the whole page reruns to draw it, and the table comes back
    # under a new key with nothing selected, so a refresh that reorders the rows cannot move a
    # selection left behind onto another alert.
    generation = st.session_state.get("alerts_picks", 0)
    # what a monitor acts on comes first, so it shows without scrolling sideways at 1366 px
    picked = ui.table(shown,
                      {"status_label": t("col.status"), "overdue_label": t("col.overdue"),
                       "respond_left": t("col.respond_left"), "conference_left": t("col.conference_left"),
                       "severity_label": t("col.severity"), "id": t("col.alert_id"), "title": t("col.alert_title"),
                       "item_count": t("col.copies"), "kind_label": t("col.kind"), "expert": t("col.expert"),
                       "respond": t("col.respond_by"), "conference": t("col.conference_by"),
                       "created": t("col.created")},
                      key=f"alerts_table_{generation}", pick="id")
    st.caption(t("alerts.click"))
    if picked is not None:
        st.session_state["alerts_picks"] = generation + 1
        st.query_params["alert"] = str(picked)
        st.rerun()


alert_list()

if may_act:
    with st.expander(t("alerts.bulk")):  # a burst of false alarms, dismissed with one reason
        st.caption(t("alerts.bulk.help"))
        kinds = st.session_state.get("alerts_kinds") or alerts.ALERT_KINDS
        active = [a for a in ui.call(path, alerts.list_alerts, data.now_utc(), "active") if a["kind"] in kinds]
        titles = {a["id"]: f"#{a['id']} {a['severity']} {ui.label('alert.kind', a['kind'])} {(a['title'] or '')[:40]}"
                  for a in active}
        with ui.action_form("bulk_form"):
            picked = st.multiselect(t("alerts.bulk.pick"), list(titles), key="bulk_ids",
                                    format_func=lambda i: titles.get(i, f"#{i}"))
            reason = st.text_input(t("alerts.dismiss_reason"), key="bulk_reason")
            if st.form_submit_button(t("alerts.bulk.button")):
                try:
                    result = data.workflow(path, alerts.dismiss_alerts, picked, user["username"], data.now_utc(),
                                           reason, rules)
                except RumourwatchError as exc:
                    ui.show_error(exc, "wf.error")
                else:
                    message = t("alerts.bulk.done", n=len(result["dismissed"]))
                    if result["refused"]:
                        message += " " + t("alerts.bulk.refused", n=len(result["refused"]), items="；".join(
                            f"#{i} {ui.refusal(exc)}" for i, exc in result["refused"]))
                    st.session_state[ui.FLASH_KEY] = message
                    st.rerun()

with st.expander(t("alerts.ledger")):  # the office's Excel ledger of a period's alerts and their handling
    today = data.china_today()
    span = ui.picked_days(st.date_input(t("alerts.ledger.range"), value=(today.replace(day=1), today),
                                        max_value=today, key="ledger_range", help=t("alerts.ledger.help")))
    if len(span) == 2:
        start, end = data.period_bounds("custom", tuple(span))
        text, n = ui.call(path, ledger.ledger_csv, start, end, data.now_utc())
        st.download_button(t("alerts.ledger.download", n=n), text.encode("utf-8"), disabled=not n,
                           file_name=f"预警处置台账_{span[0]}_{span[1]}.csv", mime="text/csv")

# --- one alert ---------------------------------------------------------------------------------
raw = st.query_params.get("alert")
selected = data.parse_item_id(raw)
open_by_number(t("alerts.pick"), t("alerts.open"), "alert", key="alert_pick")
if selected is None:
    st.stop()
alert = ui.call(path, store.get_alert, selected)
if alert is None:
    st.error(t("alerts.not_found", id=selected))
    st.stop()

st.subheader(t("alerts.detail", id=alert["id"], severity=alert["severity"],
                status=ui.label("alert.status", alert["status"])))


@st.fragment(run_every=REFRESH_SECONDS)
def alert_clocks(alert_id: int) -> None:
    """The alert's two clocks and its overdue banner, read afresh at each refresh."""
    now = data.now_utc()
    alert = ui.call(path, store.get_alert, alert_id)
    c = st.columns(2)
    c[0].metric(t("col.respond_by"), data.to_china(alert["respond_by"]),
                data.time_left_label(alert["respond_by"], alert["responded_at"], now, alert["status"]),
                delta_color="off", delta_arrow="off", border=True)
    c[1].metric(t("col.conference_by"), data.to_china(alert["conference_by"]) or t("wf.not_required"),
                data.time_left_label(alert["conference_by"], alert["conference_at"], now, alert["status"])
                if alert["conference_by"] else None,
                delta_color="off", delta_arrow="off", border=True)
    if alerts.alert_view(alert, now)["overdue"]:
        # say 已督办 only once the escalation has run (the worker's workflow tick sends it)
        escalated = alert["respond_escalated_at"] or alert["conference_escalated_at"]
        st.error(t("alerts.overdue_banner", at=data.to_china(escalated)) if escalated
                 else t("alerts.overdue_not_escalated"))


def clarification_effect(e: dict) -> None:
    """What followed this alert's clarification (rumourwatch.effect): the story's new items,
    reactions and doubt before and after it, the verdict beside stories without one, and the copies
    posted since, which a monitor may ask the platforms to take down."""
    b, a = e["before"], e["after"]
    st.caption(t("alerts.effect", hours=f"{e['window_hours']:g}"))
    c = st.columns(3)
    c[0].metric(t("alerts.effect.items"), f"{b['items']} → {a['items']}", border=True)
    c[1].metric(t("alerts.effect.reactions"), f"{b['reactions']} → {a['reactions']}", border=True)
    c[2].metric(t("alerts.effect.doubt"), f"{effect.pct(effect.doubt_share(b))} → {effect.pct(effect.doubt_share(a))}",
                help=t("alerts.effect.doubt.help"), border=True)
    # beside the reference when there is one: a fall that stories without a clarification also had is no success
    say = ({"faster": st.success, "slower": st.warning}.get(e["compared"], st.info) if e["compared"]
           else {effect.FELL_CODE: st.success, effect.NOT_FALLEN: st.warning}.get(e["status"], st.info))
    say(effect.status_text(e))
    st.caption(effect.CAVEAT)
    if not e["since_items"]:
        st.caption(t("alerts.effect.since.none"))
        return
    st.caption(t("alerts.effect.since", n=e["since_items"], shown=len(e["since_rows"])))
    picked = ui.table([dict(r, at=data.to_china(r["published_at"]), text=(r["title"] or r["text"] or "")[:80])
                       for r in e["since_rows"]],
                      {"id": t("col.item"), "at": t("col.at"), "platform": t("col.platform"),
                       "account": t("col.account"), "text": t("col.alert_title")},
                      key=nav_key("effect_since"), pick="id" if may_open("item", user) else None)
    if picked is not None:
        open_item(int(picked))


alert_clocks(alert["id"])
st.caption(t("alerts.reasons"))
st.text(ui.reasons_text(alert["rules"]))
if alert["item_id"]:
    item = ui.call(path, store.get_item, alert["item_id"])
    st.caption(t("alerts.representative"))
    ui.item_text(path, item, 1000)
    tipped = ui.call(path, store.story_tips, alert["item_id"])
    if tipped["n"]:  # the public reported this story on a hotline or the reporting channel
        st.info(t("alerts.tips", summary=tips_summary(tipped)), icon=":material/campaign:")
    clarification = ui.call(path, experts.item_clarification, alert["item_id"])
    if clarification and clarification.get("similar"):
        st.info(t("wb.clarified.similar", url=ui.escape(clarification["published_url"]),
                  score=similarity(clarification.get("similarity"))))
    elif clarification:
        st.success(t("wb.clarified", url=ui.escape(clarification["published_url"])))
    followed = ui.call(path, effect.alert_effect, alert["id"], data.now_utc())
    if followed and followed["before"] is not None:
        clarification_effect(followed)
    if alert["cluster_id"]:
        copies = ui.call(path, store.cluster_items, alert["cluster_id"], data.COPIES_SHOWN)
        total = max(ui.call(path, store.cluster_size, alert["cluster_id"]), len(copies))
        st.caption(t("alerts.copies", n=total) if total == len(copies)
                   else t("alerts.copies.first", n=total, shown=len(copies)))
        ui.table([dict(r, at=data.to_china(r["published_at"]), clarified=t("yes") if clarification else t("no"))
                  for r in copies],
                 {"id": t("col.item"), "platform": t("col.platform"), "account": t("col.account"), "at": t("col.at"),
                  "text": t("col.alert_title"), "clarified": t("alert.status.published")}, key="cluster_table")
    if may_open("item", user) and st.button(t("alerts.open_item")):  # leaders have no item page
        open_item(alert["item_id"])
elif (tagged := json.loads(alert["metrics"] or "{}")).get("tag"):
    # a health hashtag taking off: the likely rumours under it, and 条目检索 on the tag
    tag = tagged["tag"]
    st.info(t("alerts.tag", tag=tag, hours=f"{tagged['window_hours']:g}", stories=tagged["stories"],
              accounts=tagged["accounts"], flagged=tagged["flagged"], before=tagged["before_stories"]))
    flagged = ui.call(path, trending.alert_items, alert, rules["tag_surge"]["flag_probability"])
    if flagged:
        st.caption(t("alerts.tag.items"))
        picked = ui.table([dict(i, at=data.to_china(i["published_at"]), text=(i["title"] or i["text"] or "")[:80],
                                p=f"{i['rumour_probability']:.2f}") for i in flagged],
                          {"id": t("col.item"), "at": t("col.at"), "platform": t("col.platform"),
                           "account": t("col.account"), "p": t("col.probability"), "text": t("col.alert_title")},
                          key=nav_key("tag_items"), pick="id" if may_open("item", user) else None)
        if picked is not None:
            open_item(int(picked))
    if may_open("search", user) and st.button(t("alerts.tag.search", tag=tag)):
        open_search(q=trending.search_query(tag))
elif (digest := tagged).get("keyword"):
    # a watched keyword's digest: its stories are what 条目检索 finds for the keyword
    st.info(t("alerts.digest", keyword=digest["keyword"], since=data.to_china(digest["window_start"]),
              hours=f"{digest['window_hours']:g}", after=digest["digest_after"], n=digest["stories"]))
    latest = [i for i in (ui.call(path, store.get_item, item_id) for item_id in digest.get("latest_items", [])) if i]
    if latest:  # the latest stories it gathered, one item each; a row opens that item
        st.caption(t("alerts.digest.latest", n=len(latest)))
        picked = ui.table([dict(i, at=data.to_china(i["published_at"]), text=(i["title"] or i["text"] or "")[:80])
                           for i in latest],
                          {"id": t("col.item"), "at": t("col.at"), "platform": t("col.platform"),
                           "account": t("col.account"), "text": t("col.alert_title")},
                          key=nav_key("digest_items"), pick="id" if may_open("item", user) else None)
        if picked is not None:
            open_item(int(picked))
    if may_open("search", user) and st.button(t("alerts.digest.search", keyword=digest["keyword"])):
        open_search(q=digest["keyword"])

st.caption(t("alerts.steps"))
steps = ui.call(path, store.alert_steps, alert["id"])
ui.table([dict(s, at_cn=data.to_china(s["at"]), step=ui.step_label(s["step"]), actor=ui.actor_label(s["actor"]))
          for s in steps],
         {"at_cn": t("col.at"), "step": t("col.step"), "actor": t("col.actor"), "note": t("col.note")})

assignments = ui.call(path, store.alert_assignments, alert["id"])
if assignments:
    st.caption(t("alerts.assignments"))
    ui.table([dict(a, status_label=ui.label("assign.status", a["status"]), due=data.to_china(a["due_at"]),
                   at_cn=data.to_china(a["assigned_at"]), cancelled=data.to_china(a["cancelled_at"]),
                   note=(t("alerts.assignment.cancelled", reason=a["cancel_reason"] or "")
                         if a["status"] == "cancelled" else a["decline_reason"]))
              for a in assignments],
             {"id": "#", "expert_name": t("col.expert"), "status_label": t("col.status"), "at_cn": t("col.at"),
              "due": t("col.due"), "cancelled": t("col.cancelled_at"), "note": t("col.note")},
             key="assignments")

referred = ui.call(path, store.list_referrals, alert_id=alert["id"])
if referred:  # 交办属地单位: what each unit was asked and what it reported
    st.caption(t("ref.list"))
    ui.table([dict(r, at_cn=data.to_china(r["referred_at"]), due=data.to_china(r["due_at"]),
                   state=t(f"ref.state.{referrals.state(r, data.now_utc())}"),
                   replied=data.to_china(r["replied_at"]) or "", reply_text=r["reply"] or r["withdraw_reason"] or "")
              for r in referred],
             {"id": "#", "unit_name": t("sub.unit"), "at_cn": t("ref.col.referred"), "due": t("ref.col.due"),
              "state": t("col.status"), "request": t("ref.col.request"), "replied": t("ref.col.replied"),
              "reply_text": t("ref.col.reply")}, key="referrals")

briefed = [s for s in steps if s["step"] == "briefing_sent"]
# a 一级 alert is a sudden event: its leaders are to be told the same day, so the report is offered open
due = alert["severity"] == "一级" and not briefed and alert["status"] in store.WORKFLOW_OPEN_STATUSES
with st.expander(t("alerts.briefing"), expanded=due):  # 舆情专报: this event in one document for the leaders
    st.caption(t("alerts.briefing.caption"))
    if briefed:
        st.success(t("alerts.briefing.done", at=data.to_china(briefed[-1]["at"]), by=briefed[-1]["actor"]))
    elif due:
        st.warning(t("alerts.briefing.due"))
    with ui.action_form("briefing_form"):
        note = st.text_area(t("alerts.briefing.note"), key="briefing_note", max_chars=briefing.NOTE_MAX_CHARS,
                            placeholder=t("alerts.briefing.note.placeholder"))
        fmt = st.radio(t("alerts.briefing.format"), list(reports.MIME_TYPES), horizontal=True, key="briefing_format",
                       format_func=lambda f: t(f"alerts.briefing.format.{f}"))
        leaders = rules["notify"]["leader_emails"]
        b = st.columns([1, 2])
        make = b[0].form_submit_button(t("alerts.briefing.make"))
        send = may_act and b[1].form_submit_button(t("alerts.briefing.send", n=len(leaders)), disabled=not leaders,
                                                   help=t("alerts.briefing.send.help", to="、".join(leaders))
                                                   if leaders else t("alerts.briefing.send.none"))
    if send:  # mailed as PDF whatever the format picked, and recorded as a step of the alert
        with st.spinner(t("alerts.briefing.sending")):
            ui.act(path, t("alerts.briefing.sent"), briefing.send_briefing, alert["id"], user["username"],
                   data.now_utc(), note, rules, threshold=data.settings().rumour_threshold)
    if make:
        try:  # the PDF is printed by headless Chromium: seconds, so only on request
            with st.spinner(t("alerts.briefing.making")):
                made = data.workflow(path, briefing.compute_briefing, alert["id"], data.now_utc(), note, rules,
                                     data.settings().rumour_threshold)
                st.session_state["briefing_file"] = (alert["id"], fmt, briefing.to_bytes(made, fmt),
                                                     briefing.default_filename(made, fmt))
        except RumourwatchError as exc:
            ui.show_error(exc, "alerts.briefing.error")
    ready = st.session_state.get("briefing_file")
    if ready and ready[0] == alert["id"]:
        st.download_button(t("alerts.briefing.download", name=ready[3]), ready[2], ready[3],
                           mime=reports.MIME_TYPES[ready[1]], key="briefing_download", type="primary")

if not may_act:
    st.info(t("alerts.readonly"))
    st.stop()

actor = user["username"]
open_alert = alert["status"] in store.WORKFLOW_OPEN_STATUSES
has_active = any(a["status"] in store.ASSIGNMENT_ACTIVE for a in assignments)
active = [a for a in assignments if a["status"] in ("offered", "accepted")]
if open_alert and active:  # 撤回改派: an expert away, silent or the wrong one; the clocks do not wait
    task = active[0]
    st.subheader(t("alerts.withdraw"))
    st.caption(t("alerts.withdraw.caption", id=task["id"], expert=ui.escape(task["expert_name"]),
                 status=ui.label("assign.status", task["status"]), due=data.to_china(task["due_at"])))
    away_now = ui.call(path, experts.away_before_due, task, data.now_utc())
    if away_now:
        st.warning(t("alerts.withdraw.away", expert=ui.escape(task["expert_name"]), at=data.to_china(away_now["starts_at"]),
                     until=data.to_china(away_now["ends_at"]), reason=ui.escape(away_now["reason"] or "—"),
                     due=data.to_china(task["due_at"])))
    with ui.action_form("withdraw_form"):
        reason = st.text_input(t("alerts.withdraw.reason"), key="withdraw_reason", max_chars=200,
                               placeholder=t("alerts.withdraw.reason.placeholder"))
        if st.form_submit_button(t("alerts.withdraw.button", id=task["id"])):
            ui.act(path, t("alerts.withdraw.done", id=task["id"]), experts.withdraw_assignment, task["id"], actor,
                   data.now_utc(), reason, rules)

if open_alert and not has_active:
    st.subheader(t("alerts.suggestions"))
    now = data.now_utc()
    ranked = ui.call(path, experts.suggest_experts, alert["id"], 5, now=now)
    language = ui.call(path, experts.alert_language, alert)
    if language:  # a story told in Mongolian, Tibetan or Uyghur: who can answer its readers in it
        script = LANGUAGE_ZH[language]
        writers = ui.call(path, experts.language_writers, language)
        if writers:
            st.caption(t("alerts.suggestions.language", script=script, n=len(writers)))
        else:
            st.warning(t("alerts.suggestions.no_writer", script=script))
    away = ui.call(path, experts.unavailable_experts, now)
    if away:  # who is left out for leave or travel, so nobody wonders where the usual expert went
        st.caption(t("alerts.suggestions.away", names="、".join(
            t("alerts.suggestions.away_one", name=ui.escape(a["expert_name"]), until=data.to_china(a["ends_at"], "%m-%d %H:%M"))
            for a in away.values())))
    if not ranked:
        st.info(t("alerts.no_suggestions"))
    for r in ranked:
        with st.container(border=True):
            st.text(f"{r['name']}（{r['title'] or ''}，{r['institution']}，{r['level']}）  {t('col.score')} {r['score']}")
            st.text("；".join(r["reasons"]))
            if st.button(t("alerts.assign_to", name=r["name"]), key=f"assign_{r['expert_id']}"):
                ui.act(path, t("alerts.assign_to", name=r["name"]), experts.assign_expert, alert["id"],
                       r["expert_id"], actor, data.now_utc(), rules)

units = ui.call(path, store.list_units)
if open_alert and units:  # 交办属地单位 (seed 001: 属地管理): the unit where it happened checks and reports back
    st.subheader(t("ref.title"))
    st.caption(t("ref.caption"))
    offered = referrals.suggested_units(units, alert)
    with ui.action_form("refer_form"):
        c = st.columns([2, 1])
        unit = c[0].selectbox(t("sub.unit"), offered, key="refer_unit",
                              format_func=lambda u: u["name"] + (f"（{u['region']}）" if u["region"] else ""))
        hours = c[1].selectbox(t("ref.hours"), list(referrals.HOURS), key="refer_hours",
                               index=referrals.HOURS.index(referrals.default_hours(alert["severity"])),
                               format_func=lambda h: t("ref.hours.value", n=h))
        request = st.text_area(t("ref.request"), key="refer_request", max_chars=referrals.REQUEST_MAX,
                               placeholder=t("ref.request.placeholder"))
        if st.form_submit_button(t("ref.submit")):
            ui.act(path, t("ref.submit"), referrals.refer, alert["id"], unit["id"], request, actor=actor,
                   now=data.now_utc(), hours=hours, rules=rules)
    waiting = [r for r in referred if r["status"] == "referred"]
    if waiting:
        with st.expander(t("ref.office")), ui.action_form("referral_office_form"):
            pick = st.selectbox(t("ref.pick"), waiting, key="referral_pick",
                                format_func=lambda r: f"#{r['id']} {r['unit_name']}")
            text = st.text_area(t("ref.office.text"), key="referral_office_text",
                                max_chars=referrals.REPLY_MAX, help=t("ref.office.help"))
            b = st.columns(2)
            if b[0].form_submit_button(t("ref.office.reply")):
                ui.act(path, t("ref.office.reply"), referrals.reply, pick["id"], text, actor=actor,
                       now=data.now_utc(), unit_id=None)
            if b[1].form_submit_button(t("ref.withdraw")):
                ui.act(path, t("ref.withdraw"), referrals.withdraw, pick["id"], actor=actor,
                       now=data.now_utc(), reason=text)

if open_alert:
    st.subheader(t("alerts.actions"))
    may_release = not alert["responded_at"]
    may_hold = bool(alert["conference_by"] and not alert["conference_at"])
    if may_release or may_hold:  # the note is only for these steps
        with ui.action_form("step_form"):
            note = st.text_input(t("alerts.step_note"), key="step_note")
            b = st.columns(2)
            if may_release and b[0].form_submit_button(t("alerts.info_released")):
                ui.act(path, t("alerts.info_released"), alerts.record_step, alert["id"], "info_released", actor,
                       data.now_utc(), note or None)
            if may_hold and b[1].form_submit_button(t("alerts.conference_held")):
                ui.act(path, t("alerts.conference_held"), alerts.record_step, alert["id"], "conference_held", actor,
                       data.now_utc(), note or None)
    if may_release:  # the office's own channels may have released it already: recorded at the post's time
        since = item["published_at"] if alert["item_id"] and item else alert["created_at"]  # the story's start
        posts = ui.call(path, ownmedia.posts_between, min(since, alert["created_at"]), iso(data.now_utc()))
        if posts:
            with st.container(border=True):
                st.caption(t("alerts.own_posts", n=len(posts)))
                with ui.action_form("own_release"):
                    pick = st.selectbox(t("alerts.own_posts.pick"), posts, key="own_release_pick",
                                        format_func=lambda p: f"{data.to_china(p['published_at'])} {p['name']}："
                                                              f"{one_line(p['title'] or p['text'], 60)}")
                    if st.form_submit_button(t("alerts.own_posts.record")):
                        what = data.safe_url(pick["url"]) or one_line(pick["title"] or pick["text"], 60)
                        ui.act(path, t("alerts.info_released"), alerts.record_step, alert["id"], "info_released",
                               actor, data.now_utc(), t("alerts.own_posts.note", name=pick["name"],
                                                        platform=pick["platform"], what=what),
                               done_at=parse_time(pick["published_at"]))
    higher = alerts.SEVERITIES[:alerts.SEVERITY_RANK[alert["severity"]]]
    if alert["item_id"] and higher:  # a story's alert: the monitor's judgement may raise it (alerts.upgrade_alert)
        with st.expander(t("alerts.upgrade")):
            st.caption(t("alerts.upgrade.caption"))
            with ui.action_form("upgrade_form"):
                severity = st.radio(t("alerts.upgrade.severity"), higher, horizontal=True, key="upgrade_severity")
                reason = st.text_area(t("alerts.upgrade.reason"), key="upgrade_reason",
                                      max_chars=alerts.RAISE_REASON_MAX)
                if st.form_submit_button(t("alerts.upgrade.submit")):
                    ui.act(path, t("alerts.upgrade.submit"), alerts.upgrade_alert, alert["id"], severity, reason,
                           actor, data.now_utc(), rules)
    with ui.action_form("dismiss_form"):
        reason = st.text_input(t("alerts.dismiss_reason"), key="dismiss_reason")
        if st.form_submit_button(t("alerts.dismiss")):
            ui.act(path, t("alerts.dismiss"), alerts.dismiss_alert, alert["id"], actor, data.now_utc(), reason,
                   rules)

if alert["item_id"] and can("verdicts.manage", user):
    st.subheader(t("wb.verdict"))
    ui.verdict_form(path, alert["item_id"], actor, key="alert_verdict", alert_id=alert["id"])
