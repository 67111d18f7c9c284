"""The cron-style commands of the monthly cycle run against the database."""

from __future__ import annotations

import pytest

from kejing.cli import main
from kejing.forecasting.models import Round
from kejing.service.models import Task


@pytest.mark.django_db
def test_open_round_and_week_commands(org, capsys):
    assert main(["cycle", "open-round", "--month", "2027-01"]) == 0
    assert Round.objects.filter(target__year=2027, target__month=1).count() == 1
    assert main(["cycle", "open-round", "--month", "2027-01"]) == 0  # idempotent
    assert Round.objects.filter(target__year=2027, target__month=1).count() == 1
    before = Task.objects.count()
    assert main(["cycle", "open-week", "--date", "2026-11-25"]) == 0
    made = Task.objects.count() - before
    assert made == 2 * 3  # Monday meeting + Friday summary for each of the three CMs
    assert main(["cycle", "open-week", "--date", "2026-11-23"]) == 0  # same week: nothing new
    assert Task.objects.count() - before == made
    assert "2027-01" in capsys.readouterr().out


@pytest.mark.django_db
def test_import_ledger_command_reports_bad_rows(org, tmp_path, capsys):
    bad = tmp_path / "ledger.csv"
    bad.write_text("customer,spec,month,demand\nNOPE,XX,2026-10,5\n", encoding="utf-8")
    assert main(["cycle", "import-ledger", str(bad), "--dry-run", "--json"]) == 1
    assert '"row": 2' in capsys.readouterr().out
