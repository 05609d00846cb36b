"""The RDF mapping: a typed :class:`~trialgraph.model.Trial` to quads in its own named graph, and back.

Every node a trial owns gets an IRI under the trial's IRI (``…/trial/NCT06592612/arm/1``,
``…/criterion/exclusion-3``, ``…/criterion/exclusion-3/constraint/1``): no blank nodes, so a
graph is stable across runs, diffable, and each fact can be cited. Controlled values (status,
phase, intervention type, ...) become individuals of the ontology, ``tg:<enumeration>-<CODE>``
with the ClinicalTrials.gov API v2 code, e.g. ``tg:phase-PHASE2``. The mapping is one table
(:data:`_TRIAL_FIELDS` and friends) read in both directions, so what is written can be read back.

>>> from trialgraph.model import Source
>>> trial = Trial(id="NCT00000001", source=Source("ctgov-json", "a.json", 0, "sha256:0"),
...               nct_id="NCT00000001", phases=["PHASE2"])
>>> quads = trial_quads(trial)
>>> trial_from_quads(quads).phases
['PHASE2']
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import hashlib
import re
import types
import typing
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal
from functools import cache, lru_cache
from pathlib import Path
from typing import Any

import pyoxigraph as ox

from trialgraph.eligibility import index as eligibility_index
from trialgraph.eligibility import stance as therapy_stance
from trialgraph.local_therapy import local_therapy_arms
from trialgraph.model import (
    Age,
    Arm,
    Condition,
    Constraint,
    Contact,
    Criterion,
    CriterionKind,
    Identifier,
    Intervention,
    MeshTerm,
    Organization,
    Site,
    Source,
    Trial,
)
from trialgraph.name_mentions import mentioned
from trialgraph.namespaces import DCT, ONTOLOGY_GRAPH, PROV, RDF, RDFS, TG, XSD, trial_iri
from trialgraph.resources import ONTOLOGY_DIR

MESH = "http://id.nlm.nih.gov/mesh/"
"""MeSH descriptors, as the NLM publishes them in RDF."""

# The mapping writes N-Quads text, its terms in N-Triples form: building an ox.Quad per fact cost
# more than half of the mapping's time.
_TYPE = f"<{RDF}type>"
_LABEL = f"<{RDFS}label>"
_DERIVED_FROM = f"<{PROV}wasDerivedFrom>"
_GENERATED_BY = f"<{PROV}wasGeneratedBy>"
_USED = f"<{PROV}used>"
_ACTIVITY = f"<{PROV}Activity>"
_INTEGER = f"<{XSD}integer>"
_DECIMAL = f"<{XSD}decimal>"
_DECIMAL_PLACES = 18  # the most digits after the point pyoxigraph's xsd:decimal holds
_DATE = f"<{XSD}date>"
_YEAR_MONTH = f"<{XSD}gYearMonth>"
_DATE_TIME = f"<{XSD}dateTime>"
_TRUE = f'"true"^^<{XSD}boolean>'
_FALSE = f'"false"^^<{XSD}boolean>'
_FULL_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_YEAR_MONTH_DATE = re.compile(r"^\d{4}-\d{2}$")


@cache
def tg(local: str) -> ox.NamedNode:
    """The ontology term ``tg:<local>`` (one immutable object per term: mapping builds millions)."""
    return ox.NamedNode(TG + local)


@cache
def _tg_ref(local: str) -> str:
    """``tg:<local>`` in N-Triples form."""
    return f"<{TG}{local}>"


def _ref(iri: str) -> str:
    """An IRI the mapping built or the vocabulary holds, in N-Triples form."""
    return f"<{iri}>"


@lru_cache(maxsize=65536)
def _checked_ref(iri: str) -> str:
    """An IRI read from a record, in N-Triples form; ValueError when it is not a valid IRI."""
    return f"<{ox.NamedNode(iri).value}>"


def _string(text: str) -> str:
    """A plain literal in N-Triples form: only quote, backslash, line feed and carriage return escaped."""
    text = text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n").replace("\r", "\\r")
    return f'"{text}"'


def code_iri(enumeration: str, code: str) -> str:
    """The individual for an API v2 code: ``code_iri("phase", "PHASE2")`` is ``tg:phase-PHASE2``."""
    return f"{TG}{enumeration}-{code}"


def code_of(iri: str, enumeration: str) -> str | None:
    """The API v2 code an individual stands for, or ``None`` if it is not of that enumeration."""
    prefix = f"{TG}{enumeration}-"
    return iri[len(prefix) :] if iri.startswith(prefix) else None


# --- the mapping table -------------------------------------------------------------------------------
#
# A field spec says how one attribute of a model object maps to one property: ``kind`` is
# "string", "int", "bool", "date", or "code:<enumeration>"; list-valued attributes repeat the property.


@dataclass(frozen=True)
class _Field:
    attr: str
    prop: str
    kind: str = "string"


_TRIAL_FIELDS = (
    _Field("id", "trialId"),
    _Field("nct_id", "nctId"),
    _Field("acronym", "acronym"),
    _Field("brief_title", "briefTitle"),
    _Field("official_title", "officialTitle"),
    _Field("overall_status", "overallStatus", "code:status"),
    _Field("phases", "phase", "code:phase"),
    _Field("study_type", "studyType", "code:studyType"),
    _Field("start_date", "startDate", "date"),
    _Field("primary_completion_date", "primaryCompletionDate", "date"),
    _Field("completion_date", "completionDate", "date"),
    _Field("first_posted", "firstPosted", "date"),
    _Field("last_update_posted", "lastUpdatePosted", "date"),
    _Field("summary", "briefSummary"),
    _Field("description", "detailedDescription"),
    _Field("keywords", "keyword"),
    _Field("allocation", "allocation", "code:allocation"),
    _Field("intervention_model", "interventionModel", "code:interventionModel"),
    _Field("masking", "masking", "code:masking"),
    _Field("primary_purpose", "primaryPurpose", "code:primaryPurpose"),
    _Field("enrollment", "enrollment", "int"),
    _Field("enrollment_type", "enrollmentType", "code:enrollmentType"),
    _Field("eligibility_text", "eligibilityText"),
    _Field("sex", "sex", "code:sex"),
    _Field("healthy_volunteers", "acceptsHealthyVolunteers", "bool"),
    _Field("warnings", "dataQualityWarning"),
    _Field("tags", "hasTopic", "iri"),
)
_IDENTIFIER_FIELDS = (
    _Field("value", "identifierValue"),
    _Field("scheme", "identifierScheme"),
    _Field("description", "identifierDescription"),
)
_ORGANIZATION_FIELDS = (_Field("name", "name"), _Field("org_class", "organizationClass", "code:orgClass"))
_CONDITION_FIELDS = (_Field("name", "name"),)
_INTERVENTION_FIELDS = (
    _Field("name", "name"),
    _Field("type", "interventionType", "code:interventionType"),
    _Field("description", "description"),
    _Field("other_names", "otherName"),
)
_ARM_FIELDS = (
    _Field("label", "armLabel"),
    _Field("type", "armType", "code:armType"),
    _Field("description", "description"),
)
_CRITERION_FIELDS = (
    _Field("ordinal", "ordinal", "int"),
    _Field("text", "text"),
    _Field("label", "marker"),
    _Field("start", "textStart", "int"),
    _Field("end", "textEnd", "int"),
)
_SITE_FIELDS = (
    _Field("facility", "facility"),
    _Field("city", "city"),
    _Field("state", "state"),
    _Field("country", "country"),
    _Field("status", "siteStatus", "code:status"),
)
_CONTACT_FIELDS = (
    _Field("name", "name"),
    _Field("role", "contactRole"),
    _Field("phone", "phone"),
    _Field("email", "email"),
)
_SOURCE_FIELDS = (
    _Field("format", "sourceFormat"),
    _Field("file", "sourceFile"),
    _Field("record_index", "recordIndex", "int"),
    _Field("checksum", "checksum"),
)
_CONSTRAINT_BASE = ("criterion_kind", "criterion_ordinal", "start", "end", "text")
_CONSTRAINT_IRI_FIELDS = frozenset(
    {"therapy", "permitted_therapies", "concept", "site", "modality", "histology", "scale_concept"}
)
_CONSTRAINT_PROPERTY = {"site": "metastasisSite", "permitted_therapies": "permittedTherapy", "sex": "sex"}
_CONSTRAINT_CODE = {"sex": "sex"}


def _camel(name: str) -> str:
    head, *rest = name.split("_")
    return head + "".join(p[:1].upper() + p[1:] for p in rest)


@cache
def constraint_classes() -> dict[str, type[Constraint]]:
    """Every concrete constraint class of the model by its ontology class IRI (``tg:AgeConstraint``)."""
    found: dict[str, type[Constraint]] = {}
    pending: list[type[Constraint]] = [Constraint]
    while pending:
        cls = pending.pop()
        pending.extend(cls.__subclasses__())
        if cls is not Constraint:
            found[TG + cls.__name__] = cls
    return found


_CONSTRAINT_FIELD_CACHE: dict[str, tuple[_Field, ...]] = {}


def _constraint_fields(cls: type[Constraint]) -> tuple[_Field, ...]:
    cached = _CONSTRAINT_FIELD_CACHE.get(cls.__name__)
    if cached is not None:
        return cached
    hints = typing.get_type_hints(cls)
    specs = []
    for f in dataclasses.fields(cls):
        if f.name in _CONSTRAINT_BASE:
            continue
        prop = _CONSTRAINT_PROPERTY.get(f.name, _camel(f.name))
        if f.name in _CONSTRAINT_IRI_FIELDS:
            kind = "iri"
        elif f.name in _CONSTRAINT_CODE:
            kind = "code:" + _CONSTRAINT_CODE[f.name]
        else:
            kind = _kind_of_type(hints[f.name])
        specs.append(_Field(f.name, prop, kind))
    _CONSTRAINT_FIELD_CACHE[cls.__name__] = tuple(specs)
    return _CONSTRAINT_FIELD_CACHE[cls.__name__]


def _kind_of_type(hint: Any) -> str:
    args = [a for a in typing.get_args(hint) if a is not type(None)]
    base = args[0] if isinstance(hint, types.UnionType) and args else hint
    if typing.get_origin(base) is list:
        (base,) = typing.get_args(base)
    if typing.get_origin(base) is typing.Literal:
        return "string"
    return {bool: "bool", int: "int", float: "decimal", str: "string"}[base]


# --- model -> quads ----------------------------------------------------------------------------------


def _literal(value: Any, kind: str) -> str:
    """A field's value as an N-Triples term: an IRI (a code or an IRI field) or a typed literal."""
    if kind.startswith("code:"):
        return _code_ref(kind[5:], str(value))
    if kind == "iri":
        return _checked_ref(str(value))
    if kind == "bool":
        return _TRUE if value else _FALSE
    if kind == "int":
        return f'"{int(value)}"^^{_INTEGER}'
    if kind == "decimal":
        # The lexical form the store keeps ("3", not "3.0"), so a stored graph compares equal, with at
        # most 18 digits after the point: pyoxigraph's xsd:decimal holds no more, and a longer form (2
        # days in years has 19) is an invalid literal there that no comparison or aggregate reads.
        number = Decimal(repr(float(value)))
        exponent = number.as_tuple().exponent
        if isinstance(exponent, int) and exponent < -_DECIMAL_PLACES:
            number = round(number, _DECIMAL_PLACES)
        return f'"{format(number.normalize(), "f")}"^^{_DECIMAL}'
    if kind == "date":
        text = str(value)
        if _FULL_DATE.match(text):
            return f'"{text}"^^{_DATE}'
        if _YEAR_MONTH_DATE.match(text):
            return f'"{text}"^^{_YEAR_MONTH}'
    return _string(str(value))


