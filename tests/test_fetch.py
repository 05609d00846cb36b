"""Fetching from the ClinicalTrials.gov API v2, against a real HTTP server on loopback (never the network).

The server answers ``GET /api/v2/studies`` like the API: ``filter.ids``, ``pageSize``, ``pageToken``,
``countTotal``. Its studies are the real API v2 records in ``../shared/data/ctgov_v2`` (ten studies of
``dgg32_ctg-studies.json``, each object unmodified), split across pages linked by ``nextPageToken``.
The "updated versions" used by the ``update`` tests are DERIVED from two of them: the same study with
a later ``lastUpdatePostDate`` and one inclusion criterion reworded (see :data:`DERIVED_CHANGES`).
"""

from __future__ import annotations

import copy
import json
import socket
import threading
import time
import urllib.parse
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from trialgraph import fetch
from trialgraph.api import TrialGraph
from trialgraph.cli import main
from trialgraph.fetch import Client, FetchError, Query

RECORDS = "ctgov_v2/dgg32_ctg-studies.json"
OTHER_RECORD = "ctgov_v2/dgg32_ctg-studies_2.json"  # NCT02663973, stored before a run in some tests
UNKNOWN_ID = "NCT09999999"
LATER = "2025-01-15"
DERIVED_CHANGES = {
    # trial: (old text, new text, the criterion whose text changes)
    "NCT05923281": ("age 18 years or older", "age 20 years or older", "inclusion 2"),
    "NCT05921903": ("≥50 YoA", "≥60 YoA", "inclusion 4"),
}


@dataclass
class Fault:
    """What the server does instead of (or before) answering one request."""

    status: int = 0
    headers: dict[str, str] = field(default_factory=dict)
    body: bytes | None = None
    delay: float = 0.0


class FakeApi:
    """The state of the loopback API: its studies, the faults to inject, and a log of what it sent."""

    def __init__(self, studies: list[dict[str, Any]]) -> None:
        self.studies = {s["protocolSection"]["identificationModule"]["nctId"]: s for s in studies}
        self.faults: dict[int, Fault] = {}
        self.requests: list[dict[str, str]] = []
        self.sent: list[bytes] = []
        self.lock = threading.Lock()
        self.url = ""

    def respond(self, path: str, query: dict[str, str]) -> tuple[int, dict[str, str], bytes, float]:
        """Status, headers, body and delay for one request."""
        with self.lock:
            self.requests.append(query)
            number = len(self.requests)
        fault = self.faults.get(number, Fault())
        if fault.status:
            return fault.status, fault.headers, fault.body or b"Service temporarily unavailable", fault.delay
        if path != "/api/v2/studies":
            return 404, {}, b"not found", 0.0
        ids = list(self.studies)
        if "filter.ids" in query:
            wanted = set(query["filter.ids"].split(","))
            ids = [i for i in ids if i in wanted]
        size = int(query.get("pageSize", "10"))
        offset = int(query["pageToken"][3:]) if "pageToken" in query else 0
        page: dict[str, Any] = {}
        if query.get("countTotal") == "true":
            page["totalCount"] = len(ids)
        page["studies"] = [self.studies[i] for i in ids[offset : offset + size]]
        if offset + size < len(ids):
            page["nextPageToken"] = f"NF0{offset + size:04d}"
        body = fault.body if fault.body is not None else json.dumps(page, ensure_ascii=False).encode()
        with self.lock:
            self.sent.append(body)
        return 200, {"Content-Type": "application/json"}, body, fault.delay


def _handler(api: FakeApi) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            parts = urllib.parse.urlsplit(self.path)
            query = dict(urllib.parse.parse_qsl(parts.query))
            status, headers, body, delay = api.respond(parts.path, query)
            if delay:
                time.sleep(delay)
            try:
                self.send_response(status)
                for key, value in headers.items():
                    self.send_header(key, value)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)
            except OSError:  # the client gave up (timeout): nothing to answer
                pass

        def log_message(self, format: str, *args: Any) -> None:
            pass

    return Handler


