"""What each constraint asks of a patient, in three values, and the verdicts that follow.

This module states the semantics of eligibility once, over the typed model; the SHACL shapes
(:mod:`trialgraph.eligibility.shapes`) encode the same rules for pySHACL, the reference, and a
differential test holds the two to the same answers. It is also the bulk matcher: one pass over
each trial's constraints, no validation engine.

A constraint is ``MET``, ``NOT_MET`` or ``UNKNOWN`` (the patient description lacks what it
needs). A criterion is the conjunction of its constraints (Kleene logic: any NOT_MET wins, then any
UNKNOWN), except that conditional alternatives are combined first:

* ``applies_when = "unless <other threshold> ..."``: an "or" between thresholds of the same
  criterion; the group is MET if any member is, NOT_MET if all are, else UNKNOWN.
* ``applies_when = "<condition>"`` / ``"not <condition>"``: branches for patients with and
  without a circumstance (liver metastases, anticoagulation) the description does not state;
  the group is MET if every branch is, NOT_MET if every branch is and the branches cover both
  cases, else UNKNOWN.

A criterion without constraints is ``NOT_COMPUTABLE``. A trial is INELIGIBLE if any criterion is
NOT_MET, else UNDETERMINED if any is UNKNOWN, else ELIGIBLE; NOT_COMPUTABLE criteria are left for
manual review and counted.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Literal

from trialgraph.eligibility.facts import condition_concepts, performance_intervals
from trialgraph.eligibility.patient import Patient
from trialgraph.model import (
    AgeConstraint,
    Constraint,
    Criterion,
    DiseaseStateConstraint,
    HistologyConstraint,
    ImagingConstraint,
    LabConstraint,
    LifeExpectancyConstraint,
    MalignancyConstraint,
    MetastasisSiteConstraint,
    PerformanceConstraint,
    SexConstraint,
    TherapyConstraint,
    Trial,
)
from trialgraph.namespaces import TGC, trial_iri
from trialgraph.rdf import criterion_iri
from trialgraph.vocabulary import Vocabulary

Status = Literal["MET", "NOT_MET", "UNKNOWN", "NOT_COMPUTABLE"]
Verdict = Literal["ELIGIBLE", "INELIGIBLE", "UNDETERMINED"]
VERDICT_ORDER: dict[str, int] = {"ELIGIBLE": 0, "UNDETERMINED": 1, "INELIGIBLE": 2}

MET: Status = "MET"
NOT_MET: Status = "NOT_MET"
UNKNOWN: Status = "UNKNOWN"
NOT_COMPUTABLE: Status = "NOT_COMPUTABLE"
FREE_TEXT_REASON = "free text only: needs a person"


@dataclass(frozen=True)
class Outcome:
    """One constraint's status with the reason in words."""

    status: Status
    reason: str


@dataclass
class CriterionResult:
    """A criterion's status for one patient, with the reasons of the constraints that decided it."""

    criterion: str
    kind: str
    number: str
    text: str
    status: Status
    reasons: list[str] = field(default_factory=list)

    @property
    def reason(self) -> str:
        """The reasons joined, then kind and number: ``"ECOG 2 is above the maximum of 1 (inclusion 6)"``."""
        return f"{'; '.join(dict.fromkeys(self.reasons))} ({self.kind} {self.number})"


