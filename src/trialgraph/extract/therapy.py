"""Prior and current therapy read from one eligibility criterion.

**What is named.** Therapies are found with the concept vocabulary
(:meth:`~trialgraph.vocabulary.Vocabulary.find_mentions`): agents, drug classes and therapeutic
procedures, by their full concept IRI. A generic "prior therapy", "previous treatment", "first-line
treatment" or "line of therapy" that names no class is ``tgc:AnticancerTherapy``. Diagnostic
procedures (biopsy) are not therapies. "anti-PD-(L)1" and "PD-1/PD-L1 inhibitors" are the
vocabulary's union class ``tgc:PD1PDL1Inhibitor`` (PD-1 or PD-L1 inhibitor), never the PD-1 class.

**When a mention is therapy history.** A mention yields a constraint only when a cue in its clause
says the patient had or has it: "prior", "previous(ly)", "received", "treated with", "history of
treatment", "exposure to", "started", "progression on/after/despite", "refractory to", a washout
window ("within 4 weeks before"), "-naive", or, for current therapy, "currently", "ongoing",
"concurrent", "concomitant", "receiving", "on". Mentions governed by a hypersensitivity, allergy or
contraindication, by study-treatment wording ("suitable for", "eligible for", "will receive",
"planned", "intended for", "requiring", "the first dose of ..."), by a condition ("unless", "if",
"provided that", "in patients ...") or by an allowance ("... is allowed", "may have received") yield
nothing of their own.

**Sense.** An inclusion requires, an exclusion excludes; a negation earlier in the clause ("no",
"not", "never", "without", "-naive") flips it, and so does "... are excluded / not allowed" after
the mention (:func:`~trialgraph.extract.common.stated_as_excluded`), so "patients who have not
received X are excluded" requires X. A minimum gap in an inclusion ("at least 4 weeks since the
last dose of X", "X completed >= 2 weeks before") is a washout: it excludes X within that window.

**Lists and options.** In an exclusion every listed therapy is excluded on its own. A requirement
with alternatives ("after abiraterone or enzalutamide") is one constraint whose ``therapy`` is the
narrowest vocabulary class common to the options and whose ``permitted_therapies`` are the options;
"A and B", "A plus B" are two requirements. Examples and specifications written after a class
("systemic therapy (bevacizumab plus atezolizumab or lenvatinib)", "ARSI (including enzalutamide,
...)", "such as", "e.g.") are the options of a requirement; in an exclusion, examples the class
already covers are dropped and others are excluded too. "with or without X" and "whether or not
combined with X" make X optional: it is an option only inside a list of options.

**Carve-outs.** Therapies after "other than", "except (for)", "with the exception of",
"excluding", "apart from", "besides", "not including" or "but not", and therapies a criterion
allows ("(ADT is allowed)", "prior X is permitted") that the preceding exclusion's class covers,
become that exclusion's ``permitted_therapies``: exclusion "Prior systemic therapy other than ADT
and PD-1 inhibitors" excludes ``tgc:SystemicTherapy`` with ADT and PD-1 inhibitors permitted.
A criterion that only allows a therapy ("Prior PD-1 inhibitors are allowed") yields nothing: the
model has no stance "allowed" for therapy (a requirement would be wrong).

**Qualifiers.** ``within_days``: "within 4 weeks" is 28 days; weeks are 7 days, months 365/12 days
(6 months = 182.5, 3 months = 91.25), years 365 days, hours 1/24 day; a window measured from the
therapy to something else ("progression within 3 months after first-line therapy") is not a
washout: it is dropped from a requirement and, since dropping it would widen an exclusion, the
exclusion is not emitted. A current therapy with a window ("receiving steroids within 7 days
before") is read as prior use within the window. ``min_cycles``: "at least 4 cycles of", "4-6
cycles of" (the lower end). ``line``: the line of therapy the text names: "first-line" 1,
"second-line" 2, "at least two prior lines" 2, "one prior line" 1; a maximum number of lines or
regimens ("no more than 2 prior lines", "more than one prior regimen") cannot be represented and
the mention yields nothing. ``outcome``: ``progression`` (progressed on/after, refractory,
resistant, failure, relapse, despite), ``toxicity`` (intolerance, toxicity, adverse events) or
``response`` (response, CR/PR, "no evidence of progression"). Radiotherapy restricted to a site
("to the site of the lesion", "to the pelvis") cannot be represented and yields nothing.

**Spans.** A constraint's span runs from its governing cue (when it is in the same clause) to the
end of the therapy name, or of the window when that follows.

Every pattern here is linear: alternations of literals, bounded repetitions and no nested
unbounded quantifiers.
"""

from __future__ import annotations

import bisect
import itertools
import re
from dataclasses import dataclass, field, replace
from functools import lru_cache
from typing import Final

from trialgraph.extract.common import find_mentions, stated_as_excluded
from trialgraph.model import Constraint, Criterion, Sense, TherapyConstraint
from trialgraph.namespaces import TGC
from trialgraph.vocabulary import Concept, Mention, Vocabulary

__all__ = ["ANTICANCER_THERAPY", "DAYS_PER_UNIT", "extract"]

ANTICANCER_THERAPY: Final = TGC + "AnticancerTherapy"
"""The concept a generic "prior therapy" or "first-line treatment" denotes."""

DAYS_PER_UNIT: Final[dict[str, float]] = {
    "h": 1 / 24,
    "d": 1.0,
    "w": 7.0,
    "m": 365 / 12,
    "y": 365.0,
}
"""Days per window unit, keyed by the unit's first letter (hours, days, weeks, months, years)."""

