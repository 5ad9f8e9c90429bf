"""Template helpers of the dashboard (``governance/dashboard.html``): the rows of its two long
tables, the league and the full table of indicators.

Written here rather than in the templates, with the standard library's ``escape`` (what
Django's is made of) rather than ``format_html``: a province's root shows sixty units by
nineteen columns and some sixty indicators, and the template engine's dozen lookups a cell (or
format_html's lazy-string checks) took longer than the rest of the page together. Each
figure's rating, mark and title are worked out once.
"""

from html import escape

from django import template
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import gettext as _

register = template.Library()


@register.simple_tag
def league_cells(row) -> SafeString:
    """A league row's cells (``league.LeagueRow``): each figure's value, linked to its records,
    coloured by its target or rank, with its fraction and shortfall as its title."""
    return mark_safe("".join(_cell(figure) for figure in row.ordered))  # noqa: S308 - every part is escaped


def _cell(figure) -> str:
    mark = figure.mark  # its rating, or its rank
    fraction, shortfall = figure.fraction, figure.shortfall
    title = ""
    if fraction or shortfall:
        title = f' title="{escape(fraction)}{" · " if fraction and shortfall else ""}{escape(shortfall)}"'
    text = escape(figure.text)
    if figure.href:
        value = f'<a href="{escape(figure.href)}" title="{escape(figure.link_title)}" data-value>{text}</a>'
    else:
        value = f"<span data-value>{text}</span>"
    rating = f'<span class="dashboard-rating {escape(mark)}">{escape(figure.mark_word)}</span>' if mark else ""
    marked = f" {escape(mark)}" if mark else ""
    return f'\n<td class="num{marked}" data-key="{escape(figure.key)}"{title}>\n{value}\n{rating}\n</td>'


@register.simple_tag
def indicator_row(row) -> SafeString:
    """A row of the full table (``numbers.Row``): the indicator, what it means, its value linked to
    its records and coloured by its target, the target, its fraction, and its changes."""
    current, label, definition = row.current, escape(row.label), escape(row.definition)
    key = escape(row.key)
    unit = f' <span class="text-secondary small">（{escape(row.unit_shown)}）</span>' if row.unit_shown else ""
    means = _("What %(label)s means") % {"label": label}
    rating = current.rating
    text = escape(current.text)
    if current.href:
        text = f'<a href="{escape(current.href)}" title="{escape(current.link_title)}">{text}</a>'
    target = current.target
    cells = [
        f'<th scope="row" class="fw-normal"><span title="{definition}">{label}</span>{unit}'
        f'<a class="dashboard-define" href="#def-{key}" title="{definition}"><i class="bi bi-info-circle" '
        f'aria-hidden="true"></i><span class="visually-hidden">{means}</span></a></th>',
        f'<td class="num{f" rating-{escape(rating)}" if rating else ""}" data-value>{text}</td>',
        f'<td class="num text-secondary" data-target>{escape(target.text) if target else ""}</td>',
        f'<td class="num text-secondary">{escape(current.fraction)}</td>',
    ]
    for change in (row.last_month, row.last_year):
        cells.append(f'<td class="num">{escape(change.earlier.text)}</td>')
        cells.append(f'<td class="num dashboard-change {escape(change.tone)}">{escape(change.text)}</td>')
    return mark_safe(f'<tr data-key="{key}">\n' + "\n".join(cells) + "\n</tr>")  # noqa: S308 - every part is escaped
