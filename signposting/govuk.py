"""GOV.UK Design System form pieces shared by every app: the date input (three boxes for
day, month and year) as one form field and widget, the rule that turns the three boxes
into a date, and the UK postcode rule.

A leaf module: it imports Django only, never an app, so that registry, accounts, audit and
feeds can all use it (an import-linter contract keeps it so). The date rule lives here, not
in registry, because auditors' and user admins' forms need it too and those apps never
import registry; the postcode rule for the same reason (a user's own home postcode is
typed in accounts). registry.identity re-exports both as part of the identity contract."""

import datetime
import re
from typing import Any

from django import forms
from django.core.exceptions import ValidationError
from django.template.loader import render_to_string
from django.utils import timezone
from django.utils.safestring import SafeString, mark_safe


class InputValueError(ValueError):
    """A typed value that breaks one input rule. `field` names the input at fault (for a
    date: "day", "month", "year", or "date" for the whole); `message` is the one GOV.UK-style
    sentence for that rule, shown to the user as it is."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field
        self.message = message


# --- Postcode --------------------------------------------------------------------------

POSTCODE_SHAPE = "Enter a full UK postcode, like SW1A 1AA"
_POSTCODE_PATTERN = re.compile(r"^([A-Z]{1,2}[0-9][A-Z0-9]?)([0-9][A-Z]{2})$")


def postcode_clean(value: str | None) -> str:
    """Upper case with one space before the inward code ("sw1a1aa" -> "SW1A 1AA"), or "" if
    none was given."""
    compact = re.sub(r"\s+", "", value or "").upper()
    if not compact:
        return ""
    match = _POSTCODE_PATTERN.match(compact)
    if not match:
        raise InputValueError("postcode", POSTCODE_SHAPE)
    return f"{match.group(1)} {match.group(2)}"


# --- Dates -----------------------------------------------------------------------------

DATE_EARLIEST_YEAR = 1900
DATE_WHOLE_IN_ONE_BOX = "Enter the date as day, month, year, for example 21 6 2024"
DATE_MONTH_FIRST = "Month must be between 1 and 12 — did you type the month first?"
DATE_PARTS = ("day", "month", "year")
_SEPARATORS = re.compile(r"[\s/.\-]+")


def _date_part(value: str | int | None) -> str:
    return str(value).strip() if value is not None else ""


def date_from_parts(
    *,
    day: str | int | None,
    month: str | int | None,
    year: str | int | None,
    label: str,
    not_after: datetime.date | None = None,
) -> datetime.date | None:
    """The date typed in the three GOV.UK boxes, or None if all three are empty.

    `label` names the date in messages ("Date of birth must be a real date"). A date later
    than `not_after` is refused. Two common slips get a hint instead of "not a real date": a
    whole date typed in one box (6/21/2024), and day and month swapped the American way
    (day 6, month 21)."""
    parts = {"day": _date_part(day), "month": _date_part(month), "year": _date_part(year)}
    if not any(parts.values()):
        return None
    for name, text in parts.items():
        if len(_SEPARATORS.split(text.strip(" /.-"))) > 1:
            raise InputValueError(name, DATE_WHOLE_IN_ONE_BOX)
    missing = [name for name, text in parts.items() if not text]
    if missing:
        raise InputValueError(missing[0], f"{label} must include a {' and '.join(missing)}")
    real = f"{label} must be a real date"
    for name, text in parts.items():
        # ASCII digits only ("²" is a digit to str.isdigit), and short enough to be a date.
        if not (text.isascii() and text.isdigit()) or len(text) > 4:
            raise InputValueError(name, real)
    numbers = {name: int(text) for name, text in parts.items()}
    # Only a month that could be a day of the month, with a day that could be a month.
    if 12 < numbers["month"] <= 31 and 1 <= numbers["day"] <= 12:
        raise InputValueError("month", DATE_MONTH_FIRST)
    if numbers["year"] < DATE_EARLIEST_YEAR:
        raise InputValueError("year", real)
    try:
        value = datetime.date(numbers["year"], numbers["month"], numbers["day"])
    except ValueError:
        raise InputValueError("date", real) from None
    if not_after is not None and value > not_after:
        raise InputValueError("date", f"{label} must be today or in the past")
    return value


_BOXES = (("Day", 2), ("Month", 2), ("Year", 4))
# The names the GOV.UK Frontend date input macro gives its boxes: <name>-day and so on.
GOVUK_SUFFIXES = ("-day", "-month", "-year")


def date_as_parts(
    *, name: str, value: datetime.date, suffixes: tuple[str, str, str] = GOVUK_SUFFIXES
) -> dict[str, str]:
    """The query parameters that fill a GovukDateField with `value` (for a link that keeps a
    filter, such as the next page of results)."""
    return {
        f"{name}{suffix}": str(part)
        for suffix, part in zip(suffixes, (value.day, value.month, value.year), strict=True)
    }


class GovukDateInput(forms.MultiWidget):
    """The GOV.UK date input: day, month and year boxes in one fieldset. The day box carries
    the field's own id, so that the error summary's link and the legend land on it.

    `suffixes` name the three boxes after the field's name: "_0", "_1", "_2" by default
    (Django's own), or for example ("_day", "_month", "_year")."""

    template_name = "govuk/date_input.html"

    def __init__(self, attrs: dict[str, Any] | None = None, *, suffixes: tuple[str, str, str] | None = None) -> None:
        self.suffixes = suffixes or ("_0", "_1", "_2")
        super().__init__([forms.TextInput(), forms.TextInput(), forms.TextInput()], attrs)
        self.widgets_names = list(self.suffixes)

    def decompress(self, value: Any) -> list[Any]:
        if isinstance(value, datetime.date):
            return [value.day, value.month, value.year]
        return [None, None, None]

    def get_context(self, name: str, value: Any, attrs: dict[str, Any] | None) -> dict[str, Any]:
        context = super().get_context(name, value, attrs)
        widget_attrs = context["widget"]["attrs"]
        base = widget_attrs.get("id", f"id_{name}")
        error_part = widget_attrs.get("error_part", "")
        for subwidget, part, (label, width) in zip(context["widget"]["subwidgets"], DATE_PARTS, _BOXES, strict=True):
            subwidget["attrs"]["id"] = base if part == "day" else f"{base}_{part}"
            subwidget["label"] = label
            subwidget["width"] = width
            # GOV.UK: only the box at fault is outlined in red, or all three when the date
            # as a whole is wrong.
            subwidget["error"] = bool(widget_attrs.get("error")) and error_part in ("", "date", part)
        return context

    def id_for_label(self, id_: str) -> str:
        return id_

    def _render(self, template_name: str, context: dict[str, Any], renderer: Any = None) -> SafeString:
        # The project's templates directory, which the default form renderer does not search.
        return mark_safe(render_to_string(template_name, context))  # noqa: S308 - a template we own


class _DateBoundField(forms.BoundField):
    """Tells the widget which box is at fault when the date has an error."""

    def build_widget_attrs(self, attrs: Any, widget: forms.Widget | None = None) -> Any:
        attrs = super().build_widget_attrs(attrs, widget)
        if self.errors:
            error = self.form.errors.as_data()[self.name][0]
            attrs = {**attrs, "error": True, "error_part": (error.params or {}).get("part", "")}
        return attrs


class GovukDateField(forms.MultiValueField):
    """A date typed in three GOV.UK boxes, checked by `date_from_parts`. `past_only` refuses
    a date after today. Messages name the field by its label, as GOV.UK asks."""

    widget = GovukDateInput

    def __init__(
        self,
        *,
        label: str,
        required: bool = True,
        past_only: bool = False,
        suffixes: tuple[str, str, str] | None = None,
        **kwargs: Any,
    ) -> None:
        self.past_only = past_only
        parts = [forms.CharField(required=False, strip=True, max_length=20) for _ in DATE_PARTS]
        super().__init__(
            fields=parts,
            require_all_fields=False,
            required=required,
            label=label,
            widget=GovukDateInput(suffixes=suffixes),
            error_messages={
                "required": f"Enter the {label.lower()}",
                "incomplete": f"{label} must be a real date",
                **kwargs.pop("error_messages", {}),
            },
            **kwargs,
        )

    def clean(self, value: Any) -> datetime.date | None:
        parts = list(value) if isinstance(value, list | tuple) else [None, None, None]
        if not any(_date_part(part) for part in parts):
            if self.required:
                raise ValidationError(self.error_messages["required"], code="required", params={"part": "date"})
            return None
        try:
            return date_from_parts(
                day=parts[0],
                month=parts[1],
                year=parts[2],
                label=str(self.label),
                not_after=timezone.localdate() if self.past_only else None,
            )
        except InputValueError as error:
            raise ValidationError(error.message, code="invalid_date", params={"part": error.field}) from None

    def get_bound_field(self, form: forms.BaseForm, field_name: str) -> forms.BoundField:
        return _DateBoundField(form, self, field_name)
