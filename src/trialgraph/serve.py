"""A local SPARQL 1.1 endpoint over the embedded store, with a query page; standard library HTTP only.

``/`` is an HTML form, ``/sparql`` the endpoint (SPARQL 1.1 Protocol: GET ``?query=``, POST form or
``application/sparql-query``; results as SPARQL JSON, XML, CSV or TSV by ``Accept`` or ``format=``).
Nothing else is served, no file in particular. The default graph is the union of the named graphs,
as for the query library. Queries run in worker processes that open the store themselves: one
that runs past the time limit is killed and replaced, and at most ``max_rows`` rows (or triples)
are returned, with the header ``X-SPARQL-MaxRows`` when the result was cut. Read-only by default
(the store is opened read-only, SPARQL Update gets 403); ``writable=True`` runs updates in a
single read-write worker.
"""

from __future__ import annotations

import contextlib
import ctypes
import errno
import html
import itertools
import multiprocessing
import platform
import queue
import re
import socket
import sys
import threading
import time
import urllib.parse
from dataclasses import dataclass, field
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any
from xml.sax.saxutils import escape, quoteattr

from trialgraph.errors import StoreError
from trialgraph.namespaces import PREFIXES, XSD
from trialgraph.store import new_stamp, unsettle_stamp

DEFAULT_PORT = 7879
DEFAULT_TIMEOUT = 30.0
DEFAULT_MAX_ROWS = 100_000
MAX_REQUEST_BYTES = 1_000_000
MAX_UPDATE_BYTES = 256_000_000
"""Request size limits: a query, and (with ``writable``) an update, which may carry whole graphs."""
RESULT_TYPES = {
    "json": "application/sparql-results+json",
    "xml": "application/sparql-results+xml",
    "csv": "text/csv",
    "tsv": "text/tab-separated-values",
}
GRAPH_TYPES = {
    "turtle": "text/turtle",
    "ntriples": "application/n-triples",
    "rdfxml": "application/rdf+xml",
    "jsonld": "application/ld+json",
    "nquads": "application/n-quads",
    "trig": "application/trig",
}


@dataclass
class Response:
    """What the endpoint answers: status, media type, body and extra headers."""

    status: int
    content_type: str
    body: bytes
    headers: dict[str, str] = field(default_factory=dict)


def _text(status: int, message: str) -> Response:
    return Response(status, "text/plain; charset=utf-8", (message.rstrip() + "\n").encode("utf-8"))


def negotiate(accept: str, wanted: str | None, table: dict[str, str]) -> str | None:
    """The format key to answer with: ``wanted`` (``format=``) if known, else the first ``Accept`` match.

    >>> negotiate("text/csv, */*;q=0.1", None, RESULT_TYPES)
    'csv'
    >>> negotiate("text/html", None, RESULT_TYPES) is None
    True
    """
    if wanted:
        return wanted if wanted in table else None
    ranges = []
    for part in accept.split(","):
        media, *params = [p.strip() for p in part.split(";")]
        q = 1.0
        for p in params:
            if p.startswith("q="):
                try:
                    q = float(p[2:])
                except ValueError:
                    q = 0.0
        ranges.append((q, media.lower()))
    if not ranges or accept.strip() == "":
        return next(iter(table))
    for _q, media in sorted(ranges, key=lambda r: -r[0]):
        if media in ("*/*", "application/*", "text/*"):
            return next(iter(table))
        if media == "application/json" and "json" in table:
            return "json"
        if media == "application/xml" and "xml" in table:
            return "xml"
        for key, value in table.items():
            if value == media:
                return key
    return None


_IRI_RE = re.compile(r"""<[^<>"{}|^`\\\x00-\x20]*>""")
_STRING_BODY = {
    "'": re.compile(r"(?:[^'\\\n\r]|\\.)*"),
    '"': re.compile(r'(?:[^"\\\n\r]|\\.)*'),
    "'''": re.compile(r"(?:[^'\\]|\\.|'(?!''))*", re.DOTALL),
    '"""': re.compile(r'(?:[^"\\]|\\.|"(?!""))*', re.DOTALL),
}
_PLAIN_RE = re.compile(r"""[^#'"<]+""")
_OUTBOUND_RE = re.compile(r"(?<![\w?$:])(SERVICE|LOAD)(?![\w:-])", re.IGNORECASE)


