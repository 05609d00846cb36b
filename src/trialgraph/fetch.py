"""Fetch trials from the ClinicalTrials.gov API v2 ``studies`` endpoint and keep the store up to date.

A run asks the API for studies by NCT ID (``filter.ids``), by its search parameters
(``query.cond``, ``query.intr``, ``query.term``, ``filter.overallStatus``) or both, and follows
``nextPageToken`` to the last page. Requests are paced (:data:`DEFAULT_MIN_INTERVAL` seconds apart,
the API's documented ~50 requests a minute), honour ``Retry-After`` on HTTP 429, time out, and are
retried with exponential back-off on 429, 5xx and connection errors, a bounded number of times.

Every page is written, byte for byte as the API sent it, to a cache folder (``page-0001.json``,
``page-0002.json``, ...; the default is ``<store>/../fetch-cache/<UTC timestamp>/``), with a hidden
``.fetch.json`` beside them recording the URL of each page, so a run can be audited and replayed
offline (:func:`fetch_offline`; ``trialgraph ingest`` reads the folder too). Pages are ingested only
once all of them have arrived and each one is a well-formed API page: a failed run stores nothing.

>>> Query(ids=("nct05923281",), term="oligoprogression", status=("RECRUITING",)).params()
{'query.term': 'oligoprogression', 'filter.overallStatus': 'RECRUITING', 'filter.ids': 'NCT05923281'}
"""

from __future__ import annotations

import datetime as dt
import email.utils
import http.client
import json
import os
import re
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import click

from trialgraph import __version__, extract, ingest
from trialgraph.api import IngestReport, TrialGraph
from trialgraph.errors import InputError, TrialgraphError
from trialgraph.model import Trial
from trialgraph.namespaces import TRIAL

DEFAULT_API_URL = "https://clinicaltrials.gov/api/v2"
API_URL_ENV = "TRIALGRAPH_API_URL"
"""The environment variable that overrides :data:`DEFAULT_API_URL`."""
DEFAULT_MIN_INTERVAL = 1.2
"""Seconds between two requests: the API allows about 50 requests a minute per client."""
DEFAULT_TIMEOUT = 30.0
DEFAULT_RETRIES = 4
"""Retries of one request after a 429, a 5xx or a connection error, before the run fails."""
DEFAULT_BACKOFF = 1.0
"""The first back-off in seconds; it doubles on each retry, up to :data:`MAX_BACKOFF`."""
MAX_BACKOFF = 60.0
MAX_RETRY_AFTER = 300.0
"""The longest ``Retry-After`` honoured; a longer one is waited for this long."""
DEFAULT_PAGE_SIZE = 100
MAX_PAGE_SIZE = 1000
"""The API's largest ``pageSize``."""
ID_BATCH = 100
"""NCT IDs per request: keeps the URL short."""
MANIFEST = ".fetch.json"
"""The file in a cache folder that records the run (hidden, so ``trialgraph ingest DIR`` skips it)."""
_PAGE_GLOB = "page-*.json"
_NCT = re.compile(r"NCT\d{8}")
_RETRY_STATUS = frozenset({429, 500, 502, 503, 504})

Progress = Callable[[int, int | None], None]
"""Called after each page with the number of studies it held and the total expected (if known)."""


class FetchError(TrialgraphError):
    """The API could not be reached, refused the request, or sent a page that is not an API v2 page."""


def api_url(explicit: str | None = None) -> str:
    """The API base URL: ``explicit``, else ``$TRIALGRAPH_API_URL``, else :data:`DEFAULT_API_URL`."""
    return (explicit or os.environ.get(API_URL_ENV) or DEFAULT_API_URL).rstrip("/")


def normalize_ids(ids: Sequence[str]) -> tuple[str, ...]:
    """NCT IDs upper-cased, de-duplicated in order; anything else is a ``FetchError``.

    >>> normalize_ids(["nct05923281", " NCT05923281", "NCT05921903"])
    ('NCT05923281', 'NCT05921903')
    """
    out: dict[str, None] = {}
    for raw in ids:
        for part in re.split(r"[\s,|]+", raw.strip()):
            if not part:
                continue
            if not _NCT.fullmatch(part.upper()):
                raise FetchError(f"{part!r} is not an NCT ID (NCT followed by 8 digits)")
            out[part.upper()] = None
    return tuple(out)


