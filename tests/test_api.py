"""End to end through the TrialGraph facade: ingest, read back, stats, export."""

from __future__ import annotations

import io
import json
import re
from pathlib import Path

import pyoxigraph as ox
import pytest
import rdflib
from rdflib.compare import isomorphic

from trialgraph import rdf
from trialgraph.api import IngestReport, TrialGraph
from trialgraph.eligibility.bulk import CACHE_FILE
from trialgraph.errors import NotFoundError
from trialgraph.namespaces import TG, TRIAL, XSD


@pytest.fixture(scope="module")
def seeded(seeds_dir: Path) -> TrialGraph:
    tg = TrialGraph(None)
    report = tg.ingest([seeds_dir])
    assert report.errors == []
    return tg


# Figures read by hand from the five pages (and stated in the ingest issue's acceptance list).
SEED_EXPECTATIONS = [
    # file prefix, nct_id, phases, enrollment, min age, max age, sex, arms, interventions,
    # top-level inclusion, top-level exclusion
    ("000", "NCT07268794", ["PHASE2"], 112, 18, 70, "MALE", 2, 5, 7, 13),
    ("001", None, None, None, None, None, None, 1, None, 10, 5),
    ("002", "NCT06592612", ["PHASE2"], None, 18, 75, None, 2, None, 8, 15),
    ("003", "NCT06866938", ["PHASE2"], 58, None, None, None, None, None, None, 16),
    ("004", None, None, 260, None, None, None, None, None, None, 0),
]


@pytest.mark.parametrize("expected", SEED_EXPECTATIONS, ids=[e[0] for e in SEED_EXPECTATIONS])
def test_seed_pages_survive_the_whole_pipeline(seeded: TrialGraph, seeds_dir: Path, expected: tuple) -> None:  # type: ignore[type-arg]
    prefix, nct, phases, enrollment, min_age, max_age, sex, arms, interventions, inc, exc = expected
    (page,) = seeds_dir.glob(f"{prefix}_*.txt")
    matching = [t for t in map(seeded.trial, seeded.trial_ids()) if t.source.file.endswith(page.name)]
    assert len(matching) == 1, f"one stored trial from {page.name}"
    trial = matching[0]
    if nct:
        assert trial.nct_id == nct and trial.id == nct
    else:
        assert trial.nct_id is None and trial.id.startswith("TG-")
    checks = {
        "phases": (phases, trial.phases),
        "enrollment": (enrollment, trial.enrollment),
        "min age": (min_age, trial.minimum_age.years if trial.minimum_age else None),
        "max age": (max_age, trial.maximum_age.years if trial.maximum_age else None),
        "sex": (sex, trial.sex),
        "arms": (arms, len(trial.arms)),
        "interventions": (interventions, len(trial.interventions)),
        "inclusion": (inc, len(trial.top_level_criteria("inclusion"))),
        "exclusion": (exc, len(trial.top_level_criteria("exclusion"))),
    }
    for name, (want, got) in checks.items():
        if want is not None:
            assert got == want, f"{page.name}: {name}"


def test_minted_identifiers_are_stable(seeds_dir: Path) -> None:
    first = TrialGraph(None)
    first.ingest([seeds_dir])
    second = TrialGraph(None)
    second.ingest([seeds_dir])
    assert first.trial_ids() == second.trial_ids()
    assert len([t for t in first.trial_ids() if t.startswith("TG-")]) == 2


def test_ingesting_twice_changes_nothing(tmp_path: Path, seeds_dir: Path) -> None:
    tg = TrialGraph(tmp_path / "store")
    tg.ingest([seeds_dir])
    before = tg.store.count()
    report = tg.ingest([seeds_dir])
    assert report.trials_stored == 0 and report.trials_unchanged == 5
    assert tg.store.count() == before


