"""Generated documentation stays in step with the ontology it is generated from."""

from __future__ import annotations

import importlib.util
from types import ModuleType

from trialgraph.resources import ROOT


def _builder(name: str = "build_ontology_docs") -> ModuleType:
    spec = importlib.util.spec_from_file_location(name, ROOT / "docs" / f"{name}.py")
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


def test_query_cookbook_is_current() -> None:
    builder = _builder("build_query_docs")
    assert (ROOT / "docs" / "queries.md").read_text(encoding="utf-8") == builder.cookbook(
        builder.examples()
    ), "run make docs"


def test_the_cookbook_shows_every_query_with_its_result() -> None:
    text = (ROOT / "docs" / "queries.md").read_text(encoding="utf-8")
    for path in sorted((ROOT / "queries").glob("*.rq")):
        assert f"## {path.stem}\n" in text
    assert "| trial:NCT06592612 | NCT06592612 |" in text
