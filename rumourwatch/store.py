"""The only module with SQL. SQLite through sqlite-utils, WAL mode so the worker writes while
dashboards read. Every function takes its `db` (a sqlite_utils.Database) as first argument.

Writes that must be atomic (a batch of items plus its checkpoint) run inside `transaction(db)`;
the connection is in autocommit mode otherwise, so a reader never holds a write lock.
"""

from __future__ import annotations

import json
import sqlite3
import time
from contextlib import contextmanager
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Iterable, Iterator

import sqlite_utils

from .ads import AD_FLAG
from .clarifiers import CLARIFICATION_FLAG
from .errors import StoreError
from .migrations import MIGRATIONS
from .records import CST, UTC, iso

BUSY_TIMEOUT_MS = 10_000
# Page cache per connection (KiB). The default 2 MB makes every batch re-read the cluster-band and
# item indexes from the OS once the store passes ~100 k items.
CACHE_KIB = 64 * 1024
# WAL pages before an automatic checkpoint copies them into the database (4 KiB pages: ~128 MB).
# An item's pages are written at ingest and again when it is scored moments later; a long interval
# copies such a page once instead of twice. On the stream replay (bench/bench_pipeline.py) commits
# took 6.6-7.0 s at 8,000 pages and 4.4-4.6 s at 32,000; the price is a WAL file of up to ~128 MB
# and one longer commit (~0.35 s) when a checkpoint runs. Readers are never blocked by it.
WAL_CHECKPOINT_PAGES = 32_000


def now_utc() -> datetime:
    return datetime.now(UTC)


def china_day(dt: datetime) -> str:
    return dt.astimezone(CST).date().isoformat()


def explain_sqlite_error(exc: sqlite3.Error, path: str) -> StoreError:
    """An SQLite error as a StoreError that says what it means for the user and what to do."""
    text = str(exc)
    if "locked" in text or "busy" in text:
        return StoreError(f"database {path} is locked by another writer; retrying later may succeed ({text})",
                          "store_locked", path=path)
    if "full" in text:
        return StoreError(f"database {path} cannot grow: the disk is full. Free space, then retry ({text})",
                          "store_full", path=path)
    if "readonly" in text or "read-only" in text:
        return StoreError(f"database {path} is read-only; check file permissions ({text})", "store_readonly",
                          path=path)
    if "not a database" in text or "malformed" in text:
        return StoreError(f"{path} is not a readable rumourwatch database: {text}", "store_damaged", path=path)
    if "no such table" in text or "no such column" in text:
        return StoreError(f"database {path} has an older schema: {text}; run rumourwatch init-db",
                          "store_schema", path=path)
    return StoreError(f"database {path}: {text}", "store_failed", path=path)


def open_db(path: str | Path | None = None, *, memory: bool = False, migrate: bool = True,
            read_only: bool = False) -> sqlite_utils.Database:
    """Open (and by default migrate) the store. `memory=True` gives a private in-memory store."""
    try:
        if memory or path is None:
            conn = sqlite3.connect(":memory:", isolation_level=None, check_same_thread=False)
            label = ":memory:"
        else:
            p = Path(path)
            if read_only:
                if not p.exists():
                    raise StoreError(f"database {p} does not exist yet; start the worker or the demo first",
                                     "store_missing", path=str(p))
                conn = sqlite3.connect(f"file:{p}?mode=ro", uri=True, isolation_level=None,
                                       check_same_thread=False)
            else:
                p.parent.mkdir(parents=True, exist_ok=True)
                conn = sqlite3.connect(str(p), isolation_level=None, check_same_thread=False)
            label = str(p)
        conn.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
        if not read_only and not memory and path is not None:
            conn.execute("PRAGMA journal_mode = WAL")
            conn.execute("PRAGMA synchronous = NORMAL")
        conn.execute(f"PRAGMA cache_size = -{CACHE_KIB}")
        conn.execute("PRAGMA temp_store = MEMORY")
        conn.execute(f"PRAGMA wal_autocheckpoint = {WAL_CHECKPOINT_PAGES}")
        conn.execute("PRAGMA foreign_keys = ON")
        db = sqlite_utils.Database(conn)
        db.label = label  # type: ignore[attr-defined]
        if migrate and not read_only:
            apply_migrations(db)
        return db
    except sqlite3.Error as exc:
        raise explain_sqlite_error(exc, str(path)) from exc


# migrations that rebuild a table other tables refer to (a CHECK changed): run with foreign keys off,
# then the rebuilt table and those referring to it are checked before the step commits (only them: a
# row broken elsewhere long ago is no reason to refuse opening the store)
REBUILDS: dict[str, tuple[str, ...]] = {"0035_unit_submissions": ("users", "sessions")}


def apply_migrations(db: sqlite_utils.Database) -> list[str]:
    """Run the named steps not yet applied, each in its own transaction. Returns their names."""
    db.execute("CREATE TABLE IF NOT EXISTS _migrations (name TEXT PRIMARY KEY, applied_at TEXT NOT NULL)")
    done = {r[0] for r in db.execute("SELECT name FROM _migrations").fetchall()}
    applied = []
    for name, sql in MIGRATIONS:
        if name in done:
            continue
        rebuild = name in REBUILDS
        if rebuild:  # SQLite's way to rebuild a table others refer to: foreign keys off, checked before commit
            db.execute("PRAGMA foreign_keys = OFF")
        try:
            with transaction(db):
                for statement in _split_sql(sql):
                    db.execute(statement)
                if name in MIGRATION_HOOKS:
                    MIGRATION_HOOKS[name](db)
                if rebuild:
                    broken = [row for table in REBUILDS[name]
                              for row in db.execute(f"PRAGMA foreign_key_check({table})").fetchall()]
                    if broken:
                        raise StoreError(f"migration {name} would leave {len(broken)} rows referring to nothing "
                                         f"(first: {broken[0]})", "migration_broken_reference", name=name)
                db.execute("INSERT INTO _migrations (name, applied_at) VALUES (?, ?)", [name, iso(now_utc())])
        finally:
            if rebuild:
                db.execute("PRAGMA foreign_keys = ON")
        applied.append(name)
    return applied


def fill_item_tags(db) -> None:
    """Read the hashtags of the stored texts with a '#' into item_tags: 0023_item_tags for a store
    that has items already, and stores filled without ingest (the benchmarks' synthetic ones)."""
    from .trending import tags_of  # trending reads the store: imported when needed

    cur = db.conn.execute("SELECT id, text, published_at FROM items WHERE instr(text, '#') > 0")
    while rows := cur.fetchmany(5000):
        insert_item_tags(db, [(item_id, tag, at) for item_id, text, at in rows for tag in tags_of(text)])


# Python steps of a migration, run in its transaction after its SQL (a hashtag needs a regex)
MIGRATION_HOOKS = {"0023_item_tags": fill_item_tags}


def _split_sql(sql: str) -> list[str]:
    """Statements of a script, keeping trigger bodies (BEGIN ... END;) whole."""
    lines = [line.split("--", 1)[0] for line in sql.splitlines()]
    statements, current = [], ""
    for part in "\n".join(lines).split(";"):
        current += part + ";"
        if sqlite3.complete_statement(current):
            if current.strip(" \n;"):
                statements.append(current.strip())
            current = ""
    return statements


@contextmanager
def transaction(db: sqlite_utils.Database, retries: int = 3) -> Iterator[None]:
    """BEGIN IMMEDIATE ... COMMIT; rolls back on any error. Waits for a locked database."""
    conn = db.conn
    for attempt in range(retries):
        try:
            conn.execute("BEGIN IMMEDIATE")
            break
        except sqlite3.OperationalError as exc:
            if "locked" not in str(exc) or attempt == retries - 1:
                raise explain_sqlite_error(exc, getattr(db, "label", "")) from exc
            time.sleep(0.5 * (attempt + 1))
    try:
        yield
    except BaseException as exc:
        # SQLite may have rolled back already (a full disk does); a second ROLLBACK would hide why.
        if conn.in_transaction:
            conn.execute("ROLLBACK")
        if isinstance(exc, sqlite3.Error):
            raise explain_sqlite_error(exc, getattr(db, "label", "")) from exc
        raise
    else:
        try:
            conn.execute("COMMIT")
        except sqlite3.Error as exc:
            if conn.in_transaction:
                conn.execute("ROLLBACK")
            raise explain_sqlite_error(exc, getattr(db, "label", "")) from exc


def _insert(db, table: str, row: dict) -> int:
    """INSERT one row of {column: value} (names from this module's callers, never from input); its id."""
    cols = list(row)
    return db.execute(f"INSERT INTO {table} ({', '.join(cols)}) VALUES ({', '.join('?' for _ in cols)})",
                      [row[c] for c in cols]).lastrowid


def _rows(db, sql: str, params: Iterable = ()) -> list[dict]:
    cur = db.execute(sql, list(params))
    cols = [c[0] for c in cur.description]
    return [dict(zip(cols, r)) for r in cur.fetchall()]


# --- checkpoints and rejects -------------------------------------------------------------

def get_checkpoint(db, source: str) -> str | None:
    row = db.execute("SELECT position FROM checkpoints WHERE source = ?", [source]).fetchone()
    return row[0] if row else None


def set_checkpoint(db, source: str, position: str | None, items_seen: int = 0, at: str | None = None,
                   one_off: bool = False) -> None:
    """Move `source`'s checkpoint after a batch of `items_seen` new items read at `at` (ISO, the
    worker's clock; now when None): the source was read then, and gave a new item then if any.
    `one_off`: read once (`rumourwatch ingest`), not a feed; a later continuous read makes it a feed."""
    at = at or iso(now_utc())
    db.execute(
        """INSERT INTO checkpoints (source, position, updated_at, items_seen, polled_at, last_item_at, one_off)
           VALUES (?, ?, ?, ?, ?, CASE WHEN ? > 0 THEN ? END, ?)
           ON CONFLICT(source) DO UPDATE SET position = excluded.position,
             updated_at = excluded.updated_at, items_seen = items_seen + excluded.items_seen,
             polled_at = excluded.polled_at, last_item_at = coalesce(excluded.last_item_at, last_item_at),
             one_off = excluded.one_off""",
        [source, position, iso(now_utc()), items_seen, at, items_seen, at, int(one_off)])


def mark_polled(db, source: str, at: str, one_off: bool = False) -> None:
    """The worker read `source` at `at` (ISO), whether or not it gave anything: a source never read
    gets its row here, so one that has given nothing yet is listed too (`one_off` as set_checkpoint)."""
    db.execute("""INSERT INTO checkpoints (source, position, updated_at, polled_at, one_off) VALUES (?, NULL, ?, ?, ?)
                  ON CONFLICT(source) DO UPDATE SET polled_at = excluded.polled_at, one_off = excluded.one_off""",
               [source, at, at, int(one_off)])


def one_off_sources(db) -> set[str]:
    """Sources last read once (`rumourwatch ingest`), not as feeds."""
    return {r[0] for r in db.execute("SELECT source FROM checkpoints WHERE one_off = 1")}


def record_source_error(db, source: str, message: str, key: str | None = None, params: dict | None = None) -> None:
    """Keep a source's last failure: the English `message`, and the SourceError's `key` and `params`
    that name its Chinese text on the 数据源与质量 page."""
    db.execute(
        """INSERT INTO checkpoints (source, position, updated_at, last_error, last_error_at, last_error_key,
                                    last_error_params)
           VALUES (?, NULL, ?, ?, ?, ?, ?)
           ON CONFLICT(source) DO UPDATE SET last_error = excluded.last_error,
             last_error_at = excluded.last_error_at, last_error_key = excluded.last_error_key,
             last_error_params = excluded.last_error_params""",
        [source, iso(now_utc()), message, iso(now_utc()), key,
         json.dumps(params, ensure_ascii=False, default=str) if params else None])


def clear_source_error(db, source: str) -> None:
    """`source` was read without failing: its last failure is over (it stays in the worker's log),
    so 数据源与质量 no longer shows it as failing. Writes nothing when it had no failure."""
    db.execute("""UPDATE checkpoints SET last_error = NULL, last_error_at = NULL, last_error_key = NULL,
                    last_error_params = NULL WHERE source = ? AND last_error IS NOT NULL""", [source])


SOURCE_STOPPED = "source_stopped:"  # workflow_state key per source: when the worker stopped it (source_config)


def source_status(db) -> list[dict]:
    """Each source's checkpoint row, with `stopped_at`: when the worker stopped reading it because it
    was disabled or removed in the sources file (None for the others)."""
    return _rows(db, f"""SELECT c.*, w.value AS stopped_at FROM checkpoints c
                         LEFT JOIN workflow_state w ON w.key = '{SOURCE_STOPPED}' || c.source ORDER BY c.source""")


def source_checkpoint(db, source: str) -> dict | None:
    """`source`'s row of `source_status`, None when the worker has not met it."""
    rows = _rows(db, "SELECT * FROM checkpoints WHERE source = ?", [source])
    return rows[0] if rows else None


def clear_checkpoint(db, source: str) -> None:
    """Forget where `source` got to and its last failure (its count of items seen stays)."""
    db.execute("UPDATE checkpoints SET position = NULL, updated_at = ? WHERE source = ?", [iso(now_utc()), source])
    clear_source_error(db, source)


def add_reject(db, source: str, reason: str, raw: str, origin: str = "", position: str | None = None,
               key: str | None = None, params: dict | None = None) -> None:
    """Set a record aside: the English `reason` (CLI, logs), and the `key` and `params` of its RecordError
    (or the reader's RawReject) that name its Chinese text on the 数据源与质量 page."""
    db.execute(
        """INSERT INTO rejects (source, origin, position, reason, raw, created_at, reason_key, reason_params)
           VALUES (?, ?, ?, ?, ?, ?, ?, ?)""",
        [source, origin, position, reason, raw, iso(now_utc()), key,
         json.dumps(_shown_params(params), ensure_ascii=False, default=str) if params else None])


def _shown_params(value, limit: int = 200):
    """A reason's params as they are worth keeping: a value from the record (a date, a count) can be
    any size, and the reason only quotes it; its start is enough (the raw record is kept whole)."""
    if isinstance(value, dict):
        return {k: _shown_params(v, limit) for k, v in value.items()}
    if value is None or isinstance(value, (bool, int, float)):
        return value
    text = value if isinstance(value, str) else repr(value)
    return text if len(text) <= limit else text[:limit] + "…"


# --- retention (rumourwatch.retention) ------------------------------------------------------------

_OLD_REACTOR = "user_id IS NOT NULL AND coalesce(at, fetched_at) < ?"
_OLD_SESSION = "coalesce(ended_at, last_seen_at) < ?"


def retention_counts(db, before: str) -> dict:
    """How many reactors' ids, rejected records and ended sessions are older than `before`."""
    return {"reactor_ids": db.execute(f"SELECT count(*) FROM reactions WHERE {_OLD_REACTOR}", [before]).fetchone()[0],
            "rejects": db.execute("SELECT count(*) FROM rejects WHERE created_at < ?", [before]).fetchone()[0],
            "sessions": db.execute(f"SELECT count(*) FROM sessions WHERE {_OLD_SESSION}", [before]).fetchone()[0]}


def max_reaction_id(db) -> int:
    return db.execute("SELECT coalesce(max(id), 0) FROM reactions").fetchone()[0]


def erase_reactor_ids(db, after_id: int, to_id: int, before: str) -> int:
    """Forget who reacted, for the reactions with ids in (after_id, to_id] older than `before`
    (their words, kind and time stay). A rowid range: each step reads only its own rows."""
    return db.execute(f"UPDATE reactions SET user_id = NULL WHERE id > ? AND id <= ? AND {_OLD_REACTOR}",
                      [after_id, to_id, before]).rowcount


def delete_old_rejects(db, before: str) -> int:
    return db.execute("DELETE FROM rejects WHERE created_at < ?", [before]).rowcount


def delete_old_sessions(db, before: str) -> int:
    """Login sessions ended (or idle, which ends them) before `before`; the audit log keeps the logins."""
    return db.execute(f"DELETE FROM sessions WHERE {_OLD_SESSION}", [before]).rowcount


def list_rejects(db, limit: int = 100) -> list[dict]:
    return _rows(db, "SELECT * FROM rejects ORDER BY id DESC LIMIT ?", [limit])


def count_rejects(db) -> int:
    return db.execute("SELECT count(*) FROM rejects").fetchone()[0]


# --- items and reactions ------------------------------------------------------------------

ITEM_COLUMNS = (
    "platform", "external_id", "url", "account", "author", "published_at", "published_day",
    "original_published_at", "claimed_published_at", "fetched_at", "updated_at", "title", "text",
    "text_length", "repost_num", "comment_num", "like_num", "content_hash", "cluster_id", "source",
    "user_json", "extra_json", "quality_flags",
)


def find_item(db, platform: str, external_id: str) -> dict | None:
    row = _rows(db, "SELECT id, repost_num, comment_num, like_num, cluster_id FROM items "
                    "WHERE platform = ? AND external_id = ?", [platform, external_id])
    return row[0] if row else None


def find_item_ids(db, keys: list[tuple[str, str]]) -> dict:
    """{(platform, external_id): item id} for the keys already stored, in a few queries per batch."""
    keys = list(dict.fromkeys(keys))
    found: dict = {}
    for start in range(0, len(keys), 400):  # 800 parameters per query, under SQLite's limit
        chunk = keys[start:start + 400]
        values = ", ".join("(?, ?)" for _ in chunk)
        for platform, external_id, item_id in db.execute(
                f"""SELECT i.platform, i.external_id, i.id FROM (VALUES {values}) AS v
                    JOIN items i ON i.platform = v.column1 AND i.external_id = v.column2""",
                [v for k in chunk for v in k]).fetchall():
            found[(platform, external_id)] = item_id
    return found


_INSERT_ITEM = f"INSERT INTO items ({', '.join(ITEM_COLUMNS)}) VALUES ({', '.join('?' for _ in ITEM_COLUMNS)})"


def insert_item(db, row: dict) -> int:
    return db.conn.execute(_INSERT_ITEM, [row.get(c) for c in ITEM_COLUMNS]).lastrowid


def refresh_item(db, item_id: int, repost_num: int, comment_num: int, like_num: int, fetched_at: str) -> None:
    """A re-fetch: engagement only grows (a later fetch of a smaller count is a stale copy)."""
    db.execute(
        """UPDATE items SET repost_num = max(repost_num, ?), comment_num = max(comment_num, ?),
             like_num = max(like_num, ?), updated_at = ? WHERE id = ?""",
        [repost_num, comment_num, like_num, fetched_at, item_id])


def insert_reactions(db, item_id: int, rows: list[dict]) -> int:
    """Insert reactions not seen before; returns how many were new."""
    if not rows:
        return 0
    before = db.conn.total_changes
    db.conn.executemany(
        """INSERT OR IGNORE INTO reactions (item_id, kind, at, original_at, text, user_id, dedupe_key, fetched_at)
           VALUES (?, ?, ?, ?, ?, ?, ?, ?)""",
        [(item_id, r["kind"], r["at"], r.get("original_at"), r["text"], r.get("user_id"),
          r["dedupe_key"], r["fetched_at"]) for r in rows])
    added = db.conn.total_changes - before
    if added:
        db.execute(
            """UPDATE items SET reaction_count = (SELECT count(*) FROM reactions WHERE item_id = ?),
                 last_reaction_at = (SELECT max(at) FROM reactions WHERE item_id = ?),
                 repost_num = max(repost_num, (SELECT count(*) FROM reactions WHERE item_id = ? AND kind = 'repost')),
                 comment_num = max(comment_num, (SELECT count(*) FROM reactions WHERE item_id = ? AND kind = 'comment'))
               WHERE id = ?""",
            [item_id, item_id, item_id, item_id, item_id])
    return added


def count_items(db) -> int:
    return db.execute("SELECT count(*) FROM items").fetchone()[0]


def count_reactions(db) -> int:
    return db.execute("SELECT count(*) FROM reactions").fetchone()[0]


# --- clusters -------------------------------------------------------------------------------

