"""The health-relevance / topic label form, shared by the 数据标注 page and the item view."""

from __future__ import annotations

import streamlit as st

from dashboard import data, workflow_ui
from dashboard.strings import t
from rumourwatch import labels as hand_labels
from rumourwatch.alerts import WorkflowError
from rumourwatch.nlp.topics import TOPICS

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
                             help=t("labels.topic.help"))
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
