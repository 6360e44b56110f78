"""The sealed audit log (rumourwatch.auditseal): what an administrator verifying it sees after
someone with the database file changed, removed or slipped in an entry; several processes writing
at once keep one chain; a broken key never stops the work."""

import os
import subprocess
import sys
import time

import pytest
from click.testing import CliRunner

from rumourwatch import auditseal, auth, selfcheck, store
from rumourwatch.cli import cli
from rumourwatch.config import REPO_ROOT, load_settings

PASSWORD = "Seal-test-password-9"


@pytest.fixture
def sealed(tmp_path, monkeypatch):
    key = auditseal.new_key_file(tmp_path / "audit.key")
    monkeypatch.setenv("RUMOURWATCH_AUDIT_KEY_FILE", str(key))
    db_path = tmp_path / "rw.db"
    db = store.open_db(db_path)
    for name in ("chief", "wang", "li", "zhao"):
        auth.create_user(db, name, PASSWORD, "admin" if name == "chief" else "monitor", "test")
    auth.login(db, "wang", PASSWORD)
    db.conn.close()
    return db_path, key


def _verify(db_path):
    return CliRunner().invoke(cli, ["--db", str(db_path), "audit", "--verify"])


def _tamper(db_path, *statements):
    """What someone holding the file can do: drop the append-only triggers and edit."""
    import sqlite3

    conn = sqlite3.connect(db_path)
    conn.executescript("DROP TRIGGER IF EXISTS audit_log_no_update; DROP TRIGGER IF EXISTS audit_log_no_delete;"
                       + ";".join(statements))
    conn.close()


def test_an_untouched_log_verifies_and_names_its_last_seal(sealed):
    db_path, _ = sealed
    result = _verify(db_path)
    assert result.exit_code == 0, result.output
    db = store.open_db(db_path, read_only=True)
    entries = db.execute("SELECT COUNT(*), MAX(id), (SELECT chain FROM audit_log ORDER BY id DESC LIMIT 1) "
                         "FROM audit_log").fetchone()
    assert entries[0] == 5  # four accounts and a login
    assert f"{entries[0]} entries, {entries[0]} sealed from #1" in result.output
    assert f"last sealed entry #{entries[1]}, seal {entries[2]}" in result.output
    assert "every seal verifies" in result.output


def test_a_changed_entry_a_removed_one_and_one_slipped_in_are_each_named(sealed):
    db_path, _ = sealed
    _tamper(db_path, "UPDATE audit_log SET actor = 'nobody' WHERE id = 2",
            "DELETE FROM audit_log WHERE id = 4",
            "INSERT INTO audit_log (at, actor, action) VALUES ('2026-12-01T00:00:00Z', 'chief', 'user.add')")
    result = _verify(db_path)
    assert result.exit_code == 1
    assert "entry #2: its seal does not verify" in result.output
    assert "entry #5: its seal does not verify" in result.output  # the one after the removed #4
    assert "ids jump from #3 to #5: entries removed" in result.output
    assert "entry #6: not sealed, after sealing began" in result.output
    assert "THE AUDIT LOG DOES NOT VERIFY: 2 seal(s) broken, 1 unsealed entr(ies), 1 gap(s)" in result.output
    # 系统自检 says so too, as an error naming the entries
    db = store.open_db(db_path)
    findings = selfcheck.check_audit_seal(db, os.environ["RUMOURWATCH_AUDIT_KEY_FILE"])
    assert [(f.key, f.level) for f in findings] == [("store.audit_broken", "error")]
    assert findings[0].params["ids"] == "#2, #5, #6"


def test_a_seal_cannot_be_made_without_the_key(sealed, tmp_path):
    """Recomputing a changed entry's seal with any other key does not verify."""
    db_path, _ = sealed
    db = store.open_db(db_path)
    row = db.execute("SELECT id, at, actor, action, target_type, target_id, details FROM audit_log WHERE id = 3"
                     ).fetchone()
    previous = db.execute("SELECT chain FROM audit_log WHERE id = 2").fetchone()[0]
    db.conn.close()
    forged = auditseal.seal(b"x" * 32, previous, [row[0], row[1], "nobody", *row[3:]])
    _tamper(db_path, f"UPDATE audit_log SET actor = 'nobody', chain = '{forged}' WHERE id = 3")
    assert "entry #3: its seal does not verify" in _verify(db_path).output


def test_processes_writing_at_once_keep_one_chain(sealed):
    """The dashboard, the worker and cron write entries side by side: the chain stays whole."""
    db_path, key = sealed
    script = ("import sys, time; from rumourwatch import store\n"
              "db = store.open_db(sys.argv[1])\n"
              "time.sleep(max(0.0, float(sys.argv[3]) - time.time()))\n"  # all start together

              "for k in range(150):\n"
              "    with store.transaction(db):\n"
              "        store.record_audit(db, sys.argv[2], 'rules.save', 'rules', k)\n"
              "    store.record_audit(db, sys.argv[2], 'backup', 'database', k)\n")  # outside a transaction too
    env = dict(os.environ, RUMOURWATCH_AUDIT_KEY_FILE=str(key))
    start = time.time() + 3
    procs = [subprocess.Popen([sys.executable, "-c", script, str(db_path), f"p{n}", str(start)], env=env,
                              cwd=REPO_ROOT) for n in range(3)]
    assert [p.wait(timeout=120) for p in procs] == [0, 0, 0]
    db = store.open_db(db_path, read_only=True)
    v = auditseal.verify(db, auditseal.read_key(key))
    assert v.entries == 5 + 3 * 300 and v.sealed == v.entries and v.intact, v.as_dict()


