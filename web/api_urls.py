"""The API's last word: every path under /api/ that no app answers gets the API's JSON 404 (included last)."""

from django.urls import re_path

from web import api

urlpatterns = [re_path(r"^api/", api.not_found)]  # unnamed: nothing links to it
