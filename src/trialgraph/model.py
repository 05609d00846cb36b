"""The typed Trial model: the one shape every reader produces and every later stage consumes.

Readers fill these classes from a source record and know nothing of RDF. Controlled values
(status, phase, study type, sex, intervention and arm types, design fields) use the
ClinicalTrials.gov API v2 enumeration spellings (``RECRUITING``, ``PHASE2``, ``DRUG``, ...), so
every format lands on the same vocabulary; see :mod:`trialgraph.ingest.normalize`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import ClassVar, Literal

CriterionKind = Literal["inclusion", "exclusion"]

_AGE_UNITS_IN_YEARS = {
    "year": 1.0,
    "month": 1 / 12,
    "week": 7 / 365.25,
    "day": 1 / 365.25,
    "hour": 1 / (365.25 * 24),
    "minute": 1 / (365.25 * 24 * 60),
}
_AGE_RE = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([A-Za-z]+?)s?\s*$")


@dataclass(frozen=True)
class Source:
    """Where a record came from: format, file, position in the file and a checksum of its bytes."""

    format: str
    file: str
    record_index: int
    checksum: str


@dataclass(frozen=True)
class Identifier:
    """An identifier of a trial with its scheme (``nct``, ``org_study_id``, ``secondary``, ...)."""

    value: str
    scheme: str
    description: str | None = None


@dataclass(frozen=True)
class Organization:
    """A sponsor or collaborator; ``role`` is ``lead_sponsor`` or ``collaborator``."""

    name: str
    role: str
    org_class: str | None = None


@dataclass(frozen=True)
class MeshTerm:
    """A MeSH descriptor the registry derived for the trial's conditions or interventions."""

    id: str
    term: str


@dataclass
class Condition:
    """A condition studied, as the record names it."""

    name: str


@dataclass
class Intervention:
    """An intervention with its type, description, other names and the arms that give it."""

    name: str
    type: str = "OTHER"
    description: str | None = None
    other_names: list[str] = field(default_factory=list)
    arm_labels: list[str] = field(default_factory=list)


@dataclass
class Arm:
    """An arm or group with its type and the names of the interventions it gives."""

    label: str
    type: str | None = None
    description: str | None = None
    intervention_names: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class Age:
    """An age limit as the record states it (value and unit), convertible to years."""

    value: float
    unit: str

    @property
    def years(self) -> float:
        """The limit in years."""
        return self.value * _AGE_UNITS_IN_YEARS[self.unit]

    @classmethod
    def parse(cls, text: str | None) -> Age | None:
        """Parse ``"18 Years"``, ``"6 months"``, ``"N/A"``; ``None`` when there is no limit.

        >>> Age.parse("18 Years").years
        18.0
        >>> Age.parse("N/A") is None
        True
        """
        if not text:
            return None
        m = _AGE_RE.match(text)
        if not m:
            return None
        unit = m.group(2).lower().rstrip("s")
        if unit not in _AGE_UNITS_IN_YEARS:
            return None
        return cls(float(m.group(1)), unit)

    def __str__(self) -> str:
        value = int(self.value) if self.value == int(self.value) else self.value
        return f"{value} {self.unit}{'' if value == 1 else 's'}"


@dataclass
class Criterion:
    """One eligibility criterion: kind, ordinal within its kind, verbatim text and its parent.

    ``ordinal`` numbers the criteria of one kind in document order, sub-items included;
    ``parent`` is the ordinal of the criterion a sub-item belongs to. ``start``/``end`` locate
    the text in the trial's verbatim eligibility block.
    """

    kind: CriterionKind
    ordinal: int
    text: str
    parent: int | None = None
    label: str | None = None
    start: int | None = None
    end: int | None = None
    constraints: list[Constraint] = field(default_factory=list)


@dataclass
class Site:
    """A trial location."""

    facility: str | None = None
    city: str | None = None
    state: str | None = None
    country: str | None = None
    status: str | None = None


@dataclass
class Contact:
    """A central or site contact."""

    name: str | None = None
    role: str | None = None
    phone: str | None = None
    email: str | None = None


