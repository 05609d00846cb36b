"""The patient description: the shipped examples read, and every bad field gets an error naming it."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from trialgraph.eligibility.patient import load_patient, parse_patient, vocabulary_resolver
from trialgraph.errors import InputError
from trialgraph.namespaces import TGC
from trialgraph.resources import EXAMPLES_DIR

PATIENTS = sorted((EXAMPLES_DIR / "patients").glob("*.yaml"))
RESOLVE = vocabulary_resolver()


def test_at_least_four_example_patients_ship() -> None:
    assert len(PATIENTS) >= 4


@pytest.mark.parametrize("path", PATIENTS, ids=[p.stem for p in PATIENTS])
def test_every_example_patient_reads(path: Path) -> None:
    patient = load_patient(path, RESOLVE)
    assert patient.diagnoses and patient.therapies


def test_the_mcrpc_example_as_written() -> None:
    p = load_patient(EXAMPLES_DIR / "patients" / "mcrpc_oligoprogressive.yaml", RESOLVE)
    assert (p.age_years, p.sex, p.castration_status, p.progressing_lesions) == (66, "MALE", "RESISTANT", 2)
    assert p.diagnoses == [TGC + "ProstateAdenocarcinoma"]
    assert [lab.analyte for lab in p.labs] == ["testosterone"] and p.labs[0].value == pytest.approx(0.5)
    agents = [t.therapies for t in p.therapies]
    assert [TGC + "leuprorelin"] in agents and [TGC + "docetaxel"] in agents
    assert p.therapies[0].ongoing and p.assessment_date == dt.date(2026, 11, 1)
    assert "therapies" in p.given and "other_malignancies" in p.given and "imaging" not in p.given


def test_units_are_converted_to_the_canonical_one() -> None:
    p = parse_patient(
        {"labs": {"anc": {"value": 1500, "unit": "/µL"}, "testosterone": {"value": 50, "unit": "ng/dL"}}}, "x"
    )
    values = {lab.analyte: lab.value for lab in p.labs}
    assert values["anc"] == pytest.approx(1.5)
    assert values["testosterone"] == pytest.approx(1.735)


def test_birth_date_gives_the_age_at_assessment() -> None:
    p = parse_patient({"birth_date": "1960-11-01", "assessment_date": "2026-11-01"}, "x")
    assert p.age_years == pytest.approx(66.0, abs=0.01)


@pytest.mark.parametrize(
    "data,field",
    [
        ({"agee": 60}, "agee"),
        ({"age": 200}, "age"),
        ({"age": "old"}, "age"),
        ({"sex": "robot"}, "sex"),
        ({"performance": {"ecog": 7}}, "performance.ecog"),
        ({"performance": {"zubrod": 1}}, "zubrod"),
        ({"labs": {"platelets": {"value": 100, "unit": "furlongs"}}}, "labs.platelets.unit"),
        ({"labs": {"vitamin_q": {"value": 1}}}, "vitamin_q"),
        ({"labs": {"platelets": {"unit": "10^9/L"}}}, "labs.platelets.value"),
        ({"therapies": [{"agent": "notarealdrugname"}]}, "therapies[0].agent"),
        (
            {"therapies": [{"agent": "docetaxel", "start": "2024-05-01", "end": "2024-01-01"}]},
            "therapies[0].end",
        ),
        ({"therapies": [{"line": 1}]}, "therapies[0].agent"),
        ({"diagnoses": ["not a disease at all"]}, "diagnoses[0]"),
        ({"disease": {"progressing_lesions": -1}}, "disease.progressing_lesions"),
        ({"birth_date": "2030-01-01", "assessment_date": "2026-01-01"}, "birth_date"),
        ({"assessment_date": "yesterday"}, "assessment_date"),
    ],
)
def test_bad_fields_are_named(data: dict[str, object], field: str) -> None:
    with pytest.raises(InputError) as caught:
        parse_patient(data, "patient.yaml", RESOLVE)
    assert field in str(caught.value) and "patient.yaml" in str(caught.value)


def test_a_file_that_is_not_yaml_is_a_clear_error(tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text("age: [1, 2\n", encoding="utf-8")
    with pytest.raises(InputError, match=r"bad\.yaml"):
        load_patient(bad, RESOLVE)
