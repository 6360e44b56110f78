"""`rumourwatch report ...` end to end: files written, errors explained, cron delivery to a local
group-bot webhook and SMTP server, sent once, retried after a failure."""

from __future__ import annotations

import io
import json
import threading
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, HTTPServer

import pytest
import report_fixtures as fx
from click.testing import CliRunner
from local_servers import free_port

from rumourwatch import reports, store
from rumourwatch.cli import cli
from rumourwatch.opinion import opinion_line

NOW_ARG = ["--now", "2026-11-23T08:00:00Z"]


@pytest.fixture
def report_db(tmp_path):
    path = tmp_path / "reports.db"
    db = store.open_db(path)
    fx.build_all(db)
    db.conn.close()
    return path


def run(db_path, *args, ok=True):
    result = CliRunner().invoke(cli, ["--db", str(db_path), "report", *args])
    if ok:
        assert result.exit_code == 0, result.output + repr(result.exception)
    return result


def week_opinion_line(db_path) -> str:
    db = store.open_db(db_path, read_only=True)
    p = reports.parse_week(fx.WEEK)
    counts = dict(db.execute("""SELECT polarity, count(*) FROM items WHERE health_related = 1 AND polarity IS NOT NULL
                                AND published_at >= ? AND published_at < ? GROUP BY polarity""",
                             [p.start, p.end]).fetchall())
    return opinion_line(counts)


def test_weekly_html_and_markdown_carry_the_database_opinion_line(report_db, tmp_path):
    html, md = tmp_path / "w.html", tmp_path / "w.md"
    run(report_db, "weekly", "--week", fx.WEEK, "-o", str(html), *NOW_ARG)
    run(report_db, "weekly", "--week", fx.WEEK, "--format", "md", "-o", str(md), *NOW_ARG)
    line = week_opinion_line(report_db)
    page = html.read_text(encoding="utf-8")
    assert line in page and "data:image/png;base64," in page and "<link" not in page  # self-contained
    assert f"**{line}**" in md.read_text(encoding="utf-8")


def test_json_output_is_the_computed_report(report_db):
    result = run(report_db, "monthly", "--month", fx.MONTH, "--json", "--minimum", "1", *NOW_ARG)
    report = reports.Report.from_json(result.output)
    assert report.period.label == fx.MONTH
    assert report.section("units").data["minimum"] == 1


