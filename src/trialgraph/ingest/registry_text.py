"""Reader for registry page text: the plain text of a trial's web page, one trial per file.

Three layouts are recognised from their content, never the file name:

* **ClinicalTrials.Veeva pages**: a heading line ("Status and phase", "Treatments", "Ages", ...)
  followed by its value lines; the title and sponsor come before the first heading.
* **Pages rendered from a legacy ClinicalTrials.gov record**: ``Field:`` lines ("Trial Title:",
  "Overall status:", "Intervention type:", ...) with the value after the colon or on the lines
  below, long values hard-wrapped.
* **Aggregator pages**: headings each followed by a one-sentence explainer (boilerplate, dropped),
  markdown bullets with backslash-escaped brackets, and API v2 tokens as values.

Text that fits none of them but opens with an inclusion or exclusion criteria heading is read as
a bare eligibility block and kept as it is. Values are mapped onto the API v2 spellings the other
readers produce. The eligibility block is rebuilt in the ClinicalTrials.gov shape (``Inclusion
Criteria:``, a blank line, the page's own lines, ...) with each criterion line kept as written, so
the splitter sees the page's numbering and bullets. A page without NCT ID gets the identifier the
other readers would mint (from title and org study ID) or, without those, one minted from its
summary, description and eligibility text.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from itertools import pairwise

from trialgraph.errors import InputError
from trialgraph.ingest import normalize as norm
from trialgraph.ingest.common import bare_intervention_name, decode_utf8, link_arms
from trialgraph.model import (
    Age,
    Arm,
    Condition,
    Contact,
    Identifier,
    Intervention,
    MeshTerm,
    Organization,
    Site,
    Source,
    Trial,
)

FORMAT = "registry-text"
_EXPECTED = (
    "expected registry page text with a title, an NCT ID, a summary or eligibility criteria "
    "(a ClinicalTrials.Veeva page, a page rendered from a ClinicalTrials.gov record with "
    "'Field:' lines, or an aggregator page)"
)

# Page chrome: navigation and widgets dropped wherever they appear; a footer ends the page.
_CHROME = {
    "clinicaltrials.veeva",
    "menu",
    "loading...",
    "to hear about similar clinical trials, please enter your email below",
}
_FOOTERS = {"data sourced from clinicaltrials.gov"}

_ARM_TYPES = {
    "EXPERIMENTAL",
    "ACTIVE_COMPARATOR",
    "PLACEBO_COMPARATOR",
    "SHAM_COMPARATOR",
    "NO_INTERVENTION",
    "OTHER",
}
_MONTHS = {
    name: number
    for number, month in enumerate(
        (
            "january",
            "february",
            "march",
            "april",
            "may",
            "june",
            "july",
            "august",
            "september",
            "october",
            "november",
            "december",
        ),
        1,
    )
    for name in (month, month[:3])
}
_DATE_RE = re.compile(r"^([A-Za-z]+)\.?\s+(?:(\d{1,2}),?\s+)?(\d{4})$")
_ISO_DATE_RE = re.compile(r"^\d{4}-\d{2}(?:-\d{2})?$")
_COUNT_RE = re.compile(r"^(\d[\d,]*)\b\s*(.*)$")
_PHASE_LINE_RE = re.compile(r"^(?:early\s+)?phase\b", re.IGNORECASE)
_CRITERIA_OPENING_RE = re.compile(r"^[-*•\s]*(?:key\s+)?(?:inclusion|exclusion)\s+criteri", re.IGNORECASE)
_CRITERIA_HEADING_RE = re.compile(r"^\s*(inclusion|exclusion)\s+criteria\s*:?\s*$", re.IGNORECASE)
_PHONE_RE = re.compile(r"^\+?[\d\s().-]{6,}(?:\s*(?:ext\.?|x)\s*\+?\d+)?$", re.IGNORECASE)
_MARKDOWN_ESCAPE_RE = re.compile(r"\\([\\`*_{}\[\]()#+\-.!<>|~])")
_LEADING_ACRONYM_RE = re.compile(r"^([A-Z][A-Z0-9]*(?:-[A-Z0-9]+)*):\s+\S")
_TRAILING_ACRONYM_RE = re.compile(r"\(([A-Z][A-Z0-9]*(?:-[A-Z0-9]+)*)\)$")


def read_registry_text(data: bytes, file: str) -> Iterator[Trial | InputError]:
    """Every record in the file's bytes: a Trial, or an InputError naming file and record."""
    try:
        text = decode_utf8(data, file)
    except InputError as exc:
        yield exc
        return
    lines = text.replace("\r\n", "\n").replace("\r", "\n").split("\n")
    trial = Trial(id="", source=Source(FORMAT, file, 0, norm.checksum(data)))
    parse = _detect_layout(lines)
    if parse is None:
        yield InputError(file, f"no registry page layout recognised; {_EXPECTED}")
        return
    parse(lines, trial)
    if not (trial.title or trial.nct_id or trial.eligibility_text or trial.summary):
        yield InputError(file, f"no title, NCT ID, summary or eligibility criteria found; {_EXPECTED}")
        return
    # The other readers' order: the NCT ID, the org study ID, then the rest as the page lists them.
    trial.identifiers.sort(key=lambda i: _ID_ORDER.get(i.scheme, len(_ID_ORDER)))
    trial.id = trial.nct_id or _minted_id(trial)
    yield trial


def _minted_id(trial: Trial) -> str:
    """The other readers' basis (title, org study ID), else the page's identifying prose."""
    org_study = next((i.value for i in trial.identifiers if i.scheme == "org_study_id"), None)
    if trial.title or org_study:
        return norm.minted_id(trial.title, org_study)
    return norm.minted_id(trial.summary, trial.description, trial.eligibility_text)


