"""The concept vocabulary: well-formed concept files, verified cross-references, lookup, mentions, reasoning.

Expected values come from pharmacology (what class a drug is in), the WHO ATC table in the shared data
README and the DrugBank open vocabulary CSV, not from the code under test.
"""

from __future__ import annotations

import csv
import re
import shutil
import time
from collections.abc import Iterator
from pathlib import Path

import pyoxigraph as ox
import pytest
import rdflib
from rdflib.namespace import OWL, RDF, RDFS, SKOS

from trialgraph.errors import NotFoundError
from trialgraph.namespaces import TG, TGC
from trialgraph.resources import ONTOLOGY_DIR
from trialgraph.vocabulary import DRUGBANK_CSV_ENV, Vocabulary, drugbank_iri, normalize

TGNS = rdflib.Namespace(TG)
TGCNS = rdflib.Namespace(TGC)
CONCEPT_FILES = sorted((ONTOLOGY_DIR / "concepts").glob("*.ttl"))
ALL_FILES = [ONTOLOGY_DIR / "vocabulary.ttl", *CONCEPT_FILES]
ATC_RE = re.compile(r"^[A-Z]\d\d[A-Z][A-Z]\d\d$")

# WHO ATC group L01FF "PD-1/PD-L1 inhibitors", as listed in ../shared/data/README.md.
L01FF = {
    "nivolumab": "L01FF01",
    "pembrolizumab": "L01FF02",
    "durvalumab": "L01FF03",
    "avelumab": "L01FF04",
    "atezolizumab": "L01FF05",
    "cemiplimab": "L01FF06",
    "dostarlimab": "L01FF07",
    "prolgolimab": "L01FF08",
    "tislelizumab": "L01FF09",
    "retifanlimab": "L01FF10",
    "sugemalimab": "L01FF11",
    "serplulimab": "L01FF12",
    "toripalimab": "L01FF13",
    "camrelizumab": "L01FF14",
    "envafolimab": "L01FF15",
    "sasanlimab": "L01FF16",
}
PD1_AGENTS = [
    "nivolumab",
    "pembrolizumab",
    "cemiplimab",
    "dostarlimab",
    "sintilimab",
    "camrelizumab",
    "toripalimab",
    "tislelizumab",
    "penpulimab",
    "serplulimab",
    "prolgolimab",
    "retifanlimab",
    "sasanlimab",
]
PDL1_AGENTS = ["atezolizumab", "durvalumab", "avelumab", "sugemalimab", "envafolimab"]
INFERRED_ONLY = {"zimberelimab"}
"""Agents asserted only as systemic therapy plus a target, so that only reasoning gives their class."""


@pytest.fixture(scope="module")
def vocab() -> Vocabulary:
    """The repository vocabulary (with DrugBank when the shared data is present)."""
    return Vocabulary.default()


@pytest.fixture(scope="module")
def graph() -> rdflib.Graph:
    """vocabulary.ttl and every concept file in one rdflib graph."""
    g = rdflib.Graph()
    for path in ALL_FILES:
        g.parse(path, format="turtle")
    return g


@pytest.fixture(scope="module")
def drugbank(shared_data: Path) -> dict[str, list[str]]:
    """DrugBank ID -> [common name, synonyms...] from the open vocabulary CSV."""
    path = shared_data / "vocab" / "drugbank_open_vocabulary.csv"
    if not path.is_file():
        pytest.skip(f"DrugBank vocabulary not found at {path}")
    with path.open(encoding="utf-8", newline="") as handle:
        return {
            row["DrugBank ID"]: [
                row["Common name"],
                *[s.strip() for s in row["Synonyms"].split(" | ") if s.strip()],
            ]
            for row in csv.DictReader(handle)
        }


def agents(graph: rdflib.Graph) -> Iterator[rdflib.URIRef]:
    """The curated drug agents: concept individuals typed by a drug class."""
    individuals = {s for s in graph.subjects(RDF.type, OWL.NamedIndividual) if isinstance(s, rdflib.URIRef)}
    for subject in sorted(individuals):
        types = graph.objects(subject, RDF.type)
        if any(TGNS.DrugAgent in graph.transitive_objects(t, RDFS.subClassOf) for t in types):
            yield subject


def table(text: str, sep: str) -> list[tuple[str, str]]:
    """Pairs from lines of the form ``left <sep> right`` (a readable parametrize table)."""
    rows = [line.split(sep) for line in text.strip().splitlines() if line.strip()]
    return [(left.strip(), right.strip()) for left, right in rows]


def local(iri: rdflib.term.Node) -> str:
    """The local name of a tgc: IRI."""
    return str(iri).removeprefix(TGC)


# ------------------------------------------------------------------------------------------------------
# The files


@pytest.mark.parametrize("path", ALL_FILES, ids=[p.name for p in ALL_FILES])
def test_concept_file_parses(path: Path) -> None:
    assert len(rdflib.Graph().parse(path, format="turtle")) > 50
    assert len(list(ox.parse(path=path, format=ox.RdfFormat.TURTLE))) > 50


