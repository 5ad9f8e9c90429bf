from rest_framework import pagination


class Pagination(pagination.PageNumberPagination):
    """The API's one pagination: ``?page=`` and ``?page_size=`` (at most 500)."""

    page_size = 50
    page_size_query_param = "page_size"
    max_page_size = 500
