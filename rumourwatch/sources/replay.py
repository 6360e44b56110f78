"""Replay of the data bundle as a live feed, shifted to the present so the dashboard's "today"
is alive.

Each dataset starts at the replay start. An event of dataset d dated t (its original time) plays at

    replay_time = start + (t - origin_d) / speed

where origin_d is the time of d's first replayed item. The yielded record carries ``date`` = the
replay time and ``original_date`` = t (both UTC ISO 8601). Datasets:

  stream   stream/covid_weibo_2020_sample.jsonl.gz  platform 微博, id ``stream-`` + sha1(text)[:16],
           account = user_id. Its dates are days only: the posts of a day are spread over that day
           (China time) in file order, evenly with a seeded jitter, so the replay is deterministic.
           The sample is eight separate days weeks apart: day-dated datasets play their days one
           after another, skipping the days they do not have (``original_date`` keeps the real day),
           so a live demo is never silent for hours.
  checked  rumour/checked_train.jsonl.gz            platform 微博
  ced      rumour/ced_train.jsonl.gz                platform 微博
  debunks  debunks/debunk_articles.jsonl.gz         the article's platform, url, title; text = title
           (day-only dates spread like the stream's)

Labelled posts (checked, ced) are yielded without their labels, verdicts (analysis), final
engagement totals (repost_num, comment_num, like_num) and reaction lists; their reposts and
comments follow as RawReactions at their own shifted times (a reaction dated before its item, a
quirk of the source, plays right after the item). Every record carries ``dataset`` (its name).

Events are merged by original offset (t - origin_d), then dataset order, then generation order;
the order does not depend on `speed`. `read()` yields the events whose replay time is at or before
`clock()`, streaming: only the next item of each dataset and the pending reactions of items
already played are held in memory.

`holdout` ({"checked": cutoff, "ced": cutoff}) replays only items dated strictly after the cutoff
(the models were trained on the earlier part). `exclude` names (dataset, label id) pairs never
replayed: the hand-labelled items the relevance model was trained on (`hand_labelled`). `limit` caps the number of items taken from each
dataset (their reactions all play).

Position format: ``replay:v1;start=<UTC ISO>;n=<events yielded>;cfg=<settings digest>``. A restarted
worker passes it back and the replay resumes after event n with the same start (hence the same
time mapping). `cfg` digests datasets, holdout, limit and seed — a checkpoint made under other
settings is refused with a clear error (`rumourwatch sources reset-checkpoint replay` starts again).
"""

from __future__ import annotations

import calendar
import hashlib
import heapq
import json
import math
import random
import re
import time
from collections import Counter
from contextlib import contextmanager
from datetime import datetime, timezone
from pathlib import Path
from typing import Callable, Iterator

from ..config import BundleLines
from ..errors import DataBundleError, SourceError
from ..records import parse_time
from .base import Event, RawItem, RawReaction, SourceStatus, reset_command

UTC = timezone.utc
CST_OFFSET = 8 * 3600
DATASET_FILES = {
    "stream": "stream/covid_weibo_2020_sample.jsonl.gz",
    "checked": "rumour/checked_train.jsonl.gz",
    "ced": "rumour/ced_train.jsonl.gz",
    "debunks": "debunks/debunk_articles.jsonl.gz",
}
DEFAULT_DATASETS = ("stream", "checked", "ced", "debunks")
# Fields of labelled posts never replayed: labels, verdicts, totals gathered after the fact,
# and the reaction lists (they arrive as RawReactions).
_WITHHELD = {"label", "analysis", "split", "repost_num", "comment_num", "like_num",
             "reposts", "comments", "date"}
_DAY_RE = re.compile(rb'"date":\s*"(\d{4}-\d{2}-\d{2})"')
_DAY_COUNTS: dict[tuple, Counter] = {}
POSITION_PREFIX = "replay:v1;"
_ORIGINAL = "\x00original_epoch"  # a day-dated record's own time, when it plays at another
# Replay timing version, part of the checkpoint's settings digest: v2 plays day-dated samples gapless.
_TIMING = "days-gapless"


