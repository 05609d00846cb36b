"""Every data file the code loads by name is well formed: queries prepare, shapes conform to SHACL."""

from __future__ import annotations

from pathlib import Path

import pyoxigraph as ox
import pytest
import rdflib
from pyshacl import validate
from rdflib.plugins.sparql import prepareQuery

from trialgraph import queries
from trialgraph.resources import QUERIES_DIR, ROOT, SHAPES_DIR

# the library, and the scale benchmark's floor query
QUERY_FILES = sorted(QUERIES_DIR.glob("*.rq")) + sorted((ROOT / "benchmarks").glob("*.rq"))
SHAPE_FILES = sorted(SHAPES_DIR.glob("*.ttl"))
# Eligibility templates have placeholders where terms go: they parse here, and the shapes generated
# from them pass shacl-shacl in tests/eligibility/test_shapes.py.
TEMPLATE_FILES = sorted((SHAPES_DIR / "eligibility").glob("*.ttl"))


@pytest.mark.parametrize("path", QUERY_FILES, ids=[p.stem for p in QUERY_FILES])
def test_query_parses_on_both_engines(path: Path) -> None:
    text = path.read_text(encoding="utf-8")
    prepareQuery(text)  # rdflib's SPARQL 1.1 parser
    list(ox.Store().query(text))  # oxigraph parses and runs it on an empty store


@pytest.mark.parametrize("path", QUERY_FILES, ids=[p.stem for p in QUERY_FILES])
def test_query_header_names_and_asks(path: Path) -> None:
    query = queries.load_file(path)
    assert query.name == path.stem
    assert query.question.endswith("?"), "the question is one line ending in '?'"


def test_library_is_not_empty() -> None:
    assert len(QUERY_FILES) >= 2


@pytest.mark.parametrize("path", SHAPE_FILES, ids=[p.name for p in SHAPE_FILES])
def test_shapes_pass_shacl_shacl(path: Path) -> None:
    shapes = rdflib.Graph().parse(path)
    # meta_shacl validates the shapes graph against SHACL's own shapes (shacl-shacl) and raises
    # when it does not conform; the empty data graph then conforms trivially.
    conforms, _, text = validate(rdflib.Graph(), shacl_graph=shapes, meta_shacl=True)
    assert conforms, text


@pytest.mark.parametrize("path", TEMPLATE_FILES, ids=[p.name for p in TEMPLATE_FILES])
def test_shape_templates_parse(path: Path) -> None:
    assert len(rdflib.Graph().parse(path)) > 0
