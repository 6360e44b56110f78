"""A drop folder: monitors put .jsonl / .jsonl.gz / .csv / .csv.gz files in it; each is read once.

Rules (what a monitor needs to know):
- Taken: files named *.jsonl, *.jsonl.gz, *.ndjson, *.csv, *.csv.gz (case-insensitive) directly in
  the folder. Ignored: names starting with '.' or '~', and names ending in .part / .tmp /
  .partial / .crdownload — write under such a name and rename when done (rename is atomic).
- A file still being written is not read: a file is taken only when its size and modification
  time are unchanged since the previous poll, or when it was last modified more than
  `settle_seconds` (default 5 s) ago (so a restarted worker takes old files at once).
- Files are read in name order, one at a time, with the file adapters of `files.py`.
- After `acknowledge` of a file's last position the file moves to `done/` (a name taken there
  gets a numeric suffix). A file that cannot be read at all (no CSV header, unreadable) moves to
  `failed/` with `<name>.reason.txt` beside it. Bad lines inside a readable file do not fail it:
  they come out as RawRejects and the file still goes to `done/`.
- The next file is started only once the previous one was acknowledged, so the checkpoint
  always names the single file in flight.

Position format: ``file=<percent-encoded name>;`` + the file adapter's position, e.g.
``file=monitor%2001.jsonl;line=12;byte=3456``.
"""

from __future__ import annotations

import os
import time
from pathlib import Path
from typing import Iterator
from urllib.parse import quote, unquote

from ..errors import SourceError
from .base import Event, SourceStatus, reset_command
from .files import file_source

ACCEPTED_SUFFIXES = (".jsonl", ".jsonl.gz", ".ndjson", ".ndjson.gz", ".csv", ".csv.gz")
IGNORED_ENDINGS = (".part", ".tmp", ".partial", ".crdownload", ".reason.txt")


def _split_position(position: str, source: str) -> tuple[str, str]:
    head, sep, inner = position.partition(";")
    if not head.startswith("file=") or not sep or not inner:
        raise SourceError(f"checkpoint {position!r} is not a drop-folder position "
                          "(expected file=NAME;line=N;byte=B or file=NAME;row=N;line=L); reset it with: "
                          f"{reset_command(source)}", "source_bad_checkpoint", position=position,
                          command=reset_command(source))
    return unquote(head[len("file="):]), inner


def _free_name(folder: Path, name: str) -> Path:
    target = folder / name
    if not target.exists():
        return target
    stem, dot, rest = name.partition(".")
    n = 1
    while True:
        candidate = folder / f"{stem}.{n}{dot}{rest}"
        if not candidate.exists():
            return candidate
        n += 1


