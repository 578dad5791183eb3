"""What every command needs: the workspace, the stores, logging."""

from __future__ import annotations

import argparse
import importlib
import logging
import threading
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from workstation.logsetup import configure_logging
from workstation.paths import Workspace, central_url, workspace

if TYPE_CHECKING:  # imported when first used: the desktop start does not wait for SQLAlchemy
    from workstation.store import Store


@dataclass
class CliContext:
    ws: Workspace
    central_url: str
    verbose: bool = False
    _local: Store | None = field(default=None, repr=False)
    _central: Store | None = field(default=None, repr=False)
    # The desktop opens the stores from several background tasks at once (the keying home, the
    # sync worker, the QA page): the first open migrates the embedded database, exactly once.
    _opening: threading.Lock = field(default_factory=threading.Lock, repr=False, compare=False)

    @classmethod
    def from_args(cls, args: argparse.Namespace) -> "CliContext":
        ws = workspace(getattr(args, "data_dir", None))
        verbose = bool(getattr(args, "verbose", False))
        configure_logging(ws.log_dir, verbose=verbose)
        return cls(ws=ws, central_url=central_url(ws, getattr(args, "central", None)), verbose=verbose)

    def local(self) -> Store:
        with self._opening:
            if self._local is None:
                from workstation.store import open_local

                self._local = open_local(self.ws.local_url)
            return self._local

    def central(self, *, create: bool = False) -> Store:
        """The central database; the embedded default is created on first use."""
        with self._opening:
            if self._central is None:
                from workstation.secrets import with_password
                from workstation.store import open_central

                embedded = self.central_url == self.ws.embedded_central_url
                self._central = open_central(with_password(self.central_url), create=create or embedded)
            return self._central

    @staticmethod
    def os_user() -> str:
        """Who ran a headless command, for the audit log (`os:` marks it as not an account)."""
        import getpass

        try:
            return f"os:{getpass.getuser()}"[:64]
        except Exception:  # noqa: BLE001 - no user name in the environment
            return "os:unknown"

    def open_gui(self) -> int:
        # The UI is found by name at run time: the core has no import-time dependency on it,
        # and headless commands never load Qt.
        app = importlib.import_module("ui.app")
        return int(app.run(self))

    def close(self) -> None:
        for store in (self._local, self._central):
            if store is not None:
                store.dispose()
        logging.getLogger(__name__).debug("stores closed")