@pytest.fixture(scope="session")
def real_studies(shared_data: Path) -> list[dict[str, Any]]:
    """The ten real API v2 study objects the server serves."""
    studies: list[dict[str, Any]] = json.loads((shared_data / RECORDS).read_text(encoding="utf-8"))
    assert len(studies) == 10
    return studies


@pytest.fixture
def api(real_studies: list[dict[str, Any]]) -> Iterator[FakeApi]:
    """A real HTTP server on 127.0.0.1 (port chosen by the system) answering like the API v2."""
    state = FakeApi(copy.deepcopy(real_studies))
    server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(state))
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    state.url = f"http://127.0.0.1:{server.server_address[1]}/api/v2"
    yield state
    server.shutdown()
    server.server_close()


@pytest.fixture(autouse=True)
def loopback_only(monkeypatch: pytest.MonkeyPatch) -> None:
    """Every request the code under test makes must go to 127.0.0.1."""
    real_urlopen = urllib.request.urlopen

    def guarded(request: Any, *args: Any, **kwargs: Any) -> Any:
        url = request.full_url if isinstance(request, urllib.request.Request) else str(request)
        assert urllib.parse.urlsplit(url).hostname == "127.0.0.1", f"a test tried to reach {url}"
        return real_urlopen(request, *args, **kwargs)

    monkeypatch.setattr(urllib.request, "urlopen", guarded)
    monkeypatch.setenv(fetch.API_URL_ENV, "http://127.0.0.1:9/api/v2")  # a closed port, never the internet


class Sleeps(list[float]):
    """A ``sleep`` that records how long it was asked to wait, and does not wait."""

    def __call__(self, seconds: float) -> None:
        self.append(seconds)


def client(api: FakeApi, **options: Any) -> Client:
    """A client of the loopback server with no pacing or back-off unless asked."""
    settings: dict[str, Any] = {"timeout": 2.0, "retries": 2, "min_interval": 0.0, "backoff": 0.0}
    settings.update(options)
    c = Client(api.url, **settings)
    assert urllib.parse.urlsplit(c.base_url).hostname == "127.0.0.1"
    return c


def derive_updated(study: dict[str, Any]) -> dict[str, Any]:
    """The same study, updated later with one criterion reworded (derived test data, not a real record)."""
    new = copy.deepcopy(study)
    protocol = new["protocolSection"]
    old_text, new_text, _ = DERIVED_CHANGES[protocol["identificationModule"]["nctId"]]
    eligibility = protocol["eligibilityModule"]
    assert eligibility["eligibilityCriteria"].count(old_text) == 1
    eligibility["eligibilityCriteria"] = eligibility["eligibilityCriteria"].replace(old_text, new_text)
    protocol["statusModule"]["lastUpdatePostDateStruct"]["date"] = LATER
    return new


def ingest_time(tg: TrialGraph, trial_id: str) -> str:
    """The ``prov:endedAtTime`` of the ingest that wrote a trial's graph."""
    rows = tg.query(
        "PREFIX prov: <http://www.w3.org/ns/prov#> SELECT ?t WHERE { GRAPH ?g { ?a prov:endedAtTime ?t } }"
        " VALUES ?g { <https://w3id.org/trialgraph/trial/" + trial_id + "> }"
    ).values()
    return str(rows[0]["t"])


# --- the client ----------------------------------------------------------------------------------


def test_pages_through_next_page_tokens_to_the_end(api: FakeApi, tmp_path: Path) -> None:
    tg = TrialGraph(None)
    seen: list[tuple[int, int | None]] = []
    query = Query(term="oligoprogression", status=("RECRUITING",))
    report = fetch.fetch(
        tg,
        query,
        tmp_path / "cache",
        client=client(api),
        page_size=4,
        progress=lambda n, t: seen.append((n, t)),
    )
    assert [len(p.nct_ids) for p in report.pages] == [4, 4, 2]
    assert report.total == 10 and report.studies == 10 and report.complete and report.ok
    assert report.ingest.trials_stored == 10 and tg.trial_ids() == sorted(api.studies)
    assert seen == [(4, 10), (4, None), (2, None)]
    first, second, third = api.requests
    assert first["query.term"] == "oligoprogression" and first["filter.overallStatus"] == "RECRUITING"
    assert first["pageSize"] == "4" and first["countTotal"] == "true" and "pageToken" not in first
    assert second["pageToken"] == "NF00004" and third["pageToken"] == "NF00008"
    assert "countTotal" not in second and second["query.term"] == "oligoprogression"


