"""Which pages each role sees in the main window.

Each entry's factory builds its page from the actor and the CliContext (`ctx.central()` opens
the central database); the window and the login flow do not know the pages. A role without pages
gets `PlaceholderWidget`, a sentence saying so.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QLabel, QVBoxLayout, QWidget

from ui.login import Actor
from ui.mainwindow import MainWindow


class PlaceholderWidget(QWidget):
    """A page with nothing to do: a title and a sentence saying why.

    Signals: none.
    """

    def __init__(self, title: str, text: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("placeholderPage")
        heading = QLabel(title)
        heading.setObjectName("placeholderTitle")
        body = QLabel(text)
        body.setObjectName("placeholderText")
        body.setWordWrap(True)
        body.setAlignment(Qt.AlignmentFlag.AlignHCenter | Qt.AlignmentFlag.AlignTop)
        heading.setAlignment(Qt.AlignmentFlag.AlignHCenter)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(48, 24, 48, 24)
        layout.addStretch(1)
        layout.addWidget(heading)
        layout.addSpacing(8)
        layout.addWidget(body)
        layout.addStretch(2)


PageFactory = Callable[[Actor, object], QWidget]


@dataclass(frozen=True)
class PageEntry:
    key: str
    title: str
    factory: PageFactory


def _keying_home(actor: Actor, ctx: object) -> QWidget:
    from ui.keying_home import make_keying_home  # the keying station loads only for the roles that see it

    return make_keying_home(actor, ctx)  # type: ignore[arg-type]


KEYING_HOME = PageEntry("keying", "Keying", _keying_home)


def _qa_page(actor: Actor, ctx: object) -> QWidget:
    from ui.qa_page import QaPageWidget  # the QA station loads only for the roles that see it

    return QaPageWidget(actor, ctx)  # type: ignore[arg-type]


QA_QUEUE = PageEntry("qa", "QA review", _qa_page)

def _dashboard(actor: Actor, ctx: object) -> QWidget:
    from ui.dashboard import make_dashboard  # QtCharts loads only for the roles that see the dashboard

    return make_dashboard(actor, ctx)


DASHBOARD = PageEntry("dashboard", "Dashboard", _dashboard)


def _admin_users(actor: Actor, ctx: object) -> QWidget:
    from ui.admin_users import make_admin_users  # loads only for the roles that see it

    return make_admin_users(actor, ctx)


ADMINISTRATION = PageEntry("admin", "Administration", _admin_users)

PAGES_BY_ROLE: dict[str, tuple[PageEntry, ...]] = {
    "keyer": (KEYING_HOME,),
    "qa": (QA_QUEUE, KEYING_HOME),
    "supervisor": (DASHBOARD,),  # QA decisions need the qa role (the services refuse others)
    "admin": (ADMINISTRATION, DASHBOARD, QA_QUEUE),
}


def build_window(actor: Actor, ctx: object) -> MainWindow:
    """The main window with the pages of the actor's role (first page shown)."""
    window = MainWindow(actor)
    entries = PAGES_BY_ROLE.get(actor.role)
    if not entries:
        text = f"The role '{actor.role}' has no pages in this program. Ask an administrator."
        window.add_page("none", PlaceholderWidget("Nothing to show", text), "Nothing to show")
        return window
    for entry in entries:
        window.add_page(entry.key, entry.factory(actor, ctx), entry.title)
    return window
