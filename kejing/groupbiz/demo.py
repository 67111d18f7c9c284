"""Demo data for group business: a few ECs of the demo telecom company with accounts, group users (a V-net, and the
catalog's 移动办公 and 企信通 packages — the catalog demo has synced the catalog rows before this runs), V-net
members with short numbers, last month's usage, payment plans and a bill run. Kept small (a few hundred members) so that
``kejing demo`` stays fast; the member rows go in with ``bulk_create``."""

from __future__ import annotations

import datetime as dt
import random
from decimal import Decimal

from kejing.customers.models import Customer

from . import services
from .billrun import run_month
from .models import Member, OtherCharge, UsageRecord, UserMember

N_ECS = 5


def build(rng: random.Random, today: dt.date) -> None:
    ecs = list(
        Customer.objects.filter(industry="telecom", ec_code__isnull=False, cm__isnull=False).order_by("code")[:N_ECS]
    )
    month = (today.replace(day=1) - dt.timedelta(days=1)).strftime("%Y-%m")
    serial = 0
    for k, ec in enumerate(ecs):
        user = ec.cm.user
        total = services.create_account(
            user,
            ec,
            {"name": f"{ec.name[:20]}总账户", "invoice_type": "vat_special", "payment_type": "bank_collection"},
        )
        sub = services.create_account(
            user, ec, {"name": "移动办公子账户", "kind": "sub", "parent": total.pk, "product_codes": ["YDBG"]}
        )
        vnet = services.open_group_user(user, ec, product_code="VPMN", package_code="VPMN-10", account=total)
        data = services.open_group_user(user, ec, product_code="YDBG", package_code="YDBG-STD", account=sub)
        mas = None
        if k % 2 == 0:
            mas = services.open_group_user(
                user, ec, product_code="QXT", package_code="QXT-400", new_account={"name": "企信通账户"}
            )
        n = rng.randint(50, 90)
        members = []
        for _ in range(n):
            serial += 1
            members.append(Member(ec=ec, msisdn=f"1390354{serial:04d}", name=f"成员{serial}"))
        Member.objects.bulk_create(members)
        members = list(Member.objects.filter(ec=ec).order_by("msisdn"))
        links, usage = [], []
        for i, m in enumerate(members):
            links.append(UserMember(group_user=vnet, member=m, short_number=f"6{1001 + i}", vnet_msisdn=m.msisdn))
            usage.append(
                UsageRecord(
                    ec=ec, group_user=vnet, member=m, month=month, kind="minutes", quantity=rng.randint(50, 450)
                )
            )
            if rng.random() < 0.5:
                links.append(UserMember(group_user=data, member=m))
                usage.append(
                    UsageRecord(ec=ec, group_user=data, member=m, month=month, kind="mb", quantity=rng.randint(5, 40))
                )
        UserMember.objects.bulk_create(links)
        UsageRecord.objects.bulk_create(usage)
        if mas is not None:
            UsageRecord.objects.create(ec=ec, group_user=mas, month=month, kind="sms", quantity=rng.randint(3000, 8000))
            OtherCharge.objects.create(
                ec=ec, group_user=mas, month=month, item="I", amount=Decimal("500.00"), note="开通调测费"
            )
        services.add_payment_plan(user, ec, item="C", account=total, product_code="VPMN")
        services.add_payment_plan(user, ec, item="B", account=total, cap="20.00")
        services.add_payment_plan(user, ec, item="F", account=sub, product_code="YDBG", cap="18.00")
    if ecs:
        run_month(ecs, month)
