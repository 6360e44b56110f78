"""系统自检: is this installation ready to be relied on? (`rumourwatch check`, the 系统自检 page)

The failures that hurt a health commission are the silent ones: an SMTP server nobody can reach
means the 5-hour clock's escalations reach nobody; a cron job never installed means a stopped worker
is never reported; an expert pool with nobody for a topic means its alerts cannot be assigned; the
demo's accounts left on a real database are an open door. Each of those only shows when it is
needed. This module looks for them all at once, when an administrator asks (after installing, after
a change, from a monitoring job), and says what to do about each.

`run(db, settings, rules_path, now)` returns Findings: an area, a stable key, a level ("ok",
"warning", "error"), the figures (`params`) and an English message; the dashboard words each key in
Chinese (dashboard/strings.py `selfcheck.<key>`). Nothing here changes the store or sends a message:
the SMTP check connects, greets and logs in, then says goodbye without mailing anyone.
"""

from __future__ import annotations

import json
import os
import shutil
import smtplib
import subprocess
from dataclasses import asdict, dataclass, field
from datetime import datetime, timedelta
from pathlib import Path

from . import store
from .records import iso, parse_time

LEVELS = ("ok", "warning", "error")
AREAS = ("store", "models", "accounts", "roster", "rules", "notify", "jobs", "sources", "reports")

ESCALATE_MARK = "cron.alerts_escalate"  # workflow_state: when `rumourwatch alerts escalate` last ran
ESCALATE_LATE = timedelta(minutes=30)   # the README's crontab runs it every 5 minutes
RETENTION_LATE = timedelta(days=2)      # `retention --apply` runs daily
BACKUP_LATE = timedelta(days=2)         # a nightly backup, with a day's slack
DAILY_REPORT_LATE = timedelta(days=2)   # `report send --daily` each morning
MODELS_OLD = timedelta(days=180)        # the base rate drifts: retrain on verdicts (model card, Limits)
DISK_WARN_BYTES = 2 * 1024 ** 3
DISK_ERROR_BYTES = 256 * 1024 ** 2
NOTICE_STUCK = timedelta(hours=1)       # a notification still not delivered after this long
CHANNEL_QUIET_DAYS = 14                 # a registered channel of the office's with no item this long
DEMO_ACCOUNT_CHECK_LIMIT = 200          # scrypt costs ~0.1 s an account: the check stays under ~20 s


@dataclass
class Finding:
    area: str
    key: str
    level: str
    message: str
    params: dict = field(default_factory=dict)

    def as_dict(self) -> dict:
        return asdict(self)


def _ago(then: str, now: datetime) -> float:
    """Hours from `then` (ISO) to now."""
    return (now - parse_time(then)).total_seconds() / 3600


# --- the store ------------------------------------------------------------------------------

def check_store(db, db_path: str | Path, now: datetime) -> list[Finding]:
    found = []
    path = Path(db_path)
    size = path.stat().st_size if path.exists() else 0
    free = shutil.disk_usage(path.parent if path.parent.exists() else Path.cwd()).free
    params = {"path": str(path), "size_mb": round(size / 1024 ** 2, 1), "free_gb": round(free / 1024 ** 3, 1)}
    if free < DISK_ERROR_BYTES:
        found.append(Finding("store", "store.disk_full", "error",
                             f"only {params['free_gb']} GB free beside the database {path}: the worker will stop "
                             "storing items when the disk fills; free space or move the database", params))
    elif free < DISK_WARN_BYTES:
        found.append(Finding("store", "store.disk_low", "warning",
                             f"{params['free_gb']} GB free beside the database {path} ({params['size_mb']} MB): "
                             "free space before it runs out", params))
    else:
        found.append(Finding("store", "store.ok", "ok",
                             f"database {path}: {params['size_mb']} MB, {params['free_gb']} GB free", params))
    last = store.audit_entries(db, limit=1, actions=["backup"])
    if not last:
        found.append(Finding("store", "store.backup_never", "warning",
                             "no backup has been made (`rumourwatch backup FILE`): run one nightly from cron and keep "
                             "the files on another disk", {}))
    else:
        at, hours = last[0]["at"], _ago(last[0]["at"], now)
        params = {"at": at, "days": round(hours / 24, 1), "target": last[0].get("target_id") or ""}
        if hours > BACKUP_LATE.total_seconds() / 3600:
            found.append(Finding("store", "store.backup_late", "warning",
                                 f"the last backup was {params['days']} days ago ({at}, {params['target']}): check the "
                                 "nightly `rumourwatch backup` job", params))
        else:
            found.append(Finding("store", "store.backup_ok", "ok", f"last backup {at} ({params['target']})", params))
    return found


