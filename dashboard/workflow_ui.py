"""Shared bits of the response-workflow pages (预警, 专家工作台, 专家库, 关注名单, 预警规则):
opening the store, running an action with a Chinese success/error message, label helpers.
Scraped text is shown with st.text or in dataframes only, never as Markdown or HTML."""

from __future__ import annotations

import json
import re

import pandas as pd
import streamlit as st

from dashboard import data
from dashboard.strings import t
from rumourwatch import draftcheck, ledger, store
from rumourwatch.alerts import WorkflowError
from rumourwatch.auth import AuthError
from rumourwatch.errors import ConfigError, RumourwatchError
from rumourwatch.search import SearchError
from rumourwatch.uploads import UploadError

FLASH_KEY = "wf_flash"


def fill_form_once(prefix: str, source: str, values: dict) -> bool:
    """Fill the form whose widgets are keyed `<prefix>_<field>_<generation>` with `values` (field →
    value) once for what the address asked, `source` naming where from: a new form generation
    (`<prefix>_form_gen`), so what is typed after stays on the next runs. True when it filled now."""
    asked = tuple(values.values())
    marker = f"{prefix}_from_{source}"
    if st.session_state.get(marker) == asked:
        return False
    gen = st.session_state.get(f"{prefix}_form_gen", 0) + 1
    st.session_state.update({marker: asked, f"{prefix}_form_gen": gen,
                             **{f"{prefix}_{field}_{gen}": value for field, value in values.items()}})
    return True


def span_picker(prefix: str, spans: dict[str, int | None], default: str) -> tuple:
    """A page's span: the last N days (the keys of `spans` other than "custom", each its N) or a range
    picked (`custom`), as strings `<prefix>.span`, `<prefix>.span.<key>` and `<prefix>.range` name them,
    keyed `<prefix>_span` and `<prefix>_range`; (first, last) China days. The page stops while a
    range has its first day only."""
    from datetime import timedelta

    today = data.china_today()
    cols = st.columns([2, 3])
    span = cols[0].segmented_control(t(f"{prefix}.span"), list(spans), default=default, key=f"{prefix}_span",
                                     format_func=lambda k: t(f"{prefix}.span.{k}"))
    if span == "custom":
        days = picked_days(cols[1].date_input(t(f"{prefix}.range"), key=f"{prefix}_range",
                                              value=(today - timedelta(days=spans[default] - 1), today)))
        if len(days) < 2:
            st.stop()
        return tuple(sorted(days))
    return today - timedelta(days=spans[span or default] - 1), today


def picked_days(value) -> list:
    """The days a date_input range holds so far (none, the first, or first and last); with fewer
    than two it says the last is still to be chosen (the user has clicked only the first)."""
    picked = [d for d in (value if isinstance(value, (tuple, list)) else [value]) if d]
    if len(picked) < 2:
        st.info(t("filters.custom_incomplete"))
    return picked


def db_path() -> str:
    try:
        path = data.settings().db_path
    except ConfigError as exc:
        show_error(exc)
        st.stop()
    if not data.database_exists(path):
        st.info(t("wf.no_database", path=path))
        st.stop()
    return path


def call(path: str, fn, *args, **kwargs):
    """Run a read; a domain error becomes st.error and stops the page."""
    try:
        return data.workflow(path, fn, *args, **kwargs)
    except RumourwatchError as exc:
        show_error(exc, "wf.error")
        st.stop()


def action_form(key: str, where=st):
    """A form for an action and the text it needs (a reason, a note, a draft): the text travels
    with the press (outside a form, a value typed just before a click could reach the script after
    it). Enter does not submit, so a stray Enter never declines, dismisses or publishes.
    `where`: a column to draw it in."""
    return where.form(key, border=False, enter_to_submit=False)


def act(path: str, what: str, fn, *args, **kwargs):
    """Run a workflow action; on success remember a message and rerun, on a domain error say why."""
    try:
        result = data.workflow(path, fn, *args, **kwargs)
    except RumourwatchError as exc:
        show_error(exc, "wf.error")
        return None
    st.session_state[FLASH_KEY] = t("wf.done", what=what)
    st.rerun()
    return result


