"""Age and sex constraints read from one eligibility criterion.

Ages are read in three forms: after ``age``/``aged`` ("Age 18-70 years", "aged >18 and <=70
years", "age at screening >= 18", "age 60+"), after a comparator before "age" ("over the age of
18", "Minimum age: 18 years"), and as a bound whose words say it is an age ("18 years of age or
older", "Males >= 18 years of age", "8 months of age or older", "younger than 6 months",
"Patients >= 20 years", a criterion opening with ">= 20 years"). Months, weeks, days and hours are
converted to years. Not read: gestational, bone or mental age; durations ("5 years before",
"2 years of sports"); ages that select something else ("If < 16 years of age at onset, ...",
"... for patients > 60 years old"); a range in an exclusion, which is not one interval.

Sex is read only when the criterion states who is eligible by sex: it opens with the sex ("Male
patients aged ...", "Women with ...", "Sex: female"), does not name both sexes ("Male or female",
"any gender") and is not about pregnancy or contraception ("Female participants: ... not
pregnant", "male participants must agree to use contraception"). An exclusion yields the other
sex only when it is nothing but the sex ("Men").

Convention for "or" alternatives: an age range followed by ", or with an estimated life
expectancy > 10 years" keeps only its lower bound, since the alternative relaxes the upper one
(the life expectancy is not emitted either; see :mod:`trialgraph.extract.performance`).
"""

from __future__ import annotations

import re
from typing import Final

from trialgraph.extract.common import (
    COMPARATOR,
    NUMBER,
    Bound,
    Interval,
    compile_bound,
    parse_comparator,
    parse_number,
    read_bound,
    required_interval,
    sense_is_exclusion,
)
from trialgraph.model import AgeConstraint, Constraint, Criterion, SexConstraint

__all__ = ["extract", "extract_age", "extract_sex"]

_MAX_AGE_YEARS: Final = 120.0
_YEARS_PER: Final = {"y": 1.0, "m": 1 / 12, "w": 7 / 365.25, "d": 1 / 365.25, "h": 1 / 8766}

# An age unit: "years", "yrs", "months", "weeks", "days", "hours", "-year-old", "years of age".
_AGE_TAIL = r"(?:\s*+-?\s*+(?:of\s++age|old|age)\b)"
_AGE_UNIT = (
    r"(?:\(inclusive\)\s*+)?-?\s*+(?:years?|yrs?|months?|mos?|weeks?|wks?|days?|hours?|hrs?)\b\.?"
    rf"{_AGE_TAIL}?|\s*+age\b"
)
_AGE_BOUND_RE = compile_bound(_AGE_UNIT)
_UNIT_WORD_RE = re.compile(r"\b(?:y(?:ea)?r|mo|w(?:ee)?k|day|h(?:ou)?r)", re.IGNORECASE)

