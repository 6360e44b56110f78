"""预警规则 (admin): edit the alert rules file — clocks, rumour thresholds per severity, opinion
spikes, watched keywords and accounts, stories the public keeps reporting, notification targets and quiet hours — and see the
notification delivery log."""

import copy

import pandas as pd
import streamlit as st

from dashboard import data, workflow_ui as ui
from dashboard.auth import require_role
from dashboard.strings import t
from rumourwatch import alerts, notify, store
from rumourwatch.alerts import SEVERITIES
from rumourwatch.errors import RumourwatchError

user = require_role("admin")
path = ui.db_path()
current = ui.rules()
# the version the form below was drawn from last run: a save is refused when the file has changed
# since (a monitor watched a keyword from 条目检索), rather than overwrite that change unseen
drawn_version = st.session_state.get("rules_version")
try:
    version = alerts.rules_version()
except RumourwatchError as exc:  # read a moment ago by ui.rules(): a permission changed since
    ui.show_error(exc)
    st.stop()
st.title(t("rules.title"))
st.caption(t("rules.caption", path=alerts.rules_path()))
ui.flash()


def lines(text: str) -> list[str]:
    return [x.strip() for x in (text or "").splitlines() if x.strip()]


new = copy.deepcopy(current)
with st.form("rules_form"):
    st.subheader(t("rules.clocks"))
    c = st.columns(5)
    new["clocks"]["respond_hours"] = c[0].number_input(t("rules.respond_hours"), 0.5, 240.0,
                                                       float(current["clocks"]["respond_hours"]), 0.5)
    new["clocks"]["conference_hours"] = c[1].number_input(t("rules.conference_hours"), 1.0, 720.0,
                                                          float(current["clocks"]["conference_hours"]), 1.0)
    new["clocks"]["conference_severities"] = c[2].multiselect(t("rules.conference_severities"), list(SEVERITIES),
                                                              current["clocks"]["conference_severities"])
    new["clocks"]["accept_hours"] = c[3].number_input(t("rules.accept_hours"), 0.25, 48.0,
                                                      float(current["clocks"]["accept_hours"]), 0.25)
    new["clocks"]["remind_hours"] = c[4].number_input(t("rules.remind_hours"), 0.0, 48.0,
                                                      float(current["clocks"]["remind_hours"]), 0.25,
                                                      help=t("rules.remind_hours.help"))
    st.subheader(t("rules.rumour"))
    c = st.columns(2)
    new["rumour"]["min_probability"] = c[0].slider(t("rules.min_probability"), 0.0, 1.0,
                                                   float(current["rumour"]["min_probability"]), 0.05)
    new["rumour"]["health_only"] = c[1].toggle(t("rules.health_only"), current["rumour"]["health_only"])
    st.caption(t("rules.levels"))
    levels = pd.DataFrame([{"severity": lv["severity"], "min_copies": lv.get("min_copies", 0),
                            "min_reach": lv.get("min_reach", 0), "min_velocity": lv.get("min_velocity", 0)}
                           for lv in current["rumour"]["levels"]])
    edited = st.data_editor(levels, hide_index=True, num_rows="fixed", disabled=["severity"], key="levels_editor",
                            column_config={"severity": st.column_config.TextColumn(t("rules.field.rumour.levels.severity"))}
                            | {k: st.column_config.NumberColumn(t(f"rules.field.rumour.levels.{k}"), min_value=0)
                               for k in ("min_copies", "min_reach", "min_velocity")})
    new["rumour"]["levels"] = [{k: (v if k == "severity" else float(v)) for k, v in row.items()}
                               for row in edited.to_dict("records")]
    st.subheader(t("rules.spike"))
    c = st.columns(5)
    s = current["opinion_spike"]
    new["opinion_spike"]["enabled"] = c[0].toggle(t("rules.spike.enabled"), s["enabled"])
    new["opinion_spike"]["window_hours"] = c[1].number_input(t("rules.spike.window"), 1.0, 168.0, float(s["window_hours"]))
    new["opinion_spike"]["baseline_hours"] = c[2].number_input(t("rules.spike.baseline"), 1.0, 720.0,
                                                               float(s["baseline_hours"]))
    new["opinion_spike"]["min_items"] = int(c[3].number_input(t("rules.spike.min_items"), 1, 100000, int(s["min_items"])))
    new["opinion_spike"]["min_increase"] = c[4].number_input(t("rules.spike.min_increase"), 0.01, 1.0,
                                                             float(s["min_increase"]), 0.01)
    st.subheader(t("rules.watch"))
    c = st.columns(4)
    w = current["watch"]
    new["watch"]["enabled"] = c[0].toggle(t("rules.watch.enabled"), w["enabled"], key="rules_watch_enabled")
    new["watch"]["severity"] = c[1].selectbox(t("rules.watch.severity"), list(SEVERITIES),
                                              list(SEVERITIES).index(w["severity"]), key="rules_watch_severity")
    new["watch"]["digest_after"] = int(c[2].number_input(t("rules.watch.digest_after"), 0, 10000, int(w["digest_after"]),
                                                         help=t("rules.watch.digest_after.help")))
    new["watch"]["digest_window_hours"] = c[3].number_input(t("rules.watch.digest_window"), 0.25, 168.0,
                                                            float(w["digest_window_hours"]),
                                                            help=t("rules.watch.digest_window.help"))
    c = st.columns(2)
    new["watch"]["keywords"] = lines(c[0].text_area(t("rules.keywords"), "\n".join(current["watch"]["keywords"]),
                                                       help=t("rules.keywords.help")))
    new["watch"]["accounts"] = lines(c[1].text_area(t("rules.accounts"), "\n".join(current["watch"]["accounts"])))
    st.subheader(t("rules.tips"))
    c = st.columns(4)
    tp = current["tips"]
    new["tips"]["enabled"] = c[0].toggle(t("rules.tips.enabled"), tp["enabled"])
    new["tips"]["min_tips"] = int(c[1].number_input(t("rules.tips.min_tips"), 1, 10000, int(tp["min_tips"])))
    new["tips"]["window_hours"] = c[2].number_input(t("rules.tips.window"), 1.0, 720.0, float(tp["window_hours"]))
    new["tips"]["severity"] = c[3].selectbox(t("rules.tips.severity"), list(SEVERITIES),
                                             list(SEVERITIES).index(tp["severity"]))
    st.subheader(t("rules.tags"))
    c = st.columns(6)
    tg = current["tag_surge"]
    new["tag_surge"]["enabled"] = c[0].toggle(t("rules.tags.enabled"), tg["enabled"],
                                              help=t("rules.tags.help", hours=tg["window_hours"],
                                                     baseline=tg["baseline_hours"]))
    new["tag_surge"]["min_stories"] = int(c[1].number_input(t("rules.tags.min_stories"), 1, 100000,
                                                            int(tg["min_stories"])))
    new["tag_surge"]["min_accounts"] = int(c[2].number_input(t("rules.tags.min_accounts"), 1, 100000,
                                                             int(tg["min_accounts"])))
    new["tag_surge"]["min_growth"] = c[3].number_input(t("rules.tags.min_growth"), 1.0, 1000.0,
                                                       float(tg["min_growth"]), 0.5)
    new["tag_surge"]["min_flagged"] = int(c[4].number_input(t("rules.tags.min_flagged"), 0, 100000,
                                                            int(tg["min_flagged"])))
    new["tag_surge"]["severity"] = c[5].selectbox(t("rules.tags.severity"), list(SEVERITIES),
                                                  list(SEVERITIES).index(tg["severity"]), key="rules_tags_severity")
    st.subheader(t("rules.notify"))
    n = current["notify"]
    new["notify"]["quiet_hours"] = st.text_input(t("rules.quiet_hours"), n["quiet_hours"])
    hooks = st.text_area(t("rules.webhooks"), "\n".join(h["url"] for h in n["webhooks"]))
    formats = {h["url"]: h.get("format", "markdown") for h in n["webhooks"]}
    new["notify"]["webhooks"] = [{"url": u, "format": formats.get(u, "markdown")} for u in lines(hooks)]
    c = st.columns(3)
    new["notify"]["monitor_emails"] = lines(c[0].text_area(t("rules.monitor_emails"), "\n".join(n["monitor_emails"])))
    new["notify"]["leader_emails"] = lines(c[1].text_area(t("rules.leader_emails"), "\n".join(n["leader_emails"])))
    new["notify"]["admin_emails"] = lines(c[2].text_area(t("rules.admin_emails"), "\n".join(n["admin_emails"]),
                                                         help=t("rules.admin_emails.help")))
    new["notify"]["security_failed_logins"] = int(st.number_input(
        t("rules.security_failed_logins"), 0, 100000, int(n["security_failed_logins"]),
        help=t("rules.security_failed_logins.help"), width=260))
    c = st.columns(2)
    new["notify"]["smtp_host"] = c[0].text_input(t("rules.smtp_host"), n["smtp_host"])
    new["notify"]["smtp_port"] = int(c[1].number_input(t("rules.smtp_port"), 1, 65535, int(n["smtp_port"])))
    submitted = st.form_submit_button(t("rules.save"), type="primary")

