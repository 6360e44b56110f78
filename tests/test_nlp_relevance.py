"""Health relevance / topic model and the hand-label file it is trained and evaluated on."""

import csv
import pickle

import pytest

from rumourwatch.config import load_settings
from rumourwatch.errors import RecordError
from rumourwatch.nlp.topics import ALL_TOPICS, OTHER_TOPIC, TOPICS, split_hashtags
from rumourwatch.records import Doc
from training import train_relevance as tr

RANDOM_HOLD_OUT_DIGEST = "3d68250b043a"


@pytest.fixture(scope="module")
def labels():
    return tr.load_hand_labels()


def test_labels_file_is_valid(labels):
    with open(tr.LABELS_FILE, encoding="utf-8", newline="") as fh:
        assert tuple(csv.DictReader(fh).fieldnames) == tr.LABEL_COLUMNS
    assert len(labels) >= 600
    assert len({(l.source, l.item_id) for l in labels}) == len(labels)
    for l in labels:
        assert l.topic in ALL_TOPICS
        assert l.health_related == (l.topic != OTHER_TOPIC)
    # both answers occur in quantity, and more than the epidemic topic is represented
    assert sum(l.health_related for l in labels) > 200
    assert sum(not l.health_related for l in labels) > 200
    assert len({l.topic for l in labels if l.health_related}) >= 5


def test_every_label_resolves_to_a_bundle_record():
    labels = tr.all_hand_labels()
    texts = tr.resolve_texts(load_settings(), labels)
    assert len(texts) == len(labels) and all(t.strip() for t in texts)


@pytest.fixture(scope="module")
def targeted():
    return tr.load_hand_labels(tr.TARGETED_LABELS_FILE)


@pytest.mark.slow
def test_rounds_3_and_4_are_the_documented_keyword_draw(targeted):
    drawn = tr.targeted_sample(load_settings())
    assert [(l.source, l.item_id) for l in targeted] == [(s, i) for _, s, i, _ in drawn]
    # nothing of the random rounds is drawn again
    assert not {(s, i) for _, s, i, _ in drawn} & {(l.source, l.item_id) for l in tr.load_hand_labels()}


def test_rounds_3_and_4_give_the_thin_topics_examples(targeted):
    """The random rounds found 0-9 items for most Healthy China actions (none for three of them);
    rounds 3 and 4 are there so that each has labelled examples, beside keyword matches that are
    not about health."""
    from collections import Counter

    counts = Counter(l.topic for l in targeted)
    assert all(counts[topic] >= 1 for topic in tr.TARGETED_TOPICS), counts
    assert sum(counts[topic] for topic in tr.TARGETED_TOPICS) >= 80, counts
    assert counts[OTHER_TOPIC] >= 30


def test_a_label_in_two_files_is_an_error_naming_both(tmp_path):
    header = ",".join(tr.LABEL_COLUMNS) + "\n"
    first, second = tmp_path / "a.csv", tmp_path / "b.csv"
    first.write_text(header + "stream,abc,yes,控烟,me,\n", encoding="utf-8")
    second.write_text(header + "stream,abc,no,其他,you,\n", encoding="utf-8")
    with pytest.raises(RecordError, match=r"b.csv: stream item abc is also labelled in .*a.csv"):
        tr.hand_label_parts((first, second))


def test_adding_rounds_3_and_4_leaves_the_random_rounds_hold_out_as_it_was(labels):
    (train, hold), (t_train, t_hold) = tr.hand_label_parts()
    assert (train, hold) == tr.split_hand_labels(labels)
    assert tr.training_part() == train + t_train and t_hold


@pytest.mark.slow
def test_keyword_drawn_labels_teach_topics_but_not_how_often_items_are_health(labels, targeted):
    """Rounds 3-4 were drawn by topic keywords, a third of them keyword matches that are not about
    health: learnt by the health classifier they taught that keywords mean little (a short smoking
    post was no longer health after eight store labels). So they teach the topic only."""
    settings = load_settings()
    docs = [Doc("哮喘患者换季要注意，规范使用吸入剂"), Doc("电子烟比香烟更健康？专家：电子烟同样危害健康"),
            Doc("#某某新歌#哥哥今天的舞台太帅了")]
    without = tr.fit(settings, hand=labels).predict_docs(docs)
    with_them = tr.fit(settings, hand=labels + targeted).predict_docs(docs)
    # (the shared TF-IDF weights are fitted on every hand-labelled text and its short view, so they
    # move a hair: up to 0.006; learnt by the health classifier, the labels move them by up to 0.25)
    assert [r["health_probability"] for r in with_them] == pytest.approx(
        [r["health_probability"] for r in without], abs=0.01)
    # ... while the topic classifier learns from them
    assert [r["topic_probability"] for r in with_them[:2]] != [r["topic_probability"] for r in without[:2]]


