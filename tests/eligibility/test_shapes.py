"""The generated SHACL shapes: valid SHACL, one shape per computable criterion, linked to its text;
``trialgraph shapes``; and patients written in Turtle."""

from __future__ import annotations

import dataclasses
import subprocess
import sys
from itertools import islice
from pathlib import Path

import pytest
import rdflib
from pyshacl import validate
from rdflib.namespace import RDFS, SH

from trialgraph.eligibility.patient import Patient, load_patient, vocabulary_resolver
from trialgraph.eligibility.patient_rdf import patient_graph, read_turtle
from trialgraph.eligibility.shapes import trial_shapes
from trialgraph.errors import InputError
from trialgraph.extract import extract_trial
from trialgraph.ingest import read_paths
from trialgraph.model import SexConstraint, Trial
from trialgraph.namespaces import TG
from trialgraph.rdf import criterion_iri
from trialgraph.resources import EXAMPLES_DIR, SHARED_DATA_DIR

SHAPE_OF_CRITERION = rdflib.URIRef(TG + "shapeOfCriterion")
SHAPE_OF_CONSTRAINT = rdflib.URIRef(TG + "shapeOfConstraint")
RESOLVE = vocabulary_resolver()


def _trials() -> list[Trial]:
    seeds = [r for r in read_paths([EXAMPLES_DIR / "trials"]) if isinstance(r, Trial)]
    # A sample of real CT.gov records with many criteria families, beyond the five seeds.
    shared = [r for r in islice(read_paths([SHARED_DATA_DIR / "ctgov_v2"]), 40) if isinstance(r, Trial)]
    return [extract_trial(t) for t in seeds + shared]


TRIALS = _trials()


@pytest.mark.parametrize("trial", TRIALS, ids=[t.id for t in TRIALS])
def test_generated_shapes_pass_shacl_shacl_and_cover_every_computable_criterion(trial: Trial) -> None:
    shapes = trial_shapes(trial)
    conforms, _, text = validate(rdflib.Graph(), shacl_graph=shapes, meta_shacl=True)
    assert conforms, text
    owners = dict(shapes.subject_objects(SHAPE_OF_CRITERION))
    assert len(owners) == len(set(owners.values())), "one shape per criterion"
    by_criterion = {str(c): s for s, c in owners.items()}
    for criterion in trial.criteria:
        iri = criterion_iri(trial.id, criterion.kind, criterion.ordinal)
        if not criterion.constraints:
            assert iri not in by_criterion, "a free-text criterion has no shape (NOT_COMPUTABLE)"
            continue
        shape = by_criterion[iri]
        assert (shape, SH.targetClass, rdflib.URIRef(TG + "Patient")) in shapes
        assert str(shapes.value(shape, RDFS.comment)) == criterion.text
        linked = {
            str(k)
            for part in shapes.objects(shape, SH.property)
            for k in shapes.objects(part, SHAPE_OF_CONSTRAINT)
        }
        expected = {
            f"{iri}/constraint/{n}"
            for n, c in enumerate(criterion.constraints, 1)
            if not (isinstance(c, SexConstraint) and c.sex == "ALL")
        }
        assert linked == expected  # "any sex" needs no check


def test_every_family_is_among_the_shapes_tested() -> None:
    families = {c.family for t in TRIALS for cr in t.criteria for c in cr.constraints}
    assert families >= {"age", "sex", "performance", "lab", "therapy", "disease_state", "metastasis_site"}


def test_cli_shapes_prints_turtle_and_names_an_unknown_trial(tmp_path: Path) -> None:
    store = tmp_path / "store"

    def cli(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "trialgraph", "--store", str(store), *args],
            capture_output=True,
            text=True,
            timeout=300,
        )

    assert cli("ingest", str(EXAMPLES_DIR / "trials" / "002_e100751488679964.txt")).returncode == 0
    out = cli("shapes", "NCT06592612")
    assert out.returncode == 0, out.stderr
    g = rdflib.Graph().parse(data=out.stdout, format="turtle")
    comments = {str(o) for s, o in g.subject_objects(RDFS.comment) if (s, SHAPE_OF_CRITERION, None) in g}
    assert "KPS (Karnofsky Performance Status) score ≥ 80;" in comments
    missing = cli("shapes", "NCT00000000")
    assert missing.returncode == 2 and "NCT00000000" in missing.stderr


# --- patients in Turtle ------------------------------------------------------------------------------


def _comparable(p: Patient) -> dict[str, object]:
    data = dataclasses.asdict(p)
    for course in data["therapies"]:  # RDF has no order within a course
        course["therapies"].sort()
        course["names"].sort()
    data["given"] = set(p.given) - {"age", "birth_date"}  # the graph has the age, not the birth date
    return data


@pytest.mark.parametrize("path", sorted((EXAMPLES_DIR / "patients").glob("*.yaml")), ids=lambda p: p.stem)
def test_a_patient_written_as_turtle_reads_back_the_same(path: Path, tmp_path: Path) -> None:
    patient = load_patient(path, RESOLVE)
    ttl = tmp_path / "patient.ttl"
    ttl.write_text(patient_graph(patient).serialize(format="turtle"), encoding="utf-8")
    assert _comparable(load_patient(ttl, RESOLVE)) == _comparable(patient)


PREFIXES = "@prefix tg: <https://w3id.org/trialgraph/ontology#> . @prefix ex: <http://example.org/> .\n"


@pytest.mark.parametrize(
    ("turtle", "expected"),
    [
        ("ex:p a tg:Patient ; tg:shoeSize 44 .", "shoeSize"),
        ("ex:p a tg:Patient . ex:q a tg:Patient .", "exactly one tg:Patient"),
        ("ex:p a tg:Patient ; tg:hasDiagnosis <http://example.org/unknown-cancer> .", "diagnoses"),
        ("ex:p a tg:Patient ; tg:ageYears 200 .", "age"),
        ("ex:p a tg:Patient ; tg:ageYears 60, 61 .", "expected one value"),
        ("ex:p a tg:Patient ; tg:performanceStated 'ECOG one' .", "performanceStated"),
        (
            "ex:p a tg:Patient ; tg:hasLabResult [ tg:labAnalyte 'platelets' ; tg:labValue 9 ;"
            " tg:labUnit 'kg' ] .",
            "unit",
        ),
        ("ex:p a tg:Patient ; this is not turtle", "not valid Turtle"),
    ],
)
def test_a_bad_turtle_patient_is_refused_naming_what_is_wrong(turtle: str, expected: str) -> None:
    with pytest.raises(InputError) as error:
        read_turtle(PREFIXES + turtle, "patient.ttl", RESOLVE)
    assert "patient.ttl" in str(error.value) and expected in str(error.value)
