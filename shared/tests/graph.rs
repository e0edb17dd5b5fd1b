//! The Microsoft Graph client against a Graph-shaped server on 127.0.0.1 that answers with
//! the bodies of `tests/fixtures/graph/` (shapes from Microsoft's documentation) and checks
//! what it receives: the PKCE verifier against the challenge of the consent request, the
//! client credentials, bearer tokens, `Prefer: outlook.timezone="UTC"`, the create's
//! `transactionId` (stable across a retried create, never sent on a patch), the booking
//! marker, `getSchedule` and `calendarView` parameters. Its calendar lives in memory, so the
//! tests see what a retry, an update or a delete left behind.
#![allow(clippy::unwrap_used, clippy::expect_used)]

#[path = "support/graph_server.rs"]
mod graph_server;

use graph_server::*;
#[tokio::test]
async fn graph_connects_with_pkce_exchanges_the_code_and_refreshes() {
    let server = Server::start().await;
    let client = server.client();
    let before = Utc::now();

    // A wrong verifier is refused at the token endpoint (the server recomputes the
    // challenge), and the code is spent.
    let flow = pkce();
    let url = authorize_url(&server.settings, "state-1", &flow.challenge);
    let (code, state) = consent(&server, &url).await;
    assert_eq!(state, "state-1");
    let other = pkce();
    assert_eq!(
        client
            .exchange_code(&code, &other.verifier)
            .await
            .unwrap_err(),
        CalendarError::Auth
    );
    assert_eq!(
        client
            .exchange_code(&code, &flow.verifier)
            .await
            .unwrap_err(),
        CalendarError::Auth,
        "a code is good once"
    );

    let flow = pkce();
    let (code, _) = consent(
        &server,
        &authorize_url(&server.settings, "state-2", &flow.challenge),
    )
    .await;
    let tokens = client.exchange_code(&code, &flow.verifier).await.unwrap();
    assert!(tokens.access_token.starts_with("access-code-"));
    let first_refresh = tokens.refresh_token.clone().unwrap();
    assert!(
        tokens.scope.contains("Calendars.ReadWrite"),
        "{}",
        tokens.scope
    );
    assert!(tokens.expires_at >= before + Duration::seconds(3590));
    assert!(tokens.expires_at <= Utc::now() + Duration::seconds(3600));
    assert!(!format!("{tokens:?}").contains(&tokens.access_token));

    // The token works: the profile names the mailbox getSchedule is asked about.
    let me = client.me(&tokens.access_token).await.unwrap();
    assert_eq!(me.schedule_address(), Some(MAILBOX));

    // Refresh: a new access token and the rotated refresh token to keep.
    let fresh = client.refresh(&first_refresh).await.unwrap();
    assert_ne!(fresh.access_token, tokens.access_token);
    let rotated = fresh.refresh_token.clone().unwrap();
    assert_ne!(rotated, first_refresh);
    client.me(&fresh.access_token).await.unwrap();

    // Consent revoked: the refresh token is refused, and that is an authorization error
    // (the caller escalates to the admin), not a transient one.
    server.state().revoked.insert(rotated.clone());
    assert_eq!(
        client.refresh(&rotated).await.unwrap_err(),
        CalendarError::Auth
    );
    assert_eq!(
        server.state().token_grants,
        [
            "authorization_code",
            "authorization_code",
            "authorization_code",
            "refresh_token",
            "refresh_token"
        ]
    );
    server.assert_clean();
}

fn booking(start: &str, minutes: i64) -> GraphEventWrite {
    let start = utc(start);
    GraphEventWrite {
        booking_id: Uuid::from_u128(0x6e0a_0000_0000_4000_8000_0000_0000_0001),
        subject: "Consultation: Ada Lovelace".into(),
        body_text: "Booked with gomomo. Reference GM-7Q2K.".into(),
        start,
        end: start + Duration::minutes(minutes),
    }
}

fn ours(server: &Server) -> Vec<Event> {
    server
        .state()
        .events
        .iter()
        .filter(|e| e.booking_marker.is_some())
        .cloned()
        .collect()
}

