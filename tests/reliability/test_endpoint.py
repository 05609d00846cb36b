"""The local endpoint under hostile requests and under load, on loopback.

``SERVICE`` and ``LOAD`` are refused and, however spelled, reach no network (a recording listener
on loopback counts connections); malformed, oversized and path-traversal requests get a 4xx and
the endpoint keeps answering; 8 concurrent clients get the same answers as the embedded store,
with throughput and latency printed against one client in the same run.
"""

from __future__ import annotations

import json
import socket
import statistics
import subprocess
import sys
import textwrap
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable, Iterator
from pathlib import Path

import pyoxigraph as ox
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from tests.reliability.support import scaled

from trialgraph import queries
from trialgraph.api import TrialGraph
from trialgraph.remote import RemoteGraph
from trialgraph.serve import MAX_REQUEST_BYTES, EndpointServer, forbid_network, make_server, outbound_keyword

CLIENTS = 8
REQUESTS = scaled(96, 1_600)
"""Requests in the load test, shared among the clients."""
LOAD_DEADLINE_S = 240.0
COUNT = "SELECT (COUNT(?t) AS ?n) WHERE { ?t a <https://w3id.org/trialgraph/ontology#ClinicalTrial> }"
Listener = tuple[int, list[bytes]]


@pytest.fixture(scope="module")
def store_dir(tmp_path_factory: pytest.TempPathFactory, seeds_dir: Path) -> Path:
    """An on-disk store of the five examples (closed again)."""
    path = tmp_path_factory.mktemp("endpoint") / "store"
    assert TrialGraph(path).ingest([seeds_dir]).ok
    return path


def serve(server: EndpointServer) -> Iterator[str]:
    """Serve in a thread; yield the base URL; stop."""
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    host, port = server.server_address[:2]
    try:
        yield f"http://{host!s}:{port}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(5)


@pytest.fixture(scope="module")
def endpoint(store_dir: Path) -> Iterator[str]:
    """A read-only endpoint: 5 s per query, at most 1,000 rows, 2 workers."""
    yield from serve(make_server(store_dir, port=0, timeout=5.0, max_rows=1000))


def fetch(url: str, data: bytes | None = None, headers: dict[str, str] | None = None) -> tuple[int, bytes]:
    """(status, body) of a request, HTTP errors included."""
    request = urllib.request.Request(url, data=data, headers=headers or {})
    try:
        with urllib.request.urlopen(request, timeout=60) as response:
            return response.status, response.read()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read()


def query(base: str, text: str) -> tuple[int, bytes]:
    """GET /sparql?query=TEXT as SPARQL JSON."""
    return fetch(f"{base}/sparql?{urllib.parse.urlencode({'query': text, 'format': 'json'})}")


def raw(base: str, request: bytes, wait: float = 10.0) -> bytes:
    """Send ``request`` as it is on a new connection; the response's status line (empty if none)."""
    parts = urllib.parse.urlsplit(base)
    with socket.create_connection((parts.hostname, parts.port), timeout=wait) as conn:
        conn.sendall(request)
        received = b""
        try:
            while b"\r\n" not in received:
                chunk = conn.recv(4096)
                if not chunk:
                    break
                received += chunk
        except OSError:
            pass
    return received.split(b"\r\n", 1)[0]


def outbound_queries(port: int) -> dict[str, str]:
    """Queries that make the engine fetch the listener's URL, plainly or past a keyword check."""
    url = f"<http://127.0.0.1:{port}/sparql>"
    return {
        "service": f"SELECT * WHERE {{ SERVICE {url} {{ ?s ?p ?o }} }}",
        "service-lower": f"select * where {{ service silent {url} {{ ?s ?p ?o }} }}",
        "service-after-dot": f"SELECT * WHERE {{ ?s ?p ?o .SERVICE{url}{{ ?a ?b ?c }} }}",
        "service-comment": f"SELECT * WHERE {{ SERVICE#x\n{url} {{ ?s ?p ?o }} }}",
        # "<?b)SERVICE#>" reads as an IRI to a simple tokenizer; the engine reads "less than" and SERVICE.
        "service-less-than": "SELECT * WHERE { BIND(1 AS ?a) BIND(2 AS ?b) "
        f"FILTER(?a<?b)SERVICE#>\n{url} {{ ?s ?p ?o }} }}",
        "service-silent-less-than": "SELECT * WHERE { BIND(1 AS ?a) BIND(2 AS ?b) "
        f"FILTER(?a<?b)SERVICE SILENT#>\n{url} {{ ?s ?p ?o }} }}",
    }


