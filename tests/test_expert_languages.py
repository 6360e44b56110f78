"""Experts who write Mongolian, Tibetan or Uyghur script (DOMAIN.md 11; seed 004: Inner Mongolia
explains health knowledge in Mongolian and Chinese): the roster records the scripts each expert
writes besides Chinese, and a story told in one of them puts its writers first among the suggested
experts, saying so on the alert page. (Fictional sample sentences.)"""

from __future__ import annotations

import csv
import io
import json
from datetime import UTC, datetime, timedelta

import pytest
from click.testing import CliRunner
from streamlit.testing.v1 import AppTest
from workflow_helpers import PASSWORD, ROSTER_CSV, RUMOUR_TEXT, add_item, rules

from dashboard.auth import login_for_test
from rumourwatch import alerts, auth, briefing, experts, readings, store
from rumourwatch.cli import cli
from rumourwatch.config import REPO_ROOT

MONGOLIAN = "ᠡᠷᠡᠭᠦᠯ ᠮᠡᠨᠳᠦ ᠶᠢᠨ ᠠᠵᠢᠯ ᠤᠨ ᠲᠤᠬᠠᠢ ᠮᠡᠳᠡᠭᠡ ᠃ ᠬᠦᠮᠦᠨ ᠪᠦᠷ ᠡᠮᠨᠡᠯᠭᠡ ᠶᠢᠨ ᠭᠠᠵᠠᠷ ᠲᠤ ᠣᠴᠢᠵᠤ ᠡᠮᠴᠢ ᠳᠦ ᠦᠵᠡᠭᠦᠯᠬᠦ"
# The test roster with a languages column: the county doctor writes Mongolian, the provincial one
# Tibetan and Uyghur (named and coded), the others Chinese only.
LANG_ROSTER = ROSTER_CSV.replace("email,active\n", "email,active,languages\n").replace(
    "li@example.org,1\n", "li@example.org,1,藏文;ug\n").replace(
    "qian@example.org,1\n", "qian@example.org,1,蒙古文\n").replace("example.org,1\n", "example.org,1,\n")


@pytest.fixture
def roster(db, now):
    report = experts.import_roster(db, LANG_ROSTER, "admin", now)
    assert (report.created, report.errors) == (4, [])
    return {e["name"]: e for e in store.list_experts(db)}


def _raise(db, text, now) -> int:
    item = add_item(db, text, now - timedelta(hours=1), probability=0.3)
    return alerts.raise_alert(db, item, "二级", "经研判需要澄清", "monitor1", now, rules())["alert_id"]


def test_the_roster_records_the_scripts_each_expert_writes_and_exports_them_as_imported(db, now, roster):
    assert {name: experts.expert_languages(e) for name, e in roster.items()} == {
        "张示例": [], "李样本": ["bo", "ug"], "王虚构": [], "钱测试": ["mn"]}
    assert experts.languages_text(roster["李样本"]) == "藏文、维吾尔文"
    exported = list(csv.DictReader(io.StringIO(experts.export_roster(db).removeprefix("\ufeff"))))
    assert {r["name"]: r["languages"] for r in exported} == {"张示例": "", "李样本": "藏文;维吾尔文", "王虚构": "",
                                                             "钱测试": "蒙古文"}
    report = experts.import_roster(db, experts.export_roster(db), "admin", now)  # round trip
    assert (report.updated, report.errors) == (4, [])
    assert experts.expert_languages(store.get_expert(db, roster["李样本"]["id"])) == ["bo", "ug"]
    assert [e["name"] for e in experts.language_writers(db, "mn")] == ["钱测试"]


def test_an_unknown_script_is_refused_for_its_row_alone_and_says_what_may_be_written(db, now, roster):
    text = LANG_ROSTER + "孙错误,医师,示例医院,感染科,市级,示例市,2,,,1,满文\n"
    report = experts.import_roster(db, text, "admin", now)
    assert report.updated == 4 and report.created == 0
    assert report.errors == [("row 6: languages 满文 not recognised; use mn (蒙古文), bo (藏文), ug (维吾尔文) "
                              "(Chinese is assumed)")]
    [(line, [problem])] = report.problems
    assert (line, problem.key, problem.params) == (6, "roster_languages", {"value": "满文", "allowed": "蒙古文、藏文、维吾尔文"})
    assert len(store.list_experts(db)) == 4


