"""The registry page text reader: the five seed pages read by hand, hostile and unrelated text.

Expected values were read by hand from the pages in examples/trials (copies of
../shared/data/seeds); each comment gives the line numbers of the page they come from.
"""

from __future__ import annotations

import re

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from trialgraph.errors import InputError
from trialgraph.ingest.normalize import minted_id
from trialgraph.ingest.registry_text import read_registry_text
from trialgraph.model import Age, Contact, Identifier, MeshTerm, Organization, Site, Trial
from trialgraph.resources import EXAMPLES_DIR

SEEDS = EXAMPLES_DIR / "trials"
VEEVA_000 = "000_2fe0ee2e32fa1ef1.txt"
VEEVA_001 = "001_98e4b98bdbc252d9.txt"
LEGACY_002 = "002_e100751488679964.txt"
AGGREGATOR_003 = "003_9a76db9505181699.txt"
STRIPPED_004 = "004_7ba67e3274d242b6.txt"
ALL_SEEDS = [VEEVA_000, VEEVA_001, LEGACY_002, AGGREGATOR_003, STRIPPED_004]
_NUMBERED = re.compile(r"^\s*\d+\.\s")


def _results(data: bytes | str, file: str = "page.txt") -> list[Trial | InputError]:
    raw = data.encode("utf-8") if isinstance(data, str) else data
    return list(read_registry_text(raw, file))


def _seed(name: str) -> Trial:
    path = SEEDS / name
    (result,) = _results(path.read_bytes(), str(path))
    assert isinstance(result, Trial), result
    return result


def _one(text: str) -> Trial:
    (result,) = _results(text)
    assert isinstance(result, Trial), result
    return result


def _section_lines(trial: Trial, heading: str) -> list[str]:
    """The non-blank lines under "Inclusion Criteria:" or "Exclusion Criteria:"."""
    assert trial.eligibility_text is not None
    _, found, rest = trial.eligibility_text.partition(heading + "\n\n")
    assert found, f"{heading!r} not in the eligibility text"
    body = rest.split("\n\nExclusion Criteria:\n\n")[0]
    return [line for line in body.split("\n") if line.strip()]


def _arms(trial: Trial) -> dict[str, tuple[str | None, list[str]]]:
    return {arm.label: (arm.type, arm.intervention_names) for arm in trial.arms}


def _interventions(trial: Trial) -> list[tuple[str, str]]:
    return [(i.name, i.type) for i in trial.interventions]


# --- 000: a full ClinicalTrials.Veeva page ------------------------------------------------------


def test_veeva_page_000() -> None:
    trial = _seed(VEEVA_000)
    # line 40 "NCT07268794"; line 41 "MNWKQXJ20251102"
    assert trial.id == trial.nct_id == "NCT07268794"
    assert trial.identifiers == [
        Identifier("NCT07268794", "nct"),
        Identifier("MNWKQXJ20251102", "org_study_id"),
    ]
    # line 5
    assert trial.title == (
        "CONVERT-HB1: Radical Prostatectomy After Systemic Therapy for High-volume Metastatic "
        "Hormone-sensitive Prostate Cancer"
    )
    assert trial.acronym == "CONVERT-HB1"
    # lines 13-14 "Not yet enrolling", "Phase 2"; line 32 "Interventional"
    assert trial.overall_status == "NOT_YET_RECRUITING"
    assert trial.phases == ["PHASE2"]
    assert trial.study_type == "INTERVENTIONAL"
    # lines 18-20
    assert [c.name for c in trial.conditions] == [
        "Metastatic Prostate Cancer",
        "Prostate Cancer (Adenocarcinoma)",
        "Metastatic Hormone-Sensitive Prostate Cancer (mHSPC)",
    ]
    # lines 24-28, "Type: Name"
    assert _interventions(trial) == [
        ("Prostate Radiotherapy", "RADIATION"),
        ("PARP Inhibitors and Other Systemic Agents", "DRUG"),
        ("Androgen Deprivation Therapy (ADT)", "DRUG"),
        ("Radical Prostatectomy", "PROCEDURE"),
        ("Docetaxel", "DRUG"),
    ]
    # lines 109-128: "112 participants in 2 patient groups", each group's label, type and treatments
    assert _arms(trial) == {
        "Systemic Therapy Alone": (
            "ACTIVE_COMPARATOR",
            ["Docetaxel", "Androgen Deprivation Therapy (ADT)", "PARP Inhibitors and Other Systemic Agents"],
        ),
        "Systemic Therapy Plus Local Prostate Treatment (Arm B)": (
            "EXPERIMENTAL",
            [
                "Docetaxel",
                "Radical Prostatectomy",
                "Androgen Deprivation Therapy (ADT)",
                "PARP Inhibitors and Other Systemic Agents",
                "Prostate Radiotherapy",
            ],
        ),
    }
    docetaxel = next(i for i in trial.interventions if i.name == "Docetaxel")
    assert docetaxel.arm_labels == [
        "Systemic Therapy Alone",
        "Systemic Therapy Plus Local Prostate Treatment (Arm B)",
    ]
    # line 114: the page cuts the first group's description off mid-word ("admini")
    assert trial.arms[0].description is not None
    assert trial.arms[0].description.startswith("Participants with high-volume metastatic")
    assert trial.arms[0].description.endswith("(e.g., PARP inhibitors such as olaparib), admini")
    # line 51 "112 estimated patients"; line 55 "Male"; line 59 "18 to 70 years old"; line 63
    assert (trial.enrollment, trial.enrollment_type) == (112, "ESTIMATED")
    assert trial.sex == "MALE"
    assert trial.minimum_age == Age(18, "year")
    assert trial.maximum_age == Age(70, "year")
    assert trial.minimum_age.years == 18 and trial.maximum_age.years == 70
    assert trial.healthy_volunteers is False
    # lines 7-9 (logo line, then the name) and line 36 "Other" under "Funder types"
    assert trial.sponsor == Organization("Fudan University", "lead_sponsor", "OTHER")
    # lines 95, 99, 103, 107
    assert trial.primary_purpose == "TREATMENT"
    assert trial.allocation == "RANDOMIZED"
    assert trial.intervention_model == "PARALLEL"
    assert trial.masking == "NONE"
    # line 47 (About); no "Full description" heading on this page
    assert trial.summary is not None
    assert trial.summary.startswith("This is a prospective, randomized, open-label, phase II")
    assert trial.summary.endswith("PSA response rate, quality of life, conversion success rate, and safety.")
    assert trial.description is None
    # line 138: two central contacts joined by "; "
    assert trial.contacts == [
        Contact("Xiaojian Qin, MD.", "CONTACT"),
        Contact("Dingwei Ye, MD.", "CONTACT"),
    ]
    # line 132-134: a site count "1" and "Loading...": the site list itself is not on the page
    assert trial.sites == []
    assert trial.warnings == []
    assert trial.source.format == "registry-text"
    assert trial.source.record_index == 0
    assert trial.source.checksum.startswith("sha256:")


