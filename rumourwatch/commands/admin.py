"""Administration commands: user accounts, sources' checkpoints, backup and restore, the audit log.

`rumourwatch users add NAME --role admin` creates the first account (no login is needed on the
command line: whoever can run it already has the database file). Actions are audited with the
operating-system user as actor, e.g. `cli:alice`.
"""

from __future__ import annotations

import getpass
import json
import sys
from datetime import UTC, datetime

import click

from .. import audit as audit_mod
from .. import auth, store, worker
from .. import backup as backup_mod
from . import RULES_OPTION, friendly_errors


def _actor() -> str:
    try:
        return f"cli:{getpass.getuser()}"
    except Exception:  # no login name in some containers
        return "cli"


def _db(ctx):
    return store.open_db(ctx.obj["settings"].db_path)


def _print_rows(rows: list[dict], as_json: bool, empty: str, lines) -> None:
    """A list command's output: `rows` as JSON, `empty` when there are none, else the `lines(rows)`."""
    if as_json:
        click.echo(json.dumps(rows, ensure_ascii=False, indent=2))
        return
    if not rows:
        click.echo(empty)
        return
    for line in lines(rows):
        click.echo(line)


def _read_password(password_stdin: bool, confirm: bool = True) -> str:
    if password_stdin:
        line = sys.stdin.readline()
        password = line.rstrip("\r\n")
        if not password:
            raise click.ClickException("no password on standard input")
        return password
    return click.prompt("Password", hide_input=True, confirmation_prompt=confirm)


@click.group()
def users():
    """Manage dashboard accounts and roles (monitor, expert, analyst, leader, correspondent, admin).

    Example:

        rumourwatch users add alice --role admin
    """


def _unit_id(db, unit: str | None) -> int | None:
    """The id of the unit named by code or name on the command line (None when not given)."""
    if not unit:
        return None
    found = store.find_unit(db, unit)
    if found is None:
        raise click.ClickException(f"no registered unit with code or name {unit!r}; see the units imported with "
                                   f"`rumourwatch report import-units`")
    return found["id"]


@users.command("add")
@click.argument("username")
@click.option("--role", required=True, type=click.Choice(auth.ROLES), help="What the user may see and do.")
@click.option("--name", "display_name", default=None, help="Display name shown in the dashboard.")
@click.option("--expert-id", type=int, default=None, help="For role expert: their id in the expert roster.")
@click.option("--unit", default=None,
              help="For role correspondent: the code (or name) of the registered unit they report for.")
@click.option("--password-stdin", is_flag=True, help="Read the password from standard input (for scripts).")
@click.pass_context
@friendly_errors
def users_add(ctx, username, role, display_name, expert_id, unit, password_stdin):
    """Add an account; the password is asked for (or read from stdin), never given as an argument.

    Example:

        rumourwatch users add alice --role admin
        echo "$PW" | rumourwatch users add wang.expert --role expert --expert-id 12 --password-stdin
        rumourwatch users add li.cdc --role correspondent --unit U03
    """
    db = _db(ctx)
    unit_id = _unit_id(db, unit)
    password = _read_password(password_stdin)
    user = auth.create_user(db, username, password, role, _actor(), display_name=display_name,
                            expert_id=expert_id, unit_id=unit_id)
    click.echo(f"added user {user['username']} (role {user['role']})")


@users.command("list")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@click.pass_context
@friendly_errors
def users_list(ctx, as_json):
    """List accounts with role, state, two-step login (with the recovery codes left) and last login
    (never passwords or secrets).

    Example:

        rumourwatch users list
    """
    def lines(rows):
        yield f"{'username':<24} {'role':<13} {'state':<8} {'two-step':<8} {'expert':>6}  {'last login':<25} unit"
        for r in rows:
            state = "disabled" if r["disabled"] else ("locked" if r["locked_until"] else "active")
            two_step = f"on ({r['recovery_codes_left']})" if r["totp_enabled_at"] else "off"
            yield (f"{r['username']:<24} {r['role']:<13} {state:<8} {two_step:<8} "
                   f"{r['expert_id'] or '':>6}  {r['last_login_at'] or '-':<25} {r['unit_name'] or ''}".rstrip())

    _print_rows(auth.list_users(_db(ctx)), as_json,
                "no users yet; add one with: rumourwatch users add NAME --role admin", lines)


