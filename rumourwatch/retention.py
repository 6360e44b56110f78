"""数据保留期限: personal data the work no longer needs is removed once it is `days` old (setting
retention_days; `rumourwatch retention`), so the store does not keep people's traces for ever:

- the account ids of the people who reposted or commented (`reactions.user_id`): the live model
  reads them while an item is new (the reactors' track record); the reactions' words, times and
  counts stay, so the reports, the special report's quotes (which never name authors) and 辟谣效果
  read the same;
- rejected records' raw content (`rejects`): a malformed record is set aside with its reason to be
  looked at, not kept for good;
- ended login sessions (`sessions`; the logins themselves stay in the audit log).

The items, their publishers (the risk points and repeat publishers need them), verdicts, alerts and
the audit log are kept. Each run is audited with what it removed.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from . import store
from .config import MIN_RETENTION_DAYS
from .errors import ConfigError
from .records import iso

ID_STEP = 50_000  # reaction ids per write transaction: the worker's writes wait at most one step


def cutoff(days: int, now: datetime) -> str:
    """The UTC time before which data is `days` old; ConfigError for a period under the minimum."""
    if days < MIN_RETENTION_DAYS:
        raise ConfigError(f"a retention period must be at least {MIN_RETENTION_DAYS} days, got {days}",
                          "setting_retention_days", value=days, min=MIN_RETENTION_DAYS)
    return iso(now - timedelta(days=days))


def plan(db, days: int, now: datetime) -> dict:
    """What a run now would remove: {"cutoff", "reactor_ids", "rejects", "sessions"}."""
    before = cutoff(days, now)
    return {"cutoff": before, **store.retention_counts(db, before)}


def apply(db, days: int, now: datetime, actor: str) -> dict:
    """Remove what `plan` counts, in short transactions (the worker keeps writing meanwhile), and
    audit the run (`retention.apply`, with the period and the counts). Returns the counts."""
    before = cutoff(days, now)
    erased, low = 0, 0
    high = store.max_reaction_id(db)
    while low < high:
        with store.transaction(db):
            erased += store.erase_reactor_ids(db, low, low + ID_STEP, before)
        low += ID_STEP
    with store.transaction(db):
        rejects, sessions = store.delete_old_rejects(db, before), store.delete_old_sessions(db, before)
        done = {"cutoff": before, "reactor_ids": erased, "rejects": rejects, "sessions": sessions}
        store.record_audit(db, actor, "retention.apply", "database", None, {"days": days, **done}, at=iso(now))
    return done