def check_audit_seal(db, key_file: str) -> list[Finding]:
    """The audit log's seals (rumourwatch.auditseal): no key set (a warning), a key that cannot be
    read, or an entry that does not verify (errors)."""
    from . import auditseal
    from .errors import ConfigError

    if not key_file:
        return [Finding("store", "store.audit_unsealed", "warning",
                        "the audit log is not sealed: whoever holds the database file could change an entry unseen; "
                        "make a key (`rumourwatch audit-key FILE`) and set audit_key_file for every process", {})]
    try:
        key = auditseal.read_key(key_file)
    except ConfigError as exc:
        return [Finding("store", "store.audit_key_bad", "error",
                        f"{exc}: audit entries are being written unsealed", {"path": key_file, "problem": str(exc)})]
    v = auditseal.verify(db, key)
    params = {"entries": v.entries, "sealed": v.sealed, "first": v.first_sealed, "last": v.last_sealed,
              "head": (v.head or "")[:16], "broken": v.broken_count, "unsealed": v.unsealed_after_count,
              "gaps": v.gaps_count, "ids": ", ".join(f"#{i}" for i in (v.broken + v.unsealed_after)[:10])}
    if not v.intact:
        return [Finding("store", "store.audit_broken", "error",
                        f"the audit log does not verify: {v.broken_count} entr(ies) changed or following a removed one, "
                        f"{v.unsealed_after_count} unsealed after sealing began, {v.gaps_count} gap(s) in the ids "
                        f"({params['ids'] or 'see `rumourwatch audit --verify`'}); compare with a backup and find out who "
                        "had the database file", params)]
    return [Finding("store", "store.audit_sealed", "ok",
                    f"audit log: {v.sealed} of {v.entries} entries sealed, all verify (last #{v.last_sealed}, "
                    f"seal {params['head']}…)", params)]


# --- the models -----------------------------------------------------------------------------

def check_models(models_dir: str | Path, now: datetime) -> list[Finding]:
    from .errors import ModelError
    from .nlp.bundle import check

    try:
        manifest = check(models_dir)
    except ModelError as exc:
        return [Finding("models", "models.missing", "error",
                        f"the worker cannot score: {exc}", {"path": str(models_dir), "problem": str(exc)})]
    version, created = manifest.get("version", "?"), manifest.get("created_at")
    params = {"version": version, "created_at": created or "", "days": None}
    if created:
        days = _ago(created, now) / 24
        params["days"] = round(days)
        if days > MODELS_OLD.days:
            return [Finding("models", "models.old", "warning",
                            f"the models ({version}) were trained {days:.0f} days ago: the share of rumours and "
                            "their wording move; retrain on the verdicts recorded since (`rumourwatch train "
                            "--verdicts DB`) and check the new model on later ones", params)]
    return [Finding("models", "models.ok", "ok", f"models {version} saved {created}, verified against their manifest",
                    params)]


# --- accounts -------------------------------------------------------------------------------

