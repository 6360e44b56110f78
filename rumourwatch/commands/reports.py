"""`rumourwatch report ...`: leaders' weekly summary, monthly notice, scheduled delivery, unit list.

A thin layer over rumourwatch.reports: compute, then render to the chosen format.
"""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path

import click

from .. import reports, store
from ..config import REPO_ROOT
from . import friendly_errors


def _settings(ctx):
    return ctx.find_root().obj["settings"]


def output_format(fmt: str | None, output: str | None, default: str = "html") -> str:
    """The format asked for, else the one the output file's suffix names, else `default`."""
    if fmt:
        return fmt
    suffix = Path(output).suffix.lower().lstrip(".") if output else ""
    return {"htm": "html", "markdown": "md"}.get(suffix, suffix) if suffix in (*reports.FORMATS, "htm", "markdown") \
        else default


def _now(value: str | None) -> datetime | None:
    if not value:
        return None
    from ..records import parse_time

    return parse_time(value)


def _write(ctx, kind: str, label: str | None, region, platform, fmt, output, as_json, now, minimum=None):
    settings = _settings(ctx)
    now_dt = _now(now)
    db = store.open_db(settings.db_path, read_only=True)
    if not label:
        label = reports.last_complete(kind, now_dt).label
    kwargs = {"region": region, "platform": platform, "threshold": settings.rumour_threshold, "now": now_dt,
              "quiet_hours": settings.source_quiet_hours}
    if kind in reports.LONG_KINDS and minimum is not None:
        kwargs["minimum"] = minimum
    report = reports.compute(kind, db, label, **kwargs)
    if as_json:
        click.echo(report.to_json())
        return
    fmt = output_format(fmt, output)
    path = Path(output) if output else Path(reports.default_filename(report, fmt))
    written = reports.render(report, fmt, path)
    click.echo(f"{report.title} {report.period.label} -> {written}", err=True)


FORMAT_OPTION = click.option("--format", "fmt", type=click.Choice(reports.FORMATS),
                             help="html, pdf, docx (Word, to edit before issuing) or md (default: from the -o suffix, else html).")
OUTPUT_OPTION = click.option("-o", "--output", type=click.Path(dir_okay=False),
                             help="Output file (default: <period>_<kind>.<format> in the current folder).")
REGION_OPTION = click.option("--region", help="Only this region (alerts, experts and units carry regions).")
PLATFORM_OPTION = click.option("--platform", help="Only items from this platform (e.g. 微博).")
JSON_OPTION = click.option("--json", "as_json", is_flag=True, help="Print the computed figures as JSON instead.")
NOW_OPTION = click.option("--now", hidden=True, help="Pretend it is this time (ISO 8601), for replays and tests.")


def _report_options(fn):
    """The options every report command takes (region, platform, format, output, JSON, a pretended
    now), with the context and the domain's errors as one-line CLI errors."""
    for option in reversed((REGION_OPTION, PLATFORM_OPTION, FORMAT_OPTION, OUTPUT_OPTION, JSON_OPTION, NOW_OPTION)):
        fn = option(fn)
    return click.pass_context(friendly_errors(fn))


@click.group("report")
def report_group():
    """Leaders' daily report (日报), weekly summary (周报), monthly notice (月通报), quarterly (季度报告) and
    annual (年度报告) reports as HTML, PDF or Markdown.

    Example:

        rumourwatch report weekly --week 2026-W47 --format pdf -o 周报.pdf
    """


@report_group.command("daily")
@click.option("--day", help="China-time day, e.g. 2026-11-23 (default: yesterday).")
@_report_options
def daily(ctx, day, region, platform, fmt, output, as_json, now):
    """The daily report (日报): the weekly summary's sections for one day, against the day before.

    Example:

        rumourwatch report daily --day 2026-11-23 --format pdf -o 日报.pdf
    """
    _write(ctx, "daily", day, region, platform, fmt, output, as_json, now)


@report_group.command("weekly")
@click.option("--week", help="ISO week, e.g. 2026-W47 (default: the last complete week).")
@_report_options
def weekly(ctx, week, region, platform, fmt, output, as_json, now):
    """The weekly summary: volume and opinion line, top rumours, alerts and deadlines, experts.

    Example:

        rumourwatch report weekly --week 2026-W47 --platform 微博 --format html -o weekly.html
    """
    _write(ctx, "weekly", week, region, platform, fmt, output, as_json, now)


