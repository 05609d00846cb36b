"""Laboratory thresholds, the shared helpers of the numeric families, and the hand annotations.

The annotated criteria (tests/data/extraction/*.yaml) are checked here for every family this
extraction owns (age, sex, performance status, life expectancy, labs): the extracted set must
equal the hand-written one exactly.
"""

from __future__ import annotations

import csv
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml

from trialgraph.extract import common, demographics, labs, performance
from trialgraph.extract.common import Interval
from trialgraph.model import Constraint, Criterion, CriterionKind, LabConstraint

DATA = Path(__file__).resolve().parents[1] / "data" / "extraction"
FAMILIES: tuple[Callable[[Criterion], list[Constraint]], ...] = (
    demographics.extract,
    performance.extract,
    labs.extract,
)
DEFAULTS: dict[str, dict[str, Any]] = {
    "age": {"min_years": None, "max_years": None, "min_inclusive": True, "max_inclusive": True},
    "sex": {"sex": None},
    "performance": {"scale": None, "min_value": None, "max_value": None},
    "life_expectancy": {"min_months": None, "min_inclusive": True},
    "lab": {
        "analyte": None,
        "comparator": None,
        "value": None,
        "unit": None,
        "uln_multiple": False,
        "applies_when": None,
    },
}


def extract_all(criterion: Criterion) -> list[Constraint]:
    """Every constraint of the families owned here."""
    return [c for family in FAMILIES for c in family(criterion)]


def lab(kind: CriterionKind, text: str) -> list[LabConstraint]:
    """The lab constraints of one criterion text."""
    found = labs.extract(Criterion(kind=kind, ordinal=1, text=text))
    assert all(isinstance(c, LabConstraint) for c in found)
    return [c for c in found if isinstance(c, LabConstraint)]


def brief(c: LabConstraint) -> tuple[str, str, float, str | None, bool, str | None]:
    return (c.analyte, c.comparator, c.value, c.unit, c.uln_multiple, c.applies_when)


# --- hand-annotated criteria -----------------------------------------------------------------------


def _normalise_when(value: Any) -> Any:
    """``applies_when`` with the alternatives of an "unless" group in a fixed order."""
    if not isinstance(value, str) or "unless " not in value:
        return value
    head, _, alternatives = value.partition("unless ")
    return head + "unless " + " or ".join(sorted(alternatives.split(" or ")))


def _key(family: str, fields: dict[str, Any]) -> tuple[Any, ...]:
    merged = {**DEFAULTS[family], **fields}
    if family == "age":
        # An absent bound has no inclusiveness.
        merged["min_inclusive"] = merged["min_inclusive"] if merged["min_years"] is not None else None
        merged["max_inclusive"] = merged["max_inclusive"] if merged["max_years"] is not None else None
    values: list[Any] = []
    for name in DEFAULTS[family]:
        value = merged[name]
        if isinstance(value, bool) or value is None:
            values.append(value)
        elif isinstance(value, int | float):
            values.append(round(float(value), 3))
        else:
            values.append(_normalise_when(value) if name == "applies_when" else value)
    return (family, *values)


def _actual_key(c: Constraint) -> tuple[Any, ...]:
    return _key(c.family, {name: getattr(c, name) for name in DEFAULTS[c.family]})


def _load_cases() -> list[Any]:
    params = []
    for name in ("seeds.yaml", "ctgov_criteria.yaml"):
        for case in yaml.safe_load((DATA / name).read_text(encoding="utf-8")):
            marks = [pytest.mark.xfail(reason=case["xfail"], strict=True)] if case.get("xfail") else []
            params.append(pytest.param(case, id=f"{name.split('.')[0]}:{case['id']}", marks=marks))
    return params


ANNOTATED = _load_cases()


@pytest.mark.parametrize("case", ANNOTATED)
def test_annotated_criterion(case: dict[str, Any]) -> None:
    criterion = Criterion(kind=case["kind"], ordinal=case.get("number", 1), text=case["text"])
    found = extract_all(criterion)
    for c in found:
        assert criterion.text[c.start : c.end] == c.text, c
        assert (c.criterion_kind, c.criterion_ordinal) == (criterion.kind, criterion.ordinal)
        if c.family == "sex":
            assert c.text.lower().startswith(("male", "men", "female", "women", "man", "woman")), c
        else:
            # The span covers the number it was read from (or a worded multiple of ULN).
            assert any(ch.isdigit() for ch in c.text) or "times" in c.text or "twice" in c.text, c
    expected = sorted(
        _key(e["family"], {k: v for k, v in e.items() if k != "family"}) for e in case["expected"]
    )
    assert sorted(_actual_key(c) for c in found) == expected


