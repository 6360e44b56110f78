"""The "already debunked" knowledge base. Fixture articles and posts are fictional, written here."""

from __future__ import annotations

import csv
import pickle
import re
import unicodedata
from datetime import UTC, datetime
from pathlib import Path

import pytest

from rumourwatch.config import load_settings
from rumourwatch.errors import ModelError, RecordError
from rumourwatch.knowledge import DebunkIndex, Match, claim_of, nfkc
from training import build_debunk_index as bdi

ARTICLES = [
    {"platform": "测试辟谣台", "title": "喝柠檬热水能杀死癌细胞？", "url": "https://example.org/a1",
     "date": "2020-03-01",
     "text": "流言：每天早上喝一杯柠檬热水，能杀死体内的癌细胞，比化疗还管用。"
             "真相：柠檬热水不能杀死癌细胞，癌症需要到正规医院规范治疗。"},
    {"platform": "测试辟谣台", "title": "手机充电时接电话会爆炸？", "url": "https://example.org/a2",
     "date": "2021-06-10",
     "text": "流传内容：手机一边充电一边接电话会引起爆炸，已经有人因此受伤。"
             "鉴定结果：谣言。正规充电器和电池在充电时通话是安全的。"},
    {"platform": "测试科普号", "title": "吃香蕉能治失眠吗", "url": "https://example.org/a3",
     "date": "2022-01-15 20:30",
     "text": "网上说睡前吃两根香蕉就能彻底治好失眠。专家表示，香蕉不是药，长期失眠应就医。"},
    {"platform": "测试科普号", "title": "隔夜西瓜会致癌？", "url": "https://example.org/a4",
     "date": "2019-08-02",
     "text": "流言：放进冰箱过夜的西瓜会产生大量亚硝酸盐，吃了会致癌。"
             "真相：冷藏保存的西瓜亚硝酸盐含量很低，注意保鲜膜包好、尽快吃完即可。"},
    {"platform": "测试辟谣台", "title": "某市自来水检出病毒？官方辟谣", "url": "https://example.org/a5",
     "date": "2023-05-20",
     "text": "近日网传某市自来水中检出大量病毒，市水务局回应：水质检测全部合格，该消息不实。"},
]


@pytest.fixture()
def index() -> DebunkIndex:
    return DebunkIndex().fit(ARTICLES, source="fictional")


def test_paraphrased_claim_matches_its_article_and_counts_as_debunked(index):
    post = "转发！每天喝柠檬热水可以杀死癌细胞，比化疗管用多了"
    best = index.match([post], k=3)[0][0]
    assert best.url == "https://example.org/a1"
    assert best.title == "喝柠檬热水能杀死癌细胞？"
    assert index.already_debunked(best)
    assert best.already_debunked  # what the scorer stores as 已辟谣
    assert index.debunked([post])[0].url == "https://example.org/a1"


def test_unrelated_text_is_not_debunked(index):
    post = "周末带孩子去动物园看熊猫，天气晴朗，心情很好"
    found = index.match([post], k=5)[0]
    assert all(not index.already_debunked(m) and not m.already_debunked for m in found)
    assert index.debunked([post]) == [None]


def test_batch_match_returns_k_best_first_per_text(index):
    texts = ["手机边充电边打电话会爆炸吗", "冰箱里放了一夜的西瓜吃了会致癌", ""]
    result = index.match(texts, k=2)
    assert len(result) == 3
    assert result[0][0].url == "https://example.org/a2"
    assert result[1][0].url == "https://example.org/a4"
    assert result[2] == []  # an empty post resembles nothing
    for matches in result[:2]:
        assert 1 <= len(matches) <= 2
        assert [m.score for m in matches] == sorted((m.score for m in matches), reverse=True)
        assert all(isinstance(m, Match) and m.snippet for m in matches)


def test_large_feeds_are_scored_in_batches_with_the_same_answers(index, monkeypatch):
    from rumourwatch import knowledge

    texts = ["柠檬热水杀癌细胞", "充电打电话爆炸", "隔夜西瓜致癌", "香蕉治失眠", "自来水有病毒"]
    whole = index.match(texts, k=2)
    monkeypatch.setattr(knowledge, "BATCH", 2)
    assert index.match(texts, k=2) == whole
    assert [m[0].url for m in whole] == [f"https://example.org/a{i}" for i in (1, 2, 4, 3, 5)]
    with pytest.raises(TypeError, match=r"texts\[3\] must be a string"):
        index.match(texts[:3] + [b"bytes"], k=2)


