"""Fictional media items for the crash-safety and hostile-content tests (written for the tests)."""

from __future__ import annotations

import json
import random
from datetime import datetime, timedelta, timezone
from pathlib import Path

CLAIMS = ["喝淡盐水能治高血压", "隔夜西瓜会致癌", "每天吃三个鸡蛋可以防止脱发", "手机放枕边会导致脑瘤",
          "蒸桑拿可以排出体内毒素", "吃醋可以软化血管", "新型疫苗会改变基因", "空腹喝牛奶伤胃",
          "熬夜后多喝咖啡就能补回来", "某市自来水检出病毒"]
TAILS = ["专家提醒", "转发给家人", "真的吗？", "今天社区讲座提到", "朋友圈都在传", "官方尚未回应"]
REACTIONS = ["假的吧", "这是谣言", "已转发", "谢谢提醒", "有依据吗", "我家也这样", "求证中"]


def write_feed(path: Path, n_items: int, seed: int = 7, bad_every: int = 97) -> dict:
    """A JSON Lines file of `n_items` fictional posts with inline reposts/comments, plus a malformed
    line every `bad_every` lines (so rejects are exercised too). Returns counts."""
    rng = random.Random(seed)
    start = datetime(2026, 10, 1, tzinfo=timezone.utc)
    n_reactions = n_bad = 0
    with open(path, "w", encoding="utf-8") as fh:
        for i in range(n_items):
            if bad_every and i % bad_every == bad_every - 1:
                fh.write('{"id": "broken-%d", "text": "没有结尾的记录\n' % i)
                n_bad += 1
            at = start + timedelta(minutes=7 * i)
            claim = rng.choice(CLAIMS)
            text = f"{claim}，{rng.choice(TAILS)}。第{i}号帖子，编号{rng.randrange(10**9)}。"
            reactions = {}
            for kind in ("reposts", "comments"):
                reactions[kind] = [
                    {"date": (at + timedelta(minutes=rng.randrange(1, 600))).isoformat(),
                     "text": rng.choice(REACTIONS) + f"#{j}", "user_id": f"u{rng.randrange(5000)}"}
                    for j in range(rng.randrange(0, 5))]
                n_reactions += len(reactions[kind])
            record = {"id": f"post-{i}", "platform": rng.choice(["微博", "微信", "抖音"]), "text": text,
                      "date": at.isoformat(), "author": f"账号{rng.randrange(300)}", **reactions}
            fh.write(json.dumps(record, ensure_ascii=False) + "\n")
    return {"items": n_items, "reactions": n_reactions, "bad": n_bad}


def snapshot(db) -> dict:
    """Everything a user would see of the ingest, independent of row ids and fetch times."""
    items = db.execute("""SELECT platform, external_id, text, published_at, reaction_count FROM items
                          ORDER BY platform, external_id""").fetchall()
    reactions = db.execute("""SELECT i.external_id, r.kind, r.at, r.text, r.user_id FROM reactions r
                              JOIN items i ON i.id = r.item_id
                              ORDER BY i.external_id, r.kind, r.at, r.text, r.user_id""").fetchall()
    rejects = db.execute("SELECT reason, position, raw FROM rejects ORDER BY position").fetchall()
    checkpoints = db.execute("SELECT source, position FROM checkpoints ORDER BY source").fetchall()
    return {"items": [tuple(r) for r in items], "reactions": [tuple(r) for r in reactions],
            "rejects": [tuple(r) for r in rejects], "checkpoints": [tuple(r) for r in checkpoints]}