@users.command("disable")
@click.argument("username")
@click.pass_context
@friendly_errors
def users_disable(ctx, username):
    """Disable an account and end its open sessions (it can be enabled again).

    Example:

        rumourwatch users disable bob
    """
    auth.set_disabled(_db(ctx), username, True, _actor())
    click.echo(f"disabled user {username}")


@users.command("enable")
@click.argument("username")
@click.pass_context
@friendly_errors
def users_enable(ctx, username):
    """Enable a disabled account again (also clears a lockout).

    Example:

        rumourwatch users enable bob
    """
    auth.set_disabled(_db(ctx), username, False, _actor())
    click.echo(f"enabled user {username}")


@users.command("set-role")
@click.argument("username")
@click.argument("role", type=click.Choice(auth.ROLES))
@click.option("--expert-id", type=int, default=None, help="For role expert: their id in the expert roster.")
@click.option("--unit", default=None,
              help="For role correspondent: the code (or name) of the registered unit they report for.")
@click.pass_context
@friendly_errors
def users_set_role(ctx, username, role, expert_id, unit):
    """Change an account's role; its open sessions end so the change applies at once.

    Example:

        rumourwatch users set-role bob analyst
        rumourwatch users set-role li correspondent --unit U03
    """
    db = _db(ctx)
    auth.set_role(db, username, role, _actor(), expert_id=expert_id, unit_id=_unit_id(db, unit))
    click.echo(f"user {username} now has role {role}")


@users.command("set-password")
@click.argument("username")
@click.option("--password-stdin", is_flag=True, help="Read the new password from standard input.")
@click.pass_context
@friendly_errors
def users_set_password(ctx, username, password_stdin):
    """Set a new password (ends the user's sessions and clears a lockout).

    Example:

        rumourwatch users set-password bob
    """
    auth.set_password(_db(ctx), username, _read_password(password_stdin), _actor())
    click.echo(f"password of {username} changed")


@users.command("reset-two-step")
@click.argument("username")
@click.pass_context
@friendly_errors
def users_reset_two_step(ctx, username):
    """Switch off a user's two-step login (a lost or replaced phone): their sessions end, the next
    login is by password, and they set up the new phone on 我的账号.

    Example:

        rumourwatch users reset-two-step bob
    """
    auth.disable_two_step(_db(ctx), username, _actor())
    click.echo(f"two-step login of {username} switched off; they set it up again on 我的账号")


@users.command("unlock")
@click.argument("username")
@click.pass_context
@friendly_errors
def users_unlock(ctx, username):
    """Lift a lockout after too many wrong passwords.

    Example:

        rumourwatch users unlock bob
    """
    auth.unlock(_db(ctx), username, _actor())
    click.echo(f"unlocked user {username}")


@click.group()
def sources():
    """See where the worker got to in each source, and make it read a source from the start.

    Example:

        rumourwatch sources list
    """


@sources.command("list")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@click.option("--check", is_flag=True,
              help="Exit with status 1 when a source is failing, quiet or not read (for a monitoring job).")