if submitted:
    try:
        data.workflow(path, lambda db: alerts.save_rules(new, actor=user["username"], db=db,
                                                         expected_version=drawn_version or version))
    except RumourwatchError as exc:  # a rule the form let through but the rules refuse, or the file or the
        ui.show_error(exc, "rules.refused")  # database failed: saved together, neither is saved
    else:
        st.session_state[ui.FLASH_KEY] = t("rules.saved")
        st.session_state.pop("rules_version", None)
        st.rerun()
st.session_state["rules_version"] = version

if st.button(t("rules.test"), icon=":material/send:", help=t("rules.test.help"), key="rules_test"):
    try:
        with st.spinner(t("loading")):
            results = data.workflow(path, notify.send_test, data.workflow_rules(), data.now_utc(), user["username"])
    except RumourwatchError as exc:
        ui.show_error(exc)
    else:
        reached = sum(r["ok"] for r in results)
        (st.success if reached == len(results) else st.warning)(t("rules.test.result", ok=reached, n=len(results)))
        ui.table([{"channel": r["channel"], "target": r["target"],
                   "lists": "、".join(t(f"rules.test.lists.{name}") for name in r["lists"]),
                   "ok": t("yes") if r["ok"] else t("no"), "detail": r["detail"]} for r in results],
                 {"channel": t("col.kind"), "target": t("col.url"), "lists": t("rules.test.col.lists"),
                  "ok": t("rules.test.col.ok"), "detail": t("rules.test.col.detail")}, key="rules_test_results")

st.subheader(t("rules.deliveries"))
pending = ui.call(path, store.list_notifications, "pending", 100000)
st.caption(t("rules.pending", n=len(pending)))
ui.table([dict(e, at_cn=data.to_china(e["at"]), ok_label=t("yes") if e["ok"] else t("no"))
          for e in ui.call(path, store.delivery_log, None, 200)],
         {"at_cn": t("col.at"), "channel": t("col.kind"), "target": t("col.url"), "subject": t("col.title"),
          "ok_label": t("col.status"), "detail": t("col.note")}, key="delivery_log")
