"""The monthly bill run of group customers (出账), vectorised with numpy.

What it computes (manual L1247-L1386, DOMAIN.md §5): for one month and many ECs, every fee by bill item A-J —
package, communication, monthly rent, port, IP address, function, value-added function, service, one-time,
other unified-payment fees — then moves members' fees to group accounts according to payment plans (集团统付),
and leaves the remainder on the members' own bills.

Why it looks like this:

* **Exact money.** Amounts are integer fen inside the engine; usage rates are integer 1/10000 yuan so that a rate
  such as 0.0029 yuan/MB is exact. Each usage line (member, group user, kind) is rounded half-up to the fen once,
  then everything else is integer addition. :func:`to_yuan` gives ``Decimal`` at the boundary.
* **Vectorised.** Rows are grouped with ``np.unique``/``np.bincount``; Python loops only run over packages and
  rate lines (tens), never over members or usage records.
* **Idempotent and resumable.** The run key is a digest of the month, the price table and every input array:
  the same inputs give the same key and the same bills. ECs are cut into chunks (an EC is never split); with a
  ``checkpoint_dir`` each finished chunk is written to disk (atomically) under the run key, so a killed run started
  again with the same inputs loads the finished chunks and computes only the rest.
* **Plan precedence.** For a member's fee of item X from product P the first plan found pays: (member, P, X),
  then (member, any product, X), then (EC, P, X), then (EC, any product, X). A plan's cap limits what it moves per
  member per month; fees are applied to a cap in a fixed order (group user, then item), so the outcome never
  depends on input order.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path
from typing import Any

import numpy as np

ITEMS = "ABCDEFGHIJ"
SRC_FIXED, SRC_USAGE, SRC_OTHER, SRC_MOVED = 0, 1, 2, 3
SOURCES = ("fixed", "usage", "other", "moved")
I64 = np.int64


class BillError(ValueError):
    """Inputs the bill run cannot use (unknown package, duplicate plan …); the message is bilingual."""


def to_fen(amount: Decimal | str | int | float) -> int:
    d = Decimal(str(amount)).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)
    return int(d * 100)


def to_rate(amount: Decimal | str) -> int:
    """A per-unit rate in 1/10000 yuan (exact for rates with up to four decimals)."""
    d = Decimal(str(amount))
    r = d * 10000
    if r != r.to_integral_value():
        raise BillError(f"单价 {amount} 精度超过 0.0001 元 / rate {amount} has more than 4 decimals")
    return int(r)


def to_yuan(fen: int | np.integer) -> Decimal:
    return (Decimal(int(fen)) / 100).quantize(Decimal("0.01"))


def round_rate(units: np.ndarray | int, rate_e4: int) -> np.ndarray | int:
    """Units × rate (1/10000 yuan) rounded half-up to the fen."""
    return (units * rate_e4 + 50) // 100


@dataclass(frozen=True)
class Fixed:
    """A fixed fee. ``period`` "year": charged whole in the month it falls due — the group user's opening month
    and every twelfth month after it — and not at all in the other months."""

    item: str
    amount_fen: int
    basis: str  # "group_user" | "member"
    period: str = "month"  # "month" | "year"


@dataclass(frozen=True)
class Rate:
    """Usage of one kind: ``included`` units free per pool, the rest at ``rate_e4``. ``max_units`` (>= 0) is a
    ceiling on the billable units per pool (usage above it is free); ``rate_e4`` -1 means the source gives no
    price beyond the included units: such usage is not billed and is counted as ``unpriced_usage``."""

    kind: str
    included: int
    rate_e4: int
    item: str
    pool: str  # "member" | "group_user"
    max_units: int = -1


@dataclass(frozen=True)
class Package:
    """A package of the price table. ``member_cap_fen`` (>= 0) is the most a member pays per month for the
    package (its per-member fixed fees plus its per-member usage): usage lines are cut back to fit."""

    code: str
    product_code: str
    name: str
    fixed: tuple[Fixed, ...] = ()
    usage: tuple[Rate, ...] = ()
    member_cap_fen: int = -1


def month_index(month: str) -> int:
    """``"2026-03"`` → 2026 × 12 + 2: months as consecutive integers, so "every twelfth month" is arithmetic."""
    try:
        year, mon = (int(v) for v in str(month).split("-")[:2])
    except ValueError as exc:
        raise BillError(f"月份 {month} 格式应为 YYYY-MM / month {month} must be YYYY-MM") from exc
    if not 1 <= mon <= 12:
        raise BillError(f"月份 {month} 格式应为 YYYY-MM / month {month} must be YYYY-MM")
    return year * 12 + mon - 1


def packages_from_policy(data: dict[str, Any]) -> dict[str, Package]:
    """The price table from the ``[packages]`` of ``policies/telecom/groupbiz.toml`` (or the catalog later)."""
    out = {}
    for code, p in data.get("packages", {}).items():
        fixed = []
        for f in p.get("fixed", []):
            if (
                f["item"] not in ITEMS
                or f.get("basis", "group_user") not in ("group_user", "member")
                or f.get("period", "month") not in ("month", "year")
            ):
                raise BillError(f"套餐 {code} 固定费配置错误 / package {code}: bad fixed charge {f}")
            fixed.append(Fixed(f["item"], to_fen(f["amount"]), f.get("basis", "group_user"), f.get("period", "month")))
        usage = []
        for u in p.get("usage", []):
            if u.get("item", "B") not in ITEMS or u.get("pool", "member") not in ("group_user", "member"):
                raise BillError(f"套餐 {code} 用量单价配置错误 / package {code}: bad usage rate {u}")
            usage.append(
                Rate(
                    u["kind"],
                    int(u.get("included", 0)),
                    to_rate(u["rate"]),
                    u.get("item", "B"),
                    u.get("pool", "member"),
                    int(u.get("max_units", -1)),
                )
            )
        cap = p.get("member_cap")
        out[code] = Package(
            code,
            p.get("product_code", code),
            p.get("name", code),
            tuple(fixed),
            tuple(usage),
            -1 if cap in (None, "") else to_fen(cap),
        )
    return out


def _arr(values: Any, dtype=I64) -> np.ndarray:
    return np.ascontiguousarray(np.asarray(values, dtype=dtype).reshape(-1))


@dataclass
class BillInputs:
    """Everything one month's run needs, as parallel arrays (ids are integers chosen by the caller).

    * group users: ``gu_id``, ``gu_ec``, ``gu_package`` (index into ``package_codes``), ``gu_account``,
      ``gu_start`` (opening month as :func:`month_index`, -1 unknown; needed only for yearly fees);
    * members (customer level): ``member_id``, ``member_ec``;
    * user-level membership: ``ms_member``, ``ms_gu``;
    * usage: ``usage_member`` (-1 for the group user's own usage), ``usage_gu``, ``usage_kind`` (index into
      ``kinds``), ``usage_qty`` (whole units: minutes, messages, MB, positionings);
    * other charges (one-time and other fees): ``charge_ec``, ``charge_gu``, ``charge_member`` (-1 = group),
      ``charge_item`` (0..9 for A..J), ``charge_fen``;
    * payment plans: ``plan_id``, ``plan_ec``, ``plan_member`` (-1 = every member of the EC), ``plan_product``
      (index into ``product_codes``, -1 = any product), ``plan_item``, ``plan_account``, ``plan_cap_fen``
      (-1 = no cap).
    """

    month: str
    packages: dict[str, Package]
    package_codes: list[str]
    kinds: list[str]
    gu_id: np.ndarray
    gu_ec: np.ndarray
    gu_package: np.ndarray
    gu_account: np.ndarray
    member_id: np.ndarray
    member_ec: np.ndarray
    ms_member: np.ndarray
    ms_gu: np.ndarray
    usage_member: np.ndarray
    usage_gu: np.ndarray
    usage_kind: np.ndarray
    usage_qty: np.ndarray
    charge_ec: np.ndarray = field(default_factory=lambda: _arr([]))
    charge_gu: np.ndarray = field(default_factory=lambda: _arr([]))
    charge_member: np.ndarray = field(default_factory=lambda: _arr([]))
    charge_item: np.ndarray = field(default_factory=lambda: _arr([]))
    charge_fen: np.ndarray = field(default_factory=lambda: _arr([]))
    plan_id: np.ndarray = field(default_factory=lambda: _arr([]))
    plan_ec: np.ndarray = field(default_factory=lambda: _arr([]))
    plan_member: np.ndarray = field(default_factory=lambda: _arr([]))
    plan_product: np.ndarray = field(default_factory=lambda: _arr([]))
    plan_item: np.ndarray = field(default_factory=lambda: _arr([]))
    plan_account: np.ndarray = field(default_factory=lambda: _arr([]))
    plan_cap_fen: np.ndarray = field(default_factory=lambda: _arr([]))
    gu_start: np.ndarray = field(default_factory=lambda: _arr([]))

    ARRAYS = (
        "gu_id gu_ec gu_package gu_account gu_start member_id member_ec ms_member ms_gu usage_member usage_gu "
        "usage_kind usage_qty charge_ec charge_gu charge_member charge_item charge_fen plan_id plan_ec plan_member "
        "plan_product plan_item plan_account plan_cap_fen"
    ).split()

    def __post_init__(self) -> None:
        for name in self.ARRAYS:
            setattr(self, name, _arr(getattr(self, name)))
        if len(self.gu_start) == 0 and len(self.gu_id):
            self.gu_start = np.full(len(self.gu_id), -1, dtype=I64)

    @property
    def product_codes(self) -> list[str]:
        return sorted({p.product_code for p in self.packages.values()})

    def run_key(self) -> str:
        """Digest of the month, the price table and every input array: same inputs, same key."""
        h = hashlib.sha256()
        h.update(self.month.encode())
        h.update(json.dumps([self.package_codes, self.kinds], ensure_ascii=False).encode())
        for code in self.package_codes:
            h.update(repr(self.packages[code]).encode())
        for name in self.ARRAYS:
            a = getattr(self, name)
            h.update(name.encode())
            h.update(str(a.shape).encode())
            h.update(a.tobytes())
        return f"{self.month}-{h.hexdigest()[:20]}"


def build_inputs(
    month: str,
    packages: dict[str, Package],
    group_users: Sequence[dict],
    members: Sequence[dict],
    memberships: Sequence[dict],
    usage: Sequence[dict] = (),
    charges: Sequence[dict] = (),
    plans: Sequence[dict] = (),
) -> BillInputs:
    """Inputs from plain records (tests, the web app): group users ``{id, ec, package, account[, start]}``
    (``start`` = opening month "YYYY-MM", used for yearly fees), members
    ``{id, ec}``, memberships ``{member, gu}``, usage ``{member|None, gu, kind, qty}``, charges
    ``{ec, gu, member|None, item, amount}``, plans ``{id, ec, member|None, product|None, item, account, cap|None}``."""
    codes = sorted(packages)
    pidx = {c: i for i, c in enumerate(codes)}
    products = sorted({p.product_code for p in packages.values()})
    prodidx = {c: i for i, c in enumerate(products)}
    kinds = sorted({r.kind for p in packages.values() for r in p.usage} | {u["kind"] for u in usage})
    kidx = {k: i for i, k in enumerate(kinds)}
    for g in group_users:
        if g["package"] not in pidx:
            raise BillError(f"集团用户 {g['id']} 的套餐 {g['package']} 没有价格 / no price for package {g['package']}")
    for p in plans:
        if p.get("product") and p["product"] not in prodidx:
            raise BillError(f"付费计划 {p['id']} 的产品 {p['product']} 未知 / plan {p['id']}: unknown product")

    def col(rows, key, fn=lambda v: v):
        return _arr([fn(r[key]) for r in rows])

    def opt(v):
        return -1 if v in (None, "") else v

    return BillInputs(
        month=month,
        packages=packages,
        package_codes=codes,
        kinds=kinds,
        gu_id=col(group_users, "id"),
        gu_ec=col(group_users, "ec"),
        gu_package=col(group_users, "package", pidx.__getitem__),
        gu_account=col(group_users, "account"),
        gu_start=_arr([month_index(g["start"]) if g.get("start") else -1 for g in group_users]),
        member_id=col(members, "id"),
        member_ec=col(members, "ec"),
        ms_member=col(memberships, "member"),
        ms_gu=col(memberships, "gu"),
        usage_member=_arr([opt(u.get("member")) for u in usage]),
        usage_gu=col(usage, "gu"),
        usage_kind=col(usage, "kind", kidx.__getitem__),
        usage_qty=col(usage, "qty"),
        charge_ec=col(charges, "ec"),
        charge_gu=_arr([opt(c.get("gu")) for c in charges]),
        charge_member=_arr([opt(c.get("member")) for c in charges]),
        charge_item=_arr([ITEMS.index(c.get("item", "I")) for c in charges]),
        charge_fen=_arr([to_fen(c["amount"]) for c in charges]),
        plan_id=col(plans, "id"),
        plan_ec=col(plans, "ec"),
        plan_member=_arr([opt(p.get("member")) for p in plans]),
        plan_product=_arr([prodidx[p["product"]] if p.get("product") else -1 for p in plans]),
        plan_item=_arr([ITEMS.index(p["item"]) for p in plans]),
        plan_account=col(plans, "account"),
        plan_cap_fen=_arr([-1 if p.get("cap") in (None, "") else to_fen(p["cap"]) for p in plans]),
    )


# Result tables: dicts of equal-length int64 arrays.
ACCOUNT_COLS = ("ec", "account", "item", "gu", "source", "kind", "qty", "amount", "members")
MEMBER_COLS = ("ec", "member", "gu", "item", "charged", "moved", "account", "plan")
MEMBER_DETAIL_COLS = ("member", "gu", "item", "source", "kind", "qty", "amount")


@dataclass
class BillResult:
    run_key: str
    month: str
    accounts: dict[str, np.ndarray]  # group accounts' lines (own group fees and fees moved from members)
    members: dict[str, np.ndarray]  # members' fees per (member, group user, item), what moved and to whom
    member_detail: dict[str, np.ndarray]  # where each member fee comes from (fixed, usage, other)
    rejected_usage: int
    chunks: int
    chunks_computed: int
    chunks_loaded: int
    unpriced_usage: int = 0  # usage lines above the included units of a kind the package gives no price for

    def account_totals(self) -> dict[tuple[int, str], int]:
        """{(account, item letter): fen}."""
        return _sum_by(self.accounts["account"], self.accounts["item"], self.accounts["amount"])

    def member_remainders(self) -> dict[tuple[int, str], int]:
        """{(member, item letter): fen left on the member's own bill}."""
        m = self.members
        return _sum_by(m["member"], m["item"], m["charged"] - m["moved"])

    def ec_totals(self) -> dict[tuple[int, str], dict[str, int]]:
        """{(ec, item letter): {total, group, members}} — total fees, paid by group accounts, left to members."""
        out: dict[tuple[int, str], dict[str, int]] = {}
        a, m = self.accounts, self.members
        own = a["source"] != SRC_MOVED
        for key, fen in _sum_by(a["ec"][own], a["item"][own], a["amount"][own]).items():
            out.setdefault(key, {"total": 0, "group": 0, "members": 0})
            out[key]["total"] += fen
            out[key]["group"] += fen
        for key, fen in _sum_by(m["ec"], m["item"], m["charged"]).items():
            out.setdefault(key, {"total": 0, "group": 0, "members": 0})
            out[key]["total"] += fen
        for key, fen in _sum_by(m["ec"], m["item"], m["moved"]).items():
            out[key]["group"] += fen
        for key, fen in _sum_by(m["ec"], m["item"], m["charged"] - m["moved"]).items():
            out[key]["members"] += fen
        return out

    def totals(self) -> dict[str, int]:
        a, m = self.accounts, self.members
        return {
            "charged": int(a["amount"][a["source"] != SRC_MOVED].sum() + m["charged"].sum()),
            "group": int(a["amount"].sum()),
            "members": int((m["charged"] - m["moved"]).sum()),
        }


def _sum_by(a: np.ndarray, item: np.ndarray, amount: np.ndarray) -> dict[tuple[int, str], int]:
    if len(a) == 0:
        return {}
    key = np.stack([a, item])
    uniq, inv = np.unique(key, axis=1, return_inverse=True)
    sums = np.zeros(uniq.shape[1], dtype=I64)
    np.add.at(sums, inv.reshape(-1), amount)
    return {(int(uniq[0, i]), ITEMS[int(uniq[1, i])]): int(sums[i]) for i in range(uniq.shape[1])}


def _group_sum(keys: list[np.ndarray], values: list[np.ndarray]) -> tuple[list[np.ndarray], list[np.ndarray]]:
    """Group rows by several integer key columns; sum the value columns. Output sorted by the keys."""
    n = len(keys[0])
    if n == 0:
        return [k[:0] for k in keys], [v[:0] for v in values]
    order = np.lexsort(keys[::-1])
    sk = [k[order] for k in keys]
    change = np.zeros(n, dtype=bool)
    change[0] = True
    for k in sk:
        change[1:] |= k[1:] != k[:-1]
    starts = np.flatnonzero(change)
    out_v = [np.add.reduceat(v[order], starts).astype(I64) for v in values]
    return [k[starts] for k in sk], out_v


def _positions(ids: np.ndarray, wanted: np.ndarray) -> np.ndarray:
    """Position of each ``wanted`` id in ``ids`` (sorted view), -1 where absent."""
    if len(ids) == 0:
        return np.full(len(wanted), -1, dtype=I64)
    order = np.argsort(ids, kind="stable")
    s = ids[order]
    pos = np.searchsorted(s, wanted)
    pos = np.clip(pos, 0, len(s) - 1)
    found = s[pos] == wanted
    return np.where(found, order[pos], -1).astype(I64)


def _ids_or_minus(ids: np.ndarray, pos: np.ndarray) -> np.ndarray:
    """Ids at positions ``pos``; -1 where the position is -1."""
    if len(pos) == 0:
        return pos.astype(I64)
    if len(ids) == 0:
        return np.full(len(pos), -1, dtype=I64)
    return np.where(pos >= 0, ids[np.clip(pos, 0, None)], -1).astype(I64)


def _empty(cols: Sequence[str]) -> dict[str, np.ndarray]:
    return {c: np.zeros(0, dtype=I64) for c in cols}


def _concat(parts: list[dict[str, np.ndarray]], cols: Sequence[str]) -> dict[str, np.ndarray]:
    if not parts:
        return _empty(cols)
    return {c: np.concatenate([p[c] for p in parts]).astype(I64) for c in cols}


class _Prepared:
    """Index arrays shared by all chunks (positions instead of ids, package attributes per group user)."""

    def __init__(self, x: BillInputs) -> None:
        self.x = x
        if len(np.unique(x.gu_id)) != len(x.gu_id) or len(np.unique(x.member_id)) != len(x.member_id):
            raise BillError("集团用户或成员编号重复 / duplicate group-user or member ids")
        products = x.product_codes
        self.n_products = max(1, len(products))
        self.prod_of_pkg = _arr([products.index(x.packages[c].product_code) for c in x.package_codes])
        self.ec_ids = np.unique(np.concatenate([x.gu_ec, x.member_ec, x.charge_ec]))
        self.gu_ecpos = np.searchsorted(self.ec_ids, x.gu_ec)
        self.member_ecpos = np.searchsorted(self.ec_ids, x.member_ec)
        self.ms_gupos = _positions(x.gu_id, x.ms_gu)
        self.ms_mpos = _positions(x.member_id, x.ms_member)
        if (self.ms_gupos < 0).any() or (self.ms_mpos < 0).any():
            raise BillError("成员关系引用了不存在的集团用户或成员 / a membership names an unknown group user or member")
        if (x.member_ec[self.ms_mpos] != x.gu_ec[self.ms_gupos]).any():
            raise BillError("成员只能加入本集团的集团用户 / a member can only join group users of its own EC")
        self.u_gupos = _positions(x.gu_id, x.usage_gu)
        self.u_mpos = np.where(x.usage_member >= 0, _positions(x.member_id, x.usage_member), -1)
        # usage of a member not (or no longer) in that group user, or of an unknown group user, is rejected
        n_gu = max(1, len(x.gu_id))
        ms_key = np.sort(self.ms_mpos * n_gu + self.ms_gupos)
        u_key = self.u_mpos * n_gu + self.u_gupos
        if len(ms_key):
            at = np.clip(np.searchsorted(ms_key, u_key), 0, len(ms_key) - 1)
            member_ok = ms_key[at] == u_key
        else:
            member_ok = np.zeros(len(u_key), dtype=bool)
        known_member = (x.usage_member < 0) | (self.u_mpos >= 0)
        self.u_ok = (self.u_gupos >= 0) & known_member & ((x.usage_member < 0) | member_ok)
        self.c_gupos = np.where(x.charge_gu >= 0, _positions(x.gu_id, x.charge_gu), -1)
        self.c_mpos = np.where(x.charge_member >= 0, _positions(x.member_id, x.charge_member), -1)
        if ((x.charge_member >= 0) & (self.c_mpos < 0)).any() or ((x.charge_gu >= 0) & (self.c_gupos < 0)).any():
            raise BillError("费用记录引用了不存在的集团用户或成员 / a charge names an unknown group user or member")
        if (x.charge_fen < 0).any() or (x.usage_qty < 0).any() or (x.plan_cap_fen < -1).any():
            raise BillError("金额、用量和封顶不能为负 / amounts, quantities and caps cannot be negative")
        if ((x.charge_member < 0) & (x.charge_gu < 0)).any():
            raise BillError("集团级费用必须指明集团用户 / a group-level charge needs a group user (its account pays)")
        self.c_ecpos = np.searchsorted(self.ec_ids, x.charge_ec)
        self.u_ecpos = np.where(self.u_gupos >= 0, self.gu_ecpos[np.clip(self.u_gupos, 0, None)], -1)
        self.plan_ecpos = np.searchsorted(self.ec_ids, x.plan_ec)
        self.plan_mpos = np.where(x.plan_member >= 0, _positions(x.member_id, x.plan_member), -1)
        if ((x.plan_member >= 0) & (self.plan_mpos < 0)).any():
            raise BillError("付费计划引用了不存在的成员 / a payment plan names an unknown member")
        self._plan_tables()
        self._periods()

    def _periods(self) -> None:
        """Which group users' yearly fees fall due this month; checks that every package's cap fits its fees."""
        x = self.x
        yearly = [i for i, c in enumerate(x.package_codes) if any(f.period == "year" for f in x.packages[c].fixed)]
        month = month_index(x.month)
        start = x.gu_start
        self.gu_due = (start >= 0) & (start <= month) & ((month - start) % 12 == 0)
        if yearly:
            bad = np.isin(x.gu_package, yearly) & (start < 0)
            if bad.any():
                g = int(x.gu_id[np.flatnonzero(bad)[0]])
                raise BillError(
                    f"集团用户 {g} 的套餐有年费,须给出开通月份 / group user {g}: a yearly fee needs the opening month"
                )
        for code in x.package_codes:
            pkg = x.packages[code]
            if pkg.member_cap_fen < 0:
                continue
            fixed = [f for f in pkg.fixed if f.basis == "member"]
            if any(f.period == "year" for f in fixed) or sum(f.amount_fen for f in fixed) > pkg.member_cap_fen:
                raise BillError(
                    f"套餐 {code} 的封顶低于其按成员的固定费或含年费 / package {code}: the cap is below its "
                    "per-member fixed fees, or they include a yearly fee"
                )

    def _plan_tables(self) -> None:
        """Four lookup tables, most specific first: (member, product, item), (member, item), (EC, product, item),
        (EC, item). Keys are integers; a duplicate key in one table is an error (two plans for the same fee)."""
        x, npd = self.x, self.n_products
        m, p, e, it = self.plan_mpos, x.plan_product, self.plan_ecpos, x.plan_item
        levels = [
            ((m >= 0) & (p >= 0), (m * npd + p) * 10 + it),
            ((m >= 0) & (p < 0), m * 10 + it),
            ((m < 0) & (p >= 0), (e * npd + p) * 10 + it),
            ((m < 0) & (p < 0), e * 10 + it),
        ]
        self.plan_levels = []
        for mask, key in levels:
            k = key[mask]
            idx = np.flatnonzero(mask)
            order = np.argsort(k, kind="stable")
            k, idx = k[order], idx[order]
            if len(k) > 1 and (k[1:] == k[:-1]).any():
                dup = x.plan_id[idx[1:][k[1:] == k[:-1]][0]]
                raise BillError(f"付费计划 {dup} 与另一计划重复 / plan {dup} duplicates another plan for the same fee")
            self.plan_levels.append((k, idx))

    def find_plans(self, mpos: np.ndarray, ecpos: np.ndarray, prod: np.ndarray, item: np.ndarray) -> np.ndarray:
        npd = self.n_products
        keys = [(mpos * npd + prod) * 10 + item, mpos * 10 + item, (ecpos * npd + prod) * 10 + item, ecpos * 10 + item]
        plan = np.full(len(mpos), -1, dtype=I64)
        for (k, idx), want in zip(self.plan_levels, keys, strict=True):
            if len(k) == 0:
                continue
            at = np.clip(np.searchsorted(k, want), 0, len(k) - 1)
            hit = (k[at] == want) & (plan < 0)
            plan[hit] = idx[at[hit]]
        return plan


def _overage(q: np.ndarray, r: Rate) -> tuple[np.ndarray, np.ndarray, int]:
    """Units over the included amount (after the ceiling ``max_units``), their amount in fen, and how many lines
    have usage over the included amount but no price (``rate_e4`` -1: not billed)."""
    billable = q if r.max_units < 0 else np.minimum(q, r.max_units)
    over = np.maximum(billable - r.included, 0)
    if r.rate_e4 < 0:
        return over, np.zeros(len(q), dtype=I64), int((over > 0).sum())
    return over, round_rate(over, r.rate_e4), 0


def _apply_member_cap(pkg: Package, parts: list[dict[str, np.ndarray]]) -> None:
    """Cut a member's usage lines of ``pkg`` so that they and the per-member fixed fees stay within the cap.
    Lines are used up in the package's rate order, so the cut never depends on input order."""
    headroom = pkg.member_cap_fen - sum(f.amount_fen for f in pkg.fixed if f.basis == "member")
    cols = _concat(parts, ("mpos", "gupos", "order", "amount"))
    if not len(cols["amount"]):
        return
    order = np.lexsort((cols["order"], cols["gupos"], cols["mpos"]))
    amt = cols["amount"][order]
    key_m, key_g = cols["mpos"][order], cols["gupos"][order]
    start = np.ones(len(amt), dtype=bool)
    start[1:] = (key_m[1:] != key_m[:-1]) | (key_g[1:] != key_g[:-1])
    cums = np.cumsum(amt)
    base = np.maximum.accumulate(np.where(start, cums - amt, 0))
    before = cums - amt - base  # charged earlier for the same (member, group user)
    allowed = np.clip(headroom - before, 0, amt)
    capped = np.empty_like(amt)
    capped[order] = allowed
    at = 0
    for part in parts:
        n = len(part["amount"])
        part["amount"] = capped[at : at + n]
        at += n


def _chunk(pr: _Prepared, ec_lo: int, ec_hi: int) -> dict[str, dict[str, np.ndarray]]:
    """Bill the ECs with positions in [ec_lo, ec_hi)."""
    x = pr.x
    in_ec = lambda ecpos: (ecpos >= ec_lo) & (ecpos < ec_hi)  # noqa: E731
    acc_parts: list[dict[str, np.ndarray]] = []
    mem_parts: list[dict[str, np.ndarray]] = []

    gsel = np.flatnonzero(in_ec(pr.gu_ecpos))
    ms_sel = np.flatnonzero(in_ec(pr.gu_ecpos[pr.ms_gupos])) if len(pr.ms_gupos) else np.zeros(0, dtype=I64)
    g_pkg = x.gu_package[gsel]
    m_pkg = x.gu_package[pr.ms_gupos[ms_sel]]
    # members per group user (shown on the account bill's explanation)
    members_of_gu = np.bincount(pr.ms_gupos[ms_sel], minlength=len(x.gu_id))

    for pi, code in enumerate(x.package_codes):
        pkg = x.packages[code]
        for f in pkg.fixed:
            if f.basis == "group_user":
                gp = gsel[g_pkg == pi]
                if f.period == "year":
                    gp = gp[pr.gu_due[gp]]
                n = len(gp)
                acc_parts.append(
                    {
                        "ec": x.gu_ec[gp],
                        "account": x.gu_account[gp],
                        "item": np.full(n, ITEMS.index(f.item), I64),
                        "gu": x.gu_id[gp],
                        "source": np.full(n, SRC_FIXED, I64),
                        "kind": np.full(n, -1, I64),
                        "qty": np.ones(n, I64),
                        "amount": np.full(n, f.amount_fen, I64),
                        "members": members_of_gu[gp],
                    }
                )
            else:
                ms = ms_sel[m_pkg == pi]
                if f.period == "year":
                    ms = ms[pr.gu_due[pr.ms_gupos[ms]]]
                n = len(ms)
                mem_parts.append(
                    {
                        "mpos": pr.ms_mpos[ms],
                        "gupos": pr.ms_gupos[ms],
                        "item": np.full(n, ITEMS.index(f.item), I64),
                        "source": np.full(n, SRC_FIXED, I64),
                        "kind": np.full(n, -1, I64),
                        "qty": np.ones(n, I64),
                        "amount": np.full(n, f.amount_fen, I64),
                    }
                )

    # usage: one line per (member, group user, kind) or per (group user, kind) for pooled quotas
    usel = np.flatnonzero(pr.u_ok & in_ec(pr.u_ecpos))
    rejected = int((~pr.u_ok & in_ec(pr.u_ecpos)).sum()) + int((pr.u_gupos < 0).sum() if ec_lo == 0 else 0)
    unpriced = 0
    if len(usel):
        u_pkg = x.gu_package[pr.u_gupos[usel]]
        covered = np.zeros(len(usel), dtype=bool)  # usage rows a rate of their package applies to
        for pi, code in enumerate(x.package_codes):
            pkg = x.packages[code]
            pkg_mem: list[dict[str, np.ndarray]] = []
            for ri, r in enumerate(pkg.usage):
                if r.kind not in x.kinds:
                    continue
                ki = x.kinds.index(r.kind)
                hit = (u_pkg == pi) & (x.usage_kind[usel] == ki)
                covered |= hit
                rows = usel[hit]
                if not len(rows):
                    continue
                gupos = pr.u_gupos[rows]
                qty = x.usage_qty[rows]
                if r.pool == "group_user":
                    (g,), (q,) = _group_sum([gupos], [qty])
                    over, amount, n_unpriced = _overage(q, r)
                    unpriced += n_unpriced
                    n = len(g)
                    acc_parts.append(
                        {
                            "ec": x.gu_ec[g],
                            "account": x.gu_account[g],
                            "item": np.full(n, ITEMS.index(r.item), I64),
                            "gu": x.gu_id[g],
                            "source": np.full(n, SRC_USAGE, I64),
                            "kind": np.full(n, ki, I64),
                            "qty": q,
                            "amount": amount,
                            "members": members_of_gu[g],
                        }
                    )
                else:
                    mpos = pr.u_mpos[rows]
                    (mm, g), (q,) = _group_sum([mpos, gupos], [qty])
                    keep = mm >= 0  # group-level records of a per-member package: nobody to bill, counted below
                    rejected += int((~keep).sum())
                    mm, g, q = mm[keep], g[keep], q[keep]
                    over, amount, n_unpriced = _overage(q, r)
                    unpriced += n_unpriced
                    n = len(g)
                    pkg_mem.append(
                        {
                            "mpos": mm,
                            "gupos": g,
                            "item": np.full(n, ITEMS.index(r.item), I64),
                            "source": np.full(n, SRC_USAGE, I64),
                            "kind": np.full(n, ki, I64),
                            "qty": q,
                            "amount": amount,
                            "order": np.full(n, ri, I64),
                        }
                    )
            if pkg.member_cap_fen >= 0 and pkg_mem:
                _apply_member_cap(pkg, pkg_mem)
            mem_parts.extend({k: v for k, v in part.items() if k != "order"} for part in pkg_mem)
        unpriced += int((~covered).sum())

    # one-time and other charges
    csel = np.flatnonzero(in_ec(pr.c_ecpos))
    if len(csel):
        grp = csel[pr.c_mpos[csel] < 0]
        gp = pr.c_gupos[grp]
        acc_parts.append(
            {
                "ec": x.charge_ec[grp],
                "account": x.gu_account[gp],
                "item": x.charge_item[grp],
                "gu": x.gu_id[gp],
                "source": np.full(len(grp), SRC_OTHER, I64),
                "kind": np.full(len(grp), -1, I64),
                "qty": np.ones(len(grp), I64),
                "amount": x.charge_fen[grp],
                "members": members_of_gu[gp],
            }
        )
        mem = csel[pr.c_mpos[csel] >= 0]
        # a member charge without a group user stays with the member (gu -1)
        mem_parts.append(
            {
                "mpos": pr.c_mpos[mem],
                "gupos": pr.c_gupos[mem],
                "item": x.charge_item[mem],
                "source": np.full(len(mem), SRC_OTHER, I64),
                "kind": np.full(len(mem), -1, I64),
                "qty": np.ones(len(mem), I64),
                "amount": x.charge_fen[mem],
            }
        )

    md = _concat(mem_parts, ("mpos", "gupos", "item", "source", "kind", "qty", "amount"))
    detail = {
        "member": x.member_id[md["mpos"]],
        "gu": np.where(md["gupos"] >= 0, x.gu_id[np.clip(md["gupos"], 0, None)], -1)
        if len(md["gupos"])
        else md["gupos"],
        "item": md["item"],
        "source": md["source"],
        "kind": md["kind"],
        "qty": md["qty"],
        "amount": md["amount"],
    }
    # members' fees per (member, group user, item), then payment plans
    (mpos, gupos, item), (amount,) = _group_sum([md["mpos"], md["gupos"], md["item"]], [md["amount"]])
    safe_gu = np.clip(gupos, 0, None)
    prod = np.where(gupos >= 0, pr.prod_of_pkg[x.gu_package[safe_gu]] if len(safe_gu) else safe_gu, -1)
    ecpos = pr.member_ecpos[mpos]
    plan = pr.find_plans(mpos, ecpos, np.where(prod >= 0, prod, 0), item)
    # a fee without a product only matches plans for any product
    if len(plan):
        noprod = prod < 0
        if noprod.any():
            plan[noprod] = -1
            sub = np.flatnonzero(noprod)
            lv = pr.plan_levels
            for (k, idx), want in ((lv[1], mpos[sub] * 10 + item[sub]), (lv[3], ecpos[sub] * 10 + item[sub])):
                if len(k) == 0:
                    continue
                at = np.clip(np.searchsorted(k, want), 0, len(k) - 1)
                hit = (k[at] == want) & (plan[sub] < 0)
                plan[sub[hit]] = idx[at[hit]]
    moved = np.zeros(len(amount), dtype=I64)
    has = plan >= 0
    if has.any():
        rows = np.flatnonzero(has)
        cap = x.plan_cap_fen[plan[rows]]
        # order within (member, plan): group user then item; cumulative sums against the cap
        gu_ids = _ids_or_minus(x.gu_id, gupos[rows])
        order = np.lexsort((item[rows], gu_ids, plan[rows], mpos[rows]))
        r = rows[order]
        amt = amount[r]
        grp_key = mpos[r] * max(1, len(x.plan_id)) + plan[r]
        start = np.ones(len(r), dtype=bool)
        start[1:] = grp_key[1:] != grp_key[:-1]
        cums = np.cumsum(amt)
        base = np.maximum.accumulate(np.where(start, cums - amt, 0))
        before = cums - amt - base  # moved earlier in the same (member, plan) group
        capped = cap[order]
        mv = np.where(capped < 0, amt, np.clip(capped - before, 0, amt))
        moved[r] = mv
    members = {
        "ec": x.member_ec[mpos],
        "member": x.member_id[mpos],
        "gu": np.where(gupos >= 0, x.gu_id[safe_gu], -1) if len(gupos) else gupos,
        "item": item,
        "charged": amount,
        "moved": moved,
        "account": _ids_or_minus(x.plan_account, np.where(has, plan, -1)),  # no plans at all: -1
        "plan": _ids_or_minus(x.plan_id, np.where(has, plan, -1)),
    }
    # fees moved to group accounts, summed per (account, item, group user)
    mv = moved > 0
    (ec_of_acc, acc, itm, g), (amt, cnt) = _group_sum(
        [members["ec"][mv], members["account"][mv], item[mv], members["gu"][mv]],
        [moved[mv], np.ones(int(mv.sum()), I64)],
    )
    acc_parts.append(
        {
            "ec": ec_of_acc,
            "account": acc,
            "item": itm,
            "gu": g,
            "source": np.full(len(acc), SRC_MOVED, I64),
            "kind": np.full(len(acc), -1, I64),
            "qty": cnt,
            "amount": amt,
            "members": cnt,
        }
    )
    accounts = _concat(acc_parts, ACCOUNT_COLS)
    keep = accounts["amount"] != 0
    accounts = {k: v[keep] for k, v in accounts.items()}
    return {
        "accounts": accounts,
        "members": members,
        "member_detail": detail,
        "stats": {"rejected": np.array([rejected], dtype=I64), "unpriced": np.array([unpriced], dtype=I64)},
    }


def _save_chunk(path: Path, data: dict[str, dict[str, np.ndarray]]) -> None:
    flat = {f"{t}__{c}": a for t, cols in data.items() for c, a in cols.items()}
    tmp = path.with_suffix(".tmp.npz")
    with open(tmp, "wb") as fh:
        np.savez(fh, **flat)
        fh.flush()
        os.fsync(fh.fileno())
    os.replace(tmp, path)


def _load_chunk(path: Path) -> dict[str, dict[str, np.ndarray]]:
    out: dict[str, dict[str, np.ndarray]] = {}
    with np.load(path) as z:
        for name in z.files:
            t, c = name.split("__", 1)
            out.setdefault(t, {})[c] = z[name]
    return out


Progress = Callable[[int, int], None]


def run_bill(
    x: BillInputs,
    *,
    chunk_members: int = 200_000,
    checkpoint_dir: str | Path | None = None,
    progress: Progress | None = None,
) -> BillResult:
    """Bill one month. ``progress(done_chunks, total_chunks)`` is called after each chunk; with a
    ``checkpoint_dir`` a run killed part-way resumes from the chunks already written."""
    pr = _Prepared(x)
    key = x.run_key()
    # chunk boundaries over ECs (sorted by id) so that each chunk holds about ``chunk_members`` members
    per_ec = np.bincount(pr.member_ecpos, minlength=len(pr.ec_ids)) + np.bincount(pr.gu_ecpos, minlength=len(pr.ec_ids))
    cum = np.cumsum(per_ec)
    bounds = [0]
    if len(cum):
        cuts = np.searchsorted(cum, np.arange(chunk_members, int(cum[-1]), chunk_members), side="left") + 1
        bounds += [int(c) for c in np.unique(cuts) if 0 < c < len(pr.ec_ids)]
    bounds.append(len(pr.ec_ids))
    n_chunks = len(bounds) - 1
    folder = None
    if checkpoint_dir is not None:
        folder = Path(checkpoint_dir) / key
        folder.mkdir(parents=True, exist_ok=True)
        (folder / "manifest.json").write_text(json.dumps({"run_key": key, "chunks": n_chunks, "bounds": bounds}))
    parts = []
    computed = loaded = 0
    for i in range(n_chunks):
        path = folder / f"chunk-{i:05d}.npz" if folder else None
        if path is not None and path.exists():
            parts.append(_load_chunk(path))
            loaded += 1
        else:
            data = _chunk(pr, bounds[i], bounds[i + 1])
            if path is not None:
                _save_chunk(path, data)
            parts.append(data)
            computed += 1
        if progress:
            progress(i + 1, n_chunks)
    return BillResult(
        run_key=key,
        month=x.month,
        accounts=_concat([p["accounts"] for p in parts], ACCOUNT_COLS),
        members=_concat([p["members"] for p in parts], MEMBER_COLS),
        member_detail=_concat([p["member_detail"] for p in parts], MEMBER_DETAIL_COLS),
        rejected_usage=int(sum(int(p["stats"]["rejected"][0]) for p in parts)),
        unpriced_usage=int(sum(int(p["stats"]["unpriced"][0]) for p in parts if "unpriced" in p["stats"])),
        chunks=n_chunks,
        chunks_computed=computed,
        chunks_loaded=loaded,
    )
