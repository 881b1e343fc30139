// The code-server browser scripts' shared part (vscode_e2e.mjs, vscode_sessions.mjs):
// headless Chromium on the workbench, the report of named checks, and the helpers
// over the workbench's DOM that both use.
import { createRequire } from 'node:module';
import * as fs from 'node:fs';
import * as path from 'node:path';

export const escape = (s) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/** Open the browser for `config` (see test_vscode*.py); checks report into `reportFile`. */
export async function openWorkbench(config, reportFile) {
  const require = createRequire(config.playwrightFrom);
  const { chromium } = require('playwright-core');

  const report = { checks: {}, notes: [] };
  const save = () => fs.writeFileSync(path.join(config.outDir, reportFile), JSON.stringify(report, null, 2));

  const ctx = await chromium.launchPersistentContext(config.browserProfile, {
    executablePath: config.chromium,
    headless: true,
    viewport: { width: 1400, height: 900 },
    args: [
      '--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
      '--disable-background-networking', '--disable-component-update', '--disable-sync',
      // Nothing but the local code-server is reachable from the page.
      '--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1',
    ],
  });
  const page = ctx.pages()[0] ?? (await ctx.newPage());
  // Step timeouts are hang detectors, not budgets: a loaded machine is slow.
  page.setDefaultTimeout(config.stepTimeoutMs ?? 90000);
  // Requests that leave code-server (there should be none) and page errors, for the report.
  page.on('request', (req) => {
    if (!req.url().startsWith(config.url) && !/^(data|blob|vscode-[a-z-]+):/.test(req.url())) {
      report.notes.push(`outside request: ${req.url()}`);
    }
  });
  page.on('pageerror', (err) => report.notes.push(`page error: ${String(err).slice(0, 300)}`));

  /**
   * Run one named check; a failure is recorded (with a screenshot) and the run goes
   * on. A check whose `needs` failed is reported as not run, without waiting.
   */
  async function check(name, fn, needs = []) {
    const started = Date.now();
    if (config.only?.length && name !== 'workbench' && !config.only.includes(name)) {
      return; // while developing: TWINLS_VSCODE_ONLY (test_vscode.py)
    }
    const failed = needs.filter((n) => !report.checks[n]?.ok);
    if (failed.length) {
      report.checks[name] = { ok: false, detail: `not run: needs ${failed.join(', ')}`, ms: 0 };
      console.log(`FAIL ${name} (not run: needs ${failed.join(', ')})`);
      save();
      return;
    }
    try {
      const detail = await fn();
      report.checks[name] = { ok: true, detail: detail ?? '', ms: Date.now() - started };
    } catch (err) {
      report.checks[name] = { ok: false, detail: String(err?.message ?? err).split('\n').slice(0, 6).join('\n'), ms: Date.now() - started };
      await page.screenshot({ path: path.join(config.outDir, `failed-${name}.png`) }).catch(() => {});
    }
    console.log(`${report.checks[name].ok ? 'ok  ' : 'FAIL'} ${name} (${report.checks[name].ms} ms) ${report.checks[name].detail}`);
    save();
  }

  /** Retry `fn` until it returns a value (not undefined) or the step timeout passes. */
  async function poll(fn, timeoutMs = config.stepTimeoutMs ?? 90000) {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const value = await fn();
      if (value !== undefined) return value;
      if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms`);
      await page.waitForTimeout(250);
    }
  }

  /** Run a palette command; with `input`, answer the input box titled `input.title`. */
  async function runCommand(label, input) {
    await page.keyboard.press('F1');
    const box = page.locator('.quick-input-widget input');
    await box.waitFor();
    await box.fill(`>${label}`);
    const row = page.locator('.quick-input-widget .monaco-list-row').filter({
      has: page.locator('.label-name', { hasText: new RegExp(`^${escape(label)}$`) }),
    });
    await row.first().click();
    if (input !== undefined) {
      // The palette's own box closes first: wait for the command's box.
      await page.locator('.quick-input-widget .quick-input-title', { hasText: input.title }).waitFor();
      await page.locator('.quick-input-widget input').fill(input.value);
      await page.keyboard.press('Enter');
    }
  }

  /** The code lens titled like `title` just above the line that contains `lineText`. */
  async function lensAbove(lineText, title, timeoutMs) {
    const line = page.locator('.view-line', { hasText: lineText }).first();
    const lenses = page.locator('.codelens-decoration a', { hasText: title });
    // Lenses come and go while the server refreshes them: look until one is there.
    return poll(async () => {
      const lineBox = await line.boundingBox().catch(() => null);
      if (!lineBox) return undefined;
      let best;
      for (const lens of await lenses.all()) {
        const box = await lens.boundingBox().catch(() => null);
        if (box && box.y < lineBox.y && lineBox.y - box.y < 2 * lineBox.height && (!best || box.y > best.box.y)) {
          best = { lens, box };
        }
      }
      return best?.lens;
    }, timeoutMs).catch(() => {
      throw new Error(`no "${title}" lens above "${lineText}"`);
    });
  }

  /**
   * Click the lens: found again if the server's refresh replaced it meanwhile (its element
   * then leaves the DOM between finding and clicking). `before(lens)` runs each try.
   */
  async function clickLens(lineText, title, before) {
    for (let attempt = 1; ; attempt++) {
      const lens = await lensAbove(lineText, title);
      try {
        if (before) await before(lens);
        await lens.click({ timeout: 10000 });
        return lens;
      } catch (e) {
        if (attempt >= 5 || !/not attached|detached/i.test(String(e))) throw e;
      }
    }
  }

  const statusBar = (pattern) => page.locator('.part.statusbar .statusbar-item', { hasText: pattern }).first();

  return { ctx, page, report, save, check, poll, runCommand, lensAbove, clickLens, statusBar };
}
