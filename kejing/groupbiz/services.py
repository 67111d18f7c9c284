"""Writes of group business. Each public function runs in one transaction and leaves audit records with the EC
as the customer, so the EC's history page shows who opened, changed or removed what.

Errors are :class:`GroupError` (a ``CustomerError``, so the API answers 400 with the message) naming the field,
in Chinese and English; nothing is written when one is raised.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any

from django.db import IntegrityError, transaction

from kejing.core import audit
from kejing.core.policies import get_policy
from kejing.customers.models import Customer
from kejing.customers.services import CustomerError

from .engine import numbering
from .engine.billing import Package, packages_from_policy
from .engine.from_catalog import ItemMap, packages_from_catalog
from .models import GroupAccount, GroupUser, Member, OutsideNumber, PaymentPlan, UserMember, Vsub
from .selectors import visible_ecs


class GroupError(CustomerError):
    pass


def policy() -> dict[str, Any]:
    return get_policy("telecom", "groupbiz")


def numbering_rules() -> dict[str, Any]:
    return get_policy("telecom", "numbering")


def _codes(key: str) -> list[str]:
    return [x["code"] for x in policy()["accounts"][key]]


def check_ec(user, ec: Customer) -> None:
    if ec.industry != "telecom" or not visible_ecs(user).filter(pk=ec.pk).exists():
        raise GroupError("无权操作该集团客户 / this EC is outside your scope")
    if not ec.ec_code:
        raise GroupError({"ec_code": "该客户没有集团编码 / this customer has no EC code"})


def _ec_code(ec: Customer) -> str:
    return ec.ec_code or ec.code


# --- accounts ---------------------------------------------------------------------------------------------


ACCOUNT_FIELDS = ("name", "kind", "parent", "pays_all", "product_codes", "invoice_type", "late_fee", "payment_type")


def _clean_account(ec: Customer, data: dict[str, Any], current: GroupAccount | None = None) -> dict[str, Any]:
    errors: dict[str, str] = {}
    kind = data.get("kind", current.kind if current else GroupAccount.Kind.TOTAL)
    if kind not in GroupAccount.Kind.values:
        errors["kind"] = "账户类型应为总账户或子账户 / kind must be total or sub"
    parent = data.get("parent", current.parent if current else None)
    if isinstance(parent, int | str) and parent != "":
        parent = GroupAccount.objects.filter(ec=ec, pk=parent).first() if str(parent).isdigit() else None
        if parent is None:
            errors["parent"] = "总账户不存在 / unknown total account"
    if kind == GroupAccount.Kind.SUB:
        if not parent or parent.kind != GroupAccount.Kind.TOTAL or parent.ec_id != ec.pk:
            errors["parent"] = "子账户必须属于本集团的一个总账户 / a sub-account belongs to a total account of this EC"
    else:
        parent = None
    products = data.get("product_codes", current.product_codes if current else [])
    if isinstance(products, str):
        products = [p.strip() for p in products.replace(",", ",").split(",") if p.strip()]
    if kind == GroupAccount.Kind.SUB and not products:
        errors["product_codes"] = "子账户须指明所付费的产品 / a sub-account must name the products it pays for"
    invoice = data.get("invoice_type", current.invoice_type if current else "")
    if invoice and invoice not in _codes("invoice_types"):
        errors["invoice_type"] = f"发票类型 {invoice} 不在列表中 / unknown invoice type"
    if current and current.invoice_type and invoice != current.invoice_type:
        errors["invoice_type"] = "发票类型设定后不可修改 / the invoice type cannot change once set"
    payment = data.get("payment_type", current.payment_type if current else "cash")
    if payment not in _codes("payment_types"):
        errors["payment_type"] = f"付费方式 {payment} 不在列表中 / unknown payment type"
    name = (data.get("name", current.name if current else "") or "").strip()
    if not name:
        errors["name"] = "请填写账户名称 / the account needs a name"
    if errors:
        raise GroupError(errors)
    return {
        "name": name,
        "kind": kind,
        "parent": parent,
        "pays_all": kind == GroupAccount.Kind.TOTAL
        and bool(data.get("pays_all", current.pays_all if current else True)),
        "product_codes": sorted(set(products)),
        "invoice_type": invoice,
        "late_fee": bool(data.get("late_fee", current.late_fee if current else True)),
        "payment_type": payment,
    }


def _next_number(ec: Customer, prefix: str, model, field: str = "number") -> str:
    base = f"{_ec_code(ec)}-{prefix}"
    n = model.objects.filter(**{f"{field}__startswith": base}).count() + 1
    while model.objects.filter(**{field: f"{base}{n:03d}"}).exists():
        n += 1
    return f"{base}{n:03d}"


@transaction.atomic
def create_account(user, ec: Customer, data: dict[str, Any]) -> GroupAccount:
    check_ec(user, ec)
    clean = _clean_account(ec, data)
    acc = GroupAccount.objects.create(ec=ec, number=_next_number(ec, "A", GroupAccount), **clean)
    audit.record(
        actor=user,
        action="account_open",
        obj=acc,
        customer=ec,
        changes={k: [None, v] for k, v in audit.snapshot(acc, ACCOUNT_FIELDS).items()},
    )
    return acc


@transaction.atomic
def update_account(user, account: GroupAccount, data: dict[str, Any]) -> GroupAccount:
    check_ec(user, account.ec)
    account = GroupAccount.objects.select_for_update().get(pk=account.pk)
    before = audit.snapshot(account, ACCOUNT_FIELDS)
    clean = _clean_account(account.ec, data, current=account)
    if clean["kind"] != account.kind:
        raise GroupError({"kind": "账户类型不可修改 / the kind of an account cannot change"})
    for k, v in clean.items():
        setattr(account, k, v)
    account.save()
    changes = audit.diff(before, audit.snapshot(account, ACCOUNT_FIELDS))
    if changes:
        audit.record(actor=user, action="account_change", obj=account, customer=account.ec, changes=changes)
    return account


# --- group users ------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class PriceEntry:
    """One package a group user may be on: from the catalog (``source`` "catalog"), from ``groupbiz.toml``
    ("local": V-nets, whose prices the manual does not give) or a worked example ("example": billable for group
    users already on it, not offered for new ones). ``package`` is None when it cannot be billed (``reason``)."""

    code: str
    name: str
    product_code: str
    product_name: str
    source: str
    package: Package | None
    reason: str = ""

    @property
    def billable(self) -> bool:
        return self.package is not None

    @property
    def offered(self) -> bool:
        return self.source != "example"


@dataclass
class PriceList:
    entries: dict[str, PriceEntry]

    def packages(self) -> dict[str, Package]:
        """What the bill run prices with, by package code."""
        return {c: e.package for c, e in self.entries.items() if e.package is not None}

    def offered(self) -> list[PriceEntry]:
        """What the open-product page and API offer: catalog products first (catalog order), then the V-nets."""
        return [e for e in self.entries.values() if e.offered]


def price_list() -> PriceList:
    """The one price list of the bill run: every catalog package by its code (translated by
    ``engine/from_catalog.py``; those it cannot bill carry the reason), plus the packages of ``groupbiz.toml``
    whose codes the catalog does not hold. The catalog is read from its rows, as quotes are, so an administrator's
    tariff edit reaches quotes and bills alike."""
    from kejing.catalog import selectors as catalog_selectors

    pol = policy()
    products = list(catalog_selectors.products())
    catalog = catalog_selectors.engine_catalog(products)
    billable, refused = packages_from_catalog(catalog, ItemMap.from_policy(pol))
    why = {u.code: u.reason for u in refused}
    entries: dict[str, PriceEntry] = {}
    for product in catalog.products.values():
        for pkg in product.packages:
            engine_pkg = billable.get(pkg.code)
            entries[pkg.code] = PriceEntry(
                pkg.code,
                engine_pkg.name if engine_pkg else pkg.name,
                product.code,
                product.name,
                "catalog",
                engine_pkg,
                why.get(pkg.code, ""),
            )
    local = pol.get("packages", {})
    for code, pkg in packages_from_policy(pol).items():
        if code in entries:
            continue  # the catalog is the one source of a package it holds
        raw = local[code]
        entries[code] = PriceEntry(
            code,
            pkg.name,
            pkg.product_code,
            str(raw.get("product_name", pkg.product_code)),
            "local" if raw.get("offer", True) else "example",
            pkg,
        )
    return PriceList(entries)


@transaction.atomic
def open_group_user(
    user,
    ec: Customer,
    *,
    product_code: str,
    package_code: str,
    account: GroupAccount | None = None,
    new_account: dict[str, Any] | None = None,
    bundle_code: str = "",
) -> GroupUser:
    """Open a product for an EC. The package must be on the price list (:func:`price_list`) and billable; the
    product code may be left empty (the package names it). The account is picked (``account``) or opened with it
    (``new_account``); in a bundle (VSUB) the group user takes the VSUB's account, opening the VSUB on first use."""
    check_ec(user, ec)
    product_code, package_code, bundle_code = product_code.strip(), package_code.strip(), bundle_code.strip()
    errors: dict[str, str] = {}
    known = price_list().entries.get(package_code) if package_code else None
    if not package_code:
        errors["package_code"] = "请填写套餐编码 / package code required"
    elif known is None:
        errors["package_code"] = f"没有套餐 {package_code} / unknown package {package_code}"
    elif not known.billable:
        errors["package_code"] = f"套餐 {package_code} 无法出账 / cannot be billed: {known.reason}"
    elif product_code and known.product_code != product_code:
        errors["package_code"] = (
            f"套餐 {package_code} 属于产品 {known.product_code} / package {package_code} belongs to "
            f"product {known.product_code}"
        )
    if known is not None and not product_code:
        product_code = known.product_code  # the package names its product
    if not product_code and "package_code" not in errors:
        errors["product_code"] = "请填写产品编码 / product code required"
    if errors:
        raise GroupError(errors)
    vsub = None
    if bundle_code:
        vsub = Vsub.objects.filter(ec=ec, bundle_code=bundle_code).select_related("account").first()
        if vsub and (account or new_account) and (account is None or account.pk != vsub.account_id):
            raise GroupError(
                {"account": "同一产品包的集团用户共用一个账户 / group users of one bundle share its account"}
            )
    if vsub:
        account = vsub.account
    elif new_account is not None:
        account = create_account(user, ec, new_account)
    if account is None:
        raise GroupError({"account": "请选择或新开一个集团账户 / pick or open a group account"})
    if account.ec_id != ec.pk:
        raise GroupError({"account": "账户不属于该集团 / the account belongs to another EC"})
    if not account.pays_for(product_code):
        raise GroupError(
            {"account": f"子账户 {account.number} 不为产品 {product_code} 付费 / this sub-account does not pay for it"}
        )
    if bundle_code and vsub is None:
        vsub = Vsub.objects.create(
            ec=ec, code=_next_number(ec, "V", Vsub, "code"), bundle_code=bundle_code, account=account
        )
        audit.record(
            actor=user, action="vsub_open", obj=vsub, customer=ec, changes={"bundle_code": [None, bundle_code]}
        )
    gu = GroupUser.objects.create(
        ec=ec,
        code=_next_number(ec, "U", GroupUser, "code"),
        product_code=product_code,
        package_code=package_code,
        is_vnet=product_code in policy().get("vnet_products", []),
        vsub=vsub,
        account=account,
    )
    audit.record(
        actor=user,
        action="group_user_open",
        obj=gu,
        customer=ec,
        changes={
            "product_code": [None, product_code],
            "package_code": [None, package_code],
            "account": [None, account.number],
            "vsub": [None, vsub.code if vsub else None],
        },
    )
    return gu


