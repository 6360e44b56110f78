"""Feed source against a real HTTP server on 127.0.0.1: RSS, Atom, 304, server down, 500."""

import socket

import pytest
from local_servers import LocalGet

from rumourwatch.errors import SourceError
from rumourwatch.sources import FeedSource, RawItem
from rumourwatch.sources.feeds import html_to_text

# Fictional feed contents written for these tests.
RSS = """<?xml version="1.0" encoding="UTF-8"?>
<rss version="2.0"><channel>
  <title>健康科普示例站</title>
  <link>https://example.org/</link>
  <item>
    <title>喝醋能软化血管？不能</title>
    <link>https://example.org/a2</link>
    <guid>tag:example.org,2024:a2</guid>
    <description><![CDATA[<p>醋的主要成分是<b>醋酸</b>，进入人体后会被中和。</p><script>alert(1)</script><p>血管不会因此变软&amp;变年轻。</p>]]></description>
    <pubDate>Sat, 02 Mar 2024 02:00:00 GMT</pubDate>
    <author>editor@example.org (王编辑)</author>
  </item>
  <item>
    <title>流感疫苗接种点开放</title>
    <link>https://example.org/a1</link>
    <guid>tag:example.org,2024:a1</guid>
    <description>本周起各社区卫生服务中心可预约接种。</description>
    <pubDate>Fri, 01 Mar 2024 01:00:00 GMT</pubDate>
  </item>
</channel></rss>
"""

RSS_NEW_ITEM = """  <item>
    <title>隔夜菜能不能吃</title>
    <link>https://example.org/a3</link>
    <guid>tag:example.org,2024:a3</guid>
    <description>冷藏得当的隔夜菜可以吃。</description>
    <pubDate>Sun, 03 Mar 2024 03:00:00 GMT</pubDate>
  </item>
"""

ATOM = """<?xml version="1.0" encoding="utf-8"?>
<feed xmlns="http://www.w3.org/2005/Atom">
  <title>辟谣示例频道</title>
  <id>urn:example:feed</id>
  <updated>2024-03-05T10:00:00Z</updated>
  <entry>
    <title>“吃姜能预防新冠”不可信</title>
    <id>urn:example:entry:1</id>
    <link href="https://example.org/atom/1"/>
    <updated>2024-03-05T10:00:00Z</updated>
    <author><name>李医生</name></author>
    <content type="html">&lt;p&gt;目前没有证据表明&lt;em&gt;吃姜&lt;/em&gt;能预防感染。&lt;/p&gt;</content>
  </entry>
</feed>
"""


class FeedServer(LocalGet):
    """A local HTTP server whose responses the test controls."""

    def __init__(self):
        self.body = RSS
        self.content_type = "application/rss+xml; charset=utf-8"
        self.status = 200
        self.etag = '"v1"'
        self.last_modified = None
        self.requests = []
        super().__init__(self.respond)
        self.url = f"{self.base}/feed.xml"

    def respond(self, path, headers):
        self.requests.append(dict(headers.items()))
        if self.status != 200:
            return self.status, "text/plain", b"", None
        if (self.etag and headers.get("If-None-Match") == self.etag or
                self.last_modified and headers.get("If-Modified-Since") == self.last_modified):
            return 304, "text/plain", b"", None
        validators = {"ETag": self.etag, "Last-Modified": self.last_modified}
        return 200, self.content_type, self.body.encode("utf-8"), {k: v for k, v in validators.items() if v}


@pytest.fixture
def server():
    s = FeedServer()
    yield s
    s.close()


def test_rss_entries_become_items_oldest_first(server):
    events = list(FeedSource(server.url).read(None))
    assert all(isinstance(e, RawItem) for e in events)
    first, second = (e.record for e in events)
    assert first == {"id": "tag:example.org,2024:a1", "platform": "网站",
                     "url": "https://example.org/a1", "title": "流感疫苗接种点开放",
                     "text": "本周起各社区卫生服务中心可预约接种。", "date": "2024-03-01T01:00:00Z",
                     "account": "健康科普示例站"}
    assert second["text"] == "醋的主要成分是醋酸，进入人体后会被中和。\n血管不会因此变软&变年轻。"
    assert "alert" not in second["text"]
    assert second["author"]
    assert server.requests[0]["User-Agent"].startswith("rumourwatch/")


