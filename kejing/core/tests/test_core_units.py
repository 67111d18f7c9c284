"""Unit tests of the pure helpers: policy files, pinyin keys, tabular reading, validators."""

from __future__ import annotations

import io

import pytest
from openpyxl import Workbook, load_workbook

from kejing.core.pinyin import pinyin_keys
from kejing.core.policy import INDUSTRIES, PolicyError, load_policy, policy_files
from kejing.core.tabular import TableError, read_table, write_csv, write_xlsx
from kejing.core.validators import credit_code_error, credit_code_with_check, normalize_phone, phone_error


def test_every_policy_file_parses_with_meta():
    files = policy_files()
    assert {f.industry for f in files} == set(INDUSTRIES)
    for f in files:
        assert f.version and f.title and f.effective_from.year >= 2026


def test_customer_policy_has_authority_for_order_cycle():
    data = load_policy("tobacco", "customers")
    assert data["fields"]["order_cycle"]["steps"] == ["market_manager", "center", "admin"]
    assert data["fields"]["name"]["mode"] == "route"
    assert data["tiers"] == {"min": 1, "max": 30}


def test_unknown_policy_is_a_clear_error(tmp_path):
    with pytest.raises(PolicyError, match="unknown industry"):
        load_policy("airline", "customers")
    (tmp_path / "bank").mkdir()
    (tmp_path / "bank" / "broken.toml").write_text("[meta]\nversion='1'\n", encoding="utf-8")
    with pytest.raises(PolicyError, match="effective_from"):
        load_policy("bank", "broken", base=tmp_path)


@pytest.mark.parametrize(
    "text,initials,full",
    [("中国移动", "zgyd", "zhongguoyidong"), ("7天便利店", "7tbld", "7tianbianlidian"), ("", "", "")],
)
def test_pinyin_keys(text, initials, full):
    assert pinyin_keys(text) == (initials, full)


def test_csv_in_gbk_and_utf8_reads_the_same():
    rows = "客户编码,客户名称\nC1,华联超市\n\nC2,老王烟酒店\n"
    gbk = read_table(io.BytesIO(rows.encode("gbk")), filename="a.csv")
    utf = read_table(io.BytesIO(rows.encode("utf-8-sig")), filename="a.csv")
    assert gbk.encoding == "gbk" and utf.encoding == "utf-8"
    assert gbk.rows == utf.rows
    # the blank line is skipped, but row numbers stay those Excel would show
    assert [n for n, _ in gbk.rows] == [2, 4]
    assert gbk.rows[1][1] == {"客户编码": "C2", "客户名称": "老王烟酒店"}


def test_xlsx_round_trip_and_numbers_as_text():
    data = write_xlsx(["编码", "档位"], [["C1", 12], ["C2", 3.0]])
    table = read_table(io.BytesIO(data), filename="x.xlsx")
    assert table.rows == [(2, {"编码": "C1", "档位": "12"}), (3, {"编码": "C2", "档位": "3"})]
    ws = load_workbook(io.BytesIO(data)).active
    assert ws["A1"].font.bold


def test_bad_files_are_refused_clearly():
    with pytest.raises(TableError, match="xlsx"):
        read_table(io.BytesIO(b"x"), filename="a.pdf")
    with pytest.raises(TableError, match="empty"):
        read_table(io.BytesIO(b"\n\n"), filename="a.csv")
    with pytest.raises(TableError, match="Excel"):
        read_table(io.BytesIO(b"PK\x03\x04garbage"), filename="a.xlsx")
    wb = Workbook()
    buf = io.BytesIO()
    wb.save(buf)
    with pytest.raises(TableError):
        read_table(io.BytesIO(buf.getvalue()), filename="blank.xlsx")


def test_csv_writer_has_bom_for_excel():
    assert write_csv(["a"], [["中"]]).startswith("\ufeff".encode())