def test_max_pages_stops_early(api: FakeApi, tmp_path: Path) -> None:
    report = fetch.fetch(
        TrialGraph(None), Query(term="cancer"), tmp_path / "c", client=client(api), page_size=3, max_pages=2
    )
    assert len(report.pages) == 2 and not report.complete and report.ingest.trials_stored == 6
    assert "incomplete: the run stopped before the last page" in report.summary()
    replay = fetch.fetch_offline(TrialGraph(None), tmp_path / "c")
    assert not replay.complete and replay.ingest.trials_stored == 6


def test_a_429_with_retry_after_and_a_503_are_retried(api: FakeApi, tmp_path: Path) -> None:
    api.faults = {1: Fault(429, {"Retry-After": "0"}, b"Too Many Requests"), 2: Fault(503)}
    sleeps = Sleeps()
    c = client(api, backoff=0.25, sleep=sleeps)
    pages, complete = fetch.download(c, Query(term="cancer"), tmp_path / "c", page_size=10)
    assert complete and len(pages) == 1 and len(pages[0].nct_ids) == 10
    # Retry-After: 0 is honoured as is; the 503 (second attempt) backs off 0.25 * 2**1.
    assert sleeps == [0.0, 0.5] and c.requests == 3 and len(api.requests) == 3


def test_retries_are_bounded(api: FakeApi, tmp_path: Path) -> None:
    api.faults = {n: Fault(503) for n in range(1, 10)}
    sleeps = Sleeps()
    with pytest.raises(FetchError, match=r"HTTP 503.*gave up after 3 attempts") as err:
        fetch.download(client(api, retries=2, backoff=1.0, sleep=sleeps), Query(term="x"), tmp_path / "c")
    assert api.url in str(err.value) and sleeps == [1.0, 2.0] and len(api.requests) == 3


def test_a_client_error_is_not_retried(api: FakeApi, tmp_path: Path) -> None:
    api.faults = {1: Fault(400, body=b"Invalid value: filter.overallStatus=RECRUTING")}
    with pytest.raises(FetchError, match=r"HTTP 400.*RECRUTING"):
        fetch.download(client(api), Query(term="x", status=("RECRUTING",)), tmp_path / "c")
    assert len(api.requests) == 1


def test_requests_are_spaced_by_the_minimum_interval(api: FakeApi, tmp_path: Path) -> None:
    sleeps = Sleeps()
    fetch.download(client(api, min_interval=5.0, sleep=sleeps), Query(term="x"), tmp_path / "c", page_size=4)
    assert len(sleeps) == 2 and all(4.0 < s <= 5.0 for s in sleeps)


def test_a_timeout_is_retried(api: FakeApi, tmp_path: Path) -> None:
    api.faults = {1: Fault(delay=0.6)}
    start = time.monotonic()
    pages, _ = fetch.download(client(api, timeout=0.2), Query(term="x"), tmp_path / "c", page_size=10)
    assert len(pages[0].nct_ids) == 10 and len(api.requests) == 2
    assert time.monotonic() - start < 1.5


def test_timeouts_fail_the_run_with_a_clear_error(api: FakeApi, tmp_path: Path) -> None:
    api.faults = {1: Fault(delay=0.5), 2: Fault(delay=0.5)}
    tg = TrialGraph(None)
    start = time.monotonic()
    with pytest.raises(FetchError, match=r"no response within the 0.2 s timeout; gave up after 2 attempts"):
        fetch.fetch(tg, Query(term="x"), tmp_path / "c", client=client(api, timeout=0.2, retries=1))
    assert time.monotonic() - start < 1.5 and tg.trial_ids() == []


# --- malformed pages, unknown IDs ----------------------------------------------------------------

MALFORMED = {
    "invalid-json": (b'{"studies": [{"protocolSection": ', "invalid JSON at line 1"),
    "no-studies": (b'{"message": "temporarily unavailable"}', 'no "studies"'),
    "studies-not-a-list": (b'{"studies": {"protocolSection": {}}}', 'a dict as "studies"'),
}


