"""The project's documented errors: everything a user can cause raises one of these."""

from __future__ import annotations


class TrialgraphError(Exception):
    """Base class of every error trialgraph raises on purpose."""


class InputError(TrialgraphError):
    """A source file or record that cannot be read, naming the file, the record and what was expected."""

    def __init__(self, file: str, message: str, record: str | int | None = None) -> None:
        self.file = file
        self.record = record
        self.message = message
        where = file if record is None else f"{file}, record {record}"
        super().__init__(f"{where}: {message}")


class StoreError(TrialgraphError):
    """The store cannot be opened, is locked by another writer, or rejected an operation."""


class NotFoundError(TrialgraphError):
    """A trial, query or concept that was asked for does not exist."""