def _in_chunks(db, sql: str, values: list, before: tuple = ()) -> list[tuple]:
    """The rows of `sql` for all `values`, a chunk at a time under SQLite's parameter limit: `sql`
    has `{marks}` where a chunk's placeholders go, after the parameters `before`."""
    rows: list[tuple] = []
    for start in range(0, len(values), 900):
        chunk = values[start:start + 900]
        rows += db.execute(sql.format(marks=", ".join("?" for _ in chunk)), [*before, *chunk]).fetchall()
    return rows


def clusters_by_band(db, bands) -> tuple[dict[str, list[int]], dict[int, bytes], dict[int, list[bytes]]]:
    """The stored clusters sharing any of `bands` (MinHash LSH keys): {band: [cluster id, …
    ascending]}, {cluster id: signature} and {cluster id: signatures of its retellings}, for a whole
    batch in a few queries."""
    by_band: dict[str, list[int]] = {}
    signatures: dict[int, bytes] = {}
    for band, cluster_id, sig in _in_chunks(
            db, """SELECT b.band, c.id, c.signature FROM cluster_bands b JOIN clusters c ON c.id = b.cluster_id
                   WHERE b.band IN ({marks}) ORDER BY b.band, b.cluster_id""", list(dict.fromkeys(bands))):
        by_band.setdefault(band, []).append(cluster_id)
        signatures[cluster_id] = sig
    retellings: dict[int, list[bytes]] = {}
    for cluster_id, sig in _in_chunks(
            db, "SELECT cluster_id, signature FROM cluster_retellings WHERE cluster_id IN ({marks}) ORDER BY rowid",
            list(signatures)):
        retellings.setdefault(cluster_id, []).append(sig)
    return by_band, signatures, retellings


def cluster_first_texts(db, cluster_ids, max_chars: int) -> dict[int, str]:
    """{cluster id: the first `max_chars` characters of its representative item's text}."""
    return dict(_in_chunks(db, """SELECT c.id, substr(i.text, 1, ?) FROM clusters c
                                  JOIN items i ON i.id = c.representative_item_id WHERE c.id IN ({marks})""",
                           list(cluster_ids), (max_chars,)))


def next_cluster_id(db) -> int:
    """The id SQLite would give the next cluster (inside the writer's transaction)."""
    return db.execute("SELECT coalesce(max(id), 0) + 1 FROM clusters").fetchone()[0]


def save_clusters(db, created: list[dict], bands: list[tuple[str, int]], grown: dict[int, tuple[int, str]],
                  retold: list[tuple[int, bytes]] = ()) -> None:
    """Write a batch's clustering: new clusters (rows with their ids), the bands that point to
    clusters (a new cluster's, a retelling's), {stored cluster id: (items added, latest item time)}
    for clusters that grew, and (cluster id, signature) of the retellings that joined clusters."""
    if created:
        db.conn.executemany(
            "INSERT INTO clusters (id, created_at, representative_item_id, item_count, last_item_at, signature) "
            "VALUES (?, ?, ?, ?, ?, ?)",
            [(c["id"], c["created_at"], c["representative_item_id"], c["item_count"], c["last_item_at"],
              c["signature"]) for c in created])
    if bands:
        db.conn.executemany("INSERT OR IGNORE INTO cluster_bands (band, cluster_id) VALUES (?, ?)", bands)
    if grown:
        db.conn.executemany(
            "UPDATE clusters SET item_count = item_count + ?, last_item_at = max(coalesce(last_item_at, ''), ?) "
            "WHERE id = ?", [(n, at, cluster_id) for cluster_id, (n, at) in grown.items()])
    if retold:
        db.conn.executemany("INSERT INTO cluster_retellings (cluster_id, signature) VALUES (?, ?)", retold)


def cluster_items(db, cluster_id: int, limit: int = 200, exclude_item: int | None = None) -> list[dict]:
    """The cluster's items as feed rows (FEED_COLUMNS), earliest first, at most `limit`;
    `exclude_item` leaves one out (the item being viewed), so `limit` copies are still shown."""
    return _rows(db, f"""SELECT {FEED_COLUMNS} FROM items WHERE cluster_id = ? AND id IS NOT ?
                         ORDER BY published_at, id LIMIT ?""", [cluster_id, exclude_item, limit])


def cluster_size(db, cluster_id: int) -> int:
    """How many items the cluster holds (kept by ingest as copies join it)."""
    row = db.execute("SELECT item_count FROM clusters WHERE id = ?", [cluster_id]).fetchone()
    return int(row[0]) if row else 0


# --- scoring --------------------------------------------------------------------------------

def items_to_score(db, model_version: str, limit: int = 1000) -> list[int]:
    """Items never scored, scored by another model version, or with reactions unseen by their score."""
    # Three indexed lookups (idx_items_unscored, idx_items_stale_reactions, idx_items_model_version):
    # each reads only the items it returns, however large the store.
    ids: dict[int, None] = {}
    for sql, params in (
            ("SELECT id FROM items WHERE scored_at IS NULL LIMIT ?", []),
            ("SELECT id FROM items WHERE reaction_count > coalesce(scored_reactions, 0) LIMIT ?", []),
            ("SELECT id FROM items WHERE model_version < ? LIMIT ?", [model_version]),
            ("SELECT id FROM items WHERE model_version > ? LIMIT ?", [model_version])):
        if len(ids) >= limit:
            break
        for (item_id,) in db.execute(sql, params + [limit - len(ids)]).fetchall():
            ids[item_id] = None
    return list(ids)[:limit]


def load_items_for_scoring(db, item_ids: list[int]) -> list[dict]:
    """Items with their reactions (ordered by time), as plain dicts for building Docs."""
    if not item_ids:
        return []
    marks = ", ".join("?" for _ in item_ids)
    items = _rows(db, f"""SELECT id, text, title, account, published_at, user_json, extra_json, reaction_count,
                                 last_reaction_at
                          FROM items WHERE id IN ({marks})""", item_ids)
    by_id = {it["id"]: dict(it, reactions=[]) for it in items}
    if any(it["reaction_count"] for it in items):
        for r in _rows(db, f"""SELECT item_id, kind, at, text, user_id FROM reactions
                               WHERE item_id IN ({marks}) ORDER BY item_id, at""", item_ids):
            by_id[r["item_id"]]["reactions"].append(r)
    return [by_id[i] for i in item_ids if i in by_id]


SCORE_COLUMNS = ("item_id", "model_version", "computed_at", "reactions_seen", "last_reaction_at",
                 "rumour_probability", "is_rumour", "polarity", "polarity_scores", "health_probability",
                 "health_related", "topic", "debunk_url", "debunk_title", "debunk_score", "already_debunked",
                 "debunk_clarification_id")


def save_scores(db, rows: list[dict]) -> None:
    """Append score history and update each item's latest score (in the caller's transaction)."""
    if not rows:
        return
    cols = ", ".join(SCORE_COLUMNS)
    marks = ", ".join("?" for _ in SCORE_COLUMNS)
    db.conn.executemany(f"INSERT INTO scores ({cols}) VALUES ({marks})",
                        [[r.get(c) for c in SCORE_COLUMNS] for r in rows])
    db.conn.executemany(
        """UPDATE items SET rumour_probability = ?, is_rumour = ?, polarity = ?, health_related = ?, topic = ?,
             already_debunked = ?, debunk_clarification_id = ?, model_version = ?, scored_at = ?,
             scored_reactions = ? WHERE id = ?""",
        [(r["rumour_probability"], r["is_rumour"], r["polarity"], r["health_related"], r["topic"],
          r.get("already_debunked"), r.get("debunk_clarification_id"), r["model_version"], r["computed_at"],
          r["reactions_seen"], r["item_id"])
         for r in rows])


def register_model_version(db, version: str, manifest: dict) -> None:
    db.execute("INSERT OR IGNORE INTO model_versions (version, registered_at, manifest) VALUES (?, ?, ?)",
               [version, iso(now_utc()), json.dumps(manifest, ensure_ascii=False, default=str)])


def list_model_versions(db) -> list[dict]:
    return _rows(db, "SELECT * FROM model_versions ORDER BY registered_at DESC")


# --- dashboard queries ----------------------------------------------------------------------

def _filter_terms(start: str | None, end: str | None, platforms: list[str] | None = None,
                  health_only: bool = False, min_probability: float | None = None,
                  column: str = "{}") -> tuple[list[str], list]:
    """The dashboard filters as SQL terms on items' columns (each named through `column`, e.g.
    "i.{}" for a table alias) and their parameters."""
    where, params = [], []
    if start:
        where.append(f"{column.format('published_at')} >= ?")
        params.append(start)
    if end:
        where.append(f"{column.format('published_at')} < ?")
        params.append(end)
    if platforms:
        where.append(f"{column.format('platform')} IN ({', '.join('?' for _ in platforms)})")
        params.extend(platforms)
    if health_only:
        where.append(f"{column.format('health_related')} = 1")
    if min_probability is not None and min_probability > 0:
        where.append(f"{column.format('rumour_probability')} >= ?")
        params.append(min_probability)
    return where, params


def _filters_sql(start: str | None, end: str | None, platforms: list[str] | None = None,
                 health_only: bool = False, min_probability: float | None = None) -> tuple[str, list]:
    where, params = _filter_terms(start, end, platforms, health_only, min_probability)
    return (" WHERE " + " AND ".join(where)) if where else "", params


def _china_day_bound(value: str | None) -> str | None | bool:
    """China date of a bound that falls on China midnight; False when it falls mid-day."""
    if value is None:
        return None
    dt = datetime.strptime(value, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC).astimezone(CST)
    if (dt.hour, dt.minute, dt.second) != (0, 0, 0):
        return False
    return dt.strftime("%Y-%m-%d")


def _daily_counts_sql(start, end, platforms=None, health_only=False, min_probability=None):
    """WHERE clause over daily_counts for whole-day periods, or None when items must be scanned."""
    if min_probability:
        return None
    first, last = _china_day_bound(start), _china_day_bound(end)
    if first is False or last is False:
        return None
    where, params = [], []
    if first:
        where.append("day >= ?")
        params.append(first)
    if last:
        where.append("day < ?")
        params.append(last)
    if platforms:
        where.append(f"platform IN ({', '.join('?' for _ in platforms)})")
        params.extend(platforms)
    if health_only:
        where.append("health_related = 1")
    return (" WHERE " + " AND ".join(where)) if where else "", params


def polarity_counts(db, start: str | None = None, end: str | None = None, **filters) -> dict:
    """Counts by polarity (None key = not yet scored) for items published in [start, end)."""
    out = {"positive": 0, "neutral": 0, "negative": 0, None: 0}
    fast = _daily_counts_sql(start, end, **filters)
    if fast is not None:
        where, params = fast
        sql = f"SELECT polarity, sum(n) FROM daily_counts{where} GROUP BY polarity"
    else:
        where, params = _filters_sql(start, end, **filters)
        sql = f"SELECT polarity, count(*) FROM items{where} GROUP BY polarity"
    for polarity, n in db.execute(sql, params):
        out[polarity if polarity in out else None] += n or 0
    return out


def daily_polarity(db, start: str | None = None, end: str | None = None, **filters) -> list[dict]:
    """Rows of (day in China time, polarity, n) for a trend chart; unscored items as 'unscored'."""
    fast = _daily_counts_sql(start, end, **filters)
    if fast is not None:
        where, params = fast
        rows = _rows(db, f"""SELECT day, polarity, sum(n) AS n FROM daily_counts{where}
                             GROUP BY day, polarity HAVING sum(n) > 0 ORDER BY day""", params)
        for r in rows:
            r["polarity"] = r["polarity"] or "unscored"
        return rows
    where, params = _filters_sql(start, end, **filters)
    return _rows(db, f"""SELECT published_day AS day, coalesce(polarity, 'unscored') AS polarity, count(*) AS n
                         FROM items{where} GROUP BY published_day, polarity ORDER BY published_day""", params)


def hourly_polarity(db, start: str, end: str, **filters) -> list[dict]:
    """Rows of (hour of the day in China time 0-23, polarity, n) of the items published in [start,
    end), unscored ones as 'unscored': a day's chart (the daily report)."""
    where, params = _filters_sql(start, end, **filters)
    return _rows(db, f"""SELECT (CAST(substr(published_at, 12, 2) AS INTEGER) + 8) % 24 AS hour,
                                coalesce(polarity, 'unscored') AS polarity, count(*) AS n
                         FROM items{where} GROUP BY hour, polarity ORDER BY hour""", params)


def hourly_counts(db, start: str, end: str | None = None, **filters) -> list[dict]:
    where, params = _filters_sql(start, end, **filters)
    return _rows(db, f"""SELECT substr(published_at, 1, 13) AS hour, count(*) AS n,
                           sum(CASE WHEN rumour_probability >= 0.5 THEN 1 ELSE 0 END) AS flagged
                         FROM items{where} GROUP BY hour ORDER BY hour""", params)


def summary_counts(db, start: str | None = None, end: str | None = None, threshold: float = 0.5,
                   **filters) -> dict:
    where, params = _filters_sql(start, end, **filters)
    row = db.execute(
        f"""SELECT count(*), coalesce(sum(health_related = 1), 0), coalesce(sum(rumour_probability >= ?), 0),
                   coalesce(sum(scored_at IS NULL), 0), coalesce(sum(already_debunked = 1), 0),
                   coalesce(sum(health_related = 1 AND rumour_probability >= ?), 0)
            FROM items{where}""", [threshold, threshold, *params]).fetchone()
    return {"items": row[0], "health_related": row[1], "flagged": row[2], "unscored": row[3],
            "already_debunked": row[4], "flagged_health": row[5]}


def flagged_health(db, start: str, end: str, threshold: float) -> int:
    """Health items published in [start, end) at or above `threshold`: summary_counts' flagged_health
    alone, read from the dashboard index without its other columns (a third of the time)."""
    return db.execute("""SELECT count(*) FROM items WHERE health_related = 1 AND rumour_probability >= ?
                         AND published_at >= ? AND published_at < ?""", [threshold, start, end]).fetchone()[0]


_ITEM_ROW = """id, platform, account, author, url, published_at, original_published_at, title,
               {text}, text_length, repost_num, comment_num, reaction_count,
               rumour_probability, is_rumour, polarity, health_related, topic, already_debunked,
               cluster_id, quality_flags, scored_at"""
FEED_COLUMNS = _ITEM_ROW.format(text="substr(text, 1, 300) AS text")  # a feed row shows the start of the text


def latest_items(db, start: str | None = None, end: str | None = None, limit: int = 50, **filters) -> list[dict]:
    where, params = _filters_sql(start, end, **filters)
    return _rows(db, f"SELECT {FEED_COLUMNS} FROM items{where} ORDER BY published_at DESC, id DESC LIMIT ?",
                 [*params, limit])


# Advertisements (rumourwatch.ads) and clarification publishers' posts (rumourwatch.clarifiers),
# flagged at ingest, are kept and searchable, but they are not rumours to list or to alert on: a
# selling style and a refuted claim's wording both score high on the rumour model.
def _without_flags(*flags: str, table: str = "") -> str:
    """SQL condition (" AND …") leaving out items with any of these quality flags; `table` is a
    prefix like "i."."""
    unflagged = " AND ".join(f"""{table}quality_flags NOT LIKE '%"{f}"%'""" for f in flags)
    return f" AND ({table}quality_flags IS NULL OR ({unflagged}))"


# The office's own channels' posts (rumourwatch.ownmedia), flagged at ingest and when a channel is
# registered, are its own publishing: its debunks quote the rumour they answer, as a debunk
# platform's do.
OWN_CHANNEL_FLAG = "own_channel"  # the items.quality_flags entry


def _rumour_candidate(table: str = "") -> str:
    """SQL condition (" AND …") leaving out items flagged as ads, as a clarification publisher's
    (rumourwatch.clarifiers) or as the office's own channels' (rumourwatch.ownmedia); `table` is a
    prefix like "i."."""
    return _without_flags(AD_FLAG, CLARIFICATION_FLAG, OWN_CHANNEL_FLAG, table=table)


def top_rumours(db, start: str | None = None, end: str | None = None, limit: int = 20, **filters) -> list[dict]:
    """The most likely rumours among items published in the period, one row per cluster,
    advertisements and clarifications left out (`_rumour_candidate`), and so are items whose latest
    verdict is 'not_rumour' (`_not_cleared`); each row has its item's latest `verdict` or None.

    Walks the rumour-probability index from the top and keeps each cluster's first (likeliest) item,
    so the cost follows `limit`, not the size of the period.
    """
    where, params = _filters_sql(start, end, **filters)
    cond = ((where + " AND " if where else " WHERE ") + "rumour_probability IS NOT NULL" + _rumour_candidate()
            + _not_cleared(db))
    judged = {v["item_id"]: v["verdict"] for v in verdict_labels(db)}
    picked: dict[int, dict] = {}
    fetch, offset = max(limit * 20, 200), 0
    while len(picked) < limit:
        rows = _rows(db, f"""SELECT {FEED_COLUMNS} FROM items{cond}
                             ORDER BY rumour_probability DESC LIMIT ? OFFSET ?""",
                     [*params, fetch, offset])
        for r in rows:
            key = r["cluster_id"] if r["cluster_id"] is not None else -r["id"]
            if key not in picked:
                picked[key] = dict(r, verdict=judged.get(r["id"]))
                if len(picked) == limit:
                    break
        if len(rows) < fetch:
            break
        offset += fetch
    out = list(picked.values())
    clusters = [r["cluster_id"] for r in out if r["cluster_id"] is not None]
    sizes = {}
    if clusters:
        marks = ", ".join("?" for _ in clusters)
        sizes = dict(db.execute(f"SELECT id, item_count FROM clusters WHERE id IN ({marks})", clusters).fetchall())
    for r in out:
        r["cluster_size"] = sizes.get(r["cluster_id"], 1)
    return out


# --- keyword search (rumourwatch.search parses the query) -------------------------------------

def _like_pattern(term: str) -> str:
    """A LIKE pattern matching `term` anywhere, its own % and _ taken literally (ESCAPE '\\')."""
    return "%" + term.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"


# a post the models cannot read is also found by the Chinese gist of its human reading (人工判读):
# the one text of it a monitor searching in Chinese can match (rumourwatch.readings); only items
# without a rumour probability are looked up, so a Chinese item costs one more column read
# (a store of an older schema opened read-only has no readings: its items are matched by title and text)
_MATCH_TEXT = "(text LIKE ? ESCAPE '\\' OR coalesce(title, '') LIKE ? ESCAPE '\\')"
_MATCH = (f"({_MATCH_TEXT} OR (rumour_probability IS NULL "
          "AND EXISTS (SELECT 1 FROM human_readings h WHERE h.item_id = items.id AND h.gist LIKE ? ESCAPE '\\')))")


def _match_sql(groups, excluded, account: str | None = None, gists: bool = True,
               topic: str | None = None) -> tuple[list[str], list]:
    """The conditions of one query: every group matched by one of its spellings (title or text, or
    with `gists` a human reading's gist), no excluded spelling, the `account` (or author) and the
    Healthy China `topic` when given. LIKE is case-blind for ASCII letters only; the caller lists
    width variants."""
    match, n = (_MATCH, 3) if gists else (_MATCH_TEXT, 2)
    conds, params = [], []
    if account:
        conds.append("(account = ? OR author = ?)")
        params += [account, account]
    if topic:
        conds.append("topic = ?")
        params.append(topic)
    for group in groups:
        conds.append("(" + " OR ".join(match for _ in group) + ")")
        for term in group:
            params += [_like_pattern(term)] * n
    for term in excluded:
        conds.append("NOT " + match)
        params += [_like_pattern(term)] * n
    return conds, params


def _search_sql(db, groups, excluded, start, end, account: str | None = None, topic: str | None = None,
                **filters) -> tuple[str, list]:
    """WHERE clause: the filters and the query's conditions (`_match_sql`)."""
    where, params = _filters_sql(start, end, **filters)
    conds = [where[len(" WHERE "):]] if where else []
    matched, more = _match_sql(groups, excluded, account, has_tables(db, "human_readings"), topic)
    return (" WHERE " + " AND ".join(conds + matched)) if conds + matched else "", params + more


