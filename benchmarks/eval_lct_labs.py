"""Age, performance-status, life-expectancy and lab extraction against the LCT human annotations.

The Leaf Clinical Trials corpus (../shared/data/lct_annotated, brat standoff) annotates each
eligibility text with Observation and Age events whose Numeric-Filter is an Eq-Comparison with an
operator (EQ, LT, LTEQ, GT, GTEQ, BETWEEN), values and units. This script turns the annotations
of the families extracted here into *gold tests* and compares them with the constraints the
extractors read, line by line.

Fair matching:

* Gold tests. An Observation whose name is a performance scale, life expectancy or a lab analyte
  of the vocabulary (``trialgraph.extract.labs.ANALYTES``) by this script's own keyword list, or
  an Age event, with its comparison: one test ``(family, key, operator, value)``, BETWEEN giving
  two (``>=`` low, ``<=`` high). Values are normalised like the extractors do: lab values to the
  analyte's canonical unit (the unit is the text after the value in the comparison span), ages to
  years, life expectancy to months (12/52 months per week); performance scores to whole steps
  (ECOG ``> 1`` is ``>= 2``, Karnofsky ``> 60`` is ``>= 70``). WHO and ECOG count as one scale.
  "Life expectancy of 12 weeks" (EQ) is read as a minimum, as the extractor documents.
* Predicted tests. Each line is one criterion of the kind of its section. Its constraints are
  turned back into the operators of the raw text: an exclusion's constraint is complemented again
  ("platelets >= 100" from "platelets < 100" in an exclusion is compared as ``< 100``). A
  constraint's ``applies_when`` is ignored; a branch is a test like any other.
* A predicted test matches a gold test of the same line with the same family, key, operator and
  value (1 % tolerance). Each gold test matches at most once. Precision = matched / predicted,
  recall = matched / gold; predictions on lines whose observation the annotators left out count
  against precision (use ``--examples`` to read them).

    .venv/bin/python benchmarks/eval_lct_labs.py [--data ../shared/data/lct_annotated] [--examples 5]
"""

from __future__ import annotations

import argparse
import re
import sys
import time
from collections import Counter, defaultdict
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from trialgraph.extract import demographics, labs, performance
from trialgraph.extract.common import invert, parse_number
from trialgraph.model import (
    AgeConstraint,
    Constraint,
    Criterion,
    CriterionKind,
    LabConstraint,
    LifeExpectancyConstraint,
    PerformanceConstraint,
)
from trialgraph.resources import SHARED_DATA_DIR

FAMILIES = ("age", "performance", "life_expectancy", "lab")
OPERATORS = {"EQ": "=", "LT": "<", "LTEQ": "<=", "GT": ">", "GTEQ": ">="}
STEPS = {"ECOG": 1.0, "KARNOFSKY": 10.0, "LANSKY": 10.0}
MONTHS_PER = {"day": 12 / 364, "week": 12 / 52, "month": 1.0, "year": 12.0}
YEARS_PER = {
    "hour": 1 / 8766,
    "minute": 1 / 525960,
    "day": 1 / 365.25,
    "week": 7 / 365.25,
    "month": 1 / 12,
    "year": 1.0,
}

