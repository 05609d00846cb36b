"""Export and push throughput for a store of the scale corpus, and the export's peak memory.

Builds (or reuses) a store of N trials: the scale corpus (``benchmarks/corpus.py N --seed 7``)
ingested with ``trialgraph ingest``, cached in the work folder; a store of exactly N trials that the
scale suite left at ``/tmp/tg-bench/s{N/1000}k`` (or ``--store``) is used instead of building one. Then:

* **export**: each serialization (N-Quads, TriG, Turtle, N-Triples, JSON-LD, RDF/XML; the last two
  can be limited to ``--subset`` trials), to a file, with and without gzip, each in a process of its
  own so that its peak resident memory (``ru_maxrss``) is its own: triples per second and peak MB.
  Baseline: pyoxigraph's own ``Store.dump`` of the whole store to N-Quads, in the same way.
* **push**: the whole store to a real Oxigraph server and a real Virtuoso 7, each started here on
  127.0.0.1 on a fresh database (``tests/integration/servers.py``), over the Graph Store Protocol and
  over SPARQL Update: triples and trials per second, the triples the server then holds checked; and
  a re-run with the state file (every trial unchanged, so skipped). Baseline: the server's own bulk
  loader reading the N-Quads export from disk (``oxigraph load``; Virtuoso's ``ld_dir`` +
  ``rdf_loader_run``), on a fresh database.

Figures are printed and written to ``benchmarks/push_export.md`` with the machine, versions and
date; ``measure(n, work_dir)`` returns them for the scale suite.

    .venv/bin/python benchmarks/push_export.py [--trials 1000 10000] [--work-dir /tmp/tg-bench-push]
"""

from __future__ import annotations

import argparse
import datetime as dt
import importlib.util
import json
import os
import platform
import re
import resource
import shutil
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from types import ModuleType
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
SEED = 7
DEFAULT_WORK = Path("/tmp/tg-bench-push")
MAIN_FORMATS = ("nquads", "trig", "turtle", "ntriples")
SLOW_FORMATS = ("jsonld", "rdfxml")
SUBSET = 0
"""JSON-LD and RDF/XML are measured on at most this many trials (0: all)."""
SERVERS = ("oxigraph", "virtuoso")
SHARED = Path("/tmp/tg-bench")
"""Where ``benchmarks/scale.py`` leaves its stores (``s10k``: 10,000 trials)."""
RAW = "pyoxigraph-dump"
"""The export baseline: pyoxigraph's ``Store.dump`` of the whole store to N-Quads."""
PROTOCOLS = ("gsp", "update")
MARKER = "built.json"


def _say(text: str) -> None:
    print(text, file=sys.stderr, flush=True)


# --- the store ---------------------------------------------------------------------------------------


def shared_store(n_trials: int) -> Path | None:
    """The scale suite's store of exactly ``n_trials`` trials, if it left one."""
    if n_trials % 1000:
        return None
    path = SHARED / f"s{n_trials // 1000}k"
    return path if path.is_dir() else None


def build_store(
    n_trials: int, work_dir: Path, seed: int = SEED, reuse: Path | None = None
) -> tuple[Path, dict[str, Any]]:
    """The store of ``n_trials`` corpus trials: ``reuse`` or the scale suite's if it holds exactly
    ``n_trials`` trials, else one built in ``work_dir`` (once; ``built.json`` marks it done)."""
    folder = work_dir / f"n{n_trials}-seed{seed}"
    marker = folder / MARKER
    store = folder / "store"
    candidates: list[Path | None] = [reuse] if reuse is not None else []
    if not marker.is_file():
        candidates.append(shared_store(n_trials))
    for candidate in candidates:
        if candidate is None:
            continue
        try:
            info = describe_store(candidate)
        except Exception as exc:  # a store another process is writing, or not a store at all
            _say(f"not reusing {candidate}: {type(exc).__name__}: {exc}")
            continue
        if info["trials"] == n_trials:
            _say(f"reusing the store {candidate} ({n_trials:,} trials)")
            info.update(path=str(candidate), reused=True, ingest_seconds=None)
            return candidate, info
        _say(f"not reusing {candidate}: {info['trials']:,} trials, not {n_trials:,}")
    if marker.is_file():
        return store, json.loads(marker.read_text())
    corpus = folder / "corpus"
    for path in (corpus, store):
        shutil.rmtree(path, ignore_errors=True)
    folder.mkdir(parents=True, exist_ok=True)
    _say(f"building the corpus of {n_trials:,} trials in {corpus}")
    subprocess.run(
        [
            sys.executable,
            str(ROOT / "benchmarks" / "corpus.py"),
            str(n_trials),
            str(corpus),
            "--seed",
            str(seed),
        ],
        check=True,
    )
    _say(f"ingesting it into {store}")
    start = time.perf_counter()
    run = subprocess.run(
        [sys.executable, "-m", "trialgraph", "--store", str(store), "ingest", str(corpus)],
        capture_output=True,
        text=True,
        check=False,
    )
    seconds = time.perf_counter() - start
    if run.returncode not in (0, 1):
        raise RuntimeError(f"ingest failed ({run.returncode}): {run.stderr[-2000:]}")
    info = describe_store(store)
    info.update(seed=seed, requested=n_trials, ingest_seconds=round(seconds, 1), ingest_report=run.stdout)
    marker.write_text(json.dumps(info, indent=1))
    return store, info


