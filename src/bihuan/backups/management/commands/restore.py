from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from bihuan.backups.services import BackupError, restore


class Command(BaseCommand):
    help = ("Restore a backup made by `bihuan backup` into an empty database: the manifest "
            "is verified first, then row counts, table checksums and the audit trail.")

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("source", type=Path, help="the backup directory")
        parser.add_argument("--force", action="store_true",
                            help="replace the contents of a database that is not empty")

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            result = restore(Path(options["source"]), force=options["force"], say=self.stdout.write)
        except BackupError as error:
            raise CommandError(str(error)) from None
        self.stdout.write(f"restored {result.rows} row(s) in {result.tables} table(s) and "
                          f"{result.media_files} file(s)")
