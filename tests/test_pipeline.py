"""The ingest pipeline gives the same graphs whatever the number of worker processes."""

from __future__ import annotations

from pathlib import Path

import pyoxigraph as ox

from trialgraph.api import TrialGraph
from trialgraph.namespaces import TRIAL
from trialgraph.rdf import INGEST_TIME


def _graphs(tg: TrialGraph) -> set[ox.Quad]:
    """Every quad of the trial graphs but the ingest timestamps."""
    return {
        q
        for q in tg.store.quads()
        if q.predicate != INGEST_TIME and str(q.graph_name).startswith(f"<{TRIAL}")
    }


def test_workers_do_not_change_the_graph(shared_data: Path) -> None:
    inputs = [shared_data / "ctgov_v2" / "single", shared_data / "ctgov_xml"]
    one, two = TrialGraph(None), TrialGraph(None)
    first = one.ingest(inputs, workers=1)
    second = two.ingest(inputs, workers=2)
    assert (first.records_read, first.trials_stored) == (second.records_read, second.trials_stored)
    assert first.trials_stored == 13 + 125  # 13 single-study JSON files, 125 XML files
    assert [str(e) for e in first.errors] == [str(e) for e in second.errors]
    assert first.warnings == second.warnings
    assert _graphs(one) == _graphs(two)
