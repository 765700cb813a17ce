"""One error hierarchy; the CLI turns each into a located message and an exit code."""

from __future__ import annotations


class TwokuError(Exception):
    """A problem the user can fix: wrong input, wrong place, refused operation."""

    exit_code = 1

    def __init__(self, message: str, hint: str | None = None, path: str | None = None, line: int | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint
        self.path = path
        self.line = line


class UsageError(TwokuError):
    """Arguments that make no sense together or name nothing that exists."""

    exit_code = 2


class StoreNotFound(TwokuError):
    """The directory is not inside a twoku store."""
