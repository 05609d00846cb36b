"""A trial's eligibility as SHACL shapes, built from the templates in ``shapes/eligibility/``.

Every criterion with constraints becomes one ``sh:NodeShape`` that targets ``tg:Patient``, named
``{criterion IRI}/shape`` and linked to its criterion (``tg:shapeOfCriterion``, ``rdfs:comment`` the
criterion text). Its checks are property shapes (``sh:property``), each linked to the constraints it
decides (``tg:shapeOfConstraint``):

* SHACL Core where it can say it: age, sex, performance status (ECOG and Karnofsky intervals after the
  cross-walk), life expectancy and other malignancies;
* SHACL-SPARQL (``sh:sparql`` with ``sh:select``) for what Core cannot: the vocabulary's class
  hierarchy (``(rdf:type|rdfs:subClassOf)*``), lab thresholds and their groups of alternatives, therapy
  courses with their counts and washout windows, lesion and organ counts.

Three values: a check reports a result with severity ``sh:Violation`` when its constraint (or group)
is NOT_MET and ``sh:Warning`` when it is UNKNOWN; a criterion with a Violation is NOT_MET, else with a
Warning UNKNOWN, else MET (Kleene conjunction). Criteria without constraints get no shape:
NOT_COMPUTABLE. The semantics are those of :mod:`trialgraph.eligibility.evaluate`.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Mapping
from functools import cache

import rdflib
from rdflib.namespace import RDF, RDFS, SH, XSD

from trialgraph.eligibility.evaluate import criterion_groups
from trialgraph.eligibility.patient_rdf import decimal
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
from trialgraph.namespaces import TG
from trialgraph.rdf import code_iri, criterion_iri
from trialgraph.resources import SHAPES_DIR
from trialgraph.vocabulary import Vocabulary

TEMPLATE_DIR = SHAPES_DIR / "eligibility"
"""The directory of the shape templates."""
TPL = rdflib.Namespace("urn:trialgraph:template:")
"""The namespace of template nodes; never in a generated graph."""
PREFIXES = rdflib.URIRef("https://w3id.org/trialgraph/shapes/eligibility")
"""The node declaring the prefixes of the SPARQL-based checks."""

_TG = rdflib.Namespace(TG)
_PLACEHOLDER = re.compile(r"\{\{(\w+)\}\}")
_WHOLE = re.compile(r"^\{\{(\w+)\}\}$")
# Words pySHACL refuses in a SPARQL constraint (VALUES, MINUS, SERVICE) even inside a string.
_REFUSED = re.compile(r"(?i)(value|minu|ervic)([se])(?=[\s{(<])")

Param = rdflib.term.Node | str | None
Params = Mapping[str, Param]


@cache
def template(name: str) -> rdflib.Graph:
    """A template graph, ``shapes/eligibility/{name}.ttl``, parsed once."""
    return rdflib.Graph().parse(TEMPLATE_DIR / f"{name}.ttl", format="turtle")


def _text(value: str) -> str:
    """Text safe inside a SPARQL string literal and inside pySHACL's checks of the query."""
    clean = value.replace("\\", "/").replace('"', "'").replace("\n", " ")
    return _REFUSED.sub(lambda m: m.group(1) + f"\\u{ord(m.group(2)):04X}", clean)


def _fill(text: str, params: Params) -> str | None:
    """``text`` with its placeholders replaced, or None when one of them is not set."""
    missing = False

    def one(m: re.Match[str]) -> str:
        nonlocal missing
        value = params.get(m.group(1))
        if value is None:
            missing = True
            return ""
        return value.n3() if isinstance(value, rdflib.term.Node) else value

    out = _PLACEHOLDER.sub(one, text)
    return None if missing else out


def _term(
    term: rdflib.term.Node, params: Params, name: Callable[[str], rdflib.URIRef]
) -> rdflib.term.Node | None:
    if isinstance(term, rdflib.URIRef) and str(term).startswith(str(TPL)):
        return name(str(term)[len(TPL) :])
    if isinstance(term, rdflib.Literal) and isinstance(term.value, str) and "{{" in str(term):
        whole = _WHOLE.match(str(term))
        if whole:
            value = params.get(whole.group(1))
            if value is None:
                return None
            return value if isinstance(value, rdflib.term.Node) else rdflib.Literal(value)
        filled = _fill(str(term), params)
        return None if filled is None else rdflib.Literal(filled, lang=term.language, datatype=term.datatype)
    return term


