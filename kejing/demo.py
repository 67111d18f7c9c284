"""The demo company data: three industries, an org tree, staff of every role, customers, visits and requests.

Deterministic for a given seed so that the tour in the README and the browser tests can name real records.
Written with ``bulk_create`` (one password hash shared by all demo users) so that 10,000 retail customers and
65 CMs build well under a minute.
"""

from __future__ import annotations

import datetime as dt
import random
from dataclasses import dataclass, field
from decimal import Decimal

from django.contrib.auth.hashers import make_password
from django.contrib.auth.models import User
from django.db import transaction
from django.utils import timezone

from kejing import DEFAULT_DEMO_PASSWORD
from kejing.core.db import analyze
from kejing.core.pinyin import pinyin_keys
from kejing.core.validators import credit_code_with_check
from kejing.customers.models import ChangeRequest, ComplianceRecord, Contact, Customer
from kejing.org.models import OrgUnit, Role, Staff
from kejing.service.models import Task, Visit

# Eleven county marketing departments: (code, name, urban?, units, latitude, longitude)
TOBACCO_DEPARTMENTS = [
    ("YC", "榆次营销部", True, 10, 37.697, 112.708),
    ("TG", "太谷营销部", False, 6, 37.421, 112.551),
    ("QX", "祁县营销部", False, 6, 37.358, 112.335),
    ("PY", "平遥营销部", False, 6, 37.189, 112.176),
    ("JX", "介休营销部", True, 7, 37.027, 111.917),
    ("LS", "灵石营销部", False, 5, 36.847, 111.778),
    ("SY", "寿阳营销部", False, 5, 37.895, 113.176),
    ("XY", "昔阳营销部", False, 5, 37.612, 113.706),
    ("HS", "和顺营销部", False, 5, 37.329, 113.570),
    ("ZQ", "左权营销部", False, 5, 37.082, 113.379),
    ("YS", "榆社营销部", False, 5, 37.070, 112.975),
]
STREETS = ["中心街", "建设路", "解放路", "新华街", "人民路", "顺城街", "迎宾街", "汇通路"]
SHOP_WORDS = [
    "鑫源",
    "福满",
    "惠民",
    "佳佳",
    "顺发",
    "万家",
    "康乐",
    "兴隆",
    "金穗",
    "百姓",
    "好邻居",
    "宏达",
    "旺旺",
    "红旗",
    "永安",
    "大众",
    "新世纪",
    "和平",
    "阳光",
    "乐购",
    "丰泽",
    "聚源",
    "喜来",
    "吉祥",
    "春晖",
    "明珠",
    "同心",
    "四季",
    "晋源",
    "德顺",
    "开心",
    "如意",
    "天天",
    "益民",
    "盛世",
    "东方",
]
SURNAMES = list("王李张刘陈杨赵黄周吴徐孙胡朱高林何郭马罗梁宋郑谢韩唐冯于董萧程曹袁邓许傅沈曾彭吕苏卢蒋蔡贾丁魏薛叶阎")
GIVEN = [
    "伟",
    "芳",
    "娜",
    "敏",
    "静",
    "丽",
    "强",
    "磊",
    "军",
    "洋",
    "勇",
    "艳",
    "杰",
    "娟",
    "涛",
    "明",
    "超",
    "秀英",
    "霞",
    "平",
    "刚",
    "桂英",
    "建华",
    "志强",
    "海燕",
    "晓东",
    "红梅",
    "文斌",
    "雪",
    "鹏",
]
FORMAT_SUFFIX = {
    "grocery": "食杂店",
    "convenience": "便利店",
    "supermarket": "超市",
    "liquor": "烟酒商店",
    "entertainment": "棋牌室",
    "mall": "商场",
    "other": "商行",
}
FINDINGS = [
    "主销规格库存偏低,近两周断货两次",
    "店面陈列整齐,价签齐全",
    "新品试销反应一般,顾客询问较少",
    "周边新开一家超市,客流有所下降",
    "客户反映高档烟走货慢",
    "节日备货意愿强",
    "动销台帐记录完整",
]
GUIDANCE = [
    "建议增加畅销规格的订量,保持一周安全库存",
    "建议把新品放在收银台旁的显眼位置",
    "建议按规格整理陈列并补齐价签",
    "建议记录每日销量,下次拜访一起分析",
    "建议节前两周提前备货",
]
TELECOM_WORDS = ["华信", "中远", "东方", "博源", "新锐", "汇通", "恒泰", "天成", "启明", "瑞丰", "宏图", "长城"]
TELECOM_KINDS = [
    "科技有限公司",
    "物流有限公司",
    "制造有限公司",
    "医院",
    "学校",
    "商贸有限公司",
    "建设集团",
    "能源有限公司",
    "信息技术有限公司",
    "人民政府办公室",
]
BANK_KINDS = [
    "机械制造有限公司",
    "商贸有限公司",
    "建筑工程有限公司",
    "置业有限公司",
    "运输有限公司",
    "电力有限公司",
    "农业开发有限公司",
    "软件有限公司",
    "医药有限公司",
    "酒店管理有限公司",
]