def describe_store(store: Path) -> dict[str, Any]:
    """Trials, graphs and quads of a store, and its size on disk."""
    from trialgraph.api import TrialGraph

    tg = TrialGraph(store, read_only=True)
    graphs = list(tg.store.graphs())
    return {
        "trials": len(tg.trial_ids()),
        "graphs": len(graphs),
        "quads": tg.store.count(),
        "disk_mb": round(sum(p.stat().st_size for p in store.rglob("*") if p.is_file()) / 1e6, 1),
    }


# --- export, in a child process per run ---------------------------------------------------------------


def _rss_mb() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def child_export(store: str, fmt: str, compress: bool, out: str, trials: int) -> dict[str, Any]:
    """One export (run in a fresh process): seconds, quads, bytes, baseline and peak RSS."""
    import pyoxigraph as ox

    from trialgraph.api import TrialGraph
    from trialgraph.export import open_output
    from trialgraph.namespaces import ONTOLOGY_GRAPH, trial_iri

    if fmt == RAW:
        raw = ox.Store.read_only(store)
        baseline = _rss_mb()
        start = time.perf_counter()
        with open_output(out, compress) as output:
            raw.dump(output, format=ox.RdfFormat.N_QUADS)
        seconds = time.perf_counter() - start
        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        return {
            "seconds": seconds,
            "quads": None,
            "bytes": Path(out).stat().st_size,
            "baseline_mb": baseline,
            "peak_mb": peak,
        }
    tg = TrialGraph(store, read_only=True)
    selection = sorted(tg.trial_ids())[:trials] if trials else None
    if selection is None:
        quads = None  # counted by the parent, once
    else:
        quads = tg.store.count(ox.NamedNode(ONTOLOGY_GRAPH)) + sum(
            tg.store.count(ox.NamedNode(trial_iri(t))) for t in selection
        )
    baseline = _rss_mb()
    start = time.perf_counter()
    with open_output(out, compress) as output:
        tg.export(output, fmt, selection, include_ontology=True)
    seconds = time.perf_counter() - start
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return {
        "seconds": seconds,
        "quads": quads,
        "bytes": Path(out).stat().st_size,
        "baseline_mb": baseline,
        "peak_mb": peak,
    }


def export_run(
    store: Path, fmt: str, compress: bool, out_dir: Path, trials: int = 0, keep: bool = False
) -> dict[str, Any]:
    """Run :func:`child_export` in a new Python process and return what it measured (``keep``: the
    file stays, as ``path``)."""
    out_dir.mkdir(parents=True, exist_ok=True)
    out = out_dir / f"export.{fmt}{'.gz' if compress else ''}"
    args = [sys.executable, str(Path(__file__).resolve()), "--child-export", str(store), fmt, str(out)]
    args += ["--child-trials", str(trials)] + (["--child-gzip"] if compress else [])
    try:
        run = subprocess.run(args, capture_output=True, text=True, check=False)
        if run.returncode != 0:
            raise RuntimeError(f"export {fmt} failed: {run.stderr[-2000:]}")
        result = dict(json.loads(run.stdout.strip().splitlines()[-1]))
        if keep:
            result["path"] = str(out)
        return result
    finally:
        if not keep:
            out.unlink(missing_ok=True)


# --- push to real servers -----------------------------------------------------------------------------