def _code(text: str) -> str:
    """``text`` with IRIs, strings and comments blanked, in one left-to-right pass.

    A string left open takes the rest of its line (a long string, of the text) and the scan never
    starts again inside it, so the time is linear whatever the input (a regular expression
    substitution over the whole text was quadratic on ``'\\'\\'\\'...``).
    """
    out: list[str] = []
    i, n = 0, len(text)
    while i < n:
        c = text[i]
        if c == "#":
            end = text.find("\n", i)
            i = n if end < 0 else end
            out.append(" ")
        elif c in "'\"":
            quote = c * 3 if text.startswith(c * 3, i) else c
            body = _STRING_BODY[quote].match(text, i + len(quote))
            assert body is not None  # every body pattern matches the empty string
            i = body.end() + (len(quote) if text.startswith(quote, body.end()) else 0)
            out.append(" ")
        elif c == "<" and (iri := _IRI_RE.match(text, i)) is not None:
            i = iri.end()
            out.append(" ")
        else:
            plain = _PLAIN_RE.match(text, i + 1)
            j = plain.end() if plain is not None else i + 1
            out.append(text[i:j])
            i = j
    return "".join(out)


def outbound_keyword(text: str) -> str | None:
    """``SERVICE`` or ``LOAD`` when the SPARQL text uses one (outside IRIs, strings and comments).

    Either makes the store engine fetch a URL; an endpoint anyone (or any web page) on the machine
    can reach must not fetch URLs on their behalf.

    >>> outbound_keyword('SELECT * WHERE { service <http://10.0.0.1/> { ?s ?p ?o } }')
    'SERVICE'
    >>> outbound_keyword('SELECT ?service WHERE { ?s ?p "LOAD" } # SERVICE')
    """
    m = _OUTBOUND_RE.search(_code(text))
    return m.group(1).upper() if m else None


# --- the worker process ------------------------------------------------------------------------------------


_VANISHED = "No such file or directory"
_REOPENS = 5


# seccomp: the audit architecture and the number of socket(2), by machine.
_SECCOMP_ARCHES = {"x86_64": (0xC000003E, 41), "aarch64": (0xC00000B7, 198)}


class _SockFilter(ctypes.Structure):
    _fields_ = [
        ("code", ctypes.c_uint16),
        ("jt", ctypes.c_uint8),
        ("jf", ctypes.c_uint8),
        ("k", ctypes.c_uint32),
    ]


class _SockFprog(ctypes.Structure):
    _fields_ = [("len", ctypes.c_uint16), ("filter", ctypes.POINTER(_SockFilter))]


def forbid_network() -> bool:
    """Make ``socket(AF_INET|AF_INET6)`` fail with EPERM in this process for good (Linux seccomp).

    A query worker needs no network, but the store engine fetches URLs for ``SERVICE`` and
    ``LOAD``. :func:`outbound_keyword` refuses those with a clear message; this makes sure no
    spelling it misses (the grammar lets ``<`` be an IRI or "less than") reaches the network.
    False where it cannot be applied (another system or machine, or seccomp not permitted).
    """
    arch = _SECCOMP_ARCHES.get(platform.machine())
    if not sys.platform.startswith("linux") or arch is None:
        return False
    load, jump_if_equal, ret = 0x20, 0x15, 0x06  # BPF_LD|BPF_W|BPF_ABS, BPF_JMP|BPF_JEQ|BPF_K, BPF_RET|BPF_K
    allow, eperm = 0x7FFF0000, 0x00050000 | errno.EPERM  # SECCOMP_RET_ALLOW, SECCOMP_RET_ERRNO
    program = [
        (load, 0, 0, 4),  # the architecture
        (jump_if_equal, 0, 5, arch[0]),
        (load, 0, 0, 0),  # the system call
        (jump_if_equal, 0, 3, arch[1]),
        (load, 0, 0, 16),  # its first argument: the address family
        (jump_if_equal, 2, 0, socket.AF_INET),
        (jump_if_equal, 1, 0, socket.AF_INET6),
        (ret, 0, 0, allow),
        (ret, 0, 0, eperm),
    ]
    filters = (_SockFilter * len(program))(*(_SockFilter(*step) for step in program))
    fprog = _SockFprog(len(program), filters)
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        pr_set_no_new_privs, pr_set_seccomp, seccomp_mode_filter = 38, 22, 2
        if libc.prctl(pr_set_no_new_privs, 1, 0, 0, 0) != 0:
            return False
        return bool(libc.prctl(pr_set_seccomp, seccomp_mode_filter, ctypes.byref(fprog), 0, 0) == 0)
    except (OSError, AttributeError):
        return False


