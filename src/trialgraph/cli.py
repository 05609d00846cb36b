"""The ``trialgraph`` command: a thin layer over :class:`trialgraph.api.TrialGraph`."""

from __future__ import annotations

import sys
import traceback
from collections.abc import Callable
from pathlib import Path
from typing import Any, BinaryIO, TypeVar

import click

from trialgraph import __version__, ingest, queries, render
from trialgraph.api import TrialGraph, default_store_path, resolve_query
from trialgraph.eligibility.patient import load_patient, vocabulary_resolver
from trialgraph.errors import StoreError, TrialgraphError
from trialgraph.results import RESULT_FORMATS, QueryResult
from trialgraph.store import FORMATS

EXIT_OK = 0
EXIT_PARTIAL = 1
EXIT_ERROR = 2

EXIT_CODES = f"""Exit codes: {EXIT_OK} success; {EXIT_PARTIAL} finished, but some records or items failed
(each is reported); {EXIT_ERROR} error (bad usage, store locked or unreadable, nothing done)."""

F = TypeVar("F", bound=Callable[..., Any])
_PROGRESS_MIN_FILES = 20


class Context:
    """Options shared by every command."""

    def __init__(self, store: str, debug: bool) -> None:
        self.store = store
        self.debug = debug

    def graph(self, read_only: bool = False) -> TrialGraph:
        """Open the store; a read-only open requires it to exist."""
        if read_only and not Path(self.store).is_dir():
            raise StoreError(f"no store at {self.store}; create one with `trialgraph ingest PATH`")
        return TrialGraph(self.store, read_only=read_only)


def _fail(ctx: click.Context, exc: BaseException) -> None:
    options = ctx.find_object(Context)
    if options is not None and options.debug:
        traceback.print_exception(exc)
    click.echo(f"error: {exc}", err=True)
    ctx.exit(EXIT_ERROR)


def handles_errors(func: F) -> F:
    """Turn the project's documented errors into one line on stderr and exit code 2."""

    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return func(*args, **kwargs)
        except TrialgraphError as exc:
            _fail(click.get_current_context(), exc)

    wrapper.__name__ = func.__name__
    wrapper.__doc__ = func.__doc__
    return wrapper  # type: ignore[return-value]


@click.group(epilog=EXIT_CODES, context_settings={"help_option_names": ["-h", "--help"]})
@click.option(
    "--store",
    type=click.Path(file_okay=False),
    default=default_store_path,
    show_default="$TRIALGRAPH_STORE or ./trialgraph-store",
    help="Directory of the embedded store.",
)
@click.option("--debug", is_flag=True, help="Show tracebacks for errors.")
@click.version_option(__version__)
@click.pass_context
def main(ctx: click.Context, store: str, debug: bool) -> None:
    """trialgraph: a knowledge graph of clinical trials (RDF, SHACL eligibility, SPARQL)."""
    ctx.obj = Context(store, debug)


@main.command("ingest", epilog=EXIT_CODES)
@click.argument("paths", nargs=-1, required=True, type=click.Path(exists=True))
@click.pass_obj
@handles_errors
def ingest_cmd(obj: Context, paths: tuple[str, ...]) -> None:
    """Read trial records (CT.gov API v2 JSON, legacy XML, registry page text) into the store.

    PATHS are files or directories (walked recursively); the format of each file is detected
    from its content. A trial already in the store is replaced by the new record.
    """
    tg = obj.graph()
    files = list(ingest.iter_files(paths))

    def stage(text: str) -> None:
        click.echo(f"{text} ...", err=True)

    if len(files) >= _PROGRESS_MIN_FILES and sys.stderr.isatty():
        with click.progressbar(length=len(files), label="ingesting", file=sys.stderr) as bar:
            report = tg.ingest(files, progress=lambda _f: bar.update(1), stage=stage)
    else:
        report = tg.ingest(files, stage=stage)
    for trial_id, warning in report.warnings:
        click.echo(f"warning: {trial_id}: {warning}", err=True)
    for error in report.errors:
        click.echo(f"error: {error}", err=True)
    click.echo(render.ingest_summary(report))
    sys.exit(EXIT_OK if report.ok else EXIT_PARTIAL)


@main.command(epilog=EXIT_CODES)
@click.pass_obj
@handles_errors
def stats(obj: Context) -> None:
    """Counts of what the store holds."""
    click.echo(render.stats(obj.graph(read_only=True).stats()))