# --- layout detection ----------------------------------------------------------------------------

_VEEVA_MARKERS = {
    "clinicaltrials.veeva",
    "status and phase",
    "treatments",
    "funder types",
    "identifiers",
    "details and patient eligibility",
    "about",
    "full description",
    "ages",
    "volunteers",
    "trial design",
    "interventional model",
    "trial contacts and locations",
    "central trial contact",
}
_AGGREGATOR_MARKERS = {
    "basic information",
    "recruitment status",
    "clinical phase",
    "total enrollment",
    "study classification",
    "brief summary",
    "detailed description",
    "allocation method",
    "primary study purpose",
    "blinding strategy",
    "study groups",
    "eligibility criteria",
    "minimum eligible age",
    "eligible sex",
    "accepts healthy volunteers",
    "central contacts",
    "facility contacts",
    "other identifiers",
}
_LEGACY_MARKERS = (
    "trial title:",
    "nct id:",
    "overall status:",
    "study phase:",
    "study design:",
    "criteria for eligibility:",
    "intervention type:",
    "intervention name:",
    "arm group label:",
    "minimum age:",
    "healthy volunteers:",
    "lead sponsor:",
    "agency class:",
)
_MIN_MARKERS = 3
_ID_ORDER = {"nct": 0, "org_study_id": 1}
_ID_SCHEMES = {"org_study_id": "org_study_id", "secondary_id": "secondary"}

Parser = Callable[[list[str], Trial], None]


def _detect_layout(lines: list[str]) -> Parser | None:
    """The parser for the layout whose markers the page carries most (at least three)."""
    keys = {line.strip().lower() for line in lines}
    scores: list[tuple[int, Parser]] = [
        (len(keys & _VEEVA_MARKERS), _parse_veeva),
        (len(keys & _AGGREGATOR_MARKERS), _parse_aggregator),
        (sum(any(k.startswith(m) for k in keys) for m in _LEGACY_MARKERS), _parse_legacy),
    ]
    score, parser = max(scores, key=lambda pair: pair[0])
    if score >= _MIN_MARKERS:
        return parser
    first = next((line.strip() for line in _page_lines(lines) if line.strip()), "")
    if _CRITERIA_OPENING_RE.match(first):
        return _parse_criteria_only
    return None


# --- shared: sections, chrome, values ------------------------------------------------------------


@dataclass
class _Section:
    """A heading (its key and text) and the lines up to the next heading."""

    key: str
    heading: str
    lines: list[str] = field(default_factory=list)


@dataclass
class _Page:
    """A page's sections by key; a key the page lacks reads as an empty section."""

    sections: dict[str, _Section]

    def lines(self, key: str) -> list[str]:
        """The section's lines as written, blank ones included."""
        section = self.sections.get(key)
        return section.lines if section else []

    def values(self, key: str) -> list[str]:
        """The section's non-blank lines, stripped."""
        return [line.strip() for line in self.lines(key) if line.strip()]

    def first(self, key: str) -> str | None:
        """The section's first value line, if any."""
        values = self.values(key)
        return values[0] if values else None


def _page_lines(lines: list[str]) -> list[str]:
    """The lines without page chrome, up to the footer."""
    out: list[str] = []
    for line in lines:
        key = line.strip().lower()
        if key in _FOOTERS:
            break
        if key not in _CHROME:
            out.append(line)
    return out


def _sections(lines: list[str], heading_key: Callable[[str], str | None]) -> _Page:
    """Split the page at heading lines; the text before the first heading is under key ``""``.

    ``heading_key`` names a line's section or returns None for a value line; the key ``"end"``
    stops the page there. The first section of each key wins.
    """
    sections: dict[str, _Section] = {}
    current = _Section("", "")
    sections[""] = current
    for line in _page_lines(lines):
        key = heading_key(line.strip())
        if key == "end":
            break
        if key is None:
            current.lines.append(line)
            continue
        current = _Section(key, line.strip())
        sections.setdefault(key, current)
    return _Page(sections)


def _block(lines: list[str]) -> list[str]:
    """The lines with trailing spaces removed and blank lines trimmed at both ends."""
    out = [line.rstrip() for line in lines]
    while out and not out[0]:
        out.pop(0)
    while out and not out[-1]:
        out.pop()
    return out


def _paragraphs(lines: list[str]) -> str | None:
    """Lines as written, runs of blank lines made one paragraph break; None when empty."""
    paragraphs: list[list[str]] = [[]]
    for line in lines:
        if line.strip():
            paragraphs[-1].append(line.strip())
        elif paragraphs[-1]:
            paragraphs.append([])
    text = "\n\n".join("\n".join(p) for p in paragraphs if p)
    return text or None


def _eligibility(preamble: list[str], inclusion: list[str], exclusion: list[str]) -> str | None:
    """The ClinicalTrials.gov-shaped block: headings, a blank line, the page's lines as written."""
    parts: list[str] = []
    if _block(preamble):
        parts.append("\n".join(_block(preamble)))
    if _block(inclusion):
        parts.append("Inclusion Criteria:\n\n" + "\n".join(_block(inclusion)))
    if _block(exclusion):
        parts.append("Exclusion Criteria:\n\n" + "\n".join(_block(exclusion)))
    return "\n\n".join(parts) or None


