// Drives the widget in a real headless Chromium (Debian's `chromium`) with playwright-core,
// against a running `gomomo serve`, on a phone-sized screen (390 × 844):
//
// 1. books an appointment with the deterministic engine and checks the confirmation toast
//    with the reference code; a reload keeps the session and shows the conversation so far;
// 2. when BUSINESS_TENANT (and BUSINESS_NAME) are set: that business's own page (its name,
//    "chat with us", no demo snippet or notes) with a working chat; an unknown tenant's 404;
// 3. when HANDOFF_TOKEN is set (a one-time link minted by scripts/browser-test.sh): with site
//    data blocked the handoff page says so and the click spends nothing; then, with storage,
//    opens the page (twice: opening spends nothing), clicks "Continue in chat", sees the chat
//    say it continues the call with the call's context, books there, and the link is then
//    spent (410).
//
// 4. typing twice during a turn: the second message waits for the first answer (the socket
//    carries one turn at a time), and while another client holds the session's turn (its
//    lease set in Postgres through DATABASE_URL) the server's session_busy is retried
//    quietly: no error is shown and the message is answered once the turn ends.
//
// 5. the widget in Spanish: a page with data-lang="es" shows its Spanish words (launcher,
//    placeholder, greeting) and sends locale "es" in its hello and its messages; a browser in
//    Spanish (es-MX) with no data-lang says hello in Spanish too. When the server's answer
//    names more than one language for the tenant, the header's switch ("English") turns the
//    widget to English and says hello again with locale "en"; otherwise the switch stays hidden.
//
// Nothing overflows the screen horizontally, and the session id never appears in a URL.
// Prints {"reference", "session", "email", "handoff"?: {"reference", "session", "email"}}
// on stdout for the caller to check in Postgres.
//
//   PLAYWRIGHT_CORE=.tools/node_modules/playwright-core node web/tests/widget.test.cjs http://127.0.0.1:3000
"use strict";
const path = require("path");
const { chromium } = require(path.resolve(process.env.PLAYWRIGHT_CORE || ".tools/node_modules/playwright-core"));

const base = process.argv[2];
const PHONE = { width: 390, height: 844 };
const GREETING = "Hi! I can book, reschedule, cancel or look up an appointment";

function fail(msg) {
  console.error("widget test: " + msg);
  process.exit(1);
}

async function phonePage(browser, options) {
  const context = await browser.newContext(Object.assign({ viewport: PHONE }, options || {}));
  const page = await context.newPage();
  page.setDefaultTimeout(20000);
  page.on("pageerror", (e) => fail("page error: " + e.message));
  // The session is a bearer secret: never in the socket's URL, nor in any page's URL.
  page.on("websocket", (ws) => {
    if (/session|handoff-|gs_|web-[0-9a-f]{8}/i.test(ws.url())) fail("a session id in the WebSocket URL: " + ws.url());
  });
  page.on("framenavigated", (f) => {
    if (/session=|handoff-|gs_/.test(f.url())) fail("a session id in a page URL: " + f.url());
  });
  return page;
}

async function fitsThePhone(page, what) {
  const width = await page.evaluate(() => document.documentElement.scrollWidth);
  if (width > PHONE.width) fail(`${what} overflows a ${PHONE.width}px screen: scrollWidth ${width}`);
}

async function connected(page) {
  await page.locator('[data-testid="connection-dot"][aria-label="Connected"]').waitFor();
}

// One user message; waits for the next bot bubble and checks it against `expect`.
async function say(page, text, expect) {
  const bot = page.locator(".gmm-bot");
  const before = await bot.count();
  const input = page.getByLabel("Your message");
  await input.fill(text);
  await input.press("Enter");
  await page.waitForFunction((n) => document.querySelectorAll(".gmm-bot:not(.gmm-typing)").length > n, before);
  const last = (await bot.last().innerText()).trim();
  if (expect && !expect.test(last)) fail(`after ${JSON.stringify(text)} expected ${expect} but got ${JSON.stringify(last)}`);
  return last;
}

