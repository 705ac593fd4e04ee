from django.urls import path

from . import views

app_name = "training"
urlpatterns = [
    path("", views.run_list, name="run-list"),
    path("runs/new/", views.run_launch, name="run-launch"),
    path("runs/defaults/", views.run_defaults, name="run-defaults"),
    path("runs/<int:pk>/", views.run_detail, name="run-detail"),
    path("runs/<int:pk>/live/", views.run_live, name="run-live"),
    path("checkpoints/", views.checkpoint_list, name="checkpoint-list"),
    path("checkpoints/register/", views.checkpoint_register, name="checkpoint-register"),
    path("checkpoints/<int:pk>/", views.checkpoint_detail, name="checkpoint-detail"),
    path("checkpoints/<int:pk>/evaluate/", views.checkpoint_evaluate, name="checkpoint-evaluate"),
    path("checkpoints/<int:pk>/extend/", views.checkpoint_extend, name="checkpoint-extend"),
    path("evaluations/<int:pk>/", views.eval_detail, name="eval-detail"),
    path("compare/", views.eval_compare, name="compare"),
]
