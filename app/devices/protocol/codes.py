"""Protocol enumerations: controller states, command codes, error codes, capability bits."""

from __future__ import annotations

from enum import IntEnum, IntFlag


class State(IntEnum):
    """What the controller's flash state machine is doing (status register ``state``)."""

    IDLE = 0                # no model runs and nothing is in progress
    RECEIVING = 1           # BEGIN accepted, transfer window chunks expected
    STAGED = 2              # every byte received (see staged_flags for verified / self-tested)
    VERIFYING = 3           # SHA-256, signature, hardware id and release counter being checked
    SELF_TEST = 4           # golden inputs running (before ACTIVATE, or confirming a COMMIT)
    ACTIVE_UNCONFIRMED = 5  # new model runs; reverts unless COMMIT arrives before the deadline
    ACTIVE = 6              # a committed model runs, nothing in progress
    ERROR = 7               # the last step failed; last_error says why; the old model still runs


class Command(IntEnum):
    """Codes written to the command register (holding register 0)."""

    BEGIN = 1       # start a transfer: total length, package length, flags, chunk size, SHA-256
    VERIFY = 2      # check the staged bytes and the package, write them to the inactive slot
    SELF_TEST = 3   # run the staged package's golden inputs in onnxruntime
    ACTIVATE = 4    # run the staged slot, unconfirmed; arg0 = commit deadline in seconds
    COMMIT = 5      # confirm the unconfirmed model (after a last golden self-test on it)
    ROLLBACK = 6    # go back to the previous slot
    ABORT = 7       # drop the transfer or the staged package; the running model stays
    RESET_STATS = 8  # restart the running per-feature statistics
    SHADOW = 9       # run the self-tested staged model beside the active one (IR 6400-)
    SHADOW_STOP = 10  # stop the shadow comparison (the staged package stays)


#: Protocol 2: every command changes what the plant runs or what it is judged by (VERIFY frees
#: the rollback target's slot, RESET_STATS clears the drift evidence), so every one needs the
#: workstation's signed proof; none may be written alone into register 0 with function 6.
SIGNED_COMMANDS = frozenset(Command)


class ErrorCode(IntEnum):
    """``last_error`` and ``last_cmd_result`` values; the error text register says more."""

    NONE = 0
    BAD_COMMAND = 1        # unknown command code or a command block with a bad CRC-32
    BAD_STATE = 2          # the command is not possible in the current state
    BAD_ARGUMENT = 3       # length, chunk size, flags or deadline out of range
    TOO_LARGE = 4          # the package is larger than the controller accepts
    CHUNK_OFFSET = 5       # a chunk at an offset other than the acknowledged one
    CHUNK_CRC = 6          # a chunk whose CRC-32 disagrees with its data
    CHUNK_LENGTH = 7       # a chunk longer than the chunk size or past the total length
    VERIFY_HASH = 8        # staged bytes differ: "verification failed at chunk k"
    DECOMPRESS = 9         # the zlib stream is corrupt or longer than declared
    PACKAGE_REFUSED = 10   # signature, hardware id, release counter, expiry, files ...
    SELF_TEST_FAILED = 11  # golden outputs not reproduced
    LOAD_FAILED = 12       # onnxruntime could not load the model
    COMMIT_TIMEOUT = 13    # no COMMIT before the deadline: reverted to the previous slot
    NO_PREVIOUS = 14       # ROLLBACK without a previous model
    STORAGE = 15           # the slot or state file could not be written
    TRANSFER_TIMEOUT = 16  # no chunk for longer than the idle timeout: transfer dropped
    BOOT_REVERTED = 17     # an unconfirmed activation found at boot was reverted
    NO_MODEL = 18          # no bootable model on the controller
    # Refusals of a command's proof or session (protocol 2; counted in the security block,
    # never written to last_error, so a stranger's attempts cannot hide the device's state).
    PROOF_MISSING = 19       # a command without the signed block (function 6, or unsigned)
    PROOF_STALE = 20         # the nonce is not the device's current challenge
    PROOF_REPLAYED = 21      # the nonce was already used by an accepted proof
    PROOF_WRONG_DEVICE = 22  # the proof names another hardware id
    PROOF_UNTRUSTED_KEY = 23  # key not in the trust file, revoked, retired or not an operator's
    PROOF_BAD_SIGNATURE = 24  # the Ed25519 signature does not verify
    SESSION_BUSY = 25        # another master's transfer session is live
    SESSION_MISMATCH = 26    # the session id is not the live session's (or none is live)


