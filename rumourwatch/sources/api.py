"""A JSON API of posts over HTTP(S), read page by page with a cursor: how monitoring-data vendors
and platforms' open APIs hand out Weibo, WeChat, Douyin and news posts. One TOML file describes an
API, so a new vendor needs no code (`rumourwatch watch --source api:/etc/rumourwatch/vendor.toml`):

    url = "https://api.vendor.example/v1/posts"   # GET; its own query string is kept
    name = "vendor-weibo"                          # the source's name (default api:<url>)
    platform = "微博"                               # for records that name none
    records = "data.items"                         # dotted path to the list of posts in a response
    cursor_param = "cursor"                        # query parameter sent with the cursor
    next_cursor = "data.next_cursor"               # dotted path to the cursor of the next page
    page_size_param = "limit"                      # optional, with page_size (default 100)
    token_env = "VENDOR_TOKEN"                     # optional: the token, from this environment variable,
    header = "Authorization"                       #   sent in this header,
    header_format = "Bearer {token}"               #   written like this
    max_pages = 20                                 # pages read per poll at most (the next poll goes on)
    timeout_seconds = 10

    [fields]                                       # rumourwatch's field = the API's (dotted) field
    id = "mid"
    text = "content"
    date = "created_at"                            # ISO 8601, 'YYYY-MM-DD HH:MM' (China time) or epoch s / ms
    account = "user.screen_name"
    url = "link"

Fields not named in [fields] are read under their own names (id, text, date, url, account, author,
title, platform, repost_num, comment_num, like_num, user). A page's posts are yielded in the order
the API gives them, each with the cursor that fetched its page as its position and the last with
the next page's cursor, so a worker that stops mid-page reads the page again (the store keeps one
row per post id; a post read twice only updates its counts). A page with no posts, or no next
cursor, or the same cursor again means caught up: the next poll asks again from there.

A post that is not a JSON object is set aside with its reason (a RawReject); a post missing what an
item needs is set aside by ingest, as from any source. A response that is not JSON, or has no list
where `records` says, is the source's fault, not a post's: SourceError, and the worker retries at
the next poll. Position format: ``api:v1:{"cursor": …}``.
"""

from __future__ import annotations

import json
import os
import tomllib
import urllib.parse
from pathlib import Path
from collections.abc import Iterator

from ..errors import SourceError
from . import http
from .base import Event, RawItem, RawReject, SourceStatus, reset_command
from .feeds import USER_AGENT

POSITION_PREFIX = "api:v1:"
MAX_PAGE_BYTES = 20 * 1024 * 1024
FIELDS = ("id", "text", "date", "url", "account", "author", "title", "platform", "repost_num", "comment_num",
          "like_num", "user")
KEYS = {"url", "name", "platform", "records", "cursor_param", "next_cursor", "page_size_param", "page_size",
        "token_env", "header", "header_format", "max_pages", "timeout_seconds", "fields"}
EPOCH_MS = 10 ** 11  # a number this large is milliseconds: as seconds it would be after the year 5000


def _bad_config(path: Path, problem: str) -> SourceError:
    return SourceError(f"API source config {path}: {problem}", "api_bad_config", path=str(path), problem=problem)


def dig(data, path: str):
    """The value at a dotted `path` in nested dicts (a number picks a list element); None if absent."""
    for part in path.split(".") if path else ():
        if isinstance(data, dict):
            data = data.get(part)
        elif isinstance(data, list) and part.isdigit() and int(part) < len(data):
            data = data[int(part)]
        else:
            return None
    return data


