"""Shared helpers of the appraisal tests: the shipped policies and a way to vary one number of them."""

from __future__ import annotations

import copy
import datetime as dt
from functools import cache
from pathlib import Path
from typing import Any

from kejing.appraisal.engine import CorpsPolicy, StaffRecord
from kejing.core.policy import load_policy

DATA = Path(__file__).resolve().parent / "data"


@cache
def tobacco() -> CorpsPolicy:
    return CorpsPolicy.load("tobacco")


def raw_policy(industry: str = "tobacco") -> dict[str, Any]:
    """A fresh, editable copy of a corps policy file's data."""
    return copy.deepcopy(load_policy(industry, "corps"))


def staff(**kw: Any) -> StaffRecord:
    """A CM with harmless defaults; tests override only what they are about."""
    values: dict[str, Any] = dict(
        staff_id="T1",
        name="测试",
        cm_start=dt.date(2020, 1, 1),
        staff_type="formal",
        area="urban",
        education="college",
        major="",
    )
    values.update(kw)
    return StaffRecord(**values)
