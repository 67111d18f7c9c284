"""The bill run against a hand-worked month, idempotency, resumption after an interruption, and agreement with
the per-record baseline. Prices are those of ``policies/telecom/groupbiz.toml``:

VPMN-10: monthly rent C 10.00 per member; 300 minutes included per member, then 0.05/min (item B).
MAS-300: package A 300.00 + port D 50.00 per group user; 10,000 messages pooled, then 0.05/message (B).
DATA-30: package A 30.00 per member; 3,072 MB included per member, then 0.0029/MB (B).
"""

from __future__ import annotations

import subprocess
import sys
import textwrap

import numpy as np
import pytest

from kejing.core.policy import load_policy
from kejing.groupbiz.engine.baseline import baseline_bill
from kejing.groupbiz.engine.billing import BillError, build_inputs, packages_from_policy, run_bill
from kejing.groupbiz.engine.generate import generate_month

PACKAGES = packages_from_policy(load_policy("telecom", "groupbiz"))


def month(plans=None, usage_extra=()):
    """EC 1 with total account 10 and sub-account 11; group users 100 (V-net), 101 (MAS), 102 (data);
    members 1, 2, 3 all in the V-net, 1 and 2 in the data group user."""
    group_users = [
        {"id": 100, "ec": 1, "package": "VPMN-10", "account": 10},
        {"id": 101, "ec": 1, "package": "MAS-300", "account": 10},
        {"id": 102, "ec": 1, "package": "DATA-30", "account": 11},
    ]
    members = [{"id": m, "ec": 1} for m in (1, 2, 3)]
    memberships = [{"member": m, "gu": 100} for m in (1, 2, 3)] + [{"member": m, "gu": 102} for m in (1, 2)]
    usage = [
        {"member": 1, "gu": 100, "kind": "minutes", "qty": 250},
        {"member": 1, "gu": 100, "kind": "minutes", "qty": 120},  # 370 in all
        {"member": 2, "gu": 100, "kind": "minutes", "qty": 300},
        {"member": 3, "gu": 100, "kind": "minutes", "qty": 301},
        {"member": None, "gu": 101, "kind": "messages", "qty": 12345},
        {"member": 1, "gu": 102, "kind": "mb", "qty": 4000},
        {"member": 2, "gu": 102, "kind": "mb", "qty": 3100},
        {"member": 3, "gu": 102, "kind": "mb", "qty": 100},  # member 3 is not in group user 102: rejected
        *usage_extra,
    ]
    charges = [
        {"ec": 1, "gu": 101, "member": None, "item": "I", "amount": "500.00"},
        {"ec": 1, "gu": 100, "member": 2, "item": "J", "amount": "12.34"},
    ]
    if plans is None:
        plans = [
            {"id": 1, "ec": 1, "member": None, "product": "VPMN", "item": "C", "account": 10, "cap": None},
            {"id": 2, "ec": 1, "member": None, "product": None, "item": "B", "account": 10, "cap": "3.00"},
            {"id": 3, "ec": 1, "member": 1, "product": "MOBDATA", "item": "A", "account": 11, "cap": "20.00"},
        ]
    return build_inputs("2026-03", PACKAGES, group_users, members, memberships, usage, charges, plans)


def test_hand_worked_month():
    res = run_bill(month())
    # Usage lines, each rounded half-up to the fen:
    #   member 1 V-net: 370 - 300 = 70 min × 0.05 = 3.50;   member 2: 300 - 300 = 0;   member 3: 1 × 0.05 = 0.05
    #   MAS pooled: 12,345 - 10,000 = 2,345 × 0.05 = 117.25 (group account 10)
    #   member 1 data: 4,000 - 3,072 = 928 MB × 0.0029 = 2.6912 → 2.69;  member 2: 28 × 0.0029 = 0.0812 → 0.08
    # Plans: 1 = every member's V-net rent C → account 10; 2 = every member's item B → account 10, cap 3.00;
    #   3 = member 1's data package A → sub-account 11, cap 20.00.
    #   member 1, B: V-net 3.50 first (group user 100 before 102) → 3.00 moved (cap), 0.50 left; data 2.69 left
    #   member 1, A: 30.00 → 20.00 moved (cap), 10.00 left
    #   member 2, B: 0.08 moved; A 30.00 and J 12.34 have no plan → left to member 2
    #   member 3, B: 0.05 moved
    assert res.account_totals() == {
        (10, "A"): 30000,  # MAS package 300.00
        (10, "B"): 12038,  # 117.25 + moved 3.00 + 0.08 + 0.05 = 120.38
        (10, "C"): 3000,  # three members' rent 3 × 10.00
        (10, "D"): 5000,  # MAS port 50.00
        (10, "I"): 50000,  # one-time 500.00
        (11, "A"): 2000,  # member 1's data package, capped at 20.00
    }
    assert {k: v for k, v in res.member_remainders().items() if v} == {
        (1, "A"): 1000,  # 30.00 - 20.00
        (1, "B"): 319,  # 0.50 + 2.69
        (2, "A"): 3000,
        (2, "J"): 1234,
    }
    # all fees: group's own 300 + 117.25 + 50 + 500 = 967.25; members' 46.19 + 52.42 + 10.05 = 108.66
    assert res.totals() == {"charged": 107591, "group": 102038, "members": 5553}
    ec = res.ec_totals()
    # B: 117.25 + 3.50 + 0.05 + 2.69 + 0.08 = 123.57, of which 120.38 paid by the group and 3.19 by member 1
    assert ec[(1, "B")] == {"total": 12357, "group": 12038, "members": 319}
    assert res.rejected_usage == 1


