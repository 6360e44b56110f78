"""Drop folder: files are read once, moved to done/ after acknowledge, or to failed/ with a reason."""

import gzip
import json
import os
import time

import pytest

from rumourwatch.errors import SourceError
from rumourwatch.sources import DropFolderSource, RawItem, RawReject

# Fictional monitor output written for these tests.
POSTS = [{"id": f"m{i}", "text": f"第{i}条：网传吃大蒜能杀灭病毒，专家称不可信", "date": "2024-03-01 08:00"}
         for i in range(3)]


def jsonl(records):
    return ("\n".join(json.dumps(r, ensure_ascii=False) for r in records) + "\n").encode()


def age(path, seconds=60):
    """Make a file look written `seconds` ago (settled)."""
    t = time.time() - seconds
    os.utime(path, (t, t))


def drain(source, checkpoint=None):
    """Read like the worker does: commit each event, then acknowledge its position."""
    events = []
    for event in source.read(checkpoint):
        events.append(event)
        checkpoint = event.position
        source.acknowledge(event.position)
    return events, checkpoint


def test_file_moves_to_done_after_its_last_position_is_acknowledged(tmp_path):
    (tmp_path / "batch1.jsonl").write_bytes(jsonl(POSTS))
    age(tmp_path / "batch1.jsonl")
    source = DropFolderSource(tmp_path)
    events = list(source.read(None))
    assert [e.record["id"] for e in events] == ["m0", "m1", "m2"]
    assert events[0].position.startswith("file=batch1.jsonl;line=1;")
    source.acknowledge(events[1].position)
    assert (tmp_path / "batch1.jsonl").exists()  # not all committed yet
    source.acknowledge(events[-1].position)
    assert not (tmp_path / "batch1.jsonl").exists()
    assert (tmp_path / "done" / "batch1.jsonl").exists()
    assert list(source.read(events[-1].position)) == []


def test_several_files_gzip_and_csv_in_name_order(tmp_path):
    (tmp_path / "a.jsonl.gz").write_bytes(gzip.compress(jsonl(POSTS[:1])))
    (tmp_path / "b.csv").write_text("内容,发布时间\n网传喝酒能消毒,2024-03-02\n", encoding="gb18030")
    (tmp_path / "c.csv.gz").write_bytes(gzip.compress("text\n最后一条\n".encode()))
    for p in tmp_path.iterdir():
        age(p)
    source = DropFolderSource(tmp_path, platform="微博")
    events, _ = drain(source)
    assert [e.record["text"] for e in events] == [POSTS[0]["text"], "网传喝酒能消毒", "最后一条"]
    assert all(e.record["platform"] == "微博" for e in events)
    assert sorted(p.name for p in (tmp_path / "done").iterdir()) == ["a.jsonl.gz", "b.csv",
                                                                     "c.csv.gz"]


def test_next_file_waits_until_previous_is_acknowledged(tmp_path):
    for name in ("a.jsonl", "b.jsonl"):
        (tmp_path / name).write_bytes(jsonl(POSTS[:1]))
        age(tmp_path / name)
    source = DropFolderSource(tmp_path)
    first = list(source.read(None))  # no acknowledge: the worker has not committed yet
    assert [e.position.split(";")[0] for e in first] == ["file=a.jsonl"]
    source.acknowledge(first[-1].position)
    second = list(source.read(first[-1].position))
    assert [e.position.split(";")[0] for e in second] == ["file=b.jsonl"]


def test_restart_resumes_inside_the_file_in_flight(tmp_path):
    (tmp_path / "batch.jsonl").write_bytes(jsonl(POSTS))
    age(tmp_path / "batch.jsonl")
    events = list(DropFolderSource(tmp_path).read(None))
    # Crash after committing the first event: a new source object resumes from its position.
    restarted = DropFolderSource(tmp_path)
    rest, last = drain(restarted, events[0].position)
    assert [e.record["id"] for e in rest] == ["m1", "m2"]
    assert (tmp_path / "done" / "batch.jsonl").exists()


