"""File adapters: JSON Lines and CSV, UTF-8 or GB18030, plain or gzipped.

A file is read as bytes and decoded line by line, so one undecodable or malformed line becomes a
`RawReject` with its line number and reason and the rest of the file goes on. Nothing here judges
content: an empty or huge text passes through unchanged (ingest validates and truncates).

Encoding: an explicit `encoding=` wins. Otherwise the first 1 MB is sniffed: UTF-8 (with or
without BOM) unless most non-ASCII lines of the sample fail UTF-8 and GB18030 decodes more of
them, in which case the file is GB18030. Decoding is then strict for the whole file; a line that
does not decode is rejected (never replaced by mojibake).

Compression: gzip is detected by its magic bytes (1f 8b), whatever the file is called.

Positions (the checkpoint strings):
  JSON Lines  ``line=N;byte=B``  N = last line read (1-based), B = byte offset after it in the
              decompressed stream; resuming seeks to B (appended lines are picked up later).
  CSV         ``row=N;line=L``   N = data rows consumed, L = physical line reached; resuming
              re-parses and skips N rows (CSV records may span lines, so offsets are not used).

CSV columns map onto the raw item field names of `base.py`; see `CSV_ALIASES`. Unknown columns
are passed through under their own header name. `reposts` / `comments` cells may hold JSON lists.
"""

from __future__ import annotations

import codecs
import csv
import gzip
import json
import re
import zlib
from pathlib import Path
from typing import Iterator

from ..errors import RecordError, SourceError
from ..records import json_type
from .base import Event, RawItem, RawReject, reset_command

GZIP_MAGIC = b"\x1f\x8b"
MAX_REJECT_RAW = 10_000  # characters of a rejected line kept for the analyst
MAX_LINE_BYTES = 64 * 1024 * 1024  # longer lines are rejected without being held in memory
MAX_LINE_MB = MAX_LINE_BYTES // (1024 * 1024)
SNIFF_BYTES = 1024 * 1024

# Field name -> accepted header spellings (compared after strip + lower-case).
CSV_ALIASES: dict[str, tuple[str, ...]] = {
    "id": ("id", "mid", "编号", "微博id", "文章id", "条目id"),
    "text": ("text", "content", "body", "内容", "正文", "文本", "微博内容", "博文", "全文"),
    "title": ("title", "标题", "题目"),
    "date": ("date", "time", "published", "publish_time", "created_at", "发布时间", "时间",
             "日期", "发布日期"),
    "platform": ("platform", "平台", "来源平台", "媒体平台"),
    "url": ("url", "link", "链接", "网址", "原文链接"),
    "account": ("account", "账号", "帐号", "公众号", "发布账号", "用户名", "昵称"),
    "author": ("author", "作者"),
    "user_id": ("user_id", "uid", "用户id"),
    "repost_num": ("repost_num", "reposts_count", "转发数"),
    "comment_num": ("comment_num", "comments_count", "评论数"),
    "like_num": ("like_num", "attitudes_count", "likes", "点赞数"),
    "reposts": ("reposts", "转发", "转发列表"),
    "comments": ("comments", "评论", "评论列表"),
}
_ALIAS_TO_FIELD = {alias: name for name, aliases in CSV_ALIASES.items() for alias in aliases}
_COUNT_FIELDS = ("repost_num", "comment_num", "like_num")
_LIST_FIELDS = ("reposts", "comments")
_SURROGATE_ESCAPE = re.compile(r"\\u[dD][89a-fA-F][0-9a-fA-F]{2}")
_ESCAPED_BYTE = re.compile("[\udc80-\udcff]")
_BLANK = " \t\r\n\f\v"  # a line of only these holds no record and is skipped


def clip(text: str, limit: int = MAX_REJECT_RAW) -> str:
    """A rejected line as kept for the analyst: at most `limit` characters."""
    if len(text) <= limit:
        return text
    return text[:limit] + f"… [{len(text) - limit} more characters]"


def _open_binary(path: Path):
    """Open `path` for binary reading, transparently gunzipping when it starts with gzip magic."""
    try:
        raw = open(path, "rb")
    except FileNotFoundError:
        raise SourceError(f"file {path} does not exist", "source_file_missing", path=str(path)) from None
    except IsADirectoryError:
        raise SourceError(f"{path} is a directory, not a file", "source_is_directory", path=str(path)) from None
    except OSError as exc:
        raise SourceError(f"cannot open {path}: {exc.strerror or exc}", "source_cannot_open",
                          path=str(path)) from None
    head = raw.read(2)
    raw.seek(0)
    if head == GZIP_MAGIC:
        return gzip.GzipFile(fileobj=raw, mode="rb"), raw, True
    return raw, raw, False


