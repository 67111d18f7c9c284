"""The appraisal module through its services, pages and API: a full grading round, pay to the fen, KPIs,
recruitment, scoping (another CM's scores and payslips are 404) and flat query counts."""

from __future__ import annotations

import datetime as dt
import io
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from conftest import make_staff
from kejing.appraisal import services
from kejing.appraisal.models import GradeHistory, Objection, PayRun, PaySlip, RoundEntry
from kejing.appraisal.services import AppraisalFailure
from kejing.core.models import AuditLog
from kejing.service.models import Visit

D = dt.date
# The docs' worked example (docs/appraisal.md): marks per reviewer group.
LEADERS = [90, 80, 85, 70, 95]  # drop 95 and 70 → mean 85 → × 6/100 = 5.10
PEERS = [80, 90, 70, 100]  # drop 100 and 70 → mean 85 → × 4/100 = 3.40
STAFF = [88, 92, 84, 90, 86]  # drop 92 and 84 → mean 88 → × 10/100 = 8.80
CUSTOMERS = [95, 90, 85, 80, 100, 60, 90, 90, 85, 95]  # drop 100, 60 → 710/8 = 88.75 → 8.875 → 8.88


@pytest.fixture
def corps(org):
    """cm1: CM since 2018-03-01, economics bachelor, formal, urban; cm2: CM since 2026-01-01 (not yet eligible);
    cm3: contract, rural, CM since 2014-05-01, holding intermediate b from 2026-01."""
    org.committee = make_staff("committee", org.company, "committee")
    org.cm1.cm_start_date = org.cm1.hire_date = D(2018, 3, 1)
    org.cm1.education, org.cm1.major_is_economics = "bachelor", True
    org.cm1.save()
    org.cm2.cm_start_date = org.cm2.hire_date = D(2026, 1, 1)
    org.cm2.education = "college"
    org.cm2.save()
    org.cm3.cm_start_date = org.cm3.hire_date = D(2014, 5, 1)
    org.cm3.employment_type, org.cm3.education = "contract", "high_school"
    org.cm3.save()
    GradeHistory.objects.create(staff=org.cm3, level="intermediate", tier="b", effective=D(2026, 1, 1))
    return org


def _review_all(user, entry, customers=CUSTOMERS):
    for group, marks in (("leader", LEADERS), ("peer", PEERS), ("staff", STAFF), ("customer", customers)):
        for i, m in enumerate(marks):
            services.add_review(user, entry, group, score=m, reviewer=f"{group}{i}")


