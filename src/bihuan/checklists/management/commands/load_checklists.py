from typing import Any

from django.core.management.base import BaseCommand

from bihuan.checklists.services import load_builtin


class Command(BaseCommand):
    help = "Publish the built-in checklists whose versions are not in the database yet."

    def handle(self, *args: Any, **options: Any) -> None:
        published = load_builtin()
        for checklist in published:
            self.stdout.write(f"published {checklist.code} v{checklist.version}")
        self.stdout.write(f"{len(published)} checklist(s) published")