# The annotation's observation name -> (family, key); this script's own list, not the extractor's.
NAME_KEYS: list[tuple[str, str, str]] = [
    (r"karnofsky|\bkps\b", "performance", "KARNOFSKY"),
    (r"lansky", "performance", "LANSKY"),
    (r"ecog|eastern cooperative|zubrod|performance (?:status|score|scale)|^ps$", "performance", "ECOG"),
    (r"life expectancy|(?:expected|predicted) survival|survival expectancy|life span", "life_expectancy", ""),
    (r"a1c|glyc|glycosyl", "", ""),
    (r"creatinine clearance|\bcrcl\b|\bclcr\b|^clearance$", "lab", "creatinine_clearance"),
    (r"\be?gfr\b|glomerular filtration", "lab", "egfr"),
    (r"phosphokinase|kinase|ratio|urine|urinary", "", ""),
    (r"creatinine|^(?:serum\s+)?s?cr$", "lab", "creatinine"),
    (r"direct bilirubin|conjugated bilirubin", "lab", "direct_bilirubin"),
    (r"bilirubin|\bt-?bil", "lab", "bilirubin"),
    (r"neutrophil|\banc\b|granulocyte", "lab", "anc"),
    (r"white blood|\bwbc\b|leu[ck]ocyte", "lab", "wbc"),
    (r"lymphocyte", "lab", "lymphocytes"),
    (r"platelet|\bplt\b|thrombocyte|trombocyte", "lab", "platelets"),
    (r"h(?:a|ae|e)moglobin|^hb$|^hgb$", "lab", "hemoglobin"),
    (r"\bast\b|sgot|aspartate", "lab", "ast"),
    (r"\balt\b|sgpt|alanine", "lab", "alt"),
    (r"alkaline phosphatase|\balp\b", "lab", "alp"),
    (r"albumin", "lab", "albumin"),
    (r"\binr\b|international normali", "lab", "inr"),
    (r"partial thromboplastin|\ba?ptt\b", "lab", "aptt"),
    (r"prothrombin time|^pt$", "lab", "pt"),
    (r"testosterone", "lab", "testosterone"),
    (r"\bpsa\b|prostate.specific antigen", "lab", "psa"),
    (r"ejection fraction|\blvef\b|^ef$", "lab", "lvef"),
]
NAME_RES = [(re.compile(p, re.IGNORECASE), family, key) for p, family, key in NAME_KEYS]
HEADING_RE = re.compile(r"^\s*(?:key\s+)?(inclusion|exclusion)\s+criteria", re.IGNORECASE)
UNIT_PART_RE = re.compile(r"[x×*^]\s*$|10\s*$")
MARKER_RE = re.compile(r"^\s*(?:[-*•]|\d+[.)]|[a-z][.)])?\s*")


@dataclass(frozen=True)
class Test:
    """One comparison a patient's value is checked with, in the raw text's sense."""

    family: str
    key: str
    op: str
    value: float


@dataclass
class Document:
    """One annotated trial: its text, its lines as criteria, and the gold tests per line."""

    name: str
    text: str
    lines: list[tuple[int, int, CriterionKind]]
    gold: dict[int, list[Test]]


def _name_key(name: str) -> tuple[str, str] | None:
    for pattern, family, key in NAME_RES:
        if pattern.search(name.strip()):
            return (family, key) if family else None
    return None


def _lines(text: str) -> list[tuple[int, int, CriterionKind]]:
    """(start, end, kind) of each criterion line, after its list marker."""
    out: list[tuple[int, int, CriterionKind]] = []
    kind: CriterionKind = "inclusion"
    offset = 0
    for raw in text.splitlines(keepends=True):
        line = raw.rstrip("\r\n")
        heading = HEADING_RE.match(line)
        if heading:
            kind = "exclusion" if heading.group(1).lower() == "exclusion" else "inclusion"
        else:
            marker = MARKER_RE.match(line)
            start = offset + (marker.end() if marker else 0)
            if line.strip():
                out.append((start, offset + len(line), kind))
        offset += len(raw)
    return out


def _number(text: str) -> float | None:
    try:
        return parse_number(text.strip().replace("·", "."))
    except ValueError:
        return None


Events = dict[str, tuple[str, dict[str, list[str]]]]


def _parse_ann(path: Path) -> tuple[dict[str, tuple[str, int, int]], Events, dict[str, str]]:
    """Text-bound spans, events with their role lists, and attributes of one .ann file."""
    spans: dict[str, tuple[str, int, int]] = {}
    events: Events = {}
    attributes: dict[str, str] = {}
    for line in path.read_text(encoding="utf-8").splitlines():
        parts = line.split("\t")
        if len(parts) < 2:
            continue
        ident, body = parts[0], parts[1]
        if ident.startswith("T"):
            label, _, offsets = body.partition(" ")
            numbers = [int(n) for n in re.findall(r"\d+", offsets)]
            if numbers:
                spans[ident] = (label, numbers[0], numbers[-1])
        elif ident.startswith("E"):
            args = body.split()
            label, _, trigger = args[0].partition(":")
            roles: dict[str, list[str]] = {"_trigger": [trigger]}
            for arg in args[1:]:
                role, _, target = arg.partition(":")
                # "Value", "Value2", "Numeric-Filter2": numbered repeats of one role.
                roles.setdefault(role.rstrip("0123456789"), []).append(target)
            events[ident] = (label, roles)
        elif ident.startswith("A"):
            name, target, *value = body.split()
            if value:
                attributes[f"{name}:{target}"] = value[0]
    return spans, events, attributes


