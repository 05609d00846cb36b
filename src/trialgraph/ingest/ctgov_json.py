"""Reader for ClinicalTrials.gov API v2 JSON.

Accepts one study object, a JSON array of studies, an API page (``{"studies": [...],
"nextPageToken": ...}``) and JSON Lines (one study object per line). Records are named by their
0-based position in the file (``Source.record_index``); in JSON Lines an error names the 1-based
line instead. A value of the wrong JSON type in an optional field is coerced when the meaning is
clear (a lone string where a list is expected, a count written as a string) and otherwise skipped,
with a note in ``Trial.warnings``; only a record that cannot become a trial at all is an
``InputError``.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

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

FORMAT = "ctgov-json"
_EXPECTED = (
    'expected a study object with "protocolSection", a JSON array of studies, '
    'an API page {"studies": [...]}, or JSON Lines'
)
_WHITESPACE = " \t\r\n"

Json = dict[str, Any]


def read_ctgov_json(data: bytes, file: str) -> Iterator[Trial | InputError]:
    """Every record in the file's bytes: a Trial, or an InputError naming file and record."""
    try:
        text = decode_utf8(data, file)
    except InputError as exc:
        yield exc
        return
    start = _skip_ws(text, 0)
    if start == len(text):
        yield InputError(file, f"the file is empty; {_EXPECTED}")
    elif text[start] == "[":
        yield from _read_array(text, start, file)
    else:
        yield from _read_document(text, file)


# --- document shapes ---------------------------------------------------------------------------


def _read_document(text: str, file: str) -> Iterator[Trial | InputError]:
    """A single JSON value (study or page), or JSON Lines when the text is one object per line."""
    try:
        value = json.loads(text)
    except RecursionError:
        yield InputError(file, f"the JSON is nested too deeply to read; {_EXPECTED}")
        return
    except json.JSONDecodeError as exc:
        if _looks_like_json_lines(text, exc):
            yield from _read_json_lines(text, file)
        else:
            yield InputError(file, _decode_message(exc, text))
        return
    if isinstance(value, dict) and "studies" in value and "protocolSection" not in value:
        studies = value["studies"]
        if not isinstance(studies, list):
            yield InputError(file, f'"studies" is {_kind(studies)}; expected an array of study objects')
            return
        for index, item in enumerate(studies):
            yield _record(item, index, index, file)
    elif isinstance(value, dict):
        yield _record(value, 0, 0, file)
    else:
        yield InputError(file, f"the JSON is {_kind(value)}; {_EXPECTED}")


def _read_array(text: str, start: int, file: str) -> Iterator[Trial | InputError]:
    """The elements of a top-level array one at a time, so records before a fault still read."""
    decoder = json.JSONDecoder()
    pos = _skip_ws(text, start + 1)
    if pos < len(text) and text[pos] == "]":
        yield from _trailing_text(text, pos + 1, file)
        return
    index = 0
    while True:
        try:
            item, end = decoder.raw_decode(text, pos)
        except RecursionError:
            yield InputError(file, "the element is nested too deeply to read", index)
            return
        except json.JSONDecodeError as exc:
            yield InputError(file, _decode_message(exc, text), index)
            return
        yield _record(item, index, index, file)
        pos = _skip_ws(text, end)
        if pos >= len(text):
            yield InputError(file, _truncated_message(text), index + 1)
            return
        if text[pos] == "]":
            yield from _trailing_text(text, pos + 1, file)
            return
        if text[pos] != ",":
            line, column = _line_column(text, pos)
            yield InputError(
                file,
                f"invalid JSON at line {line}, column {column}: expected ',' or ']' after an array element",
                index + 1,
            )
            return
        pos = _skip_ws(text, pos + 1)
        index += 1


def _trailing_text(text: str, pos: int, file: str) -> Iterator[InputError]:
    """An error when anything but whitespace follows the closing bracket of the array."""
    pos = _skip_ws(text, pos)
    if pos < len(text):
        line, column = _line_column(text, pos)
        yield InputError(
            file,
            f"invalid JSON at line {line}, column {column}: extra data after the array; "
            "expected the end of the file",
        )