def instantiate(name: str, base: str, params: Params) -> tuple[rdflib.Graph, list[rdflib.URIRef]]:
    """The checks of a template (objects of ``sh:property`` on ``tpl:shape``) under ``base``.

    Template nodes ``tpl:x`` become ``{base}/x``; a check that uses a parameter that is None is left out.
    """
    tpl = template(name)
    out = rdflib.Graph()
    kept: list[rdflib.URIRef] = []

    def node_name(local: str) -> rdflib.URIRef:
        return rdflib.URIRef(f"{base}/{local}")

    for part in sorted(tpl.objects(TPL.shape, SH.property), key=str):
        triples: list[tuple[rdflib.term.Node, rdflib.term.Node, rdflib.term.Node]] = []
        bnodes: dict[rdflib.BNode, rdflib.BNode] = {}
        pending, seen = [part], set()
        ok = True
        while pending and ok:
            subject = pending.pop()
            if subject in seen:
                continue
            seen.add(subject)
            for _, p, o in tpl.triples((subject, None, None)):
                if isinstance(o, rdflib.BNode) or (
                    isinstance(o, rdflib.URIRef) and str(o).startswith(str(TPL))
                ):
                    pending.append(o)
                terms: list[rdflib.term.Node] = []
                for t in (subject, p, o):
                    if isinstance(t, rdflib.BNode):
                        terms.append(bnodes.setdefault(t, rdflib.BNode()))
                        continue
                    filled = _term(t, params, node_name)
                    if filled is None:
                        ok = False
                        break
                    terms.append(filled)
                if not ok:
                    break
                triples.append((terms[0], terms[1], terms[2]))
        if not ok:
            continue
        for triple in triples:
            out.add(triple)
        kept.append(node_name(str(part)[len(TPL) :]))
    return out, kept


def fragment(name: str, n: int, params: Params) -> str:
    """The SPARQL fragment of a family template for member ``n``, binding ``?s_n`` and ``?r_n``."""
    (pattern,) = template(name).objects(TPL.fragment, TPL.pattern)
    filled = _fill(str(pattern), {**params, "n": str(n)})
    if filled is None:
        raise ValueError(f"template {name} needs a parameter that is not set: {params}")
    return (
        filled + f'  BIND(STRBEFORE(?o_{n}, "|") AS ?s_{n})\n' + f'  BIND(STRAFTER(?o_{n}, "|") AS ?r_{n})\n'
    )


def _num(value: float) -> str:
    return f"{value:g}"


def _range(low: int | None, high: int | None) -> str:
    return f"{low or 0}-{high if high is not None else ''}"


def _bool(value: bool) -> str:
    return "true" if value else "false"


