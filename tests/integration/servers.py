"""Real triple stores started on 127.0.0.1 in a folder of their own: Oxigraph and Virtuoso 7.

Shared by the integration tests (``tests/integration``) and the push benchmark
(``benchmarks/push_export.py``). Oxigraph comes from the ``oxigraph`` package on PyPI (the ``dev``
extra), Virtuoso Open Source 7 from Debian's ``virtuoso-opensource`` (``make virtuoso``). Each server
gets a database in the folder given, free ports and (Virtuoso) a random ``dba`` password; leaving the
``with`` block stops it.

    with start_oxigraph(folder) as server:
        Pusher(server.endpoint(), HttpClient(server.credentials())).push(...)
"""

from __future__ import annotations

import contextlib
import ctypes
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from trialgraph.namespaces import BASE
from trialgraph.remote import Credentials, Endpoint, HttpClient, RemoteGraph


class NotInstalled(RuntimeError):
    """The server's program is not on this machine."""


class DidNotStart(RuntimeError):
    """The server was started but did not answer (the message holds the end of its log)."""


def free_port() -> int:
    """A TCP port free on 127.0.0.1 now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_http(url: str, seconds: float, process: subprocess.Popen[bytes]) -> bool:
    """Poll ``url`` until it answers (any HTTP status) or the process dies."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if process.poll() is not None:
            return False
        try:
            with urllib.request.urlopen(url, timeout=2):
                return True
        except urllib.error.HTTPError:
            return True
        except OSError:
            time.sleep(0.2)
    return False


@dataclass
class Server:
    """A running triple store: its URLs, credentials and version."""

    name: str
    version: str
    query: str
    update: str
    graph_store: str
    user: str | None = None
    password: str | None = None
    folder: Path | None = None
    """Where its database lives."""
    sql: str | None = None
    """Virtuoso's SQL port (``127.0.0.1:PORT``), for :func:`isql`."""

    def endpoint(self, base: str | None = None) -> Endpoint:
        """The endpoint, optionally reached through a proxy at ``base`` (scheme://host:port)."""

        def via(url: str) -> str:
            if base is None:
                return url
            parts = urllib.parse.urlsplit(url)
            return base + parts.path

        return Endpoint(via(self.query), via(self.update), via(self.graph_store))

    def credentials(self, password: str | None = None) -> Credentials:
        """The server's credentials (or its user with another password)."""
        return Credentials(self.user, password if password is not None else self.password)

    def remote(self) -> RemoteGraph:
        """The read endpoint (anonymous)."""
        return RemoteGraph(self.query)

    def graph_names(self) -> set[str]:
        """The trialgraph graphs the server holds."""
        result = self.remote().sparql(
            f"SELECT DISTINCT ?g WHERE {{ GRAPH ?g {{ ?s ?p ?o }} FILTER(STRSTARTS(STR(?g), '{BASE}')) }}"
        )
        return {str(row["g"].value) for row in result.rows if row["g"] is not None}

    def count(self) -> int:
        """The number of triples in the trialgraph graphs."""
        result = self.remote().sparql(
            "SELECT (COUNT(*) AS ?n) WHERE { GRAPH ?g { ?s ?p ?o } "
            f"FILTER(STRSTARTS(STR(?g), '{BASE}')) }}"
        )
        term = result.rows[0]["n"] if result.rows else None
        return int(term.value) if term is not None else 0

    def clear(self) -> None:
        """Drop every trialgraph graph."""
        ops = [f"DROP SILENT GRAPH <{g}>" for g in sorted(self.graph_names())]
        if ops:
            client = HttpClient(self.credentials())
            body = urllib.parse.urlencode({"update": " ;\n".join(ops)}).encode()
            client.request("POST", self.update, body, {"Content-Type": "application/x-www-form-urlencoded"})


def _die_with_parent() -> None:
    """In the server's process: be sent SIGTERM when the process that started it dies, so that a test
    run killed outright leaves no server behind (Linux ``PR_SET_PDEATHSIG``; elsewhere a no-op)."""
    with contextlib.suppress(OSError, AttributeError):
        ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGTERM)


def _stop(process: subprocess.Popen[bytes], seconds: float) -> None:
    process.terminate()
    try:
        process.wait(seconds)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


def oxigraph_program() -> str:
    """The ``oxigraph`` command (beside this Python first), or :class:`NotInstalled`."""
    binary = Path(sys.executable).with_name("oxigraph")
    exe = str(binary) if binary.exists() else shutil.which("oxigraph")
    if exe is None:
        raise NotInstalled("the oxigraph server is not installed (pip install oxigraph, in the dev extra)")
    return exe


@contextlib.contextmanager
def start_oxigraph(folder: Path, union_default_graph: bool = True) -> Iterator[Server]:
    """The Oxigraph server (PyPI ``oxigraph``) on a database in ``folder``, by default with
    ``--union-default-graph`` (the library's queries read the default graph as the union)."""
    exe = oxigraph_program()
    version = subprocess.run([exe, "--version"], capture_output=True, text=True, check=False).stdout.strip()
    port = free_port()
    folder.mkdir(parents=True, exist_ok=True)
    args = [exe, "serve", "--location", str(folder / "db"), "--bind", f"127.0.0.1:{port}"]
    if union_default_graph:
        args.append("--union-default-graph")
    base = f"http://127.0.0.1:{port}"
    with open(folder / "server.log", "wb") as log:
        process = subprocess.Popen(args, stdout=log, stderr=subprocess.STDOUT, preexec_fn=_die_with_parent)
        try:
            if not wait_http(base + "/query?query=ASK%7B%7D", 30, process):
                text = (folder / "server.log").read_text(errors="replace")[-2000:]
                raise DidNotStart(f"oxigraph did not start: {text}")
            yield Server(
                "oxigraph", version, base + "/query", base + "/update", base + "/store", folder=folder
            )
        finally:
            _stop(process, 10)


