import json


from rumourwatch import ingest, store
from rumourwatch.sources.base import RawItem, RawReaction, RawReject

POST = "紧急提醒：每天喝三杯淡盐水可以杀死体内的病毒，看到请转发给家人！"


def run(db, events, now, source="test"):
    with store.transaction(db):
        return ingest.ingest_events(db, events, source, now)


def item(**fields):
    base = {"id": "a1", "platform": "微博", "text": POST, "date": "2026-11-23 09:00", "account": "健康小贴士"}
    base.update(fields)
    return RawItem(base)


def test_same_item_twice_is_one_row_and_refetch_updates_engagement(db, now):
    run(db, [item(repost_num=3)], now)
    result = run(db, [item(repost_num=40, reposts=[{"date": "2026-11-23 09:30", "text": "真的吗"}])], now)
    assert store.count_items(db) == 1
    assert (result.new_items, result.updated_items, result.new_reactions) == (0, 1, 1)
    row = store.get_item(db, 1)
    assert row["repost_num"] == 40 and row["reaction_count"] == 1
    # a stale re-fetch never lowers engagement, and the same reaction is not added twice
    run(db, [item(repost_num=5, reposts=[{"date": "2026-11-23 09:30", "text": "真的吗"}])], now)
    row = store.get_item(db, 1)
    assert row["repost_num"] == 40 and row["reaction_count"] == 1


def test_empty_text_is_set_aside_with_its_reason(db, now):
    result = run(db, [item(id="e", text="  \u200b "), item(id="ok")], now)
    assert result.rejects == 1 and result.new_items == 1
    reject = store.list_rejects(db)[0]
    assert "empty text" in reject["reason"]
    assert json.loads(reject["raw"])["id"] == "e"


def test_malformed_records_do_not_stop_the_batch(db, now):
    events = [RawReject("{not json", "line 1: invalid JSON", position="1", origin="feed.jsonl:1"),
              item(id="x", repost_num="many"),
              item(id="y", reposts="oops"),
              item(id="z", date="next tuesday"),
              item(id="good")]
    result = run(db, events, now)
    assert result.new_items == 1 and result.rejects == 4
    reasons = " | ".join(r["reason"] for r in store.list_rejects(db))
    assert "invalid JSON" in reasons and "repost_num must be a whole number" in reasons
    assert "reposts must be a list" in reasons and "unreadable date" in reasons


def test_a_record_set_aside_by_ingest_names_the_file_and_line_it_came_from(db, now, tmp_path):
    """Records a file source reads but ingest refuses (no text, an unreadable date) keep where they
    came from, as lines the reader could not parse do: a monitor finds them in the file."""
    from rumourwatch.sources.files import CsvSource, JsonLinesSource

    posts = tmp_path / "posts.jsonl"
    posts.write_text("\n".join([json.dumps({"id": "ok", "text": POST}, ensure_ascii=False), "{broken",
                                json.dumps({"id": "blank", "text": ""}),
                                json.dumps({"id": "when", "text": POST, "date": "下周"}, ensure_ascii=False)]) + "\n",
                     encoding="utf-8")
    table = tmp_path / "posts.csv"
    table.write_text(f"id,text,date\nc1,{POST},2026-11-23 09:00\nc2,,2026-11-23 09:00\n", encoding="utf-8")
    run(db, list(JsonLinesSource(posts).read(None)), now, source="file:posts.jsonl")
    run(db, list(CsvSource(table).read(None)), now, source="file:posts.csv")
    origins = {(r["reason"].split(":")[0].split(" (")[0], r["origin"]) for r in store.list_rejects(db)}
    assert origins == {("line 2", f"{posts}:2"), ("empty text", f"{posts}:3"),
                       ("unreadable date '下周'", f"{posts}:4"), ("empty text", f"{table}:3")}


