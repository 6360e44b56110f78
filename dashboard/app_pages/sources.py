"""数据源与质量: each source's checkpoint and last error, and the records set aside with their reasons;
an admin can make the worker read a source from the start (reset its checkpoint)."""

import json

import pandas as pd
import streamlit as st

from dashboard import auth as dashboard_auth
from dashboard import data, ui
from dashboard import workflow_ui as wf
from dashboard.strings import t
from rumourwatch import selfcheck, source_config, worker
from rumourwatch.errors import RumourwatchError
from rumourwatch.records import parse_time
from rumourwatch.sources.base import reset_command

st.title(t("sources.title"))

settings = ui.page_settings()
path = settings.db_path
st.caption(t("db_path", path=ui.escape_md(path)))

ui.require_database(path)
wf.flash()

REJECT_LIMIT = 200


def stored_reason(key: str | None, params: str | None, markdown: bool = True) -> str | None:
    """The Chinese text of an error's key and JSON params as the worker stored them; None when it
    stored none (a row from before it kept them) or they cannot be read."""
    if key:
        try:
            return wf.explain(key, json.loads(params or "{}"), markdown)
        except (KeyError, ValueError):  # a key this dashboard has no text for, or damaged params
            pass
    return None


def source_error(status: dict, markdown: bool = True) -> str:
    """What a source's last failure means and what to do, in Chinese (its SourceError's key and
    params, kept by the worker); a failure recorded without them points to the technical detail."""
    return (stored_reason(status.get("last_error_key"), status.get("last_error_params"), markdown)
            or t("sources.error_unexplained"))


def reject_reason(reject: dict) -> str:
    """Why a record was set aside, in Chinese (its RecordError's key and params); a reject stored
    without them keeps its English reason, labelled as such. For a dataframe cell (not Markdown)."""
    return (stored_reason(reject.get("reason_key"), reject.get("reason_params"), markdown=False)
            or t("sources.reject.english", reason=reject["reason"]))


@st.fragment(run_every=max(1, int(settings.dashboard_refresh_seconds)))
def sources_panel() -> None:
    dashboard_auth.rerun_if_session_ended()
    with ui.friendly_errors():
        judged = data.source_health(path)
        status = [row for row, _ in judged]
        total_rejects = data.count_rejects(path)
        failing = [row for row, h in judged if row.get("last_error") and not h.get("stopped")]
        stalled = [h for _, h in judged if h["state"] in worker.STALLED]
        # not read for a week; those stopped in the sources file say so in their own row
        retired = [row["source"] for row, h in judged if h["state"] == "retired" and not h.get("stopped")]

        cols = st.columns(5)
        cols[0].metric(t("sources.metric.sources"), f"{len(status):,}", border=True)
        cols[1].metric(t("sources.metric.errors"), f"{len(failing):,}", border=True)
        cols[2].metric(t("sources.metric.stalled"), f"{len(stalled):,}", border=True,
                       help=t("sources.metric.stalled.help", hours=settings.source_quiet_hours))
        cols[3].metric(t("sources.metric.items"), f"{data.count_items(path):,}", border=True)
        cols[4].metric(t("sources.metric.rejects"), f"{total_rejects:,}", border=True)

        st.subheader(t("sources.status"))
        ui.source_warnings(judged)
        if retired:
            st.info(t("sources.retired_note", sources="、".join(ui.escape_md(s) for s in retired)))
        for s in failing:
            # Source names and error texts come from files and feeds: escaped, never Markdown.
            st.warning(t("sources.error_banner", source=ui.escape_md(s["source"]),
                         at=data.to_china(s.get("last_error_at")) or "", reason=source_error(s)),
                       icon=":material/error:")
            wf.technical_detail(s["last_error"], t("sources.error_technical", source=ui.escape_md(s["source"])))
        if status:
            frame = pd.DataFrame([{
                t("col.source"): s["source"], t("col.state"): ui.source_state_label(h),
                t("col.last_item"): data.to_china(s.get("last_item_at")) or "",
                t("col.polled"): data.to_china(s.get("polled_at")) or "",
                t("col.position"): s.get("position") or "",
                t("col.updated"): data.to_china(s.get("updated_at")) or "", t("col.items_seen"): s.get("items_seen") or 0,
                t("col.last_error"): source_error(s, markdown=False) if s.get("last_error") else "",
                t("col.last_error_at"): data.to_china(s.get("last_error_at")) or "",
            } for s, h in judged])
            st.dataframe(frame, hide_index=True, width="stretch")
        else:
            st.info(t("sources.status.empty"))

        st.subheader(t("sources.rejects"))
        rows = data.rejects(path, REJECT_LIMIT)
        if not rows:
            st.info(t("sources.rejects.empty"))
            return
        st.caption(t("sources.rejects.caption", n=len(rows), total=total_rejects))
        frame = pd.DataFrame([{
            t("col.id"): r["id"], t("col.recorded"): data.to_china(r.get("created_at")), t("col.source"): r["source"],
            t("col.origin"): " ".join(x for x in (r.get("origin"), r.get("position")) if x),
            t("col.reason"): reject_reason(r), t("col.raw"): ui.one_line(r.get("raw"), 160),
        } for r in rows])
        event = st.dataframe(frame, hide_index=True, width="stretch", key="rejects",
                             on_select="rerun", selection_mode="single-row",
                             column_config={t("col.id"): st.column_config.NumberColumn(format="%d", width="small"),
                                            t("col.reason"): st.column_config.TextColumn(width="large"),
                                            t("col.raw"): st.column_config.TextColumn(width="medium")})
        picked = event.selection.rows if event is not None else []
        chosen = rows[picked[0]] if picked else rows[0]
        st.markdown(f"**{t('sources.reject.raw', id=chosen['id'])}**")
        st.code(chosen.get("raw") or "", language=None, wrap_lines=True)
        wf.technical_detail(chosen["reason"], t("sources.reject.technical"))


