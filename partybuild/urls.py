from django.urls import path

app_name = "partybuild"
urlpatterns: list = [
]
