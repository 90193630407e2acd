"""The CSV writer on its own: cell escaping, encoding, chunking. No app, no database."""
import csv
import io

import pytest

from resident_app.web.csv_export import attachment, encode_rows, safe_cell


@pytest.mark.parametrize("value, expected", [
    ("=HYPERLINK(\"http://x\")", "'=HYPERLINK(\"http://x\")"),
    ("+81 3 1234", "'+81 3 1234"),
    ("-1+2", "'-1+2"),
    ("@SUM(A1)", "'@SUM(A1)"),
    ("\t=1", "'\t=1"),
    ("\r=1", "'\r=1"),
    ("山田 =1", "山田 =1"),      # only the first character matters
    ("", ""),
    (None, ""),
    (1500, 1500),               # yen stay plain integers
    (-300, -300),               # a number, not a formula
    (0, 0),
    ("OC-2026-000001", "OC-2026-000001"),
])
def test_safe_cell(value, expected):
    assert safe_cell(value) == expected


def decode(chunks) -> str:
    return b"".join(chunks).decode("utf-8")


def test_bom_first_then_crlf_rows():
    chunks = list(encode_rows([("number", "amount_yen"), ("OC-1", 1500), ("OC-2", 100)]))
    assert chunks[0] == b"\xef\xbb\xbf"
    assert decode(chunks) == "\ufeffnumber,amount_yen\r\nOC-1,1500\r\nOC-2,100\r\n"


def test_quotes_commas_and_newlines_survive():
    text = decode(encode_rows([("a,b", 'say "hi"', "line\nbreak", "=1")]))
    assert list(csv.reader(io.StringIO(text.lstrip("\ufeff")))) == [["a,b", 'say "hi"', "line\nbreak", "'=1"]]


def test_rows_are_written_in_chunks_as_they_are_read():
    read = []

    def rows():
        for n in range(1000):
            read.append(n)
            yield (n, f"row {n}")

    stream = encode_rows(rows(), rows_per_chunk=100)
    assert next(stream) == b"\xef\xbb\xbf" and read == []
    first = next(stream)
    assert first.count(b"\r\n") == 100 and len(read) == 100  # nothing read ahead of what is written
    rest = list(stream)
    assert len(rest) == 9 and len(read) == 1000


def test_an_empty_export_is_just_the_bom():
    assert list(encode_rows([])) == [b"\xef\xbb\xbf"]


def test_attachment_header_keeps_a_japanese_filename():
    value = attachment("寄付-demo.csv")
    assert value.startswith('attachment; filename="__-demo.csv"')
    assert "filename*=UTF-8''%E5%AF%84%E4%BB%98-demo.csv" in value