# "Age", "aged", "ages", then words such as "at the time of signing informed consent", then a
# colon or "is/must be": the bound follows. Gestational, bone or mental age is not the age.
_FILLER_WORDS = (
    r"at(?!\s++(?:least|most))|on|of|the|time|screening|consent|informed|signing|enrol?lment|diagnosis"
    r"|registration|study|entry|inclusion|randomi[sz]ation|baseline|patients?|participants?|subjects?|is"
    r"|are|must|be|should|range|visit|first|dose|limits?|groups?|in|years?"
)
_AGE_HINT_RE = re.compile("age", re.IGNORECASE)
_AGE_PREFIX_RE = re.compile(
    r"(?P<between>\bbetween\s++(?:the\s++)?)?(?<!gestational\s)(?<!gestation\s)(?<!bone\s)"
    r"(?<!corrected\s)(?<!mental\s)\b(?:age[ds]?|aged)\b(?:\s*+\((?:years?|yrs?)\))?"
    rf"(?:[\s:=,]++(?:{_FILLER_WORDS})\b){{0,8}}(?:[\s:,(\[]|=(?![<>]))*+",
    re.IGNORECASE,
)
# "age 60+": a plus after the number.
_PLUS_RE = re.compile(rf"(?P<n>{NUMBER})\s*+\+(?P<u>\s*+{_AGE_UNIT})?", re.IGNORECASE)
# "over the age of 18", "Minimum age: 18 years", "over age 18": the comparator is found looking back.
_AGE_OF_RE = re.compile(
    rf"(?<!gestational\s)\b(?:the\s++)?age(?:\s*+:\s*+|\s++of\s++|\s++)(?P<n>{NUMBER})(?P<u>\s*+{_AGE_UNIT})?",
    re.IGNORECASE,
)
_COMPARATOR_BEFORE_RE = re.compile(rf"(?P<c>{COMPARATOR})\s++$", re.IGNORECASE)
# A bare age bound ("18 years of age or older") starts at a number followed by an age word, or at
# the comparator or "between" just before it (looked for backwards in a short window).
_NUMBER_START_RE = re.compile(r"(?<![\w.,])\d")
_AGE_WORD_AHEAD_RE = re.compile(
    r"[^.;\n]{0,25}?(?:\b|(?<=\d))(?:years?|yrs?|months?|mos?|weeks?|days?|hours?|older|younger|age)\b",
    re.IGNORECASE,
)
# The last word or symbol a comparator or "between" can end with: the cheap test before _LEADER_RE.
_LEADER_END_RE = re.compile(
    r"(?:[<>=≥≤≧≦⩾⩽＞＜;)]|\b(?:least|than|to|equal|of|minimum|maximum|above|over|exceeding|exceeds|below"
    r"|under|most|between|from|exceed))\s*+$",
    re.IGNORECASE,
)
_LEADER_RE = re.compile(
    rf"(?:(?:between|from)\s++)?{COMPARATOR}\s*+(?:\(\s*+{COMPARATOR}\s*+\)\s*+)?$|(?:between|from)\s++$",
    re.IGNORECASE,
)
# Words just before a bare "18 years" that make it an age: a person, "be", "are", "aged".
_PERSON_BEFORE_RE = re.compile(
    r"\b(?:patients?|participants?|subjects?|men|women|males?|females?|adults?|persons?|people|"
    r"individuals?|volunteers?|children|adolescents?|boys?|girls?|be|are|is|aged?)(?:\s++(?:of|aged?))?"
    r"[\s:,(]*$",
    re.IGNORECASE,
)
_CRITERION_START_RE = re.compile(r"^[\W\d]{0,6}$")
_YEARS_RE = re.compile(r"\by(?:ea)?rs?\b", re.IGNORECASE)
# A duration rather than an age: "5 years before", "3 years since diagnosis", "2 years of sports".
_DURATION_AFTER_RE = re.compile(
    r"\s*+(?:before|after|prior|since|from|ago|post|previously|earlier|duration|history|of\s++(?!age\b))\b",
    re.IGNORECASE,
)
_CONDITION_BEFORE_RE = re.compile(
    r"\b(?:if|when|whether|for\s++(?:patients?|subjects?|participants?|those|children|adults))"
    r"\s++(?:aged?\s++)?$",
    re.IGNORECASE,
)
_AGE_WORDS_RE = re.compile(r"\bof\s+age\b|\bold\b|\bage\b", re.IGNORECASE)
# "an acute (less than 4 week old) injury", "an injury over 4 weeks old", "tissue less than 2 years
# old": the age of a thing the criterion names, not of the patient.
_THING = (
    r"(?:injur(?:y|ies)|fractures?|wounds?|lesions?|tears?|ruptures?|ulcers?|burns?|scars?|infarcts?"
    r"|infarctions?|strokes?|trauma|symptoms?|pain|implants?|grafts?|tattoos?|thromb(?:us|i|osis)"
    r"|ha?ematomas?|ha?emorrhages?|bleeds?|bleeding|dislocations?|sprains?|incisions?|specimens?"
    r"|samples?|biops(?:y|ies)|tissues?|blocks?|slides?|scans?|images?|imaging|results?|tests?)"
)
_THING_AFTER_RE = re.compile(rf"[\s)\]]*+{_THING}\b", re.IGNORECASE)
_THING_BEFORE_RE = re.compile(rf"\b{_THING}[\s,(]*+(?:(?:is|are|was|were|not)\s++)*$", re.IGNORECASE)
_OLDER_YOUNGER_RE = re.compile(r"\b(?:older|younger)\b", re.IGNORECASE)
# ", or with an estimated life expectancy > 10 years": an alternative to the upper age limit.
_LIFE_EXPECTANCY_ALTERNATIVE_RE = re.compile(
    r"\s*+,?\s*+or\s++(?:with\s++)?(?:an?\s++)?(?:estimated\s++|expected\s++|predicted\s++)?"
    r"life\s++expectancy",
    re.IGNORECASE,
)


