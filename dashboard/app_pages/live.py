"""实时监测: today's counts, the opinion line and its trend, top rumours and the newest items.

The sidebar filters run with the page; everything below them is a fragment that re-runs every
`dashboard_refresh_seconds`, so new items appear without a reload.
"""

from datetime import timedelta

import streamlit as st

from dashboard import auth as dashboard_auth
from dashboard import data, ui
from dashboard import workflow_ui as wf
from dashboard.strings import t
from rumourwatch import handover
from rumourwatch.errors import ConfigError
from rumourwatch.records import parse_time

# `?item=ID` on the main page (the older form of an item link) opens that item when the tab opens with
# it. Later in the session that address is the history step `ui.open_item` leaves behind: Back
# returns to it, and must show this page rather than send the user to the item again.
_requested = data.parse_item_id(st.query_params.get("item"))
if _requested and st.session_state.get("_page_runs") == 1:
    st.switch_page(ui.ITEM_PAGE, query_params={"item": str(_requested)})

st.title(t("live.title"))

settings = ui.page_settings()
path = settings.db_path

# --- sidebar filters ------------------------------------------------------------------------
# Streamlit forgets a widget's value once a run does not draw it (e.g. while the item view is open);
# a copy under "_keep_<key>" restores the filters when the monitor comes back.
known_platforms = []
if data.database_exists(path):
    with ui.friendly_errors():
        known_platforms = data.platforms(path)
today = data.china_today()
FILTER_DEFAULTS = {"f_platforms": [], "f_period": "today", "f_custom": (today - timedelta(days=6), today),
                   "f_min_prob": 0.0, "f_health": True}
for _key, _default in FILTER_DEFAULTS.items():
    if _key not in st.session_state:
        st.session_state[_key] = st.session_state.get("_keep_" + _key, _default)
# The filters that differ from their defaults are also in the address (?range=7d&health=0): a
# reload, a bookmark or a shared link opens the page filtered as it was, and Back to an address
# that names filters shows them.
# The address is read when it says other than the filters this session last drew (it was opened,
# reloaded or gone back to); one that names no filter (the sidebar's link) keeps the session's.
_address = data.address_filters(st.query_params)
_asked, _bad_params = data.filters_from_query(_address, FILTER_DEFAULTS)
_kept = {k: st.session_state.get("_keep_" + k, d) for k, d in FILTER_DEFAULTS.items()}
if _asked is not None and _address != data.filters_query(_kept, FILTER_DEFAULTS):
    st.session_state.update(_asked)
st.session_state["f_platforms"] = [p for p in st.session_state["f_platforms"] if p in known_platforms]

with st.sidebar:
    st.header(t("filters.header"))
    chosen_platforms = st.multiselect(t("filters.platforms"), known_platforms, key="f_platforms",
                                      help=t("filters.platforms.help"), placeholder=t("filters.platforms.help"))
    period = st.radio(t("filters.period"), data.PERIODS, key="f_period",
                      format_func=lambda p: t(f"filters.period.{p}"), horizontal=True)
    custom = None
    if period == "custom":
        picked = wf.picked_days(st.date_input(t("filters.custom_range"), key="f_custom"))
        custom = (picked[0], picked[-1]) if picked else (today, today)
    min_probability = st.slider(t("filters.min_probability"), 0.0, 1.0, step=0.05, key="f_min_prob",
                                help=t("filters.min_probability.help"), format="%.2f")
    health_only = st.checkbox(t("filters.health_only"), key="f_health")
for _key in FILTER_DEFAULTS:
    if _key in st.session_state:
        st.session_state["_keep_" + _key] = st.session_state[_key]
_drawn = {k: st.session_state.get(k, d) for k, d in FILTER_DEFAULTS.items()}
# Written when the monitor changed a filter, or to keep an address that names filters right; an
# address without any (the sidebar's link) is left alone: each write is a step of the browser's
# history, and one here would make Back return to this page instead of the page before.
if _drawn != _kept or _address:
    data.filters_to_query(st.query_params, _drawn, FILTER_DEFAULTS)
if _bad_params:
    st.warning(t("filters.bad_address", params="、".join(_bad_params)))

