"""The IRIs trialgraph mints: one place, so every module and data file agrees.

>>> trial_iri("NCT06592612")
'https://w3id.org/trialgraph/trial/NCT06592612'
"""

from __future__ import annotations

BASE = "https://w3id.org/trialgraph/"
TG = BASE + "ontology#"
"""The schema: classes and properties of the trial model and the vocabulary."""
TGC = BASE + "concept/"
"""Concepts of the vocabulary: drug classes, agents, diseases, states, scales, procedures."""
TRIAL = BASE + "trial/"
ONTOLOGY_GRAPH = BASE + "graph/ontology"
"""The named graph holding the ontology and the concept vocabulary."""

SCHEMA = "https://schema.org/"
OBO = "http://purl.obolibrary.org/obo/"
PROV = "http://www.w3.org/ns/prov#"
SKOS = "http://www.w3.org/2004/02/skos/core#"
DCT = "http://purl.org/dc/terms/"
RDF = "http://www.w3.org/1999/02/22-rdf-syntax-ns#"
RDFS = "http://www.w3.org/2000/01/rdf-schema#"
OWL = "http://www.w3.org/2002/07/owl#"
XSD = "http://www.w3.org/2001/XMLSchema#"
SH = "http://www.w3.org/ns/shacl#"

PREFIXES = {
    "tg": TG,
    "tgc": TGC,
    "trial": TRIAL,
    "schema": SCHEMA,
    "obo": OBO,
    "prov": PROV,
    "skos": SKOS,
    "dct": DCT,
    "rdf": RDF,
    "rdfs": RDFS,
    "owl": OWL,
    "xsd": XSD,
    "sh": SH,
}


def trial_iri(trial_id: str) -> str:
    """The IRI of a trial, which is also the name of the graph that holds it."""
    return TRIAL + trial_id
