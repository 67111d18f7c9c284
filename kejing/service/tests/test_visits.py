"""Visits: planning, recording, following up the previous guidance, due/overdue, first-visit tasks."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from kejing.core.models import AuditLog
from kejing.customers.services import CustomerError, intake
from kejing.service import services
from kejing.service.models import Task, Visit
from kejing.service.selectors import due_visits


def test_plan_and_record_with_guidance_follow_up(org):
    today = timezone.localdate()
    v1 = services.log_visit_now(
        org.cm1.user, org.c1, findings="主销规格断货", guidance="每周多订两条", next_step="下周核对"
    )
    assert v1.status == "done" and v1.previous is None
    v2 = services.plan_visit(org.cm1.user, org.c1, today)
    assert services.previous_visit(org.c1, before=v2) == v1
    with pytest.raises(CustomerError) as err:
        services.record_visit(org.cm1.user, v2, visited_on=today, findings="库存正常")
    assert "followup" in err.value.errors
    v2 = services.record_visit(org.cm1.user, v2, visited_on=today, findings="库存正常", followup="已按建议多订")
    assert v2.previous == v1 and v2.followup == "已按建议多订"
    assert AuditLog.objects.filter(customer=org.c1, action="record_visit").count() == 2


def test_bad_visit_input(org):
    today = timezone.localdate()
    with pytest.raises(CustomerError) as err:
        services.plan_visit(org.cm1.user, org.c1, today + dt.timedelta(days=400))
    assert "planned_for" in err.value.errors
    v = services.plan_visit(org.cm1.user, org.c1, today)
    with pytest.raises(CustomerError) as err:
        services.record_visit(org.cm1.user, v, visited_on=today + dt.timedelta(days=1), findings="")
    assert set(err.value.errors) == {"visited_on", "findings"}
    assert Visit.objects.get(pk=v.pk).status == "planned"
    services.cancel_visit(org.cm1.user, v)
    with pytest.raises(CustomerError):
        services.record_visit(org.cm1.user, Visit.objects.get(pk=v.pk), visited_on=today, findings="x")


def test_due_and_overdue(org):
    today = timezone.localdate()
    late = services.plan_visit(org.cm1.user, org.c1, today - dt.timedelta(days=3))
    now = services.plan_visit(org.cm1.user, org.c1, today)
    services.plan_visit(org.cm1.user, org.c1, today + dt.timedelta(days=3))
    services.plan_visit(org.cm2.user, org.c2, today - dt.timedelta(days=1))
    assert list(due_visits(org.cm1.user)) == [late, now]
    assert late.is_overdue and not now.is_overdue
    assert due_visits(org.mm1.user).count() == 3


def test_first_visit_task_closes_when_the_visit_is_recorded(org):
    c = intake(org.mm1.user, unit=org.u1, cm=org.cm1, data={"code": "N1", "name": "新店", "licence_no": "140700000111"})
    task = Task.objects.get(customer=c, kind="first_visit")
    assert task.done_at is None and task.due == timezone.localdate() + dt.timedelta(days=3)
    services.log_visit_now(org.cm1.user, c, findings="确认业态为食杂店", purpose="first")
    task.refresh_from_db()
    assert task.done_at is not None


def test_quarterly_type_review_tasks_are_idempotent(org):
    end = dt.date(2026, 12, 31)
    assert services.open_type_review(end) == 3
    assert services.open_type_review(end) == 0
    assert Task.objects.filter(kind="type_review", title__startswith="2026Q4").count() == 3


@pytest.mark.parametrize(
    "day,end",
    [
        (dt.date(2026, 1, 1), dt.date(2026, 3, 31)),
        (dt.date(2026, 6, 30), dt.date(2026, 6, 30)),
        (dt.date(2026, 11, 25), dt.date(2026, 12, 31)),
    ],
)
def test_quarter_end(day, end):
    assert services.quarter_end(day) == end


def test_type_review_page_sends_requests_and_finishes(org, login):
    services.open_type_review(dt.date(2026, 12, 31))
    client = login(org.cm1)
    page = client.get("/customers/review/").content.decode()
    assert f'name="business_format-{org.c1.pk}"' in page and "华联超市" not in page
    resp = client.post(
        "/customers/review/",
        {
            "customer": [org.c1.pk, org.c2.pk],
            f"business_format-{org.c1.pk}": "convenience",
            f"market_type-{org.c1.pk}": "city",
            f"business_format-{org.c2.pk}": "grocery",
            "finish": "1",
        },
    )
    assert resp.status_code == 302
    from kejing.customers.models import ChangeRequest

    reqs = list(ChangeRequest.objects.values_list("customer__code", "field", "new_value"))
    assert reqs == [("C1", "business_format", "convenience")]  # c2 is not cm1's: ignored
    assert Task.objects.get(staff=org.cm1, kind="type_review").done_at is not None
    assert login(org.mm1).get("/customers/review/").status_code == 404


def test_only_cms_and_managers_record_visits(org):
    from conftest import make_staff

    committee = make_staff("committee", org.company, "committee")
    with pytest.raises(CustomerError, match="CMs and managers"):
        services.log_visit_now(committee.user, org.c1, findings="x")
    with pytest.raises(CustomerError, match="CMs and managers"):
        services.log_visit_now(org.monopoly.user, org.c1, findings="x")
    v = services.log_visit_now(org.mm1.user, org.c1, findings="联合拜访")  # a joint visit: the CM's visit
    assert v.cm == org.cm1
