"""Splitting eligibility blocks into criteria: real blocks with hand-written expectations, rules, scale."""

from __future__ import annotations

import csv
import re
import time
from collections import Counter
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from trialgraph.extract.split import split_criteria
from trialgraph.model import Criterion

DATA = Path(__file__).resolve().parents[1] / "data" / "split"
CASES: list[dict[str, Any]] = yaml.safe_load((DATA / "expected.yaml").read_text(encoding="utf-8"))
CASE_IDS = [case["file"].removesuffix(".txt") for case in CASES]
WORD_RE = re.compile(r"\w+")


def _block(case: dict[str, Any]) -> str:
    return (DATA / case["file"]).read_text(encoding="utf-8")


def _top_level(criteria: list[Criterion], kind: str) -> int:
    return sum(1 for c in criteria if c.kind == kind and c.parent is None)


def _lookup(criteria: list[Criterion], spec: dict[str, Any]) -> Criterion:
    of_kind = [c for c in criteria if c.kind == spec["kind"]]
    if "ordinal" in spec:
        found = [c for c in of_kind if c.ordinal == spec["ordinal"]]
    else:
        found = [c for c in of_kind if c.text == spec["find"]]
    assert len(found) == 1, f"no single {spec['kind']} criterion for {spec}"
    return found[0]


def _check_spans(block: str, criteria: list[Criterion]) -> None:
    for c in criteria:
        assert c.start is not None and c.end is not None
        assert 0 <= c.start < c.end <= len(block)
        assert " ".join(block[c.start : c.end].split()) == " ".join(c.text.split()), c
        assert c.text == c.text.strip() and c.text


# --- real blocks ---------------------------------------------------------------------------------


@pytest.mark.parametrize("case", CASES, ids=CASE_IDS)
def test_top_level_counts(case: dict[str, Any]) -> None:
    criteria = split_criteria(_block(case))
    for kind in ("inclusion", "exclusion"):
        if kind in case:
            assert _top_level(criteria, kind) == case[kind], kind


@pytest.mark.parametrize("case", CASES, ids=CASE_IDS)
def test_selected_criteria(case: dict[str, Any]) -> None:
    criteria = split_criteria(_block(case))
    for spec in case.get("criteria", []):
        c = _lookup(criteria, spec)
        if "text" in spec:
            assert c.text == spec["text"]
        if "text_starts" in spec:
            assert c.text.startswith(spec["text_starts"]), c.text
        if "text_ends" in spec:
            assert c.text.endswith(spec["text_ends"]), c.text
        if "label" in spec:
            assert c.label == spec["label"]
        if "parent" in spec:
            assert c.parent == spec["parent"]
        if "parent_text" in spec:
            parent = next(p for p in criteria if p.kind == c.kind and p.ordinal == c.parent)
            assert parent.text == spec["parent_text"]


@pytest.mark.parametrize("case", CASES, ids=CASE_IDS)
def test_spans_trace_back_to_the_block(case: dict[str, Any]) -> None:
    block = _block(case)
    _check_spans(block, split_criteria(block))


@pytest.mark.parametrize("case", CASES, ids=CASE_IDS)
def test_structure_is_well_formed(case: dict[str, Any]) -> None:
    criteria = split_criteria(_block(case))
    for kind in ("inclusion", "exclusion"):
        of_kind = [c for c in criteria if c.kind == kind]
        assert [c.ordinal for c in of_kind] == list(range(1, len(of_kind) + 1))
        for c in of_kind:
            assert c.parent is None or 1 <= c.parent < c.ordinal
    starts = [c.start for c in criteria]
    assert starts == sorted(starts), "criteria come in document order"


@pytest.mark.parametrize("case", CASES, ids=CASE_IDS)
def test_no_word_of_the_block_is_lost(case: dict[str, Any]) -> None:
    block = _block(case)
    criteria = split_criteria(block)
    missing = Counter(WORD_RE.findall(block))
    missing -= Counter(w for c in criteria for w in WORD_RE.findall(c.text))
    missing -= Counter(w for h in case["headings"] for w in WORD_RE.findall(h))
    missing -= Counter(w for c in criteria if c.label for w in WORD_RE.findall(c.label))
    assert not missing, f"words in no criterion: {sorted(missing)}"


