"""Network stand-ins for sync tests: a TCP proxy that can be cut, and a server that refuses logins.

`TcpProxy` sits between a Store and the real PostgreSQL. Stopping it closes the listening port
and every live connection, as a pulled cable or a crashed server would; starting it again
listens on the same port, so the same URL works again. Nothing in the code under test is
replaced: it talks to a real socket that really goes away.

`PasswordRefusingServer` speaks just enough of the PostgreSQL wire protocol to ask for a
password and refuse it with SQLSTATE 28P01, as a server with password authentication does for a
wrong password (the test server itself trusts everyone, so it cannot show that).
"""

from __future__ import annotations

import socket
import struct
import threading
from collections.abc import Callable

_SSL_REQUEST = 80877103
_GSS_REQUEST = 80877104


def _close(sock: socket.socket) -> None:
    try:
        sock.shutdown(socket.SHUT_RDWR)
    except OSError:
        pass
    sock.close()


class _Listener:
    """A loopback listening socket with an accept loop on a daemon thread."""

    def __init__(self, handle: Callable[[socket.socket], None], port: int = 0) -> None:
        self._handle = handle
        self._lock = threading.Lock()
        self._server: socket.socket | None = None
        self._thread: threading.Thread | None = None
        self.port = port
        self.connections: list[socket.socket] = []

    def start(self) -> None:
        server = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        server.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        server.bind(("127.0.0.1", self.port))
        server.listen(16)
        self.port = server.getsockname()[1]
        self._server = server
        self._thread = threading.Thread(target=self._accept, args=(server,), daemon=True, name=f"listener-{self.port}")
        self._thread.start()

    def _accept(self, server: socket.socket) -> None:
        while True:
            try:
                client, _ = server.accept()
            except OSError:
                return  # closed by stop()
            with self._lock:
                self.connections.append(client)
            threading.Thread(target=self._handle, args=(client,), daemon=True).start()

    def stop(self) -> None:
        """Stop listening and cut every connection made so far."""
        server, self._server = self._server, None
        if server is not None:
            _close(server)
        if self._thread is not None:
            self._thread.join(5)
            self._thread = None
        with self._lock:
            live, self.connections = self.connections, []
        for sock in live:
            _close(sock)


class TcpProxy(_Listener):
    """Forwards loopback connections to (host, port) until stopped."""

    def __init__(self, host: str, port: int) -> None:
        super().__init__(self._forward)
        self.target = (host, port)
        self.accepted = 0
        self.url = ""  # a database URL through the proxy, set by whoever made it

    def _forward(self, client: socket.socket) -> None:
        try:
            upstream = socket.create_connection(self.target, timeout=5)
        except OSError:
            _close(client)
            return
        upstream.settimeout(None)
        with self._lock:
            self.accepted += 1
            if self._server is None:  # stopped meanwhile
                _close(upstream)
                return
            self.connections.append(upstream)
        threading.Thread(target=self._pump, args=(upstream, client), daemon=True).start()
        self._pump(client, upstream)

    @staticmethod
    def _pump(source: socket.socket, sink: socket.socket) -> None:
        try:
            while data := source.recv(65536):
                sink.sendall(data)
        except OSError:
            pass
        finally:
            # One direction ended: end both, as a cut connection would.
            for sock in (source, sink):
                try:
                    sock.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass


def _read_exact(sock: socket.socket, size: int) -> bytes:
    data = b""
    while len(data) < size:
        chunk = sock.recv(size - len(data))
        if not chunk:
            raise ConnectionError("client went away")
        data += chunk
    return data


class PasswordRefusingServer(_Listener):
    """Asks every client for a cleartext password and refuses it (SQLSTATE 28P01)."""

    def __init__(self) -> None:
        super().__init__(self._serve)
        self.passwords: list[str] = []

    def _serve(self, client: socket.socket) -> None:
        try:
            while True:  # startup packet; SSL and GSS encryption requests are declined
                (length,) = struct.unpack("!I", _read_exact(client, 4))
                body = _read_exact(client, length - 4)
                (code,) = struct.unpack("!I", body[:4])
                if code in (_SSL_REQUEST, _GSS_REQUEST):
                    client.sendall(b"N")
                    continue
                fields = body[4:].split(b"\x00")
                user = dict(zip(fields[::2], fields[1::2], strict=False)).get(b"user", b"").decode()
                break
            client.sendall(b"R" + struct.pack("!II", 8, 3))  # AuthenticationCleartextPassword
            kind = _read_exact(client, 1)
            (length,) = struct.unpack("!I", _read_exact(client, 4))
            password = _read_exact(client, length - 4).rstrip(b"\x00").decode()
            if kind == b"p":
                self.passwords.append(password)
            message = f'password authentication failed for user "{user}"'.encode()
            error = b"SFATAL\x00VFATAL\x00C28P01\x00M" + message + b"\x00\x00"
            client.sendall(b"E" + struct.pack("!I", len(error) + 4) + error)
        except (OSError, ConnectionError):
            pass
        finally:
            _close(client)
