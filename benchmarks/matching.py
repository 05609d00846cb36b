"""Matching one patient against every trial: the bulk matcher next to pySHACL, measured in one run.

Opens an ingested store read-only and times, for the bundled example patients:

* the bulk matcher's first match in a fresh :class:`~trialgraph.api.TrialGraph`, once with no scan
  kept beside the store (**scan**: it reads every trial's eligibility index and each distinct
  constraint set once, then keeps the scan on disk) and then as a new process finds it (**first**:
  the kept scan read, as after any earlier match of the same store content), its **warm** match
  (another patient on the same object: only the evaluation), and the first match of a new process
  **after a write** (one trial's graph removed and written back, so the content is as before: the
  kept scan is brought up to date by reading that graph again), as medians over patients and runs;
* pySHACL on a sample of the same trials, one patient against one trial's shapes at a time (the
  shapes built beforehand, the first validation of the process, which parses the SHACL-SPARQL
  queries, reported apart), as the median seconds per trial. A validation is stopped at a limit and
  counts as the limit: the median stays exact while fewer than half of the sample reach it (one trial
  of 41 constraints takes pySHACL 35 s), and is a lower bound otherwise.

The ratio is pySHACL's seconds per trial over the bulk matcher's (warm match / trials). The bulk
matcher's verdicts on the sampled trials are checked against pySHACL's while it runs (those pySHACL
finished within the limit).

    .venv/bin/python benchmarks/matching.py --store STORE [--repeat 3] [--sample 12] [--limit 5]
"""

from __future__ import annotations

import argparse
import random
import signal
import statistics
import time
from pathlib import Path

from pyoxigraph import NamedNode

from trialgraph.api import TrialGraph
from trialgraph.eligibility.bulk import CACHE_FILE
from trialgraph.eligibility.evaluate import TrialResult
from trialgraph.eligibility.patient import Patient, load_patient, vocabulary_resolver
from trialgraph.eligibility.validate import timed_validation
from trialgraph.model import Trial
from trialgraph.namespaces import trial_iri
from trialgraph.resources import EXAMPLES_DIR
from trialgraph.store import TrialStore


def example_patients() -> list[Patient]:
    """The bundled example patients."""
    resolve = vocabulary_resolver()
    return [load_patient(p, resolve) for p in sorted((EXAMPLES_DIR / "patients").glob("*.yaml"))]


class _OverLimit(Exception):
    """A pySHACL validation ran past its limit."""


def capped_validation(patient: Patient, trial: Trial, limit: float) -> tuple[TrialResult | None, float]:
    """pySHACL's verdict and seconds for one trial, or no verdict and ``limit`` when it takes longer."""

    def over(_signum: int, _frame: object) -> None:
        raise _OverLimit

    # pySHACL is pure Python, so an alarm in the main thread stops it between two bytecodes; the alarm
    # may also fire just before it is disarmed, hence the outer try
    previous = signal.signal(signal.SIGALRM, over)
    try:
        try:
            signal.setitimer(signal.ITIMER_REAL, limit)
            return timed_validation(patient, trial)
        finally:
            signal.setitimer(signal.ITIMER_REAL, 0)
    except _OverLimit:
        return None, limit
    finally:
        signal.signal(signal.SIGALRM, previous)


def rewrite_trial(store_dir: Path, trial_id: str) -> None:
    """Remove one trial's graph and write it back: two writes, the content as it was, a new stamp."""
    writer = TrialStore(store_dir)
    graph = NamedNode(trial_iri(trial_id))
    quads = list(writer.quads(graph))
    writer.remove_graph(graph)
    writer.replace_graph(graph, quads)


