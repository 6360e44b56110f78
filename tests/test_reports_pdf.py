"""The PDF leaders receive: produced by the CLI, Chinese text (not boxes), fonts embedded, charts as
images, and every figure equal to the one counted from the database with plain SQL.

Uses poppler-utils (pdftotext, pdffonts, pdfinfo, pdfimages, pdftoppm) and Chromium, both Debian
packages of the project's image; a missing tool fails the test rather than skipping it.
"""

from __future__ import annotations

import re
import statistics
import subprocess

import pytest
from click.testing import CliRunner

import report_fixtures as fx
from rumourwatch import reports, store
from rumourwatch.cli import cli
from rumourwatch.opinion import opinion_line
from rumourwatch.records import parse_time

NOW_ARG = ["--now", "2026-11-23T08:00:00Z"]


@pytest.fixture(scope="module")
def pdfs(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("pdf")
    path = tmp / "reports.db"
    db = store.open_db(path)
    fx.build_all(db)
    db.conn.close()
    out = {}
    for name, args in (("weekly", ["weekly", "--week", fx.WEEK]), ("monthly", ["monthly", "--month", fx.MONTH]),
                       ("empty", ["weekly", "--week", fx.EMPTY_WEEK])):
        target = tmp / f"{name}.pdf"
        result = CliRunner().invoke(cli, ["--db", str(path), "report", *args, "--format", "pdf", "-o", str(target),
                                          *NOW_ARG])
        assert result.exit_code == 0, result.output
        out[name] = target
    out["db"] = store.open_db(path, read_only=True)
    return out


def tool(*args) -> str:
    return subprocess.run(args, capture_output=True, text=True, check=True, timeout=60).stdout


def flat(text: str) -> str:
    """Text without any whitespace: pdftotext breaks long lines wherever the layout wrapped them."""
    return re.sub(r"\s+", "", text)


def test_pdf_is_chinese_text_with_embedded_unicode_fonts(pdfs):
    text = tool("pdftotext", "-enc", "UTF-8", str(pdfs["weekly"]), "-")
    for heading in ("健康舆情与谣言处置周报", "一、舆情总量与情感倾向", "二、话题分布", "三、传播最广的疑似谣言",
                    "四、预警与处置时限", "超时清单", "五、专家处置工作", "六、重复发布者与删除请求", "七、关注词与关注账号",
                    "八、模型运行情况"):
        assert heading in text, heading
    assert "\ufffd" not in text and "□" not in text
    fonts = [line.split() for line in tool("pdffonts", str(pdfs["weekly"])).splitlines()[2:] if line.strip()]
    assert fonts
    # Columns from the right: object id, generation, uni, sub, emb.
    assert all(f[-5] == "yes" and f[-3] == "yes" for f in fonts), fonts


def test_every_weekly_figure_equals_the_database(pdfs):
    db = pdfs["db"]
    text = flat(tool("pdftotext", "-enc", "UTF-8", str(pdfs["weekly"]), "-"))
    week = reports.parse_week(fx.WEEK)
    span = [week.start, week.end]

    counts = dict(db.execute("""SELECT polarity, count(*) FROM items WHERE health_related = 1 AND polarity IS NOT NULL
                                AND published_at >= ? AND published_at < ? GROUP BY polarity""", span).fetchall())
    assert flat(opinion_line(counts)) in text
    items, unscored, health, flagged = db.execute(
        "SELECT count(*), sum(scored_at IS NULL), sum(health_related = 1), "
        "sum(health_related = 1 AND rumour_probability >= 0.5) FROM items WHERE published_at >= ? "
        "AND published_at < ?", span).fetchone()
    assert f"采集条目{items}条（其中待评分{unscored}条），健康相关{health}条，其中疑似谣言{flagged}条" in text

    severities = dict(db.execute("SELECT severity, count(*) FROM alerts WHERE created_at >= ? AND created_at < ? "
                                 "GROUP BY severity", span).fetchall())
    assert "，".join(f"{s}{severities.get(s, 0)}起" for s in ("一级", "二级", "三级")) in text
    alerts = db.execute("SELECT created_at, responded_at FROM alerts WHERE created_at >= ? AND created_at < ? "
                        "AND status != 'dismissed'", span).fetchall()

    def within(hours):
        return sum(1 for c, r in alerts if r and (parse_time(r) - parse_time(c)).total_seconds() <= hours * 3600)

    n5, n24 = within(5), within(24)
    assert f"5小时内发布信息{n5}起（{100 * n5 / len(alerts):.1f}%）" in text
    assert f"24小时内发布{n24}起（{100 * n24 / len(alerts):.1f}%）" in text

    published = db.execute("""SELECT a.created_at, c.published_at FROM clarifications c JOIN alerts a ON a.id = c.alert_id
                              WHERE c.status = 'published' AND c.published_at >= ? AND c.published_at < ?""",
                           span).fetchall()
    median = statistics.median((parse_time(p) - parse_time(c)).total_seconds() / 3600 for c, p in published)
    assert f"发布澄清{len(published)}篇；从预警到澄清发布的中位用时{median:.1f}小时" in text

    # The widest-spread rumour's spread: copies + reposts + comments of its cluster this week.
    top = db.execute("""SELECT count(*) + sum(repost_num) + sum(comment_num) AS spread FROM items
                        WHERE rumour_probability >= 0.5 AND health_related = 1 AND published_at >= ?
                        AND published_at < ? GROUP BY coalesce(cluster_id, -id) ORDER BY spread DESC LIMIT 1""",
                     span).fetchone()[0]
    assert f"{top:,}" in text
    removed = db.execute("SELECT count(*) FROM takedowns WHERE status = 'removed' AND requested_at >= ? "
                         "AND requested_at < ?", span).fetchone()[0]
    assert f"已删除{removed}件" in text


def test_monthly_notice_pdf_lists_units_with_their_clarifications(pdfs):
    db = pdfs["db"]
    text = tool("pdftotext", "-layout", "-enc", "UTF-8", str(pdfs["monthly"]), "-")
    assert "健康舆情与谣言处置月通报" in text
    headings = ["一、舆情总量与情感倾向", "二、话题分布", "三、传播最广的疑似谣言", "四、各单位处置与信息报送排名",
                "五、预警与处置时限", "六、专家处置工作", "七、重复发布者与删除请求", "八、舆情风险点（近3个月）",
                "九、关注词与关注账号", "十、模型运行情况"]  # as pdftotext gives them, spaces left out
    flat_text = flat(text)
    assert [flat_text.find(h) for h in headings] == sorted(flat_text.find(h) for h in headings)
    assert all(h in flat_text for h in headings)
    month = reports.parse_month(fx.MONTH)
    per_unit = dict(db.execute("""SELECT e.institution, count(*) FROM clarifications c JOIN experts e ON e.id = c.expert_id
                                  WHERE c.status = 'published' AND c.published_at >= ? AND c.published_at < ?
                                  GROUP BY e.institution""", [month.start, month.end]).fetchall())
    for unit in (fx.UNIT_COUNTY, fx.UNIT_HOSPITAL, fx.UNIT_IDLE):
        # The ranking table's row: "<rank> <unit> <kind> <region> <handled> <rate> <clarifications> ..."
        row = next(line for line in text.splitlines() if re.match(rf"^\s*\d+\s+{unit}\s", line))
        cells = row.split()
        assert str(per_unit.get(unit, 0)) in cells, row
        assert ("未达标" in row) == (unit != fx.UNIT_HOSPITAL), row  # the hospital's own minimum is 1


def test_monthly_notice_pdf_gives_tied_units_one_rank(tmp_path):
    db = store.open_db(memory=True)
    fx.build_all(db)
    fx.add_idle_units(db, *fx.TIED_UNITS)
    target = reports.render_pdf(reports.compute_monthly(db, fx.MONTH, now=parse_time(NOW_ARG[1])), tmp_path / "m.pdf")
    text = tool("pdftotext", "-layout", "-enc", "UTF-8", str(target), "-")
    ranks = {}
    for unit in (fx.UNIT_COUNTY, fx.UNIT_HOSPITAL, fx.UNIT_IDLE, *fx.TIED_UNITS):
        ranks[unit] = int(re.search(rf"^\s*(\d+)\s+{unit}\s", text, re.MULTILINE).group(1))
    assert ranks == {fx.UNIT_COUNTY: 1, fx.UNIT_HOSPITAL: 2, fx.UNIT_IDLE: 3, **dict.fromkeys(fx.TIED_UNITS, 3)}


def test_weekly_pdf_prints_hashed_accounts_short_so_content_keeps_its_width(tmp_path):
    db = store.open_db(memory=True)
    fx.build_all(db)
    fx.hash_accounts(db)
    target = reports.render_pdf(reports.compute_weekly(db, fx.WEEK, now=parse_time(NOW_ARG[1])), tmp_path / "w.pdf")
    text = tool("pdftotext", "-layout", "-enc", "UTF-8", str(target), "-")
    assert fx.HASHED_ACCOUNT[:8] + "…" in text and fx.HASHED_ACCOUNT not in flat(text)
    # The garlic rumour's 内容 cell (41 characters) takes 3 lines, not a narrow strip of 7 or more.
    lines = text.splitlines()
    first = next(i for i, line in enumerate(lines) if re.match(r"^\s*\d+\s+网传每天生吃", line))
    end = next(i for i in range(first + 1, len(lines)) if re.match(r"^\s*(\d+\s|排名|[一二三四五六七八九十]、)", lines[i]))
    assert len([line for line in lines[first:end] if line.strip()]) <= 3, lines[first:end]


def test_charts_are_embedded_images_and_pages_render(pdfs, tmp_path):
    images = tool("pdfimages", "-list", str(pdfs["weekly"])).splitlines()[2:]
    assert len(images) >= 1  # the daily trend chart
    tool("pdftoppm", "-r", "50", "-png", "-f", "1", "-l", "1", str(pdfs["weekly"]), str(tmp_path / "page"))
    png = next(tmp_path.glob("page*.png"))
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and png.stat().st_size > 10_000
    assert len(tool("pdfimages", "-list", str(pdfs["monthly"])).splitlines()[2:]) >= 2  # trend + units chart


def test_empty_week_pdf_is_one_short_clear_page(pdfs):
    """All of an empty week on its first page. The page was full: the next week's two health days
    (世界肝炎日, 世界母乳喂养周: two lines) push the footer alone onto a second, and nothing else."""
    info = tool("pdfinfo", str(pdfs["empty"]))
    pages = int(re.search(r"^Pages:\s+(\d+)$", info, re.M).group(1))
    text = flat(tool("pdftotext", "-enc", "UTF-8", "-f", "1", "-l", "1", str(pdfs["empty"]), "-"))
    rest = flat(tool("pdftotext", "-enc", "UTF-8", "-f", "2", str(pdfs["empty"]), "-")) if pages > 1 else ""
    assert pages <= 2 and rest in ("", flat(reports.tr("footer")))
    for message in ("本周无健康相关媒体条目。", "本周无预警数据。", "本周无专家指派与澄清发布。", "本周无人工核实记录。",
                    "下周卫生健康纪念日：7月28日世界肝炎日"):
        assert message in text


# --- a week of the real data bundle -------------------------------------------------------------

def test_bundle_week_replayed_gives_html_and_pdf_with_database_figures(tmp_path, rule_bundle):
    """Two ISO weeks of CHECKED posts (read from the bundle, never copied) go through ingest, the
    scorer (the transparent test model) and the alert rules; the CLI then writes the week's HTML and
    PDF, and the PDF's opinion line and alert counts are those counted from the database."""
    import gzip
    import json
    from datetime import date, datetime, timedelta

    from conftest import DATA_DIR
    from rumourwatch.alerts import evaluate_alerts, validate_rules
    from rumourwatch.ingest import ingest_events
    from rumourwatch.records import CST, UTC
    from rumourwatch.score import score_pending
    from rumourwatch.sources.base import RawItem

    week, previous = reports.parse_week("2020-W08"), reports.parse_week("2020-W07")
    first, last = date.fromisoformat(previous.first_day), date.fromisoformat(week.last_day)
    events = []
    with gzip.open(DATA_DIR / "rumour" / "checked_train.jsonl.gz", "rt", encoding="utf-8") as fh:
        for line in fh:
            record = json.loads(line)
            if first <= date.fromisoformat(record["date"][:10]) <= last:
                events.append(RawItem(dict(record, platform="微博", account=f"user{len(events) % 40}")))
    assert len(events) > 100
    path = tmp_path / "bundle.db"
    db = store.open_db(path)
    after_week = datetime(2020, 2, 24, 9, tzinfo=CST).astimezone(UTC)
    with store.transaction(db):
        ingest_events(db, events, source="bundle-checked", now=after_week)
    score_pending(db, rule_bundle, after_week, limit=10_000)
    rules = validate_rules({"rumour": {"min_probability": 0.5}})
    rules["opinion_spike"]["enabled"] = False
    day = datetime.fromisoformat(week.start.replace("Z", "+00:00"))
    while day < datetime.fromisoformat(week.end.replace("Z", "+00:00")):  # the rules run as the week goes by
        day += timedelta(hours=6)
        evaluate_alerts(db, day, rules)
    db.conn.close()

    out = {}
    for fmt in ("html", "pdf"):
        out[fmt] = tmp_path / f"week.{fmt}"
        result = CliRunner().invoke(cli, ["--db", str(path), "report", "weekly", "--week", week.label, "--format",
                                          fmt, "-o", str(out[fmt]), "--now", "2020-02-24T01:00:00Z"])
        assert result.exit_code == 0, result.output
    db = store.open_db(path, read_only=True)
    counts = dict(db.execute("""SELECT polarity, count(*) FROM items WHERE health_related = 1 AND polarity IS NOT NULL
                                AND published_at >= ? AND published_at < ? GROUP BY polarity""",
                             [week.start, week.end]).fetchall())
    assert sum(counts.values()) > 50
    line = opinion_line(counts)
    text = flat(tool("pdftotext", "-enc", "UTF-8", str(out["pdf"]), "-"))
    assert flat(line) in text and line in out["html"].read_text(encoding="utf-8")
    n_alerts = db.execute("SELECT count(*) FROM alerts WHERE created_at >= ? AND created_at < ?",
                          [week.start, week.end]).fetchone()[0]
    assert n_alerts > 0  # the rules fire on the week's fakes that the doubting reposts give away
    assert f"本周新增预警{n_alerts}起" in text