_NO_CONCEPT: Final = Concept("", "", "agent")
_REACH: Final = 400
"""How far (characters) a clause reaches on either side of a therapy for its cues, windows and allowances."""
_NOT_THERAPY: Final = frozenset({TGC + "Biopsy"})
_RADIOTHERAPY: Final = TGC + "Radiotherapy"

_NUMBER_WORDS: Final[dict[str, int]] = {
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
    "twelve": 12,
    "a": 1,
    "an": 1,
    "single": 1,
}
_ORDINALS: Final[dict[str, int]] = {
    "first": 1,
    "1st": 1,
    "second": 2,
    "2nd": 2,
    "third": 3,
    "3rd": 3,
    "fourth": 4,
    "4th": 4,
}
_COUNT = r"(?:\d{1,3}|one|two|three|four|five|six|seven|eight|nine|ten|twelve|a|an|single)"

# --- clause structure ------------------------------------------------------------------------------

# A sentence ends at ";" or at "." followed by a space (not in "e.g. ", "i.e. ", "etc. ", "vs. ").
_SENTENCE_BREAK_RE = re.compile(
    r";|\n|(?:(?<=[,;:.]\s)|\A)(?-i:\(?(?:[a-h]|\d{1,2}|[ivx]{1,4})\))(?=\s)|(?<!\be\.g)(?<!\bi\.e)(?<!\betc)(?<!\bvs)(?<!\bapprox)\.(?=\s|$)|:(?=\s)",
    re.IGNORECASE,
)

# Generic therapy wording that names no vocabulary class.
_GENERIC_RE = re.compile(
    r"\b(?:(?:first|second|third|1st|2nd|3rd)[\s-]+line\s++(?:standard\s++|systemic\s++)?"
    r"|(?:prior|previous|any)\s++(?:other\s++)?(?:standard\s++)?|lines?\s++of\s++)"
    r"(?:treatments?|therap(?:y|ies)|regimens?)\b(?!\s*+(?:with|of|should|must|include|including|containing)\b)",
    re.IGNORECASE,
)

