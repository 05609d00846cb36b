"""Other-malignancy constraints: the hand annotations, windows, carve-outs, sense and linear time."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import pytest
import yaml

from trialgraph.extract import malignancy
from trialgraph.model import Criterion, CriterionKind, MalignancyConstraint

DATA = Path(__file__).resolve().parents[1] / "data" / "extraction" / "malignancy.yaml"


def read(
    text: str, kind: CriterionKind = "exclusion", ordinal: int = 1
) -> list[tuple[float | None, str | None]]:
    """(within_years, except_text) of each malignancy constraint, checking spans and provenance."""
    criterion = Criterion(kind=kind, ordinal=ordinal, text=text)
    found = malignancy.extract(criterion)
    pairs = []
    for c in found:
        assert isinstance(c, MalignancyConstraint)
        assert text[c.start : c.end] == c.text and c.text
        assert (c.criterion_kind, c.criterion_ordinal) == (kind, ordinal)
        if c.except_text is not None:
            assert c.except_text in c.text
        pairs.append((c.within_years, c.except_text))
    return pairs


def _cases() -> list[Any]:
    params = []
    for case in yaml.safe_load(DATA.read_text(encoding="utf-8")):
        marks = [pytest.mark.xfail(reason=case["xfail"], strict=True)] if case.get("xfail") else []
        params.append(pytest.param(case, id=case["id"], marks=marks))
    return params


CASES = _cases()


@pytest.mark.parametrize("case", CASES)
def test_annotated_criterion(case: dict[str, Any]) -> None:
    found = read(case["text"], case["kind"], case.get("number", 1))
    expected = [(e["within_years"], e["except_text"]) for e in case["expected"]]
    assert found == expected


def test_annotations_are_substantial() -> None:
    cases = [p.values[0] for p in CASES]
    assert len({c["nct_id"] for c in cases if "nct_id" in c}) >= 15
    assert sum(not c["expected"] for c in cases) >= 10, "criteria without constraints guard false positives"


@pytest.mark.parametrize(
    ("text", "kind", "expected"),
    [
        ("History of other malignancy", "exclusion", [(None, None)]),
        ("No history of other malignancy", "inclusion", [(None, None)]),
        ("History of other malignancy", "inclusion", []),
        ("Histologically confirmed malignancy", "inclusion", []),
        ("Other malignancy within the past 5 years", "exclusion", [(5.0, None)]),
        ("Prior malignancy within 3 years", "exclusion", [(3.0, None)]),
        ("Second primary cancer in the last 24 months", "exclusion", [(2.0, None)]),
        ("Another malignancy during the previous five years", "exclusion", [(5.0, None)]),
        (
            "Other malignancy, except adequately treated basal cell carcinoma or carcinoma in situ"
            " of the cervix.",
            "exclusion",
            [(None, "except adequately treated basal cell carcinoma or carcinoma in situ of the cervix")],
        ),
        ("Active malignancy other than prostate cancer", "exclusion", [(None, None)]),
        ("Prior anti-cancer therapy within 28 days", "exclusion", []),
        ("Malignant pleural effusion", "exclusion", []),
        ("Non-malignant bone disease", "exclusion", []),
        ("Prior cancer immunotherapy", "exclusion", []),
    ],
)
def test_forms(text: str, kind: CriterionKind, expected: list[tuple[float | None, str | None]]) -> None:
    assert read(text, kind) == expected


PATHOLOGICAL = [
    "other " * 17_000 + "malignancy",
    "malignancy " * 9_000,
    "history of " * 9_000 + "cancer",
    "no " * 35_000 + "malignancy",
    "other malignancy within the past " + "5 " * 50_000,
    "other malignancy except " + "basal cell, " * 8_000,
    "other malignancy. " + "Patients with basal cell are eligible. " * 2_600,
    "disease-free for " * 6_000 + "5 years",
    "." * 100_000,
]


@pytest.mark.parametrize("text", PATHOLOGICAL, ids=range(len(PATHOLOGICAL)))
def test_pathological_100kb_inputs_are_fast(text: str) -> None:
    assert len(text) >= 90_000
    for kind in ("inclusion", "exclusion"):
        start = time.perf_counter()
        malignancy.extract(Criterion(kind=kind, ordinal=1, text=text))  # type: ignore[arg-type]
        assert time.perf_counter() - start < 5.0
