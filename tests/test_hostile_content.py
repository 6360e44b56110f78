"""Hostile scraped content through the whole path: file source -> ingest -> store -> dashboard.

Script tags, HTML event handlers, Markdown links and images, `javascript:` urls, zero-width and bidi
characters. In the store the text keeps its meaning (tags stay visible characters; invisible and
direction-changing characters are removed); in the dashboard it is shown only as plain text, a
`javascript:` url is never offered as a link, and nothing of it reaches a Markdown element.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timezone

import pytest
from streamlit.testing.v1 import AppTest

from dashboard import data
from dashboard.auth import login_for_test
from rumourwatch import auth, store
from rumourwatch.config import REPO_ROOT
from rumourwatch.sources.files import file_source
from rumourwatch.worker import Worker

APP = str(REPO_ROOT / "dashboard" / "streamlit_app.py")
NOW = datetime(2026, 11, 23, 8, 0, tzinfo=timezone.utc)

SCRIPT = '紧急通知<script>window.__pwned=1;alert("x")</script>喝醋能治新冠'
IMG = '<img src=x onerror="window.__pwned=1">隔夜菜致癌'
MD_LINK = "权威辟谣请看[卫健委通知](javascript:alert(document.cookie)) ![图](http://evil.example/p.png)"
MD_HEADING = "# 重大消息\n**全市停水** <b>粗体</b> `代码` $x^2$ :red[红字]"
ZERO_WIDTH = "谣\u200b言\u200d测\ufeff试\u2060文本"
BIDI = "转账给\u202e1234-5678\u202c 账号\u2066隐藏\u2069结束"
INVISIBLE = "\u200b\u200c\u200d\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2060\u2066\u2067\u2068\u2069\ufeff"

RECORDS = [
    {"id": "h-script", "platform": "微博", "text": SCRIPT, "date": "2026-11-23 09:00",
     "title": "<script>alert(1)</script>标题", "account": "<b>营销号</b>", "author": "[作者](javascript:x)",
     "url": "javascript:alert(1)",
     "comments": [{"date": "2026-11-23 09:30", "text": "<img src=x onerror=alert(2)>评论", "user_id": "<u>1</u>"}]},
    {"id": "h-img", "platform": "微信", "text": IMG, "date": "2026-11-23 09:05", "url": "http://ok.example/a"},
    {"id": "h-md", "platform": "抖音", "text": MD_LINK, "date": "2026-11-23 09:10", "account": MD_HEADING},
    {"id": "h-heading", "platform": "微博", "text": MD_HEADING, "date": "2026-11-23 09:15"},
    {"id": "h-zw", "platform": "微博", "text": ZERO_WIDTH, "date": "2026-11-23 09:20",
     "author": "作\u200b者\u202e", "title": "标\u2066题\u2069"},
    {"id": "h-bidi", "platform": "微博", "text": BIDI, "date": "2026-11-23 09:25", "account": "\u202e号账\u202c",
     "reposts": [{"date": "2026-11-23 09:40", "text": "转\u200b发\u202e了"}]},
]
BROKEN = '{"id": "h-broken", "text": "<script>alert(3)</script>'  # not JSON: becomes a reject


@pytest.fixture
def hostile_store(tmp_path, monkeypatch):
    feed = tmp_path / "hostile.jsonl"
    feed.write_text("\n".join([json.dumps(r, ensure_ascii=False) for r in RECORDS] + [BROKEN]) + "\n",
                    encoding="utf-8")
    path = tmp_path / "hostile.db"
    db = store.open_db(path)
    Worker(db, [file_source(str(feed))], None, clock=lambda: NOW).run(poll_seconds=0, until_idle=True)
    monkeypatch.setattr(auth, "SCRYPT_N", 2 ** 10)
    auth.create_user(db, "mon", "monitor pw 1", "monitor", "test")
    auth.create_user(db, "root", "admin pw 12", "admin", "test")
    monkeypatch.setenv("RUMOURWATCH_DB_PATH", str(path))
    monkeypatch.setenv("RUMOURWATCH_MODELS_DIR", str(tmp_path / "no-models"))
    monkeypatch.setattr(data, "now_utc", lambda: NOW)
    ids = {r[0]: r[1] for r in db.execute("SELECT external_id, id FROM items")}
    return db, ids


def _visible_markup(at: AppTest) -> list[str]:
    """Text of every element Streamlit renders as Markdown/HTML (where markup could come alive)."""
    out = []
    for kind in ("markdown", "caption", "title", "header", "subheader", "info", "warning", "error",
                 "success", "latex"):
        out += [str(e.value) for e in getattr(at, kind)]
    out += [str(m.label) for m in at.metric] + [str(m.value) for m in at.metric]
    out += [str(getattr(b, "label", "")) for b in at.button]
    return out


def _assert_inert(at: AppTest) -> None:
    for text in _visible_markup(at):
        assert "<script" not in text and "<img" not in text and "<b>" not in text, text
        assert "javascript:" not in text, text
        assert "](" not in text or "\\]\\(" in text, text  # a Markdown link only when escaped


def test_store_keeps_tags_as_characters_and_drops_invisible_and_bidi(hostile_store):
    db, ids = hostile_store
    assert len(ids) == len(RECORDS)
    rows = db.execute("SELECT external_id, text, title, account, author FROM items").fetchall()
    cells = [c for r in rows for c in r[1:] if c] + [r[0] for r in db.execute("SELECT text FROM reactions")]
    for cell in cells:
        assert not any(ch in cell for ch in INVISIBLE), repr(cell)
    by_id = {r[0]: r for r in rows}
    assert by_id["h-script"][1] == SCRIPT  # the tag is kept as text: an analyst can see what was posted
    assert by_id["h-zw"][1] == "谣言测试文本"
    assert by_id["h-bidi"][1] == "转账给1234-5678 账号隐藏结束"
    assert by_id["h-zw"][4] == "作者" and by_id["h-bidi"][3] == "号账"
    # The malformed line is set aside with its reason, not dropped.
    rejects = store.list_rejects(db)
    assert len(rejects) == 1 and "<script>alert(3)</script>" in rejects[0]["raw"] and rejects[0]["reason"]


@pytest.mark.parametrize("external_id", [r["id"] for r in RECORDS])
def test_item_page_shows_hostile_items_as_plain_text(hostile_store, external_id):
    db, ids = hostile_store
    at = AppTest.from_file(APP, default_timeout=60)
    login_for_test(at, "mon")
    at.query_params["item"] = str(ids[external_id])
    at.switch_page("app_pages/item.py")
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    stored = store.get_item(db, ids[external_id])
    shown = [t.value for t in at.text]
    assert stored["text"] in shown  # the whole text, verbatim, in a plain-text element
    _assert_inert(at)
    links = at.get("link_button")
    url = stored.get("url")
    if url and url.startswith("javascript:"):
        assert not links  # never offered as something to click
    for link in links:
        assert link.proto.url.startswith(("http://", "https://"))


def test_live_page_tables_carry_hostile_text_as_cells(hostile_store):
    at = AppTest.from_file(APP, default_timeout=60)
    login_for_test(at, "mon")
    at.query_params["health"] = "0"  # the whole feed: nothing here is scored, so none is known to be health
    at.run()
    assert not at.exception
    _assert_inert(at)
    cells = " ".join(str(v) for df in at.dataframe for v in df.value.astype(str).values.ravel())
    assert "<script>" in cells  # shown, as characters inside a table cell


def test_sources_page_shows_rejected_raw_lines_as_code(hostile_store):
    at = AppTest.from_file(APP, default_timeout=60)
    login_for_test(at, "mon")
    at.switch_page("app_pages/sources.py")
    at.run()
    assert not at.exception
    _assert_inert(at)
    assert any("<script>alert(3)</script>" in c.value for c in at.code)


def test_hostile_login_name_is_not_echoed_and_is_inert_in_the_audit_log(hostile_store, monkeypatch):
    db, _ = hostile_store
    monkeypatch.setattr(data, "now_utc", lambda: datetime.now(UTC))  # the failed login is audited at the real time
    name = '<img src=x onerror="window.__pwned=1">[x](javascript:alert(1))'
    at = AppTest.from_file(APP, default_timeout=60).run()
    at.text_input(key="login_username").input(name)
    at.text_input(key="login_password").input("whatever pw")
    at.button[0].click()
    at.run()
    assert [e.value for e in at.error] == ["用户名或密码错误，请重新输入。连续多次输错后账号将被临时锁定。"]
    _assert_inert(at)

    at = AppTest.from_file(APP, default_timeout=60)
    login_for_test(at, "root")
    at.switch_page("app_pages/audit.py")
    at.run()
    assert not at.exception
    _assert_inert(at)
    frame = at.dataframe[0].value
    assert name in set(frame["操作人"])  # recorded as typed, shown as a table cell
