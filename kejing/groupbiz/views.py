"""Group-business pages: EC list, EC structure tree, open a product, accounts, payment plans, members (list,
search, add, remove, export, import with a background job), bill runs and bills with their explanations, and a
numbering checker. Every lookup goes through the caller's customer scope, so another CM's EC is a 404."""

from __future__ import annotations

from decimal import Decimal

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.db.models import Count, Sum
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from kejing.core import uploads
from kejing.core.exports import table_response
from kejing.core.models import Job
from kejing.core.pagination import paginate

from . import services
from .engine import numbering
from .models import BillLine, GroupAccount, GroupUser, Member, PaymentPlan, UserMember, Vsub
from .selectors import ec_list, members_of, visible_accounts, visible_ecs, visible_runs
from .tasks import run_bills, run_member_import


def _items() -> dict[str, str]:
    return {k: v["zh"] for k, v in services.policy()["items"].items()}


def _errors(request, exc: services.GroupError) -> None:
    messages.error(request, "; ".join(exc.errors.values()))


@login_required
def ecs(request):
    page, query = paginate(request, ec_list(request.user, request.GET.get("q", "")))
    return render(request, "groupbiz/ecs.html", {"page": page, "query": query, "q": request.GET.get("q", "")})


@login_required
def ec_detail(request, pk: int):
    ec = get_object_or_404(visible_ecs(request.user), pk=pk)
    accounts = list(
        GroupAccount.objects.filter(ec=ec).annotate(n_users=Count("group_users")).order_by("kind", "number")
    )
    users = list(
        GroupUser.objects.filter(ec=ec).select_related("account", "vsub").annotate(n_members=Count("memberships"))
    )
    tree = []
    for acc in [a for a in accounts if a.kind == GroupAccount.Kind.TOTAL]:
        subs = [a for a in accounts if a.parent_id == acc.pk]
        tree.append(
            {
                "account": acc,
                "users": [u for u in users if u.account_id == acc.pk],
                "subs": [{"account": s, "users": [u for u in users if u.account_id == s.pk]} for s in subs],
            }
        )
    vsubs = list(Vsub.objects.filter(ec=ec).select_related("account"))
    plans = PaymentPlan.objects.filter(ec=ec).select_related("account", "member")
    pol = services.policy()
    return render(
        request,
        "groupbiz/ec.html",
        {
            "ec": ec,
            "tree": tree,
            "vsubs": [{"vsub": v, "users": [u for u in users if u.vsub_id == v.pk]} for v in vsubs],
            "accounts": accounts,
            "totals": [a for a in accounts if a.kind == GroupAccount.Kind.TOTAL],
            "n_members": Member.objects.filter(ec=ec).count(),
            "plans": plans,
            "products": _offered_products(),
            "items": _items(),
            "invoice_types": pol["accounts"]["invoice_types"],
            "payment_types": pol["accounts"]["payment_types"],
        },
    )


def _offered_products() -> list[dict]:
    """The open-product choices grouped by product: the catalog's products with their packages (those the bill
    run cannot price are listed with the reason and cannot be picked), then the V-nets of ``groupbiz.toml``."""
    out: dict[str, dict] = {}
    for e in services.price_list().offered():
        group = out.setdefault(e.product_code, {"code": e.product_code, "name": e.product_name, "packages": []})
        group["packages"].append(e)
    return list(out.values())


def _account_data(post) -> dict:
    return {
        "name": post.get("name", ""),
        "kind": post.get("kind", "total"),
        "parent": post.get("parent") or None,
        "product_codes": post.get("product_codes", ""),
        "invoice_type": post.get("invoice_type", ""),
        "late_fee": post.get("late_fee") == "on",
        "payment_type": post.get("payment_type", "cash"),
        "pays_all": True,
    }