@click.pass_context
@friendly_errors
def sources_list(ctx, as_json, check):
    """List the sources the worker has read: its state (ok, error, quiet: no new item for
    RUMOURWATCH_SOURCE_QUIET_HOURS, not_read: the worker has not read it for as long, retired: not
    read for 7 days, imported: a file read once by `rumourwatch ingest`, not a feed), checkpoint,
    last read, last new item and last error.

    Example:

        rumourwatch sources list --check || echo "a source needs looking at"
    """
    from ..worker import STALLED, source_health

    now = store.now_utc()
    quiet = ctx.obj["settings"].source_quiet_hours
    rows = [dict(r, health=source_health(r, now, quiet)) for r in store.source_status(_db(ctx))]

    def lines(rows):
        for r in rows:
            h = r["health"]
            state = h["state"] + (f" for {h['hours']:.1f} h" if h["state"] in (*STALLED, "retired") else "")
            yield (f"{r['source']}  at {r['position'] or '(start)'}  [{state}]  read {r['polled_at'] or '-'}"
                   f"  last new item {r['last_item_at'] or '-'}"
                   + (f"  last error {r['last_error_at']}: {r['last_error']}" if r["last_error"] else ""))

    _print_rows(rows, as_json, "no sources yet; the worker records one when it first reads it (rumourwatch watch)",
                lines)
    if check and any(r["health"]["state"] in ("error", *STALLED) for r in rows):
        sys.exit(1)


@sources.command("try")
@click.argument("spec")
@click.option("--limit", type=click.IntRange(min=1), default=5, show_default=True,
              help="Read at most this many records.")
@click.option("--json", "as_json", is_flag=True, help="Print JSON: each record as it would be stored, or why not.")
@click.pass_context
@friendly_errors
def sources_try(ctx, spec, limit, as_json):
    """Read the first records of a source SPEC (as `watch --source` takes it) and show how each would
    be stored — platform, account, publish time, text, quality flags — or why it would be set aside,
    without storing anything, moving a dropped file or touching a checkpoint: to check a new feed,
    an API's config file (its URL, token, where the posts are, how the fields are named) or an
    export's columns before the worker reads it. Exits 1 when the source cannot be read at all.

    Example:

    \b
        VENDOR_TOKEN=… rumourwatch sources try api:/srv/rumourwatch/vendor.toml --limit 3
    """
    from ..source_config import preview

    name, shown = preview(spec, ctx.obj["settings"], limit=limit)
    if as_json:
        click.echo(json.dumps(shown, ensure_ascii=False, indent=2))
    for n, r in enumerate([] if as_json else shown, 1):
        if r["kind"] == "item":
            text = " ".join((r["text"] or "").split())
            click.echo(f"{n}. item {r['external_id']}  {r['platform']}  {r['account'] or r['author'] or '-'}  "
                       f"{r['published_at'] or 'no publish time'}"
                       + (f"  flags: {', '.join(r['quality_flags'])}" if r["quality_flags"] else "")
                       + f"\n   {text[:120]}{'…' if len(text) > 120 else ''}")
        elif r["kind"] == "reaction":
            click.echo(f"{n}. reaction to {r['item']}: {(r['text'] or '')[:80]}")
        else:
            click.echo(f"{n}. set aside: {r['reason']}")
    items = sum(1 for r in shown if r["kind"] == "item")
    aside = sum(1 for r in shown if r["kind"] == "set aside")
    click.echo(f"{len(shown)} record(s) read from {name}: {items} item(s), {aside} set aside; nothing stored",
               err=True)


@sources.command("reset-checkpoint")
@click.argument("name")
@click.option("--yes", is_flag=True, help="Do not ask for confirmation.")
@click.pass_context
@friendly_errors
def sources_reset_checkpoint(ctx, name, yes):
    """Make the worker read the source NAME from the start at its next poll (and forget its last
    error), when its checkpoint is damaged, was made under other settings or is past the end of a
    replaced file. Items read again are not stored twice. NAME is as `rumourwatch sources list`
    shows it.

    Example:

        rumourwatch sources reset-checkpoint replay --yes
    """
    db = _db(ctx)
    current = store.source_checkpoint(db, name)
    if current is not None and not yes:
        click.confirm(f"read {name} from the start (checkpoint {current['position'] or '(start)'})?", abort=True)
    before = worker.reset_checkpoint(db, name, _actor())
    click.echo(f"reset the checkpoint of {name} (was {before['position'] or '(start)'}); "
               "the worker reads it from the start at its next poll")


