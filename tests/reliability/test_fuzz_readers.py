"""Property tests of every reader: whatever the bytes, a reader yields Trials and InputErrors, nothing else.

The contract (``trialgraph.ingest``): each record is a finished ``Trial`` or an ``InputError`` naming
the file; nothing is raised. Then each trial must map to RDF (``pipeline.prepare``) or carry an
``InputError``. Inputs: arbitrary bytes, structured JSON / XML / registry text built from the
formats' own vocabulary with hostile values, and byte-level mutations of real records.
"""

from __future__ import annotations

import datetime as dt
import json
from collections import Counter
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from tests.reliability.support import scaled

from trialgraph import ingest, pipeline
from trialgraph.errors import InputError
from trialgraph.ingest.ctgov_json import read_ctgov_json
from trialgraph.ingest.ctgov_xml import read_ctgov_xml
from trialgraph.ingest.registry_text import read_registry_text
from trialgraph.model import Trial

EXAMPLES = scaled(120, 2_000)
FILE = "fuzzed-input"
NOW = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
READERS: dict[str, Callable[[bytes, str], Iterator[Trial | InputError]]] = {
    "ctgov-json": read_ctgov_json,
    "ctgov-xml": read_ctgov_xml,
    "registry-text": read_registry_text,
}
RUNS: Counter[str] = Counter()
"""Examples run per strategy, for the figures."""

FUZZ = settings(
    max_examples=EXAMPLES,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large, HealthCheck.filter_too_much],
    database=None,
)

# --- the checks -------------------------------------------------------------------------------------------


def check_reader(reader: Callable[[bytes, str], Iterator[Trial | InputError]], data: bytes) -> list[Trial]:
    """Run a reader to the end: only Trials and InputErrors naming the file come out."""
    trials = []
    for result in reader(data, FILE):
        if isinstance(result, InputError):
            assert result.file == FILE and str(result).startswith(FILE)
        else:
            assert isinstance(result, Trial), type(result)
            assert result.id
            trials.append(result)
    return trials


def check_file(path: Path, data: bytes) -> None:
    """Format detection, the reader, ``finish`` and the RDF mapping of every trial, end to end."""
    path.write_bytes(data)
    trials = []
    for result in ingest.read_file(path):
        assert isinstance(result, Trial | InputError), type(result)
        if isinstance(result, Trial):
            trials.append(result)
    for prepared in pipeline.prepare(trials, NOW):
        assert prepared.error is None or isinstance(prepared.error, InputError)
        if prepared.error is None:
            assert prepared.quads()


# --- strategies -------------------------------------------------------------------------------------------

HOSTILE_TEXT = st.one_of(
    st.text(max_size=200),
    st.text(alphabet=st.characters(codec="utf-8"), max_size=200),
    st.sampled_from(
        [
            "",
            " ",
            "\x00",
            "\ud800",
            "\udfff\ud800",
            "\U0010ffff",
            "\u2028",
            "NCT",
            "NCT0000000",
            "NCT123456789",
            "<script>",
            '"; DROP ALL; "',
            "} ; DROP ALL ; {",
            "http://a b",
            "<http://x>",
            "N/A",
            "-1",
            "1e309",
            "NaN",
            "99999999999999999999999999",
            "0 Years",
            "-5 Months",
            "Phase 1/Phase 2/Phase 9",
            "Inclusion Criteria:",
            "\\u0000",
        ]
    ),
)
JSON_SCALARS = st.one_of(st.none(), st.booleans(), st.integers(), st.floats(allow_nan=False), HOSTILE_TEXT)
JSON_VALUES = st.recursive(
    JSON_SCALARS,
    lambda inner: st.one_of(st.lists(inner, max_size=4), st.dictionaries(HOSTILE_TEXT, inner, max_size=4)),
    max_leaves=12,
)

# The fields of a v2 study the reader looks at, by module.
MODULE_FIELDS = {
    "identificationModule": [
        "nctId",
        "briefTitle",
        "officialTitle",
        "acronym",
        "orgStudyIdInfo",
        "secondaryIdInfos",
    ],
    "statusModule": ["overallStatus", "startDateStruct", "lastUpdatePostDateStruct", "completionDateStruct"],
    "sponsorCollaboratorsModule": ["leadSponsor", "collaborators"],
    "descriptionModule": ["briefSummary", "detailedDescription"],
    "conditionsModule": ["conditions", "keywords"],
    "designModule": ["studyType", "phases", "designInfo", "enrollmentInfo"],
    "armsInterventionsModule": ["armGroups", "interventions"],
    "eligibilityModule": [
        "eligibilityCriteria",
        "minimumAge",
        "maximumAge",
        "sex",
        "healthyVolunteers",
        "stdAges",
    ],
    "contactsLocationsModule": ["centralContacts", "locations", "overallOfficials"],
}
SHAPED_VALUES = st.one_of(
    JSON_VALUES,
    st.builds(lambda d: {"date": d}, HOSTILE_TEXT),
    st.builds(lambda n, t: {"count": n, "type": t}, JSON_SCALARS, JSON_SCALARS),
    st.lists(
        st.fixed_dictionaries(
            {},
            optional={
                "label": JSON_SCALARS,
                "name": JSON_SCALARS,
                "type": JSON_SCALARS,
                "interventionNames": st.lists(JSON_SCALARS, max_size=3),
                "armGroupLabels": st.lists(JSON_SCALARS, max_size=3),
                "facility": JSON_SCALARS,
                "country": JSON_SCALARS,
                "id": JSON_SCALARS,
            },
        ),
        max_size=3,
    ),
)