def test_annotations_are_substantial() -> None:
    cases = [p.values[0] for p in ANNOTATED]
    ctgov = [c for c in cases if "nct_id" in c]
    assert len({c["nct_id"] for c in ctgov}) >= 15
    families = {e["family"] for c in cases for e in c["expected"]}
    assert families == set(DEFAULTS)
    assert sum(not c["expected"] for c in cases) >= 50, "criteria without constraints guard false positives"


# --- common helpers --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("1.5", 1.5),
        ("1,5", 1.5),
        ("100,000", 100000.0),
        ("100 000", 100000.0),
        ("1,500", 1500.0),
        ("90", 90.0),
        ("0.25", 0.25),
    ],
)
def test_parse_number(text: str, value: float) -> None:
    assert common.parse_number(text) == value


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("1.5×10^9/L", 1.5),
        ("1.5 x 10⁹/L", 1.5),
        ("1.5 × 109/L", 1.5),
        ("1,5 x 10^9/l", 1.5),
        ("1.5 x 10(9)/L", 1.5),
        ("1.5 G/L", 1.5),
        ("100,000/mm3", 100.0),
        ("100 000/µL", 100.0),
        ("1500 cells/mm³", 1.5),
        ("1.5 x 10^3/µL", 1.5),
        ("100 K/uL", 100.0),
        ("1500/mm\\^3", 1.5),
    ],
)
def test_parse_cell_count(text: str, value: float) -> None:
    assert common.parse_cell_count(text) == pytest.approx(value)


@pytest.mark.parametrize("text", ["10 mg", "1.5 g/dL", "50%", "2019-01-15", "1.5"])
def test_parse_cell_count_rejects_other_quantities(text: str) -> None:
    assert common.parse_cell_count(text) is None


@pytest.mark.parametrize(
    ("phrase", "op"),
    [
        ("≥", ">="),
        (">=", ">="),
        ("=>", ">="),
        ("≧", ">="),
        (">/=", ">="),
        ("\\>=", ">="),
        ("&ge;", ">="),
        ("at least", ">="),
        ("greater than or equal to", ">="),
        ("no less than", ">="),
        ("not less than", ">="),
        ("minimum of", ">="),
        ("more than", ">"),
        ("above", ">"),
        ("exceeding", ">"),
        (">", ">"),
        ("≤", "<="),
        ("<=", "<="),
        ("=<", "<="),
        ("up to", "<="),
        ("no more than", "<="),
        ("not more than", "<="),
        ("not exceeding", "<="),
        ("maximum of", "<="),
        ("lesser than or equal to", "<="),
        ("less than", "<"),
        ("below", "<"),
        ("under", "<"),
        ("\\<", "<"),
        ("or older", ">="),
        ("or less", "<="),
        ("and above", ">="),
    ],
)
def test_parse_comparator(phrase: str, op: str) -> None:
    assert common.parse_comparator(phrase) == op


def test_parse_comparator_unknown() -> None:
    assert common.parse_comparator("within") is None


@pytest.mark.parametrize(("op", "inverse"), [(">=", "<"), (">", "<="), ("<=", ">"), ("<", ">=")])
def test_invert(op: common.Comparator, inverse: str) -> None:
    assert common.invert(op) == inverse
    assert common.invert(common.invert(op)) == op


@pytest.mark.parametrize(
    ("text", "at", "negated"),
    [
        ("No ECOG >= 2", "ECOG", True),
        ("Patients without ANC < 1.5", "ANC", True),
        ("absence of hemoglobin < 9", "hemoglobin", True),
        ("infections other than hepatitis", "hepatitis", True),
        ("Patients not receiving ADT", "ADT", True),
        ("ECOG 0-1", "ECOG", False),
        ("No liver metastases; ANC >= 1.5", "ANC", False),
        ("no prior therapy, and platelets >= 100", "platelets", False),
        ("ANC not less than 1.5", "ANC", False),
    ],
)
def test_is_negated(text: str, at: str, negated: bool) -> None:
    assert common.is_negated(text, text.index(at)) is negated


