import json
from datetime import timedelta

from rumourwatch import store
from rumourwatch.errors import SourceError
from rumourwatch.sources.base import RawItem, RawReaction
from rumourwatch.sources.files import JsonLinesSource
from rumourwatch.worker import Worker


def write_jsonl(path, records):
    with open(path, "w", encoding="utf-8") as fh:
        for r in records:
            fh.write((r if isinstance(r, str) else json.dumps(r, ensure_ascii=False)) + "\n")


def posts(n, start=0):
    return [{"id": f"p{i}", "platform": "微博", "account": f"u{i % 7}",
             "text": f"第{i}条：医生提醒，冬季流感高发，注意勤洗手、戴口罩，编号{i * 7919}。",
             "date": "2026-11-23 09:00"} for i in range(start, start + n)]


def test_worker_ingests_scores_and_does_not_repeat_on_the_next_poll(tmp_path, db, rule_bundle, now):
    path = tmp_path / "feed.jsonl"
    write_jsonl(path, posts(30) + ["{broken"])
    worker = Worker(db, [JsonLinesSource(path, name="feed")], rule_bundle, clock=lambda: now, batch_size=8)
    stats = worker.poll_once()
    assert (stats.new_items, stats.rejects, stats.scored) == (30, 1, 30)
    assert worker.poll_once().idle
    assert store.count_items(db) == 30 and store.count_rejects(db) == 1
    assert db.execute("SELECT count(*) FROM items WHERE model_version = 'rule-test-1'").fetchone()[0] == 30


def test_items_are_rescored_when_reactions_arrive(db, rule_bundle, now):
    class Script:
        name = "script"

        def __init__(self):
            self.events = []

        def read(self, checkpoint):
            start = int(checkpoint or 0)
            for i, e in enumerate(self.events[start:], start=start + 1):
                e.position = str(i)
                yield e

        def acknowledge(self, position):
            pass

    src = Script()
    worker = Worker(db, [src], rule_bundle, clock=lambda: now)
    src.events.append(RawItem({"id": "r1", "platform": "微博", "text": "喝盐水防病毒", "date": "2026-11-23 07:00"}))
    worker.poll_once()
    assert store.get_item(db, 1)["rumour_probability"] == 0.1
    src.events.append(RawReaction({"item_id": "r1", "platform": "微博", "kind": "comment",
                                   "date": "2026-11-23 07:20", "text": "这是谣言吧"}))
    worker.poll_once()
    item = store.get_item(db, 1)
    assert abs(item["rumour_probability"] - 0.3) < 1e-9 and item["scored_reactions"] == 1
    history = store.score_history(db, 1)
    assert [h["reactions_seen"] for h in history] == [0, 1]


def test_a_source_that_is_down_is_logged_and_the_others_go_on(db, rule_bundle, now, tmp_path):
    class Down:
        name = "down"

        def read(self, checkpoint):
            raise SourceError("http://127.0.0.1:9/rss.xml: connection refused")
            yield

    path = tmp_path / "ok.jsonl"
    write_jsonl(path, posts(3))
    worker = Worker(db, [Down(), JsonLinesSource(path, name="ok")], rule_bundle, clock=lambda: now)
    stats = worker.poll_once()
    assert stats.new_items == 3 and "connection refused" in stats.errors[0]
    status = {s["source"]: s for s in store.source_status(db)}
    assert "connection refused" in status["down"]["last_error"]


def test_resume_after_interruption_loses_and_duplicates_nothing(tmp_path, db_path, rule_bundle, now):
    path = tmp_path / "feed.jsonl"
    write_jsonl(path, posts(50))
    db = store.open_db(db_path)
    worker = Worker(db, [JsonLinesSource(path, name="feed")], rule_bundle, clock=lambda: now, batch_size=10)

    # the process dies in the middle of the third batch: that transaction never commits
    calls = {"n": 0}
    original = worker._commit

    def dying_commit(source, batch, stats):
        calls["n"] += 1
        if calls["n"] == 3:
            raise KeyboardInterrupt("killed")
        original(source, batch, stats)

    worker._commit = dying_commit
    try:
        worker.poll_once()
    except KeyboardInterrupt:
        pass
    assert store.count_items(db) == 20

    restarted = Worker(store.open_db(db_path), [JsonLinesSource(path, name="feed")], rule_bundle,
                       clock=lambda: now, batch_size=10)
    restarted.poll_once()
    ids = [r[0] for r in restarted.db.execute("SELECT external_id FROM items ORDER BY id")]
    assert ids == [f"p{i}" for i in range(50)]
    assert restarted.db.execute("SELECT count(*) FROM items WHERE scored_at IS NULL").fetchone()[0] == 0


