"""A synthetic month for ``kejing bench billrun``: N members in ECs of about 50, each EC with a V-net and a few
other products, usage records, one-time charges and payment plans. Generated with numpy so that building a
month of a million members takes a second or two and does not distort the benchmark."""

from __future__ import annotations

import numpy as np

from .billing import ITEMS, BillInputs, Package, packages_from_policy

OTHER = ("DATA-30", "FLEET-20", "MAS-300", "LINE-2M", "RBT-5")
SHARE_OF_ECS = (0.5, 0.1, 0.2, 0.05, 0.2)  # ECs that order each product besides the V-net
SHARE_OF_MEMBERS = (0.4, 0.5, 0.0, 0.0, 0.6)  # members who join that group user (MAS and lines have none)


def generate_month(
    n_members: int, packages: dict[str, Package] | None = None, seed: int = 7, month: str = "2026-03"
) -> BillInputs:
    if packages is None:
        from kejing.core.policy import load_policy

        packages = packages_from_policy(load_policy("telecom", "groupbiz"))
    rng = np.random.default_rng(seed)
    codes = sorted(packages)
    pidx = {c: i for i, c in enumerate(codes)}
    products = sorted({p.product_code for p in packages.values()})
    n_ec = max(1, n_members // 50)
    ec_ids = np.arange(1, n_ec + 1, dtype=np.int64)
    member_ec = np.sort(rng.integers(1, n_ec + 1, n_members))
    member_id = 13900000000 + np.arange(n_members, dtype=np.int64) * 7  # spread over the number range

    total_acc = ec_ids * 10
    sub_acc = ec_ids * 10 + 1
    gu_ec, gu_pkg, gu_acc = [ec_ids], [np.where(rng.random(n_ec) < 0.5, pidx["VPMN-10"], pidx["VPMN-5"])], [total_acc]
    has = {}
    for code, share in zip(OTHER, SHARE_OF_ECS, strict=True):
        mask = rng.random(n_ec) < share
        has[code] = mask
        gu_ec.append(ec_ids[mask])
        gu_pkg.append(np.full(int(mask.sum()), pidx[code]))
        gu_acc.append(np.where(rng.random(int(mask.sum())) < 0.5, total_acc[mask], sub_acc[mask]))
    gu_ec_a = np.concatenate(gu_ec)
    gu_pkg_a = np.concatenate(gu_pkg).astype(np.int64)
    gu_acc_a = np.concatenate(gu_acc)
    gu_id = np.arange(1, len(gu_ec_a) + 1, dtype=np.int64)
    # group user of (EC, product slot): the V-net is slot 0, the others follow
    slot_gu = {}
    start = 0
    for slot, code in enumerate(("VNET", *OTHER)):
        n = len(gu_ec[slot])
        table = np.full(n_ec + 1, -1, dtype=np.int64)
        table[gu_ec[slot]] = gu_id[start : start + n]
        slot_gu[code] = table
        start += n

    ms_member = [member_id]
    ms_gu = [slot_gu["VNET"][member_ec]]
    for code, share in zip(OTHER, SHARE_OF_MEMBERS, strict=True):
        g = slot_gu[code][member_ec]
        mask = (g > 0) & (rng.random(n_members) < share)
        ms_member.append(member_id[mask])
        ms_gu.append(g[mask])
    kinds = sorted({r.kind for p in packages.values() for r in p.usage})
    k = {name: kinds.index(name) for name in kinds}
    u_m, u_g, u_k, u_q = [], [], [], []
    vnet = ms_gu[0]
    for _ in range(2):  # two call-summary records per member
        u_m.append(member_id)
        u_g.append(vnet)
        u_k.append(np.full(n_members, k["minutes"]))
        u_q.append(rng.poisson(110, n_members))
    for code, kind, lam in (("DATA-30", "mb", 2600), ("FLEET-20", "positionings", 450)):
        i = OTHER.index(code) + 1
        n = len(ms_member[i])
        u_m.append(ms_member[i])
        u_g.append(ms_gu[i])
        u_k.append(np.full(n, k[kind]))
        u_q.append(rng.poisson(lam, n))
    mas = slot_gu["MAS-300"][slot_gu["MAS-300"] > 0]
    for _ in range(3):
        u_m.append(np.full(len(mas), -1))
        u_g.append(mas)
        u_k.append(np.full(len(mas), k["messages"]))
        u_q.append(rng.poisson(4000, len(mas)))

    one = rng.random(len(gu_id)) < 0.01
    pick = rng.random(n_members) < 0.02
    charge_ec = np.concatenate([gu_ec_a[one], member_ec[pick]])
    charge_gu = np.concatenate([gu_id[one], vnet[pick]])
    charge_member = np.concatenate([np.full(int(one.sum()), -1), member_id[pick]])
    charge_item = np.concatenate(
        [np.full(int(one.sum()), ITEMS.index("I")), np.full(int(pick.sum()), ITEMS.index("J"))]
    )
    charge_fen = np.concatenate([np.full(int(one.sum()), 50000), rng.integers(100, 5000, int(pick.sum()))])

    half = rng.random(n_ec) < 0.5
    few = rng.random(n_members) < 0.01
    vpmn = products.index("VPMN")
    plan_ec = np.concatenate([ec_ids, ec_ids[half], member_ec[few]])
    plan_member = np.concatenate([np.full(n_ec, -1), np.full(int(half.sum()), -1), member_id[few]])
    plan_product = np.concatenate([np.full(n_ec, vpmn), np.full(int(half.sum()), -1), np.full(int(few.sum()), -1)])
    plan_item = np.concatenate(
        [np.full(n_ec, ITEMS.index("C")), np.full(int(half.sum()), ITEMS.index("B")), np.full(int(few.sum()), 0)]
    )
    plan_account = np.concatenate([total_acc, total_acc[half], member_ec[few] * 10 + 1])
    plan_cap = np.concatenate([np.full(n_ec, -1), np.full(int(half.sum()), 3000), np.full(int(few.sum()), 2000)])
    return BillInputs(
        month=month,
        packages=packages,
        package_codes=codes,
        kinds=kinds,
        gu_id=gu_id,
        gu_ec=gu_ec_a,
        gu_package=gu_pkg_a,
        gu_account=gu_acc_a,
        member_id=member_id,
        member_ec=member_ec,
        ms_member=np.concatenate(ms_member),
        ms_gu=np.concatenate(ms_gu),
        usage_member=np.concatenate(u_m),
        usage_gu=np.concatenate(u_g),
        usage_kind=np.concatenate(u_k),
        usage_qty=np.concatenate(u_q),
        charge_ec=charge_ec,
        charge_gu=charge_gu,
        charge_member=charge_member,
        charge_item=charge_item,
        charge_fen=charge_fen,
        plan_id=np.arange(1, len(plan_ec) + 1),
        plan_ec=plan_ec,
        plan_member=plan_member,
        plan_product=plan_product,
        plan_item=plan_item,
        plan_account=plan_account,
        plan_cap_fen=plan_cap,
    )
