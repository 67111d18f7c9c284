"""Demo data of the appraisal module, added at the end of ``kejing demo``.

What it leaves behind, for the tobacco company: a grading round approved some months ago (grades in effect,
one objection rechecked), a round in progress with review forms for part of the CMs, and last month's pay run.
Review forms are bulk-inserted and each CM is computed once per step through the services, so it stays fast.
"""

from __future__ import annotations

import datetime as dt
import random
from decimal import Decimal

from kejing.org.models import OrgUnit, Role, Staff

from . import services
from .models import ReviewForm, RoundEntry

GROUP_SIZES = {"leader": 5, "peer": 4, "staff": 5, "customer": 10}


def _months_before(day: dt.date, n: int) -> dt.date:
    y, m = day.year, day.month - n
    while m < 1:
        y, m = y - 1, m + 12
    return dt.date(y, m, 1)


def _fill(rng: random.Random, entries: list[RoundEntry], committee: Staff) -> None:
    """Exam marks and complete review forms (marks around each CM's own level) for ``entries``."""
    forms = []
    for e in entries:
        base = rng.uniform(72, 95)
        e.exam_mark = Decimal(round(rng.uniform(60, 98) * 2) / 2).quantize(Decimal("0.0"))
        for group, n in GROUP_SIZES.items():
            for i in range(n + rng.randint(0, 2)):
                mark = max(40, min(100, round(rng.gauss(base, 6))))
                forms.append(
                    ReviewForm(entry=e, group=group, reviewer=f"{group}-{i + 1}", score=mark, entered_by=committee)
                )
    RoundEntry.objects.bulk_update(entries, ["exam_mark"])
    ReviewForm.objects.bulk_create(forms, batch_size=2000)


def build(rng: random.Random, today: dt.date) -> None:
    company = OrgUnit.objects.filter(code="T").first()
    committee = Staff.objects.filter(role=Role.COMMITTEE, unit=company).select_related("user").first()
    center = Staff.objects.filter(role=Role.CENTER, unit=company).select_related("user").first()
    if company is None or committee is None or center is None:
        return
    u = committee.user

    # 1. A round held four months ago, published, one objection rechecked, approved: grades in effect.
    held = _months_before(today, 4) + dt.timedelta(days=14)
    old = services.open_round(u, f"{held.year} 年上半年客户经理评级", held, company)
    entries = list(old.entries.select_related("staff"))
    _fill(rng, entries, committee)
    services.close_round(u, old)
    services.publish_round(u, old, on=held + dt.timedelta(days=1))
    objector = next((e for e in old.entries.select_related("staff__user") if e.level), None)
    if objector is not None:
        obj = services.file_objection(
            objector.staff.user, objector, "客户评议份数与实际走访不符,请复核", on=held + dt.timedelta(days=2)
        )
        services.recheck(u, obj, False, "核对走访记录,评议表齐全,维持原分")
    services.approve_round(center.user, old, _months_before(today, 2), on=held + dt.timedelta(days=5))

    # 2. A round in progress: exam marks and reviews entered for a third of the CMs.
    current = services.open_round(u, f"{today.year} 年下半年客户经理评级", today - dt.timedelta(days=3), company)
    some = list(current.entries.select_related("staff", "staff__unit", "round__policy"))
    some = rng.sample(some, max(1, len(some) // 3))
    _fill(rng, some, committee)
    policy = services.round_policy(current)
    for e in some:
        services.compute_entry(e, policy)

    # 3. Last month's pay.
    services.run_pay(u, _months_before(today, 1), company)