def test_double_readings_agree_with_the_labels_learnt(targeted):
    """Where two annotators agreed, the label is theirs; where they did not, it was adjudicated."""
    final = {(l.source, l.item_id): l for l in targeted}
    rows = tr.load_double_readings()
    assert len(rows) >= 60
    for r in rows:
        lab = final[(r["source"], r["item_id"])]
        readings = {(r["first_health_related"], r["first_topic"]), (r["second_health_related"], r["second_topic"])}
        if len(readings) == 1:
            assert (("yes" if lab.health_related else "no"), lab.topic) in readings
        else:
            assert lab.labelled_by.startswith("M2"), (r, lab)
    assert tr.annotator_agreement()["items"] == len(rows)


def _double_readings(tmp_path, rows: list[str]):
    labels = tmp_path / "labels.csv"
    labels.write_text(",".join(tr.LABEL_COLUMNS) + "\n" + "".join(
        f"stream,{i},no,其他,me,\n" for i in "abcd"), encoding="utf-8")
    double = tmp_path / "double.csv"
    double.write_text(",".join(tr.DOUBLE_READING_COLUMNS) + "\n" + "".join(r + "\n" for r in rows),
                      encoding="utf-8")
    return double, labels


def test_agreement_figures_are_those_of_the_readings(tmp_path):
    double, labels = _double_readings(tmp_path, [
        "stream,a,H1,yes,控烟,H2,yes,控烟", "stream,b,H1,yes,控烟,H2,no,其他",
        "stream,c,H1,no,其他,H2,no,其他", "stream,d,H1,yes,癌症防治,H2,yes,控烟"])
    # health: 3 of 4 agree; kappa = (0.75 - 0.5) / (1 - 0.5); topic: 2 of 4
    assert tr.annotator_agreement(double, labels) == {
        "items": 4, "health_agreement": 0.75, "health_kappa": 0.5, "topic_agreement": 0.5}


@pytest.mark.parametrize("rows,problem", [
    (["stream,a,H1,yes,控烟,H1,yes,控烟"], "double.csv:2: both readings are by H1"),
    (["stream,a,,yes,控烟,H2,yes,控烟"], "double.csv:2: first_by .* is empty"),
    (["stream,a,H1,yes,控烟,H2,yes,控烟", "stream,a,H1,yes,控烟,H3,yes,控烟"], "double.csv:3: .* read twice"),
    (["stream,zz,H1,yes,控烟,H2,yes,控烟"], "double.csv:2: stream item 'zz' is not labelled in"),
    (["stream,a,H1,yes,其他,H2,yes,控烟"], "double.csv:2: first reading yes/其他 is not a valid label"),
    ([], "no double readings"),
])
def test_a_bad_double_reading_is_an_error_naming_its_line(tmp_path, rows, problem):
    double, labels = _double_readings(tmp_path, rows)
    with pytest.raises(RecordError, match=problem):
        tr.annotator_agreement(double, labels)


def test_the_random_hold_out_is_the_one_every_earlier_figure_was_measured_on(labels):
    """Its 261 items (seed 7, 30% per source x label) are what the card has compared since
    2026-11; a change of seed, fraction or stratification would make the figures incomparable."""
    import hashlib

    _, hold = tr.split_hand_labels(labels)
    digest = hashlib.sha1("\n".join(sorted(f"{l.source}:{l.item_id}" for l in hold)).encode()).hexdigest()
    assert (len(hold), digest[:12]) == (261, RANDOM_HOLD_OUT_DIGEST)