@click.command("backup")
@click.argument("file", type=click.Path(dir_okay=False))
@click.pass_context
@friendly_errors
def backup_cmd(ctx, file):
    """Write a consistent copy of the database to FILE while the worker keeps running.

    Example:

        rumourwatch backup backups/rumourwatch-2026-11-23.db
    """
    db = _db(ctx)
    result = backup_mod.backup(db, file)
    with store.transaction(db):
        store.record_audit(db, _actor(), "backup", "database", file, {"bytes": result["bytes"]})
    click.echo(f"backed up {ctx.obj['settings'].db_path} to {result['path']} ({result['bytes']:,} bytes)")


@click.command("restore")
@click.argument("file", type=click.Path(exists=True, dir_okay=False))
@click.option("--yes", is_flag=True, help="Do not ask for confirmation.")
@click.pass_context
@friendly_errors
def restore_cmd(ctx, file, yes):
    """Replace the database with the backup FILE (stop the worker and dashboard first).

    FILE is checked first: a file that is not an intact rumourwatch database is refused and the
    current database is left untouched.

    Example:

        rumourwatch restore backups/rumourwatch-2026-11-23.db --yes
    """
    db_path = ctx.obj["settings"].db_path
    summary = backup_mod.check_backup_file(file)
    if not yes:
        click.confirm(f"replace {db_path} with {file} ({summary['items']:,} items)?", abort=True)
    result = backup_mod.restore(file, db_path)
    db = store.open_db(db_path)
    with store.transaction(db):
        store.record_audit(db, _actor(), "restore", "database", file, {"items": result["items"]})
    click.echo(f"restored {db_path} from {file}: {result['items']:,} items"
               + (f"; applied {', '.join(result['migrations_applied'])}" if result["migrations_applied"] else ""))


@click.command("audit")
@click.option("--days", type=click.IntRange(min=1), default=30, show_default=True,
              help="Entries of the last N Beijing days, today included.")
@click.option("--from", "day_from", metavar="YYYY-MM-DD", help="First Beijing day (instead of --days).")
@click.option("--to", "day_to", metavar="YYYY-MM-DD", help="Last Beijing day, included (default: today).")
@click.option("--kind", type=click.Choice(tuple(audit_mod.GROUP_ZH)), default=None,
              help="signin (logins, failures, lockouts), accounts, alerts, experts, models, system, other.")
@click.option("--action", "contains", default=None,
              help="Words of the action's code or Chinese name: 'login.failed', 'dismiss', '排除'.")
@click.option("--actor", default=None, help="Who did it: a login name, 'system', 'cli:NAME'.")
@click.option("--target-type", type=click.Choice(tuple(audit_mod.TARGET_ZH)), default=None,
              help="What it was done to.")
@click.option("--target", "target_id", default=None, help="Its id or login name (with or without --target-type).")
@click.option("--limit", type=click.IntRange(min=1), default=50, show_default=True,
              help="Print at most this many entries, newest first.")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@click.option("--csv", "csv_path", type=click.Path(dir_okay=False), default=None,
              help=f"Write every matching entry (up to {audit_mod.EXPORT_LIMIT:,}) to this CSV file for Excel "
                   "instead of printing; the export is audited.")
@click.option("--verify", is_flag=True,
              help="Check every entry's seal against the key of setting audit_key_file instead (exit status 1 when "
                   "an entry was changed, removed or slipped in); prints the last sealed entry to keep elsewhere.")