def _servers() -> ModuleType:
    """``tests/integration/servers.py``, the server starters the integration tests use."""
    name = "trialgraph_bench_servers"
    if name in sys.modules:
        return sys.modules[name]
    spec = importlib.util.spec_from_file_location(name, ROOT / "tests" / "integration" / "servers.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


def _started(name: str, folder: Path) -> Any:
    servers = _servers()
    shutil.rmtree(folder, ignore_errors=True)
    if name == "oxigraph":
        return servers.start_oxigraph(folder)
    return servers.start_virtuoso(folder, buffers=100_000)  # 800 MB of pages, for 10,000 trials


def bulk_load(name: str, nquads: Path, work_dir: Path, versions: dict[str, str]) -> dict[str, Any]:
    """The baseline: the server's own bulk loader reading ``nquads`` into a fresh database."""
    servers = _servers()
    folder = work_dir / "servers" / f"{name}-bulk"
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
    try:
        if name == "oxigraph":
            exe = servers.oxigraph_program()
            start = time.perf_counter()
            args = [exe, "load", "--location", str(folder / "db"), "--format", "nq", "--file", str(nquads)]
            loaded = subprocess.run(args, check=False, capture_output=True, text=True)
            seconds = time.perf_counter() - start
            if loaded.returncode != 0:
                raise RuntimeError(f"oxigraph load failed: {loaded.stderr[-800:]}")
            with servers.start_oxigraph(folder) as server:  # to count what it holds, as for a push
                held = server.count()
                versions[name] = server.version
        else:
            with _started(name, folder) as server:
                versions[name] = server.version
                os.link(nquads, folder / "bulk.nq")  # Virtuoso reads only from its DirsAllowed
                start = time.perf_counter()
                servers.isql(
                    server,
                    f"ld_dir('{folder}', 'bulk.nq', 'urn:unused'); rdf_loader_run(); checkpoint;",
                )
                seconds = time.perf_counter() - start
                state = servers.isql(
                    server, "SELECT COUNT(*) FROM DB.DBA.load_list WHERE ll_error IS NOT NULL;"
                )
                failed = re.search(r"^\s*(\d+)\s*$", state, re.MULTILINE)
                if failed is None or failed.group(1) != "0":
                    raise RuntimeError(f"the Virtuoso bulk loader reported an error: {state[-500:]}")
                held = server.count()
        return {"server": name, "protocol": "bulk load", "seconds": seconds, "held": held}
    except (servers.NotInstalled, servers.DidNotStart) as exc:
        return {"server": name, "protocol": "bulk load", "skipped": str(exc)}
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def push_runs(store: Path, name: str, work_dir: Path, versions: dict[str, str]) -> Iterator[dict[str, Any]]:
    """Push the whole store to a fresh ``name`` server per protocol; one dict per run."""
    from trialgraph.api import TrialGraph
    from trialgraph.remote import HttpClient, Pusher, PushState

    servers = _servers()
    tg = TrialGraph(store, read_only=True)
    graphs = list(tg.push_graphs())
    for protocol in PROTOCOLS:
        folder = work_dir / "servers" / f"{name}-{protocol}"
        try:
            with _started(name, folder) as server:
                versions[name] = server.version
                state = PushState(folder / "push-state.json")
                client = HttpClient(server.credentials(), retries=4, timeout=600)
                report = Pusher(server.endpoint(), client, protocol=protocol, state=state).push(
                    tg.store, graphs
                )
                held = server.count()
                result = {
                    "server": name,
                    "protocol": report.protocol,
                    "trials": sum(1 for g in report.sent if "/trial/" in g),
                    "graphs": len(report.sent),
                    "triples": report.triples_sent,
                    "seconds": report.seconds,
                    "failed": len(report.failed),
                    "held": held,
                }
                if protocol == PROTOCOLS[0]:
                    again = Pusher(server.endpoint(), client, protocol=protocol, state=state)
                    rerun = again.push(tg.store, graphs)
                    result["rerun_seconds"] = rerun.seconds
                    result["rerun_skipped"] = len(rerun.skipped)
                yield result
        except (servers.NotInstalled, servers.DidNotStart) as exc:
            _say(f"{name}: not measured: {exc}")
            yield {"server": name, "protocol": protocol, "skipped": str(exc)}
        finally:
            shutil.rmtree(folder, ignore_errors=True)


# --- the figures --------------------------------------------------------------------------------------


def _figure(figure: str, value: float, unit: str, n: int) -> dict[str, Any]:
    return {"figure": figure, "value": round(value, 2 if unit == "ratio" else 1), "unit": unit, "n": n}


def measure(
    n_trials: int,
    work_dir: Path,
    push: bool = True,
    subset: int = SUBSET,
    details: dict[str, Any] | None = None,
    checkpoint: Callable[[], None] | None = None,
    store: Path | None = None,
) -> list[dict[str, Any]]:
    """Export and push figures for a store of ``n_trials`` corpus trials (``store``, the scale suite's,
    or one built in ``work_dir``).

    Each figure: ``{"figure", "value", "unit", "n"}`` (``n``: the trials it was measured on); a
    ``ratio`` figure divides a throughput by its baseline's, measured in the same run. ``details``,
    if given, receives the raw measurements (store description, runs, versions) as they are made;
    ``checkpoint`` is called after each.
    """
    work_dir = Path(work_dir)
    path, info = build_store(n_trials, work_dir, reuse=store)
    n = int(info["trials"])
    figures: list[dict[str, Any]] = []
    raw: dict[str, Any] = details if details is not None else {}
    raw.update(store=info, exports=[], pushes=[], versions={})
    out_dir = work_dir / "out"
    nquads: Path | None = None

    def done() -> None:
        if checkpoint is not None:
            checkpoint()

    try:
        for fmt in (*MAIN_FORMATS, *SLOW_FORMATS):
            # The baseline runs right before each format: the machine's load drifts within a run.
            base = export_run(path, RAW, False, out_dir)
            base_rate = info["quads"] / base["seconds"]
            base.update(format=RAW, gzip=False, trials=n, quads=info["quads"], before=fmt)
            raw["exports"].append(base)
            figures.append(_figure(f"export baseline ({RAW}) before {fmt}", base_rate, "triples/s", n))
            _say(f"baseline {RAW}: {base_rate:,.0f} triples/s, peak {base['peak_mb']:.0f} MB")
            trials = subset if fmt in SLOW_FORMATS and 0 < subset < n else 0
            for compress in (False, True):
                _say(f"export {fmt}{' gzip' if compress else ''} of {trials or n:,} trials")
                keep = push and fmt == "nquads" and not compress and not trials
                run = export_run(path, fmt, compress, out_dir, trials, keep=keep)
                if keep:
                    nquads = Path(run.pop("path"))
                quads = run["quads"] if run["quads"] is not None else info["quads"]
                label = f"export {fmt}{' gzip' if compress else ''}"
                at = trials or n
                run.update(format=fmt, gzip=compress, trials=at, quads=quads, baseline=base_rate)
                raw["exports"].append(run)
                rate = quads / run["seconds"]
                figures.append(_figure(f"{label} throughput", rate, "triples/s", at))
                figures.append(_figure(f"{label} / baseline", rate / base_rate, "ratio", at))
                figures.append(_figure(f"{label} peak RSS", run["peak_mb"], "MB", at))
                ratio = rate / base_rate
                _say(f"  {rate:,.0f} triples/s ({ratio:.2f}x baseline), peak {run['peak_mb']:.0f} MB")
                done()
        if push and nquads is not None:
            for name in SERVERS:
                bulk = bulk_load(name, nquads, work_dir, raw["versions"])
                raw["pushes"].append(bulk)
                bulk_rate = info["quads"] / bulk["seconds"] if "skipped" not in bulk else None
                if bulk_rate is not None:
                    figures.append(
                        _figure(f"bulk load {name} (baseline) throughput", bulk_rate, "triples/s", n)
                    )
                    _say(f"  {name} bulk load: {bulk_rate:,.0f} triples/s ({bulk['held']:,} held)")
                done()
                for result in push_runs(path, name, work_dir, raw["versions"]):
                    raw["pushes"].append(result)
                    if "skipped" in result:
                        done()
                        continue
                    label = f"push {name} {result['protocol']}"
                    rate = result["triples"] / result["seconds"]
                    figures.append(_figure(f"{label} throughput", rate, "triples/s", n))
                    figures.append(
                        _figure(f"{label} trials", result["trials"] / result["seconds"], "trials/s", n)
                    )
                    if bulk_rate is not None:
                        figures.append(_figure(f"{label} / bulk load", rate / bulk_rate, "ratio", n))
                    if "rerun_seconds" in result:
                        skip_rate = result["rerun_skipped"] / result["rerun_seconds"]
                        figures.append(
                            _figure(f"re-push {name} unchanged (skipped)", skip_rate, "trials/s", n)
                        )
                    _say(f"  {label}: {rate:,.0f} triples/s ({result['held']:,} held)")
                    done()
    finally:
        if nquads is not None:
            nquads.unlink(missing_ok=True)
    return figures


# --- the report ---------------------------------------------------------------------------------------


def machine() -> dict[str, str]:
    """CPU, cores, memory, OS and versions."""
    cpu = next(
        (ln.split(":", 1)[1].strip() for ln in _lines("/proc/cpuinfo") if ln.startswith("model name")), ""
    )
    mem = next((ln.split()[1] for ln in _lines("/proc/meminfo") if ln.startswith("MemTotal")), "0")
    import pyoxigraph

    from trialgraph import __version__

    return {
        "cpu": f"{cpu} ({os.cpu_count()} cores)",
        "memory": f"{int(mem) / 1024 / 1024:.1f} GB",
        "os": platform.platform(),
        "python": platform.python_version(),
        "pyoxigraph": getattr(pyoxigraph, "__version__", "?"),
        "trialgraph": __version__,
        "load before": " ".join(f"{x:.1f}" for x in os.getloadavg()),
    }


def _lines(path: str) -> list[str]:
    try:
        return Path(path).read_text().splitlines()
    except OSError:
        return []


def report(runs: dict[int, dict[str, Any]], env: dict[str, str], started: str) -> str:
    """The markdown report of every size measured."""
    out = [
        "# Export and push throughput",
        "",
        "Written by `benchmarks/push_export.py` (re-run it to refresh). Store: the scale corpus",
        "(`benchmarks/corpus.py N --seed 7`) ingested with `trialgraph ingest`. Each export runs in a",
        "process of its own, to a file, with the ontology graph; peak memory is that process's `ru_maxrss`",
        "(Python, trialgraph and the store's RocksDB included). Export baseline: pyoxigraph's own",
        f"`Store.dump` to N-Quads (`{RAW}`). Pushes go to servers started by the benchmark on 127.0.0.1",
        "on fresh databases, one per protocol, batch size 50, over HTTP on the same machine, so the",
        "server's CPU time is in the figure too. Push baseline: the server's own bulk loader reading the",
        "N-Quads export from local disk into a fresh database (`oxigraph load`; Virtuoso `ld_dir` +",
        "`rdf_loader_run` + `checkpoint`). The machine is shared with other jobs (see the load), so",
        "absolute figures are noisy; the ratios to the baselines measured in the same run hold better.",
        "",
        f"- date: {started}",
    ]
    out += [f"- {k}: {v}" for k, v in env.items()]
    for _, details in sorted(runs.items()):
        store = details["store"]
        built = (
            f"reused from `{store['path']}`"
            if store.get("reused")
            else f"ingest took {store.get('ingest_seconds') or 0:,} s"
        )
        out += [
            "",
            f"## {store['trials']:,} trials",
            "",
            f"Store: {store['trials']:,} trials, {store['quads']:,} triples in {store['graphs']:,} graphs, "
            f"{store['disk_mb']:,} MB on disk; {built}.",
            "",
            "| export | trials | triples | seconds | triples/s | baseline triples/s | × baseline | output MB "
            "| peak RSS MB |",
            "|---|--:|--:|--:|--:|--:|--:|--:|--:|",
        ]
        for e in details["exports"]:
            if e["format"] == RAW:
                continue
            name = e["format"] + (" + gzip" if e["gzip"] else "")
            rate = e["quads"] / e["seconds"]
            base = e.get("baseline")
            paired = f"{base:,.0f} | {rate / base:.2f}" if base else "– | –"
            out.append(
                f"| {name} | {e['trials']:,} | {e['quads']:,} | {e['seconds']:.1f} | {rate:,.0f} | "
                f"{paired} | {e['bytes'] / 1e6:,.1f} | {e['peak_mb']:,.0f} |"
            )
        bases = [e for e in details["exports"] if e["format"] == RAW]
        if bases:
            peaks = ", ".join(f"{b['peak_mb']:,.0f}" for b in bases)
            out.append(f"\nBaseline ({RAW}) output {bases[0]['bytes'] / 1e6:,.1f} MB, peak RSS MB: {peaks}.")
        if details["pushes"]:
            out += [
                "",
                "| push | protocol | trials | triples | seconds | triples/s | × bulk | trials/s | held |",
                "|---|---|--:|--:|--:|--:|--:|--:|--:|",
            ]
            bulk = {
                p["server"]: store["quads"] / p["seconds"]
                for p in details["pushes"]
                if p["protocol"] == "bulk load" and "skipped" not in p
            }
            for p in details["pushes"]:
                if "skipped" in p:
                    out.append(
                        f"| {p['server']} | {p['protocol']} | not measured: {p['skipped'][:80]} ||||||"
                    )
                    continue
                if p["protocol"] == "bulk load":
                    out.append(
                        f"| {p['server']} | bulk load (baseline) | {store['trials']:,} | "
                        f"{store['quads']:,} | "
                        f"{p['seconds']:.1f} | {bulk[p['server']]:,.0f} | 1.00 | "
                        f"{store['trials'] / p['seconds']:,.1f} | {p['held']:,} |"
                    )
                    continue
                rate = p["triples"] / p["seconds"]
                ratio = f"{rate / bulk[p['server']]:.2f}" if p["server"] in bulk else "–"
                out.append(
                    f"| {p['server']} | {p['protocol']} | {p['trials']:,} | {p['triples']:,} | "
                    f"{p['seconds']:.1f} | {rate:,.0f} | {ratio} | "
                    f"{p['trials'] / p['seconds']:,.1f} | {p['held']:,} |"
                )
            reruns = [p for p in details["pushes"] if "rerun_seconds" in p]
            for p in reruns:
                out.append(
                    f"\nRe-run of the {p['server']} {p['protocol']} push with its state file: "
                    f"{p['rerun_skipped']:,} graphs unchanged, skipped in {p['rerun_seconds']:.1f} s "
                    f"({p['rerun_skipped'] / p['rerun_seconds']:,.0f} graphs/s)."
                )
            if details["versions"]:
                out.append("")
                out += [f"- {k}: {v}" for k, v in details["versions"].items()]
    sizes = sorted(runs)
    if len(sizes) >= 2:
        small, big = runs[sizes[0]], runs[sizes[-1]]
        out += [
            "",
            "## Export memory against store size",
            "",
            f"| export | peak RSS MB, {small['store']['trials']:,} trials | "
            f"peak RSS MB, {big['store']['trials']:,} trials |",
            "|---|--:|--:|",
        ]
        for a in small["exports"]:
            if a["format"] == RAW:
                continue
            b = next(
                (x for x in big["exports"] if x["format"] == a["format"] and x["gzip"] == a["gzip"]), None
            )
            if b is None:
                continue
            name = a["format"] + (" + gzip" if a["gzip"] else "")
            note = f" ({b['trials']:,} trials)" if b["trials"] != big["store"]["trials"] else ""
            out.append(f"| {name} | {a['peak_mb']:,.0f} | {b['peak_mb']:,.0f}{note} |")
    return "\n".join(out) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--trials", type=int, nargs="+", default=[1000, 10000], help="store sizes")
    parser.add_argument("--work-dir", type=Path, default=DEFAULT_WORK, help="cache of corpora and stores")
    parser.add_argument("--subset", type=int, default=SUBSET, help="trials for JSON-LD and RDF/XML")
    parser.add_argument("--no-push", action="store_true", help="export figures only")
    parser.add_argument("--push-sizes", type=int, nargs="*", help="sizes to push (default: all)")
    parser.add_argument("--store", type=Path, help="an existing store of exactly N trials to measure")
    parser.add_argument("--output", type=Path, default=ROOT / "benchmarks" / "push_export.md")
    parser.add_argument("--child-export", nargs=3, metavar=("STORE", "FORMAT", "OUT"), help=argparse.SUPPRESS)
    parser.add_argument("--child-trials", type=int, default=0, help=argparse.SUPPRESS)
    parser.add_argument("--child-gzip", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child_export:
        store, fmt, out = args.child_export
        print(json.dumps(child_export(store, fmt, args.child_gzip, out, args.child_trials)))
        return 0
    started = dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC")
    env = machine()
    runs: dict[int, dict[str, Any]] = {}
    results = args.work_dir / "push_export-results.json"

    def checkpoint() -> None:  # after each measurement: nothing lost if the run is stopped
        done = {n: d for n, d in runs.items() if d.get("exports")}
        args.output.write_text(report(done, env, started))
        results.write_text(json.dumps({"machine": env, "runs": runs}, indent=1, default=str))

    for n in args.trials:
        runs[n] = {}
        push = not args.no_push and (args.push_sizes is None or n in args.push_sizes)
        figures = measure(
            n,
            args.work_dir,
            push=push,
            subset=args.subset,
            details=runs[n],
            checkpoint=checkpoint,
            store=args.store,
        )
        for f in figures:
            digits = 2 if f["unit"] == "ratio" else 1
            print(f"{f['figure']:<50} {f['value']:>14,.{digits}f} {f['unit']:<10} n={f['n']:,}")
    env["load after"] = " ".join(f"{x:.1f}" for x in os.getloadavg())
    checkpoint()
    print(f"written: {args.output}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