# --- 001: a Veeva page without NCT ID or phase --------------------------------------------------


def test_veeva_page_001_without_nct_id() -> None:
    trial = _seed(VEEVA_001)
    # lines 31-33: "Identifiers" has no value
    assert trial.nct_id is None
    assert trial.identifiers == []
    assert trial.id.startswith("TG-")
    # the basis the JSON and XML readers use for a record without NCT ID: title, org study ID
    assert trial.id == minted_id(trial.title, None)
    # line 5
    assert trial.title == "Metastasis-directed Therapy in Castration-refractory Prostate Cancer (MEDCARE)"
    assert trial.acronym == "MEDCARE"
    # lines 11-13: heading "Status" only, no phase
    assert trial.overall_status == "ACTIVE_NOT_RECRUITING"
    assert trial.phases == []
    assert trial.study_type == "INTERVENTIONAL"
    assert [c.name for c in trial.conditions] == ["Castration-resistant Prostate Cancer"]  # line 17
    # line 21, and the one group at lines 104-111
    assert _interventions(trial) == [("Radiotherapy (SBRT) and/or surgery (metastasectomy)", "OTHER")]
    assert _arms(trial) == {
        "MDT for oligoprogressive lesions in CRPC": (
            "OTHER",
            ["Radiotherapy (SBRT) and/or surgery (metastasectomy)"],
        )
    }
    # line 51 "18 estimated patients", line 55, line 59 "18+ years old", line 63
    assert (trial.enrollment, trial.enrollment_type) == (18, "ESTIMATED")
    assert trial.sex == "MALE"
    assert trial.minimum_age == Age(18, "year")
    assert trial.maximum_age is None
    assert trial.healthy_volunteers is False
    # lines 7-9: a one-letter avatar "U", then the sponsor; line 29 "Other"
    assert trial.sponsor == Organization("Universitaire Ziekenhuizen KU Leuven", "lead_sponsor", "OTHER")
    # lines 90-102: "N/A" allocation is API v2 "NA"
    assert (trial.primary_purpose, trial.allocation) == ("TREATMENT", "NA")
    assert (trial.intervention_model, trial.masking) == ("SINGLE_GROUP", "NONE")
    # lines 37-39 (About: two paragraphs), lines 43-47 (Full description: three)
    assert trial.summary is not None and trial.summary.count("\n\n") == 1
    assert trial.summary.startswith("The aim is to define the postponement of next line systemic")
    assert trial.description is not None and trial.description.count("\n\n") == 2
    assert trial.description.endswith("guidance for a randomized phase 3 trial in the near future.")
    assert trial.sites == [] and trial.contacts == []