// From "tomorrow" to the confirmation: a slot button, a name, an email, yes. Returns the
// reference of the toast (which the reply carries too).
async function bookFromTheDate(page, name, email) {
  await say(page, "tomorrow", /open times/);
  const slot = page.locator(".gmm-slots button").first();
  await slot.waitFor();
  const bot = page.locator(".gmm-bot");
  const before = await bot.count();
  await slot.click();
  await page.waitForFunction((n) => document.querySelectorAll(".gmm-bot:not(.gmm-typing)").length > n, before);
  const held = (await bot.last().innerText()).trim();
  if (!/holding/.test(held)) fail("clicking a slot did not hold it: " + held);
  await say(page, name, /email/);
  await say(page, email, /Please confirm/);
  const done = await say(page, "yes", /You're all set/);
  const toast = page.locator('[data-testid="toasts"] [data-kind="booking_confirmed"]');
  await toast.waitFor();
  const toastText = await toast.innerText();
  const m = /reference ([2-9A-HJKMNP-Z]{4}-[2-9A-HJKMNP-Z]{4})/.exec(toastText);
  if (!m) fail("no reference code in the toast: " + toastText);
  if (!done.includes(m[1])) fail("the reply does not carry the toast's reference");
  return m[1];
}

// Two messages typed in a row, then one while another client's turn holds the session.
async function typingTwiceDuringATurn(browser) {
  // A browser in another zone than the clinic's: each message carries the browser's zone.
  const page = await phonePage(browser, { timezoneId: "Europe/Madrid" });
  const frames = [];
  page.on("websocket", (ws) => {
    ws.on("framesent", (f) => { try { frames.push(["sent", JSON.parse(f.payload)]); } catch (e) { /* not JSON */ } });
    ws.on("framereceived", (f) => { try { frames.push(["received", JSON.parse(f.payload)]); } catch (e) { /* not JSON */ } });
  });
  await page.goto(base + "/");
  await connected(page);
  const bots = () => page.evaluate(() => document.querySelectorAll(".gmm-bot:not(.gmm-typing)").length);
  const before = await bots();
  const input = page.getByLabel("Your message");
  await input.fill("Hi, I'd like to book a consultation");
  await input.press("Enter");
  await input.fill("tomorrow");
  await input.press("Enter");
  await page.waitForFunction((n) => document.querySelectorAll(".gmm-bot:not(.gmm-typing)").length >= n + 2, before);
  const last = (await page.locator(".gmm-bot").last().innerText()).trim();
  if (!/open times/.test(last)) fail("the queued second message was not answered in order: " + last);
  const order = frames
    .filter(([dir, m]) => (dir === "sent" && m.action === "message") || (dir === "received" && (m.type === "assistant_message" || m.type === "error")))
    .map(([dir, m]) => (dir === "sent" ? "message" : m.type === "error" ? "error:" + m.code : "answer"));
  if (order.slice(0, 4).join(",") !== "message,answer,message,answer") fail("the second message did not wait for the first answer: " + order.join(","));
  if ((await page.locator(".gmm-sys").count()) !== 0) fail("an error was shown: " + (await page.locator(".gmm-sys").allInnerTexts()));
  const zones = frames.filter(([dir, m]) => dir === "sent" && m.action === "message").map(([, m]) => m.client_time_zone);
  if (!zones.length || zones.some((z) => z !== "Europe/Madrid")) fail("a message did not carry the browser's zone: " + JSON.stringify(zones));

  // Another client's turn on this session: its lease, as the server writes it at a turn's start.
  const session = await page.evaluate(() => window.gomomoWidget.session);
  const dbUrl = process.env.DATABASE_URL;
  if (!dbUrl) fail("DATABASE_URL is needed to hold the session's turn");
  require("child_process").execFileSync("psql", [dbUrl, "-q", "-v", "ON_ERROR_STOP=1", "-v", "s=" + session], {
    input: "UPDATE chat_sessions SET busy_until = now() + interval '2 seconds' WHERE id = :'s';\n",
  });
  const held = await bots();
  const busyBefore = frames.filter(([dir, m]) => dir === "received" && m.code === "session_busy").length;
  await input.fill("tomorrow");
  await input.press("Enter");
  await page.waitForFunction((n) => document.querySelectorAll(".gmm-bot:not(.gmm-typing)").length > n, held, { timeout: 10000 });
  const busy = frames.filter(([dir, m]) => dir === "received" && m.code === "session_busy").length - busyBefore;
  if (busy < 1) fail("the server never answered session_busy: the test held no turn");
  if ((await page.locator(".gmm-sys").count()) !== 0) fail("session_busy was shown to the person: " + (await page.locator(".gmm-sys").allInnerTexts()));
  const answer = (await page.locator(".gmm-bot").last().innerText()).trim();
  if (!answer) fail("the message sent during the other turn was not answered: " + answer);
  await page.context().close();
}

async function historyTexts(page) {
  await page.locator("[data-history]").first().waitFor();
  return page.locator("[data-history]").allInnerTexts();
}

async function bookAndReload(browser) {
  const email = `jane.browser+${Date.now()}@example.com`;
  const page = await phonePage(browser);
  await page.goto(base + "/");
  await connected(page);
  await fitsThePhone(page, "the landing page with the chat open");

  const box = await page.locator(".gmm-panel").boundingBox();
  if (!box || box.width > PHONE.width || box.height > PHONE.height) fail("the panel does not fit a phone: " + JSON.stringify(box));
  // Keyboard and screen-reader hooks: the input has a label, the log is a live region.
  if ((await page.locator('[role="log"][aria-live="polite"]').count()) !== 1) fail("no live log");

  await say(page, "Hi, I'd like to book a consultation", /What day/);
  const reference = await bookFromTheDate(page, "Jane Browser", email);

  // the session survives a reload (localStorage), the widget reconnects and shows the
  // conversation so far from Postgres instead of the greeting
  const session = await page.evaluate(() => window.gomomoWidget.session);
  if (!/^gs_[A-Za-z0-9_-]{43}$/.test(session || "")) fail("the widget's session was not issued by the server: " + session);
  await page.reload();
  await connected(page);
  const again = await page.evaluate(() => window.gomomoWidget.session);
  if (again !== session) fail("the session was not kept across a reload");
  const history = await historyTexts(page);
  if (!history.includes("Hi, I'd like to book a consultation")) fail("the history lacks the first message: " + JSON.stringify(history));
  if (!history.some((t) => t.includes(reference))) fail("the history lacks the confirmation: " + JSON.stringify(history));
  if ((await page.getByText(GREETING).count()) !== 0) fail("the greeting is shown above the history");
  if ((await page.locator('[data-testid="continues"]').count()) !== 0) fail("a web session says it continues a call");
  await fitsThePhone(page, "the chat with its history");
  await page.context().close();
  return { reference, session, email };
}

// A business's own page: its name, a plain "chat with us", the chat open; none of the demo's
// snippet or developer notes. An unknown tenant gets a 404 page.
async function businessPage(browser, tenant, name) {
  const page = await phonePage(browser);
  const res = await page.goto(base + "/?tenant=" + encodeURIComponent(tenant));
  if (res.status() !== 200) fail(`the business's page answered ${res.status()}`);
  if ((await page.title()) !== name + " — chat with us") fail("the business's page title: " + (await page.title()));
  const heading = await page.locator("h1").innerText();
  if (heading !== name) fail("the business's page heading: " + heading);
  const text = await page.locator("main").innerText();
  if (!/Chat with us/.test(text)) fail("the business's page does not invite to chat: " + text);
  if (/gomomo|Demo|OPENAI_API_KEY|paste this/i.test(text)) fail("demo words on a business's page: " + text);
  if ((await page.locator("#snippet").count()) !== 0) fail("the embed snippet on a business's page");
  await connected(page);
  await say(page, "Hi, I'd like to book an appointment", null);
  await fitsThePhone(page, "a business's page with the chat open");

  const missing = await page.goto(base + "/?tenant=0b6f1c2e-9999-4222-8333-444455556666");
  if (missing.status() !== 404) fail(`an unknown tenant answered ${missing.status()}`);
  if ((await page.locator("h1").innerText()) !== "Page not found") fail("no 404 page for an unknown tenant");
  await fitsThePhone(page, "the 404 page");
  await page.context().close();
}

// Site data blocked (private browsing, cookies off): the handoff page says so before the
// link is spent, and sends nothing when "Continue in chat" is clicked.
async function handoffWithoutStorage(browser, token) {
  const page = await phonePage(browser);
  await page.addInitScript(() => {
    const blocked = () => { throw new DOMException("blocked", "SecurityError"); };
    Storage.prototype.setItem = blocked;
    Storage.prototype.getItem = blocked;
  });
  let posted = false;
  page.on("request", (r) => { if (r.method() === "POST") posted = true; });
  await page.goto(base + "/handoff/resume?token=" + encodeURIComponent(token));
  const problem = page.locator("#problem");
  await page.waitForFunction(() => /not letting our site keep data/.test(document.getElementById("problem").textContent));
  await page.getByRole("button", { name: "Continue in chat" }).click();
  await page.waitForTimeout(300);
  if (posted) fail("the handoff page spent the link though it cannot keep the session");
  if (!/link is still unused/.test(await problem.innerText())) fail("the page does not say the link is unused: " + (await problem.innerText()));
  if (!(await page.getByRole("button", { name: "Continue in chat" }).isEnabled())) fail("the button is disabled: the person cannot try again");
  await fitsThePhone(page, "the handoff page without site data");
  await page.context().close();
}

async function handoff(browser, token) {
  const email = `pat.handoff+${Date.now()}@example.com`;
  const page = await phonePage(browser);
  const link = base + "/handoff/resume?token=" + encodeURIComponent(token);
  // opening the link (a preview, then the person) spends nothing
  for (let i = 0; i < 2; i++) {
    const res = await page.goto(link);
    if (res.status() !== 200) fail(`the handoff page answered ${res.status()}`);
  }
  const what = await page.locator('[data-testid="continues-what"]').innerText();
  if (!/You were booking an appointment on the phone: Consultation/.test(what)) fail("the page does not say what it continues: " + what);
  await fitsThePhone(page, "the handoff page");

  await page.getByRole("button", { name: "Continue in chat" }).click();
  await page.waitForURL((u) => u.pathname === "/" && u.searchParams.get("tenant") !== null);
  await connected(page);
  const continues = await page.locator('[data-testid="continues"]').innerText();
  if (continues !== "Continuing from your phone call") fail("the chat does not say it continues the call: " + continues);
  const history = await historyTexts(page);
  if (!history.some((t) => t.includes("Welcome back") && t.includes("Consultation"))) fail("the call's context is not in the chat: " + JSON.stringify(history));
  if (!history.includes("I'd like to book a consultation")) fail("the call's words are not in the chat: " + JSON.stringify(history));
  const session = await page.evaluate(() => window.gomomoWidget.session);
  if (!/^gs_[A-Za-z0-9_-]{43}$/.test(session)) fail("the widget did not take the handoff's session: " + session);
  await fitsThePhone(page, "the chat after a handoff");

  // the booking completes there: the service came with the call, the day is next
  const reference = await bookFromTheDate(page, "Pat Handoff", email);

  // the link was spent by the click: now 410, for the page and for the POST
  const replay = await page.request.get(link);
  if (replay.status() !== 410) fail(`a spent link answered ${replay.status()}`);
  const post = await page.request.post(base + "/handoff/resume", { data: { token } });
  if (post.status() !== 410 || (await post.json()).error.code !== "token_used") fail(`a second POST answered ${post.status()}`);
  await page.context().close();
  return { reference, session, email };
}

// Every JSON frame of the page's sockets, in order: ["sent" | "received", frame].
function recordFrames(page) {
  const frames = [];
  page.on("websocket", (ws) => {
    ws.on("framesent", (f) => { try { frames.push(["sent", JSON.parse(f.payload)]); } catch (e) { /* not JSON */ } });
    ws.on("framereceived", (f) => { try { frames.push(["received", JSON.parse(f.payload)]); } catch (e) { /* not JSON */ } });
  });
  return frames;
}

async function until(check, what) {
  for (let i = 0; i < 200; i++) {
    if (check()) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  fail("timed out waiting for " + what);
}

const sentHellos = (frames) => frames.filter(([dir, m]) => dir === "sent" && m.action === "hello").map(([, m]) => m);
// The server's answer to a hello that names the tenant's languages (absent from a server
// that does not).
const languagesAnswer = (frames) => frames.filter(([dir, m]) => dir === "received" && Array.isArray(m.languages)).map(([, m]) => m).pop();

async function spanishWidget(browser) {
  const landing = await (await browser.newContext()).request.get(base + "/");
  const tenant = /data-tenant="([0-9a-f-]{36})"/.exec(await landing.text());
  if (!tenant) fail("no data-tenant on the landing page");
  const page = await phonePage(browser);
  const frames = recordFrames(page);
  // A site of the tenant's that embeds the widget in Spanish, served from the same origin by
  // the test (a page with no server address: Chromium asks before it reaches a local one).
  await page.context().grantPermissions(["local-network-access"]);
  await page.route(base + "/es-page", (route) => route.fulfill({
    contentType: "text/html; charset=utf-8",
    body: '<!doctype html><html lang="es"><head><meta charset="utf-8">' +
      '<meta name="viewport" content="width=device-width, initial-scale=1"><title>Clínica</title></head>' +
      `<body><script src="/widget.js" data-tenant="${tenant[1]}" data-lang="es" defer></script></body></html>`,
  }));
  await page.goto(base + "/es-page");
  const launch = page.locator(".gmm-launch");
  if ((await launch.innerText()) !== "Escríbanos") fail("the launcher is not in Spanish: " + (await launch.innerText()));
  if ((await page.locator(".gmm").getAttribute("lang")) !== "es") fail("the widget is not marked lang=es");
  await launch.click();
  if ((await launch.innerText()) !== "Cerrar chat") fail("the open launcher is not in Spanish: " + (await launch.innerText()));
  // Found by its label, then held by its id: the label changes with the language.
  if (!(await page.getByLabel("Su mensaje").count())) fail("the message box is not labelled in Spanish");
  const input = page.locator("#gmm-input");
  if ((await input.getAttribute("placeholder")) !== "Escriba un mensaje…") fail("the placeholder is not in Spanish: " + (await input.getAttribute("placeholder")));
  if ((await page.locator(".gmm-form button").innerText()) !== "Enviar") fail("the send button is not in Spanish");
  if (!/^¡Hola! Puedo reservar/.test(await page.locator(".gmm-bot").first().innerText())) fail("the greeting is not in Spanish");
  await page.locator('[data-testid="connection-dot"][aria-label="Conectado"]').waitFor();
  await until(() => sentHellos(frames).length > 0, "the hello frame");
  const hello = sentHellos(frames)[0];
  if (hello.locale !== "es") fail("the hello does not carry locale es: " + JSON.stringify(hello));
  await until(() => frames.some(([dir, m]) => dir === "received" && m.type === "status" && m.state === "connected"), "the answer to the hello");

  const bots = await page.locator(".gmm-bot:not(.gmm-typing)").count();
  await input.fill("Quiero reservar una consulta");
  await input.press("Enter");
  await page.waitForFunction((n) => document.querySelectorAll(".gmm-bot:not(.gmm-typing)").length > n, bots);
  const sent = frames.filter(([dir, m]) => dir === "sent" && m.action === "message").map(([, m]) => m);
  if (!sent.length || sent.some((m) => m.locale !== "es")) fail("a message does not carry locale es: " + JSON.stringify(sent));
  await fitsThePhone(page, "the Spanish widget");

  // The switch depends on the server naming the tenant's languages in its answer.
  const answer = languagesAnswer(frames);
  const offered = answer ? answer.languages : [];
  const toggle = page.locator('[data-testid="language-switch"]');
  if (offered.includes("es") && offered.includes("en")) {
    if (answer.locale !== "es") fail("the server did not keep the session in Spanish: " + JSON.stringify(answer));
    if ((await toggle.innerText()) !== "English") fail("the switch does not offer English: " + (await toggle.innerText()));
    const hellos = sentHellos(frames).length;
    await toggle.click();
    if ((await input.getAttribute("placeholder")) !== "Type a message…") fail("the switch did not turn the widget to English");
    if ((await toggle.innerText()) !== "Español") fail("the switch does not offer Spanish back: " + (await toggle.innerText()));
    await until(() => sentHellos(frames).length > hellos, "a hello after the switch");
    if (sentHellos(frames).pop().locale !== "en") fail("the hello after the switch does not carry locale en");
    await until(() => frames.filter(([dir, m]) => dir === "received" && m.locale === "en").length > 0, "the server's answer in English");
    if ((await page.evaluate(() => window.gomomoWidget.locale)) !== "en") fail("the widget did not stay in English");
  } else if (await toggle.isVisible()) {
    fail("the language switch shows though the tenant offers " + JSON.stringify(offered));
  }
  await page.context().close();

  // A browser in Spanish, a page without data-lang: the hello goes out in Spanish; the
  // widget then speaks what the server answers (the tenant's default when it has no Spanish).
  const mx = await phonePage(browser, { locale: "es-MX" });
  const mxFrames = recordFrames(mx);
  await mx.goto(base + "/");
  await until(() => sentHellos(mxFrames).length > 0, "the hello frame of a Spanish browser");
  if (sentHellos(mxFrames)[0].locale !== "es") fail("a Spanish browser's hello does not carry locale es: " + JSON.stringify(sentHellos(mxFrames)[0]));
  await until(() => mxFrames.some(([dir, m]) => dir === "received" && m.type === "status" && m.state === "connected"), "the answer to the hello");
  const mxAnswer = languagesAnswer(mxFrames);
  const expected = !mxAnswer || mxAnswer.languages.includes("es") ? "es" : mxAnswer.languages[0];
  const placeholder = await mx.getByLabel(expected === "es" ? "Su mensaje" : "Your message").getAttribute("placeholder");
  if (placeholder !== (expected === "es" ? "Escriba un mensaje…" : "Type a message…")) fail(`a Spanish browser's widget is not in ${expected}: ${placeholder}`);
  await mx.context().close();
}

(async () => {
  const browser = await chromium.launch({
    executablePath: process.env.CHROMIUM || "/usr/bin/chromium",
    args: ["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
      "--disable-background-networking", "--disable-component-update", "--disable-sync"],
  });
  try {
    const result = await bookAndReload(browser);
    await typingTwiceDuringATurn(browser);
    await spanishWidget(browser);
    if (process.env.BUSINESS_TENANT) await businessPage(browser, process.env.BUSINESS_TENANT, process.env.BUSINESS_NAME);
    if (process.env.HANDOFF_TOKEN) {
      await handoffWithoutStorage(browser, process.env.HANDOFF_TOKEN);
      result.handoff = await handoff(browser, process.env.HANDOFF_TOKEN);
    }
    process.stdout.write(JSON.stringify(result) + "\n");
  } finally {
    await browser.close();
  }
})().catch((e) => fail(e && e.stack ? e.stack : String(e)));
