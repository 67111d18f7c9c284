"""The territory policy (``policies/<industry>/territories.toml``) as typed values, checked once on load."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from kejing.core.policy import load_policy


class TerritoryPolicyError(ValueError):
    """A territory policy value is missing or malformed; the message names the key."""


def _minutes(text: Any, key: str) -> int:
    try:
        t = text if isinstance(text, dt.time) else dt.time.fromisoformat(str(text))
    except ValueError as exc:
        raise TerritoryPolicyError(f"{key}: '{text}' is not a time HH:MM") from exc
    return t.hour * 60 + t.minute


@dataclass(frozen=True)
class TerritoryPolicy:
    bounds: dict[str, tuple[int, int]]  # area type -> (min, max) customers per CM
    counted_statuses: tuple[str, ...]
    move_penalty_km: float
    neighbours: int
    max_iterations: int
    seed: int
    visits_per_month: dict[str, int]
    default_visits_per_month: int
    service_minutes: dict[str, int]
    default_service_minutes: int
    day_start: int  # minutes after midnight
    day_end: int
    road_factor: float
    speed_kmh: dict[str, float]
    opening: dict[str, tuple[int, int]]  # business format -> (open, close) minutes

    @classmethod
    def from_data(cls, data: dict[str, Any]) -> TerritoryPolicy:
        try:
            bounds = {area: (int(v["min"]), int(v["max"])) for area, v in data["load"].items()}
            for area, (lo, hi) in bounds.items():
                if not 0 <= lo <= hi:
                    raise TerritoryPolicyError(f"load.{area}: min {lo} must be between 0 and max {hi}")
            a, v, w, t = data["assignment"], data["visits"], data["workday"], data["travel"]
            opening = {
                fmt: (_minutes(pair[0], f"opening_hours.{fmt}"), _minutes(pair[1], f"opening_hours.{fmt}"))
                for fmt, pair in data["opening_hours"].items()
            }
            if "default" not in opening:
                raise TerritoryPolicyError("opening_hours.default is required")
            policy = cls(
                bounds=bounds,
                counted_statuses=tuple(a["counted_statuses"]),
                move_penalty_km=float(a["move_penalty_km"]),
                neighbours=int(a.get("neighbours", 12)),
                max_iterations=int(a.get("max_iterations", 40)),
                seed=int(a.get("seed", 0)),
                visits_per_month={k: int(x) for k, x in v["per_month"].items()},
                default_visits_per_month=int(v.get("default_per_month", 1)),
                service_minutes={k: int(x) for k, x in v["service_minutes"].items()},
                default_service_minutes=int(v.get("default_service_minutes", 15)),
                day_start=_minutes(w["start"], "workday.start"),
                day_end=_minutes(w["end"], "workday.end"),
                road_factor=float(t["road_factor"]),
                speed_kmh={k: float(x) for k, x in t["speed_kmh"].items()},
                opening=opening,
            )
        except KeyError as exc:
            raise TerritoryPolicyError(f"territories policy lacks {exc}") from exc
        if policy.day_end <= policy.day_start:
            raise TerritoryPolicyError("workday.end must be after workday.start")
        if any(x < 0 for x in policy.visits_per_month.values()):
            raise TerritoryPolicyError("visits.per_month must not be negative")
        if any(s <= 0 for s in policy.speed_kmh.values()):
            raise TerritoryPolicyError("travel.speed_kmh must be positive")
        return policy

    @classmethod
    def load(cls, industry: str = "tobacco", base: Path | None = None) -> TerritoryPolicy:
        """Read the shipped file (engines and the CLI; the web app passes the loaded copy to ``from_data``)."""
        return cls.from_data(load_policy(industry, "territories", base))

    def bounds_for(self, area: str) -> tuple[int, int]:
        if area not in self.bounds:
            known = ", ".join(sorted(self.bounds))
            raise TerritoryPolicyError(f"未知的区域类型 '{area}' / unknown area type '{area}' (expected {known})")
        return self.bounds[area]

    def frequency(self, value_tier: str) -> int:
        return self.visits_per_month.get(value_tier, self.default_visits_per_month)

    def service(self, value_tier: str) -> int:
        return self.service_minutes.get(value_tier, self.default_service_minutes)

    def hours(self, business_format: str) -> tuple[int, int]:
        return self.opening.get(business_format or "default", self.opening["default"])

    def speed(self, area: str) -> float:
        return self.speed_kmh.get(area, min(self.speed_kmh.values()))
