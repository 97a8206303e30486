from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from bihuan.dashboard import summaries
from bihuan.dashboard.verify import verify


class Command(BaseCommand):
    help = ("Dashboard metrics. `verify` recomputes every figure of every area from the raw "
            "records and compares (non-zero exit on any difference); `rebuild` rebuilds the "
            "summary rows from the raw records (after a bulk load).")

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("action", choices=["verify", "rebuild"])
        parser.add_argument("--show", type=int, default=50,
                            help="print at most this many differences")

    def handle(self, *args: Any, **options: Any) -> None:
        if options["action"] == "rebuild":
            result = summaries.rebuild()
            self.stdout.write(
                f"summary rows rebuilt: {result['hazards']} hazards, {result['day_rows']} day "
                f"rows, {result['total_rows']} total rows")
            return
        differences = verify()
        for difference in differences[: options["show"]]:
            self.stdout.write(str(difference))
        if differences:
            raise CommandError(f"{len(differences)} difference(s) between the dashboard and "
                               "the raw records")
        self.stdout.write("metrics consistent: every figure equals the raw records")
