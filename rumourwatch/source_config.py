"""The worker's sources as a file administrators edit (数据源与质量 page): which feeds, APIs, drop
folders and files the worker reads, without editing a service's command line and restarting it.

`RUMOURWATCH_SOURCES_FILE` (default `config/sources.toml`) holds one table per source:

    [[source]]
    spec = "feed:https://wsjkw.example.gov.cn/rss.xml"   # as `watch --source` takes it
    platform = "网站"                                      # for records that name none (optional)
    note = "市卫健委官网"                                   # what it is, for the people reading the page
    enabled = true

`rumourwatch watch` reads it beside its --source options and reads it again when it changes (between
polls): a source added starts at once, one disabled or removed stops after the poll in progress; its
checkpoint stays, so enabling it again resumes where it stopped. A file that does not load leaves the
worker on the sources it has, and says why. Each change made here is audited (source.add,
source.enable, source.disable, source.remove) and written atomically (a worker never reads half a
file).
"""

from __future__ import annotations

import os
import tomllib
from dataclasses import asdict, dataclass
from datetime import datetime
from pathlib import Path

from . import store
from .errors import SourceError

KINDS = ("feed", "api", "drop", "file")  # what administrators add here; replay is the demo's, on its command line
PLATFORMS = ("微博", "微信公众号", "抖音", "微信视频号", "今日头条", "网站", "新闻", "举报线索")


@dataclass
class SourceEntry:
    spec: str
    platform: str = ""
    note: str = ""
    enabled: bool = True

    @property
    def kind(self) -> str:
        return self.spec.partition(":")[0]

    @property
    def target(self) -> str:
        return self.spec.partition(":")[2]


def _error(path: Path, problem: str) -> SourceError:
    return SourceError(f"sources file {path}: {problem}", "sources_file_bad", path=str(path), problem=problem)


def check_spec(spec: str, settings=None, platform: str = "") -> str:
    """`spec` tidied, once a source can be made of it (the API's config file read, the feed URL an
    http(s) one…); SourceError saying what is wrong otherwise."""
    from .sources import source_from_spec

    spec = (spec or "").strip()
    kind, sep, rest = spec.partition(":")
    if kind not in KINDS or not sep or not rest.strip():
        raise SourceError(f"source {spec!r} must be one of {', '.join(k + ':…' for k in KINDS)}", "sources_bad_spec",
                          value=spec)
    spec = f"{kind}:{rest.strip()}"
    source_from_spec(spec, settings, platform=platform or None)
    return spec


def load(path: str | Path) -> list[SourceEntry]:
    """The entries of the sources file (none when it does not exist); SourceError naming what is wrong."""
    path = Path(path)
    if not path.exists():
        return []
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise _error(path, f"cannot be read as TOML ({exc})") from None
    tables = data.get("source", [])
    if not isinstance(tables, list) or not all(isinstance(t, dict) for t in tables):
        raise _error(path, "sources are [[source]] tables")
    entries, seen = [], set()
    for n, table in enumerate(tables, 1):
        unknown = set(table) - {"spec", "platform", "note", "enabled"}
        if unknown:
            raise _error(path, f"source {n}: unknown setting(s) {', '.join(sorted(unknown))}")
        spec = table.get("spec")
        if not isinstance(spec, str) or spec.partition(":")[0] not in KINDS or not spec.partition(":")[2].strip():
            raise _error(path, f"source {n}: spec {spec!r} must be one of {', '.join(k + ':…' for k in KINDS)}")
        if spec in seen:
            raise _error(path, f"source {n}: {spec} is listed twice")
        seen.add(spec)
        enabled = table.get("enabled", True)
        if not isinstance(enabled, bool):
            raise _error(path, f"source {n}: enabled must be true or false")
        entries.append(SourceEntry(spec, str(table.get("platform") or ""), str(table.get("note") or ""), enabled))
    return entries


def _toml(value) -> str:
    import json

    return "true" if value is True else "false" if value is False else json.dumps(value, ensure_ascii=False)


