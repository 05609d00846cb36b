"""The local SPARQL endpoint: protocol, formats, read-only by default, limits, no file serving."""

from __future__ import annotations

import csv
import io
import json
import threading
import urllib.error
import urllib.parse
import urllib.request
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from pathlib import Path

import pyoxigraph as ox
import pytest

from trialgraph import queries
from trialgraph.api import TrialGraph
from trialgraph.remote import RemoteGraph
from trialgraph.serve import EndpointServer, make_server
from trialgraph.store import TrialStore

COUNT = "SELECT (COUNT(?t) AS ?n) WHERE { ?t a <https://w3id.org/trialgraph/ontology#ClinicalTrial> }"
INSERT = "INSERT DATA { GRAPH <https://example.org/g> { <https://example.org/s> <https://example.org/p> 1 } }"
SLOW = "SELECT (COUNT(*) AS ?n) WHERE { ?a ?b ?c . ?d ?e ?f . ?g ?h ?i }"


@pytest.fixture(scope="module")
def store_dir(tmp_path_factory: pytest.TempPathFactory, seeds_dir: Path) -> Path:
    """An on-disk store of the five examples (closed again)."""
    path = tmp_path_factory.mktemp("serve") / "store"
    tg = TrialGraph(path)
    assert tg.ingest([seeds_dir]).ok
    return path


def start(server: EndpointServer) -> tuple[str, threading.Thread]:
    """Serve in a thread; the base URL."""
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    host, port = server.server_address[:2]
    return f"http://{host!s}:{port}", thread


@pytest.fixture(scope="module")
def endpoint(store_dir: Path) -> Iterator[str]:
    """A read-only endpoint on a free port, with a 2 s time limit and at most 1,000 rows."""
    server = make_server(store_dir, port=0, timeout=2.0, max_rows=1000)
    base, thread = start(server)
    yield base
    server.shutdown()
    server.server_close()
    thread.join(5)


def fetch(
    url: str, data: bytes | None = None, headers: dict[str, str] | None = None, method: str | None = None
):  # type: ignore[no-untyped-def]
    """(status, headers, body) of a request, HTTP errors included."""
    request = urllib.request.Request(url, data=data, headers=headers or {}, method=method)
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status, response.headers, response.read()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.headers, exc.read()


def get(base: str, query: str, accept: str = "application/sparql-results+json", **params: str):  # type: ignore[no-untyped-def]
    """GET /sparql?query=..."""
    qs = urllib.parse.urlencode({"query": query, **params})
    return fetch(f"{base}/sparql?{qs}", headers={"Accept": accept})


def test_binds_loopback_by_default(store_dir: Path) -> None:
    """The default host is 127.0.0.1."""
    server = make_server(store_dir, port=0)
    try:
        assert server.server_address[0] == "127.0.0.1"
    finally:
        server.server_close()


def test_query_page(endpoint: str) -> None:
    """``/`` is an HTML form posting to /sparql."""
    status, headers, body = fetch(endpoint + "/")
    assert status == 200 and headers["Content-Type"].startswith("text/html")
    assert b'<form action="/sparql"' in body and b"<textarea" in body


def test_results_by_accept(endpoint: str) -> None:
    """JSON, XML, CSV and TSV by Accept; JSON for a browser's */*."""
    status, headers, body = get(endpoint, COUNT)
    assert status == 200 and headers["Content-Type"].startswith("application/sparql-results+json")
    assert json.loads(body)["results"]["bindings"][0]["n"]["value"] == "5"
    status, headers, body = get(endpoint, COUNT, "application/sparql-results+xml")
    ns = "{http://www.w3.org/2005/sparql-results#}"
    literal = ET.fromstring(body).find(f"{ns}results/{ns}result/{ns}binding/{ns}literal")
    assert status == 200 and literal is not None and literal.text == "5"
    status, _, body = get(endpoint, COUNT, "text/csv")
    assert status == 200 and list(csv.reader(io.StringIO(body.decode()))) == [["n"], ["5"]]
    status, _, body = get(endpoint, COUNT, "text/tab-separated-values")
    assert status == 200 and body.decode().splitlines()[0] == "?n"
    status, _, body = get(endpoint, COUNT, "text/html,application/xhtml+xml,*/*;q=0.8")
    assert status == 200 and json.loads(body)["head"]["vars"] == ["n"]
    status, _, body = get(endpoint, COUNT, "text/html", format="csv")
    assert status == 200 and body.decode().startswith("n\r\n")
    assert get(endpoint, COUNT, "image/png")[0] == 406


def test_ask_and_construct(endpoint: str) -> None:
    """ASK gives a boolean; CONSTRUCT gives Turtle (or N-Triples by Accept)."""
    status, _, body = get(endpoint, "ASK { ?s ?p ?o }")
    assert status == 200 and json.loads(body)["boolean"] is True
    construct = "CONSTRUCT { ?t a ?c } WHERE { ?t a ?c } LIMIT 3"
    status, headers, body = get(endpoint, construct, "application/n-triples")
    assert status == 200 and headers["Content-Type"].startswith("application/n-triples")
    assert len(list(ox.parse(body, format=ox.RdfFormat.N_TRIPLES))) == 3


def test_post_form_and_direct(endpoint: str) -> None:
    """POST as a form and as application/sparql-query."""
    form = urllib.parse.urlencode({"query": COUNT}).encode()
    for data, media in (
        (form, "application/x-www-form-urlencoded"),
        (COUNT.encode(), "application/sparql-query"),
    ):
        status, _, body = fetch(
            endpoint + "/sparql", data, {"Content-Type": media, "Accept": "application/sparql-results+json"}
        )
        assert status == 200 and json.loads(body)["results"]["bindings"][0]["n"]["value"] == "5"


