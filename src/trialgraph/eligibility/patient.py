"""The patient description: a documented YAML/JSON format, read and checked into typed classes.

Every problem names the field it is in (``therapies[1].agent``), so a person can fix the file.
Names of diagnoses, therapies and sites are resolved to vocabulary concepts by a ``resolve``
callable (the concept vocabulary in normal use); an unresolvable name is an error.

>>> p = parse_patient({"age": 66, "sex": "male", "performance": {"who": 1}}, "example")
>>> p.age_years, p.sex, p.performance
(66.0, 'MALE', [Performance(scale='WHO', value=1.0)])
"""

from __future__ import annotations

import datetime as dt
import json
import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from trialgraph.errors import InputError
from trialgraph.vocabulary import Vocabulary

Resolve = Callable[[str, str], str | None]
"""``resolve(name, kind)`` -> a concept IRI, or None; ``kind`` is therapy, disease, site or state."""

SCALES = {"ecog": ("ECOG", 0, 5), "who": ("WHO", 0, 5), "karnofsky": ("KARNOFSKY", 0, 100)}
RESPONSES = {"CR", "PR", "SD", "PD", "NE"}

# Canonical unit per analyte, and the factors that bring other units to it.
LAB_UNITS: dict[str, tuple[str, dict[str, float]]] = {
    "anc": ("10^9/L", {"10^9/L": 1, "/uL": 1e-3, "/mm3": 1e-3, "cells/uL": 1e-3}),
    "wbc": ("10^9/L", {"10^9/L": 1, "/uL": 1e-3, "/mm3": 1e-3}),
    "platelets": ("10^9/L", {"10^9/L": 1, "/uL": 1e-3, "/mm3": 1e-3}),
    "hemoglobin": ("g/dL", {"g/dL": 1, "g/L": 0.1, "mmol/L": 1.611}),
    "bilirubin": ("mg/dL", {"mg/dL": 1, "umol/L": 1 / 17.1}),
    "ast": ("U/L", {"U/L": 1}),
    "alt": ("U/L", {"U/L": 1}),
    "alp": ("U/L", {"U/L": 1}),
    "creatinine": ("mg/dL", {"mg/dL": 1, "umol/L": 1 / 88.4}),
    "creatinine_clearance": ("mL/min", {"mL/min": 1}),
    "egfr": ("mL/min/1.73m2", {"mL/min/1.73m2": 1, "mL/min": 1}),
    "albumin": ("g/dL", {"g/dL": 1, "g/L": 0.1}),
    "inr": ("ratio", {"ratio": 1, "": 1}),
    "testosterone": ("nmol/L", {"nmol/L": 1, "ng/dL": 0.0347, "ng/mL": 3.47}),
    "psa": ("ng/mL", {"ng/mL": 1, "ug/L": 1}),
    "lymphocytes": ("10^9/L", {"10^9/L": 1, "/uL": 1e-3, "/mm3": 1e-3}),
    "direct_bilirubin": ("mg/dL", {"mg/dL": 1, "umol/L": 1 / 17.1}),
    "pt": ("s", {"s": 1}),
    "aptt": ("s", {"s": 1}),
    "lvef": ("%", {"%": 1}),
}
_UNIT_SPELLINGS = {"µ": "u", "μ": "u", "×": "x", " ": "", "x10^9/l": "10^9/l", "10e9/l": "10^9/l"}


@dataclass(frozen=True)
class Performance:
    """A performance-status score on one scale (ECOG, WHO or KARNOFSKY)."""

    scale: str
    value: float


@dataclass(frozen=True)
class LabValue:
    """A laboratory value in its analyte's canonical unit, with the upper limit of normal if given."""

    analyte: str
    value: float
    unit: str
    uln: float | None = None

    @property
    def uln_multiple(self) -> float | None:
        """The value as a multiple of the upper limit of normal."""
        return self.value / self.uln if self.uln else None