def test_a_roster_file_without_the_column_leaves_the_experts_scripts_as_they_were(db, now, roster):
    report = experts.import_roster(db, ROSTER_CSV.replace(",2,000-0000-0000,li@", ",3,000-0000-0000,li@"), "admin", now)
    assert (report.updated, report.errors) == (4, [])
    li = store.get_expert(db, roster["李样本"]["id"])
    assert li["capacity"] == 3 and experts.expert_languages(li) == ["bo", "ug"]  # updated, scripts kept
    # with the column, an empty cell means Chinese only
    experts.import_roster(db, LANG_ROSTER.replace("li@example.org,1,藏文;ug", "li@example.org,1,"), "admin", now)
    assert experts.expert_languages(store.get_expert(db, roster["李样本"]["id"])) == []


def test_a_story_in_mongolian_puts_the_expert_who_writes_it_first_with_the_reason(db, now, roster):
    chinese = experts.suggest_experts(db, _raise(db, RUMOUR_TEXT, now), 10, now=now)
    assert chinese[0]["name"] != "钱测试" and not any(r["writes_language"] for r in chinese)
    assert not any("蒙古文" in reason for r in chinese for reason in r["reasons"])
    mongolian = experts.suggest_experts(db, _raise(db, MONGOLIAN, now), 10, now=now)
    first, rest = mongolian[0], mongolian[1:]
    assert (first["name"], first["writes_language"]) == ("钱测试", True)
    assert first["reasons"][0] == "可用蒙古文撰写澄清（本事件条目为蒙古文）"
    assert first["score"] < max(r["score"] for r in rest)  # first for the script, not for its score
    assert [r["name"] for r in rest] == [r["name"] for r in chinese if r["name"] != "钱测试"]  # by score as before
    assert all(r["reasons"][0] == "不能用蒙古文撰写（本事件条目为蒙古文），只能写中文澄清" for r in rest)


def test_the_suggest_command_prints_the_script_reason(db_path, now):
    db = store.open_db(db_path)
    experts.import_roster(db, LANG_ROSTER, "admin", now)
    alert_id = _raise(db, MONGOLIAN, datetime.now(UTC))
    run = CliRunner().invoke(cli, ["--db", str(db_path), "experts", "suggest", str(alert_id)])
    assert run.exit_code == 0, run.output
    first = run.output.splitlines()[0]
    assert "钱测试" in first and run.output.splitlines()[1].strip() == "- 可用蒙古文撰写澄清（本事件条目为蒙古文）"


@pytest.fixture
def page_db(tmp_path, monkeypatch):
    path = tmp_path / "languages.db"
    db = store.open_db(path)
    t = datetime.now(UTC).replace(microsecond=0)
    for name, role in (("monitor1", "monitor"), ("admin1", "admin")):
        auth.create_user(db, name, PASSWORD, role, "test")
    db.conn.close()
    monkeypatch.setenv("RUMOURWATCH_DB_PATH", str(path))
    return path, t


def _alert_page(path, alert_id) -> AppTest:
    at = AppTest.from_file(str(REPO_ROOT / "dashboard" / "app_pages" / "alerts.py"), default_timeout=30)
    login_for_test(at, "monitor1", str(path))
    at.query_params["alert"] = str(alert_id)
    at.run()
    assert not at.exception, at.exception
    return at


def test_the_alert_page_says_who_can_answer_a_mongolian_story_and_warns_when_nobody_can(page_db):
    path, t = page_db
    db = store.open_db(path)
    experts.import_roster(db, ROSTER_CSV, "admin", t)  # nobody writes Mongolian yet
    alert_id = _raise(db, MONGOLIAN, t)
    chinese_id = _raise(db, RUMOUR_TEXT, t)
    at = _alert_page(path, alert_id)
    assert [w.value for w in at.warning if "蒙古文" in w.value] == [
        ("本事件条目为蒙古文，但专家库中没有登记能用蒙古文撰写澄清的在职专家：只能先发中文澄清，蒙古文读者可能读不懂。"
         "请管理员在专家库名单的 languages 列登记。")]
    experts.import_roster(db, LANG_ROSTER, "admin", t)
    at = _alert_page(path, alert_id)
    assert not any("蒙古文" in w.value for w in at.warning)
    assert "本事件条目为蒙古文，澄清宜用蒙古文（可另附中文）：能用蒙古文撰写的专家排在前面（专家库中在职 1 位）。" in [
        c.value for c in at.caption]
    texts = [x.value for x in at.text]
    first = next(i for i, x in enumerate(texts) if x.split("（")[0] in ("张示例", "李样本", "王虚构", "钱测试"))
    assert texts[first].startswith("钱测试（主治医师，示例县人民医院，县级）")  # the first suggestion
    assert texts[first + 1].startswith("可用蒙古文撰写澄清（本事件条目为蒙古文）；")
    at = _alert_page(path, chinese_id)  # a Chinese story: nothing said of scripts
    assert not any("蒙古文" in x.value for x in [*at.caption, *at.warning, *at.text])


