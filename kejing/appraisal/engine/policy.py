"""A typed, checked view of an industry's ``corps`` policy file (recruitment, grading and pay numbers).

Why check up front: the policy is edited by administrators, in TOML or in the admin site's JSON copy. A typo
found while a pay run is half done would be far worse than a refusal at load time, so :meth:`CorpsPolicy.from_dict`
reads every key once, converts numbers to ``Decimal``, checks that the parts add up (items to the form maximum,
weights to the review points, the three parts to the total) and raises :class:`CorpsPolicyError` naming the key.

Accepts both the TOML data (dates as ``datetime.date``) and the database copy (dates as ISO strings).
"""

from __future__ import annotations

import datetime as dt
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

from kejing.core.policy import PolicyError, load_policy

from .common import AppraisalError, to_decimal
from .messages import Text

POLICY_NAME = "corps"
READINGS = ("marginal", "flat")


class CorpsPolicyError(PolicyError):
    """The corps policy lacks a key or holds a value that cannot be used; the message names the key."""


_MISSING = object()


class _Node:
    """A table of the policy with its dotted path, so every complaint can say exactly where it is."""

    def __init__(self, data: Any, path: str, source: str) -> None:
        if not isinstance(data, Mapping):
            raise CorpsPolicyError(f"{source}: '{path}' must be a table")
        self.data = data
        self.path = path
        self.source = source

    def where(self, key: str | int) -> str:
        if isinstance(key, int):
            return f"{self.path}[{key}]"
        return f"{self.path}.{key}" if self.path else key

    def fail(self, key: str | int, problem: str) -> CorpsPolicyError:
        return CorpsPolicyError(f"{self.source}: '{self.where(key)}' {problem}")

    def raw(self, key: str, default: Any = _MISSING) -> Any:
        if key not in self.data:
            if default is _MISSING:
                raise self.fail(key, "is missing")
            return default
        return self.data[key]

    def node(self, key: str) -> _Node:
        value = self.raw(key)
        if not isinstance(value, Mapping):
            raise self.fail(key, "must be a table")
        return _Node(value, self.where(key), self.source)

    def nodes(self, key: str) -> list[_Node]:
        value = self.raw(key)
        if not isinstance(value, list) or not value:
            raise self.fail(key, "must be a non-empty list of tables")
        out = []
        for i, item in enumerate(value):
            if not isinstance(item, Mapping):
                raise self.fail(key, f"item {i} must be a table")
            out.append(_Node(item, f"{self.where(key)}[{i}]", self.source))
        return out

    def dec(self, key: str, default: Any = _MISSING, minimum: Decimal | int | None = 0) -> Decimal:
        value = self.raw(key, default)
        try:
            number = to_decimal(value)
        except AppraisalError:
            raise self.fail(key, f"must be a number, got {value!r}") from None
        if minimum is not None and number < minimum:
            raise self.fail(key, f"must be at least {minimum}, got {value!r}")
        return number

    def whole(self, key: str, default: Any = _MISSING, minimum: int | None = 0) -> int:
        value = self.raw(key, default)
        if isinstance(value, bool) or not isinstance(value, int):
            raise self.fail(key, f"must be a whole number, got {value!r}")
        if minimum is not None and value < minimum:
            raise self.fail(key, f"must be at least {minimum}, got {value!r}")
        return value

    def text(self, key: str, default: Any = _MISSING, choices: tuple[str, ...] | None = None) -> str:
        value = self.raw(key, default)
        if not isinstance(value, str) or not value:
            raise self.fail(key, f"must be a non-empty text, got {value!r}")
        if choices is not None and value not in choices:
            raise self.fail(key, f"must be one of {', '.join(choices)}, got {value!r}")
        return value

    def flag(self, key: str, default: Any = _MISSING) -> bool:
        value = self.raw(key, default)
        if not isinstance(value, bool):
            raise self.fail(key, f"must be true or false, got {value!r}")
        return value

    def date(self, key: str) -> dt.date:
        value = self.raw(key)
        if isinstance(value, dt.datetime):
            return value.date()
        if isinstance(value, dt.date):
            return value
        if isinstance(value, str):
            try:
                return dt.date.fromisoformat(value)
            except ValueError:
                pass
        raise self.fail(key, f"must be a date such as 2026-01-01, got {value!r}")

    def str_list(self, key: str, choices: tuple[str, ...] | None = None) -> tuple[str, ...]:
        value = self.raw(key)
        if not isinstance(value, list) or not value or not all(isinstance(v, str) and v for v in value):
            raise self.fail(key, "must be a non-empty list of texts")
        if choices is not None:
            for v in value:
                if v not in choices:
                    raise self.fail(key, f"holds {v!r}, which is not one of {', '.join(choices)}")
        if len(set(value)) != len(value):
            raise self.fail(key, "repeats a value")
        return tuple(value)


