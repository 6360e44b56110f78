"""The live worker: polls its sources, ingests each batch together with the source's checkpoint in
one transaction, then scores what changed. Killed at any point, it resumes from the last committed
checkpoint: nothing is lost and nothing is ingested twice. Scores are derived data, so scoring simply
catches up on restart.
"""

from __future__ import annotations

import json
import logging
import signal
import threading
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Callable, Iterable

from . import ingest, score, store
from .errors import ModelError, RumourwatchError, SourceError, StoreError
from .nlp.bundle import MANIFEST_NAME, load, manifest_stamp
from .records import iso, parse_time

log = logging.getLogger("rumourwatch.worker")


@dataclass
class PollStats:
    new_items: int = 0
    updated_items: int = 0
    new_reactions: int = 0
    rejects: int = 0
    scored: int = 0
    alerts: int = 0
    escalations: int = 0
    errors: list = field(default_factory=list)  # source or store failures: the poll is retried
    warnings: list = field(default_factory=list)  # e.g. a bad rules file: ingest went on
    model: str | None = None  # the version of newly loaded models, when this poll switched to them

    @property
    def idle(self) -> bool:
        return not (self.new_items or self.updated_items or self.new_reactions or self.rejects or self.scored)

    def __str__(self) -> str:
        return (f"{self.new_items} new items, {self.updated_items} updated, {self.new_reactions} reactions, "
                f"{self.rejects} rejects, {self.scored} scored"
                + (f", {self.alerts} alerts raised or grown" if self.alerts else "")
                + (f", {self.escalations} escalations" if self.escalations else "")
                + (f"; now scoring with models {self.model}" if self.model else ""))


# The worker notes that it read a source at most this often when the read gives nothing (every batch
# it commits notes it too): an idle worker polling every 5 s writes once a minute, not twelve times.
POLL_MARK_SECONDS = 60.0
# A source not read for this long is taken as retired (left out of the worker's sources): listed
# on 数据源与质量, no longer raised on the live page.
RETIRED_AFTER = timedelta(days=7)
# source_health states of a source that seems to have stopped: raised on the live page, counted on
# 数据源与质量, and (with "error") what `sources list --check` fails on
STALLED = ("quiet", "not_read")


def source_health(row: dict, now: datetime, quiet_hours: float) -> dict:
    """How a source is doing, from its row of store.source_status, for the pages and the CLI:
    {"state", "hours" (since the time it is judged by), "since" (that time, ISO)}. States:

    - "retired": not read for RETIRED_AFTER (no longer among the worker's sources, it seems), or
      stopped on purpose (disabled or removed in the sources file: "stopped" is True, "since" then);
    - "not_read": not read for `quiet_hours`: the worker has stopped, or dropped the source;
    - "error": its last read failed (the worker retries every poll);
    - "quiet": read, but no new item for `quiet_hours` (none since it was first read, for a source
      that has given none): a scraper blocked or a feed moved looks like a quiet day otherwise;
    - "imported": a file read once (`rumourwatch ingest`), not a feed: nothing more is expected of it;
    - "ok".

    A row from before the worker noted its reads counts from its checkpoint's last move."""
    if row.get("one_off"):
        return {"state": "imported", "hours": None, "since": row.get("polled_at") or row.get("updated_at")}
    if row.get("stopped_at"):  # disabled or removed in the sources file: retired on purpose, not silent
        return {"state": "retired", "hours": (now - parse_time(row["stopped_at"])).total_seconds() / 3600,
                "since": row["stopped_at"], "stopped": True}
    read = row.get("polled_at") or row.get("updated_at")
    newest = row.get("last_item_at") or row.get("updated_at")
    limit = timedelta(hours=quiet_hours)

    def judged(state: str, since: str | None) -> dict:
        hours = (now - parse_time(since)).total_seconds() / 3600 if since else None
        return {"state": state, "hours": hours, "since": since}

    read_age = now - parse_time(read) if read else None
    if read_age is not None and read_age > RETIRED_AFTER:
        return judged("retired", read)
    if read_age is not None and read_age > limit:
        return judged("not_read", read)
    if row.get("last_error"):
        return judged("error", row.get("last_error_at"))
    if newest and now - parse_time(newest) > limit:
        return judged("quiet", newest)
    return judged("ok", newest)


SOURCE_NOTICE = "source_notice:"  # workflow_state key per source: when its announced stall began