def test_the_roster_page_shows_each_experts_scripts(page_db):
    path, t = page_db
    db = store.open_db(path)
    experts.import_roster(db, LANG_ROSTER, "admin", t)
    at = AppTest.from_file(str(REPO_ROOT / "dashboard" / "app_pages" / "expert_pool.py"), default_timeout=30)
    login_for_test(at, "admin1", str(path))
    at.run()
    assert not at.exception, at.exception
    table = at.dataframe[0].value
    assert dict(zip(table["姓名"], table["民族文字"])) == {"张示例": "—", "李样本": "藏文、维吾尔文", "王虚构": "—",
                                                       "钱测试": "蒙古文"}
    assert json.loads(store.list_experts(db)[3]["languages"]) == ["mn"]


# --- the clarification's version in the story's script ------------------------------------------

TRANSLATION = MONGOLIAN + "（示例自治区疾病预防控制中心）"  # a Mongolian text naming a Chinese institution


def _task(db, text, now, expert="钱测试") -> tuple[int, int]:
    """An alert on a story told in `text`, assigned to and accepted by `expert`: (alert, assignment)."""
    alert_id = _raise(db, text, now)
    expert_id = next(e["id"] for e in store.list_experts(db) if e["name"] == expert)
    task = experts.assign_expert(db, alert_id, expert_id, "monitor1", now, rules())
    experts.accept_assignment(db, task, "qian", now)
    return alert_id, task


def test_a_draft_keeps_its_version_in_another_script_and_refuses_one_in_chinese(db, now, roster):
    _, task = _task(db, MONGOLIAN, now)
    cid = experts.save_draft(db, task, "qian", now, "喝热奶茶不能治流感", "流感请及时就医。", translation=TRANSLATION)
    c = store.get_clarification(db, cid)
    assert (c["translation"], c["translation_language"]) == (TRANSLATION, "mn")
    experts.save_draft(db, task, "qian", now, "喝热奶茶不能治流感", "流感请及时就医，遵医嘱用药。")  # None keeps it
    assert store.get_clarification(db, cid)["translation"] == TRANSLATION
    for text, key in (("流感请及时就医，热奶茶不能代替药物治疗。", "translation_script"),
                      (MONGOLIAN * 400, "translation_long")):
        with pytest.raises(alerts.WorkflowError) as err:
            experts.save_draft(db, task, "qian", now, "标题改了", "正文改了", translation=text)
        assert err.value.key == key
        c = store.get_clarification(db, cid)
        assert (c["title"], c["translation"]) == ("喝热奶茶不能治流感", TRANSLATION)  # nothing saved
    experts.save_draft(db, task, "qian", now, "喝热奶茶不能治流感", "流感请及时就医。", translation="  ")
    c = store.get_clarification(db, cid)
    assert (c["translation"], c["translation_language"]) == (None, None)


@pytest.fixture
def flow_db(tmp_path, monkeypatch):
    from workflow_helpers import seed_workflow_db

    path = tmp_path / "flow.db"
    t = datetime.now(UTC).replace(microsecond=0)
    seed_workflow_db(path, t)
    db = store.open_db(path)
    experts.import_roster(db, LANG_ROSTER, "admin", t)  # 钱测试 (user qian) writes Mongolian
    monkeypatch.setenv("RUMOURWATCH_DB_PATH", str(path))
    return path, db, t