def test_full_grading_round(corps):
    u = corps.committee.user
    rnd = services.open_round(u, "2026 年评级", D(2026, 6, 30))
    assert rnd.policy.name == "corps" and rnd.policy.version == "2026.1"  # the round records its policy
    # cm1, cm2 and cm3 all have a CM start date
    entries = {e.staff_id: e for e in rnd.entries.select_related("staff")}
    assert set(entries) == {corps.cm1.pk, corps.cm2.pk, corps.cm3.pk}
    e1 = entries[corps.cm1.pk]
    _review_all(u, e1, CUSTOMERS[:9])
    services.set_exam(u, e1, "88")
    # cm3 (high school 10 + 12 years 14 = 24) gets everything too, to let the round close
    _review_all(u, entries[corps.cm3.pk])
    services.set_exam(u, entries[corps.cm3.pk], 60)
    # 9 customer reviews: the customer group cannot close, so neither can the round
    with pytest.raises(AppraisalFailure) as err:
        services.close_round(u, rnd)
    assert "客户评议只有 9 份" in str(err.value) and "CM1" in err.value.errors
    services.add_review(u, e1, "customer", score=CUSTOMERS[9], reviewer="customer9")
    services.close_round(u, rnd)
    e1.refresh_from_db()
    # 15 (matching bachelor) + 10 (8 years: 3 + 7) = 25.00; exam 88 × 40% = 35.20;
    # review 5.10 + 3.40 + 8.80 + 8.88 = 26.18; total 25.00 + 35.20 + 26.18 = 86.38 → senior c (≥ 86)
    assert (e1.basic, e1.exam, e1.review, e1.total) == (
        Decimal("25.00"),
        Decimal("35.20"),
        Decimal("26.18"),
        Decimal("86.38"),
    )
    assert (e1.level, e1.tier, e1.status) == ("senior", "c", "complete")
    assert "710" not in str(e1.result["zh"]["review"]["groups"]["customer"])  # explanation lines are stored
    assert e1.result["zh"]["review"]["groups"]["customer"]["explain"][-1] == "88.75 × 10/100 = 8.88 分"
    assert e1.result["zh"]["warnings"]  # no marketer certificate: advisory until 2029
    e2 = RoundEntry.objects.get(round=rnd, staff=corps.cm2)
    assert (e2.eligible, e2.level) == (False, "")

    services.publish_round(u, rnd, on=D(2026, 7, 1))
    with pytest.raises(AppraisalFailure):  # only the CM himself may object
        services.file_objection(corps.cm2.user, e1, "不服", on=D(2026, 7, 2))
    with pytest.raises(AppraisalFailure):  # window is 07-01..07-03
        services.file_objection(corps.cm1.user, e1, "考试分数有误", on=D(2026, 7, 4))
    obj = services.file_objection(corps.cm1.user, e1, "考试分数有误", on=D(2026, 7, 3))
    with pytest.raises(AppraisalFailure, match="异议未复核"):
        services.approve_round(corps.center.user, rnd, D(2026, 8, 1), on=D(2026, 7, 5))
    with pytest.raises(AppraisalFailure):  # a CM cannot recheck
        services.recheck(corps.cm1.user, obj, True, "x", 90)
    services.recheck(u, obj, True, "复核试卷,漏计 2 分", exam_mark=90)
    obj.refresh_from_db()
    # exam 90 × 40% = 36.00 → 25.00 + 36.00 + 26.18 = 87.18, still senior c
    assert (obj.outcome, obj.total_before, obj.total_after) == (
        Objection.Outcome.UPHELD,
        Decimal("86.38"),
        Decimal("87.18"),
    )
    with pytest.raises(AppraisalFailure, match="公示期"):
        services.approve_round(corps.center.user, rnd, D(2026, 8, 1), on=D(2026, 7, 3))
    with pytest.raises(AppraisalFailure):  # the committee proposes, leadership approves
        services.approve_round(u, rnd, D(2026, 8, 1), on=D(2026, 7, 5))
    rows = services.approve_round(corps.center.user, rnd, D(2026, 8, 15), on=D(2026, 7, 5))
    got = {(g.staff_id, g.level, g.tier, g.effective) for g in rows}
    assert (corps.cm1.pk, "senior", "c", D(2026, 8, 1)) in got
    assert not any(g.staff_id == corps.cm2.pk for g in rows)
    rnd.refresh_from_db()
    assert rnd.status == "approved" and rnd.effective_month == D(2026, 8, 1)
    actions = set(AuditLog.objects.values_list("action", flat=True))
    assert {"round_open", "grade_review", "grade_exam", "round_close", "round_publish"} <= actions
    assert {"grade_objection", "grade_recheck", "grade_effective", "round_approve"} <= actions
    # a closed round takes no more marks
    with pytest.raises(AppraisalFailure):
        services.set_exam(u, e1, 95)


def test_review_form_by_items_and_refusals(corps):
    u = corps.committee.user
    rnd = services.open_round(u, "R", D(2026, 6, 30))
    e1 = rnd.entries.get(staff=corps.cm1)
    items = dict(
        conduct_rules=9, dedication=9, attitude=8, ethics=10, discipline=9, results=18,
        expression=3, communication=9, computer=8, mandarin=5,
    )  # fmt: skip
    form = services.add_review(u, e1, "leader", items=items, reviewer="张")
    assert form.score == Decimal("88")  # 9+9+8+10+9+18+3+9+8+5 = 88
    with pytest.raises(AppraisalFailure):  # results is worth at most 20
        services.add_review(u, e1, "leader", items={**items, "results": 21}, reviewer="李")
    with pytest.raises(AppraisalFailure):
        services.add_review(u, e1, "leader", score=70, reviewer="张")  # same reviewer twice
    with pytest.raises(AppraisalFailure):
        services.add_review(u, e1, "boss", score=70)
    with pytest.raises(AppraisalFailure):
        services.add_review(corps.mm1.user, e1, "leader", score=70)  # committee only
    assert e1.reviews.count() == 1