def watch_hits(db, queries, start: str | None, end: str | None, threshold: float, by_hour: bool = False,
               **filters) -> list[list[dict]]:
    """Several queries ((groups, excluded, account) each, as `search_hits` takes them) counted in one
    scan of the period's items, which costs little more than one: reading the texts is most of a
    search. Per query, rows of (day, polarity, n, flagged) per China day and polarity, like
    `search_hits`' day rows; `by_hour`: per UTC hour instead, its `day` the hour's start as
    YYYY-MM-DDTHH."""
    if not queries:
        return []
    where, params = _filters_sql(start, end, **filters)
    gists = has_tables(db, "human_readings")
    marks, mparams = [], []
    for i, (groups, excluded, account) in enumerate(queries):
        conds, more = _match_sql(groups, excluded, account, gists)
        marks.append(f"({' AND '.join(conds) or '1'}) AS m{i}")
        mparams += more
    # MATERIALIZED: each query's conditions are evaluated once per item, not once per sum below
    sums = ", ".join(f"coalesce(sum(m{i}), 0) AS n{i}, coalesce(sum(m{i} AND flagged), 0) AS f{i}"
                     for i in range(len(queries)))
    bucket = "substr(published_at, 1, 13)" if by_hour else "published_day"
    rows = _rows(db, f"""WITH marked AS MATERIALIZED (
                             SELECT {bucket} AS bucket, polarity, coalesce(rumour_probability >= ?, 0) AS flagged,
                                    {", ".join(marks)} FROM items{where})
                         SELECT bucket AS day, polarity, {sums} FROM marked GROUP BY bucket, polarity""",
                 [threshold, *mparams, *params])
    return [[{"day": r["day"], "polarity": r["polarity"], "n": r[f"n{i}"], "flagged": r[f"f{i}"]}
             for r in rows if r[f"n{i}"]] for i in range(len(queries))]


_SEARCH_ORDER = {"time": "published_at DESC, id DESC",
                 "probability": "rumour_probability IS NULL, rumour_probability DESC, published_at DESC, id DESC"}


def search_hits(db, groups, excluded, start: str | None, end: str | None, threshold: float, order: str,
                limit: int, **filters) -> tuple[list[dict], int, list[int]]:
    """For the items matching a keyword query (`_search_sql`), in one scan of the period's items:
    rows of (day, polarity, n, flagged, debunked, health) per China day and polarity (polarity None =
    not scored yet); the number of distinct stories (clusters; an unclustered item is its own); and
    the ids of the first `limit` matches in `order` ("time": newest first, or "probability")."""
    where, params = _search_sql(db, groups, excluded, start, end, **filters)
    rows = _rows(db, f"""WITH hits AS MATERIALIZED (
                             SELECT id, published_at, published_day, polarity, rumour_probability, cluster_id,
                                    health_related, already_debunked FROM items{where})
                         SELECT 'day' AS part, published_day AS day, polarity, count(*) AS n,
                                coalesce(sum(rumour_probability >= ?), 0) AS flagged,
                                coalesce(sum(already_debunked = 1), 0) AS debunked,
                                coalesce(sum(health_related = 1), 0) AS health, NULL AS id
                         FROM hits GROUP BY published_day, polarity
                         UNION ALL
                         SELECT 'stories', NULL, NULL, count(DISTINCT coalesce(cluster_id, -id)), 0, 0, 0, NULL
                         FROM hits
                         UNION ALL
                         SELECT * FROM (SELECT 'first', NULL, NULL, 0, 0, 0, 0, id FROM hits
                                        ORDER BY {_SEARCH_ORDER[order]} LIMIT ?)""",
                 [*params, threshold, limit])
    days = [r for r in rows if r["part"] == "day"]
    stories = next(r["n"] for r in rows if r["part"] == "stories")
    return days, stories, [r["id"] for r in rows if r["part"] == "first"]


def items_with_text(db, item_ids: list[int]) -> list[dict]:
    """The items `item_ids` as feed rows with their whole text, in the order given."""
    rows = {}
    for start in range(0, len(item_ids), 900):  # under SQLite's parameter limit
        chunk = item_ids[start:start + 900]
        marks = ", ".join("?" for _ in chunk)
        rows.update((r["id"], r) for r in _rows(db, f"SELECT {_ITEM_ROW.format(text='text')} FROM items "
                                                     f"WHERE id IN ({marks})", chunk))
    return [rows[i] for i in item_ids if i in rows]


def search_items(db, groups, excluded, start: str | None, end: str | None, limit: int, order: str = "time",
                 **filters) -> list[dict]:
    """The matching items in `order` with their whole text, at most `limit` (the CSV export). Walks
    the time (or probability) index, so a common word stops early."""
    where, params = _search_sql(db, groups, excluded, start, end, **filters)
    return _rows(db, f"SELECT {_ITEM_ROW.format(text='text')} FROM items{where} ORDER BY {_SEARCH_ORDER[order]} "
                     "LIMIT ?", [*params, limit])


def get_item(db, item_id: int) -> dict | None:
    rows = _rows(db, "SELECT * FROM items WHERE id = ?", [item_id])
    return rows[0] if rows else None


def item_reactions(db, item_id: int, limit: int = 2000) -> list[dict]:
    return _rows(db, "SELECT kind, at, original_at, text, user_id FROM reactions WHERE item_id = ? "
                     "ORDER BY at LIMIT ?", [item_id, limit])


def score_history(db, item_id: int) -> list[dict]:
    return _rows(db, "SELECT * FROM scores WHERE item_id = ? ORDER BY computed_at, id", [item_id])


def platforms(db) -> list[str]:
    return [r[0] for r in db.execute("SELECT DISTINCT platform FROM items ORDER BY platform")]


def time_bounds(db) -> tuple[str | None, str | None]:
    row = db.execute("SELECT min(published_at), max(published_at) FROM items").fetchone()
    return row[0], row[1]


def day_range(day_from: datetime | date, days: int) -> tuple[str, str]:
    """UTC ISO bounds of `days` China-time days starting on `day_from`: a China date, or the China
    date of a datetime."""
    if not isinstance(day_from, datetime):
        day_from = datetime(day_from.year, day_from.month, day_from.day, tzinfo=CST)
    local = day_from.astimezone(CST).replace(hour=0, minute=0, second=0, microsecond=0)
    return iso(local), iso(local + timedelta(days=days))


# --- audit -----------------------------------------------------------------------------------

def data_version(db) -> tuple:
    """Changes whenever the worker adds items, reactions, scores or rejects, moves a checkpoint, an
    alert changes, a verdict is recorded or anyone does anything audited (a human reading gives an
    item its polarity, rumourwatch.readings): the dashboard's cache key (each part is a cheap index
    lookup).

    Checkpoints (one row a source) are read whole: times have whole seconds, so a reset in the same
    second as the failure it clears left their latest times as they were, and the page kept showing
    the failure."""
    row = db.execute(
        """SELECT (SELECT max(id) FROM items), (SELECT max(id) FROM reactions), (SELECT max(id) FROM scores),
                  (SELECT max(id) FROM rejects),
                  (SELECT group_concat(source || char(31) || coalesce(position, '') || char(31) || updated_at
                                       || char(31) || coalesce(last_error_at, ''), char(30)) FROM checkpoints),
                  (SELECT max(updated_at) FROM alerts), (SELECT max(id) FROM verdicts),
                  (SELECT max(id) FROM audit_log)""").fetchone()
    return tuple(row)


def record_audit(db, actor: str, action: str, target_type: str | None = None, target_id=None,
                 details: dict | None = None, at: str | None = None) -> int:
    """Append one action to the audit log (call inside the action's own transaction), sealed when
    an audit key is set (rumourwatch.auditseal)."""
    from . import auditseal

    row = [at or iso(now_utc()), actor, action, target_type, None if target_id is None else str(target_id),
           json.dumps(details, ensure_ascii=False, default=str) if details else None]
    key = auditseal.current_key()
    if key is None:
        cur = db.execute("INSERT INTO audit_log (at, actor, action, target_type, target_id, details) "
                         "VALUES (?, ?, ?, ?, ?, ?)", row)
        return cur.lastrowid
    if not db.conn.in_transaction:  # the chain needs the write lock from reading its end to writing
        with transaction(db):
            return record_audit(db, actor, action, target_type, target_id, details, at)
    entry_id = db.execute("SELECT COALESCE(MAX(id), 0) + 1 FROM audit_log").fetchone()[0]
    last = db.execute("SELECT chain FROM audit_log WHERE chain IS NOT NULL ORDER BY id DESC LIMIT 1").fetchone()
    chain = auditseal.seal(key, last[0] if last else None, [entry_id, *row])
    db.execute("INSERT INTO audit_log (id, at, actor, action, target_type, target_id, details, chain) "
               "VALUES (?, ?, ?, ?, ?, ?, ?, ?)", [entry_id, *row, chain])
    return entry_id


def _audit_where(actor=None, target_type=None, target_id=None, actions=None, start=None,
                 end=None, after_id=None) -> tuple[str, list]:
    """The WHERE clause of an audit query: `actions` a list of codes (an empty list matches
    nothing), `start` / `end` UTC ISO bounds [start, end), `after_id` entries written after that one."""
    given = [(cond, value) for cond, value in (("actor = ?", actor), ("target_type = ?", target_type),
                                               ("at >= ?", start), ("at < ?", end), ("id > ?", after_id))
             if value]
    if target_id is not None:
        given.append(("target_id = ?", str(target_id)))
    where, params = [cond for cond, _ in given], [value for _, value in given]
    if actions is not None:
        where.append(f"action IN ({', '.join('?' for _ in actions)})" if actions else "0")
        params.extend(actions)
    return (" WHERE " + " AND ".join(where)) if where else "", params


def audit_entries(db, limit: int = 200, actor: str | None = None, target_type: str | None = None,
                  target_id=None, actions: list[str] | None = None, start: str | None = None,
                  end: str | None = None) -> list[dict]:
    """The newest `limit` audit entries matching every condition given (`_audit_where`), by their
    time (an entry may be written with the time its action took effect, after later ones)."""
    clause, params = _audit_where(actor, target_type, target_id, actions, start, end)
    return _rows(db, f"SELECT * FROM audit_log{clause} ORDER BY at DESC, id DESC LIMIT ?", [*params, limit])


def count_audit_entries(db, actor: str | None = None, target_type: str | None = None, target_id=None,
                        actions: list[str] | None = None, start: str | None = None, end: str | None = None) -> int:
    clause, params = _audit_where(actor, target_type, target_id, actions, start, end)
    return db.execute(f"SELECT count(*) FROM audit_log{clause}", params).fetchone()[0]


def audit_after(db, after_id: int, start: str, actions: list[str]) -> list[dict]:
    """The audit entries of `actions` with an id above `after_id` and a time from `start` on, in
    the order they were written."""
    clause, params = _audit_where(actions=actions, start=start, after_id=after_id)
    return _rows(db, f"SELECT * FROM audit_log{clause} ORDER BY id", params)


def audit_actions(db) -> list[str]:
    """Every action code the audit log holds."""
    return [r[0] for r in db.execute("SELECT DISTINCT action FROM audit_log ORDER BY action")]


# --- workflow: alerts, experts, assignments, clarifications, verdicts, watchlist, audit ----------
WORKFLOW_OPEN_STATUSES = ("open", "assigned", "in_progress", "in_review")
ASSIGNMENT_ACTIVE = ("offered", "accepted", "submitted")


def workflow_state(db, key: str) -> str | None:
    row = db.execute("SELECT value FROM workflow_state WHERE key = ?", [key]).fetchone()
    return row[0] if row else None


def set_workflow_state(db, key: str, value: str | None) -> None:
    db.execute("INSERT INTO workflow_state (key, value) VALUES (?, ?) "
               "ON CONFLICT(key) DO UPDATE SET value = excluded.value", [key, value])


def scored_candidates(db, after_score_id: int, min_probability: float, health_only: bool) -> list[dict]:
    """Items (re)scored since score row `after_score_id` whose rumour probability passes the threshold,
    advertisements and clarification publishers' posts left out (rumourwatch.ads, rumourwatch.clarifiers)."""
    health = " AND i.health_related = 1" if health_only else ""
    return _rows(db, f"""SELECT DISTINCT i.id, i.cluster_id FROM scores s JOIN items i ON i.id = s.item_id
                         WHERE s.id > ? AND i.rumour_probability >= ?{health}{_rumour_candidate("i.")}""",
                 [after_score_id, min_probability])


def max_score_id(db) -> int:
    return db.execute("SELECT coalesce(max(id), 0) FROM scores").fetchone()[0]


def items_after(db, after_id: int, limit: int = 50000) -> list[dict]:
    return _rows(db, "SELECT id, cluster_id, account, title, text FROM items WHERE id > ? ORDER BY id LIMIT ?",
                 [after_id, limit])


def cluster_metrics(db, cluster_id: int | None, item_id: int, velocity_since: str) -> dict:
    """Spread of a cluster (or a lone item): copies, reach, reactions since `velocity_since`,
    and its most likely rumour as representative."""
    if cluster_id is None:
        cond, param = "i.id = ?", item_id
    else:
        cond, param = "i.cluster_id = ?", cluster_id
    row = db.execute(
        f"""SELECT count(*), coalesce(sum(i.repost_num + i.comment_num), 0), max(i.rumour_probability),
                   min(i.published_at), coalesce(sum(i.health_related = 1), 0)
            FROM items i WHERE {cond}""", [param]).fetchone()
    velocity = db.execute(
        f"""SELECT count(*) FROM reactions r JOIN items i ON i.id = r.item_id
            WHERE {cond} AND r.at >= ?""", [param, velocity_since]).fetchone()[0]
    rep = _rows(db, f"""SELECT i.id, i.title, substr(i.text, 1, 80) AS text, i.topic, i.user_json, i.account,
                               i.platform, i.rumour_probability
                        FROM items i WHERE {cond}
                        ORDER BY coalesce(i.rumour_probability, -1) DESC, i.reaction_count DESC, i.id LIMIT 1""",
                [param])[0]
    return {"copies": row[0], "reach": row[1], "max_probability": row[2], "first_published_at": row[3],
            "health_items": row[4], "velocity": velocity, "representative": rep}


def opinion_window_counts(db, dimension: str, start: str, end: str) -> dict:
    """{value: (negative, scored)} per topic (dimension 'topic') of health items published in [start, end)."""
    if dimension != "topic":
        raise ValueError(f"unknown dimension {dimension!r}")
    rows = db.execute(
        """SELECT topic, coalesce(sum(polarity = 'negative'), 0), count(*) FROM items
           WHERE published_at >= ? AND published_at < ? AND polarity IS NOT NULL AND topic IS NOT NULL
           GROUP BY topic""", [start, end]).fetchall()
    return {r[0]: (r[1], r[2]) for r in rows}


def opinion_window_items(db, start: str, end: str) -> list[dict]:
    """Scored items of [start, end) with their account facts, for per-region counting."""
    return _rows(db, """SELECT polarity, user_json, extra_json FROM items
                        WHERE published_at >= ? AND published_at < ? AND polarity IS NOT NULL""", [start, end])


def get_alert_by_key(db, dedupe_key: str) -> dict | None:
    rows = _rows(db, "SELECT * FROM alerts WHERE dedupe_key = ?", [dedupe_key])
    return rows[0] if rows else None


def insert_alert(db, row: dict) -> int:
    return _insert(db, "alerts", row)


def update_alert(db, alert_id: int, changes: dict) -> None:
    if not changes:
        return
    sets = ", ".join(f"{c} = ?" for c in changes)
    db.execute(f"UPDATE alerts SET {sets} WHERE id = ?", [*changes.values(), alert_id])


def get_alert(db, alert_id: int) -> dict | None:
    rows = _rows(db, "SELECT * FROM alerts WHERE id = ?", [alert_id])
    return rows[0] if rows else None


def open_alerts_for_item(db, item_id: int) -> list[dict]:
    """Alerts still being worked (WORKFLOW_OPEN_STATUSES) on the item or on its cluster, by id."""
    marks = ", ".join("?" for _ in WORKFLOW_OPEN_STATUSES)
    return _rows(db, f"""SELECT a.* FROM alerts a JOIN items i ON i.id = ?
                         WHERE a.status IN ({marks})
                           AND (a.item_id = i.id OR (i.cluster_id IS NOT NULL AND a.cluster_id = i.cluster_id))
                         ORDER BY a.id""", [item_id, *WORKFLOW_OPEN_STATUSES])


def last_alert_id(db) -> int:
    """The newest alert's id (0 when there is none): ids only grow, so "raised since" is "id above"."""
    return db.execute("SELECT coalesce(max(id), 0) FROM alerts").fetchone()[0]


def alerts_after(db, after_id: int, limit: int = 50) -> list[dict]:
    """The alerts raised after alert `after_id`, oldest first (the dashboard's new-alert notice)."""
    return _rows(db, """SELECT id, kind, severity, title, status, created_at FROM alerts WHERE id > ?
                        ORDER BY id LIMIT ?""", [after_id, limit])


def last_escalation_id(db) -> int:
    """The newest escalation step's id (0 when none): a clock run out, recorded by escalate_overdue."""
    return db.execute("SELECT coalesce(max(id), 0) FROM alert_steps WHERE step LIKE 'escalated:%'").fetchone()[0]


def escalations_after(db, after_id: int, limit: int = 50) -> list[dict]:
    """The escalation steps after step `after_id`, oldest first, each with its alert's severity,
    title and status (the dashboard's notice of a clock run out)."""
    return _rows(db, """SELECT s.id, s.alert_id, s.step, s.at, a.severity, a.title, a.status, a.respond_by,
                               a.conference_by
                        FROM alert_steps s JOIN alerts a ON a.id = s.alert_id
                        WHERE s.id > ? AND s.step LIKE 'escalated:%' ORDER BY s.id LIMIT ?""", [after_id, limit])


def last_assignment_id(db) -> int:
    """The newest expert task's id (0 when none)."""
    return db.execute("SELECT coalesce(max(id), 0) FROM assignments").fetchone()[0]


def offers_after(db, expert_id: int, after_id: int, limit: int = 50) -> list[dict]:
    """The tasks offered to expert `expert_id` after task `after_id` and still waiting for their
    answer, oldest first, with their alert's severity and title (the expert's notice)."""
    return _rows(db, """SELECT g.id, g.alert_id, g.due_at, a.severity, a.title, a.status
                        FROM assignments g JOIN alerts a ON a.id = g.alert_id
                        WHERE g.id > ? AND g.expert_id = ? AND g.status = 'offered' ORDER BY g.id LIMIT ?""",
                 [after_id, expert_id, limit])


def last_referral_id(db) -> int:
    """The newest referral's id (0 when none)."""
    return db.execute("SELECT coalesce(max(id), 0) FROM referrals").fetchone()[0]


def referrals_after(db, unit_id: int, after_id: int, limit: int = 50) -> list[dict]:
    """The referrals to unit `unit_id` after referral `after_id` still awaiting its reply, oldest
    first, with their alert's severity, title and status (the correspondent's notice)."""
    return _rows(db, """SELECT r.id, r.alert_id, r.due_at, a.severity, a.title, a.status
                        FROM referrals r JOIN alerts a ON a.id = r.alert_id
                        WHERE r.id > ? AND r.unit_id = ? AND r.status = 'referred' ORDER BY r.id LIMIT ?""",
                 [after_id, unit_id, limit])


def list_alerts(db, status: str | None = None, limit: int = 500, now: str | None = None) -> list[dict]:
    """Alerts newest first. status: one of the alert statuses, 'active' (not closed) or 'overdue'."""
    where, params = [], []
    if status == "active":
        where.append(f"status IN ({', '.join('?' for _ in WORKFLOW_OPEN_STATUSES)})")
        params.extend(WORKFLOW_OPEN_STATUSES)
    elif status == "overdue":
        where.append(f"""status IN ({', '.join('?' for _ in WORKFLOW_OPEN_STATUSES)})
                         AND ((responded_at IS NULL AND respond_by <= ?)
                              OR (conference_by IS NOT NULL AND conference_at IS NULL AND conference_by <= ?))""")
        params.extend([*WORKFLOW_OPEN_STATUSES, now, now])
    elif status:
        where.append("status = ?")
        params.append(status)
    clause = (" WHERE " + " AND ".join(where)) if where else ""
    return _rows(db, f"SELECT * FROM alerts{clause} ORDER BY created_at DESC, id DESC LIMIT ?", [*params, limit])


