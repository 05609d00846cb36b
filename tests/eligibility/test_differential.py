"""The bulk matcher and pySHACL over the generated shapes agree on every criterion and every trial.

200 generated patients (``patient_maker`` in tests/eligibility/conftest.py) against every bundled trial: the
per-criterion statuses and the per-trial verdicts of :mod:`trialgraph.eligibility.evaluate` must
equal those of :mod:`trialgraph.eligibility.validate` (one pySHACL validation, the patients as focus
nodes of one data graph).
"""

from __future__ import annotations

from collections import Counter
from typing import Any

import pytest

from trialgraph.eligibility.evaluate import Matcher, TrialResult
from trialgraph.eligibility.patient import Patient, parse_patient, vocabulary_resolver
from trialgraph.eligibility.validate import validate_patients
from trialgraph.extract import extract_trial
from trialgraph.ingest import read_paths
from trialgraph.model import Trial
from trialgraph.resources import EXAMPLES_DIR
from trialgraph.vocabulary import Vocabulary

COUNT = 200
REACHABLE = {
    # The patient format has no life expectancy: always UNKNOWN.
    "life_expectancy": ("UNKNOWN",),
    # Another malignancy needs a person (timing, carve-outs): MET or UNKNOWN, never NOT_MET.
    "malignancy": ("MET", "UNKNOWN"),
    # The bundled trials only require imaging, and imaging not stated is UNKNOWN, not NOT_MET.
    "imaging": ("MET", "UNKNOWN"),
}
"""Statuses a family can reach on the bundled trials where that is not all three."""


@pytest.fixture(scope="module")
def trials() -> list[Trial]:
    found = [r for r in read_paths([EXAMPLES_DIR / "trials"]) if isinstance(r, Trial)]
    assert len(found) == 5
    return [extract_trial(t) for t in found]


@pytest.fixture(scope="module")
def generated(patient_maker: Any) -> list[Patient]:
    resolve = vocabulary_resolver()
    return [parse_patient(d, d["id"], resolve) for d in patient_maker(COUNT, seed=2026)]


@pytest.fixture(scope="module")
def by_shacl(generated: list[Patient], trials: list[Trial]) -> dict[str, list[TrialResult]]:
    return validate_patients(generated, trials)


def test_generated_patients_differ(generated: list[Patient]) -> None:
    assert len({repr(p) for p in generated}) == COUNT


def test_every_criterion_and_verdict_agrees(
    generated: list[Patient], trials: list[Trial], by_shacl: dict[str, list[TrialResult]]
) -> None:
    vocab = Vocabulary.default()
    disagreements = []
    compared = 0
    for patient in generated:
        matcher = Matcher(patient, vocab)
        shacl = {r.trial_id: r for r in by_shacl[patient.id]}
        for trial in trials:
            bulk, other = matcher.trial(trial), shacl[trial.id]
            if bulk.verdict != other.verdict:
                disagreements.append((patient.id, trial.id, "verdict", bulk.verdict, other.verdict))
            for a, b in zip(bulk.criteria, other.criteria, strict=True):
                compared += 1
                assert a.criterion == b.criterion
                if a.status != b.status:
                    disagreements.append((patient.id, trial.id, f"{a.kind} {a.number}", a.status, b.status))
    assert compared == COUNT * sum(len(t.criteria) for t in trials)
    assert not disagreements, f"{len(disagreements)} disagreements, first: {disagreements[:10]}"


def test_the_patients_reach_every_status_of_every_family(
    generated: list[Patient], trials: list[Trial]
) -> None:
    # A differential test is only as good as its inputs: each family must be met, failed and undecided.
    vocab = Vocabulary.default()
    seen: Counter[tuple[str, str]] = Counter()
    families = {c.family for t in trials for cr in t.criteria for c in cr.constraints}
    for patient in generated:
        matcher = Matcher(patient, vocab)
        for trial in trials:
            for criterion in trial.criteria:
                for c in criterion.constraints:
                    seen[(c.family, matcher.constraint(c).status)] += 1
    missing = [
        (family, status)
        for family in sorted(families)
        for status in REACHABLE.get(family, ("MET", "NOT_MET", "UNKNOWN"))
        if not seen[(family, status)]
    ]
    assert not missing, missing


def test_verdicts_are_mixed(generated: list[Patient], by_shacl: dict[str, list[TrialResult]]) -> None:
    verdicts = Counter(r.verdict for p in generated for r in by_shacl[p.id])
    assert {"INELIGIBLE", "UNDETERMINED"} <= set(verdicts), verdicts
