"""Query results: the rows and typed values read from the engine's TSV text are the engine's terms.

:meth:`QueryResult.values` reads the text pyoxigraph writes, not its terms, and the rows are parsed
back from that text; these tests hold both to the terms the engine's solutions give.
"""

from __future__ import annotations

import math
from decimal import Decimal
from pathlib import Path
from typing import Any

import pyoxigraph as ox
import pytest

from trialgraph import queries
from trialgraph.api import TrialGraph
from trialgraph.errors import StoreError
from trialgraph.namespaces import XSD
from trialgraph.resources import EXAMPLES_DIR, SHARED_DATA_DIR
from trialgraph.results import QueryResult, python_value
from trialgraph.store import TrialStore

EX = "https://example.org/"


def _typed(value: str, datatype: str) -> ox.Literal:
    return ox.Literal(value, datatype=ox.NamedNode(XSD + datatype))


# each object with the value python_value gives it, written out from the literal
OBJECTS: list[tuple[ox.NamedNode | ox.BlankNode | ox.Literal, Any]] = [
    (_typed("1", "integer"), 1),
    (_typed("012", "integer"), 12),
    (_typed("-3", "integer"), -3),
    (_typed("+7", "integer"), 7),
    (_typed("5", "int"), 5),
    (_typed(" 1", "integer"), 1),  # XSD collapses the spaces around a number, as int() does
    (_typed("abc", "integer"), "abc"),
    (_typed("1.50", "decimal"), Decimal("1.5")),
    (_typed(".5", "decimal"), Decimal("0.5")),
    (_typed("1.", "decimal"), Decimal("1")),
    (_typed("1.5e3", "double"), 1500.0),
    (_typed("1E0", "double"), 1.0),
    (_typed("INF", "double"), math.inf),
    (_typed("0.25", "float"), 0.25),
    (_typed("true", "boolean"), True),
    (_typed("1", "boolean"), True),
    (_typed("false", "boolean"), False),
    (_typed("2024-01-01", "date"), "2024-01-01"),
    (ox.Literal("a", datatype=ox.NamedNode(EX + "dt")), "a"),
    (ox.Literal(""), ""),
    (ox.Literal('x\ty\n"z\\w\r'), 'x\ty\n"z\\w\r'),
    (ox.Literal("a\\tb"), "a\\tb"),
    (ox.Literal('ends with a quote"'), 'ends with a quote"'),
    (ox.Literal('"^^<not a datatype>'), '"^^<not a datatype>'),
    (ox.Literal("≥ 1.5 × ULN\u2028é\x01\x85 \U0001f600"), "≥ 1.5 × ULN\u2028é\x01\x85 \U0001f600"),
    (ox.Literal("hi", language="en-GB"), "hi"),
    (ox.Literal('"@fr', language="fr"), '"@fr'),
    (ox.NamedNode(EX + "x?a=1&b=%20#frag"), EX + "x?a=1&b=%20#frag"),
    (ox.BlankNode("b1"), "b1"),
]


@pytest.fixture(scope="module")
def store() -> TrialStore:
    """An in-memory store holding each of OBJECTS as the object of a subject of its own."""
    store = TrialStore(None)
    g = ox.NamedNode(EX + "g")
    quads = [
        ox.Quad(ox.NamedNode(f"{EX}s{i:02d}"), ox.NamedNode(EX + "p"), o, g)
        for i, (o, _) in enumerate(OBJECTS)
    ]
    store.replace_graph(g, quads)
    return store


def _term_rows(store: TrialStore, sparql: str) -> list[dict[str, Any]]:
    """The rows as the engine's solutions give them, term by term."""
    solutions = store.query(sparql)
    variables = [v.value for v in solutions.variables]
    return [dict(zip(variables, s, strict=True)) for s in solutions]


EVERY_OBJECT = f"SELECT ?s ?o ?none WHERE {{ ?s <{EX}p> ?o OPTIONAL {{ ?s <{EX}none> ?none }} }} ORDER BY ?s"


