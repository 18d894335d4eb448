"""The kinds of file the export job can prepare, each registered by the domain that writes it.

A kind turns the params stored with the request (the scope and the locale) into the file's name and
bytes, written into a file object (the job's temporary file: a large file is never in memory); the
domain's inline download calls the same code, so a prepared file is the file the page would have sent.
`catalog` imports every module that registers one."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import IO, Any

Params = dict[str, Any]


@dataclass(frozen=True)
class FileKind:
    name: str  # stored in export_files.kind
    mimetype: str
    filename: Callable[[Params], str]
    write: Callable[[Params, datetime, IO[bytes]], None]  # (params, now, out): writes the file to out
    title: str = ""  # for the exports page (usually a lazy string)
    # Who may still download it: the page that offered it asks the same (an admin's access-log file is
    # not kept for someone who is no longer an admin).
    allowed: Callable[[Any], bool] | None = None


KINDS: dict[str, FileKind] = {}


def register(kind: FileKind) -> FileKind:
    KINDS[kind.name] = kind
    return kind
