"""`rumourwatch users ...`, `backup` and `restore` through the CLI."""

from __future__ import annotations

import pytest
from click.testing import CliRunner

from rumourwatch import auth, store
from rumourwatch.cli import cli


@pytest.fixture
def run(tmp_path, monkeypatch):
    monkeypatch.setattr(auth, "SCRYPT_N", 2 ** 10)
    db_path = str(tmp_path / "cli.db")

    def invoke(*args, input=None):
        return CliRunner().invoke(cli, ["--db", db_path, *args], input=input)

    invoke.db_path = db_path
    return invoke


def test_first_admin_from_stdin_then_list(run):
    result = run("users", "add", "alice", "--role", "admin", "--password-stdin", input="first admin pw\n")
    assert result.exit_code == 0, result.output
    assert result.output == "added user alice (role admin)\n"
    run("users", "add", "wang", "--role", "expert", "--expert-id", "12", "--name", "王医生",
        "--password-stdin", input="expert pass 1\n")
    listing = run("users", "list")
    lines = listing.output.splitlines()
    assert lines[0].split() == ["username", "role", "state", "two-step", "expert", "last", "login", "unit"]
    assert lines[1].split() == ["alice", "admin", "active", "off", "-"]
    assert lines[2].split() == ["wang", "expert", "active", "off", "12", "-"]
    db = store.open_db(run.db_path)
    # an account with two-step login says so; its secret is never printed, nor in the JSON
    from datetime import UTC, datetime

    from rumourwatch import totp

    secret = auth.begin_two_step(db, "alice")
    auth.confirm_two_step(db, "alice", totp.code(secret, datetime.now(UTC)))
    # with the recovery codes left (ten made when it was switched on), never the codes or their hashes
    assert run("users", "list").output.splitlines()[1].split()[:5] == ["alice", "admin", "active", "on", "(10)"]
    as_json = run("users", "list", "--json").output
    assert secret not in as_json and '"totp_enabled_at"' in as_json and "totp_secret" not in as_json
    assert '"recovery_codes_left": 10' in as_json and "totp_recovery" not in as_json and '"hash"' not in as_json
    assert auth.authenticate(db, "alice", "first admin pw")["role"] == "admin"
    assert store.audit_entries(db, target_type="user")[-1]["action"] == "user.add"


def test_password_prompt_asks_twice_and_hides_input(run):
    result = run("users", "add", "bob", "--role", "monitor", input="monitor pw 1\nmonitor pw 1\n")
    assert result.exit_code == 0, result.output
    assert "monitor pw 1" not in result.output
    assert "Repeat for confirmation" in result.output


def test_bad_role_and_weak_password_and_duplicate_give_clear_errors(run):
    result = run("users", "add", "bob", "--role", "superuser", "--password-stdin", input="whatever pw\n")
    assert result.exit_code == 2 and "'superuser' is not one of" in result.output
    result = run("users", "add", "bob", "--role", "monitor", "--password-stdin", input="short\n")
    assert result.exit_code == 1
    assert result.output == "Error: password must have at least 8 characters\n"
    run("users", "add", "bob", "--role", "monitor", "--password-stdin", input="long enough\n")
    result = run("users", "add", "BOB", "--role", "monitor", "--password-stdin", input="long enough\n")
    assert result.output == "Error: user 'BOB' already exists\n"


def test_disable_enable_set_role_unlock(run):
    run("users", "add", "alice", "--role", "admin", "--password-stdin", input="first admin pw\n")
    run("users", "add", "bob", "--role", "monitor", "--password-stdin", input="monitor pw 1\n")
    assert run("users", "disable", "bob").output == "disabled user bob\n"
    assert "bob" in run("users", "list").output and "disabled" in run("users", "list").output
    assert run("users", "disable", "alice").output == (
        "Error: 'alice' is the last active admin; add another admin first\n")
    assert run("users", "disable", "nobody").output == (
        "Error: no user named 'nobody'; see `rumourwatch users list`\n")
    assert run("users", "enable", "bob").exit_code == 0
    assert run("users", "set-role", "bob", "leader").output == "user bob now has role leader\n"
    assert run("users", "unlock", "bob").output == "unlocked user bob\n"
    result = run("users", "set-password", "bob", "--password-stdin", input="new monitor pw\n")
    assert result.output == "password of bob changed\n"
    db = store.open_db(run.db_path)
    assert auth.authenticate(db, "bob", "new monitor pw")["role"] == "leader"


def test_backup_and_restore_commands(run, tmp_path):
    run("users", "add", "alice", "--role", "admin", "--password-stdin", input="first admin pw\n")
    target = tmp_path / "backup.db"
    result = run("backup", str(target))
    assert result.exit_code == 0 and result.output.startswith(f"backed up {run.db_path} to {target}")
    run("users", "add", "late", "--role", "monitor", "--password-stdin", input="monitor pw 1\n")
    result = run("restore", str(target), "--yes")
    assert result.exit_code == 0, result.output
    assert result.output == f"restored {run.db_path} from {target}: 0 items\n"
    names = [u["username"] for u in auth.list_users(store.open_db(run.db_path))]
    assert names == ["alice"]


def test_restore_asks_for_confirmation_and_refuses_foreign_files(run, tmp_path):
    run("users", "add", "alice", "--role", "admin", "--password-stdin", input="first admin pw\n")
    run("backup", str(tmp_path / "b.db"))
    result = run("restore", str(tmp_path / "b.db"), input="n\n")
    assert result.exit_code == 1 and "Aborted" in result.output
    foreign = tmp_path / "notes.txt"
    foreign.write_text("not a database")
    result = run("restore", str(foreign), "--yes")
    assert result.exit_code == 1
    assert result.output == f"Error: {foreign} is not a rumourwatch backup: it is not an SQLite database file\n"
    result = run("backup", str(tmp_path / "b.db"))
    assert "already exists" in result.output and result.exit_code == 1


def test_every_command_help_ends_with_an_example(run):
    for args in (["users"], ["users", "add"], ["users", "list"], ["users", "disable"], ["users", "enable"],
                 ["users", "set-role"], ["users", "set-password"], ["users", "unlock"], ["backup"], ["restore"]):
        result = CliRunner().invoke(cli, [*args, "--help"])
        assert result.exit_code == 0
        assert "Example:" in result.output, args
