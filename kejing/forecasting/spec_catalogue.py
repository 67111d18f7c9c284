"""The cigarette spec catalogue (卷烟规格目录): listing it, and keeping it up to date from a file or one form.

Why this exists: every round, ledger line, supply row and report hangs off a spec, and a company's catalogue
changes every month — a spec is launched, one is withdrawn, a price or a price class is revised. Before, the only
way in was the ``cigarettes.toml`` policy document, i.e. a system administrator editing TOML for each of a few
hundred specs, and a ledger file naming a new code was refused as "unknown spec" with no way for the marketing
center to fix it. Now the marketing center (or an administrator) imports the catalogue it already keeps in Excel,
or edits one spec on its page; everyone else reads the catalogue. The policy document stays the seed of a new
installation (``services.load_specs``) and the home of the price-class words an import understands.

Rules of an import (written down in docs/forecasting.md, "Spec catalogue"):

* every row is checked first; one bad row and nothing is written (one transaction);
* a new code needs brand, name, price class and price; an existing code changes only the columns the file has,
  and an empty brand, name, price class or price cell keeps what is there;
* an empty 上市/停售 cell means "no date" (so the page's own export imports back unchanged); a month there means
  its first day for a launch and its last day for a withdrawal (the last day on sale);
* specs the file does not name are left as they are — never deleted (the ledger refers to them);
* each spec created or changed gets an audit record with every field's before and after.
"""

from __future__ import annotations

import datetime as dt
import re
import unicodedata
from collections.abc import Iterable
from decimal import Decimal, InvalidOperation
from typing import Any

from django.db import transaction
from django.db.models import Count, Q, QuerySet, Sum
from django.utils import timezone, translation

from kejing.core import audit
from kejing.core.models import AuditLog
from kejing.core.policies import get_policy
from kejing.core.tabular import Table

from . import cycle
from .models import PriceClass, Spec
from .services import (
    ForecastError,
    NotAllowed,
    _fields,
    _header_fields,
    _is_total_row,
    _whole_text,
    carton_packs,
    header_key,
    is_center,
)

#: column -> header names an import reads (Chinese and English first: the page lists those two and the export
#: writes the Chinese one), then what other systems' catalogues call the same thing
SPEC_COLUMNS: dict[str, tuple[str, ...]] = {
    "code": ("规格编码", "code", "规格代码", "卷烟编码", "卷烟代码", "商品编码", "spec code", "spec"),
    "brand": ("品牌", "brand", "品牌名称"),
    "name": ("规格名称", "name", "卷烟名称", "商品名称", "规格", "spec name"),
    "price_class": ("价类", "price class", "价格类别", "价位", "价位段"),
    "price": ("批发价", "price", "批发价格", "wholesale price"),
    "packs_per_unit": ("每条包数", "packs per unit", "包数", "packs"),
    "launched": ("上市日期", "launched", "上市时间", "上市月份"),
    "discontinued": ("停售日期", "discontinued", "停售时间", "停售月份", "退市日期"),
}
#: what the page's export writes beside the columns, read past by the import
SPEC_READ_PAST = ("状态", "state", "上月订货户数", "上月需求量", "shops last month", "demand last month")
FIELDS_ZH = {f: names[0] for f, names in SPEC_COLUMNS.items()}
REQUIRED_NEW = ("brand", "name", "price_class", "price")
MAX_LENGTH = {"code": 20, "brand": 40, "name": 80}
#: a spec launched this many months before a month or less is "new" in it (the entry grid marks the same)
NEW_MONTHS = 12
STATES = ("on_sale", "new", "upcoming", "discontinued")

_DAY = re.compile(r"^(\d{4})\s*[-/.年]\s*(\d{1,2})\s*[-/.月]\s*(\d{1,2})\s*日?(?:[ T].*)?$")
_DAY8 = re.compile(r"^(\d{4})(\d{2})(\d{2})$")


class SpecError(ForecastError):
    """A spec entered on the page or through the API is refused; ``errors`` maps each field to its message (the
    API answers 400 with them)."""


def may_edit(user) -> bool:
    """The marketing center and administrators keep the catalogue; everyone else reads it."""
    return is_center(user)


def require_editor(user) -> None:
    """``NotAllowed`` (a 403) unless :func:`may_edit`."""
    if not may_edit(user):
        raise NotAllowed("卷烟规格目录由营销中心维护 / the marketing center keeps the spec catalogue")


# -- reading --------------------------------------------------------------------------------------------------
def state_of(spec: Spec, day: dt.date) -> str:
    """On ``day``: ``upcoming`` (launched later), ``discontinued`` (its last day on sale has passed), ``new`` (on
    sale and launched in the last ``NEW_MONTHS`` months) or ``on_sale``."""
    if spec.launched and spec.launched > day:
        return "upcoming"
    if spec.discontinued and spec.discontinued < day:
        return "discontinued"
    if spec.launched and spec.launched >= cycle.add_months(cycle.month_start(day), -NEW_MONTHS):
        return "new"
    return "on_sale"


