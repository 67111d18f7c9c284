"""One day's visits in order: OR-Tools routing with time windows.

The CM leaves his base at the start of the working day (waiting at a shop that is not open yet) and is back by
its end. Each shop can only
be visited while it is open, and the visit (its service time) must end before closing. Travel time is the
straight-line distance times a road factor at the policy's speed. A visit that cannot fit is left out of the
route and reported, rather than making the whole day infeasible. The search (cheapest arc, then greedy descent)
has no random element, so the same visits give the same route.
"""

from __future__ import annotations

import math
from collections.abc import Hashable, Sequence
from dataclasses import dataclass, field

from ortools.constraint_solver import pywrapcp, routing_enums_pb2

DROP_PENALTY = 1_000_000  # minutes: leaving a visit out is worse than any detour


@dataclass(frozen=True)
class Stop:
    key: Hashable
    x: float  # km
    y: float
    open: int  # minutes after midnight
    close: int
    service: int  # minutes at the shop


@dataclass
class RouteStop:
    key: Hashable
    arrive: int  # start of the visit, minutes after midnight
    leave: int
    travel_km: float  # from the previous stop (or the base)


@dataclass
class Route:
    stops: list[RouteStop] = field(default_factory=list)
    dropped: list[Hashable] = field(default_factory=list)
    depart: int = 0
    back: int = 0
    distance_km: float = 0.0


def _km(a: tuple[float, float], b: tuple[float, float]) -> float:
    return math.hypot(a[0] - b[0], a[1] - b[1])


def plan_route(
    base: tuple[float, float],
    stops: Sequence[Stop],
    day_start: int,
    day_end: int,
    speed_kmh: float,
    road_factor: float = 1.3,
    time_limit_s: int = 5,
) -> Route:
    """Order ``stops`` into a route from ``base`` back to ``base`` within ``[day_start, day_end]``."""
    if not stops:
        return Route(depart=day_start, back=day_start)
    usable, dropped = [], []
    for s in stops:
        latest = min(s.close, day_end) - s.service
        if max(s.open, day_start) <= latest:
            usable.append(s)
        else:
            dropped.append(s.key)
    points = [base] + [(s.x, s.y) for s in usable]
    n = len(points)
    km = [[_km(points[i], points[j]) * road_factor for j in range(n)] for i in range(n)]
    minutes = [[math.ceil(km[i][j] / speed_kmh * 60) for j in range(n)] for i in range(n)]
    service = [0] + [s.service for s in usable]
    manager = pywrapcp.RoutingIndexManager(n, 1, 0)
    routing = pywrapcp.RoutingModel(manager)

    def transit(i: int, j: int) -> int:
        a, b = manager.IndexToNode(i), manager.IndexToNode(j)
        return service[a] + minutes[a][b]

    cb = routing.RegisterTransitCallback(transit)
    routing.SetArcCostEvaluatorOfAllVehicles(cb)
    routing.AddDimension(cb, day_end - day_start, day_end, False, "time")
    clock = routing.GetDimensionOrDie("time")
    for node, s in enumerate(usable, start=1):
        idx = manager.NodeToIndex(node)
        clock.CumulVar(idx).SetRange(max(s.open, day_start), min(s.close, day_end) - s.service)
        routing.AddDisjunction([idx], DROP_PENALTY)
    clock.CumulVar(routing.Start(0)).SetRange(day_start, day_end)
    clock.CumulVar(routing.End(0)).SetRange(day_start, day_end)
    routing.AddVariableMinimizedByFinalizer(clock.CumulVar(routing.Start(0)))
    routing.AddVariableMinimizedByFinalizer(clock.CumulVar(routing.End(0)))
    params = pywrapcp.DefaultRoutingSearchParameters()
    params.first_solution_strategy = routing_enums_pb2.FirstSolutionStrategy.PATH_CHEAPEST_ARC
    params.local_search_metaheuristic = routing_enums_pb2.LocalSearchMetaheuristic.GREEDY_DESCENT
    params.time_limit.seconds = time_limit_s
    solution = routing.SolveWithParameters(params)
    if solution is None:  # pragma: no cover - dropping visits always leaves a feasible route
        return Route(dropped=[s.key for s in stops], depart=day_start, back=day_start)
    route = Route(dropped=dropped)
    idx = routing.Start(0)
    route.depart = solution.Value(clock.CumulVar(idx))
    prev = 0
    idx = solution.Value(routing.NextVar(idx))
    while not routing.IsEnd(idx):
        node = manager.IndexToNode(idx)
        arrive = solution.Value(clock.CumulVar(idx))
        s = usable[node - 1]
        route.stops.append(RouteStop(s.key, arrive, arrive + s.service, round(km[prev][node], 2)))
        route.distance_km += km[prev][node]
        prev = node
        idx = solution.Value(routing.NextVar(idx))
    route.back = solution.Value(clock.CumulVar(idx))
    route.distance_km = round(route.distance_km + km[prev][0], 2)
    visited = {r.key for r in route.stops}
    route.dropped += [s.key for s in usable if s.key not in visited]
    return route
