"""A Modbus TCP or RTU link: one bounded-time read at a time, failures as DeviceError."""

from __future__ import annotations

import logging

from pymodbus.client import ModbusSerialClient, ModbusTcpClient
from pymodbus.exceptions import ConnectionException, ModbusException, ModbusIOException
from pymodbus.framer import FramerType

from app.data.errors import DeviceException, DeviceTimeout, LinkLost
from app.data.modbus_errors import describe_exception
from app.data.tagmap_model import Connection

log = logging.getLogger(__name__)


class ModbusLink:
    """Reads registers and bits from one device; every request ends within the timeout.

    pymodbus' own retries are off (one request, one timeout) so the acquisition loop decides
    what a missing answer means. After a timeout the connection is dropped: a late answer
    can then never be taken as the reply to the next request.
    """

    def __init__(self, conn: Connection) -> None:
        self.conn = conn
        self.where = conn.describe()
        self.requests = 0
        if conn.serial_port:
            self.client = ModbusSerialClient(
                conn.serial_port, framer=FramerType.RTU, baudrate=conn.baudrate,
                bytesize=conn.bytesize, parity=conn.parity, stopbits=conn.stopbits,
                timeout=conn.timeout_s, retries=0)
        else:
            self.client = ModbusTcpClient(conn.host or "127.0.0.1", port=conn.port,
                                          timeout=conn.timeout_s, retries=0)
        self._readers = {"holding": self.client.read_holding_registers,
                         "input": self.client.read_input_registers,
                         "coil": self.client.read_coils,
                         "discrete": self.client.read_discrete_inputs}

    def connect(self) -> None:
        """Open the link; LinkLost if the device cannot be reached."""
        try:
            ok = self.client.connect()
        except (OSError, ModbusException) as exc:
            ok = False
            log.debug("connect to %s failed: %s", self.where, exc)
        if not ok:
            self.client.close()
            raise LinkLost(f"cannot connect to {self.where}")

    @property
    def connected(self) -> bool:
        """True while the transport is open."""
        return bool(self.client.connected)

    def close(self) -> None:
        """Close the transport; the next read reconnects. Safe to call twice."""
        self.client.close()

    def read(self, table: str, address: int, count: int) -> list[int]:
        """``count`` registers (0..65535) or bits (0 or 1) starting at ``address``.

        Raises DeviceTimeout (no answer within the timeout), DeviceException (an exception
        response, with its code decoded), LinkLost (connection refused, reset or gone).
        """
        self.requests += 1
        try:
            rr = self._readers[table](address, count=count, device_id=self.conn.unit_id)
        except ModbusIOException as exc:
            self.close()
            raise DeviceTimeout(f"no answer from {self.where} within {self.conn.timeout_s:g} s "
                                f"to a read of {table} {address}-{address + count - 1}") from exc
        except (ConnectionException, OSError) as exc:
            self.close()
            raise LinkLost(f"lost the link to {self.where}: {exc}") from exc
        except ModbusException as exc:
            self.close()
            raise LinkLost(f"link to {self.where} failed: {exc}") from exc
        if rr.isError():
            code = int(getattr(rr, "exception_code", 0))
            raise DeviceException(describe_exception(code, rr.function_code, address, count,
                                                     self.where),
                                  code=code, function=rr.function_code & 0x7F)
        if table in ("coil", "discrete"):
            return rr.bits[:count]  # bools: 0/1 in arithmetic
        regs = rr.registers
        if len(regs) != count:
            self.close()
            raise DeviceTimeout(f"{self.where} answered {len(regs)} registers for a read of "
                                f"{count} at {table} {address}")
        return regs


def list_serial_ports() -> list[dict[str, str]]:
    """Serial ports on this machine: device name, description and hardware id."""
    from serial.tools import list_ports

    return [{"device": p.device, "description": p.description or "", "hwid": p.hwid or ""}
            for p in sorted(list_ports.comports(), key=lambda p: p.device)]
