"""Member import: every bad row reported, nothing written until the file is clean; UTF-8, GBK and xlsx."""

from __future__ import annotations

import io
import json

from openpyxl import Workbook

from kejing.core.models import AuditLog
from kejing.core.tabular import read_table
from kejing.groupbiz import services
from kejing.groupbiz.importer import import_members
from kejing.groupbiz.models import Member, UserMember


def csv_bytes(rows, encoding="utf-8"):
    return ("\n".join(",".join(r) for r in rows) + "\n").encode(encoding)


def table(rows, encoding="utf-8", name="m.csv"):
    return read_table(io.BytesIO(csv_bytes(rows, encoding)), filename=name)


def test_every_bad_row_is_reported_and_nothing_written(tel):
    services.add_member(tel.org.cm1.user, tel.e1, "13900000101", "", tel.vnet, "61101")
    services.add_member(tel.org.cm2.user, tel.e2, "13900000003", "", tel.vnet2, "6103")
    rows = [
        ["手机号码", "姓名", "集团用户", "短号"],
        ["13900000201", "甲", tel.vnet.code, "61201"],  # row 2: fine
        ["1390000020", "乙", "", ""],  # row 3: 10 digits
        ["18600000203", "丙", "", ""],  # row 4: China Unicom
        ["13900000201", "丁", "", ""],  # row 5: same number as row 2
        ["13900000002", "戊", "", ""],  # row 6: member of E2
        ["13900000206", "己", tel.vnet.code, "601"],  # row 7: second digit 0
        ["13900000207", "庚", tel.vnet.code, "61201"],  # row 8: short number repeats row 2
        ["13900000208", "辛", tel.vnet.code, "61101"],  # row 9: short number taken by 13900000101
        ["13900000209", "壬", "U-NOPE", ""],  # row 10: unknown group user
        ["13900000210", "癸", tel.data.code, "61210"],  # row 11: short number outside a V-net
        ["13900000003", "子", "U-NOPE", ""],  # row 12: unknown group user AND member of E2 (both listed)
    ]
    rep = import_members(tel.e1, table(rows), actor=tel.org.cm1.user, dry_run=False)
    got = {(e.row, e.field) for e in rep.errors}
    assert got == {
        (3, "手机号码"),
        (4, "手机号码"),
        (5, "手机号码"),
        (6, "手机号码"),
        (7, "短号"),
        (8, "短号"),
        (9, "短号"),
        (10, "集团用户"),
        (11, "短号"),
        (12, "集团用户"),
        (12, "手机号码"),
    }
    msg = {e.row: e.message for e in rep.errors}
    assert "member of another EC: 示范制造集团" in msg[6]
    assert any(e.row == 12 and "member of another EC" in e.message for e in rep.errors)
    assert "row 2" in msg[5] and "13900000101" in msg[9]
    assert not Member.objects.filter(msisdn="13900000201").exists()  # the good row was not written either


def test_clean_file_imports_gbk(tel):
    rows = [["手机号码", "姓名", "集团用户", "短号"]]
    rows += [[f"1390000{300 + i:04d}", f"员工{i}", tel.vnet.code, f"6{300 + i}"] for i in range(20)]
    t = table(rows, encoding="gbk")
    assert t.encoding == "gbk"
    dry = import_members(tel.e1, t, dry_run=True)
    assert dry.ok and dry.created == 20 and dry.joined == 20
    assert not Member.objects.filter(ec=tel.e1).exists()
    rep = import_members(tel.e1, t, actor=tel.org.cm1.user, dry_run=False)
    assert rep.ok and Member.objects.filter(ec=tel.e1).count() == 20
    assert UserMember.objects.filter(group_user=tel.vnet).count() == 20
    assert Member.objects.get(msisdn="13900000305").name == "员工5"
    assert AuditLog.objects.filter(customer=tel.e1, action="member_add", note="import").count() == 20
    # importing again: the numbers are already members of this EC and already in the V-net
    again = import_members(tel.e1, t, dry_run=False)
    assert again.ok and (again.created, again.existing, again.joined) == (0, 20, 0)


def test_xlsx_and_missing_column(tel):
    wb = Workbook()
    ws = wb.active
    ws.append(["msisdn", "name"])
    ws.append(["13900000401", "Li"])
    buf = io.BytesIO()
    wb.save(buf)
    buf.seek(0)
    rep = import_members(tel.e1, read_table(buf, filename="m.xlsx"), dry_run=False)
    assert rep.ok and Member.objects.filter(msisdn="13900000401", ec=tel.e1).exists()
    bad = import_members(tel.e1, table([["姓名", "备注"], ["x", "y"]]))
    assert {e.field for e in bad.errors} == {"备注", "手机号码"}


def test_cli_import_members(tel, tmp_path, capsys, monkeypatch):
    from kejing.groupbiz.cli import cmd_import_members

    path = tmp_path / "m.csv"
    path.write_bytes(csv_bytes([["手机号码"], ["13900000501"], ["13900000002"]]))

    class Args:
        ec = "3500000001"
        file = str(path)
        dry_run = True
        json = True

    monkeypatch.setattr("kejing.cli._django", lambda db=None: None)  # the test database is already set up
    assert cmd_import_members(Args) == 1
    out = json.loads(capsys.readouterr().out)
    assert out["errors"] == [
        {
            "row": 3,
            "field": "手机号码",
            "message": "号码已是集团“示范制造集团”的成员 / member of another EC: 示范制造集团",
        }
    ]


def test_import_page_runs_a_job(tel, login, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    c = login(tel.org.cm1)
    data = csv_bytes([["手机号码", "集团用户", "短号"], ["13900000601", tel.vnet.code, "61601"]])
    up = io.BytesIO(data)
    up.name = "m.csv"
    r = c.post(f"/groups/ec/{tel.e1.pk}/members/import/", {"file": up})
    assert r.status_code == 302
    page = c.get(r["Location"]).content.decode()
    assert 'id="import-now"' in page
    job = r["Location"].split("job=")[1]
    assert len(list((tmp_path / "imports").iterdir())) == 1  # kept for "import now"
    r = c.post(f"/groups/ec/{tel.e1.pk}/members/import/", {"from_job": job})
    assert 'id="import-done"' in c.get(r["Location"]).content.decode()
    assert Member.objects.filter(msisdn="13900000601", ec=tel.e1).exists()
    assert not list((tmp_path / "imports").iterdir())  # deleted with the import
    # another CM cannot read or start the job on this EC
    assert login(tel.org.cm2).get(f"/groups/ec/{tel.e1.pk}/members/import/?job={job}").status_code == 404


def test_five_thousand_rows_set_based(tel, django_assert_max_num_queries):
    """A larger file goes through a bounded number of queries (set-based checks, bulk inserts)."""
    rows = [["手机号码", "集团用户", "短号"]]
    rows += [[f"1350{i:07d}", tel.vnet.code, f"6{10000 + i}"] for i in range(5000)]
    with django_assert_max_num_queries(250):  # batches of inserts, never a query per row
        rep = import_members(tel.e1, table(rows), dry_run=False)
    assert rep.ok and Member.objects.filter(ec=tel.e1).count() == 5000
