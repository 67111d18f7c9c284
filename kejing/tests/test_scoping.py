"""A CM sees only his customers; a manager only his unit. These tests try to break that everywhere.

The URL lists are discovered, not hand-written: every page route with an id parameter and every API path of the
OpenAPI document is tried with ids that belong to someone else, so a new route is covered the day it is added.
"""

from __future__ import annotations

import datetime as dt
import re

import pytest
from django.urls import URLPattern, URLResolver, get_resolver

from kejing.customers import services
from kejing.customers.models import ChangeRequest
from kejing.service.models import Task, Visit
from kejing.service.services import log_visit_now, plan_visit


def _patterns(resolver=None, prefix=""):
    resolver = resolver or get_resolver()
    for p in resolver.url_patterns:
        if isinstance(p, URLResolver):
            if str(p.pattern).startswith(("admin/", "api/")):
                continue
            yield from _patterns(p, prefix + str(p.pattern))
        elif isinstance(p, URLPattern):
            yield prefix + str(p.pattern), p.name


@pytest.fixture
def foreign(org):
    """Objects of cm2 (and of department 2), which cm1 must never reach."""
    visit = plan_visit(org.cm2.user, org.c2, dt.date.today())
    done = log_visit_now(org.cm2.user, org.c2, findings="库存充足", guidance="保持陈列")
    req = services.request_change(org.cm2.user, org.c2, "order_cycle", "W2", "测试")
    task = Task.objects.create(staff=org.cm2, customer=org.c2, kind="other", title="x", due=dt.date.today())
    return {"customer": org.c2, "visit": visit, "done": done, "request": req, "task": task}


def _ids_for(route: str, foreign) -> dict[str, int]:
    ids = {}
    for name in re.findall(r"<int:(\w+)>", route):
        if name == "customer_id" or (
            "customers/" in route and name == "pk" and "approvals" not in route and "requests" not in route
        ):
            ids[name] = foreign["customer"].pk
        elif "visits" in route:
            ids[name] = foreign["visit"].pk
        elif "approvals" in route or "requests" in route:
            ids[name] = foreign["request"].pk
        elif "tasks" in route:
            ids[name] = foreign["task"].pk
        else:
            ids[name] = 999999
    return ids


def test_every_object_page_of_another_cm_is_404(org, foreign, login):
    client = login(org.cm1)
    tried = 0
    for route, _name in _patterns():
        if "<int:" not in route:
            continue
        ids = _ids_for(route, foreign)
        url = "/" + re.sub(r"<int:(\w+)>", lambda m, ids=ids: str(ids[m.group(1)]), route)
        for method in ("get", "post"):
            resp = getattr(client, method)(url)
            assert resp.status_code in (404, 405), f"{method.upper()} {url} gave {resp.status_code}"
            if resp.status_code == 200:
                pytest.fail(f"{url} leaked")
            tried += 1
    assert tried >= 14  # the routes exist; a renamed pattern must not silently drop out of this test
    # and nothing changed
    foreign["visit"].refresh_from_db()
    assert foreign["visit"].status == Visit.Status.PLANNED
    assert ChangeRequest.objects.get(pk=foreign["request"].pk).status == "pending"


def test_lists_search_and_export_show_only_own_customers(org, foreign, login):
    client = login(org.cm1)
    page = client.get("/customers/?q=hl").content.decode()  # 华联超市 = hlcs belongs to cm2
    assert "华联超市" not in page
    page = client.get("/customers/").content.decode()
    assert "中国移动营业厅便利店" in page and "华联超市" not in page and "老王烟酒店" not in page
    export = client.get("/customers/export/?format=csv").content.decode("utf-8-sig")
    assert "C1" in export and "C2" not in export and "C3" not in export
    assert "华联超市" not in client.get("/visits/?show=planned").content.decode()
    assert "华联超市" not in client.get("/").content.decode()


