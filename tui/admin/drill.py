"""Drill-down: the Level 2 records behind a bar, then one record, read-only (corrections are
a server action: `PATCH /v1/admin/records/{id}`)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, ClassVar

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import VerticalScroll
from textual.content import Content
from textual.screen import Screen
from textual.widgets import DataTable, Footer, Static

from tui.admin.api import FetchError
from tui.text import clean, one_line

if TYPE_CHECKING:
    from tui.admin.app import AdminApp

RECORD_COLUMNS = (
    ("date", ("local_date", "occurred_at")),
    ("hour", ("local_hour",)),
    ("student", ("student_name", "student_id")),
    ("grade", ("student_grade",)),
    ("behavior", ("behavior_code",)),
    ("location", ("location",)),
    ("removal", ("removal",)),
    ("ISS", ("iss",)),
)


def _first(record: dict[str, Any], keys: tuple[str, ...]) -> str:
    for key in keys:
        value = record.get(key)
        if isinstance(value, bool):
            return "yes" if value else "no"
        if value not in (None, ""):
            return one_line(str(value))
    fields = record.get("fields")
    if isinstance(fields, dict):
        for key in keys:
            value = fields.get(key)
            if value not in (None, ""):
                return one_line(str(value))
    return ""


def admin_app(screen: Screen[Any]) -> AdminApp:
    from tui.admin.app import AdminApp

    app = screen.app
    assert isinstance(app, AdminApp)
    return app


class RecordsScreen(Screen[None]):
    """The records behind one bar or row of a panel."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "back", "Back", id="records.back", tooltip="Back to the dashboard"),
        Binding("enter", "open", "Open", id="records.open", tooltip="Open the record"),
    ]
    HELP = "The Level 2 records behind the bar or row you picked. Enter opens one, read-only."

    def __init__(self, title: str, params: dict[str, str]) -> None:
        super().__init__()
        self.heading = title
        self.params = params
        self.records: list[dict[str, Any]] = []

    def compose(self) -> ComposeResult:
        yield Static(Content(clean(self.heading)), classes="screen-title")
        yield Static("Loading the records\N{HORIZONTAL ELLIPSIS}", id="records-status")
        table: DataTable[Text] = DataTable(id="records-table", cursor_type="row")
        table.add_columns(*[name for name, _ in RECORD_COLUMNS])
        yield table
        yield Footer(compact=True)

    def on_mount(self) -> None:
        self.run_worker(self._load(), exclusive=True, group="records")

    async def _load(self) -> None:
        try:
            records, total = await admin_app(self).client.records(self.params)
        except FetchError as error:
            self.query_one("#records-status", Static).update(
                Content(f"Could not load the records: {error.reason}.")
            )
            return
        self.records = records
        table: DataTable[Text] = self.query_one(DataTable)
        for record in records:
            table.add_row(
                *[Text(_first(record, keys)) for _, keys in RECORD_COLUMNS],
            )
        count = len(records)
        shown = f"{total} record{'s' if total != 1 else ''}"
        if count < total:
            shown += f", the newest {count} listed"
        self.query_one("#records-status", Static).update(
            shown + (": Enter opens one, read-only" if count else "")
        )
        table.focus()

    def action_back(self) -> None:
        self.dismiss(None)

    def action_open(self) -> None:
        table: DataTable[Text] = self.query_one(DataTable)
        if not self.records or table.cursor_row >= len(self.records):
            self.app.bell()
            return
        record = self.records[table.cursor_row]
        self.app.push_screen(RecordScreen(str(record.get("id", "")), record))

    def on_data_table_row_selected(self, event: DataTable.RowSelected) -> None:
        event.stop()
        self.action_open()


class RecordScreen(Screen[None]):
    """One record, as the server holds it: every field, read-only."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "back", "Back", id="record.back", tooltip="Back to the record list"),
    ]
    HELP = (
        "One Level 2 record as the server holds it. It is read-only here: corrections are an "
        "administrator's action on the server, kept with an audit of the value they replace."
    )

    def __init__(self, record_id: str, summary: dict[str, Any]) -> None:
        super().__init__()
        self.record_id = record_id
        self.summary = summary

    def compose(self) -> ComposeResult:
        yield Static(Content(f"Record {clean(self.record_id)}"), classes="screen-title")
        with VerticalScroll(id="record-body"):
            yield Static("Loading\N{HORIZONTAL ELLIPSIS}", id="record-fields")
        yield Footer(compact=True)

    def on_mount(self) -> None:
        self.run_worker(self._load(), exclusive=True, group="record")

    async def _load(self) -> None:
        fields: dict[str, Any] = {
            key: value for key, value in self.summary.items() if key != "fields"
        }
        problem = ""
        try:
            record = await admin_app(self).client.record(self.record_id)
        except FetchError as error:
            problem = (
                f"Only the list's columns: the full record could not be loaded ({error.reason})."
                "\n\n"
            )
        else:
            nested = record.get("fields")
            fields = {
                **fields,
                **{
                    key: value
                    for key, value in record.items()
                    if key not in ("fields", "field_hlc", "superseded")
                },
                **(nested if isinstance(nested, dict) else {}),
            }
        lines = [
            "Read-only: corrections are made on the server, with an audit of what they replace.",
            "",
            *(f"{key}: {_field_text(value)}" for key, value in fields.items()),
        ]
        self.query_one("#record-fields", Static).update(
            Content(problem + clean("\n".join(lines), keep_newlines=True))
        )

    def action_back(self) -> None:
        self.dismiss(None)


def _field_text(value: Any) -> str:
    if value is None:
        return "(none)"
    if isinstance(value, list):
        return ", ".join(one_line(str(item)) for item in value) or "(none)"
    if isinstance(value, bool):
        return "yes" if value else "no"
    return one_line(str(value))
