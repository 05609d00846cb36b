"""Reader for legacy ClinicalTrials.gov <clinical_study> XML.

The XML is parsed with defusedxml with document type declarations refused, so external entities,
entity expansion ("billion laughs") and DTD fetching are all impossible. A file holds one
``<clinical_study>`` or a wrapper element holding several; records are named by their 0-based
position in the file. Values are mapped onto the API v2 spellings the JSON reader produces:
``"Parallel Assignment"`` -> ``PARALLEL``, ``"Double (Participant, Investigator)"`` -> ``DOUBLE``,
``"August 2008"`` -> ``2008-08``. The legacy XML carries no MeSH descriptor IDs, so its
``MeshTerm.id`` is the empty string.
"""

from __future__ import annotations

import io
import re
import textwrap
from collections.abc import Iterator
from xml.etree.ElementTree import Element, ParseError, tostring

import defusedxml.ElementTree as safe_et
from defusedxml import DTDForbidden, EntitiesForbidden, ExternalReferenceForbidden

from trialgraph.errors import InputError
from trialgraph.ingest import normalize as norm
from trialgraph.ingest.common import decode_utf8, link_arms
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

FORMAT = "ctgov-xml"
_RECORD_TAG = "clinical_study"
_MONTH_NAMES = (
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
)
_MONTHS = {name: n for n, full in enumerate(_MONTH_NAMES, 1) for name in (full, full[:3])}
_DATE_RE = re.compile(r"^([A-Za-z]+)\.?\s+(?:(\d{1,2}),?\s+)?(\d{4})$")
_ENCODING_RE = re.compile(rb"""^\s*<\?xml[^>]*\bencoding\s*=\s*["']([A-Za-z0-9._-]+)["']""")
_LIST_ITEM_RE = re.compile(r"^(?:[-*•·o]\s|\d{1,3}[.)]\s|\(?[A-Za-z0-9]{1,3}\)\s)")
_HEALTHY = {"ACCEPTS_HEALTHY_VOLUNTEERS": True, "YES": True, "NO": False}
_ENROLLMENT_TYPES = {"ANTICIPATED": "ESTIMATED"}
_AGENCY_CLASSES = {"U_S_FED": "FED"}


def read_ctgov_xml(data: bytes, file: str) -> Iterator[Trial | InputError]:
    """Every record in the file's bytes: a Trial, or an InputError naming file and record."""
    if not data.strip():
        yield InputError(file, f"the file is empty; expected a <{_RECORD_TAG}> record")
        return
    try:
        _check_utf8(data, file)
    except InputError as exc:
        yield exc
        return
    index = 0
    in_record = False
    root_tag: str | None = None
    events = iter(safe_et.iterparse(io.BytesIO(data), events=("start", "end"), forbid_dtd=True))
    while True:
        try:  # only the parser's errors: a record's own are _record's to report
            event, elem = next(events)
        except StopIteration:
            break
        except (DTDForbidden, EntitiesForbidden, ExternalReferenceForbidden, ParseError) as exc:
            yield InputError(file, _parse_message(exc), index if in_record or index else None)
            return
        except (LookupError, ValueError) as exc:  # the declared encoding: unknown, not text, multi-byte
            declared = _ENCODING_RE.match(data[:200])
            name = declared.group(1).decode("ascii") if declared else "?"
            yield InputError(
                file,
                f"the declared encoding {name!r} cannot be read ({exc}); expected UTF-8, UTF-16 "
                "or a single-byte encoding such as ISO-8859-1",
            )
            return
        if event == "start":
            root_tag = root_tag or elem.tag
            in_record = in_record or elem.tag == _RECORD_TAG
        elif elem.tag == _RECORD_TAG:
            yield _record(elem, index, file)
            elem.clear()  # a wrapper file may hold thousands of studies
            index += 1
            in_record = False
    if index == 0:
        yield InputError(
            file,
            f"the root element is <{root_tag}> and holds no <{_RECORD_TAG}>; "
            "expected a legacy ClinicalTrials.gov <clinical_study> record",
        )


