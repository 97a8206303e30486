from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from bihuan.backups.services import BackupError, backup
from bihuan.core import clock


class Command(BaseCommand):
    help = ("Back up the database and the uploaded files into a new directory, with a "
            "manifest of SHA-256 checksums and per-table row counts and checksums.")

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--out", type=Path, default=None,
                            help="a new directory (default: var/backups/<timestamp>)")
        parser.add_argument("--method", choices=["auto", "sqlite", "pg_dump", "dumpdata"],
                            default="auto",
                            help="auto: SQLite backup API on SQLite, pg_dump on PostgreSQL "
                                 "(dumpdata if pg_dump is missing); dumpdata is portable")

    def handle(self, *args: Any, **options: Any) -> None:
        from django.conf import settings

        out = Path(options["out"] or (Path(settings.VAR_DIR) / "backups"
                                      / clock.now().strftime("%Y%m%d-%H%M%S")))
        try:
            backup(out, method=options["method"], say=self.stdout.write)
        except BackupError as error:
            raise CommandError(str(error)) from None
        self.stdout.write(f"backup written to {out}")
