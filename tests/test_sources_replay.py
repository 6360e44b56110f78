"""Replay of the bundle: shifted present times, reactions after their items, holdout, clock, resume."""

import gzip
import hashlib
import json
from datetime import datetime, timedelta, timezone

import pytest

from rumourwatch.config import load_settings
from rumourwatch.errors import SourceError
from rumourwatch.sources import (FeedSource, JsonLinesSource, DropFolderSource, RawItem,
                                 RawReaction, ReplaySource, source_from_spec)

UTC = timezone.utc
START = datetime(2026, 1, 1, tzinfo=UTC)
FAR = lambda: datetime(2100, 1, 1, tzinfo=UTC)  # noqa: E731


def _write(path, records):
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(gzip.compress("".join(json.dumps(r, ensure_ascii=False) + "\n"
                                           for r in records).encode()))


@pytest.fixture
def bundle(tmp_path):
    """A tiny bundle of fictional records in the real bundle's layout and field names."""
    _write(tmp_path / "rumour" / "checked_train.jsonl.gz", [
        {"id": "c1", "label": "fake", "date": "2020-03-01 10:00", "user_id": "u1",
         "text": "网传喝高度白酒可以杀死病毒", "comment_num": 50, "repost_num": 99, "like_num": 7,
         "analysis": "酒精不能在体内杀灭病毒", "has_pic": False, "split": "train",
         "reposts": [{"date": "2020-03-01 10:30", "user_id": "r1", "text": "转发提醒家人"},
                     {"date": "2020-02-28 09:00", "user_id": "r0", "text": "时间早于原帖的转发"}],
         "comments": [{"date": "2020-03-01 10:05", "user_id": "k1", "text": "真的假的"}]},
        {"id": "c2", "label": "real", "date": "2020-03-01 11:00", "user_id": "u2",
         "text": "卫健委：接种疫苗后请留观三十分钟", "comment_num": 1, "repost_num": 2, "like_num": 3,
         "analysis": None, "comments": [], "reposts": []},
        {"id": "c3", "label": "fake", "date": "2020-03-02 10:00", "user_id": "u3",
         "text": "网传吃大蒜能预防感染", "comment_num": 0, "repost_num": 0, "like_num": 0,
         "reposts": [{"date": "2020-03-02 12:00", "user_id": "r3", "text": "别信"}]},
    ])
    _write(tmp_path / "rumour" / "ced_train.jsonl.gz", [
        {"id": "e1", "label": "rumor", "date": "2012-05-01 08:00", "text": "某地自来水有毒，速囤矿泉水",
         "user": {"followers": 10, "verified": False}, "source": "微博 weibo.com",
         "repost_num": 5, "comment_num": 0, "like_num": 0,
         "reposts": [{"date": "2012-05-01 08:02:30", "user_id": "p1", "text": "转"}]},
    ])
    _write(tmp_path / "stream" / "covid_weibo_2020_sample.jsonl.gz", [
        {"date": "2020-02-03", "user_id": "s1", "text": "#示例话题# 第一条"},
        {"date": "2020-02-03", "user_id": "s2", "text": "#示例话题# 第二条"},
        {"date": "2020-02-04", "user_id": None, "text": "#示例话题# 第三条"},
    ])
    _write(tmp_path / "debunks" / "debunk_articles.jsonl.gz", [
        {"platform": "示例辟谣平台", "title": "喝白酒不能防病毒", "url": "https://example.org/d1",
         "date": "2021-01-05", "text": "正文不作为条目文本"},
    ])
    return tmp_path


def replay(bundle, **kw):
    kw.setdefault("start", START)
    kw.setdefault("clock", FAR)
    return ReplaySource(bundle, **kw)


def at(iso):
    return datetime.fromisoformat(iso.replace("Z", "+00:00"))


