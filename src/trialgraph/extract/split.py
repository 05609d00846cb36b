"""Split an eligibility block into individual criteria.

The block is read in three steps: physical lines are tokenised (offsets and indentation), each
line is classified (blank or separator, section heading, list item with its marker, plain text),
and one pass over the lines groups them into criteria and builds the criterion tree with a stack
of open list items and sub-headings. The work is linear in the size of the block: every regular
expression is anchored or bounded, and lookahead never rescans a line more than a fixed number
of times.

Rules, in the words a reader of the page would use:

* **Sections.** A heading such as ``Inclusion Criteria:``, ``KEY EXCLUSION CRITERIA``,
  ``**Exclusion criteria:**`` or ``Non-inclusion criteria:`` switches the kind of the criteria
  below it; text before any heading is inclusion. Headings are not criteria; text after a
  heading's colon on the same line is. A heading that names a group (``Inclusion criteria for
  caregivers (n = 60):``) is a parent criterion of the items below it when the block has several
  such groups of one kind, and a plain heading otherwise. A sentence that opens a section and
  only introduces its list (``Patients must meet all of the following criteria:``) is read as
  part of the heading.
* **Items.** A line starting with a list marker (``1.``, ``1)``, ``(1)``, ``a.``, ``ii)``,
  ``*``, ``-``, ``•``, ``o``, ``①``, ...) starts a criterion. An unmarked line directly below
  it (no blank line, not less indented) is its hard-wrapped rest, joined with one space; so is a
  paragraph after a blank line that is indented to the item's text, or a paragraph standing
  between two items of the same list. At the start of a wrapped line, a marker that does not
  continue an open list (``2018.``, ``M.``, ``-word``) is text.
* **Plain lines.** Without markers each line is a criterion, unless it is visibly the wrapped
  rest of the line above: it starts in lower case, or the block is hard-wrapped at a fixed width
  and the first word of the line would not have fitted on the line above.
* **Sub-items.** An item is the parent of the items below it that are more deeply indented, or,
  at the same indentation, that use another marker style when the item ends with ``:`` or the
  new list starts at ``a``/``i``/``1``. An item with the marker style of an open item at the
  same indentation is that item's sibling (so ``7.`` after ``a.``, ``b.`` under ``6.`` is top
  level again). Unmarked lines right below a line ending with ``:`` are its sub-items.
* **Sub-headings.** An unmarked line ending with ``:`` (``Part A:``, ``PATIENT
  CHARACTERISTICS:``, ``Age:``), or a short title set apart by blank lines above a list
  (``Group 1``), is a criterion that is the parent of what follows it, until a sub-heading of
  the same or a higher rank (all capitals outranks mixed case) or a less indented item.
* **Notes.** An unmarked ``Note: ...`` paragraph, a lone ``AND``/``OR``, or a disclaimer such
  as ``Other protocol-defined inclusion/exclusion criteria may apply`` is added to the criterion
  before it instead of counting as a criterion of its own.

Offsets: ``block[c.start:c.end]`` runs from the first character after the criterion's list
marker to the end of its last line; ``c.text`` is that span with each line stripped and the
lines joined by one space (its whitespace-normalised form), so
``" ".join(block[c.start:c.end].split()) == " ".join(c.text.split())``.

>>> [(c.kind, c.ordinal, c.parent, c.label, c.text) for c in split_criteria(
...     "Inclusion Criteria:\\n1. Adult\\n2. Organ function:\\n   a. ANC >= 1.5\\n"
...     "3. Consent\\nExclusion Criteria:\\n* Pregnant")]  # doctest: +NORMALIZE_WHITESPACE
[('inclusion', 1, None, '1', 'Adult'), ('inclusion', 2, None, '2', 'Organ function:'),
 ('inclusion', 3, 2, 'a', 'ANC >= 1.5'), ('inclusion', 4, None, '3', 'Consent'),
 ('exclusion', 1, None, '*', 'Pregnant')]
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass, field
from typing import Literal

from trialgraph.model import Criterion, CriterionKind

__all__ = ["split_criteria"]

# ---------------------------------------------------------------------------------------------
# Tokenising


@dataclass(frozen=True)
class _Line:
    """One physical line: offsets of its stripped content in the block and its indentation."""

    index: int
    start: int
    end: int
    col: int
    text: str

    @property
    def blank(self) -> bool:
        return not self.text


def _tokenise(block: str) -> list[_Line]:
    """The physical lines of the block with content offsets and tab-expanded indentation."""
    lines: list[_Line] = []
    offset = 0
    for index, raw in enumerate(block.splitlines(keepends=True)):
        body = raw.rstrip("\r\n\x0b\x0c\x1c\x1d\x1e\x85\u2028\u2029")
        content = body.strip()
        lead = len(body) - len(body.lstrip())
        col = len(body[:lead].expandtabs(4))
        start = offset + lead
        lines.append(_Line(index, start, start + len(content), col, content))
        offset += len(raw)
    return lines


# ---------------------------------------------------------------------------------------------
# Classifying lines: separators, headings, list markers

_SEPARATOR_CHARS = frozenset("-_=*~#.•·–—|+")
_TERMINAL = (".", ";", ":", "!", "?", "\uff1a")
_COLON_END_RE = re.compile(r"[:\uff1a][\s*_]*$")


def _is_separator(text: str) -> bool:
    """A line made only of rule characters (``-----``, ``***``, a lone bullet)."""
    return bool(text) and all(ch in _SEPARATOR_CHARS or ch.isspace() for ch in text)


def _ends_with_colon(text: str) -> bool:
    """Whether the text ends with a colon (markdown emphasis after it allowed)."""
    return bool(_COLON_END_RE.search(text))


def _ends_sentence(text: str) -> bool:
    """Whether a line ends with sentence punctuation, so the next line is not its wrapped rest."""
    return text.rstrip(" *_").endswith(_TERMINAL)


def _words(text: str) -> frozenset[str]:
    """The set of whitespace-separated words of a word list written as text."""
    return frozenset(text.split())


Section = CriterionKind | None
"""The kind a heading switches to; None for a neutral heading (``Eligibility criteria:``)."""

# "Inclusion", "Exclusions", "Non-inclusion", and the typo "Inclution" seen in real blocks
_KIND_WORD_RE = re.compile(r"\b(?:non[- ]?)?(?:in|ex)clu[st]ions?\b", re.IGNORECASE)
_HEADING_CORE = frozenset(["criteria", "criterion", "criterias", "eligibility"])
_HEADING_WORDS = _HEADING_CORE | _words(
    """key main major primary principal general other additional specific selection study trial
    subject subjects patient patients participant participants and or for the of in this include
    includes are is non"""
)
_WORD_RE = re.compile(r"[a-z]+(?:-[a-z]+)*")
_HEADING_DECOR = " \t*_#>"


@dataclass(frozen=True)
class _Heading:
    """A section heading: the kind it switches to, whether it names a group, inline text after it."""

    kind: Section
    qualified: bool
    rest: int | None


def _kind_of(words: str) -> Section:
    """The kind named by heading words: exclusion for ``exclusion``/``non-inclusion``."""
    found = {m.group(0).lower().replace(" ", "-") for m in _KIND_WORD_RE.finditer(words)}
    found = {w for w in found if w != "non"}
    kinds = {"exclusion" if w.startswith(("excl", "non")) else "inclusion" for w in found}
    if len(kinds) != 1:
        return None
    return "inclusion" if kinds == {"inclusion"} else "exclusion"


def _heading(line: _Line) -> _Heading | None:
    """The section heading on a line, or None; a leading list marker or markdown is ignored."""
    text = line.text
    lowered = text[:200].lower()
    if "clu" not in lowered and "criteri" not in lowered and "eligib" not in lowered:
        return None  # cheap test first: most lines name no heading word
    skip = len(text) - len(text.lstrip(_HEADING_DECOR))
    marker = _parse_marker(text[skip:])
    if marker is not None:
        skip += marker.text_offset
    body = text[skip:]
    colon = min((i for i in (body.find(":"), body.find("\uff1a")) if i >= 0), default=-1)
    head = body if colon < 0 else body[:colon]
    head = " ".join(head.strip(_HEADING_DECOR).split())
    if not head or len(head) > 120:
        return None
    after = "" if colon < 0 else body[colon + 1 :]
    words = _WORD_RE.findall(head.lower())
    kind_words = {w for w in words if _KIND_WORD_RE.fullmatch(w)}
    if (
        words
        and (kind_words or _HEADING_CORE.intersection(words))
        and _HEADING_WORDS.union(kind_words).issuperset(words)
    ):
        return _Heading(_kind_of(head), False, _rest_offset(line, skip, colon, after))
    if colon < 0 or len(words) > 12:
        return None
    kind = _kind_of(head)
    if kind is None:
        return None
    if not after.strip(_HEADING_DECOR):
        return _Heading(kind, True, None)  # "Inclusion criteria for caregivers (n = 60):"
    if words and (words[-1] in _HEADING_CORE or _KIND_WORD_RE.fullmatch(words[-1])):
        # "Eye-Related Exclusion Criteria: (Applies to study eye only.)"
        return _Heading(kind, True, _rest_offset(line, skip, colon, after))
    return None


def _rest_offset(line: _Line, skip: int, colon: int, after: str) -> int | None:
    """The offset of text after a heading's colon on the same line, or None."""
    if colon < 0 or not after.strip(_HEADING_DECOR):
        return None
    # only spaces and closing emphasis are skipped: ">30 years" keeps its ">"
    lead = 0
    while lead < len(after) and (after[lead].isspace() or after[lead] in "*_"):
        lead += 1
    return None if lead == len(after) else line.start + skip + colon + 1 + lead


