"""Child-process probe for ``plantml doctor``: Qt's platform plugin loads and draws a window.

Run as a module (``python -m app.ui.platform_check``); prints the platform's name and exits
0, or fails the way Qt fails (a message and a non-zero exit) without taking the caller down.
"""

from __future__ import annotations

import sys

from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QApplication, QLabel


def main() -> int:
    """Show a label for one event-loop turn; print the platform plugin's name."""
    app = QApplication(sys.argv[:1])
    label = QLabel("PlantML self-test")
    label.show()
    QTimer.singleShot(0, app.quit)
    app.exec()
    print(f"{app.platformName()} (Qt {__import__('PySide6').__version__})")
    label.deleteLater()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
