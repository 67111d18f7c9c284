"""The policy in force: the administrator's loaded copy in the database, else the file shipped with Kejing."""

from __future__ import annotations

import datetime as dt
import time
from typing import Any

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from .models import PolicyDocument
from .policy import PolicyError, load_policy, policy_files

# Per-process cache. Saving a document clears it in the process that saved; other web processes and workers pick
# the change up within CACHE_SECONDS.
CACHE_SECONDS = 30.0
_cache: dict[tuple[str, str], tuple[float, dict[str, Any]]] = {}


def clear_cache() -> None:
    _cache.clear()


def get_policy(industry: str, name: str, on: dt.date | None = None) -> dict[str, Any]:
    """The newest version effective on ``on`` (default today). Cached per process for ``CACHE_SECONDS``."""
    key = (industry, name)
    hit = _cache.get(key) if on is None else None
    if hit is not None and time.monotonic() - hit[0] < CACHE_SECONDS:
        return hit[1]
    day = on or timezone.localdate()
    doc = (
        PolicyDocument.objects.filter(industry=industry, name=name, effective_from__lte=day)
        .order_by("-effective_from", "-loaded_at")
        .first()
    )
    data = doc.data if doc else load_policy(industry, name, settings.KEJING_POLICY_DIR)
    if on is None:
        _cache[key] = (time.monotonic(), data)
    return data


def problems(name: str, data: dict[str, Any]) -> list[str]:
    """What the module that reads policy documents called ``name`` finds wrong with ``data`` (``[]`` when
    nothing, or when no module checks that name). A module names its check in its ``AppConfig.policy_checks``
    (``{"forecasting": "kejing.forecasting.services.check_policy"}``), so core need not know every rule.
    The admin site refuses to save a document with problems, and ``load_policy_files`` a file."""
    from django.apps import apps
    from django.utils.module_loading import import_string

    found: list[str] = []
    for config in apps.get_app_configs():
        path = getattr(config, "policy_checks", {}).get(name)
        if path:
            found += import_string(path)(data)
    return found


@transaction.atomic
def load_policy_files() -> list[str]:
    """Load every policy file version not yet in the database; returns what was added (idempotent). A file with
    :func:`problems` is refused with them (:class:`PolicyError`), and nothing is loaded."""
    added = []
    for pf in policy_files(settings.KEJING_POLICY_DIR):
        found = problems(pf.name, _jsonable(pf.data))
        if found:
            raise PolicyError(f"{pf.path.name}: " + "; ".join(found))
        _, created = PolicyDocument.objects.get_or_create(
            industry=pf.industry,
            name=pf.name,
            version=pf.version,
            defaults={
                "effective_from": pf.effective_from,
                "title": pf.title,
                # TOML dates are not JSON: keep them as ISO strings in the stored copy.
                "data": _jsonable(pf.data),
                "source_file": str(pf.path.name),
            },
        )
        if created:
            added.append(f"{pf.industry}/{pf.name} {pf.version}")
    clear_cache()
    return added


def _jsonable(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _jsonable(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_jsonable(v) for v in value]
    if isinstance(value, dt.date | dt.datetime | dt.time):
        return value.isoformat()
    return value
