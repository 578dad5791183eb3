"""A demo workspace for keying UI tests, and a keyer's hands: real key events, bounded loops.

The workspace is built once per test session and copied per test. The typing helpers key the
demo's ground truth with `qtbot.keyClicks` / `keyClick` and never loop without a bound: a field
that does not move on fails the test instead of hanging it.
"""

from __future__ import annotations

import shutil
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import shiboken6
from PySide6.QtCore import QEvent, Qt
from PySide6.QtGui import QKeyEvent
from PySide6.QtWidgets import QApplication
from sqlalchemy import select

from ui.keying_window import KeyingWidget
from workstation import auth
from workstation import models as m
from workstation.demo.data import TruthDocument
from workstation.demo.workspace import DemoWorkspace, build_demo, demo_truth
from workstation.keying import KeyingSession
from workstation.paths import Workspace
from workstation.store import Store, open_central, open_local
from workstation.sync import claim_and_pull
from workstation.templates import parse_path

_BUILT: dict[Path, DemoWorkspace] = {}
CTRL = Qt.KeyboardModifier.ControlModifier


@dataclass
class DemoStation:
    ws: Workspace
    demo: DemoWorkspace
    central: Store
    local: Store

    def actor(self, username: str = "keyer1") -> auth.Actor:
        user = next(u for u in self.demo.users if u.username == username)
        return auth.authenticate(self.central, user.username, user.password)

    def password(self, username: str) -> str:
        return next(u.password for u in self.demo.users if u.username == username)

    def batch_id(self, name: str) -> uuid.UUID:
        with self.central.session() as s:
            return s.scalars(select(m.Batch.id).where(m.Batch.name == name)).one()

    def truth(self, batch: str) -> dict[str, TruthDocument]:
        return demo_truth(self.ws, batch)

    def claim(self, actor: auth.Actor, batch: str, pass_no: int = 1) -> uuid.UUID:
        claim, _ = claim_and_pull(self.central, self.local, actor.id, batch_id=self.batch_id(batch), pass_no=pass_no)
        return claim.unit_id

    def close(self) -> None:
        self.central.dispose()
        self.local.dispose()


def demo_station(cache_root: Path, target: Path, *, documents: int = 3) -> DemoStation:
    """A copy of a demo workspace (built on first use under `cache_root`) at `target`."""
    source = cache_root / f"demo-{documents}"
    if source not in _BUILT:
        shutil.rmtree(source, ignore_errors=True)
        _BUILT[source] = build_demo(Workspace(source).ensure(), seed=9, documents=documents)
    shutil.copytree(source, target)
    ws = Workspace(target).ensure()
    return DemoStation(ws, _BUILT[source], open_central(ws.embedded_central_url), open_local(ws.local_url))


def open_keying(qtbot: Any, station: DemoStation, batch: str = "REBATES-DEMO", *, pass_no: int = 1,
                username: str = "keyer1", unit_id: uuid.UUID | None = None, **widget_kwargs: Any) -> KeyingWidget:
    """Claim (unless `unit_id` is given) and open the keying view, shown, first page up."""
    actor = station.actor(username)
    unit = unit_id or station.claim(actor, batch, pass_no)
    widget = KeyingWidget(
        station.local, lambda writer: KeyingSession.open(station.local, unit, actor.id, writer=writer), **widget_kwargs
    )
    qtbot.addWidget(widget)
    widget.resize(1400, 900)
    widget.show()
    qtbot.waitExposed(widget)
    qtbot.waitUntil(lambda: widget.page_view.page is not None or bool(widget.page_view.error_text), timeout=10_000)
    return widget


def where(widget: KeyingWidget) -> tuple[int, str, bool]:
    session = widget.session
    return session.doc_index, session.path, session.unit_finished


def current_edit(widget: KeyingWidget) -> Any:
    edit = widget.form.line_edit(widget.form.current_path)
    assert widget.form.current_path == widget.session.path
    assert edit.hasFocus(), f"{widget.session.path} is current but does not have the focus"
    return edit


def key_value(qtbot: Any, widget: KeyingWidget, text: str) -> None:
    """Type `text` into the focused field; Enter unless the field moved on by itself."""
    before = where(widget)
    if text:
        qtbot.keyClicks(current_edit(widget), text)
    if where(widget) == before:
        qtbot.keyClick(current_edit(widget), Qt.Key.Key_Return)


