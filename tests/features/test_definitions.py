"""docs/features.md states every feature and check definition word for word as the card does."""

from pathlib import Path

from app.features import definitions

DOC = Path(__file__).resolve().parents[2] / "docs" / "features.md"


def test_docs_quote_every_definition():
    text = DOC.read_text(encoding="utf-8")
    for item in (definitions.COMMON, definitions.ENVELOPE, definitions.BINS,
                 definitions.VALIDITY, *definitions.GROUPS.values()):
        assert item in text, item[:60]
