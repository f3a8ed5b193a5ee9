"""Panels on the case page, contributed by each capability without editing the page.

A capability registers `render(request, appeal) -> str | None` under a name and an order;
the case view renders every registered panel in order. Return None to show nothing.
A panel may also give `top(appeal) -> bool`: while it returns True the panel is what the
reader must deal with first (verification right after submit), and the case page shows it at
the top, above the action forms.
"""

from collections.abc import Callable
from dataclasses import dataclass

from appeals.core.selectors import appeals_for


@dataclass(frozen=True)
class Panel:
    name: str
    order: int
    render: Callable
    top: Callable | None = None


_panels: dict[str, Panel] = {}


def register_panel(name: str, order: int, render: Callable, *, top: Callable | None = None) -> None:
    _panels[name] = Panel(name, order, render, top)


def render_panels(request, appeal) -> list[str]:
    """Every registered panel, in order; nothing at all for an appeal the user may not see."""
    if not appeals_for(request.user).filter(pk=appeal.pk).exists():
        return []
    html = []
    for panel in sorted(_panels.values(), key=lambda p: p.order):
        out = panel.render(request, appeal)
        if out:
            html.append(out)
    return html


def render_panels_placed(request, appeal) -> tuple[list[str], list[str]]:
    """(top, rest): the panels that ask to be first for this case's state, then the others, each in order."""
    if not appeals_for(request.user).filter(pk=appeal.pk).exists():
        return [], []
    top, rest = [], []
    for panel in sorted(_panels.values(), key=lambda p: p.order):
        out = panel.render(request, appeal)
        if out:
            (top if panel.top is not None and panel.top(appeal) else rest).append(out)
    return top, rest
