"""Laboratory thresholds read from one eligibility criterion.

**Analytes.** Names are normalised to this vocabulary (with the canonical unit values are stored
in, and how a value with no unit is read):

=======================  =====================================================  ===============
identifier               names read                                             canonical unit
=======================  =====================================================  ===============
``anc``                  ANC, absolute neutrophil count, neutrophils, AGC       ``10^9/L``
``wbc``                  WBC, white blood cells, leukocytes                     ``10^9/L``
``lymphocytes``          lymphocytes, absolute lymphocyte count, ALC            ``10^9/L``
``platelets``            platelets, platelet count, PLT, thrombocytes           ``10^9/L``
``hemoglobin``           hemoglobin, haemoglobin, Hb, Hgb (not HbA1c)           ``g/dL``
``bilirubin``            (total) bilirubin, TBIL, T-bil, TBL                    ``mg/dL`` or ULN
``direct_bilirubin``     direct or conjugated bilirubin                         ``mg/dL`` or ULN
``ast``                  AST, SGOT, aspartate aminotransferase                  ``U/L`` or ULN
``alt``                  ALT, SGPT, alanine aminotransferase                    ``U/L`` or ULN
``alp``                  ALP, alkaline phosphatase                              ``U/L`` or ULN
``creatinine``           (serum) creatinine, Cr, SCr                            ``mg/dL`` or ULN
``creatinine_clearance`` creatinine clearance, CrCl, "clearance" with mL/min    ``mL/min``
``egfr``                 eGFR, GFR, (estimated) glomerular filtration rate      ``mL/min/1.73m2``
``albumin``              (serum) albumin (not urine albumin)                    ``g/dL``
``inr``                  INR, PT-INR, international normalised ratio            none or ULN
``pt``                   PT, prothrombin time                                   ``s`` or ULN
``aptt``                 aPTT, PTT, (activated) partial thromboplastin time     ``s`` or ULN
``testosterone``         (serum) testosterone                                   ``nmol/L``
``psa``                  PSA, prostate-specific antigen                         ``ng/mL``
``lvef``                 LVEF, (left ventricular) ejection fraction             ``%``
=======================  =====================================================  ===============

Conversions: cell counts in ``10^9/L`` (``x 10^9/L``, ``109/L``, ``10⁹/L``, ``G/L``; ``/µL``,
``/mm3`` and ``cells/mm³`` divide by 1000, ``x 10^3/µL`` is ``10^9/L``); hemoglobin and albumin
``g/L`` / 10, hemoglobin ``mmol/L`` x 1.611; bilirubin ``µmol/L`` / 17.1; creatinine ``µmol/L`` /
88.4; testosterone ``ng/dL`` x 0.0347 and ``ng/mL`` x 3.47. eGFR in ``mL/min`` is taken as per
1.73 m². A value with no unit is read by its size where that is unambiguous (ANC 1500 is per µL,
ANC 1.5 is 10^9/L; hemoglobin 9 is g/dL, 90 is g/L; creatinine 1.5 is mg/dL, 133 is µmol/L;
platelets 100 is 10^9/L, 100000 is per µL; INR, eGFR, CrCl, LVEF and PSA in their usual unit);
other analytes need a unit or a multiple of ULN. Values outside a plausible range are dropped.

**Spans.** A constraint's span runs from its own analyte name to the end of its threshold, so
the constraints of a list sharing one threshold ("AST/ALT/ALP <= 2.5 x ULN") have spans
"AST/ALT/ALP <= 2.5 x ULN", "ALT/ALP <= 2.5 x ULN" and "ALP <= 2.5 x ULN", each covering the value.
A conditional branch's span runs from the analyte to the end of that branch's threshold. The same
threshold given in two units ("< 50 ng/dL or 1.7 nmol/L", "1.5 x 10^9/L (1500/mm3)") is one
constraint, valued from the canonical unit when it is one of the two, and its span covers both.

**Sense.** Values are what the patient must satisfy: an exclusion "platelets < 100 x 10^9/L" is
``platelets >= 100``. Analytes listed with one threshold must each satisfy it.

**applies_when**, a small language a matcher can read:

* ``None``: the constraint always applies.
* ``"<condition>"``: a conditional alternative applies to patients with the condition
  ("AST <= 5 x ULN" with ``"liver metastases"``); ``"not <condition>"``: the default branch
  applies to the others ("AST <= 2.5 x ULN" with ``"not liver metastases"``), and a threshold
  limited to some patients keeps its words ("INR <= 1.5 in patients not receiving
  anticoagulation" gives ``"not receiving anticoagulation"``; "unless on anticoagulation" gives
  ``"not on anticoagulation"``).
* ``"unless <analyte> <comparator> <value> <unit or x ULN> [or ...]"``: an "or" between analytes
  ("creatinine <= 1.5 x ULN or creatinine clearance >= 60 mL/min"): the constraint need not hold
  when one of the named alternatives holds. Every member of the group names all the others, so
  the group is satisfied when any member is. (An exclusion joined by "combined with" becomes such
  a group after inversion; an exclusion joined by "or" becomes plain constraints.) A condition and
  a group combine as ``"<condition>; unless ..."``.

Mentions inside an exception ("... is allowed if ...", "... are not excluded") yield nothing.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Final

from trialgraph.extract.common import (
    COMPARATOR,
    COUNT_UNIT,
    Bound,
    Comparator,
    Interval,
    compile_bound,
    count_factor,
    parse_comparator,
    read_bound,
    required_interval,
    sense_is_exclusion,
)
from trialgraph.model import Constraint, Criterion, LabConstraint

__all__ = ["ANALYTES", "CANONICAL_UNITS", "extract", "normalise_value"]

# --- analytes --------------------------------------------------------------------------------------

# One alternation, one named group per analyte; at one position the first group that matches wins,
# so longer names ("creatinine clearance", "direct bilirubin") come before shorter ones.
_ANALYTE_PATTERNS: Final[dict[str, str]] = {
    "creatinine_clearance": r"(?:calculated\s++|measured\s++|estimated\s++)?(?:creatinine\s++clearance"
    r"|clearance\s++of\s++creatinine|cr\s*+cl|cl\s*+cr|(?-i:Ccr)|clearance)",
    "egfr": r"(?:estimated\s++)?(?:e\s*-?\s*gfr|gfr|glomerular\s++filtration\s++rate)",
    "direct_bilirubin": r"(?:(?:direct|conjugated)\s++(?:\(\w+\)\s++)?bilirubin|d-?bil)",
    "bilirubin": r"(?<!direct\s)(?<!conjugated\s)(?:total\s++)?(?:serum\s++)?(?:total\s++)?(?:bilirubin"
    r"|t\.?\s*-?\s*bili?|tbl|(?-i:BIL))",
    "creatinine": r"(?:serum\s++)?(?:creatinine|(?-i:S?Cr|sCr))(?![\s-]*+(?:clearance|kinase))",
    "anc": r"(?:absolute\s++)?(?:neutrophils?|neutrophile|granulocytes?)(?:\s++count)?|anc|agc",
    "wbc": r"white\s++(?:blood\s++)?cells?(?:\s++count)?|wbcs?|leu[ck]ocytes?(?:\s++count)?",
    "lymphocytes": r"(?:absolute\s++)?lymphocytes?(?:\s++count)?|alc",
    "platelets": r"platelets?(?:\s++count)?|plts?|thrombocytes?|trombocytes?",
    "hemoglobin": r"(?<!glycated\s)(?<!glycosylated\s)(?:h(?:a|ae|e)moglobin|hgb|hb)(?![\s-]*+a1c?)",
    "ast": r"aspartate\s++(?:amino\s*+)?transaminase|aspartate\s++(?:amino\s*+)?transferase|ast|sgot|asat",
    "alt": r"alanine\s++(?:amino\s*+)?transaminase|alanine\s++(?:amino\s*+)?transferase|alt|sgpt|alat",
    "alp": r"alkaline\s++phosphatases?|alp|alk\s++phos",
    "albumin": r"(?<!urine\s)(?<!urinary\s)(?:serum\s++)?albumin(?![\s-]*+(?:to|/|:)[\s-]*+creatinine)",
    "inr": r"(?:pt\s*+[-/]\s*+)?inr|international\s++normali[sz]ed\s++ratio",
    "aptt": r"a?ptt|(?:activated\s++)?partial\s++thromboplastin\s++time",
    "pt": r"(?-i:PT)|prothrombin\s++time",
    "testosterone": r"(?:serum\s++)?testosterone",
    "psa": r"(?:serum\s++)?(?:psa|prostate[\s-]++specific\s++antigen)",
    "lvef": r"lvef|(?:left\s++ventricular\s++)?ejection\s++fraction|(?-i:EF)",
}
ANALYTES: Final = tuple(_ANALYTE_PATTERNS)
"""The analyte identifiers this module emits."""

_ANALYTE_RE = re.compile(
    r"\b(?:" + "|".join(f"(?P<{name}>{p})" for name, p in _ANALYTE_PATTERNS.items()) + r")\b",
    re.IGNORECASE,
)
# Scanning a long text with the alternation at every position is slow; the alternation is tried
# only at words that start like a name above (lower-cased first two characters of the word).
_WORD_RE = re.compile(r"[A-Za-z][A-Za-z.-]*")
_ANALYTE_STARTS: Final = frozenset(
    {
        *("ab", "ac", "ag", "al", "an", "ap", "as", "bi", "ca", "cc", "cl", "co", "cr", "db", "di", "d-"),
        *("e", "e-", "ef", "eg", "ej", "es", "gf", "gl", "gr", "ha", "hb", "he", "hg", "in", "le", "lv"),
        *("ly", "me", "ne", "pa", "pl", "pr", "ps", "pt", "sc", "se", "sg", "t", "t-", "t.", "tb", "te"),
        *("th", "to", "tr", "wb", "wh"),
    }
)

CANONICAL_UNITS: Final[dict[str, str | None]] = {
    "anc": "10^9/L",
    "wbc": "10^9/L",
    "lymphocytes": "10^9/L",
    "platelets": "10^9/L",
    "hemoglobin": "g/dL",
    "bilirubin": "mg/dL",
    "direct_bilirubin": "mg/dL",
    "ast": "U/L",
    "alt": "U/L",
    "alp": "U/L",
    "creatinine": "mg/dL",
    "creatinine_clearance": "mL/min",
    "egfr": "mL/min/1.73m2",
    "albumin": "g/dL",
    "inr": None,
    "pt": "s",
    "aptt": "s",
    "testosterone": "nmol/L",
    "psa": "ng/mL",
    "lvef": "%",
}
"""The unit each analyte's values are stored in (``None``: a ratio without unit)."""