def test_every_concept_has_one_english_pref_label(graph: rdflib.Graph) -> None:
    concepts = {
        s for s in graph.subjects(RDF.type, None) if str(s).startswith(TGC) and isinstance(s, rdflib.URIRef)
    }
    concepts -= set(graph.subjects(RDF.type, OWL.Ontology))
    assert len(concepts) > 300
    for concept in concepts:
        labels = list(graph.objects(concept, SKOS.prefLabel))
        assert len(labels) == 1, concept
        assert isinstance(labels[0], rdflib.Literal) and labels[0].language == "en", concept


def test_every_class_has_a_label_and_definition(graph: rdflib.Graph) -> None:
    for cls in graph.subjects(RDF.type, OWL.Class):
        if isinstance(cls, rdflib.URIRef):
            assert graph.value(cls, RDFS.label) is not None, cls
            assert graph.value(cls, SKOS.definition) is not None, cls


def test_schema_terms_are_labelled_and_defined(graph: rdflib.Graph) -> None:
    schema = rdflib.Graph().parse(ONTOLOGY_DIR / "vocabulary.ttl", format="turtle")
    terms = {s for s in schema.subjects(RDF.type, None) if str(s).startswith(TG)}
    assert {
        TGNS.Therapy,
        TGNS.DrugAgent,
        TGNS.MolecularTarget,
        TGNS.targets,
        TGNS.atcCode,
        TGNS.brandName,
    } <= terms
    for term in terms:
        assert schema.value(term, RDFS.label) is not None, term
        assert schema.value(term, SKOS.definition) is not None, term


def test_schema_does_not_define_trial_model_terms() -> None:
    schema = rdflib.Graph().parse(ONTOLOGY_DIR / "vocabulary.ttl", format="turtle")
    for term in ("ClinicalTrial", "Intervention", "EligibilityCriterion", "Arm", "Condition"):
        assert (TGNS[term], None, None) not in schema


def test_every_curated_name_resolves_to_its_own_concept(graph: rdflib.Graph, vocab: Vocabulary) -> None:
    """No two concepts share a name (after normalisation), so lookup is never ambiguous."""
    properties = [SKOS.prefLabel, SKOS.altLabel, TGNS.brandName, TGNS.codeName, TGNS.ambiguousLabel]
    for concept in set(graph.subjects(SKOS.prefLabel, None)):
        for prop in properties:
            for name in graph.objects(concept, prop):
                found = vocab.lookup(str(name))
                assert found is not None and found.iri == str(concept), (str(name), concept, found)


# ------------------------------------------------------------------------------------------------------
# Cross-references


def test_drugbank_ids_exist_with_a_matching_name(graph: rdflib.Graph, drugbank: dict[str, list[str]]) -> None:
    seen: dict[str, rdflib.term.Node] = {}
    for concept, drugbank_id in graph.subject_objects(TGNS.drugbankId):
        assert re.fullmatch(r"DB\d{5}", str(drugbank_id)), drugbank_id
        assert str(drugbank_id) in drugbank, f"{drugbank_id} of {concept} is not in the DrugBank CSV"
        assert str(drugbank_id) not in seen, (
            f"{drugbank_id} given to {seen.get(str(drugbank_id))} and {concept}"
        )
        seen[str(drugbank_id)] = concept
        ours = {normalize(str(n)) for p in (SKOS.prefLabel, SKOS.altLabel) for n in graph.objects(concept, p)}
        theirs = {normalize(n) for n in drugbank[str(drugbank_id)]}
        assert ours & theirs, (
            f"{concept}: no name in common with DrugBank {drugbank_id} {drugbank[str(drugbank_id)][:3]}"
        )
    assert len(seen) >= 120


def test_readme_drugbank_ids_of_pd1_agents(graph: rdflib.Graph) -> None:
    expected = {
        "sintilimab": "DB15765",
        "camrelizumab": "DB14776",
        "toripalimab": "DB15043",
        "tislelizumab": "DB14922",
        "penpulimab": "DB16747",
    }
    for name, drugbank_id in expected.items():
        assert str(graph.value(TGCNS[name], TGNS.drugbankId)) == drugbank_id


def test_atc_codes_are_well_formed_and_unique(graph: rdflib.Graph) -> None:
    codes = [(s, str(o)) for s, o in graph.subject_objects(TGNS.atcCode)]
    assert len(codes) >= 90
    for concept, code in codes:
        assert ATC_RE.match(code), (concept, code)
    assert len({c for _, c in codes}) == len(codes), "an ATC code is given to two agents"


def test_l01ff_codes_match_the_who_table(graph: rdflib.Graph) -> None:
    for name, code in L01FF.items():
        assert [str(c) for c in graph.objects(TGCNS[name], TGNS.atcCode)] == [code], name
    for concept, atc in graph.subject_objects(TGNS.atcCode):
        if str(atc).startswith("L01FF"):
            assert local(concept) in L01FF, concept
    for name in ("sintilimab", "penpulimab"):
        assert graph.value(TGCNS[name], TGNS.atcCode) is None, f"{name} has no ATC code"


