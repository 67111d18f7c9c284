"""Turning table rows (from CSV or Excel) into engine records, with errors that name the row and the column.

Why here and not in the CLI: the web app's upload page needs the same checks and the same messages. The input is
what :func:`kejing.core.tabular.read_table` gives — a header and ``(row number, {column: text})`` pairs, row 1
being the header — so this module needs neither Django nor a file. Every row is checked and every problem is
reported at once (:class:`InputError`), so a clerk fixes the file in one pass and nothing is half-computed.

Columns may be written in English (``staff_id``) or Chinese (``工号``); values may be policy codes
(``intermediate``, ``contract``) or their Chinese labels (``中级``, ``聘用工``). docs/appraisal.md lists them.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import replace
from decimal import Decimal
from typing import Any

from kejing.core.tabular import CellError as RowError

from .common import AppraisalError, parse_date, parse_month, to_decimal
from .grading import form_total
from .policy import Choice, CorpsPolicy
from .records import GradeSpell, Review, StaffRecord

Rows = Sequence[tuple[int, Mapping[str, str]]]

STAFF_COLUMNS: dict[str, str] = {
    "staff_id": "工号",
    "name": "姓名",
    "staff_type": "用工类型",
    "area": "区域",
    "cm_start": "任职日期",
    "prior_cm_years": "此前客户经理年限",
    "prior_other_years": "其他相关工作年限",
    "education": "学历",
    "major": "专业",
    "econ_cert": "经济类证书",
    "marketer_cert": "营销员证书",
    "level": "级别",
    "tier": "档次",
    "grade_from": "定级生效月",
}
STAFF_REQUIRED = {
    "grade": ("staff_id", "name", "cm_start", "education"),
    "pay": ("staff_id", "name", "cm_start", "staff_type", "area"),
}
# Facts that must agree when a CM has several rows (one per grade change).
STAFF_FACTS = (
    "name",
    "staff_type",
    "area",
    "cm_start",
    "prior_cm_years",
    "prior_other_years",
    "education",
    "major",
    "econ_cert",
    "marketer_cert",
)
REVIEW_COLUMNS: dict[str, str] = {"staff_id": "工号", "group": "评议组", "reviewer": "评议人", "score": "得分"}
EXAM_COLUMNS: dict[str, str] = {"staff_id": "工号", "score": "成绩"}
AREA_ALIASES = {"urban": "urban", "城市": "urban", "城区": "urban", "rural": "rural", "农村": "rural", "乡村": "rural"}
NONE_ALIASES = {"", "none", "无", "-"}


class InputError(AppraisalError):
    """One or more bad rows; ``errors`` holds them all."""

    def __init__(self, errors: Sequence[RowError]) -> None:
        self.errors = list(errors)
        super().__init__("\n".join(e.text() for e in self.errors))


class _Cell(ValueError):
    """A cell's value is wrong (raised inside a parser, turned into a RowError by the caller)."""


def _columns(header: Sequence[str], known: Mapping[str, str]) -> dict[str, str]:
    """Map canonical column name -> the header text used in the file (English name or Chinese alias)."""
    found: dict[str, str] = {}
    aliases = {**{k: k for k in known}, **{v: k for k, v in known.items()}}
    for h in header:
        key = aliases.get(h.strip().lower()) or aliases.get(h.strip())
        if key and key not in found:
            found[key] = h
    return found


def _missing_columns(
    file: str, cols: Mapping[str, str], required: Sequence[str], known: Mapping[str, str]
) -> list[RowError]:
    return [
        RowError(file, 1, name, f"缺少必需的列 {name}({known.get(name, name)})/ required column {name} is missing")
        for name in required
        if name not in cols
    ]


def _choice(text: str, choices: Sequence[Choice], what: str) -> str:
    cleaned = text.strip()
    for c in choices:
        if cleaned.lower() == c.code.lower() or cleaned in (c.zh, c.zh.rstrip("档级"), c.en):
            return c.code
    allowed = ", ".join(f"{c.code}/{c.zh}" for c in choices)
    raise _Cell(f"未知的{what} {text!r},应为 {allowed} / unknown {what} {text!r}; expected one of {allowed}")


def _decimal(
    text: str, low: Decimal | None = None, high: Decimal | None = None, blank: Decimal | None = None
) -> Decimal:
    if not text.strip():
        if blank is not None:
            return blank
        raise _Cell("不能为空 / must not be empty")
    try:
        value = to_decimal(text)
    except AppraisalError:
        raise _Cell(f"应为数字,实际为 {text!r} / expected a number, got {text!r}") from None
    if (low is not None and value < low) or (high is not None and value > high):
        raise _Cell(f"{value} 超出范围 {low}–{high} / {value} is outside {low}–{high}")
    return value


def _wrap(fn: Callable[[str], Any]) -> Callable[[str], Any]:
    def call(text: str) -> Any:
        try:
            return fn(text)
        except AppraisalError as exc:
            raise _Cell(str(exc)) from None

    return call


