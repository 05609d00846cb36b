"""Crash safety: SIGKILL ``trialgraph ingest`` at random moments, again and again, on the same store.

New trials are written a batch at a time (up to 500) by one bulk load; half the kills are aimed at
it: they land once the engine has started writing the batch's files (``bulk-*.sst``), while it
writes or ingests them, or just after. After every kill the store opens (and the writer that opens
it removes a killed load's leftover files), every trial graph in it is whole (equal, but for the
ingest timestamp, to the graph of one of the records with that trial's ID) or absent, and the
ingest's worker processes are gone too. After the loop ``trialgraph validate`` passes (no violation
that the complete store does not have too), and a re-run completes the load: the store then equals
a clean ingest. ``TRIALGRAPH_LONG=1`` kills more often, over the whole shared corpus.
"""

from __future__ import annotations

import contextlib
import os
import random
import re
import signal
import subprocess
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pyoxigraph as ox
from tests.reliability.support import (
    Graph,
    cli_argv,
    describe_difference,
    expected_graphs,
    scaled,
    stored_graphs,
)

from trialgraph import rdf
from trialgraph.api import TrialGraph
from trialgraph.namespaces import ONTOLOGY_GRAPH
from trialgraph.store import TrialStore

KILLS = scaled(6, 25)
KILL_LOOP_SECONDS = scaled(50, 600)


def live_processes_in_group(pgid: int) -> list[int]:
    """Processes (not zombies) whose process group is ``pgid``."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        fields = stat[stat.rindex(")") + 2 :].split()
        if int(fields[2]) == pgid and fields[0] != "Z":
            found.append(int(entry.name))
    return found


def wait_for_open(store: Path, before: set[Path], process: subprocess.Popen[bytes]) -> float:
    """Seconds until the ingest has opened the store (a new file in it) or ended; start-up is not a test."""
    start = time.perf_counter()
    while process.poll() is None and time.perf_counter() - start < 60:
        if store.is_dir() and set(store.iterdir()) - before:
            break
        time.sleep(0.02)
    return time.perf_counter() - start


def wait_for_bulk_load(store: Path, process: subprocess.Popen[bytes]) -> float:
    """Seconds until the engine writes a bulk load's first file (``bulk-*.sst``), or the run ends."""
    start = time.perf_counter()
    while process.poll() is None and time.perf_counter() - start < 300:
        with contextlib.suppress(OSError):
            if any(entry.name.startswith("bulk-") for entry in os.scandir(store)):
                break
        time.sleep(0.001)
    return time.perf_counter() - start


def kill_group(pgid: int) -> None:
    with contextlib.suppress(ProcessLookupError):
        os.killpg(pgid, signal.SIGKILL)


def check_whole_or_absent(store_path: Path, versions: dict[str, list[Graph]]) -> int:
    """Open the store (read-write, as the next ingest will), check every graph; the number of trials."""
    store = TrialStore(store_path)
    try:
        graphs = stored_graphs(store)
        for trial_id, graph in graphs.items():
            assert trial_id in versions, f"a graph for {trial_id}, which no record has"
            assert graph in versions[trial_id], describe_difference(trial_id, graph, versions[trial_id])
        ontology = ox.NamedNode(ONTOLOGY_GRAPH)
        if store.has_graph(ontology):
            assert store.contains(rdf.ontology_version()), "the ontology graph is partial"
        return len(graphs)
    finally:
        del store


def violations(output: str) -> set[tuple[str, str]]:
    return {
        (m["trial"], m["message"])
        for m in re.finditer(r"^violation\s+(?P<trial>\S+):\s+(?P<message>.+)$", output, re.MULTILINE)
    }


