"""Drives `gomomo serve` through the client generated from its OpenAPI document (no
hand-written HTTP): the public booking lifecycle, people and keys, the schedule, bookings
as staff see them and make them for walk-ins (moved, with their history), the Excel dead
letters, the demo owner's sign-in, and the audit trail. Exits non-zero on the first surprise.

    PYTHONPATH=target/api-client python flow.py http://127.0.0.1:PORT seed.json
"""

import datetime
import importlib
import json
import os
import pkgutil
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
from gomomo_client.api.operations import retry_notification
from gomomo_client.api.public import get_booking
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
from gomomo_client.api.admin import (
    create_tenant,
    create_resource,
    put_hours,
    update_tenant,
    create_service,
    get_public_booking_url,
    get_languages,
    get_widget_origins,
    put_languages,
    put_public_booking_url,
    put_widget_origins,
    update_resource,
    update_service,
)
from gomomo_client.api.calendars import (
    connect_caldav,
    disconnect_calendar,
    google_connect_resource,
    list_calendars,
    microsoft_callback,
    microsoft_connect,
)
from gomomo_client.api.chat import chat
from gomomo_client.api.delivery import (
    create_webhook,
    delete_webhook,
    delivery_health,
    google_callback,
    google_connect,
    list_deliveries,
    list_webhooks,
    retry_delivery,
    update_webhook,
)
from gomomo_client.api.excel import export_xlsx, import_xlsx, retry_dead_letter
from gomomo_client.api.people import delete_user, list_users, update_user
from gomomo_client.api.privacy import erase_client, export_client
from gomomo_client.api.rules import (
    get_resource_rules,
    get_service_rules,
    get_tenant_rules,
    put_resource_rules,
    put_service_rules,
    put_tenant_rules,
)
from gomomo_client.api.schedule import (
    delete_resource_hours,
    exception_affected,
    get_resource_hours,
    notify_affected,
    put_resource_hours,
    update_exception,
)
from gomomo_client.api.transcripts import get_call, get_chat, list_calls, list_chats
from gomomo_client.api.waitlist import accept_offer, attendance, get_attendance_policy, get_offer, put_attendance_policy, record_outcome
from gomomo_client.types import File
from gomomo_client.models import (
    AdminEmailBody,
    CalDavConnectRequest,
    DisconnectCalendarFutureEvents,
    CreateTenantRequest,
    CreateWebhookRequest,
    UpdateWebhookRequest,
    HoursRequest,
    OutcomeRequest,
    RecordedOutcome,
    UpdateTenantRequest,
    AttendancePolicyBody,
    ChatRequest,
    ClientRequest,
    HoursView,
    NotifyRequest,
    PublicBookingUrlRequest,
    ResourceHoursRequest,
    ResourceRequest,
    ResourceRulesBody,
    ServiceRequest,
    ServiceRulesBody,
    TenantRulesBody,
    UpdateUserRequest,
    TenantLanguages,
    WidgetOrigins,
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
CALLED = set()


def record_calls():
    """Wraps every operation of the generated client so that the flow can prove it called
    each one (the document's every operation, through the client made from it)."""
    import gomomo_client.api as api

    names = set()
    for tag in pkgutil.iter_modules(api.__path__):
        package = importlib.import_module(f"gomomo_client.api.{tag.name}")
        for op in pkgutil.iter_modules(package.__path__):
            module = importlib.import_module(f"gomomo_client.api.{tag.name}.{op.name}")
            names.add(op.name)

            def wrap(fn, name=op.name):
                def called(*args, **kwargs):
                    CALLED.add(name)
                    return fn(*args, **kwargs)

                return called

            module.sync_detailed = wrap(module.sync_detailed)
    return names


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
    operations = record_calls()
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


    # --- the rest of the admin API: services, resources, their rules and hours, settings,
    # people, a chat and its transcript, attendance, privacy, reads of deliveries and calls
    def done(resp, what):
        check(resp.status_code in (HTTPStatus.OK, HTTPStatus.CREATED), f"{what}: HTTP {resp.status_code}: {resp.content[:300]!r}")
        return resp.parsed

    room = done(
        create_resource.sync_detailed(tenant, client=person, body=ResourceRequest(name="Flow room", kind=None, active=None)),
        "create a resource",
    )
    room = done(
        update_resource.sync_detailed(tenant, room.id, client=person, body=ResourceRequest(name="Flow room 2", kind=None, active=None)),
        "rename the resource",
    )
    check(room.name == "Flow room 2", "the resource is renamed")
    svc = done(
        create_service.sync_detailed(
            tenant,
            client=person,
            body=ServiceRequest(name="Flow check-up", description="made by the flow", duration_minutes=20, active=None, resource_ids=[room.id]),
        ),
        "create a service",
    )
    svc = done(
        update_service.sync_detailed(
            tenant, svc.id, client=person,
            body=ServiceRequest(name=None, description=None, duration_minutes=25, active=None, resource_ids=None),
        ),
        "change the service",
    )
    check(svc.duration_minutes == 25, "the service is 25 minutes now")
    rules_s = done(
        put_service_rules.sync_detailed(
            tenant, svc.id, client=person,
            body=ServiceRulesBody(max_per_day=6, min_notice_minutes=60, buffer_before_minutes=5, buffer_after_minutes=10),
        ),
        "service rules",
    )
    check(done(get_service_rules.sync_detailed(tenant, svc.id, client=person), "read service rules").max_per_day == 6, "the cap is kept")
    check(rules_s.max_per_day == 6, "service rules answer the cap")
    done(put_resource_rules.sync_detailed(tenant, room.id, client=person, body=ResourceRulesBody(max_per_day=8)), "resource rules")
    check(done(get_resource_rules.sync_detailed(tenant, room.id, client=person), "read resource rules").max_per_day == 8, "the room's cap is kept")
    cutoff = done(get_tenant_rules.sync_detailed(tenant, client=person), "tenant rules")
    done(put_tenant_rules.sync_detailed(tenant, client=person, body=TenantRulesBody(self_service_cutoff_minutes=cutoff.self_service_cutoff_minutes)), "keep the cut-off")
    week = [HoursView(weekday=d, opens="08:00", closes="12:00") for d in range(1, 6)]
    done(put_resource_hours.sync_detailed(tenant, room.id, client=person, body=ResourceHoursRequest(hours=week)), "the room's own hours")
    check(len(done(get_resource_hours.sync_detailed(tenant, room.id, client=person), "read the room's hours").hours) == 5, "five mornings")
    done(delete_resource_hours.sync_detailed(tenant, room.id, client=person), "back to the tenant's hours")

    far = datetime.date.today() + datetime.timedelta(days=210)
    change = done(
        create_exception.sync_detailed(tenant, client=person, body=ExceptionRequest(kind=ExceptionKind.CLOSED, start_date=far, note="flow")),
        "a closure",
    )
    changed = done(
        update_exception.sync_detailed(tenant, change.exception.id, client=person, body=ExceptionRequest(kind=ExceptionKind.CLOSED, start_date=far, note="flow, changed")),
        "change the closure",
    )
    check(changed.exception.note == "flow, changed", "the closure is changed")
    check(done(exception_affected.sync_detailed(tenant, change.exception.id, client=person), "its bookings").affected == [], "nothing booked that far")
    done(notify_affected.sync_detailed(tenant, change.exception.id, client=person, body=NotifyRequest(booking_url=None)), "notify (nobody)")
    done(delete_exception.sync_detailed(tenant, change.exception.id, client=person), "delete the closure")

    url = done(get_public_booking_url.sync_detailed(tenant, client=person), "the public booking url")
    done(put_public_booking_url.sync_detailed(tenant, client=person, body=PublicBookingUrlRequest(public_booking_url=url.public_booking_url)), "keep it")
    origins = done(get_widget_origins.sync_detailed(tenant, client=person), "widget origins")
    done(put_widget_origins.sync_detailed(tenant, client=person, body=WidgetOrigins(widget_origins=origins.widget_origins)), "keep them")
    langs = done(get_languages.sync_detailed(tenant, client=person), "languages")
    check(langs.languages[0].value == "en", f"the default language is English: {langs.languages}")
    both = done(put_languages.sync_detailed(tenant, client=person, body=TenantLanguages.from_dict({"languages": ["en", "es"]})), "offer Spanish too")
    check([l.value for l in both.languages] == ["en", "es"], f"languages kept in order: {both.languages}")
    policy = done(get_attendance_policy.sync_detailed(tenant, client=person), "attendance policy")
    done(
        put_attendance_policy.sync_detailed(
            tenant, client=person,
            body=AttendancePolicyBody(late_cancel_minutes=policy.late_cancel_minutes, no_show_confirm_hours=policy.no_show_confirm_hours, no_show_confirm_threshold=policy.no_show_confirm_threshold),
        ),
        "keep the attendance policy",
    )
    record = done(attendance.sync_detailed(tenant, client=person, email=email), "a client's attendance")
    check(record.no_shows == 0, "no no-shows")

    staff_email = f"staff-{uuid.uuid4().hex[:6]}@clinic.example"
    mate = done(
        create_user.sync_detailed(tenant, client=person, body=CreateUserRequest(email=staff_email, role=Role.STAFF, password=password, name="Sam Staff")),
        "add staff",
    )
    done(update_user.sync_detailed(tenant, mate.id, client=person, body=UpdateUserRequest(name="Sam S.", role=None, password=None, disabled=None)), "rename staff")
    check(any(u.email == staff_email for u in done(list_users.sync_detailed(tenant, client=person), "people")), "staff listed")
    check(delete_user.sync_detailed(tenant, mate.id, client=person).status_code in (HTTPStatus.OK, HTTPStatus.NO_CONTENT), "remove staff")

    said = done(chat.sync_detailed(tenant, client=public, body=ChatRequest(message="What services do you offer?", client_time_zone=None, session_id=None)), "a chat turn")
    check(bool(said.reply), "the chat answers")
    chats = done(list_chats.sync_detailed(tenant, client=person, limit=50), "chats")
    check(len(chats) >= 1, "the chat is listed")
    done(get_chat.sync_detailed(tenant, chats[0].handle, client=person), "a chat transcript")
    done(list_calls.sync_detailed(tenant, client=person, limit=10), "calls")
    done(list_webhooks.sync_detailed(tenant, client=person), "webhooks")
    done(list_deliveries.sync_detailed(tenant, client=person, limit=10), "webhook deliveries")
    done(delivery_health.sync_detailed(tenant, client=person), "delivery health")
    sheet = export_xlsx.sync_detailed(tenant, client=person)
    check(sheet.status_code == HTTPStatus.OK and sheet.content[:2] == b"PK", "the workbook downloads")
    summary = done(
        import_xlsx.sync_detailed(tenant, client=person, body=File(payload=sheet.content, file_name="appointments.xlsx")),
        "the same workbook uploaded back",
    )
    check(summary.applied == 0 and summary.dead_lettered == [], f"nothing to change: {summary}")

    # The tenant's settings written back as they are.
    profile = ok(get_tenant.sync_detailed(tenant, client=public), HTTPStatus.OK, "tenant profile again")
    done(
        update_tenant.sync_detailed(
            tenant, client=person,
            body=UpdateTenantRequest(name=profile.name, time_zone=None, slot_step_minutes=None, min_notice_minutes=None, max_days_ahead=None, buffer_minutes=None),
        ),
        "the tenant's name kept",
    )
    done(put_hours.sync_detailed(tenant, client=person, body=HoursRequest(hours=profile.business_hours)), "the weekly hours kept")

    # Actions refused with their documented codes.
    def refused(resp, status, code, what):
        check(resp.status_code == status and error_code(resp) == code, f"{what}: HTTP {resp.status_code} {resp.content[:200]!r}, expected {int(status)} {code}")

    refused(
        record_outcome.sync_detailed(tenant, moved_desk.reference, client=person, body=OutcomeRequest(outcome=RecordedOutcome.NO_SHOW)),
        HTTPStatus.CONFLICT, "outcome_too_early", "a no-show before the start",
    )
    refused(get_booking.sync_detailed(tenant, moved_desk.reference, client=public, email=staff_email), HTTPStatus.BAD_REQUEST, "email_in_url", "an email in the URL")
    nobody = uuid.uuid4()
    refused(retry_notification.sync_detailed(tenant, nobody, client=person), HTTPStatus.NOT_FOUND, "notification_not_found", "retry an unknown notification")
    refused(retry_delivery.sync_detailed(tenant, nobody, client=person), HTTPStatus.NOT_FOUND, "webhook_not_found", "retry an unknown delivery")
    refused(retry_dead_letter.sync_detailed(tenant, nobody, client=person), HTTPStatus.NOT_FOUND, "dead_letter_not_found", "retry an unknown row")
    refused(get_call.sync_detailed(tenant, "CA" + "0" * 32, client=person), HTTPStatus.NOT_FOUND, "call_not_found", "an unknown call")
    refused(get_offer.sync_detailed(tenant, "no-such-offer", client=public), HTTPStatus.BAD_REQUEST, "invalid_token", "a malformed offer token")
    refused(accept_offer.sync_detailed(tenant, "no-such-offer", client=public), HTTPStatus.BAD_REQUEST, "invalid_token", "accept with a malformed token")
    refused(google_connect.sync_detailed(tenant, client=person), HTTPStatus.SERVICE_UNAVAILABLE, "calendar_not_configured", "Google without its settings")
    refused(google_callback.sync_detailed(client=public, state="not-a-state", code="x"), HTTPStatus.NOT_FOUND, "google_not_configured", "a callback on a server without Google")
    # Each resource's calendar: none connected here; the providers that need settings say
    # so, a CalDAV server on loopback is refused before any request leaves.
    calendars = ok(list_calendars.sync_detailed(tenant, client=person), HTTPStatus.OK, "the resources' calendars")
    check(calendars == [], f"no calendar connected yet: {calendars!r}")
    refused(google_connect_resource.sync_detailed(tenant, room.id, client=person), HTTPStatus.SERVICE_UNAVAILABLE, "calendar_not_configured", "a resource's Google without its settings")
    refused(microsoft_connect.sync_detailed(tenant, room.id, client=person), HTTPStatus.SERVICE_UNAVAILABLE, "calendar_not_configured", "Microsoft 365 without its settings")
    refused(microsoft_callback.sync_detailed(client=public, state="not-a-state", code="x"), HTTPStatus.BAD_REQUEST, "invalid_oauth_state", "a Microsoft callback not started in this browser")
    refused(
        connect_caldav.sync_detailed(
            tenant, room.id, client=person,
            body=CalDavConnectRequest(server_url="https://127.0.0.1/dav/", username="lee@clinic.example", password="app-password"),
        ),
        HTTPStatus.BAD_REQUEST, "calendar_url_refused", "a CalDAV server on loopback",
    )
    refused(disconnect_calendar.sync_detailed(tenant, room.id, client=person, future_events=DisconnectCalendarFutureEvents.KEEP), HTTPStatus.NOT_FOUND, "calendar_not_connected", "disconnect a calendar never connected")
    # Webhooks: a loopback URL is refused (no request leaves this machine); an unknown one
    # cannot be changed or removed.
    refused(
        create_webhook.sync_detailed(tenant, client=person, body=CreateWebhookRequest(url="https://127.0.0.1/hook")),
        HTTPStatus.BAD_REQUEST, "webhook_url_refused", "a webhook to loopback",
    )
    refused(
        update_webhook.sync_detailed(tenant, nobody, client=person, body=UpdateWebhookRequest(enabled=False, event_types=None, url=None)),
        HTTPStatus.NOT_FOUND, "webhook_not_found", "change an unknown webhook",
    )
    refused(delete_webhook.sync_detailed(tenant, nobody, client=person), HTTPStatus.NOT_FOUND, "webhook_not_found", "remove an unknown webhook")

    # The platform makes a tenant; its first key is an owner key that works at once.
    platform = AuthenticatedClient(base_url=base, token=os.environ["GOMOMO_PLATFORM_KEY"], raise_on_unexpected_status=True)
    made = ok(
        create_tenant.sync_detailed(
            client=platform,
            body=CreateTenantRequest(name="Flow Clinic", time_zone="Europe/Madrid", buffer_minutes=None, max_days_ahead=None, min_notice_minutes=None, slot_step_minutes=None),
        ),
        HTTPStatus.CREATED,
        "create a tenant",
    )
    first_key = AuthenticatedClient(base_url=base, token=made.api_key, raise_on_unexpected_status=True)
    check(ok(list_resources.sync_detailed(made.tenant.id, client=first_key), HTTPStatus.OK, "its key works") == [], "a new tenant has no resources")
    exported = done(export_client.sync_detailed(tenant, client=person, body=ClientRequest(email=email, phone=None)), "a client's data")
    check(exported is not None, "the export answers")
    done(erase_client.sync_detailed(tenant, client=person, body=ClientRequest(email=email, phone=None)), "erase the client")

    ok(sign_out.sync_detailed(client=person), HTTPStatus.NO_CONTENT, "sign out")
    check(me.sync_detailed(tenant, client=person).status_code == HTTPStatus.UNAUTHORIZED, "signed out")
    missed = sorted(operations - CALLED)
    check(not missed, f"operations the flow never called: {missed}")
    print(f"api-client flow: {STEPS} checks passed; all {len(operations)} operations called")


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
