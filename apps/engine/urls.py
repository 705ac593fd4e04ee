from django.urls import path

from . import views

app_name = "engine"
urlpatterns = [
    path("", views.run_list, name="run-list"),
    path("generate/", views.run_launch, {"kind": "generation"}, name="generation-launch"),
    path("clean/", views.run_launch, {"kind": "cleaning"}, name="cleaning-launch"),
    path("runs/<int:pk>/", views.run_detail, name="run-detail"),
    path("runs/<int:pk>/live/", views.run_live, name="run-live"),
    path("runs/<int:pk>/cluster/", views.run_cluster, name="run-cluster"),
]
