"""The ClinicalTrials.gov API v2 JSON reader: hand-read records, every shared file, bad input."""

from __future__ import annotations

import copy
import dataclasses
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from trialgraph.errors import InputError
from trialgraph.ingest.common import bare_intervention_name
from trialgraph.ingest.ctgov_json import read_ctgov_json
from trialgraph.ingest.normalize import minted_id
from trialgraph.model import Age, Identifier, MeshTerm, Organization, Site, Trial
from trialgraph.resources import SHARED_DATA_DIR

DATA = Path(__file__).resolve().parents[1] / "data"
EXPECTED: list[dict[str, Any]] = yaml.safe_load(
    (DATA / "ctgov_json" / "expected.yaml").read_text(encoding="utf-8")
)
SHARED_JSON = sorted((SHARED_DATA_DIR / "ctgov_v2").rglob("*.json"))
SMALL_STUDY = DATA / "ctgov_json" / "NCT00973089.json"


def _path(ref: str) -> Path:
    """A fixture path from ``expected.yaml``: under tests/data, or ``shared:`` corpora."""
    if ref.startswith("shared:"):
        path = SHARED_DATA_DIR / ref.removeprefix("shared:")
        if not path.is_file():
            pytest.skip(f"shared corpora not found at {SHARED_DATA_DIR}")
        return path
    return DATA / ref


def _read(data: bytes | str, file: str = "batch.json") -> list[Trial | InputError]:
    raw = data.encode("utf-8") if isinstance(data, str) else data
    return list(read_ctgov_json(raw, file))


def _trials(results: list[Trial | InputError]) -> list[Trial]:
    return [r for r in results if isinstance(r, Trial)]


def _errors(results: list[Trial | InputError]) -> list[InputError]:
    return [r for r in results if isinstance(r, InputError)]


def _study(nct_id: str | None = None, title: str | None = None, **modules: Any) -> dict[str, Any]:
    """A minimal study object with the given identification and extra protocol modules."""
    ident: dict[str, Any] = {}
    if nct_id:
        ident["nctId"] = nct_id
    if title:
        ident["briefTitle"] = title
    return {"protocolSection": {"identificationModule": ident, **modules}}


def _dump(value: object) -> str:
    return json.dumps(value)


# --- hand-read records ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    "case", EXPECTED, ids=[f"{c['file'].split('/')[-1]}#{c['record']}" for c in EXPECTED]
)
def test_record_matches_hand_read_values(case: dict[str, Any]) -> None:
    path = _path(case["file"])
    results = _read(path.read_bytes(), str(path))
    assert not _errors(results)
    trial = results[case["record"]]
    assert isinstance(trial, Trial)
    assert trial.nct_id == case["nct_id"]
    assert trial.id == case["nct_id"]
    assert trial.title == case["title"]
    assert trial.phases == case["phases"]
    assert trial.overall_status == case["status"]
    assert [c.name for c in trial.conditions] == case["conditions"]
    assert {a.label: a.intervention_names for a in trial.arms} == case["arms"]
    assert trial.minimum_age == Age.parse(case["minimum_age"])
    assert trial.maximum_age == Age.parse(case["maximum_age"])
    assert trial.sex == case["sex"]
    assert trial.enrollment == case["enrollment"]
    assert trial.eligibility_text is not None
    assert trial.eligibility_text.startswith(case["eligibility_starts"])
    assert trial.eligibility_text.endswith(case["eligibility_ends"])
    assert trial.source.record_index == case["record"]
    assert trial.source.format == "ctgov-json"
    assert trial.source.file == str(path)


def test_the_nct_id_comes_from_the_content_not_the_file_name() -> None:
    path = _path("shared:ctgov_v2/single/NCT02278341.json")
    (trial,) = _read(path.read_bytes(), str(path))
    assert isinstance(trial, Trial)
    assert trial.id == "NCT02552212"
    assert "NCT02278341" not in {i.value for i in trial.identifiers}


