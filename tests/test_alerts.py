"""Alert rules, one alert per cluster, deadlines, escalation on an injected clock, rules file."""

from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone

import pytest

from rumourwatch import alerts, experts, store
from rumourwatch.alerts import evaluate_alerts, escalate_overdue, list_alerts
from rumourwatch.clock import FixedClock
from rumourwatch.errors import ConfigError, StoreError
from rumourwatch.records import iso

from workflow_helpers import OTHER_TEXT, ROSTER_CSV, RUMOUR_TEXT, add_item, rules


def test_copies_of_one_rumour_make_one_alert_that_grows(db, now):
    r = rules()
    add_item(db, RUMOUR_TEXT, now, reposts=40)
    created = evaluate_alerts(db, now, r)
    assert created == []  # one copy, 40 reposts: below every spread threshold
    for i in range(2):
        add_item(db, RUMOUR_TEXT, now + timedelta(minutes=i), reposts=40)
    ids = evaluate_alerts(db, now + timedelta(minutes=5), r)
    assert len(ids) == 1
    first = store.get_alert(db, ids[0])
    assert first["severity"] == "三级" and first["item_count"] == 3
    for i in range(10):
        add_item(db, RUMOUR_TEXT, now + timedelta(minutes=10 + i), reposts=60)
    again = evaluate_alerts(db, now + timedelta(minutes=30), r)
    assert again == ids
    grown = store.get_alert(db, ids[0])
    assert grown["item_count"] == 13 and grown["severity"] == "二级"
    assert [a["id"] for a in store.list_alerts(db)] == ids
    assert [s["step"] for s in store.alert_steps(db, ids[0])] == ["created", "upgraded"]
    # deadlines keep counting from the first alert, not from the upgrade
    assert grown["respond_by"] == iso(now + timedelta(minutes=5, hours=5))


def test_a_story_retold_three_ways_is_one_alert_and_posts_sharing_a_tag_or_a_closing_are_their_own(db, now):
    """Three retellings of one invented rumour (the same sentences, each with an opening and a
    closing of its own), each spread enough to alert on its own, arriving one after another: one
    alert holding all three, not three. Different posts under one #topic#, or ending with one
    boilerplate sentence, keep an alert each."""
    from test_cluster import OTHERS, RETOLD

    story = [add_item(db, text, now + timedelta(minutes=i), reposts=600) for i, text in enumerate(RETOLD)]
    others = [add_item(db, text, now + timedelta(minutes=5), reposts=600) for text in OTHERS]
    ids = evaluate_alerts(db, now + timedelta(minutes=10), rules())
    by_item = {}
    for alert in (store.get_alert(db, i) for i in ids):
        for row in db.execute("SELECT id FROM items WHERE cluster_id = ?", [alert["cluster_id"]]):
            by_item[row[0]] = (alert["id"], alert["item_count"])
    assert len(ids) == 1 + len(OTHERS)
    assert {by_item[i] for i in story} == {(by_item[story[0]][0], 3)}  # one alert, three copies
    assert len({by_item[i][0] for i in others}) == len(OTHERS) and {by_item[i][1] for i in others} == {1}


def test_low_probability_and_non_health_items_raise_nothing(db, now):
    for i in range(5):
        add_item(db, OTHER_TEXT + str(i), now, probability=0.2, reposts=9000)
        add_item(db, RUMOUR_TEXT + str(i), now, probability=0.95, health=False, reposts=9000)
    assert evaluate_alerts(db, now, rules()) == []


def test_highest_severity_gets_a_press_conference_clock(db, now):
    item = add_item(db, RUMOUR_TEXT, now, reposts=6000)
    [alert_id] = evaluate_alerts(db, now, rules())
    a = store.get_alert(db, alert_id)
    assert a["severity"] == "一级"
    assert a["respond_by"] == iso(now + timedelta(hours=5))
    assert a["conference_by"] == iso(now + timedelta(hours=24))
    assert a["item_id"] == item
    lesser = add_item(db, OTHER_TEXT + "不同的文字再来一段内容", now, reposts=600)
    ids = evaluate_alerts(db, now, rules())
    assert len(ids) == 1 and store.get_alert(db, ids[0])["conference_by"] is None
    assert store.get_alert(db, ids[0])["item_id"] == lesser