def stalled(row: dict, health: dict, now: datetime, quiet_hours: float) -> dict | None:
    """How a source seems to have stopped, or None: quiet or not read (STALLED) for `quiet_hours`, or
    failing with no new item for as long (one failed read is only a hiccup). Returns its health, for
    a failing source with the silence's "since" and "hours" instead of the last failure's."""
    if health["state"] in STALLED:
        return health
    newest = row.get("last_item_at") or row.get("updated_at")
    if health["state"] != "error" or not newest:
        return None
    hours = (now - parse_time(newest)).total_seconds() / 3600
    return dict(health, since=newest, hours=hours) if hours > quiet_hours else None


def announce_sources(db, now: datetime, rules: dict, quiet_hours: float) -> list[dict]:
    """Tell the monitors' channels (notify.queue_source_notice) once when a source seems to have stopped
    (`stalled`) and once when it is back to normal, so an outage at night is not first seen on the
    dashboard the next morning. A source retired or imported once meanwhile is forgotten without a
    word; a failing one stays announced until it reads normally. Run with the escalations (the
    worker's workflow poll, `rumourwatch alerts escalate`: only cron can report a stopped worker).
    Returns the events [{"source", "event", "state"}]."""
    from . import notify

    def changes() -> list[tuple[dict, dict, str | None]]:
        out = []
        for row in store.source_status(db):
            health = source_health(row, now, quiet_hours)
            announced = store.workflow_state(db, SOURCE_NOTICE + row["source"])
            # a stall not announced yet, or an announced one that is over (or moot: retired, imported)
            if announced is None:
                stall = stalled(row, health, now, quiet_hours)
                if stall:
                    out.append((row, stall, announced))
            elif health["state"] in ("ok", "retired", "imported"):
                out.append((row, health, announced))
        return out

    events: list[dict] = []
    if not changes():  # the usual poll: nothing to announce, no write transaction
        return events
    with store.transaction(db):
        for row, health, announced in changes():  # again under the write lock: a cron run may have sent it
            key = SOURCE_NOTICE + row["source"]
            if announced is None:
                notify.queue_source_notice(db, row, health, "source_stalled", rules, now)
                store.set_workflow_state(db, key, health["since"] or iso(now))
                events.append({"source": row["source"], "event": "source_stalled", "state": health["state"]})
                continue
            if health["state"] == "ok":
                notify.queue_source_notice(db, row, health, "source_recovered", rules, now, announced)
                events.append({"source": row["source"], "event": "source_recovered", "state": "ok"})
            store.set_workflow_state(db, key, None)
    return events


def reset_checkpoint(db, source: str, actor: str) -> dict:
    """Forget where `source` got to, and its last failure, so the worker reads it from the start at
    its next poll: the remedy a damaged, outdated or overtaken checkpoint's SourceError names
    (sources.base.reset_command). Items read again are not stored twice (ingest keeps one row per
    item). Audited with the checkpoint as it was, which is returned; WorkflowError when no source of
    that name has a checkpoint."""
    from .alerts import WorkflowError

    with store.transaction(db):
        before = store.source_checkpoint(db, source)
        if before is None:
            raise WorkflowError(f"no source named {source!r} has a checkpoint; `rumourwatch sources list` "
                                "shows the sources the worker has read", "no_source", name=source)
        store.clear_checkpoint(db, source)
        store.record_audit(db, actor, "source.reset_checkpoint", "source", source,
                           {"position": before["position"], "last_error": before["last_error"]})
    return before


