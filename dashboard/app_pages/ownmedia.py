"""政务新媒体 (seed 001 二、五要; seed 002 三; seed 000 (三)3, (四)2): the office's and its units' own
channels (rumourwatch.ownmedia) — what they published in a period and what it reached (the
platforms' reposts, comments and likes) against the period before, the posts that spread most (to
promote), and the Healthy China topics the feed talked about against the office's own posts on each.
Monitors and admins register and remove the channels; leaders read."""

from datetime import date, timedelta

import altair as alt
import pandas as pd
import streamlit as st

from dashboard import data
from dashboard import workflow_ui as ui
from dashboard.auth import may_open, require_role
from dashboard.strings import t
from dashboard.ui import nav_key, one_line, open_item, open_search
from rumourwatch import ownmedia, store
from rumourwatch.errors import RumourwatchError
from rumourwatch.exports import csv_text

user = require_role("monitor", "leader", "admin")
path = ui.db_path()
settings = data.settings()
st.title(t("om.title"))
st.caption(t("om.caption", min=ownmedia.CONCERN_MIN_ITEMS))
ui.flash()

SPANS = {"7": 7, "30": 30, "90": 90, "custom": None}
first, last = ui.span_picker("om", SPANS, "30")
length = (last - first).days + 1
start, end = data.period_bounds("custom", (first, last))
previous_start, _ = data.period_bounds("custom", (first - timedelta(days=length), first - timedelta(days=1)))
channels = ui.call(path, store.list_own_accounts)


def _change(now: int, before: int) -> str | None:
    return None if not before else f"{(now - before) / before * 100:+.0f}%"


def _day(d: date) -> str:
    return f"{d.month} 月 {d.day} 日"


if not channels:
    st.info(t("om.none"))
else:
    fig = data.own_media(path, start, end, previous_start, settings.rumour_threshold)
    total, before = fig["total"], fig["previous"]
    st.caption(t("om.period", first=_day(first), last=_day(last), n=length))
    c = st.columns(4)
    c[0].metric(t("om.metric.channels"), len(fig["accounts"]))
    c[1].metric(t("om.metric.posts"), f"{total['posts']:,}", _change(total["posts"], before["posts"]),
                help=t("om.metric.previous", n=f"{before['posts']:,}"))
    c[2].metric(t("om.metric.engagement"), f"{total['engagement']:,}",
                _change(total["engagement"], before["engagement"]),
                help=t("om.metric.previous", n=f"{before['engagement']:,}"))
    c[3].metric(t("om.metric.per_post"),
                f"{total['engagement'] / total['posts']:,.1f}" if total["posts"] else "—")

    by_day = {d["day"]: d for d in fig["days"]}
    frame = pd.DataFrame([{t("om.col.day"): f"{d.month}-{d.day:02d}",
                           t("om.col.posts"): by_day.get(d.isoformat(), {}).get("posts", 0),
                           t("om.col.engagement"): by_day.get(d.isoformat(), {}).get("engagement", 0)}
                          for d in (first + timedelta(days=i) for i in range(length))])
    st.altair_chart(alt.Chart(frame).mark_bar(color="#5c7cae").encode(
        x=alt.X(f"{t('om.col.day')}:O", title=None, sort=None, axis=alt.Axis(labelAngle=0, labelOverlap=True)),
        y=alt.Y(f"{t('om.col.engagement')}:Q", title=t("om.col.engagement")),
        tooltip=[t("om.col.day"), t("om.col.posts"), t("om.col.engagement")]).properties(
        height=220, title=t("om.chart")), width="stretch")

    st.subheader(t("om.accounts"))
    ui.table([{"name": a["name"], "platform": a["platform"], "account": a["account"],
               "unit": a["unit"] or t("om.unit.office"), "posts": a["posts"], "health": a["health"],
               "reposts": a["reposts"], "comments": a["comments"], "likes": a["likes"],
               "engagement": a["engagement"], "per_post": "—" if a["per_post"] is None else f"{a['per_post']:,.1f}",
               "previous_posts": a["previous"]["posts"], "previous_engagement": a["previous"]["engagement"]}
              for a in fig["accounts"]],
             {k: t(f"om.col.{k}") for k in ("name", "platform", "account", "unit", "posts", "health", "reposts",
                                            "comments", "likes", "engagement", "per_post", "previous_posts",
                                            "previous_engagement")}, key="om_accounts")
    if not total["posts"]:
        st.warning(t("om.silent"))

    st.subheader(t("om.top"))
    st.caption(t("om.top.caption"))
    if fig["top"]:
        picked = ui.table([{"id": r["id"], "at": data.to_china(r["published_at"]), "name": r["name"],
                            "text": one_line(r["title"] or r["text"], 80), "topic": r["topic"] or "",
                            "reposts": r["repost_num"], "comments": r["comment_num"], "likes": r["like_num"],
                            "engagement": r["engagement"]} for r in fig["top"]],
                          {k: t(f"om.col.{k}") for k in ("at", "name", "text", "topic", "reposts", "comments",
                                                         "likes", "engagement")},
                          key=nav_key("om_top"), pick="id" if may_open("item", user) else None)
        if picked is not None:
            open_item(int(picked))
    else:
        st.info(t("om.top.none"))

    st.subheader(t("om.topics"))
    st.caption(t("om.topics.caption", min=ownmedia.CONCERN_MIN_ITEMS, threshold=f"{settings.rumour_threshold:g}"))
    if fig["unanswered"]:
        st.warning(t("om.unanswered", topics="、".join(fig["unanswered"]), n=len(fig["unanswered"])))
    rows = [{"topic": r["topic"], "items": r["items"], "negative": r["negative"], "flagged": r["flagged"],
             "own": r["own"], "state": t("om.state.unanswered") if r["topic"] in fig["unanswered"] else ""}
            for r in fig["topics"]]
    columns = {k: t(f"om.col.{k}") for k in ("topic", "items", "negative", "flagged", "own", "state")}
    picked = ui.table(rows, columns, key=nav_key("om_topics"), pick="topic" if may_open("search", user) else None)
    if picked is not None:  # the topic's items on 条目检索
        open_search(topic=picked)
    st.download_button(t("om.topics.csv"), csv_text(list(columns.values()), [[r[k] for k in columns] for r in rows]),
                       file_name=f"政务新媒体_话题_{first}_{last}.csv",
                       mime="text/csv", key="om_topics_csv")



