"""专家工作台: the expert's queue (accept / decline), the item and its reactions, related published
clarifications, a draft editor and submission for review; reviewing other experts' drafts; and
recording the publication. Experts see only their own assignments."""

from datetime import timedelta

import streamlit as st

from dashboard import data, workflow_ui as ui
from dashboard.auth import require_role
from dashboard.strings import t
from rumourwatch import effect, experts, media, store
from rumourwatch.knowledge import suggested_claim
from rumourwatch.language import LANGUAGE_ZH, unread_language
from rumourwatch.records import parse_time

user = require_role("expert", "admin")
path = ui.db_path()
rules = ui.rules()
now = data.now_utc()
actor = user["username"]

st.title(t("wb.title"))
ui.flash()

expert_id = user.get("expert_id")
if user["role"] == "admin" and expert_id is None:
    roster = ui.call(path, store.list_experts, True)
    if roster:
        expert_id = st.selectbox(t("wb.pick_expert"), [e["id"] for e in roster],
                                 format_func=lambda i: next(e["name"] for e in roster if e["id"] == i))
if expert_id is None:
    st.warning(t("wb.no_expert"))
    st.stop()
trained = ui.call(path, store.trained_experts).get(expert_id)  # 专家培训 (seed 001 18)
st.caption(t("wb.trained", day=trained["held_on"], title=trained["title"], n=trained["n"]) if trained
           else t("wb.trained.none"))


def related(alert: dict) -> list[int]:
    """The published clarifications related to the alert (its topic's latest here; the knowledge
    base's matches of its item, faint ones left out), as a table. Returns the ids of those published
    here, which can seed a draft."""
    st.caption(t("wb.related"))
    own = ui.call(path, store.published_clarifications, alert["topic"], 5)
    rows = [{"title": c["title"], "url": c["published_url"], "at": data.to_china(c["published_at"])} for c in own]
    reusable = [c["id"] for c in own]
    if alert["item_id"]:
        try:
            settings = data.settings()
            # a match too weak to be about the same claim is not a related clarification
            matches = [m for m in data.debunk_matches(path, settings.models_dir, alert["item_id"], 5)
                       if not data.faint_match(m)]
            rows += [{"title": m.get("title"), "url": m.get("url"), "at": m.get("date") or "",
                      "similarity": f"{m.get('score') or 0.0:.2f}"} for m in matches]
            reusable = [m["clarification_id"] for m in matches if m.get("clarification_id")] + reusable
        except Exception:  # the knowledge base needs trained artifacts; the queue works without them
            pass
    if rows:
        ui.table(rows, {"title": t("col.alert_title"), "url": t("col.url"), "at": t("col.at"),
                        "similarity": t("col.similarity")})
    else:
        st.text(t("wb.related.empty"))
    return list(dict.fromkeys(reusable))


DRAFT_FIELDS = {"title": "title", "body": "body", "refs": "references_text", "claim": "claim",
                "translation": "translation"}


def translation_section(c: dict) -> None:
    """A clarification's version in another script, for its reviewer and publisher; or, for a story
    told in such a script (experts.alert_language), a warning that it has none."""
    if c.get("translation"):
        st.caption(t("wb.translation.shown", script=LANGUAGE_ZH.get(c["translation_language"], "")))
        st.text(c["translation"])
        return
    language = ui.call(path, experts.alert_language, ui.call(path, store.get_alert, c["alert_id"]))
    if language:
        st.warning(t("wb.translation.missing", script=LANGUAGE_ZH[language]))


def reuse_form(task_id: int, candidates: list[int], drafts: frozenset[int] = frozenset()) -> None:
    """以已发布澄清为底稿: one of the related clarifications published here, or a draft an earlier
    expert of this alert left (`drafts`: their task withdrawn or declined), fills the draft form
    (title, body, references, claim) for the expert to adapt; nothing is saved until 保存草稿."""
    chosen = {c["id"]: c for c in (ui.call(path, store.get_clarification, i) for i in candidates) if c}
    if not chosen:
        return

    def name(i: int) -> str:
        c = chosen[i]
        if i not in drafts:
            return f"#{i} {c['title']}"
        author = (ui.call(path, store.get_expert, c["expert_id"]) or {}).get("name") if c["expert_id"] else None
        return t("wb.reuse.draft", id=i, title=c["title"] or "—", author=author or c["author"])

    cols = st.columns([4, 1], vertical_alignment="bottom")
    pick = cols[0].selectbox(t("wb.reuse"), list(chosen), key=f"reuse_pick_{task_id}", format_func=name,
                             help=t("wb.reuse.help"))
    if cols[1].button(t("wb.reuse.button"), key=f"reuse_{task_id}"):
        st.session_state[f"prefill_{task_id}"] = {field: chosen[pick].get(column) or ""
                                                  for field, column in DRAFT_FIELDS.items()}
        st.rerun()


