"""The audit trail's pages: the administrators' search and export (/audit/), and its read-only admin.

The trail itself (recording, triggers, selectors) is ``governance.audit``, below the services; its
pages sit at the pages' layer, as every room of pages does.
"""
