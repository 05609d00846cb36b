"""Disease, disease-state, metastatic-site and histology constraints read from one eligibility criterion.

Concepts are found with the vocabulary (:meth:`~trialgraph.vocabulary.Vocabulary.find_mentions`) after
short parenthesised abbreviations are blanked out, so "central nervous system (CNS) metastases" reads as
one name. Each mention becomes one constraint, by the concept it names:

* a disease (hepatocellular carcinoma, mCRPC, ...) or a disease state of extent, course or castration
  status (oligoprogression, oligometastatic, de novo metastatic, high volume, castration resistance,
  measurable disease, ...) gives a :class:`~trialgraph.model.DiseaseStateConstraint` with a sense;
  oligoprogression, oligometastatic disease, polyprogression, polymetastatic disease and metastatic
  disease take the lesion and organ counts the criterion states ("1-5 progressive lesions involving 1-3
  organs", "more than 3 progressive lesions" -> ``min_lesions=4``);
* a metastatic site (brain, CNS, leptomeningeal, liver, lung, bone, visceral, nodal, spinal cord
  compression) gives a :class:`~trialgraph.model.MetastasisSiteConstraint` with a stance: ``excluded``,
  ``excluded_unless_treated_or_stable`` ("untreated or symptomatic", "unless treated and stable"),
  ``required`` or ``allowed`` ("... are eligible", "with or without");
* a histology (adenocarcinoma, squamous cell carcinoma, neuroendocrine, a carcinoma) gives a
  :class:`~trialgraph.model.HistologyConstraint`; a disease named with its histology ("adenocarcinoma of
  the prostate") gives both the disease and the histology.

The sense is the criterion's (inclusion requires, exclusion excludes), flipped by a negation cue before
the mention ("no", "without", "absence of", "no evidence of", also across a short "or" list: "no small
cell or neuroendocrine component") or set by "... are not eligible" after it. Mentions that state no
requirement are skipped: those inside a definition ("defined as ...", "definition of ...: ..."), the
target of a therapy ("treatment for NPC", "radiotherapy to the oligoprogressive lesion"), a condition
("in the presence of liver metastases", "patients without bone metastasis must ..."), a permission for a
disease ("... may be included"), diseases of an "other malignancy" criterion (the malignancy family owns
them) and alternatives of a requirement ("locally advanced or metastatic", "A, B or C"), which one
constraint each cannot express.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from itertools import pairwise
from typing import Final

from trialgraph.extract.common import find_mentions, is_negated, stated_as_excluded
from trialgraph.model import (
    Constraint,
    Criterion,
    DiseaseStateConstraint,
    HistologyConstraint,
    MetastasisSiteConstraint,
    Sense,
    Trial,
)
from trialgraph.namespaces import TGC
from trialgraph.vocabulary import Vocabulary

__all__ = ["STANCES", "extract", "trial_tags"]

STANCES: Final = ("excluded", "excluded_unless_treated_or_stable", "required", "allowed")
"""The stances a :class:`~trialgraph.model.MetastasisSiteConstraint` takes on its site."""

# --- concept roles ---------------------------------------------------------------------------------

_SITES: Final = frozenset(
    TGC + name
    for name in (
        "CNSMetastases",
        "BrainMetastases",
        "LeptomeningealMetastases",
        "SpinalCordCompression",
        "BoneMetastases",
        "VisceralMetastases",
        "LiverMetastases",
        "LungMetastases",
        "LymphNodeMetastases",
    )
)
_HISTOLOGIES: Final = frozenset(
    TGC + name
    for name in (
        "Carcinoma",
        "Adenocarcinoma",
        "SquamousCellCarcinoma",
        "NeuroendocrineNeoplasm",
        "NeuroendocrineCarcinoma",
        "UrothelialCarcinoma",
    )
)
_COUNTED: Final = frozenset(
    TGC + name
    for name in ("Oligoprogression", "OligometastaticDisease", "Polyprogression", "PolymetastaticDisease")
)
_METASTATIC = TGC + "MetastaticDisease"
_CNS: Final = frozenset({TGC + "CNSMetastases", TGC + "BrainMetastases"})
_CARCINOMA = TGC + "Carcinoma"
_STATES: Final = frozenset(
    {
        *_COUNTED,
        _METASTATIC,
        *(
            TGC + name
            for name in (
                "NonMetastaticDisease",
                "LocallyAdvancedDisease",
                "DeNovoMetastaticDisease",
                "MetachronousMetastaticDisease",
                "HighVolumeDisease",
                "LowVolumeDisease",
                "HighRiskMetastaticDisease",
                "MeasurableDisease",
                "CastrationResistance",
                "CastrationSensitivity",
                "UnresectableDisease",
                "MicrosatelliteInstabilityHigh",
                "MismatchRepairDeficiency",
                "RecurrentDisease",
                "LocalRecurrence",
                "BiochemicalRecurrence",
            )
        ),
    }
)
"""Disease states that are requirements of their own; progression is not read, since criteria name it
mostly inside time windows ("progression within 3 months") and definitions."""
_NOT_A_DISEASE_CONSTRAINT: Final = frozenset({TGC + "Cancer"})
""""Malignancy" and "cancer" belong to the other-malignancy family."""
_TAG_STATES: Final = frozenset(
    TGC + name
    for name in (
        "Oligoprogression",
        "OligometastaticDisease",
        "MetastaticDisease",
        "NonMetastaticDisease",
        "LocallyAdvancedDisease",
        "DeNovoMetastaticDisease",
        "MetachronousMetastaticDisease",
        "HighVolumeDisease",
        "LowVolumeDisease",
        "HighRiskMetastaticDisease",
        "CastrationResistance",
        "CastrationSensitivity",
        "MicrosatelliteInstabilityHigh",
        "MismatchRepairDeficiency",
    )
)

# Site words coordinated with a following site mention: "brain and liver metastases".
_SITE_WORDS: Final[dict[str, str]] = {
    "brain": TGC + "BrainMetastases",
    "cerebral": TGC + "BrainMetastases",
    "intracranial": TGC + "BrainMetastases",
    "cns": TGC + "CNSMetastases",
    "leptomeningeal": TGC + "LeptomeningealMetastases",
    "liver": TGC + "LiverMetastases",
    "hepatic": TGC + "LiverMetastases",
    "lung": TGC + "LungMetastases",
    "pulmonary": TGC + "LungMetastases",
    "bone": TGC + "BoneMetastases",
    "osseous": TGC + "BoneMetastases",
    "visceral": TGC + "VisceralMetastases",
    "nodal": TGC + "LymphNodeMetastases",
}
_COORDINATED_SITE_RE = re.compile(
    r"\b(brain|cerebral|intracranial|cns|leptomeningeal|liver|hepatic|lung|pulmonary|bone|osseous|visceral"
    r"|nodal)\s*+(?:,\s*+)?(?:and/or|or|and|,|/)\s*+$",
    re.IGNORECASE,
)

# Histology phrases the vocabulary has no name for.
_HISTOLOGY_PHRASE_RE = re.compile(
    r"\b(?P<kind>neuroendocrine|urothelial)\s++(?:component|features?|differentiation|histology|morphology"
    r"|elements?)\b",
    re.IGNORECASE,
)
_QUANTIFIED_AFTER_RE = re.compile(r"\s*+(?:of\s++)?(?:[≤<>≥=]|\d|less\b|more\b|up\s++to\b)", re.IGNORECASE)

# "(CNS)", "(HCC)", "(mHSPC)": a short abbreviation in parentheses, blanked so names around it join.
_ABBREVIATION_RE = re.compile(r"\s*+\((?=[^()\s]{0,11}[A-Z])[A-Za-z0-9-]{2,12}\)")

# --- context cues ----------------------------------------------------------------------------------

_WINDOW = 90
_SENTENCE_REACH = 600
_CLAUSE_END_RE = re.compile(r"[;:.!?()\[\]\n]")
_SENTENCE_END_RE = re.compile(r"[;\n]|[.!?](?=\s|$)")
_DEFINITION_RE = re.compile(
    r"\bdefin(?:ed|ition)\b|\bi\.\s?e\.|\bconsists?\s++of\b|\bcriteria\s*+:",
    re.IGNORECASE,
)
_THERAPY_TARGET_RE = re.compile(
    r"\b(?:treat(?:ed|ment|ments)?|therap(?:y|ies)|chemotherapy|radiotherapy|radiation|irradiation|surgery"
    r"|resection|sbrt|sabr|srs|initiated|started|given|received|administered|regimens?|lines?|indicated"
    r"|approved|directed|eligible|candidates?|agents?|drugs?|inhibitors?|medications?|lrt|tace|ablation)\s++(?:[\w-]++\s++){0,3}?(?:for(?!\s++(?:their|his|her)\b)|of|to|against|on)\s++"
    r"[^;.()]{0,60}$",
    re.IGNORECASE,
)
_CONDITION_RE = re.compile(
    r"\b(?:in\s++(?:the\s++)?(?:presence|case|setting|absence)\s++of|in\s++(?:patients|subjects|participants"
    r"|those|cases|men|women)|for\s++(?:patients|subjects|participants|those)|if|when|whereas|unless|except|provided"
    r"|excluding|due\s++to|secondary\s++to|because\s++of|attributable\s++to|related\s++to|caused\s++by"
    r"|ULN|upper\s++limit|x\s*+normal)\b[^;.()]{0,60}$",
    re.IGNORECASE,
)
_SUBJECT_RE = re.compile(
    r"\b(?:patients?|subjects?|participants?|those|men|women|people|persons?)\s++(?:with|without|who|having)\b",
    re.IGNORECASE,
)
_MODAL_RE = re.compile(
    r"\b(?:must|should|shall|needs?\s++to|are\s++required|is\s++required|have\s++to|has\s++to)\b",
    re.IGNORECASE,
)
_PERMISSION = (
    r"\b(?:(?:are|is|will\s++be|may\s++be|can\s++be|be)\s++(?:also\s++)?(?:eligible|allowed"
    r"|permitted|included|enrolled|acceptable)|may\s++(?:participate|enrol|enroll))\b"
)
_PERMITTED_AFTER_RE = re.compile(r"[^;.]{0,80}?" + _PERMISSION, re.IGNORECASE)
_PERMISSION_RE = re.compile(_PERMISSION, re.IGNORECASE)
_WITH_OR_WITHOUT_RE = re.compile(r"\bwith\s++or\s++without\s++(?:[\w-]++\s++){0,2}$", re.IGNORECASE)
_OTHER_MALIGNANCY_RE = re.compile(
    r"\b(?:other|another|second|secondary|prior|previous|additional|concurrent|concomitant|synchronous"
    r"|history\s++of)\s++(?:[\w-]++\s++){0,3}?(?:malignan|cancers?\b|tumou?rs?\b|neoplas|primary)",
    re.IGNORECASE,
)
_PLAIN_WORD = r"(?!(?:and|with|but|then|exceeding|than)\b)[\w/-]++"
_NON_BEFORE_RE = re.compile(r"\bnon[\s-]?$", re.IGNORECASE)
_LIST_NEGATION_RE = re.compile(
    r"\b(?:no|not|without|absence\s++of|free\s++of|negative\s++for|nor)\s++(?:" + _PLAIN_WORD + r"\s++){0,3}?"
    r"(?:"
    + _PLAIN_WORD
    + r"\s*+(?:,|\bor\b|\bnor\b|\band/or\b)\s*+){1,4}(?:"
    + _PLAIN_WORD
    + r"\s++){0,3}?$",
    re.IGNORECASE,
)
_ALTERNATIVE_BETWEEN_RE = re.compile(r"\s*+(?:,\s*+)?(?:(?:or|and/or|/|,)\s*+)(?:an?\s++)?$", re.IGNORECASE)
_OR_BEFORE_RE = re.compile(r"\b(?:or|and/or)\s++$", re.IGNORECASE)
_OR_WORD_BEFORE_RE = re.compile(
    r"\b(?:or|and/or)\s++(?!(?:or|and|confirmed|diagnosed|proven|documented)\b)[\w/-]++\s++$", re.IGNORECASE
)
_OR_AFTER_RE = re.compile(r"\s*+(?:,\s*+)?(?:or|and/or)\b", re.IGNORECASE)
_STATE_OR_AFTER_RE = re.compile(r"\s++[\w-]++(?:,\s*+|\s++)(?:or|and/or)\b", re.IGNORECASE)
_SITE_ADJECTIVE_BEFORE_RE = re.compile(
    r"\b(?:spinal|vertebral|bone|brain|liver|hepatic|lung|pulmonary|nodal|node|osseous|skeletal|peritoneal"
    r"|pleural|adrenal|cns|intracranial|leptomeningeal|meningeal|soft[\s-]tissue|skin|cutaneous|midbrain|brainstem"
    r"|negative)\s++$",
    re.IGNORECASE,
)
_METASTATIC_TO_RE = re.compile(
    r"\bmetastatic\s++to\s++(?:the\s++)?(?P<site>brain|cns|central\s++nervous\s++system|liver|lungs?|bones?)\b",
    re.IGNORECASE,
)
_METASTATIC_TO_SITES: Final[dict[str, str]] = {
    "brain": TGC + "BrainMetastases",
    "cns": TGC + "CNSMetastases",
    "central": TGC + "CNSMetastases",
    "liver": TGC + "LiverMetastases",
    "lung": TGC + "LungMetastases",
    "bone": TGC + "BoneMetastases",
}
_CARVED_OUT_RE = re.compile(
    r"\b(?:curative(?:ly)?|cured|adequately\s++treated|effectively\s++treated|in\s++situ|disease[\s-]free)\b",
    re.IGNORECASE,
)
_NEUTRAL_BEFORE_RE = re.compile(
    r"(?:^|[;:,.(\[]\s*+|\b(?:known|history\s++of|of|with|active|diagnosed|diagnosis|confirmed|documented"
    r"|prior|previous|current|concurrent|concomitant|any|a|an|the|have|has|had|patients?|subjects?"
    r"|participants?|suspected|presence|evidence|untreated|symptomatic|no)\s++)$",
    re.IGNORECASE,
)
_CARCINOMA_NEUTRAL_BEFORE_RE = re.compile(
    r"(?:^|[;:,.(\[]\s*+|\b(?:confirmed|proven|documented|diagnosed|diagnosis|of|with|a|an|any|the|invasive"
    r"|advanced|metastatic|recurrent|primary|or|and)\s++)$",
    re.IGNORECASE,
)
_MODIFIED_BY_WITH_RE = re.compile(
    r"\s++(?:with|associated\s++with|complicated\s++by|causing|accompanied\s++by)\s++(?!or\b|and\b)"
    r"(?P<what>[\w-]++)",
    re.IGNORECASE,
)
_SYMPTOM_WORDS = ("symptom", "neurologic", "progress", "edema", "oedema", "steroid")

# Stance qualifiers of a metastatic site.
_UNTREATED_BEFORE_RE = re.compile(
    r"\b(?:untreated|symptomatic|active|unstable|progressive|progressing|uncontrolled|unresected"
    r"|non-irradiated|growing|new|clinically\s++significant|not\s++(?:previously\s++)?treated"
    r"|untreated\s*+/\s*+symptomatic)\b",
    re.IGNORECASE,
)
_UNLESS_AFTER_RE = re.compile(
    r"[^;.]{0,30}?\b(?:unless|except|provided|if)\b[^;.]{0,80}?\b(?:treated|stable|asymptomatic|controlled)\b",
    re.IGNORECASE,
)
_UNTREATED_AFTER_RE = re.compile(
    r"[^;.,]{0,80}?\b(?:(?:that|which|who)\s++(?:are|is|have|has)\s++(?:not|untreated|symptomatic|progress"
    r"|active|unstable)|requir(?:e|es|ing)\b|unless|except|untreated|symptomatic|not\s++(?:yet\s++)?"
    r"(?:been\s++)?(?:treated|stable|controlled)|(?:are|is)\s++(?:eligible|allowed|permitted)\s++(?:if|provided"
    r"|when)|provided|if\s++(?:they|it|these)|stable\s++for|treated\s++and\s++stable|previously\s++treated"
    r"|adequately\s++treated|asymptomatic|progression|active)",
    re.IGNORECASE,
)
_CARVE_OUT_REACH = 600
"""How far after a site a carve-out ("patients with treated brain metastases are eligible") is looked for."""
_PROVIDED_RE = re.compile(r"\b(?:provided|only\s++if|if|as\s++long\s++as)\b", re.IGNORECASE)
_TREATED_RE = re.compile(
    r"\b(?:treated|stable|asymptomatic|controlled|irradiated|resected|no\s++evidence\s++of\s++progression"
    r"|off\s++steroids|without\s++(?:symptoms|progression))\b",
    re.IGNORECASE,
)

# --- lesion and organ counts -----------------------------------------------------------------------

_WORD_NUMBERS: Final[dict[str, int]] = {
    "one": 1,
    "two": 2,
    "three": 3,
    "four": 4,
    "five": 5,
    "six": 6,
    "seven": 7,
    "eight": 8,
    "nine": 9,
    "ten": 10,
}
_NUM = r"(?:\d{1,3}(?![\d.,]\d)|one|two|three|four|five|six|seven|eight|nine|ten)"
_COUNT_RE = re.compile(
    r"(?<![\w.])(?:(?P<op>≤|≥|=<|<=|>=|=>|<\s*+or\s*+=|>\s*+or\s*+=|<|>|\\<|\\>|up\s++to|no\s++more\s++than"
    r"|not\s++more\s++than|not\s++exceeding|(?:a\s++)?maximum\s++of|max\.?|at\s++most|fewer\s++than"
    r"|less\s++than|more\s++than|greater\s++than|at\s++least|(?:a\s++)?minimum\s++of|between)\s*+)?"
    r"(?P<n1>" + _NUM + r")(?:\s*+(?:-|–|to|and)\s*+(?P<n2>" + _NUM + r"))?"
    r"(?:\s++or\s++(?P<post>fewer|less|more|greater))?"
    r"(?:\s++(?!and\b|or\b)[\w/-]++){0,3}?\s++"
    r"(?:(?P<organ>organs?(?:\s*+/\s*+systems?)?|organ\s++(?:systems?|sites?)|(?:metastatic\s++)?sites\b"
    r"|sites\s++of\s++metasta)|(?P<lesion>lesions?|metasta(?:ses|sis|tic\s++lesions?)|foci|deposits|nodules"
    r"|tumou?rs))\b",
    re.IGNORECASE,
)
_COUNT_BEFORE = 40
"""How far before a mention a count may start ("1-3 oligometastatic lesions")."""


@dataclass(frozen=True)
class _Hit:
    """A concept named in the criterion: its span and IRI."""

    start: int
    end: int
    iri: str


@dataclass
class _Counts:
    """Lesion and organ counts read after a mention, and where the last one ends."""

    min_lesions: int | None = None
    max_lesions: int | None = None
    min_organs: int | None = None
    max_organs: int | None = None
    end: int = 0


def _number(token: str) -> int:
    return _WORD_NUMBERS.get(token.lower()) or int(token)


def _read_count(m: re.Match[str]) -> tuple[int | None, int | None] | None:
    """The (min, max) a count phrase states, or None when it states nothing usable."""
    n1 = _number(m["n1"])
    op = re.sub(r"\s+", " ", (m["op"] or "").lower()).replace("\\", "")
    if m["n2"] is not None:
        n2 = _number(m["n2"])
        return (n1, n2) if n1 <= n2 else None
    post = (m["post"] or "").lower()
    if post in ("fewer", "less"):
        return None, n1
    if post in ("more", "greater"):
        return n1, None
    if op in ("≤", "=<", "<=", "< or =", "<or=", "up to", "no more than", "not more than", "not exceeding"):
        return None, n1
    if op.endswith("maximum of") or op in ("max", "max.", "at most"):
        return None, n1
    if op in ("<", "fewer than", "less than"):
        return (None, n1 - 1) if n1 > 0 else None
    if op in ("≥", ">=", "=>", "> or =", ">or=", "at least") or op.endswith("minimum of"):
        return n1, None
    if op in (">", "more than", "greater than"):
        return n1 + 1, None
    if op == "between":
        return None
    return n1, n1


def _counts(text: str, start: int, stop: int) -> _Counts:
    """The first lesion count and the first organ count in ``text[start:stop]``."""
    found = _Counts()
    lesions = organs = False
    for m in _COUNT_RE.finditer(text, start, stop):
        read = _read_count(m)
        if read is None:
            continue
        if m["lesion"] and not lesions:
            found.min_lesions, found.max_lesions = read
            lesions = True
        elif m["organ"] and not organs:
            found.min_organs, found.max_organs = read
            organs = True
        else:
            continue
        found.end = m.end()
        if lesions and organs:
            break
    return found


# --- helpers ---------------------------------------------------------------------------------------


def _mask_abbreviations(text: str) -> str:
    """``text`` with short parenthesised abbreviations (and the space before them) blanked out."""
    return _ABBREVIATION_RE.sub(lambda m: " " * len(m.group()), text)


def _clause_start(text: str, pos: int) -> int:
    """Where the clause holding ``pos`` begins (at most :data:`_WINDOW` characters back)."""
    lo = max(0, pos - _WINDOW)
    cut = lo
    for m in _CLAUSE_END_RE.finditer(text, lo, pos):
        cut = m.end()
    return cut


def _sentence_bounds(text: str, pos: int) -> tuple[int, int]:
    """The sentence (up to ``;``, a full stop or a line break) that holds ``pos``."""
    start = max(0, pos - _SENTENCE_REACH)
    for m in _SENTENCE_END_RE.finditer(text, start, pos):
        start = m.end()
    end_match = _SENTENCE_END_RE.search(text, pos, pos + _SENTENCE_REACH)
    return start, end_match.start() if end_match else min(len(text), pos + _SENTENCE_REACH)


def _negated(text: str, start: int) -> bool:
    """A negation cue before ``start``, also across a short list ("no small cell or neuroendocrine")."""
    if is_negated(text, start):
        return True
    return _LIST_NEGATION_RE.search(text, _clause_start(text, start), start) is not None


def _sense(criterion: Criterion, start: int, end: int, negated: bool) -> Sense:
    exclude = criterion.kind == "exclusion" or stated_as_excluded(criterion.text, end)
    return "exclude" if exclude != negated else "require"


def _find_hits(text: str, vocab: Vocabulary) -> list[_Hit]:
    """The disease, state, site and histology concepts named in ``text``, left to right."""
    masked = _mask_abbreviations(text)
    hits: list[_Hit] = []
    for mention in find_mentions(vocab, masked):
        concept = mention.concept
        iri = concept.iri
        if concept.kind == "disease" and iri not in _NOT_A_DISEASE_CONSTRAINT:
            # "metastatic" + "hormone-sensitive prostate cancer" is mHSPC when the vocabulary says so.
            prev = hits[-1] if hits else None
            if (
                prev is not None
                and masked[prev.start : prev.end].lower().endswith("metastatic")
                and not masked[prev.end : mention.start].strip()
            ):
                joined = vocab.lookup("metastatic " + mention.text)
                if joined is not None and joined.kind == "disease":
                    if prev.iri == _METASTATIC:
                        hits.pop()
                        hits.append(_Hit(prev.start, mention.end, joined.iri))
                    else:
                        start = mention.start - len("metastatic ")
                        hits.append(_Hit(max(start, prev.start), mention.end, joined.iri))
                    continue
            hits.append(_Hit(mention.start, mention.end, iri))
        elif concept.kind == "state" and (iri in _STATES or iri in _SITES):
            if iri in _SITES:
                coordinated = _COORDINATED_SITE_RE.search(masked, max(0, mention.start - 40), mention.start)
                if coordinated is not None:
                    other = _SITE_WORDS[coordinated.group(1).lower()]
                    if other != iri:
                        hits.append(_Hit(coordinated.start(1), coordinated.end(1), other))
            hits.append(_Hit(mention.start, mention.end, iri))
    for m in _METASTATIC_TO_RE.finditer(masked):
        word = m["site"].lower()
        site = _METASTATIC_TO_SITES[word[:-1] if word in ("lungs", "bones") else word]
        hits = [h for h in hits if not (h.iri == _METASTATIC and m.start() <= h.start < m.end())]
        hits.append(_Hit(m.start(), m.end(), site))
    for m in _HISTOLOGY_PHRASE_RE.finditer(masked):
        if not _QUANTIFIED_AFTER_RE.match(masked, m.end()):
            kind = (
                "NeuroendocrineNeoplasm" if m["kind"].lower() == "neuroendocrine" else "UrothelialCarcinoma"
            )
            hits.append(_Hit(m.start(), m.end(), TGC + kind))
    hits.sort(key=lambda h: (h.start, -h.end))
    return hits


def _histology_of(iri: str, mention: str) -> str | None:
    """The histology a disease mention names with it ("adenocarcinoma of the prostate")."""
    words = mention.lower()
    for histology, word in (
        (TGC + "Adenocarcinoma", "adenocarcinoma"),
        (TGC + "SquamousCellCarcinoma", "squamous"),
        (TGC + "NeuroendocrineNeoplasm", "neuroendocrine"),
    ):
        if word in words and iri != histology:
            return histology
    return None


def _site_stance(text: str, hit: _Hit, exclude: bool, permitted: bool, clause: int, sites: list[_Hit]) -> str:
    """The stance on a metastatic site, from the sense and the qualifiers around it.

    A qualifier before the site ("untreated", "active") counts when no other site stands between them.
    """
    qualifier_end = -1
    for qualifier in _UNTREATED_BEFORE_RE.finditer(text, max(clause, hit.start - 60), hit.start):
        qualifier_end = qualifier.end()
    before = qualifier_end >= 0 and not any(qualifier_end <= s.start < hit.start for s in sites)
    after_match = _UNTREATED_AFTER_RE.match(text, hit.end)
    after_text = after_match.group().lower() if after_match is not None else None
    sentence_start, sentence_end = _sentence_bounds(text, hit.start)
    rest = text[hit.end : hit.end + _CARVE_OUT_REACH]
    treated_later = _TREATED_RE.search(rest) is not None
    if permitted:
        treated_here = _TREATED_RE.search(text, sentence_start, sentence_end) is not None
        treated_here = treated_here or _PROVIDED_RE.search(text, hit.end, sentence_end) is not None
        return "excluded_unless_treated_or_stable" if treated_here else "allowed"
    if exclude:
        if before or (after_text is not None and (treated_later or "requir" in after_text)):
            return "excluded_unless_treated_or_stable"
        if _UNLESS_AFTER_RE.match(text, hit.end):
            return "excluded_unless_treated_or_stable"
        permission = _PERMISSION_RE.search(rest)
        if permission is not None and treated_later:
            # A later "patients with treated ... are eligible" carves out this site only when it names
            # no other site (or names this one).
            lo, hi = _sentence_bounds(text, hit.end + permission.end() - 1)
            named = {s.iri for s in sites if lo <= s.start < hi and s.start > hit.start}
            if not named or hit.iri in named or (named & _CNS and hit.iri in _CNS):
                return "excluded_unless_treated_or_stable"
        return "excluded"
    return "required"


# --- extraction ------------------------------------------------------------------------------------


def extract(criterion: Criterion) -> list[Constraint]:
    """Disease-state, metastatic-site and histology constraints of one criterion, in text order."""
    text = criterion.text
    vocab = Vocabulary.default()
    hits = _find_hits(text, vocab)
    if not hits:
        return []
    definition = _DEFINITION_RE.search(text)
    definition_at = definition.start() if definition else len(text)
    other_malignancy = _OTHER_MALIGNANCY_RE.search(text) is not None
    carved_out = criterion.kind == "exclusion" and _CARVED_OUT_RE.search(text) is not None

    kept: list[tuple[_Hit, str, Sense, bool]] = []  # hit, role, sense, permitted
    for hit in hits:
        role = _role(hit.iri)
        clause = _clause_start(text, hit.start)
        before = text[clause : hit.start]
        if hit.start > definition_at:
            continue
        if role in ("disease", "histology") and (other_malignancy or carved_out):
            continue
        if hit.iri == _METASTATIC and _SITE_ADJECTIVE_BEFORE_RE.search(
            text, max(0, hit.start - 20), hit.start
        ):
            continue  # "spinal metastases": a site the vocabulary does not name
        if _THERAPY_TARGET_RE.search(before) or _NON_BEFORE_RE.search(text, max(0, hit.start - 4), hit.start):
            continue
        if role == "histology" and hit.iri == _CARCINOMA and not _CARCINOMA_NEUTRAL_BEFORE_RE.search(before):
            continue  # "signet-ring cell carcinoma", "non-keratinizing carcinoma": not in the vocabulary
        sentence_start, sentence_end = _sentence_bounds(text, hit.start)
        subject = _SUBJECT_RE.search(text, sentence_start, hit.start)
        conditional = _CONDITION_RE.search(before) is not None or (
            subject is not None and _MODAL_RE.search(text, subject.end(), sentence_end) is not None
        )
        permitted = (
            _PERMITTED_AFTER_RE.match(text, hit.end) is not None
            or _WITH_OR_WITHOUT_RE.search(before) is not None
        )
        negated = _negated(text, hit.start) and not _WITH_OR_WITHOUT_RE.search(before)
        sense = _sense(criterion, hit.start, hit.end, negated)
        if role == "site":
            if conditional:
                if subject is None or not _TREATED_RE.search(text, hit.end, sentence_end):
                    continue
                sense, permitted = "exclude", True
            modified = _MODIFIED_BY_WITH_RE.match(text, hit.end)
            if sense == "exclude" and not permitted and modified is not None:
                what = modified["what"].lower()
                if not what.startswith(_SYMPTOM_WORDS) and _role_at(hits, modified.start("what")) is None:
                    continue  # "brain metastasis with hemorrhage": only a qualified form is excluded
        else:
            if conditional or permitted:
                continue
            # "Oligometastatic mHSPC", "Bilateral RCC": the exclusion is about the qualifier.
            qualified = not _NEUTRAL_BEFORE_RE.search(text, max(0, hit.start - 30), hit.start)
            if sense == "exclude" and role == "disease" and criterion.kind == "exclusion" and qualified:
                continue
        kept.append((hit, role, sense, permitted))

    kept = _drop_alternatives(_mask_abbreviations(text), kept)
    return _build(criterion, kept, vocab)


def _role(iri: str) -> str:
    if iri in _SITES:
        return "site"
    if iri in _HISTOLOGIES:
        return "histology"
    if iri in _STATES:
        return "state"
    return "disease"


def _role_at(hits: Iterable[_Hit], pos: int) -> str | None:
    for hit in hits:
        if hit.start <= pos < hit.end:
            return _role(hit.iri)
    return None


def _drop_alternatives(
    text: str, kept: list[tuple[_Hit, str, Sense, bool]]
) -> list[tuple[_Hit, str, Sense, bool]]:
    """Required diseases and states that are alternatives of each other ("A, B or C") are dropped."""
    alternative: set[int] = set()
    candidates = [
        i
        for i, (hit, role, sense, _) in enumerate(kept)
        if sense == "require" and role in ("disease", "state", "histology")
    ]
    for a, b in pairwise(candidates):
        first, second = kept[a][0], kept[b][0]
        between = text[first.end : second.start]
        if first.end <= second.start and _ALTERNATIVE_BETWEEN_RE.fullmatch(between):
            alternative.update((a, b))
    for i in candidates:
        hit, role = kept[i][0], kept[i][1]
        if _OR_BEFORE_RE.search(text, max(0, hit.start - 10), hit.start) or _OR_AFTER_RE.match(text, hit.end):
            alternative.add(i)
        elif role == "histology" and _OR_WORD_BEFORE_RE.search(text, max(0, hit.start - 60), hit.start):
            alternative.add(i)  # "or gallbladder adenocarcinoma": one of several named diseases
        elif role == "state" and _STATE_OR_AFTER_RE.match(text, hit.end):
            alternative.add(i)
    return [k for i, k in enumerate(kept) if i not in alternative]


def _build(
    criterion: Criterion, kept: list[tuple[_Hit, str, Sense, bool]], vocab: Vocabulary
) -> list[Constraint]:
    text = criterion.text
    found: list[Constraint] = []
    seen: dict[tuple[str, str], Constraint] = {}
    counted = [hit.start for hit, _, _, _ in kept if hit.iri in _COUNTED]
    sites = [hit for hit, role, _, _ in kept if role == "site"]
    for hit, role, sense, permitted in kept:
        key = (role, hit.iri)
        if role == "site":
            previous = seen.get(key)
            if isinstance(previous, MetastasisSiteConstraint) and previous.stance != "excluded":
                continue
            clause = _clause_start(text, hit.start)
            stance = _site_stance(text, hit, sense == "exclude", permitted, clause, sites)
            if isinstance(previous, MetastasisSiteConstraint):
                if previous.stance == "excluded" and stance == "excluded_unless_treated_or_stable":
                    previous.stance = stance
                continue
            constraint: Constraint = MetastasisSiteConstraint(
                criterion_kind=criterion.kind,
                criterion_ordinal=criterion.ordinal,
                start=hit.start,
                end=hit.end,
                text=text[hit.start : hit.end],
                site=hit.iri,
                stance=stance,
            )
        elif role == "histology":
            if key in seen:
                continue
            constraint = _histology(criterion, hit.start, hit.end, hit.iri, sense)
        else:
            if key in seen:
                continue
            end = hit.end
            counts = _Counts()
            if hit.iri in _COUNTED:
                later = [s for s in counted if s > hit.start]
                stop = later[0] if later else len(text)
                counts = _counts(text, max(0, hit.start - _COUNT_BEFORE), stop)
            elif hit.iri == _METASTATIC:
                # Counts of metastatic disease only where the count names it: "≥ 3 metastatic lesions".
                for m in _COUNT_RE.finditer(
                    text, max(0, hit.start - _COUNT_BEFORE), min(len(text), hit.end + 40)
                ):
                    if m.start() <= hit.start and m.end() >= hit.end:
                        counts = _counts(text, m.start(), m.end())
                        break
            start = hit.start
            if counts.end:
                end = max(end, counts.end)
            constraint = DiseaseStateConstraint(
                criterion_kind=criterion.kind,
                criterion_ordinal=criterion.ordinal,
                start=start,
                end=end,
                text=text[start:end],
                concept=hit.iri,
                sense=sense,
                min_lesions=counts.min_lesions,
                max_lesions=counts.max_lesions,
                min_organs=counts.min_organs,
                max_organs=counts.max_organs,
            )
            histology = _histology_of(hit.iri, text[hit.start : hit.end])
            if histology is not None and ("histology", histology) not in seen:
                seen[("histology", histology)] = _histology(criterion, hit.start, hit.end, histology, sense)
                found.append(seen[("histology", histology)])
        seen[key] = constraint
        found.append(constraint)
    found.sort(key=lambda c: c.start)
    return found


def _histology(criterion: Criterion, start: int, end: int, iri: str, sense: Sense) -> HistologyConstraint:
    return HistologyConstraint(
        criterion_kind=criterion.kind,
        criterion_ordinal=criterion.ordinal,
        start=start,
        end=end,
        text=criterion.text[start:end],
        histology=iri,
        sense=sense,
    )


# --- trial tags ------------------------------------------------------------------------------------


def _is_tag(iri: str) -> bool:
    return iri in _TAG_STATES or (
        _role(iri) == "disease" and iri not in _NOT_A_DISEASE_CONSTRAINT and iri not in _HISTOLOGIES
    )


def trial_tags(trial: Trial, extracted: Mapping[int, list[Constraint]] | None = None) -> list[str]:
    """Trial-level concept IRIs (diseases, oligoprogression, ...) from conditions, titles and inclusions.

    Conditions, keywords and titles are read for every disease and for the states of :data:`_TAG_STATES`
    that are not negated; inclusion criteria contribute the diseases and states they require. Exclusion
    criteria are never read. The IRIs are sorted. ``extracted``: what :func:`extract` already gave
    for criteria, by ``id(criterion)``, so that they are not read twice.
    """
    vocab = Vocabulary.default()
    tags: set[str] = set()
    names = [
        *(c.name for c in trial.conditions),
        *trial.keywords,
        *(t for t in (trial.brief_title, trial.official_title) if t),
    ]
    for name in names:
        for hit in _find_hits(name, vocab):
            if _is_tag(hit.iri) and not _negated(name, hit.start):
                tags.add(hit.iri)
    for criterion in trial.criteria:
        if criterion.kind != "inclusion":
            continue
        known = extracted.get(id(criterion)) if extracted is not None else None
        for constraint in known if known is not None else extract(criterion):
            if (
                isinstance(constraint, DiseaseStateConstraint)
                and constraint.sense == "require"
                and _is_tag(constraint.concept)
            ):
                tags.add(constraint.concept)
    return sorted(tags)