@main.command(epilog=EXIT_CODES)
@click.argument("trial_id")
@click.pass_obj
@handles_errors
def show(obj: Context, trial_id: str) -> None:
    """A readable summary of one trial: identifiers, status, arms, numbered criteria."""
    click.echo(render.trial(obj.graph(read_only=True).trial(trial_id)))


def _params(pairs: tuple[str, ...]) -> dict[str, str]:
    params: dict[str, str] = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep or not key.strip():
            raise click.BadParameter(f"{pair!r} is not NAME=VALUE", param_hint="--param")
        params[key.strip()] = value
    return params


_FORMAT_OPTION = click.option(
    "--format",
    "fmt",
    type=click.Choice(RESULT_FORMATS),
    default="table",
    show_default=True,
    help="table for people; csv, tsv, json (SPARQL 1.1 Query Results) for programs.",
)


@main.command("query", epilog=EXIT_CODES)
@click.argument("query")
@click.option(
    "--param", "-p", "pairs", multiple=True, metavar="NAME=VALUE", help="A query parameter (repeatable)."
)
@_FORMAT_OPTION
@click.option(
    "--endpoint", metavar="URL", help="Run it on this remote SPARQL endpoint instead of the local store."
)
@click.option("--user", help="User for the endpoint; the password from $TRIALGRAPH_PASSWORD or a prompt.")
@click.option(
    "--default-graph",
    "default_graphs",
    multiple=True,
    metavar="IRI",
    help="A graph the remote default graph merges (repeatable); for servers whose default graph "
    "is not the union of the named graphs.",
)
@click.pass_obj
@handles_errors
def query_cmd(
    obj: Context,
    query: str,
    pairs: tuple[str, ...],
    fmt: str,
    endpoint: str | None = None,
    user: str | None = None,
    default_graphs: tuple[str, ...] = (),
) -> None:
    """Run a library query by NAME (see `trialgraph queries`) or a FILE.rq, with its parameters.

    \b
    Examples:
      trialgraph query oligoprogression-prior-therapy -p therapy="PD-L1 inhibitor"
      trialgraph query prior-therapy-stance -p therapy=tgc:CTLA4Inhibitor --format csv
      trialgraph query --endpoint http://localhost:8890/sparql graph-statistics

    With --endpoint the same query runs on a remote SPARQL endpoint (through SPARQLWrapper), whose
    default graph must be the union of the named graphs (Virtuoso; Oxigraph with
    --union-default-graph) or be named with --default-graph.
    """
    if endpoint:
        from trialgraph.remote import Credentials, RemoteGraph

        credentials = Credentials.from_environment(user, _password_prompt)
        remote = RemoteGraph(endpoint, credentials, default_graphs)
        click.echo(remote.query(query, **_params(pairs)).format(fmt))
        return
    click.echo(obj.graph(read_only=True).query(query, **_params(pairs)).format(fmt))


@main.command("queries", epilog=EXIT_CODES)
@handles_errors
def queries_cmd() -> None:
    """List the query library: each query's name, question and parameters."""
    for q in queries.library():
        click.echo(q.name)
        click.echo(f"    {q.question}")
        for p in q.parameters:
            click.echo(f"    --param {p.name}=<{p.type_text}>  (default {p.default}) {p.description}")


ASK_SHORTCUTS: dict[str, tuple[str, str, dict[str, str], Callable[[dict[str, object]], bool]]] = {
    "oligo-pd1": (
        "Which oligoprogression trials allow prior PD-1 therapy?",
        "oligoprogression-prior-therapy",
        {"therapy": "tgc:PD1Inhibitor", "population": "tgc:Oligoprogression"},
        lambda row: row["stance"] != "excluded",
    ),
}
"""Short questions: a library query, its parameters, and which rows answer the question."""


@main.command(epilog=EXIT_CODES)
@click.argument("question", type=click.Choice(sorted(ASK_SHORTCUTS)))
@_FORMAT_OPTION
@click.pass_obj
@handles_errors
def ask(obj: Context, question: str, fmt: str) -> None:
    """Answer a named question from the library, e.g. `trialgraph ask oligo-pd1`."""
    title, name, params, keep = ASK_SHORTCUTS[question]
    result = obj.graph(read_only=True).query(name, **params)
    kept = [row for row, values in zip(result.rows, result.values(), strict=True) if keep(values)]
    answer = QueryResult(result.variables, kept)
    if fmt == "table":
        click.echo(
            f"{title}\n({resolve_query(name).name}: {', '.join(f'{k}={v}' for k, v in params.items())})\n"
        )
    click.echo(answer.format(fmt))