def _valid(data: bytes, encoding: str) -> bool:
    try:
        data.decode(encoding)
        return True
    except UnicodeDecodeError:
        return False


def sniff_encoding(sample: bytes) -> str:
    """'utf-8' or 'gb18030' for a sample of a file (see the module docstring for the rule)."""
    if sample.startswith(codecs.BOM_UTF8):
        return "utf-8"
    lines = sample.split(b"\n")
    if len(lines) > 1 and len(sample) >= SNIFF_BYTES:
        lines = lines[:-1]  # the last line may be cut mid-character by the sample size
    non_ascii = [ln for ln in lines if not ln.isascii()]
    if not non_ascii:
        return "utf-8"
    utf8_ok = sum(_valid(ln, "utf-8") for ln in non_ascii)
    gb_ok = sum(_valid(ln, "gb18030") for ln in non_ascii)
    if utf8_ok * 2 < len(non_ascii) and gb_ok > utf8_ok:
        return "gb18030"
    return "utf-8"


def _undecodable(exc: UnicodeDecodeError, encoding: str) -> RecordError:
    bad = exc.object[exc.start:exc.start + 4]
    hint = "" if encoding != "utf-8" else "; if the file is GB18030 pass encoding='gb18030'"
    return RecordError(f"undecodable bytes for {encoding} at byte {exc.start + 1} ({bad.hex(' ')}): {exc.reason}{hint}",
                       "reject_undecodable", encoding=encoding, byte=exc.start + 1)


def _too_long(size: int | None = None) -> RecordError:
    return RecordError(f"longer than {MAX_LINE_MB} MB" + (f" ({size} bytes)" if size is not None else ""),
                       "reject_line_too_long", mb=MAX_LINE_MB)


def _corrupt_from(line_no: int, exc) -> RecordError:
    return RecordError(f"line {line_no} onward: file is corrupt or truncated ({exc}); the rest of the file "
                       "cannot be read", "reject_file_corrupt")


def _check_surrogates(value, field: str | None = None) -> RecordError | None:
    """Why a decoded JSON value holding an unpaired surrogate cannot be stored (None when it can);
    `field` is the record's field it is in (None: it is a key)."""
    if isinstance(value, str):
        try:
            value.encode("utf-8")
        except UnicodeEncodeError:
            if field is None:
                return RecordError("a key contains an unpaired surrogate escape", "reject_surrogate_key")
            return RecordError(f"field {field!r} contains an unpaired surrogate escape", "reject_surrogate_field",
                               field=field)
        return None
    if isinstance(value, dict):
        for k, v in value.items():
            reason = _check_surrogates(k) or _check_surrogates(v, k if field is None else field)
            if reason:
                return reason
    elif isinstance(value, list):
        for v in value:
            reason = _check_surrogates(v, field)
            if reason:
                return reason
    return None


def _parse_int_position(position: str, keys: tuple[str, ...], what: str, source: str) -> dict[str, int]:
    parts = {}
    try:
        for piece in position.split(";"):
            k, _, v = piece.partition("=")
            parts[k.strip()] = int(v)
    except ValueError:
        parts = {}
    if set(parts) != set(keys) or any(v < 0 for v in parts.values()):
        expected = ";".join(f"{k}=N" for k in keys)
        raise SourceError(f"checkpoint {position!r} is not a {what} position (expected {expected}); reset it "
                          f"with: {reset_command(source)}", "source_bad_checkpoint", position=position,
                          command=reset_command(source))
    return parts


class _FileSource:
    """Shared parts of the file adapters."""

    kind = "file"

    def __init__(self, path, name: str | None = None, platform: str | None = None,
                 encoding: str | None = None):
        self.path = Path(path)
        self.name = name or f"file:{self.path}"
        self.platform = platform
        if encoding is not None:
            try:
                encoding = codecs.lookup(encoding).name
            except LookupError:
                raise SourceError(f"unknown encoding {encoding!r} for {self.path}", "source_unknown_encoding",
                                  value=encoding, path=str(self.path)) from None
            if encoding.startswith("utf-16") or encoding.startswith("utf-32"):
                raise SourceError(f"encoding {encoding} is not supported for line-based files; "
                                  "use UTF-8 or GB18030", "source_encoding_unsupported", value=encoding,
                                  path=str(self.path))
        self.encoding = encoding
        self.detected_encoding: str | None = None

    def _choose_encoding(self) -> str:
        if self.encoding:
            return self.encoding
        stream, raw, _ = _open_binary(self.path)
        try:
            sample = stream.read(SNIFF_BYTES)
        except (OSError, EOFError, zlib.error):
            sample = b""  # a broken gzip is reported by the read itself, with its line number
        finally:
            raw.close()
        if sample.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
            raise SourceError(f"{self.path} is UTF-16 text; save it as UTF-8 or GB18030 "
                              "(in Excel: CSV UTF-8) and drop it again", "source_utf16", path=str(self.path))
        return sniff_encoding(sample)

    def _with_platform(self, record: dict) -> dict:
        if self.platform and not record.get("platform"):
            record["platform"] = self.platform
        return record

    def _origin(self, line: int) -> str:
        return f"{self.path}:{line}"

    def acknowledge(self, position: str) -> None:
        """Nothing to do: a file is not changed by reading it (the drop folder moves files)."""