@pytest.mark.parametrize("info,refused", [
    ({"hand_labels_by_file": {"health_topic.csv": 609, "health_topic_targeted.csv": 351}}, False),
    # all random-round labels: 261 of the hold-out in-sample, though fewer than the 960 of both parts
    ({"hand_labels_by_file": {"health_topic.csv": 870, "health_topic_targeted.csv": 0}}, True),
    ({"hand_labels_by_file": {"health_topic.csv": 609, "health_topic_targeted.csv": 501}}, True),
    ({"n_hand_labels": 870}, True),  # a model from before the per-file count
    ({"n_hand_labels": 609}, False),
])
def test_evaluation_refuses_a_model_that_learnt_hold_out_labels_of_either_file(info, refused):
    class Model:
        pass

    model = Model()
    model.info = info
    sizes = {"health_topic.csv": 609, "health_topic_targeted.csv": 351}
    if refused:
        with pytest.raises(ValueError, match="in-sample"):
            tr._refuse_in_sample(model, sizes)
    else:
        tr._refuse_in_sample(model, sizes)


def test_keyword_drawn_hold_out_figures_leave_out_near_copies_of_training_items(monkeypatch):
    """Per-topic counts are the model's calls against the gold labels, and a hold-out item that is
    a copy of a training text is not counted (it would be scored in-sample)."""
    copy = "交通新规：开车时吸烟记二分，驾驶时拨打手机记三分，此外副驾驶不系安全带也要记分罚款"
    texts = {"h1": "吸烟有害健康，戒烟越早越好，二手烟对家人孩子伤害更大，请远离香烟",
             "h2": "孩子近视越来越早了，每天户外活动两小时，读写姿势一定要正确才好", "h3": copy}
    hold = [tr.HandLabel("stream", "h1", True, "控烟", "t", ""),
            tr.HandLabel("stream", "h2", True, "中小学健康促进", "t", ""),
            tr.HandLabel("stream", "h3", False, OTHER_TOPIC, "t", "")]
    monkeypatch.setattr(tr, "resolve_texts", lambda settings, part: [texts[l.item_id] for l in part])

    class Model:
        def predict_texts(self, batch):
            assert copy not in batch
            return [{"health_related": True, "topic": "控烟"} for _ in batch]

    out = tr._targeted_figures(None, Model(), hold, lambda batch: [(0, OTHER_TOPIC)] * len(batch), [copy])
    assert out["near_copies_of_training_left_out"] == 1 and out["model"]["n"] == 2
    assert out["per_topic"]["控烟"] == {"gold": 1, "predicted": 2, "right": 1, "baseline_right": 0}
    assert out["per_topic"]["中小学健康促进"] == {"gold": 1, "predicted": 0, "right": 0, "baseline_right": 0}


def test_short_views_keep_their_items_label():
    """A debunk article's title stands for it under either label; any sentence of a post that is not
    about health is not about health either; a health post's first sentence may not be, so it has
    no view; a view too short to state anything is none."""
    article = "喝醋能软化血管？别信了\n近日网传每天喝醋可以软化血管，专家表示醋进入胃里就被中和。"
    assert tr.headline("debunk", article, True) == "喝醋能软化血管？别信了"
    assert tr.headline("debunk", "辟谣\n正文很长很长的一段文字", False) is None
    post = "#周末去哪儿#今天天气很好。去公园散步了，还拍了很多照片"
    assert tr.headline("stream", post, False) == "今天天气很好"
    assert tr.headline("stream", post, True) is None
    assert tr.headline("ced", "一句话而已没有句号的微博正文", False) is None  # no shorter sentence
    assert tr.headline("ced", "这一句很长很长很长很长很长很长。短", False) is None  # nearly the whole post
    # a repost chain quotes someone else: the view is the reposter's own first sentence, if any
    assert tr.headline("stream", "周末过得很愉快；明天见啦朋友们//@某人:这个医院的医生太好了", False) == "周末过得很愉快"
    assert tr.headline("stream", "//@某人:哈哈哈哈哈哈。真好笑啊", False) is None


