"""Concurrent use: reader processes query the store while an ingest writes it; a second writer is refused.

Each reader opens the store read-only again and again while ``trialgraph ingest`` runs, and each
time reads every trial graph (a digest of its triples but the ingest time) and the library's
``graph-statistics``. Every graph a reader sees must be one the records produce (whole, never
partial), the statistics must count the same trials the reader saw in the same open, and no
reader may see fewer trials than it saw before. A second ``trialgraph ingest`` (and a second
``TrialGraph`` opened for writing) during the ingest get "store ... is locked" and change
nothing; the ingest then completes, and the store equals a clean ingest. Meanwhile a read-only
``trialgraph serve`` endpoint on the same store answers with whole graphs only, and no errors.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import subprocess
import sys
import textwrap
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable
from pathlib import Path

from tests.reliability.support import Graph, cli_argv, expected_graphs, scaled, stored_graphs

from trialgraph import rdf
from trialgraph.api import TrialGraph
from trialgraph.errors import StoreError
from trialgraph.namespaces import TRIAL
from trialgraph.serve import make_server

READERS = 3
LOCK_ATTEMPTS = scaled(2, 6)

_READER = textwrap.dedent(
    """
    import hashlib, json, sys, time
    from pathlib import Path
    from trialgraph import rdf
    from trialgraph.api import TrialGraph
    from trialgraph.errors import TrialgraphError
    from trialgraph.namespaces import TRIAL

    store, stop = sys.argv[1], Path(sys.argv[2])
    while not stop.exists():
        started = time.perf_counter()
        try:
            tg = TrialGraph(store, read_only=True)
            generation = tg.store.generation
            digests = {}
            for g in tg.store.graphs():
                if g.value.startswith(TRIAL):
                    lines = sorted(str(q.triple) for q in tg.store.quads(g) if q.predicate != rdf.INGEST_TIME)
                    digests[g.value[len(TRIAL):]] = hashlib.sha256("\\n".join(lines).encode()).hexdigest()
            (stats,) = tg.query("graph-statistics").values()
            # a read that lost its files to the writer's compaction reopens the store: a newer snapshot
            reopened = tg.store.generation != generation
            del tg
            answer = {"digests": digests, "statistics_trials": stats["trials"], "reopened": reopened}
        except TrialgraphError as exc:
            answer = {"error": f"{type(exc).__name__}: {exc}"}
        except Exception as exc:
            answer = {"crash": f"{type(exc).__name__}: {exc}"}
        answer["seconds"] = time.perf_counter() - started
        print(json.dumps(answer), flush=True)
        time.sleep(0.05)
    """
)


def wait_until_open(process: subprocess.Popen[str], store: Path) -> None:
    """Wait until ``process`` holds the store's lock file open (Linux ``/proc``), or has ended."""
    lock = str((store / "LOCK").resolve())
    deadline = time.monotonic() + 120
    while process.poll() is None and time.monotonic() < deadline:
        with contextlib.suppress(OSError):
            if any(os.readlink(fd) == lock for fd in Path(f"/proc/{process.pid}/fd").iterdir()):
                return
        time.sleep(0.02)


class EndpointPoller:
    """Asks a read-only ``trialgraph serve`` endpoint for every graph's size, again and again."""

    QUERY = (
        "SELECT ?g (COUNT(*) AS ?n) WHERE { GRAPH ?g { ?s ?p ?o } "
        f"FILTER(?p != <{rdf.INGEST_TIME.value}>) }} GROUP BY ?g"
    )

    def __init__(self, store: Path) -> None:
        self.server = make_server(store, port=0, timeout=30.0)
        host, port = self.server.server_address[:2]
        self.url = f"http://{host!s}:{port}/sparql?" + urllib.parse.urlencode({"query": self.QUERY})
        self.answers: list[dict[str, int]] = []
        self.failures: list[str] = []
        self._stop = threading.Event()
        self._threads = [
            threading.Thread(target=self.server.serve_forever, daemon=True),
            threading.Thread(target=self._poll, daemon=True),
        ]
        for thread in self._threads:
            thread.start()

    def _poll(self) -> None:
        while not self._stop.is_set():
            request = urllib.request.Request(self.url, headers={"Accept": "application/sparql-results+json"})
            try:
                with urllib.request.urlopen(request, timeout=60) as response:
                    rows = json.load(response)["results"]["bindings"]
                self.answers.append(
                    {
                        r["g"]["value"][len(TRIAL) :]: int(r["n"]["value"])
                        for r in rows
                        if r["g"]["value"].startswith(TRIAL)
                    }
                )
            except (OSError, ValueError) as exc:
                body = exc.read().decode() if isinstance(exc, urllib.error.HTTPError) else ""
                self.failures.append(f"{exc} {body}")
            time.sleep(0.1)

    def stop(self) -> None:
        """Stop polling and serving."""
        self._stop.set()
        self._threads[1].join(60)
        self.server.shutdown()
        self.server.server_close()


