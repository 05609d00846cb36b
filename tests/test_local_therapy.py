"""Arms giving local therapy, found at mapping time: the rule, the quads, and agreement with SPARQL.

The agreement test runs the library's former query (``tests/data/queries/local-therapy-arms-computed.rq``,
which reads every non-drug intervention with its arm and name links) against the query that reads the
derived arms, over the real records in ../shared/data.
"""

from __future__ import annotations

from pathlib import Path

import pyoxigraph as ox
import pytest

from trialgraph import rdf
from trialgraph.api import TrialGraph
from trialgraph.local_therapy import local_therapy_arms
from trialgraph.model import Arm, Intervention, Source, Trial
from trialgraph.namespaces import TG, TGC, trial_iri
from trialgraph.resources import EXAMPLES_DIR, SHARED_DATA_DIR

COMPUTED = Path(__file__).resolve().parent / "data" / "queries" / "local-therapy-arms-computed.rq"


def trial(*arms: tuple[str, list[Intervention]]) -> Trial:
    """A trial of arms, each with the interventions it gives (linked both ways, as a record links them)."""
    interventions: list[Intervention] = []
    arm_list = []
    for label, ivs in arms:
        for iv in ivs:
            iv.arm_labels.append(label)
            interventions.append(iv)
        arm_list.append(Arm(label, intervention_names=[iv.name for iv in ivs]))
    source = Source("ctgov_json", "-", 0, "")
    return Trial(id="NCT00000000", source=source, arms=arm_list, interventions=interventions)


def found(t: Trial) -> dict[str, tuple[bool, tuple[str, ...]]]:
    return {a.arm.label: (a.typed, a.therapies) for a in local_therapy_arms(t)}


def test_a_radiation_or_procedure_intervention_is_local_therapy_whatever_its_name() -> None:
    t = trial(
        ("A", [Intervention("Standard care", type="RADIATION")]),
        ("B", [Intervention("Operation", type="PROCEDURE")]),
        ("C", [Intervention("Usual care", type="OTHER")]),
    )
    assert found(t) == {"A": (True, ()), "B": (True, ())}


def test_a_non_drug_name_or_the_arm_label_names_local_therapy() -> None:
    t = trial(
        ("Observation", [Intervention("Stereotactic body radiotherapy", type="OTHER")]),
        ("MDT", [Intervention("Standard of care", type="DEVICE")]),
    )
    got = found(t)
    # whole words of any label: "stereotactic body radiotherapy" and "radiotherapy"
    assert got["Observation"] == (False, (TGC + "Radiotherapy", TGC + "SBRT"))
    typed, therapies = got["MDT"]
    assert not typed and TGC + "MetastasisDirectedTherapy" in therapies


def test_drug_interventions_and_their_arms_are_not_searched() -> None:
    # a drug named like a local therapy, and an arm labelled SBRT that gives only a drug
    t = trial(("SBRT", [Intervention("Radiotherapy sensitiser", type="DRUG")]))
    assert found(t) == {}


def test_other_names_count_and_concepts_outside_local_therapy_do_not() -> None:
    iv = Intervention("Study procedure", type="OTHER", other_names=["Metastasectomy"])
    docetaxel = Intervention("Docetaxel", type="OTHER")
    got = found(trial(("A", [iv]), ("B", [docetaxel])))
    assert got == {"A": (False, (TGC + "Metastasectomy",))}


def test_local_therapy_arms_are_typed_and_linked_in_the_trial_graph() -> None:
    tg = TrialGraph(None)
    tg.ingest([EXAMPLES_DIR / "trials"])
    # NCT06592612 (the seed page): "SBRT Arm" gives the Radiation "SBRT and second-line systemic
    # therapy"; "Control Arm" only the Drug "Second-line systemic therapy"
    g = ox.NamedNode(trial_iri("NCT06592612"))
    quads = list(tg.store.quads(g))
    local = {q.subject for q in quads if q.object == ox.NamedNode(TG + "LocalTherapyArm")}

    def of_local(prop: str) -> set[ox.NamedNode | ox.BlankNode | ox.Literal]:
        return {q.object for q in quads if q.subject in local and q.predicate == ox.NamedNode(TG + prop)}

    assert {label.value for label in of_local("armLabel")} == {"SBRT Arm"}
    gives = of_local("givesLocalTherapy")
    assert ox.NamedNode(TGC + "SBRT") in gives
    # derived again from the trial read back into the model: the same quads
    marks = (ox.NamedNode(TG + "LocalTherapyArm"), ox.NamedNode(TG + "givesLocalTherapy"))
    derived = {q for q in quads if q.subject in local and (q.object in marks or q.predicate in marks)}
    assert len(derived) == len(local) + len(gives)
    assert derived <= set(rdf.trial_quads(rdf.trial_from_quads(quads)))


# --- agreement with the former query --------------------------------------------------------------


def _rows(tg: TrialGraph, query: str | Path) -> list[dict[str, object]]:
    """The rows in order, each list cell as a set (GROUP_CONCAT's order is the engine's)."""
    lists = ("interventions", "local_therapies")
    return [
        {k: frozenset(v.split(" | ")) if k in lists and v else v for k, v in r.items()}
        for r in tg.query(query).values()
    ]


def test_the_derived_arms_answer_as_the_former_query(tmp_path: Path) -> None:
    if not (SHARED_DATA_DIR / "ctgov_xml").is_dir():
        pytest.skip("the shared data (../shared/data) is not there")
    tg = TrialGraph(tmp_path / "store")
    tg.ingest([SHARED_DATA_DIR / "ctgov_v2", SHARED_DATA_DIR / "ctgov_xml", EXAMPLES_DIR / "trials"])
    derived = _rows(tg, "local-therapy-arms")
    computed = _rows(tg, COMPUTED)
    assert derived == computed
    # not vacuous: both kinds of arm, and metastasis-directed ones, are among the real records
    assert len(derived) > 20
    assert any(r["local_therapies"] is None for r in derived)
    assert any(r["metastasis_directed"] for r in derived)