def test_each_view_is_learnt_with_its_items_label_and_mask(monkeypatch, targeted):
    """The training rows are the items, then their views, each carrying its item's health label and
    topic; the view of a keyword-drawn item stays out of the health classifier like its item."""
    drawn = next(l for l in targeted if l.source == "debunk")
    hand = [tr.HandLabel("debunk", "a1", True, "合理膳食", "t", ""),
            tr.HandLabel("stream", "s1", False, OTHER_TOPIC, "t", ""),
            tr.HandLabel("stream", "s2", True, "传染病及地方病防控", "t", ""),
            drawn]
    texts = {"a1": "隔夜菜会致癌？不必恐慌\n正文……", "s1": "今天的晚霞真好看。明天去海边走走，顺便吃海鲜",
             "s2": "#疫情#大家出门都要戴口罩。勤洗手，少聚集，不信谣", drawn.item_id: "某个标题说的是一件事情\n正文……"}
    monkeypatch.setattr(tr, "resolve_texts", lambda settings, part: [texts[l.item_id] for l in part])
    monkeypatch.setattr(tr, "weak_examples", lambda settings, features, exclude: [
        tr.WeakExample("ced", "一条与健康无关的微博正文内容", 0, None)])
    monkeypatch.setattr(tr, "medical_terms", lambda settings: [])
    d = tr._prepare(None, hand=hand)
    # a1's title, s1's first sentence and the drawn item's title; s2 (health) has no view
    assert d["origin"].tolist() == [0, 1, 2, 3, 0, 1, 3]
    assert d["y_hand"].tolist() == [1, 0, 1, int(drawn.health_related), 1, 0, int(drawn.health_related)]
    assert d["t_hand"][4] == "合理膳食" and d["t_hand"][5] is None
    assert d["health_rows"].tolist() == [True, True, True, False, True, True, False]
    assert d["n_headlines"] == 3


def test_headline_figures_score_titles_alone_and_leave_out_near_copies(monkeypatch):
    """The hold-out debunk articles are scored by their title alone, with their article's label; a
    title that is a near-copy of a training text or title (the same rumour debunked elsewhere) is
    left out; items of other sources are not titles."""
    seen_title = "网传吃隔夜菜会致癌，专家：只要冷藏得当不必担心"
    hold = [tr.HandLabel("debunk", "d1", True, "合理膳食", "t", ""),
            tr.HandLabel("debunk", "d2", False, OTHER_TOPIC, "t", ""),
            tr.HandLabel("debunk", "d3", True, "合理膳食", "t", ""),
            tr.HandLabel("stream", "s1", False, OTHER_TOPIC, "t", "")]
    texts = ["孕妇不能吃螃蟹？会导致流产的说法没有依据\n正文……", "某地高铁站发生爆炸？警方：谣言\n正文……",
             seen_title + "\n正文……", "今天的晚霞真好看。明天去海边走走，顺便吃海鲜"]
    scored, baseline_read = [], []

    class Model:
        def predict_texts(self, batch):
            scored.extend(batch)
            return [{"health_related": True, "topic": "合理膳食"} for _ in batch]

    def baseline(batch):
        baseline_read.extend(batch)
        return [(0, OTHER_TOPIC)] * len(batch)

    out = tr._headline_figures(Model(), hold, texts, baseline, [seen_title + "\n另一家平台的正文，与这里的不同"])
    assert scored == baseline_read == ["孕妇不能吃螃蟹？会导致流产的说法没有依据", "某地高铁站发生爆炸？警方：谣言"]
    assert out["n_debunk_titles"] == 3 and out["near_copies_of_training_left_out"] == 1
    assert out["model"]["n"] == 2 and out["model"]["health_accuracy"] == 0.5
    assert out["baseline"]["health_recall"] == 0.0


def test_an_invalid_label_row_is_rejected_with_its_line(tmp_path):
    path = tmp_path / "labels.csv"
    path.write_text("source,item_id,health_related,topic,labelled_by,note\n"
                    "stream,abc,yes,其他,me,\n", encoding="utf-8")
    with pytest.raises(RecordError, match=r"labels.csv:2: topic must be 其他 exactly when"):
        tr.load_hand_labels(path)
    path.write_text("source,item_id,health_related,topic,labelled_by,note\n"
                    "weibo,abc,yes,控烟,me,\n", encoding="utf-8")
    with pytest.raises(RecordError, match=r"labels.csv:2: source 'weibo'"):
        tr.load_hand_labels(path)


def test_holdout_split_is_disjoint_deterministic_and_about_30_percent(labels):
    train, hold = tr.split_hand_labels(labels)
    assert {(l.source, l.item_id) for l in train}.isdisjoint(
        {(l.source, l.item_id) for l in hold})
    assert len(train) + len(hold) == len(labels)
    assert 0.25 < len(hold) / len(labels) < 0.35
    assert tr.split_hand_labels(labels)[1] == hold


def test_hashtags_are_split_from_the_body():
    body, tags = split_hashtags("#某明星新歌#太好听了 #疫情通报#")
    assert "太好听了" in body and "#" not in body
    assert tags == "#某明星新歌# #疫情通报#"