# a param named here is a code shown by its Chinese label (prefix for `label`)
PARAM_LABELS = {"alert_status": "alert.status", "assign_status": "assign.status", "clar_status": "clar.status",
                "takedown_status": "wl.takedown.status", "step": "step", "role": "role", "kind": "setting.kind",
                "json_type": "json.type", "list": "record.list", "field": "record.field",
                "media_status": "media.status", "media_field": "media.field", "submission_status": "sub.status", "referral_status": "ref.status",
                "submission_field": "sub.what", "training_field": "train.what",
                "press_field": "press.what", "day_field": "days.what",
                "assessment_field": "assess.what", "ownmedia_field": "om.what"}
# refused on purpose, their message says all: no technical detail under them
USER_REFUSALS = (WorkflowError, AuthError, UploadError, SearchError)
_ROW_RULE = re.compile(r"([\w.]+)\[(\d+)\](?:\.(\w+))?")  # 'rumour.levels[1].min_reach'


def rows_set_aside(heading: str, problems) -> None:
    """The rows of an imported file that were set aside, each (line in the file, its problems) with
    every problem said in Chinese, under `heading`."""
    st.warning(heading)
    st.markdown("\n".join("- " + t("import.row", row=line, problems="".join(map(refusal, found)))
                           for line, found in problems))


def refusal(exc: RumourwatchError) -> str:
    """Why the core refused or failed, for the user, escaped for Markdown: the error's `wferr.<key>`
    text with its specifics (`explain`), an upload's Chinese reason, else what an error of its kind
    means and what to do (`error.kind.<class>`)."""
    key = getattr(exc, "key", None)
    if key is not None:
        return explain(key, exc.params)
    if getattr(exc, "zh", None):
        return escape(exc.zh)
    for kind in type(exc).__mro__:
        try:
            return t(f"error.kind.{kind.__name__}")
        except KeyError:
            continue
    return t("error.kind.RumourwatchError")


def explain(key: str, params: dict, markdown: bool = True) -> str:
    """strings.py `wferr.<key>` formatted with `params`: statuses, steps and the like by their Chinese
    names, alert rules by their names on the 预警规则 page, times in China time, a nested reason
    (RecordError.as_reason) explained in turn; escaped for Markdown unless `markdown` is False (a
    dataframe cell shows text as it is)."""
    values = {}
    for name, value in params.items():
        if isinstance(value, dict) and "key" in value:
            values[name] = explain(value["key"], value.get("params") or {}, markdown)
            continue
        if name in PARAM_LABELS:
            value = label(PARAM_LABELS[name], value)
        elif name == "rule":
            value = rule_label(value)
        elif name in ("at", "until"):
            value = data.to_china(value)
        values[name] = escape(value) if markdown else str(value)
    return t(f"wferr.{key}", **values)


def rule_label(rule: str) -> str:
    """An alert rule's name as the 预警规则 page calls it: 'notify.quiet_hours' → '免打扰时段',
    'rumour.levels[1].min_reach' → '分级传播阈值第 2 行的最少传播量'; a rule without a Chinese name
    (one set in the rules file only) as it is written there."""
    row = _ROW_RULE.fullmatch(rule)
    if not row:
        return label("rules.name", rule)
    name, n, field = row.group(1), int(row.group(2)) + 1, row.group(3)
    text = t("rules.name.row", name=label("rules.name", name), n=n)
    return t("rules.name.row_field", row=text, field=label(f"rules.field.{name}", field)) if field else text


def show_error(exc: RumourwatchError, template: str | None = None) -> None:
    """Say in Chinese what went wrong and what to do (`refusal`, inside `template`'s {detail} when
    given). An error of the system, not a refused action, keeps its English text below under
    技术细节, for whoever runs the server: nothing of it is lost."""
    text = refusal(exc)
    st.error(t(template, detail=text) if template else text)
    if not isinstance(exc, USER_REFUSALS) and str(exc):
        technical_detail(str(exc))


def technical_detail(text: str, title: str | None = None) -> None:
    """Text for whoever runs the server (an English error, a log), folded away and shown as typed."""
    with st.expander(title or t("error.technical")):
        st.code(text, language=None, wrap_lines=True)


def verdict_form(path: str, item_id: int, actor: str, key: str, alert_id: int | None = None,
                 help_text: str | None = None) -> None:
    """The verdict on an item (from an alert's page or workbench task: `alert_id`, or from the item
    view). No choice is made up front, so a rumour verdict is never saved by accident; saving
    without one says so (the core says what else is missing)."""
    from rumourwatch import experts

    with action_form(f"{key}_form"):
        verdict = st.radio(t("wb.verdict.choice", id=item_id), list(experts.VERDICTS), index=None,
                           format_func=lambda v: t(f"verdict.{v}"), horizontal=True, key=key)
        why = st.text_input(t("wb.verdict.reason", id=item_id), key=f"{key}_reason")
        if help_text:
            st.caption(help_text)
        if st.form_submit_button(t("wb.verdict.save", id=item_id), key=f"{key}_save"):
            if verdict is None:
                st.error(t("wf.error", detail=t("wb.verdict.need_choice")))
            else:
                act(path, t("wb.verdict.save", id=item_id), experts.record_verdict, item_id, verdict, why, actor,
                    data.now_utc(), alert_id)


