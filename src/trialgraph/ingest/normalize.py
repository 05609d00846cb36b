"""Map each format's wording of controlled values onto the ClinicalTrials.gov API v2 enumerations.

>>> status("Not yet enrolling"), status("Active, not recruiting"), status("RECRUITING")
('NOT_YET_RECRUITING', 'ACTIVE_NOT_RECRUITING', 'RECRUITING')
>>> phases("Phase 1/Phase 2"), phases("PHASE2"), phases("N/A")
(['PHASE1', 'PHASE2'], ['PHASE2'], ['NA'])
>>> intervention_type("Radiation"), intervention_type("Dietary Supplement")
('RADIATION', 'DIETARY_SUPPLEMENT')
"""

from __future__ import annotations

import hashlib
import re

STATUSES = {
    "ACTIVE_NOT_RECRUITING",
    "COMPLETED",
    "ENROLLING_BY_INVITATION",
    "NOT_YET_RECRUITING",
    "RECRUITING",
    "SUSPENDED",
    "TERMINATED",
    "WITHDRAWN",
    "AVAILABLE",
    "NO_LONGER_AVAILABLE",
    "TEMPORARILY_NOT_AVAILABLE",
    "APPROVED_FOR_MARKETING",
    "WITHHELD",
    "UNKNOWN",
}
_STATUS_SYNONYMS = {
    "NOT_YET_ENROLLING": "NOT_YET_RECRUITING",
    "ENROLLING": "RECRUITING",
    "ACTIVE_NOT_ENROLLING": "ACTIVE_NOT_RECRUITING",
    "UNKNOWN_STATUS": "UNKNOWN",
}
INTERVENTION_TYPES = {
    "DRUG",
    "RADIATION",
    "PROCEDURE",
    "DEVICE",
    "BIOLOGICAL",
    "BEHAVIORAL",
    "OTHER",
    "DIETARY_SUPPLEMENT",
    "GENETIC",
    "COMBINATION_PRODUCT",
    "DIAGNOSTIC_TEST",
}
_PHASE_NUMBERS = {"1": 1, "2": 2, "3": 3, "4": 4, "I": 1, "II": 2, "III": 3, "IV": 4}
_INTERVENTION_SYNONYMS = {"BIOLOGIC": "BIOLOGICAL", "BEHAVIOURAL": "BEHAVIORAL"}


def enum_token(text: str) -> str:
    """``"Not yet recruiting"`` -> ``"NOT_YET_RECRUITING"``: upper case, runs of non-letters to ``_``."""
    return re.sub(r"[^A-Z0-9]+", "_", text.upper()).strip("_")


def status(text: str | None) -> str | None:
    """The API v2 overall-status value for any spelling of it, or the token itself if unknown."""
    if not text or not text.strip():
        return None
    token = enum_token(text)
    return _STATUS_SYNONYMS.get(token, token)


def phases(text: str | list[str] | None) -> list[str]:
    """API v2 phase values (``EARLY_PHASE1``, ``PHASE1`` .. ``PHASE4``, ``NA``) from any spelling."""
    if not text:
        return []
    items = text if isinstance(text, list) else [text]
    out: list[str] = []
    for item in items:
        token = enum_token(item)
        if token in {"N_A", "NA", "NOT_APPLICABLE"}:
            found = ["NA"]
        elif "EARLY" in token:
            found = ["EARLY_PHASE1"]
        else:
            pieces = token.replace("PHASE", "_").split("_")
            found = [f"PHASE{_PHASE_NUMBERS[x]}" for x in pieces if x in _PHASE_NUMBERS]
        for p in found:
            if p not in out:
                out.append(p)
    return out


def intervention_type(text: str | None) -> str:
    """The API v2 intervention type for any spelling; ``OTHER`` when absent or unknown."""
    if not text:
        return "OTHER"
    token = enum_token(text)
    token = _INTERVENTION_SYNONYMS.get(token, token)
    return token if token in INTERVENTION_TYPES else "OTHER"


def sex(text: str | None) -> str | None:
    """``ALL``, ``MALE`` or ``FEMALE``."""
    if not text or not text.strip():
        return None
    token = enum_token(text)
    if token in {"ALL", "BOTH", "ANY", "MALE_AND_FEMALE"}:
        return "ALL"
    if token in {"MALE", "MEN", "M"}:
        return "MALE"
    if token in {"FEMALE", "WOMEN", "F"}:
        return "FEMALE"
    return token


def token_or_none(text: str | None) -> str | None:
    """An enumeration token for a design field (allocation, masking, ...), or ``None``."""
    if not text or not text.strip():
        return None
    return enum_token(text)


def minted_id(*parts: str | None) -> str:
    """A stable identifier for a record without an NCT ID, from its identifying text.

    >>> minted_id("A title") == minted_id("A  title ")
    True
    """
    basis = "\n".join(" ".join(p.split()).lower() for p in parts if p)
    return "TG-" + hashlib.sha256(basis.encode("utf-8")).hexdigest()[:12].upper()


def checksum(data: bytes) -> str:
    """``sha256:`` followed by the hex digest of the bytes."""
    return "sha256:" + hashlib.sha256(data).hexdigest()


NCT_RE = re.compile(r"\bNCT\d{8}\b")
