"""Job kinds of the label system."""

from rest_framework import serializers

from apps.jobs.kinds import JobKind, register
from ram_model.text.synonyms import REASONS
from ram_model.text.wordnet import DEFAULT_MAX_SENSES

from .models import LabelSystemVersion, VersionStatus


class SuggestMergesParams(serializers.Serializer):
    version = serializers.IntegerField(help_text="id of a draft label system version")
    reasons = serializers.ListField(child=serializers.ChoiceField(choices=REASONS), default=list(REASONS))
    max_senses = serializers.IntegerField(min_value=1, max_value=10, default=DEFAULT_MAX_SENSES)
    min_confidence = serializers.FloatField(min_value=0, max_value=1, default=0.0)

    def validate_version(self, value: int) -> int:
        version = LabelSystemVersion.objects.filter(pk=value).first()
        if version is None:
            raise serializers.ValidationError(f"no label system version with id {value}")
        if version.status != VersionStatus.DRAFT:
            raise serializers.ValidationError(f"{version} is published; suggest merges for a draft copy")
        return value


SUGGEST_MERGES = register(
    JobKind(
        name="suggest_merges",
        queue="cpu",
        params=SuggestMergesParams,
        permission="labels.change_labelsystemversion",
        label="Suggest tag merges",
        description="WordNet synonyms, plural/singular variants and equal translations of a draft version's "
                    "tags become pending merge proposals for a curator to accept or reject.",
    )
)
