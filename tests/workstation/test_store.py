"""The schema and the store settings that keep keyed work safe."""

from __future__ import annotations

import datetime as dt

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import text
from sqlalchemy.exc import IntegrityError

from workstation import models as m
from workstation.migrate import current_revision, head_revision
from workstation.store import Store


def test_local_store_uses_wal_full_sync_and_foreign_keys(local: Store) -> None:
    with local.engine.connect() as conn:
        assert conn.execute(text("PRAGMA journal_mode")).scalar() == "wal"
        assert conn.execute(text("PRAGMA synchronous")).scalar() == 2  # FULL
        assert conn.execute(text("PRAGMA foreign_keys")).scalar() == 1


def test_central_schema_is_at_head_and_matches_the_models(central: Store) -> None:
    assert current_revision(central) == head_revision()
    with central.engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn), m.Base.metadata)
    assert diff == [], f"models and migrations differ: {diff}"


def _seed_document(s) -> tuple[m.Document, m.User, m.User]:
    tpl = m.Template(name="t", version=1, source="x", sha256="0" * 64)
    s.add(tpl)
    s.flush()
    batch = m.Batch(name="b", template_id=tpl.id)
    s.add(batch)
    s.flush()
    doc = m.Document(batch_id=batch.id, seq=1)
    a = m.User(username="a", role="keyer", password_hash="x")
    b = m.User(username="b", role="keyer", password_hash="x")
    s.add_all([doc, a, b])
    s.flush()
    return doc, a, b


def test_schema_refuses_two_entries_by_one_keyer_for_one_document(central: Store) -> None:
    with pytest.raises(IntegrityError):
        with central.transaction() as s:
            doc, a, _ = _seed_document(s)
            s.add(m.Entry(document_id=doc.id, pass_no=1, keyer_id=a.id))
            s.flush()
            s.add(m.Entry(document_id=doc.id, pass_no=2, keyer_id=a.id))
            s.flush()


def test_schema_refuses_two_entries_for_one_pass_of_one_document(central: Store) -> None:
    with pytest.raises(IntegrityError):
        with central.transaction() as s:
            doc, a, b = _seed_document(s)
            s.add(m.Entry(document_id=doc.id, pass_no=1, keyer_id=a.id))
            s.flush()
            s.add(m.Entry(document_id=doc.id, pass_no=1, keyer_id=b.id))
            s.flush()


def test_schema_refuses_a_keyer_holding_two_tasks_of_one_document(central: Store) -> None:
    with pytest.raises(IntegrityError):
        with central.transaction() as s:
            doc, a, _ = _seed_document(s)
            s.add(m.Task(batch_id=doc.batch_id, document_id=doc.id, pass_no=1, keyer_id=a.id))
            s.add(m.Task(batch_id=doc.batch_id, document_id=doc.id, pass_no=2, keyer_id=a.id))
            s.flush()


def test_unclaimed_tasks_of_one_document_do_not_collide(central: Store) -> None:
    with central.transaction() as s:
        doc, _, _ = _seed_document(s)
        s.add(m.Task(batch_id=doc.batch_id, document_id=doc.id, pass_no=1))
        s.add(m.Task(batch_id=doc.batch_id, document_id=doc.id, pass_no=2))
    with central.session() as s:
        assert len(s.scalars(text("select id from tasks")).all()) == 2


def test_times_come_back_as_utc(central: Store) -> None:
    moment = dt.datetime(2026, 3, 1, 12, 30, tzinfo=dt.timezone(dt.timedelta(hours=5, minutes=30)))
    with central.transaction() as s:
        user = m.User(username="u", role="qa", password_hash="x", created_at=moment)
        s.add(user)
    with central.session() as s:
        back = s.get(m.User, user.id)
        assert back is not None
        assert back.created_at == moment
        assert back.created_at.utcoffset() == dt.timedelta(0)


def test_foreign_keys_are_enforced(central: Store) -> None:
    with pytest.raises(IntegrityError):
        with central.transaction() as s:
            s.add(m.Page(document_id=m.new_id(), page_no=1, image_sha256="f" * 64))
            s.flush()


def test_a_server_that_accepts_but_never_answers_fails_instead_of_hanging(monkeypatch: pytest.MonkeyPatch) -> None:
    import socket
    import threading

    from workstation import store as store_module
    from workstation.errors import DatabaseUnavailable
    from workstation.store import open_central

    monkeypatch.setattr(store_module, "CONNECT_TIMEOUT_S", 1)
    silent = socket.socket()
    silent.bind(("127.0.0.1", 0))
    silent.listen(8)  # the kernel completes the handshake; nobody ever speaks PostgreSQL
    port = silent.getsockname()[1]
    outcome: list[BaseException] = []

    def connect() -> None:
        try:
            open_central(f"postgresql+psycopg://keyer@127.0.0.1:{port}/central")
        except BaseException as exc:  # noqa: BLE001 - examined below
            outcome.append(exc)

    worker = threading.Thread(target=connect, daemon=True)
    worker.start()
    worker.join(60)  # without a connect timeout this waits for the OS's TCP timeout (minutes)
    silent.close()
    assert not worker.is_alive(), "connecting to a silent server did not give up"
    assert len(outcome) == 1 and isinstance(outcome[0], DatabaseUnavailable)



@pytest.mark.pg
def test_a_pooled_connection_cut_while_idle_is_replaced_before_use(pg_schema_url: str) -> None:
    store = Store(pg_schema_url)
    with store.engine.connect() as conn:
        first_pid = conn.execute(text("SELECT pg_backend_pid()")).scalar()
    admin = Store(pg_schema_url)
    with admin.engine.begin() as conn:  # the server restarts, a firewall drops the idle link...
        assert conn.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": first_pid}).scalar()
    admin.dispose()
    with store.engine.connect() as conn:  # ...and the next action still works, on a new connection
        assert conn.execute(text("SELECT pg_backend_pid()")).scalar() != first_pid
    store.dispose()