def test_odd_feed_text_is_scored_not_crashed_on(index):
    # a lone surrogate (half an emoji from a broken feed), emoji, NUL bytes, blanks, one letter
    texts = ["\ud800每天喝柠檬热水能杀死癌细胞", "😀😀😀", "\x00\x00柠檬热水杀死癌细胞", " " * 40, "a"]
    result = index.match(texts, k=3)
    assert result[0][0].url == "https://example.org/a1"
    assert result[1] == [] and result[3] == [] and result[4] == []
    assert result[2][0].url == "https://example.org/a1"


def test_match_carries_display_fields(index):
    m = index.match(["睡前吃香蕉能治好失眠"], k=1)[0][0]
    assert m.platform == "测试科普号"
    assert m.date == datetime(2022, 1, 15, 12, 30, tzinfo=UTC)  # 20:30 China time
    assert 0 < m.score <= 1
    assert len(m.snippet) <= 81


def test_claim_part_is_indexed_not_the_explanation():
    text = "流言：吃某种野菜能降血压。真相：没有证据表明这种野菜能降血压，高血压患者应遵医嘱服药。"
    assert claim_of("标题", text) == "吃某种野菜能降血压。"
    text = "流传内容：洗澡后马上睡觉会中风。鉴定结果：谣言。"
    assert claim_of("标题", text) == "洗澡后马上睡觉会中风。"
    # no quoted claim: the opening of the article stands in for it
    assert claim_of("标题", "  专家提醒，冬季进补要适量。") == "专家提醒，冬季进补要适量。"


def test_before_keeps_only_articles_published_earlier(index):
    post = "喝柠檬热水能杀死癌细胞"
    assert index.match([post], before=datetime(2020, 6, 1))[0][0].url == "https://example.org/a1"
    early = index.match([post], k=5, before=datetime(2020, 1, 1))[0]
    assert "https://example.org/a1" not in [m.url for m in early]
    assert all(m.date < datetime(2020, 1, 1, tzinfo=UTC) for m in early)
    # a day-dated article (2020-03-01) is not yet known during that day, only from the next one
    same_day = index.match([post], k=5, before=datetime(2020, 3, 1, 18, 0))[0]
    assert "https://example.org/a1" not in [m.url for m in same_day]
    next_day = index.match([post], k=5, before=datetime(2020, 3, 2, 0, 1))[0]
    assert next_day[0].url == "https://example.org/a1"


def test_undated_articles_match_only_when_time_does_not_matter():
    undated = {"platform": "测试辟谣台", "title": "喝醋能软化血管？", "url": "https://example.org/u",
               "text": "流言：每天喝一勺醋能软化血管。真相：醋不能软化血管。"}
    index = DebunkIndex().fit(ARTICLES + [undated])
    assert index.match(["喝醋软化血管"])[0][0].url == "https://example.org/u"
    with_time = index.match(["喝醋软化血管"], k=5, before=datetime(2030, 1, 1))[0]
    assert "https://example.org/u" not in [m.url for m in with_time]


def test_before_accepts_aware_times(index):
    post = "吃香蕉能治失眠"
    # the banana article is dated 2022-01-15 20:30 China time, i.e. 12:30 UTC
    early = index.match([post], k=5, before=datetime(2022, 1, 15, 12, 29, tzinfo=UTC))[0]
    assert "https://example.org/a3" not in [m.url for m in early]
    late = index.match([post], k=5, before=datetime(2022, 1, 15, 12, 31, tzinfo=UTC))[0]
    assert late[0].url == "https://example.org/a3"


def test_pickle_round_trip_scores_the_same(index):
    texts = ["充电时打电话手机会爆炸", "隔夜西瓜致癌吗"]
    restored = pickle.loads(pickle.dumps(index))
    assert restored.match(texts, k=3) == index.match(texts, k=3)
    assert restored.threshold == index.threshold
    assert restored.describe() == index.describe()


