"""The demo's set-up: accounts the README promises, the sample roster and units, a replay that
starts in the past so the dashboard opens with history."""

import os
import signal
import subprocess
import sys
import time
from datetime import datetime, timezone
from pathlib import Path

from conftest import DATA_DIR
from rumourwatch import auth, demo, store
from rumourwatch.config import REPO_ROOT, load_settings
from rumourwatch.sources import source_from_spec


def test_every_role_can_log_in_with_the_documented_password(tmp_path):
    db_path = tmp_path / "demo.db"
    first = demo.prepare(db_path, echo=lambda m: None)
    assert sorted(first["users_created"]) == sorted(demo.DEMO_ROLES)
    db = store.open_db(db_path)
    for role in demo.DEMO_ROLES:
        _, user = auth.login(db, role, demo.DEMO_PASSWORD)
        assert user["role"] == role
    expert_user = store.get_user(db, "expert")
    assert expert_user["expert_id"] == store.list_experts(db, active_only=True)[0]["id"]
    assert len(store.list_experts(db)) >= 10 and store.list_units(db)
    # A second start keeps the accounts (and any password changed in the app) and adds no copies.
    auth.set_password(db, "monitor", "a-new-secret-pass", "admin")
    again = demo.prepare(db_path, echo=lambda m: None)
    assert again["users_created"] == []
    assert auth.login(db, "monitor", "a-new-secret-pass")[1]["role"] == "monitor"
    assert len(store.list_experts(db)) == first["experts"]


def test_the_replay_starts_back_in_time_and_skips_what_the_models_saw(tmp_path):
    now = datetime(2026, 11, 30, 8, 0, tzinfo=timezone.utc)
    spec = demo.replay_spec(60, 2.0, now)
    assert spec == "replay:speed=60,start=2026-11-30T06:00:00Z"
    settings = load_settings(data_dir=str(DATA_DIR))
    source = source_from_spec(spec, settings, holdout={"checked": "2020-03-01T00:00:00Z"})
    assert source.start == datetime(2026, 11, 30, 6, 0, tzinfo=timezone.utc)
    assert source.speed == 60 and "checked" in source.holdout


def test_the_demo_rules_are_a_copy_beside_the_database(tmp_path):
    from rumourwatch import alerts

    path = demo.rules_file(tmp_path / "demo.db")
    # the default rules with a few watched keywords to show, the comments kept for whoever reads it
    assert alerts.load_rules(path) == dict(alerts.load_rules(demo.RULES),
                                           watch=dict(alerts.load_rules(demo.RULES)["watch"],
                                                      keywords=["口罩", "板蓝根|双黄连", "疫苗 -宠物"]))
    assert path.read_text(encoding="utf-8").count("\n#") == demo.RULES.read_text(encoding="utf-8").count("\n#")
    path.write_text(path.read_text(encoding="utf-8") + "\n# edited in the demo\n", encoding="utf-8")
    assert "edited in the demo" in demo.rules_file(tmp_path / "demo.db").read_text(encoding="utf-8")
    assert "edited in the demo" not in demo.RULES.read_text(encoding="utf-8")


_DRIVER = """
import os, subprocess, sys
from pathlib import Path
from rumourwatch.demo import run_with_children
out = Path(sys.argv[1])
worker = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(120)"])
(out / "worker.tmp").write_text(str(worker.pid))
os.replace(out / "worker.tmp", out / "worker")  # whole, or not there: the test reads it at once
run_with_children([sys.executable, "-c", "import os, time, pathlib; "
                   f"pathlib.Path({str(out / 'dashboard.tmp')!r}).write_text(str(os.getpid())); "
                   f"os.replace({str(out / 'dashboard.tmp')!r}, {str(out / 'dashboard')!r}); time.sleep(120)"],
                  [worker])
"""


def _alive(pid: int) -> bool:
    """Running, not a zombie. A process reaped between two looks is not alive (its /proc entry goes)."""
    try:
        os.kill(pid, 0)
        status = Path(f"/proc/{pid}/status").read_text()
    except (ProcessLookupError, FileNotFoundError):
        return False
    return "zombie" not in status.lower()


