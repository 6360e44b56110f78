"""数据标注 (analysts): label items of the store as health-related or not and by Healthy China topic,
one at a time, picked where the model is least sure, at random (to measure it) or newest first; see
how the model's calls agreed; export the labels (ids and labels only)."""

import pandas as pd
import streamlit as st

from dashboard import data, ui
from dashboard.auth import require_permission
from dashboard.labelling import label_form
from dashboard.strings import t
from rumourwatch import labels as hand_labels
from rumourwatch import store

user = require_permission("labels.manage")
st.title(t("labels.title"))
st.caption(t("labels.caption"))

settings = ui.page_settings()
path = settings.db_path
ui.require_database(path)

SKIPPED, CURRENT = "labels_skipped", "labels_current"
RECENT_SHOWN = 20


def labelling() -> None:
    sample = st.radio(t("labels.sample"), hand_labels.SAMPLES, format_func=lambda s: t(f"labels.sample.{s}"),
                      horizontal=True, key="labels_sample", help=t("labels.sample.help"))
    skipped = tuple(st.session_state.get(SKIPPED, ()))
    # The item on screen stays until it is labelled or skipped: a random draw on every rerun would
    # swap it under the form being filled in.
    held = st.session_state.get(CURRENT)
    item = data.label_queue(path, sample, only=held[1]) if held and held[0] == sample else None
    if item is None:
        item = data.label_queue(path, sample, skipped)
        st.session_state[CURRENT] = (sample, item["id"]) if item else None
    if item is None:
        st.info(t("labels.none_left"))
        return
    heading = t("labels.item", id=item["id"], platform=item["platform"] or t("unknown"),
                account=item["account"] or t("unknown"), published=data.to_china(item["published_at"]) or t("unknown"))
    st.markdown(f"**{ui.escape_md(heading)}**")
    with st.container(border=True):
        st.text(item["text"])  # scraped text: never Markdown
    st.caption(t("labels.model_says", p=f"{item['health_probability']:.2f}",
                 topic=ui.escape_md(item.get("topic") or t("unknown"))))
    outcome = label_form(path, item["id"], user, sample, suggested_topic=item.get("topic"),
                         save_label=t("labels.save"), skip_label=t("labels.skip"))
    if outcome == "skip":
        st.session_state[SKIPPED] = (*skipped, item["id"])
    elif outcome == "saved":
        st.session_state["labels_saved"] = item["id"]
    if outcome:
        st.session_state[CURRENT] = None
        st.rerun()


def progress() -> None:
    st.subheader(t("labels.progress"))
    rows = data.labels(path) or []
    figures = hand_labels.agreement(rows)
    random_f, all_f = figures["random"], figures["all"]
    cols = st.columns(4)
    cols[0].metric(t("labels.metric.labelled"), f"{figures['labelled']:,}", border=True,
                   help=t("labels.metric.labelled.help", **figures["by_sample"]))
    cols[1].metric(t("labels.metric.health_random"), ui.pct(random_f["health"]["accuracy"]), border=True,
                   help=t("labels.metric.n", n=random_f["health"]["n"]))
    cols[2].metric(t("labels.metric.health_all"), ui.pct(all_f["health"]["accuracy"]), border=True,
                   help=t("labels.metric.n", n=all_f["health"]["n"]))
    cols[3].metric(t("labels.metric.topic_random"), ui.pct(random_f["topic"]["accuracy"]), border=True,
                   help=t("labels.metric.n", n=random_f["topic"]["n"]))
    if not rows:
        return
    st.download_button(t("labels.export"), hand_labels.export_csv(rows).encode("utf-8"),
                       file_name="health_topic_store.csv", mime="text/csv")
    st.markdown(f"**{t('labels.recent')}**")
    st.dataframe(pd.DataFrame([{
        t("col.id"): r["item_id"], t("labels.col.health"): ui.yes_no(r["health_related"]),
        t("labels.col.topic"): r["topic"],
        t("labels.col.model_health"): "—" if r["predicted_health"] is None else f"{r['predicted_health']:.2f}",
        t("labels.col.model_topic"): r["predicted_topic"] or "—", t("labels.col.sample"): t(f"labels.sample.{r['sample']}"),
        t("labels.col.by"): r["labelled_by"], t("labels.col.at"): data.to_china(r["at"]),
    } for r in reversed(rows[-RECENT_SHOWN:])]), hide_index=True, width="stretch")


with ui.friendly_errors():
    data.workflow(path, store.has_tables, "labels")  # opening read-write brings the schema up to date
    saved = st.session_state.pop("labels_saved", None)
    if saved is not None:
        st.success(t("labels.saved", id=saved))
    labelling()
    progress()