def state_filter(state: str, day: dt.date) -> Q:
    """The ``Q`` of :func:`state_of` (a list filtered in the database, paged as any other list); ``on_sale``
    includes the new specs."""
    if state == "upcoming":
        return Q(launched__gt=day)
    if state == "discontinued":
        return Q(discontinued__lt=day)
    selling = (Q(launched__isnull=True) | Q(launched__lte=day)) & (
        Q(discontinued__isnull=True) | Q(discontinued__gte=day)
    )
    if state == "new":
        return selling & Q(launched__gte=cycle.add_months(cycle.month_start(day), -NEW_MONTHS))
    return selling


def listed(q: str = "", brand: str = "", price_class: str = "", state: str = "", day: dt.date | None = None):
    """The catalogue filtered as the page and ``GET specs`` filter it: ``q`` in code, brand or name; ``state``
    one of :data:`STATES` on ``day`` (today by default)."""
    day = day or timezone.localdate()
    qs = Spec.objects.all().order_by("code")
    q = unicodedata.normalize("NFKC", q or "").strip()
    if q:
        qs = qs.filter(Q(code__icontains=q) | Q(name__icontains=q) | Q(brand__icontains=q))
    if brand:
        qs = qs.filter(brand=brand)
    if price_class:
        qs = qs.filter(price_class=price_class)
    if state in STATES:
        qs = qs.filter(state_filter(state, day))
    return qs


def carried(ledger: QuerySet, month: dt.date | None) -> dict[int, tuple[int, int]]:
    """Per spec id: how many shops of ``ledger`` (a ledger queryset already narrowed to the viewer's scope)
    ordered it in ``month`` and how many cartons — what the catalogue page shows beside each spec."""
    if month is None:
        return {}
    rows = (
        ledger.filter(month=month, demand__gt=0)
        .values("spec_id")
        .annotate(shops=Count("customer_id"), demand=Sum("demand"))
        .values_list("spec_id", "shops", "demand")
    )
    return {sid: (shops, demand or 0) for sid, shops, demand in rows}


def history(spec: Spec, limit: int = 50) -> list[AuditLog]:
    """The spec's audit records, newest first."""
    return list(
        AuditLog.objects.filter(model=Spec._meta.label_lower, object_pk=str(spec.pk))
        .select_related("actor")
        .order_by("-at", "-pk")[:limit]
    )


# -- checking one row -----------------------------------------------------------------------------------------
def class_words(pol: dict[str, Any] | None = None) -> dict[str, str]:
    """Word (compared without case or spaces) -> price class, from ``[price_class_words]`` of the
    ``cigarettes`` policy; the class codes and the labels the pages show (高价位, Mid price …) are always
    understood, so the page's own export imports back whatever the policy says."""
    data = pol if pol is not None else get_policy("tobacco", "cigarettes")
    words = {c.value: c.value for c in PriceClass}
    for lang in ("zh-hans", "en"):  # the labels the pages and the export show, whatever the policy says
        with translation.override(lang):
            words.update({_key(c.label): c.value for c in PriceClass})
    for cls, names in (data.get("price_class_words") or {}).items():
        for name in names:
            words[_key(name)] = cls
    return words


def check_policy(data: dict[str, Any]) -> list[str]:
    """Problems of a ``cigarettes`` policy document (``kejing.core.policies.problems``): price-class words
    under a class that does not exist, a word that is not text, one word under two classes."""
    found: list[str] = []
    seen: dict[str, str] = {}
    classes = {c.value for c in PriceClass}
    for cls, names in (data.get("price_class_words") or {}).items():
        if cls not in classes:
            found.append(f"[price_class_words] {cls}: 不是价类 / not a price class (high, mid, low)")
            continue
        if not isinstance(names, list) or not all(isinstance(n, str) and n.strip() for n in names):
            found.append(f"[price_class_words] {cls}: 应为文字列表 / must be a list of words")
            continue
        for name in names:
            other = seen.setdefault(_key(name), cls)
            if other != cls:
                found.append(f"[price_class_words] '{name}': 同时属于 {other} 和 {cls} / under both {other} and {cls}")
    for row in (data.get("catalog") or {}).get("specs", []):
        if row.get("price_class") not in classes:
            found.append(f"[catalog] {row.get('code')}: 价类 '{row.get('price_class')}' 未知 / unknown price class")
    return found


CODE_RULE = "规格编码应为 1 到 20 个字符,不含空格 / spec code: 1 to 20 characters, no spaces"


def _good_code(code: str) -> bool:
    return 0 < len(code) <= MAX_LENGTH["code"] and not any(ch.isspace() for ch in code)


