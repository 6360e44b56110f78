"""Checks for files users upload (expert rosters, data files): size, type by content, encoding.

Every CSV import (the expert roster, hotline tips, units; from the dashboard or the CLI) calls
`check_upload(name, data, kinds)` before reading anything; it returns the decoded text or raises
`UploadError` whose message says what is wrong in Chinese and English (the dashboard shows `exc.zh`,
the CLI and logs both). The extension alone is never trusted: a spreadsheet, PDF, image, archive or
program renamed to .csv is recognised by its first bytes and refused. `csv_reader` then reads the
rows, comma-, tab- or semicolon-separated as the header shows. The tables an office keeps in Excel
(the expert roster, hotline exports, the units' 信息报送台账) are also read from a workbook named
.xlsx, its first sheet (`read_xlsx`, guarded against a workbook that unpacks to far more than the
limit); `table_rows` gives either as rows with their line or Excel row number.
"""

from __future__ import annotations

import csv
import gzip
import io
import json
from dataclasses import dataclass

from .errors import RumourwatchError

MB = 1024 * 1024
MAX_MB = 10.0  # the largest file accepted unless the caller says (settings.max_upload_mb)

# Text formats accepted, by extension. `.gz` may wrap jsonl/csv for data files.
KINDS = {
    "csv": (".csv", ".tsv"),
    "jsonl": (".jsonl", ".ndjson", ".json"),
    "txt": (".txt",),
}

