"""The Healthy China topic taxonomy (健康中国行动, 15 actions) and keyword rules for each topic.

The 15 actions are the categories the plans use to route items to expert specialties and for
reports (seed 003). `其他` is the topic of an item that is not about health.

The keyword rules are deliberately short, hand-written stems: they are a weak signal and a
baseline, and features of the learned model (`rumourwatch.nlp.relevance`), not the model itself.
"""

from __future__ import annotations

import re

TOPICS = (
    "健康知识普及", "合理膳食", "全民健身", "控烟", "心理健康促进", "健康环境促进", "妇幼健康促进",
    "中小学健康促进", "职业健康保护", "老年健康促进", "心脑血管疾病防治", "癌症防治",
    "慢性呼吸系统疾病防治", "糖尿病防治", "传染病及地方病防控",
)
OTHER_TOPIC = "其他"
ALL_TOPICS = TOPICS + (OTHER_TOPIC,)
# The catch-all health topic: health items that fit no specific action.
GENERAL_TOPIC = "健康知识普及"

# Topic -> keywords. Order matters only for ties in `rule_topic` (earlier, more specific first).
TOPIC_KEYWORDS: dict[str, tuple[str, ...]] = {
    "控烟": ("吸烟", "抽烟", "烟草", "戒烟", "二手烟", "电子烟", "香烟", "控烟", "尼古丁", "烟民"),
    "癌症防治": ("癌", "肿瘤", "白血病", "淋巴瘤", "化疗", "放疗", "防癌", "抗癌", "致癌"),
    "糖尿病防治": ("糖尿病", "血糖", "胰岛素", "降糖"),
    "心脑血管疾病防治": ("高血压", "血压", "心脏病", "心梗", "脑梗", "中风", "卒中", "冠心病", "猝死",
                   "心血管", "脑血管", "血脂", "胆固醇", "动脉硬化", "心肌", "心脏骤停"),
    "慢性呼吸系统疾病防治": ("哮喘", "慢阻肺", "慢性阻塞", "支气管炎", "肺气肿", "肺功能"),
    "心理健康促进": ("抑郁", "焦虑", "心理", "精神疾病", "失眠", "自杀", "恐惧症", "强迫症", "精神科",
                "情绪"),
    "妇幼健康促进": ("孕妇", "孕期", "怀孕", "产妇", "婴儿", "婴幼儿", "新生儿", "宝宝", "母乳", "哺乳",
                "备孕", "妇科", "宫颈", "乳腺", "月经", "分娩", "胎儿"),
    "中小学健康促进": ("中小学", "小学生", "中学生", "学生", "近视", "校园", "儿童青少年", "青少年",
                 "课间", "书包"),
    "职业健康保护": ("职业病", "尘肺", "工伤", "劳动者", "职业健康", "职业暴露", "噪声聋"),
    "老年健康促进": ("老年人", "老人", "老年", "养老", "阿尔茨海默", "老年痴呆", "骨质疏松", "长者"),
    "全民健身": ("健身", "运动", "锻炼", "跑步", "散步", "体育", "瑜伽", "马拉松", "步行", "广场舞"),
    "健康环境促进": ("污染", "辐射", "雾霾", "PM2.5", "甲醛", "核污", "水质", "自来水", "环境卫生",
                "空气质量", "重金属", "噪音", "垃圾分类"),
    "合理膳食": ("食品", "食物", "饮食", "营养", "膳食", "添加剂", "农药", "残留", "保质期", "饮料",
              "牛奶", "蔬菜", "水果", "肉类", "猪肉", "鸡蛋", "米饭", "零食", "饮用水", "减盐", "减糖", "减油",
              "维生素", "蛋白质", "食用", "食品安全", "转基因", "地沟油", "保健品", "致癌物"),
    "传染病及地方病防控": ("疫情", "肺炎", "新冠", "冠状病毒", "病毒", "感染", "传染", "确诊", "疑似",
                   "隔离", "口罩", "核酸", "疫苗", "流感", "禽流感", "H7N9", "防疫", "抗疫", "战疫",
                   "方舱", "火神山", "雷神山", "无症状", "密切接触", "潜伏期", "病例", "封城", "消毒",
                   "钟南山", "李兰娟", "援鄂", "医疗队", "疫区", "SARS", "非典", "艾滋", "结核",
                   "狂犬", "手足口", "登革热", "诺如", "鼠疫", "霍乱", "疟疾", "乙肝", "肝炎",
                   "碘缺乏", "地方病", "野味", "野生动物", "输入病例", "境外输入", "武汉加油"),
    "健康知识普及": ("健康", "医生", "医院", "医疗", "药", "治疗", "疾病", "患者", "病人", "症状",
                "医学", "科普", "养生", "中医", "手术", "体检", "急救", "医保", "护士", "诊断",
                "过敏", "皮肤", "眼睛", "牙", "睡眠", "伤口", "烫伤", "中毒", "发烧", "发热",
                "咳嗽", "退烧"),
}