def _gold_tests(
    family: str,
    key: str,
    comparison: dict[str, list[str]],
    text: str,
    spans: dict[str, tuple[str, int, int]],
    attributes: dict[str, str],
) -> list[Test]:
    """The tests of one annotated comparison, normalised like the extractors normalise."""
    values = []
    for target in comparison.get("Value", []):
        if target in spans:
            _, s, e = spans[target]
            # "100 x 109/L": a "value" inside the unit is part of the unit.
            if UNIT_PART_RE.search(text[max(0, s - 3) : s]):
                continue
            v = _number(text[s:e])
            if v is not None:
                values.append((v, e))
    if not values or len(values) > 2:
        return []
    operators = comparison.get("Operator", [])
    op_name = attributes.get(f"Eq-Operator-Value:{operators[0]}", "EQ") if operators else "EQ"
    if op_name == "PLUS-MINUS":
        return []
    if len(values) == 2:
        lo, hi = sorted(v for v, _ in values)
        raw = [(">=", lo), ("<=", hi)] if lo != hi else [("=", lo)]
    else:
        raw = [(OPERATORS.get(op_name, "="), values[0][0])]
    trigger = comparison["_trigger"][0]
    unit_end = spans[trigger][2] if trigger in spans else values[-1][1]
    unit_text = text[max(end for _, end in values) : unit_end].strip() or None
    temporal_ids = comparison.get("Temporal-Unit", [])
    temporal = attributes.get(f"Eq-Temporal-Unit-Value:{temporal_ids[0]}") if temporal_ids else None
    tests = []
    for op, value in raw:
        if family == "age":
            factor = YEARS_PER.get(temporal or "year")
            if factor is None:
                continue
            tests.append(Test("age", "", op, value * factor))
        elif family == "life_expectancy":
            if temporal not in MONTHS_PER:
                continue
            tests.append(Test(family, "", ">=" if op == "=" else op, value * MONTHS_PER[temporal]))
        elif family == "performance":
            step = STEPS[key]
            if op == ">":
                op, value = ">=", value + step
            elif op == "<":
                op, value = "<=", value - step
            tests.append(Test(family, key, op, value))
        else:
            normalised = labs.normalise_value(key, value, unit_text)
            tests.append(Test(family, key, op, normalised[0] if normalised else value))
    return tests


def load(path: Path) -> Iterator[Document]:
    """Every annotated trial under ``path`` with its gold tests per line."""
    for txt in sorted(path.rglob("*.txt")):
        ann = txt.with_suffix(".ann")
        if not ann.is_file():
            continue
        text = txt.read_text(encoding="utf-8")
        lines = _lines(text)
        starts = [s for s, _, _ in lines]
        spans, events, attributes = _parse_ann(ann)
        gold: dict[int, list[Test]] = defaultdict(list)
        for label, roles in events.values():
            names = [n for n in roles.get("Name", []) if n in spans]
            if label == "Age":
                family_key: tuple[str, str] | None = ("age", "")
            elif label == "Observation" and names:
                _, s, e = spans[names[0]]
                family_key = _name_key(text[s:e])
            else:
                continue
            if family_key is None:
                continue
            for target in roles.get("Numeric-Filter", []):
                if target not in events:
                    continue
                comp_label, comparison = events[target]
                trigger = comparison["_trigger"][0]
                if comp_label != "Eq-Comparison" or trigger not in spans:
                    continue
                at = spans[trigger][1]
                line = max((i for i, s in enumerate(starts) if s <= at), default=0)
                gold[line].extend(_gold_tests(*family_key, comparison, text, spans, attributes))
        yield Document(str(txt.relative_to(path)), text, lines, gold)


