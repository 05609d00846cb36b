"""Shared pieces of the numeric constraint families: numbers, comparators, bounds, negation, sense.

A family module finds its subject (``ECOG``, ``platelets``, ``aged``) with its own compiled
regular expression and then reads the numeric expression that follows with :func:`read_bound`,
using a bound pattern built once by :func:`compile_bound` from the family's unit pattern. A bound
is an :class:`Interval` as the text states it; :func:`required_interval` turns it into the range a
patient must be in after the criterion's sense (inclusion or exclusion, negation, "... are
excluded") is resolved.

Every pattern here is linear: no nested unbounded quantifiers, possessive whitespace, and
lookbehind windows of fixed size.

>>> parse_number("100,000"), parse_number("1,5"), parse_number("100 000")
(100000.0, 1.5, 100000.0)
>>> parse_cell_count("1.5 × 109/L"), parse_cell_count("100 000/µL"), parse_cell_count("1.5x10⁹/L")
(1.5, 100.0, 1.5)
>>> parse_comparator("not less than"), parse_comparator("≦"), invert(">=")
('>=', '<=', '<')
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from typing import Final, Literal

from trialgraph.model import Criterion
from trialgraph.vocabulary import Mention, Vocabulary

__all__ = [
    "COMPARATOR",
    "COUNT_UNIT",
    "NUMBER",
    "POSTFIX",
    "Bound",
    "Comparator",
    "Interval",
    "compile_bound",
    "count_factor",
    "find_mentions",
    "invert",
    "is_negated",
    "parse_cell_count",
    "parse_comparator",
    "parse_number",
    "read_bound",
    "required_interval",
    "sense_is_exclusion",
    "stated_as_excluded",
]

Comparator = Literal[">=", ">", "<=", "<"]

# --- numbers ---------------------------------------------------------------------------------------

# Thousands groups ("100,000", "100 000", "1.500.000" is not supported) come first; a comma followed
# by one or two digits is a decimal comma ("1,5"). A space group needs exactly three digits after it.
_THOUSANDS = r"\d{1,3}(?:[,\u00a0\u202f\u2009 ]\d{3})+(?![\d.,])"
NUMBER: Final = rf"(?:{_THOUSANDS}|\d+(?:[.,]\d+)?)"
"""Regex source of one number: ``1.5``, ``1,5``, ``100,000``, ``100 000``."""
_THOUSANDS_RE = re.compile(_THOUSANDS)


def parse_number(text: str) -> float:
    """The value of a number matched by :data:`NUMBER` (thousands groups or a decimal comma)."""
    text = text.strip()
    if _THOUSANDS_RE.fullmatch(text):
        return float(re.sub(r"\D", "", text))
    return float(text.replace(",", "."))


# --- cell counts ---------------------------------------------------------------------------------

_VOLUME = (
    r"(?:µ|μ|u|mc|micro)\s*+l(?:it(?:er|re))?\b|mm\s*+(?:3|³|\\?\^\s*+3)|cmm\b|cu\.?\s*+mm\b"
    r"|cubic\s++(?:mm|millimet(?:er|re))\b|l(?:it(?:er|re))?\b"
)
_EXPONENT = r"(?:\d{1,2}|[⁰¹²³⁴⁵⁶⁷⁸⁹]{1,2})"
COUNT_UNIT: Final = (
    rf"(?:(?:[x×*ⅹ]\s*+)?10\s*+(?:\\?\^|\*\*?|e)?\s*+\(?{_EXPONENT}\)?\s*+|(?:k|g|giga)\s*+)?"
    rf"(?:cells\s*+)?(?:/|per\s++)\s*+(?:{_VOLUME})"
)
"""Regex source of a cell-count unit: ``x 10^9/L``, ``× 109/L`` (10^9), ``x 10⁹/L``, ``G/L``,
``/mm3``, ``cells/mm³``, ``/µL``, ``x 10^3/µL``, ``K/µL``; read it with :func:`count_factor`."""
_COUNT_PARSE_RE = re.compile(
    rf"(?:[x×*ⅹ]?10(?:\\?\^|\*\*?|e)?\(?(?P<exp>{_EXPONENT})\)?|(?P<prefix>k|giga|g))?(?:cells)?(?:/|per)"
    r"(?P<vol>.*)",
    re.IGNORECASE,
)
_COUNT_RE = re.compile(rf"(?P<n>{NUMBER})\s*+(?P<u>{COUNT_UNIT})", re.IGNORECASE)
_SUPERSCRIPTS = str.maketrans("⁰¹²³⁴⁵⁶⁷⁸⁹", "0123456789")
_WHITESPACE_RE = re.compile(r"\s+")


def count_factor(unit: str) -> float | None:
    """The factor from a cell-count unit to 10^9/L (``"/mm3"`` -> 0.001), or None if it is not one.

    "109/L" written for 10^9/L reads as 10 to the 9th; 1000 per µL is 1 x 10^9/L.
    """
    m = _COUNT_PARSE_RE.fullmatch(_WHITESPACE_RE.sub("", unit.lower()).translate(_SUPERSCRIPTS))
    if m is None:
        return None
    exponent = int(m["exp"]) if m["exp"] else {"k": 3, "g": 9, "giga": 9}.get((m["prefix"] or "").lower(), 0)
    per_litre = m["vol"] in ("l", "liter", "litre")
    return 10.0 ** (exponent - 9) if per_litre else 10.0 ** (exponent - 3)


def parse_cell_count(text: str) -> float | None:
    """A count with its unit ("1.5 × 10^9/L", "100,000/mm3") in 10^9/L, or None."""
    m = _COUNT_RE.fullmatch(text.strip())
    if m is None:
        return None
    factor = count_factor(m["u"])
    return None if factor is None else round(parse_number(m["n"]) * factor, 9)


# --- comparators -----------------------------------------------------------------------------------

_COMPARATOR_WORDS: Final[dict[str, Comparator]] = {
    # at least
    "at least": ">=",
    "greater than or equal to": ">=",
    "greater than/equal to": ">=",
    "more than/equal to": ">=",
    "greater than or equal": ">=",
    "greater or equal to": ">=",
    "greater or equal than": ">=",
    "more than or equal to": ">=",
    "higher than or equal to": ">=",
    "equal to or greater than": ">=",
    "equal to or more than": ">=",
    "equal to or higher than": ">=",
    "equal or greater than": ">=",
    "equal or above": ">=",
    "equal to or older than": ">=",
    "more or equal to": ">=",
    "more or equal": ">=",
    "greater or equal": ">=",
    "equal or more than": ">=",
    "superior or equal to": ">=",
    "no less than": ">=",
    "not less than": ">=",
    "no lower than": ">=",
    "not lower than": ">=",
    "no fewer than": ">=",
    "not below": ">=",
    "no younger than": ">=",
    "not younger than": ">=",
    "a minimum of": ">=",
    "minimum of": ">=",
    "minimum": ">=",
    # more than
    "greater than": ">",
    "more than": ">",
    "higher than": ">",
    "larger than": ">",
    "longer than": ">",
    "older than": ">",
    "superior to": ">",
    "in excess of": ">",
    "exceeding": ">",
    "exceeds": ">",
    "above": ">",
    "over": ">",
    # at most
    "less than or equal to": "<=",
    "less than/equal to": "<=",
    "lesser than or equal to": "<=",
    "lesser or equal to": "<=",
    "less than or equal": "<=",
    "less or equal to": "<=",
    "lower than or equal to": "<=",
    "equal to or less than": "<=",
    "equal to or lower than": "<=",
    "equal or less than": "<=",
    "equal or below": "<=",
    "equal to or younger than": "<=",
    "less or equal": "<=",
    "inferior or equal to": "<=",
    "no more than": "<=",
    "not more than": "<=",
    "no greater than": "<=",
    "not greater than": "<=",
    "no higher than": "<=",
    "not higher than": "<=",
    "no older than": "<=",
    "not older than": "<=",
    "not exceeding": "<=",
    "not to exceed": "<=",
    "not above": "<=",
    "a maximum of": "<=",
    "maximum of": "<=",
    "maximum": "<=",
    "at most": "<=",
    "up to": "<=",
    # less than
    "less than": "<",
    "lesser than": "<",
    "lower than": "<",
    "fewer than": "<",
    "smaller than": "<",
    "shorter than": "<",
    "younger than": "<",
    "inferior to": "<",
    "below": "<",
    "under": "<",
}

# Symbols, with the spellings registries use: "=>", ">/=", "> or =", HTML entities and the
# markdown escape "\>" of CT.gov API v2 text.
_COMPARATOR_SYMBOLS: Final[tuple[tuple[str, Comparator], ...]] = (
    (r"(?:\\?>|&gt;)\s?(?:=|/=|or\s=)(?:\sto\b)?|=\s?\\?>|[≥≧⩾]=?|&ge;|\u2265", ">="),
    (r"(?:\\?<|&lt;)\s?(?:=|/=|or\s=)(?:\sto\b)?|=\s?\\?<|[≤≦⩽]=?|&le;|\u2264", "<="),
    (r"\\?>|&gt;|＞", ">"),
    (r"\\?<|&lt;|＜", "<"),
)


def _phrase(words: str) -> str:
    return r"\s+".join(re.escape(w) for w in words.split())


_WORD_ALTERNATION = "|".join(_phrase(w) for w in sorted(_COMPARATOR_WORDS, key=len, reverse=True))
COMPARATOR: Final = "(?:" + "|".join(s for s, _ in _COMPARATOR_SYMBOLS) + rf"|\b(?:{_WORD_ALTERNATION})\b)"
"""Regex source of one comparator phrase (symbol or words); read it with :func:`parse_comparator`."""
_SYMBOL_RES = tuple((re.compile(s), op) for s, op in _COMPARATOR_SYMBOLS)
_SPACES_RE = re.compile(r"\s+")

_POSTFIX_WORDS: Final[dict[str, Comparator]] = {
    "more": ">=",
    "greater": ">=",
    "higher": ">=",
    "above": ">=",
    "older": ">=",
    "over": ">=",
    "longer": ">=",
    "up": ">=",
    "less": "<=",
    "lower": "<=",
    "below": "<=",
    "under": "<=",
    "younger": "<=",
    "fewer": "<=",
    "smaller": "<=",
}
POSTFIX: Final = r"\b(?:or|and)\s+(?:" + "|".join(_POSTFIX_WORDS) + r")\b(?!\s+than|\s*+(?:the\s+)?\d)"
"""Regex source of a comparator that follows its number: "18 years *or older*", "2 *or less*"."""


def parse_comparator(text: str) -> Comparator | None:
    """The comparator (``>=``, ``>``, ``<=``, ``<``) a prefix or postfix phrase states, or None."""
    phrase = _SPACES_RE.sub(" ", text.strip().lower())
    if phrase in _COMPARATOR_WORDS:
        return _COMPARATOR_WORDS[phrase]
    first, _, last = phrase.partition(" ")
    if first in ("or", "and") and last in _POSTFIX_WORDS:
        return _POSTFIX_WORDS[last]
    for pattern, op in _SYMBOL_RES:
        if pattern.fullmatch(phrase):
            return op
    return None


_INVERSE: Final[dict[Comparator, Comparator]] = {">=": "<", ">": "<=", "<=": ">", "<": ">="}


def invert(comparator: Comparator) -> Comparator:
    """The comparator of the complement: ``>=`` becomes ``<``, ``>`` becomes ``<=`` and back."""
    return _INVERSE[comparator]


# --- intervals and bounds --------------------------------------------------------------------------


@dataclass(frozen=True)
class Interval:
    """A range of values; a missing end is unbounded."""

    lo: float | None = None
    hi: float | None = None
    lo_inclusive: bool = True
    hi_inclusive: bool = True

    @classmethod
    def ray(cls, comparator: Comparator, value: float) -> Interval:
        """The values that satisfy ``x <comparator> value``."""
        if comparator in (">=", ">"):
            return cls(lo=value, lo_inclusive=comparator == ">=")
        return cls(hi=value, hi_inclusive=comparator == "<=")

    def complement(self) -> Interval | None:
        """The complement when it is one interval (a one-sided range), else None."""
        if self.lo is not None and self.hi is None:
            return Interval(hi=self.lo, hi_inclusive=not self.lo_inclusive)
        if self.hi is not None and self.lo is None:
            return Interval(lo=self.hi, lo_inclusive=not self.hi_inclusive)
        return None

    def comparators(self) -> list[tuple[Comparator, float]]:
        """The interval as one or two ``(comparator, value)`` tests."""
        tests: list[tuple[Comparator, float]] = []
        if self.lo is not None:
            tests.append((">=" if self.lo_inclusive else ">", self.lo))
        if self.hi is not None:
            tests.append(("<=" if self.hi_inclusive else "<", self.hi))
        return tests


@dataclass(frozen=True)
class Bound:
    """A numeric expression as the text states it, with the span it was read from.

    ``outside`` is true when the text names values outside ``interval`` ("< 18 or > 75");
    ``exact`` when it is a bare number without a comparator; ``units`` are the raw unit texts
    after the first and the second number (None where absent).
    """

    interval: Interval
    start: int
    end: int
    units: tuple[str | None, str | None] = (None, None)
    outside: bool = False
    exact: bool = False

    @property
    def unit(self) -> str | None:
        """The first unit the expression states."""
        return self.units[0] or self.units[1]


_SEPARATOR = r"(?P<sep>-|–|—|~|\bto\b|\bthrough\b|,?\s*+\band\b|,?\s*+\bor\b)"


def compile_bound(unit: str | None = None) -> re.Pattern[str]:
    """Compile the bound pattern for one family; ``unit`` is a regex source for its units.

    The pattern reads, at one position: a range ("18-75", "between 0 and 2", "≥18 and ≤70", "from
    18 to 75"), a one-sided bound ("≥ 1.5", "at least 18", "18 or older") or a bare number.
    """
    u1 = rf"(?:\s*+(?P<u1>{unit}))?" if unit else ""
    u2 = rf"(?:\s*+(?P<u2>{unit}))?" if unit else ""
    # CT.gov restates a worded comparator as a symbol: "greater than (\>) 3".
    restated = rf"(?:\(\s*+{COMPARATOR}\s*+\)\s*+)?"
    return re.compile(
        rf"(?:(?P<btw>between|from)\s++)?"
        rf"(?:(?P<c1>{COMPARATOR})\s*+{restated})?"
        rf"(?P<n1>{NUMBER}){u1}"
        rf"(?:\s*+(?P<post>{POSTFIX})"
        rf"|\s*+{_SEPARATOR}\s*+(?:(?P<c2>{COMPARATOR})\s*+{restated})?(?P<n2>{NUMBER}){u2})?",
        re.IGNORECASE,
    )


def _is_lower(op: Comparator | None) -> bool:
    return op in (">=", ">")


def read_bound(pattern: re.Pattern[str], text: str, pos: int, *, between: bool = False) -> Bound | None:
    """Read the bound that starts exactly at ``pos`` with a pattern from :func:`compile_bound`.

    ``between`` says a "between" came before ``pos`` ("between the ages of 30 and 65").
    """
    m = pattern.match(text, pos)
    if m is None:
        return None
    n1 = parse_number(m["n1"])
    c1 = parse_comparator(m["c1"]) if m["c1"] else None
    u1 = m.groupdict().get("u1")
    one_end = m.end("u1") if u1 else m.end("n1")
    if m["post"]:
        op = parse_comparator(m["post"])
        if op is not None and c1 is None:
            return Bound(Interval.ray(op, n1), m.start(), m.end(), (u1, None))
    if m["n2"]:
        n2 = parse_number(m["n2"])
        c2 = parse_comparator(m["c2"]) if m["c2"] else None
        sep = m["sep"].lstrip(", \t").lower()
        units = (u1, m.groupdict().get("u2"))
        # "< 18 or > 75", "below 18 and above 45", "> 21 or < 2": the values outside an interval.
        if sep in ("or", "and") and c1 is not None and c2 is not None and _is_lower(c1) != _is_lower(c2):
            (lo_op, lo), (hi_op, hi) = ((c1, n1), (c2, n2)) if not _is_lower(c1) else ((c2, n2), (c1, n1))
            if lo <= hi:
                inside = Interval(lo, hi, lo_op == "<", hi_op == ">")
                return Bound(inside, m.start(), m.end(), units, outside=True)
        # A range: "and" only after "between" or with a comparator on both numbers.
        paired = between or m["btw"] is not None or (c1 is not None and c2 is not None)
        is_range = sep != "or" and (sep != "and" or paired)
        if is_range and (c1 is None or _is_lower(c1)) and (c2 is None or not _is_lower(c2)) and n1 <= n2:
            return Bound(Interval(n1, n2, c1 != ">", c2 != "<"), m.start(), m.end(), units)
    start = m.start("c1") if c1 else m.start("n1")
    if c1 is None:
        return Bound(Interval(n1, n1), start, one_end, (u1, None), exact=True)
    return Bound(Interval.ray(c1, n1), start, one_end, (u1, None))


# --- negation and sense ----------------------------------------------------------------------------

_NEGATION_WINDOW = 40
_CLAUSE_BREAK_RE = re.compile(r"[;:.!?()\[\],\n]|\b(?:and|but|or|then)\b", re.IGNORECASE)
# A cue at most three words before the mention; "not specified", "not applicable" are no negation.
_NEGATION_CUE_RE = re.compile(
    r"\b(?:no|not(?!\s+(?:specified|applicable|required|available|known|mandatory|necessary|limited))"
    r"|without|never|absence\s+of|other\s+than|free\s+of|lack\s+of)\b(?:\W+\w+){0,3}\W*$",
    re.IGNORECASE,
)
_EXCLUDED_AFTER_RE = re.compile(
    r"[^.;\n]{0,40}?\b(?:is|are|will\s+be|must\s+be)\s+(?:not\s+eligible|ineligible|excluded|"
    r"not\s+allowed|not\s+permitted|not\s+included)\b",
    re.IGNORECASE,
)


def is_negated(text: str, start: int) -> bool:
    """Whether a negation cue ("no", "not", "without", "absence of", "other than") governs ``start``.

    The cue must stand in the clause before ``start`` (back to a punctuation mark or a conjunction,
    at most 40 characters) and at most three words before it.

    >>> is_negated("No ECOG 2 or more", 3), is_negated("Liver metastases absent; ECOG 0-1", 25)
    (True, False)
    """
    lo = max(0, start - _NEGATION_WINDOW)
    window = text[lo:start]
    cut = 0
    for m in _CLAUSE_BREAK_RE.finditer(window):
        cut = m.end()
    return _NEGATION_CUE_RE.search(window, cut) is not None


def stated_as_excluded(text: str, end: int) -> bool:
    """Whether the clause after ``end`` says it is excluded ("... are not eligible", "... excluded")."""
    return _EXCLUDED_AFTER_RE.match(text, end) is not None


def sense_is_exclusion(criterion: Criterion, start: int, end: int) -> bool:
    """Whether the mention at ``start:end`` names what a patient must NOT be.

    An exclusion criterion excludes; "... are not eligible" after the mention excludes; a negation
    cue before it flips the result ("no ECOG >= 2").
    """
    exclude = criterion.kind == "exclusion" or stated_as_excluded(criterion.text, end)
    return exclude != is_negated(criterion.text, start)


def required_interval(bound: Bound, exclude: bool) -> Interval | None:
    """The interval a patient must be in, or None when it is not one interval ("not 18-65")."""
    if bound.outside == exclude:
        return bound.interval
    return bound.interval.complement()


@lru_cache(maxsize=1024)
def _mentions(vocabulary: Vocabulary, text: str) -> tuple[Mention, ...]:
    return tuple(vocabulary.find_mentions(text))


def find_mentions(vocabulary: Vocabulary, text: str) -> list[Mention]:
    """``vocabulary.find_mentions(text)``, remembered for the most recent texts.

    The therapy and imaging readers scan the same criterion text, and the trial tags read the
    inclusion criteria the disease reader has just read; mentions are immutable, so they are shared.
    """
    return list(_mentions(vocabulary, text))