@lru_cache(maxsize=4096)
def _code_ref(enumeration: str, code: str) -> str:
    return _checked_ref(code_iri(enumeration, code))


class _Writer:
    """Collects the N-Quads lines of one trial graph; terms are given in N-Triples form."""

    def __init__(self, trial_id: str) -> None:
        self.base = trial_iri(trial_id)
        self.graph = _checked_ref(self.base)
        self.lines: list[str] = []

    def node(self, path: str) -> str:
        return f"<{self.base}/{path}>" if path else self.graph

    def add(self, s: str, p: str, o: str) -> None:
        self.lines.append(f"{s} {p} {o} {self.graph} .\n")

    def fields(self, subject: str, obj: object, specs: Iterable[_Field]) -> None:
        for spec in specs:
            value = getattr(obj, spec.attr)
            values = value if isinstance(value, list) else [value]
            for v in values:
                if v is not None and v != "":
                    self.add(subject, _tg_ref(spec.prop), _literal(v, spec.kind))

    def child(self, parent: str, link: str, path: str, cls: str, obj: object, specs: Iterable[_Field]) -> str:
        node = self.node(path)
        self.add(parent, _tg_ref(link), node)
        self.add(node, _TYPE, _tg_ref(cls))
        self.fields(node, obj, specs)
        return node


