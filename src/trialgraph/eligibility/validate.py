"""Eligibility by pySHACL, the reference semantics: the patient graph validated against each trial's shapes.

The data graph is the patient node (:func:`~trialgraph.eligibility.patient_rdf.patient_graph`) with the
class hierarchy of the ontology and vocabulary it is walked over; the shapes graph is
:func:`~trialgraph.eligibility.shapes.trial_shapes`; no inference. Results are read back into the
result classes of :mod:`trialgraph.eligibility.evaluate`: a criterion with a ``sh:Violation`` result is
NOT_MET, else with a ``sh:Warning`` result UNKNOWN, else MET; a criterion without a shape is
NOT_COMPUTABLE.
"""

from __future__ import annotations

import time
from collections import defaultdict
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import pyshacl
import rdflib
from rdflib.namespace import SH
from rdflib.plugins.sparql import prepareQuery
from rdflib.plugins.sparql.processor import SPARQLProcessor

from trialgraph.eligibility.evaluate import (
    FREE_TEXT_REASON,
    MET,
    NOT_COMPUTABLE,
    NOT_MET,
    UNKNOWN,
    VERDICT_ORDER,
    CriterionResult,
    Status,
    TrialResult,
)
from trialgraph.eligibility.patient import Patient
from trialgraph.eligibility.patient_rdf import concept_types, hierarchy_graph, patient_graph, patient_iri
from trialgraph.eligibility.shapes import trial_shapes
from trialgraph.model import Trial
from trialgraph.namespaces import TG
from trialgraph.rdf import criterion_iri
from trialgraph.vocabulary import Vocabulary

_SHAPE_OF_CRITERION = rdflib.URIRef(TG + "shapeOfCriterion")


@dataclass
class Finding:
    """One validation result: the patient and criterion it is about, its severity and its message."""

    focus: str
    criterion: str
    severity: rdflib.URIRef
    message: str


def data_graph(patients: Iterable[Patient], vocabulary: Vocabulary) -> rdflib.Graph:
    """The patients' graphs with the class hierarchy they are checked over."""
    g = rdflib.Graph()
    g += hierarchy_graph(vocabulary)
    for patient in patients:
        g += concept_types(patient, vocabulary)
        g += patient_graph(patient, vocabulary)
    return g


_PREPARED: dict[str, Any] = {}


@contextmanager
def prepared_queries() -> Iterator[None]:
    """While open, rdflib parses each SPARQL text once and reuses it (pySHACL passes text every time).

    The queries of the eligibility shapes do not depend on the patient (``$this`` is pre-bound), and
    rdflib's parser takes most of the time of a validation; the cache changes nothing else.
    """
    original = SPARQLProcessor.query

    def query(self: SPARQLProcessor, q: Any, initBindings: Any = None, initNs: Any = None, **kw: Any) -> Any:
        if isinstance(q, str) and not kw.get("base"):
            prepared = _PREPARED.get(q)
            if prepared is None:
                prepared = _PREPARED[q] = prepareQuery(q, initNs=initNs)
            q = prepared
        return original(self, q, initBindings, initNs, **kw)

    SPARQLProcessor.query = query  # type: ignore[method-assign,assignment]
    try:
        yield
    finally:
        SPARQLProcessor.query = original  # type: ignore[method-assign]


def findings(data: rdflib.Graph, shapes: rdflib.Graph) -> list[Finding]:
    """Validate ``data`` against eligibility ``shapes`` with pySHACL and read the results."""
    with prepared_queries():
        _, report, _ = pyshacl.validate(
            data, shacl_graph=shapes, inference="none", advanced=True, allow_warnings=True, inplace=True
        )
    assert isinstance(report, rdflib.Graph)
    owner = {}
    for shape, criterion in shapes.subject_objects(_SHAPE_OF_CRITERION):
        owner[shape] = str(criterion)
        for part in shapes.objects(shape, SH.property):
            owner[part] = str(criterion)
    out = []
    for result in report.subjects(rdflib.RDF.type, SH.ValidationResult):
        source = report.value(result, SH.sourceShape)
        severity = report.value(result, SH.resultSeverity)
        if source not in owner or not isinstance(severity, rdflib.URIRef):
            continue
        message = str(report.value(result, SH.resultMessage) or "")
        value = report.value(result, SH.value)
        if value is not None:
            message = message.replace("{$value}", str(value)).replace("{?value}", str(value))
        out.append(Finding(str(report.value(result, SH.focusNode)), owner[source], severity, message))
    return out