_COUNTS = frozenset({"anc", "wbc", "lymphocytes", "platelets"})
_ULN_ANALYTES = frozenset(
    {"bilirubin", "direct_bilirubin", "ast", "alt", "alp", "creatinine", "inr", "pt", "aptt"}
)
# Factors from a normalised unit key to the canonical unit.
_FACTORS: Final[dict[str, dict[str, float]]] = {
    "hemoglobin": {"g/dl": 1.0, "g/l": 0.1, "mmol/l": 1.611},
    "albumin": {"g/dl": 1.0, "g/l": 0.1},
    "bilirubin": {"mg/dl": 1.0, "µmol/l": 1 / 17.1, "mg/l": 0.1},
    "direct_bilirubin": {"mg/dl": 1.0, "µmol/l": 1 / 17.1, "mg/l": 0.1},
    "creatinine": {"mg/dl": 1.0, "µmol/l": 1 / 88.4, "mmol/l": 1000 / 88.4},
    "ast": {"u/l": 1.0},
    "alt": {"u/l": 1.0},
    "alp": {"u/l": 1.0},
    "creatinine_clearance": {"ml/min": 1.0},
    "egfr": {"ml/min": 1.0},
    "pt": {"s": 1.0},
    "aptt": {"s": 1.0},
    "testosterone": {"nmol/l": 1.0, "ng/dl": 0.0347, "ng/ml": 3.47, "pg/ml": 0.00347, "ng/l": 0.00347},
    "psa": {"ng/ml": 1.0, "µg/l": 1.0},
    "lvef": {"%": 1.0},
}
# How a value without unit is read: the unit key to assume below and above a size (None: reject).
_UNITLESS: Final[dict[str, tuple[float, str | None, str | None]]] = {
    "anc": (100, "10^9/l", "/µl"),
    "wbc": (100, "10^9/l", "/µl"),
    "lymphocytes": (100, "10^9/l", "/µl"),
    "platelets": (1000, "10^9/l", "/µl"),
    "hemoglobin": (25, "g/dl", "g/l"),
    "albumin": (10, "g/dl", "g/l"),
    "creatinine": (20, "mg/dl", "µmol/l"),
    "creatinine_clearance": (1e9, "ml/min", None),
    "egfr": (1e9, "ml/min", None),
    "inr": (1e9, "", None),
    "lvef": (1e9, "%", None),
    "psa": (1e9, "ng/ml", None),
}
# Plausible thresholds in the canonical unit; anything else is a misreading.
_PLAUSIBLE: Final[dict[str, tuple[float, float]]] = {
    "anc": (0.1, 50),
    "wbc": (0.5, 200),
    "lymphocytes": (0.05, 50),
    "platelets": (5, 2000),
    "hemoglobin": (3, 25),
    "bilirubin": (0.1, 30),
    "direct_bilirubin": (0.05, 30),
    "ast": (5, 2000),
    "alt": (5, 2000),
    "alp": (10, 3000),
    "creatinine": (0.2, 15),
    "creatinine_clearance": (5, 250),
    "egfr": (5, 250),
    "albumin": (1, 8),
    "inr": (0.5, 10),
    "pt": (5, 120),
    "aptt": (10, 200),
    "testosterone": (0.01, 100),
    "psa": (0.01, 10000),
    "lvef": (10, 90),
}
_ULN_PLAUSIBLE = (0.5, 20.0)