def _split_criteria(lines: list[str]) -> tuple[list[str], list[str], list[str]]:
    """A block's lines before, under "Inclusion Criteria" and under "Exclusion Criteria"."""
    parts: dict[str, list[str]] = {"": [], "inclusion": [], "exclusion": []}
    kind = ""
    for line in lines:
        heading = _CRITERIA_HEADING_RE.match(line)
        if heading:
            kind = heading.group(1).lower()
        else:
            parts[kind].append(line)
    return parts[""], parts["inclusion"], parts["exclusion"]


# --- shared: value mapping -----------------------------------------------------------------------


def _design_token(text: str | None, drop_suffix: str = "") -> str | None:
    """In API v2 spelling: ``N/A`` -> ``NA``, ``Parallel Assignment`` -> ``PARALLEL``."""
    token = norm.token_or_none(text)
    if token == "N_A":
        return "NA"
    if token and drop_suffix and token.endswith(drop_suffix):
        return token[: -len(drop_suffix)]
    return token


def _masking(text: str | None) -> str | None:
    """``"None (Open label)"`` -> ``NONE``: the first word is the API v2 masking level."""
    return norm.token_or_none(text.split()[0]) if text and text.split() else None


def _study_type(text: str | None) -> str | None:
    """``"Observational [Patient Registry]"`` -> ``OBSERVATIONAL``; ``"N/A"`` -> None."""
    token = norm.token_or_none(text.split("[")[0] if text else None)
    return None if token in {None, "N_A", "NA"} else token


def _enrollment(text: str | None) -> tuple[int | None, str | None]:
    """``"112 estimated patients"`` -> ``(112, "ESTIMATED")``; ``"58 participants"`` -> ``(58, None)``."""
    match = _COUNT_RE.match(text.strip()) if text else None
    if not match:
        return None, None
    words = re.findall(r"[a-z]+", match.group(2).lower())
    kind = "ESTIMATED" if {"estimated", "anticipated"} & set(words) else None
    kind = "ACTUAL" if "actual" in words else kind
    return int(match.group(1).replace(",", "")), kind


def _healthy(text: str | None) -> bool | None:
    """``"No Healthy Volunteers"``, ``"No"`` -> False; ``"Accepts Healthy Volunteers"``, ``"Yes"`` -> True."""
    token = norm.token_or_none(text)
    if token in {"NO", "NO_HEALTHY_VOLUNTEERS"}:
        return False
    if token in {"YES", "ACCEPTS_HEALTHY_VOLUNTEERS"}:
        return True
    return None


def _date(text: str | None) -> str | None:
    """``"October 1, 2024"`` -> ``"2024-10-01"``; ISO dates as given; anything else verbatim."""
    if not text or _ISO_DATE_RE.match(text):
        return text or None
    match = _DATE_RE.match(text)
    month = _MONTHS.get(match.group(1).lower()) if match else None
    if not match or month is None:
        return text
    day = f"-{int(match.group(2)):02d}" if match.group(2) else ""
    return f"{match.group(3)}-{month:02d}{day}"


def _acronym(title: str | None) -> str | None:
    """``"CONVERT-HB1: ..."`` or ``"... (MEDCARE)"`` -> the acronym; at least two capitals."""
    if not title:
        return None
    match = _LEADING_ACRONYM_RE.match(title) or _TRAILING_ACRONYM_RE.search(title)
    if match and sum(c.isupper() for c in match.group(1)) >= 2:
        return match.group(1)
    return None


def _typed_intervention(line: str) -> Intervention:
    """``"Drug: Docetaxel"`` -> ``Intervention("Docetaxel", "DRUG")``."""
    name = bare_intervention_name(line, set())
    kind = norm.intervention_type(line.partition(":")[0]) if name != line else "OTHER"
    return Intervention(name=name, type=kind)


def _add_arm_treatments(trial: Trial, arm: Arm, lines: list[str]) -> None:
    """Link an arm to its ``"Type: Name"`` treatments, adding any the treatment list missed."""
    for line in lines:
        known = {i.name for i in trial.interventions}
        name = bare_intervention_name(line, known)
        if name not in known:
            trial.interventions.append(_typed_intervention(line))
        if name not in arm.intervention_names:
            arm.intervention_names.append(name)


def _site_status(line: str) -> str | None:
    """``"Site Status RECRUITING"`` or ``"Recruiting"`` -> ``RECRUITING``; None for other lines."""
    token = norm.status(line.removeprefix("Site Status").strip())
    return token if token in norm.STATUSES else None


def _sites(values: list[str]) -> list[Site]:
    """Sites listed as a facility line, a ``"City, State, Country"`` line and a status line."""
    sites: list[Site] = []
    current: Site | None = None
    for line in values:
        if line.isdigit():
            continue  # the count of sites the page shows beside the heading
        status = _site_status(line)
        if status is not None:
            if current is not None:
                current.status = status
            current = None
        elif current is not None and current.city is None and "," in line:
            parts = [part.strip() for part in line.split(",")]
            current.city = parts[0] or None
            current.country = parts[-1] or None
            current.state = ", ".join(p for p in parts[1:-1] if p) or None
        else:
            current = Site(facility=line)
            sites.append(current)
    return sites


def _contacts(values: list[str], role: str | None) -> list[Contact]:
    """Contacts listed as a name line followed by optional role, phone and email lines."""
    contacts: list[Contact] = []
    for line in values:
        current = contacts[-1] if contacts else None
        if current is not None and line.lower().startswith("role:"):
            current.role = line.partition(":")[2].strip() or current.role
        elif current is not None and "@" in line and " " not in line:
            current.email = line
        elif current is not None and _PHONE_RE.match(line):
            current.phone = line
        else:
            contacts.append(Contact(name=line, role=role))
    return contacts