def test_outbound_queries_are_refused_and_connect_nowhere(endpoint: str, listener: Listener) -> None:
    port, hits = listener
    statuses = {}
    for name, text in outbound_queries(port).items():
        status, body = query(endpoint, text)
        statuses[name] = status
        assert status != 200 or json.loads(body)["results"]["bindings"] in ([], [{}]), (name, body)
    assert statuses["service"] == statuses["service-lower"] == 403
    time.sleep(0.3)
    assert hits == [], f"the endpoint connected to the listener: {hits}"
    assert query(endpoint, COUNT)[0] == 200


def test_load_is_refused_on_a_writable_endpoint_and_connects_nowhere(
    tmp_path: Path, seeds_dir: Path, listener: Listener
) -> None:
    port, hits = listener
    store = tmp_path / "store"
    assert TrialGraph(store).ingest([seeds_dir]).ok
    before = frozenset(TrialGraph(store, read_only=True).store.quads())
    url = f"<http://127.0.0.1:{port}/data.ttl>"
    updates = [
        f"LOAD {url}",
        f"load silent {url} INTO GRAPH <https://example.org/g>",
        f"INSERT {{ GRAPH <https://example.org/g> {{ ?s ?p ?o }} }} WHERE {{ SERVICE {url} {{ ?s ?p ?o }} }}",
        "INSERT { GRAPH <https://example.org/g> { ?s ?p ?o } } WHERE { BIND(1 AS ?a) BIND(2 AS ?b) "
        f"FILTER(?a<?b)SERVICE SILENT#>\n{url} {{ ?s ?p ?o }} }}",
    ]
    for base in serve(make_server(store, port=0, writable=True, timeout=10.0)):
        for text in updates:
            status, body = fetch(
                base + "/sparql", text.encode(), {"Content-Type": "application/sparql-update"}
            )
            assert status in (204, 403, 500), (text, status, body)
            if "LOAD" in text.upper().split("{")[0]:
                assert status == 403 and b"LOAD is refused" in body
    time.sleep(0.3)
    assert hits == []
    assert frozenset(TrialGraph(store, read_only=True).store.quads()) == before


@pytest.mark.skipif(sys.platform != "linux", reason="seccomp is Linux's")
def test_a_query_worker_cannot_open_network_sockets() -> None:
    script = textwrap.dedent(
        """
        import socket
        from trialgraph.serve import forbid_network
        a, b = socket.socketpair()
        print(forbid_network())
        for family in (socket.AF_INET, socket.AF_INET6):
            try:
                socket.socket(family)
                print("opened")
            except PermissionError:
                print("refused")
        a.sendall(b"x")
        print(b.recv(1).decode())
        """
    )
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    applied, inet, inet6, pipe = done.stdout.split()
    if applied == "False":
        pytest.skip("seccomp is not available on this machine")
    assert (inet, inet6, pipe) == ("refused", "refused", "x")
    assert forbid_network.__module__ == "trialgraph.serve"


