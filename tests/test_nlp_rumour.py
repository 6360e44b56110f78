"""Rumour model behaviour on fictional items: decision-time cuts, reactions, leakage, tokenizer."""

from __future__ import annotations

import pickle
from dataclasses import replace
from datetime import timedelta

import numpy as np
import pytest

from rumourwatch.nlp.rumour import (
    RepostModel,
    RumourConfig,
    RumourModel,
    hashed_char_ngrams,
)
from rumourwatch.nlp.tokenizer import MedicalTokenizer, read_lexicon
from rumourwatch.records import Doc, Reaction, doc_from_bundle
from tests.rumour_fixtures import T0, make_items, make_personal_posts

SMALL = RumourConfig(n_features=1 << 16, cuts=(0.0, 6.0, None), C=4.0)


@pytest.fixture(scope="module")
def model():
    items = make_items(400, seed=1)
    return RumourModel(SMALL).fit([d for d, _ in items], [y for _, y in items])


def test_later_items_ranked_well_and_probabilities_in_range(model):
    from sklearn.metrics import roc_auc_score

    test = make_items(200, seed=2, start=T0 + timedelta(days=60))
    p = model.rumour_probability([d for d, _ in test])
    assert ((p >= 0) & (p <= 1)).all()
    assert roc_auc_score([y for _, y in test], p) > 0.9


def test_as_of_changes_the_score_only_through_reactions(model):
    doc = Doc("南屿县人民医院开展失眠义诊活动，时间为下周三上午", T0, [
        Reaction("comment", "这是谣言吧", T0 + timedelta(minutes=30), "a"),
        Reaction("repost", "假的，早就辟谣了", T0 + timedelta(hours=3), "b"),
        Reaction("comment", "别信，造谣", T0 + timedelta(hours=10), "c"),
    ])
    bare = replace(doc, reactions=[])
    p = model.rumour_probability([doc.as_of(0), bare, doc.as_of(0.5), doc.as_of(1),
                                  doc.as_of(6), doc.as_of(24), doc])
    assert p[0] == pytest.approx(p[1])          # at 0 h no reaction is known: text only
    assert p[2] == pytest.approx(p[3])          # nothing new between 0.5 h and 1 h
    log_odds = np.log(p / (1 - p))  # near 1 the probabilities differ below approx's tolerance
    assert log_odds[4] != pytest.approx(log_odds[3])  # a reaction arrived between 1 h and 6 h
    assert p[5] > p[0] + 0.2                    # doubting reactions raise a notice-like item
    assert p[6] == pytest.approx(p[5])          # all reactions are known by 24 h


def test_thanking_reactions_lower_the_score(model):
    doc = Doc("专家提醒：失眠患者饮食要均衡，生姜不能代替药物，请遵医嘱", T0)
    thanked = replace(doc, reactions=[Reaction("comment", t, T0 + timedelta(minutes=20 + i), f"u{i}")
                                      for i, t in enumerate(["收到，谢谢提醒", "支持，辛苦了", "已预约"])])
    doubted = replace(doc, reactions=[Reaction("comment", t, T0 + timedelta(minutes=20 + i), f"u{i}")
                                      for i, t in enumerate(["这是谣言吧", "别信，造谣", "真的吗？求证一下"])])
    p_thanked, p_bare, p_doubted = model.rumour_probability([thanked, doc, doubted])
    assert p_thanked < p_bare < p_doubted


def test_final_engagement_totals_are_not_read(model):
    record = {"text": "紧急扩散！吃香蕉会引发胃病，已经有很多人中招了", "date": "2024-05-01 10:00",
              "reposts": [{"date": "2024-05-01 10:20", "text": "真的吗？求证一下", "user_id": "x"}]}
    small = doc_from_bundle(dict(record, repost_num=1, comment_num=0, like_num=0))
    huge = doc_from_bundle(dict(record, repost_num=500000, comment_num=90000, like_num=10 ** 6))
    p = model.rumour_probability([small, huge])
    assert p[0] == pytest.approx(p[1])


