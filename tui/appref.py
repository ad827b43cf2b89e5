"""The running app, typed, for screens and widgets (imported lazily: tui.app imports them)."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from textual.dom import DOMNode

    from tui.app import ClasslogApp


def classlog_of(node: DOMNode) -> ClasslogApp:
    from tui.app import ClasslogApp

    app = node.app
    assert isinstance(app, ClasslogApp)
    return app
