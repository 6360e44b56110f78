"""Alert rules over scored items → alerts with deadlines, and escalation when a deadline passes.

One alert per cluster: a rumour copied 500 times is one alert whose copies, reach and severity
grow as the copies arrive. Rules live in a TOML file (config/alert_rules.toml, editable on the
预警规则 page); `load_rules` validates it and names any bad key.

The live worker calls `evaluate_alerts(db, now, rules)` after each scoring pass; cron (or the
worker) calls `escalate_overdue` and `notify.deliver_pending`. `workflow_tick` does all three.
Clocks follow seed 001: information released within 5 h, a press conference within 24 h for the
highest severity.
"""

from __future__ import annotations

import copy
import fcntl
import hashlib
import json
import os
import tomllib
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from datetime import datetime, timedelta
from pathlib import Path

from . import store
from .config import REPO_ROOT
from .errors import ConfigError, RumourwatchError
from .records import CST, beijing, iso, parse_time

SEVERITIES = ("一级", "二级", "三级")  # highest first
SEVERITY_RANK = {s: i for i, s in enumerate(SEVERITIES)}
ALERT_STATUSES = ("open", "assigned", "in_progress", "in_review", "published", "dismissed")
DEFAULT_RULES_PATH = REPO_ROOT / "config" / "alert_rules.toml"


class WorkflowError(RumourwatchError):
    """A workflow action is not possible in the current state. `str()` says why in English (CLI,
    logs); `key` and `params` name the user's message: the dashboard shows its strings.py entry
    `wferr.<key>` formatted with `params` (ids, limits, the offending value), so every refusal has
    a Chinese text (tests/test_workflow_errors.py checks each raise site)."""

    def __init__(self, message: str, key: str, **params):
        super().__init__(message)
        self.key = key
        self.params = params


DEFAULT_RULES: dict = {
    # remind_hours: an accepted task's expert is reminded this long before its deadline (0: never)
    "clocks": {"respond_hours": 5.0, "conference_hours": 24.0, "conference_severities": ["一级"],
               "accept_hours": 1.0, "remind_hours": 1.0},
    "rumour": {"enabled": True, "min_probability": 0.9, "health_only": True, "velocity_window_hours": 1.0,
               "levels": [
                   {"severity": "一级", "min_copies": 50, "min_reach": 5000, "min_velocity": 500},
                   {"severity": "二级", "min_copies": 10, "min_reach": 500, "min_velocity": 50},
                   {"severity": "三级", "min_copies": 5, "min_reach": 100, "min_velocity": 20},
               ]},
    "opinion_spike": {"enabled": True, "window_hours": 6.0, "baseline_hours": 72.0, "min_items": 20,
                      "min_increase": 0.15, "severity": "二级", "dimensions": ["topic", "region"],
                      "every_minutes": 10.0},
    # a watched keyword raises one alert per story for its first `digest_after` stories in a
    # `digest_window_hours` window; its later stories in that window grow one digest alert instead
    "watch": {"enabled": True, "keywords": [], "accounts": [], "severity": "三级", "digest_after": 5,
              "digest_window_hours": 1.0},
    # a story the public keeps reporting (rumourwatch.tips): min_tips tips within window_hours
    "tips": {"enabled": True, "min_tips": 3, "window_hours": 24.0, "severity": "三级"},
    # a health hashtag taking off (rumourwatch.trending) with items flagged under it: one alert per
    # tag and Beijing day
    "tag_surge": {"enabled": True, "window_hours": 6.0, "baseline_hours": 48.0, "min_stories": 10,
                  "min_accounts": 5, "min_growth": 3.0, "min_flagged": 3, "flag_probability": 0.5,
                  "severity": "三级", "every_minutes": 10.0},
    "notify": {"quiet_hours": "22:00-07:00", "urgent_severities": ["一级"], "retry_base_seconds": 60.0,
               "retry_max_seconds": 3600.0, "timeout_seconds": 10.0, "webhooks": [], "monitor_emails": [],
               "leader_emails": [], "admin_emails": [], "security_failed_logins": 10, "smtp_host": "", "smtp_port": 25, "smtp_from": "rumourwatch@example.org",
               "smtp_starttls": False, "smtp_user": "", "smtp_password_env": "RUMOURWATCH_SMTP_PASSWORD"},
}


# --- rules file ------------------------------------------------------------------------------

def _check(cond: bool, rule: str, message: str, key: str, **params) -> None:
    """Refuse the rules unless `cond`: ConfigError 'alert rule <rule>: <message>' (English), and
    `wferr.<key>` naming the rule (and `params`) for the dashboard."""
    if not cond:
        raise ConfigError(f"alert rule {rule}: {message}", key, rule=rule, **params)


def validate_rules(raw: dict) -> dict:
    """Defaults filled in, types checked; ConfigError names the first bad key."""
    if not isinstance(raw, dict):
        raise ConfigError("alert rules must be a table of sections", "rules_shape")
    rules = copy.deepcopy(DEFAULT_RULES)
    for section, values in raw.items():
        _check(section in rules, section, f"unknown section; expected one of {', '.join(rules)}",
               "rules_unknown_section", expected=", ".join(rules))
        _check(isinstance(values, dict), section, "must be a table", "rules_not_table")
        for key, value in values.items():
            name = f"{section}.{key}"
            _check(key in rules[section], name, "unknown key", "rules_unknown_key")
            default = rules[section][key]
            if isinstance(default, bool):
                _check(isinstance(value, bool), name, "must be true or false", "rules_bool")
            elif isinstance(default, (int, float)):
                _check(isinstance(value, (int, float)) and not isinstance(value, bool), name, "must be a number",
                       "rules_number")
                _check(value >= 0, name, "must not be negative", "rules_negative")
                value = type(default)(value)
            elif isinstance(default, str):
                _check(isinstance(value, str), name, "must be a string", "rules_string")
            elif isinstance(default, list):
                _check(isinstance(value, list), name, "must be a list", "rules_list")
            rules[section][key] = value
    r = rules["rumour"]
    _check(0 <= r["min_probability"] <= 1, "rumour.min_probability", "must be between 0 and 1", "rules_probability")
    _check(bool(r["levels"]), "rumour.levels", "needs at least one level", "rules_no_levels")
    for i, level in enumerate(r["levels"]):
        key = f"rumour.levels[{i}]"
        _check(isinstance(level, dict), key, "must be a table", "rules_not_table")
        _check(level.get("severity") in SEVERITIES, key + ".severity", f"must be one of {'/'.join(SEVERITIES)}",
               "rules_severity", value=level.get("severity"))
        for k, v in level.items():
            _check(k in ("severity", "min_copies", "min_reach", "min_velocity"), f"{key}.{k}", "unknown key",
                   "rules_unknown_key")
            if k != "severity":
                _check(isinstance(v, (int, float)) and not isinstance(v, bool) and v >= 0, f"{key}.{k}",
                       "must be a number ≥ 0", "rules_level_number", value=v)
    _check(0 <= rules["tag_surge"]["flag_probability"] <= 1, "tag_surge.flag_probability", "must be between 0 and 1",
           "rules_probability")
    for key in ("window_hours", "baseline_hours"):
        _check(rules["tag_surge"][key] > 0, f"tag_surge.{key}", "must be greater than 0", "rules_positive")
    for sec in ("opinion_spike", "watch", "tips", "tag_surge"):
        _check(rules[sec]["severity"] in SEVERITIES, f"{sec}.severity", f"must be one of {'/'.join(SEVERITIES)}",
               "rules_severity", value=rules[sec]["severity"])
    for sec, key in (("clocks", "conference_severities"), ("notify", "urgent_severities")):
        for s in rules[sec][key]:
            _check(s in SEVERITIES, f"{sec}.{key}", f"{s!r} is not one of {'/'.join(SEVERITIES)}",
                   "rules_severity", value=s)
    for d in rules["opinion_spike"]["dimensions"]:
        _check(d in ("topic", "region"), "opinion_spike.dimensions", f"{d!r} must be topic or region",
               "rules_dimension", value=d)
    _check(rules["watch"]["digest_window_hours"] > 0, "watch.digest_window_hours", "must be greater than 0",
           "rules_positive")
    _check(rules["clocks"]["respond_hours"] > 0, "clocks.respond_hours", "must be greater than 0", "rules_positive")
    _check(rules["clocks"]["conference_hours"] > 0, "clocks.conference_hours", "must be greater than 0",
           "rules_positive")
    parse_quiet_hours(rules["notify"]["quiet_hours"])
    for i, hook in enumerate(rules["notify"]["webhooks"]):
        url = hook.get("url", "") if isinstance(hook, dict) else hook
        _check(isinstance(hook, dict) and str(url).startswith(("http://", "https://")),
               f"notify.webhooks[{i}]", "needs a url starting with http:// or https://", "rules_webhook_url",
               value=url)
        _check(hook.get("format", "markdown") in ("markdown", "text"), f"notify.webhooks[{i}].format",
               "must be markdown or text", "rules_webhook_format", value=hook.get("format"))
    for key in ("keywords", "accounts"):
        rules["watch"][key] = list(dict.fromkeys(str(v).strip() for v in rules["watch"][key] if str(v).strip()))
    watched_queries(rules)  # every watched keyword must be a query 条目检索 can run
    return rules