@dataclass
class DemoResult:
    password: str
    users: list[dict[str, str]] = field(default_factory=list)
    counts: dict[str, int] = field(default_factory=dict)


class _Builder:
    def __init__(self, password: str, seed: int, naive: bool = False):
        self.rng = random.Random(seed)
        self.password = password
        self.naive = naive  # the benchmark's baseline: one hash per user, one INSERT per customer
        self.hash = make_password(password)
        self.result = DemoResult(password=password)
        self.today = timezone.localdate()
        self.users: list[User] = []
        self.staff: list[Staff] = []

    # -- org --------------------------------------------------------------------------------------------------
    def unit(self, code, name, kind, parent=None, industry="tobacco", area="urban") -> OrgUnit:
        return OrgUnit.objects.create(code=code, name=name, kind=kind, parent=parent, industry=industry, area=area)

    def person(self, username, name, unit, role, **extra) -> Staff:
        user = User(
            username=username,
            password=self.hash,
            first_name=name,
            is_staff=role == Role.ADMIN,
            is_superuser=role == Role.ADMIN,
        )
        rng = self.rng
        years = rng.randint(1, 20)
        hire = self.today.replace(year=self.today.year - years, day=1)
        defaults = dict(
            employment_type=rng.choice(["formal", "formal", "contract"]),
            hire_date=hire,
            cm_start_date=hire.replace(year=min(hire.year + rng.randint(0, 3), self.today.year))
            if role == Role.CM
            else None,
            education=rng.choice(["high_school", "vocational", "college", "college", "bachelor", "bachelor"]),
            major=rng.choice(["市场营销", "经济学", "会计", "计算机", "汉语言文学", "工商管理"]),
            phone=f"139{rng.randint(10000000, 99999999)}",
        )
        defaults["major_is_economics"] = defaults["major"] in ("市场营销", "经济学", "会计", "工商管理")
        if rng.random() < 0.4:
            defaults["certificates"] = [
                {
                    "kind": "marketer",
                    "level": rng.choice(["junior", "intermediate"]),
                    "obtained": f"{self.today.year - rng.randint(1, 5)}-06-01",
                }
            ]
        defaults.update(extra)
        self.users.append(user)
        st = Staff(
            user=user,
            employee_no=username.upper(),
            name=name,
            unit=unit,
            role=role,
            must_change_password=False,
            **defaults,
        )
        self.staff.append(st)
        self.result.users.append(
            {"username": username, "role": role, "name": name, "unit": unit.name, "industry": unit.industry}
        )
        return st

    def flush_people(self) -> None:
        if self.naive:
            for u in self.users:
                u.set_password(self.password)
                u.save()
        else:
            User.objects.bulk_create(self.users)
        by_name = dict(User.objects.filter(username__in=[u.username for u in self.users]).values_list("username", "pk"))
        for st in self.staff:
            st.user_id = by_name[st.user.username]
        Staff.objects.bulk_create(self.staff)
        self.users, self.staff = [], []

    def name(self) -> str:
        return self.rng.choice(SURNAMES) + self.rng.choice(GIVEN)

    # -- customers --------------------------------------------------------------------------------------------
    def _point(self, lat, lon, spread) -> tuple[Decimal, Decimal]:
        return (
            Decimal(str(round(lat + self.rng.gauss(0, spread), 6))),
            Decimal(str(round(lon + self.rng.gauss(0, spread), 6))),
        )


