/*
 * gomomo chat widget — one script tag, no framework, no build step:
 *
 *   <script src="https://your-host/widget.js" data-tenant="TENANT-UUID" defer></script>
 *
 * Optional attributes: data-ws (WebSocket URL; default wss?://<script host>/ws),
 * data-title (header text), data-open="true" (start opened), data-inline="true" (render
 * in place of the script tag instead of a floating launcher), data-lang="en"|"es" (the
 * widget's language; default the browser's when the widget has words for it, else English).
 *
 * Protocol (docs/architecture.md; the /ws socket of gomomo serve and functions/chat-ws): connects
 * with ?tenant_id= only (the session id is a bearer secret and never goes into a URL), then sends
 * {"action":"hello"|"message", tenant_id, session_id, text, locale} (a message also carries
 * client_time_zone, the browser's IANA zone); receives session, typing, status,
 * history (the conversation so far, after a reload or a handoff), assistant_message, push, error.
 *
 * Languages: every frame sent carries the widget's "locale" ("en", "es"). The server's answer
 * to a hello carries "languages" (the tenant's, first = its default) and "locale" (the
 * session's language), which the widget then uses; a language the tenant does not offer falls
 * back to its default. With more than one language the header shows a switch (the other
 * language's own name); switching re-renders the widget's words, is kept in localStorage under
 * "gomomo:lang:<tenant>" (it wins over data-lang on later visits) and sends a hello again with
 * the new locale so the assistant answers in it from the next message on.
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
 * Every word the widget shows or announces is in STRINGS below (one table per language, the
 * same keys in each; a new language is a new table and its name in LANGUAGE_NAMES). The
 * server's own replies come from shared/src/text/.
 */
