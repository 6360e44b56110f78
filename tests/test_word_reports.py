"""Word (.docx) reports and special reports: what an office edits and issues under its own header.
The document carries the figures and tables the other formats print, laid out as an official
document (A4, 公文 type area and fonts, page numbers), its links live and its tables readable."""

from __future__ import annotations

import io
from datetime import timedelta

import pytest
import report_fixtures as fx
from click.testing import CliRunner
from docx import Document
from docx.oxml.ns import qn
from test_briefing import _story

from dashboard import data
from rumourwatch import briefing, reports, store, wordfile
from rumourwatch.cli import cli


@pytest.fixture
def full_db():
    db = store.open_db(memory=True)
    fx.build_all(db)
    return db


def paragraphs(doc) -> list[str]:
    return [p.text for p in doc.paragraphs]


def table_with(doc, first_header: str, header_cell: str):
    """The document's table whose header row starts with `first_header` and holds `header_cell`."""
    for table in doc.tables:
        head = [c.text for c in table.rows[0].cells]
        if head[0] == first_header and header_cell in head:
            return table
    raise AssertionError(f"no table headed {first_header} … {header_cell}")


def cell_text(value) -> str:
    return str(value[0]) if isinstance(value, tuple) else str(value)


def fill(cell) -> str | None:
    shading = cell._tc.tcPr.find(qn("w:shd"))
    return None if shading is None else shading.get(qn("w:fill"))


def test_the_weekly_report_in_word_carries_every_figure_line_table_and_link(full_db, tmp_path):
    report = reports.compute_weekly(full_db, fx.WEEK, now=fx.NOW)
    doc = Document(reports.render(report, "docx", tmp_path / "周报.docx"))
    text = paragraphs(doc)
    assert text[:2] == [report.title, reports.period_text(report)]
    assert [t for t in text if t in {s.title for s in report.sections}] == [s.title for s in report.sections]
    lead = next(p for p in doc.paragraphs if p.text == reports.volume_lines(report)[0])
    assert lead.runs[0].bold  # the opinion line leaders quote, in bold as on the page
    for line in [*reports.volume_lines(report), *reports.alerts_lines(report), *reports.experts_lines(report),
                 *reports.publishers_lines(report), *reports.model_lines(report), *reports.topics_lines(report)]:
        assert line in text, line
    # The tables are real tables with the rows the page and the PDF print.
    head, rows = reports.rumour_table(report)
    table = table_with(doc, head[0], "谣言概率")
    assert [c.text for c in table.rows[0].cells] == head
    assert [[c.text for c in r.cells][:3] for r in table.rows[1:]] == [[cell_text(v) for v in r[:3]] for r in rows]
    assert [r.cells[4].text for r in table.rows[1:]] == [r[4] for r in rows]  # the spread
    links = [r.cells[-1].paragraphs[0].hyperlinks for r in table.rows[1:]]
    assert [[h.address for h in cell] for cell in links] == [[r[-1][1]] for r in rows]
    assert all(h.text == r[-1][0] for cell, r in zip(links, rows) for h in cell)
    # sized for reading: the content column is the widest, in the grid (LibreOffice, WPS) and cells (Word)
    grid = [c.width for c in table.columns]
    assert grid.index(max(grid)) == head.index("内容") and round(sum(grid) / 36000) == 156
    assert [c.width for c in table.rows[1].cells] == grid
    daily = table_with(doc, "日期", "合计")
    assert len(daily.rows) == 1 + 7  # one row a day of the week
    assert daily.rows[0]._tr.trPr.find(qn("w:tblHeader")) is not None  # the header repeats on each page
    assert len(doc.inline_shapes) == 1  # the daily chart