@dataclass(eq=False)
class TrialResult:
    """A trial's verdict for one patient and the status of every criterion.

    ``manual_review`` counts the criteria that are free text only and need a person to read them.
    The bulk matcher decides verdicts without the criteria texts and passes a function that reads
    them on first use of :attr:`criteria`.
    """

    trial: str
    trial_id: str
    nct_id: str | None
    title: str | None
    verdict: Verdict
    manual_review: int
    _criteria: list[CriterionResult] | Callable[[], list[CriterionResult]] = field(repr=False)

    @classmethod
    def of(
        cls, trial_id: str, nct_id: str | None, title: str | None, criteria: list[CriterionResult]
    ) -> TrialResult:
        """The result whose verdict and manual-review count follow from the criteria."""
        return cls(
            trial_iri(trial_id),
            trial_id,
            nct_id,
            title,
            verdict(c.status for c in criteria),
            sum(c.status == NOT_COMPUTABLE for c in criteria),
            criteria,
        )

    @property
    def criteria(self) -> list[CriterionResult]:
        """Every criterion of the trial with its status and reasons, in the trial's order."""
        if callable(self._criteria):
            self._criteria = self._criteria()
        return self._criteria

    def failed_or_unknown(self) -> list[CriterionResult]:
        """The criteria that were not met, then those that could not be decided."""
        return [c for c in self.criteria if c.status == NOT_MET] + [
            c for c in self.criteria if c.status == UNKNOWN
        ]


def combine(statuses: Iterable[Status]) -> Status:
    """Kleene conjunction: NOT_MET if any is, else UNKNOWN if any is, else MET."""
    seen = set(statuses)
    return NOT_MET if NOT_MET in seen else UNKNOWN if UNKNOWN in seen else MET


def verdict(statuses: Iterable[Status]) -> Verdict:
    """ELIGIBLE, INELIGIBLE or UNDETERMINED from criterion statuses (NOT_COMPUTABLE ignored)."""
    seen = set(statuses)
    return "INELIGIBLE" if NOT_MET in seen else "UNDETERMINED" if UNKNOWN in seen else "ELIGIBLE"


def _num(x: float) -> str:
    return f"{x:g}"


