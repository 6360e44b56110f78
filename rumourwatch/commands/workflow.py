"""`rumourwatch alerts …` and `rumourwatch experts …`: the response workflow from the command line.

The JSON shapes of `alerts list --json` and `experts suggest --json` are a contract checked from
outside; keep their keys.
"""

from __future__ import annotations

import getpass
import json
import sys
from datetime import date

import click

from .. import reports, store
from ..tips import CHANNELS
from . import RULES_OPTION, friendly_errors


def _db(ctx):
    return store.open_db(ctx.obj["settings"].db_path)


def _now():
    from ..clock import system_clock

    return system_clock()


def _rules(path):
    from ..alerts import load_rules

    return load_rules(path)


ALERT_KEYS = ("id", "severity", "cluster_id", "created_at", "respond_by", "conference_by", "status",
              "assigned_expert")


@click.group("alerts")
def alerts_group():
    """Alerts with their 5 h / 24 h clocks: list, evaluate rules, escalate overdue.

    Example:

        rumourwatch alerts list --status overdue --json
    """


@alerts_group.command("list")
@click.option("--status", default=None,
              help="open, assigned, in_progress, in_review, published, dismissed, active or overdue.")
@click.option("--limit", default=500, show_default=True, help="Newest alerts first, at most this many.")
@click.option("--json", "as_json", is_flag=True, help="Print a JSON list.")
@click.pass_context
@friendly_errors
def alerts_list(ctx, status, limit, as_json):
    """List alerts with their deadlines (UTC) and time left.

    Example:

        rumourwatch alerts list --status open --json
    """
    from ..alerts import list_alerts

    now = _now()
    rows = list_alerts(_db(ctx), now, status, limit)
    if as_json:
        out = [dict({k: r[k] for k in ALERT_KEYS}, title=r["title"], topic=r["topic"], item_id=r["item_id"],
                    item_count=r["item_count"], overdue=r["overdue"],
                    respond_seconds_left=r["respond_seconds_left"]) for r in rows]
        click.echo(json.dumps(out, ensure_ascii=False, indent=2))
        return
    if not rows:
        click.echo("no alerts")
    for r in rows:
        left = r["respond_seconds_left"]
        clock = "responded" if left is None else (f"{left / 3600:.1f} h left" if left >= 0 else f"OVERDUE {-left / 3600:.1f} h")
        click.echo(f"#{r['id']} {r['severity']} {r['status']:<11} respond_by {r['respond_by']} ({clock}) "
                   f"cluster {r['cluster_id']} copies {r['item_count']} {r['title'] or ''}")


@alerts_group.command("dismiss")
@click.argument("alert_ids", nargs=-1, type=int, required=True)
@click.option("--reason", required=True, help="Why they are false alarms (kept with each alert).")
@click.option("--actor", default=None, help="Who dismisses them (default: the login name).")
@click.pass_context
@friendly_errors
def alerts_dismiss(ctx, alert_ids, reason, actor):
    """Dismiss one or more alerts as false alarms, with one reason: each is closed as on the 预警 page
    (its expert's task withdrawn, audited). An alert already closed or unknown is named and skipped;
    the others are dismissed, and the exit status is 1 when any was skipped.

    Example:

        rumourwatch alerts dismiss 17 18 19 --reason "误报：同一营销号重复推送"
    """
    from ..alerts import dismiss_alerts

    result = dismiss_alerts(_db(ctx), alert_ids, actor or getpass.getuser(), _now(), reason, _rules(None))
    click.echo(f"dismissed {len(result['dismissed'])} alert(s)" +
               (f": {', '.join(f'#{i}' for i in result['dismissed'])}" if result["dismissed"] else ""))
    for alert_id, exc in result["refused"]:
        click.echo(f"#{alert_id} not dismissed: {exc}", err=True)
    if result["refused"]:
        ctx.exit(1)


@alerts_group.command("raise")
@click.argument("item_id", type=int)
@click.option("--severity", type=click.Choice(("一级", "二级", "三级")), default="二级", show_default=True,
              help="The alert's severity: its clocks start now (一级 adds the 24-hour press conference).")