def test_model_survives_pickling_and_scores_empty_batches(model):
    again = pickle.loads(pickle.dumps(model))
    docs = [d for d, _ in make_items(5, seed=9)]
    assert np.allclose(again.rumour_probability(docs), model.rumour_probability(docs))
    assert len(model.rumour_probability([])) == 0


def test_threshold_is_a_probability_chosen_on_validation(model):
    assert 0.05 <= model.threshold_ <= 0.95
    assert model.calibration_size_ == 80  # the latest fifth of the 400 training items


def test_hashed_ngrams_count_every_ngram_and_stop_at_text_ends():
    x = hashed_char_ngrams(["谣言", "", "abc"], (1, 2), 1 << 12)
    assert x.shape == (3, 1 << 12)
    assert list(np.asarray(x.sum(axis=1)).ravel()) == [3, 0, 5]
    # the same n-gram in two texts lands in the same column
    a = hashed_char_ngrams(["谣言"], (2, 2), 1 << 12)
    b = hashed_char_ngrams(["这是谣言"], (2, 2), 1 << 12)
    assert set(a.indices) <= set(b.indices)


def test_tokenizer_keeps_lexicon_words_whole_and_pickles_without_the_bundle(tmp_path):
    lexicon = tmp_path / "lex.txt"
    lexicon.write_text("青霉克星胶囊\t120\n心肌炎\t5000\n", encoding="utf-8")
    tok = MedicalTokenizer(read_lexicon(lexicon))
    words = tok.tokenize("他服用青霉克星胶囊后出现心肌炎症状")
    assert "青霉克星胶囊" in words and "心肌炎" in words
    lexicon.unlink()  # score time: the words travel inside the pickled tokenizer
    again = pickle.loads(pickle.dumps(tok))
    assert again.tokenize("青霉克星胶囊") == ["青霉克星胶囊"]


def test_words_the_dictionary_lacks_are_found_in_the_feed_and_then_kept_whole():
    """A name jieba's dictionary does not know comes out as single characters (奚 / 梓 / 珩), and an
    explanation listing them says nothing: discover_words finds it in the feed, used in varied
    contexts, and the tokenizer keeps it whole in a new sentence. A measure word's piece of a
    number phrase (这张图, 一张图 -> 张图) is as cohesive but is no word, a dictionary word is
    already whole, a name always followed by the same character is not free, and an emoticon's
    name is not the post's."""
    from rumourwatch.nlp.tokenizer import discover_words

    before = ["医生", "专家", "教授", "网友", "记者", "院长", "主任", "博主", "患者", "同事"]
    after = ["表示", "说", "提醒", "认为", "指出", "呼吁", "回应", "称", "强调", "介绍"]
    counts = ["这", "一", "两", "那", "每", "三", "哪", "半"]
    pictures = ["看懂", "火了", "说明", "刷屏", "告诉你", "太真实", "曝光", "值得看"]
    feed = [f"{b}奚梓珩{a}，门诊正常开放" for b in before + ["老师", "校长"] for a in after]
    feed += [f"{b}医院{a}" for b in before for a in after]  # as free, but in the dictionary
    feed += [f"{c}张图{p}" for c in counts for p in pictures]
    feed += [f"{b}去噗噗岛玩" for b in before]  # 噗噗 is always followed by 岛: not free on its right
    feed += [f"{b}说得对[嘤嘤]" for b in before]  # an emoticon's name is no word of the post
    feed += ["今天天气很好，大家注意防暑降温，多喝水少熬夜"] * 100  # the rest of a feed
    assert MedicalTokenizer().tokenize("奚梓珩") == ["奚", "梓", "珩"]
    found = dict(discover_words(feed))
    assert found.get("奚梓珩") == 100  # seen 120 times, capped: dictionary words keep winning
    assert not {"张图", "医院", "门诊", "噗噗", "嘤嘤"} & set(found), found
    tok = MedicalTokenizer(list(found.items()))
    assert "奚梓珩" in tok.tokenize("网传奚梓珩建议每天喝醋软化血管")
    assert pickle.loads(pickle.dumps(tok)).tokenize("奚梓珩") == ["奚梓珩"]


