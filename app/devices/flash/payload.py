"""What gets sent: the package, maybe zlib-compressed, cut into chunks; does it fit the target."""

from __future__ import annotations

import hashlib
import json
import zipfile
import zlib
from dataclasses import dataclass
from pathlib import Path

from app.core.errors import UsageError
from app.devices.flash.errors import DoesNotFit
from app.devices.flash.views import Identity
from app.devices.protocol.codes import Capability
from app.devices.protocol.registers import MAX_CHUNK, MAX_DIGESTS, WINDOW_HEADER_REGS
from app.fieldbus import timing
from app.fieldbus.endpoint import Endpoint

#: Assumed per-request turnaround (device plus host) on RTU, and round trip on TCP.
RTU_TURNAROUND_S = 0.003
TCP_ROUND_TRIP_S = 0.005


@dataclass(frozen=True)
class PackageFacts:
    """What the (already verified) package says about itself."""

    model_name: str
    model_version: int
    release_counter: int
    hardware_ids: tuple[str, ...]

    @classmethod
    def read(cls, path: Path) -> PackageFacts:
        try:
            with zipfile.ZipFile(path) as zf:
                body = json.loads(zf.read("manifest.json").decode("utf-8"))["body"]
            return cls(body["model_name"], int(body["model_version"]),
                       int(body["release_counter"]), tuple(body["hardware_ids"]))
        except (OSError, KeyError, ValueError, TypeError, zipfile.BadZipFile) as exc:
            raise UsageError(f"{Path(path).name} is not a readable package: {exc}") from exc

    def __str__(self) -> str:
        return f"{self.model_name} v{self.model_version} r{self.release_counter}"


@dataclass(frozen=True)
class TransferPlan:
    """The transfer stream and its chunks; ``estimated_s`` over the planned link."""

    package: bytes
    sha256: str
    wire: bytes
    compressed: bool
    chunk_size: int
    estimated_s: float

    @property
    def n_chunks(self) -> int:
        return -(-len(self.wire) // self.chunk_size)

    def chunk(self, index: int) -> tuple[int, bytes, int]:
        """(offset, data, CRC-32) of chunk ``index``."""
        offset = index * self.chunk_size
        data = self.wire[offset:offset + self.chunk_size]
        return offset, data, zlib.crc32(data)

    @property
    def ratio(self) -> float:
        """Package bytes per transferred byte (1.0 uncompressed)."""
        return len(self.package) / len(self.wire)


def estimate_seconds(wire_len: int, chunk_size: int, endpoint: Endpoint,
                     baud: int | None = None) -> float:
    """Transfer time of ``wire_len`` bytes: on RTU from the frame sizes at the baud rate
    plus a turnaround per request; on TCP a nominal round trip per request."""
    n = -(-wire_len // chunk_size)
    if endpoint.kind == "tcp":
        return n * TCP_ROUND_TRIP_S
    regs = WINDOW_HEADER_REGS + -(-chunk_size // 2)
    return n * (timing.fc16_transaction_seconds(regs, baud or endpoint.baud) + RTU_TURNAROUND_S)


def plan_transfer(package: bytes, identity: Identity, endpoint: Endpoint, *,
                  compress: bool | None = None, chunk_size: int | None = None) -> TransferPlan:
    """Compress when the controller declares zlib and it makes the stream shorter (or when
    asked); the largest chunk both sides allow unless told otherwise."""
    size = min(chunk_size or MAX_CHUNK, identity.max_chunk, MAX_CHUNK)
    wire, compressed = package, False
    can = Capability.ZLIB in identity.capabilities
    if compress and not can:
        raise DoesNotFit("the controller does not declare zlib compression", step="fit")
    if can and compress is not False:
        packed = zlib.compress(package, 9)
        if compress or len(packed) < len(package):
            wire, compressed = packed, True
    baud = min(endpoint.baud, identity.link_baud) if identity.link_baud else endpoint.baud
    return TransferPlan(package=package, sha256=hashlib.sha256(package).hexdigest(), wire=wire,
                        compressed=compressed, chunk_size=size,
                        estimated_s=estimate_seconds(len(wire), size, endpoint, baud))


def check_fit(plan: TransferPlan, identity: Identity, facts: PackageFacts) -> None:
    """Raise DoesNotFit, saying by how much, if the package does not suit the controller."""
    problems = []
    if identity.hardware_id not in facts.hardware_ids:
        problems.append(f"the package allows hardware {', '.join(facts.hardware_ids)}, the "
                        f"controller is {identity.hardware_id!r}")
    largest = max(len(plan.package), len(plan.wire))
    if largest > identity.max_package:
        problems.append(f"the package is {largest} bytes; the controller takes at most "
                        f"{identity.max_package}")
    if plan.n_chunks > MAX_DIGESTS:
        problems.append(f"{plan.n_chunks} chunks exceed the protocol's {MAX_DIGESTS}")
    if plan.estimated_s > identity.max_transfer_s:
        problems.append(f"the transfer would take about {plan.estimated_s:.0f} s over this "
                        f"link; the controller allows {identity.max_transfer_s} s")
    if problems:
        raise DoesNotFit(f"{facts} does not fit the controller: " + "; ".join(problems),
                         step="fit")