def write(path: str | Path, entries: list[SourceEntry]) -> None:
    """Write the file atomically (a temporary file renamed over it)."""
    path = Path(path)
    lines = ["# The worker's sources (rumourwatch/source_config.py), edited on 数据源与质量.", ""]
    for e in entries:
        lines += ["[[source]]"] + [f"{k} = {_toml(v)}" for k, v in asdict(e).items() if v != ""] + [""]
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text("\n".join(lines), encoding="utf-8")
    os.replace(tmp, path)


def _audited(db, actor: str, action: str, entry: SourceEntry, now: datetime) -> None:
    with store.transaction(db):
        store.record_audit(db, actor, action, "source", entry.spec,
                           {"platform": entry.platform, "note": entry.note}, at=store.iso(now))


def add(db, path, spec: str, actor: str, now: datetime, platform: str = "", note: str = "",
        settings=None) -> SourceEntry:
    entries = load(path)
    spec = check_spec(spec, settings, platform)
    if any(e.spec == spec for e in entries):
        raise SourceError(f"{spec} is already a source", "sources_duplicate", spec=spec)
    if platform and platform not in PLATFORMS:
        raise SourceError(f"unknown platform {platform!r}; platforms are {', '.join(PLATFORMS)}", "sources_bad_platform",
                          value=platform)
    entry = SourceEntry(spec, platform, note.strip()[:200])
    write(path, [*entries, entry])
    _audited(db, actor, "source.add", entry, now)
    return entry


def _find(entries: list[SourceEntry], spec: str) -> SourceEntry:
    for e in entries:
        if e.spec == spec:
            return e
    raise SourceError(f"{spec} is not in the sources file", "sources_unknown", spec=spec)


def set_enabled(db, path, spec: str, enabled: bool, actor: str, now: datetime) -> SourceEntry:
    entries = load(path)
    entry = _find(entries, spec)
    entry.enabled = enabled
    write(path, entries)
    _audited(db, actor, "source.enable" if enabled else "source.disable", entry, now)
    return entry


def remove(db, path, spec: str, actor: str, now: datetime) -> SourceEntry:
    entries = load(path)
    entry = _find(entries, spec)
    write(path, [e for e in entries if e.spec != spec])
    _audited(db, actor, "source.remove", entry, now)
    return entry


def stamp(path: str | Path) -> tuple | None:
    """What changes when the file is rewritten (mtime, size, inode); None when there is none."""
    try:
        st = Path(path).stat()
    except OSError:
        return None
    return (st.st_mtime_ns, st.st_size, st.st_ino)


def preview(spec: str, settings=None, platform: str = "", limit: int = 5,
            now: datetime | None = None) -> tuple[str, list[dict]]:
    """The source's name and its first `limit` records as they would be stored, or why they would be
    set aside, storing nothing, moving no dropped file, touching no checkpoint (`rumourwatch sources
    try`, the 试读 button): {"kind": "item", the item's fields, "quality_flags"}, {"kind": "set aside",
    "reason", "origin"} or {"kind": "reaction", "item", "text"}. SourceError when it cannot be read."""
    import json
    from itertools import islice

    from .errors import RecordError
    from .ingest import normalise_item
    from .sources import RawItem, RawReject, source_from_spec

    source = source_from_spec(spec, settings, platform=platform or None)
    now = now or store.now_utc()
    shown = []
    for event in islice(source.read(None), limit):
        if isinstance(event, RawReject):
            shown.append({"kind": "set aside", "reason": event.reason, "origin": event.origin})
        elif isinstance(event, RawItem):
            try:
                row = normalise_item(event.record, source.name, now).row
            except RecordError as exc:
                shown.append({"kind": "set aside", "reason": str(exc), "origin": event.origin})
                continue
            shown.append({"kind": "item", **{k: row[k] for k in ("platform", "external_id", "account", "author",
                                                                  "published_at", "url", "title", "text")},
                          "quality_flags": json.loads(row["quality_flags"] or "[]"), "source": source.name})
        else:
            shown.append({"kind": "reaction", "item": event.record.get("item_id"), "text": event.record.get("text")})
    return source.name, shown
