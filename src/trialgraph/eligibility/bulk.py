"""The bulk matcher: one patient against every trial of a store, without reading the trials back.

Each trial graph carries its eligibility index (:mod:`~trialgraph.eligibility.index`): its criteria
as content keys of their constraint sets. Matching reads the index literals of every trial (one
scan of one predicate), evaluates each distinct constraint set once for the patient with the same
:class:`~trialgraph.eligibility.evaluate.Matcher` that defines the semantics, and gives each trial
the statuses of its keys. Constraint sets are read once per :class:`BulkMatcher` (from one trial
that has each key) and kept: a key names its content, so a kept set is never stale. The scan of
the indexes is kept while the store's :attr:`~trialgraph.store.TrialStore.generation` is unchanged
(nothing was written through it; a read-only store is a snapshot), so a second patient costs only
the evaluation. The scan is also kept on disk, in the store's directory (:data:`CACHE_FILE`), under
the store's :attr:`~trialgraph.store.TrialStore.stamp`, which every write replaces: the first match
of a new process reads it instead of the whole store. After a write, a kept scan (on disk or in
memory) is brought up to date by reading again only the trial graphs the store's change list
names (:meth:`~trialgraph.store.TrialStore.changed_since`); the whole store is scanned again only
when those changes are unknown or touch more than half of the trials (and over a thousand).
Criteria texts are read only when a result's
:attr:`~trialgraph.eligibility.evaluate.TrialResult.criteria` is used.

A trial stored without an index (by an older version) is read back and matched criterion by
criterion, so every trial gets an answer.
"""

from __future__ import annotations

import gc
import json
import logging
import os
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

import pyoxigraph as ox

from trialgraph import rdf
from trialgraph.eligibility import index
from trialgraph.eligibility.evaluate import (
    NOT_COMPUTABLE,
    VERDICT_ORDER,
    CriterionResult,
    Group,
    Matcher,
    Status,
    TrialResult,
    criterion_groups,
    verdict,
)
from trialgraph.eligibility.patient import Patient
from trialgraph.model import Constraint, Trial
from trialgraph.namespaces import TRIAL, trial_iri
from trialgraph.store import TrialStore
from trialgraph.vocabulary import Vocabulary

CACHE_FILE = "match-index.json"
"""The bulk matcher's scan of a store, kept in the store's directory under the store's stamp."""
_CACHE_FORMAT = "tg-match-index/2"
_RESCAN_AFTER = 1_000
"""Changed trial graphs past which, when they are also over half of the trials, the store is scanned anew."""
_SAVE_AFTER = 1_000
"""Trial graphs read again since the scan on disk past which it is written anew (below, the next
process reads them again in less time than writing the scan takes: 0.04 s against 0.3 s at 100,000)."""

log = logging.getLogger(__name__)

_INDEX = rdf.tg("eligibilityIndex")
_SETS = rdf.tg("constraintSets")
_TEXT = rdf.tg("text")

# The scan of a whole store reads the graph and index of each trial, and the graphs without an index,
# in two queries: the engine decodes no graph name twice and no trial node (a listing of every graph
# and every index quad took 0.6 s longer at 100,000 trials).
_EVERY_INDEX = f"SELECT ?g ?entries WHERE {{ GRAPH ?g {{ ?t {_INDEX} ?entries }} }}"
_GRAPHS_WITHOUT_INDEX = f"SELECT ?g WHERE {{ GRAPH ?g {{}} MINUS {{ GRAPH ?g {{ ?t {_INDEX} ?entries }} }} }}"


@dataclass(slots=True)
class _Indexed:
    trial: str
    keys: list[str]
    nct_id: str | None
    title: str | None
    entries: str | None = None  # the index literal; read from the store when the criteria are wanted


@dataclass(slots=True)
class _Scan:
    """The indexes of every trial of a store, as read under a stamp and a generation of it."""

    stamp: str | None
    generation: int
    indexed: dict[str, _Indexed]  # by trial graph IRI
    unindexed: set[str]  # the trial graphs without a readable index
    behind: int | None = None  # trial graphs read again since the scan on disk; None: not made from it


