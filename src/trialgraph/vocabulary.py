"""The concept vocabulary: name lookup, mention finding and class reasoning over ``ontology/concepts``.

The vocabulary is read once from the concept Turtle files (and the DrugBank open vocabulary when it is
available) and answers three questions: what concept a name denotes, where concepts are mentioned in a
text, and which classes a concept belongs to.

>>> vocab = Vocabulary.default()
>>> vocab.lookup("Keytruda").label
'pembrolizumab'
>>> vocab.lookup("pd-1 inhibitors").curie
'tgc:PD1Inhibitor'
>>> vocab.is_a("sintilimab", "PD-1 inhibitor"), vocab.is_a("atezolizumab", "PD-1 inhibitor")
(True, False)
>>> [(m.text, m.concept.curie) for m in vocab.find_mentions("prior anti-PD-L1 or anti-PD-1 antibody")]
[('anti-PD-L1', 'tgc:PDL1Inhibitor'), ('anti-PD-1 antibody', 'tgc:PD1Inhibitor')]

Names are compared after normalisation: case and accents are folded, punctuation other than parentheses
is ignored, and letters and digits are separate tokens, so "PD1", "PD-1" and "pd 1" are the same name
while "PD-L1" is not. Short all-capital abbreviations ("CT", "PET", "ADT") and "EGFR" (not "eGFR") are
matched in free text only with their exact capitalisation. Names marked ``tg:ambiguousLabel`` ("MDT",
"UC") and DrugBank names that are too short or are common words or lab analytes ("blood", "calcium",
"alanine") are found by :meth:`Vocabulary.lookup` but not by :meth:`Vocabulary.find_mentions`.

Class membership follows the asserted hierarchy plus the defined drug classes (an anticancer agent that
targets PDCD1 is a PD-1 inhibitor), which are applied here the same way an OWL reasoner would apply them.
In SPARQL the same membership test for an agent, a class or a procedure is
``?concept rdf:type?/rdfs:subClassOf* ?class``.
"""

from __future__ import annotations

import csv
import logging
import os
import re
import unicodedata
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Literal

import pyoxigraph as ox

from trialgraph.errors import NotFoundError
from trialgraph.namespaces import OWL, RDF, RDFS, SKOS, TG, TGC
from trialgraph.resources import ONTOLOGY_DIR, SHARED_DATA_DIR

__all__ = [
    "DEFAULT_DRUGBANK_CSV",
    "DRUGBANK_CSV_ENV",
    "DRUGBANK_NAMESPACE",
    "Concept",
    "ConceptKind",
    "Mention",
    "Vocabulary",
    "drugbank_iri",
    "normalize",
]

log = logging.getLogger(__name__)

ConceptKind = Literal[
    "agent", "class", "procedure", "disease", "state", "imaging", "scale", "response_criteria", "target"
]

DRUGBANK_CSV_ENV = "TRIALGRAPH_DRUGBANK_CSV"
"""Environment variable that overrides the location of the DrugBank open vocabulary CSV."""
DEFAULT_DRUGBANK_CSV = SHARED_DATA_DIR / "vocab" / "drugbank_open_vocabulary.csv"
"""``../shared/data/vocab/drugbank_open_vocabulary.csv`` relative to the repository root."""
DRUGBANK_NAMESPACE = TGC + "drugbank/"
"""Concepts known only from DrugBank are ``tgc:drugbank/DB00331`` (metformin)."""

_DRUG_AGENT = TG + "DrugAgent"
_THERAPY = TG + "Therapy"
_PROCEDURE = TG + "Procedure"
_TARGETS = TG + "targets"
_RDF_TYPE = RDF + "type"
_RDF_FIRST = RDF + "first"
_RDF_REST = RDF + "rest"
_RDF_NIL = RDF + "nil"
_OWL_CLASS = OWL + "Class"
_NAMED_INDIVIDUAL = OWL + "NamedIndividual"

_PREF_LABEL = SKOS + "prefLabel"
_FREE_TEXT_LABELS = (SKOS + "altLabel", TG + "brandName", TG + "codeName")
_AMBIGUOUS_LABEL = TG + "ambiguousLabel"
_XREFS = {
    "atc": TG + "atcCode",
    "drugbank": TG + "drugbankId",
    "ncit": TG + "ncitCode",
    "mesh": TG + "meshId",
    "hgnc": TG + "hgncSymbol",
}

