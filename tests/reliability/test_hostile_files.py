"""Hostile files: XML entity attacks, deep nesting, huge and compressed files, bad characters, 1 MB criteria.

Each gets a clear ``InputError`` (naming the file) or is read, within bounded time and memory; no
file is read and no connection is made on behalf of a record; the rest of a batch is still stored.
"""

from __future__ import annotations

import datetime as dt
import gzip
import io
import json
import subprocess
import sys
import textwrap
import time
import zlib
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pyoxigraph as ox
import pytest

from trialgraph import extract, ingest, pipeline
from trialgraph.api import TrialGraph
from trialgraph.errors import InputError
from trialgraph.model import Criterion, Trial

Record = Callable[..., None]
STUDY = {
    "protocolSection": {
        "identificationModule": {"nctId": "NCT09999991", "briefTitle": "A good study"},
        "eligibilityModule": {"eligibilityCriteria": "Inclusion Criteria:\n\n* Adults\n* ECOG 0-1"},
    }
}


def read(path: Path) -> list[Trial | InputError]:
    return list(ingest.read_file(path))


def only_error(path: Path) -> InputError:
    (result,) = read(path)
    assert isinstance(result, InputError), result
    assert str(path) in str(result)
    return result


@pytest.fixture
def secret_file(tmp_path: Path) -> Path:
    path = tmp_path / "secret.txt"
    path.write_text("TOP-SECRET-CANARY-7781\n")
    return path


# --- XML: entities, DTDs, external references ----------------------------------------------------------


def xml_attacks(secret: Path, port: int) -> dict[str, bytes]:
    url = f"http://127.0.0.1:{port}/evil.dtd"
    laughs = "".join(f'<!ENTITY l{i} "{"".join(f"&l{i - 1};" for _ in range(10))}">' for i in range(1, 10))
    cases = {
        "external-entity-file": f'<!DOCTYPE clinical_study [<!ENTITY x SYSTEM "file://{secret}">]>'
        "<clinical_study><brief_title>&x;</brief_title></clinical_study>",
        "external-entity-http": f'<!DOCTYPE clinical_study [<!ENTITY x SYSTEM "{url}">]>'
        "<clinical_study><brief_title>&x;</brief_title></clinical_study>",
        "parameter-entity": f'<!DOCTYPE clinical_study [<!ENTITY % p SYSTEM "{url}"> %p;]>'
        "<clinical_study><brief_title>t</brief_title></clinical_study>",
        "external-dtd": f'<!DOCTYPE clinical_study SYSTEM "{url}">'
        "<clinical_study><brief_title>t</brief_title></clinical_study>",
        "billion-laughs": f'<!DOCTYPE clinical_study [<!ENTITY l0 "lol">{laughs}]>'
        "<clinical_study><brief_title>&l9;</brief_title></clinical_study>",
        "quadratic-blowup": '<!DOCTYPE clinical_study [<!ENTITY a "' + "x" * 50_000 + '">]>'
        "<clinical_study><brief_title>" + "&a;" * 50_000 + "</brief_title></clinical_study>",
        "internal-entity": '<!DOCTYPE clinical_study [<!ENTITY a "b">]>'
        "<clinical_study><brief_title>&a;</brief_title></clinical_study>",
        "doctype-late": "<clinical_study><brief_title>t</brief_title></clinical_study>"
        f'<!DOCTYPE x [<!ENTITY x SYSTEM "file://{secret}">]>',
    }
    return {k: f'<?xml version="1.0" encoding="UTF-8"?>\n{v}'.encode() for k, v in cases.items()}


