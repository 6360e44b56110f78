"""Backup and restore of the store with SQLite's online backup API.

`backup` copies a consistent snapshot while the worker keeps writing (WAL readers are not blocked).
`restore` first checks that the file is a rumourwatch database that SQLite can read in full, then
copies it page by page over the target inside SQLite (so other connections see either the old or the
new database, never half of each). The round trip is exact: every table, row and migration.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path

from . import store
from .errors import StoreError

SQLITE_MAGIC = b"SQLite format 3\x00"


def _connect(path: Path, read_only: bool = False) -> sqlite3.Connection:
    if read_only:
        conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True, isolation_level=None)
    else:
        conn = sqlite3.connect(str(path), isolation_level=None)
    conn.execute(f"PRAGMA busy_timeout = {store.BUSY_TIMEOUT_MS}")
    return conn


def backup(db, path: str | Path) -> dict:
    """Write a snapshot of the open store `db` to `path` (must not exist). Returns {"path", "pages", "bytes"}."""
    target = Path(path)
    if target.exists():
        raise StoreError(f"backup file {target} already exists; choose a new name or delete it first")
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = target.with_name(target.name + ".partial")
    tmp.unlink(missing_ok=True)
    try:
        dest = sqlite3.connect(str(tmp), isolation_level=None)
        try:
            db.conn.backup(dest, pages=1024)
            # A backup is one file: no -wal beside it that could be forgotten when it is copied.
            dest.execute("PRAGMA journal_mode = DELETE")
            pages = dest.execute("PRAGMA page_count").fetchone()[0]
        finally:
            dest.close()
        tmp.replace(target)
    except sqlite3.Error as exc:
        tmp.unlink(missing_ok=True)
        raise store.explain_sqlite_error(exc, str(target)) from exc
    except OSError as exc:
        tmp.unlink(missing_ok=True)
        raise StoreError(f"cannot write backup {target}: {exc}") from exc
    return {"path": str(target), "pages": pages, "bytes": target.stat().st_size}


def check_backup_file(path: str | Path) -> dict:
    """Raise StoreError unless `path` is a readable, intact rumourwatch database; returns a summary."""
    p = Path(path)
    if not p.is_file():
        raise StoreError(f"backup file {p} does not exist")
    with open(p, "rb") as fh:
        head = fh.read(len(SQLITE_MAGIC))
    if head != SQLITE_MAGIC:
        raise StoreError(f"{p} is not a rumourwatch backup: it is not an SQLite database file")
    try:
        conn = _connect(p, read_only=True)
    except sqlite3.Error as exc:
        raise StoreError(f"{p} cannot be opened as a database: {exc}") from exc
    try:
        import sqlite_utils

        db = sqlite_utils.Database(conn)
        if not store.is_rumourwatch_db(db):
            raise StoreError(f"{p} is an SQLite database but not a rumourwatch database "
                             "(no items/reactions/checkpoints tables or migration record); nothing was restored")
        problems = [r[0] for r in conn.execute("PRAGMA integrity_check").fetchall()]
        if problems != ["ok"]:
            raise StoreError(f"{p} is damaged ({'; '.join(problems[:3])}); nothing was restored")
        migrations = [r[0] for r in conn.execute("SELECT name FROM _migrations ORDER BY name")]
        items = conn.execute("SELECT count(*) FROM items").fetchone()[0]
    except sqlite3.DatabaseError as exc:
        raise StoreError(f"{p} is not a readable rumourwatch database: {exc}; nothing was restored") from exc
    finally:
        conn.close()
    return {"path": str(p), "migrations": migrations, "items": items}


def restore(path: str | Path, db_path: str | Path) -> dict:
    """Replace the database at `db_path` with the backup at `path`, then bring its schema up to date.

    Stop the worker first: a restore rewinds every checkpoint to the moment of the backup."""
    summary = check_backup_file(path)
    target = Path(db_path)
    if target.exists() and target.resolve() == Path(path).resolve():
        raise StoreError("backup file and database are the same file")
    target.parent.mkdir(parents=True, exist_ok=True)
    try:
        src = _connect(Path(path), read_only=True)
        try:
            dest = _connect(target)
            try:
                src.backup(dest)
            finally:
                dest.close()
        finally:
            src.close()
    except sqlite3.Error as exc:
        raise store.explain_sqlite_error(exc, str(target)) from exc
    db = store.open_db(target, migrate=False)  # WAL on again; then the steps added since the backup
    try:
        applied = store.apply_migrations(db)
    finally:
        db.conn.close()
    return dict(summary, restored_to=str(target), migrations_applied=applied)