@login_required
@require_POST
def open_product(request, pk: int):
    ec = get_object_or_404(visible_ecs(request.user), pk=pk)
    post = request.POST
    account = None
    new_account = None
    if post.get("account") == "new":
        new_account = _account_data(post)
    elif post.get("account"):
        account = GroupAccount.objects.filter(ec=ec, pk=post["account"]).first()
    try:
        gu = services.open_group_user(
            request.user,
            ec,
            product_code=post.get("product_code", ""),
            package_code=post.get("package_code", ""),
            account=account,
            new_account=new_account,
            bundle_code=post.get("bundle_code", ""),
        )
    except services.GroupError as exc:
        _errors(request, exc)
    else:
        messages.success(request, _("Group user %(code)s opened.") % {"code": gu.code})
    return redirect("groupbiz_ec", pk=ec.pk)


@login_required
@require_POST
def account_new(request, pk: int):
    ec = get_object_or_404(visible_ecs(request.user), pk=pk)
    try:
        acc = services.create_account(request.user, ec, _account_data(request.POST))
        messages.success(request, _("Account %(n)s opened.") % {"n": acc.number})
    except services.GroupError as exc:
        _errors(request, exc)
    return redirect("groupbiz_ec", pk=ec.pk)


@login_required
def account_edit(request, pk: int):
    acc = get_object_or_404(visible_accounts(request.user), pk=pk)
    if request.method == "POST":
        data = _account_data(request.POST)
        data.pop("kind")
        data.pop("parent")
        try:
            services.update_account(request.user, acc, data)
            messages.success(request, _("Account saved."))
            return redirect("groupbiz_ec", pk=acc.ec_id)
        except services.GroupError as exc:
            _errors(request, exc)
    pol = services.policy()
    return render(
        request,
        "groupbiz/account_form.html",
        {
            "acc": acc,
            "invoice_types": pol["accounts"]["invoice_types"],
            "payment_types": pol["accounts"]["payment_types"],
        },
    )


@login_required
@require_POST
def plan_add(request, pk: int):
    ec = get_object_or_404(visible_ecs(request.user), pk=pk)
    post = request.POST
    account = GroupAccount.objects.filter(ec=ec, pk=post.get("account") or 0).first()
    member = None
    if post.get("msisdn"):
        member = Member.objects.filter(ec=ec, msisdn=post["msisdn"].strip()).first()
        if member is None:
            messages.error(request, _("No member %(m)s in this EC.") % {"m": post["msisdn"]})
            return redirect("groupbiz_ec", pk=ec.pk)
    if account is None:
        messages.error(request, _("Choose the paying account."))
        return redirect("groupbiz_ec", pk=ec.pk)
    try:
        services.add_payment_plan(
            request.user,
            ec,
            item=post.get("item", ""),
            account=account,
            member=member,
            product_code=post.get("product_code", "").strip(),
            cap=post.get("cap") or None,
        )
        messages.success(request, _("Payment plan added."))
    except services.GroupError as exc:
        _errors(request, exc)
    return redirect("groupbiz_ec", pk=ec.pk)


@login_required
@require_POST
def plan_remove(request, pk: int):
    plan = get_object_or_404(PaymentPlan.objects.filter(ec__in=visible_ecs(request.user).values("pk")), pk=pk)
    services.remove_payment_plan(request.user, plan)
    messages.success(request, _("Payment plan removed."))
    return redirect("groupbiz_ec", pk=plan.ec_id)


@login_required
def members(request, pk: int):
    ec = get_object_or_404(visible_ecs(request.user), pk=pk)
    q = request.GET.get("q", "").strip()
    qs = members_of(ec, q)
    if request.GET.get("export"):
        rows = (
            (
                m.msisdn,
                m.name,
                ",".join(u.group_user.code for u in m.memberships.all()),
                ",".join(u.short_number for u in m.memberships.all() if u.short_number),
            )
            for m in qs
        )
        return table_response(
            "members", ["手机号码", "姓名", "集团用户", "短号"], rows, request.GET.get("format", "xlsx")
        )
    if request.method == "POST":
        gu = GroupUser.objects.filter(ec=ec, pk=request.POST.get("group_user") or 0).first()
        try:
            m = services.add_member(
                request.user,
                ec,
                request.POST.get("msisdn", ""),
                request.POST.get("name", ""),
                gu,
                request.POST.get("short_number", ""),
            )
            messages.success(request, _("Member %(m)s added.") % {"m": m.msisdn})
        except services.GroupError as exc:
            _errors(request, exc)
        return redirect("groupbiz_members", pk=ec.pk)
    page, query = paginate(request, qs)
    return render(
        request,
        "groupbiz/members.html",
        {"ec": ec, "page": page, "query": query, "q": q, "users": GroupUser.objects.filter(ec=ec)},
    )