def _in_years(value: float | None, unit: str | None) -> float | None:
    """A value in years, from the unit written after it (years when there is none)."""
    if value is None:
        return None
    word = _UNIT_WORD_RE.search(unit or "")
    return value * _YEARS_PER[word.group().lower()[0]] if word else value


def _age_constraint(criterion: Criterion, start: int, bound: Bound) -> AgeConstraint | None:
    """The age constraint of one bound read from ``start``, in the criterion's sense."""
    if bound.exact:
        return None
    interval = required_interval(bound, sense_is_exclusion(criterion, start, bound.end))
    if interval is None:
        return None
    # "18 months to 75 years": each number has its own unit, or shares the other's.
    first, second = bound.units
    lo = _in_years(interval.lo, first or second)
    hi = _in_years(interval.hi, second or first)
    if any(v is not None and not 0 <= v <= _MAX_AGE_YEARS for v in (lo, hi)):
        return None
    if hi is not None and _LIFE_EXPECTANCY_ALTERNATIVE_RE.match(criterion.text, bound.end):
        hi = None
        if lo is None:
            return None
    text = criterion.text
    return AgeConstraint(
        criterion_kind=criterion.kind,
        criterion_ordinal=criterion.ordinal,
        start=start,
        end=bound.end,
        text=text[start : bound.end],
        min_years=lo,
        max_years=hi,
        min_inclusive=interval.lo_inclusive,
        max_inclusive=interval.hi_inclusive,
    )


def _looks_like_age(text: str, bound: Bound) -> bool:
    """Whether a bound found without "age" before it is an age (its words or neighbours say so).

    "18 years of age", "18 years old", "60 or older", "younger than 6 months" are ages; "18 years"
    needs a person before it ("Patients >= 18 years") or to open the criterion ("≥ 20 years");
    "6 months" needs an age word. None is an age next to a thing it can date ("a 4 week old injury").
    """
    stated = text[bound.start : bound.end]
    if _THING_AFTER_RE.match(text, bound.end) or _THING_BEFORE_RE.search(
        text[max(0, bound.start - 40) : bound.start]
    ):
        return False
    if _AGE_WORDS_RE.search(stated) or _OLDER_YOUNGER_RE.search(stated):
        return True
    unit = bound.unit
    if unit is None or _YEARS_RE.search(unit) is None or _DURATION_AFTER_RE.match(text, bound.end):
        return False
    if _PERSON_BEFORE_RE.search(text[max(0, bound.start - 30) : bound.start]):
        return True
    return _CRITERION_START_RE.match(text[: bound.start]) is not None


def _anchored(text: str) -> list[tuple[int, Bound]]:
    """Bounds anchored by "age"/"aged", or by a comparator before "age" ("over the age of 18")."""
    anchored: list[tuple[int, Bound]] = []
    if _AGE_HINT_RE.search(text) is None:  # both patterns below need "age"
        return anchored
    for m in _AGE_PREFIX_RE.finditer(text):
        plus = _PLUS_RE.match(text, m.end())
        if plus is not None:
            bound = Bound(Interval.ray(">=", parse_number(plus["n"])), m.end(), plus.end(), (plus["u"], None))
            anchored.append((m.start(), bound))
            continue
        read = read_bound(_AGE_BOUND_RE, text, m.end(), between=m["between"] is not None)
        if read is not None:
            anchored.append((m.start(), read))
    for m in _AGE_OF_RE.finditer(text):
        c = _COMPARATOR_BEFORE_RE.search(text, max(0, m.start() - 40), m.start())
        op = parse_comparator(c["c"]) if c else None
        if c is not None and op is not None:
            bound = Bound(Interval.ray(op, parse_number(m["n"])), c.start(), m.end(), (m["u"], None))
            anchored.append((c.start(), bound))
    anchored.sort(key=lambda item: item[0])
    return anchored