class Worker:
    """Runs sources into the store and scores them. `clock` is injectable for tests.

    With `workflow=True` each poll then runs the alert rules over what was scored, escalates what is
    overdue, announces sources that stopped or came back (`announce_sources`, against
    `source_quiet_hours`) and delivers queued notifications (`alerts.workflow_tick`); the rules file is
    re-read every poll, so an edit on the 预警规则 page takes effect without a restart.

    With `models_dir` (where `bundle` was loaded from), each poll also looks whether the bundle saved
    there has changed (a candidate put in use on the 模型与评估 page, a rollback, a retrain) and
    from then on scores with the new one; one that is refused leaves the models in use.
    """

    def __init__(self, db, sources: Iterable, bundle=None, *, clock: Callable[[], datetime] = store.now_utc,
                 batch_size: int = 500, cluster_threshold: float = 0.8, max_text_chars: int = 20000,
                 score_limit: int = 5000, workflow: bool = False, rules_path=None, models_dir=None,
                 one_off: bool = False, source_quiet_hours: float = 6.0, sources_file=None, settings=None):
        self.db = db
        self.sources = list(sources)
        # sources_file (rumourwatch.source_config): read beside `sources` and again when it changes
        self.fixed_sources = list(self.sources)
        self.sources_file = sources_file
        self.settings = settings
        self._sources_stamp: tuple | None = None
        self._file_sources: dict[str, object] = {}
        names = [s.name for s in self.sources]
        if len(set(names)) != len(names):
            raise ValueError(f"source names must be unique, got {names}")
        self.bundle = bundle
        self.clock = clock
        self.batch_size = batch_size
        self.cluster_threshold = cluster_threshold
        self.max_text_chars = max_text_chars
        self.score_limit = score_limit
        self.workflow = workflow
        self.rules_path = rules_path
        self.stop_event = threading.Event()
        self.models_dir = models_dir
        self._marked: dict[str, datetime] = {}  # when each source's read was last noted (mark_read)
        self.one_off = one_off  # the sources are read once (`rumourwatch ingest`), not watched as feeds
        self.source_quiet_hours = source_quiet_hours  # announce_sources, in the workflow poll
        self._models_stamp = manifest_stamp(models_dir) if models_dir is not None else None
        if bundle is not None:
            manifest = getattr(bundle, "manifest", None) or {}
            store.register_model_version(db, bundle.version, manifest)

    def poll_source(self, source, stats: PollStats) -> None:
        checkpoint = store.get_checkpoint(self.db, source.name)
        batch: list = []
        try:
            for event in source.read(checkpoint):
                batch.append(event)
                if len(batch) >= self.batch_size:
                    self._commit(source, batch, stats)
                    batch = []
                    if self.stop_event.is_set():
                        return
                    self._score(stats)
            if batch:
                self._commit(source, batch, stats)
            # read to the end: a source that had failed has recovered (one read when it had not)
            if (store.source_checkpoint(self.db, source.name) or {}).get("last_error"):
                with store.transaction(self.db):
                    store.clear_source_error(self.db, source.name)
        except SourceError as exc:
            if batch:
                self._commit(source, batch, stats)
            message = f"{source.name}: {exc}"
            log.warning("source failed, will retry at next poll: %s", message)
            stats.errors.append(message)
            store.record_source_error(self.db, source.name, str(exc), exc.key, exc.params)
        self.mark_read(source.name)

    def mark_read(self, name: str) -> None:
        """Note that source `name` was read now (store.mark_polled), at most every POLL_MARK_SECONDS,
        so 数据源与质量 and the live page can tell a quiet source from a stopped worker."""
        now = self.clock()
        last = self._marked.get(name)
        if last is None or (now - last).total_seconds() >= POLL_MARK_SECONDS:
            store.mark_polled(self.db, name, iso(now), self.one_off)
            self._marked[name] = now

    def _commit(self, source, batch: list, stats: PollStats) -> None:
        position = next((e.position for e in reversed(batch) if getattr(e, "position", None) is not None), None)
        now = self.clock()
        with store.transaction(self.db):
            result = ingest.ingest_events(self.db, batch, source.name, now, self.cluster_threshold)
            if position is not None:
                store.set_checkpoint(self.db, source.name, position, result.new_items, iso(now), self.one_off)
        if position is not None:  # committed: the read is noted with the checkpoint
            self._marked[source.name] = now
        stats.new_items += result.new_items
        stats.updated_items += result.updated_items
        stats.new_reactions += result.new_reactions
        stats.rejects += result.rejects
        if position is not None and hasattr(source, "acknowledge"):
            source.acknowledge(position)

    def reload_models(self, stats: PollStats) -> bool:
        """Switch to the bundle saved in models_dir when it has changed since it was last looked at
        and is another version; True when it switched. A refused bundle is reported in
        stats.warnings (once per change) and the models in use stay."""
        if self.models_dir is None or self.bundle is None:
            return False
        stamp = manifest_stamp(self.models_dir)
        if stamp is None or stamp == self._models_stamp:
            return False
        self._models_stamp = stamp
        try:  # the same version rewritten (e.g. copied back) is not worth unpickling again
            if json.loads((Path(self.models_dir) / MANIFEST_NAME).read_text(encoding="utf-8")).get(
                    "version") == self.bundle.version:
                return False
        except (OSError, ValueError, AttributeError):
            pass  # load() below says what is wrong with it
        try:
            bundle = load(self.models_dir)
        except ModelError as exc:
            message = (f"the models saved in {self.models_dir} were not loaded, still scoring with "
                       f"{self.bundle.version}: {exc}")
            log.warning(message)
            stats.warnings.append(message)
            return False
        self.bundle = bundle
        store.register_model_version(self.db, bundle.version, getattr(bundle, "manifest", None) or {})
        log.info("now scoring with models %s from %s", bundle.version, self.models_dir)
        stats.model = bundle.version
        return True

    def _score(self, stats: PollStats) -> None:
        if self.bundle is None:
            return
        stats.scored += score.score_pending(self.db, self.bundle, self.clock(), limit=self.score_limit,
                                            max_chars=self.max_text_chars)
        stats.scored += score.rescore_repeats(self.db, self.bundle, self.clock(), max_chars=self.max_text_chars)

    def reload_sources(self, stats: PollStats) -> bool:
        """Read the sources file again when it has changed: start the sources added or enabled, stop
        those removed or disabled (a source left as it was keeps its object, a feed its HTTP
        validators). A file that does not load leaves the sources as they were, said in
        stats.warnings. True when the sources changed."""
        from . import source_config
        from .sources import source_from_spec

        if self.sources_file is None:
            return False
        stamp = source_config.stamp(self.sources_file)
        if stamp == self._sources_stamp:
            return False
        self._sources_stamp = stamp
        try:
            entries = [e for e in source_config.load(self.sources_file) if e.enabled]
        except SourceError as exc:
            stats.warnings.append(f"{exc}; still reading {len(self.sources)} source(s) as before")
            return False
        fixed = {s.name for s in self.fixed_sources}
        wanted: dict[str, object] = {}
        for entry in entries:
            key = f"{entry.spec}\x00{entry.platform}"
            try:
                source = self._file_sources.get(key) or source_from_spec(entry.spec, self.settings,
                                                                         platform=entry.platform or None)
            except SourceError as exc:
                stats.warnings.append(f"sources file {self.sources_file}: {entry.spec} not started: {exc}")
                continue
            if source.name not in fixed and source.name not in {s.name for s in wanted.values()}:
                wanted[key] = source
        before = {s.name for s in self.sources}
        self._file_sources = wanted
        self.sources = [*self.fixed_sources, *wanted.values()]
        after = {s.name for s in self.sources}
        if before != after:
            log.info("sources now %s (started %s, stopped %s)", sorted(after), sorted(after - before),
                     sorted(before - after))
        with store.transaction(self.db):  # a source stopped on purpose is not reported as silent
            for name in before - after:
                store.set_workflow_state(self.db, store.SOURCE_STOPPED + name, iso(self.clock()))
            for name in after:
                store.set_workflow_state(self.db, store.SOURCE_STOPPED + name, None)
        return before != after

    def poll_once(self) -> PollStats:
        stats = PollStats()
        self.reload_sources(stats)
        for source in self.sources:
            if self.stop_event.is_set():
                break
            self.poll_source(source, stats)
        if not self.stop_event.is_set():
            self.reload_models(stats)
            self._score(stats)
        if self.workflow and not self.stop_event.is_set():
            self._workflow(stats)
        return stats

    def _workflow(self, stats: PollStats) -> None:
        from . import alerts

        try:
            result = alerts.workflow_tick(self.db, self.clock(), alerts.load_rules(self.rules_path),
                                          source_quiet_hours=self.source_quiet_hours,
                                          threshold=self.settings.rumour_threshold if self.settings else 0.5)
        except StoreError:
            raise
        except RumourwatchError as exc:  # a bad rules file: say so every poll, keep ingesting
            log.error("alert workflow skipped: %s", exc)
            stats.warnings.append(f"alert workflow skipped: {exc}")
            return
        stats.alerts += len(result["alerts"])
        stats.escalations += len(result["escalations"])

    def run(self, poll_seconds: float = 5.0, max_polls: int | None = None, until_idle: bool = False,
            on_poll: Callable[[PollStats], None] | None = None) -> None:
        """Poll until stopped (SIGINT/SIGTERM finish the current batch first)."""
        polls = 0
        while not self.stop_event.is_set():
            try:
                stats = self.poll_once()
            except StoreError as exc:
                # A locked or full database: say so and try again, nothing is lost (the batch rolled back).
                log.error("store error, retrying in %.0fs: %s", poll_seconds, exc)
                stats = PollStats(errors=[str(exc)])
            polls += 1
            if on_poll:
                on_poll(stats)
            if max_polls is not None and polls >= max_polls:
                return
            if until_idle and stats.idle and not stats.errors:
                return
            if stats.idle or stats.errors:
                self.stop_event.wait(poll_seconds)

    def install_signal_handlers(self) -> None:
        def _stop(signum, frame):
            log.info("signal %s: stopping after the current batch", signum)
            self.stop_event.set()

        signal.signal(signal.SIGINT, _stop)
        signal.signal(signal.SIGTERM, _stop)