filters = data.Filters(period=period, custom=custom, platforms=tuple(chosen_platforms),
                       min_probability=float(min_probability), health_only=bool(health_only))
if period == "custom" and custom:
    period_label = f"{custom[0]:%Y-%m-%d} — {custom[1]:%Y-%m-%d}"
else:
    period_label = t(f"filters.period.{period}")


def watched_panel(now) -> None:
    """Today's hits of every watched keyword and account (the alert rules' [watch], set on 条目检索);
    a row opens its search. Today only, whatever the period chosen: the panel refreshes with the
    page, and a month of texts is too much to read every few seconds."""
    st.subheader(t("live.watch"))
    try:
        rows = data.watched_today(path, settings.rumour_threshold, filters.platforms, now=now)
    except ConfigError as exc:
        st.warning(t("live.watch.unreadable", detail=wf.refusal(exc)))
        return
    if not rows:
        st.caption(t("live.watch.none"))
        return
    may_search = dashboard_auth.may_open("search")
    picked = wf.table([dict(r, i=i, kind_label=t(f"live.watch.kind.{r['kind']}")) for i, r in enumerate(rows)],
                      {"kind_label": t("col.kind"), "value": t("live.watch.col.value"),
                       "items": t("live.watch.col.items"), "this_hour": t("live.watch.col.this_hour"),
                       "flagged": t("live.metric.flagged")},
                      key=ui.nav_key("watched_today"), pick="i" if may_search else None,
                      bars={"hours": t("live.watch.col.hours")})
    st.caption(t("live.watch.caption") + (t("live.watch.click") if may_search else ""))
    if picked is not None:
        row = rows[int(picked)]
        ui.open_search(**{"q" if row["kind"] == "keyword" else "account": row["value"]})


def tags_panel(now) -> None:
    """The health hashtags of the last hours, new and rising ones first (rumourwatch.trending); a row
    opens 条目检索 on the tag's words."""
    from rumourwatch import trending

    st.subheader(t("live.tags", hours=trending.WINDOW_HOURS))
    rows = data.rising_tags(path, settings.rumour_threshold, filters.platforms, now=now)
    if not rows:
        st.caption(t("live.tags.none", hours=trending.WINDOW_HOURS, stories=trending.MIN_STORIES,
                     accounts=trending.MIN_ACCOUNTS))
        return
    may_search = dashboard_auth.may_open("search")
    picked = wf.table([dict(r, i=i, status_text=trending.status_text(r), latest=data.to_china(r["latest_at"]))
                       for i, r in enumerate(rows)],
                      {"tag": t("live.tags.col.tag"), "status_text": t("live.tags.col.status"),
                       "stories": t("live.tags.col.stories"), "items": t("live.tags.col.items"),
                       "accounts": t("live.tags.col.accounts"), "negative": t("live.tags.col.negative"),
                       "flagged": t("live.metric.flagged"),
                       "before_stories": t("live.tags.col.before", hours=trending.BASELINE_HOURS),
                       "latest": t("live.tags.col.latest")},
                      key=ui.nav_key("rising_tags"), pick="i" if may_search else None)
    st.caption(t("live.tags.caption", hours=trending.WINDOW_HOURS, before=trending.BASELINE_HOURS)
               + (t("live.tags.click") if may_search else ""))
    earliest = data.earliest_published(path)
    if earliest and parse_time(earliest) > now - timedelta(hours=trending.WINDOW_HOURS + trending.BASELINE_HOURS):
        # a store younger than the comparison: every tag reads as new
        st.caption(t("live.tags.short_history", since=data.to_china(earliest), hours=trending.BASELINE_HOURS))
    if picked is not None:
        ui.open_search(q=trending.search_query(rows[int(picked)]["tag"]))


def handover_banner(now) -> None:
    """The previous shift's handover until someone confirms it (值班交接): a button opens it there."""
    user = dashboard_auth.current_user()
    if not user or not dashboard_auth.may_open("handover", user):
        return
    pending = data.workflow(path, handover.pending_handover, user["username"], now)
    if pending is None:
        return
    with st.container(border=True):
        st.warning(t("live.handover", author=ui.escape_md(pending["author"]),
                     time=data.to_china(pending["created_at"], "%m-%d %H:%M"), open=pending["open_alerts"],
                     overdue=pending["overdue"]), icon=":material/assignment_late:")
        if pending["note"]:
            st.text(ui.one_line(pending["note"], 200))
        if st.button(t("live.handover.open"), key="live_handover"):
            ui.open_handover()


