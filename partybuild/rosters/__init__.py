"""The party-building rosters for Excel import and export, by subdomain: ``members``
(organisations, members, party-member households), ``registrations`` (the double report),
``volunteering`` (service records) and ``wishes`` (export only).

Registered with the roster engine (``governance.rosters``), which discovers this package: importing
it imports the modules that register.
The rules of ``partybuild.services`` are checked again here in bulk, with the services'
messages. Keys (what makes "the same row"):

party_organizations
    name + unit code (the OrgUnit the organisation covers). The kind by its name, one of its
    other names or its code, and which kind may sit under which, as an administrator keeps
    them (``PartyOrganizationKind``, read once per import). The parent organisation is named
    by its name; when two organisations share a name, the parent's unit code column tells
    them apart. A parent may be a row of the same file (written first). New organisations
    go in with bulk inserts and the tree is renumbered once.
party_members
    the resident's ID number. The organisation by name (plus its unit code when names repeat).
central_households
    the household: its number, or, where the number is left empty, its head's ID number (the
    grid, by code or name, is then a cross-check); matched to the stored rows by the household
    found, after references are resolved. The member who runs it by his ID number.
unit_registrations
    work unit + community code + registration date. Each of the resource, need and project
    lists is one column, entries separated by ；. One active registration per unit and community.
member_registrations
    member ID number + community code + registration date; the claimed posts are one column
    (the six post names separated by 、). One active registration per member; an end date
    ends the registration (an ended one without a date ends today).
service_records
    member ID number + date + start time. Hours and points are computed as the services
    compute them (``service_hours``/``service_points``); no overlapping services per member
    and day, at most 24 hours a day, counting the services already recorded.
wishes
    export only (a wish moves through its states by the services alone).
"""

from partybuild.rosters import members, registrations, volunteering, wishes  # noqa: F401 - importing registers them