def test_an_explanation_names_emoticons_and_discovered_words_whole():
    """The item view's word weights: a Weibo emoticon code is one term ([怒], not the character 怒,
    which reads as a word of the post), weighing all of its characters; a word the tokenizer was
    given is one term; the weights still add up to the characters' parts."""
    from rumourwatch.nlp.explain import _word_weights

    said = "太假了[怒][怒]奚梓珩在造谣"
    per_char = np.arange(len(said), dtype=float) / 10
    plain = _word_weights(MedicalTokenizer(), said, per_char)
    assert plain["[怒]"] == pytest.approx(per_char[3:9].sum()) and "怒" not in plain
    assert {"奚", "梓", "珩"} <= set(plain)
    found = _word_weights(MedicalTokenizer([("奚梓珩", 20)]), said, per_char)
    assert found["奚梓珩"] == pytest.approx(per_char[9:12].sum()) and "奚" not in found
    assert sum(found.values()) == pytest.approx(per_char.sum())


def test_lexicon_with_a_bad_frequency_says_where(tmp_path):
    from rumourwatch.errors import DataBundleError

    lexicon = tmp_path / "lex.txt"
    lexicon.write_text("好词\t12\n坏词\tmany\n", encoding="utf-8")
    with pytest.raises(DataBundleError, match=r"lex.txt:2: frequency 'many'"):
        read_lexicon(lexicon)


def _with_account(doc, account):
    return replace(doc, extra=dict(doc.extra or {}, account=account))


def test_an_accounts_track_record_moves_its_new_posts_and_an_unknown_account_changes_nothing():
    items = make_items(400, seed=3)
    # A news account whose 60 labelled posts were all true; everyone else posts once.
    docs = [_with_account(d, "newsroom" if i % 5 == 0 and y == 0 else f"user{i}") for i, (d, y) in enumerate(items)]
    labels = [y for _, y in items]
    model = RumourModel(SMALL).fit(docs, labels)
    doubtful = Doc("网传喝淡盐水能预防病毒感染，赶紧转给家人", T0 + timedelta(days=90))
    unknown = model.rumour_probability([_with_account(doubtful, "stranger")])[0]
    newsroom = model.rumour_probability([_with_account(doubtful, "newsroom")])[0]
    assert newsroom < unknown - 0.05
    assert model.rumour_probability([doubtful])[0] == pytest.approx(unknown)  # no account = unknown one
    # Unknown accounts carry no information: the record is 0 and the probability is the words' alone.
    assert model.features_.account_features([_with_account(doubtful, "stranger")])[0, 0] == 0.0
    assert model.features_.account_features([_with_account(doubtful, "newsroom")])[0, 0] < -1.0


def test_the_account_comes_from_the_record_user_id():
    doc = doc_from_bundle({"text": "示例", "date": "2020-02-01 10:00", "user_id": "43a9"})
    assert doc.extra["account"] == "43a9"
    assert "account" not in doc_from_bundle({"text": "示例"}).extra


def test_a_trusted_accounts_record_cannot_hide_a_post_whose_words_and_reactions_say_rumour():
    from rumourwatch.nlp.rumour import MAX_ACCOUNT_SHIFT

    items = make_items(400, seed=3)
    docs = [_with_account(d, "newsroom" if i % 5 == 0 and y == 0 else f"user{i}") for i, (d, y) in enumerate(items)]
    model = RumourModel(SMALL).fit(docs, [y for _, y in items])
    loud = Doc("网传喝淡盐水能预防病毒感染，赶紧转给家人", T0 + timedelta(days=90), [
        Reaction("comment", "这是谣言吧，早就辟谣了", T0 + timedelta(days=90, minutes=5 * k), f"u{k}") for k in range(12)])
    docs = [_with_account(loud, "stranger"), _with_account(loud, "newsroom")]
    alone, trusted = model.rumour_log_odds(docs)  # (the probabilities are both 1.0 in floating point)
    assert 0 < alone - trusted <= MAX_ACCOUNT_SHIFT + 1e-6
    assert model.predict(docs).tolist() == [1, 1]  # the trusted account's post is still flagged