@dataclass(frozen=True)
class Choice:
    """A coded value with its Chinese and English labels (a level, a tier, a staff type...)."""

    code: str
    zh: str
    en: str

    def label(self, lang: str = "zh") -> str:
        return self.zh if lang == "zh" else self.en

    @property
    def text(self) -> Text:
        return Text(self.zh, self.en)


def _choices(node: _Node, key: str) -> tuple[Choice, ...]:
    out = []
    for item in node.nodes(key):
        out.append(Choice(item.text("code"), item.text("zh"), item.text("en")))
    codes = [c.code for c in out]
    if len(set(codes)) != len(codes):
        raise node.fail(key, "repeats a code")
    return tuple(out)


# ----------------------------------------------------------------------------------------------------------------
# Recruitment


@dataclass(frozen=True)
class WrittenCategory:
    code: str
    weight: Decimal  # percent of the written test
    zh: str
    en: str

    @property
    def text(self) -> Text:
        return Text(self.zh, self.en)


@dataclass(frozen=True)
class BasicConditions:
    min_age: int
    max_age: int
    min_education: str
    require_clean_record: bool


@dataclass(frozen=True)
class RecruitmentPolicy:
    written_points: Decimal
    interview_points: Decimal
    category_max: Decimal
    panel_mark_max: Decimal
    min_panelists: int
    interview_trim: bool
    grading_after_years: int
    prior_cm_years_for_direct_grading: Decimal
    categories: tuple[WrittenCategory, ...]
    basic: BasicConditions


# ----------------------------------------------------------------------------------------------------------------
# Grading


@dataclass(frozen=True)
class EducationLevel:
    code: str
    zh: str
    en: str
    matching: Decimal
    other: Decimal

    @property
    def text(self) -> Text:
        return Text(self.zh, self.en)


@dataclass(frozen=True)
class EducationPolicy:
    max_points: Decimal
    matching_majors: frozenset[str]  # compared case-folded
    levels: tuple[EducationLevel, ...]  # lowest schooling first
    certificates: Mapping[str, str]  # economics certificate level -> schooling level it counts as (matching)

    def level(self, code: str) -> EducationLevel:
        for lv in self.levels:
            if lv.code == code:
                return lv
        raise AppraisalError(f"unknown education level {code!r}")

    def rank(self, code: str) -> int:
        return [lv.code for lv in self.levels].index(code)

    def is_matching(self, major: str) -> bool:
        return major.strip().casefold() in self.matching_majors


@dataclass(frozen=True)
class YearsPolicy:
    min_years: int
    points_at_min: Decimal
    points_per_extra_year: Decimal
    max_points: Decimal


@dataclass(frozen=True)
class ExamPolicy:
    paper_max: Decimal
    weight_percent: Decimal

    @property
    def max_points(self) -> Decimal:
        return self.paper_max * self.weight_percent / 100


@dataclass(frozen=True)
class ReviewGroup:
    code: str
    zh: str
    en: str
    weight: Decimal  # points of the total
    min_reviews: int

    def label(self, lang: str = "zh") -> str:
        return self.zh if lang == "zh" else self.en

    @property
    def text(self) -> Text:
        return Text(self.zh, self.en)


