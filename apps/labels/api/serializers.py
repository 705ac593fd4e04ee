from rest_framework import serializers

from ram_model.text.synonyms import REASONS

from ..models import Category, GroupChange, LabelSystem, LabelSystemVersion, MergeProposal, Tag, TagGroup


class LabelSystemSerializer(serializers.ModelSerializer):
    class Meta:
        model = LabelSystem
        fields = ["id", "name", "description", "created_at"]
        read_only_fields = fields


class LabelSystemVersionSerializer(serializers.ModelSerializer):
    label_system = serializers.SlugRelatedField(slug_field="name", read_only=True)
    created_by = serializers.CharField(source="created_by.username", read_only=True, default=None)
    published_by = serializers.CharField(source="published_by.username", read_only=True, default=None)
    tag_count = serializers.IntegerField(read_only=True)

    class Meta:
        model = LabelSystemVersion
        fields = ["id", "label_system", "number", "status", "parent", "notes", "tag_count", "created_by",
                  "created_at", "published_by", "published_at"]
        read_only_fields = fields


class ImportSerializer(serializers.Serializer):
    name = serializers.SlugField(max_length=100)
    tags = serializers.FileField(required=False, help_text="tag list, one tag per line (UTF-8)")
    document = serializers.FileField(required=False, help_text="a label_system.json document instead of the "
                                                               "RAM files (keeps synonym groups)")
    chinese = serializers.FileField(required=False, help_text="Chinese names, one per tag")
    thresholds = serializers.FileField(required=False, help_text="thresholds in (0, 1], one per tag")
    allow_duplicate_tags = serializers.BooleanField(default=False)
    publish = serializers.BooleanField(default=False)

    def validate(self, attrs: dict) -> dict:
        if bool(attrs.get("tags")) == bool(attrs.get("document")):
            raise serializers.ValidationError("upload either 'tags' (with optional 'chinese', 'thresholds') "
                                              "or 'document'")
        return attrs


class DraftSerializer(serializers.Serializer):
    notes = serializers.CharField(required=False, allow_blank=True, default="")


class SuggestMergesSerializer(serializers.Serializer):
    reasons = serializers.ListField(child=serializers.ChoiceField(choices=REASONS), required=False)
    max_senses = serializers.IntegerField(min_value=1, max_value=10, required=False)
    min_confidence = serializers.FloatField(min_value=0, max_value=1, required=False)


class TagSerializer(serializers.ModelSerializer):
    group_index = serializers.IntegerField(source="group.index", read_only=True)

    class Meta:
        model = Tag
        fields = ["id", "version", "group", "group_index", "position", "text", "homonym", "category", "name_zh",
                  "descriptions", "threshold", "provenance", "merged_by", "merged_at"]
        read_only_fields = ["id", "version", "group", "group_index", "position", "text", "homonym",
                            "provenance", "merged_by", "merged_at"]


class TagUpdateSerializer(serializers.Serializer):
    category = serializers.ChoiceField(choices=Category.choices, required=False)
    name_zh = serializers.CharField(max_length=200, required=False, allow_blank=True, trim_whitespace=False)
    descriptions = serializers.ListField(child=serializers.CharField(), required=False)
    threshold = serializers.FloatField(required=False)

    def validate_threshold(self, value: float) -> float:
        if not 0 < value <= 1:
            raise serializers.ValidationError("a threshold must be in (0, 1]")
        return value


class GroupTagSerializer(serializers.ModelSerializer):
    class Meta:
        model = Tag
        fields = ["id", "text", "position", "category", "threshold", "provenance"]
        read_only_fields = fields


class TagGroupSerializer(serializers.ModelSerializer):
    tags = GroupTagSerializer(many=True, read_only=True)
    size = serializers.IntegerField(read_only=True)

    class Meta:
        model = TagGroup
        fields = ["id", "version", "index", "size", "tags"]
        read_only_fields = fields


class MergeGroupsSerializer(serializers.Serializer):
    groups = serializers.PrimaryKeyRelatedField(queryset=TagGroup.objects.select_related("version"), many=True,
                                                allow_empty=False)


class SplitGroupSerializer(serializers.Serializer):
    tags = serializers.PrimaryKeyRelatedField(queryset=Tag.objects.all(), many=True, allow_empty=False)


class MergeProposalSerializer(serializers.ModelSerializer):
    tag_a_text = serializers.CharField(source="tag_a.text", read_only=True)
    tag_b_text = serializers.CharField(source="tag_b.text", read_only=True)
    decided_by = serializers.CharField(source="decided_by.username", read_only=True, default=None)

    class Meta:
        model = MergeProposal
        fields = ["id", "version", "tag_a", "tag_a_text", "tag_b", "tag_b_text", "reason", "confidence", "detail",
                  "status", "decided_by", "decided_at", "created_at"]
        read_only_fields = fields


class ProposalIdsSerializer(serializers.Serializer):
    ids = serializers.PrimaryKeyRelatedField(queryset=MergeProposal.objects.all(), many=True, allow_empty=False)


class GroupChangeSerializer(serializers.ModelSerializer):
    user = serializers.CharField(source="user.username", read_only=True, default=None)

    class Meta:
        model = GroupChange
        fields = ["id", "version", "kind", "provenance", "user", "created_at", "tags", "detail", "proposal"]
        read_only_fields = fields
