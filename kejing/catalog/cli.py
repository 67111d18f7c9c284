"""Commands this app adds to ``kejing``: ``kejing quote`` (no database needed) and ``kejing catalog load``."""

from __future__ import annotations

import argparse
import datetime as dt
import json
import sys


def _usage_pairs(items: list[str]) -> dict[str, str]:
    out = {}
    for item in items:
        key, sep, value = item.partition("=")
        if not sep:
            raise SystemExit(f"--usage {item}: 应为 KEY=VALUE / expected KEY=VALUE")
        out[key.strip()] = value.strip()
    return out


def cmd_quote(args: argparse.Namespace) -> int:
    """Price every package of one product straight from the policy files (works without a database)."""
    from .engine import CatalogError, QuoteError, QuoteRequest, load_catalog, parse_usage, quote_product

    catalog = load_catalog()
    pairs = _usage_pairs(args.usage or [])
    for key, value in (("users", args.users), ("bandwidth_mbps", args.bandwidth), ("interval_s", args.interval)):
        if value is not None:
            pairs[key] = str(value)
    try:
        product = catalog.find(args.product)
        req = QuoteRequest(
            usage=parse_usage(catalog, pairs),
            zone=args.zone or "",
            needs=tuple(args.need or ()),
            level=args.level,
            start=dt.date.fromisoformat(args.start) if args.start else None,
        )
        result = quote_product(catalog, product, req)
    except (CatalogError, QuoteError, ValueError) as exc:
        if args.json:
            print(json.dumps({"error": str(exc)}, ensure_ascii=False))
        else:
            print(f"错误 / error: {exc}", file=sys.stderr)
        return 2
    if args.json:
        print(json.dumps(result.as_dict(), ensure_ascii=False))
        return 0
    print(f"{product.code} {product.name} ({product.name_en})")
    for note in result.notes:
        print(f"  * {note}")
    for p in result.packages:
        state = "可用 ok" if p.eligible else "不可用 not eligible"
        amount = "—" if p.monthly is None else f"{p.monthly} 元/月"
        star = " ← 最省 cheapest" if p.code in result.cheapest.values() else ""
        print(f"- {p.code} {p.name}: {amount} [{state}]{star}")
        for line in p.lines:
            print(f"    {line.label}: {line.detail} = {line.amount}")
        for reason in p.reasons:
            print(f"    ! {reason}")
    if result.monthly is not None:
        print(f"推荐 recommended: {' + '.join(result.recommended)} = {result.monthly} 元/月")
    o = result.opening
    if o.get("date"):
        print(f"开通 opening ({o['level']}): {o['days']} 个工作日 working days → {o['date']}")
        if o.get("estimated"):
            print(f"  ! {o['calendar_note']}")
    elif o.get("note"):
        print(f"开通 opening: {o['note']}")
    return 0


def cmd_catalog_load(args: argparse.Namespace) -> int:
    from kejing.cli import _django, _migrate

    _django()
    _migrate()
    from .services import sync_catalog

    result = sync_catalog(force=args.force)
    if args.json:
        print(json.dumps(result.as_dict(), ensure_ascii=False))
    else:
        state = "已更新 updated" if result.changed else "无变化 unchanged"
        print(
            f"产品目录{state}: {result.products} 个产品 products, {result.packages} 个套餐 packages, "
            f"{result.faqs} 条问答 FAQ entries ({', '.join(f'{k} {v}' for k, v in result.versions.items())})"
        )
    return 0


def register(sub: argparse._SubParsersAction, bench: argparse._SubParsersAction) -> None:
    """Add this app's subcommands to the ``kejing`` parser; ``bench`` is the subparsers of ``kejing bench``."""
    s = sub.add_parser("quote", help="price every package of a group product for an expected monthly usage")
    s.add_argument("--product", required=True, help="product code or name, e.g. CWT or 车务通")
    s.add_argument("--usage", action="append", metavar="KEY=VALUE", help="monthly usage, e.g. sms=3000 (repeatable)")
    s.add_argument("--users", type=int, help="number of users (terminals, extensions, subscribers)")
    s.add_argument("--bandwidth", type=str, help="bandwidth in Mbps (wireless broadband)")
    s.add_argument("--zone", help="zone of the circuit: local_in, local_between, long_distance")
    s.add_argument("--interval", type=int, help="positioning interval needed, in seconds")
    s.add_argument("--need", action="append", metavar="FEATURE", help="a feature the package must have (repeatable)")
    s.add_argument("--level", default="standard", choices=["standard", "urgent", "extra_urgent"])
    s.add_argument("--start", help="order date YYYY-MM-DD for the opening date (default today)")
    s.add_argument("--json", action="store_true", help="print one JSON object")
    s.set_defaults(func=cmd_quote)

    s = sub.add_parser("catalog", help="product catalog commands")
    csub = s.add_subparsers(dest="what", required=True)
    c = csub.add_parser("load", help="sync products, packages and FAQ from the telecom catalog policy files")
    c.add_argument("--force", action="store_true", help="rewrite the rows even if the documents did not change")
    c.add_argument("--json", action="store_true")
    c.set_defaults(func=cmd_catalog_load)
