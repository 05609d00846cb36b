"""Export: the store's graphs, or the result of a CONSTRUCT query, in any standard serialization, streamed.

Quads go from the store to the serializer one at a time, graph by graph (only the list of graph
names is held), so the memory an export needs does not grow with the store. ``.gz`` output is
compressed on the fly.

>>> import io
>>> from trialgraph.store import TrialStore
>>> store = TrialStore(None)
>>> g = ox.NamedNode("https://example.org/g")
>>> _ = store.replace_graph(g, [ox.Quad(g, ox.NamedNode("https://example.org/p"), ox.Literal("1"), g)])
>>> out = io.BytesIO()
>>> export_construct(store, out, "ntriples", "CONSTRUCT { ?s ?p ?o } WHERE { ?s ?p ?o }")
1
>>> out.getvalue()
b'<https://example.org/g> <https://example.org/p> "1" .\\n'
"""

from __future__ import annotations

import contextlib
import gzip
import sys
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import IO, cast

import pyoxigraph as ox

from trialgraph.errors import StoreError
from trialgraph.namespaces import PREFIXES
from trialgraph.store import FORMATS, QUAD_FORMATS, TrialStore

EXTENSIONS = {
    ".ttl": "turtle",
    ".nt": "ntriples",
    ".nq": "nquads",
    ".trig": "trig",
    ".jsonld": "jsonld",
    ".rdf": "rdfxml",
    ".owl": "rdfxml",
}
"""Output file extensions and the format each implies."""


def format_for(path: str | None, default: str = "turtle") -> str:
    """The format a file name implies (``trials.nq.gz`` -> nquads), else ``default``.

    >>> format_for("out/trials.nq.gz"), format_for("x.bin"), format_for(None, "trig")
    ('nquads', 'turtle', 'trig')
    """
    if path is None:
        return default
    suffixes = [s.lower() for s in Path(path).suffixes if s.lower() != ".gz"]
    return EXTENSIONS.get(suffixes[-1], default) if suffixes else default


@contextlib.contextmanager
def open_output(path: str | None, compress: bool = False) -> Iterator[IO[bytes]]:
    """A binary stream to ``path`` (None: stdout), gzip-compressed when asked or when it ends in ``.gz``."""
    compress = compress or (path is not None and path.lower().endswith(".gz"))
    with contextlib.ExitStack() as stack:
        raw: IO[bytes]
        if path is None:
            raw = stack.enter_context(open(sys.stdout.fileno(), "wb", closefd=False))
        else:
            raw = stack.enter_context(open(path, "wb"))
        if compress:
            compressed = cast(IO[bytes], gzip.GzipFile(fileobj=raw, mode="wb", mtime=0))
            stack.callback(compressed.close)
            yield compressed
        else:
            yield raw


class _Counter:
    """Counts the triples or quads flowing through it."""

    def __init__(self) -> None:
        self.count = 0

    def triples(self, items: Iterator[ox.Triple]) -> Iterator[ox.Triple]:
        """Pass ``items`` through, counting."""
        for item in items:
            self.count += 1
            yield item

    def quads(self, items: Iterator[ox.Triple]) -> Iterator[ox.Quad]:
        """Pass ``items`` through as quads of the default graph, counting."""
        for item in items:
            self.count += 1
            yield ox.Quad(item.subject, item.predicate, item.object)


def export_construct(
    store: TrialStore,
    output: IO[bytes],
    fmt: str,
    query: str,
    prefixes: Mapping[str, str] | None = None,
) -> int:
    """Serialize the triples a CONSTRUCT (or DESCRIBE) query builds over the union graph; their number."""
    if fmt not in FORMATS:
        raise StoreError(f"unknown format {fmt!r}; expected one of {', '.join(sorted(FORMATS))}")
    result = store.query(query)
    if not isinstance(result, ox.QueryTriples):
        raise StoreError("--construct needs a CONSTRUCT or DESCRIBE query")
    counter = _Counter()
    stream = counter.quads(iter(result)) if fmt in QUAD_FORMATS else counter.triples(iter(result))
    ox.serialize(stream, output, FORMATS[fmt], prefixes=dict(prefixes if prefixes is not None else PREFIXES))
    return counter.count