MINIMUM_OPTION = click.option(
    "--minimum", type=click.IntRange(min=0), default=None,
    help=f"Clarifications each unit must publish a month (default {reports.DEFAULT_UNIT_MONTHLY_MINIMUM}, "
         "as in the Jincheng monthly-notice rule; a unit's own minimum in the unit list wins).")


@report_group.command("monthly")
@click.option("--month", help="Month, e.g. 2026-11 (default: the last complete month).")
@MINIMUM_OPTION
@_report_options
def monthly(ctx, month, minimum, region, platform, fmt, output, as_json, now):
    """The monthly notice: the month's figures and units ranked, those below the minimum flagged.

    Example:

        rumourwatch report monthly --month 2026-11 --format pdf -o 月通报.pdf
    """
    _write(ctx, "monthly", month, region, platform, fmt, output, as_json, now, minimum)


@report_group.command("quarterly")
@click.option("--quarter", help="Quarter, e.g. 2026-Q4 (default: the last complete quarter).")
@MINIMUM_OPTION
@_report_options
def quarterly(ctx, quarter, minimum, region, platform, fmt, output, as_json, now):
    """The quarterly report (季度报告): the monthly notice's sections for three months against the
    quarter before, a week-by-week chart and a month-by-month table, units judged month by month.

    Example:

        rumourwatch report quarterly --quarter 2026-Q4 --format pdf -o 季度报告.pdf
    """
    _write(ctx, "quarterly", quarter, region, platform, fmt, output, as_json, now, minimum)


@report_group.command("annual")
@click.option("--year", help="Year, e.g. 2026 (default: the last complete year).")
@MINIMUM_OPTION
@_report_options
def annual(ctx, year, minimum, region, platform, fmt, output, as_json, now):
    """The annual report (年度报告): the year's opinion line month by month against the year before,
    units judged month by month, the year's risk points.

    Example:

        rumourwatch report annual --year 2026 --format pdf -o 年度报告.pdf
    """
    _write(ctx, "annual", year, region, platform, fmt, output, as_json, now, minimum)


@report_group.command("send")
@click.option("--daily", "kind", flag_value="daily", help="Send yesterday's daily report.")
@click.option("--weekly", "kind", flag_value="weekly", help="Send the last complete week's summary.")
@click.option("--monthly", "kind", flag_value="monthly", help="Send the last complete month's notice.")
@click.option("--quarterly", "kind", flag_value="quarterly", help="Send the last complete quarter's report.")
@click.option("--annual", "kind", flag_value="annual", help="Send the last complete year's report.")
@click.option("--period", "label", help="A specific day, week, month, quarter or year instead of the last complete one.")
@click.option("--to", multiple=True, help="Email address (repeatable; default: the leader emails in the alert rules).")
@click.option("--webhook", multiple=True, help="Extra group-bot webhook URL (repeatable).")
@click.option("--out-dir", type=click.Path(file_okay=False), default=str(REPO_ROOT / "data" / "reports"),
              show_default=True, help="Folder that keeps every generated report.")
@click.option("--formats", default="pdf,docx,html", show_default=True,
              help="Comma-separated formats to generate (docx: Word, for the office to edit before issuing).")
@click.option("--rules", "rules_file", type=click.Path(dir_okay=False),
              help="Alert rules file with the notification settings (default: config/alert_rules.toml).")
@click.option("--force", is_flag=True, help="Send even if this period was already sent.")
@click.option("--no-units", "no_units", is_flag=True,
              help="Do not mail the monthly notice to the units' mailboxes (the units file's email column).")
