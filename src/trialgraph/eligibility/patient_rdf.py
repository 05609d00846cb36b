"""A :class:`~trialgraph.eligibility.patient.Patient` as an RDF node under ``ontology/patient.ttl``.

The patient node carries the facts after normalisation, so that the SHACL eligibility shapes compare
values and walk the vocabulary and nothing else: lab values in canonical units with their multiple of
the upper limit of normal, performance status as ECOG and Karnofsky intervals after the cross-walk,
the conditions the structured disease fields imply, therapy courses as nodes, and the fields the
description states (``tg:statesField``).

>>> from trialgraph.eligibility.patient import parse_patient, vocabulary_resolver
>>> p = parse_patient({"age": 66, "performance": {"who": 1}}, "x", vocabulary_resolver())
>>> g = patient_graph(p, Vocabulary.default())
>>> sorted(str(o) for o in g.objects(patient_iri(p), TGNS.karnofskyMin))
['70']
"""

from __future__ import annotations

import urllib.parse
from decimal import Decimal
from functools import cache
from typing import Any

import pyoxigraph as ox
import rdflib
from rdflib.namespace import RDF, RDFS, XSD

from trialgraph.eligibility.facts import condition_concepts, performance_intervals
from trialgraph.eligibility.patient import Patient, Resolve, parse_patient
from trialgraph.errors import InputError
from trialgraph.namespaces import BASE, OWL, TG, TGC
from trialgraph.rdf import code_iri, ontology_quads
from trialgraph.vocabulary import Vocabulary

TGNS = rdflib.Namespace(TG)
"""The ontology namespace as an rdflib namespace."""


def patient_iri(patient: Patient) -> rdflib.URIRef:
    """The IRI of the patient node: ``https://w3id.org/trialgraph/patient/{id}``."""
    return rdflib.URIRef(BASE + "patient/" + urllib.parse.quote(patient.id, safe=""))


def decimal(value: float) -> rdflib.Literal:
    """An ``xsd:decimal`` literal in the shortest decimal form of a float, so comparisons keep their order."""
    text = format(Decimal(repr(float(value))).normalize(), "f")
    return rdflib.Literal(text, datatype=XSD.decimal)


def patient_graph(patient: Patient, vocabulary: Vocabulary | None = None) -> rdflib.Graph:
    """The patient as one ``tg:Patient`` node with its lab results and therapy courses."""
    vocab = vocabulary or Vocabulary.default()
    g = rdflib.Graph()
    g.bind("tg", TGNS)
    g.bind("tgc", rdflib.Namespace(TGC))
    me = patient_iri(patient)
    g.add((me, RDF.type, TGNS.Patient))
    g.add((me, TGNS.patientId, rdflib.Literal(patient.id)))
    g.add((me, TGNS.assessmentDate, rdflib.Literal(patient.assessment_date, datatype=XSD.date)))
    for name in sorted(patient.given):
        g.add((me, TGNS.statesField, rdflib.Literal(name)))
    if patient.age_years is not None:
        g.add((me, TGNS.ageYears, decimal(patient.age_years)))
    if patient.sex is not None:
        g.add((me, TGNS.sex, rdflib.URIRef(code_iri("sex", patient.sex))))
    for prop, iris in (
        (TGNS.hasDiagnosis, patient.diagnoses),
        (TGNS.hasDiseaseState, patient.disease_states),
        (TGNS.hasCondition, condition_concepts(patient, vocab)),
        (TGNS.hasMetastaticSite, patient.metastatic_sites),
        (TGNS.hadImaging, patient.imaging),
    ):
        for iri in iris:
            g.add((me, prop, rdflib.URIRef(iri)))
    for prop, count in (
        (TGNS.progressingLesions, patient.progressing_lesions),
        (TGNS.organsInvolved, patient.organs_involved),
    ):
        if count is not None:
            g.add((me, prop, rdflib.Literal(count, datatype=XSD.integer)))
    if patient.castration_status is not None:
        g.add((me, TGNS.castrationStatus, rdflib.Literal(patient.castration_status)))
    if patient.metastatic_volume is not None:
        g.add((me, TGNS.metastaticVolume, rdflib.Literal(patient.metastatic_volume)))
    if patient.measurable_disease is not None:
        g.add((me, TGNS.measurableDisease, rdflib.Literal(patient.measurable_disease)))
    for p in patient.performance:
        g.add((me, TGNS.performanceStated, rdflib.Literal(f"{p.scale} {p.value:g}")))
    ecog, karnofsky = performance_intervals(patient, vocab)
    for interval, low_prop, high_prop in (
        (ecog, TGNS.ecogMin, TGNS.ecogMax),
        (karnofsky, TGNS.karnofskyMin, TGNS.karnofskyMax),
    ):
        if interval is not None:
            g.add((me, low_prop, decimal(interval[0])))
            g.add((me, high_prop, decimal(interval[1])))
    for lab in patient.labs:
        node = rdflib.URIRef(f"{me}/lab/{lab.analyte}")
        g.add((me, TGNS.hasLabResult, node))
        g.add((node, RDF.type, TGNS.LabResult))
        g.add((node, TGNS.labAnalyte, rdflib.Literal(lab.analyte)))
        g.add((node, TGNS.labValue, decimal(lab.value)))
        g.add((node, TGNS.labUnit, rdflib.Literal(lab.unit)))
        if lab.uln is not None:
            g.add((node, TGNS.labUpperLimit, decimal(lab.uln)))
        multiple = lab.uln_multiple
        if multiple is not None:
            g.add((node, TGNS.labUlnMultiple, decimal(multiple)))
    for n, course in enumerate(patient.therapies, 1):
        node = rdflib.URIRef(f"{me}/therapy/{n}")
        g.add((me, TGNS.hasTherapyCourse, node))
        g.add((node, RDF.type, TGNS.TherapyCourse))
        for iri in course.therapies:
            g.add((node, TGNS.courseTherapy, rdflib.URIRef(iri)))
        for name in course.names:
            g.add((node, TGNS.courseName, rdflib.Literal(name)))
        g.add((node, TGNS.ongoing, rdflib.Literal(course.ongoing)))
        for prop, value, datatype in (
            (TGNS.courseLine, course.line, XSD.integer),
            (TGNS.courseStart, course.start, XSD.date),
            (TGNS.courseEnd, course.end, XSD.date),
            (TGNS.cycles, course.cycles, XSD.integer),
            (TGNS.bestResponse, course.best_response, None),
            (TGNS.progressedOnCourse, course.progression, XSD.boolean),
            (TGNS.toxicityOnCourse, course.toxicity, XSD.boolean),
        ):
            if value is not None:
                g.add((node, prop, rdflib.Literal(value, datatype=datatype)))
    for name in patient.other_malignancies:
        g.add((me, TGNS.otherMalignancy, rdflib.Literal(name)))
    return g


