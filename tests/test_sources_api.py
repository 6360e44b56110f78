"""The JSON API source (`api:CONFIG.toml`, rumourwatch/sources/api.py) against a real local HTTP
server paging its posts with a cursor and wanting a token, as a monitoring-data vendor's API does.
Posts here are written for the tests (fictional)."""

from __future__ import annotations

import json
import os
import urllib.parse
from datetime import UTC, datetime

import pytest
from click.testing import CliRunner
from local_servers import LocalGet

from rumourwatch import store
from rumourwatch.cli import cli
from rumourwatch.errors import SourceError
from rumourwatch.sources import ApiSource, RawItem, RawReject, source_from_spec
from rumourwatch.worker import Worker

TOKEN = "vendor-token-123"
POSTS = [
    {"mid": 9001, "content": "网传喝板蓝根能预防新冠，专家：没有依据", "created_at": 1764900000000,
     "user": {"screen_name": "示例健康号"}, "link": "https://weibo.example/9001"},
    {"mid": 9002, "content": "市卫健委：流感疫苗预约通道已开放", "created_at": "2026-12-05 09:30",
     "user": {"screen_name": "示例市卫健委"}, "link": "https://weibo.example/9002", "source": "微信公众号"},
    "not a post",
    {"mid": 9003, "content": "", "created_at": "2026-12-05 10:00", "user": {"screen_name": "空帖"}},
    {"mid": 9004, "content": "冬季洗澡水温过高易诱发心脑血管意外", "created_at": "2026-12-05T03:00:00Z",
     "user": {"screen_name": "示例医院"}},
]


class VendorApi(LocalGet):
    """Pages of `page` posts; the cursor is the index of the page's first post; a token is needed."""

    def __init__(self, posts, page=2):
        self.posts, self.page, self.status, self.body = posts, page, 200, None
        self.requests: list[dict] = []
        super().__init__(self.respond)
        self.url = f"{self.base}/v1/posts?channel=health"

    def respond(self, path, headers):
        query = dict(urllib.parse.parse_qsl(urllib.parse.urlsplit(path).query))
        self.requests.append({"query": query, "auth": headers.get("X-Api-Key")})
        json_type = "application/json; charset=utf-8"
        if headers.get("X-Api-Key") != f"key={TOKEN}":
            return 401, json_type, b'{"error": "unauthorised"}', None
        if self.status != 200:
            return self.status, json_type, b"{}", {"Retry-After": "30"}
        if self.body is not None:
            return 200, json_type, self.body, None
        start = int(query.get("cursor", 0))
        chunk = self.posts[start:start + int(query.get("size", self.page))]
        answer = {"code": 0, "data": {"list": chunk, "next": str(start + len(chunk) if chunk else start)}}
        return 200, json_type, json.dumps(answer, ensure_ascii=False).encode("utf-8"), None


@pytest.fixture
def vendor():
    api = VendorApi(POSTS)
    yield api
    api.close()


def _config(tmp_path, url, **extra) -> str:
    settings = {"url": url, "name": "vendor-weibo", "platform": "微博", "records": "data.list",
                "cursor_param": "cursor", "next_cursor": "data.next", "page_size_param": "size", "page_size": 2,
                "token_env": "VENDOR_TOKEN", "header": "X-Api-Key", "header_format": "key={token}", **extra}
    lines = [f"{k} = {json.dumps(v, ensure_ascii=False)}" for k, v in settings.items()]
    lines += ["[fields]", 'id = "mid"', 'text = "content"', 'date = "created_at"', 'account = "user.screen_name"',
              'url = "link"', 'platform = "source"']
    path = tmp_path / "vendor.toml"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return str(path)


def test_posts_are_read_page_by_page_with_the_token_and_mapped(tmp_path, vendor, monkeypatch):
    monkeypatch.setenv("VENDOR_TOKEN", TOKEN)
    source = source_from_spec(f"api:{_config(tmp_path, vendor.url)}", settings=None)
    events = list(source.read(None))
    assert [type(e).__name__ for e in events] == ["RawItem", "RawItem", "RawReject", "RawItem", "RawItem"]
    first, second = events[0].record, events[1].record
    assert first == {"id": "9001", "text": "网传喝板蓝根能预防新冠，专家：没有依据", "date": 1764900000.0,
                     "url": "https://weibo.example/9001", "account": "示例健康号", "platform": "微博",
                     "user": {"screen_name": "示例健康号"}}  # a field not mapped is read under its own name
    assert second["platform"] == "微信公众号" and second["date"] == "2026-12-05 09:30"
    # three pages of two, then an empty one; the vendor's own query string kept; the token sent each time
    assert [r["query"].get("cursor") for r in vendor.requests] == [None, "2", "4", "5"]
    assert all(r["query"]["channel"] == "health" and r["query"]["size"] == "2" for r in vendor.requests)
    assert all(r["auth"] == f"key={TOKEN}" for r in vendor.requests)
    reject = events[2]
    assert reject.key == "api_post_not_object" and reject.raw == '"not a post"' and "cursor=2&size=2" in reject.origin
    # within a page a post keeps the cursor that fetched it, the page's last carries the next one
    assert [json.loads(e.position[len("api:v1:"):])["cursor"] for e in events] == [None, "2", "2", "4", "5"]
    assert source.last_status.ok and source.last_status.details == {"new": 4, "pages": 4}