def test_clock_hours_are_configurable(db, now):
    add_item(db, RUMOUR_TEXT, now, reposts=6000)
    r = rules(clocks={"respond_hours": 2, "conference_hours": 12, "conference_severities": ["一级", "二级"]})
    [alert_id] = evaluate_alerts(db, now, r)
    a = store.get_alert(db, alert_id)
    assert (a["respond_by"], a["conference_by"]) == (iso(now + timedelta(hours=2)), iso(now + timedelta(hours=12)))


def test_velocity_counts_recent_reactions_only(db, now):
    r = rules(rumour={"levels": [{"severity": "二级", "min_velocity": 5}]})
    old = [now - timedelta(hours=3, minutes=i) for i in range(10)]
    add_item(db, RUMOUR_TEXT, now - timedelta(hours=4), reaction_times=old, scored_at=now)
    assert evaluate_alerts(db, now, r) == []
    fresh = [now - timedelta(minutes=i) for i in range(6)]
    add_item(db, RUMOUR_TEXT + "再转", now - timedelta(minutes=30), reaction_times=fresh, scored_at=now)
    [alert_id] = evaluate_alerts(db, now, r)
    assert json.loads(store.get_alert(db, alert_id)["metrics"])["velocity"] == 6


def test_watched_keyword_and_account_alert_even_below_the_rumour_threshold(db, now):
    r = rules(watch={"keywords": ["淡盐水"], "accounts": ["示例养生号"], "severity": "二级"})
    add_item(db, RUMOUR_TEXT, now, probability=0.1)
    add_item(db, OTHER_TEXT, now, probability=0.1, account="示例养生号")
    ids = evaluate_alerts(db, now, r)
    assert len(ids) == 2
    reasons = [json.loads(store.get_alert(db, i)["rules"])[0]["reason"] for i in ids]
    assert any("淡盐水" in x for x in reasons) and any("示例养生号" in x for x in reasons)
    assert evaluate_alerts(db, now, r) == []  # already seen items are not re-alerted


def test_negative_opinion_spike_against_the_baseline(db, now):
    r = rules(rumour={"enabled": False},
              opinion_spike={"enabled": True, "min_items": 10, "min_increase": 0.2, "dimensions": ["topic", "region"]})
    for i in range(20):  # baseline: 10% negative, two days ago
        add_item(db, f"{OTHER_TEXT}基线{i}号", now - timedelta(hours=30, minutes=i), topic="心理健康促进",
                 polarity="negative" if i < 2 else "neutral", user={"province": "示例省"})
    assert evaluate_alerts(db, now, r) == []
    for i in range(12):  # last hours: 50% negative
        add_item(db, f"{OTHER_TEXT}近期{i}号", now - timedelta(hours=1, minutes=i), topic="心理健康促进",
                 polarity="negative" if i % 2 else "neutral", user={"province": "示例省"})
    ids = evaluate_alerts(db, now + timedelta(minutes=11), r)
    kinds = {(a["topic"], a["region"]) for a in map(lambda i: store.get_alert(db, i), ids)}
    assert kinds == {("心理健康促进", None), (None, "示例省")}
    assert all(store.get_alert(db, i)["severity"] == "二级" for i in ids)


def test_escalation_fires_once_at_each_deadline(db, now):
    clock = FixedClock(now)
    add_item(db, RUMOUR_TEXT, now, reposts=6000)
    r = rules()
    [alert_id] = evaluate_alerts(db, clock(), r)
    clock.advance(hours=4, minutes=59)
    assert escalate_overdue(db, clock(), r) == []
    assert list_alerts(db, clock(), "overdue") == []
    clock.advance(minutes=1)
    events = escalate_overdue(db, clock(), r)
    assert [(e["alert_id"], e["deadline"]) for e in events] == [(alert_id, "respond_by")]
    assert escalate_overdue(db, clock(), r) == []  # once only
    assert [a["id"] for a in list_alerts(db, clock(), "overdue")] == [alert_id]
    clock.advance(hours=19)
    assert [e["deadline"] for e in escalate_overdue(db, clock(), r)] == ["conference_by"]
    steps = [s["step"] for s in store.alert_steps(db, alert_id)]
    assert steps == ["created", "escalated:respond_by", "escalated:conference_by"]
    assert [e["action"] for e in store.audit_entries(db, target_type="alert")][:2] == ["alert.escalate", "alert.escalate"]


