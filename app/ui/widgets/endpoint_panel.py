"""The Controllers page's endpoint list: serial ports found here and TCP endpoints added."""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QGroupBox,
    QHBoxLayout,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from app.core.errors import PlantMLError
from app.services.controllers import endpoint
from app.ui.look import icon
from app.ui.styles import BAD_STYLE, NOTE_STYLE
from app.ui.task_runner import TaskRunner, describe_error

#: Baud rate of the endpoints made from discovered serial ports.
RTU_BAUD = 115200

KIND_ROLE = Qt.ItemDataRole.UserRole


#: The longest endpoint the field must show whole (IPv4 host, five-digit port).
LONGEST_TCP = "tcp:192.168.100.200:50200"


class EndpointPanel(QGroupBox):
    """Serial ports of this computer (listed again on request, in the background) and TCP
    endpoints added by hand (kept until PlantML closes)."""

    sig_changed = Signal()
    """The list or its selection changed."""

    sig_message = Signal(str, str)
    """Something to say in the page's message line: the text and its style."""

    def __init__(self, runner: TaskRunner, list_ports: Callable[[], list[dict[str, str]]],
                 parent: QWidget | None = None) -> None:
        super().__init__("Endpoints", parent)
        self.runner = runner
        self.list_ports = list_ports
        self._ports: dict[str, str] = {}  # rtu endpoint -> port description
        self.endpoint_list = QListWidget()
        self.endpoint_list.setObjectName("endpoints")
        self.endpoint_list.currentItemChanged.connect(lambda *_a: self._changed())
        self.tcp_edit = QLineEdit()
        self.tcp_edit.setPlaceholderText("tcp:HOST:PORT")
        # Room for a whole plant address: a cut-off endpoint is a wrong endpoint.
        self.tcp_edit.setMinimumWidth(
            self.tcp_edit.fontMetrics().horizontalAdvance(LONGEST_TCP) + 24)
        self.tcp_edit.returnPressed.connect(self._add_clicked)
        self.add_button = QPushButton("Add")
        self.add_button.setToolTip("Add a controller reached over Modbus TCP")
        self.add_button.clicked.connect(self._add_clicked)
        self.remove_button = QPushButton("Remove")
        self.remove_button.clicked.connect(self._remove_clicked)
        self.ports_button = QPushButton(icon("refresh"), "Find ports")
        self.ports_button.setToolTip("List the serial ports of this computer again")
        self.ports_button.clicked.connect(self._ports_clicked)
        layout = QVBoxLayout(self)
        layout.addWidget(self.endpoint_list, 1)
        add_row = QHBoxLayout()
        add_row.addWidget(self.tcp_edit, 1)
        add_row.addWidget(self.add_button)
        layout.addLayout(add_row)
        list_buttons = QHBoxLayout()
        list_buttons.addWidget(self.remove_button)
        list_buttons.addWidget(self.ports_button)
        list_buttons.addStretch(1)
        layout.addLayout(list_buttons)
        self._update_remove()

    def endpoints(self) -> list[str]:
        """Every endpoint listed, serial ports first."""
        return [self.endpoint_list.item(i).text() for i in range(self.endpoint_list.count())]

    def add_endpoint(self, text: str) -> bool:
        """Add ``tcp:HOST:PORT`` (or ``HOST:PORT``, or ``rtu:PORT:BAUD``; ``#unit=N`` after any
        of them) to the list; False with the reason said if it is not an endpoint."""
        text = text.strip()
        if text and not text.startswith(("tcp:", "rtu:")):
            text = f"tcp:{text}"
        try:
            text = endpoint(text).target  # one spelling: "#unit=1" is the plain target
        except PlantMLError as exc:
            self.sig_message.emit(describe_error(exc), BAD_STYLE)
            return False
        if text in self.endpoints():
            self.sig_message.emit(f"{text} is already listed", NOTE_STYLE)
            return False
        self.endpoint_list.addItem(_item(text, "configured",
                                         "added by hand (kept until PlantML closes)"))
        self.sig_message.emit("", NOTE_STYLE)
        self._changed()
        return True

    def refresh_ports(self) -> None:
        """List this computer's serial ports again (in the background)."""
        self.ports_button.setEnabled(False)
        self.runner.submit(self.list_ports, on_done=self._ports_listed,
                           on_error=self._ports_failed, cancellable=False,
                           writes=False)

    def _add_clicked(self, *_args: object) -> None:
        if self.add_endpoint(self.tcp_edit.text()):
            self.tcp_edit.clear()

    def _remove_clicked(self, *_args: object) -> None:
        item = self.endpoint_list.currentItem()
        if item is not None and item.data(KIND_ROLE) == "configured":
            self.endpoint_list.takeItem(self.endpoint_list.row(item))
        self._changed()

    def _ports_clicked(self, *_args: object) -> None:
        self.refresh_ports()

    def _ports_listed(self, ports: list[dict[str, str]]) -> None:
        self.ports_button.setEnabled(True)
        self._ports = {f"rtu:{p['device']}:{RTU_BAUD}": p.get("description", "") for p in ports}
        configured = [self.endpoint_list.item(i) for i in range(self.endpoint_list.count())
                      if self.endpoint_list.item(i).data(KIND_ROLE) == "configured"]
        keep = [(item.text(), item.toolTip()) for item in configured]
        current = self.endpoint_list.currentItem()
        selected = current.text() if current is not None else None
        self.endpoint_list.clear()
        for text, description in self._ports.items():
            self.endpoint_list.addItem(_item(text, "serial", description or "serial port"))
        for text, tip in keep:
            if text not in self._ports:
                self.endpoint_list.addItem(_item(text, "configured", tip))
        if selected is not None:
            for i in range(self.endpoint_list.count()):
                if self.endpoint_list.item(i).text() == selected:
                    self.endpoint_list.setCurrentRow(i)
        self._changed()

    def _ports_failed(self, exc: BaseException) -> None:
        self.ports_button.setEnabled(True)
        self.sig_message.emit(f"the serial ports could not be listed: {describe_error(exc)}",
                              BAD_STYLE)

    def _changed(self) -> None:
        self._update_remove()
        self.sig_changed.emit()

    def _update_remove(self) -> None:
        item = self.endpoint_list.currentItem()
        self.remove_button.setEnabled(item is not None and item.data(KIND_ROLE) == "configured")
        self.remove_button.setToolTip("Remove the selected endpoint you added"
                                      if self.remove_button.isEnabled() else
                                      "Select an endpoint you added (serial ports are found)")


def _item(text: str, kind: str, tip: str) -> QListWidgetItem:
    item = QListWidgetItem(text)
    item.setData(KIND_ROLE, kind)
    item.setToolTip(tip)
    return item
