"""The controller's register map, defined once: the runtime serves it, the client reads it."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from app.devices.protocol import words as w
from app.fieldbus.limits import WRITE_REGISTERS

PROTOCOL_VERSION = 3
MAGIC = "PLML"

#: Function 16 carries at most 123 registers; the window header (session, offset, length,
#: CRC-32) takes 7 of them.
WINDOW_HEADER_REGS = 7
WINDOW_DATA_REGS = WRITE_REGISTERS - WINDOW_HEADER_REGS
MAX_CHUNK = 2 * WINDOW_DATA_REGS  # 232 bytes of package per request

MAX_FEATURES = 128
MAX_SCORES = 16
WAVE_CAPACITY = 2048              # float32 samples (all channels together)
DIGEST_BASE = 10000               # input register of chunk 0's CRC-32 (2 registers a chunk)
MAX_DIGESTS = (0x10000 - DIGEST_BASE) // 2


@dataclass(frozen=True)
class Field:
    """One named register range: table ``input`` or ``holding``; kind says how it is coded."""

    name: str
    table: str
    address: int
    count: int
    kind: str  # u16, u32, f32, ascii, sha256, hex, crc32, bytes, f32[]
    doc: str

    @property
    def end(self) -> int:
        return self.address + self.count


def _f(name: str, table: str, address: int, count: int, kind: str, doc: str) -> Field:
    return Field(name, table, address, count, kind, doc)


IN, HR = "input", "holding"
IDENTITY = (
    _f("magic", IN, 0, 2, "ascii", "'PLML' (0x504C 0x4D4C)"),
    _f("protocol_version", IN, 2, 1, "u16", f"{PROTOCOL_VERSION}"),
    _f("capabilities", IN, 3, 1, "u16", "bit 0 zlib, 1 resume, 2 waveform, 3 feature stats, "
       "4 chunk digests, 5 signed commands, 6 input validity, 7 shadow mode, "
       "8 window capture"),
    _f("max_chunk", IN, 4, 1, "u16", f"largest chunk in bytes ({MAX_CHUNK})"),
    _f("max_package", IN, 5, 2, "u32", "largest package (and transfer stream) in bytes"),
    _f("link_baud", IN, 7, 2, "u32", "serial baud rate the controller runs at; 0 on TCP"),
    _f("max_transfer_s", IN, 9, 1, "u16", "longest transfer the controller accepts, seconds"),
    _f("idle_timeout_s", IN, 10, 1, "u16", "a transfer without a chunk for this long is dropped"),
    _f("commit_deadline_s", IN, 11, 1, "u16", "default deadline for COMMIT after ACTIVATE"),
    _f("max_features", IN, 12, 1, "u16", f"feature table length ({MAX_FEATURES})"),
    _f("max_scores", IN, 13, 1, "u16", f"score slots ({MAX_SCORES})"),
    _f("wave_capacity", IN, 14, 1, "u16", f"waveform buffer capacity in samples "
       f"({WAVE_CAPACITY})"),
    _f("session_takeover_s", IN, 15, 1, "u16", "a transfer session idle this long may be "
       "taken over by another master's signed BEGIN"),
    _f("hardware_id", IN, 16, 14, "ascii", "hardware id, 28 ASCII characters, NUL-padded"),
    _f("identity_crc", IN, 30, 2, "crc32", "CRC-32 of registers 0-29"),
)
STATUS = (
    _f("state", IN, 100, 1, "u16", "0 idle, 1 receiving, 2 staged, 3 verifying, 4 self-test, "
       "5 active-unconfirmed, 6 active, 7 error"),
    _f("active_slot", IN, 101, 1, "u16", "0 none, 1 A, 2 B"),
    _f("staged_slot", IN, 102, 1, "u16", "slot a transfer writes (the inactive one)"),
    _f("staged_flags", IN, 103, 1, "u16", "bit 0 complete, 1 verified, 2 self-tested"),
    _f("last_error", IN, 104, 1, "u16", "error code (table below); 0 none"),
    _f("error_chunk", IN, 105, 2, "u32", "chunk index the error names; 0xFFFFFFFF none"),
    _f("last_cmd_seq", IN, 107, 1, "u16", "sequence number of the last command executed"),
    _f("last_cmd_code", IN, 108, 1, "u16", "code of the last command executed"),
    _f("last_cmd_result", IN, 109, 1, "u16", "0 ok, 0xFFFF running, else an error code"),
    _f("commit_remaining_s", IN, 110, 1, "u16", "seconds left to COMMIT; 0 when none pending"),
    _f("boot_count", IN, 111, 1, "u16", "boots of this state folder (wraps)"),
    _f("acked_offset", IN, 112, 2, "u32", "bytes received and checked, contiguous from 0"),
    _f("transfer_total", IN, 114, 2, "u32", "length of the transfer stream (BEGIN arg0)"),
    _f("chunk_size", IN, 116, 1, "u16", "chunk size of the transfer (BEGIN)"),
    _f("sensor_fault", IN, 117, 1, "u16", "input reason bits of the latest window (sensor "
       "fault); 0 valid"),
    _f("active_version", IN, 118, 2, "u32", "model version of the running model"),
    _f("active_counter", IN, 120, 2, "u32", "release counter of the running model"),
    _f("active_name", IN, 122, 16, "ascii", "model name of the running model (32 characters)"),
    _f("active_sha256", IN, 138, 16, "sha256", "SHA-256 of the running model's package file"),
    _f("staged_version", IN, 154, 2, "u32", "model version of the staged package (0 unknown)"),
    _f("staged_counter", IN, 156, 2, "u32", "release counter of the staged package"),
    _f("staged_name", IN, 158, 16, "ascii", "model name of the staged package"),
    _f("staged_sha256", IN, 174, 16, "sha256", "SHA-256 declared by BEGIN"),
    _f("error_text", IN, 190, 30, "ascii", "last error, readable (60 characters)"),
    _f("previous_slot", IN, 220, 1, "u16", "slot ROLLBACK returns to: 0 none (no valid "
       "previous model), 1 A, 2 B"),
    _f("status_crc", IN, 222, 2, "crc32", "CRC-32 of registers 100-221"),
)
LIVE = (
    _f("inference_count", IN, 300, 2, "u32", "windows run through the model since boot"),
    _f("prediction", IN, 302, 2, "f32", "latest label index (or value); NaN before the first"),
    _f("n_scores", IN, 304, 1, "u16", "score slots in use"),
    _f("n_features", IN, 305, 1, "u16", "feature slots in use"),
    _f("stats_count", IN, 306, 2, "u32", "windows in the running statistics"),
    _f("latency_us", IN, 308, 2, "u32", "latest inference time in microseconds"),
    _f("scores", IN, 310, 2 * MAX_SCORES, "f32[]", "latest scores (probabilities)"),
    _f("input_reason", IN, 342, 1, "u16", "input reason bits of the latest window; 0 valid"),
    _f("invalid_count", IN, 344, 2, "u32", "windows flagged invalid since boot (kept out of "
       "the running statistics)"),
    _f("features", IN, 400, 2 * MAX_FEATURES, "f32[]", "latest feature vector"),
    _f("feature_mean", IN, 700, 2 * MAX_FEATURES, "f32[]", "running mean per feature"),
    _f("feature_m2", IN, 1000, 2 * MAX_FEATURES, "f32[]",
       "running sum of squared deviations per feature (variance = m2 / (count - 1))"),
)
WAVEFORM = (
    _f("wave_seq", IN, 1500, 1, "u16", "sequence counter, +1 per new buffer (wraps)"),
    _f("wave_len", IN, 1501, 1, "u16", "samples per channel in the buffer"),
    _f("wave_channels", IN, 1502, 1, "u16", "channels in the buffer"),
    _f("wave_rate", IN, 1504, 2, "f32", "sample rate in Hz"),
    _f("wave_samples", IN, 1506, 2 * WAVE_CAPACITY, "f32[]", "samples, channel after channel"),
)
DIGESTS = (
    _f("chunk_digests", IN, DIGEST_BASE, 2 * MAX_DIGESTS, "u32[]",
       "CRC-32 of stored chunk i at 10000 + 2i, computed from the stored bytes"),
)
SECURITY = (
    _f("nonce", IN, 6100, 8, "hex", "the challenge the next proof must sign (16 random "
       "bytes, new after every accepted proof)"),
    _f("session_state", IN, 6108, 1, "u16", "0 none, 1 live, 2 abandoned (may be taken over)"),
    _f("session_idle_s", IN, 6109, 1, "u16", "seconds since the session's last chunk or "
       "command"),
    _f("session_key", IN, 6110, 4, "hex", "key id of the session's owner"),
    _f("refused_count", IN, 6114, 2, "u32", "commands and chunks refused for their proof or "
       "session, for the life of the state folder"),
    _f("last_refusal_code", IN, 6116, 1, "u16", "error code of the latest refusal (19-26)"),
    _f("last_refusal_command", IN, 6117, 1, "u16", "command code it carried; 0 a chunk"),
    _f("last_refusal_function", IN, 6118, 1, "u16", "Modbus function of the refused write "
       "(6 or 16)"),
    _f("last_refusal_age_s", IN, 6119, 1, "u16", "seconds since the latest refusal (65535 "
       "at most)"),
    _f("last_refusal_key", IN, 6120, 4, "hex", "key id the refused proof named; 0 none"),
    _f("last_refusal_text", IN, 6124, 30, "ascii", "the latest refusal, readable "
       "(60 characters)"),
    _f("security_crc", IN, 6154, 2, "crc32", "CRC-32 of registers 6100-6153"),
)
COMMAND = (
    _f("command", HR, 0, 1, "u16", "command code; executes when written"),
    _f("cmd_seq", HR, 1, 1, "u16", "sequence number; a repeated (seq, code) is not re-run"),
    _f("cmd_arg0", HR, 2, 2, "u32", "BEGIN: transfer length; ACTIVATE: deadline seconds"),
    _f("cmd_arg1", HR, 4, 2, "u32", "BEGIN: package length (after decompression)"),
    _f("cmd_flags", HR, 6, 1, "u16", "BEGIN: bit 0 zlib"),
    _f("cmd_chunk_size", HR, 7, 1, "u16", "BEGIN: chunk size in bytes"),
    _f("cmd_sha256", HR, 8, 16, "sha256", "BEGIN: SHA-256 of the package file"),
    _f("cmd_session", HR, 24, 2, "u32", "the live session's id; 0 for BEGIN and outside a "
       "session"),
    _f("cmd_nonce", HR, 26, 8, "hex", "the device's challenge (IR 6100-6107) being answered"),
    _f("cmd_key_id", HR, 34, 4, "hex", "key id of the signing key (trust file)"),
    _f("cmd_hardware_id", HR, 38, 14, "ascii", "hardware id of the device the proof is for"),
    _f("cmd_signature", HR, 52, 32, "hex", "Ed25519 signature of the signed bytes (section 7)"),
    _f("cmd_crc", HR, 84, 2, "crc32", "CRC-32 of registers 0-83"),
)
SHADOW = (
    _f("shadow_state", IN, 6400, 1, "u16", "0 off, 1 running: the staged model runs beside "
       "the active one"),
    _f("shadow_slot", IN, 6401, 1, "u16", "slot of the shadow model: 0 none, 1 A, 2 B"),
    _f("shadow_version", IN, 6402, 2, "u32", "model version of the shadow model"),
    _f("shadow_counter", IN, 6404, 2, "u32", "release counter of the shadow model"),
    _f("shadow_compared", IN, 6406, 2, "u32", "windows both models ran on since SHADOW"),
    _f("shadow_agreed", IN, 6408, 2, "u32", "of them windows with the same label (both "
       "invalid input counts as agreed)"),
    _f("shadow_agreement", IN, 6410, 1, "u16", "agreed / compared x 10000; 0 before the "
       "first window"),
    _f("shadow_failures", IN, 6411, 1, "u16", "windows the shadow model failed to run on "
       "(counted as disagreements)"),
    _f("shadow_latency_us", IN, 6412, 2, "u32", "the shadow model's latest inference time, "
       "microseconds"),
    _f("shadow_latency_mean_us", IN, 6414, 2, "u32", "its mean inference time since SHADOW"),
    _f("shadow_latency_max_us", IN, 6416, 2, "u32", "its longest inference time since SHADOW"),
    _f("shadow_running_s", IN, 6418, 2, "u32", "seconds since SHADOW started the comparison"),
    _f("shadow_sha256", IN, 6420, 16, "sha256", "SHA-256 of the shadow model's package file"),
    _f("shadow_crc", IN, 6436, 2, "crc32", "CRC-32 of registers 6400-6435"),
)
WINDOW = (
    _f("chunk_session", HR, 100, 2, "u32", "the transfer session's id (from the BEGIN proof)"),
    _f("chunk_offset", HR, 102, 2, "u32", "offset of the chunk in the transfer stream"),
    _f("chunk_length", HR, 104, 1, "u16", "bytes of data in this chunk"),
    _f("chunk_crc", HR, 105, 2, "crc32", "CRC-32 of the chunk's data bytes"),
    _f("chunk_data", HR, 107, WINDOW_DATA_REGS, "bytes", "data, two bytes a register"),
)
#: Window capture (protocol 3, section 6e): the master selects one window of the ring by its
#: id; the page and the samples below then show that window, frozen, however the ring moves.
CAPTURE_BASE, CAPTURE_COUNT = 1000, 76
CAPTURE_DATA_BASE = 2000          # holding register of the selected window's first sample
MAX_CAPTURE_SAMPLES = 16384       # float32 samples of one window (all channels together)
CAPTURE = (
    _f("capture_select", HR, 1000, 2, "u32", "write a window id to select that window (0 "
       "clears); reads back the selected id"),
    _f("capture_depth", HR, 1002, 1, "u16", "windows the ring keeps (64 unless set at serve)"),
    _f("capture_held", HR, 1003, 1, "u16", "windows in the ring now"),
    _f("capture_newest", HR, 1004, 2, "u32", "id of the newest window; 0 none yet"),
    _f("capture_oldest", HR, 1006, 2, "u32", "id of the oldest window still held"),
    _f("capture_id", HR, 1008, 2, "u32", "id of the selected window; 0 none selected"),
    _f("capture_time_s", HR, 1010, 2, "u32", "UTC time of the window's last sample, Unix "
       "seconds"),
    _f("capture_time_ms", HR, 1012, 1, "u16", "and its milliseconds"),
    _f("capture_channels", HR, 1013, 1, "u16", "channels of the selected window"),
    _f("capture_samples", HR, 1014, 1, "u16", "samples per channel"),
    _f("capture_input_reason", HR, 1015, 1, "u16", "input reason bits (section 4); 0 valid"),
    _f("capture_rate", HR, 1016, 2, "f32", "sample rate in Hz"),
    _f("capture_label", HR, 1018, 2, "f32", "the label index the model predicted; -1.0 "
       "invalid input"),
    _f("capture_n_scores", HR, 1020, 1, "u16", "score slots in use"),
    _f("capture_model_version", HR, 1022, 2, "u32", "model version that classified it"),
    _f("capture_model_sha256", HR, 1024, 16, "sha256", "SHA-256 of that model's package"),
    _f("capture_scores", HR, 1040, 2 * MAX_SCORES, "f32[]", "its scores (probabilities)"),
    _f("capture_data_crc", HR, 1072, 2, "crc32", "CRC-32 of the samples' registers (HR 2000 "
       "on, 2 x channels x samples)"),
    _f("capture_crc", HR, 1074, 2, "crc32", "CRC-32 of registers 1000-1073"),
    _f("capture_data", HR, CAPTURE_DATA_BASE, 2 * MAX_CAPTURE_SAMPLES, "f32[]",
       "the selected window's samples, float32, channel after channel"),
)
BLOCKS = {"identity": IDENTITY, "status": STATUS, "live": LIVE, "waveform": WAVEFORM,
          "digests": DIGESTS, "security": SECURITY, "shadow": SHADOW, "command": COMMAND,
          "window": WINDOW, "capture": CAPTURE}
FIELDS = {f.name: f for block in BLOCKS.values() for f in block}

IDENTITY_BASE, IDENTITY_COUNT = 0, 32
STATUS_BASE, STATUS_COUNT = 100, 124
LIVE_BASE, LIVE_HEAD_COUNT = 300, 46
WAVE_BASE, WAVE_HEAD_COUNT = 1500, 6
SECURITY_BASE, SECURITY_COUNT = 6100, 56
SHADOW_BASE, SHADOW_COUNT = 6400, 38
COMMAND_BASE, COMMAND_COUNT = 0, 86
#: Registers of the command block the signature covers (0-51), and the proof's registers
#: that a holding-register read never shows (session, nonce, key, hardware id, signature).
SIGNED_REGS = 52
SECRET_HOLDING = range(24, 84)
WINDOW_BASE = 100


def encode(field: Field, value: Any) -> list[int]:
    """Registers of ``value`` for ``field``."""
    if field.kind == "u16":
        return [int(value) & 0xFFFF]
    if field.kind in ("u32", "crc32"):
        return w.u32_words(value)
    if field.kind == "f32":
        return w.f32_words([value])
    if field.kind == "ascii":
        return w.ascii_words(value, field.count)
    if field.kind == "sha256":
        return w.sha_words(value)
    if field.kind == "hex":
        raw = bytes.fromhex(value) if value else b""
        return w.bytes_words(raw[: 2 * field.count].ljust(2 * field.count, b"\0"))
    raise ValueError(f"field {field.name} ({field.kind}) is not a scalar")


def decode(field: Field, regs: Sequence[int], base: int) -> Any:
    """Value of ``field`` from ``regs``, a read that started at register ``base``."""
    part = regs[field.address - base: field.end - base]
    if len(part) != field.count:
        raise ValueError(f"read does not cover {field.name} at {field.address}")
    if field.kind == "u16":
        return int(part[0])
    if field.kind in ("u32", "crc32"):
        return w.words_u32(part)
    if field.kind == "f32":
        return float(w.words_f32(part)[0])
    if field.kind == "ascii":
        return w.words_ascii(part)
    if field.kind == "sha256":
        return w.words_sha(part)
    if field.kind == "hex":
        return w.words_bytes(part).hex()
    raise ValueError(f"field {field.name} ({field.kind}) is not a scalar")


def place(page: list[int], base: int, values: dict[str, Any]) -> list[int]:
    """Write each named value into ``page`` (registers from ``base``); returns the page."""
    for name, value in values.items():
        field = FIELDS[name]
        page[field.address - base: field.end - base] = encode(field, value)
    return page


def seal(page: list[int], crc_field: Field, base: int) -> list[int]:
    """Put the CRC-32 of the registers before ``crc_field`` into it."""
    body = page[: crc_field.address - base]
    page[crc_field.address - base: crc_field.end - base] = w.u32_words(w.crc32_words(body))
    return page


def sealed(regs: Sequence[int], crc_field: Field, base: int) -> bool:
    """True if a page read from ``base`` carries the right CRC-32 in ``crc_field``."""
    body = regs[: crc_field.address - base]
    return decode(crc_field, regs, base) == w.crc32_words(body)


def markdown_table(block: str) -> str:
    """The rows of ``block`` as the Markdown table docs/controller-protocol.md shows."""
    table = {"input": "IR", "holding": "HR"}
    rows = ["| register | name | type | meaning |", "| --- | --- | --- | --- |"]
    for f in BLOCKS[block]:
        where = f"{table[f.table]} {f.address}" + (f"-{f.end - 1}" if f.count > 1 else "")
        rows.append(f"| {where} | `{f.name}` | {f.kind} | {f.doc} |")
    return "\n".join(rows)
