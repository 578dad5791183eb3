"""Roles are enforced inside every core service, not by the UI: one row per service and role.

Each service is called as each role. A role the service must refuse gets `PermissionDenied`
before anything is read or changed; a role it must allow gets past the check (the call may
then fail for another reason, e.g. a batch that does not exist, which is fine here).

Rows marked `MISSING` are services that do not check the role yet: they are strict xfails
naming the function, so the suite stays green until the owner adds the check, and fails
(XPASS) the moment it works, as a reminder to drop the mark.
"""

from __future__ import annotations

import shutil
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select, update

from tests.workstation.centralseed import add_user, sample_template, seed_batch
from tests.workstation.localseed import seed_unit
from workstation import audit, auth, catalog, export, importer, metrics, page_problems, qa, sync, work
from workstation import models as m
from workstation.auth import Actor
from workstation.errors import KnownError, PermissionDenied
from workstation.keying import KeyingSession
from workstation.store import Store, open_central, open_local

ROLES = ("keyer", "qa", "supervisor", "admin")


@dataclass
class World:
    central: Store
    local: Store
    tmp: Path
    actors: dict[str, Actor]
    batch_id: uuid.UUID


@pytest.fixture(scope="module")
def prototype(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, Actor], uuid.UUID]:
    """The databases made once (migrating is slow); each test works on its own copy."""
    folder = tmp_path_factory.mktemp("roles")
    central = open_central(f"sqlite:///{folder / 'central.sqlite'}", create=True)
    open_local(f"sqlite:///{folder / 'local.sqlite'}").dispose()
    actors = {}
    for role in ROLES:
        user_id = add_user(central, f"{role}1", role)
        actors[role] = Actor(user_id, f"{role}1", role)
    add_user(central, "other", "keyer")  # whose account the user services change
    batch = seed_batch(central, documents=1, name="B1")
    central.dispose()
    return folder, actors, batch.batch_id


@pytest.fixture
def world(prototype: tuple[Path, dict[str, Actor], uuid.UUID], tmp_path: Path) -> Iterator[World]:
    # SQLite only: the checks run before any SQL, the dialect does not matter for them.
    folder, actors, batch_id = prototype
    for name in ("central.sqlite", "local.sqlite"):
        shutil.copyfile(folder / name, tmp_path / name)
    central = Store(f"sqlite:///{tmp_path / 'central.sqlite'}")
    local = Store(f"sqlite:///{tmp_path / 'local.sqlite'}")
    yield World(central, local, tmp_path, actors, batch_id)
    central.dispose()
    local.dispose()


Call = Callable[[World, Actor], Any]


def _open_local_unit(w: World, actor: Actor) -> Any:
    """Open keying of a unit held by `actor` as the station's local store holds it (with their role)."""
    unit = seed_unit(w.local, "rebate", documents=1, username=actor.username)
    with w.local.transaction() as s:
        s.execute(update(m.User).where(m.User.id == unit.keyer_id).values(role=actor.role))
    return KeyingSession.open(w.local, unit.unit_id, unit.keyer_id)


def _report_page(w: World, actor: Actor) -> Any:
    """F8 on a unit held by `actor` in the station's local store (with their role)."""
    unit = seed_unit(w.local, "rebate", documents=1, username=actor.username)
    with w.local.transaction() as s:
        s.execute(update(m.User).where(m.User.id == unit.keyer_id).values(role=actor.role))
    return page_problems.report_page(w.local, unit.keyer_id, unit.unit_id, unit.document_ids[0], 1)


def _export(w: World, a: Actor) -> Any:
    with w.central.session() as s:
        return export.export_batch(s, "no such batch", "csv", w.tmp / "out.csv", by=a)


def _export_audit(w: World, a: Actor) -> Any:
    with w.central.session() as s:
        return export.export_audit(s, "no such batch", w.tmp / "out.audit.csv", by=a)


