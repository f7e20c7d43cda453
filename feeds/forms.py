from typing import Any

from django import forms
from django.conf import settings

from feeds.services import size_limit_message


class FeedUploadForm(forms.Form):
    file = forms.FileField(
        label="Upload a GRO deaths or births file",
        help_text="A CSV file with a header row, or the same gzip-compressed (.csv or .csv.gz)",
        error_messages={"required": "Select a file to upload", "empty": "The selected file is empty"},
    )

    def clean_file(self) -> Any:
        upload = self.cleaned_data["file"]
        # Refused on its size alone, before a byte of it is read.
        if upload.size > settings.FEEDS_MAX_FILE_BYTES:
            raise forms.ValidationError(size_limit_message())
        return upload


class ReviewDecisionForm(forms.Form):
    decision = forms.ChoiceField(
        label="Is this registration about this child?",
        choices=[("confirm", "Yes, it is about this child"), ("reject", "No, it is about someone else")],
        widget=forms.RadioSelect,
        error_messages={"required": "Select whether this registration is about this child"},
    )