def test_malformed_articles_are_set_aside_with_reason():
    bad = ARTICLES[:2] + [
        {"title": "", "text": "", "url": "https://example.org/empty", "date": "2020-01-01"},
        {"title": "日期坏了", "text": "某谣言", "url": "https://example.org/d", "date": "去年夏天"},
        "not a record",
    ]
    index = DebunkIndex().fit(bad)
    assert len(index) == 2
    reasons = dict(index.rejected)
    assert reasons[2] == "no title and no text"
    assert "unreadable date" in reasons[3]
    assert reasons[4] == "not an object"
    with pytest.raises(RecordError, match="no usable debunk articles"):
        DebunkIndex().fit([{"title": "", "text": ""}])


def test_bad_input_gets_a_clear_error(index):
    with pytest.raises(TypeError, match="list of strings"):
        index.match("喝柠檬水")
    with pytest.raises(TypeError, match=r"texts\[1\] must be a string"):
        index.match(["喝柠檬水", None])
    with pytest.raises(TypeError, match="before must be a datetime"):
        index.match(["喝柠檬水"], before="2020-01-01")
    with pytest.raises(ValueError, match="k must be at least 1"):
        index.match(["喝柠檬水"], k=0)
    with pytest.raises(ModelError, match="not built"):
        DebunkIndex().match(["喝柠檬水"])


def test_already_debunked_uses_the_stored_threshold(index):
    index.threshold = 0.5
    assert index.already_debunked(0.5)
    assert not index.already_debunked(0.49)
    assert not index.already_debunked(None)


# -- calibration and the hand-checked labels ------------------------------------------------

def test_calibrate_picks_the_lowest_threshold_that_stays_precise():
    # 60 pairs from 0.50 up, all right; from 0.30 to 0.49 every other pair wrong
    scores = [0.5 + i / 200 for i in range(60)] + [0.3 + i / 100 for i in range(20)]
    labels = [1] * 60 + [1, 0] * 10
    threshold, precision, recall, n = bdi.calibrate(scores, labels)
    # at 0.44: 63 right of 66 (95.5%); at 0.43 one more wrong pair drops it to 94.0%
    assert threshold == pytest.approx(0.44)
    assert n == 66 and precision == pytest.approx(63 / 66)
    assert recall == pytest.approx(63 / 70)


def test_calibrate_keeps_every_source_precise():
    # the labelled reposts are easy, the live stream is not: 9 of 12 stream pairs right at 0.8
    scores = [0.9] * 100 + [0.8] * 12
    labels = [1] * 100 + [1] * 9 + [0] * 3
    groups = ["checked"] * 100 + ["stream"] * 12
    assert bdi.calibrate(scores, labels)[0] == 0.8  # pooled, 109/112 looks fine
    assert bdi.calibrate(scores, labels, groups)[0] == 0.9


def test_calibrate_gives_up_rather_than_trust_few_pairs():
    assert bdi.calibrate([0.9] * 5, [1] * 5)[0] is None


def test_read_labels_names_the_bad_line(tmp_path):
    path = tmp_path / "labels.csv"
    path.write_text("source,item_id,article_url,score,same_claim,note\n"
                    "stream,abc,https://example.org/a1,0.5,1,\n"
                    "stream,def,https://example.org/a2,0.4,yes,\n", encoding="utf-8")
    with pytest.raises(ValueError, match="line 3: same_claim must be 0 or 1"):
        bdi.read_labels(path)


def test_committed_labels_hold_ids_and_urls_but_no_texts():
    with open(bdi.LABELS, encoding="utf-8") as f:
        rows = list(csv.DictReader(f))
    assert rows, "the hand-checked pairs are committed"
    assert list(rows[0]) == bdi.LABEL_COLUMNS
    han = re.compile(r"[\u4e00-\u9fff]")
    for row in rows:
        assert row["source"] in {"checked", "ced", "stream"}
        assert row["same_claim"] in {"0", "1"}
        assert re.fullmatch(r"[0-9a-f]{16}" if row["source"] == "stream" else r"\w+",
                            row["item_id"])
        assert row["article_url"].startswith("http")
        # notes are the annotator's English words, never quoted Chinese text from the bundle
        assert not han.search(row["note"])


# -- the real bundle -----------------------------------------------------------------------

@pytest.fixture(scope="module")
def real_index():
    settings = load_settings()
    if not Path(settings.data_dir).is_dir():
        pytest.fail(f"data bundle missing at {settings.data_dir}; set RUMOURWATCH_DATA_DIR")
    return bdi.build(settings)