# --- units -----------------------------------------------------------------------------------------

_TIMES = r"(?:[x×*ⅹ]\s*+|times\s++|-?\s*+fold\s++)"
_ULN = (
    rf"{_TIMES}?(?:(?:the|institutional|local|laboratory|lab|site|study|cent(?:er|re)|normal)\s++){{0,2}}"
    r"(?:I?ULN|UNL|ULRR|upper\s++(?:normal\s++)?(?:limits?|levels?|range)(?:\s++of\s++(?:the\s++)?"
    r"(?:normal|reference)(?:\s++(?:range|limits?|values?))?)?|normal\s++upper\s++limits?)\b"
    r"(?:\s*+\((?:I?ULN|UNL)\))?"
    # "1.5 x normal", "2 times normal": a multiple of the upper limit.
    rf"|{_TIMES}(?:the\s++)?normal\b(?!\s++(?:range|values?|limits?\s++of))"
)
_PER_AREA = r"(?:\s*+(?:/|per)\s*+1[.,]73\s*+(?:m2|m²|m\\?\^2|square\s++met(?:er|re)s?|sq\.?\s*+m)?)?"
_CONCENTRATION = (
    r"(?:g|gm|gr|mg|µg|μg|ug|ng|pg)\s*+/\s*+(?:dl|l|ml)\b|mg\s*+%|(?:µ|μ|u|micro|m|n)mol\s*+/\s*+l\b"
    r"|nm\b|(?:i?u|ui|units?)\s*+/\s*+l\b"
    rf"|(?:ml|cc)\s*+/\s*+(?:min(?:ute)?|mn)\b{_PER_AREA}|%|percent\b|sec(?:onds?)?\b"
)
_LAB_UNIT = f"(?:{_ULN}|{COUNT_UNIT}|{_CONCENTRATION})"
_LAB_BOUND_RE = compile_bound(_LAB_UNIT)
_ULN_RE = re.compile(_ULN, re.IGNORECASE)
_WORD_MULTIPLES: Final[dict[str, float]] = {
    "twice": 2,
    "two times": 2,
    "three times": 3,
    "four times": 4,
    "five times": 5,
    "ten times": 10,
}
# "<= ULN" (a multiple of 1) and "three times the upper limit" (a word multiple).
_AT_ULN_RE = re.compile(rf"(?P<c>{COMPARATOR})\s*+(?P<u>{_ULN})", re.IGNORECASE)
_WORD_ULN_RE = re.compile(
    rf"(?:(?P<c>{COMPARATOR})\s*+)?(?P<w>twice|(?:two|three|four|five|ten)\s++times)\s++(?P<u>{_ULN})",
    re.IGNORECASE,
)


