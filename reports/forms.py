"""The list pages' search and filters (GET forms).

An invalid filter is shown with its error and left out; the rest still apply. Each form's
filters() names the valid ones as the query that applies them takes them.
"""

from __future__ import annotations

from django import forms

from messaging.models import CampaignState, Channel, MessageState
from messaging.validators import validate_filter_day


class CampaignFilterForm(forms.Form):
    """The campaign list's search and filters (GET). An invalid filter is shown with its error
    and left out; the rest still apply."""

    q = forms.CharField(label="Search", required=False, max_length=200)
    state = forms.ChoiceField(
        label="State", required=False, choices=[("", "Any state"), *CampaignState.choices]
    )
    channel = forms.ChoiceField(
        label="Channel", required=False, choices=[("", "Any channel"), *Channel.choices]
    )
    application = forms.ModelChoiceField(
        label="Application", required=False, queryset=None, empty_label="Any application"
    )
    created_from = forms.DateField(
        label="Created from",
        required=False,
        validators=[validate_filter_day],
        widget=forms.DateInput(attrs={"type": "date"}),
    )
    created_to = forms.DateField(
        label="Created to",
        required=False,
        validators=[validate_filter_day],
        widget=forms.DateInput(attrs={"type": "date"}),
    )

    def __init__(self, *args, applications, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["application"].queryset = applications

    def clean(self):
        cleaned = super().clean()
        start, end = cleaned.get("created_from"), cleaned.get("created_to")
        if start and end and end < start:
            self.add_error("created_to", "The end of the date range is before its start.")
        return cleaned

    def filters(self) -> dict:
        """The valid filters, named as reports.listing.campaigns_filter takes them."""
        data = getattr(self, "cleaned_data", {})
        return {
            "text": data.get("q", "").strip(),
            "state": data.get("state", ""),
            "channel": data.get("channel", ""),
            "application": data.get("application"),
            "created_from": data.get("created_from"),
            "created_to": data.get("created_to"),
        }


class MessageFilterForm(forms.Form):
    """The message list's filters (GET). An invalid filter is shown with its error and left
    out; the rest still apply (like the campaign list)."""

    state = forms.ChoiceField(
        label="State", required=False, choices=[("", "Any state"), *MessageState.choices]
    )
    # Filled from the campaign's own counters (message_queries.message_filter_choices), so
    # that staff pick a network or code its messages have rather than guess its spelling.
    network = forms.ChoiceField(label="Network", required=False)
    failure_code = forms.TypedChoiceField(
        label="Failure code",
        required=False,
        coerce=int,
        empty_value=None,
        help_text="Failed messages with this code at any stage.",
    )
    q = forms.CharField(label="Recipient starts with", required=False, max_length=254, strip=True)
    # Where the page starts: after an id (the next pages), before one (the previous pages), or
    # `last` for the last page; message_queries reads each from the index, never by OFFSET.
    after = forms.IntegerField(required=False, min_value=0, widget=forms.HiddenInput)
    before = forms.IntegerField(required=False, min_value=1, widget=forms.HiddenInput)
    last = forms.BooleanField(required=False, widget=forms.HiddenInput)

    def __init__(self, *args, networks=(), failure_codes=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["network"].choices = [("", "Any network"), *((n, n) for n in networks)]
        self.fields["failure_code"].choices = [("", "Any failure"), *failure_codes]

    def clean(self):
        cleaned = super().clean()
        state = cleaned.get("state")
        if cleaned.get("failure_code") is not None and state and state != MessageState.FAILED:
            self.add_error(
                "failure_code", "A failure code only matches failed messages; set State to Any."
            )
        return cleaned

    def filters(self) -> dict:
        """The valid filters, named as message_queries.messages_filter takes them."""
        data = getattr(self, "cleaned_data", {})
        return {
            "state": data.get("state", ""),
            "network": data.get("network", "").strip(),
            "failure_code": data.get("failure_code"),
            "recipient": data.get("q", ""),
        }


class ReplyFilterForm(forms.Form):
    """The replies pages' search (GET): a word, and on the inbox the application. An invalid
    filter is shown with its error and left out."""

    q = forms.CharField(
        label="Search",
        required=False,
        max_length=200,
        help_text="A word in the reply, or the number or address that sent it.",
        widget=forms.TextInput(attrs={"placeholder": "A word, a number or an address"}),
    )
    application = forms.ModelChoiceField(
        label="Application", required=False, queryset=None, empty_label="Any application"
    )
    before = forms.IntegerField(required=False, min_value=1, widget=forms.HiddenInput)

    def __init__(self, *args, applications=None, **kwargs):
        super().__init__(*args, **kwargs)
        if applications is None:  # a campaign's own replies: its application is known
            del self.fields["application"]
        else:
            self.fields["application"].queryset = applications

    def filters(self) -> dict:
        """The valid filters, named as reports.replies.replies_filter takes them."""
        data = getattr(self, "cleaned_data", {})
        return {"text": data.get("q", "").strip(), "application": data.get("application")}
