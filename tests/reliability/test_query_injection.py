"""Query parameters cannot inject SPARQL: hostile values to every library query, by API, CLI and endpoint.

A value is either refused with ``ParameterError`` (exit code 2 and one line on the command line) or
bound as exactly one RDF term in its own ``VALUES`` blocks, the rest of the query unchanged; the
query then runs (an "invalid SPARQL" error would mean a value broke out of its term). Afterwards
the store holds exactly the quads it held before.
"""

from __future__ import annotations

import re
import subprocess
import threading
from collections.abc import Callable, Iterator
from pathlib import Path

import pyoxigraph as ox
import pytest
from click.testing import CliRunner

from trialgraph import queries
from trialgraph.api import TrialGraph
from trialgraph.cli import EXIT_ERROR, main
from trialgraph.queries import LibraryQuery, ParameterError
from trialgraph.remote import RemoteGraph
from trialgraph.serve import make_server

HOSTILE = [
    "} ; DROP ALL ; {",
    '" } ; DROP ALL ; { "',
    "' } ; DROP ALL ; { '",
    '"} ; DROP ALL ; INSERT DATA { <urn:x> <urn:y> "z" } ; SELECT * { "',
    '""" } ; DROP ALL ; { """',
    "> } ; DROP ALL ; { <",
    "tgc:PD1Inhibitor> } ; DROP ALL ; { <urn:x",
    "<urn:x> } ; CLEAR ALL ; { <urn:y>",
    "https://example.org/a> } DROP ALL { <https://example.org/b",
    "1 } ; DROP ALL ; { 1",
    "1.5 } DROP ALL {",
    "true } ; DROP ALL ; { true",
    '\\" } ; DROP ALL ; { \\"',
    "\\u0022 } ; DROP ALL ; { \\u0022",
    "x\n} ; DROP ALL ; {\n",
    "x # } ; DROP ALL ; {",
    "VALUES ?score { 0 }",  # the text of another parameter's block
    "France\x00} ; DROP ALL ; {",
    "{{}}{{",
    "?trial ?p ?o",
]
"""Values that try to end their term or block and start another operation."""

HOSTILE_NAMES = ["} ; DROP ALL ; {", "therapy } ; DROP ALL ; {", "scale\n", "?x"]


@pytest.fixture(scope="module")
def store_dir(tmp_path_factory: pytest.TempPathFactory, seeds_dir: Path) -> Path:
    """An on-disk store of the five examples (closed again)."""
    path = tmp_path_factory.mktemp("injection") / "store"
    assert TrialGraph(path).ingest([seeds_dir]).ok
    return path


def snapshot(store_dir: Path) -> frozenset[ox.Quad]:
    """Every quad of the store, read through a read-only handle."""
    return frozenset(TrialGraph(store_dir, read_only=True).store.quads())


def expected_text(query: LibraryQuery, name: str, term: ox.NamedNode | ox.Literal) -> str:
    """The query text with each of ``name``'s own ``VALUES`` blocks holding ``term`` alone."""
    blocks = re.findall(rf"VALUES\s+\?{re.escape(name)}\s*\{{[^{{}}]*\}}", query.text)
    assert blocks, f"{query.name}: no VALUES block for {name}"
    text = query.text
    for block in blocks:
        text = text.replace(block, f"VALUES ?{name} {{ {term} }}")
    return text


def one_term(term: ox.NamedNode | ox.Literal) -> ox.NamedNode | ox.Literal:
    """The term serialised as the query holds it, parsed back: a single term, or parsing fails."""
    (triple,) = ox.parse(f"<urn:s> <urn:p> {term} .", format=ox.RdfFormat.N_TRIPLES)
    obj = triple.object
    assert isinstance(obj, ox.NamedNode | ox.Literal)
    return obj


def bound_or_refused(query: LibraryQuery, name: str, value: str) -> str | None:
    """The bound text, checked term by term; None when the value is refused with ParameterError."""
    try:
        text = query.bind(**{name: value})
    except ParameterError as exc:
        assert name in str(exc)
        return None
    (parameter,) = (p for p in query.parameters if p.name == name)
    term = parameter.term(value)
    assert one_term(term) == term
    if parameter.type == "string":
        assert isinstance(term, ox.Literal) and term.value == value.strip()
    assert text == expected_text(query, name, term), f"{query.name}: {name}={value!r} changed the query"
    return text


def cases() -> Iterator[tuple[LibraryQuery, str, str]]:
    """Every parameter of every library query with every hostile value."""
    for query in queries.library():
        for parameter in query.parameters:
            for value in HOSTILE:
                yield query, parameter.name, value


