"""MinHash signatures: computed for a whole batch at once, equal to one text at a time, and stable
across versions, since the store keeps signatures and compares new items with them. Clusters: a
story retold in other words joins one cluster, different posts sharing a tag or a sentence do not."""

import functools
import random

import numpy as np
import pytest

from rumourwatch import cluster

POST = "紧急提醒：每天喝三杯淡盐水可以杀死体内的病毒，看到请转发给家人！"


def signature(text: str):
    return cluster.minhash([cluster.compared_text(text)])[0]


def one_at_a_time(text: str):
    """The signature as the store's first version computed it: one text, np.unique over its shingles."""
    t = cluster.compared_text(text)
    if len(t) < 3:
        return None
    c = np.frombuffer(t.encode("utf-32-le", "surrogatepass"), dtype=np.uint32).astype(np.uint64)
    packed = np.unique((c[:-2] << np.uint64(42)) | (c[1:-1] << np.uint64(21)) | c[2:])
    if len(packed) < 4:
        return None
    with np.errstate(over="ignore"):
        return (((packed[:, None] * cluster._A + cluster._B) >> np.uint64(32)).min(axis=0)).astype(np.uint32)


def test_a_stored_signature_stays_comparable():
    # Recorded from the version that filled existing databases: a change of hash family or shingling
    # would silently stop new copies from joining stored clusters.
    assert signature(POST)[:8].tolist() == [278250687, 93820636, 261872760, 37704734,
                                                     75855415, 1705966, 74205527, 16722657]


def test_a_batch_gives_each_text_its_own_signature():
    rng = random.Random(7)
    texts = [POST, "", "ab", "abcde", "abcdef", "哈哈哈哈哈哈哈哈", "abcabcabcabc", "ab哈哈ab哈哈ab", "x" * 5000,
             "半个表情\ud83d在这里", "😀😀😀😀😁😀", f"#某话题#{POST}", POST * 80]
    texts += ["".join(rng.choice("ab哈#@ 。😀") for _ in range(rng.randint(0, 40))) for _ in range(400)]
    batch = cluster.minhash([cluster.compared_text(t) for t in texts])
    for text, got in zip(texts, batch):
        want = one_at_a_time(text)
        assert (got is None) == (want is None), text
        if want is not None:
            assert np.array_equal(got, want), text
            assert np.array_equal(signature(text), want)
    # fewer than 4 distinct shingles cannot be compared, however long the text
    assert signature("哈哈哈哈哈哈哈哈") is None and signature("abcabcabcabc") is None
    assert signature("ab哈哈ab哈哈ab") is not None


def test_chunks_give_the_same_signatures_as_one_pass(monkeypatch):
    texts = [cluster.cluster_text(f"{POST}{i}" * (1 + i % 7)) for i in range(300)]
    whole = cluster.minhash(texts)
    monkeypatch.setattr(cluster, "CHUNK_SHINGLES", 500)
    chunked = cluster.minhash(texts)
    assert all(np.array_equal(a, b) for a, b in zip(whole, chunked))


# --- retold copies (containment) -------------------------------------------------------------
# One invented story retold three ways: the same three sentences, each telling with an opening and
# a closing of its own and a few words changed (estimated Jaccard 0.47–0.69 between them: under the
# 0.8 that joins copies).
STORY = ("每天早上空腹喝一杯温热的柠檬蜂蜜水，连续喝七天，血管里的斑块就会全部溶解掉，比吃降脂药还管用。"
         "很多心内科医生自己家里都这么喝，只是不愿意告诉病人，因为病人都不来医院了。"
         "柠檬一定要选黄皮的，切片以后用六十度左右的水泡，水太烫会把里面的有效成分破坏掉。")
RETOLD = ["【紧急扩散】" + STORY + "家里有老人的赶紧转给他们！",
          "家族群里都在传这个：" + STORY.replace("全部溶解掉", "化得干干净净").replace("很多", "不少")
          + "我先转了，宁可信其有。",
          "今天听邻居说，" + STORY.replace("六十度左右", "不太烫") + "我爸已经开始喝了，过两周复查看看。"]
