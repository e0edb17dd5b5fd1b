// Drives the business's console (/admin) in a real headless Chromium (Debian's `chromium`)
// with playwright-core, against a running `gomomo serve` that scripts/console-test.sh
// seeded: bookings in BOOKINGS (one in the past, three on its "day"), failed confirmation
// mails, a chat, and an owner who signs in with OWNER_EMAIL / OWNER_PASSWORD.
//
// At 1280 × 800 it walks every screen with the keyboard and the mouse: sign in (a wrong
// password first), today, a day and a week, a walk-in booking, a reschedule, a
// cancellation, a no-show, a failed notification sent again, the waitlist, webhooks,
// transcripts (unredacted), a policy rule added and changed, services, resources, hours and
// rules, a closure, calendar sync, the Excel export and import, numbers and the admin
// email, a key made and rotated (each secret shown once), sign-out. Each step is checked in
// the page and, where cheap, through the API. At 390 × 844 it opens every screen again
// through the folded menu: nothing may overflow the screen. Screenshots of every screen at
// both sizes go to SHOTS (desktop-<name>.png, phone-<name>.png).
//
// Prints {"retried", "policy", "closure", "key": {"rotated_from"}, "walkin": {…}} for the
// caller to check in Postgres.
//
//   PLAYWRIGHT_CORE=.tools/node_modules/playwright-core node web/tests/console.test.cjs http://127.0.0.1:3000
"use strict";
const fs = require("fs");
const path = require("path");
const { chromium } = require(path.resolve(process.env.PLAYWRIGHT_CORE || ".tools/node_modules/playwright-core"));

const base = process.argv[2];
const TENANT = process.env.TENANT;
const EMAIL = process.env.OWNER_EMAIL;
const PASSWORD = process.env.OWNER_PASSWORD;
const B = JSON.parse(process.env.BOOKINGS || "{}");
const SHOTS = process.env.SHOTS || "target/console-screenshots";
const DESKTOP = { width: 1280, height: 800 };
const PHONE = { width: 390, height: 844 };
const SCREENS = [
  ["today", "#/today"], ["week", "#/week"], ["new-booking", "#/new"], ["waitlist", "#/waitlist"],
  ["notifications", "#/notifications"], ["webhooks", "#/webhooks"], ["transcripts", "#/transcripts"],
  ["policies", "#/policies"], ["services", "#/services"], ["resources", "#/resources"], ["hours", "#/hours"],
  ["exceptions", "#/exceptions"], ["calendar", "#/calendar"], ["excel", "#/excel"], ["numbers", "#/numbers"],
  ["people", "#/people"],
];
const result = {};

let current = null; // the page being driven: its screenshot when a step fails
class Failure extends Error {}
function fail(msg) {
  throw new Failure(msg);
}
function fatal(msg) {
  console.error("console test: " + msg);
  process.exit(1);
}
function log(msg) { console.error("console test: " + msg); }

async function newPage(browser, viewport) {
  const context = await browser.newContext({ viewport, acceptDownloads: true, timezoneId: "Europe/Madrid" });
  const page = await context.newPage();
  page.setDefaultTimeout(15000);
  page.on("pageerror", (e) => fatal("page error: " + e.message));
  page.on("console", (m) => {
    if (m.type() === "error" && /Content Security Policy|Refused to/i.test(m.text())) fatal("CSP violation: " + m.text());
  });
  current = page;
  return page;
}

async function shot(page, name) {
  const vp = page.viewportSize();
  const prefix = vp.width < 600 ? "phone" : "desktop";
  // a toast of an earlier step would hide part of this screen
  await page.evaluate(() => { document.getElementById("toast").className = "toast"; return document.fonts && document.fonts.ready; });
  await page.screenshot({ path: path.join(SHOTS, `${prefix}-${name}.png`), animations: "disabled" });
}

async function heading(page, re) {
  const h1 = page.locator("#main h1");
  await h1.waitFor();
  await page.waitForFunction((src) => {
    const el = document.querySelector("#main h1");
    return el && new RegExp(src).test(el.textContent);
  }, re.source).catch(async () => fail(`expected a heading ${re} but got ${JSON.stringify(await h1.innerText())}`));
}

// Opens a screen by its address and waits until it is drawn.
async function go(page, hash, re) {
  await page.evaluate((h) => { location.hash = h; }, hash);
  await page.waitForFunction((h) => document.getElementById("main").getAttribute("data-ready") === h, hash);
  await heading(page, re);
}