# Words of a sentence that only introduces the list ("Subjects must meet all of the following
# criteria to be enrolled in the study:"); a sentence with any other word says something itself.
_INTRO_WORDS = _words(
    """patients patient subjects subject participants participant individuals persons people
    volunteers candidates must should shall will would may can need needs to be are is have has
    had meet meets meeting satisfy satisfies fulfil fulfill fulfils fulfills all any one each every
    of the following criteria criterion conditions requirements inclusion exclusion in into this
    study trial order enrolled enrollment enrolment entered entry eligible eligibility considered
    included excluded exclude excludes from for with who which that a an and or not include
    includes including apply applies to at time screening registration randomization
    randomisation participate participation protocol listed below above if they their presence
    present these there only outlined described stated mentioned you your we our both either
    enroll enrol qualify qualified recruited admitted accepted selected also met requirement
    required requires require allowed does do"""
)
_NOTE_RE = re.compile(r"(?:please\s+)?(?:note|nb|n\.b)\b\s*(?:[:.\-–]|that\b)", re.IGNORECASE)
_DISCLAIMER_RE = re.compile(
    r"(?:note\s*:?\s*)?(?:other|additional|further|more)\b[^\n]{0,60}?\bcriteria\b[^\n]{0,40}?"
    r"\b(?:may|might|could|will|apply|applies|applied)\b",
    re.IGNORECASE,
)
# "... and not all inclusion/ exclusion criteria are listed."
_NOT_ALL_RE = re.compile(r"\bnot all\b[^\n]{0,40}?\bcriteria\b", re.IGNORECASE)
_CONNECTORS = frozenset({"and", "or", "and/or", "and / or", "or/and"})


