"""条目详情: one item, reachable as `?item=ID`: its text (as text), source, quality flags, scores,
reactions over time, score history, explanation, matching clarifications and cluster copies."""

import altair as alt
import pandas as pd
import streamlit as st

from dashboard import auth as dashboard_auth
from dashboard import data, ui
from dashboard import workflow_ui as wf
from dashboard.auth import require_item_access
from dashboard.labelling import label_form, reading_form
from dashboard.strings import t
from rumourwatch import alerts, risk, store
from rumourwatch.ads import AD_FLAG, AD_MARKERS_ZH, ad_markers
from rumourwatch.language import LANGUAGE_ZH, unread_language
from rumourwatch.standards import population_terms
from rumourwatch.store import OWN_CHANNEL_FLAG

st.title(t("item.title"))

settings = ui.page_settings()
path = settings.db_path

raw_id = st.query_params.get("item")
item_id = data.parse_item_id(raw_id)

has_live = dashboard_auth.may_open("live")  # experts have no live page to pick from or go back to
pick_help = t("item.pick.help") if has_live else t("item.pick.help.number")
with st.container(horizontal=True, vertical_alignment="bottom"):
    ui.open_by_number(t("item.pick"), t("item.open"), "item", key=f"item_pick_{item_id}", value=item_id,
                      help=pick_help)
    if has_live and st.button(t("item.back")):
        st.switch_page(ui.LIVE_PAGE)

if raw_id is not None and item_id is None:
    st.error(t("item.bad_id", value=raw_id))
    st.stop()
if item_id is None:
    st.info(pick_help)
    st.stop()
ui.require_database(path)
require_item_access(item_id)  # an expert opens only items of their own assignments (dashboard/auth.py)


def field_table(rows: list[tuple[str, object]]) -> None:
    frame = pd.DataFrame([(k, "" if v is None else str(v)) for k, v in rows],
                         columns=[t("col.field"), t("col.value")])
    # rows are 35 px (header too), plus the border: every row shows, no empty strip below them
    st.dataframe(frame, hide_index=True, width="stretch", height=35 * (len(frame) + 1) + 3,
                 column_config={t("col.field"): st.column_config.TextColumn(width=190),
                                t("col.value"): st.column_config.TextColumn(width="large")})