def check_accounts(db) -> list[Finding]:
    from .auth import verify_password
    from .demo import DEMO_PASSWORD

    found = []
    users = [u for u in store.list_users(db) if not u["disabled"]]
    admins = [u["username"] for u in users if u["role"] == "admin"]
    if not admins:
        found.append(Finding("accounts", "accounts.no_admin", "error",
                             "no active administrator account: add one with `rumourwatch users add NAME --role admin`",
                             {}))
    demo = [u["username"] for u in users[:DEMO_ACCOUNT_CHECK_LIMIT]
            if verify_password(DEMO_PASSWORD, store.get_user(db, u["username"], with_hash=True)["password_hash"])]
    if demo:
        found.append(Finding("accounts", "accounts.demo_password", "error",
                             f"{len(demo)} account(s) still have the demo's published password: {', '.join(demo)}; "
                             "set new passwords (`rumourwatch users set-password NAME`) or disable them",
                             {"users": ", ".join(demo), "count": len(demo)}))
    one_step = [u["username"] for u in users if u["role"] == "admin" and not u["totp_enabled_at"]]
    if one_step:
        found.append(Finding("accounts", "accounts.admin_one_step", "warning",
                             f"administrator account(s) logging in by password alone: {', '.join(one_step)}; each "
                             "should switch on two-step login on 我的账号 (a stolen password then opens nothing)",
                             {"users": ", ".join(one_step), "count": len(one_step)}))
    experts = {e["id"]: e for e in store.list_experts(db)}
    unlinked = [u["username"] for u in users if u["role"] == "expert"
                and (u["expert_id"] is None or not (experts.get(u["expert_id"]) or {}).get("active"))]
    if unlinked:
        found.append(Finding("accounts", "accounts.expert_unlinked", "warning",
                             f"expert account(s) not linked to an active expert of the roster, who see no tasks: "
                             f"{', '.join(unlinked)} (link them on 用户管理)", {"users": ", ".join(unlinked),
                                                                              "count": len(unlinked)}))
    units = {u["id"]: u for u in store.list_units(db, active_only=False)}
    stranded = [u["username"] for u in users if u["role"] == "correspondent"
                and not (units.get(u["unit_id"]) or {}).get("active")]
    if stranded:
        found.append(Finding("accounts", "accounts.correspondent_no_unit", "warning",
                             f"correspondent account(s) whose unit is missing or no longer active, who cannot "
                             f"report nor see the alerts referred to a unit: {', '.join(stranded)} (choose their unit "
                             f"on 用户管理)", {"users": ", ".join(stranded), "count": len(stranded)}))
    if not found:
        found.append(Finding("accounts", "accounts.ok", "ok",
                             f"{len(users)} active account(s), {len(admins)} administrator(s)",
                             {"count": len(users), "admins": len(admins)}))
    return found


# --- the expert pool ------------------------------------------------------------------------

def check_roster(db) -> list[Finding]:
    from .experts import TOPICS, expert_topics

    experts = store.list_experts(db, active_only=True)
    if not experts:
        return [Finding("roster", "roster.empty", "error",
                        "the expert pool has no active expert: alerts cannot be assigned; import the roster "
                        "(`rumourwatch experts import FILE.csv`, or 专家库)", {})]
    found = []
    covered = set().union(*(expert_topics(e) for e in experts))
    missing = [t for t in TOPICS if t not in covered]
    if missing:
        found.append(Finding("roster", "roster.topics_uncovered", "warning",
                             f"no active expert covers {len(missing)} of the 15 Healthy China topics: "
                             f"{'、'.join(missing)}; alerts on them are suggested experts of another field",
                             {"topics": "、".join(missing), "count": len(missing)}))
    no_mail = [e["name"] for e in experts if not (e.get("email") or "").strip()]
    if no_mail:
        found.append(Finding("roster", "roster.no_email", "warning",
                             f"{len(no_mail)} active expert(s) have no email address and are not told of the tasks "
                             f"offered to them: {'、'.join(no_mail[:10])}{' …' if len(no_mail) > 10 else ''}",
                             {"names": "、".join(no_mail[:10]) + (" …" if len(no_mail) > 10 else ""),
                              "count": len(no_mail)}))
    if not found:
        found.append(Finding("roster", "roster.ok", "ok",
                             f"{len(experts)} active expert(s), every Healthy China topic covered, each with a mailbox",
                             {"count": len(experts)}))
    return found


