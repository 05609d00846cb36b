"""Other-malignancy constraints read from one eligibility criterion.

A :class:`~trialgraph.model.MalignancyConstraint` says that a malignancy other than the trial's own
disease (a second, prior, concurrent or additional one) rules a patient out, optionally only when
it was diagnosed or treated ``within_years`` before enrolment, with ``except_text`` the verbatim
carve-out ("except adequately treated basal cell carcinoma of the skin").

Rules, in the words of a reader:

* **Subject.** "malignancy", "malignancies", "malignant disease/tumour/neoplasm" anywhere, and
  "cancer", "carcinoma", "tumour", "neoplasm" or "neoplasia" only right after a word that makes it
  another one ("other", "another", "second", "prior", "previous", "concurrent", "additional",
  "history of", ...). "Non-malignant", "pre-malignant", "malignant pleural effusion", and cancer as
  an attribute of a therapy ("prior cancer immunotherapy", "anti-cancer therapy") are no subject.
* **Sense.** The constraint is emitted when the mention is excluded: in an exclusion criterion, or
  negated in an inclusion criterion ("No history of other malignancy" in an inclusion is the same
  as "History of other malignancy" in an exclusion). A bare malignancy in an inclusion is the
  trial's own disease and gives nothing; so does a negated mention in an exclusion.
* **Window.** "within the past 5 years", "within 3 years", "in the last 24 months" (2.0 years),
  "during the previous five years", "< 3 years", "diagnosed 5 years before", and the permission
  "unless disease-free for >= 5 years" all give ``within_years``.
* **Carve-out.** From "except", "with the exception of", "excluding", "other than" (when what
  follows is a carve-out such as basal cell carcinoma or carcinoma in situ, not the trial's own
  disease: "malignancy other than prostate cancer" has no carve-out), or "apart from" up to the end
  of its sentence or parenthesis; or a sentence that follows and says who "are not excluded",
  "are eligible" or "may be included". A lone "except:" whose list is in sub-items gives no text.

One constraint per criterion; its span runs from the first malignancy mention to the end of the
last part read (the window or the carve-out). Every pattern is linear and bounded.
"""

from __future__ import annotations

import re
from typing import Final

from trialgraph.model import Constraint, Criterion, MalignancyConstraint

__all__ = ["extract"]

_QUALIFIER = (
    r"(?:other|another|second(?:ary)?|2nd|prior|previous|past|concurrent|concomitant|coexisting"
    r"|co-existing|synchronous|metachronous|additional|active|invasive|known|ongoing|current"
    r"|history\s++of|diagnosis\s++of|any)"
)
_ADJECTIVE = (
    r"(?:primary|invasive|active|malignant|solid|haematologic(?:al)?|hematologic(?:al)?|systemic"
    r"|untreated|treated|uncontrolled|progressive|progressing|metastatic)"
)
_MALIGNANCY_RE = re.compile(
    rf"\b(?:(?:{_QUALIFIER}\s++(?:(?:an?|the|of)\s++)?){{0,3}}(?:{_ADJECTIVE}\s++){{0,2}}"
    r"(?:malignan(?:cy|cies|t\s++(?:disease|diseases|tumou?rs?|neoplasms?|neoplasia|process|condition))"
    r"|second\s++primar(?:y|ies))"
    rf"|{_QUALIFIER}\s++(?:(?:an?|the|of|{_QUALIFIER})\s++){{0,3}}(?:{_ADJECTIVE}\s++){{0,2}}"
    r"(?:cancers?|carcinomas?|tumou?rs?|neoplasms?|neoplasia))\b",
    re.IGNORECASE,
)
# Every match of _MALIGNANCY_RE holds one of these words: a text without them is not scanned.
_MALIGNANCY_HINT_RE = re.compile(r"malignan|primar|cancer|carcinoma|tumo|neoplas", re.IGNORECASE)
_NOT_A_SUBJECT_BEFORE_RE = re.compile(
    r"(?:\bnon|\bpre|\bpremalignan\w*|\banti)[\s-]*+$|\b(?:their|his|her|its)\s++(?:\w++\s++)?$",
    re.IGNORECASE,
)
_NOT_A_SUBJECT_AFTER_RE = re.compile(
    r"\s*+(?:-?\s*+(?:related|directed|specific|associated))?\s*+"
    r"(?:therap\w*|treatment|immunotherap\w*|chemotherap\w*|drugs?|agents?|vaccines?|medications?"
    r"|regimens?|pleural|ascites|effusion|hypert\w*|hypertherm\w*)\b",
    re.IGNORECASE,
)
_NEGATION_RE = re.compile(
    r"\b(?:no|not|without|never|absence\s++of|free\s++of|lack\s++of|none)\b(?:\W++\w++){0,6}?\W*+$",
    re.IGNORECASE,
)
_CLAUSE_BREAK_RE = re.compile(r"[;:.()\[\]\n]|\b(?:but|except|unless)\b", re.IGNORECASE)