def reset_panel(user: dict) -> None:
    """Reset a source's checkpoint, the remedy some source errors name, after a confirmation; the
    same as `rumourwatch sources reset-checkpoint NAME`, audited with the admin's name."""
    st.subheader(t("sources.reset"))
    with ui.friendly_errors():
        status = data.source_status(path)
    if not status:
        st.info(t("sources.status.empty"))
        return
    names = [s["source"] for s in status]
    failing = next((i for i, s in enumerate(status) if s.get("last_error")), 0)
    name = st.selectbox(t("sources.reset.pick"), names, index=failing, key="reset_source")
    chosen = status[names.index(name)]
    st.caption(t("sources.reset.help", position=ui.escape_md(chosen.get("position") or t("sources.reset.start")),
                 command=ui.escape_md(reset_command(name))))
    sure = st.checkbox(t("sources.reset.confirm", source=ui.escape_md(name)), key=f"reset_sure_{name}")
    if st.button(t("sources.reset.button"), disabled=not sure, key="reset_go"):
        wf.act(path, t("sources.reset.done", source=name), worker.reset_checkpoint, name, user["username"])



def retention_panel() -> None:
    """数据保留期限: the period set, and whether `rumourwatch retention --apply` keeps to it (a
    policy nobody runs removes nothing)."""
    st.subheader(t("sources.retention"))
    days = settings.retention_days
    if not days:
        st.info(t("sources.retention.off"))
        return
    with ui.friendly_errors():
        last = data.last_retention_run(path)
    if last is None:
        st.warning(t("sources.retention.never", days=days), icon=":material/warning:")
        return
    d = last["details"]
    said = t("sources.retention.last", days=days, at=data.to_china(last["at"]), actor=ui.escape_md(last["actor"]),
             reactors=f"{d.get('reactor_ids', 0):,}", rejects=f"{d.get('rejects', 0):,}",
             sessions=f"{d.get('sessions', 0):,}")
    if data.now_utc() - parse_time(last["at"]) > selfcheck.RETENTION_LATE:
        st.warning(said + t("sources.retention.late"), icon=":material/warning:")
    else:
        st.success(said, icon=":material/verified_user:")


KIND_LABEL = {"feed": "sources.cfg.kind.feed", "api": "sources.cfg.kind.api", "drop": "sources.cfg.kind.drop",
              "file": "sources.cfg.kind.file"}