# --- notifications --------------------------------------------------------------------------

def check_smtp(cfg: dict) -> str | None:
    """Connect to the configured SMTP server, greet it, STARTTLS and log in as configured, quit:
    None when it all worked, else what failed. No mail is sent."""
    from .notify import smtp_session

    try:
        with smtp_session(cfg) as smtp:
            smtp.noop()
    except (smtplib.SMTPException, OSError) as exc:
        return f"{type(exc).__name__}: {exc}"
    return None


def check_notify(db, rules: dict, now: datetime, connect: bool = True) -> list[Finding]:
    cfg = rules["notify"]
    found = []
    webhooks = cfg.get("webhooks") or []
    monitors, leaders, admins = (cfg.get(k) or [] for k in ("monitor_emails", "leader_emails", "admin_emails"))
    if not webhooks and not monitors:
        found.append(Finding("notify", "notify.no_channel", "error",
                             "alerts, escalations and stopped sources reach nobody: set a group-bot webhook "
                             "(notify.webhooks) or the monitors' mailboxes (notify.monitor_emails) on 预警规则", {}))
    experts_mail = sum(1 for e in store.list_experts(db, active_only=True) if (e.get("email") or "").strip())
    wanted = {"monitors": len(monitors), "leaders": len(leaders), "admins": len(admins), "experts": experts_mail}
    if any(wanted.values()) and not cfg["smtp_host"]:
        found.append(Finding("notify", "notify.smtp_missing", "error",
                             f"{sum(wanted.values())} mailbox(es) are to be written to ({wanted['monitors']} monitors', "
                             f"{wanted['leaders']} leaders', {wanted['admins']} administrators', {experts_mail} "
                             "experts' on the roster) but no SMTP server is set (notify.smtp_host): no mail can go "
                             "out", wanted))
    elif cfg["smtp_host"]:
        params = {"host": cfg["smtp_host"], "port": int(cfg["smtp_port"])}
        if cfg["smtp_user"] and not os.environ.get(cfg["smtp_password_env"]):
            found.append(Finding("notify", "notify.smtp_password_missing", "error",
                                 f"SMTP user {cfg['smtp_user']} is set but its password variable "
                                 f"{cfg['smtp_password_env']} is not, in this environment", {
                                     **params, "variable": cfg["smtp_password_env"]}))
        elif connect:
            problem = check_smtp(cfg)
            if problem:
                found.append(Finding("notify", "notify.smtp_unreachable", "error",
                                     f"the SMTP server {params['host']}:{params['port']} did not accept a session: "
                                     f"{problem}", {**params, "problem": problem}))
            else:
                found.append(Finding("notify", "notify.smtp_ok", "ok",
                                     f"the SMTP server {params['host']}:{params['port']} accepted a session "
                                     "(no mail sent)", params))
    if not leaders:
        found.append(Finding("notify", "notify.no_leaders", "warning",
                             "no leaders' mailbox (notify.leader_emails): the daily, weekly and monthly reports and "
                             "the special reports are mailed to nobody", {}))
    if not admins:
        found.append(Finding("notify", "notify.no_admins", "warning",
                             "no administrators' mailbox (notify.admin_emails): nobody is told of locked accounts, "
                             "password guessing, new administrators or a restore", {}))
    pending = store.list_notifications(db, "pending", limit=100000)
    stuck = [n for n in pending if _ago(n["created_at"], now) > NOTICE_STUCK.total_seconds() / 3600
             and n["attempts"]]
    if stuck:
        oldest = min(stuck, key=lambda n: n["created_at"])
        urgent = sum(1 for n in stuck if n["urgent"])
        params = {"count": len(stuck), "urgent": urgent, "oldest": oldest["created_at"],
                  "target": oldest["target"], "error": (oldest["last_error"] or "")[:300]}
        found.append(Finding("notify", "notify.stuck", "error" if urgent else "warning",
                             f"{len(stuck)} notification(s) ({urgent} urgent) not delivered for over an hour; the "
                             f"oldest, to {oldest['target']} since {oldest['created_at']}: {params['error']}", params))
    if not found:
        found.append(Finding("notify", "notify.ok", "ok",
                             f"{len(webhooks)} group bot(s), {len(monitors)} monitors', {len(leaders)} leaders' and "
                             f"{len(admins)} administrators' mailbox(es); nothing waiting", {
                                 "webhooks": len(webhooks), "monitors": len(monitors), "leaders": len(leaders),
                                 "admins": len(admins)}))
    return found


