"""A forecasting policy with a word the cycle or the model does not know is refused where it enters: on saving it
in the admin site, and on loading it from a file. It used to surface later, as a server error on every page that
read it."""

from __future__ import annotations

import copy
import json
import shutil

import pytest
from django.conf import settings

from kejing.core.models import PolicyDocument
from kejing.core.policies import load_policy_files, problems
from kejing.core.policy import PolicyError, load_policy
from kejing.forecasting import services

SHIPPED = load_policy("tobacco", "forecasting")


def test_the_shipped_policy_has_no_problems():
    assert problems("forecasting", SHIPPED) == []
    assert problems("no-module-checks-this", {"anything": 1}) == []


def test_each_unknown_word_is_named():
    bad = copy.deepcopy(SHIPPED)
    bad["cycle"]["holiday_rule"] = "monday"
    bad["cycle"]["submit_day"] = 40
    bad["model"]["spring_festival"] = "yes"
    bad["merge"]["order"] = ["cm", "cm"]
    found = services.check_policy(bad)
    assert len(found) == 4, found
    text = "\n".join(found)
    for word in ("holiday_rule", "'monday'", "submit_day", "spring_festival", "'yes'", "[merge] order"):
        assert word in text, word


def test_the_admin_site_refuses_to_save_it(org, login):
    org.admin.user.is_staff = org.admin.user.is_superuser = True
    org.admin.user.save()
    client = login(org.admin)
    doc = PolicyDocument.objects.get(industry="tobacco", name="forecasting")
    url = f"/admin/core/policydocument/{doc.pk}/change/"
    assert client.get(url).status_code == 200
    form = {
        "industry": doc.industry,
        "name": doc.name,
        "version": doc.version,
        "effective_from": doc.effective_from.isoformat(),
        "title": doc.title,
        "source_file": doc.source_file,
        "loaded_at_0": doc.loaded_at.date().isoformat(),
        "loaded_at_1": "00:00:00",
    }
    bad = copy.deepcopy(doc.data)
    bad["cycle"]["holiday_rule"] = "monday"
    response = client.post(url, {**form, "data": json.dumps(bad, ensure_ascii=False)})
    assert response.status_code == 200 and "holiday_rule" in response.content.decode()  # the form, with the error
    doc.refresh_from_db()
    assert doc.data["cycle"]["holiday_rule"] == "after_holiday"  # not saved
    good = copy.deepcopy(doc.data)
    good["cycle"]["holiday_rule"] = "keep"
    assert client.post(url, {**form, "data": json.dumps(good, ensure_ascii=False)}).status_code == 302
    doc.refresh_from_db()
    assert doc.data["cycle"]["holiday_rule"] == "keep" and services.policy()["cycle"]["holiday_rule"] == "keep"


def test_a_file_with_an_unknown_word_is_not_loaded(db, tmp_path, monkeypatch):
    shutil.copytree(settings.KEJING_POLICY_DIR, tmp_path / "policies")
    path = tmp_path / "policies" / "tobacco" / "forecasting.toml"
    path.write_text(path.read_text(encoding="utf-8").replace('holiday_rule = "after_holiday"', 'holiday_rule = "x"'))
    monkeypatch.setattr(settings, "KEJING_POLICY_DIR", tmp_path / "policies")
    with pytest.raises(PolicyError, match="forecasting.toml.*holiday_rule"):
        load_policy_files()
    assert not PolicyDocument.objects.exists()  # nothing of the load, not even the good files