def trial_result(trial: Trial, found: Iterable[Finding]) -> TrialResult:
    """A trial's result from the findings about its criteria."""
    by_criterion: dict[str, list[Finding]] = defaultdict(list)
    for f in found:
        by_criterion[f.criterion].append(f)
    numbers = trial.criterion_numbers()
    results = []
    for c in trial.criteria:
        iri = criterion_iri(trial.id, c.kind, c.ordinal)
        status: Status
        if not c.constraints:
            status, reasons = NOT_COMPUTABLE, [FREE_TEXT_REASON]
        else:
            mine = by_criterion.get(iri, [])
            violations = [f.message for f in mine if f.severity == SH.Violation]
            warnings = [f.message for f in mine if f.severity == SH.Warning]
            if violations:
                status, reasons = NOT_MET, sorted(violations)
            elif warnings:
                status, reasons = UNKNOWN, sorted(warnings)
            else:
                status, reasons = MET, []
        results.append(CriterionResult(iri, c.kind, numbers[(c.kind, c.ordinal)], c.text, status, reasons))
    return TrialResult.of(trial.id, trial.nct_id, trial.title, results)


_SHAPES_CACHE: dict[tuple[int, str], tuple[Trial, rdflib.Graph]] = {}


def cached_shapes(trial: Trial, vocabulary: Vocabulary) -> rdflib.Graph:
    """The trial's shapes, built once per trial object and vocabulary."""
    key = (id(trial), trial.id)
    hit = _SHAPES_CACHE.get(key)
    if hit is None or hit[0] is not trial:
        hit = (trial, trial_shapes(trial, vocabulary))
        _SHAPES_CACHE[key] = hit
    return hit[1]


def validate_trial(patient: Patient, trial: Trial, vocabulary: Vocabulary | None = None) -> TrialResult:
    """One trial's verdict for the patient by pySHACL."""
    vocab = vocabulary or Vocabulary.default()
    return trial_result(trial, findings(data_graph([patient], vocab), cached_shapes(trial, vocab)))


def validate_patients(
    patients: Iterable[Patient], trials: Iterable[Trial], vocabulary: Vocabulary | None = None
) -> dict[str, list[TrialResult]]:
    """Every patient's verdicts (by patient id) for every trial, in one pySHACL validation.

    The patients are focus nodes of one data graph, as SHACL intends; their ids must differ.
    Each list is ordered as :func:`~.evaluate.match_trials` orders its results.
    """
    vocab = vocabulary or Vocabulary.default()
    patients, trials = list(patients), list(trials)
    iris = {str(patient_iri(p)): p.id for p in patients}
    if len(iris) != len(patients):
        raise ValueError("patients to validate together need different ids")
    shapes = rdflib.Graph()
    for t in trials:
        shapes += cached_shapes(t, vocab)
    by_patient: dict[str, list[Finding]] = defaultdict(list)
    for f in findings(data_graph(patients, vocab), shapes):
        by_patient[iris[f.focus]].append(f)
    out = {}
    for p in patients:
        results = [trial_result(t, by_patient[p.id]) for t in trials]
        results.sort(key=lambda r: (VERDICT_ORDER[r.verdict], r.manual_review, r.trial_id))
        out[p.id] = results
    return out


def validate_patient(
    patient: Patient, trials: Iterable[Trial], vocabulary: Vocabulary | None = None
) -> list[TrialResult]:
    """Every trial's verdict for the patient by pySHACL, in the order of :func:`~.evaluate.match_trials`."""
    return validate_patients([patient], trials, vocabulary)[patient.id]


def timed_validation(
    patient: Patient, trial: Trial, vocabulary: Vocabulary | None = None
) -> tuple[TrialResult, float]:
    """One trial's verdict by pySHACL and the seconds its validation took (shapes built beforehand)."""
    vocab = vocabulary or Vocabulary.default()
    shapes = cached_shapes(trial, vocab)
    start = time.perf_counter()
    found = findings(data_graph([patient], vocab), shapes)
    seconds = time.perf_counter() - start
    return trial_result(trial, found), seconds