def extract_age(criterion: Criterion) -> list[AgeConstraint]:
    """Age constraints of a criterion ("aged >18 and <=70 years" -> min 18 exclusive, max 70)."""
    text = criterion.text
    anchored = _anchored(text)
    candidates = list(anchored)
    i = 0
    read_until = 0
    for m in _NUMBER_START_RE.finditer(text):
        while i < len(anchored) and anchored[i][1].end <= m.start():
            i += 1
        inside = i < len(anchored) and anchored[i][0] <= m.start()
        if inside or m.start() < read_until or not _AGE_WORD_AHEAD_RE.match(text, m.start()):
            continue
        leader = None
        if _LEADER_END_RE.search(text, max(0, m.start() - 12), m.start()):
            leader = _LEADER_RE.search(text, max(0, m.start() - 45), m.start())
        bound = read_bound(_AGE_BOUND_RE, text, leader.start() if leader else m.start())
        if bound is not None and _looks_like_age(text, bound):
            candidates.append((bound.start, bound))
            read_until = bound.end
    # The earliest reading of overlapping ones wins ("over the age of 18" before "age of 18").
    candidates.sort(key=lambda item: item[0])
    found: list[AgeConstraint] = []
    taken_until = -1
    for start, bound in candidates:
        if start < taken_until:
            continue
        taken_until = bound.end
        # "If < 16 years of age at onset, ...": a condition, not a requirement.
        if _CONDITION_BEFORE_RE.search(text[max(0, start - 25) : start]):
            continue
        constraint = _age_constraint(criterion, start, bound)
        if constraint is not None:
            found.append(constraint)
    return found


# --- sex -------------------------------------------------------------------------------------------

_SEX_OPENING_RE = re.compile(
    r"^[\W\d]*+(?:(?:patients?|participants?|subjects?)\s++(?:must\s++be|should\s++be|are|is)\s++"
    r"|(?:must\s++)?be\s++(?:an?\s++)?|only\s++|(?:sex|gender)\s*+:\s*+)?"
    r"(?:(?:adult|healthy|post-?menopausal|pre-?menopausal|ambulatory)\s++)?"
    r"(?P<sex>males?|men|man|boys?|females?|women|woman|girls?)\b"
    r"(?:\s++(?:patients?|participants?|subjects?|volunteers?|individuals?|persons?|adults?|only))?",
    re.IGNORECASE,
)
# "Male or female", "Male or eligible female subjects", "men and women", "any gender".
_BOTH_SEXES_RE = re.compile(
    r"\s*+(?:/|&|\(|,|\band/or\b|\band\b|\bor\b)\s*+(?:[a-z-]+\s++){0,2}(?:(?:fe)?males?|(?:wo)?m[ae]n)\b"
    r"|\s*+(?:of\s++)?(?:any|either|both|all)\s++(?:sex|gender)",
    re.IGNORECASE,
)
_REPRODUCTION_RE = re.compile(
    r"pregnan|lactat|breast-?feed|nursing|contracep|child[\s-]?bearing|reproductive|partner|sperm|father|"
    r"abstin|birth\s+control|wocbp|agree|must\s+use|steril",
    re.IGNORECASE,
)
_CLAUSE_END_RE = re.compile(r"[.;\n]")
_FEMALE = frozenset({"female", "females", "women", "woman", "girl", "girls"})


def extract_sex(criterion: Criterion) -> list[SexConstraint]:
    """The sex constraint of a criterion that states eligibility by sex ("Male patients aged ...")."""
    text = criterion.text
    m = _SEX_OPENING_RE.match(text)
    if m is None or _BOTH_SEXES_RE.match(text, m.end()):
        return []
    rest = text[m.end() :]
    if rest.lstrip().startswith(":"):
        return []
    stop = _CLAUSE_END_RE.search(rest)
    clause = rest if stop is None else rest[: stop.start()]
    if _REPRODUCTION_RE.search(clause):
        return []
    sex = "FEMALE" if m["sex"].lower() in _FEMALE else "MALE"
    if criterion.kind == "exclusion":
        # Only a bare "Men." excludes a sex; "Women who are pregnant" excludes pregnancy.
        if rest.strip(" .;"):
            return []
        sex = "MALE" if sex == "FEMALE" else "FEMALE"
    start = m.start("sex")
    return [
        SexConstraint(
            criterion_kind=criterion.kind,
            criterion_ordinal=criterion.ordinal,
            start=start,
            end=m.end(),
            text=text[start : m.end()],
            sex=sex,
        )
    ]


def extract(criterion: Criterion) -> list[Constraint]:
    """Age and sex constraints of one criterion, in text order."""
    found: list[Constraint] = [*extract_sex(criterion), *extract_age(criterion)]
    found.sort(key=lambda c: c.start)
    return found
