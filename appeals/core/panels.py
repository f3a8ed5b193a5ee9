"""Panels on the case page, contributed by each capability without editing the page.

A capability registers `render(request, appeal) -> str | None` under a name and an order;
the case view renders every registered panel in order. Return None to show nothing.
"""

from collections.abc import Callable
from dataclasses import dataclass

from appeals.core.selectors import appeals_for


@dataclass(frozen=True)
class Panel:
    name: str
    order: int
    render: Callable


_panels: dict[str, Panel] = {}


def register_panel(name: str, order: int, render: Callable) -> None:
    _panels[name] = Panel(name, order, render)


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
