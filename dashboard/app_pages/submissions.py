"""信息报送 (seed 002 §四(四)): each unit reports at least its monthly minimum of information, and the
monthly notice ranks the units (rumourwatch.submissions, rumourwatch.reports).

A unit's correspondent (通讯员) sees their unit's month against the minimum, submits, follows what the
office did with each piece, and withdraws one sent by mistake. The office (monitors, administrators)
adopts or declines what waits, sees every unit's month, records a piece a unit sent by mail, and
records the correspondents' trainings (原则上每半年开展一次: rumourwatch.trainings)."""

from datetime import date, datetime, time, timedelta

import streamlit as st

from dashboard import data
from dashboard import workflow_ui as ui
from dashboard.auth import can, may_open, require_role
from dashboard.strings import t
from dashboard.ui import debunked_label, escape_md, nav_key, open_item, probability_text
from rumourwatch import auth as core_auth
from rumourwatch import referrals, reports, store, submissions, trainings
from rumourwatch.errors import RumourwatchError
from rumourwatch.records import CST

user = require_role("correspondent", "monitor", "admin")
path = ui.db_path()
st.title(t("sub.title"))
ui.flash()
now = data.now_utc()
month = submissions.current_month(now)
office = can("submissions.review", user)
minimum = reports.DEFAULT_UNIT_MONTHLY_MINIMUM


def kind_label(kind: str) -> str:
    return t(f"sub.kind.{kind}")


def status_label(status: str) -> str:
    return t(f"sub.status.{status}")


def act(fn, done: str, *args, **kwargs) -> None:
    """Run a submission step; say why it was refused, or rerun with `done` shown."""
    try:
        data.workflow(path, fn, *args, **kwargs)
    except RumourwatchError as exc:
        ui.show_error(exc, "wf.error")
    else:
        st.session_state[ui.FLASH_KEY] = done
        st.rerun()


def submit_form(units: list[dict]) -> None:
    """The form a correspondent (their unit) or the office (any unit, for a piece sent by mail) fills.
    A submitted piece empties the form (its widgets drawn anew under the next generation's keys)."""
    gen = st.session_state.get("sub_form_gen", 0)
    today = now.astimezone(CST).date()
    with ui.action_form(f"sub_form_{gen}"):
        c = st.columns([1, 1, 1] if len(units) > 1 else [1, 2])
        unit = units[0]
        if len(units) > 1:
            unit = c[2].selectbox(t("sub.unit"), units, format_func=lambda u: u["name"], key=f"sub_unit_{gen}")
        kind = c[0].selectbox(t("sub.kind"), list(submissions.KINDS), format_func=kind_label,
                              key=f"sub_kind_{gen}", help=t("sub.kind.help"))
        day = c[1].date_input(t("sub.occurred"), value=today, max_value=today, key=f"sub_day_{gen}",
                              help=t("sub.occurred.help"))
        title = st.text_input(t("sub.field.title"), max_chars=submissions.TITLE_MAX, key=f"sub_title_{gen}")
        content = st.text_area(t("sub.field.content"), max_chars=submissions.CONTENT_MAX, height=160,
                               key=f"sub_content_{gen}", help=t("sub.content.help"))
        c = st.columns([1, 2])
        platform = c[0].text_input(t("sub.platform"), key=f"sub_platform_{gen}", help=t("sub.platform.help"))
        url = c[1].text_input(t("sub.url"), key=f"sub_url_{gen}", placeholder="https://")
        if st.form_submit_button(t("sub.submit"), type="primary"):
            occurred = datetime.combine(day, time(12, 0), tzinfo=CST) if day != today else None
            try:
                done = data.workflow(path, submissions.submit, unit_id=unit["id"], kind=kind, title=title,
                                     content=content, actor=user["username"], now=now, url=url,
                                     platform=platform, occurred_at=occurred)
            except RumourwatchError as exc:
                ui.show_error(exc, "wf.error")
            else:
                st.session_state["sub_form_gen"] = gen + 1
                st.session_state[ui.FLASH_KEY] = t("sub.done" if done["item_id"] is None else "sub.done.item",
                                                   id=done["id"], unit=done["unit_name"], item=done["item_id"])
                st.rerun()


