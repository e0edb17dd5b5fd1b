"""Drives `gomomo serve` through the client generated from its OpenAPI document (no
hand-written HTTP): the public booking lifecycle, people and keys, the schedule, bookings
as staff see them and make them for walk-ins (moved, with their history), the Excel dead
letters, the demo owner's sign-in, and the audit trail. Exits non-zero on the first surprise.

    PYTHONPATH=target/api-client python flow.py http://127.0.0.1:PORT seed.json
"""

import datetime
import json
import sys
import uuid
from http import HTTPStatus

from gomomo_client import AuthenticatedClient, Client
from gomomo_client.api.admin import list_bookings, list_resources
from gomomo_client.api.audit import list_audit
from gomomo_client.api.people import (
    create_key,
    create_user,
    list_keys,
    me,
    revoke_key,
    rotate_key,
    sign_in,
    sign_out,
)
from gomomo_client.api.public import (
    availability,
    cancel_booking,
    confirm_booking,
    create_hold,
    create_session,
    get_tenant,
    healthz,
    lookup_booking,
    move_availability,
    reschedule_booking,
)
from gomomo_client.api.operations import (
    delete_number,
    get_admin_email,
    list_notifications,
    list_numbers,
    list_waitlist,
    put_admin_email,
    put_number,
)
from gomomo_client.api.policies import create_policy, delete_policy, list_policies, update_policy
from gomomo_client.api.rules import admin_cancel_booking
from gomomo_client.api.schedule import create_exception, delete_exception, list_exceptions
from gomomo_client.api.excel import list_dead_letters
from gomomo_client.api.staff import booking_detail, staff_create_booking, staff_reschedule_booking
from gomomo_client.models import (
    AdminEmailBody,
    AvailabilityView,
    BookingView,
    CancelRequest,
    ConfirmRequest,
    CreateKeyRequest,
    CreateUserRequest,
    ErrorBody,
    ExceptionKind,
    ExceptionRequest,
    HoldRequest,
    HoldRescheduleOf,
    HoldView,
    LookupRequest,
    MoveAvailabilityRequest,
    PhoneNumberRequest,
    PolicyEffect,
    PolicyRequest,
    PolicyRequestConditions,
    RescheduleRequest,
    Role,
    SignInRequest,
    StaffBookingRequest,
    StaffBookingView,
    StaffRescheduleRequest,
)

STEPS = 0


def check(cond, what):
    global STEPS
    if not cond:
        print(f"FAILED: {what}", file=sys.stderr)
        sys.exit(1)
    STEPS += 1


def ok(resp, status, what):
    check(resp.status_code == status, f"{what}: HTTP {resp.status_code}, expected {int(status)}: {resp.content[:300]!r}")
    return resp.parsed


def error_code(resp):
    return resp.parsed.error.code if isinstance(resp.parsed, ErrorBody) else None


def first_slots(public, tenant, service, days=14):
    """The first date within `days` with at least three free slots, and its slots."""
    today = datetime.date.today()
    for offset in range(1, days):
        day = today + datetime.timedelta(days=offset)
        view = ok(
            availability.sync_detailed(tenant, client=public, service=service, from_=day, to=day),
            HTTPStatus.OK,
            f"availability {day}",
        )
        check(isinstance(view, AvailabilityView), "availability answers an AvailabilityView")
        if len(view.slots) >= 3:
            return day, view.slots
    check(False, "no day with free slots in two weeks")


