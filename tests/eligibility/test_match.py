"""Matching the bundled patients against the bundled trials: the acceptance cases of the eligibility
issue, read from the trial records, with both engines (bulk matcher and pySHACL), through the API and
the command line."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import pytest

from trialgraph.api import TrialGraph
from trialgraph.eligibility.evaluate import TrialResult
from trialgraph.resources import EXAMPLES_DIR

PATIENTS = EXAMPLES_DIR / "patients"
MEDCARE = "TG-DC99C5F5B9F2"  # 001_...: the registry page has no NCT ID; the identifier is minted
ENGINES = ["bulk", "shacl"]


@pytest.fixture(scope="module")
def graph() -> TrialGraph:
    tg = TrialGraph(None)
    assert tg.ingest([EXAMPLES_DIR / "trials"]).ok
    return tg


def _by_trial(results: list[TrialResult]) -> dict[str, TrialResult]:
    return {r.trial_id: r for r in results}


def _not_met(result: TrialResult) -> list[str]:
    return [f"{c.text} => {c.reason}" for c in result.criteria if c.status == "NOT_MET"]


@pytest.mark.parametrize("engine", ENGINES)
def test_mcrpc_oligoprogressive(graph: TrialGraph, engine: str) -> None:
    results = _by_trial(graph.match(PATIENTS / "mcrpc_oligoprogressive.yaml", engine=engine))  # type: ignore[arg-type]
    # MEDCARE enrols castration-refractory oligoprogression: never ineligible for this man.
    assert results[MEDCARE].verdict in ("ELIGIBLE", "UNDETERMINED")
    # NCT06866938 is a re-treatment study: prior [177Lu]Lu-PSMA is required and he never had it.
    lu = results["NCT06866938"]
    assert lu.verdict == "INELIGIBLE"
    assert any("177Lu" in line for line in _not_met(lu)), _not_met(lu)
    # NCT07268794 is for hormone-sensitive disease; castration-resistant disease is excluded.
    convert = results["NCT07268794"]
    assert convert.verdict == "INELIGIBLE"
    assert any("castration" in line.lower() for line in _not_met(convert)), _not_met(convert)
    # NCT06592612 is for hepatocellular carcinoma.
    hcc = results["NCT06592612"]
    assert hcc.verdict == "INELIGIBLE"
    assert any("hepatocellular carcinoma" in line for line in _not_met(hcc)), _not_met(hcc)


@pytest.mark.parametrize("engine", ENGINES)
def test_hcc_oligoprogression_is_not_ineligible_but_low_platelets_are(graph: TrialGraph, engine: str) -> None:
    (good,) = graph.match(PATIENTS / "hcc_oligoprogression.yaml", ["NCT06592612"], engine)  # type: ignore[arg-type]
    assert good.verdict != "INELIGIBLE", _not_met(good)
    (low,) = graph.match(PATIENTS / "hcc_low_platelets.yaml", ["NCT06592612"], engine)  # type: ignore[arg-type]
    assert low.verdict == "INELIGIBLE"
    # Inclusion 7 asks for platelets >= 50.0 x 10^9/L; the patient has 40.
    (failed,) = [c for c in low.criteria if c.status == "NOT_MET"]
    assert "platelets ≥ 50.0" in failed.text
    assert "platelets 40" in failed.reason


def test_results_come_eligible_first_then_undetermined_then_ineligible(graph: TrialGraph) -> None:
    order = {"ELIGIBLE": 0, "UNDETERMINED": 1, "INELIGIBLE": 2}
    verdicts = [order[r.verdict] for r in graph.match(PATIENTS / "mcrpc_oligoprogressive.yaml")]
    assert verdicts == sorted(verdicts) and len(verdicts) == 5


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("match") / "store"
    TrialGraph(path).ingest([EXAMPLES_DIR / "trials"])
    return path


def _cli(store: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "trialgraph", "--store", str(store), *args],
        capture_output=True,
        text=True,
        timeout=600,
    )


@pytest.mark.parametrize("engine", ENGINES)
def test_cli_match_json_is_the_documented_object(store: Path, engine: str) -> None:
    out = _cli(
        store, "match", str(PATIENTS / "hcc_low_platelets.yaml"), "--format", "json", "--engine", engine
    )
    assert out.returncode == 0, out.stderr
    doc = json.loads(out.stdout)
    assert doc["patient"] == "hcc-low-platelets"
    assert len(doc["trials"]) == 5
    for trial in doc["trials"]:
        assert {"trial", "nct_id", "title", "verdict", "criteria"} <= set(trial)
        for c in trial["criteria"]:
            assert {"criterion", "kind", "text", "status", "reason"} <= set(c)
            assert c["status"] in ("MET", "NOT_MET", "UNKNOWN", "NOT_COMPUTABLE")
    (hcc,) = [t for t in doc["trials"] if t["nct_id"] == "NCT06592612"]
    assert hcc["verdict"] == "INELIGIBLE"
    assert hcc["trial"].endswith("/trial/NCT06592612")
    assert [c["kind"] for c in hcc["criteria"] if c["status"] == "NOT_MET"] == ["inclusion"]


def test_cli_match_table_names_the_failed_criterion_in_words(store: Path) -> None:
    out = _cli(store, "match", str(PATIENTS / "hcc_low_platelets.yaml"), "--trial", "NCT06592612")
    assert out.returncode == 0, out.stderr
    assert out.stdout.startswith("INELIGIBLE")
    assert "not met: platelets 40 10^9/L is not >= 50 10^9/L (inclusion 7)" in out.stdout


def test_cli_match_limit_shows_the_top_of_the_ranking_and_counts_every_trial(store: Path) -> None:
    patient = str(PATIENTS / "mcrpc_oligoprogressive.yaml")
    table = _cli(store, "match", patient, "--limit", "1")
    assert table.returncode == 0, table.stderr
    verdict_lines = [line for line in table.stdout.splitlines() if not line.startswith(" ")]
    # One trial shown, then the counts of all five: NCT06866938, NCT07268794 and NCT06592612 are
    # ineligible for this man (test_mcrpc_oligoprogressive), so the one shown is not.
    assert len(verdict_lines) == 2
    assert not verdict_lines[0].startswith("INELIGIBLE")
    assert verdict_lines[1].startswith("5 trials: ") and verdict_lines[1].endswith("(the first 1 shown)")
    doc = json.loads(_cli(store, "match", patient, "--format", "json", "--limit", "2").stdout)
    assert len(doc["trials"]) == 2
    assert sum(doc["verdicts"].values()) == 5 and doc["verdicts"]["INELIGIBLE"] >= 3


def test_the_documented_turtle_patient_is_ineligible_on_platelets(graph: TrialGraph, tmp_path: Path) -> None:
    doc = (EXAMPLES_DIR.parent / "docs" / "patient-format.md").read_text(encoding="utf-8")
    (example,) = re.findall(r"```turtle\n(.*?)```", doc, re.DOTALL)
    path = tmp_path / "hcc-short.ttl"
    path.write_text(example, encoding="utf-8")
    (result,) = graph.match(path, ["NCT06592612"])
    assert result.verdict == "INELIGIBLE"
    # Inclusion 7 of NCT06592612 asks for platelets >= 50 x 10^9/L; the example has 40.
    assert [c.number for c in result.criteria if c.status == "NOT_MET"] == ["7"]


def test_cli_match_reads_a_turtle_patient(store: Path, tmp_path: Path) -> None:
    from trialgraph.eligibility.patient import load_patient, vocabulary_resolver
    from trialgraph.eligibility.patient_rdf import patient_graph

    patient = load_patient(PATIENTS / "hcc_low_platelets.yaml", vocabulary_resolver())
    ttl = tmp_path / "patient.ttl"
    ttl.write_text(patient_graph(patient).serialize(format="turtle"), encoding="utf-8")
    out = _cli(store, "match", str(ttl), "--trial", "NCT06592612")
    assert out.returncode == 0, out.stderr
    assert "not met: platelets 40 10^9/L is not >= 50 10^9/L (inclusion 7)" in out.stdout


def test_cli_match_with_a_bad_patient_names_the_field(store: Path, tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text("age: 66\nperformance: {ecog: 7}\n", encoding="utf-8")
    out = _cli(store, "match", str(bad))
    assert out.returncode == 2
    assert "performance.ecog" in out.stderr and "7" in out.stderr
