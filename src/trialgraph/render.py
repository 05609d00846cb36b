"""Plain-text views of results for people: ingest reports, store statistics, one trial."""

from __future__ import annotations

import json
import textwrap
from typing import TYPE_CHECKING

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
from trialgraph.vocabulary import Vocabulary

if TYPE_CHECKING:
    from trialgraph.api import IngestReport, Stats
    from trialgraph.eligibility.evaluate import TrialResult
    from trialgraph.quality import QualityResult
    from trialgraph.reasoning import ReasoningReport

_WIDTH = 100


_OUTDATED = "written by an earlier trialgraph: they lack facts the queries read until ingested again"


def ingest_summary(report: IngestReport) -> str:
    """One paragraph: records read, trials stored, unchanged, warnings, errors, outdated trials."""
    text = (
        f"records read: {report.records_read}\n"
        f"trials stored: {report.trials_stored} (unchanged: {report.trials_unchanged})\n"
        f"warnings: {len(report.warnings)}\n"
        f"errors: {len(report.errors)}"
    )
    if report.outdated_trials:
        text += f"\noutdated trials in the store: {report.outdated_trials} ({_OUTDATED})"
    return text


def reasoning(r: ReasoningReport) -> str:
    """Consistency, unsatisfiable classes and the number of inferred triples stored."""
    lines = [
        f"consistent: {'yes' if r.consistent else 'NO'}",
        f"unsatisfiable classes: {len(r.unsatisfiable)}",
    ]
    lines.extend(f"  {iri}" for iri in r.unsatisfiable)
    if r.ok:
        lines.append(f"inferred triples stored: {len(r.inferred)}")
    lines.append(f"reasoner time: {r.seconds:.1f} s")
    return "\n".join(lines)


def stats(s: Stats) -> str:
    """The store's counts, then trials per status and per phase."""
    lines = [
        f"trials:        {s.trials}",
        f"arms:          {s.arms}",
        f"interventions: {s.interventions}",
        f"conditions:    {s.conditions}",
        f"criteria:      {s.criteria}",
        f"quads:         {s.quads}",
    ]
    if s.outdated_trials:
        lines.append(f"outdated:      {s.outdated_trials} ({_OUTDATED})")
    for title, counts in (("by status", s.by_status), ("by phase", s.by_phase)):
        if counts:
            lines.append(f"{title}:")
            lines.extend(f"  {k:<24} {v}" for k, v in sorted(counts.items()))
    return "\n".join(lines)


def _field(label: str, value: object) -> str | None:
    if value in (None, "", []):
        return None
    return f"{label + ':':<15}{value}"


def trial(t: Trial) -> str:
    """Identifiers, status, phase, conditions, arms with interventions, numbered criteria."""
    head = [f"{t.id}  {t.title or '(no title)'}"]
    ages = " to ".join(str(a) for a in (t.minimum_age, t.maximum_age) if a) or None
    fields = [
        _field("identifiers", ", ".join(f"{i.value} ({i.scheme})" for i in t.identifiers)),
        _field("status", t.overall_status),
        _field("phase", ", ".join(t.phases)),
        _field("study type", t.study_type),
        _field("enrollment", t.enrollment),
        _field("sex", t.sex),
        _field("ages", ages),
        _field("sponsor", t.sponsor.name if t.sponsor else None),
        _field("conditions", "; ".join(c.name for c in t.conditions)),
        _field("topics", "; ".join(map(concept_label, t.tags))),
        _field("page", t.url),
    ]
    head.extend(f for f in fields if f)
    if t.arms:
        head.append("arms:")
        for arm in t.arms:
            head.append(f"  - {arm.label}" + (f" [{arm.type}]" if arm.type else ""))
            head.extend(f"      {name}" for name in arm.intervention_names)
    if t.interventions:
        head.append("interventions:")
        head.extend(f"  - {i.type}: {i.name}" for i in t.interventions)
    numbers = t.criterion_numbers()
    for kind in ("inclusion", "exclusion"):
        items = [c for c in t.criteria if c.kind == kind]
        if items:
            head.append(f"{kind} criteria ({len(t.top_level_criteria(kind))}):")
            head.extend(_criterion(c, numbers[(c.kind, c.ordinal)]) for c in items)
    if t.warnings:
        head.append("warnings:")
        head.extend(f"  - {w}" for w in t.warnings)
    return "\n".join(head)


def _criterion(c: Criterion, number: str) -> str:
    indent = "  " + "    " * number.count(".")
    lines = [
        textwrap.fill(
            c.text,
            width=_WIDTH,
            initial_indent=f"{indent}{number}. ",
            subsequent_indent=indent + " " * (len(number) + 2),
        )
    ]
    pad = indent + " " * (len(number) + 2)
    lines.extend(f"{pad}-> {constraint(k)}" for k in c.constraints)
    if not c.constraints:
        lines.append(f"{pad}-> not computable (free text)")
    return "\n".join(lines)


def concept_label(iri: str) -> str:
    """The preferred label of a vocabulary concept, or the end of its IRI."""
    found = Vocabulary.default().get(iri)
    return found.label if found else iri.rsplit("/", 1)[-1].rsplit("#", 1)[-1]


def _range(
    low: float | None,
    high: float | None,
    unit: str = "",
    low_inclusive: bool = True,
    high_inclusive: bool = True,
) -> str:
    parts = []
    if low is not None:
        parts.append(f"{'>=' if low_inclusive else '>'} {low:g}")
    if high is not None:
        parts.append(f"{'<=' if high_inclusive else '<'} {high:g}")
    return (", ".join(parts) or "any") + (f" {unit}" if unit else "")


