"""Fictional labelled items for rumour-model tests (written for the tests, not from the bundle).

Rumours use alarmist wording and draw doubting reactions over time; real items read like notices
and draw thanks. Noise (shared words, bare reposts, some mislabel-like overlap) keeps it learnable
but not trivial.
"""

from __future__ import annotations

import random
from datetime import datetime, timedelta, timezone

from rumourwatch.records import Doc, Reaction

FOODS = ["大蒜", "生姜", "白醋", "绿豆汤", "板蓝根", "香蕉", "隔夜茶", "蜂蜜水", "柠檬片", "红糖"]
ILLS = ["流感", "高血压", "糖尿病", "胃病", "失眠", "过敏", "肺炎", "结石"]
CITIES = ["青川市", "南屿县", "东陵区", "白河镇", "西坪市", "北港县"]
RUMOUR_TEXTS = [
    "网传{f}能彻底治好{i}，医院都不告诉你，赶紧转发给家人！",
    "紧急扩散！吃{f}会引发{i}，已经有很多人中招了，千万别再吃",
    "震惊：每天喝{f}七天根治{i}，看到的都转给父母",
    "内部消息：{c}出现大量{i}病例，{f}已经被抢光了，速囤",
]
REAL_TEXTS = [
    "{c}卫生健康委员会通知：{i}门诊本周六照常开放，请市民预约后前往",
    "专家提醒：{i}患者饮食要均衡，{f}不能代替药物，请遵医嘱",
    "{c}疾控中心发布{i}防控指南，建议勤洗手、常通风、规律作息",
    "{c}人民医院开展{i}义诊活动，时间为下周三上午",
]
DOUBT = ["这是谣言吧", "假的，早就辟谣了", "真的吗？求证一下", "别信，造谣", "又是这种谣言"]
THANKS = ["收到，谢谢提醒", "支持，辛苦了", "已预约", "好的，转给家里人看看"]
NEUTRAL = ["转发微博", "", "mark"]

T0 = datetime(2024, 3, 1, 8, 0, tzinfo=timezone.utc)


def make_items(n: int, seed: int = 0, start: datetime = T0) -> list[tuple[Doc, int]]:
    """n (doc, label) pairs, one every 3 hours from `start`, about 40% rumours."""
    rnd = random.Random(seed)
    out = []
    for k in range(n):
        label = 1 if rnd.random() < 0.4 else 0
        tmpl = rnd.choice(RUMOUR_TEXTS if label else REAL_TEXTS)
        # a fifth of the items borrow the other class's wording: text alone is not enough
        if rnd.random() < 0.2:
            tmpl = rnd.choice(REAL_TEXTS if label else RUMOUR_TEXTS)
        text = tmpl.format(f=rnd.choice(FOODS), i=rnd.choice(ILLS), c=rnd.choice(CITIES))
        published = start + timedelta(hours=3 * k)
        reactions = []
        for j in range(rnd.randint(0, 12)):
            delay = timedelta(minutes=rnd.randint(1, 48 * 60))
            pool = (DOUBT if label else THANKS) if rnd.random() < 0.6 else NEUTRAL
            reactions.append(Reaction(rnd.choice(["repost", "comment"]), rnd.choice(pool),
                                      published + delay, f"u{rnd.randint(1, 500)}"))
        reactions.sort(key=lambda r: r.at)
        out.append((Doc(text=text, published_at=published, reactions=reactions), label))
    return out


# Ordinary personal posts of a feed: exclaiming and sharing like the rumours above, claiming nothing
PERSONAL_TEXTS = [
    "震惊：我家猫每天偷喝{f}，已经胖了三斤，看到的都转给父母笑一笑！",
    "千万别学我，昨晚吃了三碗{f}，撑了一夜！已经有很多人笑我了，赶紧转发",
    "紧急扩散！{c}那家{f}奶茶店终于开门了，好开心，千万别再错过",
    "内部消息：明天{c}放晴！{f}已经晒上了，速来",
]
# fillers that no labelled item and no `make_personal_posts(other=False)` post uses
OTHER_FOODS = ["火锅", "烤红薯", "糖葫芦", "煎饼", "小龙虾"]
OTHER_CITIES = ["临江市", "石桥镇", "望海区"]


def make_personal_posts(n: int, seed: int = 0, other: bool = False) -> list[Doc]:
    """n undated, unlabelled personal posts (a feed's background); `other`: with other fillers,
    so that none is a copy of a post made without it."""
    rnd = random.Random(seed)
    foods, cities = (OTHER_FOODS, OTHER_CITIES) if other else (FOODS, CITIES)
    return [Doc(text=rnd.choice(PERSONAL_TEXTS).format(f=rnd.choice(foods), c=rnd.choice(cities))
                + "~" * rnd.randint(0, 3))
            for _ in range(n)]