class _Builder:
    """Collects the shapes of one trial."""

    def __init__(self, vocabulary: Vocabulary) -> None:
        self.vocab = vocabulary
        self.graph = rdflib.Graph()
        for prefix, ns in (("sh", SH), ("tg", _TG), ("rdfs", RDFS), ("xsd", XSD)):
            self.graph.bind(prefix, ns)
        self.graph += template("prefixes")

    def label(self, iri: str) -> str:
        concept = self.vocab.get(iri)
        return _text(concept.label if concept else iri.rsplit("/", 1)[-1])

    def criterion(self, trial: Trial, criterion: Criterion, number: str) -> None:
        iri = rdflib.URIRef(criterion_iri(trial.id, criterion.kind, criterion.ordinal))
        shape = rdflib.URIRef(f"{iri}/shape")
        g = self.graph
        g.add((shape, RDF.type, SH.NodeShape))
        g.add((shape, SH.targetClass, _TG.Patient))
        g.add((shape, _TG.shapeOfCriterion, iri))
        g.add((shape, RDFS.label, rdflib.Literal(f"{criterion.kind} {number}")))
        g.add((shape, RDFS.comment, rdflib.Literal(criterion.text)))
        g.add((shape, SH.severity, SH.Violation))
        index = {id(c): k for k, c in enumerate(criterion.constraints, 1)}
        for group in criterion_groups(criterion.constraints):
            members = [c for c in criterion.constraints if id(c) in group.members]
            ks = [index[id(c)] for c in members]
            base = f"{shape}/{'-'.join(map(str, ks))}"
            if group.kind == "single" and not _sparql_family(members[0]):
                graph, parts = self.core(members[0], base)
            else:
                graph, parts = self.sparql(members, group.kind, group.complete, base, number, criterion.kind)
            g += graph
            for part in parts:
                g.add((shape, SH.property, part))
                for k in ks:
                    g.add((part, _TG.shapeOfConstraint, rdflib.URIRef(f"{iri}/constraint/{k}")))

    # --- SHACL Core ------------------------------------------------------------------------------

    def core(self, c: Constraint, base: str) -> tuple[rdflib.Graph, list[rdflib.URIRef]]:
        if isinstance(c, AgeConstraint):
            low, high = c.min_years, c.max_years
            return instantiate(
                "age",
                base,
                {
                    "min_inclusive": decimal(low) if low is not None and c.min_inclusive else None,
                    "min_exclusive": decimal(low) if low is not None and not c.min_inclusive else None,
                    "max_inclusive": decimal(high) if high is not None and c.max_inclusive else None,
                    "max_exclusive": decimal(high) if high is not None and not c.max_inclusive else None,
                    "min": _num(low) if low is not None else None,
                    "max": _num(high) if high is not None else None,
                },
            )
        if isinstance(c, SexConstraint):
            if c.sex == "ALL":
                return rdflib.Graph(), []
            return instantiate(
                "sex", base, {"sex": rdflib.URIRef(code_iri("sex", c.sex)), "sex_word": c.sex.lower()}
            )
        if isinstance(c, PerformanceConstraint):
            karnofsky = c.scale in ("KARNOFSKY", "LANSKY")
            scale = "karnofsky" if karnofsky else "ecog"
            return instantiate(
                "performance",
                base,
                {
                    "low_path": _TG[f"{scale}Min"],
                    "high_path": _TG[f"{scale}Max"],
                    "scale": "Karnofsky" if karnofsky else c.scale,
                    "min": decimal(c.min_value) if c.min_value is not None else None,
                    "max": decimal(c.max_value) if c.max_value is not None else None,
                    "min_text": _num(c.min_value) if c.min_value is not None else None,
                    "max_text": _num(c.max_value) if c.max_value is not None else None,
                },
            )
        if isinstance(c, LifeExpectancyConstraint):
            return instantiate("life_expectancy", base, {})
        if isinstance(c, MalignancyConstraint):
            return instantiate("malignancy", base, {})
        raise TypeError(f"no Core template for {type(c).__name__}")

    # --- SHACL-SPARQL ----------------------------------------------------------------------------

    def params(self, c: Constraint) -> tuple[str, rdflib.URIRef, dict[str, str]]:
        """The family template, the path of its checks and its parameters (SPARQL text)."""
        if isinstance(c, LabConstraint):
            limit = f"{c.comparator} {_num(c.value)}" + (" x ULN" if c.uln_multiple else f" {c.unit or ''}")
            return (
                "lab",
                _TG.hasLabResult,
                {
                    "analyte": _text(c.analyte),
                    "uln": _bool(c.uln_multiple),
                    "comparator": c.comparator,
                    "threshold": str(decimal(c.value)),
                    "check_unit": _bool(c.unit is not None),
                    "unit": _text(c.unit or ""),
                    "limit": _text(limit.strip()),
                },
            )
        if isinstance(c, TherapyConstraint):
            window = c.within_days
            return (
                "therapy",
                _TG.hasTherapyCourse,
                {
                    "therapy": f"<{c.therapy}>",
                    "permitted": ", ".join(f"<{p}>" for p in c.permitted_therapies),
                    "require": _bool(c.sense == "require"),
                    "current": _bool(c.timing == "current"),
                    "timing": "current" if c.timing == "current" else "prior",
                    "line_checked": _bool(c.line is not None),
                    "line": str(c.line or 0),
                    "cycles_checked": _bool(c.min_cycles is not None),
                    "min_cycles": str(c.min_cycles or 0),
                    "outcome_checked": _bool(c.outcome is not None),
                    "outcome": _text(c.outcome or "outcome"),
                    # A course ended on day e is within w days of the assessment day a when e >= a - w,
                    # that is e >= a - floor(w) in whole days.
                    "window_checked": _bool(window is not None),
                    "window_days": str(math.floor(window) if window is not None else 0),
                    "window_text": _num(window or 0),
                    "label": self.label(c.therapy),
                },
            )
        if isinstance(c, DiseaseStateConstraint):
            return (
                "disease_state",
                _TG.hasCondition,
                {
                    "concept": f"<{c.concept}>",
                    "require": _bool(c.sense == "require"),
                    "label": self.label(c.concept),
                    "lesions_checked": _bool(c.min_lesions is not None or c.max_lesions is not None),
                    "min_lesions": str(c.min_lesions if c.min_lesions is not None else -1),
                    "max_lesions": str(c.max_lesions if c.max_lesions is not None else 10**9),
                    "lesion_range": _range(c.min_lesions, c.max_lesions),
                    "organs_checked": _bool(c.min_organs is not None or c.max_organs is not None),
                    "min_organs": str(c.min_organs if c.min_organs is not None else -1),
                    "max_organs": str(c.max_organs if c.max_organs is not None else 10**9),
                    "organ_range": _range(c.min_organs, c.max_organs),
                },
            )
        if isinstance(c, MetastasisSiteConstraint):
            return (
                "metastasis_site",
                _TG.hasMetastaticSite,
                {"site": f"<{c.site}>", "stance": _text(c.stance), "label": self.label(c.site)},
            )
        if isinstance(c, ImagingConstraint):
            return (
                "imaging",
                _TG.hadImaging,
                {
                    "modality": f"<{c.modality}>",
                    "require": _bool(c.sense == "require"),
                    "label": self.label(c.modality),
                },
            )
        if isinstance(c, HistologyConstraint):
            return (
                "histology",
                _TG.hasDiagnosis,
                {
                    "histology": f"<{c.histology}>",
                    "require": _bool(c.sense == "require"),
                    "label": self.label(c.histology),
                },
            )
        raise TypeError(f"no SPARQL template for {type(c).__name__}")

    def sparql(
        self,
        members: list[Constraint],
        kind: str,
        complete: bool,
        base: str,
        number: str,
        criterion_kind: str,
    ) -> tuple[rdflib.Graph, list[rdflib.URIRef]]:
        patterns, path = [], _TG.hasLabResult
        for n, c in enumerate(members, 1):
            name, path, params = self.params(c)
            patterns.append(fragment(name, n, params))
        ns = range(1, len(members) + 1)
        unit = {"single": "unit", "or": "group-or", "branches": "group-branches"}[kind]
        graph, parts = instantiate(
            unit,
            base,
            {
                "path": path,
                "name": f"{criterion_kind} {number}",
                "patterns": "".join(patterns),
                "reasons": "CONCAT(" + ', "; ", '.join(f"?r_{n}" for n in ns) + ")"
                if len(members) > 1
                else "?r_1",
                "any_met": "(" + " || ".join(f'?s_{n} = "MET"' for n in ns) + ")",
                "all_met": "(" + " && ".join(f'?s_{n} = "MET"' for n in ns) + ")",
                "all_not_met": "(" + " && ".join(f'?s_{n} = "NOT_MET"' for n in ns) + ")",
                "complete": _bool(complete),
            },
        )
        # Every line ends with an empty comment: pySHACL's checks of a query for MINUS and SERVICE scan
        # from each line to the next "#", which is quadratic in the length of a query without one.
        for node, query in list(graph.subject_objects(SH.select)):
            lines = str(query).split("\n")
            text = "\n".join(line + " #" if i < len(lines) - 1 else line for i, line in enumerate(lines))
            graph.set((node, SH.select, rdflib.Literal(text)))
        return graph, parts


def _sparql_family(c: Constraint) -> bool:
    return isinstance(
        c,
        LabConstraint
        | TherapyConstraint
        | DiseaseStateConstraint
        | MetastasisSiteConstraint
        | ImagingConstraint
        | HistologyConstraint,
    )


def trial_shapes(trial: Trial, vocabulary: Vocabulary | None = None) -> rdflib.Graph:
    """The SHACL shapes graph of a trial's eligibility: one node shape per criterion with constraints."""
    builder = _Builder(vocabulary or Vocabulary.default())
    numbers = trial.criterion_numbers()
    for c in trial.criteria:
        if c.constraints:
            builder.criterion(trial, c, numbers[(c.kind, c.ordinal)])
    return builder.graph
