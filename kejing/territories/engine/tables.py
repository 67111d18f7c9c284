"""Reading the ``kejing territory`` input tables (customers and CMs) into arrays, with row-level errors."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from kejing.core.tabular import CellError as RowError

from .policy import TerritoryPolicy

AREA_ALIASES = {"urban": "urban", "城区": "urban", "城市": "urban", "rural": "rural", "农村": "rural", "乡村": "rural"}
CUSTOMER_COLUMNS = {
    "id": ("id", "客户编码"),
    "lat": ("lat", "纬度"),
    "lon": ("lon", "经度"),
    "area": ("area", "区域类型"),
    "current_cm": ("current_cm", "现客户经理"),
}
CM_COLUMNS = {"id": ("id", "工号"), "area": ("area", "区域类型"), "lat": ("lat", "纬度"), "lon": ("lon", "经度")}


class InputError(ValueError):
    def __init__(self, errors: list[RowError]):
        self.errors = errors
        super().__init__("; ".join(e.text() for e in errors[:5]))


@dataclass
class Problem:
    customer_ids: list[str]
    lat: np.ndarray
    lon: np.ndarray
    current: np.ndarray  # CM index, -1 when none
    cm_ids: list[str]
    cm_area: list[str]
    lo: np.ndarray
    hi: np.ndarray
    cm_lat: np.ndarray  # NaN where unknown
    cm_lon: np.ndarray
    customer_area: list[str] = field(default_factory=list)


def _column(header: list[str], names: tuple[str, ...]) -> str | None:
    for h in header:
        if h.strip().lower() in names or h.strip() in names:
            return h
    return None


def _coordinate(text: str, low: float, high: float) -> float | None:
    try:
        v = float(text)
    except ValueError:
        return None
    return v if low <= v <= high else None


def build_problem(
    customers: tuple[list[str], list[tuple[int, dict[str, str]]]],
    cms: tuple[list[str], list[tuple[int, dict[str, str]]]],
    policy: TerritoryPolicy,
    names: tuple[str, str] = ("customers", "cms"),
) -> Problem:
    """Check both tables completely (every bad cell is reported) and return the arrays the engine needs."""
    errors: list[RowError] = []
    c_head, c_rows = customers
    m_head, m_rows = cms
    ccol = {k: _column(c_head, v) for k, v in CUSTOMER_COLUMNS.items()}
    mcol = {k: _column(m_head, v) for k, v in CM_COLUMNS.items()}
    for key in ("id", "lat", "lon"):
        if ccol[key] is None:
            errors.append(RowError(names[0], 1, key, "缺少该列 / column missing"))
    if mcol["id"] is None:
        errors.append(RowError(names[1], 1, "id", "缺少该列 / column missing"))
    if errors:
        raise InputError(errors)

    cm_ids: list[str] = []
    cm_rows: list[tuple[int, str, float, float]] = []
    seen: set[str] = set()
    for row, cells in m_rows:
        cid = cells.get(mcol["id"], "").strip()
        if not cid:
            errors.append(RowError(names[1], row, "id", "工号为空 / empty id"))
            continue
        if cid in seen:
            errors.append(RowError(names[1], row, "id", f"工号重复 / id {cid} repeated"))
            continue
        seen.add(cid)
        area = cells.get(mcol["area"], "").strip() if mcol["area"] else ""
        if area and area.lower() not in AREA_ALIASES and area not in AREA_ALIASES:
            errors.append(RowError(names[1], row, "area", f"'{area}' 应为 urban 或 rural / must be urban or rural"))
        lat = lon = float("nan")
        if mcol["lat"] and mcol["lon"] and (cells.get(mcol["lat"], "") or cells.get(mcol["lon"], "")):
            la = _coordinate(cells.get(mcol["lat"], ""), -90, 90)
            lo_ = _coordinate(cells.get(mcol["lon"], ""), -180, 180)
            if la is None or lo_ is None:
                errors.append(RowError(names[1], row, "lat/lon", "坐标无效 / invalid coordinates"))
            else:
                lat, lon = la, lo_
        cm_ids.append(cid)
        cm_rows.append((row, AREA_ALIASES.get(area.lower(), AREA_ALIASES.get(area, "")), lat, lon))
    index = {cid: j for j, cid in enumerate(cm_ids)}

    ids: list[str] = []
    lats, lons, cur, areas = [], [], [], []
    seen = set()
    for row, cells in c_rows:
        cid = cells.get(ccol["id"], "").strip()
        if not cid:
            errors.append(RowError(names[0], row, "id", "客户编码为空 / empty id"))
            continue
        if cid in seen:
            errors.append(RowError(names[0], row, "id", f"客户编码重复 / id {cid} repeated"))
            continue
        seen.add(cid)
        la = _coordinate(cells.get(ccol["lat"], ""), -90, 90)
        lo_ = _coordinate(cells.get(ccol["lon"], ""), -180, 180)
        if la is None:
            errors.append(RowError(names[0], row, "lat", "纬度无效 / invalid latitude"))
        if lo_ is None:
            errors.append(RowError(names[0], row, "lon", "经度无效 / invalid longitude"))
        area = cells.get(ccol["area"], "").strip() if ccol["area"] else ""
        if area and area.lower() not in AREA_ALIASES and area not in AREA_ALIASES:
            errors.append(RowError(names[0], row, "area", f"'{area}' 应为 urban 或 rural / must be urban or rural"))
        owner = cells.get(ccol["current_cm"], "").strip() if ccol["current_cm"] else ""
        if owner and owner not in index:
            errors.append(RowError(names[0], row, "current_cm", f"客户经理 {owner} 不在名单中 / CM {owner} not listed"))
        ids.append(cid)
        lats.append(la or 0.0)
        lons.append(lo_ or 0.0)
        cur.append(index.get(owner, -1))
        areas.append(AREA_ALIASES.get(area.lower(), AREA_ALIASES.get(area, "")))
    current = np.array(cur, dtype=np.int64)
    # a CM without an area takes the area most of his current customers have
    cm_area = []
    for j, (row, area, _, _) in enumerate(cm_rows):
        if not area:
            own = [areas[i] for i in np.flatnonzero(current == j) if areas[i]]
            area = max(("urban", "rural"), key=own.count) if own else ""
        if not area:
            errors.append(RowError(names[1], row, "area", "缺少区域类型 / area missing (urban or rural)"))
        cm_area.append(area)
    if not cm_ids and not errors:
        errors.append(RowError(names[1], 2, "id", "没有客户经理 / no CMs listed"))
    if errors:
        raise InputError(errors)
    bounds = [policy.bounds_for(a) for a in cm_area]
    return Problem(
        customer_ids=ids,
        lat=np.array(lats),
        lon=np.array(lons),
        current=current,
        cm_ids=cm_ids,
        cm_area=cm_area,
        lo=np.array([b[0] for b in bounds], dtype=np.int64),
        hi=np.array([b[1] for b in bounds], dtype=np.int64),
        cm_lat=np.array([r[2] for r in cm_rows]),
        cm_lon=np.array([r[3] for r in cm_rows]),
        customer_area=areas,
    )
