"""The five seed pages end to end: ingest, extraction and RDF, checked by SPARQL over the stored graph.

Expected values are those the extraction issue reads from the pages by hand (002: oligoprogression
with 1-5 lesions in 1-3 organs and prior sintilimab or PD-1 antibody accepted; 001: oligoprogression
with at most 3 extracranial metastases, WHO 0-1, testosterone < 50 ng/dL = 1.7 nmol/L; 003: at least
4 prior cycles of [177Lu]Lu-PSMA, prior ARSI and taxane, no prior radium-223; 004: ECOG 0-1, age
18-70, response after PD-1 inhibitor plus chemotherapy; 000 mentions oligometastatic disease only to
exclude it).
"""

from __future__ import annotations

from pathlib import Path

import pytest

from trialgraph.api import TrialGraph
from trialgraph.namespaces import TGC

PREFIXES = """PREFIX tg: <https://w3id.org/trialgraph/ontology#>
PREFIX tgc: <https://w3id.org/trialgraph/concept/>
PREFIX rdfs: <http://www.w3.org/2000/01/rdf-schema#>
"""


@pytest.fixture(scope="module")
def graph(seeds_dir: Path) -> TrialGraph:
    tg = TrialGraph(None)
    assert tg.ingest([seeds_dir]).ok
    return tg


def _trial_of(graph: TrialGraph, prefix: str) -> str:
    (trial,) = [
        t for t in graph.trial_ids() if graph.trial(t).source.file.rsplit("/", 1)[-1].startswith(prefix)
    ]
    return trial


def ask(graph: TrialGraph, trial_id: str, pattern: str) -> bool:
    query = f"{PREFIXES}ASK {{ GRAPH <https://w3id.org/trialgraph/trial/{trial_id}> {{ {pattern} }} }}"
    return bool(graph.store.query(query))


def test_002_is_an_oligoprogression_trial_with_its_definition(graph: TrialGraph) -> None:
    t = "NCT06592612"
    assert ask(graph, t, f"?trial tg:hasTopic <{TGC}Oligoprogression>")
    assert ask(
        graph,
        t,
        """?c a tg:InclusionCriterion ; tg:hasConstraint ?k .
           ?k a tg:DiseaseStateConstraint ; tg:concept tgc:Oligoprogression ; tg:sense "require" ;
              tg:minLesions 1 ; tg:maxLesions 5 ; tg:minOrgans 1 ; tg:maxOrgans 3 .""",
    )


def test_002_inclusion_accepts_prior_sintilimab_or_pd1_antibody(graph: TrialGraph) -> None:
    for agent in ("sintilimab", "PD1Inhibitor"):
        assert ask(
            graph,
            "NCT06592612",
            f"""?c a tg:InclusionCriterion ; tg:hasConstraint ?k .
                ?k a tg:TherapyConstraint ; tg:permittedTherapy tgc:{agent} .""",
        ), agent


def test_001_medcare(graph: TrialGraph) -> None:
    t = _trial_of(graph, "001")
    assert ask(graph, t, f"?trial tg:hasTopic <{TGC}Oligoprogression>")
    assert ask(
        graph, t, "?k a tg:DiseaseStateConstraint ; tg:concept tgc:Oligoprogression ; tg:maxLesions 3 ."
    )
    assert ask(
        graph, t, '?k a tg:PerformanceConstraint ; tg:scale "WHO" ; tg:minValue 0.0 ; tg:maxValue 1.0 .'
    )
    assert ask(
        graph,
        t,
        """?k a tg:LabConstraint ; tg:analyte "testosterone" ; tg:comparator "<" ; tg:unit "nmol/L" ;
              tg:value ?v . FILTER(?v > 1.69 && ?v < 1.75)""",
    )


def test_003_requires_lu_psma_arsi_and_taxane_and_excludes_radium(graph: TrialGraph) -> None:
    t = "NCT06866938"
    assert ask(
        graph,
        t,
        """?k a tg:TherapyConstraint ; tg:sense "require" ; tg:minCycles 4 ; tg:therapy ?x .
           ?x (rdf:type|rdfs:subClassOf)* tgc:PSMARadioligand .""".replace(
            "rdf:type", "<http://www.w3.org/1999/02/22-rdf-syntax-ns#type>"
        ),
    )
    for cls in ("AndrogenReceptorPathwayInhibitor", "Taxane"):
        assert ask(graph, t, f'?k a tg:TherapyConstraint ; tg:sense "require" ; tg:therapy tgc:{cls} .'), cls
    assert ask(
        graph,
        t,
        """?c a tg:ExclusionCriterion ; tg:hasConstraint ?k .
           ?k tg:sense "exclude" ; tg:therapy tgc:radium-223-dichloride .""",
    )


def test_004_ecog_age_and_response_after_pd1_plus_chemotherapy(graph: TrialGraph) -> None:
    t = _trial_of(graph, "004")
    assert ask(
        graph, t, '?k a tg:PerformanceConstraint ; tg:scale "ECOG" ; tg:minValue 0.0 ; tg:maxValue 1.0 .'
    )
    assert ask(graph, t, "?k a tg:AgeConstraint ; tg:minYears 18.0 ; tg:maxYears 70.0 .")
    assert ask(
        graph,
        t,
        """?k a tg:TherapyConstraint ; tg:sense "require" ; tg:therapy tgc:PD1Inhibitor ;
              tg:outcome "response" .""",
    )


def test_000_excludes_oligometastatic_disease_and_is_not_tagged_with_it(graph: TrialGraph) -> None:
    t = "NCT07268794"
    assert not ask(graph, t, f"?trial tg:hasTopic <{TGC}OligometastaticDisease>")
    assert ask(
        graph,
        t,
        """?c a tg:ExclusionCriterion ; tg:hasConstraint ?k .
           ?k tg:concept tgc:OligometastaticDisease ; tg:sense "exclude" .""",
    )


def test_every_criterion_is_stored_computable_or_not(graph: TrialGraph) -> None:
    rows = list(
        graph.store.query(
            PREFIXES
            + "SELECT ?c WHERE { ?c a tg:EligibilityCriterion FILTER NOT EXISTS { ?c tg:computable ?x } }"
        )
    )
    assert rows == []
    computable = PREFIXES + "SELECT (COUNT(*) AS ?n) WHERE { ?c tg:computable true }"
    not_computable = PREFIXES + "SELECT (COUNT(*) AS ?n) WHERE { ?c tg:computable false }"
    assert int(next(iter(graph.store.query(computable)))["n"].value) > 0
    assert int(next(iter(graph.store.query(not_computable)))["n"].value) > 0


def test_every_constraint_span_is_a_slice_of_its_criterion(graph: TrialGraph) -> None:
    count = 0
    for trial_id in graph.trial_ids():
        for criterion in graph.trial(trial_id).criteria:
            for k in criterion.constraints:
                assert criterion.text[k.start : k.end] == k.text
                count += 1
    assert count > 50