def rows_table(rows: list[dict], key: str, with_unit: bool) -> None:
    """Submissions as a table; a 舆情信息 row opens its item for whoever may open items."""
    clickable = may_open("item", user)
    columns = {"id": "#", "at": t("sub.col.submitted"), "unit_name": t("sub.unit"), "kind_label": t("sub.kind"),
               "title": t("sub.field.title"), "status_label": t("sub.col.status"),
               "adopted_in": t("sub.col.adopted_in"), "decision_note": t("sub.col.note"),
               "probability": t("col.probability"), "debunked": t("col.debunked"),
               "submitted_by": t("sub.col.by")}
    if not with_unit:
        columns.pop("unit_name")
    picked = ui.table([dict(r, at=data.to_china(r["submitted_at"]), kind_label=kind_label(r["kind"]),
                            status_label=status_label(r["status"]),
                            probability=probability_text(r) if r["item_id"] else None,
                            debunked=debunked_label(r) if r["item_id"] else None) for r in rows],
                      columns, key=nav_key(key), pick="item_id" if clickable else None)
    if picked not in (None, "") and clickable:
        open_item(int(picked))


def month_choice(key: str) -> str:
    """This month or one of the eleven before it."""
    first = date.fromisoformat(month + "-01")
    months = []
    for _ in range(12):
        months.append(first.strftime("%Y-%m"))
        first = (first - timedelta(days=1)).replace(day=1)
    return st.selectbox(t("sub.month"), months, key=key, format_func=lambda m: t("sub.month.label",
                                                                               y=m[:4], m=int(m[5:])))


def unit_referrals(unit: dict) -> None:
    """交办事项: the alerts the office referred to this unit, those awaiting its reply first, each with
    the story's text (a correspondent has no item page) and the form to reply."""
    rows = ui.call(path, store.list_referrals, unit_id=unit["id"], limit=200)
    waiting = [r for r in rows if r["status"] == "referred"]
    st.subheader(t("ref.unit.title"))
    st.caption(t("ref.unit.caption"))
    if not waiting:
        st.info(t("ref.unit.none"))
    for r in waiting:
        with st.container(border=True):
            st.markdown(t("ref.unit.head", id=r["id"], alert=r["alert_id"], severity=r["alert_severity"],
                          at=data.to_china(r["referred_at"]), due=data.to_china(r["due_at"])))
            if referrals.state(r, now) == "overdue":
                st.error(t("ref.unit.overdue"))
            st.markdown(f"**{escape_md(r['alert_title'] or '')}**")
            st.text(r["request"])
            item = ui.call(path, store.get_item, r["alert_item_id"]) if r["alert_item_id"] else None
            if item:
                st.caption(t("ref.unit.story"))
                st.text(item["text"][:600])
            with ui.action_form(f"ref_reply_{r['id']}"):
                text = st.text_area(t("ref.unit.reply"), key=f"ref_reply_text_{r['id']}",
                                    max_chars=referrals.REPLY_MAX, help=t("ref.unit.reply.help"))
                if st.form_submit_button(t("ref.unit.submit"), type="primary"):
                    act(referrals.reply, t("ref.unit.done", id=r["id"]), r["id"], text, actor=user["username"],
                        now=now, unit_id=unit["id"])
    done = [r for r in rows if r["status"] != "referred"]
    if done:
        with st.expander(t("ref.unit.past", n=len(done))):
            ui.table([dict(r, at_cn=data.to_china(r["referred_at"]), due=data.to_china(r["due_at"]),
                           state=t(f"ref.state.{referrals.state(r, now)}"), replied=data.to_china(r["replied_at"]) or "")
                      for r in done],
                     {"id": "#", "alert_title": t("ref.col.alert"), "at_cn": t("ref.col.referred"),
                      "due": t("ref.col.due"), "state": t("col.status"), "request": t("ref.col.request"),
                      "replied": t("ref.col.replied"), "reply": t("ref.col.reply")}, key="ref_done")