# --- scheduled jobs -------------------------------------------------------------------------

def check_jobs(db, rules: dict, retention_days: int, now: datetime) -> list[Finding]:
    found = []
    last = store.workflow_state(db, ESCALATE_MARK)
    if not last:
        found.append(Finding("jobs", "jobs.escalate_never", "warning",
                             "`rumourwatch alerts escalate` has never run: without it (cron, every 5 minutes) a "
                             "stopped worker is reported to nobody and failed notifications wait for the worker", {}))
    elif now - parse_time(last) > ESCALATE_LATE:
        found.append(Finding("jobs", "jobs.escalate_late", "warning",
                             f"`rumourwatch alerts escalate` last ran {_ago(last, now):.1f} hours ago ({last}): "
                             "check its cron job", {"at": last, "hours": round(_ago(last, now), 1)}))
    else:
        found.append(Finding("jobs", "jobs.escalate_ok", "ok", f"`alerts escalate` last ran {last}", {"at": last}))
    cfg = rules["notify"]
    if cfg.get("leader_emails") or cfg.get("webhooks"):
        rows = db.execute("SELECT period, status, created_at FROM report_log WHERE kind = 'daily' AND channel = 'all' "
                          "ORDER BY id DESC LIMIT 1").fetchall()
        if not rows:
            found.append(Finding("jobs", "jobs.daily_report_never", "warning",
                                 "no daily report has been sent: add `rumourwatch report send --daily` to cron "
                                 "(each morning)", {}))
        else:
            period, status, at = rows[0]
            params = {"period": period, "at": at}
            if status != "sent":
                detail = "; ".join(r[0] for r in db.execute(
                    "SELECT detail FROM report_log WHERE kind = 'daily' AND period = ? AND status = 'failed' "
                    "AND channel != 'all' ORDER BY id DESC LIMIT 3", [period]).fetchall())
                found.append(Finding("jobs", "jobs.daily_report_failed", "warning",
                                     f"the daily report {period} was not delivered everywhere ({at}): {detail}",
                                     {**params, "detail": detail}))
            elif now - parse_time(at) > DAILY_REPORT_LATE:
                found.append(Finding("jobs", "jobs.daily_report_late", "warning",
                                     f"the last daily report sent was {period} ({at}): check `report send --daily` "
                                     "in cron", params))
            else:
                found.append(Finding("jobs", "jobs.daily_report_ok", "ok", f"daily report {period} sent {at}", params))
    if retention_days:
        runs = store.audit_entries(db, limit=1, actions=["retention.apply"])
        if not runs:
            found.append(Finding("jobs", "jobs.retention_never", "warning",
                                 f"a retention period of {retention_days} days is set but `rumourwatch retention "
                                 "--apply` has never run: nothing past it is removed", {"days": retention_days}))
        elif now - parse_time(runs[0]["at"]) > RETENTION_LATE:
            found.append(Finding("jobs", "jobs.retention_late", "warning",
                                 f"`rumourwatch retention --apply` last ran {runs[0]['at']}: check its daily cron job",
                                 {"days": retention_days, "at": runs[0]["at"]}))
        else:
            found.append(Finding("jobs", "jobs.retention_ok", "ok",
                                 f"retention period {retention_days} days, last applied {runs[0]['at']}",
                                 {"days": retention_days, "at": runs[0]["at"]}))
    return found


