"""`rumourwatch search`: the 条目检索 page's keyword search from the command line (rumourwatch.search)."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import click

from ..nlp.topics import ALL_TOPICS
from . import china_days, friendly_errors


@click.command("search")
@click.argument("query", required=False, default="")
@click.option("--days", type=click.IntRange(min=1), default=30, show_default=True,
              help="Items published in the last N China days, today included.")
@click.option("--from", "day_from", metavar="YYYY-MM-DD", help="First China day (instead of --days).")
@click.option("--to", "day_to", metavar="YYYY-MM-DD", help="Last China day, included (default: today).")
@click.option("--all", "all_time", is_flag=True, help="Every stored item, whatever its date.")
@click.option("--platform", "platforms", multiple=True, help="Only this platform (repeatable).")
@click.option("--account", help="Only items of this account (or author), exactly as stored; QUERY may then be left out.")
@click.option("--topic", type=click.Choice(ALL_TOPICS), help="Only items under this Healthy China topic; QUERY may then "
              "be left out.")
@click.option("--health-only", is_flag=True, help="Only items the model judged health-related.")
@click.option("--order", type=click.Choice(["time", "probability"]), default="time", show_default=True,
              help="List the newest items first, or the likeliest rumours first.")
@click.option("--limit", type=click.IntRange(min=0), default=20, show_default=True, help="Items to list.")
@click.option("--json", "as_json", is_flag=True, help="Print the figures and the listed items as JSON.")
@click.option("--csv", "csv_path", type=click.Path(dir_okay=False, path_type=Path),
              help="Also write every matching item (newest first, up to 20,000) to this CSV file for Excel.")
@click.pass_context
@friendly_errors
def search_cmd(ctx, query, days, day_from, day_to, all_time, platforms, account, topic, health_only, order, limit,
               as_json, csv_path):
    """Find the stored items that mention QUERY (and/or are by --account, under --topic), with their
    counts, flags and opinion line.

    QUERY: words separated by spaces must all occur; A|B means either; -A leaves out items with A;
    quote a phrase with a space. A word matches anywhere in an item's title or text.

    A query that starts with - goes last, after the options and -- (rumourwatch search --days 7 -- "-x y").

    Example:

        rumourwatch search "疫苗 -宠物" --days 7 --order probability
    """
    from .. import search, store
    from ..records import CST, parse_time

    settings = ctx.obj["settings"]
    account = (account or "").strip() or None
    if not query.strip() and not account and not topic:
        raise click.UsageError("give words to search for, or --account or --topic (or both)")
    parsed = search.parse_query(query, words_needed=account is None and topic is None)
    if all_time and (day_from or day_to):
        raise click.UsageError("--all and --from/--to choose the period in two ways: give one of them")
    if all_time:
        start = end = None
        period = "all time"
    else:
        start, end, period = china_days(day_from, day_to, days)
    if csv_path is not None and not csv_path.parent.is_dir():
        raise click.BadParameter(f"directory {csv_path.parent} does not exist", param_hint="--csv")
    db = store.open_db(settings.db_path, read_only=True)
    threshold = settings.rumour_threshold
    filters = {"platforms": platforms, "health_only": health_only, "account": account, "topic": topic}
    try:
        result = search.run(db, parsed, start, end, threshold, order=order, limit=limit, **filters)
        exported = search.export_csv(db, parsed, start, end, threshold, **filters) if csv_path else None
    except sqlite3.Error as exc:
        raise store.explain_sqlite_error(exc, settings.db_path) from exc
    if exported is not None:
        csv_path.write_text(exported[0], encoding="utf-8")
    if as_json:
        out = {k: v for k, v in result.items() if k != "polarity"}
        out.update(query=query, account=account, topic=topic, period=period, threshold=threshold,
                   polarity={k or "unscored": v for k, v in result["polarity"].items()})
        click.echo(json.dumps(out, ensure_ascii=False, indent=2))
    else:
        what = " ".join(([repr(query)] if query.strip() else []) + ([f"by account {account!r}"] if account else [])
                        + ([f"on topic {topic}"] if topic else []))
        click.echo(f"{what}, {period}: {result['total']:,} items in {result['stories']:,} stories; "
                   f"{result['flagged']:,} flagged (rumour probability >= {threshold:g}), "
                   f"{result['debunked']:,} already debunked, {result['health']:,} health-related")
        if result["total"]:
            click.echo(f"opinion: {result['line']}" + (f" ({result['unscored']:,} not scored)"
                                                       if result["unscored"] else ""))
        for r in result["items"]:
            p = r["rumour_probability"]
            when = parse_time(r["published_at"]).astimezone(CST)
            click.echo(f"#{r['id']} {when:%Y-%m-%d %H:%M} {r['platform']} {r['account'] or '-'} "
                       f"p={'-' if p is None else f'{p:.2f}'} {r['polarity'] or '-'}  {r['snippet']}")
    if exported is not None:
        click.echo(f"wrote {exported[1]:,} items to {csv_path}"
                   + (f" (the newest {search.EXPORT_LIMIT:,} of {result['total']:,})"
                      if result["total"] > exported[1] else ""), err=as_json)


@click.group("debunks")
def debunks_group():
    """The knowledge base of published clarifications (辟谣知识库): the public debunk articles the
    models were trained with, and the clarifications published here."""


@debunks_group.command("find")
@click.argument("text")
@click.option("-k", "--limit", "k", type=click.IntRange(min=1, max=50), default=10, show_default=True,
              help="How many clarifications to list.")
@click.option("--json", "as_json", is_flag=True, help="Print a JSON list.")
@click.pass_context
@friendly_errors
def debunks_find(ctx, text, k, as_json):
    """Has TEXT (a claim, a post, what a caller said) been debunked already? Lists the closest
    published clarifications, best first, with their similarity and whether it reaches the
    calibrated 已辟谣 threshold; one published here that TEXT repeats comes first. Exit status 0
    when one is 已辟谣, 1 when none is.

    Example:

        rumourwatch debunks find "喝高度白酒可以杀死新冠病毒"
    """
    from datetime import UTC, datetime

    from .. import store
    from ..cli import load_bundle
    from ..records import beijing, iso
    from ..score import closest_clarifications

    if len(text.strip()) < 4:
        raise click.BadParameter("give at least 4 characters of the claim or post", param_hint="TEXT")
    settings = ctx.obj["settings"]
    bundle = load_bundle(settings)
    path = Path(settings.db_path)
    db = store.open_db(path, read_only=True) if path.exists() else store.open_db(memory=True)
    found = closest_clarifications(db, bundle, text.strip(), iso(datetime.now(UTC)), k)
    rows = [{"title": m["title"], "url": m["url"], "platform": m["platform"], "own": m["own"],
             "date": m["date"].isoformat() if hasattr(m["date"], "isoformat") else m["date"],
             "similarity": round(float(m["score"] or 0.0), 4), "already_debunked": bool(m["already_debunked"]),
             **({"clarification_id": m["clarification_id"], "alert_id": m["alert_id"]} if m["own"] else {})}
            for m in found]
    if as_json:
        click.echo(json.dumps(rows, ensure_ascii=False, indent=2))
    else:
        debunked = sum(r["already_debunked"] for r in rows)
        click.echo(f"{debunked} of {len(rows)} closest clarification(s) reach the 已辟谣 threshold" if rows
                   else "no similar clarification found")
        for r in rows:
            where = f"clarification #{r['clarification_id']} published here" if r["own"] else r["platform"] or ""
            click.echo(f"{r['similarity']:.2f} {'已辟谣 ' if r['already_debunked'] else ''}{r['title']} "
                       f"({where}, {beijing(r['date'], '%Y-%m-%d') or ''}) {r['url'] or ''}")
    if not any(r["already_debunked"] for r in rows):
        ctx.exit(1)


@click.command("assess")
@click.argument("query", required=False, default="")
@click.option("--title", required=True, help="What is planned: the policy, activity or work the assessment is for.")
@click.option("--day", "event_day", required=True, metavar="YYYY-MM-DD", help="The Beijing day it is planned for.")
@click.option("--topic", type=click.Choice(ALL_TOPICS), help="Only items under this Healthy China topic; QUERY may then "
              "be left out.")
@click.option("--note", default=None, help="The assessor's own view (研判意见), printed as a section of its own.")
@click.option("-o", "--output", "output_path", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="Also write the document: .docx (official-document layout), .pdf, .html or .md.")
@click.option("--save", is_flag=True, help="Keep the assessment (audited), to be read against what followed its day.")
@click.option("--actor", default=None, help="With --save: who made it (default: the login name).")
@click.option("--json", "as_json", is_flag=True, help="Print the assessment as JSON.")
@click.pass_context
@friendly_errors
def assess_cmd(ctx, query, title, event_day, topic, note, output_path, save, actor, as_json):
    """Assess the public-opinion risk of a policy, activity or work before its day (事前舆情风险评估,
    seed 001: "做好事前舆论研判和风险评估"): what the feed said of its subject (QUERY, in the search's
    syntax, and/or --topic) in the last 30 days and today, the false claims already about it, the
    experts and clarifications at hand, a level (较高 / 中等 / 较低) with each reason, and the work
    that follows.

    Example:

        rumourwatch assess "医保 门诊" --title 门诊共济保障改革政策发布 --day 2026-12-15 -o 研判.docx --save
    """
    import getpass
    from datetime import date

    from .. import assessment, store
    from ..clock import system_clock
    from .reports import output_format

    try:
        day = date.fromisoformat(event_day)
    except ValueError:
        raise click.BadParameter(f"{event_day!r} is not a date like 2026-12-15", param_hint="--day") from None
    fmt = None
    if output_path is not None:
        fmt = output_format(None, str(output_path), default="")
        if not fmt:
            raise click.BadParameter(f"{output_path.name} is not a .docx, .pdf, .html or .md file", param_hint="--output")
        if not output_path.parent.is_dir():
            raise click.BadParameter(f"directory {output_path.parent} does not exist", param_hint="--output")
    settings = ctx.obj["settings"]
    db = store.open_db(settings.db_path, read_only=not save)
    now = system_clock()
    try:
        a = assessment.compute(db, title=title, query=query, topic=topic, event_day=day, now=now,
                               threshold=settings.rumour_threshold, note=note)
    except sqlite3.Error as exc:
        raise store.explain_sqlite_error(exc, settings.db_path) from exc
    if save:
        assessment.save(db, a, actor=actor or getpass.getuser(), now=now)
    if output_path is not None:
        assessment.render(a, fmt, output_path)
    if as_json:
        click.echo(a.to_json())
    else:
        click.echo("\n".join(assessment.summary_lines(a)))
        for i, line in enumerate(a.advice, 1):
            click.echo(f"{i}. {line}")
    if save:
        click.echo(f"saved as assessment #{a.id}", err=as_json)
    if output_path is not None:
        click.echo(f"wrote {output_path}", err=as_json)