# --- my queue ----------------------------------------------------------------------------------
st.subheader(t("wb.queue"))
tasks = ui.call(path, store.expert_assignments, expert_id, ("offered", "accepted", "submitted"))
if not tasks:
    st.info(t("wb.queue.empty"))
for task in tasks:
    alert = ui.call(path, store.get_alert, task["alert_id"])
    with st.container(border=True, key=f"task_{task['id']}"):
        st.markdown("**" + t("wb.task", id=task["id"], alert=alert["id"], severity=alert["severity"],
                             status=ui.label("assign.status", task["status"]), due=data.to_china(task["due_at"]))
                    + "**")
        st.text(ui.reasons_text(alert["rules"]))
        item = gist = None
        if alert["item_id"]:
            item = ui.call(path, store.get_item, alert["item_id"])
            st.caption(t("wb.item_text"))
            gist = ui.item_text(path, item, 2000)  # with its reader's gist when the expert may not read its script
            reactions = ui.call(path, store.item_reactions, alert["item_id"], 200)
            if reactions:
                with st.expander(t("wb.reactions") + f"（{len(reactions)}）"):
                    ui.table([dict(r, at_cn=data.to_china(r["at"])) for r in reactions],
                             {"kind": t("col.kind"), "at_cn": t("col.at"), "text": t("col.note")})
        reusable = related(alert)
        if task["status"] == "offered":
            cols = st.columns(2)
            if cols[0].button(t("wb.accept", id=task["id"]), type="primary", key=f"accept_{task['id']}"):
                ui.act(path, t("wb.accept", id=task["id"]), experts.accept_assignment, task["id"], actor,
                       data.now_utc(), expert_id)
            with ui.action_form(f"decline_form_{task['id']}", cols[1]):
                reason = st.text_input(t("wb.decline_reason", id=task["id"]), key=f"decline_reason_{task['id']}")
                if st.form_submit_button(t("wb.decline", id=task["id"]), key=f"decline_{task['id']}"):
                    ui.act(path, t("wb.decline", id=task["id"]), experts.decline_assignment, task["id"], actor,
                           data.now_utc(), reason, expert_id, rules)
        elif task["status"] == "accepted":
            on_alert = ui.call(path, store.clarifications_for_alert, alert["id"])
            drafts = [c for c in on_alert if c["assignment_id"] == task["id"] and c["status"] == "draft"]
            draft = drafts[0] if drafts else {}
            # drafts earlier experts of this alert saved before their task was withdrawn or declined
            left = [c["id"] for c in on_alert if c["assignment_id"] != task["id"] and c["status"] == "draft"
                    and (c["title"] or c["body"])]
            if draft.get("review_note"):
                st.warning(t("wb.draft.returned", note=ui.escape(draft["review_note"])))
            language = unread_language(item["text"]) if item else None  # the story told in Mongolian, say
            # the claim is stated in Chinese, as later posts would repeat it: for such a story, the reader's gist
            item_text = (gist or "") if language else (item["text"] if item else "")
            reuse_form(task["id"], [*left, *reusable], frozenset(left))
            start = {"title": draft.get("title", ""), "body": draft.get("body", ""),
                     "refs": draft.get("references_text") or "",
                     "claim": draft.get("claim") or suggested_claim(item_text or ""),
                     "translation": draft.get("translation") or ""}
            prefill = st.session_state.pop(f"prefill_{task['id']}", None)
            if prefill:  # an earlier clarification chosen as the starting point replaces what the form held
                start = prefill
                for field in DRAFT_FIELDS:
                    st.session_state.pop(f"{field}_{task['id']}", None)
                st.info(t("wb.reuse.done"))
            with ui.action_form(f"draft_form_{task['id']}"):
                title = st.text_input(t("wb.draft.title"), value=start["title"], key=f"title_{task['id']}")
                body = st.text_area(t("wb.draft.body"), value=start["body"], height=200, key=f"body_{task['id']}")
                refs = st.text_area(t("wb.draft.refs"), value=start["refs"], height=80, key=f"refs_{task['id']}")
                claim = st.text_area(t("wb.draft.claim"), value=start["claim"] or suggested_claim(item_text or ""),
                                     height=80, help=t("wb.draft.claim.help"), key=f"claim_{task['id']}")
                if language:  # its readers may read no Chinese: the version in their script, asked for openly
                    st.caption(t("wb.draft.translation.needed", script=LANGUAGE_ZH[language]))
                translation = st.text_area(
                    t("wb.draft.translation", script=LANGUAGE_ZH[language]) if language
                    else t("wb.draft.translation.any"), value=start["translation"], height=150 if language else 68,
                    help=t("wb.draft.translation.help"), key=f"translation_{task['id']}")
                cols = st.columns(2)
                if cols[0].form_submit_button(t("wb.draft.save", id=task["id"]), key=f"save_{task['id']}"):
                    ui.act(path, t("wb.draft.save", id=task["id"]), experts.save_draft, task["id"], actor,
                           data.now_utc(), title, body, refs, expert_id, claim=claim, translation=translation)
                if draft and cols[1].form_submit_button(t("wb.draft.submit", id=task["id"]), type="primary",
                                                        key=f"submit_{task['id']}"):
                    def save_and_submit(db):
                        cid = experts.save_draft(db, task["id"], actor, data.now_utc(), title, body, refs,
                                                 expert_id, claim=claim, translation=translation)
                        return experts.submit_for_review(db, cid, actor, data.now_utc(), expert_id, rules=rules)
                    ui.act(path, t("wb.draft.submit", id=task["id"]), save_and_submit)
            if draft:
                ui.self_check(path, draft)
        if alert["item_id"]:
            ui.verdict_form(path, alert["item_id"], actor, key=f"verdict_{task['id']}", alert_id=alert["id"])

