"""Remote triple stores: push the store's graphs, and run the query library against a SPARQL endpoint.

A push replaces each graph remotely, over the SPARQL 1.1 Graph Store HTTP Protocol (one ``PUT`` per
graph) or SPARQL 1.1 Update (``DROP SILENT GRAPH`` + ``INSERT DATA`` in one request per batch).
Transient failures (connection reset, HTTP 5xx, 429) are retried with back-off; a state file
records, per endpoint, the checksum of every graph pushed, so a re-run skips unchanged graphs, and
a graph pushed earlier that the store no longer holds (a deleted trial) is deleted remotely
(``DELETE`` over the Graph Store Protocol, ``DROP SILENT GRAPH`` over Update).
Credentials are never printed, logged or included in the text of an error.

>>> Credentials(user="dba", password="s3cret")
Credentials(user='dba', password=***, token=None)
>>> update_operations(ox.NamedNode("http://g"), [ox.Triple(ox.NamedNode("http://s"),
...     ox.NamedNode("http://p"), ox.Literal("o"))])
['DROP SILENT GRAPH <http://g>', 'INSERT DATA { GRAPH <http://g> { <http://s> <http://p> "o" .\\n } }']
"""

from __future__ import annotations

import hashlib
import http.client
import json
import os
import re
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

import pyoxigraph as ox

from trialgraph.errors import TrialgraphError
from trialgraph.namespaces import TRIAL
from trialgraph.queries import LibraryQuery
from trialgraph.results import QueryResult, Row, Term
from trialgraph.store import TrialStore

PASSWORD_ENV = "TRIALGRAPH_PASSWORD"
TOKEN_ENV = "TRIALGRAPH_TOKEN"
PROTOCOLS = ("auto", "gsp", "update")
DEFAULT_BATCH = 50
DEFAULT_RETRIES = 4
DEFAULT_TIMEOUT = 120.0
MAX_TRIPLES_PER_OPERATION = 2000
"""Virtuoso's SPARQL compiler gives up on one ``INSERT DATA`` of ~5,000 triples; bigger graphs are split."""
MAX_TRIPLES_PER_REQUEST = 20_000
"""An Update batch is split into requests of at most this many triples (a graph is never split)."""
STATE_FILE = "push-state.json"
UNKNOWN = "unknown"
"""The state of a graph the remote may hold in some version (a failed or forced push): never skipped."""
T = TypeVar("T")
_TRANSIENT_STATUS = frozenset({429, 500, 502, 503, 504})
_NO_GSP_STATUS = frozenset({404, 405, 415, 501})
_MAX_BACKOFF = 30.0


class RemoteError(TrialgraphError):
    """A remote store refused or failed a request (after the retries)."""


class AuthenticationError(RemoteError):
    """The remote store rejected the credentials (HTTP 401 or 403)."""


@dataclass(frozen=True)
class Credentials:
    """A user and password (HTTP Basic or Digest, as the server asks) or a bearer token."""

    user: str | None = None
    password: str | None = field(default=None, repr=False)
    token: str | None = field(default=None, repr=False)

    def __repr__(self) -> str:
        password = "***" if self.password is not None else None
        token = "***" if self.token is not None else None
        return f"Credentials(user={self.user!r}, password={password}, token={token})"

    @classmethod
    def from_environment(cls, user: str | None, prompt: Callable[[str], str] | None = None) -> Credentials:
        """``user`` with ``$TRIALGRAPH_PASSWORD`` (else ``prompt``), or ``$TRIALGRAPH_TOKEN`` alone."""
        if user:
            password = os.environ.get(PASSWORD_ENV)
            if password is None and prompt is not None:
                password = prompt(f"password for {user}")
            return cls(user=user, password=password or "")
        token = os.environ.get(TOKEN_ENV)
        return cls(token=token) if token else cls()

    def secrets(self) -> list[str]:
        """The strings that must never appear in output: each secret, and Basic's encoding of the pair.

        A server's error page may echo the request's ``Authorization: Basic`` header, whose value is
        only ``base64(user:password)``.
        """
        found = [s for s in (self.password, self.token) if s]
        if self.password:
            import base64

            found.append(base64.b64encode(f"{self.user or ''}:{self.password}".encode()).decode("ascii"))
        return sorted(found, key=len, reverse=True)  # longest first, so no part of one is left behind