# --- members ------------------------------------------------------------------------------------------------


def check_member_number(msisdn: str) -> tuple[str, str | None]:
    """(normalised number, error or None): a valid mobile number of an operator allowed to join."""
    rules = numbering_rules()
    res = numbering.check_msisdn(msisdn, rules)
    if not res.ok:
        return res.value, "; ".join(res.errors)
    allowed = rules["vnet"].get("member_operators") or []
    if allowed and res.parts["operator"] not in allowed:
        names = "/".join(rules["operators"][o]["zh"] for o in allowed)
        return res.value, (
            f"号码属于{res.parts['operator_zh']},成员须为{names}用户 / the number belongs to "
            f"{res.parts['operator_en']}; members must be subscribers of {', '.join(allowed)}"
        )
    return res.value, None


@transaction.atomic
def add_member(
    user, ec: Customer, msisdn: str, name: str = "", group_user: GroupUser | None = None, short_number: str = ""
) -> Member:
    """Add a number to an EC (and optionally to one of its group users)."""
    check_ec(user, ec)
    number, err = check_member_number(msisdn)
    if err:
        raise GroupError({"msisdn": err})
    other = Member.objects.filter(msisdn=number).select_related("ec").first()
    if other and other.ec_id != ec.pk:
        raise GroupError({"msisdn": f"号码已是集团“{other.ec.name}”的成员 / member of another EC: {other.ec.name}"})
    member = other
    if member is None:
        try:
            with transaction.atomic():
                member = Member.objects.create(ec=ec, msisdn=number, name=name.strip())
        except IntegrityError as exc:  # a concurrent add won the race; the unique index said no
            raise GroupError({"msisdn": "号码已属于其他集团 / the number already belongs to an EC"}) from exc
        audit.record(actor=user, action="member_add", obj=member, customer=ec, changes={"msisdn": [None, number]})
    if group_user is not None:
        join_group_user(user, member, group_user, short_number)
    return member


