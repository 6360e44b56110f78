"""领导概览 (rumourwatch.overview): the leaders' first page — what is late now (alerts past a clock,
units late with their reply to a referral), last week against the
week before in a few sentences, the plans' standing duties this month (units reporting their
minimum, press conferences, media activities, this half-year's correspondents' training; last month's notice; the health days of the next two weeks), and the last 12 weeks as trends (health items, negative share,
alerts by severity, the share released within 5 hours), each week as its 周报 counts it; a week's
row opens its 周报, an overdue alert's row opens it."""

import altair as alt
import pandas as pd
import streamlit as st

from dashboard import data
from dashboard import workflow_ui as ui
from dashboard.auth import may_open, require_role
from dashboard.strings import t
from dashboard.ui import nav_key, open_alert, open_own_media, open_report
from rumourwatch import assessment, overview

user = require_role("leader", "admin")
path = ui.db_path()
settings = data.settings()
now = data.now_utc()

st.title(t("overview.title"))
st.caption(t("overview.caption"))

late = ui.call(path, overview.late_now, now)
weeks = data.weekly_trend(path, settings.rumour_threshold, now)
this_week, last_week = weeks[-1], weeks[-2]
cols = st.columns(4)
cols[0].metric(t("overview.metric.open"), late["open"], border=True)
cols[1].metric(t("overview.metric.overdue"), len(late["overdue"]), border=True)
cols[2].metric(t("overview.metric.top"), late["top"], border=True)
cols[3].metric(t("overview.metric.week_alerts"), this_week["alerts"], border=True,
               delta=t("overview.metric.last_week", n=last_week["alerts"]), delta_color="off")

if late["overdue"]:
    st.subheader(t("overview.overdue"))
    rows = [dict(o, clock_label=t(f"handover.clock.{o['clock']}"), deadline_label=data.to_china(o["deadline"]),
                 late=t("overview.late_hours", h=f"{o['late_hours']:.1f}"), status_label=ui.label("alert.status", o["status"]))
            for o in late["overdue"]]
    picked = ui.table(rows, {"id": t("col.alert_id"), "severity": t("col.severity"), "late": t("overview.col.late"),
                             "clock_label": t("handover.col.clock"), "deadline_label": t("handover.col.deadline"),
                             "status_label": t("col.status"), "expert": t("col.expert"), "title": t("col.alert_title")},
                      key=nav_key("overview_overdue"), pick="id")
    if picked is not None and may_open("alerts", user):
        open_alert(int(picked))

if late["referrals"]:  # 交办属地单位: the bureaus that have not reported back in time
    st.subheader(t("overview.referrals"))
    rows = [dict(r, late=t("overview.late_hours", h=f"{r['late_hours']:.1f}"), due=data.to_china(r["due_at"]))
            for r in late["referrals"]]
    picked = ui.table(rows, {"alert_id": t("col.alert_id"), "alert_severity": t("col.severity"),
                             "unit_name": t("sub.unit"), "late": t("overview.col.late"), "due": t("ref.col.due"),
                             "request": t("ref.col.request"), "alert_title": t("col.alert_title")},
                      key=nav_key("overview_referrals"), pick="alert_id")
    if picked is not None and may_open("alerts", user):
        open_alert(int(picked))

st.subheader(t("overview.last_week"))
lines = overview.headline(weeks)
if lines:
    with st.container(border=True):
        st.text("\n".join(lines))  # figures and our words only, as plain text
else:
    st.info(t("overview.no_week"))

duty = ui.call(path, overview.this_month_rules, now, threshold=settings.rumour_threshold)  # this month so far
st.subheader(t("overview.rules", y=duty["month"][:4], m=int(duty["month"][5:])))
cols = st.columns(4)
cols[0].metric(t("overview.rules.units"), f"{duty['units_met']} / {duty['units']}", border=True,
               help=t("overview.rules.units.help", days=duty["days_left"]))
cols[1].metric(t("overview.rules.press"), t("overview.rules.of", n=duty["press_held"], m=duty["press_minimum"]),
               border=True, help=t("overview.rules.press.help"))
cols[2].metric(t("overview.rules.media"), t("overview.rules.of", n=duty["media_held"], m=duty["media_minimum"]),
               border=True, help=t("overview.rules.media.help"))
half = duty["training"]
cols[3].metric(t("overview.rules.training", y=half["year"], h=t(f"train.half.{half['half']}")),
               t("overview.rules.count.training", n=half["held"]) if half["held"] else t("overview.rules.training.none"),
               border=True, help=t("overview.rules.training.help", days=half["days_left"]))
last = duty["last_month"]
cols = st.columns([4, 1], vertical_alignment="center")
short = duty["last_month_short"]
cols[0].caption(t("overview.rules.last.short", m=int(last[5:]), n=len(short), names="、".join(short)) if short
                else t("overview.rules.last.met", m=int(last[5:])) if duty["units"] else t("sub.units.none"))
if cols[1].button(t("overview.rules.last.open"), key="open_last_notice"):
    open_report("monthly", last)


def month_day(day: str) -> str:
    """YYYY-MM-DD as "12 月 1 日"."""
    return f"{int(day[5:7])} 月 {int(day[8:])} 日"


if duty["health_days"]:
    st.caption(t("overview.days", n=overview.DAYS_AHEAD, days="；".join(
        f"{month_day(d['first'])} {d['name']}（{d['topic']}）" for d in duty["health_days"])))
