"""Personal data encrypted at rest (issue 16 §5): ID numbers and phones.

A value is stored as ``v<key id>:<urlsafe base64 of nonce + AES-GCM ciphertext>``; the keys
come from ``PII_ENCRYPTION_KEYS`` ("id:base64key,..."; the first encrypts, all decrypt), so a
key can be rotated (``manage.py rotate_pii_key``) while every row stays readable. AES-GCM
draws a random nonce per value, so the ciphertext cannot be searched: each searchable field
has a companion column holding an HMAC-SHA256 (key ``PII_HASH_KEY``) of its normalised
value, and the field's exact lookups (``exact``, ``iexact``, ``in`` and the roster engine's
``roster_any``) compare that column instead. Substring lookups on these fields raise a
``FieldError``: a partial match would need the plaintext.
"""

import base64
import binascii
import functools
import hashlib
import os
import re
import threading

from cryptography.exceptions import InvalidTag as _InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from django.conf import settings
from django.core.exceptions import FieldError, ImproperlyConfigured
from django.core.signals import setting_changed
from django.db import models
from django.db.models.expressions import Col

_KEY_ID_RE = re.compile(r"^[0-9A-Za-z]{1,8}$")
_NONCE_BYTES = 12


class PIIKeyError(ImproperlyConfigured):
    """A key is missing, malformed or not the one a stored value was encrypted with."""


# --- Keys -----------------------------------------------------------------------------------


def _decode_key(text: str, what: str) -> bytes:
    try:
        key = base64.b64decode(text.strip() + "=" * (-len(text.strip()) % 4), altchars=b"-_", validate=False)
    except (binascii.Error, ValueError):
        raise PIIKeyError(f"{what} is not base64.") from None
    return key


@functools.cache
def _keyring():
    """(current key id, {key id: AESGCM}) from settings, parsed once."""
    raw = (getattr(settings, "PII_ENCRYPTION_KEYS", "") or "").strip()
    if not raw:
        raise PIIKeyError("PII_ENCRYPTION_KEYS is empty: personal data cannot be encrypted or read.")
    ciphers, current = {}, None
    for item in raw.split(","):
        key_id, sep, text = item.strip().partition(":")
        if not sep or not _KEY_ID_RE.match(key_id):
            raise PIIKeyError(
                f"PII_ENCRYPTION_KEYS must read 'id:base64key[,id:base64key...]' with short alphanumeric ids; "
                f"got an entry {key_id!r}.")
        key = _decode_key(text, f"The key {key_id!r} of PII_ENCRYPTION_KEYS")
        if len(key) not in (16, 24, 32):
            raise PIIKeyError(
                f"The key {key_id!r} of PII_ENCRYPTION_KEYS has {len(key)} bytes; AES needs 16, 24 or 32.")
        if key_id in ciphers:
            raise PIIKeyError(f"PII_ENCRYPTION_KEYS names the key id {key_id!r} twice.")
        ciphers[key_id] = AESGCM(key)
        current = current or key_id
    return current, ciphers


@functools.cache
def _hash_key() -> bytes:
    raw = (getattr(settings, "PII_HASH_KEY", "") or "").strip()
    if not raw:
        raise PIIKeyError("PII_HASH_KEY is empty: ID numbers and phones cannot be looked up.")
    key = _decode_key(raw, "PII_HASH_KEY")
    if len(key) < 16:
        raise PIIKeyError(f"PII_HASH_KEY has {len(key)} bytes; use at least 16 (32 recommended).")
    return key


@functools.cache
def _hmac_pads():
    """HMAC-SHA256's inner and outer hashes with the key already absorbed (RFC 2104). Each digest copies
    them: OpenSSL 3 makes a new hash object cost more than the hashing of an ID number (hmac.new and
    hmac.digest took 2-3 times as long here)."""
    key = _hash_key()
    if len(key) > 64:
        key = hashlib.sha256(key).digest()
    key = key.ljust(64, b"\0")
    return (hashlib.sha256(bytes(b ^ 0x36 for b in key)), hashlib.sha256(bytes(b ^ 0x5C for b in key)))


