"""Monthly pay of a customer manager: post wage + floating post wage + seniority wage + performance wage.

The grade in force during the month decides two parts: the level moves the floating wage (and, for contract
staff, the performance base), the tier moves the performance coefficient. A CM who serves rural shops is paid one
tier higher within his level, never above the top tier. Contract staff with enough full years as CM add a
seniority wage by year bands. Manual lines L2731-L2741; all numbers come from :class:`~.policy.PayPolicy`.

Amounts are ``Decimal`` yuan rounded half-up to the fen on each line, and the total is the sum of the lines, so
a pay sheet always adds up exactly as printed.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from .common import Line, RuleError, completed_years, fmt, line, money, month_end, month_start, render_lines
from .messages import LABELS
from .policy import READINGS, CorpsPolicy, SeniorityPolicy
from .records import AREAS, StaffRecord

POST = "post"
FLOATING = "floating"
SENIORITY = "seniority"
PERFORMANCE = "performance"
LINE_CODES = (POST, FLOATING, SENIORITY, PERFORMANCE)


@dataclass(frozen=True)
class PayLine:
    code: str
    amount: Decimal
    lines: tuple[Line, ...]

    def as_dict(self, lang: str = "zh") -> dict[str, Any]:
        return {"code": self.code, "amount": fmt(self.amount), "explain": render_lines(self.lines, lang)}


@dataclass(frozen=True)
class Payslip:
    """One CM's pay for one month. ``paid`` is false (and the total zero) when he was not yet a CM that month."""

    staff_id: str
    name: str
    month: dt.date
    paid: bool
    staff_type: str
    area: str
    level: str
    tier: str
    paid_tier: str
    grade_from: dt.date | None  # None: not graded yet, paid at the policy's ungraded grade
    lines: tuple[PayLine, ...]
    total: Decimal
    notes: tuple[Line, ...] = ()

    def amount(self, code: str) -> Decimal:
        for pl in self.lines:
            if pl.code == code:
                return pl.amount
        return Decimal("0.00")

    def as_dict(self, policy: CorpsPolicy, lang: str = "zh") -> dict[str, Any]:
        return {
            "staff_id": self.staff_id,
            "name": self.name,
            "month": self.month.strftime("%Y-%m"),
            "paid": self.paid,
            "staff_type": self.staff_type,
            "area": self.area,
            "grade": {
                "level": self.level,
                "tier": self.tier,
                "label": policy.grade_label(self.level, self.tier, lang),
                "since": self.grade_from.strftime("%Y-%m") if self.grade_from else None,
            },
            "paid_tier": self.paid_tier,
            "lines": [pl.as_dict(lang) for pl in self.lines],
            "total": fmt(self.total),
            "notes": render_lines(self.notes, lang),
        }


def seniority_amount(policy: SeniorityPolicy, years: int, reading: str | None = None) -> tuple[Decimal, Line]:
    """The monthly seniority wage for ``years`` full years as CM, under the marginal or the flat reading.

    marginal: each year is paid at its own band's rate (12 years = 10×4 + 2×6 = 52).
    flat: every year is paid at the rate of the band the CM has reached (12 years = 12×6 = 72).
    Below ``min_years`` nothing is paid under either reading.
    """
    reading = reading or policy.reading
    if years < policy.min_years:
        return Decimal("0.00"), line("pay.sen_short", years=years, min=policy.min_years)
    if reading == "flat":
        lower = 0
        for band in policy.bands:
            if band.up_to is None or years <= band.up_to:
                amount = money(band.rate * years)
                return amount, line("pay.sen_flat", years=years, rate=fmt(band.rate), amount=fmt(amount))
            lower = band.up_to
        raise AssertionError(f"no band after year {lower}")  # policy validation guarantees an open last band
    parts = []
    total = Decimal(0)
    lower = 0
    for band in policy.bands:
        upper = years if band.up_to is None else min(years, band.up_to)
        count = upper - lower
        if count > 0:
            total += band.rate * count
            parts.append(f"{count}×{fmt(band.rate)}")
        if band.up_to is None or years <= band.up_to:
            break
        lower = band.up_to
    amount = money(total)
    return amount, line("pay.sen_marginal", years=years, parts=" + ".join(parts), amount=fmt(amount))


def bumped_tier(policy: CorpsPolicy, tier: str, area: str) -> tuple[str, Line | None]:
    """The tier the performance coefficient is read at: rural CMs go up ``tier_bump`` tiers, stopping at the top."""
    if area != "rural" or policy.pay.rural_tier_bump == 0:
        return tier, None
    tiers = policy.tier_codes
    index = tiers.index(tier)
    new = tiers[min(index + policy.pay.rural_tier_bump, len(tiers) - 1)]
    if new == tier:
        return tier, line("pay.rural_top", tier=policy.tier_text(tier))
    return new, line("pay.rural_bump", tier=policy.tier_text(tier), new=policy.tier_text(new))


