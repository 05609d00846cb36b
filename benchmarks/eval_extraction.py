"""Criteria extraction, measured: precision and recall per family, and robustness over the corpus.

1. Against the hand annotations in ``tests/data/extraction/*.yaml`` (every criterion of the five
   seed pages and criteria of real ClinicalTrials.gov records, written by reading the text). Each
   file covers some families; a predicted constraint of a covered family is a true positive when an
   expected one of the same family agrees on every field the annotation states (concept names in
   ``tgc:`` form, numbers within 1 %), each expected constraint matched at most once. Known misses
   marked ``xfail`` in the files count as misses here.
2. Against the LCT human annotations (``../shared/data/lct_annotated``): run
   ``benchmarks/eval_lct_labs.py`` (age, performance, life expectancy, labs), which this script
   calls at the end.
3. Robustness and throughput: every eligibility block of ``../shared/data/criteria_text`` split
   and extracted; exceptions counted (there must be none), share of criteria with at least one
   constraint, criteria per second.

    .venv/bin/python benchmarks/eval_extraction.py [--skip-lct] [--limit N]
"""

from __future__ import annotations

import argparse
import csv
import runpy
import sys
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import yaml

from trialgraph.extract import FAMILY_EXTRACTORS, extract_criterion
from trialgraph.extract.split import split_criteria
from trialgraph.model import Constraint, Criterion
from trialgraph.namespaces import TGC
from trialgraph.resources import ROOT, SHARED_DATA_DIR

ANNOTATIONS = ROOT / "tests" / "data" / "extraction"
FILE_FAMILIES = {
    "seeds.yaml": {"age", "sex", "performance", "life_expectancy", "lab"},
    "ctgov_criteria.yaml": {"age", "sex", "performance", "life_expectancy", "lab"},
    "therapy.yaml": {"therapy"},
    "disease.yaml": {"disease_state", "metastasis_site", "histology"},
    "imaging.yaml": {"imaging"},
    "malignancy.yaml": {"malignancy"},
}
_RENAMED = {"permitted": "permitted_therapies"}
_IGNORED = {"family", "note", "xfail"}


def _expand(value: Any) -> Any:
    if isinstance(value, str) and value.startswith("tgc:"):
        return TGC + value[4:]
    if isinstance(value, list):
        return sorted(_expand(v) for v in value)
    return value


def _agrees(expected: dict[str, Any], got: Constraint) -> bool:
    for key, want in expected.items():
        if key in _IGNORED:
            continue
        have = getattr(got, _RENAMED.get(key, key), None)
        want = _expand(want)
        if isinstance(have, list):
            have = sorted(have)
        if isinstance(want, (int, float)) and not isinstance(want, bool) and isinstance(have, (int, float)):
            if abs(float(have) - float(want)) > 0.01 * max(abs(float(want)), 1e-9):
                return False
        elif have != want:
            return False
    return True


def evaluate_annotations() -> dict[str, Counter[str]]:
    """True positives, false positives and false negatives per family over the annotation files."""
    scores: dict[str, Counter[str]] = {}
    for name, families in FILE_FAMILIES.items():
        cases = yaml.safe_load((ANNOTATIONS / name).read_text(encoding="utf-8"))
        default_family = next(iter(families)) if len(families) == 1 else None
        for case in cases:
            if "text" not in case:  # trial-level tag expectations, checked by the tests
                continue
            criterion = Criterion(case["kind"], int(case.get("number") or 1), case["text"])
            predicted = [c for c in extract_criterion(criterion) if c.family in families]
            expected = [dict(e) for e in case.get("expected") or []]
            for e in expected:
                e.setdefault("family", default_family)
            unmatched = list(expected)
            for got in predicted:
                score = scores.setdefault(got.family, Counter())
                match = next((e for e in unmatched if e["family"] == got.family and _agrees(e, got)), None)
                if match is None:
                    score["fp"] += 1
                else:
                    unmatched.remove(match)
                    score["tp"] += 1
            for e in unmatched:
                scores.setdefault(e["family"], Counter())["fn"] += 1
    return scores


def corpus_blocks(limit: int | None = None) -> Iterator[str]:
    """Every eligibility block of the criteria-text corpus (CSV rows, then the LCT raw files)."""
    csv.field_size_limit(1 << 30)
    folder = SHARED_DATA_DIR / "criteria_text"
    count = 0
    for path in sorted(folder.glob("*.csv")):
        with path.open(encoding="utf-8", newline="") as handle:
            for row in csv.DictReader(handle):
                yield row["criteria"]
                count += 1
                if limit and count >= limit:
                    return
    for path in sorted((folder / "lct_raw").glob("*.txt")):
        yield path.read_text(encoding="utf-8")
        count += 1
        if limit and count >= limit:
            return


def robustness(limit: int | None = None) -> None:
    """Split and extract every block; print exceptions, coverage and throughput."""
    blocks = criteria = with_constraint = errors = 0
    per_family: Counter[str] = Counter()
    extract_seconds = 0.0
    for block in corpus_blocks(limit):
        blocks += 1
        for criterion in split_criteria(block):
            criteria += 1
            start = time.perf_counter()
            try:
                found = extract_criterion(criterion)
            except Exception as exc:  # counted and shown: the corpus must raise nothing
                errors += 1
                print(f"  exception on {criterion.text[:80]!r}: {type(exc).__name__}: {exc}", file=sys.stderr)
                continue
            finally:
                extract_seconds += time.perf_counter() - start
            with_constraint += bool(found)
            per_family.update(c.family for c in found)
    print(f"\ncorpus: {blocks:,} eligibility blocks, {criteria:,} criteria, {errors} exceptions")
    print(
        f"criteria with at least one constraint: {with_constraint:,} "
        f"({with_constraint / max(criteria, 1):.1%})"
    )
    print(
        f"extraction throughput: {criteria / max(extract_seconds, 1e-9):,.0f} criteria/s "
        f"({len(FAMILY_EXTRACTORS)} families, one process)"
    )
    print("constraints per family: " + ", ".join(f"{k} {v:,}" for k, v in sorted(per_family.items())))


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--skip-lct", action="store_true", help="Do not run the LCT evaluation.")
    parser.add_argument("--limit", type=int, help="Only the first N corpus blocks.")
    args = parser.parse_args()
    scores = evaluate_annotations()
    print("hand annotations (tests/data/extraction):")
    print(f"  {'family':<16}{'tp':>5}{'fp':>5}{'fn':>5}{'precision':>11}{'recall':>8}")
    total: Counter[str] = Counter()
    for family, s in sorted(scores.items()):
        total.update(s)
        p = s["tp"] / max(s["tp"] + s["fp"], 1)
        r = s["tp"] / max(s["tp"] + s["fn"], 1)
        print(f"  {family:<16}{s['tp']:>5}{s['fp']:>5}{s['fn']:>5}{p:>11.3f}{r:>8.3f}")
    p = total["tp"] / max(total["tp"] + total["fp"], 1)
    r = total["tp"] / max(total["tp"] + total["fn"], 1)
    print(f"  {'all':<16}{total['tp']:>5}{total['fp']:>5}{total['fn']:>5}{p:>11.3f}{r:>8.3f}")
    robustness(args.limit)
    if not args.skip_lct:
        print("\nLCT human annotations (benchmarks/eval_lct_labs.py):")
        sys.argv = [str(Path(__file__).with_name("eval_lct_labs.py"))]
        runpy.run_path(sys.argv[0], run_name="__main__")


if __name__ == "__main__":
    main()
