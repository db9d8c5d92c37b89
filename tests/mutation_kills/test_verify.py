"""The expiry override's own guard: both who and a reason are required, blanks do not count."""

from __future__ import annotations

import pytest

from app.core.errors import UsageError
from app.packages.verify import ExpiryOverride


@pytest.mark.parametrize("who,reason", [("", "line down"), ("  ", "line down"),
                                        ("alex", ""), ("alex", " \t")])
def test_an_override_needs_who_and_a_reason(who, reason):
    with pytest.raises(UsageError, match="^an expiry override needs who and a reason$"):
        ExpiryOverride(who, reason)


def test_a_full_override_is_kept_as_given():
    o = ExpiryOverride(" alex", "line down ")
    assert (o.who, o.reason) == (" alex", "line down ")