KNOWN_GAPS = [
    pytest.param(
        case,
        gap,
        id=f"{case['file'].removesuffix('.txt')}-{gap['what']}",
        marks=pytest.mark.xfail(reason=gap["reason"], strict=True),
    )
    for case in CASES
    for gap in case.get("known_gaps", [])
]


@pytest.mark.parametrize(("case", "gap"), KNOWN_GAPS)
def test_known_gaps(case: dict[str, Any], gap: dict[str, Any]) -> None:
    assert _top_level(split_criteria(_block(case)), gap["what"]) == gap["expected"]


# --- rules on small blocks -----------------------------------------------------------------------


@pytest.mark.parametrize("text", ["", " ", "\n\n", " \t\n  \r\n"])
def test_empty_block_has_no_criteria(text: str) -> None:
    assert split_criteria(text) == []


def test_block_without_heading_is_all_inclusion() -> None:
    block = "Age 18 or older\nSigned informed consent\n"
    criteria = split_criteria(block)
    assert [(c.kind, c.ordinal, c.text, c.label) for c in criteria] == [
        ("inclusion", 1, "Age 18 or older", None),
        ("inclusion", 2, "Signed informed consent", None),
    ]


def test_exclusion_before_inclusion() -> None:
    block = "Exclusion Criteria:\n\n- Pregnancy\n- Prior chemotherapy\n\nInclusion Criteria:\n\n- Adults\n"
    criteria = split_criteria(block)
    assert [(c.kind, c.ordinal, c.text) for c in criteria] == [
        ("exclusion", 1, "Pregnancy"),
        ("exclusion", 2, "Prior chemotherapy"),
        ("inclusion", 1, "Adults"),
    ]


def test_numbered_item_after_lettered_sub_items_is_top_level() -> None:
    block = (
        "INCLUSION CRITERIA\n"
        "6. Adequate organ function:\n"
        "a. ANC >= 1.5 x 10^9/L\n"
        "b. Platelets >= 100 x 10^9/L\n"
        "7. Signed consent\n"
    )
    got = [(c.ordinal, c.label, c.parent) for c in split_criteria(block)]
    assert got == [(1, "6", None), (2, "a", 1), (3, "b", 1), (4, "7", None)]


def test_wrapped_lines_are_joined_with_one_space() -> None:
    block = "Inclusion Criteria:\n\n  -  Histologically confirmed\n     adenocarcinoma\n"
    (c,) = split_criteria(block)
    assert c.text == "Histologically confirmed adenocarcinoma"
    assert block[c.start : c.end] == "Histologically confirmed\n     adenocarcinoma"


def test_markdown_heading_and_separator_lines() -> None:
    block = "**Inclusion Criteria:**\n\n* Adults\n\n-----\n\n**Exclusion Criteria:**\n\n* Pregnancy\n"
    got = [(c.kind, c.text) for c in split_criteria(block)]
    assert got == [("inclusion", "Adults"), ("exclusion", "Pregnancy")]


def test_note_line_stays_with_the_criterion_above() -> None:
    block = "Exclusion Criteria:\n\n1. Active infection\n2. Pregnancy\n\nNote: other criteria may apply.\n"
    criteria = split_criteria(block)
    assert [c.text for c in criteria] == [
        "Active infection",
        "Pregnancy Note: other criteria may apply.",
    ]


def test_heading_with_inline_criterion() -> None:
    block = "Inclusion Criteria: >30 years old\nExclusion Criteria: None"
    got = [(c.kind, c.text, block[c.start : c.end]) for c in split_criteria(block)]
    assert got == [("inclusion", ">30 years old", ">30 years old"), ("exclusion", "None", "None")]


def test_nested_bullets_by_indentation() -> None:
    block = "* item\n  * sub-item\n  * second sub-item\n* next item\n"
    got = [(c.ordinal, c.parent, c.label, c.text) for c in split_criteria(block)]
    assert got == [
        (1, None, "*", "item"),
        (2, 1, "*", "sub-item"),
        (3, 1, "*", "second sub-item"),
        (4, None, "*", "next item"),
    ]


