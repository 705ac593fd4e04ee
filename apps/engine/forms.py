"""Launch forms of the engine pages: the jobs app's generated form per kind, with pickers for the ids."""

from __future__ import annotations

from typing import Any

from django import forms

from apps.datasets.models import DatasetVersion
from apps.jobs.forms import params_form_class
from apps.jobs.kinds import get_kind
from apps.training.models import Checkpoint

from .job_kinds import ENGINE_FEATURES, ENGINE_GENERATE
from .models import EngineRunKind

KIND_OF_RUN = {EngineRunKind.GENERATION: ENGINE_GENERATE.name, EngineRunKind.CLEANING: ENGINE_FEATURES.name}


def launch_form_class(run_kind: str) -> type[forms.Form]:
    """The launch form of a generation or cleaning run: one field per job parameter, ids as pickers."""
    base = params_form_class(get_kind(KIND_OF_RUN[run_kind]))

    class EngineLaunchForm(base):  # type: ignore[valid-type, misc]
        dataset_version = forms.ModelChoiceField(
            queryset=DatasetVersion.objects.filter(sealed=True, label_system_version__isnull=False)
            .select_related("dataset").order_by("dataset__name", "seq"),
            help_text="a sealed version with a label system" + (" (the tip of its dataset)"
                                                                if run_kind == EngineRunKind.GENERATION else ""))
        checkpoint = forms.ModelChoiceField(queryset=Checkpoint.objects.order_by("-created_at"),
                                            help_text="the baseline model")

        field_order = ["name", "dataset_version", "checkpoint"]

        def params(self) -> dict[str, Any]:
            values = super().params()
            for key in ("dataset_version", "checkpoint"):
                if key in values:
                    values[key] = values[key].pk
            return values

    return EngineLaunchForm


class ClusterForm(forms.Form):
    fraction = forms.FloatField(min_value=0.0, max_value=1.0, initial=0.10,
                                help_text="share of each category's regions to flag")
    fast = forms.BooleanField(required=False, help_text="the fast clustering preset")