def main(base, seed_path):
    seed = json.load(open(seed_path))
    tenant = uuid.UUID(seed["tenant_id"])
    public = Client(base_url=base, raise_on_unexpected_status=True)
    key = AuthenticatedClient(base_url=base, token=seed["api_key"], raise_on_unexpected_status=True)

    check(ok(healthz.sync_detailed(client=public), HTTPStatus.OK, "healthz").database == "ok", "database ok")
    profile = ok(get_tenant.sync_detailed(tenant, client=public), HTTPStatus.OK, "tenant profile")
    service = profile.services[0].id

    # --- a client books, looks up, moves and cancels -------------------------------------
    day, slots = first_slots(public, tenant, service)
    session = ok(create_session.sync_detailed(tenant, client=public), HTTPStatus.CREATED, "session").session_id
    hold = ok(
        create_hold.sync_detailed(
            tenant, client=public, body=HoldRequest(service_id=str(service), start=slots[0].start, session_id=session)
        ),
        HTTPStatus.CREATED,
        "hold",
    )
    check(isinstance(hold, HoldView) and hold.service_id == service, "the hold is of the service")
    email = f"client-{uuid.uuid4().hex[:8]}@example.com"
    confirm = ConfirmRequest(
        hold_id=str(hold.hold_id), session_id=hold.session_id, client_name="Ana Client", client_email=email
    )
    booking = ok(confirm_booking.sync_detailed(tenant, client=public, body=confirm), HTTPStatus.CREATED, "confirm")
    check(isinstance(booking, BookingView) and booking.status == "confirmed", "booked")
    again = confirm_booking.sync_detailed(tenant, client=public, body=confirm)
    check(again.status_code == HTTPStatus.OK and again.parsed.reference == booking.reference, "confirm is idempotent")

    # A hold that does not exist is a clear 404, not a booking.
    unknown = confirm_booking.sync_detailed(
        tenant,
        client=public,
        body=ConfirmRequest(
            hold_id=str(uuid.uuid4()), session_id=hold.session_id, client_name="Ana Client", client_email=email
        ),
    )
    check(unknown.status_code == HTTPStatus.NOT_FOUND and error_code(unknown) == "hold_not_found", "unknown hold 404")

    found = ok(
        lookup_booking.sync_detailed(tenant, booking.reference, client=public, body=LookupRequest(email=email)),
        HTTPStatus.OK,
        "lookup",
    )
    check(found.start == booking.start, "lookup finds the booking")
    wrong = lookup_booking.sync_detailed(
        tenant, booking.reference, client=public, body=LookupRequest(email="someone@example.com")
    )
    check(error_code(wrong) == "booking_not_found", "a wrong email finds nothing")

    moves = ok(
        move_availability.sync_detailed(
            tenant,
            booking.reference,
            client=public,
            body=MoveAvailabilityRequest(email=email, from_=day, to=day),
        ),
        HTTPStatus.OK,
        "move availability",
    )
    target = next(s for s in moves.slots if s.start != booking.start)
    move_hold = ok(
        create_hold.sync_detailed(
            tenant,
            client=public,
            body=HoldRequest(
                service_id=str(service),
                start=target.start,
                session_id=session,
                reschedule=HoldRescheduleOf(reference=booking.reference, email=email),
            ),
        ),
        HTTPStatus.CREATED,
        "hold to move",
    )
    moved = ok(
        reschedule_booking.sync_detailed(
            tenant,
            booking.reference,
            client=public,
            body=RescheduleRequest(email=email, hold_id=str(move_hold.hold_id), session_id=session),
        ),
        HTTPStatus.OK,
        "reschedule",
    )
    check(moved.start == target.start and moved.sequence > booking.sequence, "the booking moved")
    cancelled = ok(
        cancel_booking.sync_detailed(tenant, booking.reference, client=public, body=CancelRequest(email=email)),
        HTTPStatus.OK,
        "cancel",
    )
    check(cancelled.status == "cancelled", "cancelled")

    # --- people and keys ----------------------------------------------------------------
    owner_email = f"owner-{uuid.uuid4().hex[:6]}@clinic.example"
    password = "a long enough password"
    user = ok(
        create_user.sync_detailed(
            tenant,
            client=key,
            body=CreateUserRequest(email=owner_email, role=Role.OWNER, password=password, name="Olga Owner"),
        ),
        HTTPStatus.CREATED,
        "create user",
    )
    signed = ok(
        sign_in.sync_detailed(client=public, body=SignInRequest(email=owner_email, password=password)),
        HTTPStatus.OK,
        "sign in",
    )
    check(signed.token.startswith("gms_") and signed.tenant_id == tenant, "a session token of the tenant")
    person = AuthenticatedClient(base_url=base, token=signed.token, raise_on_unexpected_status=True)
    who = ok(me.sync_detailed(tenant, client=person), HTTPStatus.OK, "me")
    check(who.kind == "user" and who.role == Role.OWNER and who.id == user.id, "me is the owner")

    issued = ok(
        create_key.sync_detailed(tenant, client=person, body=CreateKeyRequest(name="flow", role=Role.STAFF)),
        HTTPStatus.CREATED,
        "create key",
    )
    machine = AuthenticatedClient(base_url=base, token=issued.key, raise_on_unexpected_status=True)
    ok(list_resources.sync_detailed(tenant, client=machine), HTTPStatus.OK, "the new key works")
    rotated = ok(rotate_key.sync_detailed(tenant, issued.id, client=person), HTTPStatus.CREATED, "rotate key")
    stale = list_resources.sync_detailed(tenant, client=machine)
    check(stale.status_code == HTTPStatus.UNAUTHORIZED, "the rotated-out key stops working")
    revoked = ok(revoke_key.sync_detailed(tenant, rotated.id, client=person), HTTPStatus.OK, "revoke key")
    check(revoked.revoked_at is not None, "revoked")
    prefixes = [k.prefix for k in ok(list_keys.sync_detailed(tenant, client=person), HTTPStatus.OK, "list keys")]
    check(issued.prefix in prefixes and rotated.prefix in prefixes, "keys are listed by prefix")

    # --- the schedule, staff's view and the audit trail -----------------------------------
    closure_day = datetime.date.today() + datetime.timedelta(days=200)
    change = ok(
        create_exception.sync_detailed(
            tenant, client=person, body=ExceptionRequest(kind=ExceptionKind.CLOSED, start_date=closure_day, note="flow closure")
        ),
        HTTPStatus.CREATED,
        "add a closure",
    )
    listed = ok(list_exceptions.sync_detailed(tenant, client=person), HTTPStatus.OK, "list exceptions")
    check(any(x.id == change.exception.id for x in listed.exceptions), "the closure is listed")
    ok(delete_exception.sync_detailed(tenant, change.exception.id, client=person), HTTPStatus.OK, "delete closure")

    staff_view = ok(
        list_bookings.sync_detailed(tenant, client=person, from_=day, to=day), HTTPStatus.OK, "list bookings"
    )
    check(any(b.reference == booking.reference for b in staff_view.bookings), "staff see the booking")

    # A second booking, cancelled by staff; the audit row names the person.
    _, slots = first_slots(public, tenant, service)
    hold2 = ok(
        create_hold.sync_detailed(tenant, client=public, body=HoldRequest(service_id=str(service), start=slots[-1].start)),
        HTTPStatus.CREATED,
        "second hold",
    )
    second = ok(
        confirm_booking.sync_detailed(
            tenant,
            client=public,
            body=ConfirmRequest(
                hold_id=str(hold2.hold_id), session_id=hold2.session_id, client_name="Ben", client_email=email
            ),
        ),
        HTTPStatus.CREATED,
        "second booking",
    )
    ok(admin_cancel_booking.sync_detailed(tenant, second.reference, client=person), HTTPStatus.OK, "staff cancel")
    rows = ok(
        list_audit.sync_detailed(tenant, client=person, event_type="booking.cancelled", limit=10),
        HTTPStatus.OK,
        "audit",
    )
    staff_row = next((r for r in rows if r.payload.get("reference") == second.reference), None)
    check(staff_row is not None, "the staff cancel is audited")
    check(staff_row.actor == f"admin_user:{user.id}" and staff_row.actor_label == owner_email, "it names the person")
    client_row = next((r for r in rows if r.payload.get("reference") == booking.reference), None)
    check(client_row is not None and client_row.actor == "client", "the client's cancel names the client")

    # --- staff at the desk: a walk-in booked, refused twice over, moved, its history --------
    day3, slots3 = first_slots(public, tenant, service)
    walk_in = StaffBookingRequest(
        service_id=str(service),
        start=slots3[1].start,
        client_name="Walk In",
        client_email=f"walkin-{uuid.uuid4().hex[:6]}@example.com",
        client_phone="+15555550123",
        notes="came to the desk",
    )
    desk = ok(staff_create_booking.sync_detailed(tenant, client=person, body=walk_in), HTTPStatus.CREATED, "walk-in")
    check(isinstance(desk, StaffBookingView) and desk.status == "confirmed", "the walk-in is booked")
    same_staff = StaffBookingRequest.from_dict({**walk_in.to_dict(), "resource_id": str(desk.resource_id)})
    refused = staff_create_booking.sync_detailed(tenant, client=person, body=same_staff)
    check(
        refused.status_code == HTTPStatus.CONFLICT and error_code(refused) == "slot_unavailable",
        "the same staff member at the same time is refused",
    )
    listed_day = ok(
        list_bookings.sync_detailed(tenant, client=person, from_=day3, to=day3), HTTPStatus.OK, "list the day"
    )
    check(any(b.reference == desk.reference for b in listed_day.bookings), "the walk-in is listed")
    moved_desk = ok(
        staff_reschedule_booking.sync_detailed(
            tenant, desk.reference, client=person, body=StaffRescheduleRequest(start=slots3[2].start)
        ),
        HTTPStatus.OK,
        "staff reschedule",
    )
    check(
        moved_desk.reference == desk.reference and moved_desk.start == slots3[2].start,
        "moved, the reference kept",
    )
    detail = ok(booking_detail.sync_detailed(tenant, desk.reference, client=person), HTTPStatus.OK, "booking detail")
    events = [r.event_type for r in detail.history]
    check(
        detail.booking.id == desk.id and events[-2:] == ["booking.confirmed", "booking.rescheduled"],
        f"the history in order: {events}",
    )
    check(all(r.actor == f"admin_user:{user.id}" for r in detail.history), "every row names the person")
    letters = ok(list_dead_letters.sync_detailed(tenant, client=person), HTTPStatus.OK, "dead letters")
    check(isinstance(letters, list), "the dead letters are listed")

    # The demo owner that seed-demo made signs in (the password is printed on its first run).
    if seed.get("owner_email") and seed.get("owner_password"):
        demo_owner = ok(
            sign_in.sync_detailed(
                client=public, body=SignInRequest(email=seed["owner_email"], password=seed["owner_password"])
            ),
            HTTPStatus.OK,
            "the demo owner signs in",
        )
        check(demo_owner.user.role == Role.OWNER, "the demo owner is an owner")

    # --- operations: notifications, the waitlist, the admin email, numbers -----------------
    ok(list_notifications.sync_detailed(tenant, client=person, limit=50), HTTPStatus.OK, "notifications")
    ok(list_waitlist.sync_detailed(tenant, client=person), HTTPStatus.OK, "waitlist")
    ok(
        put_admin_email.sync_detailed(tenant, client=person, body=AdminEmailBody(admin_email="desk@clinic.example")),
        HTTPStatus.OK,
        "set the admin email",
    )
    got = ok(get_admin_email.sync_detailed(tenant, client=person), HTTPStatus.OK, "admin email")
    check(got.admin_email == "desk@clinic.example", "the admin email is kept")
    number = "+15557770000"
    attached = ok(
        put_number.sync_detailed(tenant, number, client=person, body=PhoneNumberRequest(voice_enabled=False)),
        HTTPStatus.OK,
        "attach a number",
    )
    check(attached.voice_enabled is False and attached.sms_enabled is True, "SMS only")
    numbers = [n.phone_number for n in ok(list_numbers.sync_detailed(tenant, client=person), HTTPStatus.OK, "numbers")]
    check(number in numbers, "the number is listed")
    ok(delete_number.sync_detailed(tenant, number, client=person), HTTPStatus.NO_CONTENT, "detach the number")

    # --- a policy of the tenant: created, changed, removed ------------------------------
    conditions = PolicyRequestConditions.from_dict({"reminder": "2h"})
    rule = ok(
        create_policy.sync_detailed(
            tenant,
            client=person,
            body=PolicyRequest(action="send_reminder", effect=PolicyEffect.DENY, conditions=conditions),
        ),
        HTTPStatus.CREATED,
        "create a policy",
    )
    changed = ok(
        update_policy.sync_detailed(
            tenant,
            rule.id,
            client=person,
            body=PolicyRequest(action="send_reminder", effect=PolicyEffect.DENY, conditions=conditions, enabled=False),
        ),
        HTTPStatus.OK,
        "change the policy",
    )
    check(changed.enabled is False, "the policy is off")
    rules = ok(list_policies.sync_detailed(tenant, client=person), HTTPStatus.OK, "policies")
    check(any(r.id == rule.id for r in rules), "the policy is listed")
    ok(delete_policy.sync_detailed(tenant, rule.id, client=person), HTTPStatus.OK, "delete the policy")

    ok(sign_out.sync_detailed(client=person), HTTPStatus.NO_CONTENT, "sign out")
    check(me.sync_detailed(tenant, client=person).status_code == HTTPStatus.UNAUTHORIZED, "signed out")
    print(f"api-client flow: {STEPS} checks passed")


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