def test_import_exams_and_reviews_all_or_nothing(corps):
    u = corps.committee.user
    rnd = services.open_round(u, "R", D(2026, 6, 30))
    bad = io.BytesIO("工号,成绩\nCM1,88\nCM9,70\n".encode())
    bad.name = "exams.csv"
    with pytest.raises(AppraisalFailure) as err:
        services.import_exams(u, rnd, bad)
    assert any("CM9" in v for v in err.value.errors.values())
    assert not RoundEntry.objects.filter(round=rnd, exam_mark__isnull=False).exists()
    good = io.BytesIO("工号,成绩\nCM1,88\n".encode())
    good.name = "exams.csv"
    assert services.import_exams(u, rnd, good) == 1
    rows = "工号,评议组,评议人,得分\n" + "".join(f"CM1,客户评议,c{i},{m}\n" for i, m in enumerate(CUSTOMERS))
    f = io.BytesIO(rows.encode())
    f.name = "reviews.csv"
    assert services.import_reviews(u, rnd, f) == 10
    assert RoundEntry.objects.get(round=rnd, staff=corps.cm1).reviews.filter(group="customer").count() == 10


def test_pay_month_to_the_fen_and_rerun(corps):
    u = corps.committee.user
    GradeHistory.objects.create(staff=corps.cm1, level="senior", tier="c", effective=D(2026, 8, 1))
    run = services.run_pay(u, D(2026, 8, 1))
    slips = {s.staff_id: s for s in run.slips.prefetch_related("lines")}
    amounts = {k: {ln.code: ln.amount for ln in s.lines.all()} for k, s in slips.items()}
    # cm1, formal, urban, senior c from 2026-08: 650 + 200 + 0 + 800 × 1.40 = 1120 → 1970.00
    assert amounts[corps.cm1.pk] == {
        "post": Decimal("650.00"),
        "floating": Decimal("200.00"),
        "seniority": Decimal("0.00"),
        "performance": Decimal("1120.00"),
    }
    assert slips[corps.cm1.pk].total == Decimal("1970.00")
    # cm3, contract, rural unit, intermediate b: 550 + 100 + seniority 12 full years to 2026-08-31
    # (10 × 4 + 2 × 6 = 52) + 400 × 1.35 (rural: b → a) = 540.00 → 1242.00
    assert amounts[corps.cm3.pk]["seniority"] == Decimal("52.00")
    assert amounts[corps.cm3.pk]["performance"] == Decimal("540.00")
    assert (slips[corps.cm3.pk].paid_tier, slips[corps.cm3.pk].total) == ("a", Decimal("1242.00"))
    # cm2, formal, ungraded → paid as junior c: 650 + 50 + 0 + 800 × 1.10 = 880 → 1580.00
    assert slips[corps.cm2.pk].total == Decimal("1580.00")
    assert run.total == Decimal("4792.00")  # 1970 + 1242 + 1580
    # July: cm1 not yet senior (ungraded → junior c): 1580.00; run total 1580 + 1242 + 1580 = 4402.00
    july = services.run_pay(u, D(2026, 7, 1))
    assert july.total == Decimal("4402.00")
    # re-running August replaces it, with the totals before and after in the audit trail
    GradeHistory.objects.create(staff=corps.cm2, level="junior", tier="a", effective=D(2026, 8, 1))
    again = services.run_pay(u, D(2026, 8, 1))
    # cm2 junior a: 650 + 50 + 800 × 1.20 = 960 → 1660.00; total 4792 - 1580 + 1660 = 4872.00
    assert again.total == Decimal("4872.00")
    assert PayRun.objects.filter(month=D(2026, 8, 1)).count() == 1
    log = AuditLog.objects.filter(action="pay_rerun").get()
    assert log.changes["total"] == ["4792.00", "4872.00"]
    with pytest.raises(AppraisalFailure):
        services.run_pay(corps.cm1.user, D(2026, 8, 1))
    line = PaySlip.objects.get(run=again, staff=corps.cm3).lines.get(code="performance")
    assert any("1.35" in t for t in line.explain["zh"])


