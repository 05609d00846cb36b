"""Push and remote queries against real triple stores started here on 127.0.0.1: Oxigraph and Virtuoso 7.

Oxigraph comes from the ``oxigraph`` package on PyPI (the ``dev`` extra), Virtuoso Open Source 7 from
Debian's ``virtuoso-opensource`` (``make virtuoso``). Each server gets a temporary database and free
ports, and is stopped at the end. Results are compared as sets of rows, typed literals by value.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import io
import os
import secrets
import socket
import subprocess
import sys
import threading
import urllib.parse
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import pyoxigraph as ox
import pytest
import rdflib
from rdflib.compare import isomorphic
from tests.integration.servers import DidNotStart, NotInstalled, Server, start_oxigraph, start_virtuoso

from trialgraph import queries
from trialgraph.api import TrialGraph
from trialgraph.namespaces import XSD, trial_iri
from trialgraph.remote import (
    AuthenticationError,
    Endpoint,
    HttpClient,
    Pusher,
    PushState,
    RemoteGraph,
)
from trialgraph.results import QueryResult

EXAMPLES = Path(__file__).resolve().parents[2] / "examples" / "trials"
CHANGED = "NCT06592612"


# --- servers (started by tests/integration/servers.py, shared with benchmarks/push_export.py) ---------


@pytest.fixture(scope="module")
def oxigraph(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """The Oxigraph server (PyPI ``oxigraph``) with --union-default-graph on a temporary database."""
    try:
        with start_oxigraph(tmp_path_factory.mktemp("oxigraph")) as server:
            yield server
    except NotInstalled as exc:
        pytest.skip(str(exc))
    except DidNotStart as exc:
        pytest.fail(str(exc))


@pytest.fixture(scope="module")
def virtuoso(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """Virtuoso Open Source 7 (Debian) on a temporary database, with a random dba password."""
    try:
        with start_virtuoso(tmp_path_factory.mktemp("virtuoso")) as server:
            yield server
    except (NotInstalled, DidNotStart) as exc:
        pytest.skip(str(exc))


HOLDING_EXAMPLES: set[str] = set()
"""The servers that hold exactly the pushed examples (no test has cleared or changed them since)."""


@pytest.fixture(params=["oxigraph", "virtuoso"])
def server(request: pytest.FixtureRequest) -> Server:
    """Each real server in turn, emptied of trialgraph graphs."""
    found: Server = request.getfixturevalue(request.param)
    HOLDING_EXAMPLES.discard(found.name)
    found.clear()
    return found


# --- the local side -------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def dump(tmp_path_factory: pytest.TempPathFactory) -> bytes:
    """The bundled examples ingested once, as N-Quads."""
    tg = TrialGraph(tmp_path_factory.mktemp("ingest") / "store")
    report = tg.ingest([EXAMPLES])
    assert report.ok and report.trials_stored == 5
    out = io.BytesIO()
    tg.export(out, "nquads", include_ontology=True)
    return out.getvalue()


def fresh_store(path: Path, dump: bytes) -> TrialGraph:
    """A store at ``path`` holding the ingested examples."""
    tg = TrialGraph(path)
    by_graph: dict[ox.NamedNode, list[ox.Quad]] = {}
    for quad in ox.parse(dump, format=ox.RdfFormat.N_QUADS):
        assert isinstance(quad.graph_name, ox.NamedNode)
        by_graph.setdefault(quad.graph_name, []).append(quad)
    for graph, quads in by_graph.items():
        tg.store.replace_graph(graph, quads)
    return tg


@pytest.fixture
def local(tmp_path: Path, dump: bytes) -> TrialGraph:
    """A fresh on-disk store of the examples, per test."""
    return fresh_store(tmp_path / "store", dump)


@pytest.fixture(scope="module")
def examples(tmp_path_factory: pytest.TempPathFactory, dump: bytes) -> TrialGraph:
    """One store of the examples for the read-only tests; never changed."""
    return fresh_store(tmp_path_factory.mktemp("examples") / "store", dump)


@pytest.fixture(params=["oxigraph", "virtuoso"])
def loaded(request: pytest.FixtureRequest, examples: TrialGraph) -> Server:
    """Each real server holding exactly the examples, pushed once and shared by the read-only tests."""
    found: Server = request.getfixturevalue(request.param)
    if found.name not in HOLDING_EXAMPLES:
        found.clear()
        client = HttpClient(found.credentials(), retries=2, backoff=0.05, timeout=60)
        report = Pusher(found.endpoint(), client).push(examples.store, examples.push_graphs())
        assert report.ok and len(report.sent) == 6, report.summary()
        HOLDING_EXAMPLES.add(found.name)
    return found


def change_trial(tg: TrialGraph, trial_id: str) -> None:
    """Edit a stored trial as a re-ingest would: one triple changed, one added."""
    graph = ox.NamedNode(trial_iri(trial_id))
    quads = list(tg.store.quads(graph))
    title = ox.NamedNode("https://w3id.org/trialgraph/ontology#briefTitle")
    kept = [q for q in quads if q.predicate != title]
    subject = ox.NamedNode(trial_iri(trial_id))
    kept.append(ox.Quad(subject, title, ox.Literal("A changed title"), graph))
    kept.append(
        ox.Quad(
            subject,
            ox.NamedNode("https://example.org/extra"),
            ox.Literal("7", datatype=ox.NamedNode(XSD + "integer")),
            graph,
        )
    )
    assert tg.store.replace_graph(graph, kept)


# --- comparing ------------------------------------------------------------------------------------------

_NUMERIC = {
    XSD + t for t in ("integer", "int", "long", "short", "decimal", "double", "float", "nonNegativeInteger")
}


def canon(term: Any) -> Any:
    """A term compared by value: numbers by number, dateTimes by instant, blank nodes as one."""
    if term is None:
        return None
    if isinstance(term, ox.BlankNode):
        return ("bnode",)
    if isinstance(term, ox.NamedNode):
        return ("iri", term.value)
    datatype = term.datatype.value
    if datatype in _NUMERIC:
        return ("number", Decimal(term.value).normalize())
    if datatype == XSD + "dateTime":
        return ("dateTime", dt.datetime.fromisoformat(term.value.replace("Z", "+00:00")))
    if datatype == XSD + "boolean":
        return ("boolean", term.value in ("true", "1"))
    return ("literal", term.value, term.language or "", "" if term.language else datatype)


def rows_as_set(result: QueryResult) -> set[tuple[Any, ...]]:
    """Rows as a set of value tuples; a GROUP_CONCAT list ("a | b") compared as the set of its parts.

    SPARQL leaves the order of GROUP_CONCAT unspecified, so the library joins lists with " | ".
    """
    rows = set()
    for row in result.rows:
        values = []
        for variable in result.variables:
            value = canon(row.get(variable))
            if value is not None and value[0] == "literal" and " | " in value[1]:
                value = ("parts", frozenset(value[1].split(" | ")))
            values.append((variable, value))
        rows.add(tuple(values))
    return rows


def remote_graph(server: Server, graph: str) -> rdflib.Graph:
    """One graph as the server holds it, literals canonicalised (numbers and dates by value)."""
    result = server.remote().sparql(f"SELECT ?s ?p ?o WHERE {{ GRAPH <{graph}> {{ ?s ?p ?o }} }}")
    return to_rdflib((row["s"], row["p"], row["o"]) for row in result.rows)


def local_graph(tg: TrialGraph, graph: str) -> rdflib.Graph:
    """One graph of the local store, canonicalised the same way."""
    return to_rdflib((q.subject, q.predicate, q.object) for q in tg.store.quads(ox.NamedNode(graph)))


def to_rdflib(triples: Any) -> rdflib.Graph:
    """An rdflib graph, each literal replaced by its canonical value."""
    g = rdflib.Graph()

    def node(term: Any) -> rdflib.term.Node:
        if isinstance(term, ox.BlankNode):
            return rdflib.BNode(term.value)
        if isinstance(term, ox.NamedNode):
            return rdflib.URIRef(term.value)
        return rdflib.Literal(repr(canon(term)))

    for s, p, o in triples:
        g.add((node(s), node(p), node(o)))
    return g


def remote_graph_names(server: Server) -> set[str]:
    """The trialgraph graphs the server holds."""
    return server.graph_names()


def snapshot(server: Server) -> dict[str, rdflib.Graph]:
    """Every trialgraph graph on the server."""
    return {g: remote_graph(server, g) for g in sorted(remote_graph_names(server))}


def same_snapshots(a: dict[str, rdflib.Graph], b: dict[str, rdflib.Graph]) -> bool:
    """Equal graph names and isomorphic graphs."""
    return a.keys() == b.keys() and all(isomorphic(a[k], b[k]) for k in a)


def pusher(server: Server, tg: TrialGraph, endpoint: Endpoint | None = None, **options: Any) -> Pusher:
    """A pusher to ``server`` keeping its state in the store folder."""
    retries = options.pop("retries", 2)
    password = options.pop("password", None)
    client = HttpClient(server.credentials(password), retries=retries, backoff=0.05, timeout=60)
    state = PushState(tg.store.path / "push-state.json" if tg.store.path else None)
    return Pusher(endpoint or server.endpoint(), client, state=state, **options)


# --- a proxy that drops connections, and checks Basic credentials where the server has none ------------


class Proxy:
    """A TCP proxy to a server: can cut chosen connections after some bytes, or demand Basic auth."""

    def __init__(
        self, target: str, drop: set[int] | None = None, after: int = 2000, basic: str | None = None
    ):
        parts = urllib.parse.urlsplit(target)
        self.upstream = (parts.hostname or "127.0.0.1", parts.port or 80)
        self.drop, self.after, self.basic = drop or set(), after, basic
        self.connections = 0
        self.dropped = 0
        self.sock = socket.create_server(("127.0.0.1", 0))
        self.base = f"http://127.0.0.1:{self.sock.getsockname()[1]}"
        self._thread = threading.Thread(target=self._serve, daemon=True)
        self._thread.start()

    def close(self) -> None:
        """Stop accepting."""
        self.sock.close()

    def _serve(self) -> None:
        while True:
            try:
                client, _ = self.sock.accept()
            except OSError:
                return
            self.connections += 1
            threading.Thread(target=self._handle, args=(client, self.connections), daemon=True).start()

    def _handle(self, client: socket.socket, number: int) -> None:
        with contextlib.suppress(OSError):
            self._relay(client, number)

    def _relay(self, client: socket.socket, number: int) -> None:
        with contextlib.ExitStack() as stack:
            stack.callback(client.close)
            head = b""
            while b"\r\n\r\n" not in head:
                chunk = client.recv(65536)
                if not chunk:
                    return
                head += chunk
            if (
                self.basic is not None
                and f"authorization: basic {self.basic}".lower().encode() not in head.lower()
            ):
                client.sendall(
                    b'HTTP/1.1 401 Unauthorized\r\nWWW-Authenticate: Basic realm="test"\r\n'
                    b"Content-Length: 0\r\nConnection: close\r\n\r\n"
                )
                return
            upstream = socket.create_connection(self.upstream)
            stack.callback(upstream.close)
            back = threading.Thread(target=self._pump, args=(upstream, client), daemon=True)
            back.start()
            sent = 0
            data = head
            while data:
                if number in self.drop and sent + len(data) >= self.after:
                    upstream.sendall(data[: max(0, self.after - sent)])
                    self.dropped += 1
                    for s in (client, upstream):
                        s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, b"\x01\x00\x00\x00\x00\x00\x00\x00")
                    return
                upstream.sendall(data)
                sent += len(data)
                try:
                    data = client.recv(65536)
                except OSError:
                    return
            back.join(60)

    @staticmethod
    def _pump(src: socket.socket, dst: socket.socket) -> None:
        try:
            while chunk := src.recv(65536):
                dst.sendall(chunk)
            dst.shutdown(socket.SHUT_WR)
        except OSError:
            pass


# --- the tests ------------------------------------------------------------------------------------------


@pytest.mark.parametrize("protocol", ["gsp", "update"])
def test_push_loads_every_graph_exactly(server: Server, local: TrialGraph, protocol: str) -> None:
    """Every graph arrives whole, over either protocol; a second run sends nothing."""
    graphs = list(local.push_graphs())
    report = pusher(server, local, protocol=protocol).push(local.store, graphs)
    assert report.ok, report.summary()
    assert len(report.sent) == len(graphs) == 6 and report.protocol == protocol
    print(f"\n{server.name} {protocol}: {report.triples_sent} triples in {report.seconds:.2f} s")
    remote = snapshot(server)
    assert set(remote) == {g.value for g in graphs}
    for g in graphs:
        assert isomorphic(remote[g.value], local_graph(local, g.value)), g.value
    again = pusher(server, local, protocol=protocol).push(local.store, graphs)
    assert again.sent == [] and len(again.skipped) == 6 and again.triples_skipped == report.triples_sent


@pytest.mark.parametrize("query", [q.name for q in queries.library()])
def test_every_library_query_gives_the_same_rows_remotely(
    loaded: Server, examples: TrialGraph, query: str
) -> None:
    """Each library query (default parameters) returns the same set of rows from the server."""
    expected = examples.query(query)
    got = TrialGraph.remote(loaded.query).query(query)
    assert got.variables == expected.variables
    assert len(expected) > 0
    assert rows_as_set(got) == rows_as_set(expected)


def test_library_query_with_parameters_remotely(loaded: Server, examples: TrialGraph) -> None:
    """A bound parameter (VALUES rewritten) reaches the server the same way."""
    params = {"therapy": "PD-L1 inhibitor"}
    got = RemoteGraph(loaded.query).query("prior-therapy-stance", **params)
    expected = examples.query("prior-therapy-stance", **params)
    assert rows_as_set(got) == rows_as_set(expected)


def test_repush_of_a_changed_trial_replaces_only_its_graph(server: Server, local: TrialGraph) -> None:
    """After a trial changes, a re-run sends only it, and only its remote graph changes."""
    pusher(server, local).push(local.store, local.push_graphs())
    before = snapshot(server)
    change_trial(local, CHANGED)
    report = pusher(server, local).push(local.store, local.push_graphs())
    assert report.sent == [trial_iri(CHANGED)] and len(report.skipped) == 5, report.summary()
    after = snapshot(server)
    assert after.keys() == before.keys()
    for graph in before:
        if graph == trial_iri(CHANGED):
            assert not isomorphic(after[graph], before[graph])
            assert isomorphic(after[graph], local_graph(local, graph))
        else:
            assert isomorphic(after[graph], before[graph]), graph


def test_wrong_password_is_a_clear_error_and_changes_nothing(server: Server, local: TrialGraph) -> None:
    """A rejected password stops the push at once, names no secret, and leaves the remote as it was."""
    proxy = None
    endpoint = None
    if server.user is None:  # Oxigraph has no authentication: front it with a Basic-auth proxy
        import base64

        server.user, server.password = "loader", "tg-" + secrets.token_hex(8)
        proxy = Proxy(server.query, basic=base64.b64encode(f"loader:{server.password}".encode()).decode())
        endpoint = server.endpoint(proxy.base)
    try:
        pusher(server, local, endpoint).push(local.store, local.push_graphs())
        before = snapshot(server)
        change_trial(local, CHANGED)
        wrong = "not-" + secrets.token_hex(6)
        with pytest.raises(AuthenticationError) as caught:
            pusher(server, local, endpoint, password=wrong).push(local.store, local.push_graphs())
        message = str(caught.value)
        assert "rejected user" in message and "HTTP 401" in message
        assert wrong not in message and str(server.password) not in message
        assert same_snapshots(snapshot(server), before)
    finally:
        if proxy is not None:
            proxy.close()
            server.user = server.password = None


def test_cli_push_with_wrong_password(server: Server, local: TrialGraph, tmp_path: Path) -> None:
    """The command line: exit code 2, one line naming the endpoint and user, never the password."""
    if server.user is None:
        pytest.skip("Oxigraph has no authentication (the API test covers it through a proxy)")
    store = local.store.path
    wrong = "wrong-" + secrets.token_hex(6)
    env = {**os.environ, "TRIALGRAPH_PASSWORD": wrong}
    args = ["--endpoint", server.update, "--graph-store", server.graph_store, "--user", str(server.user)]
    run = subprocess.run(
        [sys.executable, "-m", "trialgraph", "--store", str(store), "push", *args],
        capture_output=True,
        text=True,
        env=env,
        check=False,
        timeout=120,
    )
    assert run.returncode == 2, run.stdout + run.stderr
    assert "rejected user 'dba': HTTP 401" in run.stderr
    assert wrong not in run.stdout + run.stderr
    assert remote_graph_names(server) == set()


@pytest.mark.parametrize("protocol", ["gsp", "update"])
def test_dropped_connections_leave_no_half_loaded_trial(
    server: Server, local: TrialGraph, protocol: str
) -> None:
    """A server cutting requests mid-body: each graph is whole or absent; a re-run completes the load.

    Over Update, one graph per request (``batch_size=1``), so that some requests get through.
    """
    graphs = list(local.push_graphs())
    proxy = Proxy(server.query, drop={2, 4}, after=3000)
    endpoint = server.endpoint(proxy.base)
    options: dict[str, Any] = {"protocol": protocol, "batch_size": 1}
    try:
        report = pusher(server, local, endpoint, retries=0, **options).push(local.store, graphs)
        assert proxy.dropped >= 1
        assert not report.ok and 1 <= len(report.failed) <= 3, report.summary()
        remote = snapshot(server)
        for name, graph in remote.items():  # whatever arrived arrived whole
            assert isomorphic(graph, local_graph(local, name)), name
        assert set(remote) == set(report.sent)
        proxy.drop = set()  # the same endpoint, working again
        rerun = pusher(server, local, endpoint, **options).push(local.store, graphs)
    finally:
        proxy.close()
    assert rerun.ok and sorted(rerun.sent) == sorted(g for g, _ in report.failed), rerun.summary()
    assert sorted(rerun.skipped) == sorted(report.sent)
    final = snapshot(server)
    assert set(final) == {g.value for g in graphs}
    assert all(isomorphic(final[g], local_graph(local, g)) for g in final)


def test_dropped_connections_are_retried(server: Server, local: TrialGraph) -> None:
    """With retries, a connection reset mid-upload is retried and the push completes in one run."""
    proxy = Proxy(server.query, drop={1, 3}, after=1500)
    try:
        report = pusher(server, local, server.endpoint(proxy.base), retries=3).push(
            local.store, local.push_graphs()
        )
    finally:
        proxy.close()
    assert proxy.dropped == 2
    assert report.ok and len(report.sent) == 6, report.summary()


def test_cli_query_on_an_endpoint_prints_the_same_table(loaded: Server, examples: TrialGraph) -> None:
    """``trialgraph query --endpoint`` prints what the local store prints."""
    store = examples.store.path
    outputs = []
    for where in (["query", "--endpoint", loaded.query], ["--store", str(store), "query"]):
        run = subprocess.run(
            [sys.executable, "-m", "trialgraph", *where, "trials-by-status-and-phase", "--format", "csv"],
            capture_output=True,
            text=True,
            check=False,
            timeout=120,
        )
        assert run.returncode == 0, run.stderr
        outputs.append(run.stdout)
    assert outputs[0] == outputs[1]


def test_servers_report_their_versions(loaded: Server) -> None:
    """The versions tested against, shown with -s or in the report of a failure."""
    print(f"\n{loaded.name}: {loaded.version}")
    assert loaded.version


def test_remote_queries_with_credentials(loaded: Server, examples: TrialGraph) -> None:
    """A query endpoint behind authentication (Virtuoso's /sparql-auth, Digest): right and wrong password."""
    if loaded.user is None:
        pytest.skip("Oxigraph has no authentication")
    remote = TrialGraph.remote(loaded.update, loaded.user, loaded.password)
    assert rows_as_set(remote.query("graph-statistics")) == rows_as_set(examples.query("graph-statistics"))
    wrong = "not-" + secrets.token_hex(6)
    with pytest.raises(AuthenticationError) as caught:
        TrialGraph.remote(loaded.update, loaded.user, wrong).query("graph-statistics")
    assert wrong not in str(caught.value) and str(loaded.password) not in str(caught.value)


# --- deletion: a trial gone from the store is deleted remotely ------------------------------------------

DELETED = "NCT06592612"


@pytest.mark.parametrize("protocol", ["gsp", "update"])
def test_trial_deleted_locally_is_deleted_remotely(server: Server, local: TrialGraph, protocol: str) -> None:
    """A trial pushed, then removed from the store: the next push deletes its graph, and only it, remotely."""
    first = pusher(server, local, protocol=protocol).push(local.store, local.push_graphs())
    assert first.ok and len(first.sent) == 6, first.summary()
    before = snapshot(server)
    local.store.remove_graph(ox.NamedNode(trial_iri(DELETED)))
    report = pusher(server, local, protocol=protocol).push(local.store, local.push_graphs())
    assert report.ok, report.summary()
    assert report.deleted == [trial_iri(DELETED)] and report.sent == [] and len(report.skipped) == 5
    assert "deleted: 1 trials no longer in the store" in report.summary()
    after = snapshot(server)
    assert set(after) == set(before) - {trial_iri(DELETED)} == {g.value for g in local.push_graphs()}
    assert all(isomorphic(after[g], before[g]) for g in after)
    state = PushState(local.store.path / "push-state.json" if local.store.path else None)
    assert trial_iri(DELETED) not in state.graphs(server.endpoint().key)
    again = pusher(server, local, protocol=protocol).push(local.store, local.push_graphs())
    assert again.deleted == [] and again.sent == [] and len(again.skipped) == 5, again.summary()


def test_deletion_survives_force_and_a_graph_already_gone(server: Server, local: TrialGraph) -> None:
    """``force`` re-sends everything yet still knows what was pushed; a graph gone remotely is no error."""
    pusher(server, local).push(local.store, local.push_graphs())
    other = next(trial_iri(t) for t in sorted(local.trial_ids()) if t != DELETED)
    for graph in (trial_iri(DELETED), other):
        local.store.remove_graph(ox.NamedNode(graph))
    # someone else already dropped ``other`` on the server
    client = HttpClient(server.credentials())
    body = urllib.parse.urlencode({"update": f"DROP SILENT GRAPH <{other}>"}).encode()
    client.request("POST", server.update, body, {"Content-Type": "application/x-www-form-urlencoded"})
    report = pusher(server, local, force=True).push(local.store, local.push_graphs())
    assert report.ok, report.summary()
    assert sorted(report.deleted) == sorted({trial_iri(DELETED), other}) and len(report.sent) == 4
    assert remote_graph_names(server) == {g.value for g in local.push_graphs()}


def test_cli_push_reports_the_deletion(server: Server, local: TrialGraph) -> None:
    """``trialgraph push`` after a trial left the store: the report line counts the graph deleted."""
    store = local.store.path
    args = ["--endpoint", server.query, "--update-endpoint", server.update]
    args += ["--graph-store", server.graph_store]
    if server.user is not None:
        args += ["--user", server.user]
    env = {**os.environ, "TRIALGRAPH_PASSWORD": server.password or ""}

    def push() -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "trialgraph", "--store", str(store), "push", *args],
            capture_output=True,
            text=True,
            env=env,
            check=False,
            timeout=120,
        )

    first = push()
    assert first.returncode == 0, first.stdout + first.stderr
    local.store.remove_graph(ox.NamedNode(trial_iri(DELETED)))
    local.store.flush()
    remaining = {g.value for g in local.push_graphs()}
    run = push()
    assert run.returncode == 0, run.stdout + run.stderr
    assert "deleted: 1 trials no longer in the store" in run.stdout, run.stdout
    assert remote_graph_names(server) == remaining