def _audit_export(w: World, a: Actor) -> Any:
    with w.central.session() as s:
        return audit.export_csv(s, w.tmp / "audit.csv", by=a)


def _import(w: World, a: Actor) -> Any:
    return importer.import_paths(w.central, sample_template("rebate"), "new", [w.tmp / "no-scans-here"], by=a)


def _claim(w: World, a: Actor) -> Any:
    return work.claim(w.central, a.id, batch_id=w.batch_id, pass_no=1)


# service name -> (call, roles refused, the function that lacks the check or "")
SERVICES: dict[str, tuple[Call, tuple[str, ...], str]] = {
    "work offers": (lambda w, a: work.available_work(w.central, a.id), ("supervisor",),
                    ""),
    "work claim": (_claim, ("supervisor",), ""),
    "keying session open": (_open_local_unit, ("supervisor",),
                            ""),
    "qa queue": (lambda w, a: qa.qa_queue(w.central, a), ("keyer", "supervisor"), ""),
    "qa decide": (lambda w, a: qa.decide(w.central, a, uuid.uuid4(), value="x"), ("keyer", "supervisor"), ""),
    "qa undo": (lambda w, a: qa.undo_last(w.central, a, uuid.uuid4()), ("keyer", "supervisor"), ""),
    "qa close document": (lambda w, a: qa.close_document(w.central, a, uuid.uuid4()), ("keyer", "supervisor"), ""),
    "dashboard, whole floor": (lambda w, a: metrics.load_dashboard(w.central, a, metrics.Filters()),
                               ("keyer", "qa"), ""),
    "dashboard, another keyer": (lambda w, a: metrics.load_dashboard(
        w.central, a, metrics.Filters(keyer_id=w.actors["keyer"].id if a.role != "keyer" else w.actors["qa"].id)),
        ("keyer", "qa"), ""),
    "dashboard, own figures": (lambda w, a: metrics.load_dashboard(w.central, a, metrics.Filters(keyer_id=a.id)),
                               (), ""),
    "export final values": (_export, ("keyer", "qa"), ""),
    "export per-entry audit": (_export_audit, ("keyer", "qa"), ""),
    "import": (_import, ("keyer", "qa", "supervisor"), ""),
    "users add": (lambda w, a: auth.create_user(w.central, a, "newbie", "keyer", "long-enough-pw"),
                  ("keyer", "qa", "supervisor"), ""),
    "users list": (lambda w, a: auth.list_users(w.central, a), ("keyer", "qa"), ""),
    "users change role": (lambda w, a: auth.set_role(w.central, a, "other", "qa"), ("keyer", "qa", "supervisor"), ""),
    "users disable": (lambda w, a: auth.set_active(w.central, a, "other", False), ("keyer", "qa", "supervisor"), ""),
    "users reset another's password": (lambda w, a: auth.set_password(w.central, a, "other", "a-new-password"),
                                       ("keyer", "qa", "supervisor"), ""),
    "templates add": (lambda w, a: catalog.add_template(w.central, a, sample_template("survey")),
                      ("keyer", "qa", "supervisor"), ""),
    "audit export": (_audit_export, ("keyer", "qa"), ""),
    "page problem report": (_report_page, ("supervisor",), ""),
    "page problems list": (lambda w, a: page_problems.page_problems(w.central, a, open_only=False), ("keyer",), ""),
    "page problem close": (lambda w, a: page_problems.close_problem(w.central, a, uuid.uuid4(), "rescanned"),
                           ("keyer",), ""),
}


def _cases() -> Iterator[Any]:
    for name, (_call, refused, missing) in SERVICES.items():
        for role in ROLES:
            must_refuse = role in refused
            marks = []
            if must_refuse and missing:
                marks.append(pytest.mark.xfail(
                    reason=f"MISSING role check: {missing}", strict=True,
                    raises=(TypeError, pytest.fail.Exception, KnownError)))
            yield pytest.param(name, role, must_refuse, marks=marks, id=f"{name}-{role}")