# Different posts: two under one #topic#; two short ones whose shared tags are most of their text;
# two that end with the same boilerplate sentence (36 shingles in common, half of each).
CLOSING = "以上内容仅供参考，身体如有不适请及时到正规医院就诊，觉得有用就转发给需要的朋友吧。"
OTHERS = ["#夏季养生小知识# 天气炎热，出门记得带好遮阳伞和饮用水，中午最热的时候尽量不要在户外长时间活动，以免中暑。",
          "#夏季养生小知识# 西瓜虽然解暑，但是从冰箱里刚拿出来的西瓜不要一次吃太多，肠胃不好的人容易拉肚子。",
          "#示例市疾控中心提醒广大市民不要采食野生菌# #野生菌中毒事件持续发酵多人送医# 真的假的？谁来给辟个谣吧",
          "#示例市疾控中心提醒广大市民不要采食野生菌# #野生菌中毒事件持续发酵多人送医# 吓死人了，以后还敢吃蘑菇吗",
          "秋冬季节是流感高发期，专家建议老人和儿童尽早接种流感疫苗，出门佩戴口罩，勤洗手多通风。" + CLOSING,
          "长时间看手机容易导致眼睛干涩，每隔四十分钟最好起身远眺一会儿，也可以做做眼保健操。" + CLOSING]


def _ingest(db, texts, now, one_batch: bool) -> list[int | None]:
    """The texts through the worker's ingest (one batch, or each in a batch of its own as posts
    arriving over several polls); their cluster ids."""
    from rumourwatch import ingest, store
    from rumourwatch.sources.base import RawItem

    first = db.execute("SELECT coalesce(max(id), 0) FROM items").fetchone()[0]
    batches = [texts] if one_batch else [[t] for t in texts]
    for n, batch in enumerate(batches):
        with store.transaction(db):
            ingest.ingest_events(db, [RawItem({"id": f"p{first}-{n}-{i}", "text": t, "date": "2026-11-23 14:00"})
                                      for i, t in enumerate(batch)], "test", now)
    return [r[0] for r in db.execute("SELECT cluster_id FROM items WHERE id > ? ORDER BY id", [first])]


def test_the_retold_copies_are_far_apart_by_jaccard():
    sigs = [signature(t) for t in RETOLD]
    assert max(cluster.similarity(a, b) for i, a in enumerate(sigs) for b in sigs[i + 1:]) < 0.8


@pytest.mark.parametrize("one_batch", [True, False])
def test_a_story_retold_three_ways_is_one_cluster_and_different_posts_stay_apart(db, now, one_batch):
    clusters = _ingest(db, RETOLD + OTHERS, now, one_batch)
    assert None not in clusters
    assert len(set(clusters[:3])) == 1  # one story, one cluster
    assert len(set(clusters[3:])) == len(OTHERS) and clusters[0] not in clusters[3:]
    assert db.execute("SELECT item_count FROM clusters WHERE id = ?", [clusters[0]]).fetchone()[0] == 3


# The story retold with seven words changed, and a copy of that retelling with two more changed: a
# copy of the retelling (Jaccard 0.86), but holding less of the first telling (0.66) than joins.
RETELLING = "朋友圈看到的：" + functools.reduce(lambda t, ab: t.replace(*ab), [
    ("空腹", "起床后"), ("七天", "一周"), ("斑块", "垃圾"), ("降脂药", "什么药"), ("心内科", "大医院"), ("不愿意", "不肯"),
    ("黄皮", "新鲜")], STORY) + "大家自己判断吧。"
ITS_COPY = RETELLING.replace("血管里", "血管中").replace("六十度左右", "不太烫")


@pytest.mark.parametrize("one_batch", [True, False])
def test_copies_of_a_retelling_join_its_cluster(db, now, one_batch):
    clusters = _ingest(db, [STORY, RETELLING, ITS_COPY], now, one_batch)
    assert clusters[0] is not None and clusters == clusters[:1] * 3