def test_binding_keeps_each_hostile_value_inside_one_term(record: Callable[..., None]) -> None:
    bound = refused = 0
    for query, name, value in cases():
        if bound_or_refused(query, name, value) is None:
            refused += 1
        else:
            bound += 1
    assert bound > 0 and refused > 0
    record(library_queries=len(queries.library()), hostile_values=len(HOSTILE), bound=bound, refused=refused)


def test_a_string_holding_another_block_is_not_rewritten(tmp_path: Path) -> None:
    """Binding is one pass: the second parameter must not rewrite text inside the first one's value."""
    # no library query has a free string beside another parameter any more (scale and sex list
    # their values), so a query written for the test
    path = tmp_path / "two.rq"
    path.write_text(
        "# name: two\n# question: Two?\n# param: label string = a ; text\n# param: score integer = 1 ; n\n"
        'SELECT ?label ?score WHERE { VALUES ?label { "a" } VALUES ?score { 1 } }\n',
        encoding="utf-8",
    )
    query = queries.load_file(path)
    text = query.bind(label="VALUES ?score { 0 }", score=1)
    assert 'VALUES ?label { "VALUES ?score { 0 }" }' in text
    assert text.count("VALUES ?score {") == 2  # its own block, and the text inside the string


def test_hostile_values_through_the_api_leave_the_store_unchanged(
    store_dir: Path, record: Callable[..., None]
) -> None:
    before = snapshot(store_dir)
    tg = TrialGraph(store_dir)  # read-write, as a program would open it
    ran = refused = 0
    for query, name, value in cases():
        try:
            result = tg.query(query.name, **{name: value})
        except ParameterError:
            refused += 1
            continue
        ran += 1
        assert result.boolean is not None or isinstance(result.rows, list)
    for query in queries.library():
        for bad_name in HOSTILE_NAMES:
            with pytest.raises(ParameterError, match="has no parameter"):
                tg.query(query.name, **{bad_name: "x"})
    del tg
    assert snapshot(store_dir) == before
    record(api_calls=ran + refused, ran=ran, refused=refused, quads_before=len(before), store_unchanged=True)


def test_hostile_values_through_the_cli_leave_the_store_unchanged(
    store_dir: Path, record: Callable[..., None]
) -> None:
    before = snapshot(store_dir)
    runner = CliRunner()
    ran = refused = 0
    for query, name, value in cases():
        result = runner.invoke(
            main,
            ["--store", str(store_dir), "query", query.name, "-p", f"{name}={value}", "--format", "json"],
        )
        assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
        if result.exit_code == 0:
            ran += 1
            assert result.output.lstrip().startswith("{")
        else:
            refused += 1
            assert result.exit_code == EXIT_ERROR, result.output
            assert f"parameter {name}" in result.output and "invalid SPARQL" not in result.output
    assert snapshot(store_dir) == before
    record(cli_calls=ran + refused, ran=ran, refused=refused, store_unchanged=True)


def test_the_command_line_in_its_own_process(
    store_dir: Path, cli: Callable[..., subprocess.CompletedProcess[str]]
) -> None:
    before = snapshot(store_dir)
    for name, value in [("country", "} ; DROP ALL ; {"), ("country", '" } ; DROP ALL ; { "')]:
        done = cli(store_dir, "query", "recruiting-trials-by-country", "-p", f"{name}={value}")
        assert done.returncode == 0, done.stderr
        assert "Traceback" not in done.stderr
    done = cli(store_dir, "query", "prior-therapy-stance", "-p", "therapy=} ; DROP ALL ; {")
    assert done.returncode == EXIT_ERROR
    assert done.stderr.strip().startswith("error: parameter therapy:"), done.stderr
    assert snapshot(store_dir) == before


def test_hostile_values_to_a_writable_endpoint_change_nothing(store_dir: Path, tmp_path: Path) -> None:
    """The remote path binds the same way; even an endpoint that takes updates is left as it was."""
    before = snapshot(store_dir)
    server = make_server(store_dir, port=0, writable=True, timeout=20)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        host, port = server.server_address[:2]
        remote = RemoteGraph(f"http://{host!s}:{port}/sparql")
        for query, name, value in cases():
            parameter = next(p for p in query.parameters if p.name == name)
            if parameter.type != "string":
                continue
            if parameter.choices:  # a value outside the list is refused before anything is sent
                with pytest.raises(ParameterError, match="expected one of"):
                    remote.query(query.name, **{name: value})
                continue
            rows = remote.query(query.name, **{name: value}).rows
            assert isinstance(rows, list)
    finally:
        server.shutdown()
        server.server_close()
        thread.join(5)
    assert snapshot(store_dir) == before
