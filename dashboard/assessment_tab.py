"""舆情风险点 › 事前研判 (rumourwatch.assessment): before a policy is released or an activity held,
its subject is assessed from what the feed says of it (seed 001: "做好事前舆论研判和风险评估"). Anyone
on the page assesses and downloads the document; monitors and admins keep an assessment (audited)
and make its words a watched keyword; the kept ones are listed with what followed their day."""

from __future__ import annotations

from datetime import date, timedelta

import pandas as pd
import streamlit as st

from dashboard import data
from dashboard import workflow_ui as ui
from dashboard.strings import t
from dashboard.ui import daily_chart, nav_key, open_item
from rumourwatch import alerts, assessment, reports, store
from rumourwatch.errors import RumourwatchError
from rumourwatch.experts import TOPICS

CURRENT = "assess_current"   # session: the assessment just made, as JSON
FILE = "assess_file"         # session: (id or title, format, bytes, name) of the document made
LISTED = 50                  # kept assessments listed, the latest day first


def blocks(parts: list[tuple[str, list[tuple]]]) -> None:
    """The document's sections as the page shows them: the same lines and tables the file prints."""
    for name, section in parts:
        st.markdown(f"**{ui.escape(name)}**")
        for block in section:
            kind = block[0]
            if kind == "lines":
                st.markdown("\n".join(f"- {ui.escape(line)}" for line in block[1] if line))
            elif kind == "lead":
                st.markdown(f"**{ui.escape(block[1])}**")
            elif kind in ("quote", "empty"):
                st.info(ui.escape(block[1]))
            elif kind == "table":
                if block[1]:
                    st.caption(block[1])
                st.dataframe(pd.DataFrame([[str(c) for c in row] for row in block[3]], columns=block[2]),
                             hide_index=True, width="stretch")


def downloads(a: assessment.Assessment, key: str, after: dict | None = None) -> None:
    """Make the document in a format, then download it (a PDF is printed by headless Chromium: seconds)."""
    with ui.action_form(f"{key}_file"):
        c = st.columns([3, 1], vertical_alignment="bottom")
        fmt = c[0].radio(t("alerts.briefing.format"), list(reports.MIME_TYPES), horizontal=True, key=f"{key}_fmt",
                         format_func=lambda f: t(f"alerts.briefing.format.{f}"),
                         index=list(reports.MIME_TYPES).index("docx"))
        make = c[1].form_submit_button(t("assess.make_file"))
    tag = (a.id, a.title, a.generated_at)
    if make:
        with st.spinner(t("assess.making")):
            st.session_state[FILE] = (tag, fmt, assessment.to_bytes(a, fmt, after), assessment.default_filename(a, fmt))
    ready = st.session_state.get(FILE)
    if ready and ready[0] == tag:
        st.download_button(t("alerts.briefing.download", name=ready[3]), ready[2], ready[3],
                           mime=reports.MIME_TYPES[ready[1]], key=f"{key}_download", type="primary")


def show(a: assessment.Assessment, after: dict | None = None) -> None:
    """The level and its reasons up front, then the figures, as the document has them."""
    box = {"high": st.error, "medium": st.warning, "low": st.success}[a.level]
    box(t("assess.level", level=assessment.LEVEL_ZH[a.level], title=ui.escape(a.title)), icon=":material/policy:")
    v, r = a.volume, a.rumours
    c = st.columns(4)
    c[0].metric(t("assess.metric.items"), f"{v['items']:,}", border=True)
    c[1].metric(t("assess.metric.open"), f"{r['open']:,} / {r['stories']:,}", border=True,
                help=t("assess.metric.open.help"))
    c[2].metric(t("assess.metric.negative"), reports.fmt_pct(v["negative_share"]), border=True,
                help=t("assess.metric.negative.help", feed=reports.fmt_pct(v["feed_negative_share"])))
    c[3].metric(t("assess.metric.trend", n=assessment.TREND_DAYS), assessment.change_text(v["change"]), border=True,
                help=t("assess.metric.trend.help", n=assessment.TREND_DAYS, before=v["before_days"]))
    if v["items"]:
        st.altair_chart(daily_chart(v["daily"]), width="stretch")
    blocks(assessment.sections(a, after, charts=False))
    if r["top"]:
        pick = st.selectbox(t("assess.open_item"), [None, *range(len(r["top"]))], key=nav_key(f"assess_item_{a.id}"),
                            format_func=lambda i: t("assess.open_item.none") if i is None
                            else f"{i + 1}. {r['top'][i]['text'][:40]}")
        if pick is not None:
            open_item(r["top"][pick]["item_id"])


def _form(path: str, today, threshold: float) -> None:
    gen = st.session_state.get("assess_form_gen", 0)
    with ui.action_form(f"assess_form_{gen}"):
        c = st.columns([3, 2])
        title = c[0].text_input(t("assess.title"), max_chars=assessment.TITLE_MAX, key=f"assess_title_{gen}",
                                placeholder=t("assess.title.placeholder"))
        day_key = f"assess_day_{gen}"  # (filled by 按此事项重新研判, else a week ahead)
        day = c[1].date_input(t("assess.day"), min_value=today - timedelta(days=30), key=day_key,
                              **({} if day_key in st.session_state else {"value": today + timedelta(days=7)}))
        c = st.columns([3, 2])
        query = c[0].text_input(t("assess.query"), max_chars=200, key=f"assess_query_{gen}",
                                placeholder=t("assess.query.placeholder"), help=t("assess.query.help"))
        topic = c[1].selectbox(t("assess.topic"), ["", *TOPICS], key=f"assess_topic_{gen}",
                               format_func=lambda x: x or t("assess.topic.any"))
        note = st.text_area(t("assess.note"), max_chars=assessment.NOTE_MAX, key=f"assess_note_{gen}", height=80)
        if st.form_submit_button(t("assess.run"), type="primary"):
            try:
                with st.spinner(t("assess.running")):
                    made = data.workflow(path, assessment.compute, title=title, query=query, topic=topic or None,
                                         event_day=day, now=data.now_utc(), threshold=threshold, note=note)
            except RumourwatchError as exc:
                ui.show_error(exc, "wf.error")
            else:
                st.session_state[CURRENT] = made.to_json()
                st.session_state.pop(FILE, None)