def concept_types(patient: Patient, vocabulary: Vocabulary) -> rdflib.Graph:
    """The classes of the agents the patient received, inferred ones included (DrugBank-only agents too)."""
    g = rdflib.Graph()
    for course in patient.therapies:
        for iri in course.therapies:
            concept = vocabulary.get(iri)
            for cls in concept.classes if concept is not None else ():
                g.add((rdflib.URIRef(iri), RDF.type, rdflib.URIRef(cls)))
    return g


@cache
def hierarchy_graph(vocabulary: Vocabulary) -> rdflib.Graph:
    """The class hierarchy of the ontology and vocabulary: ``rdfs:subClassOf`` between classes and
    ``rdf:type`` of individuals, with the memberships the defined drug classes imply (as a reasoner would)."""
    g = rdflib.Graph()
    type_, sub = str(RDF.type), str(RDFS.subClassOf)
    edges: list[tuple[str, str, str]] = []
    for q in ontology_quads():
        if (
            q.predicate.value in (type_, sub)
            and isinstance(q.subject, ox.NamedNode)
            and isinstance(q.object, ox.NamedNode)
        ):
            edges.append((q.subject.value, q.predicate.value, q.object.value))
    classes = {s for s, p, o in edges if p == type_ and o == OWL + "Class"}
    for s, p, o in edges:
        if p == sub:
            g.add((rdflib.URIRef(s), RDFS.subClassOf, rdflib.URIRef(o)))
        elif s not in classes and (o in classes or o.startswith((TG, TGC))):
            g.add((rdflib.URIRef(s), RDF.type, rdflib.URIRef(o)))
    for concept in vocabulary.concepts("agent"):
        for cls in concept.classes:
            g.add((rdflib.URIRef(concept.iri), RDF.type, rdflib.URIRef(cls)))
    return g


# --- reading a patient written in RDF ---------------------------------------------------------------

_DERIVED = {"hasCondition", "ecogMin", "ecogMax", "karnofskyMin", "karnofskyMax"}
"""Properties :func:`patient_graph` computes; on input they are ignored and computed again."""
_PATIENT_FIELDS = {
    "patientId": "id",
    "assessmentDate": "assessment_date",
    "ageYears": "age",
    "sex": "sex",
    "hasDiagnosis": "diagnoses",
    "hadImaging": "imaging",
    "otherMalignancy": "other_malignancies",
    "hasDiseaseState": "disease.states",
    "hasMetastaticSite": "disease.metastatic_sites",
    "progressingLesions": "disease.progressing_lesions",
    "organsInvolved": "disease.organs_involved",
    "castrationStatus": "disease.castration_status",
    "metastaticVolume": "disease.metastatic_volume",
    "measurableDisease": "disease.measurable_disease",
}
_LISTS = {"diagnoses", "imaging", "other_malignancies", "disease.states", "disease.metastatic_sites"}
_COURSE_FIELDS = {
    "courseTherapy": "agents",
    "courseLine": "line",
    "courseStart": "start",
    "courseEnd": "end",
    "ongoing": "ongoing",
    "cycles": "cycles",
    "bestResponse": "best_response",
    "progressedOnCourse": "progression",
    "toxicityOnCourse": "toxicity",
}
_LAB_FIELDS = {"labValue": "value", "labUnit": "unit", "labUpperLimit": "uln"}


