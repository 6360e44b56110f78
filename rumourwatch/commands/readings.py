"""`rumourwatch readings …`: the items in a script the models cannot read (Mongolian, Tibetan,
Uyghur) and their human readings (人工判读, rumourwatch.readings), as on the 民族文字判读 page."""

from __future__ import annotations

import getpass
import json

import click

from .. import readings
from ..language import LANGUAGE_NAMES
from ..nlp.topics import TOPICS
from ..opinion import POLARITIES
from ..records import beijing
from . import friendly_errors
from .workflow import _db, _now


@click.group("readings")
def readings_group():
    """Items the models cannot read (written in Mongolian, Tibetan or Uyghur script) and their human
    readings: a reading gives the item its relevance, topic and polarity, so it counts in the
    opinion figures and the reports.

    Example:

        rumourwatch readings list --language mn
    """


@readings_group.command("list")
@click.option("--language", type=click.Choice(list(LANGUAGE_NAMES)), default=None,
              help="Only items in this script (mn Mongolian, bo Tibetan, ug Uyghur).")
@click.option("--read", "done", is_flag=True, help="List the latest readings instead of the items waiting.")
@click.option("--limit", default=50, show_default=True, type=click.IntRange(1, 10000))
@click.option("--json", "as_json", is_flag=True, help="Print a JSON list.")
@click.pass_context
@friendly_errors
def readings_list(ctx, language, done, limit, as_json):
    """List the items waiting for a reader, newest first (or, with --read, the latest readings).

    Example:

        rumourwatch readings list --language mn --limit 20
    """
    db = _db(ctx)
    rows = readings.recent(db, limit) if done else readings.pending(db, language, limit)
    if done and language:
        rows = [r for r in rows if r["language"] == language]
    if as_json:
        click.echo(json.dumps(rows, ensure_ascii=False, indent=2, default=str))
        return
    if not rows:
        click.echo("no readings yet" if done else "no item waits for a reader")
    for r in rows:
        if done:
            click.echo(f"item #{r['item_id']} [{LANGUAGE_NAMES[r['language']]}] "
                       f"{'health' if r['health_related'] else 'not health'} · {r['topic']} · {r['polarity']} "
                       f"by {r['read_by']} at {beijing(r['at'])}: {r['gist'] or '-'}")
        else:
            text = " ".join((r["text"] or "").split())
            click.echo(f"item #{r['id']} [{LANGUAGE_NAMES[r['language']]}] {r['platform']} {r['account'] or '-'} "
                       f"{beijing(r['published_at'])}: {text[:60]}")


@readings_group.command("add")
@click.argument("item_id", type=int)
@click.option("--health/--not-health", "health_related", required=True, help="Whether the item is about health.")
@click.option("--topic", type=click.Choice(TOPICS), default=None, help="Its Healthy China topic (a health item).")
@click.option("--polarity", required=True, type=click.Choice(POLARITIES), help="Its polarity.")
@click.option("--gist", default="", help="What it says, in Chinese (required for a health item).")
@click.option("--actor", default=None, help="Who read it (default: the login name).")
@click.pass_context
@friendly_errors
def readings_add(ctx, item_id, health_related, topic, polarity, gist, actor):
    """Record the reading of an item the models cannot read; the item's figures become the reading's.

    Example:

        rumourwatch readings add 123 --health --topic 传染病及地方病防控 --polarity negative --gist "称喝白酒可预防流感"
    """
    reading_id = readings.record_reading(_db(ctx), item_id, health_related, topic, polarity, gist,
                                         actor or getpass.getuser(), _now())
    click.echo(f"reading #{reading_id} of item #{item_id} recorded")