def _raw_tests(c: Constraint, exclusion: bool) -> list[Test]:
    """A constraint as the tests of the raw text (an exclusion's constraint complemented again)."""
    if isinstance(c, LabConstraint):
        op = invert(c.comparator) if exclusion else c.comparator  # type: ignore[arg-type]
        return [Test("lab", c.analyte, op, c.value)]
    if isinstance(c, AgeConstraint):
        tests = []
        if c.min_years is not None:
            op = (">=" if c.min_inclusive else ">") if not exclusion else ("<" if c.min_inclusive else "<=")
            tests.append(Test("age", "", op, c.min_years))
        if c.max_years is not None:
            op = ("<=" if c.max_inclusive else "<") if not exclusion else (">" if c.max_inclusive else ">=")
            tests.append(Test("age", "", op, c.max_years))
        return tests
    if isinstance(c, LifeExpectancyConstraint):
        op = (">=" if c.min_inclusive else ">") if not exclusion else ("<" if c.min_inclusive else "<=")
        return [Test("life_expectancy", "", op, c.min_months)]
    if isinstance(c, PerformanceConstraint):
        scale = "ECOG" if c.scale == "WHO" else c.scale
        step = STEPS[scale]
        lo, hi = c.min_value, c.max_value
        if exclusion:
            if lo is None and hi is not None:
                return [Test("performance", scale, ">=", hi + step)]
            if hi is None and lo is not None:
                return [Test("performance", scale, "<=", lo - step)]
            return []
        if lo is not None and lo == hi:
            return [Test("performance", scale, "=", lo)]
        tests = []
        if lo is not None:
            tests.append(Test("performance", scale, ">=", lo))
        if hi is not None:
            tests.append(Test("performance", scale, "<=", hi))
        return tests
    return []


def _matches(p: Test, g: Test) -> bool:
    return (p.family, p.key, p.op) == (g.family, g.key, g.op) and abs(p.value - g.value) <= 0.01 * max(
        1.0, abs(g.value)
    )


def evaluate(path: Path, examples: int) -> int:
    """Print precision and recall per family and overall; return a process exit code."""
    started = time.perf_counter()
    counts = {f: Counter[str]() for f in FAMILIES}
    shown: dict[str, list[str]] = defaultdict(list)
    documents = criteria = 0
    for doc in load(path):
        documents += 1
        for index, (start, end, kind) in enumerate(doc.lines):
            criteria += 1
            criterion = Criterion(kind=kind, ordinal=index + 1, text=doc.text[start:end])
            found = [
                *demographics.extract_age(criterion),
                *performance.extract(criterion),
                *labs.extract(criterion),
            ]
            predicted = [t for c in found for t in _raw_tests(c, kind == "exclusion")]
            gold = list(doc.gold.get(index, []))
            for p in predicted:
                match = next((g for g in gold if _matches(p, g)), None)
                if match is not None:
                    gold.remove(match)
                    counts[p.family]["tp"] += 1
                else:
                    counts[p.family]["fp"] += 1
                    if len(shown[f"fp {p.family}"]) < examples:
                        shown[f"fp {p.family}"].append(f"{doc.name}: {criterion.text[:100]!r} -> {p}")
            for g in gold:
                counts[g.family]["fn"] += 1
                if len(shown[f"fn {g.family}"]) < examples:
                    shown[f"fn {g.family}"].append(f"{doc.name}: {criterion.text[:100]!r} -> {g}")
    total = sum(counts.values(), Counter[str]())
    print(f"LCT corpus: {documents} trials, {criteria} criteria lines, {time.perf_counter() - started:.1f}s")
    print(f"{'family':<16}{'gold':>6}{'pred':>6}{'match':>7}{'precision':>11}{'recall':>8}")
    for name, c in [*counts.items(), ("overall", total)]:
        gold_n, pred_n = c["tp"] + c["fn"], c["tp"] + c["fp"]
        precision = c["tp"] / pred_n if pred_n else float("nan")
        recall = c["tp"] / gold_n if gold_n else float("nan")
        print(f"{name:<16}{gold_n:>6}{pred_n:>6}{c['tp']:>7}{precision:>11.3f}{recall:>8.3f}")
    for label, lines in sorted(shown.items()):
        print(f"\n{label}:")
        for line in lines:
            print(f"  {line}")
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=SHARED_DATA_DIR / "lct_annotated")
    parser.add_argument("--examples", type=int, default=0, help="print this many misses per family")
    args = parser.parse_args(argv)
    if not args.data.is_dir():
        print(f"no annotations at {args.data}", file=sys.stderr)
        return 2
    return evaluate(args.data, args.examples)


if __name__ == "__main__":
    sys.exit(main())
