from __future__ import annotations

from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.templatetags.static import static
from django.urls import include, path
from django.views.generic import RedirectView

from api.api import api
from hockeyhub import views
from hockeyhub.forms import LoginForm

urlpatterns = [
    path("", RedirectView.as_view(pattern_name="workouts:list", permanent=False)),
    path("healthz", views.healthz, name="healthz"),
    path("metrics", views.metrics, name="metrics"),
    # Browsers and crawlers ask for it whatever the pages link to.
    path("favicon.ico", RedirectView.as_view(url=static("favicon.svg"), permanent=True)),
    path("login/", auth_views.LoginView.as_view(authentication_form=LoginForm), name="login"),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("admin/rq/", include("django_rq.urls")),
    path("admin/", admin.site.urls),
    path("workouts/", include("workouts.urls")),
    path("batches/", include("batch.urls")),
    path("medical/", include("medical.urls")),
    path("api/v1/", api.urls),
    path("settings/api-tokens/", include("api.urls")),
    path("settings/webhooks/", include("webhooks.urls")),
    path("calendars/", include("calendars.urls")),
    path("planner/", include("planner.urls")),
    path("automations/", include("automations.urls")),
    path("analytics/", include("analytics.urls")),
]

handler404 = "workouts.views.page_not_found"
handler500 = "hockeyhub.views.server_error"