RUMOUR = ("转发扩散！紧急通知：喝高度白酒和熏醋可以杀死体内的流感病毒，家里有老人孩子的赶紧备上，"
          "医院已经挤满了人，明天起药店的板蓝根全部限购")


def _copies(start, n):
    return [{"id": f"copy{i}", "platform": "微博", "account": f"acct{i}", "text": RUMOUR + f" //@用户{i}",
             "date": "2026-11-23 07:30"} for i in range(start, start + n)]


def test_the_live_worker_raises_one_alert_per_cluster_that_grows_with_its_copies(tmp_path, db, rule_bundle, now):
    from rumourwatch import alerts

    rules = alerts.load_rules(alerts.DEFAULT_RULES_PATH)
    rules["rumour"]["min_probability"] = 0.35  # the test double gives 0.4 to a text asking to be reposted
    rules_file = alerts.save_rules(rules, tmp_path / "rules.toml")
    feed = tmp_path / "feed.jsonl"
    write_jsonl(feed, _copies(0, 12) + posts(5))
    clock = [now]
    worker = Worker(db, [JsonLinesSource(feed, name="feed")], rule_bundle, clock=lambda: clock[0],
                    workflow=True, rules_path=rules_file)
    stats = worker.poll_once()
    assert stats.new_items == 17 and stats.alerts == 1
    [alert] = alerts.list_alerts(db, now)
    assert alert["severity"] == "二级" and alert["item_count"] == 12
    assert alert["respond_by"] == "2026-11-23T13:00:00Z" and alert["conference_by"] is None
    assert store.get_item(db, alert["item_id"])["cluster_id"] == alert["cluster_id"]

    # 40 more copies arrive: the same alert grows to 一级 and now carries the 24 h press-conference clock.
    clock[0] = now + timedelta(minutes=30)
    with open(feed, "a", encoding="utf-8") as fh:  # the feed file grows
        fh.writelines(json.dumps(r, ensure_ascii=False) + "\n" for r in _copies(12, 40))
    assert worker.poll_once().new_items == 40
    [grown] = alerts.list_alerts(db, now)
    assert grown["id"] == alert["id"] and grown["severity"] == "一级" and grown["item_count"] == 52
    assert grown["conference_by"] is not None

    # Nobody responds: six hours later the worker escalates the 5 h clock, once.
    clock[0] = now + timedelta(hours=6)
    assert worker.poll_once().escalations >= 1
    assert worker.poll_once().escalations == 0
    [late] = alerts.list_alerts(db, clock[0])
    assert late["overdue"] and late["escalated"]


def test_a_broken_rules_file_is_reported_and_ingest_goes_on(tmp_path, db, rule_bundle, now):
    bad = tmp_path / "rules.toml"
    bad.write_text("[rumour\nmin_probability = ", encoding="utf-8")
    feed = tmp_path / "feed.jsonl"
    write_jsonl(feed, posts(3))
    worker = Worker(db, [JsonLinesSource(feed, name="feed")], rule_bundle, clock=lambda: now,
                    workflow=True, rules_path=bad)
    stats = worker.poll_once()
    assert stats.new_items == 3 and stats.scored == 3 and not stats.errors
    assert "not valid TOML" in stats.warnings[0]


def test_a_source_that_recovers_is_no_longer_shown_as_failing(db, rule_bundle, now, tmp_path):
    """数据源与质量 shows a source's failure until the source is read again without failing: a feed
    that was down for one poll must not keep its 读取失败 banner for good."""
    path = tmp_path / "later.jsonl"
    worker = Worker(db, [JsonLinesSource(path, name="later")], rule_bundle, clock=lambda: now)
    first = worker.poll_once()
    assert first.errors and store.source_checkpoint(db, "later")["last_error"]
    write_jsonl(path, posts(2))
    second = worker.poll_once()
    assert second.new_items == 2 and not second.errors
    assert [s for s in store.source_status(db) if s["last_error"]] == []