@dataclass(frozen=True)
class ReviewItem:
    code: str
    zh: str
    en: str
    max: Decimal


@dataclass(frozen=True)
class ReviewPolicy:
    max_points: Decimal
    form_max: Decimal
    drop_highest: int
    drop_lowest: int
    groups: tuple[ReviewGroup, ...]
    items: tuple[ReviewItem, ...]

    def group(self, code: str) -> ReviewGroup:
        for g in self.groups:
            if g.code == code:
                return g
        raise AppraisalError(f"unknown reviewer group {code!r}")


@dataclass(frozen=True)
class Threshold:
    level: str
    tier: str
    min_total: Decimal


@dataclass(frozen=True)
class CertificatePolicy:
    levels: tuple[str, ...]  # marketer certificate levels, lowest first
    scheme_start: dt.date
    grace_years: int
    required: Mapping[str, str]  # CM level -> certificate level it needs

    def rank(self, cert: str) -> int:
        """-1 for no certificate, else the position in :attr:`levels`."""
        return self.levels.index(cert) if cert else -1


@dataclass(frozen=True)
class GradingPolicy:
    total_max: Decimal
    score_places: int
    basic_max: Decimal
    education: EducationPolicy
    years: YearsPolicy
    exam: ExamPolicy
    review: ReviewPolicy
    publication_days: int
    thresholds: tuple[Threshold, ...]  # highest grade first
    certificates: CertificatePolicy


# ----------------------------------------------------------------------------------------------------------------
# Pay


@dataclass(frozen=True)
class SeniorityBand:
    up_to: int | None  # last year of the band (inclusive); None for the open last band
    rate: Decimal  # yuan per year


@dataclass(frozen=True)
class SeniorityPolicy:
    staff_types: tuple[str, ...]
    min_years: int
    reading: str  # "marginal" or "flat"
    bands: tuple[SeniorityBand, ...]


@dataclass(frozen=True)
class PayPolicy:
    minimum_wage: Decimal
    ungraded_level: str
    ungraded_tier: str
    post: Mapping[str, Decimal]  # staff type -> post wage
    floating: Mapping[str, Decimal]  # level -> floating post wage
    performance_base: Mapping[str, Mapping[str, Decimal]]  # staff type -> level -> base
    coefficients: Mapping[str, Mapping[str, Decimal]]  # level -> tier -> coefficient
    rural_tier_bump: int
    seniority: SeniorityPolicy