def show_item(item: dict) -> None:
    st.subheader(t("item.heading", id=item["id"]))
    with st.container(horizontal=True):
        # Badge labels are Markdown: the platform is scraped, so it is escaped.
        st.badge(ui.escape_md(item.get("platform") or t("unknown")), icon=":material/public:", color="gray")
        st.badge(t("item.badge.topic", topic=ui.escape_md(item.get("topic") or t("unknown"))),
                 icon=":material/label:", color="blue")
        if item.get("original_published_at"):
            st.badge(t("item.badge.replayed"), icon=":material/replay:", color="violet")

    language = unread_language(item.get("text"))
    cols = st.columns(4)
    unscored = t("item.unassessed") if language and item.get("scored_at") else t("not_scored")
    cols[0].metric(t("item.metric.probability"), ui.probability_text(item), border=True)
    # a post the models cannot read has a polarity and a relevance once someone has read it
    cols[1].metric(t("item.metric.polarity"), unscored if language and item.get("polarity") is None
                   else ui.polarity_label(item.get("polarity")), border=True)
    cols[2].metric(t("item.metric.health"), unscored if language and item.get("health_related") is None
                   else ui.yes_no(item.get("health_related")), border=True)
    debunked = ui.debunked_label(item)
    cols[3].metric(t("item.metric.debunked"), debunked, border=True,
                   help=t("debunked.not_applicable.help") if debunked == t("debunked.not_applicable") else None)

    if language:  # the models read Chinese: a human reads this one
        show_reading(item, language)
    show_verdict(item)
    show_story_alert(item)
    show_tags(item)
    clarified = data.item_clarification(path, item["id"])
    if clarified:
        # Written by an expert, still shown as text: the title is escaped, the link checked.
        when = data.to_china(clarified.get("published_at")) or ""
        if clarified.get("similar"):  # not its cluster's: the item repeats the claim of another one
            st.info(t("item.clarified.similar", title=ui.escape_md(clarified["title"]), time=when,
                      score=ui.similarity(clarified.get("similarity"))), icon=":material/fact_check:")
        else:
            st.success(t("item.clarified", title=ui.escape_md(clarified["title"]), time=when),
                       icon=":material/task_alt:")
        if data.safe_url(clarified.get("published_url")):
            st.link_button(t("item.clarified.open"), data.safe_url(clarified["published_url"]),
                           icon=":material/open_in_new:")
        if clarified.get("translation"):  # for the readers of the story's own script
            with st.expander(t("item.clarified.translation",
                               script=LANGUAGE_ZH.get(clarified["translation_language"], ""))):
                st.text(clarified["translation"])

    flags = data.quality_flags(item)
    own_channel = OWN_CHANNEL_FLAG in flags
    if own_channel:  # the office's own publishing (政务新媒体): said, not warned of
        flags.remove(OWN_CHANNEL_FLAG)
        st.info(t("flag.own_channel"), icon=":material/share:")
    if flags:
        names = "、".join(t(f"flag.{f}") if f"flag.{f}" in _FLAG_KEYS else ui.escape_md(f) for f in flags)
        st.warning(t("item.flags", flags=names), icon=":material/report:")
        if AD_FLAG in flags:  # say which selling markers the text has
            markers = "、".join(AD_MARKERS_ZH[m] for m in ad_markers(item["text"] or ""))
            st.caption(t("item.ad_markers", markers=markers or t("unknown")))
    else:
        st.success(t("item.flags.none"), icon=":material/verified:")
    if item.get("health_related") == 1:  # health advice should say whom it is for (seed 000 §(二)1)
        terms = population_terms(item.get("text"))
        if terms:
            st.caption(t("item.population.named", terms="、".join(ui.escape_md(x) for x in terms)))
        else:
            st.info(t("item.population.missing"), icon=":material/groups:")

    text_col, meta_col = st.columns([3, 2])
    with text_col:
        st.markdown(f"**{t('item.text')}**")
        long_text = len(item["text"] or "") > 800
        with st.container(border=True, height=420 if long_text else "content"):
            if item.get("title"):
                st.text(item["title"])  # scraped: plain text only
            st.text(item["text"])
    with meta_col:
        st.markdown(f"**{t('item.meta')}**")
        url = item.get("url")
        shown_url = url if url is None or data.safe_url(url) else f"{url} {t('item.field.url_unsafe')}"
        rows = [
            (t("item.field.platform"), item.get("platform")),
            (t("item.field.account"), item.get("account")),
            (t("item.field.author"), item.get("author")
             or (t("item.field.author_by_account") if item.get("account") else None)),
            (t("item.field.url"), shown_url),
            (t("item.field.published"), data.to_china(item.get("published_at"))),
        ]
        if item.get("original_published_at"):
            rows.append((t("item.field.original"), data.to_china(item["original_published_at"])))
        if item.get("claimed_published_at"):
            rows.append((t("item.field.claimed"), data.to_china(item["claimed_published_at"])))
        rows += [
            (t("item.field.fetched"), data.to_china(item.get("fetched_at"))),
            (t("item.field.source"), ui.source_label(item.get("source"))),
            (t("item.field.engagement"),
             f"{item.get('repost_num', 0):,} / {item.get('comment_num', 0):,} / {item.get('like_num', 0):,}"),
            (t("item.metric.topic"), item.get("topic")),
            (t("item.field.cluster"), item.get("cluster_id")),
            (t("item.field.model"), item.get("model_version")),
            (t("item.field.scored"), data.to_china(item.get("scored_at"))),
        ]
        tipped = wf.call(path, store.story_tips, item["id"])
        if tipped["n"]:  # the public reported this story on a hotline or the reporting channel
            rows.insert(-2, (t("item.field.tips"), ui.tips_summary(tipped)))
        field_table(rows)
        if item.get("account"):  # the publisher's record: a habit or a one-off (the risk points' count)
            record = wf.call(path, risk.account_record, item["platform"], item["account"], data.now_utc(),
                             settings.rumour_threshold)
            (st.warning if record["recurring"] or record["confirmed"] else st.caption)(risk.record_text(record))
        with st.container(horizontal=True):
            if data.safe_url(url):
                st.link_button(t("item.field.url"), data.safe_url(url), icon=":material/open_in_new:")
            # the account's other items (a repeat publisher?), on 条目检索
            if item.get("account") and dashboard_auth.may_open("search") and st.button(
                    t("item.account_items"), icon=":material/person_search:", key="account_items"):
                ui.open_search(account=item["account"])
            # the office's own account, not yet registered: to 政务新媒体 with its register form filled
            if item.get("account") and not own_channel and \
                    (dashboard_auth.current_user() or {}).get("role") in ("monitor", "admin") and st.button(
                    t("item.own_channel"), icon=":material/share:", key="own_channel", help=t("item.own_channel.help")):
                ui.open_own_media(platform=item["platform"], account=item["account"])

    tabs = st.tabs([t("item.tab.reactions"), t("item.tab.scores"), t("item.tab.explain"),
                    t("item.tab.debunks"), t("item.tab.cluster")])
    with tabs[0]:
        show_reactions(item)
    with tabs[1]:
        show_scores(item["id"])
    with tabs[2]:
        show_explanation(item)
    with tabs[3]:
        show_debunks(item["id"])
    with tabs[4]:
        show_cluster(item)
    if dashboard_auth.can("labels.manage"):
        show_labelling(item)


