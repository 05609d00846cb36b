"""Reader for legacy ClinicalTrials.gov <clinical_study> XML."""

from __future__ import annotations

from collections.abc import Iterator

from trialgraph.errors import InputError
from trialgraph.model import Trial


def read_ctgov_xml(data: bytes, file: str) -> Iterator[Trial | InputError]:
    """Every record in the file's bytes: a Trial, or an InputError naming file and record."""
    raise NotImplementedError