def test_stopping_the_demo_with_sigterm_stops_its_worker_and_dashboard(tmp_path):
    """`kill <demo pid>` (a service manager's stop) used to end the demo process alone: the worker
    and the dashboard it had started kept running and holding the port."""
    driver = subprocess.Popen([sys.executable, "-c", _DRIVER, str(tmp_path)], cwd=REPO_ROOT)
    deadline = time.monotonic() + 30
    while not ((tmp_path / "worker").exists() and (tmp_path / "dashboard").exists()):
        assert time.monotonic() < deadline and driver.poll() is None, "the demo's children did not start"
        time.sleep(0.1)
    children = [int((tmp_path / name).read_text()) for name in ("worker", "dashboard")]
    assert all(_alive(pid) for pid in children)

    driver.send_signal(signal.SIGTERM)
    assert driver.wait(timeout=30) == 128 + signal.SIGTERM
    deadline = time.monotonic() + 30
    while any(_alive(pid) for pid in children) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not any(_alive(pid) for pid in children), "a child of the demo outlived it"


def _serve(tmp_path, db_path: Path, port: int, log) -> subprocess.Popen:
    env = {k: v for k, v in os.environ.items() if k != "MALLOC_ARENA_MAX"}
    env["RUMOURWATCH_MODELS_DIR"] = str(tmp_path / "no-models")
    return subprocess.Popen([sys.executable, "-m", "rumourwatch.cli", "--db", str(db_path), "dashboard",
                             "--port", str(port), "--address", "127.0.0.1"],
                            cwd=REPO_ROOT, env=env, stdout=log, stderr=subprocess.STDOUT, text=True)


def test_the_dashboard_command_serves_the_store_all_day_and_stops_with_sigterm(tmp_path):
    """A deployment's dashboard (`rumourwatch dashboard`, its worker run apart): the store given
    with --db, at most two malloc arenas (one page refreshing every 5 s grew the server to 1.4 GB in
    90 s without), no file watcher; a service manager's stop ends the server too."""
    from local_servers import _wait_healthy, free_port, only_child

    db_path = tmp_path / "rw.db"
    store.open_db(db_path).conn.close()
    port = free_port()
    with open(tmp_path / "dashboard.log", "w+", encoding="utf-8") as log:
        proc = _serve(tmp_path, db_path, port, log)
        try:
            _wait_healthy(proc, f"http://127.0.0.1:{port}", log)
            server = only_child(proc.pid)
            environ = dict(line.split("=", 1) for line in
                           Path(f"/proc/{server}/environ").read_text().split("\0") if "=" in line)
            assert environ["MALLOC_ARENA_MAX"] == "2"
            assert environ["RUMOURWATCH_DB_PATH"] == str(db_path.resolve())
            command = Path(f"/proc/{server}/cmdline").read_text().split("\0")
            assert command[command.index("--server.fileWatcherType") + 1] == "none"
            proc.send_signal(signal.SIGTERM)
            proc.wait(timeout=30)
            deadline = time.monotonic() + 30
            while _alive(server) and time.monotonic() < deadline:
                time.sleep(0.1)
            assert not _alive(server), "the Streamlit server outlived `rumourwatch dashboard`"
            log.seek(0)
            assert f"on {db_path.resolve()}" in log.read()
        finally:
            if proc.poll() is None:
                proc.kill()


def test_the_dashboard_command_warns_when_the_store_is_not_there_yet_and_keeps_an_operators_arena_limit(tmp_path):
    from local_servers import _wait_healthy, free_port

    from rumourwatch.cli import dashboard_command

    _, env = dashboard_command(8501, dict(os.environ, MALLOC_ARENA_MAX="4"))
    assert env["MALLOC_ARENA_MAX"] == "4"  # the operator's setting wins
    missing = tmp_path / "later.db"
    port = free_port()
    with open(tmp_path / "dashboard.log", "w+", encoding="utf-8") as log:
        proc = _serve(tmp_path, missing, port, log)
        try:
            _wait_healthy(proc, f"http://127.0.0.1:{port}", log)  # it serves: the pages say the store is missing
            proc.send_signal(signal.SIGTERM)
            proc.wait(timeout=30)
            log.seek(0)
            warning = log.read()
            assert f"{missing.resolve()} does not exist yet" in warning and "rumourwatch watch" in warning
            assert not missing.exists()  # the dashboard opens the store read-only: it never creates it
        finally:
            if proc.poll() is None:
                proc.kill()