_UNIT_KEY_REWRITES = tuple(
    (re.compile(pattern), replacement)
    for pattern, replacement in (
        (r"^(?:u|micro)mol", "µmol"),
        (r"/(?:1[.,]73).*$|per1[.,]73.*$", ""),
        (r"^(?:ml|cc)/(?:minute|min|mn)$", "ml/min"),
        (r"^(?:gm|gr)/", "g/"),
        (r"^(?:iu|ui|units?)/l$", "u/l"),
        (r"^ug/", "µg/"),
    )
)
_UNIT_KEY_ALIASES: Final = {
    "mg%": "mg/dl",
    "nm": "nmol/l",
    "percent": "%",
    "sec": "s",
    "second": "s",
    "seconds": "s",
}
_SPACE_RE = re.compile(r"\s+")


def _unit_key(raw: str) -> str:
    """A unit spelling reduced to a lookup key: ``"mL / min / 1.73 m2"`` -> ``"ml/min"``."""
    key = _SPACE_RE.sub("", raw.lower()).replace("μ", "µ").replace("\\", "")
    for pattern, replacement in _UNIT_KEY_REWRITES:
        key = pattern.sub(replacement, key)
    return _UNIT_KEY_ALIASES.get(key, key)


def _conversion(analyte: str, raw_unit: str | None, value: float) -> tuple[float, bool] | None:
    """The factor from a raw unit to the analyte's canonical unit and whether it is ULN, or None."""
    if raw_unit is not None and _ULN_RE.fullmatch(raw_unit.strip()):
        return (1.0, True) if analyte in _ULN_ANALYTES else None
    if raw_unit is None:
        if analyte not in _UNITLESS:
            return None
        size, small, large = _UNITLESS[analyte]
        key = small if value < size else large
        if key is None:
            return None
        raw_unit = key
    if analyte in _COUNTS:
        factor = 1.0 if raw_unit == "10^9/l" else count_factor(raw_unit)
    elif analyte == "inr":
        factor = 1.0 if raw_unit == "" else None
    else:
        factor = _FACTORS.get(analyte, {}).get(_unit_key(raw_unit))
    return None if factor is None else (factor, False)