@dataclass
class TherapyCourse:
    """One course of therapy: agents or regimen concepts, line, dates, cycles and outcome."""

    therapies: list[str]
    names: list[str]
    line: int | None = None
    start: dt.date | None = None
    end: dt.date | None = None
    ongoing: bool = False
    cycles: int | None = None
    best_response: str | None = None
    progression: bool | None = None
    toxicity: bool | None = None


@dataclass
class Patient:
    """A patient description, checked and resolved to vocabulary concepts."""

    id: str
    assessment_date: dt.date
    age_years: float | None = None
    sex: str | None = None
    diagnoses: list[str] = field(default_factory=list)
    disease_states: list[str] = field(default_factory=list)
    progressing_lesions: int | None = None
    organs_involved: int | None = None
    metastatic_sites: list[str] = field(default_factory=list)
    castration_status: str | None = None
    metastatic_volume: str | None = None
    measurable_disease: bool | None = None
    performance: list[Performance] = field(default_factory=list)
    labs: list[LabValue] = field(default_factory=list)
    therapies: list[TherapyCourse] = field(default_factory=list)
    imaging: list[str] = field(default_factory=list)
    other_malignancies: list[str] = field(default_factory=list)
    given: frozenset[str] = frozenset()
    """The fields the description states, so an empty list ("no prior therapy") differs from silence."""


class _Fields:
    """Reads one mapping, remembering its path for error messages and refusing unknown keys."""

    def __init__(self, data: object, path: str, source: str, allowed: set[str]) -> None:
        if not isinstance(data, Mapping):
            raise InputError(source, f"{path or 'the patient'} must be a mapping, not {type(data).__name__}")
        unknown = sorted(set(data) - allowed)
        if unknown:
            where = f"{path}." if path else ""
            raise InputError(
                source, f"unknown field {where}{unknown[0]}; expected one of: {', '.join(sorted(allowed))}"
            )
        self.data, self.path, self.source = data, path, source

    def name(self, key: str) -> str:
        """The dotted path of a field, for messages."""
        return f"{self.path}.{key}" if self.path else key

    def error(self, key: str, message: str) -> InputError:
        """An error about one field."""
        return InputError(self.source, f"{self.name(key)}: {message}")

    def get(self, key: str) -> Any:
        """The raw value of a field, or None."""
        return self.data.get(key)

    def number(self, key: str, low: float, high: float) -> float | None:
        """A number in ``[low, high]``."""
        value = self.data.get(key)
        if value is None:
            return None
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise self.error(key, f"expected a number, got {value!r}")
        if not low <= value <= high:
            raise self.error(key, f"{value} is impossible; expected a value from {low:g} to {high:g}")
        return float(value)

    def integer(self, key: str, low: int, high: int) -> int | None:
        """A whole number in ``[low, high]``."""
        value = self.number(key, low, high)
        if value is not None and value != int(value):
            raise self.error(key, f"expected a whole number, got {value}")
        return None if value is None else int(value)

    def boolean(self, key: str) -> bool | None:
        """A true/false value."""
        value = self.data.get(key)
        if value is None or isinstance(value, bool):
            return value
        raise self.error(key, f"expected true or false, got {value!r}")

    def date(self, key: str) -> dt.date | None:
        """An ISO date (YAML dates are accepted as they are)."""
        value = self.data.get(key)
        if value is None or isinstance(value, dt.date):
            return value
        try:
            return dt.date.fromisoformat(str(value))
        except ValueError:
            raise self.error(key, f"expected a date as YYYY-MM-DD, got {value!r}") from None

    def choice(self, key: str, options: set[str]) -> str | None:
        """One of a fixed set of words (case-insensitive), returned upper case."""
        value = self.data.get(key)
        if value is None:
            return None
        token = str(value).strip().upper().replace(" ", "_").replace("-", "_")
        if token not in options:
            raise self.error(key, f"{value!r} is not one of {', '.join(sorted(options))}")
        return token

    def names(self, key: str) -> list[str]:
        """A name or a list of names."""
        value = self.data.get(key)
        if value is None:
            return []
        items = value if isinstance(value, list) else [value]
        if not all(isinstance(i, str) and i.strip() for i in items):
            raise self.error(key, "expected a name or a list of names")
        return [i.strip() for i in items]

    def concepts(self, key: str, kind: str, resolve: Resolve) -> list[str]:
        """Names resolved to concept IRIs; an unknown name is an error."""
        out = []
        for i, name in enumerate(self.names(key)):
            iri = resolve(name, kind)
            if iri is None:
                where = key if not isinstance(self.data.get(key), list) else f"{key}[{i}]"
                raise self.error(where, f"{name!r} is not a known {kind} name or code")
            out.append(iri)
        return out


