"""`rumourwatch experts import/export/suggest`: row messages, round trip, the suggest JSON contract."""

from __future__ import annotations

import json
from datetime import datetime, timezone

from click.testing import CliRunner

from rumourwatch import alerts, store
from rumourwatch.cli import cli

from workflow_helpers import ROSTER_CSV, RUMOUR_TEXT, add_item, rules, write_csv


def test_import_prints_row_messages_and_fails_when_rows_were_skipped(db_path, tmp_path):
    bad = write_csv(tmp_path, ROSTER_CSV + "赵错误,医师,示例医院,感染科,乡级,示例县,2,,,1\n")
    out = CliRunner().invoke(cli, ["--db", str(db_path), "experts", "import", str(bad)])
    assert out.exit_code == 1
    assert "row 6: level must be one of 国家级, 省级, 市级, 县级 (got '乡级')" in out.output
    assert "4 expert(s) added, 0 updated, 1 row(s) rejected" in out.output


def test_import_gb18030_then_export_round_trip(db_path, tmp_path):
    path = tmp_path / "roster_gbk.csv"
    path.write_bytes(ROSTER_CSV.encode("gb18030"))
    runner = CliRunner()
    out = runner.invoke(cli, ["--db", str(db_path), "experts", "import", str(path)])
    assert out.exit_code == 0, out.output
    exported = tmp_path / "out.csv"
    out = runner.invoke(cli, ["--db", str(db_path), "experts", "export", "-o", str(exported)])
    assert out.exit_code == 0
    again = runner.invoke(cli, ["--db", str(db_path), "experts", "import", str(exported)])
    assert "0 expert(s) added, 4 updated, 0 row(s) rejected" in again.output


def test_import_missing_file_is_a_clear_error(db_path, tmp_path):
    out = CliRunner().invoke(cli, ["--db", str(db_path), "experts", "import", str(tmp_path / "none.csv")])
    assert out.exit_code != 0 and "does not exist" in out.output


def test_suggest_json_contract(db_path, tmp_path):
    runner = CliRunner()
    runner.invoke(cli, ["--db", str(db_path), "experts", "import", str(write_csv(tmp_path, ROSTER_CSV))])
    db = store.open_db(db_path)
    add_item(db, RUMOUR_TEXT, datetime.now(timezone.utc), reposts=600)
    [alert_id] = alerts.evaluate_alerts(db, datetime.now(timezone.utc), rules())
    db.conn.close()
    out = runner.invoke(cli, ["--db", str(db_path), "experts", "suggest", str(alert_id), "--json"])
    assert out.exit_code == 0, out.output
    ranked = json.loads(out.output)
    assert len(ranked) == 4
    assert all({"expert_id", "score", "reasons"} <= set(r) for r in ranked)
    assert [r["score"] for r in ranked] == sorted((r["score"] for r in ranked), reverse=True)
    assert ranked[0]["name"] == "李样本" and any("专业对口" in x for x in ranked[0]["reasons"])
    missing = runner.invoke(cli, ["--db", str(db_path), "experts", "suggest", "999"])
    assert missing.exit_code != 0 and "alert 999 does not exist" in missing.output
