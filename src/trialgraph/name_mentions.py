"""The vocabulary concepts that a registry name mentions, found once at ingest (``tg:nameMentions``).

A name mentions a concept when one of the concept's labels (preferred, alternative, brand, code or
ambiguous) occurs in it as whole words without regard to case: both are lower-cased and split into
runs of ASCII letters and digits, and the label's words must occur in the name's, together and in
order. Queries that ask which arms give a class of therapy follow these links instead of comparing
every name in the store with every label of the class; the labels are those of the ontology graph
the store holds, so a query's class hierarchy and the links agree.

>>> mentioned("Docetaxel 75 mg/m2 IV")
('https://w3id.org/trialgraph/concept/docetaxel',)
>>> "https://w3id.org/trialgraph/concept/SBRT" in mentioned("Stereotactic body radiotherapy (SBRT)")
True
>>> mentioned("Taxotere-free control") == mentioned("docetaxel")
True
"""

from __future__ import annotations

import re
from functools import cache

import pyoxigraph as ox

from trialgraph.namespaces import SKOS, TG

LABEL_PROPERTIES = (
    SKOS + "prefLabel",
    SKOS + "altLabel",
    TG + "brandName",
    TG + "codeName",
    TG + "ambiguousLabel",
)
"""The properties whose values name a concept (those the therapy and arm queries read)."""

_WORD_RE = re.compile(r"[a-z0-9]+")


def words(name: str) -> tuple[str, ...]:
    """A name's comparison words: lower-cased runs of ASCII letters and digits."""
    return tuple(_WORD_RE.findall(name.lower()))


@cache
def _labels() -> tuple[dict[tuple[str, ...], tuple[str, ...]], int]:
    """The concepts of each label's words, and the most words a label has."""
    from trialgraph.rdf import ontology_files  # rdf imports this module to write the links

    wanted = {ox.NamedNode(p) for p in LABEL_PROPERTIES}
    found: dict[tuple[str, ...], set[str]] = {}
    for path in ontology_files():
        for triple in ox.parse(path=path, format=ox.RdfFormat.TURTLE):
            if triple.predicate in wanted and isinstance(triple.subject, ox.NamedNode):
                key = words(triple.object.value)
                if key:
                    found.setdefault(key, set()).add(triple.subject.value)
    return {k: tuple(sorted(v)) for k, v in found.items()}, max(map(len, found), default=0)


def mentioned(*names: str) -> tuple[str, ...]:
    """The IRIs of the concepts that any of the names mentions, sorted."""
    labels, longest = _labels()
    found: set[str] = set()
    for name in names:
        w = words(name)
        for start in range(len(w)):
            for end in range(start + 1, min(start + longest, len(w)) + 1):
                found.update(labels.get(w[start:end], ()))
    return tuple(sorted(found))
