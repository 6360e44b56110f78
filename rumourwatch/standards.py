"""Basic elements of health science content (seed 000 §(二)1; DOMAIN.md 8): a clear source, author,
publish time and applicable population (适用人群). Ingest flags a missing source, author or time
(quality flags); whether a health item says whom its advice is for is read here from its words, for
the item view: advice without a population ("每天喝三杯…") is a signal worth showing, and a claim
addressed to everyone is a common mark of health rumours.
"""

from __future__ import annotations

import re

# Words that name whom health advice is for, or for whom it is not: the groups of the 15 Healthy
# China actions (老年, 妇幼, 中小学, 职业, chronic patients) and the wording of indications.
POPULATION_WORDS = (
    "老年人", "中老年", "老人", "儿童", "小孩", "孩子", "婴幼儿", "婴儿", "幼儿", "新生儿", "宝宝", "青少年",
    "中小学生", "学生", "孕妇", "孕期", "备孕", "产妇", "哺乳期", "妇女", "女性", "男性", "成年人", "成人",
    "患者", "病人", "人群", "慢性病", "过敏体质", "职工", "劳动者", "适用于", "不适合", "不宜", "禁用",
    "慎用", "遵医嘱",
)
_AGES = re.compile(r"\d{1,3}\s*(?:岁|周岁)(?:以上|以下|及以上|以内)")
_WORDS = re.compile("|".join(sorted(map(re.escape, POPULATION_WORDS), key=len, reverse=True)))


def population_terms(text: str | None, limit: int = 5) -> list[str]:
    """The words of `text` that say whom it is for (at most `limit`, each once, in order)."""
    found: list[str] = []
    for match in re.finditer(f"{_AGES.pattern}|{_WORDS.pattern}", text or ""):
        term = match.group(0)
        if term not in found:
            found.append(term)
            if len(found) == limit:
                break
    return found
