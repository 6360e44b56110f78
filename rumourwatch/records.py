"""Shared record types and time parsing: what flows from sources through ingest to the models.

Every datetime here is timezone-aware UTC. Source times without a zone are China Standard Time.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone

from .errors import RecordError

CST = timezone(timedelta(hours=8), "CST")
UTC = timezone.utc

_FORMATS = ("%Y-%m-%d %H:%M:%S", "%Y-%m-%d %H:%M", "%Y-%m-%d", "%Y/%m/%d %H:%M:%S",
            "%Y/%m/%d %H:%M", "%Y/%m/%d")
_JSON_TYPES = {type(None): "null", bool: "boolean", int: "number", float: "number", str: "string", list: "array",
               dict: "object"}


def json_type(value) -> str:
    """The JSON name of a decoded value's type ('array', 'string', …), else its Python type's name: the
    code a RecordError's params give for what a field held instead."""
    return _JSON_TYPES.get(type(value), type(value).__name__)


def parse_time(value) -> datetime | None:
    """Parse a bundle-style China time (`YYYY-MM-DD HH:MM`) or ISO 8601; None for empty input.

    Naive times are China Standard Time; the result is UTC. Raises RecordError when unreadable.
    """
    if value is None or value == "":
        return None
    if isinstance(value, datetime):
        dt = value
    elif isinstance(value, (int, float)) and not isinstance(value, bool):
        try:
            return datetime.fromtimestamp(float(value), UTC)
        except (OverflowError, OSError, ValueError):  # NaN, inf, or outside the years 1-9999
            raise RecordError(f"unreadable timestamp {value!r}: not a time between the years 1 and 9999",
                              "record_bad_timestamp", value=value) from None
    elif isinstance(value, str):
        text = value.strip()
        dt = None
        if len(text) >= 10 and text[4] == "-":  # ISO 8601 and the bundle's 'YYYY-MM-DD HH:MM': C fast path
            try:
                dt = datetime.fromisoformat(text.replace("Z", "+00:00") if text.endswith("Z") else text)
            except ValueError:
                dt = None
        for fmt in () if dt is not None else _FORMATS:
            try:
                dt = datetime.strptime(text, fmt)
                break
            except ValueError:
                continue
        if dt is None:
            try:
                dt = datetime.fromisoformat(text.replace("Z", "+00:00"))
            except ValueError:
                raise RecordError(f"unreadable date {value!r}: use 'YYYY-MM-DD HH:MM' (China time) or ISO 8601",
                                  "record_bad_date", value=value) from None
    else:
        raise RecordError(f"date must be a string, got {type(value).__name__}", "record_date_type",
                          json_type=json_type(value))
    if dt.tzinfo is None:
        dt = dt.replace(tzinfo=CST)
    try:
        return dt.astimezone(UTC)
    except OverflowError:  # 0001-01-01 China time is before the year 1 in UTC
        raise RecordError(f"date {value!r} is out of range", "record_date_range", value=value) from None


def beijing(value, fmt: str = "%Y-%m-%d %H:%M") -> str | None:
    """A stored UTC time (ISO text or datetime; a datetime without a zone is UTC) as Beijing time for
    people to read, `YYYY-MM-DD HH:MM` by default; None for none, and a text that is no time as it is.
    The one formatting every page, report and notification uses."""
    if value is None or value == "":
        return None
    try:
        dt = value if isinstance(value, datetime) else parse_time(value)
    except RecordError:
        return str(value)
    if dt.tzinfo is None:
        dt = dt.replace(tzinfo=UTC)
    return dt.astimezone(CST).strftime(fmt)


def hours_between(a, b) -> float | None:
    """Hours from time `a` to time `b` (stored times or datetimes, as `parse_time` reads them);
    None when either is missing."""
    ta, tb = parse_time(a), parse_time(b)
    if ta is None or tb is None:
        return None
    return (tb - ta).total_seconds() / 3600


def iso(dt: datetime | None) -> str | None:
    """UTC ISO 8601 with seconds, the store's one time format (sorts as text)."""
    if dt is None:
        return None
    if dt.tzinfo is not UTC:
        dt = dt.astimezone(UTC)
    # %-formatting: twice the speed of isoformat() or an f-string with widths here (called per item)
    return "%04d-%02d-%02dT%02d:%02d:%02dZ" % (  # noqa: UP031
        dt.year, dt.month, dt.day, dt.hour, dt.minute, dt.second)


@dataclass
class Reaction:
    """A comment or repost of an item, with its own time."""

    kind: str  # "repost" or "comment"
    text: str
    at: datetime | None = None
    user_id: str | None = None


