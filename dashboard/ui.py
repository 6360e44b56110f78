"""Rendering helpers shared by pages: tables of items, charts, safe text, error boundaries.

Scraped text (item text, titles, accounts, reaction texts, reject payloads) is only ever shown
through `st.text`, `st.code` or dataframe cells, which render it as text: a `<script>` tag or a
`[link](javascript:...)` in a post stays visible characters, never markup.
"""

from __future__ import annotations

import re
from contextlib import contextmanager

import altair as alt
import pandas as pd
import streamlit as st

from dashboard import auth as dashboard_auth
from dashboard import data
from dashboard.strings import t
from dashboard.workflow_ui import show_error
from rumourwatch.errors import ConfigError, RumourwatchError
from rumourwatch.tips import CHANNELS as TIP_CHANNELS

ITEM_PAGE = "app_pages/item.py"
LIVE_PAGE = "app_pages/live.py"
SEARCH_PAGE = "app_pages/search.py"
ALERTS_PAGE = "app_pages/alerts.py"
HANDOVER_PAGE = "app_pages/handover.py"
REPORTS_PAGE = "app_pages/reports.py"
RISKS_PAGE = "app_pages/risk.py"
OWN_MEDIA_PAGE = "app_pages/ownmedia.py"
POLARITY_COLOURS = {"positive": "#2e7d32", "neutral": "#90a4ae", "negative": "#c62828"}
_MD_SPECIAL = re.compile(r"([\\`*_{}\[\]()#+\-.!|<>~$:&])")


def escape_md(text) -> str:
    """Backslash-escape every Markdown/HTML/LaTeX special character (for labels built from data)."""
    return _MD_SPECIAL.sub(r"\\\1", str(text))


# params of a self-check finding holding a stored UTC time: shown as Beijing time
FINDING_TIMES = ("at", "oldest", "created_at")
FINDING_BOX = {"error": (st.error, ":material/error:"), "warning": (st.warning, ":material/warning:"),
               "ok": (st.success, ":material/check_circle:")}


def show_finding(finding) -> None:
    """A rumourwatch.selfcheck Finding in its level's box, worded in Chinese (`selfcheck.<key>`)."""
    params = {k: (data.to_china(v) if k in FINDING_TIMES and v else v) for k, v in finding.params.items()}
    params = {k: (escape_md(v) if isinstance(v, str) else v) for k, v in params.items()}
    box, icon = FINDING_BOX[finding.level]
    box(t(f"selfcheck.{finding.key}", **params), icon=icon)


@contextmanager
def friendly_errors():
    """Show a Chinese error with what to do next instead of a traceback (workflow_ui.show_error)."""
    try:
        yield
    except RumourwatchError as exc:
        show_error(exc)


def export_in_two_steps(key: str, conditions, label: str, help: str, make) -> None:
    """An export made when asked for, then handed over as bytes: a button `label` runs `make()` ->
    (bytes, file name, download button label) and keeps the file in the session with the `conditions`
    it was made for; its download button shows while those are the conditions on screen (buttons
    `{key}_make` and `{key}_file`). A download made at the click instead (a callable) was lost now
    and then: Streamlit drops a pending callable when another session's run ends while the page
    reruns, and the click fetched nothing."""
    ready = st.session_state.get(key)
    with st.container(horizontal=True, vertical_alignment="center"):
        if st.button(label, icon=":material/description:", help=help, key=f"{key}_make"):
            with friendly_errors():
                ready = st.session_state[key] = (conditions, *make())
        if ready and ready[0] == conditions:
            _, content, name, download_label = ready
            st.download_button(download_label, content, file_name=name, mime="text/csv", icon=":material/download:",
                               on_click="ignore", key=f"{key}_file")


def page_settings():
    """The settings for a page; a bad RUMOURWATCH_* setting is shown as a clear error and the page stops."""
    from dashboard import data

    try:
        return data.settings()
    except ConfigError as exc:
        show_error(exc)
        st.stop()


