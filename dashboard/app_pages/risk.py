"""舆情风险点 (seed 001: "定期梳理舆情风险点"): the topics, accounts and places that keep producing
negative or false health items in a period, with the weeks they came back in; each table exports as
CSV, and an account opens its items on 条目检索. The 宣传节点 tab lists the health observance days
ahead (seed 001, 3; rumourwatch.healthdays) with what the feed said of each one's topic lately and
a year before, the experts and clarifications at hand, and the days just passed with their topic's
window; monitors and admins add the office's own days. The 事前研判 tab assesses the subject of a
policy or activity before its day (dashboard.assessment_tab). Monitors, leaders and admins."""

import streamlit as st

from dashboard import assessment_tab, data
from dashboard import workflow_ui as ui
from dashboard.auth import require_role
from dashboard.strings import t
from dashboard.ui import nav_key, open_search
from rumourwatch import healthdays, risk
from rumourwatch.errors import RumourwatchError
from rumourwatch.experts import TOPICS
from rumourwatch.exports import csv_text

user = require_role("monitor", "leader", "admin")
path = ui.db_path()
settings = data.settings()
st.title(t("risk.title"))
st.caption(t("risk.caption", weeks=risk.RECURRING_WEEKS, threshold=f"{settings.rumour_threshold:g}"))
ui.flash()

SPANS = {"30": 30, "90": 90, "180": 180, "custom": None}
today = data.china_today()
custom = ui.span_picker("risk", SPANS, "90")
start, end = data.period_bounds("custom", tuple(custom))
points = data.risk_points(path, start, end, settings.rumour_threshold)
st.info(risk.summary(points), icon=":material/crisis_alert:")

weeks = points["period"]["weeks"]
PASSED_DAYS = 60  # the days just passed, read against the weeks before them
days_read = data.health_days(path, today, settings.rumour_threshold, PASSED_DAYS)
ahead = days_read["ahead"]
from_search = assessment_tab.from_search()  # 条目检索's 对此检索做事前研判: that tab, its form filled
tabs = st.tabs([*(t(f"risk.tab.{k}", n=sum(r["recurring"] for r in points[k])) for k in risk.KINDS),
                t("days.tab", n=len(ahead)), t("assess.tab")], default=t("assess.tab") if from_search else None)
for tab, kind in zip(tabs, risk.KINDS):
    with tab:
        if not points[kind]:
            st.info(t(f"risk.empty.{kind}"))
            continue
        # the very rows and headers of the CSV, so the page and the file say the same
        header = risk.HEADERS[kind]
        picked = ui.table([dict(zip(header, row)) for row in risk.rows(points, kind)], {h: h for h in header},
                          key=nav_key(f"risk_{kind}"), pick={"accounts": "账号", "topics": "话题"}.get(kind))
        if kind in ("accounts", "topics"):
            st.caption(t(f"risk.{kind}.click"))
            if picked:
                open_search(**{"account" if kind == "accounts" else "topic": picked})
        st.download_button(t("risk.export"), risk.risk_csv(points, kind).encode("utf-8"),
                           file_name=f"舆情风险点_{t(f'risk.kind.{kind}')}_{custom[0]}_{custom[1]}.csv",
                           mime="text/csv", key=f"risk_export_{kind}")


def _when(first: str, last: str) -> str:
    return first[5:] if first == last else f"{first[5:]} 至 {last[5:]}"


def days_table(rows: list[dict], columns: dict[str, str], key: str, file_name: str) -> None:
    """A 宣传节点 table and its CSV (the same rows and headers, as the other tabs export theirs); a
    row opens its topic's items on 条目检索."""
    picked = ui.table(rows, columns, key=nav_key(key), pick="topic")
    if picked:
        open_search(topic=picked)
    st.download_button(t("risk.export"), csv_text(list(columns.values()), [[r[k] for k in columns] for r in rows])
                       .encode("utf-8"), file_name=file_name, mime="text/csv", key=f"{key}_export")


def day_label(d) -> str:
    """An office's own day as its pickers list it."""
    return f"{d.month} 月 {d.day} 日 {d.name}（{d.topic}）"


def day_fields(key, name: str = "", topic: str = TOPICS[0], month: int = 1, day: int = 1, days: int = 1,
               note: str = "", placeholder: str | None = None) -> dict:
    """The fields of an office's own day, inside a form, with these values first (`key(field)`: each
    widget's key); what they hold, as healthdays.add and edit take it."""
    c = st.columns([3, 3, 1, 1, 1])
    return {"name": c[0].text_input(t("days.name"), value=name, max_chars=healthdays.NAME_MAX, key=key("name"),
                                    placeholder=placeholder),
            "topic": c[1].selectbox(t("days.topic"), TOPICS, index=TOPICS.index(topic), key=key("topic")),
            "month": int(c[2].number_input(t("days.month"), 1, 12, value=month, key=key("month"))),
            "day": int(c[3].number_input(t("days.day"), 1, 31, value=day, key=key("day"))),
            "days": int(c[4].number_input(t("days.span"), 1, healthdays.MAX_SPAN, value=days, key=key("span"))),
            "note": st.text_input(t("days.note"), value=note, max_chars=healthdays.NOTE_MAX, key=key("note"))}


