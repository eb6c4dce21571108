"""Offset serial numbers: one spelling per credit block, and blocks that overlap.

A serial range copied from a registry web page or a PDF arrives with look-alike characters
(Unicode hyphens and minus signs, no-break and zero-width spaces, full-width letters), so the
same block can be written many ways. `normalise` gives one spelling: NFKC, every dash to `-`,
spaces, invisible and control characters removed, Cyrillic and Greek letters that look like
Latin ones read as those (`КЕ` typed in a Cyrillic layout is `KE`: registries' serials are
ASCII), case folded. A letter or digit that is still not ASCII then is its own error
(`foreign_characters`): a serial that might be another written with look-alikes is not loaded.

`parse` then reads the block as (block, start, end) so that overlapping ranges of one block are
found, not only identical ones. The accepted forms (docs/decisions.md):

1. Verra (VCS): `7837-438577047-438577546-VCS-VCU-...`: the second and third numbers are the
   first and last serial of the block.
2. Two full serials, first and last: `BR-5-123456-1-1-0-1234 - BR-5-123999-1-1-0-1234` (CDM):
   the two halves differ in one number, the range is between them.
3. A common prefix followed by the first and last serial: `CER-UNEP-2024-000001-005000`, Gold
   Standard `GS1-1-IN-GS2445-16-2018-19136-22500-22511`: the last two numbers, with the same
   number of digits (registries pad with zeros) and the first not above the last.
4. Anything else is one serial: the same spelling, or a number of it inside a range of forms
   1-3 whose block is the serial with that number left out (`BR-5-123500-1-1-0-1234` lies in the
   CDM range of form 2 above).
"""

from __future__ import annotations

import functools
import os
import random
import re
import unicodedata
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Generic, TypeVar

from pipeline.codelists import UNSEEN, to_latin

# Hyphens, dashes and minus signs that registries' web pages and PDFs use for '-'.
DASHES = "\u00ad\u2010\u2011\u2012\u2013\u2014\u2015\u2043\u2212\ufe58\ufe63\uff0d"
_TO_HYPHEN = str.maketrans({ch: "-" for ch in DASHES if ch != "\u00ad"} | {"\u00ad": ""})
# Characters that survive NFKC and show nothing: white space, control and format characters.
_INVISIBLE = re.compile(f"[\\s{UNSEEN}]+")
_DIGITS = re.compile(r"[0-9]{1,18}")  # longer numbers are compared as text
_VERRA = re.compile(r"([0-9]+)-([0-9]{1,18})-([0-9]{1,18})-(vcs-.*)")


@dataclass(frozen=True)
class Serial:
    text: str  # the normalised spelling
    block: str  # what two serials must share to be compared as ranges ('' when not a range)
    start: int | None = None
    end: int | None = None

    @property
    def is_range(self) -> bool:
        return self.start is not None

    def as_points(self) -> tuple[tuple[str, int], ...]:
        """A single serial as (block, number) for each of its numbers: where it would sit in a range."""
        return _points(self.text) if not self.is_range else ()


@functools.lru_cache(maxsize=1 << 16)
def _points(text: str) -> tuple[tuple[str, int], ...]:
    """`Serial.as_points` of a single serial's text, worked out once per text: a run asks it of
    each serial in validation, in the cross-checks and in the loader, as claim and as query."""
    tokens = text.split("-")
    return tuple(
        ("-".join([*tokens[:i], "*", *tokens[i + 1 :]]), int(token))
        for i, token in enumerate(tokens)
        if _DIGITS.fullmatch(token)
    )


# The longest serial range read: registries' serials have up to about 100 characters and 15
# parts (Verra's, the longest, about 75 and 13). Reading one costs memory in proportion to its
# length times its numbers (`_points`), so a longer text is its own error, and never read.
MAX_CHARACTERS = 200  # once normalised
MAX_PARTS = 32
MAX_TYPED = 1000  # characters as typed: a longer text is not even normalised (nor cached by `parse`)


def size(value: object) -> tuple[int, int]:
    """(characters, parts) of the serial: as normalised, or as typed beyond MAX_TYPED characters."""
    typed = str(value)
    text = normalise(typed)
    return (len(typed) if len(typed) > MAX_TYPED else len(text)), text.count("-") + 1


def parse_readable(value: object) -> Serial | None:
    """`parse(value)` if the serial is within MAX_TYPED characters as typed, and MAX_CHARACTERS
    and MAX_PARTS once normalised (from `parse`'s cache: validation parses every serial anyway);
    None for a longer one, which is never read further."""
    if type(value) is str and len(value) > MAX_TYPED:
        return None
    serial = parse(value)
    return serial if len(serial.text) <= MAX_CHARACTERS and serial.text.count("-") < MAX_PARTS else None


def is_readable(value: object) -> bool:
    """Whether `parse_readable` reads the serial."""
    return parse_readable(value) is not None


