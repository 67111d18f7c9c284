"""Exact money: yuan as Decimal, rounded half-up to the fen only where a line of a quote is shown."""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal
from fractions import Fraction

FEN = Decimal("0.01")


def to_decimal(value: object, field: str = "value") -> Decimal:
    """A Decimal from a TOML string or number; floats go through ``str`` so 0.1 stays 0.1."""
    if isinstance(value, Decimal):
        return value
    if isinstance(value, bool) or value is None:
        raise ValueError(f"{field}: not a number")
    try:
        return Decimal(str(value))
    except Exception as exc:  # decimal.InvalidOperation
        raise ValueError(f"{field}: '{value}' is not a number") from exc


def fen(value: Decimal | Fraction) -> Decimal:
    """Round to the fen, half up (the usual rule on Chinese telecom bills)."""
    if isinstance(value, Fraction):
        # exact: scale to fen, round half up on the rational number, then back to yuan
        scaled = value * 100
        q, r = divmod(scaled.numerator, scaled.denominator)
        if 2 * r >= scaled.denominator:
            q += 1
        return (Decimal(q) / 100).quantize(FEN)
    return value.quantize(FEN, rounding=ROUND_HALF_UP)
