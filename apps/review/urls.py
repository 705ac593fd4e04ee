from django.urls import path

from . import views

app_name = "review"
urlpatterns = [
    path("", views.home, name="home"),
    path("runs/<int:pk>/", views.run_detail, name="run"),
    path("runs/<int:pk>/progress/", views.run_progress, name="run-progress"),
    path("runs/<int:pk>/queue/<int:tag_group_id>/", views.queue, name="queue"),
    path("runs/<int:pk>/queue/<int:tag_group_id>/progress/", views.queue_progress, name="queue-progress"),
    path("runs/<int:pk>/queue/<int:tag_group_id>/bulk/", views.bulk, name="bulk"),
    path("runs/<int:pk>/undo/", views.undo, name="undo"),
    path("runs/<int:pk>/manage/", views.manage, name="manage"),
    path("runs/<int:pk>/manage/agreement/", views.agreement, name="agreement"),
    path("runs/<int:pk>/manage/reviewers/", views.reviewer_add, name="reviewer-add"),
    path("runs/<int:pk>/manage/reviewers/<int:user_id>/remove/", views.reviewer_remove, name="reviewer-remove"),
    path("runs/<int:pk>/manage/batches/", views.batches_create, name="batches-create"),
    path("runs/<int:pk>/manage/apply/", views.apply, name="apply"),
    path("runs/<int:pk>/applications/", views.applications, name="applications"),
    path("flags/<int:flag_id>/", views.card, name="card"),
    path("flags/<int:flag_id>/decide/", views.decide, name="decide"),
    path("flags/<int:flag_id>/neighbours/", views.neighbours, name="neighbours"),
    path("flags/<int:flag_id>/tags/", views.tag_search, name="tag-search"),
    path("images/<int:image_id>/thumb", views.image_thumb, name="image-thumb"),
    path("images/<int:image_id>/full", views.image_full, name="image-full"),
]