def test_items_play_at_shifted_present_times_with_original_date(bundle):
    events = list(replay(bundle, datasets=("checked",), speed=60).read(None))
    items = [e.record for e in events if isinstance(e, RawItem)]
    assert [r["id"] for r in items] == ["c1", "c2", "c3"]
    assert items[0]["date"] == "2026-01-01T00:00:00Z"  # the first item plays at the start
    assert items[0]["original_date"] == "2020-03-01T02:00:00Z"  # 10:00 China time
    assert items[1]["date"] == "2026-01-01T00:01:00Z"  # one hour later at 60x = one minute
    assert items[2]["date"] == "2026-01-01T00:24:00Z"


def test_labels_totals_and_reaction_lists_are_not_replayed(bundle):
    [first] = [e for e in replay(bundle, datasets=("checked",)).read(None)
               if isinstance(e, RawItem)][:1]
    assert first.record == {"id": "c1", "user_id": "u1", "text": "网传喝高度白酒可以杀死病毒",
                            "has_pic": False, "platform": "微博", "account": "u1",
                            "dataset": "checked", "date": "2026-01-01T00:00:00Z",
                            "original_date": "2020-03-01T02:00:00Z"}


def test_reactions_follow_their_item_at_their_own_times(bundle):
    events = list(replay(bundle, datasets=("checked",), speed=60).read(None))
    order = [(type(e).__name__, e.record.get("id") or e.record["text"]) for e in events]
    assert order[:5] == [("RawItem", "c1"), ("RawReaction", "时间早于原帖的转发"),
                         ("RawReaction", "真的假的"), ("RawReaction", "转发提醒家人"),
                         ("RawItem", "c2")]
    early, comment, repost = (e.record for e in events[1:4])
    assert early["date"] == "2026-01-01T00:00:00Z"  # dated before its item: plays with the item
    assert early["original_date"] == "2020-02-28T01:00:00Z"
    assert comment == {"item_id": "c1", "platform": "微博", "kind": "comment",
                       "date": "2026-01-01T00:00:05Z", "original_date": "2020-03-01T02:05:00Z",
                       "text": "真的假的", "user_id": "k1"}
    assert repost["kind"] == "repost" and repost["date"] == "2026-01-01T00:00:30Z"
    times = [at(e.record["date"]) for e in events]
    assert times == sorted(times)


def test_every_dataset_starts_at_the_replay_start(bundle):
    events = list(replay(bundle).read(None))
    firsts = {}
    for e in events:
        if isinstance(e, RawItem):
            firsts.setdefault(e.record["dataset"], e.record)
    assert set(firsts) == {"stream", "checked", "ced", "debunks"}
    assert all(at(r["date"]) - START < timedelta(minutes=1) for r in firsts.values())
    debunk = firsts["debunks"]
    assert (debunk["platform"], debunk["url"], debunk["title"], debunk["text"]) == \
        ("示例辟谣平台", "https://example.org/d1", "喝白酒不能防病毒", "喝白酒不能防病毒")
    ced = firsts["ced"]
    assert ced["user"] == {"followers": 10, "verified": False} and "label" not in ced


def test_stream_posts_are_spread_over_their_day(bundle):
    items = [e.record for e in replay(bundle, datasets=("stream",), speed=1).read(None)]
    assert items[0]["id"] == "stream-" + hashlib.sha1("#示例话题# 第一条".encode()).hexdigest()[:16]
    assert items[0]["account"] == "s1" and items[0]["platform"] == "微博"
    originals = [at(r["original_date"]) for r in items]
    china = timezone(timedelta(hours=8))
    assert [o.astimezone(china).day for o in originals] == [3, 3, 4]
    assert originals[0].astimezone(china).hour < 12 <= originals[1].astimezone(china).hour
    assert "account" not in items[2]  # no user id in the source
    # Deterministic: the same seed gives the same times, another seed other times.
    again = [e.record["original_date"] for e in replay(bundle, datasets=("stream",)).read(None)]
    other = [e.record["original_date"] for e in
             replay(bundle, datasets=("stream",), seed=7).read(None)]
    assert again == [r["original_date"] for r in items] and other != again