# Cues, scanned in the text between mentions; a later cue overrides an earlier one.
_CUE_RE = re.compile(
    r"(?P<anchor>\b(?:prior\s++to|before|until|after|from|of|at|since)\s++(?:the\s++)?(?:first|initial)\s++"
    r"(?:\w+\s++){0,2}?(?:doses?|administrations?|injections?|infusions?|cycles?|day|visit|fraction)\s++(?:of|with)\b"
    r"|\b(?:start|initiation|initiating|starting|beginning)\s++(?:of\s++)?(?:the\s++)?(?:study|trial|protocol)\b)"
    r"|(?P<break>;|\bbut\b|\bhowever\b)"
    r"|(?P<condition>\b(?:unless|if|requir(?:e|es|ing)|need(?:s|ing)?|considered|provided(?:\s++that)?|as\s++long\s++as|when|whereas|in\s++case"
    r"|only\s++if|(?:in|for)\s++(?:patients|participants|subjects|those))\b)"
    r"|(?P<block>\b(?:allerg(?:y|ies|ic)|hypersensitiv\w*|contraindicat\w*)\b)"
    r"|(?P<strong>\b(?:candidates?\s++for"
    r"|eligible\s++for|ineligible\s++for|suitable\s++for|amenable\s++to|fit\s++for|planned|scheduled"
    r"|will\s++(?:receive|undergo|be\s++(?:treated|given|receiving))|intend\w*|indicated\s++for"
    r"|indication\s++for|refus\w*|unable\s++to|unwilling|willing|able\s++to|study\s++(?:drugs?|treatment|medication|therapy|intervention)"
    r"|participat\w*|in\s++combination\s++with|to\s++be\s++(?:treated|given)|candidacy"
    r"|(?:known\s++)?intoleran(?:ce|t)\s++to\s++(?:any\s++)?(?:of\s++)?(?:the\s++)?(?:study|trial)"
    r"|rendering|making)\b)"
    r"|(?P<carve>\b(?:other\s++than|except(?:\s++for)?|with\s++the\s++exception\s++of|excluding"
    r"|apart\s++from|besides|not\s++including|but\s++not|save\s++for)\b)"
    r"|(?P<example>\b(?:e\.\s?g\.?|eg\b|i\.\s?e\.?|such\s++as|including|include|includes|for\s++example"
    r"|for\s++instance|like|namely|specifically)(?:\s*+,)?)"
    r"|(?P<optional>\b(?:with\s++or\s++without|whether\s++or\s++not(?:\s++combined\s++with)?"
    r"|and\s*+/?\s*+or\s++without|optionally|±|\+/-))"
    r"|(?P<maxcount>\b(?:no\s++more\s++than|not\s++more\s++than|more\s++than|up\s++to|at\s++most"
    r"|maximum\s++of|fewer\s++than|less\s++than|greater\s++than|≤|<=|<|>|\\>|\\<)\s*+(?:" + _COUNT + r")"
    r"\s++(?:prior\s++|previous\s++|systemic\s++)*(?:lines?|regimens?|courses?|treatments?|therap(?:y|ies)"
    r"|agents?)\b)"
    r"|(?P<negoutcome>\b(?:no|not|without|absence\s++of)\s++(?:\w+\s++){0,3}?(?:progression|progressed"
    r"|progressive)\b)"
    r"|(?P<neg>\b(?:no|not|never|without|none|nor|neither|cannot|n't)\b)"
    r"|(?P<current>\b(?:currently|current|concurrent(?:ly)?|concomitant(?:ly)?|ongoing|continu(?:e|es|ed|ing)"
    r"|receiving|taking|maintained\s++on|under\s++treatment|(?:is|are|be|while|remain)\s++on"
    r"|actively|still)\b)"
    r"|(?P<prior>\b(?:prior|priory|previous(?:ly)?|received|receive|had|has\s++had|underwent|undergone"
    r"|treated|treatment\s++with|therapy\s++with|exposure|exposed|history\s++of|pre-?treated|started"
    r"|initiated|administered|completed|discontinued|use\s++of|used|given|last\s++dose|recent"
    r"|failed|failure|refractory|resistant|resistance|relapsed|after|following|despite|since"
    r"|achieved|responded|(?:oligo)?progress(?:ed|ion|ing|ive)?|recurrence|experienced)\b)"
    r"|(?P<open>\()|(?P<close>\))",
    re.IGNORECASE,
)
_AFTER_OUTCOME_RE = re.compile(r"\b(?:after|following|on|during|despite|to|with|from)\b", re.IGNORECASE)
_PROGRESSION_RE = re.compile(
    r"\b(?:(?:oligo|poly)?progress(?:ed|ion|ing|ive)?|refractory|resistan(?:t|ce)|fail(?:ed|ure|ing)|relapse[ds]?"
    r"|recurrence|despite)\b",
    re.IGNORECASE,
)
_TOXICITY_RE = re.compile(
    r"\b(?:intoleran(?:ce|t)|toxicit(?:y|ies)|did\s++not\s++tolerate|adverse\s++(?:events?|reactions?)"
    r"|AEs?|SAEs?|imAEs?)\b",
    re.IGNORECASE,
)
_RESPONSE_RE = re.compile(
    r"\b(?:respon(?:se|ded|ding)|complete\s++response|partial\s++response|CR|PR|stable\s++disease"
    r"|no\s++(?:\w+\s++){0,3}?progression)\b",
    re.IGNORECASE,
)
_ALLOWANCE_RE = re.compile(
    r"\b(?:is|are|was|were|will\s++be|be)\s++(?:also\s++)?(?:allowed|permitted|acceptable|allowable|eligible"
    r"|not\s++excluded)\b|\b(?:may|can|could)\s++(?:also\s++)?(?:have\s++)?(?:received|had|been|be|continue"
    r"|participate)\b|\ballowed\b",
    re.IGNORECASE,
)
_NOT_ALLOWED_RE = re.compile(
    r"\b(?:not\s++(?:be\s++)?(?:allowed|permitted|acceptable|allowable|eligible)|prohibited|exclusionary"
    r"|(?:is|are|will\s++be)\s++excluded)\b",
    re.IGNORECASE,
)
_POST_BLOCK_RE = re.compile(
    r"^[^;]{0,60}?\b(?:rendering|making|precluding|that\s++(?:would|may|could|might)\s++(?:preclude|prevent"
    r"|interfere))\b",
    re.IGNORECASE,
)
_NEG_OUTCOME_RE = re.compile(
    r"\b(?:no|not|without|absence\s++of)\s++(?:\w+\s++){0,3}?(?:progression|progressed|progressive)\b",
    re.IGNORECASE,
)
_NAIVE_RE = re.compile(r"[\s-]*+(?:therapy|treatment|inhibitor|agent)?[\s-]*+na[iï]ve\b", re.IGNORECASE)
_POST_OUTCOME_RE = re.compile(
    r"[\s-]*+(?:based\s++)?(?:therapy|treatment|regimen|chemotherapy)?[\s-]*+(?P<o>refractory|resistant"
    r"|failure|intoleran(?:t|ce)|pretreated|pre-treated|exposed|experienced)\b",
    re.IGNORECASE,
)
_SITE_RE = re.compile(
    r"\s*+(?:\([^()]{0,40}\)\s*+)?(?:to|at|in|on|of|involving)\s++(?:the\s++|a\s++|an\s++|any\s++|all\s++)?"
    r"(?:same\s++|target\s++|index\s++|previously\s++)?(?:site|lesion|area|region|field|pelvi|lung|chest"
    r"|thorax|thoracic|brain|liver|bone|spine|abdomen|prostate|breast|head|neck|more\s++than|>|\\>|\d)",
    re.IGNORECASE,
)

