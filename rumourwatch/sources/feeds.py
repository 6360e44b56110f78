"""RSS / Atom feeds over HTTP: fetched here (timeout, User-Agent, conditional GET), parsed by
feedparser.

Each entry becomes a raw item: id = entry id or link, url = link, title, text = content or summary
as plain text (HTML tags removed, entities decoded), date = published or updated (UTC ISO 8601),
author, account = the feed's title, platform = the `platform` argument (default 网站).

Decisions:
- A feed that cannot be fetched (connection refused, timeout, DNS, HTTP 4xx/5xx) raises
  SourceError naming the URL and the cause; the worker logs it and polls again later.
- A response that is not a feed at all (malformed XML with no entries, e.g. an HTML error page)
  also raises SourceError rather than yielding a RawReject: it is a property of the source, would
  repeat at every poll, and belongs in the source's health, not in the reject list. A feed that
  parses with a warning but has entries yields them; the warning is in `last_status`.
- Entries are yielded oldest first.

Position (checkpoint) format: ``feed:v1:`` + compact JSON with
  ``seen``  10-hex-digit digests (SHA-1) of the ids yielded, newest last, at most `max_seen`
            (2,000),
  ``floor`` the newest published time among digests evicted from `seen` (entries published at or
            before it are treated as already seen, so a bounded set cannot re-yield old entries),
  ``etag`` / ``lm`` the HTTP validators of the fetch, set only on the last entry of a fetch
            (a worker that crashed mid-fetch must not get a 304 for entries it never committed).
"""

from __future__ import annotations

import calendar
import hashlib
import html
import json
from datetime import datetime, timezone
from html.parser import HTMLParser
from typing import Iterator

import feedparser

from .. import __version__
from ..errors import SourceError
from . import http
from .base import Event, RawItem, SourceStatus, reset_command

USER_AGENT = f"rumourwatch/{__version__} (health rumour monitor; feed reader)"
MAX_FEED_BYTES = 20 * 1024 * 1024
POSITION_PREFIX = "feed:v1:"
_BLOCK_TAGS = {"p", "div", "br", "li", "tr", "h1", "h2", "h3", "h4", "h5", "h6", "blockquote",
               "section", "article", "pre", "table", "ul", "ol", "hr"}
_SKIP_TAGS = {"script", "style", "noscript", "template"}


class _TextExtractor(HTMLParser):
    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self.skipping = 0

    def handle_starttag(self, tag, attrs):
        if tag in _SKIP_TAGS:
            self.skipping += 1
        elif tag in _BLOCK_TAGS:
            self.parts.append("\n")

    def handle_startendtag(self, tag, attrs):
        if tag in _BLOCK_TAGS:
            self.parts.append("\n")

    def handle_endtag(self, tag):
        if tag in _SKIP_TAGS:
            self.skipping = max(0, self.skipping - 1)
        elif tag in _BLOCK_TAGS:
            self.parts.append("\n")

    def handle_data(self, data):
        if not self.skipping:
            self.parts.append(data)


def html_to_text(value: str | None) -> str:
    """Plain text of HTML: tags and scripts removed, entities decoded, one line per block."""
    if not value:
        return ""
    if "<" not in value and "&" not in value:
        return value.strip()
    parser = _TextExtractor()
    try:
        parser.feed(value)
        parser.close()
        text = "".join(parser.parts)
    except Exception:  # noqa: BLE001 - html.parser is lenient; never let markup stop a feed
        text = html.unescape(value)
    lines = (" ".join(line.split()) for line in text.splitlines())
    return "\n".join(line for line in lines if line)


def _digest(entry_id: str) -> str:
    return hashlib.sha1(entry_id.encode("utf-8", "surrogatepass")).hexdigest()[:10]


def _entry_time(entry) -> datetime | None:
    for key in ("published_parsed", "updated_parsed", "created_parsed"):
        value = entry.get(key)
        if value:
            try:
                return datetime.fromtimestamp(calendar.timegm(value), timezone.utc)
            except (OverflowError, ValueError, TypeError):
                continue
    return None