def _age_limits(text: str | None) -> tuple[Age | None, Age | None] | None:
    """``"18 to 70 years old"``, ``"18+ years old"``, ``"Up to 17 years old"``; None if unreadable."""
    if not text:
        return None, None
    words = text.lower().removesuffix(" old").strip()
    low, sep, high = words.partition(" to ")
    if sep and low == "up":
        return None, Age.parse(high)
    if sep:
        maximum = Age.parse(high)
        minimum = Age.parse(low) or (Age.parse(f"{low} {maximum.unit}") if maximum else None)
        return (minimum, maximum) if minimum and maximum else None
    if "+" in words:
        minimum = Age.parse(words.replace("+", " "))
        return (minimum, None) if minimum else None
    return None


# --- ClinicalTrials.Veeva pages ------------------------------------------------------------------

_VEEVA_HEADINGS = {
    "status and phase": "status",
    "status": "status",
    "conditions": "conditions",
    "treatments": "treatments",
    "study type": "study_type",
    "funder types": "funder_types",
    "identifiers": "identifiers",
    "details and patient eligibility": "tab",
    "about": "summary",
    "full description": "description",
    "enrollment": "enrollment",
    "sex": "sex",
    "ages": "ages",
    "volunteers": "volunteers",
    "inclusion criteria": "inclusion",
    "exclusion criteria": "exclusion",
    "trial design": "tab",
    "primary purpose": "primary_purpose",
    "allocation": "allocation",
    "interventional model": "intervention_model",
    "masking": "masking",
    "trial contacts and locations": "sites",
    "central trial contact": "contacts",
}
_VEEVA_GROUPS_RE = re.compile(r"^(\d[\d,]*) participants? in (\d+) patient groups?$", re.IGNORECASE)


def _veeva_heading(line: str) -> str | None:
    if _VEEVA_GROUPS_RE.match(line):
        return "groups"
    return _VEEVA_HEADINGS.get(line.lower())


def _parse_veeva(lines: list[str], trial: Trial) -> None:
    """A ClinicalTrials.Veeva page: title and sponsor first, then headings with their values."""
    page = _sections(lines, _veeva_heading)
    values, first = page.values, page.first
    title, sponsor = _veeva_masthead(values(""))
    trial.brief_title, trial.acronym = title, _acronym(title)
    funder_types = values("funder_types")
    if sponsor:
        org_class = norm.token_or_none(funder_types[0]) if len(funder_types) == 1 else None
        trial.sponsor = Organization(sponsor, "lead_sponsor", org_class)
    for line in values("status"):
        if _PHASE_LINE_RE.match(line):
            trial.phases.extend(p for p in norm.phases(line) if p not in trial.phases)
        else:
            trial.overall_status = norm.status(line)
    trial.conditions = [Condition(c) for c in values("conditions")]
    trial.interventions = [_typed_intervention(line) for line in values("treatments")]
    trial.study_type = _study_type(first("study_type"))
    trial.identifiers = _veeva_identifiers(values("identifiers"))
    trial.nct_id = next((i.value for i in trial.identifiers if i.scheme == "nct"), None)
    trial.summary = _paragraphs(page.lines("summary"))
    trial.description = _paragraphs(page.lines("description"))
    trial.enrollment, trial.enrollment_type = _enrollment(first("enrollment"))
    trial.sex = norm.sex(first("sex"))
    _read_ages(first("ages"), trial)
    trial.healthy_volunteers = _healthy(first("volunteers"))
    trial.eligibility_text = _eligibility([], page.lines("inclusion"), page.lines("exclusion"))
    trial.primary_purpose = _design_token(first("primary_purpose"))
    trial.allocation = _design_token(first("allocation"))
    trial.intervention_model = _design_token(first("intervention_model"), "_ASSIGNMENT")
    trial.masking = _masking(first("masking"))
    if "groups" in page.sections:
        _veeva_groups(page.sections["groups"], trial)
    trial.sites = _sites(values("sites"))
    names = [name for line in values("contacts") for name in _veeva_contact_names(line)]
    trial.contacts = _contacts(names, "CONTACT")


def _veeva_masthead(values: list[str]) -> tuple[str | None, str | None]:
    """The title and the sponsor's name from the lines above the first heading."""
    # Under the title the page shows the sponsor's logo ("Fudan University logo") or, without
    # one, a one-letter avatar ("U"), and then the sponsor's name.
    rest = [v for v in values[1:] if len(v) > 1 and not v.lower().endswith(" logo")]
    return (values[0] if values else None), (rest[-1] if rest else None)


def _veeva_identifiers(values: list[str]) -> list[Identifier]:
    """The NCT ID, then the org study ID, then secondary IDs, in the order the page lists them."""
    ids: list[Identifier] = []
    for value in values:
        if norm.NCT_RE.fullmatch(value):
            scheme = "nct"
        elif any(i.scheme == "org_study_id" for i in ids):
            scheme = "secondary"
        else:
            scheme = "org_study_id"
        ids.append(Identifier(value, scheme))
    return ids


def _veeva_contact_names(line: str) -> list[str]:
    """``"Xiaojian Qin, MD.; Dingwei Ye, MD."`` -> two names; a ``"; MD/PhD"`` tail stays on its name."""
    names: list[str] = []
    for piece in (p.strip() for p in line.split(";")):
        if names and " " not in piece:
            names[-1] += f"; {piece}"
        elif piece:
            names.append(piece)
    return names