def _looks_like_json_lines(text: str, exc: json.JSONDecodeError) -> bool:
    """True when the text reads as one JSON object per line rather than one broken document."""
    lines = [line.strip() for line in text.split("\n") if line.strip()]
    if len(lines) < 2:
        return False
    if exc.msg == "Extra data":  # the first value parsed: JSON Lines if it fills the first line
        return "\n" not in text[: exc.pos].strip()
    # A bad first line hides the "Extra data" signal; fall back to counting whole-object lines.
    whole = sum(1 for line in lines if line.startswith("{") and _is_json_object(line))
    return whole * 2 >= len(lines)


def _is_json_object(line: str) -> bool:
    try:
        return isinstance(json.loads(line), dict)
    except (json.JSONDecodeError, RecursionError):
        return False


def _read_json_lines(text: str, file: str) -> Iterator[Trial | InputError]:
    """One study per non-blank line; a bad line is an error for that line only."""
    # split on "\n" only: str.splitlines() would also split on U+2028 inside JSON strings
    for index, line in enumerate(text.split("\n")):
        if not line.strip():
            continue
        number = index + 1
        try:
            value = json.loads(line)
        except RecursionError:
            yield InputError(file, "the line is nested too deeply to read", f"line {number}")
            continue
        except json.JSONDecodeError as exc:
            message = (
                f"invalid JSON at line {number}, column {exc.colno}: {exc.msg}; "
                "expected one study object per line"
            )
            yield InputError(file, message, f"line {number}")
            continue
        yield _record(value, index, f"line {number}", file)


# --- one study ---------------------------------------------------------------------------------


def _record(value: object, index: int, name: str | int, file: str) -> Trial | InputError:
    """One study object as a Trial, or the InputError that says why it is not one."""
    if not isinstance(value, dict):
        return InputError(file, f"the record is {_kind(value)}; expected a study object", name)
    protocol = value.get("protocolSection")
    if protocol is None:
        return InputError(
            file, 'the study has no "protocolSection"; expected a ClinicalTrials.gov v2 study', name
        )
    if not isinstance(protocol, dict):
        return InputError(file, f'"protocolSection" is {_kind(protocol)}; expected an object', name)
    try:
        canonical = _canonical(value)
    except UnicodeEncodeError as exc:  # a "\\udXXX" escape that is not half of a surrogate pair
        code = ord(exc.object[exc.start]) if isinstance(exc.object, str) else 0
        return InputError(
            file,
            f"the record holds a lone surrogate \\u{code:04x} (a \\u escape that is not half of a "
            "UTF-16 pair); expected valid Unicode text",
            name,
        )
    source = Source(FORMAT, file, index, norm.checksum(canonical))
    try:
        return _StudyReader(value, protocol).trial(source)
    except _MissingIdentity:
        return InputError(file, "expected protocolSection.identificationModule.nctId or a title", name)


def _canonical(value: Json) -> bytes:
    """The record's bytes for its checksum: key order and layout do not change it."""
    return json.dumps(value, sort_keys=True, ensure_ascii=False, separators=(",", ":")).encode()


class _MissingIdentity(Exception):
    """The study has neither an NCT ID nor a title to mint an identifier from."""


