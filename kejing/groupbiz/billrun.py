"""The monthly bill run inside the web application: read one month's inputs for some ECs from the database, run
the pure engine (``engine/billing.py``) with a checkpoint folder, and store each EC's bill.

Idempotency: one ``BillRun`` per (EC, month). Running the month again recomputes from the same inputs and
replaces the EC's lines in one transaction, so the bill is identical when nothing changed and a fee is never
charged twice. The engine's run key (a digest of the inputs) is stored with the bill and names the checkpoint
folder: a run killed part-way and started again loads the chunks it had finished.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable
from decimal import Decimal
from pathlib import Path

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from kejing.core import audit
from kejing.customers.models import Customer

from .engine.billing import ITEMS, SOURCES, SRC_MOVED, BillError, build_inputs, round_rate, run_bill, to_yuan
from .models import BillLine, BillRun, GroupUser, Member, OtherCharge, PaymentPlan, UsageRecord, UserMember
from .services import GroupError, price_list


def checkpoint_dir() -> Path:
    return Path(settings.VAR_DIR) / "billruns"


def gather(ec_ids: Iterable[int], month: str):
    """The engine's inputs for these ECs and this month (one query per table). Packages are priced from the one
    price list (``services.price_list``: the catalog by package code, plus the V-nets of ``groupbiz.toml``)."""
    ec_ids = list(ec_ids)
    prices = price_list()
    packages = prices.packages()
    gus = list(GroupUser.objects.filter(ec_id__in=ec_ids, status=GroupUser.Status.ACTIVE).order_by("pk"))
    unknown = [g for g in gus if g.package_code not in packages]
    if unknown:
        g = unknown[0]
        entry = prices.entries.get(g.package_code)
        why = f": {entry.reason}" if entry is not None else ""
        raise GroupError(
            {
                "package_code": f"集团用户 {g.code} 的套餐 {g.package_code} 没有价格 / "
                f"package {g.package_code} has no price{why}"
            }
        )
    group_users = [
        {
            "id": g.pk,
            "ec": g.ec_id,
            "package": g.package_code,
            "account": g.account_id,
            "start": timezone.localtime(g.opened_at).strftime("%Y-%m"),
        }
        for g in gus
    ]
    members = [{"id": m, "ec": e} for m, e in Member.objects.filter(ec_id__in=ec_ids).values_list("pk", "ec_id")]
    gu_ids = {g.pk for g in gus}
    memberships = [
        {"member": m, "gu": g}
        for m, g in UserMember.objects.filter(group_user__ec_id__in=ec_ids).values_list("member_id", "group_user_id")
        if g in gu_ids
    ]
    usage = [
        {"member": m, "gu": g, "kind": k, "qty": q}
        for m, g, k, q in UsageRecord.objects.filter(ec_id__in=ec_ids, month=month).values_list(
            "member_id", "group_user_id", "kind", "quantity"
        )
    ]
    charges = [
        {"ec": e, "gu": g, "member": m, "item": i, "amount": a}
        for e, g, m, i, a in OtherCharge.objects.filter(ec_id__in=ec_ids, month=month).values_list(
            "ec_id", "group_user_id", "member_id", "item", "amount"
        )
    ]
    plans = [
        {"id": p, "ec": e, "member": m, "product": pc or None, "item": i, "account": a, "cap": c}
        for p, e, m, pc, i, a, c in PaymentPlan.objects.filter(ec_id__in=ec_ids).values_list(
            "pk", "ec_id", "member_id", "product_code", "item", "account_id", "cap"
        )
    ]
    try:
        return build_inputs(month, packages, group_users, members, memberships, usage, charges, plans), gus
    except BillError as exc:
        raise GroupError(str(exc)) from exc


def _fmt(fen: int) -> str:
    return f"{to_yuan(fen):,.2f}"


def run_month(
    ecs: Iterable[Customer], month: str, *, actor=None, job=None, progress: Callable[[int, int], None] | None = None
) -> list[BillRun]:
    """Bill ``month`` for these ECs; returns their ``BillRun`` rows."""
    ecs = list(ecs)
    x, gus = gather([e.pk for e in ecs], month)
    engine_progress = (lambda d, t: progress(d, t + len(ecs))) if progress else None
    try:
        res = run_bill(x, checkpoint_dir=checkpoint_dir(), progress=engine_progress, chunk_members=50_000)
    except BillError as exc:
        raise GroupError(str(exc)) from exc
    gu_by_id = {g.pk: g for g in gus}
    pk = x.packages
    msisdn = dict(Member.objects.filter(ec__in=ecs).values_list("pk", "msisdn"))
    # explanations of members' fees, per (member, group user, item)
    why: dict[tuple[int, int, int], list[str]] = defaultdict(list)
    d = res.member_detail
    for i in range(len(d["member"])):
        g = gu_by_id.get(int(d["gu"][i]))
        item, src = int(d["item"][i]), int(d["source"][i])
        why[(int(d["member"][i]), int(d["gu"][i]), item)].append(
            _why(src, int(d["kind"][i]), int(d["qty"][i]), int(d["amount"][i]), g, pk, x.kinds)
        )
    runs = []
    by_ec_acc = defaultdict(list)
    a = res.accounts
    for i in range(len(a["ec"])):
        by_ec_acc[int(a["ec"][i])].append(i)
    by_ec_mem = defaultdict(list)
    m = res.members
    for i in range(len(m["ec"])):
        by_ec_mem[int(m["ec"][i])].append(i)
    totals = res.ec_totals()
    for n, ec in enumerate(ecs):
        lines = []
        for i in by_ec_acc.get(ec.pk, []):
            g = gu_by_id.get(int(a["gu"][i]))
            src = int(a["source"][i])
            lines.append(
                BillLine(
                    account_id=int(a["account"][i]),
                    group_user=g,
                    item=ITEMS[int(a["item"][i])],
                    source=SOURCES[src],
                    quantity=int(a["qty"][i]),
                    members=int(a["members"][i]),
                    amount=to_yuan(a["amount"][i]),
                    note=(
                        f"{int(a['members'][i])} 名成员的统付费用 / fees of {int(a['members'][i])} members moved here "
                        "by payment plans"
                        if src == SRC_MOVED
                        else _why(src, int(a["kind"][i]), int(a["qty"][i]), int(a["amount"][i]), g, pk, x.kinds)
                    )[:300],
                )
            )
        for i in by_ec_mem.get(ec.pk, []):
            key = (int(m["member"][i]), int(m["gu"][i]), int(m["item"][i]))
            lines.append(
                BillLine(
                    account_id=int(m["account"][i]) if int(m["account"][i]) >= 0 else None,
                    msisdn=msisdn.get(key[0], ""),
                    group_user=gu_by_id.get(key[1]),
                    item=ITEMS[key[2]],
                    source="member",
                    amount=to_yuan(m["charged"][i]),
                    moved=to_yuan(m["moved"][i]),
                    note="; ".join(why.get(key, []))[:300],
                )
            )
        ec_tot = {
            item: {k: str(to_yuan(v)) for k, v in totals[(ec.pk, item)].items()}
            for item in ITEMS
            if (ec.pk, item) in totals
        }
        summary = {
            "items": ec_tot,
            "total": str(sum((Decimal(v["total"]) for v in ec_tot.values()), Decimal("0.00"))),
            "group": str(sum((Decimal(v["group"]) for v in ec_tot.values()), Decimal("0.00"))),
            "members": str(sum((Decimal(v["members"]) for v in ec_tot.values()), Decimal("0.00"))),
            "rejected_usage": res.rejected_usage,
            "unpriced_usage": res.unpriced_usage,
        }
        runs.append(_store(ec, month, res.run_key, summary, lines, actor, job))
        if progress:
            progress(res.chunks + n + 1, res.chunks + len(ecs))
    return runs


@transaction.atomic
def _store(ec, month, run_key, summary, lines, actor, job) -> BillRun:
    run, created = BillRun.objects.select_for_update().get_or_create(ec=ec, month=month)
    before = {"run_key": run.run_key, "total": run.totals.get("total")} if not created else {}
    run.lines.all().delete()
    for line in lines:
        line.run = run
    BillLine.objects.bulk_create(lines, batch_size=2000)
    run.run_key = run_key[:40]
    run.status = BillRun.Status.DONE
    run.totals = summary
    run.computed_at = timezone.now()
    run.job = job
    run.save()
    audit.record(
        actor=actor,
        action="bill_run",
        obj=run,
        customer=ec,
        changes={"total": [before.get("total"), summary["total"]], "run_key": [before.get("run_key"), run.run_key]},
        note=month,
    )
    return run


def _why(src: int, kind: int, qty: int, fen: int, gu: GroupUser | None, packages, kinds) -> str:
    """A one-line explanation of an amount (shown under "why this amount")."""
    pkg = packages.get(gu.package_code) if gu else None
    name = pkg.name if pkg else ""
    if src == 1 and pkg is not None:
        r = next((r for r in pkg.usage if r.kind == kinds[kind]), None)
        if r is not None:
            billable = qty if r.max_units < 0 else min(qty, r.max_units)
            over = max(billable - r.included, 0)
            if r.rate_e4 < 0:
                return (
                    f"{name} {r.kind} {qty},含 {r.included},超出部分无单价,未计费 / {r.kind} {qty}, "
                    f"{r.included} included, no price beyond it: not billed"
                )
            rate = Decimal(r.rate_e4) / 10000
            raw = int(round_rate(over, r.rate_e4))
            text = (
                f"{name} {r.kind} {qty},含 {r.included},超出 {over} × {rate} 元 = {_fmt(raw)} / "
                f"{r.kind} {qty}, {r.included} included, {over} × {rate} = {_fmt(raw)}"
            )
            if billable < qty:
                text += f";超过 {r.max_units} 的部分不计费 / usage above {r.max_units} is free"
            if fen < raw:
                cap = to_yuan(pkg.member_cap_fen)
                text += f";套餐每月封顶 {cap} 元,计 {_fmt(fen)} / package cap {cap} a month: {_fmt(fen)}"
            return text
    if src == 0:
        return f"{name} 固定费 {_fmt(fen)} / fixed fee {_fmt(fen)}"
    if src == 2:
        return f"一次性或其他费用 {_fmt(fen)} / one-time or other charge {_fmt(fen)}"
    return _fmt(fen)
