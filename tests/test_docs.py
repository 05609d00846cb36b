"""Generated documentation stays in step with the ontology it is generated from."""

from __future__ import annotations

import importlib.util
from types import ModuleType

from trialgraph.resources import ROOT


def _builder() -> ModuleType:
    spec = importlib.util.spec_from_file_location(
        "build_ontology_docs", ROOT / "docs" / "build_ontology_docs.py"
    )
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_ontology_docs_are_current() -> None:
    builder = _builder()
    graph = builder.load()
    assert (ROOT / "docs" / "ontology.svg").read_text(encoding="utf-8") == builder.diagram(graph), (
        "run make docs"
    )
    assert (ROOT / "docs" / "ontology.md").read_text(encoding="utf-8") == builder.reference(graph), (
        "run make docs"
    )


def test_the_diagram_draws_the_main_classes_and_links() -> None:
    svg = (ROOT / "docs" / "ontology.svg").read_text(encoding="utf-8")
    for term in (
        "tg:ClinicalTrial",
        "tg:EligibilityCriterion",
        "tg:TherapyConstraint",
        "tg:hasCriterion",
        "tg:therapy",
    ):
        assert term in svg
