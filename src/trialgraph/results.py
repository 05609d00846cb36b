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
import re
from collections.abc import Iterator
from decimal import Decimal
from typing import Any

import pyoxigraph as ox
import rdflib

from trialgraph.errors import StoreError
from trialgraph.namespaces import PREFIXES, XSD

Term = ox.NamedNode | ox.BlankNode | ox.Literal
Row = dict[str, Term | None]

_INTEGERS = {XSD + t for t in ("integer", "int", "long", "short", "nonNegativeInteger", "positiveInteger")}
_DECIMAL = XSD + "decimal"
_FLOATS = {XSD + "double", XSD + "float"}
_BOOLEAN = XSD + "boolean"
_STRING = XSD + "string"
_TSV = ox.QueryResultsFormat.TSV
_TABLE_CELL = 90


def python_value(term: Term | None) -> Any:
    """A term as a Python value: IRIs as ``str``, numbers as ``int``, ``Decimal`` or ``float``, booleans."""
    if term is None:
        return None
    if isinstance(term, ox.Triple):
        return str(term)  # an RDF 1.2 triple term, in N-Triples syntax
    if not isinstance(term, ox.Literal):
        return term.value
    return _literal_value(term.value, term.datatype.value)


def _literal_value(lexical: str, datatype: str | None) -> Any:
    """A literal's Python value from its lexical form and datatype IRI (None: a language-tagged string)."""
    try:
        if datatype in _INTEGERS:
            return int(lexical)
        if datatype == _DECIMAL:
            return Decimal(lexical)
        if datatype in _FLOATS:
            return float(lexical)
        if datatype == _BOOLEAN:
            return lexical in ("true", "1")
    except ValueError:
        pass
    return lexical


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
    if term.datatype.value == _STRING:
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


class QueryResult:
    """The variables and rows of a SELECT query (or the answer of an ASK query)."""

    def __init__(
        self, variables: list[str], rows: list[Row] | None = None, boolean: bool | None = None
    ) -> None:
        self.variables = variables
        self.boolean = boolean
        self._rows = rows
        self._tsv: str | None = None  # the answer as the store wrote it, read into rows when they are used

    @classmethod
    def from_oxigraph(cls, solutions: ox.QuerySolutions | ox.QueryBoolean) -> QueryResult:
        """From pyoxigraph's ``QuerySolutions`` (read to the end here) or ``QueryBoolean``."""
        if isinstance(solutions, ox.QueryBoolean):
            return cls([], [], bool(solutions))
        if not isinstance(solutions, ox.QuerySolutions):
            kind = "triples" if isinstance(solutions, ox.QueryTriples) else type(solutions).__name__
            raise StoreError(f"a SELECT or ASK query was expected; this query gives {kind}")
        # pyoxigraph writes the answer as SPARQL TSV in Rust and values() reads that text, making no
        # term object per cell: eligibility-summary at 100,000 trials (1,000,000 cells) took 1.4 s after
        # the engine's 2.8 s through terms, 0.3 s through the text. Rows are parsed from it when used.
        result = cls([v.value for v in solutions.variables])
        result._tsv = (solutions.serialize(format=_TSV) or b"").decode()
        return result

    @property
    def rows(self) -> list[Row]:
        """Each solution as a mapping of variable name to term (None where unbound)."""
        if self._rows is None:
            solutions = ox.parse_query_results(self._tsv or "", format=_TSV)
            assert isinstance(solutions, ox.QuerySolutions)
            self._rows = [dict(zip(self.variables, s, strict=True)) for s in solutions]
        return self._rows

    def __iter__(self) -> Iterator[Row]:
        return iter(self.rows)

    def __len__(self) -> int:
        if self._rows is None and self._tsv is not None:
            return self._tsv.count("\n") - 1  # TSV escapes line breaks in terms: a line per solution
        return len(self.rows)

    def __repr__(self) -> str:
        answer = f"boolean={self.boolean}" if self.boolean is not None else f"{len(self)} rows"
        return f"QueryResult({self.variables}, {answer})"

    def values(self) -> list[dict[str, Any]]:
        """Rows with typed Python values (see :func:`python_value`)."""
        if self._tsv is not None:
            try:
                return _tsv_values(self.variables, self._tsv)
            except _UnknownCell:
                pass
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


class _UnknownCell(ValueError):
    """A TSV cell that is not an IRI, literal or blank node (an RDF 1.2 triple term)."""


_ESCAPE = re.compile(r"\\(?:u([0-9A-Fa-f]{4})|U([0-9A-Fa-f]{8})|(.))", re.DOTALL)
_ECHAR = {"t": "\t", "b": "\b", "n": "\n", "r": "\r", "f": "\f", '"': '"', "'": "'", "\\": "\\"}


def _unescape(text: str) -> str:
    """A Turtle string's escapes (``\\t``, ``\\"``, ``\\u00e9`` ...) replaced by what they stand for."""
    return _ESCAPE.sub(lambda m: chr(int(m[1] or m[2], 16)) if m[3] is None else _ECHAR.get(m[3], m[0]), text)


def _cell_value(cell: str) -> Any:
    """A SPARQL TSV cell (a term in Turtle syntax) as :func:`python_value` gives the term."""
    first = cell[0]
    if first == '"':
        # the datatype IRI and the language tag hold no quote: the last quote ends the lexical form
        if cell[-1] == '"':
            lexical, datatype = cell[1:-1], _STRING
        elif cell[-1] == ">":
            end = cell.rindex('"^^<')
            lexical, datatype = cell[1:end], cell[end + 4 : -1]
        else:
            lexical, datatype = cell[1 : cell.rindex('"@')], None
        return _literal_value(_unescape(lexical) if "\\" in lexical else lexical, datatype)
    if first == "<":
        if cell[1] == "<":
            raise _UnknownCell(cell)
        return cell[1:-1]
    if first == "_":
        return cell[2:]
    # the bare forms Turtle gives xsd:boolean, xsd:integer, xsd:decimal and xsd:double values
    if cell == "true" or cell == "false":
        return cell == "true"
    if "e" in cell or "E" in cell:
        return float(cell)
    if "." in cell:
        return Decimal(cell)
    return int(cell)


def _tsv_values(variables: list[str], tsv: str) -> list[dict[str, Any]]:
    """The rows of a SPARQL TSV answer with typed Python values; each distinct cell is read once."""
    lines = tsv.split("\n")
    read: dict[str, Any] = {"": None}  # an empty cell is an unbound variable
    rows = []
    for line in lines[1:-1]:
        values = []
        for cell in line.split("\t") if variables else ():  # no variables: an empty line
            try:
                value = read[cell]
            except KeyError:
                value = _cell_value(cell)
                if cell[0] != "<":  # an IRI is a slice, cheaper than keeping it (trial IRIs seldom repeat)
                    read[cell] = value
            values.append(value)
        rows.append(dict(zip(variables, values, strict=True)))
    return rows


def _json_term(term: Term) -> dict[str, str]:
    if isinstance(term, ox.NamedNode):
        return {"type": "uri", "value": term.value}
    if isinstance(term, ox.BlankNode):
        return {"type": "bnode", "value": term.value}
    out = {"type": "literal", "value": term.value}
    if term.language:
        out["xml:lang"] = term.language
    elif term.datatype.value != _STRING:
        out["datatype"] = term.datatype.value
    return out
