"""Demo data of the monthly cycle: three years of sales for every demo tobacco shop, past forecast rounds, and
the current round advanced to the phase of today's date.

What is stored:

- the **shop-level ledger** (动销台帐) of the whole history: every shop x spec x complete month of the last 36 in
  which the spec was on sale (ordered, supplied, sold, stock; ~1.6 M rows for 10,000 shops, written in a few
  seconds), the stock running on from month to month (stock = last month's stock + supplied - sold, never
  negative), and the current month to date (ordered, supplied and sold so far, stock carried on from last
  month: what the month-end survey reads);
- the **three-year history as unit x spec monthly totals** (``UnitHistory``: 65 units x 40 specs x 36 months),
  the sums of that ledger, which is what the model learns from (top-down); shops' shares of their unit come from
  the recent ledger;
- **past rounds** for the last three complete months and for the current month (each round targets
  the month after it was worked on), with the sources as they were recorded, so that the accuracy reports have
  month-over-month figures and this month's ledger holds its balanced quantities;
- the **current round** (next month), opened with the real services: phase tasks, key customers, CM entries,
  self-reports, model forecast, submissions, supply, balancing and part of the feedback, as far as today's
  phase has got.

Demand is simulated per shop x spec: a level from the shop's tier and area (urban shops sell more high-class
specs), a trend per spec, a Spring Festival peak placed on the lunar date of each year (``lunardate``) and a
smaller Mid-Autumn one, launches and withdrawals of specs, and intermittent months at small shops.
"""

from __future__ import annotations

import datetime as dt
import math
import random

import numpy as np
from django.db import connection, transaction
from django.db.models import F, Sum
from django.utils import timezone

from kejing.core.db import analyze, insert_rows
from kejing.customers.models import Customer
from kejing.org.models import OrgUnit, Role, Staff

from . import cycle, services
from .models import (
    Feedback,
    ForecastLine,
    KeyCustomer,
    LedgerEntry,
    PhaseTask,
    Round,
    ShopKey,
    Spec,
    Submission,
    UnitHistory,
    WeeklyReport,
    _hash,
    merge_sql,
)

HISTORY_MONTHS = 36
LEDGER_MONTHS = 3
DEMO_SHOP_KEY = "shop_demo_key_0001"  # printed in docs/forecasting.md so that the POS endpoint can be tried


def lunar_to_solar(year: int, month: int, day: int) -> dt.date:
    from lunardate import LunarDate

    return LunarDate(year, month, day).to_solar_date()


def _window_share(month: dt.date, start: dt.date, end: dt.date) -> float:
    """Share of the days [start, end) that fall in ``month``."""
    m0, m1 = month, cycle.add_months(month, 1)
    days = (min(end, m1) - max(start, m0)).days
    return max(0, days) / (end - start).days


def season_factors(months: list[dt.date]) -> np.ndarray:
    """A multiplier per month: the pre-festival buying of the three weeks before the Spring Festival (lunar
    1/1), the lull of the two weeks after it, the fortnight before Mid-Autumn (lunar 8/15), a summer dip."""
    out = np.ones(len(months))
    years = sorted({m.year for m in months} | {months[0].year - 1, months[-1].year + 1})
    festivals = [lunar_to_solar(y, 1, 1) for y in years]
    autumns = [lunar_to_solar(y, 8, 15) for y in years]
    for i, m in enumerate(months):
        f = 1.0
        for sf in festivals:
            f += 0.9 * _window_share(m, sf - dt.timedelta(days=21), sf)
            f -= 0.3 * _window_share(m, sf, sf + dt.timedelta(days=14))
        for ma in autumns:
            f += 0.3 * _window_share(m, ma - dt.timedelta(days=14), ma)
        if m.month in (7, 8):
            f *= 0.94
        out[i] = f
    return out


def _merge_arrays(order, cm_q, has_cm, self_q, has_self, model) -> tuple[np.ndarray, np.ndarray]:
    """The merge rule over whole arrays (the model always has a figure in the demo's past rounds)."""
    merged = np.zeros(len(model), dtype=int)
    source = np.full(len(model), "", dtype=object)
    values = {"cm": (cm_q, has_cm), "self": (self_q, has_self), "model": (model, np.ones(len(model), dtype=bool))}
    for src in reversed(order):
        val, has = values[src]
        merged = np.where(has, val, merged)
        source = np.where(has, src, source)
    return merged, source


