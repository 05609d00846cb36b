"""Data-quality validation of the stored graph against ``shapes/data-quality.ttl`` with pySHACL.

Each trial graph is validated on its own, together with the ontology's controlled values (so
``sh:class tg:TrialPhase`` sees the phases), which keeps memory bounded on a large store.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from functools import cache

import pyoxigraph as ox
import rdflib
from pyshacl import validate
from rdflib.namespace import RDF, SH

from trialgraph import rdf
from trialgraph.namespaces import TG
from trialgraph.resources import SHAPES_DIR


@dataclass(frozen=True)
class QualityResult:
    """One data-quality finding: trial, severity (Violation or Warning), node, path and message."""

    trial_id: str
    severity: str
    focus: str
    path: str | None
    message: str


@cache
def _shapes() -> rdflib.Graph:
    return rdflib.Graph().parse(SHAPES_DIR / "data-quality.ttl", format="turtle")


@cache
def _controlled_values() -> tuple[tuple[rdflib.URIRef, rdflib.URIRef, rdflib.URIRef], ...]:
    """``rdf:type`` triples of the ontology's coded values and of the classes trial nodes use."""
    out = []
    for q in rdf.ontology_quads():
        s, o = q.subject, q.object
        if (
            q.predicate.value != str(RDF.type)
            or not isinstance(s, ox.NamedNode)
            or not isinstance(o, ox.NamedNode)
        ):
            continue
        if s.value.startswith(TG) and "-" in s.value:
            out.append((rdflib.URIRef(s.value), RDF.type, rdflib.URIRef(o.value)))
    return tuple(out)


def _to_rdflib(quads: Iterable[ox.Quad]) -> rdflib.Graph:
    graph = rdflib.Graph()
    data = ox.serialize((q.triple for q in quads), format=ox.RdfFormat.N_TRIPLES)
    if data:
        graph.parse(data=data, format="nt")
    for triple in _controlled_values():
        graph.add(triple)
    return graph


def validate_trial(trial_id: str, quads: Iterable[ox.Quad]) -> list[QualityResult]:
    """The data-quality findings of one trial graph."""
    graph = _to_rdflib(quads)
    _, report, _ = validate(graph, shacl_graph=_shapes(), inference="none", advanced=True)
    results = []
    for node in report.subjects(RDF.type, SH.ValidationResult):
        severity = str(report.value(node, SH.resultSeverity)).rsplit("#", 1)[-1]
        path = report.value(node, SH.resultPath)
        results.append(
            QualityResult(
                trial_id,
                severity,
                str(report.value(node, SH.focusNode)),
                None if path is None or isinstance(path, rdflib.BNode) else str(path),
                str(report.value(node, SH.resultMessage) or ""),
            )
        )
    return sorted(results, key=lambda r: (r.severity != "Violation", r.focus, r.message))


def validate_trials(graphs: Iterable[tuple[str, Iterable[ox.Quad]]]) -> Iterator[QualityResult]:
    """The findings of each ``(trial_id, quads)`` in turn."""
    for trial_id, quads in graphs:
        yield from validate_trial(trial_id, quads)
