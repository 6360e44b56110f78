"""条目检索: every stored item that mentions a claim, a name or a place (rumourwatch.search), with what
a monitor or a leader asks of them: how many, how many stories, how many flagged or already
debunked, the opinion line in the reports' form, the daily count, the items themselves (a row
opens the item view) and a CSV export.

The query is kept in the address (`?q=`, `?account=`, `?topic=`), so a search can be bookmarked or
sent to a colleague, and Back from an item returns to it; 舆情风险点's topics and health days open
their topic's items here.
"""

from datetime import timedelta

import streamlit as st

from dashboard import auth as dashboard_auth
from dashboard import data, ui
from dashboard import workflow_ui as wf
from dashboard.strings import t
from dashboard.workflow_ui import show_error
from rumourwatch import alerts
from rumourwatch import search as item_search
from rumourwatch.auth import page_allowed
from rumourwatch.errors import ConfigError, RumourwatchError
from rumourwatch.experts import TOPICS
from rumourwatch.nlp.topics import ALL_TOPICS

SEARCH_TOPICS = ["", *ALL_TOPICS]  # "": any topic; the 15 Healthy China actions and 其他

user = dashboard_auth.require_role("monitor", "analyst", "expert", "leader", "admin")
settings = ui.page_settings()
path = settings.db_path
st.title(t("search.title"))
st.caption(t("search.caption"))
if not data.database_exists(path):
    st.info(t("empty.no_data"))
    st.stop()

known_platforms = []
with ui.friendly_errors():
    known_platforms = data.platforms(path)
today = data.china_today()
DEFAULTS = {"s_query": "", "s_account": "", "s_topic": "", "s_period": "30d",
            "s_custom": (today - timedelta(days=29), today), "s_platforms": [], "s_health": False, "s_order": "time"}
# A shared or bookmarked address (?q=...&account=...&topic=...) opens with its search, as do the item
# view's link to an account's items and 舆情风险点's topics; Back from an item finds it too.
wanted = {key: st.query_params.get(param) for key, param in (("s_query", "q"), ("s_account", "account"),
                                                              ("s_topic", "topic"))}
for key, default in DEFAULTS.items():
    if key not in st.session_state:
        st.session_state[key] = st.session_state.get("_keep_" + key, default)
if any(v is not None and v != st.session_state.get("_keep_" + k) for k, v in wanted.items()):
    for key, value in wanted.items():
        st.session_state[key] = value or ""
st.session_state["s_platforms"] = [p for p in st.session_state["s_platforms"] if p in known_platforms]
if st.session_state["s_topic"] not in SEARCH_TOPICS:  # an address naming no topic the models use
    st.session_state["s_topic"] = ""

with st.form("search_form", border=True):
    c = st.columns([3, 1, 1])
    c[0].text_input(t("search.query"), key="s_query", placeholder=t("search.query.placeholder"),
                    help=t("search.query.help", limit=item_search.MAX_TERMS))
    c[1].text_input(t("search.account"), key="s_account", help=t("search.account.help"))
    c[2].selectbox(t("search.topic"), SEARCH_TOPICS, key="s_topic", help=t("search.topic.help"),
                   format_func=lambda v: v or t("search.topic.any"))
    c = st.columns([2, 2, 2, 1])
    period = c[0].radio(t("filters.period"), data.PERIODS, key="s_period", horizontal=True,
                        format_func=lambda p: t(f"filters.period.{p}"))
    c[1].date_input(t("filters.custom_range"), key="s_custom", help=t("search.custom.help"))
    c[2].multiselect(t("filters.platforms"), known_platforms, key="s_platforms",
                     placeholder=t("filters.platforms.help"))
    c[3].radio(t("search.order"), item_search.ORDERS, key="s_order", format_func=lambda o: t(f"search.order.{o}"))
    st.checkbox(t("filters.health_only"), key="s_health")
    st.form_submit_button(t("search.submit"), type="primary")
for key in DEFAULTS:
    st.session_state["_keep_" + key] = st.session_state[key]

typed, account = st.session_state["s_query"].strip(), st.session_state["s_account"].strip()
topic = st.session_state["s_topic"]
for param, value in (("q", typed), ("account", account), ("topic", topic)):
    if value:
        st.query_params[param] = value
    else:
        st.query_params.pop(param, None)
may_watch = dashboard_auth.can("watch.manage", user)
WATCH_BUSY_STORIES = 20  # stories a day: more alerts than a monitor can read, from one watched line
if may_watch:
    wf.flash()


def watched_rules() -> dict | None:
    """The alert rules, or None (with the reason shown) when the rules file cannot be read."""
    try:
        return data.workflow_rules()
    except ConfigError as exc:
        show_error(exc, "search.watch.unreadable")
        return None


def watch_button(kind: str, value: str, rules: dict) -> None:
    """Watch (or stop watching) the typed keywords or the account: new matching items then raise an
    alert (预警规则 → 关注词与关注账号), which is what a monitor wants of a claim just heard of."""
    watched = value in rules["watch"][kind]
    label = t(f"search.watch.{kind}.{'remove' if watched else 'add'}", value=value)
    if st.button(label, key=f"watch_{kind}", icon=":material/notifications_off:" if watched
                 else ":material/notification_add:", help=t(f"search.watch.{kind}.help", severity=rules["watch"]["severity"])):
        try:
            data.workflow(path, lambda db: alerts.set_watched(kind, value, not watched, user["username"], db))
        except RumourwatchError as exc:
            show_error(exc, "search.watch.refused")
            return
        st.session_state[wf.FLASH_KEY] = t(f"search.watch.{kind}.{'removed' if watched else 'added'}", value=value)
        st.rerun()


