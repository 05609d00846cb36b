"""Disease states, metastatic sites, histology and trial tags; cases in tests/data/extraction/disease.yaml."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import pytest
import yaml

from trialgraph.extract import disease
from trialgraph.ingest import read_file
from trialgraph.model import (
    Constraint,
    Criterion,
    CriterionKind,
    DiseaseStateConstraint,
    HistologyConstraint,
    MetastasisSiteConstraint,
)
from trialgraph.namespaces import TGC
from trialgraph.resources import EXAMPLES_DIR

DATA = Path(__file__).resolve().parents[1] / "data" / "extraction" / "disease.yaml"
SEEDS = EXAMPLES_DIR / "trials"
COUNTS = ("min_lesions", "max_lesions", "min_organs", "max_organs")


def _iri(curie: str) -> str:
    return TGC + curie.removeprefix("tgc:")


def _expected_key(e: dict[str, Any]) -> tuple[Any, ...]:
    family = e["family"]
    if family == "disease_state":
        return (family, _iri(e["concept"]), e.get("sense", "require"), *(e.get(k) for k in COUNTS))
    if family == "metastasis_site":
        return (family, _iri(e["site"]), e["stance"])
    return (family, _iri(e["histology"]), e.get("sense", "require"))


def _actual_key(c: Constraint) -> tuple[Any, ...]:
    if isinstance(c, DiseaseStateConstraint):
        return (c.family, c.concept, c.sense, *(getattr(c, k) for k in COUNTS))
    if isinstance(c, MetastasisSiteConstraint):
        return (c.family, c.site, c.stance)
    assert isinstance(c, HistologyConstraint)
    return (c.family, c.histology, c.sense)


def _load() -> tuple[list[Any], list[Any]]:
    criteria, tags = [], []
    for case in yaml.safe_load(DATA.read_text(encoding="utf-8")):
        marks = [pytest.mark.xfail(reason=case["xfail"], strict=True)] if case.get("xfail") else []
        param = pytest.param(case, id=case["id"], marks=marks)
        (tags if "trial_tags" in case else criteria).append(param)
    return criteria, tags


CRITERIA, TAGS = _load()


def found(text: str, kind: CriterionKind = "inclusion") -> list[tuple[Any, ...]]:
    """The keys of the constraints of one criterion text, checking spans and provenance."""
    criterion = Criterion(kind=kind, ordinal=7, text=text)
    out = disease.extract(criterion)
    for c in out:
        assert text[c.start : c.end] == c.text, c
        assert (c.criterion_kind, c.criterion_ordinal) == (kind, 7)
    return [_actual_key(c) for c in out]


@pytest.mark.parametrize("case", CRITERIA)
def test_annotated_criterion(case: dict[str, Any]) -> None:
    criterion = Criterion(kind=case["kind"], ordinal=case["number"], text=case["text"])
    extracted = disease.extract(criterion)
    for c in extracted:
        assert criterion.text[c.start : c.end] == c.text, c
        assert (c.criterion_kind, c.criterion_ordinal) == (criterion.kind, criterion.ordinal)
        if isinstance(c, MetastasisSiteConstraint):
            assert c.stance in disease.STANCES
    assert sorted(map(_actual_key, extracted)) == sorted(map(_expected_key, case["expected"]))


@pytest.mark.parametrize("case", TAGS)
def test_seed_trial_tags(case: dict[str, Any]) -> None:
    trial = next(iter(read_file(SEEDS / case["source"])))
    tags = disease.trial_tags(trial)
    assert tags == sorted(set(tags))
    assert tags == sorted(_iri(t) for t in case["trial_tags"])


def test_annotations_are_substantial() -> None:
    cases = [p.values[0] for p in CRITERIA]
    assert len({c["nct_id"] for c in cases if "nct_id" in c}) >= 15
    assert {c["source"] for c in cases if "source" in c} == {p.name for p in SEEDS.glob("*.txt")}
    families = {e["family"] for c in cases for e in c["expected"]}
    assert families == {"disease_state", "metastasis_site", "histology"}
    assert sum(not c["expected"] for c in cases) >= 50, "criteria without constraints guard false positives"
    concepts = {e.get("concept") for c in cases for e in c["expected"]}
    assert {"tgc:Oligoprogression", "tgc:OligometastaticDisease", "tgc:Polyprogression"} <= concepts
    assert len(TAGS) == 5


# --- forms -----------------------------------------------------------------------------------------

OLIGO = TGC + "Oligoprogression"
OM = TGC + "OligometastaticDisease"


@pytest.mark.parametrize(
    ("text", "counts"),
    [
        ("Oligoprogression: ≤5 progressing lesions in ≤3 organs", (None, 5, None, 3)),
        ("Oligoprogressive disease with 1-3 progressive lesions", (1, 3, None, None)),
        ("Oligoprogression, defined as up to five progressing lesions", (None, 5, None, None)),
        ("oligoprogressive disease (no more than 3 lesions)", (None, 3, None, None)),
    ],
)
def test_oligoprogression_counts(text: str, counts: tuple[int | None, ...]) -> None:
    assert found(text) == [("disease_state", OLIGO, "require", *counts)]


@pytest.mark.parametrize(
    ("text", "counts"),
    [
        ("Oligometastatic disease with 1-3 metastases", (1, 3, None, None)),
        ("Oligometastatic disease, defined as 1 to 5 metastatic lesions", (1, 5, None, None)),
        ("Oligometastatic prostate cancer (≤ 5 lesions)", (None, 5, None, None)),
    ],
)
def test_oligometastatic_counts(text: str, counts: tuple[int | None, ...]) -> None:
    assert found(text)[0] == ("disease_state", OM, "require", *counts)


def test_exclusion_mentioning_oligoprogression_excludes_it() -> None:
    assert found("Oligoprogressive disease", "exclusion") == [
        ("disease_state", OLIGO, "exclude", None, None, None, None)
    ]


@pytest.mark.parametrize(
    ("text", "kind", "stance"),
    [
        ("Known brain metastases", "exclusion", "excluded"),
        ("Untreated or symptomatic brain metastases", "exclusion", "excluded_unless_treated_or_stable"),
        (
            "Brain metastases, unless treated and stable for 4 weeks",
            "exclusion",
            "excluded_unless_treated_or_stable",
        ),
        ("Active brain metastases", "exclusion", "excluded_unless_treated_or_stable"),
        ("No evidence of brain metastases", "inclusion", "excluded"),
        ("Patients without brain metastases", "inclusion", "excluded"),
        (
            "Patients with treated, stable brain metastases are eligible",
            "inclusion",
            "excluded_unless_treated_or_stable",
        ),
        ("Patients with or without brain metastases", "inclusion", "allowed"),
        ("At least one brain metastasis", "inclusion", "required"),
    ],
)
def test_brain_metastasis_stance(text: str, kind: CriterionKind, stance: str) -> None:
    assert found(text, kind) == [("metastasis_site", TGC + "BrainMetastases", stance)]


def test_coordinated_sites() -> None:
    assert found("Brain and liver metastases", "exclusion") == [
        ("metastasis_site", TGC + "BrainMetastases", "excluded"),
        ("metastasis_site", TGC + "LiverMetastases", "excluded"),
    ]


def test_abbreviation_in_parentheses_joins_the_name() -> None:
    assert found("Central nervous system (CNS) metastases", "exclusion") == [
        ("metastasis_site", TGC + "CNSMetastases", "excluded")
    ]


def test_liver_metastases_as_a_lab_condition_is_no_site() -> None:
    assert found("AST and ALT ≤ 2.5 × ULN, or ≤ 5 × ULN in the presence of liver metastases") == []


def test_histology_negated_across_a_list() -> None:
    assert found("Adenocarcinoma with no small cell or neuroendocrine component") == [
        ("histology", TGC + "Adenocarcinoma", "require"),
        ("histology", TGC + "NeuroendocrineNeoplasm", "exclude"),
    ]


def test_castration_states() -> None:
    assert found("Castration-resistant disease") == [
        ("disease_state", TGC + "CastrationResistance", "require", None, None, None, None)
    ]
    assert found("Hormone-sensitive prostate cancer", "exclusion") == [
        ("disease_state", TGC + "HormoneSensitiveProstateCancer", "exclude", None, None, None, None)
    ]


def test_alternatives_are_not_requirements() -> None:
    assert found("Locally advanced or metastatic disease") == []


def test_other_than_carves_out_the_disease() -> None:
    assert found("Active malignancy other than prostate cancer", "exclusion") == []


def test_trial_tags_read_inclusions_only() -> None:
    trial = next(iter(read_file(SEEDS / "002_e100751488679964.txt")))
    trial.conditions = []
    trial.brief_title = trial.official_title = None
    trial.criteria = [
        Criterion(kind="exclusion", ordinal=1, text="Oligoprogressive disease"),
        Criterion(kind="inclusion", ordinal=1, text="Hepatocellular carcinoma"),
    ]
    assert disease.trial_tags(trial) == [TGC + "HepatocellularCarcinoma"]


def test_trial_tags_of_a_condition_name_both_concepts() -> None:
    trial = next(iter(read_file(SEEDS / "002_e100751488679964.txt")))
    trial.conditions = [type(trial.conditions[0])("Oligoprogressive prostate cancer")]
    trial.brief_title = trial.official_title = None
    trial.criteria = []
    assert disease.trial_tags(trial) == [TGC + "Oligoprogression", TGC + "ProstateCancer"]


# --- speed -----------------------------------------------------------------------------------------

PATHOLOGICAL = [
    "1-" * 50_000,
    "oligoprogression " + "1 " * 49_000,
    "oligometastatic " * 6_000,
    "brain metastases " * 6_000,
    "no " * 33_000 + "brain metastases",
    "(" * 100_000,
    "(ab) " * 20_000,
    "treatment for " * 7_000,
    "metastatic " + "a " * 50_000 + "lesions",
    "Patients with " + "x " * 50_000 + "must",
    "≤ " * 50_000,
    "a" * 100_000,
]


@pytest.mark.parametrize("text", PATHOLOGICAL, ids=range(len(PATHOLOGICAL)))
def test_pathological_inputs_are_fast(text: str) -> None:
    for kind in ("inclusion", "exclusion"):
        start = time.perf_counter()
        disease.extract(Criterion(kind=kind, ordinal=1, text=text))  # type: ignore[arg-type]
        assert time.perf_counter() - start < 5.0