WELL_KNOWN_ATC = """
enzalutamide = L02BB04
abiraterone = L02BX03
leuprorelin = L02AE02
goserelin = L02AE03
degarelix = L02BX02
paclitaxel = L01CD01
docetaxel = L01CD02
cabazitaxel = L01CD04
cisplatin = L01XA01
carboplatin = L01XA02
oxaliplatin = L01XA03
gemcitabine = L01BC05
ipilimumab = L01FX04
bevacizumab = L01FG01
olaparib = L01XK01
sorafenib = L01EX02
lenvatinib = L01EX08
regorafenib = L01EX05
cabozantinib = L01EX07
radium-223-dichloride = V10XX03
lutetium-177-vipivotide-tetraxetan = V10XX05
"""


@pytest.mark.parametrize(("name", "code"), table(WELL_KNOWN_ATC, "="))
def test_well_known_atc_codes(graph: rdflib.Graph, name: str, code: str) -> None:
    assert str(graph.value(TGCNS[name], TGNS.atcCode)) == code


def test_targets_are_hgnc_symbols(graph: rdflib.Graph) -> None:
    assert str(graph.value(TGCNS.PDCD1, TGNS.hgncSymbol)) == "PDCD1"
    assert str(graph.value(TGCNS.CD274, TGNS.hgncSymbol)) == "CD274"
    for target in graph.subjects(RDF.type, TGNS.MolecularTarget):
        symbol = graph.value(target, TGNS.hgncSymbol)
        assert symbol is not None and local(target) == str(symbol), target


# ------------------------------------------------------------------------------------------------------
# PD-1 versus PD-L1


def test_pd1_and_pdl1_classes_are_disjoint(graph: rdflib.Graph, vocab: Vocabulary) -> None:
    assert (TGCNS.PD1Inhibitor, OWL.disjointWith, TGCNS.PDL1Inhibitor) in graph
    both = [
        c.label
        for c in vocab.concepts("agent")
        if vocab.is_a(c, "tgc:PD1Inhibitor") and vocab.is_a(c, "tgc:PDL1Inhibitor")
    ]
    assert both == []


@pytest.mark.parametrize("name", PD1_AGENTS)
def test_pd1_agents(vocab: Vocabulary, name: str) -> None:
    assert vocab.is_a(name, "PD-1 inhibitor")
    assert not vocab.is_a(name, "PD-L1 inhibitor")
    assert vocab.targets(name) == {TGC + "PDCD1"}
    assert vocab.is_a(name, "immune checkpoint inhibitor") and vocab.is_a(name, "immunotherapy")


@pytest.mark.parametrize("name", PDL1_AGENTS)
def test_pdl1_agents(vocab: Vocabulary, name: str) -> None:
    assert vocab.is_a(name, "PD-L1 inhibitor")
    assert not vocab.is_a(name, "PD-1 inhibitor")
    assert vocab.targets(name) == {TGC + "CD274"}


def test_agents_are_classified_by_their_targets(vocab: Vocabulary) -> None:
    by_target = {
        "PDCD1": "PD1Inhibitor",
        "CD274": "PDL1Inhibitor",
        "CTLA4": "CTLA4Inhibitor",
        "PARP1": "PARPInhibitor",
    }
    for concept in vocab.concepts("agent"):
        for target, cls in by_target.items():
            if TGC + target in vocab.targets(concept):
                assert vocab.is_a(concept, TGC + cls), (concept.label, cls)


def test_every_agent_but_the_demonstration_has_its_inferred_classes_asserted(
    graph: rdflib.Graph, vocab: Vocabulary
) -> None:
    """SPARQL without a reasoner sees every class membership, except for the reasoning demonstration."""
    for agent in agents(graph):
        asserted = {str(t) for t in graph.objects(agent, RDF.type)}
        inferred = set(vocab.get(str(agent)).classes)  # type: ignore[union-attr]
        if local(agent) in INFERRED_ONLY:
            assert TGC + "PD1Inhibitor" in inferred - asserted
        else:
            assert inferred <= asserted, (agent, inferred - asserted)


# ------------------------------------------------------------------------------------------------------
# Lookup