def test_the_worker_stores_them_sets_the_bad_ones_aside_and_resumes_after_the_last_cursor(tmp_path, vendor,
                                                                                          monkeypatch):
    monkeypatch.setenv("VENDOR_TOKEN", TOKEN)
    db = store.open_db(tmp_path / "rw.db")
    source = ApiSource(_config(tmp_path, vendor.url))
    worker = Worker(db, [source], None, clock=lambda: datetime(2026, 12, 5, 4, tzinfo=UTC))
    stats = worker.poll_once()
    assert (stats.new_items, stats.rejects) == (3, 2)  # the non-object, and the post with no text
    reasons = [r["reason"] for r in store.list_rejects(db)]
    assert any("not a JSON object" in r for r in reasons) and any("text" in r for r in reasons), reasons
    assert store.get_checkpoint(db, "vendor-weibo") == 'api:v1:{"cursor":"5"}'
    # the vendor publishes two more: the next poll asks from cursor 5 and stores only those
    vendor.posts = POSTS + [{"mid": 9005, "content": "网传吃蒜能杀灭病毒，不可信", "created_at": "2026-12-05 12:00",
                             "user": {"screen_name": "示例辟谣"}},
                            {"mid": 9006, "content": "科学健身指南发布", "created_at": "2026-12-05 12:10",
                             "user": {"screen_name": "示例体育局"}}]
    vendor.requests.clear()
    stats = worker.poll_once()
    assert stats.new_items == 2 and vendor.requests[0]["query"]["cursor"] == "5"
    assert store.count_items(db) == 5


def test_what_is_wrong_with_the_api_is_said_and_the_worker_goes_on(tmp_path, vendor, monkeypatch):
    config = _config(tmp_path, vendor.url)
    source = ApiSource(config)
    with pytest.raises(SourceError, match="token variable VENDOR_TOKEN is not set") as exc:
        list(source.read(None))
    assert exc.value.key == "api_token_missing"
    monkeypatch.setenv("VENDOR_TOKEN", "wrong")
    with pytest.raises(SourceError, match=r"HTTP 401 .*request refused"):
        list(source.read(None))
    monkeypatch.setenv("VENDOR_TOKEN", TOKEN)
    vendor.status = 429
    with pytest.raises(SourceError, match="rate limited .*wait 30 s") as exc:
        list(source.read(None))
    assert exc.value.key == "http_rate_limited" and exc.value.params == {"url": exc.value.params["url"], "wait": "30",
                                                                         "source": "数据接口"}
    vendor.status, vendor.body = 200, b"<html>maintenance</html>"
    with pytest.raises(SourceError, match="did not answer JSON") as exc:
        list(source.read(None))
    vendor.body = b'{"code": 0, "result": {"list": []}}'
    with pytest.raises(SourceError, match=r"no list of posts at `data.list` .*top level: code, result") as exc:
        list(source.read(None))
    assert exc.value.key == "api_no_records"
    # in the worker: the error is recorded on the source, nothing is lost, the next poll retries
    db = store.open_db(tmp_path / "rw.db")
    stats = Worker(db, [source], None).poll_once()
    assert stats.errors and "no list of posts" in stats.errors[0]
    assert store.source_checkpoint(db, "vendor-weibo")["last_error"]


@pytest.mark.parametrize("content,problem", [
    ('url = "ftp://x"\nrecords = "a"', "must start with http:// or https://"),
    ('url = "https://x"', "`records` is required"),
    ('url = "https://x"\nrecords = "a"\nlimit = 5', "unknown setting(s) limit"),
    ('url = "https://x"\nrecords = "a"\n[fields]\nbody = "content"', "[fields] names body, not rumourwatch fields"),
    ('url = "https://x"\nrecords = "a"\nmax_pages = 0', "`max_pages` must be a number of at least 1"),
    ('url = "https://x"\nrecords = "a"\ntoken_env = "T"\nheader_format = "Bearer"', "must contain {token}"),
    ("url = ", "is not valid TOML"),
])
def test_a_bad_config_is_refused_saying_what_is_wrong(tmp_path, content, problem):
    path = tmp_path / "bad.toml"
    path.write_text(content, encoding="utf-8")
    with pytest.raises(SourceError) as exc:
        ApiSource(path)
    assert problem in str(exc.value) and str(path) in str(exc.value)
    assert exc.value.key == "api_bad_config"


