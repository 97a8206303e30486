from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from bihuan.audit.models import AuditEntry
from bihuan.audit.services import verify


class Command(BaseCommand):
    help = "Audit trail tools. `verify` re-hashes every entry and walks every stream's chain."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("action", choices=["verify"])

    def handle(self, *args: Any, **options: Any) -> None:
        problems = 0
        for problem in verify():
            problems += 1
            self.stdout.write(f"{problem.stream} #{problem.seq} (id {problem.entry_id}): "
                              f"{problem.problem}")
        total = AuditEntry.objects.count()
        if problems:
            raise CommandError(f"{problems} problem(s) in {total} audit entries")
        self.stdout.write(f"audit trail intact: {total} entries verified")
