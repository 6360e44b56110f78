"""The demo: a database with one account per role, the sample roster, units and rules, fed by a
replay of the data bundle through the live worker, and the dashboard on top.

The demo's models are trained on the earliest 80 % of each labelled set only (into
`<models_dir>/demo`), so the replay can play the later 20 % — posts the models never saw — with
their reposts and comments arriving at their own relative times. The production models in
`models_dir` (used by `score-file` and `watch`) are trained on everything.
"""

from __future__ import annotations

import signal
import subprocess
from datetime import datetime, timedelta, timezone
from pathlib import Path

from . import store
from .config import REPO_ROOT
from .errors import StoreError

DEMO_PASSWORD = "rumourwatch-demo"
DEMO_ROLES = ("admin", "monitor", "expert", "analyst", "leader", "correspondent")
DEMO_TRAIN_FRACTION = 0.8
ROSTER = REPO_ROOT / "data" / "expert_roster_sample.csv"
UNITS = REPO_ROOT / "data" / "units_sample.csv"
RULES = REPO_ROOT / "config" / "alert_rules.toml"


def demo_models_dir(settings) -> Path:
    return Path(settings.models_dir) / "demo"


def replay_spec(speed: float, backfill_hours: float, now: datetime | None = None, history: float = 0.0) -> str:
    """The worker's replay source: starting `backfill_hours` of real time back, so the dashboard
    opens with the last hours live (at speed 60, two hours back is five days of the bundle's time);
    leaving out the `history` share of the bundle the database's weeks of history played."""
    start = live_start(backfill_hours, now)
    return (f"replay:speed={speed:g},start={start.strftime('%Y-%m-%dT%H:%M:%SZ')}"
            + (f",history={history:g}" if history else ""))


def live_start(backfill_hours: float, now: datetime | None = None) -> datetime:
    """Where the live replay begins: `backfill_hours` before now (and the demo's history ends)."""
    now = now or datetime.now(timezone.utc)
    return (now - timedelta(hours=backfill_hours)).replace(microsecond=0)


def ensure_history(db_path: Path, settings, models_dir: Path, rules: Path, end: datetime, weeks: float,
                   echo=print) -> float:
    """Give a demo database that holds no item yet `weeks` of history ending at `end`
    (rumourwatch.demo_history); an older one keeps what it has. Returns the share of the bundle its
    history played, which the live replay leaves out (0: no history)."""
    from . import demo_history
    from .nlp.bundle import load

    db = store.open_db(db_path)
    try:
        share = demo_history.history_share(db)
        if share or weeks <= 0 or db.execute("SELECT 1 FROM items LIMIT 1").fetchone():
            return share
        echo(f"giving the demo {weeks:g} weeks of history (simulated monitors and experts on "
             f"{demo_history.HISTORY_SHARE:.0%} of the bundle's test items); about a minute")
        summary = demo_history.build(db, settings, load(models_dir), rules, end, weeks=weeks)
        echo(f"history {summary.start} – {summary.end}: {summary.items} items, {summary.alerts} alerts, "
             f"{summary.verdicts} verdicts, {summary.published} clarifications published, "
             f"{summary.submissions} units' reports, {summary.referrals} referrals to units, "
             f"{summary.trainings} correspondents' training, {summary.expert_trainings} experts' training, "
             f"{summary.press} press conference(s) on policy, "
             f"{summary.media_events} media activit(ies), {summary.upper_events} higher commission's press event(s), "
             f"{summary.health_days} health day(s) of the office's own, {summary.assessments} 事前研判 kept, "
             f"{summary.own_channels} channel(s) of the office's own"
             + (f"; {len(summary.errors)} step(s) refused, first: {summary.errors[0]}" if summary.errors else ""))
        return demo_history.HISTORY_SHARE
    finally:
        db.conn.close()


def rules_path(db_path: Path) -> Path:
    """Where the demo keeps its copy of the alert rules: beside its database."""
    return db_path.with_name(db_path.stem + "-alert-rules.toml")


def audit_key(db_path: Path) -> Path:
    """The demo's audit key, made once beside its database so the demo's log is sealed (a real
    installation keeps its key off the database's disk: docs/deploy.md)."""
    from .auditseal import new_key_file

    path = db_path.with_name(db_path.stem + "-audit.key")
    if not path.exists():
        new_key_file(path)
    return path


def sources_path(db_path: Path) -> Path:
    """Where the demo keeps the sources an administrator adds on 数据源与质量 (beside the replay,
    which is on the worker's command line): beside its database."""
    return db_path.with_name(db_path.stem + "-sources.toml")


# Watched keywords the demo starts with, so its 预警 page shows what they do on the 2020 feed: 口罩
# is common enough there to gather into digest alerts, the others alert story by story.
DEMO_WATCHED = ("口罩", "板蓝根|双黄连", "疫苗 -宠物")


def rules_file(db_path: Path) -> Path:
    """A copy of the default rules beside the demo database, so edits in the demo stay there, with
    the demo's watched keywords (DEMO_WATCHED) in place of none."""
    path = rules_path(db_path)
    if not path.exists():
        text = RULES.read_text(encoding="utf-8")
        watched = "keywords = [" + ", ".join(f'"{k}"' for k in DEMO_WATCHED) + "]"
        path.write_text(text.replace("\nkeywords = []\n", f"\n{watched}\n", 1), encoding="utf-8")
    return path


def prepare(db_path: Path, echo=print) -> dict:
    """Create the demo database's accounts, roster and units once; later runs keep what is there."""
    from . import auth, demo_history, experts, reports

    db = store.open_db(db_path)
    now = datetime.now(timezone.utc)
    report = experts.import_roster(db, ROSTER, "demo", now)
    for error in report.errors:
        echo(f"sample roster: {error}")
    _, unit_errors = reports.import_units(db, UNITS, now)
    for error in unit_errors:
        echo(f"sample units: {error}")
    roster = store.list_experts(db, active_only=True)
    created = []
    for role in DEMO_ROLES:
        if store.get_user(db, role) is not None:
            continue
        try:
            unit = store.find_unit(db, demo_history.DEMO_UNIT) if role == "correspondent" else None
            auth.create_user(db, role, DEMO_PASSWORD, role, "demo", display_name=f"演示{role}",
                             expert_id=roster[0]["id"] if role == "expert" and roster else None,
                             unit_id=unit["id"] if unit else None)
            created.append(role)
        except StoreError:  # created meanwhile by another process
            pass
    db.conn.close()
    return {"users_created": created, "experts": report.rows_ok}


def run_with_children(command: list[str], children: list[subprocess.Popen], env: dict | None = None) -> int:
    """Run `command` in the foreground (the dashboard) while `children` (the worker) run beside it;
    when it ends, however it ends, stop the children. SIGTERM (a service manager, `kill`) ends this
    process as Ctrl-C does, so the children are stopped then too: Python's default SIGTERM ends the
    process without cleanup, which left the worker and the dashboard running. Returns the command's
    exit code."""
    previous = signal.signal(signal.SIGTERM, _exit_on_sigterm)
    try:
        # on an exception (the signal above, Ctrl-C) subprocess.run kills the foreground command
        return subprocess.run(command, env=env, check=False).returncode
    finally:
        signal.signal(signal.SIGTERM, previous)
        for child in children:
            child.terminate()
        for child in children:
            try:
                child.wait(timeout=30)
            except subprocess.TimeoutExpired:
                child.kill()
                child.wait()


def _exit_on_sigterm(signum, frame) -> None:
    raise SystemExit(128 + signum)
