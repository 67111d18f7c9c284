"""Numbering rules against the manual's own examples (L397-L445, L709-L735, FAQ L2457)."""

from __future__ import annotations

import json

import pytest

from kejing.groupbiz.engine import numbering as n


@pytest.mark.parametrize(
    ("number", "operator"),
    [
        ("13912345678", "mobile"),  # 13S with S=9: China Mobile (L405)
        ("13412345678", "mobile"),  # S=4: China Mobile
        ("13012345678", "unicom"),  # S=0: China Unicom
        ("13312345678", "unicom"),  # S=3: China Unicom in the manual's time
    ],
)
def test_source_13x_rule(number, operator):
    assert n.check_msisdn(number, ruleset="source").parts["operator"] == operator


def test_source_rule_knows_only_13x():
    res = n.check_msisdn("15912345678", ruleset="source")
    assert not res.ok and "159" in res.errors[0]


@pytest.mark.parametrize(
    ("number", "operator"),
    [
        ("13312345678", "telecom"),  # 133 moved to China Telecom (CDMA) in 2008
        ("13491234567", "telecom"),  # 1349 satellite block beats 134 (longest prefix)
        ("13481234567", "mobile"),
        ("19812345678", "mobile"),
        ("18612345678", "unicom"),
        ("19912345678", "telecom"),
        ("19212345678", "broadnet"),
        ("17051234567", "mobile"),  # 1705: a resale block hosted by China Mobile
    ],
)
def test_current_segments(number, operator):
    assert n.check_msisdn(number).parts["operator"] == operator


def test_msisdn_structure_and_country_code():
    res = n.check_msisdn("+86 139-1234-5678")
    assert res.ok and res.value == "13912345678"
    # 86 + NDC 139 + H0H1H2H3 1234 + ABCD 5678 (L401-L409)
    assert res.parts["international"] == "8613912345678"
    assert (res.parts["ndc"], res.parts["hlr"], res.parts["subscriber"]) == ("139", "1234", "5678")
    assert n.check_msisdn("008613912345678").value == "13912345678"
    assert not n.check_msisdn("1391234567").ok  # 10 digits
    assert not n.check_msisdn("12012345678").ok  # 120 is not allocated


def test_imsi():
    res = n.check_imsi("460001234567890")  # MCC 460, MNC 00 China Mobile (L425-L427)
    assert res.ok and res.parts["operator"] == "mobile" and res.parts["msin"] == "1234567890"
    assert n.check_imsi("460011234567890").parts["operator"] == "unicom"
    bad = n.check_imsi("310001234567890")
    assert not bad.ok and "MCC" in bad.errors[0]
    assert not n.check_imsi("46000123456789").ok  # 14 digits


def test_imei_luhn():
    # body 49015420323751: doubling every second digit from the right gives digit sum 52 → check (10-2)=8
    res = n.check_imei("490154203237518")
    assert res.ok
    assert res.parts == {
        "tac": "490154",
        "fac": "20",
        "snr": "323751",
        "sp": "8",
        "tac8": "49015420",
        "check_digit": "8",
    }
    bad = n.check_imei("490154203237519")
    assert not bad.ok and "8" in bad.errors[0]
    assert n.luhn_digit("35209900176148") == "1"


@pytest.mark.parametrize(
    ("code", "number"),
    [
        ("027", "13800270500"),  # 3-digit code: X4 = 0 (L443)
        ("27", "13800270500"),
        ("010", "13800100500"),
        ("0351", "13800351500"),  # 4-digit code taken whole
        ("351", "13800351500"),
    ],
)
def test_smsc(code, number):
    assert n.smsc_number(code).value == number


def test_bad_area_code():
    assert not n.smsc_number("0271").ok  # 02x codes have 3 digits
    assert not n.smsc_number("12").ok


def test_short_numbers():
    assert n.check_short_number("61002").ok
    assert n.check_short_number("611").ok  # 6 + 2 digits
    assert n.check_short_number("612345").ok  # 6 + 5 digits
    assert not n.check_short_number("601").ok  # second digit 0 (L709)
    assert not n.check_short_number("61").ok  # 6 + 1 digit
    assert not n.check_short_number("6123456").ok  # 6 + 6 digits
    assert not n.check_short_number("71002").ok
    # FAQ L2457: the last four digits of the member's own phone, when unique
    assert n.check_short_number("5678", phone="13912345678").parts["form"] == "phone_tail"
    assert not n.check_short_number("5678", phone="13912340000").ok
    assert not n.check_short_number("0110", phone="13912340110").ok  # would clash with special numbers


def test_pbx_virtual_numbers_from_the_source():
    # switchboard only: 90-027-123 (L719)
    board = n.pbx_virtual_number("027", "123")
    assert board.value == "90027123"
    # extension 1002: 90-027-123-1002 ↔ short number 61002 (L721)
    ext = n.pbx_virtual_number("027", "123", "1002")
    assert ext.value == "900271231002" and ext.parts["short_number"] == "61002"
    assert ext.parts["routed"] == "9040271231002"  # routing prefix 904 when called (L735)
    back = n.parse_pbx_virtual("90-027-123-1002")
    assert (back.parts["area_code"], back.parts["pbx"], back.parts["extension"]) == ("027", "123", "1002")
    assert n.parse_pbx_virtual("9040271231002").value == "900271231002"
    assert n.short_for_extension("1002") == "61002" and n.extension_for_short("61002") == "1002"
    # 4-digit area code and the 15-digit limit: 90 + 0351 + 123 + 123456 = 15 digits is fine, one more is not
    assert n.pbx_virtual_number("0351", "123", "123456").ok
    assert not n.pbx_virtual_number("0351", "123", "1234567").ok


def test_outside_numbers():
    assert n.check_outside_number("18612345678").ok  # another operator's mobile is fine in the outside group
    assert n.check_outside_number("0351-7654321").parts["kind"] == "landline"
    assert not n.check_outside_number("12345").ok


def test_cli_numbering(capsys):
    from kejing.cli import main

    assert main(["numbering", "smsc", "027", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["value"] == "13800270500"
    assert main(["numbering", "pbx-virtual", "900271231002", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["parts"]["short_number"] == "61002"
    assert main(["numbering", "imei", "490154203237519", "--json"]) == 1
    capsys.readouterr()
    assert main(["numbering", "msisdn", "13312345678", "--rules", "source", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["parts"]["operator"] == "unicom"
