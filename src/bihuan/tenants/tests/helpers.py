"""Synthetic, checksum-valid ID numbers for tests (no real person's number)."""

from __future__ import annotations

from bihuan.tenants.validators import id_check_character


def id_number(serial: int = 123, born: str = "19900101", region: str = "330784") -> str:
    first17 = f"{region}{born}{serial:03d}"
    return first17 + id_check_character(first17)


def id_number_ending_in_x(born: str = "19900101") -> str:
    for serial in range(1000):
        number = id_number(serial, born)
        if number.endswith("X"):
            return number
    raise AssertionError("no serial gives X")


def with_wrong_check_digit(number: str) -> str:
    last = number[-1]
    return number[:-1] + ("0" if last != "0" else "1")
