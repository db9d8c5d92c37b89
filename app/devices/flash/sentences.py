"""A controller's error codes and a failed command in sentences a plant engineer reads: no
register numbers, no enum names, no protocol dumps (those stay in the log and the audit)."""

from __future__ import annotations

from typing import Any

from app.core.errors import UsageError
from app.devices.protocol.codes import RESULT_RUNNING, ErrorCode
from app.fieldbus.errors import DeviceError, ExceptionResponse, LinkLost, LinkTimeout
from app.fieldbus.exceptions import MEANING, ExceptionCode

#: What each error code means, as a sentence; True where the controller's own text adds
#: what the sentence cannot know (which check, which file), False where it only repeats it.
ERROR_SENTENCES: dict[ErrorCode, tuple[str, bool]] = {
    ErrorCode.BAD_COMMAND: ("the controller did not understand the command", False),
    ErrorCode.BAD_STATE: ("the controller cannot do that in its current state", True),
    ErrorCode.BAD_ARGUMENT: ("the controller refused a value of the command", True),
    ErrorCode.TOO_LARGE: ("the package is larger than the controller accepts", False),
    ErrorCode.CHUNK_OFFSET: ("a piece of the transfer arrived out of order", False),
    ErrorCode.CHUNK_CRC: ("a piece of the transfer arrived damaged", False),
    ErrorCode.CHUNK_LENGTH: ("a piece of the transfer had the wrong length", False),
    ErrorCode.VERIFY_HASH: ("the controller's copy of the package differs from the one sent",
                            True),
    ErrorCode.DECOMPRESS: ("the transferred package could not be unpacked", False),
    ErrorCode.PACKAGE_REFUSED: ("the controller refused the package", True),
    ErrorCode.SELF_TEST_FAILED: ("the model failed its self-test on the controller", True),
    ErrorCode.LOAD_FAILED: ("the controller could not load the model", True),
    ErrorCode.COMMIT_TIMEOUT: ("the new model was not confirmed in time, so the controller "
                               "went back to its previous model", False),
    ErrorCode.NO_PREVIOUS: ("the controller holds no valid previous model to roll back to",
                            False),
    ErrorCode.STORAGE: ("the controller could not write its storage", True),
    ErrorCode.TRANSFER_TIMEOUT: ("the transfer stalled too long and was dropped", False),
    ErrorCode.BOOT_REVERTED: ("an unconfirmed model was found at start-up and reverted", False),
    ErrorCode.NO_MODEL: ("the controller has no model it can run", False),
    ErrorCode.PROOF_MISSING: ("the controller needs a signed command and got none", False),
    ErrorCode.PROOF_STALE: ("another workstation sent a command at the same moment; try again",
                            False),
    ErrorCode.PROOF_REPLAYED: ("the controller saw this signed command before and refused "
                               "it again", False),
    ErrorCode.PROOF_WRONG_DEVICE: ("the signed command was made for another controller",
                                   False),
    ErrorCode.PROOF_UNTRUSTED_KEY: ("the controller does not trust this workstation's command "
                                    "key (give it the trust file of 'plantml keys export')",
                                    False),
    ErrorCode.PROOF_BAD_SIGNATURE: ("the command's signature did not verify on the controller",
                                    False),
    ErrorCode.SESSION_BUSY: ("another workstation is flashing this controller right now",
                             False),
    ErrorCode.SESSION_MISMATCH: ("the transfer session this command belongs to has ended",
                                 False),
}


def error_sentence(code: int, text: str = "") -> str:
    """The error ``code`` as a sentence, with the controller's own ``text`` where it adds
    something ('' for no error)."""
    try:
        known = ErrorCode(code)
    except ValueError:
        return f"the controller reported an error it does not explain (code {code})"
    if known is ErrorCode.NONE:
        return ""
    sentence, detail = ERROR_SENTENCES[known]
    text = text.strip()
    return f"{sentence} ({text})" if detail and text else sentence


def _model(status: Any) -> str:
    active = getattr(status, "active", None)
    return f"{active.name} v{active.version}" if active is not None else "no model"


def failure_sentence(exc: DeviceError, where: str) -> str:
    """Why a command to the controller at ``where`` failed, and what runs now when known."""
    status = getattr(exc, "status", None)
    code = getattr(exc, "code", 0)  # a refusal of the command's proof or session
    if isinstance(exc, UsageError):
        return str(exc)  # said in words already (no signer, a package that does not fit)
    if isinstance(exc, LinkTimeout) and status is not None:
        why = f"the controller at {where} did not finish the command in time"
    elif isinstance(exc, LinkTimeout):
        why = (f"the controller at {where} did not answer in time; scan again to see what it "
               "runs")
    elif isinstance(exc, LinkLost):
        why = f"the controller at {where} cannot be reached (no connection, or it was lost)"
    elif code:
        why = error_sentence(code)
    elif status is not None and status.last_cmd_result not in (0, RESULT_RUNNING):
        why = error_sentence(status.last_cmd_result, status.error_text)
    elif status is not None and status.last_error:
        why = error_sentence(status.last_error, status.error_text)
    elif isinstance(exc, ExceptionResponse) and exc.exception_code in MEANING:
        why = MEANING[ExceptionCode(exc.exception_code)]
    else:
        why = f"the controller at {where} gave an answer this workstation cannot use"
    if status is not None:
        why += f"; it runs {_model(status)}"
    return why