@main.command(epilog=EXIT_CODES)
@click.argument("patient", type=click.Path(exists=True, dir_okay=False))
@click.option("--trial", "trial_ids", multiple=True, metavar="ID", help="Check only this trial (repeatable).")
@click.option("--format", "fmt", type=click.Choice(["table", "json"]), default="table", show_default=True)
@click.option(
    "--engine",
    type=click.Choice(["bulk", "shacl"]),
    default="bulk",
    show_default=True,
    help="bulk: the fast matcher; shacl: pySHACL over the generated shapes (same answers, slower).",
)
@click.option(
    "--limit", type=click.IntRange(min=1), metavar="N", help="Show only the first N trials of the ranking."
)
@click.pass_obj
@handles_errors
def match(
    obj: Context, patient: str, trial_ids: tuple[str, ...], fmt: str, engine: str, limit: int | None
) -> None:
    """Check a PATIENT description (YAML, JSON or Turtle, see docs/patient-format.md) against every trial.

    Trials come eligible first, then undetermined, then ineligible; for each, the criteria not
    met and those the description cannot decide, with the reason in words. The counts of each
    verdict cover every trial checked, shown or not.
    """
    person = load_patient(patient, vocabulary_resolver())
    results = obj.graph(read_only=True).match(person, list(trial_ids) or None, engine)  # type: ignore[arg-type]
    if fmt == "table":
        click.echo(render.match_table(results, limit))
    else:
        click.echo(render.match_json(person.id, results, limit))


@main.command(epilog=EXIT_CODES)
@click.argument("trial_id")
@click.pass_obj
@handles_errors
def shapes(obj: Context, trial_id: str) -> None:
    """Print a trial's eligibility as SHACL shapes (Turtle): one node shape per computable criterion."""
    click.echo(obj.graph(read_only=True).shapes(trial_id).serialize(format="turtle"))


@main.command("validate", epilog=EXIT_CODES)
@click.option(
    "--trial", "trial_ids", multiple=True, metavar="ID", help="Validate only this trial (repeatable)."
)
@click.pass_obj
@handles_errors
def validate_cmd(obj: Context, trial_ids: tuple[str, ...]) -> None:
    """Check every trial graph against the data-quality shapes (shapes/data-quality.ttl).

    Violations (a broken graph) make the exit code 1; warnings (something the source record lacks)
    are reported but do not.
    """
    tg = obj.graph(read_only=True)
    findings = tg.validate(list(trial_ids) or None)
    click.echo(render.quality(findings, len(trial_ids) or len(tg.trial_ids())))
    sys.exit(EXIT_PARTIAL if any(f.severity == "Violation" for f in findings) else EXIT_OK)


@main.command(epilog=EXIT_CODES)
@click.pass_obj
@handles_errors
def reason(obj: Context) -> None:
    """Check the ontology with the HermiT reasoner and store the types and subclasses it infers.

    The inferred triples go to their own graph (https://w3id.org/trialgraph/graph/inferred), so
    plain SPARQL sees, for example, an agent classified as a PD-1 inhibitor from its target.
    """
    report = obj.graph().reason()
    click.echo(render.reasoning(report))
    sys.exit(EXIT_OK if report.ok else EXIT_PARTIAL)


@main.command(epilog=EXIT_CODES)
@click.option(
    "--format",
    "fmt",
    type=click.Choice(sorted(FORMATS)),
    help="Serialization [default: from the output name (.ttl .nt .nq .trig .jsonld .rdf), else turtle].",
)
@click.option(
    "--trial", "trial_ids", multiple=True, metavar="ID", help="Export only this trial (repeatable)."
)
@click.option(
    "--ontology/--no-ontology",
    default=False,
    help="Include the ontology and vocabulary graph (whole store: the reasoner's inferences too).",
)
@click.option(
    "--construct",
    type=click.Path(exists=True, dir_okay=False),
    metavar="FILE.rq",
    help="Export the triples this CONSTRUCT query builds over the whole store instead.",
)
@click.option("--gzip", "compress", is_flag=True, help="Compress with gzip (implied by a name ending .gz).")
@click.option(
    "-o", "--output", type=click.Path(dir_okay=False, writable=True), help="File to write (default: stdout)."
)
@click.pass_obj
@handles_errors
def export(
    obj: Context,
    fmt: str | None,
    trial_ids: tuple[str, ...],
    ontology: bool,
    construct: str | None,
    compress: bool,
    output: str | None,
) -> None:
    """Serialize the store, the named trials, or a CONSTRUCT query's result as RDF, streamed.

    N-Quads, TriG and JSON-LD keep one named graph per trial; the triple formats merge them.

    \b
    Examples:
      trialgraph export -o trials.nq.gz                  # every trial, one graph each, compressed
      trialgraph export --format trig --ontology --trial NCT06592612
      trialgraph export --construct criteria.rq -o criteria.ttl
    """
    from trialgraph import export as exporting

    fmt = fmt or exporting.format_for(output)
    if construct and trial_ids:
        raise click.UsageError("--construct runs over the whole store: give no --trial")
    tg = obj.graph(read_only=True)
    with exporting.open_output(output, compress) as stream:
        if construct:
            exporting.export_construct(tg.store, stream, fmt, Path(construct).read_text(encoding="utf-8"))
        else:
            tg.export(stream, fmt, list(trial_ids) or None, include_ontology=ontology)