def _key(text: Any) -> str:
    return "".join(unicodedata.normalize("NFKC", str(text)).split()).lower()


def _text(value: Any) -> str:
    return unicodedata.normalize("NFKC", str(value or "")).strip()


def _price(text: str) -> Decimal:
    """``85``, ``85.00``, ``1,200.00``, ``¥85``, ``85元`` -> Decimal; ``ValueError`` otherwise."""
    cleaned = re.sub(r"[,¥$\s]|元$", "", text)
    try:
        value = Decimal(cleaned)
    except InvalidOperation as exc:
        raise ValueError(text) from exc
    if not value.is_finite() or value <= 0 or value >= Decimal("100000000") or value != value.quantize(Decimal("0.01")):
        raise ValueError(text)
    return value.quantize(Decimal("0.01"))


def parse_day(text: str, end_of_month: bool) -> dt.date:
    """A day (``2025-03-01``, ``2025/3/1``, ``2025年3月1日``, ``20250301``) or a month (``2025-03``, ``202503``,
    ``2025年3月``): the month's first day, or its last with ``end_of_month`` (a withdrawal month means its last
    day on sale). ``ValueError`` when it is neither."""
    m = _DAY.match(text) or _DAY8.match(text)
    if m:
        return dt.date(int(m[1]), int(m[2]), int(m[3]))
    month = cycle.parse_month(text)
    if month is None:
        raise ValueError(text)
    return cycle.month_end(month) if end_of_month else month


def _row_values(
    row: dict[str, str], spec: Spec | None, words: dict[str, str], packs: int
) -> tuple[dict[str, Any], dict[str, str]]:
    """The values a row gives a spec (``spec`` = the existing one, or ``None`` for a new code) and its problems by
    field, messages in Chinese and English."""
    values: dict[str, Any] = {}
    errors: dict[str, str] = {}
    for f in ("brand", "name"):
        if f not in row:
            continue
        text = _text(row[f])
        if len(text) > MAX_LENGTH[f]:
            errors[f] = f"最多 {MAX_LENGTH[f]} 个字 / at most {MAX_LENGTH[f]} characters"
        elif text:
            values[f] = text
    if "price_class" in row and _text(row["price_class"]):
        cls = words.get(_key(row["price_class"]))
        if cls is None:
            errors["price_class"] = (
                f"价类 '{_text(row['price_class'])}' 未知,可写 高价位/中价位/低价位 或 high/mid/low / unknown price "
                "class: write high, mid or low"
            )
        else:
            values["price_class"] = cls
    if "price" in row and _text(row["price"]):
        try:
            values["price"] = _price(_text(row["price"]))
        except ValueError:
            errors["price"] = (
                f"批发价 '{_text(row['price'])}' 应为大于 0 的金额(元/条,最多两位小数) / price must be an amount "
                "above 0 (yuan a carton, at most 2 decimals)"
            )
    if "packs_per_unit" in row and _text(row["packs_per_unit"]):
        text = _whole_text(row["packs_per_unit"])
        if not text.isdigit() or not 1 <= int(text) <= 100:
            errors["packs_per_unit"] = "每条包数应为 1 到 100 的整数 / packs per unit: a whole number 1 to 100"
        else:
            values["packs_per_unit"] = int(text)
    for f, end in (("launched", False), ("discontinued", True)):
        if f not in row:
            continue
        text = _text(row[f])
        if not text:
            values[f] = None
            continue
        try:
            values[f] = parse_day(text, end_of_month=end)
        except ValueError:
            errors[f] = (
                f"{FIELDS_ZH[f]} '{text}' 应为日期(2025-03-01)或月份(2025-03) / {f}: a day (2025-03-01) or a month "
                "(2025-03)"
            )
    if spec is None:
        values.setdefault("packs_per_unit", packs)
        for f in REQUIRED_NEW:
            if f not in values and f not in errors:
                errors[f] = f"新规格须填{FIELDS_ZH[f]} / a new spec needs its {f.replace('_', ' ')}"
    launched = values.get("launched", spec.launched if spec else None)
    discontinued = values.get("discontinued", spec.discontinued if spec else None)
    if launched and discontinued and discontinued < launched and not {"launched", "discontinued"} & set(errors):
        errors["discontinued"] = (
            f"停售日期 {discontinued} 早于上市日期 {launched} / withdrawn ({discontinued}) before it was launched "
            f"({launched})"
        )
    return values, errors


def _changes(spec: Spec | None, values: dict[str, Any]) -> dict[str, list[Any]]:
    if spec is None:
        return {f: [None, v] for f, v in values.items() if v is not None}
    return {f: [getattr(spec, f), v] for f, v in values.items() if getattr(spec, f) != v}


