"""民族文字判读 (DOMAIN 11): the items written in Mongolian, Tibetan or Uyghur script, which the models
(trained on Chinese) leave unassessed, wait here for a monitor who reads the script. The reading
(about health or not, topic, polarity, the gist in Chinese) gives the item its figures: it then
counts in the opinion ratios and the reports like any scored item (rumourwatch.readings)."""

from datetime import timedelta

import streamlit as st

from dashboard import data
from dashboard import ui as dui
from dashboard import workflow_ui as ui
from dashboard.auth import can, may_open, require_role
from dashboard.labelling import reading_form
from dashboard.strings import t
from rumourwatch import readings
from rumourwatch.language import LANGUAGE_NAMES
from rumourwatch.records import iso

user = require_role("monitor", "analyst")
path = ui.db_path()
st.title(t("readings.title"))
st.caption(t("readings.caption"))
ui.flash()

RECENT_DAYS = 30
PICKED = "readings_picked"


now = data.now_utc()
everything = ui.call(path, readings.counts)
recent = ui.call(path, readings.counts, iso(now - timedelta(days=RECENT_DAYS)), None)
cols = st.columns(3)
cols[0].metric(t("readings.metric.pending"), f"{sum(everything['pending'].values()):,}", border=True,
               help=dui.scripts_label(everything["pending"]))
cols[1].metric(t("readings.metric.read", days=RECENT_DAYS), f"{sum(recent['read'].values()):,}", border=True,
               help=dui.scripts_label(recent["read"]))
cols[2].metric(t("readings.metric.read_health", days=RECENT_DAYS), f"{recent['read_health']:,}", border=True)

language = st.segmented_control(t("readings.language"), list(LANGUAGE_NAMES), format_func=lambda c: t(f"language.{c}"),
                                key="readings_language", help=t("readings.language.help"))
queue = ui.call(path, readings.pending, language)
if not queue:
    st.success(t("readings.none_left"), icon=":material/task_alt:")
else:
    waiting = everything["pending"].get(language, 0) if language else sum(everything["pending"].values())
    st.subheader(t("readings.queue", n=f"{waiting:,}"))
    if waiting > len(queue):  # the page lists the newest readings.pending gives
        st.caption(t("readings.queue.newest", n=len(queue)))
    by_id = {r["id"]: r for r in queue}
    # the item being read stays picked while it waits (a new item arriving on top does not swap it)
    held = st.session_state.get(PICKED)
    picked = st.selectbox(
        t("readings.pick"), list(by_id), index=list(by_id).index(held) if held in by_id else 0,
        format_func=lambda i: t("readings.option", id=i, language=t(f"language.{by_id[i]['language']}"),
                                platform=by_id[i]["platform"] or t("unknown"),
                                published=data.to_china(by_id[i]["published_at"], "%m-%d %H:%M") or t("unknown")))
    st.session_state[PICKED] = picked
    item = by_id[picked]
    st.markdown("**" + dui.escape_md(t("readings.item", id=item["id"], platform=item["platform"] or t("unknown"),
                                          account=item["account"] or t("unknown"),
                                          published=data.to_china(item["published_at"]) or t("unknown"))) + "**")
    with st.container(border=True):
        if item.get("title"):
            st.text(item["title"])  # scraped: plain text only
        st.text(item["text"])
    with st.container(horizontal=True):
        if data.safe_url(item.get("url")):
            st.link_button(t("item.field.url"), data.safe_url(item["url"]), icon=":material/open_in_new:")
        if may_open("item", user) and st.button(t("readings.open_item"), icon=":material/article:",
                                                key="readings_open_item"):
            dui.open_item(item["id"])
    if can("readings.record", user) and reading_form(path, item["id"], user, "queue"):
        st.session_state.pop(PICKED, None)
        st.session_state[ui.FLASH_KEY] = t("readings.saved", id=item["id"])
        st.rerun()
    with st.expander(t("readings.all_pending", n=len(queue))):  # (the newest, when more wait)
        # a row picked here is the item read above
        chosen = ui.table([dict(r, language_label=t(f"language.{r['language']}"), at=data.to_china(r["published_at"]),
                                head=dui.one_line(r["text"] or "", 60)) for r in queue],
                          {"id": t("col.id"), "language_label": t("readings.col.language"), "platform": t("col.platform"),
                           "account": t("readings.col.account"), "at": t("readings.col.published"),
                           "head": t("readings.col.text")}, key=dui.nav_key("readings_queue"), pick="id")
        if chosen is not None and chosen != picked:
            st.session_state[PICKED] = chosen
            st.rerun()

st.subheader(t("readings.recent"))
done = ui.call(path, readings.recent)
if not done:
    st.caption(t("readings.recent.none"))
else:
    clickable = may_open("item", user)
    opened = ui.table([dict(r, language_label=t(f"language.{r['language']}"),
                            health=t("labels.health.yes" if r["health_related"] else "labels.health.no"),
                            polarity_label=dui.polarity_label(r["polarity"]), gist=r["gist"] or "—",
                            at_label=data.to_china(r["at"])) for r in done],
                      {"item_id": t("col.id"), "language_label": t("readings.col.language"),
                       "health": t("labels.col.health"), "topic": t("labels.col.topic"),
                       "polarity_label": t("readings.col.polarity"), "gist": t("readings.col.gist"),
                       "read_by": t("readings.col.by"), "at_label": t("readings.col.at")},
                      key=dui.nav_key("readings_recent"), pick="item_id" if clickable else None)
    if clickable:
        st.caption(t("readings.recent.click"))
    if opened is not None:
        dui.open_item(int(opened))