@dataclass
class Trial:
    """A clinical trial as read from one source record."""

    id: str
    source: Source
    nct_id: str | None = None
    identifiers: list[Identifier] = field(default_factory=list)
    acronym: str | None = None
    brief_title: str | None = None
    official_title: str | None = None
    overall_status: str | None = None
    phases: list[str] = field(default_factory=list)
    study_type: str | None = None
    start_date: str | None = None
    primary_completion_date: str | None = None
    completion_date: str | None = None
    first_posted: str | None = None
    last_update_posted: str | None = None
    sponsor: Organization | None = None
    collaborators: list[Organization] = field(default_factory=list)
    summary: str | None = None
    description: str | None = None
    conditions: list[Condition] = field(default_factory=list)
    keywords: list[str] = field(default_factory=list)
    condition_mesh: list[MeshTerm] = field(default_factory=list)
    intervention_mesh: list[MeshTerm] = field(default_factory=list)
    allocation: str | None = None
    intervention_model: str | None = None
    masking: str | None = None
    primary_purpose: str | None = None
    enrollment: int | None = None
    enrollment_type: str | None = None
    arms: list[Arm] = field(default_factory=list)
    interventions: list[Intervention] = field(default_factory=list)
    eligibility_text: str | None = None
    criteria: list[Criterion] = field(default_factory=list)
    sex: str | None = None
    minimum_age: Age | None = None
    maximum_age: Age | None = None
    healthy_volunteers: bool | None = None
    sites: list[Site] = field(default_factory=list)
    contacts: list[Contact] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    tags: list[str] = field(default_factory=list)
    """Trial-level concept IRIs (e.g. oligoprogression) read from conditions, titles and inclusions."""

    @property
    def title(self) -> str | None:
        """The brief title, or the official title when there is no brief one."""
        return self.brief_title or self.official_title

    @property
    def url(self) -> str | None:
        """The trial's ClinicalTrials.gov page, when it has an NCT ID."""
        return f"https://clinicaltrials.gov/study/{self.nct_id}" if self.nct_id else None

    def top_level_criteria(self, kind: CriterionKind) -> list[Criterion]:
        """The criteria of one kind that are not sub-items of another criterion."""
        return [c for c in self.criteria if c.kind == kind and c.parent is None]

    def criterion_numbers(self) -> dict[tuple[CriterionKind, int], str]:
        """The number a reader sees for each criterion, keyed by (kind, ordinal): ``"6"``, ``"6.2"``.

        Top-level criteria are numbered 1, 2, ... within their kind; a sub-item gets its parent's
        number, a dot and its position among its siblings.
        """
        numbers: dict[tuple[CriterionKind, int], str] = {}
        children: dict[tuple[CriterionKind, int | None], int] = {}
        for c in self.criteria:
            key = (c.kind, c.parent)
            children[key] = children.get(key, 0) + 1
            prefix = "" if c.parent is None else numbers.get((c.kind, c.parent), "?") + "."
            numbers[(c.kind, c.ordinal)] = f"{prefix}{children[key]}"
        return numbers

    def arm_interventions(self, arm: Arm) -> dict[str, list[int]]:
        """Each intervention name the arm lists, with the indices of the interventions it links to.

        A name links to each intervention of that name that lists the arm's label among its arms; an
        unlinked name has none.
        """
        return {
            name: [
                i for i, iv in enumerate(self.interventions) if iv.name == name and arm.label in iv.arm_labels
            ]
            for name in dict.fromkeys(arm.intervention_names)
        }

    def criterion_quotes(self) -> dict[tuple[CriterionKind, int], str]:
        """Each criterion as evidence quotes it, keyed by (kind, ordinal): ``"exclusion 3: Prior ..."``."""
        numbers = self.criterion_numbers()
        return {
            (c.kind, c.ordinal): f"{c.kind} {numbers[(c.kind, c.ordinal)]}: {c.text}" for c in self.criteria
        }


Sense = Literal["require", "exclude"]
"""Whether a patient must have (``require``) or must not have (``exclude``) what a constraint names,
after the criterion's inclusion/exclusion sense and any negation are resolved."""


@dataclass
class Constraint:
    """A computable condition read from one criterion, pointing back to it and to its text span.

    ``criterion_kind`` and ``criterion_ordinal`` identify the criterion in its trial; ``start`` and
    ``end`` are offsets in that criterion's ``text``; ``text`` is ``criterion.text[start:end]``.
    Numeric constraints state the range a patient must be in (an exclusion "ECOG >= 2" becomes
    ``max_value=1``); categorical ones carry a :data:`Sense`.
    """

    criterion_kind: CriterionKind
    criterion_ordinal: int
    start: int
    end: int
    text: str

    family: ClassVar[str] = "constraint"