LOOKUPS = """
Keytruda -> tgc:pembrolizumab
MK-3475 -> tgc:pembrolizumab
mk3475 -> tgc:pembrolizumab
lambrolizumab -> tgc:pembrolizumab
KEYTRUDA® -> tgc:pembrolizumab
Xofigo -> tgc:radium-223-dichloride
radium-223 -> tgc:radium-223-dichloride
SABR -> tgc:SBRT
stereotactic ablative radiotherapy -> tgc:SBRT
Pluvicto -> tgc:lutetium-177-vipivotide-tetraxetan
177Lu-PSMA-617 -> tgc:lutetium-177-vipivotide-tetraxetan
lutetium Lu 177 vipivotide tetraxetan -> tgc:lutetium-177-vipivotide-tetraxetan
[177Lu]Lu-PSMA-I&T -> tgc:lutetium-177-PSMA-IT
leuprolide -> tgc:leuprorelin
anti-PD-1 -> tgc:PD1Inhibitor
pd-1 inhibitors -> tgc:PD1Inhibitor
PD1 antibody -> tgc:PD1Inhibitor
anti-PD-L1 -> tgc:PDL1Inhibitor
anti-PD-(L)1 -> tgc:PD1PDL1Inhibitor
checkpoint inhibitors -> tgc:ImmuneCheckpointInhibitor
ARSI -> tgc:AndrogenReceptorPathwayInhibitor
ARPI -> tgc:AndrogenReceptorPathwayInhibitor
novel hormonal agents -> tgc:AndrogenReceptorPathwayInhibitor
NHA -> tgc:AndrogenReceptorPathwayInhibitor
second-generation antiandrogens -> tgc:SecondGenerationAntiandrogen
ADT -> tgc:AndrogenDeprivationTherapy
taxane-based chemotherapy -> tgc:Taxane
platinum-based chemotherapy -> tgc:PlatinumAgent
endocrine therapy -> tgc:HormonalTherapy
systemic therapy -> tgc:SystemicTherapy
mCRPC -> tgc:MetastaticCastrationResistantProstateCancer
mHSPC -> tgc:MetastaticHormoneSensitiveProstateCancer
HCC -> tgc:HepatocellularCarcinoma
NPC -> tgc:NasopharyngealCarcinoma
NSCLC -> tgc:NonSmallCellLungCancer
oligoprogressive disease -> tgc:Oligoprogression
brain metastases -> tgc:BrainMetastases
pelvic lymph node dissection -> tgc:PelvicLymphNodeDissection
RFA -> tgc:RadiofrequencyAblation
KPS -> tgc:Karnofsky
WHO PS -> tgc:WHOPerformanceStatus
RECIST v1.1 -> tgc:RECIST11
PSMA PET/CT -> tgc:PSMAPET
bone scintigraphy -> tgc:BoneScan
PD-L1 -> tgc:CD274
MDT -> tgc:MetastasisDirectedTherapy
"""


@pytest.mark.parametrize(("name", "curie"), table(LOOKUPS, "->"))
def test_lookup(vocab: Vocabulary, name: str, curie: str) -> None:
    concept = vocab.lookup(name)
    assert concept is not None, name
    assert concept.curie == curie


REGISTRY_NAMES = """
Androgen Deprivation Therapy (ADT) -> tgc:AndrogenDeprivationTherapy
[177Lu]Lu-PSMA-617 (Pluvicto, Novartis) -> tgc:lutetium-177-vipivotide-tetraxetan
Metastatic Hormone-Sensitive Prostate Cancer (mHSPC) -> tgc:MetastaticHormoneSensitiveProstateCancer
Prostate Cancer (Adenocarcinoma) -> tgc:ProstateAdenocarcinoma
Radiotherapy (SBRT) -> tgc:SBRT
Surgery (metastasectomy) -> tgc:Metastasectomy
Karnofsky Performance Status (KPS) -> tgc:Karnofsky
Hepatocellular Carcinoma -> tgc:HepatocellularCarcinoma
Carcinoma, Non-Small-Cell Lung -> tgc:NonSmallCellLungCancer
Metastatic Castration-resistant Prostate Cancer -> tgc:MetastaticCastrationResistantProstateCancer
Castration-resistant Prostate Cancer -> tgc:CastrationResistantProstateCancer
"""


@pytest.mark.parametrize(("name", "curie"), table(REGISTRY_NAMES, "->"))
def test_lookup_of_registry_condition_and_intervention_names(
    vocab: Vocabulary, name: str, curie: str
) -> None:
    concept = vocab.lookup(name)
    assert concept is not None and concept.curie == curie


def test_lookup_of_unknown_names(vocab: Vocabulary) -> None:
    assert vocab.lookup("not a drug at all") is None
    assert vocab.lookup("") is None
    assert vocab.lookup("PARP Inhibitors and Other Systemic Agents") is None


KINDS = """
pembrolizumab -> agent
PD-1 inhibitor -> class
SBRT -> procedure
hepatocellular carcinoma -> disease
oligoprogression -> state
PSMA PET -> imaging
ECOG -> scale
Child-Pugh -> scale
RECIST 1.1 -> response_criteria
PD-1 -> target
"""


@pytest.mark.parametrize(("name", "kind"), table(KINDS, "->"))
def test_kinds(vocab: Vocabulary, name: str, kind: str) -> None:
    assert vocab.lookup(name).kind == kind  # type: ignore[union-attr]


def test_sintilimab_is_a_pd1_inhibitor_immunotherapy_and_systemic_therapy(vocab: Vocabulary) -> None:
    sintilimab = vocab.lookup("sintilimab")
    assert sintilimab is not None and sintilimab.classes == (TGC + "PD1Inhibitor",)
    for cls in ("PD-1 inhibitor", "immunotherapy", "systemic therapy", "anticancer therapy"):
        assert vocab.is_a(sintilimab, cls), cls
    assert not vocab.is_a(sintilimab, "chemotherapy")