# ----------------------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class CorpsPolicy:
    """Everything the recruitment, grading and pay engines need, checked and typed."""

    source: str
    version: str
    effective_from: dt.date
    title: str
    levels: tuple[Choice, ...]  # lowest first
    tiers: tuple[Choice, ...]  # lowest first (c, b, a)
    staff_types: tuple[Choice, ...]
    recruitment: RecruitmentPolicy
    grading: GradingPolicy
    pay: PayPolicy

    # -- lookups used by all engines -------------------------------------------------------------------------

    @property
    def level_codes(self) -> tuple[str, ...]:
        return tuple(c.code for c in self.levels)

    @property
    def tier_codes(self) -> tuple[str, ...]:
        return tuple(c.code for c in self.tiers)

    @property
    def staff_type_codes(self) -> tuple[str, ...]:
        return tuple(c.code for c in self.staff_types)

    def level_label(self, code: str, lang: str = "zh") -> str:
        return _label(self.levels, code, lang)

    def tier_label(self, code: str, lang: str = "zh") -> str:
        return _label(self.tiers, code, lang)

    def staff_type_label(self, code: str, lang: str = "zh") -> str:
        return _label(self.staff_types, code, lang)

    def grade_label(self, level: str, tier: str, lang: str = "zh") -> str:
        if lang == "zh":
            return f"{self.level_label(level, lang)}{self.tier_label(tier, lang)}"
        return f"{self.level_label(level, lang)} {self.tier_label(tier, lang)}"

    def level_text(self, code: str) -> Text:
        return Text(self.level_label(code, "zh"), self.level_label(code, "en"))

    def tier_text(self, code: str) -> Text:
        return Text(self.tier_label(code, "zh"), self.tier_label(code, "en"))

    def grade_text(self, level: str, tier: str) -> Text:
        return Text(self.grade_label(level, tier, "zh"), self.grade_label(level, tier, "en"))

    def staff_type_text(self, code: str) -> Text:
        return Text(self.staff_type_label(code, "zh"), self.staff_type_label(code, "en"))

    def cert_text(self, code: str) -> Text:
        """A marketer or economics certificate level, labelled like the CM level of the same code if any."""
        if not code:
            return Text("无", "none")
        return Text(self.level_label(code, "zh"), self.level_label(code, "en"))

    def grade_rank(self, level: str, tier: str) -> int:
        """0 for the lowest grade (junior c), rising by one per tier."""
        return self.level_codes.index(level) * len(self.tiers) + self.tier_codes.index(tier)

    # -- construction ----------------------------------------------------------------------------------------

    @classmethod
    def from_dict(cls, data: Mapping[str, Any], source: str = "corps policy") -> CorpsPolicy:
        root = _Node(data, "", source)
        meta = root.node("meta")
        corps = root.node("corps")
        levels = _choices(corps, "levels")
        tiers = _choices(corps, "tiers")
        staff_types = _choices(corps, "staff_types")
        level_codes = tuple(c.code for c in levels)
        tier_codes = tuple(c.code for c in tiers)
        type_codes = tuple(c.code for c in staff_types)
        grading = _grading(root.node("grading"), level_codes, tier_codes)
        recruitment = _recruitment(root.node("recruitment"), grading.education)
        pay = _pay(root.node("pay"), level_codes, tier_codes, type_codes)
        return cls(
            source=source,
            version=str(meta.raw("version")),
            effective_from=meta.date("effective_from"),
            title=meta.text("title"),
            levels=levels,
            tiers=tiers,
            staff_types=staff_types,
            recruitment=recruitment,
            grading=grading,
            pay=pay,
        )

    @classmethod
    def load(cls, industry_or_path: str, base: Path | None = None) -> CorpsPolicy:
        """The corps policy of an industry (``"tobacco"``) or of a ``.toml`` file given by path."""
        if industry_or_path.endswith(".toml"):
            path = Path(industry_or_path)
            try:
                data = tomllib.loads(path.read_text(encoding="utf-8"))
            except OSError as exc:
                raise CorpsPolicyError(f"cannot read policy file {path}: {exc}") from exc
            except tomllib.TOMLDecodeError as exc:
                raise CorpsPolicyError(f"{path}: {exc}") from exc
            return cls.from_dict(data, source=str(path))
        data = load_policy(industry_or_path, POLICY_NAME, base)
        return cls.from_dict(data, source=f"{industry_or_path}/{POLICY_NAME}.toml")


def _label(choices: tuple[Choice, ...], code: str, lang: str) -> str:
    for c in choices:
        if c.code == code:
            return c.label(lang)
    return code