# --- 002: a page rendered from a legacy ClinicalTrials.gov record --------------------------------


def test_legacy_field_page_002() -> None:
    trial = _seed(LEGACY_002)
    # lines 2-5
    assert trial.id == trial.nct_id == "NCT06592612"
    assert trial.identifiers == [Identifier("NCT06592612", "nct")]
    assert trial.title == (
        "Second-line Systemic Therapy Combined with SBRT for HCC with Oligoprogression After "
        "Standard First-line Systemic Treatment"
    )
    assert trial.acronym is None
    # lines 6-17
    assert [c.name for c in trial.conditions] == ["Hepatocellular Carcinoma", "Oligoprogression"]
    assert trial.condition_mesh == [MeshTerm("", "Carcinoma"), MeshTerm("", "Carcinoma, Hepatocellular")]
    assert trial.study_type == "INTERVENTIONAL"
    assert trial.phases == ["PHASE2"]
    assert trial.overall_status == "NOT_YET_RECRUITING"
    # lines 18-26
    assert trial.allocation == "RANDOMIZED"
    assert trial.intervention_model == "PARALLEL"
    assert trial.primary_purpose == "TREATMENT"
    assert trial.masking == "SINGLE"
    # lines 27-55: two interventions; the second starts at a repeated "Intervention type:"
    assert _interventions(trial) == [
        ("SBRT and second-line systemic therapy", "RADIATION"),
        ("Second-line systemic therapy", "DRUG"),
    ]
    assert _arms(trial) == {
        "SBRT Arm": (None, ["SBRT and second-line systemic therapy"]),
        "Control Arm": (None, ["Second-line systemic therapy"]),
    }
    # lines 33-40: the hard wrapping is undone ("control arm.SBRT" is the record's own typo)
    description = trial.interventions[0].description
    assert description is not None and "\n" not in description
    assert description.startswith("Patients in the SBRT arm will receive second-line systemic therapy")
    assert "for the control arm.SBRT will be administered" in description
    assert description.endswith("salvage SBRT will be administered promptly.")
    # lines 57-77: line 64 "...improve efficacy." is far shorter than the ~90-column wrap, so a
    # paragraph ends there
    assert trial.summary is not None
    first, second = trial.summary.split("\n\n")
    assert first.startswith("Approximately 70% of hepatocellular carcinoma (HCC) patients")
    assert first.endswith("indicating an urgent need to improve efficacy.")
    assert second.startswith("Stereotactic body radiotherapy (SBRT) has been widely used")
    assert second.endswith("in treating oligoprogressive HCC patients.")
    # lines 139-146
    assert trial.sex == "ALL"
    assert trial.minimum_age == Age(18, "year")
    assert trial.maximum_age == Age(75, "year")
    assert trial.healthy_volunteers is False
    # lines 147-150 "October 1, 2024", "October 31, 2026"
    assert (trial.start_date, trial.completion_date) == ("2024-10-01", "2026-10-31")
    # lines 151-155
    assert trial.sponsor == Organization("Sun Yat-sen University", "lead_sponsor", "OTHER")
    # the page gives no enrollment, sites or contacts
    assert trial.enrollment is None
    assert trial.sites == [] and trial.contacts == []
    assert trial.warnings == []


def test_legacy_criteria_keep_their_hard_wrapped_lines() -> None:
    # lines 82-84 and 88: continuation lines and the indented definition stay as written
    trial = _seed(LEGACY_002)
    inclusion = _section_lines(trial, "Inclusion Criteria:")
    assert inclusion[1:4] == [
        "2. Pathologically, or clinically diagnosed hepatocellular carcinoma (HCC) based on the",
        '" Chinese Guidelines for the Diagnosis and Treatment of Hepatocellular Carcinoma',
        '(2024 Edition) ";',
    ]
    assert "Definition of oligoprogression: 1-5 progressive lesions involving 1-3" in inclusion


# --- 003: an aggregator page ---------------------------------------------------------------------


