"""Readers: source files in, :class:`~trialgraph.model.Trial` records out.

The format of a file is detected from its content, never its name. Every reader yields, per
record, either a ``Trial`` or an :class:`~trialgraph.errors.InputError` that names the file and
the record, so one broken record never stops the rest of a batch.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Iterator
from pathlib import Path

from trialgraph.errors import InputError
from trialgraph.extract.split import split_criteria
from trialgraph.ingest.ctgov_json import read_ctgov_json
from trialgraph.ingest.ctgov_xml import read_ctgov_xml
from trialgraph.ingest.registry_text import read_registry_text
from trialgraph.model import Trial

FORMATS = ("ctgov-json", "ctgov-xml", "registry-text")
_TEXT_MARKERS = (b"NCT", b"Inclusion", b"inclusion criteria", b"Eligibility", b"Trial Title")
_SNIFF_BYTES = 65536
MAX_FILE_BYTES = 256 * 1024 * 1024
"""The largest file read (256 MiB; ``$TRIALGRAPH_MAX_FILE_BYTES`` changes it): readers hold a whole file."""

RecordResult = Trial | InputError
_READERS = {
    "ctgov-json": read_ctgov_json,
    "ctgov-xml": read_ctgov_xml,
    "registry-text": read_registry_text,
}


def detect_format(head: bytes, file: str) -> str:
    """The format of a file from its first bytes: one of :data:`FORMATS`.

    >>> detect_format(b'  {"protocolSection": {}}', "x.json")
    'ctgov-json'
    >>> detect_format(b'<?xml version="1.0"?><clinical_study>', "x.xml")
    'ctgov-xml'
    """
    stripped = head.lstrip(b"\xef\xbb\xbf \t\r\n")
    if not stripped:
        raise InputError(file, "the file is empty; expected a trial record")
    if b"\x00" in head:
        raise InputError(
            file, "binary content; expected ClinicalTrials.gov JSON or XML, or registry page text"
        )
    first = stripped[:1]
    if first in (b"{", b"["):
        return "ctgov-json"
    if first == b"<":
        if b"<clinical_study" in head or b"<!DOCTYPE" in head[:2048] or b"<?xml" in head[:64]:
            return "ctgov-xml"
        raise InputError(
            file,
            "XML or HTML without a <clinical_study> element; expected a legacy ClinicalTrials.gov record",
        )
    if any(marker in head for marker in _TEXT_MARKERS):
        return "registry-text"
    raise InputError(
        file,
        "unknown format; expected ClinicalTrials.gov API v2 JSON, legacy <clinical_study> XML, "
        "or registry page text with an NCT ID or eligibility criteria",
    )


def iter_files(paths: Iterable[str | os.PathLike[str]]) -> Iterator[Path]:
    """Every file named, and every non-hidden file below each directory named, in sorted order."""
    for raw in paths:
        path = Path(raw)
        if path.is_dir():
            for root, dirs, files in os.walk(path):
                dirs[:] = sorted(d for d in dirs if not d.startswith("."))
                for name in sorted(files):
                    if not name.startswith(".") and not name.endswith(".md"):
                        yield Path(root) / name
        else:
            yield path


def max_file_bytes() -> int:
    """``$TRIALGRAPH_MAX_FILE_BYTES``, or :data:`MAX_FILE_BYTES`."""
    configured = os.environ.get("TRIALGRAPH_MAX_FILE_BYTES", "")
    return int(configured) if configured.isdigit() else MAX_FILE_BYTES


def _read_bounded(path: str | os.PathLike[str], file: str) -> bytes | InputError:
    """The file's bytes, or an ``InputError`` when it cannot be read or is over the size limit."""
    limit = max_file_bytes()
    too_big = (
        f"is over the limit of {limit:,} bytes for one file (a reader holds the whole file in memory); "
        "split it (JSON Lines or one study per file) or raise $TRIALGRAPH_MAX_FILE_BYTES"
    )
    try:
        with open(path, "rb") as f:
            size = os.fstat(f.fileno()).st_size
            if size > limit:
                return InputError(file, f"{size:,} bytes {too_big}")
            data = f.read(limit + 1)  # bounded even when the size was unknown (a pipe, a device)
    except OSError as exc:
        return InputError(file, f"cannot be read: {exc.strerror or exc}")
    if len(data) > limit:
        return InputError(file, f"the content {too_big}")
    return data


def read_file(path: str | os.PathLike[str]) -> Iterator[RecordResult]:
    """Every record in one file, each a finished ``Trial`` or an ``InputError``."""
    for result in read_records(path):
        yield result if isinstance(result, InputError) else finish(result)


def read_records(path: str | os.PathLike[str]) -> Iterator[RecordResult]:
    """Every record in one file as read: a ``Trial`` before :func:`finish`, or an ``InputError``.

    The ingest finishes trials in its worker processes: splitting criteria is a third of reading.
    """
    file = str(path)
    data = _read_bounded(path, file)
    if isinstance(data, InputError):
        yield data
        return
    try:
        fmt = detect_format(data[:_SNIFF_BYTES], file)
    except InputError as exc:
        yield exc
        return
    yield from _READERS[fmt](data, file)


def read_paths(paths: Iterable[str | os.PathLike[str]]) -> Iterator[RecordResult]:
    """Every record in every file under the given paths."""
    for path in iter_files(paths):
        yield from read_file(path)


def finish(trial: Trial) -> Trial:
    """Complete a reader's trial: split its eligibility block into criteria, note what is missing."""
    if not trial.criteria and trial.eligibility_text:
        trial.criteria = split_criteria(trial.eligibility_text)
    if not trial.nct_id:
        trial.warnings.append(f"no NCT ID; minted the identifier {trial.id}")
    if not trial.title:
        trial.warnings.append("no title")
    if not trial.eligibility_text:
        trial.warnings.append("no eligibility criteria")
    return trial
