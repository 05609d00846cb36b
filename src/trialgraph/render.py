"""Plain-text views of results for people: ingest reports, store statistics, one trial."""

from __future__ import annotations

import textwrap
from typing import TYPE_CHECKING

from trialgraph.model import Criterion, Trial

if TYPE_CHECKING:
    from trialgraph.api import IngestReport, Stats
    from trialgraph.reasoning import ReasoningReport

_WIDTH = 100


def ingest_summary(report: IngestReport) -> str:
    """One paragraph: records read, trials stored, unchanged, warnings, errors."""
    return (
        f"records read: {report.records_read}\n"
        f"trials stored: {report.trials_stored} (unchanged: {report.trials_unchanged})\n"
        f"warnings: {len(report.warnings)}\n"
        f"errors: {len(report.errors)}"
    )


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
    return textwrap.fill(
        c.text,
        width=_WIDTH,
        initial_indent=f"{indent}{number}. ",
        subsequent_indent=indent + " " * (len(number) + 2),
    )