def criterion_path(criterion: Criterion) -> str:
    """The path of a criterion's IRI under its trial: ``criterion/inclusion-3``."""
    return f"criterion/{criterion.kind}-{criterion.ordinal}"


def criterion_iri(trial_id: str, kind: str, ordinal: int) -> str:
    """The IRI of criterion ``ordinal`` of ``kind`` in a trial."""
    return f"{trial_iri(trial_id)}/criterion/{kind}-{ordinal}"


MAPPING_VERSION = 4
"""The version of the mapping, on every trial node (:data:`MAPPING_VERSION_PROPERTY`). Raise it when
the mapping adds or changes facts the library queries read: a trial graph an earlier mapping wrote lacks
them until its source is ingested again, and :meth:`~trialgraph.api.TrialGraph.outdated_trials` counts
such trials. Version 1 added ``tg:criterionQuote``; stores written before it record no version. Version 2
writes decimals with at most 18 digits after the point (version 1 wrote up to 19, which pyoxigraph reads
as invalid literals). Version 3 adds each trial's stances on prior therapy (``tg:TherapyStance``).
Version 4 marks the arms that give local therapy (``tg:LocalTherapyArm``, ``tg:givesLocalTherapy``)."""

MAPPING_VERSION_PROPERTY = ox.NamedNode(TG + "mappingVersion")
"""The predicate of a trial's :data:`MAPPING_VERSION`."""