def _keep(path: str, a: assessment.Assessment, user: dict) -> None:
    """Save it (audited), and make its words a watched keyword (as 条目检索 does)."""
    c = st.columns(2)
    if c[0].button(t("assess.save"), key="assess_save", type="primary", icon=":material/bookmark_add:"):
        try:
            n = data.workflow(path, assessment.save, a, actor=user["username"], now=data.now_utc())
        except RumourwatchError as exc:
            ui.show_error(exc, "wf.error")
        else:
            st.session_state.pop(CURRENT, None)
            st.session_state["assess_form_gen"] = st.session_state.get("assess_form_gen", 0) + 1
            st.session_state[ui.FLASH_KEY] = t("assess.saved", id=n, title=ui.escape(a.title))
            st.rerun()
    if not a.query:
        return
    rules = ui.rules()
    if a.query in rules["watch"]["keywords"]:
        c[1].caption(t("assess.watched", query=ui.escape(a.query)))
    elif c[1].button(t("assess.watch", query=ui.escape(a.query)), key="assess_watch", icon=":material/notification_add:",
                     help=t("search.watch.keywords.help", severity=rules["watch"]["severity"])):
        ui.act(path, t("search.watch.keywords.added", value=ui.escape(a.query)),
               lambda db: alerts.set_watched("keywords", a.query, True, user["username"], db))


def _kept(path: str, user: dict, today, threshold: float) -> None:
    rows = ui.call(path, store.list_assessments, LISTED)
    st.markdown(f"**{t('assess.kept', n=len(rows))}**")
    if not rows:
        st.info(t("assess.kept.none"))
        return
    afters = data.assessment_aftermaths(path, tuple(r["id"] for r in rows), today, threshold)
    table = [{"id": r["id"], "day": r["event_day"], "title": r["title"],
              "subject": "；".join(x for x in (r["query"], r["topic"]) if x), "level": assessment.LEVEL_ZH[r["level"]],
              "made": f"{data.to_china(r['made_at'])} {r['made_by']}",
              "after": assessment.aftermath_text(afters[r["id"]])} for r in rows]
    picked = ui.table(table, {k: t(f"assess.col.{k}", n=assessment.AFTER_DAYS)
                              for k in ("day", "title", "subject", "level", "made", "after")},
                      key=nav_key("assess_kept"), pick="id")
    st.caption(t("assess.kept.click"))
    if picked:
        a = ui.call(path, assessment.saved, int(picked))
        after = afters[int(picked)]
        with st.container(border=True):
            show(a, after)
            downloads(a, "assess_kept_doc", after)
            _again_or_remove(path, a, user, today)


def _again_or_remove(path: str, a: assessment.Assessment, user: dict, today) -> None:
    """Assess the same subject again on today's data (the form filled), or take a kept one off the
    list with its reason (monitors and admins)."""
    if st.button(t("assess.again"), key="assess_again", help=t("assess.again.help"), icon=":material/refresh:"):
        gen = st.session_state.get("assess_form_gen", 0) + 1
        st.session_state.update({"assess_form_gen": gen, f"assess_title_{gen}": a.title,
                                 f"assess_query_{gen}": a.query or "", f"assess_topic_{gen}": a.topic or "",
                                 f"assess_day_{gen}": max(date.fromisoformat(a.event_day), today - timedelta(days=30))})
        st.session_state.pop(CURRENT, None)
        st.rerun()
    if user["role"] not in ("monitor", "admin"):
        return
    with ui.action_form("assess_remove"):
        c = st.columns([3, 1], vertical_alignment="bottom")
        reason = c[0].text_input(t("assess.remove.reason"), max_chars=assessment.REASON_MAX, key="assess_remove_reason")
        if c[1].form_submit_button(t("assess.remove.submit")):
            ui.act(path, t("assess.removed", id=a.id), assessment.remove, a.id, reason=reason, actor=user["username"],
                   now=data.now_utc())


def from_search() -> bool:
    """Whether the page was opened from 条目检索 (`?assess=…&assess_topic=…`, ui.open_assessment): the
    form is then filled with that search once (a new form, so what is typed after stays), and the
    page opens on this tab while the address says so."""
    if "assess" not in st.query_params:
        return False
    topic = st.query_params.get("assess_topic", "")
    if ui.fill_form_once("assess", "search", {"query": st.query_params.get("assess", ""),
                                              "topic": topic if topic in TOPICS else ""}):
        st.session_state.pop(CURRENT, None)
    return True


def tab(path: str, user: dict, today, threshold: float) -> None:
    st.caption(t("assess.caption", days=assessment.RECENT_DAYS, n=assessment.TREND_DAYS,
                 after=assessment.AFTER_DAYS))
    _form(path, today, threshold)
    current = st.session_state.get(CURRENT)
    if current:
        a = assessment.Assessment.from_json(current)
        with st.container(border=True):
            show(a)
            downloads(a, "assess_doc")
            if user["role"] in ("monitor", "admin"):
                _keep(path, a, user)
    _kept(path, user, today, threshold)
