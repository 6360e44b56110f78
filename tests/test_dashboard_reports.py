"""The 周报与月通报 page (AppTest): the same figures as the PDF for the same week, downloads, empty
states, and access for a leader."""

from __future__ import annotations

import re
import subprocess

import pytest
from streamlit.testing.v1 import AppTest

import report_fixtures as fx
from dashboard import data
from dashboard.auth import login_for_test
from rumourwatch import auth, reports, store

APP = str(fx.ROOT / "dashboard" / "streamlit_app.py")
PAGE = "app_pages/reports.py"
LEADER, PASSWORD = "leader1", "fixture-password-1"


@pytest.fixture
def page_env(tmp_path, monkeypatch):
    path = tmp_path / "dash.db"
    db = store.open_db(path)
    fx.build_all(db)
    auth.create_user(db, LEADER, PASSWORD, "leader", actor="test", display_name="测试领导")
    db.conn.close()
    monkeypatch.setenv("RUMOURWATCH_DB_PATH", str(path))
    monkeypatch.setattr(data, "now_utc", lambda: fx.NOW)
    return path


def open_page(**query) -> AppTest:
    at = AppTest.from_file(APP, default_timeout=60)
    login_for_test(at, LEADER)
    for k, v in query.items():
        at.query_params[k] = v
    at.switch_page(PAGE)
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def shown(at: AppTest) -> str:
    parts = [str(e.value) for kind in ("markdown", "header", "subheader", "info", "caption")
             for e in getattr(at, kind)]
    return "\n".join(p.replace("\\", "") for p in parts)  # escape_md backslashes are not shown to users


def flat(text: str) -> str:
    return re.sub(r"\s+", "", text)


def test_page_shows_the_same_figures_as_the_pdf_for_the_same_week(page_env, tmp_path, rules_file):
    rules_file.write_text('[watch]\nkeywords = ["大蒜|盐灯", "流感 -疫苗"]\n', encoding="utf-8")
    at = open_page(kind="weekly", period=fx.WEEK)
    page = shown(at)
    pdf = tmp_path / "w.pdf"
    db = store.open_db(page_env, read_only=True)
    report = reports.compute_weekly(db, fx.WEEK, now=fx.NOW)
    reports.render_pdf(report, pdf)
    pdf_text = flat(subprocess.run(["pdftotext", "-enc", "UTF-8", str(pdf), "-"], capture_output=True, text=True,
                                   check=True).stdout)
    figures = [reports.volume_lines(report)[0], *reports.volume_lines(report)[1:], *reports.alerts_lines(report),
               *reports.experts_lines(report), *reports.publishers_lines(report), *reports.watch_lines(report),
               *reports.model_lines(report)]
    assert reports.watch_lines(report)[1].startswith("本周命中最多：流感 -疫苗")
    for line in figures:
        assert line in page, line
        assert flat(line) in pdf_text, line
    # The tables carry the same rows too: the overdue list and the top rumours' spread.
    frames = [df.value for df in at.dataframe]
    spread = next(f for f in frames if "传播量" in f.columns)["传播量"].tolist()
    assert spread == [r[4] for r in reports.rumour_table(report)[1]]
    assert all(flat(s) in pdf_text for s in spread)
    watched = next(f for f in frames if "关注词 / 账号" in f.columns)
    assert watched.values.tolist() == reports.watch_table(report)[1]
    assert all(flat(cell) in pdf_text for row in reports.watch_table(report)[1] for cell in row)
    overdue = next(f for f in frames if "应发布时间" in f.columns)
    assert overdue["预警"].tolist() == [f"#{o['alert_id']}" for o in report.section("alerts").data["overdue"]]


def test_monthly_notice_lists_units_and_flags_the_ones_below_the_minimum(page_env):
    at = open_page(kind="monthly", period=fx.MONTH)
    units = next(df.value for df in at.dataframe if "达标情况" in df.value.columns)
    flags = dict(zip(units["单位"], units["达标情况"]))
    assert flags == {fx.UNIT_COUNTY: "未达标", fx.UNIT_HOSPITAL: "达标", fx.UNIT_IDLE: "未达标"}
    # Lowering the minimum in the sidebar re-ranks at once.
    at.number_input(key="rep_minimum").set_value(1).run()
    units = next(df.value for df in at.dataframe if "达标情况" in df.value.columns)
    assert dict(zip(units["单位"], units["达标情况"]))[fx.UNIT_COUNTY] == "达标"