class DropFolderSource:
    """Reads files dropped into `folder`, then moves them to done/ or failed/."""

    def __init__(self, folder, name: str | None = None, platform: str | None = None,
                 settle_seconds: float = 5.0, encoding: str | None = None):
        self.folder = Path(folder)
        self.name = name or f"drop:{self.folder}"
        self.platform = platform
        self.settle_seconds = settle_seconds
        self.encoding = encoding
        self.done_dir = self.folder / "done"
        self.failed_dir = self.folder / "failed"
        self.last_status = SourceStatus(ok=True, message="not polled yet")
        self._last_seen: dict[str, tuple[int, int]] = {}
        self._final: dict[str, str] = {}  # file name -> position of its last event
        self._acked: dict[str, str] = {}  # file name -> last acknowledged position

    # -- choosing files ----------------------------------------------------------------------
    @staticmethod
    def accepts(name: str) -> bool:
        """Whether a file of this name is read by the drop folder (see module docstring)."""
        lower = name.lower()
        if lower.startswith((".", "~")) or lower.endswith(IGNORED_ENDINGS):
            return False
        return lower.endswith(ACCEPTED_SUFFIXES)

    def _ready_files(self) -> list[Path]:
        if not self.folder.is_dir():
            raise SourceError(f"drop folder {self.folder} does not exist; create it or fix the "
                              "source spec", "drop_folder_missing", path=str(self.folder))
        now = time.time()
        seen: dict[str, tuple[int, int]] = {}
        ready = []
        try:
            entries = sorted(os.scandir(self.folder), key=lambda e: e.name)
        except OSError as exc:
            raise SourceError(f"cannot list drop folder {self.folder}: {exc}", "drop_folder_unlistable",
                              path=str(self.folder)) from None
        for entry in entries:
            if not entry.is_file() or not self.accepts(entry.name):
                continue
            try:
                st = entry.stat()
            except OSError:
                continue  # vanished between listing and stat
            signature = (st.st_size, st.st_mtime_ns)
            seen[entry.name] = signature
            settled = now - st.st_mtime >= self.settle_seconds
            if settled or self._last_seen.get(entry.name) == signature:
                ready.append(Path(entry.path))
        self._last_seen = seen
        return ready

    # -- reading -----------------------------------------------------------------------------
    def read(self, checkpoint: str | None = None) -> Iterator[Event]:
        resume_name, resume_inner = (None, None)
        if checkpoint:
            resume_name, resume_inner = _split_position(checkpoint, self.name)
        files = self._ready_files()
        if resume_name and (self.folder / resume_name).is_file():
            # The file in flight goes first, whatever its name and age.
            files = [self.folder / resume_name] + [f for f in files if f.name != resume_name]
        previous: Path | None = None
        for path in files:
            if previous is not None and previous.exists():
                break  # wait until the worker has committed and acknowledged the previous file
            inner = resume_inner if path.name == resume_name else None
            last = yield from self._read_file(path, inner)
            previous = path
            if last is None:
                # Nothing new in the file: everything was committed before (or it was empty).
                if path.exists():
                    self._move(path, self.done_dir)
            else:
                self._final[path.name] = last
                if self._acked.get(path.name) == last:
                    self._finish(path.name)
        self.last_status = SourceStatus(ok=True, message=f"{len(files)} file(s) ready",
                                        details={"ready": [f.name for f in files]})

    def _read_file(self, path: Path, inner: str | None):
        """Yield the file's events; return the position of the last one (None when none)."""
        # under the folder's name: an error whose remedy is a reset names the folder's checkpoint
        source = file_source(path, name=self.name, platform=self.platform, encoding=self.encoding)
        prefix = f"file={quote(path.name, safe='')};"
        last = None
        try:
            for event in source.read(inner):
                event.position = prefix + event.position
                if hasattr(event, "origin") and not event.origin:
                    event.origin = str(path)
                last = event.position
                yield event
        except SourceError as exc:
            if last is None:
                self._fail(path, str(exc))
                return None
            raise
        except OSError as exc:
            if last is None:
                self._fail(path, f"cannot read {path}: {exc}")
                return None
            raise SourceError(f"reading {path} failed after {last}: {exc}", "drop_read_failed",
                              path=str(path)) from None
        return last

    def _fail(self, path: Path, reason: str) -> None:
        target = self._move(path, self.failed_dir)
        if target is not None:
            target.with_name(target.name + ".reason.txt").write_text(reason + "\n",
                                                                      encoding="utf-8")
        self._final.pop(path.name, None)

    def _move(self, path: Path, folder: Path) -> Path | None:
        try:
            folder.mkdir(exist_ok=True)
            target = _free_name(folder, path.name)
            path.rename(target)
            return target
        except FileNotFoundError:
            return None
        except OSError as exc:
            raise SourceError(f"cannot move {path} to {folder}: {exc}", "drop_cannot_move", path=str(path),
                              folder=str(folder)) from None

    def acknowledge(self, position: str) -> None:
        """Move the file to done/ once its last position is committed."""
        name, _ = _split_position(position, self.name)
        self._acked[name] = position
        if self._final.get(name) == position:
            self._finish(name)

    def _finish(self, name: str) -> None:
        path = self.folder / name
        if path.exists():
            self._move(path, self.done_dir)
        self._final.pop(name, None)
        self._acked.pop(name, None)


__all__ = ["DropFolderSource", "ACCEPTED_SUFFIXES"]