# --- human verdict: shown beside the model's score; monitors give it here as on the alert page ---

_VERDICT_BOX = {"rumour": (st.error, ":material/gavel:"), "not_rumour": (st.success, ":material/verified:"),
                "unverifiable": (st.info, ":material/help:")}


def show_verdict(item: dict) -> None:
    """The latest verdict on the item or its cluster (who, when, why), and for roles that give
    verdicts the same form as on the 预警 page, through the same experts.record_verdict."""
    wf.flash()
    verdict = data.item_verdict(path, item["id"])
    if verdict:
        box, icon = _VERDICT_BOX[verdict["verdict"]]
        box(t("item.verdict.current", verdict=t(f"verdict.{verdict['verdict']}"),
              by=ui.escape_md(wf.actor_label(verdict["actor"])), at=data.to_china(verdict["at"]),
              reason=ui.escape_md(verdict["reason"])), icon=icon)
    else:
        st.caption(t("item.verdict.none"))
    user = dashboard_auth.current_user()
    if not dashboard_auth.can("verdicts.manage", user):
        return
    with st.expander(t("item.verdict"), expanded=verdict is None):
        wf.verdict_form(path, item["id"], user["username"], key="item_verdict",
                        help_text=t("item.verdict.help"))


def show_tags(item: dict) -> None:
    """The item's hashtags with what the feed said under each in the last hours (rumourwatch.trending):
    one post under a topic taking off is read differently from one under a quiet tag."""
    from rumourwatch import trending

    tags = trending.item_tags(item.get("text"), data.tag_stats(path, data.settings().rumour_threshold))
    if not tags:
        return
    hot, quiet = [], []
    for entry in tags:
        s = entry["stats"]
        if s is None or s["stories"] < trending.MIN_STORIES or s["accounts"] < trending.MIN_ACCOUNTS:
            quiet.append(f"#{entry['tag']}#")
            continue
        hot.append(t("item.tags.hot", tag=entry["tag"], stories=s["stories"], accounts=s["accounts"],
                     flagged=s["flagged"], status=trending.status_text(s)))
    hours = trending.WINDOW_HOURS
    if hot:  # scraped tag text inside Markdown: escaped
        st.info(ui.escape_md(t("item.tags", hours=hours, tags="；".join(hot))), icon=":material/trending_up:")
    if quiet:
        st.caption(ui.escape_md(t("item.tags.quiet", hours=hours, tags="、".join(quiet))))


def show_story_alert(item: dict) -> None:
    """The alert of the item's story, if it has one (a button opens it), and for roles that manage
    alerts the form to raise one by hand (人工上报: alerts.raise_alert)."""
    user = dashboard_auth.current_user()
    alert = wf.call(path, alerts.story_alert, item["id"])
    if alert:
        st.info(t("item.alert", id=alert["id"], severity=alert["severity"],
                  status=wf.label("alert.status", alert["status"]), kind=wf.label("alert.kind", alert["kind"])),
                icon=":material/notifications_active:")
        if dashboard_auth.may_open("alerts", user) and st.button(t("item.alert.open", id=alert["id"])):
            ui.open_alert(alert["id"])
    if not dashboard_auth.can("alerts.manage", user):
        return
    with st.expander(t("item.raise")):
        st.caption(t("item.raise.caption"))
        with wf.action_form("raise_form"):
            severity = st.radio(t("item.raise.severity"), alerts.SEVERITIES, index=1, horizontal=True,
                                key="raise_severity")
            reason = st.text_area(t("item.raise.reason"), key="raise_reason", max_chars=alerts.RAISE_REASON_MAX)
            if st.form_submit_button(t("item.raise.submit")):
                wf.act(path, t("item.raise.done"), alerts.raise_alert, item["id"], severity, reason,
                       user["username"], data.now_utc(), wf.rules())