def require_database(path: str, message: str | None = None) -> None:
    """Stop the page with `message` (default: how to start collecting) while its database does not
    exist yet."""
    from dashboard import data

    if not data.database_exists(path):
        st.info(message or t("empty.no_data"))
        st.stop()


def pct(value) -> str:
    """A share as a percentage with one decimal, "—" when there is none (nothing to divide by)."""
    return "—" if value is None else f"{value:.1%}"


def similarity(value) -> str:
    """A cosine similarity with two decimals, "—" when there is none."""
    return "—" if value is None else f"{value:.2f}"


def polarity_label(value) -> str:
    return t(f"polarity.{value}") if value in ("positive", "neutral", "negative") else t("not_scored")


def yes_no(value) -> str:
    if value is None:
        return t("not_scored")
    return t("yes") if value else t("no")


def unassessed(row: dict) -> bool:
    """Scored, but given no rumour probability: a post the models cannot read (rumourwatch.language)."""
    return bool(row.get("scored_at")) and row.get("rumour_probability") is None


def probability_text(row: dict) -> str:
    """An item's rumour probability as a percentage; 未评估 for a post the models cannot read, 未评分
    before its first score."""
    p = row.get("rumour_probability")
    return f"{p:.1%}" if p is not None else t("item.unassessed") if unassessed(row) else t("not_scored")


def debunked_label(row: dict) -> str:
    """An item's 已辟谣 cell: 是/否 once matched, 不适用 for a scored item the relevance model calls
    unrelated to health (the scorer leaves those unmatched: rumourwatch.score), 未评估 for one the
    models cannot read (rumourwatch.language), 未评分 before its first score."""
    value = row.get("already_debunked")
    if value is None and unassessed(row):
        return t("item.unassessed")  # a post the models cannot read is matched with no clarification
    if value is None and row.get("health_related") == 0:
        return t("debunked.not_applicable")
    return yes_no(value)


def scripts_label(counts: dict[str, int]) -> str:
    """Posts counted by script the models cannot read ("蒙古文 2 条、藏文 1 条"), the most first;
    无 for none."""
    return "、".join(t("readings.by_language", language=t(f"language.{code}"), n=f"{n:,}")
                    for code, n in sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))) or t("readings.by_language.none")


def channel_label(channel: str) -> str:
    """A tip channel's Chinese name ('12320' → 12320 卫生健康热线); a code this dashboard does not know,
    as it is stored."""
    return t(f"tips.channel.{channel}") if channel in TIP_CHANNELS else channel


def source_label(source: str | None) -> str | None:
    """Where an item came from: a tip's source 'tip:12320' as 举报线索（12320 卫生健康热线）, any other as
    the worker names it (a feed, a file, the replay)."""
    if source and source.startswith("tip:") and source[4:] in TIP_CHANNELS:
        return t("tips.source", channel=channel_label(source[4:]))
    return source


def tips_summary(tipped: dict) -> str:
    """store.story_tips as one line: '3 次（12320 卫生健康热线 2，网络举报 1；最近 12-03 16:49）'."""
    channels = "，".join(f"{channel_label(c)} {n}"
                        for c, n in tipped["channels"].items())
    return t("tips.summary", n=tipped["n"], channels=channels, last=data.to_china(tipped["last"], "%m-%d %H:%M"))


