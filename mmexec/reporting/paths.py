"""Path syntax of report differences and ``--ignore`` patterns (see :mod:`mmexec.reporting.diff`).

* object keys are joined with dots: ``positions.by_symbol.BTCUSDT``; list items by index: ``items[3]``;
* a key that is not plain ASCII ``[A-Za-z0-9_-]+`` is a JSON string in brackets: ``by_symbol["BTC.USDT"]``;
* patterns add whole-segment wildcards: ``*`` (one segment), ``[*]`` (one index), ``**`` (any depth).
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable
from enum import Enum
from typing import Any

from mmexec.errors import ConfigError

Segment = str | int

_BARE_OUT = re.compile(r"[A-Za-z0-9_-]+")
_BARE_IN = re.compile(r"[^.\[\]\"\s]+")


class _Wild(Enum):
    ONE = "*"  # exactly one segment
    INDEX = "[*]"  # exactly one list index
    ANY = "**"  # zero or more segments


Token = str | int | _Wild
PathNode = tuple[Any, Segment] | None  # (parent node, segment): a path built without copying


def format_path(segments: Iterable[Segment]) -> str:
    """``("orders", "items", 3, "price")`` -> ``orders.items[3].price``; odd keys quoted: ``["BTC.USDT"]``."""
    parts: list[str] = []
    for seg in segments:
        if type(seg) is int:
            parts.append(f"[{seg}]")
        elif isinstance(seg, str) and seg.isascii() and _BARE_OUT.fullmatch(seg):
            parts.append(f".{seg}" if parts else seg)
        else:
            parts.append("[" + json.dumps(seg, ensure_ascii=False) + "]")
    return "".join(parts)


def parse_pattern(text: str) -> tuple[Token, ...]:
    """A path or ``--ignore`` pattern as segments (keys, indices, wildcards); ``ValueError`` if malformed."""
    tokens: list[Token] = []
    decoder = json.JSONDecoder()
    i, n = 0, len(text)
    while i < n or not tokens:
        if text.startswith("[*]", i):
            tokens.append(_Wild.INDEX)
            i += 3
        elif text.startswith("[", i):
            try:
                value, end = decoder.raw_decode(text, i + 1)
            except json.JSONDecodeError:
                raise ValueError(f'expected [N], [*] or ["key"] at character {i + 1}') from None
            valid = isinstance(value, str) or (type(value) is int and value >= 0)
            if not valid or not text.startswith("]", end):
                raise ValueError(f'expected [N], [*] or ["key"] at character {i + 1}')
            tokens.append(value)
            i = end + 1
        else:
            if tokens:  # a bare segment after the first needs its dot
                if not text.startswith(".", i):
                    raise ValueError(f"expected '.' or '[' at character {i + 1}")
                i += 1
            match = _BARE_IN.match(text, i)
            if match is None:
                raise ValueError(f"empty or invalid segment at character {i + 1}")
            word = match.group()
            if word in ("*", "**"):
                tokens.append(_Wild(word))
            elif "*" in word:
                raise ValueError(f'"*" must be a whole segment (quote a literal key as ["{word}"])')
            else:
                tokens.append(word)
            i = match.end()
    return tuple(tokens)


PatternStates = frozenset[tuple[int, int]]  # (pattern number, tokens matched so far)
_OTHER_KEY, _OTHER_INDEX = object(), object()  # a segment that no literal token at the current states equals


class IgnorePatterns:
    """Parsed ignore patterns (a bad one is a :class:`ConfigError` naming ``source``), matched as one small
    NFA that the walk advances one path segment at a time."""

    def __init__(self, patterns: Iterable[str], source: str = "argument ignore") -> None:
        compiled: list[tuple[Token, ...]] = []
        for text in patterns:
            try:
                compiled.append(parse_pattern(text))
            except ValueError as exc:
                raise ConfigError(f"invalid ignore pattern {text!r}: {exc}", source=source) from None
        self._patterns = compiled
        self.start: PatternStates | None = self._close({(p, 0) for p in range(len(compiled))}) or None
        # Memo of step(): (states, literal segment | is-an-index) -> result. A step depends on the segment only
        # through that key, so a walk over millions of nodes computes a handful of transitions.
        self._moves: dict[tuple[PatternStates, object], tuple[PatternStates | None, bool]] = {}
        self._literals: dict[PatternStates, frozenset[Segment]] = {}

    def _close(self, states: set[tuple[int, int]]) -> PatternStates:
        todo = list(states)
        while todo:  # `**` may match nothing: also be past it
            p, pos = todo.pop()
            pattern = self._patterns[p]
            if pos < len(pattern) and pattern[pos] is _Wild.ANY and (p, pos + 1) not in states:
                states.add((p, pos + 1))
                todo.append((p, pos + 1))
        return frozenset(states)

    def step(self, states: PatternStates, seg: Segment) -> tuple[PatternStates | None, bool]:
        """States after ``seg`` (``None``: no pattern can match below); ``True`` when a whole pattern matched."""
        literals = self._literals.get(states)
        if literals is None:
            literals = self._literals[states] = frozenset(
                token
                for p, pos in states
                if pos < len(self._patterns[p]) and not isinstance(token := self._patterns[p][pos], _Wild)
            )
        key = (states, seg if seg in literals else _OTHER_INDEX if type(seg) is int else _OTHER_KEY)
        move = self._moves.get(key)
        if move is None:
            move = self._moves[key] = self._advance(states, seg)
        return move

    def _advance(self, states: PatternStates, seg: Segment) -> tuple[PatternStates | None, bool]:
        after: set[tuple[int, int]] = set()
        for p, pos in states:
            pattern = self._patterns[p]
            if pos == len(pattern):
                continue
            token = pattern[pos]
            if token is _Wild.ANY:
                after.add((p, pos))
            elif (
                token is _Wild.ONE
                or (token is _Wild.INDEX and type(seg) is int)
                or (type(token) is type(seg) and token == seg)
            ):
                after.add((p, pos + 1))
        closed = self._close(after)
        if any(pos == len(self._patterns[p]) for p, pos in closed):
            return None, True
        return closed or None, False
