"""``bihuan import places|hazards FILE [--dry-run] [--area CODE] --user NAME``.

The same service calls as the web page: start, check (the dry run), and, when
no row has a problem and ``--dry-run`` is not given, commit all or nothing.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.files import File
from django.core.management.base import BaseCommand, CommandError, CommandParser

from bihuan.core.errors import DomainError
from bihuan.imports.choices import DuplicateDecision, ImportKind
from bihuan.places.choices import PlaceKind


class Command(BaseCommand):
    help = "Import places (with their responsible parties) or a hazard ledger from XLSX/CSV."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("kind", choices=ImportKind.values)
        parser.add_argument("file")
        parser.add_argument("--dry-run", action="store_true",
                            help="check every row and report; write nothing")
        parser.add_argument("--area", default=settings.BIHUAN_CITY_CODE,
                            help="area code rows without town/village/grid go to "
                                 "(and that no row may leave); default: the city")
        parser.add_argument("--user", required=True,
                            help="the official the import is done as (their scope applies)")
        parser.add_argument("--kind-of-place", choices=PlaceKind.values, default="",
                            help="kind of place for rows that do not say")
        parser.add_argument("--duplicates", choices=DuplicateDecision.values,
                            default=DuplicateDecision.SKIP,
                            help="what to do with rows that look like an existing place "
                                 "or an earlier row")

    def handle(self, *args: Any, **options: Any) -> None:
        from bihuan.accounts.models import User
        from bihuan.areas.models import Area
        from bihuan.imports import services

        user = User.objects.filter(username=options["user"], is_active=True).first()
        if user is None:
            raise CommandError(f"No active user {options['user']!r}.")
        area = Area.objects.filter(code=options["area"]).first()
        if area is None:
            raise CommandError(f"No area with code {options['area']!r}.")
        path = Path(options["file"])
        if not path.is_file():
            raise CommandError(f"No such file: {path}")
        verbosity = options["verbosity"]

        def progress(label: str) -> Any:
            def report(rows: int) -> None:
                if verbosity > 1:
                    self.stderr.write(f"{label}: {rows} rows")
            return report

        try:
            with path.open("rb") as handle:
                job = services.start_import(
                    actor=user, kind=options["kind"], file=File(handle, name=path.name),
                    filename=path.name, area=area, place_kind=options["kind_of_place"],
                    default_decision=options["duplicates"])
            if options["dry_run"]:
                job = services.check_import(job, actor=user, on_progress=progress("checked"))
            else:
                # One pass: check and write together, all or nothing.
                job = services.import_at_once(job, actor=user, on_progress=progress("rows"))
            self.stdout.write(f"{job.total_rows} rows, {job.error_rows} with problems, "
                              f"{job.duplicate_rows} possible duplicates.")
            for row, messages in sorted(services.problems_by_row(job).items()):
                for message in messages:
                    self.stdout.write(f"  row {row}: {message}")
            for duplicate in job.duplicates.all():
                other = (f"place #{duplicate.place_id}" if duplicate.place_id
                         else f"row {duplicate.same_as_row}")
                self.stdout.write(f"  row {duplicate.row}: looks like {other} "
                                  f"({duplicate.similarity:.0%}): {options['duplicates']}")
            if job.error_rows:
                self.stdout.write("Nothing imported: correct the rows above.")
                sys.exit(1)
            if options["dry_run"]:
                self.stdout.write("Dry run: nothing imported.")
                return
        except DomainError as error:
            raise CommandError(str(error.message)) from None
        self.stdout.write(f"Imported: {job.created_count} created, {job.merged_count} merged, "
                          f"{job.skipped_count} skipped.")
