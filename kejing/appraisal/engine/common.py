"""Small shared pieces of the appraisal engine: decimals, calendar arithmetic, explained figures and errors.

Why a module of its own: recruitment, grading and pay must round the same way, count years the same way and
explain themselves the same way, or a pay line and the grade behind it could disagree by a fen or a month.
"""

from __future__ import annotations

import calendar
import datetime as dt
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Any

from .messages import render

FEN = Decimal("0.01")


class AppraisalError(ValueError):
    """Base of every error the engine raises on purpose; its text is safe to show to a user."""


class RuleError(AppraisalError):
    """Input that is well formed but that a rule refuses (too few panelists, too few reviews, a mark too high)."""


class PanelTooSmallError(RuleError):
    """An interview was marked by fewer panelists than the policy demands."""


class ReviewGroupError(RuleError):
    """A reviewer group cannot be closed (usually: fewer customer reviews than the minimum)."""


def to_decimal(value: Any, what: str = "value") -> Decimal:
    """A Decimal from an int, a Decimal, a numeric string or a float.

    Floats are read through their shortest text (``1.15`` stays ``1.15``) because TOML and JSON hand over money
    and coefficients as floats, and ``Decimal(1.15)`` would carry the binary error into the fen.
    """
    if isinstance(value, bool):
        raise AppraisalError(f"{what}: expected a number, got {value!r}")
    if isinstance(value, Decimal):
        result = value
    elif isinstance(value, int):
        result = Decimal(value)
    elif isinstance(value, float):
        result = Decimal(repr(value))
    elif isinstance(value, str):
        try:
            result = Decimal(value.strip())
        except InvalidOperation:
            raise AppraisalError(f"{what}: expected a number, got {value!r}") from None
    else:
        raise AppraisalError(f"{what}: expected a number, got {value!r}")
    if not result.is_finite():
        raise AppraisalError(f"{what}: expected a finite number, got {value!r}")
    return result


def quantize(value: Decimal, places: int = 2) -> Decimal:
    """Round half-up (四舍五入) to ``places`` decimals, the way a pay clerk or a score sheet rounds."""
    return value.quantize(Decimal(1).scaleb(-places), rounding=ROUND_HALF_UP)


def money(value: Decimal) -> Decimal:
    """Yuan to the fen, half-up."""
    return value.quantize(FEN, rounding=ROUND_HALF_UP)


def fmt(value: Decimal) -> str:
    """A Decimal as plain text without exponent and without trailing zeros beyond what was stored."""
    return format(value, "f")


def fmt_mean(value: Decimal, places: int = 2, most: int = 4) -> str:
    """A mean shown with at least ``places`` and at most ``most`` decimals (85.00, 88.75, 86.3333)."""
    text = format(quantize(value, most), "f")
    whole, _, frac = text.partition(".")
    frac = frac.rstrip("0").ljust(places, "0")
    return f"{whole}.{frac}" if frac else whole


def add_years(day: dt.date, years: int) -> dt.date:
    """The same calendar day ``years`` later; 29 February moves to 1 March so a full year has really passed."""
    try:
        return day.replace(year=day.year + years)
    except ValueError:
        return dt.date(day.year + years, 3, 1)


def completed_months(start: dt.date, end: dt.date) -> int:
    """Whole months from ``start`` to ``end`` (a month counts once its day-of-month is reached); never negative."""
    months = (end.year - start.year) * 12 + (end.month - start.month)
    if end.day < start.day:
        months -= 1
    return max(months, 0)


def completed_years(start: dt.date, end: dt.date) -> int:
    """Whole years from ``start`` to ``end``."""
    return completed_months(start, end) // 12


def month_start(day: dt.date) -> dt.date:
    return day.replace(day=1)


def month_end(day: dt.date) -> dt.date:
    return day.replace(day=calendar.monthrange(day.year, day.month)[1])


def parse_month(text: str) -> dt.date:
    """``YYYY-MM`` (or a full ISO date) as the first day of that month."""
    cleaned = text.strip()
    match = re.fullmatch(r"(\d{4})[-/](\d{1,2})", cleaned)
    try:
        if match:
            return dt.date(int(match[1]), int(match[2]), 1)
        return month_start(dt.date.fromisoformat(cleaned))
    except ValueError:
        raise AppraisalError(f"expected a month such as 2026-03, got {text!r}") from None


def parse_date(text: str) -> dt.date:
    """An ISO date ``YYYY-MM-DD`` (``/`` accepted as separator, as Chinese Excel often writes it)."""
    cleaned = text.strip().replace("/", "-")
    match = re.fullmatch(r"(\d{4})-(\d{1,2})-(\d{1,2})", cleaned)
    try:
        if match:
            return dt.date(int(match[1]), int(match[2]), int(match[3]))
    except ValueError:
        pass
    raise AppraisalError(f"expected a date such as 2026-03-15, got {text!r}")


@dataclass(frozen=True)
class Line:
    """One line of an explanation: a message key and its arguments, rendered in Chinese or English on demand.

    The engine does not import Django, so it cannot use gettext; keeping key + arguments lets the web app render
    the same explanation in the user's language and lets tests check the numbers without parsing prose.
    """

    key: str
    args: Mapping[str, Any] = field(default_factory=dict)

    def text(self, lang: str = "zh") -> str:
        return render(self.key, self.args, lang)


def line(key: str, **args: Any) -> Line:
    return Line(key, args)


def render_lines(lines: Iterable[Line], lang: str = "zh") -> list[str]:
    return [ln.text(lang) for ln in lines]


@dataclass(frozen=True)
class Figure:
    """A computed number together with the lines that say how it was reached (the page's "how?" expander)."""

    value: Decimal
    lines: tuple[Line, ...] = ()

    def explain(self, lang: str = "zh") -> list[str]:
        return render_lines(self.lines, lang)

    def as_dict(self, lang: str = "zh") -> dict[str, Any]:
        return {"value": fmt(self.value), "explain": self.explain(lang)}