def _open(path: str, writable: bool) -> Any:
    import pyoxigraph as ox

    return ox.Store(path) if writable else ox.Store.read_only(path)


def _worker(conn: Connection, path: str, writable: bool, max_rows: int) -> None:
    """Open the store and answer requests ``(kind, text, result format, graph format)`` until told to stop.

    A read-only worker reads the store as it was when opened. An ingest running meanwhile may delete
    files of that snapshot ("No such file or directory"): the worker then opens the store again
    (seeing the newer state) and runs the request again.
    """
    try:
        store = _open(path, writable)
    except (OSError, RuntimeError) as exc:
        conn.send(("error", str(exc)))
        return
    forbid_network()
    conn.send(("ready", ""))
    while True:
        try:
            message = conn.recv()
        except EOFError:
            return
        if message is None:
            return
        kind, text, result_fmt, graph_fmt = message
        for attempt in range(_REOPENS + 1):
            try:
                if kind == "update":
                    unsettle_stamp(path)  # caches of the store's content are stale from here
                    store.update(text)
                    store.flush()
                    new_stamp(path)
                    answer: tuple[Any, ...] = (204, "text/plain", b"", {})
                else:
                    result = store.query(text, use_default_graph_as_union=True)
                    answer = _answer(result, result_fmt, graph_fmt, max_rows)
            except SyntaxError as exc:
                answer = (400, "text/plain; charset=utf-8", f"invalid SPARQL: {exc}\n".encode(), {})
            except Exception as exc:
                if not writable and _VANISHED in str(exc) and attempt < _REOPENS:
                    time.sleep(0.02 * 2**attempt)
                    with contextlib.suppress(OSError, RuntimeError):
                        store = _open(path, writable)
                    continue
                answer = (500, "text/plain; charset=utf-8", f"query failed: {exc}\n".encode(), {})
            break
        conn.send(answer)


def _answer(result: Any, result_fmt: str | None, graph_fmt: str | None, max_rows: int) -> tuple[Any, ...]:
    import pyoxigraph as ox

    from trialgraph.results import QueryResult
    from trialgraph.store import FORMATS, QUAD_FORMATS

    if isinstance(result, ox.QueryTriples):
        if graph_fmt is None:
            return (
                406,
                "text/plain",
                f"a graph result is served as: {', '.join(GRAPH_TYPES.values())}\n".encode(),
                {},
            )
        triples = list(itertools.islice(result, max_rows + 1))
        headers = _cut_header(len(triples), max_rows)
        triples = triples[:max_rows]
        items: Any = (
            [ox.Quad(t.subject, t.predicate, t.object) for t in triples]
            if graph_fmt in QUAD_FORMATS
            else triples
        )
        body = ox.serialize(items, format=FORMATS[graph_fmt], prefixes=dict(PREFIXES)) or b""
        return (200, GRAPH_TYPES[graph_fmt] + "; charset=utf-8", body, headers)
    if result_fmt is None:
        return (
            406,
            "text/plain",
            f"results are served as: {', '.join(RESULT_TYPES.values())}\n".encode(),
            {},
        )
    if isinstance(result, ox.QueryBoolean):
        answer = QueryResult([], [], bool(result))
        headers = {}
    else:
        variables = [v.value for v in result.variables]
        solutions = list(itertools.islice(result, max_rows + 1))
        headers = _cut_header(len(solutions), max_rows)
        answer = QueryResult(variables, [{v: s[v] for v in variables} for s in solutions[:max_rows]])
    if result_fmt == "xml":
        body = to_xml(answer).encode("utf-8")
    elif answer.boolean is not None and result_fmt in ("csv", "tsv"):
        body = (("true" if answer.boolean else "false") + "\n").encode()
    else:
        body = answer.format(result_fmt).encode("utf-8")
    return (200, RESULT_TYPES[result_fmt] + "; charset=utf-8", body, headers)


