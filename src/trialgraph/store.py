"""The embedded store: an on-disk pyoxigraph (RocksDB) dataset with one named graph per trial.

The store knows graphs and quads, not trials. Writing a graph is one transaction: a reader sees
the old graph or the new one, never a mix, and a crash leaves one or the other.

>>> from pyoxigraph import Literal, NamedNode, Quad
>>> store = TrialStore(None)
>>> g = NamedNode("https://example.org/g")
>>> store.replace_graph(g, [Quad(g, NamedNode("https://example.org/p"), Literal("1"), g)])
True
>>> store.count(g)
1
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import IO, Any

import pyoxigraph as ox

from trialgraph.errors import StoreError

_LOCK_HINTS = ("lock", "Resource temporarily unavailable", "already in use")

FORMATS: dict[str, ox.RdfFormat] = {
    "turtle": ox.RdfFormat.TURTLE,
    "ntriples": ox.RdfFormat.N_TRIPLES,
    "nquads": ox.RdfFormat.N_QUADS,
    "trig": ox.RdfFormat.TRIG,
    "jsonld": ox.RdfFormat.JSON_LD,
    "rdfxml": ox.RdfFormat.RDF_XML,
}
"""Serialization formats by their command-line name."""
QUAD_FORMATS = frozenset({"nquads", "trig", "jsonld"})
"""Formats that keep named graphs."""


class TrialStore:
    """An on-disk RDF dataset; ``path=None`` gives an in-memory store (for tests and examples)."""

    def __init__(self, path: str | os.PathLike[str] | None, read_only: bool = False) -> None:
        self.path = Path(path) if path is not None else None
        try:
            if path is None:
                self._store = ox.Store()
            elif read_only:
                self._store = ox.Store.read_only(str(path))
            else:
                self._store = ox.Store(str(path))
        except OSError as exc:
            text = str(exc)
            if any(hint in text for hint in _LOCK_HINTS):
                raise StoreError(
                    f"store {path} is locked: another trialgraph process is writing to it; "
                    "wait for it to finish"
                ) from None
            raise StoreError(f"cannot open store {path}: {text}") from None
        self.generation = 0
        """Counts the writes made through this object. A writer holds the store's lock and a read-only
        store is a snapshot, so an unchanged generation means unchanged content (caches rely on it)."""

    def replace_graph(
        self, graph: ox.NamedNode, quads: Sequence[ox.Quad], volatile: frozenset[ox.NamedNode] = frozenset()
    ) -> bool:
        """Make ``graph`` hold exactly ``quads`` (all in ``graph``), atomically; False if it already did.

        Quads whose predicate is in ``volatile`` (an ingest timestamp) do not count as a change.
        """
        self.generation += 1
        if not self._store.contains_named_graph(graph):
            self._store.extend(quads)
            return True
        if self._graph_equals(graph, quads, volatile):
            return False
        body = ox.serialize((q.triple for q in quads), format=ox.RdfFormat.N_TRIPLES)
        text = body.decode("utf-8") if body else ""
        self._store.update(f"DROP SILENT GRAPH {graph} ; INSERT DATA {{ GRAPH {graph} {{ {text} }} }}")
        return True

    def _graph_equals(
        self, graph: ox.NamedNode, quads: Sequence[ox.Quad], volatile: frozenset[ox.NamedNode]
    ) -> bool:
        current = {
            q for q in self._store.quads_for_pattern(None, None, None, graph) if q.predicate not in volatile
        }
        return current == {q for q in quads if q.predicate not in volatile}

    def remove_graph(self, graph: ox.NamedNode) -> None:
        """Remove a named graph and its quads."""
        self.generation += 1
        self._store.remove_graph(graph)

    def contains(self, quad: ox.Quad) -> bool:
        """Whether the store holds this quad."""
        return quad in self._store

    def has_graph(self, graph: ox.NamedNode) -> bool:
        """Whether the named graph exists."""
        return bool(self._store.contains_named_graph(graph))

    def graphs(self) -> Iterator[ox.NamedNode]:
        """The names of all named graphs."""
        for g in self._store.named_graphs():
            if isinstance(g, ox.NamedNode):
                yield g

    def quads(self, graph: ox.NamedNode | None = None) -> Iterator[ox.Quad]:
        """The quads of one named graph, or of the whole store."""
        return iter(self._store.quads_for_pattern(None, None, None, graph))

    def with_predicate(self, predicate: ox.NamedNode, graph: ox.NamedNode | None = None) -> Iterator[ox.Quad]:
        """Every quad with this predicate, in one named graph or in any."""
        return iter(self._store.quads_for_pattern(None, predicate, None, graph))

    def count(self, graph: ox.NamedNode | None = None) -> int:
        """The number of quads in one named graph, or in the whole store."""
        return sum(1 for _ in self._store.quads_for_pattern(None, None, None, graph))

    def query(
        self,
        sparql: str,
        bindings: Mapping[str, ox.NamedNode | ox.Literal] | None = None,
        prefixes: Mapping[str, str] | None = None,
    ) -> Any:
        """Run a SPARQL query over the union of all graphs, with engine-bound variable values."""
        substitutions: dict[ox.Variable, ox.NamedNode | ox.BlankNode | ox.Literal | ox.Triple] = {
            ox.Variable(k): v for k, v in (bindings or {}).items()
        }
        try:
            return self._store.query(
                sparql,
                use_default_graph_as_union=True,
                substitutions=substitutions or None,
                prefixes=dict(prefixes) if prefixes else None,
            )
        except SyntaxError as exc:
            raise StoreError(f"invalid SPARQL: {exc}") from None

    def dump(
        self,
        output: IO[bytes],
        fmt: str,
        graphs: Iterable[ox.NamedNode] | None = None,
        prefixes: Mapping[str, str] | None = None,
    ) -> None:
        """Serialize the given graphs (default: all) to ``output``, streaming graph by graph."""
        names = list(graphs) if graphs is not None else list(self.graphs())
        quads = (q for name in names for q in self._store.quads_for_pattern(None, None, None, name))
        rdf_input = quads if fmt in QUAD_FORMATS else (q.triple for q in quads)
        ox.serialize(rdf_input, output, FORMATS[fmt], prefixes=dict(prefixes or {}))

    def flush(self) -> None:
        """Write buffered data to disk."""
        if self.path is not None:
            self._store.flush()
