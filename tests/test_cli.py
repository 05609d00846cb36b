"""The command line, run as a real process: bad input, exit codes, and the commands' output."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

GOOD_PAGE = "002_e100751488679964.txt"  # NCT06592612


def run(store: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "trialgraph", "--store", str(store), *args],
        capture_output=True,
        text=True,
        timeout=120,
    )


_STUDY = {
    "protocolSection": {
        "identificationModule": {"nctId": "NCT09999991", "briefTitle": "A good study"},
        "eligibilityModule": {"eligibilityCriteria": "Inclusion Criteria:\n\n* Adults"},
    }
}

# Each case: file name, bytes, and a phrase the error must contain (what was expected or found).
BAD_INPUTS = {
    "unknown-format": ("notes.txt", b"Shopping list: eggs, milk.\n", "unknown format"),
    "invalid-json": ("broken.json", b'{"protocolSection": {"identificationModule": }', "invalid JSON"),
    "invalid-xml": ("broken.xml", b"<clinical_study><id_info><nct_id>NCT1</id_info>", "XML"),
    "no-identifier-or-title": (
        "anonymous.json",
        json.dumps({"protocolSection": {"statusModule": {"overallStatus": "RECRUITING"}}}).encode(),
        "nctId",
    ),
    "not-utf8": ("latin1.json", json.dumps(_STUDY).replace("Adults", "Ni\xf1os").encode("latin-1"), "UTF-8"),
    "empty": ("empty.json", b"", "empty"),
    "truncated": ("truncated.json", json.dumps(_STUDY)[:-25].encode(), "JSON"),
}


@pytest.mark.parametrize("case", sorted(BAD_INPUTS))
def test_bad_input_is_reported_and_the_rest_is_stored(tmp_path: Path, seeds_dir: Path, case: str) -> None:
    name, data, phrase = BAD_INPUTS[case]
    inputs = tmp_path / "inputs"
    inputs.mkdir()
    shutil.copy(seeds_dir / GOOD_PAGE, inputs / GOOD_PAGE)
    (inputs / name).write_bytes(data)
    result = run(tmp_path / "store", "ingest", str(inputs))
    assert result.returncode == 1, result.stderr
    errors = [line for line in result.stderr.splitlines() if line.startswith("error:")]
    assert len(errors) == 1, result.stderr
    assert name in errors[0] and phrase.lower() in errors[0].lower(), errors[0]
    assert "Traceback" not in result.stderr
    assert "trials stored: 1" in result.stdout
    shown = run(tmp_path / "store", "show", "NCT06592612")
    assert shown.returncode == 0 and "NCT06592612" in shown.stdout


def test_debug_shows_the_traceback_of_a_fatal_error(tmp_path: Path) -> None:
    result = run(tmp_path / "missing-store", "--debug", "show", "NCT06592612")
    assert result.returncode == 2
    assert "Traceback" in result.stderr and "no store at" in result.stderr


def test_ingest_show_stats_export(tmp_path: Path, seeds_dir: Path) -> None:
    store = tmp_path / "store"
    ingested = run(store, "ingest", str(seeds_dir))
    assert ingested.returncode == 0, ingested.stderr
    assert "records read: 5" in ingested.stdout and "errors: 0" in ingested.stdout
    assert "no NCT ID" in ingested.stderr  # pages 001 and 004 warn

    shown = run(store, "show", "NCT07268794")
    assert shown.returncode == 0
    # From page 000: the title, its phase and the first inclusion criterion.
    assert "Radical Prostatectomy After Systemic Therapy" in shown.stdout
    assert "PHASE2" in shown.stdout
    assert "inclusion criteria (7)" in shown.stdout and "exclusion criteria (13)" in shown.stdout
    assert "1. Male patients aged >18" in shown.stdout

    stats = run(store, "stats")
    assert stats.returncode == 0 and "trials:        5" in stats.stdout

    out = tmp_path / "one.nq"
    exported = run(store, "export", "--format", "nquads", "--trial", "NCT06592612", "-o", str(out))
    assert exported.returncode == 0, exported.stderr
    assert out.read_text().count("<https://w3id.org/trialgraph/trial/NCT06592612> .") > 10


def test_unknown_trial_exits_2(tmp_path: Path, seeds_dir: Path) -> None:
    run(tmp_path / "store", "ingest", str(seeds_dir / GOOD_PAGE))
    result = run(tmp_path / "store", "show", "NCT00000000")
    assert result.returncode == 2 and "no trial NCT00000000" in result.stderr


def test_help_documents_exit_codes() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "trialgraph", "ingest", "--help"], capture_output=True, text=True
    )
    assert "Exit codes" in result.stdout and "store locked" in result.stdout