def test_reaction_level_model_reads_each_reaction_on_its_own():
    """Each worded reaction is scored on its own; quoted chains and bare '转发微博' are not words of
    the reaction."""
    items = make_items(300, seed=3)
    repost = RepostModel(C=1.0, n_features=1 << 16).fit([d for d, _ in items], [y for _, y in items])
    doc = Doc("通知", T0, [Reaction("repost", "转发微博", T0, "a"),
                         Reaction("repost", "//@某人: 这是谣言吧", T0, "b"),
                         Reaction("comment", "这是谣言吧，别信", T0, "c"),
                         Reaction("comment", "收到，谢谢提醒", T0, "d")])
    assert repost.worded(doc) == ["这是谣言吧，别信", "收到，谢谢提醒"]
    doubt, thanks = repost.reaction_margins([doc])[0]
    assert doubt > 0 > thanks
    only_reposts = Doc("通知", T0, [Reaction("repost", "转发微博", T0, "a"), Reaction("repost", "", T0, "b"),
                                  Reaction("repost", "//@某人: 这是谣言吧", T0, "c")])
    with_reactions, said_nothing, bare = repost.summary([doc, only_reposts, Doc("通知", T0)])
    assert with_reactions[0] == pytest.approx((doubt + thanks) / 2)
    assert with_reactions[1] == 0
    # reactions, but none with words of its own: marked as such, not read as a mean margin of 0
    assert list(said_nothing) == [0.0, 1.0]
    assert (bare == 0).all()  # no reactions: the summary says nothing


def test_a_few_reactions_weigh_less_than_many_saying_the_same():
    """The reaction-level summary is the mean drawn towards 0 by prior_reactions: two doubting
    comments are weaker evidence than forty, where the plain mean made them equal."""
    items = make_items(300, seed=3)
    repost = RepostModel(C=1.0, n_features=1 << 16, prior_reactions=10).fit(
        [d for d, _ in items], [y for _, y in items])
    few, many = (Doc("通知", T0, [Reaction("comment", "这是谣言吧，别信", T0, f"u{k}") for k in range(n)])
                 for n in (2, 40))
    margin = repost.reaction_margins([few])[0][0]
    assert margin > 0
    s_few, s_many = repost.summary([few, many])[:, 0]
    assert s_few == pytest.approx(2 * margin / 12) and s_many == pytest.approx(40 * margin / 50)
    assert 0 < s_few < s_many < margin


def _reacted_by(doc: Doc, accounts: list[str]) -> Doc:
    """The doc with its reactions' accounts replaced, in turn, by `accounts`."""
    return replace(doc, reactions=[replace(r, user_id=accounts[k % len(accounts)])
                                   for k, r in enumerate(doc.reactions)])


def test_accounts_that_keep_passing_rumours_on_raise_a_new_items_score():
    """Reactors' track records: the same item and reactions score higher when they come from
    accounts that reacted to earlier rumours, lower from accounts that reacted to true posts, and
    accounts without a record change nothing."""
    items = make_items(400, seed=4)
    spreaders, readers = [f"spreader{k}" for k in range(15)], [f"reader{k}" for k in range(15)]
    docs = [_reacted_by(d, spreaders if y else readers) for d, y in items]
    model = RumourModel(SMALL).fit(docs, [y for _, y in items])
    at = T0 + timedelta(days=90)
    item = Doc("市卫健委提醒：近期气温变化大，注意增减衣物", at, [
        Reaction("comment", "看看", at + timedelta(minutes=10 * k), None) for k in range(1, 7)])
    strangers = _reacted_by(item, [f"stranger{k}" for k in range(6)])
    by_spreaders, by_readers = _reacted_by(item, spreaders), _reacted_by(item, readers)
    p_stranger, p_spread, p_read, p_none = model.rumour_probability([strangers, by_spreaders, by_readers, item])
    assert p_read < p_stranger - 0.05 and p_spread > p_stranger + 0.05
    assert p_none == pytest.approx(p_stranger)  # reactions without accounts: no record either
    assert model.features_.reactor_features([strangers])[0, 0] == 0.0
    # later reactors count as they arrive: at 0 h nobody has reacted yet
    assert model.rumour_probability([by_spreaders.as_of(0)])[0] == pytest.approx(
        model.rumour_probability([item.as_of(0)])[0])
    # the item view names the record among the signals that pushed the score up
    from rumourwatch.nlp.explain import explain_rumour
    names = {s["name"]: s["weight"] for s in explain_rumour(model, by_spreaders)["signals"]}
    assert names["reactor_record"] > 0
    assert "reactor_record" not in {s["name"] for s in explain_rumour(model, strangers)["signals"]}


