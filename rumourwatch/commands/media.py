"""`rumourwatch media …`: media outlets' requests for pool experts (媒体约请, rumourwatch.media), as
on the dashboard's 媒体约请 page. Experts answer on the workbench."""

from __future__ import annotations

import getpass
import json

import click

from .. import media, store
from ..experts import LEVELS, TOPICS
from ..records import beijing, parse_time
from . import friendly_errors
from .workflow import _db, _now

ACTOR_OPTION = click.option("--actor", default=None, help="Who does it (default: the login name).")


@click.group("media")
def media_group():
    """Media outlets' requests for experts of the pool (seed 000 §(三)2: invited from the pool, city
    media preferring city-level experts and above): record, suggest, offer, record as done, cancel.

    Example:

        rumourwatch media add --outlet 市广播电视台 --level 市级 --kind 访谈 --at "2026-12-10 09:00" --topic 控烟
    """


@media_group.command("add")
@click.option("--outlet", required=True, help="The outlet's name.")
@click.option("--level", "outlet_level", required=True, type=click.Choice(LEVELS), help="The outlet's level.")
@click.option("--kind", required=True, type=click.Choice(media.KINDS), help="What the expert is asked for.")
@click.option("--at", "starts", required=True, help="When (China time 'YYYY-MM-DD HH:MM', or ISO 8601).")
@click.option("--hours", default=2.0, show_default=True, type=float, help="How long it lasts.")
@click.option("--topic", type=click.Choice(TOPICS), default=None, help="The Healthy China action it is about.")
@click.option("--programme", default="", help="The programme or column.")
@click.option("--region", default=None, help="Where (experts of the same region rank higher).")
@click.option("--contact", default="", help="The outlet's contact, sent to the expert.")
@click.option("--note", default="", help="Anything the expert should know.")
@ACTOR_OPTION
@click.pass_context
@friendly_errors
def media_add(ctx, outlet, outlet_level, kind, starts, hours, topic, programme, region, contact, note, actor):
    """Record a media outlet's request for an expert; prints its id and the suggested experts.

    Example:

        rumourwatch media add --outlet 市广播电视台 --level 市级 --kind 访谈 --at "2026-12-10 09:00" --topic 控烟
    """
    db = _db(ctx)
    request_id = media.create_request(db, outlet=outlet, outlet_level=outlet_level, kind=kind,
                                      starts_at=parse_time(starts), hours=hours, actor=actor or getpass.getuser(),
                                      now=_now(), programme=programme, topic=topic, region=region, contact=contact,
                                      note=note)
    click.echo(f"media request #{request_id} recorded")
    _print_suggestions(media.suggest(db, request_id))


def _print_suggestions(rows: list[dict]) -> None:
    if not rows:
        click.echo("no expert to suggest: all asked already, away then, or inactive")
    for s in rows:
        click.echo(f"  expert #{s['expert_id']} {s['name']} ({s['level']}, {s['institution']}) score {s['score']:g}: "
                   + "；".join(s["reasons"]))


@media_group.command("list")
@click.option("--status", type=click.Choice(media.STATUSES),
              multiple=True, help="Only these (repeatable; default: all).")
@click.option("--json", "as_json", is_flag=True, help="Print a JSON list.")
@click.pass_context
@friendly_errors
def media_list(ctx, status, as_json):
    """List the media requests, latest activity first, with the expert on each.

    Example:

        rumourwatch media list --status open --status offered
    """
    rows = store.media_requests(store.open_db(ctx.obj["settings"].db_path, read_only=True), tuple(status) or None)
    if as_json:
        click.echo(json.dumps(rows, ensure_ascii=False, indent=2))
        return
    if not rows:
        click.echo("no media request")
    for r in rows:
        click.echo(f"#{r['id']} {beijing(r['starts_at'])} {r['outlet']} ({r['outlet_level']}) {r['kind']} "
                   f"{r['topic'] or '-'} [{r['status']}]" + (f" expert: {r['expert_name']}" if r["expert_name"] else ""))


@media_group.command("suggest")
@click.argument("request_id", type=int)
@click.option("--json", "as_json", is_flag=True, help="Print a JSON list.")
@click.pass_context
@friendly_errors
def media_suggest(ctx, request_id, as_json):
    """Rank the pool's experts for a request (specialty, a level at or above the outlet's, region,
    few invitations lately; those away then or asked already left out).

    Example:

        rumourwatch media suggest 3 --json
    """
    rows = media.suggest(store.open_db(ctx.obj["settings"].db_path, read_only=True), request_id)
    if as_json:
        click.echo(json.dumps(rows, ensure_ascii=False, indent=2))
    else:
        _print_suggestions(rows)


@media_group.command("offer")
@click.argument("request_id", type=int)
@click.argument("expert_id", type=int)
@ACTOR_OPTION
@click.pass_context
@friendly_errors
def media_offer(ctx, request_id, expert_id, actor):
    """Offer a request to an expert (mailed to them; they answer on the workbench).

    Example:

        rumourwatch media offer 3 12
    """
    offer_id = media.offer(_db(ctx), request_id, expert_id, actor or getpass.getuser(), _now())
    click.echo(f"media request #{request_id} offered to expert #{expert_id} (offer #{offer_id})")


@media_group.command("done")
@click.argument("request_id", type=int)
@click.option("--url", default="", help="The programme's or article's web address.")
@click.option("--note", default="", help="What came of it.")
@ACTOR_OPTION
@click.pass_context
@friendly_errors
def media_done(ctx, request_id, url, note, actor):
    """Record that an accepted request took place.

    Example:

        rumourwatch media done 3 --url https://tv.example.org/health/1201
    """
    media.complete(_db(ctx), request_id, actor or getpass.getuser(), _now(), url, note)
    click.echo(f"media request #{request_id} recorded as done")


@media_group.command("withdraw")
@click.argument("request_id", type=int)
@click.option("--reason", required=True, help="Why (the expert is told).")
@ACTOR_OPTION
@click.pass_context
@friendly_errors
def media_withdraw(ctx, request_id, reason, actor):
    """Take a request back from its expert (silent, or no longer able) to offer it to another; the
    expert is mailed and not suggested for it again.

    Example:

        rumourwatch media withdraw 3 --reason 专家未答复
    """
    media.withdraw(_db(ctx), request_id, actor or getpass.getuser(), _now(), reason)
    click.echo(f"media request #{request_id} withdrawn from its expert: open again")


@media_group.command("cancel")
@click.argument("request_id", type=int)
@click.option("--reason", required=True, help="Why (the expert it was offered to is told).")
@ACTOR_OPTION
@click.pass_context
@friendly_errors
def media_cancel(ctx, request_id, reason, actor):
    """Cancel a request; an expert it was offered to, or who accepted it, is mailed.

    Example:

        rumourwatch media cancel 3 --reason 栏目取消录制
    """
    media.cancel(_db(ctx), request_id, actor or getpass.getuser(), _now(), reason)
    click.echo(f"media request #{request_id} cancelled")