def test_default_period_is_the_last_complete_one(report_db, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    run(report_db, "weekly", "--format", "md", *NOW_ARG)
    assert (tmp_path / "2026-W47_周报.md").exists()


@pytest.mark.parametrize("args, message", [
    (["weekly", "--week", "2026-47"], "use YYYY-Www"),
    (["monthly", "--month", "November"], "use YYYY-MM"),
    (["weekly", "--week", "2026-W47", "--format", "xlsx"], "'xlsx' is not one of"),
])
def test_bad_arguments_are_explained(report_db, args, message):
    result = run(report_db, *args, ok=False)
    assert result.exit_code != 0 and message in result.output
    assert "Traceback" not in result.output


def test_missing_database_says_what_to_do(tmp_path):
    result = run(tmp_path / "none.db", "weekly", "--week", fx.WEEK, ok=False)
    assert result.exit_code == 1 and "does not exist yet" in result.output


def test_import_units_reports_bad_rows_by_line(report_db, tmp_path):
    csv = tmp_path / "units.csv"
    csv.write_text("code,name,kind,region,monthly_minimum\n"
                   "N1,示例镇卫生院,卫生院,示例县,3\n"
                   "N2,,医院,示例县,\n"
                   "N3,示例乡卫生院,卫生院,示例县,很多\n", encoding="utf-8")
    result = run(report_db, "import-units", str(csv), ok=False)
    assert result.exit_code == 1
    assert "1 unit(s) imported" in result.output
    assert "line 3: code, name and kind are required" in result.output
    assert "line 4: monthly_minimum must be a whole number" in result.output
    db = store.open_db(report_db, read_only=True)
    assert {u["name"]: u["monthly_minimum"] for u in store.list_units(db)}["示例镇卫生院"] == 3


def test_a_unit_list_saved_as_a_workbook_is_refused_saying_so(report_db, tmp_path):
    book = tmp_path / "units.csv"
    book.write_bytes(b"PK\x03\x04\x14\x00\x06\x00" + b"\x00" * 64)  # an .xlsx renamed
    result = run(report_db, "import-units", str(book), ok=False)
    assert result.exit_code == 1 and "Excel xlsx" in result.output and "Traceback" not in result.output
    # a GB18030, tab-separated list (a spreadsheet's text export) is read like the comma one
    tsv = tmp_path / "units.tsv"
    tsv.write_bytes("code\tname\tkind\tregion\tmonthly_minimum\nN9\t示例镇卫生院\t卫生院\t示例县\t3\n"
                    .encode("gb18030"))
    assert "1 unit(s) imported" in run(report_db, "import-units", str(tsv)).output


def test_sample_unit_list_imports_cleanly(tmp_path):
    from rumourwatch.config import REPO_ROOT

    path = tmp_path / "fresh.db"
    result = run(path, "import-units", str(REPO_ROOT / "data" / "units_sample.csv"))
    assert "9 unit(s) imported" in result.output


# --- cron delivery -------------------------------------------------------------------------

class _Hook(BaseHTTPRequestHandler):
    def do_POST(self):  # noqa: N802
        self.server.received.append(json.loads(self.rfile.read(int(self.headers["Content-Length"]))))
        body = b'{"errcode": 0, "errmsg": "ok"}'
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


@pytest.fixture
def webhook():
    server = HTTPServer(("127.0.0.1", 0), _Hook)
    server.received = []
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield server
    server.shutdown()
    server.server_close()


def _rules_file(tmp_path, hook_url, smtp_port):
    path = tmp_path / "rules.toml"
    path.write_text(f'[notify]\nwebhooks = [{{url = "{hook_url}", format = "markdown"}}]\n'
                    f'leader_emails = ["leader@example.org"]\nsmtp_host = "127.0.0.1"\nsmtp_port = {smtp_port}\n'
                    'timeout_seconds = 5\n', encoding="utf-8")
    return path


def test_send_posts_to_the_group_bot_and_mails_the_pdf_once(report_db, tmp_path, webhook, smtp_server):
    controller, inbox = smtp_server
    rules = _rules_file(tmp_path, f"http://127.0.0.1:{webhook.server_port}/send?key=t", controller.port)
    with rules.open("a", encoding="utf-8") as f:  # the report counts the watched keywords of these rules
        f.write('[watch]\nkeywords = ["一个示例关注词"]\n')
    out = tmp_path / "out"
    args = ["send", "--weekly", "--out-dir", str(out), "--rules", str(rules), "--formats", "pdf,html", *NOW_ARG]
    result = run(report_db, *args)
    assert "email leader@example.org: SMTP accepted" in result.output
    assert sorted(p.name for p in out.iterdir()) == ["2026-W47_周报.html", "2026-W47_周报.pdf"]
    assert "<td>一个示例关注词</td>" in (out / "2026-W47_周报.html").read_text(encoding="utf-8")
    [payload] = webhook.received
    assert week_opinion_line(report_db) in payload["markdown"]["content"]
    [(to, msg)] = inbox.messages
    assert to == ["leader@example.org"] and "2026-W47" in msg["Subject"]
    attachments = {a.get_filename(): a.get_content() for a in msg.iter_attachments()}
    assert attachments["2026-W47_周报.pdf"][:5] == b"%PDF-"
    # Cron runs it again: nothing is sent twice.
    again = run(report_db, *args)
    assert "already sent" in again.output
    assert len(webhook.received) == 1 and len(inbox.messages) == 1


def test_failed_delivery_exits_non_zero_and_is_retried_next_run(report_db, tmp_path, webhook):
    dead = free_port()  # nothing listens here
    rules = _rules_file(tmp_path, f"http://127.0.0.1:{dead}/send", free_port())
    args = ["send", "--weekly", "--out-dir", str(tmp_path / "out"), "--rules", str(rules), "--formats", "md",
            *NOW_ARG]
    first = run(report_db, *args, ok=False)
    assert first.exit_code == 1 and "not delivered everywhere" in first.output and "cannot reach" in first.output
    assert (tmp_path / "out" / "2026-W47_周报.md").exists()  # the folder copy is kept anyway
    db = store.open_db(report_db, read_only=True)
    assert {(e["channel"], e["status"]) for e in store.report_log_entries(db)} >= {("webhook", "failed"),
                                                                                 ("all", "failed")}
    # The channel comes back (here: the working hook instead): the next run delivers.
    fixed = _rules_file(tmp_path, f"http://127.0.0.1:{webhook.server_port}/send", free_port())
    rules.write_text(fixed.read_text(encoding="utf-8").replace("leader_emails = [\"leader@example.org\"]",
                                                                "leader_emails = []"), encoding="utf-8")
    run(report_db, *args)
    assert len(webhook.received) == 1


def test_send_needs_a_kind(report_db):
    result = run(report_db, "send", ok=False)
    assert result.exit_code == 2 and "--daily, --weekly, --monthly, --quarterly or --annual" in result.output


def test_monthly_help_names_no_developer_reference():
    result = CliRunner().invoke(cli, ["report", "monthly", "--help"])
    assert result.exit_code == 0 and "--minimum" in result.output
    assert "seed" not in result.output.lower()


def test_the_monthly_notice_is_mailed_in_word_too_by_default(report_db, tmp_path, smtp_server):
    """The office edits the 月通报 before issuing it: cron's default mail carries the Word file beside
    the PDF and the page."""
    from docx import Document

    controller, inbox = smtp_server
    rules = tmp_path / "rules.toml"
    rules.write_text(f'[notify]\nleader_emails = ["leader@example.org"]\nsmtp_host = "127.0.0.1"\n'
                     f'smtp_port = {controller.port}\ntimeout_seconds = 5\n', encoding="utf-8")
    run(report_db, "send", "--monthly", "--period", fx.MONTH, "--out-dir", str(tmp_path / "out"), "--rules", str(rules),
        *NOW_ARG)
    [(_, msg)] = inbox.messages
    parts = {a.get_filename(): a for a in msg.iter_attachments()}
    assert sorted(parts) == ["2026-11_月通报.docx", "2026-11_月通报.html", "2026-11_月通报.pdf"]
    word = parts["2026-11_月通报.docx"]
    assert word.get_content_type() == reports.DOCX_MIME
    doc = Document(io.BytesIO(word.get_content()))
    assert doc.paragraphs[0].text == "健康舆情与谣言处置月通报"
    assert any(fx.UNIT_COUNTY in c.text for t in doc.tables for r in t.rows for c in r.cells)


def test_the_monthly_notice_is_mailed_to_each_unit_it_ranks_with_the_units_own_standing_first(
        report_db, tmp_path, webhook, smtp_server):
    """月通报: a notice circulated to the units it ranks. Each unit with a mailbox gets it, its own
    figures and rank first (as the notice ranks it), the PDF attached; the Word file, the office's to
    edit, goes to the leaders only; a unit without a mailbox is not mailed; --no-units leaves them out."""
    controller, inbox = smtp_server
    db = store.open_db(report_db)
    for code, mail in (("U01", "county@example.org"), ("U03", "cdc@example.org")):
        db.execute("UPDATE units SET email = ? WHERE code = ?", [mail, code])
    db.conn.close()
    rules = _rules_file(tmp_path, f"http://127.0.0.1:{webhook.server_port}/send?key=t", controller.port)
    now = "2026-12-01T02:00:00Z"
    args = ["send", "--monthly", "--period", "2026-11", "--out-dir", str(tmp_path / "out"), "--rules", str(rules),
            "--formats", "pdf,docx", "--now", now]
    result = run(report_db, *args)
    assert f"email county@example.org（{fx.UNIT_COUNTY}）: SMTP accepted" in result.output
    mails = {tuple(to): msg for to, msg in inbox.messages}
    assert set(mails) == {("leader@example.org",), ("county@example.org",), ("cdc@example.org",)}
    notice = reports.compute_monthly(store.open_db(report_db, read_only=True), "2026-11",
                                     now=datetime(2026, 12, 1, 2, 0, tzinfo=UTC))
    rows = {r["unit"]: r for r in notice.section("units").data["rows"]}
    for address, unit in (("county@example.org", fx.UNIT_COUNTY), ("cdc@example.org", fx.UNIT_IDLE)):
        mail, row = mails[(address,)], rows[unit]
        assert mail["Subject"].endswith(f" · {unit}")
        first = mail.get_body(("plain",)).get_content().splitlines()[0]
        assert first.startswith(f"本单位（{unit}）本月合计 {row['counted']} 条")
        assert f"每月要求 {row['minimum']} 条，{'未达标' if row['below_minimum'] else '达标'}；" in first
        assert first.endswith(f"在 {len(rows)} 个单位中排第 {row['rank']} 名。")
        # the next month's health days, for the unit's science pieces (宣传节点)
        assert mail.get_body(("plain",)).get_content().splitlines()[1] == (
            "下月卫生健康纪念日：12 月 1 日 世界艾滋病日（传染病及地方病防控）。欢迎结合纪念日报送健康科普信息。")
        assert [a.get_filename() for a in mail.iter_attachments()] == ["2026-11_月通报.pdf"]
    assert rows[fx.UNIT_COUNTY]["rank"] != rows[fx.UNIT_IDLE]["rank"]
    assert sorted(a.get_filename() for a in mails[("leader@example.org",)].iter_attachments()) == [
        "2026-11_月通报.docx", "2026-11_月通报.pdf"]
    # --no-units: the leaders only
    inbox.messages.clear()
    run(report_db, *args, "--force", "--no-units")
    assert [to for to, _ in inbox.messages] == [["leader@example.org"]]