def test_a_fact_is_named_by_the_side_of_the_average_that_pushed_the_score(model):
    """The signals are standardised facts: a fact pushes the score by how far the item is from the
    training items' average, either way. An item without reactions or pictures whose lack of them
    raised its score must read "尚无互动" / "不含图片", never "已有互动" / "含图片"."""
    import copy

    from rumourwatch.nlp.explain import explain_rumour
    from rumourwatch.nlp.rumour import DENSE_NAMES

    nf = model.features_.n_features
    at = {name: 2 * nf + DENSE_NAMES.index(name) for name in ("has_reactions", "has_pic")}
    bare = Doc("南屿县人民医院开展失眠义诊活动，时间为下周三上午", T0)
    lively = replace(bare, reactions=[Reaction("comment", "收到", T0 + timedelta(minutes=5), "a")],
                     extra={"has_pic": 1})

    def signals(sign, doc):
        """The signals when having each fact moves the calibrated log-odds by `sign` (the joint
        model's coefficient times the calibrator's slope for its margin, which may be negative)."""
        m = copy.deepcopy(model)
        f = m.features_
        f.dense_mean_, f.dense_std_ = f.dense_mean_.copy(), f.dense_std_.copy()
        slope = m.calibrated_slopes(has_reactions=bool(doc.reactions))[0]["joint"]
        for name, column in at.items():
            f.dense_mean_[DENSE_NAMES.index(name)] = 0.5  # half the training items have it
            f.dense_std_[DENSE_NAMES.index(name)] = 0.5
            m.classifier_.coef_[0, column] = sign * np.sign(slope)
        return {s["name"]: s for s in explain_rumour(m, doc)["signals"]}

    # having them lowers the score: their absence is what pushed the bare item up
    up = signals(-1.0, bare)
    assert up["has_reactions"]["term"] == "尚无互动" and up["has_pic"]["term"] == "不含图片"
    assert not up["has_reactions"]["above_average"] and up["has_reactions"]["value"] == 0
    assert not {"has_reactions", "has_pic"} & set(signals(-1.0, lively))  # they pushed it down
    # having them raises the score: the lively item names them, the bare one does not
    up = signals(1.0, lively)
    assert up["has_reactions"]["term"] == "已有互动" and up["has_pic"]["term"] == "含图片"
    assert not {"has_reactions", "has_pic"} & set(signals(1.0, bare))


def test_a_feeds_ordinary_posts_learnt_as_background_are_no_longer_flagged_and_rumours_still_are():
    """Posts of the kind the background taught (not copies of them) drop below the threshold,
    through the joint model as well as the text-only one; labelled items are ranked and calibrated
    as well as without the background, which stays out of the calibration slice."""
    from sklearn.metrics import recall_score, roc_auc_score

    items = make_items(400, seed=1)
    docs, labels = [d for d, _ in items], [y for _, y in items]
    test = make_items(200, seed=2, start=T0 + timedelta(days=60))
    test_docs, test_y = [d for d, _ in test], np.array([y for _, y in test])
    background = make_personal_posts(600, seed=3)
    unseen_posts = make_personal_posts(200, seed=4, other=True)
    assert not {d.text for d in unseen_posts} & {d.text for d in background}
    without = RumourModel(replace(SMALL, background_weight=0.0)).fit(docs, labels, background=background)
    model = RumourModel(SMALL).fit(docs, labels, background=background)
    assert (model.background_size_, without.background_size_) == (600, 0)

    flagged_before = (without.rumour_probability(unseen_posts) >= without.threshold_).mean()
    flagged_after = (model.rumour_probability(unseen_posts) >= model.threshold_).mean()
    assert flagged_before > 0.5   # exclaiming and "转发" read as rumour to the labelled sets alone
    assert flagged_after < 0.1
    # the joint model (the one that reads reactions too) learnt it, not only the text-only one
    assert model.decision_function(unseen_posts).mean() < without.decision_function(unseen_posts).mean() - 1.0

    p, p0 = model.rumour_probability(test_docs), without.rumour_probability(test_docs)
    assert roc_auc_score(test_y, p) >= roc_auc_score(test_y, p0) - 0.02
    assert recall_score(test_y, p >= model.threshold_) >= recall_score(test_y, p0 >= without.threshold_) - 0.02
    # calibrated on labelled items only: 600 background zeros in the slice would drag this down
    assert abs(p.mean() - test_y.mean()) < 0.05



