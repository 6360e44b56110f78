"""Upload checks: size, type by content (not only extension), encoding; messages in Chinese and English."""

from __future__ import annotations

import gzip

import pytest

from rumourwatch.uploads import UploadError, check_upload, csv_reader, read_csv

ROSTER = "姓名,专业,级别\n张医生,传染病及地方病防控,省级\n李医生,合理膳食,市级\n"


def test_utf8_and_gb18030_rosters_read_the_same():
    for data, encoding in [(ROSTER.encode("utf-8"), "utf-8"), (ROSTER.encode("gb18030"), "gb18030"),
                           (b"\xef\xbb\xbf" + ROSTER.encode("utf-8"), "utf-8-sig")]:
        upload = check_upload("roster.csv", data)
        assert upload.encoding == encoding
        rows = read_csv(upload, required=("姓名", "专业"))
        assert [r["姓名"] for r in rows] == ["张医生", "李医生"]


def test_too_large_file_is_refused_with_size_and_limit():
    data = ROSTER.encode() * 40_000  # about 2.6 MB
    with pytest.raises(UploadError) as exc:
        check_upload("roster.csv", data, max_mb=1)
    assert "上限为 1 MB" in exc.value.zh and "limit is 1 MB" in exc.value.en
    assert check_upload("roster.csv", data, max_mb=5).size_bytes == len(data)


def test_empty_file_is_refused():
    with pytest.raises(UploadError, match="文件为空"):
        check_upload("roster.csv", b"")


@pytest.mark.parametrize("head,label", [
    (b"PK\x03\x04\x14\x00\x06\x00", "Excel xlsx"),
    (b"%PDF-1.7\n", "PDF"),
    (b"\x89PNG\r\n\x1a\n", "PNG"),
    (b"MZ\x90\x00", "Windows program"),
    (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1", "Excel xls"),
    (b"abc\x00\x00\x01def", "binary"),
])
def test_binary_content_renamed_to_csv_is_refused_by_content(head, label):
    with pytest.raises(UploadError) as exc:
        check_upload("roster.csv", head + b"\x00" * 200)
    assert label in exc.value.zh and "不是文本文件" in exc.value.zh
    assert label in exc.value.en


def test_wrong_extension_is_refused_and_names_the_accepted_types():
    with pytest.raises(UploadError) as exc:
        check_upload("roster.exe", ROSTER.encode())
    assert ".csv" in exc.value.zh and "only .csv" in exc.value.en


def test_undecodable_bytes_name_the_position():
    data = "姓名,专业\n".encode("utf-8") + b"\x80\x81\xff\xfe\xfd,x\n"
    with pytest.raises(UploadError) as exc:
        check_upload("roster.csv", data)
    assert "UTF-8 或 GB18030" in exc.value.zh and "byte" in exc.value.en


def test_utf16_export_gets_a_how_to_fix_message():
    with pytest.raises(UploadError, match="UTF-16"):
        check_upload("roster.csv", ROSTER.encode("utf-16"))


def test_missing_required_column_is_named():
    upload = check_upload("roster.csv", "姓名,级别\n张医生,省级\n".encode())
    with pytest.raises(UploadError) as exc:
        read_csv(upload, required=("姓名", "专业"))
    assert "专业" in exc.value.zh and "现有列：姓名、级别" in exc.value.zh


def test_html_saved_as_csv_is_refused():
    with pytest.raises(UploadError, match="HTML/JSON"):
        check_upload("roster.csv", b"<html><body><script>alert(1)</script></body></html>")


def test_jsonl_data_file_gzip_and_zip_bomb():
    lines = '{"id": "a1", "text": "测试", "date": "2026-11-01 08:00"}\n' * 10
    assert check_upload("posts.jsonl.gz", gzip.compress(lines.encode()), kinds=("jsonl",),
                        allow_gzip=True).compressed
    with pytest.raises(UploadError, match="压缩文件"):
        check_upload("posts.jsonl.gz", gzip.compress(lines.encode()), kinds=("jsonl",))
    bomb = gzip.compress(b'{"id": "x"}' + b" " * (30 * 1024 * 1024))
    assert len(bomb) < 100_000
    with pytest.raises(UploadError, match="解压后"):
        check_upload("posts.jsonl.gz", bomb, kinds=("jsonl",), allow_gzip=True, max_mb=10)
    with pytest.raises(UploadError, match="不是有效的 JSON"):
        check_upload("posts.jsonl", b"id,text\n1,x\n", kinds=("jsonl",))
    with pytest.raises(UploadError, match="gzip"):
        check_upload("posts.jsonl", gzip.compress(lines.encode()), kinds=("jsonl",))


def test_the_separator_is_read_from_the_header_not_from_the_free_text_below_it():
    # the rows' own words carry tabs, semicolons and commas; only the header says which one separates
    text = "工单号,举报内容\nGD-1,\"网传：喝醋;吃蒜\t能防癌, 快转\"\nGD-2,第二条\n"
    assert [r["举报内容"] for r in csv_reader(text)] == ["网传：喝醋;吃蒜\t能防癌, 快转", "第二条"]
    for sep in ("\t", ";"):
        rows = list(csv_reader(f"姓名{sep}专业\n张医生{sep}合理膳食,营养\n"))
        assert rows == [{"姓名": "张医生", "专业": "合理膳食,营养"}]
    assert list(csv_reader("姓名\n张医生\n")) == [{"姓名": "张医生"}]  # one column: nothing to separate


def test_bytes_without_a_file_name_are_checked_by_content():
    assert check_upload(None, ROSTER.encode("gb18030")).kind == "csv"
    with pytest.raises(UploadError, match="Excel xlsx"):
        check_upload(None, b"PK\x03\x04\x14\x00\x06\x00")


def test_an_upload_limit_of_zero_is_a_configuration_error_not_a_refusal_of_every_file():
    from rumourwatch.config import load_settings
    from rumourwatch.errors import ConfigError

    assert load_settings({"RUMOURWATCH_MAX_UPLOAD_MB": "2.5"}).max_upload_mb == 2.5
    with pytest.raises(ConfigError) as caught:
        load_settings({"RUMOURWATCH_MAX_UPLOAD_MB": "0"})
    assert caught.value.key == "setting_max_upload_mb"