def watched_queries(rules: dict) -> list:
    """The watched keywords as search queries (rumourwatch.search: space = all words, | = either,
    - = not, quotes keep a phrase), in the rules' order; a line that is not a query is a ConfigError
    that names it and says why."""
    from .search import SearchError, parse_query

    out = []
    for keyword in rules["watch"]["keywords"]:
        try:
            out.append(parse_query(keyword))
        except SearchError as exc:
            raise ConfigError(f"alert rule watch.keywords: {keyword!r} cannot be searched for: {exc}",
                              "rules_watch_keyword", rule="watch.keywords", keyword=keyword,
                              reason={"key": exc.key, "params": exc.params}) from None
    return out


def parse_quiet_hours(text: str) -> tuple[int, int] | None:
    """'22:00-07:00' → minutes (1320, 420); '' → None (no quiet hours)."""
    if not text:
        return None
    try:
        start, end = text.split("-")
        sh, sm = (int(x) for x in start.strip().split(":"))
        eh, em = (int(x) for x in end.strip().split(":"))
        assert 0 <= sh < 24 and 0 <= eh < 24 and 0 <= sm < 60 and 0 <= em < 60
    except (ValueError, AssertionError):
        raise ConfigError(f"alert rule notify.quiet_hours: {text!r} must look like 22:00-07:00 (China time)",
                          "rules_quiet_hours", value=text) from None
    return sh * 60 + sm, eh * 60 + em


def rules_path(path: str | Path | None = None) -> Path:
    """The given path, else the `alert_rules` setting (RUMOURWATCH_ALERT_RULES)."""
    from .config import load_settings

    return Path(path or load_settings().alert_rules)


def load_rules(path: str | Path | None = None) -> dict:
    """Rules from the TOML file (the `alert_rules` setting, default config/alert_rules.toml)."""
    p = rules_path(path)
    if not p.exists():
        raise ConfigError(f"alert rules file {p} does not exist; copy config/alert_rules.toml there",
                          "rules_missing", path=str(p))
    try:
        raw = tomllib.loads(p.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"alert rules file {p} is not valid TOML: {exc}", "rules_toml", path=str(p)) from None
    return validate_rules(raw)


def _toml_value(v) -> str:
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, (int, float)):
        return repr(v)
    if isinstance(v, str):
        return json.dumps(v, ensure_ascii=False)
    if isinstance(v, dict):
        return "{ " + ", ".join(f"{k} = {_toml_value(x)}" for k, x in v.items()) + " }"
    if isinstance(v, list):
        if v and isinstance(v[0], dict):
            return "[\n" + "".join(f"  {_toml_value(x)},\n" for x in v) + "]"
        return "[" + ", ".join(_toml_value(x) for x in v) + "]"
    raise ConfigError(f"cannot write {v!r} to the rules file", "rules_unwritable", value=v)


def dump_rules(rules: dict) -> str:
    """TOML text of validated rules (round-trips through load_rules)."""
    rules = validate_rules(rules)
    out = ["# Alert rules for rumourwatch (written by the 预警规则 page; see docs in the default file).", ""]
    for section, values in rules.items():
        out.append(f"[{section}]")
        out.extend(f"{k} = {_toml_value(v)}" for k, v in values.items())
        out.append("")
    return "\n".join(out)


def rules_version(path: str | Path | None = None) -> str:
    """The rules file's version as it is now (a hash of its bytes; "" when there is none): what
    `save_rules(expected_version=…)` compares, so a form drawn from older rules is not saved over
    a change made since (a keyword a monitor watched from 条目检索)."""
    p = rules_path(path)
    try:
        return hashlib.sha256(p.read_bytes()).hexdigest()
    except FileNotFoundError:
        return ""
    except OSError as exc:
        raise ConfigError(f"cannot read the alert rules file {p}: {exc}", "rules_unreadable", path=str(p)) from exc


def save_rules(rules: dict, path: str | Path | None = None, actor: str | None = None, db=None,
               change: dict | None = None, expected_version: str | None = None) -> Path:
    """Validate and write the rules file atomically. With a db the change is audited, and the file
    and its audit entry are saved together or not at all: the file is swapped in as the last step
    of the audit entry's transaction, and put back when that transaction fails to commit. A file
    that cannot be written is a ConfigError, the database's failure a StoreError.

    Saves are one at a time (a lock on the rules file's folder, for the dashboard's sessions and
    the command line alike). With `expected_version` (`rules_version` when the rules were read) the save
    is refused, ConfigError `rules_changed`, when the file has changed since."""
    text = dump_rules(rules)
    p = rules_path(path)
    with _locked(p):
        if expected_version is not None and rules_version(p) != expected_version:
            raise ConfigError(f"the alert rules file {p} has changed since it was read (another user saved it); "
                              "read it again and redo the change", "rules_changed", path=str(p))
        return _save_rules(rules, text, p, actor, db, change)


@contextmanager
def _locked(p: Path) -> Iterator[None]:
    """An exclusive lock on the rules file's folder while the rules are saved (the folder always
    exists, so no lock file is left behind)."""
    with _writing(p):
        fd = os.open(p.parent, os.O_RDONLY)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)  # closing releases the lock