# -- writing --------------------------------------------------------------------------------------------------
def _write(user, plans: Iterable[tuple[Spec | None, str, dict[str, Any], dict[str, list[Any]]]], note: str) -> None:
    """Create or update each planned spec and audit it (inside the caller's transaction)."""
    for spec, code, values, changes in plans:
        if not changes:
            continue
        if spec is None:
            spec = Spec.objects.create(code=code, **values)
            action = "spec_create"
        else:
            for f, (_, after) in changes.items():
                setattr(spec, f, after)
            spec.save(update_fields=list(changes))
            action = "spec_update"
        audit.record(actor=user, action=action, obj=spec, changes=changes, note=note)


def save_spec(user, code: str, fields: dict[str, Any]) -> tuple[Spec, dict[str, list[Any]]]:
    """Create the spec ``code`` or change the ``fields`` given (the page's form, ``PUT specs/{code}``) under the
    rules of an import row; returns the spec and what changed. Only :func:`may_edit` users (``NotAllowed``)."""
    require_editor(user)
    code = _text(code)
    errors: dict[str, str] = {}
    if not _good_code(code):
        errors["code"] = CODE_RULE
    spec = Spec.objects.filter(code=code).first()
    row = {f: "" if v is None else str(v) for f, v in fields.items() if f in SPEC_COLUMNS and f != "code"}
    values, problems = _row_values(row, spec, class_words(), carton_packs())
    errors.update(problems)
    if errors:
        raise SpecError(errors)
    changes = _changes(spec, values)
    with transaction.atomic():
        _write(user, [(spec, code, values, changes)], note="")
    return Spec.objects.get(code=code), changes


def import_specs(user, table: Table, dry_run: bool = True, filename: str = "") -> dict[str, Any]:
    """Check every row of a catalogue file, then (unless ``dry_run`` or any error) write them all in one
    transaction. The report lists each spec the file creates or changes with the fields' before and after, so the
    dry run shows what would happen. Only :func:`may_edit` users (``NotAllowed``), dry run or not."""
    require_editor(user)

    header_map, unknown, missing = _header_fields(table.header, SPEC_COLUMNS, ("code",))
    read_past = {header_key(h) for h in SPEC_READ_PAST}
    ignored = [h for h in unknown if header_key(h) in read_past]
    unknown = [h for h in unknown if header_key(h) not in read_past]
    report: dict[str, Any] = {
        "ok": False,
        "rows": 0,
        "created": 0,
        "updated": 0,
        "unchanged": 0,
        "errors": [],
        "changes": [],
        "ignored": ignored,
        "totals": [],
    }
    if unknown:
        report["errors"].append({"row": 1, "field": ", ".join(unknown), "message": "未知的列 / unknown columns"})
    if missing:
        report["errors"].append(
            {"row": 1, "field": "规格编码/code", "message": "缺少必需的列 / required column missing"}
        )
    if report["errors"]:
        return report
    existing = {s.code: s for s in Spec.objects.all()}
    words, packs = class_words(), carton_packs()
    seen: dict[str, int] = {}
    plans = []
    for number, raw in table.rows:
        row = _fields(raw, header_map)
        if not any(_text(v) for v in row.values()):
            continue  # an empty line between blocks of a hand-kept sheet
        if _is_total_row(row, ("code", "brand", "name")):
            report["totals"].append(number)
            continue
        report["rows"] += 1
        code = _text(row.get("code"))
        if not code:
            report["errors"].append({"row": number, "field": "code", "message": "规格编码为空 / spec code is empty"})
            continue
        if not _good_code(code):
            report["errors"].append({"row": number, "field": "code", "message": CODE_RULE})
            continue
        if code in seen:
            report["errors"].append(
                {"row": number, "field": "code", "message": f"与第{seen[code]}行重复 / repeats row {seen[code]}"}
            )
            continue
        seen[code] = number
        spec = existing.get(code)
        values, problems = _row_values(row, spec, words, packs)
        for field, message in problems.items():
            report["errors"].append({"row": number, "field": field, "message": message})
        if problems:
            continue
        changes = _changes(spec, values)
        if not changes:
            report["unchanged"] += 1
            continue
        report["created" if spec is None else "updated"] += 1
        plans.append((spec, code, values, changes))
        report["changes"].append(
            {
                "row": number,
                "code": code,
                "name": values.get("name") or (spec.name if spec else ""),
                "action": "create" if spec is None else "update",
                "fields": {f: [audit.plain(a), audit.plain(b)] for f, (a, b) in changes.items()},
            }
        )
    report["ok"] = not report["errors"]
    report["errors"] = report["errors"][:500]
    report["changes"] = report["changes"][:1000]
    if report["ok"] and not dry_run:
        with transaction.atomic():
            _write(user, plans, note=f"导入 / import {filename}".strip())
    report["written"] = report["ok"] and not dry_run
    return report