def test_pay_pages_and_export(corps, login):
    services.run_pay(corps.committee.user, D(2026, 8, 1))
    c = login(corps.committee)
    page = c.get("/appraisal/pay/?month=2026-08").content.decode()
    assert "4402.00" in page  # cm1 ungraded here: 1580.00 + 1242.00 + 1580.00
    resp = c.get("/appraisal/pay/?month=2026-08&export=xlsx")
    assert resp.status_code == 200 and resp["Content-Type"].startswith("application/vnd.openxml")
    slip = PaySlip.objects.get(staff=corps.cm3)
    page = login(corps.cm3).get(f"/appraisal/payslips/{slip.pk}/").content.decode()
    assert "1242.00" in page and "<details" in page and "10×4 + 2×6" in page


def test_scoping_of_scores_and_payslips(corps, login, client, token_for):
    u = corps.committee.user
    rnd = services.open_round(u, "R", D(2026, 6, 30))
    e1 = rnd.entries.get(staff=corps.cm1)
    services.run_pay(u, D(2026, 8, 1))
    s1 = PaySlip.objects.get(staff=corps.cm1)
    c2 = login(corps.cm2)
    for url in (
        f"/appraisal/entries/{e1.pk}/",
        f"/appraisal/entries/{e1.pk}/review/",
        f"/appraisal/payslips/{s1.pk}/",
        f"/appraisal/kpi/{corps.cm1.pk}/",
        f"/appraisal/rounds/{rnd.pk}/",
    ):
        assert c2.get(url).status_code == 404, url
        assert c2.post(url, {"action": "objection", "reason": "x"}).status_code == 404, url
    assert "CM1" not in c2.get("/appraisal/").content.decode()
    h = token_for(corps.cm2)
    for url in (
        f"/api/appraisal/entries/{e1.pk}",
        f"/api/appraisal/payslips/{s1.pk}",
        f"/api/appraisal/kpi/{corps.cm1.pk}",
    ):
        assert client.get(url, **h).status_code == 404, url
    assert (
        client.post(
            f"/api/appraisal/entries/{e1.pk}/objections", {"reason": "x"}, content_type="application/json", **h
        ).status_code
        == 404
    )
    mine = client.get("/api/appraisal/payslips", **h).json()
    assert [p["employee_no"] for p in mine] == ["CM2"]
    assert [e["employee_no"] for e in client.get(f"/api/appraisal/rounds/{rnd.pk}/entries", **h).json()] == ["CM2"]
    # a market manager sees his market only: mm2 (market 2) not cm1's payslip; mm1 sees cm1 and cm2
    assert client.get(f"/api/appraisal/payslips/{s1.pk}", **token_for(corps.mm2)).status_code == 404
    assert {p["employee_no"] for p in client.get("/api/appraisal/payslips", **token_for(corps.mm1)).json()} == {
        "CM1",
        "CM2",
    }
    assert login(corps.mm2).get(f"/appraisal/kpi/{corps.cm1.pk}/").status_code == 404