# (top class, kind) in order of precedence: a therapeutic procedure is also a tg:Therapy.
_CLASS_KINDS: tuple[tuple[str, ConceptKind], ...] = (
    (_PROCEDURE, "procedure"),
    (_THERAPY, "class"),
    (TG + "DiseaseConcept", "disease"),
    (TG + "DiseaseState", "state"),
    (TG + "ImagingModality", "imaging"),
)
_INDIVIDUAL_KINDS: tuple[tuple[str, ConceptKind], ...] = (
    (_DRUG_AGENT, "agent"),
    (TG + "MolecularTarget", "target"),
    (TG + "ClinicalScore", "scale"),
    (TG + "ResponseCriteria", "response_criteria"),
)

# Letters, digits and parentheses are tokens; everything else separates them. Parentheses are kept so
# that "anti-PD-(L)1" (PD-1 or PD-L1) stays distinct from "anti-PD-L1". An apostrophe inside a word
# stays in it, so a possessive "'s" never becomes a token of its own.
_TOKEN_RE = re.compile(r"[^\W\d_]+(?:['’][^\W\d_]+)*|\d+|[()]")

_TRAILING_PARENTHESIS_RE = re.compile(r"^(.*\S)\s*\(([^()]+)\)\s*$", re.DOTALL)

# Abbreviations whose lower-case forms are other words ("pet", "net", "ct" in cT2) or other analytes
# ("eGFR") are matched in free text only as written.
_CASE_SENSITIVE_EXTRA = frozenset({"EGFR"})

# DrugBank names (normalised) that in eligibility text are nearly always lab analytes, body substances,
# foods or ordinary words rather than a drug given to the patient. Found by inspecting the most frequent
# DrugBank matches over the shared criteria corpora; kept for lookup, dropped from find_mentions.
# fmt: off
_FREE_TEXT_STOPLIST = frozenset(
    {
        "acetate", "acth", "adenine", "alanine", "albumin", "alcohol", "aldosterone", "alkaline phosphatase",
        "alpha glucosidase", "aluminum", "angiotensin", "angiotensin ii", "apple", "arginine", "balance",
        "banana", "beam", "blood", "boron", "broccoli", "c peptide", "calcitonin gene related peptide",
        "calcium", "calcium 2", "caps", "carbon", "carbon dioxide", "carbon monoxide", "cd 34 cells", "cera",
        "cgrp", "chicken", "chloride", "chlorine", "chocolate", "cholesterol", "chorionic gonadotrophin",
        "chorionic gonadotropin", "citrate", "copper", "cortisol", "creatine", "creatinine", "dapt", "date",
        "dhap", "dimension", "e coli", "edta", "eosin", "estradiol", "ethanol", "fish oil", "folate",
        "follicle stimulating hormone", "formaldehyde", "formalin", "free thyroxine", "fructose",
        "galactose", "garlic", "gelatin", "ginger", "glucose", "glucose 6 phosphate", "glutamic acid",
        "gnrh", "gold", "gonadotropin releasing hormone", "grapefruit", "growth hormone", "haemoglobin",
        "hbsag", "hematin", "hematoxylin", "hemoglobin", "hepatitis b antigen",
        "hepatitis b surface antigen", "herring", "histamine", "house dust", "human albumin",
        "human chorionic gonadotropin", "human epidermal growth factor", "hydrogen", "interleukin 2",
        "interleukin 6", "inulin", "iodine", "iron", "l alanine", "l tryptophan", "lactase", "lactate",
        "lactose", "lambda", "lemon", "luteinizing hormone", "magnesium", "milk", "milk protein", "monitor",
        "nitrate", "nitrates", "nitrite", "nitrogen", "nmda", "orange", "oxygen", "parathyroid hormone",
        "peanut", "pearl", "phosphate", "phosphorous", "phosphorus", "pik 3 ca", "pork", "potassium",
        "progesterone", "prothrombin", "pyruvate", "rabbit", "ribose", "rice", "s tyrosine", "salmon",
        "same", "serotonin", "serum albumin", "silver", "sodium", "sodium ion", "soybean", "sucrose",
        "sulfate", "sulphate", "testosterone", "thrombin", "thyroxine", "tobacco", "tryptophan", "tuna",
        "tyramine", "tyrosine", "urate", "urea", "uric acid", "water", "wheat", "whole blood", "xanthine",
        "yeast", "zinc",
    }
)
# fmt: on
_MIN_FREE_TEXT_CHARS = 4
"""DrugBank names of three letters and digits or fewer ("Ca", "5FU") are lookup-only."""
_MAX_FREE_TEXT_TOKENS = 8
"""Longer DrugBank names are systematic chemical names, which eligibility text does not use."""


