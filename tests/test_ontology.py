"""The trial-model ontology (ontology/trialgraph.ttl): documented terms, one owner per term, every code."""

from __future__ import annotations

import pytest
import rdflib
from rdflib.namespace import OWL, RDF, RDFS, SKOS

from trialgraph import rdf
from trialgraph.ingest import normalize
from trialgraph.namespaces import TG
from trialgraph.resources import ONTOLOGY_DIR

TGNS = rdflib.Namespace(TG)


@pytest.fixture(scope="module")
def schema() -> rdflib.Graph:
    return rdflib.Graph().parse(ONTOLOGY_DIR / "trialgraph.ttl", format="turtle")


def _terms(graph: rdflib.Graph) -> set[rdflib.term.Node]:
    kinds = (OWL.Class, OWL.ObjectProperty, OWL.DatatypeProperty, OWL.AnnotationProperty)
    return {s for k in kinds for s in graph.subjects(RDF.type, k)}


def test_every_class_and_property_has_a_label_and_a_definition(schema: rdflib.Graph) -> None:
    terms = _terms(schema)
    assert len(terms) > 100
    undocumented = [
        t for t in terms if schema.value(t, RDFS.label) is None or schema.value(t, SKOS.definition) is None
    ]
    assert undocumented == []


def test_no_term_is_defined_in_two_files(schema: rdflib.Graph) -> None:
    others = rdflib.Graph()
    for path in rdf.ontology_files()[1:]:
        others.parse(path, format="turtle")
    assert _terms(schema) & _terms(others) == set()


def test_trial_is_aligned_with_schema_org(schema: rdflib.Graph) -> None:
    assert (TGNS.ClinicalTrial, RDFS.subClassOf, rdflib.URIRef("https://schema.org/MedicalTrial")) in schema


@pytest.mark.parametrize(
    "enumeration,codes",
    [
        ("status", normalize.STATUSES),
        ("interventionType", normalize.INTERVENTION_TYPES),
        ("phase", {"EARLY_PHASE1", "PHASE1", "PHASE2", "PHASE3", "PHASE4", "NA"}),
        ("sex", {"ALL", "MALE", "FEMALE"}),
    ],
)
def test_every_code_the_readers_produce_is_an_individual(
    schema: rdflib.Graph, enumeration: str, codes: set[str]
) -> None:
    for code in codes:
        iri = rdflib.URIRef(rdf.code_iri(enumeration, code))
        assert (iri, RDF.type, OWL.NamedIndividual) in schema, iri
        assert schema.value(iri, SKOS.notation) == rdflib.Literal(code)


def test_the_intervention_types_the_issue_names(schema: rdflib.Graph) -> None:
    for code in ("DRUG", "RADIATION", "PROCEDURE", "DEVICE", "BIOLOGICAL", "BEHAVIORAL", "OTHER"):
        iri = rdflib.URIRef(rdf.code_iri("interventionType", code))
        assert (iri, RDF.type, TGNS.InterventionType) in schema


def test_inclusion_and_exclusion_criteria_are_disjoint(schema: rdflib.Graph) -> None:
    assert (TGNS.ExclusionCriterion, OWL.disjointWith, TGNS.InclusionCriterion) in schema
