"""What one Modbus request may carry, and the four data tables (Modbus V1.1b3, section 6)."""

from __future__ import annotations

TABLES = ("holding", "input", "coil", "discrete")
BIT_TABLES = ("coil", "discrete")

READ_REGISTERS = 125  # function codes 3 and 4
READ_BITS = 2000  # function codes 1 and 2
WRITE_REGISTERS = 123  # function code 16


def read_limit(table: str) -> int:
    """Largest quantity one read of ``table`` may ask for."""
    return READ_BITS if table in BIT_TABLES else READ_REGISTERS
