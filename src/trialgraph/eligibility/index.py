"""A trial's eligibility index: each criterion as the content key of its constraint set.

Matching a patient against every trial must not read every trial graph back into the model. At
mapping time each trial therefore also gets two literals, in its own graph (so that they are
written and replaced with it, atomically):

* ``tg:eligibilityIndex``: a version line, then the criteria in order as content keys of their
  constraint sets (``-`` for a free-text criterion), then the same criteria as ``kind:ordinal:number``,
  then the NCT ID and the title (what a ranked list shows), each on a line of its own;
* ``tg:constraintSets``: a JSON object from each key to its constraint set.

A key is a hash of the constraint set's meaning (family and fields; not the criterion, not the
text span), so a set that recurs across trials ("ECOG 0-1", "no prior PD-1 inhibitor") is one key,
evaluated once per patient by the bulk matcher (:mod:`~trialgraph.eligibility.bulk`).

>>> from trialgraph.model import Criterion, PerformanceConstraint
>>> c = Criterion(kind="inclusion", ordinal=1, text="ECOG 0-1")
>>> c.constraints = [PerformanceConstraint("inclusion", 1, 0, 8, "ECOG 0-1", "ECOG", 0.0, 1.0)]
>>> key, definition = constraint_set(c.constraints)
>>> definition
'[["performance",{"min_value":0.0,"max_value":1.0}]]'
>>> [type(x).__name__ for x in read_constraint_sets(json.dumps({key: json.loads(definition)}))[key]]
['PerformanceConstraint']
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
from collections.abc import Container, Sequence
from dataclasses import dataclass
from functools import cache
from typing import Any

from trialgraph.model import Constraint, CriterionKind, Trial

VERSION = "tg-eligibility-index/1"
"""The first line of every index literal; an index of another version is not read."""
FREE_TEXT = "-"
"""The key of a criterion without constraints."""
_BASE_FIELDS = frozenset(f.name for f in dataclasses.fields(Constraint))


@dataclass(frozen=True)
class TrialIndex:
    """The two literals a trial's graph carries for the bulk matcher."""

    entries: str
    constraint_sets: str


@dataclass(frozen=True)
class CriterionRef:
    """Where a criterion of the index is in its trial: kind, ordinal and the number a reader sees."""

    kind: CriterionKind
    ordinal: int
    number: str


@cache
def _families() -> dict[str, type[Constraint]]:
    found: dict[str, type[Constraint]] = {}
    pending: list[type[Constraint]] = [Constraint]
    while pending:
        cls = pending.pop()
        pending.extend(cls.__subclasses__())
        if cls is not Constraint:
            found[cls.family] = cls
    return found


def constraint_set(constraints: Sequence[Constraint]) -> tuple[str, str]:
    """The content key and the canonical JSON of a criterion's constraints, in their order."""
    definition = json.dumps(
        [[c.family, _stated_fields(c)] for c in constraints], separators=(",", ":"), ensure_ascii=False
    )
    return hashlib.blake2b(definition.encode(), digest_size=8).hexdigest(), definition


def _stated_fields(c: Constraint) -> dict[str, Any]:
    """The fields that mean something, without those at their default (the JSON stays short)."""
    stated = {}
    for f in dataclasses.fields(c):
        if f.name in _BASE_FIELDS:
            continue
        value = getattr(c, f.name)
        default = f.default_factory() if f.default_factory is not dataclasses.MISSING else f.default
        if value != default or type(value) is not type(default):
            # A list field (permitted therapies) is a set: RDF keeps no order, the key must not either.
            stated[f.name] = sorted(value) if isinstance(value, list) else value
    return stated


def encode(trial: Trial) -> TrialIndex:
    """The index literals of a trial whose constraints are extracted."""
    numbers = trial.criterion_numbers()
    keys: list[str] = []
    refs: list[str] = []
    definitions: dict[str, str] = {}
    for c in trial.criteria:
        refs.append(f"{c.kind}:{c.ordinal}:{numbers[(c.kind, c.ordinal)]}")
        if not c.constraints:
            keys.append(FREE_TEXT)
            continue
        key, definition = constraint_set(c.constraints)
        keys.append(key)
        definitions[key] = definition
    sets = "{" + ",".join(f'"{k}":{d}' for k, d in definitions.items()) + "}"
    lines = (VERSION, " ".join(keys), " ".join(refs), trial.nct_id or "", trial.title or "")
    return TrialIndex("\n".join(lines), sets)


def read_entries(entries: str) -> tuple[list[str], str | None, str | None] | None:
    """The keys (in criterion order), NCT ID and title of an index literal; None for another version."""
    version, keys, _, nct_id, title = entries.split("\n", 4)
    if version != VERSION:
        return None
    return keys.split(" ") if keys else [], nct_id or None, title or None


def read_refs(entries: str) -> list[CriterionRef]:
    """The criteria of an index literal as kind, ordinal and number, in the order of their keys."""
    refs = entries.split("\n", 3)[2]
    found = []
    for ref in refs.split(" ") if refs else []:
        kind, ordinal, number = ref.split(":", 2)
        found.append(CriterionRef("inclusion" if kind == "inclusion" else "exclusion", int(ordinal), number))
    return found


def read_constraint_sets(
    text: str, shared: dict[str, Constraint] | None = None, keys: Container[str] | None = None
) -> dict[str, list[Constraint]]:
    """The constraint sets of a ``tg:constraintSets`` literal, by key (only ``keys``, when given).

    The constraints carry no criterion or span (they are shared by every criterion with the key).
    With ``shared``, equal constraints of different sets are one object (kept in it by content).
    """
    return constraint_sets(constraint_set_definitions(text, keys), shared)


def constraint_set_definitions(text: str, keys: Container[str] | None = None) -> dict[str, Any]:
    """The parsed definitions in a ``tg:constraintSets`` literal, by key (only ``keys``, when given)."""
    return {k: d for k, d in json.loads(text).items() if keys is None or k in keys}


def constraint_sets(
    definitions: dict[str, Any], shared: dict[str, Constraint] | None = None
) -> dict[str, list[Constraint]]:
    """The constraint sets of :func:`constraint_set_definitions`, as in :func:`read_constraint_sets`."""
    families = _families()
    sets: dict[str, list[Constraint]] = {}
    for key, definition in definitions.items():
        constraints: list[Constraint] = []
        for family, fields in definition:
            content = json.dumps([family, fields], sort_keys=True)
            constraint = shared.get(content) if shared is not None else None
            if constraint is None or any(c is constraint for c in constraints):
                constraint = _constraint(families[family], fields)
                if shared is not None:
                    shared.setdefault(content, constraint)
            constraints.append(constraint)
        sets[key] = constraints
    return sets


def _constraint(cls: type[Constraint], fields: dict[str, Any]) -> Constraint:
    return cls("inclusion", 0, 0, 0, "", **fields)
