"""The embedded store: atomic graph replacement, union queries, locking, streaming dumps."""

from __future__ import annotations

import io
from collections.abc import Iterator
from pathlib import Path

import pytest
from pyoxigraph import Literal, NamedNode, Quad, RdfFormat, parse, serialize

from trialgraph import store as store_module
from trialgraph.errors import StoreError
from trialgraph.store import TrialStore

P = NamedNode("https://example.org/p")


def _graph(name: str, *values: str) -> tuple[NamedNode, list[Quad]]:
    g = NamedNode(f"https://example.org/{name}")
    return g, [Quad(g, P, Literal(v), g) for v in values]


def test_replace_graph_replaces_only_that_graph() -> None:
    store = TrialStore(None)
    a, quads_a = _graph("a", "1", "2")
    b, quads_b = _graph("b", "x")
    assert store.replace_graph(a, quads_a)
    assert store.replace_graph(b, quads_b)
    _, new_a = _graph("a", "3")
    assert store.replace_graph(a, new_a)
    assert {q.object.value for q in store.quads(a)} == {"3"}
    assert {q.object.value for q in store.quads(b)} == {"x"}


def test_replacing_with_identical_quads_reports_no_change() -> None:
    store = TrialStore(None)
    a, quads = _graph("a", "1", "2")
    store.replace_graph(a, quads)
    assert store.replace_graph(a, list(reversed(quads))) is False
    # no quads for a graph the store does not hold: it holds them already
    absent = _graph("absent")[0]
    assert store.replace_graph(absent, []) is False
    b, quads_b = _graph("b", "x")
    store.replace_graph(b, quads_b)
    assert store.replace_graphs([(absent, b""), (b, b"")]) == [False, True]
    assert not store.has_graph(absent) and not store.has_graph(b)
    assert store.count(a) == 2


def test_queries_see_the_union_of_graphs() -> None:
    store = TrialStore(None)
    for name, value in (("a", "1"), ("b", "2")):
        store.replace_graph(*_graph(name, value))
    rows = store.query("SELECT ?v WHERE { ?s <https://example.org/p> ?v }")
    assert sorted(r["v"].value for r in rows) == ["1", "2"]


def test_bound_parameters_are_terms_not_text() -> None:
    store = TrialStore(None)
    store.replace_graph(*_graph("a", "1"))
    hostile = Literal('"} ; DROP ALL ; {"')
    # pyoxigraph substitutes only variables that the query projects.
    rows = list(store.query("SELECT ?s ?v WHERE { ?s <https://example.org/p> ?v }", {"v": hostile}))
    assert rows == []
    assert store.count() == 1


def test_a_second_writer_gets_a_clear_locked_error(tmp_path: Path) -> None:
    first = TrialStore(tmp_path / "s")
    with pytest.raises(StoreError, match="locked"):
        TrialStore(tmp_path / "s")
    del first


def test_dump_nquads_keeps_each_graph(tmp_path: Path) -> None:
    store = TrialStore(tmp_path / "s")
    store.replace_graph(*_graph("a", "1", "2"))
    store.replace_graph(*_graph("b", "3"))
    out = io.BytesIO()
    store.dump(out, "nquads")
    quads = list(parse(out.getvalue(), format=RdfFormat.N_QUADS))
    assert {(q.graph_name.value, q.object.value) for q in quads} == {
        ("https://example.org/a", "1"),
        ("https://example.org/a", "2"),
        ("https://example.org/b", "3"),
    }


def test_every_write_renews_the_stamp_that_readers_see(tmp_path: Path) -> None:
    assert TrialStore(None).stamp is None  # in memory: nothing to keep a cache beside
    writer = TrialStore(tmp_path / "s")
    assert writer.stamp is None  # nothing written yet
    g, quads = _graph("g", "1")
    writer.replace_graph(g, quads)
    first = writer.stamp
    assert first is not None
    assert TrialStore(tmp_path / "s", read_only=True).stamp == first
    writer.replace_graphs([(_graph("h")[0], b"")])
    second = writer.stamp
    writer.remove_graph(g)
    third = writer.stamp
    assert len({first, second, third}) == 3 and None not in {second, third}
    assert TrialStore(tmp_path / "s", read_only=True).stamp == third


def test_the_change_list_names_the_graphs_each_write_changed(tmp_path: Path) -> None:
    writer = TrialStore(tmp_path / "s")
    writer.replace_graph(*_graph("a", "1"))
    first = writer.stamp
    assert first is not None and writer.changed_since(first) == set()
    writer.replace_graph(*_graph("a", "1"))  # the same quads: not a change
    writer.replace_graphs(
        [(_graph("b")[0], b""), (_graph("a")[0], serialize(_graph("a", "2")[1], format=RdfFormat.N_QUADS))]
    )
    second = writer.stamp
    writer.remove_graph(_graph("b")[0])
    assert writer.changed_since(second) == {"https://example.org/b"}
    assert writer.changed_since(first) == {"https://example.org/a", "https://example.org/b"}
    assert TrialStore(tmp_path / "s", read_only=True).changed_since(first) == writer.changed_since(first)
    assert writer.changed_since("a stamp the store never had") is None
    assert TrialStore(None).changed_since("any") is None


def test_changes_before_a_failed_write_or_past_the_limit_are_unknown(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    writer = TrialStore(tmp_path / "s")
    writer.replace_graph(*_graph("a", "1"))
    first = writer.stamp
    assert first is not None

    def graphs() -> Iterator[tuple[NamedNode, bytes]]:
        yield _graph("h")[0], b""
        raise RuntimeError("the batch's reader failed")

    with pytest.raises(RuntimeError):
        writer.replace_graphs(graphs())
    writer.replace_graph(*_graph("a", "2"))
    assert writer.changed_since(first) is None  # what the failed write changed is not known
    second = writer.stamp
    assert second is not None
    writer.replace_graph(*_graph("a", "3"))
    assert writer.changed_since(second) == {"https://example.org/a"}

    changes = tmp_path / "s" / store_module.CHANGES_FILE
    monkeypatch.setattr(store_module, "_CHANGES_LIMIT", changes.stat().st_size + 10)
    writer.replace_graph(*_graph("a", "4"))  # the list would pass its limit: it starts anew
    assert writer.changed_since(second) is None
    assert len(changes.read_text().splitlines()) == 1
    third = writer.stamp
    writer.replace_graph(*_graph("a", "5"))
    assert third is not None and writer.changed_since(third) == {"https://example.org/a"}
    changes.write_text("damaged\n" + changes.read_text())
    assert writer.changed_since(third) is None  # a damaged list is not read


def test_an_unfinished_write_leaves_no_stamp(tmp_path: Path) -> None:
    writer = TrialStore(tmp_path / "s")
    writer.replace_graph(*_graph("g", "1"))

    def graphs() -> Iterator[tuple[NamedNode, bytes]]:
        yield _graph("h")[0], b""
        raise RuntimeError("the batch's reader failed")

    with pytest.raises(RuntimeError):
        writer.replace_graphs(graphs())
    # the store may have changed: no token names its content until a write finishes
    assert writer.stamp is None
    assert TrialStore(tmp_path / "s", read_only=True).stamp is None
    writer.replace_graph(*_graph("g", "2"))
    assert writer.stamp is not None
    assert TrialStore(tmp_path / "s", read_only=True).stamp == writer.stamp