def alert_ledger(db, start: str, end: str) -> list[dict]:
    """The alerts raised in [start, end), oldest first, each with its assigned expert's name, its
    latest published clarification's link and time, the reason it was last dismissed and when a
    special report on it first went to the leaders (rumourwatch.ledger)."""
    return _rows(db, """
        SELECT a.*, e.name AS expert_name, c.id AS clarification_id, c.published_url, c.published_at,
               (SELECT s.note FROM alert_steps s WHERE s.alert_id = a.id AND s.step = 'dismissed'
                ORDER BY s.id DESC LIMIT 1) AS dismiss_reason,
               (SELECT min(s.at) FROM alert_steps s WHERE s.alert_id = a.id AND s.step = 'briefing_sent')
                   AS briefing_sent_at
        FROM alerts a
        LEFT JOIN experts e ON e.id = a.assigned_expert
        LEFT JOIN clarifications c ON c.id = (SELECT id FROM clarifications WHERE alert_id = a.id
                                               AND status = 'published' ORDER BY published_at DESC, id DESC LIMIT 1)
        WHERE a.created_at >= ? AND a.created_at < ?
        ORDER BY a.created_at, a.id""", [start, end])


def add_alert_step(db, alert_id: int, step: str, at: str, actor: str, note: str | None = None) -> None:
    db.execute("INSERT INTO alert_steps (alert_id, step, at, actor, note) VALUES (?, ?, ?, ?, ?)",
               [alert_id, step, at, actor, note])


def alert_steps(db, alert_id: int) -> list[dict]:
    return _rows(db, "SELECT * FROM alert_steps WHERE alert_id = ? ORDER BY at, id", [alert_id])


def alerts_due_for_escalation(db, now: str) -> list[dict]:
    marks = ", ".join("?" for _ in WORKFLOW_OPEN_STATUSES)
    return _rows(db, f"""SELECT * FROM alerts WHERE status IN ({marks}) AND (
                           (responded_at IS NULL AND respond_escalated_at IS NULL AND respond_by <= ?)
                           OR (conference_by IS NOT NULL AND conference_at IS NULL
                               AND conference_escalated_at IS NULL AND conference_by <= ?))
                         ORDER BY id""", [*WORKFLOW_OPEN_STATUSES, now, now])


# notifications

def insert_notification(db, row: dict) -> int:
    return _insert(db, "notifications", row)


def due_notifications(db, now: str, limit: int = 200) -> list[dict]:
    return _rows(db, "SELECT * FROM notifications WHERE status = 'pending' AND next_attempt_at <= ? "
                     "ORDER BY urgent DESC, id LIMIT ?", [now, limit])


def record_delivery(db, notification_id: int, at: str, ok: bool, detail: str, next_attempt_at: str | None) -> None:
    """Log one delivery attempt and move the notification on (sent, or pending until the next try)."""
    db.execute("INSERT INTO notification_attempts (notification_id, at, ok, detail) VALUES (?, ?, ?, ?)",
               [notification_id, at, int(ok), detail])
    if ok:
        db.execute("UPDATE notifications SET status = 'sent', attempts = attempts + 1, sent_at = ?, "
                   "last_error = NULL WHERE id = ?", [at, notification_id])
    else:
        db.execute("UPDATE notifications SET attempts = attempts + 1, last_error = ?, next_attempt_at = ? "
                   "WHERE id = ?", [detail, next_attempt_at, notification_id])


def list_notifications(db, status: str | None = None, limit: int = 200) -> list[dict]:
    clause, params = ("", []) if not status else (" WHERE status = ?", [status])
    return _rows(db, f"SELECT * FROM notifications{clause} ORDER BY id DESC LIMIT ?", [*params, limit])


def delivery_log(db, notification_id: int | None = None, limit: int = 500) -> list[dict]:
    clause, params = ("", []) if notification_id is None else (" WHERE a.notification_id = ?", [notification_id])
    return _rows(db, f"""SELECT a.*, n.channel, n.target, n.event, n.subject, n.alert_id FROM notification_attempts a
                         JOIN notifications n ON n.id = a.notification_id{clause}
                         ORDER BY a.id DESC LIMIT ?""", [*params, limit])


# experts

EXPERT_COLUMNS = ("name", "title", "institution", "specialties", "level", "region", "capacity", "phone", "email",
                  "active", "languages")


def upsert_expert(db, row: dict, at: str) -> tuple[int, bool]:
    """Insert an expert or update the one with the same name and institution. Returns (id, created).
    An update leaves the columns `row` lacks as they were (a roster file without a languages column)."""
    existing = db.execute("SELECT id FROM experts WHERE name = ? AND institution = ?",
                          [row["name"], row["institution"]]).fetchone()
    if existing:
        columns = [c for c in EXPERT_COLUMNS if c in row]
        sets = ", ".join(f"{c} = ?" for c in columns)
        db.execute(f"UPDATE experts SET {sets}, updated_at = ? WHERE id = ?",
                   [*(row[c] for c in columns), at, existing[0]])
        return existing[0], False
    cols = ", ".join(EXPERT_COLUMNS)
    cur = db.execute(f"INSERT INTO experts ({cols}, created_at, updated_at) VALUES "
                     f"({', '.join('?' for _ in EXPERT_COLUMNS)}, ?, ?)", [*(row.get(c) for c in EXPERT_COLUMNS), at, at])
    return cur.lastrowid, True


def list_experts(db, active_only: bool = False) -> list[dict]:
    clause = " WHERE active = 1" if active_only else ""
    return _rows(db, f"SELECT * FROM experts{clause} ORDER BY id")


def expert_accounts(db) -> dict[int, str]:
    """{expert_id: username} of the active accounts linked to an expert of the pool."""
    return dict(db.execute("SELECT expert_id, username FROM users WHERE expert_id IS NOT NULL AND disabled = 0 "
                           "ORDER BY id").fetchall())


def get_expert(db, expert_id: int) -> dict | None:
    rows = _rows(db, "SELECT * FROM experts WHERE id = ?", [expert_id])
    return rows[0] if rows else None


def set_expert_active(db, expert_id: int, active: bool, at: str) -> None:
    db.execute("UPDATE experts SET active = ?, updated_at = ? WHERE id = ?", [int(active), at, expert_id])


def expert_loads(db) -> dict:
    """{expert_id: number of active assignments}."""
    marks = ", ".join("?" for _ in ASSIGNMENT_ACTIVE)
    return dict(db.execute(f"SELECT expert_id, count(*) FROM assignments WHERE status IN ({marks}) "
                           "GROUP BY expert_id", list(ASSIGNMENT_ACTIVE)).fetchall())


def expert_response_hours(db) -> dict:
    """{expert_id: [hours from offer to submitted draft]} over finished assignments."""
    out: dict = {}
    for expert_id, assigned_at, submitted_at in db.execute(
            "SELECT expert_id, assigned_at, submitted_at FROM assignments WHERE submitted_at IS NOT NULL"):
        a = datetime.fromisoformat(assigned_at.replace("Z", "+00:00"))
        s = datetime.fromisoformat(submitted_at.replace("Z", "+00:00"))
        out.setdefault(expert_id, []).append((s - a).total_seconds() / 3600)
    return out


# assignments

def insert_absence(db, row: dict) -> int:
    return _insert(db, "expert_absences", row)


def get_absence(db, absence_id: int) -> dict | None:
    rows = _rows(db, "SELECT * FROM expert_absences WHERE id = ?", [absence_id])
    return rows[0] if rows else None


def delete_absence(db, absence_id: int) -> None:
    db.execute("DELETE FROM expert_absences WHERE id = ?", [absence_id])


def absences_between(db, start: str, end: str, expert_id: int | None = None) -> list[dict]:
    """Experts' absences overlapping [start, end), with the expert's name, by start."""
    clause, params = (" AND a.expert_id = ?", [expert_id]) if expert_id is not None else ("", [])
    return _rows(db, f"""SELECT a.*, e.name AS expert_name, e.institution AS expert_institution
                         FROM expert_absences a JOIN experts e ON e.id = a.expert_id
                         WHERE a.ends_at > ? AND a.starts_at < ?{clause}
                         ORDER BY a.starts_at, a.id""", [start, end, *params])


# --- media requests for pool experts (媒体约请专家, rumourwatch.media) ---------------------------

def insert_media_request(db, row: dict) -> int:
    return _insert(db, "media_requests", row)


def _update_row(db, table: str, row_id: int, changes: dict) -> None:
    """UPDATE one row's {column: value} by id (names from this module's callers, never from input)."""
    sets = ", ".join(f"{c} = ?" for c in changes)
    db.execute(f"UPDATE {table} SET {sets} WHERE id = ?", [*changes.values(), row_id])


def update_media_request(db, request_id: int, changes: dict) -> None:
    _update_row(db, "media_requests", request_id, changes)


_MEDIA_REQUEST = """SELECT r.*, e.name AS expert_name, e.level AS expert_level, e.institution AS expert_institution
                    FROM media_requests r LEFT JOIN experts e ON e.id = r.expert_id"""  # with the expert now on it


def get_media_request(db, request_id: int) -> dict | None:
    rows = _rows(db, f"{_MEDIA_REQUEST} WHERE r.id = ?", [request_id])
    return rows[0] if rows else None


def media_requests(db, statuses: tuple[str, ...] | None = None, since: str | None = None,
                   until: str | None = None, limit: int = 500) -> list[dict]:
    """Requests by their time (newest first), with the expert now on each; filtered by status and
    by the time of the activity, [since, until)."""
    clauses, params = [], []
    if statuses:
        clauses.append(f"r.status IN ({', '.join('?' for _ in statuses)})")
        params += list(statuses)
    if since:
        clauses.append("r.starts_at >= ?")
        params.append(since)
    if until:
        clauses.append("r.starts_at < ?")
        params.append(until)
    where = f"WHERE {' AND '.join(clauses)}" if clauses else ""
    return _rows(db, f"{_MEDIA_REQUEST} {where} ORDER BY r.starts_at DESC, r.id DESC LIMIT ?", [*params, limit])


def insert_media_offer(db, row: dict) -> int:
    return _insert(db, "media_offers", row)


def update_media_offer(db, offer_id: int, changes: dict) -> None:
    _update_row(db, "media_offers", offer_id, changes)


def get_media_offer(db, offer_id: int) -> dict | None:
    rows = _rows(db, "SELECT * FROM media_offers WHERE id = ?", [offer_id])
    return rows[0] if rows else None


def media_offers(db, request_id: int) -> list[dict]:
    """A request's offers, first first, with each expert's name and level."""
    return _rows(db, """SELECT o.*, e.name AS expert_name, e.level AS expert_level FROM media_offers o
                        JOIN experts e ON e.id = o.expert_id WHERE o.request_id = ? ORDER BY o.id""", [request_id])


def expert_media_offers(db, expert_id: int, statuses: tuple[str, ...]) -> list[dict]:
    """An expert's offers in these statuses with their requests, soonest activity first."""
    return _rows(db, f"""SELECT o.id AS offer_id, o.status AS offer_status, o.offered_at, o.responded_at, o.reason,
                                r.*
                         FROM media_offers o JOIN media_requests r ON r.id = o.request_id
                         WHERE o.expert_id = ? AND o.status IN ({', '.join('?' for _ in statuses)})
                         ORDER BY r.starts_at, o.id""", [expert_id, *statuses])


def media_offers_to_chase(db, offered_before: str, starting_before: str) -> list[dict]:
    """Offers still unanswered and not yet chased, made before `offered_before` or for an activity
    starting before `starting_before`, with their request and the expert's name and address."""
    return _rows(db, """SELECT o.id AS offer_id, o.offered_at, o.expert_id, e.name AS expert_name, e.email AS expert_email,
                               r.*
                        FROM media_offers o JOIN media_requests r ON r.id = o.request_id
                        JOIN experts e ON e.id = o.expert_id
                        WHERE o.status = 'offered' AND o.reminded_at IS NULL
                          AND (o.offered_at <= ? OR r.starts_at <= ?)
                        ORDER BY r.starts_at, o.id""", [offered_before, starting_before])


def media_offer_counts(db, start: str | None = None, end: str | None = None) -> dict[int, dict[str, int]]:
    """Per expert: media offers made in [start, end) by their status now ({expert_id: {status: n}})."""
    clause, params = "", []
    if start:
        clause += " AND offered_at >= ?"
        params.append(start)
    if end:
        clause += " AND offered_at < ?"
        params.append(end)
    out: dict[int, dict[str, int]] = {}
    for expert_id, status, n in db.execute(f"""SELECT expert_id, status, count(*) FROM media_offers WHERE 1 = 1{clause}
                                               GROUP BY expert_id, status""", params).fetchall():
        out.setdefault(expert_id, {})[status] = n
    return out


def insert_assignment(db, row: dict) -> int:
    return _insert(db, "assignments", row)


def update_assignment(db, assignment_id: int, changes: dict) -> None:
    sets = ", ".join(f"{c} = ?" for c in changes)
    db.execute(f"UPDATE assignments SET {sets} WHERE id = ?", [*changes.values(), assignment_id])


def get_assignment(db, assignment_id: int) -> dict | None:
    rows = _rows(db, "SELECT * FROM assignments WHERE id = ?", [assignment_id])
    return rows[0] if rows else None


def alert_assignments(db, alert_id: int) -> list[dict]:
    return _rows(db, """SELECT a.*, e.name AS expert_name, e.institution AS expert_institution
                        FROM assignments a JOIN experts e ON e.id = a.expert_id
                        WHERE a.alert_id = ? ORDER BY a.id""", [alert_id])


def expert_assignments(db, expert_id: int | None = None, statuses: tuple | None = None) -> list[dict]:
    where, params = [], []
    if expert_id is not None:
        where.append("a.expert_id = ?")
        params.append(expert_id)
    if statuses:
        where.append(f"a.status IN ({', '.join('?' for _ in statuses)})")
        params.extend(statuses)
    clause = (" WHERE " + " AND ".join(where)) if where else ""
    return _rows(db, f"""SELECT a.*, e.name AS expert_name, al.severity, al.title AS alert_title, al.item_id,
                                al.cluster_id, al.topic, al.respond_by, al.status AS alert_status
                         FROM assignments a JOIN experts e ON e.id = a.expert_id JOIN alerts al ON al.id = a.alert_id
                         {clause} ORDER BY a.due_at, a.id""", params)


def assignments_due_for_reminder(db, now: str, until: str) -> list[dict]:
    """Accepted tasks, not yet reminded nor escalated, whose deadline falls in (now, until]."""
    return _rows(db, """SELECT * FROM assignments WHERE status = 'accepted' AND reminded_at IS NULL
                        AND escalated_at IS NULL AND due_at > ? AND due_at <= ? ORDER BY due_at, id""", [now, until])


def assignments_due_for_escalation(db, now: str) -> list[dict]:
    return _rows(db, """SELECT * FROM assignments WHERE status IN ('offered', 'accepted') AND escalated_at IS NULL
                        AND due_at <= ? ORDER BY id""", [now])


# clarifications

def insert_clarification(db, row: dict) -> int:
    return _insert(db, "clarifications", row)


def update_clarification(db, clarification_id: int, changes: dict) -> None:
    sets = ", ".join(f"{c} = ?" for c in changes)
    db.execute(f"UPDATE clarifications SET {sets} WHERE id = ?", [*changes.values(), clarification_id])


def get_clarification(db, clarification_id: int) -> dict | None:
    rows = _rows(db, "SELECT * FROM clarifications WHERE id = ?", [clarification_id])
    return rows[0] if rows else None


def clarifications_for_alert(db, alert_id: int) -> list[dict]:
    return _rows(db, "SELECT * FROM clarifications WHERE alert_id = ? ORDER BY id", [alert_id])


def clarifications_by_status(db, status: str, limit: int = 200, expert_id: int | None = None) -> list[dict]:
    """The clarifications in `status`, latest change first; `expert_id`: that expert's only."""
    clause = " AND expert_id = ?" if expert_id is not None else ""
    return _rows(db, f"SELECT * FROM clarifications WHERE status = ?{clause} ORDER BY updated_at DESC LIMIT ?",
                 [status, *([expert_id] if expert_id is not None else []), limit])


def published_clarification_for_cluster(db, cluster_id: int | None, item_id: int) -> dict | None:
    """The latest published clarification covering the item's cluster (or the lone item)."""
    if cluster_id is None:
        rows = _rows(db, """SELECT c.* FROM clarifications c JOIN alerts a ON a.id = c.alert_id
                            WHERE c.status = 'published' AND a.item_id = ? ORDER BY c.published_at DESC LIMIT 1""",
                     [item_id])
    else:
        rows = _rows(db, "SELECT * FROM clarifications WHERE status = 'published' AND cluster_id = ? "
                         "ORDER BY published_at DESC LIMIT 1", [cluster_id])
    return rows[0] if rows else None


def clarified_items(db, item_ids: list[int], until: str) -> dict[int, dict]:
    """Per item of item_ids that a clarification published here by `until` covers, the latest such
    clarification (id, title, published_url), as published_clarification_for_cluster picks it: its
    cluster's, or for an item in no cluster its own alert's. Such an item is 已辟谣 whatever its
    text's similarity to the stated claim."""
    if not item_ids:
        return {}
    marks = ", ".join("?" for _ in item_ids)
    rows = _rows(db, f"""SELECT i.id AS item_id, c.id AS id, c.title AS title, c.published_url AS published_url,
                                c.published_at AS published_at
                         FROM items i JOIN clarifications c ON c.cluster_id = i.cluster_id
                         WHERE i.id IN ({marks}) AND c.status = 'published' AND c.published_at <= ?
                         UNION ALL
                         SELECT a.item_id, c.id, c.title, c.published_url, c.published_at
                         FROM alerts a JOIN clarifications c ON c.alert_id = a.id
                         JOIN items i ON i.id = a.item_id AND i.cluster_id IS NULL
                         WHERE a.item_id IN ({marks}) AND c.status = 'published' AND c.published_at <= ?
                         ORDER BY published_at, id""", [*item_ids, until, *item_ids, until])
    return {r.pop("item_id"): r for r in rows}  # the latest last


def mark_clarified(db, clarification_id: int) -> int:
    """Mark the items a just-published clarification covers (clarified_items) 已辟谣, pointing at it,
    so that they show it before the worker next scores them. Returns how many (in the caller's
    transaction)."""
    c = get_clarification(db, clarification_id)
    if c["cluster_id"] is None:
        where, params = "id = (SELECT item_id FROM alerts WHERE id = ?) AND cluster_id IS NULL", [c["alert_id"]]
    else:
        where, params = "cluster_id = ?", [c["cluster_id"]]
    return db.execute(f"UPDATE items SET already_debunked = 1, debunk_clarification_id = ? WHERE {where}",
                      [clarification_id, *params]).rowcount


def published_claims(db, until: str) -> list[dict]:
    """The clarifications published here by `until`, each with the claim its expert stated
    (`claim`, None when not stated) and its alert's item text (`item_text`). Newest first."""
    return _rows(db, """SELECT c.id, c.alert_id, c.title, c.published_url, c.published_at, c.claim, i.text AS item_text
                        FROM clarifications c JOIN alerts a ON a.id = c.alert_id
                        LEFT JOIN items i ON i.id = a.item_id
                        WHERE c.status = 'published' AND c.published_at <= ?
                        ORDER BY c.published_at DESC, c.id DESC""", [until])


FEED_CLARIFICATION = f"""quality_flags LIKE '%"{CLARIFICATION_FLAG}"%'"""  # as idx_items_clarifier reads it


def feed_clarifications(db, until: str, limit: int = 20000, after_id: int | None = None) -> list[dict]:
    """The posts of clarification publishers published by `until` (rumourwatch.clarifiers), newest
    first, at most `limit` (older ones are left out); with `after_id`, only those stored after that
    item: id, title, text, url, platform, account, published_at."""
    clause, params = (" AND id > ?", [after_id]) if after_id is not None else ("", [])
    return _rows(db, f"""SELECT id, title, text, url, platform, account, published_at FROM items
                         INDEXED BY idx_items_clarifier WHERE {FEED_CLARIFICATION} AND published_at <= ?{clause}
                         ORDER BY published_at DESC, id DESC LIMIT ?""", [until, *params, limit])


