"""Criteria extraction: each criterion's text in, typed constraints with their spans out.

One module per constraint family, each with ``extract(criterion) -> list[Constraint]``; this
module runs them all over a trial and sets its trial-level tags. A criterion no family reads
keeps an empty constraint list and is stored as not computable, never dropped.
"""

from __future__ import annotations

from collections.abc import Callable

from trialgraph.extract import demographics, disease, imaging, labs, malignancy, performance, therapy
from trialgraph.model import Constraint, Criterion, Trial

Extractor = Callable[[Criterion], list[Constraint]]

FAMILY_EXTRACTORS: dict[str, Extractor] = {
    "demographics": demographics.extract,
    "performance": performance.extract,
    "labs": labs.extract,
    "therapy": therapy.extract,
    "disease": disease.extract,
    "imaging": imaging.extract,
    "malignancy": malignancy.extract,
}
"""The extractor of each family module, in the order their constraints are listed."""


def extract_criterion(criterion: Criterion) -> list[Constraint]:
    """Every constraint any family reads from one criterion."""
    found: list[Constraint] = []
    for extractor in FAMILY_EXTRACTORS.values():
        found.extend(extractor(criterion))
    return found


def extract_trial(trial: Trial) -> Trial:
    """Fill every criterion's constraints and the trial's tags, in place; returns the trial.

    An extractor that fails on one criterion costs that criterion its constraints from that
    family, with a warning on the trial, rather than the whole trial.
    """
    diseases: dict[int, list[Constraint]] = {}  # what the disease reader found, for the trial tags
    for criterion in trial.criteria:
        criterion.constraints = []
        for name, extractor in FAMILY_EXTRACTORS.items():
            try:
                found = extractor(criterion)
            except Exception as exc:  # one criterion must not sink the trial
                trial.warnings.append(
                    f"{name} extraction failed on {criterion.kind} {criterion.ordinal}: "
                    f"{type(exc).__name__}: {exc}"
                )
                continue
            criterion.constraints.extend(found)
            if extractor is disease.extract:
                diseases[id(criterion)] = found
    trial.tags = disease.trial_tags(trial, diseases)
    return trial