def _forget_keys(*, setting, **kwargs):
    if setting in ("PII_ENCRYPTION_KEYS", "PII_HASH_KEY"):
        _keyring.cache_clear()
        _hash_key.cache_clear()
        _hmac_pads.cache_clear()


setting_changed.connect(_forget_keys)


def current_key_id() -> str:
    return _keyring()[0]


def generate_key() -> str:
    """A new random 256-bit key in the form the settings take (urlsafe base64)."""
    return base64.urlsafe_b64encode(os.urandom(32)).decode()


# --- Values ---------------------------------------------------------------------------------


def is_encrypted(stored) -> bool:
    return isinstance(stored, str) and stored.startswith("v") and ":" in stored[:10]


def key_id_of(stored: str) -> str | None:
    return stored[1:stored.index(":")] if is_encrypted(stored) else None


# Nonces are drawn from the system's random source 4,096 at a time, per thread: one os.urandom() per value
# cost little alone, but it is a system call that lets go of the interpreter lock, and an import's writer
# thread that encrypts 200,000 values then waits 200,000 times to get the lock back from the checking thread
# (an import of 100,000 residents took 1.2-2 s longer). A forked child (a worker) starts with a pool of its
# own: it must never reuse its parent's nonces.
_NONCE_POOL = 4096
# urlsafe base64 by hand: base64.urlsafe_b64encode/decode add two layers of Python calls per value.
_TO_URLSAFE = bytes.maketrans(b"+/", b"-_")
_FROM_URLSAFE = bytes.maketrans(b"-_", b"+/")
_nonces = threading.local()


def _forget_nonces() -> None:
    global _nonces
    _nonces = threading.local()


os.register_at_fork(after_in_child=_forget_nonces)


def _nonce() -> bytes:
    pool = getattr(_nonces, "pool", None)
    if not pool:
        data = os.urandom(_NONCE_BYTES * _NONCE_POOL)
        pool = _nonces.pool = [data[i:i + _NONCE_BYTES] for i in range(0, len(data), _NONCE_BYTES)]
    return pool.pop()


def encrypt(plaintext: str) -> str:
    key_id, ciphers = _keyring()
    nonce = _nonce()
    sealed = ciphers[key_id].encrypt(nonce, plaintext.encode(), None)
    return f"v{key_id}:{binascii.b2a_base64(nonce + sealed, newline=False).translate(_TO_URLSAFE).decode()}"


def decrypt(stored: str) -> str:
    """The plaintext of a stored value; a value not in the stored form (a row written before
    encryption, awaiting the migration or the rotation command) is returned as it is."""
    if not is_encrypted(stored):
        return stored
    key_id, _sep, body = stored[1:].partition(":")
    cipher = _keyring()[1].get(key_id)
    if cipher is None:
        raise PIIKeyError(
            f"A stored value was encrypted with key {key_id!r}, which PII_ENCRYPTION_KEYS does not hold: "
            f"add it back (after the current key) until manage.py rotate_pii_key has re-encrypted every value.")
    try:
        blob = binascii.a2b_base64(body.encode().translate(_FROM_URLSAFE))
        return cipher.decrypt(blob[:_NONCE_BYTES], blob[_NONCE_BYTES:], None).decode()
    except (_InvalidTag, ValueError, binascii.Error):
        raise PIIKeyError(
            f"A stored value cannot be decrypted with key {key_id!r}: PII_ENCRYPTION_KEYS holds a different "
            f"key under that id (or the value was altered).") from None


def normalize_id_number(value: str) -> str:
    return (value or "").strip().upper()


def normalize_phone(value: str) -> str:
    """Spaces and hyphens do not count: 0834-1234567 and 08341234567 are one phone."""
    value = (value or "").strip()
    # str.replace, not a regular expression: this runs for every row of a 100,000-row import.
    return value.replace(" ", "").replace("-", "") if " " in value or "-" in value else value


NORMALIZERS = {"id_number": normalize_id_number, "phone": normalize_phone}


