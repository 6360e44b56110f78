"""Crash safety of the live worker (rumourwatch/worker.py, driven through the CLI).

* SIGKILL at random points during an ingest, restart, repeat: the store ends with exactly the items,
  reactions, rejects and checkpoint of an uninterrupted run (no duplicates, no gaps).
* Dashboard-style readers keep working while the worker writes and is killed.
* A locked database and a full disk give a clear StoreError, lose nothing, and the worker retries.
"""

from __future__ import annotations

import json
import os
import random
import signal
import sqlite3
import subprocess
import sys
import threading
import time
from datetime import datetime, timezone
from pathlib import Path

import pytest

from rumourwatch import store
from rumourwatch.config import REPO_ROOT
from rumourwatch.errors import StoreError
from rumourwatch.sources.files import file_source
from rumourwatch.worker import Worker

sys.path.insert(0, str(Path(__file__).parent))
from crash_fixtures import snapshot, write_feed  # noqa: E402

N_ITEMS = 4000  # eight batches of 500 (the worker's batch size): more batches than kills, so every kill lands mid-run
KILLS = 5
SEED = 20261123
NOW = datetime(2026, 11, 23, 8, 0, tzinfo=timezone.utc)


def _watch(db_path: Path, feed: Path, *extra: str) -> list[str]:
    return [sys.executable, "-m", "rumourwatch.cli", "--db", str(db_path), "watch", "--no-score",
            "--source", f"file:{feed}", "--poll-seconds", "0.2", *extra]


def _run_to_end(db_path: Path, feed: Path) -> subprocess.CompletedProcess:
    result = subprocess.run(_watch(db_path, feed, "--until-idle"), cwd=REPO_ROOT, capture_output=True,
                            text=True, timeout=300)
    assert result.returncode == 0, f"watch failed (exit {result.returncode}):\n{result.stderr[-3000:]}"
    return result


def _ro(path: Path) -> sqlite3.Connection:
    return sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=10)


def _writer_busy(path: Path) -> bool:
    """True while another process holds the write lock, i.e. the worker is inside a transaction."""
    conn = sqlite3.connect(str(path), isolation_level=None, timeout=0)
    try:
        conn.execute("BEGIN IMMEDIATE")
        conn.execute("ROLLBACK")
        return False
    except sqlite3.OperationalError as exc:
        if "locked" in str(exc) or "busy" in str(exc):
            return True
        raise
    finally:
        conn.close()


def _committed(path: Path, source: str) -> tuple[set, int | None]:
    conn = _ro(path)
    try:
        ids = {r[0] for r in conn.execute("SELECT external_id FROM items")}
        row = conn.execute("SELECT position FROM checkpoints WHERE source = ?", [source]).fetchone()
    finally:
        conn.close()
    line = int(row[0].split(";")[0].split("=")[1]) if row else None
    return ids, line


def _ids_by_line(feed: Path) -> list[tuple[int, str | None]]:
    out = []
    with open(feed, encoding="utf-8") as fh:
        for n, line in enumerate(fh, 1):
            try:
                out.append((n, json.loads(line)["id"]))
            except ValueError:
                out.append((n, None))  # the deliberately broken lines
    return out


class Reader(threading.Thread):
    """What the dashboard does: a read-only connection querying in a loop while the worker writes."""

    def __init__(self, path: Path):
        super().__init__(daemon=True)
        self.path = path
        self.stop = threading.Event()
        self.queries = 0
        self.errors: list[str] = []
        self.counts: list[int] = []

    def run(self):
        db = store.open_db(self.path, read_only=True)
        while not self.stop.is_set():
            try:
                n = store.count_items(db)
                store.latest_items(db, limit=20)
                store.summary_counts(db)
                inconsistent = db.execute(
                    """SELECT count(*) FROM items WHERE reaction_count !=
                       (SELECT count(*) FROM reactions r WHERE r.item_id = items.id)""").fetchone()[0]
                if inconsistent:
                    self.errors.append(f"{inconsistent} item(s) with a half-written reaction count")
                self.counts.append(n)
                self.queries += 1
            except (sqlite3.Error, StoreError) as exc:
                self.errors.append(repr(exc))
            time.sleep(0.05)


@pytest.fixture(scope="module")
def feed(tmp_path_factory):
    path = tmp_path_factory.mktemp("feed") / "feed.jsonl"
    counts = write_feed(path, N_ITEMS)
    return path, counts


@pytest.fixture(scope="module")
def reference(feed, tmp_path_factory):
    """An uninterrupted run of the same worker code (in process: no need to pay the CLI start-up)."""
    path, counts = feed
    db = store.open_db(tmp_path_factory.mktemp("ref") / "reference.db")
    Worker(db, [file_source(str(path))], None).run(poll_seconds=0, until_idle=True)
    snap = snapshot(db)
    # The reference itself is complete: every item, reaction and bad line of the file.
    assert len(snap["items"]) == counts["items"]
    assert len(snap["reactions"]) == counts["reactions"]
    assert len(snap["rejects"]) == counts["bad"]
    return snap


