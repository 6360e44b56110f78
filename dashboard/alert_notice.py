"""新预警提醒: a monitor on any page is told at once of each alert raised while they work, and of
each response clock that runs out; a leader of each 一级 alert; an expert of each task offered.

Monitors watch the dashboard all day, but not always the 预警处置 page: an item they are reading,
the search, the handover. A 一级 or 二级 alert starts a 5-hour clock (seed 001), so it must not wait
for the next look at the list. Every page of a role that handles alerts (alerts.manage) carries a
small fragment in the sidebar that, at the live page's cadence, looks for alerts raised since the
tab last looked:

- each new 一级 / 二级 alert is a notice that stays until dismissed, naming its severity, kind and
  title with a link to it (at most three; more are counted in one notice);
- the 三级 ones are counted in one notice that closes by itself;
- each clock run out on an open alert (the 5-hour release, the 24-hour press conference, an
  expert's task: what `alerts.escalate_overdue` records and mails the leaders) is a notice that
  stays until dismissed, whatever the alert's severity;
- with 提示音 on (the default; a toggle in the sidebar), an urgent alert or a clock run out also sounds
  a short chime, so a monitor looking at another window hears it.

Three more audiences get what concerns them, the same way: a **leader** each new 一级 alert (a
sudden event: seed 001's press conference within 24 hours is theirs to call); an **expert** each
task offered to them, with the time to answer by, so it does not wait for the mail; a unit's
**correspondent** each alert referred to their unit (交办, rumourwatch.referrals), with the time to
report back by: 4 hours for a 一级 or 二级 event.

What was raised before the tab opened is on the 预警处置 page, not repeated as notices; an alert
already dismissed (by a rule, or another monitor) by the time the fragment looks is not announced.
"""

from __future__ import annotations

import io
import time
import wave

import numpy as np
import streamlit as st

from dashboard import auth as dashboard_auth
from dashboard import data
from dashboard.strings import t
from dashboard.ui import escape_md, note_every_page_fragment
from rumourwatch import store
from rumourwatch.auth import can
from rumourwatch.errors import RumourwatchError
from rumourwatch.reports import clip

URGENT = ("一级", "二级")
URGENT_SHOWN = 3        # urgent alerts announced one by one; the rest are counted
TITLE_CHARS = 18        # of the alert's title in its notice: longer, the notice folds behind "view more"
SEEN_KEY = "notice_seen"            # the newest alert id this tab has seen
SEEN_STEP_KEY = "notice_seen_step"  # the newest escalation step id this tab has seen
SEEN_TASK_KEY = "notice_seen_task"  # the newest expert task id this tab has seen
SEEN_REFERRAL_KEY = "notice_seen_referral"  # the newest referral id this tab has seen
LEADER_SEVERITY = "一级"            # the alerts a leader is told of
SOUND_KEY = "notice_sound"
CHIME_KEY = "notice_chime"
CHIME_SECONDS = 10      # the chime's player stays this long (hidden), so it plays once whatever the cadence
REFRESH_SECONDS = max(1, int(data.settings().dashboard_refresh_seconds))
ICONS = {"一级": ":material/e911_emergency:", "二级": ":material/warning:"}