@dataclass(frozen=True)
class Query:
    """What to ask the API for: NCT IDs, search parameters, or both (the API combines them with AND)."""

    ids: tuple[str, ...] = ()
    condition: str | None = None
    intervention: str | None = None
    term: str | None = None
    status: tuple[str, ...] = ()

    def params(self) -> dict[str, str]:
        """The API's query parameters (without paging)."""
        params = {
            "query.cond": self.condition,
            "query.intr": self.intervention,
            "query.term": self.term,
            "filter.overallStatus": ",".join(s.strip().upper() for s in self.status) or None,
            "filter.ids": ",".join(normalize_ids(self.ids)) or None,
        }
        return {k: v for k, v in params.items() if v}

    def batches(self, size: int = ID_BATCH) -> list[Query]:
        """This query split so that no request names more than ``size`` NCT IDs."""
        ids = normalize_ids(self.ids)
        if len(ids) <= size:
            return [self]
        fields = {"condition": self.condition, "intervention": self.intervention, "term": self.term}
        return [Query(ids[i : i + size], status=self.status, **fields) for i in range(0, len(ids), size)]


class Client:
    """A paced, retrying HTTP client of the API v2 (standard library only).

    ``sleep`` and ``clock`` are injectable so tests can observe waits without waiting.
    """

    def __init__(
        self,
        base_url: str | None = None,
        *,
        timeout: float = DEFAULT_TIMEOUT,
        retries: int = DEFAULT_RETRIES,
        min_interval: float = DEFAULT_MIN_INTERVAL,
        backoff: float = DEFAULT_BACKOFF,
        sleep: Callable[[float], None] = time.sleep,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.base_url = api_url(base_url)
        self.timeout = timeout
        self.retries = max(0, retries)
        self.min_interval = max(0.0, min_interval)
        self.backoff = max(0.0, backoff)
        self.sleep = sleep
        self.clock = clock
        self.requests = 0
        self._last: float | None = None

    def url(self, path: str, params: dict[str, str]) -> str:
        """The full URL of an endpoint with its query parameters."""
        return f"{self.base_url}/{path.lstrip('/')}?{urllib.parse.urlencode(params)}"

    def get(self, url: str) -> bytes:
        """The body of a successful GET of ``url``, after pacing and retries; else a ``FetchError``."""
        attempt = 0
        while True:
            self._pace()
            try:
                return self._get_once(url)
            except _Retryable as exc:
                if attempt >= self.retries:
                    raise FetchError(
                        f"{url}: {exc.reason}; gave up after {attempt + 1} attempts "
                        f"(see --retries and --timeout)"
                    ) from None
                wait = exc.retry_after
                if wait is None:
                    wait = min(self.backoff * 2**attempt, MAX_BACKOFF)
                self.sleep(wait)
                attempt += 1

    def _pace(self) -> None:
        now = self.clock()
        if self._last is not None and now - self._last < self.min_interval:
            self.sleep(self.min_interval - (now - self._last))
        self._last = self.clock()
        self.requests += 1

    def _get_once(self, url: str) -> bytes:
        request = urllib.request.Request(
            url,
            headers={"Accept": "application/json", "User-Agent": f"trialgraph/{__version__} (urllib)"},
        )
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as response:
                body: bytes = response.read()
                return body
        except urllib.error.HTTPError as exc:
            detail = _error_body(exc)
            if exc.code in _RETRY_STATUS:
                raise _Retryable(f"HTTP {exc.code} {exc.reason}{detail}", _retry_after(exc)) from None
            raise FetchError(f"{url}: HTTP {exc.code} {exc.reason}{detail}") from None
        except (TimeoutError, ConnectionError, http.client.HTTPException) as exc:
            raise _Retryable(_describe(exc, self.timeout), None) from None
        except urllib.error.URLError as exc:
            if isinstance(exc.reason, TimeoutError | ConnectionError):
                raise _Retryable(_describe(exc.reason, self.timeout), None) from None
            raise FetchError(f"{url}: cannot connect: {exc.reason}") from None
        except OSError as exc:
            raise _Retryable(_describe(exc, self.timeout), None) from None


class _Retryable(Exception):
    """A failure worth another attempt, with the server's ``Retry-After`` in seconds if it sent one."""

    def __init__(self, reason: str, retry_after: float | None) -> None:
        super().__init__(reason)
        self.reason = reason
        self.retry_after = retry_after


def _describe(exc: BaseException, timeout: float) -> str:
    if isinstance(exc, TimeoutError):
        return f"no response within the {timeout:g} s timeout"
    return f"connection failed: {exc.__class__.__name__} {exc}".rstrip()


def _error_body(exc: urllib.error.HTTPError) -> str:
    try:
        text = exc.read(500).decode("utf-8", "replace").strip()
    except OSError:
        return ""
    return f": {' '.join(text.split())[:300]}" if text else ""


def _retry_after(exc: urllib.error.HTTPError) -> float | None:
    """``Retry-After`` in seconds (a number or an HTTP date), capped at :data:`MAX_RETRY_AFTER`."""
    value = (exc.headers.get("Retry-After") or "").strip() if exc.headers else ""
    if not value:
        return None
    try:
        seconds = float(value)
    except ValueError:
        try:
            when = email.utils.parsedate_to_datetime(value)
        except (TypeError, ValueError):
            return None
        seconds = (when - dt.datetime.now(dt.UTC)).total_seconds()
    return min(max(0.0, seconds), MAX_RETRY_AFTER)


# --- pages -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Page:
    """One API page as stored in the cache: where it came from and the studies it names."""

    number: int
    path: Path
    url: str
    nct_ids: tuple[str, ...]
    aliases: tuple[str, ...]
    next_token: str | None
    total: int | None


def parse_page(data: bytes, where: str) -> tuple[list[Any], str | None, int | None]:
    """The studies, ``nextPageToken`` and ``totalCount`` of an API page; a ``FetchError`` naming ``where``."""
    expected = 'expected an API v2 page {"studies": [...], "nextPageToken": ...}'
    try:
        value = json.loads(data.decode("utf-8"))
    except UnicodeDecodeError as exc:
        raise FetchError(f"{where}: not UTF-8 (byte {exc.start}); {expected}") from None
    except json.JSONDecodeError as exc:
        raise FetchError(
            f"{where}: invalid JSON at line {exc.lineno}, column {exc.colno}: {exc.msg}; {expected}"
        ) from None
    except RecursionError:
        raise FetchError(f"{where}: the JSON is nested too deeply; {expected}") from None
    if not isinstance(value, dict):
        raise FetchError(f"{where}: the JSON is {type(value).__name__}, not an object; {expected}")
    studies = value.get("studies")
    if not isinstance(studies, list):
        found = "no" if studies is None else f"a {type(studies).__name__} as"
        raise FetchError(f'{where}: the page has {found} "studies"; {expected}')
    token = value.get("nextPageToken")
    if token is not None and not isinstance(token, str):
        raise FetchError(f'{where}: "nextPageToken" is {type(token).__name__}; expected a string')
    total = value.get("totalCount")
    return studies, token or None, total if isinstance(total, int) else None


def _ids_of(studies: list[Any]) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """The NCT IDs of the studies on a page, and the older IDs (aliases) they replace."""
    ids: list[str] = []
    aliases: list[str] = []
    for study in studies:
        ident = _get(study, "protocolSection", "identificationModule")
        nct = ident.get("nctId")
        if isinstance(nct, str):
            ids.append(nct.strip().upper())
        extra = ident.get("nctIdAliases")
        if isinstance(extra, list):
            aliases.extend(a.strip().upper() for a in extra if isinstance(a, str))
    return tuple(ids), tuple(aliases)


def _get(value: Any, *keys: str) -> dict[str, Any]:
    for key in keys:
        value = value.get(key) if isinstance(value, dict) else None
    return value if isinstance(value, dict) else {}


def default_cache_dir(store: str | os.PathLike[str], now: dt.datetime | None = None) -> Path:
    """``<store>/../fetch-cache/<UTC timestamp>``: a new folder for one run's pages."""
    stamp = (now or dt.datetime.now(dt.UTC)).strftime("%Y%m%dT%H%M%SZ")
    root = Path(store).resolve().parent / "fetch-cache"
    path, n = root / stamp, 1
    while path.exists():
        n += 1
        path = root / f"{stamp}-{n}"
    return path


def _prepare_cache(cache_dir: Path) -> None:
    if cache_dir.exists() and (any(cache_dir.glob(_PAGE_GLOB)) or (cache_dir / MANIFEST).exists()):
        raise FetchError(f"the cache folder {cache_dir} already holds pages; choose a new or empty folder")
    try:
        cache_dir.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise FetchError(f"cannot create the cache folder {cache_dir}: {exc.strerror or exc}") from None


def download(
    client: Client,
    query: Query,
    cache_dir: str | os.PathLike[str],
    *,
    page_size: int = DEFAULT_PAGE_SIZE,
    max_pages: int | None = None,
    id_batch: int = ID_BATCH,
    progress: Progress | None = None,
) -> tuple[list[Page], bool]:
    """Fetch every page of ``query`` into ``cache_dir``, checking each; the pages and whether all came.

    Nothing is ingested here. A page that is not an API page stops the run with a ``FetchError``
    naming its URL and cache file (the file is kept for inspection).
    """
    if not client.base_url.startswith(("http://", "https://")):
        raise FetchError(f"the API URL {client.base_url!r} is not an http(s) URL")
    if not query.params():
        raise FetchError("nothing to fetch: name NCT IDs or give a search (condition, intervention, term)")
    folder = Path(cache_dir)
    _prepare_cache(folder)
    size = min(max(1, page_size), MAX_PAGE_SIZE)
    manifest: dict[str, Any] = {
        "api": client.base_url,
        "started": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "query": {k: v for k, v in query.params().items() if k != "filter.ids"},
        "ids": list(normalize_ids(query.ids)),
        "pages": [],
        "complete": False,
    }
    pages: list[Page] = []
    total_ids = len(manifest["ids"]) or None
    complete = True
    for batch in query.batches(max(1, id_batch)):
        token: str | None = None
        tokens: set[str] = set()
        first = True
        while True:
            if max_pages is not None and len(pages) >= max_pages:
                complete = False
                break
            params = {**batch.params(), "format": "json", "pageSize": str(size)}
            if first:
                params["countTotal"] = "true"
            if token:
                params["pageToken"] = token
            url = client.url("studies", params)
            data = client.get(url)
            path = folder / f"page-{len(pages) + 1:04d}.json"
            path.write_bytes(data)
            manifest["pages"].append({"file": path.name, "url": url, "bytes": len(data)})
            _write_manifest(folder, manifest)
            studies, token, total = parse_page(data, f"page {len(pages) + 1} ({url}, saved as {path})")
            ids, aliases = _ids_of(studies)
            pages.append(Page(len(pages) + 1, path, url, ids, aliases, token, total))
            if progress is not None:
                progress(len(studies), total_ids if total_ids is not None else (total if first else None))
            first = False
            if not token:
                break
            if token in tokens:
                raise FetchError(f"page {len(pages)} ({url}): the API repeated the nextPageToken {token!r}")
            tokens.add(token)
        if not complete:
            break
    manifest["complete"] = complete
    manifest["totalCount"] = next((p.total for p in pages if p.total is not None), None)
    _write_manifest(folder, manifest)
    return pages, complete


def _write_manifest(folder: Path, manifest: dict[str, Any]) -> None:
    (folder / MANIFEST).write_text(json.dumps(manifest, indent=2) + "\n", encoding="utf-8")


def read_cache(cache_dir: str | os.PathLike[str]) -> tuple[list[Page], tuple[str, ...], bool]:
    """The pages of an earlier run, each checked; the NCT IDs it asked for; whether it got every page."""
    folder = Path(cache_dir)
    files = sorted(folder.glob(_PAGE_GLOB))
    if not files:
        raise FetchError(f"no cached pages ({_PAGE_GLOB}) in {folder}")
    manifest: dict[str, Any] = {}
    if (folder / MANIFEST).is_file():
        try:
            manifest = json.loads((folder / MANIFEST).read_text(encoding="utf-8"))
        except (OSError, ValueError):
            manifest = {}
    urls = {p.get("file"): p.get("url", "") for p in manifest.get("pages", []) if isinstance(p, dict)}
    pages = []
    for number, path in enumerate(files, 1):
        studies, token, total = parse_page(path.read_bytes(), f"cached page {path}")
        ids, aliases = _ids_of(studies)
        pages.append(Page(number, path, str(urls.get(path.name, "")), ids, aliases, token, total))
    requested = manifest.get("ids", [])
    complete = manifest.get("complete", True) is not False
    return pages, tuple(i for i in requested if isinstance(i, str)), complete


def _not_found(requested: Sequence[str], pages: Sequence[Page]) -> list[str]:
    seen = {i for p in pages for i in (*p.nct_ids, *p.aliases)}
    return [i for i in requested if i not in seen]


# --- fetch -------------------------------------------------------------------------------------


@dataclass
class FetchReport:
    """What a fetch did: the cache folder and its pages, studies received, IDs not found, the ingest."""

    cache_dir: Path
    pages: list[Page]
    complete: bool
    not_found: list[str]
    ingest: IngestReport

    @property
    def studies(self) -> int:
        """Studies received over all pages."""
        return sum(len(p.nct_ids) for p in self.pages)

    @property
    def total(self) -> int | None:
        """The API's ``totalCount`` for the query, when it sent one."""
        return next((p.total for p in self.pages if p.total is not None), None)

    @property
    def ok(self) -> bool:
        """True when every record was stored and every requested ID was found."""
        return self.ingest.ok and not self.not_found

    def summary(self) -> str:
        """A few lines for people."""
        total = f" of {self.total} matching" if self.total is not None else ""
        lines = [
            f"pages: {len(self.pages)} (cached in {self.cache_dir})",
            f"studies received: {self.studies}{total}",
        ]
        if not self.complete:
            lines.append("incomplete: the run stopped before the last page (--max-pages or an error)")
        if self.not_found:
            lines.append(f"not found at ClinicalTrials.gov: {', '.join(self.not_found)}")
        r = self.ingest
        lines.append(f"trials stored: {r.trials_stored} (unchanged: {r.trials_unchanged})")
        lines.append(f"warnings: {len(r.warnings)}")
        lines.append(f"errors: {len(r.errors)}")
        return "\n".join(lines)


def fetch(
    tg: TrialGraph,
    query: Query,
    cache_dir: str | os.PathLike[str],
    *,
    client: Client | None = None,
    page_size: int = DEFAULT_PAGE_SIZE,
    max_pages: int | None = None,
    progress: Progress | None = None,
) -> FetchReport:
    """Fetch the studies of ``query`` into ``cache_dir``, then ingest every page into ``tg``."""
    client = client or Client()
    pages, complete = download(
        client, query, cache_dir, page_size=page_size, max_pages=max_pages, progress=progress
    )
    report = tg.ingest([p.path for p in pages])
    missing = _not_found(normalize_ids(query.ids), pages) if complete else []
    return FetchReport(Path(cache_dir), pages, complete, missing, report)


def fetch_offline(tg: TrialGraph, cache_dir: str | os.PathLike[str]) -> FetchReport:
    """Ingest the pages an earlier run left in ``cache_dir``, without the network; all checked first."""
    pages, requested, complete = read_cache(cache_dir)
    report = tg.ingest([p.path for p in pages])
    missing = _not_found(requested, pages) if complete else []
    return FetchReport(Path(cache_dir), pages, complete, missing, report)


# --- update ------------------------------------------------------------------------------------

_VERSIONS = """
PREFIX prov: <http://www.w3.org/ns/prov#>
PREFIX tg: <https://w3id.org/trialgraph/ontology#>
SELECT ?g ?version WHERE {
  GRAPH ?g { ?t a tg:ClinicalTrial ; prov:wasDerivedFrom ?s . OPTIONAL { ?s tg:versionDate ?version } }
}
"""


def stored_versions(tg: TrialGraph) -> dict[str, str | None]:
    """Every stored trial's ID and the ``tg:versionDate`` (lastUpdatePostDate) of its source record."""
    out: dict[str, str | None] = {}
    for row in tg.store.query(_VERSIONS):
        name = row["g"].value
        if name.startswith(TRIAL):
            version = row["version"]
            out[name[len(TRIAL) :]] = None if version is None else str(version.value)
    return out


@dataclass(frozen=True)
class CriteriaChanges:
    """Criteria added, removed and changed between two versions of a trial, as ``"inclusion 3"`` labels."""

    added: tuple[str, ...] = ()
    removed: tuple[str, ...] = ()
    changed: tuple[str, ...] = ()

    def __bool__(self) -> bool:
        return bool(self.added or self.removed or self.changed)

    def __str__(self) -> str:
        parts = [
            f"{what} {', '.join(labels)}"
            for what, labels in (("changed", self.changed), ("added", self.added), ("removed", self.removed))
            if labels
        ]
        return "; ".join(parts) if parts else "criteria unchanged"


def criteria_changes(old: Trial, new: Trial) -> CriteriaChanges:
    """Which numbered criteria differ between ``old`` and ``new`` (by kind and number, then by text).

    >>> from trialgraph.model import Criterion, Source
    >>> src = Source("ctgov-json", "a.json", 0, "sha256:0")
    >>> a = Trial(id="NCT1", source=src, criteria=[Criterion("inclusion", 1, "Age >= 18")])
    >>> b = Trial(id="NCT1", source=src, criteria=[Criterion("inclusion", 1, "Age >= 21"),
    ...                                            Criterion("exclusion", 1, "Pregnancy")])
    >>> str(criteria_changes(a, b))
    'changed inclusion 1; added exclusion 1'
    """
    before, after = _numbered(old), _numbered(new)
    return CriteriaChanges(
        added=tuple(_label(k) for k in sorted(after.keys() - before.keys(), key=_order)),
        removed=tuple(_label(k) for k in sorted(before.keys() - after.keys(), key=_order)),
        changed=tuple(
            _label(k) for k in sorted(before.keys() & after.keys(), key=_order) if before[k] != after[k]
        ),
    )


def _numbered(trial: Trial) -> dict[tuple[str, str], str]:
    numbers = trial.criterion_numbers()
    return {
        (c.kind, numbers.get((c.kind, c.ordinal), str(c.ordinal))): " ".join(c.text.split())
        for c in trial.criteria
    }


def _order(key: tuple[str, str]) -> tuple[int, list[int]]:
    kind, number = key
    return (0 if kind == "inclusion" else 1, [int(p) if p.isdigit() else 0 for p in number.split(".")])


def _label(key: tuple[str, str]) -> str:
    return f"{key[0]} {key[1]}"


@dataclass(frozen=True)
class TrialUpdate:
    """One trial the update rewrote: its versions (lastUpdatePostDate) and what changed in its criteria."""

    trial_id: str
    old_version: str | None
    new_version: str | None
    criteria: CriteriaChanges


@dataclass
class UpdateReport:
    """What an update did: trials added, updated (with their criteria changes), unchanged, not found."""

    cache_dir: Path
    pages: list[Page]
    checked: int = 0
    added: list[str] = field(default_factory=list)
    updated: list[TrialUpdate] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    not_found: list[str] = field(default_factory=list)
    warnings: list[tuple[str, str]] = field(default_factory=list)
    errors: list[InputError] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        """True when every trial was found and every record stored."""
        return not self.errors and not self.not_found

    def summary(self) -> str:
        """A few lines for people: counts, then each updated trial with its criteria changes."""
        lines = [
            f"trials checked: {self.checked} ({len(self.pages)} pages cached in {self.cache_dir})",
            f"added: {len(self.added)}" + (f" ({', '.join(self.added)})" if self.added else ""),
            f"updated: {len(self.updated)}",
        ]
        lines += [
            f"  {u.trial_id} ({u.old_version or 'no date'} -> {u.new_version or 'no date'}): {u.criteria}"
            for u in self.updated
        ]
        lines.append(f"unchanged: {len(self.unchanged)}")
        if self.not_found:
            lines.append(f"not found at ClinicalTrials.gov: {', '.join(self.not_found)}")
        lines.append(f"warnings: {len(self.warnings)}")
        lines.append(f"errors: {len(self.errors)}")
        return "\n".join(lines)


def update(
    tg: TrialGraph,
    cache_dir: str | os.PathLike[str],
    *,
    ids: Sequence[str] | None = None,
    client: Client | None = None,
    batch_size: int = ID_BATCH,
    progress: Progress | None = None,
) -> UpdateReport:
    """Re-fetch the store's trials (or ``ids``; one not stored yet is added) and re-ingest the changed ones.

    A trial is re-ingested when its ``lastUpdatePostDate`` differs from the stored ``tg:versionDate``.
    All pages are fetched and checked before anything is stored.
    """
    client = client or Client()
    stored = stored_versions(tg)
    wanted = normalize_ids(ids) if ids else tuple(i for i in sorted(stored) if _NCT.fullmatch(i))
    if not wanted:
        raise FetchError("no trials with NCT IDs in the store to update; fetch some with `trialgraph fetch`")
    size = max(1, min(batch_size, MAX_PAGE_SIZE))
    pages, _ = download(
        client, Query(ids=wanted), cache_dir, page_size=size, id_batch=size, progress=progress
    )
    report = UpdateReport(Path(cache_dir), pages, checked=len(wanted))
    report.not_found = _not_found(wanted, pages)
    seen: set[str] = set()
    for trial in _trials(pages, report.errors):
        if trial.id in seen:
            continue
        seen.add(trial.id)
        if trial.id not in stored:
            report.added.append(trial.id)
        elif stored[trial.id] == trial.last_update_posted:
            report.unchanged.append(trial.id)
            continue
        else:
            changes = criteria_changes(tg.trial(trial.id), trial)
            report.updated.append(TrialUpdate(trial.id, stored[trial.id], trial.last_update_posted, changes))
        _store(tg, trial, report)
    tg.store.flush()
    return report


def _trials(pages: Sequence[Page], errors: list[InputError]) -> Iterator[Trial]:
    for page in pages:
        for result in ingest.read_file(page.path):
            if isinstance(result, InputError):
                errors.append(result)
            else:
                yield result


def _store(tg: TrialGraph, trial: Trial, report: UpdateReport) -> None:
    try:
        extract.extract_trial(trial)
        tg.add_trial(trial)
    except (ValueError, TypeError) as exc:  # a term the RDF library refuses, as in TrialGraph.ingest
        report.errors.append(
            InputError(trial.source.file, f"cannot be stored as RDF: {exc}", trial.source.record_index)
        )
        return
    report.warnings.extend((trial.id, w) for w in trial.warnings)


# --- progress ----------------------------------------------------------------------------------


class ProgressBar:
    """A ``click`` progress bar on stderr, shown only on a terminal, sized once the total is known."""

    def __init__(self, label: str, enabled: bool | None = None) -> None:
        self.label = label
        self.enabled = sys.stderr.isatty() if enabled is None else enabled
        self._bar: Any = None

    def __call__(self, studies: int, total: int | None) -> None:
        """Advance by one page of ``studies``."""
        if not self.enabled:
            return
        if self._bar is None:
            if total is None:
                return
            self._bar = click.progressbar(length=total, label=self.label, file=sys.stderr)
            self._bar.__enter__()
        self._bar.update(studies)

    def __enter__(self) -> ProgressBar:
        return self

    def __exit__(self, *exc: object) -> None:
        if self._bar is not None:
            self._bar.__exit__(None, None, None)
            self._bar = None