@REGION_OPTION
@PLATFORM_OPTION
@NOW_OPTION
@click.pass_context
@friendly_errors
def send(ctx, kind, label, to, webhook, out_dir, formats, rules_file, force, no_units, region, platform, now):
    """Generate the last complete period's report and deliver it (for cron).

    Files always go to --out-dir; with the workflow's notifications configured they are also posted
    to the group-bot webhooks and mailed (PDF attached) to the leaders; the monthly notice (月通报) is
    also mailed to each unit it ranks that has a mailbox, its own rank first (--no-units: not). A period already sent is
    skipped, so running twice sends once; a failed channel exits non-zero and is retried next run.

    Example (crontab, every morning at 08:00, Mondays 08:00 and the 1st of each month):

        0 8 * * *  rumourwatch report send --daily

        0 8 * * 1  rumourwatch report send --weekly

        0 8 1 * *  rumourwatch report send --monthly --to leader@example.org

        0 8 1 1,4,7,10 *  rumourwatch report send --quarterly

        0 8 2 1 *  rumourwatch report send --annual
    """
    if not kind:
        raise click.UsageError("say which report: --daily, --weekly, --monthly, --quarterly or --annual")
    settings = _settings(ctx)
    db = store.open_db(settings.db_path)
    result = reports.send_report(
        db, kind, out_dir=out_dir, now=_now(now), label=label,
        formats=tuple(f.strip() for f in formats.split(",") if f.strip()), region=region, platform=platform,
        to=to, webhooks=webhook, rules_file=rules_file, force=force, threshold=settings.rumour_threshold,
        quiet_hours=settings.source_quiet_hours, units=not no_units)
    if result["skipped"]:
        click.echo(f"{kind} report {result['period']} was already sent; use --force to send again")
        return
    for r in result["channels"]:
        click.echo(f"{r['channel']} {r['target']}: {r['detail']}")


@report_group.command("risk")
@click.option("--days", type=click.IntRange(min=1), default=90, show_default=True,
              help="The last N Beijing days, today included.")
@click.option("--from", "day_from", metavar="YYYY-MM-DD", help="First Beijing day (instead of --days).")
@click.option("--to", "day_to", metavar="YYYY-MM-DD", help="Last Beijing day, included (default: today).")
@click.option("--kind", type=click.Choice(("topics", "accounts", "regions")), default=None,
              help="One table only (default: all three).")
@click.option("-o", "--output", type=click.Path(dir_okay=False), default=None,
              help="Write the --kind table as CSV for Excel here instead of printing.")
@click.option("--json", "as_json", is_flag=True, help="Print all three tables as JSON.")
@click.pass_context
@friendly_errors
def risk(ctx, days, day_from, day_to, kind, output, as_json):
    """Sort out the risk points (舆情风险点) of a period: the topics, accounts and places that keep
    producing negative or false health items, each with its flagged and confirmed false items and
    in how many weeks a flagged one came from it (two or more: a recurring risk point).

    Examples:

        rumourwatch report risk --days 90
        rumourwatch report risk --from 2026-09-01 --to 2026-11-30 --kind accounts -o 风险账号.csv
    """
    from .. import risk as risk_points
    from . import china_days

    if output and not kind:
        raise click.UsageError("--output writes one table: name it with --kind")
    start, end, period = china_days(day_from, day_to, days)
    points = risk_points.risk_points(store.open_db(_settings(ctx).db_path, read_only=True), start, end,
                                     _settings(ctx).rumour_threshold)
    if as_json:
        click.echo(json.dumps(points, ensure_ascii=False, indent=2))
        return
    if output:
        Path(output).write_text(risk_points.risk_csv(points, kind), encoding="utf-8")
        click.echo(f"wrote {len(points[kind])} {kind} of {period} to {output}", err=True)
        return
    click.echo(f"{period}: {risk_points.summary(points)}")
    for k in ([kind] if kind else risk_points.KINDS):
        click.echo(f"\n{k} ({len(points[k])})")
        click.echo("\t".join(risk_points.HEADERS[k]))
        for row in risk_points.rows(points, k):
            click.echo("\t".join(str(c) for c in row))


@report_group.command("effect")
@click.option("--days", type=click.IntRange(min=1), default=30, show_default=True,
              help="The clarifications published in the last N Beijing days, today included.")
@click.option("--from", "day_from", metavar="YYYY-MM-DD", help="First Beijing day (instead of --days).")
@click.option("--to", "day_to", metavar="YYYY-MM-DD", help="Last Beijing day, included (default: today).")
@click.option("--region", default=None, help="Only the alerts of this region.")
@click.option("-o", "--output", type=click.Path(dir_okay=False), default=None,
              help="Write the table as CSV for Excel here instead of printing it.")
