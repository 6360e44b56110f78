"""舆情报告: the leaders' daily report, weekly summary, monthly notice, quarterly and annual
reports, with a period picker and downloads.

The page renders the same computed `Report` that `rumourwatch report daily|weekly|monthly|quarterly|annual`
prints to HTML/PDF (through dashboard.data.report), and the same chart PNGs, so every figure matches
the download. `?kind=weekly&period=2026-W47` opens a given report (links in notification mails).
"""

from datetime import date

import pandas as pd
import streamlit as st

from dashboard import data, ui
from dashboard.auth import may_open, require_role
from dashboard.strings import t
from dashboard.workflow_ui import refusal, show_error
from rumourwatch import reports
from rumourwatch.errors import RumourwatchError

require_role("leader", "admin", "analyst", "monitor")

st.title(t("reports.title"))
st.caption(t("reports.caption"))

settings = ui.page_settings()
path = settings.db_path
ui.require_database(path, t("reports.no_database"))

now = data.now_utc()
KINDS = reports.KINDS
# the period picker's word (strings.py reports.<unit>)
UNIT = {"daily": "day", "weekly": "week", "monthly": "month", "quarterly": "quarter", "annual": "year"}
EARLIER = {"daily": 30, "weekly": 12, "monthly": 12, "quarterly": 8, "annual": 4}  # periods offered before the current
asked_kind = st.query_params.get("kind")
asked_period = st.query_params.get("period")


def _options(kind: str) -> list[reports.Period]:
    """The current (unfinished) period and those before it (EARLIER: thirty days, twelve weeks or
    months, eight quarters, four years), newest first."""
    current = reports.current_period(kind, now)
    out = [current]
    for _ in range(EARLIER[kind]):
        out.append(out[-1].previous())
    return out


def option_text(p: reports.Period) -> str:
    """A period in the picker: 2026-11-23（星期一）, or a week / month with its first and last day."""
    if p.kind == "daily":
        return t("reports.day.option", label=p.label, weekday=reports.weekday_zh(date.fromisoformat(p.label)))
    return t("reports.week.option", label=p.label, start=p.first_day, end=p.last_day)


bad_link = None
with st.sidebar:
    kind = st.radio(t("reports.kind"), KINDS, format_func=lambda k: t(f"reports.kind.{k}"), horizontal=True,
                    index=KINDS.index(asked_kind) if asked_kind in KINDS else 1, key="rep_kind")
    options = _options(kind)
    if asked_period and asked_period not in [p.label for p in options]:
        try:  # an older period asked for by link
            options.append(reports.parse_period(kind, asked_period))
        except reports.ReportError as exc:  # said above the report, which opens the default period
            bad_link = refusal(exc)
    labels = [p.label for p in options]
    default = labels.index(asked_period) if asked_period in labels else 1  # the last complete period
    by_label = {p.label: p for p in options}
    label = st.selectbox(t(f"reports.{UNIT[kind]}"), labels, index=default,
                         format_func=lambda lb: option_text(by_label[lb]),
                         key=f"rep_period_{kind}")
    region = st.text_input(t("reports.region"), key="rep_region", help=t("reports.region.help")).strip() or None
    with ui.friendly_errors():
        known = data.platforms(path)
    platform = st.selectbox(t("reports.platform"), [None, *known], key="rep_platform",
                            format_func=lambda p: t("reports.platform.all") if p is None else p)
    minimum = None
    if kind in reports.LONG_KINDS:
        minimum = int(st.number_input(t("reports.minimum"), min_value=0, max_value=100,
                                      value=reports.DEFAULT_UNIT_MONTHLY_MINIMUM, step=1, key="rep_minimum"))

if bad_link:
    st.warning(t("reports.period.bad", detail=bad_link))
try:
    with st.spinner(t("reports.computing")):  # a year of a national feed takes seconds
        report = data.report(path, kind, label, region, platform, settings.rumour_threshold, minimum, now=now)
except reports.ReportError as exc:
    st.error(t("reports.error", detail=refusal(exc)))
    st.stop()
except RumourwatchError as exc:
    show_error(exc, "reports.error")
    st.stop()
report_json = report.to_json()

current = options[0]
if label != current.label and not report.section("volume").data["items"]:
    # The last complete period opens by default; when nothing was collected in it (a new deployment,
    # a demo whose data is all today) say so and offer the current, unfinished period.
    st.info(t("reports.period.empty", unit=t(f"reports.{UNIT[kind]}"), label=label))
    st.button(t("reports.period.open_current", this=reports.tr(f"this.{kind}"), label=current.label),
              key="open_current", on_click=lambda: st.session_state.update({f"rep_period_{kind}": current.label}))

# --- header and downloads ---------------------------------------------------------------------
st.subheader(f"{report.title} · {reports.period_text(report)}")
st.caption(" ".join([reports.generated_text(report), *report.scope]))
base = reports.default_filename(report, "x")[:-2]
cols = st.columns(4)
cols[0].download_button(t("reports.download.html"), data.report_file(report_json, "html"), f"{base}.html",
                        mime=reports.MIME_TYPES["html"], key="dl_html", width="stretch")
