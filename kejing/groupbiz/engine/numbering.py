"""Numbering rules of group business: mobile numbers (MSISDN), IMSI, IMEI, SMS-centre numbers, V-net short
numbers and PBX virtual caller numbers.

Every check returns a result object instead of raising, because imports and forms need the reason for each bad
value (in Chinese and English) rather than a stack trace. The tables (number segments, MNCs, prefixes) come from
``kejing/policies/telecom/numbering.toml`` so that a new segment is a data change; pass ``rules=`` to use another
table. Source lines: MSISDN L397-L421, IMSI L423-L427, IMEI L429-L437, SMS centre L439-L445, V-net L709-L713,
PBX L715-L735, FAQ L2455-L2469.
"""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass, field
from functools import lru_cache
from typing import Any

from kejing.core.policy import load_policy


class NumberingError(ValueError):
    """A value that breaks a numbering rule; the message is bilingual."""


@dataclass
class Check:
    """Outcome of one check: ``ok``, the normalised ``value``, the parts found, and the reasons when not ok."""

    kind: str
    input: str
    ok: bool
    value: str = ""
    parts: dict[str, Any] = field(default_factory=dict)
    errors: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


@lru_cache(maxsize=4)
def _default_rules() -> dict[str, Any]:
    return load_policy("telecom", "numbering")


def rules_or_default(rules: dict[str, Any] | None) -> dict[str, Any]:
    return rules if rules is not None else _default_rules()


_DIGITS = str.maketrans("０１２３４５６７８９", "0123456789")


def _clean(value: str) -> str:
    """Drop blanks and separators people type (spaces, dashes, dots); map full-width digits."""
    return re.sub(r"[\s\-.()]", "", str(value or "").translate(_DIGITS))


# --- MSISDN -----------------------------------------------------------------------------------------------


def _segment_table(rules: dict[str, Any], ruleset: str) -> dict[str, str]:
    table = {}
    for operator, prefixes in rules["segments"][ruleset].items():
        if operator == "virtual":
            continue
        for p in prefixes:
            table[p] = operator
    return table


def operator_of(national: str, rules: dict[str, Any] | None = None, ruleset: str = "current") -> tuple[str, str]:
    """(operator, segment) of an 11-digit national number by longest prefix, or ("", "") when unallocated."""
    table = _segment_table(rules_or_default(rules), ruleset)
    for n in (4, 3):
        op = table.get(national[:n])
        if op:
            return op, national[:n]
    return "", ""


def check_msisdn(value: str, rules: dict[str, Any] | None = None, ruleset: str = "current") -> Check:
    """A mobile number: optional country code 86 (``+86``, ``0086``), then 11 digits ``1`` + segment + HLR
    H0H1H2H3 + subscriber ABCD. ``ruleset`` is ``current`` (today's segments) or ``source`` (the manual's 13S
    rule, S=4..9 China Mobile, S=0..3 China Unicom)."""
    rules = rules_or_default(rules)
    cc = rules["country_code"]
    raw = str(value or "")
    v = _clean(raw)
    for head in ("+" + cc, "00" + cc):
        if v.startswith(head):
            v = v[len(head) :]
    if v.startswith(cc) and len(v) == 11 + len(cc):
        v = v[len(cc) :]
    res = Check("msisdn", raw, False, v)
    if not v.isdigit() or len(v) != 11 or v[0] != "1":
        res.errors.append("手机号码应为 11 位数字且以 1 开头 / a mobile number has 11 digits starting with 1")
        return res
    operator, segment = operator_of(v, rules, ruleset)
    if not operator:
        res.errors.append(f"号段 {v[:3]} 未分配给任何运营商 / segment {v[:3]} is not allocated to an operator")
        return res
    virtual = any(v.startswith(p) for p in rules["segments"]["current"].get("virtual", []))
    names = rules["operators"][operator]
    res.ok = True
    res.parts = {
        "country_code": cc,
        "international": cc + v,
        "ndc": v[:3],
        "segment": segment,
        "hlr": v[3:7],
        "subscriber": v[7:],
        "operator": operator,
        "operator_zh": names["zh"],
        "operator_en": names["en"],
        "virtual_operator": virtual,
        "ruleset": ruleset,
    }
    return res


# --- IMSI ---------------------------------------------------------------------------------------------------


def check_imsi(value: str, rules: dict[str, Any] | None = None) -> Check:
    """IMSI: 15 digits = MCC (460 for China) + MNC (2 digits) + MSIN (10 digits)."""
    rules = rules_or_default(rules)
    raw = str(value or "")
    v = _clean(raw)
    res = Check("imsi", raw, False, v)
    if not v.isdigit() or len(v) != 15:
        res.errors.append("IMSI 应为 15 位数字 / an IMSI has 15 digits")
        return res
    mcc, mnc, msin = v[:3], v[3:5], v[5:]
    if mcc != rules["imsi"]["mcc"]:
        res.errors.append(f"移动国家码应为 {rules['imsi']['mcc']},实为 {mcc} / MCC must be {rules['imsi']['mcc']}")
    operator = rules["imsi"]["mnc"].get(mnc, "")
    if not operator:
        res.errors.append(f"移动网络码 {mnc} 未知 / unknown MNC {mnc}")
    res.ok = not res.errors
    res.parts = {"mcc": mcc, "mnc": mnc, "msin": msin, "operator": operator}
    if operator:
        res.parts["operator_zh"] = rules["operators"][operator]["zh"]
    return res