def _veeva_groups(section: _Section, trial: Trial) -> None:
    """The "N participants in K patient groups" block: label, "<Type> group", description, treatments."""
    heading = _VEEVA_GROUPS_RE.match(section.heading)
    if heading and trial.enrollment is None:
        trial.enrollment = int(heading.group(1).replace(",", ""))
    values = [line.strip() for line in section.lines if line.strip()]
    # A group starts at the line above its "<Type> group" line.
    starts = [i for i in range(len(values) - 1) if _veeva_arm_type(values[i + 1])]
    for start, end in pairwise([*starts, len(values)]):
        arm = Arm(label=values[start], type=_veeva_arm_type(values[start + 1]))
        description: list[str] = []
        treatments: list[str] = []
        target = description
        for line in values[start + 2 : end]:
            label, _, inline = line.partition(":")
            if label.lower() in {"description", "treatment", "treatments"}:
                target = description if label.lower() == "description" else treatments
                line = inline.strip()
            if line:
                target.append(line)
        arm.description = "\n".join(description) or None
        _add_arm_treatments(trial, arm, treatments)
        trial.arms.append(arm)
    link_arms(trial.arms, trial.interventions)
    if heading and int(heading.group(2)) != len(trial.arms):
        trial.warnings.append(
            f"the page announces {heading.group(2)} patient groups but lists {len(trial.arms)}"
        )


def _veeva_arm_type(line: str) -> str | None:
    """``"Active Comparator group"`` -> ``ACTIVE_COMPARATOR``; None for other lines."""
    if not line.lower().endswith(" group"):
        return None
    token = norm.token_or_none(line[: -len(" group")])
    return token if token in _ARM_TYPES else None


def _read_ages(text: str | None, trial: Trial) -> None:
    limits = _age_limits(text)
    if limits is None:
        trial.warnings.append(f"cannot read the ages {text!r}")
    else:
        trial.minimum_age, trial.maximum_age = limits


# --- aggregator pages ----------------------------------------------------------------------------

_AGGREGATOR_HEADINGS = {
    "study results": "ignore",
    "basic information": "tab",
    "recruitment status": "status",
    "clinical phase": "phase",
    "total enrollment": "enrollment",
    "study classification": "study_type",
    "study start date": "start_date",
    "primary completion date": "primary_completion_date",
    "study completion date": "completion_date",
    "brief summary": "summary",
    "detailed description": "description",
    "conditions": "conditions",
    "keywords": "keywords",
    "study design": "tab",
    "allocation method": "allocation",
    "intervention model": "intervention_model",
    "primary study purpose": "primary_purpose",
    "blinding strategy": "masking",
    "study groups": "arms",
    "interventions": "interventions",
    "eligibility criteria": "tab",
    "inclusion criteria": "inclusion",
    "exclusion criteria": "exclusion",
    "minimum eligible age": "minimum_age",
    "maximum eligible age": "maximum_age",
    "eligible sex": "sex",
    "accepts healthy volunteers": "healthy_volunteers",
    "sponsors": "sponsors",
    "responsible party": "ignore",
    "locations": "sites",
    "countries": "ignore",
    "central contacts": "contacts",
    "facility contacts": "ignore",
    "other identifiers": "identifiers",
    "more related trials": "end",  # other trials' titles and NCT IDs follow
}
# The explainer under a section heading is an imperative sentence: "Get a concise snapshot ...".
_EXPLAINER_VERBS = {
    "get",
    "review",
    "dive",
    "see",
    "understand",
    "learn",
    "check",
    "meet",
    "identify",
    "explore",
    "reach",
    "find",
    "additional",
}
_TYPE_LINE_RE = re.compile(r"^(Group|Intervention) Type\s+(\S.*)$")


def _parse_aggregator(lines: list[str], trial: Trial) -> None:
    """An aggregator page: title, "NCT ID:" line, then explained sections with token values."""
    text = _MARKDOWN_ESCAPE_RE.sub(r"\1", "\n".join(lines))
    page = _sections(text.split("\n"), lambda line: _AGGREGATOR_HEADINGS.get(line.lower()))
    for section in page.sections.values():
        _drop_explainer(section)
    values, first = page.values, page.first

    _aggregator_preamble(values(""), trial)
    trial.overall_status = norm.status(first("status"))
    trial.phases = norm.phases(first("phase"))
    trial.enrollment, trial.enrollment_type = _enrollment(first("enrollment"))
    trial.study_type = _study_type(first("study_type"))
    trial.start_date = _date(first("start_date"))
    trial.primary_completion_date = _date(first("primary_completion_date"))
    trial.completion_date = _date(first("completion_date"))
    trial.summary = _paragraphs(page.lines("summary"))
    trial.description = _paragraphs(page.lines("description"))
    trial.conditions = [Condition(c) for c in values("conditions")]
    trial.keywords = values("keywords")
    trial.allocation = _design_token(first("allocation"))
    trial.intervention_model = _design_token(first("intervention_model"))
    trial.primary_purpose = _design_token(first("primary_purpose"))
    trial.masking = _masking(first("masking"))
    trial.interventions = _aggregator_interventions(values("interventions"))
    trial.arms = _aggregator_arms(values("arms"), trial.interventions)
    link_arms(trial.arms, trial.interventions)
    trial.eligibility_text = _eligibility([], page.lines("inclusion"), page.lines("exclusion"))
    trial.minimum_age = Age.parse(first("minimum_age"))
    trial.maximum_age = Age.parse(first("maximum_age"))
    trial.sex = norm.sex(first("sex"))
    trial.healthy_volunteers = _healthy(first("healthy_volunteers"))
    _aggregator_sponsors(values("sponsors"), trial)
    trial.sites = _sites(values("sites"))
    trial.contacts = _contacts(values("contacts"), None)
    trial.identifiers.extend(_aggregator_identifiers(values("identifiers")))


