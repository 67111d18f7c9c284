"""Demo data of the catalog module: the catalog rows, and a few saved quotes for telecom customers so that the
quote pages have something to show (each made by the customer's own CM)."""

from __future__ import annotations

import datetime as dt
import random

from kejing.customers.models import Customer

from . import selectors, services

# (product code, usage, package or "" for the cheapest)
SAMPLES = [
    ("QXT", {"sms": "6000"}, ""),
    ("YDGJ", {"users": "20", "minutes_local": "2500", "minutes_long": "900"}, ""),
    ("CWT", {"users": "8", "positionings": "120000", "interval_s": "120"}, ""),
    ("QYYX", {"users": "60", "mb": "3000"}, ""),
    ("YDBG", {"users": "15", "mb": "600"}, ""),
    ("WXKD", {"bandwidth_mbps": "20"}, "WXKD-IN"),
]


def build(rng: random.Random, today: dt.date) -> None:
    services.sync_catalog()
    products = {p.code: p for p in selectors.products().filter(code__in=[s[0] for s in SAMPLES])}
    customers = list(
        Customer.objects.filter(industry="telecom", cm__isnull=False).select_related("cm__user").order_by("code")[:6]
    )
    for i, customer in enumerate(customers):
        user = customer.cm.user
        quote = services.create_quote(user, customer, title=f"{customer.name} 通信方案", start_date=today)
        for code, usage, package in rng.sample(SAMPLES, 2 + i % 2):
            services.add_line(user, quote, products[code], usage, package_code=package)
