"""Property tests of criteria splitting and extraction: any text, no exception, spans hold, each quickly.

Every family extractor is called directly (``extract_trial`` would turn an exception into a warning,
hiding it). The per-criterion time bound is generous (2 s; the machine may be loaded): catastrophic
regular-expression backtracking takes minutes, not seconds. The 1 MB cases are in test_hostile_files.py;
the per-family pathological strings in tests/extract/.
"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Callable

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from tests.reliability.support import scaled

from trialgraph import extract
from trialgraph.extract.split import split_criteria
from trialgraph.model import Criterion
from trialgraph.vocabulary import Vocabulary

EXAMPLES = scaled(100, 1_500)
PER_CRITERION_SECONDS = 2.0
RUNS: Counter[str] = Counter()
SLOWEST: dict[str, float] = {}

FUZZ = settings(
    max_examples=EXAMPLES,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
    database=None,
)

# Words, numbers, units and punctuation the extractors' rules are made of, so the fuzzer reaches them.
TOKENS = [
    "age",
    ">=",
    "<=",
    "<",
    ">",
    "≥",
    "≤",
    "=",
    "18",
    "75",
    "0",
    "1",
    "2",
    "1.5",
    "100,000",
    "-",
    "–",
    "to",
    "years",
    "months",
    "weeks",
    "days",
    "old",
    "ECOG",
    "Karnofsky",
    "KPS",
    "WHO",
    "performance",
    "status",
    "of",
    "or",
    "and",
    "not",
    "no",
    "without",
    "except",
    "other than",
    "unless",
    "within",
    "prior",
    "previous",
    "at least",
    "more than",
    "less than",
    "x",
    "×",
    "ULN",
    "upper limit of normal",
    "mg/dL",
    "g/dL",
    "µmol/L",
    "/mm3",
    "x 10^9/L",
    "10⁹/L",
    "platelets",
    "ANC",
    "hemoglobin",
    "bilirubin",
    "AST",
    "ALT",
    "creatinine",
    "clearance",
    "PD-1",
    "PD-L1",
    "anti-PD-1",
    "CTLA-4",
    "inhibitor",
    "pembrolizumab",
    "nivolumab",
    "chemotherapy",
    "radiotherapy",
    "SBRT",
    "therapy",
    "treatment",
    "regimen",
    "lines",
    "first-line",
    "metastases",
    "brain",
    "CNS",
    "oligoprogressive",
    "oligometastatic",
    "lesions",
    "≤ 5",
    "PSMA PET/CT",
    "MRI",
    "malignancy",
    "cancer",
    "carcinoma",
    "in situ",
    "basal cell",
    "disease-free",
    "for",
    "5 years",
    "(",
    ")",
    "[",
    "]",
    ",",
    ";",
    ":",
    ".",
    "/",
    "e.g.",
    "i.e.",
    "1.",
    "a)",
    "•",
    "*",
    "\n",
    "\t",
    " ",
    "  ",
    "Inclusion Criteria:",
    "Exclusion Criteria:",
    "Patients must",
    "Subjects",
    "have",
    "be",
    "with",
    "has",
]
TOKEN_SOUP = st.lists(st.sampled_from(TOKENS), max_size=400).map(" ".join)
ANY_TEXT = st.one_of(
    st.text(max_size=2_000),
    st.text(alphabet=st.characters(codec="utf-8"), max_size=500),
    st.text(alphabet="()[]<>=≥≤-–.,;:/ 0123456789xX\n", max_size=2_000),
    TOKEN_SOUP,
    st.builds(
        lambda unit, n: unit * n,
        st.sampled_from([*TOKENS, "a", " ", "1 ", "((", "e.g. "]),
        st.integers(1, 2_000),
    ),
)


def timed(label: str, call: Callable[[], object]) -> object:
    start = time.perf_counter()
    result = call()
    seconds = time.perf_counter() - start
    SLOWEST[label] = max(SLOWEST.get(label, 0.0), seconds)
    assert seconds < PER_CRITERION_SECONDS, f"{label} took {seconds:.2f} s"
    return result


@pytest.fixture(scope="module", autouse=True)
def _warm() -> None:
    """Load the vocabulary once, so its start-up is not charged to the first example."""
    Vocabulary.default()
    extract.extract_criterion(Criterion(kind="inclusion", ordinal=1, text="Age >= 18, ECOG 0-1, prior PD-1"))


@FUZZ
@given(text=ANY_TEXT, kind=st.sampled_from(["inclusion", "exclusion"]))
def test_every_family_reads_any_text_quickly_with_spans_that_hold(text: str, kind: str) -> None:
    RUNS["criteria"] += 1
    criterion = Criterion(kind=kind, ordinal=1, text=text)  # type: ignore[arg-type]
    for name, extractor in extract.FAMILY_EXTRACTORS.items():
        found = timed(name, lambda extractor=extractor: extractor(criterion))  # type: ignore[misc]
        assert isinstance(found, list)
        for c in found:
            assert 0 <= c.start <= c.end <= len(text), (name, c)
            assert text[c.start : c.end] == c.text, (name, c)


@FUZZ
@given(text=st.one_of(ANY_TEXT, st.lists(ANY_TEXT, max_size=6).map("\n".join)))
def test_splitting_any_block_terminates_with_spans_that_hold(text: str) -> None:
    RUNS["blocks"] += 1
    criteria = timed("split", lambda: split_criteria(text))
    assert isinstance(criteria, list)
    for c in criteria:
        assert c.kind in ("inclusion", "exclusion")
        assert c.text.strip()


def test_extraction_figures(record: Callable[..., None]) -> None:
    record(
        examples_per_property=EXAMPLES,
        examples_run=dict(RUNS),
        per_criterion_bound_s=PER_CRITERION_SECONDS,
        slowest_s={k: round(v, 3) for k, v in sorted(SLOWEST.items())},
    )
