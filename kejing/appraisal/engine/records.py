"""The facts about people that the engines work on, as plain frozen dataclasses.

Why separate from the Django models: the engine must run from a CSV file on a laptop as well as from the
database, so the web app (or the CSV reader in :mod:`.tables`) turns its rows into these records first.
Codes (``"junior"``, ``"c"``, ``"contract"``, ``"rural"``) are those of the policy file.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal

AREAS = ("urban", "rural")


@dataclass(frozen=True)
class GradeSpell:
    """A grade held from the month containing ``effective`` onwards, until a later spell replaces it.

    Pay is monthly, so a grade approved on the 15th applies to that whole month; callers normally pass the
    first day of the month.
    """

    level: str
    tier: str
    effective: dt.date  # first day of the month the grade takes effect


@dataclass(frozen=True)
class StaffRecord:
    """One customer manager: what grading and pay need to know.

    ``prior_cm_years`` is CM work before this appointment (it counts for grading eligibility and year points);
    ``prior_other_years`` is other qualifying work, such as a wholesale outlet or order-taking, which counts for
    year points only. ``econ_cert`` is an economics qualification certificate level (it can stand in for a
    matching education); ``marketer_cert`` is the marketer certificate a level requires. Empty text = none.
    """

    staff_id: str
    name: str
    cm_start: dt.date
    staff_type: str = "formal"
    area: str = "urban"
    prior_cm_years: Decimal = Decimal(0)
    prior_other_years: Decimal = Decimal(0)
    education: str = ""
    major: str = ""
    econ_cert: str = ""
    marketer_cert: str = ""
    grades: tuple[GradeSpell, ...] = ()

    def grade_on(self, day: dt.date) -> GradeSpell | None:
        """The spell in force on ``day``: the latest one whose effective month has begun by then."""
        best: GradeSpell | None = None
        for spell in self.grades:
            if spell.effective.replace(day=1) <= day and (best is None or spell.effective >= best.effective):
                best = spell
        return best


@dataclass(frozen=True)
class Review:
    """One filled-in review form for one CM: the reviewer group, the form total and, if kept, the item marks."""

    group: str
    score: Decimal
    reviewer: str = ""
    items: Mapping[str, Decimal] = field(default_factory=dict)
