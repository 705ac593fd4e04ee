"""Forms of the review management page (assign reviewers, make batches, apply) and of decisions."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib.auth import get_user_model
from django.db.models import Q, QuerySet

from apps.accounts.roles import ADMIN, REVIEWER
from apps.engine.models import EngineRun, Flag
from apps.labels.models import TagGroup

from . import selectors
from .models import ReviewAction, UnreviewedPolicy


def reviewer_candidates() -> QuerySet:
    """Active users who may review flags (reviewer or admin role, or superusers)."""
    return (get_user_model().objects.filter(is_active=True)
            .filter(Q(groups__name__in=[REVIEWER, ADMIN]) | Q(is_superuser=True)).distinct().order_by("username"))


class ReviewerAddForm(forms.Form):
    user = forms.ModelChoiceField(queryset=get_user_model().objects.none(), label="Reviewer")

    def __init__(self, *args: Any, run: EngineRun, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        assigned = selectors.run_reviewers(run=run).values("user_id")
        self.fields["user"].queryset = reviewer_candidates().exclude(pk__in=assigned)


class BatchForm(forms.Form):
    reviewers = forms.ModelMultipleChoiceField(queryset=get_user_model().objects.none(),
                                               widget=forms.CheckboxSelectMultiple)
    size = forms.IntegerField(min_value=1, max_value=1_000_000, initial=50, help_text="flags per reviewer")
    overlap = forms.IntegerField(min_value=1, max_value=20, initial=1,
                                 help_text="reviewers per flag (2+ for consensus)")
    tag_group = forms.TypedChoiceField(required=False, coerce=int, empty_value=None, label="Category")

    def __init__(self, *args: Any, run: EngineRun, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.run = run
        user_ids = selectors.run_reviewers(run=run).values("user_id")
        self.fields["reviewers"].queryset = get_user_model().objects.filter(pk__in=user_ids).order_by("username")
        self.fields["reviewers"].label_from_instance = lambda u: u.get_username()
        group_ids = list(Flag.objects.filter(run=run).values_list("tag_group_id", flat=True).distinct()
                         .order_by()[:5000])
        names = selectors.group_names(ids=group_ids)
        self.fields["tag_group"].choices = [("", "all categories"),
                                            *sorted(((g, names.get(g, f"#{g}")) for g in group_ids),
                                                    key=lambda c: c[1])]

    def clean_tag_group(self) -> TagGroup | None:
        value = self.cleaned_data.get("tag_group")
        return TagGroup.objects.filter(pk=value).first() if value else None


class ApplyForm(forms.Form):
    unreviewed = forms.ChoiceField(choices=UnreviewedPolicy.choices, initial=UnreviewedPolicy.KEEP,
                                   label="Unreviewed flags", widget=forms.RadioSelect)


class DecisionForm(forms.Form):
    action = forms.ChoiceField(choices=[(a, a) for a in (ReviewAction.ACCEPT, ReviewAction.REJECT,
                                                         ReviewAction.CHANGE)])
    new_tag_group = forms.IntegerField(required=False)


class BulkForm(forms.Form):
    action = forms.ChoiceField(choices=[(a, a) for a in (ReviewAction.ACCEPT, ReviewAction.REJECT)])