// The API with the page's own session token.
async function api(page, method, p, body) {
  return page.evaluate(async ([method, p, body]) => {
    const s = JSON.parse(sessionStorage.getItem("gomomo.console"));
    const res = await fetch(p, {
      method,
      headers: Object.assign({ Authorization: "Bearer " + s.token }, body ? { "Content-Type": "application/json" } : {}),
      body: body ? JSON.stringify(body) : undefined,
    });
    const text = await res.text();
    let data = null;
    try { data = JSON.parse(text); } catch (e) { data = text; }
    return { status: res.status, data };
  }, [method, p, body || null]);
}
const T = (p) => `/api/admin/tenants/${TENANT}${p}`;

async function toast(page, re) {
  await page.waitForFunction((src) => new RegExp(src).test(document.getElementById("toast").textContent), re.source)
    .catch(async () => fail(`expected a toast ${re}, got ${JSON.stringify(await page.locator("#toast").innerText())}`));
}

async function fitsThePhone(page, what) {
  const width = await page.evaluate(() => document.documentElement.scrollWidth);
  if (width > PHONE.width) {
    const wide = await page.evaluate((w) => Array.from(document.querySelectorAll("body *"))
      .filter((el) => el.getBoundingClientRect().right > w).slice(0, 5)
      .map((el) => el.tagName.toLowerCase() + (el.className ? "." + String(el.className).replace(/ /g, ".") : "") + " " + Math.round(el.getBoundingClientRect().right)), PHONE.width);
    fail(`${what} overflows a ${PHONE.width}px screen: scrollWidth ${width} (${wide.join(", ")})`);
  }
}

async function signIn(page) {
  await page.goto(base + "/admin");
  await page.getByLabel("Email").fill(EMAIL);
  await page.getByLabel("Password").fill(PASSWORD);
  await page.getByLabel("Password").press("Enter");
  await heading(page, /^Today, /);
}

// ---------------- desktop: every screen and every action ----------------