@st.composite
def studies(draw: st.DrawFn) -> dict[str, Any]:
    protocol: dict[str, Any] = {}
    for module, fields in MODULE_FIELDS.items():
        if draw(st.booleans()):
            chosen = draw(st.lists(st.sampled_from(fields), unique=True, max_size=len(fields)))
            protocol[module] = (
                {f: draw(SHAPED_VALUES) for f in chosen} if draw(st.integers(0, 9)) else draw(JSON_VALUES)
            )
    if draw(st.booleans()):
        protocol.setdefault("identificationModule", {})
        if isinstance(protocol["identificationModule"], dict):
            protocol["identificationModule"]["nctId"] = draw(st.sampled_from(["NCT09999991", "NCT1", ""]))
    study: dict[str, Any] = {"protocolSection": protocol}
    if draw(st.booleans()):
        study["derivedSection"] = {
            "conditionBrowseModule": {
                "meshes": draw(
                    st.lists(st.fixed_dictionaries({"id": JSON_SCALARS, "term": JSON_SCALARS}), max_size=3)
                )
            }
        }
    return study


@st.composite
def json_documents(draw: st.DrawFn) -> bytes:
    records = draw(st.lists(st.one_of(studies(), JSON_VALUES), min_size=1, max_size=3))
    shape = draw(st.sampled_from(["single", "array", "page", "lines", "truncated"]))
    if shape == "single":
        text = json.dumps(records[0])
    elif shape == "array":
        text = json.dumps(records)
    elif shape == "page":
        text = json.dumps({"studies": records, "nextPageToken": draw(JSON_SCALARS)})
    elif shape == "lines":
        text = "\n".join(json.dumps(r) for r in records)
    else:
        whole = json.dumps(records)
        text = whole[: draw(st.integers(0, len(whole)))]
    return text.encode("utf-8", "surrogatepass")


XML_TAGS = [
    "clinical_study",
    "id_info",
    "nct_id",
    "org_study_id",
    "brief_title",
    "official_title",
    "overall_status",
    "phase",
    "study_type",
    "eligibility",
    "criteria",
    "textblock",
    "minimum_age",
    "maximum_age",
    "gender",
    "arm_group",
    "arm_group_label",
    "intervention",
    "intervention_type",
    "intervention_name",
    "condition",
    "start_date",
    "enrollment",
    "sponsors",
    "lead_sponsor",
    "agency",
    "location",
    "facility",
    "name",
    "condition_browse",
    "mesh_term",
    "study_design_info",
    "allocation",
    "masking",
]
XML_TEXT = st.one_of(
    HOSTILE_TEXT.map(lambda t: t.replace("&", "&amp;").replace("<", "&lt;")),
    st.sampled_from(
        [
            "&amp;",
            "&lt;",
            "&#1;",
            "&#xD800;",
            "&#x10FFFF;",
            "&unknown;",
            "<![CDATA[x]]>",
            "<!-- c -->",
            "<?pi x?>",
            "&#65;",
            "]]>",
            "\x00",
        ]
    ),
)


def xml_elements(depth: int = 3) -> st.SearchStrategy[str]:
    leaf = st.builds(lambda t, x: f"<{t}>{x}</{t}>", st.sampled_from(XML_TAGS), XML_TEXT)
    if depth == 0:
        return leaf
    return st.one_of(
        leaf,
        st.builds(
            lambda t, kids, attr: f"<{t}{attr}>{''.join(kids)}</{t}>",
            st.sampled_from(XML_TAGS),
            st.lists(xml_elements(depth - 1), max_size=4),
            st.sampled_from(["", ' type="Anticipated"', ' xmlns="urn:x"', " a='&#1;'", ' x:y="1"']),
        ),
    )


@st.composite
def xml_documents(draw: st.DrawFn) -> bytes:
    body = "".join(draw(st.lists(xml_elements(), min_size=1, max_size=4)))
    if draw(st.booleans()):
        body = f"<clinical_study>{body}</clinical_study>"
    if draw(st.booleans()):
        body = f"<search_results>{body}</search_results>"
    decl = draw(
        st.sampled_from(
            [
                '<?xml version="1.0"?>\n',
                '<?xml version="1.0" encoding="UTF-8"?>',
                "",
                '<?xml version="1.0" encoding="ISO-8859-1"?>',
                '<?xml version="1.0" encoding="TF-8"?>',  # the long run found these raising LookupError
                '<?xml version="1.0" encoding="utf-7"?>',
                '<?xml version="1.0" encoding="base64"?>',
                '<?xml version="1.1"?>',
            ]
        )
    )
    text = decl + body
    if draw(st.integers(0, 5)) == 0:
        text = text[: draw(st.integers(0, len(text)))]
    return text.encode("utf-8", "surrogatepass")


