"""Imaging constraints: the hand annotations, the forms the rules name, and linear time."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import pytest
import yaml

from trialgraph.extract import imaging
from trialgraph.model import Criterion, CriterionKind, ImagingConstraint
from trialgraph.namespaces import TGC

DATA = Path(__file__).resolve().parents[1] / "data" / "extraction" / "imaging.yaml"


def read(text: str, kind: CriterionKind = "inclusion", ordinal: int = 1) -> list[tuple[str, str]]:
    """(CURIE, sense) of each imaging constraint, checking spans and provenance."""
    criterion = Criterion(kind=kind, ordinal=ordinal, text=text)
    found = imaging.extract(criterion)
    pairs = []
    for c in found:
        assert isinstance(c, ImagingConstraint)
        assert text[c.start : c.end] == c.text and c.text
        assert (c.criterion_kind, c.criterion_ordinal) == (kind, ordinal)
        assert c.modality.startswith(TGC)
        pairs.append(("tgc:" + c.modality.removeprefix(TGC), c.sense))
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
    expected = sorted((e["modality"], e["sense"]) for e in case["expected"])
    assert sorted(found) == expected


def test_annotations_are_substantial() -> None:
    cases = [p.values[0] for p in CASES]
    assert len({c["nct_id"] for c in cases if "nct_id" in c}) >= 15
    assert sum(not c["expected"] for c in cases) >= 10, "criteria without constraints guard false positives"


@pytest.mark.parametrize(
    ("text", "kind", "expected"),
    [
        ("Progression on PSMA PET", "inclusion", [("tgc:PSMAPET", "require")]),
        ("Measurable disease per RECIST 1.1", "inclusion", [("tgc:RECIST11", "require")]),
        (
            "Bone scan and CT within 28 days before registration",
            "inclusion",
            [("tgc:BoneScan", "require"), ("tgc:CT", "require")],
        ),
        ("Disease evaluable by PSMA PET or FDG PET", "inclusion", [("tgc:PET", "require")]),
        ("Measurable disease per RECIST 1.1 or PCWG3", "inclusion", []),
        (
            "No evidence of metastatic disease on CT and bone scan",
            "inclusion",
            [("tgc:CT", "exclude"), ("tgc:BoneScan", "exclude")],
        ),
        ("Measurable disease per RECIST 1.1", "exclusion", [("tgc:RECIST11", "exclude")]),
        ("FDG-avid disease on FDG PET/CT", "exclusion", [("tgc:FDGPET", "exclude")]),
        ("Contraindication to MRI", "exclusion", []),
        ("Unable to undergo MRI or CT", "exclusion", []),
        ("Known allergy to contrast media used for CT", "exclusion", []),
        ("Known brain metastases on MRI", "exclusion", []),
        ("Patients with brain metastases must be stable on MRI", "inclusion", []),
        ("Clinical indication for a contrast-enhanced MRI", "inclusion", []),
        ("Prior CTCAE grade 3 toxicity", "exclusion", []),
    ],
)
def test_forms(text: str, kind: CriterionKind, expected: list[tuple[str, str]]) -> None:
    assert sorted(read(text, kind)) == sorted(expected)


PATHOLOGICAL = [
    "CT or " * 17_000,
    "PSMA PET/CT " * 9_000,
    "RECIST 1.1 and " * 7_000,
    "no " * 35_000 + "CT",
    "(1) " * 25_000 + "RECIST",
    "Patients with " * 7_000 + "must have CT",
    "." * 100_000,
    "measurable disease on bone scan; " * 3_000,
    "a" * 100_000,
]


@pytest.mark.parametrize("text", PATHOLOGICAL, ids=range(len(PATHOLOGICAL)))
def test_pathological_100kb_inputs_are_fast(text: str) -> None:
    assert len(text) >= 90_000
    for kind in ("inclusion", "exclusion"):
        start = time.perf_counter()
        imaging.extract(Criterion(kind=kind, ordinal=1, text=text))  # type: ignore[arg-type]
        assert time.perf_counter() - start < 5.0