def pay_month(
    policy: CorpsPolicy,
    staff: StaffRecord,
    month: dt.date,
    seniority_reading: str | None = None,
) -> Payslip:
    """One CM's pay for the month containing ``month``.

    The grade is the one in force on the first day of the month (a change effective from a month applies to
    that whole month); a CM not graded yet is paid at the policy's ungraded grade. Seniority counts the full
    years as CM completed by the last day of the month.
    """
    first, last = month_start(month), month_end(month)
    pay = policy.pay
    _check_codes(policy, staff, seniority_reading)
    if staff.cm_start > last:
        return Payslip(
            staff.staff_id,
            staff.name,
            first,
            False,
            staff.staff_type,
            staff.area,
            pay.ungraded_level,
            pay.ungraded_tier,
            pay.ungraded_tier,
            None,
            (),
            Decimal("0.00"),
            (line("pay.not_started", start=staff.cm_start.isoformat()),),
        )
    notes: list[Line] = []
    spell = staff.grade_on(first)
    if spell is None:
        level, tier, since = pay.ungraded_level, pay.ungraded_tier, None
        notes.append(line("pay.ungraded", grade=policy.grade_text(level, tier)))
    else:
        level, tier, since = spell.level, spell.tier, spell.effective
    grade_line = (
        line("pay.grade", grade=policy.grade_text(level, tier), since=since.strftime("%Y-%m"))
        if since
        else line("pay.grade_ungraded", grade=policy.grade_text(level, tier))
    )

    post = money(pay.post[staff.staff_type])
    type_text = policy.staff_type_text(staff.staff_type)
    post_line = PayLine(POST, post, (line("pay.post", type=type_text, amount=fmt(post)),))

    floating = money(pay.floating[level])
    floating_line = PayLine(
        FLOATING, floating, (grade_line, line("pay.floating", level=policy.level_text(level), amount=fmt(floating)))
    )

    sen = pay.seniority
    years = completed_years(staff.cm_start, last)
    if staff.staff_type in sen.staff_types:
        reading = seniority_reading or sen.reading
        sen_amount, sen_detail = seniority_amount(sen, years, reading)
        sen_lines = (
            line("pay.sen_years", start=staff.cm_start.isoformat(), end=last.isoformat(), years=years),
            sen_detail,
        )
        if years >= sen.min_years:
            sen_lines += (line("pay.sen_reading", reading=LABELS[reading]),)
    else:
        sen_amount = Decimal("0.00")
        sen_lines = (line("pay.sen_not_type", type=policy.staff_type_text(staff.staff_type)),)
    seniority_line = PayLine(SENIORITY, sen_amount, sen_lines)

    paid_tier, rural = bumped_tier(policy, tier, staff.area)
    base = pay.performance_base[staff.staff_type][level]
    coefficient = pay.coefficients[level][paid_tier]
    performance = money(base * coefficient)
    perf_lines = [grade_line]
    if rural is not None:
        perf_lines.append(rural)
    perf_lines.append(
        line(
            "pay.performance",
            type=policy.staff_type_text(staff.staff_type),
            level=policy.level_text(level),
            grade=policy.grade_text(level, paid_tier),
            coefficient=fmt(coefficient),
            base=fmt(base),
            amount=fmt(performance),
        )
    )
    performance_line = PayLine(PERFORMANCE, performance, tuple(perf_lines))

    lines = (post_line, floating_line, seniority_line, performance_line)
    total = sum((pl.amount for pl in lines), Decimal("0.00"))
    if total < pay.minimum_wage:
        notes.append(line("pay.below_minimum", total=fmt(total), minimum=fmt(pay.minimum_wage)))
    return Payslip(
        staff.staff_id,
        staff.name,
        first,
        True,
        staff.staff_type,
        staff.area,
        level,
        tier,
        paid_tier,
        since,
        lines,
        total,
        tuple(notes),
    )


def _check_codes(policy: CorpsPolicy, staff: StaffRecord, reading: str | None) -> None:
    """Refuse codes the policy does not know before any amount is computed (records may come from any caller)."""
    if staff.staff_type not in policy.staff_type_codes:
        raise RuleError(f"{staff.staff_id}: unknown staff type {staff.staff_type!r}")
    if staff.area not in AREAS:
        raise RuleError(f"{staff.staff_id}: area must be one of {', '.join(AREAS)}, got {staff.area!r}")
    for spell in staff.grades:
        if spell.level not in policy.level_codes or spell.tier not in policy.tier_codes:
            raise RuleError(f"{staff.staff_id}: unknown grade {spell.level!r}-{spell.tier!r}")
    if reading is not None and reading not in READINGS:
        raise RuleError(f"unknown seniority reading {reading!r} (expected {' or '.join(READINGS)})")


def pay_run(
    policy: CorpsPolicy, staff: list[StaffRecord], month: dt.date, seniority_reading: str | None = None
) -> list[Payslip]:
    """Payslips of many CMs for one month, in the order given."""
    return [pay_month(policy, s, month, seniority_reading) for s in staff]