TEXT_LINES = st.one_of(
    HOSTILE_TEXT,
    st.sampled_from(
        [
            "Trial Title:",
            "Overall status:",
            "Recruiting",
            "Phase:",
            "Phase 2",
            "Intervention type:",
            "Drug",
            "Inclusion Criteria:",
            "Exclusion Criteria:",
            "Key Inclusion Criteria",
            "Status and phase",
            "Treatments",
            "Ages",
            "18 years and older",
            "Funder types",
            "Sponsor",
            "Locations",
            "Menu",
            "Data sourced from clinicaltrials.gov",
            "- Age >= 18 years",
            "1. ECOG 0-1",
            "* prior PD-1 therapy",
            "\\[NCT01234567\\]",
            "NCT01234567",
            "Group 1",
            "Eligibility",
            "Brief Summary",
            "Conditions",
            "Study type",
            "Interventional",
            "Enrollment:",
            "120 (Estimated)",
            "Start date:",
            "March 2024",
        ]
    ),
)


@st.composite
def text_pages(draw: st.DrawFn) -> bytes:
    lines = draw(st.lists(TEXT_LINES, min_size=1, max_size=40))
    sep = draw(st.sampled_from(["\n", "\r\n", "\r", "\n\n"]))
    return sep.join(lines).encode("utf-8", "surrogatepass")


def _real_records() -> list[bytes]:
    root = Path(__file__).parents[2]
    files = sorted((root / "examples" / "trials").glob("*.txt"))
    files += sorted((root / "tests" / "data" / "ctgov_json").glob("NCT*.json"))
    files += sorted((root / "tests" / "data" / "ctgov_xml").glob("*.xml"))[:4]
    return [p.read_bytes() for p in files]


REAL = _real_records()


@st.composite
def mutated_records(draw: st.DrawFn) -> bytes:
    """A real record with a few byte-level mutations: flips, deletions, insertions, truncation."""
    data = bytearray(draw(st.sampled_from(REAL)))
    for _ in range(draw(st.integers(1, 6))):
        if not data:
            break
        pos = draw(st.integers(0, len(data) - 1))
        op = draw(st.sampled_from(["flip", "delete", "insert", "truncate", "duplicate"]))
        if op == "flip":
            data[pos] = draw(st.integers(0, 255))
        elif op == "delete":
            del data[pos : pos + draw(st.integers(1, 64))]
        elif op == "insert":
            data[pos:pos] = draw(
                st.sampled_from(
                    [
                        b"{",
                        b"}",
                        b"[",
                        b"<",
                        b">",
                        b"&",
                        b"\x00",
                        b"\xff",
                        b'"',
                        b"\n",
                        b"\xed\xa0\x80",
                        b"<!DOCTYPE x>",
                        b"\\ud800",
                        b"NCT",
                        b"Inclusion Criteria:",
                    ]
                )
            )
        elif op == "truncate":
            del data[pos:]
        else:
            data[pos:pos] = data[pos : pos + draw(st.integers(1, 4096))]
    return bytes(data)


# --- the properties ----------------------------------------------------------------------------------------


@pytest.mark.parametrize("name", sorted(READERS))
@FUZZ
@given(data=st.binary(max_size=4096))
def test_every_reader_takes_arbitrary_bytes(name: str, data: bytes) -> None:
    RUNS[f"bytes/{name}"] += 1
    check_reader(READERS[name], data)


@FUZZ
@given(data=json_documents())
def test_json_reader_takes_any_json(data: bytes) -> None:
    RUNS["json"] += 1
    check_reader(read_ctgov_json, data)


@FUZZ
@given(data=xml_documents())
def test_xml_reader_takes_any_xml(data: bytes) -> None:
    RUNS["xml"] += 1
    check_reader(read_ctgov_xml, data)


@FUZZ
@given(data=text_pages())
def test_text_reader_takes_any_page(data: bytes) -> None:
    RUNS["text"] += 1
    check_reader(read_registry_text, data)


@FUZZ
@given(data=st.one_of(json_documents(), xml_documents(), text_pages(), mutated_records()))
def test_any_file_goes_through_detection_reading_and_rdf_mapping(tmp_path_factory: Any, data: bytes) -> None:
    RUNS["end-to-end"] += 1
    check_file(tmp_path_factory.mktemp("fuzz") / "input", data)


@FUZZ
@given(data=mutated_records())
def test_mutated_real_records_give_trials_or_input_errors(data: bytes) -> None:
    RUNS["mutated"] += 1
    for reader in READERS.values():
        check_reader(reader, data)


def test_fuzz_figures(record: Callable[..., None]) -> None:
    """Runs last in this module: the number of examples each property ran."""
    assert sum(RUNS.values()) >= EXAMPLES or not RUNS  # when run alone, nothing to report
    record(examples_per_property=EXAMPLES, examples_run=dict(RUNS), total=sum(RUNS.values()))