def item_text(path: str, item: dict | None, limit: int) -> str | None:
    """An alert's item as plain text (its first `limit` characters) and, for a post in a script the
    reader may not read (Mongolian, Tibetan, Uyghur), the Chinese gist of its latest human reading,
    which is returned (None without one)."""
    st.text(item["text"][:limit] if item else "")
    gist = call(path, store.latest_gists, [item["id"]]).get(item["id"]) if item else None
    if gist:
        st.caption(t("wb.item_gist"))
        st.text(gist)
    return gist


def flash() -> None:
    message = st.session_state.pop(FLASH_KEY, None)
    if message:
        st.success(message)


def rules() -> dict:
    try:
        return data.workflow_rules()
    except ConfigError as exc:
        show_error(exc)
        st.stop()


def label(prefix: str, value) -> str:
    key = f"{prefix}.{value}"
    try:
        return t(key)
    except KeyError:
        return str(value)


def table(rows: list[dict], columns: dict[str, str], key: str | None = None, pick: str | None = None,
          bars: dict[str, str] | None = None):
    """Rows as a dataframe with Chinese headers; every cell is plain text, except the `bars` columns
    (field → header, after the others), whose cells are lists of counts drawn as small bar charts.
    With `pick` (a field of the rows) a row can be selected: returns that row's `pick` value, else None."""
    bars = bars or {}
    frame = pd.DataFrame([{title: ("" if r.get(col) is None else str(r.get(col))) for col, title in columns.items()}
                          | {title: list(r.get(col) or []) for col, title in bars.items()}
                          for r in rows], columns=[*columns.values(), *bars.values()])
    config = {title: st.column_config.BarChartColumn(title, y_min=0) for title in bars.values()}
    if pick is None:
        st.dataframe(frame, hide_index=True, width="stretch", key=key, column_config=config)
        return None
    event = st.dataframe(frame, hide_index=True, width="stretch", key=key, on_select="rerun",
                         selection_mode="single-row", column_config=config)
    selected = getattr(getattr(event, "selection", None), "rows", None)
    return rows[selected[0]].get(pick) if selected and selected[0] < len(rows) else None


def reasons_text(rules_json: str | None) -> str:
    return "；".join(r["reason"] for r in json.loads(rules_json or "[]"))


def escape(text) -> str:
    """Data placed inside a Markdown label is escaped so it shows as typed."""
    from dashboard.ui import escape_md

    return escape_md(text)


def actor_label(actor: str | None) -> str:
    """Who did a step: a user's name as it is (names cannot hold ':'), the software's own steps as
    系统, with what it did when it says so: 'system:reassign' → '系统（自动改派）'."""
    base, _, detail = (actor or "").partition(":")
    if base != "system":
        return actor or ""
    try:
        return t("actor.system.detail", detail=t(f"actor.system.{detail}")) if detail else t("actor.system")
    except KeyError:  # a detail with no Chinese name yet: still the software, not a person
        return t("actor.system")


def step_label(step: str) -> str:
    """'escalated:respond_by' → '超时督办（信息发布时限）' and the like, in Chinese (the ledger's and
    the special report's words)."""
    return ledger.step_text(step)


CHECK_ICONS = {draftcheck.WARN: ":orange[:material/warning:]", draftcheck.OK: ":green[:material/check_circle:]",
               draftcheck.UNCHECKED: ":gray[:material/remove_circle:]"}


def self_check(path: str, clarification: dict, reviewer: str | None = None) -> None:
    """稿件自查 of a stored clarification (draftcheck), warnings first; with `reviewer`, whether the
    reviewer is of the field too. Open when it warns."""
    checks = call(path, draftcheck.clarification_checks, clarification, vocab=data.draft_vocabulary(),
                  reviewer=reviewer)
    warned = draftcheck.warnings(checks)
    title = t("check.title.warn", n=len(warned)) if warned else t("check.title.ok", n=len(checks))
    with st.expander(title, expanded=bool(warned), icon=":material/fact_check:"):
        st.caption(t("check.caption"))
        for c in draftcheck.ordered(checks):
            st.markdown(f"{CHECK_ICONS[c.status]} {escape(c.text)}")


