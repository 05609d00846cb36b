"""Split an eligibility block into individual criteria."""

from __future__ import annotations

from trialgraph.model import Criterion


def split_criteria(text: str) -> list[Criterion]:
    """The criteria of an eligibility block, inclusion and exclusion, with sub-items and spans."""
    raise NotImplementedError
