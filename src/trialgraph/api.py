"""The ``TrialGraph`` facade: the one class the command line and Python users call.

>>> tg = TrialGraph(None)                       # an in-memory store
>>> report = tg.ingest(["examples/trials/000_2fe0ee2e32fa1ef1.txt"])
>>> report.trials_stored, report.errors
(1, [])
>>> tg.trial_ids()
['NCT07268794']
"""

from __future__ import annotations

import datetime as dt
import logging
import os
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, TYPE_CHECKING, Literal

import pyoxigraph as ox
import rdflib

from trialgraph import ingest, pipeline, quality, queries, rdf, reasoning
from trialgraph.eligibility.bulk import BulkMatcher
from trialgraph.eligibility.evaluate import TrialResult
from trialgraph.eligibility.patient import Patient, load_patient, vocabulary_resolver
from trialgraph.eligibility.shapes import trial_shapes
from trialgraph.errors import InputError, NotFoundError
from trialgraph.model import Trial
from trialgraph.namespaces import ONTOLOGY_GRAPH, PREFIXES, TG, TRIAL, trial_iri
from trialgraph.results import QueryResult
from trialgraph.store import TrialStore

if TYPE_CHECKING:
    from trialgraph.remote import RemoteGraph

log = logging.getLogger(__name__)

DEFAULT_STORE = "trialgraph-store"
"""The store used when neither ``--store`` nor ``TRIALGRAPH_STORE`` names one."""

Progress = Callable[[Path], None]
_PARALLEL_BYTES = 2_000_000
"""Inputs larger than this are extracted in parallel; below it, starting workers costs more than it saves."""
_COUNT_OUTDATED = f"""
SELECT (COUNT(*) AS ?outdated) WHERE {{
  GRAPH ?trial {{ ?trial a <{TG}ClinicalTrial> }}
  MINUS {{
    GRAPH ?trial {{ ?trial {rdf.MAPPING_VERSION_PROPERTY} ?version }}
    FILTER(?version >= {rdf.MAPPING_VERSION})
  }}
}}
"""
"""The trial graphs (each holds its trial, typed) without the current mapping version or a later one."""
OPTIMIZE_AFTER = 2_000
"""An ingest that stores at least this many trials compacts the store at its end. Each batch is one bulk
write that leaves files of its own; compacting them (9 s for 10,000 trials, 150 s for 100,000 on two
cores) made graph reads 2.3x (10,000) and 5x (100,000) faster and the 100,000-trial store 42 % smaller."""


@dataclass
class IngestReport:
    """What an ingest did: records read, trials stored or unchanged, warnings and errors."""

    records_read: int = 0
    trials_stored: int = 0
    trials_unchanged: int = 0
    warnings: list[tuple[str, str]] = field(default_factory=list)
    errors: list[InputError] = field(default_factory=list)
    outdated_trials: int = 0
    """Trials in the store an earlier mapping wrote, after the ingest (:meth:`TrialGraph.outdated_trials`)."""

    @property
    def ok(self) -> bool:
        """True when no record failed."""
        return not self.errors


@dataclass(frozen=True)
class Stats:
    """Counts of what the store holds."""

    trials: int
    arms: int
    interventions: int
    conditions: int
    criteria: int
    quads: int
    by_status: dict[str, int]
    by_phase: dict[str, int]
    outdated_trials: int = 0


def default_store_path() -> str:
    """``$TRIALGRAPH_STORE`` or :data:`DEFAULT_STORE`."""
    return os.environ.get("TRIALGRAPH_STORE") or DEFAULT_STORE


