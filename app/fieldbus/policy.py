"""How long a request may take and what is retried: the bounds of every Modbus request."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class RetryPolicy:
    """Bounds of every request. Worst case for one request, without exceptions:
    ``(1 + timeout_retries) * 2 * timeout_s`` (pymodbus may wait a second timeout for the
    rest of a frame); each 05/06 adds at most ``backoff_max_s``.

    ``timeout_retries=0, busy_retries=0`` makes one request one try, for a caller (the
    acquisition loop) that decides itself what a missing answer means.
    """

    timeout_s: float = 1.0
    timeout_retries: int = 2
    busy_retries: int = 6
    backoff_s: float = 0.05
    backoff_max_s: float = 1.0

    @classmethod
    def single_try(cls, timeout_s: float) -> RetryPolicy:
        """One try per request, nothing retried: the caller counts timeouts itself."""
        return cls(timeout_s=timeout_s, timeout_retries=0, busy_retries=0)

    def backoff(self, attempt: int) -> float:
        """Seconds to wait before busy retry ``attempt`` (0-based): doubling, capped."""
        return min(self.backoff_max_s, self.backoff_s * (2 ** attempt))