@dataclass
class AgeConstraint(Constraint):
    """Allowed age range in years."""

    min_years: float | None = None
    max_years: float | None = None
    min_inclusive: bool = True
    max_inclusive: bool = True
    family: ClassVar[str] = "age"


@dataclass
class SexConstraint(Constraint):
    """The sex a patient must have: ``MALE`` or ``FEMALE``."""

    sex: str = "ALL"
    family: ClassVar[str] = "sex"


@dataclass
class PerformanceConstraint(Constraint):
    """Allowed performance-status range, on the scale the trial states (ECOG, WHO, KARNOFSKY, LANSKY)."""

    scale: str = "ECOG"
    min_value: float | None = None
    max_value: float | None = None
    family: ClassVar[str] = "performance"


@dataclass
class LifeExpectancyConstraint(Constraint):
    """Minimum life expectancy in months."""

    min_months: float = 0.0
    min_inclusive: bool = True
    family: ClassVar[str] = "life_expectancy"


@dataclass
class LabConstraint(Constraint):
    """A laboratory threshold the patient's value must satisfy.

    ``comparator`` is one of ``>=``, ``>``, ``<=``, ``<``; ``value`` is in ``unit`` (normalised, e.g.
    ``10^9/L``, ``g/dL``, ``nmol/L``, ``mL/min``) or, when ``uln_multiple`` is true, a multiple of
    the upper limit of normal. ``applies_when`` describes the circumstance of a conditional
    alternative ("with liver metastases"), whose other branch is a separate constraint.
    """

    analyte: str = ""
    comparator: str = ">="
    value: float = 0.0
    unit: str | None = None
    uln_multiple: bool = False
    applies_when: str | None = None
    family: ClassVar[str] = "lab"


@dataclass
class TherapyConstraint(Constraint):
    """Prior or current therapy a patient must have had (``require``) or must not have had (``exclude``).

    ``therapy`` is a concept IRI of the vocabulary (an agent, a class or a procedure).
    ``permitted_therapies`` are therapies the criterion names as acceptable: for an exclusion, what
    "other than ..." carves out of it; for a requirement, the options that meet it ("after
    bevacizumab plus atezolizumab or sintilimab"). ``within_days`` limits an exclusion to therapy
    received in that window before enrollment (washout); ``min_cycles`` and ``line`` qualify a
    requirement; ``outcome`` is ``progression``, ``response``, ``toxicity`` or None; ``timing`` is
    ``prior`` or ``current`` (ongoing or concurrent).
    """

    therapy: str = ""
    sense: Sense = "exclude"
    timing: str = "prior"
    within_days: float | None = None
    min_cycles: int | None = None
    line: int | None = None
    outcome: str | None = None
    permitted_therapies: list[str] = field(default_factory=list)
    family: ClassVar[str] = "therapy"


@dataclass
class DiseaseStateConstraint(Constraint):
    """A disease, disease state or extent the patient must have or must not have.

    ``concept`` is a vocabulary IRI (oligoprogression, castration resistance, hepatocellular
    carcinoma, ...); the counts qualify oligometastatic and oligoprogressive definitions.
    """

    concept: str = ""
    sense: Sense = "require"
    min_lesions: int | None = None
    max_lesions: int | None = None
    min_organs: int | None = None
    max_organs: int | None = None
    family: ClassVar[str] = "disease_state"


@dataclass
class MetastasisSiteConstraint(Constraint):
    """A metastatic site (brain, CNS, leptomeningeal, liver, ...) and the trial's stance on it.

    ``stance`` is ``excluded``, ``excluded_unless_treated_or_stable``, ``required`` or ``allowed``.
    """

    site: str = ""
    stance: str = "excluded"
    family: ClassVar[str] = "metastasis_site"


@dataclass
class ImagingConstraint(Constraint):
    """An imaging modality or response criterion the patient's disease must be assessed with."""

    modality: str = ""
    sense: Sense = "require"
    family: ClassVar[str] = "imaging"


@dataclass
class HistologyConstraint(Constraint):
    """A histology the patient's tumour must (or must not) have."""

    histology: str = ""
    sense: Sense = "require"
    family: ClassVar[str] = "histology"


@dataclass
class MalignancyConstraint(Constraint):
    """Another malignancy excluded, optionally only within ``within_years``, with carve-outs."""

    within_years: float | None = None
    except_text: str | None = None
    family: ClassVar[str] = "malignancy"