def test_every_api_path_of_another_cm_is_404(org, foreign, client, token_for):
    headers = token_for(org.cm1)
    schema = client.get("/api/openapi.json").json()
    ids = {
        "customer_id": foreign["customer"].pk,
        "visit_id": foreign["visit"].pk,
        "request_id": foreign["request"].pk,
        "staff_id": org.cm2.pk,
    }
    # valid bodies, so that the only thing standing between cm1 and the object is the scope check
    bodies = {
        "change-requests": {"field": "order_cycle", "new_value": "W4", "reason": "x"},
        "decide": {"approve": True, "comment": "ok"},
        "decision": {"approve": True, "note": "ok"},
        "record": {"visited_on": dt.date.today().isoformat(), "findings": "x", "followup": "y"},
        "{customer_id}": {"phone": "13811112222"},
    }
    # a path whose parameter names no object in anyone's scope: the spec catalogue is the company's, every user
    # reads it and only the marketing center writes it (a CM's PUT is a 403: test_spec_catalogue.py)
    not_scoped = {"/api/forecasting/specs/{code}"}
    tried = 0
    for path, methods in schema["paths"].items():
        params = re.findall(r"{(\w+)}", path)
        if not params or path in not_scoped:
            continue
        # ids of modules' own objects are not known here (999999 = none): each module tests its scoping itself
        url = re.sub(r"{(\w+)}", lambda m: str(ids.get(m.group(1), 999999)), path)
        body = bodies.get(path.rsplit("/", 1)[-1], {})
        for method in methods:
            kwargs = {"content_type": "application/json", "data": body} if method in ("post", "patch", "put") else {}
            resp = getattr(client, method)(url, **kwargs, **headers)
            assert resp.status_code == 404, f"{method.upper()} {url} gave {resp.status_code}: {resp.content[:200]}"
            tried += 1
    assert tried >= 9


def test_api_lists_are_scoped(org, foreign, client, token_for):
    body = client.get("/api/customers?q=", **token_for(org.cm1)).json()
    assert [c["code"] for c in body["items"]] == ["C1"]
    assert client.get("/api/customers?q=hlcs", **token_for(org.cm1)).json()["count"] == 0
    assert all(v["customer_id"] == org.c1.pk for v in client.get("/api/visits", **token_for(org.cm1)).json())
    assert client.get("/api/approvals", **token_for(org.cm1)).json() == []
    staff = client.get("/api/org/staff", **token_for(org.cm1)).json()
    assert [s["employee_no"] for s in staff] == ["CM1"]


def test_market_manager_sees_his_market_only(org, foreign, client, token_for, login):
    codes = [c["code"] for c in client.get("/api/customers", **token_for(org.mm1)).json()["items"]]
    assert codes == ["C1", "C2"]
    assert client.get(f"/api/customers/{org.c3.pk}", **token_for(org.mm1)).status_code == 404
    assert client.get(f"/customers/{org.c3.pk}/", **token_for(org.mm1)).status_code in (302, 404)
    page = login(org.mm1).get("/team/").content.decode()
    assert "cm1" in page and "cm2" in page and "cm3" not in page
    # department head of D1 sees D1, the center sees the company
    assert client.get("/api/customers", **token_for(org.head1)).json()["count"] == 2
    assert client.get("/api/customers", **token_for(org.center)).json()["count"] == 3
    assert client.get("/api/customers", **token_for(org.admin)).json()["count"] == 3


def test_manager_pages_are_closed_to_cms(org, login):
    client = login(org.cm1)
    for url in ("/team/", "/team/reassign/", "/customers/new/", "/customers/import/"):
        assert client.get(url).status_code == 404, url


def test_anonymous_gets_nothing(org, client):
    assert client.get("/customers/").status_code == 302
    assert client.get(f"/api/customers/{org.c1.pk}").status_code == 401
    assert client.get("/api/customers", HTTP_AUTHORIZATION="Bearer not-a-token").status_code == 401