def edit_day(local: list) -> None:
    """Change one of the office's own days: its fields filled with what it has."""
    pick = st.selectbox(t("days.edit.pick"), local, key="days_edit_pick", format_func=day_label)
    k = f"days_edit_{pick.id}"  # each day's own widgets, so a pick shows its own values
    with ui.action_form(k):
        fields = day_fields(lambda f: f"{k}_{f}", pick.name, pick.topic, pick.month, pick.day, pick.days,
                            pick.note or "")
        if st.form_submit_button(t("days.edit.submit")):
            ui.act(path, t("days.edited", name=fields["name"].strip() or pick.name), healthdays.edit, pick.id,
                   **fields, actor=user["username"], now=data.now_utc())


with tabs[-2]:  # 宣传节点: the health observance days ahead, and those just passed
    st.caption(t("days.caption", days=healthdays.UPCOMING_DAYS, recent=healthdays.RECENT_DAYS) + t("days.click"))
    if ahead:
        days_table([{"when": _when(d["first"], d["last"]), "name": d["name"], "topic": d["topic"],
                     "in": t("days.now") if d["in_days"] == 0 else t("days.in", n=d["in_days"]),
                     "items": d["recent_items"], "flagged": d["recent_flagged"],
                     "last_year": "—" if d["last_year_flagged"] is None else d["last_year_flagged"],
                     "experts": d["experts"], "clarifications": d["clarifications"],
                     "kind": t("days.local") if d["local"] else t("days.national")} for d in ahead],
                   {k: t(f"days.col.{k}") for k in ("when", "name", "topic", "in", "items", "flagged", "last_year",
                                                    "experts", "clarifications", "kind")},
                   "days_ahead", f"宣传节点_未来{healthdays.UPCOMING_DAYS}天_{today}.csv")
    else:
        st.info(t("days.none", days=healthdays.UPCOMING_DAYS))
    figures = {"days": PASSED_DAYS, "n": healthdays.WINDOW_DAYS, "weeks": healthdays.BASELINE_DAYS // 7}
    passed = days_read["passed"]
    st.markdown(f"**{t('days.passed', **figures)}**")
    if passed:
        days_table([{"when": _when(d["first"], d["last"]), "name": d["name"], "topic": d["topic"],
                     "window": _when(d["window_first"], d["window_last"]), "items": d["items"],
                     "change": "—" if d["change"] is None else f"{d['change']:+d}%", "flagged": d["flagged"]}
                    for d in reversed(passed)],
                   {k: t(f"days.col.{k}", **figures) for k in ("when", "name", "topic", "window", "items", "change",
                                                               "flagged")},
                   "days_passed", f"宣传节点_近{PASSED_DAYS}天_{today}.csv")
    else:
        st.info(t("days.passed.none", **figures))
    local = ui.call(path, healthdays.local_days)
    if user["role"] in ("monitor", "admin"):
        with st.expander(t("days.own", n=len(local))):
            gen = st.session_state.get("days_form_gen", 0)
            with ui.action_form(f"days_form_{gen}"):
                fields = day_fields(lambda f: f"days_{f}_{gen}", month=today.month, day=today.day,
                                    placeholder=t("days.name.placeholder"))
                if st.form_submit_button(t("days.add"), type="primary"):
                    try:
                        added = data.workflow(path, healthdays.add, **fields, actor=user["username"],
                                              now=data.now_utc())
                    except RumourwatchError as exc:
                        ui.show_error(exc, "wf.error")
                    else:
                        st.session_state["days_form_gen"] = gen + 1
                        st.session_state[ui.FLASH_KEY] = t("days.added", name=added["name"])
                        st.rerun()
            if local:
                edit_day(local)
                with ui.action_form("days_remove"):
                    c = st.columns([2, 2, 1], vertical_alignment="bottom")
                    pick = c[0].selectbox(t("days.remove.pick"), local, key="days_remove_pick", format_func=day_label)
                    reason = c[1].text_input(t("days.remove.reason"), max_chars=healthdays.REASON_MAX,
                                             key="days_remove_reason")
                    if c[2].form_submit_button(t("days.remove.submit")):
                        ui.act(path, t("days.removed", name=pick.name), healthdays.remove, pick.id, reason=reason,
                               actor=user["username"], now=data.now_utc())

with tabs[-1]:  # 事前研判: a policy's or an activity's subject assessed before its day
    assessment_tab.tab(path, user, today, settings.rumour_threshold)