INGEST_TIME = ox.NamedNode(PROV + "endedAtTime")
"""The predicate of the ingest timestamp: the one quad of a trial graph that changes on every ingest."""


def trial_quads(trial: Trial, ingested_at: dt.datetime | None = None) -> list[ox.Quad]:
    """The quads of one trial, all in the trial's named graph.

    With ``ingested_at``, the graph also records the ingest as a PROV activity that used the
    source record and generated the trial (``prov:endedAtTime`` is its time, :data:`INGEST_TIME`).
    """
    return list(ox.parse(trial_nquads(trial, ingested_at), format=ox.RdfFormat.N_QUADS))


def trial_nquads(trial: Trial, ingested_at: dt.datetime | None = None) -> bytes:
    """:func:`trial_quads` as N-Quads, written directly (the ingest's form: no Python object per quad).

    ValueError when a record gives a term RDF cannot hold (an IRI that is not one, a lone surrogate).
    """
    w = _Writer(trial.id)
    t = w.node("")
    w.add(t, _TYPE, _tg_ref("ClinicalTrial"))
    w.add(t, _ref(MAPPING_VERSION_PROPERTY.value), _literal(MAPPING_VERSION, "int"))
    w.fields(t, trial, _TRIAL_FIELDS)
    if trial.url:
        w.add(t, _tg_ref("registryPage"), _checked_ref(trial.url))
    for prop, age in (("minimumAge", trial.minimum_age), ("maximumAge", trial.maximum_age)):
        if age is not None:
            w.add(t, _tg_ref(prop), _literal(age.years, "decimal"))
            w.add(t, _tg_ref(prop + "Stated"), _string(str(age)))
    source = w.node("source")
    w.add(t, _DERIVED_FROM, source)
    w.add(source, _TYPE, _tg_ref("SourceRecord"))
    w.fields(source, trial.source, _SOURCE_FIELDS)
    if trial.last_update_posted:
        w.add(source, _tg_ref("versionDate"), _literal(trial.last_update_posted, "date"))
    if ingested_at is not None:
        activity = w.node("ingest")
        w.add(t, _GENERATED_BY, activity)
        w.add(activity, _TYPE, _ACTIVITY)
        w.add(activity, _USED, source)
        stamp = ingested_at.astimezone(dt.UTC).isoformat(timespec="seconds").replace("+00:00", "Z")
        w.add(activity, _ref(INGEST_TIME.value), f'"{stamp}"^^{_DATE_TIME}')
    for n, ident in enumerate(trial.identifiers, 1):
        w.child(t, "hasIdentifier", f"identifier/{n}", "TrialIdentifier", ident, _IDENTIFIER_FIELDS)
    if trial.sponsor is not None:
        w.child(t, "leadSponsor", "sponsor", "Organization", trial.sponsor, _ORGANIZATION_FIELDS)
    for n, org in enumerate(trial.collaborators, 1):
        w.child(t, "collaborator", f"collaborator/{n}", "Organization", org, _ORGANIZATION_FIELDS)
    for n, cond in enumerate(trial.conditions, 1):
        w.child(t, "studiesCondition", f"condition/{n}", "Condition", cond, _CONDITION_FIELDS)
    for prop, terms in (
        ("conditionMeshTerm", trial.condition_mesh),
        ("interventionMeshTerm", trial.intervention_mesh),
    ):
        for n, term in enumerate(terms, 1):
            # Legacy XML names MeSH terms without their descriptor ID: a node of the trial's own.
            mesh = _checked_ref(MESH + term.id) if term.id else w.node(f"{prop}/{n}")
            w.add(t, _tg_ref(prop), mesh)
            w.add(mesh, _LABEL, _string(term.term))
    arm_labels = {a.label for a in trial.arms}
    iv_nodes = []
    for n, iv in enumerate(trial.interventions, 1):
        node = w.child(t, "hasIntervention", f"intervention/{n}", "Intervention", iv, _INTERVENTION_FIELDS)
        iv_nodes.append(node)
        for concept in mentioned(iv.name, *iv.other_names):
            w.add(node, _tg_ref("nameMentions"), _ref(concept))
        for label in iv.arm_labels:
            if label not in arm_labels:
                w.add(node, _tg_ref("unlinkedArmLabel"), _string(label))
    local_therapy = {id(local.arm): local for local in local_therapy_arms(trial)}
    for n, arm in enumerate(trial.arms, 1):
        node = w.child(t, "hasArm", f"arm/{n}", "Arm", arm, _ARM_FIELDS)
        for concept in mentioned(arm.label):
            w.add(node, _tg_ref("nameMentions"), _ref(concept))
        if (local := local_therapy.get(id(arm))) is not None:
            # derived for the local-therapy query, which starts from these arms
            w.add(node, _TYPE, _tg_ref("LocalTherapyArm"))
            for concept in local.therapies:
                w.add(node, _tg_ref("givesLocalTherapy"), _ref(concept))
        for name, targets in trial.arm_interventions(arm).items():
            if not targets:
                w.add(node, _tg_ref("unlinkedInterventionName"), _string(name))
            for i in targets:
                w.add(node, _tg_ref("givesIntervention"), iv_nodes[i])
    numbers = trial.criterion_numbers()
    quotes = trial.criterion_quotes()
    if trial.criteria:
        # derived for the coverage query: counts it would otherwise read from every criterion
        free_text = [f"{c.kind} {numbers[(c.kind, c.ordinal)]}" for c in trial.criteria if not c.constraints]
        w.add(t, _tg_ref("criteriaCount"), _literal(len(trial.criteria), "int"))
        w.add(t, _tg_ref("computableCriteriaCount"), _literal(len(trial.criteria) - len(free_text), "int"))
        if free_text:
            w.add(t, _tg_ref("freeTextCriteria"), _string(" | ".join(free_text)))
    for c in trial.criteria:
        node = w.child(t, "hasCriterion", criterion_path(c), _criterion_class(c.kind), c, _CRITERION_FIELDS)
        w.add(node, _tg_ref("criterionNumber"), _string(numbers[(c.kind, c.ordinal)]))
        w.add(node, _tg_ref("computable"), _literal(bool(c.constraints), "bool"))
        if c.parent is not None:
            w.add(node, _tg_ref("partOfCriterion"), w.node(f"criterion/{c.kind}-{c.parent}"))
        if c.constraints:
            quote = _string(quotes[(c.kind, c.ordinal)])
        for k, constraint in enumerate(c.constraints, 1):
            _constraint_quads(w, node, f"{criterion_path(c)}/constraint/{k}", constraint, quote)
    for n, stance in enumerate(therapy_stance.trial_stances(trial), 1):
        # derived for the prior-therapy queries: the trial's stance on each concept its criteria bear on
        node = w.node(f"stance/{n}")
        w.add(t, _tg_ref("hasTherapyStance"), node)
        w.add(node, _TYPE, _tg_ref("TherapyStance"))
        w.add(node, _tg_ref("priorTherapyStance"), _string(stance.stance))
        w.add(node, _tg_ref("stanceEvidence"), _string(" | ".join(stance.evidence)))
        for concept in stance.concepts:
            w.add(node, _tg_ref("stanceOn"), _checked_ref(concept))
        for criterion, k in stance.sources:
            w.add(node, _DERIVED_FROM, w.node(f"{criterion_path(criterion)}/constraint/{k}"))
    index = eligibility_index.encode(trial)
    w.add(t, _tg_ref("eligibilityIndex"), _string(index.entries))
    w.add(t, _tg_ref("constraintSets"), _string(index.constraint_sets))
    for n, site in enumerate(trial.sites, 1):
        w.child(t, "hasSite", f"site/{n}", "Site", site, _SITE_FIELDS)
    for n, contact in enumerate(trial.contacts, 1):
        w.child(t, "hasContact", f"contact/{n}", "Contact", contact, _CONTACT_FIELDS)
    return "".join(w.lines).encode("utf-8")