@pytest.mark.parametrize("case", sorted(MALFORMED))
def test_a_malformed_page_fails_the_run_and_stores_nothing(
    api: FakeApi, tmp_path: Path, shared_data: Path, case: str
) -> None:
    body, phrase = MALFORMED[case]
    api.faults = {2: Fault(body=body)}
    tg = TrialGraph(None)
    tg.ingest([shared_data / OTHER_RECORD])
    before = tg.trial_ids()
    with pytest.raises(FetchError) as err:
        fetch.fetch(tg, Query(term="x"), tmp_path / "c", client=client(api), page_size=4)
    message = str(err.value)
    assert phrase in message and "page 2" in message and "pageToken=NF00004" in message
    assert str(tmp_path / "c" / "page-0002.json") in message
    assert tg.trial_ids() == before == ["NCT02663973"]  # page 1 was fine, but nothing was ingested


def test_an_unknown_id_is_reported_and_the_others_stored(api: FakeApi, tmp_path: Path) -> None:
    tg = TrialGraph(None)
    ids = ("NCT05923281", UNKNOWN_ID, "nct05921903")
    report = fetch.fetch(tg, Query(ids=ids), tmp_path / "c", client=client(api))
    assert api.requests[0]["filter.ids"] == f"NCT05923281,{UNKNOWN_ID},NCT05921903"
    assert report.not_found == [UNKNOWN_ID] and not report.ok
    assert tg.trial_ids() == ["NCT05921903", "NCT05923281"] and report.ingest.ok
    assert f"not found at ClinicalTrials.gov: {UNKNOWN_ID}" in report.summary()


def test_ids_are_requested_in_batches(api: FakeApi, tmp_path: Path) -> None:
    ids = tuple(api.studies)
    pages, _ = fetch.download(client(api), Query(ids=ids), tmp_path / "c", id_batch=4, page_size=100)
    assert [r["filter.ids"].count(",") + 1 for r in api.requests] == [4, 4, 2]
    assert sorted(i for p in pages for i in p.nct_ids) == sorted(ids)


def test_a_repeated_page_token_stops_the_run(api: FakeApi, tmp_path: Path) -> None:
    api.faults = {2: Fault(body=b'{"studies": [], "nextPageToken": "NF00004"}')}
    with pytest.raises(FetchError, match="repeated the nextPageToken 'NF00004'"):
        fetch.download(client(api), Query(term="x"), tmp_path / "c", page_size=4)
    assert len(api.requests) == 2


def test_a_malformed_id_is_refused_before_any_request(api: FakeApi, tmp_path: Path) -> None:
    with pytest.raises(FetchError, match="'NCT123' is not an NCT ID"):
        fetch.download(client(api), Query(ids=("NCT123",)), tmp_path / "c")
    with pytest.raises(FetchError, match="nothing to fetch"):
        fetch.download(client(api), Query(), tmp_path / "d")
    assert api.requests == []


# --- cache and offline ---------------------------------------------------------------------------


def test_the_cache_holds_the_pages_byte_for_byte_and_replays_offline(api: FakeApi, tmp_path: Path) -> None:
    cache = tmp_path / "cache"
    fetch.fetch(TrialGraph(None), Query(term="x"), cache, client=client(api), page_size=4)
    files = sorted(cache.glob("page-*.json"))
    assert [f.read_bytes() for f in files] == api.sent and len(files) == 3
    manifest = json.loads((cache / fetch.MANIFEST).read_text())
    assert manifest["complete"] and manifest["totalCount"] == 10
    assert [p["url"].split("?")[0] for p in manifest["pages"]] == [api.url + "/studies"] * 3
    with pytest.raises(FetchError, match="already holds pages"):
        fetch.fetch(TrialGraph(None), Query(term="x"), cache, client=client(api))

    api.faults = {n: Fault(500) for n in range(1, 100)}  # the server is no use now: offline needs none
    offline = TrialGraph(None)
    report = fetch.fetch_offline(offline, cache)
    assert offline.trial_ids() == sorted(api.studies) and report.ok and len(report.pages) == 3
    assert len(api.requests) == 3  # the refused second run asked nothing; offline asks nothing
    assert [f.read_bytes() for f in sorted(cache.glob("page-*.json"))] == api.sent  # untouched