# --- sources --------------------------------------------------------------------------------

def check_sources(db, quiet_hours: float, now: datetime, sources_file: str | Path | None = None) -> list[Finding]:
    from .errors import SourceError
    from .source_config import load

    if sources_file is not None:
        try:
            load(sources_file)
        except SourceError as exc:
            return [Finding("sources", "sources.file_bad", "error",
                            f"{exc}: the worker goes on with the sources it had, and no change made on "
                            "数据源与质量 reaches it until the file is mended", {"problem": str(exc)})]
    return _source_states(db, quiet_hours, now) + _silent_channels(db, now)


def _silent_channels(db, now: datetime) -> list[Finding]:
    """The office's registered channels (rumourwatch.ownmedia) of which no item was collected in
    the last CHANNEL_QUIET_DAYS: their account is mistyped, or no source reads them, and the
    政务新媒体 page and the reports count nothing of them."""
    channels = store.list_own_accounts(db)
    if not channels:
        return []
    start, end = iso(now - timedelta(days=CHANNEL_QUIET_DAYS)), iso(now)
    heard = {(r["platform"], r["account"]) for r in store.own_account_counts(
        db, [(c["platform"], c["account"]) for c in channels], start, end) if r["posts"]}
    silent = [f"{c['name']}（{c['platform']} {c['account']}）" for c in channels
              if (c["platform"], c["account"]) not in heard]
    if not silent:
        return []
    return [Finding("sources", "sources.channels_silent", "warning",
                    f"{len(silent)} of the office's {len(channels)} registered channel(s) gave no item in the last "
                    f"{CHANNEL_QUIET_DAYS} days: {', '.join(silent)} (check the account on 政务新媒体, or add a "
                    "source that reads it on 数据源与质量)",
                    {"channels": "、".join(silent), "count": len(silent), "days": CHANNEL_QUIET_DAYS})]


def _source_states(db, quiet_hours: float, now: datetime) -> list[Finding]:
    from .worker import STALLED, source_health

    rows = store.source_status(db)
    judged = [(r["source"], source_health(r, now, quiet_hours)["state"]) for r in rows]
    live = [(name, state) for name, state in judged if state not in ("imported", "retired")]
    if not live:
        return [Finding("sources", "sources.none", "warning",
                        "the worker has read no feed yet: start it (`rumourwatch watch --source …`)", {})]
    bad = [(name, state) for name, state in live if state in STALLED or state == "error"]
    if bad:
        names = [f"{name} ({state})" for name, state in bad]
        return [Finding("sources", "sources.stalled", "error",
                        f"{len(bad)} of {len(live)} source(s) failing or silent: {', '.join(names)} (数据源与质量 "
                        "says since when)", {"sources": ", ".join(names), "count": len(bad), "total": len(live)})]
    return [Finding("sources", "sources.ok", "ok", f"{len(live)} source(s) read and giving items",
                    {"count": len(live)})]


# --- reports --------------------------------------------------------------------------------

def _cjk_font() -> bool:
    from .reports import CJK_FONT_FILE

    if Path(CJK_FONT_FILE).exists():
        return True
    if not shutil.which("fc-list"):
        return False
    try:
        out = subprocess.run(["fc-list", ":lang=zh", "family"], check=False, capture_output=True, text=True, timeout=20).stdout
    except (OSError, subprocess.SubprocessError):
        return False
    return bool(out.strip())