@click.option("--reason", required=True, help="Why it needs handling (kept as a step of the alert).")
@click.option("--actor", default=None, help="Who raises it (default: the login name).")
@click.pass_context
@friendly_errors
def alerts_raise(ctx, item_id, severity, reason, actor):
    """Raise an alert on an item's story by hand (人工上报): one the rules did not flag, or a higher
    severity for one they did (the story's alert takes the reason and is upgraded; a dismissed one
    is reopened). Prints the alert's id.

    Example:

        rumourwatch alerts raise 4821 --severity 一级 --reason "经核实为有害谣言，已在多个群传播"
    """
    from ..alerts import raise_alert

    result = raise_alert(_db(ctx), item_id, severity, reason, actor or getpass.getuser(), _now(), _rules(None))
    what = ("raised" if result["created"] else "reopened" if result["reopened"]
            else "upgraded" if result["upgraded"] else "added the reason to")
    click.echo(f"{what} alert #{result['alert_id']}")


@alerts_group.command("export")
@click.option("--days", type=click.IntRange(min=1), default=30, show_default=True,
              help="Alerts raised in the last N Beijing days, today included.")
@click.option("--from", "day_from", metavar="YYYY-MM-DD", help="First Beijing day (instead of --days).")
@click.option("--to", "day_to", metavar="YYYY-MM-DD", help="Last Beijing day, included (default: today).")
@click.option("-o", "--output", "output_path", required=True, type=click.Path(dir_okay=False),
              help="CSV file to write (opens in Excel / WPS).")
@click.pass_context
@friendly_errors
def alerts_export(ctx, days, day_from, day_to, output_path):
    """Write the alert ledger (预警处置台账) of a period as CSV: each alert raised in it, oldest first,
    with its reasons, the 5-hour and 24-hour clocks and whether each was met, the status, the
    assigned expert, the clarification's link and a dismissal's reason. Times are Beijing time.

    Example:

        rumourwatch alerts export --from 2026-11-01 --to 2026-11-30 -o 2026-11-预警台账.csv
    """
    from pathlib import Path

    from ..ledger import ledger_csv
    from . import china_days

    start, end, period = china_days(day_from, day_to, days)
    out = Path(output_path)
    if not out.parent.is_dir():
        raise click.BadParameter(f"directory {out.parent} does not exist", param_hint="--output")
    text, n = ledger_csv(store.open_db(ctx.obj["settings"].db_path, read_only=True), start, end, _now())
    out.write_text(text, encoding="utf-8")
    click.echo(f"wrote {n} alert(s) raised {period} to {out}", err=True)


@alerts_group.command("briefing")
@click.argument("alert_id", type=int)
@click.option("--format", "fmt", type=click.Choice(list(reports.MIME_TYPES)), default=None,
              help="Output format (default: from the file name's suffix, else pdf).")
@click.option("-o", "--output", "output_path", type=click.Path(dir_okay=False), default=None,
              help="File to write (default 舆情专报_预警<ID>_<time>.<format> here; with --send, only if given).")
@click.option("--note", default=None, help="The monitor's assessment (研判意见), printed as the last section.")
@click.option("--note-file", type=click.File("r", encoding="utf-8"), default=None,
              help="Read the assessment from a UTF-8 text file ('-' for standard input).")
@click.option("--send", is_flag=True,
              help="Mail the report (PDF and Word attached) to the leaders and record it as a step of the alert.")
