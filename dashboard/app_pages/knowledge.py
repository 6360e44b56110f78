"""辟谣知识库: has this claim been debunked already? A monitor types what a caller or a tip says, an
expert the claim they are asked to clarify, and sees the closest published clarifications — the
knowledge base's articles and those published here — with the 已辟谣 mark the item view uses
(rumourwatch.score.closest_clarifications). Below, the clarifications published here, searchable
by words, for reuse and citation. The typed text is kept in the address (`?q=`), so a lookup can
be sent to a colleague."""

import streamlit as st

from dashboard import auth as dashboard_auth
from dashboard import data, ui
from dashboard import workflow_ui as wf
from dashboard.strings import t
from rumourwatch import store

MIN_CHARS = 4  # fewer characters than this match nothing usefully

user = dashboard_auth.require_role("monitor", "analyst", "expert", "leader", "admin")
settings = ui.page_settings()
path = settings.db_path
st.title(t("kb.title"))
st.caption(t("kb.caption"))

if "kb_text" not in st.session_state:
    st.session_state["kb_text"] = st.query_params.get("q", "")
with st.form("kb_form", border=True):
    st.text_area(t("kb.text"), key="kb_text", height=100, max_chars=2000, placeholder=t("kb.text.placeholder"))
    k = st.segmented_control(t("kb.k"), [5, 10, 20], default=10, key="kb_k")
    st.form_submit_button(t("kb.submit"), type="primary")

text = st.session_state["kb_text"].strip()
if text:
    st.query_params["q"] = text
elif "q" in st.query_params:
    del st.query_params["q"]

if text and len(text) < MIN_CHARS:
    st.warning(t("kb.too_short", n=MIN_CHARS))
elif text:
    with st.spinner(t("loading")):
        matches = ui.model_call(lambda: data.text_matches(path, settings.models_dir, text, k or 10),
                                settings.models_dir)
    if matches is not None:
        if matches and not any(m.get("already_debunked") for m in matches):
            st.info(t("kb.not_debunked", best=max(m.get("score") or 0.0 for m in matches)))
        ui.debunk_matches_view(matches, settings.models_dir, t("kb.empty"), caption="kb.debunks.caption")

# --- the clarifications published here ----------------------------------------------------------
st.subheader(t("kb.own"))
if not data.database_exists(path):
    st.info(t("empty.no_data"))
    st.stop()
words = st.text_input(t("kb.own.filter"), key="kb_words", placeholder=t("kb.own.filter.placeholder")).split()
LIMIT = 200
rows = wf.call(path, store.published_clarification_list, words, LIMIT)
if not rows:
    st.info(t("kb.own.none_match") if words else t("kb.own.empty"))
    st.stop()
st.caption(t("kb.own.caption", n=len(rows), limit=LIMIT) if len(rows) == LIMIT else t("kb.own.count", n=len(rows)))
can_open = dashboard_auth.may_open("alerts")
picked = wf.table([dict(r, at=data.to_china(r["published_at"]),
                        expert=f"{r['expert_name']}（{r['expert_institution']}）" if r["expert_name"] else "")
                   for r in rows],
                  {"title": t("col.title"), "claim": t("wb.draft.claim"), "topic": t("col.topic"),
                   "expert": t("kb.col.expert"), "at": t("col.at"), "published_url": t("col.url"),
                   "alert_id": t("col.alert_id")},
                  key=ui.nav_key("kb_own"), pick="alert_id" if can_open else None)
if can_open:
    st.caption(t("kb.own.open"))
if picked is not None:
    ui.open_alert(int(picked))
