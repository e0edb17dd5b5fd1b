/*
 * gomomo chat widget — one script tag, no framework, no build step:
 *
 *   <script src="https://your-host/widget.js" data-tenant="TENANT-UUID" defer></script>
 *
 * Optional attributes: data-ws (WebSocket URL; default wss?://<script host>/ws),
 * data-title (header text), data-open="true" (start opened), data-inline="true" (render
 * in place of the script tag instead of a floating launcher).
 *
 * Protocol (docs/architecture.md; the /ws socket of gomomo serve and functions/chat-ws): connects
 * with ?tenant_id= only (the session id is a bearer secret and never goes into a URL), then sends
 * {"action":"hello"|"message", tenant_id, session_id, text} (a message also carries
 * client_time_zone, the browser's IANA zone); receives session, typing, status,
 * history (the conversation so far, after a reload or a handoff), assistant_message, push, error.
 *
 * Sessions are issued by the server: the first hello carries no session_id and is answered
 * with {"type":"session","session_id"}; a stored session the server no longer knows is
 * replaced the same way. The session id is kept in localStorage under
 * "gomomo:session:<tenant>"; the handoff page stores the session it opened there before it
 * shows this chat. Messages typed before the server has answered the hello wait for it.
 *
 * One turn at a time: a message typed while the previous one is still being answered waits
 * in the queue and goes out when the answer (or an error) arrives. When the server answers
 * session_busy (the same session answering elsewhere, e.g. another tab), the message goes
 * back to the head of the queue and is sent again a moment later; no error is shown.
 *
 * Every word the widget shows or announces is in STRINGS below (one table per language;
 * English only for now). The server's own replies come from shared/src/text/.
 */