def measure_matching(
    store_dir: Path, trials: int, repeat: int = 3, sample: int = 12, limit: float = 5.0
) -> dict[str, float]:
    """The bulk matcher's first and warm latency over the whole store and pySHACL's cost per trial."""
    patients = example_patients()
    (store_dir / CACHE_FILE).unlink(missing_ok=True)
    first, warm = [], []
    for run in range(repeat + 1):
        graph = TrialGraph(store_dir, read_only=True)
        patient = patients[run % len(patients)]
        start = time.perf_counter()
        results = graph.match(patient)
        first.append(time.perf_counter() - start)
        if len(results) != trials:
            raise RuntimeError(f"{store_dir} holds {len(results)} trials, not {trials}")
        for other in patients:
            start = time.perf_counter()
            graph.match(other)
            warm.append(time.perf_counter() - start)
    keys = len(graph._bulk.constraint_sets) if graph._bulk is not None else 0

    rng = random.Random(7)
    all_ids = graph.trial_ids()
    after_write = []
    for run in range(repeat):
        rewrite_trial(store_dir, rng.choice(all_ids))
        fresh = TrialGraph(store_dir, read_only=True)
        start = time.perf_counter()
        results = fresh.match(patients[run % len(patients)])
        after_write.append(time.perf_counter() - start)
        if len(results) != trials:
            raise RuntimeError(f"{store_dir} holds {len(results)} trials after a write, not {trials}")

    ids = rng.sample(all_ids, min(sample, trials))
    patient = patients[0]
    chosen = [graph.trial(t) for t in ids]
    warm_up = timed_validation(patient, chosen[0])[1]
    shacl = [capped_validation(patient, t, limit) for t in chosen]
    bulk_verdicts = {r.trial_id: r.verdict for r in graph.match(patient, ids)}
    for trial, (result, _) in zip(chosen, shacl, strict=True):
        if result is not None and bulk_verdicts[trial.id] != result.verdict:
            raise RuntimeError(f"{trial.id}: bulk {bulk_verdicts[trial.id]}, pySHACL {result.verdict}")

    warm_median = statistics.median(warm)
    shacl_median = statistics.median(seconds for _, seconds in shacl)
    return {
        "trials": float(trials),
        "distinct_constraint_sets": float(keys),
        "bulk_scan_s": first[0],
        "bulk_first_s": statistics.median(first[1:]),
        "bulk_warm_s": warm_median,
        "bulk_after_write_s": statistics.median(after_write),
        "bulk_per_trial_us": warm_median / trials * 1e6,
        "pyshacl_first_validation_s": warm_up,
        "pyshacl_per_trial_s": shacl_median,
        "pyshacl_sampled": float(len(shacl)),
        "pyshacl_over_limit": float(sum(result is None for result, _ in shacl)),
        "pyshacl_limit_s": limit,
        "pyshacl_over_bulk_per_trial": shacl_median / (warm_median / trials),
    }


def main() -> None:
    """Measure one store and print the figures."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--store", type=Path, required=True, help="an ingested store")
    parser.add_argument("--repeat", type=int, default=3, help="fresh TrialGraph objects after the scan")
    parser.add_argument("--sample", type=int, default=12, help="trials validated by pySHACL")
    parser.add_argument("--limit", type=float, default=5.0, help="seconds after which pySHACL is stopped")
    args = parser.parse_args()
    trials = len(TrialGraph(args.store, read_only=True).trial_ids())
    figures = measure_matching(args.store, trials, args.repeat, args.sample, args.limit)
    sets = figures["distinct_constraint_sets"]
    print(f"store {args.store}: {trials:,} trials, {sets:,.0f} distinct constraint sets")
    print(f"  bulk matcher, first match, no kept scan:       {figures['bulk_scan_s']:.3f} s")
    print(f"  bulk matcher, first match, kept scan:          {figures['bulk_first_s']:.3f} s")
    print(f"  bulk matcher, first match after a write:       {figures['bulk_after_write_s']:.3f} s")
    print(
        f"  bulk matcher, warm match (evaluation):         {figures['bulk_warm_s']:.3f} s"
        f" = {figures['bulk_per_trial_us']:.2f} us per trial"
    )
    print(f"  pySHACL, first validation in the process:      {figures['pyshacl_first_validation_s']:.1f} s")
    print(
        f"  pySHACL, per trial (median of {args.sample}, {figures['pyshacl_over_limit']:.0f} stopped at "
        f"{args.limit:g} s): {figures['pyshacl_per_trial_s']:.3f} s"
    )
    print(f"  pySHACL / bulk, per trial:                     {figures['pyshacl_over_bulk_per_trial']:,.0f}x")


if __name__ == "__main__":
    main()