def _is_note(text: str) -> bool:
    """A note, disclaimer or lone ``AND``/``OR`` that belongs to the criterion above it."""
    text = text.lstrip(_HEADING_DECOR)
    if text.rstrip(" *_,;").lower() in _CONNECTORS or _NOTE_RE.match(text):
        return True
    if len(text) > 400:
        return False
    return bool(_DISCLAIMER_RE.match(text) or _NOT_ALL_RE.search(text))


# List markers -------------------------------------------------------------------------------

_UNICODE_BULLETS = frozenset("•·▪■●○◦►▸▹➢➤➔→✓✔❖◆◇□☐‣⁃∙\uf0b7\uf0a7\uf0d8\uf076\uf0fc\uf0a8\uf0e0\uff65")
_ASCII_BULLETS = frozenset("*-+–—")
_ORDERED_RE = re.compile(r"(?P<open>\()?(?P<body>\d{1,3}|[A-Za-z]|[ivxlc]{2,6}|[IVXLC]{2,6})(?P<close>[.)])")
_ROMAN_VALUES = {"i": 1, "v": 5, "x": 10, "l": 50, "c": 100}


def _roman(text: str) -> int | None:
    """The value of a lower-case roman numeral up to 39, or None when it is not canonical."""
    if not text or any(ch not in _ROMAN_VALUES for ch in text):
        return None
    total = 0
    prev = 0
    for ch in reversed(text):
        value = _ROMAN_VALUES[ch]
        total = total - value if value < prev else total + value
        prev = max(prev, value)
    if not 0 < total < 40 or _to_roman(total) != text:
        return None
    return total


