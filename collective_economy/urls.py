"""Staff web pages of the collective economy, mounted at /ledger/ (URL names in the "collective_economy" namespace).

Each view module lists its own routes (``urlpatterns``): books and vouchers, statements.
"""

from collective_economy.views import books, statements

app_name = "collective_economy"
urlpatterns = [*books.urlpatterns, *statements.urlpatterns]
