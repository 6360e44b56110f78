"""`rumourwatch sources list` and `rumourwatch sources reset-checkpoint`: the remedy a source error
names is a command that exists, works and is audited."""

from __future__ import annotations

import json
import shlex
from datetime import UTC, datetime

import pytest
from click.testing import CliRunner

from rumourwatch import store
from rumourwatch.cli import cli
from rumourwatch.sources.files import JsonLinesSource
from rumourwatch.worker import Worker

NOW = datetime(2026, 11, 23, 4, 0, tzinfo=UTC)
FIRST = [{"id": "x1", "platform": "微博", "text": "网传喝淡盐水能预防流感，每天早上一杯"},
         {"id": "x2", "platform": "微博", "text": "听说吃大蒜可以杀死所有病毒"},
         {"id": "x3", "platform": "微博", "text": "示例长文：" + "每天喝八杯水可以排毒养颜。" * 20}]
REPLACED = [{"id": "x1", "platform": "微博", "text": "网传喝淡盐水能预防流感，每天早上一杯"},
            {"id": "y1", "platform": "微博", "text": "示例：隔夜茶致癌的说法流传甚广"}]


@pytest.fixture
def replaced_file(tmp_path):
    """A source whose file was replaced by a shorter one after the worker read it: its checkpoint is
    past the end, and the worker says so at each poll."""
    db_path = tmp_path / "cli.db"
    posts = tmp_path / "posts.jsonl"
    posts.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in FIRST), encoding="utf-8")
    source = JsonLinesSource(posts, name=f"file:{posts}")
    db = store.open_db(db_path)
    Worker(db, [source], clock=lambda: NOW).poll_once()
    posts.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in REPLACED), encoding="utf-8")
    stats = Worker(db, [source], clock=lambda: NOW).poll_once()
    db.conn.close()

    def invoke(*args, input=None):
        return CliRunner().invoke(cli, ["--db", str(db_path), *args], input=input)

    return invoke, db_path, source, stats


def test_the_error_names_the_command_that_resets_the_checkpoint_and_it_does(replaced_file):
    run, db_path, source, stats = replaced_file
    [error] = stats.errors
    command = f"rumourwatch sources reset-checkpoint {source.name}"
    assert error.endswith(f"the file was replaced or truncated — to read it again, run: {command}")

    listing = run("sources", "list")
    assert listing.exit_code == 0, listing.output
    assert listing.output.startswith(f"{source.name}  at line=3;byte=")
    assert "is past the end of" in listing.output

    refused = run(*shlex.split(command)[1:], input="n\n")  # asked first; 'no' leaves it as it was
    assert refused.exit_code == 1 and "read " + source.name + " from the start" in refused.output
    db = store.open_db(db_path)
    assert store.get_checkpoint(db, source.name).startswith("line=3;")

    done = run(*shlex.split(command)[1:], "--yes")
    assert done.exit_code == 0, done.output
    assert done.output.startswith(f"reset the checkpoint of {source.name} (was line=3;byte=")
    row = store.source_checkpoint(db, source.name)
    assert (row["position"], row["last_error"], row["last_error_key"], row["items_seen"]) == (None, None, None, 3)
    [entry] = store.audit_entries(db, target_type="source")
    assert entry["action"] == "source.reset_checkpoint" and entry["target_id"] == source.name
    assert entry["actor"].startswith("cli")
    assert json.loads(entry["details"])["position"].startswith("line=3;")

    stats = Worker(db, [source], clock=lambda: NOW).poll_once()  # read again from the start
    assert (stats.errors, stats.new_items, stats.updated_items) == ([], 1, 1)
    assert store.count_items(db) == 4  # x1 once, x2, x3 and y1
    db.conn.close()


def test_an_unknown_source_is_refused_with_what_to_run_instead(replaced_file):
    run, db_path, _, _ = replaced_file
    result = run("sources", "reset-checkpoint", "file:/nowhere.jsonl", "--yes")
    assert result.exit_code == 1
    assert result.output == ("Error: no source named 'file:/nowhere.jsonl' has a checkpoint; "
                             "`rumourwatch sources list` shows the sources the worker has read\n")
    db = store.open_db(db_path)
    assert store.audit_entries(db, target_type="source") == []
    db.conn.close()