if duty["assessments"]:
    st.caption(t("overview.assessments", n=overview.DAYS_AHEAD, items="；".join(
        f"{month_day(a['event_day'])} {ui.escape(a['title'])}（风险{assessment.LEVEL_ZH[a['level']]}）"
        for a in duty["assessments"])))
own = duty["own_media"]  # 政务新媒体: the office's channels this month so far
if own:
    cols = st.columns([4, 1], vertical_alignment="center")
    line = t("overview.own", channels=own["channels"], posts=f"{own['posts']:,}", engagement=f"{own['engagement']:,}",
             prev_posts=f"{own['previous']['posts']:,}", prev_engagement=f"{own['previous']['engagement']:,}")
    if own["unanswered"]:
        line += t("overview.own.unanswered", topics="、".join(own["unanswered"]))
    cols[0].caption(line)
    if cols[1].button(t("overview.own.open"), key="open_ownmedia"):
        open_own_media()

ytd = ui.call(path, overview.year_to_date, now)
st.subheader(t("overview.ytd", year=ytd["year"]))
cols = st.columns([4, 1], vertical_alignment="center")
cols[0].markdown(f"**{ui.escape(ytd['line'])}**" if ytd["line"] else t("overview.ytd.none"))
cols[0].caption(t("overview.ytd.caption", first=ytd["first_day"], now=data.to_china(now)))
if cols[1].button(t("overview.ytd.open"), key="open_annual"):
    open_report("annual", ytd["year"])

st.subheader(t("overview.trend", n=len(weeks)))
st.caption(t("overview.trend.caption", week=weeks[-1]["label"].split("-")[-1]))


def week_label(w: dict) -> str:
    short = w["label"].split("-")[-1]
    return t("overview.week.partial", week=short) if w["partial"] else short


frame = pd.DataFrame([{"周": w["label"].split("-")[-1], "order": i, t("overview.col.health"): w["health_related"],
                       t("overview.col.negative"): w["shares"].get("negative"),
                       t("overview.col.share_5h"): w["share_5h"], **{sev: n for sev, n in w["by_severity"].items()}}
                      for i, w in enumerate(weeks)])
x = alt.X("周:N", sort=alt.SortField("order"), title=None, axis=alt.Axis(labelAngle=0, labelOverlap=False))


def bars(column: str, colour: str) -> alt.Chart:
    return alt.Chart(frame).mark_bar(color=colour).encode(
        x=x, y=alt.Y(f"{column}:Q", title=None), tooltip=["周", alt.Tooltip(f"{column}:Q", format=",")]
    ).properties(height=200, title=column)


def line(column: str, colour: str, top: float | None = None) -> alt.Chart:
    """A share (percent) per week; `top` fixes the scale's top (100 for a rate), else it fits the data."""
    scale = alt.Scale(domain=[0, top]) if top else alt.Scale(zero=True)
    return alt.Chart(frame).mark_line(point=True, color=colour).encode(
        x=x, y=alt.Y(f"{column}:Q", title=None, scale=scale, axis=alt.Axis(format=".0f")),
        tooltip=["周", alt.Tooltip(f"{column}:Q", format=".1f")]
    ).properties(height=200, title=column)


severity = frame.melt(id_vars=["周", "order"], value_vars=["一级", "二级", "三级"], var_name="级别", value_name="预警")
alerts_chart = alt.Chart(severity).mark_bar().encode(
    x=x, y=alt.Y("预警:Q", title=None, axis=alt.Axis(tickMinStep=1)),
    color=alt.Color("级别:N", scale=alt.Scale(domain=["一级", "二级", "三级"], range=["#c62828", "#ef6c00", "#f9a825"]),
                    legend=alt.Legend(orient="right", title=None)),
    tooltip=["周", "级别", "预警"]).properties(height=200, title=t("overview.col.alerts"))
left, right = st.columns(2)
left.altair_chart(bars(t("overview.col.health"), "#4c78a8"), width="stretch")
right.altair_chart(line(t("overview.col.negative"), "#c62828"), width="stretch")
left, right = st.columns(2)
left.altair_chart(alerts_chart, width="stretch")
right.altair_chart(line(t("overview.col.share_5h"), "#2e7d32", 100), width="stretch")

table = [dict(w, week=week_label(w), span=f"{w['first_day'][5:]} – {w['last_day'][5:]}",
              negative=f"{w['shares']['negative']:.1f}%" if w["shares"].get("negative") is not None else "—",
              met=f"{w['share_5h']:.1f}%" if w["share_5h"] is not None else "—") for w in reversed(weeks)]
st.caption(t("overview.table.pick"))
picked = ui.table(table, {"week": t("overview.col.week"), "span": t("overview.col.span"),
                          "health_related": t("overview.col.health"), "negative": t("overview.col.negative"),
                          "flagged": t("overview.col.flagged"), "alerts": t("overview.col.alerts"),
                          "met": t("overview.col.share_5h"), "published": t("overview.col.published")},
                  key=nav_key("overview_weeks"), pick="label")
st.download_button(t("overview.export"), overview.trend_csv(weeks).encode("utf-8"),
                   file_name=f"领导概览_近{len(weeks)}周.csv", mime="text/csv")
if picked is not None and may_open("reports", user):
    open_report("weekly", picked)
