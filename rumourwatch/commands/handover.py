"""`rumourwatch handover …`: the monitors' shift handover (值班交接, rumourwatch.handover)."""

from __future__ import annotations

import getpass
import json
from datetime import timedelta

import click

from .. import store
from . import friendly_errors
from .reports import NOW_OPTION


def _since(since: str | None, hours: float | None, now):
    from ..records import parse_time

    if since and hours:
        raise click.UsageError("give --since or --hours, not both")
    if hours:
        return now - timedelta(hours=hours)
    return parse_time(since) if since else None  # an unreadable time is refused with what to write


def _now(now: str | None):
    from ..clock import system_clock
    from ..records import parse_time

    return system_clock() if now is None else parse_time(now)


SINCE_OPTIONS = (
    click.option("--since", help="When the shift began (ISO 8601; default: the last handover if it is at most "
                                 "24 hours old, else 8 hours ago)."),
    click.option("--hours", type=click.FloatRange(min=0, min_open=True), help="The shift is the last N hours."),
    NOW_OPTION,
)


def _shift_options(fn):
    for option in reversed(SINCE_OPTIONS):
        fn = option(fn)
    return fn


@click.group("handover")
def handover_group():
    """The shift handover (值班交接): what the shift saw and did, what it leaves open, a note.

    Example:

        rumourwatch handover write --note "#12 已电话联系专家，08:30 前回复"
    """


@handover_group.command("show")
@_shift_options
@click.option("--json", "as_json", is_flag=True, help="Print the shift as JSON.")
@click.pass_context
@friendly_errors
def handover_show(ctx, since, hours, now, as_json):
    """The current shift so far and what it would hand over, without recording anything.

    Example:

        rumourwatch handover show --hours 12
    """
    from ..handover import default_since, open_lines, shift_lines, shift_summary

    settings = ctx.obj["settings"]
    db = store.open_db(settings.db_path)
    when = _now(now)
    summary = shift_summary(db, _since(since, hours, when) or default_since(db, when), when,
                            settings.source_quiet_hours)
    if as_json:
        click.echo(json.dumps(summary, ensure_ascii=False, indent=2))
        return
    for line in ["一、本班情况", *shift_lines(summary), "二、移交事项", *open_lines(summary)]:
        click.echo(line)


@handover_group.command("write")
@_shift_options
@click.option("--note", default="", help="What the next shift must know, in your words (at most 2,000 characters).")
@click.option("--actor", default=None, help="Who hands over (default: the login name).")
@click.pass_context
@friendly_errors
def handover_write(ctx, since, hours, now, note, actor):
    """Record the handover of the current shift; the monitors' group bots and mailboxes get it.
    Prints its id and its text.

    Example:

        rumourwatch handover write --note "预警 #12 的专家尚未接受，已电话催促"
    """
    from ..alerts import load_rules
    from ..handover import handover, handover_lines, write_handover

    settings = ctx.obj["settings"]
    db = store.open_db(settings.db_path)
    when = _now(now)
    hid = write_handover(db, actor or getpass.getuser(), when, note, _since(since, hours, when),
                         settings.source_quiet_hours, load_rules(None))
    click.echo(f"handover #{hid}")
    for line in handover_lines(handover(db, hid)):
        click.echo(line)


@handover_group.command("list")
@click.option("--limit", default=30, show_default=True, help="Latest handovers first, at most this many.")
@click.option("--json", "as_json", is_flag=True, help="Print a JSON list.")
@click.pass_context
@friendly_errors
def handover_list(ctx, limit, as_json):
    """Earlier handovers: when, by whom, who confirmed them, the open and overdue alerts they passed on.

    Example:

        rumourwatch handover list --limit 10
    """
    from ..handover import history

    rows = history(store.open_db(ctx.obj["settings"].db_path), limit)
    if as_json:
        click.echo(json.dumps(rows, ensure_ascii=False, indent=2))
        return
    if not rows:
        click.echo("no handovers")
    for r in rows:
        received = f"received by {r['received_by']} at {r['received_at']}" if r["received_by"] else "not received"
        click.echo(f"#{r['id']} {r['created_at']} {r['author']}: {r['open_alerts']} open alert(s), "
                   f"{r['overdue']} overdue; {received}")


@handover_group.command("receive")
@click.argument("handover_id", type=int)
@click.option("--actor", default=None, help="Who takes over (default: the login name).")
@NOW_OPTION
@click.pass_context
@friendly_errors
def handover_receive(ctx, handover_id, actor, now):
    """Confirm you have read a handover and taken over the shift (确认接班).

    Example:

        rumourwatch handover receive 41
    """
    from ..handover import receive_handover

    row = receive_handover(store.open_db(ctx.obj["settings"].db_path), handover_id, actor or getpass.getuser(),
                           _now(now))
    click.echo(f"handover #{row['id']} from {row['author']} received by {row['received_by']}")
