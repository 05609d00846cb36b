"""Performance status (ECOG, WHO, Karnofsky, Lansky) and life expectancy."""

from __future__ import annotations

import time
from pathlib import Path

import pytest
import yaml

from trialgraph.extract import performance
from trialgraph.model import Criterion, CriterionKind, LifeExpectancyConstraint, PerformanceConstraint

DATA = Path(__file__).resolve().parents[1] / "data" / "extraction"


def scores(text: str, kind: CriterionKind = "inclusion") -> list[tuple[str, float | None, float | None]]:
    found = performance.extract_performance(Criterion(kind=kind, ordinal=1, text=text))
    for c in found:
        assert isinstance(c, PerformanceConstraint)
        assert text[c.start : c.end] == c.text
        assert any(ch.isdigit() for ch in c.text)
    return [(c.scale, c.min_value, c.max_value) for c in found]


def months(text: str, kind: CriterionKind = "inclusion") -> list[tuple[float, bool]]:
    found = performance.extract_life_expectancy(Criterion(kind=kind, ordinal=1, text=text))
    for c in found:
        assert isinstance(c, LifeExpectancyConstraint)
        assert text[c.start : c.end] == c.text
        assert any(ch.isdigit() for ch in c.text)
    return [(round(c.min_months, 3), c.min_inclusive) for c in found]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("ECOG 0-1", ("ECOG", 0, 1)),
        ("ECOG performance status 0-2.", ("ECOG", 0, 2)),
        ("ECOG ≤ 2", ("ECOG", None, 2)),
        ("ECOG PS < 2", ("ECOG", None, 1)),
        ("ECOG performance status of 2 or less", ("ECOG", None, 2)),
        ("Eastern Cooperative Oncology Group (ECOG) performance status of 0 to 1", ("ECOG", 0, 1)),
        ("ECOG score of 0, 1, or 2", ("ECOG", 0, 2)),
        ("ECOG PS of 0 or 1", ("ECOG", 0, 1)),
        ("ECOG 0,1", ("ECOG", 0, 1)),
        ("ECOG performance status between 0 and 2", ("ECOG", 0, 2)),
        ("ECOG performance status =< 2", ("ECOG", None, 2)),
        ("Zubrod performance status 0-2", ("ECOG", 0, 2)),
        ("WHO performance status 0-1", ("WHO", 0, 1)),
        ("World Health Organization (WHO) performance status ≤ 1", ("WHO", None, 1)),
        ("WHO/ECOG PS of 0-1 at enrolment", ("ECOG", 0, 1)),
        ("Performance status (WHO) 0-2", ("WHO", 0, 2)),
        ("Karnofsky ≥ 70%", ("KARNOFSKY", 70, None)),
        ("KPS ≥ 70", ("KARNOFSKY", 70, None)),
        ("KPS (Karnofsky Performance Status) score ≥ 80;", ("KARNOFSKY", 80, None)),
        ("Karnofsky performance status > 60%", ("KARNOFSKY", 70, None)),
        ("Karnofsky 70-100%", ("KARNOFSKY", 70, 100)),
        ("Karnofsky Performance Status > or = to 60%", ("KARNOFSKY", 60, None)),
        ("Lansky play-performance scale ≥ 50", ("LANSKY", 50, None)),
        ("Performance status 0-1", ("ECOG", 0, 1)),
        ("Performance status ≥ 70%", ("KARNOFSKY", 70, None)),
        ("PS 0-2", ("ECOG", 0, 2)),
        ("Child-Pugh class A with a WHO/ECOG PS of 2 at enrolment", ("ECOG", 2, 2)),
    ],
)
def test_performance_forms(text: str, expected: tuple[str, float | None, float | None]) -> None:
    assert scores(text) == [expected]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("ECOG ≥ 2", ("ECOG", None, 1)),
        ("ECOG performance status > 2", ("ECOG", None, 2)),
        ("ECOG 3-4", ("ECOG", None, 2)),
        ("ECOG performance status of 2 or more", ("ECOG", None, 1)),
        ("Karnofsky < 70%", ("KARNOFSKY", 70, None)),
        ("WHO performance status ≥ 2", ("WHO", None, 1)),
    ],
)
def test_exclusion_performance_is_the_complement(
    text: str, expected: tuple[str, float | None, float | None]
) -> None:
    assert scores(text, "exclusion") == [expected]


