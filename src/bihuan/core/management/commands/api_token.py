"""``bihuan api-token create USER --name NAME`` (also ``list USER``, ``revoke PREFIX``)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError, CommandParser

from bihuan.core import clock
from bihuan.core.errors import DomainError
from bihuan.core.models import ApiToken
from bihuan.core.tokens import create_token, revoke_token


class Command(BaseCommand):
    help = ("API tokens for systems. `create USER` prints the secret once (only its hash is "
            "kept); `list USER` shows a user's tokens; `revoke PREFIX` ends one.")

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("action", choices=["create", "list", "revoke"])
        parser.add_argument("target", help="username (create, list) or token prefix (revoke)")
        parser.add_argument("--name", default="", help="which system uses the token")
        parser.add_argument("--days", type=int, default=None,
                            help="expire after this many days (default: never)")

    def handle(self, *args: Any, **options: Any) -> None:
        action, target = options["action"], options["target"]
        if action == "revoke":
            tokens = list(ApiToken.objects.filter(prefix=target, revoked_at__isnull=True))
            if len(tokens) != 1:
                raise CommandError(f"no single live token with prefix {target!r}")
            revoke_token(tokens[0])
            self.stdout.write(f"revoked {tokens[0]}")
            return
        user = get_user_model().objects.filter(username=target).first()
        if user is None:
            raise CommandError(f"no user {target!r}")
        if action == "list":
            for token in ApiToken.objects.filter(user=user):
                state = "revoked" if token.revoked_at else "live"
                self.stdout.write(f"{token.prefix}…  {token.name}  {state}  "
                                  f"created {token.created_at:%Y-%m-%d}  "
                                  f"last used {token.last_used_at or '-'}")
            return
        expires = (clock.now() + dt.timedelta(days=options["days"])
                   if options["days"] else None)
        try:
            token, secret = create_token(user=user, name=options["name"] or "api",
                                         expires_at=expires)
        except DomainError as error:
            raise CommandError(str(error.message)) from None
        self.stderr.write(f"Token {token.prefix}… for {user.username}. The secret is shown "
                          f"only now; store it where the system keeps its credentials:")
        self.stdout.write(secret)
