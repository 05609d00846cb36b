"""The embedded store: an on-disk pyoxigraph (RocksDB) dataset with one named graph per trial.

The store knows graphs and quads, not trials. Writing a graph is one transaction: a reader sees
the old graph or the new one, never a mix, and a crash leaves one or the other. A batch of new
graphs (an ingest) is one atomic bulk write, with the same guarantee for each graph of the batch.

>>> from pyoxigraph import Literal, NamedNode, Quad
>>> store = TrialStore(None)
>>> g = NamedNode("https://example.org/g")
>>> store.replace_graph(g, [Quad(g, NamedNode("https://example.org/p"), Literal("1"), g)])
True
>>> store.count(g)
1
"""

from __future__ import annotations

import contextlib
import os
import time
import uuid
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any, TypeVar

import pyoxigraph as ox

from trialgraph.errors import StoreError

if TYPE_CHECKING:
    from trialgraph.results import QueryResult

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


STAMP_FILE = "content-stamp"
"""The file in a store's directory whose token names the store's content (see :meth:`TrialStore.stamp`)."""
CHANGES_FILE = "content-changes"
"""The file in a store's directory listing the graphs of each write (:meth:`TrialStore.changed_since`)."""
_UNSETTLED = "writing"
_NO_STAMP = "-"
_CHANGES_LIMIT = 1 << 20
"""Bytes of the change list; a write that would pass it starts the list anew (older changes unknown)."""

_T = TypeVar("_T")
_VANISHED = "No such file or directory"
_OPEN_ATTEMPTS = 8


def _open_read_only(path: str) -> ox.Store:
    """``Store.read_only``, tried again while a concurrent writer replaces the files it was reading.

    A read-only open reads the file list, then the files; a writer (an ingest) compacting or
    ingesting in between removes some, and RocksDB reports them missing ("Corruption: IO error:
    No such file"). The files are immutable and replaced atomically, so a later attempt sees a
    complete, consistent state.
    """
    for attempt in range(_OPEN_ATTEMPTS):
        try:
            return ox.Store.read_only(path)
        except (OSError, RuntimeError) as exc:
            last = attempt == _OPEN_ATTEMPTS - 1
            if last or _VANISHED not in str(exc) or not Path(path, "CURRENT").exists():
                raise
            time.sleep(0.02 * 2**attempt)
    raise AssertionError("unreachable")


def _remove_unfinished_bulk_files(path: Path) -> None:
    """Delete the files of a bulk load that was killed before the engine ingested them.

    The engine writes a batch as ``bulk-*.sst`` files in the store, then ingests them in one step
    (renaming them). A killed load leaves them behind, unused, as big as the batch. Only the
    process holding the store's lock loads, so in this one any such file is a leftover.
    """
    for leftover in path.glob("bulk-*.sst"):
        leftover.unlink(missing_ok=True)


def _read_stamp(path: Path) -> str | None:
    try:
        token = (path / STAMP_FILE).read_text(encoding="ascii").strip()
    except (OSError, UnicodeDecodeError):
        return None
    return token if token and token != _UNSETTLED else None


def _write_stamp(path: Path, token: str) -> None:
    temporary = path / f"{STAMP_FILE}.{os.getpid()}"
    temporary.write_text(token + "\n", encoding="ascii")
    temporary.replace(path / STAMP_FILE)


def unsettle_stamp(path: str | os.PathLike[str]) -> None:
    """Say a write to the store at ``path`` is under way: no stamp until :func:`new_stamp`."""
    _write_stamp(Path(path), _UNSETTLED)


def new_stamp(path: str | os.PathLike[str]) -> str:
    """Name the content of the store at ``path`` after a finished write with a new token, and return it."""
    token = uuid.uuid4().hex
    _write_stamp(Path(path), token)
    return token


def _record_changes(path: Path, before: str | None, after: str, graphs: Iterable[str]) -> None:
    """Add a line to the change list: the stamps before and after a write, and the graphs it changed."""
    line = " ".join([before or _NO_STAMP, after, *sorted(graphs)]) + "\n"
    changes = path / CHANGES_FILE
    try:
        size = changes.stat().st_size
    except FileNotFoundError:
        size = 0
    if size + len(line) <= _CHANGES_LIMIT:
        with changes.open("a", encoding="utf-8") as file:
            file.write(line)
        return
    temporary = path / f"{CHANGES_FILE}.{os.getpid()}"
    temporary.write_text(line, encoding="utf-8")
    temporary.replace(changes)


