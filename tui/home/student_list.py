"""The students of the current section, filtered in memory as the teacher types.

The screen passes down the roster, today's counts and who is on a Take a Break; the list only
filters, marks and reports. Filtering never touches the database, so a keystroke costs a scan of
the few dozen students on screen.

The list draws its own rows (Textual's line API) so that a keystroke repaints only what it
changed: moving the highlight repaints two rows, marking one row, and filtering repaints the
list without laying out the screen again (that is needed only when the scrollbar comes or
goes). A row's rendering is kept until its student, its state or the list's style changes.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Hashable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import ClassVar

from textual import events
from textual.binding import Binding, BindingType
from textual.content import Content
from textual.geometry import Region, Size
from textual.message import Message
from textual.scroll_view import ScrollView
from textual.scrollbar import ScrollBar, ScrollBarRender
from textual.strip import Strip
from textual.style import Style as VisualStyle
from textual.visual import Visual

from schema.rows import StudentRow
from tui.formatting import student_name
from tui.text import fit

NAME_WIDTH = 34
ROW = "student-list--row"
HIGHLIGHTED = "student-list--row-highlighted"
HOVER = "student-list--row-hover"


WORD_BREAKS = re.compile(r"[\s-]+")
APOSTROPHES = str.maketrans(
    {"\N{RIGHT SINGLE QUOTATION MARK}": "'", "`": "'", "\N{MODIFIER LETTER APOSTROPHE}": "'"}
)


def folded(text: str) -> str:
    """Lower case without accents, one kind of apostrophe and single spaces, for matching what
    a teacher types ("sofi" finds Sofía, "d'am" finds a name typed with a curly apostrophe)."""
    decomposed = unicodedata.normalize("NFKD", text.casefold().translate(APOSTROPHES))
    return " ".join("".join(c for c in decomposed if not unicodedata.combining(c)).split())


@dataclass(frozen=True, slots=True, eq=False)
class _Entry:
    student: StudentRow
    name: str
    words: tuple[str, ...]
    whole: str


def _words_start_with(words: tuple[str, ...], tokens: list[str]) -> bool:
    """Each typed word starts a word of the name, in order."""
    at = 0
    for token in tokens:
        while at < len(words) and not words[at].startswith(token):
            at += 1
        if at == len(words):
            return False
        at += 1
    return True


@dataclass(frozen=True, slots=True)
class _Frame:
    """What every row of one paint shares."""

    scroll_y: int
    width: int
    row: VisualStyle
    highlighted: VisualStyle
    hover: VisualStyle


def header_line() -> str:
    return "    " + fit("Student", NAME_WIDTH) + " Grade  IEP  Today  Break"


class _RememberingScrollBar(ScrollBar):
    """Textual's vertical scrollbar, keeping its last few paints: typing a name and deleting it
    again moves between the same few thumb sizes, and a paint of a bar through Rich costs as
    much as the whole list's rows. A paint is reused only for the same size, thumb, position,
    colours and background."""

    KEEP = 16

    def __init__(self, *, thickness: int) -> None:
        super().__init__(vertical=True, name="vertical", thickness=thickness)
        self._paints: dict[Hashable, list[Strip]] = {}

    def render_lines(self, crop: Region) -> list[Strip]:
        bar = self.render()
        if not isinstance(bar, ScrollBarRender):
            return super().render_lines(crop)
        key = (
            crop,
            self.size,
            bar.virtual_size,
            bar.window_size,
            bar.position,
            bar.thickness,
            bar.style,
            self.background_colors,
            self.app.ansi_theme,
            tuple(self.get_line_filters()),
        )
        strips = self._paints.get(key)
        if strips is None:
            strips = super().render_lines(crop)
            if len(self._paints) >= self.KEEP:
                self._paints.clear()
            self._paints[key] = strips
        return list(strips)

    def notify_style_update(self) -> None:
        self._paints.clear()
        super().notify_style_update()


class StudentList(ScrollView, can_focus=True):
    """A section's students: type to filter (the screen feeds the text, spaces included), +
    marks several."""

    DEFAULT_CSS = """
    StudentList {
        height: 1fr;
        color: $foreground;
        overflow-x: hidden;
        background: $surface;
        & > .student-list--row-highlighted {
            color: $foreground;
            background: $block-cursor-blurred-background;
            text-style: $block-cursor-blurred-text-style;
        }
        &:focus {
            background-tint: $foreground 5%;
            & > .student-list--row-highlighted {
                color: $block-cursor-foreground;
                background: $block-cursor-background;
                text-style: $block-cursor-text-style;
            }
        }
        & > .student-list--row-hover {
            background: $block-hover-background;
        }
        &:nocolor > .student-list--row-highlighted {
            text-style: reverse bold;
        }
    }
    """
    COMPONENT_CLASSES: ClassVar[set[str]] = {ROW, HIGHLIGHTED, HOVER}

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding(
            "enter",
            "pick",
            "Log",
            id="students.log",
            tooltip="Log an intervention for the marked students and the one found by name, "
            "or else the highlighted one",
        ),
        Binding(
            "plus,insert",
            "mark",
            "Mark",
            id="students.mark",
            key_display="+",
            tooltip="Mark or unmark the highlighted student, to log for several at once "
            "(what you typed is cleared, ready for the next name)",
        ),
        # The usual list keys (arrows, page, home, end) are system bindings: help lists what is
        # particular to this screen, not how to move in a list.
        Binding(
            "down",
            "cursor_down",
            "Down",
            id="students.down",
            show=False,
            system=True,
            tooltip="Highlight the next student",
        ),
        Binding(
            "up",
            "cursor_up",
            "Up",
            id="students.up",
            show=False,
            system=True,
            tooltip="Highlight the previous student",
        ),
        Binding(
            "pagedown",
            "page_down",
            "Page down",
            id="students.page_down",
            show=False,
            system=True,
            tooltip="Highlight a screenful further down",
        ),
        Binding(
            "pageup",
            "page_up",
            "Page up",
            id="students.page_up",
            show=False,
            system=True,
            tooltip="Highlight a screenful further up",
        ),
        Binding(
            "home",
            "first",
            "First",
            id="students.first",
            show=False,
            system=True,
            tooltip="Highlight the first student shown",
        ),
        Binding(
            "end",
            "last",
            "Last",
            id="students.last",
            show=False,
            system=True,
            tooltip="Highlight the last student shown",
        ),
    ]

    class Picked(Message):
        """Enter was pressed: log for these students (the marked ones, else the highlighted)."""

        def __init__(self, student_list: StudentList, students: list[StudentRow]) -> None:
            super().__init__()
            self.student_list = student_list
            self.students = students

        @property
        def control(self) -> StudentList:
            return self.student_list

    class Moved(Message):
        """The highlight moved while a name is typed or students are marked (who Enter logs
        for may have changed)."""

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
        super().__init__(id=id)
        self._entries: list[_Entry] = []
        self._shown: list[_Entry] = []
        self._counts: Mapping[str, int] = {}
        self._on_break: frozenset[str] = frozenset()
        self.marked: dict[str, StudentRow] = {}
        self.filter_text = ""
        self._highlighted: int | None = None
        self._hovered: int | None = None
        self._rows: dict[Hashable, Strip] = {}
        self._frame: _Frame | None = None

    @property
    def vertical_scrollbar(self) -> ScrollBar:
        """The scrollbar, as Textual's own makes it, but remembering its recent paints."""
        if self._vertical_scrollbar is None:
            scrollbar = _RememberingScrollBar(thickness=self.scrollbar_size_vertical)
            scrollbar.display = False
            self._vertical_scrollbar = scrollbar
            self.app._start_widget(self, scrollbar)
        return self._vertical_scrollbar

    # -- what the screen sets ---------------------------------------------------------------

    def set_students(
        self,
        students: Sequence[StudentRow],
        counts: Mapping[str, int],
        on_break: Iterable[str],
    ) -> None:
        """Replace the roster shown (keeping marks, filter and highlight where possible)."""
        self._entries = []
        for student in students:
            name = student_name(student)
            whole = folded(name)
            words = tuple(word for word in WORD_BREAKS.split(whole) if word)
            self._entries.append(_Entry(student, name, words, whole))
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

    def clear_marks(self) -> None:
        if not self.marked:
            return
        self.marked = {}
        self.refresh()
        self.post_message(self.MarksChanged(self, 0, False))

    # -- what the screen reads --------------------------------------------------------------

    @property
    def shown_count(self) -> int:
        return len(self._shown)

    @property
    def highlighted(self) -> int | None:
        """The index of the highlighted row among those shown."""
        return self._highlighted

    @highlighted.setter
    def highlighted(self, index: int | None) -> None:
        if index is not None:
            index = min(max(index, 0), len(self._shown) - 1) if self._shown else None
        previous, self._highlighted = self._highlighted, index
        if previous == index:
            return
        self._refresh_row(previous)
        self._refresh_row(index)
        self._scroll_to_row(index)
        if self.filter_text or self.marked:
            self.post_message(self.Moved())

    @property
    def highlighted_student(self) -> StudentRow | None:
        if self._highlighted is None or not 0 <= self._highlighted < len(self._shown):
            return None
        return self._shown[self._highlighted].student

    # -- filtering --------------------------------------------------------------------------

    def _matches(self) -> list[_Entry]:
        """The students whose name matches what was typed, best first: the whole name exactly,
        then names starting with it, then names whose words start with the typed words in
        order ("ma de" finds Maya De La Cruz), then names holding it anywhere."""
        needle = folded(self.filter_text)
        if not needle:
            return list(self._entries)
        tokens = needle.split()
        ranked: list[tuple[int, int, _Entry]] = []
        for position, entry in enumerate(self._entries):
            if entry.whole == needle:
                rank = 0
            elif entry.whole.startswith(needle):
                rank = 1
            elif _words_start_with(entry.words, tokens):
                rank = 2
            elif needle in entry.whole:
                rank = 3
            else:
                continue
            ranked.append((rank, position, entry))
        ranked.sort(key=lambda item: (item[0], item[1]))
        return [entry for _, _, entry in ranked]

    def _rebuild(self, *, keep_highlight: bool = True) -> None:
        current = self.highlighted_student if keep_highlight else None
        self._shown = self._matches()
        index = 0
        if current is not None:
            for position, entry in enumerate(self._shown):
                if entry.student.sourced_id == current.sourced_id:
                    index = position
                    break
        self._highlighted = index if self._shown else None
        self._hovered = None
        self._set_row_count(len(self._shown))
        self.scroll_to(y=0, animate=False, immediate=True)
        self._scroll_to_row(self._highlighted)
        self.refresh()

    def _set_row_count(self, count: int) -> None:
        """Set the scrollable height. While the scrollbar stays as it is, only the scrollbar is
        told (no layout pass for the whole screen, which would also cost a second frame)."""
        size = Size(self.scrollable_content_region.width, count)
        if size == self.virtual_size:
            return
        height = self.container_size.height
        if not height or (count > height) != self.show_vertical_scrollbar:
            self.virtual_size = size
            return
        self.set_reactive(ScrollView.virtual_size, size)
        if self.show_vertical_scrollbar:
            self.vertical_scrollbar.window_virtual_size = count
            self.vertical_scrollbar.window_size = height
        self.scroll_y = self.validate_scroll_y(self.scroll_y)

    def on_resize(self, event: events.Resize) -> None:
        self._set_row_count(len(self._shown))
        self._scroll_to_row(self._highlighted)

    # -- drawing ----------------------------------------------------------------------------

    def _prompt(self, entry: _Entry, highlighted: bool) -> Content:
        student = entry.student
        student_id = student.sourced_id
        mark = "\N{CHECK MARK}" if student_id in self.marked else " "
        pointer = "\N{BLACK RIGHT-POINTING TRIANGLE}" if highlighted else " "
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

    def _frame_styles(self) -> _Frame:
        return _Frame(
            self.scroll_offset.y,
            self.scrollable_content_region.width,
            self.get_visual_style(ROW),
            self.get_visual_style(ROW, HIGHLIGHTED),
            self.get_visual_style(ROW, HOVER),
        )

    def render_lines(self, crop: Region) -> list[Strip]:
        """Textual asks for the lines it repaints here: what every row of this paint shares
        (scroll offset, width, the three row styles) is looked up once, not once a row."""
        self._frame = self._frame_styles()
        try:
            return super().render_lines(crop)
        finally:
            self._frame = None

    def render_line(self, y: int) -> Strip:
        frame = self._frame or self._frame_styles()
        index = frame.scroll_y + y
        width = frame.width
        if not 0 <= index < len(self._shown):
            return Strip.blank(width, frame.row.rich_style)
        entry = self._shown[index]
        highlighted = index == self._highlighted
        if highlighted:
            style = frame.highlighted
        elif index == self._hovered:
            style = frame.hover
        else:
            style = frame.row
        student_id = entry.student.sourced_id
        key = (
            entry,
            highlighted,
            student_id in self.marked,
            self._counts.get(student_id, 0),
            student_id in self._on_break,
            style,
            width,
        )
        strip = self._rows.get(key)
        if strip is None:
            if len(self._rows) > 4 * len(self._shown) + 64:
                self._rows.clear()
            prompt = self._prompt(entry, highlighted)
            [strip, *_] = Visual.to_strips(self, prompt, width, 1, style)
            strip = strip.extend_cell_length(width, style.rich_style)
            self._rows[key] = strip
        return strip

    def _refresh_row(self, index: int | None) -> None:
        """Repaint one row, if it is on screen."""
        if index is None:
            return
        y = index - self.scroll_offset.y
        if 0 <= y < self.size.height:
            self.refresh(Region(0, y, self.size.width, 1))

    def _scroll_to_row(self, index: int | None) -> None:
        if index is None or not self.size:
            return
        window = self.scrollable_content_region
        top = self.scroll_offset.y
        if top <= index < top + window.height and self.scroll_y == top:
            return
        self.scroll_to_region(
            Region(0, index, window.width, 1),
            animate=False,
            force=True,
            immediate=True,
        )

    def notify_style_update(self) -> None:
        self._rows.clear()
        super().notify_style_update()

    # -- keys and mouse ---------------------------------------------------------------------

    def action_cursor_down(self) -> None:
        """The next student, round to the first after the last."""
        if self._shown:
            after = -1 if self._highlighted is None else self._highlighted
            self.highlighted = (after + 1) % len(self._shown)

    def action_cursor_up(self) -> None:
        """The previous student, round to the last before the first."""
        if self._shown:
            before = 0 if self._highlighted is None else self._highlighted
            self.highlighted = (before - 1) % len(self._shown)

    def action_page_down(self) -> None:
        if self._shown:
            self.highlighted = (self._highlighted or 0) + self.scrollable_content_region.height

    def action_page_up(self) -> None:
        if self._shown:
            self.highlighted = (self._highlighted or 0) - self.scrollable_content_region.height

    def action_first(self) -> None:
        if self._shown:
            self.highlighted = 0

    def action_last(self) -> None:
        if self._shown:
            self.highlighted = len(self._shown) - 1

    def to_log(self) -> list[StudentRow]:
        """Who Enter logs for: the marked students, plus the one found by typing a name (the
        highlighted student while a name is typed); with nothing marked, the highlighted one."""
        students = list(self.marked.values())
        highlighted = self.highlighted_student
        if (
            highlighted is not None
            and highlighted.sourced_id not in self.marked
            and (self.filter_text.strip() or not students)
        ):
            students.append(highlighted)
        return students

    def action_pick(self) -> None:
        students = self.to_log()
        if not students:
            self.post_message(self.NothingPicked())
            return
        self.post_message(self.Picked(self, students))

    def action_mark(self) -> None:
        student = self.highlighted_student
        if student is None:
            return
        marked = student.sourced_id not in self.marked
        if marked:
            self.marked[student.sourced_id] = student
        else:
            del self.marked[student.sourced_id]
        self._refresh_row(self._highlighted)
        self.post_message(self.MarksChanged(self, len(self.marked), marked))

    def _row_at(self, y: int) -> int | None:
        index = self.scroll_offset.y + y
        return index if 0 <= index < len(self._shown) else None

    def on_click(self, event: events.Click) -> None:
        index = self._row_at(event.y)
        if index is not None:
            self.highlighted = index

    def on_mouse_move(self, event: events.MouseMove) -> None:
        self._hover(self._row_at(event.y))

    def on_leave(self, event: events.Leave) -> None:
        self._hover(None)

    def _hover(self, index: int | None) -> None:
        if index == self._hovered:
            return
        previous, self._hovered = self._hovered, index
        self._refresh_row(previous)
        self._refresh_row(index)