def test_xml_entity_and_dtd_attacks_are_refused(
    tmp_path: Path, secret_file: Path, listener: tuple[int, list[bytes]], record: Record
) -> None:
    port, hits = listener
    cases = xml_attacks(secret_file, port)
    for name, data in cases.items():
        path = tmp_path / f"{name}.xml"
        path.write_bytes(data)
        start = time.perf_counter()
        results = read(path)
        seconds = time.perf_counter() - start
        assert isinstance(results[-1], InputError), (name, results)
        assert len(results) == (2 if name == "doctype-late" else 1), (name, results)  # the record before it
        assert "TOP-SECRET" not in repr(results)
        message = str(results[-1])
        if name != "doctype-late":  # after the record: a plain XML syntax error
            assert "DOCTYPE" in message or "entit" in message or "DTD" in message, (name, message)
        assert seconds < 2.0, (name, seconds)
    time.sleep(0.3)
    assert hits == [], f"the reader connected to {port}: {hits}"
    record(xml_attacks=len(cases), connections_made=len(hits))


def test_xml_attacks_through_the_cli_store_nothing_and_read_nothing(
    tmp_path: Path, secret_file: Path, listener: tuple[int, list[bytes]], cli: Callable[..., Any]
) -> None:
    port, hits = listener
    folder = tmp_path / "in"
    folder.mkdir()
    attacks = {k: v for k, v in xml_attacks(secret_file, port).items() if k != "doctype-late"}
    for name, data in attacks.items():
        (folder / f"{name}.xml").write_bytes(data)
    (folder / "good.json").write_text(json.dumps(STUDY))
    result = cli(tmp_path / "store", "ingest", str(folder))
    assert result.returncode == 1, result.stderr
    assert "TOP-SECRET" not in result.stdout + result.stderr
    assert result.stderr.count("error:") == len(attacks)
    assert TrialGraph(tmp_path / "store", read_only=True).trial_ids() == ["NCT09999991"]
    assert hits == []


def test_xinclude_is_not_processed(tmp_path: Path, secret_file: Path) -> None:
    path = tmp_path / "xinclude.xml"
    path.write_text(
        '<?xml version="1.0"?><clinical_study xmlns:xi="http://www.w3.org/2001/XInclude">'
        "<id_info><nct_id>NCT09999992</nct_id></id_info>"
        f'<brief_title>T <xi:include href="file://{secret_file}" parse="text"/></brief_title>'
        "</clinical_study>"
    )
    (trial,) = read(path)
    assert isinstance(trial, Trial)
    assert "TOP-SECRET" not in repr(trial)


def test_utf16_xml_with_a_dtd_is_refused(tmp_path: Path, secret_file: Path) -> None:
    path = tmp_path / "utf16.xml"
    text = (
        f'<?xml version="1.0" encoding="UTF-16"?><!DOCTYPE c [<!ENTITY x SYSTEM "file://{secret_file}">]>'
        "<clinical_study><brief_title>&x;</brief_title></clinical_study>"
    )
    path.write_bytes(text.encode("utf-16"))
    assert "TOP-SECRET" not in str(only_error(path))


# --- JSON nesting ----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "shape",
    ["array", "object", "studies-page", "array-element", "json-lines", "mixed"],
)
def test_deeply_nested_json_is_a_clear_error(tmp_path: Path, shape: str) -> None:
    depth = 200_000
    bodies = {
        "array": b"[" * depth + b"]" * depth,
        "object": b'{"protocolSection":' * depth + b"1" + b"}" * depth,
        "studies-page": b'{"studies": ' + b"[" * depth + b"]" * depth + b"}",
        "array-element": b"["
        + json.dumps(STUDY).encode()
        + b","
        + b'{"a":' * depth
        + b"1"
        + b"}" * depth
        + b"]",
        "json-lines": json.dumps(STUDY).encode() + b"\n" + b"[" * depth + b"]" * depth + b"\n",
        "mixed": b'{"protocolSection": {"x": ' + b'[{"y": ' * depth + b"0" + b"}]" * depth + b"}}",
    }
    path = tmp_path / f"{shape}.json"
    path.write_bytes(bodies[shape])
    start = time.perf_counter()
    results = read(path)
    assert time.perf_counter() - start < 10.0
    errors = [r for r in results if isinstance(r, InputError)]
    assert errors and all("nested too deeply" in str(e) for e in errors), results
    if shape in ("array-element", "json-lines"):  # the good record before the deep one is kept
        assert [r.id for r in results if isinstance(r, Trial)] == ["NCT09999991"]