def _check_url(url: str) -> str:
    parts = urllib.parse.urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise RemoteError("an endpoint must be an http:// or https:// URL")
    if parts.username is not None or parts.password is not None:
        raise RemoteError(
            "an endpoint URL must not hold credentials: give --user and set "
            f"{PASSWORD_ENV} (or {TOKEN_ENV} for a bearer token)"
        )
    return url


class HttpClient:
    """HTTP requests with credentials, and retries with exponential back-off on transient failures."""

    def __init__(
        self,
        credentials: Credentials | None = None,
        timeout: float = DEFAULT_TIMEOUT,
        retries: int = DEFAULT_RETRIES,
        backoff: float = 0.5,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.credentials = credentials or Credentials()
        self.timeout = timeout
        self.retries = retries
        self.backoff = backoff
        self.sleep = sleep
        self._scheme: str | None = "bearer" if self.credentials.token else None
        self._challenge: dict[str, str] | None = None
        self._passwords = urllib.request.HTTPPasswordMgrWithDefaultRealm()
        self._digest = urllib.request.HTTPDigestAuthHandler(self._passwords)
        self._opener = urllib.request.build_opener(_NoRedirect())

    def scrub(self, text: str) -> str:
        """``text`` with every secret replaced by ``***``."""
        for secret in self.credentials.secrets():
            text = text.replace(secret, "***")
        return text

    def request(
        self, method: str, url: str, body: bytes | None = None, headers: dict[str, str] | None = None
    ) -> bytes:
        """Send one request (retrying transient failures) and return the response body."""
        _check_url(url)
        attempt = 0
        while True:
            try:
                return self._send(method, url, body, headers or {})
            except _Transient as exc:
                if attempt >= self.retries:
                    raise RemoteError(
                        self.scrub(f"{method} {_show(url)} failed {attempt + 1} times: {exc}")
                    ) from None
                delay = exc.retry_after if exc.retry_after is not None else self.backoff * 2**attempt
                self.sleep(min(delay, _MAX_BACKOFF))
                attempt += 1

    def _send(self, method: str, url: str, body: bytes | None, headers: dict[str, str]) -> bytes:
        for authenticating in (False, True):
            req = urllib.request.Request(url, data=body, method=method, headers=dict(headers))
            self._authorize(req)
            try:
                with self._opener.open(req, timeout=self.timeout) as response:
                    return bytes(response.read())
            except urllib.error.HTTPError as exc:
                status = exc.code
                text = _excerpt(exc.read() if exc.fp is not None else b"")
                challenge = exc.headers.get("WWW-Authenticate", "") if exc.headers else ""
                if status == 401 and not authenticating and self._learn(challenge):
                    continue
                if status in (401, 403):
                    who = f"user {self.credentials.user!r}" if self.credentials.user else "the credentials"
                    hint = (
                        ""
                        if self.credentials.user or self.credentials.token
                        else (f"; give --user (password in {PASSWORD_ENV}) or set {TOKEN_ENV}")
                    )
                    raise AuthenticationError(
                        self.scrub(f"{_show(url)} rejected {who}: HTTP {status}{hint}")
                    ) from None
                if status in _TRANSIENT_STATUS:
                    raise _Transient(f"HTTP {status} {text}", _retry_after(exc.headers)) from None
                raise RemoteError(
                    self.scrub(f"{method} {_show(url)}: HTTP {status}: {text}"),
                ) from _Status(status)
            except (TimeoutError, urllib.error.URLError, http.client.HTTPException, ConnectionError) as exc:
                reason = getattr(exc, "reason", exc)
                raise _Transient(f"{type(reason).__name__}: {reason}") from None
        raise AssertionError("unreachable")

    def _learn(self, challenge: str) -> bool:
        """Pick Basic or Digest from the server's challenge; False when there is nothing to answer with."""
        if self.credentials.user is None or self._scheme == "bearer":
            return False
        scheme, _, rest = challenge.strip().partition(" ")
        if scheme.lower() == "digest":
            self._challenge = urllib.request.parse_keqv_list(
                [p for p in urllib.request.parse_http_list(rest) if p]
            )
            self._scheme = "digest"
            return True
        if scheme.lower() == "basic" and self._scheme != "basic":
            self._scheme = "basic"
            return True
        return False

    def _authorize(self, req: urllib.request.Request) -> None:
        creds = self.credentials
        if self._scheme == "bearer" and creds.token:
            req.add_unredirected_header("Authorization", f"Bearer {creds.token}")
        elif self._scheme == "basic" and creds.user is not None:
            import base64

            pair = base64.b64encode(f"{creds.user}:{creds.password or ''}".encode()).decode("ascii")
            req.add_unredirected_header("Authorization", f"Basic {pair}")
        elif self._scheme == "digest" and creds.user is not None and self._challenge is not None:
            parts = urllib.parse.urlsplit(req.full_url)
            self._passwords.add_password(
                None, f"{parts.scheme}://{parts.netloc}/", creds.user, creds.password or ""
            )
            value = self._digest.get_authorization(req, self._challenge)
            if value:
                req.add_unredirected_header("Authorization", f"Digest {value}")


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    """Never follow a redirect: credentials and bodies stay with the endpoint given."""

    def redirect_request(self, *args: Any, **kwargs: Any) -> None:
        return None


class _Transient(Exception):
    def __init__(self, message: str, retry_after: float | None = None) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class _Status(Exception):
    def __init__(self, status: int) -> None:
        super().__init__(status)
        self.status = status


def _retry_after(headers: Any) -> float | None:
    value = headers.get("Retry-After") if headers else None
    try:
        return float(value) if value is not None else None
    except ValueError:
        return None


def _excerpt(body: bytes, limit: int = 300) -> str:
    text = " ".join(body.decode("utf-8", "replace").split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _show(url: str) -> str:
    """A URL for messages: no query string (it may be long) and never credentials."""
    parts = urllib.parse.urlsplit(url)
    return urllib.parse.urlunsplit((parts.scheme, parts.netloc.rpartition("@")[2], parts.path, "", ""))


# --- graphs as bodies ------------------------------------------------------------------------------------


def graph_ntriples(triples: Iterable[ox.Triple]) -> bytes:
    """N-Triples of ``triples``, one per line, sorted, so equal graphs give equal bytes."""
    body = ox.serialize(triples, format=ox.RdfFormat.N_TRIPLES) or b""
    lines = sorted(set(body.splitlines()))
    return b"".join(line + b"\n" for line in lines if line)


def checksum(body: bytes) -> str:
    """The checksum recorded for a pushed graph."""
    return "sha256:" + hashlib.sha256(body).hexdigest()


def _blank_groups(triples: Sequence[ox.Triple]) -> tuple[list[ox.Triple], list[list[ox.Triple]]]:
    """The triples without blank nodes, and the others grouped so that a blank node is in one group."""
    parent: dict[str, str] = {}

    def find(x: str) -> str:
        while parent.setdefault(x, x) != x:
            parent[x] = parent[parent[x]]
            x = parent[x]
        return x

    for t in triples:
        blanks = [n.value for n in (t.subject, t.object) if isinstance(n, ox.BlankNode)]
        if len(blanks) == 2:
            parent[find(blanks[0])] = find(blanks[1])
        elif blanks:
            find(blanks[0])
    groups: dict[str, list[ox.Triple]] = {}
    plain: list[ox.Triple] = []
    for t in triples:
        node = t.subject if isinstance(t.subject, ox.BlankNode) else t.object
        if isinstance(node, ox.BlankNode):
            groups.setdefault(find(node.value), []).append(t)
        else:
            plain.append(t)
    return plain, list(groups.values())


def _pack(groups: Iterable[list[T]], size: int, weight: Callable[[T], int] = lambda _: 1) -> list[list[T]]:
    """Consecutive groups joined into batches of at most ``size`` (a bigger group is a batch alone)."""
    batches: list[list[T]] = []
    current: list[T] = []
    total = 0
    for group in groups:
        w = sum(weight(x) for x in group)
        if current and total + w > size:
            batches.append(current)
            current, total = [], 0
        current.extend(group)
        total += w
    if current:
        batches.append(current)
    return batches


def update_operations(
    graph: ox.NamedNode, triples: Sequence[ox.Triple], chunk: int = MAX_TRIPLES_PER_OPERATION
) -> list[str]:
    """SPARQL Update operations that make ``graph`` hold exactly ``triples``.

    ``DROP SILENT GRAPH`` then ``INSERT DATA`` in chunks of at most ``chunk`` triples. Triples with
    blank nodes (Virtuoso refuses them in ``INSERT DATA``) go in ``INSERT { } WHERE { }`` operations
    of at most ``chunk // 8`` triples (Virtuoso compiles a template into much more SQL), each holding
    every triple of its blank nodes, so a blank node stays one node.
    """
    plain, groups = _blank_groups(triples)
    operations = [f"DROP SILENT GRAPH {graph}"]
    for batch in _pack(([t] for t in plain), chunk):
        body = (ox.serialize(batch, format=ox.RdfFormat.N_TRIPLES) or b"").decode("utf-8")
        operations.append(f"INSERT DATA {{ GRAPH {graph} {{ {body} }} }}")
    for batch in _pack(groups, max(1, chunk // 8)):
        body = (ox.serialize(batch, format=ox.RdfFormat.N_TRIPLES) or b"").decode("utf-8")
        operations.append(f"INSERT {{ GRAPH {graph} {{ {body} }} }} WHERE {{}}")
    return operations


# --- push ------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Endpoint:
    """Where a remote store listens: its SPARQL query, SPARQL Update and Graph Store Protocol URLs."""

    query: str
    update: str | None = None
    graph_store: str | None = None

    def __post_init__(self) -> None:
        for url in (self.query, self.update, self.graph_store):
            if url is not None:
                _check_url(url)

    @property
    def update_url(self) -> str:
        """The SPARQL Update URL (the query URL unless given)."""
        return self.update or self.query

    @property
    def key(self) -> str:
        """The name of this remote store in the state file: its SPARQL endpoint, whatever the protocol."""
        return self.query


class PushState:
    """Per endpoint, the checksum of each graph last pushed there; kept in a JSON file (or in memory)."""

    def __init__(self, path: Path | None) -> None:
        self.path = path
        self._data: dict[str, dict[str, str]] = {}
        if path is not None and path.is_file():
            try:
                loaded = json.loads(path.read_text(encoding="utf-8"))
                self._data = {str(k): dict(v) for k, v in loaded.get("endpoints", {}).items()}
            except (ValueError, AttributeError, TypeError):
                self._data = {}

    def get(self, endpoint: str, graph: str) -> str | None:
        """The checksum of ``graph`` last pushed to ``endpoint`` (``UNKNOWN``: some version, maybe)."""
        return self._data.get(endpoint, {}).get(graph)

    def graphs(self, endpoint: str) -> list[str]:
        """Every graph recorded as (perhaps) held by ``endpoint``, sorted."""
        return sorted(self._data.get(endpoint, {}))

    def set(self, endpoint: str, graph: str, value: str | None) -> None:
        """Record (or forget, with None) what ``endpoint`` holds for ``graph``."""
        graphs = self._data.setdefault(endpoint, {})
        if value is None:
            graphs.pop(graph, None)
        else:
            graphs[graph] = value

    def forget(self, endpoint: str) -> None:
        """Forget everything recorded for ``endpoint``."""
        self._data.pop(endpoint, None)

    def invalidate(self, endpoint: str) -> None:
        """Keep the graphs recorded for ``endpoint`` (a later deletion finds them) but not their checksums."""
        graphs = self._data.get(endpoint, {})
        for graph in graphs:
            graphs[graph] = UNKNOWN

    def save(self) -> None:
        """Write the file atomically (a new file renamed over the old)."""
        if self.path is None:
            return
        tmp = self.path.with_name(self.path.name + ".tmp")
        tmp.write_text(json.dumps({"version": 1, "endpoints": self._data}, indent=1, sort_keys=True), "utf-8")
        os.replace(tmp, self.path)


@dataclass
class PushReport:
    """What a push did: graphs and triples sent, skipped (unchanged), deleted (absent locally) and failed."""

    endpoint: str
    protocol: str = ""
    sent: list[str] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)
    deleted: list[str] = field(default_factory=list)
    failed: list[tuple[str, str]] = field(default_factory=list)
    triples_sent: int = 0
    triples_skipped: int = 0
    triples_failed: int = 0
    seconds: float = 0.0

    @property
    def ok(self) -> bool:
        """True when no graph failed."""
        return not self.failed

    @property
    def triples_per_second(self) -> float:
        """Throughput of the graphs sent."""
        return self.triples_sent / self.seconds if self.seconds > 0 else 0.0

    def summary(self) -> str:
        """The report in words, one line per count."""

        def n(graphs: Iterable[str]) -> str:
            names = list(graphs)
            trials = sum(1 for g in names if g.startswith(TRIAL))
            return f"{trials} trials" + (
                f" + {len(names) - trials} other graphs" if len(names) > trials else ""
            )

        lines = [
            f"pushed to {_show(self.endpoint)} over {self.protocol or '-'} in {self.seconds:.1f} s "
            f"({self.triples_per_second:,.0f} triples/s)",
            f"sent:    {n(self.sent)}, {self.triples_sent:,} triples",
            f"skipped: {n(self.skipped)} unchanged, {self.triples_skipped:,} triples",
            f"deleted: {n(self.deleted)} no longer in the store",
            f"failed:  {n(g for g, _ in self.failed)}, {self.triples_failed:,} triples",
        ]
        lines.extend(f"  {g}: {why}" for g, why in self.failed)
        return "\n".join(lines)


@dataclass
class _Item:
    graph: ox.NamedNode
    triples: list[ox.Triple]
    body: bytes
    checksum: str


class Pusher:
    """Loads named graphs of a store into a remote store, replacing each graph there."""

    def __init__(
        self,
        endpoint: Endpoint,
        client: HttpClient | None = None,
        protocol: str = "auto",
        batch_size: int = DEFAULT_BATCH,
        state: PushState | None = None,
        force: bool = False,
    ) -> None:
        if protocol not in PROTOCOLS:
            raise RemoteError(f"unknown protocol {protocol!r}; expected one of {', '.join(PROTOCOLS)}")
        if protocol == "gsp" and endpoint.graph_store is None:
            raise RemoteError("--protocol gsp needs the Graph Store Protocol URL (--graph-store)")
        self.endpoint = endpoint
        self.client = client or HttpClient()
        self.protocol = protocol if protocol != "auto" else ("gsp" if endpoint.graph_store else "update")
        self._may_fall_back = protocol == "auto" and endpoint.graph_store is not None
        self._auto = protocol == "auto"
        self.batch_size = max(1, batch_size)
        self.state = state or PushState(None)
        if force:
            self.state.invalidate(endpoint.key)

    def push(
        self,
        store: TrialStore,
        graphs: Iterable[ox.NamedNode],
        progress: Callable[[int], None] | None = None,
        delete_absent: bool = True,
    ) -> PushReport:
        """Push each graph (replacing it remotely) unless the state file says the remote holds it already.

        Then, unless ``delete_absent`` is False, delete remotely every graph the state file records
        as pushed that ``store`` no longer holds (a trial deleted locally), whatever the selection.
        """
        report = PushReport(self.endpoint.key)
        start = time.perf_counter()
        try:
            for batch in _batches(graphs, self.batch_size):
                items = [self._item(store, g) for g in batch]
                todo = []
                for item in items:
                    if self.state.get(self.endpoint.key, item.graph.value) == item.checksum:
                        report.skipped.append(item.graph.value)
                        report.triples_skipped += len(item.triples)
                    else:
                        todo.append(item)
                self._send(todo, report)
                self.state.save()
                if progress is not None:
                    progress(len(items))
            if delete_absent:
                self.delete(self.absent(store), report)
        finally:
            report.protocol = self.protocol
            report.seconds = time.perf_counter() - start
            self.state.save()
        return report

    def absent(self, store: TrialStore) -> list[str]:
        """The graphs recorded as pushed to this endpoint that ``store`` does not hold."""
        return [g for g in self.state.graphs(self.endpoint.key) if not store.has_graph(ox.NamedNode(g))]

    def delete(self, graphs: Sequence[str], report: PushReport) -> None:
        """Delete ``graphs`` remotely (a graph already absent there counts as deleted), forgetting each.

        A graph whose deletion fails stays in the state file, so the next push tries again.
        """
        for batch in _batches((ox.NamedNode(g) for g in graphs), self.batch_size):
            if self.protocol == "gsp":
                for number, graph in enumerate(batch):
                    try:
                        self._delete_graph(graph)
                    except RemoteError as exc:
                        if self._auto and _status(exc) in _NO_GSP_STATUS - {404}:
                            self.protocol = "update"
                            self._drop(batch[number:], report)
                            break
                        if isinstance(exc, AuthenticationError):
                            raise
                        report.failed.append((graph.value, f"delete: {exc}"))
                        continue
                    self._mark_deleted([graph], report)
            else:
                self._drop(batch, report)
            self.state.save()

    def _delete_graph(self, graph: ox.NamedNode) -> None:
        assert self.endpoint.graph_store is not None
        sep = "&" if "?" in self.endpoint.graph_store else "?"
        url = f"{self.endpoint.graph_store}{sep}{urllib.parse.urlencode({'graph': graph.value})}"
        try:
            self.client.request("DELETE", url)
        except AuthenticationError:
            raise
        except RemoteError as exc:
            if _status(exc) != 404:  # 404: the remote does not hold it, as wanted
                raise

    def _drop(self, graphs: list[ox.NamedNode], report: PushReport) -> None:
        if not graphs:
            return
        try:
            self.client.request(
                "POST",
                self.endpoint.update_url,
                urllib.parse.urlencode(
                    {"update": " ;\n".join(f"DROP SILENT GRAPH {g}" for g in graphs)}
                ).encode("utf-8"),
                {"Content-Type": "application/x-www-form-urlencoded; charset=UTF-8"},
            )
        except AuthenticationError:
            raise
        except RemoteError as exc:
            report.failed.extend((g.value, f"delete: {exc}") for g in graphs)
            return
        self._mark_deleted(graphs, report)

    def _mark_deleted(self, graphs: list[ox.NamedNode], report: PushReport) -> None:
        for graph in graphs:
            self.state.set(self.endpoint.key, graph.value, None)
            report.deleted.append(graph.value)

    def _item(self, store: TrialStore, graph: ox.NamedNode) -> _Item:
        triples = [q.triple for q in store.quads(graph)]
        body = graph_ntriples(triples)
        return _Item(graph, triples, body, checksum(body))

    def _send(self, items: list[_Item], report: PushReport) -> None:
        if not items:
            return
        if self.protocol == "gsp":
            for item in items:
                try:
                    self._put(item)
                except RemoteError as exc:
                    if self._may_fall_back and _status(exc) in _NO_GSP_STATUS:
                        self.protocol, self._may_fall_back = "update", False
                        self._send(items[items.index(item) :], report)
                        return
                    if isinstance(exc, AuthenticationError):
                        raise
                    self._fail([item], str(exc), report)
                    continue
                self._mark_sent([item], report)
                self._may_fall_back = False
            return
        for request in _pack(([item] for item in items), MAX_TRIPLES_PER_REQUEST, lambda i: len(i.triples)):
            self._post_update(request, report)

    def _post_update(self, items: list[_Item], report: PushReport) -> None:
        operations = [op for item in items for op in update_operations(item.graph, item.triples)]
        try:
            self.client.request(
                "POST",
                self.endpoint.update_url,
                urllib.parse.urlencode({"update": " ;\n".join(operations)}).encode("utf-8"),
                {"Content-Type": "application/x-www-form-urlencoded; charset=UTF-8"},
            )
        except AuthenticationError:
            raise
        except RemoteError as exc:
            self._fail(items, str(exc), report)
            return
        self._mark_sent(items, report)

    def _put(self, item: _Item) -> None:
        assert self.endpoint.graph_store is not None
        sep = "&" if "?" in self.endpoint.graph_store else "?"
        url = f"{self.endpoint.graph_store}{sep}{urllib.parse.urlencode({'graph': item.graph.value})}"
        self.client.request("PUT", url, item.body, {"Content-Type": "application/n-triples; charset=UTF-8"})

    def _mark_sent(self, items: list[_Item], report: PushReport) -> None:
        for item in items:
            self.state.set(self.endpoint.key, item.graph.value, item.checksum)
            report.sent.append(item.graph.value)
            report.triples_sent += len(item.triples)

    def _fail(self, items: list[_Item], why: str, report: PushReport) -> None:
        for item in items:
            # The remote holds the old graph, the new one or none; which is not known, so push it next
            # time (and, should the trial be deleted meanwhile, delete it there).
            self.state.set(self.endpoint.key, item.graph.value, UNKNOWN)
            report.failed.append((item.graph.value, why))
            report.triples_failed += len(item.triples)


def _status(exc: BaseException) -> int | None:
    """The HTTP status behind a :class:`RemoteError`, if there was one."""
    cause = exc.__cause__
    return cause.status if isinstance(cause, _Status) else None


def _batches(items: Iterable[ox.NamedNode], size: int) -> Iterator[list[ox.NamedNode]]:
    batch: list[ox.NamedNode] = []
    for item in items:
        batch.append(item)
        if len(batch) >= size:
            yield batch
            batch = []
    if batch:
        yield batch


def state_path(store: TrialStore) -> Path | None:
    """The push state file of an on-disk store (None for an in-memory store)."""
    return store.path / STATE_FILE if store.path is not None else None


# --- remote queries --------------------------------------------------------------------------------------


class RemoteGraph:
    """The query library run against a remote SPARQL endpoint through SPARQLWrapper.

    The library's queries read the default graph as the union of the named graphs: on Virtuoso it is;
    start Oxigraph with ``--union-default-graph``; elsewhere pass ``default_graphs`` (sent as the
    protocol's ``default-graph-uri``) to name the graphs the default graph merges.
    """

    def __init__(
        self,
        url: str,
        credentials: Credentials | None = None,
        default_graphs: Sequence[str] = (),
        timeout: float = DEFAULT_TIMEOUT,
    ) -> None:
        self.url = _check_url(url)
        self.credentials = credentials or Credentials()
        self.default_graphs = list(default_graphs)
        self.timeout = timeout

    def query(self, query: str | os.PathLike[str], **params: object) -> QueryResult:
        """Run a library query by name (or a ``.rq`` file, or SPARQL text) with its parameters bound."""
        from trialgraph.api import resolve_query

        return self.sparql(resolve_query(query).bind(**params))

    def run(self, query: LibraryQuery, **params: object) -> QueryResult:
        """Run a loaded library query."""
        return self.sparql(query.bind(**params))

    def sparql(self, text: str) -> QueryResult:
        """Run SPARQL text (SELECT or ASK) and return its rows."""
        from SPARQLWrapper import DIGEST, JSON, POST, SPARQLWrapper
        from SPARQLWrapper.SPARQLExceptions import SPARQLWrapperException

        scrub = HttpClient(self.credentials).scrub
        for scheme in ("basic", "digest"):
            wrapper = SPARQLWrapper(self.url)
            wrapper.setQuery(text)
            wrapper.setMethod(POST)
            wrapper.setReturnFormat(JSON)
            wrapper.setTimeout(int(self.timeout))
            for graph in self.default_graphs:
                wrapper.addDefaultGraph(graph)
            if self.credentials.token:
                wrapper.addCustomHttpHeader("Authorization", f"Bearer {self.credentials.token}")
            elif self.credentials.user is not None:
                if scheme == "digest":
                    wrapper.setHTTPAuth(DIGEST)
                wrapper.setCredentials(self.credentials.user, self.credentials.password or "")
            try:
                payload = wrapper.queryAndConvert()
            except urllib.error.HTTPError as exc:
                if exc.code == 401 and scheme == "basic" and self.credentials.user is not None:
                    continue
                raise RemoteError(scrub(f"{_show(self.url)}: HTTP {exc.code} {exc.reason}")) from None
            except SPARQLWrapperException as exc:
                if "401" in str(exc) or "Unauthorized" in type(exc).__name__:
                    if scheme == "basic" and self.credentials.user is not None:
                        continue
                    raise AuthenticationError(scrub(f"{_show(self.url)} rejected the credentials")) from None
                raise RemoteError(scrub(f"{_show(self.url)}: {_excerpt(str(exc).encode())}")) from None
            except (urllib.error.URLError, OSError, http.client.HTTPException) as exc:
                raise RemoteError(scrub(f"{_show(self.url)}: {exc}")) from None
            if not isinstance(payload, dict):
                raise RemoteError(f"{_show(self.url)} did not answer in SPARQL JSON")
            return results_from_json(payload)
        raise AuthenticationError(scrub(f"{_show(self.url)} rejected the credentials"))


def results_from_json(payload: dict[str, Any]) -> QueryResult:
    """A :class:`QueryResult` from SPARQL 1.1 Query Results JSON (Virtuoso's ``typed-literal`` too)."""
    if "boolean" in payload:
        return QueryResult([], [], bool(payload["boolean"]))
    variables = list(payload.get("head", {}).get("vars", []))
    rows: list[Row] = []
    for binding in payload.get("results", {}).get("bindings", []):
        rows.append({v: _term(binding[v]) if v in binding else None for v in variables})
    return QueryResult(variables, rows)


def _term(value: dict[str, str]) -> Term:
    kind = value.get("type")
    if kind == "uri":
        return ox.NamedNode(value["value"])
    if kind == "bnode":  # Virtuoso names them nodeID://b10000, not a valid label
        return ox.BlankNode(re.sub(r"[^A-Za-z0-9_]", "_", value["value"]) or None)
    lang = value.get("xml:lang")
    if lang:
        return ox.Literal(value["value"], language=lang)
    datatype = value.get("datatype")
    return ox.Literal(value["value"], datatype=ox.NamedNode(datatype) if datatype else None)
