"""URL map: admin, API (with OpenAPI schema and docs), pages."""

from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView

from apps.jobs import views as job_views

api_patterns = [
    path("", include("apps.accounts.api.urls")),
    path("", include("apps.jobs.api.urls")),
    path("", include("apps.labels.api.urls")),
    path("", include("apps.datasets.api.urls")),
    path("", include("apps.training.api.urls")),
    path("", include("apps.review.api.urls")),
    path("", include("apps.engine.api.urls")),
]

urlpatterns = [
    path("admin/", admin.site.urls),
    path("accounts/login/", auth_views.LoginView.as_view(), name="login"),
    path("accounts/logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("api/schema/", SpectacularAPIView.as_view(), name="api-schema"),
    path("api/docs/", SpectacularSwaggerView.as_view(url_name="api-schema"), name="api-docs"),
    path("api/", include(api_patterns)),
    path("jobs/", include("apps.jobs.urls")),
    path("training/", include("apps.training.urls")),
    path("datasets/", include("apps.datasets.urls")),
    path("review/", include("apps.review.urls")),
    path("engine/", include("apps.engine.urls")),
    path("", job_views.home, name="home"),
]