# --- size: a 1 GB single-line file, a big one under the limit -------------------------------------------

_MEASURE = textwrap.dedent(
    """
    import json, resource, sys, time
    from trialgraph import ingest
    start = time.perf_counter()
    results = [str(r) if isinstance(r, Exception) else "trial " + r.id for r in ingest.read_file(sys.argv[1])]
    seconds = time.perf_counter() - start
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
    print(json.dumps({"results": results, "seconds": seconds, "peak_rss": peak}))
    """
)


def measure(path: Path, env: dict[str, str] | None = None) -> dict[str, Any]:
    """Read one file in a fresh interpreter: its results, the seconds taken and the peak RSS in bytes."""
    import os

    done = subprocess.run(
        [sys.executable, "-c", _MEASURE, str(path)],
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, **(env or {})},
    )
    assert done.returncode == 0, done.stderr
    return dict(json.loads(done.stdout))


def baseline_rss() -> int:
    return int(measure(Path("/dev/null"))["peak_rss"])


def test_a_one_gigabyte_single_line_file_is_refused_in_bounded_memory(tmp_path: Path, record: Record) -> None:
    path = tmp_path / "huge.json"
    gigabyte = 1 << 30
    with path.open("wb") as f:  # sparse: a JSON array whose first string never ends
        f.write(b'[{"protocolSection": {"identificationModule": {"nctId": "NCT09999993", "briefTitle": "')
        f.write(b"x" * 100_000)
        f.truncate(gigabyte)
    base = baseline_rss()
    got = measure(path)
    (message,) = got["results"]
    assert "over the limit" in message and "TRIALGRAPH_MAX_FILE_BYTES" in message
    assert got["peak_rss"] - base < 64 << 20, got  # nothing like the file's size was read
    assert got["seconds"] < 5.0
    record(
        file_bytes=gigabyte,
        extra_peak_rss_mb=round((got["peak_rss"] - base) / 2**20, 1),
        seconds=round(got["seconds"], 3),
        outcome="InputError: over the size limit",
    )


def test_a_device_without_a_size_is_read_only_up_to_the_limit(tmp_path: Path) -> None:
    got = measure(Path("/dev/zero"), env={"TRIALGRAPH_MAX_FILE_BYTES": str(8 << 20)})
    (message,) = got["results"]
    assert "over the limit" in message
    assert got["seconds"] < 10.0


def test_a_32_megabyte_single_line_file_is_read_in_bounded_memory(tmp_path: Path, record: Record) -> None:
    path = tmp_path / "long-line.json"
    size = 32 << 20
    head = json.dumps(STUDY)[:-2].encode() + b', "descriptionModule": {"detailedDescription": "'
    with path.open("wb") as f:
        f.write(head)
        chunk = b"lorem ipsum dolor " * 10_000
        left = size - len(head) - 4
        while left > 0:
            f.write(chunk[:left])
            left -= len(chunk)
        f.write(b'"}}}')
    base = baseline_rss()
    got = measure(path)
    assert got["results"] == ["trial NCT09999991"]
    extra = got["peak_rss"] - base
    assert extra < 12 * size, got  # a few copies of the text, not unbounded
    assert got["seconds"] < 60
    record(file_bytes=size, extra_peak_rss_mb=round(extra / 2**20, 1), seconds=round(got["seconds"], 2))


# --- compressed input --------------------------------------------------------------------------------------


def gzip_bomb(expanded: int) -> bytes:
    """A gzip stream of ``expanded`` zero bytes, about 1,000 times smaller: one 1 MiB member, repeated."""
    member = gzip.compress(b"\0" * (1 << 20), compresslevel=9)
    return member * (expanded >> 20)