_TOP = {
    "id",
    "assessment_date",
    "age",
    "birth_date",
    "sex",
    "diagnoses",
    "disease",
    "performance",
    "labs",
    "therapies",
    "imaging",
    "other_malignancies",
}
_DISEASE = {
    "states",
    "progressing_lesions",
    "organs_involved",
    "metastatic_sites",
    "castration_status",
    "metastatic_volume",
    "measurable_disease",
}
_LAB = {"value", "unit", "uln"}
_THERAPY = {
    "agent",
    "agents",
    "regimen",
    "line",
    "start",
    "end",
    "ongoing",
    "cycles",
    "best_response",
    "progression",
    "toxicity",
}


def _no_resolver(name: str, kind: str) -> str | None:
    return name


def parse_patient(data: object, source: str, resolve: Resolve = _no_resolver) -> Patient:
    """A checked ``Patient`` from a parsed YAML/JSON mapping; ``source`` names it in errors."""
    top = _Fields(data, "", source, _TOP)
    assessment = top.date("assessment_date") or dt.date.today()
    age = top.number("age", 0, 125)
    birth = top.date("birth_date")
    if age is None and birth is not None:
        if birth > assessment:
            raise top.error("birth_date", f"{birth} is after the assessment date {assessment}")
        age = (assessment - birth).days / 365.25
    patient = Patient(
        id=str(top.get("id") or Path(source).stem),
        assessment_date=assessment,
        age_years=age,
        sex=top.choice("sex", {"MALE", "FEMALE"}),
        diagnoses=top.concepts("diagnoses", "disease", resolve),
        imaging=top.concepts("imaging", "imaging", resolve),
        other_malignancies=top.names("other_malignancies"),
    )
    given = {k for k in _TOP if top.get(k) is not None}
    if isinstance(top.get("disease"), Mapping):
        given |= {f"disease.{k}" for k in _DISEASE if top.get("disease").get(k) is not None}
    patient.given = frozenset(given)
    if top.get("disease") is not None:
        _read_disease(_Fields(top.get("disease"), "disease", source, _DISEASE), patient, resolve)
    if top.get("performance") is not None:
        perf = _Fields(top.get("performance"), "performance", source, set(SCALES))
        for key, (scale, low, high) in SCALES.items():
            value = perf.number(key, low, high)
            if value is not None:
                patient.performance.append(Performance(scale, value))
    if top.get("labs") is not None:
        patient.labs = _read_labs(top.get("labs"), source)
    therapies = top.get("therapies") or []
    if not isinstance(therapies, list):
        raise top.error("therapies", "expected a list of therapy courses")
    for i, item in enumerate(therapies):
        course = _Fields(item, f"therapies[{i}]", source, _THERAPY)
        patient.therapies.append(_read_course(course, resolve, assessment))
    return patient


def _read_disease(d: _Fields, patient: Patient, resolve: Resolve) -> None:
    patient.disease_states = d.concepts("states", "state", resolve)
    patient.progressing_lesions = d.integer("progressing_lesions", 0, 1000)
    patient.organs_involved = d.integer("organs_involved", 0, 50)
    patient.metastatic_sites = d.concepts("metastatic_sites", "site", resolve)
    patient.castration_status = d.choice("castration_status", {"SENSITIVE", "RESISTANT"})
    patient.metastatic_volume = d.choice("metastatic_volume", {"HIGH", "LOW"})
    patient.measurable_disease = d.boolean("measurable_disease")