class Matcher:
    """Evaluates constraints against one patient, with the vocabulary for class membership."""

    def __init__(self, patient: Patient, vocabulary: Vocabulary | None = None) -> None:
        self.patient = patient
        self.vocab = vocabulary or Vocabulary.default()
        self.ecog, self.karnofsky = performance_intervals(patient, self.vocab)
        self.conditions = condition_concepts(patient, self.vocab)
        self._is_a: dict[tuple[str, str], bool] = {}  # the bulk matcher asks the same questions often
        self._labels: dict[str, str] = {}
        self._outcomes: dict[int, tuple[Constraint, Outcome]] = {}  # the object is kept: its id stays unique

    def _label(self, iri: str) -> str:
        label = self._labels.get(iri)
        if label is None:
            concept = self.vocab.get(iri)
            label = self._labels[iri] = concept.label if concept else iri.rsplit("/", 1)[-1]
        return label

    # --- one constraint --------------------------------------------------------------------------

    def constraint(self, c: Constraint) -> Outcome:
        """The status of one constraint for the patient."""
        if isinstance(c, AgeConstraint):
            return self._age(c)
        if isinstance(c, SexConstraint):
            return self._sex(c)
        if isinstance(c, PerformanceConstraint):
            return self._performance(c)
        if isinstance(c, LifeExpectancyConstraint):
            return Outcome(UNKNOWN, "life expectancy is not part of the patient description")
        if isinstance(c, LabConstraint):
            return self._lab(c)
        if isinstance(c, TherapyConstraint):
            return self._therapy(c)
        if isinstance(c, DiseaseStateConstraint):
            return self._disease(c)
        if isinstance(c, MetastasisSiteConstraint):
            return self._site(c)
        if isinstance(c, ImagingConstraint):
            return self._imaging(c)
        if isinstance(c, HistologyConstraint):
            return self._histology(c)
        if isinstance(c, MalignancyConstraint):
            return self._malignancy(c)
        return Outcome(UNKNOWN, f"no rule for {c.family} constraints")

    def _age(self, c: AgeConstraint) -> Outcome:
        age = self.patient.age_years
        if age is None:
            return Outcome(UNKNOWN, "age is not given")
        if c.min_years is not None and (age < c.min_years or (age == c.min_years and not c.min_inclusive)):
            return Outcome(NOT_MET, f"age {_num(age)} is below the minimum of {_num(c.min_years)}")
        if c.max_years is not None and (age > c.max_years or (age == c.max_years and not c.max_inclusive)):
            return Outcome(NOT_MET, f"age {_num(age)} is above the maximum of {_num(c.max_years)}")
        return Outcome(MET, f"age {_num(age)} is in range")

    def _sex(self, c: SexConstraint) -> Outcome:
        if c.sex == "ALL":
            return Outcome(MET, "any sex")
        if self.patient.sex is None:
            return Outcome(UNKNOWN, "sex is not given")
        if self.patient.sex != c.sex:
            return Outcome(NOT_MET, f"sex {self.patient.sex.lower()} is not {c.sex.lower()}")
        return Outcome(MET, f"sex {c.sex.lower()}")

    def _performance(self, c: PerformanceConstraint) -> Outcome:
        karnofsky_scale = c.scale in ("KARNOFSKY", "LANSKY")
        have = self.karnofsky if karnofsky_scale else self.ecog
        name = "Karnofsky" if karnofsky_scale else c.scale
        if have is None:
            return Outcome(UNKNOWN, "performance status is not given")
        low, high = have
        shown = _num(low) if low == high else f"{_num(low)}-{_num(high)}"
        if c.max_value is not None and low > c.max_value:
            return Outcome(NOT_MET, f"{name} {shown} is above the maximum of {_num(c.max_value)}")
        if c.min_value is not None and high < c.min_value:
            return Outcome(NOT_MET, f"{name} {shown} is below the minimum of {_num(c.min_value)}")
        if (c.max_value is not None and high > c.max_value) or (
            c.min_value is not None and low < c.min_value
        ):
            return Outcome(UNKNOWN, f"{name} {shown} (from the cross-walk) straddles the limit")
        return Outcome(MET, f"{name} {shown} is in range")

    def _lab(self, c: LabConstraint) -> Outcome:
        lab = next((v for v in self.patient.labs if v.analyte == c.analyte), None)
        if lab is None:
            return Outcome(UNKNOWN, f"{c.analyte} is not given")
        if c.uln_multiple:
            if lab.uln_multiple is None:
                return Outcome(
                    UNKNOWN, f"{c.analyte} has no upper limit of normal to compare with {_num(c.value)} x ULN"
                )
            value, unit, shown = lab.uln_multiple, "x ULN", f"{_num(round(lab.uln_multiple, 3))} x ULN"
        else:
            if c.unit is not None and c.unit != lab.unit:
                return Outcome(UNKNOWN, f"{c.analyte} is in {lab.unit}, the criterion in {c.unit}")
            value, unit, shown = lab.value, c.unit or "", f"{_num(round(lab.value, 4))} {lab.unit}".strip()
        ok = {">=": value >= c.value, ">": value > c.value, "<=": value <= c.value, "<": value < c.value}[
            c.comparator
        ]
        limit = f"{c.comparator} {_num(c.value)} {unit}".strip()
        if ok:
            return Outcome(MET, f"{c.analyte} {shown} is {limit}")
        return Outcome(NOT_MET, f"{c.analyte} {shown} is not {limit}")

    def _matches(self, concept: str, cls: str) -> bool:
        known = self._is_a.get((concept, cls))
        if known is None:
            known = self._is_a[(concept, cls)] = concept == cls or self.vocab.is_a(concept, cls)
        return known

    def _therapy(self, c: TherapyConstraint) -> Outcome:
        if "therapies" not in self.patient.given:
            return Outcome(UNKNOWN, "therapy history is not given")
        label = self._label(c.therapy)
        courses = [
            t
            for t in self.patient.therapies
            if any(self._matches(x, c.therapy) for x in t.therapies)
            and not any(
                self._matches(x, p)
                for x in t.therapies
                for p in c.permitted_therapies
                if c.sense == "exclude"
            )
        ]
        if c.timing == "current":
            courses = [t for t in courses if t.ongoing]
        if c.sense == "require":
            if c.permitted_therapies and not courses:
                courses = [
                    t
                    for t in self.patient.therapies
                    if any(self._matches(x, p) for x in t.therapies for p in c.permitted_therapies)
                ]
            if c.line is not None:
                courses = [t for t in courses if t.line is None or t.line == c.line]
            if not courses:
                return Outcome(NOT_MET, f"no {'current' if c.timing == 'current' else 'prior'} {label}")
            undecided = False
            if c.min_cycles is not None:
                enough = [t for t in courses if t.cycles is not None and t.cycles >= c.min_cycles]
                if not enough:
                    if all(t.cycles is not None for t in courses):
                        return Outcome(NOT_MET, f"fewer than {c.min_cycles} cycles of {label}")
                    undecided = True
                courses = enough or courses
            if c.outcome is not None:
                fitting = [t for t in courses if _course_outcome(t, c.outcome)]
                if not fitting:
                    if all(_course_outcome(t, c.outcome) is False for t in courses):
                        return Outcome(NOT_MET, f"{label} without {c.outcome}")
                    undecided = True
            if undecided:
                return Outcome(UNKNOWN, f"{label} given, but cycles or outcome not stated")
            return Outcome(MET, f"{label} received")
        if c.line is not None:
            courses = [t for t in courses if t.line is None or t.line == c.line]
        if not courses:
            return Outcome(MET, f"no {label}")
        if c.outcome is not None:
            flagged = [_course_outcome(t, c.outcome) for t in courses]
            if not any(flagged):
                if all(f is False for f in flagged):
                    return Outcome(MET, f"{label} without {c.outcome}")
                return Outcome(UNKNOWN, f"{label} given; {c.outcome} on it not stated")
            courses = [t for t, f in zip(courses, flagged, strict=True) if f]
        if c.within_days is None:
            return Outcome(NOT_MET, f"prior {label} is excluded")
        window = self.patient.assessment_date.toordinal() - c.within_days
        recent = [t for t in courses if t.ongoing or (t.end is not None and t.end.toordinal() >= window)]
        if recent:
            return Outcome(NOT_MET, f"{label} within {_num(c.within_days)} days")
        if all(t.end is not None for t in courses):
            return Outcome(MET, f"{label} ended more than {_num(c.within_days)} days ago")
        return Outcome(UNKNOWN, f"{label} given, end date not stated")

    def _membership(self, concept: str, present: list[str], known: bool) -> bool | None:
        """Whether the patient has ``concept``: True, False, or None when the description cannot tell."""
        if any(self._matches(x, concept) for x in present):
            return True
        if any(self._matches(concept, x) for x in present):
            return None  # the patient's is broader: "prostate cancer" against "mCRPC"
        return False if known else None

    def _known(self, concept_iri: str) -> bool:
        """Whether the description settles ``concept_iri`` when it does not list it."""
        for facet, given in _FACETS.items():
            if self._matches(concept_iri, facet):
                return given in self.patient.given
        concept = self.vocab.get(concept_iri)
        if concept is not None and concept.kind == "disease":
            return "diagnoses" in self.patient.given
        return "disease.states" in self.patient.given

    def _disease(self, c: DiseaseStateConstraint) -> Outcome:
        label = self._label(c.concept)
        has = self._membership(c.concept, self.conditions, self._known(c.concept))
        if has is None:
            return Outcome(UNKNOWN, f"{label}: not stated")
        if c.sense == "exclude":
            return Outcome(NOT_MET, f"{label} is excluded") if has else Outcome(MET, f"no {label}")
        if not has:
            return Outcome(NOT_MET, f"{label} is required")
        for what, value, low, high in (
            ("progressing lesions", self.patient.progressing_lesions, c.min_lesions, c.max_lesions),
            ("organs involved", self.patient.organs_involved, c.min_organs, c.max_organs),
        ):
            if low is None and high is None:
                continue
            if value is None:
                return Outcome(UNKNOWN, f"{label}: number of {what} not given")
            if (low is not None and value < low) or (high is not None and value > high):
                return Outcome(
                    NOT_MET,
                    f"{value} {what} is outside {_num(low or 0)}-{_num(high) if high is not None else ''}",
                )
        return Outcome(MET, f"{label}")

    def _site(self, c: MetastasisSiteConstraint) -> Outcome:
        label = self._label(c.site)
        if c.stance == "allowed":
            return Outcome(MET, f"{label} allowed")
        has = self._membership(
            c.site, self.patient.metastatic_sites, "disease.metastatic_sites" in self.patient.given
        )
        if has is None:
            return Outcome(UNKNOWN, f"{label}: metastatic sites not given")
        if c.stance == "required":
            return Outcome(MET, label) if has else Outcome(NOT_MET, f"{label} required")
        if not has:
            return Outcome(MET, f"no {label}")
        if c.stance == "excluded_unless_treated_or_stable":
            return Outcome(UNKNOWN, f"{label}: treated or stable is not stated")
        return Outcome(NOT_MET, f"{label} excluded")

    def _imaging(self, c: ImagingConstraint) -> Outcome:
        label = self._label(c.modality)
        has = any(self._matches(x, c.modality) for x in self.patient.imaging)
        if c.sense == "require":
            return Outcome(MET, f"{label} done") if has else Outcome(UNKNOWN, f"{label} not stated")
        return Outcome(NOT_MET, f"{label} excluded") if has else Outcome(UNKNOWN, f"{label} not stated")

    def _histology(self, c: HistologyConstraint) -> Outcome:
        label = self._label(c.histology)
        has = self._membership(c.histology, self.patient.diagnoses, "diagnoses" in self.patient.given)
        if has is None:
            return Outcome(UNKNOWN, f"histology {label}: not stated")
        if c.sense == "exclude":
            return Outcome(NOT_MET, f"{label} histology excluded") if has else Outcome(MET, f"not {label}")
        return Outcome(MET, label) if has else Outcome(NOT_MET, f"{label} histology required")

    def _malignancy(self, c: MalignancyConstraint) -> Outcome:
        if "other_malignancies" not in self.patient.given:
            return Outcome(UNKNOWN, "other malignancies are not given")
        if not self.patient.other_malignancies:
            return Outcome(MET, "no other malignancy")
        return Outcome(UNKNOWN, "another malignancy: its timing and the carve-outs need a person")

    # --- criteria and trials ---------------------------------------------------------------------

    def criterion(self, criterion: Criterion) -> tuple[Status, list[str]]:
        """A criterion's status and the reasons that decided it."""
        return self.constraints(criterion.constraints)

    def constraints(
        self, constraints: list[Constraint], groups: list[Group] | None = None
    ) -> tuple[Status, list[str]]:
        """The status of a criterion with these constraints (none: free text), and the deciding reasons.

        ``groups``: :func:`groups` of the constraints, when the caller keeps them. A constraint object
        met again (the bulk matcher shares equal constraints between criteria) is evaluated once.
        """
        if not constraints:
            return NOT_COMPUTABLE, [FREE_TEXT_REASON]
        outcomes = []
        for c in constraints:
            seen = self._outcomes.get(id(c))
            if seen is None or seen[0] is not c:
                seen = self._outcomes[id(c)] = (c, self.constraint(c))
            outcomes.append((c, seen[1]))
        units: list[tuple[Status, list[str]]] = []
        for group in groups if groups is not None else criterion_groups(constraints):
            results = [o for c, o in outcomes if id(c) in group.members]
            units.append((group.combine([o.status for o in results]), [o.reason for o in results]))
        status = combine(s for s, _ in units)
        reasons = [r for s, rs in units if s == status for r in rs] if status != MET else []
        return status, reasons

    def trial(self, trial: Trial) -> TrialResult:
        """The verdict for one trial."""
        numbers = trial.criterion_numbers()
        results = []
        for c in trial.criteria:
            status, reasons = self.criterion(c)
            results.append(
                CriterionResult(
                    criterion_iri(trial.id, c.kind, c.ordinal),
                    c.kind,
                    numbers[(c.kind, c.ordinal)],
                    c.text,
                    status,
                    reasons,
                )
            )
        return TrialResult.of(trial.id, trial.nct_id, trial.title, results)