def _iso(dt: datetime | None) -> str | None:
    return None if dt is None else dt.strftime("%Y-%m-%dT%H:%M:%SZ")


class _FeedState:
    def __init__(self, seen=None, floor=None, etag=None, lm=None):
        self.seen: list[str] = list(seen or [])
        self.seen_set = set(self.seen)
        self.floor: str | None = floor
        self.etag: str | None = etag
        self.lm: str | None = lm

    @classmethod
    def parse(cls, position: str | None, source: str) -> "_FeedState":
        """The state a checkpoint of the feed source named `source` holds."""
        if not position:
            return cls()
        if not position.startswith(POSITION_PREFIX):
            raise SourceError(f"checkpoint {position[:60]!r} is not a feed position "
                              f"(expected it to start with {POSITION_PREFIX!r}); reset it with: "
                              f"{reset_command(source)}", "source_bad_checkpoint", position=position[:60],
                              command=reset_command(source))
        try:
            data = json.loads(position[len(POSITION_PREFIX):])
            return cls(data.get("seen"), data.get("floor"), data.get("etag"), data.get("lm"))
        except (ValueError, AttributeError, TypeError):
            raise SourceError(f"checkpoint {position[:60]!r} is a damaged feed position; reset it with: "
                              f"{reset_command(source)}", "source_bad_checkpoint", position=position[:60],
                              command=reset_command(source)) from None

    def encode(self, with_validators: bool) -> str:
        data: dict = {"seen": self.seen}
        if self.floor:
            data["floor"] = self.floor
        if with_validators:
            if self.etag:
                data["etag"] = self.etag
            if self.lm:
                data["lm"] = self.lm
        return POSITION_PREFIX + json.dumps(data, separators=(",", ":"), ensure_ascii=False)

    def is_seen(self, digest: str, published: str | None) -> bool:
        if digest in self.seen_set:
            return True
        return bool(self.floor and published and published <= self.floor)

    def add(self, digest: str, published: str | None, limit: int,
            published_of: dict[str, str | None]) -> None:
        self.seen.append(digest)
        self.seen_set.add(digest)
        published_of[digest] = published
        while len(self.seen) > limit:
            old = self.seen.pop(0)
            self.seen_set.discard(old)
            when = published_of.get(old)
            if when and (self.floor is None or when > self.floor):
                self.floor = when