def _recruitment(node: _Node, education: EducationPolicy) -> RecruitmentPolicy:
    categories = []
    for item in node.nodes("written_categories"):
        categories.append(WrittenCategory(item.text("code"), item.dec("weight"), item.text("zh"), item.text("en")))
    codes = [c.code for c in categories]
    if len(set(codes)) != len(codes):
        raise node.fail("written_categories", "repeats a code")
    if sum(c.weight for c in categories) != 100:
        raise node.fail("written_categories", "weights must add up to 100 (percent of the written test)")
    written = node.dec("written_points")
    interview = node.dec("interview_points")
    if written + interview != 100:
        raise node.fail("interview_points", "and written_points must add up to 100")
    basic = node.node("basic_conditions")
    education_codes = tuple(lv.code for lv in education.levels)
    conditions = BasicConditions(
        min_age=basic.whole("min_age"),
        max_age=basic.whole("max_age"),
        min_education=basic.text("min_education", choices=education_codes),
        require_clean_record=basic.flag("require_clean_record"),
    )
    if conditions.max_age < conditions.min_age:
        raise basic.fail("max_age", "must not be below min_age")
    return RecruitmentPolicy(
        written_points=written,
        interview_points=interview,
        category_max=node.dec("category_max", minimum=1),
        panel_mark_max=node.dec("panel_mark_max", minimum=1),
        min_panelists=node.whole("min_panelists", minimum=1),
        interview_trim=node.flag("interview_trim", False),
        grading_after_years=node.whole("grading_after_years"),
        prior_cm_years_for_direct_grading=node.dec("prior_cm_years_for_direct_grading"),
        categories=tuple(categories),
        basic=conditions,
    )


def _grading(node: _Node, levels: tuple[str, ...], tiers: tuple[str, ...]) -> GradingPolicy:
    places = node.whole("score_places", 2)

    edu = node.node("education")
    edu_levels = []
    for item in edu.nodes("levels"):
        edu_levels.append(
            EducationLevel(item.text("code"), item.text("zh"), item.text("en"), item.dec("matching"), item.dec("other"))
        )
    edu_codes = tuple(lv.code for lv in edu_levels)
    if len(set(edu_codes)) != len(edu_codes):
        raise edu.fail("levels", "repeats a code")
    edu_max = edu.dec("max_points")
    for i, lv in enumerate(edu_levels):
        if max(lv.matching, lv.other) > edu_max:
            raise edu.fail("levels", f"item {i} gives more than max_points {edu_max}")
    certs_node = edu.node("certificates")
    certs = {}
    for key in certs_node.data:
        certs[key] = certs_node.text(key, choices=edu_codes)
    education = EducationPolicy(
        max_points=edu_max,
        matching_majors=frozenset(m.casefold() for m in edu.str_list("matching_majors")),
        levels=tuple(edu_levels),
        certificates=certs,
    )

    yrs = node.node("years")
    years = YearsPolicy(
        yrs.whole("min_years", minimum=1),
        yrs.dec("points_at_min"),
        yrs.dec("points_per_extra_year"),
        yrs.dec("max_points"),
    )

    ex = node.node("exam")
    exam = ExamPolicy(ex.dec("paper_max", minimum=1), ex.dec("weight_percent"))

    rv = node.node("review")
    groups = []
    for item in rv.nodes("groups"):
        groups.append(
            ReviewGroup(
                item.text("code"),
                item.text("zh"),
                item.text("en"),
                item.dec("weight"),
                item.whole("min_reviews", minimum=1),
            )
        )
    items = []
    for item in rv.nodes("items"):
        items.append(ReviewItem(item.text("code"), item.text("zh"), item.text("en"), item.dec("max", minimum=0)))
    review = ReviewPolicy(
        max_points=rv.dec("max_points"),
        form_max=rv.dec("form_max", minimum=1),
        drop_highest=rv.whole("drop_highest"),
        drop_lowest=rv.whole("drop_lowest"),
        groups=tuple(groups),
        items=tuple(items),
    )
    if len({g.code for g in groups}) != len(groups):
        raise rv.fail("groups", "repeats a code")
    if len({i.code for i in items}) != len(items):
        raise rv.fail("items", "repeats a code")
    if sum(i.max for i in items) != review.form_max:
        raise rv.fail("items", f"maxima must add up to form_max {review.form_max}")
    if sum(g.weight for g in groups) != review.max_points:
        raise rv.fail("groups", f"weights must add up to max_points {review.max_points}")
    for i, g in enumerate(groups):
        if g.min_reviews < review.drop_highest + review.drop_lowest + 1:
            raise rv.fail(
                "groups",
                f"item {i} ({g.code}): min_reviews must leave at least one mark after "
                f"dropping {review.drop_highest} highest and {review.drop_lowest} lowest",
            )

    basic_max = node.node("basic").dec("max_points")
    total_max = node.dec("total_max")
    if basic_max + exam.max_points + review.max_points != total_max:
        raise node.fail(
            "total_max", f"must equal basic {basic_max} + exam {exam.max_points} + review {review.max_points}"
        )

    thresholds = []
    proposal = node.node("proposal")
    for item in proposal.nodes("thresholds"):
        thresholds.append(
            Threshold(item.text("level", choices=levels), item.text("tier", choices=tiers), item.dec("min_total"))
        )
    rank = {(lv, t): i * len(tiers) + j for i, lv in enumerate(levels) for j, t in enumerate(tiers)}
    thresholds.sort(key=lambda t: rank[(t.level, t.tier)], reverse=True)
    seen = set()
    for a, b in zip(thresholds, thresholds[1:], strict=False):
        if a.min_total <= b.min_total:
            raise proposal.fail("thresholds", f"{a.level}-{a.tier} must need a higher total than {b.level}-{b.tier}")
    for t in thresholds:
        if (t.level, t.tier) in seen:
            raise proposal.fail("thresholds", f"lists {t.level}-{t.tier} twice")
        seen.add((t.level, t.tier))

    ct = node.node("certificates")
    cert_levels = ct.str_list("levels")
    req_node = ct.node("required")
    required = {}
    for lv in levels:
        required[lv] = req_node.text(lv, choices=cert_levels)
    certificates = CertificatePolicy(cert_levels, ct.date("scheme_start"), ct.whole("grace_years"), required)

    return GradingPolicy(
        total_max=total_max,
        score_places=places,
        basic_max=basic_max,
        education=education,
        years=years,
        exam=exam,
        review=review,
        publication_days=node.node("publication").whole("days", minimum=1),
        thresholds=tuple(thresholds),
        certificates=certificates,
    )