@pytest.mark.parametrize(("service", "role", "must_refuse"), list(_cases()))
def test_each_service_checks_the_acting_role(world: World, service: str, role: str, must_refuse: bool) -> None:
    call = SERVICES[service][0]
    actor = world.actors[role]
    if must_refuse:
        with pytest.raises(PermissionDenied):
            call(world, actor)
        return
    try:
        call(world, actor)
    except PermissionDenied as exc:  # pragma: no cover - the failure message is the point
        pytest.fail(f"{role} was refused {service}: {exc}")
    except KnownError:
        pass  # past the role check; the missing batch/dispute/user is not what this test is about


def test_the_permission_table_names_every_role_it_grants() -> None:
    for action, roles in auth.PERMISSIONS.items():
        assert set(roles) <= set(m.ROLES) - {"admin"}, action
        assert auth.roles_for(action)[-1] == "admin"
    assert not auth.allowed(Actor(uuid.uuid4(), "k", "keyer"), "export")
    assert auth.allowed(Actor(uuid.uuid4(), "a", "admin"), "import")


def test_a_service_handed_a_user_id_reads_the_role_from_the_database(world: World) -> None:
    """A made-up Actor with a grand role does not help: `require_user` trusts only the row."""
    keyer = world.actors["keyer"]
    with world.central.session() as s:
        assert auth.require_user(s, keyer.id, "work.claim").role == "keyer"
        with pytest.raises(PermissionDenied):
            auth.require_user(s, keyer.id, "export")
        with pytest.raises(KnownError, match="does not exist"):
            auth.require_user(s, uuid.uuid4(), "work.claim")
    auth.set_active(world.central, world.actors["admin"], "keyer1", False)
    with world.central.session() as s, pytest.raises(PermissionDenied, match="disabled"):
        auth.require_user(s, keyer.id, "work.claim")


def test_a_refused_export_writes_nothing_and_an_allowed_one_is_audited(world: World) -> None:
    out = world.tmp / "final.csv"
    with world.central.session() as s, pytest.raises(PermissionDenied):
        export.export_batch(s, "B1", "csv", out, by=world.actors["keyer"], partial=True)
    assert not out.exists()
    with world.central.transaction() as s:
        export.export_batch(s, "B1", "csv", out, by=world.actors["supervisor"], partial=True)
    assert out.exists()
    with world.central.session() as s:
        events = [(e.action, e.username, e.subject) for e in s.scalars(select(m.AuditEvent))]
    assert ("export", "supervisor1", "B1") in events


def test_a_keyer_cannot_pull_another_keyers_unit(world: World) -> None:
    """Pulling copies a unit's scans to a station: only for the unit's own keyer."""
    ann = world.actors["keyer"]
    bob_id = add_user(world.central, "bob", "keyer")
    claimed = work.claim(world.central, ann.id, batch_id=world.batch_id, pass_no=1)
    bob = Actor(bob_id, "bob", "keyer")
    try:
        sync.pull(world.central, world.local, claimed, by=bob)  # type: ignore[call-arg]
    except TypeError:
        pytest.xfail("MISSING acting user: workstation.sync.pull has no `by` parameter, so it cannot refuse")
    except PermissionDenied:
        return
    pytest.fail("bob pulled ann's unit")


def test_a_push_for_a_unit_that_is_not_the_senders_is_refused(world: World) -> None:
    ann = world.actors["keyer"]
    claimed = work.claim(world.central, ann.id, batch_id=world.batch_id, pass_no=1)
    payload = {"version": sync.PAYLOAD_VERSION, "kind": sync.UNIT_FINISHED, "unit_id": claimed.unit_id,
               "keyer_id": world.actors["qa"].id, "entries": [], "values": []}
    with world.central.transaction() as s, pytest.raises(KnownError, match="belongs to another keyer"):
        sync.apply_unit(s, payload)