@click.option("--to", multiple=True, help="With --send: e-mail address (repeatable; default notify.leader_emails).")
@click.option("--actor", default=None, help="With --send: who sends it (default: the login name).")
@RULES_OPTION
@click.pass_context
@friendly_errors
def alerts_briefing(ctx, alert_id, fmt, output_path, note, note_file, send, to, actor, rules_path):
    """Write the special report (舆情专报) on one alert for the leaders, or mail it to them: the event
    and why it was flagged, how far and fast it spread, what the public says (the share doubting
    it), and how it is handled (both clocks, expert, clarification, takedowns, every step). Times
    are Beijing time. A report mailed is a step of the alert (报送舆情专报), audited.

    Examples:

        rumourwatch alerts briefing 42 --note-file 研判.txt -o 专报-42.pdf
        rumourwatch alerts briefing 42 --note "建议今日发布澄清" --send
    """
    from pathlib import Path

    from ..briefing import compute_briefing, default_filename, render, send_briefing
    from .reports import output_format

    if note and note_file:
        raise click.UsageError("give the assessment with --note or --note-file, not both")
    if to and not send:
        raise click.UsageError("--to names who to mail the report to: use it with --send")
    if note_file:
        note = note_file.read()
    fmt = output_format(fmt, output_path, default="pdf")
    rules = _rules(rules_path)
    if output_path or not send:
        b = compute_briefing(store.open_db(ctx.obj["settings"].db_path, read_only=True), alert_id, _now(), note,
                             rules, ctx.obj["settings"].rumour_threshold)
        out = Path(output_path or default_filename(b, fmt))
        if not out.parent.is_dir():
            raise click.BadParameter(f"directory {out.parent} does not exist", param_hint="--output")
        written = render(b, fmt, out)
        click.echo(f"special report on alert #{alert_id} -> {written}", err=True)
    if send:
        result = send_briefing(_db(ctx), alert_id, actor or getpass.getuser(), _now(), note, rules, to,
                               ctx.obj["settings"].rumour_threshold)
        click.echo(f"special report on alert #{alert_id} mailed to {', '.join(result['sent'])}")


@alerts_group.command("evaluate")
@RULES_OPTION
@click.pass_context
@friendly_errors
def alerts_evaluate(ctx, rules_path):
    """Run the alert rules over the scored items now (the worker does this after each scoring pass).

    Example:

        rumourwatch alerts evaluate --rules config/alert_rules.toml
    """
    from ..alerts import evaluate_alerts

    ids = evaluate_alerts(_db(ctx), _now(), _rules(rules_path))
    click.echo(f"{len(ids)} alert(s) created or updated" + (f": {', '.join(map(str, ids))}" if ids else ""))


@alerts_group.command("escalate")
@RULES_OPTION
@click.option("--no-deliver", is_flag=True, help="Escalate only; leave notifications queued.")
@click.pass_context
@friendly_errors
def alerts_escalate(ctx, rules_path, no_deliver):
    """Escalate overdue alerts, assignments and referrals to units, remind experts whose accepted tasks
    are nearly due and those who have not answered a media invitation for a day (or whose activity is
    a day away), remind the units still short of their monthly minimum in the month's last 3 days,
    tell the monitors of a health day a week ahead and of a kept 事前研判 the day before its day,
    announce sources that stopped giving items or being read (RUMOURWATCH_SOURCE_QUIET_HOURS) or came
    back, mail the administrators (notify.admin_emails) of lockouts, a burst of failed logins, a new
    administrator or a restore, then send pending notifications (cron-friendly: it also reports a
    worker that has stopped, which the worker cannot).

    Example:

        */5 * * * * rumourwatch --db /srv/rumourwatch.db alerts escalate
    """
    from ..alerts import escalate_overdue, remind_due
    from ..notify import deliver_pending
    from ..worker import announce_sources

    db = _db(ctx)
    rules = _rules(rules_path)
    now = _now()
    events = escalate_overdue(db, now, rules)
    for e in events:
        click.echo(f"escalated alert #{e['alert_id']}: {e['deadline']} was due {e['due']}")
    for e in remind_due(db, now, rules):
        click.echo(f"reminded the expert of assignment #{e['assignment_id']} (alert #{e['alert_id']}): "
                   f"due in {e['minutes']} min")
    from ..media import chase_unanswered

    for e in chase_unanswered(db, now, rules):
        click.echo(f"reminded {e['expert']} of media request #{e['request_id']} (unanswered), monitors told")
    from ..readings import notify_waiting

    told = notify_waiting(db, now, rules)
    if told:
        click.echo(f"{told['items']} new post(s) in a script the models cannot read wait for a reader: monitors told")
    from ..submissions import remind_short_units

    for u in remind_short_units(db, now, rules):
        click.echo(f"reminded {u['unit']}: {u['counted']} of its {u['minimum']} pieces this month")
    from ..healthdays import remind_ahead

    for d in remind_ahead(db, now, rules, ctx.obj["settings"].rumour_threshold):
        click.echo(f"health day {d['name']} begins in {d['in_days']} day(s) ({d['first']}): monitors told")
    from ..assessment import remind_eve

    for a in remind_eve(db, now, rules):
        click.echo(f"assessment #{a['id']} ({a['title']}) is planned for tomorrow, {a['event_day']}: monitors told")
    for e in announce_sources(db, now, rules, ctx.obj["settings"].source_quiet_hours):
        click.echo(f"source {e['source']}: " + ("has stopped" if e["event"] == "source_stalled" else "is back")
                   + f" ({e['state']}), monitors notified")
    from ..audit import notify_security

    security = notify_security(db, now, rules)
    if security:
        click.echo(f"security notice on {security['entries']} sign-in or account record(s): administrators mailed")
    from ..selfcheck import mark_escalate

    mark_escalate(db, now)  # `rumourwatch check` tells whether this cron job runs
    if not no_deliver:
        counts = deliver_pending(db, now, rules)
        click.echo(f"notifications: {counts['sent']} sent, {counts['failed']} failed (will be retried), "
                   f"{counts['deferred']} deferred (their server just failed)")
    pending = store.list_notifications(db, "pending", limit=100000)
    if pending:
        click.echo(f"{len(pending)} notification(s) still pending", err=True)


