"""URL patterns of the example project."""

from __future__ import annotations

from django.urls import path

from django_app import views

urlpatterns = [
    path("items/<int:item_id>", views.read_item),
    path("boom", views.boom),
    path("stream", views.stream),
]