#: last_cmd_result while a command still runs in the background.
RESULT_RUNNING = 0xFFFF


class Capability(IntFlag):
    """Bits of the ``capabilities`` identity register."""

    ZLIB = 1          # BEGIN flag bit 0 accepted: the transfer stream is zlib-compressed
    RESUME = 2        # a transfer survives a link loss; acked_offset says where to go on
    WAVEFORM = 4      # a waveform buffer is served (demo replay or a real sensor)
    FEATURE_STATS = 8  # running per-feature statistics are published
    DIGESTS = 16      # per-chunk CRC-32 of the stored bytes readable for read-back
    SIGNED = 32       # commands need the signed proof; transfers are sessions (protocol 2)
    INPUT_VALIDITY = 64  # each window's input check is published (sensor fault, counter)
    SHADOW = 128      # SHADOW / SHADOW_STOP and the shadow block (IR 6400-6437)
    CAPTURE = 256     # the ring of latest raw windows is readable (protocol 3, HR 1000-)


class StagedFlag(IntFlag):
    """Bits of ``staged_flags``."""

    COMPLETE = 1     # every byte of the transfer acknowledged
    VERIFIED = 2     # VERIFY passed; the package sits in the inactive slot
    SELF_TESTED = 4  # SELF_TEST passed


class BeginFlag(IntFlag):
    """Bits of the BEGIN command's flags register."""

    ZLIB = 1


#: Refusal codes (a command or chunk refused for its proof or session).
REFUSALS = frozenset({ErrorCode.PROOF_MISSING, ErrorCode.PROOF_STALE, ErrorCode.PROOF_REPLAYED,
                      ErrorCode.PROOF_WRONG_DEVICE, ErrorCode.PROOF_UNTRUSTED_KEY,
                      ErrorCode.PROOF_BAD_SIGNATURE, ErrorCode.SESSION_BUSY,
                      ErrorCode.SESSION_MISMATCH})


class ShadowState(IntEnum):
    """``shadow_state`` of the shadow block."""

    OFF = 0      # no staged model runs beside the active one
    RUNNING = 1  # the staged model runs on every window the active one runs on


class SessionState(IntEnum):
    """``session_state`` of the security block."""

    NONE = 0       # no transfer session
    LIVE = 1       # a session is live: only its owner may send chunks and commands
    ABANDONED = 2  # idle longer than session_takeover_s: a signed BEGIN may take it over


#: Input validity reason bits (the model's ``input_reason`` output, published as
#: ``sensor_fault`` / ``input_reason``): the same bits as app.features.validity (a test keeps
#: them equal), spelled out here because the wire carries them.
INPUT_REASONS: dict[int, str] = {
    1: "non-finite samples (NaN or infinite)",
    2: "flat line (dead or disconnected sensor)",
    4: "clipped (saturated sensor or converter)",
    8: "level far below the training envelope",
    16: "level far above the training envelope",
    32: "shaft speed outside the training envelope",
}
#: The prediction register's value for an invalid window: no class (the exported graph's
#: label for it), scores all 0.
INVALID_PREDICTION = -1.0


def describe_input(reason: int) -> str:
    """The reason bits in words ('' for 0; unknown bits by number)."""
    known = [text for bit, text in INPUT_REASONS.items() if reason & bit]
    rest = reason & ~sum(INPUT_REASONS)
    return "; ".join(known + ([f"reason bits {rest:#x}"] if rest else []))


#: Slot numbers as the status block shows them.
SLOT_NONE, SLOT_A, SLOT_B = 0, 1, 2
SLOT_NAMES = {SLOT_NONE: "-", SLOT_A: "A", SLOT_B: "B"}
