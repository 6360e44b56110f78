"""A feed that stops at night, or a worker that stops, is first seen on the dashboard the next
morning unless someone is told: the monitors' group bot and mailboxes get one notice when a source
seems to have stopped and one when it is back (worker.announce_sources), from the worker's poll and
from `rumourwatch alerts escalate` (cron, which also catches a stopped worker)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from click.testing import CliRunner
from workflow_helpers import rules

from rumourwatch import notify, store
from rumourwatch.cli import cli
from rumourwatch.records import iso
from rumourwatch.worker import SOURCE_NOTICE, announce_sources

NOW = datetime(2026, 11, 23, 4, 0, tzinfo=UTC)  # noon in Beijing


def _rules(hook=None, smtp_port=None, quiet_hours=""):
    cfg = {"quiet_hours": quiet_hours, "retry_base_seconds": 60, "timeout_seconds": 5,
           "monitor_emails": ["monitor@example.org"], "leader_emails": ["leader@example.org"]}
    if hook is not None:
        cfg["webhooks"] = [{"url": f"http://127.0.0.1:{hook.server_port}/hook", "format": "markdown"}]
    if smtp_port:
        cfg.update(smtp_host="127.0.0.1", smtp_port=smtp_port)
    return rules(notify=cfg)


def _feed(db, name: str, last_item_hours: float, read_hours: float = 0.0, error: str | None = None) -> None:
    """A source that last gave a new item `last_item_hours` before NOW and was last read `read_hours` before."""
    store.set_checkpoint(db, name, "page:1", 1, iso(NOW - timedelta(hours=last_item_hours)))
    store.mark_polled(db, name, iso(NOW - timedelta(hours=read_hours)))
    if error:
        store.record_source_error(db, name, error)


def _bot_texts(hook) -> list[str]:
    return [p["markdown"]["content"] for p in hook.received]


def test_a_silent_feed_is_announced_once_and_its_return_once(db, webhook):
    r = _rules(webhook)
    _feed(db, "weibo-scraper", last_item_hours=7)
    _feed(db, "rss:卫健委", last_item_hours=1)
    assert announce_sources(db, NOW, r, 6.0) == [{"source": "weibo-scraper", "event": "source_stalled",
                                                  "state": "quiet"}]
    notify.deliver_pending(db, NOW, r)
    [text] = _bot_texts(webhook)
    assert "【数据源中断】weibo-scraper 已 7 小时没有新条目" in text and "11-23 05:00" in text  # Beijing time
    assert "条目数和各项比例会偏低" in text
    # the next polls say nothing more while it stays silent
    assert announce_sources(db, NOW + timedelta(minutes=5), r, 6.0) == []
    assert announce_sources(db, NOW + timedelta(hours=3), r, 6.0) == []
    # it gives items again: one notice that it is back, with how long it was out
    store.set_checkpoint(db, "weibo-scraper", "page:2", 4, iso(NOW + timedelta(hours=4)))
    back = NOW + timedelta(hours=4, minutes=1)
    assert [e["event"] for e in announce_sources(db, back, r, 6.0)] == ["source_recovered"]
    notify.deliver_pending(db, back, r)
    assert "【数据源恢复】weibo-scraper" in _bot_texts(webhook)[1] and "中断约 11 小时" in _bot_texts(webhook)[1]
    assert announce_sources(db, back + timedelta(minutes=5), r, 6.0) == []
    assert store.workflow_state(db, SOURCE_NOTICE + "weibo-scraper") is None


def test_a_stopped_worker_is_urgent_and_a_silent_feed_waits_out_quiet_hours(db):
    r = _rules(quiet_hours="00:00-23:59")
    _feed(db, "replay", last_item_hours=9, read_hours=8)  # nothing has read it for 8 hours
    _feed(db, "weibo-scraper", last_item_hours=7)
    events = {e["source"]: e["state"] for e in announce_sources(db, NOW, r, 6.0)}
    assert events == {"replay": "not_read", "weibo-scraper": "quiet"}
    by_source = {n["subject"].split()[1] if "采集停止" in n["subject"] else "weibo-scraper": n
                 for n in store.list_notifications(db)}
    assert "【采集停止】数据源 replay 已 8 小时未读取" in by_source["replay"]["subject"]
    assert "rumourwatch watch" in by_source["replay"]["body"]
    assert by_source["replay"]["urgent"] == 1 and by_source["replay"]["next_attempt_at"] == iso(NOW)
    assert by_source["weibo-scraper"]["urgent"] == 0 and by_source["weibo-scraper"]["next_attempt_at"] > iso(NOW)


def test_one_failed_read_is_a_hiccup_but_a_source_failing_for_hours_is_announced(db):
    r = _rules()
    _feed(db, "feed:https://example.org/rss", last_item_hours=1, error="HTTP 503")
    assert announce_sources(db, NOW, r, 6.0) == []
    _feed(db, "feed:https://example.org/rss", last_item_hours=7, error="HTTP 503")
    [event] = announce_sources(db, NOW, r, 6.0)
    assert event["state"] == "error"
    [mail] = store.list_notifications(db)
    assert "已 7 小时没有新条目" in mail["subject"] and "HTTP 503" in mail["body"]


@pytest.mark.parametrize("change", ["imported", "retired"])
def test_files_imported_once_are_never_announced_and_a_retired_source_is_forgotten_quietly(db, change):
    r = _rules()
    store.set_checkpoint(db, "file:export.csv", "line:9", 9, iso(NOW - timedelta(days=2)), one_off=True)
    _feed(db, "old-scraper", last_item_hours=10)
    assert [e["source"] for e in announce_sources(db, NOW, r, 6.0)] == ["old-scraper"]
    if change == "imported":  # the same name read once more by `rumourwatch ingest`
        store.set_checkpoint(db, "old-scraper", "page:9", 0, iso(NOW), one_off=True)
        later = NOW
    else:  # removed from the worker: not read for a week
        later = NOW + timedelta(days=8)
    assert announce_sources(db, later, r, 6.0) == []  # no "back to normal" for what did not come back
    assert store.workflow_state(db, SOURCE_NOTICE + "old-scraper") is None
    assert len(store.list_notifications(db)) == 1


def test_cron_reports_a_stopped_worker_by_mail(db_path, smtp_server, monkeypatch, tmp_path):
    controller, inbox = smtp_server
    rules_file = tmp_path / "rules.toml"
    rules_file.write_text(f'[notify]\nquiet_hours = ""\nmonitor_emails = ["monitor@example.org"]\n'
                          f'smtp_host = "127.0.0.1"\nsmtp_port = {controller.port}\n', encoding="utf-8")
    db = store.open_db(db_path)
    now = datetime.now(UTC)  # the command reads the real clock
    store.set_checkpoint(db, "replay", "line:5", 5, iso(now - timedelta(hours=9)))
    db.conn.close()
    run = CliRunner().invoke(cli, ["--db", str(db_path), "alerts", "escalate", "--rules", str(rules_file)])
    assert run.exit_code == 0, run.output
    assert "source replay: has stopped (not_read), monitors notified" in run.output
    [(to, mail)] = inbox.messages
    assert to == ["monitor@example.org"] and "【采集停止】数据源 replay" in mail["Subject"]
    again = CliRunner().invoke(cli, ["--db", str(db_path), "alerts", "escalate", "--rules", str(rules_file)])
    assert "source replay" not in again.output and len(inbox.messages) == 1


def test_the_worker_announces_from_its_workflow_poll(db, tmp_path, webhook):
    from rumourwatch.sources import DropFolderSource
    from rumourwatch.worker import Worker

    rules_file = tmp_path / "rules.toml"
    rules_file.write_text(f'[notify]\nquiet_hours = ""\nwebhooks = [{{ url = "http://127.0.0.1:'
                          f'{webhook.server_port}/hook" }}]\n', encoding="utf-8")
    _feed(db, "weibo-scraper", last_item_hours=7)  # another worker's source, silent
    (tmp_path / "drop").mkdir()
    worker = Worker(db, [DropFolderSource(tmp_path / "drop", name="drop")], workflow=True,
                    rules_path=rules_file, clock=lambda: NOW, source_quiet_hours=6.0)
    worker.poll_once()
    assert ["【数据源中断】weibo-scraper" in t for t in _bot_texts(webhook)] == [True]
    worker.poll_once()
    assert len(webhook.received) == 1
