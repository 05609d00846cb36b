"""The RDF mapping: every model field survives the round trip, IRIs are stable, terms are declared."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from pathlib import Path

import pyoxigraph as ox
import pytest

from trialgraph import extract, ingest, rdf
from trialgraph.model import (
    AgeConstraint,
    Arm,
    Criterion,
    DiseaseStateConstraint,
    Intervention,
    LabConstraint,
    MalignancyConstraint,
    MeshTerm,
    MetastasisSiteConstraint,
    Source,
    TherapyConstraint,
    Trial,
)
from trialgraph.namespaces import TG, TGC, TRIAL


def _shared_trials(shared_data: Path) -> Iterator[Trial]:
    for result in ingest.read_paths([shared_data / "ctgov_v2", shared_data / "ctgov_xml"]):
        assert isinstance(result, Trial), str(result)
        yield result


def _normalised(trial: Trial) -> dict[str, object]:
    """The trial as plain data, with the lists whose order RDF does not keep sorted."""
    data = dataclasses.asdict(trial)
    for key in ("phases", "keywords", "warnings", "tags", "condition_mesh", "intervention_mesh"):
        data[key] = sorted(map(str, data[key]))
    for iv in data["interventions"]:
        iv["other_names"] = sorted(iv["other_names"])
        iv["arm_labels"] = sorted(iv["arm_labels"])
    for arm in data["arms"]:
        arm["intervention_names"] = sorted(set(arm["intervention_names"]))
    return data


def test_every_shared_record_round_trips(shared_data: Path) -> None:
    count = 0
    for trial in _shared_trials(shared_data):
        back = rdf.trial_from_quads(rdf.trial_quads(trial))
        assert _normalised(back) == _normalised(trial), trial.id
        count += 1
    assert count == 71 + 13 + 125


def test_seed_pages_round_trip(seeds_dir: Path) -> None:
    for trial in ingest.read_paths([seeds_dir]):
        assert isinstance(trial, Trial)
        assert _normalised(rdf.trial_from_quads(rdf.trial_quads(trial))) == _normalised(trial)


def _trial_with_constraints() -> Trial:
    text = "No prior PD-1 inhibitor other than nivolumab within 28 days"
    criterion = Criterion("exclusion", 1, text, start=0, end=len(text))
    criterion.constraints = [
        TherapyConstraint(
            "exclusion",
            1,
            0,
            len(text),
            text,
            therapy=TGC + "PD1Inhibitor",
            within_days=28.0,
            permitted_therapies=[TGC + "nivolumab", TGC + "ADT"],
            line=2,
            outcome="progression",
        ),
        AgeConstraint("exclusion", 1, 0, 8, text[:8], min_years=18.5, max_inclusive=False),
        LabConstraint(
            "exclusion", 1, 3, 9, text[3:9], analyte="anc", comparator=">", value=1e-05, unit="10^9/L"
        ),
        DiseaseStateConstraint("exclusion", 1, 0, 2, "No", concept=TGC + "Oligoprogression", max_lesions=5),
        MetastasisSiteConstraint("exclusion", 1, 0, 2, "No", site=TGC + "BrainMetastases", stance="allowed"),
        MalignancyConstraint("exclusion", 1, 0, 2, "No", within_years=3, except_text="basal cell"),
    ]
    return Trial(
        id="NCT00000042",
        source=Source("ctgov-json", "x.json", 3, "sha256:ab"),
        nct_id="NCT00000042",
        criteria=[criterion, Criterion("exclusion", 2, "sub item", parent=1, start=10, end=18)],
        arms=[Arm("A", "EXPERIMENTAL", intervention_names=["Drug X", "Unknown drug"])],
        interventions=[Intervention("Drug X", "DRUG", arm_labels=["A", "Missing arm"])],
        tags=[TGC + "Oligoprogression"],
    )


def test_a_decimal_with_many_places_is_a_number_the_store_compares() -> None:
    # "age < 48 hours" is 2/365.25 years, whose shortest float form has 19 digits after the point: one
    # more than pyoxigraph's xsd:decimal holds, and such a literal is invalid there (no comparison,
    # MIN or MAX reads it)
    text = "age <48 hours"
    criterion = Criterion("inclusion", 1, text, start=0, end=len(text))
    criterion.constraints = [AgeConstraint("inclusion", 1, 0, len(text), text, max_years=2 / 365.25)]
    trial = Trial(id="NCT00000001", source=Source("f", "f", 0, "c"), criteria=[criterion])
    store = ox.Store()
    store.extend(rdf.trial_quads(trial))
    query = f"SELECT ?v WHERE {{ GRAPH ?g {{ ?k <{TG}maxYears> ?v FILTER(?v < 0.0055 && ?v > 0.0054) }} }}"
    (row,) = list(store.query(query))
    assert abs(float(row[0].value) - 2 / 365.25) <= 1e-18
    (back,) = rdf.trial_from_quads(rdf.trial_quads(trial)).criteria[0].constraints
    assert isinstance(back, AgeConstraint) and back.max_years is not None
    assert abs(back.max_years - 2 / 365.25) <= 1e-18  # kept to 18 places: exact to a nanosecond


def test_text_with_quotes_backslashes_and_line_breaks_round_trips() -> None:
    # the mapping writes N-Quads itself: the characters a literal must escape, and some it must not
    title = 'A "quoted" title \\ with a backslash,\r\na line break, a\ttab, \u00e9, \u2028 and \x00'
    criterion = Criterion(kind="inclusion", ordinal=1, text='Age \u2265 18 "years"\\n')
    trial = Trial(id="NCT00000001", source=Source("f", "f", 0, "c"), brief_title=title, criteria=[criterion])
    back = rdf.trial_from_quads(rdf.trial_quads(trial))
    assert back.brief_title == title
    assert back.criteria[0].text == criterion.text


@pytest.mark.parametrize(
    "change",
    [
        {"nct_id": "NCT 1"},  # its registry page is not an IRI
        {"id": "NCT 1"},
        {"condition_mesh": [MeshTerm("D00 1", "a MeSH ID with a space")]},
        {"brief_title": "lone \udc80 surrogate"},
    ],
)
def test_a_term_rdf_cannot_hold_is_a_value_error(change: dict[str, object]) -> None:
    trial = dataclasses.replace(Trial(id="NCT00000001", source=Source("f", "f", 0, "c")), **change)
    with pytest.raises(ValueError):
        rdf.trial_nquads(trial)


def test_constraints_round_trip_with_every_field() -> None:
    trial = _trial_with_constraints()
    back = rdf.trial_from_quads(rdf.trial_quads(trial))
    assert back.criteria[0].constraints[0] == dataclasses.replace(
        trial.criteria[0].constraints[0],
        permitted_therapies=sorted(trial.criteria[0].constraints[0].permitted_therapies),
    )
    assert back.criteria[0].constraints[1:] == trial.criteria[0].constraints[1:]
    assert back.criteria[1].parent == 1
    assert back.arms[0].intervention_names == ["Drug X", "Unknown drug"]
    assert back.interventions[0].arm_labels == ["A", "Missing arm"]


def test_iris_are_stable_and_live_under_the_trial() -> None:
    trial = _trial_with_constraints()
    quads = rdf.trial_quads(trial)
    assert quads == rdf.trial_quads(_trial_with_constraints())
    base = TRIAL + "NCT00000042"
    assert all(q.graph_name == ox.NamedNode(base) for q in quads)
    assert not any(isinstance(t, ox.BlankNode) for q in quads for t in (q.subject, q.object))
    subjects = {q.subject.value for q in quads}
    assert f"{base}/criterion/exclusion-1/constraint/1" in subjects
    assert f"{base}/criterion/exclusion-2" in subjects
    assert all(
        s.startswith(base) for s in subjects - {q.object.value for q in quads if "mesh" in q.object.value}
    )


def test_controlled_values_are_ontology_individuals() -> None:
    trial = Trial(
        id="NCT00000001", source=Source("f", "f", 0, "c"), overall_status="RECRUITING", phases=["PHASE2"]
    )
    objects = {q.object for q in rdf.trial_quads(trial)}
    assert ox.NamedNode(TG + "status-RECRUITING") in objects
    assert ox.NamedNode(TG + "phase-PHASE2") in objects
    assert rdf.code_of(TG + "phase-PHASE2", "phase") == "PHASE2"
    assert rdf.code_of(TG + "phase-PHASE2", "status") is None


def test_trial_links_to_its_registry_page() -> None:
    trial = Trial(id="NCT06592612", source=Source("f", "f", 0, "c"), nct_id="NCT06592612")
    pages = [q.object for q in rdf.trial_quads(trial) if q.predicate == ox.NamedNode(TG + "registryPage")]
    assert pages == [ox.NamedNode("https://clinicaltrials.gov/study/NCT06592612")]


def test_dates_are_typed_by_their_precision() -> None:
    trial = Trial(id="T", source=Source("f", "f", 0, "c"), start_date="2024-05-01", completion_date="2025-06")
    dates = {
        q.predicate.value[len(TG) :]: q.object for q in rdf.trial_quads(trial) if "Date" in q.predicate.value
    }
    assert dates["startDate"].datatype == ox.NamedNode("http://www.w3.org/2001/XMLSchema#date")
    assert dates["completionDate"].datatype == ox.NamedNode("http://www.w3.org/2001/XMLSchema#gYearMonth")


@pytest.fixture(scope="module")
def declared() -> set[str]:
    return {q.subject.value for q in rdf.ontology_quads() if isinstance(q.subject, ox.NamedNode)}


def test_every_ontology_term_the_mapping_uses_is_declared(shared_data: Path, declared: set[str]) -> None:
    used: set[str] = set()
    trials = [*_shared_trials(shared_data), _trial_with_constraints()]
    for trial in trials:
        for q in rdf.trial_quads(trial):
            used.update(t.value for t in (q.predicate, q.object) if isinstance(t, ox.NamedNode))
    assert {u for u in used if u.startswith(TG)} - declared == set()


def test_every_constraint_class_is_declared(declared: set[str]) -> None:
    assert set(rdf.constraint_classes()) <= declared


def test_names_link_to_the_concepts_they_mention(seeds_dir: Path) -> None:
    # seed 002 (NCT06592612): arm group label "SBRT Arm"; the control arm names no concept
    (trial,) = ingest.read_paths([seeds_dir / "002_e100751488679964.txt"])
    assert isinstance(trial, Trial)
    quads = rdf.trial_quads(trial)
    arm_labels = {q.subject: q.object.value for q in quads if q.predicate == ox.NamedNode(TG + "armLabel")}
    mentions: dict[str, set[str]] = {}
    for q in quads:
        if q.predicate == ox.NamedNode(TG + "nameMentions") and q.subject in arm_labels:
            mentions.setdefault(arm_labels[q.subject], set()).add(q.object.value)
    assert mentions == {"SBRT Arm": {TGC + "SBRT"}}


def test_each_constraint_quotes_its_criterion(seeds_dir: Path) -> None:
    # seed 002 (NCT06592612) exclusion 1: "Received first-line treatment other than bevacizumab ..."
    (trial,) = ingest.read_paths([seeds_dir / "002_e100751488679964.txt"])
    assert isinstance(trial, Trial)
    extract.extract_trial(trial)
    quads = rdf.trial_quads(trial)
    value = {(q.subject, q.predicate.value): q.object.value for q in quads}
    quotes = {q.subject: q.object.value for q in quads if q.predicate.value == TG + "criterionQuote"}
    constraints = {q.object: q.subject for q in quads if q.predicate.value == TG + "hasConstraint"}
    assert constraints and set(quotes) == set(constraints)
    for constraint, criterion in constraints.items():
        kind = "inclusion" if "/criterion/inclusion-" in criterion.value else "exclusion"
        number, text = value[criterion, TG + "criterionNumber"], value[criterion, TG + "text"]
        assert quotes[constraint] == f"{kind} {number}: {text}"
    wording = "exclusion 1: Received first-line treatment other than bevacizumab"
    assert any(q.startswith(wording) for q in quotes.values())


def test_name_mentions_are_whole_words_of_any_label_kind() -> None:
    from trialgraph.name_mentions import mentioned

    docetaxel = TGC + "docetaxel"
    assert mentioned("DOCETAXEL 75 mg/m2") == (docetaxel,)
    assert docetaxel in mentioned("Taxotere (docetaxel injection)")  # brand name
    assert mentioned("Taxotere") == (docetaxel,)
    assert docetaxel not in mentioned("nondocetaxel regimen")  # not a whole word
    assert TGC + "SBRT" in mentioned("stereotactic-body radiotherapy")  # words, not punctuation
    assert mentioned("") == ()
