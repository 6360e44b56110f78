"""值班交接 (rumourwatch.handover): the handover left for this monitor, with 确认接班; the current
shift (what it saw and did) and what it leaves open, with the clocks due in the next shift; the form
that hands over; earlier handovers. Scraped titles and users' notes are shown as text only."""

from datetime import timedelta

import streamlit as st

from dashboard import data
from dashboard import workflow_ui as ui
from dashboard.auth import can, may_open, require_role
from dashboard.strings import t
from dashboard.ui import nav_key, open_alert, open_item
from rumourwatch import handover
from rumourwatch.errors import RumourwatchError

user = require_role("monitor", "admin")
may_write = can("alerts.manage", user)
path = ui.db_path()
settings = data.settings()
now = data.now_utc()

st.title(t("handover.title"))
st.caption(t("handover.caption"))
ui.flash()


def duration(hours: float) -> str:
    minutes = round(abs(hours) * 60)
    return f"{minutes // 60} 小时 {minutes % 60} 分" if minutes >= 60 else f"{minutes} 分"


def left_label(deadline: str | None) -> str:
    """Time left before a deadline in the 预警 page's words (剩余 / 已超时 N 小时 M 分)."""
    return data.time_left_label(deadline, None, now) if deadline else ""


def snapshot(summary: dict) -> None:
    """A handover's lines (as text: they hold scraped titles and user names)."""
    for heading, lines in ((t("handover.now", since=data.to_china(summary["since"]),
                              now=data.to_china(summary["until"])), handover.shift_lines(summary)),
                           (t("handover.open"), handover.open_lines(summary))):
        st.markdown(f"**{heading}**")
        st.text("\n".join(lines))


# --- the handover left for this user -----------------------------------------------------------
pending = ui.call(path, handover.pending_handover, user["username"], now)
if pending:
    with st.container(border=True):
        st.warning(t("handover.pending", author=ui.escape(pending["author"]), time=data.to_china(pending["created_at"])),
                   icon=":material/assignment_late:")
        st.text(pending["note"] or "（无）")
        with st.expander(t("handover.pending.snapshot")):
            snapshot(pending["summary"])
        if may_write and st.button(t("handover.receive"), type="primary", key="handover_receive"):
            ui.act(path, t("handover.received"), handover.receive_handover, pending["id"], user["username"],
                   data.now_utc())

# --- the current shift --------------------------------------------------------------------------
default = ui.call(path, handover.default_since, now)
choices = {"last": default, **{str(h): now - timedelta(hours=h) for h in (8, 12, 24)}}
labels = {"last": t("handover.shift.last", time=data.to_china(default, "%m-%d %H:%M")),
          **{str(h): t("handover.shift.hours", n=h) for h in (8, 12, 24)}}
pick = st.segmented_control(t("handover.shift"), list(choices), format_func=labels.get, default="last",
                            key="handover_shift") or "last"
since = choices[pick]
summary = ui.call(path, handover.shift_summary, since, now, settings.source_quiet_hours)

st.subheader(t("handover.now", since=data.to_china(summary["since"], "%m-%d %H:%M"),
               now=data.to_china(summary["until"], "%m-%d %H:%M")))
cols = st.columns(6)
for col, key, value in zip(cols, ("items", "health", "flagged", "alerts", "actions", "tips"),
                           (summary["items"]["items"], summary["items"]["health_related"],
                            summary["items"]["flagged_health"], len(summary["alerts_raised"]),
                            sum(summary["actions"].values()), summary["tips"]), strict=True):
    col.metric(t(f"handover.metric.{key}"), f"{value:,}", border=True)
st.text("\n".join(handover.shift_lines(summary)[1:]))  # the first line is the tiles above
def listed(title: str, rows: list[dict], columns: dict[str, str], key: str, pick: str = "alert_id",
           page: str = "alerts") -> None:
    """A titled table; a row picked opens its alert (or, with page "item", its item)."""
    st.markdown(f"**{title}**")
    picked = ui.table(rows, columns, key=nav_key(key), pick=pick)
    if picked is not None and may_open(page, user):
        (open_item if page == "item" else open_alert)(int(picked))


def short_time(value: str | None) -> str:
    return data.to_china(value, "%m-%d %H:%M") if value else ""


if summary["alerts_raised"]:
    listed(t("handover.raised"),
           [dict(a, kind_label=ui.label("alert.kind", a["kind"]), status_label=ui.label("alert.status", a["status"]))
            for a in summary["alerts_raised"]],
           {"id": t("col.alert_id"), "severity": t("col.severity"), "kind_label": t("col.kind"),
            "status_label": t("col.status"), "title": t("col.alert_title")}, "handover_raised", pick="id")