class _StudyReader:
    """Reads one study object, noting in ``warnings`` every value it had to coerce or skip."""

    def __init__(self, study: Json, protocol: Json) -> None:
        self.study = study
        self.protocol = protocol
        self.warnings: list[str] = []

    def trial(self, source: Source) -> Trial:
        """The Trial for this study; raises ``_MissingIdentity`` without an NCT ID and a title."""
        ident = self._module("identificationModule")
        nct_id = self._text(ident, "nctId", "identificationModule")
        brief = self._text(ident, "briefTitle", "identificationModule")
        official = self._text(ident, "officialTitle", "identificationModule")
        org_info = self._obj(ident, "orgStudyIdInfo", "identificationModule")
        org_study = self._text(org_info, "id", "identificationModule.orgStudyIdInfo")
        if not nct_id and not (brief or official):
            raise _MissingIdentity
        if nct_id and not norm.NCT_RE.fullmatch(nct_id):
            self.warnings.append(f"nctId {nct_id!r} is not NCT followed by 8 digits")
        trial = Trial(
            id=nct_id or norm.minted_id(brief or official, org_study),
            source=source,
            nct_id=nct_id,
            identifiers=self._identifiers(ident, nct_id, org_study),
            acronym=self._text(ident, "acronym", "identificationModule"),
            brief_title=brief,
            official_title=official,
        )
        self._read_status(trial)
        self._read_sponsors(trial)
        self._read_description(trial)
        self._read_conditions(trial)
        self._read_design(trial)
        self._read_arms(trial)
        self._read_eligibility(trial)
        self._read_contacts_locations(trial)
        self._read_mesh(trial)
        trial.warnings.extend(self.warnings)
        return trial

    # sections

    def _identifiers(self, ident: Json, nct_id: str | None, org: str | None) -> list[Identifier]:
        ids = [Identifier(nct_id, "nct")] if nct_id else []
        if org:
            ids.append(Identifier(org, "org_study_id"))
        where = "identificationModule.secondaryIdInfos"
        for info in self._objs(ident, "secondaryIdInfos", where):
            value = self._text(info, "id", where)
            if value:
                kind, domain = self._text(info, "type", where), self._text(info, "domain", where)
                desc = f"{kind} ({domain})" if kind and domain else kind or domain
                ids.append(Identifier(value, "secondary", desc))
        return ids

    def _read_status(self, trial: Trial) -> None:
        mod = self._module("statusModule")
        trial.overall_status = norm.status(self._text(mod, "overallStatus", "statusModule"))
        trial.start_date = self._date(mod, "startDateStruct")
        trial.primary_completion_date = self._date(mod, "primaryCompletionDateStruct")
        trial.completion_date = self._date(mod, "completionDateStruct")
        trial.first_posted = self._date(mod, "studyFirstPostDateStruct")
        trial.last_update_posted = self._date(mod, "lastUpdatePostDateStruct")

    def _read_sponsors(self, trial: Trial) -> None:
        mod = self._module("sponsorCollaboratorsModule")
        where = "sponsorCollaboratorsModule"
        lead = self._obj(mod, "leadSponsor", where)
        trial.sponsor = self._organization(lead, "lead_sponsor", where)
        for item in self._objs(mod, "collaborators", where):
            org = self._organization(item, "collaborator", where)
            if org:
                trial.collaborators.append(org)

    def _organization(self, item: Json, role: str, where: str) -> Organization | None:
        name = self._text(item, "name", where)
        if not name:
            return None
        return Organization(name, role, norm.token_or_none(self._text(item, "class", where)))

    def _read_description(self, trial: Trial) -> None:
        mod = self._module("descriptionModule")
        trial.summary = self._text(mod, "briefSummary", "descriptionModule")
        trial.description = self._text(mod, "detailedDescription", "descriptionModule")

    def _read_conditions(self, trial: Trial) -> None:
        mod = self._module("conditionsModule")
        trial.conditions = [Condition(c) for c in self._texts(mod, "conditions", "conditionsModule")]
        trial.keywords = self._texts(mod, "keywords", "conditionsModule")

    def _read_design(self, trial: Trial) -> None:
        mod = self._module("designModule")
        where = "designModule"
        trial.study_type = norm.token_or_none(self._text(mod, "studyType", where))
        trial.phases = norm.phases(self._texts(mod, "phases", where))
        info = self._obj(mod, "designInfo", where)
        where = "designModule.designInfo"
        trial.allocation = norm.token_or_none(self._text(info, "allocation", where))
        trial.intervention_model = norm.token_or_none(self._text(info, "interventionModel", where))
        trial.primary_purpose = norm.token_or_none(self._text(info, "primaryPurpose", where))
        masking = self._obj(info, "maskingInfo", where)
        trial.masking = norm.token_or_none(self._text(masking, "masking", where))
        enrollment = self._obj(mod, "enrollmentInfo", "designModule")
        trial.enrollment = self._count(enrollment, "count", "designModule.enrollmentInfo")
        trial.enrollment_type = norm.token_or_none(
            self._text(enrollment, "type", "designModule.enrollmentInfo")
        )

    def _read_arms(self, trial: Trial) -> None:
        mod = self._module("armsInterventionsModule")
        where = "armsInterventionsModule.interventions"
        for item in self._objs(mod, "interventions", "armsInterventionsModule"):
            name = self._text(item, "name", where)
            if not name:
                self.warnings.append(f"{where}: skipped an intervention without a name")
                continue
            trial.interventions.append(
                Intervention(
                    name=name,
                    type=norm.intervention_type(self._text(item, "type", where)),
                    description=self._text(item, "description", where),
                    other_names=self._texts(item, "otherNames", where),
                    arm_labels=self._texts(item, "armGroupLabels", where),
                )
            )
        known = {i.name for i in trial.interventions}
        where = "armsInterventionsModule.armGroups"
        for item in self._objs(mod, "armGroups", "armsInterventionsModule"):
            label = self._text(item, "label", where)
            if not label:
                self.warnings.append(f"{where}: skipped an arm without a label")
                continue
            names = self._texts(item, "interventionNames", where)
            trial.arms.append(
                Arm(
                    label=label,
                    type=norm.token_or_none(self._text(item, "type", where)),
                    description=self._text(item, "description", where),
                    intervention_names=[bare_intervention_name(n, known) for n in names],
                )
            )
        link_arms(trial.arms, trial.interventions)

    def _read_eligibility(self, trial: Trial) -> None:
        mod = self._module("eligibilityModule")
        where = "eligibilityModule"
        criteria = mod.get("eligibilityCriteria")
        if isinstance(criteria, str):
            trial.eligibility_text = criteria if criteria.strip() else None
        elif criteria is not None:
            self._wrong_type(f"{where}.eligibilityCriteria", criteria, "a string")
        trial.sex = norm.sex(self._text(mod, "sex", where))
        trial.minimum_age = self._age(mod, "minimumAge")
        trial.maximum_age = self._age(mod, "maximumAge")
        trial.healthy_volunteers = self._flag(mod, "healthyVolunteers", where)

    def _read_contacts_locations(self, trial: Trial) -> None:
        mod = self._module("contactsLocationsModule")
        where = "contactsLocationsModule.locations"
        for loc in self._objs(mod, "locations", "contactsLocationsModule"):
            trial.sites.append(
                Site(
                    facility=self._text(loc, "facility", where),
                    city=self._text(loc, "city", where),
                    state=self._text(loc, "state", where),
                    country=self._text(loc, "country", where),
                    status=norm.status(self._text(loc, "status", where)),
                )
            )
        where = "contactsLocationsModule.centralContacts"
        for person in self._objs(mod, "centralContacts", "contactsLocationsModule"):
            phone, ext = self._text(person, "phone", where), self._text(person, "phoneExt", where)
            trial.contacts.append(
                Contact(
                    name=self._text(person, "name", where),
                    role=self._text(person, "role", where),
                    phone=f"{phone} ext. {ext}" if phone and ext else phone,
                    email=self._text(person, "email", where),
                )
            )

    def _read_mesh(self, trial: Trial) -> None:
        derived = self._obj(self.study, "derivedSection", "")
        trial.condition_mesh = self._meshes(derived, "conditionBrowseModule")
        trial.intervention_mesh = self._meshes(derived, "interventionBrowseModule")

    def _meshes(self, derived: Json, module: str) -> list[MeshTerm]:
        where = f"derivedSection.{module}.meshes"
        browse = self._obj(derived, module, "derivedSection")
        out: list[MeshTerm] = []
        for item in self._objs(browse, "meshes", f"derivedSection.{module}"):
            term = self._text(item, "term", where)
            if term:
                out.append(MeshTerm(self._text(item, "id", where) or "", term))
        return out

    # typed access

    def _module(self, key: str) -> Json:
        return self._obj(self.protocol, key, "protocolSection")

    def _obj(self, parent: Json, key: str, where: str) -> Json:
        value = parent.get(key)
        if value is None:
            return {}
        if isinstance(value, dict):
            return value
        self._wrong_type(_join(where, key), value, "an object")
        return {}

    def _objs(self, parent: Json, key: str, where: str) -> list[Json]:
        value = parent.get(key)
        if value is None:
            return []
        if isinstance(value, dict):
            return [value]
        if not isinstance(value, list):
            self._wrong_type(_join(where, key), value, "a list of objects")
            return []
        for item in value:
            if not isinstance(item, dict):
                self._wrong_type(f"{_join(where, key)}[]", item, "an object")
        return [item for item in value if isinstance(item, dict)]

    def _text(self, parent: Json, key: str, where: str) -> str | None:
        value = parent.get(key)
        if value is None:
            return None
        if isinstance(value, bool) or not isinstance(value, str | int | float):
            self._wrong_type(_join(where, key), value, "a string")
            return None
        return str(value).strip() or None

    def _texts(self, parent: Json, key: str, where: str) -> list[str]:
        value = parent.get(key)
        if value is None:
            return []
        if not isinstance(value, list):
            if isinstance(value, str):  # one string where a list is due: read it as one item
                return [value.strip()] if value.strip() else []
            self._wrong_type(_join(where, key), value, "a list of strings")
            return []
        items: list[str] = []
        for item in value:
            if isinstance(item, str):
                if item.strip():
                    items.append(item.strip())
            else:
                self._wrong_type(f"{_join(where, key)}[]", item, "a string")
        return items

    def _count(self, parent: Json, key: str, where: str) -> int | None:
        value = parent.get(key)
        if value is None:
            return None
        if isinstance(value, int) and not isinstance(value, bool):
            return value
        if isinstance(value, float) and value.is_integer():
            return int(value)
        if isinstance(value, str) and value.strip().isascii() and value.strip().isdigit():
            return int(value.strip())
        self._wrong_type(_join(where, key), value, "a whole number")
        return None

    def _flag(self, parent: Json, key: str, where: str) -> bool | None:
        value = parent.get(key)
        if value is None or isinstance(value, bool):
            return value
        if isinstance(value, str) and value.strip().lower() in _TRUTHY | _FALSY:
            return value.strip().lower() in _TRUTHY
        self._wrong_type(_join(where, key), value, "true or false")
        return None

    def _date(self, status_module: Json, key: str) -> str | None:
        struct = self._obj(status_module, key, "statusModule")
        return self._text(struct, "date", f"statusModule.{key}")

    def _age(self, mod: Json, key: str) -> Age | None:
        text = self._text(mod, key, "eligibilityModule")
        age = Age.parse(text)
        if text and age is None and norm.enum_token(text) not in {"N_A", "NA", "NONE"}:
            self.warnings.append(f"eligibilityModule.{key}: cannot read the age {text!r}")
        return age

    def _wrong_type(self, where: str, value: object, expected: str) -> None:
        self.warnings.append(f"{where}: found {_kind(value)}, expected {expected}; ignored")