def test_fields_beyond_the_core_of_a_small_study() -> None:
    # Read by hand from tests/data/ctgov_json/NCT00973089.json.
    (trial,) = _read(SMALL_STUDY.read_bytes(), str(SMALL_STUDY))
    assert isinstance(trial, Trial)
    assert trial.identifiers == [
        Identifier("NCT00973089", "nct"),
        Identifier("LSA001-HMO-CTIL", "org_study_id"),
    ]
    assert trial.official_title == (
        "Alternative Treatment of Deep Carious Lesions Based on Biological Evidences"
    )
    assert (trial.start_date, trial.primary_completion_date, trial.completion_date) == (
        "2010-05",
        "2015-03",
        "2015-03",
    )
    assert (trial.first_posted, trial.last_update_posted) == ("2009-09-09", "2015-08-19")
    assert trial.sponsor == Organization("Hadassah Medical Organization", "lead_sponsor", "OTHER")
    assert trial.collaborators == []
    assert trial.summary is not None and trial.summary.startswith("The purpose of this study")
    assert trial.description is not None and trial.description.endswith("deep carious lesions.")
    assert trial.keywords == ["Primary tooth", "Caries, Dental", "Alternative treatment"]
    assert trial.study_type == "INTERVENTIONAL"
    assert (trial.allocation, trial.intervention_model, trial.masking) == (
        "RANDOMIZED",
        "PARALLEL",
        "SINGLE",
    )
    assert (trial.primary_purpose, trial.enrollment_type) == ("TREATMENT", "ACTUAL")
    (intervention,) = trial.interventions
    assert intervention.name == "Incomplete caries removal in primary teeth"
    assert intervention.type == "OTHER"
    assert intervention.other_names == ["Indirect pulp capping"]
    assert intervention.arm_labels == ["Incomplete caries removal"]
    assert [a.type for a in trial.arms] == ["NO_INTERVENTION", "OTHER"]
    assert trial.healthy_volunteers is True
    assert trial.sites == [Site("Hadassah Medical Organization", "Jerusalem", None, "Israel")]
    assert trial.condition_mesh == [MeshTerm("D000003731", "Dental Caries")]
    assert trial.intervention_mesh == []
    assert trial.warnings == []


def test_secondary_ids_sponsor_and_mesh() -> None:
    # Read by hand from ctgov_v2/single/NCT02278341.json (study NCT02552212).
    path = _path("shared:ctgov_v2/single/NCT02278341.json")
    (trial,) = _read(path.read_bytes(), str(path))
    assert isinstance(trial, Trial)
    assert Identifier("AS0006", "org_study_id") in trial.identifiers
    assert Identifier("2015-001894-41", "secondary", "EUDRACT_NUMBER") in trial.identifiers
    assert trial.acronym == "C-AXSPAND"
    assert trial.sponsor == Organization("UCB BIOSCIENCES GmbH", "lead_sponsor", "INDUSTRY")
    assert trial.condition_mesh[:3] == [
        MeshTerm("D000013166", "Spondylitis"),
        MeshTerm("D000025241", "Spondylarthritis"),
        MeshTerm("D000089183", "Axial Spondyloarthritis"),
    ]
    certolizumab = next(i for i in trial.interventions if i.name == "Certolizumab Pegol")
    assert certolizumab.type == "BIOLOGICAL"
    assert certolizumab.other_names == ["Cimzia", "CDP870"]
    assert trial.masking == "QUADRUPLE"
    assert trial.healthy_volunteers is False


def test_an_array_file_reads_every_study_in_order() -> None:
    path = _path("shared:ctgov_v2/trialmatchai_ctg-studies.json")
    results = _read(path.read_bytes(), str(path))
    studies = json.loads(path.read_bytes())
    assert [t.nct_id for t in _trials(results)] == [
        s["protocolSection"]["identificationModule"]["nctId"] for s in studies
    ]
    assert [t.source.record_index for t in _trials(results)] == list(range(len(studies)))


# --- every shared file ---------------------------------------------------------------------------


