"""Books, months and vouchers pages (filled in by the voucher-entry work)."""

urlpatterns = []