def test_a_large_ingest_compacts_the_store_without_changing_it(
    tmp_path: Path, seeds_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import trialgraph.api
    from trialgraph.store import TrialStore

    compactions: list[Path | None] = []
    real = TrialStore.optimize

    def counted(store: TrialStore) -> None:
        compactions.append(store.path)
        real(store)  # the engine's own compaction runs

    monkeypatch.setattr(TrialStore, "optimize", counted)
    plain = TrialGraph(tmp_path / "plain")
    assert plain.ingest([seeds_dir]).trials_stored == 5
    assert compactions == []  # 5 trials, under OPTIMIZE_AFTER
    monkeypatch.setattr(trialgraph.api, "OPTIMIZE_AFTER", 5)
    compacted = TrialGraph(tmp_path / "compacted")
    stages: list[str] = []
    assert compacted.ingest([seeds_dir], stage=stages.append).trials_stored == 5
    assert compactions == [tmp_path / "compacted"]
    assert stages == [
        "compacting the store after 5 new trials",
        "reading every trial's eligibility index for the matcher",
    ]
    # the matcher's scan is kept beside the store, made of its content as the ingest left it
    header = (tmp_path / "compacted" / CACHE_FILE).read_text(encoding="utf-8").split("\n", 1)[0]
    assert json.loads(header)["stamp"] == compacted.store.stamp is not None
    assert not (tmp_path / "plain" / CACHE_FILE).exists()
    assert compacted.ingest([seeds_dir]).trials_stored == 0  # nothing stored: no compaction
    assert len(compactions) == 1

    def content(tg: TrialGraph) -> set[str]:
        # The trial graphs (the ontology graph has blank nodes of its own in each store), all but the
        # ingest time, which differs between the two stores.
        quads = (q for g in tg.store.graphs() if g.value.startswith(TRIAL) for q in tg.store.quads(g))
        return {str(q) for q in quads if q.predicate != rdf.INGEST_TIME}

    expected = content(plain)
    assert len(expected) > 1000
    assert content(TrialGraph(tmp_path / "compacted", read_only=True)) == expected


def test_stats_count_the_seeds(seeded: TrialGraph) -> None:
    stats = seeded.stats()
    assert stats.trials == 5
    # Arms read by hand: 000 has 2, 001 1, 002 2, 003 1 ("Study Groups": one single-group arm),
    # 004 2 ("260 participants in 2 patient groups").
    assert stats.arms >= 2 + 1 + 2
    assert stats.criteria >= 7 + 13 + 10 + 5 + 8 + 15 + 16


def test_unknown_trial_is_a_clear_error(seeded: TrialGraph) -> None:
    with pytest.raises(NotFoundError, match="NCT00000000"):
        seeded.trial("NCT00000000")


def _trial_union(tg: TrialGraph) -> rdflib.Graph:
    out = io.BytesIO()
    tg.export(out, "ntriples")
    return rdflib.Graph().parse(data=out.getvalue(), format="nt")


@pytest.mark.parametrize("fmt,rdflib_format", [("turtle", "turtle"), ("rdfxml", "xml"), ("ntriples", "nt")])
def test_triple_exports_parse_back_isomorphic(seeded: TrialGraph, fmt: str, rdflib_format: str) -> None:
    out = io.BytesIO()
    seeded.export(out, fmt)
    back = rdflib.Graph().parse(data=out.getvalue(), format=rdflib_format)
    assert len(back) > 0
    assert isomorphic(back, _trial_union(seeded))


@pytest.mark.parametrize("fmt,rdflib_format", [("nquads", "nquads"), ("trig", "trig"), ("jsonld", "json-ld")])
def test_quad_exports_keep_one_graph_per_trial(seeded: TrialGraph, fmt: str, rdflib_format: str) -> None:
    out = io.BytesIO()
    seeded.export(out, fmt)
    ds = rdflib.Dataset()
    ds.parse(data=out.getvalue(), format=rdflib_format)
    names = {str(g.identifier) for g in ds.graphs() if len(g)}
    assert names == {TRIAL + t for t in seeded.trial_ids()}
    for trial_id in seeded.trial_ids():
        exported = ds.graph(rdflib.URIRef(TRIAL + trial_id))
        stored = rdflib.Graph()
        single = io.BytesIO()
        seeded.export(single, "ntriples", [trial_id])
        stored.parse(data=single.getvalue(), format="nt")
        assert isomorphic(exported, stored), trial_id


def test_export_of_one_trial_holds_only_that_trial(seeded: TrialGraph) -> None:
    out = io.BytesIO()
    seeded.export(out, "nquads", ["NCT06592612"])
    graphs = {line.rsplit(" ", 2)[-2] for line in out.getvalue().decode().splitlines() if line}
    assert graphs == {f"<{TRIAL}NCT06592612>"}


def _nct_ids_in(folder: Path) -> set[str]:
    """NCT IDs found by a plain scan of the files, independent of the readers."""
    ids: set[str] = set()
    for f in folder.rglob("*"):
        if f.suffix == ".json":
            # identificationModule's nctId only: expandedAccessInfo names another record's ID.
            text = f.read_text(encoding="utf-8")
            ids.update(re.findall(r'"identificationModule"\s*:\s*\{\s*"nctId"\s*:\s*"(NCT\d{8})"', text))
        elif f.suffix == ".xml":
            ids.update(re.findall(r"<nct_id>(NCT\d{8})</nct_id>", f.read_text(encoding="utf-8")))
    return ids


def test_every_shared_record_ingests_without_error(shared_data: Path) -> None:
    tg = TrialGraph(None)
    report = tg.ingest([shared_data / "ctgov_v2", shared_data / "ctgov_xml", shared_data / "seeds"])
    assert report.errors == [], [str(e) for e in report.errors[:5]]
    # 71 records in the four array files, 13 single-study files, 125 XML files, 5 pages.
    assert report.records_read == 71 + 13 + 125 + 5
    expected = _nct_ids_in(shared_data / "ctgov_v2") | _nct_ids_in(shared_data / "ctgov_xml")
    expected |= {"NCT07268794", "NCT06592612", "NCT06866938"}  # the seed pages that carry one
    stored = set(tg.trial_ids())
    assert {t for t in stored if t.startswith("NCT")} == expected
    assert len(stored - expected) == 2  # the two pages without an NCT ID get minted identifiers


def test_provenance_records_version_date_and_ingest_time(tmp_path: Path, shared_data: Path) -> None:
    tg = TrialGraph(tmp_path / "store")
    tg.ingest([shared_data / "ctgov_v2" / "single" / "NCT02552212.json"])
    query = """PREFIX prov: <http://www.w3.org/ns/prov#> PREFIX tg: <https://w3id.org/trialgraph/ontology#>
        SELECT ?version ?time WHERE { ?trial tg:nctId "NCT02552212" ; prov:wasDerivedFrom ?source ;
          prov:wasGeneratedBy ?ingest . ?ingest prov:used ?source ; prov:endedAtTime ?time .
          ?source tg:versionDate ?version }"""
    (first,) = list(tg.store.query(query))
    # lastUpdatePostDateStruct.date of the record, read in the file
    assert first["version"].value == re.search(
        r'"lastUpdatePostDateStruct":\s*\{\s*"date":\s*"([0-9-]+)"',
        (shared_data / "ctgov_v2" / "single" / "NCT02552212.json").read_text(encoding="utf-8"),
    ).group(1)  # type: ignore[union-attr]
    report = tg.ingest([shared_data / "ctgov_v2" / "single" / "NCT02552212.json"])
    assert report.trials_unchanged == 1
    (second,) = list(tg.store.query(query))
    assert second["time"] == first["time"], "an unchanged trial keeps the time it was stored"


def test_trials_an_earlier_mapping_wrote_are_counted_and_reported(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    from trialgraph import render
    from trialgraph.resources import EXAMPLES_DIR

    tg = TrialGraph(tmp_path / "store")
    report = tg.ingest([EXAMPLES_DIR / "trials"])
    assert (report.trials_stored, report.outdated_trials, tg.outdated_trials()) == (5, 0, 0)
    # a trial graph as a store written before mapping versions holds it: no version, no evidence quotes
    graph = ox.NamedNode(TRIAL + "NCT06592612")
    old = [
        q
        for q in tg.store.quads(graph)
        if q.predicate not in (rdf.MAPPING_VERSION_PROPERTY, ox.NamedNode(TG + "criterionQuote"))
    ]
    tg.store.replace_graph(graph, old)
    assert tg.outdated_trials() == 1
    # a trial graph an earlier versioned mapping wrote: its version is below the current one
    other = ox.NamedNode(TRIAL + next(t for t in tg.trial_ids() if t != "NCT06592612"))
    earlier = ox.Literal(str(rdf.MAPPING_VERSION - 1), datatype=ox.NamedNode(XSD + "int"))
    tg.store.replace_graph(
        other,
        [
            ox.Quad(q.subject, q.predicate, earlier, q.graph_name)
            if q.predicate == rdf.MAPPING_VERSION_PROPERTY
            else q
            for q in tg.store.quads(other)
        ],
    )
    assert tg.outdated_trials() == 2
    stats = tg.stats()
    assert stats.outdated_trials == 2 and "outdated:      2" in render.stats(stats)

    reader = TrialGraph(tmp_path / "store", read_only=True)
    with caplog.at_level("WARNING", logger="trialgraph.api"):
        reader.query("graph-statistics")
        reader.query("graph-statistics")
    assert [r.getMessage().split(" trials in ")[0] for r in caplog.records] == ["2"]  # warned once

    again = tg.ingest([EXAMPLES_DIR / "trials"])  # the outdated trials' graphs differ: rewritten
    assert (again.trials_stored, again.outdated_trials, tg.outdated_trials()) == (2, 0, 0)
    assert "outdated" not in render.ingest_summary(again)
    assert "outdated trials in the store: 2" in render.ingest_summary(IngestReport(outdated_trials=2))
