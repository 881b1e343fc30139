// Drives code-server sessions of their own (issue 13), apart from vscode_e2e.mjs's long one:
//   mode "folders": a multi-root workspace, each folder in its own project venv as the
//     stand-in Python extension selects per folder; the bundled server (no serverCommand,
//     no twinls on PATH) starts, status names each folder's interpreter, a lens in each
//     folder runs with its venv's plugin, a new selection for one folder moves only it;
//   mode "restricted": an untrusted folder (Restricted Mode): the extension is disabled
//     with its declared description and no server starts.
// Usage: node vscode_sessions.mjs CONFIG.json — writes CONFIG.outDir/report-MODE.json.
// Run by tests/editors/test_vscode_sessions.py.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { escape, openWorkbench } from './vscode_page.mjs';

const config = JSON.parse(fs.readFileSync(process.argv[2], 'utf8'));
const { ctx, page, save, check, poll, runCommand, lensAbove, statusBar } = await openWorkbench(
  config,
  `report-${config.mode}.json`,
);

/** Quick Open a file by its (unique) name. */
async function quickOpen(name) {
  await page.keyboard.press('Control+p');
  const box = page.locator('.quick-input-widget input');
  await box.waitFor();
  await box.fill(name);
  await page.locator('.quick-input-widget .monaco-list-row', { hasText: name }).first().waitFor();
  await page.keyboard.press('Enter');
  await page.locator('.tabs-container .tab.active', { hasText: name }).waitFor();
  await page.locator('.monaco-editor .view-lines').first().waitFor();
}

/** Twinls: Show Twin Status's message. */
async function twinStatus() {
  await runCommand('Notifications: Clear All Notifications').catch(() => {});
  await runCommand('Twinls: Show Twin Status');
  const toast = page.locator('.notification-toast', { hasText: /twins live/ }).first();
  await toast.waitFor({ timeout: 60000 });
  return (await toast.locator('.notification-list-item-message').textContent()).trim();
}

const statusMatching = (patterns) =>
  poll(async () => {
    const text = await twinStatus().catch(() => '');
    return patterns.every((p) => p.test(text)) ? text : undefined;
  }, 120000);

const folderPython = (folder, version, python) =>
  new RegExp(`folder ${escape(folder)}: Python ${escape(version)}\\.\\d+ \\(python extension: ${escape(python)}; pytest from project\\)`);

try {
  if (config.mode === 'folders') {
    const [a, b] = config.folders;
    const [pyA, pyB, pyNew] = config.pythons; // 3.12, 3.13, then 3.10 for b

    await check('folders_workbench', async () => {
      await page.goto(`${config.url}/?workspace=${encodeURIComponent(config.workspace)}`, { timeout: 180000 });
      await page.locator('.monaco-workbench').waitFor({ timeout: 120000 });
      await page.locator('.part.statusbar .statusbar-item .codicon-server-process').waitFor({ timeout: 90000 });
      return 'the bundled server is up';
    });

    await check('folders_status', async () => {
      return statusMatching([folderPython(a, '3.12', pyA), folderPython(b, '3.13', pyB)]);
    }, ['folders_workbench']);

    await check('folders_tooltip', async () => {
      const item = page.locator('.part.statusbar .statusbar-item', { has: page.locator('.codicon-server-process') }).first();
      const label = await poll(async () => {
        const text = (await item.getAttribute('aria-label')) ?? '';
        return text.includes(a) && text.includes(b) ? text : undefined;
      }).catch(() => undefined);
      if (label) return label;
      await item.hover();
      const hover = page.locator('.monaco-hover, .workbench-hover', { hasText: b }).first();
      await hover.waitFor({ timeout: 10000 });
      const text = (await hover.textContent()).trim();
      if (!text.includes(a) || !/3\.12/.test(text) || !/3\.13/.test(text)) throw new Error(`tooltip: ${text}`);
      return text;
    }, ['folders_status']);

    await check('folders_lenses', async () => {
      const out = [];
      for (const [file, test] of config.tests) {
        await quickOpen(file);
        const lens = await lensAbove(`def ${test}`, 'Run test', 60000);
        await lens.click();
        const item = statusBar(new RegExp(`${test} passed`));
        await item.waitFor({ timeout: 90000 });
        out.push((await item.textContent()).trim());
      }
      return out.join('; ');
    }, ['folders_status']);

    await check('folder_switch', async () => {
      // The stand-in's selection for b alone changes (its folder setting, written as a user
      // would save it): b's twins move to 3.10, a's stay in 3.12.
      fs.writeFileSync(config.folderSettings[1], JSON.stringify({ 'twinlsStandin.interpreter': pyNew }));
      return statusMatching([folderPython(a, '3.12', pyA), folderPython(b, '3.10', pyNew)]);
    }, ['folders_lenses']);
  } else {
    await check('restricted_workbench', async () => {
      await page.goto(`${config.url}/?folder=${encodeURIComponent(config.folder)}`, { timeout: 180000 });
      await page.locator('.monaco-workbench').waitFor({ timeout: 120000 });
      await statusBar(/Restricted Mode/).waitFor({ timeout: 60000 });
      return 'the status bar says Restricted Mode';
    });

    await check('restricted_extension', async () => {
      // The Extensions view: twinls (by its exact name) is disabled for want of trust, and
      // its page gives the reason it declares (capabilities.untrustedWorkspaces.description)
      // beside the shield, with Enable (Workspace) offered.
      await runCommand('Extensions: Show Installed Extensions');
      const name = page.locator('.extensions-viewlet .monaco-list-row .name', { hasText: /^twinls$/ });
      await name.first().waitFor({ timeout: 120000 }); // after the extension host is up
      await name.first().click();
      const editor = page.locator('.extension-editor', { has: page.locator('.name', { hasText: /^twinls$/ }) });
      await editor.waitFor({ timeout: 90000 });
      const reason = editor.getByText(config.description.slice(0, 60));
      await reason.first().waitFor({ timeout: 90000 }).catch(async () => {
        const t = (await editor.allTextContents()).join(' ');
        throw new Error(`the declared description is not shown; the page's header says: ${t.slice(0, 700)}`);
      });
      await editor.getByRole('button', { name: /Enable \(Workspace\)/ }).first().waitFor({ timeout: 10000 })
        .catch(async () => editor.getByText('Enable (Workspace)').first().waitFor({ timeout: 5000 }));
      await page.screenshot({ path: path.join(config.outDir, 'vscode-restricted.png') });
      return `twinls disabled in Restricted Mode: "${(await reason.first().textContent()).trim()}"`;
    }, ['restricted_workbench']);

    await check('restricted_nothing_runs', async () => {
      // The extension's commands are not there, and no twinls status item ever appears.
      await page.keyboard.press('F1');
      await page.locator('.quick-input-widget input').fill('>Twinls: Show Twin Status');
      const rows = page.locator('.quick-input-widget .monaco-list-row .label-name', { hasText: /^Twinls: Show Twin Status$/ });
      await page.waitForTimeout(1000);
      const n = await rows.count();
      await page.keyboard.press('Escape');
      if (n > 0) throw new Error('Twinls: Show Twin Status is offered in Restricted Mode');
      if (await page.locator('.part.statusbar .statusbar-item .codicon-server-process').count()) {
        throw new Error('the twinls status item is shown');
      }
      return 'no twinls command or status item';
    }, ['restricted_extension']); // once the extension host is up (the list shows twinls)
  }
} finally {
  save();
  await ctx.close();
}
