"""The schema's protections on PostgreSQL: the same append-only rules as the SQLite triggers,
as PL/pgSQL triggers (plus TRUNCATE, which skips row triggers), checked and restored."""

from __future__ import annotations

import re

from sqlalchemy import Connection, text

#: The one trigger function: refuse the statement with the message the trigger passes.
FUNCTION = "plantml_refuse"
FUNCTION_BODY = " BEGIN RAISE EXCEPTION '%', TG_ARGV[0] USING ERRCODE = 'restrict_violation'; END "
FUNCTION_SQL = (f"CREATE OR REPLACE FUNCTION {FUNCTION}() RETURNS trigger LANGUAGE plpgsql "
                f"AS $plantml${FUNCTION_BODY}$plantml$")

#: Trigger name -> (table, when, message): the rules of app/store/protections.py.
_RULES = {
    "audit_events_no_update": ("audit_events", "BEFORE UPDATE", "the audit trail is append-only"),
    "audit_events_no_delete": ("audit_events", "BEFORE DELETE", "the audit trail is append-only"),
    "audit_events_no_truncate": ("audit_events", "BEFORE TRUNCATE",
                                 "the audit trail is append-only"),
    "audit_checkpoints_no_update": ("audit_checkpoints", "BEFORE UPDATE",
                                    "audit checkpoints are append-only"),
    "audit_checkpoints_no_delete": ("audit_checkpoints", "BEFORE DELETE",
                                    "audit checkpoints are append-only"),
    "audit_checkpoints_no_truncate": ("audit_checkpoints", "BEFORE TRUNCATE",
                                      "audit checkpoints are append-only"),
    "signatures_no_update": ("signatures", "BEFORE UPDATE", "signatures are append-only"),
    "signatures_no_delete": ("signatures", "BEFORE DELETE", "signatures are append-only"),
    "signatures_no_truncate": ("signatures", "BEFORE TRUNCATE", "signatures are append-only"),
    "user_keys_no_delete": ("user_keys", "BEFORE DELETE", "signing keys are never deleted"),
    "user_keys_no_truncate": ("user_keys", "BEFORE TRUNCATE", "signing keys are never deleted"),
    "user_keys_fixed": ("user_keys", "BEFORE UPDATE OF key_id, user_id, public_key",
                        "a signing key cannot be changed"),
    "audit_keys_no_update": ("audit_keys", "BEFORE UPDATE", "audit keys are append-only"),
    "audit_keys_no_delete": ("audit_keys", "BEFORE DELETE", "audit keys are append-only"),
    "audit_keys_no_truncate": ("audit_keys", "BEFORE TRUNCATE", "audit keys are append-only"),
}

#: The groups migrations 0001, 0005 and 0006 install.
INITIAL = tuple(n for n in _RULES if n.startswith("audit_events") or
                n.startswith("audit_checkpoints"))
SECURITY = tuple(n for n in _RULES if n.startswith(("signatures", "user_keys")))
AUDIT_KEYS = tuple(n for n in _RULES if n.startswith("audit_keys"))


def trigger_sql(name: str) -> str:
    """The CREATE TRIGGER statement of protection ``name``, as pg_get_triggerdef shows it."""
    table, when, message = _RULES[name]
    each = "STATEMENT" if when.endswith("TRUNCATE") else "ROW"
    return (f"CREATE TRIGGER {name} {when} ON {table} FOR EACH {each} "
            f"EXECUTE FUNCTION {FUNCTION}('{message}')")


PROTECTIONS = {name: trigger_sql(name) for name in _RULES}


def install(conn: Connection, names: tuple[str, ...] | list[str]) -> None:
    """Create (or replace) the trigger function and the triggers ``names``, in the caller's
    transaction."""
    conn.execute(text(FUNCTION_SQL))
    for name in names:
        conn.execute(text(f"DROP TRIGGER IF EXISTS {name} ON {_RULES[name][0]}"))
        conn.execute(text(PROTECTIONS[name]))


def _normal(sql: str | None) -> str:
    sql = re.sub(r"\s+", " ", sql or "").strip().rstrip(";").lower()
    # pg_get_triggerdef qualifies the table with its schema when it is not on the path.
    return re.sub(r" on [a-z_][a-z0-9_]*\.", " on ", sql)


def missing(conn: Connection, names: tuple[str, ...] | None = None) -> list[str]:
    """Protections absent, disabled (ALTER TABLE ... DISABLE TRIGGER) or altered; a changed
    trigger function makes every trigger count as altered."""
    wanted = list(names or PROTECTIONS)
    body = conn.execute(text(
        "SELECT p.prosrc FROM pg_proc p JOIN pg_language l ON l.oid = p.prolang "
        "WHERE p.proname = :f AND l.lanname = 'plpgsql' AND pg_function_is_visible(p.oid)"),
        {"f": FUNCTION}).scalar()
    if body is None or _normal(body) != _normal(FUNCTION_BODY):
        return wanted
    stored = {name: (enabled, definition) for name, enabled, definition in conn.execute(text(
        "SELECT t.tgname, t.tgenabled, pg_get_triggerdef(t.oid) FROM pg_trigger t "
        "WHERE NOT t.tgisinternal AND pg_table_is_visible(t.tgrelid)"))}
    out = []
    for name in wanted:
        enabled, definition = stored.get(name, ("", None))
        if enabled not in ("O", "A") or _normal(definition) != _normal(PROTECTIONS[name]):
            out.append(name)
    return out