def watch_panel(typed: str, account: str, result: dict | None = None) -> None:
    """The buttons for what was typed, and the watched keywords and accounts, each a search. With the
    search's `result`, how many alerts a day watching it would have raised: every new story that
    matches is an alert, so a common word would flood the alert list."""
    rules = watched_rules()
    if rules is None:
        return
    w = rules["watch"]
    if typed or account:
        cols = st.columns(2)
        for col, kind, value in ((cols[0], "keywords", typed), (cols[1], "accounts", account)):
            if value:
                with col:
                    watch_button(kind, value, rules)
                    # (a search by words and account together says nothing of either alone)
                    if result and result["days"] and value not in w[kind] and not (typed and account):
                        per_day = result["stories"] / len(result["days"])
                        # a keyword's stories past the limit gather into a digest; an account's never do
                        digest = kind == "keywords" and w["digest_after"]
                        (st.warning if per_day > WATCH_BUSY_STORIES else st.caption)(
                            t("search.watch.rate.digest", n=f"{per_day:,.1f}", after=w["digest_after"],
                              hours=f"{w['digest_window_hours']:g}") if digest
                            else t("search.watch.rate", n=f"{per_day:,.1f}"))
        if not w["enabled"]:
            st.warning(t("search.watch.disabled"))
    with st.expander(t("search.watch.list", keywords=len(w["keywords"]), accounts=len(w["accounts"]))):
        if not (w["keywords"] or w["accounts"]):
            st.caption(t("search.watch.none"))
        for kind, param in (("keywords", "q"), ("accounts", "account")):
            for i, value in enumerate(w[kind]):
                if st.button(t(f"search.watch.open.{kind}", value=value), key=f"watched_{kind}_{i}", type="tertiary"):
                    ui.open_search(**{param: value})


if not typed and not account and not topic:
    if may_watch:
        watch_panel("", "")
    st.info(t("search.prompt"))
    st.stop()
try:
    query = item_search.parse_query(typed, words_needed=not (account or topic))
except item_search.SearchError as exc:
    show_error(exc, "search.refused")
    st.stop()

custom = None
if period == "custom":
    picked = wf.picked_days(st.session_state["s_custom"])
    if len(picked) < 2:
        st.stop()
    custom = (picked[0], picked[-1])
filters = data.Filters(period=period, custom=custom, platforms=tuple(st.session_state["s_platforms"]),
                       health_only=bool(st.session_state["s_health"]))
order = st.session_state["s_order"]
threshold = settings.rumour_threshold

try:
    with st.spinner(t("search.running")):
        result = data.search(path, query, filters, threshold, order, account or None, topic=topic or None)
except RumourwatchError as exc:
    show_error(exc)
    st.stop()

parts = [t("search.part.all", term=" / ".join(g)) if len(g) == 1 else t("search.part.any", terms=" / ".join(g))
         for g in query.groups]
parts += [t("search.part.not", term=term) for term in query.excluded]
if account:
    parts.append(t("search.part.account", account=account))
if topic:
    parts.append(t("search.part.topic", topic=topic))
st.caption(t("search.understood", parts=t("search.part.sep").join(parts)))
if may_watch:
    watch_panel(typed, account, result)
# 事前研判 takes words and a Healthy China topic (not 其他, nor an account)
assessable = (typed or topic) and not account and (not topic or topic in TOPICS) and page_allowed(user["role"], "risks")
if assessable and st.button(t("search.assess"), key="search_assess", icon=":material/policy:",
                            help=t("search.assess.help")):
    ui.open_assessment(typed, topic or None)

if not result["total"]:
    st.info(t("search.none"))
    st.stop()

cols = st.columns(5)
cols[0].metric(t("search.metric.total"), f"{result['total']:,}", border=True)
cols[1].metric(t("search.metric.stories"), f"{result['stories']:,}", border=True, help=t("search.metric.stories.help"))
cols[2].metric(t("search.metric.flagged"), f"{result['flagged']:,}", border=True,
               help=t("live.metric.flagged.help", threshold=threshold))
cols[3].metric(t("search.metric.debunked"), f"{result['debunked']:,}", border=True)
cols[4].metric(t("search.metric.health"), f"{result['health']:,}", border=True)

left, right = st.columns(2)
with left:
    st.markdown(f"**{t('search.opinion')}**")
    with st.container(border=True):
        st.markdown(f"#### {result['line']}")  # our labels and figures only
        if result["unscored"]:
            st.caption(t("live.opinion.unscored", n=result["unscored"]))
with right:
    st.markdown(f"**{t('search.daily')}**")
    st.altair_chart(ui.daily_chart(result["days"]), width="stretch")

st.subheader(t("search.list"))
may_open = dashboard_auth.may_open("item", user)
st.caption(t(f"search.list.caption.{order}", shown=len(result["items"]), total=result["total"])
           + (t("search.list.click") if may_open else ""))
ui.items_table([dict(r, text=r["snippet"]) for r in result["items"]], key="search_results", selectable=may_open)



def export_file() -> tuple[bytes, str, str]:
    """Every matching item (up to EXPORT_LIMIT, with their whole texts) as CSV, made now."""
    name = f"search_{data.now_utc():%Y%m%d_%H%M}.csv"
    return (data.search_csv(path, query, filters, threshold, account or None, topic=topic or None), name,
            t("search.export.download", name=name))


ui.export_in_two_steps("search_export", repr((query, filters, threshold, account, topic)), t("search.export"),
                       t("search.export.help", limit=item_search.EXPORT_LIMIT), export_file)
if result["total"] > item_search.EXPORT_LIMIT:
    st.caption(t("search.export.capped", limit=item_search.EXPORT_LIMIT))