def _save_rules(rules: dict, text: str, p: Path, actor: str | None, db, change: dict | None) -> Path:
    tmp = p.with_suffix(p.suffix + ".tmp")
    try:
        with _writing(p):
            tmp.write_text(text, encoding="utf-8")
            before = p.read_bytes() if db is not None and p.exists() else None
        if db is None:
            with _writing(p):
                tmp.replace(p)
            return p
        swapped = False
        try:
            with store.transaction(db):
                store.record_audit(db, actor or "system", "rules.save", "rules", str(p),
                                   {"rules": rules} | ({"change": change} if change else {}))
                with _writing(p):
                    tmp.replace(p)
                swapped = True
        except RumourwatchError:
            if swapped:  # the COMMIT failed: the file goes back to the rules the audit log describes
                _put_back_rules(p, tmp, before)
            raise
        return p
    finally:
        with suppress(OSError):  # the folder that refused the file refuses this too: nothing was left
            tmp.unlink(missing_ok=True)


WATCH_KINDS = ("keywords", "accounts")
# what raised an alert (alerts.kind): the model's rumour rule, a watched keyword or account, the
# public's tips, a rise in negative opinion, a health hashtag taking off, a monitor's own judgement
# (raise_alert)
ALERT_KINDS = ("rumour", "keyword", "tip", "opinion_spike", "tag_surge", "manual")
RAISE_REASON_MAX = 500


def set_watched(kind: str, value: str, watched: bool, actor: str, db, path: str | Path | None = None) -> bool:
    """Watch (or stop watching) one keyword or account (`kind` "keywords" or "accounts"): what a
    monitor does from 条目检索 without the whole 预警规则 page. The rules file is read afresh, changed
    in that one line and saved with an audit entry naming the change (save_rules); a keyword that is
    not a query is refused before anything is written. False when there was nothing to change."""
    if kind not in WATCH_KINDS:
        raise ValueError(f"kind must be one of {', '.join(WATCH_KINDS)}, not {kind!r}")
    value = (value or "").strip()
    _check(bool(value), f"watch.{kind}", "needs a keyword or an account, not an empty line", "rules_watch_empty")
    version = rules_version(path)
    rules = load_rules(path)
    current = rules["watch"][kind]
    if (value in current) == watched:
        return False
    rules["watch"][kind] = current + [value] if watched else [v for v in current if v != value]
    save_rules(rules, path, actor=actor, db=db, change={f"watch.{kind}": {"added" if watched else "removed": value}},
               expected_version=version)
    return True


@contextmanager
def _writing(p: Path) -> Iterator[None]:
    """A rules file that cannot be read or written: a ConfigError naming it."""
    try:
        yield
    except OSError as exc:
        raise ConfigError(f"cannot write the alert rules file {p}: {exc}", "rules_write_failed", path=str(p)) from exc


def _put_back_rules(p: Path, tmp: Path, before: bytes | None) -> None:
    try:
        if before is None:
            p.unlink(missing_ok=True)
        else:
            tmp.write_bytes(before)
            tmp.replace(p)
    except OSError as exc:
        raise ConfigError(f"the alert rules file {p} was written but its audit entry was not saved, and the "
                          f"previous file could not be put back: {exc}", "rules_not_put_back", path=str(p)) from exc


# --- helpers ---------------------------------------------------------------------------------

def _dt(text: str | None) -> datetime | None:
    return parse_time(text) if text else None


def item_region(user_json: str | None, extra_json: str | None = None) -> str | None:
    """The region an item speaks for, from its account facts (province / location), when known."""
    for raw in (extra_json, user_json):
        if not raw:
            continue
        try:
            data = json.loads(raw)
        except ValueError:
            continue
        if not isinstance(data, dict):
            continue
        for key in ("region", "province", "location"):
            value = data.get(key)
            if isinstance(value, str) and value.strip():
                return value.strip().split()[0]
    return None


def deadlines(created_at: datetime, severity: str, rules: dict) -> tuple[str, str | None]:
    c = rules["clocks"]
    respond_by = iso(created_at + timedelta(hours=c["respond_hours"]))
    conference_by = (iso(created_at + timedelta(hours=c["conference_hours"]))
                     if severity in c["conference_severities"] else None)
    return respond_by, conference_by


def time_left(deadline: str | None, now: datetime) -> timedelta | None:
    """Time until a deadline (negative when overdue); None when there is no deadline."""
    return None if not deadline else _dt(deadline) - now


def _rumour_severity(metrics: dict, rules: dict) -> tuple[str | None, str]:
    for level in sorted(rules["rumour"]["levels"], key=lambda lv: SEVERITY_RANK[lv["severity"]]):
        hits = []
        for key, label, unit in (("min_copies", "副本", "条"), ("min_reach", "转评", "次"),
                                 ("min_velocity", "近期互动", "次")):
            threshold = level.get(key)
            value = metrics[{"min_copies": "copies", "min_reach": "reach", "min_velocity": "velocity"}[key]]
            if threshold is not None and threshold > 0 and value >= threshold:
                hits.append(f"{label}{value}{unit}≥{threshold:g}")
        if hits:
            return level["severity"], "、".join(hits)
    return None, ""


# --- evaluation ------------------------------------------------------------------------------

def _upsert_alert(db, now: datetime, rules: dict, key: str, kind: str, severity: str, rule_reason: dict,
                  fields: dict, metrics: dict) -> tuple[int, bool]:
    """Create the alert for `key` or grow the existing one. Returns (id, changed)."""
    from . import notify

    at = iso(now)
    existing = store.get_alert_by_key(db, key)
    if existing is None:
        respond_by, conference_by = deadlines(now, severity, rules)
        row = dict(dedupe_key=key, kind=kind, rules=json.dumps([rule_reason], ensure_ascii=False),
                   severity=severity, metrics=json.dumps(metrics, ensure_ascii=False), created_at=at,
                   updated_at=at, respond_by=respond_by, conference_by=conference_by, status="open", **fields)
        alert_id = store.insert_alert(db, row)
        store.add_alert_step(db, alert_id, "created", at, "system", rule_reason["reason"])
        store.record_audit(db, "system", "alert.create", "alert", alert_id,
                           {"severity": severity, "rule": rule_reason, "key": key}, at=at)
        notify.queue_alert_event(db, store.get_alert(db, alert_id), "alert_new", rules, now)
        return alert_id, True
    alert_id = existing["id"]
    changes: dict = {}
    old_rules = json.loads(existing["rules"] or "[]")
    merged = [r for r in old_rules if r["rule"] != rule_reason["rule"]] + [rule_reason]
    if merged != old_rules:
        changes["rules"] = json.dumps(merged, ensure_ascii=False)
    old_metrics = json.loads(existing["metrics"] or "{}")
    new_metrics = dict(old_metrics, **metrics)
    if new_metrics != old_metrics:
        changes["metrics"] = json.dumps(new_metrics, ensure_ascii=False)
    for k, v in fields.items():
        if v is not None and existing.get(k) != v and k in ("item_count", "item_id", "title", "topic", "region"):
            changes[k] = v
    upgraded = SEVERITY_RANK[severity] < SEVERITY_RANK[existing["severity"]]
    if upgraded:
        changes["severity"] = severity
        _, conference_by = deadlines(_dt(existing["created_at"]), severity, rules)
        if conference_by and not existing["conference_by"]:
            changes["conference_by"] = conference_by
        if existing["status"] == "dismissed":
            # dismissed as a false alarm, but it kept spreading to a higher severity: look again
            changes.update(status="open", closed_at=None)
    if not changes:
        return alert_id, False
    changes["updated_at"] = at
    store.update_alert(db, alert_id, changes)
    if upgraded:
        store.add_alert_step(db, alert_id, "upgraded", at, "system", f"{existing['severity']} → {severity}")
        if existing["status"] == "dismissed":
            store.add_alert_step(db, alert_id, "reopened", at, "system", "已排除的预警升级，重新打开")
        store.record_audit(db, "system", "alert.upgrade", "alert", alert_id,
                           {"from": existing["severity"], "to": severity, "rule": rule_reason}, at=at)
        notify.queue_alert_event(db, store.get_alert(db, alert_id), "alert_upgraded", rules, now)
    return alert_id, True


