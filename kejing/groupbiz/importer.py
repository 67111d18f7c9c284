"""Member import (成员导入) for one EC from ``.xlsx``/``.csv``: every row is checked before anything is written.

Checks per row (manual L1311-L1313, L709, FAQ L2457-L2465): number format and operator; the number repeated in
the file; the number already a member of **another** EC (the report names that EC); the group user unknown for
this EC; V-net short numbers (format, taken in the V-net by another number, repeated in the file) and a phone in a
second V-net. Lookups are set-based (one query per few thousand numbers) and writes are ``bulk_create``, so
100,000 rows take seconds, not minutes. If any row is bad, nothing is written.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from django.db import IntegrityError, transaction
from django.utils import timezone

from kejing.core import audit
from kejing.core.models import AuditLog
from kejing.core.tabular import ImportReport, RowError, Table
from kejing.customers.models import Customer

from .engine import numbering
from .models import GroupUser, Member, UserMember
from .services import check_member_number, numbering_rules

COLUMNS: dict[str, tuple[str, ...]] = {
    "msisdn": ("手机号码", "msisdn", "号码", "phone"),
    "name": ("姓名", "name"),
    "group_user": ("集团用户", "group_user"),
    "short_number": ("短号", "short_number"),
}
HEADER_TO_FIELD = {h.lower(): f for f, hs in COLUMNS.items() for h in hs}
CHUNK = 5000


@dataclass
class MemberReport(ImportReport):
    created: int = 0
    joined: int = 0
    existing: int = 0


def _chunks(values: list, n: int = CHUNK):
    for i in range(0, len(values), n):
        yield values[i : i + n]


def import_members(
    ec: Customer,
    table: Table,
    *,
    actor=None,
    dry_run: bool = True,
    progress: Callable[[int, int], None] | None = None,
) -> MemberReport:
    rep = MemberReport(rows=len(table.rows), dry_run=dry_run)
    colmap: dict[str, str] = {}
    for h in table.header:
        if not h:
            continue
        f = HEADER_TO_FIELD.get(h.strip().lower())
        if f is None:
            rep.errors.append(RowError(1, h, f"未知的列“{h}” / unknown column {h!r}"))
        else:
            colmap[h] = f
    if "msisdn" not in colmap.values():
        rep.errors.append(RowError(1, "手机号码", "缺少“手机号码”列 / the column msisdn (手机号码) is missing"))
    if rep.errors:
        return rep
    rules = numbering_rules()
    users = {g.code: g for g in GroupUser.objects.filter(ec=ec, status=GroupUser.Status.ACTIVE)}
    parsed: list[tuple[int, str, str, GroupUser | None, str]] = []
    flagged: list[tuple[int, str]] = []  # rows with a good number but another error: still checked against other ECs
    first_row: dict[str, int] = {}
    short_seen: dict[tuple[int, str], int] = {}
    for n, (rowno, raw) in enumerate(table.rows):
        vals = {colmap[h]: v.strip() for h, v in raw.items() if h in colmap}
        number, err = check_member_number(vals.get("msisdn", ""))
        bad = False
        if not vals.get("msisdn"):
            rep.errors.append(RowError(rowno, "手机号码", "号码为空 / the number is empty"))
            bad = True
        elif err:
            rep.errors.append(RowError(rowno, "手机号码", err))
            bad = True
        elif number in first_row:
            rep.errors.append(
                RowError(rowno, "手机号码", f"与第 {first_row[number]} 行重复 / same number as row {first_row[number]}")
            )
            bad = True
        else:
            first_row[number] = rowno
        number_ok = not bad
        gu = None
        code = vals.get("group_user", "")
        short = vals.get("short_number", "")
        if code:
            gu = users.get(code)
            if gu is None:
                rep.errors.append(
                    RowError(rowno, "集团用户", f"本集团没有集团用户 {code} / no group user {code} in this EC")
                )
                bad = True
        if gu is not None and gu.is_vnet:
            res = numbering.check_short_number(short, number, rules)
            if not res.ok:
                rep.errors.append(RowError(rowno, "短号", "; ".join(res.errors)))
                bad = True
            else:
                short = res.value
                key = (gu.pk, short)
                if key in short_seen:
                    rep.errors.append(
                        RowError(
                            rowno,
                            "短号",
                            f"短号 {short} 与第 {short_seen[key]} 行重复 / short number repeats row {short_seen[key]}",
                        )
                    )
                    bad = True
                else:
                    short_seen[key] = rowno
        elif short:
            rep.errors.append(
                RowError(
                    rowno, "短号", "只有 V 网成员有短号,请填写 V 网集团用户 / short numbers need a V-net group user"
                )
            )
            bad = True
        if not bad:
            parsed.append((rowno, number, vals.get("name", ""), gu, short))
        elif number_ok:
            flagged.append((rowno, number))
        if progress and n % 20000 == 0:
            progress(n, len(table.rows) * 2)
    # set-based checks against the database
    numbers = [p[1] for p in parsed] + [f[1] for f in flagged]
    owner: dict[str, tuple[int, int, str]] = {}  # msisdn -> (member id, ec id, ec name)
    for part in _chunks(numbers):
        for mid, msisdn, ec_id, ec_name in Member.objects.filter(msisdn__in=part).values_list(
            "pk", "msisdn", "ec_id", "ec__name"
        ):
            owner[msisdn] = (mid, ec_id, ec_name)
    in_vnet: dict[str, tuple[int, str]] = {}
    for part in _chunks(numbers):
        for msisdn, gu_id, gu_code in UserMember.objects.filter(vnet_msisdn__in=part).values_list(
            "vnet_msisdn", "group_user_id", "group_user__code"
        ):
            in_vnet[msisdn] = (gu_id, gu_code)
    vnet_ids = [g.pk for g in users.values() if g.is_vnet]
    taken: dict[tuple[int, str], str] = {
        (gid, s): m
        for gid, s, m in UserMember.objects.filter(group_user_id__in=vnet_ids)
        .exclude(short_number="")
        .values_list("group_user_id", "short_number", "member__msisdn")
    }
    joined_already: set[tuple[int, int]] = set(
        UserMember.objects.filter(group_user_id__in=list(g.pk for g in users.values()), member__ec=ec).values_list(
            "member_id", "group_user_id"
        )
    )
    if progress:
        progress(len(table.rows), len(table.rows) * 2)
    for rowno, number in flagged:  # list every problem of a bad row, including membership of another EC
        own = owner.get(number)
        if own and own[1] != ec.pk:
            rep.errors.append(
                RowError(rowno, "手机号码", f"号码已是集团“{own[2]}”的成员 / member of another EC: {own[2]}")
            )
    good = []
    for rowno, number, name, gu, short in parsed:
        own = owner.get(number)
        if own and own[1] != ec.pk:
            rep.errors.append(
                RowError(rowno, "手机号码", f"号码已是集团“{own[2]}”的成员 / member of another EC: {own[2]}")
            )
            continue
        if gu is not None and gu.is_vnet:
            v = in_vnet.get(number)
            if v and v[0] != gu.pk:
                rep.errors.append(
                    RowError(rowno, "手机号码", f"号码已在 V 网 {v[1]} 中 / the number is already in V-net {v[1]}")
                )
                continue
            holder = taken.get((gu.pk, short))
            if holder and holder != number:
                rep.errors.append(
                    RowError(
                        rowno, "短号", f"短号 {short} 已被 {holder} 使用 / short number {short} is taken by {holder}"
                    )
                )
                continue
        good.append((rowno, number, name, gu, short, own[0] if own else None))
    rep.errors.sort(key=lambda e: (e.row, e.field))
    rep.existing = sum(1 for g in good if g[5] is not None)
    rep.created = len(good) - rep.existing
    rep.joined = sum(1 for g in good if g[3] is not None and (g[5], g[3].pk) not in joined_already)
    if rep.errors or dry_run:
        return rep
    try:
        _write(ec, good, joined_already, actor)
    except IntegrityError as exc:  # someone else added one of the numbers meanwhile: report, write nothing
        rep.errors.append(
            RowError(0, "", f"写入时号码冲突,请重新校验 / a number was taken while importing, check again ({exc})")
        )
        rep.created = rep.joined = 0
    if progress:
        progress(len(table.rows) * 2, len(table.rows) * 2)
    return rep


@transaction.atomic
def _write(ec: Customer, good: list, joined_already: set, actor) -> None:
    now = timezone.now()
    new = [
        Member(ec=ec, msisdn=number, name=name[:60], added_at=now)
        for _r, number, name, _g, _s, mid in good
        if mid is None
    ]
    Member.objects.bulk_create(new, batch_size=2000)
    ids = {m.msisdn: m.pk for m in new}
    if any(v is None for v in ids.values()):  # a backend that does not return ids from bulk inserts
        ids = {}
        for part in _chunks([m.msisdn for m in new]):
            ids.update(Member.objects.filter(msisdn__in=part).values_list("msisdn", "pk"))
    links = []
    for _r, number, _n, gu, short, mid in good:
        member_id = mid or ids[number]
        if gu is not None and (member_id, gu.pk) not in joined_already:
            links.append(
                UserMember(
                    group_user=gu,
                    member_id=member_id,
                    short_number=short if gu.is_vnet else "",
                    vnet_msisdn=number if gu.is_vnet else None,
                    joined_at=now,
                )
            )
    UserMember.objects.bulk_create(links, batch_size=2000)
    # one audit record per member: a new member's record carries the group user it joined; a member that already
    # existed gets a record for the join only
    joined = {link.member_id: link for link in links}
    entries = []
    for m in new:
        link = joined.pop(m.pk, None)
        changes = {"msisdn": [None, m.msisdn]}
        if link is not None:
            changes["group_user"] = [None, link.group_user.code]
            changes["short_number"] = [None, link.short_number]
        entries.append(
            AuditLog(
                actor=actor,
                action="member_add",
                model="groupbiz.member",
                object_pk=str(m.pk),
                customer=ec,
                changes=changes,
                note="import",
                at=now,
            )
        )
    entries += [
        AuditLog(
            actor=actor,
            action="member_join",
            model="groupbiz.usermember",
            object_pk=str(link.member_id),
            customer=ec,
            changes={"group_user": [None, link.group_user.code], "short_number": [None, link.short_number]},
            note="import",
            at=now,
        )
        for link in joined.values()
    ]
    audit.record_many(entries)