#[tokio::test]
async fn graph_events_are_created_once_updated_and_deleted() {
    let server = Server::start().await;
    let client = server.client();
    let (token, _) = server.tokens(Account::Work);
    let ev = booking("2026-12-07T19:00:00Z", 30);

    let id = client.upsert_event(&token, None, &ev).await.unwrap();
    // The answer to the first create was lost: the retry carries the same transactionId
    // and gets the same event back; the calendar holds one.
    let again = client.upsert_event(&token, None, &ev).await.unwrap();
    assert_eq!(again, id);
    {
        let st = server.state();
        assert_eq!(st.creates.len(), 2);
        assert_eq!(st.creates[0], st.creates[1]);
        assert_eq!(st.creates[0], transaction_id(ev.booking_id));
        assert_eq!(st.patches, 0, "an unchanged retry needs no update");
    }
    let held = ours(&server);
    assert_eq!(held.len(), 1);
    assert_eq!(held[0].id, id);
    assert_eq!(
        held[0].booking_marker.as_deref(),
        Some(ev.booking_id.to_string().as_str())
    );
    assert_eq!((held[0].start, held[0].end), (ev.start, ev.end));
    assert_eq!(held[0].subject, ev.subject);

    // A create of the same booking with new times (the event id was never stored): still
    // one event, brought up to date.
    let moved = booking("2026-12-07T20:00:00Z", 45);
    assert_eq!(client.upsert_event(&token, None, &moved).await.unwrap(), id);
    let held = ours(&server);
    assert_eq!(held.len(), 1);
    assert_eq!((held[0].start, held[0].end), (moved.start, moved.end));

    // A reschedule with the known id patches in place.
    let later = booking("2026-12-08T14:00:00Z", 30);
    let patches = server.state().patches;
    let creates = server.state().creates.len();
    assert_eq!(
        client
            .upsert_event(&token, Some(&id), &later)
            .await
            .unwrap(),
        id
    );
    assert_eq!(server.state().patches, patches + 1);
    assert_eq!(
        server.state().creates.len(),
        creates,
        "no create on a patch"
    );
    let seen = client.get_event(&token, &id).await.unwrap().unwrap();
    assert_eq!((seen.start, seen.end), (later.start, later.end));
    assert!(!seen.cancelled && !seen.all_day);

    // Moved in Outlook: the caller sees it.
    {
        let mut st = server.state();
        let e = st.events.iter_mut().find(|e| e.id == id).unwrap();
        e.start += Duration::hours(2);
        e.end += Duration::hours(2);
    }
    let seen = client.get_event(&token, &id).await.unwrap().unwrap();
    assert_eq!(seen.start, later.start + Duration::hours(2));

    // Deleted in Outlook: gone for get_event, and an update with the stale id makes the
    // event again.
    server.state().events.retain(|e| e.id != id);
    assert_eq!(client.get_event(&token, &id).await.unwrap(), None);
    let new_id = client
        .upsert_event(&token, Some(&id), &later)
        .await
        .unwrap();
    assert_ne!(new_id, id);
    let held = ours(&server);
    assert_eq!(held.len(), 1);
    assert_eq!((held[0].start, held[0].end), (later.start, later.end));

    // Cancel: deleted; deleting again (404) is still success.
    client.delete_event(&token, &new_id).await.unwrap();
    assert!(ours(&server).is_empty());
    client.delete_event(&token, &new_id).await.unwrap();
    assert_eq!(client.get_event(&token, &new_id).await.unwrap(), None);
    server.assert_clean();
}

fn range(a: &str, b: &str) -> BusyRange {
    BusyRange {
        start: utc(a),
        end: utc(b),
    }
}

/// The window: Monday to Wednesday, New York days.
fn window() -> (DateTime<Utc>, DateTime<Utc>) {
    (utc("2026-12-07T05:00:00Z"), utc("2026-12-10T05:00:00Z"))
}

/// What the fixture's calendar plus one booking of ours blocks in [`window`]: the dentist
/// (busy), our booking, the training day (all day, out of office: the whole New York
/// day), the tentative call; not the lunch shown as free, not the cancelled stand-up.
fn expected() -> Vec<BusyRange> {
    vec![
        range("2026-12-07T15:00:00Z", "2026-12-07T16:00:00Z"),
        range("2026-12-07T19:00:00Z", "2026-12-07T19:30:00Z"),
        range("2026-12-08T05:00:00Z", "2026-12-09T05:00:00Z"),
        range("2026-12-09T20:00:00Z", "2026-12-09T20:30:00Z"),
    ]
}