# --- IMEI ---------------------------------------------------------------------------------------------------


def luhn_digit(body: str) -> str:
    """The Luhn check digit of a digit string (for an IMEI, of its first 14 digits)."""
    total = 0
    for i, ch in enumerate(reversed(body)):
        d = int(ch)
        if i % 2 == 0:  # every second digit from the right of the body is doubled
            d *= 2
            if d > 9:
                d -= 9
        total += d
    return str((10 - total % 10) % 10)


def check_imei(value: str) -> Check:
    """IMEI: 15 digits TAC(6) + FAC(2) + SNR(6) + SP(1). The manual calls the last digit spare; phones have used
    it as a Luhn check digit over the first 14 since the standard was revised, so it is verified here."""
    raw = str(value or "")
    v = _clean(raw)
    res = Check("imei", raw, False, v)
    if not v.isdigit() or len(v) != 15:
        res.errors.append("IMEI 应为 15 位数字 / an IMEI has 15 digits")
        return res
    want = luhn_digit(v[:14])
    res.parts = {"tac": v[:6], "fac": v[6:8], "snr": v[8:14], "sp": v[14], "tac8": v[:8], "check_digit": want}
    if v[14] != want:
        res.errors.append(f"IMEI 校验位应为 {want},实为 {v[14]} / the check digit should be {want}")
        return res
    res.ok = True
    return res


# --- SMS centre -----------------------------------------------------------------------------------------------


def area_code(value: str) -> str:
    """A Chinese long-distance code with its leading 0 (``27`` → ``027``, ``351`` → ``0351``), checked for length:
    codes starting 01/02 have 3 digits (010 is the only 01x), all others 4."""
    v = _clean(value)
    if v and not v.startswith("0"):
        v = "0" + v
    if not v.isdigit() or len(v) not in (3, 4):
        raise NumberingError(f"长途区号格式不正确:{value} / bad area code {value!r}")
    short = v[1] in "12"
    if short and len(v) != 3 or not short and len(v) != 4 or v[1] == "0" or (v[1] == "1" and v != "010"):
        raise NumberingError(
            f"长途区号 {v} 位数不对(01/02 开头为 3 位,其余 4 位) / area code {v}: 01x/02x have 3 digits, others 4"
        )
    return v


def smsc_number(code: str, rules: dict[str, Any] | None = None) -> Check:
    """The SMS-centre number of an area: 1380 + X1X2X3X4 + 500, where X1..X4 is the area code with its 0 and a
    3-digit code is padded with a trailing 0 (Wuhan 027 → 13800270500, Taiyuan 0351 → 13800351500)."""
    rules = rules_or_default(rules)
    res = Check("smsc", str(code), False)
    try:
        ac = area_code(code)
    except NumberingError as exc:
        res.errors.append(str(exc))
        return res
    x = ac.ljust(4, "0")
    res.value = rules["smsc"]["head"] + x + rules["smsc"]["tail"]
    res.ok = True
    res.parts = {"area_code": ac, "x1x4": x, "international": "+" + rules["country_code"] + res.value}
    return res


# --- V-net ----------------------------------------------------------------------------------------------------


def check_short_number(value: str, phone: str = "", rules: dict[str, Any] | None = None) -> Check:
    """A V-net short number: ``6`` + 2..5 digits, the second digit not 0 (L709). When the policy allows it, the
    last four digits of the member's own phone are accepted too (FAQ L2457), unless they start with 0 or 1,
    which would clash with special-service and long-distance dialling."""
    rules = rules_or_default(rules)
    vn = rules["vnet"]
    raw = str(value or "")
    v = _clean(raw)
    res = Check("vnet-short", raw, False, v)
    if not v.isdigit():
        res.errors.append("短号只能是数字 / a short number has digits only")
        return res
    tail = v[len(vn["prefix"]) :]
    if v.startswith(vn["prefix"]) and vn["min_tail"] <= len(tail) <= vn["max_tail"] and tail[0] != "0":
        res.ok = True
        res.parts = {"form": "standard", "length": len(v)}
        return res
    phone = _clean(phone)
    if vn.get("allow_phone_tail") and phone and len(v) == 4 and phone.endswith(v) and v[0] not in "01":
        res.ok = True
        res.parts = {"form": "phone_tail", "length": 4}
        return res
    res.errors.append(
        f"短号应为 {vn['prefix']} 加 {vn['min_tail']}-{vn['max_tail']} 位数字且第二位不为 0 / a short number is "
        f"{vn['prefix']} followed by {vn['min_tail']}-{vn['max_tail']} digits, the second not 0"
    )
    return res


