"""The applicable population of health advice (seed 000 §(二)1), read from its words."""

import pytest

from rumourwatch.standards import population_terms


@pytest.mark.parametrize("text,terms", [
    ("市卫健委提醒：秋冬季请及时接种流感疫苗，老年人和儿童可优先预约。", ["老年人", "儿童"]),
    ("65岁以上老人和孕妇慎用，具体请遵医嘱。", ["65岁以上", "老人", "孕妇", "慎用", "遵医嘱"]),
    ("糖尿病患者不宜空腹运动", ["患者", "不宜"]),
    ("每天空腹喝三杯白醋可以软化血管，一个月治好高血压！", []),  # for everyone: names no one
    ("", []), (None, []),
])
def test_the_words_that_say_whom_advice_is_for(text, terms):
    assert population_terms(text) == terms


def test_each_word_is_named_once_and_at_most_five():
    assert population_terms("老人老人老人，儿童、孕妇、学生、患者、女性") == ["老人", "儿童", "孕妇", "学生", "患者"]
