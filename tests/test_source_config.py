"""Administrators manage the worker's sources (rumourwatch/source_config.py, 数据源与质量): a source
added to the sources file is read by a running worker at its next poll, one stopped is no longer
read, a broken file leaves the worker as it was and says why; the page tries a source before adding
it, and every change is audited. Feeds are served by a real local HTTP server; texts are fictional."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from click.testing import CliRunner
from local_servers import LocalGet

from rumourwatch import source_config, store
from rumourwatch.cli import cli
from rumourwatch.config import REPO_ROOT, load_settings
from rumourwatch.errors import SourceError
from rumourwatch.worker import Worker, source_health

NOW = datetime(2026, 12, 5, 4, tzinfo=UTC)


def _rss(title: str, entries: list[tuple[str, str]]) -> bytes:
    items = "".join(f"<item><guid>{gid}</guid><title>{text}</title><description>{text}</description>"
                    f"<pubDate>Sat, 05 Dec 2026 02:00:00 GMT</pubDate></item>" for gid, text in entries)
    return (f'<?xml version="1.0" encoding="UTF-8"?><rss version="2.0"><channel><title>{title}</title>'
            f"{items}</channel></rss>").encode()


class Feeds(LocalGet):
    """Two RSS feeds on one local server: /a.xml and /b.xml, counting the requests of each."""

    def __init__(self):
        self.bodies = {"/a.xml": _rss("示例卫健委", [("a1", "流感疫苗预约通道开放"), ("a2", "冬季预防一氧化碳中毒提示")]),
                       "/b.xml": _rss("示例日报健康版", [("b1", "网传热水泡脚能治感冒，医生：不能")])}
        self.hits = {"/a.xml": 0, "/b.xml": 0}
        super().__init__(self.respond)

    def respond(self, path, headers):
        body = self.bodies.get(path)
        if body is None:
            return 404, "text/plain", b"", None
        self.hits[path] += 1
        return 200, "application/rss+xml; charset=utf-8", body, None


@pytest.fixture
def feeds():
    server = Feeds()
    yield server
    server.close()


def _audit_actions(db) -> list[tuple[str, str]]:
    return [(r["action"], r["target_id"]) for r in reversed(store.audit_entries(db, actions=[
        "source.add", "source.enable", "source.disable", "source.remove"]))]


def test_a_running_worker_follows_the_sources_file(tmp_path, feeds):
    db = store.open_db(tmp_path / "rw.db")
    file = tmp_path / "sources.toml"
    worker = Worker(db, [], None, clock=lambda: NOW, sources_file=file, settings=load_settings())
    assert worker.poll_once().new_items == 0  # no file yet: nothing to read, no error
    source_config.add(db, file, f"feed:{feeds.base}/a.xml", "root", NOW, platform="网站", note="市卫健委官网")
    stats = worker.poll_once()
    assert stats.new_items == 2 and not stats.warnings
    source_config.add(db, file, f"feed:{feeds.base}/b.xml", "root", NOW, platform="新闻")
    assert worker.poll_once().new_items == 1
    assert {r[0] for r in db.execute("SELECT platform FROM items").fetchall()} == {"网站", "新闻"}
    # stopped: not read any more; started again: read again, from its checkpoint (nothing twice)
    source_config.set_enabled(db, file, f"feed:{feeds.base}/a.xml", False, "root", NOW)
    hits = feeds.hits["/a.xml"]
    worker.poll_once()
    assert feeds.hits["/a.xml"] == hits and feeds.hits["/b.xml"] > 1
    # stopped on purpose: not reported as a silent source, however long it stays stopped
    later = datetime(2026, 12, 12, tzinfo=UTC)
    health = {r["source"]: source_health(r, later, 6.0) for r in store.source_status(db)}
    assert health[f"feed:{feeds.base}/a.xml"]["state"] == "retired" and health[f"feed:{feeds.base}/a.xml"]["stopped"]
    assert health[f"feed:{feeds.base}/b.xml"]["state"] == "not_read"  # left running, and not read for a week
    source_config.set_enabled(db, file, f"feed:{feeds.base}/a.xml", True, "root", NOW)
    assert worker.poll_once().new_items == 0 and feeds.hits["/a.xml"] == hits + 1
    assert all(r["stopped_at"] is None for r in store.source_status(db))
    assert store.count_items(db) == 3
    # a file broken by hand: the worker goes on with what it had and says why
    file.write_text("[[source]]\nspec = 'rss:nowhere'\n", encoding="utf-8")
    stats = worker.poll_once()
    assert stats.warnings and "spec 'rss:nowhere' must be one of feed:…" in stats.warnings[0]
    assert {s.name for s in worker.sources} == {f"feed:{feeds.base}/a.xml", f"feed:{feeds.base}/b.xml"}
    source_config.write(file, [])
    worker.poll_once()
    assert worker.sources == []
    assert _audit_actions(db) == [("source.add", f"feed:{feeds.base}/a.xml"), ("source.add", f"feed:{feeds.base}/b.xml"),
                                  ("source.disable", f"feed:{feeds.base}/a.xml"),
                                  ("source.enable", f"feed:{feeds.base}/a.xml")]


def test_what_cannot_be_a_source_is_refused_before_it_is_written(tmp_path, feeds):
    db = store.open_db(tmp_path / "rw.db")
    file = tmp_path / "sources.toml"
    for spec, key in (("rss:https://x", "sources_bad_spec"), ("feed:ftp://x", "feed_bad_url"),
                      (f"api:{tmp_path / 'missing.toml'}", "api_bad_config")):
        with pytest.raises(SourceError) as exc:
            source_config.add(db, file, spec, "root", NOW)
        assert exc.value.key == key
    source_config.add(db, file, f"feed:{feeds.base}/a.xml", "root", NOW)
    with pytest.raises(SourceError, match="already a source"):
        source_config.add(db, file, f" feed:{feeds.base}/a.xml ", "root", NOW)
    with pytest.raises(SourceError, match="not in the sources file"):
        source_config.remove(db, file, "feed:https://other.example/rss", "root", NOW)
    assert [e.spec for e in source_config.load(file)] == [f"feed:{feeds.base}/a.xml"]


def test_watch_runs_on_the_sources_file_alone(tmp_path, feeds):
    file = tmp_path / "sources.toml"
    source_config.write(file, [source_config.SourceEntry(f"feed:{feeds.base}/b.xml", "新闻", "示例日报")])
    env = {"RUMOURWATCH_SOURCES_FILE": str(file)}
    result = CliRunner().invoke(cli, ["--db", str(tmp_path / "rw.db"), "watch", "--once", "--no-score", "--no-alerts"],
                                env=env)
    assert result.exit_code == 0, result.output
    assert store.count_items(store.open_db(tmp_path / "rw.db")) == 1
    result = CliRunner().invoke(cli, ["--db", str(tmp_path / "rw.db"), "watch", "--once", "--no-score"],
                                env={"RUMOURWATCH_SOURCES_FILE": str(tmp_path / "none.toml")})
    assert result.exit_code == 2 and "give at least one --source" in result.output and "none.toml" in result.output


def test_the_page_tries_adds_stops_and_removes_sources(tmp_path, feeds, monkeypatch):
    from streamlit.testing.v1 import AppTest

    from dashboard.auth import login_for_test
    from rumourwatch import auth

    db_path, file = tmp_path / "rw.db", tmp_path / "sources.toml"
    db = store.open_db(db_path)
    auth.create_user(db, "root", "a long phrase 77", "admin", "test")
    db.conn.close()
    monkeypatch.setenv("RUMOURWATCH_DB_PATH", str(db_path))
    monkeypatch.setenv("RUMOURWATCH_SOURCES_FILE", str(file))
    at = AppTest.from_file(str(REPO_ROOT / "dashboard" / "app_pages" / "sources.py"), default_timeout=60)
    login_for_test(at, "root", str(db_path))
    at.run()
    assert not at.exception
    assert "配置文件中还没有数据源。可在下方添加 RSS/Atom 订阅、数据接口、投放目录或文件。" in [i.value for i in at.info]
    at.selectbox(key="cfg_kind").select("feed").run()
    at.text_input(key="cfg_target").input(f"{feeds.base}/a.xml").run()
    at.selectbox(key="cfg_platform").select("网站").run()
    at.text_input(key="cfg_note").input("市卫健委官网").run()
    at.button(key="cfg_try").click().run()
    assert not at.exception
    assert "试读 2 条（不保存任何内容）：可入库 2 条，将被搁置 0 条。" in [c.value for c in at.caption]
    tried = at.dataframe[-1].value
    assert sorted(tried["内容"]) == ["冬季预防一氧化碳中毒提示", "流感疫苗预约通道开放"]
    assert list(tried["账号"]) == ["示例卫健委", "示例卫健委"]
    assert not file.exists()  # trying writes nothing
    at.button(key="cfg_add").click().run()
    assert not at.exception
    assert [e.spec for e in source_config.load(file)] == [f"feed:{feeds.base}/a.xml"]
    assert source_config.load(file)[0].note == "市卫健委官网"
    assert f"已完成：添加数据源 feed:{feeds.base}/a.xml" in "".join(s.value for s in at.success).replace("\\", "")
    frame = at.dataframe[0].value if "类型" in at.dataframe[0].value else at.dataframe[1].value
    assert list(frame["状态"]) == ["启用"] and list(frame["平台"]) == ["网站"]
    at.button(key="cfg_disable").click().run()
    assert source_config.load(file)[0].enabled is False
    at.checkbox(key=f"cfg_sure_feed:{feeds.base}/a.xml").check().run()
    at.button(key="cfg_remove").click().run()
    assert source_config.load(file) == []
    # a feed that is no feed is said so on trying, in Chinese
    at.text_input(key="cfg_target").input(f"{feeds.base}/missing.xml").run()
    at.button(key="cfg_try").click().run()
    assert any("拒绝了请求（HTTP 404）" in e.value for e in at.error), [e.value for e in at.error]
    db = store.open_db(db_path)
    assert [a for a, _ in _audit_actions(db)] == ["source.add", "source.disable", "source.remove"]
    assert {r["actor"] for r in store.audit_entries(db, actions=["source.add"])} == {"root"}