def test_atezolizumab_is_pdl1_not_pd1(vocab: Vocabulary) -> None:
    assert vocab.is_a("atezolizumab", "anti-PD-L1")
    assert not vocab.is_a("atezolizumab", "anti-PD-1")
    assert vocab.is_a("atezolizumab", "PD-1/PD-L1 inhibitor")


@pytest.mark.parametrize(
    "name", ["abiraterone", "enzalutamide", "apalutamide", "darolutamide", "rezvilutamide"]
)
def test_arsi(vocab: Vocabulary, name: str) -> None:
    assert vocab.is_a(name, "ARSI")
    assert vocab.is_a(name, "hormonal therapy")
    assert not vocab.is_a(name, "androgen deprivation therapy")


def test_abiraterone_is_not_an_antiandrogen(vocab: Vocabulary) -> None:
    assert vocab.is_a("abiraterone", "CYP17 inhibitor")
    assert not vocab.is_a("abiraterone", "androgen receptor antagonist")
    assert vocab.is_a("bicalutamide", "androgen receptor antagonist") and not vocab.is_a(
        "bicalutamide", "ARSI"
    )


IS_A = """
goserelin < GnRH agonist
triptorelin < LHRH agonist
degarelix < GnRH antagonist
relugolix < androgen deprivation therapy
docetaxel < taxane
cabazitaxel < chemotherapy
carboplatin < platinum-based chemotherapy
capecitabine < fluoropyrimidine
pemetrexed < antimetabolite
niraparib < PARP inhibitor
ramucirumab < antiangiogenic therapy
bevacizumab < anti-VEGF antibody
lenvatinib < multikinase inhibitor
lenvatinib < VEGFR-TKI
apatinib < VEGFR-TKI
osimertinib < EGFR-TKI
cetuximab < EGFR inhibitor
lorlatinib < ALK inhibitor
ipilimumab < CTLA-4 inhibitor
tremelimumab < checkpoint inhibitor
cadonilimab < PD-1 inhibitor
cadonilimab < CTLA-4 inhibitor
Xofigo < radiopharmaceutical
Pluvicto < PSMA-targeted radioligand therapy
177Lu-PSMA-I&T < radioligand therapy
Lutathera < PRRT
radium-223 < systemic therapy
SBRT < local ablative therapy
SBRT to metastases < metastasis-directed therapy
SBRT to metastases < SABR
metastasectomy < metastasis-directed therapy
radiofrequency ablation < ablation
TACE < local therapy
radical prostatectomy < surgery
pelvic lymph node dissection < lymphadenectomy
conventional radiotherapy < radiotherapy
radiotherapy < anticancer therapy
mCRPC < castration-resistant prostate cancer
mCRPC < metastatic prostate cancer
mHSPC < HSPC
prostate adenocarcinoma < prostate cancer
NPC < head and neck cancer
SCLC < neuroendocrine carcinoma
leptomeningeal metastases < CNS metastases
brain metastases < metastatic disease
oligometastatic disease < metastatic disease
de novo metastatic < metastatic disease
high-volume disease < metastatic disease
oligoprogression < disease progression
PSMA PET < PET
FDG PET < PET
bone scan < conventional imaging
"""


@pytest.mark.parametrize(("name", "cls"), table(IS_A, "<"))
def test_hierarchy(vocab: Vocabulary, name: str, cls: str) -> None:
    assert vocab.is_a(name, cls)


IS_NOT_A = """
prednisone / systemic therapy
denosumab / systemic therapy
warfarin / anticancer therapy
SBRT / metastasis-directed therapy
biopsy / anticancer therapy
apatinib / multikinase inhibitor
afatinib / HER2-targeted therapy
mHSPC / castration-resistant prostate cancer
SBRT / systemic therapy
"""


@pytest.mark.parametrize(("name", "cls"), table(IS_NOT_A, "/"))
def test_not_in_hierarchy(vocab: Vocabulary, name: str, cls: str) -> None:
    assert not vocab.is_a(name, cls)


def test_is_a_accepts_concepts_iris_curies_and_names(vocab: Vocabulary) -> None:
    pembrolizumab = vocab.lookup("pembrolizumab")
    assert pembrolizumab is not None
    assert vocab.is_a(pembrolizumab, TGC + "PD1Inhibitor")
    assert vocab.is_a(TGC + "pembrolizumab", "tgc:PD1Inhibitor")
    assert vocab.is_a("Keytruda", vocab.lookup("anti-PD-1"))  # type: ignore[arg-type]
    assert vocab.is_a("pembrolizumab", "tg:DrugAgent") and vocab.is_a("pembrolizumab", "pembrolizumab")
    with pytest.raises(NotFoundError):
        vocab.is_a("pembrolizumab", "no such class")