HOSTILE_REQUESTS = {
    "content-length-text": (b"POST /sparql HTTP/1.1\r\nHost: x\r\nContent-Length: abc\r\n\r\n", b" 400 "),
    "content-length-negative": (b"POST /sparql HTTP/1.1\r\nHost: x\r\nContent-Length: -5\r\n\r\n", b" 400 "),
    "content-length-terabyte": (
        b"POST /sparql HTTP/1.1\r\nHost: x\r\nContent-Type: application/sparql-query\r\n"
        b"Content-Length: 1000000000000\r\n\r\nSELECT",
        b" 413 ",
    ),
    "request-line-70k": (b"GET /sparql?query=" + b"A" * 70_000 + b" HTTP/1.1\r\nHost: x\r\n\r\n", b" 414 "),
    "headers-200": (
        b"GET / HTTP/1.1\r\n" + b"".join(b"X-H%d: v\r\n" % i for i in range(200)) + b"\r\n",
        b" 431 ",
    ),
    "not-http": (b"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03" + bytes(range(256)) + b"\r\n\r\n", b" 400 "),
    "head": (b"HEAD / HTTP/1.1\r\nHost: x\r\n\r\n", b" 501 "),
    "absolute-form-file": (b"GET file:///etc/passwd HTTP/1.1\r\nHost: x\r\n\r\n", b" 404 "),
    "traversal": (b"GET /../../../../etc/passwd HTTP/1.1\r\nHost: x\r\n\r\n", b" 404 "),
    "encoded-traversal": (b"GET /%2e%2e/%2e%2e/etc/passwd HTTP/1.1\r\nHost: x\r\n\r\n", b" 404 "),
    "double-slash": (b"GET //etc/passwd HTTP/1.1\r\nHost: x\r\n\r\n", b" 404 "),
    "bad-utf8-query": (b"GET /sparql?query=%FF%FE%00 HTTP/1.1\r\nHost: x\r\n\r\n", b" 400 "),
    "chunked-no-length": (
        b"POST /sparql HTTP/1.1\r\nHost: x\r\nContent-Type: application/x-www-form-urlencoded\r\n"
        b"Transfer-Encoding: chunked\r\n\r\n5\r\nquery\r\n0\r\n\r\n",
        b" 400 ",
    ),
}


def test_hostile_requests_get_a_4xx_and_the_endpoint_keeps_answering(
    endpoint: str, record: Callable[..., None]
) -> None:
    parts = urllib.parse.urlsplit(endpoint)
    idle = socket.create_connection((parts.hostname, parts.port), timeout=5)
    try:  # a client that connects and sends nothing holds up no one
        for name, (request, expected) in HOSTILE_REQUESTS.items():
            start = time.perf_counter()
            status = raw(endpoint, request)
            assert expected in status, (name, status)
            assert time.perf_counter() - start < 10, name
        status, body = query(endpoint, "SELECT * FROM <file:///etc/passwd> WHERE { ?s ?p ?o }")
        assert status == 200 and b"root:" not in body and b"/bin/" not in body  # FROM reads no file
        status, body = query(endpoint, COUNT)
        assert status == 200 and json.loads(body)["results"]["bindings"][0]["n"]["value"] == "5"
    finally:
        idle.close()
    record(hostile_http_requests=len(HOSTILE_REQUESTS), all_refused_with_4xx_or_501=True)


def run_clients(url: str, work: list[str], clients: int, expected: dict[str, str]) -> dict[str, float]:
    """Send ``work`` (library query names) from ``clients`` threads; figures of the run."""
    latencies: list[float] = []
    errors: list[str] = []
    lock = threading.Lock()
    shares = [work[i::clients] for i in range(clients)]
    deadline = time.monotonic() + LOAD_DEADLINE_S

    def client(share: list[str]) -> None:
        remote = RemoteGraph(url)
        for name in share:
            if time.monotonic() > deadline:
                with lock:
                    errors.append("deadline")
                return
            start = time.perf_counter()
            try:
                answer = remote.query(name).to_json()
                problem = None if answer == expected[name] else f"{name}: a different answer"
            except Exception as exc:  # counted, not raised: the figures say how many
                problem = f"{name}: {type(exc).__name__}: {exc}"
            with lock:
                latencies.append(time.perf_counter() - start)
                if problem:
                    errors.append(problem)

    threads = [threading.Thread(target=client, args=(share,)) for share in shares]
    start = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    seconds = time.perf_counter() - start
    assert errors == [], errors[:5]
    return {
        "requests": len(latencies),
        "seconds": round(seconds, 2),
        "per_second": round(len(latencies) / seconds, 1),
        "p50_ms": round(1000 * statistics.median(latencies), 1),
        "p95_ms": round(1000 * statistics.quantiles(latencies, n=20)[-1], 1),
        "errors": len(errors),
    }


