import django_filters
from django.db.models import Exists, OuterRef, QuerySet

from ..models import Category, MergeProposal, ProposalStatus, Tag, TagGroup


class TagFilter(django_filters.FilterSet):
    category = django_filters.MultipleChoiceFilter(choices=Category.choices)
    threshold_min = django_filters.NumberFilter(field_name="threshold", lookup_expr="gte")
    threshold_max = django_filters.NumberFilter(field_name="threshold", lookup_expr="lte")
    text = django_filters.CharFilter(lookup_expr="iexact")
    primary = django_filters.BooleanFilter(method="filter_primary", label="primary tag of its group")
    merged = django_filters.BooleanFilter(method="filter_merged", label="in a group of two or more tags")

    class Meta:
        model = Tag
        fields = ["version", "group", "category", "provenance", "threshold_min", "threshold_max", "text"]

    def filter_primary(self, queryset: QuerySet, name: str, value: bool) -> QuerySet:
        return queryset.filter(position=0) if value else queryset.exclude(position=0)

    def filter_merged(self, queryset: QuerySet, name: str, value: bool) -> QuerySet:
        others = Exists(Tag.objects.filter(group=OuterRef("group")).exclude(pk=OuterRef("pk")))
        return queryset.filter(others) if value else queryset.filter(~others)


class TagGroupFilter(django_filters.FilterSet):
    min_size = django_filters.NumberFilter(field_name="size", lookup_expr="gte")
    max_size = django_filters.NumberFilter(field_name="size", lookup_expr="lte")

    class Meta:
        model = TagGroup
        fields = ["version", "index", "min_size", "max_size"]


class MergeProposalFilter(django_filters.FilterSet):
    status = django_filters.ChoiceFilter(choices=ProposalStatus.choices)
    min_confidence = django_filters.NumberFilter(field_name="confidence", lookup_expr="gte")

    class Meta:
        model = MergeProposal
        fields = ["version", "status", "reason", "min_confidence"]
