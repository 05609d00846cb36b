"""The query library on the bundled examples: rows read by hand, rdflib agrees, parameters stay terms.

Every expectation below was read from the registry pages in ``examples/trials`` (the comment names the
criterion). Trials without an NCT ID are named by their minted IDs: TG-B4BDE200CBC8 is the
nasopharyngeal carcinoma trial, TG-DC99C5F5B9F2 is MEDCARE.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from pathlib import Path
from typing import Any

import pyoxigraph as ox
import pytest
import rdflib

from trialgraph import pipeline, queries
from trialgraph.api import TrialGraph
from trialgraph.errors import TrialgraphError
from trialgraph.model import Age, Source, Trial
from trialgraph.namespaces import TG, TGC, TRIAL
from trialgraph.queries import ParameterError
from trialgraph.results import QueryResult, rdflib_term
from trialgraph.vocabulary import drugbank_iri

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning:rdflib")

LIBRARY = [q.name for q in queries.library()]
HCC, LU_PSMA, CONVERT = "NCT06592612", "NCT06866938", "NCT07268794"
NPC, MEDCARE = "TG-B4BDE200CBC8", "TG-DC99C5F5B9F2"


@pytest.fixture(scope="module")
def graph() -> TrialGraph:
    """The five bundled trials in an in-memory store, built once for the module."""
    tg = TrialGraph(None)
    report = tg.ingest(["examples/trials"])
    assert report.ok and report.trials_stored == 5
    return tg


def rows(graph: TrialGraph, name: str, **params: object) -> list[dict[str, Any]]:
    """Typed rows, with trial IRIs shortened to trial IDs and concept IRIs to ``tgc:`` names."""
    out = []
    for row in graph.query(name, **params).values():
        out.append({k: _short(v) for k, v in row.items()})
    return out


def _short(value: Any) -> Any:
    if isinstance(value, str) and value.startswith(TRIAL):
        return value[len(TRIAL) :]
    if isinstance(value, str) and value.startswith(TGC):
        return "tgc:" + value[len(TGC) :]
    return value


def by_trial(graph: TrialGraph, name: str, column: str, **params: object) -> dict[str, Any]:
    return {r["trial"]: r[column] for r in rows(graph, name, **params)}


# --- expected rows, read by hand --------------------------------------------------------------------


def test_oligoprogression_prior_therapy_flagship(graph: TrialGraph) -> None:
    # NCT06592612 inclusion 3 / exclusion 1: first-line "... or lenvatinib with or without PD-1 antibody"
    # names PD-1 as acceptable; MEDCARE (oligoprogressive mCRPC) says nothing about PD-1. NCT07268794 is
    # oligometastatic only in exclusion 3, the NPC trial is not an oligoprogression trial.
    assert by_trial(graph, "oligoprogression-prior-therapy", "stance") == {
        HCC: "permitted",
        MEDCARE: "not_mentioned",
    }
    (hcc,) = [r for r in rows(graph, "oligoprogression-prior-therapy") if r["trial"] == HCC]
    assert "permitted by inclusion 3" in hcc["evidence"] and "permitted by exclusion 1" in hcc["evidence"]
    # the quote carries the criterion's text, exclusion 1 as the record words it
    quote = "by exclusion 1: Received first-line treatment other than bevacizumab combined with"
    assert quote in hcc["evidence"]
    # exclusion 7: "any other antitumor drug therapy ... within 3 months" is a washout: conditional
    assert "conditional by exclusion 7" in hcc["evidence"]
    assert hcc["title"].startswith("Second-line Systemic Therapy Combined with SBRT")


def test_oligoprogression_prior_therapy_for_pd_l1(graph: TrialGraph) -> None:
    # NCT06592612 names atezolizumab (a PD-L1 inhibitor) as an acceptable first-line option
    stances = by_trial(graph, "oligoprogression-prior-therapy", "stance", therapy="PD-L1 inhibitor")
    assert stances == {HCC: "permitted", MEDCARE: "not_mentioned"}


def test_prior_therapy_stance(graph: TrialGraph) -> None:
    # NPC inclusion 8: "response after 4-6 cycles of chemotherapy plus PD-1 inhibitor therapy": required
    # (its inclusion 5, "No prior anti-tumor treatment", excludes, but a requirement comes first)
    assert by_trial(graph, "prior-therapy-stance", "stance") == {
        NPC: "required",
        HCC: "permitted",
        MEDCARE: "not_mentioned",
        LU_PSMA: "not_mentioned",
        CONVERT: "not_mentioned",
    }


def test_prior_therapy_stance_through_the_hierarchy(graph: TrialGraph) -> None:
    # NCT06866938 inclusion 12 "at least one taxane based chemotherapy (with docetaxel or cabazitaxel)":
    # required for taxanes, permitted (named as an option) for docetaxel alone; NPC inclusion 5 "No prior
    # anti-tumor treatment" excludes any taxane; NCT06592612 exclusion 7 is a 3-month washout.
    taxanes = by_trial(graph, "prior-therapy-stance", "stance", therapy="tgc:Taxane")
    assert taxanes == {
        LU_PSMA: "required",
        NPC: "excluded",
        HCC: "conditional",
        MEDCARE: "not_mentioned",
        CONVERT: "not_mentioned",
    }
    assert by_trial(graph, "prior-therapy-stance", "stance", therapy="docetaxel")[LU_PSMA] == "permitted"
    # MEDCARE inclusion 5 "treated primary tumor by radiotherapy or surgery": radiotherapy is one option
    assert (
        by_trial(graph, "prior-therapy-stance", "stance", therapy="tgc:Radiotherapy")[MEDCARE] == "permitted"
    )


def test_eligibility_summary(graph: TrialGraph) -> None:
    got = {r["trial"]: r for r in rows(graph, "eligibility-summary")}
    columns = (
        "min_age",
        "max_age",
        "sex",
        "max_ecog",
        "min_karnofsky",
        "brain_metastases",
        "oligo_population",
        "oligoprogression",
    )
    expected = {
        # registry ages 18-75, sex All; inclusion 1 "KPS ... >= 80"; exclusion 4 only excludes brain
        # metastasis *with hemorrhage*, which the extraction does not read: not_mentioned
        HCC: (18, 75, "ALL", None, 80, "not_mentioned", True, True),
        # registry 18+, male; inclusion 2 "ECOG performance status <= 2"; exclusion 6 "Current central
        # nervous system (CNS) metastases" (CNS includes brain)
        LU_PSMA: (18, None, "MALE", 2, None, "excluded", False, False),
        # registry 18-70, male; inclusion 5 "ECOG 0-2"; exclusion 10 "Known brain metastases";
        # oligometastatic disease only in exclusion 3
        CONVERT: (18, 70, "MALE", 2, None, "excluded", False, False),
        # no registry fields: inclusion 1 "Age 18-70 years, any gender", inclusion 3 "ECOG 0-1"
        NPC: (18, 70, "ALL", 1, None, "not_mentioned", False, False),
        # registry 18+, male; inclusion 6 "WHO performance status 0-1" (stated as WHO, not converted);
        # inclusion 3 "Oligoprogressive disease"
        MEDCARE: (18, None, "MALE", 1, None, "not_mentioned", True, True),
    }
    assert {t: tuple(r[c] for c in columns) for t, r in got.items()} == expected
    assert [r["nct_id"] for r in got.values() if r["nct_id"]] == [HCC, LU_PSMA, CONVERT]


def test_trials_requiring_prior_therapy(graph: TrialGraph) -> None:
    # NCT06866938 inclusion 12 (taxane) and 11 (ARSI: enzalutamide, apalutamide, abiraterone, darolutamide)
    (row,) = rows(graph, "trials-requiring-prior-therapy")
    assert (row["trial"], row["therapy_named"], row["criterion"]) == (LU_PSMA, "tgc:Taxane", "inclusion 12")
    arpi = rows(graph, "trials-requiring-prior-therapy", therapy="enzalutamide")
    assert [(r["trial"], r["criterion"]) for r in arpi] == []  # ARSI is broader than enzalutamide
    pd1 = rows(graph, "trials-requiring-prior-therapy", therapy="tgc:PD1Inhibitor")
    # NPC inclusion 8 "... after 4-6 cycles of chemotherapy plus PD-1 inhibitor therapy"
    assert [(r["trial"], r["min_cycles"], r["outcome"]) for r in pd1] == [(NPC, 4, "response")]


def test_trials_requiring_imaging(graph: TrialGraph) -> None:
    # NCT06866938 inclusion 9 "PSMA positive metastatic lesions on [68Ga]-PSMA-PET/CT"
    (row,) = rows(graph, "trials-requiring-imaging")
    assert (row["trial"], row["criterion"]) == (LU_PSMA, "inclusion 9")
    # RECIST 1.1: NCT06592612 inclusion 4, NCT06866938 inclusion 8, NPC inclusion 7
    recist = rows(graph, "trials-requiring-imaging", modality="tgc:RECIST11")
    assert sorted((r["trial"], r["criterion"]) for r in recist) == [
        (HCC, "inclusion 4"),
        (LU_PSMA, "inclusion 8"),
        (NPC, "inclusion 7"),
    ]


def test_trials_for_condition(graph: TrialGraph) -> None:
    # conditions: mCRPC (NCT06866938), castration-resistant prostate cancer (MEDCARE), metastatic
    # hormone-sensitive prostate cancer (NCT07268794); HCC and NPC are not prostate cancer
    assert {r["trial"] for r in rows(graph, "trials-for-condition")} == {LU_PSMA, MEDCARE, CONVERT}
    assert {
        r["trial"] for r in rows(graph, "trials-for-condition", condition="tgc:HepatocellularCarcinoma")
    } == {HCC}


def test_trials_open_to_age_and_sex(graph: TrialGraph) -> None:
    # a man of 72: NCT07268794 (18-70) and NPC ("Age 18-70") are closed; the others are open
    assert {r["trial"] for r in rows(graph, "trials-open-to-age-and-sex")} == {HCC, LU_PSMA, MEDCARE}
    # a woman of 40: the three prostate cancer trials enrol men only
    women = rows(graph, "trials-open-to-age-and-sex", age=40, sex="FEMALE")
    assert {r["trial"] for r in women} == {HCC, NPC}
    # 70 is inside NPC's "Age 18-70 years" and NCT07268794's registry maximum of 70: all five are open
    assert {r["trial"] for r in rows(graph, "trials-open-to-age-and-sex", age=70)} == {
        HCC,
        LU_PSMA,
        MEDCARE,
        CONVERT,
        NPC,
    }


@pytest.fixture(scope="module")
def one_end_per_criterion() -> TrialGraph:
    """Two trials written for this test whose age criteria each state one end of the range.

    NCT00000002: registry minimum 18 and no maximum; inclusion 1 "Age ≥ 18 years", inclusion 2
    "Age < 65 years", exclusion 1 "Older than 75 years". NCT00000003: no registry ages; inclusion 1
    "Aged 20 years or older", inclusion 2 "Age ≤ 70 years". Each criterion is read by the real
    extraction and mapping, one constraint per criterion, each without the other end.
    """
    texts = {
        "NCT00000002": (
            Age(18, "year"),
            "Inclusion Criteria:\n\n* Age ≥ 18 years\n* Age < 65 years\n\n"
            "Exclusion Criteria:\n\n* Older than 75 years\n",
        ),
        "NCT00000003": (None, "Inclusion Criteria:\n\n* Aged 20 years or older\n* Age ≤ 70 years\n"),
    }
    tg = TrialGraph(None)
    for nct_id, (minimum, text) in texts.items():
        trial = Trial(
            id=nct_id,
            source=Source("ctgov-json", "test", 0, "sha256:00"),
            nct_id=nct_id,
            brief_title=f"Age test {nct_id}",
            eligibility_text=text,
            minimum_age=minimum,
        )
        (prepared,) = pipeline.prepare([trial], dt.datetime(2026, 1, 1, tzinfo=dt.UTC))
        assert prepared.error is None
        tg.store.replace_graph(ox.NamedNode(TRIAL + nct_id), prepared.quads())
    return tg


def test_age_bounds_stated_one_end_per_criterion(one_end_per_criterion: TrialGraph) -> None:
    # pyoxigraph leaves MAX and MIN unbound over a group holding an unbound value: a constraint without
    # a maximum once hid the other constraint's maximum (and let older patients through)
    tg = one_end_per_criterion
    ends = tg.store.query(
        f"SELECT ?k (COUNT(?low) AS ?lows) (COUNT(?high) AS ?highs) WHERE {{ GRAPH ?g {{ "
        f"?k a <{TG}AgeConstraint> OPTIONAL {{ ?k <{TG}minYears> ?low }} "
        f"OPTIONAL {{ ?k <{TG}maxYears> ?high }} }} }} GROUP BY ?k"
    )
    # the premise: five constraints, each with one end (1: a lower end only, 2: an upper end only)
    assert sorted(int(s[1].value) + 2 * int(s[2].value) for s in ends) == [1, 1, 2, 2, 2]
    summary = {r["trial"]: (r["min_age"], r["max_age"]) for r in rows(tg, "eligibility-summary")}
    # NCT00000002: registry minimum 18; the tightest criteria maximum is 65 (inclusion 2)
    assert summary == {"NCT00000002": (18, 65), "NCT00000003": (20, 70)}

    def open_to(age: float) -> set[str]:
        return {r["trial"] for r in rows(tg, "trials-open-to-age-and-sex", age=age)}

    assert open_to(64.5) == {"NCT00000002", "NCT00000003"}
    assert open_to(65) == {"NCT00000003"}  # "< 65" excludes 65; "≤ 70" admits it
    assert open_to(70) == {"NCT00000003"}
    assert open_to(70.5) == set()
    assert open_to(19) == {"NCT00000002"}  # NCT00000003 asks for 20 or older
    assert open_to(17) == set()  # the registry minimum of 18 (no age criterion is read for it)


def test_lab_thresholds(graph: TrialGraph) -> None:
    # platelets: NCT06592612 inclusion 7 ">= 50.0 x 10^9/L", NCT07268794 inclusion 6 ">=80",
    # NPC inclusion 9.1 ">= 100", NCT06866938 inclusion 18 ">= 100"
    got = [(r["trial"], r["comparator"], r["value"], r["unit"]) for r in rows(graph, "lab-thresholds")]
    assert got[:2] == [(HCC, ">=", Decimal(50), "10^9/L"), (CONVERT, ">=", Decimal(80), "10^9/L")]
    assert sorted(got[2:]) == [(LU_PSMA, ">=", Decimal(100), "10^9/L"), (NPC, ">=", Decimal(100), "10^9/L")]
    # bilirubin as multiples of ULN; NCT06866938 inclusion 21 "<= 3 x ULN" with Gilbert's syndrome
    bilirubin = rows(graph, "lab-thresholds", analyte="bilirubin")
    assert {(r["trial"], r["value"], r["applies_when"]) for r in bilirubin if r["trial"] == LU_PSMA} == {
        (LU_PSMA, Decimal(2), "not Gilbert's syndrome"),
        (LU_PSMA, Decimal(3), "Gilbert's syndrome"),
    }
    assert {r["unit"] for r in bilirubin} == {"x ULN"}


def test_recruiting_trials_by_country(graph: TrialGraph) -> None:
    # NCT06866938 is recruiting with 16 French sites, one of them (Pierre-Bénite) recruiting
    (row,) = rows(graph, "recruiting-trials-by-country")
    assert (row["trial"], row["status"], row["sites"], row["recruiting_sites"]) == (
        LU_PSMA,
        "RECRUITING",
        16,
        1,
    )
    assert rows(graph, "recruiting-trials-by-country", country="china") == []


def test_criteria_coverage(graph: TrialGraph) -> None:
    got = {r["trial"]: r for r in rows(graph, "criteria-coverage")}
    assert set(got) == {HCC, LU_PSMA, CONVERT, NPC, MEDCARE}
    # NCT06592612 inclusion 5 "Child-Pugh score for liver function <= 7" and inclusion 8 (consent) are
    # free text; inclusion 1 (KPS) is computable
    hcc = got[HCC]["not_computable"].split(" | ")
    assert "inclusion 5" in hcc and "inclusion 8" in hcc and "inclusion 1" not in hcc
    assert hcc.index("inclusion 5") < hcc.index("inclusion 8")  # in criterion order
    assert got[HCC]["criteria"] == 23 and 0 < got[HCC]["coverage"] < 1


def test_washout_windows(graph: TrialGraph) -> None:
    # NCT06592612 exclusion 7 "any other antitumor drug therapy ... within 3 months before enrollment"
    (row,) = rows(graph, "washout-windows")
    assert (row["trial"], row["scope"], row["criterion"], row["within_weeks"]) == (
        HCC,
        "same",
        "exclusion 7",
        13,
    )
    assert row["text"].startswith("Received any other antitumor drug therapy or local treatment within 3")
    # NCT07268794 exclusion 5 "Major surgery within 4 weeks"; NCT06592612 "local treatment within 3 months"
    surgery = rows(graph, "washout-windows", therapy="tgc:MajorSurgery")
    assert [(r["trial"], r["within_days"]) for r in surgery] == [(CONVERT, 28)]


def test_agents_in_class(graph: TrialGraph) -> None:
    agents = {r["label"]: r for r in rows(graph, "agents-in-class")}
    assert {"pembrolizumab", "nivolumab", "sintilimab"} <= set(agents)
    assert "atezolizumab" not in agents  # a PD-L1 inhibitor is not a PD-1 inhibitor
    assert (
        agents["pembrolizumab"]["brand_names"] == "Keytruda" and agents["pembrolizumab"]["atc"] == "L01FF02"
    )


def test_oligometastatic_definitions(graph: TrialGraph) -> None:
    # NCT06592612 inclusion 3 "1-5 progressive lesions involving 1-3 organs/systems";
    # MEDCARE inclusion 3 "a maximum of 3 extracranial metastases"
    got = {(r["trial"], r["criterion"]): r for r in rows(graph, "oligometastatic-definitions")}
    hcc = got[(HCC, "inclusion 3")]
    assert (hcc["min_lesions"], hcc["max_lesions"], hcc["min_organs"], hcc["max_organs"]) == (1, 5, 1, 3)
    assert got[(MEDCARE, "inclusion 3")]["max_lesions"] == 3
    assert {t for t, _ in got} == {HCC, MEDCARE}


def test_arms_giving_therapy(graph: TrialGraph) -> None:
    # NCT07268794: docetaxel in both arms ("Systemic Therapy Alone", "... Plus Local Prostate Treatment")
    got = rows(graph, "arms-giving-therapy")
    assert {(r["trial"], r["arm_type"], r["concept"]) for r in got} == {
        (CONVERT, "ACTIVE_COMPARATOR", "tgc:docetaxel"),
        (CONVERT, "EXPERIMENTAL", "tgc:docetaxel"),
    }
    # NCT06866938's arm gives "[177Lu]Lu-PSMA-617 (Pluvicto, Novartis)": a PSMA radioligand
    psma = rows(graph, "arms-giving-therapy", **{"class": "tgc:PSMARadioligand"})
    assert {r["trial"] for r in psma} == {LU_PSMA}


def test_local_therapy_arms(graph: TrialGraph) -> None:
    got = {r["trial"]: r for r in rows(graph, "local-therapy-arms")}
    # MEDCARE "MDT for oligoprogressive lesions" (SBRT and/or metastasectomy); NCT06592612 "SBRT Arm";
    # NCT07268794 arm B: prostate radiotherapy and radical prostatectomy (to the primary, not metastases)
    assert set(got) == {MEDCARE, HCC, CONVERT}
    assert got[MEDCARE]["metastasis_directed"] is True
    assert got[CONVERT]["metastasis_directed"] is False
    assert "radical prostatectomy" in got[CONVERT]["local_therapies"].split(" | ")


def test_trials_accepting_performance_status(graph: TrialGraph) -> None:
    # ECOG 1: NCT06592612 asks KPS >= 80 and ECOG 1 is KPS 70-80: partly; every other range admits 1
    assert by_trial(graph, "trials-accepting-performance-status", "accepts") == {
        HCC: "partly",
        LU_PSMA: "yes",
        CONVERT: "yes",
        NPC: "yes",
        MEDCARE: "yes",
    }
    # ECOG 2: NPC "ECOG 0-1" and MEDCARE "WHO 0-1" refuse; KPS 50-60 is below 80
    ecog2 = by_trial(graph, "trials-accepting-performance-status", "accepts", score=2)
    assert ecog2 == {HCC: "no", LU_PSMA: "yes", CONVERT: "yes", NPC: "no", MEDCARE: "no"}
    kps90 = by_trial(graph, "trials-accepting-performance-status", "accepts", scale="KARNOFSKY", score=90)
    assert set(kps90.values()) == {"yes"}


def test_graph_statistics_and_status(graph: TrialGraph) -> None:
    (stats,) = rows(graph, "graph-statistics")
    assert stats["trials"] == 5
    # the criteria are summed from each trial's derived count: the same as counting the criteria
    criteria = {q.object for q in graph.store.with_predicate(ox.NamedNode(TG + "hasCriterion"))}
    arms = {q.object for q in graph.store.with_predicate(ox.NamedNode(TG + "hasArm"))}
    assert stats["criteria"] == len(criteria) > 0 and stats["arms"] == len(arms) > 0
    facets = {
        (r["facet"], r["value"].rsplit("-", 1)[-1]): r["trials"]
        for r in rows(graph, "trials-by-status-and-phase")
    }
    # NCT06866938 recruiting; NCT06592612 and NCT07268794 not yet recruiting; MEDCARE active
    assert facets[("status", "RECRUITING")] == 1 and facets[("phase", "PHASE2")] == 3


def test_every_query_has_a_hand_checked_test() -> None:
    source = Path(__file__).read_text(encoding="utf-8")
    assert {name for name in LIBRARY if f'"{name}"' in source} == set(LIBRARY)


# --- the same rows on rdflib's engine --------------------------------------------------------------


@pytest.fixture(scope="module")
def dataset(graph: TrialGraph) -> rdflib.Dataset:
    """The store's quads in an rdflib Dataset whose default graph is the union of its graphs."""
    ds = rdflib.Dataset(default_union=True)
    for quad in graph.store.quads():
        assert isinstance(quad.graph_name, ox.NamedNode)
        ds.graph(rdflib.URIRef(quad.graph_name.value)).add(
            (rdflib_term(quad.subject), rdflib_term(quad.predicate), rdflib_term(quad.object))
        )
    return ds