def _check_utf8(data: bytes, file: str) -> None:
    """Bytes declared (or defaulting to) UTF-8 must be UTF-8: say where they are not."""
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        return  # a UTF-16 byte order mark: the XML parser decodes it
    declared = _ENCODING_RE.match(data[:200])
    if declared and declared.group(1).lower().replace(b"_", b"-") not in (b"utf-8", b"utf8"):
        return  # another declared encoding: the XML parser decodes it
    decode_utf8(data, file)


def _parse_message(exc: Exception) -> str:
    """Say what the parser refused and why, in words."""
    if isinstance(exc, DTDForbidden):
        return (
            "a document type declaration (<!DOCTYPE>) is refused: DTDs can declare entities "
            "that read local files or expand without bound; expected plain <clinical_study> XML"
        )
    if isinstance(exc, EntitiesForbidden):
        return "entity declarations are refused (entity expansion); expected plain XML"
    if isinstance(exc, ExternalReferenceForbidden):
        return "external references are refused; expected self-contained XML"
    line, column = getattr(exc, "position", (0, 0))
    reason = str(exc).split(":")[0]
    if reason in {"no element found", "unclosed token"}:
        return (
            f"truncated XML: the document ends at line {line}, column {column} before the "
            f"elements are closed ({reason}); expected a complete <clinical_study> record"
        )
    return f"invalid XML at line {line}, column {column}: {reason}; expected well-formed XML"


# --- one record --------------------------------------------------------------------------------


def _record(elem: Element, index: int, file: str) -> Trial | InputError:
    """One ``<clinical_study>`` as a Trial, or the InputError that says why it is not one."""
    nct_id = _text(elem, "id_info/nct_id")
    brief, official = _text(elem, "brief_title"), _text(elem, "official_title")
    if not nct_id and not (brief or official):
        return InputError(file, "expected id_info/nct_id or a title", index)
    tail, elem.tail = elem.tail, None  # the text after the end tag is not part of the record
    try:
        record_bytes = tostring(elem, encoding="utf-8")
    except RecursionError:  # serialising recurses once per level of nesting
        return InputError(file, "the record is nested too deeply to read", index)
    finally:
        elem.tail = tail
    source = Source(FORMAT, file, index, norm.checksum(record_bytes))
    org_study = _text(elem, "id_info/org_study_id")
    warnings: list[str] = []
    trial = Trial(
        id=nct_id or norm.minted_id(brief or official, org_study),
        source=source,
        nct_id=nct_id,
        identifiers=_identifiers(elem, nct_id, org_study),
        acronym=_text(elem, "acronym"),
        brief_title=brief,
        official_title=official,
        overall_status=norm.status(_text(elem, "overall_status")),
        phases=norm.phases(_text(elem, "phase")),
        study_type=_study_type(_text(elem, "study_type")),
        start_date=_iso_date(_text(elem, "start_date")),
        primary_completion_date=_iso_date(_text(elem, "primary_completion_date")),
        completion_date=_iso_date(_text(elem, "completion_date")),
        first_posted=_iso_date(_text(elem, "study_first_posted")),
        last_update_posted=_iso_date(_text(elem, "last_update_posted")),
        sponsor=_organization(elem.find("sponsors/lead_sponsor"), "lead_sponsor"),
        collaborators=_collaborators(elem),
        summary=_reflow(_raw_text(elem, "brief_summary/textblock")),
        description=_reflow(_raw_text(elem, "detailed_description/textblock")),
        conditions=[Condition(c) for c in _texts(elem, "condition")],
        keywords=_texts(elem, "keyword"),
        condition_mesh=[MeshTerm("", t) for t in _texts(elem, "condition_browse/mesh_term")],
        intervention_mesh=[MeshTerm("", t) for t in _texts(elem, "intervention_browse/mesh_term")],
        eligibility_text=_verbatim_block(_raw_text(elem, "eligibility/criteria/textblock")),
        sex=norm.sex(_text(elem, "eligibility/gender")),
        sites=[_site(loc) for loc in elem.findall("location")],
        contacts=_contacts(elem),
        warnings=warnings,
    )
    if nct_id and not norm.NCT_RE.fullmatch(nct_id):
        warnings.append(f"nct_id {nct_id!r} is not NCT followed by 8 digits")
    _read_design(elem, trial, warnings)
    _read_arms(elem, trial)
    _read_eligibility_limits(elem, trial, warnings)
    return trial