(function () {
  "use strict";
  var STRINGS = {
    en: {
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
      switchLanguage: "Change language",
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
    },
    es: {
      title: "Reserve una cita",
      launch: "Escríbanos",
      closeChat: "Cerrar chat",
      connected: "Conectado",
      disconnected: "Desconectado",
      conversation: "Conversación",
      yourMessage: "Su mensaje",
      placeholder: "Escriba un mensaje…",
      send: "Enviar",
      typing: "El asistente está escribiendo",
      dismiss: "Cerrar aviso",
      availableTimes: "Horarios disponibles",
      switchLanguage: "Cambiar idioma",
      greeting: "¡Hola! Puedo reservar, cambiar, cancelar o consultar una cita, o anotarle en la lista de espera. ¿En qué le puedo ayudar?",
      bookingConfirmed: function (reference) { return "✅ Reserva confirmada — código " + reference; },
      bookingCancelled: function (reference) { return "ℹ️ Reserva cancelada — " + reference; },
      bookingRescheduled: function (label) { return "✅ Reserva cambiada — " + label; },
      slotUnavailable: "❌ Horario no disponible",
      holdExpired: "⚠️ Se venció el horario apartado",
      systemIssue: "❌ Problema técnico — intente de nuevo",
      followupToast: "✅ Seguimiento programado",
      followupTitle: "Seguimiento programado",
      followupBy: function (sms) { return "Por " + (sms ? "mensaje de texto" : "correo electrónico"); },
      followupExpected: function (expected) { return "Previsto: " + (expected || "pronto"); },
      waitlistJoined: "ℹ️ En la lista de espera",
      waitlistMatch: "Buenas noticias: se acaba de liberar un horario que usted esperaba:",
      bookPrefix: "Quiero reservar ",
      calendarTitle: "Calendario actualizado",
      calendarDone: "Su cita ya está en el calendario.",
      reference: function (reference) { return "Código " + reference; },
      newUpdate: "Tiene una novedad.",
      error: "Algo salió mal.",
      connectionLost: "❌ Se perdió la conexión — reconectando…",
      continuesCall: "Continuación de su llamada",
      continuesText: "Continuación de su mensaje de texto"
    }
  };
  // Each language's name in that language: the switch shows the one it switches to.
  var LANGUAGE_NAMES = { en: "English", es: "Español" };
  var script = document.currentScript;
  if (!script || !script.dataset.tenant) {
    if (window.console) console.error("gomomo widget: data-tenant is required");
    return;
  }
  var tenant = script.dataset.tenant;
  var origin = new URL(script.src, location.href);
  var wsUrl = script.dataset.ws ||
    (origin.protocol === "https:" ? "wss:" : "ws:") + "//" + origin.host + "/ws";
  var storeKey = "gomomo:session:" + tenant;
  var langKey = "gomomo:lang:" + tenant;

  // The widget's language: the person's own switch (kept per tenant), else the page's
  // data-lang, else the browser's; English when none of these has a table. The server's
  // answer to the hello then names the tenant's languages and the session's language.
  function known(code) {
    code = String(code || "").toLowerCase().split("-")[0];
    return Object.prototype.hasOwnProperty.call(STRINGS, code) ? code : null;
  }
  var chosen = null;
  try { chosen = known(localStorage.getItem(langKey)); } catch (e) { chosen = null; }
  var locale = chosen || known(script.dataset.lang) || known(navigator.language) || "en";
  var languages = [];
  var words = STRINGS[locale];
  var title = script.dataset.title || words.title;

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
    ".gmm-lang{background:transparent;border:1px solid rgba(255,255,255,.7);border-radius:12px;color:#fff;font:inherit;font-size:13px;padding:2px 8px;cursor:pointer}" +
    ".gmm-lang[hidden]{display:none}" +
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
  var root = el("div", { "class": "gmm" + (inline ? " gmm-inline" : ""), "data-gomomo": "",
    lang: locale });
  var launch = el("button", { "class": "gmm-launch", type: "button", "aria-expanded": "false",
    "aria-controls": "gmm-panel" }, words.launch);
  var panel = el("section", { "class": "gmm-panel", id: "gmm-panel", role: "dialog",
    "aria-label": title });
  var head = el("div", { "class": "gmm-head" });
  var dot = el("span", { "class": "gmm-dot", role: "img", "aria-label": words.disconnected,
    "data-testid": "connection-dot" });
  var h2 = el("h2", null, title);
  var close = el("button", { "class": "gmm-close", type: "button", "aria-label": words.closeChat }, "×");
  var langButton = el("button", { "class": "gmm-lang", type: "button", hidden: "",
    "data-testid": "language-switch" });
  head.appendChild(dot); head.appendChild(h2); head.appendChild(langButton);
  if (!inline) head.appendChild(close);
  var log = el("div", { "class": "gmm-log", role: "log", "aria-live": "polite",
    "aria-relevant": "additions", "aria-label": words.conversation, tabindex: "0" });
  var chip = el("div", { "class": "gmm-chip", role: "status", hidden: "" });
  var form = el("form", { "class": "gmm-form" });
  var label = el("label", { "class": "gmm-sr", "for": "gmm-input" }, words.yourMessage);
  var input = el("textarea", { id: "gmm-input", rows: "1", maxlength: "2000",
    placeholder: words.placeholder, autocomplete: "off" });
  var send = el("button", { type: "submit" }, words.send);
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
      typing = el("div", { "class": "gmm-msg gmm-bot gmm-typing", "aria-label": words.typing });
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
    var x = el("button", { type: "button", "aria-label": words.dismiss }, "×");
    x.onclick = function () { t.remove(); };
    t.appendChild(x);
    toasts.appendChild(t);
    setTimeout(function () { t.remove(); }, 12000);
  }
  function slotButtons(slots, prefix) {
    var box = el("div", { "class": "gmm-slots", role: "group", "aria-label": words.availableTimes });
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
        m.continues === "sms" ? words.continuesText : words.continuesCall));
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
        case "booking_confirmed": toast(e.kind, words.bookingConfirmed(e.reference)); break;
        case "booking_cancelled": toast(e.kind, words.bookingCancelled(e.reference)); break;
        case "booking_rescheduled": toast(e.kind, words.bookingRescheduled(e.label)); break;
        case "slot_unavailable": toast(e.kind, words.slotUnavailable); break;
        case "hold_expired": toast(e.kind, words.holdExpired); break;
        case "system_issue": toast(e.kind, words.systemIssue); break;
        case "followup_scheduled":
          toast(e.kind, words.followupToast);
          card(words.followupTitle, [words.followupBy(e.channel === "sms"),
            words.followupExpected(e.expected)]);
          break;
        case "waitlist_joined": toast(e.kind, words.waitlistJoined); break;
      }
    });
  }
  function onPush(m) {
    var p = m.payload || {};
    if (m.push_type === "waitlist_match") {
      addMsg("gmm-bot", p.message || words.waitlistMatch);
      var slots = p.slots || (p.label ? [{ label: p.label, start: p.start }] : []);
      if (slots.length) slotButtons(slots, words.bookPrefix);
    } else if (m.push_type === "calendar_retry_success") {
      card(words.calendarTitle, [p.message || words.calendarDone,
        p.reference ? words.reference(p.reference) : ""].filter(Boolean));
    } else {
      addMsg("gmm-bot", p.message || words.newUpdate);
    }
  }

  // ---- language -------------------------------------------------------------------------
  // Every word of the widget in the current language: the fixed parts, the greeting while it
  // is shown, and the switch (the other language's own name; hidden with one language).
  function applyLanguage() {
    words = STRINGS[locale];
    root.setAttribute("lang", locale);
    title = script.dataset.title || words.title;
    panel.setAttribute("aria-label", title);
    h2.textContent = title;
    dot.setAttribute("aria-label", connected ? words.connected : words.disconnected);
    close.setAttribute("aria-label", words.closeChat);
    log.setAttribute("aria-label", words.conversation);
    label.textContent = words.yourMessage;
    input.setAttribute("placeholder", words.placeholder);
    send.textContent = words.send;
    launch.textContent = panel.hidden ? words.launch : words.closeChat;
    if (typing) typing.setAttribute("aria-label", words.typing);
    if (greeting) greeting.textContent = words.greeting;
    var boxes = log.querySelectorAll(".gmm-slots");
    for (var i = 0; i < boxes.length; i++) boxes[i].setAttribute("aria-label", words.availableTimes);
    var other = nextLanguage();
    langButton.hidden = !other;
    if (other) {
      langButton.textContent = LANGUAGE_NAMES[other];
      langButton.setAttribute("lang", other);
      langButton.setAttribute("title", words.switchLanguage);
    }
  }
  // The language the switch leads to: the next of the tenant's languages that the widget
  // has words for (null when the tenant offers only one).
  function nextLanguage() {
    var offered = languages.filter(function (l) { return known(l) === l; });
    if (offered.length < 2) return null;
    var at = offered.indexOf(locale);
    return offered[(at + 1) % offered.length];
  }
  // The server's answer to a hello: the tenant's languages (first = its default) and the
  // session's language, which the widget then speaks.
  function onLanguages(m) {
    if (Array.isArray(m.languages)) languages = m.languages.map(String);
    var next = known(m.locale);
    if (next && (!languages.length || languages.indexOf(next) >= 0)) locale = next;
    else if (languages.length && languages.indexOf(locale) < 0 && known(languages[0])) locale = known(languages[0]);
    applyLanguage();
  }
  // The person's switch: kept for this tenant, and a new hello so the assistant answers in
  // the new language from the next message on.
  langButton.onclick = function () {
    var next = nextLanguage();
    if (!next) return;
    locale = next;
    try { localStorage.setItem(langKey, next); } catch (e) { /* this page only */ }
    applyLanguage();
    // Not in the middle of a turn: the hello then waits for the answer (endTurn).
    if (turn === null) { if (ws && ws.readyState === 1) hello(); } else rehello = true;
  };

  // ---- connection -----------------------------------------------------------------------
  // ready: the server answered this connection's hello (the session is known); texts typed
  // before that, or while a turn is answered (`turn`: the text in flight), wait in `queue`.
  var ws = null, attempt = 0, connected = false, ready = false, queue = [], everConnected = false, lostShown = false;
  var turn = null, turnTimer = null, busyTimer = null, rehello = false;
  var BUSY_RETRY_MS = 1000, TURN_GIVE_UP_MS = 60000;
  function setConnected(on) {
    connected = on;
    dot.className = "gmm-dot" + (on ? " on" : "");
    dot.setAttribute("aria-label", on ? words.connected : words.disconnected);
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
    var frame = { action: "message", tenant_id: tenant, session_id: session, text: turn, locale: locale };
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
    if (rehello && ws && ws.readyState === 1) { rehello = false; hello(); }
    pump();
  }
  function sendText(text) {
    queue.push(text);
    pump();
  }
  function hello() {
    var h = { action: "hello", tenant_id: tenant, locale: locale };
    if (session) h.session_id = session;
    ws.send(JSON.stringify(h));
  }
  function connect() {
    // Tenant only: the session goes in the hello frame, never in the URL.
    var url = wsUrl + (wsUrl.indexOf("?") < 0 ? "?" : "&") + "tenant_id=" +
      encodeURIComponent(tenant);
    try { ws = new WebSocket(url); } catch (e) { return retry(); }
    ws.onopen = function () {
      attempt = 0; lostShown = false; everConnected = true; ready = false; rehello = false;
      setConnected(true);
      hello();
    };
    ws.onmessage = function (ev) {
      var m;
      try { m = JSON.parse(ev.data); } catch (e) { return; }
      if (m.languages || m.locale) onLanguages(m);
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
          addMsg("gmm-sys", m.message || words.error);
          if (m.code === "internal_error") toast("system_issue", words.systemIssue);
          endTurn();
          break;
      }
    };
    ws.onclose = function () {
      setConnected(false); setTyping(false); setChip(""); send.disabled = false; ready = false;
      // The text in flight may have reached the server: it is not sent twice.
      turn = null; clearTimeout(turnTimer);
      if (everConnected && !lostShown) { lostShown = true; toast("connection_lost", words.connectionLost); }
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
    launch.textContent = open ? words.closeChat : words.launch;
    if (open) input.focus(); else launch.focus();
  }
  launch.onclick = function () { setOpen(panel.hidden); };
  close.onclick = function () { setOpen(false); };
  panel.addEventListener("keydown", function (e) { if (e.key === "Escape" && !inline) setOpen(false); });
  if (!inline) { panel.hidden = script.dataset.open !== "true"; launch.setAttribute("aria-expanded", String(!panel.hidden)); }
  greeting = addMsg("gmm-bot", words.greeting);
  connect();
  window.gomomoWidget = { get session() { return session; }, get locale() { return locale; }, send: submit };
})();