@pytest.mark.parametrize(
    ("text", "interval", "outside"),
    [
        ("18-75", Interval(18, 75), False),
        ("between 0 and 2", Interval(0, 2), False),
        ("from 18 to 75", Interval(18, 75), False),
        (">18 and ≤70", Interval(18, 70, lo_inclusive=False), False),
        ("≥ 1.5", Interval(lo=1.5), False),
        ("< 2", Interval(hi=2, hi_inclusive=False), False),
        ("2 or more", Interval(lo=2), False),
        ("greater than (\\>) 3", Interval(lo=3, lo_inclusive=False), False),
        ("< 18 or > 75", Interval(18, 75), True),
        ("18 and 75", Interval(18, 18), False),
    ],
)
def test_read_bound(text: str, interval: Interval, outside: bool) -> None:
    bound = common.read_bound(common.compile_bound(), text, 0)
    assert bound is not None
    assert (bound.interval, bound.outside) == (interval, outside)


def test_required_interval_resolves_sense() -> None:
    pattern = common.compile_bound()
    at_least = common.read_bound(pattern, "≥ 2", 0)
    outside = common.read_bound(pattern, "< 18 or > 75", 0)
    inside = common.read_bound(pattern, "18-75", 0)
    assert at_least is not None and outside is not None and inside is not None
    assert common.required_interval(at_least, exclude=True) == Interval(hi=2, hi_inclusive=False)
    assert common.required_interval(outside, exclude=True) == Interval(18, 75)
    assert common.required_interval(outside, exclude=False) is None
    assert common.required_interval(inside, exclude=True) is None


def test_sense_after_the_mention() -> None:
    text = "Patients with ECOG >= 2 are not eligible"
    criterion = Criterion(kind="inclusion", ordinal=1, text=text)
    assert common.sense_is_exclusion(criterion, text.index("ECOG"), text.index("2") + 1)


# --- labs: units, lists, alternatives, sense -------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "analyte", "value"),
    [
        ("ANC ≥ 1.5×10^9/L", "anc", 1.5),
        ("ANC ≥ 1.5 x 10⁹/L", "anc", 1.5),
        ("ANC ≥ 1.5 × 109/L", "anc", 1.5),
        ("ANC ≥ 1,5 x 10^9/l", "anc", 1.5),
        ("Absolute neutrophil count ≥ 1500/mm3", "anc", 1.5),
        ("ANC >= 1,500 cells/mm³", "anc", 1.5),
        ("ANC ≥ 1.5 x 10(9)/L", "anc", 1.5),
        ("ANC ≥ 1.5 G/L", "anc", 1.5),
        ("Platelets ≥ 100,000/mm3", "platelets", 100),
        ("Platelets ≥ 100 000/µL", "platelets", 100),
        ("platelet count ≥ 100 x 10^3/µL", "platelets", 100),
        ("Platelets >= 100000", "platelets", 100),
        ("WBC ≥ 3000/µL", "wbc", 3.0),
        ("Hemoglobin ≥ 90 g/L", "hemoglobin", 9.0),
        ("Haemoglobin >= 9 g/dl", "hemoglobin", 9.0),
        ("Hb ≥ 5.6 mmol/L", "hemoglobin", 9.022),
        ("Hgb ≥ 9", "hemoglobin", 9.0),
        ("albumin ≥30 g/L", "albumin", 3.0),
        ("Serum creatinine ≤ 133 µmol/L", "creatinine", 1.505),
        ("Total bilirubin ≤ 34.2 μmol/L", "bilirubin", 2.0),
        ("Creatinine clearance ≥ 60 mL/min", "creatinine_clearance", 60),
        ("CrCl ≥ 50 ml/min/1.73 m2", "creatinine_clearance", 50),
        ("eGFR ≥ 45 mL/min/1.73m²", "egfr", 45),
        ("serum testosterone < 50 ng/dL", "testosterone", 1.735),
        ("PSA ≥ 2 ng/mL", "psa", 2),
        ("LVEF ≥ 50%", "lvef", 50),
        ("INR ≤ 1.5", "inr", 1.5),
    ],
)
def test_units_are_normalised(text: str, analyte: str, value: float) -> None:
    found = lab("inclusion", text)
    assert [(c.analyte, c.unit) for c in found] == [(analyte, labs.CANONICAL_UNITS[analyte])]
    assert found[0].value == pytest.approx(value, abs=1e-3)