def test_the_word_document_is_laid_out_as_an_official_document(full_db, tmp_path):
    doc = Document(reports.render(reports.compute_monthly(full_db, fx.MONTH, now=fx.NOW), "docx", tmp_path / "m.docx"))
    section = doc.sections[0]
    def mm(emu: int) -> float:
        return round(emu / 36000, 1)

    assert (mm(section.page_width), mm(section.page_height)) == (210, 297)  # A4
    assert (mm(section.top_margin), mm(section.left_margin)) == (37, 28)
    assert mm(section.page_width - section.left_margin - section.right_margin) == 156  # the 公文 type area
    fonts = doc.styles["Normal"].element.rPr.rFonts
    assert fonts.get(qn("w:eastAsia")) == "仿宋_GB2312"
    title_font = doc.paragraphs[0].runs[0]._r.rPr.rFonts.get(qn("w:eastAsia"))
    assert title_font == "方正小标宋简体"
    footer = section.footer.paragraphs[0]
    assert footer.text.startswith("— ") and "PAGE" in footer._p.xml  # the page number field
    assert doc.core_properties.title == "健康舆情与谣言处置月通报"


def test_the_monthly_notice_shades_the_units_below_the_minimum(full_db, tmp_path):
    report = reports.compute_monthly(full_db, fx.MONTH, now=fx.NOW)
    doc = Document(reports.render(report, "docx", tmp_path / "月通报.docx"))
    table = table_with(doc, "排名", "达标情况")
    shaded = {r.cells[1].text: fill(r.cells[1]) == wordfile.MARKED_FILL for r in table.rows[1:]}
    assert shaded == {fx.UNIT_COUNTY: True, fx.UNIT_HOSPITAL: False, fx.UNIT_IDLE: True}
    assert {r.cells[1].text: r.cells[-1].text for r in table.rows[1:]}[fx.UNIT_COUNTY] == "未达标"
    assert len(doc.inline_shapes) == 2  # the daily chart and the units' chart
    risk = report.section("risk")
    assert risk.title in paragraphs(doc)


def test_columns_fit_the_page_times_stay_on_one_line_and_the_content_gets_the_room():
    head = ["排名", "时间", "内容", "传播量", "链接"]
    rows = [[1, "2026-11-16 08:00", "网传每天生吃十瓣大蒜可以彻底治愈高血压，从此不用再吃降压药，赶紧转发给家里老人！",
             "1,234", ("打开", "https://example.org/1")]]
    size, widths = wordfile.table_layout(head, rows)
    assert size == wordfile.TABLE_PT and sum(widths) == pytest.approx(wordfile.TYPE_WIDTH_MM)
    per_char = size * 0.3528
    assert widths[1] >= wordfile._chars("2026-11-16 08:00") * per_char + wordfile.CELL_PADDING_MM - 1e-9  # one line
    assert widths[2] == max(widths) and widths[2] > 3 * widths[0]
    # A table of short columns only shares the width in proportion, never below what a header needs
    size, narrow = wordfile.table_layout(["日期", "中性", "正面", "负面"], [["2026-11-16", 1, 2, 3]])
    assert sum(narrow) == pytest.approx(wordfile.TYPE_WIDTH_MM) and narrow[0] > narrow[1]
    # The overdue list (eight columns, three of them times): too wide to keep every time on one line
    head = ["预警", "级别", "内容", "预警时间", "应发布时间", "实际发布", "超时", "专家"]
    rows = [["#2030", "三级", "钟南山院士再度出征！北京又出现新增病例，发热病人请到定点医院就诊", "11-28 02:37",
             "11-28 07:37", "11-29 13:07", "29.5 小时", "冯样例"]]
    size, widths = wordfile.table_layout(head, rows)
    assert sum(widths) == pytest.approx(wordfile.TYPE_WIDTH_MM)
    per_char = size * 0.3528
    # a time breaks, if at all, between its day and its hour, never inside "02:37"
    assert all(widths[j] >= wordfile._chars("02:37") * per_char + wordfile.CELL_PADDING_MM - 1e-9 for j in (3, 4, 5))
    assert widths[2] >= wordfile.FAIR_WIDE_CHARS * per_char  # and the content keeps a fair width
    # The units' ranking (nine columns of short figures): a header of two characters is never split
    # into one and one ("排/名", "报/送"); a longer one may take two lines of two
    head = ["排名", "单位", "处置预警", "按时率", "报送", "采用", "澄清", "合计", "要求", "达标情况"]
    rows = [[1, "示例市疾病预防控制中心", 6, "33.3%", 5, 5, 6, 11, 4, "达标"]]
    size, widths = wordfile.table_layout(head, rows)
    per_char = size * 0.3528
    for j, h in enumerate(head):
        assert widths[j] >= min(len(h), 2) * per_char + wordfile.CELL_PADDING_MM - 1e-9, h


