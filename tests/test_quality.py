"""Data-quality shapes over the stored graph: the seeds give warnings, broken graphs give violations."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pyoxigraph as ox
import pytest

from trialgraph import quality, rdf
from trialgraph.api import TrialGraph
from trialgraph.model import Arm, Criterion, LabConstraint, Source, Trial
from trialgraph.namespaces import TG, trial_iri


@pytest.fixture(scope="module")
def seeded(seeds_dir: Path) -> TrialGraph:
    tg = TrialGraph(None)
    tg.ingest([seeds_dir])
    return tg


def test_seeds_have_no_violations_and_the_untitled_page_warns(seeded: TrialGraph) -> None:
    findings = seeded.validate()
    assert [f for f in findings if f.severity == "Violation"] == []
    # 004 is an aggregator page stripped of its title (read by hand: no title line on the page).
    untitled = [f for f in findings if "no title" in f.message]
    assert [f.trial_id for f in untitled] == [t for t in seeded.trial_ids() if seeded.trial(t).title is None]
    assert len(untitled) == 1


def _trial() -> Trial:
    text = "Platelets >= 100"
    criterion = Criterion("inclusion", 1, text, start=0, end=len(text))
    criterion.constraints = [
        LabConstraint("inclusion", 1, 0, len(text), text, analyte="platelets", comparator=">=", value=100.0)
    ]
    return Trial(
        id="NCT00000099",
        source=Source("ctgov-json", "x.json", 0, "sha256:0"),
        nct_id="NCT00000099",
        brief_title="A title",
        phases=["PHASE7"],
        criteria=[criterion],
        arms=[Arm("Empty arm")],
    )


def _messages(quads: list[ox.Quad]) -> dict[str, str]:
    return {f.message: f.severity for f in quality.validate_trial("NCT00000099", quads)}


def test_broken_graphs_are_reported() -> None:
    found = _messages(rdf.trial_quads(_trial()))
    assert found["a phase is one of the registry's phases"] == "Violation"
    assert found["a laboratory threshold without a unit"] == "Violation"
    assert found["the arm names no intervention"] == "Warning"


def test_a_criterion_without_text_is_a_violation() -> None:
    text = ox.NamedNode(TG + "text")
    quads = [q for q in rdf.trial_quads(_trial()) if q.predicate != text]
    assert _messages(quads)["a criterion has exactly one non-empty text"] == "Violation"


def test_validate_command_exit_codes(tmp_path: Path, seeds_dir: Path) -> None:
    store = tmp_path / "store"
    tg = TrialGraph(store)
    tg.ingest([seeds_dir])
    del tg
    run = subprocess.run(
        [sys.executable, "-m", "trialgraph", "--store", str(store), "validate"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert run.returncode == 0, run.stderr
    assert "5 trials checked: 0 violations, 1 warnings" in run.stdout


def test_trial_graph_iri_is_the_focus_of_trial_findings() -> None:
    findings = quality.validate_trial("NCT00000099", rdf.trial_quads(_trial()))
    assert any(f.focus == trial_iri("NCT00000099") for f in findings)