def check_reports(db, now: datetime) -> list[Finding]:
    from . import press
    from .reports import find_chromium, tr
    from .trainings import DUE_WARN_DAYS, half_status

    found = []
    if not find_chromium():
        found.append(Finding("reports", "reports.no_chromium", "warning",
                             "PDF reports cannot be made: Chromium is not installed (Debian package `chromium`, or "
                             "RUMOURWATCH_CHROMIUM); HTML and Markdown work", {}))
    if not _cjk_font():
        found.append(Finding("reports", "reports.no_cjk_font", "warning",
                             "no Chinese font is installed (Debian package `fonts-noto-cjk`): PDF reports and charts "
                             "would print boxes for Chinese", {}))
    if not store.list_units(db):
        found.append(Finding("reports", "reports.no_units", "warning",
                             "no units are loaded: the monthly notice ranks nobody against the monthly minimum "
                             "(`rumourwatch report import-units FILE.csv`)", {}))
    elif (half := half_status(db, now))["due_soon"]:
        found.append(Finding("reports", "reports.training_due", "warning",
                             f"no correspondents' training recorded in half {half['half']} of {half['year']}, "
                             f"{half['days_left']} day(s) before it ends (seed 002: one every half-year; within "
                             f"{DUE_WARN_DAYS} days of its end this is said): record it on 信息报送 › 通讯员培训",
                             {"year": half["year"], "half": tr(f"units.half.{half['half']}"),
                              "days": half["days_left"]}))
    for missing in press.due(db, now):
        found.append(Finding("reports", "reports.press_due", "warning",
                             f"no {missing['kind']} recorded this {missing['period']}, {missing['days_left']} day(s) "
                             f"before it ends (seed 004: {missing['rule']}): record it on 媒体约请 › 新闻发布与媒体活动登记",
                             {"kind": press.KIND_ZH[missing["kind"]], "days": missing["days_left"],
                              "period": tr(f"this.{'monthly' if missing['period'] == 'month' else 'annual'}"),
                              "rule": missing["rule"]}))
    if not found:
        found.append(Finding("reports", "reports.ok", "ok", "PDF reports can be made in Chinese; units loaded", {}))
    return found


# --- all of it ------------------------------------------------------------------------------

def run(db, settings, rules_path: str | Path | None = None, now: datetime | None = None,
        connect: bool = True) -> list[Finding]:
    """Every check, in AREAS order. A rules file that does not load is one error finding; the checks
    that read the rules are then skipped (said in that finding)."""
    from .alerts import load_rules
    from .errors import RumourwatchError
    now = now or store.now_utc()
    found = check_store(db, settings.db_path, now)
    found += check_audit_seal(db, settings.audit_key_file)
    found += check_models(settings.models_dir, now)
    found += check_accounts(db)
    found += check_roster(db)
    try:
        rules = load_rules(rules_path)
    except RumourwatchError as exc:
        found.append(Finding("rules", "rules.invalid", "error",
                             f"{exc} (notifications and scheduled jobs not checked)", {"problem": str(exc)}))
        rules = None
    else:
        found.append(Finding("rules", "rules.ok", "ok", "the alert rules file loads", {}))
        found += check_notify(db, rules, now, connect=connect)
        found += check_jobs(db, rules, settings.retention_days, now)
    found += check_sources(db, settings.source_quiet_hours, now, settings.sources_file)
    found += check_reports(db, now)
    return found


def summary(findings: list[Finding]) -> dict:
    return {level: sum(1 for f in findings if f.level == level) for level in LEVELS}


def mark_escalate(db, now: datetime) -> None:
    """Note that `rumourwatch alerts escalate` ran now (what jobs.escalate_* read)."""
    store.set_workflow_state(db, ESCALATE_MARK, iso(now))


def to_json(findings: list[Finding]) -> str:
    return json.dumps({"summary": summary(findings), "findings": [f.as_dict() for f in findings]},
                      ensure_ascii=False, indent=2)
