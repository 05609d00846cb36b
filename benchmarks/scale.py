"""The scale benchmark: ingest, queries, matching and export of the scale corpus at growing N.

For each N (1,000 and 10,000 by default; ``--full`` adds 100,000, ``--huge`` 500,000) the scale
corpus (``benchmarks/corpus.py``, cached in the work folder by N and seed) is ingested and measured,
each figure next to its baseline measured in the same run, so that the ratios hold on a noisy machine:

1. **ingest** end to end (``TrialGraph.ingest``: read, extract, map, store) in trials/s, with peak
   memory (proportional set size of the process and its workers, sampled) and store size on disk;
   baseline: the same quads, pre-serialized as N-Quads (the export of the ingested store), bulk-loaded
   straight into pyoxigraph. Ingest and baseline runs alternate, each in a fresh process.
2. **queries**: every query of the library (whatever ``queries/*.rq`` holds at run time), with its
   default parameters, median latency; baseline: rdflib's in-memory engine on the same quads (a
   ``Dataset`` with the default graph as union, like the store), at sizes up to ``--rdflib-max``.
3. **matching**: one patient against every trial with the bulk matcher, and pySHACL per trial in the
   same run: ``benchmarks/matching.py`` (``measure_matching(store_dir, trials)``), called on the store
   just ingested; reported as "not available" while that module is missing.
4. **export** throughput (N-Quads, every graph, to a file); push throughput comes from
   ``benchmarks/push_export.py`` (``--push``), which starts real servers.

Figures go to ``RESULTS.md`` (and ``scale-results.json``, merged by N with earlier runs) plus PNG
plots, in ``--out`` (default: ``benchmarks/``).

    .venv/bin/python benchmarks/scale.py                 # 1,000 and 10,000 (``make bench``)
    .venv/bin/python benchmarks/scale.py --full          # and 100,000 (``make bench-full``)
    .venv/bin/python benchmarks/scale.py --sizes 20 --out /tmp/x --runs 1   # a smoke run
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import importlib.util
import itertools
import json
import math
import os
import platform
import resource
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from pathlib import Path
from types import ModuleType
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
BENCH = Path(__file__).resolve().parent
DEFAULT_SIZES = (1000, 10000)
FULL_SIZE = 100_000
HUGE_SIZE = 500_000
FLAGSHIP = "oligoprogression-prior-therapy"
FLOOR_QUERY = BENCH / "trial-list.rq"
SEED = 7

TARGETS = {
    "ingest_ratio": 3.0,  # ingest time / raw bulk load, at most
    "ingest_growth": 12.0,  # t(100k) / t(10k), at most (linear: 10)
    "peak_mb": 2048.0,  # at any N
    "cores": 1.5,  # of 2: "use both cores"
    "query_geomean": 20.0,  # speed-up over rdflib at 10,000 trials, at least
    "query_max_s": 1.0,  # every query at 100,000 trials
    "flagship_s": 0.25,  # the flagship at 100,000 trials
    "match_ratio": 1000.0,  # pySHACL per trial / bulk matcher per trial, at least
    "match_s_100k": 2.0,  # one patient against 100,000 trials
}


def say(text: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {text}", file=sys.stderr, flush=True)


def median(values: list[float]) -> float:
    return statistics.median(values) if values else float("nan")


# --- the corpus --------------------------------------------------------------------------------------


def label(n: int, seed: int = SEED) -> str:
    """``10000`` -> ``10k``: the name of a size in the work folder (with the seed, when not the default)."""
    name = f"{n // 1000}k" if n >= 1000 and n % 1000 == 0 else str(n)
    return name if seed == SEED else f"{name}-seed{seed}"


def corpus(n: int, seed: int, work: Path) -> Path:
    """The folder ``c<N>`` of the corpus of ``n`` studies for ``seed``, made once (``.done`` marks it)."""
    folder = work / f"c{label(n, seed)}"
    if (folder / ".done").is_file():  # hidden, so that an ingest of the folder skips it
        return folder
    shutil.rmtree(folder, ignore_errors=True)
    sys.path.insert(0, str(BENCH))
    from corpus import write_corpus

    say(f"generating the corpus of {n:,} studies in {folder}")
    start = time.perf_counter()
    write_corpus(n, folder, seed=seed)
    seconds = time.perf_counter() - start
    (folder / ".done").write_text(f"benchmarks/corpus.py {n} --seed {seed}: {seconds:.1f} s\n")
    return folder


def publish(n: int, seed: int, store: Path, work: Path, ingest: dict[str, Any]) -> bool:
    """Keep the measured store as ``s<N>`` for other benchmarks, with ``s<N>.READY``, unless one is there."""
    name = f"s{label(n, seed)}"
    ready = work / f"{name}.READY"
    if ready.exists() or (work / name).exists():
        return False
    store.rename(work / name)
    ready.write_text(
        f"{ingest['trials']} trials, {ingest['quads']:,} quads; corpus c{label(n, seed)} "
        f"(benchmarks/corpus.py {n} --seed {seed}); built {dt.datetime.now(dt.UTC):%Y-%m-%dT%H:%M}Z "
        "by benchmarks/scale.py\n"
    )
    say(f"  kept the store as {work / name} ({ready.name})")
    return True


# --- child processes: one per ingest or load, so memory and CPU are theirs alone -----------------------


def _child_ingest(corpus_dir: str, store: str) -> dict[str, Any]:
    from trialgraph.api import TrialGraph

    start = time.perf_counter()
    tg = TrialGraph(store)
    report = tg.ingest([corpus_dir])
    seconds = time.perf_counter() - start
    return {"seconds": seconds, "trials": report.trials_stored, "errors": len(report.errors)}


def _child_bulk(nquads: str, store: str) -> dict[str, Any]:
    import pyoxigraph as ox

    start = time.perf_counter()
    st = ox.Store(store)
    st.bulk_load(path=nquads, format=ox.RdfFormat.N_QUADS)
    st.flush()
    return {"seconds": time.perf_counter() - start}


def _rdflib_dataset(nquads: Path) -> Any:
    """The N-Quads in an rdflib in-memory ``Dataset`` (default graph the union), read by pyoxigraph's parser.

    For N-Quads as pyoxigraph writes them (an xsd:string literal plain), the same quads as rdflib's own
    parser gives, blank node labels aside, 10-30 % sooner: most of the load is rdflib indexing them.
    """
    import pyoxigraph as ox
    import rdflib

    from trialgraph.results import rdflib_term

    ds = rdflib.Dataset(default_union=True)
    graphs: dict[str, Any] = {}

    def graph(name: Any) -> Any:
        key = name.value if isinstance(name, ox.NamedNode) else ""
        if key not in graphs:
            graphs[key] = ds.graph(rdflib.URIRef(key)) if key else ds.default_context
        return graphs[key]

    quads = ox.parse(path=nquads, format=ox.RdfFormat.N_QUADS)
    ds.addN(
        (rdflib_term(q.subject), rdflib_term(q.predicate), rdflib_term(q.object), graph(q.graph_name))
        for q in quads
    )
    return ds


def _child_rdflib(nquads: str, spec: str) -> dict[str, Any]:
    """Load the N-Quads into rdflib and time one run of each query of ``spec`` (JSON: texts, time limit)."""
    job = json.loads(Path(spec).read_text())
    start = time.perf_counter()
    ds = _rdflib_dataset(Path(nquads))
    out: dict[str, Any] = {"load_seconds": time.perf_counter() - start, "quads": len(ds), "queries": {}}

    def alarm(_signum: int, _frame: Any) -> None:
        raise TimeoutError

    signal.signal(signal.SIGALRM, alarm)
    deadline = time.perf_counter() + job["budget"]
    for name, text in job["queries"].items():
        if time.perf_counter() > deadline:
            out["queries"][name] = {"error": f"not run: the rdflib budget of {job['budget']} s was spent"}
            continue
        try:
            signal.alarm(job["limit"])
            t = time.perf_counter()
            rows = len(list(ds.query(text)))
            seconds = time.perf_counter() - t
            signal.alarm(0)
            out["queries"][name] = {"seconds": seconds, "runs": 1, "rows": rows}
        except TimeoutError:
            out["queries"][name] = {"timeout": job["limit"]}
        except Exception as exc:  # an rdflib failure is a figure too
            signal.alarm(0)
            out["queries"][name] = {"error": f"{type(exc).__name__}: {exc}"[:200]}
        print(f"  rdflib {name}: {out['queries'][name]}", file=sys.stderr, flush=True)
    return out


def _child_query(store: str, name: str, runs: str, limit: str) -> dict[str, Any]:
    """A library query with its defaults: a warm-up run, then up to ``runs`` timed runs within ``limit`` s."""
    from trialgraph.api import TrialGraph

    tg = TrialGraph(store, read_only=True)
    try:
        start = time.perf_counter()
        rows = len(tg.query(name).values())  # warms the caches; the figure when it is the only run
        first = time.perf_counter() - start
        times: list[float] = []
        while len(times) < int(runs) and first + sum(times) + max([first, *times]) < float(limit):
            start = time.perf_counter()
            tg.query(name).values()
            times.append(time.perf_counter() - start)
    except Exception as exc:  # a failing query is a figure too
        return {"error": f"{type(exc).__name__}: {exc}"[:200]}
    return {"seconds": median(times or [first]), "first_seconds": first, "rows": rows, "runs": len(times)}


CHILDREN: dict[str, Callable[..., dict[str, Any]]] = {
    "ingest": _child_ingest,
    "query": _child_query,
    "bulk": _child_bulk,
    "rdflib": _child_rdflib,
}


def _child_main(kind: str, args: list[str]) -> int:
    result = CHILDREN[kind](*args)
    own = resource.getrusage(resource.RUSAGE_SELF)
    kids = resource.getrusage(resource.RUSAGE_CHILDREN)
    result["cpu_seconds"] = own.ru_utime + own.ru_stime + kids.ru_utime + kids.ru_stime
    result["maxrss_mb"] = own.ru_maxrss / 1024
    result["children_maxrss_mb"] = kids.ru_maxrss / 1024
    print("RESULT " + json.dumps(result), flush=True)
    return 0


def _descendants(pid: int) -> list[int]:
    """``pid`` and its descendants, from ``/proc/<pid>/task/<tid>/children`` (cheap: no scan of /proc)."""
    found, frontier = [], [pid]
    while frontier:
        found.extend(frontier)
        nxt = []
        for p in frontier:
            try:
                for task in os.listdir(f"/proc/{p}/task"):
                    nxt.extend(int(c) for c in Path(f"/proc/{p}/task/{task}/children").read_text().split())
            except (OSError, ValueError):
                continue
        frontier = nxt
    return found


def _pss_mb(pids: list[int]) -> float:
    total = 0
    for pid in pids:
        try:
            for line in Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines():
                if line.startswith("Pss:"):
                    total += int(line.split()[1])
                    break
        except (OSError, ValueError):
            continue
    return total / 1024


def run_child(kind: str, *args: str, timeout: float | None = None) -> dict[str, Any]:
    """Run a child measurement; its result with ``peak_mb``: the peak PSS of the child and its workers."""
    cmd = [sys.executable, str(Path(__file__).resolve()), "_child", kind, *args]
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, text=True, cwd=ROOT)
    peak = 0.0
    stop = threading.Event()

    def sample() -> None:
        nonlocal peak
        while not stop.is_set():
            peak = max(peak, _pss_mb(_descendants(proc.pid)))
            stop.wait(0.5)

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    try:
        out, _ = proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.communicate()
        return {"timeout": timeout}
    finally:
        stop.set()
        sampler.join()
    lines = [ln for ln in out.splitlines() if ln.startswith("RESULT ")]
    if proc.returncode != 0 or not lines:
        raise RuntimeError(f"child {kind} failed with exit code {proc.returncode}")
    result: dict[str, Any] = json.loads(lines[-1][len("RESULT ") :])
    result["peak_mb"] = peak
    return result


def dir_mb(path: Path) -> float:
    return sum(f.stat().st_size for f in path.rglob("*") if f.is_file()) / 1e6


# --- the measurements ----------------------------------------------------------------------------------


def measure_ingest(
    n: int, corpus_dir: Path, work: Path, runs: int, baseline: bool = True
) -> tuple[dict[str, Any], dict[str, Any], Path, Path]:
    """Ingest and raw bulk load, alternating; also the export (its N-Quads are the baseline's input).

    The export is measured once, after the first ingest: ingest is deterministic, so every run's store
    holds the same quads, and at 10,000 trials each export and dump costs minutes. Without
    ``baseline``, only the ingest runs: no export, no bulk load.
    """
    ingests: list[dict[str, Any]] = []
    bulks: list[dict[str, Any]] = []
    store = work / f"run-{label(n)}"
    nquads = work / f"export-{label(n)}.nq"
    exports: list[dict[str, Any]] = []
    for k in range(runs):
        shutil.rmtree(store, ignore_errors=True)
        say(f"N={n:,}: ingest run {k + 1}/{runs}")
        r = run_child("ingest", str(corpus_dir), str(store))
        r["store_mb"] = dir_mb(store)
        ingests.append(r)
        say(
            f"  {r['trials']:,} trials in {r['seconds']:.1f} s = {r['trials'] / r['seconds']:.1f} trials/s, "
            f"peak {r['peak_mb']:.0f} MB, {r['cpu_seconds'] / r['seconds']:.2f} cores, "
            f"store {r['store_mb']:.0f} MB"
        )
        if not baseline:
            continue
        if not exports:
            exports.append(measure_export(store, nquads))
        bulk_store = work / f"bulk-{label(n)}"
        shutil.rmtree(bulk_store, ignore_errors=True)
        say(f"N={n:,}: baseline bulk load run {k + 1}/{runs}")
        b = run_child("bulk", str(nquads), str(bulk_store))
        b["store_mb"] = dir_mb(bulk_store)
        shutil.rmtree(bulk_store, ignore_errors=True)
        bulks.append(b)
        rate = exports[-1]["quads"] / b["seconds"]
        say(
            f"  {b['seconds']:.1f} s = {rate:,.0f} quads/s, peak {b['peak_mb']:.0f} MB; "
            f"ingest / baseline {r['seconds'] / b['seconds']:.2f}x"
        )
    seconds = median([r["seconds"] for r in ingests])
    trials = ingests[0]["trials"]
    import pyoxigraph as ox

    quads = exports[0]["quads"] if exports else len(ox.Store.read_only(str(store)))
    result = {
        "runs": runs,
        "trials": trials,
        "errors": ingests[0]["errors"],
        "quads": quads,
        "seconds": seconds,
        "seconds_all": [r["seconds"] for r in ingests],
        "trials_per_s": trials / seconds,
        "peak_mb": max(r["peak_mb"] for r in ingests),
        "cores": median([r["cpu_seconds"] / r["seconds"] for r in ingests]),
        "store_mb": ingests[-1]["store_mb"],
    }
    if not baseline:
        skipped = "not measured at this N (--baseline-max)"
        result["baseline_note"] = skipped
        return result, {"note": skipped}, store, nquads
    base = median([b["seconds"] for b in bulks])
    export_s = exports[0]["seconds"]
    dump_s = exports[0]["baseline_seconds"]
    export = {
        "runs": 1,
        "quads": quads,
        "seconds": export_s,
        "triples_per_s": quads / export_s,
        "baseline_seconds": dump_s,
        "baseline_triples_per_s": quads / dump_s,
        "ratio": export_s / dump_s,
        "mb": exports[-1]["mb"],
    }
    result |= {
        "baseline_seconds": base,
        "baseline_seconds_all": [b["seconds"] for b in bulks],
        "baseline_trials_per_s": trials / base,
        "baseline_quads_per_s": quads / base,
        "baseline_peak_mb": max(b["peak_mb"] for b in bulks),
        "baseline_store_mb": median([b["store_mb"] for b in bulks]),
        # Each ingest is paired with the baseline run right after it, under the same machine load.
        "ratio": median([r["seconds"] / b["seconds"] for r, b in zip(ingests, bulks, strict=True)]),
        "cpu_ratio": median(
            [r["cpu_seconds"] / b["cpu_seconds"] for r, b in zip(ingests, bulks, strict=True)]
        ),
    }
    return result, export, store, nquads


def measure_export(store: Path, nquads: Path) -> dict[str, Any]:
    """One export of every graph as N-Quads to a file, and the engine's own dump of the store (baseline)."""
    import pyoxigraph as ox

    from trialgraph.api import TrialGraph

    tg = TrialGraph(store, read_only=True)
    engine = ox.Store.read_only(str(store))
    quads = len(engine)  # counted by the engine, not quad by quad in Python
    start = time.perf_counter()
    with nquads.open("wb") as out:
        tg.export(out, "nquads", include_ontology=True)
    seconds = time.perf_counter() - start
    dump = nquads.with_suffix(".dump.nq")
    start = time.perf_counter()
    engine.dump(str(dump), ox.RdfFormat.N_QUADS)
    base = time.perf_counter() - start
    dump.unlink()
    say(
        f"  export: {quads:,} quads in {seconds:.1f} s = {quads / seconds:,.0f} triples/s; "
        f"baseline Store.dump {base:.1f} s = {quads / base:,.0f} triples/s"
    )
    return {"quads": quads, "seconds": seconds, "baseline_seconds": base, "mb": nquads.stat().st_size / 1e6}


def _time_query(store: Path, query: str, runs: int, limit: int) -> dict[str, Any]:
    """A query's figures (by library name or .rq path), timed in a process of its own, and said."""
    # One process per query: a query cannot be interrupted inside the engine, so one slower than the
    # limit is killed with its process and reported as "> limit".
    r = run_child(
        "query", str(store), query, str(runs), str(limit), timeout=limit + 20
    )  # 20 s to start Python and open the store
    r = {"timeout": limit} if "timeout" in r else r
    r.pop("peak_mb", None)
    name = Path(query).stem
    if "seconds" in r:
        say(
            f"  query {name}: {_fmt_s(r['seconds'])} ({r['rows']} rows; "
            f"first {_fmt_s(r['first_seconds'])}, {r['runs']} timed runs)"
        )
    else:
        say(f"  query {name}: {r.get('error') or f'over the limit of {limit} s'}")
    return r


def measure_queries(
    n: int, store: Path, nquads: Path, work: Path, runs: int, args: argparse.Namespace
) -> dict[str, Any]:
    """Each library query's median latency on the store and, at sizes rdflib can hold, on rdflib."""
    from trialgraph import queries

    library = queries.library()
    limit = args.query_limit or (10 if n <= 10_000 else 60)
    out: dict[str, Any] = {"queries": {}, "runs": runs, "limit": limit}
    for q in library:
        out["queries"][q.name] = _time_query(store, q.name, runs, limit)
    # the floor of a query answering one row per trial: the trials and their NCT IDs, nothing joined
    out["floor"] = _time_query(store, str(FLOOR_QUERY), runs, limit)
    if n > args.rdflib_max or not nquads.is_file():
        why = f"N above {args.rdflib_max:,}" if n > args.rdflib_max else "no N-Quads export at this N"
        out["rdflib"] = {"skipped": f"{why}: rdflib in memory not measured"}
        return out
    spec = work / f"rdflib-{label(n)}.json"
    # One run per query: rdflib is the baseline, and its slow queries take the limit anyway (a lower bound
    # of the speed-up). The limit is shorter at 1,000 trials, where no target is set on the speed-up; 6 s
    # at 10,000 keeps `make bench` within 15 minutes (with 10 s it took 14.9 here, 9 of 18 at the limit).
    limit = args.rdflib_limit or (5 if n <= 1000 else 6)
    spec.write_text(
        json.dumps(
            {
                "queries": {q.name: q.bind() for q in library},
                "limit": limit,
                "budget": args.rdflib_budget,
            }
        )
    )
    say(
        f"N={n:,}: rdflib baseline (load {nquads.stat().st_size / 1e6:.0f} MB of N-Quads, "
        f"one run per query, {limit} s limit)"
    )
    out["rdflib"] = run_child("rdflib", str(nquads), str(spec))
    out["rdflib"]["runs"] = 1
    say(
        f"  rdflib loaded {out['rdflib']['quads']:,} quads in {out['rdflib']['load_seconds']:.0f} s, "
        f"peak {out['rdflib']['peak_mb']:.0f} MB"
    )
    return out


def _bench_module(name: str, function: str) -> ModuleType | str:
    """``benchmarks/<name>.py`` if it is there and defines ``function``; else why not, in words."""
    path = BENCH / f"{name}.py"
    if not path.is_file():
        return f"benchmarks/{name}.py is not there"
    spec = importlib.util.spec_from_file_location(f"bench_{name}", path)
    if spec is None or spec.loader is None:
        return f"benchmarks/{name}.py cannot be imported"
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up while the class is made
    try:
        spec.loader.exec_module(module)
    except Exception as exc:
        return f"benchmarks/{name}.py failed to import: {type(exc).__name__}: {exc}"[:300]
    if not callable(getattr(module, function, None)):
        return f"benchmarks/{name}.py has no {function}()"
    return module


def measure_matching(n: int, store: Path) -> dict[str, Any]:
    """``benchmarks/matching.py``'s ``measure_matching`` figures on the store, or why there are none."""
    module = _bench_module("matching", "measure_matching")
    if isinstance(module, str):
        say(f"  matching: not available ({module})")
        return {"note": f"not available: {module}"}
    try:
        figures = module.measure_matching(store, n)
    except Exception as exc:
        note = f"not available: measure_matching failed: {type(exc).__name__}: {exc}"[:300]
        say(f"  matching: {note}")
        return {"note": note}
    values = {str(k): float(v) for k, v in dict(figures).items()}
    for key, value in values.items():
        say(f"  matching {key}: {value:,.6g}")
    return {"figures": values}


def measure_push(n: int, work: Path, store: Path) -> dict[str, Any]:
    """Figures of ``benchmarks/push_export.py`` (``measure``: export formats, push to real servers).

    It is handed the store measured here, in the place where it would otherwise ingest a corpus of
    its own (``<work>/push/n<N>-seed<seed>/store`` with its ``built.json``).
    """
    module = _bench_module("push_export", "measure")
    if isinstance(module, str):
        return {"note": module}
    try:
        folder = work / "push" / f"n{n}-seed{SEED}"
        folder.mkdir(parents=True, exist_ok=True)
        link = folder / "store"
        if link.is_symlink() or link.exists():
            link.unlink() if link.is_symlink() else shutil.rmtree(link)
        link.symlink_to(store.resolve(), target_is_directory=True)
        info = dict(module.describe_store(link), seed=SEED, requested=n, ingest_report="benchmarks/scale.py")
        (folder / getattr(module, "MARKER", "built.json")).write_text(json.dumps(info, indent=1))
        return {"figures": module.measure(n, work / "push")}
    except Exception as exc:
        return {"note": f"push_export.measure failed: {type(exc).__name__}: {exc}"[:300]}


# --- the report ------------------------------------------------------------------------------------------


def machine() -> dict[str, str]:
    """CPU, cores, memory, OS, versions and date."""
    from importlib.metadata import version

    def text(path: str) -> str:
        try:
            return Path(path).read_text()
        except OSError:
            return ""

    cpu = next(
        (
            ln.split(":", 1)[1].strip()
            for ln in text("/proc/cpuinfo").splitlines()
            if ln.startswith("model name")
        ),
        platform.processor(),
    )
    mem = next((ln.split()[1] for ln in text("/proc/meminfo").splitlines() if ln.startswith("MemTotal")), "0")
    versions = {}
    for pkg in ("pyoxigraph", "rdflib", "pyshacl", "trialgraph"):
        try:
            versions[pkg] = version(pkg)
        except Exception:
            versions[pkg] = "?"
    return {
        "cpu": cpu,
        "cores": str(len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()),
        "memory": f"{int(mem) / 1024 / 1024:.1f} GB",
        "os": platform.platform(),
        "python": platform.python_version(),
        **versions,
        "date": dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "load": " ".join(f"{x:.1f}" for x in os.getloadavg()),
    }


def _runs(ingest: dict[str, Any]) -> str:
    """Each ingest run's seconds, as measured: the spread behind a median."""
    return ", ".join(f"{t:.1f}" for t in ingest.get("seconds_all", [ingest["seconds"]])) + " s"


def verdict(ok: bool | None) -> str:
    return "—" if ok is None else ("PASS" if ok else "**MISS**")


def _engine_s(fig: dict[str, Any]) -> str:
    """One engine's figure for a query: its median, "> limit", or its error."""
    if "seconds" in fig:
        return _fmt_s(fig["seconds"])
    if "timeout" in fig:
        return f"> {fig['timeout']} s"
    return str(fig.get("error", "—"))[:60]


def _speedup(fig: dict[str, Any], base: dict[str, Any]) -> tuple[float | None, str]:
    """rdflib's time over pyoxigraph's: exact (``=``), a lower (``>``) or an upper (``<``) bound."""
    if "seconds" in fig and "seconds" in base:
        return base["seconds"] / fig["seconds"], "="
    if "seconds" in fig and "timeout" in base:
        return base["timeout"] / fig["seconds"], ">"
    if "timeout" in fig and "seconds" in base:
        return base["seconds"] / fig["timeout"], "<"
    return None, "?"


def _fmt_s(seconds: float | None) -> str:
    if seconds is None or (isinstance(seconds, float) and math.isnan(seconds)):
        return "—"
    return f"{seconds * 1000:.1f} ms" if seconds < 1 else f"{seconds:.2f} s"


def render(results: dict[str, Any], env: dict[str, str], command: str) -> str:
    """RESULTS.md: the machine, then one table per figure with its baseline, ratio and target."""
    sizes = sorted(int(k) for k in results)
    lines = [
        "# Scale benchmark results",
        "",
        f"Written by `{command}` (`benchmarks/scale.py`). Each ratio is of two figures measured in the "
        "same run; the machine is shared, so absolute figures are noisy and the ratios are what count.",
        "",
        "| machine | |",
        "|---|---|",
        *[f"| {k} | {v} |" for k, v in env.items()],
        "",
    ]
    runs_note = ", ".join(
        f"N={n:,}: {results[str(n)]['ingest']['runs']} run(s), measured {results[str(n)]['measured']}"
        for n in sizes
    )
    lines += [f"Runs per size: {runs_note}.", ""]

    # 1. ingest
    lines += [
        "## 1. Ingest",
        "",
        "End to end (`TrialGraph.ingest`: read, extract, map, store; default workers), median of the runs; "
        "baseline: the same quads as N-Quads, bulk-loaded into pyoxigraph (`Store.bulk_load`). Peak "
        "memory: peak PSS of the ingest process and its workers, sampled every 0.5 s. Cores: CPU "
        "seconds (process and workers) per wall-clock second. Ratio: median over the runs of each "
        "ingest's time over the baseline run right after it; CPU ratio: the same with CPU seconds "
        "(less sensitive to the other jobs on a shared machine).",
        "",
        "| N | quads | ingest | trials/s | baseline | baseline trials/s | ratio (target ≤ 3×) | CPU ratio | "
        "peak memory (≤ 2 GB) | baseline peak | cores (≥ 1.5 of 2) | store on disk | baseline store |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for n in sizes:
        i = results[str(n)]["ingest"]
        if "baseline_seconds" not in i:
            lines.append(
                f"| {n:,} | {i['quads']:,} | {i['seconds']:.1f} s | {i['trials_per_s']:.1f} | — | — | "
                f"{i.get('baseline_note', 'not measured')} | — | "
                f"{i['peak_mb']:.0f} MB {verdict(i['peak_mb'] <= TARGETS['peak_mb'])} | — | "
                f"{i['cores']:.2f} {verdict(i['cores'] >= TARGETS['cores'])} | {i['store_mb']:.0f} MB | — |"
            )
            continue
        lines.append(
            f"| {n:,} | {i['quads']:,} | {i['seconds']:.1f} s | {i['trials_per_s']:.1f} | "
            f"{i['baseline_seconds']:.1f} s | {i['baseline_trials_per_s']:.1f} | "
            f"{i['ratio']:.2f}× {verdict(i['ratio'] <= TARGETS['ingest_ratio'])} | "
            f"{i.get('cpu_ratio', float('nan')):.2f}× | "
            f"{i['peak_mb']:.0f} MB {verdict(i['peak_mb'] <= TARGETS['peak_mb'])} | "
            f"{i['baseline_peak_mb']:.0f} MB | "
            f"{i['cores']:.2f} {verdict(i['cores'] >= TARGETS['cores'])} | {i['store_mb']:.0f} MB | "
            f"{i['baseline_store_mb']:.0f} MB |"
        )
    lines.append("")
    growth = []
    for a, b in itertools.pairwise(sizes):
        ta, tb = results[str(a)]["ingest"]["seconds"], results[str(b)]["ingest"]["seconds"]
        ok = (tb / ta) <= TARGETS["ingest_growth"] * (b / a) / 10 if (a, b) == (10_000, 100_000) else None
        growth.append(
            f"| {a:,} → {b:,} | {b / a:.0f}× | {tb / ta:.1f}× | {(tb / b) / (ta / a):.2f} | "
            f"{_runs(results[str(a)]['ingest'])} | {_runs(results[str(b)]['ingest'])} | {verdict(ok)} |"
        )
    if growth:
        lines += [
            "Growth (target: 100,000 trials take at most 12× the time of 10,000):",
            "",
            "| sizes | N grows | time grows (medians) | per-trial cost grows | runs, smaller N "
            "| runs, larger N | target |",
            "|---|---|---|---|---|---|---|",
            *growth,
            "",
        ]
    if FULL_SIZE not in sizes and 10_000 in sizes:
        i = results["10000"]["ingest"]
        lines += [
            f"Not measured at 100,000 here; projected linearly from 10,000: "
            f"{i['seconds'] * 10:.0f} s ingest ({i['seconds'] * 10 / 60:.0f} min); memory is bounded by "
            "the pipeline (a fixed number of batches in flight), not by N.",
            "",
        ]

    # 2. queries
    lines += [
        "## 2. Queries",
        "",
        "Every library query with its default parameters, median latency after one warm-up run "
        "(`TrialGraph.query`, results converted); baseline: rdflib's in-memory SPARQL engine "
        "(`Dataset(default_union=True)`) on the same quads. Targets: geometric-mean speed-up ≥ 20× at "
        "10,000 trials with no query slower than rdflib; every query < 1 s and the flagship "
        f"`{FLAGSHIP}` < 0.25 s at 100,000 trials.",
        "",
    ]
    for n in sizes:
        q = results[str(n)]["queries"]
        rd = q.get("rdflib", {})
        rdq = rd.get("queries", {})
        lines += [f"### N = {n:,}", ""]
        if "skipped" in rd:
            lines += [f"rdflib: {rd['skipped']}.", ""]
        elif rd:
            lines += [
                f"rdflib loaded {rd.get('quads', 0):,} quads in {rd.get('load_seconds', 0):.0f} s "
                f"(peak {rd.get('peak_mb', 0):.0f} MB); {rd.get('runs', 1)} run(s) per query.",
                "",
            ]
        lines += ["| query | rows | pyoxigraph | rdflib | speed-up | target |", "|---|---|---|---|---|---|"]
        speedups: list[tuple[float, str]] = []
        for name, fig in sorted(q["queries"].items()):
            if "error" in fig:
                lines.append(f"| {name} | — | error: {fig['error']} | | | |")
                continue
            base = rdq.get(name, {})
            speed, bound = _speedup(fig, base)
            shown = "—" if speed is None else f"{bound}{speed:.1f}×".replace("=", "")
            if speed is not None:
                speedups.append((speed, bound))
            rows = fig.get("rows", "—")
            if "rows" in base and base["rows"] != rows:
                rows = f"{rows} (rdflib: {base['rows']})"
            ox_s = fig.get("seconds")
            target: bool | None = None
            if n >= FULL_SIZE:
                limit = TARGETS["flagship_s"] if name == FLAGSHIP else TARGETS["query_max_s"]
                target = ox_s is not None and ox_s < limit
            elif speed is not None and n == 10_000 and bound != "?":
                target = speed >= 1 if bound in "=>" else (False if speed < 1 else None)
            lines.append(
                f"| {name} | {rows} | {_engine_s(fig)} | {_engine_s(base)} | {shown} | {verdict(target)} |"
            )
        if speedups:
            geo = math.exp(sum(math.log(v) for v, _ in speedups) / len(speedups))
            low = sum(1 for _, b in speedups if b == ">")
            high = sum(1 for _, b in speedups if b == "<")
            ok = geo >= TARGETS["query_geomean"] and min(v for v, _ in speedups) >= 1 if n == 10_000 else None
            lines += [
                "",
                f"Geometric-mean speed-up over rdflib: **{geo:.1f}×** over {len(speedups)} queries "
                f"(slowest ratio {min(v for v, _ in speedups):.2f}×; {low} of the ratios are lower "
                f"bounds, rdflib over its limit, {high} upper bounds, pyoxigraph over its limit) "
                f"{verdict(ok)}",
            ]
        floor = q.get("floor", {})
        if "seconds" in floor:
            wide = sorted(name for name, fig in q["queries"].items() if fig.get("rows", 0) >= n / 2)
            share = floor["seconds"] / TARGETS["query_max_s"]
            lines += [
                "",
                "Floor of a query answering one row per trial: every trial's IRI and NCT ID in order, read "
                f"from one property with no join (`benchmarks/{FLOOR_QUERY.name}`, {floor['rows']:,} rows), "
                f"**{_fmt_s(floor['seconds'])}**"
                + (f", {share:.0%} of the {TARGETS['query_max_s']:g} s target" if n >= FULL_SIZE else "")
                + f". Queries answering a row for half the trials or more: {', '.join(wide) or 'none'}.",
            ]
        lines.append("")

    # 3. matching
    lines += [
        "## 3. Matching",
        "",
        f"One patient against every trial with the bulk matcher; baseline: pySHACL per trial, in the same "
        "run. Measured by `benchmarks/matching.py` (`measure_matching(store_dir, trials)`), called on the "
        f"store just ingested. Targets: ≥ {TARGETS['match_ratio']:,.0f}× cheaper per trial than pySHACL; "
        f"< {TARGETS['match_s_100k']:.0f} s for one patient against 100,000 trials.",
        "",
    ]
    matched = [(n, results[str(n)].get("matching", {})) for n in sizes]
    if any("figures" in m for _, m in matched):
        lines += ["| N | figure | value |", "|---|---|---|"]
        for n, m in matched:
            if "figures" not in m:
                lines.append(f"| {n:,} | — | {m.get('note', 'not measured')} |")
            for key, value in m.get("figures", {}).items():
                lines.append(f"| {n:,} | {key} | {value:,.6g} |")
        lines += [
            "",
            "One patient against all trials, target < 2 s at 100,000. *Scan*: the first match of a "
            "store with no kept scan (removed here; in use, a store whose changes are unknown, such as "
            "after a SPARQL update: an ingest of 2,000 trials or more makes the scan), which reads every "
            "trial's eligibility index and keeps what it read beside the store; *first*: the first "
            "match of a new process, which reads the kept scan; *after a write*: the same after one "
            "trial's graph was removed and written back, the kept scan brought up to date by reading that "
            "graph again; "
            "*warm*: the same object's next patient, which only evaluates. pySHACL "
            "validates a sample of the trials and is stopped at `pyshacl_limit_s`; a stopped run counts "
            "as the limit (`pyshacl_over_limit`), which leaves the median exact while under half stop.",
            "",
            "| N | pySHACL per trial / matcher per trial (≥ 1,000×) | scan | first match | after a write "
            "| warm match |",
            "|---|---|---|---|---|---|",
        ]
        for n, m in matched:
            fig = m.get("figures", {})
            ratio = fig.get("pyshacl_over_bulk_per_trial")
            # pySHACL runs stopped at the limit count as the limit: from half the sample on, a lower bound
            bound = "≥ " if 2 * fig.get("pyshacl_over_limit", 0) >= fig.get("pyshacl_sampled", 1) else ""
            passed = verdict(ratio is not None and ratio >= TARGETS["match_ratio"])
            ratio_text = "—" if ratio is None else f"{bound}{ratio:,.0f}× {passed}"
            cells = []
            for key in ("bulk_scan_s", "bulk_first_s", "bulk_after_write_s", "bulk_warm_s"):
                value = fig.get(key)
                if value is None:
                    cells.append("—")
                elif n >= FULL_SIZE:
                    cells.append(f"{value:.2f} s {verdict(value * FULL_SIZE / n < TARGETS['match_s_100k'])}")
                else:
                    cells.append(f"{value:.2f} s (projected to 100,000: {value * FULL_SIZE / n:.1f} s)")
            lines.append(f"| {n:,} | {ratio_text} | {' | '.join(cells)} |")
    else:
        notes = sorted({m.get("note", "not measured") for _, m in matched})
        lines += [f"**Not available** in this run: {'; '.join(notes)}."]
    lines.append("")

    # 4. export and push
    lines += [
        "## 4. Export and push",
        "",
        "Export: every graph as N-Quads to a file (`TrialGraph.export`, graph by graph), after the "
        "first ingest run; baseline: the engine's own dump of the whole store (`Store.dump`), right after. "
        "Push to the servers and every other format: `benchmarks/push_export.md`.",
        "",
        "| N | quads | export | triples/s | baseline | baseline triples/s | ratio | file |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for n in sizes:
        e = results[str(n)]["export"]
        if "seconds" not in e:
            lines.append(f"| {n:,} | — | {e.get('note', 'not measured')} | | | | | |")
            continue
        base_s = e.get("baseline_seconds")
        base_text = (
            "— | — | —"
            if base_s is None
            else (f"{base_s:.1f} s | {e['quads'] / base_s:,.0f} | {e['seconds'] / base_s:.2f}×")
        )
        lines.append(
            f"| {n:,} | {e['quads']:,} | {e['seconds']:.1f} s | {e['triples_per_s']:,.0f} | "
            f"{base_text} | {e['mb']:.0f} MB |"
        )
    lines.append("")
    pushed = [(n, results[str(n)].get("push", {})) for n in sizes]
    if any("figures" in p for _, p in pushed):
        lines += [
            "Push and export formats, from `benchmarks/push_export.py` (`measure`):",
            "",
            "| N | figure | value |",
            "|---|---|---|",
        ]
        for n, p in pushed:
            for f in p.get("figures", []):
                lines.append(f"| {n:,} | {f['figure']} | {f['value']:,} {f['unit']} |")
        lines.append("")
    else:
        notes = {p.get("note", "") for _, p in pushed} - {""}
        lines += [
            "Push throughput (to real Oxigraph and Virtuoso servers) is measured by "
            "`benchmarks/push_export.py`; run `benchmarks/scale.py --push` (or that script) to include it"
            + (f" ({'; '.join(sorted(notes))})" if notes else "")
            + ".",
            "",
        ]
    lines += ["## Plots", ""]
    lines += [f"![{p}]({p})" for p in PLOTS]
    return "\n".join(lines) + "\n"


PLOTS = ("scale-ingest.png", "scale-queries.png", "scale-matching.png", "scale-export.png")


def plot(results: dict[str, Any], out: Path) -> list[Path]:
    """One PNG per figure against N (log-log)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    sizes = sorted(int(k) for k in results)
    r = [results[str(n)] for n in sizes]
    written = []

    def finish(fig: Any, name: str) -> None:
        fig.tight_layout()
        path = out / name
        fig.savefig(path, dpi=90)
        plt.close(fig)
        written.append(path)

    def line(ax: Any, path: tuple[str, ...], fmt: str, scale: float = 1.0, **style: Any) -> bool:
        """Plot the figure at ``path`` (keys into each size's results) for the sizes that have it."""
        pts = []
        for n, x in zip(sizes, r, strict=True):
            value: Any = x
            for key in path:
                value = value.get(key) if isinstance(value, dict) else None
            if isinstance(value, (int, float)) and value:
                pts.append((n, value * scale))
        if pts:
            ax.plot(*zip(*pts, strict=True), fmt, **style)
        return bool(pts)

    fig, axes = plt.subplots(1, 3, figsize=(14, 4))
    line(axes[0], ("ingest", "seconds"), "o-", label="ingest (TrialGraph.ingest)")
    line(axes[0], ("ingest", "baseline_seconds"), "s--", label="baseline: N-Quads bulk load")
    line(
        axes[0],
        ("ingest", "baseline_seconds"),
        ":",
        TARGETS["ingest_ratio"],
        color="grey",
        label="target: 3× baseline",
    )
    axes[0].set(xscale="log", yscale="log", xlabel="trials", ylabel="seconds", title="Ingest time")
    line(axes[1], ("ingest", "peak_mb"), "o-", label="ingest peak PSS")
    line(axes[1], ("ingest", "baseline_peak_mb"), "s--", label="baseline peak PSS")
    axes[1].axhline(TARGETS["peak_mb"], color="grey", linestyle=":", label="target: 2 GB")
    axes[1].set(xscale="log", xlabel="trials", ylabel="MB", title="Peak memory")
    line(axes[2], ("ingest", "store_mb"), "o-", label="store after ingest")
    line(axes[2], ("ingest", "baseline_store_mb"), "s--", label="baseline store")
    axes[2].set(xscale="log", yscale="log", xlabel="trials", ylabel="MB", title="Store size on disk")
    for ax in axes:
        ax.legend(fontsize=8)
    finish(fig, "scale-ingest.png")

    fig, ax = plt.subplots(figsize=(9, 5))
    names = sorted({name for x in r for name in x["queries"]["queries"]})
    for k, name in enumerate(names):
        color = f"C{k % 10}"
        line(ax, ("queries", "queries", name, "seconds"), "o-", color=color, label=name)
        line(ax, ("queries", "rdflib", "queries", name, "seconds"), "x--", color=color, alpha=0.6)
    ax.axhline(TARGETS["query_max_s"], color="grey", linestyle=":")
    ax.set(
        xscale="log",
        yscale="log",
        xlabel="trials",
        ylabel="seconds (median)",
        title="Query latency: pyoxigraph (solid) vs rdflib in memory (dashed)",
    )
    ax.legend(fontsize=7, loc="upper left")
    finish(fig, "scale-queries.png")

    fig, axes = plt.subplots(1, 2, figsize=(12, 4))
    drawn = False
    for ax, lines_ in (
        (
            axes[0],
            (
                ("bulk_per_trial_us", 1.0, "bulk matcher (warm)"),
                ("pyshacl_per_trial_s", 1e6, "baseline: pySHACL"),
            ),
        ),
        (
            axes[1],
            (
                ("bulk_scan_s", 1.0, "scan (no kept scan)"),
                ("bulk_first_s", 1.0, "first match"),
                ("bulk_after_write_s", 1.0, "first match after a write"),
                ("bulk_warm_s", 1.0, "warm match"),
            ),
        ),
    ):
        for key, factor, name in lines_:
            drawn |= line(ax, ("matching", "figures", key), "o-", factor, label=name)
    axes[0].set(
        xscale="log", yscale="log", xlabel="trials", ylabel="µs per trial", title="Matching: cost per trial"
    )
    axes[1].axhline(TARGETS["match_s_100k"], color="grey", linestyle=":", label="target at 100,000: 2 s")
    axes[1].set(
        xscale="log", yscale="log", xlabel="trials", ylabel="seconds", title="One patient, every trial"
    )
    for ax in axes:
        ax.legend(fontsize=8)
    if not drawn:
        axes[0].text(
            0.5, 0.5, "matching: not available", ha="center", va="center", transform=axes[0].transAxes
        )
    finish(fig, "scale-matching.png")

    fig, ax = plt.subplots(figsize=(7, 4))
    line(ax, ("export", "triples_per_s"), "o-", label="export N-Quads")
    line(ax, ("export", "baseline_triples_per_s"), "s--", label="baseline: Store.dump")
    ax.set(xscale="log", xlabel="trials", ylabel="triples/s", title="Export throughput")
    ax.legend(fontsize=8)
    finish(fig, "scale-export.png")
    return written


# --- the driver --------------------------------------------------------------------------------------------


def measure_size(n: int, args: argparse.Namespace, work: Path) -> dict[str, Any]:
    corpus_dir = corpus(n, args.seed, work)
    # three runs up to 100,000 (one 100,000 ingest varied from 724 to 848 s between runs); one above
    runs = args.runs if args.runs else (3 if n <= FULL_SIZE else 1)
    baseline = n <= args.baseline_max
    ingest, export, store, nquads = measure_ingest(n, corpus_dir, work, runs, baseline)
    say(f"N={n:,}: queries")
    query_runs = 1 if args.quick else 5 if n <= 10_000 else 3
    queries = measure_queries(n, store, nquads, work, query_runs, args)
    say(f"N={n:,}: matching")
    matching = measure_matching(n, store)
    result = {
        "measured": dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "ingest": ingest,
        "export": export,
        "queries": queries,
        "matching": matching,
    }
    if args.push and n <= args.push_max:
        say(f"N={n:,}: push (benchmarks/push_export.py)")
        result["push"] = measure_push(n, work, store)
    kept = args.seed == SEED and publish(n, args.seed, store, work, ingest)
    if not args.keep:
        for path in (nquads,) if kept else (store, nquads):
            with contextlib.suppress(OSError):
                shutil.rmtree(path) if path.is_dir() else path.unlink()
    return result


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if argv[:1] == ["_child"]:
        return _child_main(argv[1], argv[2:])
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", type=int, nargs="+", help="the N to measure (default 1000 10000)")
    parser.add_argument("--full", action="store_true", help="add 100,000")
    parser.add_argument("--huge", action="store_true", help="add 500,000")
    parser.add_argument("--seed", type=int, default=SEED)
    parser.add_argument("--runs", type=int, default=0, help="ingest runs per N (default 3, 1 above 100,000)")
    parser.add_argument(
        "--work",
        type=Path,
        default=Path(tempfile.gettempdir()) / "tg-bench",
        help="cache of corpora and scratch stores",
    )
    parser.add_argument("--out", type=Path, default=BENCH, help="where RESULTS.md, the JSON and PNGs go")
    parser.add_argument(
        "--query-limit",
        type=int,
        default=0,
        help="seconds per query on pyoxigraph (default 10 up to 10,000 trials, 60 above)",
    )
    parser.add_argument(
        "--baseline-max",
        type=int,
        default=10_000,
        help="largest N with the raw-load baseline and the export (at 100,000 the export alone took over "
        "an hour here); above it the ingest runs alone",
    )
    parser.add_argument("--rdflib-max", type=int, default=10_000, help="largest N measured on rdflib")
    parser.add_argument(
        "--rdflib-limit", type=int, default=0, help="seconds per rdflib query (default: 5 at 1,000, else 6)"
    )
    parser.add_argument("--rdflib-budget", type=int, default=300, help="seconds for all rdflib queries per N")
    parser.add_argument("--quick", action="store_true", help="one run of everything: a smoke test")
    parser.add_argument("--push", action="store_true", help="include benchmarks/push_export.py figures")
    parser.add_argument("--push-max", type=int, default=10_000, help="largest N pushed to the servers")
    parser.add_argument("--keep", action="store_true", help="keep the stores and exports in --work")
    parser.add_argument("--fresh", action="store_true", help="do not merge with earlier results in --out")
    args = parser.parse_args(argv)
    sizes = list(args.sizes or DEFAULT_SIZES)
    if args.full:
        sizes.append(FULL_SIZE)
    if args.huge:
        sizes.append(HUGE_SIZE)
    sizes = sorted(set(sizes))
    work = args.work
    work.mkdir(parents=True, exist_ok=True)
    args.out.mkdir(parents=True, exist_ok=True)
    env = machine()
    say(f"scale benchmark at N = {', '.join(f'{n:,}' for n in sizes)}; work folder {work}")
    data_file = args.out / "scale-results.json"
    results: dict[str, Any] = {}
    if data_file.is_file() and not args.fresh:
        results = json.loads(data_file.read_text()).get("results", {})
    command = "benchmarks/scale.py " + " ".join(a for a in argv)
    for n in sizes:
        start = time.perf_counter()
        results[str(n)] = measure_size(n, args, work)
        say(f"N={n:,} done in {time.perf_counter() - start:.0f} s")
        data_file.write_text(json.dumps({"machine": env, "results": results}, indent=1))
        (args.out / "RESULTS.md").write_text(render(results, env, command.strip()))
    plot(results, args.out)
    say(f"wrote {args.out / 'RESULTS.md'}, {data_file.name} and {len(PLOTS)} plots")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