def unread_panel(now) -> None:
    """The period's items in a script the models cannot read that nobody has read yet: they are
    missing from the line above (民族文字判读 reads them)."""
    pending = data.unread(path, filters, now=now)
    if not pending:
        return
    with st.container(horizontal=True, vertical_alignment="center"):
        st.warning(t("live.unread", n=f"{sum(pending.values()):,}", languages=ui.scripts_label(pending)),
                   icon=":material/translate:")
        if dashboard_auth.may_open("readings") and st.button(t("live.unread.open"), key="live_unread"):
            st.switch_page("app_pages/readings.py")


@st.fragment(run_every=max(1, int(settings.dashboard_refresh_seconds)))
def live_panel() -> None:
    dashboard_auth.rerun_if_session_ended()
    now = data.now_utc()
    if not data.database_exists(path):
        st.info(t("empty.no_data"))
        return
    with ui.friendly_errors():
        if data.count_items(path) == 0:
            st.info(t("empty.no_data"))
            return
        st.caption(t("updated_at", time=now.astimezone(data.CST).strftime("%H:%M:%S"),
                     seconds=settings.dashboard_refresh_seconds))
        # a stopped scraper or worker looks like a quiet day: say so above the figures it lowers
        ui.source_warnings(data.source_health(path, now))
        handover_banner(now)

        # Today's counts (China-time day; only the platform filter applies).
        today = data.today_summary(path, settings.rumour_threshold, filters.platforms, now=now)
        st.subheader(t("live.today", day=today["day"]))
        cols = st.columns(5)
        cols[0].metric(t("live.metric.items"), f"{today['items']:,}", border=True,
                       delta=t("live.metric.last_hour", n=today["last_hour"]) if today["last_hour"] else None,
                       delta_color="off")
        cols[1].metric(t("live.metric.health"), f"{today['health_related']:,}", border=True)
        cols[2].metric(t("live.metric.flagged"), f"{today['flagged']:,}", border=True,
                       help=t("live.metric.flagged.help", threshold=settings.rumour_threshold))
        cols[3].metric(t("live.metric.debunked"), f"{today['already_debunked']:,}", border=True)
        cols[4].metric(t("live.metric.unscored"), f"{today['unscored']:,}", border=True)

        # The report line and its trend, for the chosen period and filters.
        opinion = data.opinion(path, filters, now=now)
        st.subheader(t("live.opinion", period=period_label) + (t("live.opinion.health") if filters.health_only else ""))
        with st.container(border=True):
            st.markdown(f"#### {opinion['line']}")  # our labels and figures only
            if opinion["unscored"]:
                st.caption(t("live.opinion.unscored", n=opinion["unscored"]))
            unread_panel(now)

        left, right = st.columns(2)
        with left:
            st.markdown(f"**{t('live.trend')}**")
            trend = data.daily_shares(path, filters, now=now)
            if trend:
                st.altair_chart(ui.trend_chart(trend), width="stretch")
            else:
                st.info(t("live.trend.empty"))
        with right:
            st.markdown(f"**{t('live.hourly')}**")
            hours = data.hourly(path, filters, now=now)
            if hours:
                st.altair_chart(ui.hourly_chart(hours), width="stretch")
            else:
                st.info(t("empty.no_items_in_filter"))

        st.subheader(t("live.top"))
        top = data.top_rumours(path, filters, settings.rumour_threshold, now=now)
        if top:
            st.caption(t("live.top.caption"))
            ui.items_table(top, key="top", with_copies=True)
        else:
            st.info(t("live.top.empty", threshold=settings.rumour_threshold))

        tags_panel(now)
        watched_panel(now)

        st.subheader(t("live.feed"))
        feed = data.latest(path, filters, now=now)
        if feed:
            st.caption(t("live.feed.caption", n=data.FEED_LIMIT))
            ui.items_table(feed, key="feed")
        else:
            st.info(t("empty.no_items_in_filter"))


with st.spinner(t("loading")):
    live_panel()