def test_only_events_due_by_the_clock_are_yielded_then_the_rest(bundle):
    now = [START + timedelta(seconds=10)]
    source = replay(bundle, datasets=("checked",), speed=60, clock=lambda: now[0])
    first = list(source.read(None))
    assert [e.record.get("id") or e.record["text"] for e in first] == \
        ["c1", "时间早于原帖的转发", "真的假的"]
    assert list(source.read(first[-1].position)) == []  # nothing new due yet
    now[0] = START + timedelta(minutes=2)
    second = list(source.read(first[-1].position))
    assert [e.record.get("id") or e.record["text"] for e in second] == ["转发提醒家人", "c2"]


def test_holdout_replays_only_items_after_the_cutoff(bundle):
    cutoff = datetime(2020, 3, 1, 3, 30, tzinfo=UTC)  # 11:30 China time, after c1 and c2
    events = list(replay(bundle, datasets=("checked", "ced"),
                         holdout={"checked": cutoff}).read(None))
    items = [e.record for e in events if isinstance(e, RawItem)]
    assert sorted(r["id"] for r in items) == ["c3", "e1"]
    c3 = next(r for r in items if r["id"] == "c3")
    assert c3["date"] == "2026-01-01T00:00:00Z"  # the first replayed item defines the origin
    reactions = [e.record for e in events if isinstance(e, RawReaction)]
    assert {r["item_id"] for r in reactions} == {"c3", "e1"}


def test_restart_resumes_with_the_same_time_mapping(bundle):
    full = list(replay(bundle).read(None))
    part = list(replay(bundle).read(None))[:4]
    # A restarted worker: a new object with another start; the checkpoint's start wins.
    rest = list(replay(bundle, start=START + timedelta(days=3)).read(part[-1].position))
    assert [e.record for e in part + rest] == [e.record for e in full]
    assert rest[-1].position == full[-1].position


def test_abandoned_read_continues_from_the_committed_checkpoint(bundle):
    source = replay(bundle, datasets=("checked",))
    gen = source.read(None)
    taken = [next(gen) for _ in range(3)]
    gen.close()
    # The worker committed only the first two: the source must not skip the third.
    rest = list(source.read(taken[1].position))
    assert rest[0].record == taken[2].record


def test_checkpoint_from_other_settings_is_refused(bundle):
    events = list(replay(bundle, datasets=("checked",)).read(None))
    with pytest.raises(SourceError, match="other replay settings"):
        list(replay(bundle, datasets=("checked", "ced")).read(events[0].position))
    with pytest.raises(SourceError, match="not a replay position"):
        list(replay(bundle).read("line=3;byte=10"))


def test_limit_caps_items_per_dataset_and_infinite_speed_plays_at_start(bundle):
    events = list(replay(bundle, limit=1, speed=float("inf")).read(None))
    items = [e.record for e in events if isinstance(e, RawItem)]
    assert sorted(r["dataset"] for r in items) == ["ced", "checked", "debunks", "stream"]
    assert {e.record["date"] for e in events} == {"2026-01-01T00:00:00Z"}


def test_bad_arguments_are_clear_errors(bundle, tmp_path):
    with pytest.raises(SourceError, match="unknown replay dataset"):
        ReplaySource(bundle, datasets=("weibo",))
    with pytest.raises(SourceError, match="speed must be a number greater than 0"):
        ReplaySource(bundle, speed=0)
    with pytest.raises(Exception, match="does not exist"):
        ReplaySource(tmp_path / "nowhere")


# -- the real bundle ---------------------------------------------------------------------------

