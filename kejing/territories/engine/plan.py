"""A month of visits for one CM: which working day each customer is visited on.

Frequencies come from the policy (visits per month by value tier). The month's working days are cut into
``C`` cycles of ``L`` days, where ``C`` is the highest frequency; the days left over at the end of the month stay
free for catch-up visits, meetings and the month-end work. The territory is swept by angle around its centroid
into ``L`` sectors of equal workload, so sector ``s`` is always visited on day ``s`` of a cycle: one day covers one
neighbourhood, and a weekly customer is seen every ``L`` working days. A customer with ``f`` visits a month is
seen in ``f`` cycles spread ``C / f`` apart; within a sector, customers of the same frequency are split along the
sweep into ``C / f`` runs, each starting in a different cycle, which keeps every day's load even.
"""

from __future__ import annotations

import calendar
import datetime as dt
import math
from collections.abc import Hashable, Sequence
from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class PlanCustomer:
    key: Hashable
    x: float  # km (see geo.project)
    y: float
    per_month: int


def working_days(year: int, month: int) -> list[dt.date]:
    """Working days of the month: the official Chinese calendar (holidays and make-up working Saturdays) where
    the ``chinese_calendar`` package knows the year, estimated from the statutory holidays after it
    (:mod:`kejing.core.workdays`), Monday to Friday before it."""
    from kejing.core.workdays import CalendarError, is_working_day

    days = [dt.date(year, month, d) for d in range(1, calendar.monthrange(year, month)[1] + 1)]
    try:
        return [d for d in days if is_working_day(d)]
    except CalendarError:
        return [d for d in days if d.weekday() < 5]


def month_plan(customers: Sequence[PlanCustomer], days: Sequence[dt.date]) -> dict[Hashable, list[dt.date]]:
    """The visit dates of each customer (customers with ``per_month == 0`` get none)."""
    active = [c for c in customers if c.per_month > 0]
    if not active or not days:
        return {c.key: [] for c in customers}
    cycles = min(max(c.per_month for c in active), len(days))
    length = len(days) // cycles
    xy = np.array([[c.x, c.y] for c in active])
    centre = xy.mean(axis=0)
    angle = np.arctan2(xy[:, 1] - centre[1], xy[:, 0] - centre[0])
    radius = np.hypot(xy[:, 0] - centre[0], xy[:, 1] - centre[1])
    keys = [str(c.key) for c in active]
    order = sorted(range(len(active)), key=lambda i: (round(float(angle[i]), 9), round(float(radius[i]), 9), keys[i]))
    freq = [min(c.per_month, cycles) for c in active]
    work = [freq[i] / cycles for i in order]  # visits per cycle
    total = sum(work)
    sector: dict[int, int] = {}
    cum = 0.0
    for pos, i in enumerate(order):
        mid = cum + work[pos] / 2
        sector[i] = min(length - 1, int(mid / total * length))
        cum += work[pos]
    out: dict[Hashable, list[dt.date]] = {c.key: [] for c in customers}
    for s in range(length):
        members = [i for i in order if sector[i] == s]
        for f in sorted({freq[i] for i in members}):
            group = [i for i in members if freq[i] == f]
            runs = max(1, cycles // f)
            spacing = cycles / f
            for rank, i in enumerate(group):
                start = rank * runs // len(group)
                cyc = sorted({min(cycles - 1, math.floor(start + q * spacing)) for q in range(f)})
                out[active[i].key] = [days[c * length + s] for c in cyc]
    return out