def _identifiers(elem: Element, nct_id: str | None, org_study: str | None) -> list[Identifier]:
    ids = [Identifier(nct_id, "nct")] if nct_id else []
    if org_study:
        ids.append(Identifier(org_study, "org_study_id"))
    ids.extend(Identifier(v, "secondary") for v in _texts(elem, "id_info/secondary_id"))
    ids.extend(Identifier(v, "nct_alias") for v in _texts(elem, "id_info/nct_alias"))
    return ids


def _organization(elem: Element | None, role: str) -> Organization | None:
    name = _text(elem, "agency")
    if elem is None or not name:
        return None
    token = norm.token_or_none(_text(elem, "agency_class"))
    return Organization(name, role, _AGENCY_CLASSES.get(token or "", token))


def _collaborators(elem: Element) -> list[Organization]:
    orgs = (_organization(c, "collaborator") for c in elem.findall("sponsors/collaborator"))
    return [org for org in orgs if org]


def _read_design(elem: Element, trial: Trial, warnings: list[str]) -> None:
    design = "study_design_info/"
    trial.allocation = _design_token(_text(elem, design + "allocation"))
    trial.intervention_model = _design_token(
        _text(elem, design + "intervention_model"), drop_suffix="_ASSIGNMENT"
    )
    trial.primary_purpose = _design_token(_text(elem, design + "primary_purpose"))
    masking = _text(elem, design + "masking")
    # "Double (Participant, Investigator)": the first word is the API v2 masking level.
    trial.masking = _design_token(masking.split()[0] if masking else None)
    enrollment = elem.find("enrollment")
    if enrollment is not None:
        count = (enrollment.text or "").strip()
        if count.isascii() and count.isdigit():
            trial.enrollment = int(count)
        elif count:
            warnings.append(f"enrollment {count!r} is not a whole number; ignored")
        kind = norm.token_or_none(enrollment.get("type"))
        trial.enrollment_type = _ENROLLMENT_TYPES.get(kind or "", kind)


def _read_arms(elem: Element, trial: Trial) -> None:
    for group in elem.findall("arm_group"):
        label = _text(group, "arm_group_label")
        if label:
            trial.arms.append(
                Arm(
                    label=label,
                    type=norm.token_or_none(_text(group, "arm_group_type")),
                    description=_verbatim_block(_raw_text(group, "description")),
                )
            )
    for item in elem.findall("intervention"):
        name = _text(item, "intervention_name")
        if name:
            trial.interventions.append(
                Intervention(
                    name=name,
                    type=norm.intervention_type(_text(item, "intervention_type")),
                    description=_verbatim_block(_raw_text(item, "description")),
                    other_names=_texts(item, "other_name"),
                    arm_labels=_texts(item, "arm_group_label"),
                )
            )
    link_arms(trial.arms, trial.interventions)


def _read_eligibility_limits(elem: Element, trial: Trial, warnings: list[str]) -> None:
    for tag in ("minimum_age", "maximum_age"):
        text = _text(elem, f"eligibility/{tag}")
        age = Age.parse(text)
        if text and age is None and norm.enum_token(text) not in {"N_A", "NA", "NONE"}:
            warnings.append(f"eligibility/{tag}: cannot read the age {text!r}")
        setattr(trial, tag, age)
    healthy = _text(elem, "eligibility/healthy_volunteers")
    if healthy:
        trial.healthy_volunteers = _HEALTHY.get(norm.enum_token(healthy))
        if trial.healthy_volunteers is None:
            warnings.append(f"eligibility/healthy_volunteers {healthy!r} is not Yes or No")