# --- a unit's correspondent ------------------------------------------------------------------
if user["role"] == "correspondent":
    unit = ui.call(path, store.get_unit, user["unit_id"]) if user.get("unit_id") else None
    if unit is None or not unit["active"]:
        st.error(t("sub.no_unit"))
        st.stop()
    st.caption(t("sub.caption.unit", unit=unit["name"], minimum=unit["monthly_minimum"] or minimum))
    unit_referrals(unit)
    st.subheader(t("sub.month.title"))
    m = ui.call(path, submissions.unit_month, unit, month, minimum)
    cols = st.columns(6)
    cols[0].metric(t("sub.metric.counted"), f"{m['counted']} / {m['minimum']}", border=True,
                   help=t("sub.metric.counted.help"))
    cols[1].metric(t("sub.metric.submitted"), m["submitted"], border=True)
    cols[2].metric(t("sub.metric.adopted"), m["adopted"], border=True)
    cols[3].metric(t("sub.metric.pending"), m["pending"], border=True)
    cols[4].metric(t("sub.metric.declined"), m["declined"], border=True)
    cols[5].metric(t("sub.metric.clarifications"), m["clarifications"], border=True)
    if m["met"]:
        st.success(t("sub.met", n=m["counted"], minimum=m["minimum"]))
    else:
        st.warning(t("sub.short", short=m["minimum"] - m["counted"],
                     days=submissions.days_left(now)))
    last = (date.fromisoformat(month + "-01") - timedelta(days=1)).strftime("%Y-%m")
    standing = ui.call(path, reports.unit_standing, last, now)
    mine = standing["rows"].get(unit["name"])
    if mine:  # last month's notice, as the leaders read it
        st.caption(t("sub.standing", y=last[:4], m=int(last[5:]), rank=mine["rank"], total=standing["total"],
                     counted=mine["counted"], flag=t("sub.units.short") if mine["below_minimum"] else t("sub.units.met")))
    trained = ui.call(path, store.trained_units).get(unit["id"])
    st.caption(t("sub.trained", day=trained["held_on"], title=trained["title"]) if trained
               else t("sub.trained.never"))
    st.subheader(t("sub.new"))
    submit_form([unit])
    st.subheader(t("sub.mine"))
    rows = ui.call(path, store.list_submissions, unit_id=unit["id"], limit=200)
    if not rows:
        st.info(t("sub.mine.empty"))
    else:
        rows_table(rows, "sub_mine", with_unit=False)
        pending = [r for r in rows if r["status"] == "submitted"]
        if pending:
            with ui.action_form("sub_withdraw"):
                c = st.columns([2, 1], vertical_alignment="bottom")
                pick = c[0].selectbox(t("sub.withdraw.pick"), pending, key="sub_withdraw_pick",
                                      format_func=lambda r: f"#{r['id']} {r['title']}")
                if c[1].form_submit_button(t("sub.withdraw")):
                    act(submissions.withdraw, t("sub.withdrawn", id=pick["id"]), pick["id"],
                        actor=user["username"], unit_id=unit["id"], now=now)
    st.stop()

# --- the office ------------------------------------------------------------------------------
st.caption(t("sub.caption.office", minimum=minimum))
units = ui.call(path, store.list_units)
pending = ui.call(path, store.list_submissions, status="submitted", limit=100)
tab_pending, tab_units, tab_all, tab_new, tab_train = st.tabs([
    t("sub.tab.pending", n=len(pending)), t("sub.tab.units"), t("sub.tab.all"), t("sub.tab.new"),
    t("sub.tab.trainings")])

with tab_pending:
    if not pending:
        st.info(t("sub.pending.empty"))
    for r in pending[:30]:
        with st.container(border=True):
            st.markdown(t("sub.pending.head", id=r["id"], unit=escape_md(r["unit_name"]), kind=kind_label(r["kind"]),
                          at=data.to_china(r["submitted_at"]), by=escape_md(r["submitted_by"])))
            st.markdown(f"**{escape_md(r['title'])}**")
            st.text(r["content"])
            facts = []
            if r["occurred_at"]:
                facts.append(t("sub.pending.occurred", at=data.to_china(r["occurred_at"])[:10]))
            if r["platform"]:
                facts.append(t("sub.pending.platform", platform=r["platform"]))
            if r["url"]:
                facts.append(t("sub.pending.url", url=r["url"]))
            if r["item_id"]:
                facts.append(t("sub.pending.item", item=r["item_id"], probability=probability_text(r),
                               debunked=debunked_label(r)))
            if facts:
                st.caption(" · ".join(facts))
            if r["item_id"] and may_open("item", user) and st.button(t("sub.pending.open"), key=f"sub_open_{r['id']}"):
                open_item(int(r["item_id"]))
            with ui.action_form(f"sub_decide_{r['id']}"):
                c = st.columns([1, 1, 2, 1], vertical_alignment="bottom")
                used = c[0].selectbox(t("sub.adopted_in"), submissions.ADOPTED_IN, key=f"sub_used_{r['id']}")
                adopt = c[1].form_submit_button(t("sub.adopt"), type="primary")
                note = c[2].text_input(t("sub.note"), key=f"sub_note_{r['id']}", help=t("sub.note.help"))
                decline = c[3].form_submit_button(t("sub.decline"))
                if adopt:
                    act(submissions.decide, t("sub.adopted", id=r["id"]), r["id"], adopt=True,
                        actor=user["username"], now=now, adopted_in=used, note=note)
                elif decline:
                    act(submissions.decide, t("sub.declined", id=r["id"]), r["id"], adopt=False,
                        actor=user["username"], now=now, note=note)
    if len(pending) > 30:
        st.caption(t("sub.pending.more", n=len(pending) - 30))

