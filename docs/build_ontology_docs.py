"""Write docs/ontology.svg (a diagram of the main classes and properties) and docs/ontology.md from ontology/.

The diagram is drawn from the ontology files: each class of the trial model is a box, each object
property whose domain and range are both drawn is an arrow, subclass links are dashed. Run by
``make docs``; a test checks the committed files are what this script writes.

    .venv/bin/python docs/build_ontology_docs.py
"""

from __future__ import annotations

import html

import rdflib
from rdflib.namespace import OWL, RDF, RDFS, SKOS

from trialgraph.namespaces import TG
from trialgraph.resources import ONTOLOGY_DIR, ROOT

DOCS = ROOT / "docs"
TGNS = rdflib.Namespace(TG)

# Where each drawn class sits (column, row): the trial on the left, criteria and constraints in the
# middle, the concept vocabulary on the right. Only layout lives here; names and links come from the files.
LAYOUT: dict[str, tuple[int, int]] = {
    "SourceRecord": (0, 0),
    "ClinicalTrial": (0, 2),
    "Organization": (0, 4),
    "TrialIdentifier": (0, 5),
    "Site": (0, 6),
    "Arm": (1, 0),
    "Intervention": (1, 1),
    "Condition": (1, 2),
    "EligibilityCriterion": (1, 4),
    "InclusionCriterion": (1, 5),
    "ExclusionCriterion": (1, 6),
    "Constraint": (2, 4),
    "TherapyConstraint": (2, 1),
    "DiseaseStateConstraint": (2, 2),
    "LabConstraint": (2, 6),
    "DrugAgent": (3, 0),
    "Therapy": (3, 1),
    "DiseaseConcept": (3, 2),
    "DiseaseState": (3, 3),
    "ImagingModality": (3, 5),
    "CodedValue": (3, 6),
}
BOX_W, BOX_H, COL_W, ROW_H, MARGIN = 190, 34, 290, 70, 30
# Properties whose values are vocabulary classes or agents have no rdfs:range (a class is the value,
# not an instance of one); the diagram draws them to the vocabulary class their values fall under.
VALUE_CLASSES = {
    "therapy": ("TherapyConstraint", "Therapy"),
    "permittedTherapy": ("TherapyConstraint", "Therapy"),
    "concept": ("DiseaseStateConstraint", "DiseaseState"),
    "hasTopic": ("ClinicalTrial", "DiseaseConcept"),
    "modality": ("Constraint", "ImagingModality"),
}


def load() -> rdflib.Graph:
    """The schema files: the trial model and the vocabulary schema."""
    graph = rdflib.Graph()
    for name in ("trialgraph.ttl", "vocabulary.ttl"):
        graph.parse(ONTOLOGY_DIR / name, format="turtle")
    return graph


def _local(term: rdflib.term.Node) -> str:
    return str(term).rsplit("#", 1)[-1]


def _center(name: str) -> tuple[float, float]:
    col, row = LAYOUT[name]
    return MARGIN + col * COL_W + BOX_W / 2, MARGIN + row * ROW_H + BOX_H / 2


def _edge_point(name: str, toward: tuple[float, float]) -> tuple[float, float]:
    cx, cy = _center(name)
    dx, dy = toward[0] - cx, toward[1] - cy
    if dx == 0 and dy == 0:
        return cx, cy
    scale = min(BOX_W / 2 / abs(dx) if dx else float("inf"), BOX_H / 2 / abs(dy) if dy else float("inf"))
    return cx + dx * scale, cy + dy * scale