def test_letter_i_after_h_is_a_letter_and_ii_is_roman() -> None:
    block = "1. Labs:\n   h. x\n   i. y\n2. Other:\n   i. p\n   ii. q\n"
    got = [(c.label, c.parent) for c in split_criteria(block)]
    assert got == [("1", None), ("h", 1), ("i", 1), ("2", None), ("i", 4), ("ii", 4)]


def test_sentence_introducing_the_list_is_heading_text() -> None:
    block = (
        "Inclusion Criteria:\n\nPatients must meet all of the following criteria:\n\n1. Adult\n2. Consent\n"
    )
    got = [(c.ordinal, c.parent, c.text) for c in split_criteria(block)]
    assert got == [(1, None, "Adult"), (2, None, "Consent")]


def test_wrapped_line_starting_with_a_number_is_text() -> None:
    block = "1. Diagnosed after January\n2018. Confirmed by biopsy\n2. Adult\n"
    got = [(c.label, c.text) for c in split_criteria(block)]
    assert got == [("1", "Diagnosed after January 2018. Confirmed by biopsy"), ("2", "Adult")]


# --- any input -----------------------------------------------------------------------------------

_SHAPES = (
    """
Inclusion Criteria:|Exclusion criteria|Criteria: Inclusion Criteria: x|**Exclusion Criteria:** y
Part A:|AGE:|Group 1|Patients must meet all of the following:|Inclusion criteria for group B:
  * sub item|1. one|2. two|  a) two|ii. three|i. x|(1) x|• dot|o circle|-dash|- dash|①x|  10. ten
Note: x|OR|----|   continued line|lower case wrap|ends with a colon:|other criteria may apply
""".replace("\n", "|")
    .strip("|")
    .split("|")
)
_FRAGMENTS = ["Inclusion Criteria:", "\xa0", " ", "\t", "*", "x", ":", "1.", "-", "\u2028"]
_LINE = st.one_of(
    st.sampled_from(["", *_SHAPES]),
    st.text(alphabet=st.characters(codec="utf-8", exclude_categories=["Cs"]), max_size=30),
    st.lists(st.sampled_from(_FRAGMENTS), max_size=6).map("".join),
)


@settings(max_examples=300, deadline=None)
@given(st.lists(_LINE, max_size=25))
def test_any_text_gives_traceable_well_formed_criteria(lines: list[str]) -> None:
    block = "\n".join(lines)
    criteria = split_criteria(block)
    _check_spans(block, criteria)
    for kind in ("inclusion", "exclusion"):
        of_kind = [c for c in criteria if c.kind == kind]
        assert [c.ordinal for c in of_kind] == list(range(1, len(of_kind) + 1))
        assert all(c.parent is None or 1 <= c.parent < c.ordinal for c in of_kind)


# --- scale ---------------------------------------------------------------------------------------


@pytest.mark.slow
def test_every_shared_block_splits_quickly(shared_data: Path) -> None:
    csv.field_size_limit(10**9)
    blocks: list[str] = []
    for path in sorted((shared_data / "criteria_text").glob("phase_*.csv")):
        with path.open(encoding="utf-8", newline="") as f:
            blocks.extend(row["criteria"] for row in csv.DictReader(f))
    blocks.extend(
        p.read_text(encoding="utf-8") for p in sorted((shared_data / "criteria_text/lct_raw").glob("*.txt"))
    )
    assert len(blocks) > 5000
    start = time.perf_counter()
    total = 0
    for block in blocks:
        criteria = split_criteria(block)
        total += len(criteria)
    seconds = time.perf_counter() - start
    print(f"\nsplit {len(blocks)} blocks into {total} criteria in {seconds:.2f} s")
    assert total > len(blocks)
    assert seconds < 60


@pytest.mark.slow
def test_a_megabyte_block_is_linear() -> None:
    unit = "Inclusion Criteria:\n\n  1. Adequate organ function:\n     a. ANC\n  - x\nGroup 1\n\n"
    small, large = unit * 2_000, unit * 16_000  # about 130 kB and 1 MB
    timings = []
    for block in (small, large):  # CPU time, the best of two: other processes on the machine do not count
        runs = []
        for _ in range(2):
            start = time.process_time()
            split_criteria(block)
            runs.append(time.process_time() - start)
        timings.append(min(runs))
    assert timings[1] < 20.0
    assert timings[1] < 8 * timings[0] * 2.5, timings  # 8x the input, well under quadratic
