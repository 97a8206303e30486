from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from bihuan.tenants.services import purge_moved_out, retention_days


class Command(BaseCommand):
    help = ("Tenant records. `purge` deletes tenants who moved out more than "
            "BIHUAN_TENANTS_RETENTION_DAYS ago (audited).")

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("action", choices=["purge"])

    def handle(self, *args: Any, **options: Any) -> None:
        purged = purge_moved_out(actor=None)
        self.stdout.write(f"purged {purged} tenant(s) who moved out more than "
                          f"{retention_days()} days ago")
