"""Helpers every reader shares."""

from __future__ import annotations

from trialgraph.errors import InputError


def decode_utf8(data: bytes, file: str, record: str | int | None = None) -> str:
    """Decode UTF-8 (a BOM is dropped) or raise an ``InputError`` giving the offending byte offset."""
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise InputError(
            file, f"bytes that are not UTF-8 at offset {exc.start}; expected UTF-8 text", record
        ) from None
