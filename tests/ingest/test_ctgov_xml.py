"""The legacy ClinicalTrials.gov XML reader: hand-read records, every shared file, hostile XML."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
import yaml

from trialgraph.errors import InputError
from trialgraph.ingest.ctgov_xml import read_ctgov_xml
from trialgraph.ingest.normalize import minted_id
from trialgraph.model import Age, Contact, Identifier, MeshTerm, Organization, Site, Trial
from trialgraph.resources import SHARED_DATA_DIR

DATA = Path(__file__).resolve().parents[1] / "data"
EXPECTED: list[dict[str, Any]] = yaml.safe_load(
    (DATA / "ctgov_xml" / "expected.yaml").read_text(encoding="utf-8")
)
SHARED_XML = sorted((SHARED_DATA_DIR / "ctgov_xml").rglob("*.xml"))
_STUDY_TAG = re.compile(rb"<clinical_study[\s>]")


def _path(ref: str) -> Path:
    """A fixture path from ``expected.yaml``: under tests/data, or ``shared:`` corpora."""
    if ref.startswith("shared:"):
        path = SHARED_DATA_DIR / ref.removeprefix("shared:")
        if not path.is_file():
            pytest.skip(f"shared corpora not found at {SHARED_DATA_DIR}")
        return path
    return DATA / ref


def _read(data: bytes | str, file: str = "batch.xml") -> list[Trial | InputError]:
    raw = data.encode("utf-8") if isinstance(data, str) else data
    return list(read_ctgov_xml(raw, file))


def _trials(results: list[Trial | InputError]) -> list[Trial]:
    return [r for r in results if isinstance(r, Trial)]


def _errors(results: list[Trial | InputError]) -> list[InputError]:
    return [r for r in results if isinstance(r, InputError)]


def _study(body: str) -> str:
    return f"<clinical_study>{body}</clinical_study>"


def _ids(nct_id: str) -> str:
    return f"<id_info><nct_id>{nct_id}</nct_id></id_info>"


def _one(body: str) -> Trial:
    (result,) = _read(_study(body))
    assert isinstance(result, Trial), result
    return result


def _assert_error(error: InputError, file: str, record: int | None, *words: str) -> None:
    assert error.file == file
    assert error.record == record
    text = str(error)
    assert text.startswith(file)
    if record is not None:
        assert f"record {record}" in text
    for word in words:
        assert word in text, f"{word!r} not in {text!r}"


# --- hand-read records ---------------------------------------------------------------------------


@pytest.mark.parametrize("case", EXPECTED, ids=[c["file"].split("/")[-1] for c in EXPECTED])
def test_record_matches_hand_read_values(case: dict[str, Any]) -> None:
    path = _path(case["file"])
    (trial,) = _read(path.read_bytes(), str(path))
    assert isinstance(trial, Trial)
    assert trial.nct_id == trial.id == case["nct_id"]
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
    assert "\r" not in trial.eligibility_text
    assert trial.source.format == "ctgov-xml"
    assert trial.source.record_index == 0
    assert trial.warnings == []


def test_fields_beyond_the_core_of_a_trec_record() -> None:
    # Read by hand from tests/data/ctgov_xml/NCT00055081.xml.
    path = DATA / "ctgov_xml" / "NCT00055081.xml"
    (trial,) = _read(path.read_bytes(), str(path))
    assert isinstance(trial, Trial)
    assert trial.identifiers == [
        Identifier("NCT00055081", "nct"),
        Identifier("R01MH067148", "org_study_id"),
        Identifier("R01MH067148", "secondary"),
        Identifier("DSIR 82-SEMS", "secondary"),
    ]
    assert trial.official_title == "The Impact of Family CTI on Homeless Children"
    # "July 2002", "November 2005", "February 20, 2003", "December 6, 2013"
    assert (trial.start_date, trial.completion_date, trial.primary_completion_date) == (
        "2002-07",
        "2005-11",
        "2005-11",
    )
    assert (trial.first_posted, trial.last_update_posted) == ("2003-02-20", "2013-12-06")
    assert trial.sponsor == Organization(
        "Nathan Kline Institute for Psychiatric Research", "lead_sponsor", "OTHER"
    )
    assert trial.collaborators == [
        Organization("National Institute of Mental Health (NIMH)", "collaborator", "NIH")
    ]
    assert trial.study_type == "INTERVENTIONAL"
    assert (trial.allocation, trial.intervention_model, trial.masking) == (
        "RANDOMIZED",
        "PARALLEL",
        "NONE",
    )
    assert (trial.primary_purpose, trial.enrollment_type) == ("TREATMENT", "ACTUAL")
    (intervention,) = trial.interventions
    assert (intervention.name, intervention.type) == ("Critical Time Intervention", "BEHAVIORAL")
    assert trial.keywords == ["Homeless Persons"]
    assert trial.healthy_volunteers is True
    assert trial.sites == [
        Site(
            "The Nathan S. Kline Institute for Psychiatric Research",
            "Orangeburg",
            "New York",
            "United States",
        )
    ]


def test_summary_and_description_lose_the_hard_wrapping_but_keep_paragraphs() -> None:
    # Read by hand from tests/data/ctgov_xml/NCT00055081.xml: two paragraphs, wrapped at ~95
    # columns, indented six spaces, with &#xD; line ends.
    path = DATA / "ctgov_xml" / "NCT00055081.xml"
    (trial,) = _read(path.read_bytes(), str(path))
    assert isinstance(trial, Trial)
    assert trial.summary == (
        "The purpose of this study is to examine how services and housing provided for homeless "
        "families affect the mental health and behavior of homeless children over time."
    )
    assert trial.description is not None
    first, second = trial.description.split("\n\n")
    assert first.startswith("This study is a supplement to a parent study which concentrates ")
    assert first.endswith("who may be the major beneficiaries of such assistance.")
    assert second.startswith("Participants are randomly assigned to either receive services")
    assert second.endswith("The teachers of participating children are surveyed twice during the study.")
    assert "\n" not in first and "  " not in first


def test_list_items_in_a_description_stay_on_their_own_lines() -> None:
    block = (
        "\n      Aims:\n\n        1. first aim, which is long and\n           wraps here\n"
        "        2. second aim\n\n      Closing words\n      on two lines.\n    "
    )
    trial = _one(
        _ids("NCT00000001") + f"<detailed_description><textblock>{block}</textblock></detailed_description>"
    )
    assert trial.description == (
        "Aims:\n\n1. first aim, which is long and wraps here\n2. second aim\n\nClosing words on two lines."
    )


def test_mesh_terms_contacts_and_nct_alias() -> None:
    # Read by hand from tests/data/ctgov_xml/NCT00001177.xml.
    path = DATA / "ctgov_xml" / "NCT00001177.xml"
    (trial,) = _read(path.read_bytes(), str(path))
    assert isinstance(trial, Trial)
    assert trial.condition_mesh == [
        MeshTerm("", "Depression"),
        MeshTerm("", "Mood Disorders"),
        MeshTerm("", "Premenstrual Syndrome"),
    ]
    assert trial.contacts == [
        Contact("Peter J Schmidt, M.D.", "CONTACT", "(301) 496-6120", "peterschmidt@mail.nih.gov")
    ]
    assert trial.healthy_volunteers is True
    assert trial.study_type == "OBSERVATIONAL"
    assert trial.start_date == "1981-08-24"
    aliased = _one(
        "<id_info><org_study_id>X</org_study_id><nct_id>NCT00081588</nct_id>"
        "<nct_alias>NCT00980226</nct_alias></id_info><brief_title>T</brief_title>"
    )
    assert Identifier("NCT00980226", "nct_alias") in aliased.identifiers


def test_interventions_that_share_a_name_keep_their_own_arm() -> None:
    # tests/data/ctgov_xml/NCT02260193.xml: three <intervention> named AKB-6548, one per arm.
    path = DATA / "ctgov_xml" / "NCT02260193.xml"
    (trial,) = _read(path.read_bytes(), str(path))
    assert isinstance(trial, Trial)
    assert [i.arm_labels for i in trial.interventions] == [
        ["AKB-6548, starting dose 1"],
        ["AKB-6548, starting dose 2"],
        ["AKB-6548, starting dose 3"],
    ]


# --- every shared file ---------------------------------------------------------------------------


@pytest.mark.parametrize("path", SHARED_XML, ids=[str(p.relative_to(SHARED_DATA_DIR)) for p in SHARED_XML])
def test_every_shared_file_reads_without_error(path: Path) -> None:
    data = path.read_bytes()
    results = _read(data, str(path))
    assert _errors(results) == []
    assert len(results) == len(_STUDY_TAG.findall(data))
    for trial in _trials(results):
        assert trial.nct_id and trial.title
        # aact/NCT00980226.xml holds study NCT00081588, which lists NCT00980226 as its alias.
        assert path.stem in {i.value for i in trial.identifiers if i.scheme in {"nct", "nct_alias"}}
        assert trial.warnings == []


def test_shared_corpus_is_present_for_the_file_sweep() -> None:
    if not SHARED_DATA_DIR.is_dir():
        pytest.skip(f"shared corpora not found at {SHARED_DATA_DIR}")
    assert len(SHARED_XML) == 125


# --- several studies in one file -----------------------------------------------------------------


def test_a_wrapper_element_with_several_studies() -> None:
    xml = (
        '<?xml version="1.0" encoding="UTF-8"?>\n<search_results>\n'
        + "\n".join(
            _study(_ids(f"NCT0000000{i}") + f"<brief_title>Study {i}</brief_title>") for i in range(1, 4)
        )
        + "\n</search_results>\n"
    )
    results = _read(xml, "many.xml")
    assert [t.id for t in _trials(results)] == ["NCT00000001", "NCT00000002", "NCT00000003"]
    assert [t.source.record_index for t in _trials(results)] == [0, 1, 2]
    assert len({t.source.checksum for t in _trials(results)}) == 3


def test_the_checksum_is_of_the_record_not_of_its_surroundings() -> None:
    record = _study(_ids("NCT00000001") + "<brief_title>Same</brief_title>")
    (alone,) = _read(record)
    (wrapped,) = _read(f"<wrapper>\n  {record}\n  </wrapper>")
    assert isinstance(alone, Trial) and isinstance(wrapped, Trial)
    assert alone.source.checksum == wrapped.source.checksum


# --- bad input -----------------------------------------------------------------------------------


def test_a_truncated_wrapper_keeps_the_complete_records() -> None:
    xml = "<studies>" + _study(_ids("NCT00000001") + "<brief_title>One</brief_title>")
    xml += "<clinical_study><id_info><nct_id>NCT000"
    results = _read(xml, "cut.xml")
    assert [t.id for t in _trials(results)] == ["NCT00000001"]
    (error,) = _errors(results)
    _assert_error(error, "cut.xml", 1, "truncated XML", "expected a complete <clinical_study>")


def test_a_truncated_single_record() -> None:
    (error,) = _read("<clinical_study>\n  <id_info>\n    <nct_id>NCT0", "cut.xml")
    assert isinstance(error, InputError)
    _assert_error(error, "cut.xml", 0, "truncated XML", "line 3")


def test_malformed_xml_names_line_and_column() -> None:
    xml = "<clinical_study>\n  <brief_title>A</title>\n</clinical_study>"
    (error,) = _read(xml, "bad.xml")
    assert isinstance(error, InputError)
    _assert_error(error, "bad.xml", 0, "invalid XML at line 2, column", "mismatched tag", "expected")


def test_bytes_that_are_not_utf8() -> None:
    data = _study(_ids("NCT00000001") + "<brief_title>Caf\u00e9</brief_title>").encode("latin-1")
    (error,) = _read(data, "latin1.xml")
    assert isinstance(error, InputError)
    _assert_error(error, "latin1.xml", None, "not UTF-8", "offset", "expected UTF-8")


def test_a_declared_non_utf8_encoding_is_honoured() -> None:
    body = _study(_ids("NCT00000001") + "<brief_title>Caf\u00e9</brief_title>")
    data = ('<?xml version="1.0" encoding="ISO-8859-1"?>' + body).encode("latin-1")
    (trial,) = _read(data)
    assert isinstance(trial, Trial)
    assert trial.title == "Caf\u00e9"


def test_a_document_without_clinical_study() -> None:
    (error,) = _read("<html><body>Not a trial</body></html>", "page.xml")
    assert isinstance(error, InputError)
    _assert_error(error, "page.xml", None, "<html>", "expected a legacy ClinicalTrials.gov")


def test_an_empty_file() -> None:
    (error,) = _read("  \n", "empty.xml")
    assert isinstance(error, InputError)
    _assert_error(error, "empty.xml", None, "empty", "expected a <clinical_study>")


def test_a_study_with_neither_nct_id_nor_title() -> None:
    xml = "<studies>" + _study("<id_info><org_study_id>X</org_study_id></id_info>")
    xml += _study(_ids("NCT00000002") + "<brief_title>Two</brief_title>") + "</studies>"
    results = _read(xml, "anon.xml")
    assert [t.id for t in _trials(results)] == ["NCT00000002"]
    (error,) = _errors(results)
    _assert_error(error, "anon.xml", 0, "expected id_info/nct_id or a title")


def test_a_study_without_nct_id_but_with_a_title_gets_a_minted_id() -> None:
    trial = _one(
        "<id_info><org_study_id>ORG-7</org_study_id></id_info>"
        "<brief_title>A Trial Without A Registry Number</brief_title>"
    )
    assert trial.nct_id is None
    assert trial.id == minted_id("A Trial Without A Registry Number", "ORG-7")


# --- hostile XML ---------------------------------------------------------------------------------

_SECRET = Path("/etc/hostname")
_HOSTILE = {
    "external entity": (
        '<?xml version="1.0"?>\n'
        '<!DOCTYPE clinical_study [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>\n'
        f"<clinical_study>{_ids('NCT00000001')}<brief_title>&xxe;</brief_title></clinical_study>"
    ),
    "billion laughs": (
        '<?xml version="1.0"?>\n<!DOCTYPE lolz [\n <!ENTITY lol "lol">\n'
        + "".join(
            f' <!ENTITY lol{i} "{("&lol" + (str(i - 1) if i > 1 else "") + ";") * 10}">\n'
            for i in range(1, 10)
        )
        + "]>\n<clinical_study><brief_title>&lol9;</brief_title></clinical_study>"
    ),
    "external DTD": (
        '<?xml version="1.0"?>\n<!DOCTYPE clinical_study SYSTEM "http://127.0.0.1:9/x.dtd">\n'
        f"<clinical_study>{_ids('NCT00000001')}<brief_title>T</brief_title></clinical_study>"
    ),
    "parameter entity": (
        '<?xml version="1.0"?>\n<!DOCTYPE clinical_study [<!ENTITY % p SYSTEM '
        '"file:///etc/passwd"> %p;]>\n<clinical_study><brief_title>T</brief_title></clinical_study>'
    ),
}


@pytest.mark.parametrize("name", list(_HOSTILE))
def test_hostile_documents_are_refused(name: str) -> None:
    results = _read(_HOSTILE[name], "hostile.xml")
    assert _trials(results) == []
    (error,) = _errors(results)
    _assert_error(error, "hostile.xml", None, "refused", "expected")
    text = str(error) + repr(error.__dict__)
    assert "root:" not in text and "lollol" not in text
    if _SECRET.is_file() and _SECRET.read_text().strip():
        assert _SECRET.read_text().strip() not in text


# --- value mapping -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("body", "field", "value"),
    [
        ("<phase>Phase 1/Phase 2</phase>", "phases", ["PHASE1", "PHASE2"]),
        ("<phase>Early Phase 1</phase>", "phases", ["EARLY_PHASE1"]),
        ("<phase>N/A</phase>", "phases", ["NA"]),
        (
            "<overall_status>Active, not recruiting</overall_status>",
            "overall_status",
            "ACTIVE_NOT_RECRUITING",
        ),
        ("<overall_status>Unknown status</overall_status>", "overall_status", "UNKNOWN"),
        (
            "<study_type>Observational [Patient Registry]</study_type>",
            "study_type",
            "OBSERVATIONAL",
        ),
        ("<study_type>Expanded Access</study_type>", "study_type", "EXPANDED_ACCESS"),
        ("<study_type>N/A</study_type>", "study_type", None),
        (
            "<study_design_info><masking>Double (Participant, Investigator)</masking></study_design_info>",
            "masking",
            "DOUBLE",
        ),
        (
            "<study_design_info><masking>None (Open Label)</masking></study_design_info>",
            "masking",
            "NONE",
        ),
        ("<study_design_info><allocation>N/A</allocation></study_design_info>", "allocation", "NA"),
        (
            "<study_design_info><allocation>Non-Randomized</allocation></study_design_info>",
            "allocation",
            "NON_RANDOMIZED",
        ),
        (
            "<study_design_info><intervention_model>Single Group Assignment</intervention_model>"
            "</study_design_info>",
            "intervention_model",
            "SINGLE_GROUP",
        ),
        (
            "<study_design_info><primary_purpose>Health Services Research</primary_purpose>"
            "</study_design_info>",
            "primary_purpose",
            "HEALTH_SERVICES_RESEARCH",
        ),
        ('<enrollment type="Anticipated">60</enrollment>', "enrollment_type", "ESTIMATED"),
        ('<enrollment type="Actual">60</enrollment>', "enrollment", 60),
        ("<start_date>August 2008</start_date>", "start_date", "2008-08"),
        ("<start_date>June 1, 2022</start_date>", "start_date", "2022-06-01"),
        ("<start_date>sometime</start_date>", "start_date", "sometime"),
        ("<start_date>Aug 2008</start_date>", "start_date", "2008-08"),
        (
            "<eligibility><healthy_volunteers>No</healthy_volunteers></eligibility>",
            "healthy_volunteers",
            False,
        ),
        (
            "<eligibility><healthy_volunteers>Yes</healthy_volunteers></eligibility>",
            "healthy_volunteers",
            True,
        ),
        (
            "<eligibility><healthy_volunteers>Accepts Healthy Volunteers</healthy_volunteers></eligibility>",
            "healthy_volunteers",
            True,
        ),
        ("<eligibility><gender>Both</gender></eligibility>", "sex", "ALL"),
        ("<eligibility><minimum_age>N/A</minimum_age></eligibility>", "minimum_age", None),
        (
            "<eligibility><maximum_age>5 Days</maximum_age></eligibility>",
            "maximum_age",
            Age(5, "day"),
        ),
        (
            "<sponsors><lead_sponsor><agency>VA</agency><agency_class>U.S. Fed</agency_class>"
            "</lead_sponsor></sponsors>",
            "sponsor",
            Organization("VA", "lead_sponsor", "FED"),
        ),
        (
            "<intervention_browse><mesh_term>Paclitaxel</mesh_term></intervention_browse>",
            "intervention_mesh",
            [MeshTerm("", "Paclitaxel")],
        ),
    ],
)
def test_value_mapping(body: str, field: str, value: object) -> None:
    trial = _one(_ids("NCT00000001") + "<brief_title>T</brief_title>" + body)
    assert getattr(trial, field) == value
    assert trial.warnings == []


def test_unreadable_values_become_warnings() -> None:
    trial = _one(
        _ids("NCT00000001")
        + "<brief_title>T</brief_title><enrollment>about 40</enrollment>"
        + "<eligibility><minimum_age>eighteen</minimum_age>"
        + "<healthy_volunteers>Sometimes</healthy_volunteers></eligibility>"
    )
    assert trial.enrollment is None and trial.minimum_age is None
    assert trial.healthy_volunteers is None
    assert len(trial.warnings) == 3


def test_eligibility_text_is_dedented_consistently() -> None:
    block = (
        "\n        Inclusion Criteria:\n\n          -  Adults\n\n          -  Able to\n"
        "             consent\n\n        Exclusion Criteria:\n\n          -  Pregnancy\n      "
    )
    trial = _one(
        _ids("NCT00000001") + "<brief_title>T</brief_title>"
        f"<eligibility><criteria><textblock>{block}</textblock></criteria></eligibility>"
    )
    assert trial.eligibility_text == (
        "Inclusion Criteria:\n\n  -  Adults\n\n  -  Able to\n     consent\n\n"
        "Exclusion Criteria:\n\n  -  Pregnancy"
    )


def test_xml_nested_too_deeply_is_an_error_not_a_crash() -> None:
    deep = "<a>" * 100_000 + "</a>" * 100_000
    xml = "<s>" + _study(f"<brief_title>T</brief_title>{deep}") + _study(_ids("NCT00000002"))
    results = _read(xml + "</s>", "deep.xml")
    assert [t.id for t in _trials(results)] == ["NCT00000002"]
    (error,) = _errors(results)
    _assert_error(error, "deep.xml", 0, "nested too deeply")


def test_arm_and_intervention_descriptions_keep_their_line_breaks() -> None:
    # As in aact/NCT00151216.xml, where an arm description runs over two lines.
    trial = _one(
        _ids("NCT00000001")
        + "<brief_title>T</brief_title>"
        + "<arm_group><arm_group_label>A</arm_group_label>"
        + "<description>Group A, severe forms.\nAll subjects receive the vector.</description>"
        + "</arm_group><intervention><intervention_type>Genetic</intervention_type>"
        + "<intervention_name>V</intervention_name><description>Dose:\n  - 3x10^12"
        + "</description><arm_group_label>A</arm_group_label></intervention>"
    )
    assert trial.arms[0].description == "Group A, severe forms.\nAll subjects receive the vector."
    assert trial.interventions[0].description == "Dose:\n  - 3x10^12"
    assert trial.interventions[0].type == "GENETIC"
    assert trial.arms[0].intervention_names == ["V"]
