"""Age and sex constraints: the forms ages are written in, sense, and conservative sex reading."""

from __future__ import annotations

import time
from pathlib import Path

import pytest
import yaml

from trialgraph.extract import demographics
from trialgraph.model import AgeConstraint, Criterion, CriterionKind, SexConstraint

DATA = Path(__file__).resolve().parents[1] / "data" / "extraction"


def ages(text: str, kind: CriterionKind = "inclusion") -> list[tuple[float | None, float | None, bool, bool]]:
    """(min, max, min inclusive, max inclusive) of each age constraint, checking its span."""
    criterion = Criterion(kind=kind, ordinal=1, text=text)
    found = demographics.extract_age(criterion)
    for c in found:
        assert isinstance(c, AgeConstraint)
        assert text[c.start : c.end] == c.text
        assert any(ch.isdigit() for ch in c.text)
    return [
        (
            None if c.min_years is None else round(c.min_years, 3),
            None if c.max_years is None else round(c.max_years, 3),
            c.min_inclusive,
            c.max_inclusive,
        )
        for c in found
    ]


def sexes(text: str, kind: CriterionKind = "inclusion") -> list[str]:
    found = demographics.extract_sex(Criterion(kind=kind, ordinal=1, text=text))
    for c in found:
        assert isinstance(c, SexConstraint)
        assert text[c.start : c.end] == c.text
    return [c.sex for c in found]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("aged ≥ 18 years", (18, None, True, True)),
        ("18-75 years old", (18, 75, True, True)),
        ("Age 18-70 years, any gender.", (18, 70, True, True)),
        ("Male patients aged >18 and ≤70 years", (18, 70, False, True)),
        ("at least 18 years of age", (18, None, True, True)),
        ("≥ 20 years", (20, None, True, True)),
        ("Patients ≥ 20 years", (20, None, True, True)),
        ("Age >= 18 years old", (18, None, True, True)),
        ("Age: 18-65", (18, 65, True, True)),
        ("Aged between 18 and 75 years", (18, 75, True, True)),
        ("between the ages of 30 and 65 years", (30, 65, True, True)),
        ("from 18 to 80 years of age", (18, 80, True, True)),
        ("over the age of 18", (18, None, False, True)),
        ("under the age of 75 years", (None, 75, True, False)),
        ("Aged over 20 years at the time of consent.", (20, None, False, True)),
        ("Age 12 years or above at the time of signing the informed consent.", (12, None, True, True)),
        ("Patients who are 20 years of age or older at the time of consent", (20, None, True, True)),
        ("Participant must be 18 to 75 years of age (inclusive)", (18, 75, True, True)),
        ("Is 19 to 70 (inclusive) years old at Visit 1", (19, 70, True, True)),
        ("18-year-old or older", (18, None, True, True)),
        ("Male and female patients, 8 months of age or older", (0.667, None, True, True)),
        ("Aged 18 months to 75 years", (1.5, 75, True, True)),
        ("Age ≥ 18 and ≤ 75 yrs", (18, 75, True, True)),
        ("age at screening ≥ 18 years", (18, None, True, True)),
        ("Age at the time of signing informed consent: 18 years or older", (18, None, True, True)),
        ("men or women aged 18 years or greater", (18, None, True, True)),
        ("Age greater than (\\>) 18 years", (18, None, False, True)),
        ("Patient must be greater than/equal to 18 years old", (18, None, True, True)),
        ("Infants less than 4 weeks old", (None, 0.077, True, False)),
        ("Patients ≥ 18 years old with a tear of the rotator cuff", (18, None, True, True)),
    ],
)
def test_age_forms(text: str, expected: tuple[float | None, float | None, bool, bool]) -> None:
    assert ages(text) == [expected]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Age < 18 years", (18, None, True, True)),
        ("Age > 75 years", (None, 75, True, True)),
        ("Aged 80 years or older", (None, 80, True, False)),
        ("Patients younger than 18 years", (18, None, True, True)),
        ("Age < 18 or > 75 years", (18, 75, True, True)),
    ],
)
def test_exclusion_ages_are_inverted(
    text: str, expected: tuple[float | None, float | None, bool, bool]
) -> None:
    assert ages(text, "exclusion") == [expected]


def test_exclusion_range_is_not_one_interval() -> None:
    assert ages("Aged 18-65 years", "exclusion") == []


def test_life_expectancy_alternative_relaxes_the_upper_age() -> None:
    text = "Male patients aged >18 and ≤70 years, or with an estimated life expectancy >10 years."
    assert ages(text) == [(18, None, False, True)]