def _cut_header(count: int, max_rows: int) -> dict[str, str]:
    return {"X-SPARQL-MaxRows": str(max_rows)} if count > max_rows else {}


def to_xml(result: Any) -> str:
    """SPARQL 1.1 Query Results XML of a :class:`~trialgraph.results.QueryResult`.

    >>> from trialgraph.results import QueryResult
    >>> print(to_xml(QueryResult([], [], True)))  # doctest: +NORMALIZE_WHITESPACE
    <?xml version="1.0"?> <sparql xmlns="http://www.w3.org/2005/sparql-results#"><head/>
    <boolean>true</boolean></sparql>
    """
    import pyoxigraph as ox

    out = ['<?xml version="1.0"?>\n<sparql xmlns="http://www.w3.org/2005/sparql-results#">']
    if result.boolean is not None:
        out.append(f"<head/>\n<boolean>{'true' if result.boolean else 'false'}</boolean></sparql>")
        return "".join(out)
    out.append("<head>" + "".join(f"<variable name={quoteattr(v)}/>" for v in result.variables) + "</head>\n")
    out.append("<results>\n")
    for row in result.rows:
        out.append("<result>")
        for name, term in row.items():
            if term is None:
                continue
            if isinstance(term, ox.NamedNode):
                value = f"<uri>{escape(term.value)}</uri>"
            elif isinstance(term, ox.BlankNode):
                value = f"<bnode>{escape(term.value)}</bnode>"
            elif term.language:
                value = f"<literal xml:lang={quoteattr(term.language)}>{escape(term.value)}</literal>"
            elif term.datatype.value != XSD + "string":
                value = f"<literal datatype={quoteattr(term.datatype.value)}>{escape(term.value)}</literal>"
            else:
                value = f"<literal>{escape(term.value)}</literal>"
            out.append(f"<binding name={quoteattr(name)}>{value}</binding>")
        out.append("</result>\n")
    out.append("</results>\n</sparql>")
    return "".join(out)


# --- the pool of workers ---------------------------------------------------------------------------


class _Worker:
    def __init__(self, path: str, writable: bool, max_rows: int) -> None:
        context = multiprocessing.get_context("spawn")
        self.conn, child = context.Pipe()
        self.process = context.Process(target=_worker, args=(child, path, writable, max_rows), daemon=True)
        self.process.start()
        child.close()
        ready = self.conn.recv() if self.conn.poll(60) else ("error", "the worker did not start")
        if ready[0] != "ready":
            self.stop(kill=True)
            raise StoreError(f"cannot open store {path}: {ready[1]}")

    def stop(self, kill: bool = False) -> None:
        if kill:
            self.process.kill()
        else:
            try:
                self.conn.send(None)
            except OSError:
                self.process.kill()
        self.process.join(5)
        if self.process.is_alive():
            self.process.kill()
            self.process.join()
        self.conn.close()


