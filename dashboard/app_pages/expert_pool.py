"""专家库: the roster (specialties, level, region, capacity, load, last training), how each expert took
part in the last 30 / 90 / 365 days (rumourwatch.performance, with a CSV), the experts' trainings
(专家培训, seed 001 18: recorded with the experts who took part, removed with a reason;
rumourwatch.trainings), CSV import with a message per bad row, CSV export, the list published to the public in batches (专家库名单公布, seed 000 §(一)1: no
contact details; Word or CSV, recorded when downloaded; rumourwatch.publiclist), and taking an
expert out of (or back into) the pool. Admin only."""

import json
import tempfile
from datetime import timedelta
from pathlib import Path

import streamlit as st

from dashboard import data
from dashboard import workflow_ui as ui
from dashboard.auth import require_role
from dashboard.strings import t
from rumourwatch import experts, performance, publiclist, store, trainings
from rumourwatch.errors import RumourwatchError
from rumourwatch.records import CST

user = require_role("admin")
PERF_DAYS = [30, 90, 365]
path = ui.db_path()
st.title(t("pool.title"))
ui.flash()

roster = ui.call(path, store.list_experts)
loads = ui.call(path, store.expert_loads)
trained = ui.call(path, store.trained_experts)
away_now = ui.call(path, experts.unavailable_experts, data.now_utc(), 0)  # away at this moment
st.caption(t("pool.count", n=len(roster), active=sum(e["active"] for e in roster)))
ui.table([dict(e, specialties="、".join(json.loads(e["specialties"])), languages=experts.languages_text(e) or "—",
               load=loads.get(e["id"], 0), trained=trained.get(e["id"], {}).get("held_on") or "—",
               active_label=(t("no") if not e["active"] else
                             t("pool.away_until", until=data.to_china(away_now[e["id"]]["ends_at"], "%m-%d %H:%M"))
                             if e["id"] in away_now else t("yes"))) for e in roster],
         {"id": "#", "name": t("col.name"), "title": t("col.title_rank"), "institution": t("col.institution"),
          "specialties": t("col.specialties"), "languages": t("col.expert_languages"), "level": t("col.level"),
          "region": t("col.region"), "capacity": t("col.capacity"), "load": t("col.load"), "trained": t("pool.col.trained"), "phone": t("col.phone"),
          "email": t("col.email"), "active_label": t("col.active")}, key="roster_table")

st.download_button(t("pool.export"), ui.call(path, experts.export_roster).encode("utf-8"),
                   file_name="expert_roster.csv", mime="text/csv")

st.subheader(t("pool.perf"))
st.caption(t("pool.perf.caption"))
days = st.segmented_control(t("pool.perf.period"), PERF_DAYS, default=90, key="perf_days",
                            format_func=lambda d: t("pool.perf.days", n=d)) or 90
perf_start, perf_end = store.day_range(data.now_utc() - timedelta(days=days - 1), days)
perf = ui.call(path, performance.performance, perf_start, perf_end, data.draft_vocabulary())
if perf:
    ui.table([dict(r, flags_text="；".join(performance.FLAG_ZH[f] for f in r["flags"]),
                   last=data.to_china(r["last_accepted"]), active_label=t("yes") if r["active"] else t("no"))
              for r in perf],
             # the flags first: what an admin renewing the pool looks for, visible without scrolling
             {"name": t("col.name"), "flags_text": t("pool.perf.flags"), "institution": t("col.institution"),
              "level": t("col.level"), "offered": t("pool.perf.offered"), "accepted": t("pool.perf.accepted"),
              "declined": t("pool.perf.declined"), "lapsed": t("pool.perf.lapsed"),
              "published": t("pool.perf.published"), "on_time": t("pool.perf.on_time"),
              "clean": t("pool.perf.clean"), "common_warnings": t("pool.perf.common_warnings"),
              "returned": t("pool.perf.returned"), "reviewed": t("pool.perf.reviewed"),
              "accept_hours": t("pool.perf.accept_hours"), "last": t("pool.perf.last"),
              "away_days": t("pool.perf.away"), "media_accepted": t("pool.perf.media_accepted"),
              "media_completed": t("pool.perf.media_completed"), "trainings": t("pool.perf.trainings"),
              "active_label": t("col.active")}, key="perf_table")
    st.download_button(t("pool.perf.export"), performance.performance_csv(perf).encode("utf-8"),
                       file_name=f"专家履职情况_近{days}天.csv", mime="text/csv")
else:
    st.info(t("pool.perf.empty"))

# --- 专家培训: the experts' trainings (seed 001 18) ----------------------------------------------
st.subheader(t("etrain.title"))
st.caption(t("etrain.caption"))
now = data.now_utc()
today = now.astimezone(CST).date()
active = [e for e in roster if e["active"]]
if active:
    gen = st.session_state.get("etrain_form_gen", 0)
    with st.expander(t("etrain.new")), ui.action_form(f"etrain_form_{gen}"):
        c = st.columns([1, 3])
        day = c[0].date_input(t("train.day"), value=today, max_value=today, key=f"etrain_day_{gen}")
        title = c[1].text_input(t("train.title"), max_chars=trainings.TITLE_MAX, key=f"etrain_title_{gen}",
                                placeholder=t("etrain.title.placeholder"))
        chosen = st.multiselect(t("etrain.experts"), active, format_func=lambda e: f"{e['name']}（{e['institution']}）",
                                key=f"etrain_experts_{gen}")
        note = st.text_input(t("train.note"), max_chars=trainings.NOTE_MAX, key=f"etrain_note_{gen}",
                             help=t("train.note.help"))
        if st.form_submit_button(t("train.submit"), type="primary"):
            try:
                done = data.workflow(path, trainings.record, held_on=day, title=title, audience="experts",
                                     expert_ids=[e["id"] for e in chosen], actor=user["username"], now=now,
                                     note=note)
            except RumourwatchError as exc:
                ui.show_error(exc, "wf.error")
            else:
                st.session_state["etrain_form_gen"] = gen + 1
                st.session_state[ui.FLASH_KEY] = t("etrain.done", id=done["id"], day=done["held_on"],
                                                   n=done["experts"])
                st.rerun()
