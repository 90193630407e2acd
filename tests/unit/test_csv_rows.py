"""The CSV writer on its own: cell escaping, encoding, chunking. No app, no database."""
import csv
import io

import pytest

from resident_app.web.csv_export import Replacements, attachment, encode_rows, safe_cell


@pytest.mark.parametrize("value, expected", [
    ("=HYPERLINK(\"http://x\")", "'=HYPERLINK(\"http://x\")"),
    ("+81 3 1234", "'+81 3 1234"),
    ("-1+2", "'-1+2"),
    ("@SUM(A1)", "'@SUM(A1)"),
    ("＝1+1", "'＝1+1"),         # full-width: Japanese Excel may read it as a formula
    ("−1", "'−1"),              # U+2212, which becomes － in Shift_JIS
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


# --- Shift_JIS (CP932) ---------------------------------------------------------------------------------

def cp932(rows) -> tuple[bytes, int]:
    replaced = Replacements()
    data = b"".join(encode_rows(rows, encoding="cp932", replaced=replaced))
    return data, replaced.count


def test_cp932_has_no_bom_and_keeps_japanese():
    data, replaced = cp932([("参加番号", "名前"), ("OC-1", "髙橋 ①")])    # 髙 and ① are Windows' own
    assert replaced == 0 and not data.startswith(b"\xef\xbb\xbf")
    assert data.decode("cp932") == "参加番号,名前\r\nOC-1,髙橋 ①\r\n"


@pytest.mark.parametrize("text, written", [
    ("〜", "～"), ("a−5", "a－5"), ("‖", "∥"), ("JP-1 – JP-3", "JP-1 - JP-3"), ("¥100", "￥100"), ("a\u00a0b", "a b"),
])
def test_cp932_writes_the_windows_twin_of_a_character_without_counting_it(text, written):
    data, replaced = cp932([(text,)])
    assert replaced == 0 and data.decode("cp932") == written + "\r\n"


@pytest.mark.parametrize("text, written, count", [
    ("𠮷野", "〓野", 1), ("🍀🍀", "〓〓", 2), ("Ærø", "〓r〓", 2), ("ok", "ok", 0),
])
def test_cp932_replaces_what_it_cannot_hold_visibly_and_counts_it(text, written, count):
    data, replaced = cp932([(text, "山田")])
    assert replaced == count and data.decode("cp932") == f"{written},山田\r\n"


def test_cp932_counts_across_chunks():
    rows = [(f"🍀 {n}",) for n in range(450)]
    replaced = Replacements()
    chunks = list(encode_rows(rows, rows_per_chunk=100, encoding="cp932", replaced=replaced))
    assert len(chunks) == 5 and replaced.count == 450


def test_unknown_encoding_is_refused():
    with pytest.raises(ValueError):
        list(encode_rows([("a",)], encoding="latin-1"))


def test_guard_off_writes_cells_as_given():
    text = decode(encode_rows([("-1.500", "=x", None)], guard=False))
    assert text == "\ufeff-1.500,=x,\r\n"