_FACETS = {
    TGC + "MeasurableDisease": "disease.measurable_disease",
    TGC + "HighVolumeDisease": "disease.metastatic_volume",
    TGC + "LowVolumeDisease": "disease.metastatic_volume",
    TGC + "CastrationResistantProstateCancer": "disease.castration_status",
    TGC + "HormoneSensitiveProstateCancer": "disease.castration_status",
    TGC + "MetastaticDisease": "disease.metastatic_sites",
}
"""Concepts the structured disease fields decide: not listing them means nothing unless the field is given."""


def _course_outcome(course: object, outcome: str) -> bool | None:
    value: bool | None
    if outcome == "progression":
        value = getattr(course, "progression", None)
    elif outcome == "toxicity":
        value = getattr(course, "toxicity", None)
    else:
        response = getattr(course, "best_response", None)
        value = None if response is None else response in ("CR", "PR")
    return value


@dataclass
class Group:
    """Constraints of one criterion decided together: a single one, an "or", or condition branches."""

    members: set[int]
    kind: Literal["single", "or", "branches"] = "single"
    complete: bool = False

    def combine(self, statuses: list[Status]) -> Status:
        """The group's status from its members' statuses."""
        if self.kind == "single":
            return combine(statuses)
        if self.kind == "or":
            return MET if MET in statuses else NOT_MET if all(s == NOT_MET for s in statuses) else UNKNOWN
        if all(s == MET for s in statuses):
            return MET
        if self.complete and all(s == NOT_MET for s in statuses):
            return NOT_MET
        return UNKNOWN