def test_inclusion_stated_as_excluded() -> None:
    assert scores("Patients with ECOG performance status ≥ 2 are not eligible") == [("ECOG", None, 1)]


def test_not_one_range_in_an_exclusion() -> None:
    assert scores("ECOG 1-2", "exclusion") == []


def test_several_scales() -> None:
    assert scores("ECOG 0-1 or Karnofsky ≥ 70%") == [("ECOG", 0, 1), ("KARNOFSKY", 70, None)]


@pytest.mark.parametrize(
    "text",
    [
        "ECOG performance status assessed within 14 days of registration",
        "Evaluation of ECOG is to be performed within 7 days",
        "Performance status of < 2, unless PS of 3-4 based solely on bone pain",
        "ECOG 7",
        "KPS 150",
        "PSA ≥ 2 ng/mL",
        "Who have received ≥ 2 prior lines",
        "Child-Pugh score ≤ 7",
    ],
)
def test_not_a_performance_status(text: str) -> None:
    found = scores(text)
    if text.startswith("Performance status of < 2"):
        assert found == [("ECOG", None, 1)]
    else:
        assert found == []


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Life expectancy ≥ 12 weeks", (2.769, True)),
        ("Life expectancy of at least 3 months", (3.0, True)),
        ("Expected survival ≥ 3 months.", (3.0, True)),
        ("Life expectancy > 6 months", (6.0, False)),
        ("Estimated life expectancy greater than 3 months;", (3.0, False)),
        ("Minimum life expectancy of 12 weeks", (2.769, True)),
        ("Life expectancy of 12 weeks", (2.769, True)),
        ("Have a predicted life expectancy of \\>12 weeks", (2.769, False)),
        ("Have an estimated survival of ≥90 days after BNCT.", (2.967, True)),
        ("Life expectancy of at least 1 year", (12.0, True)),
        ("Life expectancy of 3 months or more", (3.0, True)),
        ("Life expectancy (in the opinion of the investigator) of at least 6 months", (6.0, True)),
    ],
)
def test_life_expectancy(text: str, expected: tuple[float, bool]) -> None:
    assert months(text) == [expected]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Life expectancy < 3 months", (3.0, True)),
        ("Life expectancy of less than 12 weeks", (2.769, True)),
    ],
)
def test_exclusion_life_expectancy(text: str, expected: tuple[float, bool]) -> None:
    assert months(text, "exclusion") == [expected]


@pytest.mark.parametrize(
    "text",
    [
        "Male patients aged >18 and ≤70 years, or with an estimated life expectancy >10 years.",
        "Life expectancy < 6 months",  # an upper limit cannot be represented
        "Life expectancy sufficient to complete the study",
        "Overall survival ≥ 3 months",
    ],
)
def test_no_life_expectancy(text: str) -> None:
    assert months(text) == []


PATHOLOGICAL = [
    "≥" * 50_000,
    "ECOG " * 20_000,
    "ECOG " + "0, " * 20_000,
    "ECOG performance status " * 10_000,
    "life expectancy of " * 5_000,
    "Karnofsky " + "(" * 30_000,
    "1" * 100_000,
    "PS " * 30_000,
    "ECOG" + " " * 100_000 + "0",
    "\\>" * 50_000,
]


@pytest.mark.parametrize("text", PATHOLOGICAL, ids=range(len(PATHOLOGICAL)))
def test_pathological_inputs_are_fast(text: str) -> None:
    start = time.perf_counter()
    performance.extract(Criterion(kind="inclusion", ordinal=1, text=text))
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
    found = performance.extract(Criterion(kind="inclusion", ordinal=1, text=text))
    assert time.perf_counter() - start < 10.0  # generous: catastrophic backtracking takes minutes
    assert found