def _epoch(value) -> float | None:
    """Seconds since the epoch for a bundle date (China time) or ISO string; None if unreadable."""
    if not isinstance(value, str) or not value:
        return None
    s = value
    if len(s) >= 16 and s[4] == "-" and s[7] == "-" and s[10] == " " and s[13] == ":":
        try:
            sec = int(s[17:19]) if len(s) >= 19 and s[16] == ":" else 0
            return calendar.timegm((int(s[0:4]), int(s[5:7]), int(s[8:10]),
                                    int(s[11:13]), int(s[14:16]), sec)) - CST_OFFSET
        except ValueError:
            pass
    try:
        dt = parse_time(s)
    except Exception:  # noqa: BLE001 - an unreadable date plays with its item
        return None
    return None if dt is None else dt.timestamp()


def _iso(epoch: float) -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(epoch))


def _aware(value, what: str) -> datetime:
    if isinstance(value, datetime):
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)
    try:
        dt = parse_time(value)
    except Exception:  # noqa: BLE001
        dt = None
    if dt is None:
        raise SourceError(f"{what} must be a datetime or ISO 8601 string, got {value!r}", "replay_bad_time",
                          what=what, value=value)
    return dt


@contextmanager
def _bundle_lines(path: Path) -> Iterator[BundleLines]:
    """The byte lines of a gzipped bundle file. An interrupted copy (truncated or damaged) fails
    as a SourceError naming the file and the line it broke after: the worker keeps what came
    before, shows the error on the source's status and tries again at the next poll."""
    try:
        with BundleLines(path, binary=True) as fh:
            yield fh
    except DataBundleError as exc:
        raise SourceError(str(exc), "replay_bundle_damaged", path=str(path)) from None


def _day_counts(path: Path) -> Counter:
    """Posts per day of a day-dated file (cached per file version)."""
    st = path.stat()
    key = (str(path), st.st_size, st.st_mtime_ns)
    counts = _DAY_COUNTS.get(key)
    if counts is None:
        counts = Counter()
        with _bundle_lines(path) as fh:
            for line in fh:
                m = _DAY_RE.search(line)
                if m:
                    counts[m.group(1).decode("ascii")] += 1
        _DAY_COUNTS[key] = counts
    return counts


class _Cursor:
    """The merged, lazily generated event sequence of one replay (deterministic)."""

    def __init__(self, source: "ReplaySource"):
        self.source = source
        self.heap: list = []
        self.seq = 0
        self.n = 0  # events popped
        self.origins: dict[str, float] = {}
        self.iters: dict[str, Iterator] = {}
        for rank, ds in enumerate(source.datasets):
            it = source._items(ds)
            first = next(it, None)
            if first is None:
                continue
            self.origins[ds] = first[0]
            self.iters[ds] = it
            self._push_item(ds, rank, first)

    def _push(self, offset: float, rank: int, payload) -> None:
        self.seq += 1
        heapq.heappush(self.heap, (offset, rank, self.seq, payload))

    def _push_item(self, ds: str, rank: int, item) -> None:
        epoch, record, reactions = item
        self._push(epoch - self.origins[ds], rank, ("item", ds, rank, epoch, record, reactions))

    def peek_offset(self) -> float | None:
        return self.heap[0][0] if self.heap else None

    def pop(self):
        """The next event as (offset, kind, data); advances the generators behind it."""
        offset, rank, _, payload = heapq.heappop(self.heap)
        self.n += 1
        kind = payload[0]
        if kind == "item":
            _, ds, rank, epoch, record, reactions = payload
            nxt = next(self.iters[ds], None)
            if nxt is not None:
                self._push_item(ds, rank, nxt)
            if reactions:
                self._push_reaction(ds, rank, epoch, record, reactions, 0)
            return offset, "item", (epoch, record)
        _, ds, rank, item_epoch, record, reactions, i = payload
        if i + 1 < len(reactions):
            self._push_reaction(ds, rank, item_epoch, record, reactions, i + 1)
        return offset, "reaction", (record, reactions[i])

    def _push_reaction(self, ds, rank, item_epoch, record, reactions, i) -> None:
        r_epoch = reactions[i][0]
        at = item_epoch if r_epoch is None or r_epoch < item_epoch else r_epoch
        self._push(at - self.origins[ds], rank, ("reaction", ds, rank, item_epoch, record,
                                                  reactions, i))