@pytest.fixture(scope="module")
def model():
    return tr.fit(load_settings())


@pytest.mark.slow
@pytest.mark.parametrize("text,topics", [
    ("高血压患者冬季要注意保暖，按时服药，定期监测血压。", {"心脑血管疾病防治", "健康知识普及"}),
    ("新冠疫苗接种点今天开放，请大家戴好口罩排队，保持一米距离。", {"传染病及地方病防控"}),
    ("隔夜菜到底能不能吃？营养专家告诉你亚硝酸盐的真相", {"合理膳食"}),
])
def test_health_texts_are_health_related_with_a_sensible_topic(model, text, topics):
    (r,) = model.predict_docs([Doc(text)])
    assert r["health_related"] is True and r["health_probability"] >= 0.5, r
    assert r["topic"] in topics, r
    assert 0 < r["topic_probability"] <= 1


@pytest.mark.slow
@pytest.mark.parametrize("text", [
    "#某某新歌#哥哥今天的舞台太帅了！快来打榜，爱你一万年",
    "转发抽奖送新款手机，关注我再领现金红包，名额有限先到先得",
])
def test_celebrity_and_spam_texts_are_not_health(model, text):
    (r,) = model.predict_docs([Doc(text)])
    assert r["health_related"] is False, r
    assert r["topic"] == OTHER_TOPIC


@pytest.mark.slow
@pytest.mark.parametrize("text,topics", [
    ("吃隔夜菜会致癌，千万别再吃了", {"合理膳食", "癌症防治"}),
    ("孕妇不能吃螃蟹，会导致流产", {"合理膳食", "妇幼健康促进"}),
    ("手机辐射会导致脑瘤", {"健康环境促进", "癌症防治", "健康知识普及"}),
    # its topic comes out 合理膳食, not 控烟: a known weakness (models/cards/relevance.md)
    ("每天吸烟一包，肺癌风险大增，戒烟越早越好", None),
])
def test_a_short_health_claim_is_health_related(model, text, topics):
    """Items often arrive as a headline or one sentence. Before the models learnt from debunk titles
    alone, these (written for this test, like a headline of a common rumour) read as not health,
    and so fell out of the 仅健康相关 filter and the health-only alert rules."""
    (r,) = model.predict_docs([Doc(text)])
    assert r["health_related"] is True, r
    assert topics is None or r["topic"] in topics, r


@pytest.mark.slow
@pytest.mark.parametrize("text", ["这家火锅店真好吃", "今天天气很好，去公园散步了", "周末和朋友去看了一场足球比赛"])
def test_a_short_everyday_sentence_is_not_health_related(model, text):
    """Learning from short health titles must not make every short text health: short sentences of
    posts that are not about health are learnt as not health."""
    (r,) = model.predict_docs([Doc(text)])
    assert r["health_related"] is False, r


# "Food X causes or cures Y" (the label protocol: health, 合理膳食), one sentence each, written for
# this test; and everyday sentences, most of them food talk that is neither safety nor nutrition
# (protocol: not health). The second 20 of each were written before any recipe was tried on them;
# the recipe was then chosen on all of them (models/cards/relevance.md).
FOOD_CLAIMS = [
    "吃菠菜能补铁治贫血", "海带吃多了会甲状腺癌", "喝柠檬水可以美白抗癌", "红糖水能补血调经", "吃芒果会过敏起疹子",
    "生姜泡脚能祛湿排毒", "隔夜茶喝了会致癌", "吃鱼头能让孩子变聪明", "喝骨头汤可以补钙", "木耳可以清理血管",
    "吃花生能养胃", "茄子能降血脂", "豆浆喝多了会导致乳腺增生", "吃辣椒会长痔疮", "冬瓜汤能减肥消肿", "吃核桃补脑",
    "泡面要72小时才能消化", "喝咖啡会导致骨质疏松", "芹菜能降血压", "吃猕猴桃可以防止便秘",
    "吃香菜能排出体内重金属", "喝醋泡黑豆能治白发", "多吃胡萝卜对眼睛好", "吃黑芝麻能让白头发变黑",
    "喝啤酒可以排肾结石", "菠萝要泡盐水才不会中毒", "吃葡萄不吐皮可以抗衰老", "柿子和螃蟹一起吃会死人",
    "喝绿茶能燃烧脂肪", "吃海鲜喝啤酒会得痛风", "红枣补气血女生要天天吃", "吃鸡爪会得禽流感", "生吃茄子能降血压",
    "酸奶可以治腹泻", "土豆发芽了削掉就能吃", "吃韭菜能壮阳", "吃冰棍会导致宫寒", "荔枝吃多了会低血糖",
    "喝淡盐水能清洗肠胃", "油条里的明矾会导致老年痴呆"]
