from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from bihuan.core.crypto import DecryptionFailed, KeyringError
from bihuan.tenants.services import rotate_keys


class Command(BaseCommand):
    help = ("Personal-data keys. `rotate-key` re-encrypts every sealed value under the "
            "current (first) key of BIHUAN_PII_KEYS / BIHUAN_PII_KEY_FILE and re-computes "
            "the look-up hashes. Keep the old keys in the keyring until it has finished.")

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("action", choices=["rotate-key"])

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            result = rotate_keys(actor=None)
        except (KeyringError, DecryptionFailed) as error:
            raise CommandError(str(error)) from None
        self.stdout.write(f"{result.reencrypted} of {result.rows} tenant(s) re-encrypted "
                          f"under key {result.key_id}")