@click.pass_context
@friendly_errors
def audit_cmd(ctx, days, day_from, day_to, kind, contains, actor, target_type, target_id, limit, as_json, csv_path,
              verify):
    """Who did what and when (审计日志, as on its page): logins and failed ones, account changes,
    alert handling, experts' work, models, rules, backups. Every condition given must hold; times
    are Beijing time.

    Examples:

    \b
        rumourwatch audit --kind signin --action 登录失败 --days 7
        rumourwatch audit --target-type alert --target 42 --days 365
        rumourwatch audit --from 2026-11-01 --to 2026-11-30 --csv 2026-11-审计日志.csv
        rumourwatch audit --verify
    """
    from pathlib import Path

    from . import china_days

    if verify:
        _verify_audit(ctx, as_json)
        return

    start, end, period = china_days(day_from, day_to, days)
    query = audit_mod.AuditQuery(start=start, end=end, actor=actor, group=kind, contains=contains,
                                 target_type=target_type, target_id=target_id)
    if csv_path:
        out = Path(csv_path)
        if not out.parent.is_dir():
            raise click.BadParameter(f"directory {out.parent} does not exist", param_hint="--csv")
        text, n, total = audit_mod.export(_db(ctx), query, _actor(), datetime.now(UTC))
        out.write_text(text, encoding="utf-8")
        more = f" (the newest {n:,} of {total:,}: narrow the period to export the rest)" if total > n else ""
        click.echo(f"wrote {n:,} audit entries of {period} to {out}{more}", err=True)
        return
    rows, total = audit_mod.search(store.open_db(ctx.obj["settings"].db_path, read_only=True), query, limit)

    if as_json:
        click.echo(json.dumps([dict(r, action_zh=audit_mod.action_text(r["action"]),
                                    details=json.loads(r["details"]) if r["details"] else None) for r in rows],
                              ensure_ascii=False, indent=2))
        return
    if not rows:
        click.echo(f"no audit entries match in {period}")
        return
    for r in rows:
        at, who, name, code, _, target, details = audit_mod.row(r)
        click.echo("  ".join(x for x in (at, who, code if name == code else f"{code} {name}", target, details) if x))
    click.echo(f"{len(rows):,} of {total:,} matching entries of {period}, newest first"
               + (" (--limit to see more, --csv for all)" if total > len(rows) else ""), err=True)


def _verify_audit(ctx, as_json: bool) -> None:
    from .. import auditseal

    settings = ctx.obj["settings"]
    if not settings.audit_key_file:
        raise click.UsageError("no audit key is set (setting audit_key_file): the log is not sealed; make a key with "
                               "`rumourwatch audit-key FILE` and set RUMOURWATCH_AUDIT_KEY_FILE for every process")
    v = auditseal.verify(store.open_db(settings.db_path, read_only=True), auditseal.read_key(settings.audit_key_file))
    if as_json:
        click.echo(json.dumps(v.as_dict(), ensure_ascii=False, indent=2))
    else:
        click.echo(f"{v.entries:,} entries, {v.sealed:,} sealed"
                   + (f" from #{v.first_sealed}" if v.first_sealed is not None else "")
                   + (f"; {v.first_sealed - 1:,} written before the key cannot be checked"
                      if v.first_sealed and v.first_sealed > 1 else ""))
        for entry_id in v.broken:
            click.echo(f"entry #{entry_id}: its seal does not verify (the entry was changed, or the one before it "
                       "removed)")
        for entry_id in v.unsealed_after:
            click.echo(f"entry #{entry_id}: not sealed, after sealing began (slipped in, or written by a process "
                       "without the key)")
        for before, after in v.gaps:
            click.echo(f"ids jump from #{before} to #{after}: entries removed")
        if v.last_sealed is not None:
            click.echo(f"last sealed entry #{v.last_sealed}, seal {v.head} (keep it elsewhere: removing the newest "
                       "entries shows only against it)")
        click.echo("every seal verifies" if v.intact else
                   f"THE AUDIT LOG DOES NOT VERIFY: {v.broken_count} seal(s) broken, {v.unsealed_after_count} "
                   f"unsealed entr(ies), {v.gaps_count} gap(s)")
    if not v.intact:
        ctx.exit(1)


@click.command("audit-key")
@click.argument("file", type=click.Path(dir_okay=False))
@friendly_errors
def audit_key_cmd(file):
    """Make a new key for sealing the audit log in FILE (readable by its owner only; an existing
    file is kept). Keep it outside the database's directory and its backups, and set
    RUMOURWATCH_AUDIT_KEY_FILE to it for the dashboard, the worker and the cron jobs.

    Example:

        rumourwatch audit-key /etc/rumourwatch/audit.key
    """
    from .. import auditseal

    path = auditseal.new_key_file(file)
    click.echo(f"wrote a new audit key to {path}; set RUMOURWATCH_AUDIT_KEY_FILE={path} for every process")