@pytest.mark.parametrize(
    "raw,norm,ok",
    [
        ("139 0000 0000", "13900000000", True),
        ("+8613900000000", "13900000000", True),
        ("0351-1234567", "0351-1234567", True),
        ("12900000000", "12900000000", False),
        ("1390000", "1390000", False),
        ("０３５１－１２３４５６７", "0351-1234567", True),
    ],
)
def test_phone(raw, norm, ok):
    assert normalize_phone(raw) == norm
    assert (phone_error(norm) is None) is ok


def test_credit_code_check_character():
    # A published example code: 91350100M000100Y43 (check character 3)
    assert credit_code_error("91350100M000100Y43") is None
    assert "校验位" in credit_code_error("91350100M000100Y44")
    assert credit_code_with_check("91350100M000100Y4") == "91350100M000100Y43"
    assert credit_code_error("123") is not None


def test_policy_edits_reach_other_processes_after_the_cache_expires(policies, monkeypatch):
    from kejing.core import policies as pol
    from kejing.core.models import PolicyDocument

    assert pol.get_policy("tobacco", "customers")["tiers"]["max"] == 30
    doc = PolicyDocument.objects.get(industry="tobacco", name="customers")
    data = doc.data
    data["tiers"]["max"] = 40
    PolicyDocument.objects.filter(pk=doc.pk).update(data=data)  # as another process would: no signal here
    assert pol.get_policy("tobacco", "customers")["tiers"]["max"] == 30  # still cached
    monkeypatch.setattr(pol, "CACHE_SECONDS", 0.0)
    assert pol.get_policy("tobacco", "customers")["tiers"]["max"] == 40
    pol.clear_cache()


def test_a_title_above_the_header_is_passed_over_and_rows_keep_their_numbers():
    # a report saved from another system: a title, a blank line and the unit above the header
    rows = "客户信息导出\n\n导出日期:2026-11-27\n客户编码,客户名称,档位\nC1,华联超市,12\nC2,老王烟酒店,3\n"
    table = read_table(io.BytesIO(rows.encode("gbk")), filename="a.csv")
    assert table.header == ["客户编码", "客户名称", "档位"]
    assert table.rows == [
        (5, {"客户编码": "C1", "客户名称": "华联超市", "档位": "12"}),
        (6, {"客户编码": "C2", "客户名称": "老王烟酒店", "档位": "3"}),
    ]
    wb = Workbook()
    ws = wb.active
    for row in (["客户信息导出"], [], ["客户编码", "客户名称", "档位"], ["C1", "华联超市", 12]):
        ws.append(row)
    buf = io.BytesIO()
    wb.save(buf)
    table = read_table(io.BytesIO(buf.getvalue()), filename="a.xlsx")
    assert table.header == ["客户编码", "客户名称", "档位"] and table.rows == [
        (4, {"客户编码": "C1", "客户名称": "华联超市", "档位": "12"})
    ]
    # a header with one blank cell among three is still the header
    table = read_table(io.BytesIO(",客户编码,客户名称\n1,C1,华联超市\n".encode()), filename="b.csv")
    assert table.header == ["", "客户编码", "客户名称"] and table.rows[0][0] == 2


def test_read_table_keeps_one_string_per_repeated_short_cell():
    """A ledger repeats its codes, months and small numbers over millions of cells: each distinct short text is
    one object (``tabular.SHARED_CELL``), a long one is left as read; the values are the same either way."""
    from kejing.core import tabular

    long = "x" * (tabular.SHARED_CELL + 1)
    text = f"客户编码,月份,需求量,备注\nC1,2026-03,12,{long}\nC2,2026-03,12,{long}\n"
    table = tabular.read_table(io.BytesIO(text.encode("utf-8")), filename="l.csv")
    (_, a), (_, b) = table.rows
    assert a == {"客户编码": "C1", "月份": "2026-03", "需求量": "12", "备注": long}
    assert b["月份"] is a["月份"] and b["需求量"] is a["需求量"]
    assert b["备注"] == a["备注"] and b["备注"] is not a["备注"]