def test_offline_checks_every_page_first(tmp_path: Path, api: FakeApi) -> None:
    cache = tmp_path / "cache"
    fetch.download(client(api), Query(term="x"), cache, page_size=4)
    (cache / "page-0003.json").write_bytes(b"<html>Bad gateway</html>")
    tg = TrialGraph(None)
    with pytest.raises(FetchError, match=r"page-0003\.json: invalid JSON"):
        fetch.fetch_offline(tg, cache)
    assert tg.trial_ids() == []
    with pytest.raises(FetchError, match="no cached pages"):
        fetch.fetch_offline(tg, tmp_path)


# --- update --------------------------------------------------------------------------------------


def test_update_reingests_exactly_the_changed_trials(api: FakeApi, tmp_path: Path) -> None:
    tg = TrialGraph(None)
    fetch.fetch(tg, Query(ids=tuple(api.studies)), tmp_path / "first", client=client(api))
    before = {t: ingest_time(tg, t) for t in tg.trial_ids()}
    old_texts = {t: tg.trial(t).eligibility_text for t in DERIVED_CHANGES}
    time.sleep(1.0)  # ingest times have whole seconds
    for trial_id in DERIVED_CHANGES:
        api.studies[trial_id] = derive_updated(api.studies[trial_id])

    report = fetch.update(tg, tmp_path / "second", client=client(api), batch_size=4)

    assert sorted(u.trial_id for u in report.updated) == sorted(DERIVED_CHANGES)
    assert len(report.unchanged) == 8 and report.added == [] and report.not_found == [] and report.ok
    for u in report.updated:
        assert u.new_version == LATER and u.old_version and u.old_version < LATER
        assert u.criteria.changed == (DERIVED_CHANGES[u.trial_id][2],), u
        assert not u.criteria.added and not u.criteria.removed
        trial = tg.trial(u.trial_id)
        assert trial.last_update_posted == LATER and trial.eligibility_text != old_texts[u.trial_id]
        assert DERIVED_CHANGES[u.trial_id][1] in (trial.eligibility_text or "")
    after = {t: ingest_time(tg, t) for t in tg.trial_ids()}
    assert {t for t in before if before[t] != after[t]} == set(DERIVED_CHANGES)
    assert fetch.stored_versions(tg)["NCT05923281"] == LATER
    summary = report.summary()
    assert "updated: 2" in summary and "unchanged: 8" in summary
    assert f"NCT05923281 (2023-06-28 -> {LATER}): changed inclusion 2" in summary

    again = fetch.update(tg, tmp_path / "third", client=client(api))
    assert again.updated == [] and len(again.unchanged) == 10


def test_update_adds_named_trials_and_reports_unknown_ones(api: FakeApi, tmp_path: Path) -> None:
    tg = TrialGraph(None)
    fetch.fetch(tg, Query(ids=("NCT05923281",)), tmp_path / "first", client=client(api))
    report = fetch.update(
        tg, tmp_path / "second", ids=["NCT05923281", "NCT05921903", UNKNOWN_ID], client=client(api)
    )
    assert report.added == ["NCT05921903"] and report.unchanged == ["NCT05923281"]
    assert report.not_found == [UNKNOWN_ID] and not report.ok
    assert tg.trial_ids() == ["NCT05921903", "NCT05923281"]


def test_update_fails_whole_on_a_malformed_page(api: FakeApi, tmp_path: Path) -> None:
    tg = TrialGraph(None)
    fetch.fetch(tg, Query(ids=tuple(api.studies)), tmp_path / "first", client=client(api))
    for trial_id in DERIVED_CHANGES:
        api.studies[trial_id] = derive_updated(api.studies[trial_id])
    api.faults = {len(api.requests) + 3: Fault(body=b'{"studies": [')}
    with pytest.raises(FetchError, match="page 3"):
        fetch.update(tg, tmp_path / "second", client=client(api), batch_size=4)
    assert LATER not in fetch.stored_versions(tg).values()