_UNLESS = re.compile(r"^unless\s+")


def criterion_groups(constraints: list[Constraint]) -> list[Group]:
    """Partition a criterion's constraints into the groups :meth:`Matcher.criterion` combines."""
    groups: list[Group] = []
    labs = [c for c in constraints if isinstance(c, LabConstraint) and c.applies_when]
    unless = [c for c in labs if _UNLESS.match(c.applies_when or "")]
    # "unless" alternatives: connect constraints whose conditions name each other's analyte.
    parent = {id(c): id(c) for c in unless}

    def find(x: int) -> int:
        while parent[x] != x:
            x = parent[x]
        return x

    for a in unless:
        for b in unless:
            if a is not b and re.search(rf"\b{re.escape(b.analyte)}\b", a.applies_when or ""):
                parent[find(id(a))] = find(id(b))
    components: dict[int, set[int]] = {}
    for c in unless:
        components.setdefault(find(id(c)), set()).add(id(c))
    groups.extend(Group(m, "or") for m in components.values())
    # Condition branches of one analyte: "X" and "not X".
    branches: dict[str, list[LabConstraint]] = {}
    for c in labs:
        if c not in unless:
            branches.setdefault(c.analyte, []).append(c)
    for members in branches.values():
        conditions = {(m.applies_when or "").removeprefix("not ").strip() for m in members}
        negated = {(m.applies_when or "").startswith("not ") for m in members}
        complete = len(conditions) == 1 and negated == {True, False}
        groups.append(Group({id(m) for m in members}, "branches", complete))
    grouped = set().union(*(g.members for g in groups)) if groups else set()
    groups.extend(Group({id(c)}) for c in constraints if id(c) not in grouped)
    return groups


def match_trials(
    patient: Patient, trials: Iterable[Trial], vocabulary: Vocabulary | None = None
) -> list[TrialResult]:
    """Every trial's verdict for the patient, eligible first, then undetermined, then ineligible."""
    matcher = Matcher(patient, vocabulary)
    results = [matcher.trial(t) for t in trials]
    results.sort(key=lambda r: (VERDICT_ORDER[r.verdict], r.manual_review, r.trial_id))
    return results