def _drop_explainer(section: _Section) -> None:
    """Remove the boilerplate sentence the page puts under a section heading."""
    for i, line in enumerate(section.lines):
        sentence = line.strip()
        if not sentence:
            continue
        one_sentence = sentence.endswith(".") and ". " not in sentence
        if one_sentence and sentence.split()[0].lower() in _EXPLAINER_VERBS:
            del section.lines[i]
        return


def _aggregator_preamble(values: list[str], trial: Trial) -> None:
    """The title line and the ``"NCT ID: ..."`` and ``"Last Updated: ..."`` lines above the sections."""
    for line in values:
        label, _, value = line.partition(":")
        if label.lower() == "nct id" and norm.NCT_RE.fullmatch(value.strip()):
            trial.nct_id = value.strip()
            trial.identifiers.insert(0, Identifier(trial.nct_id, "nct"))
        elif label.lower() == "last updated":
            trial.last_update_posted = _date(value.strip())
        elif trial.brief_title is None:
            trial.brief_title = line
            trial.acronym = _acronym(line)


def _aggregator_interventions(values: list[str]) -> list[Intervention]:
    """Interventions listed as a name line, description lines and an "Intervention Type X" line."""
    interventions: list[Intervention] = []
    entry: list[str] = []
    for line in values:
        type_line = _TYPE_LINE_RE.match(line)
        if type_line is None:
            entry.append(line)
        elif entry:
            description = "\n\n".join(entry[1:]) or None
            kind = norm.intervention_type(type_line.group(2))
            interventions.append(Intervention(entry[0], kind, description))
            entry = []
    if entry:  # the last one lacks its type line
        interventions.append(Intervention(entry[0], description="\n\n".join(entry[1:]) or None))
    return interventions


def _aggregator_arms(values: list[str], interventions: list[Intervention]) -> list[Arm]:
    """Groups listed as label, description, "Group Type X", then each intervention they give.

    Each intervention is repeated under the group (name, "Intervention Type X", description), so
    the Interventions section tells which lines after a group belong to it; a line that is none of
    those starts the next group.
    """
    by_name = {i.name: i for i in interventions}
    arms: list[Arm] = []
    pending: list[str] = []  # label and description of the group being read
    current: Arm | None = None
    known_lines: set[str] = set()  # description lines of the intervention just named
    for i, line in enumerate(values):
        type_line = _TYPE_LINE_RE.match(line)
        if type_line and type_line.group(1) == "Group":
            if pending:
                current = Arm(pending[0], norm.token_or_none(type_line.group(2)))
                current.description = "\n\n".join(pending[1:]) or None
                arms.append(current)
            pending = []
            continue
        next_is_type = i + 1 < len(values) and values[i + 1].startswith("Intervention Type")
        if current is not None and (line in by_name or next_is_type):
            if line not in by_name:
                by_name[line] = Intervention(line)
                interventions.append(by_name[line])
            current.intervention_names.append(line)
            known_lines = set((by_name[line].description or "").split("\n\n"))
        elif current is not None and (type_line or line in known_lines):
            if type_line and current.intervention_names:
                last = by_name[current.intervention_names[-1]]
                last.type = norm.intervention_type(type_line.group(2))
        else:
            current = None
            pending.append(line)
    return arms


def _aggregator_sponsors(values: list[str], trial: Trial) -> None:
    """Sponsors listed as name, class and a "Sponsor Role lead|collaborator" line."""
    entry: list[str] = []
    for line in values:
        if not line.startswith("Sponsor Role"):
            entry.append(line)
            continue
        role = line.removeprefix("Sponsor Role").strip().lower()
        if entry:
            org_class = norm.token_or_none(entry[1]) if len(entry) > 1 else None
            if role == "lead" and trial.sponsor is None:
                trial.sponsor = Organization(entry[0], "lead_sponsor", org_class)
            else:
                trial.collaborators.append(Organization(entry[0], "collaborator", org_class))
        entry = []


def _aggregator_identifiers(values: list[str]) -> list[Identifier]:
    """Identifiers listed as value, "Identifier Type: X" and "Identifier Source: org_study_id|..."."""
    ids: list[Identifier] = []
    for line in values:
        label, _, value = line.partition(":")
        value = value.strip()
        if not ids or not label.startswith("Identifier "):
            ids.append(Identifier(line, "secondary"))
        elif label == "Identifier Type" and value not in {"", "-"}:
            ids[-1] = Identifier(ids[-1].value, ids[-1].scheme, value)
        elif label == "Identifier Source" and value:
            ids[-1] = Identifier(ids[-1].value, _ID_SCHEMES.get(value, value), ids[-1].description)
    return ids


# --- pages rendered from a legacy ClinicalTrials.gov record ---------------------------------------

