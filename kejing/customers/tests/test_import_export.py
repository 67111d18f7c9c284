"""Import validates every row before writing anything; export round-trips through the importer."""

from __future__ import annotations

import io

import pytest

from kejing.core.models import AuditLog
from kejing.core.tabular import read_table, write_xlsx
from kejing.customers.exports import export_customers
from kejing.customers.importer import import_customers
from kejing.customers.models import Customer

HEADER = "客户编码,客户名称,区域单元编码,客户经理工号,联系电话,许可证号,业态,档位,订货周期\n"


def _table(text: str, encoding="utf-8"):
    return read_table(io.BytesIO(text.encode(encoding)), filename="f.csv")


def test_clean_gbk_file_dry_run_then_import(org):
    text = (
        HEADER + "N1,东关食杂店,T-D1-01,CM1,13811112222,140700000101,食杂店,5,每周一次\n"
        "N2,西街便利店,T-D1-02,CM2,0354-1234567,140700000102,convenience,12,W2\n"
    )
    report = import_customers(_table(text, "gbk"), dry_run=True)
    assert report.ok and report.created == 2 and not Customer.objects.filter(code="N1").exists()
    report = import_customers(_table(text, "gbk"), dry_run=False, actor=org.admin.user)
    assert report.ok and report.created == 2
    n1 = Customer.objects.get(code="N1")
    assert (n1.cm, n1.business_format, n1.tier, n1.order_cycle, n1.name_initials) == (
        org.cm1,
        "grocery",
        5,
        "W1",
        "dgszd",
    )
    assert AuditLog.objects.filter(customer=n1, action="import", actor=org.admin.user).exists()


def test_every_bad_row_is_reported_and_nothing_written(org):
    text = HEADER + (
        "N1,好店,T-D1-01,CM1,12345,140700000101,食杂店,5,W1\n"  # row 2: bad phone
        "N2,好店2,T-D1-01,CM9,13811112222,140700000001,食杂店,5,W1\n"  # row 3: unknown CM, licence of C1
        "N3,好店3,T-D9-01,CM1,13811112222,140700000103,食杂店,5,W1\n"  # row 4: unknown unit
        "N4,好店4,T-D1-01,CM3,13811112222,140700000104,食杂店,31,W9\n"  # row 5: CM of another unit, tier, cycle
        "N5,好店5,T-D1-01,CM1,13811112222,140700000101,食杂店,5,W1\n"  # row 6: licence duplicates row 2
        "N1,,T-D1-01,CM1,13811112222,140700000106,食杂店,5,W1\n"  # row 7: code repeats row 2, no name
        "N7,好店7,T-D1-01,CM1,13811112222,140700000107,食杂店,5,W1\n"  # row 8: fine
    )
    report = import_customers(_table(text), dry_run=False)
    got = {(e.row, e.field) for e in report.errors}
    assert got == {
        (2, "联系电话"),
        (3, "客户经理工号"),
        (3, "许可证号"),
        (4, "区域单元编码"),
        (5, "客户经理工号"),
        (5, "档位"),
        (5, "订货周期"),
        (6, "许可证号"),
        (7, "客户编码"),
        (7, "客户名称"),
    }
    licence_err = next(e for e in report.errors if e.row == 3 and e.field == "许可证号")
    assert "C1" in licence_err.message  # names the customer already holding it
    assert not Customer.objects.filter(code__startswith="N").exists()


def test_unknown_and_missing_columns(org):
    report = import_customers(_table("客户编码,名字\nN1,x\n"))
    fields = {e.field for e in report.errors}
    assert "名字" in fields and "客户名称" in fields and "区域单元编码" in fields


def test_scope_limits_the_importer(org):
    from kejing.org.scoping import unit_scope

    text = HEADER + "N1,东关食杂店,T-D2-01,CM3,13811112222,140700000101,食杂店,5,W1\n"
    report = import_customers(_table(text), allowed_units=unit_scope(org.mm1.user), dry_run=False)
    assert [(e.row, e.field) for e in report.errors] == [(2, "区域单元编码")]
    # updating a customer of another department by its code is refused too
    text = HEADER + "C3,改名,T-D1-01,CM1,13811112222,140700000003,食杂店,5,W1\n"
    report = import_customers(_table(text), allowed_units=unit_scope(org.mm1.user), dry_run=False)
    assert any(e.field == "客户编码" for e in report.errors)


def test_export_then_reimport_is_unchanged_and_update_is_audited(org):
    data, count = export_customers(Customer.objects.all())
    assert count == 3
    table = read_table(io.BytesIO(data), filename="x.xlsx")
    report = import_customers(table, dry_run=False)
    assert report.ok and report.unchanged == 3 and report.updated == 0
    # change one cell and re-import: one update, audited with before/after
    rows = [[r[h] for h in table.header] for _, r in table.rows]
    name_col = table.header.index("客户名称")
    rows[0][name_col] = "改名后的店"
    report = import_customers(read_table(io.BytesIO(write_xlsx(table.header, rows)), "y.xlsx"), dry_run=False)
    assert report.updated == 1
    c = Customer.objects.get(code=rows[0][0])
    assert c.name == "改名后的店" and c.name_initials == "gmhdd"
    entry = AuditLog.objects.get(customer=c, action="import")
    assert entry.changes["name"][1] == "改名后的店"


@pytest.mark.parametrize(
    "industry_row,field",
    [
        ("N1,某公司,T-D1-01,CM1,13811112222,,,,,9114", "统一社会信用代码"),
    ],
)
def test_columns_of_another_industry_are_refused(org, industry_row, field):
    text = HEADER.strip() + ",统一社会信用代码\n" + industry_row + "\n"
    report = import_customers(_table(text))
    assert any(e.field == field for e in report.errors)
