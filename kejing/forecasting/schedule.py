"""Opening the month's round and the week's tasks on time, without anyone pressing a button.

Why: the phase tasks of the cycle (and the Monday meeting / Friday summary) only reach the CMs' lists once the
round or the week is opened. A deployment without a cron entry, or a centre that forgets the button on the 1st,
would leave every CM with an empty list. So the background worker (``kejing worker``, started by ``kejing
serve`` and ``kejing demo``) calls :func:`open_due` every ``[cycle].auto_open_minutes`` minutes; ``kejing
cycle open-due`` does the same once, for a cron job. Both only open what is missing: an existing round or week
is left untouched (opening is idempotent anyway, but the check keeps the tick to two small queries).
"""

from __future__ import annotations

import datetime as dt
import logging
import threading

from django.db import close_old_connections
from django.utils import timezone

from kejing.core import uploads
from kejing.org.models import Role, Staff

from . import cycle, services
from .models import PhaseTask, Round

log = logging.getLogger(__name__)


def open_due(today: dt.date | None = None) -> dict[str, str | int | None]:
    """Open the round being forecast on ``today`` (next month) and ``today``'s week, where missing.

    Returns what was done: ``round`` (``YYYY-MM`` when it was opened now, else ``None``) and ``week_tasks`` (the
    weekly tasks created now). Nothing happens when ``[cycle].auto_open`` is off or there is no tobacco CM.
    """
    today = today or timezone.localdate()
    done: dict[str, str | int | None] = {"round": None, "week_tasks": 0}
    if not services.policy()["cycle"].get("auto_open", True):
        return done
    if not Staff.objects.filter(role=Role.CM, active=True, unit__industry="tobacco").exists():
        return done
    target = cycle.target_of(today)
    if not Round.objects.filter(target=target).exists():
        services.open_round(target, today=today)
        done["round"] = f"{target:%Y-%m}"
    if not PhaseTask.objects.filter(week=cycle.week_start(today)).exists():
        done["week_tasks"] = services.open_week(today)
    return done


def start_ticker(stop: threading.Event | None = None) -> threading.Thread | None:
    """Run :func:`open_due` now and then every ``[cycle].auto_open_minutes`` in a daemon thread of the worker.

    Each tick also deletes the import files that clean dry runs left behind (:func:`kejing.core.uploads.sweep`),
    so a file nobody imports goes after a day even when nobody uploads another. A failed tick is logged and tried
    again at the next one: the worker's own tasks must not stop because of it.
    Returns the thread, or ``None`` when the policy turns the ticker off (``auto_open_minutes = 0``).
    """
    minutes = float(services.policy()["cycle"].get("auto_open_minutes", 15))
    if minutes <= 0:
        return None
    stop = stop or threading.Event()

    def loop() -> None:
        while True:
            close_old_connections()
            try:
                done = open_due()
                if done["round"] or done["week_tasks"]:
                    log.info("calendar: opened %s", done)
            except Exception:  # logged, retried at the next tick
                log.exception("calendar: opening the round or week failed")
            try:  # housekeeping on the same tick: uploads of clean dry runs nobody imported
                uploads.sweep()
            except Exception:
                log.exception("deleting old import files failed")
            finally:
                close_old_connections()
            if stop.wait(minutes * 60):
                return

    thread = threading.Thread(target=loop, name="kejing-calendar", daemon=True)
    thread.start()
    return thread