def _page(page, username, path, query=None) -> AppTest:
    at = AppTest.from_file(str(REPO_ROOT / "dashboard" / "app_pages" / page), default_timeout=30)
    login_for_test(at, username, str(path))
    for k, v in (query or {}).items():
        at.query_params[k] = v
    at.run()
    assert not at.exception, at.exception
    return at


def test_the_expert_writes_the_mongolian_version_beside_the_chinese_and_readers_find_it(flow_db):
    path, db, t = flow_db
    alert_id, task = _task(db, MONGOLIAN, t)
    item_id = store.get_alert(db, alert_id)["item_id"]
    at = _page("workbench.py", "qian", path)
    assert at.text_area(key=f"claim_{task}").value == ""  # not the Mongolian text: the claim is stated in Chinese
    readings.record_reading(db, item_id, True, "合理膳食", "negative", "称每天喝热奶茶就能治好流感", "monitor1", t)
    at = _page("workbench.py", "qian", path)  # what the reader made of it, for an expert who may not read it
    texts = [x.value for x in at.text]
    assert texts[texts.index(MONGOLIAN) + 1] == "称每天喝热奶茶就能治好流感"
    assert "人工判读大意（条目为民族文字，由判读人员译述）" in [c.value for c in at.caption]
    assert at.text_area(key=f"claim_{task}").value == "称每天喝热奶茶就能治好流感"
    texts = [x.value for x in _page("alerts.py", "monitor1", path, {"alert": str(alert_id)}).text]
    assert texts[texts.index(MONGOLIAN) + 1] == "称每天喝热奶茶就能治好流感"  # and the monitor's alert page
    special = briefing.render_markdown(briefing.compute_briefing(db, alert_id, t))  # and the leaders' 舆情专报
    assert "人工判读大意（代表内容为民族文字，由判读人员译述）：称每天喝热奶茶就能治好流感" in special
    assert ("本事件条目为蒙古文：其读者未必读得懂中文，请附蒙古文版澄清（或请能写蒙古文的同事协助）。"
            in [c.value for c in at.caption])
    assert at.text_area(key=f"translation_{task}").label == "蒙古文版（标题与正文）"
    at.text_input(key=f"title_{task}").input("喝热奶茶不能治流感")
    at.text_area(key=f"body_{task}").input("流感请及时就医。")
    at.text_area(key=f"translation_{task}").input(TRANSLATION)
    at.button(key=f"save_{task}").click().run()
    assert not at.exception, at.exception
    [c] = store.clarifications_for_alert(db, alert_id)
    assert (c["translation"], c["translation_language"]) == (TRANSLATION, "mn")

    experts.submit_for_review(db, c["id"], "qian", t)
    review = _page("workbench.py", "li", path)  # the reviewer sees both versions
    assert "蒙古文版：" in [x.value for x in review.caption] and TRANSLATION in [x.value for x in review.text]
    experts.review_clarification(db, c["id"], "li", t, approve=True)
    experts.publish_clarification(db, c["id"], "qian", t, "https://example.org/piyao/naicha")
    item = _page("item.py", "monitor1", path, {"item": str(item_id)})
    [shown] = [e for e in item.expander if e.label == "澄清的蒙古文版"]
    assert [x.value for x in shown.text] == [TRANSLATION]


def test_a_clarification_of_a_mongolian_story_without_the_version_is_flagged_to_reviewer_and_publisher(flow_db):
    path, db, t = flow_db
    _, task = _task(db, MONGOLIAN, t)
    cid = experts.save_draft(db, task, "qian", t, "喝热奶茶不能治流感", "流感请及时就医。")
    _, chinese_task = _task(db, RUMOUR_TEXT, t)
    other = experts.save_draft(db, chinese_task, "qian", t, "示例谣言不实", "正文。")
    for c in (cid, other):
        experts.submit_for_review(db, c, "qian", t)
    missing = "本事件条目为蒙古文，此稿没有蒙古文版：蒙古文读者可能读不懂中文澄清。"
    review = _page("workbench.py", "li", path)
    assert [w.value for w in review.warning if "蒙古文" in w.value] == [missing]  # the Chinese story's: nothing
    for c in (cid, other):
        experts.review_clarification(db, c, "li", t, approve=True)
    publish = _page("workbench.py", "li", path)
    assert [w.value for w in publish.warning if "蒙古文" in w.value] == [missing]
