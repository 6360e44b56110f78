"""`rumourwatch media …`: media outlets' requests for pool experts (媒体约请, rumourwatch.media), as
on the dashboard's 媒体约请 page. Experts answer on the workbench."""

from __future__ import annotations

import getpass
import json

import click

from .. import media, ownmedia, store
from ..experts import LEVELS, TOPICS
from ..records import beijing, parse_time
from ..reports import clip
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


# --- 政务新媒体: the office's own channels (rumourwatch.ownmedia) ----------------------------------

@click.group("channels")
def channels_group():
    """The office's own channels (政务新媒体: its and its units' Weibo, WeChat public accounts, Douyin,
    video accounts, Toutiao, websites), as on the dashboard's 政务新媒体 page: register them as the
    feed's items carry them, list them, remove one, and read what they published and reached.

    Example:

        rumourwatch channels add --platform 微博 --account 1234567890 --name 健康吉林
    """


@channels_group.command("add")
@click.option("--platform", required=True, help="The platform as the feed's items name it (微博, 微信公众号 …).")
@click.option("--account", required=True, help="The account as the feed's items carry it (their account id).")
@click.option("--name", required=True, help="The channel's name, as people call it.")
@click.option("--unit", default=None, help="The unit that runs it (code or name; default: the office itself).")
@click.option("--note", default="", help="A note.")
@ACTOR_OPTION
@click.pass_context
@friendly_errors
def channels_add(ctx, platform, account, name, unit, note, actor):
    """Register one of the office's channels; says how many of its items the store holds (none: check
    the account, or add a source that reads it). Its posts are then the office's own publishing.

    Example:

        rumourwatch channels add --platform 微信公众号 --account jkjl --name 健康吉林 --unit U001
    """
    db = _db(ctx)
    unit_id = None
    if unit:
        found = store.find_unit(db, unit)
        if found is None:
            raise click.BadParameter(f"no unit with the code or name {unit!r} (`rumourwatch report units`)",
                                     param_hint="--unit")
        unit_id = found["id"]
    added = ownmedia.add(db, platform=platform, account=account, name=name, unit_id=unit_id, note=note,
                         actor=actor or getpass.getuser(), now=_now())
    click.echo(f"channel #{added['id']} {added['name']} ({added['platform']} {added['account']}) registered; "
               + (f"{added['items']} of its items in the store" if added["items"]
                  else "no item of it in the store yet: check the account, or add a source that reads it"))


@channels_group.command("list")
@click.option("--json", "as_json", is_flag=True, help="Print a JSON list.")
@click.pass_context
@friendly_errors
def channels_list(ctx, as_json):
    """List the registered channels, by platform and name, with the unit that runs each.

    Example:

        rumourwatch channels list --json
    """
    rows = store.list_own_accounts(store.open_db(ctx.obj["settings"].db_path, read_only=True))
    if as_json:
        click.echo(json.dumps(rows, ensure_ascii=False, indent=2))
        return
    if not rows:
        click.echo("no channel registered")
    for r in rows:
        click.echo(f"#{r['id']} {r['name']} ({r['platform']} {r['account']}) {r['unit_name'] or 'the office'}")


@channels_group.command("remove")
@click.argument("channel_id", type=int)
@click.option("--reason", required=True, help="Why (kept in the audit log).")
@ACTOR_OPTION
@click.pass_context
@friendly_errors
def channels_remove(ctx, channel_id, reason, actor):
    """Take a channel off the register (kept with the reason; its posts no longer counted as the office's).

    Example:

        rumourwatch channels remove 3 --reason 账号已停用
    """
    gone = ownmedia.remove(_db(ctx), channel_id, reason=reason, actor=actor or getpass.getuser(), now=_now())
    click.echo(f"channel #{gone['id']} {gone['name']} removed")


@channels_group.command("figures")
@click.option("--days", default=30, show_default=True, type=click.IntRange(1, 366),
              help="The last DAYS days (China time, today included), against as many days before.")
@click.option("--json", "as_json", is_flag=True, help="Print the figures as JSON.")
@click.pass_context
@friendly_errors
def channels_figures(ctx, days, as_json):
    """What the channels published and reached in the last DAYS days against as many before, their
    most spread posts, and the topics the public talked about that they left unanswered.

    Example:

        rumourwatch channels figures --days 7
    """
    from datetime import timedelta

    settings = ctx.obj["settings"]
    now = _now()
    start, end = store.day_range(now - timedelta(days=days - 1), days)
    previous, _ = store.day_range(now - timedelta(days=2 * days - 1), days)
    found = ownmedia.figures(store.open_db(settings.db_path, read_only=True), start, end, settings.rumour_threshold,
                             previous_start=previous)
    if as_json:
        click.echo(json.dumps(found, ensure_ascii=False, indent=2))
        return
    if not found["accounts"]:
        click.echo("no channel registered")
        return
    for a in found["accounts"]:
        click.echo(f"{a['name']} ({a['platform']}): {a['posts']} posts, {a['engagement']} reposts+comments+likes "
                   f"(before: {a['previous']['posts']} posts, {a['previous']['engagement']})")
    for r in found["top"][:5]:
        click.echo(f"  top: {beijing(r['published_at'])} {r['name']} {r['engagement']}: "
                   f"{clip(r['title'] or r['text'], 40)}")
    click.echo("unanswered topics: " + ("、".join(found["unanswered"]) or "none"))