with tab_units:
    chosen = month_choice("sub_units_month")
    people = {}
    for u in ui.call(path, core_auth.list_users):
        if u["role"] == "correspondent" and u["unit_id"] and not u["disabled"]:
            people[u["unit_id"]] = people.get(u["unit_id"], 0) + 1
    if not units:
        st.info(t("sub.units.none"))
    else:
        months = ui.call(path, submissions.units_month, units, chosen, minimum)
        trained = ui.call(path, store.trained_units)
        table = []
        for u in units:
            m = months[u["id"]]
            table.append({"unit": u["name"], "kind": u["kind"], "region": u["region"] or "",
                          "submitted": m["submitted"], "adopted": m["adopted"], "pending": m["pending"],
                          "declined": m["declined"], "clarifications": m["clarifications"], "counted": m["counted"],
                          "minimum": m["minimum"], "met": t("sub.units.met") if m["met"] else t("sub.units.short"),
                          "people": people.get(u["id"], 0),
                          "trained": (trained.get(u["id"]) or {}).get("held_on", "")})
        table.sort(key=lambda r: (-r["counted"], -r["adopted"], r["unit"]))
        short = [r["unit"] for r in table if r["met"] == t("sub.units.short")]
        st.caption(t("sub.units.caption", n=len(short), total=len(table)) if chosen == month
                   else t("sub.units.caption.past", n=len(short), total=len(table)))
        ui.table(table, {"unit": t("sub.unit"), "kind": t("sub.units.kind"), "region": t("sub.units.region"),
                         "submitted": t("sub.metric.submitted"), "adopted": t("sub.metric.adopted"),
                         "pending": t("sub.metric.pending"), "declined": t("sub.metric.declined"),
                         "clarifications": t("sub.metric.clarifications"), "counted": t("sub.units.counted"),
                         "minimum": t("sub.units.minimum"), "met": t("sub.units.flag"),
                         "people": t("sub.units.people"), "trained": t("sub.units.trained")},
                 key="sub_units_table")
        lonely = [r["unit"] for r in table if not r["people"]]
        if lonely:
            st.warning(t("sub.units.no_people", n=len(lonely), names="、".join(lonely[:10])))

with tab_all:
    chosen_all = month_choice("sub_all_month")
    start, end = submissions.month_bounds(chosen_all)
    rows = ui.call(path, store.list_submissions, start=start, end=end, limit=1000)
    if not rows:
        st.info(t("sub.all.empty"))
    else:
        rows_table(rows, "sub_all", with_unit=True)

with tab_new:
    st.caption(t("sub.new.office"))
    if units:
        submit_form(units)
    else:
        st.info(t("sub.units.none"))
    st.subheader(t("sub.ledger"))
    st.caption(t("sub.ledger.help"))
    st.download_button(t("sub.ledger.template"), submissions.ledger_template().encode("utf-8"),
                       file_name="信息报送台账模板.csv", mime="text/csv")
    upload = st.file_uploader(t("sub.ledger"), type=["xlsx", "csv", "txt"], key="sub_ledger_upload",
                              label_visibility="collapsed")
    if upload is not None and st.button(t("sub.ledger.button"), type="primary"):
        try:
            ledger = data.workflow(path, submissions.import_ledger, upload.getvalue(), actor=user["username"],
                                   now=now, name=upload.name, max_mb=data.settings().max_upload_mb)
        except RumourwatchError as exc:  # not a CSV text file, or a bad header
            ui.show_error(exc, "wf.error")
        else:
            st.success(t("sub.ledger.result", created=ledger.created, items=ledger.items, errors=len(ledger.errors)))
            if ledger.problems:
                ui.rows_set_aside(t("sub.ledger.errors"), ledger.problems)

