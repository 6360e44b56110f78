"""The source protocol: adapters yield raw records with a resumable position; no database here.

A source never decides what an item is (ingest does); it only reads. Each yielded event carries
the position to store as the source's checkpoint once the event is committed, so a worker that
crashes resumes after the last committed event with nothing lost or duplicated.

Raw item dicts use the bundle's field names where they exist:
  id (external id on the platform), platform, url, account, author, date (publish time),
  title, text, repost_num, comment_num, like_num, user (dict), reposts / comments (lists of
  {date, text, user_id}), and optionally original_date (the time before a replay shift).
A raw reaction dict: {"item_id", "platform", "kind": "repost"|"comment", "date", "text",
  "user_id", optionally "original_date"}.
"""

from __future__ import annotations

import shlex
from dataclasses import dataclass, field
from typing import Iterator, Protocol

from ..errors import RecordError


@dataclass
class RawItem:
    """One media item as the source saw it. `origin` (file path and line, feed url) is kept with the
    record if ingest sets it aside, as a RawReject's is."""

    record: dict
    position: str | None = None
    origin: str = ""


@dataclass
class RawReaction:
    """A reaction that arrives after its item (live feeds, replay)."""

    record: dict
    position: str | None = None
    origin: str = ""


@dataclass
class RawReject:
    """Input the source could not even parse into a record (bad JSON, undecodable bytes).

    `reason` is English (CLI, logs); `key` and `params` name its Chinese text for the dashboard
    (strings.py `wferr.<key>`), as a RecordError's do."""

    raw: str
    reason: str
    position: str | None = None
    origin: str = ""  # file path and line, feed url, ...
    key: str | None = None
    params: dict = field(default_factory=dict)

    @classmethod
    def of(cls, error: RecordError, raw: str, position: str | None, origin: str = "",
           line: int | None = None) -> RawReject:
        """The reject for `error` (its English text after 'line N: ' when `line` is given, and its
        key and params)."""
        reason = str(error) if line is None else f"line {line}: {error}"
        return cls(raw=raw, reason=reason, position=position, origin=origin, key=error.key, params=error.params)


Event = RawItem | RawReaction | RawReject


def reset_command(source: str) -> str:
    """The command that resets `source`'s checkpoint, ready to paste into a shell: the errors whose
    remedy it is name it."""
    return f"rumourwatch sources reset-checkpoint {shlex.quote(source)}"


@dataclass
class SourceStatus:
    """What a poll of a source found, for the worker's log and the dashboard's source health."""

    ok: bool = True
    message: str = ""
    details: dict = field(default_factory=dict)


class Source(Protocol):
    """A named, resumable reader of raw records."""

    name: str

    def read(self, checkpoint: str | None) -> Iterator[Event]:
        """Yield events after `checkpoint` (None: from the start). May yield nothing when idle.

        Raises SourceError when the source cannot be read at all (file missing, feed down);
        the worker logs it and tries again at the next poll.
        """
        ...

    def acknowledge(self, position: str) -> None:
        """Called after events up to `position` are committed (e.g. to move a dropped file)."""
        ...