def feed_signature(db, until: str) -> tuple[int, int]:
    """(how many, newest id) of the clarification publishers' posts published by `until`: what
    feed_clarifications would return changes only with it (read from the partial index alone)."""
    return tuple(db.execute(f"""SELECT count(*), coalesce(max(id), 0) FROM items INDEXED BY idx_items_clarifier
                                WHERE {FEED_CLARIFICATION} AND published_at <= ?""", [until]).fetchone())


def recent_item_texts(db, since: str) -> list[dict]:
    """id and text of the items published since `since` that are not known to be unrelated to
    health (unscored items included), oldest first."""
    return _rows(db, """SELECT id, text FROM items WHERE published_at >= ? AND coalesce(health_related, 1) = 1
                        ORDER BY published_at, id""", [since])


def latest_debunk_score(db, item_id: int) -> float | None:
    """The similarity of the item's debunk match in its latest score (None when unscored)."""
    score = latest_score(db, item_id)
    return None if score is None else score["debunk_score"]


def published_clarifications(db, topic: str | None = None, limit: int = 20) -> list[dict]:
    if topic:
        return _rows(db, """SELECT c.* FROM clarifications c JOIN alerts a ON a.id = c.alert_id
                            WHERE c.status = 'published' AND a.topic = ? ORDER BY c.published_at DESC LIMIT ?""",
                     [topic, limit])
    return _rows(db, "SELECT * FROM clarifications WHERE status = 'published' ORDER BY published_at DESC LIMIT ?",
                 [limit])


def count_published_clarifications(db, topic: str) -> int:
    """How many clarifications were published here on alerts of `topic`."""
    return db.execute("""SELECT count(*) FROM clarifications c JOIN alerts a ON a.id = c.alert_id
                         WHERE c.status = 'published' AND a.topic = ?""", [topic]).fetchone()[0]


def published_clarification_list(db, words: list[str] | tuple = (), limit: int = 200) -> list[dict]:
    """The clarifications published here, newest first, with their expert's name and their alert's
    topic (辟谣知识库). Each of `words` must appear in the title, the claim or the body."""
    where, params = ["c.status = 'published'"], []
    for word in words:
        where.append("(c.title LIKE ? ESCAPE '\\' OR c.claim LIKE ? ESCAPE '\\' OR c.body LIKE ? ESCAPE '\\')")
        params += [_like_pattern(word)] * 3
    return _rows(db, f"""SELECT c.id, c.alert_id, c.title, c.claim, c.body, c.published_url, c.published_at,
                                e.name AS expert_name, e.institution AS expert_institution, a.topic
                         FROM clarifications c LEFT JOIN experts e ON e.id = c.expert_id
                         LEFT JOIN alerts a ON a.id = c.alert_id
                         WHERE {' AND '.join(where)} ORDER BY c.published_at DESC, c.id DESC LIMIT ?""",
                 [*params, limit])


# verdicts, watchlist, takedowns

def insert_verdict(db, row: dict) -> int:
    return _insert(db, "verdicts", row)


def verdicts_for_item(db, item_id: int) -> list[dict]:
    return _rows(db, """SELECT v.* FROM verdicts v JOIN items i ON i.id = ?
                        WHERE v.item_id = i.id OR (i.cluster_id IS NOT NULL AND v.cluster_id = i.cluster_id)
                        ORDER BY v.at DESC, v.id DESC""", [item_id])


_VERDICT_LABELS = """WITH latest AS (
                         SELECT *, row_number() OVER (PARTITION BY coalesce(cluster_id, -item_id)
                                                      ORDER BY at DESC, id DESC) AS rn FROM verdicts),
                       spread AS (
                         SELECT i.id AS item_id, i.cluster_id, l.id AS verdict_id, l.verdict, l.reason,
                                l.actor, l.at,
                                row_number() OVER (PARTITION BY i.id ORDER BY l.at DESC, l.id DESC) AS rn
                         FROM latest l JOIN items i
                           ON (l.cluster_id IS NOT NULL AND i.cluster_id = l.cluster_id)
                              OR (l.cluster_id IS NULL AND i.id = l.item_id)
                         WHERE l.rn = 1)
                       SELECT item_id, cluster_id, verdict_id, verdict, reason, actor, at
                       FROM spread WHERE rn = 1"""


def verdict_labels(db) -> list[dict]:
    """Each item's verdict as the workflow reads it: the latest verdict (by time, then id) given on
    the item or on its cluster, whose items are copies of one claim. One row per item, by item id.
    (An item judged alone and later clustered has both kinds; the later verdict counts.)"""
    return _rows(db, _VERDICT_LABELS + " ORDER BY item_id")


def _not_cleared(db, table: str = "") -> str:
    """SQL condition (" AND …") leaving out items whose verdict (`verdict_labels`) is 'not_rumour': a
    monitor or expert judged them, or a copy of them, not a rumour. `table` is a prefix like "i.".
    A store without the workflow (reports read such stores too) has no verdicts to apply."""
    if not has_tables(db, "verdicts"):
        return ""
    return f" AND {table}id NOT IN (SELECT item_id FROM ({_VERDICT_LABELS}) WHERE verdict = 'not_rumour')"


def confirmed_false_items(db, since: str | None, until: str | None) -> list[dict]:
    """Items whose cluster's latest verdict is 'rumour', published in [since, until)."""
    where, params = [], []
    if since:
        where.append("i.published_at >= ?")
        params.append(since)
    if until:
        where.append("i.published_at < ?")
        params.append(until)
    clause = (" AND " + " AND ".join(where)) if where else ""
    return _rows(db, f"""WITH latest AS (
                           SELECT *, row_number() OVER (PARTITION BY coalesce(cluster_id, -item_id)
                                                        ORDER BY at DESC, id DESC) AS rn FROM verdicts)
                         SELECT i.id, i.platform, i.account, i.author, i.url, i.published_at, i.repost_num,
                                i.comment_num, i.like_num, i.user_json, i.cluster_id, i.topic
                         FROM latest l JOIN items i
                           ON (l.cluster_id IS NOT NULL AND i.cluster_id = l.cluster_id)
                              OR (l.cluster_id IS NULL AND i.id = l.item_id)
                         WHERE l.rn = 1 AND l.verdict = 'rumour'{clause}
                         ORDER BY i.published_at""", params)


def insert_tip(db, row: dict) -> int:
    return _insert(db, "tips", row)


def find_tip(db, channel: str, work_order: str) -> dict | None:
    rows = _rows(db, "SELECT * FROM tips WHERE channel = ? AND work_order = ? ORDER BY id LIMIT 1",
                 [channel, work_order])
    return rows[0] if rows else None


def story_tips(db, item_id: int, since: str | None = None) -> dict:
    """The tips naming an item's story (its cluster, else the item), received since `since` (ISO)
    when given: {"n", "last" (ISO received time or None), "channels": {channel: n}}."""
    rows = db.execute("""SELECT t.channel, count(*), max(t.received_at) FROM tips t JOIN items i ON i.id = t.item_id
                         WHERE (i.id = ? OR i.cluster_id = (SELECT cluster_id FROM items WHERE id = ?))
                           AND t.received_at >= ?
                         GROUP BY t.channel ORDER BY count(*) DESC, t.channel""",
                      [item_id, item_id, since or ""]).fetchall()
    return {"n": sum(r[1] for r in rows), "last": max((r[2] for r in rows), default=None),
            "channels": {r[0]: r[1] for r in rows}}


def tips_after(db, after_id: int) -> list[dict]:
    """Tips recorded after tip id `after_id`, in order, with their item's cluster."""
    return _rows(db, """SELECT t.id, t.item_id, i.cluster_id FROM tips t JOIN items i ON i.id = t.item_id
                        WHERE t.id > ? ORDER BY t.id""", [after_id])


def list_tips(db, start: str | None = None, limit: int = 500) -> list[dict]:
    """Tips received since `start` (ISO), newest first, with their item's platform, text and scores,
    and how many tips name the item's story (its cluster, else the item)."""
    where, params = ("WHERE t.received_at >= ?", [start]) if start else ("", [])
    return _rows(db, f"""
        SELECT t.id, t.item_id, t.channel, t.received_at, t.recorded_by, t.recorded_at, t.work_order, t.note,
               i.platform, i.account, i.url, substr(i.text, 1, 300) AS text, i.rumour_probability, i.is_rumour,
               i.health_related, i.already_debunked, i.scored_at, i.cluster_id,
               (SELECT count(*) FROM tips t2 JOIN items i2 ON i2.id = t2.item_id
                WHERE (i.cluster_id IS NOT NULL AND i2.cluster_id = i.cluster_id) OR t2.item_id = i.id) AS story_tips
        FROM tips t JOIN items i ON i.id = t.item_id {where}
        ORDER BY t.received_at DESC, t.id DESC LIMIT ?""", [*params, limit])


def insert_takedown(db, row: dict) -> int:
    return _insert(db, "takedowns", row)


def update_takedown(db, takedown_id: int, changes: dict) -> None:
    sets = ", ".join(f"{c} = ?" for c in changes)
    db.execute(f"UPDATE takedowns SET {sets} WHERE id = ?", [*changes.values(), takedown_id])


def get_takedown(db, takedown_id: int) -> dict | None:
    rows = _rows(db, "SELECT * FROM takedowns WHERE id = ?", [takedown_id])
    return rows[0] if rows else None


def list_takedowns(db, status: str | None = None, limit: int = 500) -> list[dict]:
    clause, params = ("", []) if not status else (" WHERE status = ?", [status])
    return _rows(db, f"SELECT * FROM takedowns{clause} ORDER BY id DESC LIMIT ?", [*params, limit])



# a shift's work, for its handover (rumourwatch.handover): each over [start, end)

def alert_steps_between(db, start: str, end: str) -> list[dict]:
    return _rows(db, "SELECT step, actor, alert_id FROM alert_steps WHERE at >= ? AND at < ? ORDER BY at, id",
                 [start, end])


def verdict_counts_between(db, start: str, end: str) -> dict[str, int]:
    return dict(db.execute("SELECT verdict, count(*) FROM verdicts WHERE at >= ? AND at < ? GROUP BY verdict",
                           [start, end]).fetchall())


def takedown_counts_between(db, start: str, end: str) -> dict[str, int]:
    """Requests made in the window ('requested') and outcomes recorded in it ('removed', 'refused')."""
    made = db.execute("SELECT count(*) FROM takedowns WHERE requested_at >= ? AND requested_at < ?",
                      [start, end]).fetchone()[0]
    outcomes = dict(db.execute("""SELECT status, count(*) FROM takedowns WHERE status != 'requested'
                                  AND outcome_at >= ? AND outcome_at < ? GROUP BY status""", [start, end]).fetchall())
    return {"requested": made, "removed": outcomes.get("removed", 0), "refused": outcomes.get("refused", 0)}


def insert_handover(db, row: dict) -> int:
    return _insert(db, "handovers", row)


def get_handover(db, handover_id: int) -> dict | None:
    rows = _rows(db, "SELECT * FROM handovers WHERE id = ?", [handover_id])
    return rows[0] if rows else None


def list_handovers(db, limit: int = 30) -> list[dict]:
    """Handovers, latest first."""
    return _rows(db, "SELECT * FROM handovers ORDER BY created_at DESC, id DESC LIMIT ?", [limit])


def mark_handover_received(db, handover_id: int, user: str, at: str) -> None:
    db.execute("UPDATE handovers SET received_by = ?, received_at = ? WHERE id = ?", [user, at, handover_id])

# (end of workflow section)


# --- one story, for its special report (rumourwatch.briefing) ---------------------------------

def _story_cond(cluster_id: int | None, item_id: int) -> tuple[str, int]:
    """The items of an alert's story: its cluster, else its one item."""
    return ("cluster_id = ?", cluster_id) if cluster_id is not None else ("id = ?", item_id)


def story_spread(db, cluster_id: int | None, item_id: int) -> dict:
    """How far a story went: its items, accounts, first item, platforms, engagement and opinion
    (its reactions: story_reaction_texts)."""
    cond, param = _story_cond(cluster_id, item_id)
    row = db.execute(
        f"""SELECT count(*), count(DISTINCT nullif(account, '')), min(published_at), max(published_at),
                   coalesce(sum(repost_num), 0), coalesce(sum(comment_num), 0), coalesce(sum(like_num), 0)
            FROM items WHERE {cond}""", [param]).fetchone()
    platforms = db.execute(f"SELECT platform, count(*) FROM items WHERE {cond} GROUP BY platform "
                           "ORDER BY count(*) DESC, platform", [param]).fetchall()
    polarity = db.execute(f"SELECT polarity, count(*) FROM items WHERE {cond} AND polarity IS NOT NULL "
                          "GROUP BY polarity", [param]).fetchall()
    first = _rows(db, f"SELECT id, platform, account FROM items WHERE {cond} ORDER BY published_at, id LIMIT 1",
                  [param])
    return {"items": row[0], "accounts": row[1], "first_at": row[2], "last_at": row[3],
            "first_item": first[0] if first else None,
            "repost_num": row[4], "comment_num": row[5], "like_num": row[6],
            "platforms": dict(platforms), "polarity": dict(polarity)}


def story_item_hours(db, cluster_id: int | None, item_id: int) -> dict:
    """Items of the story published per UTC hour ('YYYY-MM-DDTHH': n)."""
    cond, param = _story_cond(cluster_id, item_id)
    return dict(db.execute(f"SELECT substr(published_at, 1, 13), count(*) FROM items WHERE {cond} GROUP BY 1",
                           [param]).fetchall())


def story_top_items(db, cluster_id: int | None, item_id: int, limit: int = 10) -> list[dict]:
    """The story's most spread items (reactions and engagement), as feed rows."""
    cond, param = _story_cond(cluster_id, item_id)
    return _rows(db, f"""SELECT {FEED_COLUMNS}, like_num FROM items WHERE {cond}
                         ORDER BY max(reaction_count, repost_num + comment_num) DESC, published_at, id LIMIT ?""",
                 [param, limit])


def story_reaction_texts(db, cluster_id: int | None, item_id: int) -> list[dict]:
    """Every reaction to the story's items, earliest first: kind, time and words (not who). One pass
    gives the special report its counts by kind and by hour and the reactions it quotes."""
    cond, param = _story_cond(cluster_id, item_id)
    return _rows(db, f"""SELECT r.kind, r.at, r.text FROM reactions r
                         WHERE r.item_id IN (SELECT id FROM items WHERE {cond}) ORDER BY r.at, r.id""", [param])


def story_takedowns(db, cluster_id: int | None, item_id: int) -> list[dict]:
    """Takedown requests for any of the story's items, oldest first."""
    cond, param = _story_cond(cluster_id, item_id)
    return _rows(db, f"""SELECT * FROM takedowns WHERE item_id IN (SELECT id FROM items WHERE {cond})
                         ORDER BY requested_at, id""", [param])


def story_activity(db, cluster_id: int | None, item_id: int, start: str, mid: str, end: str,
                   words: bool = True) -> dict:
    """A story's new items and reactions in [start, mid) ("before") and [mid, end) ("after"): the
    counts, and with `words` each reaction's text (to read what it says). Ads and debunk platforms'
    posts are not the story's spread (`_rumour_candidate`), nor are the reactions to them."""
    cond, param = _story_cond(cluster_id, item_id)
    story = f"{cond}{_rumour_candidate()}"
    n = db.execute(f"""SELECT coalesce(sum(published_at < ?), 0), coalesce(sum(published_at >= ?), 0) FROM items
                       WHERE {story} AND published_at >= ? AND published_at < ?""",
                   [mid, mid, param, start, end]).fetchone()
    out = {"before": {"items": n[0]}, "after": {"items": n[1]}}
    ids = f"SELECT id FROM items WHERE {story}"
    if words:
        rows = db.execute(f"""SELECT r.at >= ?, r.text FROM reactions r WHERE r.item_id IN ({ids})
                              AND r.at >= ? AND r.at < ?""", [mid, param, start, end]).fetchall()
        for side, key in ((0, "before"), (1, "after")):
            texts = [t for a, t in rows if a == side]
            out[key].update(reactions=len(texts), texts=texts)
    else:
        r = db.execute(f"""SELECT coalesce(sum(r.at < ?), 0), count(*) FROM reactions r WHERE r.item_id IN ({ids})
                           AND r.at >= ? AND r.at < ?""", [mid, param, start, end]).fetchone()
        out["before"]["reactions"], out["after"]["reactions"] = r[0], r[1] - r[0]
    return out


def insert_item_tags(db, rows: list[tuple[int, str, str]]) -> None:
    """(item_id, tag, published_at) rows of items' hashtags (ingest; 0023_item_tags)."""
    if rows:
        db.conn.executemany("INSERT OR IGNORE INTO item_tags (item_id, tag, published_at) VALUES (?, ?, ?)", rows)


def _tagged_health(start: str, end: str, platforms: list[str] | None) -> tuple[str, list]:
    """FROM/WHERE of the health items with a hashtag published in [start, end), advertisements left
    out, one row per (item, tag)."""
    clause = f" AND i.platform IN ({', '.join('?' for _ in platforms)})" if platforms else ""
    return (f"""FROM item_tags t JOIN items i ON i.id = t.item_id
                WHERE t.published_at >= ? AND t.published_at < ? AND i.health_related = 1{clause}
                  {_without_flags(AD_FLAG, table="i.")}""", [start, end, *(platforms or [])])


def tag_figures(db, start: str, end: str, threshold: float, platforms: list[str] | None = None) -> list[dict]:
    """Per hashtag of the health items published in [start, end): its stories (clusters, an item
    without one its own), items, accounts (an item without one its own), negative and flagged items
    (rumour probability ≥ threshold) and its latest item's time (rumourwatch.trending)."""
    body, params = _tagged_health(start, end, platforms)
    return _rows(db, f"""SELECT t.tag, count(DISTINCT coalesce(i.cluster_id, -i.id)) AS stories, count(*) AS items,
                                count(DISTINCT coalesce(nullif(i.account, ''), '#item:' || i.id)) AS accounts,
                                sum(i.polarity = 'negative') AS negative,
                                sum(coalesce(i.rumour_probability, 0) >= ?) AS flagged,
                                max(i.published_at) AS latest_at
                         {body} GROUP BY t.tag""", [threshold, *params])


def tag_stories(db, start: str, end: str, platforms: list[str] | None = None) -> dict[str, int]:
    """{hashtag: its stories} among the health items published in [start, end) (tag_figures' count)."""
    body, params = _tagged_health(start, end, platforms)
    return dict(db.execute(f"SELECT t.tag, count(DISTINCT coalesce(i.cluster_id, -i.id)) {body} GROUP BY t.tag",
                           params).fetchall())


def earliest_published(db) -> str | None:
    """When the store's first item was published (ISO), None for an empty store."""
    return db.execute("SELECT min(published_at) FROM items").fetchone()[0]


def tag_items(db, tag: str, start: str, end: str, min_probability: float = 0.0, limit: int = 10) -> list[dict]:
    """The health items under hashtag #tag# published in [start, end) with a rumour probability of at
    least `min_probability`, likeliest first, one per story (what a tag surge alert is made of)."""
    rows = _rows(db, f"""SELECT {FEED_COLUMNS}, like_num FROM items
                         WHERE published_at >= ? AND published_at < ? AND health_related = 1
                           AND instr(text, ?) > 0 AND rumour_probability >= ?{_rumour_candidate()}
                         ORDER BY rumour_probability DESC, published_at DESC, id LIMIT ?""",
                 [start, end, f"#{tag}#", min_probability, limit * 50])  # copies of a few stories: enough
    seen, out = set(), []
    for r in rows:
        story = r["cluster_id"] if r["cluster_id"] is not None else -r["id"]
        if story not in seen:
            seen.add(story)
            out.append(r)
        if len(out) >= limit:
            break
    return out


def story_items_since(db, cluster_id: int | None, item_id: int, since: str, limit: int = 10) -> tuple[int, list[dict]]:
    """The story's items published at or after `since` (ads and debunk platforms' posts left out):
    how many, and the latest `limit` of them as feed rows."""
    cond, param = _story_cond(cluster_id, item_id)
    where = f"{cond}{_rumour_candidate()} AND published_at >= ?"
    n = db.execute(f"SELECT count(*) FROM items WHERE {where}", [param, since]).fetchone()[0]
    rows = _rows(db, f"SELECT {FEED_COLUMNS}, like_num FROM items WHERE {where} ORDER BY published_at DESC, id DESC "
                     "LIMIT ?", [param, since, limit]) if n else []
    return n, rows


