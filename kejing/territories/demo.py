"""Demo data of the territories module: one re-balance proposal ready for review and a month planned for the
first CM, so that the proposal page, the plan and today's route have something to show."""

from __future__ import annotations

import datetime as dt
import random

from kejing.org.models import OrgUnit, Role, Staff


def build(rng: random.Random, today: dt.date) -> None:
    from .services import compute_rebalance, make_month_plan, start_rebalance

    market = OrgUnit.objects.filter(code="T-YC-M1").first()
    manager = Staff.objects.filter(unit=market, role=Role.MARKET_MANAGER).select_related("user").first()
    if market is not None and manager is not None:
        compute_rebalance(start_rebalance(manager.user, market))
    cm = (
        Staff.objects.filter(role=Role.CM, unit__industry="tobacco")
        .select_related("user", "unit")
        .order_by("employee_no")
        .first()
    )
    if cm is not None:
        make_month_plan(cm.user, cm, today.replace(day=1))