@pytest.mark.parametrize("config, trees", [
    (SMALL, False), (replace(SMALL, text_C=0.0), False), (replace(SMALL, repost_C=0.0), False),
    (replace(SMALL, reactor_record=False, account_record=False), False), (replace(SMALL, reaction_weight=0.5), False),
    (SMALL, True)],
    ids=["production-like", "no-text-model", "no-reaction-model", "no-records", "reaction-weight-0.5",
         "reaction-pattern-trees"])
def test_an_explanations_parts_add_up_to_the_score_shown(config, trees, monkeypatch):
    """The item view's weights are parts of the calibrated log-odds of the score it shows: the
    words (read by the joint and the text-only models), the reactions' words, the facts, each
    worded reaction, the track records and the intercepts add up to logit(score) exactly, with or
    without reactions, so a word, a reaction and an account's record compare on one scale; and
    what the view lists is those parts."""
    from rumourwatch.nlp.explain import (
        _group_style,
        _word_weights,
        explain_rumour,
        log_odds_parts,
    )

    items = make_items(400, seed=4)
    spreaders, readers = [f"spreader{k}" for k in range(15)], [f"reader{k}" for k in range(15)]
    # a news account whose posts were true, and one account whose posts were all rumours
    docs = [_with_account(_reacted_by(d, spreaders if y else readers),
                          "newsroom" if i % 5 == 0 and y == 0 else "rumourmill" if i % 7 == 0 and y else f"user{i}")
            for i, (d, y) in enumerate(items)]
    import rumourwatch.nlp.rumour as rumour_module

    # this small set's calibration slice has fewer decision-time copies than the trees need
    monkeypatch.setattr(rumour_module, "MIN_TREE_ROWS", 50 if trees else 10**9)
    model = RumourModel(config).fit(docs, [y for _, y in items])
    assert (model.pattern_trees_ is not None) == trees
    at = T0 + timedelta(days=90)
    # digits, capitals, a link and an @mention: the models read the text normalised
    doubted = Doc("网传ABC公司的2号药能预防病毒感染 http://t.cn/x0 @某人 赶紧转给家人", at, [
        Reaction("comment", "这是谣言吧，别信", at + timedelta(minutes=5), "spreader1"),
        Reaction("comment", "收到，谢谢提醒", at + timedelta(minutes=9), "reader2"),
        Reaction("repost", "转发微博", at + timedelta(minutes=12), "someone")])
    reposted = replace(doubted, reactions=[Reaction("repost", "转发微博", at + timedelta(minutes=3), "x")])
    cases = [doubted, doubted.as_of(0), reposted, _with_account(doubted, "newsroom"),
             _with_account(doubted.as_of(0), "rumourmill"), Doc("", at)]
    for doc in cases:
        parts = log_odds_parts(model, doc)
        assert parts.total == pytest.approx(float(model.rumour_log_odds([doc])[0]), abs=1e-6)
        p = float(model.rumour_probability([doc])[0])
        assert parts.total == pytest.approx(np.log(p / (1 - p)), abs=1e-6)
    if config.repost_C > 0:
        assert log_odds_parts(model, reposted).none_worded != 0  # reactions, none of them worded
        assert len(log_odds_parts(model, doubted).reaction_examples) == 2
    # what the view lists are those parts, word by word
    tokenizer = MedicalTokenizer()
    for doc in (doubted, doubted.as_of(0), _with_account(doubted, "rumourmill")):
        parts, out = log_odds_parts(model, doc), explain_rumour(model, doc, top=1000)
        words = _group_style(_word_weights(tokenizer, parts.text, parts.text_chars))
        assert out["words"] and all(w["weight"] == round(words[w["term"]], 4) for w in out["words"])
        if doc.reactions:
            said = _group_style(_word_weights(tokenizer, parts.reactions, parts.reaction_chars))
            assert all(w["weight"] == round(said[w["term"]], 4) for w in out["reactions"])
        examples = dict(parts.reaction_examples)
        assert all(r["weight"] == round(examples[r["term"]], 4) for r in out["reaction_examples"])
        signals = {s["name"]: s["weight"] for s in out["signals"]}
        if config.account_record and doc.extra.get("account") == "rumourmill":
            assert parts.account_record > 0 and signals["account_record"] == round(parts.account_record, 4)
        assert signals.get("reactor_record") == (round(parts.reactor_record, 4) if parts.reactor_record > 1e-6
                                                 else None)
        # the trees' part: an item with reactions has one (named when it raised the score), one without none
        assert (parts.reaction_pattern != 0) == (trees and bool(doc.reactions))
        assert signals.get("reaction_pattern") == (round(parts.reaction_pattern, 4)
                                                   if parts.reaction_pattern > 1e-6 else None)


