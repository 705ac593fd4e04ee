"""Launch forms of job kinds, generated from each kind's DRF parameter serializer.

The form only shapes the input (types, choices, defaults, help texts); the kind's own validator still decides,
and its errors are shown next to the fields they name. A kind whose validator is not a serializer gets the
plain JSON form.
"""

from __future__ import annotations

import json
from typing import Any

from django import forms
from rest_framework import serializers
from rest_framework.fields import empty

from .kinds import JobKind, all_kinds


class JobLaunchForm(forms.Form):
    """Any kind, parameters as a JSON object."""

    kind = forms.ChoiceField()
    params = forms.CharField(widget=forms.Textarea(attrs={"rows": 6, "cols": 60}), required=False,
                             initial="{}", help_text="Parameters as a JSON object.")

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["kind"].choices = [(k.name, k.label or k.name) for k in all_kinds()]

    def clean_params(self) -> dict:
        return parse_json(self.cleaned_data["params"], dict, "parameters must be a JSON object")


def parse_json(raw: str, kind: type, message: str) -> Any:
    try:
        value = json.loads(raw.strip() or ("{}" if kind is dict else "null"))
    except json.JSONDecodeError as exc:
        raise forms.ValidationError(f"not valid JSON: {exc}") from exc
    if not isinstance(value, kind):
        raise forms.ValidationError(message)
    return value


class JsonField(forms.CharField):
    """A JSON value typed into a textarea (objects for JSONField/DictField parameters)."""

    def __init__(self, *, expect: type = dict, **kwargs: Any) -> None:
        kwargs.setdefault("widget", forms.Textarea(attrs={"rows": 3, "cols": 60}))
        super().__init__(**kwargs)
        self.expect = expect

    def prepare_value(self, value: Any) -> Any:
        return value if isinstance(value, str) else json.dumps(value)

    def clean(self, value: Any) -> Any:
        raw = super().clean(value)
        if not raw:
            return None
        return parse_json(raw, self.expect, f"expected a JSON {self.expect.__name__}")


class LinesField(forms.CharField):
    """A list of strings, one a line."""

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("widget", forms.Textarea(attrs={"rows": 3, "cols": 60}))
        super().__init__(**kwargs)

    def prepare_value(self, value: Any) -> Any:
        return "\n".join(map(str, value)) if isinstance(value, (list, tuple)) else value

    def clean(self, value: Any) -> list[str] | None:
        raw = super().clean(value)
        return [line.strip() for line in raw.splitlines() if line.strip()] or None


def _default(field: serializers.Field) -> Any:
    if field.default is empty:
        return None
    return field.default() if callable(field.default) else field.default


def form_field(field: serializers.Field) -> forms.Field:
    """The Django form field for one serializer field."""
    common: dict[str, Any] = {"required": bool(field.required), "help_text": field.help_text or "",
                              "initial": _default(field)}
    if isinstance(field, serializers.BooleanField):
        return forms.BooleanField(**{**common, "required": False})
    if isinstance(field, serializers.ChoiceField):
        return forms.ChoiceField(choices=list(field.choices.items()), **common)
    if isinstance(field, serializers.IntegerField):
        return forms.IntegerField(min_value=field.min_value, max_value=field.max_value, **common)
    if isinstance(field, serializers.FloatField):
        return forms.FloatField(min_value=field.min_value, max_value=field.max_value, **common)
    if isinstance(field, serializers.ListField):
        child = field.child
        if isinstance(child, serializers.ChoiceField):
            return forms.MultipleChoiceField(choices=list(child.choices.items()),
                                             widget=forms.CheckboxSelectMultiple, **common)
        return LinesField(**common)
    if isinstance(field, (serializers.JSONField, serializers.DictField)):
        return JsonField(expect=dict, **common)
    return forms.CharField(max_length=getattr(field, "max_length", None), **common)


class KindParamsForm(forms.Form):
    """Base of the generated per-kind forms."""

    kind: JobKind

    def params(self) -> dict[str, Any]:
        """The cleaned values, leaving out empty optional ones so the serializer's defaults apply."""
        out = {}
        for name, value in self.cleaned_data.items():
            if value in (None, "", []) and not self.fields[name].required:
                continue
            out[name] = value
        return out

    def add_kind_errors(self, errors: dict[str, list[str]] | list[str]) -> None:
        if isinstance(errors, dict):
            for name, messages in errors.items():
                self.add_error(name if name in self.fields else None, messages)
        else:
            self.add_error(None, errors)


def params_form_class(kind: JobKind) -> type[forms.Form]:
    """A form class with one field per writable field of ``kind``'s parameter serializer."""
    fields = {name: form_field(field) for name, field in kind.params().fields.items() if not field.read_only}
    return type(f"{kind.name.title().replace('_', '')}LaunchForm", (KindParamsForm,), {**fields, "kind": kind})