def normalise_value(analyte: str, value: float, raw_unit: str | None) -> tuple[float, bool] | None:
    """A value in the analyte's canonical unit and whether it is a multiple of ULN, or None.

    None when the unit does not fit the analyte or the value is implausible for it.

    >>> normalise_value("hemoglobin", 90, "g/L"), normalise_value("platelets", 100000, "/mm3")
    ((9.0, False), (100.0, False))
    >>> normalise_value("testosterone", 50, "ng/dL"), normalise_value("ast", 2.5, "x ULN")
    ((1.735, False), (2.5, True))
    """
    conversion = _conversion(analyte, raw_unit, value)
    if conversion is None:
        return None
    factor, uln = conversion
    converted = round(value * factor, 6)
    lo, hi = _ULN_PLAUSIBLE if uln else _PLAUSIBLE[analyte]
    if not lo <= converted <= hi:
        return None
    return converted, uln


# --- reading a mention -----------------------------------------------------------------------------

_ABBREVIATION_RE = re.compile(r"\s*+(?:\(|\\?\[)[^()\[\]]{1,30}(?:\)|\\?\])")
_LIST_JOIN_RE = re.compile(
    r"\s*+(?:/|,|&|\+|\band/or\b|\band\b|\bor\b)\s*+(?:and\s++|or\s++)?", re.IGNORECASE
)
_FILLER_RE = re.compile(
    r"\)?(?:[\s:=,]*+(?:(?:count|counts|cells?|levels?|values?|concentrations?|of|is|are|must|be|should"
    r"|serum|plasma|blood|total|absolute|measured|calculated|estimated|result|laboratory|lab|castrat\w*"
    r"|at(?!\s++(?:least|most))|screening|baseline|by|cockcroft[\s-]*+gault|formula|mdrd|ckd[\s-]*+epi"
    r"|equation|method|using|the)\b|\([^()\d<>≤≥=]{1,40}\))){0,8}(?:[\s:(]|=(?![<>]))*+",
    re.IGNORECASE,
)
# The same threshold again in another unit: "< 50 ng/dL or 1.7 nmol/L", "1.5 x 10^9/L (1500/mm3)".
_EQUIVALENT_LEAD_RE = re.compile(r"\s*+(?:\(|\[|\bor\b|/|;|,|=)\s*+", re.IGNORECASE)
_CLOSE_RE = re.compile(r"\s*+[)\]]")
# A conditional alternative, with its condition first: ". For patients with Gilbert's syndrome <= 3".
_ALTERNATIVE_LEAD_RE = re.compile(
    r"\s*+[,;.]?\s*+(?:\(\s*+)?(?:or\s++|and\s++)?(?:(?:for|in)\s++(?:patients?|subjects?|participants?"
    r"|those|cases?)\s++(?:with\s++|who\s++have\s++|having\s++)?(?P<cond>[^.;:()<>≤≥=\d]{1,60}?)"
    rf"\s*+[,:]?\s*+(?={COMPARATOR}))?",
    re.IGNORECASE,
)
# A condition after a threshold: "in the presence of liver metastases", "unless on anticoagulation".
_CONDITION_AFTER_RE = re.compile(
    r"\s*+,?\s*+\(?\s*+(?:(?P<neg>unless|except(?:\s++(?:in|for))?)\s++(?:(?:patients?|subjects?|participants?"
    r"|those)\s++(?:with|who\s++(?:are|have))\s++)?"
    r"|(?:in|for)\s++(?:the\s++)?(?:patients?|subjects?|participants?|those|cases?|presence|setting|case"
    r"|context)\s++(?:of\s++|with\s++|who\s++(?:are|have)\s++|having\s++)?"
    r"|(?:if|when)\s++(?:there\s++(?:is|are)\s++)?|(?P<with>with|due\s++to)\s++)"
    r"(?P<cond>[^.;,()\[\]<>≤≥]{1,150})",
    re.IGNORECASE,
)
_CONDITION_CLEAN_RES = (
    re.compile(r"^(?:the\s+)?(?:presence\s+of|known|documented|confirmed|evidence\s+of)\s+", re.IGNORECASE),
    re.compile(r"\s+(?:are|is)\s+present$|\s+present$", re.IGNORECASE),
)
_OR_JOIN_RE = re.compile(r"[\s,;]*+(?:or|and/or)[\s,;]*+", re.IGNORECASE)
_AND_JOIN_RE = re.compile(
    r"[\s,;]*+(?:(?:combined|together|in\s++combination|along|concurrent(?:ly)?)\s++with|and\s++concomitant"
    r"|with\s++concomitant|accompanied\s++by)[\s,;]*+",
    re.IGNORECASE,
)
_EXCEPTION_WORDS_RE = re.compile(
    r"\b(?:not\s+excluded|(?:is|are)\s+(?:allowed|permitted|acceptable|eligible)|may\s+(?:be\s+)?"
    r"(?:included|enrolled|eligible|participate)|exceptions?)\b",
    re.IGNORECASE,
)
_SENTENCE_END_RE = re.compile(r"(?<!\d)[.;](?!\d)|\n")
_PARENTHETICAL_RE = re.compile(r"\([^()]*\)")


