"""Open311 GeoReport v2 façade over cases (services.json, requests.json, requests/{id}.json)."""

app_name = "open311"
urlpatterns = []