def _pay(node: _Node, levels: tuple[str, ...], tiers: tuple[str, ...], types: tuple[str, ...]) -> PayPolicy:
    ungraded = node.node("ungraded_as")
    post_node = node.node("post")
    floating_node = node.node("floating")
    base_node = node.node("performance_base")
    coeff_node = node.node("coefficients")
    base = {}
    for st in types:
        sub = base_node.node(st)
        base[st] = {lv: sub.dec(lv) for lv in levels}
    coefficients = {}
    for lv in levels:
        sub = coeff_node.node(lv)
        coefficients[lv] = {t: sub.dec(t) for t in tiers}

    sn = node.node("seniority")
    bands = []
    band_nodes = sn.nodes("bands")
    previous = 0
    for i, item in enumerate(band_nodes):
        last = i == len(band_nodes) - 1
        up_to = item.raw("up_to", None)
        if last and up_to is not None:
            raise item.fail("up_to", "must be left out in the last band (it has no upper end)")
        if not last:
            up_to = item.whole("up_to", minimum=previous + 1)
            previous = up_to
        bands.append(SeniorityBand(up_to, item.dec("rate")))
    seniority = SeniorityPolicy(
        staff_types=sn.str_list("staff_types", choices=types),
        min_years=sn.whole("min_years"),
        reading=sn.text("reading", choices=READINGS),
        bands=tuple(bands),
    )
    return PayPolicy(
        minimum_wage=node.dec("minimum_wage", 0),
        ungraded_level=ungraded.text("level", choices=levels),
        ungraded_tier=ungraded.text("tier", choices=tiers),
        post={st: post_node.dec(st) for st in types},
        floating={lv: floating_node.dec(lv) for lv in levels},
        performance_base=base,
        coefficients=coefficients,
        rural_tier_bump=node.node("rural").whole("tier_bump"),
        seniority=seniority,
    )


def load_corps_policy(industry_or_path: str, base: Path | None = None) -> CorpsPolicy:
    """Shorthand for :meth:`CorpsPolicy.load`."""
    return CorpsPolicy.load(industry_or_path, base)
