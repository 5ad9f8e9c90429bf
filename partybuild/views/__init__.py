"""Staff web pages of party building, by subdomain: ``organizations`` (the organisation tree with its
counts per kind), ``members`` (the member list and page, where a service is recorded),
``registrations`` (the double report), ``wishes`` (the board, the list, a wish's page and its
steps), ``volunteering`` (service records) and ``pickers`` (htmx search options).

Every page reads through ``visible_to(request.user)``; a member, wish or registration outside
the user's subtree is a 404. Writes call ``partybuild.services`` with the acting user; the
ValidationError a service raises is shown next to the form (or, on the board, as a message),
never as a 500.
"""
