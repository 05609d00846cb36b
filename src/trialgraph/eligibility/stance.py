"""Each trial's stance on prior therapy of every concept its therapy constraints bear on.

"Which oligoprogression trials allow prior PD-1 therapy?" asks, for one therapy class or agent, what
each trial says about it: ``required`` (a criterion demands prior therapy of the class, or of a
narrower class or agent, with no accepted option outside it), ``permitted`` (a criterion names it, or
a broader or narrower class, as acceptable: an "other than ..." carve-out or an accepted option),
``excluded`` (ruled out whatever the timing, by the class itself or a broader one such as "any prior
systemic therapy"), ``conditional`` (ruled out only within a washout window, only while ongoing, only
as a given line, only after a given outcome, or only for some agents of the class); the first that
applies wins, and a trial that says none of these has not mentioned it.

Answering that in SPARQL means reading every therapy constraint of every candidate trial with the
hierarchy around the class, a seek per constraint. So at mapping time each trial's graph also gets
the answer for every concept one of its constraints bears on: the therapy a constraint names or
accepts, every class that therapy belongs to, and every curated concept under it, as classified by
the vocabulary (an agent counts under the classes its targets imply, as the reasoner infers). The
stances of one trial are grouped, one node per stance and evidence, with the concepts it holds for.

>>> from trialgraph.model import Criterion, Source, TherapyConstraint, Trial
>>> from trialgraph.namespaces import TGC
>>> text = "Prior anti-PD-1 therapy"
>>> c = Criterion(kind="exclusion", ordinal=1, text=text)
>>> c.constraints = [TherapyConstraint("exclusion", 1, 0, 23, text, therapy=TGC + "PD1Inhibitor")]
>>> trial = Trial(id="NCT00000000", source=Source("ctgov_json", "-", 0, ""), criteria=[c])
>>> stances = trial_stances(trial)
>>> pd1 = next(s for s in stances if TGC + "PD1Inhibitor" in s.concepts)
>>> pd1.stance, pd1.evidence
('excluded', ('excluded by exclusion 1: Prior anti-PD-1 therapy',))
>>> TGC + "nivolumab" in pd1.concepts, TGC + "PDL1Inhibitor" in pd1.concepts
(True, False)
"""

from __future__ import annotations

from dataclasses import dataclass

from trialgraph.model import Criterion, TherapyConstraint, Trial
from trialgraph.vocabulary import Vocabulary

STANCES = ("required", "permitted", "excluded", "conditional")
"""The stances a criterion can take, first that applies first; a trial with none has ``not_mentioned``."""

_SELF, _NARROWER, _BROADER = "self", "narrower", "broader"


@dataclass(frozen=True)
class TherapyStance:
    """A trial's stance on prior therapy of each of ``concepts``, and the criteria it rests on.

    ``evidence`` quotes each criterion that bears on the concepts, with what it says ("excluded by
    exclusion 3: ..."), in criterion order; ``sources`` are those constraints, each as its criterion
    and its number among the criterion's constraints (from 1).
    """

    stance: str
    concepts: tuple[str, ...]
    evidence: tuple[str, ...]
    sources: tuple[tuple[Criterion, int], ...]


def trial_stances(trial: Trial, vocabulary: Vocabulary | None = None) -> list[TherapyStance]:
    """The trial's stance on every concept its therapy constraints bear on, grouped by stance and evidence."""
    vocab = vocabulary or Vocabulary.default()
    quotes = trial.criterion_quotes()
    best: dict[str, int] = {}
    evidence: dict[str, dict[str, None]] = {}  # dicts as ordered sets
    sources: dict[str, dict[tuple[str, int, int], tuple[Criterion, int]]] = {}
    for criterion in trial.criteria:
        quote = quotes[(criterion.kind, criterion.ordinal)]
        for n, constraint in enumerate(criterion.constraints, 1):
            if not isinstance(constraint, TherapyConstraint):
                continue
            for concept, rank in constraint_ranks(constraint, vocab).items():
                best[concept] = min(rank, best.get(concept, rank))
                evidence.setdefault(concept, {})[f"{STANCES[rank - 1]} by {quote}"] = None
                sources.setdefault(concept, {})[(criterion.kind, criterion.ordinal, n)] = (criterion, n)
    groups: dict[tuple[int, tuple[str, ...], tuple[tuple[str, int, int], ...]], list[str]] = {}
    for concept in sorted(best):
        key = (best[concept], tuple(evidence[concept]), tuple(sources[concept]))
        groups.setdefault(key, []).append(concept)
    stances = [
        TherapyStance(STANCES[rank - 1], tuple(concepts), quoted, tuple(sources[concepts[0]].values()))
        for (rank, quoted, _), concepts in groups.items()
    ]
    return sorted(stances, key=lambda g: (STANCES.index(g.stance), g.concepts))


def constraint_ranks(constraint: TherapyConstraint, vocabulary: Vocabulary) -> dict[str, int]:
    """What one therapy constraint says of each concept it bears on: 1 required ... 4 conditional."""
    named = _related(constraint.therapy, vocabulary)
    options = [_related(p, vocabulary) for p in constraint.permitted_therapies]
    qualified = (
        constraint.within_days is not None
        or constraint.line is not None
        or constraint.outcome is not None
        or constraint.timing != "prior"
    )
    ranks: dict[str, int] = {}
    for concept in set(named).union(*options):
        relation = named.get(concept)
        # an option unrelated to the concept, or broader than it, is an option outside it
        other_option = any(o.get(concept) not in (_SELF, _NARROWER) for o in options)
        if constraint.sense == "require" and relation in (_SELF, _NARROWER) and not other_option:
            ranks[concept] = 1
        elif any(concept in o for o in options):
            ranks[concept] = 2
        elif constraint.sense == "exclude" and relation in (_SELF, _BROADER):
            ranks[concept] = 4 if qualified else 3
        elif constraint.sense == "exclude" and relation == _NARROWER:
            ranks[concept] = 4
    return ranks


def _related(iri: str, vocabulary: Vocabulary) -> dict[str, str]:
    """How a therapy a criterion names relates to each concept: broader than it, narrower, or itself."""
    if not iri:
        return {}
    if vocabulary.get(iri) is None:
        return {iri: _SELF}
    relations = dict.fromkeys(vocabulary.descendants(iri), _BROADER)
    # the ontology's own classes above it (tg:DrugAgent, tg:Therapy) are not concepts a stance is on
    relations.update((a, _NARROWER) for a in vocabulary.ancestors(iri) if a in vocabulary)
    relations[iri] = _SELF
    return relations