def _criterion_class(kind: str) -> str:
    return "InclusionCriterion" if kind == "inclusion" else "ExclusionCriterion"


def _constraint_quads(w: _Writer, criterion: str, path: str, constraint: Constraint, quote: str) -> None:
    node = w.node(path)
    w.add(criterion, _tg_ref("hasConstraint"), node)
    w.add(node, _TYPE, _tg_ref(type(constraint).__name__))
    # derived for evidence: the criterion as quoted, read in the same lookup as the constraint's facts
    w.add(node, _tg_ref("criterionQuote"), quote)
    w.add(node, _tg_ref("spanStart"), _literal(constraint.start, "int"))
    w.add(node, _tg_ref("spanEnd"), _literal(constraint.end, "int"))
    w.add(node, _tg_ref("spanText"), _string(constraint.text))
    w.fields(node, constraint, _constraint_fields(type(constraint)))


# --- quads -> model ----------------------------------------------------------------------------------

_Props = dict[str, list[ox.NamedNode | ox.Literal]]


def _value(term: ox.NamedNode | ox.Literal, kind: str) -> Any:
    if kind.startswith("code:"):
        return code_of(term.value, kind[5:]) or term.value
    if kind in ("iri", "string", "date"):
        return term.value
    if kind == "bool":
        return term.value in ("true", "1")
    if kind == "int":
        return int(term.value)
    if kind == "decimal":
        return float(term.value)
    raise ValueError(kind)