def digest(value: str, kind: str) -> str | None:
    """The lookup hash of a value: HMAC-SHA256 of the normalised text (None for an empty value)."""
    text = NORMALIZERS[kind](value)
    if not text:
        return None
    inner, outer = _hmac_pads()
    inner = inner.copy()
    inner.update(text.encode())
    outer = outer.copy()
    outer.update(inner.digest())
    return outer.hexdigest()


# --- Fields ---------------------------------------------------------------------------------


def _stored_length(max_length: int) -> int:
    # "v" + key id (≤ 8) + ":" + base64(nonce 12 + text in UTF-8, ≤ 4 bytes a character + tag 16)
    return 10 + 4 * -(-(28 + 4 * max_length) // 3)


_HASHED_LOOKUPS = ("exact", "iexact", "in", "roster_any")
_hashed_classes: dict = {}


def _hashed(base):
    """``base`` (exact, in ...) applied to the field's hash column with the hashed values."""
    if base in _hashed_classes:
        return _hashed_classes[base]

    class Hashed(base):
        def __init__(self, lhs, rhs):
            field = getattr(lhs, "target", None)
            if not isinstance(field, EncryptedCharField) or not isinstance(lhs, Col):
                raise FieldError("An encrypted field can only be compared with values.")
            if rhs == "":
                # Empty values are stored as they are: compare the column itself.
                super().__init__(lhs, rhs)
                return
            if not field.hash_field:
                raise FieldError(f"{field.name} is stored encrypted without a lookup hash: it cannot be searched.")
            hash_field = field.model._meta.get_field(field.hash_field)
            super().__init__(Col(lhs.alias, hash_field), field.hashed_rhs(rhs))

    Hashed.__name__ = f"Hashed{base.__name__}"
    _hashed_classes[base] = Hashed
    return Hashed


class EncryptedCharField(models.CharField):
    """A short text (an ID number, a phone) stored encrypted; ``kind`` names its normalisation,
    ``hash_field`` its lookup column (a ``HashField`` on the same model), if it is searchable.

    ``max_length`` is the plaintext's (forms and validation); the column is wide enough for the
    stored form. Only exact lookups exist (through the hash); ``unique`` belongs on the hash field.
    """

    encrypted = True

    def __init__(self, *args, kind: str = "phone", hash_field: str = "", **kwargs):
        if kind not in NORMALIZERS:
            raise ValueError(f"kind must be one of {sorted(NORMALIZERS)}")
        self.kind = kind
        self.hash_field = hash_field
        super().__init__(*args, **kwargs)

    def deconstruct(self):
        name, path, args, kwargs = super().deconstruct()
        kwargs["kind"] = self.kind
        if self.hash_field:
            kwargs["hash_field"] = self.hash_field
        return name, path, args, kwargs

    def db_type(self, connection):
        return f"varchar({_stored_length(self.max_length)})"

    def cast_db_type(self, connection):
        return self.db_type(connection)

    def get_internal_type(self):
        # Not "CharField": the roster engine's COPY writer has a plain-text fast path for those.
        return "EncryptedCharField"

    def from_db_value(self, value, expression, connection):
        if value is None or value == "":
            return value
        return decrypt(value)

    def get_db_prep_save(self, value, connection):
        value = self.to_python(value)
        if value is None or value == "":
            return value
        return encrypt(value)

    def get_lookup(self, lookup_name):
        if lookup_name == "isnull":
            return super().get_lookup(lookup_name)
        if lookup_name in _HASHED_LOOKUPS:
            base = super().get_lookup("exact" if lookup_name == "iexact" else lookup_name)
            return _hashed(base) if base else None
        return None  # Django then reports "Unsupported lookup ... for EncryptedCharField"

    def get_transform(self, name):
        return None

    def hashed_rhs(self, rhs):
        if rhs is None:
            return None
        if isinstance(rhs, str):
            return digest(rhs, self.kind) or ""
        if isinstance(rhs, list | tuple | set | frozenset):
            return [digest(value, self.kind) or "" for value in rhs]
        values = getattr(rhs, "values", None)  # the roster engine's wrapped key list
        if isinstance(values, list):
            return type(rhs)([digest(value, self.kind) or "" for value in values])
        raise FieldError(f"{self.name} is encrypted: it can only be compared with values, not {type(rhs).__name__}.")


class _DerivedHash:
    """The hash attribute follows its source on the instance: whatever writes the row (save,
    bulk_create, the roster engine's COPY) reads a hash that matches the value being written."""

    def __init__(self, field):
        self.field = field
        self.cache_name = f"_{field.attname}_of"

    def __get__(self, instance, owner=None):
        if instance is None:
            return self
        data = instance.__dict__
        source = data.get(self.field.source, _MISSING)
        if source is _MISSING:  # the source was not loaded (only(), defer()): the stored hash
            return data.get(self.field.attname)
        cached = data.get(self.cache_name)
        if cached is not None and cached[0] == source:
            return cached[1]
        value = digest(source, self.field.kind) if source else None
        data[self.cache_name] = (source, value)
        return value

    def __set__(self, instance, value):
        instance.__dict__[self.field.attname] = value


_MISSING = object()


class HashField(models.CharField):
    """The keyed hash (HMAC-SHA256, hex) of an ``EncryptedCharField``: exact lookups and uniqueness."""

    def __init__(self, *args, source: str = "", kind: str = "phone", **kwargs):
        self.source = source
        self.kind = kind
        kwargs.setdefault("max_length", 64)
        kwargs.setdefault("editable", False)
        kwargs.setdefault("null", True)
        super().__init__(*args, **kwargs)

    def deconstruct(self):
        name, path, args, kwargs = super().deconstruct()
        kwargs.update(source=self.source, kind=self.kind)
        for key, default in (("max_length", 64), ("editable", False), ("null", True)):
            if key in kwargs and kwargs[key] == default:
                del kwargs[key]
        return name, path, args, kwargs

    def contribute_to_class(self, cls, name, private_only=False):
        super().contribute_to_class(cls, name, private_only)
        setattr(cls, self.attname, _DerivedHash(self))


class EncryptedUniqueMixin:
    """Model mixin: an encrypted field whose hash is unique gets the usual "already exists" error on
    the field itself (Django would report it on the hash column, which no form shows)."""

    def validate_unique(self, exclude=None):
        exclude = set(exclude or ())
        hashed = [f for f in self._meta.concrete_fields if isinstance(f, HashField)]
        super().validate_unique(exclude=exclude | {f.name for f in hashed})
        errors = {}
        for field in hashed:
            if not field.unique or field.source in exclude:
                continue
            value = getattr(self, field.source)
            if not value:
                continue
            others = type(self)._default_manager.filter(**{field.name: getattr(self, field.attname)})
            if self.pk is not None and not self._state.adding:
                others = others.exclude(pk=self.pk)
            if others.exists():
                errors[field.source] = [self.unique_error_message(type(self), (field.source,))]
        if errors:
            from django.core.exceptions import ValidationError

            raise ValidationError(errors)


# --- Whole tables: the migration, the key rotation ------------------------------------------


def encrypted_models(models_iterable) -> list:
    """The models (historical copies included) that hold encrypted fields."""
    return [model for model in models_iterable if not model._meta.proxy and any(
        isinstance(f, EncryptedCharField) for f in model._meta.concrete_fields)]


def reseal_table(model, *, batch: int = 2000, rehash: bool = False, to_plaintext: bool = False,
                 start_after=None, on_batch=None) -> dict:
    """Bring every stored value of ``model``'s encrypted fields under the current key.

    Rows are read by primary key in batches (each batch its own transaction, so an interrupted
    run keeps what it did and a new run resumes: values already under the current key are
    left alone). A plaintext value (a row written before encryption) is encrypted; a row whose
    values change gets its hash columns recomputed; ``rehash`` recomputes every row's hashes
    (after PII_HASH_KEY changed). ``to_plaintext`` writes the plaintext back (the migration's
    reverse). Returns counts: rows read, rows rewritten, values re-encrypted.
    """
    from django.db import connection, transaction

    meta = model._meta
    encrypted = [f for f in meta.concrete_fields if isinstance(f, EncryptedCharField)]
    hashes = [f for f in meta.concrete_fields if isinstance(f, HashField)]
    quote = connection.ops.quote_name
    table, pk = quote(meta.db_table), quote(meta.pk.column)
    columns = [f.column for f in encrypted]
    written = [*columns, *(f.column for f in hashes)]
    select = (f"SELECT {pk}, {', '.join(quote(c) for c in columns)} FROM {table} "
              f"WHERE {pk} > %s ORDER BY {pk} LIMIT %s")
    prefix = f"v{current_key_id()}:"
    counts = {"rows": 0, "rewritten": 0, "values": 0}
    last = start_after if start_after is not None else (0 if meta.pk.get_internal_type().endswith("AutoField")
                                                        else "")
    while True:
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(select, [last, batch])
            rows = cursor.fetchall()
            if not rows:
                break
            updates = []
            for row in rows:
                values = list(row[1:])
                plain = [decrypt(value) if value else value for value in values]
                if to_plaintext:
                    stored = plain
                else:
                    stored = [value if not value or value.startswith(prefix) else encrypt(plain_value)
                              for value, plain_value in zip(values, plain, strict=True)]
                changed = sum(1 for old, new in zip(values, stored, strict=True) if old != new)
                if changed or rehash:
                    sources = dict(zip((f.attname for f in encrypted), plain, strict=True))
                    hashed = [digest(sources.get(f.source) or "", f.kind) for f in hashes]
                    updates.append([row[0], *stored, *hashed])
                    counts["values"] += changed
            counts["rows"] += len(rows)
            counts["rewritten"] += len(updates)
            if updates:
                _write_updates(cursor, connection, table, pk, written, updates)
            last = rows[-1][0]
        if on_batch:
            on_batch(model, last, counts)
    return counts


def _write_updates(cursor, connection, table: str, pk: str, columns: list[str], updates: list[list]) -> None:
    quote = connection.ops.quote_name
    if connection.vendor == "postgresql":
        # One statement a batch: UPDATE ... FROM (VALUES ...), not one round trip a row.
        names = ["k", *(f"c{i}" for i in range(len(columns)))]
        row_sql = "(" + ", ".join(["%s"] * len(names)) + ")"
        sets = ", ".join(f"{quote(column)} = v.c{i}" for i, column in enumerate(columns))
        cursor.execute(
            f"UPDATE {table} SET {sets} FROM (VALUES {', '.join([row_sql] * len(updates))}) "
            f"AS v({', '.join(names)}) WHERE {table}.{pk} = v.k",
            [value for row in updates for value in row],
        )
        return
    sets = ", ".join(f"{quote(column)} = %s" for column in columns)
    cursor.executemany(f"UPDATE {table} SET {sets} WHERE {pk} = %s", [[*row[1:], row[0]] for row in updates])


def seal_rows(table: str, columns: tuple[str, ...], rows: list[tuple], null=None):
    """Rows about to be written raw (the demo loader's COPY): the encrypted columns encrypted and
    their hash columns added (``null`` for an empty value's hash: the writer's NULL marker).
    Tables without encrypted fields pass through unchanged."""
    model = _models_by_table().get(table)
    if model is None or not rows:
        return columns, rows
    encrypted = {f.column: f for f in model._meta.concrete_fields if isinstance(f, EncryptedCharField)}
    hashes = [f for f in model._meta.concrete_fields if isinstance(f, HashField) and f.column not in columns]
    positions = [i for i, column in enumerate(columns) if column in encrypted]
    if not positions:
        return columns, rows
    attname_at = {model._meta.get_field(f.source).column: f for f in hashes}
    hash_positions = [(columns.index(column), f.kind) for column, f in attname_at.items() if column in columns]
    sealed = []
    for row in rows:
        values = list(row)
        extra = [digest(values[i] or "", kind) or null for i, kind in hash_positions]
        for i in positions:
            if values[i]:
                values[i] = encrypt(values[i])
        sealed.append((*values, *extra))
    return (*columns, *(attname_at[columns[i]].column for i, _kind in hash_positions)), sealed


@functools.cache
def _models_by_table() -> dict:
    from django.apps import apps

    return {model._meta.db_table: model for model in encrypted_models(apps.get_models())}