@pytest.mark.parametrize(
    "text",
    [
        "AST ≤ 2.5 × ULN",
        "AST ≤2.5×ULN",
        "AST ≤ 2.5 x ULN",
        "AST ≤ 2.5 X ULN",
        "AST ≤ 2.5 times the upper limit of normal",
        "AST ≤ 2.5 times ULN",
        "AST ≤ 2.5 × institutional upper limit of normal (ULN)",
        "AST ≤ 2.5 ULN",
        "aspartate aminotransferase (AST) no more than 2.5 times the upper limit of normal",
    ],
)
def test_uln_multiples(text: str) -> None:
    assert [brief(c) for c in lab("inclusion", text)] == [("ast", "<=", 2.5, None, True, None)]


ULN_ANALYTE_NAMES = {
    "bilirubin": ["total bilirubin", "bilirubin", "TBIL", "T-bil", "T. bili", "TBL", "serum total bilirubin"],
    "direct_bilirubin": ["direct bilirubin", "conjugated bilirubin"],
    "ast": ["AST", "SGOT", "aspartate aminotransferase", "aspartate transaminase", "ASAT"],
    "alt": ["ALT", "SGPT", "alanine aminotransferase", "alanine transaminase", "ALAT"],
    "alp": ["ALP", "alkaline phosphatase"],
    "creatinine": ["creatinine", "serum creatinine", "Cr", "SCr"],
    "inr": ["INR", "PT-INR", "PT/INR", "international normalized ratio"],
    "pt": ["PT", "prothrombin time"],
    "aptt": ["aPTT", "PTT", "activated partial thromboplastin time"],
}
ABSOLUTE_ANALYTE_NAMES = {
    "anc": (["ANC", "absolute neutrophil count", "neutrophils", "neutrophil count", "AGC"], "≥ 1.5 x 10^9/L"),
    "wbc": (["WBC", "white blood cells", "white blood cell count", "leukocytes"], "≥ 3 x 10^9/L"),
    "lymphocytes": (["lymphocytes", "absolute lymphocyte count", "ALC"], "≥ 0.5 x 10^9/L"),
    "platelets": (["platelets", "platelet count", "PLT", "thrombocytes"], "≥ 100 x 10^9/L"),
    "hemoglobin": (["hemoglobin", "haemoglobin", "Hb", "Hgb", "HGB"], "≥ 9 g/dL"),
    "creatinine_clearance": (["creatinine clearance", "CrCl", "CLcr", "Clearance"], "≥ 60 mL/min"),
    "egfr": (["eGFR", "GFR", "estimated glomerular filtration rate", "e-GFR"], "≥ 60 mL/min/1.73 m2"),
    "albumin": (["albumin", "serum albumin"], "≥ 3 g/dL"),
    "testosterone": (["testosterone", "serum testosterone"], "< 1.7 nmol/L"),
    "psa": (["PSA", "prostate-specific antigen", "prostate specific antigen"], "≥ 2 ng/mL"),
    "lvef": (["LVEF", "left ventricular ejection fraction", "ejection fraction"], "≥ 50%"),
}
NAME_CASES = [
    *((name, analyte, "≤ 1.5 × ULN") for analyte, names in ULN_ANALYTE_NAMES.items() for name in names),
    *((name, analyte, rest) for analyte, (names, rest) in ABSOLUTE_ANALYTE_NAMES.items() for name in names),
]


@pytest.mark.parametrize(("name", "analyte", "threshold"), NAME_CASES, ids=[c[0] for c in NAME_CASES])
def test_analyte_names(name: str, analyte: str, threshold: str) -> None:
    found = lab("inclusion", f"Adequate function: {name} {threshold}")
    assert [c.analyte for c in found] == [analyte]
    assert found[0].text.startswith(name)


def test_alternative_without_comparator_takes_the_primary_one() -> None:
    found = lab("inclusion", "SGOT or SGPT ≤ 2.5 times ULN (5 times ULN if liver metastases are present)")
    assert sorted(brief(c) for c in found) == [
        ("alt", "<=", 2.5, None, True, "not liver metastases"),
        ("alt", "<=", 5.0, None, True, "liver metastases"),
        ("ast", "<=", 2.5, None, True, "not liver metastases"),
        ("ast", "<=", 5.0, None, True, "liver metastases"),
    ]


