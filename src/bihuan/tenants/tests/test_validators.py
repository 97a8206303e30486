from __future__ import annotations

import datetime as dt

import pytest
from django.utils import translation

from bihuan.core.errors import ValidationFailed
from bihuan.tenants.tests.helpers import id_number, id_number_ending_in_x, with_wrong_check_digit
from bihuan.tenants.validators import id_check_character, normalise_id_number, normalise_phone


def test_the_check_digit_follows_gb_11643():
    # The standard's worked example: 11010519491231002 → X.
    assert id_check_character("11010519491231002") == "X"
    assert normalise_id_number("11010519491231002x") == "11010519491231002X"


def test_spaces_and_lower_case_x_are_normalised():
    number = id_number_ending_in_x()
    spaced = f"{number[:6]} {number[6:14]} {number[14:].lower()}"
    assert normalise_id_number(spaced) == number


@pytest.mark.parametrize("bad", [
    "", "12345", "3307841990010112", "33078419900101123A",
    "330784199013011234",  # month 13
])
def test_malformed_numbers_are_refused(bad):
    with pytest.raises(ValidationFailed) as caught:
        normalise_id_number(bad)
    assert caught.value.field == "id_number"


def test_a_wrong_check_digit_is_refused_with_its_own_message():
    with pytest.raises(ValidationFailed) as caught:
        normalise_id_number(with_wrong_check_digit(id_number()))
    with translation.override("en"):
        assert "check digit" in str(caught.value.message)


def test_a_birth_date_after_today_is_refused():
    with pytest.raises(ValidationFailed):
        normalise_id_number(id_number(born="20300101"), today=dt.date(2026, 9, 14))


@pytest.mark.parametrize(("raw", "normalised"), [
    ("13812345678", "13812345678"),
    ("+86 138 1234 5678", "13812345678"),
    ("0579-87123456", "0579-87123456"),
    ("057987123456", "0579-87123456"),
    ("010 6512 3456", "010-65123456"),
    ("", ""),
])
def test_mainland_mobiles_and_landlines_are_accepted(raw, normalised):
    assert normalise_phone(raw) == normalised


@pytest.mark.parametrize("bad", ["12345678901", "1381234567", "87123456", "0579-123", "abc"])
def test_other_phone_numbers_are_refused(bad):
    with pytest.raises(ValidationFailed) as caught:
        normalise_phone(bad)
    assert caught.value.field == "phone"
