"""Moving one patient value across a threshold flips exactly the constraints that use it, in every
constraint family, and the criteria that change are among those holding such a constraint.

Each case is a complete patient and one change to it. Which constraints must change is decided here
from the constraints' own thresholds (a plain comparison), not by the matcher; the matcher's answer
before and after is compared with it. Trials: the five seeds and 60 real CT.gov records. The same
patients are also validated with pySHACL on the seeds, which must agree with the bulk matcher.
"""

from __future__ import annotations

import copy
import operator
from collections.abc import Callable
from itertools import islice
from typing import Any

import pytest

from trialgraph.eligibility.evaluate import Matcher
from trialgraph.eligibility.patient import parse_patient, vocabulary_resolver
from trialgraph.eligibility.validate import validate_patients
from trialgraph.extract import extract_trial
from trialgraph.ingest import read_paths
from trialgraph.model import (
    AgeConstraint,
    Constraint,
    DiseaseStateConstraint,
    ImagingConstraint,
    LabConstraint,
    MalignancyConstraint,
    MetastasisSiteConstraint,
    PerformanceConstraint,
    SexConstraint,
    TherapyConstraint,
    Trial,
)
from trialgraph.namespaces import TGC
from trialgraph.resources import EXAMPLES_DIR, SHARED_DATA_DIR
from trialgraph.vocabulary import Vocabulary

VOCAB = Vocabulary.default()
RESOLVE = vocabulary_resolver(VOCAB)
SEEDS = [extract_trial(t) for t in read_paths([EXAMPLES_DIR / "trials"]) if isinstance(t, Trial)]
SHARED = [
    extract_trial(t) for t in islice(read_paths([SHARED_DATA_DIR / "ctgov_v2"]), 60) if isinstance(t, Trial)
]
TRIALS = SEEDS + SHARED
ALL_LABS = {
    "platelets": {"value": 150, "unit": "10^9/L"},
    "anc": {"value": 2.5, "unit": "10^9/L"},
    "wbc": {"value": 5.0, "unit": "10^9/L"},
    "hemoglobin": {"value": 12.5, "unit": "g/dL"},
    "bilirubin": {"value": 0.8, "unit": "mg/dL", "uln": 1.2},
    "ast": {"value": 30, "unit": "U/L", "uln": 40},
    "alt": {"value": 30, "unit": "U/L", "uln": 40},
    "alp": {"value": 100, "unit": "U/L", "uln": 120},
    "albumin": {"value": 4.0, "unit": "g/dL"},
    "creatinine": {"value": 0.9, "unit": "mg/dL", "uln": 1.2},
    "creatinine_clearance": {"value": 90, "unit": "mL/min"},
    "egfr": {"value": 90, "unit": "mL/min/1.73m2"},
    "inr": {"value": 1.0, "unit": "ratio"},
}
BASE: dict[str, Any] = {
    "id": "base",
    "assessment_date": "2026-11-01",
    "age": 60,
    "sex": "male",
    "diagnoses": ["hepatocellular carcinoma"],
    "disease": {
        "states": ["oligoprogression"],
        "progressing_lesions": 2,
        "organs_involved": 1,
        "metastatic_sites": [],
        "measurable_disease": True,
    },
    "performance": {"ecog": 0},
    "labs": ALL_LABS,
    "therapies": [
        {"agent": "sintilimab", "line": 1, "start": "2025-01-01", "end": "2025-09-01", "cycles": 10},
    ],
    "imaging": [],
    "other_malignancies": [],
}
COMPARE: dict[str, Callable[[float, float], bool]] = {
    ">=": operator.ge,
    ">": operator.gt,
    "<=": operator.le,
    "<": operator.lt,
}


def _in_age(age: float, c: AgeConstraint) -> bool:
    low_ok = c.min_years is None or age > c.min_years or (age == c.min_years and c.min_inclusive)
    high_ok = c.max_years is None or age < c.max_years or (age == c.max_years and c.max_inclusive)
    return low_ok and high_ok


def _lab_uses(analyte: str, before: float, after: float, uln: bool) -> Callable[[Constraint], bool]:
    def uses(c: Constraint) -> bool:
        if not isinstance(c, LabConstraint) or c.analyte != analyte or c.uln_multiple != uln:
            return False
        compare = COMPARE[c.comparator]
        return compare(before, c.value) != compare(after, c.value)

    return uses


def _set(path: str, value: object) -> Callable[[dict[str, Any]], None]:
    def change(data: dict[str, Any]) -> None:
        *parents, last = path.split(".")
        node = data
        for key in parents:
            node = node[key]
        node[last] = value

    return change


def _ended(end: str) -> Callable[[dict[str, Any]], None]:
    def change(data: dict[str, Any]) -> None:
        data["therapies"][0]["end"] = end

    return change


def _is_pd1_exclusion_in_window(c: Constraint) -> bool:
    # The course ended 2025-09-01 (426 days before the assessment) and, changed, 2026-10-20 (12 days).
    return (
        isinstance(c, TherapyConstraint)
        and c.sense == "exclude"
        and c.within_days is not None
        and 12 <= c.within_days < 426
        and VOCAB.is_a(TGC + "sintilimab", c.therapy)
    )


def _related(a: str, b: str) -> bool:
    return VOCAB.is_a(a, b) or VOCAB.is_a(b, a)


