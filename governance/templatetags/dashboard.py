"""Template helpers of the dashboard (``governance/dashboard.html``)."""

from html import escape

from django import template
from django.utils.safestring import SafeString, mark_safe

register = template.Library()


@register.simple_tag
def league_cells(row) -> SafeString:
    """A league row's cells (``numbers.LeagueRow``): each figure's value, linked to its records,
    coloured by its target or rank, with its fraction and shortfall as its title.

    Written here rather than in the league's template, with the standard library's ``escape``
    (what Django's is made of) rather than ``format_html``: a province's root shows sixty units by
    nineteen columns, and the template engine's dozen lookups a cell, or format_html's lazy-string
    checks, took longer than the rest of the page together. Each figure's mark and title are
    worked out once.
    """
    return mark_safe("".join(_cell(figure) for figure in row.ordered))  # noqa: S308 - every part is escaped


def _cell(figure) -> str:
    mark = figure.mark
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
