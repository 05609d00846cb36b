"""SPARQL SELECT results, engine-neutral: typed rows for Python, and table, CSV, TSV and JSON for people.

The embedded store and a remote endpoint both yield a :class:`QueryResult`, so every output
format is written once. JSON is the SPARQL 1.1 Query Results JSON format.

>>> import pyoxigraph as ox
>>> r = QueryResult(["n"], [{"n": ox.Literal("3", datatype=ox.NamedNode(XSD + "integer"))}])
>>> r.values()
[{'n': 3}]
>>> print(r.to_table())
n
-
3
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

import pyoxigraph as ox
import rdflib

from trialgraph.namespaces import PREFIXES, XSD

Term = ox.NamedNode | ox.BlankNode | ox.Literal
Row = dict[str, Term | None]

_INTEGERS = {XSD + t for t in ("integer", "int", "long", "short", "nonNegativeInteger", "positiveInteger")}
_TABLE_CELL = 90


def python_value(term: Term | None) -> Any:
    """A term as a Python value: IRIs as ``str``, numbers as ``int``, ``Decimal`` or ``float``, booleans."""
    if term is None:
        return None
    if not isinstance(term, ox.Literal):
        return term.value
    datatype = term.datatype.value
    try:
        if datatype in _INTEGERS:
            return int(term.value)
        if datatype == XSD + "decimal":
            return Decimal(term.value)
        if datatype in (XSD + "double", XSD + "float"):
            return float(term.value)
        if datatype == XSD + "boolean":
            return term.value in ("true", "1")
    except ValueError:
        pass
    return term.value


def rdflib_term(term: Term) -> rdflib.term.Identifier:
    """The same term for rdflib: an xsd:string literal plain, as rdflib's parsers give it.

    >>> rdflib_term(ox.Literal("7", datatype=ox.NamedNode(XSD + "integer"))).toPython()
    7
    """
    if isinstance(term, ox.NamedNode):
        return rdflib.URIRef(term.value)
    if isinstance(term, ox.BlankNode):
        return rdflib.BNode(term.value)
    if term.language:
        return rdflib.Literal(term.value, lang=term.language)
    if term.datatype.value == XSD + "string":
        return rdflib.Literal(term.value)
    return rdflib.Literal(term.value, datatype=rdflib.URIRef(term.datatype.value))


def short(term: Term | None) -> str:
    """A term for a table cell: a literal's text, an IRI shortened by the project's prefixes."""
    if term is None:
        return ""
    if isinstance(term, ox.NamedNode):
        for prefix, ns in PREFIXES.items():
            if term.value.startswith(ns):
                return f"{prefix}:{term.value[len(ns) :]}"
        return term.value
    return str(term.value)


@dataclass
class QueryResult:
    """The variables and rows of a SELECT query (or the answer of an ASK query)."""

    variables: list[str]
    rows: list[Row] = field(default_factory=list)
    boolean: bool | None = None

    @classmethod
    def from_oxigraph(cls, solutions: Any) -> QueryResult:
        """From pyoxigraph's ``QuerySolutions`` or ``QueryBoolean``."""
        if isinstance(solutions, ox.QueryBoolean):
            return cls([], [], bool(solutions))
        variables = [v.value for v in solutions.variables]
        # a solution iterates its values in the order of the variables (None where unbound): half the
        # conversion time of looking each up by name, which counts at 100,000 rows
        rows = [dict(zip(variables, s, strict=True)) for s in solutions]
        return cls(variables, rows)

    def __iter__(self) -> Iterator[Row]:
        return iter(self.rows)

    def __len__(self) -> int:
        return len(self.rows)

    def values(self) -> list[dict[str, Any]]:
        """Rows with typed Python values (see :func:`python_value`)."""
        return [{k: python_value(v) for k, v in row.items()} for row in self.rows]

    def to_json(self) -> str:
        """SPARQL 1.1 Query Results JSON."""
        if self.boolean is not None:
            return json.dumps({"head": {}, "boolean": self.boolean})
        bindings = [{k: _json_term(v) for k, v in row.items() if v is not None} for row in self.rows]
        return json.dumps(
            {"head": {"vars": self.variables}, "results": {"bindings": bindings}}, ensure_ascii=False
        )

    def to_csv(self) -> str:
        """SPARQL 1.1 Query Results CSV: plain values, a header of variable names."""
        out = io.StringIO()
        writer = csv.writer(out, lineterminator="\r\n")
        writer.writerow(self.variables)
        for row in self.rows:
            writer.writerow(["" if row[v] is None else _csv_value(row[v]) for v in self.variables])
        return out.getvalue()

    def to_tsv(self) -> str:
        """SPARQL 1.1 Query Results TSV: terms in Turtle syntax, a header of ``?variables``."""
        lines = ["\t".join(f"?{v}" for v in self.variables)]
        lines.extend(
            "\t".join("" if row[v] is None else str(row[v]) for v in self.variables) for row in self.rows
        )
        return "\n".join(lines) + "\n"

    def to_table(self) -> str:
        """A plain-text table for a terminal, long cells cut at 90 characters."""
        if self.boolean is not None:
            return "yes" if self.boolean else "no"
        cells = [[_cut(short(row[v])) for v in self.variables] for row in self.rows]
        widths = [max([len(v), *(len(r[i]) for r in cells)]) for i, v in enumerate(self.variables)]
        lines = ["  ".join(v.ljust(w) for v, w in zip(self.variables, widths, strict=True)).rstrip()]
        lines.append("  ".join("-" * w for w in widths))
        lines.extend("  ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)).rstrip() for r in cells)
        return "\n".join(lines)

    def format(self, fmt: str) -> str:
        """The result as ``table``, ``csv``, ``tsv`` or ``json``."""
        return {"table": self.to_table, "csv": self.to_csv, "tsv": self.to_tsv, "json": self.to_json}[fmt]()


RESULT_FORMATS = ("table", "csv", "tsv", "json")
"""Output formats of query results, by their command-line name."""


def _cut(text: str) -> str:
    text = " ".join(text.split())
    return text if len(text) <= _TABLE_CELL else text[: _TABLE_CELL - 1] + "…"


def _csv_value(term: Term | None) -> str:
    return "" if term is None else (f"_:{term.value}" if isinstance(term, ox.BlankNode) else term.value)


def _json_term(term: Term) -> dict[str, str]:
    if isinstance(term, ox.NamedNode):
        return {"type": "uri", "value": term.value}
    if isinstance(term, ox.BlankNode):
        return {"type": "bnode", "value": term.value}
    out = {"type": "literal", "value": term.value}
    if term.language:
        out["xml:lang"] = term.language
    elif term.datatype.value != XSD + "string":
        out["datatype"] = term.datatype.value
    return out