_LEGACY_LABELS = {
    "trial title": "brief_title",
    "brief title": "brief_title",
    "official title": "official_title",
    "acronym": "acronym",
    "nct id": "nct_id",
    "org study id": "org_study_id",
    "secondary id": "secondary_id",
    "condition": "conditions",
    "conditions": "conditions",
    "conditions: official terms": "condition_mesh",
    "interventions: official terms": "intervention_mesh",
    "keyword": "keywords",
    "keywords": "keywords",
    "study type": "study_type",
    "study phase": "phase",
    "phase": "phase",
    "overall status": "status",
    "study design": "block",
    "allocation": "allocation",
    "intervention model": "intervention_model",
    "primary purpose": "primary_purpose",
    "masking": "masking",
    "enrollment": "enrollment",
    "intervention": "intervention",
    "intervention type": "intervention_type",
    "intervention name": "intervention_name",
    "other name": "other_name",
    "arm group": "arm",
    "arm group label": "arm_label",
    "arm group type": "arm_type",
    "description": "item_description",
    "summary": "summary",
    "brief summary": "summary",
    "detailed description": "description",
    "criteria for eligibility": "block",
    "criteria": "criteria",
    "gender": "sex",
    "sex": "sex",
    "minimum age": "minimum_age",
    "maximum age": "maximum_age",
    "healthy volunteers": "healthy_volunteers",
    "start date": "start_date",
    "primary completion date": "primary_completion_date",
    "completion date": "completion_date",
    "first posted": "first_posted",
    "last update posted": "last_update_posted",
    "lead sponsor": "lead_sponsor",
    "collaborator": "collaborator",
    "agency": "agency",
    "agency class": "agency_class",
    "location": "location",
    "facility": "facility",
    "name": "name",
    "city": "city",
    "state": "state",
    "country": "country",
    "status": "site_status",
    "overall contact": "contact",
    "last name": "name",
    "phone": "phone",
    "email": "email",
    "source": "ignore",
    "record processing date": "ignore",
    "source: clinicaltrials.gov page": "ignore",
}
# Longest first, so "Conditions: Official terms:" is not read as "Conditions:" with a value.
_LEGACY_LABEL_ORDER = sorted(_LEGACY_LABELS, key=len, reverse=True)
# Inside these fields a one-word label ends the text only when it is alone on its line: a
# criterion may well start "Condition: ..." or "Status: ...". Multi-word labels ("Arm group label:",
# "Minimum age:") and "Gender:" end it even with their value on the same line.
_FREE_TEXT = {"criteria", "summary", "description", "item_description"}


@dataclass
class _Field:
    """One ``Label:`` field: its key and its value lines (the text after the colon first)."""

    key: str
    lines: list[str] = field(default_factory=list)

    @property
    def values(self) -> list[str]:
        """The non-blank lines, stripped."""
        return [line.strip() for line in self.lines if line.strip()]

    @property
    def text(self) -> str | None:
        """The value as one line."""
        return " ".join(self.values) or None


def _legacy_fields(lines: list[str]) -> list[_Field]:
    """The page's ``Label:`` fields in order; lines before the first label are dropped."""
    fields: list[_Field] = []
    for line in _page_lines(lines):
        stripped = line.strip()
        lowered = stripped.lower()
        label = next((lb for lb in _LEGACY_LABEL_ORDER if lowered.startswith(lb + ":")), None)
        inline = stripped[len(label) + 1 :].strip() if label else ""
        in_free_text = bool(fields) and fields[-1].key in _FREE_TEXT
        weak = label is not None and " " not in label and label != "gender"
        if label is None or (in_free_text and inline and weak):
            if fields:
                fields[-1].lines.append(line)
            continue
        fields.append(_Field(_LEGACY_LABELS[label], [inline] if inline else []))
    return fields


_SITE_FIELDS = {
    "facility": "facility",
    "name": "facility",
    "city": "city",
    "state": "state",
    "country": "country",
    "site_status": "status",
}
_DATE_FIELDS = {
    "start_date",
    "primary_completion_date",
    "completion_date",
    "first_posted",
    "last_update_posted",
}


@dataclass
class _OrgDraft:
    """A sponsor block being read: ``Organization`` is frozen, so its fields gather here first."""

    role: str
    name: str | None = None
    org_class: str | None = None


@dataclass
class _LegacyState:
    """The block (intervention, arm, sponsor, location, contact) the fields below belong to."""

    block: str = ""
    intervention: Intervention | None = None
    intervention_fields: set[str] = field(default_factory=set)  # the type and name it has
    arm: Arm | None = None
    orgs: list[_OrgDraft] = field(default_factory=list)
    site: Site | None = None
    contact: Contact | None = None


def _parse_legacy(lines: list[str], trial: Trial) -> None:
    """A page of ``Label:`` fields rendered from a legacy ClinicalTrials.gov record."""
    state = _LegacyState()
    for item in _legacy_fields(lines):
        if not _legacy_block_field(item, trial, state):
            state.block = ""
            _legacy_trial_field(item, trial)
    for draft in (d for d in state.orgs if d.name):
        org_class = norm.token_or_none(draft.org_class)
        if draft.role == "lead_sponsor" and trial.sponsor is None:
            trial.sponsor = Organization(draft.name or "", draft.role, org_class)
        else:
            trial.collaborators.append(Organization(draft.name or "", "collaborator", org_class))
    trial.interventions = [i for i in trial.interventions if i.name]
    trial.arms = [arm for arm in trial.arms if arm.label]
    for intervention in trial.interventions:
        for label in intervention.arm_labels:
            if all(arm.label != label for arm in trial.arms):
                trial.arms.append(Arm(label))
    link_arms(trial.arms, trial.interventions)
    if trial.nct_id:
        trial.identifiers.insert(0, Identifier(trial.nct_id, "nct"))