def _changes_between(text: str, since: str, until: str) -> set[str] | None:
    """The graphs the change list ``text`` names from stamp ``since`` to ``until``; None if a link is lost."""
    changed: set[str] = set()
    expected = None
    for line in text.split("\n")[:-1]:  # the last one is empty, or a line still being written
        before, _, rest = line.partition(" ")
        after, _, names = rest.partition(" ")
        if not after:  # not a line this module writes: the list is damaged, trust none of it
            return None
        if expected is None:
            if before != since:
                continue
        elif before != expected:  # a write not made through a TrialStore (a SPARQL update) between
            return None
        changed.update(names.split(" ") if names else ())
        expected = after
        if after == until:
            return changed
    return None


class _Solutions(list[Any]):
    """SELECT solutions read to the end, with their ``variables`` (as pyoxigraph's ``QuerySolutions``)."""

    def __init__(self, solutions: Any) -> None:
        super().__init__(solutions)
        self.variables = solutions.variables


class TrialStore:
    """An on-disk RDF dataset; ``path=None`` gives an in-memory store (for tests and examples)."""

    def __init__(self, path: str | os.PathLike[str] | None, read_only: bool = False) -> None:
        self.path = Path(path) if path is not None else None
        self._stamp: str | None = None
        self._writes = 0  # write operations under way (one may call another)
        self._changed: set[str] = set()  # the graphs the write under way changed
        self._reopen = False  # a read-only store on disk, reopened when a writer removes its files
        try:
            if path is None:
                self._store = ox.Store()
            elif read_only:
                # read before the snapshot is taken: a write finishing in between gives the stamp of
                # older content, which no later reader holds (every write makes a new token)
                self._stamp = _read_stamp(Path(path))
                self._store = _open_read_only(str(path))
                self._reopen = True
            else:
                self._store = ox.Store(str(path))
                _remove_unfinished_bulk_files(Path(path))
                self._stamp = _read_stamp(Path(path))
        except (OSError, RuntimeError) as exc:
            text = str(exc)
            if any(hint in text for hint in _LOCK_HINTS):
                raise StoreError(
                    f"store {path} is locked: another trialgraph process is writing to it; "
                    "wait for it to finish"
                ) from None
            raise StoreError(f"cannot open store {path}: {text}") from None
        self.generation = 0
        """Counts the writes made through this object, and the reopenings of a read-only store. A writer
        holds the store's lock and a read-only store is a snapshot until it is reopened, so an
        unchanged generation means unchanged content (caches rely on it)."""

    @property
    def stamp(self) -> str | None:
        """A token naming the store's content, which every write through a :class:`TrialStore` replaces.

        It lives in the store's directory (:data:`STAMP_FILE`), so a cache of what was read from
        the store can be kept on disk and trusted while the token is unchanged, across processes.
        None for an in-memory store, while a write is unfinished (or was killed), for a store
        written before stamps existed, and for a read-only store reopened under a writer.
        """
        return self._stamp

    def changed_since(self, stamp: str) -> set[str] | None:
        """The names of the graphs written since the store's content was named ``stamp``; None if unknown.

        Known while the store has a stamp, every write since was made through a
        :class:`TrialStore`, and the change list (:data:`CHANGES_FILE`, kept to about a megabyte)
        still reaches back to ``stamp``. A cache of what was read under an older stamp can then be
        brought up to date by reading only these graphs again.
        """
        if self._stamp is None or self.path is None:
            return None
        if stamp == self._stamp:
            return set()
        try:
            text = (self.path / CHANGES_FILE).read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError):
            return None
        return _changes_between(text, stamp, self._stamp)

    @contextlib.contextmanager
    def _writing(self) -> Iterator[set[str]]:
        """Around a write: the stamp says "writing" until the write is done, then names the new content.

        The write adds the names of the graphs it changes to the set it is given; they are recorded
        in the change list, with the stamps before and after, before the new stamp is written.
        """
        self.generation += 1
        before = self._stamp
        if self.path is not None and self._writes == 0:
            self._stamp = None
            self._changed = set()
            unsettle_stamp(self.path)
        self._writes += 1
        try:
            yield self._changed
        finally:
            self._writes -= 1
        if self.path is not None and self._writes == 0:  # a failed write leaves "writing"
            token = uuid.uuid4().hex
            _record_changes(self.path, before, token, self._changed)
            _write_stamp(self.path, token)
            self._stamp = token

    def replace_graph(
        self, graph: ox.NamedNode, quads: Sequence[ox.Quad], volatile: frozenset[ox.NamedNode] = frozenset()
    ) -> bool:
        """Make ``graph`` hold exactly ``quads`` (all in ``graph``), atomically; False if it already did.

        Quads whose predicate is in ``volatile`` (an ingest timestamp) do not count as a change.
        """
        with self._writing() as changed:
            if self._replace_graph(graph, quads, volatile):
                changed.add(graph.value)
                return True
            return False

    def _replace_graph(
        self, graph: ox.NamedNode, quads: Sequence[ox.Quad], volatile: frozenset[ox.NamedNode]
    ) -> bool:
        if not self._store.contains_named_graph(graph):
            self._store.extend(quads)
            return bool(quads)  # no quads for a graph the store does not hold: it held them already
        if self._graph_equals(graph, quads, volatile):
            return False
        body = ox.serialize((q.triple for q in quads), format=ox.RdfFormat.N_TRIPLES)
        text = body.decode("utf-8") if body else ""
        self._store.update(f"DROP SILENT GRAPH {graph} ; INSERT DATA {{ GRAPH {graph} {{ {text} }} }}")
        return True

    def replace_graphs(
        self, graphs: Iterable[tuple[ox.NamedNode, bytes]], volatile: frozenset[ox.NamedNode] = frozenset()
    ) -> list[bool]:
        """:meth:`replace_graph` for many graphs, each given as N-Quads (all in its graph); one bool each.

        The graphs not yet in the store, the whole batch of them on a fresh ingest, are written with
        one bulk load: the engine parses the N-Quads itself (no Python objects per quad) and adds
        the batch in one atomic ingestion of index files, so each graph is in whole or not at all,
        and readers see the batch appear at once. A graph already in the store is replaced by
        :meth:`replace_graph`, in its own transaction. A graph named twice is written in order.
        """
        with self._writing() as changed:
            return self._replace_graphs(graphs, volatile, changed)

    def _replace_graphs(
        self, graphs: Iterable[tuple[ox.NamedNode, bytes]], volatile: frozenset[ox.NamedNode], names: set[str]
    ) -> list[bool]:
        """:meth:`replace_graphs`, adding the name of each graph it changes to ``names``."""
        changed: list[bool] = []
        fresh: list[bytes] = []
        batch: set[ox.NamedNode] = set()
        for graph, data in graphs:
            if graph in batch:  # written in this batch already: write it, then replace it as usual
                self._bulk_add(fresh)
                fresh, batch = [], set()
            if self._store.contains_named_graph(graph):
                quads = list(ox.parse(data, format=ox.RdfFormat.N_QUADS)) if data else []
                changed.append(self._replace_graph(graph, quads, volatile))
            else:
                fresh.append(data)
                batch.add(graph)
                changed.append(bool(data))
            if changed[-1]:
                names.add(graph.value)
        self._bulk_add(fresh)
        return changed

    def _bulk_add(self, documents: list[bytes]) -> None:
        # Serialized by pyoxigraph in the worker that mapped the trial: valid terms, so lenient parsing.
        data = b"".join(documents)
        if data:
            self._store.bulk_load(data, format=ox.RdfFormat.N_QUADS, lenient=True)

    def _graph_equals(
        self, graph: ox.NamedNode, quads: Sequence[ox.Quad], volatile: frozenset[ox.NamedNode]
    ) -> bool:
        current = {
            q for q in self._store.quads_for_pattern(None, None, None, graph) if q.predicate not in volatile
        }
        return current == {q for q in quads if q.predicate not in volatile}

    def remove_graph(self, graph: ox.NamedNode) -> None:
        """Remove a named graph and its quads."""
        with self._writing() as changed:
            self._store.remove_graph(graph)
            changed.add(graph.value)

    def contains(self, quad: ox.Quad) -> bool:
        """Whether the store holds this quad."""
        return quad in self._store

    def has_graph(self, graph: ox.NamedNode) -> bool:
        """Whether the named graph exists."""
        return self._read(lambda store: bool(store.contains_named_graph(graph)))

    def graphs(self) -> Iterator[ox.NamedNode]:
        """The names of all named graphs."""
        names = self._read(lambda store: [g for g in store.named_graphs() if isinstance(g, ox.NamedNode)])
        return iter(names)

    def quads(self, graph: ox.NamedNode | None = None) -> Iterator[ox.Quad]:
        """The quads of one named graph (read at once), or of the whole store (streamed)."""
        if graph is not None and self._reopen:
            return iter(self._read(lambda store: list(store.quads_for_pattern(None, None, None, graph))))
        return iter(self._store.quads_for_pattern(None, None, None, graph))

    def _read(self, read: Callable[[ox.Store], _T]) -> _T:
        """``read(store)``; again on a fresh open when a concurrent writer removed files it needed.

        A read-only open is a snapshot whose files a writer (an ingest) may delete after compacting
        them, which RocksDB reports as "No such file or directory"; a new open sees the writer's
        newer, consistent state. Only reads that finish inside ``read`` can be repeated this way.
        """
        for attempt in range(_OPEN_ATTEMPTS):
            try:
                return read(self._store)
            except (OSError, RuntimeError) as exc:
                if not self._reopen or _VANISHED not in str(exc):
                    raise
                if attempt == _OPEN_ATTEMPTS - 1:
                    raise StoreError(
                        f"store {self.path} kept changing while it was read (an ingest is writing it): {exc}"
                    ) from None
                time.sleep(0.02 * 2**attempt)
                self._store = _open_read_only(str(self.path))
                self.generation += 1
                self._stamp = None  # newer than the stamp read at the first open
        raise AssertionError("unreachable")

    def with_predicate(self, predicate: ox.NamedNode, graph: ox.NamedNode | None = None) -> Iterator[ox.Quad]:
        """Every quad with this predicate, in one named graph or in any (read at once when read-only)."""
        if self._reopen:
            return iter(self._read(lambda store: list(store.quads_for_pattern(None, predicate, None, graph))))
        return iter(self._store.quads_for_pattern(None, predicate, None, graph))

    def count(self, graph: ox.NamedNode | None = None) -> int:
        """The number of quads in one named graph, or in the whole store."""
        return self._read(lambda store: sum(1 for _ in store.quads_for_pattern(None, None, None, graph)))

    def query(
        self,
        sparql: str,
        bindings: Mapping[str, ox.NamedNode | ox.Literal] | None = None,
        prefixes: Mapping[str, str] | None = None,
    ) -> Any:
        """Run a SPARQL query over the union of all graphs, with engine-bound variable values."""

        def read(result: Any) -> Any:
            # Read to the end here, where a read that loses its files to a writer can be repeated.
            return _Solutions(result) if self._reopen and isinstance(result, ox.QuerySolutions) else result

        return self._query(sparql, bindings, prefixes, read)

    def query_result(
        self,
        sparql: str,
        bindings: Mapping[str, ox.NamedNode | ox.Literal] | None = None,
        prefixes: Mapping[str, str] | None = None,
    ) -> QueryResult:
        """Run a SPARQL SELECT or ASK query as :meth:`query` does and read its whole answer."""
        from trialgraph.results import QueryResult  # here: results imports rdflib, the store need not

        return self._query(sparql, bindings, prefixes, QueryResult.from_oxigraph)

    def _query(
        self,
        sparql: str,
        bindings: Mapping[str, ox.NamedNode | ox.Literal] | None,
        prefixes: Mapping[str, str] | None,
        read: Callable[[Any], _T],
    ) -> _T:
        substitutions: dict[ox.Variable, ox.NamedNode | ox.BlankNode | ox.Literal | ox.Triple] = {
            ox.Variable(k): v for k, v in (bindings or {}).items()
        }

        def run(store: ox.Store) -> _T:
            return read(
                store.query(
                    sparql,
                    use_default_graph_as_union=True,
                    substitutions=substitutions or None,
                    prefixes=dict(prefixes) if prefixes else None,
                )
            )

        try:
            return self._read(run)
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

    def optimize(self) -> None:
        """Compact the store's files on disk (a writer only): bulk writes leave overlapping files."""
        if self.path is not None and not self._reopen:
            self._store.optimize()
