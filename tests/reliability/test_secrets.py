"""Credentials never appear in output, logs, exceptions or files, on success and on every failure path.

A local HTTP server on loopback plays a remote store that accepts, refuses (401, Basic or Digest;
403), fails (500, 400) echoing every request header back in its body (as debugging servers do),
redirects to a URL holding the password, drops the connection, or does not answer in time. The
password (``$TRIALGRAPH_PASSWORD`` with ``--user``, or the API's ``password=``) and the bearer token
(``$TRIALGRAPH_TOKEN``, ``token=``) go to every mode through ``trialgraph push`` and ``trialgraph
query --endpoint`` (also with ``--debug``) and through the API; none of the secret forms (as given,
and Basic's base64 of ``user:password``) may appear in stdout, stderr, exception text, a traceback,
the log records, or the push state file. The server's record shows the credentials were sent.
"""

from __future__ import annotations

import base64
import json
import logging
import subprocess
import threading
import time
import traceback
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from click.testing import CliRunner

from trialgraph.api import TrialGraph
from trialgraph.cli import main
from trialgraph.errors import TrialgraphError
from trialgraph.remote import Credentials, Endpoint, HttpClient, Pusher, RemoteGraph

USER = "alice"
PASSWORD = "pw-CANARY-5f2c'\"$x"
TOKEN = "tok-CANARY-9d1e7a"
SECRETS = {
    "password": PASSWORD,
    "token": TOKEN,
    "basic": base64.b64encode(f"{USER}:{PASSWORD}".encode()).decode(),
    "bearer": f"Bearer {TOKEN}",
}
OK_JSON = json.dumps(
    {"head": {"vars": ["n"]}, "results": {"bindings": [{"n": {"type": "literal", "value": "1"}}]}}
)
MODES = ["ok", "auth-500", "basic-401", "digest-401", "forbidden"]
MODES += ["echo-500", "echo-400", "redirect", "reset", "slow"]


class Hostile(BaseHTTPRequestHandler):
    """Answers by the first path segment (a mode); records the Authorization header of each request."""

    server: ThreadingHTTPServer
    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: object) -> None:
        """Quiet."""

    def _answer(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        mode = self.path.split("/")[1].split("?")[0]
        self.server.seen.append(self.headers.get("Authorization", ""))  # type: ignore[attr-defined]
        echo = (str(self.headers) + body.decode("utf-8", "replace")).encode()
        if mode == "ok":
            if not self.headers.get("Authorization"):
                self._send(401, b"", {"WWW-Authenticate": 'Basic realm="x"'})
            elif self.command == "PUT" or "update" in body.decode("utf-8", "replace").lower()[:20]:
                self._send(204, b"")
            else:
                self._send(200, OK_JSON.encode(), {"Content-Type": "application/sparql-results+json"})
        elif mode == "basic-401":
            self._send(401, echo, {"WWW-Authenticate": 'Basic realm="x"'})
        elif mode == "digest-401":
            self._send(401, echo, {"WWW-Authenticate": 'Digest realm="x", nonce="abc", qop="auth"'})
        elif mode == "forbidden":
            self._send(403, echo)
        elif mode == "auth-500":  # a challenge, then an error page echoing the credentials sent
            if not self.headers.get("Authorization"):
                self._send(401, b"", {"WWW-Authenticate": 'Basic realm="x"'})
            else:
                self._send(500, echo)
        elif mode == "echo-500":
            self._send(500, echo)
        elif mode == "echo-400":
            self._send(400, echo)
        elif mode == "redirect":
            port = self.server.server_address[1]
            self._send(302, echo, {"Location": f"http://{USER}:{PASSWORD}@127.0.0.1:{port}/ok/?t={TOKEN}"})
        elif mode == "reset":
            self.close_connection = True
            self.connection.close()
        elif mode == "slow":
            time.sleep(1.5)
            self._send(200, OK_JSON.encode())

    def _send(self, status: int, body: bytes, headers: dict[str, str] | None = None) -> None:
        try:
            self.send_response(status)
            for key, value in (headers or {}).items():
                self.send_header(key, value)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)
        except OSError:
            pass

    do_GET = do_POST = do_PUT = do_DELETE = _answer


