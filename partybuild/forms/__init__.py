"""Forms of the party-building pages, by subdomain: ``organizations`` (the tree's filter bar),
``members``, ``registrations`` (the double report), ``wishes`` and ``volunteering`` (service
records); ``common`` holds the labels, the scoped choices and the community filter bar they share.

Every choice a form offers (members, households, communities, organisations, wishes) is read
through ``visible_to(user)``, so a posted id outside the user's scope is refused like an
unknown one. Writes go through ``partybuild.services``; a service's ValidationError is put on
the form by ``add_service_error``.
"""