# The hand-label files name a few datasets differently: label source -> replay dataset.
LABEL_SOURCES = {"debunk": "debunks"}


def label_id(ds: str, raw: dict) -> str:
    """The id the project's hand labels (data/labels/*.csv) give a bundle record: its own `id`,
    else sha1 of the stream text / the debunk url, first 16 hex digits."""
    if ds == "stream":
        return hashlib.sha1((raw.get("text") or "").encode("utf-8", "surrogatepass")).hexdigest()[:16]
    if ds == "debunks":
        return hashlib.sha1((raw.get("url") or "").encode("utf-8", "surrogatepass")).hexdigest()[:16]
    return str(raw.get("id"))


def in_history(ds: str, item_id: str, share: float) -> bool:
    """Whether the demo's history (rumourwatch.demo_history) plays this item rather than the live
    replay: a fixed `share` of each dataset's items, drawn by a hash of the item's id."""
    digest = hashlib.sha1(f"history:{ds}/{item_id}".encode("utf-8", "surrogatepass")).digest()
    return int.from_bytes(digest[:4], "big") < share * 2 ** 32


def hand_labelled(path) -> frozenset:
    """(dataset, label id) of every row of a hand-label CSV (columns source, item_id)."""
    import csv

    with open(path, encoding="utf-8", newline="") as fh:
        return frozenset((LABEL_SOURCES.get(r["source"], r["source"]), r["item_id"])
                         for r in csv.DictReader(fh))


