from __future__ import annotations

from consultroom.accounts.models import User
from consultroom.interpreters.models import Interpreter, InterpreterImportBatch


def can_manage_interpreters(user: User) -> bool:
    """Staff and admins keep the registry and read the monthly report."""
    return bool(user.is_authenticated and user.is_staff)


def can_view_interpreter(user: User, interpreter: Interpreter) -> bool:
    return can_manage_interpreters(user)


def can_edit_interpreter(user: User, interpreter: Interpreter) -> bool:
    return can_manage_interpreters(user)


def is_linked_interpreter(user: User, interpreter: Interpreter | None) -> bool:
    """The logged-in user is the account linked to this interpreter (their own assignments only)."""
    return bool(user.is_authenticated and interpreter is not None and interpreter.user_id == user.id)


def can_use_import_batch(user: User, batch: InterpreterImportBatch) -> bool:
    """Only the uploader previews and confirms a file: what another person confirms, they never saw."""
    return can_manage_interpreters(user) and batch.created_by_id == user.id
