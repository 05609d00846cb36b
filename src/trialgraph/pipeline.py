"""The ingest pipeline: records in, each trial extracted and mapped to quads, on every core.

Reading and storing stay in the calling process (the store has one writer); splitting criteria,
extracting constraints and the RDF mapping, most of the work, run in worker processes on batches of
trials. A bounded number of batches is in flight, so memory does not grow with the corpus, and
results come back in input order, so an ingest is deterministic whatever the number of workers.
"""

from __future__ import annotations

import ctypes
import datetime as dt
import multiprocessing
import os
import signal
import sys
from collections import deque
from collections.abc import Iterable, Iterator
from concurrent.futures import Future, ProcessPoolExecutor, ThreadPoolExecutor
from dataclasses import dataclass

import pyoxigraph as ox

from trialgraph import extract, ingest, rdf
from trialgraph.errors import InputError
from trialgraph.model import Trial
from trialgraph.namespaces import trial_iri
from trialgraph.store import TrialStore
from trialgraph.vocabulary import Vocabulary

BATCH = 32
"""Trials per task sent to a worker."""
WRITE_TRIALS = 500
WRITE_BYTES = 48_000_000
"""A batch of prepared trials is written to the store at this many trials or N-Quads bytes."""
_PR_SET_PDEATHSIG = 1


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
    """Finish each trial as read, extract its constraints, map it to N-Quads; unmappable: an error."""
    out = []
    for trial in trials:
        try:
            ingest.finish(trial)
            extract.extract_trial(trial)
            data = rdf.trial_nquads(trial, ingested_at)
        except (ValueError, TypeError) as exc:  # a term the RDF library refuses: report the record
            error = InputError(
                trial.source.file, f"cannot be stored as RDF: {exc}", trial.source.record_index
            )
            out.append(Prepared(trial.id, tuple(trial.warnings), error=error))
            continue
        out.append(Prepared(trial.id, tuple(trial.warnings), data))
    return out


def default_workers() -> int:
    """``$TRIALGRAPH_WORKERS``, or the number of cores this process may use."""
    configured = os.environ.get("TRIALGRAPH_WORKERS")
    if configured and configured.isdigit():
        return max(1, int(configured))
    return max(1, len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1)


def _exit_with_parent(parent: int) -> None:
    """Worker start-up: die with the ingest process, so a killed ingest leaves no orphan workers.

    Without it, a SIGKILLed ingest left its workers blocked on the task queue forever.
    """
    if sys.platform.startswith("linux"):
        try:
            libc = ctypes.CDLL(None, use_errno=True)
            libc.prctl(_PR_SET_PDEATHSIG, signal.SIGKILL)
        except (OSError, AttributeError):
            pass
    if os.getppid() != parent:  # the ingest died before the line above took effect
        os._exit(1)


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
    with ProcessPoolExecutor(
        workers, mp_context=context, initializer=_exit_with_parent, initargs=(os.getpid(),)
    ) as pool:
        pending: deque[Future[list[Prepared]]] = deque()
        for batch in _batches(trials):
            pending.append(pool.submit(prepare, batch, ingested_at))
            while len(pending) > 4 * workers:  # enough queued that workers never wait on a store write
                yield from pending.popleft().result()
        while pending:
            yield from pending.popleft().result()


def store_prepared(
    store: TrialStore, items: Iterable[Prepared], volatile: frozenset[ox.NamedNode] = frozenset()
) -> Iterator[tuple[Prepared, bool]]:
    """Store each prepared trial in its graph, a batch at a time; each with whether its graph changed.

    A trial with an error passes through at once (``False``); the others come back, in input order,
    once their batch (:data:`WRITE_TRIALS` trials or :data:`WRITE_BYTES`) is written by
    :meth:`TrialStore.replace_graphs`: new graphs in one atomic bulk write, each trial whole or not at all.
    Batches are written one at a time by a writer thread (the engine releases the GIL), so reading
    and handing trials to the workers go on while a batch is written.
    """
    pending: deque[tuple[list[Prepared], Future[list[bool]]]] = deque()
    with ThreadPoolExecutor(1, thread_name_prefix="trialgraph-store") as writer:

        def submit(batch: list[Prepared]) -> Iterator[tuple[Prepared, bool]]:
            graphs = [(ox.NamedNode(trial_iri(p.trial_id)), p.nquads) for p in batch]
            pending.append((batch, writer.submit(store.replace_graphs, graphs, volatile)))
            while len(pending) > 1:  # one batch written while the next one fills
                done, changed = pending.popleft()
                yield from zip(done, changed.result(), strict=True)

        batch: list[Prepared] = []
        size = 0
        for item in items:
            if item.error is not None:
                yield item, False
                continue
            batch.append(item)
            size += len(item.nquads)
            if len(batch) >= WRITE_TRIALS or size >= WRITE_BYTES:
                yield from submit(batch)
                batch, size = [], 0
        if batch:
            yield from submit(batch)
        while pending:
            done, changed = pending.popleft()
            yield from zip(done, changed.result(), strict=True)
