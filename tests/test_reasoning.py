"""OWL reasoning through owlready2 and HermiT over the whole ontology graph, and its materialisation."""

from __future__ import annotations

import shutil

import pyoxigraph as ox
import pytest

from trialgraph import rdf, reasoning
from trialgraph.api import TrialGraph
from trialgraph.namespaces import OWL, RDF, TGC

pytestmark = pytest.mark.skipif(
    shutil.which("java") is None, reason="HermiT needs Java (make test installs it)"
)

ASK_ZIMBERELIMAB = f"ASK {{ <{TGC}zimberelimab> a <{TGC}PD1Inhibitor> }}"


@pytest.fixture(scope="module")
def report() -> reasoning.ReasoningReport:
    return reasoning.classify(rdf.ontology_quads())


def test_the_whole_ontology_is_consistent_with_no_unsatisfiable_class(
    report: reasoning.ReasoningReport,
) -> None:
    assert report.consistent
    assert report.unsatisfiable == []


def test_inferred_triples_are_new_and_in_their_own_graph(report: reasoning.ReasoningReport) -> None:
    asserted = {q.triple for q in rdf.ontology_quads()}
    assert report.inferred
    assert all(q.graph_name == ox.NamedNode(reasoning.INFERRED_GRAPH) for q in report.inferred)
    assert not any(q.triple in asserted for q in report.inferred)


def test_reason_lets_plain_sparql_see_a_class_inferred_from_a_target() -> None:
    tg = TrialGraph(None)
    assert not bool(tg.store.query(ASK_ZIMBERELIMAB))  # only its target is asserted
    assert tg.reason().ok
    assert bool(tg.store.query(ASK_ZIMBERELIMAB))
    # Classified by target: a PD-L1 inhibitor does not become a PD-1 inhibitor.
    assert not bool(tg.store.query(f"ASK {{ <{TGC}atezolizumab> a <{TGC}PD1Inhibitor> }}"))


def test_a_contradiction_is_reported_as_inconsistent() -> None:
    graph = ox.NamedNode("https://example.org/g")
    a, b, x = (ox.NamedNode(f"https://example.org/{n}") for n in "abx")
    owl_class = ox.NamedNode(OWL + "Class")
    rdf_type = ox.NamedNode(RDF + "type")
    quads = [
        ox.Quad(a, rdf_type, owl_class, graph),
        ox.Quad(b, rdf_type, owl_class, graph),
        ox.Quad(a, ox.NamedNode(OWL + "disjointWith"), b, graph),
        ox.Quad(x, rdf_type, a, graph),
        ox.Quad(x, rdf_type, b, graph),
    ]
    result = reasoning.classify(quads)
    assert not result.consistent and not result.ok
