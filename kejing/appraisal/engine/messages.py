"""The sentences of the engine's explanations, in Chinese and English.

Why a catalog here and not gettext: the engine must stay free of Django, yet a CM reads "how was this computed"
in Chinese and an auditor may want English. Each explanation is stored as a key plus arguments
(:class:`~.common.Line`) and rendered here; arguments that are themselves labels (a level, a group) are passed as
:class:`Text` so they follow the chosen language too.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Text:
    """A label with a Chinese and an English form."""

    zh: str
    en: str

    def get(self, lang: str) -> str:
        return self.zh if lang == "zh" else self.en

    def __str__(self) -> str:
        return self.zh


MESSAGES: dict[str, tuple[str, str]] = {
    # recruitment
    "rec.age": ("年龄 {age} 岁(要求 {min}–{max} 岁)", "age {age} (allowed {min}–{max})"),
    "rec.age_out": ("年龄 {age} 岁不在 {min}–{max} 岁之间", "age {age} is outside {min}–{max}"),
    "rec.edu_ok": ("学历 {edu},不低于要求的 {min}", "schooling {edu} meets the minimum {min}"),
    "rec.edu_low": ("学历 {edu} 低于要求的 {min}", "schooling {edu} is below the minimum {min}"),
    "rec.record": ("有违纪记录,不符合报名条件", "has a disciplinary record, which the policy excludes"),
    "rec.category": ("{name}:{mark}/{max} × {weight}% = {part}", "{name}: {mark}/{max} × {weight}% = {part}"),
    "rec.written": (
        "笔试合计 {percent} 分(百分制)× {points}/100 = {result} 分",
        "written test {percent} of 100 × {points}/100 = {result} points",
    ),
    "rec.panel": ("{n} 位评委打分:{marks}", "{n} panelists marked: {marks}"),
    "rec.interview": (
        "评委平均分 {mean}/{max} × {points} = {result} 分",
        "mean panel mark {mean}/{max} × {points} = {result} points",
    ),
    "rec.combined": (
        "笔试 {written} + 面试 {interview} = 综合 {result} 分",
        "written {written} + interview {interview} = combined {result}",
    ),
    "trim.drop": ("去掉最高分 {high},去掉最低分 {low}", "highest {high} and lowest {low} dropped"),
    # grading: eligibility
    "grade.cm_since": (
        "{start} 起任客户经理,此前客户经理工作 {prior} 年",
        "CM since {start}, with {prior} years of earlier CM work",
    ),
    "grade.elig_prior": (
        "此前已有 {prior} 年客户经理经历,可直接参评",
        "{prior} years of earlier CM work: may be graded at once",
    ),
    "grade.elig_after": (
        "任职满 {years} 年后可参评,即 {since} 起",
        "may be graded after {years} year(s), i.e. from {since}",
    ),
    "grade.elig_yes": ("评定日 {on} 已满足参评条件(自 {since} 起)", "on {on} the CM is eligible (since {since})"),
    "grade.elig_no": ("评定日 {on} 尚不能参评,{since} 起方可", "on {on} the CM is not yet eligible (from {since})"),
    # grading: basic conditions
    "grade.edu_degree": (
        "学历 {edu},专业 {major}({kind}):{points} 分",
        "schooling {edu}, major {major} ({kind}): {points}",
    ),
    "grade.edu_cert": (
        "{cert}经济类资格证书按{edu}(对口)计:{points} 分",
        "{cert} economics certificate counts as matching {edu}: {points}",
    ),
    "grade.edu_best": ("取较高者,学历分 {points}(上限 {max})", "the better of the two: {points} (cap {max})"),
    "grade.years_sum": (
        "本岗 {months} 个月 ÷ 12 + 此前客户经理 {prior} 年 + 其他相关工作 {other} 年 = {exact} 年,计满 {years} 年",
        "{months} months here ÷ 12 + {prior} earlier CM years + {other} other qualifying years = "
        "{exact}, i.e. {years} full years",
    ),
    "grade.years_none": ("不满 {min} 年,年限分 0", "fewer than {min} full year(s): 0 points"),
    "grade.years_points": (
        "{first} + {extra} × {per} = {raw},上限 {max},年限分 {points}",
        "{first} + {extra} × {per} = {raw}, cap {max}: {points} points",
    ),
    "grade.basic": (
        "学历 {edu} + 年限 {years} = {raw}(上限 {max}),基本条件 {points} 分",
        "schooling {edu} + years {years} = {raw} (cap {max}): basic conditions {points}",
    ),
    # grading: exam and review
    "grade.exam": ("试卷 {mark}/{max} × {weight}% = {points} 分", "paper {mark}/{max} × {weight}% = {points} points"),
    "grade.no_exam": ("缺专业考试成绩", "no professional exam mark yet"),
    "grade.group_marks": ("{group}共 {n} 份:{marks}", "{group}: {n} forms: {marks}"),
    "grade.group_mean": ("其余 {n} 份平均 {mean}", "mean of the remaining {n}: {mean}"),
    "grade.group_points": ("{mean} × {weight}/{max} = {points} 分", "{mean} × {weight}/{max} = {points} points"),
    "grade.group_short": (
        "{group}只有 {n} 份,至少需要 {min} 份,该组不能结束",
        "{group}: {n} forms, at least {min} needed before the group can be closed",
    ),
    "grade.review": ("各组相加:{parts} = {points} 分", "sum of the groups: {parts} = {points} points"),
    "grade.total": (
        "基本条件 {basic} + 专业考试 {exam} + 综合评议 {review} = 总分 {total}",
        "basic {basic} + exam {exam} + review {review} = total {total}",
    ),
    # grading: proposal and certificates
    "grade.threshold": ("总分 {total} ≥ {min},建议定为{grade}", "total {total} ≥ {min}: proposed {grade}"),
    "grade.below": (
        "总分 {total} 低于最低线 {min},暂不定级",
        "total {total} is below the lowest cut-off {min}: no grade",
    ),
    "grade.cert_advisory": (
        "{level}需{cert}营销员资格证书(现有:{held});目前仅供参考,{deadline} 起为必备条件",
        "{level} needs a {cert} marketer certificate (held: {held}); advisory now, required from {deadline}",
    ),
    "grade.cert_none": (
        "{level}需{cert}营销员资格证书(现有:{held}),证书不足以定任何级别",
        "{level} needs a {cert} marketer certificate (held: {held}); no level is covered",
    ),
    "grade.cert_capped": (
        "{level}需{cert}营销员资格证书(现有:{held}),按证书降为{grade}",
        "{level} needs a {cert} marketer certificate (held: {held}); lowered to {grade}",
    ),
    # pay
    "pay.not_started": ("{start} 才任客户经理,本月不计薪", "CM only from {start}: no pay this month"),
    "pay.grade": ("本月适用{grade}(自 {since} 起)", "grade this month: {grade} (since {since})"),
    "pay.grade_ungraded": ("尚未定级,按{grade}计", "not graded yet: paid as {grade}"),
    "pay.ungraded": ("尚未定级,按政策规定的{grade}发放", "no grade yet: the policy pays {grade}"),
    "pay.post": ("{type}基本岗位工资 {amount}", "post wage for {type}: {amount}"),
    "pay.floating": ("{level}岗位浮动工资 {amount}", "floating post wage for {level}: {amount}"),
    "pay.sen_years": ("{start} 至 {end} 任客户经理满 {years} 年", "{years} full years as CM from {start} to {end}"),
    "pay.sen_short": (
        "满 {years} 年,不足 {min} 年,无年功工资",
        "{years} full years, fewer than {min}: no seniority wage",
    ),
    "pay.sen_marginal": ("分段累计:{parts} = {amount}", "each band at its own rate: {parts} = {amount}"),
    "pay.sen_flat": (
        "全部 {years} 年按所达档次每年 {rate} 元:{amount}",
        "all {years} years at the reached band's rate {rate}: {amount}",
    ),
    "pay.sen_reading": ("年功工资按{reading}计算", "seniority bands read as {reading}"),
    "pay.sen_not_type": ("{type}不享受年功工资", "{type}: no seniority wage"),
    "pay.rural_bump": ("农村客户经理上浮一档:{tier} → {new}", "rural CM, one tier up: {tier} → {new}"),
    "pay.rural_top": ("农村客户经理,已是最高档 {tier},不再上浮", "rural CM already at the top tier {tier}: no bump"),
    "pay.performance": (
        "效益工资:{type}{level}基数 {base} × {grade}系数 {coefficient} = {amount}",
        "performance wage: {type} {level} base {base} × {grade} coefficient {coefficient} = {amount}",
    ),
    "pay.below_minimum": (
        "合计 {total} 低于参考最低工资 {minimum}",
        "total {total} is below the reference minimum wage {minimum}",
    ),
}

LABELS: dict[str, Text] = {
    "matching": Text("对口", "matching"),
    "other": Text("非对口", "not matching"),
    "marginal": Text("分段累计", "marginal bands"),
    "flat": Text("按所达档次统一计", "flat rate of the band reached"),
    "-": Text("无", "none"),
}


def render(key: str, args: Mapping[str, Any], lang: str = "zh") -> str:
    """The sentence for ``key`` in ``lang`` (``"zh"`` or anything else for English)."""
    zh, en = MESSAGES[key]
    template = zh if lang == "zh" else en
    values = {k: (v.get(lang) if isinstance(v, Text) else v) for k, v in args.items()}
    return template.format(**values)
