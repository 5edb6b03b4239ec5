from __future__ import annotations

from django import forms
from django.conf import settings

from workouts.models import Facility, Player


class UploadForm(forms.Form):
    name = forms.CharField(max_length=120, help_text="e.g. League games, Ice-time bookings")
    file = forms.FileField(label="iCalendar file (.ics)")
    facility = forms.ModelChoiceField(
        queryset=Facility.objects.order_by("name"),
        required=False,
        empty_label="This team (busy time for its players and sessions)",
        label="Busy time for",
        help_text="A facility's bookings block that facility for every team.",
    )

    def clean_file(self) -> bytes:
        upload = self.cleaned_data["file"]
        if upload.size > settings.CALENDAR_IMPORT_MAX_BYTES:
            limit = settings.CALENDAR_IMPORT_MAX_BYTES
            raise forms.ValidationError(f"The file is {upload.size:,} bytes; at most {limit:,} are accepted.")
        return upload.read()


class SubscribeForm(forms.Form):
    name = forms.CharField(max_length=120)
    url = forms.CharField(
        label="Calendar URL", max_length=500, help_text="https:// or webcal:// — fetched every hour."
    )
    facility = forms.ModelChoiceField(
        queryset=Facility.objects.order_by("name"),
        required=False,
        empty_label="This team (busy time for its players and sessions)",
        label="Busy time for",
    )

    def __init__(self, *args, **kwargs) -> None:  # type: ignore[no-untyped-def]
        kwargs.setdefault("auto_id", "sub_%s")  # the upload form on the same page uses id_name
        super().__init__(*args, **kwargs)


class FeedForm(forms.Form):
    kind = forms.ChoiceField(choices=[("team", "Team"), ("player", "Player"), ("facility", "Facility")])
    player = forms.ModelChoiceField(queryset=Player.objects.none(), required=False)
    facility = forms.ModelChoiceField(queryset=Facility.objects.order_by("name"), required=False)

    def __init__(self, *args, team, **kwargs) -> None:  # type: ignore[no-untyped-def]
        kwargs.setdefault("auto_id", "feed_%s")
        super().__init__(*args, **kwargs)
        self.fields["player"].queryset = Player.objects.filter(team=team)
