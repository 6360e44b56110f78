"""稿件自查: a clarification draft read against the commissions' content standard (seed 000 §(二)1,
§(三)1). Each check is shown failing on a draft that lacks what it looks for and passing once the
draft has it; the warnings reach the alert's timeline, the audit log, the workbench and the CLI."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner

from rumourwatch import draftcheck, experts, store
from rumourwatch.alerts import evaluate_alerts
from rumourwatch.cli import cli

from workflow_helpers import ROSTER_CSV, RUMOUR_TEXT, add_item, rules

GOOD_TITLE = "喝淡盐水能预防病毒感染？没有科学依据"
GOOD_BODY = ("近日有帖子说“喝淡盐水可以预防病毒感染”。这一说法没有科学依据。"
             "病毒经呼吸道进入人体，淡盐水到不了肺部，也杀不死病毒。"
             "盐吃多了反而升高血压，老年人和高血压患者尤其要少吃盐。"
             "预防呼吸道感染，请接种疫苗、勤洗手、在人多的地方戴口罩。"
             "如有发热、咳嗽，请及时就医。")
GOOD_REFS = "国家卫生健康委《中国公民健康素养——基本知识与技能（2015年版）》\nhttps://www.who.int/zh/news-room/fact-sheets"
CLAIM = "喝淡盐水可以预防病毒感染"


@pytest.fixture(scope="module")
def vocab(tmp_path_factory):
    """A small THUOCL-style lexicon: two specialist terms, and 蛋白质, common, around a rare 白质."""
    root = tmp_path_factory.mktemp("bundle")
    (root / "lexicon").mkdir()
    (root / "lexicon" / "THUOCL_medical.txt").write_text(
        "糖化血红蛋白\t237\n血管紧张素\t103\n淋巴细胞亚群\t40\n蛋白质\t50000\n白质\t20\n高血压\t27960\n", encoding="utf-8")
    return draftcheck.vocabulary(str(root))


def checks_of(title=GOOD_TITLE, body=GOOD_BODY, refs=GOOD_REFS, claim=CLAIM, vocab=None):
    return {c.key: c for c in draftcheck.check_draft(title, body, refs, claim, vocab=vocab)}


def test_a_draft_that_meets_the_standard_gets_no_warning(vocab):
    checks = draftcheck.check_draft(GOOD_TITLE, GOOD_BODY, GOOD_REFS, CLAIM, vocab=vocab)
    assert draftcheck.warnings(checks) == []
    assert draftcheck.summary(checks) == "自查 9 项均无提示"
    by_key = {c.key: c for c in checks}
    assert by_key["references"].text == "依据 2 条，其中权威来源 2 条。"
    assert "老年人" in by_key["population"].found


@pytest.mark.parametrize("change,key,words", [
    ({"title": "关于喝淡盐水的说法", "body": "近日有帖子说“喝淡盐水可以预防病毒感染”，在家长群里转发很多。" * 6 + GOOD_BODY},
     "verdict", "未见明确结论"),
    ({"refs": ""}, "references", "未列出依据"),
    ({"refs": "朋友圈看到的\n某公众号文章"}, "references", "未见政府、权威卫生机构"),
    ({"body": GOOD_BODY.replace("老年人和高血压患者尤其要", "都要")}, "population", "未写明适用人群"),
    ({"claim": ""}, "claim", "未填写所澄清的说法"),
    ({"claim": "吃大蒜能够杀死体内所有细菌"}, "claim", "很少复述"),
    ({"body": "没有科学依据，老年人也不例外。"}, "length", "正文仅 15 字"),
    ({"body": GOOD_BODY * 25}, "length", "偏长"),
    ({"body": GOOD_BODY.replace("。", "，")}, "sentences", "平均每句"),
    ({"body": GOOD_BODY + "喝淡盐水100%没用，不必尝试。"}, "absolute", "100%"),
    ({"body": GOOD_BODY + "我认为这个说法危害很大。"}, "opinion", "我认为"),
])
def test_each_check_warns_on_what_it_looks_for(change, key, words):
    kwargs = {"title": GOOD_TITLE, "body": GOOD_BODY, "refs": GOOD_REFS, "claim": CLAIM, **change}
    checks = checks_of(**kwargs)
    assert checks[key].warns and words in checks[key].text
    assert [c.key for c in draftcheck.warnings(list(checks.values()))] == [key]


def test_a_negated_absolute_and_a_marked_opinion_do_not_warn():
    checks = checks_of(body=GOOD_BODY + "目前没有特效药，也不存在零风险的偏方。我认为应听医生的（个人观点）。")
    assert not checks["absolute"].warns and not checks["opinion"].warns
    assert checks_of(body=GOOD_BODY + "这是特效药。")["absolute"].found == ("特效药",)


def test_rare_medical_terms_and_abbreviations_must_be_explained(vocab):
    body = GOOD_BODY + "糖化血红蛋白、血管紧张素和淋巴细胞亚群与此无关，ACE2 也无关。"
    check = checks_of(body=body, vocab=vocab)["terms"]
    assert check.warns and set(check.found) == {"糖化血红蛋白", "血管紧张素", "淋巴细胞亚群", "ACE2"}
    explained = GOOD_BODY + ("糖化血红蛋白（反映近三个月血糖的指标）、血管紧张素（一种升血压的激素）"
                             "和淋巴细胞亚群（免疫细胞的分类计数）与此无关，ACE2（病毒进入细胞的受体）也无关。")
    check = checks_of(body=explained, vocab=vocab)["terms"]
    assert not check.warns and check.found == ()
    # the tokenizer reads 蛋白质 as one common word, not a rare 白质 inside it; vitamins are no abbreviation
    assert checks_of(body=GOOD_BODY + "多吃蛋白质和维生素D3，少熬夜，多运动，别吸烟。", vocab=vocab)["terms"].found == ()


def test_without_the_lexicon_the_term_check_says_it_did_not_run(tmp_path):
    assert draftcheck.bundle_vocabulary(str(tmp_path)) is None
    check = checks_of(vocab=None)["terms"]
    assert check.status == draftcheck.UNCHECKED and "未检查医学术语" in check.text
    assert draftcheck.lines([check])[0].startswith("－ ")


@pytest.fixture
def drafted(db, now):
    experts.import_roster(db, ROSTER_CSV, "admin", now)
    ids = {e["name"]: e["id"] for e in store.list_experts(db)}
    from rumourwatch import auth
    auth.create_user(db, "wang", "a-long-test-password", "expert", "test", expert_id=ids["王虚构"])
    auth.create_user(db, "zhang", "a-long-test-password", "expert", "test", expert_id=ids["张示例"])
    add_item(db, RUMOUR_TEXT, now, reposts=600)
    [alert_id] = evaluate_alerts(db, now, rules())
    aid = experts.assign_expert(db, alert_id, ids["李样本"], "monitor1", now, rules())
    experts.accept_assignment(db, aid, "li", now)
    return alert_id, aid, ids


def test_submission_and_approval_put_the_warnings_left_into_the_timeline_and_audit(db, now, drafted, vocab):
    alert_id, aid, _ = drafted
    cid = experts.save_draft(db, aid, "li", now, GOOD_TITLE, GOOD_BODY, "", claim=CLAIM)
    experts.submit_for_review(db, cid, "li", now, vocab=vocab)
    [submitted] = [s for s in store.alert_steps(db, alert_id) if s["step"] == "submitted"]
    assert submitted["note"] == f"澄清稿 #{cid} 提交审核；自查提示 1 项：未列出依据"
    [audit] = [e for e in store.audit_entries(db) if e["action"] == "clarification.submit"]
    assert json.loads(audit["details"])["self_check"] == ["references"]

    # 王虚构 is a cardiologist: not of the alert's field (传染病及地方病防控), which the approval records
    experts.review_clarification(db, cid, "wang", now, approve=True, note="同意", vocab=vocab)
    [approved] = [s for s in store.alert_steps(db, alert_id) if s["step"] == "approved"]
    assert approved["note"] == "同意；审核时自查提示 2 项：未列出依据、审核人非本领域专家"
    [audit] = [e for e in store.audit_entries(db) if e["action"] == "clarification.approve"]
    assert json.loads(audit["details"])["self_check"] == ["references", "reviewer_field"]


def test_a_reviewer_of_the_field_and_a_complete_draft_leave_a_clean_trail(db, now, drafted, vocab):
    alert_id, aid, _ = drafted
    cid = experts.save_draft(db, aid, "li", now, GOOD_TITLE, GOOD_BODY, GOOD_REFS, claim=CLAIM)
    experts.submit_for_review(db, cid, "li", now, vocab=vocab)
    experts.review_clarification(db, cid, "zhang", now, approve=True, vocab=vocab)
    notes = {s["step"]: s["note"] for s in store.alert_steps(db, alert_id)}
    assert notes["submitted"] == f"澄清稿 #{cid} 提交审核；自查 10 项均无提示"  # the author's field is the tenth
    assert notes["approved"] is None
    checks = draftcheck.clarification_checks(db, store.get_clarification(db, cid), vocab=vocab, reviewer="monitor1")
    assert [c.text for c in draftcheck.warnings(checks)] == [
        "审核人不是专家库中的专家：按方案，科普信息应由相应领域（传染病及地方病防控）的专家编写与审核。"]


def test_the_cli_checks_a_draft_file_and_exits_1_when_it_warns(tmp_path, db_path):
    runner = CliRunner()
    draft = tmp_path / "澄清稿.txt"
    draft.write_text(f"{GOOD_TITLE}\n{GOOD_BODY}\n", encoding="utf-8")
    refs = tmp_path / "依据.txt"
    refs.write_text(GOOD_REFS, encoding="utf-8")
    out = runner.invoke(cli, ["--db", str(db_path), "experts", "check-draft", str(draft), "--claim", CLAIM])
    assert out.exit_code == 1, out.output
    assert out.output.startswith("自查提示 1 项：未列出依据\n！ 未列出依据")
    out = runner.invoke(cli, ["--db", str(db_path), "experts", "check-draft", str(draft), "--claim", CLAIM,
                              "--references", str(refs), "--json"])
    assert out.exit_code == 0, out.output
    rows = json.loads(out.output)
    assert {r["status"] for r in rows} <= {"ok", "unchecked"} and len(rows) == 9
    draft.write_bytes(GOOD_TITLE.encode("gb18030"))
    out = runner.invoke(cli, ["--db", str(db_path), "experts", "check-draft", str(draft)])
    assert out.exit_code == 2 and "is not UTF-8 text" in out.output and "save it as UTF-8" in out.output


def test_the_cli_checks_a_stored_clarification_with_its_authors_field(db_path, now):
    db = store.open_db(db_path)
    experts.import_roster(db, ROSTER_CSV, "admin", now)
    wang = next(e["id"] for e in store.list_experts(db) if e["name"] == "王虚构")
    add_item(db, RUMOUR_TEXT, now, reposts=600)
    [alert_id] = evaluate_alerts(db, now, rules())
    aid = experts.assign_expert(db, alert_id, wang, "monitor1", now, rules())
    experts.accept_assignment(db, aid, "wang", now)
    cid = experts.save_draft(db, aid, "wang", now, GOOD_TITLE, GOOD_BODY, GOOD_REFS, claim=CLAIM)
    db.conn.close()
    out = CliRunner().invoke(cli, ["--db", str(db_path), "experts", "check-draft", "--id", str(cid)])
    assert out.exit_code == 1
    assert "作者非本领域专家" in out.output.splitlines()[0]
    assert "作者王虚构的专业不含本条主题（传染病及地方病防控）" in out.output
    out = CliRunner().invoke(cli, ["--db", str(db_path), "experts", "check-draft", "--id", "999"])
    assert out.exit_code == 2 and "clarification 999 does not exist" in out.output