_UNIT = r"(?P<u>hours?|hrs?|days?|d\b|weeks?|wks?|months?|mos?|years?|yrs?)"
_WINDOW_RE = re.compile(
    r"(?P<pre>\bwithin|\bin\s++the\s++(?:last|past|previous|preceding|prior)|\bduring\s++the\s++(?:last|past"
    r"|previous|preceding)|\bfor\s++the\s++(?:last|past)|\bin\s++the|≤|<=|\\?<|\bless\s++than|\bfewer\s++than"
    r"|\bat\s++least|≥|>=|\\?>|\bmore\s++than|\bgreater\s++than|\bminimum\s++of|\bup\s++to)?"
    r"(?(pre)\s*+)(?:\(\s*+)?(?:the\s++)?(?:(?:last|past|previous|preceding)\s++)?"
    r"(?P<n>\d{1,4}(?:\.\d)?|one|two|three|four|five|six|seven|eight|nine|ten|twelve)"
    r"\s*+(?:\(\s*+\d{1,4}\s*+\)\s*+)?(?:-|\s)?" + _UNIT + r"(?:\s*+\([^()]{0,30}\))?"
    r"(?P<post>\s++(?:or\s++more|or\s++longer|or\s++less|have\s++(?:passed|elapsed)|must\s++have\s++(?:passed"
    r"|elapsed)|ago|earlier|before|prior|preceding|of|from|since|after|following|until|between))?",
    re.IGNORECASE,
)
# A window measured from the therapy ("within 3 months after first-line therapy") is not a washout.
_RELATIVE_RE = re.compile(
    r"\s*+(?:after|following|from|of\s++(?:starting|initiating|completing|completion|start|initiation"
    r"|treatment\s++with|the\s++last)|since\s++(?:starting|initiating|the\s++start))",
    re.IGNORECASE,
)
_ANCHOR_AFTER_RE = re.compile(
    r"[\s,]*+(?:\(\s*+)?(?:before|prior\s++to|preceding|of|from|since|until|ago|earlier|prior)\b",
    re.IGNORECASE,
)
_LINE_RE = re.compile(
    r"\b(?P<ord>first|second|third|fourth|1st|2nd|3rd|4th)[\s-]++line\b"
    r"|\b(?:(?P<min>at\s++least|≥|>=|minimum\s++of|a\s++minimum\s++of)\s*+)?(?P<n>" + _COUNT + r")"
    r"(?:\s++or\s++(?:" + _COUNT + r"|more))?\s++(?:prior\s++|previous\s++|systemic\s++|standard\s++){0,2}"
    r"(?:lines?|regimens?|treatments|therapies)\b",
    re.IGNORECASE,
)
_CYCLES_RE = re.compile(
    r"\b(?:(?:at\s++least|≥|>=|a\s++minimum\s++of|minimum\s++of|\\?>)\s*+)?(?P<n>\d{1,2}|one|two|three|four"
    r"|five|six|seven|eight|nine|ten|twelve)(?:\s*+(?:-|–|to)\s*+\d{1,2})?\s++(?:consecutive\s++|complete\s++"
    r"|full\s++|prior\s++)?(?:cycles?|courses?|doses?|infusions?|injections?)\b(?!\s++or\s++(?:less|fewer))",
    re.IGNORECASE,
)
_LIST_GAP_RE = re.compile(
    r"[\s,/+&]*+(?:(?:and\s*+/\s*+or|or|and|plus|nor|combined\s++with|followed\s++by|then|as\s++well\s++as"
    r"|together\s++with|with)\b[\s,]*+)?(?:(?:other|any|prior|previous|an?|the|its|their|another)\s++){0,3}",
    re.IGNORECASE,
)
_MAXCOUNT_BEFORE_RE = re.compile(
    r"\b(?:no\s++more\s++than|not\s++more\s++than|more\s++than|up\s++to|at\s++most|maximum\s++of|fewer\s++than"
    r"|less\s++than|≤|<=|\\?<|\\?>)\s*+"
    + _COUNT
    + r"\s++(?:(?:prior|previous|systemic|other|additional)\s++){0,3}$",
    re.IGNORECASE,
)
_QUALIFIER_GAP_RE = re.compile(
    r"(?:[\s-]*+(?:(?:first|second|third|1st|2nd|3rd)[\s-]++line|based|containing|standard|systemic|combination"
    r"|doublet|adjuvant|neoadjuvant)\b){0,4}[\s-]*+",
    re.IGNORECASE,
)
_PROGRESSION_AFTER_RE = re.compile(r"\bprogress\w*\s++(?:on|after|during|following|while)\b", re.IGNORECASE)
_PARENTHETICAL_RE = re.compile(r"\([^()]*\)")
_NOT_TOXICITY_RE = re.compile(r"allerg|hypersensitiv|study|trial", re.IGNORECASE)
_QUALIFIED_BY_RE = re.compile(
    r"\s++(?:with|using)\s++(?:(?:an?|the|any|prior|other)\s++){0,2}", re.IGNORECASE
)
_BECAUSE_RE = re.compile(r"\b(?:due\s++to|because\s++of|from)\b", re.IGNORECASE)
_DIGIT_RE = re.compile(r"\d")
_PAREN_RE = re.compile(r"[()]")
_OR_RE = re.compile(r"\bor\b|/", re.IGNORECASE)


@dataclass
class _Item:
    """One therapy named in the text, with what its clause says about it."""

    start: int
    end: int
    iri: str
    sentence: int
    depth: int
    cue: str | None = None
    cue_start: int | None = None
    negated: bool = False
    blocked: bool = False
    mode: str = "main"
    optional: bool = False
    joined_or: bool = False
    joined: bool = False
    maxcount: bool = False
    outcome: str | None = None
    head: int | None = None
    """For an example or a carve-out: the index of the item it belongs to."""


@dataclass
class _State:
    """The cue state carried along a clause while scanning it left to right."""

    cue: str | None = None
    cue_start: int | None = None
    negated: bool = False
    blocked: bool = False
    condition: bool = False
    mode: str = "main"
    head: int | None = None
    optional: bool = False
    maxcount: bool = False
    outcome: str | None = None
    stack: list[_State] = field(default_factory=list)

    def copy(self) -> _State:
        """A copy without the parenthesis stack."""
        return _State(
            self.cue,
            self.cue_start,
            self.negated,
            self.blocked,
            self.condition,
            self.mode,
            self.head,
            self.optional,
            self.maxcount,
            self.outcome,
        )


def _vocabulary() -> Vocabulary:
    return Vocabulary.default()


def _is_therapy(vocab: Vocabulary, mention: Mention) -> bool:
    concept = mention.concept
    if concept.kind not in ("agent", "class", "procedure") or concept.iri in _NOT_THERAPY:
        return False
    return not (concept.kind == "procedure" and TGC + "Biopsy" in vocab.ancestors(concept))


def _sentences(text: str) -> list[int]:
    """The start offsets of the sentences of ``text``."""
    starts = [0]
    depth = 0
    last = 0
    for m in _SENTENCE_BREAK_RE.finditer(text):
        depth += text.count("(", last, m.start()) - text.count(")", last, m.start())
        last = m.start()
        # A ";" inside parentheses ends a clause, not the parenthesis' relation to its head.
        if m.group() == ";" and depth > 0:
            continue
        starts.append(m.end())
    return starts


