"""Stances on prior therapy derived at mapping time: the rule, the quads, and agreement with SPARQL.

The agreement test runs the library's former queries (``tests/data/queries/*-computed.rq``, which
compute each stance in SPARQL from the therapy constraints and the store's class hierarchy) against
the queries that read the derived stances, for every therapy concept of the vocabulary, over the real
records in ../shared/data with the hierarchy the reasoner infers.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pyoxigraph as ox
import pytest

from trialgraph import rdf
from trialgraph.api import TrialGraph
from trialgraph.eligibility.stance import constraint_ranks, trial_stances
from trialgraph.model import Criterion, Source, TherapyConstraint, Trial
from trialgraph.namespaces import PROV, TG, TGC
from trialgraph.resources import EXAMPLES_DIR, SHARED_DATA_DIR
from trialgraph.vocabulary import Vocabulary

COMPUTED = Path(__file__).resolve().parents[1] / "data" / "queries"
PD1, PDL1, CPI = TGC + "PD1Inhibitor", TGC + "PDL1Inhibitor", TGC + "ImmuneCheckpointInhibitor"


@pytest.fixture(scope="module")
def vocab() -> Vocabulary:
    return Vocabulary.default()


def therapy(sense: str = "exclude", named: str = PD1, **fields: object) -> TherapyConstraint:
    return TherapyConstraint("exclusion", 1, 0, 1, "x", therapy=named, sense=sense, **fields)  # type: ignore[arg-type]


# --- the rule, one constraint at a time ------------------------------------------------------------


def test_an_unqualified_exclusion_excludes_the_class_its_members_and_narrows_its_ancestors(
    vocab: Vocabulary,
) -> None:
    # "Prior anti-PD-1 therapy": excluded for PD-1 inhibitors and nivolumab (under it); for the broader
    # checkpoint inhibitors only some agents are ruled out (conditional); PD-L1 inhibitors untouched
    ranks = constraint_ranks(therapy(), vocab)
    assert (ranks[PD1], ranks[TGC + "nivolumab"], ranks[CPI]) == (3, 3, 4)
    assert PDL1 not in ranks and TGC + "atezolizumab" not in ranks


def test_a_washout_or_an_ongoing_therapy_makes_an_exclusion_conditional(vocab: Vocabulary) -> None:
    assert constraint_ranks(therapy(within_days=28.0), vocab)[PD1] == 4
    assert constraint_ranks(therapy(timing="current"), vocab)[PD1] == 4
    assert constraint_ranks(therapy(line=1), vocab)[PD1] == 4
    assert constraint_ranks(therapy(outcome="toxicity"), vocab)[PD1] == 4
    # cycles qualify a requirement only
    assert constraint_ranks(therapy(min_cycles=2), vocab)[PD1] == 3


def test_a_carve_out_permits_what_it_names(vocab: Vocabulary) -> None:
    # "any prior systemic therapy other than PD-1 inhibitors"
    ranks = constraint_ranks(therapy(named=TGC + "SystemicTherapy", permitted_therapies=[PD1]), vocab)
    assert ranks[PD1] == 2 and ranks[TGC + "pembrolizumab"] == 2 and ranks[CPI] == 2
    assert ranks[PDL1] == 3  # still ruled out through systemic therapy


def test_a_requirement_with_an_option_outside_the_class_does_not_require_it(vocab: Vocabulary) -> None:
    # "prior PD-1 inhibitor" requires it; "prior PD-1 inhibitor or docetaxel" only permits it
    assert constraint_ranks(therapy("require"), vocab)[PD1] == 1
    assert constraint_ranks(therapy("require"), vocab)[CPI] == 1  # a narrower class demanded
    assert TGC + "nivolumab" not in constraint_ranks(therapy("require"), vocab)
    either = constraint_ranks(therapy("require", permitted_therapies=[PD1, TGC + "docetaxel"]), vocab)
    assert either[PD1] == 2 and either[TGC + "docetaxel"] == 2


def test_a_drug_outside_the_curated_vocabulary_holds_for_itself_only(vocab: Vocabulary) -> None:
    assert constraint_ranks(therapy(named=TGC + "drugbank/DB00001"), vocab) == {TGC + "drugbank/DB00001": 3}
    assert constraint_ranks(therapy(named=""), vocab) == {}


def test_the_first_stance_that_applies_wins_and_every_criterion_is_evidence(vocab: Vocabulary) -> None:
    washout = Criterion(kind="exclusion", ordinal=1, text="Systemic therapy within 28 days")
    washout.constraints = [therapy(named=TGC + "SystemicTherapy", within_days=28.0)]
    prior = Criterion(kind="inclusion", ordinal=1, text="Progression on a PD-1 inhibitor")
    prior.constraints = [TherapyConstraint("inclusion", 1, 0, 31, prior.text, therapy=PD1, sense="require")]
    trial = Trial(id="NCT00000001", source=Source("test", "-", 0, ""), criteria=[prior, washout])
    stances = {c: s for s in trial_stances(trial, vocab) for c in s.concepts}
    assert stances[PD1].stance == "required"
    assert stances[PD1].evidence == (
        "required by inclusion 1: Progression on a PD-1 inhibitor",
        "conditional by exclusion 1: Systemic therapy within 28 days",
    )
    assert [(c.kind, n) for c, n in stances[PD1].sources] == [("inclusion", 1), ("exclusion", 1)]
    assert stances[PDL1].stance == "conditional" and len(stances[PDL1].evidence) == 1
    # one node per stance and evidence: every concept appears once
    concepts = [c for s in trial_stances(trial, vocab) for c in s.concepts]
    assert len(concepts) == len(set(concepts))


def test_stance_nodes_are_in_the_trial_graph_and_cite_their_constraints() -> None:
    tg = TrialGraph(None)
    tg.ingest([EXAMPLES_DIR / "trials"])
    g = ox.NamedNode("https://w3id.org/trialgraph/trial/NCT06592612")
    quads = list(tg.store.quads(g))
    nodes = {q.object for q in quads if q.predicate == ox.NamedNode(TG + "hasTherapyStance")}
    assert nodes
    subjects = {q.subject for q in quads}
    for node in nodes:
        derived_from = ox.NamedNode(PROV + "wasDerivedFrom")
        cited = [q.object for q in quads if q.subject == node and q.predicate == derived_from]
        assert cited and all(c in subjects and "/constraint/" in c.value for c in cited)
    # derived again from the trial read back into the model, the stances are the same quads
    stance_quads = {q for q in quads if "/stance/" in q.subject.value or q.object in nodes}
    again = set(rdf.trial_quads(rdf.trial_from_quads(quads)))
    assert stance_quads and stance_quads <= again


# --- agreement with the stance computed in SPARQL -------------------------------------------------


@pytest.fixture(scope="module")
def reasoned(tmp_path_factory: pytest.TempPathFactory) -> TrialGraph:
    if shutil.which("java") is None:
        pytest.skip("HermiT needs Java (make test installs it)")
    if not (SHARED_DATA_DIR / "ctgov_xml").is_dir():
        pytest.skip("the shared data (../shared/data) is not there")
    tg = TrialGraph(tmp_path_factory.mktemp("stance") / "store")
    tg.ingest([SHARED_DATA_DIR / "ctgov_v2", SHARED_DATA_DIR / "ctgov_xml", EXAMPLES_DIR / "trials"])
    assert tg.reason().ok
    return tg


def _answers(tg: TrialGraph, query: str | Path, therapy: str) -> dict[str, tuple[str, frozenset[str]]]:
    return {
        r["trial"]: (r["stance"], frozenset((r["evidence"] or "").split(" | ")) - {""})
        for r in tg.query(query, therapy=therapy).values()
    }


def test_derived_stances_equal_the_stances_computed_in_sparql(
    reasoned: TrialGraph, vocab: Vocabulary
) -> None:
    concepts = [c.iri for kind in ("class", "agent", "procedure") for c in vocab.concepts(kind)]
    stated = 0
    for name in ("prior-therapy-stance", "oligoprogression-prior-therapy"):
        for concept in concepts:
            derived = _answers(reasoned, name, concept)
            computed = _answers(reasoned, COMPUTED / f"{name}-computed.rq", concept)
            assert derived == computed, (name, concept)
            stated += sum(1 for stance, _ in derived.values() if stance != "not_mentioned")
    # the comparison is not vacuous: the records state stances on many of the concepts
    assert stated > 1000