# --- tasks withdrawn from me: they leave the queue, but the expert sees when and why ----------------
withdrawn = ui.call(path, store.expert_assignments, expert_id, ("cancelled",))
if withdrawn:
    st.subheader(t("wb.withdrawn"))
    st.caption(t("wb.withdrawn.caption"))
    ui.table([dict(a, at_cn=data.to_china(a["cancelled_at"]), by=ui.actor_label(a["cancelled_by"]))
              for a in sorted(withdrawn, key=lambda a: a["cancelled_at"] or "", reverse=True)],
             {"id": "#", "alert_id": t("col.alert_id"), "alert_title": t("col.alert_title"),
              "at_cn": t("col.cancelled_at"), "by": t("col.actor"), "cancel_reason": t("col.cancel_reason")},
             key="withdrawn_tasks")

# --- media outlets' invitations (rumourwatch.media, seed 000 §(三)2) ----------------------------------
invitations = ui.call(path, store.expert_media_offers, expert_id, ("offered", "accepted"))
# an accepted activity that is over waits for the office to record how it went: out of the way
ended = [i for i in invitations if i["offer_status"] == "accepted"
         and parse_time(i["starts_at"]) + timedelta(hours=i["hours"]) <= now]
invitations = [i for i in invitations if i not in ended]
if invitations or ended:
    st.subheader(t("wb.media"))
    for inv in invitations:
        with st.container(border=True, key=f"media_inv_{inv['offer_id']}"):
            st.markdown("**" + ui.escape(t("wb.media.item", outlet=inv["outlet"], level=inv["outlet_level"],
                                           kind=inv["kind"], at=data.to_china(inv["starts_at"]),
                                           hours=f"{inv['hours']:g}")) + "**")
            details = [v for v in (inv["programme"], inv["topic"] and t("media.detail.topic", topic=inv["topic"]),
                                   inv["contact"] and t("media.detail.contact", contact=inv["contact"]), inv["note"])
                       if v]
            if details:
                st.caption(ui.escape("；".join(details)))
            if inv["offer_status"] == "accepted":
                st.success(t("wb.media.accepted_note"))
                continue
            begun = parse_time(inv["starts_at"]) <= now
            if begun:
                st.warning(t("wb.media.passed"))
            with ui.action_form(f"media_answer_{inv['offer_id']}"):
                reason = st.text_input(t("wb.media.reason"), key=f"media_reason_{inv['offer_id']}")
                cols = st.columns(2)
                if not begun and cols[0].form_submit_button(t("wb.media.accept"), type="primary",
                                                            key=f"media_accept_{inv['offer_id']}"):
                    ui.act(path, t("wb.media.accept"), media.respond, inv["offer_id"], True, actor, data.now_utc(),
                           actor_expert_id=expert_id, rules=rules)
                if cols[1].form_submit_button(t("wb.media.decline"), key=f"media_decline_{inv['offer_id']}"):
                    ui.act(path, t("wb.media.decline"), media.respond, inv["offer_id"], False, actor, data.now_utc(),
                           reason, actor_expert_id=expert_id, rules=rules)
    if ended:
        with st.expander(t("wb.media.ended", n=len(ended))):
            st.text("\n".join(t("wb.media.ended.item", outlet=i["outlet"], kind=i["kind"],
                                 at=data.to_china(i["starts_at"])) for i in ended))

