"""Smoke tests of the scale benchmark: the corpus generator and ``benchmarks/scale.py`` at a tiny N."""

from __future__ import annotations

import importlib.util
import json
import signal
import subprocess
import sys
from pathlib import Path
from types import ModuleType

import pyoxigraph as ox
import pytest

from trialgraph import extract, pipeline
from trialgraph.api import TrialGraph
from trialgraph.eligibility.validate import validate_trial
from trialgraph.errors import InputError
from trialgraph.ingest import read_file
from trialgraph.model import Trial
from trialgraph.namespaces import TRIAL
from trialgraph.rdf import INGEST_TIME
from trialgraph.resources import EXAMPLES_DIR, SHARED_DATA_DIR
from trialgraph.store import TrialStore

ROOT = Path(__file__).resolve().parents[1]
BENCH = ROOT / "benchmarks"

pytestmark = pytest.mark.skipif(
    not (SHARED_DATA_DIR / "ctgov_v2").is_dir(), reason="the shared data (../shared/data) is not there"
)


def _bench_module(name: str) -> ModuleType:
    spec = importlib.util.spec_from_file_location(f"bench_{name}", BENCH / f"{name}.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up while the class is made
    spec.loader.exec_module(module)
    return module


def test_corpus_is_deterministic_and_readable(tmp_path: Path) -> None:
    corpus = _bench_module("corpus")
    sources = corpus.load_sources()
    a = corpus.write_corpus(20, tmp_path / "a", seed=3, page_size=8, sources=sources)
    b = corpus.write_corpus(20, tmp_path / "b", seed=3, page_size=8, sources=sources)
    other = corpus.write_corpus(20, tmp_path / "c", seed=4, page_size=8, sources=sources)
    assert [p.name for p in a] == ["page-00000.json", "page-00001.json", "page-00002.json"]
    assert [p.read_bytes() for p in a] == [p.read_bytes() for p in b]
    assert [p.read_bytes() for p in a] != [p.read_bytes() for p in other]
    # The first studies of a larger corpus are those of a smaller one.
    (jsonl,) = corpus.write_corpus(25, tmp_path / "d", seed=3, jsonl=True, sources=sources)
    first = json.loads(a[0].read_text())["studies"][0]
    assert json.loads(jsonl.read_text().splitlines()[0]) == first

    results = [r for page in a for r in read_file(page)]
    assert not [r for r in results if isinstance(r, InputError)]
    trials = [r for r in results if isinstance(r, Trial)]
    assert len(trials) == 20
    assert len({t.id for t in trials}) == 20
    assert all(t.id.startswith("NCT9") and t.eligibility_text for t in trials)
    assert sum(len(t.criteria) for t in trials) > 20


def test_scale_benchmark_tiny_run(tmp_path: Path) -> None:
    out = tmp_path / "out"
    cmd = [
        sys.executable, str(BENCH / "scale.py"), "--sizes", "12", "--runs", "1", "--quick",
        "--rdflib-limit", "2", "--rdflib-budget", "6",
        "--work", str(tmp_path / "work"), "--out", str(out),
    ]  # fmt: skip
    done = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, timeout=240)
    assert done.returncode == 0, done.stderr[-3000:]
    text = (out / "RESULTS.md").read_text()
    for heading in ("## 1. Ingest", "## 2. Queries", "## 3. Matching", "## 4. Export and push"):
        assert heading in text
    assert "| 12 |" in text and "pyoxigraph" in text
    assert "PASS" in text or "MISS" in text
    data = json.loads((out / "scale-results.json").read_text())
    ingest = data["results"]["12"]["ingest"]
    assert ingest["trials"] == 12 and ingest["errors"] == 0 and ingest["ratio"] > 0
    assert data["results"]["12"]["queries"]["queries"]
    assert data["results"]["12"]["queries"]["floor"]["rows"] == 12  # one row per trial
    assert "Floor of a query answering one row per trial" in text
    for png in ("scale-ingest.png", "scale-queries.png", "scale-matching.png", "scale-export.png"):
        assert (out / png).read_bytes()[:4] == b"\x89PNG"
    assert (BENCH / "RESULTS.md").resolve() != (out / "RESULTS.md").resolve()


