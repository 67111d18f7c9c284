"""The bill run written the straightforward way: one Python step per record, dictionaries for every lookup.

It exists for two reasons: ``kejing bench billrun`` times it against the vectorised engine in the same run, and
the tests use it as a second, independent reading of the same rules (both must agree to the fen).
"""

from __future__ import annotations

from .billing import ITEMS, BillInputs, month_index, round_rate


def baseline_bill(x: BillInputs) -> dict[str, dict]:
    """{"accounts": {(account, item): fen}, "members": {(member, item): fen left to the member}}."""
    products = x.product_codes
    gu = {}
    for i in range(len(x.gu_id)):
        gu[int(x.gu_id[i])] = (int(x.gu_ec[i]), x.package_codes[int(x.gu_package[i])], int(x.gu_account[i]))
    member_ec = {int(m): int(e) for m, e in zip(x.member_id, x.member_ec, strict=True)}
    membership = set()
    for m, g in zip(x.ms_member, x.ms_gu, strict=True):
        membership.add((int(m), int(g)))

    accounts: dict[tuple[int, str], int] = {}
    fees: dict[tuple[int, int, str], int] = {}

    def add(d, key, fen):
        d[key] = d.get(key, 0) + fen

    month = month_index(x.month)
    start = {int(g): int(s) for g, s in zip(x.gu_id, x.gu_start, strict=True)}

    def due(f, g):  # a yearly fee: the opening month and every twelfth month after it
        return f.period != "year" or (0 <= start[g] <= month and (month - start[g]) % 12 == 0)

    for g, (_ec, code, account) in gu.items():
        for f in x.packages[code].fixed:
            if f.basis == "group_user" and due(f, g):
                add(accounts, (account, f.item), f.amount_fen)
    for m, g in membership:
        for f in x.packages[gu[g][1]].fixed:
            if f.basis == "member" and due(f, g):
                add(fees, (m, g, f.item), f.amount_fen)

    member_qty: dict[tuple[int, int, str], int] = {}
    group_qty: dict[tuple[int, str], int] = {}
    for i in range(len(x.usage_gu)):
        g = int(x.usage_gu[i])
        m = int(x.usage_member[i])
        kind = x.kinds[int(x.usage_kind[i])]
        if g not in gu or (m >= 0 and (m, g) not in membership):
            continue
        for r in x.packages[gu[g][1]].usage:
            if r.kind != kind:
                continue
            if r.pool == "group_user":
                group_qty[(g, kind)] = group_qty.get((g, kind), 0) + int(x.usage_qty[i])
            elif m >= 0:
                member_qty[(m, g, kind)] = member_qty.get((m, g, kind), 0) + int(x.usage_qty[i])

    def charge(r, q):
        over = max((q if r.max_units < 0 else min(q, r.max_units)) - r.included, 0)
        return 0 if r.rate_e4 < 0 else round_rate(over, r.rate_e4)

    for (g, kind), q in group_qty.items():
        r = next(r for r in x.packages[gu[g][1]].usage if r.kind == kind)
        add(accounts, (gu[g][2], r.item), charge(r, q))
    room: dict[tuple[int, int], int] = {}  # what a member may still be charged under a capped package
    for m, g in sorted(membership):
        pkg = x.packages[gu[g][1]]
        if pkg.member_cap_fen >= 0:
            room[(m, g)] = pkg.member_cap_fen - sum(f.amount_fen for f in pkg.fixed if f.basis == "member")
    for m, g in sorted({(m, g) for m, g, _k in member_qty}):
        for r in x.packages[gu[g][1]].usage:  # in the package's rate order, as the cap uses them up
            if (m, g, r.kind) not in member_qty:
                continue
            fen = charge(r, member_qty[(m, g, r.kind)])
            if (m, g) in room:
                fen = max(0, min(fen, room[(m, g)]))
                room[(m, g)] -= fen
            add(fees, (m, g, r.item), fen)

    for i in range(len(x.charge_fen)):
        m, g, item = int(x.charge_member[i]), int(x.charge_gu[i]), ITEMS[int(x.charge_item[i])]
        if m < 0:
            add(accounts, (gu[g][2], item), int(x.charge_fen[i]))
        else:
            add(fees, (m, g, item), int(x.charge_fen[i]))

    plans = {}
    for i in range(len(x.plan_id)):
        m = int(x.plan_member[i])
        p = int(x.plan_product[i])
        scope = ("m", m) if m >= 0 else ("e", int(x.plan_ec[i]))
        plans[(scope, products[p] if p >= 0 else None, ITEMS[int(x.plan_item[i])])] = i

    def find(m, g, item):
        product = x.packages[gu[g][1]].product_code if g >= 0 else None
        ec = member_ec[m]
        for scope, prod in ((("m", m), product), (("m", m), None), (("e", ec), product), (("e", ec), None)):
            if (scope, prod, item) in plans:  # without a product both pairs of levels collapse to "any product"
                return plans[(scope, prod, item)]
        return None

    used: dict[tuple[int, int], int] = {}
    members: dict[tuple[int, str], int] = {}
    lines = sorted(fees.items(), key=lambda kv: (kv[0][0], kv[0][1], ITEMS.index(kv[0][2])))
    for (m, g, item), fen in lines:
        p = find(m, g, item)
        moved = 0
        if p is not None:
            cap = int(x.plan_cap_fen[p])
            done = used.get((m, p), 0)
            moved = fen if cap < 0 else max(0, min(fen, cap - done))
            used[(m, p)] = done + moved
            if moved:
                add(accounts, (int(x.plan_account[p]), item), moved)
        add(members, (m, item), fen - moved)
    return {
        "accounts": {k: v for k, v in accounts.items() if v},
        "members": {k: v for k, v in members.items() if v},
    }