_Term = ox.NamedNode | ox.BlankNode | ox.Literal
_Graph = dict[str, dict[str, list[_Term]]]
"""Parsed triples: subject (IRI or ``_:`` blank node id) -> predicate IRI -> objects."""


@dataclass(frozen=True)
class Concept:
    """A vocabulary concept: an agent, a drug class, a procedure, a disease, a state, a scale, ...

    ``classes`` are an agent's most specific classes (asserted or inferred from its targets); for
    other kinds it is empty. ``source`` is ``"drugbank"`` for a drug known only from DrugBank.
    """

    iri: str
    label: str
    kind: ConceptKind
    classes: tuple[str, ...] = ()
    source: Literal["curated", "drugbank"] = "curated"

    @property
    def curie(self) -> str:
        """The IRI shortened with the ``tgc:`` or ``tg:`` prefix where one applies."""
        return _curie(self.iri)


@dataclass(frozen=True)
class Mention:
    """A concept named in a text: ``text == source[start:end]``."""

    start: int
    end: int
    text: str
    concept: Concept


@dataclass
class _Node:
    """A node of the token trie: children by normalised token, and the entries that end here."""

    children: dict[str, _Node] = field(default_factory=dict)
    entries: list[tuple[str, tuple[str, ...] | None]] = field(default_factory=list)


def normalize(name: str) -> str:
    """The comparison key of a name: its normalised tokens joined by spaces.

    >>> normalize("Anti-PD-1 Antibodies")
    'anti pd 1 antibodies'
    >>> normalize("[177Lu]Lu-PSMA-617") == normalize("177Lu Lu PSMA 617")
    True
    """
    return " ".join(_norm_token(t) for t in _TOKEN_RE.findall(name))


def drugbank_iri(drugbank_id: str) -> str:
    """The IRI of a concept known only from DrugBank.

    >>> drugbank_iri("DB00331")
    'https://w3id.org/trialgraph/concept/drugbank/DB00331'
    """
    return DRUGBANK_NAMESPACE + drugbank_id