class JsonLinesSource(_FileSource):
    """One JSON object per line; each becomes a RawItem, each bad line a RawReject."""

    kind = "jsonl"

    def read(self, checkpoint: str | None = None) -> Iterator[Event]:
        line_no, offset = 0, 0
        if checkpoint:
            p = _parse_int_position(checkpoint, ("line", "byte"), "JSON Lines", self.name)
            line_no, offset = p["line"], p["byte"]
        encoding = self._choose_encoding()
        self.detected_encoding = encoding
        stream, raw, gzipped = _open_binary(self.path)
        try:
            if offset:
                if not gzipped and offset > self.path.stat().st_size:
                    raise SourceError(
                        f"checkpoint {checkpoint!r} is past the end of {self.path}; the file was "
                        f"replaced or truncated — to read it again, run: {reset_command(self.name)}",
                        "source_truncated", path=str(self.path), command=reset_command(self.name))
                try:
                    stream.seek(offset)
                except (OSError, EOFError, zlib.error) as exc:
                    raise SourceError(f"cannot resume {self.path} at byte {offset}: {exc}; to read it from the "
                                      f"start, run: {reset_command(self.name)}", "source_cannot_resume",
                                      path=str(self.path), command=reset_command(self.name)) from None
            yield from self._lines(stream, line_no, offset, encoding)
        finally:
            raw.close()

    def _lines(self, stream, line_no: int, offset: int, encoding: str) -> Iterator[Event]:
        while True:
            try:
                data = stream.readline(MAX_LINE_BYTES + 1)
            except (OSError, EOFError, zlib.error) as exc:
                line_no += 1
                yield RawReject.of(_corrupt_from(line_no, exc), "", f"line={line_no};byte={offset}",
                                   self._origin(line_no))
                return
            if not data:
                return
            line_no += 1
            oversized = len(data) > MAX_LINE_BYTES and not data.endswith(b"\n")
            if oversized:
                # Skip the rest of the line without holding it in memory.
                size = len(data)
                while data and not data.endswith(b"\n"):
                    try:
                        data = stream.readline(MAX_LINE_BYTES)
                    except (OSError, EOFError, zlib.error):
                        break
                    size += len(data)
                offset += size
                yield RawReject.of(_too_long(size), "", f"line={line_no};byte={offset}", self._origin(line_no),
                                   line_no)
                continue
            offset += len(data)
            position = f"line={line_no};byte={offset}"
            event = self._parse_line(data, line_no, encoding, position)
            if event is not None:
                yield event

    def _parse_line(self, data: bytes, line_no: int, encoding: str, position: str) -> Event | None:
        if line_no == 1 and data.startswith(codecs.BOM_UTF8) and encoding.startswith("utf"):
            data = data[len(codecs.BOM_UTF8):]
        body = data.rstrip(b"\r\n")
        try:
            text = body.decode(encoding)
        except UnicodeDecodeError as exc:
            return RawReject.of(_undecodable(exc, encoding), clip(body.decode(encoding, "backslashreplace")),
                                position, self._origin(line_no), line_no)
        if not text.strip(_BLANK):
            return None  # a blank line holds no record (other whitespace is rejected as bad JSON)
        reject = lambda error: RawReject.of(error, clip(text), position, self._origin(line_no), line_no)  # noqa: E731
        try:
            value = json.loads(text)
        except json.JSONDecodeError as exc:
            return reject(RecordError(f"invalid JSON: {exc.msg} at column {exc.colno}", "reject_bad_json",
                                      column=exc.colno))
        except RecursionError:
            return reject(RecordError("invalid JSON: nested too deeply", "reject_json_too_deep"))
        if not isinstance(value, dict):
            return reject(RecordError(f"expected a JSON object, got {_json_type(value)}", "reject_not_object",
                                      json_type=json_type(value)))
        if _SURROGATE_ESCAPE.search(text):
            reason = _check_surrogates(value)
            if reason:
                return reject(reason)
        return RawItem(record=self._with_platform(value), position=position, origin=self._origin(line_no))