def check_outside_number(value: str, rules: dict[str, Any] | None = None) -> Check:
    """A number of the outside-number group (FAQ L2469): any operator's mobile or a landline with area code."""
    m = check_msisdn(value, rules)
    if m.ok:
        m.kind = "outside"
        return m
    v = _clean(value)
    res = Check("outside", str(value), False, v)
    try:
        if v.startswith("0"):
            ac = area_code(v[:3] if v[1] in "12" else v[:4])
            local = v[len(ac) :]
            if local.isdigit() and len(local) in (7, 8):
                res.ok = True
                res.parts = {"area_code": ac, "local": local, "kind": "landline"}
                return res
    except NumberingError:
        pass
    res.errors.append("网外号码应为手机号或带区号的固话 / an outside number is a mobile or a landline with area code")
    return res


# --- PBX --------------------------------------------------------------------------------------------------------


def pbx_virtual_number(code: str, pbx: str, extension: str = "", rules: dict[str, Any] | None = None) -> Check:
    """The virtual caller number of a PBX (or of one extension): 90 + area code with its 0 + PBX number +
    extension, at most 15 digits. Without an extension it is the switchboard's number (90-027-123)."""
    rules = rules_or_default(rules)
    p = rules["pbx"]
    res = Check("pbx-virtual", "-".join(x for x in (str(code), str(pbx), str(extension)) if x), False)
    try:
        ac = area_code(code)
    except NumberingError as exc:
        res.errors.append(str(exc))
        return res
    pbx, extension = _clean(pbx), _clean(extension)
    if not pbx.isdigit() or (extension and not extension.isdigit()):
        res.errors.append("PBX 编号和分机号只能是数字 / PBX number and extension are digits")
        return res
    v = p["caller_prefix"] + ac + pbx + extension
    if len(v) > p["max_digits"]:
        res.errors.append(
            f"虚拟主叫号码 {v} 超过 {p['max_digits']} 位 / "
            f"the virtual number {v} is longer than {p['max_digits']} digits"
        )
        return res
    res.ok = True
    res.value = v
    res.parts = {
        "prefix": p["caller_prefix"],
        "area_code": ac,
        "pbx": pbx,
        "extension": extension,
        "display": "-".join(x for x in (p["caller_prefix"], ac, pbx, extension) if x),
        "routed": p["routing_prefix"] + ac + pbx + extension,
    }
    if extension:
        res.parts["short_number"] = rules["vnet"]["prefix"] + extension
    return res


def parse_pbx_virtual(value: str, pbx_digits: int | None = None, rules: dict[str, Any] | None = None) -> Check:
    """Split a virtual caller number back into its parts. The area-code length follows from its first digits;
    the PBX number's length is not in the number, so it is a parameter (default from the policy, 3).
    A routed number (904…) is accepted too."""
    rules = rules_or_default(rules)
    p = rules["pbx"]
    n = p["pbx_digits"] if pbx_digits is None else pbx_digits
    raw = str(value or "")
    v = _clean(raw)
    res = Check("pbx-virtual", raw, False, v)
    if v.startswith(p["routing_prefix"] + "0"):
        body = v[len(p["routing_prefix"]) :]
    elif v.startswith(p["caller_prefix"]):
        body = v[len(p["caller_prefix"]) :]
    else:
        res.errors.append(f"虚拟号码应以 {p['caller_prefix']} 开头 / a virtual number starts with {p['caller_prefix']}")
        return res
    if not v.isdigit() or len(v) > p["max_digits"] + 1 or len(body) < 4:
        res.errors.append("虚拟号码格式不正确 / bad virtual number")
        return res
    ac_len = 3 if body[1] in "12" else 4
    built = pbx_virtual_number(body[:ac_len], body[ac_len : ac_len + n], body[ac_len + n :], rules)
    if not built.ok or len(body) < ac_len + n:
        res.errors.extend(built.errors or ["虚拟号码太短 / virtual number too short"])
        return res
    res.ok = True
    res.value = built.value
    res.parts = built.parts
    return res


def short_for_extension(extension: str, rules: dict[str, Any] | None = None) -> str:
    """The V-net short number that maps to a PBX extension (extension 1002 → 61002, L721)."""
    rules = rules_or_default(rules)
    short = rules["vnet"]["prefix"] + _clean(extension)
    if not check_short_number(short, rules=rules).ok:
        raise NumberingError(f"分机 {extension} 无法对应短号 / extension {extension} has no valid short number")
    return short


def extension_for_short(short: str, rules: dict[str, Any] | None = None) -> str:
    """The inverse of :func:`short_for_extension` (61002 → 1002)."""
    rules = rules_or_default(rules)
    c = check_short_number(short, rules=rules)
    if not c.ok or c.parts.get("form") != "standard":
        raise NumberingError("; ".join(c.errors) or f"{short} 不是标准短号 / not a standard short number")
    return c.value[len(rules["vnet"]["prefix"]) :]