# First bytes of formats people upload by mistake (or on purpose), with a name users recognise.
MAGIC = [
    (b"PK\x03\x04", "ZIP/Excel xlsx/Word docx"),
    (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1", "Excel xls/Word doc (OLE)"),
    (b"%PDF", "PDF"),
    (b"\x89PNG", "PNG image"),
    (b"\xff\xd8\xff", "JPEG image"),
    (b"GIF8", "GIF image"),
    (b"SQLite format 3\x00", "SQLite database"),
    (b"MZ", "Windows program"),
    (b"\x7fELF", "Linux program"),
    (b"Rar!", "RAR archive"),
    (b"7z\xbc\xaf\x27\x1c", "7z archive"),
    (b"{\\rtf", "RTF document"),
]


class UploadError(RumourwatchError):
    """An uploaded file was refused; `zh` and `en` say why, in Chinese and English."""

    def __init__(self, zh: str, en: str):
        super().__init__(f"{zh} / {en}")
        self.zh = zh
        self.en = en


@dataclass(frozen=True)
class Upload:
    name: str
    kind: str
    encoding: str
    text: str
    size_bytes: int
    compressed: bool = False

    @property
    def lines(self) -> list[str]:
        return self.text.splitlines()


def _sniff_binary(data: bytes) -> str | None:
    for magic, label in MAGIC:
        if data.startswith(magic):
            return label
    if b"\x00" in data[:8192] and not data.startswith((b"\xff\xfe", b"\xfe\xff")):
        return "binary data"  # (UTF-16 text is full of NULs too: decode_text explains how to fix it)
    return None


def decode_text(data: bytes) -> tuple[str, str]:
    """(text, encoding) for UTF-8 (with or without BOM) or GB18030; UploadError otherwise."""
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        raise UploadError("文件为 UTF-16 编码，请在表格软件中另存为“CSV UTF-8”后重新上传。",
                          "the file is UTF-16; save it as UTF-8 (e.g. 'CSV UTF-8') and upload again")
    if data.startswith(b"\xef\xbb\xbf"):
        data, bom = data[3:], True
    else:
        bom = False
    try:
        return data.decode("utf-8"), "utf-8-sig" if bom else "utf-8"
    except UnicodeDecodeError as exc:
        utf8_error = exc
    if not bom:
        try:
            return data.decode("gb18030"), "gb18030"
        except UnicodeDecodeError:
            pass
    pos = utf8_error.start
    raise UploadError(
        f"无法识别文件编码（第 {pos + 1} 个字节处）：请另存为 UTF-8 或 GB18030 编码后重新上传。",
        f"cannot decode the file (at byte {pos + 1}): it is neither UTF-8 nor GB18030; save it as UTF-8")


def check_upload(name: str | None, data: bytes, kinds: tuple[str, ...] = ("csv",), max_mb: float = MAX_MB,
                 allow_gzip: bool = False) -> Upload:
    """Check an uploaded file and return its text. Refuses (UploadError) a file that is empty, larger
    than `max_mb`, of a type not in `kinds` by extension or by content, or not UTF-8/GB18030 text.
    Without a `name` (bytes handed over by a program, not a file) the extension is not checked and the
    content is read as `kinds[0]`."""
    name = str(name or "")
    limit = _check_size(data, max_mb)
    size = len(data)
    lower = name.lower() or f"upload{KINDS[kinds[0]][0]}"
    compressed = False
    if lower.endswith(".gz"):
        if not allow_gzip:
            raise UploadError("此处不接受压缩文件（.gz），请上传解压后的文件。",
                              "compressed (.gz) files are not accepted here; upload the plain file")
        if not data.startswith(b"\x1f\x8b"):
            raise UploadError("文件扩展名为 .gz，但内容不是 gzip 压缩格式。",
                              "the file is named .gz but is not gzip-compressed")
        data = _gunzip_capped(data, limit, max_mb)
        lower, compressed = lower[:-3], True
    elif data.startswith(b"\x1f\x8b"):
        raise UploadError("文件内容为 gzip 压缩格式，但扩展名不是 .gz。请解压后上传。",
                          "the file is gzip-compressed but not named .gz; decompress it first")
    allowed = [ext for k in kinds for ext in KINDS[k]]
    kind = next((k for k in kinds for ext in KINDS[k] if lower.endswith(ext)), None)
    if kind is None:
        raise UploadError(f"不支持的文件类型“{name}”：仅接受 {'、'.join(allowed)} 文件。",
                          f"unsupported file type {name!r}: only {', '.join(allowed)} files are accepted")
    binary = _sniff_binary(data)
    if binary:
        raise UploadError(f"文件扩展名为 {lower.rsplit('.', 1)[-1]}，但内容是 {binary}，不是文本文件。"
                          f"请导出为 {'、'.join(allowed)} 文本文件后重新上传。",
                          f"the file is named like text but its content is {binary}; export it as "
                          f"{', '.join(allowed)} text")
    text, encoding = decode_text(data)
    if kind == "jsonl":
        _check_jsonl_start(text)
    elif kind == "csv":
        _check_csv_start(text)
    return Upload(name=name, kind=kind, encoding=encoding, text=text, size_bytes=size, compressed=compressed)


def _check_size(data: bytes, max_mb: float) -> int:
    """UploadError for an empty file or one over `max_mb`; the limit in bytes otherwise."""
    limit = int(max_mb * MB)
    if not data:
        raise UploadError("文件为空，请检查后重新上传。", "the file is empty")
    if len(data) > limit:
        raise UploadError(f"文件过大（{len(data) / MB:.1f} MB），上限为 {max_mb:g} MB。请拆分后分批上传。",
                          f"the file is too large ({len(data) / MB:.1f} MB); the limit is {max_mb:g} MB")
    return limit


def _gunzip_capped(data: bytes, limit: int, max_mb: float) -> bytes:
    # A small .gz can expand to gigabytes (a "zip bomb"): read at most the limit plus one byte.
    try:
        with gzip.GzipFile(fileobj=io.BytesIO(data)) as fh:
            out = fh.read(limit + 1)
    except (OSError, EOFError) as exc:
        raise UploadError("压缩文件已损坏，无法解压。", f"the gzip file is damaged: {exc}") from exc
    if len(out) > limit:
        raise UploadError(f"解压后文件超过 {max_mb:g} MB 上限。", f"the file exceeds {max_mb:g} MB once decompressed")
    return out


def _check_jsonl_start(text: str) -> None:
    first = next((line for line in text.splitlines() if line.strip()), None)
    if first is None:
        raise UploadError("文件中没有任何记录。", "the file holds no records")
    try:
        value = json.loads(first)
    except ValueError as exc:
        raise UploadError(f"文件第一条记录不是有效的 JSON：{exc}。应为每行一个 JSON 对象（JSON Lines）。",
                          f"the first record is not valid JSON ({exc}); expected one JSON object per line") from exc
    if not isinstance(value, (dict, list)):
        raise UploadError("文件内容不是 JSON 对象，应为每行一个 JSON 对象（JSON Lines）。",
                          "expected one JSON object per line")


def _check_csv_start(text: str) -> None:
    header = next((line for line in text.splitlines() if line.strip()), None)
    if header is None:
        raise UploadError("文件中没有任何内容（缺少表头）。", "the file holds no header row")
    if header.lstrip().startswith(("<", "{", "[")):
        raise UploadError("文件内容看起来是 HTML/JSON，而不是 CSV 表格。", "the content looks like HTML/JSON, not CSV")


DELIMITERS = (",", "\t", ";")


def csv_reader(text: str) -> csv.DictReader:
    """A DictReader over CSV text separated by commas, tabs (a "text" export of a spreadsheet or a
    hotline system) or semicolons (spreadsheets set to a European locale): the separator the header
    row uses most, commas when it uses none. Read from the header alone, because the rows' free text
    (a reported rumour, an expert's title) may hold any number of the others."""
    header = next((line for line in text.splitlines() if line.strip()), "")
    counts = [header.count(d) for d in DELIMITERS]
    delimiter = DELIMITERS[counts.index(max(counts))] if max(counts) else ","
    return csv.DictReader(io.StringIO(text), delimiter=delimiter)


def read_csv(upload: Upload, required: tuple[str, ...] = ()) -> list[dict]:
    """Rows of a checked CSV upload as dicts; UploadError naming the missing columns."""
    reader = csv_reader(upload.text)
    columns = [c.strip() for c in (reader.fieldnames or [])]
    missing = [c for c in required if c not in columns]
    if missing:
        raise UploadError(f"缺少必需的列：{'、'.join(missing)}（现有列：{'、'.join(columns) or '无'}）。",
                          f"missing required column(s): {', '.join(missing)} (found: {', '.join(columns) or 'none'})")
    try:
        return [{(k or "").strip(): v for k, v in row.items()} for row in reader]
    except csv.Error as exc:
        raise UploadError(f"CSV 格式错误（第 {reader.line_num} 行）：{exc}", f"CSV error at line {reader.line_num}: {exc}") from exc


# --- Excel workbooks (.xlsx): an office's ledger lives in one ---------------------------------------

XLSX_EXPANSION = 20  # a workbook's parts may unpack to at most this many times the upload limit


def is_xlsx(name: str | None) -> bool:
    """Whether an upload is meant as an Excel workbook: named .xlsx (its content is checked when read)."""
    return str(name or "").lower().endswith(".xlsx")


def read_xlsx(name: str | None, data: bytes, max_mb: float = MAX_MB) -> tuple[list[str], list[tuple[int, list[str]]]]:
    """The first worksheet of an .xlsx workbook: its header (the first row with a value) and each
    following row with a value, as (row number in Excel, cells as text: a date cell as 2026-11-05,
    a whole number without its .0). UploadError when the file is empty, too large, not a workbook,
    or unpacks to more than XLSX_EXPANSION times the limit (a zip bomb)."""
    import zipfile
    from datetime import date, datetime

    limit = _check_size(data, max_mb)
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            names = archive.namelist()
            unpacked = sum(i.file_size for i in archive.infolist())
    except zipfile.BadZipFile as exc:
        raise UploadError(f"文件“{name}”不是 Excel 工作簿（.xlsx）：请用 Excel 或 WPS 另存为 .xlsx 或 CSV 后重新上传。",
                          f"{name!r} is not an Excel workbook (.xlsx)") from exc
    if "xl/workbook.xml" not in names:
        raise UploadError(f"文件“{name}”不是 Excel 工作簿（.xlsx），可能是 Word 文档或其他压缩包。",
                          f"{name!r} is a zip archive but not an Excel workbook")
    if unpacked > XLSX_EXPANSION * limit:
        raise UploadError(f"工作簿解压后超过 {XLSX_EXPANSION * max_mb:g} MB，请拆分后分批上传。",
                          f"the workbook unpacks to more than {XLSX_EXPANSION * max_mb:g} MB")
    from openpyxl import load_workbook

    try:
        book = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except Exception as exc:  # openpyxl raises many kinds on a damaged workbook
        raise UploadError(f"无法读取工作簿“{name}”：{exc}。请用 Excel 或 WPS 打开检查后另存。",
                          f"cannot read the workbook {name!r}: {exc}") from exc

    def text(value) -> str:
        if value is None:
            return ""
        if isinstance(value, datetime):
            return value.date().isoformat() if value.time() == datetime.min.time() else value.isoformat(" ")
        if isinstance(value, date):
            return value.isoformat()
        if isinstance(value, float) and value.is_integer():
            return str(int(value))
        return str(value)

    try:
        sheet = book.worksheets[0]
        header, rows = None, []
        for number, values in enumerate(sheet.iter_rows(values_only=True), 1):
            cells = [text(v).strip() for v in values]
            if not any(cells):
                continue
            if header is None:
                header = cells
            else:
                rows.append((number, cells))
    finally:
        book.close()
    if header is None:
        raise UploadError("工作簿的第一个工作表没有任何内容（缺少表头）。", "the workbook's first sheet is empty")
    while header and not header[-1]:
        header.pop()
    return header, rows


def table_rows(name: str | None, data: bytes, max_mb: float = MAX_MB, kinds: tuple[str, ...] = ("csv",),
               rename=lambda column: column) -> tuple[list[str], list[tuple[int, dict]]]:
    """A table a user uploads — an Excel workbook's first sheet (named .xlsx: `read_xlsx`) or CSV
    text (`check_upload` with `kinds`, then `csv_reader`) — as its header and its rows, each (line
    in the file or Excel row number, {column: value}, with any values beyond the header as a list
    under None, as csv.DictReader gives them). Column names are stripped, then `rename`d (a Chinese
    header to the importer's own name)."""
    if is_xlsx(name):
        names, cells = read_xlsx(name, data, max_mb)
        header = [rename(n.strip()) for n in names]
        return header, [(number, {**dict(zip(header, values[:len(header)], strict=False)),
                                  **({None: extra} if (extra := [v for v in values[len(header):] if v]) else {})})
                        for number, values in cells]
    reader = csv_reader(check_upload(name, data, kinds, max_mb=max_mb).text)
    header = [rename((n or "").strip()) for n in (reader.fieldnames or [])]
    reader.fieldnames = header
    try:
        return header, [(reader.line_num, row) for row in reader]
    except csv.Error as exc:
        raise UploadError(f"CSV 格式错误（第 {reader.line_num} 行）：{exc}",
                          f"CSV error at line {reader.line_num}: {exc}") from exc
