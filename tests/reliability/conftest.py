"""Shared pieces of the reliability tests: iteration scaling, the corpus, figures, the CLI.

``TRIALGRAPH_LONG=1`` (``make reliability``) scales the fuzz and kill loops up; the default run stays
short enough for ``make test``. Each test records what it tried in figures: printed, and appended as
JSON lines to ``$TRIALGRAPH_RELIABILITY_FIGURES`` when that names a file (docs/reliability.md quotes them).
"""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from tests.reliability.support import LONG, cli_argv

from trialgraph.resources import EXAMPLES_DIR, SHARED_DATA_DIR

Record = Callable[..., None]


@pytest.fixture
def record(request: pytest.FixtureRequest) -> Record:
    """``record(name=value, ...)``: print the figures of this test and append them to the figures file."""

    def write(**figures: Any) -> None:
        entry = {"test": request.node.nodeid, "long": LONG, **figures}
        print("\nFIGURES " + json.dumps(entry, sort_keys=True))
        target = os.environ.get("TRIALGRAPH_RELIABILITY_FIGURES")
        if target:
            with open(target, "a", encoding="utf-8") as f:
                f.write(json.dumps(entry, sort_keys=True) + "\n")

    return write


XML_FILES_SHORT = 20
"""Legacy XML files in the short corpus (all 125 under ``TRIALGRAPH_LONG``)."""


@pytest.fixture(scope="session")
def corpus(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A copy of the bundled example pages and the shared ClinicalTrials.gov files.

    All API v2 JSON files (2.4 MB, so the ingest runs its worker processes) and, in the short run,
    the first 20 legacy XML files (all of them under ``TRIALGRAPH_LONG``).
    """
    root = tmp_path_factory.mktemp("corpus") / "trials"
    shutil.copytree(EXAMPLES_DIR / "trials", root / "examples")
    if (SHARED_DATA_DIR / "ctgov_v2").is_dir():
        shutil.copytree(SHARED_DATA_DIR / "ctgov_v2", root / "ctgov_v2")
    xml = sorted((SHARED_DATA_DIR / "ctgov_xml").rglob("*.xml"))
    for path in xml if LONG else xml[:XML_FILES_SHORT]:
        target = root / "ctgov_xml" / path.relative_to(SHARED_DATA_DIR / "ctgov_xml")
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(path, target)
    return root


@pytest.fixture(scope="session")
def cli() -> Callable[..., subprocess.CompletedProcess[str]]:
    """``cli(store, *args, env=None, timeout=300)``: run the command line, capturing its output."""

    def run(
        store: Path, *args: str, env: dict[str, str] | None = None, timeout: float = 300
    ) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            cli_argv(store, *args),
            capture_output=True,
            text=True,
            timeout=timeout,
            env={**os.environ, **(env or {})},
        )

    return run


@pytest.fixture
def listener() -> Iterator[tuple[int, list[bytes]]]:
    """A TCP port on loopback that records every connection made to it."""
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(8)
    server.settimeout(0.2)
    hits: list[bytes] = []
    stop = threading.Event()

    def accept() -> None:
        while not stop.is_set():
            try:
                conn, _ = server.accept()
            except OSError:
                continue
            conn.settimeout(1)
            try:
                hits.append(conn.recv(4096))
            except OSError:
                hits.append(b"")
            conn.close()

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    yield server.getsockname()[1], hits
    stop.set()
    thread.join(2)
    server.close()