def normalise(value: object) -> str:
    """One spelling per serial: NFKC, dashes to '-', spaces, invisible and control characters gone,
    look-alike Cyrillic and Greek letters read as Latin ones, case folded."""
    text = unicodedata.normalize("NFKC", str(value)).translate(_TO_HYPHEN)
    text = to_latin(_INVISIBLE.sub("", text))
    return re.sub("-{2,}", "-", text).strip("-").casefold()


# What people put between two serial ranges typed in one cell: a line break (Alt+Enter), ';' or ','.
# No registry writes any of them inside a serial.
_BETWEEN_RANGES = re.compile(r"[\r\n;,]+")


def several(value: object) -> int:
    """How many serials a cell holds when it holds more than one (two ranges on two lines, or
    separated by ';' or ','), else 0. Read as one, their numbers ran together and the first
    block was never compared with other entities' claims."""
    if type(value) is not str or len(value) > MAX_TYPED or not _BETWEEN_RANGES.search(value):
        return 0  # nothing between two ranges: one part at most
    parts = [p for p in _BETWEEN_RANGES.split(value) if _looks_like_a_serial(p)]
    return len(parts) if len(parts) > 1 else 0


def _looks_like_a_serial(text: str) -> bool:
    """Digits, and a letter or a dash among them: a registry's serial ('1,234,567' is a number
    grouped in thousands, not three serials)."""
    return sum(ch.isdigit() for ch in text) >= 2 and any(ch.isalpha() or ch in "-" + DASHES for ch in text)


def foreign_characters(value: object) -> list[str]:
    """The letters and digits of a serial that are not ASCII once normalised (`normalise`), in
    order, each once: a registry's serial has none, and one that looks like another serial
    written with them could not be told from it."""
    if str(value).isascii():
        return []  # normalising maps no ASCII character to another
    found: dict[str, None] = {}
    for ch in normalise(value):
        if not ch.isascii() and unicodedata.category(ch)[0] in "LN":
            found.setdefault(ch, None)
    return list(found)


def parse(value: object) -> Serial:
    """The serial read by the accepted forms (module docstring). A text is read once: validation,
    the cross-checks and the loader all read the serials of a run."""
    return _parse_text(value) if type(value) is str else _parse(value)


@functools.lru_cache(maxsize=1 << 16)
def _parse_text(text: str) -> Serial:
    return _parse(text)  # a Serial is immutable: one object may serve every caller


def _parse(value: object) -> Serial:
    text = normalise(value)
    verra = _VERRA.fullmatch(text)
    if verra and _is_range(verra.group(2), verra.group(3), same_digits=False):
        return Serial(text, f"{verra.group(1)}-*-{verra.group(4)}", int(verra.group(2)), int(verra.group(3)))
    tokens = text.split("-")
    half = len(tokens) // 2
    if len(tokens) % 2 == 0 and half >= 2:
        first, last = tokens[:half], tokens[half:]
        differ = [i for i, (a, b) in enumerate(zip(first, last, strict=True)) if a != b]
        if len(differ) == 1 and _is_range(first[differ[0]], last[differ[0]], same_digits=False):
            i = differ[0]
            return Serial(text, "-".join([*first[:i], "*", *first[i + 1 :]]), int(first[i]), int(last[i]))
    if len(tokens) >= 3 and _is_range(tokens[-2], tokens[-1], same_digits=True):
        return Serial(text, "-".join([*tokens[:-2], "*"]), int(tokens[-2]), int(tokens[-1]))
    return Serial(text, "")


def _is_range(start: str, end: str, same_digits: bool) -> bool:
    if not (_DIGITS.fullmatch(start) and _DIGITS.fullmatch(end)):
        return False
    return int(start) <= int(end) and (len(start) == len(end) or not same_digits)


def disjoint(items: Iterable[Serial]) -> bool:
    """Whether no two of `items` overlap (`overlap`): no spelling twice, and no serial shared by
    two ranges or points of one block. Then no `Claims` of some of them holds any other, and
    the checks that ask each serial in turn (in a workbook, across a run) can skip the asking:
    a sort and one sweep, against a tree walk per serial."""
    texts: set[str] = set()
    spans: list[tuple[str, int, int]] = []
    for serial in items:
        if serial.text in texts:
            return False
        texts.add(serial.text)
        if serial.start is not None and serial.end is not None:
            spans.append((serial.block, serial.start, serial.end))
        else:
            spans.extend((block, n, n) for block, n in serial.as_points())
    spans.sort()
    block, reach = None, 0
    for here, start, end in spans:
        if here == block and start <= reach:
            return False
        if here != block or end > reach:
            block, reach = here, end
    return True


def overlap(a: Serial, b: Serial) -> bool:
    """Same spelling, ranges of one block that share a serial, or a single serial inside a range."""
    claims: Claims[None] = Claims()
    claims.add(a, None)
    return claims.holds(b)


Owner = TypeVar("Owner")


