"""Validators for the official identifiers the portal stores.

ID numbers follow GB 11643-1999 (18 characters, ISO 7064 MOD 11-2 check character);
division codes follow the National Bureau of Statistics' 12-digit 统计用区划代码.
"""

import datetime
import re
from operator import mul

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

_ID_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_ID_CHECK_CHARS = "10X98765432"
_ID_RE = re.compile(r"^\d{17}[\dX]$")
_PHONE_RE = re.compile(r"^(1[3-9]\d{9}|0\d{2,3}-?\d{7,8})$")


def id_check_char(first17: str) -> str:
    """The GB 11643 check character for the first 17 digits."""
    # map/mul rather than a generator: this runs once per row of a 100,000-row import.
    return _ID_CHECK_CHARS[sum(map(mul, map(int, first17), _ID_WEIGHTS)) % 11]


def normalize_id_number(value: str) -> str:
    return (value or "").strip().upper()


def parse_id_number(value: str) -> tuple[datetime.date, str]:
    """Validate an ID number and return (birth date, sex 'M'/'F'); raise ValidationError."""
    value = normalize_id_number(value)
    if len(value) != 18:
        raise ValidationError(
            _("ID number must have 18 characters (got %(n)d).") % {"n": len(value)}, code="id_length"
        )
    if not _ID_RE.match(value):
        raise ValidationError(
            _("ID number must be 17 digits followed by a digit or X."), code="id_format"
        )
    try:
        birth = datetime.date(int(value[6:10]), int(value[10:12]), int(value[12:14]))
    except ValueError:
        raise ValidationError(
            _("ID number contains an invalid birth date %(date)s.") % {"date": value[6:14]},
            code="id_birth_date",
        ) from None
    # Only a recent year can lie in the future: spare the clock call for everyone else.
    if birth.year < 1900 or (birth.year >= 2000 and birth > datetime.date.today()):
        raise ValidationError(
            _("ID number contains an invalid birth date %(date)s.") % {"date": value[6:14]},
            code="id_birth_date",
        )
    if id_check_char(value[:17]) != value[17]:
        raise ValidationError(_("ID number check digit is wrong."), code="id_checksum")
    sex = "M" if int(value[16]) % 2 == 1 else "F"
    return birth, sex


def validate_id_number(value: str) -> None:
    parse_id_number(value)


def is_phone(text: str) -> bool:
    """Whether a search text is a whole phone number (then it is looked up exactly, by its hash)."""
    return bool(_PHONE_RE.match((text or "").strip()))


def validate_phone(value: str) -> None:
    if value and not _PHONE_RE.match(value.strip()):
        raise ValidationError(
            _("Enter an 11-digit mobile number or a landline such as 0834-1234567."), code="phone"
        )


def validate_division_code(value: str) -> None:
    if not re.fullmatch(r"\d{12}", value or ""):
        raise ValidationError(
            _("Division code must be exactly 12 digits."), code="division_code"
        )


# GB 32100-2015 unified social credit code: 31 symbols (no I, O, S, V, Z), the 18th a check.
CREDIT_CODE_CHARS = "0123456789ABCDEFGHJKLMNPQRTUWXY"
_CREDIT_WEIGHTS = (1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28)
_CREDIT_VALUES = {char: n for n, char in enumerate(CREDIT_CODE_CHARS)}


def credit_check_char(first17: str) -> str:
    """The GB 32100 check character of the first 17 characters (31 − weighted sum mod 31; 31 → 0)."""
    total = sum(_CREDIT_VALUES[char] * weight for char, weight in zip(first17, _CREDIT_WEIGHTS, strict=True))
    return CREDIT_CODE_CHARS[(31 - total % 31) % 31]


def normalize_credit_code(value: str) -> str:
    return (value or "").strip().upper()


def validate_credit_code(value: str) -> None:
    """A unified social credit code (统一社会信用代码) of 18 characters with a right check character."""
    value = normalize_credit_code(value)
    if len(value) != 18:
        raise ValidationError(
            _("A unified social credit code has 18 characters (got %(n)d).") % {"n": len(value)},
            code="credit_code_length",
        )
    wrong = sorted({char for char in value if char not in _CREDIT_VALUES})
    if wrong:
        raise ValidationError(
            _("A unified social credit code uses digits and capital letters but I, O, S, V and Z; "
              "“%(chars)s” is not allowed.") % {"chars": "".join(wrong)},
            code="credit_code_format",
        )
    if credit_check_char(value[:17]) != value[17]:
        raise ValidationError(
            _("The check character of the unified social credit code is wrong (the 18th should be %(char)s).")
            % {"char": credit_check_char(value[:17])},
            code="credit_code_checksum",
        )