@alerts_group.command("test-notify")
@RULES_OPTION
@click.pass_context
@friendly_errors
def alerts_test_notify(ctx, rules_path):
    """Send a test message now to every group bot and every monitors', leaders' and administrators'
    mailbox of the alert rules, and say for each whether it went through (the server's answer, or
    why not): after setting up the channels, and whenever one is in doubt. Sent directly, never
    queued or retried; audited. Exits 1 when a channel failed.

    Example:

        rumourwatch alerts test-notify
    """
    from ..notify import send_test
    from .admin import _actor

    results = send_test(_db(ctx), _rules(rules_path), _now(), _actor())
    for r in results:
        click.echo(f"{'ok    ' if r['ok'] else 'FAILED'} {r['channel']:7s} {r['target']}  "
                   f"({', '.join(r['lists'])}): {r['detail']}")
    failed = sum(1 for r in results if not r["ok"])
    click.echo(f"{len(results) - failed} of {len(results)} channel(s) reached", err=True)
    if failed:
        ctx.exit(1)


@alerts_group.command("watch")
@click.argument("values", nargs=-1)
@click.option("--account", "accounts", is_flag=True, help="VALUES are accounts (or authors), not keywords.")
@click.option("--remove", is_flag=True, help="Stop watching VALUES.")
@RULES_OPTION
@click.option("--actor", default=None, help="Who is changing the rules (default: the login name).")
@click.pass_context
@friendly_errors
def alerts_watch(ctx, values, accounts, remove, rules_path, actor):
    """Watch keywords or accounts (new items matching one raise an alert), stop watching them, or,
    without VALUES, list what is watched. A keyword is a query as on 条目检索 and `rumourwatch search`:
    words separated by spaces must all occur, A|B either, -A not (put VALUES after -- when one starts
    with -), a quoted phrase keeps its space. Each change is saved to the rules file and audited, as
    the search page does it; a keyword that is no query is refused before anything is written.

    Example:

        rumourwatch alerts watch "板蓝根 预防" "钟南山|张文宏"
        rumourwatch alerts watch --account 示例养生号
        rumourwatch alerts watch --remove -- "板蓝根 预防"
    """
    from ..alerts import load_rules, set_watched

    kind = "accounts" if accounts else "keywords"
    if not values:
        watch = load_rules(rules_path)["watch"]
        state = "" if watch["enabled"] else " (watching is switched off: [watch] enabled = false)"
        click.echo(f"{len(watch['keywords'])} keyword(s), {len(watch['accounts'])} account(s) watched{state}")
        for k in ("keywords", "accounts"):
            for value in watch[k]:
                click.echo(f"{k[:-1]}\t{value}")
        return
    db = _db(ctx)
    for value in values:
        changed = set_watched(kind, value, not remove, actor or getpass.getuser(), db, rules_path)
        verb = ("no longer watched" if remove else "watched") if changed else \
            ("was not watched" if remove else "already watched")
        click.echo(f"{kind[:-1]} {value.strip()!r}: {verb}")