def _normal_unit(unit: str) -> str:
    text = unit.strip()
    for old, new in _UNIT_SPELLINGS.items():
        text = text.replace(old, new)
    return text.lower()


def _read_labs(labs: object, source: str) -> list[LabValue]:
    group = _Fields(labs, "labs", source, set(LAB_UNITS))
    out = []
    for analyte, (canonical, factors) in LAB_UNITS.items():
        raw = group.get(analyte)
        if raw is None:
            continue
        lab = _Fields(raw, f"labs.{analyte}", source, _LAB)
        value = lab.number("value", 0, 1e7)
        if value is None:
            raise lab.error("value", "is required")
        unit = str(lab.get("unit") or "")
        factor = {_normal_unit(k): v for k, v in factors.items()}.get(_normal_unit(unit))
        if factor is None:
            raise lab.error(
                "unit", f"unknown unit {unit!r} for {analyte}; expected one of: {', '.join(factors)}"
            )
        uln = lab.number("uln", 0, 1e7)
        out.append(LabValue(analyte, value * factor, canonical, uln * factor if uln is not None else None))
    return out


def _read_course(c: _Fields, resolve: Resolve, assessment: dt.date) -> TherapyCourse:
    names = c.names("agent") + c.names("agents") + c.names("regimen")
    if not names:
        raise c.error("agent", "a therapy course needs an agent, agents or a regimen")
    concepts = c.concepts("agent", "therapy", resolve) + c.concepts("agents", "therapy", resolve)
    concepts += c.concepts("regimen", "therapy", resolve)
    start, end = c.date("start"), c.date("end")
    if start and end and end < start:
        raise c.error("end", f"{end} is before the start {start}")
    if end and end > assessment:
        raise c.error("end", f"{end} is after the assessment date {assessment}; mark the course ongoing")
    return TherapyCourse(
        therapies=concepts,
        names=names,
        line=c.integer("line", 1, 20),
        start=start,
        end=end,
        ongoing=bool(c.boolean("ongoing")),
        cycles=c.integer("cycles", 0, 500),
        best_response=c.choice("best_response", RESPONSES),
        progression=c.boolean("progression"),
        toxicity=c.boolean("toxicity"),
    )


def load_patient(path: str | os.PathLike[str], resolve: Resolve = _no_resolver) -> Patient:
    """Read a patient from a ``.yaml``/``.yml``, ``.json`` or Turtle (``.ttl``) file."""
    source = str(path)
    try:
        text = Path(path).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise InputError(source, f"cannot be read: {exc}") from None
    if source.endswith(".ttl"):
        from trialgraph.eligibility.patient_rdf import read_turtle  # the RDF side imports this module

        return read_turtle(text, source, resolve)
    try:
        data = json.loads(text) if source.endswith(".json") else yaml.safe_load(text)
    except (json.JSONDecodeError, yaml.YAMLError) as exc:
        raise InputError(source, f"not valid YAML or JSON: {exc}") from None
    return parse_patient(data, source, resolve)


_KINDS = {
    "therapy": ("agent", "class", "procedure"),
    "disease": ("disease",),
    "state": ("state", "disease"),
    "site": ("state", "disease"),
    "imaging": ("imaging", "response_criteria"),
}


def vocabulary_resolver(vocabulary: Vocabulary | None = None) -> Resolve:
    """A :data:`Resolve` that looks names up in the concept vocabulary and checks their kind."""
    vocab = vocabulary or Vocabulary.default()

    def resolve(name: str, kind: str) -> str | None:
        concept = vocab.get(name) if name.startswith("http") else vocab.lookup(name)
        return concept.iri if concept is not None and concept.kind in _KINDS.get(kind, (kind,)) else None

    return resolve