def _vnet_conflict(member: Member, group_user: GroupUser) -> str | None:
    other = (
        UserMember.objects.filter(vnet_msisdn=member.msisdn).exclude(group_user=group_user).select_related("group_user")
    ).first()
    if other:
        return f"号码已在 V 网 {other.group_user.code} 中 / the number is already in V-net {other.group_user.code}"
    return None


@transaction.atomic
def join_group_user(user, member: Member, group_user: GroupUser, short_number: str = "") -> UserMember:
    check_ec(user, member.ec)
    errors: dict[str, str] = {}
    if group_user.ec_id != member.ec_id:
        raise GroupError({"group_user": "只能加入本集团的集团用户 / a member joins group users of its own EC only"})
    short_number = short_number.strip()
    if group_user.is_vnet:
        res = numbering.check_short_number(short_number, member.msisdn, numbering_rules())
        if not res.ok:
            errors["short_number"] = "; ".join(res.errors)
        elif UserMember.objects.filter(group_user=group_user, short_number=res.value).exclude(member=member).exists():
            errors["short_number"] = f"短号 {res.value} 在该 V 网中已被使用 / short number {res.value} is taken"
        conflict = _vnet_conflict(member, group_user)
        if conflict:
            errors["msisdn"] = conflict
        short_number = res.value
    elif short_number:
        errors["short_number"] = "只有 V 网成员有短号 / only V-net members have short numbers"
    if errors:
        raise GroupError(errors)
    um, created = UserMember.objects.get_or_create(
        group_user=group_user,
        member=member,
        defaults={"short_number": short_number, "vnet_msisdn": member.msisdn if group_user.is_vnet else None},
    )
    before = um.short_number
    if not created and um.short_number != short_number:
        um.short_number = short_number
        um.save(update_fields=["short_number"])
    if created or before != short_number:
        audit.record(
            actor=user,
            action="member_join",
            obj=um,
            customer=member.ec,
            changes={
                "group_user": [None, group_user.code],
                "short_number": [None if created else before, short_number],
            },
            note=member.msisdn,
        )
    return um