@login_required
@require_POST
def member_remove(request, pk: int):
    m = get_object_or_404(Member.objects.filter(ec__in=visible_ecs(request.user).values("pk")), pk=pk)
    services.remove_member(request.user, m)
    messages.success(request, _("Member %(m)s removed.") % {"m": m.msisdn})
    return redirect("groupbiz_members", pk=m.ec_id)


@login_required
@require_POST
def membership_remove(request, pk: int):
    um = get_object_or_404(
        UserMember.objects.filter(member__ec__in=visible_ecs(request.user).values("pk")).select_related(
            "member__ec", "group_user"
        ),
        pk=pk,
    )
    services.leave_group_user(request.user, um)
    messages.success(request, _("Removed from %(u)s.") % {"u": um.group_user.code})
    return redirect("groupbiz_members", pk=um.member.ec_id)


@login_required
def members_import(request, pk: int):
    """Upload → dry run (every bad row listed) → import, as a background job with progress."""
    ec = get_object_or_404(visible_ecs(request.user), pk=pk)
    if request.method == "POST" and request.POST.get("from_job"):
        try:
            job = uploads.import_from_page(
                request.user, "import_members", request.POST["from_job"], run_member_import, ec=ec.pk
            )
        except uploads.FileGone as exc:
            messages.error(request, str(exc))
            return redirect(reverse("groupbiz_import", args=[ec.pk]) + f"?job={request.POST['from_job']}")
        return redirect(reverse("groupbiz_import", args=[ec.pk]) + f"?job={job.pk}")
    if request.method == "POST" and request.FILES.get("file"):
        job = uploads.start(
            request.user, "import_members", request.FILES["file"], run_member_import, dry_run=True, ec=ec.pk
        )
        return redirect(reverse("groupbiz_import", args=[ec.pk]) + f"?job={job.pk}")
    job = report = None
    if request.GET.get("job", "").isdigit():
        job = Job.objects.filter(
            pk=request.GET["job"], created_by=request.user, kind="import_members", params__ec=ec.pk
        ).first()
        report = job.result if job and job.status in (Job.Status.DONE, Job.Status.FAILED) else None
    return render(request, "groupbiz/import.html", {"ec": ec, "job": job, "report": report})


@login_required
def bills(request, pk: int):
    ec = get_object_or_404(visible_ecs(request.user), pk=pk)
    if request.method == "POST":
        month = request.POST.get("month", "")
        if len(month) != 7 or month[4] != "-":
            messages.error(request, _("Month as YYYY-MM."))
            return redirect("groupbiz_bills", pk=ec.pk)
        job = Job.objects.create(kind="bill_run", created_by=request.user, params={"ecs": [ec.pk], "month": month})
        run_bills.enqueue(job.pk)
        return redirect(reverse("groupbiz_bills", args=[ec.pk]) + f"?job={job.pk}")
    job = None
    if request.GET.get("job"):
        job = Job.objects.filter(pk=request.GET["job"], created_by=request.user, kind="bill_run").first()
    runs = visible_runs(request.user).filter(ec=ec)
    return render(
        request,
        "groupbiz/bills.html",
        {"ec": ec, "runs": runs, "job": job, "month": timezone.localdate().strftime("%Y-%m")},
    )


