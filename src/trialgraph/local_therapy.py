"""The arms that give local therapy (SBRT, surgery, ablation), found at mapping time.

"Which trials have an arm giving metastasis-directed or other local therapy?" asks, of every arm,
whether it gives an intervention the registry types as radiation or procedure, or a non-drug
intervention (other, device, combination product too) whose names, or the arm's label, name a local
therapy of the vocabulary. Asked in SPARQL, that reads every non-drug intervention of the store with
its arm, label and name links (1.5 s at 100,000 trials); so each trial's mapping marks the arms that
give local therapy (``tg:LocalTherapyArm``) and links them to the local therapies they name
(``tg:givesLocalTherapy``), and the query starts from those arms (0.29 s).

>>> from trialgraph.model import Arm, Intervention, Source, Trial
>>> sbrt = Intervention("SBRT to all metastases", type="RADIATION", arm_labels=["SBRT"])
>>> arm = Arm("SBRT", intervention_names=["SBRT to all metastases"])
>>> trial = Trial(id="NCT00000000", source=Source("ctgov_json", "-", 0, ""), arms=[arm], interventions=[sbrt])
>>> [(a.arm.label, a.typed, a.therapies) for a in local_therapy_arms(trial)]
[('SBRT', True, ('https://w3id.org/trialgraph/concept/SBRT',))]
"""

from __future__ import annotations

from dataclasses import dataclass

from trialgraph.model import Arm, Trial
from trialgraph.name_mentions import mentioned
from trialgraph.namespaces import TGC
from trialgraph.vocabulary import Vocabulary

NON_DRUG_TYPES = frozenset({"RADIATION", "PROCEDURE", "OTHER", "DEVICE", "COMBINATION_PRODUCT"})
"""The registry's intervention types whose names and arms are searched for local therapy."""

LOCAL_TYPES = frozenset({"RADIATION", "PROCEDURE"})
"""The registry's intervention types that are local therapy whatever they are called."""

LOCAL_THERAPY = TGC + "LocalTherapy"
"""The vocabulary class of local therapy; metastasis-directed therapy is under it."""


@dataclass(frozen=True)
class LocalTherapyArm:
    """An arm giving local therapy: ``typed`` by an intervention's registry type, ``therapies`` named."""

    arm: Arm
    typed: bool
    therapies: tuple[str, ...]


def local_therapy_arms(trial: Trial, vocabulary: Vocabulary | None = None) -> list[LocalTherapyArm]:
    """The trial's arms that give local therapy, in arm order, with the local therapies each names.

    An arm's names are those of the non-drug interventions it gives and its own label; a name names a
    concept as ``tg:nameMentions`` links them (:func:`trialgraph.name_mentions.mentioned`), and a
    local therapy is a concept the vocabulary puts under tgc:LocalTherapy (or that class itself).
    """
    vocab = vocabulary or Vocabulary.default()
    found = []
    for arm in trial.arms:
        given = sorted({i for targets in trial.arm_interventions(arm).values() for i in targets})
        non_drug = [trial.interventions[i] for i in given if trial.interventions[i].type in NON_DRUG_TYPES]
        if not non_drug:
            continue
        names = [arm.label, *(n for iv in non_drug for n in (iv.name, *iv.other_names))]
        therapies = tuple(c for c in mentioned(*names) if c in vocab and vocab.is_a(c, LOCAL_THERAPY))
        typed = any(iv.type in LOCAL_TYPES for iv in non_drug)
        if typed or therapies:
            found.append(LocalTherapyArm(arm, typed, therapies))
    return found