@pytest.mark.parametrize(
    "text",
    [
        "Disease-free for ≥ 5 years before enrollment",
        "Other malignancy within the past 3 years",
        "Transient ischemic attack (<5 years ago)",
        "At least 3 months since prior radiotherapy",
        "At least 3 months",
        "History of smoking ≥ 10 pack-years",
        "If < 16 years of age at disease onset, the ILAR criteria apply",
        "Creatinine ≤ 1.5 mg/dL for patients > 60 years old",
        "Female participants must be 1 year post-menopausal",
        "age-related macular degeneration for at least 2 years",
        "Fibrosis 4 Score Formula: (Age * AST)/ (Platelets * [square root of ALT])",
        "Age",
        "Legal minimum age requirement (country-specific).",
        "ECOG 0-1",
        "Life expectancy > 10 years",
        # the age of a thing: NCT02591810 (../shared/data/ctgov_xml/aact/NCT02591810.xml), inclusion 3
        # and exclusion 2, were read as "at most 4 weeks old", which no adult patient is
        "Have an acute (less than 4 week old) injury with instability of the DRUJ.",
        "Patients with an injury over 4 weeks old,",
        "Fracture more than 2 weeks old",
        "Archival tumor tissue less than 2 years old",
    ],
)
def test_not_an_age(text: str) -> None:
    assert ages(text) == []


@pytest.mark.parametrize(
    ("text", "kind", "expected"),
    [
        ("Male patients aged >18 and ≤70 years", "inclusion", ["MALE"]),
        ("Males ≥ 18 years of age", "inclusion", ["MALE"]),
        ("Men aged 40 or older", "inclusion", ["MALE"]),
        ("Women with histologically confirmed breast cancer", "inclusion", ["FEMALE"]),
        ("Female participants with ovarian cancer", "inclusion", ["FEMALE"]),
        ("Postmenopausal women with ER-positive disease", "inclusion", ["FEMALE"]),
        ("Sex: female", "inclusion", ["FEMALE"]),
        ("Patients must be male", "inclusion", ["MALE"]),
        ("Men", "exclusion", ["FEMALE"]),
        ("Age 18-70 years, any gender.", "inclusion", []),
        ("Male or female patients", "inclusion", []),
        ("Male/female participants who are at least 18 years of age", "inclusion", []),
        ("Males and females, ≥18 years of age", "inclusion", []),
        ("Men and women aged 18 or older", "inclusion", []),
        ("Female partners of male patients must use contraception", "inclusion", []),
        ("Female participants: a female participant is eligible if she is not pregnant", "inclusion", []),
        ("Male participants:", "inclusion", []),
        ("A male participant must agree to use contraception", "inclusion", []),
        ("Women of childbearing potential must have a negative pregnancy test", "inclusion", []),
        ("Women who are pregnant or breastfeeding", "exclusion", []),
        ("Pregnant or breastfeeding women", "exclusion", []),
        ("Post-menopausal women (more than 1 year since the last menstrual period)", "exclusion", []),
        ("Patients with prostate cancer", "inclusion", []),
    ],
)
def test_sex(text: str, kind: CriterionKind, expected: list[str]) -> None:
    assert sexes(text, kind) == expected


def test_extract_orders_by_position() -> None:
    found = demographics.extract(Criterion(kind="inclusion", ordinal=3, text="Males ≥ 18 years of age"))
    assert [c.family for c in found] == ["sex", "age"]
    assert all((c.criterion_kind, c.criterion_ordinal) == ("inclusion", 3) for c in found)


PATHOLOGICAL = [
    "≥" * 50_000,
    "age " * 20_000,
    "aged " + "of " * 30_000,
    "1" * 100_000,
    "18 " * 30_000 + "years",
    "18-" * 30_000,
    "between " * 20_000,
    " " * 100_000 + "age",
    "Male " * 20_000,
    "18 years or " * 10_000,
    "\\<" * 50_000,
]


@pytest.mark.parametrize("text", PATHOLOGICAL, ids=range(len(PATHOLOGICAL)))
def test_pathological_inputs_are_fast(text: str) -> None:
    start = time.perf_counter()
    demographics.extract(Criterion(kind="inclusion", ordinal=1, text=text))
    assert time.perf_counter() - start < 5.0  # generous: catastrophic backtracking takes minutes


def test_one_megabyte_is_fast() -> None:
    texts = [
        case["text"]
        for name in ("seeds.yaml", "ctgov_criteria.yaml")
        for case in yaml.safe_load((DATA / name).read_text(encoding="utf-8"))
    ]
    block = " ".join(texts)
    text = (block + " ") * (1_000_000 // len(block) + 1)
    start = time.perf_counter()
    found = demographics.extract(Criterion(kind="inclusion", ordinal=1, text=text))
    assert time.perf_counter() - start < 10.0  # generous: catastrophic backtracking takes minutes
    assert found