@transaction.atomic
def leave_group_user(user, membership: UserMember) -> None:
    ec = membership.member.ec
    check_ec(user, ec)
    audit.record(
        actor=user,
        action="member_leave",
        obj=membership,
        customer=ec,
        changes={"group_user": [membership.group_user.code, None], "short_number": [membership.short_number, None]},
        note=membership.member.msisdn,
    )
    membership.delete()


@transaction.atomic
def remove_member(user, member: Member) -> None:
    """Remove a number from its EC (and from all its group users and member-specific payment plans)."""
    check_ec(user, member.ec)
    users = list(member.memberships.values_list("group_user__code", flat=True))
    audit.record(
        actor=user,
        action="member_remove",
        obj=member,
        customer=member.ec,
        changes={"msisdn": [member.msisdn, None], "group_users": [users, []]},
    )
    member.delete()


@transaction.atomic
def add_outside_number(user, group_user: GroupUser, number: str, note: str = "") -> OutsideNumber:
    check_ec(user, group_user.ec)
    if not group_user.is_vnet:
        raise GroupError({"group_user": "只有 V 网有网外号码组 / only a V-net has an outside-number group"})
    res = numbering.check_outside_number(number, numbering_rules())
    if not res.ok:
        raise GroupError({"number": "; ".join(res.errors)})
    obj, created = OutsideNumber.objects.get_or_create(group_user=group_user, number=res.value, defaults={"note": note})
    if created:
        audit.record(
            actor=user, action="outside_add", obj=obj, customer=group_user.ec, changes={"number": [None, res.value]}
        )
    return obj