def show_reading(item: dict, language: str) -> None:
    """The human reading of an item the models cannot read (rumourwatch.readings): the latest one,
    its gist for those who cannot read the text, and the form for those who may record one; until
    there is one, a warning that the item waits for a reader."""
    history = data.workflow(path, store.readings_for_item, item["id"])
    name = t(f"language.{language}")
    if history:
        st.caption(t("item.language.read", language=name))
        last = history[-1]
        st.info(t("item.reading.current", health=t("labels.health.yes" if last["health_related"] else "labels.health.no"),
                  topic=ui.escape_md(last["topic"]),
                  polarity=ui.polarity_label(last["polarity"]), by=ui.escape_md(last["read_by"]),
                  at=data.to_china(last["at"])), icon=":material/translate:")
        if last["gist"]:
            st.text(t("item.reading.gist", gist=last["gist"]))  # typed by a reader: plain text
    else:
        st.warning(t("item.language", language=name), icon=":material/translate:")
        st.caption(t("item.reading.none"))
    if dashboard_auth.can("readings.record"):
        with st.expander(t("item.reading"), expanded=not history):
            if reading_form(path, item["id"], dashboard_auth.current_user(), "item"):
                st.session_state["item_reading_saved"] = item["id"]
                st.rerun()
    if st.session_state.get("item_reading_saved") == item["id"]:
        st.session_state.pop("item_reading_saved")
        st.success(t("item.reading.saved"))


def show_labelling(item: dict) -> None:
    """Analysts label the item's health relevance and topic here too (as on the 数据标注 page)."""
    with st.expander(t("item.labels")):
        # the read-write connection brings the schema up to date (the labels table) when it opens
        history = data.workflow(path, store.labels_for_item, item["id"])
        if history:
            last = history[-1]
            st.caption(t("item.labels.current", health=ui.yes_no(last["health_related"]),
                         topic=ui.escape_md(last["topic"]), by=ui.escape_md(last["labelled_by"]),
                         at=data.to_china(last["at"])))
        else:
            st.caption(t("item.labels.none"))
        if label_form(path, item["id"], dashboard_auth.current_user(), "item", item.get("topic")) == "saved":
            st.success(t("item.labels.saved"))


_FLAG_KEYS = {"flag.missing_author", "flag.missing_time", "flag.missing_source", "flag.future_time",
              "flag.very_long", "flag.suspected_ad", "flag.clarification"}


def show_reactions(item: dict) -> None:
    item_id = item["id"]
    rows = data.reactions(path, item_id)
    if not rows:
        st.info(t("item.reactions.empty"))
        return
    series = data.cumulative_reactions(rows, start=item.get("published_at"))
    if series:
        frame = pd.DataFrame(series)
        frame[t("col.time")] = pd.to_datetime(frame["time"])
        frame[t("col.kind")] = frame["kind"].map(lambda k: t(f"kind.{k}"))
        frame[t("col.cumulative")] = frame["cumulative"]
        chart = (
            alt.Chart(frame)
            .mark_line(interpolate="step-after", point=True)
            .encode(x=alt.X(f"{t('col.time')}:T", title=None, axis=alt.Axis(format="%m-%d %H:%M")),
                    y=alt.Y(f"{t('col.cumulative')}:Q", title=t("col.cumulative"), axis=alt.Axis(tickMinStep=1)),
                    color=alt.Color(f"{t('col.kind')}:N", legend=alt.Legend(orient="top", title=None),
                                    scale=alt.Scale(domain=[t("kind.repost"), t("kind.comment")],
                                                    range=["#1f77b4", "#ff7f0e"])),
                    tooltip=[alt.Tooltip(f"{t('col.time')}:T", format="%Y-%m-%d %H:%M"), t("col.kind"),
                             t("col.cumulative")])
            .properties(height=280, title=t("item.reactions.chart"))
        )
        st.altair_chart(chart, width="stretch")
    limit = 200
    st.caption(t("item.reactions.table", n=limit))
    table = pd.DataFrame([{t("col.time"): data.to_china(r.get("at")), t("col.kind"): t(f"kind.{r['kind']}"),
                           t("col.user"): r.get("user_id") or "", t("col.text"): r.get("text") or ""}
                          for r in rows[:limit]])
    st.dataframe(table, hide_index=True, width="stretch", height=260)