def _to_roman(value: int) -> str:
    """Lower-case roman numeral of a value below 40."""
    tens, units = divmod(value, 10)
    ones = ["", "i", "ii", "iii", "iv", "v", "vi", "vii", "viii", "ix"]
    return "x" * tens + ones[units]


@dataclass(frozen=True)
class _Marker:
    """A list marker at the start of a line: style candidates, printed label, where text starts.

    ``candidates`` holds (style, value) pairs, most likely first: ``i.`` may be the roman one or
    the letter after ``h.``. ``strong`` is False for markers that also occur at the start of a
    wrapped line (``-word`` with no space, ``3.Word``); those count only outside a wrapped run.
    """

    candidates: tuple[tuple[str, int | None], ...]
    label: str
    text_offset: int
    strong: bool


def _parse_marker(text: str) -> _Marker | None:
    """The list marker that starts a stripped line, or None."""
    if not text:
        return None
    first = text[0]
    rest = text[1:]
    if first in _UNICODE_BULLETS:
        return _Marker(((f"bullet{first}", None),), first, _skip_space(text, 1), True)
    if first in _ASCII_BULLETS:
        if rest[:1].isspace():
            return _Marker(((f"bullet{first}", None),), first, _skip_space(text, 1), True)
        if first in "-–" and rest[:1].isalpha():
            return _Marker(((f"bullet{first}", None),), first, 1, False)
        return None
    if first == "o" and rest[:1] in (" ", "\t"):
        return _Marker((("bullet-o", None),), "o", _skip_space(text, 1), True)
    if "\u2460" <= first <= "\u2473":  # circled digits ① to ⑳
        value = ord(first) - 0x2460 + 1
        return _Marker((("circled", value),), first, _skip_space(text, 1), True)
    match = _ORDERED_RE.match(text)
    if match is None:
        return None
    opened, body, close = match.group("open"), match.group("body"), match.group("close")
    if opened and close != ")":
        return None
    punct = "()" if opened else close
    end = match.end()
    following = text[end : end + 1]
    strong = True
    if following and not following.isspace():
        # "3.Word" is a marker glued to its text; "1.5", "e.g." and "(ULN)" are not markers
        if not (body.isdigit() and close == "." and following.isupper()):
            return None
        strong = False
    candidates = _ordered_candidates(body, punct)
    if not candidates:
        return None
    return _Marker(candidates, body, _skip_space(text, end), strong)


def _ordered_candidates(body: str, punct: str) -> tuple[tuple[str, int | None], ...]:
    """The (style, value) readings of an ordered marker body: number, letter or roman numeral."""
    if body.isdigit():
        return ((f"num{punct}", int(body)),)
    upper = body.isupper()
    roman = _roman(body.lower())
    letter = len(body) == 1
    alpha_style = f"{'ALPHA' if upper else 'alpha'}{punct}"
    roman_style = f"{'ROMAN' if upper else 'roman'}{punct}"
    readings: list[tuple[str, int | None]] = []
    if letter:
        readings.append((alpha_style, ord(body.lower()) - ord("a") + 1))
    if roman is not None:
        readings.append((roman_style, roman))
    if letter and body.lower() == "i":
        readings.reverse()  # "i." alone starts a roman list; after "h." it is a letter
    return tuple(readings)


def _skip_space(text: str, index: int) -> int:
    """The index of the first non-space character at or after ``index``."""
    while index < len(text) and text[index].isspace():
        index += 1
    return index


def _first_word(text: str) -> str:
    """The first whitespace-separated word of a line."""
    return text.split(maxsplit=1)[0] if text else ""


# ---------------------------------------------------------------------------------------------
# Building the tree

NodeType = Literal["item", "sub", "plain"]


@dataclass
class _Draft:
    """A criterion being assembled: its lines, position and place in the tree."""

    kind: CriterionKind
    type: NodeType
    col: int
    text_col: int
    label: str | None
    style: str | None
    value: int | None
    segments: list[tuple[int, int]] = field(default_factory=list)
    first_line: _Line | None = None
    last_line: _Line | None = None
    lines: int = 0
    parent_hint: _Draft | None = None
    parent: _Draft | None = None
    ordinal: int = 0
    rank: int = 1
    section: int = 0
    section_start: bool = False
    blank_before: bool = False

    def add(self, start: int, end: int, line: _Line) -> None:
        """Append a line (or the part of it after the marker) to the criterion."""
        if end > start:
            self.segments.append((start, end))
        if self.first_line is None:
            self.first_line = line
        self.last_line = line
        self.lines += 1

    def text(self, block: str) -> str:
        """The criterion's lines joined by single spaces."""
        return " ".join(block[s:e] for s, e in self.segments)

    @property
    def intro(self) -> bool:
        """Whether the criterion ends with a colon and so introduces sub-items."""
        return self.last_line is not None and _ends_with_colon(self.last_line.text)