def test_aggregator_page_003() -> None:
    trial = _seed(AGGREGATOR_003)
    # line 3 "NCT ID: NCT06866938"; lines 417-431 the other identifiers
    assert trial.id == trial.nct_id == "NCT06866938"
    assert trial.identifiers == [
        Identifier("NCT06866938", "nct"),
        Identifier("69HCL24_0183", "org_study_id"),
        Identifier("2024-512043-22-00", "secondary", "CTIS"),
    ]
    # line 1
    assert trial.title == (
        "Study of Re-treatment With [177Lu]Lu-PSMA in Men With Metastatic Castration Resistance "
        "Prostate Cancer"
    )
    assert trial.acronym is None
    # line 5 "Last Updated: 2026-01-06"; lines 19-39
    assert trial.last_update_posted == "2026-01-06"
    assert trial.overall_status == "RECRUITING"
    assert trial.phases == ["PHASE2"]
    assert (trial.enrollment, trial.enrollment_type) == (58, None)
    assert trial.study_type == "INTERVENTIONAL"
    assert (trial.start_date, trial.completion_date) == ("2025-04-11", "2030-04-30")
    # line 63
    assert [c.name for c in trial.conditions] == ["Metastatic Castration-resistant Prostate Cancer"]
    # lines 71-84
    assert trial.allocation == "NA"
    assert trial.intervention_model == "SINGLE_GROUP"
    assert trial.primary_purpose == "TREATMENT"
    assert trial.masking == "NONE"
    # lines 90-114: one group giving the one intervention
    assert _interventions(trial) == [("[177Lu]Lu-PSMA-617 (Pluvicto, Novartis)", "DRUG")]
    assert trial.interventions[0].description == (
        "Patients will be treated with intravenous [177Lu]Lu-PSMA-617 (Pluvicto, Novartis).\n\n"
        "One injection every 6 weeks at the dose of 7.4 GBq (±10%)"
    )
    assert _arms(trial) == {
        "[177Lu]Lu-PSMA-617": ("EXPERIMENTAL", ["[177Lu]Lu-PSMA-617 (Pluvicto, Novartis)"])
    }
    assert trial.arms[0].description == (
        "Patients with metastatic castration resistance prostate cancer will be treated with "
        "intravenous [177Lu]Lu-PSMA-617 (Pluvicto, Novartis) at the dose of 7.4 GBq (±10%) every 6 "
        "weeks Treatment duration: 4 to 6 cycles (24 to 36 weeks)"
    )
    # lines 173-183: a minimum age only
    assert trial.minimum_age == Age(18, "year")
    assert trial.maximum_age is None
    assert trial.sex == "MALE"
    assert trial.healthy_volunteers is False
    # lines 189-193
    assert trial.sponsor == Organization("Hospices Civils de Lyon", "lead_sponsor", "OTHER")
    # lines 205-299: sixteen sites; lines 265-269 the one that recruits
    assert len(trial.sites) == 16
    assert trial.sites[0] == Site(
        "Médecine Nucléaire, Institut Bergonié", "Bordeaux", None, "France", "NOT_YET_RECRUITING"
    )
    assert trial.sites[10] == Site(
        "Oncologie Médicale, Centre Hospitalier Lyon Sud, HCL", "Pierre-Bénite", None, "France", "RECRUITING"
    )
    # lines 311-315: the central contact (the sixteen facility contacts are not trial contacts)
    assert trial.contacts == [Contact("Denis MAILLET, Prof; MD/PhD", "CONTACT", "04 78 86 43 85 ext. +33")]
    assert trial.warnings == []


def test_aggregator_boilerplate_and_related_trials_are_not_values() -> None:
    trial = _seed(AGGREGATOR_003)
    # lines 41-53: five paragraphs; the explainer at line 43 is not one of them
    assert trial.summary is not None
    assert trial.summary.startswith("Prostate cancer is the third leading cause of cancer-related death")
    assert trial.summary.count("\n\n") == 4
    assert "sponsor-provided synopsis" not in trial.summary
    # lines 55-57: "Detailed Description" has only its explainer
    assert trial.description is None
    # lines 433-442: other trials' NCT IDs
    assert all("NCT05570994" not in i.value for i in trial.identifiers)


def test_aggregator_markdown_escapes_are_undone() -> None:
    trial = _seed(AGGREGATOR_003)
    assert trial.summary is not None and trial.eligibility_text is not None
    # line 45 "radioligand \[177Lu\]Lu-PSMA-617"
    assert "the radioligand [177Lu]Lu-PSMA-617, which" in trial.summary
    # line 126 "testosterone \< 50ng/dl", line 164 "Prior \> hemibody"
    assert "serum testosterone < 50ng/dl (1.7nM)" in trial.eligibility_text
    assert "* Prior > hemibody external radiotherapy" in trial.eligibility_text
    # line 163 "Lutetium \[177Lu\] vipivotide tetraxetan or Gallium \[68Ga\] gozetotide"
    assert "(Lutetium [177Lu] vipivotide tetraxetan or Gallium [68Ga] gozetotide)" in trial.eligibility_text
    assert "\\" not in trial.eligibility_text + trial.summary


# --- 004: the stripped Veeva page ----------------------------------------------------------------