def test_eight_concurrent_clients_get_the_embedded_answers(
    store_dir: Path, record: Callable[..., None]
) -> None:
    local = TrialGraph(store_dir, read_only=True)
    names = [q.name for q in queries.library() if not q.parameters] + [q.name for q in queries.library()]
    expected = {name: local.query(name).to_json() for name in set(names)}
    work = (names * (REQUESTS // len(names) + 1))[:REQUESTS]
    for base in serve(make_server(store_dir, port=0, timeout=30.0, workers=2)):
        url = base + "/sparql"
        one = run_clients(url, work, 1, expected)
        eight = run_clients(url, work, CLIENTS, expected)
        status, _ = query(base, COUNT)
        assert status == 200
    print(
        f"\nendpoint load, {REQUESTS} library queries on loopback, 2 query workers: "
        f"1 client {one['per_second']}/s (p50 {one['p50_ms']} ms), "
        f"{CLIENTS} clients {eight['per_second']}/s (p50 {eight['p50_ms']} ms, p95 {eight['p95_ms']} ms), "
        f"ratio {eight['per_second'] / one['per_second']:.2f}, errors {eight['errors']}"
    )
    record(clients=CLIENTS, one_client=one, eight_clients=eight, distinct_queries=len(expected))


def test_an_answer_is_a_whole_sparql_document(endpoint: str) -> None:
    """A cut result is still valid SPARQL JSON, with the header saying so."""
    status, body = query(endpoint, "SELECT * WHERE { ?s ?p ?o }")
    assert status == 200
    assert len(json.loads(body)["results"]["bindings"]) == 1000
    triples = fetch(
        endpoint + "/sparql?" + urllib.parse.urlencode({"query": "CONSTRUCT WHERE { ?s ?p ?o }"}),
        headers={"Accept": "application/n-triples"},
    )[1]
    assert len(list(ox.parse(triples, format=ox.RdfFormat.N_TRIPLES))) == 1000


PATHOLOGICAL = {
    "escaped-quotes": "'\\" * 500_000,  # quadratic for a regular expression substitution
    "open-long-strings": "'''\\'" * 200_000,
    "angle-brackets": "<" * 1_000_000,
    "quotes": "'" * 1_000_000,
    "comments": "#\n" * 500_000,
}


def test_the_keyword_check_is_linear_on_a_request_of_the_largest_size(record: Callable[..., None]) -> None:
    """The SERVICE/LOAD check runs in the HTTP thread, outside the query time limit: no input may stall it."""
    seconds = {}
    for name, text in PATHOLOGICAL.items():
        assert len(text) >= MAX_REQUEST_BYTES
        start = time.perf_counter()
        assert outbound_keyword(text) is None
        seconds[name] = round(time.perf_counter() - start, 3)
        assert seconds[name] < 20, (name, seconds[name])  # about 1 s; quadratic took hours
    assert outbound_keyword("'\\" * 1000 + "\n SERVICE <http://x/> {}") == "SERVICE"
    record(request_bytes=MAX_REQUEST_BYTES, seconds=seconds)


@settings(max_examples=scaled(200, 3_000), deadline=None, database=None)
@given(
    text=st.lists(
        st.sampled_from(
            ["'", '"', "'''", '"""', "\\", "<", ">", "#", "\n", " ", "a", "SERVICE", "LOAD", "{", "?x"]
        ),
        max_size=300,
    ).map("".join)
)
def test_the_keyword_check_takes_any_text(text: str) -> None:
    assert outbound_keyword(text) in (None, "SERVICE", "LOAD")
    if "SERVICE" not in text.upper() and "LOAD" not in text.upper():
        assert outbound_keyword(text) is None