def _cluster_fields(m: dict) -> dict:
    rep = m["representative"]
    title = (rep.get("title") or rep.get("text") or "").replace("\n", " ")[:60]
    return {"cluster_id": None, "item_id": rep["id"], "topic": rep.get("topic"),
            "region": item_region(rep.get("user_json")), "title": title, "item_count": m["copies"]}


def _public_metrics(m: dict) -> dict:
    return {k: m[k] for k in ("copies", "reach", "velocity", "max_probability")}


def _first_of_each_story(rows, id_key: str = "id"):
    """The first row of each story (cluster, else lone item) among `rows`."""
    seen = set()
    for row in rows:
        group = ("c", row["cluster_id"]) if row["cluster_id"] is not None else ("i", row[id_key])
        if group not in seen:
            seen.add(group)
            yield row


def _story_key(cluster_id: int | None, item_id: int) -> str:
    """The alert key of a story: its cluster, else the lone item (one alert per story)."""
    return f"cluster:{cluster_id}" if cluster_id is not None else f"item:{item_id}"


def _story_alert(db, now: datetime, rules: dict, touched: set, cluster_id: int | None, item_id: int, m: dict,
                 kind: str, severity: str, reason: dict) -> None:
    """Create or grow the one alert of a story (its cluster, else the lone item) whose spread is `m`
    (store.cluster_metrics)."""
    fields = _cluster_fields(m)
    fields["cluster_id"] = cluster_id
    key = _story_key(cluster_id, item_id)
    alert_id, changed = _upsert_alert(db, now, rules, key, kind, severity, reason, fields, _public_metrics(m))
    if changed:
        touched.add(alert_id)


def _evaluate_rumours(db, now: datetime, rules: dict, touched: set) -> None:
    r = rules["rumour"]
    if not r["enabled"]:
        return
    # Score rows are append-only, so their id marks exactly what was scored since the last pass.
    since = int(store.workflow_state(db, "alerts.score_mark") or 0)
    mark = store.max_score_id(db)
    candidates = store.scored_candidates(db, since, r["min_probability"], r["health_only"])
    velocity_since = iso(now - timedelta(hours=r["velocity_window_hours"]))
    for c in _first_of_each_story(candidates):
        m = store.cluster_metrics(db, c["cluster_id"], c["id"], velocity_since)
        severity, why = _rumour_severity(m, rules)
        if severity is None:
            continue
        reason = {"rule": "rumour", "reason": f"谣言概率{m['max_probability']:.2f}≥{r['min_probability']:g}，{why}"}
        _story_alert(db, now, rules, touched, c["cluster_id"], c["id"], m, "rumour", severity, reason)
    store.set_workflow_state(db, "alerts.score_mark", str(mark))


