"""Helpers every reader shares."""

from __future__ import annotations

from trialgraph.errors import InputError
from trialgraph.ingest import normalize as norm
from trialgraph.model import Arm, Intervention


def decode_utf8(data: bytes, file: str, record: str | int | None = None) -> str:
    """Decode UTF-8 (a BOM is dropped) or raise an ``InputError`` giving the offending byte offset."""
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise InputError(
            file, f"bytes that are not UTF-8 at offset {exc.start}; expected UTF-8 text", record
        ) from None


def bare_intervention_name(text: str, known: set[str]) -> str:
    """``"Drug: Docetaxel"`` -> ``"Docetaxel"``: drop a registry type prefix unless it is the name.

    >>> bare_intervention_name("Drug: Docetaxel", {"Docetaxel"})
    'Docetaxel'
    >>> bare_intervention_name("Other: Quality-of-Life Assessment", set())
    'Quality-of-Life Assessment'
    >>> bare_intervention_name("Study: A", {"Study: A"})
    'Study: A'
    """
    if text in known:
        return text
    prefix, sep, rest = text.partition(":")
    is_type = norm.intervention_type(prefix) != "OTHER" or norm.enum_token(prefix) == "OTHER"
    return rest.strip() if sep and rest.strip() and is_type else text


def link_arms(arms: list[Arm], interventions: list[Intervention]) -> None:
    """Make arm -> intervention and intervention -> arm links agree, whichever side gave them."""
    by_label = {arm.label: arm for arm in arms}
    for intervention in interventions:
        for label in intervention.arm_labels:
            arm = by_label.get(label)
            if arm is not None and intervention.name not in arm.intervention_names:
                arm.intervention_names.append(intervention.name)
    by_name: dict[str, list[Intervention]] = {}
    for intervention in interventions:
        by_name.setdefault(intervention.name, []).append(intervention)
    for arm in arms:
        for name in arm.intervention_names:
            same_name = by_name.get(name, [])
            # Several interventions may share a name (one per dose, say); when one of them
            # already names this arm, that is the link, and the others stay unlinked.
            if not any(arm.label in i.arm_labels for i in same_name):
                for intervention in same_name:
                    intervention.arm_labels.append(arm.label)