@dataclass
class _Branch:
    """One threshold of a mention and the condition it applies under."""

    bound: Bound
    condition: str | None = None


@dataclass
class _Mention:
    """Analytes sharing thresholds: the primary one and any conditional alternatives."""

    analytes: list[tuple[str, int]]
    branches: list[_Branch]
    start: int
    end: int
    link: str = "list"
    """How it joins the previous mention: "or", "and" ("combined with") or "list" (anything else)."""


def _clean_condition(text: str, negate: bool) -> str:
    cond = " ".join(text.split()).strip(" ,:")
    for pattern in _CONDITION_CLEAN_RES:
        cond = pattern.sub("", cond)
    return f"not {cond}" if negate else cond


def _read_threshold(text: str, pos: int) -> Bound | None:
    """A threshold at ``pos``: a bound with a lab unit, "<= ULN", or "three times the ULN"."""
    bound = read_bound(_LAB_BOUND_RE, text, pos)
    if bound is not None:
        return bound
    m = _AT_ULN_RE.match(text, pos)
    if m is not None:
        op = parse_comparator(m["c"])
        if op is not None:
            return Bound(Interval.ray(op, 1.0), m.start(), m.end(), (m["u"], None))
    m = _WORD_ULN_RE.match(text, pos)
    if m is not None:
        value = _WORD_MULTIPLES[" ".join(m["w"].lower().split())]
        op = parse_comparator(m["c"]) if m["c"] else None
        interval = Interval.ray(op, value) if op else Interval(value, value)
        return Bound(interval, m.start(), m.end(), (m["u"], None), exact=op is None)
    return None


def _unit_class(analyte: str, raw: str | None) -> str | None:
    """The canonical unit a raw unit converts to for an analyte ("uln" for multiples), or None."""
    if raw is None:
        return None
    conversion = _conversion(analyte, raw, 1.0)
    if conversion is None:
        return None
    return "uln" if conversion[1] else CANONICAL_UNITS[analyte] or ""


def _equivalent(text: str, analyte: str, bound: Bound) -> Bound:
    """Merge a restatement of the threshold in another unit; keep the canonical unit's value."""
    if bound.interval.lo is not None and bound.interval.hi is not None:
        return bound
    lead = _EQUIVALENT_LEAD_RE.match(text, bound.end)
    if lead is None:
        return bound
    other = read_bound(_LAB_BOUND_RE, text, lead.end())
    if other is None or other.unit is None or bound.unit is None:
        return bound
    if not (other.exact or _same_side(bound, other)):
        return bound
    first, second = _unit_class(analyte, bound.unit), _unit_class(analyte, other.unit)
    if first is None or first != second or first == "uln" or _unit_key(bound.unit) == _unit_key(other.unit):
        return bound
    end = other.end
    close = _CLOSE_RE.match(text, end)
    if close is not None and text[lead.start() : lead.end()].strip() in ("(", "["):
        end = close.end()
    canonical = CANONICAL_UNITS[analyte] or ""
    canonical_key = _unit_key(canonical)
    keep_second = _unit_key(other.unit) == canonical_key and _unit_key(bound.unit) != canonical_key
    value = other.interval.lo if other.interval.lo is not None else other.interval.hi
    if keep_second and value is not None:
        op = _one_sided(bound)
        if op is not None:
            return Bound(Interval.ray(op, value), bound.start, end, (other.unit, None))
    return Bound(bound.interval, bound.start, end, bound.units, bound.outside, bound.exact)


def _one_sided(bound: Bound) -> Comparator | None:
    tests = bound.interval.comparators()
    return tests[0][0] if len(tests) == 1 and not bound.exact else None