@click.group("tips")
def tips_group():
    """Tips from the 12320 / 12345 hotlines and the online reporting channel.

    Example:

        rumourwatch tips import work_orders.csv --channel 12320
    """


@tips_group.command("import")
@click.argument("csv_path", metavar="FILE.csv", type=click.Path(exists=True, dir_okay=False))
@click.option("--channel", type=click.Choice(CHANNELS), default=None,
              help="The channel of rows that name none (a column 'channel' / 渠道 may name each row's).")
@click.option("--actor", default=None, help="Who is importing (default: the login name).")
@click.pass_context
@friendly_errors
def tips_import(ctx, csv_path, channel, actor):
    """Record the tips of a hotline's CSV export (UTF-8 or GB18030, comma- or tab-separated). Each
    tip's content enters the feed as an item that the worker scores. A row whose channel and
    work-order number were recorded before is not recorded again; bad rows are reported as
    `row N: …` and skipped (exit status 1).

    An Excel workbook (.xlsx, its first sheet) or a CSV. Columns (English or Chinese headers):
    received_at/受理时间, text/举报内容, channel/渠道 (or
    --channel), and optionally work_order/工单号, platform/平台, account/账号, url/链接,
    published_at/发布时间, note/备注. Times: 'YYYY-MM-DD HH:MM' China time, or ISO 8601.

    Example:

        rumourwatch tips import work_orders.csv --channel 12320
    """
    from ..tips import import_tips

    with open(csv_path, "rb") as f:
        report = import_tips(_db(ctx), f.read(), actor or getpass.getuser(), _now(), channel, origin=csv_path,
                             max_mb=ctx.obj["settings"].max_upload_mb)
    for error in report.errors:
        click.echo(error, err=True)
    click.echo(f"{report.recorded} tip(s) recorded, {report.already} recorded before, "
               f"{len(report.errors)} row(s) rejected")
    if report.errors:
        sys.exit(1)


@click.group("experts")
def experts_group():
    """The expert pool: import/export the roster, suggest experts for an alert.

    Example:

        rumourwatch experts import data/expert_roster_sample.csv
    """


@experts_group.command("import")
@click.argument("csv_path", metavar="FILE.csv", type=click.Path(exists=True, dir_okay=False))
@click.option("--actor", default=None, help="Who is importing (default: the login name).")
@click.pass_context
@friendly_errors
def experts_import(ctx, csv_path, actor):
    """Import a roster CSV (UTF-8 or GB18030, comma- or tab-separated). Bad rows are reported as
    `row N: …` and skipped; the exit status is 1 when any row was skipped.

    Columns: name,title,institution,specialties,level,region,capacity,phone,email,active,languages
    (specialties separated by ';'; level 国家级/省级/市级/县级; languages: the scripts the expert writes
    clarifications in besides Chinese, mn/bo/ug or 蒙古文/藏文/维吾尔文, separated by ';', may be empty;
    a file without the column leaves the experts' languages as they were).

    Example:

        rumourwatch experts import data/expert_roster_sample.csv
    """
    from ..experts import import_roster

    report = import_roster(_db(ctx), csv_path, actor or getpass.getuser(), _now(),
                           max_mb=ctx.obj["settings"].max_upload_mb)
    for error in report.errors:
        click.echo(error, err=True)
    click.echo(f"{report.created} expert(s) added, {report.updated} updated, {len(report.errors)} row(s) rejected")
    if report.errors:
        sys.exit(1)


