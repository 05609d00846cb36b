"""Which engine for the embedded store? pyoxigraph (on disk) against rdflib (in memory).

Builds N trial graphs from the real records in ../shared/data (each record reused under fresh
trial identifiers until N is reached), loads them the way ingest does (one transaction per
trial), then times the same SPARQL queries on each engine. Prints a table with the ratio of each
figure to rdflib's, measured in the same run.

    .venv/bin/python benchmarks/store_engine.py [--trials 2000] [--repeat 5]
"""

from __future__ import annotations

import argparse
import dataclasses
import shutil
import statistics
import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pyoxigraph as ox
import rdflib

from trialgraph import ingest, rdf
from trialgraph.model import Trial
from trialgraph.namespaces import TG, trial_iri
from trialgraph.resources import SHARED_DATA_DIR
from trialgraph.store import TrialStore

QUERIES = {
    "criteria per trial (aggregate)": f"""
        SELECT ?trial (COUNT(?c) AS ?n) WHERE {{ ?trial <{TG}hasCriterion> ?c }}
        GROUP BY ?trial ORDER BY DESC(?n) LIMIT 10""",
    "phase-2 trials by title word (filter)": f"""
        SELECT ?trial WHERE {{
          ?trial <{TG}phase> <{TG}phase-PHASE2> ; <{TG}briefTitle> ?title .
          FILTER(CONTAINS(LCASE(?title), "cancer")) }}""",
    "arms giving drugs (join)": f"""
        SELECT (COUNT(*) AS ?n) WHERE {{
          ?trial <{TG}hasArm> ?arm . ?arm <{TG}givesIntervention> ?i .
          ?i <{TG}interventionType> <{TG}interventionType-DRUG> }}""",
}


def template_trials() -> list[Trial]:
    """Every record of the shared v2 JSON and legacy XML corpora."""
    folders = [SHARED_DATA_DIR / "ctgov_v2", SHARED_DATA_DIR / "ctgov_xml"]
    return [r for r in ingest.read_paths(folders) if isinstance(r, Trial)]


def trials(n: int, templates: list[Trial]) -> Iterator[Trial]:
    """``n`` trials: the templates again and again under fresh identifiers."""
    for i in range(n):
        fresh = f"NCT9{i:07d}"
        yield dataclasses.replace(templates[i % len(templates)], id=fresh, nct_id=fresh)


def timed(func: Callable[[], Any], repeat: int) -> float:
    """Median wall time of ``repeat`` calls, in seconds."""
    samples = []
    for _ in range(repeat):
        start = time.perf_counter()
        func()
        samples.append(time.perf_counter() - start)
    return statistics.median(samples)


def disk_size(path: Path) -> int:
    """Bytes under a directory."""
    return sum(f.stat().st_size for f in path.rglob("*") if f.is_file())


def main() -> None:
    """Run the comparison and print the table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--trials", type=int, default=2000)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()

    templates = template_trials()
    graphs = [(ox.NamedNode(trial_iri(t.id)), rdf.trial_quads(t)) for t in trials(args.trials, templates)]
    n_quads = sum(len(q) for _, q in graphs)
    print(f"{args.trials} trials from {len(templates)} real records, {n_quads} quads\n")

    workdir = Path(tempfile.mkdtemp(prefix="tg-engine-"))
    try:
        ox_store = TrialStore(workdir / "oxigraph")
        start = time.perf_counter()
        for graph, quads in graphs:
            ox_store.replace_graph(graph, quads)
        ox_store.flush()
        ox_load = time.perf_counter() - start
        ox_size = disk_size(workdir / "oxigraph")

        nquads = ox.serialize((q for _, qs in graphs for q in qs), format=ox.RdfFormat.N_QUADS)
        start = time.perf_counter()
        dataset = rdflib.Dataset(default_union=True)
        dataset.parse(data=nquads, format="nquads")
        rdflib_load = time.perf_counter() - start

        print(f"{'figure':<42}{'pyoxigraph':>12}{'rdflib':>12}{'ratio':>9}")
        print(
            f"{'load, s (ox: 1 transaction per trial)':<42}{ox_load:>12.3f}{rdflib_load:>12.3f}"
            f"{rdflib_load / ox_load:>8.1f}x"
        )
        print(f"{'on disk, MB':<42}{ox_size / 1e6:>12.1f}{'(memory)':>12}")
        for name, sparql in QUERIES.items():
            ox_t = timed(lambda s=sparql: list(ox_store.query(s)), args.repeat)
            rl_t = timed(lambda s=sparql: list(dataset.query(s)), max(1, args.repeat // 2))
            ox_rows = len(list(ox_store.query(sparql)))
            rl_rows = len(list(dataset.query(sparql)))
            assert ox_rows == rl_rows, f"{name}: {ox_rows} rows on oxigraph, {rl_rows} on rdflib"
            print(f"{name + ', ms':<42}{ox_t * 1e3:>12.2f}{rl_t * 1e3:>12.2f}{rl_t / ox_t:>8.1f}x")
    finally:
        shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    main()
