"""Dialogs: sign-in and unlock, the e-signature dialogs, alias and compare."""
