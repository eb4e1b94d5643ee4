from __future__ import annotations

from django.urls import path

from markets import views

app_name = "markets"

urlpatterns = [
    path("", views.market_list, name="market_list"),
    path("portfolio/", views.portfolio, name="portfolio"),
    path("leaderboard/", views.leaderboard, name="leaderboard"),
    path("<int:market_id>/", views.market_detail, name="market_detail"),
    path("<int:market_id>/quote/", views.quote, name="quote"),
    path("<int:market_id>/trade/", views.trade, name="trade"),
]