def test_baseline_agrees_on_the_hand_worked_month():
    x = month()
    base = baseline_bill(x)
    res = run_bill(x)
    assert base["accounts"] == res.account_totals()
    assert base["members"] == {k: v for k, v in res.member_remainders().items() if v}


def test_member_plan_beats_ec_plan_and_no_plan_means_member_pays():
    # only a member-specific plan on B for member 3, without cap; the EC-wide B plan is gone
    plans = [{"id": 9, "ec": 1, "member": 3, "product": None, "item": "B", "account": 11, "cap": None}]
    res = run_bill(month(plans=plans))
    totals = res.account_totals()
    assert totals[(11, "B")] == 5  # member 3's 0.05
    assert (10, "C") not in totals  # nobody pays rent for the members now
    assert res.member_remainders()[(1, "C")] == 1000


def test_same_inputs_same_key_and_bills():
    a, b = run_bill(month()), run_bill(month())
    assert a.run_key == b.run_key
    assert a.account_totals() == b.account_totals()
    extra = ({"member": 2, "gu": 100, "kind": "minutes", "qty": 10},)
    c = run_bill(month(usage_extra=extra))
    assert c.run_key != a.run_key
    # member 2 now has 310 minutes: 10 × 0.05 = 0.50 more on B, all moved under plan 2 (cap 3.00)
    assert c.account_totals()[(10, "B")] == a.account_totals()[(10, "B")] + 50


def test_duplicate_plans_are_refused():
    plans = [
        {"id": 1, "ec": 1, "member": None, "product": None, "item": "B", "account": 10, "cap": None},
        {"id": 2, "ec": 1, "member": None, "product": None, "item": "B", "account": 11, "cap": None},
    ]
    with pytest.raises(BillError, match="plan 2"):
        run_bill(month(plans=plans))


def test_generated_month_matches_baseline():
    x = generate_month(3000, seed=3)
    res = run_bill(x, chunk_members=700)
    assert res.chunks > 3
    base = baseline_bill(x)
    assert base["accounts"] == res.account_totals()
    assert base["members"] == {k: v for k, v in res.member_remainders().items() if v}


class Stop(Exception):
    pass


def test_interrupted_run_resumes_from_checkpoints(tmp_path):
    x = generate_month(3000, seed=5)
    full = run_bill(x, chunk_members=600)
    seen = []

    def die_after_two(done, total):
        seen.append((done, total))
        if done == 2:
            raise Stop

    with pytest.raises(Stop):
        run_bill(x, chunk_members=600, checkpoint_dir=tmp_path, progress=die_after_two)
    assert len(list((tmp_path / x.run_key()).glob("chunk-*.npz"))) == 2
    again = run_bill(x, chunk_members=600, checkpoint_dir=tmp_path)
    assert (again.chunks_loaded, again.chunks_computed) == (2, full.chunks - 2)
    assert again.account_totals() == full.account_totals()
    assert again.totals() == full.totals()
    for col in full.members:
        assert np.array_equal(again.members[col], full.members[col])


def test_killed_process_resumes(tmp_path):
    """A real kill: the child exits abruptly (no clean-up) after its second chunk; the parent resumes."""
    code = textwrap.dedent(
        f"""
        import os
        from kejing.groupbiz.engine.billing import run_bill
        from kejing.groupbiz.engine.generate import generate_month
        x = generate_month(3000, seed=5)
        def die(done, total):
            if done == 2:
                os._exit(9)
        run_bill(x, chunk_members=600, checkpoint_dir={str(tmp_path)!r}, progress=die)
        """
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True)
    assert proc.returncode == 9
    x = generate_month(3000, seed=5)
    again = run_bill(x, chunk_members=600, checkpoint_dir=tmp_path)
    assert again.chunks_loaded == 2
    assert again.totals() == run_bill(x, chunk_members=600).totals()


def test_bench_command_small(capsys):
    import json

    from kejing.cli import main

    assert main(["bench", "billrun", "--members", "2000", "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["members"] == 2000 and out["same_totals"] is True
    assert set(out) >= {"members", "usage_records", "seconds", "baseline_seconds", "speedup"}