(function () {
  "use strict";
  var STRINGS = {
    title: "Book an appointment",
    launch: "Chat with us",
    closeChat: "Close chat",
    connected: "Connected",
    disconnected: "Disconnected",
    conversation: "Conversation",
    yourMessage: "Your message",
    placeholder: "Type a message…",
    send: "Send",
    typing: "Assistant is typing",
    dismiss: "Dismiss notification",
    availableTimes: "Available times",
    greeting: "Hi! I can book, reschedule, cancel or look up an appointment, or put you on the waitlist. How can I help?",
    bookingConfirmed: function (reference) { return "✅ Booking Confirmed — reference " + reference; },
    bookingCancelled: function (reference) { return "ℹ️ Booking Cancelled — " + reference; },
    bookingRescheduled: function (label) { return "✅ Booking Rescheduled — " + label; },
    slotUnavailable: "❌ Slot Unavailable",
    holdExpired: "⚠️ Hold Expired",
    systemIssue: "❌ System Issue — please try again",
    followupToast: "✅ Follow-up Scheduled",
    followupTitle: "Follow-up Scheduled",
    followupBy: function (sms) { return "By " + (sms ? "text message" : "email"); },
    followupExpected: function (expected) { return "Expected " + (expected || "soon"); },
    waitlistJoined: "ℹ️ Added to the waitlist",
    waitlistMatch: "Good news — a time you were waiting for just opened up:",
    bookPrefix: "I'd like to book ",
    calendarTitle: "Calendar updated",
    calendarDone: "Your appointment is now on the calendar.",
    reference: function (reference) { return "Reference " + reference; },
    newUpdate: "You have a new update.",
    error: "Something went wrong.",
    connectionLost: "❌ Connection Lost — reconnecting…",
    continuesCall: "Continuing from your phone call",
    continuesText: "Continuing from your text message"
  };
  var script = document.currentScript;
  if (!script || !script.dataset.tenant) {
    if (window.console) console.error("gomomo widget: data-tenant is required");
    return;
  }
  var tenant = script.dataset.tenant;
  var origin = new URL(script.src, location.href);
  var wsUrl = script.dataset.ws ||
    (origin.protocol === "https:" ? "wss:" : "ws:") + "//" + origin.host + "/ws";
  var title = script.dataset.title || STRINGS.title;
  var storeKey = "gomomo:session:" + tenant;

  // The session the server issued (null until it has): only ids of its form are kept.
  var session = null;
  try {
    session = localStorage.getItem(storeKey);
    if (session && session.indexOf("gs_") !== 0) { localStorage.removeItem(storeKey); session = null; }
  } catch (e) { session = null; }
  function keepSession(id) {
    session = id;
    try { localStorage.setItem(storeKey, id); } catch (e) { /* kept for this page only */ }
  }

  // ---- styles -------------------------------------------------------------------------
  var css = "" +
    ".gmm{font:15px/1.4 system-ui,-apple-system,Segoe UI,Roboto,sans-serif;color:#1d2330}" +
    ".gmm *{box-sizing:border-box}" +
    ".gmm-launch{position:fixed;right:20px;bottom:20px;z-index:2147483000;border:0;border-radius:28px;padding:14px 20px;background:#2357d9;color:#fff;font-weight:600;cursor:pointer;box-shadow:0 4px 16px rgba(0,0,0,.2)}" +
    ".gmm-launch:focus-visible,.gmm button:focus-visible,.gmm textarea:focus-visible{outline:3px solid #ffb703;outline-offset:2px}" +
    ".gmm-panel{position:fixed;right:20px;bottom:84px;z-index:2147483000;width:min(380px,calc(100vw - 24px));height:min(600px,calc(100vh - 110px));display:flex;flex-direction:column;background:#fff;border-radius:14px;box-shadow:0 8px 32px rgba(0,0,0,.25);overflow:hidden}" +
    ".gmm-inline .gmm-panel{position:static;width:100%;height:600px;box-shadow:0 1px 6px rgba(0,0,0,.15)}" +
    ".gmm-panel[hidden]{display:none}" +
    ".gmm-head{display:flex;align-items:center;gap:8px;padding:12px 14px;background:#2357d9;color:#fff}" +
    ".gmm-head h2{font-size:16px;margin:0;flex:1}" +
    ".gmm-dot{width:10px;height:10px;border-radius:50%;background:#f4a100}" +
    ".gmm-dot.on{background:#2ecc71}" +
    ".gmm-close{background:transparent;border:0;color:#fff;font-size:20px;cursor:pointer;padding:0 4px}" +
    ".gmm-log{flex:1;overflow-y:auto;padding:12px;display:flex;flex-direction:column;gap:8px;background:#f6f7fb}" +
    ".gmm-msg{max-width:85%;padding:8px 12px;border-radius:12px;white-space:pre-wrap;word-wrap:break-word}" +
    ".gmm-user{align-self:flex-end;background:#2357d9;color:#fff;border-bottom-right-radius:4px}" +
    ".gmm-bot{align-self:flex-start;background:#fff;border:1px solid #e1e4ee;border-bottom-left-radius:4px}" +
    ".gmm-sys{align-self:center;font-size:13px;color:#6b7280}" +
    ".gmm-typing span{display:inline-block;animation:gmm-p 1.2s infinite;margin:0 1px}" +
    ".gmm-typing span:nth-child(2){animation-delay:.2s}.gmm-typing span:nth-child(3){animation-delay:.4s}" +
    "@keyframes gmm-p{0%,100%{opacity:.25}50%{opacity:1}}" +
    "@media (prefers-reduced-motion:reduce){.gmm-typing span{animation:none}}" +
    ".gmm-chip{align-self:flex-start;font-size:13px;background:#eef2ff;color:#3730a3;border-radius:14px;padding:4px 10px}" +
    ".gmm-chip[hidden]{display:none}" +
    ".gmm-slots{display:flex;flex-wrap:wrap;gap:6px;align-self:flex-start}" +
    ".gmm-slots button{border:1px solid #2357d9;background:#fff;color:#2357d9;border-radius:16px;padding:6px 10px;cursor:pointer;font:inherit;font-size:14px}" +
    ".gmm-slots button:hover{background:#eef2ff}" +
    ".gmm-card{align-self:stretch;border-radius:10px;padding:10px 12px;background:#e8f8ee;border:1px solid #9fdcb5}" +
    ".gmm-card strong{display:block}" +
    ".gmm-form{display:flex;gap:8px;padding:10px;border-top:1px solid #e1e4ee;background:#fff}" +
    ".gmm-form textarea{flex:1;resize:none;border:1px solid #c9cede;border-radius:10px;padding:8px 10px;font:inherit;height:42px}" +
    ".gmm-form button{border:0;border-radius:10px;background:#2357d9;color:#fff;padding:0 16px;font-weight:600;cursor:pointer}" +
    ".gmm-form button:disabled{background:#9aa6c4;cursor:default}" +
    ".gmm-toasts{position:fixed;top:16px;right:16px;z-index:2147483001;display:flex;flex-direction:column;gap:8px;max-width:min(360px,calc(100vw - 32px))}" +
    ".gmm-toast{display:flex;gap:8px;align-items:flex-start;background:#1d2330;color:#fff;border-radius:10px;padding:10px 12px;box-shadow:0 4px 16px rgba(0,0,0,.25)}" +
    ".gmm-toast p{margin:0;flex:1}.gmm-toast button{background:transparent;border:0;color:#fff;cursor:pointer;font-size:16px}" +
    ".gmm-sr{position:absolute;width:1px;height:1px;overflow:hidden;clip:rect(0 0 0 0);white-space:nowrap}" +
    "@media (max-width:480px){.gmm-panel{right:0;bottom:0;width:100vw;height:100vh;border-radius:0}.gmm-launch{right:12px;bottom:12px}}";
  var style = document.createElement("style");
  style.textContent = css;
  document.head.appendChild(style);

  // ---- DOM ----------------------------------------------------------------------------
  function el(tag, attrs, text) {
    var e = document.createElement(tag);
    if (attrs) for (var k in attrs) {
      if (k === "class") e.className = attrs[k]; else e.setAttribute(k, attrs[k]);
    }
    if (text != null) e.textContent = text;
    return e;
  }
  var inline = script.dataset.inline === "true";
  var root = el("div", { "class": "gmm" + (inline ? " gmm-inline" : ""), "data-gomomo": "" });
  var launch = el("button", { "class": "gmm-launch", type: "button", "aria-expanded": "false",
    "aria-controls": "gmm-panel" }, STRINGS.launch);
  var panel = el("section", { "class": "gmm-panel", id: "gmm-panel", role: "dialog",
    "aria-label": title });
  var head = el("div", { "class": "gmm-head" });
  var dot = el("span", { "class": "gmm-dot", role: "img", "aria-label": STRINGS.disconnected,
    "data-testid": "connection-dot" });
  var h2 = el("h2", null, title);
  var close = el("button", { "class": "gmm-close", type: "button", "aria-label": STRINGS.closeChat }, "×");
  head.appendChild(dot); head.appendChild(h2); if (!inline) head.appendChild(close);
  var log = el("div", { "class": "gmm-log", role: "log", "aria-live": "polite",
    "aria-relevant": "additions", "aria-label": STRINGS.conversation, tabindex: "0" });
  var chip = el("div", { "class": "gmm-chip", role: "status", hidden: "" });
  var form = el("form", { "class": "gmm-form" });
  var label = el("label", { "class": "gmm-sr", "for": "gmm-input" }, STRINGS.yourMessage);
  var input = el("textarea", { id: "gmm-input", rows: "1", maxlength: "2000",
    placeholder: STRINGS.placeholder, autocomplete: "off" });
  var send = el("button", { type: "submit" }, STRINGS.send);
  form.appendChild(label); form.appendChild(input); form.appendChild(send);
  panel.appendChild(head); panel.appendChild(log); panel.appendChild(form);
  var toasts = el("div", { "class": "gmm-toasts", role: "status", "aria-live": "polite",
    "data-testid": "toasts" });
  if (!inline) root.appendChild(launch);
  root.appendChild(panel);
  document.body.appendChild(toasts);
  if (inline) script.parentNode.insertBefore(root, script); else document.body.appendChild(root);

  var typing = null;
  function scroll() { log.scrollTop = log.scrollHeight; }
  function addMsg(cls, text) {
    var m = el("div", { "class": "gmm-msg " + cls }, text);
    log.insertBefore(m, typing && typing.parentNode === log ? typing : null);
    log.appendChild(chip);
    scroll();
    return m;
  }
  function setTyping(on) {
    if (on && !typing) {
      typing = el("div", { "class": "gmm-msg gmm-bot gmm-typing", "aria-label": STRINGS.typing });
      for (var i = 0; i < 3; i++) typing.appendChild(el("span", { "aria-hidden": "true" }, "●"));
      log.appendChild(typing);
      scroll();
    } else if (!on && typing) {
      typing.remove();
      typing = null;
    }
  }
  function setChip(text) {
    if (text) { chip.textContent = "⚙ " + text; chip.hidden = false; log.appendChild(chip); scroll(); }
    else { chip.hidden = true; chip.textContent = ""; }
  }
  function toast(kind, text) {
    var t = el("div", { "class": "gmm-toast", "data-kind": kind });
    t.appendChild(el("p", null, text));
    var x = el("button", { type: "button", "aria-label": STRINGS.dismiss }, "×");
    x.onclick = function () { t.remove(); };
    t.appendChild(x);
    toasts.appendChild(t);
    setTimeout(function () { t.remove(); }, 12000);
  }
  function slotButtons(slots, prefix) {
    var box = el("div", { "class": "gmm-slots", role: "group", "aria-label": STRINGS.availableTimes });
    slots.forEach(function (s) {
      var b = el("button", { type: "button" }, s.label);
      b.onclick = function () { submit(prefix + s.label); };
      box.appendChild(b);
    });
    log.appendChild(box);
    log.appendChild(chip);
    scroll();
  }
  var greeting = null, historyShown = false;
  // The conversation so far replaces the greeting, above anything typed since the page
  // opened; only the first history of a page is shown (a reconnect keeps what is there).
  function onHistory(m) {
    if (historyShown) return;
    historyShown = true;
    var lines = m.messages || [];
    if (!lines.length && !m.continues) return;
    if (greeting) { greeting.remove(); greeting = null; }
    var frag = document.createDocumentFragment();
    if (m.continues) {
      frag.appendChild(el("div", { "class": "gmm-msg gmm-sys", "data-testid": "continues" },
        m.continues === "sms" ? STRINGS.continuesText : STRINGS.continuesCall));
    }
    lines.forEach(function (l) {
      frag.appendChild(el("div", { "class": "gmm-msg " + (l.role === "user" ? "gmm-user" : "gmm-bot"),
        "data-history": "" }, l.text));
    });
    log.insertBefore(frag, log.firstChild);
    scroll();
  }
  function card(titleText, lines) {
    var c = el("div", { "class": "gmm-card", role: "note" });
    c.appendChild(el("strong", null, titleText));
    lines.forEach(function (l) { c.appendChild(el("div", null, l)); });
    log.appendChild(c);
    scroll();
  }

  function onEvents(events) {
    (events || []).forEach(function (e) {
      switch (e.kind) {
        case "slots": slotButtons(e.slots || [], ""); break;
        case "booking_confirmed": toast(e.kind, STRINGS.bookingConfirmed(e.reference)); break;
        case "booking_cancelled": toast(e.kind, STRINGS.bookingCancelled(e.reference)); break;
        case "booking_rescheduled": toast(e.kind, STRINGS.bookingRescheduled(e.label)); break;
        case "slot_unavailable": toast(e.kind, STRINGS.slotUnavailable); break;
        case "hold_expired": toast(e.kind, STRINGS.holdExpired); break;
        case "system_issue": toast(e.kind, STRINGS.systemIssue); break;
        case "followup_scheduled":
          toast(e.kind, STRINGS.followupToast);
          card(STRINGS.followupTitle, [STRINGS.followupBy(e.channel === "sms"),
            STRINGS.followupExpected(e.expected)]);
          break;
        case "waitlist_joined": toast(e.kind, STRINGS.waitlistJoined); break;
      }
    });
  }
  function onPush(m) {
    var p = m.payload || {};
    if (m.push_type === "waitlist_match") {
      addMsg("gmm-bot", p.message || STRINGS.waitlistMatch);
      var slots = p.slots || (p.label ? [{ label: p.label, start: p.start }] : []);
      if (slots.length) slotButtons(slots, STRINGS.bookPrefix);
    } else if (m.push_type === "calendar_retry_success") {
      card(STRINGS.calendarTitle, [p.message || STRINGS.calendarDone,
        p.reference ? STRINGS.reference(p.reference) : ""].filter(Boolean));
    } else {
      addMsg("gmm-bot", p.message || STRINGS.newUpdate);
    }
  }

  // ---- connection -----------------------------------------------------------------------
  // ready: the server answered this connection's hello (the session is known); texts typed
  // before that, or while a turn is answered (`turn`: the text in flight), wait in `queue`.
  var ws = null, attempt = 0, connected = false, ready = false, queue = [], everConnected = false, lostShown = false;
  var turn = null, turnTimer = null, busyTimer = null;
  var BUSY_RETRY_MS = 1000, TURN_GIVE_UP_MS = 60000;
  function setConnected(on) {
    connected = on;
    dot.className = "gmm-dot" + (on ? " on" : "");
    dot.setAttribute("aria-label", on ? STRINGS.connected : STRINGS.disconnected);
  }
  // The browser's IANA time zone ("Europe/Madrid"): the server shows the client's own time
  // beside the clinic's when they differ. Absent when the browser does not tell.
  function browserZone() {
    try {
      var z = Intl.DateTimeFormat().resolvedOptions().timeZone;
      return typeof z === "string" && z ? z : null;
    } catch (e) {
      return null;
    }
  }
  // Sends the next queued text when the socket is ready and no turn is in flight.
  function pump() {
    if (turn !== null || busyTimer || !queue.length) return;
    if (!(ws && ws.readyState === 1 && ready && session)) return;
    turn = queue.shift();
    var frame = { action: "message", tenant_id: tenant, session_id: session, text: turn };
    var zone = browserZone();
    if (zone) frame.client_time_zone = zone;
    ws.send(JSON.stringify(frame));
    var mine = turn;
    clearTimeout(turnTimer);
    // An answer that never comes must not hold the queue forever.
    turnTimer = setTimeout(function () { if (turn === mine) endTurn(); }, TURN_GIVE_UP_MS);
  }
  function endTurn() {
    turn = null;
    clearTimeout(turnTimer);
    pump();
  }
  function sendText(text) {
    queue.push(text);
    pump();
  }
  function hello() {
    var h = { action: "hello", tenant_id: tenant };
    if (session) h.session_id = session;
    ws.send(JSON.stringify(h));
  }
  function connect() {
    // Tenant only: the session goes in the hello frame, never in the URL.
    var url = wsUrl + (wsUrl.indexOf("?") < 0 ? "?" : "&") + "tenant_id=" +
      encodeURIComponent(tenant);
    try { ws = new WebSocket(url); } catch (e) { return retry(); }
    ws.onopen = function () {
      attempt = 0; lostShown = false; everConnected = true; ready = false;
      setConnected(true);
      hello();
    };
    ws.onmessage = function (ev) {
      var m;
      try { m = JSON.parse(ev.data); } catch (e) { return; }
      switch (m.type) {
        case "session": if (typeof m.session_id === "string") keepSession(m.session_id); break;
        case "typing": setTyping(!!m.active); break;
        case "status":
          if (m.state === "working") setChip(m.text);
          else if (m.state === "idle") setChip("");
          else if (m.state === "connected") {
            ready = true;
            pump();
          }
          break;
        case "assistant_message":
          setTyping(false); setChip("");
          addMsg("gmm-bot", m.text);
          onEvents(m.events);
          send.disabled = false;
          endTurn();
          break;
        case "history": onHistory(m); break;
        case "push": onPush(m); break;
        case "error":
          if (m.code === "session_busy" && turn !== null) {
            // Still answering elsewhere: send this text again in a moment.
            queue.unshift(turn);
            turn = null;
            clearTimeout(turnTimer);
            busyTimer = setTimeout(function () { busyTimer = null; pump(); }, BUSY_RETRY_MS);
            break;
          }
          setTyping(false); setChip(""); send.disabled = false;
          if (m.code === "session_not_found") {
            // The server no longer knows this session: ask for a new one.
            try { localStorage.removeItem(storeKey); } catch (e) { /* nothing kept */ }
            session = null; ready = false;
            if (ws && ws.readyState === 1) hello();
          }
          addMsg("gmm-sys", m.message || STRINGS.error);
          if (m.code === "internal_error") toast("system_issue", STRINGS.systemIssue);
          endTurn();
          break;
      }
    };
    ws.onclose = function () {
      setConnected(false); setTyping(false); setChip(""); send.disabled = false; ready = false;
      // The text in flight may have reached the server: it is not sent twice.
      turn = null; clearTimeout(turnTimer);
      if (everConnected && !lostShown) { lostShown = true; toast("connection_lost", STRINGS.connectionLost); }
      retry();
    };
    ws.onerror = function () { /* onclose follows */ };
  }
  function retry() {
    var delay = Math.min(30000, 1000 * Math.pow(2, attempt)) * (0.5 + Math.random() / 2);
    attempt += 1;
    setTimeout(connect, delay);
  }

  function submit(text) {
    text = (text || "").trim();
    if (!text) return;
    addMsg("gmm-user", text);
    sendText(text);
    send.disabled = true;
    setTimeout(function () { send.disabled = false; }, 15000);
  }
  form.addEventListener("submit", function (e) {
    e.preventDefault();
    var t = input.value;
    input.value = "";
    submit(t);
    input.focus();
  });
  input.addEventListener("keydown", function (e) {
    if (e.key === "Enter" && !e.shiftKey) { e.preventDefault(); form.requestSubmit ? form.requestSubmit() : form.dispatchEvent(new Event("submit")); }
  });
  function setOpen(open) {
    panel.hidden = !open;
    launch.setAttribute("aria-expanded", String(open));
    launch.textContent = open ? STRINGS.closeChat : STRINGS.launch;
    if (open) input.focus(); else launch.focus();
  }
  launch.onclick = function () { setOpen(panel.hidden); };
  close.onclick = function () { setOpen(false); };
  panel.addEventListener("keydown", function (e) { if (e.key === "Escape" && !inline) setOpen(false); });
  if (!inline) { panel.hidden = script.dataset.open !== "true"; launch.setAttribute("aria-expanded", String(!panel.hidden)); }
  greeting = addMsg("gmm-bot", STRINGS.greeting);
  connect();
  window.gomomoWidget = { get session() { return session; }, send: submit };
})();