def _legacy_trial_field(item: _Field, trial: Trial) -> None:
    """A field of the trial itself."""
    key, text = item.key, item.text
    if key in {"brief_title", "official_title", "acronym"}:
        setattr(trial, key, text)
        if key != "acronym" and trial.acronym is None:
            trial.acronym = _acronym(text)
    elif key == "nct_id":
        trial.nct_id = text if text and norm.NCT_RE.fullmatch(text) else trial.nct_id
    elif key in _ID_SCHEMES and text:
        trial.identifiers.append(Identifier(text, _ID_SCHEMES[key]))
    elif key == "conditions":
        trial.conditions.extend(Condition(v) for v in item.values)
    elif key in {"condition_mesh", "intervention_mesh"}:
        getattr(trial, key).extend(MeshTerm("", v) for v in item.values)
    elif key == "keywords":
        trial.keywords.extend(item.values)
    elif key == "study_type":
        trial.study_type = _study_type(text)
    elif key == "phase":
        trial.phases = norm.phases(text)
    elif key == "status":
        trial.overall_status = norm.status(text)
    elif key in {"allocation", "primary_purpose"}:
        setattr(trial, key, _design_token(text))
    elif key == "intervention_model":
        trial.intervention_model = _design_token(text, "_ASSIGNMENT")
    elif key == "masking":
        trial.masking = _masking(text)
    elif key == "enrollment":
        trial.enrollment, trial.enrollment_type = _enrollment(text)
    elif key in {"summary", "description"}:
        setattr(trial, key, _unwrap(item.lines))
    elif key == "criteria":
        trial.eligibility_text = _eligibility(*_split_criteria(item.lines))
    elif key == "sex":
        trial.sex = norm.sex(text)
    elif key in {"minimum_age", "maximum_age"}:
        setattr(trial, key, Age.parse(text))
    elif key == "healthy_volunteers":
        trial.healthy_volunteers = _healthy(text)
    elif key in _DATE_FIELDS:
        setattr(trial, key, _date(text))


def _legacy_block_field(item: _Field, trial: Trial, state: _LegacyState) -> bool:
    """Apply a field that opens or belongs to a block; False when it is a trial-level field."""
    key, text = item.key, item.text
    if key in {"intervention", "intervention_type", "intervention_name"}:
        current = state.intervention if state.block == "intervention" else None
        # A second "Intervention type:" or "Intervention name:" starts the next intervention.
        if key == "intervention" or current is None or key in state.intervention_fields:
            current = state.intervention = Intervention(name="")
            trial.interventions.append(current)
            state.intervention_fields = set()
        state.block = "intervention"
        state.intervention_fields.add(key)
        if key == "intervention_type":
            current.type = norm.intervention_type(text)
        elif key == "intervention_name":
            current.name = text or ""
        return True
    if key == "arm" or (key == "arm_label" and state.block != "intervention"):
        # "Arm group label:" opens a new arm unless it names the one "Arm group:" just opened.
        if key == "arm" or state.block != "arm" or state.arm is None or state.arm.label:
            state.arm = Arm(label="")
            trial.arms.append(state.arm)
        state.block = "arm"
        if key == "arm_label":
            state.arm.label = text or ""
        return True
    if key in {"lead_sponsor", "collaborator"}:
        state.block = "org"
        state.orgs.append(_OrgDraft(key))
        return True
    if key == "location":
        state.block, state.site = "location", Site()
        trial.sites.append(state.site)
        return True
    if key == "contact":
        state.block, state.contact = "contact", Contact(role="CONTACT")
        trial.contacts.append(state.contact)
        return True
    return _legacy_in_block(item, state)


def _legacy_in_block(item: _Field, state: _LegacyState) -> bool:
    """A field inside the open block (description, arm label, agency, city, phone, ...)."""
    key, text = item.key, item.text
    if state.block == "intervention" and state.intervention is not None:
        if key == "arm_label" and text:
            state.intervention.arm_labels.append(text)
        elif key == "other_name" and text:
            state.intervention.other_names.append(text)
        elif key == "item_description":
            state.intervention.description = _unwrap(item.lines)
        else:
            return False
        return True
    if state.block == "arm" and state.arm is not None and key in {"arm_type", "item_description"}:
        if key == "arm_type":
            state.arm.type = norm.token_or_none(text)
        else:
            state.arm.description = _unwrap(item.lines)
        return True
    if state.block == "org" and key in {"agency", "agency_class"}:
        setattr(state.orgs[-1], "name" if key == "agency" else "org_class", text)
        return True
    if state.block == "location" and state.site is not None and key in _SITE_FIELDS:
        value = norm.status(text) if key == "site_status" else text
        setattr(state.site, _SITE_FIELDS[key], value)
        return True
    if state.block == "contact" and state.contact is not None and key in {"name", "phone", "email"}:
        setattr(state.contact, key, text)
        return True
    return False


def _unwrap(lines: list[str]) -> str | None:
    """Undo hard wrapping: join lines into paragraphs, keeping breaks the wrapper did not make.

    A break is real when the line before ends a sentence and the next line's first word would
    have fitted on it within the block's width (the longest line).
    """
    block = [line.strip() for line in lines if line.strip()]
    if not block:
        return None
    width = max(len(line) for line in block)
    paragraphs = [block[0]]
    previous = block[0]
    for line in block[1:]:
        fits = len(previous) + 1 + len(line.split()[0]) <= width
        if fits and previous.endswith((".", "!", "?", ":")):
            paragraphs.append(line)
        else:
            paragraphs[-1] += " " + line
        previous = line
    return "\n\n".join(paragraphs)


# --- bare eligibility text -----------------------------------------------------------------------


def _parse_criteria_only(lines: list[str], trial: Trial) -> None:
    """Text that is only an eligibility block, already in its own shape: kept as it is.

    No NCT ID is taken from it: one named inside criteria is usually another trial's.
    """
    trial.eligibility_text = "\n".join(_block(_page_lines(lines))) or None