@experts_group.command("export")
@click.option("-o", "--output", "output_path", type=click.Path(dir_okay=False), default=None,
              help="Write to this file instead of stdout.")
@click.pass_context
@friendly_errors
def experts_export(ctx, output_path):
    """Export the roster as CSV in the import format.

    Example:

        rumourwatch experts export -o roster.csv
    """
    from ..experts import export_roster

    text = export_roster(_db(ctx))
    if output_path:
        with open(output_path, "w", encoding="utf-8", newline="") as fh:
            fh.write(text)
        click.echo(f"wrote {text.count(chr(10)) - 1} expert(s) to {output_path}", err=True)
    else:
        click.echo(text, nl=False)


@experts_group.command("public-list")
@click.option("-o", "--output", "output_path", required=True, type=click.Path(dir_okay=False),
              help="The file to write: .docx (laid out as an official document) or .csv.")
@click.option("--since", metavar="YYYY-MM-DD", default=None, help="Only the experts who joined the pool since this day.")
@click.option("--new", "new", is_flag=True, help="Only the experts who joined since the last list published.")
@click.option("--actor", default=None, help="Who publishes it (default: the login name).")
@click.pass_context
@friendly_errors
def experts_public_list(ctx, output_path, since, new, actor):
    """Write the pool's list for the public (专家库名单公布, seed 000 §(一)1: "分批向社会公布名单"):
    name, title, institution, fields, level and region, no contact details, grouped by level. The
    whole pool, or a batch (--since DAY, --new); recorded as published (audited), so the next --new
    batch starts there.

    Example:

        rumourwatch experts public-list -o 专家名单.docx --new
    """
    from ..publiclist import write_public_list

    if since and new:
        raise click.UsageError("give --since or --new, not both")
    if since:
        try:
            date.fromisoformat(since)
        except ValueError:
            raise click.BadParameter(f"{since!r} is not a day (YYYY-MM-DD)", param_hint="--since") from None
    try:
        n = write_public_list(_db(ctx), output_path, actor=actor or getpass.getuser(), now=_now(), since=since, new=new)
    except ValueError as exc:
        raise click.BadParameter(str(exc), param_hint="--output") from None
    click.echo(f"wrote {n} expert(s) to {output_path}; recorded as published")


@experts_group.command("performance")
@click.option("--days", type=click.IntRange(min=1), default=90, show_default=True,
              help="Tasks offered in the last N Beijing days, today included.")
@click.option("--from", "day_from", metavar="YYYY-MM-DD", help="First Beijing day (instead of --days).")
@click.option("--to", "day_to", metavar="YYYY-MM-DD", help="Last Beijing day, included (default: today).")
@click.option("--json", "as_json", is_flag=True, help="Print a JSON list.")
@click.option("--csv", "csv_path", type=click.Path(dir_okay=False), help="Also write the table as CSV for Excel.")
@click.pass_context
@friendly_errors
def experts_performance(ctx, days, day_from, day_to, as_json, csv_path):
    """How each expert took part in a period: tasks offered, accepted, declined or left unanswered,
    clarifications published (on time; with no 稿件自查 warning, and the warnings most often left),
    drafts returned in review, reviews done, and flags for an
    active expert who took no task while others were asked (idle), declined most offers (declines)
    or let offers lapse (lapses).

    Example:

        rumourwatch experts performance --days 90 --csv 专家履职.csv
    """
    from pathlib import Path

    from ..performance import performance, performance_csv
    from . import china_days

    start, end, period = china_days(day_from, day_to, days)
    if csv_path and not Path(csv_path).parent.is_dir():
        raise click.BadParameter(f"directory {Path(csv_path).parent} does not exist", param_hint="--csv")
    rows = performance(store.open_db(ctx.obj["settings"].db_path, read_only=True), start, end)
    if csv_path:
        Path(csv_path).write_text(performance_csv(rows), encoding="utf-8")
        click.echo(f"wrote {len(rows)} expert(s) to {csv_path}", err=True)
    if as_json:
        click.echo(json.dumps(rows, ensure_ascii=False, indent=2))
        return
    click.echo(f"tasks offered {period}: {sum(r['offered'] for r in rows)} to {len(rows)} expert(s)")
    for r in rows:
        click.echo(f"#{r['expert_id']} {r['name']} ({r['institution']}) offered {r['offered']} accepted {r['accepted']} "
                   f"declined {r['declined']} lapsed {r['lapsed']} published {r['published']} "
                   f"(on time {r['on_time']}, self-check clean {r['clean']}) returned {r['returned']} "
                   f"reviewed {r['reviewed']} media invitations {r['media_offered']} "
                   f"(accepted {r['media_accepted']}, done {r['media_completed']})" + (f" self-check warnings: {r['common_warnings']}" if r["common_warnings"] else "")
                   + (f" [{', '.join(r['flags'])}]" if r["flags"] else ""))


