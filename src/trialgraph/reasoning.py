"""OWL reasoning with owlready2 and HermiT: check the ontology, and materialise what it entails.

HermiT (bundled with owlready2, run on Java) classifies the ontology graph: defined classes such
as "PD-1 inhibitor ≡ a drug agent that targets PD-1" give agents the classes their targets imply.
:func:`classify` returns every entailed ``rdf:type`` and ``rdfs:subClassOf`` between named terms
that is not asserted, as quads of :data:`INFERRED_GRAPH`, so plain SPARQL sees them without a
reasoner. Trial graphs carry no axioms, so only the ontology graph is reasoned over.
"""

from __future__ import annotations

import shutil
import tempfile
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pyoxigraph as ox

from trialgraph.errors import TrialgraphError
from trialgraph.namespaces import BASE, OWL, RDF, RDFS

INFERRED_GRAPH = BASE + "graph/inferred"
"""The named graph holding what the reasoner inferred from the ontology graph."""

_TYPE = ox.NamedNode(RDF + "type")
_SUBCLASS = ox.NamedNode(RDFS + "subClassOf")


class ReasonerError(TrialgraphError):
    """The reasoner could not run (no Java) or failed."""


@dataclass
class ReasoningReport:
    """What HermiT found: consistency, unsatisfiable classes and the inferred quads."""

    consistent: bool
    unsatisfiable: list[str] = field(default_factory=list)
    inferred: list[ox.Quad] = field(default_factory=list)
    seconds: float = 0.0

    @property
    def ok(self) -> bool:
        """True when the ontology is consistent and every class is satisfiable."""
        return self.consistent and not self.unsatisfiable


def _named(entity: Any) -> str | None:
    iri = getattr(entity, "iri", None)
    return iri if isinstance(iri, str) and iri != OWL + "Thing" else None


def classify(quads: Iterable[ox.Quad]) -> ReasoningReport:
    """Run HermiT over the triples of ``quads`` and return what it entails beyond them."""
    if shutil.which("java") is None:
        raise ReasonerError("the OWL reasoner needs Java; `make java` installs a runtime")
    import owlready2

    asserted = {q.triple for q in quads}
    with tempfile.TemporaryDirectory(prefix="trialgraph-owl-") as tmp:
        path = Path(tmp) / "ontology.nt"
        ox.serialize(asserted, str(path), format=ox.RdfFormat.N_TRIPLES)
        world = owlready2.World()
        world.get_ontology(path.as_uri()).load()
        start = time.perf_counter()
        try:
            owlready2.sync_reasoner_hermit(world, infer_property_values=False, debug=0)
        except owlready2.OwlReadyInconsistentOntologyError:
            return ReasoningReport(consistent=False, seconds=time.perf_counter() - start)
        except (OSError, owlready2.OwlReadyJavaError) as exc:
            raise ReasonerError(f"HermiT failed: {exc}") from None
        seconds = time.perf_counter() - start
        unsatisfiable = sorted(i for c in world.inconsistent_classes() if (i := _named(c)))
        entailed: set[ox.Triple] = set()
        for individual in world.individuals():
            subject = _named(individual)
            if subject is None:
                continue
            for cls in individual.is_a:
                for ancestor in getattr(cls, "ancestors", lambda: set())():
                    if iri := _named(ancestor):
                        entailed.add(ox.Triple(ox.NamedNode(subject), _TYPE, ox.NamedNode(iri)))
        for cls in world.classes():
            subject = _named(cls)
            if subject is None:
                continue
            for ancestor in cls.ancestors():
                iri = _named(ancestor)
                if iri and iri != subject:
                    entailed.add(ox.Triple(ox.NamedNode(subject), _SUBCLASS, ox.NamedNode(iri)))
    graph = ox.NamedNode(INFERRED_GRAPH)
    inferred = sorted(
        (ox.Quad(t.subject, t.predicate, t.object, graph) for t in entailed - asserted), key=str
    )
    return ReasoningReport(True, unsatisfiable, inferred, seconds)
