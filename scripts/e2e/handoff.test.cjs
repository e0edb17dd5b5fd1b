// Hop 5 of the e2e run in headless Chromium (playwright-core, Debian's chromium): opens the
// handoff link from the SMS, checks the GET spent nothing (E2E_UNSPENT_SQL through psql),
// clicks "Continue in chat", checks the widget says it continues the call, then books there.
// Prints {"reference", "unspent_after_get"} as its last line.
//
//   PLAYWRIGHT_CORE=.tools/node_modules/playwright-core DATABASE_URL=… E2E_UNSPENT_SQL=… \
//     node scripts/e2e/handoff.test.cjs 'http://127.0.0.1:PORT/handoff/resume?token=…'
"use strict";
const path = require("path");
const { execFileSync } = require("child_process");
const { chromium } = require(path.resolve(process.env.PLAYWRIGHT_CORE || ".tools/node_modules/playwright-core"));

const link = process.argv[2];
const email = `caller.${Date.now()}@example.com`;

function fail(msg) {
  console.error("handoff test: " + msg);
  process.exit(1);
}

function unspent() {
  const out = execFileSync("psql", [process.env.DATABASE_URL, "-Atc", process.env.E2E_UNSPENT_SQL]).toString().trim();
  return out === "1";
}

(async () => {
  const browser = await chromium.launch({
    executablePath: process.env.CHROMIUM || "/usr/bin/chromium",
    args: ["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
      "--disable-background-networking", "--disable-component-update", "--disable-sync"],
  });
  try {
    const context = await browser.newContext({ viewport: { width: 390, height: 844 } });
    const page = await context.newPage();
    page.setDefaultTimeout(30000);
    page.on("pageerror", (e) => fail("page error: " + e.message));

    // GET: a page, nothing spent.
    const res = await page.goto(link);
    if (!res || res.status() !== 200) fail(`GET ${link} answered ${res && res.status()}`);
    const button = page.getByRole("button", { name: /continue in chat/i });
    await button.waitFor();
    const unspentAfterGet = unspent();
    if (page.url().includes("session")) fail("the session id is in the URL: " + page.url());

    // The explicit action spends the token and opens the chat.
    await button.click();
    await page.locator('[data-testid="connection-dot"][aria-label="Connected"]').waitFor();
    if (page.url().includes("session")) fail("the session id is in the URL: " + page.url());
    const bot = page.locator(".gmm-bot");
    await page.waitForFunction(() => document.querySelectorAll(".gmm-bot:not(.gmm-typing)").length > 0);
    const continues = page.locator('[data-testid="continues"]');
    await continues.waitFor();
    const said = (await continues.innerText()).trim();
    if (said !== "Continuing from your phone call") fail("the widget does not say it continues the call: " + JSON.stringify(said));

    const input = page.getByLabel("Your message");
    const say = async (text, expect) => {
      const before = await bot.count();
      await input.fill(text);
      await input.press("Enter");
      await page.waitForFunction((n) => document.querySelectorAll(".gmm-bot:not(.gmm-typing)").length > n, before);
      const last = (await bot.last().innerText()).trim();
      if (expect && !expect.test(last)) fail(`after ${JSON.stringify(text)} expected ${expect} but got ${JSON.stringify(last)}`);
      return last;
    };

    await say("tomorrow", /open times|available|\d:\d\d/);
    const slot = page.locator(".gmm-slots button").first();
    await slot.waitFor();
    const before = await bot.count();
    await slot.click();
    await page.waitForFunction((n) => document.querySelectorAll(".gmm-bot:not(.gmm-typing)").length > n, before);
    const held = (await bot.last().innerText()).trim();
    if (!/holding/.test(held)) fail("clicking a slot did not hold it: " + held);
    let last = held;
    if (/name/i.test(last)) last = await say("Casey Caller", /email/);
    if (/email/i.test(last)) last = await say(email, /Please confirm/);
    await say("yes", /You're all set/);
    const toast = page.locator('[data-testid="toasts"] [data-kind="booking_confirmed"]');
    await toast.waitFor();
    const m = /reference ([2-9A-HJKMNP-Z]{4}-[2-9A-HJKMNP-Z]{4})/.exec(await toast.innerText());
    if (!m) fail("no reference code in the toast");
    process.stdout.write(JSON.stringify({ reference: m[1], unspent_after_get: unspentAfterGet }) + "\n");
  } finally {
    await browser.close();
  }
})().catch((e) => fail(e && e.stack ? e.stack : String(e)));
