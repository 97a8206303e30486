import datetime as dt
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from bihuan.audit.models import AuditEntry
from bihuan.audit.services import purge, retention_days, verify
from bihuan.core import clock
from bihuan.core.errors import DomainError


class Command(BaseCommand):
    help = ("Audit trail tools. `verify` re-hashes every entry and walks every stream's "
            "chain (exit status 1 and the entries named on any break). `purge "
            "--older-than-days N` deletes entries older than N days; N below the retention "
            "period (at least 180 days) is refused.")

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("action", choices=["verify", "purge"])
        parser.add_argument("--older-than-days", type=int, default=None,
                            help="purge: delete entries older than this many days")

    def handle(self, *args: Any, **options: Any) -> None:
        if options["action"] == "purge":
            self._purge(options["older_than_days"])
            return
        problems = 0
        for problem in verify():
            problems += 1
            self.stdout.write(f"{problem.stream} #{problem.seq} (id {problem.entry_id}): "
                              f"{problem.problem}")
        total = AuditEntry.objects.count()
        if problems:
            raise CommandError(f"{problems} problem(s) in {total} audit entries")
        self.stdout.write(f"audit trail intact: {total} entries verified")

    def _purge(self, days: int | None) -> None:
        if days is None:
            raise CommandError("purge needs --older-than-days")
        if days < retention_days():
            raise CommandError(f"audit entries are kept at least {retention_days()} days; "
                               f"refusing to purge entries younger than that")
        try:
            deleted = purge(clock.now() - dt.timedelta(days=days))
        except DomainError as error:
            raise CommandError(str(error)) from None
        self.stdout.write(f"purged {deleted} audit entries older than {days} days")