def test_day_dated_samples_play_their_days_back_to_back(bundle):
    # The stream sample holds separate days weeks apart; a live demo must not fall silent between them.
    stream = bundle / "stream" / "covid_weibo_2020_sample.jsonl.gz"
    _write(stream, [{"date": "2020-02-03", "user_id": "s1", "text": "#示例话题# 第一天"},
                    {"date": "2020-02-09", "user_id": "s2", "text": "#示例话题# 六天后"},
                    {"date": "2020-03-18", "user_id": "s3", "text": "#示例话题# 一个多月后"}])
    items = [e.record for e in replay(bundle, datasets=("stream",), speed=1).read(None)]
    china = timezone(timedelta(hours=8))
    assert [at(r["original_date"]).astimezone(china).date().isoformat() for r in items] == \
        ["2020-02-03", "2020-02-09", "2020-03-18"]
    played = [at(r["date"]) for r in items]
    local = [at(r["original_date"]).astimezone(china) for r in items]
    within = [o - o.replace(hour=0, minute=0, second=0) for o in local]  # time of its own day
    # Each plays one day after the previous one (speed 1), at the same time of its own day.
    for k in (1, 2):
        expected = timedelta(days=k) + within[k] - within[0]
        assert abs((played[k] - played[0]) - expected) <= timedelta(seconds=1)  # times are whole seconds


def test_real_bundle_replay_mixes_datasets_without_labels():
    settings = load_settings()
    source = ReplaySource.fast(settings.data_dir, limit=20, start=START)
    events = list(source.read(None))
    items = [e.record for e in events if isinstance(e, RawItem)]
    assert {r["dataset"] for r in items} == {"stream", "checked", "ced", "debunks"}
    assert len(items) == 80
    forbidden = {"label", "analysis", "repost_num", "comment_num", "like_num", "reposts",
                 "comments"}
    assert not any(forbidden & set(r) for r in items)
    first_seen = {}
    for i, e in enumerate(events):
        if isinstance(e, RawItem):
            first_seen[e.record["id"]] = i
        else:
            assert first_seen[e.record["item_id"]] < i  # every reaction after its item
    assert all(at(e.record["date"]) >= START for e in events)


def test_real_bundle_holdout_cutoff_is_respected():
    settings = load_settings()
    cutoff = datetime(2020, 4, 1, tzinfo=UTC)
    source = ReplaySource.fast(settings.data_dir, datasets=("checked",), limit=50,
                               holdout={"checked": cutoff})
    items = [e.record for e in source.read(None) if isinstance(e, RawItem)]
    assert len(items) == 50
    assert all(at(r["original_date"]) > cutoff for r in items)


# -- source_from_spec ----------------------------------------------------------------------------

def test_source_from_spec(tmp_path, bundle):
    settings = load_settings(data_dir=str(bundle), replay_speed=30)
    assert isinstance(source_from_spec(f"file:{tmp_path}/a.jsonl", settings), JsonLinesSource)
    assert isinstance(source_from_spec("feed:https://example.org/rss", settings), FeedSource)
    assert isinstance(source_from_spec(f"drop:{tmp_path}", settings), DropFolderSource)
    default = source_from_spec("replay", settings)
    assert isinstance(default, ReplaySource) and default.speed == 30
    tuned = source_from_spec("replay:speed=120,limit=5,datasets=stream+checked", settings)
    assert (tuned.speed, tuned.limit, tuned.datasets) == (120, 5, ("stream", "checked"))
    with pytest.raises(SourceError, match="unknown source spec 'ftp:x'"):
        source_from_spec("ftp:x", settings)
    with pytest.raises(SourceError, match="unknown replay option 'fast'"):
        source_from_spec("replay:fast=1", settings)
    with pytest.raises(SourceError, match="must be a number"):
        source_from_spec("replay:speed=quick", settings)