async function desktop(browser) {
  const page = await newPage(browser, DESKTOP);
  const res = await page.goto(base + "/admin");
  const csp = res.headers()["content-security-policy"] || "";
  if (!/script-src 'self'/.test(csp) || !/frame-ancestors 'none'/.test(csp)) fail("the console has no strict CSP: " + csp);

  // sign in, by keyboard: a wrong password first
  await page.getByRole("heading", { name: "Sign in" }).waitFor();
  await shot(page, "signin");
  // the form has the focus; Tab moves from field to field; Enter sends it
  if ((await page.evaluate(() => document.activeElement.id)) !== "signin-email") fail("the email field has no focus on load");
  await page.keyboard.type(EMAIL);
  await page.keyboard.press("Tab");
  if ((await page.evaluate(() => document.activeElement.id)) !== "signin-password") fail("Tab does not lead to the password");
  await page.keyboard.type("not the password");
  await page.keyboard.press("Enter");
  await page.getByText("That email and password do not match.").waitFor();
  await page.getByLabel("Password").fill(PASSWORD);
  await page.getByLabel("Password").press("Enter");
  await heading(page, /^Today, /);
  const stored = await page.evaluate(() => JSON.parse(sessionStorage.getItem("gomomo.console")));
  if (!stored || !/^gms_/.test(stored.token) || stored.tenant_id !== TENANT) fail("the session is not in sessionStorage: " + JSON.stringify(stored));
  await shot(page, "today");
  log("signed in; today shows");

  // the day with the seeded bookings, through the date field
  await page.getByLabel("Go to day").fill(B.day);
  await page.getByLabel("Go to day").dispatchEvent("change");
  await heading(page, new RegExp(B.day.slice(8, 10).replace(/^0/, "") + " "));
  for (const name of ["Carla Cancel", "Frank Future", "Gina Green"]) await page.locator(".col-body .booking", { hasText: name }).first().waitFor();
  await shot(page, "day");
  await page.getByRole("link", { name: "Week view" }).click();
  await heading(page, /^Week of /);
  await page.locator(".week-day li", { hasText: "Carla Cancel" }).first().waitFor();
  await shot(page, "week");
  log("the day and the week show the bookings");

  // a walk-in booking
  await go(page, "#/new", /^New booking$/);
  await page.getByLabel("Day").fill(B.day);
  await page.getByLabel("Day").dispatchEvent("change");
  await page.waitForFunction(() => document.querySelectorAll("select[name=slot] option").length > 1 && document.querySelector("select[name=slot] option[value]:not([value=''])"));
  await shot(page, "new-booking");
  const slotValue = await page.locator("select[name=slot] option:not([value=''])").last().getAttribute("value");
  await page.getByLabel("Free time").selectOption(slotValue);
  await page.getByLabel("Client's name").fill("Walk-in Wendy");
  await page.getByLabel("Client's email").fill("wendy@example.com");
  await page.getByLabel("Client's phone (optional)").fill("+15555550199");
  await page.getByRole("button", { name: "Book", exact: true }).click();
  await heading(page, /^Booking [0-9A-Z]{4}-[0-9A-Z]{4}$/);
  const ref = (await page.locator("#main h1").innerText()).replace("Booking ", "");
  await page.getByText("Walk-in Wendy").first().waitFor();
  result.walkin = { reference: ref };
  await shot(page, "walk-in");
  log("walk-in booked: " + ref);

  // a booking's detail with its history
  await go(page, "#/day/" + B.day, /./);
  await page.locator(`.col-body a[href="#/booking/${B.move}"]`).click();
  await heading(page, new RegExp("^Booking " + B.move + "$"));
  await page.getByText("Frank Future").first().waitFor();
  await page.locator(".history li").first().waitFor();
  await shot(page, "booking");

  // reschedule it
  await page.waitForFunction(() => document.querySelectorAll("select[name=slot] option:not([value=''])").length > 1);
  const beforeMove = await api(page, "GET", T(`/bookings?from=${B.day}&to=${B.day}`));
  const oldStart = beforeMove.data.bookings.find((b) => b.reference === B.move).start;
  const target = await page.locator("select[name=slot] option:not([value=''])").last().getAttribute("value");
  await page.getByLabel("Free time").selectOption(target);
  await page.getByRole("button", { name: "Move the booking" }).click();
  await toast(page, /^Moved to /);
  const afterMove = await api(page, "GET", T(`/bookings?from=${B.day}&to=${B.day}`));
  const moved = afterMove.data.bookings.find((b) => b.reference === B.move);
  if (!moved || moved.start === oldStart) fail("the reschedule did not move the booking: " + JSON.stringify(moved));
  log("rescheduled " + B.move);

  // cancel one (with its confirmation step)
  await go(page, "#/day/" + B.day, /./);
  await page.locator(`.col-body a[href="#/booking/${B.cancel}"]`).click();
  await heading(page, new RegExp("^Booking " + B.cancel + "$"));
  await page.getByRole("button", { name: "Cancel booking" }).click();
  await page.getByRole("button", { name: "Yes, cancel the booking" }).click();
  await toast(page, new RegExp("Booking " + B.cancel + " cancelled"));
  await page.locator(".facts .badge.cancelled").waitFor();
  const cancelled = await api(page, "GET", T(`/bookings?from=${B.day}&to=${B.day}&status=cancelled`));
  if (!cancelled.data.bookings.some((b) => b.reference === B.cancel)) fail("the API does not list the booking as cancelled");
  log("cancelled " + B.cancel);

  // mark the past one a no-show
  await go(page, "#/day/" + B.past_day, /./);
  await page.locator(`.col-body a[href="#/booking/${B.noshow}"]`).click();
  await heading(page, new RegExp("^Booking " + B.noshow + "$"));
  await page.getByRole("button", { name: "Mark no-show" }).click();
  await toast(page, /Marked no-show/);
  await page.locator(".facts .badge.no_show").waitFor();
  log("marked " + B.noshow + " a no-show");

  // the waitlist, by keyboard from the menu
  await page.locator('#nav a[href="#/waitlist"]').focus();
  await page.keyboard.press("Enter");
  await heading(page, /^Waitlist$/);
  if ((await page.evaluate(() => document.activeElement.tagName)) !== "H1") fail("the new screen's heading did not take the focus");
  await page.getByLabel("Status").waitFor();
  await shot(page, "waitlist");

  // notifications: a failed one sent again
  await page.getByRole("link", { name: "Notifications" }).click();
  await heading(page, /^Notifications$/);
  await page.getByLabel("Status").selectOption("failed");
  await page.waitForFunction(() => location.hash === "#/notifications?failed");
  // the confirmation of a booking that stays (a reminder of a cancelled one would be skipped)
  const firstFailed = page.locator("tr[data-id]").filter({ hasText: new RegExp("confirmation[\\s\\S]*" + B.keep + "[\\s\\S]*gina@example\\.com") })
    .filter({ has: page.getByRole("button", { name: /^Retry / }) }).first();
  await firstFailed.waitFor();
  await shot(page, "notifications");
  const id = await firstFailed.getAttribute("data-id");
  const row = page.locator(`tr[data-id="${id}"]`);
  await row.getByRole("button", { name: /^Retry / }).click();
  await toast(page, /^Queued again/);
  await row.locator(".badge.queued, .badge.sent").waitFor();
  let sent = false;
  for (let i = 0; i < 60 && !sent; i++) {
    const list = await api(page, "GET", T("/notifications?status=sent"));
    sent = list.data.some((n) => n.id === id);
    if (!sent) await page.waitForTimeout(500);
  }
  if (!sent) fail("the retried notification was not sent");
  await go(page, "#/notifications", /^Notifications$/);
  await page.locator(`tr[data-id="${id}"] .badge.sent`).waitFor();
  result.retried = id;
  log("a failed notification was retried and sent");

  // webhooks
  await page.getByRole("link", { name: "Webhooks" }).click();
  await heading(page, /^Webhooks$/);
  await page.getByRole("heading", { name: "Deliveries" }).waitFor();
  await shot(page, "webhooks");

  // transcripts: the seeded chat, redacted, then unredacted (owner)
  await page.getByRole("link", { name: "Transcripts" }).click();
  await heading(page, /^Transcripts$/);
  await shot(page, "transcripts");
  const chatLink = page.locator("#tr-chats ~ * a, section[aria-labelledby=tr-chats] a").first();
  if (await chatLink.count()) {
    await chatLink.click();
    await heading(page, /^Chat /);
    await page.locator(".badge.redacted").waitFor();
    await page.getByRole("link", { name: "Show unredacted (recorded)" }).click();
    await page.locator(".badge.unredacted").waitFor();
    await shot(page, "transcript");
  } else {
    fail("the seeded chat is not listed");
  }

  // policies: add a rule, then change it
  await page.getByRole("link", { name: "Policies" }).click();
  await heading(page, /^Policies$/);
  const add = page.locator("section[aria-labelledby=pol-own] form").last();
  await add.getByLabel("Action").selectOption("send_hold_followup");
  await add.getByLabel("Effect").selectOption("allow");
  await add.getByLabel("Conditions (JSON)").fill('{"channel": "sms"}');
  await add.getByLabel("Priority").fill("3");
  await add.getByLabel("Description").fill("console test rule");
  await add.getByRole("button", { name: "Add rule" }).click();
  await toast(page, /Rule added/);
  const change = page.getByRole("button", { name: "Change rule send_hold_followup allow" }).first();
  await change.waitFor();
  await change.click();
  const editor = page.locator("tr.editor form");
  await editor.getByLabel("Effect").selectOption("deny");
  await editor.getByLabel("Priority").fill("7");
  await editor.getByRole("button", { name: "Save rule" }).click();
  await toast(page, /Rule saved/);
  await page.getByRole("button", { name: "Change rule send_hold_followup deny" }).first().waitFor();
  const policies = await api(page, "GET", T("/policies"));
  const rule = policies.data.filter((p) => p.tenant_id && p.description === "console test rule" && p.effect === "deny" && p.priority === 7).pop();
  if (!rule) fail("the changed rule is not in the API");
  result.policy = rule.id;
  await shot(page, "policies");
  log("a policy rule added and changed");

  // services, resources, hours and rules
  await page.getByRole("link", { name: "Services" }).click();
  await heading(page, /^Services$/);
  await page.getByRole("button", { name: /^Change Consultation/ }).click();
  await page.getByRole("heading", { name: "Booking rules of Consultation" }).waitFor();
  await page.locator("tr.editor").getByLabel("At most per day (empty: no cap)").waitFor();
  await shot(page, "services");
  await page.getByRole("link", { name: "Resources" }).click();
  await heading(page, /^Resources$/);
  await page.getByRole("button", { name: /^Change / }).first().click();
  await page.getByRole("heading", { name: /^Hours of / }).waitFor();
  await page.getByRole("button", { name: "Save hours" }).waitFor();
  await shot(page, "resources");
  await page.getByRole("link", { name: "Hours & rules" }).click();
  await heading(page, /^Hours & rules$/);
  const cutoff = page.getByLabel("Clients may change or cancel until, minutes before");
  await cutoff.fill("120");
  await page.getByRole("button", { name: "Save booking rules" }).click();
  await toast(page, /Booking rules saved/);
  const rules = await api(page, "GET", T("/rules"));
  if (rules.data.self_service_cutoff_minutes !== 120) fail("the cut-off was not saved: " + JSON.stringify(rules.data));
  await shot(page, "hours");

  // a closure, three weeks after the day
  const closedOn = new Date(Date.parse(B.day + "T00:00:00Z") + 21 * 86400000).toISOString().slice(0, 10);
  await page.getByRole("link", { name: "Closures & time off" }).click();
  await heading(page, /^Closures & time off$/);
  const xf = page.locator("section[aria-labelledby=exc-add] form");
  await xf.getByLabel("Kind").selectOption("closed");
  await xf.getByLabel("From", { exact: true }).fill(closedOn);
  await xf.getByLabel("Note").fill("Closed for staff training");
  await xf.getByRole("button", { name: "Add" }).click();
  await toast(page, new RegExp("Added a closure on " + closedOn));
  await page.locator("tr", { hasText: "Closed for staff training" }).first().waitFor();
  const exceptions = await api(page, "GET", T("/exceptions"));
  const closure = exceptions.data.exceptions.find((x) => x.kind === "closed" && x.start_date === closedOn && x.note === "Closed for staff training");
  if (!closure) fail("the closure is not in the API");
  result.closure = closure.id;
  await shot(page, "exceptions");
  log("a closure added on " + closedOn);

  // calendar sync: the delivery health; Google is not configured here
  await page.getByRole("link", { name: "Calendar sync" }).click();
  await heading(page, /^Calendar sync$/);
  await page.getByText("Not yet delivered").waitFor();
  await page.getByRole("button", { name: "Connect Google Calendar" }).click();
  await page.locator("section[aria-labelledby=cal-g] .msg p").waitFor();
  await shot(page, "calendar");

  // Excel: download, then upload the same file back
  await page.getByRole("link", { name: "Excel" }).click();
  await heading(page, /^Excel$/);
  await page.getByLabel("From").fill(B.past_day);
  const [download] = await Promise.all([page.waitForEvent("download"), page.getByRole("button", { name: "Download .xlsx" }).click()]);
  const file = path.join(SHOTS, "..", "console-test-export.xlsx");
  await download.saveAs(file);
  if (fs.statSync(file).size < 1000 || fs.readFileSync(file).slice(0, 2).toString() !== "PK") fail("the export is not an .xlsx");
  await page.getByLabel("Spreadsheet (.xlsx, as exported)").setInputFiles(file);
  await page.getByRole("button", { name: "Upload" }).click();
  await page.getByText(/\d+ applied, \d+ unchanged, \d+ set aside\./).waitFor();
  await shot(page, "excel");
  log("exported and imported the spreadsheet");

  // numbers and the admin email
  await page.getByRole("link", { name: "Numbers & email" }).click();
  await heading(page, /^Numbers & email$/);
  await page.getByLabel("Where escalations go (empty: nowhere)").fill("frontdesk@demo.gomomo.local");
  await page.getByRole("button", { name: "Save email" }).click();
  await page.getByText("Escalations go to frontdesk@demo.gomomo.local.").waitFor();
  await shot(page, "numbers");

  // people and keys: make a key, then rotate it; each secret shown once
  await page.getByRole("link", { name: "People & keys" }).click();
  await heading(page, /^People & keys$/);
  await page.getByText(EMAIL).first().waitFor();
  const kf = page.locator("section[aria-labelledby=keys-h] form");
  const keyName = "console test " + Date.now();
  await kf.getByLabel("Name").fill(keyName);
  await kf.getByRole("button", { name: "Make a key" }).click();
  const secret = page.locator(".secret-box code");
  await secret.waitFor();
  const first = await secret.innerText();
  if (!/^gmk_/.test(first)) fail("the new key's secret is not shown: " + first);
  const keys = await api(page, "GET", T("/keys"));
  const made = keys.data.find((k) => k.name === keyName);
  if (!made || !first.startsWith(made.prefix)) fail("the new key is not listed by its prefix");
  await page.getByRole("button", { name: "Rotate key " + made.prefix }).click();
  await page.waitForFunction((old) => { const c = document.querySelector(".secret-box code"); return c && c.textContent !== old; }, first);
  const second = await page.locator(".secret-box code").innerText();
  if (!/^gmk_/.test(second) || second === first) fail("the rotated key's secret is not shown");
  await shot(page, "people");
  const me = await page.evaluate(async ([t, k1, k2]) => {
    const call = (k) => fetch(`/api/admin/tenants/${t}/me`, { headers: { Authorization: "Bearer " + k } }).then((r) => r.status);
    return [await call(k1), await call(k2)];
  }, [TENANT, first, second]);
  if (me[0] !== 401 || me[1] !== 200) fail("after the rotation the old key answers " + me[0] + " and the new one " + me[1]);
  result.key = { rotated_from: made.id };
  await page.getByRole("button", { name: "I have stored it" }).click();
  if (await page.locator(".secret-box").count()) fail("the secret stays on the page");
  log("a key made and rotated");

  // sign out: back to the form, the token gone
  await page.getByRole("button", { name: "Sign out" }).click();
  await page.getByText("You have signed out.").waitFor();
  if (await page.evaluate(() => sessionStorage.getItem("gomomo.console"))) fail("the session stayed in sessionStorage");
  const after = await page.evaluate(async ([t, tok]) => (await fetch(`/api/admin/tenants/${t}/me`, { headers: { Authorization: "Bearer " + tok } })).status, [TENANT, stored.token]);
  if (after !== 401) fail("the signed-out token still works: " + after);
  await page.context().close();
}