def test_sigkill_at_random_points_loses_and_duplicates_nothing(feed, reference, tmp_path):
    path, counts = feed
    source = f"file:{path}"
    by_line = _ids_by_line(path)
    db_path = tmp_path / "crashy.db"
    store.open_db(db_path).conn.close()  # schema first, so the reader can attach from the start
    reader = Reader(db_path)
    reader.start()
    rng = random.Random(SEED)
    kills, mid_transaction, at_kill = 0, 0, []
    try:
        while kills < KILLS:
            before, _ = _committed(db_path, source)
            proc = subprocess.Popen(_watch(db_path, path, "--until-idle"), cwd=REPO_ROOT,
                                    stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
            deadline = time.monotonic() + 120
            # Every other run is first allowed to commit a batch, so the replay also moves forward.
            if kills % 2 == 1:
                while proc.poll() is None and len(_committed(db_path, source)[0]) <= len(before) \
                        and time.monotonic() < deadline:
                    time.sleep(0.02)
            time.sleep(rng.uniform(0.0, 0.4))
            # Then kill it the moment it is seen inside a write transaction (a batch half-ingested).
            while proc.poll() is None and not _writer_busy(db_path) and time.monotonic() < deadline:
                time.sleep(0.005)
            if proc.poll() is not None:
                assert proc.returncode == 0, proc.stderr.read()[-3000:]
                break  # it finished before we could kill it
            os.kill(proc.pid, signal.SIGKILL)
            proc.wait(timeout=30)
            proc.stderr.close()
            kills += 1
            mid_transaction += 1
            # What survived is exactly the lines up to the committed checkpoint: no half batch.
            ids, line = _committed(db_path, source)
            assert ids == {i for n, i in by_line if i and line and n <= line}
            at_kill.append(len(ids))
        _run_to_end(db_path, path)
    finally:
        reader.stop.set()
        reader.join(timeout=30)

    result = snapshot(store.open_db(db_path, read_only=True))
    print(f"\ncrash safety: {kills} SIGKILLs inside an open write transaction, survived; items committed "
          f"at each kill: {at_kill}; final {len(result['items'])} items, {len(result['reactions'])} reactions, "
          f"{len(result['rejects'])} rejects, identical to the uninterrupted run; reader ran {reader.queries} "
          f"queries, {len(reader.errors)} errors")
    assert kills == KILLS
    assert at_kill[-1] > 0, "the runs between kills should have made progress"
    assert result["items"] == reference["items"]
    assert result["reactions"] == reference["reactions"]
    assert result["rejects"] == reference["rejects"]
    assert result["checkpoints"] == reference["checkpoints"]
    # Readers kept working throughout and never saw a count go backwards (no torn or undone batch).
    assert reader.errors == []
    assert reader.queries > 20
    assert reader.counts == sorted(reader.counts)


# --- locked and full database (in process, so the lock and the size limit can be controlled) --------

def _worker(db, feed_path: Path, batch_size: int = 200) -> Worker:
    return Worker(db, [file_source(str(feed_path))], None, clock=lambda: NOW, batch_size=batch_size)


@pytest.fixture
def small_feed(tmp_path):
    path = tmp_path / "small.jsonl"
    write_feed(path, 600, seed=3)
    ref = store.open_db(tmp_path / "small-ref.db")
    _worker(ref, path).poll_once()
    return path, snapshot(ref)


def test_locked_database_gives_a_clear_error_then_the_retry_succeeds(small_feed, tmp_path):
    path, expected = small_feed
    db_path = tmp_path / "locked.db"
    db = store.open_db(db_path)
    db.execute("PRAGMA busy_timeout = 50")  # do not wait the production 10 s in a test
    locker = sqlite3.connect(str(db_path), isolation_level=None)
    locker.execute("BEGIN IMMEDIATE")  # another writer holds the lock
    worker = _worker(db, path)
    with pytest.raises(StoreError) as exc:
        worker.poll_once()
    assert "locked" in str(exc.value) and "retry" in str(exc.value)
    assert store.count_items(db) == 0 and store.get_checkpoint(db, f"file:{path}") is None

    # The running worker says so on each poll and carries on once the lock is released.
    seen: list[list[str]] = []

    def on_poll(stats):
        seen.append(list(stats.errors))
        if len(seen) == 2:
            locker.execute("ROLLBACK")

    worker.run(poll_seconds=0.05, until_idle=True, on_poll=on_poll)
    locker.close()
    assert seen[0] and "locked" in seen[0][0]
    assert seen[-1] == []
    assert snapshot(db) == expected


def test_full_disk_gives_a_clear_store_error_and_no_silent_loss(small_feed, tmp_path):
    path, expected = small_feed
    db = store.open_db(tmp_path / "full.db")
    pages = db.execute("PRAGMA page_count").fetchone()[0]
    # SQLite refuses to grow the file past this many pages: the same error as a full disk.
    db.execute(f"PRAGMA max_page_count = {pages + 60}")
    worker = _worker(db, path)
    with pytest.raises(StoreError) as exc:
        worker.poll_once()
    assert "full" in str(exc.value)
    committed = store.count_items(db)
    assert committed < 600
    # What was committed is whole batches with a checkpoint that matches them exactly.
    checkpoint = store.get_checkpoint(db, f"file:{path}")
    assert (committed == 0 and checkpoint is None) or checkpoint is not None
    assert snapshot(db)["items"] == [i for i in expected["items"]
                                     if i[1] in {r[0] for r in db.execute("SELECT external_id FROM items")}]

    # The worker keeps running, reporting the error each poll; once space is freed it catches up.
    errors: list[str] = []

    def on_poll(stats):
        errors.extend(stats.errors)
        if len(errors) >= 2:
            db.execute("PRAGMA max_page_count = 1073741823")

    worker.run(poll_seconds=0.05, until_idle=True, on_poll=on_poll)
    assert errors and all("disk is full" in e for e in errors)
    assert snapshot(db) == expected
