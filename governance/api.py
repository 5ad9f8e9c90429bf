"""REST API of the org chain (placeholder; filled below)."""

from rest_framework import pagination, routers


class Pagination(pagination.PageNumberPagination):
    page_size = 50
    page_size_query_param = "page_size"
    max_page_size = 500


router = routers.DefaultRouter()
