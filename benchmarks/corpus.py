"""A scale corpus of ClinicalTrials.gov API v2 studies, built from real records, for benchmarks.

Templates are the real API v2 study objects in ``../shared/data/ctgov_v2`` (arrays and bare
studies); criteria are the ~5,200 real eligibility blocks in ``../shared/data/criteria_text`` (the
``criteria`` column of the CSV snapshot, 3,724 trials, and the 1,500 ``lct_raw`` texts). Study ``i``
is a template with:

* a fresh NCT ID (``NCT9xxxxxxx``: above every real NCT ID, unique per index) and org study ID;
* the eligibility block of one real criteria text; when it comes from the CSV snapshot, that real
  trial's diseases become the conditions, its phase and status are used, and its drug regimens
  (``"regorafenib - sequential / cisplatin / pemetrexed"``) become one arm each, with one DRUG
  intervention per named drug; otherwise the template's own conditions, arms and interventions;
* a title made from the conditions and interventions, shifted dates, a varied enrollment, age range,
  and a sample of the template's sites (most real studies have one site, a few have hundreds).

**Oligoprogression / PD-1 wording.** About 3 % of studies (``--oligo-share``) take title, conditions
and eligibility block from one of the real oligoprogression/oligometastatic records: seed pages
000-002 of ``../shared/data/seeds`` (read with trialgraph's own registry-page reader; 002 is the
HCC oligoprogression trial whose criteria name PD-1 antibodies) and the one CSV trial whose criteria
mention oligometastatic disease. Into 60 % of those, one real PD-1/PD-L1 bullet is spliced, taken
verbatim from the CSV criteria that mention PD-1, PD-L1, nivolumab, pembrolizumab and other agents of
the class, into the section (inclusion or exclusion) it came from. About 4 % of the ordinary
studies carry PD-1 wording of their own, through the real criteria they draw.

Everything derives from ``random.Random(f"{seed}:{i}")``, so the corpus is deterministic for a
seed, and the first studies of a larger corpus equal those of a smaller one. Output is written page
by page (``{"studies": [...]}``, 1,000 per file, like the API's pages) or as one JSON Lines file;
never more than one page is in memory.

    .venv/bin/python benchmarks/corpus.py 10000 /tmp/tg-bench/corpus-10000 [--seed 7] [--jsonl]
"""

from __future__ import annotations

import argparse
import ast
import csv
import json
import random
import re
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

SHARED = Path(__file__).resolve().parents[1].parent / "shared" / "data"
ID_BASE = 90_000_000
"""Fresh NCT IDs start at NCT90000000, far above the highest real one (NCT07...)."""
PD1_RE = re.compile(
    r"\b(?:anti-?\s?PD-?L?1|PD-?L?1|programmed (?:cell )?death|nivolumab|pembrolizumab|cemiplimab|"
    r"atezolizumab|durvalumab|avelumab|sintilimab|camrelizumab|toripalimab|tislelizumab|"
    r"checkpoint inhibitor)",
    re.IGNORECASE,
)
OLIGO_RE = re.compile(r"oligo-?(?:progress|metasta)", re.IGNORECASE)
BULLET_RE = re.compile(r"\n\s*(?:-|\*|•|\d{1,2}[.)])\s+")
EXCLUSION_RE = re.compile(r"(?im)^[ \t]*(?:key |main )?exclusion criteria\b")
OLIGO_SEEDS = ("000_", "001_", "002_")
STATUS = {
    "completed": "COMPLETED",
    "terminated": "TERMINATED",
    "withdrawn": "WITHDRAWN",
    "suspended": "SUSPENDED",
    "active, not recruiting": "ACTIVE_NOT_RECRUITING",
    "recruiting": "RECRUITING",
    "unknown status": "UNKNOWN",
}
STATUS_MIX = [
    ("COMPLETED", 45),
    ("RECRUITING", 15),
    ("UNKNOWN", 14),
    ("TERMINATED", 7),
    ("ACTIVE_NOT_RECRUITING", 6),
    ("NOT_YET_RECRUITING", 5),
    ("WITHDRAWN", 4),
    ("ENROLLING_BY_INVITATION", 2),
    ("SUSPENDED", 2),
]
SITE_COUNTS = [1, 1, 1, 1, 1, 1, 2, 2, 3, 4, 6, 10, 20, 45, 120]
TITLE_FORMS = [
    "A Study of {drug} in Patients With {cond}",
    "{drug} for {cond}",
    "Safety and Efficacy of {drug} in {cond}",
    "A Phase {phase} Trial of {drug} in Participants With {cond}",
    "{drug} Versus Standard of Care in {cond}",
    "Evaluation of {drug} in Adults With {cond}",
]


