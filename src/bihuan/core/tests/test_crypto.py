from __future__ import annotations

import base64

import pytest

from bihuan.core import crypto

KEY_A = base64.b64encode(b"a" * 32).decode()
KEY_B = base64.b64encode(b"b" * 32).decode()
HASH = base64.b64encode(b"h" * 32).decode()


def ring(text: str) -> crypto.Keyring:
    return crypto.parse_keyring(text)


def test_a_value_round_trips_under_the_current_key_with_its_key_id():
    keys = ring(f"a1:{KEY_A},hash:{HASH}")
    token = crypto.encrypt("330784199001011234", purpose="p", ring=keys)
    assert token.startswith("a1$")
    assert "330784199001011234" not in token
    assert crypto.decrypt(token, purpose="p", ring=keys) == "330784199001011234"


def test_each_encryption_draws_a_new_nonce():
    keys = ring(f"a1:{KEY_A},hash:{HASH}")
    assert crypto.encrypt("x", purpose="p", ring=keys) != crypto.encrypt("x", purpose="p",
                                                                         ring=keys)


def test_an_altered_value_or_another_purpose_does_not_open():
    keys = ring(f"a1:{KEY_A},hash:{HASH}")
    token = crypto.encrypt("secret", purpose="tenants.tenant.id_number", ring=keys)
    tampered = token[:-2] + ("A" if token[-2] != "A" else "B") + token[-1]
    with pytest.raises(crypto.DecryptionFailed):
        crypto.decrypt(tampered, purpose="tenants.tenant.id_number", ring=keys)
    with pytest.raises(crypto.DecryptionFailed):
        crypto.decrypt(token, purpose="tenants.tenant.phone", ring=keys)


def test_old_values_open_after_a_new_key_becomes_current_and_not_after_it_is_dropped():
    old = ring(f"a1:{KEY_A},hash:{HASH}")
    token = crypto.encrypt("v", purpose="p", ring=old)
    rotated = ring(f"b2:{KEY_B},a1:{KEY_A},hash:{HASH}")
    assert rotated.current == "b2"
    assert crypto.decrypt(token, purpose="p", ring=rotated) == "v"
    assert crypto.encrypt("v", purpose="p", ring=rotated).startswith("b2$")
    with pytest.raises(crypto.DecryptionFailed):
        crypto.decrypt(token, purpose="p", ring=ring(f"b2:{KEY_B},hash:{HASH}"))


def test_the_lookup_hash_is_keyed_and_normalised():
    keys = ring(f"a1:{KEY_A},hash:{HASH}")
    same = crypto.lookup_hash("11010519491231002x", purpose="p", ring=keys)
    assert same == crypto.lookup_hash(" 11010519491231002X", purpose="p", ring=keys)
    other_key = ring(f"a1:{KEY_A},hash:{KEY_B}")
    assert same != crypto.lookup_hash("11010519491231002X", purpose="p", ring=other_key)


@pytest.mark.parametrize("text", [
    "", f"hash:{HASH}", f"a1:{KEY_A}", "a1:not-base64!,hash:" + HASH,
    "a1:" + base64.b64encode(b"short").decode() + ",hash:" + HASH,
    f"a1:{KEY_A},a1:{KEY_B},hash:{HASH}", f"bad kid:{KEY_A},hash:{HASH}",
])
def test_a_malformed_keyring_is_refused(text):
    with pytest.raises(crypto.KeyringError):
        crypto.parse_keyring(text)


def test_the_key_file_is_created_once_and_read_from_settings(tmp_path, settings):
    path = tmp_path / "keys"
    crypto.ensure_key_file(path)
    first = path.read_text()
    crypto.ensure_key_file(path)
    assert path.read_text() == first
    assert oct(path.stat().st_mode & 0o777) == "0o600"
    settings.BIHUAN_PII_KEYS = ""
    settings.BIHUAN_PII_KEY_FILE = str(path)
    assert crypto.keyring().current == "k1"