def test_a_digest_does_not_gather_the_stories_it_holds(db, now):
    """A long post of the day's news, then posts of two of its stories: each story is a cluster of
    its own, not a copy of the digest (nor of each other)."""
    stories = ["示例市今天起在全市范围内开展为期一个月的病媒生物防制行动，重点清理积水容器，减少蚊虫孳生地。",
               "示例省卫生健康委员会发布通知，今年秋季起全省中小学生免费接种流感疫苗，家长可到社区医院预约。",
               "示例县人民医院新建的儿科住院楼下周一正式投入使用，新增病床一百二十张，缓解冬季就诊压力。",
               "示例市气象台提醒，本周末将有大风降温天气，最低气温可能降到零下五度，请市民注意防寒保暖。"]
    digest = "【早安·今日要闻】" + "".join(f"{n}. {s}" for n, s in enumerate(stories, 1))
    clusters = _ingest(db, [digest, "转发：" + stories[0], "关注一下：" + stories[1] + "希望早点落实。"], now,
                       one_batch=False)
    assert len(set(clusters)) == 3


def test_a_store_from_before_containment_gets_its_bands_and_keeps_its_clusters(db_path, now):
    """Upgrading a store whose clusters were made before containment (banded by four signature
    values only): the migration gives them the bands of pairs that the clustering now writes, no
    item changes cluster, and copies of a story told before the upgrade join that story's cluster."""
    from rumourwatch import store

    db = store.open_db(db_path)
    texts = [RETOLD[0], OTHERS[0], OTHERS[2]]
    before = _ingest(db, texts, now, one_batch=False)
    sigs = [cluster.minhash([cluster.compared_text(t)])[0] for t in texts]
    with store.transaction(db):  # the store as it was before the upgrade
        db.execute("DELETE FROM cluster_bands")
        db.conn.executemany("INSERT INTO cluster_bands (band, cluster_id) VALUES (?, ?)",
                            [(key, cid) for cid, sig in zip(before, sigs) for key in cluster.bands(sig)])
        db.execute("DROP TABLE cluster_retellings")
        db.execute("DELETE FROM _migrations WHERE name = '0013_retold_copies'")

    assert store.apply_migrations(store.open_db(db_path, migrate=False)) == ["0013_retold_copies"]
    for cid, sig in zip(before, sigs):
        stored = {r[0] for r in db.execute("SELECT band FROM cluster_bands WHERE cluster_id = ?", [cid])}
        assert stored == set(cluster.bands(sig)) | set(cluster.bands(sig, body=True))
    assert [r[0] for r in db.execute("SELECT cluster_id FROM items ORDER BY id")] == before
    assert _ingest(db, RETOLD[1:], now, one_batch=False) == before[:1] * 2


def test_a_clusters_items_are_listed_earliest_first_as_feed_rows(db, now):
    from rumourwatch import ingest, store
    from rumourwatch.sources.base import RawItem

    dated = [(RETOLD[2], "14:30"), (RETOLD[0], "14:00"), (RETOLD[1], "14:10")]
    with store.transaction(db):
        ingest.ingest_events(db, [RawItem({"id": f"r{i}", "text": t, "date": f"2026-11-23 {hm}"})
                                  for i, (t, hm) in enumerate(dated)], "test", now)
    [cid] = {r[0] for r in db.execute("SELECT cluster_id FROM items")}
    rows = store.cluster_items(db, cid)
    assert [r["text"] for r in rows] == [RETOLD[0][:300], RETOLD[1][:300], RETOLD[2][:300]]
    assert {"polarity", "health_related", "already_debunked", "rumour_probability"} <= set(rows[0])
    first = rows[0]["id"]
    assert [r["id"] for r in store.cluster_items(db, cid, limit=1, exclude_item=first)] == [rows[1]["id"]]
    assert store.cluster_size(db, cid) == 3