def test_atom_entry_content_is_plain_text(server):
    server.body, server.content_type = ATOM, "application/atom+xml"
    [event] = FeedSource(server.url, platform="微信公众号").read(None)
    assert event.record == {"id": "urn:example:entry:1", "platform": "微信公众号",
                            "url": "https://example.org/atom/1", "title": "“吃姜能预防新冠”不可信",
                            "text": "目前没有证据表明吃姜能预防感染。", "date": "2024-03-05T10:00:00Z",
                            "author": "李医生", "account": "辟谣示例频道"}


def test_repoll_yields_only_new_entries(server):
    source = FeedSource(server.url)
    events = list(source.read(None))
    server.body = RSS.replace("  <item>", RSS_NEW_ITEM + "  <item>", 1)
    server.etag = '"v2"'
    new = list(source.read(events[-1].position))
    assert [e.record["title"] for e in new] == ["隔夜菜能不能吃"]
    # A restarted worker (fresh source object) resuming from the checkpoint sees nothing new.
    assert list(FeedSource(server.url).read(new[-1].position)) == []


def test_not_modified_sends_etag_and_yields_nothing(server):
    source = FeedSource(server.url)
    events = list(source.read(None))
    fresh = FeedSource(server.url)  # a restarted worker: validators come from the checkpoint
    assert list(fresh.read(events[-1].position)) == []
    assert server.requests[-1]["If-None-Match"] == '"v1"'
    assert fresh.last_status.message == "not modified (HTTP 304)"
    # The same object re-polling with the same checkpoint also asks conditionally.
    assert list(source.read(events[-1].position)) == []
    assert server.requests[-1]["If-None-Match"] == '"v1"'


def test_not_modified_by_last_modified_date(server):
    server.etag, server.last_modified = None, "Sat, 02 Mar 2024 02:00:00 GMT"
    events = list(FeedSource(server.url).read(None))
    fresh = FeedSource(server.url)
    assert list(fresh.read(events[-1].position)) == []
    assert server.requests[-1]["If-Modified-Since"] == "Sat, 02 Mar 2024 02:00:00 GMT"
    assert fresh.last_status.message == "not modified (HTTP 304)"


def test_crash_mid_fetch_does_not_lose_entries_to_a_304(server):
    events = list(FeedSource(server.url).read(None))
    # The worker committed only the first entry, then restarted.
    again = list(FeedSource(server.url).read(events[0].position))
    assert [e.record["id"] for e in again] == ["tag:example.org,2024:a2"]
    assert "If-None-Match" not in server.requests[-1]


def test_server_error_is_a_source_error_with_url_and_status(server):
    server.status = 500
    with pytest.raises(SourceError, match=r"feed http://127\.0\.0\.1:\d+/feed\.xml is unavailable: "
                                          r"HTTP 500"):
        list(FeedSource(server.url).read(None))


def test_server_down_is_a_source_error():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    url = f"http://127.0.0.1:{port}/feed.xml"
    source = FeedSource(url, timeout=2)
    with pytest.raises(SourceError, match="connection refused"):
        list(source.read(None))
    assert not source.last_status.ok


def test_server_that_never_answers_times_out():
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen(1)  # connections are queued but never answered
        url = f"http://127.0.0.1:{listener.getsockname()[1]}/feed.xml"
        with pytest.raises(SourceError, match=r"is unavailable: timed out after 0\.3 s"):
            list(FeedSource(url, timeout=0.3).read(None))


def test_not_a_feed_is_a_source_error(server):
    server.body, server.content_type = "<html><body>登录</body", "text/html"
    with pytest.raises(SourceError, match="not a readable RSS/Atom feed"):
        list(FeedSource(server.url).read(None))


def test_bad_url_is_rejected_up_front():
    with pytest.raises(SourceError, match="must start with http"):
        FeedSource("example.org/feed")


def test_html_to_text_drops_markup_and_scripts():
    assert html_to_text("<div>第一段<br/>第二段</div><style>p{}</style>&lt;ok&gt;") == \
        "第一段\n第二段\n<ok>"