def _items(vocab: Vocabulary, text: str) -> list[_Item]:
    """Therapy mentions and generic therapy wording, left to right, without overlaps."""
    spans: list[tuple[int, int, str]] = sorted(
        (m.start, m.end, m.concept.iri) for m in find_mentions(vocab, text) if _is_therapy(vocab, m)
    )
    # Overlap with a mention by bisection (the generic matches never overlap one another): a scan
    # of every mention per match made a long criterion quadratic (1 MB took over 10 s).
    mention_starts = [s for s, _, _ in spans]
    ends_so_far = list(itertools.accumulate((e for _, e, _ in spans), max))
    for m in _GENERIC_RE.finditer(text):
        before = bisect.bisect_left(mention_starts, m.end())
        if not (before and ends_so_far[before - 1] > m.start()):
            word = re.search(r"(?:treatments?|therap(?:y|ies)|regimens?)\b", m.group(), re.IGNORECASE)
            assert word is not None
            # Only the therapy word: "prior" and "first-line" are cues and qualifiers around it.
            spans.append((m.start() + word.start(), m.end(), ANTICANCER_THERAPY))
    spans.sort()
    kept: list[tuple[int, int, str]] = []
    for span in spans:
        if kept:
            s0, e0, iri0 = kept[-1]
            if _QUALIFIER_GAP_RE.fullmatch(text, e0, span[0]) and span[2] != iri0:
                # "platinum-based first-line chemotherapy": the narrower name carries the phrase.
                if _covered(vocab, iri0, span[2]):
                    kept[-1] = (s0, span[1], iri0)
                    continue
                if _covered(vocab, span[2], iri0):
                    kept[-1] = (s0, span[1], span[2])
                    continue
        kept.append(span)
    # "systemic treatment with docetaxel": the class only introduces the therapy that follows.
    spans = [
        span
        for i, span in enumerate(kept)
        if not (
            i + 1 < len(kept)
            and (vocab.get(span[2]) or _NO_CONCEPT).kind == "class"
            and _QUALIFIED_BY_RE.fullmatch(text, span[1], kept[i + 1][0])
        )
    ]
    if not spans:
        return []
    starts = _sentences(text)
    items: list[_Item] = []
    sentence = 0
    for start, end, iri in spans:
        while sentence + 1 < len(starts) and starts[sentence + 1] <= start:
            sentence += 1
        items.append(_Item(start, end, iri, sentence, 0))
    return items


def _scan(text: str, lo: int, hi: int, state: _State, items: list[_Item], previous: int | None) -> None:
    """Update ``state`` with the cues in ``text[lo:hi]`` (the gap before the next item)."""
    for m in _CUE_RE.finditer(text, lo, hi):
        kind = m.lastgroup
        if kind == "open":
            inner = state.copy()
            state.stack.append(state.copy())
            inner.stack = state.stack
            close_to_head = (
                previous is not None
                and items[previous].mode == "main"
                and len(text[items[previous].end : m.start()].strip()) <= 25
            )
            if (
                previous is not None
                and state.mode == "main"
                and (close_to_head or not text[m.end() : hi].strip())
            ):
                inner.mode, inner.head = "example", previous
            state.__dict__.update(inner.__dict__)
        elif kind == "close":
            if state.stack:
                stack = state.stack
                outer = stack.pop()
                state.__dict__.update(outer.__dict__)
                state.stack = stack
        elif kind == "break":
            stack = state.stack
            state.__dict__.update(_State().__dict__)
            state.stack = stack
        elif kind == "anchor" or kind == "condition" or kind == "strong":
            state.blocked = True
            state.condition = True
        elif kind == "block":
            state.blocked = True
        elif kind == "carve":
            if previous is not None:
                state.mode, state.head = "carve", previous
                state.negated = False
        elif kind == "example":
            if previous is not None and state.mode == "main":
                state.mode, state.head = "example", previous
        elif kind == "optional":
            state.optional = True
        elif kind == "maxcount":
            state.maxcount = True
        elif kind == "negoutcome":
            state.outcome = "response"
        elif kind == "neg":
            state.negated = True
        elif kind == "current":
            if not state.condition:
                state.blocked = False
            state.cue, state.cue_start = "current", m.start()
        elif kind == "prior":
            word = m.group().lower()
            # "after X" is therapy history only after an outcome ("progression after X").
            if (
                word in ("after", "following", "since")
                and state.outcome is None
                and not _PROGRESSION_RE.search(text, max(lo, m.start() - 40), m.start())
            ):
                continue
            if not state.condition:
                state.blocked = False
            if state.cue == "current" and state.cue_start is not None and m.start() - state.cue_start <= 20:
                continue  # "currently treated with", "concurrent use of"
            if state.cue != "prior" or state.cue_start is None or m.start() - state.cue_start > 150:
                state.cue_start = m.start()
            state.cue = "prior"
        if kind == "prior" or kind == "block" or kind == "negoutcome":
            outcome = _outcome_word(m.group())
            if outcome is not None and (kind != "block" or outcome != "toxicity"):
                state.outcome = (
                    outcome if state.outcome is None or outcome != "progression" else state.outcome
                )
    # Outcome words that are not cues ("adverse event attributed to", "response after").
    gap = text[lo:hi]
    toxicity = _TOXICITY_RE.search(gap)
    if toxicity is not None and not _NOT_TOXICITY_RE.search(gap):
        state.outcome = state.outcome or "toxicity"
        if state.cue is None:
            state.cue, state.cue_start = "prior", lo + toxicity.start()
    if _RESPONSE_RE.search(gap) and state.outcome is None:
        state.outcome = "response"


