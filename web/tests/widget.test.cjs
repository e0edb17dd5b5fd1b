// Drives the widget in a real headless Chromium (Debian's `chromium`) with playwright-core,
// against a running `gomomo serve`: books an appointment with the deterministic engine
// and checks the confirmation toast with the reference code. Prints
// {"reference", "session", "email"} on stdout for the caller to check in Postgres.
//
//   PLAYWRIGHT_CORE=.tools/node_modules/playwright-core node web/tests/widget.test.cjs http://127.0.0.1:3000
"use strict";
const path = require("path");
const { chromium } = require(path.resolve(process.env.PLAYWRIGHT_CORE || ".tools/node_modules/playwright-core"));

const base = process.argv[2];
const email = `jane.browser+${Date.now()}@example.com`;

function fail(msg) {
  console.error("widget test: " + msg);
  process.exit(1);
}

(async () => {
  const browser = await chromium.launch({
    executablePath: process.env.CHROMIUM || "/usr/bin/chromium",
    args: ["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
      "--disable-background-networking", "--disable-component-update", "--disable-sync"],
  });
  try {
    // A phone-sized screen: the widget must fit it.
    const context = await browser.newContext({ viewport: { width: 390, height: 844 } });
    const page = await context.newPage();
    page.setDefaultTimeout(20000);
    page.on("pageerror", (e) => fail("page error: " + e.message));
    await page.goto(base + "/");
    await page.locator('[data-testid="connection-dot"][aria-label="Connected"]').waitFor();

    const box = await page.locator(".gmm-panel").boundingBox();
    if (!box || box.width > 390 || box.height > 844) fail("the panel does not fit a phone: " + JSON.stringify(box));

    // Keyboard and screen-reader hooks: the input has a label, the log is a live region.
    const input = page.getByLabel("Your message");
    if ((await page.locator('[role="log"][aria-live="polite"]').count()) !== 1) fail("no live log");

    const bot = page.locator(".gmm-bot");
    const say = async (text, expect) => {
      const before = await bot.count();
      await input.fill(text);
      await input.press("Enter");
      await page.waitForFunction((n) => document.querySelectorAll(".gmm-bot:not(.gmm-typing)").length > n, before);
      const last = (await bot.last().innerText()).trim();
      if (expect && !expect.test(last)) fail(`after ${JSON.stringify(text)} expected ${expect} but got ${JSON.stringify(last)}`);
      return last;
    };

    await say("Hi, I'd like to book a consultation", /What day/);
    await say("tomorrow", /open times/);
    // the offered times are buttons; click the first one
    const slot = page.locator(".gmm-slots button").first();
    await slot.waitFor();
    const before = await bot.count();
    await slot.click();
    await page.waitForFunction((n) => document.querySelectorAll(".gmm-bot:not(.gmm-typing)").length > n, before);
    const held = (await bot.last().innerText()).trim();
    if (!/holding/.test(held)) fail("clicking a slot did not hold it: " + held);
    await say("Jane Browser", /email/);
    await say(email, /Please confirm/);
    const done = await say("yes", /You're all set/);

    const toast = page.locator('[data-testid="toasts"] [data-kind="booking_confirmed"]');
    await toast.waitFor();
    const toastText = await toast.innerText();
    const m = /reference ([2-9A-HJKMNP-Z]{4}-[2-9A-HJKMNP-Z]{4})/.exec(toastText);
    if (!m) fail("no reference code in the toast: " + toastText);
    if (!done.includes(m[1])) fail("the reply does not carry the toast's reference");

    // the session survives a reload (localStorage) and the widget reconnects
    const session = await page.evaluate(() => window.gomomoWidget.session);
    await page.reload();
    await page.locator('[data-testid="connection-dot"][aria-label="Connected"]').waitFor();
    const again = await page.evaluate(() => window.gomomoWidget.session);
    if (again !== session) fail("the session was not kept across a reload");

    process.stdout.write(JSON.stringify({ reference: m[1], session, email }) + "\n");
  } finally {
    await browser.close();
  }
})().catch((e) => fail(e && e.stack ? e.stack : String(e)));
