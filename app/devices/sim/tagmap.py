"""The tag map (TOML) that reads the simulator's register layout, for TCP or RTU."""

from __future__ import annotations

from app.devices.sim.registers import PROCESS_TAGS, SEQ_ADDRESS, WAVE_ADDRESS


def simulator_tagmap(*, port: int | None = None, serial_port: str | None = None,
                     baudrate: int = 115200, unit_id: int = 1, poll_rate_hz: float = 10.0,
                     timeout_s: float = 0.5, reconnect_timeout_s: float = 5.0,
                     waveform_len: int | None = None, sample_rate_hz: float = 12_000.0,
                     coils: bool = True) -> str:
    """TOML text for the simulator on 127.0.0.1:``port`` or on ``serial_port``.

    ``waveform_len`` adds the waveform buffer (it must equal the simulator's buffer length).
    """
    if serial_port:
        conn = (f'serial_port = "{serial_port}"\nbaudrate = {baudrate}\nparity = "N"\n'
                "stopbits = 1\nbytesize = 8")
    else:
        conn = f'host = "127.0.0.1"\nport = {port}'
    parts = [f'name = "simulator"\npoll_rate_hz = {poll_rate_hz}\n\n[connection]\n{conn}\n'
             f"unit_id = {unit_id}\ntimeout_s = {timeout_s}\n"
             f"reconnect_timeout_s = {reconnect_timeout_s}\n"]
    for name, (addr, kind, word_order, scale, unit) in PROCESS_TAGS.items():
        parts.append(f'[[tag]]\nname = "{name}"\ntable = "holding"\naddress = {addr}\n'
                     f'type = "{kind}"\nword_order = "{word_order}"\nscale = {scale}\n'
                     f'unit = "{unit}"\n')
    if coils:
        parts.append('[[tag]]\nname = "running"\ntable = "coil"\naddress = 0\n')
        parts.append('[[tag]]\nname = "door_closed"\ntable = "discrete"\naddress = 0\n')
    if waveform_len:
        parts.append(f'[[waveform]]\nname = "vibration"\ntable = "input"\n'
                     f"address = {WAVE_ADDRESS}\nlength = {waveform_len}\n"
                     f'type = "float32"\nsample_rate_hz = {sample_rate_hz}\n'
                     f'sequence_register = {SEQ_ADDRESS}\nunit = "g"\n')
    return "\n".join(parts)
