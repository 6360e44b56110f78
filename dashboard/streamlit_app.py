"""Dashboard entrypoint: page setup and navigation only. Run with

    streamlit run dashboard/streamlit_app.py

Pages live in dashboard/app_pages/ and hold UI only; data and caching are in dashboard/data.py.
Later pages (alerts, experts, reports) slot into the sections below.
"""

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:  # `streamlit run` puts only dashboard/ on the path
    sys.path.insert(0, str(ROOT))

import streamlit as st  # noqa: E402

from dashboard import auth as dashboard_auth  # noqa: E402
from dashboard.alert_notice import alert_notice  # noqa: E402
from dashboard.strings import t  # noqa: E402

st.set_page_config(page_title=t("app.title"), page_icon=":material/health_and_safety:", layout="wide")
# Streamlit's own hint under a focused box ("Press Enter to submit form") is English only and
# cannot be translated; the UI speaks Chinese, so the hint is hidden (the boxes work the same)
st.html('<style>[data-testid="InputInstructions"] { display: none; }</style>')

PAGES = {
    t("nav.section.monitor"): [
        st.Page("app_pages/live.py", title=t("page.live"), icon=":material/monitoring:", url_path="live"),
        st.Page("app_pages/item.py", title=t("page.item"), icon=":material/article:", url_path="item"),
        st.Page("app_pages/search.py", title=t("page.search"), icon=":material/search:", url_path="search"),
        st.Page("app_pages/knowledge.py", title=t("page.knowledge"), icon=":material/fact_check:", url_path="knowledge"),
        st.Page("app_pages/tips.py", title=t("page.tips"), icon=":material/campaign:", url_path="tips"),
        st.Page("app_pages/submissions.py", title=t("page.submissions"), icon=":material/outbox:",
                url_path="submissions"),
        st.Page("app_pages/readings.py", title=t("page.readings"), icon=":material/translate:", url_path="readings"),
        st.Page("app_pages/handover.py", title=t("page.handover"), icon=":material/swap_horiz:", url_path="handover"),
    ],
    t("nav.section.response"): [
        st.Page("app_pages/alerts.py", title=t("page.alerts"), icon=":material/notification_important:",
                url_path="alerts"),
        st.Page("app_pages/workbench.py", title=t("page.workbench"), icon=":material/edit_note:", url_path="workbench"),
        st.Page("app_pages/media.py", title=t("page.media"), icon=":material/mic:", url_path="media"),
        st.Page("app_pages/watchlist.py", title=t("page.watchlist"), icon=":material/person_search:",
                url_path="watchlist"),
        st.Page("app_pages/expert_pool.py", title=t("page.expert_pool"), icon=":material/groups:", url_path="roster"),
        st.Page("app_pages/rules.py", title=t("page.rules"), icon=":material/rule:", url_path="rules"),
    ],
    t("nav.section.data"): [
        st.Page("app_pages/sources.py", title=t("page.sources"), icon=":material/database:", url_path="sources"),
    ],
    t("nav.section.analysis"): [
        st.Page("app_pages/models.py", title=t("page.models"), icon=":material/model_training:", url_path="models"),
        st.Page("app_pages/labels.py", title=t("page.labels"), icon=":material/label:", url_path="labels"),
    ],
    t("nav.section.reports"): [
        st.Page("app_pages/overview.py", title=t("page.overview"), icon=":material/dashboard:", url_path="overview"),
        st.Page("app_pages/reports.py", title=t("page.reports"), icon=":material/summarize:", url_path="reports"),
        st.Page("app_pages/risk.py", title=t("page.risk"), icon=":material/crisis_alert:", url_path="risks"),
        st.Page("app_pages/ownmedia.py", title=t("page.ownmedia"), icon=":material/share:", url_path="ownmedia"),
    ],
    t("nav.section.admin"): [
        st.Page("app_pages/users.py", title=t("page.users"), icon=":material/manage_accounts:", url_path="users"),
        st.Page("app_pages/audit.py", title=t("page.audit"), icon=":material/history:", url_path="audit"),
        st.Page("app_pages/selfcheck.py", title=t("page.selfcheck"), icon=":material/health_metrics:",
                url_path="selfcheck"),
    ],
    t("nav.section.account"): [
        st.Page("app_pages/account.py", title=t("page.account"), icon=":material/account_circle:",
                url_path="account"),
    ],
}

# Login first; the navigation then lists only the pages the user's role may open, with the role's
# main page at "/" (rumourwatch/auth.py).
user = dashboard_auth.require_login(PAGES)
# expanded: an admin sees every page; collapsed, the menu would hide the last ones behind "View more"
page = st.navigation(dashboard_auth.pages_for(user, PAGES), expanded=True)
dashboard_auth.user_box(user)
alert_notice(user)  # new 一级 / 二级 alerts announced on every page of those who handle them
st.session_state["_page_runs"] = st.session_state.get("_page_runs", 0) + 1  # 1: the tab has just opened
page.run()
dashboard_auth.cookie_written()