class Claims(Generic[Owner]):
    """Serials claimed so far, each with its owner; answers who already holds a serial or part of it.

    The ranges of one block are kept in a search tree (`_Spans`), so that a question costs the
    logarithm of the claims plus the holders it finds: a sheet of 100,000 consecutive ranges of
    one project asked each of the others, as a list scanned from its start, took time growing
    with the square of the rows (16,000 rows: 6 s).
    """

    def __init__(self) -> None:
        self._exact: dict[str, Owner] = {}
        self._ranges: dict[str, _Spans[Owner]] = {}  # block -> its claimed (start, end, owner)

    def add(self, serial: Serial, owner: Owner) -> None:
        self._exact.setdefault(serial.text, owner)
        if serial.start is not None and serial.end is not None:  # a range
            spans = [(serial.block, serial.start, serial.end)]
        else:
            spans = [(block, n, n) for block, n in serial.as_points()]
        for block, start, end in spans:
            if block not in self._ranges:
                self._ranges[block] = _Spans()
            self._ranges[block].add(start, end, owner)

    def holders(self, serial: Serial) -> list[Owner]:
        """The owners of every claim `serial` overlaps (same spelling, or a shared serial): the
        same spelling first, then the ranges by first and last serial (in claim order when equal)."""
        return list(self.each_holder(serial))

    def each_holder(self, serial: Serial) -> Iterator[Owner]:
        """`holders`, one at a time: asking for the first costs no more than finding it."""
        if serial.text in self._exact:
            yield self._exact[serial.text]
        if serial.start is not None and serial.end is not None:  # a range
            yield from self._within(serial.block, serial.start, serial.end)
        for block, n in serial.as_points():
            yield from self._within(block, n, n)

    def holds(self, serial: Serial) -> bool:
        """Whether any claim overlaps `serial`."""
        return next((True for _ in self.each_holder(serial)), False)

    def _within(self, block: str, start: int, end: int) -> Iterator[Owner]:
        spans = self._ranges.get(block)
        return spans.overlapping(start, end) if spans is not None else iter(())


class _Node(Generic[Owner]):
    __slots__ = ("end", "key", "left", "owner", "priority", "reach", "right")

    def __init__(self, key: tuple[int, int, int], owner: Owner, priority: float) -> None:
        self.key = key  # (start, end, claim number)
        self.end = key[1]
        self.owner = owner
        self.priority = priority
        self.left: _Node[Owner] | None = None
        self.right: _Node[Owner] | None = None
        self.reach = key[1]  # the largest end in this subtree


# The trees' shapes: priorities no submitter can predict (this process's own seed), so that no
# order of serials can make a tree a long chain. Answers do not depend on them: they are by key.
_PRIORITY = random.Random(os.urandom(16)).random


class _Spans(Generic[Owner]):
    """The ranges claimed in one block: a treap ordered by (start, end, claim number) whose every
    node knows the largest end below it, so that the ranges overlapping [start, end] are found in
    order without looking at the ranges that end before `start`. Insertion walks down and rotates
    up in loops: no recursion, whatever the tree's depth."""

    def __init__(self) -> None:
        self._root: _Node[Owner] | None = None
        self._claims = 0

    def add(self, start: int, end: int, owner: Owner) -> None:
        node = _Node((start, end, self._claims), owner, _PRIORITY())
        self._claims += 1
        if self._root is None:  # most blocks: a single serial's, claimed once
            self._root = node
            return
        path: list[_Node[Owner]] = []
        here: _Node[Owner] | None = self._root
        while here is not None:  # down to where the key belongs (keys are unique: the claim number)
            path.append(here)
            here = here.left if node.key < here.key else here.right
        if node.key < path[-1].key:
            path[-1].left = node
        else:
            path[-1].right = node
        while path and path[-1].priority < node.priority:  # up while it outranks its parent
            parent = path.pop()
            if parent.left is node:
                parent.left, node.right = node.right, parent
            else:
                parent.right, node.left = node.left, parent
            _reach(parent)
            if not path:
                self._root = node
            elif path[-1].left is parent:
                path[-1].left = node
            else:
                path[-1].right = node
        _reach(node)
        for above in reversed(path):
            _reach(above)

    def overlapping(self, start: int, end: int) -> Iterator[Owner]:
        """The owners of the ranges that share a serial with [start, end], in key order."""
        stack: list[_Node[Owner]] = []
        node = self._root
        while True:
            while node is not None and node.reach >= start:  # a subtree ending before start has none
                stack.append(node)
                node = node.left
            if not stack:
                return
            node = stack.pop()
            if node.key[0] > end:  # this and every range after it start beyond `end`
                return
            if node.end >= start:
                yield node.owner
            node = node.right


def _reach(node: _Node[Owner]) -> None:
    """Set the largest end of `node`'s subtree from its own and its children's."""
    node.reach = max(
        node.end,
        node.left.reach if node.left is not None else node.end,
        node.right.reach if node.right is not None else node.end,
    )