def unclarified_story_alerts(db, since: str, until: str, limit: int = 200) -> list[dict]:
    """Alerts on one story (an item) created in [since, until), not dismissed, with no clarification
    published for them: how stories go on without one (the reference for a clarification's effect)."""
    return _rows(db, """SELECT a.id, a.item_id, a.cluster_id, a.created_at FROM alerts a
                        WHERE a.item_id IS NOT NULL AND a.status != 'dismissed'
                          AND a.created_at >= ? AND a.created_at < ?
                          AND NOT EXISTS (SELECT 1 FROM clarifications c WHERE c.alert_id = a.id
                                          AND c.status = 'published')
                        ORDER BY a.created_at DESC, a.id DESC LIMIT ?""", [since, until, limit])


def negative_topic_items(db, topic: str, start: str, end: str, limit: int = 10) -> list[dict]:
    """The most spread negative health items of a topic published in [start, end): what an opinion
    spike on that topic is made of."""
    return _rows(db, f"""SELECT {FEED_COLUMNS}, like_num FROM items
                         WHERE topic = ? AND polarity = 'negative' AND health_related = 1
                           AND published_at >= ? AND published_at < ?
                         ORDER BY max(reaction_count, repost_num + comment_num) DESC, published_at DESC, id
                         LIMIT ?""", [topic, start, end, limit])


# --- risk points (rumourwatch.risk) ---------------------------------------------------------------
# A week is a Monday-first week of the item's China date: "recurring" counts the weeks something came back.
# Advertisements and debunk platforms' posts are no risk points (_rumour_candidate), as on the live list.

def topic_counts(db, start: str, end: str, threshold: float, rumour_candidates: bool = True,
                 platforms: list[str] | None = None) -> list[dict]:
    """Per topic, the health items published in [start, end): how many, negative, flagged (rumour
    probability ≥ threshold), and in how many weeks a flagged one appeared. `rumour_candidates`
    leaves ads and debunk platforms' posts out (the risk points); the reports' topic section counts
    every health item, as their volume does; `platforms` keeps those only."""
    clause = _rumour_candidate() if rumour_candidates else ""
    if platforms:
        clause += f" AND platform IN ({', '.join('?' for _ in platforms)})"
    return _rows(db, f"""
        SELECT coalesce(topic, '') AS topic, count(*) AS items,
               coalesce(sum(polarity = 'negative'), 0) AS negative,
               coalesce(sum(rumour_probability >= ?), 0) AS flagged,
               count(DISTINCT CASE WHEN rumour_probability >= ? THEN strftime('%Y-%W', published_day) END)
                   AS flagged_weeks
        FROM items WHERE published_at >= ? AND published_at < ? AND health_related = 1{clause}
        GROUP BY coalesce(topic, '')""", [threshold, threshold, start, end, *(platforms or [])])


def topic_day_counts(db, start: str, end: str, threshold: float) -> list[dict]:
    """Per China-time day and topic, the health items published in [start, end) and the flagged
    ones (rumour probability ≥ threshold), ads and debunk platforms' posts left out as in
    `topic_counts`; read from the health items' period index."""
    return _rows(db, f"""
        SELECT published_day AS day, coalesce(topic, '') AS topic, count(*) AS items,
               coalesce(sum(rumour_probability >= ?), 0) AS flagged
        FROM items WHERE published_at >= ? AND published_at < ? AND health_related = 1{_rumour_candidate()}
        GROUP BY published_day, coalesce(topic, '')""", [threshold, start, end])


def risk_accounts(db, start: str, end: str, threshold: float, limit: int) -> list[dict]:
    """Accounts with flagged health items published in [start, end), most flagged first: their
    items, negative and flagged ones, the weeks a flagged one appeared, the latest flagged."""
    return _rows(db, f"""
        SELECT platform, account, count(*) AS items, coalesce(sum(polarity = 'negative'), 0) AS negative,
               coalesce(sum(rumour_probability >= ?), 0) AS flagged,
               count(DISTINCT CASE WHEN rumour_probability >= ? THEN strftime('%Y-%W', published_day) END)
                   AS flagged_weeks,
               max(CASE WHEN rumour_probability >= ? THEN published_at END) AS last_flagged_at
        FROM items WHERE published_at >= ? AND published_at < ? AND health_related = 1
          AND account IS NOT NULL AND account != ''{_rumour_candidate()}
        GROUP BY platform, account HAVING flagged > 0
        ORDER BY flagged DESC, flagged_weeks DESC, negative DESC, platform, account LIMIT ?""",
                 [threshold, threshold, threshold, start, end, limit])


def risk_region_rows(db, start: str, end: str, threshold: float) -> list[tuple]:
    """(user_json, extra_json, negative, flagged, week) of the health items of [start, end) that carry
    account or item facts, where their region can be read (alerts.item_region)."""
    return db.execute(f"""
        SELECT user_json, extra_json, polarity = 'negative', coalesce(rumour_probability >= ?, 0),
               strftime('%Y-%W', published_day)
        FROM items WHERE published_at >= ? AND published_at < ? AND health_related = 1
          AND (user_json IS NOT NULL OR extra_json IS NOT NULL){_rumour_candidate()}""",
                      [threshold, start, end]).fetchall()


def account_counts(db, platform: str, account: str, start: str, end: str, threshold: float) -> dict:
    """One account's health items published in [start, end): how many, negative, flagged, the weeks
    a flagged one appeared in, the latest flagged, and its items of any kind confirmed false
    (rumourwatch.risk.account_record)."""
    row = db.execute(f"""
        SELECT count(*), coalesce(sum(polarity = 'negative'), 0), coalesce(sum(rumour_probability >= ?), 0),
               count(DISTINCT CASE WHEN rumour_probability >= ? THEN strftime('%Y-%W', published_day) END),
               max(CASE WHEN rumour_probability >= ? THEN published_at END)
        FROM items WHERE published_at >= ? AND published_at < ? AND health_related = 1
          AND platform = ? AND account = ?{_rumour_candidate()}""",
                     [threshold, threshold, threshold, start, end, platform, account]).fetchone()
    # confirmed false: the latest verdict on the item's story (its cluster, else the item) says rumour,
    # as confirmed_false_items reads it, asked of this account's few items only
    confirmed = db.execute("""
        SELECT count(*) FROM items i
        WHERE i.account = ? AND i.published_at >= ? AND i.published_at < ? AND i.platform = ?
          AND (SELECT v.verdict FROM verdicts v
               WHERE (i.cluster_id IS NOT NULL AND v.cluster_id = i.cluster_id)
                  OR (i.cluster_id IS NULL AND v.cluster_id IS NULL AND v.item_id = i.id)
               ORDER BY v.at DESC, v.id DESC LIMIT 1) = 'rumour'""", [account, start, end, platform]).fetchone()[0]
    return {"items": row[0], "negative": row[1], "flagged": row[2], "flagged_weeks": row[3], "last_flagged_at": row[4],
            "confirmed": confirmed}


def alerts_by_topic(db, start: str, end: str) -> dict:
    """{topic: alerts raised in [start, end)} (spikes and stories alike; '' for none)."""
    return dict(db.execute("SELECT coalesce(topic, ''), count(*) FROM alerts WHERE created_at >= ? AND created_at < ? "
                           "GROUP BY coalesce(topic, '')", [start, end]).fetchall())


def latest_score(db, item_id: int) -> dict | None:
    """The item's latest score row (its debunk match among them)."""
    rows = _rows(db, "SELECT * FROM scores WHERE item_id = ? ORDER BY id DESC LIMIT 1", [item_id])
    return rows[0] if rows else None



# --- auth: users, sessions ------------------------------------------------------------------

USER_COLUMNS = """id, username, display_name, role, expert_id, unit_id,
                  (SELECT name FROM units WHERE units.id = users.unit_id) AS unit_name, disabled, failed_logins, locked_until,
                  created_at, updated_at, last_login_at, totp_enabled_at,
                  (SELECT count(*) FROM json_each(coalesce(totp_recovery, '[]'))
                   WHERE json_extract(value, '$.used_at') IS NULL) AS recovery_codes_left"""
# the secrets a login checks: read only by rumourwatch.auth, never shown
USER_SECRET_COLUMNS = ", password_hash, totp_secret, totp_last_step, totp_pending, totp_recovery"


def insert_user(db, username: str, role: str, password_hash: str, at: str, display_name: str | None = None,
                expert_id: int | None = None, unit_id: int | None = None) -> int:
    try:
        cur = db.execute(
            """INSERT INTO users (username, display_name, role, password_hash, expert_id, unit_id, created_at,
                                  updated_at)
               VALUES (?, ?, ?, ?, ?, ?, ?, ?)""",
            [username, display_name, role, password_hash, expert_id, unit_id, at, at])
    except sqlite3.IntegrityError as exc:
        if "UNIQUE" in str(exc):
            raise StoreError(f"user {username!r} already exists", "user_exists", name=username) from exc
        raise StoreError(f"user {username!r} cannot be stored: {exc}", "user_not_stored", name=username) from exc
    return cur.lastrowid


def get_user(db, username: str, with_hash: bool = False) -> dict | None:
    cols = USER_COLUMNS + (USER_SECRET_COLUMNS if with_hash else "")
    rows = _rows(db, f"SELECT {cols} FROM users WHERE username = ?", [username])
    return rows[0] if rows else None


def get_user_by_id(db, user_id: int) -> dict | None:
    rows = _rows(db, f"SELECT {USER_COLUMNS} FROM users WHERE id = ?", [user_id])
    return rows[0] if rows else None


def list_users(db) -> list[dict]:
    return _rows(db, f"SELECT {USER_COLUMNS} FROM users ORDER BY username COLLATE NOCASE")


def count_users(db, role: str | None = None, active_only: bool = False) -> int:
    where, params = [], []
    if role:
        where.append("role = ?")
        params.append(role)
    if active_only:
        where.append("disabled = 0")
    clause = (" WHERE " + " AND ".join(where)) if where else ""
    return db.execute(f"SELECT count(*) FROM users{clause}", params).fetchone()[0]


_USER_UPDATABLE = {"display_name", "role", "password_hash", "expert_id", "unit_id", "disabled", "failed_logins",
                   "locked_until", "last_login_at", "totp_secret", "totp_enabled_at", "totp_last_step",
                   "totp_pending", "totp_recovery"}


def _update(db, table: str, allowed: set[str], row_id: int, fields: dict) -> None:
    """UPDATE one row's `fields` (names checked against `allowed`: never from input)."""
    unknown = set(fields) - allowed
    if unknown:
        raise ValueError(f"not updatable {table} fields: {sorted(unknown)}")
    if fields:
        sets = ", ".join(f"{k} = ?" for k in fields)
        db.execute(f"UPDATE {table} SET {sets} WHERE id = ?", [*fields.values(), row_id])


def _where(conditions) -> tuple[str, list]:
    """' WHERE a = ? AND …' of the (clause, value) pairs whose value is given, and the values."""
    given = [(clause, value) for clause, value in conditions if value is not None]
    return (" WHERE " + " AND ".join(c for c, _ in given)) if given else "", [v for _, v in given]


def update_user(db, user_id: int, at: str, **fields) -> None:
    if fields:
        _update(db, "users", _USER_UPDATABLE | {"updated_at"}, user_id, {**fields, "updated_at": at})


def insert_session(db, token_hash: str, user_id: int, at: str) -> None:
    db.execute("INSERT INTO sessions (token_hash, user_id, created_at, last_seen_at) VALUES (?, ?, ?, ?)",
               [token_hash, user_id, at, at])


def get_session(db, token_hash: str) -> dict | None:
    rows = _rows(db, "SELECT * FROM sessions WHERE token_hash = ?", [token_hash])
    return rows[0] if rows else None


def touch_session(db, token_hash: str, at: str) -> None:
    db.execute("UPDATE sessions SET last_seen_at = ? WHERE token_hash = ? AND ended_at IS NULL", [at, token_hash])


def end_session(db, token_hash: str, at: str, reason: str) -> None:
    db.execute("UPDATE sessions SET ended_at = ?, end_reason = ? WHERE token_hash = ? AND ended_at IS NULL",
               [at, reason, token_hash])


def open_sessions(db, seen_since: str) -> list[dict]:
    """Sessions not ended and active since `seen_since`, with their user's name and role, most
    recently active first."""
    return _rows(db, """SELECT u.username, u.role, s.created_at, s.last_seen_at FROM sessions s
                        JOIN users u ON u.id = s.user_id
                        WHERE s.ended_at IS NULL AND s.last_seen_at >= ? ORDER BY s.last_seen_at DESC""",
                 [seen_since])


def end_user_sessions(db, user_id: int, at: str, reason: str, keep: str | None = None) -> int:
    """End the user's open sessions, but the one of token hash `keep`; returns how many ended."""
    cur = db.execute("""UPDATE sessions SET ended_at = ?, end_reason = ?
                        WHERE user_id = ? AND ended_at IS NULL AND token_hash IS NOT ?""",
                     [at, reason, user_id, keep])
    return cur.rowcount