def test_released_information_stops_the_clock(db, now):
    clock = FixedClock(now)
    add_item(db, RUMOUR_TEXT, now, reposts=600)
    r = rules()
    [alert_id] = evaluate_alerts(db, clock(), r)
    clock.advance(hours=3)
    alerts.record_step(db, alert_id, "info_released", "monitor1", clock(), "官方通报已发布")
    clock.advance(hours=10)
    assert escalate_overdue(db, clock(), r) == []
    view = list_alerts(db, clock())[0]
    assert view["responded_at"] == iso(now + timedelta(hours=3)) and view["overdue"] is False
    with pytest.raises(alerts.WorkflowError, match="already recorded"):
        alerts.record_step(db, alert_id, "info_released", "monitor1", clock())


def test_time_left_is_negative_when_overdue(db, now):
    add_item(db, RUMOUR_TEXT, now, reposts=600)
    evaluate_alerts(db, now, rules())
    view = list_alerts(db, now + timedelta(hours=6))[0]
    assert view["respond_seconds_left"] == -3600 and view["overdue"] is True


def test_state_survives_reopening_the_database(db_path, now):
    db = store.open_db(db_path)
    add_item(db, RUMOUR_TEXT, now, reposts=600)
    [alert_id] = evaluate_alerts(db, now, rules())
    db.conn.close()
    db2 = store.open_db(db_path)
    assert store.get_alert(db2, alert_id)["respond_by"] == iso(now + timedelta(hours=5))
    assert evaluate_alerts(db2, now, rules()) == []  # the evaluation mark survived too


def test_rules_are_put_back_when_their_audit_entry_fails_to_commit(tmp_path):
    """The audit entry is written, the file swapped in, then COMMIT fails (a deferred constraint here,
    a full disk in life): the file goes back to what it was, or away when there was none."""
    db = store.open_db(tmp_path / "audit.db")
    db.conn.executescript("""
        CREATE TABLE parent (id INTEGER PRIMARY KEY);
        CREATE TABLE child (parent_id INTEGER REFERENCES parent (id) DEFERRABLE INITIALLY DEFERRED);
        CREATE TRIGGER audit_child AFTER INSERT ON audit_log BEGIN INSERT INTO child VALUES (NEW.id); END;""")
    path = alerts.save_rules(rules(), tmp_path / "rules.toml")
    before = path.read_bytes()
    for target in (path, tmp_path / "new.toml"):
        with pytest.raises(StoreError, match="FOREIGN KEY"):
            alerts.save_rules(rules(watch={"keywords": ["示例词"]}), target, actor="admin1", db=db)
        assert store.audit_entries(db) == []
    assert path.read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir() if "toml" in p.name) == ["rules.toml"]


def test_rules_changed_since_they_were_read_are_not_saved_over(tmp_path, db):
    path = alerts.save_rules(rules(), tmp_path / "rules.toml")
    read = alerts.rules_version(path)
    alerts.save_rules(rules(watch={"keywords": ["别人刚加的词"]}), path)  # someone else, meanwhile
    with pytest.raises(ConfigError) as exc:
        alerts.save_rules(rules(tips={"min_tips": 5}), path, actor="admin1", db=db, expected_version=read)
    assert exc.value.key == "rules_changed"
    assert alerts.load_rules(path)["watch"]["keywords"] == ["别人刚加的词"] and store.audit_entries(db) == []
    alerts.save_rules(rules(tips={"min_tips": 5}), path, actor="admin1", db=db,
                      expected_version=alerts.rules_version(path))
    assert alerts.load_rules(path)["tips"]["min_tips"] == 5
    assert alerts.rules_version(tmp_path / "none.toml") == ""


def test_a_rules_file_that_cannot_be_written_is_a_config_error_and_is_not_audited(tmp_path, db):
    (tmp_path / "not-a-folder").write_text("", encoding="utf-8")
    with pytest.raises(ConfigError) as exc:
        alerts.save_rules(rules(), tmp_path / "not-a-folder" / "rules.toml", actor="admin1", db=db)
    assert (exc.value.key, exc.value.params) == ("rules_write_failed", {"path": str(tmp_path / "not-a-folder" / "rules.toml")})
    assert store.audit_entries(db) == []


