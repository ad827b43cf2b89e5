"""A focusable list of check boxes whose state is in words: ``[x]`` ticked, ``[ ]`` not, and
"(not available: ...)" when a choice cannot be taken. Space or Enter toggles the highlighted one.
"""

from __future__ import annotations

from collections.abc import Hashable, Iterable, Sequence
from typing import ClassVar

from textual.binding import Binding, BindingType
from textual.content import Content
from textual.message import Message
from textual.widgets import OptionList
from textual.widgets.option_list import Option


class CheckList(OptionList):
    """Check boxes for a form; the owner reads :attr:`checked`."""

    DEFAULT_CSS = """
    CheckList, CheckList:focus {
        height: auto;
        border: none;
    }
    CheckList:nocolor > .option-list--option-highlighted {
        text-style: reverse bold;
    }
    """
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding(
            "space,enter",
            "tick",
            "Tick",
            id="check_list.toggle",
            tooltip="Tick or untick the highlighted choice",
        ),
    ]

    class Changed(Message):
        """A box was ticked or unticked."""

        def __init__(self, check_list: CheckList) -> None:
            super().__init__()
            self.check_list = check_list

        @property
        def control(self) -> CheckList:
            return self.check_list

    def __init__(
        self,
        choices: Sequence[tuple[str, Hashable]],
        checked: Iterable[Hashable] = (),
        *,
        id: str | None = None,
    ) -> None:
        self.choices = list(choices)
        self.checked: set[Hashable] = set(checked)
        self.unavailable: dict[Hashable, str] = {}
        super().__init__(*self._initial_options(), id=id, markup=False)

    def _prompt(self, label: str, value: Hashable) -> Content:
        mark = "[x]" if value in self.checked else "[ ]"
        prompt = Content.assemble((mark, "bold"), " ", label)
        if value in self.unavailable:
            return prompt.append(f"  (not available: {self.unavailable[value]})").stylize("dim")
        return prompt

    def _initial_options(self) -> list[Option]:
        return [Option(self._prompt(label, value)) for label, value in self.choices]

    def _redraw(self) -> None:
        for index, (label, value) in enumerate(self.choices):
            self.replace_option_prompt_at_index(index, self._prompt(label, value))

    def set_unavailable(self, unavailable: dict[Hashable, str]) -> list[Hashable]:
        """Make choices unavailable (with the reason); returns those that were unticked."""
        self.unavailable = dict(unavailable)
        dropped = [value for value in unavailable if value in self.checked]
        self.checked -= set(dropped)
        self._redraw()
        return dropped

    def action_select(self) -> None:
        """A click on a choice toggles it too."""
        self.action_tick()

    def action_tick(self) -> None:
        if self.highlighted is None:
            return
        label, value = self.choices[self.highlighted]
        if value in self.unavailable:
            self.notify(f"{label}: not available ({self.unavailable[value]}).", markup=False)
            return
        self.checked ^= {value}
        self._redraw()
        self.post_message(self.Changed(self))
