"""Performance-status and life-expectancy constraints read from one eligibility criterion.

Performance status is read on the scale the criterion names: ``ECOG`` (also "Eastern Cooperative
Oncology Group", "Zubrod", "GOG", and "WHO/ECOG" where both are named), ``WHO``, ``KARNOFSKY``
("KPS") and ``LANSKY``. A performance status without a scale is read as ECOG when its values are at most 5 and
as Karnofsky otherwise. Values are ranges ("0-1", "0 to 2", "between 0 and 2"), lists ("0, 1 or
2"), one-sided bounds ("<= 2", "2 or less", ">= 70%") or a single value ("PS of 2").

Scores are whole steps (1 on ECOG and WHO, 10 on Karnofsky and Lansky), so strict bounds become
inclusive ones: "ECOG < 2" is ``max_value=1`` and "KPS > 60" is ``min_value=70``. An exclusion
takes the complement within the scale (ECOG and WHO 0-4, 5 being death; Karnofsky and Lansky
0-100): exclusion "ECOG >= 2" is ``max_value=1`` and exclusion "ECOG 3-4" is ``max_value=2``.
When a criterion names several scales ("ECOG 0-1 or KPS >= 70") each gives its own constraint:
they state the same requirement on different scales. A carve-out ("..., unless PS of 3-4 due to
bone pain") gives nothing.

Life expectancy is a minimum in months: weeks convert at 12/52 months per week (12 weeks =
2.77 months), days as sevenths of a week, years as 12 months. "Life expectancy of 12 weeks"
without a comparator is read as a minimum. A life expectancy that is an alternative to another
requirement ("aged 18-70, or with an estimated life expectancy > 10 years") is not emitted; an
upper limit on life expectancy cannot be represented and is not emitted either.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from typing import Final

from trialgraph.extract.common import (
    Bound,
    Interval,
    compile_bound,
    parse_comparator,
    read_bound,
    required_interval,
    sense_is_exclusion,
)
from trialgraph.model import Constraint, Criterion, LifeExpectancyConstraint, PerformanceConstraint

__all__ = ["extract", "extract_life_expectancy", "extract_performance"]


@dataclass(frozen=True)
class _Scale:
    """A performance scale: its valid range, the range patients can be in, and its step."""

    lowest: float
    highest: float
    living_highest: float
    step: float


_SCALES: Final[dict[str, _Scale]] = {
    "ECOG": _Scale(0, 5, 4, 1),
    "WHO": _Scale(0, 5, 4, 1),
    "KARNOFSKY": _Scale(0, 100, 100, 10),
    "LANSKY": _Scale(0, 100, 100, 10),
}

# A scale name, then words that belong to it ("performance status (PS) score of"), then the
# value. The filler is a bounded repetition of single words and short parentheticals.
_PS_NAME = (
    r"\b(?:ecog|gog|zubrod|eastern\s++cooperative\s++(?:oncology\s++)?group|karnofsky|kps|lansky|lps"
    r"|who(?=\s*+/\s*+ecog|\s*+-?\s*+(?:\(who\)\s*+)?performance|\s*+ps\b)"
    r"|world\s++health\s++organi[sz]ation(?=\s*+(?:\(who\)\s*+)?performance)"
    r"|performance\s++(?:status|score|scale)|ps(?=\s*+[:=]?\s*+(?:[<>≤≥]|\d|of\b)))\b"
)
_PS_FILLER = (
    r"\)?(?:[\s/:=,-]*+(?:\([^()\d]{1,40}\)|(?:performance|status|scale|scores?|index|ps|grade|level|rating"
    r"|of|is|must|be|should|a|an|the|ecog|who|zubrod|kps|karnofsky|lansky|play|lps|at\s++(?:screening"
    r"|baseline|enrol?lment|study\s++entry|registration))\b)){0,12}"
    r"(?:[\s:,(]|=(?![<>]))*+"
)
_PS_RE = re.compile(_PS_NAME + _PS_FILLER, re.IGNORECASE)
_PS_BOUND_RE = compile_bound(r"%|percent\b")
# "0, 1, or 2", "0 or 1", "0/1": a list of ECOG grades.
_PS_LIST_RE = re.compile(r"[0-5](?:\s*+(?:,\s*+or|,\s*+and|,|/|\bor\b|\band\b)\s*+[0-5](?!\d|[.,]\d))+")
_DIGIT_RE = re.compile(r"\d")
# "..., unless PS of 3-4 based solely on bone pain": a carve-out, not a requirement.
_CARVE_OUT_BEFORE_RE = re.compile(r"\b(?:unless|except|other\s+than)\b[^.;]{0,30}$", re.IGNORECASE)


def _scale_name(subject: str, values: Interval) -> str:
    """The scale a performance-status mention names (ECOG wins over WHO in "WHO/ECOG")."""
    s = subject.lower()
    if "ecog" in s or "eastern" in s or "zubrod" in s or "gog" in s:
        return "ECOG"
    if "karnofsky" in s or "kps" in s:
        return "KARNOFSKY"
    if "lansky" in s or "lps" in s:
        return "LANSKY"
    if "who" in s or "world health" in s:
        return "WHO"
    top = values.hi if values.hi is not None else values.lo
    return "KARNOFSKY" if top is not None and top > 5 else "ECOG"


def _whole_steps(interval: Interval, step: float) -> tuple[float | None, float | None]:
    """Inclusive bounds on a scale of whole steps ("> 60" on Karnofsky is ">= 70")."""
    lo, hi = interval.lo, interval.hi
    if lo is not None and not interval.lo_inclusive:
        lo = math.floor(lo / step) * step + step
    if hi is not None and not interval.hi_inclusive:
        hi = math.ceil(hi / step) * step - step
    return lo, hi


def _required_scores(
    stated: Interval, scale: _Scale, exclude: bool
) -> tuple[float | None, float | None] | None:
    """The (min, max) scores a patient must have, or None when that is not one range."""
    lo, hi = _whole_steps(stated, scale.step)
    if lo is not None and hi is not None and lo > hi:
        return None
    if not exclude:
        return lo, hi
    open_below = lo is None or lo <= scale.lowest
    open_above = hi is None or hi >= scale.living_highest
    if open_below and open_above:
        return None
    if open_below:
        assert hi is not None
        return hi + scale.step, None
    if open_above:
        assert lo is not None
        return None, lo - scale.step
    return None


def _read_scores(text: str, pos: int) -> tuple[Interval, int, bool] | None:
    """The scores stated at ``pos``: an interval, where it ends, and whether it states the outside."""
    listed = _PS_LIST_RE.match(text, pos)
    if listed is not None:
        digits = [float(d) for d in _DIGIT_RE.findall(listed.group())]
        return Interval(min(digits), max(digits)), listed.end(), False
    bound: Bound | None = read_bound(_PS_BOUND_RE, text, pos)
    if bound is None:
        return None
    return bound.interval, bound.end, bound.outside


def extract_performance(criterion: Criterion) -> list[PerformanceConstraint]:
    """Performance-status constraints ("ECOG 0-1", "KPS >= 70", exclusion "ECOG >= 2" -> max 1)."""
    text = criterion.text
    found: list[PerformanceConstraint] = []
    pos = 0
    while True:
        m = _PS_RE.search(text, pos)
        if m is None:
            break
        pos = m.end()
        read = _read_scores(text, m.end())
        if read is None or _CARVE_OUT_BEFORE_RE.search(text, max(0, m.start() - 40), m.start()):
            continue
        stated, end, outside = read
        pos = end
        name = _scale_name(m.group(), stated)
        scale = _SCALES[name]
        values = [v for v in (stated.lo, stated.hi) if v is not None]
        if not all(scale.lowest <= v <= scale.highest for v in values):
            continue
        exclude = sense_is_exclusion(criterion, m.start(), end) != outside
        scores = _required_scores(stated, scale, exclude)
        if scores is None:
            continue
        if any((c.scale, c.min_value, c.max_value) == (name, *scores) for c in found):
            continue
        found.append(
            PerformanceConstraint(
                criterion_kind=criterion.kind,
                criterion_ordinal=criterion.ordinal,
                start=m.start(),
                end=end,
                text=text[m.start() : end],
                scale=name,
                min_value=scores[0],
                max_value=scores[1],
            )
        )
    return found


# --- life expectancy -------------------------------------------------------------------------------

# Every match of _LE_RE holds one of these words: a text without them is not scanned.
_LE_HINT_RE = re.compile(r"life|surviv|live", re.IGNORECASE)
_LE_RE = re.compile(
    r"(?:(?P<pre>minimum|at\s++least)\s++)?"
    r"\b(?:(?:estimated|expected|anticipated|predicted|projected|minimum|minimal)\s++)?"
    r"(?:life[\s-]++expectancy|(?:expected|estimated|anticipated|predicted)\s++survival(?:\s++time)?"
    r"|survival\s++expectancy|life\s++span|expected\s++to\s++(?:live|survive))\b"
    r"(?:\s*+\([^()]{0,60}\))?"
    r"(?:[\s:=,]++(?:of|is|was|must|be|should|will|estimated|expected|judged|by|the|investigator|in|"
    r"opinion|to|that|time|period)\b){0,8}(?:[\s:,]|=(?![<>]))*+",
    re.IGNORECASE,
)
_LE_UNIT = r"(?:weeks?|wks?|months?|mos?|years?|yrs?|days?)\b"
_LE_BOUND_RE = compile_bound(_LE_UNIT)
_MONTHS_PER: Final[dict[str, float]] = {"w": 12 / 52, "m": 1.0, "y": 12.0, "d": 12 / 52 / 7}
# "..., or with an estimated life expectancy": an alternative to something else.
_ALTERNATIVE_BEFORE_RE = re.compile(r"\bor\s++(?:with\s++)?(?:an?\s++)?$", re.IGNORECASE)


def extract_life_expectancy(criterion: Criterion) -> list[LifeExpectancyConstraint]:
    """Minimum life expectancy in months ("life expectancy >= 12 weeks" -> 2.77 months)."""
    text = criterion.text
    found: list[LifeExpectancyConstraint] = []
    if _LE_HINT_RE.search(text) is None:
        return found
    for m in _LE_RE.finditer(text):
        bound = read_bound(_LE_BOUND_RE, text, m.end())
        if bound is None or bound.unit is None:
            continue
        if _ALTERNATIVE_BEFORE_RE.search(text[max(0, m.start() - 20) : m.start()]):
            continue
        stated = bound.interval
        if bound.exact:
            pre = parse_comparator(m["pre"]) if m["pre"] else ">="
            assert pre is not None
            stated = Interval.ray(pre, stated.lo if stated.lo is not None else 0.0)
        exclude = sense_is_exclusion(criterion, m.start(), bound.end)
        stated_bound = Bound(stated, bound.start, bound.end, bound.units, bound.outside)
        interval = required_interval(stated_bound, exclude)
        if interval is None or interval.lo is None or interval.hi is not None:
            continue
        months = interval.lo * _MONTHS_PER[bound.unit.strip().lower()[0]]
        found.append(
            LifeExpectancyConstraint(
                criterion_kind=criterion.kind,
                criterion_ordinal=criterion.ordinal,
                start=m.start(),
                end=bound.end,
                text=text[m.start() : bound.end],
                min_months=round(months, 4),
                min_inclusive=interval.lo_inclusive,
            )
        )
    return found


def extract(criterion: Criterion) -> list[Constraint]:
    """Performance-status and life-expectancy constraints of one criterion, in text order."""
    found: list[Constraint] = [*extract_performance(criterion), *extract_life_expectancy(criterion)]
    found.sort(key=lambda c: c.start)
    return found
