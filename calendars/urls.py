from __future__ import annotations

from django.urls import path

from calendars import views

app_name = "calendars"
urlpatterns = [
    path("", views.calendar_page, name="page"),
    path("<int:calendar_id>/delete/", views.calendar_delete, name="delete"),
    path("subscribe/", views.calendar_subscribe, name="subscribe"),
    path("feeds/", views.feed_create, name="feed_create"),
    path("feeds/<int:feed_id>/rotate/", views.feed_rotate, name="feed_rotate"),
    path("feeds/<int:feed_id>/revoke/", views.feed_revoke, name="feed_revoke"),
    path("feed/<str:token>.ics", views.feed, name="feed"),
]