def test_stripped_veeva_page_004() -> None:
    trial = _seed(STRIPPED_004)
    # no title, no identifiers: an identifier minted from the summary and description
    assert trial.nct_id is None and trial.title is None and trial.acronym is None
    assert trial.id.startswith("TG-")
    assert trial.id == minted_id(trial.summary, trial.description, trial.eligibility_text)
    # line 5 (About), line 7 (Full description)
    assert trial.summary is not None
    assert trial.summary.startswith("This phase III randomized trial evaluates PD-1 inhibitor")
    assert trial.description is not None
    assert trial.description.startswith("Nasopharyngeal carcinoma (NPC) is highly prevalent")
    # line 29 "260 participants in 2 patient groups"; the groups themselves are not on the page
    assert (trial.enrollment, trial.enrollment_type) == (260, None)
    assert trial.arms == []
    assert trial.warnings == ["the page announces 2 patient groups but lists 0"]
    # lines 1-3 and 8-11, 25-28: headings without values
    assert trial.overall_status is None and trial.phases == [] and trial.study_type is None
    assert trial.conditions == [] and trial.interventions == []
    assert trial.sex is None and trial.minimum_age is None and trial.maximum_age is None
    assert trial.healthy_volunteers is None
    assert (trial.primary_purpose, trial.allocation, trial.intervention_model, trial.masking) == (
        None,
        None,
        None,
        None,
    )
    assert trial.sponsor is None
    # line 32
    assert trial.contacts == [Contact("Haiqiang Mai, PhD, MD", "CONTACT")]
    # lines 24-25: "Exclusion criteria" is followed at once by the next heading
    assert trial.eligibility_text is not None
    assert "Exclusion Criteria:" not in trial.eligibility_text


# --- eligibility text on every seed --------------------------------------------------------------

# (first inclusion line, last inclusion line, first exclusion line, last exclusion line), by hand
ELIGIBILITY_ENDS = {
    VEEVA_000: (  # lines 67, 73, 77, 89
        "1. Male patients aged >18 and ≤70 years, or with an estimated life expectancy >10 years.",
        "7. Patients voluntarily sign informed consent and are willing and able to comply with study "
        "procedures.",
        "1. History of hypersensitivity or intolerance to any study drugs.",
        "13. Any other severe uncontrolled comorbidities (e.g., poorly controlled hypertension, severe "
        "diabetes, neurologic or psychiatric disorders) or conditions that may interfere with study "
        "conduct or interpretation, as judged by the investigator.",
    ),
    VEEVA_001: (  # lines 67, 76, 80, 84
        "• Histologically proven initial diagnosis of adenocarcinoma of the prostate",
        "• Before patient registration/randomization, written informed consent must be given according "
        "to ICH/GCO and national/local regulations.",
        "• Serum testosterone level > 50 ng/ml or > 1.7 nmol/l.",
        "• Disorder precluding understanding of trial information or informed consent or signing "
        "informed consent.",
    ),
    LEGACY_002: (  # lines 81, 115, 117, 138
        "1. KPS (Karnofsky Performance Status) score ≥ 80;",
        "follow-up requirements outlined in the study design.",
        "1. Received first-line treatment other than bevacizumab combined with",
        "to sign the informed consent form.",
    ),
    AGGREGATOR_003: (  # lines 122, 153, 157, 172
        "* Males ≥ 18 years of age",
        "* Patients have to be affiliated to the French social security system, or equivalent",
        "* History of a [177Lu]Lu-PSMA serious adverse event (SAE) or CTCAE Grade 3 or 4 AE during the "
        "initial course of [177Lu]Lu-PSMA that led to the discontinuation of treatment",
        "* Patients under tutorship or guardianship",
    ),
    STRIPPED_004: (  # lines 13, 23; no exclusion criteria
        "Age 18-70 years, any gender.",
        "INR or PT ≤ 1.5 × ULN, unless on therapeutic anticoagulation and values within therapeutic "
        "range,aPTT ≤ 1.5 × ULN, unless on therapeutic anticoagulation and values within therapeutic range",
        None,
        None,
    ),
}


@pytest.mark.parametrize("name", ALL_SEEDS)
def test_eligibility_text_has_the_conventional_shape_and_the_page_lines(name: str) -> None:
    trial = _seed(name)
    first_in, last_in, first_ex, last_ex = ELIGIBILITY_ENDS[name]
    text = trial.eligibility_text
    assert text is not None
    assert text.startswith("Inclusion Criteria:\n\n")
    inclusion = _section_lines(trial, "Inclusion Criteria:")
    assert (inclusion[0].strip(), inclusion[-1].strip()) == (first_in, last_in)
    if first_ex is None:
        assert "Exclusion Criteria:" not in text
    else:
        assert "\n\nExclusion Criteria:\n\n" in text
        exclusion = _section_lines(trial, "Exclusion Criteria:")
        assert (exclusion[0].strip(), exclusion[-1].strip()) == (first_ex, last_ex)
    for chrome in ("Loading...", "Data sourced", "To hear about", "Trial design", "Primary purpose"):
        assert chrome not in text


