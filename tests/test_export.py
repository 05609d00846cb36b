"""Export: every serialization round-trips, gzip, CONSTRUCT selections, bounded memory, the command line."""

from __future__ import annotations

import gzip
import io
import subprocess
import sys
import tracemalloc
from pathlib import Path

import pyoxigraph as ox
import pytest
import rdflib
from rdflib.compare import isomorphic

from trialgraph.api import TrialGraph
from trialgraph.export import export_construct, format_for
from trialgraph.namespaces import ONTOLOGY_GRAPH, TRIAL
from trialgraph.store import FORMATS, QUAD_FORMATS, TrialStore

CONSTRUCT = """PREFIX tg: <https://w3id.org/trialgraph/ontology#>
CONSTRUCT { ?trial tg:nctId ?id ; a tg:ClinicalTrial } WHERE { ?trial a tg:ClinicalTrial ; tg:nctId ?id }
"""


@pytest.fixture(scope="module")
def store_dir(tmp_path_factory: pytest.TempPathFactory, seeds_dir: Path) -> Path:
    """An on-disk store of the five examples."""
    path = tmp_path_factory.mktemp("export") / "store"
    tg = TrialGraph(path)
    assert tg.ingest([seeds_dir]).ok
    del tg
    return path


@pytest.fixture(scope="module")
def tg(store_dir: Path) -> TrialGraph:
    """The example store, read-only."""
    return TrialGraph(store_dir, read_only=True)


def to_rdflib(quads: list[ox.Quad]) -> rdflib.Graph:
    """Triples of ``quads`` as an rdflib graph (N-Triples round trip keeps blank nodes apart)."""
    data = ox.serialize([q.triple for q in quads], format=ox.RdfFormat.N_TRIPLES) or b""
    return rdflib.Graph().parse(data=data.decode(), format="nt")


@pytest.mark.parametrize("fmt", sorted(FORMATS))
def test_every_format_round_trips_into_a_fresh_store(tg: TrialGraph, fmt: str) -> None:
    """Export, load into a new store, compare: quad formats graph by graph, triple formats as one graph."""
    out = io.BytesIO()
    tg.export(out, fmt, include_ontology=True)
    fresh = ox.Store()
    fresh.load(out.getvalue(), format=FORMATS[fmt])
    names = [g.value for g in tg.store.graphs()]
    if fmt in QUAD_FORMATS:
        assert {g.value for g in fresh.named_graphs()} == set(names)
        for name in names:
            graph = ox.NamedNode(name)
            got = list(fresh.quads_for_pattern(None, None, None, graph))
            assert isomorphic(to_rdflib(got), to_rdflib(list(tg.store.quads(graph)))), name
    else:
        got = list(fresh.quads_for_pattern(None, None, None, ox.DefaultGraph()))
        assert isomorphic(to_rdflib(got), to_rdflib(list(tg.store.quads())))


def test_triple_formats_of_a_selection_hold_only_it(tg: TrialGraph) -> None:
    """``--trial`` selects a graph; the ontology stays out unless asked."""
    out = io.BytesIO()
    tg.export(out, "turtle", ["NCT06592612"])
    graph = rdflib.Graph().parse(data=out.getvalue().decode(), format="turtle")
    subjects = {str(s) for s in graph.subjects()}
    assert subjects and all(s.startswith(TRIAL + "NCT06592612") for s in subjects)


def test_the_ontology_flag_decides_the_ontology_vocabulary_and_inferences(seeds_dir: Path) -> None:
    """Without the flag: trial graphs only; with it: the ontology and vocabulary graph and the inferences."""
    from trialgraph.reasoning import INFERRED_GRAPH

    tg = TrialGraph(None)
    assert tg.ingest([seeds_dir]).ok
    inferred = ox.NamedNode(INFERRED_GRAPH)
    drug = ox.NamedNode("https://example.org/a-drug")
    tg.store.replace_graph(inferred, [ox.Quad(drug, ox.NamedNode(str(rdflib.RDF.type)), drug, inferred)])
    trials = {TRIAL + t for t in tg.trial_ids()}
    assert len(trials) == 5
    for include, expected in ((False, trials), (True, trials | {ONTOLOGY_GRAPH, INFERRED_GRAPH})):
        out = io.BytesIO()
        tg.export(out, "nquads", include_ontology=include)
        names = {q.graph_name.value for q in ox.parse(out.getvalue(), format=ox.RdfFormat.N_QUADS)}
        assert names == expected, include
    out = io.BytesIO()
    tg.export(out, "trig", ["NCT06592612"], include_ontology=True)  # a selection: no inferences
    names = {q.graph_name.value for q in ox.parse(out.getvalue(), format=ox.RdfFormat.TRIG)}
    assert names == {ONTOLOGY_GRAPH, TRIAL + "NCT06592612"}
    # ontology/concepts/therapies.ttl: tgc:pembrolizumab skos:prefLabel "pembrolizumab"@en
    label = ox.Quad(
        ox.NamedNode("https://w3id.org/trialgraph/concept/pembrolizumab"),
        ox.NamedNode("http://www.w3.org/2004/02/skos/core#prefLabel"),
        ox.Literal("pembrolizumab", language="en"),
        ox.NamedNode(ONTOLOGY_GRAPH),
    )
    assert label in set(ox.parse(out.getvalue(), format=ox.RdfFormat.TRIG))