def test_read_only_rejects_update_and_keeps_the_store_unlocked(endpoint: str, store_dir: Path) -> None:
    """SPARQL Update gets 403 (form or direct) and changes nothing; the store is not opened for writing."""
    update = INSERT
    form = urllib.parse.urlencode({"update": update}).encode()
    for data, media in (
        (form, "application/x-www-form-urlencoded"),
        (update.encode(), "application/sparql-update"),
    ):
        status, _, body = fetch(endpoint + "/sparql", data, {"Content-Type": media})
        assert status == 403 and b"read-only" in body
    assert get(endpoint, "ASK { GRAPH <https://example.org/g> { ?s ?p ?o } }")[2].find(b"false") > 0
    assert get(endpoint, "INSERT DATA { <https://example.org/s> <https://example.org/p> 1 }")[0] == 400
    writer = TrialStore(store_dir)  # fails ("locked") if the endpoint held the store for writing
    del writer


def test_invalid_query_is_a_400(endpoint: str) -> None:
    """A syntax error is the client's."""
    status, _, body = get(endpoint, "SELECT WHERE {")
    assert status == 400 and b"invalid SPARQL" in body


@pytest.mark.parametrize(
    "path",
    ["/README.md", "/../pyproject.toml", "/sparql/../pyproject.toml", "/%2e%2e/etc/passwd", "/favicon.ico"],
)
def test_serves_no_files(endpoint: str, path: str) -> None:
    """Only / and /sparql answer."""
    status, _, body = fetch(endpoint + path)
    assert status in (400, 404), path
    assert b"[project]" not in body and b"root:" not in body


def test_no_graph_store_protocol(endpoint: str) -> None:
    """PUT and DELETE are refused."""
    assert fetch(endpoint + "/sparql?graph=x", b"", {"Content-Type": "text/turtle"}, method="PUT")[0] == 405
    assert fetch(endpoint + "/sparql?graph=x", method="DELETE")[0] == 405


def test_result_size_is_bounded(endpoint: str) -> None:
    """At most max_rows rows, and a header saying the result was cut."""
    status, headers, body = get(endpoint, "SELECT * WHERE { ?s ?p ?o }")
    assert status == 200 and headers["X-SPARQL-MaxRows"] == "1000"
    assert len(json.loads(body)["results"]["bindings"]) == 1000
    status, headers, _ = get(endpoint, COUNT)
    assert "X-SPARQL-MaxRows" not in headers


def test_query_time_is_bounded_and_the_endpoint_recovers(endpoint: str) -> None:
    """A query past the time limit is stopped with 503; the next query is answered."""
    status, _, body = get(endpoint, SLOW)
    assert status == 503 and b"limit" in body
    status, _, body = get(endpoint, COUNT)
    assert status == 200


def test_every_library_query_through_the_endpoint(endpoint: str, store_dir: Path) -> None:
    """The query library over HTTP (SPARQLWrapper) gives the embedded store's rows."""
    local = TrialGraph(store_dir, read_only=True)
    remote = RemoteGraph(endpoint + "/sparql")
    for q in queries.library():
        assert remote.query(q.name).to_json() == local.query(q.name).to_json(), q.name


def test_writable_endpoint_accepts_update(tmp_path: Path) -> None:
    """--writable: an update is applied, seen by the next query, and renews the store's stamp."""
    store = TrialStore(tmp_path / "w")
    store.replace_graph(ox.NamedNode("https://example.org/g"), [])
    before = store.stamp
    del store
    server = make_server(tmp_path / "w", port=0, writable=True)
    base, thread = start(server)
    try:
        update = INSERT
        status, _, _ = fetch(base + "/sparql", update.encode(), {"Content-Type": "application/sparql-update"})
        assert status == 204
        reader = TrialStore(tmp_path / "w", read_only=True)
        assert reader.stamp is not None and reader.stamp != before  # caches of the old content: stale
        assert before is not None and reader.changed_since(before) is None  # nor brought up to date
        status, _, body = get(base, "SELECT ?o WHERE { ?s <https://example.org/p> ?o }")
        assert json.loads(body)["results"]["bindings"][0]["o"]["value"] == "1"
        assert b"Update is enabled" in fetch(base + "/")[2]
    finally:
        server.shutdown()
        server.server_close()
        thread.join(5)


def test_missing_store_is_an_error(tmp_path: Path) -> None:
    """No store, no server."""
    from trialgraph.errors import StoreError

    with pytest.raises(StoreError, match="no store"):
        make_server(tmp_path / "absent", port=0)


def test_push_falls_back_from_graph_store_protocol_to_update(tmp_path: Path, store_dir: Path) -> None:
    """``--protocol auto``: this endpoint refuses PUT (405), so the push continues over SPARQL Update."""
    from trialgraph.remote import Endpoint, HttpClient, Pusher

    target = tmp_path / "target"
    TrialStore(target).flush()
    server = make_server(target, port=0, writable=True)
    base, thread = start(server)
    try:
        source = TrialGraph(store_dir, read_only=True)
        url = base + "/sparql"
        pusher = Pusher(Endpoint(url, url, url), HttpClient(retries=0), protocol="auto", batch_size=2)
        report = pusher.push(source.store, source.push_graphs())
        assert report.ok and report.protocol == "update" and len(report.sent) == 6, report.summary()
        remote = RemoteGraph(url)
        for q in queries.library():
            assert remote.query(q.name).to_json() == source.query(q.name).to_json(), q.name
    finally:
        server.shutdown()
        server.server_close()
        thread.join(5)