def config_panel(user: dict) -> None:
    """数据源配置: the sources the worker reads from the sources file (rumourwatch.source_config), added,
    tried, stopped and removed here without restarting it; each change audited."""
    st.subheader(t("sources.cfg"))
    file = settings.sources_file
    st.caption(t("sources.cfg.caption", path=ui.escape_md(file)))
    try:
        entries = source_config.load(file)
    except RumourwatchError as exc:
        wf.show_error(exc)
        return
    if entries:
        st.dataframe(pd.DataFrame([{
            t("sources.cfg.col.kind"): t(KIND_LABEL[e.kind]), t("sources.cfg.col.target"): e.target,
            t("sources.cfg.col.platform"): e.platform or t("sources.cfg.platform.own"),
            t("sources.cfg.col.note"): e.note,
            t("sources.cfg.col.state"): t("sources.cfg.on") if e.enabled else t("sources.cfg.off"),
        } for e in entries]), hide_index=True, width="stretch")
        with st.container(horizontal=True, vertical_alignment="bottom"):
            spec = st.selectbox(t("sources.cfg.pick"), [e.spec for e in entries], key="cfg_pick", width=420)
            chosen = next(e for e in entries if e.spec == spec)
            if chosen.enabled and st.button(t("sources.cfg.disable"), key="cfg_disable"):
                wf.act(path, t("sources.cfg.disabled", spec=spec), source_config.set_enabled, file, spec, False,
                       user["username"], data.now_utc())
            if not chosen.enabled and st.button(t("sources.cfg.enable"), key="cfg_enable"):
                wf.act(path, t("sources.cfg.enabled", spec=spec), source_config.set_enabled, file, spec, True,
                       user["username"], data.now_utc())
            sure = st.checkbox(t("sources.cfg.remove.confirm"), key=f"cfg_sure_{spec}")
            if st.button(t("sources.cfg.remove"), disabled=not sure, key="cfg_remove"):
                wf.act(path, t("sources.cfg.removed", spec=spec), source_config.remove, file, spec,
                       user["username"], data.now_utc())
    else:
        st.info(t("sources.cfg.empty"))
    with st.expander(t("sources.cfg.add"), expanded=not entries):
        kind = st.selectbox(t("sources.cfg.col.kind"), list(KIND_LABEL), format_func=lambda k: t(KIND_LABEL[k]),
                            key="cfg_kind")
        target = st.text_input(t(f"sources.cfg.target.{kind}"), key="cfg_target",
                               placeholder=t(f"sources.cfg.placeholder.{kind}"))
        platform = st.selectbox(t("sources.cfg.col.platform"), ["", *source_config.PLATFORMS],
                                format_func=lambda p: p or t("sources.cfg.platform.own"), key="cfg_platform")
        note = st.text_input(t("sources.cfg.col.note"), key="cfg_note", max_chars=200)
        spec = f"{kind}:{target.strip()}"
        with st.container(horizontal=True):
            tried = st.button(t("sources.cfg.try"), key="cfg_try", disabled=not target.strip())
            added = st.button(t("sources.cfg.add.button"), key="cfg_add", type="primary", disabled=not target.strip())
        if tried:
            try:
                with st.spinner(t("sources.cfg.trying")):
                    _, shown = source_config.preview(spec, settings, platform)
            except RumourwatchError as exc:
                wf.show_error(exc)
            else:
                items = [r for r in shown if r["kind"] == "item"]
                st.caption(t("sources.cfg.tried", n=len(shown), items=len(items), aside=len(shown) - len(items)))
                if shown:
                    st.dataframe(pd.DataFrame([{
                        t("col.platform"): r.get("platform", ""), t("col.account"): r.get("account") or r.get("author"),
                        t("col.published"): data.to_china(r.get("published_at")) if r.get("published_at") else "",
                        t("col.text"): ui.one_line(r.get("text") or "", 120) if r["kind"] != "set aside" else "",
                        t("sources.cfg.col.aside"): r.get("reason", ""),
                    } for r in shown]), hide_index=True, width="stretch")
        if added:
            wf.act(path, t("sources.cfg.added", spec=spec), source_config.add, file, spec, user["username"],
                   data.now_utc(), platform=platform, note=note, settings=settings)


with st.spinner(t("loading")):
    sources_panel()
if dashboard_auth.can("sources.manage"):
    config_panel(dashboard_auth.current_user())
    reset_panel(dashboard_auth.current_user())
    retention_panel()