def test_combined_with_in_an_exclusion_is_a_group() -> None:
    text = "AST or ALT > 3 x ULN combined with total bilirubin > 2 x ULN"
    assert sorted(brief(c) for c in lab("exclusion", text)) == [
        ("alt", "<=", 3.0, None, True, "unless bilirubin <= 2 x ULN"),
        ("ast", "<=", 3.0, None, True, "unless bilirubin <= 2 x ULN"),
        ("bilirubin", "<=", 2.0, None, True, "unless ast <= 3 x ULN or alt <= 3 x ULN"),
    ]


def test_renal_estimates_listed_together_are_alternatives() -> None:
    assert [brief(c) for c in lab("inclusion", "CrCl or eGFR ≥ 50 mL/min")] == [
        ("creatinine_clearance", ">=", 50.0, "mL/min", False, "unless egfr >= 50 mL/min/1.73m2"),
        ("egfr", ">=", 50.0, "mL/min/1.73m2", False, "unless creatinine_clearance >= 50 mL/min"),
    ]


def test_at_uln_without_number() -> None:
    assert [brief(c) for c in lab("inclusion", "Total bilirubin ≤ ULN")] == [
        ("bilirubin", "<=", 1.0, None, True, None)
    ]


def test_shared_threshold_spans() -> None:
    text = "AST/ALT/ALP ≤2.5×ULN"
    found = lab("inclusion", text)
    assert [(c.analyte, c.text) for c in found] == [
        ("ast", "AST/ALT/ALP ≤2.5×ULN"),
        ("alt", "ALT/ALP ≤2.5×ULN"),
        ("alp", "ALP ≤2.5×ULN"),
    ]


def test_conditional_alternative() -> None:
    found = lab("inclusion", "AST/ALT ≤ 2.5 × ULN (≤ 5 × ULN for patients with liver metastases)")
    assert sorted(brief(c) for c in found) == [
        ("alt", "<=", 2.5, None, True, "not liver metastases"),
        ("alt", "<=", 5.0, None, True, "liver metastases"),
        ("ast", "<=", 2.5, None, True, "not liver metastases"),
        ("ast", "<=", 5.0, None, True, "liver metastases"),
    ]
    for c in found:
        assert any(ch.isdigit() for ch in c.text)


def test_conditional_alternative_in_an_exclusion() -> None:
    found = lab("exclusion", "ALT > 3 x ULN, or > 5 x ULN in patients with liver metastases")
    assert sorted(brief(c) for c in found) == [
        ("alt", "<=", 3.0, None, True, "not liver metastases"),
        ("alt", "<=", 5.0, None, True, "liver metastases"),
    ]


def test_castrate_testosterone_in_two_units_is_one_constraint() -> None:
    found = lab("inclusion", "Castrate level of testosterone (< 50 ng/dL or 1.7 nmol/L)")
    assert [brief(c) for c in found] == [("testosterone", "<", 1.7, "nmol/L", False, None)]
    assert found[0].text == "testosterone (< 50 ng/dL or 1.7 nmol/L"


def test_equivalent_units_keep_the_first_when_neither_is_canonical() -> None:
    found = lab("inclusion", "ANC ≥ 1.5 × 10^9/L (1500/mm3)")
    assert [brief(c) for c in found] == [("anc", ">=", 1.5, "10^9/L", False, None)]
    assert found[0].text.endswith("1500/mm3)")


def test_exclusion_is_inverted() -> None:
    found = lab("exclusion", "Platelets < 100 × 10^9/L or hemoglobin < 9 g/dL")
    assert [brief(c) for c in found] == [
        ("platelets", ">=", 100.0, "10^9/L", False, None),
        ("hemoglobin", ">=", 9.0, "g/dL", False, None),
    ]


def test_or_between_analytes_is_a_group() -> None:
    found = lab("inclusion", "Serum creatinine ≤ 1.5 mg/dL or creatinine clearance ≥ 50 mL/min")
    assert [brief(c) for c in found] == [
        ("creatinine", "<=", 1.5, "mg/dL", False, "unless creatinine_clearance >= 50 mL/min"),
        ("creatinine_clearance", ">=", 50.0, "mL/min", False, "unless creatinine <= 1.5 mg/dL"),
    ]


def test_range_gives_two_constraints() -> None:
    found = lab("inclusion", "Hemoglobin between 9 and 16 g/dL")
    assert [brief(c) for c in found] == [
        ("hemoglobin", ">=", 9.0, "g/dL", False, None),
        ("hemoglobin", "<=", 16.0, "g/dL", False, None),
    ]