def _canon(value: Any) -> Any:
    """A value compared across engines: numbers by value, " | " lists as sets of their parts."""
    if isinstance(value, rdflib.Literal):
        value = value.toPython()
        if isinstance(value, rdflib.Literal):
            value = str(value)
    elif isinstance(value, rdflib.term.Node):
        value = str(value)
    if isinstance(value, (int, float, Decimal)) and not isinstance(value, bool):
        return Decimal(str(value)).normalize()
    if isinstance(value, str) and " | " in value:
        return frozenset(value.split(" | "))
    return value


def _oxigraph_rows(result: QueryResult) -> set[tuple[Any, ...]]:
    return {
        tuple(_canon(None if t is None else rdflib_term(t)) for t in (row[v] for v in result.variables))
        for row in result.rows
    }


@pytest.mark.parametrize("name", LIBRARY)
def test_rdflib_gives_the_same_rows(graph: TrialGraph, dataset: rdflib.Dataset, name: str) -> None:
    text = queries.load(name).bind()
    expected = graph.query(name)
    got = dataset.query(text)
    assert [str(v) for v in got.vars or []] == expected.variables
    assert {tuple(_canon(row[v]) for v in got.vars or []) for row in got} == _oxigraph_rows(expected)


def test_a_parameter_with_listed_values_refuses_any_other(graph: TrialGraph) -> None:
    # a scale the query does not know answered not_stated for every trial; a sex neither MALE nor
    # FEMALE matched only the trials open to all
    with pytest.raises(
        ParameterError, match="scale: 'LANSKY' is not valid; expected one of ECOG, WHO, KARNOFSKY, KPS"
    ):
        graph.query("trials-accepting-performance-status", scale="LANSKY", score=80)
    with pytest.raises(ParameterError, match="expected one of MALE, FEMALE"):
        graph.query("trials-open-to-age-and-sex", age=40, sex="W")
    # case does not matter: the listed spelling is bound
    assert 'VALUES ?scale { "KPS" }' in queries.load("trials-accepting-performance-status").bind(scale="kps")
    women = rows(graph, "trials-open-to-age-and-sex", age=40, sex="female")
    assert {r["trial"] for r in women} == {HCC, NPC}


