#!/usr/bin/env python3
"""Acts on a CalDAV server through its own protocol with the PyPI `caldav` client, as
another calendar program would: the CalDAV tests (shared/tests/caldav.rs) use it to make the
user's calendar and to create or edit events behind gomomo's back.

    caldav_helper.py mkcal SERVER_URL USER PASSWORD CAL_ID [NAME]   prints the calendar URL
    caldav_helper.py add CALENDAR_URL USER PASSWORD < event.ics      prints the event URL
    caldav_helper.py edit EVENT_URL USER PASSWORD < event.ics        overwrites the event
    caldav_helper.py list CALENDAR_URL USER PASSWORD                 one line per event:
                                                                     UID START END (UTC, ISO 8601)
    caldav_helper.py delete EVENT_URL USER PASSWORD                  removes the event

Only loopback URLs are accepted: this is a test tool.
"""
import sys
from datetime import timezone
from urllib.parse import urlparse

import caldav


def loopback(url):
    host = urlparse(url).hostname or ""
    if host not in ("127.0.0.1", "localhost", "::1"):
        sys.exit(f"caldav_helper: refusing non-loopback URL {url}")
    return url


def client(url, user, password):
    return caldav.DAVClient(url=loopback(url), username=user, password=password)


def main(argv):
    if len(argv) < 5:
        sys.exit(__doc__)
    cmd, url, user, password = argv[1:5]
    if cmd == "mkcal":
        cal_id = argv[5]
        name = argv[6] if len(argv) > 6 else cal_id
        with client(url, user, password) as c:
            cal = c.principal().make_calendar(name=name, cal_id=cal_id)
            print(cal.url)
    elif cmd == "add":
        with client(url, user, password) as c:
            cal = c.calendar(url=url)
            ev = cal.add_event(sys.stdin.read())
            print(ev.url)
    elif cmd == "edit":
        with client(url, user, password) as c:
            parent = url.rsplit("/", 1)[0] + "/"
            cal = c.calendar(url=parent)
            ev = cal.event_by_url(url)
            ev.data = sys.stdin.read()
            ev.save(increase_seqno=False)
            print(ev.url)
    elif cmd == "list":
        with client(url, user, password) as c:
            cal = c.calendar(url=url)
            for ev in cal.events():
                comp = ev.icalendar_component
                start = comp.get("dtstart").dt.astimezone(timezone.utc)
                end = comp.get("dtend").dt.astimezone(timezone.utc)
                print(comp.get("uid"), start.isoformat(), end.isoformat())
    elif cmd == "delete":
        with client(url, user, password) as c:
            parent = url.rsplit("/", 1)[0] + "/"
            c.calendar(url=parent).event_by_url(url).delete()
    else:
        sys.exit(__doc__)


if __name__ == "__main__":
    main(sys.argv)