@dataclass
class Donor:
    """One real eligibility block with, where the source has them, its trial's facts."""

    text: str
    source: str
    conditions: list[str] = field(default_factory=list)
    regimens: list[str] = field(default_factory=list)
    phase: str | None = None
    status: str | None = None
    title: str | None = None


@dataclass
class Sources:
    """Everything the generator draws from, loaded once."""

    templates: list[str]
    donors: list[Donor]
    oligo: list[Donor]
    pd1_bullets: list[tuple[str, str]]  # (section, bullet text)
    interventions: list[dict[str, Any]]


def _literal_list(text: str) -> list[str]:
    try:
        value = ast.literal_eval(text) if text else []
    except (ValueError, SyntaxError):
        return []
    return [str(v) for v in value if str(v).strip()] if isinstance(value, list) else []


def _phase(text: str | None) -> list[str]:
    """``"phase 1/phase 2"`` -> ``["PHASE1", "PHASE2"]``."""
    return [f"PHASE{d}" for d in re.findall(r"phase\s*([1-4])", text or "", re.IGNORECASE)]


def _bullets(text: str) -> Iterator[tuple[str, str]]:
    """The bullets of a criteria block as (section, text with wrapped lines joined)."""
    split = EXCLUSION_RE.search(text)
    cut = split.start() if split else len(text)
    for section, part in (("inclusion", text[:cut]), ("exclusion", text[cut:])):
        for piece in BULLET_RE.split("\n" + part)[1:]:
            bullet = " ".join(piece.split())
            if 20 <= len(bullet) <= 400 and not bullet.lower().startswith(("inclusion", "exclusion")):
                yield section, bullet


def load_sources(shared: Path = SHARED) -> Sources:
    """Templates, criteria donors, oligoprogression donors and PD-1 bullets from the shared data."""
    templates: dict[str, str] = {}
    for path in sorted((shared / "ctgov_v2").rglob("*.json")):
        data = json.loads(path.read_text(encoding="utf-8"))
        for study in data if isinstance(data, list) else [data]:
            study.pop("resultsSection", None)
            study["hasResults"] = False
            nct = study["protocolSection"]["identificationModule"]["nctId"]
            templates.setdefault(nct, json.dumps(study, ensure_ascii=False))
    donors: list[Donor] = []
    oligo: list[Donor] = []
    pd1: list[tuple[str, str]] = []
    for path in sorted((shared / "criteria_text").glob("*.csv")):
        with path.open(encoding="utf-8", newline="") as handle:
            for row in csv.DictReader(handle):
                text = (row.get("criteria") or "").strip("\n")
                if not text.strip():
                    continue
                donor = Donor(
                    text=text,
                    source=f"{path.name}:{row['nctid']}",
                    conditions=_literal_list(row.get("diseases", "")),
                    regimens=_literal_list(row.get("drugs", "")),
                    phase=row.get("phase"),
                    status=STATUS.get((row.get("status") or "").strip().lower()),
                )
                donors.append(donor)
                if OLIGO_RE.search(text):
                    oligo.append(donor)
                if PD1_RE.search(text):
                    pd1.extend(b for b in _bullets(text) if PD1_RE.search(b[1]))
    for path in sorted((shared / "criteria_text" / "lct_raw").glob("*.txt")):
        donors.append(Donor(text=path.read_text(encoding="utf-8"), source=f"lct_raw/{path.name}"))
    oligo.extend(_seed_donors(shared / "seeds"))
    interventions = []
    for raw in templates.values():
        arms = json.loads(raw)["protocolSection"].get("armsInterventionsModule", {})
        interventions.extend(i for i in arms.get("interventions", []) if i.get("type") != "DRUG")
    return Sources(
        templates=[templates[k] for k in sorted(templates)],
        donors=donors,
        oligo=oligo,
        pd1_bullets=sorted(set(pd1)),
        interventions=interventions,
    )