@experts_group.group("away")
def experts_away():
    """When experts cannot take tasks (leave, travel, a conference): suggestions and assignment pass
    over an expert away at any time in the next 5 hours.

    Example:

        rumourwatch experts away add 3 --from "2026-12-05 08:00" --to "2026-12-09 08:00" --reason 出差
    """


@experts_away.command("add")
@click.argument("expert_id", type=int)
@click.option("--from", "starts", required=True, help="Start (China time 'YYYY-MM-DD HH:MM', or ISO 8601).")
@click.option("--to", "ends", required=True, help="End (China time 'YYYY-MM-DD HH:MM', or ISO 8601).")
@click.option("--reason", default="", help="Why (at most 200 characters).")
@click.option("--actor", default=None, help="Who records it (default: the login name).")
@click.pass_context
@friendly_errors
def experts_away_add(ctx, expert_id, starts, ends, reason, actor):
    """Record that an expert is away; names the tasks they hold that fall due in it.

    Example:

        rumourwatch experts away add 3 --from "2026-12-05 08:00" --to "2026-12-09 08:00" --reason 休假
    """
    from ..experts import add_absence
    from ..records import parse_time

    done = add_absence(_db(ctx), expert_id, parse_time(starts), parse_time(ends), reason, actor or getpass.getuser(),
                       _now())
    click.echo(f"absence #{done['id']} recorded")
    for task in done["passed_on"]:
        click.echo(f"  task #{task['assignment_id']} (alert #{task['alert_id']}, not yet accepted) passed on: "
                   + (f"offered as task #{task['to']}" if task["to"] else "nobody left, back to the monitors"),
                   err=True)
    for task in done["open_tasks"]:
        click.echo(f"  task #{task['assignment_id']} (alert #{task['alert_id']}, {task['status']}) is due "
                   f"{task['due_at']}: finish it or have a monitor withdraw it (预警 page)", err=True)


@experts_away.command("list")
@click.option("--json", "as_json", is_flag=True, help="Print a JSON list.")
@click.pass_context
@friendly_errors
def experts_away_list(ctx, as_json):
    """The absences not over yet, earliest first (times UTC).

    Example:

        rumourwatch experts away list
    """
    from ..experts import absences

    rows = absences(_db(ctx), _now())
    if as_json:
        click.echo(json.dumps([{k: r[k] for k in ("id", "expert_id", "expert_name", "starts_at", "ends_at", "reason")}
                               for r in rows], ensure_ascii=False, indent=2))
        return
    if not rows:
        click.echo("no expert is away")
    for r in rows:
        click.echo(f"#{r['id']} expert #{r['expert_id']} {r['expert_name']}: {r['starts_at']} → {r['ends_at']}"
                   + (f" ({r['reason']})" if r["reason"] else ""))


@experts_away.command("remove")
@click.argument("absence_id", type=int)
@click.option("--actor", default=None, help="Who removes it (default: the login name).")
@click.pass_context
@friendly_errors
def experts_away_remove(ctx, absence_id, actor):
    """Remove an absence (back earlier, trip cancelled); the audit log keeps it.

    Example:

        rumourwatch experts away remove 7
    """
    from ..experts import remove_absence

    remove_absence(_db(ctx), absence_id, actor or getpass.getuser(), _now())
    click.echo(f"absence #{absence_id} removed")