class _RowReader:
    """Reads the cells of one row, collecting a RowError per bad cell instead of stopping at the first."""

    def __init__(
        self, file: str, row: int, data: Mapping[str, str], cols: Mapping[str, str], errors: list[RowError]
    ) -> None:
        self.file, self.row, self.data, self.cols, self.errors = file, row, data, cols, errors
        self.ok = True

    def raw(self, name: str) -> str:
        col = self.cols.get(name)
        return (self.data.get(col) or "").strip() if col else ""

    def get(self, name: str, parse: Callable[[str], Any], required: bool = False, default: Any = None) -> Any:
        text = self.raw(name)
        if not text:
            if required:
                self.fail(name, "不能为空 / must not be empty")
            return default
        try:
            return parse(text)
        except _Cell as exc:
            self.fail(name, str(exc))
            return default

    def fail(self, name: str, message: str) -> None:
        self.ok = False
        self.errors.append(RowError(self.file, self.row, self.cols.get(name, name), message))


def _cert(choices: Sequence[str], policy: CorpsPolicy) -> Callable[[str], str]:
    def parse(text: str) -> str:
        if text.strip().lower() in NONE_ALIASES:
            return ""
        for code in choices:
            label = policy.level_label(code, "zh")
            if text.strip().lower() == code.lower() or text.strip() in (label, label.rstrip("级")):
                return code
        raise _Cell(
            f"未知的证书等级 {text!r},应为 {', '.join(choices)} 或留空 / unknown certificate level "
            f"{text!r}; expected one of {', '.join(choices)} or empty"
        )

    return parse


def _area(text: str) -> str:
    key = text.strip().lower()
    if key not in AREA_ALIASES:
        raise _Cell(f"区域应为 urban/城市 或 rural/农村,实际为 {text!r} / area must be urban or rural, got {text!r}")
    return AREA_ALIASES[key]


def read_staff(
    policy: CorpsPolicy, header: Sequence[str], rows: Rows, purpose: str, file: str = "staff"
) -> list[StaffRecord]:
    """Staff records from the staff table; ``purpose`` (``"grade"`` or ``"pay"``) decides the required columns.

    A CM may take several rows, one per grade held (``level``, ``tier``, ``grade_from``); his other columns must
    then be the same on every row. Records come back in the order of their first row.
    """
    cols = _columns(header, STAFF_COLUMNS)
    errors = _missing_columns(file, cols, STAFF_REQUIRED[purpose], STAFF_COLUMNS)
    if errors:
        raise InputError(errors)
    required = set(STAFF_REQUIRED[purpose])
    edu_choices = [Choice(lv.code, lv.zh, lv.en) for lv in policy.grading.education.levels]
    parsers: dict[str, Callable[[str], Any]] = {
        "name": str,
        "staff_type": lambda t: _choice(t, policy.staff_types, "用工类型 staff type"),
        "area": _area,
        "cm_start": _wrap(parse_date),
        "prior_cm_years": lambda t: _decimal(t, Decimal(0), Decimal(60)),
        "prior_other_years": lambda t: _decimal(t, Decimal(0), Decimal(60)),
        "education": lambda t: _choice(t, edu_choices, "学历 education"),
        "major": str,
        "econ_cert": _cert(tuple(policy.grading.education.certificates), policy),
        "marketer_cert": _cert(policy.grading.certificates.levels, policy),
    }
    defaults: dict[str, Any] = {
        "prior_cm_years": Decimal(0),
        "prior_other_years": Decimal(0),
        "major": "",
        "econ_cert": "",
        "marketer_cert": "",
        "education": "",
        "staff_type": "formal",
        "area": "urban",
    }
    records: dict[str, StaffRecord] = {}
    first_row: dict[str, dict[str, Any]] = {}
    spells: dict[str, list[GradeSpell]] = {}
    for number, data in rows:
        r = _RowReader(file, number, data, cols, errors)
        staff_id = r.get("staff_id", str, required=True)
        facts = {k: r.get(k, p, required=k in required, default=defaults.get(k)) for k, p in parsers.items()}
        level = r.get("level", lambda t: _choice(t, policy.levels, "级别 level"))
        tier = r.get("tier", lambda t: _choice(t, policy.tiers, "档次 tier"))
        since = r.get("grade_from", _wrap(parse_month))
        has_level, has_tier = bool(r.raw("level")), bool(r.raw("tier"))
        if has_level != has_tier:
            r.fail("level" if has_tier else "tier", "级别和档次须同时填写 / give both level and tier, or neither")
        if has_level and has_tier and not r.raw("grade_from"):
            r.fail("grade_from", "填写了级别时须给出生效月份 / a grade needs the month it takes effect (YYYY-MM)")
        if not r.ok or staff_id is None:
            continue
        if staff_id in first_row:
            for k in STAFF_FACTS:
                if facts[k] != first_row[staff_id][k]:
                    r.fail(k, f"与该工号的前一行不一致 / differs from an earlier row of {staff_id}")
        else:
            first_row[staff_id] = facts
            records[staff_id] = StaffRecord(staff_id=staff_id, **facts)
            spells[staff_id] = []
        if level is not None and r.ok:
            if any(s.effective == since for s in spells[staff_id]):
                r.fail(
                    "grade_from",
                    f"{staff_id} 在 {since:%Y-%m} 已有定级 / {staff_id} already has a grade from {since:%Y-%m}",
                )
            else:
                spells[staff_id].append(GradeSpell(level, tier, since))
    if errors:
        raise InputError(errors)
    return [replace(rec, grades=tuple(sorted(spells[sid], key=lambda s: s.effective))) for sid, rec in records.items()]