def test_real_bundle_ranks_the_garlic_debunk_first(real_index):
    post = "听说每天喝大蒜水就能治好新冠肺炎，赶紧转给家里老人！"
    best = real_index.match([post], k=3)[0][0]
    assert "大蒜" in best.title
    # that clarification appeared in 2020: a post from 2019 could not have been matched to it
    early = real_index.match([post], k=5, before=datetime(2019, 12, 1))[0]
    assert all("大蒜水" not in m.title for m in early)


@pytest.mark.slow
def test_real_fit_calibrates_the_threshold_from_the_hand_checked_pairs():
    settings = load_settings()
    index = bdi.fit(settings)
    labels = bdi.read_labels()
    pairs = bdi.rescore(index, settings, labels)
    assert len(pairs) == len(labels)  # every labelled item and article is still found
    flagged = [p for p in pairs if p["new_score"] >= index.threshold]
    assert sum(p["same_claim"] for p in flagged) / len(flagged) >= bdi.TARGET_PRECISION
    restored = pickle.loads(pickle.dumps(index))
    assert restored.threshold == index.threshold
    # below FAINT_SIMILARITY (folded away in the item view, left out of the experts' related
    # clarifications) the hand-checked top matches are almost never the same claim
    from rumourwatch.knowledge import FAINT_SIMILARITY

    faint = [p["same_claim"] for p in pairs if p["new_score"] < FAINT_SIMILARITY]
    assert len(faint) >= 30 and sum(faint) / len(faint) <= 0.05


def test_similarity_between_outside_texts_is_on_the_index_scale(index):
    """Items against the claims of clarifications published here: neither is in the index, and n-grams
    no article has still count, so a copy scores 1 and a reworded repeat clears the threshold."""
    claim = "网传喝绿豆汤能治好示例流感，三天就退烧，转给家里人"
    texts = [claim, "喝绿豆汤治好示例流感！三天退烧，赶紧转给家里人", "周末带孩子去动物园看熊猫，天气晴朗"]
    sims = index.similarity(texts, [claim, "手机充电时接电话会爆炸"])
    assert sims.shape == (3, 2)
    assert sims[0, 0] == pytest.approx(1.0, abs=1e-5)
    assert index.already_debunked(float(sims[1, 0])) and sims[1, 0] < 1
    assert not index.already_debunked(float(sims[2, 0])) and sims[2, 0] < 0.1
    assert index.similarity([], [claim]).shape == (0, 1)
    with pytest.raises(TypeError, match="list of strings"):
        index.similarity(claim, [claim])


def test_posts_sharing_only_emoticons_or_share_boilerplate_are_not_the_same_claim(index):
    """Weibo's emoticon codes, @mentions and "分享图片" are not a claim: without this, a short post
    whose few characters are [泪] codes matched a long claim that ends with them."""
    claims = ["【示例明星住院照】最后一张慎点！看到心都碎了，祝早日康复[泪][泪][泪]", "分享图片"]
    sims = index.similarity(["真让人难过啊[泪][泪][泪]", "分享图片：示例县长夫人在巴黎购物",
                             "@示例网友 最后一张慎点！示例明星住院照，看到心都碎了[泪]"], claims)
    assert not index.already_debunked(float(sims[0, 0]))  # shares only the emoticons
    assert sims[1, 1] == 0  # a claim of share boilerplate alone is never compared
    assert index.already_debunked(float(sims[2, 0]))  # the same claim, with a mention and one emoticon
    # the scorer's fast pass over whole texts agrees once its candidates are re-scored
    _, fast = index.match_with_claims(["真让人难过啊[泪][泪][泪]"], 1, index.claim_set(claims))
    assert not index.already_debunked(float(fast.max()))


@pytest.mark.parametrize("text", [
    "网传：喝板蓝根能预防新冠？！", "ＡＢＣ　ｄｅｆ１２３", "Ａ\u0301 and Ｅ\u0308：composed after mapping",
    "①号楼 ㎡ ﬁle ™ ｶﾀｶﾅ Ⅻ", "e\u0301 already decomposed", "한국어 ᄀ\u1161", "", "plain ascii, nothing to do",
    "\uff5e\uff01\u3000\u3000end", "🙏[泪]\ufe0f"])
def test_fast_nfkc_is_unicode_nfkc(text):
    # the vectoriser's shortcut must give exactly NFKC, or index and items would hash apart
    assert nfkc(text) == unicodedata.normalize("NFKC", text)