def test_committee_only_actions_are_refused(corps, login, client, token_for):
    rnd = services.open_round(corps.committee.user, "R", D(2026, 6, 30))
    e1 = rnd.entries.get(staff=corps.cm1)
    for who in (corps.cm1, corps.mm1):
        c = login(who)
        assert c.get("/appraisal/rounds/").status_code == 404
        assert c.post(f"/appraisal/rounds/{rnd.pk}/", {"action": "close"}).status_code == 404
        assert c.get("/appraisal/recruitment/").status_code == 404
        h = token_for(who)
        assert client.post(f"/api/appraisal/rounds/{rnd.pk}/close", **h).status_code == 404
        body = {"group": "leader", "score": 90}
        assert (
            client.post(
                f"/api/appraisal/entries/{e1.pk}/reviews", body, content_type="application/json", **h
            ).status_code
            == 404
        )
        resp = client.post(
            "/api/appraisal/rounds", {"name": "x", "held_on": "2026-06-30"}, content_type="application/json", **h
        )
        assert resp.status_code == 400
        assert (
            client.post(
                "/api/appraisal/pay-runs", {"month": "2026-08"}, content_type="application/json", **h
            ).status_code
            == 400
        )
    rnd.refresh_from_db()
    assert rnd.status == "open" and not e1.reviews.exists() and not PayRun.objects.exists()


def test_round_pages_and_api_flow(corps, login, client, token_for):
    c = login(corps.committee)
    resp = c.post("/appraisal/rounds/", {"name": "页面评级", "held_on": "2026-06-30"})
    rnd_id = int(resp["Location"].rstrip("/").split("/")[-1])
    e1 = RoundEntry.objects.get(round_id=rnd_id, staff=corps.cm1)
    h = token_for(corps.committee)
    resp = client.post(f"/api/appraisal/entries/{e1.pk}/exam", {"exam_mark": 88}, content_type="application/json", **h)
    assert resp.status_code == 200 and resp.json()["exam"] == "35.20"
    marks = dict(
        conduct_rules=9, dedication=9, attitude=9, ethics=9, discipline=9, results=18,
        expression=4, communication=9, computer=9, mandarin=5,
    )  # fmt: skip
    form = {"group": "leader", "reviewer": "王", **{f"item_{k}": v for k, v in marks.items()}}
    resp = c.post(f"/appraisal/entries/{e1.pk}/review/", form)
    assert resp.status_code == 302
    assert e1.reviews.get().score == Decimal("90")  # 9×5 + 18 + 4 + 9 + 9 + 5 = 90
    page = c.get(f"/appraisal/rounds/{rnd_id}/").content.decode()
    assert "<details" in page and "35.20" in page
    assert c.get(f"/appraisal/rounds/{rnd_id}/?export=xlsx").status_code == 200
    page = login(corps.cm1).get(f"/appraisal/entries/{e1.pk}/").content.decode()
    assert "88 × 40% = 35.20" in page.replace("/100", "") or "35.20" in page
    resp = client.post(f"/api/appraisal/rounds/{rnd_id}/close", **h)
    assert resp.status_code == 400 and "CM1" in resp.json()["errors"]


def test_kpi_scorecard_hand_worked(corps, login, client, token_for):
    # August 2026, cm1: 4 visits planned, 3 done → 3/4 = 75.0%; c1 is value tier B (2 visits a month
    # expected) and got 3 → regular: 1/1 = 100.0%
    for day, status in ((3, "done"), (10, "done"), (17, "done"), (24, "planned")):
        Visit.objects.create(
            customer=corps.c1,
            cm=corps.cm1,
            planned_for=D(2026, 8, day),
            status=status,
            visited_on=D(2026, 8, day) if status == "done" else None,
        )
    # cm2: 1 planned, none done → 0.0%; team: 3/5 = 60.0%
    Visit.objects.create(customer=corps.c2, cm=corps.cm2, planned_for=D(2026, 8, 5))
    body = client.get(f"/api/appraisal/kpi/{corps.cm1.pk}?month=2026-08", **token_for(corps.cm1)).json()
    rows = {r["code"]: r for r in body["rows"]}
    assert rows["visits_done"]["months"][-1]["value"] == "75.0"
    assert rows["visit_regularity"]["months"][-1]["value"] == "100.0"
    assert rows["complaints_closed"]["available"] is False  # named in kpi.toml; no complaints module yet
    team = client.get("/api/appraisal/kpi?month=2026-08", **token_for(corps.mm1)).json()
    assert {r["code"]: r for r in team["rows"]}["visits_done"]["months"][-1]["value"] == "60.0"
    page = login(corps.mm1).get("/appraisal/kpi/?month=2026-08").content.decode()
    assert "<svg" in page and "60.0" in page and "cm3" not in page
    assert login(corps.mm1).get("/appraisal/kpi/?month=2026-08&export=xlsx").status_code == 200
    assert login(corps.cm1).get("/appraisal/kpi/").status_code == 302  # a CM goes to his own card