def _json_type(value) -> str:
    if value is None:
        return "null"
    return {bool: "a boolean", int: "a number", float: "a number", str: "a string",
            list: "an array"}.get(type(value), type(value).__name__)


class _DecodedLines:
    """Iterates decoded lines of a binary stream for csv.reader; bad bytes become surrogates.

    Undecodable bytes are kept as surrogate escapes so the row that holds them can be rejected
    with its line number instead of stopping the file.
    """

    def __init__(self, stream, encoding: str):
        self.stream = stream
        self.encoding = encoding
        self.first = True
        self.error: str | None = None
        self.bad_lines: dict[int, RecordError] = {}  # physical line -> decode problem
        self.line_no = 0

    def __iter__(self):
        return self

    def __next__(self) -> str:
        try:
            data = self.stream.readline(MAX_LINE_BYTES + 1)
        except (OSError, EOFError, zlib.error) as exc:
            self.error = str(exc)
            raise StopIteration from None
        if not data:
            raise StopIteration
        self.line_no += 1
        if len(data) > MAX_LINE_BYTES and not data.endswith(b"\n"):
            while data and not data.endswith(b"\n"):
                data = self.stream.readline(MAX_LINE_BYTES)
            self.bad_lines[self.line_no] = _too_long()
            return "\n"
        if self.first:
            self.first = False
            if data.startswith(codecs.BOM_UTF8) and self.encoding.startswith("utf"):
                data = data[len(codecs.BOM_UTF8):]
        try:
            return data.decode(self.encoding)
        except UnicodeDecodeError as exc:
            self.bad_lines[self.line_no] = _undecodable(exc, self.encoding)
            return data.decode(self.encoding, "surrogateescape")


def _csv_field_limit() -> None:
    # The default limit (128 kB) would reject long articles; ingest decides what is too long.
    if csv.field_size_limit() < MAX_LINE_BYTES:
        csv.field_size_limit(MAX_LINE_BYTES)