def diagram(graph: rdflib.Graph) -> str:
    """The SVG text."""
    drawn = {n for n in LAYOUT if (TGNS[n], RDF.type, OWL.Class) in graph}
    width = MARGIN * 2 + 3 * COL_W + BOX_W
    height = MARGIN * 2 + 6 * ROW_H + BOX_H
    out = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
        f'viewBox="0 0 {width} {height}" font-family="sans-serif" font-size="12">',
        '<defs><marker id="arrow" viewBox="0 0 10 10" refX="10" refY="5" markerWidth="7" markerHeight="7" '
        'orient="auto-start-reverse"><path d="M 0 0 L 10 5 L 0 10 z" fill="#444"/></marker></defs>',
        '<rect width="100%" height="100%" fill="white"/>',
    ]
    edges: list[tuple[str, str, str, bool]] = []
    for prop in sorted(set(graph.subjects(RDF.type, OWL.ObjectProperty))):
        domain, range_ = graph.value(prop, RDFS.domain), graph.value(prop, RDFS.range)
        if domain is not None and range_ is not None and _local(domain) in drawn and _local(range_) in drawn:
            edges.append((_local(domain), _local(range_), "tg:" + _local(prop), False))
    for prop, (source, target) in VALUE_CLASSES.items():
        if (TGNS[prop], RDF.type, OWL.ObjectProperty) in graph:
            edges.append((source, target, "tg:" + prop, False))
    for cls in sorted(drawn):
        for parent in graph.objects(TGNS[cls], RDFS.subClassOf):
            if _local(parent) in drawn:
                edges.append((cls, _local(parent), "", True))
    merged: dict[tuple[str, str, bool], list[str]] = {}
    for source, target, label, dashed in edges:
        merged.setdefault((source, target, dashed), []).append(label)
    for (source, target, dashed), labels in merged.items():
        label = ", ".join(sorted(filter(None, labels)))
        if source == target:
            continue
        start = _edge_point(source, _center(target))
        end = _edge_point(target, _center(source))
        style = ' stroke-dasharray="5,4"' if dashed else ""
        out.append(
            f'<line x1="{start[0]:.0f}" y1="{start[1]:.0f}" x2="{end[0]:.0f}" y2="{end[1]:.0f}" '
            f'stroke="#444"{style} marker-end="url(#arrow)"/>'
        )
        if label:
            mx, my = (start[0] + end[0]) / 2, (start[1] + end[1]) / 2
            out.append(
                f'<text x="{mx:.0f}" y="{my - 3:.0f}" text-anchor="middle" fill="#225" '
                f'font-size="10">{html.escape(label)}</text>'
            )
    for name in sorted(drawn):
        col, row = LAYOUT[name]
        x, y = MARGIN + col * COL_W, MARGIN + row * ROW_H
        fill = "#e8f0fe" if col < 3 else "#fef3e0"
        out.append(
            f'<rect x="{x}" y="{y}" width="{BOX_W}" height="{BOX_H}" rx="6" fill="{fill}" stroke="#335"/>'
        )
        out.append(
            f'<text x="{x + BOX_W / 2:.0f}" y="{y + BOX_H / 2 + 4:.0f}" text-anchor="middle">'
            f"tg:{html.escape(name)}</text>"
        )
    out.append("</svg>")
    return "\n".join(out) + "\n"


def reference(graph: rdflib.Graph) -> str:
    """docs/ontology.md: the diagram, then every class and property of the trial model with its definition."""
    schema = rdflib.Graph().parse(ONTOLOGY_DIR / "trialgraph.ttl", format="turtle")
    lines = [
        "# The trialgraph ontology",
        "",
        "Generated by `docs/build_ontology_docs.py` from `ontology/trialgraph.ttl` (run `make docs`).",
        "Namespace `tg:` = `https://w3id.org/trialgraph/ontology#`; concepts `tgc:` =",
        "`https://w3id.org/trialgraph/concept/`. Each trial is a named graph",
        "`https://w3id.org/trialgraph/trial/{ID}`; controlled values are `tg:{enumeration}-{CODE}` with the",
        "ClinicalTrials.gov API v2 code (`tg:phase-PHASE2`). Solid arrows are object properties",
        "(domain to range), dashed ones are subclass links.",
        "",
        "![main classes and properties](ontology.svg)",
        "",
    ]
    for title, kinds in (
        ("Classes", (OWL.Class,)),
        ("Object properties", (OWL.ObjectProperty,)),
        ("Datatype properties", (OWL.DatatypeProperty,)),
    ):
        terms = sorted(
            {s for k in kinds for s in schema.subjects(RDF.type, k) if str(s).startswith(TG)}, key=_local
        )
        terms = [t for t in terms if (t, RDF.type, OWL.NamedIndividual) not in schema]
        lines += [f"## {title}", "", "| term | label | definition |", "|---|---|---|"]
        for t in terms:
            label = schema.value(t, RDFS.label) or ""
            definition = " ".join(str(schema.value(t, SKOS.definition) or "").split()).replace("|", "\\|")
            lines.append(f"| `tg:{_local(t)}` | {label} | {definition} |")
        lines.append("")
    return "\n".join(lines)


def main() -> None:
    graph = load()
    (DOCS / "ontology.svg").write_text(diagram(graph), encoding="utf-8")
    (DOCS / "ontology.md").write_text(reference(graph), encoding="utf-8")


if __name__ == "__main__":
    main()
