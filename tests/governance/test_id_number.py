"""GB 11643 ID numbers: what a clerk types is accepted or refused with the reason."""

import datetime

import pytest
from django.core.exceptions import ValidationError

from governance.services import resident_create
from governance.validators import parse_id_number, validate_phone
from tests.helpers.people import make_id_number


@pytest.mark.parametrize(
    "number,birth,sex",
    [
        ("11010519491231002X", datetime.date(1949, 12, 31), "F"),  # the standard's own example
        ("513424198001010019", datetime.date(1980, 1, 1), "M"),
        ("11010519491231002x", datetime.date(1949, 12, 31), "F"),  # lower-case x as typed
        (make_id_number("513424", "20000229", 12), datetime.date(2000, 2, 29), "F"),
    ],
)
def test_valid_numbers_give_birth_date_and_sex(number, birth, sex):
    assert parse_id_number(number) == (birth, sex)


@pytest.mark.parametrize(
    "number,code",
    [
        ("110105194912310021", "id_checksum"),
        ("11010519491231002", "id_length"),
        ("1101051949123100211", "id_length"),
        ("11010519491231002Y", "id_format"),
        ("11010519490231002X", "id_birth_date"),  # 31 February
        (make_id_number("513424", "19000229", 1), "id_birth_date"),  # 1900 was no leap year
        (make_id_number("513424", "20990101", 1), "id_birth_date"),  # born in the future
    ],
)
def test_invalid_numbers_are_refused_with_the_reason(number, code):
    with pytest.raises(ValidationError) as exc:
        parse_id_number(number)
    assert exc.value.code == code


def test_resident_gets_birth_date_and_sex_from_the_number(county):
    resident = resident_create(
        household=county.households[0], name="王芳", id_number=make_id_number("513424", "19751203", 22)
    )
    assert (resident.birth_date, resident.sex) == (datetime.date(1975, 12, 3), "F")


def test_a_duplicate_id_number_is_refused(county):
    existing = county.residents[0]
    with pytest.raises(ValidationError) as exc:
        resident_create(household=county.households[1], name="重复", id_number=existing.id_number)
    assert "id_number" in exc.value.message_dict


def test_a_bad_id_number_writes_nothing(county):
    from governance.models import Resident

    before = Resident.objects.count()
    with pytest.raises(ValidationError) as exc:
        resident_create(household=county.households[0], name="李四", id_number="110105194912310021")
    assert exc.value.message_dict["id_number"] == ["身份证号校验位不正确。"]
    assert Resident.objects.count() == before


@pytest.mark.parametrize("phone", ["13812345678", "0834-5212345", "08345212345"])
def test_phones_accepted(phone):
    validate_phone(phone)


@pytest.mark.parametrize("phone", ["1381234567", "23812345678", "phone", "138-1234-5678"])
def test_phones_refused(phone):
    with pytest.raises(ValidationError):
        validate_phone(phone)
