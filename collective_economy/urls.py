"""Staff web pages of the collective economy, mounted at /ledger/ (URL names in the "collective_economy" namespace).

Each view module lists its own routes (``urlpatterns``): books and vouchers, statements, village
decisions, contracts with receivables and debts (清化收), assets, resources and projects (三资, 4+N).
The public village-affairs pages (``views.public``) are mounted apart, at /public/, outside the login.
"""

from collective_economy.views import assets, books, decisions, registers, statements, vouchers

app_name = "collective_economy"
urlpatterns = [*books.urlpatterns, *vouchers.urlpatterns, *statements.urlpatterns, *decisions.urlpatterns,
               *registers.urlpatterns, *assets.urlpatterns]