def _site(loc: Element) -> Site:
    return Site(
        facility=_text(loc, "facility/name"),
        city=_text(loc, "facility/address/city"),
        state=_text(loc, "facility/address/state"),
        country=_text(loc, "facility/address/country"),
        status=norm.status(_text(loc, "status")),
    )


def _contacts(elem: Element) -> list[Contact]:
    out: list[Contact] = []
    for person in [*elem.findall("overall_contact"), *elem.findall("overall_contact_backup")]:
        phone, ext = _text(person, "phone"), _text(person, "phone_ext")
        out.append(
            Contact(
                # the legacy XML puts the whole name, degrees included, in <last_name>
                name=_text(person, "last_name"),
                role="CONTACT",
                phone=f"{phone} ext. {ext}" if phone and ext else phone,
                email=_text(person, "email"),
            )
        )
    return out


# --- value mapping -----------------------------------------------------------------------------


def _study_type(text: str | None) -> str | None:
    """``"Observational [Patient Registry]"`` -> ``OBSERVATIONAL``; ``"N/A"`` -> ``None``."""
    token = norm.token_or_none(text.split("[")[0] if text else None)
    return None if token in {None, "N_A", "NA"} else token


def _design_token(text: str | None, drop_suffix: str = "") -> str | None:
    """In API v2 spelling: ``N/A`` -> ``NA``, ``Parallel Assignment`` -> ``PARALLEL``."""
    token = norm.token_or_none(text)
    if token is None:
        return None
    if token == "N_A":
        return "NA"
    if drop_suffix and token.endswith(drop_suffix):
        return token[: -len(drop_suffix)]
    return token


def _iso_date(text: str | None) -> str | None:
    """``"August 2008"`` -> ``"2008-08"``, ``"June 1, 2022"`` -> ``"2022-06-01"``; else as given."""
    if not text:
        return None
    m = _DATE_RE.match(text)
    month = _MONTHS.get(m.group(1).lower()) if m else None
    if not m or month is None:
        return text
    day = f"-{int(m.group(2)):02d}" if m.group(2) else ""
    return f"{m.group(3)}-{month:02d}{day}"


# --- text access -------------------------------------------------------------------------------


def _raw_text(elem: Element, path: str) -> str | None:
    """The element's text with line ends made ``\\n`` (the TREC files carry ``&#xD;``)."""
    found = elem.find(path)
    if found is None or found.text is None:
        return None
    return found.text.replace("\r\n", "\n").replace("\r", "\n")


def _text(elem: Element | None, path: str) -> str | None:
    """A short field's text with its whitespace runs made single spaces; ``None`` when empty."""
    found = elem.find(path) if elem is not None else None
    if found is None or found.text is None:
        return None
    return " ".join(found.text.split()) or None


def _texts(elem: Element, path: str) -> list[str]:
    values = (" ".join((e.text or "").split()) for e in elem.findall(path))
    return [v for v in values if v]


def _verbatim_block(text: str | None) -> str | None:
    """The block's lines as written, minus the indentation the XML layout added to all of them."""
    if text is None or not text.strip():
        return None
    lines = textwrap.dedent(text).split("\n")  # not splitlines(): it also splits on U+2028
    return "\n".join(line.rstrip() for line in lines).strip("\n")


def _reflow(text: str | None) -> str | None:
    """Undo the XML's hard wrapping: one line per paragraph or list item, blank lines between."""
    block = _verbatim_block(text)
    if block is None:
        return None
    paragraphs: list[list[str]] = []
    current: list[str] = []
    for line in block.split("\n"):
        stripped = line.strip()
        if not stripped:
            if current:
                paragraphs.append(current)
            current = []
        elif current and not _LIST_ITEM_RE.match(stripped):
            current[-1] += " " + stripped
        else:
            current.append(stripped)
    if current:
        paragraphs.append(current)
    return "\n\n".join("\n".join(p) for p in paragraphs)
