"""The ingest pipeline: records in, each trial extracted and mapped to quads, on every core.

Reading and storing stay in the calling process (the store has one writer); criteria extraction
and the RDF mapping, most of the work, run in worker processes on batches of trials. A bounded
number of batches is in flight, so memory does not grow with the corpus, and results come back in
input order, so an ingest is deterministic whatever the number of workers.
"""

from __future__ import annotations

import datetime as dt
import multiprocessing
import os
from collections import deque
from collections.abc import Iterable, Iterator
from concurrent.futures import Future, ProcessPoolExecutor
from dataclasses import dataclass

import pyoxigraph as ox

from trialgraph import extract, rdf
from trialgraph.errors import InputError
from trialgraph.model import Trial
from trialgraph.vocabulary import Vocabulary

BATCH = 32
"""Trials per task sent to a worker."""


@dataclass(frozen=True)
class Prepared:
    """One trial ready to store: its id, warnings, and its graph as N-Quads (or the error that stopped it)."""

    trial_id: str
    warnings: tuple[str, ...]
    nquads: bytes = b""
    error: InputError | None = None

    def quads(self) -> list[ox.Quad]:
        """The trial's quads."""
        return list(ox.parse(self.nquads, format=ox.RdfFormat.N_QUADS))


def prepare(trials: list[Trial], ingested_at: dt.datetime) -> list[Prepared]:
    """Extract constraints from each trial and map it to quads; a trial that cannot be mapped is an error."""
    out = []
    for trial in trials:
        try:
            extract.extract_trial(trial)
            data = ox.serialize(rdf.trial_quads(trial, ingested_at), format=ox.RdfFormat.N_QUADS)
        except (ValueError, TypeError) as exc:  # a term the RDF library refuses: report the record
            error = InputError(
                trial.source.file, f"cannot be stored as RDF: {exc}", trial.source.record_index
            )
            out.append(Prepared(trial.id, tuple(trial.warnings), error=error))
            continue
        out.append(Prepared(trial.id, tuple(trial.warnings), data or b""))
    return out


def default_workers() -> int:
    """``$TRIALGRAPH_WORKERS``, or the number of cores this process may use."""
    configured = os.environ.get("TRIALGRAPH_WORKERS")
    if configured and configured.isdigit():
        return max(1, int(configured))
    return max(1, len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1)


def _batches(trials: Iterable[Trial]) -> Iterator[list[Trial]]:
    batch: list[Trial] = []
    for trial in trials:
        batch.append(trial)
        if len(batch) >= BATCH:
            yield batch
            batch = []
    if batch:
        yield batch


def prepared(trials: Iterable[Trial], ingested_at: dt.datetime, workers: int = 1) -> Iterator[Prepared]:
    """Each trial prepared, in input order; with ``workers`` > 1, in that many worker processes."""
    if workers <= 1:
        for batch in _batches(trials):
            yield from prepare(batch, ingested_at)
        return
    Vocabulary.default()  # loaded once here; forked workers inherit it instead of parsing it again
    context = multiprocessing.get_context("fork")
    with ProcessPoolExecutor(workers, mp_context=context) as pool:
        pending: deque[Future[list[Prepared]]] = deque()
        for batch in _batches(trials):
            pending.append(pool.submit(prepare, batch, ingested_at))
            while len(pending) > 2 * workers:
                yield from pending.popleft().result()
        while pending:
            yield from pending.popleft().result()
