"""The running app, typed, for screens and widgets.

A typed cast, not a runtime import: ``tui.app`` imports the screens, so a screen importing it back
would be a circle, and loading it for an ``isinstance`` check would cost start-up time.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, cast

if TYPE_CHECKING:
    from textual.dom import DOMNode

    from tui.app import ClasslogApp


def classlog_of(node: DOMNode) -> ClasslogApp:
    """The ClasslogApp that ``node`` runs in (screens are only ever mounted by it)."""
    return cast("ClasslogApp", node.app)