@pytest.mark.parametrize("path", SHARED_JSON, ids=[str(p.relative_to(SHARED_DATA_DIR)) for p in SHARED_JSON])
def test_every_shared_file_reads_without_error(path: Path) -> None:
    results = _read(path.read_bytes(), str(path))
    assert _errors(results) == []
    value = json.loads(path.read_bytes())
    assert len(results) == (len(value) if isinstance(value, list) else 1)
    assert all(t.nct_id and t.title for t in _trials(results))


def test_shared_corpus_is_present_for_the_file_sweep() -> None:
    if not SHARED_DATA_DIR.is_dir():
        pytest.skip(f"shared corpora not found at {SHARED_DATA_DIR}")
    assert len(SHARED_JSON) >= 17


# --- format variants -----------------------------------------------------------------------------


def _variants(study: dict[str, Any]) -> Iterator[tuple[str, str]]:
    yield "object", json.dumps(study, indent=2)
    yield "array", json.dumps([study])
    yield "page", json.dumps({"studies": [study], "nextPageToken": "NF0g5JGBlPMuwQY"})
    yield "jsonl", json.dumps(study) + "\n"


def test_the_same_trial_from_every_layout() -> None:
    study = json.loads(SMALL_STUDY.read_bytes())
    trials: dict[str, Trial] = {}
    for name, text in _variants(study):
        (result,) = _read(text, "same.json")
        assert isinstance(result, Trial), name
        trials[name] = result
    reference = trials["object"]
    assert reference.id == "NCT00973089"
    for name, trial in trials.items():
        assert trial.source.checksum == reference.source.checksum, name
        assert dataclasses.replace(trial, source=reference.source) == reference, name


def test_a_page_and_json_lines_with_several_studies() -> None:
    studies = [_study("NCT00000001", "One"), _study("NCT00000002", "Two")]
    page = _read(json.dumps({"studies": studies, "nextPageToken": "abc"}))
    lines = _read("\n".join(json.dumps(s) for s in studies) + "\n")
    for results in (page, lines):
        assert [t.id for t in _trials(results)] == ["NCT00000001", "NCT00000002"]
        assert [t.source.record_index for t in _trials(results)] == [0, 1]


def test_an_empty_array_and_an_empty_page_have_no_records() -> None:
    assert _read("[]") == []
    assert _read('{"studies": []}') == []


def test_checksum_ignores_layout_and_key_order_but_not_content() -> None:
    a = {"protocolSection": {"identificationModule": {"nctId": "NCT00000001", "briefTitle": "A"}}}
    b = {"protocolSection": {"identificationModule": {"briefTitle": "A", "nctId": "NCT00000001"}}}
    c = _study("NCT00000001", "B")
    (ta,) = _read(json.dumps(a, indent=4))
    (tb,) = _read(json.dumps(b))
    (tc,) = _read(json.dumps(c))
    assert isinstance(ta, Trial) and isinstance(tb, Trial) and isinstance(tc, Trial)
    assert ta.source.checksum == tb.source.checksum != tc.source.checksum
    assert ta.source.checksum.startswith("sha256:")


# --- bad input -----------------------------------------------------------------------------------


def _assert_error(error: InputError, file: str, record: str | int | None, *words: str) -> None:
    assert error.file == file
    assert error.record == record
    text = str(error)
    assert text.startswith(file)
    if record is not None:
        assert f"record {record}" in text
    for word in words:
        assert word in text, f"{word!r} not in {text!r}"


def test_invalid_json_names_line_and_column() -> None:
    text = '{\n  "protocolSection": {\n    "identificationModule": ,\n  }\n}\n'
    (error,) = _read(text, "broken.json")
    assert isinstance(error, InputError)
    _assert_error(error, "broken.json", None, "invalid JSON at line 3, column 29", "expected")


def test_invalid_element_in_an_array_keeps_the_records_before_it() -> None:
    good = json.dumps(_study("NCT00000001", "Good"))
    results = _read(f'[{good},\n {{"protocolSection": tru}}]', "array.json")
    assert [t.id for t in _trials(results)] == ["NCT00000001"]
    (error,) = _errors(results)
    _assert_error(error, "array.json", 1, "invalid JSON at line 2", "expected")