held = ui.call(path, store.list_trainings, audience="experts", limit=200)
if held:
    ui.table(held, {"id": "#", "held_on": t("train.col.day"), "title": t("train.col.title"),
                    "experts": t("etrain.col.experts"), "expert_names": t("etrain.col.names"),
                    "note": t("train.col.note"), "recorded_by": t("train.col.by")}, key="etrain_table")
    with st.expander(t("train.remove")), ui.action_form("etrain_remove"):
        c = st.columns([2, 2, 1], vertical_alignment="bottom")
        pick = c[0].selectbox(t("train.remove.pick"), held, key="etrain_remove_pick",
                              format_func=lambda r: f"#{r['id']} {r['held_on']} {r['title']}")
        reason = c[1].text_input(t("train.remove.reason"), max_chars=trainings.REASON_MAX, key="etrain_remove_reason")
        if c[2].form_submit_button(t("train.remove.submit")):
            ui.act(path, t("train.removed", id=pick["id"]), trainings.remove, pick["id"], reason=reason,
                   actor=user["username"], now=now)
else:
    st.info(t("etrain.empty"))

# --- 专家库名单公布: the list published to the public, in batches (seed 000 §(一)1) ---------------
st.subheader(t("plist.title"))
st.caption(t("plist.caption"))
last = ui.call(path, publiclist.last_published)
if last:
    st.caption(t("plist.last", at=data.to_china(last["at"]), n=last["count"]))
scope = st.radio(t("plist.scope"), ["all", "new", "since"] if last else ["all", "since"], horizontal=True,
                 format_func=lambda k: t(f"plist.scope.{k}"), key="plist_scope")
since = after = None
if scope == "since":
    since = st.date_input(t("plist.since"), value=today - timedelta(days=30), max_value=today,
                          key="plist_since").isoformat()
elif scope == "new":
    after = last["at"]
listed = ui.call(path, publiclist.public_list, since, after)
batch = since or (data.to_china(after, "%Y-%m-%d") if after else None)  # the day the batch starts, as printed


def published(fmt: str) -> None:
    """Record the list as published when it is downloaded (on_click: before the page runs again)."""
    data.workflow(path, publiclist.record_published, count=len(listed), since=batch, actor=user["username"],
                  now=data.now_utc(), fmt=fmt)


def listed_docx() -> bytes:
    """The list as Word, made when the button is pressed (from the rows shown)."""
    with tempfile.TemporaryDirectory() as tmp:
        return publiclist.list_docx(listed, Path(tmp) / "list.docx", data.now_utc(), batch).read_bytes()


if listed:
    ui.table([dict(r, n=i) for i, r in enumerate(listed, 1)],
             {"n": t("plist.col.n"), "name": t("col.name"), "title": t("col.title_rank"),
              "institution": t("col.institution"), "fields": t("col.specialties"), "level": t("col.level"),
              "region": t("col.region")}, key="plist_table")
    c = st.columns([1, 1, 3])
    stem = f"健康科普专家库专家名单_{today.isoformat()}"
    c[0].download_button(t("plist.word"), listed_docx, file_name=f"{stem}.docx", on_click=published,
                         args=("docx",), mime="application/vnd.openxmlformats-officedocument.wordprocessingml.document")
    c[1].download_button(t("plist.csv"), publiclist.list_csv(listed).encode("utf-8"), file_name=f"{stem}.csv",
                         mime="text/csv", on_click=published, args=("csv",))
else:
    st.info(t("plist.empty"))

st.subheader(t("pool.import"))
st.caption(t("pool.import.help"))
upload = st.file_uploader(t("pool.import"), type=["xlsx", "csv"], key="roster_upload", label_visibility="collapsed")
if upload is not None and st.button(t("pool.import.button"), type="primary"):
    try:
        report = data.workflow(path, experts.import_roster, upload.getvalue(), user["username"], data.now_utc(),
                               name=upload.name, max_mb=data.settings().max_upload_mb)
    except RumourwatchError as exc:  # not a CSV text file, or a bad header
        ui.show_error(exc, "wf.error")
    else:
        st.success(t("pool.import.result", created=report.created, updated=report.updated, errors=len(report.errors)))
        if report.errors:
            ui.rows_set_aside(t("pool.import.errors"), report.problems)

if roster:
    st.subheader(t("away.title"))
    st.caption(t("away.caption.all"))
    ui.absence_section(path, user["username"], data.now_utc(), roster=[e for e in roster if e["active"]])

    st.subheader(t("pool.toggle"))
    pick = st.selectbox(t("pool.toggle"), [e["id"] for e in roster], label_visibility="collapsed",
                        format_func=lambda i: next(f"#{e['id']} {e['name']}（{e['institution']}）" for e in roster
                                                   if e["id"] == i))
    if st.button(t("pool.toggle.button")):
        expert = next(e for e in roster if e["id"] == pick)

        def toggle(db):
            with store.transaction(db):
                store.set_expert_active(db, pick, not expert["active"], data.iso(data.now_utc()))
                store.record_audit(db, user["username"], "experts.activate" if not expert["active"] else
                                   "experts.deactivate", "expert", pick)
        ui.act(path, t("pool.toggle.button"), toggle)