def test_forecast_kpis_from_the_forecasting_module(corps, client, token_for):
    from decimal import Decimal

    from kejing.forecasting.models import ForecastLine, LedgerEntry, Round, Spec

    a = Spec.objects.create(code="S1", brand="甲", name="甲(硬)", price_class="mid", price=Decimal("100"))
    b = Spec.objects.create(code="S2", brand="乙", name="乙(软)", price_class="low", price=Decimal("50"))
    rnd = Round.objects.create(target=D(2026, 8, 1))
    # cm1, August 2026 (round for August, ledger of August):
    #   c1 × S1: forecast 10, demand 8,  supplied 8  → |error| 2
    #   c1 × S2: forecast 5,  demand 0 (not ordered) → |error| 5
    #   c1 × S2 is forecast; c1 × (nothing else); an order nobody forecast: none here
    # Σdemand = 8, Σ|error| = 7 → accuracy = 1 − 7/8 = 12.5 %; fulfilment = 8/8 = 100.0 %
    ForecastLine.objects.create(round=rnd, customer=corps.c1, spec=a, cm=corps.cm1, unit=corps.u1, merged_qty=10)
    ForecastLine.objects.create(round=rnd, customer=corps.c1, spec=b, cm=corps.cm1, unit=corps.u1, merged_qty=5)
    LedgerEntry.objects.create(customer=corps.c1, spec=a, month=D(2026, 8, 1), demand=8, supplied=8)
    # cm2: c2 × S1 ordered 20, supplied 15, nobody forecast it → |error| 20
    #   accuracy = 1 − 20/20 = 0.0 %; fulfilment = 15/20 = 75.0 %
    LedgerEntry.objects.create(customer=corps.c2, spec=a, month=D(2026, 8, 1), demand=20, supplied=15)
    # team (cm1 + cm2): accuracy = (8 − 7 + 20 − 20) / 28 = 1/28 = 3.6 %; fulfilment = 23/28 = 82.1 %
    body = client.get(f"/api/appraisal/kpi/{corps.cm1.pk}?month=2026-08", **token_for(corps.cm1)).json()
    rows = {r["code"]: r for r in body["rows"]}
    assert rows["forecast_accuracy"]["available"] is True
    assert rows["forecast_accuracy"]["months"][-1]["value"] == "12.5"
    assert rows["order_fulfilment"]["months"][-1]["value"] == "100.0"
    team = {r["code"]: r for r in client.get("/api/appraisal/kpi?month=2026-08", **token_for(corps.mm1)).json()["rows"]}
    assert team["forecast_accuracy"]["months"][-1]["value"] == "3.6"
    assert team["order_fulfilment"]["months"][-1]["value"] == "82.1"
    # the scorecard and the forecasting module's accuracy report by CM read the same sums: 12.5 % and 0.0 %
    from kejing.customers.models import Customer
    from kejing.forecasting import selectors

    report = selectors.report(corps.mm1.user, [D(2026, 8, 1)], "cm")
    by_cm = {r["key"]: r["values"] for r in report["rows"]}
    assert round(by_cm[corps.cm1.pk]["accuracy"], 3) == 0.125 and by_cm[corps.cm2.pk]["accuracy"] == 0
    assert by_cm[corps.cm2.pk]["fulfilment"] == 0.75
    # a shop moved to another CM after the round: cm1's line stays his (judged against the shop's demand, 8),
    # and the order nobody forecast goes to the shop's CM of today — on the scorecard as in the report
    Customer.objects.filter(pk=corps.c1.pk).update(cm=corps.cm2)
    team = {r["code"]: r for r in client.get("/api/appraisal/kpi?month=2026-08", **token_for(corps.mm1)).json()["rows"]}
    assert team["forecast_accuracy"]["months"][-1]["value"] == "3.6"
    mine = client.get(f"/api/appraisal/kpi/{corps.cm1.pk}?month=2026-08", **token_for(corps.mm1)).json()
    assert {r["code"]: r for r in mine["rows"]}["forecast_accuracy"]["months"][-1]["value"] == "12.5"