def read_reviews(
    policy: CorpsPolicy, header: Sequence[str], rows: Rows, staff_ids: set[str], file: str = "reviews"
) -> dict[str, list[Review]]:
    """Review forms per staff id. A form gives either ``score`` (0–100) or all ten item columns (code or Chinese
    name as the header); when both are given they must agree."""
    rv = policy.grading.review
    known = {**REVIEW_COLUMNS, **{i.code: i.zh for i in rv.items}}
    cols = _columns(header, known)
    item_codes = [i.code for i in rv.items]
    has_items = all(c in cols for c in item_codes)
    errors = _missing_columns(file, cols, ("staff_id", "group"), known)
    if "score" not in cols and not has_items:
        partial = [c for c in item_codes if c not in cols]
        errors.append(
            RowError(
                file,
                1,
                "score",
                "须有 score 列或全部评议项目列 / a score column or all the item "
                f"columns are required (missing items: {', '.join(partial)})",
            )
        )
    if errors:
        raise InputError(errors)
    groups = [Choice(g.code, g.zh, g.en) for g in rv.groups]
    out: dict[str, list[Review]] = {}
    seen: set[tuple[str, str, str]] = set()
    for number, data in rows:
        r = _RowReader(file, number, data, cols, errors)
        staff_id = r.get("staff_id", str, required=True)
        if staff_id is not None and staff_id not in staff_ids:
            r.fail("staff_id", f"人员表中没有工号 {staff_id} / staff id {staff_id} is not in the staff file")
        group = r.get("group", lambda t: _choice(t, groups, "评议组 reviewer group"), required=True)
        reviewer = r.raw("reviewer")
        score = r.get("score", lambda t: _decimal(t, Decimal(0), rv.form_max))
        items: dict[str, Decimal] = {}
        if has_items and any(r.raw(c) for c in item_codes):
            for item in rv.items:
                value = r.get(item.code, lambda t, m=item.max: _decimal(t, Decimal(0), m), required=True)
                if value is not None:
                    items[item.code] = value
            if r.ok:
                total = form_total(policy, items)
                if score is not None and score != total:
                    r.fail(
                        "score",
                        f"得分 {score} 与各项合计 {total} 不符 / score {score} differs from the item total {total}",
                    )
                score = total
        elif score is None and r.ok:
            r.fail("score", "不能为空 / must not be empty")
        if reviewer and staff_id and group:
            key = (staff_id, group, reviewer)
            if key in seen:
                r.fail(
                    "reviewer",
                    f"{reviewer} 已对 {staff_id} 评议过 / {reviewer} already reviewed {staff_id} in this group",
                )
            seen.add(key)
        if r.ok and staff_id and group and score is not None:
            out.setdefault(staff_id, []).append(Review(group, score, reviewer, items))
    if errors:
        raise InputError(errors)
    return out


def read_exams(
    policy: CorpsPolicy, header: Sequence[str], rows: Rows, staff_ids: set[str], file: str = "exams"
) -> dict[str, Decimal]:
    """Exam paper marks per staff id (one row per CM)."""
    cols = _columns(header, EXAM_COLUMNS)
    errors = _missing_columns(file, cols, ("staff_id", "score"), EXAM_COLUMNS)
    if errors:
        raise InputError(errors)
    paper_max = policy.grading.exam.paper_max
    out: dict[str, Decimal] = {}
    for number, data in rows:
        r = _RowReader(file, number, data, cols, errors)
        staff_id = r.get("staff_id", str, required=True)
        if staff_id is not None and staff_id not in staff_ids:
            r.fail("staff_id", f"人员表中没有工号 {staff_id} / staff id {staff_id} is not in the staff file")
        elif staff_id in out:
            r.fail("staff_id", f"工号 {staff_id} 重复 / staff id {staff_id} appears twice")
        score = r.get("score", lambda t: _decimal(t, Decimal(0), paper_max), required=True)
        if r.ok and staff_id is not None and score is not None:
            out[staff_id] = score
    if errors:
        raise InputError(errors)
    return out


def staff_ids_of(records: Sequence[StaffRecord]) -> set[str]:
    return {r.staff_id for r in records}