def age_label(hours: float | None) -> str:
    """A time span as monitors read it: '40 分钟', '7 小时', '3 天' (whole units, rounded down)."""
    if hours is None:
        return ""
    if hours < 1:
        return t("age.minutes", n=max(1, int(hours * 60)))
    if hours < 48:
        return t("age.hours", n=int(hours))
    return t("age.days", n=int(hours // 24))


def source_state_label(health: dict) -> str:
    """A source's state (worker.source_health) for its row on 数据源与质量."""
    state = "stopped" if health.get("stopped") else health["state"]
    return t(f"sources.state.{state}", age=age_label(health["hours"]))


def source_warnings(judged: list[tuple[dict, dict]]) -> int:
    """A warning for each source that seems to have stopped (data.source_health: no new item, or not
    read, for the quiet-hours setting), saying since when and what to check; retired and failing
    sources are left to 数据源与质量. Returns how many were shown."""
    from rumourwatch.worker import STALLED  # as data.source_health: pages that show no sources skip it

    shown = 0
    for row, health in judged:
        state = health["state"]
        if state not in STALLED:
            continue
        params = {"source": escape_md(row["source"]), "age": age_label(health["hours"]),
                  "since": data.to_china(health["since"]) or ""}
        if state == "not_read":
            key = "sources.not_read_banner"
        else:
            key = "sources.quiet_banner" if row.get("last_item_at") or row.get("items_seen") else "sources.quiet_banner.never"
        st.warning(t(key, **params), icon=":material/sync_problem:")
        shown += 1
    return shown


def one_line(text, limit: int = 120) -> str:
    flat = " ".join(str(text or "").split())
    return flat if len(flat) <= limit else flat[: limit - 1] + "…"


def items_frame(rows: list[dict], with_copies: bool = False) -> pd.DataFrame:
    """Feed rows as a display table with Chinese column names (cells are plain text)."""
    records = []
    for r in rows:
        rec = {
            t("col.id"): r["id"],
            t("col.published"): data.to_china(r["published_at"], "%m-%d %H:%M"),
            t("col.platform"): r["platform"],
            t("col.account"): r.get("account") or r.get("author") or t("unknown"),
            t("col.text"): one_line(r.get("text")),
            t("col.probability"): r.get("rumour_probability"),
        }
        # Columns the query did not return are left out rather than shown as "not scored".
        if "polarity" in r:
            rec[t("col.polarity")] = polarity_label(r.get("polarity"))
        if "health_related" in r:
            rec[t("col.health")] = yes_no(r.get("health_related"))
        if "already_debunked" in r:
            rec[t("col.debunked")] = debunked_label(r)
        if with_copies:
            rec[t("col.copies")] = r.get("cluster_size") or 1
        if "verdict" in r:
            rec[t("col.verdict")] = t(f"verdict.{r['verdict']}") if r["verdict"] else ""
        records.append(rec)
    return pd.DataFrame.from_records(records)


def items_table(rows: list[dict], key: str, with_copies: bool = False, selectable: bool = True) -> None:
    """An item table; selecting a row opens that item's detail page (`selectable` False: a role
    without the item page gets a plain table)."""
    frame = items_frame(rows, with_copies)
    event = st.dataframe(
        frame, hide_index=True, width="stretch", key=nav_key(key),
        on_select="rerun" if selectable else "ignore", selection_mode="single-row",
        column_config={
            t("col.id"): st.column_config.NumberColumn(width=48, format="%d"),
            t("col.published"): st.column_config.TextColumn(width=88),
            t("col.platform"): st.column_config.TextColumn(width=72),
            t("col.account"): st.column_config.TextColumn(width=92),
            t("col.text"): st.column_config.TextColumn(width=300),
            t("col.probability"): st.column_config.ProgressColumn(
                min_value=0.0, max_value=1.0, format="percent", width=90),
            t("col.polarity"): st.column_config.TextColumn(width=64),
            t("col.health"): st.column_config.TextColumn(width=64),
            t("col.debunked"): st.column_config.TextColumn(width=56, help=t("col.debunked.help")),
            t("col.copies"): st.column_config.NumberColumn(width=56, format="%d"),
            t("col.verdict"): st.column_config.TextColumn(width=72),
        })
    selected = getattr(getattr(event, "selection", None), "rows", None)
    if selected:
        open_item(int(frame.iloc[selected[0]][t("col.id")]))


def open_by_number(label: str, button: str, param: str, key: str, value: int | None = None,
                   help: str | None = None) -> None:
    """A number box and its button (or Enter) that open this page at `?param=<number>`. A form:
    the number typed goes with the press, never a step behind it."""
    with st.form(f"{key}_form", border=False, width="content"), \
            st.container(horizontal=True, vertical_alignment="bottom"):
        typed = st.number_input(label, min_value=1, step=1, value=value, placeholder="", help=help, key=key,
                                width=200)
        if st.form_submit_button(button, type="primary") and typed:
            st.query_params[param] = str(int(typed))
            st.rerun()


def open_item(item_id: int) -> None:
    """Switch to the item page for `item_id` (callers draw their button only when
    `dashboard.auth.may_open("item")`; a role without the page gets a Chinese message, not a switch).

    Streamlit puts the new query into the current address before it switches page, which leaves a
    browser history step <this page>?<query> that Back returns to. The query keeps this page's own
    parameters (?alert=10), so that step still shows what the user was looking at."""
    user = dashboard_auth.current_user()
    if not dashboard_auth.may_open("item", user):
        st.error(t("auth.forbidden.action", role=t(f"role.{(user or {}).get('role', 'monitor')}")))
        return
    _leave(ITEM_PAGE, {**st.query_params, "item": str(item_id)})


def open_alert(alert_id: int) -> None:
    """Switch to the 预警 page showing alert `alert_id` (callers check `may_open("alerts")`)."""
    _leave(ALERTS_PAGE, {"alert": str(alert_id)})


def open_handover() -> None:
    """Switch to 值班交接 (callers check `may_open("handover")`)."""
    _leave(HANDOVER_PAGE, {})


def open_report(kind: str, period: str) -> None:
    """Switch to 舆情报告 showing that report (`kind` daily / weekly / monthly / quarterly / annual, `period` its label)."""
    _leave(REPORTS_PAGE, {"kind": kind, "period": period})


def open_assessment(query: str, topic: str | None) -> None:
    """Switch to 舆情风险点 on its 事前研判 tab with the form filled with this search (`assess=…`,
    `assess_topic=…`), as `open_search` switches to a search."""
    _leave(RISKS_PAGE, {"assess": query, **({"assess_topic": topic} if topic else {})})


def open_own_media(**params: str) -> None:
    """Switch to 政务新媒体 (the office's own channels; its readers: monitors, leaders, admins); with
    `platform=…, account=…` its register form is filled with that account (from an item's page)."""
    _leave(OWN_MEDIA_PAGE, params)


def open_search(**params: str) -> None:
    """Switch to 条目检索 with its search in the address (`q=…`, `account=…`), as `open_item` switches
    to an item."""
    _leave(SEARCH_PAGE, params)


def nav_key(name: str) -> str:
    """A selectable table's key for this navigation epoch: `_leave` starts a new one, so a table
    drawn again when the user comes back starts with nothing selected and does not re-open the row
    picked before."""
    return f"{name}_{st.session_state.get('_nav_epoch', 0)}"


def _leave(page: str, query_params: dict) -> None:
    """Switch to `page`: a new navigation epoch (`nav_key`), and no refreshing fragment of this page
    running during the switch."""
    st.session_state["_nav_epoch"] = st.session_state.get("_nav_epoch", 0) + 1
    _forget_running_fragments()
    st.switch_page(page, query_params=query_params)


EVERY_PAGE_FRAGMENTS = "_every_page_fragments"  # session: ids of refreshing fragments drawn on every page


def note_every_page_fragment() -> None:
    """From inside a refreshing fragment drawn on every page (the sidebar's notices): note its id,
    so a page switch drops it too (`_forget_running_fragments`) — its timer firing during the
    switch would otherwise run it after the next page has drawn, which blanked the item view as the
    live page's own refresh once did. The next page registers it again. Uses Streamlit internals:
    without them, nothing is noted."""
    try:
        from streamlit.runtime.scriptrunner_utils.script_run_context import ThreadState

        fragment_id = ThreadState.get().fragment_id
    except (ImportError, AttributeError):
        return
    if fragment_id:
        st.session_state[EVERY_PAGE_FRAGMENTS] = sorted({*st.session_state.get(EVERY_PAGE_FRAGMENTS, ()), fragment_id})


def _forget_running_fragments() -> None:
    """Before a page switch: drop the current page's refreshing fragments from the session, so a
    refresh their timers send during the switch is refused by Streamlit instead of running, as a
    fragment the next page lacks, after the next page has drawn (which left the item view blank).
    From inside a fragment run (the live page's tables) that is the running fragment; from a full
    run (a button outside the fragments, as on the 预警 page, whose list refreshes) every fragment
    the page registered: the next page registers its own. The fragments drawn on every page (noted
    by `note_every_page_fragment`) are dropped either way. Uses Streamlit internals: without them,
    nothing is done."""
    from streamlit.runtime.scriptrunner import get_script_run_ctx

    ctx = get_script_run_ctx()
    storage = getattr(ctx, "fragment_storage", None)
    if storage is None:
        return
    running = getattr(ctx, "fragment_ids_this_run", None)
    if not running:
        storage.clear()
        return
    for fragment_id in [*running, *st.session_state.get(EVERY_PAGE_FRAGMENTS, ())]:
        if storage.contains(fragment_id):
            storage.delete(fragment_id)


def polarity_colour_scale(domain_keys=("positive", "neutral", "negative")) -> alt.Scale:
    return alt.Scale(domain=[t(f"polarity.{k}") for k in domain_keys],
                     range=[POLARITY_COLOURS[k] for k in domain_keys])


def trend_chart(rows: list[dict]) -> alt.Chart:
    """Daily shares of the three polarities as 100% stacked bars (negative at the bottom)."""
    frame = pd.DataFrame(rows)
    frame[t("col.polarity")] = frame["polarity"].map(lambda p: t(f"polarity.{p}"))
    frame[t("col.day")] = frame["day"]
    frame[t("col.share")] = frame["share"]
    frame[t("col.count")] = frame["n"]
    frame["order"] = frame["polarity"].map({"negative": 0, "neutral": 1, "positive": 2})
    few_days = frame["day"].nunique() <= 7  # keep a lone day from becoming one wall-wide bar
    bars = alt.Chart(frame).mark_bar(size=56) if few_days else alt.Chart(frame).mark_bar()
    return bars.encode(
        x=alt.X(f"{t('col.day')}:O", title=None, axis=alt.Axis(labelAngle=0)),
        y=alt.Y(f"{t('col.share')}:Q", title=t("col.share"), stack="normalize", axis=alt.Axis(format="%")),
        color=alt.Color(f"{t('col.polarity')}:N", scale=polarity_colour_scale(),
                        legend=alt.Legend(orient="top", title=None)),
        order=alt.Order("order:Q"),
        tooltip=[t("col.day"), t("col.polarity"), alt.Tooltip(f"{t('col.count')}:Q", format=","),
                 alt.Tooltip(f"{t('col.share')}:Q", format=".1f", title=t("col.share") + " (%)")],
    ).properties(height=260)


def hourly_chart(rows: list[dict]) -> alt.Chart:
    """Items and flagged items per hour (data.hourly)."""
    return _flagged_bars([(r["hour"], r["start"], r["n"], r["flagged"]) for r in rows], t("col.hour"))


def daily_chart(rows: list[dict]) -> alt.Chart:
    """Items and flagged items per China day (`day` YYYY-MM-DD, `n`, `flagged`)."""
    return _flagged_bars([(r["day"][5:], r["day"], r["n"], r["flagged"]) for r in rows], t("col.day"))


def _flagged_bars(slots: list[tuple[str, str, int, int]], axis: str) -> alt.Chart:
    """Two bars per slot (label, tooltip time, all items, flagged items): all in blue, flagged in red."""
    long = []
    for label, when, n, flagged in slots:
        for series, count in ((t("live.hourly.all"), n), (t("live.hourly.flagged"), flagged or 0)):
            long.append({axis: label, "start": when, t("col.series"): series, t("col.count"): count})
    frame = pd.DataFrame(long)
    return (
        alt.Chart(frame)
        .mark_bar()
        .encode(
            x=alt.X(f"{axis}:O", title=None, sort=None, axis=alt.Axis(labelAngle=0, labelOverlap=True)),
            xOffset=alt.XOffset(f"{t('col.series')}:N"),
            y=alt.Y(f"{t('col.count')}:Q", title=t("col.count"), axis=alt.Axis(tickMinStep=1)),
            color=alt.Color(f"{t('col.series')}:N",
                            scale=alt.Scale(domain=[t("live.hourly.all"), t("live.hourly.flagged")],
                                            range=["#5c7cae", "#c62828"]),
                            legend=alt.Legend(orient="top", title=None)),
            tooltip=[alt.Tooltip("start:N", title=t("col.time")), t("col.series"), t("col.count")],
        )
        .properties(height=260)
    )


# --- model-backed lookups and the knowledge base's matches (条目详情, 辟谣知识库) -------------------

def model_call(fn, models_dir: str):
    """Run a model-backed lookup; explain in Chinese when the models are not there yet (None)."""
    try:
        return fn()
    except data.ModelsUnavailable as exc:
        detail = str(exc)
        if detail in ("explain", "match_debunks"):
            st.info(t("models.no_function", name=detail))
        else:
            st.info(t("models.missing", models_dir=models_dir))
            st.caption(t("models.detail", detail=detail))  # for whoever runs the server
    except RumourwatchError as exc:
        show_error(exc, "models.failed")
    return None


def debunk_matches_view(matches: list[dict], models_dir: str, empty: str,
                        caption: str = "item.debunks.caption") -> None:
    """The closest published clarifications: 已辟谣 when one reaches the calibrated threshold, the
    close ones as a table, the faint ones (knowledge.FAINT_SIMILARITY) folded away. `caption`: the
    key of the line saying what was compared with what."""
    from rumourwatch.knowledge import FAINT_SIMILARITY

    if not matches:
        st.info(empty)
        return
    if any(m.get("already_debunked") for m in matches):
        st.success(t("item.debunks.already"), icon=":material/fact_check:")
    threshold = data.debunk_threshold(models_dir)
    st.caption(t(caption, rule=t("item.debunks.rule", threshold=threshold)
                 if threshold is not None else t("item.debunks.rule_unknown")))
    close = [m for m in matches if not data.faint_match(m)]
    faint = [m for m in matches if data.faint_match(m)]
    if close:
        _matches_table(close)
    else:
        st.info(t("item.debunks.none_close", floor=FAINT_SIMILARITY))
    if faint:
        with st.expander(t("item.debunks.faint", n=len(faint), floor=FAINT_SIMILARITY)):
            _matches_table(faint)


def _matches_table(matches: list[dict]) -> None:
    frame = pd.DataFrame([{t("col.title"): m.get("title") or "", t("col.url"): data.safe_url(m.get("url")),
                           t("col.platform"): t("item.debunks.own") if m.get("own") else m.get("platform") or "",
                           t("col.date"): _day_or_time(m.get("date")),
                           t("col.similarity"): m.get("score"),
                           t("col.debunked"): "" if m.get("already_debunked") is None else yes_no(m["already_debunked"])}
                          for m in matches])
    st.dataframe(frame, hide_index=True, width="stretch",
                 column_config={t("col.url"): st.column_config.LinkColumn(display_text=t("item.debunks.open")),
                                t("col.similarity"): st.column_config.ProgressColumn(
                                    min_value=0.0, max_value=1.0, format="%.2f")})


def _day_or_time(when: str | None) -> str:
    """An article's date as the day alone when it has no time of day (most platforms give only the
    day: "2011-12-13 00:00" would invent a time)."""
    if not when:
        return ""
    return when[:10] if when.endswith(" 00:00") else when