with tab_train:
    st.caption(t("train.caption"))
    half = ui.call(path, trainings.half_status, now)
    label = t("train.half", y=half["year"], h=t(f"train.half.{half['half']}"))
    if half["held"]:
        latest = half["trainings"][0]
        st.success(t("train.status.held", half=label, n=half["held"], day=latest["held_on"], title=latest["title"]))
    elif half["due_soon"]:
        st.warning(t("train.status.due", half=label, days=half["days_left"]))
    else:
        st.info(t("train.status.none", half=label, days=half["days_left"]))
    if not units:
        st.info(t("sub.units.none"))
    else:
        st.subheader(t("train.new"))
        today = now.astimezone(CST).date()
        gen = st.session_state.get("train_form_gen", 0)
        with ui.action_form(f"train_form_{gen}"):
            c = st.columns([1, 3])
            day = c[0].date_input(t("train.day"), value=today, max_value=today, key=f"train_day_{gen}")
            title = c[1].text_input(t("train.title"), max_chars=trainings.TITLE_MAX, key=f"train_title_{gen}",
                                    placeholder=t("train.title.placeholder"))
            chosen_units = st.multiselect(t("train.units"), units, default=units, format_func=lambda u: u["name"],
                                          key=f"train_units_{gen}", help=t("train.units.help"))
            c = st.columns([1, 3])
            people_n = c[0].number_input(t("train.attendees"), min_value=0, max_value=trainings.ATTENDEES_MAX,
                                         value=0, step=1, key=f"train_people_{gen}", help=t("train.attendees.help"))
            note = c[1].text_input(t("train.note"), max_chars=trainings.NOTE_MAX, key=f"train_note_{gen}",
                                   help=t("train.note.help"))
            if st.form_submit_button(t("train.submit"), type="primary"):
                try:
                    done = data.workflow(path, trainings.record, held_on=day, title=title,
                                         unit_ids=[u["id"] for u in chosen_units], actor=user["username"], now=now,
                                         attendees=int(people_n) or None, note=note)
                except RumourwatchError as exc:
                    ui.show_error(exc, "wf.error")
                else:
                    st.session_state["train_form_gen"] = gen + 1
                    st.session_state[ui.FLASH_KEY] = t("train.done", id=done["id"], day=done["held_on"],
                                                       n=done["units"])
                    st.rerun()
    st.subheader(t("train.list"))
    held = ui.call(path, store.list_trainings, limit=200)
    if not held:
        st.info(t("train.list.empty"))
    else:
        ui.table([dict(r, attendees=r["attendees"] or "") for r in held],
                 {"id": "#", "held_on": t("train.col.day"), "title": t("train.col.title"),
                  "units": t("train.col.units"), "attendees": t("train.col.attendees"),
                  "unit_names": t("train.col.unit_names"), "note": t("train.col.note"),
                  "recorded_by": t("train.col.by")}, key="train_table")
        since = (now.astimezone(CST).date() - timedelta(days=365)).isoformat()
        recent = ui.call(path, store.trained_units, start=since)
        untrained = [u["name"] for u in units if u["id"] not in recent]
        if untrained:
            st.warning(t("train.untrained", since=since, n=len(untrained), names="、".join(untrained)))
        with st.expander(t("train.remove")), ui.action_form("train_remove"):
            c = st.columns([2, 2, 1], vertical_alignment="bottom")
            pick = c[0].selectbox(t("train.remove.pick"), held, key="train_remove_pick",
                                  format_func=lambda r: f"#{r['id']} {r['held_on']} {r['title']}")
            reason = c[1].text_input(t("train.remove.reason"), max_chars=trainings.REASON_MAX,
                                     key="train_remove_reason")
            if c[2].form_submit_button(t("train.remove.submit")):
                act(trainings.remove, t("train.removed", id=pick["id"]), pick["id"], reason=reason,
                    actor=user["username"], now=now)