@experts_group.command("suggest")
@click.argument("alert_id", type=int)
@click.option("--limit", default=5, show_default=True, help="How many experts to rank.")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@click.pass_context
@friendly_errors
def experts_suggest(ctx, alert_id, limit, as_json):
    """Rank the best experts for an alert, each with a score and its reasons.

    Example:

        rumourwatch experts suggest 12 --json
    """
    from ..experts import suggest_experts

    ranked = suggest_experts(_db(ctx), alert_id, limit, now=_now())
    if as_json:
        click.echo(json.dumps(ranked, ensure_ascii=False, indent=2))
        return
    if not ranked:
        click.echo("no available expert (all at capacity, inactive, or already declined)")
    for r in ranked:
        click.echo(f"{r['score']:5.1f}  #{r['expert_id']} {r['name']} {r['level']} {r['institution']}")
        for reason in r["reasons"]:
            click.echo(f"       - {reason}")


@experts_group.command("check-draft")
@click.argument("draft_file", required=False, type=click.Path(exists=True, dir_okay=False))
@click.option("--references", "refs_file", type=click.Path(exists=True, dir_okay=False),
              help="A file of the references, one per line.")
@click.option("--claim", default=None, help="The claim the clarification answers, as a post would put it.")
@click.option("--id", "clarification_id", type=int, help="Check a clarification stored in the database instead "
                                                          "(its author's field against its alert's topic too).")
@click.option("--json", "as_json", is_flag=True, help="Print a JSON list of the checks.")
@click.pass_context
@friendly_errors
def experts_check_draft(ctx, draft_file, refs_file, claim, clarification_id, as_json):
    """Check a clarification draft as the workbench's 稿件自查 does: a conclusion up front, the claim it
    answers restated, authoritative references, the applicable population, length, sentence length,
    unexplained medical terms and abbreviations, absolute claims, unmarked personal views. DRAFT_FILE
    is UTF-8 text: its first non-empty line is the title, the rest the body. Warnings are for the
    author and reviewer to weigh; the exit status is 1 when there is one, 0 otherwise.

    Example:

        rumourwatch experts check-draft 澄清稿.txt --references 依据.txt --claim "喝淡盐水可以预防病毒感染"
    """
    from .. import draftcheck

    settings = ctx.obj["settings"]
    vocab = draftcheck.bundle_vocabulary(settings.data_dir)
    if clarification_id is not None:
        if draft_file or refs_file or claim is not None:
            raise click.UsageError("give either DRAFT_FILE (with --references, --claim) or --id, not both")
        db = store.open_db(settings.db_path, read_only=True)
        clarification = store.get_clarification(db, clarification_id)
        if clarification is None:
            raise click.BadParameter(f"clarification {clarification_id} does not exist", param_hint="--id")
        checks = draftcheck.clarification_checks(db, clarification, vocab=vocab)
    else:
        if not draft_file:
            raise click.UsageError("give DRAFT_FILE, the draft as UTF-8 text (first line the title), or --id")
        from pathlib import Path

        def read(path, what):
            try:
                return Path(path).read_text(encoding="utf-8-sig")
            except UnicodeDecodeError as exc:
                raise click.BadParameter(f"{path} is not UTF-8 text ({exc.reason} at byte {exc.start}); "
                                         "save it as UTF-8", param_hint=what) from None
        lines = read(draft_file, "DRAFT_FILE").strip().splitlines()
        if not lines:
            raise click.BadParameter(f"{draft_file} is empty", param_hint="DRAFT_FILE")
        checks = draftcheck.check_draft(lines[0].strip(), "\n".join(lines[1:]).strip(),
                                        read(refs_file, "--references") if refs_file else "", claim, vocab=vocab)
    if as_json:
        click.echo(json.dumps([draftcheck.to_dict(c) for c in draftcheck.ordered(checks)], ensure_ascii=False, indent=2))
    else:
        click.echo("\n".join([draftcheck.summary(checks), *draftcheck.lines(checks)]))
    if draftcheck.warnings(checks):
        ctx.exit(1)