#[tokio::test]
async fn graph_busy_time_comes_from_get_schedule() {
    let server = Server::start().await;
    let client = server.client();
    let (token, _) = server.tokens(Account::Work);
    client
        .upsert_event(&token, None, &booking("2026-12-07T19:00:00Z", 30))
        .await
        .unwrap();
    let (from, to) = window();
    let busy = client
        .busy(&token, Some(MAILBOX), from, to, ZONE)
        .await
        .unwrap();
    assert_eq!(busy, expected());
    assert_eq!(server.state().schedule_calls, 1);
    assert_eq!(server.state().view_calls, 0);

    // A window of ten weeks is asked in parts of at most 31 days, and merged.
    let busy = client
        .busy(
            &token,
            Some(MAILBOX),
            utc("2026-11-20T05:00:00Z"),
            utc("2027-01-29T05:00:00Z"),
            ZONE,
        )
        .await
        .unwrap();
    assert_eq!(busy, expected());
    assert_eq!(server.state().schedule_calls, 4);
    assert_eq!(server.state().view_calls, 0);

    // Clipped to the window asked for.
    let busy = client
        .busy(
            &token,
            Some(MAILBOX),
            utc("2026-12-07T15:30:00Z"),
            utc("2026-12-08T12:00:00Z"),
            ZONE,
        )
        .await
        .unwrap();
    assert_eq!(
        busy,
        vec![
            range("2026-12-07T15:30:00Z", "2026-12-07T16:00:00Z"),
            range("2026-12-07T19:00:00Z", "2026-12-07T19:30:00Z"),
            range("2026-12-08T05:00:00Z", "2026-12-08T12:00:00Z"),
        ]
    );
    // getSchedule cannot resolve the mailbox (its answer carries an error for it): the
    // calendar view is read instead.
    server.state().schedule_unresolvable = true;
    let (from, to) = window();
    let busy = client
        .busy(&token, Some(MAILBOX), from, to, ZONE)
        .await
        .unwrap();
    assert_eq!(busy, expected());
    assert_eq!(server.state().schedule_calls, 6);
    assert_eq!(server.state().view_calls, 3);
    server.assert_clean();
}

#[tokio::test]
async fn graph_busy_time_falls_back_to_calendar_view_for_personal_accounts() {
    let server = Server::start().await;
    let client = server.client();
    let (token, _) = server.tokens(Account::Personal);
    let me = client.me(&token).await.unwrap();
    assert_eq!(me.mail, None);
    assert_eq!(me.schedule_address(), None);
    client
        .upsert_event(&token, None, &booking("2026-12-07T19:00:00Z", 30))
        .await
        .unwrap();
    let (from, to) = window();

    // Asked with an address anyway: getSchedule answers with the personal-account error,
    // and the calendar view gives the same busy time, every page followed.
    let busy = client
        .busy(&token, Some(MAILBOX), from, to, ZONE)
        .await
        .unwrap();
    assert_eq!(busy, expected());
    let pages = server.state().view_calls;
    assert_eq!(server.state().schedule_calls, 1);
    assert_eq!(pages, 3, "6 events at 2 a page");

    // Without an address: straight to the calendar view.
    let busy = client.busy(&token, None, from, to, ZONE).await.unwrap();
    assert_eq!(busy, expected());
    assert_eq!(server.state().schedule_calls, 1);
    assert_eq!(server.state().view_calls, 2 * pages);

    // The all-day event covers the whole day of the owner's zone: Tokyo's day is not
    // New York's.
    let tokyo = client
        .busy(&token, None, from, to, chrono_tz::Asia::Tokyo)
        .await
        .unwrap();
    assert!(tokyo.contains(&range("2026-12-07T15:00:00Z", "2026-12-08T15:00:00Z")));

    // A next page outside the Graph base would carry the token elsewhere: refused.
    server.state().foreign_next_link = true;
    let err = client.busy(&token, None, from, to, ZONE).await.unwrap_err();
    assert!(
        matches!(err, CalendarError::Other(ref m) if m.contains("next page")),
        "{err:?}"
    );
    server.assert_clean();
}

/// Token storage as the caller keeps it (in memory here).
#[derive(Default)]
struct Store {
    tokens: Mutex<Option<GraphTokens>>,
    saves: Mutex<usize>,
}

#[async_trait]
impl TokenStore for Store {
    async fn load(&self) -> Result<Option<GraphTokens>, CalendarError> {
        Ok(self.tokens.lock().unwrap().clone())
    }
    async fn save(&self, tokens: &GraphTokens) -> Result<(), CalendarError> {
        *self.tokens.lock().unwrap() = Some(tokens.clone());
        *self.saves.lock().unwrap() += 1;
        Ok(())
    }
}

