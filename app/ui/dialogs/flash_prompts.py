"""The questions a flash and a rollback ask: which approved version, the password, and why."""

from __future__ import annotations

from PySide6.QtWidgets import QInputDialog, QLineEdit, QWidget


def choose_version(parent: QWidget, target: str, choices: list[str]) -> str | None:
    """Ask which of ``choices`` to flash into ``target``; None if cancelled."""
    ref, ok = QInputDialog.getItem(parent, "Flash a model",
                                   f"Approved version to flash into {target}:",
                                   choices, 0, False)
    return str(ref) if ok and ref else None


def confirm_flash(parent: QWidget, target: str, running: str, ref: str) -> str | None:
    """Say that ``ref`` replaces ``running`` on ``target`` and ask for the password again;
    None if cancelled."""
    text, ok = QInputDialog.getText(
        parent, "Replace the running model",
        f"{ref} replaces {running} on {target}: the controller runs the new model once "
        "it is verified and its self-test passes.\n\nYour password, to confirm:",
        QLineEdit.EchoMode.Password)
    return str(text) if ok and text else None


def ask_rollback_reason(parent: QWidget, target: str | None) -> str | None:
    """Ask why ``target`` rolls back; None if cancelled."""
    text, ok = QInputDialog.getMultiLineText(
        parent, "Roll back", f"Why does {target} return to its previous "
        "model? (recorded in the audit trail)")
    return str(text) if ok else None