class Vocabulary:
    """Concept lookup, mention finding and class membership, built from the concept files.

    ``ontology_dir`` holds ``vocabulary.ttl`` and ``concepts/*.ttl``. ``drugbank_csv`` is the DrugBank
    open vocabulary; by default it is taken from the ``TRIALGRAPH_DRUGBANK_CSV`` environment variable or
    :data:`DEFAULT_DRUGBANK_CSV`, and when the file is absent the vocabulary holds the curated concepts
    only. ``use_drugbank=False`` skips it.
    """

    def __init__(
        self,
        ontology_dir: str | os.PathLike[str] = ONTOLOGY_DIR,
        drugbank_csv: str | os.PathLike[str] | None = None,
        *,
        use_drugbank: bool = True,
    ) -> None:
        self.ontology_dir = Path(ontology_dir)
        self._concepts: dict[str, Concept] = {}
        self._superclasses: dict[str, set[str]] = {}
        self._types: dict[str, set[str]] = {}
        self._targets: dict[str, set[str]] = {}
        self._names: dict[str, list[str]] = {}
        self._xrefs: dict[str, dict[str, tuple[str, ...]]] = {}
        self._grades: dict[str, dict[int, tuple[int, int]]] = {}
        self._grade_equivalents: dict[str, str] = {}
        self._keys: dict[str, str] = {}
        self._drugbank_keys: dict[str, str] = {}
        self._drugbank_labels: dict[str, str] = {}
        self._root = _Node()
        self._ancestor_cache: dict[str, frozenset[str]] = {}
        self._descendant_map: dict[str, frozenset[str]] | None = None
        self.drugbank_csv: Path | None = None

        self._load_curated(self._concept_files())
        if use_drugbank:
            path = Path(drugbank_csv or os.environ.get(DRUGBANK_CSV_ENV) or DEFAULT_DRUGBANK_CSV)
            if path.is_file():
                self._load_drugbank(path)
                self.drugbank_csv = path
            else:
                log.warning("DrugBank vocabulary not found at %s; using the curated concepts only", path)

    @classmethod
    def default(cls) -> Vocabulary:
        """The vocabulary of the repository's ontology directory, loaded once per process."""
        return _default_vocabulary()

    @classmethod
    def curated(cls) -> Vocabulary:
        """The curated concepts of the repository's ontology directory alone, loaded once per process.

        It loads in 0.04 s where DrugBank takes 1 s more; a name it holds denotes the same concept in
        :meth:`default`, since no DrugBank name replaces a curated one.
        """
        return _curated_vocabulary()

    # ----------------------------------------------------------------------------------------------
    # Queries

    def __len__(self) -> int:
        """The number of curated concepts (DrugBank-only drugs are not counted)."""
        return len(self._concepts)

    def __contains__(self, iri: object) -> bool:
        """Whether an IRI is a curated concept."""
        return iri in self._concepts

    @property
    def has_drugbank(self) -> bool:
        """Whether the DrugBank open vocabulary was loaded."""
        return self.drugbank_csv is not None

    def concepts(self, kind: ConceptKind | None = None) -> Iterator[Concept]:
        """The curated concepts, optionally of one kind, in IRI order."""
        for iri in sorted(self._concepts):
            concept = self._concepts[iri]
            if kind is None or concept.kind == kind:
                yield concept

    def get(self, iri: str) -> Concept | None:
        """The concept with this IRI (or ``tgc:`` CURIE), curated or DrugBank-only.

        >>> Vocabulary.default().get("tgc:SBRT").label
        'stereotactic body radiotherapy'
        """
        iri = _expand(iri)
        concept = self._concepts.get(iri)
        if concept is None and iri in self._drugbank_labels:
            return self._drugbank_concept(iri)
        return concept

    def lookup(self, name: str) -> Concept | None:
        """The concept a name denotes: a label, synonym, brand or code name, or a DrugBank name.

        Curated concepts win over DrugBank; plural forms of class names are accepted. A registry-style
        name with a trailing parenthesis, "Androgen Deprivation Therapy (ADT)" or "[177Lu]Lu-PSMA-617
        (Pluvicto, Novartis)", is looked up without it and by its first item; the more specific of the
        two wins when one is a kind of the other ("Radiotherapy (SBRT)" is SBRT).

        >>> vocab = Vocabulary.default()
        >>> vocab.lookup("MK-3475").label, vocab.lookup("SABR").curie, vocab.lookup("Xofigo").label
        ('pembrolizumab', 'tgc:SBRT', 'radium-223 dichloride')
        >>> vocab.lookup("Androgen Deprivation Therapy (ADT)").curie
        'tgc:AndrogenDeprivationTherapy'
        >>> vocab.lookup("no such drug") is None
        True
        """
        concept = self._lookup_key(normalize(name))
        if concept is None and (match := _TRAILING_PARENTHESIS_RE.match(name)):
            outside = self._lookup_key(normalize(match.group(1)))
            inside = self._lookup_key(normalize(match.group(2).split(",")[0]))
            if outside is not None and inside is not None and outside.iri in self._ancestors(inside.iri):
                return inside
            concept = outside or inside
        return concept

    def named(self, name: str) -> str | None:
        """The IRI of the concept ``name`` is a name of, as it is (no rule for a trailing parenthesis).

        >>> Vocabulary.curated().named("anti-PD-1 antibodies") == TGC + "PD1Inhibitor"
        True
        """
        concept = self._lookup_key(normalize(name))
        return None if concept is None else concept.iri

    def _lookup_key(self, key: str) -> Concept | None:
        if not key:
            return None
        iri = self._keys.get(key)
        if iri is not None:
            return self._concepts[iri]
        db_iri = self._drugbank_keys.get(key)
        return None if db_iri is None else self._drugbank_concept(db_iri)

    def find_mentions(self, text: str) -> list[Mention]:
        """Every concept named in ``text``, left to right, the longest name winning at each position.

        Names match whole tokens only, so "PD-1" is not found inside "PD-L1" nor "CT" inside "SBRT".

        >>> vocab = Vocabulary.default()
        >>> text = "SBRT to oligoprogressive lesions, then PSMA PET/CT"
        >>> [m.concept.curie for m in vocab.find_mentions(text)]
        ['tgc:SBRT', 'tgc:Oligoprogression', 'tgc:PSMAPET']
        >>> m = vocab.find_mentions("ECOG performance status 0-1")[0]
        >>> (m.start, m.end, m.concept.curie)
        (0, 23, 'tgc:ECOG')
        """
        spans: list[tuple[int, int]] = []
        raw: list[str] = []
        norms: list[str] = []
        for match in _TOKEN_RE.finditer(text):
            spans.append(match.span())
            token = match.group()
            raw.append(token)
            norms.append(_norm_token(token))
        root = self._root.children
        mentions: list[Mention] = []
        n = len(norms)
        i = 0
        while i < n:
            node = root.get(norms[i])
            if node is None:
                i += 1
                continue
            best: tuple[int, str] | None = None
            j = i
            while True:
                for iri, exact in node.entries:
                    if exact is None or tuple(raw[i : j + 1]) == exact:
                        best = (j, iri)
                        break
                j += 1
                if j >= n:
                    break
                child = node.children.get(norms[j])
                if child is None:
                    break
                node = child
            if best is None:
                i += 1
                continue
            last, iri = best
            start, end = spans[i][0], spans[last][1]
            # Isotope notation: keep the "[" of "[177Lu]Lu-PSMA-617" with its "]".
            if start and text[start - 1] == "[" and text.count("]", start, end) > text.count("[", start, end):
                start -= 1
            concept = self._concepts.get(iri) or self._drugbank_concept(iri)
            mentions.append(Mention(start, end, text[start:end], concept))
            i = last + 1
        return mentions

    def ancestors(self, concept: Concept | str) -> set[str]:
        """The IRIs of every class a concept belongs to (an agent) or is a subclass of (a class).

        >>> ancestors = Vocabulary.default().ancestors("nivolumab")
        >>> TGC + "ImmuneCheckpointInhibitor" in ancestors, TGC + "PDL1Inhibitor" in ancestors
        (True, False)
        """
        return set(self._ancestors(self._resolve(concept).iri))

    def descendants(self, concept: Concept | str) -> set[str]:
        """The IRIs of every curated concept that belongs to or is a subclass of a class (itself excluded).

        >>> descendants = Vocabulary.default().descendants("tgc:PD1PDL1Inhibitor")
        >>> TGC + "PD1Inhibitor" in descendants, TGC + "atezolizumab" in descendants
        (True, True)
        """
        return set(self._descendants().get(self._class_iri(concept), ()))

    def _descendants(self) -> dict[str, frozenset[str]]:
        if self._descendant_map is None:
            below: dict[str, set[str]] = {}
            for iri in self._concepts:
                for ancestor in self._ancestors(iri):
                    below.setdefault(ancestor, set()).add(iri)
            self._descendant_map = {iri: frozenset(members) for iri, members in below.items()}
        return self._descendant_map

    def is_a(self, concept: Concept | str, cls: Concept | str) -> bool:
        """Whether a concept is ``cls`` or belongs to it; either may be a Concept, an IRI, a CURIE or a name.

        >>> vocab = Vocabulary.default()
        >>> vocab.is_a("abiraterone", "ARSI"), vocab.is_a("SABR", "metastasis-directed therapy")
        (True, False)
        """
        target = self._class_iri(cls)
        iri = self._resolve(concept).iri
        return iri == target or target in self._ancestors(iri)

    def targets(self, concept: Concept | str) -> set[str]:
        """The IRIs of the molecular targets of an agent (empty for anything else)."""
        return set(self._targets.get(self._resolve(concept).iri, ()))

    def names(self, concept: Concept | str) -> list[str]:
        """Every name of a concept: preferred label first, then synonyms, brand, code and DrugBank names."""
        resolved = self._resolve(concept)
        return list(self._names.get(resolved.iri, [resolved.label]))

    def xrefs(self, concept: Concept | str) -> dict[str, tuple[str, ...]]:
        """Cross-references by scheme (``atc``, ``drugbank``, ``mesh``, ``ncit``, ``hgnc``)."""
        resolved = self._resolve(concept)
        if resolved.source == "drugbank":
            return {"drugbank": (resolved.iri.removeprefix(DRUGBANK_NAMESPACE),)}
        return dict(self._xrefs.get(resolved.iri, {}))

    def karnofsky_range(self, grade: int, scale: str = "tgc:ECOG") -> tuple[int, int]:
        """The Karnofsky scores that an ECOG (or WHO) grade corresponds to, from the cross-walk data.

        >>> Vocabulary.default().karnofsky_range(1)
        (70, 80)
        """
        grades = self._scale_grades(scale)
        if grade not in grades:
            raise NotFoundError(f"no grade {grade} on {scale}")
        return grades[grade]

    def ecog_for_karnofsky(self, score: int) -> int:
        """The ECOG grade a Karnofsky score corresponds to; a score between steps counts as the step below.

        >>> [Vocabulary.default().ecog_for_karnofsky(s) for s in (100, 80, 70, 60, 40, 20, 0)]
        [0, 1, 1, 2, 3, 4, 5]
        """
        if not 0 <= score <= 100:
            raise ValueError(f"Karnofsky score out of range: {score}")
        score = score // 10 * 10
        for grade, (low, high) in sorted(self._scale_grades("tgc:ECOG").items()):
            if low <= score <= high:
                return grade
        raise NotFoundError(f"no ECOG grade for Karnofsky {score}")

    # ----------------------------------------------------------------------------------------------
    # Loading the curated concept files

    def _concept_files(self) -> list[Path]:
        files = [
            self.ontology_dir / "vocabulary.ttl",
            *sorted((self.ontology_dir / "concepts").glob("*.ttl")),
        ]
        missing = [f for f in files if not f.is_file()]
        if missing or len(files) < 2:
            raise NotFoundError(f"concept vocabulary files not found under {self.ontology_dir}")
        return files

    def _load_curated(self, files: Iterable[Path]) -> None:
        graph: _Graph = {}
        for path in files:
            for quad in ox.parse(path=path, format=ox.RdfFormat.TURTLE, rename_blank_nodes=True):
                obj = quad.object
                if isinstance(obj, ox.Triple):
                    continue
                graph.setdefault(_key(quad.subject), {}).setdefault(quad.predicate.value, []).append(obj)

        def iris(subject: str, predicate: str) -> list[str]:
            return [o.value for o in graph.get(subject, {}).get(predicate, []) if isinstance(o, ox.NamedNode)]

        def texts(subject: str, predicate: str) -> list[str]:
            return [o.value for o in graph.get(subject, {}).get(predicate, []) if isinstance(o, ox.Literal)]

        classes = {s for s in graph if not s.startswith("_:") and _OWL_CLASS in iris(s, _RDF_TYPE)}
        for s in graph:
            if s.startswith("_:"):
                continue
            supers = set(iris(s, RDFS + "subClassOf"))
            if supers:
                self._superclasses[s] = supers
            types = {t for t in iris(s, _RDF_TYPE) if t in classes or t.startswith((TG, TGC))}
            if types and s not in classes:
                self._types[s] = types
            targets = set(iris(s, _TARGETS))
            if targets:
                self._targets[s] = targets

        definitions = self._target_definitions(graph, classes)
        self._classify_agents(definitions)

        for s in sorted(graph):
            pref = texts(s, _PREF_LABEL)
            if s.startswith("_:") or not pref:
                continue
            kind = self._kind(s, classes)
            if kind is None:
                log.warning("concept %s is under no known top class; skipped", s)
                continue
            classes_of = self._most_specific(self._types.get(s, set())) if kind == "agent" else ()
            self._concepts[s] = Concept(s, pref[0], kind, classes_of)
            free = pref + [t for p in _FREE_TEXT_LABELS for t in texts(s, p)]
            ambiguous = texts(s, _AMBIGUOUS_LABEL)
            self._names[s] = list(dict.fromkeys(free + ambiguous))
            refs = {scheme: tuple(texts(s, prop)) for scheme, prop in _XREFS.items() if texts(s, prop)}
            if refs:
                self._xrefs[s] = refs
            plurals = kind != "agent"
            for name in free:
                self._add_name(name, s, curated=True, free_text=True, plurals=plurals)
            for name in ambiguous:
                self._add_name(name, s, curated=True, free_text=False, plurals=plurals)
            for grade_node in graph.get(s, {}).get(TG + "hasGrade", []):
                node = graph.get(_key(grade_node), {})
                value = {
                    p: int(o.value) for p, objs in node.items() for o in objs if isinstance(o, ox.Literal)
                }
                grade = value[TG + "gradeValue"]
                self._grades.setdefault(s, {})[grade] = (
                    value[TG + "karnofskyMin"],
                    value[TG + "karnofskyMax"],
                )
            for other in iris(s, TG + "gradesEquivalentTo"):
                self._grade_equivalents[s] = other

    def _target_definitions(
        self, graph: _Graph, classes: set[str]
    ) -> list[tuple[str, frozenset[str], frozenset[str]]]:
        """Defined classes of the form ``C = P1 and ... and (targets value T | targets some {T1, T2})``."""

        def members(node: _Term) -> list[_Term]:
            out: list[_Term] = []
            while not (isinstance(node, ox.NamedNode) and node.value == _RDF_NIL):
                props = graph.get(_key(node), {})
                out.extend(props.get(_RDF_FIRST, []))
                rest = props.get(_RDF_REST)
                if not rest:
                    break
                node = rest[0]
            return out

        definitions = []
        for cls in sorted(classes):
            for equivalent in graph.get(cls, {}).get(OWL + "equivalentClass", []):
                props = graph.get(_key(equivalent), {})
                parents: set[str] = set()
                values: set[str] = set()
                intersection = props.get(OWL + "intersectionOf", [])
                for part in members(intersection[0]) if intersection else []:
                    if isinstance(part, ox.NamedNode):
                        parents.add(part.value)
                        continue
                    restriction = graph.get(_key(part), {})
                    if [p.value for p in restriction.get(OWL + "onProperty", [])] != [_TARGETS]:
                        continue
                    values.update(o.value for o in restriction.get(OWL + "hasValue", []))
                    for some in restriction.get(OWL + "someValuesFrom", []):
                        one_of = graph.get(_key(some), {}).get(OWL + "oneOf", [])
                        values.update(m.value for lst in one_of for m in members(lst))
                if parents and values:
                    definitions.append((cls, frozenset(parents), frozenset(values)))
        return definitions

    def _classify_agents(self, definitions: list[tuple[str, frozenset[str], frozenset[str]]]) -> None:
        """Add the defined classes each individual satisfies, repeating until nothing changes."""
        changed = True
        while changed:
            changed = False
            self._ancestor_cache.clear()
            for individual, targets in self._targets.items():
                types = self._types.setdefault(individual, set())
                for cls, parents, values in definitions:
                    if cls in types or not targets & values:
                        continue
                    if parents <= self._ancestors(individual):
                        types.add(cls)
                        changed = True
        self._ancestor_cache.clear()

    def _kind(self, iri: str, classes: set[str]) -> ConceptKind | None:
        table = _CLASS_KINDS if iri in classes else _INDIVIDUAL_KINDS
        ancestors = self._ancestors(iri)
        return next((kind for top, kind in table if top in ancestors), None)

    def _most_specific(self, types: set[str]) -> tuple[str, ...]:
        return tuple(sorted(t for t in types if not any(t in self._ancestors(o) for o in types if o != t)))

    def _ancestors(self, iri: str) -> frozenset[str]:
        cached = self._ancestor_cache.get(iri)
        if cached is not None:
            return cached
        if iri.startswith(DRUGBANK_NAMESPACE) and iri not in self._concepts:
            result = frozenset({_DRUG_AGENT, _THERAPY})
        else:
            seen: set[str] = set()
            stack = [*self._types.get(iri, ()), *self._superclasses.get(iri, ())]
            while stack:
                current = stack.pop()
                if current in seen or current in (OWL + "Thing", _NAMED_INDIVIDUAL):
                    continue
                seen.add(current)
                stack.extend(self._superclasses.get(current, ()))
            result = frozenset(seen)
        self._ancestor_cache[iri] = result
        return result

    # ----------------------------------------------------------------------------------------------
    # Loading DrugBank

    def _load_drugbank(self, path: Path) -> None:
        curated_by_id = {ref: iri for iri, refs in self._xrefs.items() for ref in refs.get("drugbank", ())}
        with path.open(encoding="utf-8", newline="") as handle:
            rows = [
                (row["DrugBank ID"], row["Common name"], [s.strip() for s in row["Synonyms"].split(" | ")])
                for row in csv.DictReader(handle)
            ]
        # Common names first, so a name shared by several entries denotes the entry it is the name of.
        for pass_synonyms in (False, True):
            for drugbank_id, common, synonyms in rows:
                curated = curated_by_id.get(drugbank_id)
                iri = curated or drugbank_iri(drugbank_id)
                if not pass_synonyms and curated is None:
                    self._drugbank_labels[iri] = common
                for name in synonyms if pass_synonyms else [common]:
                    if not name:
                        continue
                    if curated is not None:
                        if name not in self._names[curated]:
                            self._names[curated].append(name)
                        self._add_name(name, curated, curated=True, free_text=None)
                    else:
                        self._add_name(name, iri, curated=False, free_text=None)
        log.debug("loaded %d DrugBank entries from %s", len(rows), path)

    def _drugbank_concept(self, iri: str) -> Concept:
        label = self._drugbank_labels.get(iri, iri.removeprefix(DRUGBANK_NAMESPACE))
        return Concept(iri, label, "agent", (_DRUG_AGENT,), "drugbank")

    # ----------------------------------------------------------------------------------------------
    # The name index

    def _add_name(
        self, name: str, iri: str, *, curated: bool, free_text: bool | None, plurals: bool = False
    ) -> None:
        """Index a name; ``free_text=None`` applies the DrugBank rules for names usable in free text."""
        tokens = _TOKEN_RE.findall(name)
        if not tokens:
            return
        variants = [tokens]
        dehyphenated = _TOKEN_RE.findall(re.sub(r"(?<=[^\W\d_])-(?=[^\W\d_])", "", name))
        if dehyphenated != tokens:
            variants.append(dehyphenated)
        if plurals:
            variants.extend(p for p in (_plural(v) for v in list(variants)) if p is not None)
        exact = _is_case_sensitive(tokens)
        for variant in variants:
            norm = [_norm_token(t) for t in variant]
            key = " ".join(norm)
            if curated:
                if key in self._keys and self._keys[key] != iri:
                    log.debug("name %r of %s is already a name of %s", name, iri, self._keys[key])
                    continue
                self._keys[key] = iri
            else:
                if key in self._keys or key in self._drugbank_keys:
                    continue
                self._drugbank_keys[key] = iri
            usable = _usable_in_free_text(key, len(norm)) if free_text is None else free_text
            if usable:
                self._insert(norm, iri, tuple(variant) if exact else None)

    def _insert(self, norm: list[str], iri: str, exact: tuple[str, ...] | None) -> None:
        node = self._root
        for token in norm:
            node = node.children.setdefault(token, _Node())
        if all(existing != iri for existing, _ in node.entries):
            node.entries.append((iri, exact))

    # ----------------------------------------------------------------------------------------------
    # Resolving references

    def _resolve(self, ref: Concept | str) -> Concept:
        if isinstance(ref, Concept):
            return ref
        concept = self.get(ref) if _looks_like_iri(ref) else self.lookup(ref)
        if concept is None:
            raise NotFoundError(f"no concept named {ref!r} in the vocabulary")
        return concept

    def _class_iri(self, ref: Concept | str) -> str:
        if isinstance(ref, Concept):
            return ref.iri
        if _looks_like_iri(ref):
            return _expand(ref)
        return self._resolve(ref).iri

    def _scale_grades(self, scale: str) -> dict[int, tuple[int, int]]:
        iri = self._class_iri(scale)
        grades = self._grades.get(iri) or self._grades.get(self._grade_equivalents.get(iri, ""))
        if not grades:
            raise NotFoundError(f"no Karnofsky cross-walk for {scale}")
        return grades