#[tokio::test]
async fn graph_tokens_refresh_before_expiry_and_after_a_401_and_revoked_consent_escalates() {
    let server = Server::start().await;
    let clock = Clock::fixed(Utc::now());
    let client = server.client().with_clock(clock.clone());
    let (access, refresh) = server.tokens(Account::Work);
    let store = Store::default();

    // Nothing connected.
    let err = client
        .with_token(&store, |t| {
            let c = &client;
            async move { c.me(&t).await }
        })
        .await
        .unwrap_err();
    assert!(matches!(err, CalendarError::Other(_)), "{err:?}");

    *store.tokens.lock().unwrap() = Some(GraphTokens {
        access_token: access.clone(),
        refresh_token: Some(refresh.clone()),
        expires_at: clock.now() + Duration::minutes(30),
        scope: String::new(),
    });
    let call = || {
        client.with_token(&store, |t| {
            let c = &client;
            async move { c.me(&t).await }
        })
    };
    // A valid token is used as it is.
    call().await.unwrap();
    assert_eq!(*store.saves.lock().unwrap(), 0);

    // About to expire: refreshed first, the rotated refresh token kept.
    clock.advance(Duration::minutes(29) + Duration::seconds(30));
    call().await.unwrap();
    assert_eq!(*store.saves.lock().unwrap(), 1);
    let kept = store.tokens.lock().unwrap().clone().unwrap();
    assert_ne!(kept.access_token, access);
    assert_ne!(kept.refresh_token.as_deref(), Some(refresh.as_str()));
    assert!(kept.expires_at > clock.now() + Duration::minutes(59));

    // Graph no longer takes the access token (401): refreshed once, the call retried once.
    server.state().access.remove(&kept.access_token);
    call().await.unwrap();
    assert_eq!(*store.saves.lock().unwrap(), 2);

    // Consent revoked: the 401 leads to a refused refresh, which is an authorization error.
    let now = store.tokens.lock().unwrap().clone().unwrap();
    server.state().access.remove(&now.access_token);
    server
        .state()
        .revoked
        .insert(now.refresh_token.clone().unwrap());
    assert_eq!(call().await.unwrap_err(), CalendarError::Auth);
    assert_eq!(*store.saves.lock().unwrap(), 2);
    server.assert_clean();
}

#[tokio::test]
async fn graph_failures_fail_closed() {
    let server = Server::start().await;
    let client = server.client();
    let (token, _) = server.tokens(Account::Work);
    let (from, to) = window();

    // A server error is an error, never "no busy time" (and no fallback hides it).
    server.state().fail_with = Some(500);
    let err = client
        .busy(&token, Some(MAILBOX), from, to, ZONE)
        .await
        .unwrap_err();
    assert!(
        matches!(err, CalendarError::Other(ref m) if m.contains("500")),
        "{err:?}"
    );
    assert_eq!(
        server.state().view_requests,
        0,
        "a failing getSchedule is not a personal account"
    );
    let err = client.busy(&token, None, from, to, ZONE).await.unwrap_err();
    assert!(
        matches!(err, CalendarError::Other(ref m) if m.contains("500")),
        "{err:?}"
    );
    assert_eq!(server.state().view_requests, 1);
    let err = client
        .upsert_event(&token, None, &booking("2026-12-07T19:00:00Z", 30))
        .await
        .unwrap_err();
    assert!(matches!(err, CalendarError::Other(_)), "{err:?}");
    server.state().fail_with = None;

    // Throttled: the server's Retry-After travels with the error.
    server.state().throttle = true;
    let err = client
        .busy(&token, Some(MAILBOX), from, to, ZONE)
        .await
        .unwrap_err();
    assert_eq!(
        retry_after(&err),
        Some(StdDuration::from_secs(7)),
        "{err:?}"
    );
    server.state().throttle = false;

    // An unknown token: an authorization error.
    assert_eq!(
        client.delete_event("not-a-token", "x").await.unwrap_err(),
        CalendarError::Auth
    );

    // A slow server: a timeout.
    server.state().delay = Some(StdDuration::from_secs(3));
    let slow = server.client_with_timeout(StdDuration::from_millis(300));
    assert_eq!(
        slow.busy(&token, Some(MAILBOX), from, to, ZONE)
            .await
            .unwrap_err(),
        CalendarError::Timeout
    );
    assert_eq!(
        slow.refresh("anything").await.unwrap_err(),
        CalendarError::Timeout
    );
    server.state().delay = None;

    // Nobody listening: a network error.
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    drop(listener);
    let mut gone = server.settings.clone();
    gone.graph_base_url = format!("http://127.0.0.1:{port}/v1.0");
    let gone = GraphClient::new(reqwest::Client::new(), gone);
    assert_eq!(
        gone.busy(&token, None, from, to, ZONE).await.unwrap_err(),
        CalendarError::Network
    );
    server.assert_clean();
}