VIRTUOSO_INI = """[Database]
DatabaseFile = {d}/virtuoso.db
ErrorLogFile = {d}/virtuoso.log
LockFile = {d}/virtuoso.lck
TransactionFile = {d}/virtuoso.trx
xa_persistent_file = {d}/virtuoso.pxa
ErrorLogLevel = 7
FileExtend = 200
Striping = 0
TempStorage = TempDatabase
[TempDatabase]
DatabaseFile = {d}/virtuoso-temp.db
TransactionFile = {d}/virtuoso-temp.trx
Striping = 0
[Parameters]
ServerPort = 127.0.0.1:{sql}
DisableUnixSocket = 1
MaxClientConnections = 10
CheckpointInterval = 60
CaseMode = 2
DirsAllowed = .
NumberOfBuffers = {buffers}
MaxDirtyBuffers = {dirty}
ThreadsPerQuery = 2
[HTTPServer]
ServerPort = 127.0.0.1:{http}
ServerRoot = {d}
MaxClientConnections = 10
ServerThreads = 10
Charset = UTF-8
EnabledDavVSP = 0
[SPARQL]
ResultSetMaxRows = 100000
MaxQueryExecutionTime = 60
"""
"""A small Virtuoso: ``buffers`` pages of 8 KB (10,000: 80 MB), on 127.0.0.1 only."""


def virtuoso_programs() -> tuple[str, str]:
    """``virtuoso-t`` and its ``isql``, or :class:`NotInstalled`."""
    exe, isql = shutil.which("virtuoso-t"), shutil.which("isql-vt") or shutil.which("isql")
    if exe is None or isql is None:
        raise NotInstalled(
            "virtuoso-t/isql-vt not on PATH: install Debian's virtuoso-opensource (`make virtuoso`)"
        )
    return exe, isql


@contextlib.contextmanager
def start_virtuoso(folder: Path, buffers: int = 10_000) -> Iterator[Server]:
    """Virtuoso Open Source 7 on a database in ``folder``, with a random ``dba`` password.

    Push to ``/sparql-auth`` (Update) and ``/sparql-graph-crud-auth`` (Graph Store Protocol), read
    anonymously from ``/sparql``.
    """
    exe, isql = virtuoso_programs()
    folder.mkdir(parents=True, exist_ok=True)
    sql, http = free_port(), free_port()
    ini = VIRTUOSO_INI.format(d=folder, sql=sql, http=http, buffers=buffers, dirty=buffers * 3 // 5)
    (folder / "virtuoso.ini").write_text(ini)
    version_text = subprocess.run([exe, "-?"], capture_output=True, text=True, check=False)
    version = next(
        (ln for ln in (version_text.stdout + version_text.stderr).splitlines() if "Version" in ln), ""
    )
    process = subprocess.Popen(
        [exe, "+foreground", "+configfile", str(folder / "virtuoso.ini")],
        cwd=folder,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        preexec_fn=_die_with_parent,
    )
    base = f"http://127.0.0.1:{http}"
    try:
        if not wait_http(base + "/sparql?query=ASK%7B%7D", 90, process):
            log = folder / "virtuoso.log"
            text = log.read_text(errors="replace")[-1500:] if log.exists() else ""
            raise DidNotStart(f"Virtuoso was installed but did not start (exit {process.poll()}): {text}")
        password = "tg-" + secrets.token_hex(8)
        changed = subprocess.run(
            [isql, f"127.0.0.1:{sql}", "dba", "dba", f"exec=USER_SET_PASSWORD('dba', '{password}');"],
            capture_output=True,
            text=True,
            check=False,
            timeout=60,
        )
        if changed.returncode != 0:
            raise RuntimeError(f"could not set the dba password: {changed.stderr[-500:]}")
        yield Server(
            "virtuoso",
            " ".join(version.split()),
            base + "/sparql",
            base + "/sparql-auth",
            base + "/sparql-graph-crud-auth",
            "dba",
            password,
            folder,
            f"127.0.0.1:{sql}",
        )
    finally:
        _stop(process, 30)


def isql(server: Server, statements: str, timeout: float = 3600) -> str:
    """Run SQL statements on a Virtuoso started by :func:`start_virtuoso` as ``dba``; their output."""
    if server.sql is None or server.user is None:
        raise ValueError(f"{server.name} has no SQL port")
    _, program = virtuoso_programs()
    run = subprocess.run(
        [program, server.sql, server.user, server.password or "", f"exec={statements}"],
        capture_output=True,
        text=True,
        check=False,
        timeout=timeout,
    )
    if run.returncode != 0 or "*** Error" in run.stdout + run.stderr:
        raise RuntimeError(f"isql failed ({run.returncode}): {(run.stdout + run.stderr)[-800:]}")
    return run.stdout
