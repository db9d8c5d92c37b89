"""What the trail records as the workstation when none is configured: the computer's network
name, or a fixed stand-in where the computer has none."""

from __future__ import annotations

import socket

from app.audit import trail


def test_the_default_workstation_is_the_computers_network_name(monkeypatch):
    monkeypatch.setattr(socket, "gethostname", lambda: "CR-WS-07")
    assert trail.default_workstation() == "CR-WS-07"


def test_a_computer_without_a_network_name_gets_a_fixed_stand_in(monkeypatch):
    monkeypatch.setattr(socket, "gethostname", lambda: "")
    assert trail.default_workstation() == "unknown-workstation"