def month_elapsed(today: dt.date) -> float:
    """Share of ``today``'s month that is over: the days before today (the ledger is kept to yesterday's close)."""
    return (today.day - 1) / cycle.month_end(today).day


def _month_to_date(np_rng, today, demand, expected, tight, last_stock):
    """This month's ledger figures by ``today`` for pairs whose whole month is ``demand`` (ordered, Poisson) and
    ``expected``: each carton of the month's order is placed by now with the share of the month elapsed, supplied
    as the spec's supply allows (as in the complete months), sold = Poisson(expected x elapsed) but never more
    than last month's stock plus what came in, stock = last month's stock + supplied - sold (never negative)."""
    share = month_elapsed(today)
    ordered = np_rng.binomial(demand, share)
    supplied = np.floor(ordered * tight).astype(np.int64)
    sold = np.minimum(np_rng.poisson(expected * share), last_stock + supplied)
    return ordered, supplied, sold, last_stock + supplied - sold


def _update(sql: str, rows: list[tuple]) -> None:
    with connection.cursor() as cur:
        for start in range(0, len(rows), 20_000):
            cur.executemany(sql, rows[start : start + 20_000])


@transaction.atomic
def build(rng: random.Random, today: dt.date | None = None) -> dict[str, int]:
    today = today or timezone.localdate()
    np_rng = np.random.default_rng(rng.randrange(2**32))
    services.load_specs()
    specs = list(Spec.objects.order_by("code"))
    shops = list(
        Customer.objects.filter(industry="tobacco", cm__isnull=False)
        .order_by("pk")
        .values_list("pk", "unit_id", "cm_id", "tier", "business_format", "customer_type", "ordering_method", "status")
    )
    if not shops or not specs:
        return {}
    area = dict(OrgUnit.objects.filter(kind="unit", industry="tobacco").values_list("pk", "area"))
    this_month = cycle.month_start(today)
    # the complete months of the history, then this month (simulated whole; its ledger holds the share so far)
    months = [cycle.add_months(this_month, -HISTORY_MONTHS + k) for k in range(HISTORY_MONTHS + 1)]
    n_col, now_col = HISTORY_MONTHS + 1, HISTORY_MONTHS
    ledger_months = months[now_col - LEDGER_MONTHS : now_col]

    # -- which specs each shop carries, and its level for each ------------------------------------------------
    n_spec = len(specs)
    price_class = np.array([s.price_class for s in specs])
    popularity = np_rng.lognormal(0.0, 0.5, n_spec)
    class_urban = {"high": 1.3, "mid": 1.0, "low": 0.7}
    class_rural = {"high": 0.25, "mid": 0.8, "low": 1.5}
    pair_shop, pair_spec, level = [], [], []
    for idx, (_pk, unit_id, _cm, tier, fmt, *_rest) in enumerate(shops):
        tier = tier or 5
        urban = area.get(unit_id) == "urban"
        weights = popularity * np.array([(class_urban if urban else class_rural)[c] for c in price_class])
        k = int(min(n_spec, max(2, round(1.5 + tier / 4 + (2 if fmt in ("supermarket", "liquor") else 0)))))
        chosen = np_rng.choice(n_spec, size=k, replace=False, p=weights / weights.sum())
        base = 0.5 + tier * 0.3
        for j in chosen:
            pair_shop.append(idx)
            pair_spec.append(int(j))
            level.append(base * weights[j] / weights.mean())
    pair_shop_a, pair_spec_a = np.array(pair_shop), np.array(pair_spec)
    level_a = np.array(level) * np_rng.lognormal(0.0, 0.3, len(level))

    # -- monthly demand: level x season x trend x life cycle, Poisson; small shops skip months ----------------
    season = season_factors(months)
    t_years = np.arange(n_col) / 12.0
    growth = np_rng.uniform(-0.12, 0.15, n_spec)
    alive = np.ones((n_spec, n_col))
    for j, s in enumerate(specs):
        for i, m in enumerate(months):
            if not s.on_sale(m):
                alive[j, i] = 0.0
            elif s.launched and s.launched <= m:
                age = (m.year - s.launched.year) * 12 + m.month - s.launched.month
                alive[j, i] = min(1.0, 0.4 + 0.3 * age)
    spec_factor = np.exp(np.outer(growth, t_years)) * alive  # spec x month
    expected = level_a[:, None] * season[None, :] * spec_factor[pair_spec_a]
    tiers = np.array([shops[i][3] or 5 for i in pair_shop_a])
    active = np_rng.random(expected.shape) < np.where(tiers <= 6, 0.6, 0.97)[:, None]
    demand = np_rng.poisson(expected) * active
    tight = np.where(price_class == "high", np_rng.uniform(0.8, 1.0, (n_spec, n_col)).T, 1.0).T
    supplied = np.floor(demand * tight[pair_spec_a]).astype(int)

    # -- unit x spec history (what the model learns from) -----------------------------------------------------
    unit_ids = np.array([shops[i][1] for i in pair_shop_a])
    uniq_units, unit_idx = np.unique(unit_ids, return_inverse=True)
    key = unit_idx * n_spec + pair_spec_a
    hist_d = np.zeros((len(uniq_units) * n_spec, HISTORY_MONTHS), dtype=np.int64)
    hist_s = np.zeros_like(hist_d)
    np.add.at(hist_d, key, demand[:, :HISTORY_MONTHS])
    np.add.at(hist_s, key, supplied[:, :HISTORY_MONTHS])
    hist_rows = []
    for kk in np.flatnonzero(hist_d.sum(axis=1)):
        u, j = divmod(int(kk), n_spec)
        for i, m in enumerate(months[:HISTORY_MONTHS]):
            if alive[j, i] > 0:
                hist_rows.append(
                    (int(uniq_units[u]), specs[j].pk, m.isoformat(), int(hist_d[kk, i]), int(hist_s[kk, i]))
                )
    insert_rows(UnitHistory, ["unit_id", "spec_id", "month", "demand", "supplied"], hist_rows)

    # -- shop ledger for every complete month of the history ------------------------------------------------
    # each pair that carries the spec in the month gets a row; the stock runs on from month to month (stock =
    # last month's stock + supplied - sold, never negative); a spec launched later starts from an empty shelf
    shop_pk = np.array([s[0] for s in shops])
    spec_pk = np.array([s.pk for s in specs])
    # each pair's stock at the end of the last month; the month before the history is drawn as a small shelf
    last_stock = np.floor(np_rng.random(len(pair_shop_a)) * (supplied[:, 0] // 2 + 2)).astype(np.int64)
    parts = []  # per month: (pairs, month column, demand, supplied, sold, stock)
    for col in range(HISTORY_MONTHS):
        on = alive[pair_spec_a, col] > 0
        last_stock[~on] = 0  # not on sale this month: nothing carried on
        idx = np.flatnonzero(on)
        s_, prev = supplied[idx, col], last_stock[idx]
        # the shop sells about what came in, a little more while the shelf is fuller than half a month's supply
        want = s_ + np_rng.integers(-1, 2, len(idx)) + (prev > s_ // 2 + 2)
        sold = np.clip(want, 0, prev + s_)
        last_stock[idx] = prev + s_ - sold
        parts.append((idx, np.full(len(idx), col), demand[idx, col], s_, sold, last_stock[idx]))
    # this month so far: what the shops have ordered, been supplied and sold by today
    idx = np.flatnonzero(alive[pair_spec_a, now_col] > 0)
    ordered, s_, sold, stock = _month_to_date(
        np_rng, today, demand[idx, now_col], expected[idx, now_col], tight[pair_spec_a[idx], now_col], last_stock[idx]
    )
    parts.append((idx, np.full(len(idx), now_col), ordered, s_, sold, stock))
    pair, col_, d, s_, sold, stock = (np.concatenate(c) for c in zip(*parts, strict=True))
    # written shop by shop, spec by spec, month by month: each index of the table then grows at a few ends
    # instead of taking 1.6 M inserts at random places (about twice as fast on SQLite)
    cust, spec = shop_pk[pair_shop_a[pair]], spec_pk[pair_spec_a[pair]]
    order_ = np.lexsort((col_, spec, cust))
    month_iso = np.array([m.isoformat() for m in months], dtype=object)
    ledger_rows = list(
        zip(
            cust[order_].tolist(),
            spec[order_].tolist(),
            month_iso[col_[order_]].tolist(),
            d[order_].tolist(),
            s_[order_].tolist(),
            sold[order_].tolist(),
            stock[order_].tolist(),
            [""] * len(order_),
            strict=True,
        )
    )
    # on SQLite (the demo's database) the (month, customer) index is built once after the rows are in: a sort
    # instead of 1.6 M index inserts. PostgreSQL refuses DDL on a table with pending deferred-constraint checks
    # inside the transaction, so there the rows go in with the index in place.
    qn, table = connection.ops.quote_name, LedgerEntry._meta.db_table
    rebuild = connection.vendor == "sqlite"
    with connection.cursor() as cur:
        if rebuild:
            for index in LedgerEntry._meta.indexes:
                cur.execute(f"DROP INDEX {qn(index.name)}")
        insert_rows(
            LedgerEntry,
            ["customer_id", "spec_id", "month", "demand", "supplied", "sold", "stock", "guidance"],
            ledger_rows,
        )
        if rebuild:
            for index in LedgerEntry._meta.indexes:
                cols = ", ".join(qn(LedgerEntry._meta.get_field(f).column) for f in index.fields)
                cur.execute(f"CREATE INDEX {qn(index.name)} ON {qn(table)} ({cols})")
    # the rounds below query the ledger by shop and unit: the planner must know it is no longer empty
    analyze(table, UnitHistory._meta.db_table, Customer._meta.db_table, OrgUnit._meta.db_table)

    # -- key customers: the valuable half of each CM's shops, informants always -------------------------------
    price = np.array([float(s.price) for s in specs])
    value = np.zeros(len(shops))
    np.add.at(value, pair_shop_a, (demand[:, now_col - LEDGER_MONTHS : now_col].sum(axis=1)) * price[pair_spec_a])
    by_cm: dict[int, list[int]] = {}
    for idx, shop in enumerate(shops):
        if shop[7] == "active":
            by_cm.setdefault(shop[2], []).append(idx)
    key_idx: set[int] = set()
    for members in by_cm.values():
        ranked = sorted(members, key=lambda i: -value[i])
        key_idx |= set(ranked[: math.ceil(len(ranked) * 0.5)])
        key_idx |= {i for i in members if shops[i][5] == "informant"}
    KeyCustomer.objects.bulk_create(
        [KeyCustomer(customer_id=shops[i][0], suggested=True) for i in sorted(key_idx)], batch_size=5000
    )
    pos = {i for i, s in enumerate(shops) if s[6] == "pos"}
    order = services.merge_order()

    # -- past rounds (the three complete months and this month): the sources as they were recorded ----------
    cms = list(Staff.objects.filter(role=Role.CM, unit__industry="tobacco").values_list("pk", flat=True))
    line_cols = [
        "round_id",
        "customer_id",
        "spec_id",
        "cm_id",
        "unit_id",
        "model_qty",
        "model_lo",
        "model_hi",
        "self_qty",
        "cm_qty",
        "merged_qty",
        "source",
        "balanced_qty",
    ]
    key_mask = np.zeros(len(shops), dtype=bool)
    key_mask[list(key_idx)] = True
    pos_mask = np.zeros(len(shops), dtype=bool)
    pos_mask[list(pos)] = True
    shop_cm = np.array([s[2] for s in shops])
    shop_unit = np.array([s[1] for s in shops])
    for col, m in enumerate([*ledger_months, this_month], start=now_col - LEDGER_MONTHS):
        rnd = Round.objects.create(
            target=m, model_ran_at=timezone.now(), model_name="kejing", balanced_at=timezone.now()
        )
        idx = np.flatnonzero(alive[pair_spec_a, col] > 0)
        n = len(idx)
        shop_i = pair_shop_a[idx]
        d = demand[idx, col].astype(float)
        model = np.maximum(0, np.round(expected[idx, col] * np_rng.lognormal(0, 0.25, n))).astype(int)
        cm_q = np.maximum(0, np.round(d * np_rng.lognormal(0, 0.18, n) + np_rng.normal(0, 0.5, n))).astype(int)
        has_cm = key_mask[shop_i]
        self_q = np.maximum(0, np.round(d * np_rng.lognormal(0, 0.22, n))).astype(int)
        has_self = pos_mask[shop_i] & (np_rng.random(n) < 0.7)
        merged, source = _merge_arrays(order, cm_q, has_cm, self_q, has_self, model)
        bal = np.minimum(merged, np.floor(merged * tight[pair_spec_a[idx], col] + 0.5)).astype(int)
        rows = zip(
            [rnd.pk] * n,
            shop_pk[shop_i].tolist(),
            spec_pk[pair_spec_a[idx]].tolist(),
            shop_cm[shop_i].tolist(),
            shop_unit[shop_i].tolist(),
            model.tolist(),
            (model * 0.7).astype(int).tolist(),
            (model * 1.3 + 1).astype(int).tolist(),
            [v if h else None for v, h in zip(self_q.tolist(), has_self.tolist(), strict=True)],
            [v if h else None for v, h in zip(cm_q.tolist(), has_cm.tolist(), strict=True)],
            merged.tolist(),
            source.tolist(),
            bal.tolist(),
            strict=True,
        )
        insert_rows(ForecastLine, line_cols, list(rows))
        # the balanced quantities went down to the shops' ledger, and the CMs told the shops (as in the live round)
        services._push_to_ledger(rnd)
        LedgerEntry.objects.filter(month=m).update(recorded_forecast=F("allocated"))
        submitted = timezone.make_aware(dt.datetime.combine(cycle.add_months(m, -1).replace(day=8), dt.time(17)))
        Submission.objects.bulk_create([Submission(round=rnd, cm_id=c, submitted_at=submitted) for c in cms])

    current = _current_round(rng, np_rng, today, shops, specs, pair_shop_a, pair_spec_a, expected, key_idx, pos, cms)
    _weekly(rng, today, cms)
    ShopKey.objects.get_or_create(customer_id=shops[0][0], name="pos-demo", defaults={"key_hash": _hash(DEMO_SHOP_KEY)})
    return {
        "ledger": len(ledger_rows),
        "unit_history": len(hist_rows),
        "forecast_lines": ForecastLine.objects.count(),
        "current_round": current,
    }


def _current_round(rng, np_rng, today, shops, specs, pair_shop_a, pair_spec_a, expected, key_idx, pos, cms) -> int:
    """Open next month's round with the services and move it as far as today's phase."""
    target = cycle.target_of(today)
    conf = services.policy()["cycle"]
    rnd = services.open_round(target, today=today)
    day = today.day
    shop_idx = {s[0]: i for i, s in enumerate(shops)}
    pair_idx = {
        (shops[int(i)][0], specs[int(j)].pk): p for p, (i, j) in enumerate(zip(pair_shop_a, pair_spec_a, strict=True))
    }
    spec_col = HISTORY_MONTHS - 1  # the latest history month stands in for next month's expected level
    lines = list(ForecastLine.objects.filter(round=rnd).values_list("pk", "customer_id", "spec_id"))
    # the CMs' interactive figures (key customers) and the POS shops' own reports, as far as day 1-6 went
    entered_until = min(day, int(conf["self_report_until_day"]))
    share_done = min(1.0, entered_until / 6)
    rows = []
    for pk, cid, sid in lines:
        i = shop_idx.get(cid)
        p = pair_idx.get((cid, sid))
        exp_ = float(expected[p, spec_col]) if p is not None else 1.0
        cm_q = (
            max(0, round(exp_ * rng.lognormvariate(0, 0.15)))
            if i in key_idx and rng.random() < 0.95 * share_done
            else None
        )
        self_q = (
            max(0, round(exp_ * rng.lognormvariate(0, 0.25))) if i in pos and rng.random() < 0.7 * share_done else None
        )
        if cm_q is not None or self_q is not None:
            rows.append((cm_q, self_q, pk))
    table = ForecastLine._meta.db_table
    _update(f"UPDATE {table} SET cm_qty = %s, self_qty = %s WHERE id = %s", rows)
    try:
        services.run_model(rnd)
    except ImportError:
        pass  # the engine is not installed: the model column stays empty until "Run the model forecast"
    rnd.refresh_from_db()
    # merge (the demo writes the past of this month, so it merges even after the deadline): one statement
    merged_sql, source_sql = merge_sql(services.merge_order())
    with connection.cursor() as cur:
        cur.execute(
            f"UPDATE {table} SET merged_qty = {merged_sql}, source = {source_sql} WHERE round_id = %s", [rnd.pk]
        )
    dl = services.deadline(rnd)
    if today >= dl:
        late = set(rng.sample(cms, min(2, len(cms))))
        at = timezone.make_aware(dt.datetime.combine(dl, dt.time(16)))
        totals = dict(
            ForecastLine.objects.filter(round=rnd)
            .values("cm_id")
            .annotate(t=Sum("merged_qty"))
            .values_list("cm_id", "t")
        )
        Submission.objects.bulk_create(
            [Submission(round=rnd, cm_id=c, submitted_at=at, total=totals.get(c) or 0) for c in cms if c not in late]
        )
        _close(rnd, [c for c in cms if c not in late], ["forecast", "submit"], at)
    month = cycle.working_month(target)
    balance_start = [p for p in cycle.phases(month, conf) if p.code == "balance"][0]
    if today >= balance_start.start:
        _supply_and_balance(rnd, np_rng)
        _close(rnd, cms, ["visits"], timezone.now())
        feedback_start = [p for p in cycle.phases(month, conf) if p.code == "feedback"][0]
        if today >= feedback_start.start:
            _feedback(rnd, np_rng, today, feedback_start.start)
    return rnd.pk


def _close(rnd: Round, cms: list[int], phases: list[str], at) -> None:
    from kejing.service.models import Task

    ids = PhaseTask.objects.filter(round=rnd, phase__in=phases, task__staff_id__in=cms).values("task_id")
    Task.objects.filter(pk__in=ids).update(done_at=at)


def _supply_and_balance(rnd: Round, np_rng) -> None:
    """The center's supply: high- and mid-class specs are short in every department; then the real balancing."""
    center = Staff.objects.filter(role=Role.CENTER, unit__industry="tobacco").select_related("user").first()
    if center is None:
        return
    totals = (
        ForecastLine.objects.filter(round=rnd, spec__price_class__in=["high", "mid"])
        .values("spec__code", "spec__price_class", "unit__parent__parent__code")
        .annotate(t=Sum("merged_qty"))
    )
    rows = []
    for n, r in enumerate(totals, start=1):
        fill = np_rng.uniform(0.82, 0.95) if r["spec__price_class"] == "high" else np_rng.uniform(0.95, 1.0)
        rows.append(
            (
                n,
                {
                    "spec": r["spec__code"],
                    "area": r["unit__parent__parent__code"],
                    "quantity": str(int((r["t"] or 0) * fill)),
                },
            )
        )
    services.set_supply(center.user, rnd, rows)
    try:
        services.balance(center.user, rnd)
    except ImportError:
        pass


def _feedback(rnd: Round, np_rng, today: dt.date, start: dt.date) -> None:
    """The CMs have told part of their shops (more as the feedback days go by)."""
    from kejing.service.models import Task

    share = min(1.0, ((today - start).days + 1) / 5)
    shops = list(ForecastLine.objects.filter(round=rnd).values_list("customer_id", "cm_id").distinct())
    chosen = [(c, cm) for c, cm in shops if cm and np_rng.random() < share * 0.85]
    guidance = [
        "按平衡量分批订货,保持一周库存",
        "节前适当增加中高档规格备货",
        "主销规格陈列在收银台旁",
        "记录每日销量,下次拜访一起分析",
    ]
    fb = [
        Feedback(
            round=rnd,
            customer_id=c,
            cm_id=cm,
            informed_on=start + dt.timedelta(days=int(np_rng.integers(0, max(1, (today - start).days + 1)))),
            guidance=guidance[int(np_rng.integers(0, len(guidance)))],
        )
        for c, cm in chosen
    ]
    Feedback.objects.bulk_create(fb, batch_size=5000)
    ledger = LedgerEntry._meta.db_table
    _update(
        f"UPDATE {ledger} SET recorded_forecast = allocated, guidance = %s WHERE customer_id = %s AND month = %s",
        [(f.guidance, f.customer_id, rnd.target.isoformat()) for f in fb],
    )
    told = set(chosen)
    done_cms = {cm for _, cm in shops} - {cm for c, cm in shops if (c, cm) not in told}
    ids = PhaseTask.objects.filter(round=rnd, phase="feedback", task__staff_id__in=done_cms).values("task_id")
    Task.objects.filter(pk__in=ids).update(done_at=timezone.now())


def _weekly(rng: random.Random, today: dt.date, cms: list[int]) -> None:
    this_week = cycle.week_start(today)
    services.open_week(this_week)
    summaries = ["完成重点客户拜访,动销台帐已核对", "走访新开商户两家,价签使用规范", "跟进上周断货规格,已协调补货"]
    plans = ["下周完成剩余客户的预测反馈", "重点跟进细支烟新品的动销情况", "配合营销部开展社会库存调查"]
    rows = []
    for k in (1, 2, 3):
        week = this_week - dt.timedelta(weeks=k)
        rows += [WeeklyReport(cm_id=c, week=week, summary=rng.choice(summaries), plan=rng.choice(plans)) for c in cms]
    WeeklyReport.objects.bulk_create(rows)
    from kejing.service.models import Task

    monday = PhaseTask.objects.filter(week=this_week, phase="monday_meeting").values("task_id")
    if today.weekday() > 0:
        Task.objects.filter(pk__in=monday).update(done_at=timezone.now())
