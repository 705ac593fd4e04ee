from __future__ import annotations

from rest_framework import serializers

from ..models import Dataset, DatasetVersion, Snapshot


class DatasetSerializer(serializers.ModelSerializer):
    version_count = serializers.IntegerField(read_only=True)

    class Meta:
        model = Dataset
        fields = ["id", "name", "description", "image_root", "created_at", "version_count"]
        read_only_fields = fields


class DatasetVersionSerializer(serializers.ModelSerializer):
    dataset_name = serializers.CharField(source="dataset.name", read_only=True)

    class Meta:
        model = DatasetVersion
        fields = ["id", "dataset", "dataset_name", "seq", "parent", "label_system_version", "job", "sealed",
                  "sealed_at", "note", "counts", "created_at"]
        read_only_fields = [f for f in fields if f != "note"]


class DatasetVersionNoteSerializer(serializers.Serializer):
    note = serializers.CharField(allow_blank=True)


class SnapshotSerializer(serializers.ModelSerializer):
    class Meta:
        model = Snapshot
        fields = ["id", "version", "format", "path", "manifest", "job", "created_at", "verified_at"]
        read_only_fields = fields


class DiffRowSerializer(serializers.Serializer):
    tag_index = serializers.IntegerField()
    tag = serializers.CharField()
    source = serializers.CharField()
    count = serializers.IntegerField()


class DiffSerializer(serializers.Serializer):
    base = serializers.IntegerField()
    other = serializers.IntegerField()
    added = DiffRowSerializer(many=True)
    removed = DiffRowSerializer(many=True)
    added_total = serializers.IntegerField()
    removed_total = serializers.IntegerField()
    added_by_source = serializers.DictField(child=serializers.IntegerField())
    removed_by_source = serializers.DictField(child=serializers.IntegerField())


class FrequencyRowSerializer(serializers.Serializer):
    tag_index = serializers.IntegerField()
    tag = serializers.CharField()
    count = serializers.IntegerField()


class PhraseCountSerializer(serializers.Serializer):
    phrase = serializers.CharField()
    count = serializers.IntegerField()
    tag_group = serializers.IntegerField(source="tag_group_id", allow_null=True)


class ProposeSerializer(serializers.Serializer):
    top_k = serializers.IntegerField(min_value=1, max_value=100_000)
    name = serializers.CharField(required=False, allow_blank=True, default="")
    unmapped_only = serializers.BooleanField(default=False)


class ProposedVersionSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    label_system = serializers.CharField(source="label_system.name")
    number = serializers.IntegerField()
    status = serializers.CharField()


class BranchSerializer(serializers.Serializer):
    name = serializers.CharField(max_length=200)
    note = serializers.CharField(required=False, allow_blank=True, default="")
