"""T28: malformed CSV files are imported with a row-by-row report, or refused with a reason.

Every import is done twice, through the pyarrow chunk path and line by line, and both must
agree on the data and on every rejected or flagged line.
"""

from __future__ import annotations

import codecs
import math
from pathlib import Path

import numpy as np
import pytest

from app.data.csv.importer import import_csv
from app.data.csv.options import CsvOptions
from app.data.errors import ImportRefused
from app.data.recording import Recording
from tests.data.conftest import flagged_lines, rejected_lines

GOOD = "time,a,b\n0,1,2\n1,2,3\n2,3,4\n"


def both(path: Path, opts: CsvOptions | None = None) -> Recording:
    """Import both ways; assert they agree and the counts balance; return the fast one."""
    fast = import_csv(path, opts, work_dir=path.parent / "work")
    slow = import_csv(path, opts, work_dir=path.parent / "work", careful=True)
    try:
        assert fast.report.issues == slow.report.issues
        a, b = fast.read_table(), slow.read_table()
        assert a.column_names == b.column_names
        for name in a.column_names:
            assert np.array_equal(a[name].to_numpy(), b[name].to_numpy(), equal_nan=True)
        for rec in (fast, slow):
            r = rec.report
            assert r.rows_in == r.rows_accepted + r.rows_rejected
            assert rec.num_rows == r.rows_accepted == rec.read_table().num_rows
    finally:
        slow.discard()
    return fast


def test_clean_file_has_an_empty_report(csv_file):
    rec = both(csv_file(GOOD))
    assert rec.report.rows_in == 3 and rec.report.issues == []
    assert rec.channel_names == ["a", "b"] and rec.time_column == "time"
    assert rec.column("b").tolist() == [2.0, 3.0, 4.0]


def test_wrong_field_counts_are_rejected_by_line(csv_file):
    rec = both(csv_file("time,a,b\n0,1,2\n1,2\n2,3,4,5\n3,4,5\n"))
    assert rejected_lines(rec.report) == {3: "expected 3 fields, found 2",
                                          4: "expected 3 fields, found 4"}
    assert rec.column("time").tolist() == [0.0, 3.0]


def test_unterminated_quote_rejects_only_its_line(csv_file):
    rec = both(csv_file('time,a,b\n0,1,2\n1,"2,3\n2,3,4\n3,"4",5\n'))
    assert rejected_lines(rec.report) == {3: "unterminated quote"}
    assert rec.column("a").tolist() == [1.0, 3.0, 4.0]


def test_utf8_bom_is_not_part_of_the_first_name(csv_file):
    rec = both(csv_file(codecs.BOM_UTF8 + GOOD.encode()))
    assert rec.time_column == "time" and rec.num_rows == 3
    assert rec.provenance["encoding"] == "utf-8-sig"


@pytest.mark.parametrize("encoding", ["utf-16", "utf-16-le", "utf-16-be"])
def test_utf16_with_or_without_bom(csv_file, encoding):
    text = "time;druck [bar];b\n0;1,5;2\n1;2,5;3\n"
    rec = both(csv_file(text.encode(encoding)))
    assert rec.channel_names == ["druck", "b"] and rec.units["druck"] == "bar"
    assert rec.column("druck").tolist() == [1.5, 2.5]
    assert rec.provenance["delimiter"] == ";" and rec.provenance["decimal"] == ","


def test_invalid_utf8_and_nul_bytes_reject_their_lines(csv_file):
    rows = "".join(f"{i},{i},{i}\n" for i in range(3, 40))
    data = b"time,a,b\n0,1,2\n1,\xff\xfe,3\n2,4\x005,6\n" + rows.encode()
    rec = both(csv_file(data))
    bad = rejected_lines(rec.report)
    assert bad[3].startswith("not valid UTF-8 text")
    assert bad[4] == "NUL byte in line"
    assert set(bad) == {3, 4} and rec.num_rows == 38