def _value(term: rdflib.term.Node) -> object:
    if isinstance(term, rdflib.Literal):
        value = term.toPython() if term.datatype is not None else str(term)
        return float(value) if isinstance(value, Decimal) else value
    code = str(term)
    return code.rsplit("-", 1)[-1] if code.startswith(TG + "sex-") else code


def _fields(
    g: rdflib.Graph, node: rdflib.term.Node, names: dict[str, str], ignored: set[str], source: str, what: str
) -> dict[str, list[object]]:
    """The values of ``node``'s properties by field name; a property the format lacks is an error."""
    out: dict[str, list[object]] = {}
    for p, o in g.predicate_objects(node):
        local = str(p)[len(TG) :] if str(p).startswith(TG) else None
        if p == RDF.type or local in ignored:
            continue
        if local not in names:
            raise InputError(
                source, f"{what}: unknown property <{p}>; expected tg: one of {', '.join(sorted(names))}"
            )
        out.setdefault(names[local], []).append(_value(o))
    return out


def _one(values: dict[str, list[object]], key: str, source: str, what: str) -> object:
    found = values.get(key, [])
    if len(found) > 1:
        raise InputError(source, f"{what}.{key}: expected one value, got {len(found)}")
    return found[0] if found else None


def patient_from_graph(graph: rdflib.Graph, source: str, resolve: Resolve) -> Patient:
    """The patient a graph describes (one ``tg:Patient`` node, as :func:`patient_graph` writes it).

    Concepts are IRIs of the vocabulary; lab values may be in any unit the format lists. The graph is
    checked like a YAML description, through :func:`~trialgraph.eligibility.patient.parse_patient`.
    """
    nodes = list(graph.subjects(RDF.type, TGNS.Patient))
    if len(nodes) != 1:
        raise InputError(source, f"expected exactly one tg:Patient node, found {len(nodes)}")
    (me,) = nodes
    ignored = _DERIVED | {"statesField", "performanceStated", "hasLabResult", "hasTherapyCourse"}
    values = _fields(graph, me, _PATIENT_FIELDS, ignored, source, "tg:Patient")
    data: dict[str, Any] = {}
    for key, found in values.items():
        target, _, sub = key.partition(".")
        holder = data.setdefault(target, {}) if sub else data
        holder[sub or key] = found if key in _LISTS else _one(values, key, source, "tg:Patient")
    stated = {str(s) for s in graph.objects(me, TGNS.statesField)}
    for key in _LISTS:  # a stated field with no values is an empty list: "none"
        target, _, sub = key.partition(".")
        if key in stated and key not in values:
            (data.setdefault(target, {}) if sub else data)[sub or key] = []
    if "therapies" in stated or graph.value(me, TGNS.hasTherapyCourse) is not None:
        data["therapies"] = []
    performance: dict[str, float] = {}
    for text in graph.objects(me, TGNS.performanceStated):
        scale, _, score = str(text).partition(" ")
        try:
            performance[scale.lower()] = float(score)
        except ValueError:
            raise InputError(
                source, f"tg:performanceStated: expected 'SCALE score', got {str(text)!r}"
            ) from None
    if performance:
        data["performance"] = performance
    labs: dict[str, dict[str, object]] = {}
    for node in graph.objects(me, TGNS.hasLabResult):
        lab = _fields(
            graph, node, {**_LAB_FIELDS, "labAnalyte": "analyte"}, {"labUlnMultiple"}, source, "lab"
        )
        analyte = str(_one(lab, "analyte", source, "lab"))
        labs[analyte] = {k: _one(lab, k, source, f"labs.{analyte}") for k in lab if k != "analyte"}
    if labs:
        data["labs"] = labs
    names: list[list[str]] = []
    for node in sorted(graph.objects(me, TGNS.hasTherapyCourse), key=str):
        course = _fields(graph, node, {**_COURSE_FIELDS, "courseName": "names"}, set(), source, "course")
        names.append([str(n) for n in course.pop("names", [])])
        data["therapies"].append(
            {k: v if k == "agents" else _one(course, k, source, "course") for k, v in course.items()}
        )
    patient = parse_patient(data, source, resolve)
    for therapy, given in zip(patient.therapies, names, strict=True):
        therapy.names = given or therapy.names
    return patient


def read_turtle(text: str, source: str, resolve: Resolve) -> Patient:
    """A patient from Turtle text (see :func:`patient_from_graph`)."""
    try:
        graph = rdflib.Graph().parse(data=text, format="turtle")
    except Exception as exc:  # rdflib raises many types for bad syntax
        raise InputError(source, f"not valid Turtle: {exc}") from None
    return patient_from_graph(graph, source, resolve)
