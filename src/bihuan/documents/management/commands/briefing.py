"""``bihuan briefing --area CODE --date YYYY-MM-DD [--weekly] [--out DIR]``: the briefing
of an area in PDF, DOCX and XLSX, written from one assembly (see documents.briefing)."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils import translation
from django.utils.translation import gettext as _

from bihuan.core.errors import DomainError
from bihuan.documents import writers
from bihuan.documents.briefing import (
    Period,
    area_for,
    build_briefing,
    default_campaign,
    default_user_for,
    parse_day,
)


class Command(BaseCommand):
    help = "Write the daily or weekly briefing (通报) of an area as PDF, DOCX and XLSX."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--area", required=True, help="area code, e.g. 330784")
        parser.add_argument("--date", required=True, help="the briefing's day, YYYY-MM-DD")
        parser.add_argument("--weekly", action="store_true", help="the week ending on --date")
        parser.add_argument("--out", default=".", help="directory to write to (default: .)")
        parser.add_argument("--user", default="",
                            help="whose scope the hazard lists follow (default: a command "
                                 "HQ member covering the area)")
        parser.add_argument("--campaign", default="",
                            help="campaign code (default: the running campaign covering "
                                 "the area; 'none' for all records)")
        parser.add_argument("--format", action="append", choices=writers.FORMATS,
                            help="only these formats (repeatable; default: all three)")
        parser.add_argument("--language", default="zh-hans", help="document language")

    def handle(self, *args: Any, **options: Any) -> None:
        with translation.override(options["language"]):
            try:
                self._write(options)
            except DomainError as error:
                raise CommandError(str(error.message)) from None

    def _write(self, options: dict[str, Any]) -> None:
        from bihuan.accounts.models import User
        from bihuan.areas.models import Area
        from bihuan.campaigns.models import Campaign
        from bihuan.core.errors import ValidationFailed

        day = parse_day(options["date"])
        area = Area.objects.filter(code=(options["area"] or "").strip()).first()
        if area is None:
            raise ValidationFailed(_("No area with code %(code)s.") % {"code": options["area"]},
                                   field="area")
        if options["user"]:
            user = User.objects.filter(username=options["user"], is_active=True).first()
            if user is None:
                raise ValidationFailed(_("No active user %(name)s.") % {"name": options["user"]},
                                       field="user")
            area = area_for(user, area.code)
        else:
            user = default_user_for(area)
        code = (options["campaign"] or "").strip()
        if code.lower() == "none":
            campaign = None
        elif code:
            campaign = Campaign.objects.filter(code=code).first()
            if campaign is None:
                raise ValidationFailed(_("No campaign with code %(code)s.") % {"code": code},
                                       field="campaign")
        else:
            campaign = default_campaign(area, day)
        out = Path(options["out"])
        out.mkdir(parents=True, exist_ok=True)
        formats = options["format"] or list(writers.FORMATS)
        started = time.perf_counter()
        data = build_briefing(user=user, area=area, day=day, campaign=campaign,
                              period=Period.WEEKLY if options["weekly"] else Period.DAILY,
                              with_charts=formats != ["xlsx"])
        for fmt in formats:
            path = out / data.filename(fmt)
            path.write_bytes(writers.render(data, fmt))
            self.stdout.write(str(path))
        self.stderr.write(f"{time.perf_counter() - started:.2f} s")