def _seed_donors(seeds: Path) -> list[Donor]:
    """The oligoprogression seed pages, read with the project's own registry-page reader."""
    from trialgraph.ingest import read_file
    from trialgraph.model import Trial

    out = []
    for path in sorted(seeds.glob("*.txt")):
        if not path.name.startswith(OLIGO_SEEDS):
            continue
        for trial in read_file(path):
            if isinstance(trial, Trial) and trial.eligibility_text:
                out.append(
                    Donor(
                        text=trial.eligibility_text,
                        source=f"seeds/{path.name}",
                        conditions=[c.name for c in trial.conditions],
                        regimens=[i.name for i in trial.interventions],
                        phase=" ".join(trial.phases),
                        title=trial.brief_title,
                    )
                )
    return out


def splice(text: str, section: str, bullet: str) -> str:
    """``text`` with ``bullet`` added at the end of its inclusion or exclusion section."""
    line = f"\n\n  -  {bullet}\n"
    found = EXCLUSION_RE.search(text)
    if section == "exclusion" or found is None:
        if found is None:
            return text.rstrip() + "\n\nExclusion Criteria:\n" + line
        return text.rstrip() + line
    return text[: found.start()].rstrip() + line + "\n" + text[found.start() :]


def _drug_names(regimen: str) -> list[str]:
    """``"regorafenib (bay73-4506) - sequential / cisplatin"`` -> ``["regorafenib (bay73-4506)", ...]``."""
    names = []
    for part in re.split(r"\s/\s|\s\+\s", regimen):
        name = part.split(" - ")[0].strip(" ,;")
        if 2 <= len(name) <= 80:
            names.append(name)
    return names


def _shift_date(value: str, years: int) -> str:
    head, _, tail = value.partition("-")
    return f"{int(head) + years}-{tail}" if head.isdigit() and tail else value


def make_study(i: int, src: Sources, seed: int, oligo_share: float = 0.03) -> dict[str, Any]:
    """Study number ``i`` of the corpus for ``seed``: a deep copy of a template, varied."""
    rng = random.Random(f"{seed}:{i}")
    study: dict[str, Any] = json.loads(rng.choice(src.templates))
    ps = study["protocolSection"]
    nct = f"NCT{ID_BASE + i:08d}"
    ident = ps.setdefault("identificationModule", {})
    ident["nctId"] = nct
    ident["orgStudyIdInfo"] = {"id": f"TG-BENCH-{seed}-{i}"}
    ident.pop("secondaryIdInfos", None)
    is_oligo = rng.random() < oligo_share
    donor = rng.choice(src.oligo if is_oligo else src.donors)
    text = donor.text
    if is_oligo and src.pd1_bullets and rng.random() < 0.6:
        text = splice(text, *rng.choice(src.pd1_bullets))
    ps.setdefault("eligibilityModule", {})["eligibilityCriteria"] = text

    arms_mod = ps.setdefault("armsInterventionsModule", {})
    if donor.conditions:
        ps["conditionsModule"] = {"conditions": donor.conditions[:4]}
        study.get("derivedSection", {}).pop("conditionBrowseModule", None)
    if donor.regimens:
        _regimen_arms(arms_mod, donor.regimens, rng, src)
        study.get("derivedSection", {}).pop("interventionBrowseModule", None)
    design = ps.setdefault("designModule", {})
    phases = _phase(donor.phase)
    if phases:
        design["phases"] = phases
    status = ps.setdefault("statusModule", {})
    status["overallStatus"] = donor.status or rng.choices(*zip(*STATUS_MIX, strict=True))[0]
    years = rng.randint(-12, 2)
    for key in ("startDateStruct", "primaryCompletionDateStruct", "completionDateStruct"):
        if isinstance(status.get(key), dict) and "date" in status[key]:
            status[key]["date"] = _shift_date(status[key]["date"], years)
    design["enrollmentInfo"] = {
        "count": int(rng.lognormvariate(4.0, 1.1)) + 1,
        "type": rng.choice(["ACTUAL", "ESTIMATED"]),
    }
    elig = ps["eligibilityModule"]
    elig["minimumAge"] = rng.choice(["18 Years", "18 Years", "18 Years", "20 Years", "12 Years", "65 Years"])
    if rng.random() < 0.3:
        elig["maximumAge"] = rng.choice(["65 Years", "75 Years", "80 Years", "85 Years"])
    else:
        elig.pop("maximumAge", None)

    ident["briefTitle"] = donor.title or _title(ps, rng)
    ident["officialTitle"] = ident["briefTitle"] + rng.choice(
        ["", f" ({nct[-5:]})", ": a Randomized Trial", ": an Open-label, Multicenter Study"]
    )
    locs = ps.get("contactsLocationsModule", {}).get("locations")
    if isinstance(locs, list) and locs:
        keep = min(len(locs), rng.choice(SITE_COUNTS))
        chosen = sorted(rng.sample(range(len(locs)), keep))
        ps["contactsLocationsModule"]["locations"] = [locs[k] for k in chosen]
    return study