def test_without_a_key_the_log_is_unsealed_and_check_says_so(tmp_path, monkeypatch):
    monkeypatch.delenv("RUMOURWATCH_AUDIT_KEY_FILE", raising=False)
    db = store.open_db(tmp_path / "rw.db")
    auth.create_user(db, "chief", PASSWORD, "admin", "test")
    assert db.execute("SELECT chain FROM audit_log").fetchall() == [(None,)]
    assert [(f.key, f.level) for f in selfcheck.check_audit_seal(db, "")] == [("store.audit_unsealed", "warning")]
    result = CliRunner().invoke(cli, ["--db", str(tmp_path / "rw.db"), "audit", "--verify"])
    assert result.exit_code == 2 and "no audit key is set" in result.output


def test_a_key_that_cannot_be_read_never_stops_the_work(tmp_path, monkeypatch):
    bad = tmp_path / "audit.key"
    bad.write_text("not hex\n", encoding="ascii")
    monkeypatch.setenv("RUMOURWATCH_AUDIT_KEY_FILE", str(bad))
    db = store.open_db(tmp_path / "rw.db")
    auth.create_user(db, "chief", PASSWORD, "admin", "test")  # still done, its entry unsealed
    assert auth.login(db, "chief", PASSWORD)[1]["username"] == "chief"
    assert db.execute("SELECT COUNT(*) FROM audit_log WHERE chain IS NULL").fetchone()[0] == 2
    findings = selfcheck.check_audit_seal(db, str(bad))
    assert [(f.key, f.level) for f in findings] == [("store.audit_key_bad", "error")]
    assert "cannot be read as a hex key" in findings[0].params["problem"]
    (tmp_path / "short.key").write_text("ab" * 8, encoding="ascii")
    assert "at least 32" in selfcheck.check_audit_seal(db, str(tmp_path / "short.key"))[0].message
    missing = selfcheck.check_audit_seal(db, str(tmp_path / "none.key"))[0]
    assert missing.key == "store.audit_key_bad" and "audit-key" in missing.message


def test_audit_key_makes_a_private_key_once(tmp_path):
    path = tmp_path / "audit.key"
    result = CliRunner().invoke(cli, ["audit-key", str(path)])
    assert result.exit_code == 0, result.output
    assert oct(path.stat().st_mode & 0o777) == "0o600" and len(auditseal.read_key(path)) == 32
    before = path.read_bytes()
    again = CliRunner().invoke(cli, ["audit-key", str(path)])
    assert again.exit_code != 0 and "exists already" in again.output and path.read_bytes() == before


def test_entries_before_the_key_stay_unchecked_and_the_chain_starts_after_them(tmp_path, monkeypatch):
    monkeypatch.delenv("RUMOURWATCH_AUDIT_KEY_FILE", raising=False)
    db_path = tmp_path / "rw.db"
    db = store.open_db(db_path)
    auth.create_user(db, "chief", PASSWORD, "admin", "test")
    auth.create_user(db, "wang", PASSWORD, "monitor", "test")
    monkeypatch.setenv("RUMOURWATCH_AUDIT_KEY_FILE", str(auditseal.new_key_file(tmp_path / "k")))
    auth.create_user(db, "li", PASSWORD, "monitor", "test")
    db.conn.close()
    result = _verify(db_path)
    assert result.exit_code == 0
    assert "3 entries, 1 sealed from #3; 2 written before the key cannot be checked" in result.output


def test_the_audit_page_verifies_on_request(sealed, monkeypatch):
    from streamlit.testing.v1 import AppTest

    from dashboard.auth import login_for_test

    db_path, _ = sealed
    monkeypatch.setenv("RUMOURWATCH_DB_PATH", str(db_path))
    at = AppTest.from_file(str(REPO_ROOT / "dashboard" / "app_pages" / "audit.py"), default_timeout=60)
    login_for_test(at, "chief", str(db_path))
    at.run()
    assert not at.exception
    at.button(key="audit_verify").click().run()
    assert any("全部校验一致" in s.value for s in at.success), [s.value for s in at.success]
    _tamper(db_path, "UPDATE audit_log SET details = '{\"x\": 1}' WHERE id = 1")
    at.button(key="audit_verify").click().run()
    assert any("校验不一致" in e.value and "#1" in e.value for e in at.error), [e.value for e in at.error]


def test_settings_name_the_key_file(tmp_path, monkeypatch):
    monkeypatch.setenv("RUMOURWATCH_AUDIT_KEY_FILE", str(tmp_path / "k"))
    assert load_settings().audit_key_file == str(tmp_path / "k")