@st.cache_resource(show_spinner=False)
def chime() -> bytes:
    """A soft two-note chime (0.5 s, 16-bit mono WAV), made here: nothing is downloaded."""
    rate = 22_050
    notes = []
    for freq, seconds in ((880.0, 0.22), (1318.5, 0.28)):
        time = np.arange(int(rate * seconds)) / rate
        envelope = np.minimum(1, time / 0.01) * np.exp(-time * 6)
        notes.append(np.sin(2 * np.pi * freq * time) * envelope)
    samples = (np.concatenate(notes) * 0.4 * 32767).astype("<i2")
    out = io.BytesIO()
    with wave.open(out, "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(rate)
        w.writeframes(samples.tobytes())
    return out.getvalue()


def audience(user: dict) -> str | None:
    """Whose notices the user gets: "handler" (monitors, administrators: every new alert and clock),
    "leader" (new 一级 alerts), "expert" (tasks offered to them), "unit" (a correspondent: alerts
    referred to their unit), or None (analysts)."""
    if can(user["role"], "alerts.manage"):
        return "handler"
    if user["role"] == "leader":
        return "leader"
    if user["role"] == "expert" and user.get("expert_id") is not None:
        return "expert"
    if user["role"] == "correspondent" and user.get("unit_id") is not None:
        return "unit"
    return None


def alert_notice(user: dict) -> None:
    """The sidebar's notice of what is new for the user (see `audience`), and its chime's toggle."""
    who = audience(user)
    if who is None:
        return
    with st.sidebar:
        st.toggle(t(f"notice.sound.{who}"), value=True, key=SOUND_KEY, help=t(f"notice.sound.help.{who}"))
        # the chime's player is never shown: it only has to play
        st.html('<style>[class*="st-key-notice_chime"] { display: none; }</style>')
        _watch(who, user.get("expert_id"), user.get("unit_id"))


@st.fragment(run_every=REFRESH_SECONDS)
def _watch(who: str, expert_id: int | None, unit_id: int | None = None) -> None:
    note_every_page_fragment()  # a page switch drops it, so its timer cannot blank the next page
    dashboard_auth.rerun_if_session_ended()  # a timer is no activity: a session ended shows the login
    path = data.settings().db_path
    if not data.database_exists(path):
        return
    new, overdue, offers, referred = [], [], [], []
    try:
        if who in ("handler", "leader"):
            new = _since(SEEN_KEY, data.last_alert_id(path), lambda seen: data.alerts_after(path, seen))
        if who == "leader":
            new = [a for a in new if a["severity"] == LEADER_SEVERITY]
        if who == "handler":
            overdue = _since(SEEN_STEP_KEY, data.last_escalation_id(path),
                             lambda seen: data.escalations_after(path, seen))
        if who == "expert":
            offers = _since(SEEN_TASK_KEY, data.last_assignment_id(path),
                            lambda seen: data.offers_after(path, expert_id, seen))
        if who == "unit":
            referred = _since(SEEN_REFERRAL_KEY, data.last_referral_id(path),
                              lambda seen: data.referrals_after(path, unit_id, seen))
    except RumourwatchError:  # the page itself says what is wrong with the store
        return
    announce(new, overdue, offers, referred)


def _since(key: str, last: int, rows_after) -> list[dict]:
    """The rows after the id this tab last saw under `key` (none when the tab has just opened),
    still open; the tab has seen `last` from now on."""
    seen = st.session_state.setdefault(key, last)
    st.session_state[key] = max(seen, last)
    if last <= seen:
        return []
    return [r for r in rows_after(seen) if r["status"] in store.WORKFLOW_OPEN_STATUSES]


def announce(new: list[dict], overdue: list[dict] = (), offers: list[dict] = (), referred: list[dict] = ()) -> None:
    """Notices of the alerts in `new`, the clocks run out in `overdue`, the tasks in `offers` and the
    referrals in `referred`, and the chime (while it lasts: drawn on every run until then)."""
    urgent = [a for a in new if a["severity"] in URGENT]
    for a in urgent[:URGENT_SHOWN]:
        st.toast(t("notice.alert", id=a["id"], severity=a["severity"], kind=t(f"alert.kind.{a['kind']}"),
                   title=_title(a)), icon=ICONS[a["severity"]], duration="infinite")
    rest = len(new) - min(len(urgent), URGENT_SHOWN)
    if rest:
        st.toast(t("notice.more", n=rest), icon=":material/notifications:", duration="long")
    for e in overdue[:URGENT_SHOWN]:
        deadline = e["step"].split(":", 1)[1]
        due = data.to_china(e[deadline], "%m-%d %H:%M") if deadline in ("respond_by", "conference_by") else ""
        st.toast(t("notice.overdue", id=e["alert_id"], severity=e["severity"], title=_title(e),
                   what=t(f"notice.overdue.{deadline}", due=due)), icon=":material/alarm:", duration="infinite")
    if len(overdue) > URGENT_SHOWN:
        st.toast(t("notice.overdue.more", n=len(overdue) - URGENT_SHOWN), icon=":material/alarm:", duration="long")
    _due_notices(offers, "notice.task", ":material/assignment_ind:")
    _due_notices(referred, "notice.referral", ":material/assignment_late:")
    ringing = ([f"a{a['id']}" for a in urgent] + [f"e{e['id']}" for e in overdue] + [f"t{o['id']}" for o in offers]
               + [f"r{r['id']}" for r in referred])
    if ringing and st.session_state.get(SOUND_KEY, True):
        st.session_state[CHIME_KEY] = (ringing[0], time.monotonic() + CHIME_SECONDS)
    ring = st.session_state.get(CHIME_KEY)
    if ring and time.monotonic() < ring[1]:
        # drawn for a few refreshes, so a fast refresh cannot remove it before it has played; a new
        # key for the next urgent alert makes a new player, which plays again
        with st.container(key=f"notice_chime_{ring[0]}"):
            st.audio(chime(), format="audio/wav", autoplay=True)


def _due_notices(rows: list[dict], key: str, icon: str) -> None:
    """A task's notice (an expert's offer, a unit's referral) with its alert and the time to answer
    by, staying until dismissed; beyond three, one notice counts the rest (`key`.more)."""
    for r in rows[:URGENT_SHOWN]:
        st.toast(t(key, id=r["alert_id"], severity=r["severity"], title=_title(r),
                   due=data.to_china(r["due_at"], "%m-%d %H:%M")), icon=icon, duration="infinite")
    if len(rows) > URGENT_SHOWN:
        st.toast(t(f"{key}.more", n=len(rows) - URGENT_SHOWN), icon=icon, duration="long")


def _title(row: dict) -> str:
    return escape_md(clip(row["title"] or t("notice.untitled"), TITLE_CHARS))
