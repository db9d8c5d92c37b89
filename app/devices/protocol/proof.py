"""The signed command block of protocol 2 (docs/controller-protocol.md section 7): its register
layout, the exact bytes the Ed25519 signature covers, and the session id a BEGIN proof
issues. Shared by the workstation client, which signs, and the runtime, which verifies; no
cryptography here (the signer and the verifier bring their own)."""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import Protocol

from app.devices.protocol import registers as r
from app.devices.protocol import words as w

#: Domain separation: a command signature can never be taken for any other signature the
#: same key makes (audit checkpoints and exports sign canonical JSON, which starts with '{').
DOMAIN = b"PLML-CMD-v2\x00"
SESSION_DOMAIN = b"PLML-SESSION-v2\x00"
NONCE_BYTES = 16
KEY_ID_HEX = 16  # the trust file's key ids: 16 hex digits (8 bytes)
SIGNATURE_BYTES = 64


class CommandSigner(Protocol):
    """What signs commands on the workstation: a key the controller's trust file holds with
    the ``operator`` role."""

    @property
    def key_id(self) -> str:
        """16 hex digits, as the trust file names the key."""
        ...

    def sign(self, message: bytes) -> bytes:
        """The 64-byte Ed25519 signature of ``message``."""
        ...


@dataclass(frozen=True)
class CommandBlock:
    """One command as written to HR 0-85."""

    command: int
    seq: int
    arg0: int = 0
    arg1: int = 0
    flags: int = 0
    chunk_size: int = 0
    sha256: str | None = None
    session: int = 0
    nonce: str = ""        # hex, 16 bytes
    key_id: str = ""       # hex, 8 bytes
    hardware_id: str = ""
    signature: bytes = b""

    def signed_registers(self) -> list[int]:
        """Registers 0-51: everything the signature covers."""
        values = {"command": self.command, "cmd_seq": self.seq, "cmd_arg0": self.arg0,
                  "cmd_arg1": self.arg1, "cmd_flags": self.flags,
                  "cmd_chunk_size": self.chunk_size, "cmd_sha256": self.sha256,
                  "cmd_session": self.session, "cmd_nonce": self.nonce,
                  "cmd_key_id": self.key_id, "cmd_hardware_id": self.hardware_id}
        return r.place([0] * r.SIGNED_REGS, r.COMMAND_BASE, values)

    def message(self) -> bytes:
        """The signed bytes: DOMAIN, then registers 0-51 as big-endian bytes (116 bytes)."""
        return DOMAIN + w.words_bytes(self.signed_registers())

    def registers(self) -> list[int]:
        """The whole block, HR 0-85, CRC-32 last."""
        sig = self.signature.ljust(SIGNATURE_BYTES, b"\0")[:SIGNATURE_BYTES]
        regs = self.signed_registers() + w.bytes_words(sig)
        return regs + w.u32_words(w.crc32_words(regs))

    @classmethod
    def decode(cls, regs: Sequence[int]) -> CommandBlock:
        """The block from HR 0-85 as written (the CRC-32 is checked by the caller)."""
        v = {f.name: r.decode(f, regs, r.COMMAND_BASE) for f in r.COMMAND
             if f.name != "cmd_signature"}
        sig_field = r.FIELDS["cmd_signature"]
        return cls(command=v["command"], seq=v["cmd_seq"], arg0=v["cmd_arg0"],
                   arg1=v["cmd_arg1"], flags=v["cmd_flags"], chunk_size=v["cmd_chunk_size"],
                   sha256=v["cmd_sha256"], session=v["cmd_session"], nonce=v["cmd_nonce"],
                   key_id=v["cmd_key_id"], hardware_id=v["cmd_hardware_id"],
                   signature=w.words_bytes(regs[sig_field.address:sig_field.end]))

    def signed_by(self, signer: CommandSigner) -> CommandBlock:
        """This block with ``key_id`` and the signature of ``signer``."""
        named = replace(self, key_id=signer.key_id)
        return replace(named, signature=signer.sign(named.message()))


def session_of(signature: bytes) -> int:
    """The session id a BEGIN issues: the first 4 bytes of SHA-256(SESSION_DOMAIN +
    signature), never 0. Only the master that signed the BEGIN (and the device) know it:
    holding-register reads never show the proof registers."""
    value = int.from_bytes(hashlib.sha256(SESSION_DOMAIN + bytes(signature)).digest()[:4], "big")
    return value or 1
