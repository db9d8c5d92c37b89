"""Modbus RTU timing: character time, frame sizes and the function-16 payload ceiling."""

from __future__ import annotations

from app.fieldbus.limits import WRITE_REGISTERS as FC16_MAX_REGS

BITS_PER_CHAR = 11       # start + 8 data + parity or second stop + stop
GAP_CHARS = 3.5          # the silence that ends an RTU frame
FC16_REQUEST_OVERHEAD = 9  # address, function, start (2), quantity (2), byte count, CRC (2)
FC16_RESPONSE_BYTES = 8    # address, function, start (2), quantity (2), CRC (2)
READ_RESPONSE_OVERHEAD = 5  # address, function, byte count, CRC (2)
READ_REQUEST_BYTES = 8


def char_seconds(baud: int, bits: int = BITS_PER_CHAR) -> float:
    """Time one character takes on the line."""
    return bits / baud


def fc16_transaction_seconds(n_regs: int, baud: int) -> float:
    """One function-16 write of ``n_regs`` registers and its answer, each followed by the
    3.5-character gap, with no turnaround time: the fastest the line allows."""
    chars = FC16_REQUEST_OVERHEAD + 2 * n_regs + FC16_RESPONSE_BYTES + 2 * GAP_CHARS
    return chars * char_seconds(baud)


def read_transaction_seconds(n_regs: int, baud: int) -> float:
    """One function 3/4 read of ``n_regs`` registers and its answer, with the gaps."""
    chars = READ_REQUEST_BYTES + READ_RESPONSE_OVERHEAD + 2 * n_regs + 2 * GAP_CHARS
    return chars * char_seconds(baud)


def fc16_ceiling_bytes_per_s(baud: int) -> float:
    """Register data bytes function 16 can carry per second at ``baud``: 246 bytes (123
    registers, the most one RTU frame of at most 256 bytes holds) per transaction."""
    return 2 * FC16_MAX_REGS / fc16_transaction_seconds(FC16_MAX_REGS, baud)