def type_unicode(widget: KeyingWidget, text: str) -> None:
    """Type characters a US keyboard has no key for (as an input method sends them): one key
    event per character, carrying the character. `qtbot.keyClicks` handles ASCII only."""
    for char in text:
        for kind in (QEvent.Type.KeyPress, QEvent.Type.KeyRelease):
            QApplication.sendEvent(current_edit(widget), QKeyEvent(kind, Qt.Key.Key_unknown, Qt.KeyboardModifier.NoModifier, char))


def press(qtbot: Any, widget: KeyingWidget, key: Qt.Key, modifier: Qt.KeyboardModifier = Qt.KeyboardModifier.NoModifier) -> None:
    qtbot.keyClick(current_edit(widget), key, modifier)


def key_document(qtbot: Any, widget: KeyingWidget, truth: TruthDocument) -> None:
    """Key one document's ground truth, adding line-item rows with Ctrl+Ins as the paper has them."""
    session = widget.session
    start = session.doc_index
    for _ in range(len(truth.values) + 10):
        if session.unit_finished or session.doc_index != start:
            return
        path = session.path
        parsed = parse_path(path)
        text = truth.values.get(path, "")
        section = session.template.section(parsed.section) if parsed.section else None
        more_rows = (
            section is not None and parsed.key == section.fields[-1].key
            and parsed.row == session.rows(parsed.section) < truth.rows.get(parsed.section, 0)
        )
        if more_rows:
            if text:
                qtbot.keyClicks(current_edit(widget), text)
            press(qtbot, widget, Qt.Key.Key_Insert, CTRL)
            assert session.path.startswith(f"{parsed.section}[{parsed.row + 1}].")
        else:
            key_value(qtbot, widget, text)
    raise AssertionError(f"document {start + 1} did not finish; stuck at {session.path}")


def key_until(qtbot: Any, widget: KeyingWidget, truth: TruthDocument, path: str) -> None:
    """Key the truth field by field until `path` is the current field."""
    for _ in range(len(truth.values) + 1):
        if widget.session.path == path:
            return
        key_value(qtbot, widget, truth.values.get(widget.session.path, ""))
    raise AssertionError(f"never reached {path}; at {widget.session.path}")


def truth_of(station: DemoStation, batch: str, widget: KeyingWidget) -> TruthDocument:
    return station.truth(batch)[widget.session.document.source_name]


@dataclass(frozen=True)
class StoredValue:
    value: str
    flag: str
    overridden: bool
    keystrokes: int


def stored_values(local: Store, document_id: uuid.UUID) -> dict[str, StoredValue]:
    """Every value the local store holds for the document's entry, by path."""
    with local.session() as s:
        rows = s.execute(
            select(m.FieldValue).join(m.Entry, m.Entry.id == m.FieldValue.entry_id)
            .where(m.Entry.document_id == document_id)
        ).scalars().all()
        return {r.field_path: StoredValue(r.value, r.flag, r.overridden, r.keystrokes) for r in rows}


def stored_texts(local: Store, document_id: uuid.UUID) -> dict[str, str]:
    return {path: v.value for path, v in stored_values(local, document_id).items()}


class HomeKeeper:
    """Keeps keyer homes alive until their last background results are in, then deletes them.

    A top-level widget whose only Python references sit in pending callbacks would otherwise be
    destroyed by the garbage collector in the middle of delivering one of them."""

    def __init__(self) -> None:
        self.homes: list[Any] = []

    def add(self, home: Any) -> Any:
        self.homes.append(home)
        return home

    def close(self) -> None:
        from ui import runner

        for home in self.homes:
            home.close_session()
        runner.wait_for_background(10_000)
        for _ in range(3):
            QApplication.processEvents()
        # The spent deliveries go first, then the homes (pytest-qt asked for that already).
        QApplication.sendPostedEvents(None, QEvent.Type.DeferredDelete)
        for home in self.homes:
            if shiboken6.isValid(home):
                home.deleteLater()
        QApplication.sendPostedEvents(None, QEvent.Type.DeferredDelete)
        self.homes.clear()


class Beeps:
    """Counts QApplication.beep() (the warning sound) instead of making it."""

    def __init__(self, monkeypatch: Any) -> None:
        self.count = 0
        monkeypatch.setattr(QApplication, "beep", staticmethod(self._beep))

    def _beep(self) -> None:
        self.count += 1
