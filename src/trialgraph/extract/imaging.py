"""Imaging constraints read from one eligibility criterion: modalities and response criteria.

An :class:`~trialgraph.model.ImagingConstraint` names an imaging modality (PSMA PET, FDG PET, CT,
MRI, bone scan, ...) or a response criterion (RECIST 1.1, PCWG3, iRECIST, mRECIST, ...) that the
patient's disease must be assessed with or shown on. ``require`` means the patient's disease
must be documented on that modality or be measurable/evaluable/progressing per that criterion
("measurable disease per RECIST 1.1", "progression on PSMA PET", "bone scan and CT within 28
days"); ``exclude`` means disease shown on it rules the patient out (exclusion "FDG-avid disease
on FDG PET") or, after a negation, must not be shown on it (inclusion "no metastases on CT and
bone scan").

Mentions come from the concept vocabulary (:meth:`Vocabulary.find_mentions`, kinds ``imaging``
and ``response_criteria``); ``modality`` is the concept's full IRI. Rules, in order:

* **Alternatives.** Mentions joined by "or", "and/or" or "/" ("bone scan or CT or MRI", "CT/MRI")
  are one requirement met by any of them, so they give one constraint on their most specific
  common concept (``ConventionalImaging`` for bone scan, CT and MRI; ``PET`` for PSMA PET or FDG
  PET). Alternatives without a common concept ("RECIST 1.1 or PCWG3", "CT or PET") give nothing.
  Mentions joined by "and", "with" or a comma give one constraint each.
* **Not about assessing the disease.** A mention in a sentence about being able to undergo or
  tolerate imaging ("contraindication to MRI", "unable to undergo MRI", "allergy to contrast",
  "claustrophobia", "pacemaker") gives nothing. In particular an exclusion "unable to undergo MRI"
  is *not* read as a requirement of MRI: what it demands of the patient is the absence of a
  contraindication, which is not the same as disease assessed on MRI (a patient who has not yet
  been scanned would wrongly fail such a check); it is left to the not-computable remainder. A
  modality mentioned without any word of disease assessment nearby (disease, lesion, metastasis,
  progression, measurable, evaluable, documented, uptake, within N days, baseline, ...) gives
  nothing either ("clinical indication for a contrast-enhanced MRI").
* **Conditions and carve-outs.** A sentence that applies to a subgroup ("Patients without bone
  metastasis must have measurable lesions per RECIST 1.1", "If ...", "For patients with ...") or
  that grants a permission ("unless stable on MRI", "... may participate", "are eligible") gives
  nothing, and neither do enumerated alternative definitions ("(1) ... RECIST 1.1 ...; 5) ... on
  PET/CT").
* **Exclusions.** In an exclusion criterion imaging usually documents an excluded condition
  ("spinal cord compression on MRI", "brain metastases on MRI", "lung disease on CT", "distant
  metastases on CT"), which belongs to other families or is free text. So an exclusion gives an
  ``exclude`` constraint only for a finding that is itself an imaging property (measurable,
  evaluable, avid, positive, uptake: "measurable disease per RECIST", "FDG-avid disease on FDG
  PET") and a ``require`` one when the finding is negated ("Absence of a measurable lesion on CT",
  "Tumour not FDG-avid on PET/CT"). Nothing is read when the sentence names a particular site,
  complication or response ("brain", "cord", "effusion", "stable", "response", ...), when the
  mention is an example ("e.g. CT"), or when the finding is "negative" or "discordant".
* **Sense.** ``exclude`` when the criterion is an exclusion or the finding is negated ("no", "not",
  "without", "absence of", "free of" before the mention in its clause), but not both.
* **Redundancy.** A general modality is dropped when a more specific one of the same sense is
  also required ("conventional imaging with CT and bone scan" gives CT and bone scan).

Every pattern is linear and is applied to bounded windows around a mention.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Final

from trialgraph.extract.common import find_mentions
from trialgraph.model import Constraint, Criterion, ImagingConstraint, Sense
from trialgraph.namespaces import TGC
from trialgraph.vocabulary import Concept, Mention, Vocabulary

__all__ = ["extract"]

_KINDS: Final = frozenset({"imaging", "response_criteria"})
_WINDOW: Final = 300
"""How far (characters) a sentence is looked for on each side of a mention."""

# A connector between two mentions of one list, and the few words that may qualify the next one
# ("bone scan or abdominal/pelvic/chest computed tomography").
_CONNECTOR_RE = re.compile(
    r"(?:\s*+(?:v(?:ersion)?\s*+)?\d\.\d)?(?:\s++(?:scans?|imaging|studies|exams?|examinations?))?[\s,]*+(?P<op>and\s*+/\s*+or|or|and|/|,|plus|\+|with|&)[\s,]*+(?:(?:either|a|an|the)\s++)?"
    r"(?:[A-Za-z-]++(?:/[A-Za-z-]++){0,4}\s++){0,3}",
    re.IGNORECASE,
)
_RESPONSE_NAME_RE = re.compile(r"RECIST|PCWG|RANO|PERCIST|Lugano|PET\b|\bCT\b|MRI|scan", re.IGNORECASE)
_FIRST_TOKEN_RE = re.compile(r"\W*+\w++")
_SAME_NAME_RE = re.compile(r"[\s\w-]{0,20}?\(?")
_DISJUNCTIVE: Final = frozenset({"or", "/"})
_SENTENCE_END_RE = re.compile(r"[.;](?=\s|$)|\n")
_CLAUSE_BREAK_RE = re.compile(r"[;:.,()\[\]\n]|\b(?:but|which|who|that)\b", re.IGNORECASE)
_NEGATION_RE = re.compile(
    r"\b(?:no|not|without|never|absence\s++of|free\s++of|lack\s++of|negative\s++for)\b", re.IGNORECASE
)
_ABILITY_RE = re.compile(
    r"contra-?\s*+indicat|\bunable\b|\binability\b|\bcannot\b|\bcan\s*+not\b|\bcan'?t\b|\bnot\s++able\b"
    r"|\bable\s++to\b|\bunwilling|\bintoleran|\ballerg|\bhypersensitiv|claustrophob|pacemaker|\bimplant"
    r"|\bnot\s++(?:required|mandatory|necessary|needed)|\boptional|\bmetal|\bundergo|\btolerate|\bcontrast\s++(?:agent|media|medium|dye)|\bGBCA\b|\bindication\s++for\b",
    re.IGNORECASE,
)
_ASSESSMENT_RE = re.compile(
    r"\b(?:disease|lesions?|metasta\w*|tumou?rs?|progress\w*|measurab\w*|evaluab\w*|avid\w*|positiv\w*"
    r"|negativ\w*|uptake|document\w*|confirm\w*|evidence|detect\w*|visib\w*|demonstrat\w*|show\w*"
    r"|recurren\w*|relaps\w*|respons\w*|stag\w*|extent|nod(?:es?|al)|SUV\w*|baseline|screening"
    r"|within\s++\d++\s++(?:days?|weeks?|months?))\b",
    re.IGNORECASE,
)
_CONDITIONAL_RE = re.compile(
    r"[\W\d]*+(?:(?:if|for|in|when|where|unless|in\s++case\s++of)\b"
    r"|(?:patients|participants|subjects|those|men|women)\s++(?:with|without|who)\b[^.;]{0,200}?"
    r"\b(?:must|should|need|needs|require|will\s++need)\b)",
    re.IGNORECASE,
)
_PERMISSION_RE = re.compile(
    r"\b(?:unless|except|provided|may\s++(?:participate|be\s++(?:enrolled|included|eligible))"
    r"|are\s++(?:eligible|allowed|permitted)|is\s++(?:eligible|allowed|permitted))\b",
    re.IGNORECASE,
)
_ENUMERATED_RE = re.compile(r"(?:^|[\s;:.,])\(?[1-9]\)")
_IMAGING_FINDING_RE = re.compile(r"\b(?:avid\w*|positiv\w*|uptake|measurab\w*|evaluab\w*)\b", re.IGNORECASE)
_EXAMPLE_BEFORE_RE = re.compile(r"\b(?:e\.?g\b|such\s++as|for\s++example|including)", re.IGNORECASE)
_SITE_SPECIFIC_RE = re.compile(
    r"\b(?:brain|cns|central\s++nervous|cerebr\w*|intracranial|spinal|cord|leptomening\w*|mening\w*"
    r"|fractur\w*|pneumonit\w*|interstitial|fibros\w*|thromb\w*|emboli\w*|effusion|h(?:a)?emorrh\w*"
    r"|bleed\w*|infarct\w*|stroke|cardiac|heart|vascular|vessels?|encasement|cavitation|cirrho\w*"
    r"|emission|ascites|varic\w*|bowel|obstruct\w*|respon\w*|stable)\b",
    re.IGNORECASE,
)
_DISCORDANT_RE = re.compile(r"\b(?:negativ\w*|discordan\w*|non-?avid)\b", re.IGNORECASE)


@dataclass(frozen=True)
class _Chain:
    """Mentions joined into one list: where it is, its concepts, and whether it offers alternatives."""

    start: int
    end: int
    concepts: tuple[Concept, ...]
    spans: tuple[tuple[int, int], ...]
    disjunctive: bool


def _chains(text: str, vocab: Vocabulary) -> list[_Chain]:
    """The imaging and response-criteria mentions of ``text``, grouped into lists."""
    mentions = []
    for m in find_mentions(vocab, text):
        if m.concept.kind in _KINDS:
            mentions.append(m)
        elif _RESPONSE_NAME_RE.search(m.text):
            # A longer name that contains one ("measurable disease per RECIST", "RECIST-measurable").
            first = _FIRST_TOKEN_RE.match(m.text)
            offset = m.start + (first.end() if first else 0)
            for inner in vocab.find_mentions(text[offset : m.end]):
                if inner.concept.kind in _KINDS:
                    begin = offset + inner.start
                    mentions.append(Mention(begin, begin + len(inner.text), inner.text, inner.concept))
    chains: list[_Chain] = []
    for m in mentions:
        if chains:
            last = chains[-1]
            if m.concept == last.concepts[-1] and _SAME_NAME_RE.fullmatch(text, last.end, m.start):
                # "Magnetic Resonance Imagining (MRI)": one mention found twice.
                chains[-1] = _Chain(last.start, m.end, last.concepts, last.spans, last.disjunctive)
                continue
            link = _CONNECTOR_RE.fullmatch(text, last.end, m.start) if m.start - last.end <= 60 else None
            if link is not None:
                op = re.sub(r"\s", "", link["op"].lower())
                disjunctive = last.disjunctive or op in _DISJUNCTIVE or op == "and/or"
                chains[-1] = _Chain(
                    last.start,
                    m.end,
                    (*last.concepts, m.concept),
                    (*last.spans, (m.start, m.end)),
                    disjunctive,
                )
                continue
        chains.append(_Chain(m.start, m.end, (m.concept,), ((m.start, m.end),), False))
    return chains


def _sentence(text: str, start: int, end: int) -> tuple[int, int]:
    """The bounds of the sentence (or ``;`` clause) around ``start:end``, at most a window wide."""
    lo = max(0, start - _WINDOW)
    begin = lo
    for m in _SENTENCE_END_RE.finditer(text, lo, start):
        begin = m.end()
    hi = min(len(text), end + _WINDOW)
    stop = _SENTENCE_END_RE.search(text, end, hi)
    return begin, stop.start() if stop else hi


def _negated(text: str, sentence_start: int, start: int) -> bool:
    """Whether a negation cue stands in the clause before ``start`` (within 60 characters)."""
    lo = max(sentence_start, start - 60)
    cut = lo
    for m in _CLAUSE_BREAK_RE.finditer(text, lo, start):
        cut = m.end()
    return _NEGATION_RE.search(text, cut, start) is not None


def _common_concept(concepts: tuple[Concept, ...], vocab: Vocabulary) -> str | None:
    """The most specific vocabulary concept every alternative is or belongs to, if any."""
    shared: set[str] | None = None
    for concept in concepts:
        family = {concept.iri} | vocab.ancestors(concept)
        shared = family if shared is None else shared & family
    candidates = [iri for iri in shared or () if iri.startswith(TGC)]
    if not candidates:
        return None
    return max(candidates, key=lambda iri: (len(vocab.ancestors(iri)), iri))


def _sense(criterion: Criterion, chain: _Chain, sentence: tuple[int, int]) -> Sense | None:
    """The sense of a list of mentions, or None when it is no statement about assessing the disease."""
    text = criterion.text
    begin, stop = sentence
    if _ABILITY_RE.search(text, begin, stop) or _CONDITIONAL_RE.match(text, begin, stop):
        return None
    if _PERMISSION_RE.search(text, begin, stop):
        return None
    if len(_ENUMERATED_RE.findall(text, max(0, begin - _WINDOW), min(len(text), stop + _WINDOW))) >= 2:
        return None
    if all(c.kind == "imaging" for c in chain.concepts) and not _ASSESSMENT_RE.search(text, begin, stop):
        return None
    exclusion = criterion.kind == "exclusion"
    negated = _negated(text, begin, chain.start)
    if exclusion:
        if _SITE_SPECIFIC_RE.search(text, begin, stop) or _EXAMPLE_BEFORE_RE.search(
            text, max(begin, chain.start - 40), chain.start
        ):
            return None
        if not negated and (
            not _IMAGING_FINDING_RE.search(text, begin, stop) or _DISCORDANT_RE.search(text, begin, stop)
        ):
            return None
    return "exclude" if exclusion != negated else "require"


def extract(criterion: Criterion) -> list[Constraint]:
    """Imaging constraints of one criterion ("measurable disease per RECIST 1.1" -> require RECIST 1.1)."""
    vocab = Vocabulary.default()
    text = criterion.text
    found: list[ImagingConstraint] = []
    for chain in _chains(text, vocab):
        sense = _sense(criterion, chain, _sentence(text, chain.start, chain.end))
        if sense is None:
            continue
        if chain.disjunctive:
            common = _common_concept(chain.concepts, vocab)
            targets = [] if common is None else [(common, chain.start, chain.end)]
        else:
            targets = [(c.iri, s, e) for c, (s, e) in zip(chain.concepts, chain.spans, strict=True)]
        for modality, start, end in targets:
            found.append(
                ImagingConstraint(
                    criterion_kind=criterion.kind,
                    criterion_ordinal=criterion.ordinal,
                    start=start,
                    end=end,
                    text=text[start:end],
                    modality=modality,
                    sense=sense,
                )
            )
    kept: list[Constraint] = []
    for c in found:
        if any(
            (c.modality, c.sense) == (k.modality, k.sense) for k in kept if isinstance(k, ImagingConstraint)
        ):
            continue
        more_specific = any(
            o.sense == c.sense and o.modality != c.modality and c.modality in vocab.ancestors(o.modality)
            for o in found
        )
        if not more_specific:
            kept.append(c)
    return kept