def test_compressed_input_is_refused_without_decompressing(tmp_path: Path, record: Record) -> None:
    """The readers take no compressed input, so a gzip bomb is a clear error, never inflated."""
    expanded = 1 << 30
    bomb = gzip_bomb(expanded)
    cases = {
        "bomb.json.gz": bomb,
        "bomb.json": bomb,  # the name does not matter: the content does
        "bomb.xml": bomb,
        "raw-deflate.json": zlib.compress(b"{" * (16 << 20), 9),
        "zip.json": b"PK\x03\x04" + bomb[10:],
    }
    base = baseline_rss()
    for name, data in cases.items():
        path = tmp_path / name
        path.write_bytes(data)
        got = measure(path)
        (message,) = got["results"]
        assert "binary content" in message or "unknown format" in message, (name, message)
        assert got["peak_rss"] - base < 64 << 20, (name, got)
    record(gzip_bomb_compressed_bytes=len(bomb), gzip_bomb_expanded_bytes=expanded, cases=len(cases))


# --- characters -------------------------------------------------------------------------------------------

CONTROLS = (
    "".join(chr(c) for c in range(32) if chr(c) not in "\n")
    + "\x7f\x85\u2028\u2029\ufeff\ufffe\uffff\U0010ffff"
)


def test_control_characters_in_json_are_kept_and_round_trip(tmp_path: Path) -> None:
    study = json.loads(json.dumps(STUDY))
    study["protocolSection"]["identificationModule"]["briefTitle"] = f"T{CONTROLS}end"
    study["protocolSection"]["eligibilityModule"]["eligibilityCriteria"] = (
        f"Inclusion Criteria:\n\n* Adults{CONTROLS}\n* \x1b[31mECOG\x1b[0m 0-1\n\n"
        "Exclusion Criteria:\n\n* \x00 PD-1"
    )
    path = tmp_path / "controls.json"
    path.write_text(json.dumps(study))
    tg = TrialGraph(None)
    report = tg.ingest([path])
    assert report.ok and report.trials_stored == 1
    trial = tg.trial("NCT09999991")
    assert trial.brief_title == f"T{CONTROLS}end"
    assert len(trial.criteria) >= 3
    for fmt, rdf_format in (("nquads", ox.RdfFormat.N_QUADS), ("trig", ox.RdfFormat.TRIG)):
        out = io.BytesIO()
        tg.export(out, fmt)
        back = set(ox.parse(out.getvalue(), format=rdf_format))
        assert back == set(tg.store.quads(ox.NamedNode("https://w3id.org/trialgraph/trial/NCT09999991")))


XML_DECLARED = (
    b'<?xml version="1.0" encoding="%s"?><clinical_study><brief_title>t</brief_title></clinical_study>'
)


@pytest.mark.parametrize(
    ("name", "data", "phrase"),
    [
        ("xml-control.xml", b"<clinical_study><brief_title>a&#1;b</brief_title></clinical_study>", "XML"),
        (
            "xml-surrogate.xml",
            b"<clinical_study><brief_title>a&#xD800;</brief_title></clinical_study>",
            "XML",
        ),
        ("xml-raw-control.xml", b"<clinical_study><brief_title>a\x01b</brief_title></clinical_study>", "XML"),
        ("utf8-surrogate.json", b'{"protocolSection": {"x": "\xed\xa0\x80"}}', "not UTF-8"),
        ("utf8-surrogate.txt", b"NCT09999994 Inclusion Criteria: \xed\xa0\x80", "not UTF-8"),
        ("overlong.txt", b"NCT09999994 Inclusion Criteria: \xc0\xaf", "not UTF-8"),
        ("json-lone-high.json", json.dumps(STUDY).replace("Adults", "\\ud800").encode(), "lone surrogate"),
        ("json-lone-low.json", json.dumps(STUDY).replace("A good", "\\udfff").encode(), "lone surrogate"),
        ("json-key.json", json.dumps(STUDY).replace('"briefTitle"', '"\\udc80"').encode(), "lone surrogate"),
        *(
            (f"xml-{name}.xml", XML_DECLARED % name.encode(), "declared encoding")
            for name in ("TF-8", "utf-7", "utf-32", "base64", "idna")
        ),
    ],
)
def test_invalid_characters_are_a_clear_error(tmp_path: Path, name: str, data: bytes, phrase: str) -> None:
    path = tmp_path / name
    path.write_bytes(data)
    assert phrase in str(only_error(path))