def test_one_megabyte_text_is_kept_whole(db, now):
    big = "健康" * 500_000
    run(db, [item(id="big", text=big)], now)
    row = store.get_item(db, 1)
    assert len(row["text"]) == 1_000_000 and row["text_length"] == 1_000_000
    assert "very_long" in row["quality_flags"]


def test_future_date_keeps_the_claim_and_places_item_at_fetch_time(db, now):
    run(db, [item(id="f", date="2031-01-01 00:00")], now)
    row = store.get_item(db, 1)
    assert row["published_at"] == "2026-11-23T08:00:00Z"
    assert row["claimed_published_at"] == "2030-12-31T16:00:00Z"
    assert "future_time" in row["quality_flags"]


def test_missing_elements_are_flagged_for_content_standards(db, now):
    run(db, [RawItem({"text": POST})], now)
    flags = json.loads(store.get_item(db, 1)["quality_flags"])
    assert {"missing_time", "missing_author", "missing_source"} <= set(flags)


def test_invisible_and_bidi_characters_are_removed(db, now):
    run(db, [item(id="h", text="喝\u200b醋\u202e能\u2066软化血管")], now)
    assert store.get_item(db, 1)["text"] == "喝醋能软化血管"


def test_plain_ascii_fields_are_cleaned_by_the_same_rules(db, now):
    # ids, accounts and urls are mostly plain ASCII and take a shortcut: it must not skip a rule
    run(db, [item(id=" id\x00-1 ", account="health  tips\t daily", url="https://example.org/a\x7fb ",
                  author="  Dr  Who ", text="plain  ASCII\tpost\r\n\n\n\nend\x1b")], now)
    row = store.get_item(db, 1)
    assert (row["external_id"], row["account"], row["url"], row["author"]) == (
        "id-1", "health tips daily", "https://example.org/ab", "Dr Who")
    assert row["text"] == "plain ASCII post\n\nend"


def test_copies_of_one_rumour_form_one_cluster(db, now):
    copies = [item(id=f"c{i}", account=f"acct{i}", text=f"@朋友{i} {POST} http://t.cn/x{i}") for i in range(5)]
    other = item(id="o", text="今天社区组织老年人免费体检，测量血压和血糖，大家积极参加。")
    run(db, copies + [other], now)
    clusters = {r[0]: r[1] for r in db.execute("SELECT cluster_id, count(*) FROM items GROUP BY cluster_id")}
    assert sorted(clusters.values()) == [1, 5]
    assert db.execute("SELECT item_count FROM clusters ORDER BY item_count DESC").fetchone()[0] == 5


def test_copies_join_one_cluster_within_a_batch_across_batches_and_one_at_a_time(db, now):
    """A batch is clustered in memory and written at its end: copies in one batch join each other,
    a copy in a later batch joins the stored cluster, and an item ingested on its own (uploads,
    tests) is clustered the same way; the cluster keeps its first item, size and latest time."""
    copy = "@朋友{} " + POST + " http://t.cn/x{}"
    run(db, [item(id=f"c{i}", text=copy.format(i, i), date=f"2026-11-23 09:0{i}") for i in range(3)]
         + [item(id="o", text="今天社区组织老年人免费体检，测量血压和血糖，大家积极参加。")], now)
    run(db, [item(id="c3", text=copy.format(3, 3), date="2026-11-23 09:30"),
             item(id="c4", text=copy.format(4, 4), date="2026-11-23 08:00")], now)  # an older copy, late
    with store.transaction(db):
        ingest.ingest_item(db, {"id": "c5", "platform": "微博", "text": copy.format(5, 5),
                                "date": "2026-11-23 09:45"}, "upload", now)
    clusters = db.execute("SELECT id, representative_item_id, item_count, last_item_at FROM clusters "
                          "ORDER BY id").fetchall()
    assert len(clusters) == 2
    first = store.find_item(db, "微博", "c0")["id"]
    assert tuple(clusters[0]) == (clusters[0][0], first, 6, "2026-11-23T01:45:00Z")
    members = dict(db.execute("SELECT external_id, cluster_id FROM items").fetchall())
    assert {members[f"c{i}"] for i in range(6)} == {clusters[0][0]} and members["o"] == clusters[1][0]
    # every cluster is findable by its bands for the next batch
    assert db.execute("SELECT count(DISTINCT cluster_id) FROM cluster_bands").fetchone()[0] == 2