class _Reader:
    """Subject -> property -> objects over one trial graph."""

    def __init__(self, quads: Iterable[ox.Quad]) -> None:
        self.props: dict[str, _Props] = defaultdict(lambda: defaultdict(list))
        for q in quads:
            if isinstance(q.subject, ox.NamedNode) and isinstance(q.object, (ox.NamedNode, ox.Literal)):
                self.props[q.subject.value][q.predicate.value].append(q.object)

    def objects(self, subject: str, prop: str) -> list[ox.NamedNode | ox.Literal]:
        return self.props.get(subject, {}).get(TG + prop, [])

    def values(self, subject: str, spec: _Field) -> list[Any]:
        return [_value(o, spec.kind) for o in self.objects(subject, spec.prop)]

    def fill(self, subject: str, specs: Iterable[_Field], defaults: dict[str, Any]) -> dict[str, Any]:
        """Keyword arguments for a model class from the fields of ``subject``."""
        out = dict(defaults)
        for spec in specs:
            values = self.values(subject, spec)
            if not values:
                continue
            out[spec.attr] = sorted(values) if isinstance(defaults.get(spec.attr), list) else values[0]
        return out

    def children(self, subject: str, prop: str) -> list[str]:
        """Child node IRIs in the order of their trailing number."""
        return sorted((o.value for o in self.objects(subject, prop)), key=_index_key)


