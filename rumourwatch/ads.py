"""Advertising and lead-generation posts: shopping links with coupons, flat rentals, "加微信" sales,
lists of phone numbers for sale. Real feeds carry them under trending topics (hashtag hijacking);
they are not claims a health commission answers, yet their exclamation-heavy style scores high
on the rumour model. They are flagged at ingest (quality flag `suspected_ad`), kept and searchable,
and left out of the 最可能的谣言 list and of rumour alerts.

Rules, not a model: each pattern is a marker of selling that public-health posts and rumours do
not use. One strong marker (a coupon price, a shop's "find what you like" link, a taobao token, a
list of phone numbers that is most of the post) is enough; a price, a contact handle or a rental
phrase alone is not, since a help-seeking rumour may give a phone number and a news post may quote
a price. Two weak markers count when one of them is a price or selling words. The hand check of
the rules is in data/labels/AD_CHECK.md.
"""

from __future__ import annotations

import re

AD_FLAG = "suspected_ad"  # the items.quality_flags entry

_STRONG = {
    "coupon": re.compile(r"券后|需用券|用券|领券|优惠券|叠加优惠|满\d+(?:\.\d+)?元?减\d"),
    "shop_link": re.compile(r"自助查找心仪商品|淘口令|复制这条信息|京东自助查|[￥¥][A-Za-z0-9]{8,}[￥¥]"),
}
_MOBILE = re.compile(r"(?<!\d)1[3-9]\d[-\s]?\d{4}[-\s]?\d{4}(?!\d)")
# A seller's list often glues each number to the price before it ("…-18000172-72211111-15500172-…"):
# a number written 1xx-xxxxxxxx counts even right after a digit.
_MOBILE_GLUED = re.compile(r"1[3-9]\d-\d{4}-?\d{4}(?!\d)")
# Numbers for sale: this many mobile numbers, and digits most of the post. A rumour may list phone
# numbers in its prose ("报料：各位后宫电话：…"): that is a claim to check, not an ad.
PHONE_LIST, PHONE_LIST_DIGIT_SHARE = 4, 0.5
_COMMERCE = ("price", "selling")
_STRONG_MARKERS = (*_STRONG, "phone_list")
_WEAK = {
    "price": re.compile(r"【[￥¥]?\d+(?:\.\d+)?元?】|[￥¥]\s?\d+(?:\.\d+)?"),
    # not 批发 / 代购 / 现货 alone, nor 咨询电话: news and health bulletins use them ("朱雀批发市场",
    # "口罩被代购买光", "碑林区咨询电话")
    "selling": re.compile(r"包邮|下单|拍\d+发\d+|秒杀|抢购|旗舰店|天猫|原价|到手价|招代理|团购价|好物推荐|种草"),
    "contact": re.compile(r"(?:加|\+|➕)\s*(?:微信|v信|vx|wx|薇信|威信|qq|扣扣)|微信号?[:：]\s*\w|私聊我", re.IGNORECASE),
    "rental": re.compile(r"拎包入住|免中介费|押一付一|整租|合租|单人间推荐|月租\d"),
}
# The UI names of the markers (the item page says why a post was taken for an ad).
AD_MARKERS_ZH = {"coupon": "优惠券/券后价", "shop_link": "购物链接或口令", "phone_list": "成串手机号",
                 "price": "标价", "selling": "促销用语", "contact": "加微信/私聊等引流",
                 "rental": "租房广告用语"}


_MOBILE_PREFILTER = re.compile(r"1[3-9]\d[-\s]?\d{4}[-\s]?\d{4}")  # a literal first character: fast


def _phone_list(text: str) -> bool:
    if not _MOBILE_PREFILTER.search(text):  # nearly every post: not one mobile number
        return False
    digits = sum(map(text.count, "0123456789"))
    if digits < PHONE_LIST * 11 or digits < PHONE_LIST_DIGIT_SHARE * len(text.replace(" ", "")):
        return False
    return len(_MOBILE.findall(text)) >= PHONE_LIST or len(_MOBILE_GLUED.findall(text)) >= PHONE_LIST


def ad_markers(text: str) -> list[str]:
    """The selling markers found in `text`, strong ones first (names as in AD_MARKERS_ZH)."""
    text = text or ""
    found = [name for name, pattern in _STRONG.items() if pattern.search(text)]
    if _phone_list(text):
        found.append("phone_list")
    return found + [name for name, pattern in _WEAK.items() if pattern.search(text)]


# Every strong marker and every price or selling phrase contains one of these literals: a post with
# none of them (three posts in four) is decided by one literal search and the phone-list test,
# without running every pattern (ingest is on the hot path: ~3 µs a post instead of ~9).
_TRIGGERS = re.compile("|".join(map(re.escape, (
    "券", "叠加优惠", "减", "自助查找心仪商品", "淘口令", "复制这条信息", "京东自助查", "￥", "¥", "【", "包邮", "下单",
    "拍", "秒杀", "抢购", "旗舰店", "天猫", "原价", "到手价", "招代理", "团购价", "好物推荐", "种草"))))


def is_ad(text: str) -> bool:
    """A post that sells: one strong marker, or two different weak ones of which one is a price or
    selling words (a contact handle beside a flat-share phrase may be a pet adoption)."""
    text = text or ""
    if not _TRIGGERS.search(text):  # no strong marker and no price or selling words can match
        return _phone_list(text)
    markers = ad_markers(text)
    return (any(m in _STRONG_MARKERS for m in markers)
            or (len(markers) >= 2 and any(m in _COMMERCE for m in markers)))