# Word: what an office edits and issues under its own header (the PDF cannot be edited)
cols[1].download_button(t("reports.download.docx"), data.report_file(report_json, "docx"), f"{base}.docx",
                        mime=reports.MIME_TYPES["docx"], key="dl_docx", width="stretch")
cols[2].download_button(t("reports.download.md"), data.report_file(report_json, "md"), f"{base}.md",
                        mime=reports.MIME_TYPES["md"], key="dl_md", width="stretch")
if st.session_state.get("rep_pdf_for") == report_json:
    try:
        cols[3].download_button(t("reports.download.pdf"), data.report_file(report_json, "pdf"), f"{base}.pdf",
                                mime=reports.MIME_TYPES["pdf"], key="dl_pdf", width="stretch", type="primary")
    except RumourwatchError as exc:
        show_error(exc, "reports.pdf.error")
elif cols[3].button(t("reports.pdf.make"), key="make_pdf", width="stretch"):
    st.session_state["rep_pdf_for"] = report_json  # PDF takes seconds: made on request, then offered
    st.rerun()


def lines(items) -> None:
    for line in items:
        if line:
            st.markdown("- " + ui.escape_md(line))


def table(head, rows, link_col: int | None = None) -> None:
    """A report table as a dataframe (cells are text, never markup); link cells show their url."""
    records = []
    for row in rows:  # a link cell without a url (an item scraped without one) is empty, not "None"
        records.append([(c[1] or "") if isinstance(c, tuple) else c for c in row])
    frame = pd.DataFrame(records, columns=head)
    config = {head[link_col]: st.column_config.LinkColumn(head[link_col])} if link_col is not None else None
    st.dataframe(frame, hide_index=True, width="stretch", column_config=config)


def empty(section) -> None:
    st.info(section.message)


# --- sections (same order and wording as the HTML / PDF) ------------------------------------------
for section in report.sections:
    st.header(section.title, divider="red")
    if section.key == "volume":
        vol = reports.volume_lines(report)
        st.markdown(f"#### {ui.escape_md(vol[0])}")
        if section.message:
            empty(section)
        lines(vol[1:])
        chart = data.report_chart(report_json, "daily")
        if chart:
            st.image(chart, width="stretch")
        if kind == "weekly" and not section.message:
            table(*reports.daily_table(report))
        elif kind in ("quarterly", "annual") and not section.message:
            table(*reports.months_table(report))
    elif section.key == "topics":
        if section.message:
            empty(section)
        else:
            lines(reports.topics_lines(report))
            table(*reports.topics_table(report))
            if tags := reports.tags_table(report):
                st.markdown(f"**{tags[0]}**")
                table(*tags[1:])
    elif section.key == "rumours":
        if section.message:
            empty(section)
        else:
            head, rows = reports.rumour_table(report)
            table(head, rows, link_col=len(head) - 1)
        if section.data.get("workflow_note"):
            st.info(section.data["workflow_note"])
    elif section.key == "alerts":
        if not section.available or section.message:
            empty(section)
            lines(reports.press_lines(report))  # press conferences in a period without alerts
        else:
            lines(reports.alerts_lines(report))
            st.subheader(reports.tr("alerts.overdue"))
            if section.data["overdue"]:
                table(*reports.overdue_table(report))
            else:
                st.write(reports.tr("alerts.overdue.none"))
    elif section.key == "experts":
        if not section.available or section.message:
            empty(section)
            lines(reports.expert_training_lines(report))  # experts' trainings in a period without tasks
        else:
            lines(reports.experts_lines(report))
            for title, head, rows in reports.expert_tables(report):
                st.subheader(title)
                table(head, rows)
    elif section.key == "publishers":
        if not section.available:
            empty(section)
        else:
            lines(reports.publishers_lines(report))
            if section.data.get("added"):
                table(*reports.publishers_table(report))
    elif section.key == "watch":
        if not section.available or section.message:
            empty(section)
        else:
            lines(reports.watch_lines(report))
            table(*reports.watch_table(report))
    elif section.key == "risk":
        if not section.available:
            empty(section)
            continue
        lines(reports.risk_lines(report))
        for title, head, rows in reports.risk_tables(report):
            st.subheader(title)
            table(head, rows)
        if may_open("risks"):  # analysts read the reports but have no risk page
            st.page_link("app_pages/risk.py", label=reports.tr("risk.more"), icon=":material/crisis_alert:")
    elif section.key == "model":
        if not section.available or section.message:
            empty(section)
        else:
            lines(reports.model_lines(report))
    elif section.key == "units":
        if not section.available or section.message:
            empty(section)
        else:
            lines(reports.units_lines(report))
            chart = data.report_chart(report_json, "units")
            if chart:
                st.image(chart, width="stretch")
            table(*reports.units_table(report))

st.caption(reports.tr("footer"))