_NUMBER_WORDS: Final[dict[str, float]] = {
    "one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7, "eight": 8, "nine": 9,
    "ten": 10, "twelve": 12, "fifteen": 15, "eighteen": 18, "twenty": 20, "twenty-four": 24,
    "thirty": 30, "thirty-six": 36, "sixty": 60,
}  # fmt: skip
_AMOUNT = r"(?:\d{1,3}(?:\.\d)?|" + "|".join(sorted(_NUMBER_WORDS, key=len, reverse=True)) + r")"
_UNIT = r"[\s-]*+(?:\(\d{1,3}\)\s*+)?(?:years?|yrs?|months?|mos?)\b"
_AMOUNT_RE = re.compile(r"\b" + _AMOUNT + r"(?=" + _UNIT + ")", re.IGNORECASE)
_UNIT_RE = re.compile(_UNIT, re.IGNORECASE)
_WINDOW_RE = re.compile(
    r"\b(?:within|in|during|over|for)\s++(?:(?:the|a|at\s++least|at\s++most|approximately|about)\s++)?"
    r"(?:(?:past|last|previous|preceding|prior)\s++)?" + _AMOUNT + _UNIT
    + r"|(?:past|last|previous|preceding|prior)\s++" + _AMOUNT + _UNIT
    + r"|(?:<|≤|<=|\\<|less\s++than|fewer\s++than)\s*+" + _AMOUNT + _UNIT
    + r"|\b" + _AMOUNT + _UNIT
    + r"\s++(?:of\s++(?:study\s++)?(?:entry|enrol?lment|randomi[sz]ation)|prior|before|preceding)",
    re.IGNORECASE,
)  # fmt: skip
_FREE_FOR_RE = re.compile(
    r"\b(?:disease[\s-]++free|free\s++of\s++(?:the\s++)?(?:disease|malignancy|cancer)|no\s++evidence\s++of"
    r"\s++(?:the\s++)?disease|in\s++(?:complete\s++)?remission|cured|without\s++recurrence)"
    r"[^.;]{0,40}?\b(?:for|of|at\s++least|≥|>=|>|more\s++than|over)\s*+(?:(?:at\s++least|≥|>=|>|more\s++than"
    r"|a\s++minimum\s++of|over)\s*+)?" + _AMOUNT + _UNIT,
    re.IGNORECASE,
)
_EXCEPT_RE = re.compile(
    r"\b(?:(?:with\s++(?:the\s++)?)?exceptions?\s++(?:of|for)|except(?:\s++for)?|excluding|excepting"
    r"|apart\s++from|other\s++than|besides)\b",
    re.IGNORECASE,
)
_CARVE_OUT_WORDS_RE = re.compile(
    r"basal|squamous|in[\s-]++situ|\bCIS\b|DCIS|skin|melanoma|cervi|superficial|low[\s-]++(?:risk|grade)"
    r"|locali[sz]ed|treated|cured|resected|curative|intraepithelial|kaposi|indolent|papillary|thyroid"
    r"|non-?invasive|early[\s-]++stage|stage\s++[I0]|prostate\s++cancer\s++(?:with|on|under)|remission",
    re.IGNORECASE,
)
_CARVE_OUT_SENTENCE_RE = re.compile(
    r"\b(?:(?:are|is|will)\s++not\s++(?:be\s++)?excluded|(?:are|is)\s++(?:eligible|allowed|permitted)"
    r"|may\s++(?:be\s++)?(?:included|enrolled|eligible|participate)|can\s++(?:be\s++)?(?:included|enrolled)"
    r"|does\s++not\s++apply)\b",
    re.IGNORECASE,
)
_SENTENCE_END_RE = re.compile(r"[.;](?=\s|$)|\n")
_NOTE_RE = re.compile(r"\s*+(?:note\s*+:\s*+)?", re.IGNORECASE)
_WINDOW: Final = 600
"""How far after the last mention a window or a carve-out is looked for."""


