"""Admin of the party-building rosters, by subdomain: ``kinds`` (the kinds of party organisation and
which may sit under which, for administrators only), ``members`` (organisations, members,
party-member households), ``registrations`` (the double report), ``wishes`` and
``volunteering`` (service records). Scoped like the org chain's admin, writing through the
services: every form runs the service's own check after the model's validation, so a broken
rule shows on its field; the service checks again under its locks when saving, and a race lost
there comes back as a message.
"""

from partybuild.admin import (  # noqa: F401 - importing registers the admins
    kinds,
    members,
    registrations,
    volunteering,
    wishes,
)