def _index_key(iri: str) -> tuple[str, int]:
    head, _, tail = iri.rpartition("/")
    kind, _, number = tail.rpartition("-")
    if tail.isdigit():
        return head, int(tail)
    return head + kind, int(number) if number.isdigit() else 0


def trial_from_quads(quads: Iterable[ox.Quad]) -> Trial:
    """Read a trial back from the quads of its graph (the inverse of :func:`trial_quads`)."""
    r = _Reader(quads)
    subjects = [s for s, p in r.props.items() if tg("ClinicalTrial") in p.get(RDF + "type", [])]
    if len(subjects) != 1:
        raise ValueError(f"expected one tg:ClinicalTrial in the graph, found {len(subjects)}")
    t = subjects[0]
    (source_iri,) = [o.value for o in r.props[t].get(PROV + "wasDerivedFrom", [])]
    source = Source(**r.fill(source_iri, _SOURCE_FIELDS, {}))
    list_attrs: dict[str, Any] = {"phases": [], "keywords": [], "warnings": [], "tags": []}
    trial = Trial(source=source, **r.fill(t, _TRIAL_FIELDS, list_attrs))
    for prop, attr in (("minimumAgeStated", "minimum_age"), ("maximumAgeStated", "maximum_age")):
        stated = r.objects(t, prop)
        if stated:
            setattr(trial, attr, Age.parse(stated[0].value))
    trial.identifiers = [
        Identifier(**r.fill(i, _IDENTIFIER_FIELDS, {})) for i in r.children(t, "hasIdentifier")
    ]
    for org_iri in r.children(t, "leadSponsor"):
        trial.sponsor = Organization(role="lead_sponsor", **r.fill(org_iri, _ORGANIZATION_FIELDS, {}))
    trial.collaborators = [
        Organization(role="collaborator", **r.fill(o, _ORGANIZATION_FIELDS, {}))
        for o in r.children(t, "collaborator")
    ]
    trial.conditions = [
        Condition(**r.fill(c, _CONDITION_FIELDS, {})) for c in r.children(t, "studiesCondition")
    ]
    for prop, attr in (
        ("conditionMeshTerm", "condition_mesh"),
        ("interventionMeshTerm", "intervention_mesh"),
    ):
        terms = [
            MeshTerm(
                m.value[len(MESH) :] if m.value.startswith(MESH) else "",
                r.props[m.value][RDFS + "label"][0].value,
            )
            for m in r.objects(t, prop)
        ]
        setattr(trial, attr, sorted(terms, key=lambda m: m.id))
    iv_iris = r.children(t, "hasIntervention")
    ivs = {i: Intervention(**r.fill(i, _INTERVENTION_FIELDS, {"other_names": []})) for i in iv_iris}
    trial.interventions = list(ivs.values())
    for arm_iri in r.children(t, "hasArm"):
        arm = Arm(**r.fill(arm_iri, _ARM_FIELDS, {}))
        for iv_iri in sorted((o.value for o in r.objects(arm_iri, "givesIntervention")), key=_index_key):
            if ivs[iv_iri].name not in arm.intervention_names:
                arm.intervention_names.append(ivs[iv_iri].name)
            ivs[iv_iri].arm_labels.append(arm.label)
        arm.intervention_names.extend(o.value for o in r.objects(arm_iri, "unlinkedInterventionName"))
        trial.arms.append(arm)
    for iv_iri, iv in ivs.items():
        iv.arm_labels.extend(o.value for o in r.objects(iv_iri, "unlinkedArmLabel"))
    criteria = (_criterion(r, c) for c in r.children(t, "hasCriterion"))
    # Document order: by offset in the eligibility text, where the splitter recorded one.
    trial.criteria = sorted(
        criteria, key=lambda c: (c.start is None, c.start or 0, c.kind != "inclusion", c.ordinal)
    )
    trial.sites = [Site(**r.fill(s, _SITE_FIELDS, {})) for s in r.children(t, "hasSite")]
    trial.contacts = [Contact(**r.fill(c, _CONTACT_FIELDS, {})) for c in r.children(t, "hasContact")]
    return trial


