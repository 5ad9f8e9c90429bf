"""Re-encrypt every ID number and phone with the current key of PII_ENCRYPTION_KEYS.

    PII_ENCRYPTION_KEYS="2:<new key>,1:<old key>" manage.py rotate_pii_key
    manage.py rotate_pii_key --rehash      # after PII_HASH_KEY changed: recompute every lookup hash

Batched (each batch its own transaction) and resumable: a value already under the current key
is left alone, so a run that was interrupted is simply started again. When it reports 0 values
left under other keys, the old key can be removed from PII_ENCRYPTION_KEYS.
"""

import time

from django.apps import apps
from django.core.management.base import BaseCommand, CommandError

from governance.crypto import PIIKeyError, current_key_id, encrypted_models, reseal_table


class Command(BaseCommand):
    help = "Re-encrypt every stored ID number and phone with the current (first) key of PII_ENCRYPTION_KEYS."

    def add_arguments(self, parser):
        parser.add_argument("--batch", type=int, default=2000, help="Rows per transaction (default 2000).")
        parser.add_argument("--rehash", action="store_true",
                            help="Also recompute every lookup hash (needed after PII_HASH_KEY changed).")

    def handle(self, *args, batch, rehash, **options):
        if batch < 1:
            raise CommandError("--batch must be at least 1.")
        try:
            key_id = current_key_id()
        except PIIKeyError as exc:
            raise CommandError(str(exc)) from None
        self.stdout.write(f"Current key: {key_id}")
        total = {"rows": 0, "rewritten": 0, "values": 0}
        started = time.monotonic()
        for model in encrypted_models(apps.get_models()):
            try:
                counts = reseal_table(model, batch=batch, rehash=rehash)
            except PIIKeyError as exc:
                raise CommandError(f"{model._meta.label}: {exc}") from None
            for key in total:
                total[key] += counts[key]
            self.stdout.write(f"{model._meta.label}: {counts['rows']} rows read, {counts['values']} values "
                              f"re-encrypted, {counts['rewritten']} rows rewritten")
        self.stdout.write(self.style.SUCCESS(
            f"Done in {time.monotonic() - started:.1f} s: {total['values']} values re-encrypted with key {key_id} "
            f"in {total['rewritten']} of {total['rows']} rows; every value is now under key {key_id}."))