def _is_subject(text: str, start: int, end: int) -> bool:
    """Whether the malignancy mention at ``start:end`` names a malignancy the patient has or had."""
    before = text[max(0, start - 30) : start]
    if _NOT_A_SUBJECT_BEFORE_RE.search(before):
        return False
    return _NOT_A_SUBJECT_AFTER_RE.match(text, end, min(len(text), end + 40)) is None


def _negated(text: str, start: int) -> bool:
    """Whether a negation cue governs ``start`` within its clause (at most six words before it)."""
    lo = max(0, start - 60)
    cut = lo
    for m in _CLAUSE_BREAK_RE.finditer(text, lo, start):
        cut = m.end()
    return _NEGATION_RE.search(text, cut, start) is not None


def _years(match: re.Match[str]) -> float:
    """The window a match states, in years."""
    amount = _AMOUNT_RE.search(match.group())
    unit = _UNIT_RE.search(match.group())
    assert amount is not None and unit is not None
    raw = amount.group().lower()
    value = _NUMBER_WORDS[raw] if raw in _NUMBER_WORDS else float(raw)
    return round(value / 12, 4) if unit.group().strip(" -").lower().startswith("m") else float(value)


def _sentence_end(text: str, pos: int, limit: int) -> int:
    """Where the sentence (or ``;`` clause) that contains ``pos`` ends, or ``limit``."""
    m = _SENTENCE_END_RE.search(text, pos, limit)
    return m.start() if m else limit


def _skip_note(text: str, pos: int) -> int:
    """Where the text of a sentence starts after ``pos``, past spaces and a "Note:"."""
    m = _NOTE_RE.match(text, pos)
    return m.end() if m else pos


def _carve_out(text: str, pos: int, limit: int) -> tuple[int, int] | None:
    """The span of the verbatim carve-out at or after ``pos``, if there is one."""
    for m in _EXCEPT_RE.finditer(text, pos, limit):
        if m.group().lower() in ("other than", "besides"):
            stop = _sentence_end(text, m.end(), limit)
            if not _CARVE_OUT_WORDS_RE.search(text, m.end(), stop):
                continue
        depth_open = text.rfind("(", pos, m.start())
        stop = _sentence_end(text, m.end(), limit)
        if depth_open > text.rfind(")", pos, m.start()):
            close = text.find(")", m.end(), stop)
            stop = close if close != -1 else stop
        end = len(text[:stop].rstrip(" ,;:"))
        if end <= m.end():
            return None
        return m.start(), end
    sentence = _sentence_end(text, pos, limit)
    while sentence < limit:
        begin = _skip_note(text, sentence + 1)
        stop = _sentence_end(text, begin, limit)
        if _CARVE_OUT_SENTENCE_RE.search(text, begin, stop) and _CARVE_OUT_WORDS_RE.search(text, begin, stop):
            end = stop
            while end < limit:  # consecutive carve-out sentences belong together
                nxt = _skip_note(text, end + 1)
                nxt_stop = _sentence_end(text, nxt, limit)
                if nxt_stop <= end + 1 or not _CARVE_OUT_SENTENCE_RE.search(text, nxt, nxt_stop):
                    break
                end = nxt_stop
            return begin, end
        if stop <= sentence + 1 or stop >= limit:
            break
        sentence = stop
    return None


def extract(criterion: Criterion) -> list[Constraint]:
    """The other-malignancy exclusion of one criterion, with its time window and carve-out."""
    text = criterion.text
    if _MALIGNANCY_HINT_RE.search(text) is None:
        return []
    mentions = [m for m in _MALIGNANCY_RE.finditer(text) if _is_subject(text, m.start(), m.end())]
    excluded = [m for m in mentions if (criterion.kind == "exclusion") != _negated(text, m.start())]
    if not excluded:
        return []
    start = excluded[0].start()
    last = excluded[-1].end()
    limit = min(len(text), last + _WINDOW)
    end = last
    within: float | None = None
    window = _WINDOW_RE.search(text, max(0, start - 80), limit) or _FREE_FOR_RE.search(text, start, limit)
    if window is not None:
        within = _years(window)
        start = min(start, window.start())
        end = max(end, window.end())
    except_text: str | None = None
    carve = _carve_out(text, excluded[0].end(), limit)
    if carve is not None:
        except_text = text[carve[0] : carve[1]]
        end = max(end, carve[1])
    return [
        MalignancyConstraint(
            criterion_kind=criterion.kind,
            criterion_ordinal=criterion.ordinal,
            start=start,
            end=end,
            text=text[start:end],
            within_years=within,
            except_text=except_text,
        )
    ]