@pytest.mark.parametrize("header, column", [("time,a,a\n", "'a' appears twice"),
                                            ("time,a [V],a [mV]\n", "'a' appears twice"),
                                            ("time,,b\n", "column 2 has an empty name")])
def test_duplicate_or_empty_header_names_are_refused(csv_file, header, column):
    with pytest.raises(ImportRefused, match=column) as info:
        import_csv(csv_file(header + "0,1,2\n"))
    assert "line 1" in str(info.value)


def test_very_long_lines_are_rejected_without_reading_them_whole(csv_file):
    long = "1," + "9" * 3_000_000 + ",2\n"
    rec = both(csv_file("time,a,b\n0,1,2\n" + long + "2,3,4\n"))
    assert rejected_lines(rec.report) == {3: "line longer than 1048576 bytes"}
    assert rec.num_rows == 2


def test_a_line_cap_smaller_than_a_chunk_is_enforced(csv_file):
    rec = both(csv_file("time,a,b\n0,1,2\n1," + "1" * 200 + ",2\n2,3,4\n"),
               CsvOptions(max_line_bytes=100))
    assert rejected_lines(rec.report) == {3: "line longer than 100 bytes"}


def test_nan_inf_and_overflow_are_rejected_by_default(csv_file):
    rec = both(csv_file("time,a,b\n0,1,2\n1,nan,2\n2,inf,2\n3,-inf,2\n4,1e309,2\n5,,2\n6,1,2\n"))
    bad = rejected_lines(rec.report)
    assert bad[3] == "NaN in column 'a'"
    assert all(bad[n].startswith("infinite value") for n in (4, 5, 6))
    assert bad[7] == "missing value in column 'a'"
    assert rec.column("time").tolist() == [0.0, 6.0]


def test_nan_policy_per_column(csv_file):
    path = csv_file("time,a,b\n0,nan,2\n1,1,inf\n2,1e309,nan\n3,1,2\n")
    rec = both(path, CsvOptions(nan_policy={"a": "keep", "b": "flag"}))
    assert rejected_lines(rec.report) == {}
    assert flagged_lines(rec.report) == {
        3: "infinite value (inf, or beyond the float64 range such as 1e309) in column 'b'",
        4: "NaN in column 'b'"}
    assert rec.report.rows_flagged == 2 and rec.num_rows == 4
    a = rec.column("a")
    assert math.isnan(a[0]) and math.isinf(a[2])
    rec = both(path, CsvOptions(nan_policy={"*": "keep", "a": "reject"}))
    assert set(rejected_lines(rec.report)) == {2, 4}


def test_text_in_numbers_names_column_and_value(csv_file):
    rec = both(csv_file("time,a,b\n0,1,2\n1,12abc,2\n2,1,1_000\n3,1,2\n"))
    assert rejected_lines(rec.report) == {3: "text in numeric column 'a': '12abc'",
                                          4: "text in numeric column 'b': '1_000'"}


def test_non_monotonic_time_is_rejected_or_flagged(csv_file):
    path = csv_file("time,a\n0,1\n1,1\n1,2\n0.5,3\n2,4\n")
    rec = both(path)
    assert rejected_lines(rec.report) == {
        4: "time 1 does not increase (previous 1)", 5: "time 0.5 does not increase (previous 1)"}
    assert rec.column("time").tolist() == [0.0, 1.0, 2.0]
    rec = both(path, CsvOptions(time_order="flag"))
    assert set(flagged_lines(rec.report)) == {4, 5} and rec.num_rows == 5


def test_empty_lines_count_as_rejected_rows(csv_file):
    rec = both(csv_file("time,a\n0,1\n\n1,2\n,\n2,3\n\n"))
    assert rejected_lines(rec.report) == {3: "no values (empty line)",
                                          5: "no values (empty line)",
                                          7: "no values (empty line)"}
    assert rec.report.rows_in == 6