@pytest.mark.parametrize(
    ("name", "inclusion", "exclusion"),
    [
        (VEEVA_000, 7, 13),  # items "1." to "7." (lines 67-73) and "1." to "13." (lines 77-89)
        (LEGACY_002, 8, 15),  # lines 81-115 and 117-138; "10^9/L, ..." (line 108) is a continuation
    ],
)
def test_numbered_items_per_section(name: str, inclusion: int, exclusion: int) -> None:
    trial = _seed(name)
    incl = [line for line in _section_lines(trial, "Inclusion Criteria:") if _NUMBERED.match(line)]
    excl = [line for line in _section_lines(trial, "Exclusion Criteria:") if _NUMBERED.match(line)]
    assert (len(incl), len(excl)) == (inclusion, exclusion)


def test_numbering_is_kept_with_its_indentation() -> None:
    trial = _seed(VEEVA_000)
    assert trial.eligibility_text is not None
    # line 67 starts with two spaces
    assert "Inclusion Criteria:\n\n  1. Male patients aged >18" in trial.eligibility_text


@pytest.mark.parametrize(
    ("name", "bullet", "inclusion", "exclusion"),
    [
        (VEEVA_001, "•", 10, 5),  # lines 67-76 and 80-84
        (AGGREGATOR_003, "*", 27, 16),  # lines 122-153 (sub-items flattened) and 157-172
        (STRIPPED_004, "", 11, 0),  # lines 13-23, one criterion per line, no bullets
    ],
)
def test_bulleted_or_bare_lines_per_section(name: str, bullet: str, inclusion: int, exclusion: int) -> None:
    trial = _seed(name)
    incl = _section_lines(trial, "Inclusion Criteria:")
    assert len([line for line in incl if line.strip().startswith(bullet)]) == inclusion
    if exclusion:
        excl = _section_lines(trial, "Exclusion Criteria:")
        assert len([line for line in excl if line.strip().startswith(bullet)]) == exclusion


# --- minted identifiers --------------------------------------------------------------------------


def test_minted_ids_are_stable_and_distinct() -> None:
    first_001, again_001 = _seed(VEEVA_001), _seed(VEEVA_001)
    first_004, again_004 = _seed(STRIPPED_004), _seed(STRIPPED_004)
    assert first_001.id == again_001.id
    assert first_004.id == again_004.id
    assert first_001.id != first_004.id
    assert re.fullmatch(r"TG-[0-9A-F]{12}", first_001.id)
    assert re.fullmatch(r"TG-[0-9A-F]{12}", first_004.id)


def test_the_layout_comes_from_the_content_not_the_file_name() -> None:
    data = (SEEDS / LEGACY_002).read_bytes()
    (as_json,) = _results(data, "record.json")
    assert isinstance(as_json, Trial)
    assert as_json.nct_id == "NCT06592612"
    assert as_json.source.file == "record.json"


# --- errors --------------------------------------------------------------------------------------


def test_non_utf8_page_is_an_input_error_naming_the_file() -> None:
    data = (SEEDS / VEEVA_000).read_bytes().replace("≤".encode(), b"\xff", 1)
    (error,) = _results(data, "latin.txt")
    assert isinstance(error, InputError)
    assert error.file == "latin.txt"
    assert str(error).startswith("latin.txt: ")
    assert "UTF-8" in str(error)


@pytest.mark.parametrize(
    "text",
    [
        "It was a bright cold day in April, and the clocks were striking thirteen.\n"
        "Winston Smith slipped quickly through the glass doors of Victory Mansions.\n",
        "",
        "\n\n   \n",
        # every heading of a Veeva page and not one value
        "Status and phase\nConditions\nTreatments\nAbout\nEnrollment\nAges\nVolunteers\n"
        "Inclusion criteria\nExclusion criteria\nMasking\n",
    ],
    ids=["prose", "empty", "blank", "headings-only"],
)
def test_text_without_registry_content_is_an_input_error(text: str) -> None:
    (error,) = _results(text, "notes.txt")
    assert isinstance(error, InputError)
    assert error.file == "notes.txt"
    assert str(error).startswith("notes.txt: ")
    assert "expected registry page text" in str(error)


@pytest.mark.parametrize("name", ALL_SEEDS)
def test_every_truncation_and_every_dropped_line_reads_without_crashing(name: str) -> None:
    lines = (SEEDS / name).read_text(encoding="utf-8").split("\n")
    variants = ["\n".join(lines[:n]) for n in range(len(lines))]
    variants += ["\n".join(lines[:n] + lines[n + 1 :]) for n in range(len(lines))]
    for variant in variants:
        (result,) = _results(variant, name)
        assert isinstance(result, Trial | InputError)


_SEED_LINES = sorted(
    {line for name in ALL_SEEDS for line in (SEEDS / name).read_text(encoding="utf-8").split("\n")}
)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.sampled_from(_SEED_LINES) | st.text(max_size=40), max_size=60))
def test_any_mix_of_page_lines_yields_one_trial_or_input_error(lines: list[str]) -> None:
    (result,) = _results("\n".join(lines))
    assert isinstance(result, Trial | InputError)