# --- review other experts' drafts -----------------------------------------------------------------
st.subheader(t("wb.review"))
reviews = [c for c in ui.call(path, store.clarifications_by_status, "in_review") if c["author"] != actor]
me = ui.call(path, store.get_expert, expert_id)
my_topics = experts.expert_topics(me) if me else set()
topics = {c["id"]: (ui.call(path, store.get_alert, c["alert_id"]) or {}).get("topic") for c in reviews}
# drafts of one's own field first: the standard asks experts of the field to review (seed 000 §(三)1)
reviews.sort(key=lambda c: topics[c["id"]] not in my_topics)
if not reviews:
    st.info(t("wb.review.empty"))
elif my_topics:
    st.caption(t("wb.review.caption"))
for c in reviews:
    with st.container(border=True, key=f"review_{c['id']}"):
        mine = t("wb.review.mine", topic=topics[c["id"]]) if topics[c["id"]] in my_topics else ""
        st.markdown("**" + t("wb.review.item", id=c["id"], alert=c["alert_id"], author=ui.escape(c["author"])) + "**"
                    + mine)
        st.text(c["title"])
        if c.get("claim"):
            st.caption(t("wb.draft.claim"))
            st.text(c["claim"])
        st.text(c["body"])
        if c["references_text"]:
            st.text(c["references_text"])
        translation_section(c)
        ui.self_check(path, c, reviewer=actor)
        with ui.action_form(f"review_form_{c['id']}"):
            note = st.text_input(t("wb.review.note", id=c["id"]), key=f"review_note_{c['id']}")
            cols = st.columns(2)
            if cols[0].form_submit_button(t("wb.approve", id=c["id"]), type="primary", key=f"approve_{c['id']}"):
                ui.act(path, t("wb.approve", id=c["id"]), experts.review_clarification, c["id"], actor,
                       data.now_utc(), True, note, rules=rules)
            if cols[1].form_submit_button(t("wb.return", id=c["id"]), key=f"return_{c['id']}"):
                ui.act(path, t("wb.return", id=c["id"]), experts.review_clarification, c["id"], actor,
                       data.now_utc(), False, note, rules=rules)

# --- record publication -----------------------------------------------------------------------------
st.subheader(t("wb.publish"))
approved = ui.call(path, store.clarifications_by_status, "approved")
if not approved:
    st.info(t("wb.publish.empty"))
for c in approved:
    with st.container(border=True, key=f"publish_{c['id']}"):
        st.text(f"#{c['id']} {c['title']}")
        translation_section(c)
        with ui.action_form(f"publish_form_{c['id']}"):
            url = st.text_input(t("wb.publish.url", id=c["id"]), key=f"url_{c['id']}")
            if st.form_submit_button(t("wb.publish.button", id=c["id"]), type="primary", key=f"publish_btn_{c['id']}"):
                ui.act(path, t("wb.publish.button", id=c["id"]), experts.publish_clarification, c["id"], actor,
                       data.now_utc(), url)

# --- what followed one's own published clarifications (rumourwatch.effect) --------------------------
recent = ui.call(path, store.clarifications_by_status, "published", 10, expert_id)
if recent:
    st.subheader(t("wb.published"))
    st.caption(t("wb.published.caption") + effect.CAVEAT)
    now, cache = data.now_utc(), {}  # the clarifications listed share their references
    ui.table([dict(c, at=data.to_china(c["published_at"]),
                   effect=effect.short_text(ui.call(path, effect.clarification_effect, c["id"], now, cache=cache)))
              for c in recent],
             {"id": "#", "alert_id": t("col.alert_id"), "title": t("col.alert_title"), "published_url": t("col.url"),
              "at": t("col.at"), "effect": t("wb.published.effect")})

# --- when I cannot take tasks: leave, travel, a conference (experts.add_absence) -------------------
st.subheader(t("away.title"))
st.caption(t("away.caption.own"))
ui.absence_section(path, actor, data.now_utc(), expert_id=expert_id)