def _same_side(a: Bound, b: Bound) -> bool:
    same_lo = (a.interval.lo is None) == (b.interval.lo is None)
    return same_lo and (a.interval.hi is None) == (b.interval.hi is None)


def _alternatives(text: str, analyte: str, primary: Bound) -> list[_Branch]:
    """Conditional alternatives after the primary threshold ("or <= 5 x ULN with liver metastases")."""
    branches: list[_Branch] = []
    pos = primary.end
    for _ in range(3):
        lead = _ALTERNATIVE_LEAD_RE.match(text, pos)
        if lead is None:
            break
        bound = _read_threshold(text, lead.end())
        if bound is None:
            break
        cond = lead["cond"]
        negate = False
        end = bound.end
        if cond is None:
            after = _CONDITION_AFTER_RE.match(text, bound.end)
            if after is None:
                break
            cond, negate, end = after["cond"], after["neg"] is not None, after.end("cond")
        close = _CLOSE_RE.match(text, end)
        if close is not None and "(" in text[pos : lead.end()]:
            end = close.end()
        unit = bound.unit if bound.unit is not None else primary.unit
        if unit is not None and _unit_class(analyte, unit) is None:
            break
        # "(5 x ULN if liver metastases)": the primary's comparator is understood.
        inherited = _one_sided(primary)
        interval = bound.interval
        if bound.exact and inherited is not None and interval.lo is not None:
            interval = Interval.ray(inherited, interval.lo)
        exact = bound.exact and inherited is None
        branch_bound = Bound(interval, bound.start, bound.end, (unit, None), bound.outside, exact)
        branches.append(_Branch(branch_bound, _clean_condition(cond, negate)))
        pos = end
    return branches


def _in_exception(text: str, start: int) -> bool:
    """Whether the mention at ``start`` describes an exception ("... is allowed if ...").

    The sentence counts without its parentheticals, and so does the parenthetical the mention is
    in, if any: "TBL > 1.5 mg/dL (TBL > 1.5 mg/dL is allowed if ...)" reads the first mention.
    """
    lo = 0
    for m in _SENTENCE_END_RE.finditer(text, max(0, start - 300), start):
        lo = m.end()
    stop = _SENTENCE_END_RE.search(text, start, start + 300)
    hi = stop.start() if stop else min(len(text), start + 300)
    if _EXCEPTION_WORDS_RE.search(_PARENTHETICAL_RE.sub(" ", text[lo:hi])):
        return True
    opened = text.rfind("(", lo, start)
    if opened != -1 and text.find(")", opened, start) == -1:
        closing = text.find(")", start, hi)
        return _EXCEPTION_WORDS_RE.search(text, opened, closing if closing != -1 else hi) is not None
    return False


def _next_analyte(text: str, pos: int) -> re.Match[str] | None:
    """The first analyte name at or after ``pos``."""
    for word in _WORD_RE.finditer(text, pos):
        if word.group()[:2].lower() in _ANALYTE_STARTS:
            m = _ANALYTE_RE.match(text, word.start())
            if m is not None:
                return m
    return None


def _mentions(text: str) -> Iterator[_Mention]:
    """The analyte lists with a threshold, in text order, with the link to the previous one."""
    pos = 0
    previous_end: int | None = None
    while True:
        m = _next_analyte(text, pos)
        if m is None:
            return
        analytes = [(str(m.lastgroup), m.start())]
        end = m.end()
        while True:
            abbreviation = _ABBREVIATION_RE.match(text, end)
            if abbreviation is not None and _ANALYTE_RE.fullmatch(abbreviation.group().strip(" ()[]\\")):
                end = abbreviation.end()
            join = _LIST_JOIN_RE.match(text, end)
            nxt = _ANALYTE_RE.match(text, join.end()) if join is not None else None
            if nxt is None:
                break
            analytes.append((str(nxt.lastgroup), nxt.start()))
            end = nxt.end()
        filler = _FILLER_RE.match(text, end)
        threshold_at = filler.end() if filler is not None else end
        bound = _read_threshold(text, threshold_at)
        if bound is None:
            # Every later name of the list ends the same way, so none has a threshold either.
            pos = end
            continue
        first = analytes[0][0]
        bound = _equivalent(text, first, bound)
        branches = [_Branch(bound)]
        after = _CONDITION_AFTER_RE.match(text, bound.end)
        mention_end = bound.end
        if after is not None and after["with"] is None:
            branches[0].condition = _clean_condition(after["cond"], after["neg"] is not None)
        else:
            branches.extend(_alternatives(text, first, bound))
            if len(branches) > 1 and branches[1].condition:
                branches[0].condition = _negate(branches[1].condition)
            mention_end = max(b.bound.end for b in branches)
        link = "list"
        if previous_end is not None:
            between = text[previous_end : m.start()]
            if _OR_JOIN_RE.fullmatch(between):
                link = "or"
            elif _AND_JOIN_RE.fullmatch(between):
                link = "and"
        yield _Mention(analytes, branches, m.start(), mention_end, link)
        previous_end = mention_end
        pos = mention_end