@dataclass
class Doc:
    """What the models see of one item at a decision time: text plus the reactions known by then.

    `extra` keeps optional signals (account facts such as followers/verified, has_url, pics).
    Models must not read engagement totals gathered after the decision time.
    """

    text: str
    published_at: datetime | None = None
    reactions: list[Reaction] = field(default_factory=list)
    user: dict | None = None
    extra: dict = field(default_factory=dict)

    def as_of(self, hours: float | None) -> "Doc":
        """The same doc with only the reactions dated up to `hours` after publication.

        Reactions without a time, or when the item has no time, are kept only when hours is None.
        Reactions dated before the item (clock skew in the source) count as known at once.
        """
        if hours is None:
            return self
        if self.published_at is None:
            kept = []
        else:
            try:
                cutoff = self.published_at + timedelta(hours=hours)
            except OverflowError:  # past the year 9999: every dated reaction is before it
                cutoff = datetime.max.replace(tzinfo=UTC)
            kept = [r for r in self.reactions if r.at is not None and r.at <= cutoff]
        return Doc(self.text, self.published_at, kept, self.user, self.extra)


_MONTH_DAY = re.compile(r"^\s*(\d{1,2})月(\d{1,2})日\s+(\d{1,2}):(\d{2})\s*$")


def date_in_post_year(value, post_date) -> object:
    """A year-less reaction date ('05月21日 15:01', the way Weibo shows dates of the current year, as
    CED stores some reposts) as 'YYYY-MM-DD HH:MM' in the post's own year — the next year when that
    would put the reaction more than a day before the post. Any other value is returned as it is.
    `post_date` is the post's raw date ('YYYY-MM-DD …' China time, or ISO 8601)."""
    if not isinstance(value, str) or "月" not in value:
        return value
    m = _MONTH_DAY.match(value)
    if not m:
        return value
    if isinstance(post_date, str):
        if len(post_date) < 10 or not post_date[:4].isdigit():
            return value
    elif not isinstance(post_date, (int, float)) or isinstance(post_date, bool):  # epoch seconds
        return value
    try:
        post = parse_time(post_date).astimezone(CST)
    except RecordError:
        return value
    mo, d, hh, mm = (int(g) for g in m.groups())
    candidate = f"{post.year:04d}-{mo:02d}-{d:02d} {hh:02d}:{mm:02d}"
    if (mo, d) < (post.month, post.day - 1):
        candidate = f"{post.year + 1:04d}" + candidate[4:]
    return candidate


def reactions_from_bundle(record: dict) -> list[Reaction]:
    """Reactions of a bundle-style record (`reposts` / `comments` lists of {date, text, user_id}).
    Year-less dates are placed in the post's year (`date_in_post_year`); without a post date to
    take the year from, such a reaction is undated (used when every reaction counts, never under a
    decision time)."""
    out: list[Reaction] = []
    post_date = record.get("date")
    for key, kind in (("reposts", "repost"), ("comments", "comment")):
        values = record.get(key) or []
        if not isinstance(values, list):
            raise RecordError(f"{key} must be a list of {{date, text}} objects", "record_reactions_not_list",
                              list=key)
        for i, r in enumerate(values):
            if not isinstance(r, dict):
                raise RecordError(f"{key}[{i}] must be an object with date and text", "record_reaction_not_object",
                                  list=key, n=i + 1)
            text = r.get("text") or ""
            if not isinstance(text, str):
                raise RecordError(f"{key}[{i}].text must be a string", "record_reaction_text", list=key, n=i + 1)
            raw = r.get("date")
            placed = date_in_post_year(raw, post_date)
            if placed is raw and isinstance(raw, str) and _MONTH_DAY.match(raw):
                at = None  # year-less, and no post date to take the year from: an undated reaction
            else:
                try:
                    at = parse_time(placed)
                except RecordError as exc:
                    raise RecordError(f"{key}[{i}]: {exc}", "record_reaction_entry", list=key, n=i + 1,
                                      reason=exc.as_reason()) from None
            uid = r.get("user_id")
            out.append(Reaction(kind, text, at, None if uid is None else str(uid)))
    return out


def doc_from_bundle(record: dict) -> Doc:
    """A Doc from a bundle-style record (as in rumour/*.jsonl.gz and score-file input)."""
    text = record.get("text")
    if not isinstance(text, str):
        raise RecordError("text is missing or not a string", "record_text_missing")
    user = record.get("user") if isinstance(record.get("user"), dict) else None
    extra = {k: record[k] for k in ("has_url", "pics", "has_pic", "has_video", "source")
             if k in record}
    account = record.get("user_id") if record.get("user_id") not in (None, "") else record.get("account")
    if isinstance(account, (str, int)) and not isinstance(account, bool) and str(account):
        extra["account"] = str(account)  # the publishing account: its track record is a signal
    return Doc(text=text, published_at=parse_time(record.get("date")),
               reactions=reactions_from_bundle(record), user=user, extra=extra)
