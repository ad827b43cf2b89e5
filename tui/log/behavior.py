"""Step 2 of the log flow: which behavior.

The numbered behaviors come first with keys 1-9 (pinned ones, then the most used, ranked once a
day so the digits stay put: ``tui.log.numbered``); typing filters every behavior by code or
words; ctrl+k pins the highlighted behavior to the digits. Behaviors whose range starts at
Level 3 are still listed (so they can be found), but picking one opens the office screen and
logs nothing (R4).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, ClassVar

from textual import events, on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.content import Content
from textual.screen import Screen
from textual.widgets import Footer, OptionList, Static
from textual.widgets.option_list import Option

from schema.grid import GridEntry
from schema.models import Action
from schema.progression import Advice
from schema.rows import StudentRow
from schema.store import OfficeManagedError, StoreError
from tui.appref import classlog_of
from tui.formatting import student_name
from tui.home.student_list import folded
from tui.log.draft import LogDraft, LogResult
from tui.log.numbered import TOP_COUNT, numbered_codes, teacher_pins, toggle_pin
from tui.text import fit, literal, one_line

if TYPE_CHECKING:
    from tui.app import ClasslogApp

CODE_WIDTH = 19
LEVELS_WIDTH = 14


def levels_words(entry: GridEntry) -> str:
    if entry.office_managed or not entry.staff_levels:
        return "office"
    levels = entry.staff_levels
    if len(levels) == 1:
        return f"Level {levels[0]} only"
    return "Level " + " or ".join(str(level) for level in levels)


def subject_line(students: list[StudentRow]) -> Content:
    """Who the record is for, names literal."""
    if len(students) == 1:
        student = students[0]
        grade = f" (grade {student.grade})" if student.grade else ""
        iep = ", IEP" if student.iep else ""
        return Content.assemble(literal(student_name(student), "bold"), f"{grade}{iep}")
    names = ", ".join(student_name(student) for student in students)
    return Content.assemble((f"{len(students)} students: ", "bold"), literal(names))


class BehaviorPickerScreen(Screen[LogResult | None]):
    """Pick the behavior to log."""

    HELP = (
        "Press a number for one of the numbered behaviors (pinned ones first, marked *, then "
        "your most used; the numbers stay the same all day), or type part of a code or of its "
        "words to filter, then Enter. ctrl+k pins the highlighted behavior to the first numbers "
        "(or unpins it). Behaviors marked 'office' start at Level 3: picking one shows "
        "the office screen and logs nothing."
    )
    BINDINGS: ClassVar[list[BindingType]] = [
        *(
            Binding(
                str(number),
                f"top({number})",
                "Numbered behavior",
                id=f"behavior.top_{number}",
                show=number == 1,
                key_display="1…9",
                tooltip="Log a numbered behavior (pinned or most used; the numbers stay put "
                "all day)",
            )
            for number in range(1, TOP_COUNT + 1)
        ),
        Binding(
            "ctrl+k",
            "pin",
            "Pin",
            id="behavior.pin",
            tooltip="Pin the highlighted behavior to the first numbers, or unpin it",
        ),
        Binding(
            "enter",
            "pick",
            "Pick",
            id="behavior.pick",
            priority=True,
            tooltip="Log the highlighted behavior",
        ),
        Binding(
            "escape",
            "back",
            "Back",
            id="behavior.back",
            tooltip="Clear what you typed, or go back to the students",
        ),
    ]

    def __init__(
        self,
        students: list[StudentRow],
        *,
        level: int | None = None,
        actions: frozenset[Action] = frozenset(),
    ) -> None:
        """``level`` and ``actions`` pre-fill the next step when the behavior allows them (a
        mobile responder logging the Level 2 response to a call: level 2, mobile response)."""
        super().__init__()
        self.preset_level = level
        self.preset_actions = actions
        self.students = students
        self.entries: list[GridEntry] = []
        self.top: list[tuple[str, GridEntry | None]] = []
        """The numbered behaviors, in order: each code with its grid entry for these students
        (None when the grid does not offer it to their grade)."""
        self.filter_text = ""

    @property
    def classlog(self) -> ClasslogApp:
        return classlog_of(self)

    def compose(self) -> ComposeResult:
        yield Static(
            Content.assemble(("Log: which behavior?  ", "bold"), subject_line(self.students)),
            id="behavior-title",
            markup=False,
        )
        yield Static(id="behavior-find", markup=False)
        yield OptionList(id="behavior-list", markup=False)
        yield Footer(compact=True)

    def on_mount(self) -> None:
        store = self.classlog.store
        self.entries = sorted(store.behaviors_for(self.students[0]), key=lambda e: e.code)
        self._number()
        self._rebuild()
        self.query_one(OptionList).focus()

    def _number(self) -> None:
        by_code = {entry.code: entry for entry in self.entries}
        self.top = [(code, by_code.get(code)) for code in numbered_codes(self.classlog.store)]

    def on_resize(self) -> None:
        if self.entries:
            self._rebuild()

    def _line(self, entry: GridEntry, key: str) -> Content:
        width = max(self.size.width - CODE_WIDTH - LEVELS_WIDTH - 10, 20)
        return Content.assemble(
            (f"{key:>3}  ", "bold"),
            fit(one_line(entry.code), CODE_WIDTH),
            fit(one_line(entry.behavior), width),
            "  ",
            (fit(levels_words(entry), LEVELS_WIDTH), "bold" if entry.office_managed else ""),
        )

    def _matches(self, entry: GridEntry) -> bool:
        words = folded(self.filter_text).split()
        haystack = folded(f"{entry.code} {entry.behavior} {entry.category}")
        return all(word in haystack for word in words)

    def _rebuild(self) -> None:
        options: list[Option | None] = []
        top_codes = {code for code, _ in self.top}
        pins = set(teacher_pins(self.classlog.store))
        numbered = [
            (number, code, entry)
            for number, (code, entry) in enumerate(self.top, start=1)
            if entry is None or self._matches(entry)
        ]
        if numbered and (not self.filter_text or any(e for _, _, e in numbered)):
            options.append(
                Option(
                    Content.styled("Numbered (press the number; pinned ones first)", "bold"),
                    disabled=True,
                )
            )
            for number, code, entry in numbered:
                if entry is None:
                    if self.filter_text:
                        continue
                    grade = one_line(self.students[0].grade) or "this grade"
                    options.append(
                        Option(
                            Content.assemble(
                                (f"{number:>3}  ", "bold"),
                                fit(one_line(code), CODE_WIDTH),
                                f"(not in the grid for grade {grade})",
                            ),
                            disabled=True,
                        )
                    )
                    continue
                key = f"{number}" + ("*" if code in pins else "")
                options.append(Option(self._line(entry, key), id=entry.code))
        rest = [e for e in self.entries if e.code not in top_codes and self._matches(e)]
        loggable = [e for e in rest if e.staff_levels and not e.office_managed]
        office = [e for e in rest if not (e.staff_levels and not e.office_managed)]
        if loggable:
            options.append(Option(Content.styled("All behaviors", "bold"), disabled=True))
            options.extend(Option(self._line(entry, ""), id=entry.code) for entry in loggable)
        if office:
            options.append(
                Option(
                    Content.styled(
                        "Office-managed (Level 3 and up: contact the office, nothing is logged)",
                        "bold",
                    ),
                    disabled=True,
                )
            )
            options.extend(Option(self._line(entry, ""), id=entry.code) for entry in office)
        option_list = self.query_one(OptionList)
        option_list.set_options(options)
        first = next(
            (index for index, option in enumerate(options) if option and not option.disabled),
            None,
        )
        option_list.highlighted = first
        self._show_find(sum(1 for option in options if option and not option.disabled))

    def _show_find(self, shown: int) -> None:
        if not self.entries:
            grade = one_line(self.students[0].grade) or "unknown"
            line = Content.styled(
                f"The grid has no behaviors for grade {grade} this school year: ask the office.",
                "bold",
            )
        elif self.filter_text:
            line = Content.assemble(
                ("Find: ", "bold"),
                (self.filter_text, "bold underline"),
                f"\N{LEFT ONE EIGHTH BLOCK}  {shown} behaviors  (Esc clears)",
            )
        else:
            line = Content.assemble(
                ("Find: ", "bold"), "press a number, or type part of a code or words, then Enter"
            )
        self.query_one("#behavior-find", Static).update(line)

    def on_key(self, event: events.Key) -> None:
        character = event.character
        if (
            character
            and len(character) == 1
            and (character.isalpha() or (character in "- " and self.filter_text))
        ):
            self.filter_text += character
        elif event.key == "backspace" and self.filter_text:
            self.filter_text = self.filter_text[:-1]
        else:
            return
        event.stop()
        event.prevent_default()
        self._rebuild()

    def action_top(self, number: int) -> None:
        if not 1 <= number <= len(self.top):
            return
        code, entry = self.top[number - 1]
        if entry is None:
            grade = one_line(self.students[0].grade) or "unknown"
            self.notify(
                f"{code} is not in the grid for grade {grade} this school year.", markup=False
            )
            return
        self._pick(entry)

    def action_pin(self) -> None:
        option = self.query_one(OptionList).highlighted_option
        if option is None or option.id is None:
            return
        pinned = toggle_pin(self.classlog.store, option.id)
        self._number()
        self._rebuild()
        self.notify(
            f"{option.id} {'pinned to the first numbers' if pinned else 'unpinned'}.",
            markup=False,
        )

    def action_pick(self) -> None:
        option = self.query_one(OptionList).highlighted_option
        if option is None or option.id is None:
            return
        self._pick(next(entry for entry in self.entries if entry.code == option.id))

    @on(OptionList.OptionSelected)
    def _selected(self, event: OptionList.OptionSelected) -> None:
        event.stop()
        self.action_pick()

    def action_back(self) -> None:
        if self.filter_text:
            self.filter_text = ""
            self._rebuild()
        else:
            self.dismiss(None)

    def _pick(self, entry: GridEntry) -> None:
        from tui.log.office import OfficeScreen

        if entry.office_managed or not entry.staff_levels:
            self.app.push_screen(OfficeScreen(entry, self.students))
            return
        store = self.classlog.store
        advice: dict[str, Advice] = {}
        for student in self.students:
            try:
                _, advice[student.sourced_id] = store.advice(student.sourced_id, entry.code)
            except OfficeManagedError as error:
                self.app.push_screen(OfficeScreen(error.entry, self.students))
                return
            except StoreError as error:
                self.classlog.report_error(error)
                return
        from tui.log.level import LevelActionsScreen

        draft = LogDraft.start(self.students, entry, advice)
        if self.preset_level is not None and self.preset_level in draft.allowed_levels:
            draft.level = self.preset_level
            if draft.every_level_2:
                draft.actions |= self.preset_actions
        self.app.push_screen(LevelActionsScreen(draft), self._finished)

    def _finished(self, result: LogResult | None) -> None:
        if result is not None:
            self.dismiss(result)
