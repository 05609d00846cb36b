"""The bulk matcher and pySHACL over the generated shapes agree on every criterion and every trial.

200 generated patients (``patient_maker`` in tests/eligibility/conftest.py) against every bundled trial,
both engines reading the same store: the bulk matcher (:mod:`trialgraph.eligibility.bulk`) reads the
trials' eligibility indexes, pySHACL (:mod:`trialgraph.eligibility.validate`, one validation with the
patients as focus nodes of one data graph) gets shapes built from the trials read back from their
constraint nodes. The per-criterion statuses and the per-trial verdicts must be equal.
"""

from __future__ import annotations

from collections import Counter
from typing import Any

import pyoxigraph as ox
import pytest

from trialgraph.api import TrialGraph
from trialgraph.eligibility.bulk import BulkMatcher
from trialgraph.eligibility.evaluate import Matcher, TrialResult
from trialgraph.eligibility.patient import Patient, parse_patient, vocabulary_resolver
from trialgraph.eligibility.validate import validate_patients
from trialgraph.extract import extract_trial
from trialgraph.ingest import read_paths
from trialgraph.model import Trial
from trialgraph.namespaces import trial_iri
from trialgraph.rdf import trial_quads
from trialgraph.resources import EXAMPLES_DIR, SHARED_DATA_DIR
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
def graph() -> TrialGraph:
    tg = TrialGraph(None)
    assert tg.ingest([EXAMPLES_DIR / "trials"]).trials_stored == 5
    return tg


@pytest.fixture(scope="module")
def trials(graph: TrialGraph) -> list[Trial]:
    return [graph.trial(t) for t in graph.trial_ids()]


@pytest.fixture(scope="module")
def generated(patient_maker: Any) -> list[Patient]:
    resolve = vocabulary_resolver()
    return [parse_patient(d, d["id"], resolve) for d in patient_maker(COUNT, seed=2026)]


@pytest.fixture(scope="module")
def by_shacl(generated: list[Patient], trials: list[Trial]) -> dict[str, list[TrialResult]]:
    return validate_patients(generated, trials)


def test_generated_patients_differ(generated: list[Patient]) -> None:
    assert len({repr(p) for p in generated}) == COUNT


def _disagreements(bulk: list[TrialResult], other: list[TrialResult], patient: str) -> list[tuple[str, ...]]:
    found: list[tuple[str, ...]] = []
    assert [r.trial_id for r in bulk] == [r.trial_id for r in other]  # the same ranking
    for a, b in zip(bulk, other, strict=True):
        if a.verdict != b.verdict or a.manual_review != b.manual_review:
            found.append((patient, a.trial_id, "verdict", a.verdict, b.verdict))
        assert [c.criterion for c in a.criteria] == [c.criterion for c in b.criteria]
        shown = [(c.kind, c.number, c.text) for c in a.criteria]
        assert shown == [(c.kind, c.number, c.text) for c in b.criteria]
        for x, y in zip(a.criteria, b.criteria, strict=True):
            if x.status != y.status:
                found.append((patient, a.trial_id, f"{x.kind} {x.number}", x.status, y.status))
    return found


def test_every_criterion_and_verdict_agrees(
    graph: TrialGraph, generated: list[Patient], trials: list[Trial], by_shacl: dict[str, list[TrialResult]]
) -> None:
    disagreements = []
    for patient in generated:
        disagreements += _disagreements(graph.match(patient), by_shacl[patient.id], patient.id)
    compared = sum(len(t.criteria) for t in trials) * COUNT
    assert compared > 60 * COUNT
    assert not disagreements, f"{len(disagreements)} disagreements, first: {disagreements[:10]}"


def test_the_index_gives_what_the_constraint_nodes_give_on_registry_records(generated: list[Patient]) -> None:
    # pySHACL costs seconds per trial; over every distinct v2 and legacy XML record (138) the bulk
    # matcher, reading the index, is held to the matcher run on the trials read back from the graph.
    tg = TrialGraph(None)
    sources = [SHARED_DATA_DIR / "ctgov_v2", SHARED_DATA_DIR / "ctgov_xml" / "trec2022_sample"]
    distinct = {r.id: r for r in read_paths(sources) if isinstance(r, Trial)}  # the v2 files overlap
    for record in distinct.values():
        trial = extract_trial(record)
        tg.store.replace_graph(ox.NamedNode(trial_iri(trial.id)), trial_quads(trial))
    trials = [tg.trial(t) for t in tg.trial_ids()]
    assert len(trials) == len(distinct) > 130
    families = {c.family for t in trials for cr in t.criteria for c in cr.constraints}
    assert len(families) >= 9, families  # the index must carry every kind of constraint
    bulk = BulkMatcher(tg.store)
    disagreements = []
    for patient in generated:
        matcher = Matcher(patient)
        by_model = sorted(
            (matcher.trial(t) for t in trials), key=lambda r: (r.verdict != "ELIGIBLE", r.verdict, r.trial_id)
        )
        by_index = sorted(bulk.match(patient), key=lambda r: (r.verdict != "ELIGIBLE", r.verdict, r.trial_id))
        disagreements += _disagreements(by_index, by_model, patient.id)
        for a, b in zip(by_index, by_model, strict=True):
            assert [c.reasons for c in a.criteria] == [c.reasons for c in b.criteria]
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