def test_pyshacl_baseline_stops_at_its_limit_and_keeps_the_verdict() -> None:
    matching = _bench_module("matching")
    tg = TrialGraph(None)
    assert tg.ingest([EXAMPLES_DIR / "trials"]).ok
    patient = matching.example_patients()[0]
    trials = [tg.trial(t) for t in tg.trial_ids()]
    trial = max(trials, key=lambda t: sum(len(c.constraints) for c in t.criteria))
    handler = signal.getsignal(signal.SIGALRM)
    result, seconds = matching.capped_validation(patient, trial, 120.0)
    assert result is not None and result.verdict == validate_trial(patient, trial).verdict
    assert 0 < seconds < 120
    # with its SPARQL prepared a validation of this trial takes ~0.5 ms: a 10 us alarm stops it
    assert matching.capped_validation(patient, trial, 1e-5) == (None, 1e-5)
    assert signal.getsignal(signal.SIGALRM) == handler


def test_rdflib_baseline_loads_the_same_quads_as_rdflib_parses(tmp_path: Path) -> None:
    import rdflib

    written = (
        '<http://ex/s> <http://ex/p> "plain" <http://ex/g> .\n'
        '<http://ex/s> <http://ex/p> "chaîne"@fr <http://ex/g> .\n'
        '<http://ex/s> <http://ex/p> "7"^^<http://www.w3.org/2001/XMLSchema#integer> <http://ex/g> .\n'
        '<http://ex/s> <http://ex/p> "typed"^^<http://www.w3.org/2001/XMLSchema#string> <http://ex/g> .\n'
        "_:b <http://ex/p> <http://ex/o> <http://ex/h> .\n"
        "<http://ex/s> <http://ex/q> <http://ex/o> .\n"
    )
    # the file as the export writes it: pyoxigraph writes an xsd:string literal plain
    nquads = tmp_path / "sample.nq"
    ox.serialize(ox.parse(written, format=ox.RdfFormat.N_QUADS), output=nquads, format=ox.RdfFormat.N_QUADS)
    parsed = rdflib.Dataset(default_union=True)
    parsed.parse(nquads, format="nquads")
    loaded = _bench_module("scale")._rdflib_dataset(nquads)

    def quads(ds: rdflib.Dataset) -> set[tuple[object, ...]]:
        return {tuple(None if isinstance(t, rdflib.BNode) else t for t in q) for q in ds.quads()}

    assert len(loaded) == len(parsed) == 6
    assert quads(loaded) == quads(parsed)


# --- the ingest speed-ups keep the graphs and each trial whole ------------------------------------------

G1, G2, P = (ox.NamedNode(f"https://example.org/{x}") for x in ("g1", "g2", "p"))


def _nq(graph: ox.NamedNode, *values: str) -> bytes:
    return b"".join(f'{graph} {P} "{v}" {graph} .\n'.encode() for v in values)


def test_replace_graphs_bulk_loads_new_graphs_and_replaces_known_ones() -> None:
    store = TrialStore(None)
    assert store.replace_graphs([(G1, _nq(G1, "a", "b"))]) == [True]
    # g1 unchanged, g2 new, then g2 again in the same batch: the second version wins.
    assert store.replace_graphs([(G1, _nq(G1, "b", "a")), (G2, _nq(G2, "x")), (G2, _nq(G2, "y"))]) == [
        False,
        True,
        True,
    ]
    assert {q.object.value for q in store.quads(G1)} == {"a", "b"}
    assert {q.object.value for q in store.quads(G2)} == {"y"}
    assert store.replace_graphs([(G1, _nq(G1, "c"))]) == [True]
    assert {q.object.value for q in store.quads(G1)} == {"c"}


def test_batched_ingest_gives_the_graphs_of_one_trial_at_a_time(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    corpus = _bench_module("corpus")
    files = corpus.write_corpus(23, tmp_path / "corpus", seed=5, page_size=10)
    monkeypatch.setattr(pipeline, "WRITE_TRIALS", 4)  # several batches, written by the writer thread
    batched = TrialGraph(tmp_path / "store")
    report = batched.ingest([tmp_path / "corpus"], workers=1)
    assert (report.records_read, report.trials_stored, report.errors) == (23, 23, [])

    one_by_one = TrialGraph(None)
    for path in files:
        for trial in read_file(path):
            assert isinstance(trial, Trial)
            one_by_one.add_trial(extract.extract_trial(trial))

    def graphs(tg: TrialGraph) -> set[ox.Quad]:
        quads = tg.store.quads()
        return {q for q in quads if q.predicate != INGEST_TIME and str(q.graph_name).startswith(f"<{TRIAL}")}

    assert len(graphs(batched)) > 23 * 100
    assert graphs(batched) == graphs(one_by_one)
    again = batched.ingest([tmp_path / "corpus"], workers=1)
    assert (again.trials_stored, again.trials_unchanged) == (0, 23)
