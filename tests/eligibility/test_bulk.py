"""The bulk matcher's index: what it stores, what it reads back, and when it reads the store again."""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pyoxigraph as ox
import pytest

from trialgraph.api import TrialGraph
from trialgraph.eligibility import index
from trialgraph.eligibility.bulk import CACHE_FILE
from trialgraph.eligibility.evaluate import Matcher, TrialResult
from trialgraph.eligibility.patient import Patient, load_patient, vocabulary_resolver
from trialgraph.model import Constraint
from trialgraph.namespaces import TG, trial_iri
from trialgraph.resources import EXAMPLES_DIR

SEEDS = sorted((EXAMPLES_DIR / "trials").iterdir())


@pytest.fixture(scope="module")
def patient() -> Patient:
    return load_patient(EXAMPLES_DIR / "patients" / "mcrpc_oligoprogressive.yaml", vocabulary_resolver())


def _meaning(c: Constraint) -> tuple[str, dict[str, object]]:
    base = {f.name for f in dataclasses.fields(Constraint)}
    fields = dataclasses.asdict(c).items()
    return c.family, {k: sorted(v) if isinstance(v, list) else v for k, v in fields if k not in base}


def test_the_index_holds_every_criterion_and_its_constraints() -> None:
    tg = TrialGraph(None)
    tg.ingest([EXAMPLES_DIR / "trials"])
    for trial_id in tg.trial_ids():
        trial = tg.trial(trial_id)
        encoded = index.encode(trial)
        read = index.read_entries(encoded.entries)
        assert read is not None
        keys, nct_id, title = read
        assert (nct_id, title) == (trial.nct_id, trial.title)
        refs = index.read_refs(encoded.entries)
        assert [(r.kind, r.ordinal) for r in refs] == [(c.kind, c.ordinal) for c in trial.criteria]
        numbers = trial.criterion_numbers()
        assert [r.number for r in refs] == [numbers[(c.kind, c.ordinal)] for c in trial.criteria]
        sets = index.read_constraint_sets(encoded.constraint_sets)
        for key, criterion in zip(keys, trial.criteria, strict=True):
            if not criterion.constraints:
                assert key == index.FREE_TEXT
                continue
            assert [_meaning(c) for c in sets[key]] == [_meaning(c) for c in criterion.constraints]
        # The store holds what the mapping wrote.
        stored = list(
            tg.store.with_predicate(ox.NamedNode(TG + "eligibilityIndex"), ox.NamedNode(trial_iri(trial_id)))
        )
        assert [q.object.value for q in stored] == [encoded.entries]


def test_equal_constraint_sets_have_one_key() -> None:
    tg = TrialGraph(None)
    tg.ingest([EXAMPLES_DIR / "trials"])
    by_meaning: dict[str, set[str]] = {}
    for trial_id in tg.trial_ids():
        for c in tg.trial(trial_id).criteria:
            if c.constraints:
                key, definition = index.constraint_set(c.constraints)
                by_meaning.setdefault(definition, set()).add(key)
    assert all(len(keys) == 1 for keys in by_meaning.values())
    assert len({k for keys in by_meaning.values() for k in keys}) == len(by_meaning)


def test_a_trial_stored_without_an_index_is_read_back_and_matched(patient: Patient) -> None:
    tg = TrialGraph(None)
    tg.ingest([EXAMPLES_DIR / "trials"])
    graph = ox.NamedNode(trial_iri("NCT06866938"))
    derived = {ox.NamedNode(TG + "eligibilityIndex"), ox.NamedNode(TG + "constraintSets")}
    tg.store.replace_graph(graph, [q for q in tg.store.quads(graph) if q.predicate not in derived])
    # another trial's index of a version this matcher cannot read, and a readable index outside the
    # trial graphs (not a trial: the results stay five)
    other = ox.NamedNode(trial_iri("NCT06592612"))
    index = ox.NamedNode(TG + "eligibilityIndex")
    readable = next(q.object for q in tg.store.with_predicate(index) if q.graph_name != other)
    old = [
        ox.Quad(q.subject, q.predicate, ox.Literal("0\n\n\n\n"), q.graph_name) if q.predicate == index else q
        for q in tg.store.quads(other)
    ]
    tg.store.replace_graph(other, old)
    stray = ox.NamedNode("https://example.org/elsewhere")
    tg.store.replace_graph(stray, [ox.Quad(stray, index, readable, stray)])
    results = {r.trial_id: r for r in tg.match(patient)}
    assert len(results) == 5
    assert results["NCT06866938"].verdict == "INELIGIBLE"
    for trial_id in ("NCT06866938", "NCT06592612"):
        expected = Matcher(patient).trial(tg.trial(trial_id))
        got = results[trial_id]
        assert got.verdict == expected.verdict
        assert [(c.criterion, c.status) for c in got.criteria] == [
            (c.criterion, c.status) for c in expected.criteria
        ]