def _rank(text: str) -> int:
    """Sub-heading rank: 0 for ALL-CAPITALS headings, 1 for others (which nest under them)."""
    letters = [ch for ch in text if ch.isalpha()]
    if not all(ch.isupper() for ch in letters):
        return 1
    # "PATIENT CHARACTERISTICS:" outranks "Age:"; a short acronym ("HIV:") does not
    return 0 if len(letters) >= 8 or len(text.split()) >= 2 else 1


def _is_start(style: str, value: int | None) -> bool:
    """Whether an ordered marker starts a list (1, a, A, i, I)."""
    return value == 1 and not style.startswith("bullet")


class _Builder:
    """One pass over the classified lines, keeping the open items and sub-headings on a stack."""

    def __init__(self, block: str, lines: list[_Line]) -> None:
        self.block = block
        self.lines = lines
        self.wrap_width = _wrap_width(lines)
        self.kind: CriterionKind = "inclusion"
        self.stack: list[_Draft] = []
        self.drafts: list[_Draft] = []
        self.cur: _Draft | None = None
        self.blank = True
        self.section_units = 0
        self.section = 0
        self.counters: dict[CriterionKind, int] = {"inclusion": 0, "exclusion": 0}
        self.headings = [None if line.blank or _is_separator(line.text) else _heading(line) for line in lines]
        groups = Counter(h.kind for h in self.headings if h is not None and h.qualified)
        # A heading naming a group ("Inclusion criteria for caregivers:") is a parent criterion
        # only when the block has several groups of that kind; alone it is just the section title.
        self.group_kinds = {kind for kind, n in groups.items() if kind is not None and n > 1}

    # -- driving ------------------------------------------------------------------------------

    def run(self) -> list[Criterion]:
        """Build the criteria of the whole block."""
        for line, heading in zip(self.lines, self.headings, strict=True):
            if line.blank:
                self.blank = True
            elif _is_separator(line.text):
                self._finish()
                self.blank = True
            else:
                if heading is None or self._wrapped_heading(line):
                    self._line(line)
                else:
                    self._heading(line, heading)
        self._finish()
        return [self._criterion(d) for d in self.drafts]

    def _wrapped_heading(self, line: _Line) -> bool:
        """Whether heading words ("criteria: ...") are only the wrapped rest of the line above."""
        cur = self.cur
        if cur is None or not self._wrap_context():
            return False
        return line.text[0].islower() or (cur.type == "item" and line.col > cur.col)

    def _heading(self, line: _Line, heading: _Heading) -> None:
        """Close the open section and start another one; text after the heading is read as a line."""
        for _ in range(3):  # "Criteria: Inclusion Criteria: ..." holds two headings
            self._finish()
            self.stack.clear()
            self.section_units = 0
            self.section += 1
            if heading.kind is not None:
                self.kind = heading.kind
            self.blank = True
            if heading.qualified and heading.kind in self.group_kinds:
                draft = self._new(line, "sub", None, None, None, line.start, line.col)
                draft.rank = -1  # a group named by a heading holds every sub-heading below it
                self.blank = False
                return
            if heading.rest is None:
                return
            line = _Line(line.index, heading.rest, line.end, line.col, self.block[heading.rest : line.end])
            inner = _heading(line)
            if inner is None:
                break
            heading = inner
        self._line(line)

    def _line(self, line: _Line) -> None:
        """Place one non-blank, non-heading line."""
        marker = _parse_marker(line.text)
        chosen = self._accept(marker, line.text) if marker is not None else None
        if marker is not None and chosen is not None:
            style, value = chosen
            self._finish()
            self._new(line, "item", marker.label, style, value, line.start + marker.text_offset, line.col)
        else:
            self._plain(line)
        self.blank = False

    # -- markers ------------------------------------------------------------------------------

    def _wrap_context(self) -> bool:
        """Whether the line at hand may be the wrapped rest of the line above."""
        cur = self.cur
        return (
            not self.blank
            and cur is not None
            and cur.last_line is not None
            and not _ends_sentence(cur.last_line.text)
        )

    def _accept(self, marker: _Marker, text: str) -> tuple[str, int | None] | None:
        """The reading of a marker in context, or None when the line is a wrapped continuation."""
        if self._wrap_context() and (not marker.strong or marker.text_offset >= len(text)):
            return None  # "-word" or a lone "1." at the start of a wrapped line
        open_items = [d for d in self.stack if d.type == "item"]
        if self.cur is not None and self.cur.type == "item":
            open_items.append(self.cur)  # the item being read is not on the stack yet
        for style, value in marker.candidates:
            for item in reversed(open_items):
                if item.style != style:
                    continue
                if value is None or item.value is None:
                    return style, value
                gap = 2 if style.startswith("num") else 1
                if item.value < value <= item.value + gap:
                    return style, value
        for style, value in marker.candidates:
            if value is None or _is_start(style, value):
                return style, value
        if self._wrap_context():
            return None  # "2018. The ..." or "M. tuberculosis" at the start of a wrapped line
        return marker.candidates[0]

    # -- plain lines --------------------------------------------------------------------------

    def _plain(self, line: _Line) -> None:
        """An unmarked line: a continuation, a note, or a new plain criterion or sub-heading."""
        cur = self.cur
        if cur is not None and self._continues(cur, line):
            cur.add(line.start, line.end, line)
            return
        hint = None  # the criterion a new plain line is a sub-item of, when the lines say so
        if cur is not None and not self.blank:
            if self._opens(cur, line):
                hint = cur
            elif cur.type == "plain":
                hint = cur.parent_hint
        elif cur is not None and cur.type == "item" and cur.intro and line.col >= cur.text_col:
            hint = cur
        self._finish()
        draft = self._new(line, "plain", None, None, None, line.start, line.col)
        draft.parent_hint = hint

    def _continues(self, cur: _Draft, line: _Line) -> bool:
        """Whether an unmarked line is more of the criterion above rather than a new one."""
        above = cur.last_line
        if above is None:
            return False
        if self.blank:
            if cur.type != "item" or cur.intro:
                return False
            # an indented paragraph after a blank line belongs to the item it is indented under,
            # and so does a lower-case line finishing an unfinished sentence
            if line.col >= cur.text_col > cur.col:
                return True
            return line.text[0].islower() and not _ends_sentence(above.text)
        if cur.intro:
            return not self._opens(cur, line)
        if cur.type == "item":
            # a wrapped line, unless it is a "Label:" line after a finished item
            return line.col >= min(cur.col, above.col) and not (
                _ends_with_colon(line.text) and self._after_sentence(cur)
            )
        return self._wraps(cur, line)

    def _opens(self, cur: _Draft, line: _Line) -> bool:
        """Whether a criterion ending with ":" opens sub-items, rather than wrapping at the colon."""
        above = cur.last_line
        if not cur.intro or above is None:
            return False
        return not self._full(above, line)

    @staticmethod
    def _after_sentence(draft: _Draft) -> bool:
        """Whether a criterion's last line is complete, so a ``Label:`` line below starts a group."""
        return draft.last_line is not None and _ends_sentence(draft.last_line.text)

    def _full(self, above: _Line, line: _Line) -> bool:
        """Whether, in a hard-wrapped block, the first word of a line did not fit on the line above."""
        if self.wrap_width is None:
            return False
        return above.col + len(above.text) + 1 + len(_first_word(line.text)) > self.wrap_width

    def _wraps(self, draft: _Draft, line: _Line) -> bool:
        """Whether an unmarked line is the hard-wrapped rest of the plain line above it."""
        above = draft.last_line
        if above is None or _ends_sentence(above.text):
            return False
        first = line.text[0]
        if first.islower() or first in "([{,;)]}&/%<>=≤≥×+-–":
            return True
        return self._full(above, line)

    # -- criteria -----------------------------------------------------------------------------

    def _new(
        self,
        line: _Line,
        node: NodeType,
        label: str | None,
        style: str | None,
        value: int | None,
        text_start: int,
        col: int,
    ) -> _Draft:
        """Open a new criterion at a line; it is placed in the tree when it is finished."""
        text_col = col + len(self.block[line.start : text_start].expandtabs(4))
        draft = _Draft(self.kind, node, col, text_col, label, style, value)
        draft.section_start = self.section_units == 0
        draft.section = self.section
        draft.blank_before = self.blank
        draft.add(text_start, line.end, line)
        self.cur = draft
        return draft

    def _finish(self) -> None:
        """Place the open criterion in the tree and number it."""
        draft = self.cur
        if draft is None:
            return
        self.cur = None
        if not draft.segments:
            return  # a lone marker such as "1." with nothing after it
        if draft.type == "plain" and self._merge_note(draft):
            return
        if draft.type == "plain" and draft.parent_hint is None and self._is_intro_sentence(draft):
            self.section_units += 1  # "Patients must meet all of the following:" is heading text
            return
        if draft.type == "plain" and (draft.intro or self._is_title(draft)):
            draft.type = "sub"
        if draft.type == "plain" and self._merge_interlude(draft):
            return
        if draft.type == "sub" and draft.rank != -1:
            draft.rank = _rank(draft.text(self.block))
        if draft.type == "item":
            self._place_item(draft)
        elif draft.type == "sub":
            self._place_sub(draft)
        else:
            self._place_plain(draft)
        self.counters[draft.kind] += 1
        draft.ordinal = self.counters[draft.kind]
        self.drafts.append(draft)
        if draft.rank != -1:  # the group heading itself does not open the section's content
            self.section_units += 1
        if draft.type != "plain":
            self.stack.append(draft)

    def _merge_note(self, draft: _Draft) -> bool:
        """Append a note paragraph to the criterion before it in the same section."""
        prev = self._adjacent(draft)
        if prev is None or not _is_note(draft.text(self.block)):
            return False
        prev.segments.extend(draft.segments)
        prev.last_line = draft.last_line
        return True

    def _merge_interlude(self, draft: _Draft) -> bool:
        """Append a paragraph standing between two items of one list to the item before it."""
        prev = self._adjacent(draft)
        if prev is None or prev.type != "item" or prev.intro or draft.parent_hint is not None:
            return False
        nxt = self._next_marked(draft)
        marker = _parse_marker(nxt.text) if nxt is not None else None
        if nxt is None or marker is None or abs(nxt.col - prev.col) > 1:
            return False
        if prev.style not in {style for style, _ in marker.candidates}:
            return False
        prev.segments.extend(draft.segments)
        prev.last_line = draft.last_line
        return True

    def _adjacent(self, draft: _Draft) -> _Draft | None:
        """The criterion just before a draft when only blank lines separate them, else None."""
        prev = self.drafts[-1] if self.drafts else None
        if prev is None or prev.section != draft.section:
            return None
        assert prev.last_line is not None and draft.first_line is not None
        between = range(prev.last_line.index + 1, draft.first_line.index)
        return prev if all(self.lines[i].blank for i in between) else None

    def _next_marked(self, draft: _Draft) -> _Line | None:
        """The next non-blank line after a criterion when it carries a list marker."""
        assert draft.last_line is not None
        for index in range(draft.last_line.index + 1, len(self.lines)):
            line = self.lines[index]
            if line.blank:
                continue
            if _is_separator(line.text) or self.headings[line.index] is not None:
                return None
            return line if _parse_marker(line.text) is not None else None
        return None

    def _is_intro_sentence(self, draft: _Draft) -> bool:
        """A sentence opening a section that introduces its whole list, like a heading."""
        if not draft.section_start or not draft.intro:
            return False
        words = _WORD_RE.findall(draft.text(self.block).lower())
        if not words or not _INTRO_WORDS.issuperset(words):
            return False
        nxt = self._next_marked(draft)
        if nxt is None or nxt.col < draft.col:
            return False
        # With a second "Label:" line in the section the sentence names a group, not the list.
        for index in range(nxt.index, len(self.lines)):
            line = self.lines[index]
            if self.headings[index] is not None:
                break
            if line.col <= draft.col and _ends_with_colon(line.text) and not _parse_marker(line.text):
                return False
        return True

    def _is_title(self, draft: _Draft) -> bool:
        """A short title line set apart by blank lines above a list (``Group 1``, ``Part A``)."""
        if draft.lines != 1 or not (draft.blank_before or draft.section_start):
            return False
        text = draft.text(self.block)
        if len(text) > 40 or len(text.split()) > 6 or text.rstrip(" *_").endswith((".", ";", ",")):
            return False
        assert draft.last_line is not None
        following = self.lines[draft.last_line.index + 1 : draft.last_line.index + 2]
        if not following or not following[0].blank:
            return False
        nxt = self._next_marked(draft)
        return nxt is not None and nxt.col >= draft.col

    def _place_item(self, draft: _Draft) -> None:
        """Find a list item's parent: the open item it is nested under, or the sub-heading."""
        col, style = draft.col, draft.style
        stack = self.stack
        while stack:
            top = stack[-1]
            if top.type == "sub":
                if col >= top.col - 1:
                    break
                stack.pop()
                continue
            if top.style == style and abs(top.col - col) <= 1:
                stack.pop()  # a sibling: same marker style at the same indentation
                break
            if col > top.col + 1:
                break  # more deeply indented: a sub-item
            if col < top.col - 1:
                stack.pop()
                continue
            if self._open_sibling(style, col):
                stack.pop()  # "7." after "a.", "b.": back to the numbered list
                continue
            if top.intro or (style is not None and _is_start(style, draft.value)):
                break  # a new marker style under an item ending with ":" or starting at a/i/1
            stack.pop()  # the list just changed its bullet: a sibling
            break
        draft.parent = stack[-1] if stack else None

    def _open_sibling(self, style: str | None, col: int) -> bool:
        """Whether an open item below the top (above the nearest sub-heading) has this style."""
        for entry in reversed(self.stack[:-1]):
            if entry.type == "sub":
                return False
            if entry.style == style and abs(entry.col - col) <= 1:
                return True
        return False

    def _place_sub(self, draft: _Draft) -> None:
        """Find a sub-heading's parent: a higher-ranked sub-heading or an item it is indented under."""
        col, rank = draft.col, draft.rank
        stack = self.stack
        while stack:
            top = stack[-1]
            if top is draft.parent_hint:
                break
            if top.type == "sub":
                if top.col < col - 1 or (abs(top.col - col) <= 1 and top.rank < rank):
                    break
            elif col >= top.text_col:
                break
            stack.pop()
        draft.parent = stack[-1] if stack else None

    def _place_plain(self, draft: _Draft) -> None:
        """Find a plain criterion's parent: the item or sub-heading it sits under, if any."""
        stack = self.stack
        while stack:
            top = stack[-1]
            if top is draft.parent_hint:
                break
            if top.type == "sub" and draft.col >= top.col - 1:
                break
            if top.type == "item" and top.intro and draft.col >= top.text_col:
                break
            stack.pop()
        draft.parent = stack[-1] if stack else None

    def _criterion(self, draft: _Draft) -> Criterion:
        """The model criterion of a finished draft."""
        start, end = draft.segments[0][0], draft.segments[-1][1]
        parent = draft.parent.ordinal if draft.parent is not None else None
        return Criterion(
            kind=draft.kind,
            ordinal=draft.ordinal,
            text=draft.text(self.block),
            parent=parent,
            label=draft.label,
            start=start,
            end=end,
        )


