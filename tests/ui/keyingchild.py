"""A keyer's station in a process of its own, to be killed mid-keying (tests/ui/test_keying_resume.py).

    python -m tests.ui.keyingchild WORKSPACE KEYER_ID USERNAME BATCH FIELDS

Opens the keyer's home on the workspace's stores, claims BATCH pass 1 with Enter, keys the first
document's ground truth and FIELDS fields of the second with real key events, types "HALF" into
the next field without leaving it, prints `READY <document index> <field path>` and waits to be
killed. Nothing here shuts down cleanly on purpose.
"""

from __future__ import annotations

import os
import sys
import time
import uuid
from pathlib import Path
from collections.abc import Callable

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from PySide6.QtCore import Qt  # noqa: E402
from PySide6.QtTest import QTest  # noqa: E402
from PySide6.QtWidgets import QApplication  # noqa: E402

from tests.ui.keyingdemo import current_edit, key_document, key_value  # noqa: E402
from ui.app import make_application  # noqa: E402
from ui.keying_home import KeyingHomeWidget  # noqa: E402
from ui.workmodel import CLAIM  # noqa: E402
from workstation import auth  # noqa: E402
from workstation.demo.workspace import demo_truth  # noqa: E402
from workstation.paths import Workspace  # noqa: E402
from workstation.store import open_central, open_local  # noqa: E402


class _Keys:
    """What the typing helpers need of qtbot, from QTest."""

    keyClicks = staticmethod(QTest.keyClicks)  # noqa: N815 (qtbot's names)
    keyClick = staticmethod(QTest.keyClick)  # noqa: N815


def _wait(condition: Callable[[], bool], seconds: float = 30.0) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        if time.monotonic() > deadline:
            raise SystemExit("timed out")
        QApplication.processEvents()
        time.sleep(0.005)


def main(root: str, keyer_id: str, username: str, batch: str, fields: int) -> None:
    make_application()
    ws = Workspace(Path(root))
    local, central = open_local(ws.local_url), open_central(ws.embedded_central_url)
    actor = auth.Actor(uuid.UUID(keyer_id), username, "keyer")
    home = KeyingHomeWidget(actor, local, lambda: central)
    home.resize(1300, 850)
    home.show()
    _wait(lambda: not home._loading)
    row = next(i for i, r in enumerate(home.model.rows) if (r.kind, r.batch_name, r.pass_no) == (CLAIM, batch, 1))
    home.view.setCurrentIndex(home.model.index(row, 0))
    QTest.keyClick(home.view, Qt.Key.Key_Return)
    _wait(lambda: home.keying is not None)
    keying = home.keying
    assert keying is not None
    truth = demo_truth(ws, batch)
    key_document(_Keys, keying, truth[keying.session.document.source_name])
    doc = truth[keying.session.document.source_name]
    for _ in range(fields):
        key_value(_Keys, keying, doc.values.get(keying.session.path, ""))
    _wait(lambda: keying.writer.pending == 0)  # each field left is committed by the writer thread
    QTest.keyClicks(current_edit(keying), "HALF")  # typed, not left: the one thing a crash may lose
    print(f"READY {keying.session.doc_index} {keying.session.path}", flush=True)
    while True:
        QApplication.processEvents()
        time.sleep(0.01)


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4], int(sys.argv[5]))