def test_rules_file_round_trips_and_names_bad_keys(tmp_path):
    r = rules(watch={"keywords": ["示例词"]})
    path = alerts.save_rules(r, tmp_path / "rules.toml")
    loaded = alerts.load_rules(path)
    assert loaded["watch"]["keywords"] == ["示例词"] and loaded["rumour"] == r["rumour"]
    (tmp_path / "bad.toml").write_text('[rumour]\nmin_probability = 1.5\n', encoding="utf-8")
    with pytest.raises(ConfigError, match="rumour.min_probability"):
        alerts.load_rules(tmp_path / "bad.toml")
    (tmp_path / "bad2.toml").write_text('[rumour]\nlevels = [{ severity = "四级" }]\n', encoding="utf-8")
    with pytest.raises(ConfigError, match=r"levels\[0\].severity"):
        alerts.load_rules(tmp_path / "bad2.toml")
    (tmp_path / "bad3.toml").write_text('[notify]\nquiet_hours = "late"\n', encoding="utf-8")
    with pytest.raises(ConfigError, match="quiet_hours"):
        alerts.load_rules(tmp_path / "bad3.toml")


def test_shipped_rules_file_is_valid():
    r = alerts.load_rules(alerts.DEFAULT_RULES_PATH)
    assert r["clocks"]["respond_hours"] == 5 and r["clocks"]["conference_hours"] == 24


def test_worker_then_evaluate_alerts_one_alert_per_cluster_across_polls(tmp_path, db_path, rule_bundle):
    """The live path: the worker ingests and scores, then evaluate_alerts runs (as worker.py will).
    Copies arriving over several polls grow one alert; a second rumour gets its own."""
    from rumourwatch.sources import file_source
    from rumourwatch.worker import Worker

    start = datetime(2026, 11, 23, 6, 0, tzinfo=timezone.utc)
    clock = FixedClock(start)
    feed = tmp_path / "feed.jsonl"
    db = store.open_db(db_path)
    r = rules(rumour={"min_probability": 0.6, "levels": [{"severity": "二级", "min_copies": 3},
                                                         {"severity": "三级", "min_copies": 2}]})
    rumour = "转发扩散：示例病毒靠喝白酒就能杀死，家里常备白酒就不会被感染"
    other = "转发：示例县明天起开展免费体检活动，地点在县医院门诊楼一楼大厅"
    doubt = [{"date": "2026-11-23 14:10", "text": "这是谣言吧", "user_id": "u1"}]

    def post(n, text):
        return json.dumps({"id": f"p{n}", "text": text, "date": "2026-11-23 14:00", "reposts": doubt},
                          ensure_ascii=False) + "\n"

    with open(feed, "a", encoding="utf-8") as fh:
        fh.write(post(1, rumour) + post(2, rumour) + post(3, other))
    for poll, extra in enumerate([[], [post(4, rumour), post(5, other)], [post(6, rumour)]]):
        if extra:
            with open(feed, "a", encoding="utf-8") as fh:
                fh.writelines(extra)
        worker = Worker(db, [file_source(str(feed))], rule_bundle, clock=clock)  # a restart each poll
        worker.poll_once()
        evaluate_alerts(db, clock(), r)
        clock.advance(minutes=10)
    views = list_alerts(db, clock())
    assert len(views) == 2  # six posts, two clusters, two alerts
    by_copies = {v["item_count"]: v for v in views}
    assert set(by_copies) == {4, 2}
    assert by_copies[4]["severity"] == "二级" and by_copies[2]["severity"] == "三级"
    assert by_copies[4]["created_at"] == iso(start)  # the clock starts when the cluster first alerted
    assert by_copies[4]["respond_by"] == iso(start + timedelta(hours=5))


def test_a_dismissed_alert_reopens_when_its_cluster_escalates(db, now):
    add_item(db, RUMOUR_TEXT, now, reposts=600)
    [alert_id] = evaluate_alerts(db, now, rules())
    alerts.dismiss_alert(db, alert_id, "monitor1", now, "误报：讽刺段子")
    add_item(db, RUMOUR_TEXT, now + timedelta(hours=1), reposts=6000)
    assert evaluate_alerts(db, now + timedelta(hours=1), rules()) == [alert_id]
    a = store.get_alert(db, alert_id)
    assert (a["status"], a["severity"], a["closed_at"]) == ("open", "一级", None)
    assert [s["step"] for s in store.alert_steps(db, alert_id)][-3:] == ["dismissed", "upgraded", "reopened"]


