"""Shared by the reliability tests: loop sizes, the command line, what each trial's graph may be."""

from __future__ import annotations

import datetime as dt
import os
import sys
from collections.abc import Iterable, Iterator
from pathlib import Path

import pyoxigraph as ox

from trialgraph import ingest, pipeline, rdf
from trialgraph.model import Trial
from trialgraph.namespaces import TRIAL
from trialgraph.store import TrialStore

LONG = os.environ.get("TRIALGRAPH_LONG", "") not in ("", "0")
"""``TRIALGRAPH_LONG=1`` (``make reliability``): the long fuzz and kill loops."""


def scaled(short: int, long: int) -> int:
    """An iteration count: ``short`` in ``make test``, ``long`` under ``TRIALGRAPH_LONG=1``."""
    return long if LONG else short


Graph = frozenset[ox.Triple]
"""A trial's graph without its ingest timestamp."""


def cli_argv(store: Path, *args: str) -> list[str]:
    """The argv of ``trialgraph --store STORE ARGS`` in this interpreter."""
    return [sys.executable, "-m", "trialgraph", "--store", str(store), *args]


def expected_graphs(corpus: Path) -> tuple[dict[str, list[Graph]], dict[str, Graph]]:
    """Per trial ID, the graph of every record with that ID (in ingest order), and the last one."""

    def trials() -> Iterator[Trial]:
        for result in ingest.read_paths([corpus]):
            if isinstance(result, Trial):
                yield result

    versions: dict[str, list[Graph]] = {}
    for item in pipeline.prepared(trials(), dt.datetime.now(dt.UTC), workers=2):
        assert item.error is None, item.error
        versions.setdefault(item.trial_id, []).append(without_timestamp(item.quads()))
    return versions, {k: v[-1] for k, v in versions.items()}


def without_timestamp(quads: Iterable[ox.Quad]) -> Graph:
    """The triples of ``quads`` but the ingest time, which differs from one ingest to the next."""
    return frozenset(q.triple for q in quads if q.predicate != rdf.INGEST_TIME)


def stored_graphs(store: TrialStore) -> dict[str, Graph]:
    """Every trial graph in the store, by trial ID."""
    return {
        g.value[len(TRIAL) :]: without_timestamp(store.quads(g))
        for g in store.graphs()
        if g.value.startswith(TRIAL)
    }


def describe_difference(trial_id: str, graph: Graph, versions: list[Graph]) -> str:
    """Why ``graph`` is none of ``versions``: what it lacks and holds beyond the nearest one."""
    nearest = min(versions, key=lambda v: len(v ^ graph))
    missing, extra = sorted(map(str, nearest - graph)), sorted(map(str, graph - nearest))
    return (
        f"the graph of {trial_id} is partial or mixed: {len(graph)} triples, the nearest of "
        f"{len(versions)} versions has {len(nearest)}; missing {len(missing)} {missing[:3]}, "
        f"extra {len(extra)} {extra[:3]}"
    )
