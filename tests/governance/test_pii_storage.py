"""ID numbers and phones encrypted at rest: what the database holds, duplicates, keys and their rotation."""

import base64
import os
import subprocess
import sys

import pytest
from django.conf import settings
from django.core.exceptions import FieldError, ValidationError
from django.core.management import call_command
from django.db import IntegrityError, connection, transaction
from django.test import override_settings

from governance.crypto import PIIKeyError, current_key_id
from governance.models import Resident, User
from grid.models import Case, GridWorker
from tests.helpers.people import new_resident
from tests.helpers.processes import ROOT

NEW_KEY = base64.b64encode(b"n" * 32).decode()
OTHER_KEY = base64.b64encode(b"o" * 32).decode()


def raw(model, pk, *columns):
    """The values as stored, read past the model with a plain cursor."""
    table = connection.ops.quote_name(model._meta.db_table)
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT {', '.join(columns)} FROM {table} WHERE id = %s", [pk])
        return cursor.fetchone()


def test_the_database_holds_no_id_number_or_phone_in_plaintext(county):
    resident = county.residents[0]
    worker = GridWorker.objects.filter(unit__in=county.grids).first()
    case = Case.objects.exclude(reporter_phone="").first()
    user = User.objects.create_user(username="phone_owner", password="x", phone="13512345678")
    stored = {
        "resident": raw(Resident, resident.pk, "id_number", "phone"),
        "worker": raw(GridWorker, worker.pk, "id_number", "phone"),
        "case": raw(Case, case.pk, "reporter_phone"),
        "user": raw(User, user.pk, "phone"),
    }
    plain = {
        "resident": (resident.id_number, resident.phone),
        "worker": (worker.id_number, worker.phone),
        "case": (case.reporter_phone,),
        "user": ("13512345678",),
    }
    for name, values in stored.items():
        for value, text in zip(values, plain[name], strict=True):
            assert text and text not in value, name
            assert value.startswith(f"v{current_key_id()}:"), value
    # The model gives the plaintext back, after a fresh read too.
    assert Resident.objects.get(pk=resident.pk).id_number == resident.id_number
    assert User.objects.get(pk=user.pk).phone == "13512345678"
    # Each value is encrypted afresh (its own nonce): two equal phones are stored differently.
    first, second = new_resident(county), new_resident(county)
    assert first.phone == second.phone
    assert raw(Resident, first.pk, "phone")[0] != raw(Resident, second.pk, "phone")[0]


def test_an_exact_id_number_or_phone_is_found_and_a_part_of_one_is_refused(county):
    resident = county.residents[0]
    assert list(Resident.objects.filter(id_number=resident.id_number.lower())) == [resident]
    assert list(Resident.objects.filter(id_number__in=[resident.id_number, "x"])) == [resident]
    assert resident in Resident.objects.filter(phone=resident.phone)
    # Spaces and hyphens do not count in a phone.
    phone = resident.phone
    assert resident in Resident.objects.filter(phone=f"{phone[:3]} {phone[3:7]}-{phone[7:]}")
    with pytest.raises(FieldError, match="Unsupported lookup 'startswith'"):
        list(Resident.objects.filter(id_number__startswith=resident.id_number[:6]))
    with pytest.raises(FieldError):
        list(Resident.objects.filter(phone__icontains=phone[-4:]))


def test_a_duplicate_id_number_is_refused_by_validation_and_by_the_database(county):
    resident = county.residents[0]
    twin = Resident(household=county.households[1], name="重号", id_number=resident.id_number.lower(), relation="head")
    twin.clean()
    with pytest.raises(ValidationError) as caught:
        twin.validate_unique()
    assert list(caught.value.message_dict) == ["id_number"]
    # Past the model's checks, the unique index on the hash column refuses it.
    with pytest.raises(IntegrityError), transaction.atomic():
        Resident.objects.bulk_create([twin])
    worker = GridWorker.objects.filter(unit__in=county.grids).first()
    with pytest.raises(IntegrityError), transaction.atomic():
        GridWorker.objects.bulk_create([GridWorker(name="重号", id_number=worker.id_number, phone="13900000009",
                                                   worker_type=worker.worker_type, unit=worker.unit,
                                                   start_date=worker.start_date)])


def test_a_value_under_another_key_gives_a_clear_error(county):
    resident = county.residents[0]
    key_id = current_key_id()
    with override_settings(PII_ENCRYPTION_KEYS=f"{key_id}:{OTHER_KEY}"):
        with pytest.raises(PIIKeyError, match=f"cannot be decrypted with key '{key_id}'"):
            Resident.objects.get(pk=resident.pk)
    with override_settings(PII_ENCRYPTION_KEYS=f"new:{NEW_KEY}"):
        with pytest.raises(PIIKeyError, match=f"key '{key_id}', which PII_ENCRYPTION_KEYS does not hold"):
            Resident.objects.get(pk=resident.pk)
    with override_settings(PII_ENCRYPTION_KEYS=f"{key_id}:c2hvcnQ="), pytest.raises(PIIKeyError, match="AES needs"):
        Resident.objects.get(pk=resident.pk)
    assert Resident.objects.get(pk=resident.pk).id_number == resident.id_number


def test_production_without_keys_refuses_to_start():
    env = {key: value for key, value in os.environ.items()
           if key not in ("PII_ENCRYPTION_KEYS", "PII_HASH_KEY", "REQUIRE_PII_KEYS", "DEBUG")}
    env["DEBUG"] = "0"
    started = subprocess.run([sys.executable, "-c", "import governance.settings"], cwd=ROOT, env=env,
                             capture_output=True, text=True)
    assert started.returncode != 0
    assert "ImproperlyConfigured: PII_ENCRYPTION_KEYS and PII_HASH_KEY must be set in production" in started.stderr
    env["REQUIRE_PII_KEYS"] = "0"
    assert subprocess.run([sys.executable, "-c", "import governance.settings"], cwd=ROOT, env=env).returncode == 0


def test_rotation_re_encrypts_every_value_with_the_new_key_and_old_values_read_meanwhile(county, capsys):
    resident, worker = county.residents[0], GridWorker.objects.filter(unit__in=county.grids).first()
    old_keys = settings.PII_ENCRYPTION_KEYS
    with override_settings(PII_ENCRYPTION_KEYS=f"new:{NEW_KEY},{old_keys}"):
        # Before the rotation: old values still read, new writes use the new key.
        assert Resident.objects.get(pk=resident.pk).id_number == resident.id_number
        fresh = new_resident(county)
        assert raw(Resident, fresh.pk, "id_number")[0].startswith("vnew:")
        call_command("rotate_pii_key", "--batch", "2")
        out = capsys.readouterr().out
        assert "governance.Resident:" in out and "every value is now under key new" in out
        assert raw(Resident, resident.pk, "id_number")[0].startswith("vnew:")
        assert raw(GridWorker, worker.pk, "phone")[0].startswith("vnew:")
        # Resumable: a second run finds nothing left to do.
        call_command("rotate_pii_key")
        assert "Done in" in capsys.readouterr().out.splitlines()[-1]
    with override_settings(PII_ENCRYPTION_KEYS=f"new:{NEW_KEY}"):
        # The old key can go: every value reads under the new one, and is still found by its hash.
        call_command("rotate_pii_key")
        assert " 0 values re-encrypted with key new" in capsys.readouterr().out
        assert Resident.objects.get(id_number=resident.id_number).phone == resident.phone
        assert GridWorker.objects.get(pk=worker.pk).id_number == worker.id_number