FOOD_TALK = [
    "这家火锅店真好吃", "今天吃了西瓜好开心", "苹果发布了新款手机", "周末去超市买了香蕉和牛奶", "晚上和朋友去吃烧烤",
    "妈妈做的红烧肉最好吃了", "奶茶店又出新品了", "楼下新开了一家面包店", "中秋节吃月饼看月亮", "外卖小哥送餐迟到了",
    "今年的葡萄价格涨了不少", "学做蛋糕失败了", "咖啡店的装修很有格调", "春节回家吃年夜饭", "这部电影的结局太意外了",
    "明天要加班好累", "小区停车位又不够用了", "双十一买的衣服到了", "早上地铁太挤了", "周杰伦的新歌好听",
    "新开的奶茶店排队两小时", "今天煮了一锅土豆炖牛肉", "在菜市场买了两斤葡萄", "螃蟹季又到了约起来",
    "自己做的酸奶成功了", "公司楼下的咖啡打折", "这家店的油条特别脆", "周末带孩子去摘草莓", "西瓜十块钱三斤",
    "过年包饺子放了韭菜", "朋友圈都在晒月饼", "吃货的快乐你不懂", "新疆的哈密瓜真甜", "今晚吃火锅还是烤肉",
    "我家猫喜欢吃鸡胸肉", "荔枝节活动开始报名了", "啤酒节门票售罄", "明天去吃海鲜自助", "绿茶口味的冰淇淋好吃",
    "外婆腌的咸菜最下饭"]


@pytest.mark.slow
def test_a_food_claim_in_one_sentence_is_health_and_food_talk_is_not(model):
    """The classic health rumour is one sentence about a food ("吃韭菜能壮阳"). Learning from 1,500
    debunk articles and their titles, the model read 25 of these 40 as not health, so they fell out
    of the 仅健康相关 filter and the health-only alert rules, and 2 of the 40 everyday sentences read
    as health; learning from 5,000, 8 claims missed and 3 everyday sentences called health."""
    claims = model.predict_docs([Doc(t) for t in FOOD_CLAIMS])
    missed = [(t, round(r["health_probability"], 2)) for t, r in zip(FOOD_CLAIMS, claims) if not r["health_related"]]
    assert len(missed) <= 10, missed
    talk = model.predict_docs([Doc(t) for t in FOOD_TALK])
    flagged = [(t, round(r["health_probability"], 2)) for t, r in zip(FOOD_TALK, talk) if r["health_related"]]
    assert len(flagged) <= 5, flagged


@pytest.mark.slow
def test_model_scores_from_its_pickle_alone(model):
    docs = [Doc("医生提醒：发烧咳嗽请及时就医"), Doc("今天的晚霞真好看")]
    again = pickle.loads(pickle.dumps(model))
    assert again.predict_docs(docs) == model.predict_docs(docs)
    assert all(r["topic"] in TOPICS + (OTHER_TOPIC,) for r in again.predict_docs(docs))


@pytest.mark.slow
def test_production_model_learns_from_every_hand_label(model):
    """The hold-out part of the hand labels serves evaluation (a model fitted on the training part);
    the model people use learns from all of them."""
    labels = tr.load_hand_labels()
    _, hold = tr.split_hand_labels(labels)
    targeted = tr.load_hand_labels(tr.TARGETED_LABELS_FILE)
    assert hold and model.info["n_train"] == len(labels) + len(targeted) == len(tr.all_hand_labels())
    assert model.info["trained_on"][:2] == [
        f"data/labels/health_topic.csv ({len(labels)} of {len(labels)} labels)",
        f"data/labels/health_topic_targeted.csv ({len(targeted)} of {len(targeted)} labels)"]
    # so it cannot be what the hold-out figures are measured on
    with pytest.raises(ValueError, match="in-sample"):
        tr.evaluate(load_settings(), model=model)