def test_watch_reads_an_api_from_the_command_line(tmp_path, vendor):
    config = _config(tmp_path, vendor.url)
    result = CliRunner().invoke(cli, ["--db", str(tmp_path / "rw.db"), "watch", "--source", f"api:{config}", "--once",
                                      "--no-score", "--no-alerts"], env={"VENDOR_TOKEN": TOKEN})
    assert result.exit_code == 0, result.output
    db = store.open_db(tmp_path / "rw.db")
    assert store.count_items(db) == 3
    assert {r["source"] for r in store.source_status(db)} == {"vendor-weibo"}


def test_every_api_error_key_has_chinese_words():
    import re
    from pathlib import Path

    from dashboard.strings import STRINGS

    keys = set()
    for module in ("api.py", "http.py"):
        text = (Path(__file__).parent.parent / "rumourwatch" / "sources" / module).read_text(encoding="utf-8")
        keys |= set(re.findall(r'"((?:api|http)_[a-z_]+)"', text))
    assert len(keys) >= 12, keys
    missing = sorted(k for k in keys if f"wferr.{k}" not in STRINGS["zh-CN"])
    assert not missing
    assert isinstance(RawItem, type) and isinstance(RawReject, type)


def test_the_example_config_in_the_repository_is_a_working_one():
    from rumourwatch.config import REPO_ROOT

    source = ApiSource(REPO_ROOT / "config" / "api_source.example.toml")
    assert source.name == "vendor-weibo" and source.records == "data.items"
    assert source.page_url("abc") == "https://api.vendor.example/v1/posts?channel=health&cursor=abc&limit=100"
    assert source.record({"mid": 1, "content": "x", "created_at": 1764900000123, "user": {"screen_name": "a"}}) == {
        "id": "1", "text": "x", "date": 1764900000.123, "account": "a", "platform": "微博",
        "user": {"screen_name": "a"}}


def test_sources_try_shows_how_posts_would_be_stored_and_stores_nothing(tmp_path, vendor):
    config = _config(tmp_path, vendor.url)
    db_path = tmp_path / "rw.db"
    result = CliRunner().invoke(cli, ["--db", str(db_path), "sources", "try", f"api:{config}", "--limit", "4"],
                                env={"VENDOR_TOKEN": TOKEN})
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert lines[0] == "1. item 9001  微博  示例健康号  2025-12-05T02:00:00Z"
    assert lines[1] == "   网传喝板蓝根能预防新冠，专家：没有依据"
    assert lines[4] == "3. set aside: post 1 of the page is not a JSON object"
    assert lines[5] == "4. set aside: empty text: the record has no text or title to assess"
    assert "4 record(s) read from vendor-weibo: 2 item(s), 2 set aside; nothing stored" in result.stderr
    assert [r["query"].get("cursor") for r in vendor.requests] == [None, "2"]  # stopped at the limit
    assert not db_path.exists() or store.count_items(store.open_db(db_path)) == 0
    assert not db_path.exists() or store.source_status(store.open_db(db_path)) == []
    # a token that is not set: the source's error, exit 1
    result = CliRunner().invoke(cli, ["--db", str(db_path), "sources", "try", f"api:{config}"], env={"VENDOR_TOKEN": ""})
    assert result.exit_code == 1 and "token variable VENDOR_TOKEN is not set" in result.output


def test_sources_try_leaves_a_dropped_file_where_it_is(tmp_path):
    drop = tmp_path / "drop"
    drop.mkdir()
    (drop / "export.jsonl").write_text('{"id": "d1", "text": "网传盐水漱口可防病毒", "date": "2026-12-05 08:00"}\n'
                                       '{"id": "d2"}\n', encoding="utf-8")
    os.utime(drop / "export.jsonl", (1764900000, 1764900000))  # settled: not being written any more
    result = CliRunner().invoke(cli, ["--db", str(tmp_path / "rw.db"), "sources", "try", f"drop:{drop}", "--json"])
    assert result.exit_code == 0, result.output
    shown = json.loads(result.stdout)
    assert [r["kind"] for r in shown] == ["item", "set aside"]
    assert shown[0]["external_id"] == "d1" and shown[0]["published_at"] == "2026-12-05T00:00:00Z"
    assert sorted(p.name for p in drop.iterdir()) == ["export.jsonl"]  # not moved to done/
