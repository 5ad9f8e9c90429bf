from django.apps import AppConfig


class IndicatorAppConfig(AppConfig):
    name = "tests.indicator_app"
    label = "indicator_app"