def test_committed_but_unmoved_file_is_not_read_again(tmp_path):
    (tmp_path / "batch.jsonl").write_bytes(jsonl(POSTS))
    age(tmp_path / "batch.jsonl")
    events = list(DropFolderSource(tmp_path).read(None))
    # Crash after the commit of the last event, before acknowledge moved the file.
    assert list(DropFolderSource(tmp_path).read(events[-1].position)) == []
    assert (tmp_path / "done" / "batch.jsonl").exists()


def test_files_being_written_are_left_alone(tmp_path):
    (tmp_path / "upload.jsonl.part").write_bytes(jsonl(POSTS))
    (tmp_path / ".hidden.jsonl").write_bytes(jsonl(POSTS))
    (tmp_path / "notes.txt").write_text("不是数据文件")
    age(tmp_path / "upload.jsonl.part")
    fresh = tmp_path / "fresh.jsonl"
    fresh.write_bytes(jsonl(POSTS[:1]))  # just written: not settled
    source = DropFolderSource(tmp_path, settle_seconds=30)
    assert list(source.read(None)) == []
    with fresh.open("ab") as fh:  # still growing at the next poll
        fh.write(jsonl(POSTS[1:2]))
    assert list(source.read(None)) == []
    # Unchanged since the previous poll: taken.
    assert [e.record["id"] for e in source.read(None)] == ["m0", "m1"]
    assert (tmp_path / "upload.jsonl.part").exists() and (tmp_path / "notes.txt").exists()


def test_unreadable_file_moves_to_failed_with_a_reason(tmp_path):
    (tmp_path / "noheader.csv").write_text("网传喝酒能消毒,2024-03-02\n", encoding="utf-8")
    (tmp_path / "ok.jsonl").write_bytes(jsonl(POSTS[:1]))
    for p in tmp_path.iterdir():
        age(p)
    events, _ = drain(DropFolderSource(tmp_path))
    assert [e.record["id"] for e in events] == ["m0"]
    assert (tmp_path / "failed" / "noheader.csv").exists()
    reason = (tmp_path / "failed" / "noheader.csv.reason.txt").read_text(encoding="utf-8")
    assert "header naming a text or title column" in reason


def test_bad_lines_are_rejected_and_the_file_still_completes(tmp_path):
    (tmp_path / "mixed.jsonl").write_bytes(jsonl(POSTS[:1]) + b"{broken\n" + jsonl(POSTS[1:2]))
    age(tmp_path / "mixed.jsonl")
    events, _ = drain(DropFolderSource(tmp_path))
    assert [type(e) for e in events] == [RawItem, RawReject, RawItem]
    assert events[1].reason.startswith("line 2: invalid JSON")
    assert (tmp_path / "done" / "mixed.jsonl").exists()


def test_same_name_dropped_twice_keeps_both_in_done(tmp_path):
    for _ in range(2):
        (tmp_path / "daily.jsonl").write_bytes(jsonl(POSTS[:1]))
        age(tmp_path / "daily.jsonl")
        drain(DropFolderSource(tmp_path))
    assert sorted(p.name for p in (tmp_path / "done").iterdir()) == ["daily.1.jsonl", "daily.jsonl"]


def test_missing_folder_is_a_source_error(tmp_path):
    with pytest.raises(SourceError, match="drop folder .*nope does not exist"):
        list(DropFolderSource(tmp_path / "nope").read(None))


def test_file_names_with_chinese_and_separators_round_trip(tmp_path):
    name = "监测 3月;第1批.jsonl"
    (tmp_path / name).write_bytes(jsonl(POSTS[:2]))
    age(tmp_path / name)
    events = list(DropFolderSource(tmp_path).read(None))
    rest = list(DropFolderSource(tmp_path).read(events[0].position))
    assert [e.record["id"] for e in rest] == ["m1"]