@click.command("retention")
@click.option("--days", type=click.IntRange(min=1), default=None,
              help="Retention period in days (default: the setting retention_days, RUMOURWATCH_RETENTION_DAYS).")
@click.option("--apply", "do_apply", is_flag=True, help="Remove it (without: only say what would be removed).")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@click.pass_context
@friendly_errors
def retention_cmd(ctx, days, do_apply, as_json):
    """Remove personal data older than the retention period that the work no longer needs: the
    account ids of the people who reposted or commented (their words, times and counts stay, so
    the reports read the same), rejected records' raw content, ended login sessions. Items,
    publishers, verdicts, alerts and the audit log are kept. Without --apply it only counts; with
    it, the run is audited. Run it daily from cron.

    Examples:

    \b
        rumourwatch retention --days 180
        0 3 * * * rumourwatch --db /srv/rumourwatch.db retention --apply
    """
    from .. import retention

    days = days or ctx.obj["settings"].retention_days
    if not days:
        raise click.UsageError("no retention period: set RUMOURWATCH_RETENTION_DAYS (0 keeps everything) or give --days")
    now = datetime.now(UTC)
    if do_apply:
        result = retention.apply(_db(ctx), days, now, _actor())
    else:
        result = retention.plan(store.open_db(ctx.obj["settings"].db_path, read_only=True), days, now)
    if as_json:
        click.echo(json.dumps({"days": days, "applied": do_apply, **result}, ensure_ascii=False, indent=2))
        return
    verb = "removed" if do_apply else "would remove"
    click.echo(f"older than {days} days (before {result['cutoff']}): {verb} {result['reactor_ids']:,} reactors' "
               f"account ids, {result['rejects']:,} rejected records, {result['sessions']:,} ended login sessions"
               + ("" if do_apply else "; --apply to remove them"))


LEVEL_MARK = {"ok": "ok     ", "warning": "WARNING", "error": "ERROR  "}


@click.command("check")
@RULES_OPTION
@click.option("--no-connect", is_flag=True, help="Do not connect to the SMTP server (offline check).")
@click.option("--json", "as_json", is_flag=True, help="Print JSON: a summary and every finding.")
@click.pass_context
@friendly_errors
def check_cmd(ctx, rules_path, no_connect, as_json):
    """系统自检: is this installation ready to be relied on? Checks the database (disk space, the
    last backup), the models (present, verified, their age), the accounts (an administrator, no
    demo password left, experts linked to the roster), the expert pool (every Healthy China topic
    covered, mailboxes), the alert rules, notifications (a channel for the monitors, the SMTP
    server greeted and logged in to without sending anything, mailboxes for leaders and
    administrators, nothing stuck), the cron jobs (alerts escalate, the daily report, retention),
    the sources, and what PDF reports need. Each finding says what to do. Exits 1 when there is an
    error, so a deployment or a monitoring job can run it; the 系统自检 page shows the same.

    Examples:

    \b
        rumourwatch check
        */30 * * * * rumourwatch --db /srv/rumourwatch.db check > /dev/null || echo "check failed"
    """
    from .. import selfcheck

    settings = ctx.obj["settings"]
    findings = selfcheck.run(_db(ctx), settings, rules_path, connect=not no_connect)
    counts = selfcheck.summary(findings)
    if as_json:
        click.echo(selfcheck.to_json(findings))
    else:
        for f in findings:
            click.echo(f"{LEVEL_MARK[f.level]} {f.area:9s} {f.message}")
        click.echo(f"{counts['error']} error(s), {counts['warning']} warning(s), {counts['ok']} ok")
    if counts["error"]:
        ctx.exit(1)


COMMANDS = (users, sources, backup_cmd, restore_cmd, audit_cmd, audit_key_cmd, retention_cmd, check_cmd)


def register(cli: click.Group) -> None:
    """Add these commands to the main CLI (one line in rumourwatch/cli.py)."""
    for command in COMMANDS:
        cli.add_command(command)
