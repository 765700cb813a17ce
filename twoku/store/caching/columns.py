"""A column of equal-width strings kept as one string, for the cache's state of a whole store.

The state (ops/recheck.py) holds a row per file; its blob ids and fingerprints are 55,000 strings of
one width each.  Loading them as one string each is one object instead of 55,000 (a re-check after an
edit spent 45 ms loading the state, most of it making small strings).  Rows set after loading are kept
beside the string until it is written again.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator


class Fixed:
    """Strings of at most ``width`` characters and no trailing spaces (blob ids, fingerprints, "")."""

    __slots__ = ("changed", "text", "width")

    def __init__(self, text: str, width: int, changed: dict[int, str] | None = None) -> None:
        if width < 1 or len(text) % width:
            raise ValueError(f"a column of width {width} cannot hold {len(text)} characters")
        self.text = text
        self.width = width
        self.changed: dict[int, str] = changed if changed is not None else {}

    @classmethod
    def of(cls, values: Iterable[str], width: int) -> Fixed:
        values = list(values)
        if any(len(value) > width or value.endswith(" ") for value in values):
            raise ValueError(f"a value does not fit a column of width {width}")
        return cls("".join(value.ljust(width) for value in values), width)

    def __len__(self) -> int:
        return len(self.text) // self.width

    def __getitem__(self, n: int) -> str:
        value = self.changed.get(n)
        if value is not None:
            return value
        if not 0 <= n < len(self):
            raise IndexError(n)
        start = n * self.width
        return self.text[start : start + self.width].rstrip(" ")

    def __setitem__(self, n: int, value: str) -> None:
        if not 0 <= n < len(self):
            raise IndexError(n)
        if value.endswith(" "):
            raise ValueError(f"{value!r} ends with a space: a column's padding")
        if len(value) > self.width:  # wider than every value so far (the first fingerprint of a column of ""s)
            values = list(self)
            self.text, self.width, self.changed = "".join(v.ljust(len(value)) for v in values), len(value), {}
        self.changed[n] = value

    def __iter__(self) -> Iterator[str]:
        return (self[n] for n in range(len(self)))

    def differing(self, values: list[str]) -> list[int]:
        """The rows whose value is not that of ``values`` (of the same length): the whole column compared as
        text, block by block, rather than row by row."""
        if len(values) != len(self):
            raise ValueError("a column is compared with as many values as it has rows")
        width = self.width
        mine = self.dump()
        other = "".join([value if len(value) == width else value.ljust(width) for value in values])
        if mine == other:
            return []
        out = []
        step = 64 * width
        for start in range(0, len(mine), step):
            if mine[start : start + step] != other[start : start + step]:
                for n in range(start // width, min(start + step, len(mine)) // width):
                    if mine[n * width : (n + 1) * width] != other[n * width : (n + 1) * width]:
                        out.append(n)
        return out

    def copy(self) -> Fixed:
        return Fixed(self.text, self.width, dict(self.changed))

    def dump(self) -> str:
        """The column as one string again, with the rows set since it was loaded."""
        if not self.changed:
            return self.text
        parts = []
        at = 0
        for n in sorted(self.changed):
            start = n * self.width
            parts.append(self.text[at:start])
            parts.append(self.changed[n].ljust(self.width))
            at = start + self.width
        parts.append(self.text[at:])
        return "".join(parts)