@pytest.fixture(scope="module")
def remote() -> Iterator[tuple[str, list[str]]]:
    """The hostile server's base URL and the Authorization headers it received."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), Hostile)
    server.daemon_threads = True
    server.seen = []  # type: ignore[attr-defined]
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}", server.seen  # type: ignore[attr-defined]
    server.shutdown()
    server.server_close()


@pytest.fixture(scope="module")
def store_dir(tmp_path_factory: pytest.TempPathFactory, seeds_dir: Path) -> Path:
    """An on-disk store of the five examples."""
    path = tmp_path_factory.mktemp("secrets") / "store"
    assert TrialGraph(path).ingest([seeds_dir]).ok
    return path


def leaks(text: str) -> list[str]:
    """The names of the secret forms found in ``text``."""
    return [name for name, secret in SECRETS.items() if secret in text]


def sent(seen: list[str]) -> set[str]:
    """Which credentials the server received (so the test knows they were in play)."""
    return {name for name, secret in SECRETS.items() if any(secret in header for header in seen)} | {
        "digest" for header in seen if header.startswith("Digest ")
    }


def test_command_line_never_shows_credentials(
    remote: tuple[str, list[str]],
    store_dir: Path,
    cli: Callable[..., subprocess.CompletedProcess[str]],
    caplog: pytest.LogCaptureFixture,
    record: Callable[..., None],
) -> None:
    base, seen = remote
    caplog.set_level(logging.DEBUG)
    runner = CliRunner()
    runs = 0
    outcomes: dict[str, int] = {}
    envs = {
        "password": ({"TRIALGRAPH_PASSWORD": PASSWORD, "TRIALGRAPH_TOKEN": None}, ["--user", USER]),
        "token": ({"TRIALGRAPH_TOKEN": TOKEN, "TRIALGRAPH_PASSWORD": None}, []),
    }
    for kind, (env, user_args) in envs.items():
        for mode in MODES:
            url = f"{base}/{mode}/sparql"
            for debug in ([], ["--debug"]):
                commands = [
                    [*debug, "query", "--endpoint", url, *user_args, "graph-statistics"],
                    [
                        *debug,
                        "push",
                        "--endpoint",
                        url,
                        "--graph-store",
                        f"{base}/{mode}/store",
                        *user_args,
                        "--retries",
                        "1",
                        "--timeout",
                        "1",
                        "--trial",
                        "NCT06592612",
                        "--force",
                    ],
                ]
                for argv in commands:
                    done = runner.invoke(main, ["--store", str(store_dir), *argv], env=env)
                    runs += 1
                    assert done.exception is None or isinstance(done.exception, SystemExit), done.exception
                    assert leaks(done.output) == [], (kind, mode, argv[:3], done.output[-1500:])
                    key = f"{argv[len(debug)]} exit {done.exit_code}"
                    outcomes[key] = outcomes.get(key, 0) + 1
        # The same through a process of its own, on the path that echoes the request back.
        process_env = {k: v for k, v in env.items() if v is not None}
        done = cli(
            store_dir,
            "--debug",
            "query",
            "--endpoint",
            f"{base}/echo-500/sparql",
            *user_args,
            "graph-statistics",
            env=process_env,
        )
        runs += 1
        assert done.returncode == 2 and leaks(done.stdout + done.stderr) == [], done.stderr[-1500:]
    assert leaks(caplog.text) == []
    state = store_dir / "push-state.json"
    if state.exists():
        assert leaks(state.read_text()) == []
    assert {"basic", "bearer", "token", "digest"} <= sent(seen), "the credentials were never sent"
    assert outcomes.get("query exit 0") and outcomes.get("query exit 2"), outcomes
    record(cli_runs=runs, server_modes=len(MODES), outcomes=outcomes, secrets_leaked=0)


def test_api_exceptions_tracebacks_and_logs_never_show_credentials(
    remote: tuple[str, list[str]],
    store_dir: Path,
    caplog: pytest.LogCaptureFixture,
    record: Callable[..., None],
) -> None:
    base, _ = remote
    caplog.set_level(logging.DEBUG)
    tg = TrialGraph(store_dir, read_only=True)
    texts: list[str] = []
    failures = 0
    for credentials in (Credentials(USER, PASSWORD), Credentials(token=TOKEN)):
        texts.append(repr(credentials) + str(credentials))
        for mode in MODES:
            url = f"{base}/{mode}/sparql"
            calls: list[Callable[[], object]] = [
                lambda url=url, c=credentials: TrialGraph.remote(url, c.user, c.password, c.token).query(
                    "graph-statistics"
                ),
                lambda url=url, c=credentials: RemoteGraph(url, c).sparql("ASK { ?s ?p ?o }"),
                lambda url=url, c=credentials: Pusher(
                    Endpoint(url, url, url.replace("/sparql", "/store")),
                    HttpClient(c, timeout=1, retries=1, sleep=lambda _s: None),
                    force=True,
                ).push(tg.store, tg.push_graphs(["NCT06592612"], False)),
            ]
            for call in calls:
                try:
                    texts.append(repr(call()))
                except TrialgraphError as exc:
                    failures += 1
                    texts.append(str(exc) + repr(exc) + "".join(traceback.format_exception(exc)))
    texts.append(caplog.text)
    texts.extend(str(r.args) for r in caplog.records)
    for text in texts:
        assert leaks(text) == [], text[-1500:]
    assert failures > 0
    record(api_calls=len(texts) - 1, failures=failures, log_records=len(caplog.records), secrets_leaked=0)


def test_a_url_holding_credentials_is_refused_without_echoing_them(
    store_dir: Path, cli: Callable[..., subprocess.CompletedProcess[str]]
) -> None:
    url = f"http://{USER}:{PASSWORD}@127.0.0.1:9/sparql"
    done = cli(store_dir, "query", "--endpoint", url, "graph-statistics")
    assert done.returncode == 2
    output = done.stdout + done.stderr
    assert "must not hold credentials" in output and leaks(output) == []
    with pytest.raises(TrialgraphError) as caught:
        RemoteGraph(url)
    assert leaks(str(caught.value) + "".join(traceback.format_exception(caught.value))) == []
