"""Customer import from ``.xlsx``/``.csv``: validate every row first, write nothing unless the file is clean.

Headers may be the Chinese labels people use in Excel or the field names (see ``COLUMNS``). A row whose code
already exists updates that customer (within the importer's scope); a new code creates one. Errors name the row
(as Excel numbers it, header = row 1), the column and the reason.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.db import transaction

from kejing.core import audit
from kejing.core.models import AuditLog
from kejing.core.tabular import ImportReport, RowError, Table
from kejing.org.models import OrgUnit, Role, Staff

from .models import Customer
from .rules import rules_for

# field name -> accepted headers (first is the one exports use)
COLUMNS: dict[str, tuple[str, ...]] = {
    "code": ("客户编码", "code"),
    "name": ("客户名称", "name"),
    "unit": ("区域单元编码", "unit"),
    "cm": ("客户经理工号", "cm"),
    "phone": ("联系电话", "phone"),
    "address": ("经营地址", "address"),
    "latitude": ("纬度", "latitude"),
    "longitude": ("经度", "longitude"),
    "status": ("状态", "status"),
    "value_tier": ("价值等级", "value_tier"),
    "customer_type": ("客户类型", "customer_type"),
    "licence_no": ("许可证号", "licence_no"),
    "business_format": ("业态", "business_format"),
    "market_type": ("市场类型", "market_type"),
    "market_scale": ("市场规模", "market_scale"),
    "tier": ("档位", "tier"),
    "order_cycle": ("订货周期", "order_cycle"),
    "ordering_method": ("订货方式", "ordering_method"),
    "ec_code": ("集团编码", "ec_code"),
    "credit_code": ("统一社会信用代码", "credit_code"),
    "sector": ("所属行业", "sector"),
    "size": ("企业规模", "size"),
}
HEADER_TO_FIELD = {h.lower(): f for f, hs in COLUMNS.items() for h in hs}
STATUS_LABELS = {"正常": "active", "暂停": "suspended", "注销": "closed", "潜在": "prospect"}
UNIQUE_FIELDS = ("licence_no", "ec_code", "credit_code")


@dataclass
class CustomerImportReport(ImportReport):
    created: int = 0
    updated: int = 0
    unchanged: int = 0


def import_customers(
    table: Table,
    *,
    actor=None,
    allowed_units=None,
    dry_run: bool = True,
    progress: Callable[[int, int], None] | None = None,
) -> CustomerImportReport:
    """Validate (and unless ``dry_run`` write) the rows of ``table``.

    ``allowed_units`` is a queryset of units the actor may import into (``None`` = everywhere: the CLI).
    """
    report = CustomerImportReport(rows=len(table.rows), dry_run=dry_run)
    unknown = [h for h in table.header if h and h.lower() not in HEADER_TO_FIELD]
    if unknown:
        report.errors.append(RowError(1, ", ".join(unknown), "无法识别的列 / unknown column(s)"))
    present = {HEADER_TO_FIELD[h.lower()] for h in table.header if h and h.lower() in HEADER_TO_FIELD}
    for required in ("code", "name", "unit"):
        if required not in present:
            report.errors.append(RowError(1, COLUMNS[required][0], "缺少必需的列 / required column missing"))
    if report.errors:
        return report

    units = {u.code: u for u in (allowed_units if allowed_units is not None else OrgUnit.objects.all())}
    all_units = units if allowed_units is None else {u.code: u for u in OrgUnit.objects.all()}
    cms = {s.employee_no: s for s in Staff.objects.select_related("unit").filter(role=Role.CM, active=True)}
    codes = [r.get(_header(table, "code"), "").strip() for _, r in table.rows]
    existing = {c.code: c for c in Customer.objects.filter(code__in=[c for c in codes if c])}
    taken: dict[str, dict[str, str]] = {f: {} for f in UNIQUE_FIELDS}  # value -> code holding it in DB
    for f in UNIQUE_FIELDS:
        taken[f] = dict(Customer.objects.exclude(**{f"{f}__isnull": True}).values_list(f, "code"))
    seen: dict[str, dict[str, int]] = {f: {} for f in ("code", *UNIQUE_FIELDS)}

    to_create: list[Customer] = []
    to_update: list[tuple[Customer, dict[str, list[Any]]]] = []
    for i, (rownum, raw) in enumerate(table.rows, start=1):
        if progress and i % 1000 == 0:
            progress(i, len(table.rows))
        row = {HEADER_TO_FIELD[h.lower()]: v for h, v in raw.items() if h.lower() in HEADER_TO_FIELD}
        errs: list[RowError] = []

        def err(field_name: str, msg: str, rownum: int = rownum, errs: list[RowError] = errs) -> None:
            errs.append(RowError(rownum, COLUMNS[field_name][0], msg))

        code = row.get("code", "").strip()
        if not code:
            err("code", "客户编码不能为空 / code is required")
        elif code in seen["code"]:
            err("code", f"与第 {seen['code'][code]} 行重复 / duplicate of row {seen['code'][code]}")
        else:
            seen["code"][code] = rownum
        unit_code = row.get("unit", "").strip()
        unit = units.get(unit_code)
        if unit is None:
            if unit_code in all_units:
                err("unit", f"区域 {unit_code} 不在您的管辖范围 / unit outside your scope")
            else:
                err("unit", f"未知的区域单元 {unit_code or '(空)'} / unknown unit")
        elif unit.kind != OrgUnit.Kind.UNIT:
            err("unit", f"{unit_code} 不是区域单元 / not a region unit")
        cm = None
        cm_no = row.get("cm", "").strip()
        if cm_no:
            cm = cms.get(cm_no)
            if cm is None:
                err("cm", f"未知的客户经理工号 {cm_no} / unknown CM")
            elif unit is not None and not cm.unit.path.startswith(unit.path) and not unit.path.startswith(cm.unit.path):
                err("cm", f"客户经理 {cm_no} 不属于区域 {unit_code} / CM does not work in this unit")
        values: dict[str, Any] = {}
        if unit is not None:
            rules = rules_for(unit.industry)
            applicable = set(rules.fields())
            for name, text in row.items():
                if name in ("code", "unit", "cm"):
                    continue
                if name not in applicable:
                    if text.strip():
                        err(name, f"该列不适用于{unit.get_industry_display()} / column does not apply")
                    continue
                if name == "status":
                    text = STATUS_LABELS.get(text.strip(), text)
                if name in ("status",) and not text.strip():
                    continue
                try:
                    values[name] = rules.clean(name, text)
                except ValueError as exc:
                    err(name, str(exc))
            for f in UNIQUE_FIELDS:
                v = values.get(f)
                if not v:
                    continue
                holder = taken[f].get(v)
                if holder and holder != code:
                    err(f, f"已被客户 {holder} 使用 / already used by customer {holder}")
                elif v in seen[f]:
                    err(f, f"与第 {seen[f][v]} 行重复 / duplicate of row {seen[f][v]}")
                else:
                    seen[f][v] = rownum
            if "name" in row and not values.get("name") and not any(e.field == COLUMNS["name"][0] for e in errs):
                err("name", "客户名称不能为空 / name is required")
        cur = existing.get(code)
        if cur is not None and unit is not None:
            if allowed_units is not None and cur.unit.code not in units:
                err("code", f"客户 {code} 不在您的管辖范围 / customer outside your scope")
            elif cur.industry != unit.industry:
                err("unit", "不能把客户移到其他行业 / cannot move a customer to another industry")
        if errs:
            report.errors.extend(errs)
            continue
        if cur is None:
            to_create.append(Customer(industry=unit.industry, code=code, unit=unit, cm=cm, **values))
        else:
            new = {**values, "unit_id": unit.pk, "cm_id": cm.pk if cm else cur.cm_id}
            changes = {}
            for k, v in new.items():
                old = getattr(cur, k)
                if old != v and not (old in (None, "") and v in (None, "")):
                    changes[k] = [old, v]
                    setattr(cur, k, v)
            if changes:
                to_update.append((cur, changes))
            else:
                report.unchanged += 1
    report.created = len(to_create)
    report.updated = len(to_update)
    if report.errors or dry_run:
        return report
    _write(to_create, to_update, actor)
    if progress:
        progress(len(table.rows), len(table.rows))
    return report


def _header(table: Table, field_name: str) -> str:
    for h in table.header:
        if HEADER_TO_FIELD.get(h.lower()) == field_name:
            return h
    return ""


@transaction.atomic
def _write(to_create: list[Customer], to_update: list[tuple[Customer, dict]], actor) -> None:
    for c in to_create:
        c.refresh_search_keys()
    Customer.objects.bulk_create(to_create, batch_size=1000)
    created = Customer.objects.filter(code__in=[c.code for c in to_create]).only("pk", "code")
    pk_of = {c.code: c.pk for c in created}
    entries = [
        AuditLog(
            actor=actor,
            action="import",
            model="customers.customer",
            object_pk=str(pk_of[c.code]),
            customer_id=pk_of[c.code],
            changes={"code": [None, c.code], "name": [None, c.name]},
        )
        for c in to_create
    ]
    fields: set[str] = set()
    for cur, changes in to_update:
        cur.refresh_search_keys()
        fields.update(changes)
        entries.append(
            AuditLog(
                actor=actor,
                action="import",
                model="customers.customer",
                object_pk=str(cur.pk),
                customer_id=cur.pk,
                changes={k: [audit.plain(a), audit.plain(b)] for k, (a, b) in changes.items()},
            )
        )
    if to_update:
        Customer.objects.bulk_update(
            [c for c, _ in to_update], sorted(fields | {"name_initials", "name_pinyin"}), batch_size=500
        )
    audit.record_many(entries)