def test_a_time_in_a_narrow_column_is_broken_between_its_day_and_its_hour(tmp_path):
    """Word and WPS break a Chinese run anywhere ("11-29 0" over "3:37"): the document breaks a
    time too wide for its column at its space itself, and leaves prose to wrap."""
    head = ["预警", "级别", "内容", "预警时间", "应发布时间", "实际发布", "超时", "专家"]
    rows = [["#2030", "三级", "钟南山院士再度出征！北京又出现新增病例，发热病人请到定点医院就诊", "11-28 02:37",
             "11-28 07:37", "11-29 13:07", "29.5 小时", "冯样例"]]
    doc = Document(wordfile.write_docx(tmp_path / "t.docx", "标题", "副标题", [],
                                       [("一、概况", [("table", None, head, rows, ())])], "页脚"))
    cells = doc.tables[0].rows[1].cells
    assert [cells[j].text for j in (3, 4, 5)] == ["11-28\n02:37", "11-28\n07:37", "11-29\n13:07"]
    assert cells[2].text == rows[0][2] and cells[0].text == "#2030"


def test_a_scrapers_control_characters_are_dropped_not_fatal(tmp_path):
    out = wordfile.write_docx(tmp_path / "x.docx", "标题\x0b", "副标题", ["生成时间\x01"],
                              [("一、概况", [("lines", ["网传\x08消息"]),
                                           ("table", None, ["内容"], [["含\x1f控制符"]], ())])], "页脚")
    doc = Document(out)
    assert paragraphs(doc)[:4] == ["标题", "副标题", "生成时间", "一、概况"] and "网传消息" in paragraphs(doc)
    assert doc.tables[0].rows[1].cells[0].text == "含控制符"


def test_the_cli_writes_word_from_the_file_name_and_the_special_report_too(tmp_path, now):
    fixture, path = tmp_path / "reports.db", tmp_path / "story.db"
    fx.build_all(store.open_db(fixture))
    db = store.open_db(path)
    alert_id, _ = _story(db, now)
    db.conn.close()
    weekly = tmp_path / "周报.docx"
    result = CliRunner().invoke(cli, ["--db", str(fixture), "report", "weekly", "--week", fx.WEEK, "-o", str(weekly),
                                      "--now", fx.NOW.isoformat()])
    assert result.exit_code == 0, result.output
    assert paragraphs(Document(weekly))[0] == "健康舆情与谣言处置周报"
    special = tmp_path / "专报.docx"
    result = CliRunner().invoke(cli, ["--db", str(path), "alerts", "briefing", str(alert_id), "-o", str(special),
                                      "--note", "建议由省疾控中心专家发布澄清。\n同时请平台删除原帖。"])
    assert result.exit_code == 0, result.output
    doc = Document(special)
    text = paragraphs(doc)
    assert text[0] == "舆情专报" and text[1].startswith(f"预警 #{alert_id}")
    assert text[-3:-1] == ["建议由省疾控中心专家发布澄清。", "同时请平台删除原帖。"]  # the assessment, line by line
    assert any("共 3 条相关条目" in t for t in text) and len(doc.inline_shapes) == 1  # the spread and its chart
    b = briefing.compute_briefing(store.open_db(path, read_only=True), alert_id, now + timedelta(hours=3))
    assert Document(io.BytesIO(briefing.to_bytes(b, "docx"))).paragraphs[0].text == "舆情专报"


def test_the_reports_page_file_in_word_is_the_report(full_db):
    report = reports.compute_weekly(full_db, fx.WEEK, now=fx.NOW)
    doc = Document(io.BytesIO(data.report_file(report.to_json(), "docx")))
    assert paragraphs(doc)[:2] == [report.title, reports.period_text(report)]
