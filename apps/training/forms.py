"""Forms of the training pages; they collect ids and choices, the job kinds' serializers validate them."""

from __future__ import annotations

import json
from typing import Any

from django import forms
from django.urls import reverse

from apps.datasets.models import DatasetVersion
from apps.labels.models import LabelSystemVersion, VersionStatus

from .models import Checkpoint, EvalResult, ModelSize, ModelVariant, TrainingMode


def _json_object(raw: str, what: str) -> dict[str, Any]:
    try:
        value = json.loads(raw.strip() or "{}")
    except json.JSONDecodeError as exc:
        raise forms.ValidationError(f"{what} is not valid JSON: {exc}") from exc
    if not isinstance(value, dict):
        raise forms.ValidationError(f"{what} must be a JSON object")
    return value


def _sealed_versions():
    return DatasetVersion.objects.filter(sealed=True).select_related("dataset").order_by("dataset__name", "seq")


class TrainingLaunchForm(forms.Form):
    name = forms.CharField(required=False, max_length=200)
    dataset_version = forms.ModelChoiceField(queryset=_sealed_versions(), help_text="sealed versions only")
    label_system_version = forms.ModelChoiceField(
        queryset=LabelSystemVersion.objects.filter(status=VersionStatus.PUBLISHED).select_related("label_system"),
        help_text="the head's classes (published versions only)")
    eval_dataset_version = forms.ModelChoiceField(queryset=_sealed_versions(), required=False,
                                                  help_text="evaluated while training (default: the training data)")
    mode = forms.ChoiceField(choices=TrainingMode.choices, initial=TrainingMode.FINETUNE)
    variant = forms.ChoiceField(choices=ModelVariant.choices, initial=ModelVariant.RAM)
    size = forms.ChoiceField(choices=ModelSize.choices, initial=ModelSize.TINY)
    init_checkpoint = forms.ModelChoiceField(queryset=Checkpoint.objects.all(), required=False,
                                             help_text="an official release or a previous run")
    config = forms.CharField(widget=forms.Textarea(attrs={"rows": 4, "cols": 60}), required=False, initial="{}",
                             help_text='Overrides of the RAM config defaults, e.g. {"max_steps": 30, "init_lr": 1e-4}')

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        refresh = {"hx-get": reverse("training:run-defaults"), "hx-trigger": "change",
                   "hx-include": "[name=mode],[name=size]", "hx-target": "#config-defaults", "hx-swap": "outerHTML"}
        for name in ("mode", "size"):  # choosing another mode or size shows its defaults
            self.fields[name].widget.attrs.update(refresh)

    def clean_config(self) -> dict[str, Any]:
        return _json_object(self.cleaned_data["config"], "config")

    def params(self) -> dict[str, Any]:
        data = self.cleaned_data

        def pk(name: str) -> int | None:
            return data[name].pk if data.get(name) is not None else None

        return {"name": data["name"], "dataset_version": pk("dataset_version"),
                "label_system_version": pk("label_system_version"), "eval_dataset_version": pk("eval_dataset_version"),
                "mode": data["mode"], "variant": data["variant"], "size": data["size"],
                "init_checkpoint": pk("init_checkpoint"), "config": data["config"]}


class CheckpointRegisterForm(forms.Form):
    path = forms.CharField(max_length=1000, help_text="absolute path of the checkpoint file on the workers' disk")
    name = forms.CharField(required=False, max_length=200)
    variant = forms.ChoiceField(choices=ModelVariant.choices, initial=ModelVariant.RAM)
    size = forms.ChoiceField(choices=ModelSize.choices, initial=ModelSize.SWIN_L_384)
    label_system_version = forms.ModelChoiceField(queryset=LabelSystemVersion.objects.all(), required=False,
                                                  help_text="the head's classes (empty: the variant's own tag list)")


class EvaluateForm(forms.Form):
    dataset_version = forms.ModelChoiceField(queryset=_sealed_versions(), required=False)
    annotations = forms.CharField(required=False, max_length=1000, help_text="or a benchmark annotation file")
    taglist = forms.CharField(required=False, max_length=1000)
    image_root = forms.CharField(required=False, max_length=1000)
    threshold = forms.FloatField(min_value=0, max_value=1, initial=0.5)

    def params(self, checkpoint: Checkpoint) -> dict[str, Any]:
        data = self.cleaned_data
        version = data.get("dataset_version")
        return {"checkpoint": checkpoint.pk, "dataset_version": version.pk if version else None,
                "annotations": data["annotations"], "taglist": data["taglist"], "image_root": data["image_root"],
                "threshold": data["threshold"] if data["threshold"] is not None else 0.5}


class ExtendForm(forms.Form):
    label_system_version = forms.ModelChoiceField(
        queryset=LabelSystemVersion.objects.filter(status=VersionStatus.PUBLISHED).select_related("label_system"))
    clip_checkpoint = forms.CharField(required=False, max_length=1000,
                                      help_text="open_clip ViT-B/16 weights file on the workers' disk")
    clip_tiny = forms.BooleanField(required=False, help_text="tiny random CLIP (demo only: meaningless tags)")
    name = forms.CharField(required=False, max_length=200)

    def params(self, checkpoint: Checkpoint) -> dict[str, Any]:
        data = self.cleaned_data
        return {"checkpoint": checkpoint.pk, "label_system_version": data["label_system_version"].pk,
                "clip_checkpoint": data["clip_checkpoint"], "clip_tiny": data["clip_tiny"], "name": data["name"]}


class CompareForm(forms.Form):
    a = forms.ModelChoiceField(queryset=EvalResult.objects.select_related("checkpoint"), label="Evaluation A")
    b = forms.ModelChoiceField(queryset=EvalResult.objects.select_related("checkpoint"), label="Evaluation B")


def add_service_errors(form: forms.Form, exc: Any) -> None:
    """Put a service's ValidationError on the form's fields where it names one, else on the form."""
    if hasattr(exc, "error_dict"):
        for field, errors in exc.message_dict.items():
            form.add_error(field if field in form.fields else None, errors)
    else:
        form.add_error(None, exc.messages)
