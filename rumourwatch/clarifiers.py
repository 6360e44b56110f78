"""Publishers of clarifications: the debunk platforms and accounts whose posts refute rumours. Their
titles state the claim they answer ("喝白酒能防新冠？假的"), so the rumour model scores them like the
rumour itself. An item they publish is flagged at ingest (quality flag `clarification`), kept,
scored and searchable, and left out of the 最可能的谣言 list and of rumour alerts, like an
advertisement.

A publisher is recognised by the item's platform or its account, exactly: the eleven of the data
bundle's twelve debunk-article publishers that publish nothing but clarifications, and two shorter
names of them (a general news outlet with a fact-check column, such as 澎湃新闻, is not one: most of
its posts are news).
"""

from __future__ import annotations

CLARIFICATION_FLAG = "clarification"  # the items.quality_flags entry

PUBLISHERS = frozenset({
    "微博辟谣", "联动要闻_中国互联网联合辟谣平台", "中国互联网联合辟谣平台", "百度辟谣",
    "科信食品与健康信息交流中心", "新浪-捉谣记", "果壳网-谣言粉碎机", "中国食品辟谣网_新华网",
    "公众号-科学辟谣", "科学辟谣", "人民网“求真”栏目", "公众号-辟谣助手", "公众号-谣言过滤器",
})


def is_clarifier(platform: str | None, account: str | None) -> bool:
    """Whether an item's platform or account is a publisher of clarifications."""
    return (platform or "").strip() in PUBLISHERS or (account or "").strip() in PUBLISHERS