// ---------------- phone: every screen through the folded menu ----------------

async function phone(browser) {
  const page = await newPage(browser, PHONE);
  await page.goto(base + "/admin");
  await shot(page, "signin");
  await signIn(page);
  if (await page.locator("#nav").isVisible()) fail("the menu is open on a phone before it is asked for");
  // the menu by keyboard: Enter opens it with the first screen focused, Escape folds it
  await page.getByRole("button", { name: "Menu" }).focus();
  await page.keyboard.press("Enter");
  await page.locator("#nav").waitFor({ state: "visible" });
  if ((await page.evaluate(() => document.activeElement.getAttribute("href"))) !== "#/today") fail("opening the menu did not focus its first screen");
  if ((await page.getByRole("button", { name: "Menu" }).getAttribute("aria-expanded")) !== "true") fail("the menu button does not say it is open");
  await page.keyboard.press("Escape");
  await page.locator("#nav").waitFor({ state: "hidden" });
  if ((await page.evaluate(() => document.activeElement.id)) !== "nav-toggle") fail("Escape did not return the focus to the menu button");
  for (const [name, hash] of SCREENS) {
    const link = page.locator(`#nav a[href="${hash}"]`);
    await page.getByRole("button", { name: "Menu" }).click();
    await link.waitFor({ state: "visible" });
    if (name === "today") await shot(page, "menu");
    await link.click();
    await page.waitForFunction((h) => location.hash === h, hash);
    if (await page.locator("#nav").isVisible()) fail("the menu stays open after choosing " + name);
    await page.locator("#main h1").waitFor();
    await page.waitForLoadState("networkidle");
    await fitsThePhone(page, name);
    await shot(page, name);
  }
  await go(page, "#/day/" + B.day, /./);
  await fitsThePhone(page, "the day");
  await shot(page, "day");
  const link = page.locator(".col-body .booking a").first();
  await link.click();
  await heading(page, /^Booking /);
  await fitsThePhone(page, "a booking");
  await shot(page, "booking");
  // a reload keeps the session (sessionStorage) and the screen (the hash)
  await page.reload();
  await heading(page, /^Booking /);
  await page.context().close();
}

(async () => {
  fs.mkdirSync(SHOTS, { recursive: true });
  const browser = await chromium.launch({
    executablePath: process.env.CHROMIUM || "/usr/bin/chromium",
    args: ["--no-sandbox", "--disable-dev-shm-usage"],
  });
  await desktop(browser);
  await phone(browser);
  await browser.close();
  console.log(JSON.stringify(result));
})().catch(async (e) => {
  console.error("console test: " + (e instanceof Failure ? e.message : e.stack || String(e)));
  if (current) {
    const where = path.join(SHOTS, "..", "console-test", "failure.png");
    await current.screenshot({ path: where, fullPage: true }).then(() => console.error("console test: the page at the failure: " + where), () => {});
  }
  process.exit(1);
});