def _wrap_width(lines: list[_Line]) -> int | None:
    """The column a hard-wrapped block is wrapped at, or None when lines are not hard-wrapped.

    Legacy ClinicalTrials.gov text blocks are wrapped near 80-100 columns; registry pages and
    API v2 text keep each criterion on one line of any length.
    """
    widths = [line.col + len(line.text) for line in lines if line.text]
    if not widths:
        return None
    widest = max(widths)
    near = sum(1 for w in widths if w >= widest - 15)
    if 60 <= widest <= 100 and near >= 2:
        return widest
    return None


def split_criteria(text: str) -> list[Criterion]:
    """The criteria of an eligibility block, inclusion and exclusion, with sub-items and spans."""
    if not text or not text.strip():
        return []
    return _Builder(text, _level_first_line(_tokenise(text))).run()


def _level_first_line(lines: list[_Line]) -> list[_Line]:
    """Indent the first line like the rest when it alone lost its indentation.

    Legacy ClinicalTrials.gov text blocks start at the base indentation even when the first line
    is a list item that the other items indent by two more columns; without this the first item
    would be read as the parent of all the others.
    """
    texts = [line for line in lines if line.text]
    if len(texts) < 2:
        return lines
    first, rest = texts[0], min(line.col for line in texts[1:])
    if rest - first.col < 2:
        return lines
    leveled = _Line(first.index, first.start, first.end, rest, first.text)
    return [leveled if line is first else line for line in lines]
