"""辟谣知识库: a claim typed in (a caller's words, a tip, a task) is looked up among the published
clarifications — the knowledge base's articles and those published here — on the page and from the
command line; the clarifications published here are listed and found by their words."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest
from click.testing import CliRunner
from streamlit.testing.v1 import AppTest

from dashboard import data
from dashboard.auth import login_for_test
from rumourwatch import experts, store
from rumourwatch.cli import cli
from rumourwatch.config import REPO_ROOT
from rumourwatch.records import iso
from rumourwatch.score import closest_clarifications

from workflow_helpers import IndexedRuleBundle, rules, seed_workflow_db

PAGE = str(REPO_ROOT / "dashboard" / "app_pages" / "knowledge.py")
LEMON = "听说每天早上喝柠檬热水可以杀死癌细胞，比化疗还管用，是真的吗"  # test_knowledge's article a1, reworded
CLAIM = "喝淡盐水可以预防示例病毒感染"


def publish(path, info, now, claim=CLAIM, title="淡盐水不能预防示例病毒感染",
            url="https://example.org/piyao/salt") -> int:
    db = store.open_db(path)
    alert_id = info["alerts"][0]
    aid = experts.assign_expert(db, alert_id, info["experts"]["李样本"], "monitor1", now, rules())
    experts.accept_assignment(db, aid, "li", now)
    cid = experts.save_draft(db, aid, "li", now, title, "示例正文：淡盐水不能预防病毒感染，老年人尤其要少吃盐。",
                             "国家卫生健康委指南", claim=claim)
    experts.submit_for_review(db, cid, "li", now)
    experts.review_clarification(db, cid, "zhang", now, approve=True)
    experts.publish_clarification(db, cid, "monitor1", now, url)
    db.conn.close()
    return cid


@pytest.fixture
def seeded(tmp_path, monkeypatch):
    path = tmp_path / "kb.db"
    now = datetime.now(UTC).replace(microsecond=0)
    info = seed_workflow_db(path, now)
    monkeypatch.setenv("RUMOURWATCH_DB_PATH", str(path))
    bundle = IndexedRuleBundle()
    monkeypatch.setattr(data, "model_bundle", lambda models_dir: bundle)
    return path, info, now, bundle


def test_a_reworded_claim_finds_its_article_and_a_claim_clarified_here_comes_first(seeded):
    path, info, now, bundle = seeded
    db = store.open_db(path)
    [best, *_] = closest_clarifications(db, bundle, LEMON, iso(now), 5)
    assert best["url"] == "https://example.org/a1" and best["already_debunked"] and not best["own"]
    db.conn.close()
    cid = publish(path, info, now)
    db = store.open_db(path)
    [best, *rest] = closest_clarifications(db, bundle, "喝淡盐水真的可以预防示例病毒感染吗？", iso(now), 5)
    assert best["own"] and best["already_debunked"] and best["clarification_id"] == cid
    assert best["alert_id"] == info["alerts"][0] and best["url"] == "https://example.org/piyao/salt"
    assert all(not m["own"] for m in rest)


def _page(path, username="monitor1", q=None) -> AppTest:
    at = AppTest.from_file(PAGE, default_timeout=30)
    login_for_test(at, username, str(path))
    if q is not None:
        at.query_params["q"] = q
    at.run()
    assert not at.exception, at.exception
    return at


def test_the_page_says_already_debunked_and_lists_the_article(seeded):
    path = seeded[0]
    at = _page(path, q=LEMON)
    assert any("已辟谣" in s.value for s in at.success)
    assert any(c.value.startswith("与所输入说法最相似的已发布辟谣") for c in at.caption)
    [table] = [d.value for d in at.dataframe if "相似度" in d.value.columns]
    assert table["标题"].iloc[0] == "喝柠檬热水能杀死癌细胞？" and table["已辟谣"].iloc[0] == "是"


def test_a_new_claim_is_said_not_debunked_and_a_short_one_is_refused(seeded):
    path = seeded[0]
    at = _page(path, q="每天喝柠檬水可以美白皮肤")  # near article a1's words, not its claim
    assert not at.success
    assert any("没有达到“已辟谣”标准的辟谣（最高相似度 0.06）" in i.value for i in at.info), [i.value for i in at.info]
    at = _page(path, q="小区门口新开的健身房据说办卡送体检")
    assert any("知识库中未找到相似的辟谣文章" in i.value for i in at.info)
    at = _page(path, q="柠檬")
    assert any("请至少输入 4 个字" in w.value for w in at.warning)
    assert not [d for d in at.dataframe if "相似度" in d.value.columns]


def test_the_clarifications_published_here_are_listed_and_found_by_their_words(seeded):
    path, info, now, _ = seeded
    at = _page(path)
    assert any("本机构尚未发布澄清" in i.value for i in at.info)
    publish(path, info, now)
    at = _page(path, username="li")  # an expert: listed, but no alert page to open
    [own] = [d.value for d in at.dataframe if "所澄清的说法" in d.value.columns]
    assert list(own["标题"]) == ["淡盐水不能预防示例病毒感染"] and own["撰写专家"].iloc[0].startswith("李样本")
    at.text_input(key="kb_words").set_value("淡盐水 老年人").run()
    assert [list(d.value["标题"]) for d in at.dataframe if "所澄清的说法" in d.value.columns] == [
        ["淡盐水不能预防示例病毒感染"]]
    at.text_input(key="kb_words").set_value("淡盐水 柠檬").run()
    assert any("没有同时含有这些字词" in i.value for i in at.info)


def test_the_cli_finds_the_clarification_and_exits_1_when_none_is_debunked(seeded, monkeypatch):
    path, info, now, bundle = seeded
    monkeypatch.setattr("rumourwatch.cli.load_bundle", lambda settings, echo=None: bundle)
    cid = publish(path, info, now)
    runner = CliRunner()
    out = runner.invoke(cli, ["--db", str(path), "debunks", "find", "喝淡盐水真的可以预防示例病毒感染吗？", "--json"])
    assert out.exit_code == 0, out.output
    rows = json.loads(out.output)
    assert rows[0]["own"] and rows[0]["clarification_id"] == cid and rows[0]["already_debunked"]
    out = runner.invoke(cli, ["--db", str(path), "debunks", "find", LEMON])
    assert out.exit_code == 0 and "已辟谣 喝柠檬热水能杀死癌细胞？ (测试辟谣台, 2020-03-01)" in out.output
    out = runner.invoke(cli, ["--db", str(path), "debunks", "find", "小区门口新开的健身房据说办卡送体检"])
    assert out.exit_code == 1 and out.output == "no similar clarification found\n"
    out = runner.invoke(cli, ["--db", str(path), "debunks", "find", "每天喝柠檬水可以美白皮肤"])
    assert out.exit_code == 1 and out.output.startswith("0 of 2 closest clarification(s) reach")
    out = runner.invoke(cli, ["--db", str(path), "debunks", "find", "柠檬"])
    assert out.exit_code == 2 and "at least 4 characters" in out.output


FEED_POST = ("【网传“喝淡盐水可以预防示例病毒感染”？假的！】近日网传喝淡盐水可以预防示例病毒感染。"
             "经核实，该说法没有科学依据：淡盐水到不了肺部，也杀不死病毒。")


def test_a_clarification_publishers_post_in_the_feed_marks_later_repeats_already_debunked(db, now):
    """A debunk platform's post that arrives in the feed is a clarification like the knowledge
    base's articles: later posts repeating its claim are 已辟谣 with a link to it, before any
    retraining; the post is not its own clarification, and a text unlike it is not matched."""
    from rumourwatch import score

    from workflow_helpers import add_item

    bundle = IndexedRuleBundle()
    debunk = add_item(db, FEED_POST, now, account="微博辟谣")
    assert "clarification" in store.get_item(db, debunk)["quality_flags"]
    db.execute("UPDATE items SET url = 'https://weibo.example/piyao/1' WHERE id = ?", [debunk])
    repeat = add_item(db, "转发！喝淡盐水可以预防示例病毒感染，家里老人快喝起来", now)
    other = add_item(db, "周末带孩子去动物园看熊猫，天气晴朗", now)
    score.score_items(db, bundle, [debunk, repeat, other], now)
    got = {i: store.latest_score(db, i) for i in (debunk, repeat, other)}
    assert got[repeat]["already_debunked"] == 1 and got[repeat]["debunk_url"] == "https://weibo.example/piyao/1"
    assert got[repeat]["debunk_title"] == FEED_POST[:score.FEED_TITLE_CHARS]
    assert got[debunk]["debunk_url"] != "https://weibo.example/piyao/1"  # not matched with itself
    assert not got[other]["already_debunked"]
    # the 辟谣知识库 lookup and the item view list it beside the articles, under its account
    [best, *_] = closest_clarifications(db, bundle, "喝淡盐水真的能预防示例病毒感染吗", iso(now), 5)
    assert (best["url"], best["platform"], best["own"], best["already_debunked"]) == (
        "https://weibo.example/piyao/1", "微博辟谣", False, True)


def test_the_worker_rescores_recent_repeats_when_a_publishers_post_arrives(db, now):
    """Posts that were already scored when the debunk platform's post arrived show 已辟谣 at once,
    not at their next re-score; a post there before the worker first looked is the starting mark."""
    from datetime import timedelta

    from rumourwatch import score

    from workflow_helpers import add_item

    bundle = IndexedRuleBundle()
    older = add_item(db, "某网友：示例茶叶水洗眼睛能治近视，三天见效", now)
    assert score.rescore_repeats(db, bundle, now) == 0  # the first look sets the mark
    repeat = add_item(db, "转发！喝淡盐水可以预防示例病毒感染，家里老人快喝起来", now)
    score.score_items(db, bundle, [older, repeat], now)
    assert not store.latest_score(db, repeat)["already_debunked"]
    later = now + timedelta(minutes=10)
    debunk = add_item(db, FEED_POST, later, account="微博辟谣")
    assert score.rescore_repeats(db, bundle, later) == 1
    assert store.latest_score(db, repeat)["already_debunked"] == 1
    assert store.latest_score(db, older)["computed_at"] == iso(now)  # unlike the post: not re-scored
    assert store.latest_score(db, debunk)["computed_at"] == iso(later)  # add_item's score: not re-scored
    assert score.rescore_repeats(db, bundle, later + timedelta(minutes=1)) == 0  # once per post
