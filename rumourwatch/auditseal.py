"""A sealed audit log: each entry carries a keyed hash (HMAC-SHA256) of itself and of the seal before
it, with a key kept outside the database (setting audit_key_file), so an entry changed, removed or
slipped in by whoever holds the database file — a copy, a backup, an editor that drops the
append-only triggers — shows when the log is verified (`rumourwatch audit --verify`, 系统自检, the
审计日志 page). Without the key, nobody can write a seal that verifies.

The seal of entry n is HMAC(key, seal of the last sealed entry before n + "\\n" + JSON of n's id,
time, actor, action, object type, object id and details as stored). Entries get consecutive ids
(the next one after the largest), written inside the action's write transaction, so the chain has
one order whichever process writes. Entries written before a key was set stay unsealed and cannot
be checked; an unsealed entry after the first sealed one is reported (a process running without
the key, or an entry slipped in).

What it cannot show: the newest entries removed from the end. `--verify` and `rumourwatch check`
print the last sealed entry and its seal: a copy kept off the machine (a nightly mail of the check's
output) is what a shortened log is compared with.

A key file that cannot be read does not stop the actions (the response clocks run on): their
entries are written unsealed, logged, and verification reports them.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import os
import secrets
from dataclasses import dataclass, field
from pathlib import Path

from .errors import ConfigError

log = logging.getLogger("rumourwatch.audit")

KEY_ENV = "RUMOURWATCH_AUDIT_KEY_FILE"
MIN_KEY_BYTES = 32
_FIELDS = ("id", "at", "actor", "action", "target_type", "target_id", "details")
_CACHE: dict[tuple, bytes | None] = {}
REPORTED = 20  # entries listed by name in a verification; the counts are complete


def key_file() -> str:
    return os.environ.get(KEY_ENV, "").strip()


def read_key(path: str | Path) -> bytes:
    """The key in `path` (hex, at least 32 bytes); ConfigError saying what is wrong otherwise."""
    try:
        text = Path(path).read_text(encoding="ascii").strip()
        key = bytes.fromhex(text)
    except FileNotFoundError:
        raise ConfigError(f"audit key file {path} does not exist; create one with `rumourwatch audit-key {path}`",
                          "audit_key_missing", path=str(path)) from None
    except (OSError, UnicodeDecodeError, ValueError) as exc:
        raise ConfigError(f"audit key file {path} cannot be read as a hex key: {exc}", "audit_key_unreadable",
                          path=str(path), reason=str(exc)) from None
    if len(key) < MIN_KEY_BYTES:
        raise ConfigError(f"audit key file {path} holds {len(key)} bytes; at least {MIN_KEY_BYTES} are needed",
                          "audit_key_short", path=str(path), n=len(key), min=MIN_KEY_BYTES)
    return key


def current_key() -> bytes | None:
    """The key the settings name, read once per file version; None when none is set or it cannot
    be read (said in the log once per version)."""
    path = key_file()
    if not path:
        return None
    try:
        st = os.stat(path)
        stamp = (path, st.st_mtime_ns, st.st_size)
    except OSError:
        stamp = (path, None, None)
    if stamp not in _CACHE:
        try:
            _CACHE[stamp] = read_key(path)
        except ConfigError as exc:
            log.error("audit entries are written unsealed: %s", exc)
            _CACHE[stamp] = None
    return _CACHE[stamp]


def seal(key: bytes, previous: str | None, row) -> str:
    """The seal of an audit row (its fields in _FIELDS order, as stored) after `previous`."""
    payload = (previous or "") + "\n" + json.dumps(list(row), ensure_ascii=False)
    return hmac.new(key, payload.encode("utf-8"), hashlib.sha256).hexdigest()


def new_key_file(path: str | Path) -> Path:
    """Write a new random key to `path`, readable by its owner only; an existing file is kept."""
    p = Path(path)
    try:
        fd = os.open(p, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        raise ConfigError(f"{p} exists already; a new key would stop the entries sealed with it from "
                          "verifying", "audit_key_exists", path=str(p)) from None
    with os.fdopen(fd, "w", encoding="ascii") as fh:
        fh.write(secrets.token_hex(MIN_KEY_BYTES) + "\n")
    return p


@dataclass
class Verification:
    entries: int = 0
    sealed: int = 0
    first_sealed: int | None = None  # id of the first sealed entry
    last_sealed: int | None = None
    head: str | None = None  # the last sealed entry's seal
    broken: list = field(default_factory=list)  # ids whose seal does not verify (first REPORTED)
    broken_count: int = 0
    unsealed_after: list = field(default_factory=list)  # unsealed ids after the first sealed one
    unsealed_after_count: int = 0
    gaps: list = field(default_factory=list)  # (after id, before id): sealed ids not consecutive
    gaps_count: int = 0

    @property
    def intact(self) -> bool:
        return not (self.broken_count or self.unsealed_after_count or self.gaps_count)

    def as_dict(self) -> dict:
        return dict(vars(self), intact=self.intact)


def verify(db, key: bytes) -> Verification:
    """Check every seal of the log against `key` (read-only)."""
    result = Verification()
    previous = None
    previous_id = None
    for row in db.execute(f"SELECT {', '.join(_FIELDS)}, chain FROM audit_log ORDER BY id"):
        result.entries += 1
        *fields, chain = row
        entry_id = fields[0]
        if chain is None:
            if result.first_sealed is not None:
                result.unsealed_after_count += 1
                if len(result.unsealed_after) < REPORTED:
                    result.unsealed_after.append(entry_id)
            previous_id = entry_id
            continue
        if result.first_sealed is None:
            result.first_sealed = entry_id
        elif previous_id is not None and entry_id != previous_id + 1:
            result.gaps_count += 1
            if len(result.gaps) < REPORTED:
                result.gaps.append((previous_id, entry_id))
        if not hmac.compare_digest(seal(key, previous, fields), chain):
            result.broken_count += 1
            if len(result.broken) < REPORTED:
                result.broken.append(entry_id)
        # go on from the stored seal: one changed entry is reported once, not with all after it
        previous, previous_id = chain, entry_id
        result.sealed += 1
        result.last_sealed, result.head = entry_id, chain
    return result
