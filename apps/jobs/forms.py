import json

from django import forms

from .kinds import all_kinds


class JobLaunchForm(forms.Form):
    kind = forms.ChoiceField()
    params = forms.CharField(widget=forms.Textarea(attrs={"rows": 6, "cols": 60}), required=False,
                             initial="{}", help_text="Parameters as a JSON object.")

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["kind"].choices = [(k.name, k.label or k.name) for k in all_kinds()]

    def clean_params(self) -> dict:
        raw = self.cleaned_data["params"].strip() or "{}"
        try:
            value = json.loads(raw)
        except json.JSONDecodeError as exc:
            raise forms.ValidationError(f"not valid JSON: {exc}") from exc
        if not isinstance(value, dict):
            raise forms.ValidationError("parameters must be a JSON object")
        return value