class BulkMatcher:
    """Matches patients against the trials of one store through their eligibility indexes.

    >>> from trialgraph.api import TrialGraph
    >>> from trialgraph.eligibility.patient import load_patient, vocabulary_resolver
    >>> tg = TrialGraph(None)
    >>> _ = tg.ingest(["examples/trials"])
    >>> patient = load_patient("examples/patients/hcc_low_platelets.yaml", vocabulary_resolver())
    >>> result = BulkMatcher(tg.store).match(patient, ["NCT06592612"])[0]
    >>> result.verdict, [c.number for c in result.criteria if c.status == "NOT_MET"]
    ('INELIGIBLE', ['7'])
    """

    def __init__(self, store: TrialStore, vocabulary: Vocabulary | None = None) -> None:
        self.store = store
        self.vocab = vocabulary or Vocabulary.default()
        self.constraint_sets: dict[str, list[Constraint]] = {index.FREE_TEXT: []}
        self._definitions: dict[str, Any] = {}
        self._groups: dict[str, list[Group]] = {index.FREE_TEXT: []}
        self._shared: dict[str, Constraint] = {}
        self._scan: _Scan | None = None

    def match(self, patient: Patient, trial_ids: Iterable[str] | None = None) -> list[TrialResult]:
        """Every trial's verdict (or the named trials'), ordered as :func:`.match_trials` orders them."""
        # The objects made here live as long as the results: the cyclic collector, run again and
        # again as they are made, found nothing to free and cost three quarters of a warm match.
        collecting = gc.isenabled()
        gc.disable()
        try:
            return self._match(patient, trial_ids)
        finally:
            if collecting:
                gc.enable()

    def _match(self, patient: Patient, trial_ids: Iterable[str] | None) -> list[TrialResult]:
        indexed: Iterable[_Indexed]
        if trial_ids is not None:
            indexed, unindexed = self._indexes({trial_iri(t) for t in trial_ids})
            self._load_constraint_sets(indexed)
        else:
            scan = self._current_scan()
            indexed, unindexed = scan.indexed.values(), sorted(scan.unindexed)
        matcher = Matcher(patient, self.vocab)
        decided = {key: matcher.constraints(c, self._groups[key]) for key, c in self.constraint_sets.items()}
        status_of = {key: status for key, (status, _) in decided.items()}.__getitem__
        results = []
        for item in indexed:
            statuses = list(map(status_of, item.keys))
            results.append(
                TrialResult(
                    item.trial,
                    item.trial[len(TRIAL) :],
                    item.nct_id,
                    item.title,
                    verdict(statuses),
                    statuses.count(NOT_COMPUTABLE),
                    self._criteria_reader(item, decided),
                )
            )
        if unindexed:
            results.extend(matcher.trial(self._trial(g)) for g in unindexed)
        results.sort(key=lambda r: (VERDICT_ORDER[r.verdict], r.manual_review, r.trial_id))
        return results

    def refresh(self) -> None:
        """Read every trial's index as the next match would (or bring the kept scan up to date); keep it."""
        self._current_scan()

    def _current_scan(self) -> _Scan:
        """The scan of the store as it is: kept, kept and brought up to date, or made anew (and kept)."""
        if self._scan is not None and self._scan.generation == self.store.generation:
            return self._scan
        generation, stamp = self.store.generation, self.store.stamp
        scan = None
        if self._scan is not None and self._scan.stamp is not None:
            changed = self.store.changed_since(self._scan.stamp)
            scan = self._updated(self._scan, stamp, changed) if changed is not None else None
        if scan is None:
            scan = self._read_cache(stamp)
        if scan is None:
            indexed, unindexed = self._indexes(None)
            self._load_constraint_sets(indexed)
            scan = _Scan(stamp, generation, {item.trial: item for item in indexed}, set(unindexed))
        if (
            stamp is not None
            and self.store.stamp == stamp
            and (scan.behind is None or scan.behind > _SAVE_AFTER)
        ):
            self._write_cache(scan)
        scan.generation = generation
        self._scan = scan
        return scan

    def _updated(self, scan: _Scan, stamp: str | None, changed: set[str]) -> _Scan | None:
        """``scan`` with the trial graphs ``changed`` since it was made read again; None if too many."""
        trials = {g for g in changed if g.startswith(TRIAL)}
        if len(trials) > _RESCAN_AFTER and 2 * len(trials) > len(scan.indexed) + len(scan.unindexed):
            # a graph read by itself costs about 1.4 times a trial's share of the whole scan (41 and 30 us
            # at 100,000 trials); past half of the trials, scan
            return None
        indexed, unindexed = self._indexes(trials)
        self._load_constraint_sets(indexed)
        kept = {trial: item for trial, item in scan.indexed.items() if trial not in trials}
        kept.update((item.trial, item) for item in indexed)
        behind = None if scan.behind is None else scan.behind + len(trials)
        return _Scan(stamp, scan.generation, kept, (scan.unindexed - trials).union(unindexed), behind)

    def _indexes(self, wanted: set[str] | None) -> tuple[list[_Indexed], list[str]]:
        """The trials with a readable index, and the trial graphs without one (by IRI); all, or ``wanted``."""
        # Only the mapping writes the index, on the trial node of the trial's own graph.
        if wanted is None:
            found: Iterable[tuple[str, str]] = (
                (_text(s[0]), _text(s[1])) for s in self.store.query(_EVERY_INDEX)
            )
        else:
            quads = ((g, q) for g in wanted for q in self.store.with_predicate(_INDEX, ox.NamedNode(g)))
            found = ((g, _text(q.object)) for g, q in quads)
        indexed = []
        unreadable = set()
        for graph, entries in found:
            if not graph.startswith(TRIAL):
                continue
            read = index.read_entries(entries)
            if read is not None:
                indexed.append(_Indexed(graph, *read, entries=entries))
            else:
                unreadable.add(graph)
        seen = {i.trial for i in indexed}
        if wanted is None:
            without = (_text(s[0]) for s in self.store.query(_GRAPHS_WITHOUT_INDEX))
            unindexed = unreadable.union(g for g in without if g.startswith(TRIAL))
        else:
            unindexed = {g for g in wanted if g not in seen and self.store.has_graph(ox.NamedNode(g))}
        return indexed, sorted(unindexed - seen)

    def _load_constraint_sets(self, indexed: list[_Indexed]) -> None:
        """Read the constraint set of every key not read yet, from one trial that has it."""
        missing: set[str] = set()
        for item in indexed:
            missing.update(item.keys)
        missing.difference_update(self.constraint_sets)
        for item in indexed:
            if not missing:
                break
            if missing.isdisjoint(item.keys):
                continue
            for q in self.store.with_predicate(_SETS, ox.NamedNode(item.trial)):
                definitions = index.constraint_set_definitions(_text(q.object), missing)
                self._add_constraint_sets(definitions)
                missing.difference_update(definitions)
        if missing:
            raise ValueError(f"the store has no constraint set for eligibility keys {sorted(missing)[:5]}")

    def _add_constraint_sets(self, definitions: dict[str, Any]) -> None:
        found = index.constraint_sets(definitions, self._shared)
        self._definitions.update(definitions)
        self.constraint_sets.update(found)
        self._groups.update((key, criterion_groups(sets)) for key, sets in found.items())

    def _cache_path(self) -> str | None:
        return os.path.join(self.store.path, CACHE_FILE) if self.store.path is not None else None

    def _read_cache(self, stamp: str | None) -> _Scan | None:
        """The scan kept on disk, brought up to date if the store changed since; None if it cannot be.

        Its first line names the stamp it was made under, so a scan the store's change list cannot
        bring up to date is not read further.
        """
        path = self._cache_path()
        if stamp is None or path is None:
            return None
        try:
            with open(path, encoding="utf-8") as file:
                header = json.loads(file.readline())
                if header["format"] != _CACHE_FORMAT:
                    return None
                kept = header["stamp"]
                changed = self.store.changed_since(kept) if isinstance(kept, str) else None
                if changed is None:
                    return None
                data = json.loads(file.readline())
            key_of = data["keys"].__getitem__
            indexed = {
                TRIAL + trial: _Indexed(TRIAL + trial, list(map(key_of, keys)), nct_id, title)
                for trial, keys, nct_id, title in data["trials"]
            }
            missing = {k for k in data["sets"] if k not in self.constraint_sets}
            self._add_constraint_sets({k: data["sets"][k] for k in missing})
            if not self.constraint_sets.keys() >= set(data["keys"]):
                raise ValueError("a key without its constraint set")
            scan = _Scan(kept, self.store.generation, indexed, {str(g) for g in data["unindexed"]}, 0)
        except FileNotFoundError:
            return None
        except (OSError, ValueError, KeyError, TypeError, IndexError) as exc:  # a damaged cache is made anew
            log.warning("ignoring the match cache %s: %s", path, exc)
            return None
        return self._updated(scan, stamp, changed) if changed else scan

    def _write_cache(self, scan: _Scan) -> None:
        """Keep the scan on disk beside the store: a line naming its stamp, then the scan."""
        path = self._cache_path()
        if path is None:
            return
        number: dict[str, int] = {}
        trials = [
            [
                item.trial[len(TRIAL) :],
                [number.setdefault(k, len(number)) for k in item.keys],
                item.nct_id,
                item.title,
            ]
            for item in scan.indexed.values()
        ]
        data = {
            "keys": list(number),
            "trials": trials,
            "unindexed": sorted(scan.unindexed),
            "sets": {k: self._definitions[k] for k in number if k in self._definitions},
        }
        header = {"format": _CACHE_FORMAT, "stamp": scan.stamp}
        temporary = f"{path}.{os.getpid()}"
        try:
            with open(temporary, "w", encoding="utf-8") as file:
                # json.dumps, not json.dump: only the one-shot form uses the C encoder (the pure-Python
                # one took 0.9 s of the 4.3 s scan at 100,000 trials, dumps 0.25 s)
                file.write(json.dumps(header) + "\n")
                file.write(json.dumps(data, ensure_ascii=False, separators=(",", ":")) + "\n")
            os.replace(temporary, path)
        except OSError as exc:  # a read-only directory: matching works, the next process scans again
            log.info("cannot keep the match cache %s: %s", path, exc)
            return
        scan.behind = 0

    def _criteria_reader(
        self, item: _Indexed, decided: dict[str, tuple[Status, list[str]]]
    ) -> Callable[[], list[CriterionResult]]:
        def read() -> list[CriterionResult]:
            trial_id = item.trial[len(TRIAL) :]
            graph = ox.NamedNode(item.trial)
            texts = {_text(q.subject): _text(q.object) for q in self.store.with_predicate(_TEXT, graph)}
            if item.entries is None:
                item.entries = next(_text(q.object) for q in self.store.with_predicate(_INDEX, graph))
            results = []
            for ref, key in zip(index.read_refs(item.entries), item.keys, strict=True):
                iri = rdf.criterion_iri(trial_id, ref.kind, ref.ordinal)
                status, reasons = decided[key]
                results.append(
                    CriterionResult(iri, ref.kind, ref.number, texts.get(iri, ""), status, list(reasons))
                )
            return results

        return read

    def _trial(self, graph: str) -> Trial:
        return rdf.trial_from_quads(self.store.quads(ox.NamedNode(graph)))


def _text(term: ox.NamedNode | ox.BlankNode | ox.Literal | ox.DefaultGraph | ox.Triple) -> str:
    if isinstance(term, (ox.Triple, ox.DefaultGraph)):
        raise TypeError("an RDF-star triple where a term was expected")
    return term.value
