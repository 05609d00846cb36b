"""What a patient description implies beyond what it states, decided once for every matcher.

The bulk matcher (:mod:`~trialgraph.eligibility.evaluate`) and the patient graph the SHACL shapes
check (:mod:`~trialgraph.eligibility.patient_rdf`) both start from these facts, so that the two
engines can differ only in how they evaluate constraints.

>>> from trialgraph.eligibility.patient import parse_patient
>>> p = parse_patient({"performance": {"karnofsky": 90}}, "x")
>>> performance_intervals(p, Vocabulary.default())  # ECOG 0 is Karnofsky 90-100
((0.0, 0.0), (90.0, 90.0))
"""

from __future__ import annotations

from trialgraph.eligibility.patient import Patient
from trialgraph.namespaces import TGC
from trialgraph.vocabulary import Vocabulary


def condition_concepts(patient: Patient, vocabulary: Vocabulary) -> list[str]:
    """Diagnoses and states, with those the structured disease fields imply (metastatic disease, mCRPC)."""
    found = list(patient.diagnoses) + list(patient.disease_states)
    prostate = any(vocabulary.is_a(d, TGC + "ProstateCancer") for d in patient.diagnoses)
    metastatic = bool(patient.metastatic_sites) or any(
        vocabulary.is_a(s, TGC + "MetastaticDisease") for s in found
    )
    if metastatic:
        found.append(TGC + "MetastaticDisease")
    if prostate and patient.castration_status is not None:
        stem = "CastrationResistant" if patient.castration_status == "RESISTANT" else "HormoneSensitive"
        found.append(TGC + ("Metastatic" if metastatic else "") + stem + "ProstateCancer")
    if patient.metastatic_volume is not None:
        found.append(
            TGC + ("HighVolumeDisease" if patient.metastatic_volume == "HIGH" else "LowVolumeDisease")
        )
    if patient.measurable_disease:
        found.append(TGC + "MeasurableDisease")
    return list(dict.fromkeys(found))


def performance_intervals(
    patient: Patient, vocabulary: Vocabulary
) -> tuple[tuple[float, float] | None, tuple[float, float] | None]:
    """The ECOG and Karnofsky intervals the stated scores allow after the cross-walk; a stated score wins."""
    ecog: tuple[float, float] | None = None
    karnofsky: tuple[float, float] | None = None
    for p in patient.performance:
        if p.scale in ("ECOG", "WHO"):
            ecog = (p.value, p.value)
            if karnofsky is None:
                low, high = vocabulary.karnofsky_range(int(p.value))
                karnofsky = (float(low), float(high))
        else:
            karnofsky = (p.value, p.value)
            if ecog is None:
                grade = float(vocabulary.ecog_for_karnofsky(int(p.value)))
                ecog = (grade, grade)
    return ecog, karnofsky
