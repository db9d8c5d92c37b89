"""The workstation side of the controller protocol: link, status reads, flashing, rollback."""

from app.devices.flash.client import FlashOptions, FlashOutcome, flash_package
from app.devices.flash.device import ControllerClient
from app.devices.flash.errors import (
    ControllerError,
    DeviceBusy,
    DeviceRefused,
    DoesNotFit,
    FlashCancelled,
    FlashFailed,
    LinkLost,
    LinkTimeout,
    ProtocolError,
    VerificationFailed,
)
from app.devices.flash.link import Endpoint, LinkStats, ModbusLink, RetryPolicy
from app.devices.flash.payload import PackageFacts, TransferPlan, check_fit, plan_transfer
from app.devices.flash.scan import (
    ScanResult,
    SerialPort,
    list_serial_ports,
    read_live,
    read_status,
    rollback,
    scan,
)
from app.devices.flash.views import FeatureStats, Identity, Live, ModelRef, Status, Waveform

__all__ = [
    "ControllerClient", "ControllerError", "DeviceBusy", "DeviceRefused", "DoesNotFit",
    "Endpoint", "FeatureStats", "FlashCancelled", "FlashFailed", "FlashOptions",
    "FlashOutcome", "Identity", "LinkLost", "LinkStats", "LinkTimeout", "Live", "ModbusLink",
    "ModelRef", "PackageFacts", "ProtocolError", "RetryPolicy", "ScanResult", "SerialPort",
    "Status",
    "TransferPlan", "VerificationFailed", "Waveform", "check_fit", "flash_package",
    "list_serial_ports", "plan_transfer", "read_live", "read_status", "rollback", "scan",
]