def _outcome_word(word: str) -> str | None:
    if _PROGRESSION_RE.fullmatch(word.strip()):
        return "progression"
    if _TOXICITY_RE.fullmatch(word.strip()):
        return "toxicity"
    if re.fullmatch(r"achieved|responded", word.strip(), re.IGNORECASE):
        return "response"
    return None


def _strip_parentheticals(text: str) -> str:
    """``text`` without its parenthetical remarks (nested ones too, up to five levels)."""
    for _ in range(5):
        stripped = _PARENTHETICAL_RE.sub(" ", text)
        if stripped == text:
            break
        text = stripped
    return text


class _Clauses:
    """Clause bounds by parentheses: the innermost parenthesis around a position bounds its clause."""

    def __init__(self, text: str, positions: list[int]) -> None:
        self.text = text
        self.close: dict[int, int] = {}
        self.enclosing: dict[int, int | None] = {}
        stack: list[int] = []
        queries = sorted(set(positions))
        q = 0
        for m in _PAREN_RE.finditer(text):
            while q < len(queries) and queries[q] <= m.start():
                self.enclosing[queries[q]] = stack[-1] if stack else None
                q += 1
            if m.group() == "(":
                stack.append(m.start())
            elif stack:
                self.close[stack.pop()] = m.start()
        for position in queries[q:]:
            self.enclosing[position] = stack[-1] if stack else None

    def start(self, pos: int, sentence_start: int) -> int:
        """Where the clause containing ``pos`` starts."""
        opened = self.enclosing.get(pos)
        return opened + 1 if opened is not None and opened >= sentence_start else sentence_start

    def end(self, pos: int, sentence_end: int) -> int:
        """Where the clause containing ``pos`` ends."""
        opened = self.enclosing.get(pos)
        if opened is None:
            return sentence_end
        return min(self.close.get(opened, sentence_end), sentence_end)


@dataclass
class _Window:
    days: float
    start: int
    end: int
    minimum: bool
    relative: bool


def _windows(text: str, lo: int, hi: int) -> list[_Window]:
    """The washout windows and therapy-relative windows stated in ``text[lo:hi]``, in text order."""
    found: list[_Window] = []
    progression = _PROGRESSION_RE.search(text, lo, hi) is not None
    for m in _WINDOW_RE.finditer(text, lo, hi):
        pre = (m["pre"] or "").lower()
        post = (m["post"] or "").strip().lower()
        n = m["n"].lower()
        value = float(_NUMBER_WORDS[n]) if n in _NUMBER_WORDS else float(n)
        days = round(value * DAYS_PER_UNIT[m["u"].lower()[0]], 4)
        # Measured from the therapy to something else: "progression within 3 months after X".
        relative = post in ("after", "following") or (
            post in ("of", "from", "since")
            and progression
            and _RELATIVE_RE.match(text, m.start("post")) is not None
        )
        if relative:
            found.append(_Window(days, m.start(), m.end(), False, True))
            continue
        if not pre and not post:
            continue
        if pre == "in the" and post not in ("before", "prior", "preceding"):
            continue
        if not pre and post in ("of", "from", "until", "between"):
            continue
        minimum = pre in (
            "at least",
            "≥",
            ">=",
            ">",
            "\\>",
            "more than",
            "greater than",
            "minimum of",
        ) or post in (
            "or more",
            "or longer",
            "have passed",
            "have elapsed",
            "must have passed",
            "must have elapsed",
        )
        anchored = _ANCHOR_AFTER_RE.match(text, m.end(), hi) is not None
        if (
            not minimum
            and not pre
            and not anchored
            and post not in ("ago", "earlier", "before", "prior", "preceding")
        ):
            continue
        found.append(_Window(days, m.start(), m.end(), minimum, False))
    return found


def _window(text: str, windows: list[_Window], group_end: int) -> _Window | None:
    """The first window of the clause that applies to a group of therapies ending at ``group_end``."""
    for w in windows:
        if w.start >= group_end:
            if w.start - group_end > 300:
                break
            if _DIGIT_RE.search(_PARENTHETICAL_RE.sub("", text[group_end : w.start])):
                # A number between the therapy and the window: the window qualifies something else.
                continue
        return w
    return None


def _line(text: str, lo: int, hi: int) -> int | None:
    """The line of therapy stated in ``text[lo:hi]``: "first-line" 1, "at least two prior lines" 2."""
    for m in _LINE_RE.finditer(text, lo, hi):
        if m["ord"]:
            return _ORDINALS[m["ord"].lower()]
        n = m["n"].lower()
        return _NUMBER_WORDS[n] if n in _NUMBER_WORDS else int(n)
    return None


def _cycles(text: str, lo: int, hi: int) -> int | None:
    """The minimum number of cycles stated in ``text[lo:hi]`` ("at least 4 cycles of", "4-6 cycles")."""
    for m in _CYCLES_RE.finditer(text, lo, hi):
        n = m["n"].lower()
        return _NUMBER_WORDS[n] if n in _NUMBER_WORDS else int(n)
    return None


def _narrowest_common_class(vocab: Vocabulary, iris: list[str]) -> str:
    """The most specific vocabulary class every one of ``iris`` is or belongs to (else the first)."""
    common: set[str] | None = None
    for iri in iris:
        lineage = {iri, *vocab.ancestors(iri)} if vocab.get(iri) is not None else {iri}
        common = lineage if common is None else common & lineage
    candidates = set()
    for c in common or set():
        concept = vocab.get(c) if c.startswith(TGC) else None
        if concept is not None and concept.kind in ("class", "procedure"):
            candidates.add(c)
    if not candidates:
        return iris[0]
    specific = [c for c in candidates if not any(c in vocab.ancestors(o) for o in candidates if o != c)]
    return sorted(specific)[0]


