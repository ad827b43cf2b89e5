"""A list of choices each toggled by one key: the app's check boxes and radio buttons.

The owner keeps the state and passes it down with :meth:`KeyedChoices.show`; a click on a line
posts :class:`KeyedChoices.Clicked` up. Each line carries its key, a word-and-symbol state
(``[x]``/``[ ]`` or ``(•)``/``( )``) and, when unavailable, the reason in words, so nothing
depends on colour.
"""

from __future__ import annotations

from collections.abc import Hashable, Iterable, Sequence
from dataclasses import dataclass

from textual import events
from textual.content import Content
from textual.message import Message
from textual.widget import Widget


@dataclass(frozen=True, slots=True)
class Choice:
    key: str
    """The single key that toggles it, shown at the start of the line."""
    label: str
    value: Hashable
    unavailable_note: str = ""
    """Said after the label when the choice cannot be taken now (e.g. "Level 2 only")."""


class KeyedChoices(Widget):
    """Choices shown one a line; ``single`` makes them radio buttons, else check boxes."""

    DEFAULT_CSS = """
    KeyedChoices {
        height: auto;
        padding: 0 1;
    }
    """

    class Clicked(Message):
        """A choice's line was clicked."""

        def __init__(self, choices: KeyedChoices, value: Hashable) -> None:
            super().__init__()
            self.choices = choices
            self.value = value

        @property
        def control(self) -> KeyedChoices:
            return self.choices

    def __init__(
        self,
        choices: Sequence[Choice],
        *,
        single: bool = False,
        inline: str | None = None,
        id: str | None = None,
        classes: str | None = None,
    ) -> None:
        """``inline`` puts every choice on one line after that label (keys are not shown)."""
        super().__init__(id=id, classes=classes)
        self.choices = list(choices)
        self.single = single
        self.inline = inline
        self._checked: frozenset[Hashable] = frozenset()
        self._unavailable: frozenset[Hashable] = frozenset()

    def show(self, checked: Iterable[Hashable], unavailable: Iterable[Hashable] = ()) -> None:
        """Set which choices are checked and which cannot be taken now."""
        self._checked = frozenset(checked)
        self._unavailable = frozenset(unavailable)
        self.refresh(layout=True)

    def _line(self, choice: Choice) -> Content:
        checked = choice.value in self._checked
        unavailable = choice.value in self._unavailable
        line = Content.assemble(
            (f"{choice.key:>5}", "bold"), f"  {self._mark(choice)} ", choice.label
        )
        if unavailable:
            note = f"  ({choice.unavailable_note})" if choice.unavailable_note else ""
            return line.append(note).stylize("dim")
        return line.stylize("bold", 5) if checked else line

    def _mark(self, choice: Choice) -> str:
        checked = choice.value in self._checked
        if self.single:
            return "(\N{BULLET})" if checked else "( )"
        return "[x]" if checked else "[ ]"

    def _inline_parts(self) -> list[Content]:
        parts = []
        for choice in self.choices:
            part = Content(f"{self._mark(choice)} {choice.label}")
            if choice.value in self._unavailable:
                note = f" ({choice.unavailable_note})" if choice.unavailable_note else ""
                part = part.append(note).stylize("dim")
            elif choice.value in self._checked:
                part = part.stylize("bold")
            parts.append(part)
        return parts

    def render(self) -> Content:
        if self.inline is not None:
            return Content.assemble(
                (self.inline, "bold"), *_spaced(self._inline_parts(), INLINE_GAP)
            )
        return Content("\n").join(self._line(choice) for choice in self.choices)

    def on_click(self, event: events.Click) -> None:
        offset = event.get_content_offset(self)
        if offset is None:
            return
        index: int | None = offset.y
        if self.inline is not None:
            index = None
            x = len(self.inline)
            for position, part in enumerate(self._inline_parts()):
                if x <= offset.x < x + part.cell_length:
                    index = position
                    break
                x += part.cell_length + len(INLINE_GAP)
        if index is not None and 0 <= index < len(self.choices):
            event.stop()
            self.post_message(self.Clicked(self, self.choices[index].value))


INLINE_GAP = "   "


def _spaced(parts: list[Content], gap: str) -> list[Content | str]:
    spaced: list[Content | str] = []
    for position, part in enumerate(parts):
        if position:
            spaced.append(gap)
        spaced.append(part)
    return spaced