def _assigned(db, now):
    """An alert offered to 李样本 (the offer is due within the hour)."""
    experts.import_roster(db, ROSTER_CSV, "admin", now)
    li = next(e["id"] for e in store.list_experts(db) if e["name"] == "李样本")
    add_item(db, RUMOUR_TEXT, now, reposts=600)
    [alert_id] = evaluate_alerts(db, now, rules())
    return alert_id, li, experts.assign_expert(db, alert_id, li, "monitor1", now, rules())


def test_a_dismissed_alerts_overdue_offer_is_not_escalated_to_leaders(db, now):
    alert_id, _, aid = _assigned(db, now)
    alerts.dismiss_alert(db, alert_id, "monitor1", now + timedelta(minutes=10), "误报：讽刺段子")
    later = now + timedelta(days=1)
    assert alerts.workflow_tick(db, later, rules(), deliver=False)["escalations"] == []
    assert store.get_assignment(db, aid)["escalated_at"] is None
    assert not [n for n in store.list_notifications(db) if n["event"].startswith("escalation")]


def test_a_reopened_alert_is_assigned_afresh_after_its_task_was_withdrawn(db, now):
    alert_id, li, aid = _assigned(db, now)
    alerts.dismiss_alert(db, alert_id, "monitor1", now, "误报：讽刺段子")
    add_item(db, RUMOUR_TEXT, now + timedelta(hours=1), reposts=6000)
    evaluate_alerts(db, now + timedelta(hours=1), rules())
    a = store.get_alert(db, alert_id)
    assert (a["status"], a["assigned_expert"]) == ("open", None)
    new = experts.assign_expert(db, alert_id, li, "monitor1", now + timedelta(hours=1), rules())
    assert [(x["id"], x["status"]) for x in store.alert_assignments(db, alert_id)] == [(aid, "cancelled"),
                                                                                       (new, "offered")]
    assert [x["id"] for x in store.expert_assignments(db, li, ("offered", "accepted", "submitted"))] == [new]


def test_replaying_the_bundle_gives_one_alert_per_cluster_with_deadlines(db, rule_bundle):
    """The stream sample of the data bundle (real, repetitive Weibo posts) through the worker, then
    the rules: every cluster that qualifies has exactly one alert, and its clocks are right."""
    from tests.conftest import DATA_DIR
    from rumourwatch.sources.replay import ReplaySource
    from rumourwatch.worker import Worker

    if not (DATA_DIR / "stream").is_dir():
        pytest.fail(f"data bundle not found at {DATA_DIR}; set RUMOURWATCH_DATA_DIR")
    start = datetime(2026, 11, 23, 0, 0, tzinfo=timezone.utc)
    source = ReplaySource.fast(DATA_DIR, speed=3600.0, start=start, datasets="stream", limit=1500)
    clock = FixedClock(start + timedelta(hours=3))
    worker = Worker(db, [source], rule_bundle, clock=clock)
    worker.poll_once()
    # the stand-in model gives 0.4 to posts that ask to be shared (转发): alert on two copies of one
    r = rules(rumour={"min_probability": 0.4, "health_only": True,
                      "levels": [{"severity": "二级", "min_copies": 20}, {"severity": "三级", "min_copies": 2}]})
    ids = evaluate_alerts(db, clock(), r)
    qualifying = {row[0] for row in db.execute(
        """SELECT cluster_id FROM items WHERE cluster_id IS NOT NULL
           GROUP BY cluster_id HAVING max(rumour_probability) >= 0.4 AND count(*) >= 2""")}
    views = list_alerts(db, clock(), limit=100000)
    copies = {cid: db.execute("SELECT count(*) FROM items WHERE cluster_id = ?", [cid]).fetchone()[0]
              for cid in qualifying}
    assert qualifying and max(copies.values()) >= 10, "the sample should hold a post copied many times"
    assert sorted(v["cluster_id"] for v in views) == sorted(qualifying)  # one alert each, none twice
    assert len(ids) == len(views)
    for v in views:
        assert v["respond_by"] == iso(clock() + timedelta(hours=5))
        assert (v["conference_by"] is not None) == (v["severity"] == "一级")
        size = db.execute("SELECT count(*) FROM items WHERE cluster_id = ?", [v["cluster_id"]]).fetchone()[0]
        assert v["item_count"] == size
    assert evaluate_alerts(db, clock() + timedelta(minutes=1), r) == []
