"""Create, list or revoke personal API tokens. `create` prints the token as its last line."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.core.exceptions import PermissionDenied
from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from api.selectors import tokens_for_user
from api.services import api_token_create, api_token_revoke
from hockeyhub.commands import command_user
from workouts.selectors import teams_for_user


class Command(BaseCommand):
    help = "Personal API tokens: create (prints the token last), list, revoke."

    def add_arguments(self, parser: Any) -> None:
        sub = parser.add_subparsers(dest="action", required=True)
        create = sub.add_parser("create", help="Create a token; its secret is the last line printed")
        create.add_argument("--user", required=True)
        create.add_argument("--team", help="Team slug (default: the user's only or first team)")
        create.add_argument("--name", default="command line")
        create.add_argument("--expires-days", type=int, default=0, help="0: never (default)")
        listing = sub.add_parser("list", help="A user's tokens")
        listing.add_argument("--user", required=True)
        revoke = sub.add_parser("revoke", help="Revoke a token by id")
        revoke.add_argument("token_id", type=int)
        revoke.add_argument("--user", required=True, help="The token's owner (or a staff user)")

    def handle(self, *args: Any, **opts: Any) -> None:
        user = command_user(opts["user"])
        action = opts["action"]
        if action == "create":
            teams = teams_for_user(user=user).order_by("name")
            team = teams.filter(slug=opts["team"]).first() if opts.get("team") else teams.first()
            if team is None:
                raise CommandError(
                    f"user {user.username} has no team {opts['team']!r}"
                    if opts.get("team")
                    else f"user {user.username} is not a member of any team"
                )
            days = opts["expires_days"]
            expires = timezone.now() + dt.timedelta(days=days) if days > 0 else None
            try:
                token, secret = api_token_create(
                    user=user, team=team, name=opts["name"], expires_at=expires, channel="command"
                )
            except (ValueError, PermissionDenied) as exc:
                raise CommandError(str(exc)) from exc
            self.stdout.write(
                f"Token {token.pk} “{token.name}” for {user.username} in team {team.slug}"
                + (f", expires {expires:%Y-%m-%d}" if expires else ", never expires")
                + ". It is shown only now:"
            )
            self.stdout.write(secret)
        elif action == "list":
            for token in tokens_for_user(user=user):
                state = "revoked" if token.revoked_at else "active"
                self.stdout.write(f"{token.pk}\t{token.prefix}…\t{token.team.slug}\t{state}\t{token.name}")
        else:
            try:
                token = api_token_revoke(token_id=opts["token_id"], user=user, channel="command")
            except PermissionDenied as exc:
                raise CommandError(str(exc)) from exc
            self.stdout.write(f"Token {token.pk} revoked.")