def test_a_concept_parameter_takes_a_curie_a_curated_name_or_a_drugbank_name() -> None:
    query = queries.load("prior-therapy-stance")
    for given, iri in [
        ("tgc:PD1Inhibitor", TGC + "PD1Inhibitor"),
        ("anti-PD-1 antibodies", TGC + "PD1Inhibitor"),  # a curated synonym
        ("Ametinib", TGC + "aumolertinib"),  # a DrugBank synonym of a curated agent
        ("metformin", drugbank_iri("DB00331")),  # in DrugBank only
        ("Radiotherapy (SBRT)", TGC + "SBRT"),  # the rule for a trailing parenthesis
    ]:
        assert f"VALUES ?therapy {{ <{iri}> }}" in query.bind(therapy=given), given
    with pytest.raises(ParameterError, match="therapy"):
        query.bind(therapy="no such drug")


BAD_PARAM_LINES = {
    "listed-values-on-an-integer": "x integer {1 2} = 1 ; a number",
    "default-not-listed": "x string {A B} = C ; a letter",
    "unknown-type": "x text = 1 ; a text",
}


@pytest.mark.parametrize("line", BAD_PARAM_LINES.values(), ids=BAD_PARAM_LINES.keys())
def test_a_bad_param_line_is_refused_when_its_query_is_loaded(tmp_path: Path, line: str) -> None:
    path = tmp_path / "q.rq"
    path.write_text(f"# name: q\n# question: Q?\n# param: {line}\nSELECT ?x WHERE {{ VALUES ?x {{ 1 }} }}\n")
    with pytest.raises(TrialgraphError, match=r"q\.rq"):
        queries.load_file(path)