def test_function_words_are_listed_as_one_style_row_weighing_their_sum():
    """了, 被, 吗… are real parts of a score (a post's style), but one by one they crowd the claim's
    words out of the item view: they show as one row, named by those that pushed the score up."""
    from rumourwatch.nlp.explain import _group_style

    grouped = _group_style({"致癌": 0.5, "了": 0.3, "被": 0.2, "吗": -0.1, "我们": 0.05})
    assert grouped == pytest.approx({"致癌": 0.5, "虚词与代词（了、被、我们）": 0.45})
    assert _group_style({"致癌": 0.5, "了": -0.3, "被": 0.2}) == {"致癌": 0.5}  # they lowered it on the whole


def test_the_threshold_curve_is_sklearns_macro_f1_at_every_cut():
    """The threshold rule reads macro-F1 at 91 cuts in one pass; it must be sklearn's figure, also at
    cuts that flag everything or nothing."""
    from sklearn.metrics import f1_score

    from rumourwatch.nlp.rumour import THRESHOLD_CUTS, macro_f1_curve

    rng = np.random.default_rng(3)
    y = rng.integers(0, 2, 500)
    p = np.clip(0.35 * y + 0.65 * rng.random(500), 0.06, 0.94)  # 0.05 flags all, 0.95 none
    expected = [f1_score(y, (p >= t).astype(int), average="macro", zero_division=0) for t in THRESHOLD_CUTS]
    assert macro_f1_curve(y, p) == pytest.approx(expected, abs=1e-12)
    # one class only (sklearn averages over the classes that occur)
    none = np.zeros(500, dtype=int)
    expected = [f1_score(none, (p >= t).astype(int), average="macro", zero_division=0) for t in THRESHOLD_CUTS]
    assert macro_f1_curve(none, p) == pytest.approx(expected, abs=1e-12)


