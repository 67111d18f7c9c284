"""The worker opens the month's round and the week's tasks by itself, once, and only what is missing."""

from __future__ import annotations

import datetime as dt
import threading

import pytest

from kejing.cli import main
from kejing.forecasting import schedule, services
from kejing.forecasting.models import PhaseTask, Round
from kejing.service.models import Task

from . import cycle_fixtures

on = cycle_fixtures.on
ledger = cycle_fixtures.cycle_ledger  # Aug-Oct 2026 ledger of shops C1-C3, no round yet


@pytest.mark.django_db
def test_open_due_opens_next_months_round_and_this_week_once(ledger):
    # Wednesday 2026-11-04: the round forecast in November is December's; the week starts Monday 11-02
    done = schedule.open_due(dt.date(2026, 11, 4))
    assert done == {"round": "2026-12", "week_tasks": 2 * 3}  # Monday + Friday task for each of the 3 CMs
    rnd = Round.objects.get(target=dt.date(2026, 12, 1))
    assert rnd.lines.filter(customer__code="C1", spec__code="JF01").exists()
    # six phase tasks per CM for the round, two weekly ones per CM
    assert PhaseTask.objects.filter(round=rnd).count() == 6 * 3
    assert PhaseTask.objects.filter(week=dt.date(2026, 11, 2)).count() == 2 * 3
    tasks = Task.objects.count()
    # the next tick in the same week does nothing
    assert schedule.open_due(dt.date(2026, 11, 6)) == {"round": None, "week_tasks": 0}
    assert Task.objects.count() == tasks
    # the next Monday opens the new week only
    assert schedule.open_due(dt.date(2026, 11, 9)) == {"round": None, "week_tasks": 6}
    # the 1st of December opens January's round
    assert schedule.open_due(dt.date(2026, 12, 1))["round"] == "2027-01"


@pytest.mark.django_db
def test_open_due_leaves_an_existing_round_alone(ledger):
    rnd = services.open_round(dt.date(2026, 12, 1))
    rnd.lines.all().delete()  # e.g. the centre cleared it on purpose: the tick must not refill it
    assert schedule.open_due(dt.date(2026, 11, 20))["round"] is None
    assert not rnd.lines.exists()


@pytest.mark.django_db
def test_policy_can_turn_the_opening_off(ledger, monkeypatch):
    real = services.policy

    def off():
        data = dict(real())
        data["cycle"] = {**data["cycle"], "auto_open": False, "auto_open_minutes": 0}
        return data

    monkeypatch.setattr(services, "policy", off)
    assert schedule.open_due(dt.date(2026, 11, 4)) == {"round": None, "week_tasks": 0}
    assert not Round.objects.exists()
    assert schedule.start_ticker() is None


@pytest.mark.django_db(transaction=True)
def test_ticker_thread_opens_and_stops(ledger, on):
    on(dt.date(2026, 11, 4))
    stop = threading.Event()
    stop.set()  # one tick, then the loop ends instead of waiting
    thread = schedule.start_ticker(stop)
    thread.join(timeout=30)
    assert not thread.is_alive()
    assert Round.objects.filter(target=dt.date(2026, 12, 1)).exists()


@pytest.mark.django_db
def test_open_due_command(ledger, capsys):
    assert main(["cycle", "open-due", "--date", "2026-11-04"]) == 0
    out = capsys.readouterr().out
    assert "2026-12" in out and "6" in out
    assert main(["cycle", "open-due", "--date", "2026-11-04"]) == 0
    assert "round exists" in capsys.readouterr().out


def test_the_spring_festival_moves_the_deadline_and_the_tasks_due_in_it(
    org, login, client, token_for, monkeypatch, official_to_2026
):
    """The round for March 2046 is worked in February 2046, whose Spring Festival (estimated) is off from Monday
    5th to Thursday 8th: the submission (8th) and the shops' reports (6th) move to Friday 9th, as do the phase tasks
    due on the 6th and the 8th and the Monday meeting of the 5th; the visits phase ending Friday 16th and the
    Friday summary of the 9th stay. On the 9th the CM may still change his figures, on the 10th not."""
    from django.utils import timezone

    day = {"today": dt.date(2046, 2, 7)}
    monkeypatch.setattr(timezone, "localdate", lambda *a, **k: day["today"])
    services.load_specs()
    rnd = services.open_round(dt.date(2046, 3, 1))
    services.open_week(dt.date(2046, 2, 5))
    due = {p.phase: p.task.due for p in PhaseTask.objects.filter(task__staff=org.cm1).select_related("task")}
    assert due["forecast"] == due["submit"] == dt.date(2046, 2, 9)
    assert due["visits"] == dt.date(2046, 2, 16)
    assert due["monday_meeting"] == due["friday_summary"] == dt.date(2046, 2, 9)
    assert services.deadline(rnd) == dt.date(2046, 2, 9)
    page = login(org.cm1).get("/forecasting/?month=2046-03").content.decode()
    assert 'id="deadline-moved"' in page and "由 02-08 顺延" in page
    # the phase table keeps the named days and says where their tasks fall due: the forecast (to the 6th) and the
    # submission (to the 8th) on the 9th; the visits phase (to Friday 16th) has nothing to add
    assert page.count('class="muted phase-due"') == 2 and page.count("任务 02-09 到期") == 2
    api = client.get("/api/forecasting/rounds/current?month=2046-03", **token_for(org.cm1)).json()
    assert (api["deadline"], api["deadline_named"], api["self_report_deadline"]) == (
        "2046-02-09",
        "2046-02-08",
        "2046-02-09",
    )
    day["today"] = dt.date(2046, 2, 9)
    assert services.lock_reason(rnd, org.cm1.pk) == ""
    day["today"] = dt.date(2046, 2, 10)
    assert services.lock_reason(rnd, org.cm1.pk) == "deadline"
