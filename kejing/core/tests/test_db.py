"""``kejing.core.db.update_rows``: many rows set by primary key in one go — ``executemany`` on SQLite, arrays
(``UPDATE … FROM unnest``) on PostgreSQL. The suite runs on both in CI, so both paths are checked."""

import pytest

from kejing.core.db import update_rows
from kejing.customers.models import Customer


@pytest.mark.django_db
def test_update_rows_sets_each_rows_own_values_and_nothing_else(org):
    before = {c.pk: (c.name, c.tier) for c in Customer.objects.all()}
    # C1 and C3 change, C2 is not named; chunk=1 makes one statement per row on PostgreSQL, two in all
    update_rows(Customer, ["tier", "value_tier"], [(25, "A", org.c1.pk), (3, "", org.c3.pk)], chunk=1)
    got = {c.code: (c.tier, c.value_tier, c.name) for c in Customer.objects.all()}
    assert got["C1"] == (25, "A", before[org.c1.pk][0])
    assert got["C3"] == (3, "", before[org.c3.pk][0])
    assert got["C2"] == (10, "B", before[org.c2.pk][0])  # untouched


@pytest.mark.django_db
def test_update_rows_with_no_rows_does_nothing(org):
    update_rows(Customer, ["tier"], [])
    assert sorted(Customer.objects.values_list("tier", flat=True)) == [10, 10, 10]


@pytest.mark.django_db
def test_update_rows_writes_null(org):
    from kejing.forecasting.models import ForecastLine, Round, Spec

    spec = Spec.objects.create(code="X1", brand="测", name="测试", price_class="mid", price=100)
    rnd = Round.objects.create(target="2027-01-01")
    line = ForecastLine.objects.create(
        round=rnd, customer=org.c1, spec=spec, unit=org.u1, cm=org.cm1, merged_qty=5, model_qty=4, source="model"
    )
    update_rows(ForecastLine, ["model_qty", "merged_qty", "source"], [(None, 7, "cm", line.pk)])
    line.refresh_from_db()
    assert (line.model_qty, line.merged_qty, line.source) == (None, 7, "cm")