def test_ancestors(vocab: Vocabulary) -> None:
    assert vocab.ancestors("tgc:PD1Inhibitor") == {
        TGC + "PD1PDL1Inhibitor",
        TGC + "ImmuneCheckpointInhibitor",
        TGC + "Immunotherapy",
        TGC + "SystemicTherapy",
        TGC + "AnticancerTherapy",
        TG + "DrugAgent",
        TG + "Therapy",
    }
    assert TGC + "PD1Inhibitor" in vocab.ancestors("nivolumab")
    assert vocab.ancestors("tgc:ProstateCancer") == {
        TGC + "SolidTumor",
        TGC + "Cancer",
        TG + "DiseaseConcept",
    }


def test_cross_references(vocab: Vocabulary) -> None:
    assert vocab.xrefs("pembrolizumab") == {"atc": ("L01FF02",), "drugbank": ("DB09037",)}
    assert vocab.xrefs("prostate cancer") == {"mesh": ("D011471",)}
    assert "Keytruda" in vocab.names("pembrolizumab")


# ------------------------------------------------------------------------------------------------------
# Mentions in free text


def test_two_adjacent_class_mentions(vocab: Vocabulary) -> None:
    text = "prior anti-PD-L1 or anti-PD-1 antibody"
    mentions = vocab.find_mentions(text)
    assert [(m.start, m.end, m.text, m.concept.curie) for m in mentions] == [
        (6, 16, "anti-PD-L1", "tgc:PDL1Inhibitor"),
        (20, 38, "anti-PD-1 antibody", "tgc:PD1Inhibitor"),
    ]
    for m in mentions:
        assert text[m.start : m.end] == m.text


def test_word_boundaries(vocab: Vocabulary) -> None:
    assert [m.concept.curie for m in vocab.find_mentions("SBRT")] == ["tgc:SBRT"]
    assert all(m.concept.curie != "tgc:CT" for m in vocab.find_mentions("SBRT, SABRT and ECT were given"))
    assert [m.concept.curie for m in vocab.find_mentions("PD-L1 expression >= 1%")] == ["tgc:CD274"]
    assert [m.concept.curie for m in vocab.find_mentions("PD-1 expression")] == ["tgc:PDCD1"]
    assert vocab.find_mentions("anti-PD-10") == []


def test_short_abbreviations_are_case_sensitive(vocab: Vocabulary) -> None:
    assert [m.concept.curie for m in vocab.find_mentions("chest CT within 28 days")] == ["tgc:CT"]
    assert vocab.find_mentions("clinical stage cT2N0") == []
    assert vocab.find_mentions("eGFR >= 60 mL/min") == []
    assert [m.concept.curie for m in vocab.find_mentions("EGFR mutation")] == ["tgc:EGFR"]
    assert vocab.find_mentions("no pet animals at home") == []
    assert vocab.find_mentions("Alk Phos <= 2.5 x ULN") == []


def test_longest_match_wins(vocab: Vocabulary) -> None:
    found = [
        (m.text, m.concept.curie)
        for m in vocab.find_mentions("metastatic castration-resistant prostate cancer (mCRPC)")
    ]
    assert found == [
        (
            "metastatic castration-resistant prostate cancer",
            "tgc:MetastaticCastrationResistantProstateCancer",
        ),
        ("mCRPC", "tgc:MetastaticCastrationResistantProstateCancer"),
    ]
    assert [m.concept.curie for m in vocab.find_mentions("[68Ga]-PSMA-PET/CT")] == ["tgc:PSMAPET"]
    assert [
        m.concept.curie for m in vocab.find_mentions("previously treated with anti-PD-1/PD-L1 therapy")
    ] == ["tgc:PD1PDL1Inhibitor"]


def test_mentions_in_a_seed_criterion(vocab: Vocabulary) -> None:
    text = (
        "Patients with oligoprogression after first-line standard systemic therapy "
        "(bevacizumab combined with atezolizumab/sintilimab or lenvatinib with or without PD-1 antibody)."
    )
    found = [m.concept.curie for m in vocab.find_mentions(text)]
    assert found == [
        "tgc:Oligoprogression",
        "tgc:SystemicTherapy",
        "tgc:bevacizumab",
        "tgc:atezolizumab",
        "tgc:sintilimab",
        "tgc:lenvatinib",
        "tgc:PD1Inhibitor",
    ]


def test_radioligand_notation(vocab: Vocabulary) -> None:
    text = "treated with [177Lu]Lu-PSMA-617 (Pluvicto) or another [177Lu]Lu-PSMA"
    found = [(m.text, m.concept.curie) for m in vocab.find_mentions(text)]
    assert found == [
        ("[177Lu]Lu-PSMA-617", "tgc:lutetium-177-vipivotide-tetraxetan"),
        ("Pluvicto", "tgc:lutetium-177-vipivotide-tetraxetan"),
        ("[177Lu]Lu-PSMA", "tgc:PSMARadioligand"),
    ]


def test_ambiguous_labels_are_lookup_only(vocab: Vocabulary) -> None:
    assert vocab.lookup("MDT") is not None
    assert vocab.find_mentions("discussed at the MDT meeting") == []
    assert vocab.find_mentions("history of UC") == []


