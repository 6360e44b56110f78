"""Retraining on verdicts from the dashboard, end to end: a real background job trains a candidate
(the quick recipe) beside the models in use, the analyst puts it in use on the 模型与评估 page, a
running worker switches to it at its next poll and re-scores, and one step puts the old models back.
Also what goes wrong: a second start while one runs, too few verdicts, a job that dies, and a
bundle that would be refused."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import dashboard_fixtures as fx
import pytest
from streamlit.testing.v1 import AppTest
from workflow_helpers import many_verdicts

from dashboard.auth import login_for_test
from rumourwatch import auth, labels, retrain, store
from rumourwatch.nlp.bundle import ARTIFACT_NAME, MANIFEST_NAME, ModelBundle
from rumourwatch.worker import Worker
from tests.conftest import DATA_DIR

JOB_TIMEOUT_S = 600
T0 = datetime(2026, 10, 1, 8, 0, tzinfo=UTC)


def _judged_store(path: Path, n: int) -> None:
    """n fictional items judged alternately rumour / not a rumour (from 2026-10-01), and an analyst."""
    many_verdicts(path, n)
    db = store.open_db(path)
    auth.create_user(db, fx.ANALYST, fx.ANALYST_PASSWORD, "analyst", actor="test")
    db.conn.close()


def _placeholder_bundle(models_dir: Path) -> str:
    """A saved bundle with no trained components: the 'models in use' the candidate replaces."""
    bundle = ModelBundle({})
    bundle.save(models_dir, train_fraction=1.0, training_counts={"ced": {"items": 0, "rumours": 0}})
    return bundle.version


def _wait(models_dir: Path, timeout: float = JOB_TIMEOUT_S) -> dict:
    deadline = time.monotonic() + timeout
    while True:
        state = retrain.status(models_dir)
        if state["state"] != "running":
            return state
        assert time.monotonic() < deadline, f"retraining still running after {timeout} s:\n{state['log']}"
        time.sleep(1)


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    """A store with 12 verdicts, models in use, and a candidate trained by the real background job."""
    tmp = tmp_path_factory.mktemp("retrain")
    db_path, models_dir = tmp / "rw.db", tmp / "models"
    _judged_store(db_path, 12)
    db = store.open_db(db_path)  # and two health / topic labels an analyst made in the store
    for item_id, related, topic in ((1, False, None), (2, True, "糖尿病防治")):
        labels.record_label(db, item_id, related, topic, "analyst1", T0 + timedelta(days=2))
    db.conn.close()
    in_use = _placeholder_bundle(models_dir)
    old_env = os.environ.get("RUMOURWATCH_DATA_DIR")
    os.environ["RUMOURWATCH_DATA_DIR"] = str(DATA_DIR)  # the job inherits the environment
    try:
        job = retrain.start(models_dir, db_path, "analyst1", verdicts=12, quick=True)
        running = retrain.status(models_dir)
        state = _wait(models_dir)
    finally:
        if old_env is None:
            os.environ.pop("RUMOURWATCH_DATA_DIR", None)
        else:
            os.environ["RUMOURWATCH_DATA_DIR"] = old_env
    # keep a pristine copy of the ready candidate for the page test, which promotes its own copy
    shutil.copytree(retrain.candidate_dir(models_dir), tmp / "ready-candidate")
    return {"db": db_path, "models": models_dir, "in_use": in_use, "job": job, "running": running,
            "state": state, "ready_copy": tmp / "ready-candidate", "tmp": tmp}


def test_the_job_trains_a_candidate_on_the_verdicts_beside_the_models_in_use(trained):
    assert trained["running"]["state"] == "running"  # the page sees the job while it runs
    state = trained["state"]
    assert state["state"] == "ready", (state["error"], state["log"])
    manifest = state["manifest"]
    assert manifest["training_counts"]["verdicts"] == {"items": 12, "rumours": 6}
    assert manifest["store_labels"] == 2  # the relevance model learnt the analysts' labels too
    assert manifest["train_fraction"] == 1.0  # as the models in use
    assert "verdicts: 12 items (6 rumours)" in (retrain.candidate_dir(trained["models"]) / retrain.LOG_FILE).read_text()
    job = trained["job"]
    assert (job["actor"], job["verdicts"], job["replaces"]) == ("analyst1", 12, trained["in_use"])
    assert job["process_started"]  # so a later process with the same pid is not taken for the job
    # the models in use were not touched
    in_use = json.loads((trained["models"] / MANIFEST_NAME).read_text(encoding="utf-8"))
    assert in_use["version"] == trained["in_use"]


def test_a_worker_switches_to_the_promoted_models_and_back_after_a_rollback(trained):
    models_dir, db_path = trained["models"], trained["db"]
    db = store.open_db(db_path)
    worker = Worker(db, [], ModelBundle.load(models_dir), clock=lambda: T0 + timedelta(days=3),
                    models_dir=models_dir)
    first = worker.poll_once()
    assert first.model is None and first.scored == 12  # scored with the models in use
    assert {r[0] for r in db.execute("SELECT DISTINCT model_version FROM items")} == {trained["in_use"]}

    candidate = trained["state"]["manifest"]["version"]
    done = retrain.promote(models_dir, "analyst1")
    assert done == {"version": candidate, "replaced": trained["in_use"]}
    assert retrain.status(models_dir)["state"] == "promoted"
    assert json.loads((retrain.previous_dir(models_dir) / MANIFEST_NAME).read_text())["version"] == trained["in_use"]

    stats = worker.poll_once()
    assert stats.model == candidate and stats.scored == 12 and f"now scoring with models {candidate}" in str(stats)
    rows = db.execute("SELECT model_version, rumour_probability FROM items").fetchall()
    assert {r[0] for r in rows} == {candidate} and all(r[1] is not None for r in rows)
    assert candidate in {v["version"] for v in store.list_model_versions(db)}
    assert worker.poll_once().model is None  # no change, no reload

    back = retrain.rollback(models_dir)
    assert back == {"version": trained["in_use"], "replaced": candidate}
    stats = worker.poll_once()
    assert stats.model == trained["in_use"]
    # and the rollback is itself undoable: the candidate now waits in previous/
    assert json.loads((retrain.previous_dir(models_dir) / MANIFEST_NAME).read_text())["version"] == candidate
    db.conn.close()


def test_a_worker_keeps_its_models_when_the_new_ones_would_be_refused(trained, tmp_path):
    models_dir = tmp_path / "models"
    version = _placeholder_bundle(models_dir)
    db = store.open_db(tmp_path / "w.db")
    worker = Worker(db, [], ModelBundle.load(models_dir), models_dir=models_dir)
    (models_dir / ARTIFACT_NAME).write_bytes(b"not the artifact the manifest names")
    manifest = json.loads((models_dir / MANIFEST_NAME).read_text(encoding="utf-8"))
    (models_dir / MANIFEST_NAME).write_text(json.dumps(dict(manifest, version="tampered")), encoding="utf-8")
    stats = worker.poll_once()
    assert worker.bundle.version == version and stats.model is None
    assert any("were not loaded" in w and "does not match its manifest" in w for w in stats.warnings)
    assert not worker.poll_once().warnings  # said once per change, not every poll
    db.conn.close()


def test_retraining_refuses_to_start_twice_or_on_too_few_verdicts_and_reports_a_dead_job(tmp_path):
    models_dir = tmp_path / "models"
    _placeholder_bundle(models_dir)
    db_path = tmp_path / "rw.db"
    _judged_store(db_path, 3)
    with pytest.raises(retrain.RetrainError, match="only 3 items .* at least 10"):
        retrain.start(models_dir, db_path, "analyst1", verdicts=3)
    # a job that is running: another start is refused and says who started the first
    sleeper = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    cand = retrain.candidate_dir(models_dir)
    cand.mkdir()
    (cand / retrain.JOB_FILE).write_text(json.dumps({"actor": "analyst2", "started_at": "2026-11-30T08:00:00Z",
                                                     "pid": sleeper.pid}), encoding="utf-8")
    try:
        assert retrain.status(models_dir)["state"] == "running"
        with pytest.raises(retrain.RetrainError, match="analyst2 .* still running"):
            retrain.start(models_dir, db_path, "analyst1", verdicts=12)
        with pytest.raises(retrain.RetrainError, match="still training"):
            retrain.discard(models_dir)
        # after a reboot another process may hold the job's pid: told apart by its start time
        job = json.loads((cand / retrain.JOB_FILE).read_text(encoding="utf-8"))
        (cand / retrain.JOB_FILE).write_text(json.dumps(dict(job, process_started="1")), encoding="utf-8")
        assert retrain.status(models_dir)["state"] == "failed"
        (cand / retrain.JOB_FILE).write_text(json.dumps(dict(job, process_started=retrain._started(sleeper.pid))),
                                             encoding="utf-8")
        assert retrain.status(models_dir)["state"] == "running"
    finally:
        sleeper.kill()
        sleeper.wait()
    # the process died without writing its result: the page must not show it running for ever
    state = retrain.status(models_dir)
    assert state["state"] == "failed" and "ended without a result" in state["error"]
    with pytest.raises(retrain.RetrainError, match="no candidate ready"):
        retrain.promote(models_dir, "analyst1")
    retrain.discard(models_dir)
    assert retrain.status(models_dir)["state"] == "none"


@pytest.mark.parametrize("result,reason", [
    ({"ok": False, "error": "MemoryError: ", "error_type": "MemoryError"},
     "服务器内存不足，训练中断。请在服务器空闲时重新开始训练，或请管理员增加内存。"),
    # a result written before error_type was kept: the kind is read from the error's "Type: …"
    ({"ok": False, "error": "DataBundleError: data bundle file /data/ced/ced.jsonl.gz is missing"},
     "训练所需的数据包文件缺失或已损坏。请管理员按下方技术细节检查数据包（RUMOURWATCH_DATA_DIR）后重新开始训练。"),
    ({"ok": False, "error": "ValueError: Found array with 0 sample(s)", "error_type": "ValueError"},
     "训练过程中出错，未生成候选模型。请重新开始训练；如再次失败，请把下方技术细节和训练日志交给管理员。"),
], ids=["memory", "bundle-before-error-type", "other"])
def test_a_failed_job_says_in_chinese_what_happened_with_the_error_and_log_kept_as_such(tmp_path, monkeypatch,
                                                                                       result, reason):
    models_dir = tmp_path / "models"
    _placeholder_bundle(models_dir)
    db_path = tmp_path / "rw.db"
    _judged_store(db_path, 12)
    cand = retrain.candidate_dir(models_dir)
    cand.mkdir()
    (cand / retrain.JOB_FILE).write_text(json.dumps({"actor": "analyst2", "started_at": "2026-11-30T08:00:00Z",
                                                     "pid": 0}), encoding="utf-8")
    (cand / retrain.RESULT_FILE).write_text(json.dumps(dict(result, finished_at="2026-11-30T08:03:00Z")),
                                            encoding="utf-8")
    (cand / retrain.LOG_FILE).write_text("training rumour model on 2,400 items\nTraceback (most recent call last):\n",
                                         encoding="utf-8")
    at = _page(models_dir, db_path, monkeypatch)
    assert [e.value for e in at.error] == [f"候选模型训练失败：{reason}"]
    detail, log = at.expander
    assert (detail.label, detail.code[0].value) == ("技术细节（英文原文，供管理员排查）", result["error"])
    assert log.label == f"训练日志（程序原始输出，英文；最后 {retrain.LOG_TAIL_LINES} 行）"
    assert log.code[0].value.startswith("training rumour model on 2,400 items")
    assert any(b.label == "开始训练候选模型" and not b.disabled for b in at.button)  # what the message says to do


def _page(models_dir: Path, db_path: Path, monkeypatch) -> AppTest:
    monkeypatch.setenv("RUMOURWATCH_DB_PATH", str(db_path))
    monkeypatch.setenv("RUMOURWATCH_MODELS_DIR", str(models_dir))
    monkeypatch.setenv("RUMOURWATCH_CARDS_DIR", str(models_dir / "no-cards"))
    at = AppTest.from_file(str(fx.ROOT / "dashboard" / "app_pages" / "models.py"), default_timeout=60)
    login_for_test(at, fx.ANALYST)
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def test_analyst_compares_the_candidate_and_puts_it_in_use_on_the_page(trained, tmp_path, monkeypatch):
    models_dir = tmp_path / "models"
    in_use = _placeholder_bundle(models_dir)
    shutil.copytree(trained["ready_copy"], retrain.candidate_dir(models_dir))
    db_path = tmp_path / "rw.db"
    shutil.copyfile(trained["db"], db_path)
    candidate = trained["state"]["manifest"]["version"]

    at = _page(models_dir, db_path, monkeypatch)
    assert any(candidate in s.value.replace("\\", "") and "已训练完成" in s.value for s in at.success)
    table = next(df.value for df in at.dataframe if "候选模型" in df.value.columns)
    rows = {r["项目"]: (r["当前模型"], r["候选模型"]) for r in table.to_dict("records")}
    assert rows["版本"] == (in_use, candidate)
    assert rows["训练条目：人工核定"] == ("0", "12")
    assert rows["健康相关 / 主题模型：本库人工标注"] == ("0", "2")

    next(b for b in at.button if b.label == "启用候选模型").click().run()
    assert not at.exception, [e.value for e in at.exception]
    assert any(f"已启用模型 {candidate}" in s.value.replace("\\", "") for s in at.success)
    assert json.loads((models_dir / MANIFEST_NAME).read_text())["version"] == candidate
    db = store.open_db(db_path, read_only=True)
    [entry] = [e for e in store.audit_entries(db, limit=20) if e["action"] == "model.promote"]
    db.conn.close()
    assert entry["actor"] == fx.ANALYST and json.loads(entry["details"])["replaced"] == in_use
    # the same run redraws the whole page: the model in use is the candidate, its offer is gone,
    # and the way back is there at once
    assert any(candidate in c.value.replace("\\", "") for c in at.caption)  # 当前模型: its version
    assert not [b for b in at.button if b.label == "启用候选模型"]
    back = next(b for b in at.button if b.label.startswith("换回模型"))
    assert in_use in back.label

    back.click().run()
    assert not at.exception, [e.value for e in at.exception]
    assert json.loads((models_dir / MANIFEST_NAME).read_text())["version"] == in_use
    assert any(f"已恢复模型 {in_use}" in s.value.replace("\\", "") for s in at.success)
    # the candidate's record says it was put in use and then taken back, by whom
    [note] = [i.value.replace("\\", "") for i in at.info if "曾于" in i.value]
    assert candidate in note and f"由 {fx.ANALYST} 换回模型 {in_use}" in note
    assert not [s for s in at.success if "已由" in s.value and "启用。" in s.value and "曾于" not in s.value]
    assert candidate in next(b for b in at.button if b.label.startswith("换回模型")).label


def test_the_start_button_waits_for_enough_verdicts(tmp_path, monkeypatch):
    models_dir = tmp_path / "models"
    _placeholder_bundle(models_dir)
    db_path = tmp_path / "rw.db"
    _judged_store(db_path, 3)
    at = _page(models_dir, db_path, monkeypatch)
    button = next(b for b in at.button if b.label == "开始训练候选模型")
    assert button.disabled
    assert any("至少需要 10 条" in c.value and "目前 3 条" in c.value for c in at.caption)
    assert not retrain.candidate_dir(models_dir).exists()


def test_the_count_of_judged_items_is_the_one_training_uses_copies_of_a_judged_claim_included(tmp_path, monkeypatch):
    from datetime import UTC, datetime

    from rumourwatch import ingest

    models_dir = tmp_path / "models"
    _placeholder_bundle(models_dir)
    db_path = tmp_path / "rw.db"
    _judged_store(db_path, 3)  # item 1 of the three was confirmed a rumour
    db = store.open_db(db_path)
    [(text,)] = db.execute("SELECT i.text FROM items i JOIN verdicts v ON v.item_id = i.id WHERE v.verdict = 'rumour'")
    at = datetime(2026, 10, 5, 8, 0, tzinfo=UTC)
    for k in range(8):  # the same rumour posted again by other accounts: one cluster
        with store.transaction(db):
            ingest.ingest_item(db, {"id": f"copy{k}", "text": text, "date": at.isoformat(), "account": f"转发号{k}"},
                               "test", at)
    db.conn.close()
    at = _page(models_dir, db_path, monkeypatch)
    assert any("可用于训练的条目：11 条（确认谣言 9 条" in c.value for c in at.caption)
    assert not next(b for b in at.button if b.label == "开始训练候选模型").disabled