class FeedSource:
    """An RSS 2.0 / Atom feed polled over HTTP(S)."""

    def __init__(self, url: str, name: str | None = None, platform: str = "网站",
                 timeout: float = 10, max_seen: int = 2000, user_agent: str = USER_AGENT):
        if not url.lower().startswith(("http://", "https://", "file://")):
            raise SourceError(f"feed URL {url!r} must start with http:// or https://", "feed_bad_url", value=url)
        self.url = url
        self.name = name or f"feed:{url}"
        self.platform = platform
        self.timeout = timeout
        self.max_seen = max_seen
        self.user_agent = user_agent
        self.last_status = SourceStatus(ok=True, message="not polled yet")
        # Validators of a fetch whose entries were all yielded, valid while the checkpoint is
        # `_validators_for` (a fetch with nothing new leaves the checkpoint unchanged).
        self._validators: tuple[str | None, str | None] = (None, None)
        self._validators_for: str | None = None
        self._published_of: dict[str, str | None] = {}

    # -- HTTP -------------------------------------------------------------------------------
    def _fetch(self, etag: str | None, lm: str | None):
        """(status, body, headers); status 304 means not modified."""
        headers = {"User-Agent": self.user_agent,
                   "Accept": "application/rss+xml, application/atom+xml, application/xml;q=0.9, "
                             "text/xml;q=0.8, */*;q=0.5"}
        if etag:
            headers["If-None-Match"] = etag
        if lm:
            headers["If-Modified-Since"] = lm
        return http.get(self.url, headers, self.timeout, MAX_FEED_BYTES, noun="feed", source="订阅源")

    # -- reading -----------------------------------------------------------------------------
    def read(self, checkpoint: str | None = None) -> Iterator[Event]:
        state = _FeedState.parse(checkpoint, self.name)
        etag, lm = state.etag, state.lm
        if checkpoint == self._validators_for and self._validators_for is not None:
            etag, lm = self._validators
        try:
            status, body, headers = self._fetch(etag, lm)
        except SourceError as exc:
            self.last_status = SourceStatus(ok=False, message=str(exc))
            raise
        lower = {k.lower(): v for k, v in headers.items()}
        new_validators = (lower.get("etag"), lower.get("last-modified"))
        if status == 304:
            self.last_status = SourceStatus(ok=True, message="not modified (HTTP 304)",
                                            details={"new": 0})
            return
        parsed = feedparser.parse(body, response_headers={
            "content-type": lower.get("content-type", "application/xml"),
            "content-location": self.url})
        entries = list(parsed.entries)
        if parsed.bozo and not entries:
            problem = getattr(parsed, "bozo_exception", None) or "not RSS or Atom"
            snippet = body[:80].decode("utf-8", "replace").strip()
            message = (f"feed {self.url} is not a readable RSS/Atom feed: {problem} "
                       f"(starts {snippet!r})")
            self.last_status = SourceStatus(ok=False, message=message)
            raise SourceError(message, "feed_not_a_feed", url=self.url)
        account = html_to_text(parsed.feed.get("title")) or None
        items = []
        for index, entry in enumerate(entries):
            record = self._record(entry, account)
            entry_id = record["id"]
            items.append((record.get("date") or "", -index, entry_id, record))
        # Oldest first; feeds list newest first, so undated entries keep reverse feed order.
        items.sort(key=lambda t: (t[0], t[1]))
        fresh = []
        batch_ids = set()
        for published, _, entry_id, record in items:
            digest = _digest(entry_id)
            if state.is_seen(digest, published or None) or digest in batch_ids:
                continue
            batch_ids.add(digest)
            fresh.append((digest, published or None, record))
        warning = f"; parser warning: {parsed.bozo_exception}" if parsed.bozo else ""
        self.last_status = SourceStatus(ok=True, message=f"{len(fresh)} new of {len(entries)} "
                                        f"entries{warning}", details={"new": len(fresh)})
        if not fresh:
            self._validators, self._validators_for = new_validators, checkpoint
            return
        state.etag, state.lm = new_validators
        position = checkpoint
        for i, (digest, published, record) in enumerate(fresh):
            state.add(digest, published, self.max_seen, self._published_of)
            position = state.encode(with_validators=(i == len(fresh) - 1))
            yield RawItem(record=record, position=position, origin=self.url)
        self._validators, self._validators_for = new_validators, position

    def _record(self, entry, account: str | None) -> dict:
        link = entry.get("link") or ""
        title = html_to_text(entry.get("title"))
        content = entry.get("content") or []
        body = ""
        if content:
            body = "\n".join(c.get("value", "") for c in content if c.get("value"))
        if not body:
            body = entry.get("summary") or entry.get("description") or ""
        text = html_to_text(body)
        entry_id = entry.get("id") or link
        if not entry_id:
            entry_id = "sha1:" + hashlib.sha1(
                f"{title}\n{text}".encode("utf-8", "surrogatepass")).hexdigest()[:16]
        published = _entry_time(entry)
        record: dict = {"id": entry_id, "platform": self.platform, "url": link or None,
                        "title": title, "text": text, "date": _iso(published)}
        author = entry.get("author")
        if author:
            record["author"] = html_to_text(author)
        if account:
            record["account"] = account
        return {k: v for k, v in record.items() if v is not None}

    def acknowledge(self, position: str) -> None:
        """Nothing to do: the checkpoint itself records which entries were seen."""


__all__ = ["FeedSource", "html_to_text", "USER_AGENT"]