def test_a_lone_surrogate_costs_only_its_record(tmp_path: Path) -> None:
    bad = json.dumps(STUDY).replace("NCT09999991", "NCT09999995").replace("Adults", "\\ud83d alone")
    pair = json.dumps(STUDY).replace("NCT09999991", "NCT09999996").replace("Adults", "\\ud83d\\ude00 pair")
    path = tmp_path / "batch.json"
    path.write_text(f"[{json.dumps(STUDY)}, {bad}, {pair}]")
    tg = TrialGraph(None)
    report = tg.ingest([path])
    assert tg.trial_ids() == ["NCT09999991", "NCT09999996"]
    assert [e.record for e in report.errors] == [1]
    assert "\U0001f600 pair" in tg.trial("NCT09999996").eligibility_text


def test_control_characters_in_registry_text_do_not_crash(tmp_path: Path) -> None:
    path = tmp_path / "page.txt"
    path.write_bytes(
        b"Trial Title: A \x1b[2J study\x00\nNCT09999997\n\n"
        b"Inclusion Criteria:\n\n- age \x0b>= 18\x0c\n- \x7fECOG 0-1\n"
    )
    for result in read(path):
        assert isinstance(result, Trial | InputError)


# --- 1 MB of criteria ---------------------------------------------------------------------------------------


def _real_text(size: int) -> str:
    pages = sorted((Path(__file__).parents[2] / "examples" / "trials").glob("*.txt"))
    block = "\n".join(p.read_text(encoding="utf-8") for p in pages)
    return (block * (size // len(block) + 1))[:size]


def test_a_one_megabyte_criteria_block_is_ingested_in_bounded_time(tmp_path: Path, record: Record) -> None:
    study = json.loads(json.dumps(STUDY))
    study["protocolSection"]["eligibilityModule"]["eligibilityCriteria"] = _real_text(1_000_000)
    path = tmp_path / "big-criteria.json"
    path.write_text(json.dumps(study))
    start = time.perf_counter()
    (trial,) = read(path)
    assert isinstance(trial, Trial)
    (prepared,) = pipeline.prepare([trial], dt.datetime.now(dt.UTC))
    seconds = time.perf_counter() - start
    assert prepared.error is None
    assert seconds < 90, seconds  # about 7 s on an idle core
    record(criteria_bytes=1_000_000, criteria=len(trial.criteria), seconds=round(seconds, 1))


def test_a_one_megabyte_criterion_is_extracted_in_linear_time(record: Record) -> None:
    """One 1 MB criterion through every family: bounded, and ~8x the time of 1/8 of it (not quadratic)."""
    extract.extract_criterion(Criterion(kind="exclusion", ordinal=1, text="warm-up: prior PD-1"))
    timings = {}
    for size in (125_000, 1_000_000):
        criterion = Criterion(kind="exclusion", ordinal=1, text=_real_text(size))
        start = time.perf_counter()
        extract.extract_criterion(criterion)
        timings[size] = time.perf_counter() - start
    assert timings[1_000_000] < 60
    # 8x the text; quadratic would be 64x. The therapy family was 34x before its overlap test was bisected.
    assert timings[1_000_000] < 20 * max(timings[125_000], 0.05), timings
    record(seconds_125k=round(timings[125_000], 2), seconds_1m=round(timings[1_000_000], 2))