@pytest.mark.parametrize("content, message", [
    (b"", "the file is empty"),
    (b"time,a\r0,1\r1,2\r", "CR alone"),
    (b"time,a\n", "no row was accepted"),
    (b"time,a\nx,1\ny,2\n", "neither seconds nor an ISO 8601"),
    (b"a,b\n1,2\n3,4\n", "no time column found"),
    (b"time,a\n0,1\n1,nan\n", None),
    (b"time,status\n0,ok\n1,ok\n2,ok\n3,ok\n", "'status' is not numeric"),
])
def test_files_that_cannot_be_imported_are_refused(csv_file, content, message):
    if message is None:  # every row but one fine: imported
        assert both(csv_file(content)).num_rows == 1
        return
    with pytest.raises(ImportRefused, match=message) as info:
        import_csv(csv_file(content))
    assert "data.csv" in str(info.value)


def test_all_rows_rejected_is_refused_with_the_first_reason(csv_file):
    with pytest.raises(ImportRefused, match=r"no row was accepted \(2 rejected; first: line 2"):
        import_csv(csv_file("time,a\n0,x\n1,y\n"))


def test_failure_leaves_no_spool_behind(csv_file, tmp_path):
    work = tmp_path / "work"
    with pytest.raises(ImportRefused):
        import_csv(csv_file("time,a\n0,x\n"), work_dir=work)
    assert list(work.iterdir()) == []


def test_dialects_are_detected(csv_file):
    rec = both(csv_file("zeit\tp (bar)\n0\t1.5\n0.5\t2\n"))
    assert rec.time_column == "zeit" and rec.units == {"p": "bar"}
    rec = both(csv_file("1;2,5\n2;3,5\n"), CsvOptions(sample_rate=100.0))
    assert rec.channel_names == ["column_1", "column_2"]
    assert rec.column("t").tolist() == [0.0, 0.01]
    assert rec.column("column_2").tolist() == [2.5, 3.5]


def test_sample_rate_keeps_gaps_where_rows_were_rejected(csv_file):
    rec = both(csv_file("a\n1\nx\n3\n"), CsvOptions(sample_rate=10.0))
    assert rec.column("t").tolist() == [0.0, 0.2]


def test_iso_timestamps_become_unix_seconds(csv_file):
    rec = both(csv_file("timestamp,a\n2024-01-01T00:00:00,1\n2024-01-01 00:00:01.5,2\n"
                        "2024-01-01T00:00:01Z,3\n"))
    assert rec.time_origin == "unix"
    assert rec.column("timestamp").tolist() == [1704067200.0, 1704067201.5]
    assert rejected_lines(rec.report) == {4: "time 1704067201 does not increase "
                                             "(previous 1704067201.5)"}


def test_cp1252_file_is_read(csv_file):
    rec = both(csv_file("time,temp [\u00b5V]\n0,1\n1,2\n".encode("cp1252")))
    assert rec.units == {"temp": "\u00b5V"}


def test_listing_cap_counts_the_rest_by_reason(csv_file):
    body = "".join(f"{i},{'1' if i % 5 == 0 else 'x'}\n" for i in range(60))
    rec = both(csv_file("time,a\n" + body), CsvOptions(max_listed_issues=10))
    r = rec.report
    assert len(r.issues) == 10 and r.rows_rejected == 48 and rec.num_rows == 12
    assert sum(r.unlisted.values()) == 38
    assert "counted by reason only" in r.summary()


def test_unknown_column_in_nan_policy_is_a_usage_error(csv_file):
    from app.core.errors import UsageError

    with pytest.raises(UsageError, match="'zz'"):
        import_csv(csv_file(GOOD), CsvOptions(nan_policy={"zz": "keep"}))


def test_channel_selection_and_units_override(csv_file):
    rec = both(csv_file(GOOD), CsvOptions(columns=["b"], units={"b": "mm/s"}))
    assert rec.channel_names == ["b"] and rec.units == {"b": "mm/s"}
    assert np.array_equal(rec.column("b"), [2.0, 3.0, 4.0])