_TRUTHY = {"true", "yes", "y", "1"}
_FALSY = {"false", "no", "n", "0"}


# --- small helpers -----------------------------------------------------------------------------


def _skip_ws(text: str, pos: int) -> int:
    while pos < len(text) and text[pos] in _WHITESPACE:
        pos += 1
    return pos


def _line_column(text: str, pos: int) -> tuple[int, int]:
    line = text.count("\n", 0, pos) + 1
    return line, pos - (text.rfind("\n", 0, pos) + 1) + 1


def _decode_message(exc: json.JSONDecodeError, text: str) -> str:
    """Say where the JSON broke; a parse that ran off the end is a truncated file."""
    at_end = _skip_ws(text, exc.pos) >= len(text) or exc.msg.startswith("Unterminated string")
    if at_end:
        return _truncated_message(text, "inside a string" if exc.msg[0] == "U" else exc.msg)
    return f"invalid JSON at line {exc.lineno}, column {exc.colno}: {exc.msg}; {_EXPECTED}"


def _truncated_message(text: str, detail: str = "") -> str:
    line, column = _line_column(text, len(text.rstrip(_WHITESPACE)))
    why = f" ({detail})" if detail else ""
    return (
        f"truncated JSON: the text ends at line {line}, column {column} before the document "
        f"is complete{why}; expected the rest of the study or array"
    )


def _kind(value: object) -> str:
    """``'a JSON string'``, ``'a JSON array'``, ... for error messages."""
    names = {dict: "an object", list: "an array", str: "a string", bool: "a boolean"}
    if value is None:
        return "null"
    kind = names.get(type(value)) or ("a number" if isinstance(value, int | float) else "a value")
    return f"{kind} ({_preview(value)})" if isinstance(value, str | int | float) else kind


def _preview(value: object) -> str:
    text = json.dumps(value, ensure_ascii=False)
    return text if len(text) <= 40 else text[:37] + "..."


def _join(where: str, key: str) -> str:
    return f"{where}.{key}" if where else key