class ReplaySource:
    """The data bundle's posts, reactions and debunk titles played as a live feed."""

    def __init__(self, data_dir, speed: float = 60.0, start=None,
                 clock: Callable[[], datetime] | None = None, holdout: dict | None = None,
                 datasets=DEFAULT_DATASETS, limit: int | None = None, seed: int = 0,
                 name: str = "replay", exclude: frozenset | set = frozenset(), history: float = 0.0,
                 history_only: bool = False):
        self.data_dir = Path(data_dir)
        if not (isinstance(speed, (int, float)) and speed > 0):
            raise SourceError(f"replay speed must be a number greater than 0, got {speed!r}", "replay_speed",
                              value=speed)
        self.speed = float(speed)
        self.start = None if start is None else _aware(start, "replay start")
        self.clock = clock or (lambda: datetime.now(UTC))
        if isinstance(datasets, str):
            datasets = tuple(d.strip() for d in re.split(r"[,+ ]", datasets) if d.strip())
        unknown = [d for d in datasets if d not in DATASET_FILES]
        if unknown or not datasets:
            raise SourceError(f"unknown replay dataset(s) {unknown or list(datasets)!r}; "
                              f"choose from {', '.join(DATASET_FILES)}", "replay_unknown_dataset",
                              value=", ".join(unknown or datasets), choices=", ".join(DATASET_FILES))
        self.datasets = tuple(dict.fromkeys(datasets))
        self.holdout: dict[str, float] = {}
        for ds, cutoff in (holdout or {}).items():
            if ds not in DATASET_FILES:
                raise SourceError(f"holdout names unknown dataset {ds!r}; "
                                  f"choose from {', '.join(DATASET_FILES)}", "replay_unknown_dataset",
                                  value=ds, choices=", ".join(DATASET_FILES))
            if cutoff is not None:
                self.holdout[ds] = _aware(cutoff, f"holdout cutoff for {ds}").timestamp()
        if limit is not None and (not isinstance(limit, int) or limit < 0):
            raise SourceError(f"replay limit must be a whole number ≥ 0, got {limit!r}", "replay_limit",
                              value=limit)
        self.limit = limit
        self.seed = seed
        self.name = name
        self.paths = {ds: self._path(DATASET_FILES[ds]) for ds in self.datasets}
        # (dataset, label id) pairs never replayed: items a model was trained on (hand labels)
        self.exclude = frozenset(exclude)
        excluded = hashlib.sha1("\n".join(sorted(f"{d}/{i}" for d, i in self.exclude)).encode()).hexdigest()
        if not (isinstance(history, (int, float)) and 0 <= history < 1):
            raise SourceError(f"replay history share must be a number from 0 to below 1, got {history!r}",
                              "replay_history", value=history)
        # the share of items set aside for the demo's history (in_history): the live replay skips
        # them, the history plays only them
        self.history = float(history)
        self.history_only = bool(history_only)
        self.cfg = hashlib.sha1(json.dumps(
            [self.datasets, sorted(self.holdout.items()), limit, seed, _TIMING]
            + ([excluded] if self.exclude else [])
            + ([self.history, self.history_only] if self.history else [])).encode()).hexdigest()[:8]
        self.last_status = SourceStatus(ok=True, message="not polled yet")
        self._cursor: _Cursor | None = None
        self._cursor_start: float | None = None

    @classmethod
    def fast(cls, data_dir, speed: float = 60.0, **kwargs) -> "ReplaySource":
        """A replay whose clock is far ahead: everything is yielded at once (benchmarks, tests).

        Dates are still shifted with `speed` from `start` (default now).
        """
        kwargs.setdefault("clock", lambda: datetime.max.replace(tzinfo=UTC))
        if kwargs.get("start") is None:
            kwargs["start"] = datetime.now(UTC).replace(microsecond=0)
        return cls(data_dir, speed=speed, **kwargs)

    def _path(self, relative: str) -> Path:
        if not self.data_dir.is_dir():
            raise DataBundleError(f"data bundle directory {self.data_dir} does not exist; set "
                                  "RUMOURWATCH_DATA_DIR to the bundle")
        path = self.data_dir / relative
        if not path.is_file():
            raise DataBundleError(f"data bundle file {path} is missing")
        return path

    # -- dataset readers: yield (epoch, record, reactions) in date order -------------------------
    def _items(self, ds: str) -> Iterator[tuple]:
        path = self.paths[ds]
        cutoff = self.holdout.get(ds)
        day_only = ds in ("stream", "debunks")
        counts = _day_counts(path) if day_only else None
        rng = random.Random(f"{self.seed}:{ds}")
        day, index_in_day, base, n = None, 0, None, 1
        play_base = None  # day-dated samples play day after day: their empty days are skipped
        taken = 0
        with _bundle_lines(path) as fh:
            for line in fh:
                if self.limit is not None and taken >= self.limit:
                    return
                try:
                    raw = json.loads(line)
                except ValueError:
                    continue  # the bundle is valid JSON Lines; a damaged line has no time to play
                date = raw.get("date") or ""
                if day_only:
                    if date != day:
                        new_base = _epoch(date + " 00:00")
                        if new_base is not None:
                            play_base = new_base if play_base is None else play_base + 86400.0
                        day, index_in_day, base = date, 0, new_base
                        n = counts.get(date, 1) or 1
                    u = rng.random()  # drawn for every line, so holdout/limit do not move times
                    if base is None:
                        continue
                    within = (index_in_day + u) / n * 86400.0
                    epoch = base + within
                    index_in_day += 1
                else:
                    epoch = _epoch(date)
                    if epoch is None:
                        continue
                if cutoff is not None and epoch <= cutoff:
                    continue
                if self.exclude and (ds, label_id(ds, raw)) in self.exclude:
                    continue
                if self.history and in_history(ds, label_id(ds, raw), self.history) != self.history_only:
                    continue
                taken += 1
                record, reactions = self._shape(ds, raw)
                record["dataset"] = ds
                if day_only:
                    record[_ORIGINAL] = epoch
                    epoch = play_base + within
                yield epoch, record, reactions

    def _shape(self, ds: str, raw: dict) -> tuple[dict, list]:
        if ds == "stream":
            text = raw.get("text") or ""
            record = {"id": "stream-" + hashlib.sha1(text.encode("utf-8", "surrogatepass"))
                      .hexdigest()[:16], "platform": "微博", "text": text,
                      "account": raw.get("user_id"), "user_id": raw.get("user_id")}
            return {k: v for k, v in record.items() if v is not None}, []
        if ds == "debunks":
            title = raw.get("title") or ""
            url = raw.get("url") or ""
            record = {"id": "debunk-" + hashlib.sha1(f"{url}\n{title}".encode("utf-8"))
                      .hexdigest()[:16], "platform": raw.get("platform") or "网站",
                      "url": url or None, "title": title, "text": title,
                      "account": raw.get("platform")}
            return {k: v for k, v in record.items() if v is not None}, []
        record = {k: v for k, v in raw.items() if k not in _WITHHELD}
        record["platform"] = "微博"
        if raw.get("user_id") is not None:
            record["account"] = raw["user_id"]
        reactions = []
        for key, kind in (("reposts", "repost"), ("comments", "comment")):
            for r in raw.get(key) or ():
                if isinstance(r, dict):
                    reactions.append((_epoch(r.get("date")), kind, r))
        reactions.sort(key=lambda t: -math.inf if t[0] is None else t[0])
        return record, reactions

    # -- reading ---------------------------------------------------------------------------------
    def _parse_checkpoint(self, checkpoint: str) -> tuple[float, int]:
        fields = {}
        if checkpoint.startswith(POSITION_PREFIX):
            for piece in checkpoint[len(POSITION_PREFIX):].split(";"):
                k, _, v = piece.partition("=")
                fields[k] = v
        try:
            start = _aware(fields["start"], "replay start").timestamp()
            n = int(fields["n"])
            cfg = fields["cfg"]
        except (KeyError, ValueError, SourceError):
            raise SourceError(f"checkpoint {checkpoint!r} is not a replay position (expected "
                              f"replay:v1;start=…;n=…;cfg=…); reset it with: {reset_command(self.name)}",
                              "source_bad_checkpoint", position=checkpoint, command=reset_command(self.name)) from None
        if cfg != self.cfg:
            raise SourceError(
                "the replay checkpoint was made with other replay settings (datasets, holdout, "
                f"limit or seed); to start the replay again, run: {reset_command(self.name)}",
                "replay_settings_changed", command=reset_command(self.name))
        return start, n

    def read(self, checkpoint: str | None = None) -> Iterator[Event]:
        now = _aware(self.clock(), "clock()").timestamp()
        if checkpoint:
            start, n = self._parse_checkpoint(checkpoint)
        else:
            if self.start is None:  # "now", fixed at the first read so re-reads keep one mapping
                self.start = datetime.fromtimestamp(int(now), UTC)
            start = float(int(self.start.timestamp()))
            n = 0
        cursor = self._cursor
        if cursor is None or self._cursor_start != start or cursor.n != n:
            cursor = _Cursor(self)
            while cursor.n < n and cursor.heap:
                cursor.pop()
            self._cursor, self._cursor_start = cursor, start
        return self._play(cursor, start, now)

    def _play(self, cursor: _Cursor, start: float, now: float) -> Iterator[Event]:
        speed = self.speed
        yielded = 0
        prefix = f"{POSITION_PREFIX}start={_iso(start)};n="
        suffix = f";cfg={self.cfg}"
        while cursor.heap:
            offset = cursor.peek_offset()
            at = start + offset / speed
            if at > now:
                break
            _, kind, data = cursor.pop()
            position = f"{prefix}{cursor.n}{suffix}"
            yielded += 1
            if kind == "item":
                epoch, record = data
                out = dict(record)
                out["date"] = _iso(at)
                out["original_date"] = _iso(out.pop(_ORIGINAL, epoch))
                yield RawItem(record=out, position=position)
            else:
                item, (r_epoch, r_kind, r) = data
                uid = r.get("user_id")
                out = {"item_id": item["id"], "platform": item["platform"], "kind": r_kind,
                       "date": _iso(at),
                       "original_date": None if r_epoch is None else _iso(r_epoch),
                       "text": r.get("text") or "", "user_id": None if uid is None else str(uid)}
                yield RawReaction(record=out, position=position)
        remaining = "finished" if not cursor.heap else "playing"
        self.last_status = SourceStatus(ok=True, message=f"replay {remaining}: {cursor.n} events",
                                        details={"events": cursor.n, "last_poll": yielded})

    def acknowledge(self, position: str) -> None:
        """Nothing to do: the replay's position is its own resume point."""


__all__ = ["ReplaySource", "DATASET_FILES", "DEFAULT_DATASETS", "LABEL_SOURCES", "hand_labelled", "label_id"]