def test_downloads_offer_html_word_and_markdown_and_make_the_pdf_on_request(page_env):
    at = open_page(kind="weekly", period=fx.WEEK)
    assert [b.label for b in at.button if b.key == "make_pdf"] == ["生成 PDF"]
    offered = ["下载 HTML", "下载 Word（可编辑）", "下载 Markdown"]
    assert [d.proto.label for d in at.get("download_button")] == offered
    assert next(d for d in at.get("download_button") if d.proto.label == offered[1]).proto.id.endswith("-dl_docx")
    at.button(key="make_pdf").click().run()
    assert not at.exception, [e.value for e in at.exception]
    assert "PDF 生成失败" not in shown(at)
    assert [d.proto.label for d in at.get("download_button")] == [*offered, "下载 PDF"]


def test_empty_week_is_explained_not_an_error(page_env):
    at = open_page(kind="weekly", period=fx.EMPTY_WEEK)
    infos = [i.value for i in at.info]
    assert "本周无预警数据。" in infos and "本周无健康相关媒体条目。" in infos
    assert not at.error


def test_an_empty_last_period_offers_the_current_one(page_env):
    # On 23 Nov the last complete month is October, when nothing was collected; November has the data.
    at = open_page(kind="monthly")
    assert "所选月份（2026-10）没有采集到媒体条目。" in shown(at)
    assert "共 0 条" in shown(at)
    at.button(key="open_current").click().run()
    assert not at.exception, [e.value for e in at.exception]
    page = shown(at)
    assert "2026 年 11 月" in page and "没有采集到媒体条目" not in page and "共 0 条" not in page
    assert not [b for b in at.button if b.key == "open_current"]


def test_a_link_to_a_week_that_does_not_exist_says_why_in_chinese_and_opens_the_default(page_env):
    at = open_page(kind="weekly", period="2026-W54")
    assert [w.value for w in at.warning] == [
        ("链接中的期次无法打开：周次“2026\\-W54”不存在：2026 年只有第 1 到第 53 周，请重新选择周次。"
         "下面显示的是最近一个完整的期次。")]
    assert at.selectbox(key="rep_period_weekly").value == fx.WEEK  # the last complete week, as without a link


def test_a_pdf_that_cannot_be_made_says_why_in_chinese(page_env, monkeypatch):
    monkeypatch.setenv("RUMOURWATCH_CHROMIUM", str(page_env.parent / "no-chromium"))
    data.report_file.clear()  # a PDF another test made for the same report must not be served
    at = open_page(kind="weekly", period=fx.WEEK)
    at.button(key="make_pdf").click().run()
    assert not at.exception, [e.value for e in at.exception]
    assert [e.value for e in at.error] == [
        "PDF 生成失败：服务器未安装生成 PDF 所需的 Chromium 浏览器，请联系管理员安装。可先下载 HTML 版本，用浏览器打印为 PDF。"]
    data.report_file.clear()


def test_a_rumour_scraped_without_a_link_shows_an_empty_link_cell_not_none(page_env):
    db = store.open_db(page_env)
    with store.transaction(db):
        db.execute("UPDATE items SET url = NULL")
        db.execute("UPDATE clarifications SET published_url = NULL")
    db.conn.close()
    at = open_page(kind="weekly", period=fx.WEEK)
    links = next(df.value for df in at.dataframe if "传播量" in df.value.columns)["链接"].tolist()
    assert links and set(links) == {""}


def test_the_monthly_notice_opens_for_an_analyst_who_has_no_risk_page(page_env):
    """The notice's risk section links to the 舆情风险点 page only for roles that have it."""
    db = store.open_db(page_env)
    auth.create_user(db, "analyst1", PASSWORD, "analyst", actor="test")
    db.conn.close()
    at = AppTest.from_file(APP, default_timeout=60)
    login_for_test(at, "analyst1")
    at.query_params["kind"] = "monthly"
    at.query_params["period"] = fx.MONTH
    at.switch_page(PAGE)
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    assert any(h.value.startswith("八、舆情风险点") for h in at.header)
    assert not [e for e in at.get("page_link") if "舆情风险点页" in e.proto.label]
    leader = open_page(kind="monthly", period=fx.MONTH)
    assert [e for e in leader.get("page_link") if "舆情风险点页" in e.proto.label]