class ApiSource:
    """A cursor-paged JSON API described by a TOML file (module docstring)."""

    def __init__(self, config_path: str | Path):
        path = Path(config_path)
        try:
            config = tomllib.loads(path.read_text(encoding="utf-8"))
        except OSError as exc:
            raise _bad_config(path, f"cannot be read ({exc.strerror or exc})") from None
        except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
            raise _bad_config(path, f"is not valid TOML ({exc})") from None
        unknown = sorted(set(config) - KEYS)
        if unknown:
            raise _bad_config(path, f"unknown setting(s) {', '.join(unknown)}; settings are {', '.join(sorted(KEYS))}")
        for key in ("url", "records"):
            if not isinstance(config.get(key), str) or not config[key].strip():
                raise _bad_config(path, f"`{key}` is required (a text)")
        if not config["url"].lower().startswith(("http://", "https://")):
            raise _bad_config(path, f"url {config['url']!r} must start with http:// or https://")
        fields = config.get("fields") or {}
        if not isinstance(fields, dict) or not all(isinstance(v, str) and v for v in fields.values()):
            raise _bad_config(path, "[fields] maps rumourwatch's field names to the API's (texts)")
        wrong = sorted(set(fields) - set(FIELDS))
        if wrong:
            raise _bad_config(path, f"[fields] names {', '.join(wrong)}, not rumourwatch fields ({', '.join(FIELDS)})")
        for key, low in (("max_pages", 1), ("page_size", 1), ("timeout_seconds", 1)):
            if key in config and (not isinstance(config[key], (int, float)) or config[key] < low):
                raise _bad_config(path, f"`{key}` must be a number of at least {low}")
        if config.get("token_env") and "{token}" not in config.get("header_format", "{token}"):
            raise _bad_config(path, "`header_format` must contain {token}")
        self.config_path = path
        self.url = config["url"].strip()
        self.name = config.get("name") or f"api:{self.url}"
        self.platform = config.get("platform") or "网站"
        self.records = config["records"]
        self.cursor_param = config.get("cursor_param") or "cursor"
        self.next_cursor = config.get("next_cursor")
        self.page_size_param = config.get("page_size_param")
        self.page_size = int(config.get("page_size", 100))
        self.token_env = config.get("token_env")
        self.header = config.get("header") or "Authorization"
        self.header_format = config.get("header_format") or "Bearer {token}"
        self.max_pages = int(config.get("max_pages", 20))
        self.timeout = float(config.get("timeout_seconds", 10))
        self.fields = {name: fields.get(name, name) for name in FIELDS}
        self.last_status = SourceStatus(ok=True, message="not polled yet")

    # -- positions ---------------------------------------------------------------------------
    def _cursor_of(self, checkpoint: str | None):
        if not checkpoint:
            return None
        if not checkpoint.startswith(POSITION_PREFIX):
            raise SourceError(f"checkpoint {checkpoint[:60]!r} is not an API position (expected it to start with "
                              f"{POSITION_PREFIX!r}); reset it with: {reset_command(self.name)}",
                              "source_bad_checkpoint", position=checkpoint[:60], command=reset_command(self.name))
        try:
            return json.loads(checkpoint[len(POSITION_PREFIX):])["cursor"]
        except (ValueError, KeyError, TypeError):
            raise SourceError(f"checkpoint {checkpoint[:60]!r} is a damaged API position; reset it with: "
                              f"{reset_command(self.name)}", "source_bad_checkpoint", position=checkpoint[:60],
                              command=reset_command(self.name)) from None

    @staticmethod
    def _position(cursor) -> str:
        return POSITION_PREFIX + json.dumps({"cursor": cursor}, ensure_ascii=False, separators=(",", ":"))

    # -- HTTP ----------------------------------------------------------------------------------
    def page_url(self, cursor) -> str:
        parts = urllib.parse.urlsplit(self.url)
        query = urllib.parse.parse_qsl(parts.query, keep_blank_values=True)
        if cursor is not None:
            query.append((self.cursor_param, str(cursor)))
        if self.page_size_param:
            query.append((self.page_size_param, str(self.page_size)))
        return urllib.parse.urlunsplit(parts._replace(query=urllib.parse.urlencode(query)))

    def _headers(self) -> dict:
        headers = {"User-Agent": USER_AGENT, "Accept": "application/json"}
        if self.token_env:
            token = os.environ.get(self.token_env)
            if not token:
                raise SourceError(f"API {self.url}: its token variable {self.token_env} is not set in the worker's "
                                  "environment", "api_token_missing", url=self.url, variable=self.token_env)
            headers[self.header] = self.header_format.format(token=token)
        return headers

    def _page(self, cursor) -> tuple[list, object, str]:
        """(the page's posts, the next cursor, the page's url)."""
        url = self.page_url(cursor)
        _, body, _ = http.get(url, self._headers(), self.timeout, MAX_PAGE_BYTES, noun="API", source="数据接口")
        try:
            data = json.loads(body.decode("utf-8-sig"))
        except (UnicodeDecodeError, ValueError):
            snippet = body[:80].decode("utf-8", "replace").strip()
            raise SourceError(f"API {url} did not answer JSON (starts {snippet!r})", "api_not_json",
                              url=url, snippet=snippet) from None
        posts = dig(data, self.records)
        if not isinstance(posts, list):
            keys = ", ".join(sorted(data)[:12]) if isinstance(data, dict) else type(data).__name__
            raise SourceError(f"API {url}: no list of posts at `{self.records}` in its answer (top level: {keys}); "
                              f"check `records` in {self.config_path}", "api_no_records", url=url,
                              records=self.records, keys=keys, path=str(self.config_path))
        return posts, dig(data, self.next_cursor) if self.next_cursor else None, url

    # -- reading -----------------------------------------------------------------------------
    def record(self, post: dict) -> dict:
        """A post as rumourwatch's raw item (module docstring): mapped fields, a platform, epoch times
        as ISO text."""
        record = {}
        for name, source in self.fields.items():
            value = dig(post, source)
            if value is not None and value != "":
                record[name] = value
        record.setdefault("platform", self.platform)
        date = record.get("date")
        if isinstance(date, (int, float)) and not isinstance(date, bool) and abs(date) >= EPOCH_MS:
            record["date"] = date / 1000
        if "id" in record and not isinstance(record["id"], str):
            record["id"] = str(record["id"])
        return record

    def read(self, checkpoint: str | None = None) -> Iterator[Event]:
        cursor = self._cursor_of(checkpoint)
        read = pages = 0
        try:
            while pages < self.max_pages:
                posts, following, url = self._page(cursor)
                pages += 1
                for k, post in enumerate(posts):
                    last = k == len(posts) - 1
                    position = self._position(following if last and following not in (None, "") else cursor)
                    if not isinstance(post, dict):
                        yield RawReject(raw=json.dumps(post, ensure_ascii=False)[:2000],
                                        reason=f"post {k + 1} of the page is not a JSON object",
                                        position=position, origin=url, key="api_post_not_object", params={"n": k + 1})
                        continue
                    read += 1
                    yield RawItem(record=self.record(post), position=position, origin=url)
                if not posts or following in (None, "") or following == cursor:
                    break
                cursor = following
        except SourceError as exc:
            self.last_status = SourceStatus(ok=False, message=str(exc))
            raise
        self.last_status = SourceStatus(ok=True, message=f"{read} post(s) in {pages} page(s)",
                                        details={"new": read, "pages": pages})

    def acknowledge(self, position: str) -> None:
        """Nothing to do: the checkpoint itself holds the cursor."""


__all__ = ["ApiSource", "dig"]