def constraint(k: Constraint) -> str:
    """One constraint in words with the text it was read from: ``age 18-70 years  «aged 18 to 70»``."""
    words: str
    if isinstance(k, AgeConstraint):
        words = f"age {_range(k.min_years, k.max_years, 'years', k.min_inclusive, k.max_inclusive)}"
    elif isinstance(k, SexConstraint):
        words = f"sex {k.sex}"
    elif isinstance(k, PerformanceConstraint):
        words = f"{k.scale} {_range(k.min_value, k.max_value)}"
    elif isinstance(k, LifeExpectancyConstraint):
        words = f"life expectancy {'>=' if k.min_inclusive else '>'} {k.min_months:g} months"
    elif isinstance(k, LabConstraint):
        unit = "x ULN" if k.uln_multiple else (k.unit or "")
        words = f"{k.analyte} {k.comparator} {k.value:g} {unit}".rstrip()
        if k.applies_when:
            words += f" ({k.applies_when})"
    elif isinstance(k, TherapyConstraint):
        words = f"therapy: {k.sense} {k.timing} {concept_label(k.therapy)}"
        details = [
            f"within {k.within_days:g} days" if k.within_days is not None else "",
            f">= {k.min_cycles} cycles" if k.min_cycles is not None else "",
            f"line {k.line}" if k.line is not None else "",
            f"with {k.outcome}" if k.outcome else "",
            ("permitted: " + ", ".join(map(concept_label, k.permitted_therapies)))
            if k.permitted_therapies
            else "",
        ]
        words += "".join(f"; {d}" for d in details if d)
    elif isinstance(k, DiseaseStateConstraint):
        words = f"disease: {k.sense} {concept_label(k.concept)}"
        if k.min_lesions is not None or k.max_lesions is not None:
            words += f"; lesions {_range(k.min_lesions, k.max_lesions)}"
        if k.min_organs is not None or k.max_organs is not None:
            words += f"; organs {_range(k.min_organs, k.max_organs)}"
    elif isinstance(k, MetastasisSiteConstraint):
        words = f"metastases: {concept_label(k.site)} {k.stance.replace('_', ' ')}"
    elif isinstance(k, ImagingConstraint):
        words = f"imaging: {k.sense} {concept_label(k.modality)}"
    elif isinstance(k, HistologyConstraint):
        words = f"histology: {k.sense} {concept_label(k.histology)}"
    elif isinstance(k, MalignancyConstraint):
        words = "other malignancy excluded"
        if k.within_years is not None:
            words += f" within {k.within_years:g} years"
        if k.except_text:
            words += f" ({k.except_text})"
    else:
        words = k.family
    return f"{words}  \u00ab{k.text}\u00bb"


def verdict_counts(results: list[TrialResult]) -> dict[str, int]:
    """How many trials have each verdict, in the order of the ranking."""
    counts = {"ELIGIBLE": 0, "UNDETERMINED": 0, "INELIGIBLE": 0}
    for r in results:
        counts[r.verdict] += 1
    return counts


def match_table(results: list[TrialResult], limit: int | None = None) -> str:
    """Each trial's verdict, then the criteria not met and those undecided, with the reason in words.

    With ``limit``, only the first trials of the ranking; a last line counts the verdicts of all.
    """
    lines = []
    for r in results[:limit]:
        lines.append(f"{r.verdict:<13}{r.trial_id}  {r.title or ''}".rstrip())
        for c in r.failed_or_unknown():
            label = "not met" if c.status == "NOT_MET" else "unknown"
            lines.append(
                textwrap.fill(
                    f"{label}: {c.reason}",
                    width=_WIDTH,
                    initial_indent="    ",
                    subsequent_indent="      ",
                )
            )
        if r.manual_review:
            many = r.manual_review > 1
            lines.append(
                f"    {r.manual_review} {'criteria are' if many else 'criterion is'} free text: read "
                f"{'them' if many else 'it'} yourself"
            )
    counts = ", ".join(f"{n:,} {v.lower()}" for v, n in verdict_counts(results).items())
    shown = f" (the first {limit:,} shown)" if limit is not None and limit < len(results) else ""
    lines.append(f"{len(results):,} {_plural(len(results), 'trial')}: {counts}{shown}")
    return "\n".join(lines)


def _plural(n: int, word: str) -> str:
    return word if n == 1 else word + "s"


def match_json(patient_id: str, results: list[TrialResult], limit: int | None = None) -> str:
    """The documented JSON object of ``trialgraph match`` (see docs/patient-format.md)."""
    trials = [
        {
            "trial": r.trial,
            "nct_id": r.nct_id,
            "title": r.title,
            "verdict": r.verdict,
            "manual_review": r.manual_review,
            "criteria": [
                {
                    "criterion": c.criterion,
                    "kind": c.kind,
                    "number": c.number,
                    "text": c.text,
                    "status": c.status,
                    "reason": c.reason,
                }
                for c in r.criteria
            ],
        }
        for r in results[:limit]
    ]
    answer = {"patient": patient_id, "verdicts": verdict_counts(results), "trials": trials}
    return json.dumps(answer, ensure_ascii=False, indent=2)


def quality(findings: list[QualityResult], trials: int) -> str:
    """Data-quality findings per trial, then a count by severity."""
    lines = []
    for f in findings:
        where = f.focus.rsplit("/trial/", 1)[-1]
        lines.append(f"{f.severity.lower():<9} {where}: {f.message}")
    violations = sum(f.severity == "Violation" for f in findings)
    lines.append(f"{trials} trials checked: {violations} violations, {len(findings) - violations} warnings")
    return "\n".join(lines)