def _stdout() -> BinaryIO:
    return open(sys.stdout.fileno(), "wb", closefd=False)


# --- fetch and update: the ClinicalTrials.gov API v2 (trialgraph.fetch) --------------------------


def _api_options(func: F) -> F:
    """The options shared by the commands that call the ClinicalTrials.gov API."""
    from trialgraph import fetch as api

    options = [
        click.option(
            "--api-url",
            metavar="URL",
            show_default=f"${api.API_URL_ENV} or {api.DEFAULT_API_URL}",
            help="Base URL of the API v2.",
        ),
        click.option(
            "--cache",
            type=click.Path(file_okay=False),
            metavar="DIR",
            help="New or empty folder for this run's raw pages [default: <store>/../fetch-cache/<UTC time>].",
        ),
        click.option(
            "--timeout",
            type=click.FloatRange(min=0.01),
            default=api.DEFAULT_TIMEOUT,
            show_default=True,
            help="Seconds to wait for each response.",
        ),
        click.option(
            "--retries",
            type=click.IntRange(min=0),
            default=api.DEFAULT_RETRIES,
            show_default=True,
            help="Retries of a request after HTTP 429/5xx or a connection error (back-off doubles).",
        ),
        click.option(
            "--min-interval",
            type=click.FloatRange(min=0),
            default=api.DEFAULT_MIN_INTERVAL,
            show_default=True,
            help="Seconds between requests (the API allows ~50 a minute).",
        ),
    ]
    for option in reversed(options):
        func = option(func)
    return func


def _api_client(api_url: str | None, timeout: float, retries: int, min_interval: float) -> Any:
    from trialgraph import fetch as api

    return api.Client(api_url, timeout=timeout, retries=retries, min_interval=min_interval)


def _report_records(warnings: list[tuple[str, str]], errors: list[Any]) -> None:
    for trial_id, warning in warnings:
        click.echo(f"warning: {trial_id}: {warning}", err=True)
    for error in errors:
        click.echo(f"error: {error}", err=True)