def test_construct_selection(tg: TrialGraph) -> None:
    """A CONSTRUCT query's triples are exported, over the union graph."""
    out = io.BytesIO()
    count = export_construct(tg.store, out, "ntriples", CONSTRUCT)
    graph = rdflib.Graph().parse(data=out.getvalue().decode(), format="nt")
    assert count == len(graph) == 6  # three trials with an NCT ID, two triples each
    ids = {
        str(o) for o in graph.objects(predicate=rdflib.URIRef("https://w3id.org/trialgraph/ontology#nctId"))
    }
    assert ids == {"NCT06592612", "NCT06866938", "NCT07268794"}


def test_construct_into_a_quad_format_lands_in_the_default_graph(tg: TrialGraph) -> None:
    """N-Quads of a CONSTRUCT result: triples of the default graph."""
    out = io.BytesIO()
    export_construct(tg.store, out, "nquads", CONSTRUCT)
    quads = list(ox.parse(out.getvalue(), format=ox.RdfFormat.N_QUADS))
    assert len(quads) == 6 and all(q.graph_name == ox.DefaultGraph() for q in quads)


def test_construct_rejects_a_select(tg: TrialGraph) -> None:
    """A SELECT is not a graph."""
    from trialgraph.errors import StoreError

    with pytest.raises(StoreError, match="CONSTRUCT"):
        export_construct(tg.store, io.BytesIO(), "turtle", "SELECT * WHERE { ?s ?p ?o }")


def test_format_from_the_output_name() -> None:
    """The extension decides when no --format is given; .gz is looked through."""
    assert format_for("a.nq.gz") == "nquads" and format_for("a.trig") == "trig"
    assert (
        format_for("a.jsonld") == "jsonld" and format_for("a.rdf") == "rdfxml" and format_for("a") == "turtle"
    )


def test_export_streams_in_bounded_memory() -> None:
    """Exporting 100,000 quads allocates far less Python memory than the quads would take as objects."""
    store = TrialStore(None)
    p = ox.NamedNode("https://example.org/p")
    for g in range(2000):
        graph = ox.NamedNode(f"{TRIAL}T{g}")
        store.replace_graph(
            graph, [ox.Quad(graph, p, ox.Literal(f"value {g} {i}"), graph) for i in range(50)]
        )
    assert store.count() == 100_000

    class Sink(io.RawIOBase):
        size = 0

        def writable(self) -> bool:
            return True

        def write(self, data: object) -> int:
            n = len(data)  # type: ignore[arg-type]
            self.size += n
            return n

    for fmt in ("nquads", "turtle"):
        sink = Sink()
        tracemalloc.start()
        store.dump(sink, fmt)  # type: ignore[arg-type]
        _, peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
        assert sink.size > 1_500_000
        assert peak < 3_000_000, f"{fmt}: peak {peak} bytes"


def run_cli(*args: str) -> subprocess.CompletedProcess[bytes]:
    """``trialgraph ARGS`` in a subprocess."""
    return subprocess.run(
        [sys.executable, "-m", "trialgraph", *args], capture_output=True, check=False, timeout=120
    )


def test_cli_gzip_and_construct(store_dir: Path, tmp_path: Path, tg: TrialGraph) -> None:
    """``-o x.nq.gz`` compresses, ``--gzip`` to stdout too, ``--construct FILE.rq`` exports its result."""
    out = tmp_path / "trials.nq.gz"
    done = run_cli("--store", str(store_dir), "export", "--ontology", "-o", str(out))
    assert done.returncode == 0, done.stderr
    quads = list(ox.parse(gzip.decompress(out.read_bytes()), format=ox.RdfFormat.N_QUADS))
    assert len(quads) == tg.store.count()
    assert ox.NamedNode(ONTOLOGY_GRAPH) in {q.graph_name for q in quads}

    piped = run_cli(
        "--store", str(store_dir), "export", "--format", "ntriples", "--gzip", "--trial", "NCT06592612"
    )
    assert piped.returncode == 0, piped.stderr
    assert len(gzip.decompress(piped.stdout).splitlines()) == tg.store.count(
        ox.NamedNode(TRIAL + "NCT06592612")
    )

    query = tmp_path / "ids.rq"
    query.write_text(CONSTRUCT, encoding="utf-8")
    constructed = run_cli(
        "--store", str(store_dir), "export", "--construct", str(query), "--format", "ntriples"
    )
    assert constructed.returncode == 0, constructed.stderr
    assert len(constructed.stdout.splitlines()) == 6

    clash = run_cli("--store", str(store_dir), "export", "--construct", str(query), "--trial", "NCT06592612")
    assert clash.returncode == 2 and b"--construct" in clash.stderr
