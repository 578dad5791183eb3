"""One error hierarchy for the whole application.

A `KnownError` is a problem of the environment or of the input (a bad template, an unreadable
image, a database that cannot be reached, a wrong password, a lost lease). The UI shows it as a
plain sentence and the CLI prints it without a traceback. Anything else is a bug.
"""

from __future__ import annotations


class WorkstationError(Exception):
    """Base of every error the application raises on purpose."""


class KnownError(WorkstationError):
    """An expected failure with a message a person can act on.

    `message` says what went wrong; `hint` says what to do about it.
    """

    def __init__(self, message: str, hint: str = "") -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint

    def __str__(self) -> str:
        return f"{self.message} {self.hint}".strip()


class TemplateError(KnownError):
    """A form template cannot be loaded; the message names file, line and field."""


class ImageError(KnownError):
    """An image file or page cannot be read."""


class DatabaseUnavailable(KnownError):
    """The central database cannot be reached right now."""


class AuthError(KnownError):
    """Wrong user name or password, a locked account, or a missing role."""


class PermissionDenied(AuthError):
    """The acting user's role does not allow this action."""


class LeaseLost(KnownError):
    """The work unit's lease expired or was taken over; the keyer must claim again."""


class NoWorkAvailable(KnownError):
    """There is nothing this user may claim right now."""


class NotFound(KnownError):
    """A named batch, user, template or document does not exist."""


class CredentialError(KnownError):
    """A secret is missing from, or cannot be read from, the OS credential store."""