# --- shapes the seeds do not show ----------------------------------------------------------------


def test_legacy_blocks_and_inline_values() -> None:
    # Constructed in the shape of 002 with the legacy record's other fields, values inline.
    trial = _one(
        "Trial Title: A Study of X (ABC-1)\n"
        "Official title: A Randomised Study of X Versus Placebo\n"
        "NCT ID: NCT01234567\nOrg study ID: ORG-1\nSecondary ID: SEC-9\n"
        "Overall status: Recruiting\nStudy phase: Phase 1/Phase 2\nEnrollment: 40 (Anticipated)\n"
        "Arm group:\nArm group label: Drug X\nArm group type: Experimental\n"
        "Description: Patients get X.\n"
        "Arm group label: Placebo\nArm group type: Placebo Comparator\n"
        "Intervention:\nIntervention type: Drug\nIntervention name: X\nOther name: X-123\n"
        "Arm group label: Drug X\n"
        "Intervention type: Drug\nIntervention name: Placebo pill\nArm group label: Placebo\n"
        "Criteria for eligibility:\nCriteria:\nInclusion Criteria:\n- adults\n"
        "Condition: stable for 3 months\nExclusion Criteria:\n- pregnancy\n"
        "Gender: Female\nMinimum age: 6 Months\nMaximum age: N/A\n"
        "Healthy volunteers: Accepts Healthy Volunteers\n"
        "Lead sponsor:\nAgency: Org A\nAgency class: Industry\n"
        "Collaborator:\nAgency: Org B\nAgency class: NIH\n"
        "Location:\nFacility:\nName: Hospital One\nCity: Lyon\nCountry: France\nStatus: Recruiting\n"
        "Overall contact:\nLast name: Jane Doe, MD\nPhone: 555-1234\nEmail: jane@example.org\n"
    )
    assert (trial.brief_title, trial.official_title, trial.acronym) == (
        "A Study of X (ABC-1)",
        "A Randomised Study of X Versus Placebo",
        "ABC-1",
    )
    assert trial.identifiers == [
        Identifier("NCT01234567", "nct"),
        Identifier("ORG-1", "org_study_id"),
        Identifier("SEC-9", "secondary"),
    ]
    assert trial.phases == ["PHASE1", "PHASE2"]
    assert (trial.enrollment, trial.enrollment_type) == (40, "ESTIMATED")
    assert _arms(trial) == {
        "Drug X": ("EXPERIMENTAL", ["X"]),
        "Placebo": ("PLACEBO_COMPARATOR", ["Placebo pill"]),
    }
    assert trial.arms[0].description == "Patients get X."
    assert trial.interventions[0].other_names == ["X-123"]
    # "Condition:" inside the criteria is criterion text, "Gender:" ends the criteria
    assert trial.eligibility_text == (
        "Inclusion Criteria:\n\n- adults\nCondition: stable for 3 months\n\n"
        "Exclusion Criteria:\n\n- pregnancy"
    )
    assert trial.conditions == []
    assert (trial.sex, trial.minimum_age, trial.maximum_age) == ("FEMALE", Age(6, "month"), None)
    assert trial.healthy_volunteers is True
    assert trial.sponsor == Organization("Org A", "lead_sponsor", "INDUSTRY")
    assert trial.collaborators == [Organization("Org B", "collaborator", "NIH")]
    assert trial.sites == [Site("Hospital One", "Lyon", None, "France", "RECRUITING")]
    assert trial.contacts == [Contact("Jane Doe, MD", "CONTACT", "555-1234", "jane@example.org")]


