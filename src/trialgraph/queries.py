"""The SPARQL query library: ``queries/*.rq`` files loaded by name, each with a header.

A header is the leading block of ``#`` comment lines: ``name``, a one-line ``question``, a
``description``, and one ``param`` line per parameter: name, type, default and a description::

    # name: prior-therapy-stance
    # question: What is each trial's stance on prior therapy of a class?
    # param: therapy concept = tgc:PD1Inhibitor ; the therapy class or agent

A parameter is bound through the query's own ``VALUES ?name { default }`` block(s), which
:meth:`LibraryQuery.bind` rewrites with the RDF term the value denotes, serialised by the RDF
library (so quotes and braces in a value cannot change the query). Types: ``concept`` (an IRI, a
``tgc:``/``tg:`` name, or a name the vocabulary resolves), ``iri``, ``string``, ``integer``,
``decimal``, ``boolean``. A ``string`` parameter may list the values it accepts after its type,
``scale string {ECOG WHO KARNOFSKY KPS} = ECOG``: another value is refused (case does not matter).

>>> load("graph-statistics").question
'How many trials, arms, interventions, conditions and criteria does the graph hold?'
>>> q = load("prior-therapy-stance")
>>> "{ <https://w3id.org/trialgraph/concept/PDL1Inhibitor> }" in q.bind(therapy="PD-L1 inhibitor")
True
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from pathlib import Path

import pyoxigraph as ox

from trialgraph.errors import NotFoundError, TrialgraphError
from trialgraph.namespaces import PREFIXES, XSD
from trialgraph.resources import QUERIES_DIR

PARAMETER_TYPES = ("concept", "iri", "string", "integer", "decimal", "boolean")
_PARAM_RE = re.compile(
    r"^(?P<name>[A-Za-z_]\w*)\s+(?P<type>\w+)(?:\s*\{(?P<choices>[^{}]*)\})?"
    r"(?:\s*=\s*(?P<default>[^;]*?))?\s*(?:;\s*(?P<doc>.*))?$"
)


class ParameterError(TrialgraphError):
    """A query parameter value that is not a valid term of the parameter's type."""


@dataclass(frozen=True)
class Parameter:
    """A query parameter declared in the header: name, type, default and what it means."""

    name: str
    type: str
    default: str | None
    description: str
    choices: tuple[str, ...] = ()
    """The values a ``string`` parameter accepts (any, when empty)."""

    @property
    def type_text(self) -> str:
        """The type as a reader sees it: ``string``, or ``string: ECOG|WHO|KARNOFSKY|KPS``."""
        return f"{self.type}: {'|'.join(self.choices)}" if self.choices else self.type

    def term(self, value: object) -> ox.NamedNode | ox.Literal:
        """The RDF term ``value`` denotes, or a :class:`ParameterError` naming the parameter."""
        text = str(value).strip()
        if self.choices:
            choice = next((c for c in self.choices if c.upper() == text.upper()), None)
            if choice is None:
                raise ParameterError(
                    f"parameter {self.name}: {text!r} is not valid; expected one of {', '.join(self.choices)}"
                )
            return ox.Literal(choice)
        try:
            if self.type == "concept":
                return _concept(text)
            if self.type == "iri":
                return _iri(text)
            if self.type == "integer":
                return ox.Literal(str(int(text)), datatype=ox.NamedNode(XSD + "integer"))
            if self.type == "decimal":
                return ox.Literal(str(Decimal(text)), datatype=ox.NamedNode(XSD + "decimal"))
            if self.type == "boolean":
                if text.lower() not in ("true", "false"):
                    raise ValueError(text)
                return ox.Literal(text.lower(), datatype=ox.NamedNode(XSD + "boolean"))
            return ox.Literal(text)
        except (ValueError, InvalidOperation, LookupError):
            expected = {
                "concept": "a concept IRI, a tgc: name, or a name the vocabulary knows",
                "iri": "an absolute IRI or a prefixed name (tg:, tgc:, ...)",
                "integer": "an integer",
                "decimal": "a decimal number",
                "boolean": "true or false",
            }.get(self.type, "text")
            raise ParameterError(
                f"parameter {self.name}: {text!r} is not valid; expected {expected}"
            ) from None


def _iri(text: str) -> ox.NamedNode:
    prefix, sep, local = text.partition(":")
    if sep and prefix in PREFIXES and not local.startswith("//"):
        text = PREFIXES[prefix] + local
    if not re.match(r"^[A-Za-z][A-Za-z0-9+.-]*:", text):
        raise ValueError(text)
    return ox.NamedNode(text)  # raises ValueError on characters an IRI cannot hold


def _concept(text: str) -> ox.NamedNode:
    from trialgraph.vocabulary import Vocabulary

    curated = Vocabulary.curated()  # DrugBank, 1 s to load, only for a name no curated concept has
    if ":" in text:
        iri = _iri(text)
        if iri.value in curated:
            return iri
    found = curated.named(text)
    if found is None:
        concept = Vocabulary.default().lookup(text)
        if concept is None:
            raise LookupError(text)
        found = concept.iri
    return ox.NamedNode(found)


@dataclass(frozen=True)
class LibraryQuery:
    """A query of the library: its name, question, description and SPARQL text."""

    name: str
    question: str
    description: str
    text: str
    path: Path
    header: dict[str, list[str]] = field(default_factory=dict)
    parameters: tuple[Parameter, ...] = ()

    def bind(self, **values: object) -> str:
        """The query text with each parameter's ``VALUES`` block holding ``values[name]`` or the default."""
        unknown = set(values) - {p.name for p in self.parameters}
        if unknown:
            known = ", ".join(p.name for p in self.parameters) or "none"
            raise ParameterError(
                f"query {self.name} has no parameter {', '.join(sorted(unknown))}; it has: {known}"
            )
        blocks = {
            p.name: f"VALUES ?{p.name} {{ {p.term(values[p.name])} }}"
            for p in self.parameters
            if values.get(p.name) is not None
        }
        if not blocks:
            return self.text
        names = "|".join(re.escape(name) for name in blocks)
        block = re.compile(rf"VALUES\s+\?({names})\s*\{{[^{{}}]*\}}")
        # One pass over the query's own text: a value already bound is never searched again, so a
        # string holding "VALUES ?other { }" cannot be rewritten by the next parameter (and broken).
        return block.sub(lambda m: blocks[m[1]], self.text)


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
    parameters = []
    for line in header.get("param", []):
        m = _PARAM_RE.match(line)
        choices = tuple(m["choices"].split()) if m is not None and m["choices"] is not None else ()
        if (
            m is None
            or m["type"] not in PARAMETER_TYPES
            or (m["choices"] is not None and m["type"] != "string")
        ):
            raise TrialgraphError(
                f"{path}: bad param line {line!r}; expected 'name type = default ; description' "
                f"with a type among {', '.join(PARAMETER_TYPES)} (a string may list its values: "
                "'name string {A B} = A ; description')"
            )
        parameter = Parameter(
            m["name"], m["type"], (m["default"] or "").strip() or None, m["doc"] or "", choices
        )
        if parameter.default is not None:
            try:
                parameter.term(parameter.default)
            except ParameterError as exc:
                raise TrialgraphError(f"{path}: the default of {line!r} is not valid: {exc}") from None
        parameters.append(parameter)
    return LibraryQuery(
        name=" ".join(header.get("name", [path.stem])),
        question=" ".join(header.get("question", [])),
        description=" ".join(header.get("description", [])),
        text=text,
        path=path,
        header=header,
        parameters=tuple(parameters),
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