def test_sigkill_during_ingest_leaves_whole_trials_and_a_rerun_completes(
    corpus: Path,
    tmp_path: Path,
    cli: Callable[..., subprocess.CompletedProcess[str]],
    record: Callable[..., None],
) -> None:
    rng = random.Random(int(os.environ.get("TRIALGRAPH_KILL_SEED", "8")))
    env = {**os.environ, "TRIALGRAPH_WORKERS": "2"}

    # What each trial's graph may be; preparing them all also times an ingest on this machine now,
    # so the kills land anywhere from start-up to the last trials.
    start = time.perf_counter()
    versions, final = expected_graphs(corpus)
    prepare_all = time.perf_counter() - start

    kills: list[dict[str, Any]] = []
    store_path = tmp_path / "store-0"
    loop_start = time.perf_counter()
    while len(kills) < KILLS and time.perf_counter() - loop_start < KILL_LOOP_SECONDS:
        # Pairs of runs: one on a new store (a first load cut short), then one more on the same store
        # (new trials bulk-loaded, stored ones replaced one transaction each). Every other run is
        # killed while the engine bulk-loads a batch (its bulk-*.sst files in the store), the others
        # at a random moment from start-up to the end; every other pair extracts without workers.
        run = len(kills)
        store_path = tmp_path / f"store-{run // 2}"
        workers = "2" if run % 4 < 2 else "1"
        mode = "bulk-load" if run % 2 == 1 else "random"
        before = set(store_path.iterdir()) if store_path.is_dir() else set()
        process = subprocess.Popen(
            cli_argv(store_path, "ingest", str(corpus)),
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            env={**env, "TRIALGRAPH_WORKERS": workers},
            start_new_session=True,
        )
        wait_for_open(store_path, before, process)
        opened = time.perf_counter()
        if mode == "bulk-load":
            wait_for_bulk_load(store_path, process)
            delay = rng.uniform(0.0, 0.15)  # writing the batch's files, ingesting them, or just after
        else:
            delay = rng.uniform(0.2, 1.1) * prepare_all * (1.0 if workers == "2" else 1.5)
        try:
            try:
                process.wait(delay)
                killed = False
            except subprocess.TimeoutExpired:
                process.send_signal(signal.SIGKILL)
                process.wait(10)
                killed = True
            killed_after = time.perf_counter() - opened
            deadline = time.monotonic() + 5  # the workers die with it (PR_SET_PDEATHSIG)
            while live_processes_in_group(process.pid) and time.monotonic() < deadline:
                time.sleep(0.05)
            orphans = live_processes_in_group(process.pid)
        finally:
            kill_group(process.pid)
        assert orphans == [], f"worker processes outlived the killed ingest: {orphans}"
        leftovers = len(list(store_path.glob("bulk-*.sst")))
        trials = check_whole_or_absent(store_path, versions)
        assert list(store_path.glob("bulk-*.sst")) == [], "a writer's open left a killed load's files"
        kills.append(
            {
                "mode": mode,
                "after_s": round(killed_after, 2),
                "killed": killed,
                "trials": trials,
                "workers": workers,
                "bulk_files_left": leftovers,
            }
        )

    assert sum(k["killed"] for k in kills) >= min(3, KILLS), kills

    validated = cli(store_path, "validate")
    assert validated.returncode in (0, 1), validated.stderr
    assert f"{kills[-1]['trials']} trials checked" in validated.stdout, validated.stdout[-500:]
    crashed_violations = violations(validated.stdout)

    rerun_start = time.perf_counter()
    rerun = cli(store_path, "ingest", str(corpus), env={"TRIALGRAPH_WORKERS": "2"})
    rerun_seconds = time.perf_counter() - rerun_start
    assert rerun.returncode == 0, rerun.stderr[-2000:]
    tg = TrialGraph(store_path, read_only=True)
    assert stored_graphs(tg.store) == final, "after the re-run the store differs from a clean ingest"
    # A violation found after the kills is one the complete store has too (the source record's own).
    complete = {
        (r.trial_id, r.message)
        for r in tg.validate(sorted({t for t, _ in crashed_violations}))
        if r.severity == "Violation"
    }
    assert crashed_violations <= complete, crashed_violations - complete

    record(
        kills=sum(k["killed"] for k in kills),
        runs_finished_before_kill=sum(not k["killed"] for k in kills),
        kills_during_bulk_load=sum(k["killed"] and k["mode"] == "bulk-load" for k in kills),
        kill_times_s=[k["after_s"] for k in kills],
        workers_per_run=[k["workers"] for k in kills],
        trials_present_after_each_kill=[k["trials"] for k in kills],
        kills_mid_load=sum(k["killed"] and 0 < k["trials"] < len(final) for k in kills),
        bulk_files_left_after_kills=sum(k["bulk_files_left"] for k in kills),
        partial_graphs=0,
        orphan_workers=0,
        prepare_all_s=round(prepare_all, 1),
        trials_in_corpus=len(final),
        records_in_corpus=sum(len(v) for v in versions.values()),
        rerun_s=round(rerun_seconds, 1),
        rerun_complete=True,
    )