def from_item() -> bool:
    """Whether the page was opened from an item's page (`?platform=…&account=…`, ui.open_own_media):
    the register form is then filled with that account once (a new form, so what is typed after
    stays), and shown open."""
    asked = {"platform": st.query_params.get("platform", ""), "account": st.query_params.get("account", "")}
    if not all(asked.values()):
        return False
    ui.fill_form_once("om", "item", asked)
    return True


if user["role"] in ("monitor", "admin"):
    asked = from_item()
    with st.expander(t("om.manage", n=len(channels)), expanded=not channels or asked):
        st.caption(t("om.manage.caption"))
        units = ui.call(path, store.list_units)
        gen = st.session_state.get("om_form_gen", 0)
        with ui.action_form(f"om_form_{gen}"):
            c = st.columns([1, 2, 2])
            offered = [*ownmedia.PLATFORMS, *(p for p in ui.call(path, store.platforms) if p not in ownmedia.PLATFORMS)]
            filled = st.session_state.get(f"om_platform_{gen}")  # from an item: one the store may no longer hold
            if filled and filled not in offered:
                offered.append(filled)
            platform = c[0].selectbox(t("om.platform"), offered, key=f"om_platform_{gen}", accept_new_options=True)
            account = c[1].text_input(t("om.account"), max_chars=ownmedia.ACCOUNT_MAX, key=f"om_account_{gen}",
                                      help=t("om.account.help"))
            name = c[2].text_input(t("om.name"), max_chars=ownmedia.NAME_MAX, key=f"om_name_{gen}",
                                   placeholder=t("om.name.placeholder"))
            c = st.columns([2, 3])
            unit = c[0].selectbox(t("om.unit"), [None, *units], key=f"om_unit_{gen}",
                                  format_func=lambda u: t("om.unit.office") if u is None else u["name"])
            note = c[1].text_input(t("om.note"), max_chars=ownmedia.NOTE_MAX, key=f"om_note_{gen}")
            if st.form_submit_button(t("om.add"), type="primary"):
                try:
                    added = data.workflow(path, ownmedia.add, platform=platform, account=account, name=name,
                                          unit_id=unit["id"] if unit else None, note=note, actor=user["username"],
                                          now=data.now_utc())
                except RumourwatchError as exc:
                    ui.show_error(exc, "wf.error")
                else:
                    st.session_state["om_form_gen"] = gen + 1
                    st.session_state[ui.FLASH_KEY] = t("om.added" if added["items"] else "om.added.empty",
                                                       name=ui.escape(added["name"]), n=f"{added['items']:,}")
                    st.rerun()
        if channels:
            with ui.action_form("om_remove"):
                c = st.columns([2, 2, 1], vertical_alignment="bottom")
                pick = c[0].selectbox(t("om.remove.pick"), channels, key="om_remove_pick",
                                      format_func=lambda a: f"{a['name']}（{a['platform']} {a['account']}）")
                reason = c[1].text_input(t("om.remove.reason"), max_chars=ownmedia.REASON_MAX, key="om_remove_reason")
                if c[2].form_submit_button(t("om.remove.submit")):
                    ui.act(path, t("om.removed", name=ui.escape(pick["name"])), ownmedia.remove, pick["id"], reason=reason,
                           actor=user["username"], now=data.now_utc())
