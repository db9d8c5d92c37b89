"""Use cases: the one API the CLI and the GUI call; each write is audited in its transaction."""

from app.services.container import Services, open_services

__all__ = ["Services", "open_services"]
