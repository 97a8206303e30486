"""Field encryption for personal data: AES-256-GCM per value, a key id on each.

A stored value reads ``<kid>$<base64url(nonce ‖ ciphertext ‖ tag)>``: the key id
says which key of the keyring opens it, so a new key can become current while
rows written under the old one stay readable until ``bihuan pii rotate-key``
re-encrypts them. Each value gets a fresh random 96-bit nonce; the *purpose*
(``tenants.tenant.id_number``) is bound as associated data, so a ciphertext
copied into another column does not decrypt.

Exact look-up (find a tenant by ID number) uses a keyed hash, HMAC-SHA256 under
a separate key: equal inputs give equal hashes, but without the key nobody can
test guesses against the column (an ID number has too little entropy for a
plain hash).

The keyring comes from the environment, never from the database:

- ``BIHUAN_PII_KEYS``: comma-separated ``kid:base64key`` entries, the first is
  the current encryption key; the entry named ``hash`` is the look-up key;
- or ``BIHUAN_PII_KEY_FILE``: a file with the same entries (commas or lines).

Development and the demo generate a key file under ``var/`` on first use;
production refuses to start without a keyring (``settings._check_production``).
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import os
import re
import secrets
import unicodedata
from dataclasses import dataclass
from pathlib import Path

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

KEY_BYTES = 32
NONCE_BYTES = 12
HASH_KID = "hash"
SEPARATOR = "$"
KID_PATTERN = re.compile(r"^[A-Za-z0-9_-]{1,16}$")


class KeyringError(Exception):
    """The keyring is missing or malformed (a configuration error, not user input)."""


class DecryptionFailed(Exception):
    """A stored value does not open: unknown key id, wrong key, or altered bytes."""


@dataclass(frozen=True)
class Keyring:
    keys: dict[str, bytes]
    current: str
    hash_key: bytes


def _decode_key(kid: str, value: str) -> bytes:
    try:
        key = base64.b64decode(value.strip(), validate=True)
    except (binascii.Error, ValueError):
        raise KeyringError(f"key {kid!r} is not valid base64") from None
    if len(key) != KEY_BYTES:
        raise KeyringError(f"key {kid!r} must be {KEY_BYTES} bytes (AES-256)")
    return key


def parse_keyring(text: str) -> Keyring:
    """``kid:base64key`` entries separated by commas or new lines; the first is current."""
    keys: dict[str, bytes] = {}
    hash_key: bytes | None = None
    for raw in re.split(r"[,\n]", text):
        entry = raw.strip()
        if not entry or entry.startswith("#"):
            continue
        kid, sep, value = entry.partition(":")
        kid = kid.strip()
        if not sep or not KID_PATTERN.match(kid):
            raise KeyringError("keyring entries read kid:base64key (kid: letters, digits, _-)")
        if kid == HASH_KID:
            hash_key = _decode_key(kid, value)
        elif kid in keys:
            raise KeyringError(f"key id {kid!r} appears twice")
        else:
            keys[kid] = _decode_key(kid, value)
    if not keys:
        raise KeyringError("the keyring holds no encryption key")
    if hash_key is None:
        raise KeyringError(f"the keyring holds no {HASH_KID!r} (look-up) key")
    return Keyring(keys=keys, current=next(iter(keys)), hash_key=hash_key)


def new_key() -> str:
    return base64.b64encode(secrets.token_bytes(KEY_BYTES)).decode()


def new_keyring_text(kid: str = "k1") -> str:
    """A fresh keyring: one encryption key and the look-up key, one entry a line."""
    return f"{kid}:{new_key()}\n{HASH_KID}:{new_key()}\n"


def ensure_key_file(path: Path) -> None:
    """Create ``path`` with a fresh keyring unless it exists (development and demo only).

    Written to a temporary file and linked into place, so two processes starting
    at once (``pytest -n 2``) end up with the same keyring, never half a file.
    """
    if path.exists():
        return
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_name(f".{path.name}.{os.getpid()}.{secrets.token_hex(4)}")
    temporary.write_text(new_keyring_text(), encoding="utf-8")
    temporary.chmod(0o600)
    try:
        os.link(temporary, path)
    except FileExistsError:
        pass
    finally:
        temporary.unlink(missing_ok=True)


def read_keyring(keys: str, key_file: str) -> Keyring:
    """The keyring from the inline entries, else from the key file."""
    if keys:
        return parse_keyring(keys)
    if key_file:
        try:
            return parse_keyring(Path(key_file).read_text(encoding="utf-8"))
        except OSError as error:
            raise KeyringError(f"cannot read the key file: {error.strerror}") from None
    raise KeyringError("set BIHUAN_PII_KEYS or BIHUAN_PII_KEY_FILE")


_cached: tuple[tuple[str, str], Keyring] | None = None


def keyring() -> Keyring:
    """The configured keyring (parsed once per configuration)."""
    global _cached
    from django.conf import settings

    text_setting = getattr(settings, "BIHUAN_PII_KEYS", "") or ""
    file_setting = str(getattr(settings, "BIHUAN_PII_KEY_FILE", "") or "")
    source = (text_setting, file_setting)
    if _cached is not None and _cached[0] == source:
        return _cached[1]
    ring = read_keyring(text_setting, file_setting)
    _cached = (source, ring)
    return ring


def reset_keyring() -> None:
    global _cached
    _cached = None


def encrypt(plain: str, *, purpose: str, ring: Keyring | None = None) -> str:
    """``plain`` sealed under the current key, with a fresh nonce, bound to ``purpose``."""
    ring = ring or keyring()
    nonce = secrets.token_bytes(NONCE_BYTES)
    sealed = AESGCM(ring.keys[ring.current]).encrypt(nonce, plain.encode(), purpose.encode())
    body = base64.urlsafe_b64encode(nonce + sealed).decode().rstrip("=")
    return f"{ring.current}{SEPARATOR}{body}"


def key_id(token: str) -> str:
    return token.partition(SEPARATOR)[0]


def decrypt(token: str, *, purpose: str, ring: Keyring | None = None) -> str:
    """The clear value of ``token``; :class:`DecryptionFailed` if it does not open."""
    ring = ring or keyring()
    kid, sep, body = token.partition(SEPARATOR)
    key = ring.keys.get(kid)
    if not sep or key is None:
        raise DecryptionFailed(f"no key {kid!r} in the keyring")
    try:
        raw = base64.urlsafe_b64decode(body + "=" * (-len(body) % 4))
        plain = AESGCM(key).decrypt(raw[:NONCE_BYTES], raw[NONCE_BYTES:], purpose.encode())
    except (InvalidTag, binascii.Error, ValueError):
        raise DecryptionFailed("the value does not open under its key") from None
    return plain.decode()


def lookup_hash(value: str, *, purpose: str, ring: Keyring | None = None) -> str:
    """HMAC-SHA256 of the normalised ``value`` for exact look-up (hex)."""
    ring = ring or keyring()
    normalised = unicodedata.normalize("NFKC", value).strip().upper()
    message = purpose.encode() + b"\x00" + normalised.encode()
    return hmac.new(ring.hash_key, message, hashlib.sha256).hexdigest()