def _negate(condition: str) -> str:
    return condition[4:] if condition.startswith("not ") else f"not {condition}"


def _describe(c: LabConstraint) -> str:
    unit = " x ULN" if c.uln_multiple else (f" {c.unit}" if c.unit else "")
    return f"{c.analyte} {c.comparator} {c.value:g}{unit}"


def _constraints_of(criterion: Criterion, mention: _Mention, exclude: bool) -> list[LabConstraint]:
    """The constraints of one mention: each analyte times each branch, in the criterion's sense."""
    text = criterion.text
    found: list[LabConstraint] = []
    for analyte, start in mention.analytes:
        for branch in mention.branches:
            bound = branch.bound
            if bound.exact:
                # "AST three times the ULN" in an exclusion means at least three times.
                if not (exclude and bound.unit and _ULN_RE.fullmatch(bound.unit.strip())):
                    continue
                assert bound.interval.lo is not None
                bound = Bound(Interval.ray(">=", bound.interval.lo), bound.start, bound.end, bound.units)
            interval = required_interval(bound, exclude)
            if interval is None:
                continue
            lo_unit = bound.units[0] or bound.units[1]
            hi_unit = bound.units[1] or bound.units[0]
            for op, value in interval.comparators():
                normalised = normalise_value(analyte, value, lo_unit if op in (">=", ">") else hi_unit)
                if normalised is None:
                    continue
                canonical, uln = normalised
                found.append(
                    LabConstraint(
                        criterion_kind=criterion.kind,
                        criterion_ordinal=criterion.ordinal,
                        start=start,
                        end=bound.end,
                        text=text[start : bound.end],
                        analyte=analyte,
                        comparator=op,
                        value=canonical,
                        unit=None if uln else CANONICAL_UNITS[analyte],
                        uln_multiple=uln,
                        applies_when=branch.condition,
                    )
                )
    return found


_RENAL_ESTIMATES = frozenset({"creatinine_clearance", "egfr"})


def _members(constraints: list[LabConstraint]) -> list[list[LabConstraint]]:
    """The alternatives one mention contributes to an "or" group.

    Analytes listed with one threshold must all satisfy it, so they are one member; creatinine
    clearance and eGFR listed together ("CrCl / eGFR >= 60") are one measure estimated two ways,
    so each is a member of its own.
    """
    shared = [c for c in constraints if c.analyte not in _RENAL_ESTIMATES]
    renal = [[c for c in constraints if c.analyte == a] for a in sorted(_RENAL_ESTIMATES)]
    return [m for m in (shared, *renal) if m]


def _link_alternatives(group: list[list[LabConstraint]]) -> None:
    """Give each constraint of an "or" group an ``applies_when`` naming the other members."""
    if len(group) < 2:
        return
    for member in group:
        others = " or ".join(_describe(o) for other in group if other is not member for o in other)
        for c in member:
            c.applies_when = f"{c.applies_when}; unless {others}" if c.applies_when else f"unless {others}"


def extract(criterion: Criterion) -> list[Constraint]:
    """Laboratory-threshold constraints of one criterion, mention by mention in text order."""
    text = criterion.text
    found: list[LabConstraint] = []
    group: list[list[LabConstraint]] = []
    may_have_exceptions = _EXCEPTION_WORDS_RE.search(text) is not None
    for mention in _mentions(text):
        if may_have_exceptions and _in_exception(text, mention.start):
            _link_alternatives(group)
            group = []
            continue
        exclude = sense_is_exclusion(criterion, mention.start, mention.branches[0].bound.end)
        constraints = _constraints_of(criterion, mention, exclude)
        # Raw "or" is a disjunction in an inclusion; raw "combined with" is one after inversion.
        disjunctive = (mention.link == "or" and not exclude) or (mention.link == "and" and exclude)
        if not disjunctive:
            _link_alternatives(group)
            group = []
        group.extend(_members([c for c in constraints if c.applies_when is None]))
        found.extend(constraints)
    _link_alternatives(group)
    unique: list[LabConstraint] = []
    seen: set[tuple[object, ...]] = set()
    for c in found:
        key = (c.analyte, c.comparator, c.value, c.unit, c.uln_multiple, c.applies_when)
        if key not in seen:
            seen.add(key)
            unique.append(c)
    return list(unique)