@main.command("fetch", epilog=EXIT_CODES)
@click.option("--id", "ids", multiple=True, metavar="NCT_ID", help="A trial by NCT ID (repeatable).")
@click.option("--condition", help="Conditions or disease (query.cond).")
@click.option("--intervention", help="Intervention or treatment (query.intr).")
@click.option("--term", help="Other terms, anywhere in the record (query.term).")
@click.option(
    "--status", multiple=True, metavar="STATUS", help="Overall status, e.g. RECRUITING (repeatable)."
)
@click.option(
    "--page-size", type=click.IntRange(1, 1000), default=100, show_default=True, help="Studies per page."
)
@click.option("--max-pages", type=click.IntRange(min=1), help="Stop after this many pages.")
@_api_options
@click.option(
    "--offline",
    type=click.Path(exists=True, file_okay=False),
    metavar="CACHE_DIR",
    help="Ingest the pages an earlier run cached in CACHE_DIR, without the network.",
)
@click.pass_obj
@handles_errors
def fetch_cmd(
    obj: Context,
    ids: tuple[str, ...],
    condition: str | None,
    intervention: str | None,
    term: str | None,
    status: tuple[str, ...],
    page_size: int,
    max_pages: int | None,
    api_url: str | None,
    cache: str | None,
    timeout: float,
    retries: int,
    min_interval: float,
    offline: str | None,
) -> None:
    """Fetch trials from the ClinicalTrials.gov API v2 (by NCT ID, by search, or both) and ingest them.

    \b
    Examples:
      trialgraph fetch --term oligoprogression --status RECRUITING
      trialgraph fetch --condition "prostate cancer" --term oligometastatic --status RECRUITING
      trialgraph fetch --condition "non-small cell lung cancer" --intervention pembrolizumab --max-pages 3
      trialgraph fetch --id NCT05923281 --id NCT05921903
      trialgraph fetch --offline fetch-cache/20250601T093000Z

    Every page is saved unchanged in the cache folder and checked before anything is stored, so a
    failed run stores nothing and a run can be replayed with --offline. NCT IDs the API does not know
    are reported (exit code 1); the others are stored.
    """
    from trialgraph import fetch as api

    if offline:
        if ids or condition or intervention or term or status or cache:
            raise click.UsageError("--offline replays a cache folder: give no --id, search or --cache")
        report = api.fetch_offline(obj.graph(), offline)
    else:
        query = api.Query(tuple(ids), condition, intervention, term, tuple(status))
        client = _api_client(api_url, timeout, retries, min_interval)
        folder = cache or api.default_cache_dir(obj.store)
        with api.ProgressBar("fetching") as bar:
            report = api.fetch(
                obj.graph(),
                query,
                folder,
                client=client,
                page_size=page_size,
                max_pages=max_pages,
                progress=bar,
            )
    _report_records(report.ingest.warnings, list(report.ingest.errors))
    click.echo(report.summary())
    sys.exit(EXIT_OK if report.ok else EXIT_PARTIAL)


@main.command("update", epilog=EXIT_CODES)
@click.option(
    "--id",
    "ids",
    multiple=True,
    metavar="NCT_ID",
    help="Update only this trial (repeatable); one not in the store yet is added.",
)
@click.option(
    "--batch-size", type=click.IntRange(1, 1000), default=100, show_default=True, help="NCT IDs per request."
)
@_api_options
@click.pass_obj
@handles_errors
def update_cmd(
    obj: Context,
    ids: tuple[str, ...],
    batch_size: int,
    api_url: str | None,
    cache: str | None,
    timeout: float,
    retries: int,
    min_interval: float,
) -> None:
    """Re-fetch the store's trials from ClinicalTrials.gov and re-ingest those that changed.

    A trial is re-ingested when its lastUpdatePostDate differs from the stored version date; for
    each, the criteria added, removed or changed are listed. All pages are fetched and checked
    before anything is stored.

    \b
    Examples:
      trialgraph update
      trialgraph update --id NCT05923281 --cache fetch-cache/nct05923281
    """
    from trialgraph import fetch as api

    tg = obj.graph()
    client = _api_client(api_url, timeout, retries, min_interval)
    folder = cache or api.default_cache_dir(obj.store)
    with api.ProgressBar("checking") as bar:
        report = api.update(
            tg, folder, ids=list(ids) or None, client=client, batch_size=batch_size, progress=bar
        )
    _report_records(report.warnings, list(report.errors))
    click.echo(report.summary())
    sys.exit(EXIT_OK if report.ok else EXIT_PARTIAL)


# --- remote stores and the local endpoint: push, serve (trialgraph.remote, trialgraph.serve) -------------


def _password_prompt(label: str) -> str:
    return str(click.prompt(label, hide_input=True, err=True))