def absence_section(path: str, actor: str, now, expert_id: int | None = None, roster: list[dict] | None = None) -> None:
    """不可用时段 (experts.add_absence): the current and planned absences with a button to remove
    each, and a form to add one — the expert's own on the workbench (`expert_id`), anyone's on 专家库
    (`roster`: the form picks the expert). An absence that meets tasks already accepted or offered
    says so: someone must finish them or have them reassigned."""
    from datetime import datetime, timedelta

    from rumourwatch import experts
    from rumourwatch.records import CST

    own = expert_id is not None
    rows = call(path, experts.absences, now, expert_id)
    if rows:
        table([dict(a, start=data.to_china(a["starts_at"], "%m-%d %H:%M"), end=data.to_china(a["ends_at"], "%m-%d %H:%M"),
                    current=t("yes") if a["starts_at"] <= data.iso(now) else "") for a in rows],
              {"id": "#", **({} if own else {"expert_name": t("col.name")}), "start": t("away.col.start"),
               "end": t("away.col.end"), "current": t("away.col.current"), "reason": t("away.col.reason")},
              key=f"away_table_{'own' if own else 'all'}")
        with action_form(f"away_remove_{'own' if own else 'all'}"):
            c = st.columns([2, 1], vertical_alignment="bottom")
            pick = c[0].selectbox(t("away.remove.pick"), [a["id"] for a in rows], key="away_remove_pick",
                                  format_func=lambda i: next(
                                      f"#{a['id']} {'' if own else a['expert_name'] + ' '}"
                                      f"{data.to_china(a['starts_at'], '%m-%d %H:%M')} – "
                                      f"{data.to_china(a['ends_at'], '%m-%d %H:%M')}" for a in rows if a["id"] == i))
            if c[1].form_submit_button(t("away.remove")):
                act(path, t("away.remove"), experts.remove_absence, pick, actor, data.now_utc(),
                    actor_expert_id=expert_id)
    else:
        st.caption(t("away.none"))

    local = now.astimezone(CST)
    start_default = local.replace(minute=0, second=0, microsecond=0)
    end_default = (start_default + timedelta(days=1)).replace(hour=8)
    gen = st.session_state.get("away_form_gen", 0)  # an absence added empties the form
    with action_form(f"away_form_{gen}"):
        who = expert_id
        if not own:
            who = st.selectbox(t("away.expert"), [e["id"] for e in roster or []], key=f"away_expert_{gen}",
                               format_func=lambda i: next(f"#{e['id']} {e['name']}（{e['institution']}）"
                                                          for e in roster if e["id"] == i))
        c = st.columns(4)
        day0 = c[0].date_input(t("away.from_day"), value=start_default.date(), key=f"away_d0_{gen}")
        time0 = c[1].time_input(t("away.from_time"), value=start_default.time(), key=f"away_t0_{gen}",
                                step=timedelta(minutes=30))
        day1 = c[2].date_input(t("away.to_day"), value=end_default.date(), key=f"away_d1_{gen}")
        time1 = c[3].time_input(t("away.to_time"), value=end_default.time(), key=f"away_t1_{gen}",
                                step=timedelta(minutes=30))
        reason = st.text_input(t("away.reason"), key=f"away_reason_{gen}", max_chars=experts.ABSENCE_REASON_MAX,
                               placeholder=t("away.reason.placeholder"))
        if st.form_submit_button(t("away.submit"), type="primary") and who is not None:
            try:
                done = data.workflow(path, experts.add_absence, who, datetime.combine(day0, time0, tzinfo=CST),
                                     datetime.combine(day1, time1, tzinfo=CST), reason, actor, data.now_utc(),
                                     actor_expert_id=expert_id)
            except RumourwatchError as exc:
                show_error(exc, "wf.error")
            else:
                st.session_state["away_form_gen"] = gen + 1
                message = t("away.done")
                if done["passed_on"]:
                    message += t("away.done.passed_on", n=len(done["passed_on"]),
                                 alerts="、".join(f"#{x['alert_id']}" for x in done["passed_on"]))
                if done["open_tasks"]:
                    message += t("away.done.tasks", n=len(done["open_tasks"]),
                                 alerts="、".join(f"#{x['alert_id']}" for x in done["open_tasks"]))
                st.session_state[FLASH_KEY] = message
                st.rerun()