@cache
def _default_vocabulary() -> Vocabulary:
    return Vocabulary()


@cache
def _curated_vocabulary() -> Vocabulary:
    return Vocabulary(use_drugbank=False)


def _key(term: _Term | ox.Triple) -> str:
    if isinstance(term, ox.BlankNode):
        return "_:" + term.value
    if isinstance(term, ox.NamedNode):
        return term.value
    return ""


def _norm_token(token: str) -> str:
    if not token.isascii():
        token = "".join(c for c in unicodedata.normalize("NFKD", token) if not unicodedata.combining(c))
        token = token.replace("’", "")
    return token.replace("'", "").casefold()


def _is_case_sensitive(tokens: list[str]) -> bool:
    """Short all-capital abbreviations ("CT", "PET", "ADT") must match as written."""
    if len(tokens) != 1:
        return False
    token = tokens[0]
    return token in _CASE_SENSITIVE_EXTRA or (token.isalpha() and token.isupper() and len(token) <= 3)


def _plural(tokens: list[str]) -> list[str] | None:
    last = tokens[-1]
    if not last.isalpha() or len(last) < 2 or last in ("(", ")"):
        return None
    lower = last.lower()
    if lower.endswith("sis"):
        plural = last[:-3] + ("SES" if last.isupper() else "ses")
    elif lower.endswith("y") and lower[-2:-1] not in ("a", "e", "o", "u"):
        plural = last[:-1] + "ies"
    elif lower.endswith(("s", "x", "ch", "sh")):
        return None
    else:
        plural = last + "s"
    return [*tokens[:-1], plural]


def _usable_in_free_text(key: str, n_tokens: int) -> bool:
    """Whether a DrugBank name (as a normalised key) is specific enough to look for in free text."""
    return (
        n_tokens <= _MAX_FREE_TEXT_TOKENS
        and len(key) - n_tokens + 1 >= _MIN_FREE_TEXT_CHARS
        and key not in _FREE_TEXT_STOPLIST
        and not key.replace(" ", "").isdigit()
    )


def _looks_like_iri(ref: str) -> bool:
    return ref.startswith(("http://", "https://", "tgc:", "tg:"))


def _expand(ref: str) -> str:
    if ref.startswith("tgc:"):
        return TGC + ref[4:]
    if ref.startswith("tg:"):
        return TG + ref[3:]
    return ref


def _curie(iri: str) -> str:
    if iri.startswith(TGC):
        return "tgc:" + iri[len(TGC) :]
    if iri.startswith(TG):
        return "tg:" + iri[len(TG) :]
    return iri