@main.command("push", epilog=EXIT_CODES)
@click.option("--endpoint", required=True, metavar="URL", help="The remote SPARQL endpoint.")
@click.option("--update-endpoint", metavar="URL", help="Its SPARQL Update URL [default: --endpoint].")
@click.option(
    "--graph-store",
    metavar="URL",
    help="Its Graph Store Protocol URL (e.g. Oxigraph /store, Virtuoso "
    "/sparql-graph-crud-auth); without it, SPARQL Update is used.",
)
@click.option(
    "--protocol",
    type=click.Choice(["auto", "gsp", "update"]),
    default="auto",
    show_default=True,
    help="gsp: PUT each graph; update: DROP + INSERT DATA; auto: gsp when --graph-store is given, "
    "falling back to update if the server has no Graph Store Protocol.",
)
@click.option("--trial", "trial_ids", multiple=True, metavar="ID", help="Push only this trial (repeatable).")
@click.option(
    "--ontology/--no-ontology",
    default=None,
    help="Push the ontology graph too [default: yes for the whole store, no with --trial].",
)
@click.option(
    "--batch-size",
    type=click.IntRange(min=1),
    default=50,
    show_default=True,
    help="Graphs per batch: one Update request (split above 20,000 triples); state saved after each.",
)
@click.option("--user", help="User for the endpoint; the password from $TRIALGRAPH_PASSWORD or a prompt.")
@click.option(
    "--retries", type=click.IntRange(min=0), default=4, show_default=True, help="Retries of a failed request."
)
@click.option(
    "--timeout", type=click.FloatRange(min=0.1), default=120.0, show_default=True, help="Seconds per request."
)
@click.option("--force", is_flag=True, help="Push every graph, even those the state file says are there.")
@click.pass_obj
@handles_errors
def push_cmd(
    obj: Context,
    endpoint: str,
    update_endpoint: str | None,
    graph_store: str | None,
    protocol: str,
    trial_ids: tuple[str, ...],
    ontology: bool | None,
    batch_size: int,
    user: str | None,
    retries: int,
    timeout: float,
    force: bool,
) -> None:
    """Load the store (or the named trials) into a remote triple store, replacing each graph there.

    A bearer token is taken from $TRIALGRAPH_TOKEN when no --user is given. Credentials are never
    printed. Transient failures (connection reset, HTTP 5xx, 429) are retried with back-off. The
    checksum of every graph pushed is kept in <store>/push-state.json, so a re-run sends only the
    graphs that changed (or failed).

    \b
    Examples:
      trialgraph push --endpoint http://localhost:7878/query --graph-store http://localhost:7878/store
      TRIALGRAPH_PASSWORD=... trialgraph push --user dba --endpoint http://localhost:8890/sparql-auth \\
          --graph-store http://localhost:8890/sparql-graph-crud-auth
    """
    from trialgraph import remote

    tg = obj.graph(read_only=True)
    credentials = remote.Credentials.from_environment(user, _password_prompt)
    target = remote.Endpoint(endpoint, update_endpoint, graph_store)
    graphs = list(tg.push_graphs(list(trial_ids) or None, ontology))
    pusher = remote.Pusher(
        target,
        remote.HttpClient(credentials, timeout=timeout, retries=retries),
        protocol=protocol,
        batch_size=batch_size,
        state=remote.PushState(remote.state_path(tg.store)),
        force=force,
    )
    if len(graphs) >= _PROGRESS_MIN_FILES and sys.stderr.isatty():
        with click.progressbar(length=len(graphs), label="pushing", file=sys.stderr) as bar:
            report = pusher.push(tg.store, graphs, progress=bar.update)
    else:
        report = pusher.push(tg.store, graphs)
    click.echo(report.summary())
    sys.exit(EXIT_OK if report.ok else EXIT_PARTIAL)


@main.command("serve", epilog=EXIT_CODES)
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option(
    "--port", type=click.IntRange(0, 65535), default=7879, show_default=True, help="0: any free port."
)
@click.option("--writable", is_flag=True, help="Accept SPARQL Update (the store is opened read-write).")
@click.option(
    "--timeout", type=click.FloatRange(min=0.1), default=30.0, show_default=True, help="Query time limit, s."
)
@click.option(
    "--max-rows", type=click.IntRange(min=1), default=100_000, show_default=True, help="Rows in an answer."
)
@click.option("--workers", type=click.IntRange(min=1), default=2, show_default=True, help="Queries at once.")
@click.pass_obj
@handles_errors
def serve_cmd(
    obj: Context, host: str, port: int, writable: bool, timeout: float, max_rows: int, workers: int
) -> None:
    """A local SPARQL 1.1 endpoint over the store, with a query page in the browser.

    The query page is at /, the endpoint at /sparql (GET or POST; SPARQL JSON, XML, CSV or TSV
    by Accept). The default graph is the union of all graphs. Read-only unless --writable.
    """
    from trialgraph import serve

    server = serve.make_server(
        obj.store, host, port, writable=writable, timeout=timeout, max_rows=max_rows, workers=workers
    )
    bound_host, bound_port = server.server_address[:2]
    if host not in ("127.0.0.1", "localhost", "::1"):
        click.echo(f"warning: listening on {host}: anyone who can reach it can query the store", err=True)
    mode = "read-write" if writable else "read-only"
    url = f"http://{bound_host!s}:{bound_port}"
    click.echo(f"SPARQL endpoint {url}/sparql ({mode}); query page {url}/; Ctrl-C stops")
    import signal

    def stop(_signum: int, _frame: object) -> None:
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, stop)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()
