"""The workstation side of the controller protocol: status reads, flashing, rollback.

The Modbus link, endpoint, retry policy and link errors are :mod:`app.fieldbus`'s; they are
named here too, as the types this package takes and raises."""

from app.devices.flash.client import FlashOptions, FlashOutcome, flash_package
from app.devices.flash.device import ControllerClient
from app.devices.flash.errors import (
    CommandRefused,
    ControllerError,
    DoesNotFit,
    FlashCancelled,
    FlashFailed,
    ProtocolError,
    SignerMissing,
    VerificationFailed,
)
from app.devices.flash.payload import PackageFacts, TransferPlan, check_fit, plan_transfer
from app.devices.flash.scan import (
    ScanResult,
    read_live,
    read_security,
    read_status,
    rollback,
    scan,
)
from app.devices.flash.shadow import (
    ShadowStart,
    promote_shadow,
    read_shadow,
    start_shadow,
    stop_shadow,
)
from app.devices.flash.views import (
    FeatureStats,
    Identity,
    Live,
    ModelRef,
    Security,
    ShadowStatus,
    Status,
    Waveform,
)
from app.devices.protocol.proof import CommandSigner
from app.fieldbus import (
    DeviceBusy,
    DeviceRefused,
    Endpoint,
    LinkLost,
    LinkStats,
    LinkTimeout,
    ModbusLink,
    RetryPolicy,
)

__all__ = [
    "CommandRefused", "CommandSigner", "ControllerClient", "ControllerError", "DeviceBusy",
    "DeviceRefused", "DoesNotFit",
    "Endpoint", "FeatureStats", "FlashCancelled", "FlashFailed", "FlashOptions",
    "FlashOutcome", "Identity", "LinkLost", "LinkStats", "LinkTimeout", "Live", "ModbusLink",
    "ModelRef", "PackageFacts", "ProtocolError", "RetryPolicy", "ScanResult", "Security",
    "ShadowStart", "ShadowStatus", "SignerMissing", "Status", "TransferPlan",
    "VerificationFailed", "Waveform", "check_fit", "flash_package", "plan_transfer",
    "promote_shadow", "read_live", "read_security", "read_shadow", "read_status", "rollback",
    "scan", "start_shadow", "stop_shadow",
]
