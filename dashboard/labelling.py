"""The health-relevance / topic label form, shared by the 数据标注 page and the item view, and the
human reading form of a post the models cannot read, shared by 民族文字判读 and the item view."""

from __future__ import annotations

import streamlit as st

from dashboard import data, workflow_ui
from dashboard.strings import t
from rumourwatch import labels as hand_labels
from rumourwatch import readings
from rumourwatch.alerts import WorkflowError
from rumourwatch.nlp.topics import TOPICS
from rumourwatch.opinion import POLARITIES

SAVES_KEY = "label_form_saves"


def label_form(path: str, item_id: int, user: dict, sample: str, suggested_topic: str | None = None,
               save_label: str | None = None, skip_label: str | None = None) -> str | None:
    """Ask whether item `item_id` is about health and, if so, its Healthy China topic (the model's
    topic offered first). Returns "saved" once a label is saved, "skip" when the skip button (shown
    only with `skip_label`) was pressed, else None; says itself what is missing or wrong."""
    # A refused save keeps what was chosen and typed (no clear_on_submit); each saved label starts a
    # new form, whose widgets are new ones, so the next item's form is empty.
    with st.form(f"label_{sample}_{item_id}_{st.session_state.get(SAVES_KEY, 0)}"):
        related = st.radio(t("labels.health"), (True, False), horizontal=True, index=None,
                           format_func=lambda v: t("labels.health.yes") if v else t("labels.health.no"))
        guess = suggested_topic if suggested_topic in TOPICS else None
        topic = st.selectbox(t("labels.topic"), TOPICS, index=TOPICS.index(guess) if guess else None,
                             help=t("labels.topic.help"), placeholder=t("labels.topic.placeholder"))
        note = st.text_input(t("labels.note"), max_chars=200)
        with st.container(horizontal=True):
            save = st.form_submit_button(save_label or t("labels.save_one"), type="primary")
            skip = st.form_submit_button(skip_label) if skip_label else False
    if skip:
        return "skip"
    if not save:
        return None
    if related is None or (related and topic is None):
        st.error(t("labels.need_health") if related is None else t("labels.need_topic"))
        return None
    try:
        data.workflow(path, hand_labels.record_label, item_id, related, topic if related else None,
                      user["username"], data.now_utc(), sample=sample, note=note)
    except WorkflowError as exc:
        st.error(workflow_ui.refusal(exc))
        return None
    st.session_state[SAVES_KEY] = st.session_state.get(SAVES_KEY, 0) + 1
    return "saved"


READINGS_KEY = "reading_form_saves"


def reading_form(path: str, item_id: int, user: dict, where: str) -> bool:
    """The human reading of an item the models cannot read (rumourwatch.readings): about health or
    not, its topic, its polarity and its gist in Chinese. True once saved; says itself what is
    missing or wrong (what was chosen and typed stays to be corrected)."""
    # each saved reading starts a new form with new widgets (keys of the next generation): empty
    key = f"{where}_{item_id}_{st.session_state.get(READINGS_KEY, 0)}"
    with st.form(f"reading_{key}", enter_to_submit=False):
        c = st.columns([1, 2, 1])
        related = c[0].radio(t("labels.health"), (True, False), index=None, key=f"reading_health_{key}",
                             format_func=lambda v: t("labels.health.yes") if v else t("labels.health.no"))
        topic = c[1].selectbox(t("labels.topic"), TOPICS, index=None, help=t("labels.topic.help"),
                               placeholder=t("labels.topic.placeholder"), key=f"reading_topic_{key}")
        polarity = c[2].radio(t("readings.polarity"), POLARITIES, index=None, key=f"reading_polarity_{key}",
                              format_func=lambda p: t(f"polarity.{p}"))
        gist = st.text_area(t("readings.gist"), max_chars=readings.GIST_MAX, key=f"reading_gist_{key}",
                            help=t("readings.gist.help"))
        save = st.form_submit_button(t("readings.save"), type="primary")
    if not save:
        return False
    if related is None or (related and topic is None) or polarity is None:
        st.error(t("labels.need_health") if related is None else
                 t("labels.need_topic") if related and topic is None else t("readings.need_polarity"))
        return False
    try:
        data.workflow(path, readings.record_reading, item_id, related, topic if related else None, polarity,
                      gist, user["username"], data.now_utc())
    except WorkflowError as exc:
        st.error(workflow_ui.refusal(exc))
        return False
    st.session_state[READINGS_KEY] = st.session_state.get(READINGS_KEY, 0) + 1
    return True
