"""The site's own error pages: Chinese, the header, a way back, and the view's reason where it gave one."""

from __future__ import annotations

import datetime as dt

from django.test import Client, RequestFactory


def test_an_unknown_page_is_the_sites_page_in_chinese(org, login):
    response = login(org.cm1).get("/no/such/page/")
    assert response.status_code == 404
    page = response.content.decode()
    assert "页面不存在" in page and 'id="not-found"' in page
    assert 'class="menu"' in page  # the header, so the user can go on
    assert "Not Found" not in page and "The requested resource" not in page  # not Django's developer line


def test_a_404_never_shows_a_technical_message(org, login):
    # get_object_or_404's message names the model; the page keeps its neutral text instead
    response = login(org.cm1).get("/customers/999999/")
    assert response.status_code == 404
    page = response.content.decode()
    assert "matches the given query" not in page and "页面不存在" in page


def test_a_round_not_yet_open_says_so_and_leads_to_the_cycle(org, login, monkeypatch):
    from django.utils import timezone

    # 3 December 2026: the round for January 2027 is due, but nobody (worker or center) has opened it
    monkeypatch.setattr(timezone, "localdate", lambda *a, **k: dt.date(2026, 12, 3))
    client = login(org.cm1)
    for url in ("/forecasting/entry/", "/forecasting/feedback/", "/forecasting/consolidation/"):
        response = client.get(url)
        assert response.status_code == 404, url
        page = response.content.decode()
        assert "2027-01 的预测轮次尚未开启" in page, url
        assert 'href="/forecasting/"' in page  # the cycle page, where the center opens it
    bad = client.get("/forecasting/entry/?month=13-2026").content.decode()
    assert "不是月份" in bad and "13-2026" in bad


def test_an_expired_form_asks_to_reload(org):
    client = Client(enforce_csrf_checks=True)
    client.force_login(org.cm1.user)
    response = client.post("/accounts/password/", {"old_password": "x"})
    assert response.status_code == 403
    page = response.content.decode()
    assert "刷新" in page and "CSRF" not in page


def test_the_403_and_500_pages(org):
    from kejing.core import errors

    request = RequestFactory().get("/")
    request.user = org.cm1.user
    forbidden = errors.permission_denied(request)
    assert forbidden.status_code == 403 and "无权" in forbidden.content.decode()
    # the 500 page needs nothing from the request: what failed may be the request's own context
    failed = errors.server_error(request)
    assert failed.status_code == 500 and "服务器出错" in failed.content.decode()


def test_a_job_nobody_runs_says_so(org, login):
    """Queued five minutes with no job running: no worker is taking jobs, and the page says so instead of
    refreshing forever; behind a running job (a model run takes minutes) it is only waiting its turn."""
    from django.utils import timezone

    from kejing.core.models import Job

    client = login(org.mm1)
    job = Job.objects.create(kind="import_customers", created_by=org.mm1.user)
    assert 'id="job-stuck"' not in client.get(f"/accounts/jobs/{job.pk}/").content.decode()  # just queued
    Job.objects.filter(pk=job.pk).update(created_at=timezone.now() - dt.timedelta(minutes=5))
    page = client.get(f"/accounts/jobs/{job.pk}/").content.decode()
    assert 'id="job-stuck"' in page and "已排队 5 分钟" in page
    other = Job.objects.create(kind="forecast_model", created_by=org.mm2.user, status=Job.Status.RUNNING)
    assert 'id="job-stuck"' not in client.get(f"/accounts/jobs/{job.pk}/").content.decode()
    other.delete()
    Job.objects.filter(pk=job.pk).update(status=Job.Status.RUNNING)  # the worker took it
    assert 'id="job-stuck"' not in client.get(f"/accounts/jobs/{job.pk}/").content.decode()
