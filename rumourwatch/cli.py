"""Command line: a thin layer over the library. Domain errors become `Error: ...` messages."""

from __future__ import annotations

import json
import logging
import os
import subprocess
import sys
import time
from datetime import datetime, timezone
from pathlib import Path

import click

from . import __version__
from .commands import friendly_errors
from .config import REPO_ROOT, load_settings
from .errors import RumourwatchError


def _settings(ctx: click.Context):
    return ctx.obj["settings"]


def load_bundle(settings, echo=None):
    """The trained bundle from the configured models_dir; trained there first when none is saved
    (a few minutes, once). A bundle that is there but refused is never replaced silently."""
    from training.train import ensure_models

    return ensure_models(settings, echo=echo or (lambda m: click.echo(m, err=True)))


@click.group()
@click.version_option(__version__, prog_name="rumourwatch")
@click.option("--db", "db_path", type=click.Path(dir_okay=False), help="SQLite database (default: setting db_path).")
@click.option("-v", "--verbose", is_flag=True, help="Log progress to stderr.")
@click.pass_context
def cli(ctx, db_path, verbose):
    """rumourwatch: find false health claims in Chinese media early, measure opinion, route to experts.

    Example:

        rumourwatch score-file posts.jsonl -o scores.jsonl --as-of-hours 1
    """
    logging.basicConfig(level=logging.INFO if verbose else logging.WARNING,
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    try:
        settings = load_settings(**({"db_path": db_path} if db_path else {}))
    except RumourwatchError as exc:
        raise click.ClickException(str(exc)) from exc
    ctx.obj = {"settings": settings}


@cli.command("init-db")
@click.pass_context
@friendly_errors
def init_db(ctx):
    """Create the database (or bring its schema up to date).

    Example:

        rumourwatch --db data/local.db init-db
    """
    from . import store

    settings = _settings(ctx)
    db = store.open_db(settings.db_path, migrate=False)
    applied = store.apply_migrations(db)
    click.echo(f"{settings.db_path}: applied {len(applied)} migration(s)" + (f": {', '.join(applied)}" if applied else ""))


@cli.command("score-file")
@click.argument("input_path", metavar="INPUT", type=click.Path(exists=True, dir_okay=False))
@click.option("-o", "--output", "output_path", required=True, type=click.Path(dir_okay=False),
              help="Output JSON Lines file (.gz to compress).")
@click.option("--as-of-hours", type=float, default=None,
              help="Use only reactions dated within H hours after each record's date (default: all).")
@click.pass_context
@friendly_errors
def score_file_cmd(ctx, input_path, output_path, as_of_hours):
    """Score a JSON Lines file of posts (optionally .gz).

    Each input line: {"id", "text", "date", "reposts": [{date, text}], "comments": [...]}.
    Each output line, in input order: id, rumour_probability, is_rumour, polarity,
    health_related, model_version — or {"id", "error"} for a malformed line. A post in Mongolian,
    Tibetan or Uyghur script with little Chinese, which the models (trained on Chinese) cannot read,
    gets null scores, its "language" and a "warning" instead of a guess.

    Example:

        rumourwatch score-file posts.jsonl.gz -o scores.jsonl --as-of-hours 6
    """
    from .score import check_score_file_args, score_file

    settings = _settings(ctx)
    check_score_file_args(input_path, output_path, as_of_hours)  # before minutes of model loading
    bundle = load_bundle(settings)
    counts = score_file(input_path, output_path, bundle, as_of_hours, max_chars=settings.max_text_chars)
    unassessed = (f", {counts['unassessed']} not assessed (written in a script the models cannot read)"
                  if counts.get("unassessed") else "")
    click.echo(f"scored {counts['scored']} line(s), {counts['errors']} error(s){unassessed} -> {output_path}", err=True)


@cli.command()
@click.option("--source", "specs", multiple=True,
              help="Source spec: file:PATH, feed:URL, api:CONFIG.toml (a JSON API, see rumourwatch/sources/api.py), "
                   "drop:FOLDER, "
                   "replay[:speed=N,start=ISO,limit=N,datasets=stream+checked+ced+debunks]. Repeatable.")
@click.option("--poll-seconds", type=float, default=None, help="Seconds between polls (default: setting poll_seconds).")
@click.option("--once", is_flag=True, help="Poll each source once, score, and exit.")
@click.option("--until-idle", is_flag=True, help="Keep polling until a poll finds nothing new, then exit.")
@click.option("--no-score", is_flag=True, help="Ingest only; score later (e.g. before models are trained).")
@click.option("--no-alerts", is_flag=True,
              help="Do not run the alert rules, escalation and notifications after each poll.")
@click.pass_context
@friendly_errors
def watch(ctx, specs, poll_seconds, once, until_idle, no_score, no_alerts):
    """Run sources continuously into the store, scoring items as they and their reactions arrive.

    After each poll it runs the alert rules (setting alert_rules) over what was scored, escalates
    overdue alerts and delivers notifications. Stops gracefully on Ctrl-C / SIGTERM; after a crash
    it resumes from its checkpoints.

    Example:

        rumourwatch watch --source replay:speed=60 --source feed:http://127.0.0.1:8000/rss.xml
    """
    from . import store
    from .sources import source_from_spec
    from .worker import Worker

    settings = _settings(ctx)
    if not specs and not Path(settings.sources_file).exists():
        raise click.UsageError(f"give at least one --source (e.g. --source replay), or list the sources in "
                               f"{settings.sources_file} (RUMOURWATCH_SOURCES_FILE; administrators edit it on 数据源与质量)")
    bundle = None if no_score else load_bundle(settings)
    sources = [source_from_spec(spec, settings, bundle=bundle) for spec in specs]
    db = store.open_db(settings.db_path)
    worker = Worker(db, sources, bundle, cluster_threshold=settings.cluster_threshold,
                    max_text_chars=settings.max_text_chars, workflow=not (no_score or no_alerts),
                    rules_path=settings.alert_rules, models_dir=None if no_score else settings.models_dir,
                    source_quiet_hours=settings.source_quiet_hours, sources_file=settings.sources_file,
                    settings=settings)
    worker.install_signal_handlers()

    def report(stats):
        if not stats.idle or stats.errors or stats.warnings:
            click.echo(f"{time.strftime('%H:%M:%S')} {stats}"
                       + (f"; errors: {'; '.join(stats.errors)}" if stats.errors else "")
                       + (f"; warnings: {'; '.join(stats.warnings)}" if stats.warnings else ""), err=True)

    worker.run(poll_seconds=poll_seconds or settings.poll_seconds, max_polls=1 if once else None,
               until_idle=until_idle, on_poll=report)


@cli.command()
@click.argument("paths", nargs=-1, required=True, type=click.Path(exists=True, dir_okay=False))
@click.option("--platform", default=None, help="Platform for records that name none (e.g. 微博).")
@click.option("--no-score", is_flag=True, help="Ingest only.")
@click.pass_context
@friendly_errors
def ingest(ctx, paths, platform, no_score):
    """Ingest JSON Lines or CSV files (UTF-8 or GB18030, optionally gzipped) once.

    Re-running is safe: the same item twice is one row. Malformed records go to the rejects table.

    Example:

        rumourwatch ingest exports/weibo-2026-11-23.csv --platform 微博
    """
    from . import store
    from .sources import source_from_spec
    from .worker import Worker

    settings = _settings(ctx)
    bundle = None if no_score else load_bundle(settings)
    sources = [source_from_spec(f"file:{p}", settings, platform=platform) for p in paths]
    db = store.open_db(settings.db_path)
    worker = Worker(db, sources, bundle, cluster_threshold=settings.cluster_threshold,
                    max_text_chars=settings.max_text_chars, one_off=True)
    stats = worker.poll_once()
    click.echo(str(stats))
    for error in stats.errors:
        click.echo(f"Error: {error}", err=True)
    if stats.rejects:
        click.echo(f"{stats.rejects} record(s) set aside; see `rumourwatch rejects`", err=True)


@cli.command()
@click.option("--limit", default=20, show_default=True, help="How many of the newest rejects to show.")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@click.pass_context
@friendly_errors
def rejects(ctx, limit, as_json):
    """List records that were set aside, with the reason for each.

    Example:

        rumourwatch rejects --limit 5
    """
    from . import store

    db = store.open_db(_settings(ctx).db_path)
    rows = store.list_rejects(db, limit)
    if as_json:
        click.echo(json.dumps(rows, ensure_ascii=False, indent=2))
        return
    for r in rows:
        click.echo(f"#{r['id']} {r['created_at']} [{r['source']}] {r['origin'] or ''} {r['reason']}")
    if not rows:
        click.echo("no rejects")


@cli.command()
@click.option("--quick", is_flag=True, help="Smaller rumour model (fewer hashed columns and decision-time "
                                            "copies), for a fast check; not for production.")
@click.option("--verdicts", "verdicts_db", type=click.Path(dir_okay=False),
              help="Also learn from the items of this rumourwatch database that monitors and experts "
                   "gave a verdict (rumour / not a rumour; the latest verdict on an item counts), and the "
                   "health relevance / topic labels analysts made there on the 数据标注 page.")
@click.pass_context
@friendly_errors
def train(ctx, quick, verdicts_db):
    """Train the models from the data bundle and save them to the models directory.

    Example:

        RUMOURWATCH_DATA_DIR=../shared/data rumourwatch train --verdicts data/rumourwatch.db
    """
    from training.train import QUICK_RUMOUR, train_all

    train_all(_settings(ctx), echo=click.echo, rumour_config=QUICK_RUMOUR if quick else None,
              verdicts_db=verdicts_db)


@cli.command()
@click.option("--out", "out_dir", type=click.Path(file_okay=False), default=None,
              help="Where the evaluation tables and plots go (default: setting cards_dir, models/cards, "
                   "which the dashboard's 模型与评估 page reads).")
@click.option("--verdicts", "verdicts_db", type=click.Path(dir_okay=False),
              help="Also train and test on the items of this rumourwatch database that monitors and experts "
                   "gave a verdict: the earlier ones train, the later ones test.")
@click.pass_context
@friendly_errors
def evaluate(ctx, out_dir, verdicts_db):
    """Time-ordered evaluation at 0/1/6/24 h of reactions, beside a naive baseline.

    Example:

        rumourwatch evaluate --out build/eval --verdicts data/rumourwatch.db
    """
    from training.evaluate import evaluate as run_evaluation

    settings = _settings(ctx)
    # the table is printed as it is computed; the whole result (reliability curves, config) is in
    # the JSON file beside the card, not dumped on the terminal
    run_evaluation(settings, Path(out_dir or settings.cards_dir), verdicts_db=verdicts_db)


@cli.command()
@click.option("--port", default=8501, show_default=True, help="Dashboard port.")
@click.option("--speed", type=float, default=None, help="Replay speed-up (default: setting replay_speed).")
@click.option("--backfill-hours", type=float, default=2.0, show_default=True,
              help="Start the replay this many real hours in the past so the dashboard opens with history.")
@click.option("--history-weeks", type=float, default=6.0, show_default=True,
              help="Give a new demo database this many weeks of simulated operation before the live replay "
                   "(reports, trends, experts' record); 0 for none.")
@click.option("--fresh", is_flag=True, help="Delete the demo database (and its copy of the alert rules) first.")
@click.pass_context
@friendly_errors
def demo(ctx, port, speed, backfill_hours, history_weeks, fresh):
    """Train models if absent, replay the data bundle into a demo database, open the live dashboard.

    Example:

        rumourwatch demo --port 8501 --speed 60
    """
    from training.train import ensure_models

    from . import demo as demo_setup

    settings = _settings(ctx)
    db_path = Path(os.environ.get("RUMOURWATCH_DB_PATH") or REPO_ROOT / "data" / "demo.db")
    if fresh:
        for suffix in ("", "-wal", "-shm"):
            Path(str(db_path) + suffix).unlink(missing_ok=True)
        demo_setup.rules_path(db_path).unlink(missing_ok=True)  # back to the default rules too
        demo_setup.sources_path(db_path).unlink(missing_ok=True)  # and no source added in the demo
    models_dir = demo_setup.demo_models_dir(settings)
    ensure_models(settings.replace(models_dir=str(models_dir)), echo=click.echo,
                  train_fraction=demo_setup.DEMO_TRAIN_FRACTION)
    os.environ.setdefault("RUMOURWATCH_AUDIT_KEY_FILE", str(demo_setup.audit_key(db_path)))  # sealed from the start
    prepared = demo_setup.prepare(db_path, echo=click.echo)
    rules = demo_setup.rules_file(db_path)
    env = dict(os.environ, RUMOURWATCH_DB_PATH=str(db_path), RUMOURWATCH_MODELS_DIR=str(models_dir),
               RUMOURWATCH_DATA_DIR=settings.data_dir, RUMOURWATCH_ALERT_RULES=str(rules),
               RUMOURWATCH_SOURCES_FILE=str(demo_setup.sources_path(db_path)))
    now = datetime.now(timezone.utc)
    history = demo_setup.ensure_history(db_path, settings, models_dir, rules,
                                        demo_setup.live_start(backfill_hours, now), history_weeks, echo=click.echo)
    spec = demo_setup.replay_spec(speed or settings.replay_speed, backfill_hours, now, history=history)
    worker = subprocess.Popen([sys.executable, "-m", "rumourwatch.cli", "watch", "--source", spec], env=env)
    click.echo(f"worker replaying the data bundle into {db_path} (pid {worker.pid}); alert rules: {rules}")
    click.echo(f"dashboard: http://localhost:{port} — accounts {', '.join(demo_setup.DEMO_ROLES)}, "
               f"password {demo_setup.DEMO_PASSWORD}"
               + (f" (created now: {', '.join(prepared['users_created'])})" if prepared["users_created"] else ""))
    command, env = dashboard_command(port, env)
    demo_setup.run_with_children(command, [worker], env=env)


def dashboard_command(port: int, env: dict, address: str | None = None) -> tuple[list[str], dict]:
    """The Streamlit command serving the dashboard, and its environment (`env` plus what the server
    needs). For a server left running all day: no file watcher (it polled the source tree, 5 % of a
    core, for edits a deployment never makes) and at most two malloc arenas. Streamlit runs every
    refresh of every open page in a new thread, and glibc gives threads their own arenas (up to 16 on
    two cores), each keeping what it freed: with one monitor on the live page of the demo, refreshing
    every 5 s while its replay was busy (items, reactions and scores written every few seconds), the
    server's memory climbed to 1.4 GB within a minute and a half, against 370 MB with two arenas, run
    back to back. An arena limit set by the operator is kept."""
    command = [sys.executable, "-m", "streamlit", "run", str(REPO_ROOT / "dashboard" / "streamlit_app.py"),
               "--server.port", str(port), "--server.headless", "true", "--browser.gatherUsageStats", "false",
               "--server.fileWatcherType", "none", "--server.runOnSave", "false"]
    if address:
        command += ["--server.address", address]
    return command, {"MALLOC_ARENA_MAX": "2", **env}


@cli.command()
@click.option("--port", default=8501, show_default=True, help="Dashboard port.")
@click.option("--address", default=None, help="Address to listen on (default: every interface).")
@click.pass_context
@friendly_errors
def dashboard(ctx, port, address):
    """Serve the dashboard on the configured store (setting db_path, or --db), whose worker runs as
    `rumourwatch watch`: the deployment's counterpart of `demo`, which also replays the bundle.

    Example:

        rumourwatch --db /srv/rumourwatch/rumourwatch.db dashboard --port 8501
    """
    settings = _settings(ctx)
    db_path = Path(settings.db_path).resolve()
    if not db_path.is_file():
        click.echo(f"warning: {db_path} does not exist yet: the pages will say so until `rumourwatch watch` "
                   "or `rumourwatch init-db` creates it", err=True)
    env = dict(os.environ, RUMOURWATCH_DB_PATH=str(db_path))
    click.echo(f"dashboard: http://localhost:{port} on {db_path}")
    command, env = dashboard_command(port, env, address)
    from .demo import run_with_children

    sys.exit(run_with_children(command, [], env=env))  # a SIGTERM stops the server too


# --- command groups defined in their own modules (rumourwatch/commands/*.py) ------------------
# Each area registers its group here with one line: cli.add_command(group).
from .commands import workflow as _wf; cli.add_command(_wf.alerts_group); cli.add_command(_wf.experts_group); cli.add_command(_wf.tips_group)  # noqa: E402,E702
from .commands import admin as _admin_commands; _admin_commands.register(cli)  # noqa: E402,E702
from .commands.reports import report_group as _report_group; cli.add_command(_report_group)  # noqa: E402,E702
from .commands.search import assess_cmd as _assess_cmd, debunks_group as _debunks_group, search_cmd as _search_cmd; cli.add_command(_search_cmd); cli.add_command(_debunks_group); cli.add_command(_assess_cmd)  # noqa: E402,E702
from .commands.handover import handover_group as _handover_group; cli.add_command(_handover_group)  # noqa: E402,E702
from .commands.media import channels_group as _channels_group, media_group as _media_group; cli.add_command(_media_group); cli.add_command(_channels_group)  # noqa: E402,E702
from .commands.readings import readings_group as _readings_group; cli.add_command(_readings_group)  # noqa: E402,E702


if __name__ == "__main__":
    cli()
