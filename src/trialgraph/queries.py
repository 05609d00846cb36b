"""The SPARQL query library: ``queries/*.rq`` files loaded by name, each with a header.

A header is the leading block of ``#`` comment lines::

    # name: graph-statistics
    # question: How many trials, arms, interventions, conditions and criteria does the graph hold?

>>> load("graph-statistics").question
'How many trials, arms, interventions, conditions and criteria does the graph hold?'
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from trialgraph.errors import NotFoundError
from trialgraph.resources import QUERIES_DIR


@dataclass(frozen=True)
class LibraryQuery:
    """A query of the library: its name, question, description and SPARQL text."""

    name: str
    question: str
    description: str
    text: str
    path: Path
    header: dict[str, list[str]] = field(default_factory=dict)


def _parse_header(text: str) -> dict[str, list[str]]:
    header: dict[str, list[str]] = {}
    key = "description"
    for line in text.splitlines():
        if not line.startswith("#"):
            break
        body = line[1:].strip()
        head, sep, rest = body.partition(":")
        if sep and head.strip().isidentifier() and " " not in head.strip():
            key = head.strip().lower()
            header.setdefault(key, []).append(rest.strip())
        elif body:
            header.setdefault(key, []).append(body)
    return header


def load_file(path: Path) -> LibraryQuery:
    """A query from a ``.rq`` file."""
    text = path.read_text(encoding="utf-8")
    header = _parse_header(text)
    return LibraryQuery(
        name=" ".join(header.get("name", [path.stem])),
        question=" ".join(header.get("question", [])),
        description=" ".join(header.get("description", [])),
        text=text,
        path=path,
        header=header,
    )


def load(name: str) -> LibraryQuery:
    """The library query called ``name``."""
    path = QUERIES_DIR / f"{name}.rq"
    if not path.is_file():
        known = ", ".join(q.name for q in library())
        raise NotFoundError(f"no query named {name!r}; the library has: {known}")
    return load_file(path)


def library() -> list[LibraryQuery]:
    """Every query of the library, sorted by name."""
    return [load_file(p) for p in sorted(QUERIES_DIR.glob("*.rq"))]