class CsvSource(_FileSource):
    """A CSV file with a header row; columns map to raw item fields via `CSV_ALIASES`."""

    kind = "csv"

    def __init__(self, path, name: str | None = None, platform: str | None = None,
                 encoding: str | None = None, delimiter: str = ","):
        super().__init__(path, name=name, platform=platform, encoding=encoding)
        self.delimiter = delimiter

    def read(self, checkpoint: str | None = None) -> Iterator[Event]:
        skip = 0
        if checkpoint:
            skip = _parse_int_position(checkpoint, ("row", "line"), "CSV", self.name)["row"]
        _csv_field_limit()
        encoding = self._choose_encoding()
        self.detected_encoding = encoding
        stream, raw, _ = _open_binary(self.path)
        try:
            yield from self._rows(stream, encoding, skip)
        finally:
            raw.close()

    def _header(self, reader, lines: _DecodedLines) -> list[str | None]:
        try:
            header = next(reader)
        except StopIteration:
            if lines.error:
                raise SourceError(f"{self.path} is corrupt: {lines.error}", "source_corrupt",
                                  path=str(self.path)) from None
            return []
        except csv.Error as exc:
            raise SourceError(f"{self.path}: cannot read the CSV header row: {exc}", "source_csv_header",
                              path=str(self.path)) from None
        if lines.bad_lines:
            raise SourceError(f"{self.path}: the header row is not valid {lines.encoding}: "
                              f"{next(iter(lines.bad_lines.values()))}", "source_header_encoding",
                              path=str(self.path), encoding=lines.encoding)
        fields: list[str | None] = []
        for col in header:
            key = col.strip().lstrip("\ufeff")
            name = _ALIAS_TO_FIELD.get(key.lower(), key)
            fields.append(None if not key or name in fields else name)
        if "text" not in fields and "title" not in fields:
            known = ", ".join(CSV_ALIASES["text"] + CSV_ALIASES["title"])
            raise SourceError(
                f"{self.path}: the first row must be a header naming a text or title column "
                f"(one of: {known}); found {header[:10]!r}", "source_no_text_column", path=str(self.path),
                known=known)
        return fields

    def _rows(self, stream, encoding: str, skip: int) -> Iterator[Event]:
        lines = _DecodedLines(stream, encoding)
        reader = csv.reader(lines, delimiter=self.delimiter, strict=False)
        fields = self._header(reader, lines)
        if not fields:
            return  # an empty file holds no records
        row_no = 0
        while True:
            start_line = lines.line_no + 1
            try:
                row = next(reader)
            except StopIteration:
                break
            except csv.Error as exc:
                row_no += 1
                if row_no > skip:
                    yield self._reject(row_no, lines, start_line,
                                       RecordError(f"malformed CSV: {exc}", "reject_csv_malformed"), "")
                continue
            row_no += 1
            if row_no <= skip:
                lines.bad_lines.clear()
                continue
            if not any(cell.strip(_BLANK) for cell in row):
                lines.bad_lines.clear()
                continue  # a blank line holds no record
            yield self._row_event(row, fields, row_no, lines, start_line)
        if lines.error:
            row_no += 1
            yield RawReject.of(_corrupt_from(lines.line_no + 1, lines.error), "",
                               f"row={row_no};line={lines.line_no}", self._origin(lines.line_no + 1))

    def _reject(self, row_no: int, lines: _DecodedLines, start_line: int, error: RecordError,
                raw: str) -> RawReject:
        return RawReject.of(error, clip(raw), f"row={row_no};line={lines.line_no}", self._origin(start_line),
                            start_line)

    def _row_event(self, row: list[str], fields: list[str | None], row_no: int,
                   lines: _DecodedLines, start_line: int) -> Event:
        raw_row = ",".join(row)
        if lines.bad_lines:
            line, problem = next(iter(lines.bad_lines.items()))
            lines.bad_lines.clear()
            shown = _ESCAPED_BYTE.sub(lambda m: f"\\x{ord(m.group()) - 0xDC00:02x}", raw_row)
            return self._reject(row_no, lines, line, problem, shown)
        if len(row) != len(fields):
            if len(row) < len(fields) and any("\n" in c for c in row):
                error = RecordError(f"expected {len(fields)} fields as in the header, found {len(row)} "
                                    "(an unclosed quote?)", "reject_csv_unclosed_quote", expected=len(fields),
                                    found=len(row))
            else:
                error = RecordError(f"expected {len(fields)} fields as in the header, found {len(row)}",
                                    "reject_csv_field_count", expected=len(fields), found=len(row))
            return self._reject(row_no, lines, start_line, error, raw_row)
        record: dict = {}
        for name, cell in zip(fields, row):
            if name is None:
                continue
            if name in _LIST_FIELDS:
                if not cell.strip():
                    continue
                try:
                    value = json.loads(cell)
                except (json.JSONDecodeError, RecursionError) as exc:
                    msg = (f"{exc.msg} at column {exc.colno}"
                           if isinstance(exc, json.JSONDecodeError) else "nested too deeply")
                    return self._reject(row_no, lines, start_line,
                                        RecordError(f"column {name}: invalid JSON list: {msg}", "reject_csv_list_json",
                                                    column=name), raw_row)
                if not isinstance(value, list):
                    return self._reject(row_no, lines, start_line,
                                        RecordError(f"column {name}: expected a JSON list of {{date, text, user_id}}, "
                                                    f"got {_json_type(value)}", "reject_csv_list_type", column=name,
                                                    json_type=json_type(value)), raw_row)
                record[name] = value
            elif name in _COUNT_FIELDS:
                cell = cell.strip()
                if cell:
                    record[name] = int(cell) if cell.isdigit() and cell.isascii() else cell
            else:
                record[name] = cell
        return RawItem(record=self._with_platform(record),
                       position=f"row={row_no};line={lines.line_no}", origin=self._origin(start_line))


def file_source(path, name: str | None = None, platform: str | None = None,
                encoding: str | None = None) -> JsonLinesSource | CsvSource:
    """The adapter for `path` by suffix: .csv / .csv.gz / .tsv are CSV, anything else JSON Lines."""
    suffixes = [s.lower() for s in Path(path).suffixes]
    if suffixes and suffixes[-1] == ".gz":
        suffixes = suffixes[:-1]
    last = suffixes[-1] if suffixes else ""
    if last == ".csv":
        return CsvSource(path, name=name, platform=platform, encoding=encoding)
    if last == ".tsv":
        return CsvSource(path, name=name, platform=platform, encoding=encoding, delimiter="\t")
    return JsonLinesSource(path, name=name, platform=platform, encoding=encoding)


__all__ = ["JsonLinesSource", "CsvSource", "file_source", "sniff_encoding", "CSV_ALIASES",
           "MAX_REJECT_RAW"]
