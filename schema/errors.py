"""classlog's one exception tree.

    ClasslogError                  every error classlog raises on purpose
     +-- UserError                 a user's mistake: bad input, or a write the plan refuses
     |    +-- StoreError, GridError, RosterError, CorrectionError, EnrollmentCodeError, ...
     +-- SyncError, DatabaseError, NewerDatabaseError, ...   conditions outside the user's hands

Code that can refuse raises a named leaf; callers catch the branch they mean. Only the edges (the
command line, a screen, an HTTP route) turn an error into the one line a person reads, with
:func:`one_line`. Anything that is not a ``ClasslogError`` is a bug and crashes loudly.
"""

from __future__ import annotations

__all__ = ["ClasslogError", "UserError", "one_line"]


class ClasslogError(Exception):
    """The root of every error classlog raises on purpose."""


class UserError(ClasslogError):
    """A mistake a user can make. Nothing was changed; the edge shows it as one line."""


def one_line(error: BaseException) -> str:
    """The error's message as one line (line breaks folded), never empty."""
    text = " ".join(str(error).split())
    return text or type(error).__name__