@click.option("--json", "as_json", is_flag=True, help="Print every clarification's figures as JSON.")
@NOW_OPTION
@click.pass_context
@friendly_errors
def effect_command(ctx, days, day_from, day_to, region, output, as_json, now):
    """How the stories went on after their clarifications (辟谣效果): for each clarification published in
    the period, the story's new copies and reactions in the 24 hours before and after it, the share of
    doubting reactions, and the same change for stories without a clarification at the same age.

    Examples:

        rumourwatch report effect --days 30
        rumourwatch report effect --from 2026-11-01 --to 2026-11-30 -o 辟谣效果.csv
    """
    from datetime import UTC

    from .. import effect
    from . import china_days

    start, end, period = china_days(day_from, day_to, days)
    rows = effect.period_effects(store.open_db(_settings(ctx).db_path, read_only=True), start, end,
                                 _now(now) or datetime.now(UTC), region)
    if as_json:
        click.echo(json.dumps(rows, ensure_ascii=False, indent=2))
        return
    if output:
        Path(output).write_text(effect.effects_csv(rows), encoding="utf-8")
        click.echo(f"wrote {len(rows)} clarifications of {period} to {output}", err=True)
    click.echo(f"{period}: {effect.summary(rows)}")
    if not output:
        for e in rows:
            click.echo(f"#{e['clarification_id']} {e['title']}: {effect.status_text(e)}")


@report_group.command("import-units")
@click.argument("path", type=click.Path(dir_okay=False))
@click.pass_context
@friendly_errors
def import_units(ctx, path):
    """Load the unit list (county bureaus, hospitals) that the monthly notice ranks.

    CSV columns: code,name,kind,region,monthly_minimum[,active][,email]; `name` must match the experts'
    institution; `email` is the unit's mailbox, where the alerts referred to it are mailed.
    Re-importing updates units by code. Bad rows are listed with their line number.

    Example:

        rumourwatch report import-units data/units_sample.csv
    """
    db = store.open_db(_settings(ctx).db_path)
    n, errors = reports.import_units(db, path, max_mb=_settings(ctx).max_upload_mb)
    click.echo(f"{n} unit(s) imported")
    for e in errors:
        click.echo(f"skipped {e}", err=True)
    if errors:
        raise click.ClickException(f"{len(errors)} row(s) of {path} were not imported (see above)")


@report_group.command("import-submissions")
@click.argument("path", type=click.Path(dir_okay=False))
@click.option("--actor", default="cli", show_default=True, help="Who records them (the audit log's name).")
@NOW_OPTION
@click.pass_context
@friendly_errors
def import_submissions(ctx, path, actor, now):
    """Record a 信息报送台账: the pieces the units sent by mail or before the platform, counted by the
    monthly notice in the month of their day.

    An Excel workbook (.xlsx: its first sheet) or a CSV, with columns: unit,kind,title,content,date[,status][,adopted_in][,note][,url][,platform] or their
    Chinese names (单位,类别,标题,内容,报送日期,状态,采用于,说明,链接,出现平台); `unit` is a unit's code or
    name, `kind` 舆情信息 / 工作动态 / 健康科普, `status` 待处理 / 已采用 / 未采用 (declined needs its
    note). Bad rows are listed with their line number and every problem, the others recorded; a
    piece already recorded (same unit, day and title) is not counted twice.

    Example:

        rumourwatch report import-submissions 台账.xlsx
    """
    from .. import submissions

    settings = _settings(ctx)
    db = store.open_db(settings.db_path)
    result = submissions.import_ledger(db, path, actor=actor, now=_now(now) or store.now_utc(),
                                       max_mb=settings.max_upload_mb)
    click.echo(f"{result.created} piece(s) recorded ({result.items} 舆情信息 filed in the feed)")
    for e in result.errors:
        click.echo(f"skipped {e}", err=True)
    if result.errors:
        raise click.ClickException(f"{len(result.errors)} row(s) of {path} were not imported (see above)")


@report_group.command("log")
@click.option("--limit", default=20, show_default=True)
@click.pass_context
@friendly_errors
def log(ctx, limit):
    """Show the latest report deliveries.

    Example:

        rumourwatch report log --limit 5
    """
    db = store.open_db(_settings(ctx).db_path)
    for r in store.report_log_entries(db, limit):
        click.echo(json.dumps(r, ensure_ascii=False))