def test_recruitment_flow(corps):
    u = corps.committee.user
    p = services.open_posting(u, "2026 年客户经理竞聘", posts=1)
    too_old = services.add_applicant(u, p, "老张", D(1970, 1, 1), "college")
    assert not too_old.conditions_ok and too_old.status == "refused"
    a = services.add_applicant(u, p, "小李", D(1995, 5, 1), "bachelor", prior_cm_years=Decimal("1"))
    b = services.add_applicant(u, p, "小王", D(1996, 5, 1), "college")
    # 80, 70, 90 → 32 + 28 + 18 = 78 → × 80/100 = 62.40; ten panelists at 80 → 80/100 × 20 = 16.00 → 78.40
    services.set_marks(u, a, {"general": 80, "trade": 70, "practice": 90}, {f"评委{i}": 80 for i in range(10)})
    with pytest.raises(AppraisalFailure, match="至少需要 10 人"):
        services.set_marks(u, b, None, {f"评委{i}": 70 for i in range(9)})
    # 90 × 3 → 90 → 72.00; ten at 70 → 14.00 → 86.00: ranked first
    services.set_marks(u, b, {"general": 90, "trade": 90, "practice": 90}, {f"评委{i}": 70 for i in range(10)})
    a.refresh_from_db()
    b.refresh_from_db()
    assert (a.written, a.interview, a.combined, a.rank) == (Decimal("62.40"), Decimal("16.00"), Decimal("78.40"), 2)
    assert (b.combined, b.rank) == (Decimal("86.00"), 1)
    staff = services.appoint(u, a, corps.u2, D(2026, 9, 1), employee_no="CM900")
    assert (staff.role, staff.cm_start_date, staff.unit) == ("cm", D(2026, 9, 1), corps.u2)
    # a year of earlier CM work: eligible for grading at once
    rnd = services.open_round(u, "R", D(2026, 9, 30))
    assert RoundEntry.objects.get(round=rnd, staff=staff).eligible
    with pytest.raises(AppraisalFailure):
        services.appoint(u, too_old, corps.u2, D(2026, 9, 1), employee_no="CM901")


def _more_cms(org, n: int, start: int):
    for i in range(start, start + n):
        s = make_staff(f"xcm{i}", org.u1, "cm", cm_start_date=D(2019, 1, 1), education="college")
        Visit.objects.create(customer=org.c1, cm=s, planned_for=D(2026, 8, 3), status="done", visited_on=D(2026, 8, 3))


@pytest.mark.parametrize("url", ["/appraisal/pay/?month=2026-08", "/appraisal/kpi/?month=2026-08", "ROUND"])
def test_list_pages_query_counts_stay_flat(corps, login, url):
    c = login(corps.admin)

    def count():
        services.run_pay(corps.admin.user, D(2026, 8, 1))
        target = url
        if url == "ROUND":
            rnd = services.open_round(corps.admin.user, "R", D(2026, 6, 30))
            target = f"/appraisal/rounds/{rnd.pk}/"
        c.get(target)  # warm the per-process policy cache
        with CaptureQueriesContext(connection) as ctx:
            assert c.get(target).status_code == 200
        return len(ctx)

    _more_cms(corps, 2, 0)
    few = count()
    _more_cms(corps, 8, 10)
    many = count()
    assert many == few, (few, many)