def test_every_kind_of_term_reads_back_as_the_engine_gives_it(store: TrialStore) -> None:
    result = store.query_result(EVERY_OBJECT)
    terms = _term_rows(store, EVERY_OBJECT)
    assert len(result) == len(OBJECTS)
    values = result.values()
    assert [row["o"] for row in values] == [value for _, value in OBJECTS]
    # types too: 1.5 == Decimal("1.5")
    assert [type(row["o"]) for row in values] == [type(value) for _, value in OBJECTS]
    assert all(row["none"] is None for row in values)
    assert values == [{k: python_value(t) for k, t in row.items()} for row in terms]
    assert result.rows == terms
    assert [row["s"] for row in values] == [f"{EX}s{i:02d}" for i in range(len(OBJECTS))]


def test_computed_terms_read_back_as_the_engine_gives_them(store: TrialStore) -> None:
    sparql = f"""PREFIX xsd: <{XSD}>
    SELECT ?int ?lang ?ratio ?double ?nan ?negative ?joined ?iri ?empty WHERE {{
      BIND(STRDT("5", xsd:int) AS ?int) BIND(STRLANG("tab\\there", "fr") AS ?lang) BIND(1 / 4 AS ?ratio)
      BIND(1e0 / 3 AS ?double) BIND(xsd:double("NaN") AS ?nan) BIND(-0.0 AS ?negative)
      BIND(CONCAT("a\\n", "\\"b\\"") AS ?joined) BIND(IRI("{EX}c") AS ?iri) BIND("" AS ?empty)
    }}"""
    [row] = store.query_result(sparql).values()
    [terms] = _term_rows(store, sparql)
    assert math.isnan(row.pop("nan")) and math.isnan(python_value(terms.pop("nan")))
    assert row == {k: python_value(t) for k, t in terms.items()}
    assert row["int"] == 5 and row["lang"] == "tab\there" and row["ratio"] == Decimal("0.25")
    assert row["double"] == pytest.approx(1 / 3) and row["joined"] == 'a\n"b"' and row["empty"] == ""


def test_answers_without_rows_or_variables(store: TrialStore) -> None:
    none = store.query_result(f"SELECT ?s WHERE {{ ?s <{EX}none> ?o }}")
    assert (none.variables, len(none), none.values(), none.rows) == (["s"], 0, [], [])
    empty = store.query_result("SELECT * WHERE {}")  # one solution binding nothing
    assert (empty.variables, len(empty), empty.values(), empty.rows) == ([], 1, [{}], [{}])
    assert store.query_result(f"ASK {{ ?s <{EX}p> 1 }}").boolean is True


def test_a_triple_term_is_given_in_n_triples_syntax(store: TrialStore) -> None:
    result = store.query_result(f'SELECT ?t WHERE {{ BIND(TRIPLE(<{EX}a>, <{EX}b>, "c") AS ?t) }}')
    assert result.values() == [{"t": f'<{EX}a> <{EX}b> "c"'}]


def test_a_query_giving_triples_is_refused(store: TrialStore) -> None:
    with pytest.raises(StoreError, match="a SELECT or ASK query was expected; this query gives triples"):
        store.query_result("CONSTRUCT { ?s ?p ?o } WHERE { ?s ?p ?o }")


def test_results_made_from_rows_give_their_values() -> None:
    result = QueryResult(["n", "s"], [{"n": _typed("3", "integer"), "s": None}])
    assert (len(result), result.values()) == (1, [{"n": 3, "s": None}])


def test_every_library_query_reads_back_as_its_terms_over_the_real_records(tmp_path: Path) -> None:
    if not (SHARED_DATA_DIR / "ctgov_xml").is_dir():
        pytest.skip("the shared data (../shared/data) is not there")
    tg = TrialGraph(tmp_path / "store")
    tg.ingest([SHARED_DATA_DIR / "ctgov_v2", SHARED_DATA_DIR / "ctgov_xml", EXAMPLES_DIR / "trials"])
    compared = 0
    for query in queries.library():
        sparql = query.bind()
        result = tg.query(query.name)
        terms = _term_rows(tg.store, sparql)
        assert result.values() == [{k: python_value(t) for k, t in row.items()} for row in terms], query.name
        assert result.rows == terms, query.name
        compared += len(terms) * len(result.variables)
    assert compared > 5_000  # not vacuous: the library's answers over 214 real records
