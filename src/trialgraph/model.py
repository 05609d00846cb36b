"""The typed Trial model: the one shape every reader produces and every later stage consumes.

Readers fill these classes from a source record and know nothing of RDF. Controlled values
(status, phase, study type, sex, intervention and arm types, design fields) use the
ClinicalTrials.gov API v2 enumeration spellings (``RECRUITING``, ``PHASE2``, ``DRUG``, ...), so
every format lands on the same vocabulary; see :mod:`trialgraph.ingest.normalize`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Literal

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