def show_scores(item_id: int) -> None:
    history = data.score_history(path, item_id)
    if not history:
        st.info(t("item.scores.empty"))
        return
    frame = pd.DataFrame([{t("col.computed"): pd.Timestamp(data.to_china(h["computed_at"])),
                           t("col.probability"): h.get("rumour_probability"),
                           t("col.reactions_seen"): h.get("reactions_seen"),
                           t("col.model"): h.get("model_version") or ""} for h in history])
    base = alt.Chart(frame).encode(
        x=alt.X(f"{t('col.computed')}:T", title=None, axis=alt.Axis(format="%m-%d %H:%M")),
        y=alt.Y(f"{t('col.probability')}:Q", title=t("col.probability"), scale=alt.Scale(domain=[0, 1]),
                axis=alt.Axis(format="%")),
        tooltip=[alt.Tooltip(f"{t('col.computed')}:T", format="%Y-%m-%d %H:%M"),
                 alt.Tooltip(f"{t('col.probability')}:Q", format=".1%"), t("col.reactions_seen"), t("col.model")])
    rule = alt.Chart(pd.DataFrame({"y": [settings.rumour_threshold]})).mark_rule(
        color="#c62828", strokeDash=[6, 4]).encode(y="y:Q")
    chart = (base.mark_line(point=True, interpolate="step-after") + rule).properties(height=280, title=t("item.scores.chart"))
    st.altair_chart(chart, width="stretch")
    st.caption(t("item.scores.caption", threshold=settings.rumour_threshold))


def show_explanation(item: dict) -> None:
    item_id = item["id"]
    if unread_language(item.get("text")):
        st.info(t("item.explain.language"))
        return
    with st.spinner(t("loading")):
        rows = ui.model_call(lambda: data.explanation(path, settings.models_dir, item_id), settings.models_dir)
    if rows is None:
        return
    # The explanation reads the item as it stands now, with the models loaded now. The score shown
    # above was stored when the item was last scored: a reaction since then, or a new model,
    # makes them differ, and the weights add up to the probability named here, not to that one.
    now = data.explanation_probability(path, settings.models_dir, item_id)
    stored = item.get("rumour_probability")
    if now is not None and (stored is None or abs(now - stored) >= 0.005):
        st.caption(t("item.explain.rescored", now=now) if stored is None
                   else t("item.explain.differs", now=now, stored=stored))
    # whole reactions get their own table: each carries a small share of the score (1/k of the
    # reaction-level term), so among words and signals they would sink out of sight
    examples = [r for r in rows if r["kind"] == "reaction_examples"]
    rows = [r for r in rows if r["kind"] != "reaction_examples"]
    if not rows and not examples:
        st.info(t("item.explain.empty"))
        return
    kinds = {"words": t("explain.kind.words"), "reactions": t("explain.kind.reactions"),
             "signals": t("explain.kind.signals")}
    if rows:
        st.caption(t("item.explain.caption"))
        _weights_table([{t("col.term"): r["term"], t("col.kind"): kinds.get(r["kind"], r["kind"]),
                         t("col.weight"): r["weight"]} for r in rows[:30]])
    if examples:
        st.caption(t("item.explain.reaction_examples"))
        _weights_table([{t("col.reaction_said"): r["term"], t("col.weight"): r["weight"]} for r in examples])


def _weights_table(records: list[dict]) -> None:
    """Rows with a t("col.weight") column, drawn as bars scaled to the largest weight."""
    top = max(r[t("col.weight")] for r in records)
    st.dataframe(pd.DataFrame(records), hide_index=True, width="stretch",
                 column_config={t("col.weight"): st.column_config.ProgressColumn(
                     min_value=0.0, max_value=float(top), format="%.3f")})


def show_debunks(item_id: int) -> None:
    with st.spinner(t("loading")):
        matches = ui.model_call(lambda: data.debunk_matches(path, settings.models_dir, item_id), settings.models_dir)
    if matches is not None:
        ui.debunk_matches_view(matches, settings.models_dir, t("item.debunks.empty"))


def show_cluster(item: dict) -> None:
    copies, total = data.cluster_copies(path, item["id"], item.get("cluster_id"))
    if not copies:
        st.info(t("item.cluster.none"))
        return
    st.caption(t("item.cluster.caption", n=total) if total == len(copies)
               else t("item.cluster.caption.first", n=total, shown=len(copies)))
    ui.items_table(copies, key="cluster")


with ui.friendly_errors():
    with st.spinner(t("loading")):
        found = data.item(path, item_id)
    if found is None:
        st.warning(t("item.not_found", id=item_id))
    else:
        show_item(found)