def test_crossfit_labels_each_held_out_item_once_with_a_model_that_never_saw_it(labels, monkeypatch):
    train, hold = tr.split_hand_labels(labels)
    seen_by_fit = []

    class Recorder:
        def __init__(self, hand):
            self.ids = {f"{l.source}:{l.item_id}" for l in hand}
            seen_by_fit.append(self.ids)

        def predict_texts(self, texts):
            assert not self.ids & set(texts), "a held-out label was among the model's training labels"
            return [{"health_related": True, "topic": "健康知识普及"} for _ in texts]

    monkeypatch.setattr(tr, "fit", lambda settings, hand=None: Recorder(hand))
    monkeypatch.setattr(tr, "resolve_texts", lambda settings, part: [f"{l.source}:{l.item_id}" for l in part])
    gold = ([int(l.health_related) for l in hold], [l.topic for l in hold])  # a perfect labelling, hold order
    out = tr.crossfit(None, train, hold, against=gold)
    assert out["n"] == len(hold) and len(seen_by_fit) == 2
    # the paired gain is read item by item against the same items' labels: all below a perfect one
    gains = out["interval_against_training_part"]
    assert gains["health"]["accuracy_gain_over_baseline"][1] < 0
    share = sum(l.health_related for l in hold) / len(hold)
    lo, hi = gains["health"]["accuracy_gain_over_baseline"]
    assert lo <= share - 1 <= hi
    train_ids = {f"{l.source}:{l.item_id}" for l in train}
    halves = [ids - train_ids for ids in seen_by_fit]  # each model: the training part + one half
    assert all(train_ids < ids for ids in seen_by_fit)
    assert not halves[0] & halves[1] and len(halves[0]) + len(halves[1]) == len(hold)
    assert all(abs(len(h) - len(hold) / 2) <= 8 for h in halves)  # rounded per source × label
    assert out["health_recall"] == 1.0  # everything called health
    assert out["health_precision"] == round(sum(l.health_related for l in hold) / len(hold), 4)


def test_fitting_on_the_used_columns_only_gives_the_same_classifier_over_every_column():
    """The topic head is fitted on the vocabulary columns its rows use and spread back: the model
    scores full-width rows as the plain fit does, with no weight on a column it never saw."""
    import numpy as np
    from scipy import sparse

    rng = np.random.default_rng(0)
    X = sparse.random(300, 40, density=0.2, format="lil", random_state=1)
    X[:, [3, 17, 29]] = 0  # columns no training row has (other rows' vocabulary)
    X = X.tocsr()
    y = rng.choice(["饮食", "控烟", "心理"], size=300)
    w = rng.uniform(0.5, 1.5, size=300)
    plain = tr._lr(class_weight=None).fit(X, y, sample_weight=w)
    used = tr._fit_used_columns(tr._lr(class_weight=None), X, y, w)
    assert used.coef_.shape == plain.coef_.shape and not used.coef_[:, [3, 17, 29]].any()
    probe = sparse.random(50, 40, density=0.3, format="csr", random_state=2)  # the unseen columns too
    assert used.predict_proba(probe) == pytest.approx(plain.predict_proba(probe), abs=1e-3)
    assert list(used.predict(probe)) == list(plain.predict(probe))


def test_a_source_file_is_read_again_once_it_changes(tmp_path):
    """Fits in one process share one reading of a bundle file, but not an outdated one."""
    import gzip
    import json
    import os

    path = tmp_path / tr.SOURCE_FILES["ced"]
    path.parent.mkdir(parents=True)

    def write(text):
        with gzip.open(path, "wt", encoding="utf-8") as fh:
            fh.write(json.dumps({"id": "c1", "text": text, "date": "2020-02-01 08:00"}, ensure_ascii=False) + "\n")

    settings = load_settings(data_dir=str(tmp_path))
    write("网传喝板蓝根能预防新冠")
    assert tr.source_index(settings, "ced")["c1"] == "网传喝板蓝根能预防新冠"
    assert tr.source_index(settings, "ced") is tr.source_index(settings, "ced")  # read once
    write("网传吃大蒜能杀死新冠病毒，转给家人")
    os.utime(path, ns=(path.stat().st_atime_ns, path.stat().st_mtime_ns + 1_000_000))
    assert tr.source_index(settings, "ced")["c1"] == "网传吃大蒜能杀死新冠病毒，转给家人"
    with pytest.raises(TypeError):
        tr.source_index(settings, "ced")["c2"] = "a caller cannot change what the next fit reads"