@login_required
def bill(request, pk: int):
    run = get_object_or_404(visible_runs(request.user), pk=pk)
    items = _items()
    accounts = (
        BillLine.objects.filter(run=run, msisdn="", account__isnull=False)
        .values("account_id", "account__number", "account__name")
        .annotate(total=Sum("amount"))
        .order_by("account__number")
    )
    lines = BillLine.objects.filter(run=run, source="member").select_related("group_user", "account")
    q = request.GET.get("q", "").strip()
    if q:
        lines = lines.filter(msisdn__contains=q)
    if request.GET.get("export"):
        rows = (
            (
                ln.msisdn,
                ln.group_user.code if ln.group_user else "",
                ln.item,
                items.get(ln.item, ""),
                ln.amount,
                ln.moved,
                ln.amount - ln.moved,
                ln.account.number if ln.account else "",
                ln.note,
            )
            for ln in lines
        )
        return table_response(
            "member-bills",
            ["手机号码", "集团用户", "账目项", "名称", "费用", "集团统付", "个人支付", "统付账户", "说明"],
            rows,
        )
    page, query = paginate(request, lines.order_by("msisdn", "item", "id"))
    by_item = [(k, items.get(k, k), v) for k, v in sorted(run.totals.get("items", {}).items())]
    return render(
        request,
        "groupbiz/bill.html",
        {"run": run, "ec": run.ec, "accounts": accounts, "page": page, "query": query, "q": q, "by_item": by_item},
    )


@login_required
def account_bill(request, pk: int, account: int):
    run = get_object_or_404(visible_runs(request.user), pk=pk)
    acc = get_object_or_404(GroupAccount, pk=account, ec=run.ec)
    items = _items()
    lines = list(
        BillLine.objects.filter(run=run, account=acc, msisdn="").select_related("group_user").order_by("item", "id")
    )
    if request.GET.get("export"):
        rows = (
            (
                ln.item,
                items.get(ln.item, ""),
                ln.group_user.code if ln.group_user else "",
                ln.source,
                ln.quantity,
                ln.members,
                ln.amount,
                ln.note,
            )
            for ln in lines
        )
        return table_response(
            f"bill-{acc.number}", ["账目项", "名称", "集团用户", "来源", "数量", "成员数", "金额", "说明"], rows
        )
    sums: dict[str, Decimal] = {}
    for ln in lines:
        sums[ln.item] = sums.get(ln.item, Decimal("0")) + ln.amount
    return render(
        request,
        "groupbiz/account_bill.html",
        {
            "run": run,
            "acc": acc,
            "lines": lines,
            "items": items,
            "sums": [(k, items.get(k, k), v) for k, v in sorted(sums.items())],
            "total": sum(sums.values(), Decimal("0.00")),
        },
    )


CHECKS = ("msisdn", "imsi", "imei", "smsc", "vnet-short", "pbx-virtual")


@login_required
def numbering_page(request):
    kind = request.GET.get("kind", "msisdn")
    value = request.GET.get("value", "").strip()
    result = None
    if value and kind in CHECKS:
        result = check_number(kind, value, request.GET.get("phone", ""))
    return render(request, "groupbiz/numbering.html", {"kind": kind, "value": value, "result": result, "kinds": CHECKS})


def check_number(kind: str, value: str, phone: str = "") -> numbering.Check:
    """One entry point for the page and the API (``value`` for pbx-virtual: a number, or AREA-PBX[-EXT])."""
    rules = services.numbering_rules()
    if kind == "msisdn":
        return numbering.check_msisdn(value, rules)
    if kind == "imsi":
        return numbering.check_imsi(value, rules)
    if kind == "imei":
        return numbering.check_imei(value)
    if kind == "smsc":
        return numbering.smsc_number(value, rules)
    if kind == "vnet-short":
        return numbering.check_short_number(value, phone, rules)
    parts = [p for p in value.replace(" ", "-").split("-") if p]
    if len(parts) in (2, 3) and not parts[0].startswith("90"):
        return numbering.pbx_virtual_number(*parts, rules=rules)
    return numbering.parse_pbx_virtual("".join(parts), rules=rules)