def _uses_brain_metastases(c: Constraint) -> bool:
    # A metastatic site also makes the disease metastatic: constraints on metastatic disease use it too.
    if isinstance(c, MetastasisSiteConstraint):
        return c.stance != "allowed" and _related(TGC + "BrainMetastases", c.site)
    return isinstance(c, DiseaseStateConstraint) and _related(TGC + "MetastaticDisease", c.concept)


def _lesion_bound_between(c: Constraint) -> bool:
    return (
        isinstance(c, DiseaseStateConstraint)
        and c.sense == "require"
        and (
            (c.max_lesions is not None and 2 <= c.max_lesions < 9)
            or (c.min_lesions is not None and 2 < c.min_lesions <= 9)
        )
    )


# family: (the change, the constraints it may change, whether every one of them must change)
CASES: dict[str, tuple[Callable[[dict[str, Any]], None], Callable[[Constraint], bool], bool]] = {
    "age": (
        _set("age", 16),
        lambda c: isinstance(c, AgeConstraint) and _in_age(60, c) != _in_age(16, c),
        True,
    ),
    "sex": (_set("sex", "female"), lambda c: isinstance(c, SexConstraint) and c.sex != "ALL", True),
    "performance": (
        _set("performance", {"ecog": 3}),
        # ECOG 0 -> 3 (Karnofsky 90-100 -> 30-40 by the cross-walk): every limit from 0 to 2, or 40 to 90
        lambda c: (
            isinstance(c, PerformanceConstraint)
            and (
                (c.scale in ("ECOG", "WHO") and c.max_value is not None and 0 <= c.max_value < 3)
                or (c.scale == "KARNOFSKY" and c.min_value is not None and 40 < c.min_value <= 90)
            )
        ),
        False,
    ),
    "lab": (
        _set("labs.platelets", {"value": 40, "unit": "10^9/L"}),
        _lab_uses("platelets", 150, 40, False),
        True,
    ),
    "lab-uln": (
        # Only the upper limit of normal changes: 0.8 mg/dL is 0.67 x ULN, then 4 x ULN.
        _set("labs.bilirubin", {"value": 0.8, "unit": "mg/dL", "uln": 0.2}),
        _lab_uses("bilirubin", 0.8 / 1.2, 4.0, True),
        True,
    ),
    "therapy": (_ended("2026-10-20"), _is_pd1_exclusion_in_window, False),
    "disease_state": (_set("disease.progressing_lesions", 9), _lesion_bound_between, False),
    "metastasis_site": (
        _set("disease.metastatic_sites", ["brain metastases"]),
        _uses_brain_metastases,
        False,
    ),
    "imaging": (
        _set("imaging", ["PSMA PET"]),
        lambda c: isinstance(c, ImagingConstraint) and VOCAB.is_a(TGC + "PSMAPET", c.modality),
        True,
    ),
    "malignancy": (
        _set("other_malignancies", ["melanoma"]),
        lambda c: isinstance(c, MalignancyConstraint),
        True,
    ),
}


def _statuses(patient_data: dict[str, Any]) -> tuple[dict[int, str], dict[tuple[str, str, int], str]]:
    matcher = Matcher(parse_patient(patient_data, patient_data["id"], RESOLVE), VOCAB)
    constraints = {
        id(c): matcher.constraint(c).status for t in TRIALS for cr in t.criteria for c in cr.constraints
    }
    criteria = {(t.id, cr.kind, cr.ordinal): matcher.criterion(cr)[0] for t in TRIALS for cr in t.criteria}
    return constraints, criteria


def _variant(family: str) -> dict[str, Any]:
    data = copy.deepcopy(BASE)
    data["id"] = family
    CASES[family][0](data)
    return data


@pytest.mark.parametrize("family", sorted(CASES))
def test_a_change_flips_exactly_the_constraints_that_use_it(family: str) -> None:
    _, uses, exact = CASES[family]
    before_c, before_k = _statuses(BASE)
    after_c, after_k = _statuses(_variant(family))
    by_id = {id(c): c for t in TRIALS for cr in t.criteria for c in cr.constraints}
    changed = {k for k in by_id if before_c[k] != after_c[k]}
    expected = {k for k, c in by_id.items() if uses(c)}
    assert changed, f"{family}: nothing changed; the case does not cross any threshold"
    wrong = sorted(f"{by_id[k].text!r} {before_c[k]}->{after_c[k]}" for k in changed - expected)
    assert not wrong, f"{family}: constraints that do not use the value changed: {wrong}"
    if exact:
        unchanged = sorted(repr(by_id[k].text) for k in expected - changed)
        assert not unchanged, f"{family}: constraints that use the value did not change: {unchanged}"
    # A criterion changes only if one of its constraints did.
    holders = {
        (t.id, cr.kind, cr.ordinal)
        for t in TRIALS
        for cr in t.criteria
        for c in cr.constraints
        if id(c) in changed
    }
    moved = {k for k in before_k if before_k[k] != after_k[k]}
    assert moved <= holders  # (a flipped constraint may leave its criterion UNKNOWN through another)


def test_pyshacl_agrees_on_every_case() -> None:
    patients = [parse_patient(d, d["id"], RESOLVE) for d in [BASE] + [_variant(f) for f in sorted(CASES)]]
    by_shacl = validate_patients(patients, SEEDS, VOCAB)
    for patient in patients:
        matcher = Matcher(patient, VOCAB)
        shacl = {r.trial_id: r for r in by_shacl[patient.id]}
        for trial in SEEDS:
            bulk = matcher.trial(trial)
            assert [c.status for c in bulk.criteria] == [c.status for c in shacl[trial.id].criteria], (
                patient.id,
                trial.id,
            )
