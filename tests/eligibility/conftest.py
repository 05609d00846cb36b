"""Fixtures for eligibility tests: random but reproducible patient descriptions (``patient_maker``).

Values are drawn around the thresholds the bundled trials use (ages 18-75, ECOG 0-2, KPS 60-90,
platelets 50-100 x 10^9/L, ...), and every field is sometimes left out, so that the generated
patients reach MET, NOT_MET and UNKNOWN for every constraint family.
"""

from __future__ import annotations

import datetime as dt
import random
from typing import Any

import pytest

DIAGNOSES = [
    "prostate adenocarcinoma",
    "hepatocellular carcinoma",
    "non-small cell lung cancer",
    "nasopharyngeal carcinoma",
    "small cell lung cancer",
    "breast cancer",
    "prostate cancer",
    "metastatic castration-resistant prostate cancer",
    "squamous cell carcinoma",
]
STATES = ["oligoprogression", "oligometastatic disease", "polymetastatic disease", "disease progression"]
SITES = [
    "bone metastases",
    "brain metastases",
    "liver metastases",
    "lung metastases",
    "lymph node metastases",
]
AGENTS = [
    "leuprolide",
    "enzalutamide",
    "abiraterone",
    "docetaxel",
    "cabazitaxel",
    "sintilimab",
    "pembrolizumab",
    "atezolizumab",
    "durvalumab",
    "bevacizumab",
    "lenvatinib",
    "sorafenib",
    "carboplatin",
    "cisplatin",
    "gemcitabine",
    "lutetium (177Lu) vipivotide tetraxetan",
    "olaparib",
    "camrelizumab",
]
REGIMENS = [
    "radical prostatectomy",
    "stereotactic body radiotherapy",
    "radiotherapy",
    "transarterial chemoembolization",
]
IMAGING = ["PSMA PET", "FDG PET", "bone scan", "brain MRI", "computed tomography"]
LABS: dict[str, tuple[str, float, float, bool]] = {
    # analyte: (unit, low, high, has an upper limit of normal)
    "platelets": ("10^9/L", 20, 200, False),
    "anc": ("10^9/L", 0.5, 3.0, False),
    "wbc": ("10^9/L", 1.5, 6.0, False),
    "hemoglobin": ("g/dL", 7.0, 13.0, False),
    "bilirubin": ("mg/dL", 0.3, 3.0, True),
    "ast": ("U/L", 15, 200, True),
    "alt": ("U/L", 15, 200, True),
    "alp": ("U/L", 40, 400, True),
    "albumin": ("g/dL", 2.0, 4.5, False),
    "creatinine": ("mg/dL", 0.5, 2.5, True),
    "creatinine_clearance": ("mL/min", 20, 120, False),
    "egfr": ("mL/min/1.73m2", 20, 120, False),
    "inr": ("ratio", 0.8, 2.0, False),
    "testosterone": ("nmol/L", 0.2, 3.0, False),
    "psa": ("ng/mL", 0.5, 50, False),
}
ULN = {"bilirubin": 1.2, "ast": 40, "alt": 40, "alp": 120, "creatinine": 1.2}
ASSESSED = dt.date(2026, 11, 1)


def _some(rng: random.Random, items: list[str], most: int) -> list[str]:
    return rng.sample(items, rng.randint(0, most))


def _course(rng: random.Random) -> dict[str, Any]:
    course: dict[str, Any] = {}
    if rng.random() < 0.15:
        course["regimen"] = rng.choice(REGIMENS)
    else:
        course["agents"] = rng.sample(AGENTS, rng.choice([1, 1, 2]))
    if rng.random() < 0.6:
        course["line"] = rng.randint(1, 3)
    start = ASSESSED - dt.timedelta(days=rng.randint(30, 1500))
    if rng.random() < 0.7:
        course["start"] = start
    if rng.random() < 0.3:
        course["ongoing"] = True
    elif rng.random() < 0.8:
        course["end"] = min(ASSESSED, start + dt.timedelta(days=rng.randint(0, 600)))
    for key, draw in (
        ("cycles", lambda: rng.randint(1, 12)),
        ("best_response", lambda: rng.choice(["CR", "PR", "SD", "PD"])),
        ("progression", lambda: rng.random() < 0.5),
        ("toxicity", lambda: rng.random() < 0.2),
    ):
        if rng.random() < 0.5:
            course[key] = draw()
    return course


def patient(rng: random.Random, n: int) -> dict[str, Any]:
    """The ``n``-th generated patient description, as the YAML format's mapping."""
    data: dict[str, Any] = {"id": f"generated-{n}", "assessment_date": ASSESSED}
    maybe = lambda p=0.8: rng.random() < p  # noqa: E731 - a short local predicate
    if maybe():
        data["age"] = rng.choice([rng.randint(15, 90), 18, 75, 80])
    if maybe():
        data["sex"] = rng.choice(["male", "female"])
    if maybe(0.9):
        data["diagnoses"] = rng.sample(DIAGNOSES, rng.choice([1, 1, 2]))
    disease: dict[str, Any] = {}
    if maybe(0.7):
        disease["states"] = _some(rng, STATES, 2)
    if maybe(0.7):
        disease["progressing_lesions"] = rng.randint(0, 8)
    if maybe(0.7):
        disease["organs_involved"] = rng.randint(0, 4)
    if maybe(0.7):
        disease["metastatic_sites"] = _some(rng, SITES, 2)
    if maybe(0.4):
        disease["castration_status"] = rng.choice(["sensitive", "resistant"])
    if maybe(0.3):
        disease["metastatic_volume"] = rng.choice(["high", "low"])
    if maybe(0.5):
        disease["measurable_disease"] = maybe(0.7)
    if disease:
        data["disease"] = disease
    if maybe():
        scale = rng.choice(["ecog", "who", "karnofsky"])
        data["performance"] = {
            scale: rng.choice([60, 70, 80, 90]) if scale == "karnofsky" else rng.randint(0, 3)
        }
    if maybe():
        labs = {}
        for analyte in rng.sample(sorted(LABS), rng.randint(1, len(LABS))):
            unit, low, high, has_uln = LABS[analyte]
            lab: dict[str, Any] = {"value": round(rng.uniform(low, high), 2), "unit": unit}
            if has_uln and maybe(0.7):
                lab["uln"] = ULN[analyte]
            labs[analyte] = lab
        data["labs"] = labs
    if maybe():
        data["therapies"] = [_course(rng) for _ in range(rng.randint(0, 3))]
    if maybe(0.5):
        data["imaging"] = _some(rng, IMAGING, 2)
    if maybe(0.6):
        data["other_malignancies"] = rng.choice([[], [], ["basal cell carcinoma"]])
    return data


def patients(count: int, seed: int = 0) -> list[dict[str, Any]]:
    """``count`` generated patient descriptions, the same for the same seed."""
    rng = random.Random(seed)
    return [patient(rng, n) for n in range(count)]


@pytest.fixture(scope="session")
def patient_maker() -> Any:
    """:func:`patients`: ``patient_maker(count, seed)`` gives generated descriptions."""
    return patients