def test_a_write_renews_the_scan(patient: Patient) -> None:
    tg = TrialGraph(None)
    tg.ingest(SEEDS[:4])
    assert len(tg.match(patient)) == 4
    assert len(tg.match(patient)) == 4  # the kept scan
    tg.ingest(SEEDS[4:])
    assert len(tg.match(patient)) == 5


def test_criteria_texts_are_read_when_asked_for(patient: Patient) -> None:
    tg = TrialGraph(None)
    tg.ingest([EXAMPLES_DIR / "trials"])
    (result,) = tg.match(patient, ["NCT07268794"])
    trial = tg.trial("NCT07268794")
    assert [c.text for c in result.criteria] == [c.text for c in trial.criteria]
    assert result.manual_review == sum(not c.constraints for c in trial.criteria)


def _index_reads(tg: TrialGraph) -> list[str | None]:
    """Records the reads of index literals made through ``tg.store``: a graph's, or None for every trial's."""
    reads: list[str | None] = []
    read, query = tg.store.with_predicate, tg.store.query

    def recorded(predicate: ox.NamedNode, graph: ox.NamedNode | None = None) -> Iterator[ox.Quad]:
        if predicate == ox.NamedNode(TG + "eligibilityIndex"):
            reads.append(graph.value if graph is not None else None)
        return read(predicate, graph)

    def queried(sparql: str, *args: Any, **kwargs: Any) -> Any:
        if TG + "eligibilityIndex" in sparql:  # the scan of every trial's index
            reads.append(None)
        return query(sparql, *args, **kwargs)

    tg.store.with_predicate = recorded  # type: ignore[method-assign]
    tg.store.query = queried  # type: ignore[method-assign]
    return reads


def _answers(results: list[TrialResult]) -> list[tuple[object, ...]]:
    return [
        (r.trial_id, r.nct_id, r.verdict, [(c.criterion, c.number, c.text, c.status) for c in r.criteria])
        for r in results
    ]


def test_the_scan_is_kept_beside_the_store_for_the_next_process(
    tmp_path: Path, patient: Patient, caplog: pytest.LogCaptureFixture
) -> None:
    writer = TrialGraph(tmp_path / "store")
    writer.ingest([EXAMPLES_DIR / "trials"])
    first = TrialGraph(tmp_path / "store", read_only=True)
    reads = _index_reads(first)
    expected = _answers(first.match(patient))
    assert None in reads and (tmp_path / "store" / CACHE_FILE).is_file()

    later = TrialGraph(tmp_path / "store", read_only=True)  # as a new process would open it
    reads = _index_reads(later)
    assert _answers(later.match(patient)) == expected
    assert None not in reads  # read from the kept scan, criteria texts from the store

    (tmp_path / "store" / CACHE_FILE).write_text('{"format": "tg-match-index/1", "stamp": "3"}\n{}\n')
    damaged = TrialGraph(tmp_path / "store", read_only=True)
    reads = _index_reads(damaged)
    with caplog.at_level("WARNING"):
        assert _answers(damaged.match(patient)) == expected
    assert "ignoring the match cache" not in caplog.text  # another format: not even read
    assert None in reads
    stamp = writer.store.stamp
    header = json.dumps({"format": "tg-match-index/2", "stamp": stamp})
    (tmp_path / "store" / CACHE_FILE).write_text(f"{header}\n{{}}\n")
    damaged = TrialGraph(tmp_path / "store", read_only=True)
    with caplog.at_level("WARNING"):
        assert _answers(damaged.match(patient)) == expected
    assert "ignoring the match cache" in caplog.text

    # the right stamp, readable, but a key without its constraint set: made anew, not trusted
    header, body = (tmp_path / "store" / CACHE_FILE).read_text().splitlines()
    kept = json.loads(body)
    assert json.loads(header)["stamp"] == stamp and kept["sets"]
    del kept["sets"][next(iter(kept["sets"]))]
    (tmp_path / "store" / CACHE_FILE).write_text(f"{header}\n{json.dumps(kept)}\n")
    caplog.clear()
    damaged = TrialGraph(tmp_path / "store", read_only=True)
    with caplog.at_level("WARNING"):
        assert _answers(damaged.match(patient)) == expected
    assert "a key without its constraint set" in caplog.text