class QueryService:
    """Worker processes holding the store; each request runs in one of them, within the time limit."""

    def __init__(
        self,
        store: str | Path,
        writable: bool = False,
        timeout: float = DEFAULT_TIMEOUT,
        max_rows: int = DEFAULT_MAX_ROWS,
        workers: int = 2,
    ) -> None:
        self.path = str(store)
        self.writable = writable
        self.timeout = timeout
        self.max_rows = max_rows
        self._idle: queue.Queue[_Worker] = queue.Queue()
        self._all: list[_Worker] = []
        self._lock = threading.Lock()
        for _ in range(1 if writable else max(1, workers)):
            self._add()

    def _add(self) -> None:
        worker = _Worker(self.path, self.writable, self.max_rows)
        with self._lock:
            self._all.append(worker)
        self._idle.put(worker)

    def run(self, kind: str, text: str, result_fmt: str | None, graph_fmt: str | None) -> Response:
        """Run a query or an update in a worker; 503 when none is free or it runs out of time."""
        keyword = outbound_keyword(text)
        if keyword is not None:
            refusal = f"{keyword} is refused: this endpoint fetches no URLs (no federated query, no LOAD)"
            return _text(403, refusal)
        try:
            worker = self._idle.get(timeout=self.timeout)
        except queue.Empty:
            return _text(503, "the endpoint is busy; try again")
        try:
            worker.conn.send((kind, text, result_fmt, graph_fmt))
            if worker.conn.poll(self.timeout):
                status, content_type, body, headers = worker.conn.recv()
                self._idle.put(worker)
                return Response(status, content_type, body, headers)
        except (EOFError, OSError):
            pass
        with self._lock:
            self._all.remove(worker)
        worker.stop(kill=True)
        self._add()
        return _text(503, f"the query ran longer than the limit of {self.timeout:g} s and was stopped")

    def close(self) -> None:
        """Stop every worker."""
        with self._lock:
            workers, self._all = self._all, []
        for worker in workers:
            worker.stop()


# --- HTTP --------------------------------------------------------------------------------------------------


PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>trialgraph SPARQL</title>
<style>body{{font-family:sans-serif;max-width:60em;margin:2em auto}}
textarea{{width:100%;font-family:monospace}}</style>
</head><body>
<h1>trialgraph SPARQL endpoint</h1>
<p>The default graph is the union of every trial graph and the ontology. Endpoint: <code>/sparql</code>
(SPARQL 1.1 Protocol, GET or POST). {mode}</p>
<form action="/sparql" method="get">
<textarea name="query" rows="16">{query}</textarea>
<p><label>Results as <select name="format">
<option value="json">SPARQL JSON</option><option value="xml">SPARQL XML</option>
<option value="csv">CSV</option><option value="tsv">TSV</option></select></label>
(CONSTRUCT and DESCRIBE: Turtle) <button type="submit">Run query</button></p>
</form></body></html>
"""
DEFAULT_QUERY = """PREFIX tg: <https://w3id.org/trialgraph/ontology#>
SELECT ?trial ?nct_id ?title WHERE {
  ?trial a tg:ClinicalTrial .
  OPTIONAL { ?trial tg:nctId ?nct_id }
  OPTIONAL { ?trial tg:briefTitle ?title }
}
ORDER BY ?nct_id
LIMIT 100"""


class Handler(BaseHTTPRequestHandler):
    """The endpoint's request handler: ``/`` and ``/sparql`` only."""

    server: EndpointServer
    server_version = "trialgraph"
    protocol_version = "HTTP/1.1"
    timeout = 60
    """Seconds a connection may stay silent (mid-request or kept alive) before it is closed."""

    def log_message(self, format: str, *args: Any) -> None:
        """Log to the server's log function (quiet by default)."""
        if self.server.log is not None:
            self.server.log(format % args)

    def do_GET(self) -> None:
        """The query page, or a query given in the URL."""
        url = urllib.parse.urlsplit(self.path)
        params = urllib.parse.parse_qs(url.query)
        if url.path == "/":
            mode = "Read-only." if not self.server.service.writable else "SPARQL Update is enabled."
            page = PAGE.format(mode=mode, query=html.escape(DEFAULT_QUERY))
            self._send(Response(200, "text/html; charset=utf-8", page.encode("utf-8")))
        elif url.path == "/sparql":
            if "update" in params:
                self._send(self._update_refused() or _text(405, "SPARQL Update needs POST"))
            elif "query" in params:
                self._send(self._query(params["query"][0], params))
            else:
                self._send(_text(400, "give a query: /sparql?query=..."))
        else:
            self._send(_text(404, "not found: this server answers only / and /sparql"))

    def do_POST(self) -> None:
        """A query or update: form-encoded, ``application/sparql-query`` or ``application/sparql-update``."""
        url = urllib.parse.urlsplit(self.path)
        if url.path != "/sparql":
            self._send(_text(404, "not found: this server answers only / and /sparql"))
            return
        try:
            length = int(self.headers.get("Content-Length") or 0)
        except ValueError:
            length = -1
        if length < 0:
            self.close_connection = True
            self._send(_text(400, "Content-Length must be a number of bytes"))
            return
        limit = MAX_UPDATE_BYTES if self.server.service.writable else MAX_REQUEST_BYTES
        if length > limit:
            self.close_connection = True
            self._send(_text(413, f"a request is limited to {limit} bytes"))
            return
        body = self.rfile.read(length).decode("utf-8", "replace")
        params = urllib.parse.parse_qs(url.query)
        media = (self.headers.get("Content-Type") or "").split(";")[0].strip().lower()
        if media == "application/sparql-update":
            self._send(self._update(body))
        elif media == "application/sparql-query":
            self._send(self._query(body, params))
        elif media == "application/x-www-form-urlencoded":
            form = urllib.parse.parse_qs(body)
            if "update" in form:
                self._send(self._update(form["update"][0]))
            elif "query" in form:
                self._send(self._query(form["query"][0], {**params, **form}))
            else:
                self._send(_text(400, "the form holds neither query nor update"))
        else:
            self._send(_text(415, "POST application/sparql-query, application/sparql-update or a form"))

    def do_PUT(self) -> None:
        """No Graph Store Protocol here."""
        self._send(_text(405, "this endpoint takes SPARQL queries (GET or POST) only"))

    do_DELETE = do_PUT

    def _update_refused(self) -> Response | None:
        if not self.server.service.writable:
            return _text(
                403, "this endpoint is read-only; start `trialgraph serve --writable` to allow updates"
            )
        return None

    def _update(self, text: str) -> Response:
        return self._update_refused() or self.server.service.run("update", text, None, None)

    def _query(self, text: str, params: dict[str, list[str]]) -> Response:
        wanted = params.get("format", [None])[0]
        accept = self.headers.get("Accept") or ""
        result_fmt = negotiate(accept, wanted, RESULT_TYPES)
        graph_fmt = negotiate(accept, wanted if wanted in GRAPH_TYPES else None, GRAPH_TYPES)
        if wanted in RESULT_TYPES and graph_fmt is None:
            graph_fmt = "turtle"
        return self.server.service.run("query", text, result_fmt, graph_fmt)

    def _send(self, response: Response) -> None:
        self.send_response(response.status, HTTPStatus(response.status).phrase)
        self.send_header("Content-Type", response.content_type)
        self.send_header("Content-Length", str(len(response.body)))
        self.send_header("X-Content-Type-Options", "nosniff")
        for key, value in response.headers.items():
            self.send_header(key, value)
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(response.body)


