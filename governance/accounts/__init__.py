"""The user's own account: password, API token, second factor; the login's second step; the token API.

The rules live in ``governance.portal.auth`` (one copy, which the admin and the API use too); these are
the pages and endpoints over them.
"""
