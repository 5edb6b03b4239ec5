from __future__ import annotations

from django import forms

from webhooks.models import Event


class EndpointForm(forms.Form):
    url = forms.URLField(max_length=500, label="URL", assume_scheme="https")
    events = forms.MultipleChoiceField(
        choices=Event.choices, widget=forms.CheckboxSelectMultiple, initial=list(Event.values)
    )
    description = forms.CharField(max_length=200, required=False)