def is_rumourwatch_db(db) -> bool:
    """True when the file holds our schema (used before restoring a backup over the live store)."""
    try:
        names = {r[0] for r in db.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
    except sqlite3.DatabaseError:
        return False
    if not {"_migrations", "items", "reactions", "checkpoints"} <= names:
        return False
    applied = {r[0] for r in db.execute("SELECT name FROM _migrations")}
    return "0001_core" in applied

# (end of auth section)


# --- reports ----------------------------------------------------------------------------------
# Report queries read the workflow tables only when they exist (the workflow may not be enabled in
# a deployment); reports.py checks `has_tables` first and shows the section as empty otherwise.

def has_tables(db, *names: str) -> bool:
    return all(db[name].exists() for name in names)


def missing_columns(db, table: str, columns: Iterable[str]) -> list[str]:
    """Columns the report needs that `table` lacks (an older or newer workflow schema)."""
    present = {c.name for c in db[table].columns}
    return [c for c in columns if c not in present]


def report_top_rumours(db, start: str, end: str, threshold: float, limit: int = 10,
                       platforms: list[str] | None = None, health_only: bool = True) -> list[dict]:
    """Flagged items published in [start, end), one row per cluster, ranked by spread;
    advertisements, clarifications and items judged not a rumour left out, as from the live list
    (`_rumour_candidate`, `_not_cleared`).

    Spread = copies in the period + their reposts + comments (what reached the public).
    """
    where, params = _filters_sql(start, end, platforms=platforms, health_only=health_only)
    cond = (where + " AND " if where else " WHERE ") + "rumour_probability >= ?" + _rumour_candidate() + _not_cleared(db)
    return _rows(db, f"""
        WITH flagged AS (
            SELECT id, coalesce(cluster_id, -id) AS grp, cluster_id, platform, account, url, title,
                   substr(text, 1, 200) AS text, published_at, rumour_probability, repost_num, comment_num,
                   row_number() OVER (PARTITION BY coalesce(cluster_id, -id)
                                      ORDER BY rumour_probability DESC, repost_num + comment_num DESC, id) AS rk
            FROM items{cond})
        SELECT f.id AS item_id, f.cluster_id, f.platform, f.account, f.url, f.title, f.text,
               f.published_at AS first_seen_at, f.rumour_probability,
               g.copies, g.reposts, g.comments, g.copies + g.reposts + g.comments AS spread,
               g.first_at, g.max_probability
        FROM flagged f JOIN (
            SELECT grp, count(*) AS copies, sum(repost_num) AS reposts, sum(comment_num) AS comments,
                   min(published_at) AS first_at, max(rumour_probability) AS max_probability
            FROM flagged GROUP BY grp) g ON g.grp = f.grp
        WHERE f.rk = 1
        ORDER BY spread DESC, g.max_probability DESC, f.id LIMIT ?""", [*params, threshold, limit])


def report_source_hours(db, start: str, end: str, platforms: list[str] | None = None) -> list[tuple[str, str]]:
    """(source, hour 'YYYY-MM-DDTHH' UTC) of each hour in [start, end) in which a source published at
    least one item, by source then hour, leaving out tips (source tip:…: they come when the public
    calls, not as a feed): what reports.source_gaps reads the feeds' silences from. Read from
    source_hours (kept by a trigger), not from the items."""
    clause = f" AND platform IN ({', '.join('?' for _ in platforms)})" if platforms else ""
    return [tuple(r) for r in db.execute(
        f"""SELECT DISTINCT source, hour FROM source_hours WHERE hour >= substr(?, 1, 13) AND hour < ?
            AND n > 0 AND source NOT LIKE 'tip:%'{clause} ORDER BY source, hour""",
        [start, end, *(platforms or [])]).fetchall()]


def report_tips(db, start: str, end: str, platforms: list[str] | None = None) -> list[dict]:
    """Tips received in [start, end): channel, item, the item's story (its cluster, else the item as
    -id) and the story's latest verdict (None before one)."""
    clause = f" AND i.platform IN ({', '.join('?' for _ in platforms)})" if platforms else ""
    return _rows(db, f"""
        SELECT t.channel, t.item_id, coalesce(i.cluster_id, -i.id) AS story,
               (SELECT v.verdict FROM verdicts v WHERE v.item_id = i.id
                   OR (i.cluster_id IS NOT NULL AND v.cluster_id = i.cluster_id) ORDER BY v.at DESC, v.id DESC LIMIT 1)
                   AS verdict
        FROM tips t JOIN items i ON i.id = t.item_id
        WHERE t.received_at >= ? AND t.received_at < ?{clause} ORDER BY t.received_at""",
                 [start, end, *(platforms or [])])


def report_alerts(db, start: str, end: str, region: str | None = None) -> list[dict]:
    """Alerts created in [start, end) with the expert they were assigned to and whether a special
    report on them went to the leaders."""
    clause = " AND a.region = ?" if region else ""
    return _rows(db, f"""
        SELECT a.id, a.kind, a.severity, a.cluster_id, a.item_id, a.region, a.title, a.status,
               a.created_at, a.respond_by, a.conference_by, a.responded_at, a.conference_at, a.closed_at,
               a.assigned_expert, e.name AS expert_name, e.institution AS expert_institution,
               i.platform, i.url,
               EXISTS (SELECT 1 FROM alert_steps s WHERE s.alert_id = a.id AND s.step = 'briefing_sent') AS briefed
        FROM alerts a LEFT JOIN experts e ON e.id = a.assigned_expert LEFT JOIN items i ON i.id = a.item_id
        WHERE a.created_at >= ? AND a.created_at < ?{clause}
        ORDER BY a.created_at, a.id""", [start, end, *([region] if region else [])])


def report_alerts_responded(db, start: str, end: str, region: str | None = None) -> list[dict]:
    """Alerts whose information was released in [start, end), with the responsible expert's unit.

    The unit is the institution of the expert assigned to the alert (the latest non-declined
    assignment when the alert itself names none)."""
    clause = " AND a.region = ?" if region else ""
    return _rows(db, f"""
        SELECT a.id, a.severity, a.created_at, a.respond_by, a.responded_at, a.region,
               coalesce(e.institution, (
                   SELECT e2.institution FROM assignments s JOIN experts e2 ON e2.id = s.expert_id
                   WHERE s.alert_id = a.id AND s.status NOT IN ('declined', 'cancelled')
                   ORDER BY s.assigned_at DESC, s.id DESC LIMIT 1)) AS unit
        FROM alerts a LEFT JOIN experts e ON e.id = a.assigned_expert
        WHERE a.responded_at >= ? AND a.responded_at < ?{clause}
        ORDER BY a.responded_at, a.id""", [start, end, *([region] if region else [])])


def report_alert_status(db, cluster_ids: list[int], item_ids: list[int]) -> list[dict]:
    """Per alert on these clusters/items: status, deadline, release time and published clarification."""
    if not cluster_ids and not item_ids:
        return []
    conds, params = [], []
    if cluster_ids:
        conds.append(f"a.cluster_id IN ({', '.join('?' for _ in cluster_ids)})")
        params.extend(cluster_ids)
    if item_ids:
        conds.append(f"a.item_id IN ({', '.join('?' for _ in item_ids)})")
        params.extend(item_ids)
    return _rows(db, f"""
        SELECT a.id, a.cluster_id, a.item_id, a.severity, a.status, a.respond_by, a.responded_at,
               (SELECT c.published_url FROM clarifications c WHERE c.alert_id = a.id AND c.status = 'published'
                ORDER BY c.published_at LIMIT 1) AS clarification_url,
               (SELECT min(c.published_at) FROM clarifications c WHERE c.alert_id = a.id
                AND c.status = 'published') AS clarified_at
        FROM alerts a WHERE {' OR '.join(conds)} ORDER BY a.id""", params)


def report_assignments(db, start: str, end: str, region: str | None = None) -> list[dict]:
    """Assignments made in [start, end); `region` is the alert's region (as for report_alerts), not
    the expert's: an alert in one region may go to an expert from another."""
    clause = " AND a.region = ?" if region else ""
    return _rows(db, f"""
        SELECT s.id, s.alert_id, s.expert_id, s.status, s.assigned_at, s.responded_at, s.completed_at,
               e.name AS expert_name, e.institution, e.region
        FROM assignments s JOIN experts e ON e.id = s.expert_id JOIN alerts a ON a.id = s.alert_id
        WHERE s.assigned_at >= ? AND s.assigned_at < ?{clause}
        ORDER BY s.assigned_at, s.id""", [start, end, *([region] if region else [])])


def expert_activity(db, start: str, end: str) -> dict:
    """What each expert of the pool did in [start, end) (rumourwatch.experts.performance): the
    assignments offered to them then, the drafts of theirs returned in review and the reviews they
    did (from the audit log), and, over all time, when each last accepted a task."""
    assignments = _rows(db, """SELECT id, expert_id, status, assigned_at, responded_at, due_at, completed_at,
                                      escalated_at FROM assignments
                               WHERE assigned_at >= ? AND assigned_at < ? ORDER BY assigned_at, id""", [start, end])
    returned = dict(db.execute("""
        SELECT c.expert_id, count(*) FROM audit_log l JOIN clarifications c ON c.id = CAST(l.target_id AS INTEGER)
        WHERE l.action = 'clarification.return' AND l.target_type = 'clarification' AND l.at >= ? AND l.at < ?
          AND c.expert_id IS NOT NULL GROUP BY c.expert_id""", [start, end]).fetchall())
    reviewed = dict(db.execute("""
        SELECT u.expert_id, count(*) FROM audit_log l JOIN users u ON u.username = l.actor
        WHERE l.action IN ('clarification.approve', 'clarification.return') AND l.at >= ? AND l.at < ?
          AND u.expert_id IS NOT NULL GROUP BY u.expert_id""", [start, end]).fetchall())
    last_accepted = dict(db.execute("""
        SELECT expert_id, max(responded_at) FROM assignments
        WHERE responded_at IS NOT NULL AND status NOT IN ('declined', 'offered') GROUP BY expert_id""").fetchall())
    return {"assignments": assignments, "returned": returned, "reviewed": reviewed, "last_accepted": last_accepted}


def published_for_assignments(db, assignment_ids: list[int]) -> list[dict]:
    """The published clarifications of these assignments (专家履职情况's 稿件自查 figures)."""
    if not assignment_ids:
        return []
    marks = ",".join("?" * len(assignment_ids))
    return _rows(db, f"SELECT * FROM clarifications WHERE status = 'published' AND assignment_id IN ({marks}) "
                     "ORDER BY id", list(assignment_ids))


def report_clarifications(db, start: str, end: str, region: str | None = None) -> list[dict]:
    """Clarifications published in [start, end), with the alert time they answer and their author;
    `region` is the alert's region."""
    clause = " AND a.region = ?" if region else ""
    return _rows(db, f"""
        SELECT c.id, c.alert_id, c.expert_id, c.title, c.published_url, c.published_at,
               a.created_at AS alert_created_at, e.name AS expert_name, e.institution, e.region
        FROM clarifications c JOIN alerts a ON a.id = c.alert_id LEFT JOIN experts e ON e.id = c.expert_id
        WHERE c.status = 'published' AND c.published_at >= ? AND c.published_at < ?{clause}
        ORDER BY c.published_at, c.id""", [start, end, *([region] if region else [])])


def report_experts(db, region: str | None = None) -> list[dict]:
    clause = " WHERE region = ?" if region else ""
    return _rows(db, f"SELECT id, name, institution, region, level, active FROM experts{clause} ORDER BY id",
                 [region] if region else [])


def report_verdicts(db, start: str, end: str) -> list[dict]:
    """Each item's latest verdict recorded in [start, end), with the rumour score the monitor saw:
    the item's last score before the verdict (its current score only when it had none then). A
    score computed after the verdict, e.g. by a model retrained on that very verdict, would make the
    flags look better than they were."""
    return _rows(db, """
        SELECT v.item_id, v.verdict, v.at, v.actor,
               coalesce((SELECT s.rumour_probability FROM scores s WHERE s.item_id = v.item_id AND s.computed_at <= v.at
                         ORDER BY s.computed_at DESC, s.id DESC LIMIT 1), i.rumour_probability) AS rumour_probability,
               i.platform, i.account
        FROM verdicts v JOIN items i ON i.id = v.item_id
        WHERE v.id = (SELECT v2.id FROM verdicts v2 WHERE v2.item_id = v.item_id AND v2.at >= ? AND v2.at < ?
                      ORDER BY v2.at DESC, v2.id DESC LIMIT 1)
        ORDER BY v.at, v.item_id""", [start, end])


def verdict_scores(db) -> list[dict]:
    """Each item's latest verdict, with the last score the item had been given before that verdict
    (what the monitor saw when judging): the score's model_version, rumour_probability, is_rumour,
    computed_at and reactions_seen are None when the item had not been scored by then. A score
    computed after the verdict is never paired with it. `cluster_id` is the item's near-duplicate
    group (None for a text too short to compare). Oldest verdict first."""
    return _rows(db, """
        SELECT v.id AS verdict_id, v.item_id, v.verdict, v.at, v.actor, i.platform, i.account,
               i.cluster_id, substr(i.text, 1, 200) AS text, s.model_version, s.rumour_probability, s.is_rumour,
               s.computed_at, s.reactions_seen
        FROM verdicts v JOIN items i ON i.id = v.item_id
        LEFT JOIN scores s ON s.id = (SELECT s2.id FROM scores s2 WHERE s2.item_id = v.item_id
                                      AND s2.computed_at <= v.at ORDER BY s2.computed_at DESC, s2.id DESC
                                      LIMIT 1)
        WHERE v.id = (SELECT v2.id FROM verdicts v2 WHERE v2.item_id = v.item_id ORDER BY v2.at DESC, v2.id DESC
                      LIMIT 1)
        ORDER BY v.at, v.id""")


def insert_label(db, row: dict) -> int:
    return _insert(db, "labels", row)


# --- human readings (人工判读) of the items the models cannot read (rumourwatch.readings) ---------------

def insert_reading(db, row: dict) -> int:
    return _insert(db, "human_readings", row)


_IS_LATEST_READING = """h.id = (SELECT h2.id FROM human_readings h2 WHERE h2.item_id = h.item_id
                                ORDER BY h2.at DESC, h2.id DESC LIMIT 1)"""
_LATEST_READING = f"SELECT h.* FROM human_readings h WHERE {_IS_LATEST_READING}"


def apply_readings(db, item_ids: list[int]) -> None:
    """Give each of the items its latest human reading's relevance, topic and polarity (items without
    a reading are left as they are); in the caller's transaction."""
    for start in range(0, len(item_ids), 500):
        ids = list(item_ids[start:start + 500])
        marks = ", ".join("?" for _ in ids)
        db.execute(f"""UPDATE items SET health_related = r.health_related, topic = r.topic, polarity = r.polarity
                       FROM ({_LATEST_READING} AND h.item_id IN ({marks})) AS r WHERE items.id = r.item_id""", ids)


def _item_scope(start: str | None, end: str | None, platforms: list[str] | None) -> tuple[str, list]:
    """' AND …' conditions on items `i` published in [start, end) on `platforms` (all when None)."""
    where, params = _filter_terms(start, end, platforms, column="i.{}")
    return "".join(f" AND {w}" for w in where), params


def unread_unassessed_items(db, start: str | None = None, end: str | None = None,
                            platforms: list[str] | None = None, after_id: int = 0):
    """Scored items the models gave no rumour probability (the ones written in a script they cannot
    read, rumourwatch.language) that nobody has read yet, newest first (through idx_items_rumour,
    NULL); `after_id`: only items stored after that one. Yields rows (id, platform, account, url,
    text, published_at, …) one at a time."""
    period, params = _item_scope(start, end, platforms)
    if after_id:
        period += " AND i.id > ?"
        params.append(int(after_id))
    cursor = db.execute(f"""SELECT i.id, i.platform, i.account, i.author, i.url, i.title, i.text, i.published_at,
                                   i.repost_num, i.comment_num, i.like_num
                            FROM items i
                            WHERE i.scored_at IS NOT NULL AND i.rumour_probability IS NULL{period}
                              AND NOT EXISTS (SELECT 1 FROM human_readings h WHERE h.item_id = i.id)
                            ORDER BY i.published_at DESC, i.id DESC""", params)
    names = [d[0] for d in cursor.description]
    for values in cursor:
        yield dict(zip(names, values))


def read_items(db, start: str | None = None, end: str | None = None, platforms: list[str] | None = None) -> list[dict]:
    """The latest reading of each item published in [start, end) that has one, with its time."""
    period, params = _item_scope(start, end, platforms)
    # CROSS JOIN: the readings (few) lead; left to itself the planner read every item for them
    return _rows(db, f"""SELECT h.*, i.published_at FROM human_readings h CROSS JOIN items i ON i.id = h.item_id
                         WHERE {_IS_LATEST_READING}{period} ORDER BY i.published_at""", params)


def readings_after(db, after_id: int, limit: int = 50000) -> list[dict]:
    """Human readings recorded after reading `after_id` that have a gist, as the watched keywords read
    items (id, cluster_id, account, title, text), the gist as the text, each with its `reading_id`."""
    return _rows(db, """SELECT h.id AS reading_id, i.id, i.cluster_id, i.account, NULL AS title, h.gist AS text
                        FROM human_readings h JOIN items i ON i.id = h.item_id
                        WHERE h.id > ? AND h.gist != '' ORDER BY h.id LIMIT ?""", [after_id, limit])


def latest_gists(db, item_ids: list[int]) -> dict[int, str]:
    """{item id: the Chinese gist of its latest human reading} for those of the items that have one."""
    if not item_ids:
        return {}
    marks = ", ".join("?" for _ in item_ids)
    return {r["item_id"]: r["gist"] for r in _rows(db, f"{_LATEST_READING} AND h.item_id IN ({marks})",
                                                  list(item_ids)) if r["gist"]}


def readings_for_item(db, item_id: int) -> list[dict]:
    """An item's readings, oldest first (the last one counts)."""
    return _rows(db, "SELECT * FROM human_readings WHERE item_id = ? ORDER BY at, id", [item_id])


def recent_readings(db, limit: int = 50) -> list[dict]:
    """The latest readings, newest first, with their items' platform, account and publish time."""
    return _rows(db, """SELECT h.*, i.platform, i.account, i.published_at FROM human_readings h
                        JOIN items i ON i.id = h.item_id ORDER BY h.at DESC, h.id DESC LIMIT ?""", [limit])


def latest_labels(db) -> list[dict]:
    """Each labelled item's latest label, with the item's platform and external id; oldest first."""
    return _rows(db, """
        SELECT l.*, i.platform, i.external_id FROM labels l JOIN items i ON i.id = l.item_id
        WHERE l.id = (SELECT l2.id FROM labels l2 WHERE l2.item_id = l.item_id ORDER BY l2.at DESC, l2.id DESC
                      LIMIT 1)
        ORDER BY l.at, l.id""")


def labels_for_item(db, item_id: int) -> list[dict]:
    """An item's labels, oldest first (the last one counts)."""
    return _rows(db, "SELECT * FROM labels WHERE item_id = ? ORDER BY at, id", [item_id])


def label_queue(db, sample: str, limit: int = 1, skip: Iterable[int] = (), only: int | None = None) -> list[dict]:
    """Scored items nobody has labelled yet, for the 数据标注 page: 'uncertain' = health probability
    nearest 0.5 first, 'random' = a uniform random sample, 'recent' = newest first. `skip` leaves out
    items passed over in this session; `only` asks for one item (none when it has been labelled)."""
    order = {"uncertain": "abs(s.health_probability - 0.5), i.id", "random": "random()",
             "recent": "i.published_at DESC, i.id DESC"}
    if sample not in order:
        raise ValueError(f"sample must be one of {sorted(order)}, got {sample!r}")
    params = [int(x) for x in skip]
    clause = f" AND i.id NOT IN ({', '.join('?' for _ in params)})" if params else ""
    if only is not None:
        clause += " AND i.id = ?"
        params.append(int(only))
    return _rows(db, f"""
        SELECT i.id, i.platform, i.account, i.published_at, i.text, s.health_probability, i.topic,
               i.model_version
        FROM items i JOIN scores s ON s.item_id = i.id AND s.computed_at = i.scored_at
                                   AND s.model_version = i.model_version
        WHERE s.health_probability IS NOT NULL AND trim(i.text) != ''
          AND NOT EXISTS (SELECT 1 FROM labels l WHERE l.item_id = i.id){clause}
        GROUP BY i.id ORDER BY {order[sample]} LIMIT ?""", [*params, limit])


def report_confirmed_by_account(db, end: str) -> list[dict]:
    """Items confirmed as rumours before `end`, one row per (account, item), with the time each was
    confirmed. As in the workflow, a verdict covers its whole cluster and the latest verdict counts;
    an item is confirmed from its cluster's first 'rumour' verdict (or its own publication, if later)."""
    return _rows(db, """
        WITH latest AS (
            SELECT cluster_id, item_id, verdict, row_number() OVER (
                PARTITION BY coalesce(cluster_id, -item_id) ORDER BY at DESC, id DESC) AS rn
            FROM verdicts WHERE at < ?),
        first_rumour AS (
            SELECT coalesce(cluster_id, -item_id) AS grp, min(at) AS first_at FROM verdicts
            WHERE verdict = 'rumour' AND at < ? GROUP BY grp)
        SELECT i.platform, i.account, i.id AS item_id, max(f.first_at, i.published_at) AS confirmed_at,
               i.repost_num + i.comment_num AS reach
        FROM latest l JOIN first_rumour f ON f.grp = coalesce(l.cluster_id, -l.item_id)
        JOIN items i ON (l.cluster_id IS NOT NULL AND i.cluster_id = l.cluster_id)
                        OR (l.cluster_id IS NULL AND i.id = l.item_id)
        WHERE l.rn = 1 AND l.verdict = 'rumour' AND i.account IS NOT NULL AND i.account != ''
          AND i.published_at < ?
        ORDER BY i.platform, i.account, confirmed_at""", [end, end, end])


def report_takedowns(db, start: str, end: str) -> list[dict]:
    """Takedown requests made in [start, end) and their outcome so far."""
    return _rows(db, """
        SELECT id, item_id, platform, account, url, status, requested_at, outcome_at
        FROM takedowns WHERE requested_at >= ? AND requested_at < ? ORDER BY requested_at, id""",
                 [start, end])


UNIT_COLUMNS = ("code", "name", "kind", "region", "monthly_minimum", "active", "email")


def upsert_units(db, rows: list[dict], at: str) -> int:
    """Insert or update units by code (in the caller's transaction). Returns how many rows were written."""
    db.conn.executemany(
        """INSERT INTO units (code, name, kind, region, monthly_minimum, active, email, updated_at)
           VALUES (?, ?, ?, ?, ?, ?, ?, ?)
           ON CONFLICT(code) DO UPDATE SET name = excluded.name, kind = excluded.kind, region = excluded.region,
             monthly_minimum = excluded.monthly_minimum, active = excluded.active, email = excluded.email,
             updated_at = excluded.updated_at""",
        [[r.get(c) for c in UNIT_COLUMNS] + [at] for r in rows])
    return len(rows)


def list_units(db, region: str | None = None, active_only: bool = True) -> list[dict]:
    where, params = [], []
    if active_only:
        where.append("active = 1")
    if region:
        where.append("region = ?")
        params.append(region)
    clause = (" WHERE " + " AND ".join(where)) if where else ""
    return _rows(db, f"SELECT id, {', '.join(UNIT_COLUMNS)} FROM units{clause} ORDER BY code", params)


def find_unit(db, code_or_name: str) -> dict | None:
    """A unit by its code, else by its name."""
    rows = _rows(db, f"""SELECT id, {', '.join(UNIT_COLUMNS)} FROM units WHERE code = ? OR name = ?
                         ORDER BY code = ? DESC LIMIT 1""", [code_or_name, code_or_name, code_or_name])
    return rows[0] if rows else None


def get_unit(db, unit_id: int) -> dict | None:
    rows = _rows(db, f"SELECT id, {', '.join(UNIT_COLUMNS)} FROM units WHERE id = ?", [unit_id])
    return rows[0] if rows else None


# --- 信息报送: the units' submissions (rumourwatch.submissions) -------------------------------------

_SUBMISSION_SELECT = """SELECT s.*, u.name AS unit_name, u.code AS unit_code, u.region AS unit_region,
                              i.rumour_probability, i.already_debunked, i.health_related, i.topic, i.scored_at
                       FROM submissions s JOIN units u ON u.id = s.unit_id LEFT JOIN items i ON i.id = s.item_id"""


def insert_submission(db, row: dict) -> int:
    return _insert(db, "submissions", row)


def get_submission(db, submission_id: int) -> dict | None:
    rows = _rows(db, f"{_SUBMISSION_SELECT} WHERE s.id = ?", [submission_id])
    return rows[0] if rows else None


_SUBMISSION_UPDATABLE = {"status", "decided_by", "decided_at", "adopted_in", "decision_note"}


def update_submission(db, submission_id: int, **fields) -> None:
    _update(db, "submissions", _SUBMISSION_UPDATABLE, submission_id, fields)


def list_submissions(db, *, unit_id: int | None = None, status: str | None = None, start: str | None = None,
                     end: str | None = None, region: str | None = None, limit: int = 500) -> list[dict]:
    """Submissions, those awaiting a decision first, then the newest."""
    clause, params = _where((("s.unit_id = ?", unit_id), ("s.status = ?", status), ("s.submitted_at >= ?", start),
                             ("s.submitted_at < ?", end), ("u.region = ?", region)))
    return _rows(db, f"""{_SUBMISSION_SELECT}{clause}
                         ORDER BY s.status = 'submitted' DESC,
                                  CASE WHEN s.status = 'submitted' THEN s.submitted_at END ASC,
                                  s.submitted_at DESC, s.id DESC LIMIT ?""", [*params, limit])


def find_submission(db, unit_id: int, title: str, start: str, end: str) -> int | None:
    """The id of a submission (not withdrawn) of the unit with this title made in [start, end)."""
    row = db.execute("""SELECT id FROM submissions WHERE unit_id = ? AND title = ? AND submitted_at >= ?
                        AND submitted_at < ? AND status != 'withdrawn' ORDER BY id LIMIT 1""",
                     [unit_id, title, start, end]).fetchone()
    return row[0] if row else None


def submission_counts(db, start: str, end: str) -> dict[int, dict[str, int]]:
    """{unit_id: {status: n}} of the submissions made in [start, end)."""
    out: dict[int, dict[str, int]] = {}
    for unit_id, status, n in db.execute("""SELECT unit_id, status, count(*) FROM submissions
                                            WHERE submitted_at >= ? AND submitted_at < ?
                                            GROUP BY unit_id, status""", [start, end]).fetchall():
        out.setdefault(unit_id, {})[status] = n
    return out


def report_submissions(db, start: str, end: str, region: str | None = None) -> list[dict]:
    """The submissions counted in [start, end) (not withdrawn): unit name, status, submitted_at."""
    clause, params = _where((("s.submitted_at >= ?", start), ("s.submitted_at < ?", end), ("u.region = ?", region)))
    return _rows(db, f"""SELECT u.name AS unit, s.status, s.submitted_at FROM submissions s
                         JOIN units u ON u.id = s.unit_id{clause} AND s.status != 'withdrawn'""", params)


# --- 通讯员培训: the correspondents' trainings (rumourwatch.trainings) -------------------------------

_TRAINING_SELECT = """SELECT t.*,
                             (SELECT count(*) FROM training_units tu WHERE tu.training_id = t.id) AS units,
                             (SELECT group_concat(name, '、') FROM (SELECT u.name FROM training_units tu
                                 JOIN units u ON u.id = tu.unit_id WHERE tu.training_id = t.id ORDER BY u.code))
                                 AS unit_names,
                             (SELECT count(*) FROM training_experts te WHERE te.training_id = t.id) AS experts,
                             (SELECT group_concat(name, '、') FROM (SELECT e.name FROM training_experts te
                                 JOIN experts e ON e.id = te.expert_id WHERE te.training_id = t.id ORDER BY e.id))
                                 AS expert_names
                      FROM trainings t"""


def insert_training(db, row: dict, unit_ids: list[int], expert_ids: list[int] = ()) -> int:
    """A training with the units whose correspondents, or the experts, who took part."""
    training_id = _insert(db, "trainings", row)
    db.conn.executemany("INSERT INTO training_units (training_id, unit_id) VALUES (?, ?)",
                        [(training_id, u) for u in unit_ids])
    db.conn.executemany("INSERT INTO training_experts (training_id, expert_id) VALUES (?, ?)",
                        [(training_id, e) for e in expert_ids])
    return training_id


def get_training(db, training_id: int) -> dict | None:
    rows = _rows(db, f"{_TRAINING_SELECT} WHERE t.id = ?", [training_id])
    return rows[0] if rows else None


def update_training(db, training_id: int, **fields) -> None:
    _update(db, "trainings", {"removed_by", "removed_at", "remove_reason"}, training_id, fields)


def list_trainings(db, *, start: str | None = None, end: str | None = None, audience: str = "correspondents",
                   limit: int = 500) -> list[dict]:
    """The trainings for `audience` ("correspondents" or "experts") held (not removed) on days in
    [start, end) ('YYYY-MM-DD'), the latest first."""
    clause, params = _kept_between("t.held_on", "t.removed_at", start, end)
    return _rows(db, f"{_TRAINING_SELECT}{clause} AND t.audience = ? ORDER BY t.held_on DESC, t.id DESC LIMIT ?",
                 [*params, audience, limit])


def trained_experts(db, start: str | None = None, end: str | None = None) -> dict[int, dict]:
    """{expert id: the trainings (not removed) they took part in on days in [start, end): n, and the
    last one's held_on and title}."""
    clause, params = _kept_between("t.held_on", "t.removed_at", start, end)
    out: dict[int, dict] = {}
    for expert_id, held_on, title in db.execute(
            f"""SELECT te.expert_id, t.held_on, t.title FROM training_experts te
                JOIN trainings t ON t.id = te.training_id{clause} ORDER BY t.held_on, t.id""", params).fetchall():
        n = out.get(expert_id, {}).get("n", 0)
        out[expert_id] = {"n": n + 1, "held_on": held_on, "title": title}  # the latest wins
    return out


def _kept_between(column: str, removed: str, start: str | None, end: str | None) -> tuple[str, list]:
    """' WHERE …' of the rows not removed (a training, a press conference recorded by mistake: their
    `removed` column is NULL) whose `column` lies in [start, end), and its values."""
    clause, params = _where(((f"{column} >= ?", start), (f"{column} < ?", end)))
    return (clause + " AND" if clause else " WHERE") + f" {removed} IS NULL", params


def trained_units(db, start: str | None = None, end: str | None = None) -> dict[int, dict]:
    """{unit id: the last training (not removed) it took part in on a day in [start, end)}:
    held_on, title."""
    clause, params = _kept_between("t.held_on", "t.removed_at", start, end)
    out: dict[int, dict] = {}
    for unit_id, held_on, title in db.execute(
            f"""SELECT tu.unit_id, t.held_on, t.title FROM training_units tu JOIN trainings t ON t.id = tu.training_id
                {clause} ORDER BY t.held_on, t.id""", params).fetchall():
        out[unit_id] = {"held_on": held_on, "title": title}  # the latest wins
    return out


# --- 新闻发布会: the press conferences held (rumourwatch.press) ------------------------------------

def insert_press_conference(db, row: dict) -> int:
    return _insert(db, "press_conferences", row)


def get_press_conference(db, conference_id: int) -> dict | None:
    rows = _rows(db, "SELECT * FROM press_conferences WHERE id = ?", [conference_id])
    return rows[0] if rows else None


def update_press_conference(db, conference_id: int, **fields) -> None:
    _update(db, "press_conferences", {"removed_by", "removed_at", "remove_reason"}, conference_id, fields)


def list_press_conferences(db, *, start: str | None = None, end: str | None = None, kind: str | None = None,
                           limit: int = 500) -> list[dict]:
    """The register's entries (press conferences, media activities…: rumourwatch.press.KINDS; one
    `kind` only if given) held (not removed) in [start, end), the latest first."""
    clause, params = _kept_between("held_at", "removed_at", start, end)
    if kind:
        clause, params = f"{clause} AND kind = ?", [*params, kind]
    return _rows(db, f"SELECT * FROM press_conferences{clause} ORDER BY held_at DESC, id DESC LIMIT ?",
                 [*params, limit])


# --- 卫生健康纪念日: the office's own observance days (rumourwatch.healthdays) ----------------------

def insert_health_day(db, row: dict) -> int:
    return _insert(db, "health_days", row)


def get_health_day(db, day_id: int) -> dict | None:
    rows = _rows(db, "SELECT * FROM health_days WHERE id = ?", [day_id])
    return rows[0] if rows else None


def update_health_day(db, day_id: int, **fields) -> None:
    _update(db, "health_days", {"name", "topic", "month", "day", "days", "note", "removed_by", "removed_at",
                                "remove_reason"}, day_id, fields)


def list_health_days(db) -> list[dict]:
    """The office's own observance days (not removed), in calendar order."""
    return _rows(db, "SELECT * FROM health_days WHERE removed_at IS NULL ORDER BY month, day, id")


# --- 事前舆情风险评估 (rumourwatch.assessment) ----------------------------------------------------

def subject_hits(db, groups, excluded, start: str | None, end: str | None, threshold: float, latest: int = 0,
                 **filters) -> dict:
    """For the items matching a query (`_search_sql`), in one scan of the period's items: `days`,
    rows of (day, polarity, n, flagged, health) per China day and polarity; `topics`, {topic: n};
    `stories`, the distinct stories (an unclustered item is its own); `flagged`, each flagged item
    as (id, story, cluster_id, p, debunked, platform, account); `latest`, the ids of the newest
    `latest` matches."""
    where, params = _search_sql(db, groups, excluded, start, end, **filters)
    none = "NULL, NULL, NULL, NULL, NULL, NULL, NULL"
    rows = _rows(db, f"""WITH hits AS MATERIALIZED (
                             SELECT id, published_day, polarity, topic, rumour_probability AS p, cluster_id,
                                    coalesce(cluster_id, -id) AS story, coalesce(already_debunked, 0) AS d,
                                    health_related, platform, account, published_at FROM items{where})
                         SELECT 'day' AS part, published_day AS day, polarity, NULL AS topic, count(*) AS n,
                                coalesce(sum(p >= ?), 0) AS flagged, coalesce(sum(health_related = 1), 0) AS health,
                                NULL AS id, NULL AS story, NULL AS cluster_id, NULL AS p, NULL AS d,
                                NULL AS platform, NULL AS account
                         FROM hits GROUP BY published_day, polarity
                         UNION ALL
                         SELECT 'topic', NULL, NULL, topic, count(*), 0, 0, {none} FROM hits
                         WHERE topic IS NOT NULL GROUP BY topic
                         UNION ALL
                         SELECT 'stories', NULL, NULL, NULL, count(DISTINCT story), 0, 0, {none} FROM hits
                         UNION ALL
                         SELECT 'flagged', NULL, NULL, NULL, 1, 1, 0, id, story, cluster_id, p, d, platform, account
                         FROM hits WHERE p >= ?
                         UNION ALL
                         SELECT * FROM (SELECT 'latest', NULL, NULL, NULL, 0, 0, 0, id, NULL, NULL, NULL, NULL, NULL, NULL FROM hits
                                        ORDER BY published_at DESC, id DESC LIMIT ?)""",
                 [*params, threshold, threshold, latest])
    return {"days": [r for r in rows if r["part"] == "day"], "latest": [r["id"] for r in rows if r["part"] == "latest"],
            "topics": {r["topic"]: r["n"] for r in rows if r["part"] == "topic"},
            "stories": next(r["n"] for r in rows if r["part"] == "stories"),
            "flagged": [r for r in rows if r["part"] == "flagged"]}


def cluster_alerts(db, cluster_ids) -> dict[int, dict]:
    """The rumour alert of each story (cluster) that has one: {cluster_id: {id, severity, status}}."""
    out = {}
    ids = sorted({c for c in cluster_ids if c is not None})
    for start in range(0, len(ids), 900):  # under SQLite's parameter limit
        chunk = [f"cluster:{c}" for c in ids[start:start + 900]]
        for r in _rows(db, f"SELECT id, severity, status, cluster_id FROM alerts WHERE dedupe_key IN "
                           f"({', '.join('?' for _ in chunk)})", chunk):
            out[r["cluster_id"]] = r
    return out


def insert_assessment(db, row: dict) -> int:
    return _insert(db, "assessments", row)


def get_assessment(db, assessment_id: int) -> dict | None:
    rows = _rows(db, "SELECT * FROM assessments WHERE id = ?", [assessment_id])
    return rows[0] if rows else None


def assessments_between(db, first: str, last: str) -> list[dict]:
    """The kept assessments (not removed) planned for the Beijing days `first` to `last`
    (YYYY-MM-DD, both included), the nearest first, with their documents' JSON (the day's index)."""
    return _rows(db, "SELECT * FROM assessments WHERE event_day BETWEEN ? AND ? AND removed_at IS NULL "
                     "ORDER BY event_day, id", [first, last])


def list_assessments(db, limit: int = 200) -> list[dict]:
    """The saved assessments not removed, the latest planned day first (without their documents' JSON)."""
    return _rows(db, "SELECT id, title, query, topic, event_day, level, made_by, made_at FROM assessments "
                     "WHERE removed_at IS NULL ORDER BY event_day DESC, id DESC LIMIT ?", [limit])


def update_assessment(db, assessment_id: int, **fields) -> None:
    _update(db, "assessments", {"removed_by", "removed_at", "remove_reason"}, assessment_id, fields)


# --- 政务新媒体: the office's own channels (rumourwatch.ownmedia) ---------------------------------

def insert_own_account(db, row: dict) -> int:
    return _insert(db, "own_accounts", row)


def get_own_account(db, account_id: int) -> dict | None:
    rows = _rows(db, "SELECT * FROM own_accounts WHERE id = ?", [account_id])
    return rows[0] if rows else None


def update_own_account(db, account_id: int, **fields) -> None:
    _update(db, "own_accounts", {"name", "unit_id", "note", "removed_by", "removed_at", "remove_reason"},
            account_id, fields)


def list_own_accounts(db) -> list[dict]:
    """The office's own channels (not removed), with the name of the unit that runs each (NULL: the
    office), by platform and name."""
    return _rows(db, """SELECT o.*, u.name AS unit_name FROM own_accounts o LEFT JOIN units u ON u.id = o.unit_id
                        WHERE o.removed_at IS NULL ORDER BY o.platform, o.name, o.id""")


def find_own_account(db, platform: str, account: str) -> dict | None:
    rows = _rows(db, "SELECT * FROM own_accounts WHERE platform = ? AND account = ? AND removed_at IS NULL",
                 [platform, account])
    return rows[0] if rows else None


def _own_sql(accounts: list[tuple[str, str]]) -> tuple[str, list]:
    """' AND …' keeping the items of these (platform, account) pairs: by the account index, then the
    platform (an account id may recur on another platform)."""
    pairs = " OR ".join("(account = ? AND platform = ?)" for _ in accounts)
    return f" AND ({pairs})", [v for platform, account in accounts for v in (account, platform)]


def own_account_counts(db, accounts: list[tuple[str, str]], start: str, end: str) -> list[dict]:
    """Per (platform, account) of `accounts`, its items published in [start, end): how many, the
    health ones, and the platforms' counts of their reposts, comments and likes."""
    if not accounts:
        return []
    clause, params = _own_sql(accounts)
    return _rows(db, f"""
        SELECT platform, account, count(*) AS posts, coalesce(sum(health_related = 1), 0) AS health,
               coalesce(sum(repost_num), 0) AS reposts, coalesce(sum(comment_num), 0) AS comments,
               coalesce(sum(like_num), 0) AS likes
        FROM items WHERE published_at >= ? AND published_at < ?{clause}
        GROUP BY platform, account""", [start, end, *params])


def own_account_days(db, accounts: list[tuple[str, str]], start: str, end: str) -> list[dict]:
    """Per China day, the items of `accounts` published in [start, end) and the reposts, comments and
    likes they drew; the days with none are left out."""
    if not accounts:
        return []
    clause, params = _own_sql(accounts)
    return _rows(db, f"""
        SELECT published_day AS day, count(*) AS posts,
               coalesce(sum(repost_num + comment_num + like_num), 0) AS engagement
        FROM items WHERE published_at >= ? AND published_at < ?{clause}
        GROUP BY published_day ORDER BY published_day""", [start, end, *params])


def own_account_topics(db, accounts: list[tuple[str, str]], start: str, end: str) -> dict[str, int]:
    """{topic: the health items of `accounts` published in [start, end) under it}."""
    if not accounts:
        return {}
    clause, params = _own_sql(accounts)
    return dict(db.execute(f"""
        SELECT coalesce(topic, ''), count(*) FROM items
        WHERE published_at >= ? AND published_at < ? AND health_related = 1{clause}
        GROUP BY coalesce(topic, '')""", [start, end, *params]).fetchall())


_OWN_ORDER = {"engagement": "engagement DESC, published_at DESC, id DESC", "newest": "published_at DESC, id DESC"}


def own_account_items(db, accounts: list[tuple[str, str]], start: str, end: str, limit: int,
                      by: str = "engagement") -> list[dict]:
    """`limit` items of `accounts` published in [start, end), with the start of their text and their
    reposts, comments and likes together (`engagement`): those that spread most first, or the
    newest (`by="newest"`)."""
    if not accounts:
        return []
    clause, params = _own_sql(accounts)
    return _rows(db, f"""
        SELECT id, platform, account, url, published_at, title, substr(text, 1, 200) AS text, topic,
               health_related, repost_num, comment_num, like_num,
               repost_num + comment_num + like_num AS engagement
        FROM items WHERE published_at >= ? AND published_at < ?{clause}
        ORDER BY {_OWN_ORDER[by]} LIMIT ?""", [start, end, *params, limit])


def most_engaged_account(db, start: str, end: str) -> tuple[str, str] | None:
    """(platform, account) of the account whose health items published in [start, end) drew the
    most reposts, comments and likes (the demo's stand-in for an office's channel)."""
    row = db.execute("""SELECT platform, account FROM items
                        WHERE published_at >= ? AND published_at < ? AND health_related = 1
                          AND account IS NOT NULL AND account != ''
                        GROUP BY platform, account ORDER BY sum(repost_num + comment_num + like_num) DESC,
                                 platform, account LIMIT 1""", [start, end]).fetchone()
    return tuple(row) if row else None


def own_channel_keys(db) -> set[tuple[str, str]]:
    """(platform, account) of the office's registered channels, for ingest to flag their items; none
    in a store written before the register (migration 0043), as a test's old store is."""
    if not has_tables(db, "own_accounts"):
        return set()
    return {tuple(r) for r in db.execute("SELECT platform, account FROM own_accounts WHERE removed_at IS NULL")}


def mark_own_channel(db, platform: str, account: str, own: bool) -> int:
    """Add (or take off) OWN_CHANNEL_FLAG on the stored items of this account; how many changed."""
    changed = []
    for item_id, raw in db.execute("SELECT id, quality_flags FROM items WHERE account = ? AND platform = ?",
                                   [account, platform]).fetchall():
        flags = [f for f in json.loads(raw or "[]") if f != OWN_CHANNEL_FLAG]
        if own:
            flags.append(OWN_CHANNEL_FLAG)
        value = json.dumps(flags) if flags else None
        if value != raw:
            changed.append((value, item_id))
    db.conn.executemany("UPDATE items SET quality_flags = ? WHERE id = ?", changed)
    return len(changed)


def account_item_count(db, platform: str, account: str) -> int:
    """How many items of this account the store holds (of any time)."""
    return db.execute("SELECT count(*) FROM items WHERE account = ? AND platform = ?",
                      [account, platform]).fetchone()[0]


# --- 交办属地单位: alerts referred to units (rumourwatch.referrals) ---------------------------------

_REFERRAL_SELECT = """SELECT r.*, u.name AS unit_name, u.code AS unit_code, u.email AS unit_email, a.title AS alert_title,
                             a.severity AS alert_severity, a.status AS alert_status, a.region AS alert_region,
                             a.item_id AS alert_item_id
                      FROM referrals r JOIN units u ON u.id = r.unit_id JOIN alerts a ON a.id = r.alert_id"""


def insert_referral(db, row: dict) -> int:
    return _insert(db, "referrals", row)


def get_referral(db, referral_id: int) -> dict | None:
    rows = _rows(db, f"{_REFERRAL_SELECT} WHERE r.id = ?", [referral_id])
    return rows[0] if rows else None


_REFERRAL_UPDATABLE = {"status", "reply", "replied_by", "replied_at", "withdrawn_by", "withdrawn_at",
                       "withdraw_reason", "escalated_at"}


def referrals_due_for_escalation(db, now: str) -> list[dict]:
    """Referrals past their time without a reply, on an open alert, not escalated yet."""
    marks = ", ".join("?" for _ in WORKFLOW_OPEN_STATUSES)
    return _rows(db, f"""{_REFERRAL_SELECT} WHERE r.status = 'referred' AND r.escalated_at IS NULL AND r.due_at <= ?
                         AND a.status IN ({marks}) ORDER BY r.id""", [now, *WORKFLOW_OPEN_STATUSES])


def update_referral(db, referral_id: int, **fields) -> None:
    _update(db, "referrals", _REFERRAL_UPDATABLE, referral_id, fields)


def list_referrals(db, *, alert_id: int | None = None, unit_id: int | None = None, status: str | None = None,
                   start: str | None = None, end: str | None = None, limit: int = 500) -> list[dict]:
    """Referrals, those awaiting a reply first (the earliest due first), then the newest."""
    clause, params = _where((("r.alert_id = ?", alert_id), ("r.unit_id = ?", unit_id), ("r.status = ?", status),
                             ("r.referred_at >= ?", start), ("r.referred_at < ?", end)))
    return _rows(db, f"""{_REFERRAL_SELECT}{clause}
                         ORDER BY r.status = 'referred' DESC,
                                  CASE WHEN r.status = 'referred' THEN r.due_at END ASC,
                                  r.referred_at DESC, r.id DESC LIMIT ?""", [*params, limit])


def log_report(db, kind: str, period: str, filters: dict, fmt: str, path: str | None, channel: str,
               status: str, detail: str | None = None, at: str | None = None) -> int:
    cur = db.execute(
        """INSERT INTO report_log (kind, period, filters, format, path, channel, status, detail, created_at)
           VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)""",
        [kind, period, json.dumps(filters, ensure_ascii=False, sort_keys=True), fmt, path, channel, status,
         detail, at or iso(now_utc())])
    return cur.lastrowid


def report_delivered(db, kind: str, period: str, filters: dict) -> bool:
    """Whether this report was already delivered (so a cron job run twice sends once)."""
    row = db.execute(
        "SELECT 1 FROM report_log WHERE kind = ? AND period = ? AND filters = ? AND channel = 'all' "
        "AND status = 'sent' LIMIT 1",
        [kind, period, json.dumps(filters, ensure_ascii=False, sort_keys=True)]).fetchone()
    return row is not None


def report_log_entries(db, limit: int = 50) -> list[dict]:
    return _rows(db, "SELECT * FROM report_log ORDER BY id DESC LIMIT ?", [limit])

# (end of reports section)