# --- what the next shift takes over -------------------------------------------------------------
st.subheader(t("handover.open"))
if summary["open_alerts"]:
    listed(t("handover.open.alerts", hours=summary["ahead_hours"]),
           [dict(a, kind_label=ui.label("alert.kind", a["kind"]), status_label=ui.label("alert.status", a["status"]),
                 clock_label=t(f"handover.clock.{a['clock'] or 'none'}"), deadline_label=short_time(a["deadline"]),
                 left=left_label(a["deadline"]), soon=t("yes") if a["due_next_shift"] else "",
                 overdue_label=t("yes") if a["overdue"] else "")
            for a in summary["open_alerts"]],
           {"id": t("col.alert_id"), "severity": t("col.severity"), "overdue_label": t("col.overdue"),
            "left": t("handover.col.left"), "clock_label": t("handover.col.clock"),
            "deadline_label": t("handover.col.deadline"), "soon": t("handover.col.soon"),
            "status_label": t("col.status"), "expert": t("col.expert"), "kind_label": t("col.kind"),
            "title": t("col.alert_title")}, "handover_open", pick="id")
else:
    st.markdown(f"**{t('handover.open.alerts', hours=summary['ahead_hours'])}**")
    st.info(t("handover.open.none"))
if summary["offered"]:
    listed(t("handover.offered"),
           [dict(o, assigned=short_time(o["assigned_at"]), due=short_time(o["due_at"]), left=left_label(o["due_at"]))
            for o in summary["offered"]],
           {"alert_id": t("col.alert_id"), "severity": t("col.severity"), "expert": t("col.expert"),
            "assigned": t("handover.col.assigned_at"), "due": t("handover.col.accept_by"),
            "left": t("handover.col.left")}, "handover_offered")
if summary["reviews"]:
    listed(t("handover.reviews"),
           [dict(r, waiting=t(f"handover.review.{r['status']}"), since_label=short_time(r["since"]))
            for r in summary["reviews"]],
           {"alert_id": t("col.alert_id"), "title": t("handover.col.clar"), "waiting": t("handover.col.waiting"),
            "since_label": t("handover.col.since")}, "handover_reviews")
if summary["takedowns_pending"]:
    listed(t("handover.takedowns"),
           [dict(d, requested=short_time(d["requested_at"]), waited=duration(d["hours"]))
            for d in summary["takedowns_pending"]],
           {"item_id": t("col.item"), "platform": t("col.platform"), "account": t("col.account"),
            "requested": t("handover.col.requested_at"), "waited": t("handover.col.waited")},
           "handover_takedowns", pick="item_id", page="item")
if summary.get("media_pending"):  # handovers kept before media requests have none
    st.markdown(f"**{t('handover.media')}**")  # answered on 媒体约请 (monitors) and the workbench (experts)
    ui.table([dict(m, status_label=t(f"media.status.{m['status']}"), at=short_time(m["starts_at"]),
                   left=left_label(m["starts_at"]), expert=m["expert"] or "—") for m in summary["media_pending"]],
             {"id": "#", "outlet": t("media.col.outlet"), "kind": t("media.col.kind"), "at": t("media.col.starts"),
              "left": t("handover.col.left"), "status_label": t("col.status"), "expert": t("col.expert")},
             key=nav_key("handover_media"))
if summary["experts_away"] or summary["sources"] or summary.get("unread"):  # as the handover's text says them
    st.text("\n".join(line for line in handover.open_lines(summary)
                      if line.startswith(("待人工判读的民族文字条目", "下一班不可用的专家", "数据源"))))

# --- hand over ----------------------------------------------------------------------------------
if may_write:
    st.subheader(t("handover.write"))
    gen = st.session_state.get("handover_form_gen", 0)  # a handover sent empties the box
    with ui.action_form(f"handover_form_{gen}"):
        note = st.text_area(t("handover.note"), key=f"handover_note_{gen}", max_chars=handover.NOTE_MAX,
                            help=t("handover.note.help", max=handover.NOTE_MAX), height=120)
        if st.form_submit_button(t("handover.submit"), type="primary"):
            try:
                hid = data.workflow(path, handover.write_handover, user["username"], data.now_utc(), note, since,
                                    settings.source_quiet_hours, ui.rules())
            except RumourwatchError as exc:
                ui.show_error(exc, "wf.error")
            else:
                st.session_state["handover_form_gen"] = gen + 1
                st.session_state[ui.FLASH_KEY] = t("handover.done", id=hid)
                st.rerun()

# --- earlier handovers ----------------------------------------------------------------------------
st.subheader(t("handover.history"))
past = ui.call(path, handover.history)
if not past:
    st.info(t("handover.history.empty"))
else:
    st.caption(t("handover.history.pick"))
    rows = [dict(h, time=data.to_china(h["created_at"], "%m-%d %H:%M"),
                 start=data.to_china(h["shift_from"], "%m-%d %H:%M"),
                 receiver=h["received_by"] or t("handover.not_received"),
                 received=data.to_china(h["received_at"], "%m-%d %H:%M") if h["received_at"] else "",
                 note_short=" ".join((h["note"] or "").split())[:60])
            for h in past]
    picked = ui.table(rows, {"id": "#", "time": t("handover.col.time"), "author": t("handover.col.author"),
                             "start": t("handover.col.from"), "open_alerts": t("handover.col.open"),
                             "overdue": t("handover.col.overdue"), "receiver": t("handover.col.receiver"),
                             "received": t("handover.col.received_at"), "note_short": t("handover.col.note")},
                      key="handover_history", pick="id")
    if picked is not None:
        full = ui.call(path, handover.handover, int(picked))
        with st.container(border=True):
            st.text("\n".join(handover.handover_lines(full)))