_HASHTAG = re.compile(r"#[^#\n]{1,80}#")


def split_hashtags(text: str) -> tuple[str, str]:
    """(body, hashtags): Weibo `#topic#` tags apart from the body.

    Hashtag hijacking — a trending health hashtag on an unrelated body — is common in the feed,
    so the model looks at the body and the tags separately.
    """
    text = text or ""
    tags = " ".join(m.group(0) for m in _HASHTAG.finditer(text))
    body = _HASHTAG.sub(" ", text)
    return body, tags


def _compile(words) -> re.Pattern:
    """One alternation of the (lower-case) keywords, longest first. Texts are lower-cased before
    matching instead of compiling with IGNORECASE, which stops the engine from skipping positions
    by the keywords' first characters (6× slower)."""
    ordered = sorted({w.lower() for w in words}, key=len, reverse=True)
    return re.compile("|".join(re.escape(w) for w in ordered))


class TopicRules:
    """Keyword hit counts per topic, vectorised by regex; picklable (patterns rebuilt on load)."""

    def __init__(self, keywords: dict[str, tuple[str, ...]] | None = None):
        self.keywords = {t: tuple(ws) for t, ws in (keywords or TOPIC_KEYWORDS).items()}
        unknown = set(self.keywords) - set(TOPICS)
        if unknown:
            raise ValueError(f"keyword rules name unknown topics: {sorted(unknown)}")
        self.topics = tuple(t for t in TOPICS if t in self.keywords)
        self._patterns = None

    def _pats(self):
        # One alternation over all keywords (longest first), then keyword -> topic indexes:
        # one pass of the regex engine per text instead of one per topic.
        if self._patterns is None:
            owner: dict[str, list[int]] = {}
            for i, t in enumerate(self.topics):
                for w in self.keywords[t]:
                    owner.setdefault(w.lower(), []).append(i)
            self._patterns = (_compile(owner), owner)
        return self._patterns

    def counts(self, text: str) -> list[int]:
        """Keyword hits per topic (in `self.topics` order)."""
        pattern, owner = self._pats()
        out = [0] * len(self.topics)
        for hit in pattern.findall((text or "").lower()):
            for i in owner[hit]:
                out[i] += 1
        return out

    def __getstate__(self):
        return {"keywords": self.keywords}

    def __setstate__(self, state):
        self.__init__(state["keywords"])


def rule_topic(counts: list[int], topics=TOPICS) -> str | None:
    """The rule topic for keyword counts: the most-hit specific topic, else the general one,
    else None (no health keyword at all)."""
    best, best_n = None, 0
    for topic, n in zip(topics, counts):
        if topic == GENERAL_TOPIC:
            continue
        if n > best_n:
            best, best_n = topic, n
    if best is not None:
        return best
    general = dict(zip(topics, counts)).get(GENERAL_TOPIC, 0)
    return GENERAL_TOPIC if general else None