# ------------------------------------------------------------------------------------------------------
# DrugBank fallback


def test_drugbank_only_drug(vocab: Vocabulary, drugbank: dict[str, list[str]]) -> None:
    metformin = vocab.lookup("metformin")
    assert metformin is not None
    assert (metformin.iri, metformin.kind, metformin.source) == (drugbank_iri("DB00331"), "agent", "drugbank")
    assert metformin.label == "Metformin"
    assert vocab.get("tgc:drugbank/DB00331") == metformin
    assert vocab.ancestors(metformin) == {TG + "DrugAgent", TG + "Therapy"}
    assert not vocab.is_a(metformin, "systemic therapy")
    assert vocab.xrefs(metformin) == {"drugbank": ("DB00331",)}
    assert [m.concept for m in vocab.find_mentions("on metformin for diabetes")] == [metformin]


def test_curated_agents_win_over_drugbank(vocab: Vocabulary, drugbank: dict[str, list[str]]) -> None:
    # "Ametinib" and "NIVO" are DrugBank synonyms only (of DB16640 and DB09035).
    assert "Ametinib" in drugbank["DB16640"] and "NIVO" in drugbank["DB09035"]
    assert vocab.lookup("Ametinib").curie == "tgc:aumolertinib"  # type: ignore[union-attr]
    assert vocab.lookup("NIVO").curie == "tgc:nivolumab"  # type: ignore[union-attr]
    assert vocab.lookup("Nivolumab").source == "curated"  # type: ignore[union-attr]
    assert vocab.get(drugbank_iri("DB09035")) is None


def test_a_curated_name_denotes_the_same_concept_without_drugbank(vocab: Vocabulary) -> None:
    # Query parameters are resolved in the curated concepts alone when they hold the name (DrugBank
    # takes 1 s to load): that is right only while no DrugBank name replaces a curated one.
    curated = Vocabulary.curated()
    assert not curated.has_drugbank
    names = {name for concept in curated.concepts() for name in curated.names(concept)}
    assert len(names) > 1000
    assert [n for n in sorted(names) if vocab.named(n) != curated.named(n)] == []
    assert curated.named("Ametinib") is None and vocab.named("Ametinib") == TGC + "aumolertinib"
    assert curated.named("metformin") is None and vocab.named("metformin") == drugbank_iri("DB00331")
    # a name as it is: the rule for a trailing parenthesis is lookup's
    assert vocab.named("Radiotherapy (SBRT)") is None and vocab.lookup("Radiotherapy (SBRT)") is not None


def test_drugbank_noise_is_kept_out_of_free_text(vocab: Vocabulary, drugbank: dict[str, list[str]]) -> None:
    # Short synonyms and lab analytes resolve by lookup but are not mentions.
    assert "ASA" in drugbank["DB00945"]
    assert vocab.lookup("ASA").iri == drugbank_iri("DB00945")  # type: ignore[union-attr]
    assert vocab.find_mentions("ASA 100 mg daily") == []
    assert vocab.lookup("calcium") is not None
    text = "serum creatinine, calcium, glucose and hemoglobin; alanine aminotransferase; no alcohol"
    assert vocab.find_mentions(text) == []