class TrialGraph:
    """A knowledge graph of clinical trials in an embedded on-disk store (``None``: in memory)."""

    def __init__(self, store: str | os.PathLike[str] | None = DEFAULT_STORE, read_only: bool = False) -> None:
        self.store = TrialStore(store, read_only=read_only)
        self._bulk: BulkMatcher | None = None
        self._outdated_checked = False
        if not read_only and not self.store.contains(rdf.ontology_version()):
            self.store.replace_graph(ox.NamedNode(ONTOLOGY_GRAPH), rdf.ontology_quads())

    def ingest(
        self,
        paths: Iterable[str | os.PathLike[str]],
        progress: Progress | None = None,
        workers: int | None = None,
        stage: Callable[[str], None] | None = None,
    ) -> IngestReport:
        """Read every record under ``paths``, extract constraints, and store each trial in its own graph.

        ``workers`` processes extract and map trials (default: every core for inputs over 2 MB,
        else one); reading and storing stay here, each batch of new trials stored in one atomic
        bulk write (each trial whole or not at all), a trial already stored in its own transaction.
        An ingest that stores :data:`OPTIMIZE_AFTER` trials or more compacts the store at its end,
        and keeps the bulk matcher's scan of it beside it, so that the first match need not read
        every trial (0.4 s for 10,000 trials, 4 s for 100,000).
        ``progress`` is called after each file is read; ``stage`` is told when a long step follows
        the reading ("compacting the store after ...": minutes for 100,000 trials).

        >>> report = TrialGraph(None).ingest(["examples/trials"])
        >>> report.records_read, report.trials_stored, report.ok
        (5, 5, True)
        """
        files = list(ingest.iter_files(paths))
        if workers is None:
            size = sum(f.stat().st_size for f in files if f.is_file())
            workers = pipeline.default_workers() if size > _PARALLEL_BYTES else 1
        report = IngestReport()

        def trials() -> Iterator[Trial]:
            for file in files:
                for result in ingest.read_records(file):
                    report.records_read += 1
                    if isinstance(result, InputError):
                        report.errors.append(result)
                    else:
                        yield result
                if progress is not None:
                    progress(file)

        volatile = frozenset({rdf.INGEST_TIME})
        items = pipeline.prepared(trials(), dt.datetime.now(dt.UTC), workers)
        for item, changed in pipeline.store_prepared(self.store, items, volatile):
            if item.error is not None:
                report.errors.append(item.error)
                continue
            if changed:
                report.trials_stored += 1
            else:
                report.trials_unchanged += 1
            report.warnings.extend((item.trial_id, w) for w in item.warnings)
        self.store.flush()
        if report.trials_stored >= OPTIMIZE_AFTER:
            if stage is not None:
                stage(f"compacting the store after {report.trials_stored:,} new trials")
            self.store.optimize()
            if self.store.path is not None:
                if stage is not None:
                    stage("reading every trial's eligibility index for the matcher")
                self._matcher().refresh()
        report.outdated_trials = self.outdated_trials()
        return report

    def outdated_trials(self) -> int:
        """How many stored trials an earlier mapping wrote (:data:`~trialgraph.rdf.MAPPING_VERSION`).

        They lack facts the library queries read (``tg:criterionQuote``, ...) until their sources are
        ingested again; 0 for a store written by this version.

        >>> tg = TrialGraph(None)
        >>> _ = tg.ingest(["examples/trials"])
        >>> tg.outdated_trials()
        0
        """
        # Counted by the engine: listing the graphs and versions in Python took 1.9 s at 100,000 trials.
        (row,) = list(self.store.query(_COUNT_OUTDATED))
        return int(row["outdated"].value)

    def add_trial(self, trial: Trial) -> bool:
        """Store one trial, replacing its earlier graph; False when the graph was already identical.

        >>> from trialgraph.model import Source
        >>> tg = TrialGraph(None)
        >>> trial = Trial(id="NCT00000001", source=Source("ctgov-json", "a.json", 0, "sha256:0"))
        >>> tg.add_trial(trial), tg.add_trial(trial)
        (True, False)
        """
        quads = rdf.trial_quads(trial, ingested_at=dt.datetime.now(dt.UTC))
        return self.store.replace_graph(
            ox.NamedNode(trial_iri(trial.id)), quads, frozenset({rdf.INGEST_TIME})
        )

    def trial_ids(self) -> list[str]:
        """The identifiers of every stored trial, sorted.

        >>> tg = TrialGraph(None)
        >>> _ = tg.ingest(["examples/trials/002_e100751488679964.txt"])
        >>> tg.trial_ids()
        ['NCT06592612']
        """
        return sorted(g.value[len(TRIAL) :] for g in self.store.graphs() if g.value.startswith(TRIAL))

    def trial(self, trial_id: str) -> Trial:
        """The stored trial, read back from its graph into the typed model.

        >>> tg = TrialGraph(None)
        >>> _ = tg.ingest(["examples/trials/002_e100751488679964.txt"])
        >>> trial = tg.trial("NCT06592612")
        >>> trial.phases, len(trial.top_level_criteria("inclusion")), trial.minimum_age.years
        (['PHASE2'], 8, 18.0)
        """
        graph = ox.NamedNode(trial_iri(trial_id))
        if not self.store.has_graph(graph):
            raise NotFoundError(f"no trial {trial_id} in the store")
        return rdf.trial_from_quads(self.store.quads(graph))

    def query(self, query: str | os.PathLike[str], **params: object) -> QueryResult:
        """Run a library query by name (or a ``.rq`` file, or SPARQL text) with its parameters bound.

        >>> tg = TrialGraph(None)
        >>> _ = tg.ingest(["examples/trials"])
        >>> rows = tg.query("oligoprogression-prior-therapy", therapy="PD-1 inhibitor").values()
        >>> [(r["nct_id"], r["stance"]) for r in rows]
        [('NCT06592612', 'permitted'), (None, 'not_mentioned')]
        """
        if not self._outdated_checked:  # once per object: a count of two properties
            self._outdated_checked = True
            outdated = self.outdated_trials()
            if outdated:
                log.warning(
                    "%d trials in %s were written by an earlier trialgraph and lack facts the library "
                    "queries read: ingest their sources again",
                    outdated,
                    self.store.path or "the store",
                )
        return self.store.query_result(resolve_query(query).bind(**params))

    def match(
        self,
        patient: Patient | str | os.PathLike[str],
        trial_ids: Iterable[str] | None = None,
        engine: Literal["bulk", "shacl"] = "bulk",
    ) -> list[TrialResult]:
        """Every trial (or the named ones) checked against a patient, eligible first.

        ``engine="bulk"`` evaluates each distinct constraint set of the trials' eligibility indexes
        once (:class:`~trialgraph.eligibility.bulk.BulkMatcher`); ``"shacl"`` validates the patient
        graph against each trial's SHACL shapes with pySHACL. The two give the same statuses.

        >>> tg = TrialGraph(None)
        >>> _ = tg.ingest(["examples/trials"])
        >>> for engine in ("bulk", "shacl"):
        ...     results = tg.match("examples/patients/hcc_low_platelets.yaml", ["NCT06592612"], engine)
        ...     print(results[0].verdict, [c.number for c in results[0].criteria if c.status == "NOT_MET"])
        INELIGIBLE ['7']
        INELIGIBLE ['7']
        """
        if not isinstance(patient, Patient):
            patient = load_patient(patient, vocabulary_resolver())
        if engine == "shacl":
            from trialgraph.eligibility.validate import validate_patient  # pySHACL loads slowly

            ids = list(trial_ids) if trial_ids is not None else self.trial_ids()
            return validate_patient(patient, (self.trial(t) for t in ids))
        if trial_ids is not None:
            trial_ids = list(trial_ids)
            for t in trial_ids:
                if not self.store.has_graph(ox.NamedNode(trial_iri(t))):
                    raise NotFoundError(f"no trial {t} in the store")
        return self._matcher().match(patient, trial_ids)

    def _matcher(self) -> BulkMatcher:
        if self._bulk is None:
            self._bulk = BulkMatcher(self.store)
        return self._bulk

    def shapes(self, trial_id: str) -> rdflib.Graph:
        """The SHACL shapes of a trial's eligibility: one node shape per computable criterion.

        >>> tg = TrialGraph(None)
        >>> _ = tg.ingest(["examples/trials"])
        >>> g = tg.shapes("NCT06592612")
        >>> (shape,) = g.subjects(rdflib.RDFS.label, rdflib.Literal("inclusion 1"))
        >>> [str(g.value(shape, rdflib.RDFS.comment))]
        ['KPS (Karnofsky Performance Status) score ≥ 80;']
        """
        return trial_shapes(self.trial(trial_id))

    def validate(self, trial_ids: Iterable[str] | None = None) -> list[quality.QualityResult]:
        """Data-quality findings (``shapes/data-quality.ttl``) of every trial graph, or the named ones.

        >>> tg = TrialGraph(None)
        >>> _ = tg.ingest(["examples/trials"])
        >>> sorted({(r.severity, r.message) for r in tg.validate()})[0]
        ('Warning', 'the trial has no title (neither brief nor official)')
        """
        graphs = ((g.value[len(TRIAL) :], self.store.quads(g)) for g in self._trial_graphs(trial_ids))
        return list(quality.validate_trials(graphs))

    def reason(self) -> reasoning.ReasoningReport:
        """Classify the ontology graph with HermiT and store what it entails in its own graph."""
        report = reasoning.classify(self.store.quads(ox.NamedNode(ONTOLOGY_GRAPH)))
        if report.ok:
            self.store.replace_graph(ox.NamedNode(reasoning.INFERRED_GRAPH), report.inferred)
        return report

    def stats(self) -> Stats:
        """Counts of trials, arms, interventions, conditions, criteria and quads.

        >>> tg = TrialGraph(None)
        >>> _ = tg.ingest(["examples/trials"])
        >>> s = tg.stats()
        >>> s.trials, s.by_phase
        (5, {'PHASE2': 3})
        """
        (row,) = list(self.store.query(queries.load("graph-statistics").text))
        facets: dict[str, dict[str, int]] = {"status": {}, "phase": {}}
        for g in self.store.query(queries.load("trials-by-status-and-phase").text):
            facets[g["facet"].value][_local(g["value"])] = int(g["trials"].value)
        return Stats(
            trials=int(row["trials"].value),
            arms=int(row["arms"].value),
            interventions=int(row["interventions"].value),
            conditions=int(row["conditions"].value),
            criteria=int(row["criteria"].value),
            quads=self.store.count(),
            by_status=facets["status"],
            by_phase=facets["phase"],
            outdated_trials=self.outdated_trials(),
        )

    def export(
        self,
        output: IO[bytes],
        fmt: str = "turtle",
        trial_ids: Iterable[str] | None = None,
        include_ontology: bool = False,
    ) -> None:
        """Serialize the named trials (default: all) and optionally the ontology graph to ``output``.

        The whole store with the ontology is every graph, the reasoner's inferences included.

        >>> import io
        >>> tg = TrialGraph(None)
        >>> _ = tg.ingest(["examples/trials/002_e100751488679964.txt"])
        >>> out = io.BytesIO()
        >>> tg.export(out, "nquads", ["NCT06592612"])
        >>> b"<https://w3id.org/trialgraph/trial/NCT06592612> ." in out.getvalue()
        True
        """
        if trial_ids is None and include_ontology:
            graphs = list(self.store.graphs())
        else:
            graphs = list(self._trial_graphs(trial_ids))
            if include_ontology:
                graphs.insert(0, ox.NamedNode(ONTOLOGY_GRAPH))
        self.store.dump(output, fmt, graphs, prefixes=PREFIXES)

    def push_graphs(
        self, trial_ids: Iterable[str] | None = None, include_ontology: bool | None = None
    ) -> Iterator[ox.NamedNode]:
        """The graphs a push sends: every named graph, or the named trials (and the ontology if asked).

        >>> tg = TrialGraph(None)
        >>> _ = tg.ingest(["examples/trials/002_e100751488679964.txt"])
        >>> [g.value for g in tg.push_graphs(["NCT06592612"])]
        ['https://w3id.org/trialgraph/trial/NCT06592612']
        """
        if trial_ids is None:
            ontology = ox.NamedNode(ONTOLOGY_GRAPH)
            yield from (g for g in self.store.graphs() if include_ontology is not False or g != ontology)
            return
        if include_ontology:
            yield ox.NamedNode(ONTOLOGY_GRAPH)
        yield from self._trial_graphs(trial_ids)

    @staticmethod
    def remote(
        url: str, user: str | None = None, password: str | None = None, token: str | None = None
    ) -> RemoteGraph:
        """A remote SPARQL endpoint with the same ``query(name, **params) -> QueryResult``."""
        from trialgraph.remote import Credentials, RemoteGraph

        return RemoteGraph(url, Credentials(user, password, token))

    def _trial_graphs(self, trial_ids: Iterable[str] | None) -> Iterator[ox.NamedNode]:
        if trial_ids is None:
            yield from (ox.NamedNode(trial_iri(t)) for t in self.trial_ids())
            return
        for t in trial_ids:
            graph = ox.NamedNode(trial_iri(t))
            if not self.store.has_graph(graph):
                raise NotFoundError(f"no trial {t} in the store")
            yield graph


def _local(term: ox.NamedNode | ox.Literal) -> str:
    """``tg:phase-PHASE2`` -> ``PHASE2``: the API v2 code of a controlled value."""
    return str(term.value).rsplit("#", 1)[-1].rsplit("/", 1)[-1].split("-", 1)[-1]


def resolve_query(query: str | os.PathLike[str]) -> queries.LibraryQuery:
    """A library query by name, a query read from a ``.rq`` file, or SPARQL text given inline."""
    text = str(query)
    if isinstance(query, os.PathLike) or text.endswith(".rq"):
        if not Path(text).is_file():
            raise NotFoundError(f"no query file {text}")
        return queries.load_file(Path(text))
    if "{" in text:
        return queries.LibraryQuery("inline", "", "", text, Path("<inline>"))
    return queries.load(text)