# --- hostile parameter values ----------------------------------------------------------------------

HOSTILE = [
    'x" } ; DROP ALL ; { "',
    "} ; DROP ALL ; {",
    "a\nb } SELECT * WHERE { ?s ?p ?o }",
    "'; DELETE WHERE { ?s ?p ?o } #",
    '"""triple"""',
    "{ } }",
    "<http://example.org/x> } UNION { ?s ?p ?o",
]
PARAMETERS = [(q.name, p.name) for q in queries.library() for p in q.parameters]


@pytest.mark.parametrize(("name", "param"), PARAMETERS, ids=[f"{n}-{p}" for n, p in PARAMETERS])
@pytest.mark.parametrize("value", HOSTILE, ids=range(len(HOSTILE)))
def test_hostile_values_are_rejected_or_bound_as_literals(
    graph: TrialGraph, name: str, param: str, value: str
) -> None:
    query = queries.load(name)
    before = graph.store.count()
    try:
        text = query.bind(**{param: value})
    except ParameterError as exc:
        assert param in str(exc)
        return
    # bound: the query keeps its structure, the value is one escaped literal in its VALUES block
    assert text.count("VALUES") == query.text.count("VALUES")
    assert "DROP ALL ;" not in text.replace(ox.Literal(value).__str__(), "")
    assert "DELETE WHERE" not in text.replace(ox.Literal(value).__str__(), "")
    try:
        graph.query(name, **{param: value})
    except TrialgraphError as exc:  # pragma: no cover - a clear error, never an injected query
        pytest.fail(f"bound query failed: {exc}")
    assert graph.store.count() == before
