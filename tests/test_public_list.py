"""专家库名单公布 (seed 000 §(一)1: "不断吸纳符合条件的专家进入健康科普专家库，并分批向社会公布名单"): the
pool's list for the public — no contact details, by level — as Word or CSV, the whole pool or a batch
of the experts who joined since the last list; publishing is audited."""

from __future__ import annotations

import io
from datetime import UTC, datetime, timedelta

from click.testing import CliRunner
from docx import Document
from workflow_helpers import ROSTER_CSV, run_page, seed_workflow_db

from rumourwatch import experts, publiclist, store
from rumourwatch.cli import cli

NOW = datetime(2026, 11, 23, 8, 0, tzinfo=UTC)
LATER = "name,title,institution,specialties,level,region,capacity,phone,email,active\n" \
        "周新增,主任医师,示例市中医医院,中医科;健康知识普及,市级,示例市,2,000-1111-2222,zhou@example.org,1\n"


def pool(tmp_path=None):
    db = store.open_db(tmp_path / "pool.db") if tmp_path else store.open_db(memory=True)
    experts.import_roster(db, ROSTER_CSV, "admin", NOW - timedelta(days=30))
    return db


def test_the_list_names_the_pool_by_level_without_contact_details():
    db = pool()
    store.set_expert_active(db, store.list_experts(db)[3]["id"], False, "2026-11-01T00:00:00Z")  # 钱测试 left
    rows = publiclist.public_list(db)
    assert [(r["name"], r["level"]) for r in rows] == [("张示例", "国家级"), ("李样本", "省级"), ("王虚构", "市级")]
    assert rows[0] == {"name": "张示例", "title": "主任医师", "institution": "示例国家健康科普中心",
                       "fields": "传染病及地方病防控、感染科", "level": "国家级", "region": "北京"}
    text = publiclist.list_csv(rows)
    assert text.lstrip("\ufeff").splitlines()[0] == "序号,姓名,职称,单位,专业领域,级别,地区"
    assert "@example.org" not in text and "000-0000" not in text


def test_a_batch_holds_the_experts_who_joined_since_the_last_list(tmp_path):
    db = pool(tmp_path)
    path = tmp_path / "第一批.docx"
    assert publiclist.write_public_list(db, path, actor="admin1", now=NOW) == 4
    doc = Document(io.BytesIO(path.read_bytes()))
    assert doc.paragraphs[0].text == "健康科普专家库专家名单" and "截至 2026 年 11 月 23 日" in doc.paragraphs[1].text
    cells = [c.text for t in doc.tables for r in t.rows for c in r.cells]
    assert {"张示例", "李样本", "王虚构", "钱测试"} <= set(cells) and not any("@" in c or "000-" in c for c in cells)
    assert [p.text for p in doc.paragraphs if p.text.endswith("位）")] == [
        "国家级专家（1 位）", "省级专家（1 位）", "市级专家（1 位）", "县级专家（1 位）"]
    assert publiclist.last_published(db) == {"at": "2026-11-23T08:00:00Z", "count": 4, "since": None}
    # an expert joins a week later: the next batch names them alone
    experts.import_roster(db, LATER, "admin", NOW + timedelta(days=7))
    assert publiclist.write_public_list(db, tmp_path / "第二批.csv", actor="admin1", now=NOW + timedelta(days=8),
                                        new=True) == 1
    second = (tmp_path / "第二批.csv").read_text(encoding="utf-8")
    assert "周新增" in second and "张示例" not in second and "zhou@" not in second
    assert publiclist.last_published(db)["since"] == "2026-11-23"
    # a day picked: those who joined on or after it
    assert [r["name"] for r in publiclist.public_list(db, since="2026-11-30")] == ["周新增"]
    published = [e for e in store.audit_entries(db, target_type="experts") if e["action"] == "experts.publish_list"]
    assert [(e["actor"], e["at"]) for e in published] == [("admin1", "2026-12-01T08:00:00Z"),
                                                          ("admin1", "2026-11-23T08:00:00Z")]


def test_the_command_writes_the_list_and_refuses_a_wrong_file_or_day(tmp_path):
    db = pool(tmp_path)
    db.conn.close()
    runner = CliRunner()
    base = ["--db", str(tmp_path / "pool.db"), "experts", "public-list"]
    result = runner.invoke(cli, [*base, "-o", str(tmp_path / "名单.docx")])
    assert result.exit_code == 0, result.output
    assert "wrote 4 expert(s)" in result.output and (tmp_path / "名单.docx").stat().st_size > 0
    refused = runner.invoke(cli, [*base, "-o", str(tmp_path / "名单.pdf")])
    assert refused.exit_code == 2 and ".docx or .csv" in refused.output
    refused = runner.invoke(cli, [*base, "-o", str(tmp_path / "a.csv"), "--since", "2026-13-01"])
    assert refused.exit_code == 2 and "is not a day" in refused.output
    refused = runner.invoke(cli, [*base, "-o", str(tmp_path / "a.csv"), "--since", "2026-11-01", "--new"])
    assert refused.exit_code == 2 and "not both" in refused.output
    result = runner.invoke(cli, [*base, "-o", str(tmp_path / "新增.csv"), "--new"])
    assert result.exit_code == 0 and "wrote 0 expert(s)" in result.output  # nobody joined since


def test_the_pool_page_shows_the_list_to_publish_and_its_batches(tmp_path, monkeypatch):
    path = tmp_path / "page.db"
    seed_workflow_db(path, datetime.now(UTC).replace(microsecond=0))
    monkeypatch.setenv("RUMOURWATCH_DB_PATH", str(path))
    at = run_page("expert_pool.py", "admin1", path)
    assert not at.exception, at.exception
    shown = next(df.value for df in at.dataframe if "序号" in df.value.columns)
    assert list(shown["姓名"])[:1] == ["张示例"] and "电话" not in shown.columns and "邮箱" not in shown.columns
    assert at.radio(key="plist_scope").options == ["全部在库专家", "自某日起新增入库"]  # nothing published yet
    db = store.open_db(path)
    publiclist.record_published(db, count=len(shown), since=None, actor="admin1", now=datetime.now(UTC), fmt="docx")
    db.conn.close()
    at = run_page("expert_pool.py", "admin1", path)
    assert any(c.value.startswith("上次公布：") for c in at.caption)
    at.radio(key="plist_scope").set_value("new").run()
    assert not any("序号" in df.value.columns for df in at.dataframe)
    assert any(i.value == "没有符合条件的专家。" for i in at.info)