def _criterion(r: _Reader, iri: str) -> Criterion:
    kind: CriterionKind = "exclusion"
    if tg("InclusionCriterion") in r.props[iri].get(RDF + "type", []):
        kind = "inclusion"
    parents = r.objects(iri, "partOfCriterion")
    parent = _index_key(parents[0].value)[1] if parents else None
    criterion = Criterion(kind=kind, parent=parent, **r.fill(iri, _CRITERION_FIELDS, {}))
    for c_iri in r.children(iri, "hasConstraint"):
        criterion.constraints.append(_constraint(r, c_iri, criterion))
    return criterion


def _constraint(r: _Reader, iri: str, criterion: Criterion) -> Constraint:
    classes = constraint_classes()
    (cls,) = [classes[o.value] for o in r.props[iri].get(RDF + "type", []) if o.value in classes]
    specs = _constraint_fields(cls)
    defaults: dict[str, Any] = {
        f.name: [] for f in dataclasses.fields(cls) if f.name == "permitted_therapies"
    }
    return cls(
        criterion_kind=criterion.kind,
        criterion_ordinal=criterion.ordinal,
        start=int(r.objects(iri, "spanStart")[0].value),
        end=int(r.objects(iri, "spanEnd")[0].value),
        text=r.objects(iri, "spanText")[0].value,
        **r.fill(iri, specs, defaults),
    )


# --- the ontology graph ------------------------------------------------------------------------------


def ontology_files() -> list[str]:
    """The Turtle files of the ontology and the concept vocabulary, schema first."""
    files = [ONTOLOGY_DIR / "trialgraph.ttl", ONTOLOGY_DIR / "vocabulary.ttl", ONTOLOGY_DIR / "patient.ttl"]
    files.extend(sorted((ONTOLOGY_DIR / "concepts").glob("*.ttl")))
    return [str(f) for f in files]


def ontology_version() -> ox.Quad:
    """``<graph/ontology> dct:hasVersion "sha256:…"``: a digest of the ontology files, to skip reloading."""
    digest = hashlib.sha256()
    for path in ontology_files():
        digest.update(Path(path).read_bytes())
    graph = ox.NamedNode(ONTOLOGY_GRAPH)
    return ox.Quad(graph, ox.NamedNode(DCT + "hasVersion"), ox.Literal("sha256:" + digest.hexdigest()), graph)


def ontology_quads() -> list[ox.Quad]:
    """The ontology and vocabulary as quads in the ontology graph, with their :func:`ontology_version`."""
    graph = ox.NamedNode(ONTOLOGY_GRAPH)
    quads: list[ox.Quad] = [ontology_version()]
    for path in ontology_files():
        quads.extend(
            ox.Quad(q.subject, q.predicate, q.object, graph)
            for q in ox.parse(path=path, format=ox.RdfFormat.TURTLE)
        )
    return quads