def test_aggregator_groups_sharing_interventions() -> None:
    # Constructed in the shape of 003 (lines 86-114) with two groups and two interventions.
    trial = _one(
        "A Trial of A and B\n\nNCT ID: NCT07654321\n\n"
        "Basic Information\n\nGet a concise snapshot of the trial.\n\n"
        "Recruitment Status\n\nCOMPLETED\n\nTotal Enrollment\n\n1,200 participants\n\n"
        "Study Groups\n\nReview each arm or cohort in the study.\n\n"
        "Arm A\n\nGets A.\n\nGroup Type EXPERIMENTAL\n\n"
        "Drug A\n\nIntervention Type DRUG\n\nA by mouth.\n\n"
        "Arm B\n\nGets A and B.\n\nGroup Type ACTIVE_COMPARATOR\n\n"
        "Drug A\n\nIntervention Type DRUG\n\nA by mouth.\n\n"
        "Device B\n\nIntervention Type DEVICE\n\n"
        "Interventions\n\nLearn about the drugs.\n\n"
        "Drug A\n\nA by mouth.\n\nIntervention Type DRUG\n\n"
        "Device B\n\nIntervention Type DEVICE\n\n"
        "Eligibility Criteria\n\nCheck the participation requirements.\n\n"
        "Inclusion Criteria\n\n* adults\n\nMaximum Eligible Age\n\n65 Years\n\n"
        "Sponsors\n\nMeet the organizations.\n\nAcme\n\nINDUSTRY\n\nSponsor Role lead\n\n"
        "Beta Institute\n\nNIH\n\nSponsor Role collaborator\n"
    )
    assert trial.nct_id == "NCT07654321"
    assert trial.overall_status == "COMPLETED"
    assert trial.enrollment == 1200
    assert _interventions(trial) == [("Drug A", "DRUG"), ("Device B", "DEVICE")]
    assert _arms(trial) == {
        "Arm A": ("EXPERIMENTAL", ["Drug A"]),
        "Arm B": ("ACTIVE_COMPARATOR", ["Drug A", "Device B"]),
    }
    assert trial.interventions[1].arm_labels == ["Arm B"]
    assert trial.eligibility_text == "Inclusion Criteria:\n\n* adults"
    assert trial.maximum_age == Age(65, "year")
    assert trial.sponsor == Organization("Acme", "lead_sponsor", "INDUSTRY")
    assert trial.collaborators == [Organization("Beta Institute", "collaborator", "NIH")]


def test_veeva_value_variants() -> None:
    # Constructed in the shape of 000 with other values Veeva shows.
    trial = _one(
        "ClinicalTrials.Veeva\n\nMenu\n\nA Trial in Children\n\n"
        "Status and phase\n\nRecruiting\nPhase 1\nPhase 2\n\n"
        "Study type\n\nInterventional\n\nIdentifiers\n\nNCT01111111\nORG-7\n2020-000001-01\n\n"
        "About\n\nA short summary.\n\nEnrollment\n\n30 actual patients\n\nSex\n\nAll\n\n"
        "Ages\n\n6 months to 17 years old\n\nVolunteers\n\nAccepts Healthy Volunteers\n\n"
        "Inclusion criteria\n\n- aged 6 months to 17 years\n\n"
        "Central trial contact\n\nAnn Lee\nann@example.org\n+1 555 0100\n\n"
        "Data sourced from clinicaltrials.gov\n\nClinical trials\n"
    )
    assert trial.title == "A Trial in Children" and trial.acronym is None
    assert trial.overall_status == "RECRUITING"
    assert trial.phases == ["PHASE1", "PHASE2"]
    assert trial.identifiers == [
        Identifier("NCT01111111", "nct"),
        Identifier("ORG-7", "org_study_id"),
        Identifier("2020-000001-01", "secondary"),
    ]
    assert (trial.enrollment, trial.enrollment_type) == (30, "ACTUAL")
    assert trial.sex == "ALL"
    assert (trial.minimum_age, trial.maximum_age) == (Age(6, "month"), Age(17, "year"))
    assert trial.healthy_volunteers is True
    assert trial.contacts == [Contact("Ann Lee", "CONTACT", "+1 555 0100", "ann@example.org")]
    assert trial.sponsor is None


def test_unreadable_ages_are_a_warning() -> None:
    trial = _one(
        "A Trial\n\nStatus\n\nRecruiting\n\nTreatments\n\nDrug: A\n\nAbout\n\nSummary.\n\n"
        "Ages\n\nteenagers\n\nSex\n\nAll\n"
    )
    assert trial.minimum_age is None and trial.maximum_age is None
    assert trial.warnings == ["cannot read the ages 'teenagers'"]


def test_bare_eligibility_text_is_kept_as_it_is() -> None:
    # The shape of ../shared/data/criteria_text/lct_raw/*.txt
    text = (
        "Inclusion Criteria:\n  -  Adults\n    -  aged 18 or over\nExclusion Criteria:\n"
        "  -  Enrolled in NCT00000001\n"
    )
    trial = _one(text)
    assert trial.eligibility_text == text.rstrip("\n")
    assert trial.nct_id is None  # an NCT ID inside criteria names another trial
    assert trial.id == minted_id(None, None, trial.eligibility_text)


def test_legacy_interventions_in_either_field_order() -> None:
    # A repeated "Intervention name:" starts the next intervention whichever field comes first.
    trial = _one(
        "Trial Title: T\nNCT ID: NCT01234567\nOverall status: Completed\nStudy phase: Phase 3\n"
        "Intervention:\nIntervention name: A\nIntervention type: Drug\nArm group label: One\n"
        "Intervention:\nIntervention name: B\nIntervention type: Device\n"
        "Intervention name: C\nIntervention type: Procedure\n"
    )
    assert _interventions(trial) == [("A", "DRUG"), ("B", "DEVICE"), ("C", "PROCEDURE")]
    assert _arms(trial) == {"One": (None, ["A"])}
