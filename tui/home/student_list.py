"""The students of the current section, filtered in memory as the teacher types.

The screen passes down the roster, today's counts and who is on a Take a Break; the list only
filters, marks and reports. Filtering never touches the database, so a keystroke costs a scan of
the few dozen students on screen.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import ClassVar

from textual.binding import Binding, BindingType
from textual.content import Content
from textual.message import Message
from textual.widgets import OptionList
from textual.widgets.option_list import Option

from schema.models import Student
from tui.formatting import student_name
from tui.text import fit

NAME_WIDTH = 34


def folded(text: str) -> str:
    """Lower case without accents, for matching what a teacher types ("sofi" finds Sofía)."""
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    return "".join(char for char in decomposed if not unicodedata.combining(char))


@dataclass(frozen=True, slots=True)
class _Entry:
    student: Student
    name: str
    words: tuple[str, ...]
    whole: str


def header_line() -> str:
    return "    " + fit("Student", NAME_WIDTH) + " Grade  IEP  Today  Break"


class StudentList(OptionList):
    """A section's students: type to filter (the screen feeds the text), Space marks several."""

    DEFAULT_CSS = """
    StudentList, StudentList:focus {
        height: 1fr;
        border: none;
        padding: 0;
    }
    StudentList:nocolor > .option-list--option-highlighted {
        text-style: reverse bold;
    }
    """

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding(
            "enter",
            "pick",
            "Log",
            id="students.log",
            tooltip="Log an intervention for the marked students, or the highlighted one",
        ),
        Binding(
            "space",
            "mark",
            "Mark",
            id="students.mark",
            show=False,
            tooltip="Mark or unmark the highlighted student, to log for several at once "
            "(what you typed is cleared, ready for the next name)",
        ),
    ]

    class Picked(Message):
        """Enter was pressed: log for these students (the marked ones, else the highlighted)."""

        def __init__(self, student_list: StudentList, students: list[Student]) -> None:
            super().__init__()
            self.student_list = student_list
            self.students = students

        @property
        def control(self) -> StudentList:
            return self.student_list

    class NothingPicked(Message):
        """Enter was pressed with no student shown or marked."""

    class MarksChanged(Message):
        """A student was marked or unmarked (``marked``: whether this one is now marked)."""

        def __init__(self, student_list: StudentList, marked_count: int, marked: bool) -> None:
            super().__init__()
            self.student_list = student_list
            self.marked_count = marked_count
            self.marked = marked

        @property
        def control(self) -> StudentList:
            return self.student_list

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id, markup=False)
        self._entries: list[_Entry] = []
        self._shown: list[_Entry] = []
        self._counts: Mapping[str, int] = {}
        self._on_break: frozenset[str] = frozenset()
        self.marked: dict[str, Student] = {}
        self.filter_text = ""
        self._pointed: _Entry | None = None
        self._rebuilding = False

    def set_students(
        self,
        students: Sequence[Student],
        counts: Mapping[str, int],
        on_break: Iterable[str],
    ) -> None:
        """Replace the roster shown (keeping marks, filter and highlight where possible)."""
        self._entries = []
        for student in students:
            name = student_name(student)
            words = tuple(folded(word) for word in name.split())
            self._entries.append(_Entry(student, name, words, folded(name)))
        present = {entry.student.sourced_id for entry in self._entries}
        self.marked = {key: value for key, value in self.marked.items() if key in present}
        self._counts = counts
        self._on_break = frozenset(on_break)
        self._rebuild()

    def set_day(self, counts: Mapping[str, int], on_break: Iterable[str]) -> None:
        """New counts and Take a Break state for the same students."""
        self._counts = counts
        self._on_break = frozenset(on_break)
        self._rebuild()

    def set_filter(self, text: str) -> None:
        """Show only the students whose name matches ``text``; the best match is highlighted."""
        self.filter_text = text
        self._rebuild(keep_highlight=False)

    def highlight_student(self, student_id: str) -> None:
        """Move the highlight to a student, when shown."""
        for index, entry in enumerate(self._shown):
            if entry.student.sourced_id == student_id:
                self.highlighted = index
                return

    @property
    def shown_count(self) -> int:
        return len(self._shown)

    @property
    def highlighted_student(self) -> Student | None:
        if self.highlighted is None or not 0 <= self.highlighted < len(self._shown):
            return None
        return self._shown[self.highlighted].student

    def _matches(self) -> list[_Entry]:
        needle = folded(self.filter_text.strip())
        if not needle:
            return list(self._entries)
        starts = [e for e in self._entries if any(w.startswith(needle) for w in e.words)]
        chosen = {id(entry) for entry in starts}
        inside = [e for e in self._entries if id(e) not in chosen and needle in e.whole]
        return starts + inside

    def _prompt(self, entry: _Entry) -> Content:
        student = entry.student
        student_id = student.sourced_id
        mark = "\N{CHECK MARK}" if student_id in self.marked else " "
        pointer = "\N{BLACK RIGHT-POINTING TRIANGLE}" if entry is self._pointed else " "
        count = self._counts.get(student_id, 0)
        today = f"{count:>5}" if count else "     "
        on_break = "on TAB" if student_id in self._on_break else ""
        iep = "IEP" if student.iep else "   "
        return Content.assemble(
            (f"{pointer}{mark}  ", "bold"),
            fit(entry.name, NAME_WIDTH),
            f" {fit(student.grade, 5)}  {iep}  {today}  ",
            (on_break, "bold"),
        )

    def _rebuild(self, *, keep_highlight: bool = True) -> None:
        current = self.highlighted_student if keep_highlight else None
        self._shown = self._matches()
        index = 0
        if current is not None:
            for position, entry in enumerate(self._shown):
                if entry.student.sourced_id == current.sourced_id:
                    index = position
                    break
        self._pointed = self._shown[index] if self._shown else None
        self._rebuilding = True
        try:
            self.set_options(
                Option(self._prompt(entry), id=entry.student.sourced_id) for entry in self._shown
            )
        finally:
            self._rebuilding = False
        if self._shown:
            self.highlighted = index

    def watch_highlighted(self, highlighted: int | None) -> None:
        """Point at the highlighted row with a symbol too, not only a colour."""
        super().watch_highlighted(highlighted)
        if self._rebuilding:
            return
        previous = self._pointed
        self._pointed = (
            self._shown[highlighted]
            if highlighted is not None and 0 <= highlighted < len(self._shown)
            else None
        )
        if previous is self._pointed:
            return
        for entry in (previous, self._pointed):
            if entry is None:
                continue
            for index, shown in enumerate(self._shown):
                if shown is entry:
                    self.replace_option_prompt_at_index(index, self._prompt(entry))
                    break

    def action_pick(self) -> None:
        students = list(self.marked.values())
        if not students:
            highlighted = self.highlighted_student
            if highlighted is None:
                self.post_message(self.NothingPicked())
                return
            students = [highlighted]
        self.post_message(self.Picked(self, students))

    def action_mark(self) -> None:
        student = self.highlighted_student
        if student is None or self.highlighted is None:
            return
        marked = student.sourced_id not in self.marked
        if marked:
            self.marked[student.sourced_id] = student
        else:
            del self.marked[student.sourced_id]
        entry = self._shown[self.highlighted]
        self.replace_option_prompt_at_index(self.highlighted, self._prompt(entry))
        self.post_message(self.MarksChanged(self, len(self.marked), marked))

    def clear_marks(self) -> None:
        if not self.marked:
            return
        self.marked = {}
        self._rebuild()
        self.post_message(self.MarksChanged(self, 0, False))