class EndpointServer(ThreadingHTTPServer):
    """A threading HTTP server over a :class:`QueryService`."""

    daemon_threads = True

    def __init__(self, address: tuple[str, int], service: QueryService, log: Any = None) -> None:
        super().__init__(address, Handler)
        self.service = service
        self.log = log

    def handle_error(self, request: Any, client_address: Any) -> None:
        """A client that hung up or went silent is no server error; others are reported as usual."""
        if isinstance(sys.exc_info()[1], ConnectionError | TimeoutError):
            return
        super().handle_error(request, client_address)

    def server_close(self) -> None:
        """Close the socket and stop the workers."""
        super().server_close()
        self.service.close()


def make_server(
    store: str | Path,
    host: str = "127.0.0.1",
    port: int = DEFAULT_PORT,
    writable: bool = False,
    timeout: float = DEFAULT_TIMEOUT,
    max_rows: int = DEFAULT_MAX_ROWS,
    workers: int = 2,
    log: Any = None,
) -> EndpointServer:
    """A server for the store at ``store`` (port 0: any free port); call ``serve_forever`` on it."""
    if not Path(store).is_dir():
        raise StoreError(f"no store at {store}; create one with `trialgraph ingest PATH`")
    service = QueryService(store, writable=writable, timeout=timeout, max_rows=max_rows, workers=workers)
    try:
        return EndpointServer((host, port), service, log)
    except OSError as exc:
        service.close()
        raise StoreError(f"cannot listen on {host}:{port}: {exc.strerror or exc}") from None
