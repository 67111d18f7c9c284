"""Group-business API, mounted at ``/api/groupbiz/``: EC structure, accounts, group users, members (scoped like
the pages: another CM's EC is a 404), payment plans, numbering checks and bills.

Request bodies have defaults for every field so that the scope check always runs first (an EC outside the
caller's scope answers 404 whatever the body); missing values are then reported as 400 with the field named.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from django.db.models import Count, Sum
from django.shortcuts import get_object_or_404
from ninja import File, Query, Router, Schema, Status
from ninja.files import UploadedFile

from kejing.core.models import Job
from kejing.core.tabular import TableError, read_table

from . import services
from .engine.billing import to_yuan
from .importer import import_members
from .models import BillLine, GroupAccount, GroupUser, Member, PaymentPlan, UserMember
from .selectors import ec_list, members_of, visible_accounts, visible_ecs, visible_runs
from .tasks import run_bills
from .views import CHECKS, check_number

router = Router(tags=["groupbiz"])


class EcOut(Schema):
    id: int
    ec_code: str | None
    name: str
    group_users: int
    members: int


class AccountOut(Schema):
    id: int
    number: str
    name: str
    kind: str
    parent: str | None
    pays_all: bool
    product_codes: list[str]
    invoice_type: str
    late_fee: bool
    payment_type: str


class GroupUserOut(Schema):
    id: int
    code: str
    product_code: str
    package_code: str
    is_vnet: bool
    vsub: str | None
    account: str
    members: int


class PlanOut(Schema):
    id: int
    item: str
    member: str | None
    product_code: str
    account: str
    cap: Decimal | None


class StructureOut(Schema):
    ec: EcOut
    accounts: list[AccountOut]
    group_users: list[GroupUserOut]
    vsubs: list[dict[str, Any]]
    plans: list[PlanOut]


class AccountIn(Schema):
    name: str = ""
    kind: str = "total"
    parent: int | None = None
    product_codes: list[str] = []
    invoice_type: str = ""
    late_fee: bool = True
    payment_type: str = "cash"


class AccountPatch(Schema):
    name: str | None = None
    product_codes: list[str] | None = None
    invoice_type: str | None = None
    late_fee: bool | None = None
    payment_type: str | None = None


class OpenIn(Schema):
    product_code: str = ""
    package_code: str = ""
    account: int | None = None
    new_account: AccountIn | None = None
    bundle_code: str = ""


class FixedOut(Schema):
    item: str
    amount: Decimal
    basis: str
    period: str


class RateOut(Schema):
    kind: str
    included: int
    rate: Decimal | None
    item: str
    pool: str
    max_units: int | None


class PackageOut(Schema):
    code: str
    name: str
    product_code: str
    product_name: str
    source: str
    billable: bool
    reason: str
    fixed: list[FixedOut]
    usage: list[RateOut]
    member_cap: Decimal | None


class MemberIn(Schema):
    msisdn: str = ""
    name: str = ""
    group_user: str = ""
    short_number: str = ""


class MembershipOut(Schema):
    group_user: str
    short_number: str


class MemberOut(Schema):
    id: int
    msisdn: str
    name: str
    memberships: list[MembershipOut]


class MemberPage(Schema):
    count: int
    page: int
    page_size: int
    items: list[MemberOut]


class PlanIn(Schema):
    item: str = ""
    account: int | None = None
    msisdn: str = ""
    product_code: str = ""
    cap: Decimal | None = None


class CheckOut(Schema):
    kind: str
    input: str
    ok: bool
    value: str
    parts: dict[str, Any]
    errors: list[str]


class BillRunIn(Schema):
    month: str = ""


class BillOut(Schema):
    id: int
    month: str
    run_key: str
    status: str
    computed_at: dt.datetime
    totals: dict[str, Any]
    accounts: list[dict[str, Any]]


class BillLineOut(Schema):
    item: str
    group_user: str | None
    source: str
    quantity: int
    members: int
    amount: Decimal
    note: str


class JobOut(Schema):
    job: int
    status: str
    result: dict[str, Any]


def _ec_out(ec) -> dict:
    return {
        "id": ec.pk,
        "ec_code": ec.ec_code,
        "name": ec.name,
        "group_users": getattr(ec, "n_users", 0),
        "members": getattr(ec, "n_members", 0),
    }


def _account(a: GroupAccount) -> dict:
    return {
        "id": a.pk,
        "number": a.number,
        "name": a.name,
        "kind": a.kind,
        "parent": a.parent.number if a.parent_id else None,
        "pays_all": a.pays_all,
        "product_codes": a.product_codes,
        "invoice_type": a.invoice_type,
        "late_fee": a.late_fee,
        "payment_type": a.payment_type,
    }


def _ec(request, ec_id: int):
    return get_object_or_404(ec_list(request.user), pk=ec_id)


@router.get("/ecs", response=list[EcOut], summary="My group customers (ECs)")
def list_ecs(request, q: str = ""):
    return [_ec_out(e) for e in ec_list(request.user, q)[:500]]


@router.get("/ecs/{ec_id}", response=StructureOut, summary="EC structure: accounts, group users, VSUBs, plans")
def structure(request, ec_id: int):
    ec = _ec(request, ec_id)
    users = GroupUser.objects.filter(ec=ec).select_related("account", "vsub").annotate(n=Count("memberships"))
    return {
        "ec": _ec_out(ec),
        "accounts": [_account(a) for a in GroupAccount.objects.filter(ec=ec).select_related("parent")],
        "group_users": [
            {
                "id": u.pk,
                "code": u.code,
                "product_code": u.product_code,
                "package_code": u.package_code,
                "is_vnet": u.is_vnet,
                "vsub": u.vsub.code if u.vsub_id else None,
                "account": u.account.number,
                "members": u.n,
            }
            for u in users
        ],
        "vsubs": [
            {"code": v.code, "bundle_code": v.bundle_code, "account": v.account.number}
            for v in ec.vsubs.select_related("account")
        ],
        "plans": [
            {
                "id": p.pk,
                "item": p.item,
                "member": p.member.msisdn if p.member_id else None,
                "product_code": p.product_code,
                "account": p.account.number,
                "cap": p.cap,
            }
            for p in PaymentPlan.objects.filter(ec=ec).select_related("member", "account")
        ],
    }


@router.post("/ecs/{ec_id}/accounts", response={201: AccountOut}, summary="Open a group account")
def create_account(request, ec_id: int, body: AccountIn):
    ec = _ec(request, ec_id)
    acc = services.create_account(request.user, ec, body.dict())
    return Status(201, _account(acc))


@router.patch("/accounts/{account_id}", response=AccountOut, summary="Change an account (invoice type fixed once set)")
def patch_account(request, account_id: int, body: AccountPatch):
    acc = get_object_or_404(visible_accounts(request.user), pk=account_id)
    acc = services.update_account(request.user, acc, body.dict(exclude_unset=True, exclude_none=True))
    return _account(acc)


def _package_out(e: services.PriceEntry) -> dict:
    p = e.package
    return {
        "code": e.code,
        "name": e.name,
        "product_code": e.product_code,
        "product_name": e.product_name,
        "source": e.source,
        "billable": e.billable,
        "reason": e.reason,
        "fixed": [
            {"item": f.item, "amount": to_yuan(f.amount_fen), "basis": f.basis, "period": f.period}
            for f in (p.fixed if p else ())
        ],
        "usage": [
            {
                "kind": r.kind,
                "included": r.included,
                "rate": None if r.rate_e4 < 0 else Decimal(r.rate_e4) / 10000,
                "item": r.item,
                "pool": r.pool,
                "max_units": None if r.max_units < 0 else r.max_units,
            }
            for r in (p.usage if p else ())
        ],
        "member_cap": None if p is None or p.member_cap_fen < 0 else to_yuan(p.member_cap_fen),
    }


@router.get("/packages", response=list[PackageOut], summary="Packages a product can be opened on (catalog + V-nets)")
def list_packages(request, product: str = ""):
    """The catalog's packages by product (with the reason where the bill run cannot price one) and the V-net
    packages of groupbiz.toml; ``product`` filters by product code."""
    code = product.strip().upper()
    return [_package_out(e) for e in services.price_list().offered() if not code or e.product_code.upper() == code]


@router.post("/ecs/{ec_id}/group-users", response={201: GroupUserOut}, summary="Open a product for the EC")
def open_product(request, ec_id: int, body: OpenIn):
    ec = _ec(request, ec_id)
    account = GroupAccount.objects.filter(ec=ec, pk=body.account).first() if body.account else None
    gu = services.open_group_user(
        request.user,
        ec,
        product_code=body.product_code,
        package_code=body.package_code,
        account=account,
        new_account=body.new_account.dict() if body.new_account else None,
        bundle_code=body.bundle_code,
    )
    return Status(
        201,
        {
            "id": gu.pk,
            "code": gu.code,
            "product_code": gu.product_code,
            "package_code": gu.package_code,
            "is_vnet": gu.is_vnet,
            "vsub": gu.vsub.code if gu.vsub_id else None,
            "account": gu.account.number,
            "members": 0,
        },
    )


def _member(m: Member) -> dict:
    return {
        "id": m.pk,
        "msisdn": m.msisdn,
        "name": m.name,
        "memberships": [{"group_user": u.group_user.code, "short_number": u.short_number} for u in m.memberships.all()],
    }


@router.get("/ecs/{ec_id}/members", response=MemberPage, summary="Members of an EC (search by number, name, short)")
def list_members(request, ec_id: int, q: str = "", page: int = 1, page_size: int = 50):
    ec = _ec(request, ec_id)
    qs = members_of(ec, q)
    size = max(1, min(page_size, 500))
    page = max(1, page)
    return {
        "count": qs.count(),
        "page": page,
        "page_size": size,
        "items": [_member(m) for m in qs[(page - 1) * size : page * size]],
    }


@router.post("/ecs/{ec_id}/members", response={201: MemberOut}, summary="Add a member (and join a group user)")
def add_member(request, ec_id: int, body: MemberIn):
    ec = _ec(request, ec_id)
    gu = GroupUser.objects.filter(ec=ec, code=body.group_user).first() if body.group_user else None
    if body.group_user and gu is None:
        raise services.GroupError({"group_user": f"本集团没有集团用户 {body.group_user} / no such group user"})
    m = services.add_member(request.user, ec, body.msisdn, body.name, gu, body.short_number)
    return Status(201, _member(Member.objects.prefetch_related("memberships__group_user").get(pk=m.pk)))


@router.delete("/members/{member_id}", response={204: None}, summary="Remove a member from its EC")
def remove_member(request, member_id: int):
    m = get_object_or_404(Member.objects.filter(ec__in=visible_ecs(request.user).values("pk")), pk=member_id)
    services.remove_member(request.user, m)
    return Status(204, None)


@router.delete("/memberships/{membership_id}", response={204: None}, summary="Take a member out of a group user")
def leave(request, membership_id: int):
    um = get_object_or_404(
        UserMember.objects.filter(member__ec__in=visible_ecs(request.user).values("pk")).select_related("member__ec"),
        pk=membership_id,
    )
    services.leave_group_user(request.user, um)
    return Status(204, None)


@router.post("/ecs/{ec_id}/members/import", summary="Import members from .xlsx/.csv (dry_run=true only checks)")
def import_file(request, ec_id: int, file: File[UploadedFile] = None, dry_run: bool = True):
    ec = _ec(request, ec_id)
    if file is None:
        raise services.GroupError({"file": "请上传文件 / upload a file"})
    try:
        table = read_table(file, filename=file.name)
    except TableError as exc:
        raise services.GroupError({"file": str(exc)}) from exc
    return import_members(ec, table, actor=request.user, dry_run=dry_run).as_dict()


@router.post("/ecs/{ec_id}/payment-plans", response={201: PlanOut}, summary="Add a unified-payment plan")
def add_plan(request, ec_id: int, body: PlanIn):
    ec = _ec(request, ec_id)
    account = GroupAccount.objects.filter(ec=ec, pk=body.account).first() if body.account else None
    if account is None:
        raise services.GroupError({"account": "请选择付费账户 / choose the paying account"})
    member = Member.objects.filter(ec=ec, msisdn=body.msisdn).first() if body.msisdn else None
    if body.msisdn and member is None:
        raise services.GroupError({"msisdn": "本集团没有该成员 / no such member in this EC"})
    p = services.add_payment_plan(
        request.user, ec, item=body.item, account=account, member=member, product_code=body.product_code, cap=body.cap
    )
    return Status(
        201,
        {
            "id": p.pk,
            "item": p.item,
            "member": member.msisdn if member else None,
            "product_code": p.product_code,
            "account": account.number,
            "cap": p.cap,
        },
    )


class CheckQuery(Schema):
    kind: str = "msisdn"
    value: str = ""
    phone: str = ""


@router.get("/numbering", response=CheckOut, summary="Check or build a number (msisdn, imsi, imei, smsc, …)")
def numbering_check(request, params: Query[CheckQuery]):
    if params.kind not in CHECKS:
        raise services.GroupError({"kind": f"kind 应为 {', '.join(CHECKS)} / kind must be one of {', '.join(CHECKS)}"})
    return check_number(params.kind, params.value, params.phone).as_dict()


def _bill(run) -> dict:
    accounts = (
        BillLine.objects.filter(run=run, msisdn="", account__isnull=False)
        .values("account_id", "account__number")
        .annotate(total=Sum("amount"))
        .order_by("account__number")
    )
    return {
        "id": run.pk,
        "month": run.month,
        "run_key": run.run_key,
        "status": run.status,
        "computed_at": run.computed_at,
        "totals": run.totals,
        "accounts": [{"id": a["account_id"], "number": a["account__number"], "total": a["total"]} for a in accounts],
    }


@router.get("/ecs/{ec_id}/bills", response=list[BillOut], summary="Bills of an EC, newest month first")
def list_bills(request, ec_id: int):
    ec = _ec(request, ec_id)
    return [_bill(r) for r in visible_runs(request.user).filter(ec=ec)[:24]]


@router.post("/ecs/{ec_id}/bills", response={202: JobOut}, summary="Run (or re-run) the month's bill in the background")
def run_bill(request, ec_id: int, body: BillRunIn):
    ec = _ec(request, ec_id)
    try:
        dt.date.fromisoformat(body.month + "-01")
    except ValueError as exc:
        raise services.GroupError({"month": "月份格式应为 YYYY-MM / month as YYYY-MM"}) from exc
    job = Job.objects.create(kind="bill_run", created_by=request.user, params={"ecs": [ec.pk], "month": body.month})
    run_bills.enqueue(job.pk)
    job.refresh_from_db()
    return Status(202, {"job": job.pk, "status": job.status, "result": job.result})


@router.get("/bills/{run_id}", response=BillOut, summary="One bill: totals by item and per account")
def get_bill(request, run_id: int):
    return _bill(get_object_or_404(visible_runs(request.user), pk=run_id))


@router.get("/bills/{run_id}/accounts/{account_id}", response=list[BillLineOut], summary="An account's bill lines")
def account_lines(request, run_id: int, account_id: int):
    run = get_object_or_404(visible_runs(request.user), pk=run_id)
    acc = get_object_or_404(GroupAccount, pk=account_id, ec=run.ec)
    return [
        {
            "item": ln.item,
            "group_user": ln.group_user.code if ln.group_user_id else None,
            "source": ln.source,
            "quantity": ln.quantity,
            "members": ln.members,
            "amount": ln.amount,
            "note": ln.note,
        }
        for ln in BillLine.objects.filter(run=run, account=acc, msisdn="").select_related("group_user")
    ]