def watch_window(now: datetime, hours: float) -> datetime:
    """The start of the digest window holding `now`: windows of `hours` counted from a Beijing-time
    midnight, so a one-hour window is a clock hour and a 24-hour one a Beijing day."""
    step = hours * 3600
    local = now.astimezone(CST)
    midnight = local.replace(hour=0, minute=0, second=0, microsecond=0)
    return midnight + timedelta(seconds=((local - midnight).total_seconds() // step) * step)


def _evaluate_watch(db, now: datetime, rules: dict, touched: set) -> None:
    w = rules["watch"]
    after = int(store.workflow_state(db, "alerts.watch_item_mark") or 0)
    rows = store.items_after(db, after)
    if rows:
        store.set_workflow_state(db, "alerts.watch_item_mark", str(rows[-1]["id"]))
    # a post the models cannot read is matched again by the Chinese gist of each new human reading
    # (rumourwatch.readings): its own text has no Chinese for a watched keyword to find
    read_after = int(store.workflow_state(db, "alerts.watch_reading_mark") or 0)
    read = store.readings_after(db, read_after)
    if read:
        store.set_workflow_state(db, "alerts.watch_reading_mark", str(read[-1]["reading_id"]))
    rows = rows + read
    if not w["enabled"] or not (w["keywords"] or w["accounts"]):
        return
    from .search import fold

    queries = list(zip(w["keywords"], watched_queries(rules)))
    velocity_since = iso(now - timedelta(hours=rules["rumour"]["velocity_window_hours"]))
    counts = _WatchCounts(db, watch_window(now, w["digest_window_hours"]))
    digests: dict = {}
    for row in rows:
        # as 条目检索 finds them: in the title or the text, in either width and case
        text = fold(f"{row['title'] or ''}\x00{row['text'] or ''}") if queries else ""
        keywords = [k for k, q in queries if q.matches(text)]
        # a watched account's post was alerted on when it arrived, not again when it is read
        account = bool(row["account"] and row["account"] in w["accounts"] and "reading_id" not in row)
        if not (keywords or account):
            continue
        key = _story_key(row["cluster_id"], row["id"])
        if store.get_alert_by_key(db, key) is None and w["digest_after"]:
            # a story without an alert yet: an alert of its own for each keyword still under its
            # window's limit, into the keyword's digest for the others
            busy = [k for k in keywords if counts.alerted.get(k, 0) >= w["digest_after"]]
            for k in busy:
                digests.setdefault(k, []).append((key, row["id"]))
            keywords = [k for k in keywords if k not in busy]
            if not (keywords or account):
                continue
            for k in keywords:
                counts.alerted[k] = counts.alerted.get(k, 0) + 1
        hits = [f"命中关注词「{k}」" for k in keywords] + ([f"关注账号「{row['account']}」发布"] if account else [])
        m = store.cluster_metrics(db, row["cluster_id"], row["id"], velocity_since)
        _story_alert(db, now, rules, touched, row["cluster_id"], row["id"], m, "keyword", w["severity"],
                     {"rule": "watch", "reason": "；".join(hits)})
    for keyword, stories in digests.items():
        _digest_alert(db, now, rules, touched, counts, keyword, stories)
    counts.save()


class _WatchCounts:
    """How many stories each watched keyword has alerted on one by one in the current digest window,
    and the stories already in each keyword's digest (workflow state "alerts.watch_digest")."""

    KEY = "alerts.watch_digest"

    def __init__(self, db, window: datetime):
        self.db, self.window = db, iso(window)
        state = json.loads(store.workflow_state(db, self.KEY) or "{}")
        if state.get("window") != self.window:  # a new window starts every count afresh
            state = {}
        self.alerted: dict = state.get("alerted", {})
        # sets while the poll runs: a flood gathers thousands of stories in one window
        self.digested: dict = {k: set(v) for k, v in state.get("digested", {}).items()}

    def save(self) -> None:
        digested = {k: sorted(v) for k, v in self.digested.items()}
        store.set_workflow_state(self.db, self.KEY, json.dumps(
            {"window": self.window, "alerted": self.alerted, "digested": digested}, ensure_ascii=False))


DIGEST_SHOWN = 20  # the latest stories a digest names (an item of each), for the alert page


def _digest_alert(db, now: datetime, rules: dict, touched: set, counts: _WatchCounts, keyword: str,
                  stories: list[tuple[str, int]]) -> None:
    """Grow the one alert that gathers `keyword`'s stories ((alert key, item id) each) past its
    window's limit: the alert says how many stories it holds and names the latest DIGEST_SHOWN by one
    item each (the alert page lists them, and opens 条目检索 for all). A copy of a story already
    gathered does not count again."""
    w = rules["watch"]
    seen = counts.digested.setdefault(keyword, set())
    first_item = {}
    for key, item_id in stories:
        if key not in seen:
            first_item.setdefault(key, item_id)
    if not first_item:
        return
    seen |= set(first_item)
    hours = f"{w['digest_window_hours']:g}"
    since = beijing(counts.window, "%m-%d %H:%M")
    reason = {"rule": "watch_digest",
              "reason": f"关注词「{keyword}」自{since}（北京时间）起{hours}小时内已单独预警{w['digest_after']}个事件，"
                        f"其后命中的{len(seen)}个事件合并为本条预警"}
    fields = {"cluster_id": None, "item_id": None, "topic": None, "region": None,
              "title": f"关注词「{keyword}」{hours}小时内新增事件较多（汇总）", "item_count": len(seen)}
    key = f"watch:{keyword}:{counts.window}"
    existing = store.get_alert_by_key(db, key)
    shown = json.loads(existing["metrics"] or "{}").get("latest_items", []) if existing else []
    metrics = {"keyword": keyword, "stories": len(seen), "window_start": counts.window,
               "window_hours": w["digest_window_hours"], "digest_after": w["digest_after"],
               "latest_items": ([*reversed(first_item.values()), *shown])[:DIGEST_SHOWN]}
    alert_id, changed = _upsert_alert(db, now, rules, key, "keyword", w["severity"], reason, fields, metrics)
    if changed:
        touched.add(alert_id)


def _evaluate_tips(db, now: datetime, rules: dict, touched: set) -> None:
    """A story named by `min_tips` tips received within `window_hours` (rumourwatch.tips) is an
    alert, whatever the model scores it: callers keep reporting what they keep seeing."""
    r = rules["tips"]
    after = int(store.workflow_state(db, "alerts.tip_mark") or 0)
    rows = store.tips_after(db, after)
    if rows:
        store.set_workflow_state(db, "alerts.tip_mark", str(rows[-1]["id"]))
    if not r["enabled"] or not rows:
        return
    since = iso(now - timedelta(hours=r["window_hours"]))
    velocity_since = iso(now - timedelta(hours=rules["rumour"]["velocity_window_hours"]))
    for row in _first_of_each_story(rows, "item_id"):
        n = store.story_tips(db, row["item_id"], since)["n"]
        if n < max(r["min_tips"], 1):
            continue
        m = store.cluster_metrics(db, row["cluster_id"], row["item_id"], velocity_since)
        _story_alert(db, now, rules, touched, row["cluster_id"], row["item_id"], m, "tip", r["severity"],
                     {"rule": "tips", "reason": f"{r['window_hours']:g} 小时内公众举报 {n} 次"})


def _share_by_region(rows: list[dict]) -> dict:
    out: dict = {}
    for r in rows:
        region = item_region(r["user_json"], r["extra_json"])
        if region is None:
            continue
        neg, n = out.get(region, (0, 0))
        out[region] = (neg + (r["polarity"] == "negative"), n + 1)
    return out


def _due(db, state: str, every_minutes: float, now: datetime) -> bool:
    """Whether a rule over many items runs now: `every_minutes` since its last run (workflow state
    `state`), or a clock set back; if so, now is recorded as its last run."""
    last = _dt(store.workflow_state(db, state))
    if last is not None and now - last < timedelta(minutes=every_minutes) and now >= last:
        return False
    store.set_workflow_state(db, state, iso(now))
    return True


def _evaluate_spikes(db, now: datetime, rules: dict, touched: set) -> None:
    s = rules["opinion_spike"]
    if not s["enabled"] or not s["dimensions"]:
        return
    if not _due(db, "alerts.spike_at", s["every_minutes"], now):
        return
    end = now
    start = now - timedelta(hours=s["window_hours"])
    base_start = start - timedelta(hours=s["baseline_hours"])
    for dim in s["dimensions"]:
        if dim == "topic":
            cur = store.opinion_window_counts(db, "topic", iso(start), iso(end))
            base = store.opinion_window_counts(db, "topic", iso(base_start), iso(start))
        else:
            cur = _share_by_region(store.opinion_window_items(db, iso(start), iso(end)))
            base = _share_by_region(store.opinion_window_items(db, iso(base_start), iso(start)))
        for value, (neg, n) in cur.items():
            bneg, bn = base.get(value, (0, 0))
            if n < s["min_items"] or bn < s["min_items"]:
                continue
            share, bshare = neg / n, bneg / bn
            if share - bshare < s["min_increase"]:
                continue
            label = "话题" if dim == "topic" else "地区"
            reason = {"rule": "opinion_spike",
                      "reason": f"{label}「{value}」近{s['window_hours']:g}小时负面占比{share:.1%}，"
                                f"高于基线{bshare:.1%}（{n}条）"}
            fields = {"cluster_id": None, "item_id": None, "topic": value if dim == "topic" else None,
                      "region": value if dim == "region" else None,
                      "title": f"{label}「{value}」负面舆情上升", "item_count": n}
            metrics = {"negative_share": round(share, 4), "baseline_share": round(bshare, 4), "items": n,
                       "negative": neg}
            key = f"spike:{dim}:{value}:{store.china_day(start)}"
            alert_id, changed = _upsert_alert(db, now, rules, key, "opinion_spike", s["severity"], reason, fields,
                                              metrics)
            if changed:
                touched.add(alert_id)


def _evaluate_tags(db, now: datetime, rules: dict, touched: set) -> None:
    """A health hashtag taking off (rumourwatch.trending: stories from several accounts, rising or new
    against the hours before) with items flagged as likely rumours under it: one alert per tag and
    Beijing day, grown as it goes on. Not before the store covers the hours before the window: on a
    feed that has just started every tag would read as new."""
    from .trending import tag_stats

    r = rules["tag_surge"]
    if not r["enabled"]:
        return
    if not _due(db, "alerts.tags_at", r["every_minutes"], now):
        return
    start = now - timedelta(hours=r["window_hours"])
    earliest = store.earliest_published(db)
    if earliest is None or earliest > iso(start - timedelta(hours=r["baseline_hours"])):
        return
    stats = tag_stats(db, now, r["flag_probability"], r["window_hours"], r["baseline_hours"])
    for tag, t in sorted(stats.items()):
        if (t["stories"] < r["min_stories"] or t["accounts"] < r["min_accounts"] or t["flagged"] < r["min_flagged"]
                or (t["growth"] is not None and t["growth"] < r["min_growth"])):
            continue
        trend = "新出现" if t["growth"] is None else f"为此前{r['baseline_hours']:g}小时的{t['growth']:g}倍"
        reason = {"rule": "tag_surge",
                  "reason": f"话题「#{tag}#」近{r['window_hours']:g}小时{t['stories']}个相关事件（{t['accounts']}个账号，"
                            f"疑似谣言{t['flagged']}条），{trend}"}
        fields = {"cluster_id": None, "item_id": None, "topic": None, "region": None,
                  "title": f"话题「#{tag}#」热度上升", "item_count": t["stories"]}
        metrics = {"tag": tag, "stories": t["stories"], "accounts": t["accounts"], "flagged": t["flagged"],
                   "before_stories": t["before_stories"], "growth": t["growth"], "window_hours": r["window_hours"],
                   "window_end": iso(now)}
        alert_id, changed = _upsert_alert(db, now, rules, f"tag:{tag}:{store.china_day(now)}", "tag_surge",
                                          r["severity"], reason, fields, metrics)
        if changed:
            touched.add(alert_id)


def evaluate_alerts(db, now: datetime, rules: dict | None = None) -> list[int]:
    """Run the alert rules over what changed since the last call; create or grow alerts.

    Returns the ids of alerts created or updated (one per cluster, however many copies arrived).
    New and upgraded alerts queue notifications; `notify.deliver_pending` sends them.
    """
    rules = rules or load_rules()
    touched: set = set()
    with store.transaction(db):
        _evaluate_rumours(db, now, rules, touched)
        _evaluate_watch(db, now, rules, touched)
        _evaluate_tips(db, now, rules, touched)
        _evaluate_spikes(db, now, rules, touched)
        _evaluate_tags(db, now, rules, touched)
    return sorted(touched)


# --- clocks and escalation -------------------------------------------------------------------

def escalate_overdue(db, now: datetime, rules: dict | None = None) -> list[dict]:
    """Escalate every alert past a deadline and every overdue assignment, once each.

    Leaders are notified (urgent, ignores quiet hours) and the step is recorded. Returns the events.
    """
    from . import notify

    rules = rules or load_rules()
    at = iso(now)
    events = []
    with store.transaction(db):
        for alert in store.alerts_due_for_escalation(db, at):
            changes = {}
            if alert["responded_at"] is None and alert["respond_escalated_at"] is None and alert["respond_by"] <= at:
                changes["respond_escalated_at"] = at
                events.append({"alert_id": alert["id"], "deadline": "respond_by", "due": alert["respond_by"]})
            if (alert["conference_by"] and alert["conference_at"] is None and alert["conference_escalated_at"] is None
                    and alert["conference_by"] <= at):
                changes["conference_escalated_at"] = at
                events.append({"alert_id": alert["id"], "deadline": "conference_by", "due": alert["conference_by"]})
            store.update_alert(db, alert["id"], changes)
            for deadline in ("respond_by", "conference_by"):
                if f"{'respond' if deadline == 'respond_by' else 'conference'}_escalated_at" in changes:
                    store.add_alert_step(db, alert["id"], f"escalated:{deadline}", at, "system",
                                         f"超过时限 {alert[deadline]}")
                    store.record_audit(db, "system", "alert.escalate", "alert", alert["id"],
                                       {"deadline": deadline, "due": alert[deadline]}, at=at)
                    notify.queue_escalation(db, store.get_alert(db, alert["id"]), deadline, rules, now)
        for a in store.assignments_due_for_escalation(db, at):
            store.update_assignment(db, a["id"], {"escalated_at": at})
            store.add_alert_step(db, a["alert_id"], "escalated:assignment", at, "system",
                                 f"指派 #{a['id']} 超时（{a['status']}，应于 {a['due_at']} 前完成）")
            store.record_audit(db, "system", "assignment.escalate", "assignment", a["id"],
                               {"status": a["status"], "due_at": a["due_at"]}, at=at)
            notify.queue_escalation(db, store.get_alert(db, a["alert_id"]), "assignment", rules, now, assignment=a)
            events.append({"alert_id": a["alert_id"], "deadline": "assignment", "assignment_id": a["id"],
                           "due": a["due_at"]})
        if store.has_tables(db, "referrals"):  # a unit that has not reported back in time (交办属地单位)
            for r in store.referrals_due_for_escalation(db, at):
                store.update_referral(db, r["id"], escalated_at=at)
                store.add_alert_step(db, r["alert_id"], "escalated:referral", at, "system",
                                     f"交办 #{r['id']}（{r['unit_name']}）超时未反馈（应于 {r['due_at']} 前反馈）")
                store.record_audit(db, "system", "alert.escalate", "alert", r["alert_id"],
                                   {"deadline": "referral", "referral": r["id"], "unit": r["unit_name"],
                                    "due": r["due_at"]}, at=at)
                notify.queue_escalation(db, store.get_alert(db, r["alert_id"]), "referral", rules, now, referral=r)
                events.append({"alert_id": r["alert_id"], "deadline": "referral", "referral_id": r["id"],
                               "due": r["due_at"]})
    return events


def remind_due(db, now: datetime, rules: dict | None = None) -> list[dict]:
    """Remind, once, each expert whose accepted task is due within `clocks.remind_hours` and has no
    draft submitted yet: an email to the expert (when the roster has one) and a step on the alert,
    before the deadline passes and the task is escalated to the leaders. Returns the reminders."""
    from . import notify

    rules = rules or load_rules()
    hours = rules["clocks"]["remind_hours"]
    if hours <= 0:
        return []
    at = iso(now)
    events = []
    with store.transaction(db):
        for a in store.assignments_due_for_reminder(db, at, iso(now + timedelta(hours=hours))):
            store.update_assignment(db, a["id"], {"reminded_at": at})
            left = int((parse_time(a["due_at"]) - now).total_seconds() // 60)
            store.add_alert_step(db, a["alert_id"], "reminded", at, "system",
                                 f"任务 #{a['id']} 距时限还有 {left} 分钟，已提醒专家")
            store.record_audit(db, "system", "assignment.remind", "assignment", a["id"], {"due_at": a["due_at"]}, at=at)
            notify.queue_reminder(db, store.get_alert(db, a["alert_id"]), store.get_expert(db, a["expert_id"]), a,
                                  left, rules, now)
            events.append({"alert_id": a["alert_id"], "assignment_id": a["id"], "due": a["due_at"], "minutes": left})
    return events


def story_alert(db, item_id: int) -> dict | None:
    """The one alert of the item's story (its cluster, else the item), whatever its status; None when
    the story has none (or the item does not exist)."""
    item = store.get_item(db, item_id)
    return store.get_alert_by_key(db, _story_key(item["cluster_id"], item_id)) if item else None


def raise_alert(db, item_id: int, severity: str, reason: str, actor: str, now: datetime,
                rules: dict | None = None, key: str | None = None) -> dict:
    """A monitor raises an alert on an item's story by hand (人工上报): one the rules did not flag
    (a low score, a claim known to harm, a leader's instruction, a story heard of by phone), or a
    higher severity for one they did. The story has one alert: an existing one takes the reason and,
    when `severity` is higher, is upgraded (its conference clock added for 一级); a closed one
    (dismissed, or clarified and spreading again) is reopened. The clocks of a new one start now.
    `key`: the alert to grow instead of the story's (upgrade_alert). Returns {"alert_id", "created",
    "upgraded", "reopened"}."""
    rules = rules or load_rules()
    if severity not in SEVERITY_RANK:
        raise WorkflowError(f"severity must be one of {', '.join(SEVERITIES)} (got {severity!r})", "raise_severity",
                            value=severity)
    reason = (reason or "").strip()
    if not reason:
        raise WorkflowError("raising an alert needs a reason", "raise_reason")
    if len(reason) > RAISE_REASON_MAX:
        raise WorkflowError(f"the reason is {len(reason)} characters; at most {RAISE_REASON_MAX}", "raise_reason_long",
                            n=len(reason), max=RAISE_REASON_MAX)
    item = store.get_item(db, item_id)
    if item is None:
        raise WorkflowError(f"item {item_id} does not exist", "no_item", id=item_id)
    key = key or _story_key(item["cluster_id"], item_id)
    at = iso(now)
    with store.transaction(db):
        before = store.get_alert_by_key(db, key)
        velocity_since = iso(now - timedelta(hours=rules["rumour"]["velocity_window_hours"]))
        m = store.cluster_metrics(db, item["cluster_id"], item_id, velocity_since)
        fields = dict(_cluster_fields(m), cluster_id=item["cluster_id"])
        alert_id, _ = _upsert_alert(db, now, rules, key, "manual", severity,
                                    {"rule": "manual", "reason": f"人工上报：{reason}"}, fields, _public_metrics(m))
        was_closed = bool(before and before["status"] not in store.WORKFLOW_OPEN_STATUSES)
        if was_closed and store.get_alert(db, alert_id)["status"] not in store.WORKFLOW_OPEN_STATUSES:
            # a monitor's own judgement reopens a dismissed or clarified story's alert, whatever the
            # severity (a higher one has reopened a dismissed one already, as when it spreads further)
            store.update_alert(db, alert_id, {"status": "open", "closed_at": None, "updated_at": at})
            store.add_alert_step(db, alert_id, "reopened", at, actor, "人工上报，重新打开")
        store.add_alert_step(db, alert_id, "raised", at, actor, f"{severity}：{reason}")
        store.record_audit(db, actor, "alert.raise", "alert", alert_id,
                           {"item_id": item_id, "severity": severity, "reason": reason,
                            "created": before is None}, at=at)
    return {"alert_id": alert_id, "created": before is None, "reopened": was_closed,
            "upgraded": bool(before and SEVERITY_RANK[severity] < SEVERITY_RANK[before["severity"]])}


def upgrade_alert(db, alert_id: int, severity: str, reason: str, actor: str, now: datetime,
                  rules: dict | None = None) -> dict:
    """Raise alert `alert_id` (an alert on one story) to `severity` by hand, with the reason, as
    raise_alert does for its story: the 预警 page's 提升预警级别."""
    alert = store.get_alert(db, alert_id)
    if alert is None:
        raise WorkflowError(f"alert {alert_id} does not exist", "no_alert", id=alert_id)
    if not alert["item_id"]:
        raise WorkflowError(f"alert {alert_id} is on no single story (an opinion spike or a digest)",
                            "upgrade_no_story", id=alert_id)
    if severity in SEVERITY_RANK and SEVERITY_RANK[severity] >= SEVERITY_RANK[alert["severity"]]:
        raise WorkflowError(f"alert {alert_id} is already {alert['severity']}; {severity} is no upgrade",
                            "upgrade_not_higher", id=alert_id, severity=alert["severity"], value=severity)
    return raise_alert(db, alert["item_id"], severity, reason, actor, now, rules, key=alert["dedupe_key"])


def record_step(db, alert_id: int, step: str, actor: str, now: datetime, note: str | None = None,
                done_at: datetime | None = None) -> dict:
    """Record a response step done outside the expert flow: 'info_released' or 'conference_held',
    done now or at `done_at` (the time the office's own channel published it, rumourwatch.ownmedia:
    the clocks judge when it was done, not when it was recorded); never ahead of now."""
    if step not in ("info_released", "conference_held"):
        raise WorkflowError(f"unknown step {step!r}; use info_released or conference_held", "bad_step", value=step)
    alert = store.get_alert(db, alert_id)
    if alert is None:
        raise WorkflowError(f"alert {alert_id} does not exist", "no_alert", id=alert_id)
    column = "responded_at" if step == "info_released" else "conference_at"
    if alert[column]:
        raise WorkflowError(f"alert {alert_id}: {step} was already recorded at {alert[column]}", "step_done",
                            id=alert_id, step=step, at=alert[column])
    done = done_at or now
    if done > now:
        raise WorkflowError(f"alert {alert_id}: {step} at {iso(done)} is ahead of now", "step_ahead", at=iso(done))
    at, recorded = iso(done), iso(now)
    with store.transaction(db):
        store.update_alert(db, alert_id, {column: at, "updated_at": recorded})
        store.add_alert_step(db, alert_id, step, at, actor, note)
        store.record_audit(db, actor, f"alert.{step}", "alert", alert_id,
                           {"note": note, **({"done_at": at} if done_at else {})}, at=recorded)
        if step == "conference_held":  # the register of press conferences holds this one too
            from .press import TOPIC_MAX, _insert

            _insert(db, held_at=done, topic=(alert["title"] or f"预警 #{alert_id}")[:TOPIC_MAX], actor=actor, now=now,
                    alert_id=alert_id, note=note)
    return store.get_alert(db, alert_id)


def dismiss_alert(db, alert_id: int, actor: str, now: datetime, reason: str, rules: dict | None = None) -> dict:
    """A monitor dismisses a flag (false alarm); the reason is kept."""
    if not reason or not reason.strip():
        raise WorkflowError("a dismissal needs a reason", "dismiss_reason")
    alert = store.get_alert(db, alert_id)
    if alert is None:
        raise WorkflowError(f"alert {alert_id} does not exist", "no_alert", id=alert_id)
    if alert["status"] in ("published", "dismissed"):
        raise WorkflowError(f"alert {alert_id} is already {alert['status']}", "alert_closed", id=alert_id,
                            alert_status=alert["status"])
    at = iso(now)
    with store.transaction(db):
        close_dismissed(db, alert_id, actor, at, reason, rules)
    return store.get_alert(db, alert_id)


def dismiss_alerts(db, alert_ids, actor: str, now: datetime, reason: str, rules: dict | None = None) -> dict:
    """Dismiss several alerts with one reason (a burst of false alarms), each as `dismiss_alert`
    does it, in its own transaction. One that cannot be dismissed (closed meanwhile, unknown) is
    set aside with its WorkflowError and the rest go on: {"dismissed": [ids], "refused": [(id, error)]}."""
    if not reason or not reason.strip():
        raise WorkflowError("a dismissal needs a reason", "dismiss_reason")
    ids = list(dict.fromkeys(int(i) for i in alert_ids))
    if not ids:
        raise WorkflowError("no alert chosen to dismiss", "dismiss_none")
    done, refused = [], []
    for alert_id in ids:
        try:
            dismiss_alert(db, alert_id, actor, now, reason, rules)
        except WorkflowError as exc:
            refused.append((alert_id, exc))
        else:
            done.append(alert_id)
    return {"dismissed": done, "refused": refused}


def close_dismissed(db, alert_id: int, actor: str, at: str, reason: str, rules: dict | None = None) -> None:
    """Mark an open alert dismissed with its step and audit entry, inside the caller's transaction
    (dismiss_alert, and experts.record_verdict when an item is judged not a rumour).

    Its active assignments are cancelled with it (a step and an audit entry each, and when, by whom
    and why on the assignment): they leave the experts' queues for their lists of withdrawn tasks,
    nothing escalates them, and each expert is told, as they were told of the offer.
    A clarification under review or approved goes back to draft: a false alarm needs no
    clarification, and publishing one would mark the dismissed cluster 已辟谣. An alert that reopens
    (_upsert_alert) is assigned afresh."""
    from . import notify

    store.update_alert(db, alert_id, {"status": "dismissed", "closed_at": at, "updated_at": at,
                                      "assigned_expert": None})
    store.add_alert_step(db, alert_id, "dismissed", at, actor, reason)
    store.record_audit(db, actor, "alert.dismiss", "alert", alert_id, {"reason": reason}, at=at)
    withdrawn = {}
    for c in store.clarifications_for_alert(db, alert_id):
        if c["status"] in ("in_review", "approved"):
            store.update_clarification(db, c["id"], {"status": "draft", "updated_at": at})
            store.record_audit(db, actor, "clarification.withdraw", "clarification", c["id"],
                               {"alert_id": alert_id, "was": c["status"], "reason": reason}, at=at)
            withdrawn[c["assignment_id"]] = c["id"]
    for a in store.alert_assignments(db, alert_id):
        if a["status"] not in store.ASSIGNMENT_ACTIVE:
            continue
        store.update_assignment(db, a["id"], {"status": "cancelled", "cancelled_at": at, "cancelled_by": actor,
                                              "cancel_reason": reason})
        note = f"任务 #{a['id']}（{a['expert_name']}）随预警排除撤回"
        if a["id"] in withdrawn:
            note += f"，澄清稿 #{withdrawn[a['id']]} 撤出审核"
        store.add_alert_step(db, alert_id, "cancelled", at, actor, note)
        store.record_audit(db, actor, "assignment.cancel", "assignment", a["id"],
                           {"alert_id": alert_id, "was": a["status"], "reason": reason}, at=at)
        rules = rules or load_rules()
        notify.queue_withdrawal(db, store.get_alert(db, alert_id), store.get_expert(db, a["expert_id"]), a["id"],
                                reason, rules, parse_time(at))


def alert_view(alert: dict, now: datetime) -> dict:
    """The alert as the CLI contract and the pages show it, with time left and overdue flags."""
    respond_left = time_left(alert["respond_by"], now)
    conf_left = time_left(alert["conference_by"], now)
    open_ = alert["status"] in store.WORKFLOW_OPEN_STATUSES
    return {
        "id": alert["id"], "severity": alert["severity"], "kind": alert["kind"], "cluster_id": alert["cluster_id"],
        "item_id": alert["item_id"], "title": alert["title"], "topic": alert["topic"], "region": alert["region"],
        "created_at": alert["created_at"], "respond_by": alert["respond_by"], "conference_by": alert["conference_by"],
        "responded_at": alert["responded_at"], "conference_at": alert["conference_at"],
        "status": alert["status"], "assigned_expert": alert["assigned_expert"], "item_count": alert["item_count"],
        "respond_seconds_left": None if alert["responded_at"] else int(respond_left.total_seconds()),
        "conference_seconds_left": (None if conf_left is None or alert["conference_at"]
                                    else int(conf_left.total_seconds())),
        "overdue": bool(open_ and ((alert["responded_at"] is None and respond_left.total_seconds() <= 0)
                                   or (conf_left is not None and alert["conference_at"] is None
                                       and conf_left.total_seconds() <= 0))),
        "escalated": bool(alert["respond_escalated_at"] or alert["conference_escalated_at"]),
        "rules": json.loads(alert["rules"] or "[]"), "metrics": json.loads(alert["metrics"] or "{}"),
    }


def list_alerts(db, now: datetime, status: str | None = None, limit: int = 500) -> list[dict]:
    """Alerts as views; status may be an alert status, 'active' or 'overdue'."""
    if status and status not in ALERT_STATUSES + ("active", "overdue"):
        raise WorkflowError(f"unknown status {status!r}; use one of {', '.join(ALERT_STATUSES + ('active', 'overdue'))}",
                            "bad_status", value=status)
    return [alert_view(a, now) for a in store.list_alerts(db, status, limit, now=iso(now))]


def workflow_tick(db, now: datetime, rules: dict | None = None, deliver: bool = True,
                  delivery_limit: int = 20, source_quiet_hours: float | None = None, threshold: float = 0.5) -> dict:
    """What the worker runs after scoring: evaluate rules, escalate overdue, announce sources that
    stopped or came back (worker.announce_sources; not when `source_quiet_hours` is None), tell of
    the health days a week ahead (flagged items: rumour probability ≥ `threshold`), deliver
    notifications (at most `delivery_limit` per call, so a slow notification server cannot stall
    ingestion)."""
    from . import notify
    from .worker import announce_sources

    rules = rules or load_rules()
    touched = evaluate_alerts(db, now, rules)
    escalations = escalate_overdue(db, now, rules)
    reminders = remind_due(db, now, rules)
    from .media import chase_unanswered

    chased = chase_unanswered(db, now, rules)
    from .readings import notify_waiting

    waiting = notify_waiting(db, now, rules)
    from .submissions import remind_short_units

    units_reminded = remind_short_units(db, now, rules)
    from .healthdays import remind_ahead

    health_days = remind_ahead(db, now, rules, threshold)
    from .assessment import remind_eve

    assessed = remind_eve(db, now, rules)
    sources = announce_sources(db, now, rules, source_quiet_hours) if source_quiet_hours else []
    from .audit import notify_security

    security = notify_security(db, now, rules)
    delivered = notify.deliver_pending(db, now, rules, limit=delivery_limit) if deliver else {}
    return {"alerts": touched, "escalations": escalations, "reminders": reminders, "media_chased": chased,
            "readings_waiting": waiting, "units_reminded": units_reminded, "health_days": health_days,
            "assessments": assessed, "sources": sources, "security": security,
            "delivery": delivered}