def test_the_threshold_range_says_how_firmly_the_slice_supports_the_cut():
    """A slice whose classes are far apart gives one cut on every resample; a slice whose macro-F1 is
    flat over a wide band of cuts gives a wide range, and items are drawn with all their copies."""
    from rumourwatch.nlp.rumour import choose_threshold, threshold_range

    rng = np.random.default_rng(5)
    n = 300
    y = np.repeat([0, 1], n // 2)
    apart = np.where(y == 1, rng.uniform(0.8, 0.95, n), rng.uniform(0.05, 0.2, n))
    assert choose_threshold(y, apart) == 0.5 and threshold_range(y, apart, n) == (0.5, 0.5)
    # overlapping classes: about as many errors whichever cut between 0.3 and 0.7 is taken
    mixed = np.where(y == 1, rng.uniform(0.3, 1.0, n), rng.uniform(0.0, 0.7, n))
    low, high = threshold_range(np.tile(y, 3), np.tile(mixed, 3), n)  # three copies of each item
    assert low <= choose_threshold(y, mixed) <= high and high - low >= 0.1
    # an item's copies are drawn together: twenty copies of each item resample like the item alone
    assert threshold_range(np.tile(y, 20), np.tile(mixed, 20), n) == threshold_range(y, mixed, n)
    with pytest.raises(ValueError, match="not whole copies"):
        threshold_range(y, mixed, 7)


def test_a_fitted_model_records_its_threshold_range():
    items = make_items(300, seed=6)
    model = RumourModel(SMALL).fit([d for d, _ in items], [y for _, y in items])
    low, high = model.threshold_range_
    assert 0.05 <= low <= high <= 0.95


def test_the_separator_a_scraper_leaves_before_a_comment_is_not_evidence():
    """CHECKED's comments on fake posts were scraped as '：words' (the commenter's name cut off) and
    those on real posts as 'words'. The model must not learn that separator: a post whose only
    comment is '：早' scores as one whose comment is '早', and a bare '：' is no worded reaction."""
    items = make_items(300, seed=5)
    docs = [replace(d, reactions=[replace(r, text="：" + r.text) if r.kind == "comment" else r
                                  for r in d.reactions]) if y else d for d, y in items]
    model = RumourModel(SMALL).fit(docs, [y for _, y in items])
    at = T0 + timedelta(days=90)
    post = Doc("市卫健委提醒：近期气温变化大，注意增减衣物", at)

    def commented(text: str) -> Doc:
        return replace(post, reactions=[Reaction("comment", text, at + timedelta(minutes=10), "u1")])

    separated, plain = model.rumour_log_odds([commented("：早"), commented("早")])
    assert separated == pytest.approx(plain)
    assert model.repost_model_.worded(commented("：")) == []
    assert model.repost_model_.worded(commented("：早")) == ["早"]


def test_a_post_tagging_many_accounts_scores_as_one_tagging_one():
    """Rumours that tag someone ("@某某") a little more often than news must not make every extra
    tag count as evidence: a run of @mentions reads as one. (Each bare "@" was an n-gram of its own,
    so tagging four official accounts took a notice from 0.07 to 0.63 in the production model.)"""
    items = make_items(300, seed=6)
    docs = [replace(d, text=d.text + " @张三") if y else d for d, y in items]
    model = RumourModel(SMALL).fit(docs, [y for _, y in items])
    at = T0 + timedelta(days=90)
    notice = "市卫健委提醒：近期气温变化大，注意增减衣物"
    tags = [" @人民日报健康客户", " @人民日报 @新华", " @甲，@乙 @丙丁", " @ @@@ @@@"]
    assert len(set(map(len, tags))) == 1  # the same length: the post's length is a fact of its own
    one, *more = model.rumour_log_odds([Doc(notice + t, at) for t in tags])
    assert more == pytest.approx([one] * 3)


def test_an_explanation_lists_mentions_and_punctuation_that_pushed_the_score_up():
    """The item view must name what raised a score even when it is not a word: the tags and the
    marks are one row each (the tags' row was missing, so a post scored up by its tags showed only
    harmless words)."""
    from rumourwatch.nlp.explain import MENTION_TERM, _word_weights

    shown = "快看@！！这是真的"
    per_char = np.array([0.0, 0.0, 0.4, 0.2, 0.1, 0.0, 0.0, 0.0, 0.0])
    weights = _word_weights(MedicalTokenizer(), shown, per_char)
    assert weights[MENTION_TERM] == pytest.approx(0.4)
    assert weights["标点符号（！）"] == pytest.approx(0.3)
    assert "标点符号（！）" not in _word_weights(MedicalTokenizer(), shown, -per_char)  # lowered it
