"""The demo's set-up: accounts the README promises, the sample roster and units, a replay that
starts in the past so the dashboard opens with history."""

from datetime import datetime, timezone

from conftest import DATA_DIR
from rumourwatch import auth, demo, store
from rumourwatch.config import load_settings
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
    path = demo.rules_file(tmp_path / "demo.db")
    assert path.read_text(encoding="utf-8") == demo.RULES.read_text(encoding="utf-8")
    path.write_text(path.read_text(encoding="utf-8") + "\n# edited in the demo\n", encoding="utf-8")
    assert "edited in the demo" in demo.rules_file(tmp_path / "demo.db").read_text(encoding="utf-8")
    assert "edited in the demo" not in demo.RULES.read_text(encoding="utf-8")