@lru_cache(maxsize=65536)  # a long criterion asks again for the same pairs (allowances: items x constraints)
def _covered(vocab: Vocabulary, iri: str, cls: str) -> bool:
    if iri == cls:
        return True
    if vocab.get(iri) is None:
        return False
    return cls in vocab.ancestors(iri)


def extract(criterion: Criterion) -> list[Constraint]:
    """Prior and current therapy constraints of one criterion, in text order."""
    vocab = _vocabulary()
    text = criterion.text
    items = _items(vocab, text)
    if not items:
        return []
    starts = _sentences(text)
    ends = [*starts[1:], len(text)]
    clauses = _Clauses(text, [p for item in items for p in (item.start, item.end)])
    windows: dict[tuple[int, int], list[_Window]] = {}
    allowances: dict[tuple[int, int], bool] = {}

    # 1. Scan the clause cues left to right, one sentence at a time.
    state = _State()
    sentence = -1
    pos = 0
    for index, item in enumerate(items):
        if item.sentence != sentence:
            sentence = item.sentence
            state = _State()
            pos = starts[sentence]
            previous: int | None = None
        else:
            previous = index - 1
        gap_lo = pos
        _scan(text, gap_lo, item.start, state, items, previous)
        gap = text[gap_lo : item.start]
        if previous is not None:
            list_gap = _LIST_GAP_RE.fullmatch(gap) is not None
            item.joined = list_gap and len(gap) <= 40
            item.joined_or = item.joined and _OR_RE.search(gap) is not None
            if state.mode != "main" and items[previous].mode != "main" and state.head is None:
                state.head = items[previous].head
        if _MAXCOUNT_BEFORE_RE.search(gap[-80:]):
            state.maxcount = True
        item.cue, item.cue_start = state.cue, state.cue_start
        item.negated, item.blocked = state.negated, state.blocked
        item.mode, item.head = state.mode, state.head
        item.optional, item.maxcount = state.optional, state.maxcount
        item.outcome = state.outcome
        item.depth = len(state.stack)
        if _NAIVE_RE.match(text, item.end):
            item.negated, item.cue = not item.negated, "prior"
            item.cue_start = item.cue_start if item.cue_start is not None else item.start
        post = _POST_OUTCOME_RE.match(text, item.end)
        if post is not None:
            item.cue = item.cue or "prior"
            word = post["o"].lower()
            if word.startswith(("refractory", "resistant", "failure")):
                item.outcome = item.outcome or "progression"
            elif word.startswith("intoleran"):
                item.outcome = item.outcome or "toxicity"
        pos = item.end

    # 2. Resolve each main item into a constraint; examples and carve-outs attach to their head.
    constraints: list[TherapyConstraint] = []
    by_item: dict[int, list[TherapyConstraint]] = {}
    done: set[int] = set()
    for index, item in enumerate(items):
        if index in done or item.mode != "main":
            continue
        s_start, s_end = starts[item.sentence], ends[item.sentence]
        # The group: this item and the items joined to it by list words.
        group = [index]
        j = index + 1
        while (
            j < len(items)
            and items[j].sentence == item.sentence
            and items[j].joined
            and items[j].mode == "main"
        ):
            group.append(j)
            j += 1
        done.update(group)
        last = items[group[-1]]
        clause_start = max(clauses.start(item.start, s_start), item.start - _REACH)
        clause_end = min(clauses.end(last.end, s_end), last.end + _REACH)
        if all(items[g].optional for g in group) or item.blocked or item.maxcount:
            continue
        if (clause_start, clause_end) not in windows:
            windows[clause_start, clause_end] = _windows(text, clause_start, clause_end)
        window = _window(text, windows[clause_start, clause_end], last.end)
        if item.cue is None:
            if window is None or window.relative or window.start < last.end:
                continue
            item.cue, item.cue_start = "prior", item.start
        after_text = text[last.end : min(clause_end, last.end + 300)]
        if _POST_BLOCK_RE.search(after_text):
            continue
        # An allowance clause: the therapies are allowed, not required or excluded.
        if (clause_start, clause_end) not in allowances:
            clause = _strip_parentheticals(text[clause_start:clause_end])
            allowances[clause_start, clause_end] = _ALLOWANCE_RE.search(clause) is not None and not (
                _NOT_ALLOWED_RE.search(clause)
            )
        allowed = allowances[clause_start, clause_end]
        if allowed and not item.negated:
            continue
        if any(_covered(vocab, items[g].iri, _RADIOTHERAPY) for g in group) and _SITE_RE.match(
            text, last.end
        ):
            continue
        stated_excluded = stated_as_excluded(text, last.end) or _NOT_ALLOWED_RE.search(after_text) is not None
        exclude = (criterion.kind == "exclusion" or stated_excluded) != item.negated
        if criterion.kind == "exclusion" and stated_excluded and not item.negated:
            exclude = True
        timing = "current" if item.cue == "current" else "prior"
        within: float | None = None
        if window is not None:
            if window.relative:
                if exclude:
                    continue
            elif window.minimum:
                if not exclude:
                    exclude, within = True, window.days
            else:
                within = window.days
                timing = "prior"
        sense: Sense = "exclude" if exclude else "require"
        lo = max(clause_start, item.start - 60)
        line = _line(text, lo, min(clause_end, last.end + 40))
        cycles = _cycles(text, lo, item.start)
        outcome = item.outcome
        if outcome is None:
            tail = text[last.end : min(clause_end, last.end + 80)]
            if _NEG_OUTCOME_RE.search(tail):
                outcome = "response"
            elif _PROGRESSION_AFTER_RE.search(tail):
                outcome = "progression"
            if _TOXICITY_RE.search(tail) and _BECAUSE_RE.search(tail):
                outcome = "toxicity"
        start = item.cue_start if item.cue_start is not None and item.cue_start >= s_start else item.start
        start = min(start, item.start)

        proto = TherapyConstraint(
            criterion_kind=criterion.kind,
            criterion_ordinal=criterion.ordinal,
            start=start,
            end=start,
            text="",
            sense=sense,
            timing=timing,
            within_days=within,
            min_cycles=cycles if sense == "require" else None,
            line=line,
            outcome=outcome,
        )
        window_end = window.end if window is not None and within is not None else None
        made: list[TherapyConstraint] = []
        members = [g for g in group if not items[g].optional] or group
        optional = [g for g in group if items[g].optional]
        options = any(items[g].joined_or for g in group[1:])
        if sense == "require" and options and len(members) > 1:
            iris = list(dict.fromkeys(items[g].iri for g in group))
            made.append(_made(proto, text, _narrowest_common_class(vocab, iris), iris, last.end, window_end))
            for g in group:
                by_item[g] = made
        else:
            for g in members:
                c = _made(proto, text, items[g].iri, [], items[g].end, window_end)
                made.append(c)
                by_item[g] = [c]
            for g in optional:
                by_item[g] = made
        constraints.extend(made)

    # 3. Examples and carve-outs, attached to the main item their chain of heads leads to.
    resolved: list[int | None] = []
    for item in items:
        head = item.head
        resolved.append(None if head is None else (head if items[head].mode == "main" else resolved[head]))
    excluded = {c.therapy for c in constraints if c.sense == "exclude"}
    permitted = {id(c): set(c.permitted_therapies) for c in constraints}

    def allow(c: TherapyConstraint, iri: str) -> None:
        if iri not in permitted.setdefault(id(c), set(c.permitted_therapies)) and iri != c.therapy:
            permitted[id(c)].add(iri)
            c.permitted_therapies.append(iri)

    for index, item in enumerate(items):
        head = resolved[index]
        if item.mode == "main" or head is None or head not in by_item:
            continue
        bounds = (
            max(clauses.start(item.start, starts[item.sentence]), item.start - _REACH),
            min(clauses.end(item.end, len(text)), item.end + _REACH),
        )
        if bounds not in allowances:
            clause = _strip_parentheticals(text[bounds[0] : bounds[1]])
            allowances[bounds] = _ALLOWANCE_RE.search(clause) is not None and not _NOT_ALLOWED_RE.search(
                clause
            )
        lineage = {item.iri, *vocab.ancestors(item.iri)} if vocab.get(item.iri) is not None else {item.iri}
        for c in by_item[head]:
            if item.mode == "carve" or (c.sense == "exclude" and allowances[bounds]):
                if c.sense == "exclude" and (item.mode == "carve" or c.therapy in lineage):
                    allow(c, item.iri)
            elif c.sense == "require":
                allow(c, item.iri)
            elif not lineage & excluded and not item.blocked:
                excluded.add(item.iri)
                constraints.append(
                    TherapyConstraint(
                        criterion_kind=c.criterion_kind,
                        criterion_ordinal=c.criterion_ordinal,
                        start=item.start,
                        end=item.end,
                        text=text[item.start : item.end],
                        therapy=item.iri,
                        sense=c.sense,
                        timing=c.timing,
                        within_days=c.within_days,
                        line=c.line,
                        outcome=c.outcome,
                    )
                )

    # 4. Allowances that carve a covered therapy out of an exclusion in the same criterion.
    allowing: dict[int, bool] = {}
    for index, item in enumerate(items):
        if item.mode != "main" or index in by_item or not constraints:
            continue
        if item.sentence not in allowing:
            allowing[item.sentence] = (
                _ALLOWANCE_RE.search(text, starts[item.sentence], ends[item.sentence]) is not None
            )
        if not allowing[item.sentence]:
            continue
        for c in constraints:
            if (
                c.sense == "exclude"
                and c.therapy != item.iri
                and _covered(vocab, item.iri, c.therapy)
                and item.iri not in c.permitted_therapies
                and c.start < item.start
            ):
                c.permitted_therapies.append(item.iri)

    return _merge(constraints)


def _made(
    proto: TherapyConstraint, text: str, iri: str, permitted: list[str], end: int, window_end: int | None
) -> TherapyConstraint:
    """``proto`` for one therapy, its span running to ``end`` or to the window that follows."""
    stop = max(end, window_end) if window_end is not None else end
    return replace(proto, therapy=iri, permitted_therapies=permitted, end=stop, text=text[proto.start : stop])


def _merge(constraints: list[TherapyConstraint]) -> list[Constraint]:
    """One constraint per therapy, sense and timing: later repetitions fill what the first lacks."""
    merged: dict[tuple[str, str, str], TherapyConstraint] = {}
    for c in sorted(constraints, key=lambda c: c.start):
        key = (c.therapy, c.sense, c.timing)
        first = merged.get(key)
        if first is None:
            merged[key] = c
            continue
        for name in ("within_days", "min_cycles", "line", "outcome"):
            if getattr(first, name) is None:
                setattr(first, name, getattr(c, name))
        for iri in c.permitted_therapies:
            if iri not in first.permitted_therapies:
                first.permitted_therapies.append(iri)
    return list(merged.values())