def test_one_body_posted_under_different_trending_topics_is_one_cluster(db, now):
    """Hashtag hijacking: bots paste one text under whichever #topics# trend. A long body is one
    cluster whatever its tags; a short one keeps its tags apart, as they may carry the claim."""
    body = "那纯洁的白云是我们欢乐的过去，那湖水的丰盈是我们蓄满的真情，那空气中激荡着笑声。"
    hijacked = [item(id=f"h{i}", account=f"bot{i}", text=f"#{tag}#{body}")
                for i, tag in enumerate(["上海7个月婴儿被感染", "目前已初步筛选出三种治疗药物", "湖北确诊病例破万"])]
    short = [item(id="s1", text="#喝醋能杀死新冠病毒# 转发，大家注意"),
             item(id="s2", text="#钟南山团队发布最新研究# 转发，大家注意")]
    run(db, hijacked + short, now)
    cluster_of = dict(db.execute("SELECT external_id, cluster_id FROM items").fetchall())
    assert cluster_of["h0"] == cluster_of["h1"] == cluster_of["h2"]
    assert cluster_of["s1"] != cluster_of["s2"]


def test_a_copy_under_an_emoticon_a_mention_or_a_repost_chain_is_one_cluster(db, now):
    """Weibo copies open with an emoticon code and the account they took the story from
    ("[怒]@某账号 【…】") or carry a repost chain ("//@某人:"): the user saw each raise its own alert.
    They are one cluster; another story behind the same marks is not."""
    story = "记者调查黑心作坊后遇害，身中多刀，请大家转发纪念他！"
    other = "某地自来水检出病毒，千万别喝生水，请大家转发提醒！"
    copies = [item(id="c0", text=story),
              item(id="c1", account="b", text=f"[怒]@奇闻异事888 【{story}】"),
              item(id="c2", account="c", text=f"[泪][泪]{story}"),
              item(id="c3", account="d", text=f"//@健康小管家:{story}"),
              item(id="o", account="e", text=f"[怒]@奇闻异事888 【{other}】")]
    run(db, copies, now)
    cluster_of = dict(db.execute("SELECT external_id, cluster_id FROM items").fetchall())
    assert cluster_of["c0"] == cluster_of["c1"] == cluster_of["c2"] == cluster_of["c3"]
    assert cluster_of["o"] != cluster_of["c0"]


def test_late_reaction_attaches_to_its_item_or_is_set_aside(db, now):
    run(db, [item()], now)
    result = run(db, [RawReaction({"item_id": "a1", "platform": "微博", "kind": "comment",
                                   "date": "2026-11-23 10:00", "text": "这是谣言"}),
                      RawReaction({"item_id": "missing", "platform": "微博", "kind": "repost",
                                   "date": "2026-11-23 10:00", "text": "转发"})], now)
    assert result.new_reactions == 1 and result.rejects == 1 and result.touched == {1}
    assert "unknown item" in store.list_rejects(db)[0]["reason"]


def test_stored_times_read_as_beijing_time_wherever_they_are_shown():
    from datetime import datetime

    from rumourwatch.records import beijing

    assert beijing("2026-11-23T17:40:00Z") == "2026-11-24 01:40"  # past midnight in Beijing: the next day
    assert beijing(datetime(2026, 11, 23, 17, 40), "%m-%d %H:%M") == "11-24 01:40"  # no zone: UTC, as stored
    assert beijing(None) is None and beijing("") is None
    assert beijing("下周一") == "下周一"  # not a time: shown as it is rather than failing the page