# --- payment plans ------------------------------------------------------------------------------------------


@transaction.atomic
def add_payment_plan(
    user,
    ec: Customer,
    *,
    item: str,
    account: GroupAccount,
    member: Member | None = None,
    product_code: str = "",
    cap: Decimal | str | None = None,
) -> PaymentPlan:
    """Unified payment: ``account`` pays ``item`` of the member's (or every member's) fees, optionally only for
    one product and up to ``cap`` yuan per member per month. A sub-account may only pay for its own products."""
    check_ec(user, ec)
    errors: dict[str, str] = {}
    item = (item or "").strip().upper()
    if item not in "ABCDEFGHIJ" or len(item) != 1:
        errors["item"] = "账目项应为 A-J / bill item must be one of A-J"
    if account.ec_id != ec.pk:
        errors["account"] = "账户不属于该集团 / the account belongs to another EC"
    elif account.kind == GroupAccount.Kind.SUB and product_code not in account.product_codes:
        errors["product_code"] = (
            f"子账户只为 {', '.join(account.product_codes)} 付费,须指明其中一个产品 / a sub-account pays only for "
            "its own products: name one of them"
        )
    if member is not None and member.ec_id != ec.pk:
        errors["member"] = "成员不属于该集团 / the member belongs to another EC"
    if cap not in (None, ""):
        try:
            cap = Decimal(str(cap)).quantize(Decimal("0.01"))
            if cap < 0:
                raise InvalidOperation
        except (InvalidOperation, ValueError):
            errors["cap"] = "封顶金额应为非负数 / the cap must be a non-negative amount"
    else:
        cap = None
    dup = PaymentPlan.objects.filter(ec=ec, member=member, product_code=product_code, item=item)
    if not errors and dup.exists():
        errors["item"] = "该费用已有付费计划 / this fee already has a payment plan"
    if errors:
        raise GroupError(errors)
    plan = PaymentPlan.objects.create(
        ec=ec, member=member, product_code=product_code, item=item, account=account, cap=cap
    )
    audit.record(
        actor=user,
        action="plan_add",
        obj=plan,
        customer=ec,
        changes={
            "item": [None, item],
            "account": [None, account.number],
            "member": [None, member.msisdn if member else "*"],
            "product_code": [None, product_code or "*"],
            "cap": [None, cap],
        },
    )
    return plan


@transaction.atomic
def remove_payment_plan(user, plan: PaymentPlan) -> None:
    check_ec(user, plan.ec)
    audit.record(
        actor=user,
        action="plan_remove",
        obj=plan,
        customer=plan.ec,
        changes={"item": [plan.item, None], "account": [plan.account.number, None]},
    )
    plan.delete()