def test_negated_mention_is_inverted() -> None:
    found = lab("inclusion", "No platelets < 50 × 10^9/L")
    assert [brief(c) for c in found] == [("platelets", ">=", 50.0, "10^9/L", False, None)]


@pytest.mark.parametrize(
    "text",
    [
        "Prednisone 10 mg daily or less",
        "Received ≥ 2 doses of 177Lu-PSMA-617 (7.4 GBq)",
        "PD-L1 TPS ≥ 50% or CPS ≥ 10",
        "HbA1c ≥ 8%",
        "Hemoglobin A1c < 7%",
        "Diagnosed on 2019-01-15, platelet transfusion within 7 days",
        "ALT, AST and bilirubin within normal limits",
        "Platelets ≥ 100",  # a bare number for ANC/platelets is read by size: 100 x 10^9/L
        "AST ≥ 3",  # an enzyme needs a unit or ULN
        "EGFR exon 19 deletion or L858R mutation",
        "Urine albumin-to-creatinine ratio < 30 mg/g",
        "CR or PR after ≥ 4 cycles",
        "Clearance of HBV DNA ≥ 2 log",
    ],
)
def test_no_lab_from_doses_dates_drugs_or_scores(text: str) -> None:
    found = lab("inclusion", text)
    if text.startswith("Platelets ≥ 100"):
        assert [brief(c) for c in found] == [("platelets", ">=", 100.0, "10^9/L", False, None)]
    else:
        assert found == []


def test_exception_clause_yields_nothing() -> None:
    text = "Prostate cancer with PSA < 10 ng/mL treated with curative intent is allowed"
    assert lab("exclusion", text) == []


# --- scale -----------------------------------------------------------------------------------------

PATHOLOGICAL = [
    "≥" * 50_000,
    "ANC " * 20_000,
    "1" * 100_000,
    "ECOG " + "0, " * 20_000,
    "AST/" * 20_000 + "ALT ≤",
    "( " * 30_000,
    "Hemoglobin " + " " * 50_000 + "≥",
    "age " * 20_000,
    "1.5 x " * 20_000,
    "life expectancy of " * 5_000,
    "\\>" * 50_000,
]


@pytest.mark.parametrize("text", PATHOLOGICAL, ids=range(len(PATHOLOGICAL)))
def test_labs_pathological_inputs_are_fast(text: str) -> None:
    start = time.perf_counter()
    labs.extract(Criterion(kind="inclusion", ordinal=1, text=text))
    assert time.perf_counter() - start < 5.0  # generous: catastrophic backtracking takes minutes


def _megabyte() -> str:
    pieces = [case.values[0]["text"] for case in ANNOTATED]
    block = " ".join(pieces)
    return (block + " ") * (1_000_000 // len(block) + 1)


def test_labs_one_megabyte_is_fast() -> None:
    text = _megabyte()
    start = time.perf_counter()
    found = labs.extract(Criterion(kind="inclusion", ordinal=1, text=text))
    assert time.perf_counter() - start < 10.0  # generous: catastrophic backtracking takes minutes
    assert found


@pytest.mark.slow
def test_real_criteria_volume(shared_data: Path) -> None:
    """Every family over every line of a CT.gov snapshot: no exception; prints rate and coverage."""
    path = shared_data / "criteria_text" / "phase_II_valid.csv"
    if not path.is_file():
        pytest.skip(f"{path} not found")
    csv.field_size_limit(1 << 30)
    with path.open(encoding="utf-8", newline="") as fh:
        lines = [line.strip() for row in csv.DictReader(fh) for line in row["criteria"].splitlines()]
    criteria = [Criterion(kind="inclusion", ordinal=i, text=line) for i, line in enumerate(lines) if line]
    start = time.perf_counter()
    with_constraint = 0
    for criterion in criteria:
        found = extract_all(criterion)
        for c in found:
            assert criterion.text[c.start : c.end] == c.text
        with_constraint += bool(found)
    elapsed = time.perf_counter() - start
    rate = len(criteria) / elapsed
    print(
        f"\n{len(criteria)} criteria in {elapsed:.2f}s ({rate:,.0f}/s); "
        f"{with_constraint / len(criteria):.1%} with at least one constraint"
    )
    assert rate > 2_000