def digest(graph: Graph) -> str:
    """The digest a reader computes for a graph (its sorted N-Triples lines)."""
    return hashlib.sha256("\n".join(sorted(str(t) for t in graph)).encode()).hexdigest()


def test_readers_see_whole_trials_while_an_ingest_writes_and_a_second_writer_is_refused(
    corpus: Path,
    seeds_dir: Path,
    tmp_path: Path,
    cli: Callable[..., subprocess.CompletedProcess[str]],
    record: Callable[..., None],
) -> None:
    store = tmp_path / "store"
    first = cli(store, "ingest", str(seeds_dir))  # the readers start on a store that exists
    assert first.returncode == 0, first.stderr
    seed_versions, _ = expected_graphs(seeds_dir)
    versions, final = expected_graphs(corpus)
    allowed: dict[str, set[str]] = {}
    for source in (seed_versions, versions):
        for trial_id, graphs in source.items():
            allowed.setdefault(trial_id, set()).update(digest(g) for g in graphs)

    stop = tmp_path / "stop"
    readers = [
        subprocess.Popen(
            [sys.executable, "-c", _READER, str(store), str(stop)],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for _ in range(READERS)
    ]
    poller = EndpointPoller(store)
    refused: list[str] = []
    try:
        time.sleep(1.0)  # the readers are reading before the writer starts
        start = time.perf_counter()
        writer = subprocess.Popen(
            cli_argv(store, "ingest", str(corpus)),
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env={**os.environ, "TRIALGRAPH_WORKERS": "2"},
        )
        wait_until_open(writer, store)
        for _ in range(LOCK_ATTEMPTS):
            if writer.poll() is not None:
                break
            try:
                opened = TrialGraph(store)
            except StoreError as exc:
                api_error = str(exc)
            else:
                del opened  # the ingest ended in between: this try tells nothing
                break
            second = cli(store, "ingest", str(seeds_dir))
            if writer.poll() is not None and second.returncode != 2:
                break
            assert "is locked" in api_error and "another trialgraph process" in api_error, api_error
            assert second.returncode == 2, second.stderr
            assert "is locked" in second.stderr, second.stderr
            assert "another trialgraph process" in second.stderr, second.stderr
            assert "Traceback" not in second.stderr
            refused += [second.stderr.strip(), api_error]
        _, err = writer.communicate(timeout=600)
        ingest_seconds = time.perf_counter() - start
        assert writer.returncode == 0, err[-2000:]
        time.sleep(1.0)  # the readers see the finished store too
    finally:
        stop.touch()
        poller.stop()
        outputs = [r.communicate(timeout=120) for r in readers]
    assert refused, "the ingest ended before a second writer could try: nothing was tested"

    answers = reopened = 0
    seen_counts: list[list[int]] = []
    for number, (stdout, stderr) in enumerate(outputs):
        lines = [json.loads(line) for line in stdout.splitlines()]
        assert lines, f"reader {number} answered nothing: {stderr[-2000:]}"
        counts = []
        for answer in lines:
            assert "crash" not in answer and "error" not in answer, answer
            for trial_id, got in answer["digests"].items():
                assert got in allowed.get(trial_id, set()), f"reader {number} saw {trial_id} partial or mixed"
            if not answer["reopened"]:  # one snapshot: the statistics count the trials it read
                assert answer["statistics_trials"] == len(answer["digests"]), answer["statistics_trials"]
            reopened += answer["reopened"]
            counts.append(len(answer["digests"]))
        assert counts == sorted(counts), f"reader {number} saw trials disappear: {counts}"
        answers += len(lines)
        seen_counts.append(counts)

    sizes: dict[str, set[int]] = {}
    for source in (seed_versions, versions):
        for trial_id, graphs in source.items():
            sizes.setdefault(trial_id, set()).update(len(g) for g in graphs)
    assert poller.failures == [], poller.failures[:3]
    assert poller.answers, "the endpoint answered nothing"
    for answer in poller.answers:
        for trial_id, size in answer.items():
            assert size in sizes.get(trial_id, set()), f"the endpoint saw {trial_id} partial or mixed"

    assert stored_graphs(TrialGraph(store, read_only=True).store) == final
    assert all(c[-1] == len(final) for c in seen_counts)
    record(
        reader_processes=READERS,
        reader_answers=answers,
        reader_answers_over_a_reopen=reopened,
        distinct_states_seen=len({n for counts in seen_counts for n in counts}),
        trials_at_start=seen_counts[0][0],
        trials_at_end=len(final),
        second_writer_refusals=len(refused),
        ingest_s=round(ingest_seconds, 1),
        partial_graphs_seen=0,
        reader_errors=0,
        endpoint_answers=len(poller.answers),
        endpoint_states_seen=len({len(a) for a in poller.answers}),
        endpoint_errors=0,
    )