def test_criteria_of_a_stored_trial_compare_equal_to_a_fresh_read(api: FakeApi, tmp_path: Path) -> None:
    tg = TrialGraph(None)
    report = fetch.fetch(tg, Query(ids=tuple(api.studies)), tmp_path / "c", client=client(api))
    fresh = {t.id: t for t in fetch._trials(report.pages, [])}
    for trial_id in tg.trial_ids():
        assert not fetch.criteria_changes(tg.trial(trial_id), fresh[trial_id]), trial_id


# --- command line --------------------------------------------------------------------------------


def cli(store: Path, *args: str) -> Any:
    """Run ``trialgraph --store STORE ARGS`` in-process."""
    return CliRunner().invoke(main, ["--store", str(store), *args], catch_exceptions=False)


def test_cli_fetch_update_and_offline(api: FakeApi, tmp_path: Path) -> None:
    store = tmp_path / "store"
    local = ["--api-url", api.url, "--min-interval", "0", "--retries", "1"]
    result = cli(store, "fetch", "--term", "oligoprogression", "--status", "RECRUITING", "--page-size", "4",
                 "--cache", str(tmp_path / "c1"), *local)  # fmt: skip
    assert result.exit_code == 0, result.output
    assert "pages: 3" in result.stdout and "studies received: 10 of 10 matching" in result.stdout
    assert "trials stored: 10" in result.stdout

    for trial_id in DERIVED_CHANGES:
        api.studies[trial_id] = derive_updated(api.studies[trial_id])
    result = cli(store, "update", "--cache", str(tmp_path / "c2"), *local)
    assert result.exit_code == 0, result.output
    assert "updated: 2" in result.stdout and "changed inclusion 4" in result.stdout

    result = cli(tmp_path / "replay", "fetch", "--offline", str(tmp_path / "c1"))
    assert result.exit_code == 0 and "trials stored: 10" in result.stdout, result.output
    result = cli(tmp_path / "replay", "fetch", "--offline", str(tmp_path / "c1"), "--term", "x")
    assert result.exit_code == 2 and "--offline" in result.stderr


def test_cli_exit_codes_for_unknown_ids_and_malformed_pages(api: FakeApi, tmp_path: Path) -> None:
    local = ["--api-url", api.url, "--min-interval", "0"]
    result = cli(tmp_path / "s", "fetch", "--id", "NCT05923281", "--id", UNKNOWN_ID, *local)
    assert result.exit_code == 1, result.output
    assert f"not found at ClinicalTrials.gov: {UNKNOWN_ID}" in result.stdout
    assert (tmp_path / "fetch-cache").is_dir()  # the default cache: beside the store

    api.faults = {len(api.requests) + 1: Fault(body=b"not json")}
    result = cli(tmp_path / "s", "fetch", "--term", "x", *local)
    assert result.exit_code == 2 and "error: page 1" in result.stderr and "invalid JSON" in result.stderr
    assert "Traceback" not in result.stderr


def test_cli_help_shows_real_examples() -> None:
    result = CliRunner().invoke(main, ["fetch", "--help"])
    assert "trialgraph fetch --term oligoprogression --status RECRUITING" in result.stdout
    assert "--offline" in result.stdout and "--api-url" in result.stdout


def test_a_refused_connection_is_retried_then_reported(tmp_path: Path) -> None:
    with socket.socket() as s:  # a loopback port nobody listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    sleeps = Sleeps()
    c = Client(f"http://127.0.0.1:{port}/api/v2", timeout=1.0, retries=1, min_interval=0, sleep=sleeps)
    with pytest.raises(FetchError, match=r"connection failed.*gave up after 2 attempts"):
        fetch.download(c, Query(term="x"), tmp_path / "c")
    assert sleeps == [fetch.DEFAULT_BACKOFF]


def test_the_progress_bar_sizes_itself_from_the_first_page() -> None:
    with fetch.ProgressBar("fetching", enabled=True) as bar:
        for studies, total in ((4, 10), (4, None), (2, None)):
            bar(studies, total)
        assert bar._bar is not None and bar._bar.pos == 10 and bar._bar.length == 10
    assert bar._bar is None