def test_source_from_spec_passes_platform_and_model_holdout(tmp_path, bundle):
    settings = load_settings(data_dir=str(bundle))
    path = tmp_path / "a.jsonl"
    path.write_text('{"text": "网传喝醋软化血管"}\n', encoding="utf-8")
    [event] = source_from_spec(f"file:{path}", settings, platform="抖音").read(None)
    assert event.record["platform"] == "抖音"

    class ModelBundle:  # what the worker holds: a manifest with the training cutoffs
        manifest = {"holdout": {"checked": "2020-03-01T03:30:00Z"}}

    source = source_from_spec("replay:datasets=checked", settings, bundle=ModelBundle())
    assert [e.record["id"] for e in source.read(None) if isinstance(e, RawItem)] == ["c3"]


def test_items_a_model_was_trained_on_by_hand_label_are_not_replayed(bundle):
    sha16 = lambda text: hashlib.sha1(text.encode()).hexdigest()[:16]  # noqa: E731
    exclude = {("stream", sha16("#示例话题# 第二条")), ("checked", "c2"),
               ("debunks", sha16("https://example.org/d1"))}
    ids = [e.record["id"] for e in replay(bundle, exclude=exclude).read(None) if isinstance(e, RawItem)]
    assert "c2" not in ids and "c1" in ids and "c3" in ids and "e1" in ids
    assert ("stream-" + sha16("#示例话题# 第二条")) not in ids and ("stream-" + sha16("#示例话题# 第一条")) in ids
    assert not any(i.startswith("debunk-") for i in ids)
    # Another exclusion is another replay: its checkpoints are not mixed up.
    assert replay(bundle, exclude=exclude).cfg != replay(bundle).cfg


def test_a_replay_for_a_bundle_with_a_relevance_model_leaves_out_its_hand_labels(bundle):
    from rumourwatch.sources import HAND_LABEL_FILES, trained_on_by_hand

    settings = load_settings(data_dir=str(bundle))

    class WithRelevance:
        components = {"rumour": object(), "relevance": object()}
        manifest = {}

    class WithoutRelevance:
        components = {"rumour": object(), "relevance": None}
        manifest = {}

    labelled = trained_on_by_hand(WithRelevance())
    rows = sum(path.read_text(encoding="utf-8").count("\n") - 1 for path in HAND_LABEL_FILES)
    assert len(HAND_LABEL_FILES) == 2 and len(labelled) == rows and ("debunks", "e71cf16f8136d878") in labelled
    assert source_from_spec("replay", settings, bundle=WithRelevance()).exclude == labelled
    assert source_from_spec("replay", settings, bundle=WithoutRelevance()).exclude == frozenset()


def test_an_interrupted_copy_of_a_bundle_file_is_a_source_error_the_worker_shows_and_survives(
        bundle, db, rule_bundle, now):
    """A truncated .gz (an interrupted copy) is named with the line it broke after, as a source
    error: the worker records it on the replay's status and goes on polling, instead of dying on
    gzip's EOFError."""
    from rumourwatch import store
    from rumourwatch.worker import Worker

    ced = bundle / "rumour" / "ced_train.jsonl.gz"
    _write(ced, [{"id": f"e{k}", "label": "rumor", "date": f"2012-05-01 08:{k % 60:02d}",
                  "text": f"第{k}条示例传言，内容各不相同：编号{k * 7919}", "reposts": []} for k in range(400)])
    whole = ced.read_bytes()
    ced.write_bytes(whole[: len(whole) * 2 // 3])
    with pytest.raises(SourceError, match=r"ced_train\.jsonl\.gz is truncated or damaged after line \d+"):
        list(replay(bundle, datasets=("ced",), speed=1e9).read(None))

    worker = Worker(db, [replay(bundle, speed=1e9)], rule_bundle, clock=lambda: now)
    stats = worker.poll_once()
    assert any("truncated or damaged" in e for e in stats.errors)
    status = {s["source"]: s for s in store.source_status(db)}
    assert "ced_train.jsonl.gz is truncated or damaged" in status["replay"]["last_error"]
    assert worker.poll_once().errors  # still polling, still saying so
