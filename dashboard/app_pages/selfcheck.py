"""系统自检 (admins): rumourwatch.selfcheck's findings, the same as `rumourwatch check`, worded in
Chinese: what would fail silently (no SMTP server, no cron job, a topic no expert covers, the demo's
password on a real database) and what to do about each."""

import time

import streamlit as st

from dashboard import data, ui
from dashboard.auth import require_role
from dashboard.strings import t
from rumourwatch import selfcheck, store

require_role("admin")
st.title(t("page.selfcheck"))
st.caption(t("selfcheck.caption"))

settings = ui.page_settings()
path = settings.db_path
ui.require_database(path)

st.button(t("selfcheck.run_again"), icon=":material/refresh:")
started = time.monotonic()
with st.spinner(t("loading")), ui.friendly_errors():
    db = store.open_db(path, read_only=True)  # its own connection: the SMTP greeting may take seconds
    try:
        findings = selfcheck.run(db, settings, settings.alert_rules)
    finally:
        db.conn.close()
    counts = selfcheck.summary(findings)
    st.caption(t("selfcheck.checked_at", at=data.to_china(data.now_utc(), "%Y-%m-%d %H:%M:%S"),
                 seconds=f"{time.monotonic() - started:.1f}"))
    cols = st.columns(3)
    cols[0].metric(t("selfcheck.errors"), counts["error"])
    cols[1].metric(t("selfcheck.warnings"), counts["warning"])
    cols[2].metric(t("selfcheck.oks"), counts["ok"])
    if not counts["error"] and not counts["warning"]:
        st.success(t("selfcheck.all_ok"), icon=":material/verified:")
    for area in selfcheck.AREAS:
        here = [f for f in findings if f.area == area]
        if not here:
            continue
        st.subheader(t(f"selfcheck.area.{area}"))
        for f in sorted(here, key=lambda f: -selfcheck.LEVELS.index(f.level)):
            ui.show_finding(f)
