"""The application's one visual language from resources/: stylesheet, icons, translations."""

from __future__ import annotations

import logging
import sys
from functools import cache

from PySide6.QtCore import QByteArray, QLocale, QTranslator
from PySide6.QtGui import QIcon, QPixmap
from PySide6.QtWidgets import QApplication

from app.core.errors import StorageError
from app.core.resources import resource

log = logging.getLogger(__name__)

#: The stroke colour the bundled SVG icons are drawn in.
ICON_INK = "#1f5f8b"
#: The icon colour on the dark navigation rail.
RAIL_INK = "#d9e2ea"
#: Pixels an icon is rendered at (twice the 24 px it is drawn for: sharp on 150 % screens).
ICON_PIXELS = 48

#: Languages that have a catalogue in resources/translations (plantml_<code>.qm).
TRANSLATED = {QLocale.Language.German: "de"}


def apply_look(app: QApplication) -> None:
    """Load the stylesheet and the window icon; a missing file is logged, never fatal (the
    application works unstyled)."""
    try:
        app.setStyleSheet(stylesheet())
        app.setWindowIcon(QIcon(str(resource("icons", "plantml.png"))))
    except (StorageError, OSError) as exc:
        log.warning("the look is not applied: %s", exc)


def stylesheet() -> str:
    """resources/styles/plantml.qss with its icon folder filled in (Qt resolves a relative
    url() against the working directory, which is anywhere)."""
    text = resource("styles", "plantml.qss").read_text(encoding="utf-8")
    return text.replace("@ICONS@", resource("icons").as_posix())


def install_translator(app: QApplication, locale: QLocale | None = None) -> QTranslator | None:
    """Install the catalogue of ``locale`` (default: the system's) if there is one; returns
    the translator (keep it: Qt does not own it) or None for English."""
    locale = locale or QLocale.system()
    code = TRANSLATED.get(locale.language())
    if code is None:
        return None
    try:
        path = resource("translations", f"plantml_{code}.qm")
    except StorageError as exc:
        log.warning("no translation: %s", exc)
        return None
    translator = QTranslator(app)
    if not translator.load(str(path)):
        log.warning("the translation %s did not load", path)
        return None
    app.installTranslator(translator)
    return translator


#: pyqtgraph's colours in the stylesheet's palette: plots on white, axes in ink.
PLOT_OPTIONS = {"background": "#ffffff", "foreground": "#1d2733"}


def apply_plot_look() -> None:
    """Give pyqtgraph the application's colours, if a page has loaded it (pyqtgraph stays
    off the start path: nothing is imported here). Plots made afterwards use them."""
    pg = sys.modules.get("pyqtgraph")
    if pg is not None and pg.getConfigOption("background") != PLOT_OPTIONS["background"]:
        pg.setConfigOptions(**PLOT_OPTIONS)


@cache
def icon(name: str, ink: str = ICON_INK) -> QIcon:
    """The bundled icon ``resources/icons/<name>.svg``, its strokes drawn in ``ink``; an
    empty icon (and a log line) when it is missing, so a lost file never stops the GUI."""
    try:
        svg = resource("icons", f"{name}.svg").read_text(encoding="utf-8")
    except (StorageError, OSError) as exc:
        log.warning("icon %s: %s", name, exc)
        return QIcon()
    svg = svg.replace(f'stroke="{ICON_INK}"', f'stroke="{ink}"', 1)
    svg = svg.replace('width="24" height="24"', f'width="{ICON_PIXELS}" height="{ICON_PIXELS}"', 1)
    pixmap = QPixmap()
    if not pixmap.loadFromData(QByteArray(svg.encode("utf-8")), "SVG"):
        log.warning("icon %s could not be drawn", name)
        return QIcon()
    return QIcon(pixmap)