def test_truncated_file_keeps_the_complete_records() -> None:
    text = json.dumps([_study("NCT00000001", "One"), _study("NCT00000002", "Two")], indent=1)
    results = _read(text[: len(text) // 2 + 40], "cut.json")
    assert [t.id for t in _trials(results)] == ["NCT00000001"]
    (error,) = _errors(results)
    _assert_error(error, "cut.json", 1, "truncated JSON", "expected the rest")


def test_truncated_single_study() -> None:
    text = json.dumps(_study("NCT00000001", "One"))[:-3]
    (error,) = _read(text, "cut.json")
    assert isinstance(error, InputError)
    _assert_error(error, "cut.json", None, "truncated JSON", "line 1", "expected")


def test_array_missing_its_closing_bracket_keeps_every_record() -> None:
    text = "[" + json.dumps(_study("NCT00000001", "One"))
    results = _read(text, "open.json")
    assert [t.id for t in _trials(results)] == ["NCT00000001"]
    (error,) = _errors(results)
    _assert_error(error, "open.json", 1, "truncated JSON")


def test_bytes_that_are_not_utf8() -> None:
    data = json.dumps(_study("NCT00000001", "Caf\u00e9"), ensure_ascii=False).encode("latin-1")
    (error,) = _read(data, "latin1.json")
    assert isinstance(error, InputError)
    _assert_error(error, "latin1.json", None, "not UTF-8", "offset", "expected UTF-8")


def test_a_byte_order_mark_is_accepted() -> None:
    data = b"\xef\xbb\xbf" + json.dumps(_study("NCT00000001", "One")).encode()
    assert [t.id for t in _trials(_read(data))] == ["NCT00000001"]


@pytest.mark.parametrize(
    ("text", "found"),
    [("42", "a number"), ('"a study"', "a string"), ("null", "null"), ("true", "a boolean")],
)
def test_json_that_is_not_a_study_array_or_page(text: str, found: str) -> None:
    (error,) = _read(text, "odd.json")
    assert isinstance(error, InputError)
    _assert_error(error, "odd.json", None, found, "expected a study object", "array", "page")


def test_a_page_whose_studies_is_not_an_array() -> None:
    (error,) = _read('{"studies": {"protocolSection": {}}, "nextPageToken": "x"}', "page.json")
    assert isinstance(error, InputError)
    _assert_error(error, "page.json", None, '"studies" is an object', "expected an array")


def test_an_array_element_that_is_not_an_object() -> None:
    text = _dump([_study("NCT00000001", "One"), 3, ["x"], _study("NCT00000004", "Four")])
    results = _read(text, "mixed.json")
    assert [t.id for t in _trials(results)] == ["NCT00000001", "NCT00000004"]
    assert [t.source.record_index for t in _trials(results)] == [0, 3]
    first, second = _errors(results)
    _assert_error(first, "mixed.json", 1, "a number (3)", "expected a study object")
    _assert_error(second, "mixed.json", 2, "an array", "expected a study object")


def test_a_study_without_protocol_section() -> None:
    text = _dump([{"derivedSection": {}, "hasResults": False}, _study("NCT00000002", "Two")])
    results = _read(text, "noproto.json")
    assert [t.id for t in _trials(results)] == ["NCT00000002"]
    (error,) = _errors(results)
    _assert_error(error, "noproto.json", 0, '"protocolSection"', "expected a ClinicalTrials.gov")


def test_a_protocol_section_that_is_not_an_object() -> None:
    (error,) = _read(_dump({"protocolSection": ["x"]}), "proto.json")
    assert isinstance(error, InputError)
    _assert_error(error, "proto.json", 0, '"protocolSection" is an array', "expected an object")


def test_a_study_with_neither_nct_id_nor_title() -> None:
    nameless = {"protocolSection": {"identificationModule": {"orgStudyIdInfo": {"id": "X-1"}}}}
    text = _dump([_study("NCT00000001", "One"), nameless])
    results = _read(text, "anon.json")
    assert [t.id for t in _trials(results)] == ["NCT00000001"]
    (error,) = _errors(results)
    _assert_error(
        error,
        "anon.json",
        1,
        "expected protocolSection.identificationModule.nctId or a title",
    )


def test_a_study_without_nct_id_but_with_a_title_gets_a_minted_id() -> None:
    study = _study(None, "A Trial Without A Registry Number")
    study["protocolSection"]["identificationModule"]["orgStudyIdInfo"] = {"id": "ORG-7"}
    (trial,) = _read(_dump(study))
    assert isinstance(trial, Trial)
    assert trial.nct_id is None
    assert trial.id == minted_id("A Trial Without A Registry Number", "ORG-7")
    assert trial.id.startswith("TG-")
    assert trial.identifiers == [Identifier("ORG-7", "org_study_id")]


def test_an_official_title_alone_is_enough_for_a_minted_id() -> None:
    study = {"protocolSection": {"identificationModule": {"officialTitle": "Official Only"}}}
    (trial,) = _read(_dump(study))
    assert isinstance(trial, Trial)
    assert trial.id == minted_id("Official Only", None)


def test_json_lines_with_a_bad_line_reads_the_others() -> None:
    lines = [
        _dump(_study("NCT00000001", "One")),
        '{"protocolSection": {"identificationModule": {"nctId": "NCT0000',
        "",
        "[1, 2]",
        _dump(_study("NCT00000005", "Five")),
    ]
    results = _read("\n".join(lines) + "\n", "batch.jsonl")
    assert [t.id for t in _trials(results)] == ["NCT00000001", "NCT00000005"]
    assert [t.source.record_index for t in _trials(results)] == [0, 4]
    bad_json, not_object = _errors(results)
    _assert_error(bad_json, "batch.jsonl", "line 2", "invalid JSON at line 2", "expected one study")
    _assert_error(not_object, "batch.jsonl", "line 4", "an array", "expected a study object")


def test_json_lines_whose_first_line_is_bad() -> None:
    lines = ["{oops", _dump(_study("NCT00000002", "Two")), _dump(_study("NCT00000003", "Three"))]
    results = _read("\n".join(lines), "first.jsonl")
    assert [t.id for t in _trials(results)] == ["NCT00000002", "NCT00000003"]
    (error,) = _errors(results)
    _assert_error(error, "first.jsonl", "line 1", "invalid JSON")


def test_extra_data_after_an_array() -> None:
    results = _read(_dump([_study("NCT00000001", "One")]) + " ]", "extra.json")
    assert [t.id for t in _trials(results)] == ["NCT00000001"]
    (error,) = _errors(results)
    _assert_error(error, "extra.json", None, "extra data after the array", "expected the end")


def test_empty_file() -> None:
    (error,) = _read(" \n", "empty.json")
    assert isinstance(error, InputError)
    _assert_error(error, "empty.json", None, "empty", "expected a study object")


# --- wrong types inside a study ------------------------------------------------------------------


def test_wrong_types_are_coerced_when_the_meaning_is_clear() -> None:
    study = _study(
        "NCT00000001",
        "Coerced",
        designModule={"phases": "PHASE2", "enrollmentInfo": {"count": "120", "type": "ESTIMATED"}},
        conditionsModule={"conditions": "Asthma", "keywords": ["a", 7, "b"]},
        eligibilityModule={"healthyVolunteers": "Yes", "minimumAge": "18 Years"},
        statusModule={"overallStatus": "Recruiting"},
    )
    (trial,) = _read(_dump(study))
    assert isinstance(trial, Trial)
    assert trial.phases == ["PHASE2"]
    assert trial.enrollment == 120
    assert [c.name for c in trial.conditions] == ["Asthma"]
    assert trial.keywords == ["a", "b"]
    assert trial.healthy_volunteers is True
    assert trial.overall_status == "RECRUITING"
    assert any("keywords" in w for w in trial.warnings)


def test_wrong_types_that_cannot_be_read_become_warnings() -> None:
    study = _study(
        "NCT00000001",
        "Odd",
        designModule={"enrollmentInfo": {"count": "many"}, "designInfo": ["RANDOMIZED"]},
        armsInterventionsModule={"armGroups": "Arm A", "interventions": [{"type": "DRUG"}]},
        eligibilityModule={"eligibilityCriteria": ["x"], "minimumAge": "eighteen"},
        contactsLocationsModule=[{"city": "Paris"}],
    )
    (trial,) = _read(_dump(study))
    assert isinstance(trial, Trial)
    assert trial.enrollment is None
    assert trial.arms == [] and trial.interventions == []
    assert trial.eligibility_text is None
    assert trial.minimum_age is None
    warnings = "\n".join(trial.warnings)
    for where in (
        "enrollmentInfo.count",
        "designInfo",
        "armGroups",
        "interventions",
        "eligibilityCriteria",
        "minimumAge",
        "contactsLocationsModule",
    ):
        assert where in warnings


_ODD_VALUES: list[object] = [None, 3, 2.5, "x", "", True, [], {}, [1, None], {"a": []}]


def _paths(value: object, prefix: tuple[str | int, ...] = ()) -> Iterator[tuple[str | int, ...]]:
    if isinstance(value, dict):
        for key, item in value.items():
            yield (*prefix, key)
            yield from _paths(item, (*prefix, key))
    elif isinstance(value, list):
        for i, item in enumerate(value):
            yield (*prefix, i)
            yield from _paths(item, (*prefix, i))


def test_any_value_of_any_type_anywhere_never_raises() -> None:
    """Every field of a real study replaced by values of every JSON type: a Trial or an error."""
    study = json.loads(SMALL_STUDY.read_bytes())
    for path in _paths(study):
        for odd in _ODD_VALUES:
            broken = copy.deepcopy(study)
            target: Any = broken
            for step in path[:-1]:
                target = target[step]
            target[path[-1]] = odd
            (result,) = _read(_dump(broken))
            assert isinstance(result, Trial | InputError), path


# --- arms and interventions ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("listed", "known", "bare"),
    [
        ("Drug: Docetaxel", {"Docetaxel"}, "Docetaxel"),
        ("Dietary Supplement: Vitamin D", {"Vitamin D"}, "Vitamin D"),
        ("Combination Product: A + B", set(), "A + B"),
        ("Other: Placebo", {"Placebo"}, "Placebo"),
        ("Arm: not a type", set(), "Arm: not a type"),
        ("Drug: X", {"Drug: X"}, "Drug: X"),
        ("Docetaxel", {"Docetaxel"}, "Docetaxel"),
    ],
)
def test_bare_intervention_name(listed: str, known: set[str], bare: str) -> None:
    assert bare_intervention_name(listed, known) == bare


def test_links_given_on_one_side_only_appear_on_both() -> None:
    arms_module = {
        "armGroups": [
            {"label": "A", "interventionNames": ["Drug: X"]},
            {"label": "B"},
        ],
        "interventions": [
            {"type": "DRUG", "name": "X"},
            {"type": "DRUG", "name": "Y", "armGroupLabels": ["B"]},
        ],
    }
    (trial,) = _read(_dump(_study("NCT00000001", "Links", armsInterventionsModule=arms_module)))
    assert isinstance(trial, Trial)
    assert {a.label: a.intervention_names for a in trial.arms} == {"A": ["X"], "B": ["Y"]}
    assert {i.name: i.arm_labels for i in trial.interventions} == {"X": ["A"], "Y": ["B"]}


@pytest.mark.parametrize(
    ("text", "record"),
    [("[" * 100_000, 0), ('{"a":' * 100_000, None)],
    ids=["array", "object"],
)
def test_json_nested_too_deeply_is_an_error_not_a_crash(text: str, record: int | None) -> None:
    (error,) = _read(text, "deep.json")
    assert isinstance(error, InputError)
    _assert_error(error, "deep.json", record, "nested too deeply")


def test_json_lines_keep_line_separators_inside_strings() -> None:
    # U+2028 is legal inside a JSON string; it must not split a JSON Lines record.
    lines = [_dump(_study("NCT00000001", "One\u2028Two")), _dump(_study("NCT00000002", "Three"))]
    results = _read("\n".join(lines), "sep.jsonl")
    assert [t.id for t in _trials(results)] == ["NCT00000001", "NCT00000002"]
