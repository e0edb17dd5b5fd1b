// The business's console: one page over the admin JSON API of the same origin. No build
// step and no dependencies. Every screen is built with DOM calls (never HTML strings), so
// nothing the API returns can become markup. The session token lives in sessionStorage
// and goes out as `Authorization: Bearer`; a 401 returns to the sign-in form.
(function () {
  "use strict";

  var STORE = "gomomo.console";
  var session = null; // {token, tenant_id, user, expires_at}
  var tenant = null; // GET /api/tenants/{t}: name, time_zone, services, business_hours, booking_rules
  var resources = []; // GET …/resources
  var seenBookings = {}; // reference → booking view, from every list the console loaded
  var renderSeq = 0;
  var uid = 0;

  var WEEKDAYS = ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"];
  var POLICY_ACTIONS = [
    "send_confirmation", "send_cancellation", "send_reminder", "retry_calendar_sync",
    "escalate_calendar_failure", "send_hold_followup", "send_waitlist_notification",
    "send_contact_followup", "send_no_show_followup",
  ];

  // ---------- DOM ----------

  function h(tag, attrs) {
    var el = document.createElement(tag);
    if (attrs) {
      Object.keys(attrs).forEach(function (k) {
        var v = attrs[k];
        if (v === null || v === undefined || v === false) return;
        if (k === "text") el.textContent = v;
        else if (k === "class") el.className = v;
        else if (k.slice(0, 2) === "on") el.addEventListener(k.slice(2), v);
        else if (v === true) el.setAttribute(k, "");
        else el.setAttribute(k, String(v));
      });
    }
    for (var i = 2; i < arguments.length; i++) append(el, arguments[i]);
    return el;
  }

  function append(el, child) {
    if (child === null || child === undefined || child === false) return;
    if (Array.isArray(child)) { child.forEach(function (c) { append(el, c); }); return; }
    el.appendChild(typeof child === "string" || typeof child === "number" ? document.createTextNode(String(child)) : child);
  }

  function clear(el) { while (el.firstChild) el.removeChild(el.firstChild); return el; }

  function nextId(prefix) { uid += 1; return (prefix || "f") + "-" + uid; }

  // A labelled control: `input` gets an id and the label points at it.
  function field(label, input, hint) {
    var id = input.id || nextId("f");
    input.id = id;
    var hintEl = null;
    if (hint) {
      hintEl = h("small", { id: id + "-hint", class: "hint", text: hint });
      input.setAttribute("aria-describedby", id + "-hint");
    }
    return h("div", { class: input.type === "checkbox" ? "field check" : "field" },
      h("label", { for: id, text: label }), input, hintEl);
  }

  function input(name, attrs) {
    var a = Object.assign({ name: name, type: "text" }, attrs || {});
    return h("input", a);
  }

  function checkbox(name, checked) {
    var el = h("input", { name: name, type: "checkbox" });
    el.checked = !!checked;
    return el;
  }

  function select(name, options, value) {
    var el = h("select", { name: name });
    options.forEach(function (o) {
      var opt = h("option", { value: o[0], text: o[1] });
      if (String(o[0]) === String(value === undefined || value === null ? "" : value)) opt.selected = true;
      el.appendChild(opt);
    });
    return el;
  }

  function button(text, onclick, cls, attrs) {
    return h("button", Object.assign({ type: "button", class: cls || "", onclick: onclick, text: text }, attrs || {}));
  }

  function table(headers, rows, caption) {
    if (!rows.length) return h("p", { class: "empty muted", text: "Nothing here yet." });
    return h("div", { class: "table-wrap" },
      h("table", null,
        caption ? h("caption", { class: "sr-only", text: caption }) : null,
        h("thead", null, h("tr", null, headers.map(function (t) { return h("th", { scope: "col", text: t }); }))),
        h("tbody", null, rows)));
  }

  function td(content, label) { return h("td", { "data-label": label || "" }, content); }

  function section(title, id) {
    var s = h("section", { class: "card", "aria-labelledby": id });
    s.appendChild(h("h2", { id: id, text: title }));
    return s;
  }

  function badge(text, kind) { return h("span", { class: "badge " + (kind || text), text: text }); }

  function toast(text, bad) {
    var t = document.getElementById("toast");
    clear(t);
    t.className = "toast show" + (bad ? " bad" : "");
    t.textContent = text;
    clearTimeout(toast.timer);
    toast.timer = setTimeout(function () { t.className = "toast"; }, 5000);
  }

  function errorBox(err) {
    return h("p", { class: "error", role: "alert", text: describe(err) });
  }

  function describe(err) {
    if (!err) return "Something went wrong.";
    if (err.unavailable) return "This server does not offer this yet (" + err.status + ").";
    if (err.status === 0) return "The server could not be reached. Check the connection and try again.";
    return (err.message || "Something went wrong.") + (err.code ? " (" + err.code + ")" : "");
  }

  // ---------- API ----------

  function ApiError(status, code, message) {
    this.status = status; this.code = code; this.message = message;
    this.unavailable = status === 405 || (status === 404 && code === "route_not_found");
  }

  function api(method, path, body, opts) {
    opts = opts || {};
    var headers = { Accept: "application/json" };
    if (session) headers.Authorization = "Bearer " + session.token;
    var init = { method: method, headers: headers, credentials: "same-origin" };
    if (body !== undefined && body !== null) {
      if (opts.raw) { init.body = body; headers["Content-Type"] = opts.contentType; }
      else { init.body = JSON.stringify(body); headers["Content-Type"] = "application/json"; }
    }
    return fetch(path, init).then(function (res) {
      if (res.status === 401 && session && !opts.signIn) {
        endSession("Your session has ended. Please sign in again.");
        throw new ApiError(401, "unauthorized", "Please sign in again.");
      }
      if (opts.blob && res.ok) return res.blob().then(function (b) { return { status: res.status, data: b, headers: res.headers }; });
      return res.text().then(function (text) {
        var data = null;
        try { data = text ? JSON.parse(text) : null; } catch (e) { data = null; }
        if (!res.ok) {
          var e = data && data.error ? data.error : {};
          throw new ApiError(res.status, e.code || "http_" + res.status, e.message || res.statusText);
        }
        return { status: res.status, data: data };
      });
    }, function () { throw new ApiError(0, "network", "The server could not be reached."); });
  }

  function T(path) { return "/api/admin/tenants/" + session.tenant_id + (path || ""); }
  function get(path) { return api("GET", T(path)).then(function (r) { return r.data; }); }
  function isOwner() { return session && session.user && session.user.role === "owner"; }

  // ---------- dates (the tenant's local dates as YYYY-MM-DD) ----------

  function tz() { return (tenant && tenant.time_zone) || "UTC"; }

  function todayLocal() {
    return new Intl.DateTimeFormat("en-CA", { timeZone: tz(), year: "numeric", month: "2-digit", day: "2-digit" }).format(new Date());
  }

  function parseDay(d) { var p = d.split("-").map(Number); return new Date(Date.UTC(p[0], p[1] - 1, p[2])); }
  function fmtDay(dt) { return dt.toISOString().slice(0, 10); }
  function addDays(d, n) { var dt = parseDay(d); dt.setUTCDate(dt.getUTCDate() + n); return fmtDay(dt); }
  function isoWeekday(d) { var w = parseDay(d).getUTCDay(); return w === 0 ? 7 : w; }
  function weekStart(d) { return addDays(d, 1 - isoWeekday(d)); }
  function longDay(d) {
    return parseDay(d).toLocaleDateString("en-GB", { timeZone: "UTC", weekday: "long", day: "numeric", month: "long", year: "numeric" });
  }
  function shortDay(d) {
    return parseDay(d).toLocaleDateString("en-GB", { timeZone: "UTC", weekday: "short", day: "numeric", month: "short" });
  }
  function validDay(d) { return /^\d{4}-\d{2}-\d{2}$/.test(d || "") && !isNaN(parseDay(d).getTime()); }

  // A UTC instant shown in the tenant's zone.
  function when(iso) {
    if (!iso) return "—";
    var d = new Date(iso);
    if (isNaN(d.getTime())) return iso;
    return d.toLocaleString("en-GB", { timeZone: tz(), day: "numeric", month: "short", hour: "2-digit", minute: "2-digit" });
  }

  // A booking's local time (its string carries the tenant's offset): "HH:MM".
  function hm(local) { return local ? local.slice(11, 16) : ""; }
  function minutesOf(hhmm) { var p = hhmm.split(":").map(Number); return p[0] * 60 + p[1]; }

  // The tenant's UTC offset at a local date and time, as "+HH:MM".
  function offsetAt(day, time) {
    var p = day.split("-").map(Number), t = time.split(":").map(Number);
    var guess = Date.UTC(p[0], p[1] - 1, p[2], t[0], t[1]);
    var off = 0;
    for (var i = 0; i < 2; i++) {
      var parts = new Intl.DateTimeFormat("en-US", { timeZone: tz(), timeZoneName: "longOffset" }).formatToParts(new Date(guess - off * 60000));
      var name = (parts.find(function (x) { return x.type === "timeZoneName"; }) || {}).value || "GMT";
      var m = /GMT([+-])(\d{2}):?(\d{2})?/.exec(name);
      off = m ? (m[1] === "-" ? -1 : 1) * (Number(m[2]) * 60 + Number(m[3] || 0)) : 0;
    }
    var sign = off < 0 ? "-" : "+", a = Math.abs(off);
    return sign + String(Math.floor(a / 60)).padStart(2, "0") + ":" + String(a % 60).padStart(2, "0");
  }

  function localInstant(day, time) { return day + "T" + time + ":00" + offsetAt(day, time); }

  // ---------- names ----------

  function serviceName(id) {
    var s = tenant && tenant.services.find(function (x) { return x.id === id; });
    return s ? s.name : "Service " + String(id || "").slice(0, 8);
  }
  function resourceName(id) {
    var r = resources.find(function (x) { return x.id === id; });
    return r ? r.name : "Resource " + String(id || "").slice(0, 8);
  }
  function serviceOptions(withAny) {
    var opts = (tenant ? tenant.services : []).map(function (s) { return [s.id, s.name + " (" + s.duration_minutes + " min)"]; });
    return withAny ? [["", withAny]].concat(opts) : opts;
  }
  function resourceOptions(withAny) {
    var opts = resources.filter(function (r) { return r.active; }).map(function (r) { return [r.id, r.name]; });
    return withAny ? [["", withAny]].concat(opts) : opts;
  }

  function loadTenant() {
    return Promise.all([
      api("GET", "/api/tenants/" + session.tenant_id).then(function (r) { tenant = r.data; }),
      get("/resources").then(function (r) { resources = r; }),
    ]).then(function () {
      document.getElementById("tenant-name").textContent = tenant.name;
      document.title = tenant.name + " — console";
    });
  }

  // ---------- session ----------

  function saveSession(s) {
    session = s;
    try { sessionStorage.setItem(STORE, JSON.stringify(s)); } catch (e) { /* storage blocked: this tab only */ }
  }

  function endSession(message) {
    session = null; tenant = null; resources = []; seenBookings = {};
    try { sessionStorage.removeItem(STORE); } catch (e) { /* nothing stored */ }
    showSignIn(message);
  }

  function showSignIn(message) {
    document.getElementById("app").hidden = true;
    document.getElementById("signin").hidden = false;
    var err = document.getElementById("signin-error");
    err.hidden = !message;
    err.textContent = message || "";
    document.title = "Sign in — console";
    document.getElementById("signin-email").focus();
  }

  function signIn(ev) {
    ev.preventDefault();
    var form = ev.target;
    var err = document.getElementById("signin-error");
    var email = form.email.value.trim(), password = form.password.value;
    if (!email || !password) { err.hidden = false; err.textContent = "Enter your email and password."; return; }
    var btn = form.querySelector("button[type=submit]");
    var body = { email: email, password: password };
    var tenantField = document.getElementById("signin-tenant-field");
    if (!tenantField.hidden && form.tenant.value.trim()) body.tenant_id = form.tenant.value.trim();
    btn.disabled = true;
    api("POST", "/api/admin/sign-in", body, { signIn: true }).then(function (r) {
      form.password.value = "";
      saveSession({ token: r.data.token, tenant_id: r.data.tenant_id, user: r.data.user, expires_at: r.data.expires_at });
      return start();
    }).catch(function (e) {
      err.hidden = false;
      if (e.code === "tenant_required") {
        tenantField.hidden = false;
        form.tenant.focus();
        err.textContent = "Which business? Enter its id.";
        return;
      }
      err.textContent = e.status === 401 ? "That email and password do not match." :
        e.status === 429 ? "Too many attempts. Wait a minute and try again." : describe(e);
    }).then(function () { btn.disabled = false; });
  }

  function signOut() {
    var done = function () { endSession("You have signed out."); };
    api("POST", "/api/admin/sign-out").then(done, done);
  }

  function start() {
    document.getElementById("signin").hidden = true;
    document.getElementById("app").hidden = false;
    var u = session.user || {};
    document.getElementById("who").textContent = (u.name || u.email || "") + (u.role ? " · " + u.role : "");
    return loadTenant().then(function () {
      if (!location.hash || location.hash === "#" || location.hash === "#/") location.hash = "#/today";
      else route();
    }).catch(function (e) {
      if (session) clear(document.getElementById("main")).appendChild(errorBox(e));
    });
  }

  // ---------- routing ----------

  var ROUTES = [
    [/^#\/today$/, function () { return dayView(todayLocal()); }],
    [/^#\/day\/(\d{4}-\d{2}-\d{2})$/, function (m) { return dayView(m[1]); }],
    [/^#\/week$/, function () { return weekView(weekStart(todayLocal())); }],
    [/^#\/week\/(\d{4}-\d{2}-\d{2})$/, function (m) { return weekView(weekStart(m[1])); }],
    [/^#\/new$/, function () { return newBooking(); }],
    [/^#\/booking\/([0-9A-Za-z-]{8,9})$/, function (m) { return bookingView(m[1].toUpperCase()); }],
    [/^#\/waitlist$/, function () { return waitlistView(); }],
    [/^#\/notifications$/, function () { return notificationsView(); }],
    [/^#\/webhooks$/, function () { return webhooksView(); }],
    [/^#\/transcripts$/, function () { return transcriptsView(); }],
    [/^#\/transcripts\/(call|chat)\/([^/]+)$/, function (m) { return transcriptView(m[1], decodeURIComponent(m[2])); }],
    [/^#\/policies$/, function () { return policiesView(); }],
    [/^#\/services$/, function () { return servicesView(); }],
    [/^#\/resources$/, function () { return resourcesView(); }],
    [/^#\/hours$/, function () { return hoursView(); }],
    [/^#\/exceptions$/, function () { return exceptionsView(); }],
    [/^#\/calendar$/, function () { return calendarView(); }],
    [/^#\/excel$/, function () { return excelView(); }],
    [/^#\/numbers$/, function () { return numbersView(); }],
    [/^#\/people$/, function () { return peopleView(); }],
  ];

  function route() {
    if (!session || !tenant) return;
    var hash = (location.hash || "#/today").split("?")[0];
    var main = document.getElementById("main");
    var seq = ++renderSeq;
    closeNav();
    markCurrent(hash);
    var found = null, m = null;
    for (var i = 0; i < ROUTES.length && !found; i++) { m = ROUTES[i][0].exec(hash); if (m) found = ROUTES[i][1]; }
    var page = h("div", { class: "page" });
    main.removeAttribute("data-ready");
    clear(main).appendChild(page);
    var built = found ? found(m) : Promise.resolve([h("h1", { text: "Not found" }), h("p", { text: "There is no such screen." })]);
    Promise.resolve(built).then(function (nodes) {
      if (seq !== renderSeq) return;
      clear(page); append(page, nodes);
      var h1 = page.querySelector("h1");
      if (h1) { h1.setAttribute("tabindex", "-1"); h1.focus({ preventScroll: true }); document.title = h1.textContent + " — " + tenant.name; }
      main.setAttribute("data-ready", location.hash);
    }).catch(function (e) {
      if (seq !== renderSeq || !session) return;
      clear(page).appendChild(errorBox(e));
      main.setAttribute("data-ready", location.hash);
    });
  }

  function markCurrent(hash) {
    var key = hash.split("/").slice(0, 2).join("/");
    if (key === "#/day") key = "#/today";
    if (key === "#/booking") key = "";
    document.querySelectorAll("#nav a").forEach(function (a) {
      if (a.getAttribute("href") === key) a.setAttribute("aria-current", "page");
      else a.removeAttribute("aria-current");
    });
  }

  function toggleNav() {
    var btn = document.getElementById("nav-toggle");
    var open = btn.getAttribute("aria-expanded") !== "true";
    btn.setAttribute("aria-expanded", String(open));
    document.getElementById("nav").classList.toggle("open", open);
    if (open) { var first = document.querySelector("#nav a"); if (first) first.focus(); }
  }

  function closeNav() {
    document.getElementById("nav-toggle").setAttribute("aria-expanded", "false");
    document.getElementById("nav").classList.remove("open");
  }

  function rerender() { route(); }

  // ---------- bookings: day and week ----------

  function listBookings(from, to) {
    return get("/bookings?from=" + from + "&to=" + to + "&limit=500").then(function (r) {
      r.bookings.forEach(function (b) { seenBookings[b.reference] = b; });
      return r.bookings;
    });
  }

  function dayNav(kind, day, step) {
    var base = kind === "day" ? "#/day/" : "#/week/";
    var dateInput = input("date", { type: "date", value: day });
    dateInput.addEventListener("change", function () { if (validDay(dateInput.value)) location.hash = base + dateInput.value; });
    return h("div", { class: "toolbar" },
      h("a", { class: "btn", href: base + addDays(day, -step), text: "‹ Previous" }),
      h("a", { class: "btn", href: kind === "day" ? "#/today" : "#/week", text: kind === "day" ? "Today" : "This week" }),
      h("a", { class: "btn", href: base + addDays(day, step), text: "Next ›" }),
      field(kind === "day" ? "Go to day" : "Go to week of", dateInput),
      kind === "day" ? h("a", { class: "btn", href: "#/week/" + day, text: "Week view" }) : null,
      h("a", { class: "btn primary", href: "#/new", text: "New booking" }));
  }

  function bookingLabel(b) {
    return hm(b.start) + "–" + hm(b.end) + " " + b.client_name + " · " + serviceName(b.service_id) +
      (b.status === "cancelled" ? " (cancelled)" : "") + (b.outcome ? " (" + b.outcome.replace("_", "-") + ")" : "");
  }

  function bookingClass(b) {
    return "booking " + b.status + (b.outcome ? " " + b.outcome : "");
  }

  // Side by side where bookings overlap (a cancelled one and the booking that took its
  // time): each gets a lane, and each group of overlapping bookings shares the width.
  function lanes(list) {
    var sorted = list.slice().sort(function (a, b) { return a.start.localeCompare(b.start) || (a.status === "cancelled" ? 1 : -1); });
    var out = [], group = [], ends = [], groupEnd = "";
    function flush() { group.forEach(function (x) { x.of = ends.length; }); group = []; ends = []; }
    sorted.forEach(function (b) {
      if (group.length && b.start >= groupEnd) flush();
      var lane = ends.findIndex(function (e) { return e <= b.start; });
      if (lane < 0) { lane = ends.length; ends.push(b.end); } else ends[lane] = b.end;
      if (b.end > groupEnd || !group.length) groupEnd = b.end > groupEnd ? b.end : groupEnd;
      var x = { booking: b, lane: lane, of: 1 };
      group.push(x); out.push(x);
    });
    flush();
    return out;
  }

  function dayView(day) {
    return listBookings(day, day).then(function (bookings) {
      var cols = resources.filter(function (r) { return r.active || bookings.some(function (b) { return b.resource_id === r.id; }); });
      var wd = isoWeekday(day);
      var hours = tenant.business_hours.filter(function (x) { return x.weekday === wd; });
      var lo = hours.length ? Math.min.apply(null, hours.map(function (x) { return minutesOf(x.opens); })) : 9 * 60;
      var hi = hours.length ? Math.max.apply(null, hours.map(function (x) { return minutesOf(x.closes); })) : 17 * 60;
      bookings.forEach(function (b) { lo = Math.min(lo, minutesOf(hm(b.start))); hi = Math.max(hi, minutesOf(hm(b.end)) || 24 * 60); });
      lo = Math.floor(lo / 60) * 60; hi = Math.ceil(hi / 60) * 60;
      var live = bookings.filter(function (b) { return b.status !== "cancelled"; }).length;
      var title = day === todayLocal() ? "Today, " + longDay(day) : longDay(day);
      var grid = h("div", { class: "day-grid", role: "region", "aria-label": "Bookings of " + longDay(day) + " by resource" });
      var axis = h("div", { class: "axis", "aria-hidden": "true" });
      for (var m = lo; m < hi; m += 60) {
        var tick = h("div", { class: "tick", text: String(m / 60).padStart(2, "0") + ":00" });
        tick.style.top = (m - lo) + "px";
        axis.appendChild(tick);
      }
      axis.style.height = (hi - lo) + "px";
      grid.appendChild(h("div", { class: "col axis-col" }, h("div", { class: "col-head", "aria-hidden": "true" }, "\u00a0"), axis));
      cols.forEach(function (r) {
        var body = h("ul", { class: "col-body", "aria-label": r.name });
        body.style.height = (hi - lo) + "px";
        for (var m2 = lo; m2 < hi; m2 += 60) {
          var line = h("li", { class: "hour-line", "aria-hidden": "true" });
          line.style.top = (m2 - lo) + "px";
          body.appendChild(line);
        }
        lanes(bookings.filter(function (b) { return b.resource_id === r.id; })).forEach(function (x) {
          var b = x.booking;
          var top = minutesOf(hm(b.start)) - lo;
          var end = minutesOf(hm(b.end)) || 24 * 60;
          var li = h("li", { class: bookingClass(b) },
            h("a", { href: "#/booking/" + b.reference, "aria-label": bookingLabel(b) },
              h("strong", { text: hm(b.start) + " " + b.client_name }),
              h("span", { text: serviceName(b.service_id) + (b.status === "cancelled" ? " · cancelled" : "") + (b.outcome ? " · " + b.outcome.replace("_", "-") : "") })));
          li.style.top = top + "px";
          li.style.height = Math.max(22, end - minutesOf(hm(b.start)) - 2) + "px";
          li.style.left = "calc(" + (100 * x.lane / x.of) + "% + 4px)";
          li.style.width = "calc(" + (100 / x.of) + "% - 8px)";
          body.appendChild(li);
        });
        grid.appendChild(h("div", { class: "col" }, h("div", { class: "col-head", text: r.name }), body));
      });
      return [
        h("h1", { text: title }),
        h("p", { class: "muted", text: live + (live === 1 ? " booking" : " bookings") + " · times in " + tz() }),
        dayNav("day", day, 1),
        cols.length ? h("div", { class: "day-scroll" }, grid) : h("p", { class: "muted", text: "No resources yet: add staff or rooms under Resources." }),
      ];
    });
  }

  function weekView(monday) {
    var sunday = addDays(monday, 6);
    return listBookings(monday, sunday).then(function (bookings) {
      var days = [0, 1, 2, 3, 4, 5, 6].map(function (i) { return addDays(monday, i); });
      var blocks = resources.filter(function (r) { return r.active || bookings.some(function (b) { return b.resource_id === r.id; }); }).map(function (r) {
        var id = nextId("wk");
        return h("section", { class: "week-resource", "aria-labelledby": id },
          h("h2", { id: id, text: r.name }),
          h("div", { class: "week-grid" }, days.map(function (d) {
            var mine = bookings.filter(function (b) { return b.resource_id === r.id && b.start.slice(0, 10) === d; });
            return h("div", { class: "week-day" + (d === todayLocal() ? " today" : "") },
              h("h3", null, h("a", { href: "#/day/" + d, text: shortDay(d) })),
              mine.length ? h("ul", null, mine.map(function (b) {
                return h("li", { class: bookingClass(b) }, h("a", { href: "#/booking/" + b.reference, text: hm(b.start) + " " + b.client_name }));
              })) : h("p", { class: "muted small", text: "—" }));
          })));
      });
      return [h("h1", { text: "Week of " + shortDay(monday) }), h("p", { class: "muted", text: "Times in " + tz() }), dayNav("week", monday, 7), blocks];
    });
  }

  // ---------- a slot picker (free times from availability, or an exact time) ----------

  function slotPicker(getService, initialDay) {
    var day = input("day", { type: "date", value: initialDay || todayLocal(), required: true });
    var slots = select("slot", [["", "Choose a day to see free times"]]);
    var exact = input("exact", { type: "time", step: 300 });
    var status = h("p", { class: "muted small", "aria-live": "polite" });
    function load() {
      var service = getService();
      clear(slots).appendChild(h("option", { value: "", text: "Loading…" }));
      if (!service || !validDay(day.value)) { clear(slots).appendChild(h("option", { value: "", text: "Choose a service and a day" })); return; }
      api("GET", "/api/tenants/" + session.tenant_id + "/availability?service=" + service + "&from=" + day.value + "&to=" + day.value).then(function (r) {
        clear(slots);
        if (!r.data.slots.length) slots.appendChild(h("option", { value: "", text: "No free times that day" }));
        else slots.appendChild(h("option", { value: "", text: r.data.slots.length + " free times — choose one" }));
        r.data.slots.forEach(function (s) { slots.appendChild(h("option", { value: s.start, text: hm(s.start) + "–" + hm(s.end) })); });
        status.textContent = "";
      }).catch(function (e) { clear(slots).appendChild(h("option", { value: "", text: "Free times unavailable" })); status.textContent = describe(e); });
    }
    day.addEventListener("change", load);
    return {
      nodes: [field("Day", day), field("Free time", slots), field("Or an exact time (staff override)", exact, "Used instead of a free time; books outside the rules only with the override ticked."), status],
      load: load,
      value: function () { return exact.value ? localInstant(day.value, exact.value) : slots.value; },
    };
  }

  // ---------- a booking ----------

  function bookingView(ref) {
    return api("GET", T("/bookings/" + ref)).then(function (r) { return r.data; }, function (e) {
      if (!e.unavailable) throw e;
      var key = ref.slice(0, 4) + "-" + ref.slice(-4);
      var found = function () { return seenBookings[ref] || seenBookings[key]; };
      if (found()) return { booking: found(), history: null };
      // A server without the booking's own route: look for it around today.
      var today = todayLocal();
      return listBookings(addDays(today, -90), addDays(today, 365)).then(function () {
        if (!found()) throw new ApiError(404, "booking_not_found", "No booking " + key + " between three months ago and a year ahead.");
        return { booking: found(), history: null };
      });
    }).then(function (d) {
      var b = d.booking;
      seenBookings[b.reference] = b;
      var facts = h("dl", { class: "facts" },
        fact("Reference", b.reference), fact("Status", badge(b.status)), fact("Outcome", b.outcome ? badge(b.outcome) : "—"),
        fact("When", b.start.slice(0, 10) + " " + hm(b.start) + "–" + hm(b.end) + " (" + b.time_zone + ")"),
        fact("Service", serviceName(b.service_id)), fact("With", resourceName(b.resource_id)),
        fact("Client", b.client_name), fact("Email", b.client_email || "—"), fact("Phone", b.client_phone || "—"),
        fact("Notes", b.notes || "—"), fact("Booked", when(b.created_at)), fact("Changes", String(b.sequence)),
        b.client_confirmed_at ? fact("Client confirmed", b.client_confirmed_at) : null,
        b.confirm_by ? fact("Must confirm by", b.confirm_by) : null);
      var out = h("div", { class: "msg", role: "status", "aria-live": "polite" });
      var actions = h("div", { class: "toolbar" });
      if (b.status !== "cancelled") {
        // Attendance is known once the booking has started.
        if (new Date(b.start) <= new Date()) {
          actions.appendChild(button("Mark attended", function () { outcome(b, "attended", out); }));
          actions.appendChild(button("Mark no-show", function () { outcome(b, "no_show", out); }));
        }
        var confirmBox = h("div", { class: "confirm", hidden: true },
          h("p", { text: "Cancel " + b.client_name + "'s booking? The client is told." }),
          button("Yes, cancel the booking", function () {
            api("POST", T("/bookings/" + b.reference + "/cancel")).then(function (r) {
              seenBookings[b.reference] = r.data;
              toast("Booking " + b.reference + " cancelled");
              rerender();
            }).catch(function (e) { clear(out).appendChild(errorBox(e)); });
          }, "danger"),
          button("Keep it", function () { confirmBox.hidden = true; }));
        actions.appendChild(button("Cancel booking", function () { confirmBox.hidden = false; confirmBox.querySelector("button").focus(); }, "danger"));
        actions.appendChild(confirmBox);
      }
      var nodes = [
        h("h1", { text: "Booking " + b.reference }),
        h("p", null, h("a", { href: "#/day/" + b.start.slice(0, 10), text: "‹ Back to " + shortDay(b.start.slice(0, 10)) })),
        h("section", { class: "card", "aria-label": "Details" }, facts, actions, out),
      ];
      if (b.status !== "cancelled") nodes.push(rescheduleForm(b));
      var hist = section("History", "history-h");
      if (d.history === null) hist.appendChild(h("p", { class: "muted", text: "This server does not offer the booking's history yet." }));
      else hist.appendChild(historyList(d.history));
      nodes.push(hist);
      return nodes;
    });
  }

  function fact(k, v) { return [h("dt", { text: k }), h("dd", null, v)]; }

  function historyList(rows) {
    if (!rows.length) return h("p", { class: "muted", text: "No recorded changes." });
    return h("ol", { class: "history" }, rows.map(function (e) {
      return h("li", null, h("strong", { text: e.event_type }), " · ", when(e.created_at), " · ",
        h("span", { text: e.actor_label || e.actor || "system" }),
        e.payload && Object.keys(e.payload).length ? h("details", null, h("summary", { text: "Details" }), h("pre", { text: JSON.stringify(e.payload, null, 2) })) : null);
    }));
  }

  function outcome(b, what, out) {
    api("POST", T("/bookings/" + b.reference + "/outcome"), { outcome: what }).then(function (r) {
      seenBookings[b.reference] = r.data;
      toast("Marked " + (what === "no_show" ? "no-show" : "attended"));
      rerender();
    }).catch(function (e) { clear(out).appendChild(errorBox(e)); });
  }

  function rescheduleForm(b) {
    var s = section("Reschedule", "resched-h");
    var res = select("resource", resourceOptions("Keep " + resourceName(b.resource_id)), "");
    var override = checkbox("override", false);
    var picker = slotPicker(function () { return b.service_id; }, b.start.slice(0, 10));
    var out = h("div", { class: "msg", "aria-live": "polite" });
    var form = h("form", { class: "form", novalidate: true },
      picker.nodes, field("Resource", res), field("Override the booking rules", override),
      h("button", { type: "submit", class: "primary", text: "Move the booking" }), out);
    form.addEventListener("submit", function (ev) {
      ev.preventDefault();
      var start = picker.value();
      if (!start) { clear(out).appendChild(h("p", { class: "error", role: "alert", text: "Choose a free time or enter an exact time." })); return; }
      var body = { start: start };
      if (res.value) body.resource_id = res.value;
      if (override.checked) body.override_rules = true;
      api("POST", T("/bookings/" + b.reference + "/reschedule"), body).then(function (r) {
        seenBookings[r.data.reference] = r.data;
        toast("Moved to " + r.data.start.slice(0, 10) + " " + hm(r.data.start));
        rerender();
      }).catch(function (e) { clear(out).appendChild(errorBox(e)); });
    });
    s.appendChild(form);
    picker.load();
    return s;
  }

  function newBooking() {
    var service = select("service", serviceOptions());
    var res = select("resource", resourceOptions("Any free one"));
    var picker = slotPicker(function () { return service.value; });
    service.addEventListener("change", picker.load);
    var name = input("client_name", { required: true, autocomplete: "off", maxlength: 200 });
    var email = input("client_email", { type: "email", required: true, autocomplete: "off" });
    var phone = input("client_phone", { type: "tel", autocomplete: "off", placeholder: "+15555550123" });
    var notes = h("textarea", { name: "notes", rows: 2, maxlength: 2000 });
    var override = checkbox("override_rules", false);
    var out = h("div", { class: "msg", "aria-live": "polite" });
    var form = h("form", { class: "form card", novalidate: true },
      field("Service", service), field("Resource", res), picker.nodes,
      field("Client's name", name), field("Client's email", email), field("Client's phone (optional)", phone, "E.164, e.g. +15555550123"),
      field("Notes (optional)", notes), field("Override the booking rules", override),
      h("button", { type: "submit", class: "primary", text: "Book" }), out);
    form.addEventListener("submit", function (ev) {
      ev.preventDefault();
      var start = picker.value();
      if (!start || !name.value.trim() || !email.value.trim()) {
        clear(out).appendChild(h("p", { class: "error", role: "alert", text: "A time, the client's name and email are needed." }));
        return;
      }
      var body = { service_id: service.value, start: start, client_name: name.value.trim(), client_email: email.value.trim() };
      if (res.value) body.resource_id = res.value;
      if (phone.value.trim()) body.client_phone = phone.value.trim();
      if (notes.value.trim()) body.notes = notes.value.trim();
      if (override.checked) body.override_rules = true;
      var btn = form.querySelector("button[type=submit]");
      btn.disabled = true;
      api("POST", T("/bookings"), body).then(function (r) {
        seenBookings[r.data.reference] = r.data;
        toast("Booked " + r.data.reference + " for " + r.data.client_name);
        location.hash = "#/booking/" + r.data.reference;
      }).catch(function (e) { clear(out).appendChild(errorBox(e)); }).then(function () { btn.disabled = false; });
    });
    picker.load();
    return [h("h1", { text: "New booking" }), h("p", { class: "muted", text: "For a client who phoned or walked in. Times in " + tz() + "." }), form];
  }

  // ---------- waitlist ----------

  function statusFilter(states, current, base) {
    var sel = select("status", [["", "All"]].concat(states.map(function (s) { return [s, s.replace("_", " ")]; })), current);
    sel.addEventListener("change", function () { location.hash = base + (sel.value ? "?" + sel.value : ""); });
    return h("div", { class: "toolbar" }, field("Status", sel));
  }

  function hashParam() { var i = location.hash.indexOf("?"); return i < 0 ? "" : location.hash.slice(i + 1); }

  function waitlistView() {
    var status = hashParam();
    return get("/waitlist" + (status ? "?status=" + status : "")).then(function (rows) {
      return [h("h1", { text: "Waitlist" }), statusFilter(["waiting", "offered", "booked", "expired", "cancelled"], status, "#/waitlist"),
        table(["Client", "Service", "Wanted", "Status", "Added"], rows.map(function (w) {
          return h("tr", null,
            td([w.client_name || "—", h("br"), h("small", { class: "muted", text: [w.client_email, w.client_phone].filter(Boolean).join(" · ") })], "Client"),
            td(w.service_id ? serviceName(w.service_id) : "Any", "Service"),
            td((w.preferred_from || "any day") + (w.preferred_to && w.preferred_to !== w.preferred_from ? " – " + w.preferred_to : "") + (w.time_of_day ? ", " + w.time_of_day : ""), "Wanted"),
            td([badge(w.status), w.offer_expires_at ? h("small", { text: " until " + when(w.offer_expires_at) }) : null], "Status"),
            td(when(w.created_at), "Added"));
        }), "Waitlist")];
    });
  }

  // ---------- notifications ----------

  function notificationsView() {
    var status = hashParam();
    return get("/notifications" + (status ? "?status=" + status : "")).then(function (rows) {
      return [h("h1", { text: "Notifications" }), h("p", { class: "muted", text: "Emails and texts to clients, newest first. A failed one can be sent again." }),
        statusFilter(["queued", "sent", "failed", "skipped"], status, "#/notifications"),
        table(["Message", "To", "Status", "Tries", "Created", ""], rows.map(notificationRow), "Notifications")];
    });
  }

  function notificationRow(n) {
    var statusCell = td([badge(n.status), n.last_error ? h("small", { class: "error-text", text: " " + n.last_error }) : null], "Status");
    var tries = td(n.attempts + " / " + n.max_attempts, "Tries");
    var act = td(n.status === "failed" ? button("Retry", function (ev) {
      var btn = ev.target;
      btn.disabled = true;
      api("POST", T("/notifications/" + n.id + "/retry")).then(function (r) {
        clear(statusCell).appendChild(badge(r.data.status));
        tries.textContent = r.data.attempts + " / " + r.data.max_attempts;
        btn.remove();
        toast("Queued again: " + n.kind + " to " + n.recipient);
      }).catch(function (e) { btn.disabled = false; toast(describe(e), true); });
    }, "", { "aria-label": "Retry " + n.kind + " to " + n.recipient }) : "", "");
    return h("tr", { "data-id": n.id },
      td([h("strong", { text: n.kind }), " · " + n.channel, n.subject ? h("div", { class: "small", text: n.subject }) : null], "Message"),
      td(n.recipient, "To"), statusCell, tries, td(when(n.created_at), "Created"), act);
  }

  // ---------- webhooks ----------

  function webhooksView() {
    var status = hashParam();
    return Promise.all([get("/webhooks"), get("/webhook-deliveries" + (status ? "?status=" + status : ""))]).then(function (r) {
      var endpoints = r[0], deliveries = r[1];
      var eps = section("Endpoints", "wh-eps");
      eps.appendChild(table(["URL", "Events", "State", ""], endpoints.map(function (w) {
        return h("tr", null, td([h("code", { text: w.url }), w.description ? h("div", { class: "small muted", text: w.description }) : null], "URL"),
          td(w.event_types.length ? w.event_types.join(", ") : "every event", "Events"),
          td(badge(w.enabled ? "enabled" : "disabled"), "State"),
          td([button(w.enabled ? "Disable" : "Enable", function () {
            api("PATCH", T("/webhooks/" + w.id), { enabled: !w.enabled }).then(rerender, function (e) { toast(describe(e), true); });
          }), button("Delete", function () {
            api("DELETE", T("/webhooks/" + w.id)).then(function () { toast("Endpoint deleted"); rerender(); }, function (e) { toast(describe(e), true); });
          }, "danger", { "aria-label": "Delete " + w.url })], ""));
      }), "Webhook endpoints"));
      var url = input("url", { type: "url", required: true, placeholder: "https://example.com/hooks/gomomo" });
      var events = input("event_types", { placeholder: "BookingCreated, BookingCancelled" });
      var desc = input("description", { maxlength: 200 });
      var out = h("div", { class: "msg", "aria-live": "polite" });
      var form = h("form", { class: "form inline-form", novalidate: true },
        field("URL", url), field("Events (comma-separated; empty: all)", events), field("Description", desc),
        h("button", { type: "submit", class: "primary", text: "Add endpoint" }), out);
      form.addEventListener("submit", function (ev) {
        ev.preventDefault();
        var types = events.value.split(",").map(function (s) { return s.trim(); }).filter(Boolean);
        api("POST", T("/webhooks"), { url: url.value.trim(), event_types: types, description: desc.value.trim() }).then(function (res) {
          clear(out).appendChild(secretBox("Signing secret of " + res.data.url, res.data.secret));
          toast("Endpoint added");
        }).catch(function (e) { clear(out).appendChild(errorBox(e)); });
      });
      eps.appendChild(h("h3", { text: "Add an endpoint" }));
      eps.appendChild(form);

      var dl = section("Deliveries", "wh-dl");
      dl.appendChild(statusFilter(["pending", "delivered", "dead"], status, "#/webhooks"));
      dl.appendChild(table(["Event", "Status", "Tries", "Last answer", "Created", ""], deliveries.map(function (d) {
        var st = td(badge(d.status), "Status");
        return h("tr", null, td(d.event_type, "Event"), st, td(d.attempts + " / " + d.max_attempts, "Tries"),
          td((d.last_status_code ? "HTTP " + d.last_status_code + " " : "") + (d.last_error || ""), "Last answer"),
          td(when(d.created_at), "Created"),
          td(d.status !== "delivered" ? button("Retry", function (ev) {
            ev.target.disabled = true;
            api("POST", T("/webhook-deliveries/" + d.id + "/retry")).then(function (res) {
              clear(st).appendChild(badge(res.data.status)); ev.target.remove(); toast("Delivery queued again");
            }, function (e) { ev.target.disabled = false; toast(describe(e), true); });
          }, "", { "aria-label": "Retry delivery of " + d.event_type }) : "", ""));
      }), "Webhook deliveries"));
      return [h("h1", { text: "Webhooks" }), eps, dl];
    });
  }

  function secretBox(title, secret) {
    var code = h("code", { class: "secret", text: secret });
    var box = h("div", { class: "secret-box", role: "alert" },
      h("strong", { text: title }), h("p", { text: "Shown once: copy it now. Only its hash is kept." }), code,
      h("div", { class: "toolbar" },
        button("Copy", function () { if (navigator.clipboard) navigator.clipboard.writeText(secret).then(function () { toast("Copied"); }, function () { toast("Select and copy it by hand", true); }); }),
        button("I have stored it", function () { box.remove(); })));
    return box;
  }

  // ---------- transcripts ----------

  function transcriptsView() {
    return Promise.all([get("/calls?limit=50"), get("/chats?limit=50")]).then(function (r) {
      var calls = section("Calls", "tr-calls"), chats = section("Chats", "tr-chats");
      calls.appendChild(table(["Call", "From", "Turns", "Started", "Status"], r[0].map(function (c) {
        return h("tr", null, td(h("a", { href: "#/transcripts/call/" + encodeURIComponent(c.call_sid), text: c.call_sid.slice(0, 12) + "…" }), "Call"),
          td(c.from_number, "From"), td(String(c.turn_count), "Turns"), td(when(c.started_at), "Started"), td(badge(c.status), "Status"));
      }), "Calls"));
      chats.appendChild(table(["Chat", "Channel", "Messages", "Last message"], r[1].map(function (c) {
        return h("tr", null, td(h("a", { href: "#/transcripts/chat/" + encodeURIComponent(c.handle), text: c.handle }), "Chat"),
          td(c.channel, "Channel"), td(String(c.messages), "Messages"), td(when(c.updated_at), "Last message"));
      }), "Chats"));
      return [h("h1", { text: "Transcripts" }), h("p", { class: "muted", text: "Names, emails and numbers are hidden unless an owner asks to see them (that viewing is recorded)." }), calls, chats];
    });
  }

  function transcriptView(kind, id) {
    var unredacted = hashParam() === "unredacted";
    var path = (kind === "call" ? "/calls/" : "/chats/") + encodeURIComponent(id) + (unredacted ? "?unredacted=true" : "");
    return get(path).then(function (t) {
      var base = "#/transcripts/" + kind + "/" + encodeURIComponent(id);
      var lines = h("ol", { class: "transcript" }, t.lines.map(function (l) {
        return h("li", { class: "line " + l.speaker }, h("span", { class: "speaker", text: l.speaker }), h("p", { text: l.text }), l.at ? h("small", { class: "muted", text: when(l.at) }) : null);
      }));
      var toggle = isOwner() ? h("a", { class: "btn", href: unredacted ? base : base + "?unredacted", text: unredacted ? "Hide personal details" : "Show unredacted (recorded)" }) : null;
      return [h("h1", { text: (kind === "call" ? "Call " : "Chat ") + id }),
        h("p", null, h("a", { href: "#/transcripts", text: "‹ All transcripts" })),
        h("div", { class: "toolbar" }, badge(t.redacted ? "redacted" : "unredacted"), toggle), lines];
    });
  }

  // ---------- policies ----------

  function policiesView() {
    return get("/policies").then(function (rows) {
      var mine = rows.filter(function (p) { return p.tenant_id; }), global = rows.filter(function (p) { return !p.tenant_id; });
      var own = section("Your rules", "pol-own");
      own.appendChild(h("p", { class: "muted", text: "Your rules come before the defaults; among yours, higher priority first." }));
      own.appendChild(table(["Action", "Effect", "Conditions", "Priority", "State", ""], mine.map(function (p) {
        var row = h("tr", { "data-policy": p.id });
        append(row, [td(p.action, "Action"), td(badge(p.effect), "Effect"), td(h("code", { text: JSON.stringify(p.conditions) }), "Conditions"),
          td(String(p.priority), "Priority"), td(badge(p.enabled ? "enabled" : "disabled"), "State"),
          td([button("Change", function () {
            var editor = h("tr", { class: "editor" }, h("td", { colspan: 6 }, policyForm(p)));
            row.after(editor);
            editor.querySelector("select, input").focus();
          }, "", { "aria-label": "Change rule " + p.action + " " + p.effect }),
          button("Delete", function () {
            api("DELETE", T("/policies/" + p.id)).then(function () { toast("Rule deleted"); rerender(); }, function (e) { toast(describe(e), true); });
          }, "danger", { "aria-label": "Delete rule " + p.action + " " + p.effect })], "")]);
        return row;
      }), "Your policy rules"));
      own.appendChild(h("h3", { text: "Add a rule" }));
      own.appendChild(policyForm(null));
      var defs = section("Defaults", "pol-def");
      defs.appendChild(table(["Action", "Effect", "Conditions", "Priority", "Description"], global.map(function (p) {
        return h("tr", null, td(p.action, "Action"), td(badge(p.effect), "Effect"), td(h("code", { text: JSON.stringify(p.conditions) }), "Conditions"),
          td(String(p.priority), "Priority"), td(p.description, "Description"));
      }), "Default policy rules"));
      return [h("h1", { text: "Policies" }), h("p", { class: "muted", text: "What the assistant may do on its own: send reminders, follow up, retry the calendar." }), own, defs];
    });
  }

  function policyForm(p) {
    var action = select("action", POLICY_ACTIONS.map(function (a) { return [a, a]; }), p ? p.action : "send_reminder");
    var effect = select("effect", [["allow", "allow"], ["deny", "deny"]], p ? p.effect : "allow");
    var conds = h("textarea", { name: "conditions", rows: 2, spellcheck: "false" });
    conds.value = p ? JSON.stringify(p.conditions) : "{}";
    var prio = input("priority", { type: "number", min: -1000, max: 1000, value: p ? p.priority : 0 });
    var enabled = checkbox("enabled", p ? p.enabled : true);
    var desc = input("description", { maxlength: 500, value: p ? p.description : "" });
    var out = h("div", { class: "msg", "aria-live": "polite" });
    var form = h("form", { class: "form inline-form", novalidate: true },
      field("Action", action), field("Effect", effect),
      field("Conditions (JSON)", conds, "e.g. {\"channel\": \"sms\", \"min_hours_until_start\": 2}"),
      field("Priority", prio), field("Enabled", enabled), field("Description", desc),
      h("button", { type: "submit", class: "primary", text: p ? "Save rule" : "Add rule" }), out);
    form.addEventListener("submit", function (ev) {
      ev.preventDefault();
      var c;
      try { c = JSON.parse(conds.value || "{}"); } catch (e) { clear(out).appendChild(h("p", { class: "error", role: "alert", text: "Conditions must be a JSON object." })); return; }
      var body = { action: action.value, effect: effect.value, conditions: c, priority: Number(prio.value || 0), enabled: enabled.checked, description: desc.value };
      api(p ? "PUT" : "POST", T("/policies" + (p ? "/" + p.id : "")), body).then(function () {
        toast(p ? "Rule saved" : "Rule added"); rerender();
      }).catch(function (e) { clear(out).appendChild(errorBox(e)); });
    });
    return form;
  }

  // ---------- services ----------

  function resourceChecks(selected) {
    var box = h("fieldset", { class: "checks" }, h("legend", { text: "Who can do it" }));
    resources.forEach(function (r) {
      var c = checkbox("resource", selected.indexOf(r.id) >= 0);
      c.value = r.id;
      box.appendChild(field(r.name, c));
    });
    return box;
  }

  function checkedValues(box) {
    return Array.prototype.map.call(box.querySelectorAll("input[type=checkbox]:checked"), function (c) { return c.value; });
  }

  function servicesView() {
    return loadTenant().then(function () {
      var list = section("Services", "svc-list");
      list.appendChild(table(["Service", "Length", "Who", ""], tenant.services.map(function (s) {
        var row = h("tr", null, td([h("strong", { text: s.name }), s.description ? h("div", { class: "small muted", text: s.description }) : null], "Service"),
          td(s.duration_minutes + " min", "Length"), td(s.resource_ids.map(resourceName).join(", ") || "—", "Who"));
        row.appendChild(td([button("Change", function () {
          var ed = h("tr", { class: "editor" }, h("td", { colspan: 4 }, serviceForm(s), serviceRules(s)));
          row.after(ed); ed.querySelector("input").focus();
        }, "", { "aria-label": "Change " + s.name })], ""));
        return row;
      }), "Services"));
      var add = section("Add a service", "svc-add");
      add.appendChild(serviceForm(null));
      return [h("h1", { text: "Services" }), h("p", { class: "muted", text: "A deactivated service leaves this list and can no longer be booked." }), list, add];
    });
  }

  function serviceForm(s) {
    var name = input("name", { required: true, maxlength: 200, value: s ? s.name : "" });
    var desc = input("description", { maxlength: 1000, value: s ? s.description : "" });
    var mins = input("duration_minutes", { type: "number", min: 5, max: 1440, step: 5, value: s ? s.duration_minutes : 30 });
    var active = checkbox("active", s ? s.active : true);
    var who = resourceChecks(s ? s.resource_ids : resources.map(function (r) { return r.id; }));
    var out = h("div", { class: "msg", "aria-live": "polite" });
    var form = h("form", { class: "form inline-form", novalidate: true },
      field("Name", name), field("Description", desc), field("Length (minutes)", mins), s ? field("Active", active) : null, who,
      h("button", { type: "submit", class: "primary", text: s ? "Save service" : "Add service" }), out);
    form.addEventListener("submit", function (ev) {
      ev.preventDefault();
      var body = { name: name.value.trim(), description: desc.value.trim(), duration_minutes: Number(mins.value), resource_ids: checkedValues(who) };
      if (s) body.active = active.checked;
      api(s ? "PATCH" : "POST", T("/services" + (s ? "/" + s.id : "")), body).then(function () {
        toast(s ? "Service saved" : "Service added"); rerender();
      }).catch(function (e) { clear(out).appendChild(errorBox(e)); });
    });
    return form;
  }

  function numberOrNull(v) { return v === "" ? null : Number(v); }

  function serviceRules(s) {
    var box = h("div", { class: "sub" }, h("h3", { text: "Booking rules of " + s.name }));
    var out = h("div", { class: "msg", "aria-live": "polite" });
    get("/services/" + s.id + "/rules").then(function (r) {
      var cap = input("max_per_day", { type: "number", min: 1, max: 1000, value: r.max_per_day === null ? "" : r.max_per_day });
      var notice = input("min_notice_minutes", { type: "number", min: 0, max: 43200, value: r.min_notice_minutes === null ? "" : r.min_notice_minutes });
      var before = input("buffer_before_minutes", { type: "number", min: 0, max: 240, value: r.buffer_before_minutes === null ? "" : r.buffer_before_minutes });
      var after = input("buffer_after_minutes", { type: "number", min: 0, max: 240, value: r.buffer_after_minutes === null ? "" : r.buffer_after_minutes });
      var form = h("form", { class: "form inline-form", novalidate: true },
        field("At most per day (empty: no cap)", cap), field("Minimum notice, minutes (empty: the business's)", notice),
        field("Free before, minutes", before), field("Free after, minutes", after),
        h("button", { type: "submit", text: "Save rules" }), out);
      form.addEventListener("submit", function (ev) {
        ev.preventDefault();
        api("PUT", T("/services/" + s.id + "/rules"), { max_per_day: numberOrNull(cap.value), min_notice_minutes: numberOrNull(notice.value),
          buffer_before_minutes: numberOrNull(before.value), buffer_after_minutes: numberOrNull(after.value) })
          .then(function () { clear(out).appendChild(h("p", { class: "ok", text: "Rules saved." })); }, function (e) { clear(out).appendChild(errorBox(e)); });
      });
      box.appendChild(form);
    }).catch(function (e) { box.appendChild(errorBox(e)); });
    return box;
  }

  // ---------- resources ----------

  function resourcesView() {
    return get("/resources").then(function (rows) {
      resources = rows;
      var list = section("Resources", "res-list");
      list.appendChild(table(["Name", "Kind", "State", ""], rows.map(function (r) {
        var row = h("tr", null, td(h("strong", { text: r.name }), "Name"), td(r.kind, "Kind"), td(badge(r.active ? "active" : "inactive"), "State"));
        row.appendChild(td(button("Change", function () {
          var ed = h("tr", { class: "editor" }, h("td", { colspan: 4 }, resourceForm(r), resourceHours(r), resourceRules(r)));
          row.after(ed); ed.querySelector("input").focus();
        }, "", { "aria-label": "Change " + r.name }), ""));
        return row;
      }), "Resources"));
      var add = section("Add a resource", "res-add");
      add.appendChild(resourceForm(null));
      return [h("h1", { text: "Resources" }), h("p", { class: "muted", text: "Staff and rooms that bookings are made with; each can have its own hours." }), list, add];
    });
  }

  function resourceForm(r) {
    var name = input("name", { required: true, maxlength: 200, value: r ? r.name : "" });
    var kind = select("kind", [["staff", "staff"], ["room", "room"]], r ? r.kind : "staff");
    var active = checkbox("active", r ? r.active : true);
    var out = h("div", { class: "msg", "aria-live": "polite" });
    var form = h("form", { class: "form inline-form", novalidate: true },
      field("Name", name), field("Kind", kind), r ? field("Active", active) : null,
      h("button", { type: "submit", class: "primary", text: r ? "Save resource" : "Add resource" }), out);
    form.addEventListener("submit", function (ev) {
      ev.preventDefault();
      var body = { name: name.value.trim(), kind: kind.value };
      if (r) body.active = active.checked;
      api(r ? "PATCH" : "POST", T("/resources" + (r ? "/" + r.id : "")), body).then(function () {
        toast(r ? "Resource saved" : "Resource added"); rerender();
      }).catch(function (e) { clear(out).appendChild(errorBox(e)); });
    });
    return form;
  }

  // An editor of weekly intervals: rows of weekday, opens, closes.
  function hoursEditor(initial) {
    var rows = h("div", { class: "hours-rows" });
    function addRow(x) {
      var wd = select("weekday", WEEKDAYS.map(function (d, i) { return [i + 1, d]; }), x ? x.weekday : 1);
      var o = input("opens", { type: "time", value: x ? x.opens : "09:00", required: true });
      var c = input("closes", { type: "time", value: x ? x.closes : "17:00", required: true });
      var row = h("div", { class: "hours-row" }, field("Day", wd), field("Opens", o), field("Closes", c));
      row.appendChild(button("Remove", function () { row.remove(); }, "", { "aria-label": "Remove this interval" }));
      rows.appendChild(row);
    }
    (initial || []).slice().sort(function (a, b) { return a.weekday - b.weekday || a.opens.localeCompare(b.opens); }).forEach(addRow);
    return {
      node: h("div", null, rows, button("Add an interval", function () { addRow(null); })),
      value: function () {
        return Array.prototype.map.call(rows.querySelectorAll(".hours-row"), function (row) {
          return { weekday: Number(row.querySelector("[name=weekday]").value), opens: row.querySelector("[name=opens]").value, closes: row.querySelector("[name=closes]").value };
        });
      },
    };
  }

  function affectedList(list) {
    if (!list || !list.length) return null;
    return h("div", { class: "notice" }, h("p", { text: list.length + " booking(s) now fall outside; they are kept:" }),
      h("ul", null, list.map(function (b) { return h("li", null, h("a", { href: "#/booking/" + b.reference, text: b.start.slice(0, 10) + " " + hm(b.start) + " " + b.client_name })); })));
  }

  function resourceHours(r) {
    var box = h("div", { class: "sub" }, h("h3", { text: "Hours of " + r.name }));
    get("/resources/" + r.id + "/hours").then(function (x) {
      var ed = hoursEditor(x.hours);
      var out = h("div", { class: "msg", "aria-live": "polite" });
      box.appendChild(h("p", { class: "muted small", text: x.uses_tenant_hours ? "Works the business's hours. Add intervals to give " + r.name + " hours of their own." : "Own hours." }));
      box.appendChild(ed.node);
      box.appendChild(h("div", { class: "toolbar" },
        button("Save hours", function () {
          api("PUT", T("/resources/" + r.id + "/hours"), { hours: ed.value() }).then(function (res) {
            clear(out); append(out, [h("p", { class: "ok", text: "Hours saved." }), affectedList(res.data.affected)]);
          }, function (e) { clear(out).appendChild(errorBox(e)); });
        }, "primary"),
        button("Use the business's hours", function () {
          api("DELETE", T("/resources/" + r.id + "/hours")).then(function (res) {
            clear(out); append(out, [h("p", { class: "ok", text: "Back to the business's hours." }), affectedList(res.data && res.data.affected)]);
          }, function (e) { clear(out).appendChild(errorBox(e)); });
        })));
      box.appendChild(out);
    }).catch(function (e) { box.appendChild(errorBox(e)); });
    return box;
  }

  function resourceRules(r) {
    var box = h("div", { class: "sub" }, h("h3", { text: "Booking rules of " + r.name }));
    get("/resources/" + r.id + "/rules").then(function (x) {
      var cap = input("max_per_day", { type: "number", min: 1, max: 1000, value: x.max_per_day === null ? "" : x.max_per_day });
      var out = h("div", { class: "msg", "aria-live": "polite" });
      var form = h("form", { class: "form inline-form", novalidate: true }, field("At most per day (empty: no cap)", cap), h("button", { type: "submit", text: "Save rules" }), out);
      form.addEventListener("submit", function (ev) {
        ev.preventDefault();
        api("PUT", T("/resources/" + r.id + "/rules"), { max_per_day: numberOrNull(cap.value) })
          .then(function () { clear(out).appendChild(h("p", { class: "ok", text: "Rules saved." })); }, function (e) { clear(out).appendChild(errorBox(e)); });
      });
      box.appendChild(form);
    }).catch(function (e) { box.appendChild(errorBox(e)); });
    return box;
  }

  // ---------- hours and booking rules ----------

  function hoursView() {
    return Promise.all([loadTenant(), get("/rules"), get("/attendance-policy")]).then(function (r) {
      var rules = r[1], attendance = r[2];
      var hoursSec = section("Weekly hours", "hours-h");
      var ed = hoursEditor(tenant.business_hours);
      var out = h("div", { class: "msg", "aria-live": "polite" });
      hoursSec.appendChild(ed.node);
      hoursSec.appendChild(button("Save weekly hours", function () {
        api("PUT", T("/hours"), { hours: ed.value() }).then(function () { toast("Weekly hours saved"); rerender(); }, function (e) { clear(out).appendChild(errorBox(e)); });
      }, "primary"));
      hoursSec.appendChild(out);

      var br = tenant.booking_rules;
      var rulesSec = section("Booking rules", "rules-h");
      var step = input("slot_step_minutes", { type: "number", min: 5, max: 240, value: br.slot_step_minutes });
      var notice = input("min_notice_minutes", { type: "number", min: 0, max: 43200, value: br.min_notice_minutes });
      var ahead = input("max_days_ahead", { type: "number", min: 1, max: 730, value: br.max_days_ahead });
      var buffer = input("buffer_minutes", { type: "number", min: 0, max: 240, value: br.buffer_minutes });
      var cutoff = input("self_service_cutoff_minutes", { type: "number", min: 0, max: 43200, value: rules.self_service_cutoff_minutes });
      var out2 = h("div", { class: "msg", "aria-live": "polite" });
      var f = h("form", { class: "form inline-form", novalidate: true },
        field("Slot step, minutes", step), field("Minimum notice, minutes", notice), field("Bookable days ahead", ahead), field("Buffer between bookings, minutes", buffer),
        field("Clients may change or cancel until, minutes before", cutoff),
        h("button", { type: "submit", class: "primary", text: "Save booking rules" }), out2);
      f.addEventListener("submit", function (ev) {
        ev.preventDefault();
        api("PATCH", T(""), { slot_step_minutes: Number(step.value), min_notice_minutes: Number(notice.value), max_days_ahead: Number(ahead.value), buffer_minutes: Number(buffer.value) })
          .then(function () { return api("PUT", T("/rules"), { self_service_cutoff_minutes: Number(cutoff.value) }); })
          .then(function () { toast("Booking rules saved"); return loadTenant(); })
          .catch(function (e) { clear(out2).appendChild(errorBox(e)); });
      });
      rulesSec.appendChild(f);

      var attSec = section("No-shows and late cancellations", "att-h");
      var late = input("late_cancel_minutes", { type: "number", min: 0, max: 43200, value: attendance.late_cancel_minutes });
      var thr = input("no_show_confirm_threshold", { type: "number", min: 1, max: 100, value: attendance.no_show_confirm_threshold === null ? "" : attendance.no_show_confirm_threshold });
      var hrs = input("no_show_confirm_hours", { type: "number", min: 1, max: 336, value: attendance.no_show_confirm_hours });
      var out3 = h("div", { class: "msg", "aria-live": "polite" });
      var f2 = h("form", { class: "form inline-form", novalidate: true },
        field("A cancellation is late inside, minutes", late), field("Ask to confirm after this many no-shows (empty: never)", thr), field("Confirmation due, hours before", hrs),
        h("button", { type: "submit", class: "primary", text: "Save" }), out3);
      f2.addEventListener("submit", function (ev) {
        ev.preventDefault();
        api("PUT", T("/attendance-policy"), { late_cancel_minutes: Number(late.value), no_show_confirm_threshold: numberOrNull(thr.value), no_show_confirm_hours: Number(hrs.value) })
          .then(function () { toast("Attendance policy saved"); }, function (e) { clear(out3).appendChild(errorBox(e)); });
      });
      attSec.appendChild(f2);
      return [h("h1", { text: "Hours & rules" }), h("p", { class: "muted", text: "Local times in " + tz() + "." }), hoursSec, rulesSec, attSec];
    });
  }

  // ---------- schedule exceptions ----------

  var EXCEPTION_KINDS = [["closed", "Closed (whole business)"], ["time_off", "Time off (one resource)"], ["extra_hours", "Extra hours"]];

  function exceptionsView() {
    return get("/exceptions").then(function (r) {
      var list = section("Coming up", "exc-list");
      list.appendChild(table(["What", "Dates", "Hours", "Note", ""], r.exceptions.map(function (x) {
        var out = h("div", { class: "msg", "aria-live": "polite" });
        return h("tr", null,
          td([badge(x.kind.replace("_", " "), x.kind), x.resource_id ? " " + resourceName(x.resource_id) : ""], "What"),
          td(x.start_date + (x.end_date !== x.start_date ? " – " + x.end_date : "") + (x.recurring_yearly ? " (every year)" : ""), "Dates"),
          td(x.start_time ? x.start_time + "–" + x.end_time : "all day", "Hours"), td(x.note || "—", "Note"),
          td([button("Affected bookings", function () {
            get("/exceptions/" + x.id + "/affected").then(function (a) {
              clear(out); append(out, affectedList(a.affected || a) || h("p", { class: "muted", text: "No bookings inside." }));
            }, function (e) { clear(out).appendChild(errorBox(e)); });
          }, "", { "aria-label": "Bookings affected by " + x.kind + " on " + x.start_date }),
          button("Notify clients", function () {
            api("POST", T("/exceptions/" + x.id + "/notify"), {}).then(function (res) {
              clear(out).appendChild(h("p", { class: "ok", text: res.data.notified.length + " client(s) notified." }));
            }, function (e) { clear(out).appendChild(errorBox(e)); });
          }, "", { "aria-label": "Notify clients affected by " + x.kind + " on " + x.start_date }),
          button("Delete", function () {
            api("DELETE", T("/exceptions/" + x.id)).then(function () { toast("Deleted"); rerender(); }, function (e) { toast(describe(e), true); });
          }, "danger", { "aria-label": "Delete " + x.kind + " on " + x.start_date }), out], ""));
      }), "Schedule exceptions"));

      var kind = select("kind", EXCEPTION_KINDS, "closed");
      var res = select("resource_id", resourceOptions("The whole business"));
      var from = input("start_date", { type: "date", required: true, value: addDays(todayLocal(), 1) });
      var to = input("end_date", { type: "date" });
      var st = input("start_time", { type: "time" });
      var et = input("end_time", { type: "time" });
      var yearly = checkbox("recurring_yearly", false);
      var note = input("note", { maxlength: 500 });
      var out = h("div", { class: "msg", "aria-live": "polite" });
      var form = h("form", { class: "form inline-form", novalidate: true },
        field("Kind", kind), field("Resource", res), field("From", from), field("Until (inclusive, optional)", to),
        field("From time (optional)", st), field("Until time", et), field("Every year", yearly), field("Note", note),
        h("button", { type: "submit", class: "primary", text: "Add" }), out);
      form.addEventListener("submit", function (ev) {
        ev.preventDefault();
        var body = { kind: kind.value, start_date: from.value, recurring_yearly: yearly.checked, note: note.value.trim() };
        if (res.value) body.resource_id = res.value;
        if (to.value) body.end_date = to.value;
        if (st.value) body.start_time = st.value;
        if (et.value) body.end_time = et.value;
        api("POST", T("/exceptions"), body).then(function (r2) {
          toast("Added " + ({ closed: "a closure", time_off: "time off", extra_hours: "extra hours" }[body.kind] || body.kind) + " on " + body.start_date);
          var aff = affectedList(r2.data.affected);
          return Promise.resolve(rerender()).then(function () { if (aff) toast(r2.data.affected.length + " booking(s) inside: notify their clients from the list", false); });
        }).catch(function (e) { clear(out).appendChild(errorBox(e)); });
      });
      var add = section("Add a closure, time off or extra hours", "exc-add");
      add.appendChild(form);
      return [h("h1", { text: "Closures & time off" }), h("p", { class: "muted", text: "Bookings inside a closure are kept, never cancelled: notify their clients." }), list, add];
    });
  }

  // ---------- calendar connections ----------

  function calendarView() {
    return get("/delivery-health").then(function (hl) {
      var g = section("Google Calendar", "cal-g");
      var out = h("div", { class: "msg", "aria-live": "polite" });
      g.appendChild(h("p", { text: "Bookings are copied to the connected calendar. Connecting opens Google's consent page in this browser." }));
      g.appendChild(button("Connect Google Calendar", function () {
        api("POST", T("/calendar/google/connect")).then(function (r) {
          clear(out).appendChild(h("p", null, "Continue at Google: ", h("a", { href: r.data.authorization_url, rel: "noopener", text: "open the consent page" })));
        }, function (e) {
          clear(out).appendChild(h("p", { class: "error", role: "alert", text: e.status === 503 || e.code === "google_not_configured" ? "Google Calendar is not configured on this server." : describe(e) }));
        });
      }, "primary"));
      g.appendChild(out);
      var s = section("Delivery health", "cal-h");
      var bad = hl.failed + hl.overdue + hl.jobs_overdue + hl.jobs_failed;
      s.appendChild(h("p", null, badge(bad ? "attention" : "healthy", bad ? "failed" : "sent")));
      s.appendChild(h("dl", { class: "facts" },
        fact("Not yet delivered", String(hl.undelivered)), fact("Failed (recently)", String(hl.failed)), fact("Overdue", String(hl.overdue)),
        fact("Calendar jobs overdue", String(hl.jobs_overdue)), fact("Calendar jobs failed", String(hl.jobs_failed)),
        fact("Oldest overdue", hl.oldest_overdue_seconds === null ? "—" : Math.round(hl.oldest_overdue_seconds / 60) + " min")));
      s.appendChild(h("p", null, h("a", { href: "#/notifications?failed", text: "See failed notifications" })));
      return [h("h1", { text: "Calendar sync" }), g, s];
    });
  }

  // ---------- Excel ----------

  function excelView() {
    var exp = section("Export", "xl-exp");
    var from = input("from", { type: "date", value: todayLocal() });
    var to = input("to", { type: "date", value: addDays(todayLocal(), 30) });
    var out = h("div", { class: "msg", "aria-live": "polite" });
    var ef = h("form", { class: "form inline-form", novalidate: true }, field("From", from), field("To", to), h("button", { type: "submit", class: "primary", text: "Download .xlsx" }), out);
    ef.addEventListener("submit", function (ev) {
      ev.preventDefault();
      var q = [];
      if (from.value) q.push("from=" + from.value);
      if (to.value) q.push("to=" + to.value);
      api("GET", T("/appointments.xlsx" + (q.length ? "?" + q.join("&") : "")), null, { blob: true }).then(function (r) {
        var url = URL.createObjectURL(r.data);
        var a = h("a", { href: url, download: "appointments-" + (from.value || "all") + ".xlsx", text: "appointments.xlsx" });
        clear(out).appendChild(h("p", { class: "ok" }, "Ready: ", a, " (" + Math.round(r.data.size / 102.4) / 10 + " KB)"));
        a.click();
      }).catch(function (e) { clear(out).appendChild(errorBox(e)); });
    });
    exp.appendChild(ef);

    var imp = section("Import", "xl-imp");
    var file = input("file", { type: "file", accept: ".xlsx,application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", required: true });
    var out2 = h("div", { class: "msg", "aria-live": "polite" });
    var inf = h("form", { class: "form inline-form", novalidate: true }, field("Spreadsheet (.xlsx, as exported)", file), h("button", { type: "submit", class: "primary", text: "Upload" }), out2);
    inf.addEventListener("submit", function (ev) {
      ev.preventDefault();
      var f = file.files && file.files[0];
      if (!f) { clear(out2).appendChild(h("p", { class: "error", role: "alert", text: "Choose a file first." })); return; }
      api("POST", T("/appointments.xlsx"), f, { raw: true, contentType: "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet" }).then(function (r) {
        var s = r.data;
        clear(out2); append(out2, [h("p", { class: "ok", text: s.applied + " applied, " + s.unchanged + " unchanged, " + s.dead_lettered.length + " set aside." }),
          s.dead_lettered.length ? table(["Row", "Reference", "Why"], s.dead_lettered.map(function (d) {
            return h("tr", null, td(String(d.row), "Row"), td(d.reference || "—", "Reference"), td(d.reason, "Why"));
          }), "Rows set aside") : null]);
      }).catch(function (e) { clear(out2).appendChild(errorBox(e)); });
    });
    imp.appendChild(inf);

    var dead = section("Rows set aside", "xl-dead");
    return get("/excel/dead-letters").then(function (found) {
      var rows = Array.isArray(found) ? found : [];
      dead.appendChild(table(["Row", "Reference", "What", "Why", "Tries", "When", ""], rows.map(function (d) {
        return h("tr", null, td(d.row_number ? String(d.row_number) : "—", "Row"), td(d.reference || "—", "Reference"),
          td(d.operation || "—", "What"), td(d.error || "—", "Why"), td(String(d.attempts || 0), "Tries"),
          td(when(d.created_at), "When"),
          td([button("Retry", function (ev) {
            ev.target.disabled = true;
            api("POST", T("/excel/dead-letters/" + d.id + "/retry")).then(function (after) {
              toast(after && after.resolved_at ? "Row applied" : "Row still refused: " + ((after && after.error) || ""), !(after && after.resolved_at));
              rerender();
            }, function (e) { ev.target.disabled = false; toast(describe(e), true); });
          }, "", { "aria-label": "Retry row " + (d.row_number || "") })], ""));
      }), "Rows set aside"));
    }, function (e) {
      dead.appendChild(e.unavailable ? h("p", { class: "muted", text: "This server does not list set-aside rows yet." }) : errorBox(e));
    }).then(function () {
      return [h("h1", { text: "Excel" }), h("p", { class: "muted", text: "Download the appointments, change them in a spreadsheet, upload them back." }), exp, imp, dead];
    });
  }

  // ---------- numbers and the admin email ----------

  function numbersView() {
    return Promise.all([get("/phone-numbers"), get("/admin-email")]).then(function (r) {
      var nums = section("Phone numbers", "num-h");
      nums.appendChild(table(["Number", "Calls", "Texts", ""], r[0].map(function (n) {
        return h("tr", null, td(h("code", { text: n.phone_number }), "Number"), td(n.voice_enabled ? "yes" : "no", "Calls"), td(n.sms_enabled ? "yes" : "no", "Texts"),
          td(isOwner() ? button("Remove", function () {
            api("DELETE", T("/phone-numbers/" + encodeURIComponent(n.phone_number))).then(function () { toast("Number removed"); rerender(); }, function (e) { toast(describe(e), true); });
          }, "danger", { "aria-label": "Remove " + n.phone_number }) : "", ""));
      }), "Phone numbers"));
      var num = input("phone_number", { type: "tel", required: true, placeholder: "+18005550100" });
      var voice = checkbox("voice_enabled", true), sms = checkbox("sms_enabled", true);
      var out = h("div", { class: "msg", "aria-live": "polite" });
      var nf = h("form", { class: "form inline-form", novalidate: true }, field("Number (E.164)", num), field("Answer calls", voice), field("Answer and send texts", sms),
        h("button", { type: "submit", class: "primary", text: "Attach number" }), out);
      nf.addEventListener("submit", function (ev) {
        ev.preventDefault();
        api("PUT", T("/phone-numbers/" + encodeURIComponent(num.value.trim())), { voice_enabled: voice.checked, sms_enabled: sms.checked })
          .then(function () { toast("Number attached"); rerender(); }, function (e) { clear(out).appendChild(errorBox(e)); });
      });
      if (isOwner()) nums.appendChild(nf);

      var mail = section("Admin email", "mail-h");
      var em = input("admin_email", { type: "email", value: r[1].admin_email || "", placeholder: "frontdesk@clinic.example" });
      var out2 = h("div", { class: "msg", "aria-live": "polite" });
      var mf = h("form", { class: "form inline-form", novalidate: true }, field("Where escalations go (empty: nowhere)", em),
        h("button", { type: "submit", class: "primary", text: "Save email", disabled: !isOwner() }), out2);
      mf.addEventListener("submit", function (ev) {
        ev.preventDefault();
        api("PUT", T("/admin-email"), { admin_email: em.value.trim() || null }).then(function (res) {
          clear(out2).appendChild(h("p", { class: "ok", text: res.data.admin_email ? "Escalations go to " + res.data.admin_email + "." : "No admin email set." }));
        }, function (e) { clear(out2).appendChild(errorBox(e)); });
      });
      mail.appendChild(mf);
      return [h("h1", { text: "Numbers & email" }), nums, mail];
    });
  }

  // ---------- people and keys ----------

  function peopleView() {
    if (!isOwner()) return [h("h1", { text: "People & keys" }), h("p", { text: "Only an owner manages people and keys." })];
    return Promise.all([get("/users"), get("/keys")]).then(function (r) {
      var users = section("People", "ppl-h");
      users.appendChild(table(["Person", "Role", "State", ""], r[0].map(function (u) {
        var role = select("role", [["owner", "owner"], ["staff", "staff"]], u.role);
        role.setAttribute("aria-label", "Role of " + u.email);
        role.addEventListener("change", function () {
          api("PATCH", T("/users/" + u.id), { role: role.value }).then(function () { toast("Role changed"); }, function (e) { role.value = u.role; toast(describe(e), true); });
        });
        return h("tr", null, td([h("strong", { text: u.name || u.email }), h("div", { class: "small muted", text: u.email })], "Person"), td(role, "Role"),
          td(badge(u.disabled ? "disabled" : "enabled"), "State"),
          td([button(u.disabled ? "Enable" : "Disable", function () {
            api("PATCH", T("/users/" + u.id), { disabled: !u.disabled }).then(rerender, function (e) { toast(describe(e), true); });
          }, "", { "aria-label": (u.disabled ? "Enable " : "Disable ") + u.email }),
          button("Remove", function () {
            api("DELETE", T("/users/" + u.id)).then(function () { toast("Removed " + u.email); rerender(); }, function (e) { toast(describe(e), true); });
          }, "danger", { "aria-label": "Remove " + u.email })], ""));
      }), "People"));
      var email = input("email", { type: "email", required: true, autocomplete: "off" });
      var name = input("name", { autocomplete: "off" });
      var role = select("role", [["staff", "staff"], ["owner", "owner"]], "staff");
      var pw = input("password", { type: "password", required: true, autocomplete: "new-password", minlength: 12 });
      var out = h("div", { class: "msg", "aria-live": "polite" });
      var uf = h("form", { class: "form inline-form", novalidate: true }, field("Email", email), field("Name", name), field("Role", role), field("First password", pw, "At least 12 characters."),
        h("button", { type: "submit", class: "primary", text: "Add person" }), out);
      uf.addEventListener("submit", function (ev) {
        ev.preventDefault();
        api("POST", T("/users"), { email: email.value.trim(), name: name.value.trim() || null, role: role.value, password: pw.value })
          .then(function () { toast("Added " + email.value.trim()); rerender(); }, function (e) { clear(out).appendChild(errorBox(e)); });
      });
      users.appendChild(h("h3", { text: "Add a person" }));
      users.appendChild(uf);

      // Who made a key: the person's email rather than their id.
      var people = {};
      r[0].forEach(function (u) { people["admin_user:" + u.id] = u.email; });
      var maker = function (by) { return people[by] || (/^admin_key:/.test(by) ? "a key" : by); };
      var keys = section("API keys", "keys-h");
      var secretSlot = h("div", { class: "msg", "aria-live": "polite" });
      keys.appendChild(h("p", { class: "muted", text: "For machines. A key's secret is shown once, when it is made or rotated." }));
      keys.appendChild(secretSlot);
      keys.appendChild(table(["Key", "Role", "Made", "Last used", "State", ""], r[1].map(function (k) {
        return h("tr", { "data-key": k.id }, td([h("code", { text: k.prefix + "…" }), " ", k.name], "Key"), td(k.role, "Role"),
          td(when(k.created_at) + (k.created_by ? " by " + maker(k.created_by) : ""), "Made"), td(when(k.last_used_at), "Last used"),
          td(badge(k.revoked_at ? "revoked" : "live"), "State"),
          td(k.revoked_at ? "" : [button("Rotate", function () {
            api("POST", T("/keys/" + k.id + "/rotate")).then(function (res) {
              return Promise.resolve(rerender()).then(function () { showKeySecret(res.data, "New secret of " + (res.data.name || res.data.prefix)); });
            }, function (e) { toast(describe(e), true); });
          }, "", { "aria-label": "Rotate key " + k.prefix }),
          button("Revoke", function () {
            api("DELETE", T("/keys/" + k.id)).then(function () { toast("Key revoked"); rerender(); }, function (e) { toast(describe(e), true); });
          }, "danger", { "aria-label": "Revoke key " + k.prefix })], ""));
      }), "API keys"));
      var kname = input("name", { maxlength: 100, placeholder: "booking site" });
      var krole = select("role", [["staff", "staff"], ["owner", "owner"]], "staff");
      var kout = h("div", { class: "msg", "aria-live": "polite" });
      var kf = h("form", { class: "form inline-form", novalidate: true }, field("Name", kname), field("Role", krole), h("button", { type: "submit", class: "primary", text: "Make a key" }), kout);
      kf.addEventListener("submit", function (ev) {
        ev.preventDefault();
        api("POST", T("/keys"), { name: kname.value.trim() || null, role: krole.value }).then(function (res) {
          return Promise.resolve(rerender()).then(function () { showKeySecret(res.data, "Secret of the new key " + (res.data.name || res.data.prefix)); });
        }, function (e) { clear(kout).appendChild(errorBox(e)); });
      });
      keys.appendChild(h("h3", { text: "Make a key" }));
      keys.appendChild(kf);
      return [h("h1", { text: "People & keys" }), users, keys];
    });
  }

  // After the page re-rendered: the secret on top of the keys (once).
  function showKeySecret(issued, title) {
    var wait = function (n) {
      var slot = document.querySelector("#keys-h + p + .msg");
      if (!slot) { if (n > 0) setTimeout(function () { wait(n - 1); }, 50); return; }
      clear(slot).appendChild(secretBox(title, issued.key));
      slot.querySelector("code").scrollIntoView({ block: "center" });
    };
    wait(40);
  }

  // ---------- start ----------

  function boot() {
    document.getElementById("signin-form").addEventListener("submit", signIn);
    document.getElementById("sign-out").addEventListener("click", signOut);
    document.getElementById("nav-toggle").addEventListener("click", toggleNav);
    // Choosing a screen folds the menu (also when it is the screen already shown).
    document.getElementById("nav").addEventListener("click", function (ev) { if (ev.target.closest("a")) closeNav(); });
    document.addEventListener("keydown", function (ev) {
      if (ev.key !== "Escape" || !document.getElementById("nav").classList.contains("open")) return;
      closeNav();
      document.getElementById("nav-toggle").focus();
    });
    window.addEventListener("hashchange", route);
    var stored = null;
    try { stored = JSON.parse(sessionStorage.getItem(STORE) || "null"); } catch (e) { stored = null; }
    if (stored && stored.token && stored.tenant_id && (!stored.expires_at || new Date(stored.expires_at) > new Date())) {
      session = stored;
      start();
    } else {
      showSignIn("");
    }
  }

  window.gomomoConsole = { version: 1 };
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", boot);
  else boot();
})();