def test_after_a_write_only_the_graphs_it_changed_are_read_again(tmp_path: Path, patient: Patient) -> None:
    writer = TrialGraph(tmp_path / "store")
    writer.ingest([EXAMPLES_DIR / "trials"])
    before = {r.trial_id: r for r in writer.match(patient)}
    # the patient is 66: "Age >= 18 years old" is met, and no criterion of the trial is not met
    assert _age_status(before["TG-DC99C5F5B9F2"]) == "MET"
    assert before["TG-DC99C5F5B9F2"].verdict != "INELIGIBLE"
    # the same trial (its ID comes from the title) with "Age >= 75 years old"; another one removed
    changed = tmp_path / "changed"
    changed.mkdir()
    text = (EXAMPLES_DIR / "trials" / "001_98e4b98bdbc252d9.txt").read_text(encoding="utf-8")
    assert "Age >= 18 years old" in text
    text = text.replace("Age >= 18 years old", "Age >= 75 years old")
    (changed / "001.txt").write_text(text, encoding="utf-8")
    writer.ingest([changed])
    writer.store.remove_graph(ox.NamedNode(trial_iri("NCT06866938")))
    # a trial stored without its index (by an older version) is matched from its graph
    graph = ox.NamedNode(trial_iri("NCT07268794"))
    derived = {ox.NamedNode(TG + "eligibilityIndex"), ox.NamedNode(TG + "constraintSets")}
    writer.store.replace_graph(graph, [q for q in writer.store.quads(graph) if q.predicate not in derived])
    rewritten = {trial_iri("TG-DC99C5F5B9F2"), trial_iri("NCT06866938"), trial_iri("NCT07268794")}

    reader = TrialGraph(tmp_path / "store", read_only=True)  # a new process: the scan kept on disk
    reads = _index_reads(reader)
    results = reader.match(patient)
    assert set(reads) == rewritten  # not a scan of every trial (criteria, read below, are read by trial)
    updated = _answers(results)
    reads = _index_reads(writer)  # the writer: the scan it holds in memory
    results = writer.match(patient)
    assert set(reads) == rewritten
    assert _answers(results) == updated

    (tmp_path / "store" / CACHE_FILE).unlink()
    anew = TrialGraph(tmp_path / "store", read_only=True)
    reads = _index_reads(anew)
    assert _answers(anew.match(patient)) == updated and None in reads
    after = {r.trial_id: r for r in results}
    assert "NCT06866938" not in after and len(after) == 4
    # 66 is under 75: the rewritten criterion is not met, so the trial is ineligible
    assert _age_status(after["TG-DC99C5F5B9F2"]) == "NOT_MET"
    assert after["TG-DC99C5F5B9F2"].verdict == "INELIGIBLE"
    assert after["NCT07268794"].verdict == before["NCT07268794"].verdict


def _age_status(result: TrialResult) -> str:
    (criterion,) = (c for c in result.criteria if c.text.startswith("Age >= "))
    return criterion.status
