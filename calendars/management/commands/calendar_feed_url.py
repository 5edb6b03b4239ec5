"""manage.py calendar_feed_url --team SLUG | --player ID | --facility ID [--team SLUG] [--rotate]."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser

from calendars.models import FeedToken
from calendars.services import feed_token_get_or_create, feed_token_rotate
from calendars.tokens import feed_path
from workouts.models import Facility, Player, Team


class Command(BaseCommand):
    help = "Print a feed's secret URL (made on first use) as the last line; --rotate makes a new one."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--team", help="the team's slug (with --facility: the team the link belongs to)")
        parser.add_argument("--player", type=int, help="the player's id")
        parser.add_argument("--facility", type=int, help="the facility's id")
        parser.add_argument(
            "--rotate", action="store_true", help="revoke the current link and print a new one"
        )

    def handle(self, *args: Any, **options: Any) -> None:
        if sum(bool(options[k]) for k in ("player", "facility")) > 1:
            raise CommandError("give one of --team, --player or --facility")
        player = facility = team = None
        if options["team"]:
            team = Team.objects.filter(slug=options["team"]).first()
            if team is None:
                raise CommandError(f"no team with slug {options['team']!r}")
        if options["player"]:
            player = Player.objects.select_related("team").filter(pk=options["player"]).first()
            if player is None:
                raise CommandError(f"no player with id {options['player']}")
            team, kind = player.team, FeedToken.Kind.PLAYER
        elif options["facility"]:
            facility = Facility.objects.filter(pk=options["facility"]).first()
            if facility is None:
                raise CommandError(f"no facility with id {options['facility']}")
            team = team or Team.objects.order_by("pk").first()
            if team is None:
                raise CommandError("a facility feed belongs to a team; there is none")
            kind = FeedToken.Kind.FACILITY
        elif team is not None:
            kind = FeedToken.Kind.TEAM
        else:
            raise CommandError("give one of --team, --player or --facility")
        feed = feed_token_get_or_create(
            user=None, kind=kind, team=team, player=player, facility=facility, channel="command"
        )
        if options["rotate"] or feed_path(feed) is None:
            feed = feed_token_rotate(user=None, feed=feed, channel="command")
        self.stdout.write(f"{feed}:")
        self.stdout.write(settings.CALENDAR_FEED_BASE_URL.rstrip("/") + feed_path(feed))