def test_vocabulary_without_drugbank(
    tmp_path: Path, caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv(DRUGBANK_CSV_ENV, raising=False)
    with caplog.at_level("INFO", logger="trialgraph.vocabulary"):
        vocab = Vocabulary(drugbank_csv=tmp_path / "absent.csv")
    assert not vocab.has_drugbank
    assert "DrugBank vocabulary not found" in caplog.text
    assert vocab.lookup("metformin") is None
    assert vocab.lookup("Keytruda").curie == "tgc:pembrolizumab"  # type: ignore[union-attr]
    assert [m.concept.curie for m in vocab.find_mentions("metformin or SBRT")] == ["tgc:SBRT"]


def test_drugbank_path_from_the_environment(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    csv_path = tmp_path / "mini.csv"
    csv_path.write_text(
        "DrugBank ID,Accession Numbers,Common name,CAS,UNII,Synonyms,Standard InChI Key\n"
        "DB00331,,Metformin,,,Metformin | Glucophage,\n",
        encoding="utf-8",
    )
    monkeypatch.setenv(DRUGBANK_CSV_ENV, str(csv_path))
    vocab = Vocabulary()
    assert vocab.drugbank_csv == csv_path
    assert vocab.lookup("Glucophage").iri == drugbank_iri("DB00331")  # type: ignore[union-attr]


def test_missing_ontology_directory(tmp_path: Path) -> None:
    with pytest.raises(NotFoundError):
        Vocabulary(tmp_path, use_drugbank=False)


# ------------------------------------------------------------------------------------------------------
# Scales


def test_performance_status_crosswalk(vocab: Vocabulary) -> None:
    expected = {0: (90, 100), 1: (70, 80), 2: (50, 60), 3: (30, 40), 4: (10, 20)}
    for grade, kps in expected.items():
        assert vocab.karnofsky_range(grade) == kps
        assert vocab.karnofsky_range(grade, "tgc:WHOPerformanceStatus") == kps
        assert vocab.ecog_for_karnofsky(kps[0]) == grade and vocab.ecog_for_karnofsky(kps[1]) == grade
    assert vocab.ecog_for_karnofsky(85) == 1
    with pytest.raises(ValueError):
        vocab.ecog_for_karnofsky(110)
    with pytest.raises(NotFoundError):
        vocab.karnofsky_range(2, "tgc:RECIST11")


# ------------------------------------------------------------------------------------------------------
# OWL reasoning with HermiT


@pytest.fixture(scope="module")
def reasoned(tmp_path_factory: pytest.TempPathFactory, graph: rdflib.Graph) -> tuple[object, float]:
    """The vocabulary classified by HermiT through owlready2 (N-Triples written by rdflib)."""
    if shutil.which("java") is None:
        pytest.skip("Java is needed to run HermiT")
    owlready2 = pytest.importorskip("owlready2")
    path = tmp_path_factory.mktemp("owl") / "vocabulary.nt"
    graph.serialize(path, format="nt", encoding="utf-8")
    world = owlready2.World()
    world.get_ontology(path.as_uri()).load()
    start = time.perf_counter()
    owlready2.sync_reasoner_hermit(world, infer_property_values=False, debug=0)
    return world, time.perf_counter() - start


@pytest.mark.slow
def test_hermit_finds_the_ontology_consistent(reasoned: tuple[object, float]) -> None:
    world, seconds = reasoned
    print(f"HermiT classified the vocabulary in {seconds:.1f} s")
    assert list(world.inconsistent_classes()) == []  # type: ignore[attr-defined]


@pytest.mark.slow
def test_hermit_infers_the_class_of_the_demonstration_agent(
    reasoned: tuple[object, float], graph: rdflib.Graph
) -> None:
    world, _ = reasoned
    zimberelimab = world[TGC + "zimberelimab"]  # type: ignore[index]
    assert (TGCNS.zimberelimab, RDF.type, TGCNS.PD1Inhibitor) not in graph
    assert world[TGC + "PD1Inhibitor"] in zimberelimab.is_a  # type: ignore[index]
    inferred = {c.iri for cls in zimberelimab.is_a for c in cls.ancestors()}
    assert {TGC + "ImmuneCheckpointInhibitor", TGC + "Immunotherapy", TGC + "SystemicTherapy"} <= inferred


@pytest.mark.slow
def test_hermit_and_the_vocabulary_agree_on_every_agent(
    reasoned: tuple[object, float], graph: rdflib.Graph, vocab: Vocabulary
) -> None:
    world, _ = reasoned
    for agent in agents(graph):
        individual = world[str(agent)]  # type: ignore[index]
        hermit = {c.iri for cls in individual.is_a for c in cls.ancestors() if c.iri.startswith((TG, TGC))}
        assert hermit == vocab.ancestors(str(agent)), agent


@pytest.mark.slow
def test_every_subsumption_hermit_infers_is_asserted(
    reasoned: tuple[object, float], graph: rdflib.Graph, vocab: Vocabulary
) -> None:
    """The asserted hierarchy is complete, so SPARQL over rdfs:subClassOf* needs no reasoner."""
    world, _ = reasoned
    for cls in set(graph.subjects(RDF.type, OWL.Class)):
        if isinstance(cls, rdflib.URIRef) and str(cls).startswith(TGC):
            hermit = {c.iri for c in world[str(cls)].ancestors() if c.iri.startswith((TG, TGC))} - {str(cls)}  # type: ignore[index]
            assert hermit == vocab.ancestors(str(cls)), cls


# ------------------------------------------------------------------------------------------------------
# Throughput


def criteria_items(path: Path, limit: int) -> list[str]:
    """Single criteria (the bulleted items) from the eligibility blocks of a criteria CSV."""
    csv.field_size_limit(1 << 30)
    items: list[str] = []
    with path.open(encoding="utf-8", newline="") as handle:
        for row in csv.DictReader(handle):
            for item in re.split(r"\n\s*-\s+", row["criteria"]):
                item = " ".join(item.split())
                if item and not item.endswith("Criteria:"):
                    items.append(item)
                    if len(items) == limit:
                        return items
    return items


@pytest.mark.slow
def test_find_mentions_throughput(vocab: Vocabulary, shared_data: Path) -> None:
    texts = criteria_items(shared_data / "criteria_text" / "phase_II_valid.csv", 2000)
    assert len(texts) == 2000
    start = time.perf_counter()
    mentions = [vocab.find_mentions(text) for text in texts]
    seconds = time.perf_counter() - start
    found = sum(map(len, mentions))
    rate = len(texts) / seconds
    print(
        f"find_mentions: {len(texts)} criteria, {found} mentions in {seconds:.3f} s ({rate:,.0f} criteria/s)"
    )
    assert found > 1000
    for text, ms in zip(texts, mentions, strict=True):
        for m in ms:
            assert text[m.start : m.end] == m.text