def _regimen_arms(mod: dict[str, Any], regimens: list[str], rng: random.Random, src: Sources) -> None:
    """One arm per real regimen, one DRUG intervention per drug it names, and sometimes a non-drug one."""
    arms: list[dict[str, Any]] = []
    interventions: dict[str, dict[str, Any]] = {}
    for k, regimen in enumerate(regimens[:4]):
        drugs = _drug_names(regimen)[:4]
        if not drugs:
            continue
        label = f"Arm {chr(65 + k)}: {regimen[:60]}"
        arms.append(
            {
                "label": label,
                "type": "EXPERIMENTAL" if k == 0 else rng.choice(["EXPERIMENTAL", "ACTIVE_COMPARATOR"]),
                "description": regimen,
                "interventionNames": [f"Drug: {d}" for d in drugs],
            }
        )
        for d in drugs:
            item = interventions.setdefault(d, {"type": "DRUG", "name": d, "armGroupLabels": []})
            item["armGroupLabels"].append(label)
    if arms and src.interventions and rng.random() < 0.25:
        extra = dict(rng.choice(src.interventions))
        extra["armGroupLabels"] = [arms[0]["label"]]
        arms[0]["interventionNames"].append(f"{extra['type'].title()}: {extra['name']}")
        interventions.setdefault(extra["name"], extra)
    if arms:
        mod["armGroups"] = arms
        mod["interventions"] = list(interventions.values())


def _title(ps: dict[str, Any], rng: random.Random) -> str:
    conds = ps.get("conditionsModule", {}).get("conditions") or ["Healthy Volunteers"]
    drugs = [i["name"] for i in ps.get("armsInterventionsModule", {}).get("interventions", []) if "name" in i]
    phases = ps.get("designModule", {}).get("phases") or ["2"]
    return rng.choice(TITLE_FORMS).format(
        drug=(drugs[0] if drugs else "Standard Care").title()[:60],
        cond=str(conds[0]).title()[:80],
        phase=str(phases[0]).removeprefix("PHASE"),
    )


def write_corpus(
    n: int,
    out: Path,
    seed: int = 7,
    page_size: int = 1000,
    jsonl: bool = False,
    oligo_share: float = 0.03,
    sources: Sources | None = None,
) -> list[Path]:
    """Write ``n`` studies under ``out`` (a folder of pages, or one ``.jsonl`` file); the files written."""
    src = sources or load_sources()
    out.mkdir(parents=True, exist_ok=True)
    files: list[Path] = []
    if jsonl:
        path = out / "studies.jsonl"
        with path.open("w", encoding="utf-8") as handle:
            for i in range(n):
                handle.write(json.dumps(make_study(i, src, seed, oligo_share), ensure_ascii=False) + "\n")
        return [path]
    for page, start in enumerate(range(0, n, page_size)):
        path = out / f"page-{page:05d}.json"
        studies = [make_study(i, src, seed, oligo_share) for i in range(start, min(n, start + page_size))]
        path.write_text(json.dumps({"studies": studies}, ensure_ascii=False), encoding="utf-8")
        files.append(path)
    return files


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("n", type=int, help="number of studies")
    parser.add_argument("out", type=Path, help="output folder")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--page-size", type=int, default=1000)
    parser.add_argument("--jsonl", action="store_true", help="one JSON Lines file instead of API pages")
    parser.add_argument("--oligo-share", type=float, default=0.03)
    args = parser.parse_args(argv)
    start = time.perf_counter()
    files = write_corpus(args.n, args.out, args.seed, args.page_size, args.jsonl, args.oligo_share)
    size = sum(f.stat().st_size for f in files)
    print(
        f"{args.n} studies in {len(files)} files, {size / 1e6:.1f} MB, {time.perf_counter() - start:.1f} s",
        file=sys.stderr,
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