@transaction.atomic
def build(
    customers: int = 10_000, password: str = DEFAULT_DEMO_PASSWORD, seed: int = 2026, naive: bool = False
) -> DemoResult:
    """Create the demo data in an empty (migrated) database.

    ``naive=True`` builds the same data the straightforward way (a password hash per user, a ``save()`` per
    customer); it exists only as the baseline of ``kejing bench demo``.
    """
    b = _Builder(password, seed, naive=naive)
    rng = b.rng
    tob = b.unit("T", "示范市烟草公司", "company", industry="tobacco")
    admin = b.person("admin", "系统管理员", tob, Role.ADMIN)
    b.person("center01", b.name(), tob, Role.CENTER)
    b.person("monopoly01", b.name(), tob, Role.MONOPOLY)
    b.person("committee01", b.name(), tob, Role.COMMITTEE)
    b.person("trainer01", b.name(), tob, Role.TRAINER)

    cm_units: list[tuple[OrgUnit, float, float]] = []
    cm_no = mm_no = 0
    for i, (code, dname, urban, n_units, lat, lon) in enumerate(TOBACCO_DEPARTMENTS, start=1):
        area = "urban" if urban else "rural"
        dept = b.unit(f"T-{code}", dname, "department", tob, area=area)
        b.person(f"head{i:02d}", b.name(), dept, Role.DEPT_HEAD)
        half = (n_units + 1) // 2
        for m, (start, stop) in enumerate(((0, half), (half, n_units)), start=1):
            market = b.unit(f"T-{code}-M{m}", f"{dname[:2]}第{m}市场部", "market", dept, area=area)
            mm_no += 1
            b.person(f"mm{mm_no:02d}", b.name(), market, Role.MARKET_MANAGER)
            for k in range(start, stop):
                # urban units are closer together; rural ones spread over the county
                ulat = lat + rng.uniform(-0.08, 0.08) * (0.4 if urban else 1.0)
                ulon = lon + rng.uniform(-0.1, 0.1) * (0.4 if urban else 1.0)
                unit = b.unit(
                    f"T-{code}-{k + 1:02d}",
                    f"{dname[:2]}{k + 1}区",
                    "unit",
                    market,
                    area="urban" if (urban or k == 0) else "rural",
                )
                cm_no += 1
                b.person(f"cm{cm_no:03d}", b.name(), unit, Role.CM)
                cm_units.append((unit, ulat, ulon))
    b.flush_people()
    cms = {s.unit_id: s for s in Staff.objects.filter(role=Role.CM, unit__industry="tobacco")}

    # spread the retail customers over units: urban units carry more (150-180) than rural (130-150)
    weights = [165 if u.area == "urban" else 140 for u, _, _ in cm_units]
    scale = customers / sum(weights)
    counts = [int(w * scale) for w in weights]
    for j in range(customers - sum(counts)):
        counts[j % len(counts)] += 1
    formats = ["grocery"] * 5 + ["convenience"] * 3 + ["supermarket", "liquor", "liquor", "entertainment", "other"]
    objs: list[Customer] = []
    serial = 0
    for (unit, ulat, ulon), n in zip(cm_units, counts, strict=True):
        cm = cms[unit.pk]
        spread = 0.012 if unit.area == "urban" else 0.035
        for _ in range(n):
            serial += 1
            fmt = rng.choice(formats)
            word = rng.choice(SHOP_WORDS) if rng.random() < 0.7 else rng.choice(SURNAMES) + "记"
            shop = f"{word}{FORMAT_SUFFIX[fmt]}"
            tier = max(1, min(30, int(rng.triangular(1, 30, 8))))
            lat, lon = b._point(ulat, ulon, spread)
            c = Customer(
                industry="tobacco",
                code=f"T{serial:06d}",
                name=shop,
                phone=f"13{rng.randint(4, 9)}{rng.randint(10000000, 99999999)}",
                address=f"{unit.name}{rng.choice(STREETS)}{rng.randint(1, 300)}号",
                latitude=lat,
                longitude=lon,
                unit=unit,
                cm=cm,
                status="active" if rng.random() > 0.02 else "suspended",
                value_tier="A" if tier >= 22 else "B" if tier >= 14 else "C" if tier >= 6 else "D",
                customer_type="informant" if rng.random() < 0.05 else ("chain" if fmt == "supermarket" else "standard"),
                licence_no=f"14070{serial:07d}",
                business_format=fmt,
                market_type=("city" if unit.area == "urban" else rng.choice(["town", "village", "village", "suburb"])),
                market_scale=rng.choice(["large", "medium", "medium", "small", "small"]),
                tier=tier,
                order_cycle=rng.choice(["W1", "W1", "W2"]),
                ordering_method=rng.choice(["online", "online", "phone", "pos"]),
            )
            c.name_initials, c.name_pinyin = pinyin_keys(c.name)
            objs.append(c)
    # other industries, small portfolios
    n_tel = min(240, max(12, customers // 40))
    n_bank = min(160, max(8, customers // 60))
    tel_units = _small_company(b, "M", "示范移动分公司", "telecom", "t", 6)
    bank_units = _small_company(b, "B", "示范银行分行", "bank", "b", 4)
    b.flush_people()
    for industry, units, n in (("telecom", tel_units, n_tel), ("bank", bank_units, n_bank)):
        ind_cms = {s.unit_id: s for s in Staff.objects.filter(role=Role.CM, unit__industry=industry)}
        for k in range(n):
            unit, ulat, ulon = units[k % len(units)]
            serial += 1
            lat, lon = b._point(ulat, ulon, 0.02)
            c = Customer(
                industry=industry,
                code=f"{'M' if industry == 'telecom' else 'B'}{serial:06d}",
                unit=unit,
                cm=ind_cms[unit.pk],
                latitude=lat,
                longitude=lon,
                phone=f"0354-{rng.randint(2000000, 8999999)}",
                address=f"{rng.choice(['榆次区', '太谷区', '介休市'])}{rng.choice(STREETS)}{rng.randint(1, 500)}号",
                value_tier=rng.choice("ABCCDD"),
                size=rng.choice(["large", "medium", "small", "small", "micro"]),
            )
            if industry == "telecom":
                c.name = "示范" + rng.choice(TELECOM_WORDS) + rng.choice(TELECOM_KINDS)
                c.ec_code = f"35{serial:08d}"
                c.customer_type = "gov" if "政府" in c.name else rng.choice(["enterprise", "sme", "institution"])
                c.sector = rng.choice(["manufacturing", "logistics", "education", "health", "retail", "it", "energy"])
            else:
                c.name = "示范" + rng.choice(SHOP_WORDS) + rng.choice(BANK_KINDS)
                c.credit_code = credit_code_with_check(f"91140700MA{serial:07d}")
                c.customer_type = rng.choice(["loyal", "general", "general", "problem1", "problem2"])
                c.sector = rng.choice(["manufacturing", "wholesale", "construction", "realestate", "transport", "it"])
            if k == 0 and industry == "telecom":
                c.name = "中国移动通信集团示范有限公司"
            c.name_initials, c.name_pinyin = pinyin_keys(c.name)
            objs.append(c)
    if naive:
        for c in objs:
            c.save()
    else:
        Customer.objects.bulk_create(objs, batch_size=2000)

    _activity(b, admin)
    _modules(b)
    analyze()  # PostgreSQL: statistics of the loaded tables, not of the empty ones (kejing.core.db)
    b.result.counts = {
        "customers": Customer.objects.count(),
        "staff": Staff.objects.count(),
        "units": OrgUnit.objects.count(),
        "visits": Visit.objects.count(),
        "change_requests": ChangeRequest.objects.count(),
    }
    return b.result


def _modules(b: _Builder) -> None:
    """Each module may add its own demo data with ``kejing.<module>.demo.build(rng, today)``."""
    from importlib import import_module
    from importlib.util import find_spec

    from django.conf import settings

    for name in settings.KEJING_MODULES:
        if find_spec(f"kejing.{name}.demo") is not None:
            import_module(f"kejing.{name}.demo").build(rng=random.Random(b.rng.random()), today=b.today)


def _small_company(b: _Builder, code: str, name: str, industry: str, prefix: str, n_cms: int):
    company = b.unit(code, name, "company", industry=industry)
    b.person(f"{prefix}center01", b.name(), company, Role.CENTER)
    dept = b.unit(f"{code}-D1", "大客户部" if industry == "telecom" else "公司业务部", "department", company)
    b.person(f"{prefix}head01", b.name(), dept, Role.DEPT_HEAD)
    market = b.unit(f"{code}-D1-M1", "第一团队", "market", dept)
    b.person(f"{prefix}mm01", b.name(), market, Role.MARKET_MANAGER)
    units = []
    for k in range(1, n_cms + 1):
        unit = b.unit(f"{code}-D1-{k:02d}", f"客户组{k}", "unit", market)
        b.person(f"{prefix}cm{k:02d}", b.name(), unit, Role.CM)
        units.append((unit, 37.69 + b.rng.uniform(-0.05, 0.05), 112.72 + b.rng.uniform(-0.05, 0.05)))
    return units


def _activity(b: _Builder, admin: Staff) -> None:
    """Visits (done and planned), a few contacts, compliance records, change requests and tasks."""
    rng, today = b.rng, b.today
    customers = list(Customer.objects.values_list("pk", "cm_id", "industry"))
    visits, contacts, tasks = [], [], []
    for pk, cm_id, industry in customers:
        if cm_id is None:
            continue
        last = today - dt.timedelta(days=rng.randint(5, 40))
        if rng.random() < 0.6:
            visits.append(
                Visit(
                    customer_id=pk,
                    cm_id=cm_id,
                    planned_for=last,
                    status="done",
                    visited_on=last,
                    findings=rng.choice(FINDINGS),
                    guidance=rng.choice(GUIDANCE),
                    next_step="下次拜访核对执行情况",
                )
            )
        r = rng.random()
        if r < 0.08:
            visits.append(Visit(customer_id=pk, cm_id=cm_id, planned_for=today - dt.timedelta(days=rng.randint(1, 6))))
        elif r < 0.25:
            visits.append(Visit(customer_id=pk, cm_id=cm_id, planned_for=today + dt.timedelta(days=rng.randint(0, 10))))
        if industry != "tobacco" or rng.random() < 0.1:
            contacts.append(
                Contact(
                    customer_id=pk,
                    name=b.name(),
                    title="店主" if industry == "tobacco" else "经理",
                    phone=f"138{rng.randint(10000000, 99999999)}",
                    is_primary=True,
                )
            )
    Visit.objects.bulk_create(visits, batch_size=2000)
    Contact.objects.bulk_create(contacts, batch_size=2000)
    monopoly = Staff.objects.get(employee_no="MONOPOLY01")
    shops = [pk for pk, _, ind in customers if ind == "tobacco"]
    ComplianceRecord.objects.bulk_create(
        [
            ComplianceRecord(
                customer_id=pk,
                date=today - dt.timedelta(days=rng.randint(10, 300)),
                kind=rng.choice(["inspection_ok", "inspection_ok", "warning"]),
                description="例行检查",
                recorded_by=monopoly,
            )
            for pk in rng.sample(shops, min(len(shops), 300))
        ]
    )
    # a few requests in flight so that the approval inboxes are not empty
    for pk in rng.sample(shops, min(len(shops), 12)):
        c = Customer.objects.select_related("cm").get(pk=pk)
        new = "W2" if c.order_cycle == "W1" else "W1"
        ChangeRequest.objects.create(
            customer=c,
            field="order_cycle",
            old_value=c.order_cycle,
            new_value=new,
            reason="客户经营量变化,申请调整订货周期",
            steps=["market_manager", "center", "admin"],
            current_role="market_manager",
            requested_by=c.cm,
        )
    for pk in rng.sample(shops, min(len(shops), 5)):
        c = Customer.objects.get(pk=pk)
        tasks.append(
            Task(
                staff_id=c.cm_id,
                customer=c,
                kind="first_visit",
                title=f"首次拜访:{c.name}",
                due=today + dt.timedelta(days=rng.randint(-1, 3)),
            )
        )
    Task.objects.bulk_create(tasks)
    from kejing.service.services import open_type_review, quarter_end

    open_type_review(quarter_end(today))
