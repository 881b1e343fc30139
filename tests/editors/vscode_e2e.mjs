// Drives code-server in headless Chromium through the extension's user-facing paths.
// Usage: node vscode_e2e.mjs CONFIG.json — writes report.json (named checks) and
// screenshots into config.outDir. Run by tests/editors/test_vscode.py.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { escape, openWorkbench } from './vscode_page.mjs';

const config = JSON.parse(fs.readFileSync(process.argv[2], 'utf8'));
const { ctx, page, report, save, check, poll, runCommand, lensAbove, clickLens, statusBar } = await openWorkbench(config, 'report.json');
const wait = (ms) => page.waitForTimeout(ms);

// --- helpers over the workbench's DOM ---------------------------------------------

async function openFromExplorer(name) {
  await runCommand('View: Show Explorer');
  const row = page.locator('.explorer-folders-view .monaco-list-row', { has: page.locator('.label-name', { hasText: new RegExp(`^${escape(name)}$`) }) });
  await row.first().dblclick();
  await page.locator('.tabs-container .tab.active', { hasText: name }).waitFor();
  await page.locator('.monaco-editor .view-lines').first().waitFor();
}

async function goTo(line, column) {
  await page.locator('.editor-group-container.active .monaco-editor .view-lines').first().click();
  await page.keyboard.press('Control+g');
  await page.keyboard.type(`${line}:${column}`);
  await page.keyboard.press('Enter');
  await page.locator('.statusbar', { hasText: `Ln ${line}, Col ${column}` }).waitFor();
}

/** Replace the user settings through VS Code's own settings JSON editor, and save. */
async function setUserSettings(settings) {
  const text = JSON.stringify(settings);
  await runCommand('Preferences: Open User Settings (JSON)');
  // It may open as a tab or as a modal editor: find it by its content.
  const editor = page.locator('.monaco-editor', { hasText: '"workbench.startupEditor"' }).last();
  await editor.locator('.view-lines').click();
  await page.keyboard.press('Control+a');
  await page.keyboard.press('Delete');
  await page.keyboard.insertText(text);
  // Closing quotes and braces the editor added while "typing" follow the cursor.
  await page.keyboard.press('Control+Shift+End');
  await page.keyboard.press('Delete');
  await page.keyboard.press('Control+s');
  await poll(() => (fs.readFileSync(config.userSettings, 'utf8').replace(/\s/g, '') === text.replace(/\s/g, '') ? true : undefined), 10000)
    .catch(() => {
      throw new Error(`settings.json was not saved as wanted; it reads ${fs.readFileSync(config.userSettings, 'utf8')}`);
    });
  // VS Code 1.139 opens it in a modal editor, older ones in a tab. (Its Escape
  // would also hide the notification toasts, which the caller wants to see.)
  const modalClose = page.locator('[aria-label^="Close Modal Editor"]');
  if (await modalClose.count()) {
    await modalClose.first().click();
    await modalClose.first().waitFor({ state: 'detached' });
  } else {
    await runCommand('View: Close Editor');
  }
}

async function dismissNotifications() {
  await runCommand('Notifications: Clear All Notifications').catch(() => {});
}

// --- the checks -----------------------------------------------------------------

try {
  await check('workbench', async () => {
    await page.goto(`${config.url}/?folder=${encodeURIComponent(config.folder)}`);
    await page.locator('.monaco-workbench').waitFor({ timeout: 60000 });
    await page.locator('.explorer-folders-view .monaco-list-row', { hasText: 'test_shapes.py' }).waitFor({ timeout: 60000 });
    return 'Explorer lists the sample workspace';
  });

  await check('lens', async () => {
    await openFromExplorer('test_shapes.py');
    const lens = await lensAbove('def test_square_area', 'Run test');
    return `lens: ${await lens.textContent()}`;
  }, ['workbench']);

  // Discovery (server: twinls.discoverTests): the Testing view lists the tests before any run.
  await check('discovered_tests', async () => {
    await runCommand('Testing: Focus on Test Explorer View');
    const file = page.locator('.test-explorer .monaco-list-row', { hasText: 'test_shapes.py' }).first();
    await file.waitFor({ timeout: 60000 });
    const row = page.locator('.test-explorer .monaco-list-row', { hasText: 'test_square_area' }).first();
    await row.waitFor({ timeout: 3000 }).catch(async () => {
      await file.click();
      await page.keyboard.press('ArrowRight');
      await row.waitFor();
    });
    const ran = await row.locator('.codicon-testing-passed-icon, .codicon-testing-failed-icon').count();
    await openFromExplorer('test_shapes.py');
    if (ran) {
      throw new Error('test_square_area already has an outcome: listed by a run, not by discovery');
    }
    return 'test_square_area is listed before any run';
  }, ['lens']);

  await check('run_from_lens', async () => {
    await clickLens('def test_square_area', 'Run test');
    const item = statusBar(/test_square_area passed/);
    await item.waitFor({ timeout: 60000 });
    return `status bar: ${(await item.textContent()).trim()}`;
  }, ['lens']);

  await check('testing_view', async () => {
    await runCommand('Testing: Focus on Test Explorer View');
    const row = page.locator('.test-explorer .monaco-list-row', { hasText: 'test_square_area' });
    await row.first().waitFor({ timeout: 3000 }).catch(async () => {
      // The file node may be collapsed: expand it.
      await page.locator('.test-explorer .monaco-list-row', { hasText: 'test_shapes.py' }).first().click();
      await page.keyboard.press('ArrowRight');
      await row.first().waitFor();
    });
    await row.first().locator('.codicon-testing-passed-icon').waitFor();
    return 'test_square_area is listed as passed';
  }, ['run_from_lens']);

  await check('failing_test', async () => {
    await openFromExplorer('test_shapes.py');
    await clickLens('def test_circle_area_wrong', 'Run test');
    await statusBar(/test_circle_area_wrong failed/).waitFor({ timeout: 60000 });
    // VS Code shows the failure message inline, at the failing line (the lens
    // title above the test may say it too: look for the one on that line).
    const line = page.locator('.view-line', { hasText: config.failingLineText }).first();
    const messages = page.locator('.editor-group-container.active .monaco-editor').getByText(config.failingMessage);
    const message = await poll(async () => {
      const lineBox = await line.boundingBox().catch(() => null);
      for (const candidate of lineBox ? await messages.all() : []) {
        // The lens title says it too (above the test): only the message on the line counts.
        if (await candidate.evaluate((el) => !!el.closest('.codelens-decoration')).catch(() => true)) continue;
        const box = await candidate.boundingBox().catch(() => null);
        if (box && Math.abs(box.y + box.height / 2 - (lineBox.y + lineBox.height / 2)) < lineBox.height / 2) {
          return candidate;
        }
      }
      return undefined;
    }).catch(() => {
      throw new Error(`"${config.failingMessage}" is not shown on the line "${config.failingLineText}"`);
    });
    return `failure shown at the failing line: ${(await message.textContent()).trim()}`;
  }, ['lens']);

  await check('run_at_cursor', async () => {
    await openFromExplorer('test_shapes.py');
    await goTo(config.exampleLine + 1, 5);
    await runCommand('Twinls: Run Test at Cursor');
    const item = statusBar(new RegExp(`${config.exampleName} passed.*→ ${escape(config.exampleValue)}`));
    await item.waitFor({ timeout: 60000 });
    // The picture for the docs: lenses with results, the Testing view beside them.
    await runCommand('Testing: Focus on Test Explorer View');
    await page.locator('.test-explorer .monaco-list-row', { hasText: config.exampleName }).first().waitFor();
    await page.locator('.editor-group-container.active .view-lines').first().click();
    await wait(500);
    await page.screenshot({ path: path.join(config.outDir, 'vscode-runs.png') });
    return `status bar: ${(await item.textContent()).trim()}`;
  }, ['workbench']);

  await check('testing_view_rerun', async () => {
    // The Testing view's own Run on an item sends it back to the twin.
    await runCommand('Testing: Focus on Test Explorer View');
    const row = page.locator('.test-explorer .monaco-list-row', { hasText: 'test_square_area' }).first();
    await row.hover();
    await row.locator('.action-label[aria-label^="Run Test"]:not([aria-label*="Coverage"])').click();
    const item = statusBar(/test_square_area passed/);
    await item.waitFor({ timeout: 60000 });
    return `status bar: ${(await item.textContent()).trim()}`;
  }, ['testing_view', 'run_at_cursor']);

  // --- the Testing view as pytest's tree (issue 11) ---------------------------------

  /** The Testing view's row labelled exactly `label`. */
  const testRow = (label) =>
    page.locator('.test-explorer .monaco-list-row', { hasText: new RegExp(`^\\s*${escape(label)}\\s*([\\d.]+\\s*m?s)?\\s*$`) }).first();

  /** Expand the Testing view down `labels`, outermost first (ArrowRight opens a row). */
  async function expandTree(labels) {
    await runCommand('Testing: Focus on Test Explorer View');
    for (const label of labels) {
      const row = testRow(label);
      await row.waitFor();
      if ((await row.getAttribute('aria-expanded')) === 'false') {
        await row.click();
        await page.keyboard.press('ArrowRight');
        await poll(async () => ((await row.getAttribute('aria-expanded')) === 'true' ? true : undefined), 5000);
      }
    }
  }

  await check('testing_tree', async () => {
    await runCommand('View: Show Explorer');
    const folderRow = page.locator('.explorer-folders-view .monaco-list-row', { has: page.locator('.label-name', { hasText: new RegExp(`^${escape(config.tree.folder)}$`) }) }).first();
    if ((await folderRow.getAttribute('aria-expanded')) !== 'true') await folderRow.click();
    await openFromExplorer(config.tree.module);
    await clickLens('import pytest', 'Run file');
    await statusBar(/test_tree\.py: 1 failed, 2 passed/).waitFor({ timeout: 60000 });
    const { folder, module, class: cls, test } = config.tree;
    await expandTree([folder, module, cls, test]);
    for (const label of [...config.treeCases, config.elsewhereTest]) {
      await testRow(label).waitFor();
    }
    await testRow(config.treeCases[0]).locator('.codicon-testing-passed-icon').waitFor();
    await testRow(config.elsewhereTest).locator('.codicon-testing-failed-icon').waitFor();
    const labels = await page.locator('.test-explorer .monaco-list-row').evaluateAll((rows) => rows.map((r) => r.getAttribute('aria-label') ?? r.textContent));
    if (labels.some((l) => /checks\.py/.test(l))) throw new Error(`a row for checks.py (where the failure was raised): ${JSON.stringify(labels)}`);
    await page.screenshot({ path: path.join(config.outDir, 'testing-tree.png') });
    return `rows: ${JSON.stringify(labels)}`;
  }, ['workbench']);

  await check('failure_elsewhere', async () => {
    await openFromExplorer(config.elsewhereFile);
    const line = page.locator('.view-line', { hasText: config.elsewhereLineText }).first();
    const messages = page.locator('.editor-group-container.active .monaco-editor').getByText(config.elsewhereMessage);
    const message = await poll(async () => {
      const lineBox = await line.boundingBox().catch(() => null);
      for (const candidate of lineBox ? await messages.all() : []) {
        const box = await candidate.boundingBox().catch(() => null);
        if (box && Math.abs(box.y + box.height / 2 - (lineBox.y + lineBox.height / 2)) < lineBox.height / 2) {
          return candidate;
        }
      }
      return undefined;
    }).catch(() => {
      throw new Error(`"${config.elsewhereMessage}" is not shown on the line "${config.elsewhereLineText}" of ${config.elsewhereFile}`);
    });
    return `shown in ${config.elsewhereFile}: ${(await message.textContent()).trim()}`;
  }, ['testing_tree']);

  await check('failure_traceback', async () => {
    // The inline failure message in checks.py opens the peek with the whole message.
    await openFromExplorer(config.elsewhereFile);
    await page.locator('.editor-group-container.active .monaco-editor').getByText(config.elsewhereMessage).first().click();
    const peek = page.locator('.peekview-widget', { hasText: 'Traceback (workspace frames):' }).first();
    await peek.waitFor().catch(() => {
      throw new Error('no peek with the workspace frames opened from the inline message');
    });
    const text = await peek.innerText();
    const frame = new RegExp(`${escape(config.elsewhereFile)}:\\d+`);
    if (!frame.test(text) || !text.includes(config.elsewhereMessage)) throw new Error(`the peek lacks the frame or the message: ${text.slice(0, 400)}`);
    await page.screenshot({ path: path.join(config.outDir, 'failure-peek.png') });
    await page.keyboard.press('Escape');
    return `peek: ${text.replace(/\s+/g, ' ').slice(0, 200)}`;
  }, ['testing_tree']);

  await check('test_results_output', async () => {
    // The status bar item opens Test Results: pytest's failure text is in its output.
    await statusBar(/test_tree\.py: 1 failed/).click();
    const out = page.locator('.xterm-rows', { hasText: `${config.elsewhereFile}:4: ValueError` }).first();
    await out.waitFor({ timeout: 15000 }).catch(() => {
      throw new Error('Test Results does not show the traceback');
    });
    return `Test Results: ${(await out.innerText()).replace(/\s+/g, ' ').slice(-160)}`;
  }, ['testing_tree']);

  await check('rerun_green', async () => {
    await openFromExplorer('test_tree.py');
    const line = page.locator('.view-line', { hasText: config.elsewhereBad }).first();
    await line.click();
    await page.keyboard.press('End');
    await page.keyboard.press('Shift+Home');
    await page.keyboard.insertText(config.elsewhereFixed);
    await page.locator('.view-line', { hasText: config.elsewhereFixed }).first().waitFor();
    await expandTree([config.tree.folder, config.tree.module, config.tree.class]);
    const row = testRow(config.elsewhereTest);
    await row.hover();
    await row.locator('.action-label[aria-label^="Run Test"]:not([aria-label*="Coverage"])').click();
    await row.locator('.codicon-testing-passed-icon').waitFor({ timeout: 60000 });
    // Green everywhere: the test, its class, module and folder (no red left from before).
    const { folder, module, class: cls } = config.tree;
    for (const label of [cls, module, folder]) {
      await testRow(label).locator('.codicon-testing-passed-icon').waitFor({ timeout: 10000 }).catch(() => {
        throw new Error(`${label} is not green after ${config.elsewhereTest} passed again`);
      });
    }
    return `${config.elsewhereTest}, ${cls}, ${module}, ${folder}: passed`;
  }, ['testing_tree']);

  await check('go_to_implementations', async () => {
    await openFromExplorer('shapes.py');
    const [line, col] = config.implementationAt;
    await goTo(line + 1, col + 1);
    await runCommand('Go to Implementations');
    const want = config.implementationLines;
    const peek = page.locator('.monaco-editor .peekview-widget').first();
    const title = peek.locator('.peekview-title', { hasText: `Implementations (${want.length})` });
    await title.waitFor();
    const rows = peek.locator('.ref-tree .monaco-list-row');
    await rows.nth(want.length - 1).waitFor();
    const labels = await rows.evaluateAll((els) => els.map((e) => e.getAttribute('aria-label') ?? e.textContent));
    const heading = (await title.textContent()).trim();
    await page.screenshot({ path: path.join(config.outDir, 'implementations.png') });
    await page.keyboard.press('Escape');
    const missing = want.filter((n) => !labels.some((l) => new RegExp(`line ${n}\\b`).test(l)));
    if (missing.length) throw new Error(`lines ${missing} not listed in ${JSON.stringify(labels)}`);
    return `${heading}: ${JSON.stringify(labels)}`;
  }, ['workbench']);

  await check('find_implementors', async () => {
    await runCommand('Twinls: Find Implementors…', { title: 'Twinls: Find Implementors', value: 'area' });
    const view = page.locator('.pane', { has: page.locator('.pane-header', { hasText: 'Twinls Results' }) });
    const message = view.locator('.message', { hasText: /Implementors of area — 3 results in 1 file$/ });
    await message.waitFor();
    const rows = await view.locator('.monaco-list-row').allTextContents();
    return `${(await message.textContent()).trim()}: ${rows.length} rows`;
  }, ['workbench']);

  await check('references_streaming', async () => {
    await openFromExplorer('shapes.py');
    await goTo(config.referencesAt[0] + 1, config.referencesAt[1] + 1);
    await runCommand('Twinls: Find References (streaming)');
    const view = page.locator('.pane', { has: page.locator('.pane-header', { hasText: 'Twinls Results' }) });
    const message = view.locator('.message', { hasText: new RegExp(`^References to ${config.referencesName} — \\d+ results in 2 files$`) });
    await message.waitFor();
    await view.locator('.monaco-list-row', { hasText: 'test_shapes.py' }).first().waitFor();
    return (await message.textContent()).trim();
  }, ['workbench']);

  // --- language features (issue 14): separate named checks ---------------------------
  const peekRows = async () => {
    const peek = page.locator('.monaco-editor .peekview-widget').first();
    await peek.waitFor();
    return peek;
  };

  await check('go_to_definition', async () => {
    await openFromExplorer('test_shapes.py');
    await goTo(5, 12); // `Square` in `assert Square(3).area() == 9`
    await runCommand('Go to Definition');
    await page.locator('.tabs-container .tab.active', { hasText: 'shapes.py' }).waitFor();
    await page.locator('.statusbar', { hasText: 'Ln 6, Col 7' }).waitFor(); // class Square
    return 'test_shapes.py:5 → shapes.py Ln 6, Col 7';
  }, ['workbench']);

  await check('rename_preview', async () => {
    await openFromExplorer('shapes.py');
    await goTo(14, 7); // class Circle
    await runCommand('Rename Symbol');
    const box = page.locator('.rename-box input').first();
    await box.waitFor();
    await box.fill('Round');
    await page.keyboard.press('Control+Enter'); // preview instead of applying
    const pane = page.locator('.pane', { has: page.locator('.pane-header', { hasText: /Refactor Preview/i }) }).first();
    await pane.waitFor();
    const rows = pane.locator('.monaco-list-row');
    await rows.filter({ hasText: 'test_shapes.py' }).first().waitFor();
    await rows.filter({ hasText: 'shapes.py' }).first().waitFor();
    const texts = await rows.allTextContents();
    await page.screenshot({ path: path.join(config.outDir, 'rename-preview.png') });
    await pane.getByRole('button', { name: /Discard/ }).first().click().catch(async () => {
      await runCommand('Discard Refactoring');
    });
    return `preview rows: ${JSON.stringify(texts.slice(0, 6))}`;
  }, ['workbench']);

  await check('call_hierarchy', async () => {
    await openFromExplorer('shapes.py');
    await goTo(10, 9); // Square.area
    await runCommand('Peek Call Hierarchy');
    const peek = await peekRows();
    const rows = peek.locator('.monaco-list-row');
    await rows.filter({ hasText: 'test_square_area' }).first().waitFor();
    await rows.filter({ hasText: 'example_square' }).first().waitFor();
    const texts = await rows.allTextContents();
    await page.screenshot({ path: path.join(config.outDir, 'call-hierarchy.png') });
    await page.keyboard.press('Escape');
    return `callers: ${JSON.stringify(texts)}`;
  }, ['workbench']);

  await check('type_hierarchy', async () => {
    await openFromExplorer('shapes.py');
    await goTo(1, 7); // class Shape
    await runCommand('Peek Type Hierarchy');
    const peek = await peekRows();
    const rows = peek.locator('.monaco-list-row');
    await rows.filter({ hasText: 'Square' }).first().waitFor();
    await rows.filter({ hasText: 'Circle' }).first().waitFor();
    const texts = await rows.allTextContents();
    await page.screenshot({ path: path.join(config.outDir, 'type-hierarchy.png') });
    await page.keyboard.press('Escape');
    return `subtypes: ${JSON.stringify(texts)}`;
  }, ['workbench']);

  await check('bad_setting', async () => {
    // A server that cannot be found: a clear error with a way to the output channel.
    // The setting is changed as a user would, in the settings JSON editor.
    const settings = JSON.parse(fs.readFileSync(config.userSettings, 'utf8'));
    await setUserSettings({ ...settings, 'twinls.serverCommand': ['/nonexistent/twinls'] });
    try {
      const toast = page.locator('.notification-toast', { hasText: '/nonexistent/twinls' }).first();
      await toast.waitFor();
      const text = (await toast.locator('.notification-list-item-message').textContent()).trim();
      await toast.getByRole('button', { name: 'Show Output' }).click();
      await page.locator('.part.panel .monaco-editor', { hasText: 'was not found' }).first().waitFor();
      return text;
    } finally {
      await runCommand('View: Toggle Panel Visibility').catch(() => {});
      await setUserSettings(settings); // and back: the server starts again
    }
  }, ['workbench']);

  const twinStatus = async () => {
    await dismissNotifications();
    await runCommand('Twinls: Show Twin Status');
    const toast = page.locator('.notification-toast', { hasText: /1\/1 twins live/ }).first();
    await toast.waitFor({ timeout: 60000 });
    return (await toast.locator('.notification-list-item-message').textContent()).trim();
  };
  const twinPid = (status) => status.match(/\(pid (\d+) at seq/)?.[1];

  await check('twin_status', async () => {
    // After bad_setting the server restarts: the status bar item turns ready again.
    await page.locator('.part.statusbar .statusbar-item .codicon-server-process').waitFor({ timeout: 60000 });
    return twinStatus();
  }, ['workbench']);

  await check('restart_twin', async () => {
    const before = twinPid(report.checks.twin_status.detail);
    await runCommand('Twinls: Restart Twin');
    const after = await poll(async () => {
      const pid = twinPid(await twinStatus());
      return pid && pid !== before ? pid : undefined;
    }, 60000);
    return `twin pid ${before} → ${after}`;
  }, ['twin_status']);

  // --- issue 17: the inspector (a webview: an iframe in code-server) -----------------
  /** The inspector's frame: the webview iframe whose page has the inspector's #root. */
  const inspectorFrame = () => poll(async () => {
    for (const frame of page.frames()) {
      if (await frame.$('#root').catch(() => null)) return frame;
    }
    return undefined;
  }, 60000);

  await check('inspector_value', async () => {
    await openFromExplorer('inspect_me.py');
    await goTo(config.inspectNestedLine + 1, 5);
    await runCommand('Twinls: Inspect Result at Cursor');
    const frame = await inspectorFrame();
    await frame.locator('body[data-state="shown"]').waitFor({ timeout: 60000 });
    const row = (name) => frame.locator('.row', { has: frame.locator('.name', { hasText: new RegExp(`^${escape(name)}$`) }) }).first();
    await row("'shapes'").waitFor();
    await row("'shapes'").click();  // level 1: the list
    await row('0').waitFor();
    await row('0').click();  // level 2: the dict in it
    await row("'sides'").waitFor();
    const sides = (await row("'sides'").textContent()).trim();
    if (!/int\s*4$/.test(sides)) throw new Error(`'sides' row reads ${sides}`);
    await page.screenshot({ path: path.join(config.outDir, 'vscode-inspector-value.png') });
    return `expanded: ${sides}`;
  }, ['workbench']);

  // inspect_me.py stays open in the first group; the inspector is beside it.
  await check('inspector_png', async () => {
    await runCommand('View: Focus First Editor Group');
    await goTo(config.inspectFigureLine + 1, 5);
    await runCommand('Twinls: Inspect Result at Cursor');
    const frame = await inspectorFrame();
    const img = frame.locator('.mime[data-mime="image/png"] img');
    await img.waitFor({ timeout: 60000 });
    const size = await img.evaluate(async (e) => { await e.decode(); return [e.naturalWidth, e.naturalHeight]; });
    if (size[0] !== 48 || size[1] !== 48) throw new Error(`the PNG decoded as ${size}`);
    await page.screenshot({ path: path.join(config.outDir, 'vscode-inspector-png.png') });
    return `image/png ${size.join('x')} shown`;
  }, ['workbench']);

  // Clicking the lens, as a user does (issue 17's Left list): the Inspect lens sits
  // after the run lens's result; room is made as a user would (one editor group, no
  // side bar), the lens is scrolled into view and must be inside the editor's box.
  await check('inspector_lens', async () => {
    await runCommand('View: Close All Editor Groups');
    await runCommand('View: Close Primary Side Bar');
    await runCommand('View: Show Explorer');
    await openFromExplorer('inspect_me.py');
    await runCommand('View: Close Primary Side Bar');
    await clickLens('def example_nested', 'Inspect', async (lens) => {
      await lens.scrollIntoViewIfNeeded({ timeout: 10000 });
      const editorBox = await page.locator('.editor-group-container.active .monaco-editor').first().boundingBox();
      const box = await lens.boundingBox();
      if (!box || !editorBox || box.x + box.width > editorBox.x + editorBox.width) {
        throw new Error(`the Inspect lens (${JSON.stringify(box)}) is clipped by the editor (${JSON.stringify(editorBox)})`);
      }
    });
    const frame = await inspectorFrame();
    await frame.locator('body[data-state="shown"]').waitFor({ timeout: 60000 });
    const row = frame.locator('.row', { has: frame.locator('.name', { hasText: /^'shapes'$/ }) }).first();
    await row.waitFor();
    const title = (await frame.locator('#title, h1, .title').first().textContent().catch(() => '')) ?? '';
    await page.screenshot({ path: path.join(config.outDir, 'vscode-inspector-lens.png') });
    return `the lens opened the inspector: ${(await row.textContent()).trim()} ${title.trim()}`;
  }, ['inspector_value']);

  // --- issue 17: Debug runs attach VS Code's debugger (debug type `twinls`) ---------
  const debugToolbar = page.locator('.debug-toolbar');
  const callStackRow = (text) => page.locator('.debug-call-stack .monaco-list-row', { hasText: text }).first();
  const variableRow = ([name, value]) =>
    page.locator('.debug-variables .monaco-list-row', { hasText: new RegExp(`^\\s*${escape(name)}\\s*[:=]?\\s*${escape(value)}`) }).first();

  /** Stopped at the breakpoint: the call stack's top frame and the local, as shown. */
  async function stoppedAtBreakpoint() {
    await debugToolbar.waitFor({ timeout: 60000 });
    const frame = callStackRow(new RegExp(`total.*${escape(config.debugFile)}\\s*${config.debugLine}:`));
    await frame.waitFor({ timeout: 60000 });
    await page.locator('.pane-header', { hasText: 'Paused on breakpoint' }).first().waitFor();
    // The Variables view lists the frame's scopes; a user opens Locals.
    const locals = page.locator('.debug-variables .monaco-list-row', { hasText: /^\s*Locals\s*$/ }).first();
    await locals.waitFor();
    if ((await locals.getAttribute('aria-expanded')) !== 'true') await locals.click();
    const local = variableRow(config.debugLocal);
    await local.waitFor();
    return `${(await frame.textContent()).trim()} | ${(await local.textContent()).trim()}`;
  }

  async function continueToEnd() {
    await runCommand('Debug: Continue');
    await debugToolbar.waitFor({ state: 'hidden', timeout: 60000 });
  }

  await check('debug_breakpoint', async () => {
    await runCommand('View: Show Explorer');
    await openFromExplorer(config.debugFile);
    // The unsaved edit: line 2 doubles the values, line 3 (on disk there is none) sums them.
    const [first, second] = config.debugNew;
    await page.locator('.view-line', { hasText: config.debugOld }).first().click();
    await page.keyboard.press('End');
    await page.keyboard.press('Shift+Home');
    await page.keyboard.insertText(first);
    await page.keyboard.press('End');
    await page.keyboard.press('Enter');
    await page.keyboard.insertText(second);
    await page.locator('.view-line', { hasText: second }).first().waitFor();
    await goTo(config.debugLine, 5);
    await runCommand('Debug: Toggle Breakpoint');
    await page.locator('.editor-group-container.active .monaco-editor .codicon-debug-breakpoint').first().waitFor();
    await openFromExplorer(config.debugTestFile);
    await clickLens(config.debugTest, 'Debug');
    const seen = await stoppedAtBreakpoint();
    await page.screenshot({ path: path.join(config.outDir, 'vscode-debug.png') });
    return `stopped: ${seen}`;
  }, ['workbench']);

  await check('debug_continue', async () => {
    await continueToEnd();
    // The lens over the test says how the run went: passed (on disk it would fail).
    await openFromExplorer(config.debugTestFile);
    const lens = await poll(async () => {
      const found = await lensAbove(config.debugTest, 'Run again').catch(() => undefined);
      return found && (await found.locator('.codicon-pass').count()) ? found : undefined;
    }, 60000).catch(() => {
      throw new Error(`no passed lens over ${config.debugTest} after the Debug run`);
    });
    return `lens: ${(await lens.textContent()).trim()}`;
  }, ['debug_breakpoint']);

  await check('debug_profile', async () => {
    await runCommand('Testing: Focus on Test Explorer View');
    const file = page.locator('.test-explorer .monaco-list-row', { hasText: config.debugTestFile }).first();
    const row = page.locator('.test-explorer .monaco-list-row', { hasText: 'test_total' }).first();
    await row.waitFor({ timeout: 3000 }).catch(async () => {
      await file.click();
      await page.keyboard.press('ArrowRight');
      await row.waitFor();
    });
    await row.hover();
    await row.locator('.action-label[aria-label^="Debug Test"]').click();
    const seen = await stoppedAtBreakpoint();
    await continueToEnd();
    return `stopped: ${seen}; continued to the end`;
  }, ['debug_breakpoint']);

  // issue 13's checks (the bundled server, the Python extension's interpreter per folder,
  // Restricted Mode) run in sessions of their own: tests/editors/test_vscode_sessions.py.

  // Live tests: toggled on, an unsaved edit of shapes.py re-runs the test that calls it.
  await check('live_result', async () => {
    await runCommand('Twinls: Toggle Live Tests');
    await page.locator('.part.statusbar .statusbar-item .codicon-beaker').waitFor({ timeout: 90000 });
    await openFromExplorer('shapes.py');
    await goTo(11, 26); // `*` in Square.area's `return self.side * self.side`
    await page.keyboard.press('Delete');
    await page.keyboard.type('+');
    await runCommand('Testing: Focus on Test Explorer View');
    const file = page.locator('.test-explorer .monaco-list-row', { hasText: 'test_shapes.py' }).first();
    const row = page.locator('.test-explorer .monaco-list-row', { hasText: 'test_square_area' }).first();
    await row.waitFor({ timeout: 3000 }).catch(async () => {
      await file.click();
      await page.keyboard.press('ArrowRight');
      await row.waitFor();
    });
    await row.locator('.codicon-testing-failed-icon').waitFor({ timeout: 60000 });
    // Put the `*` back: the live run after it passes the test again; then live goes off.
    await openFromExplorer('shapes.py');
    await goTo(11, 26);
    await page.keyboard.press('Delete');
    await page.keyboard.type('*');
    await runCommand('Testing: Focus on Test Explorer View');
    await row.locator('.codicon-testing-passed-icon').waitFor({ timeout: 60000 });
    await runCommand('Twinls: Toggle Live Tests');
    await page.locator('.part.statusbar .statusbar-item .codicon-circle-slash').waitFor({ timeout: 90000 });
    return 'an unsaved edit failed test_square_area live; undoing it passed it again';
  }, ['workbench']);

  // Line coverage (issue 15): the Coverage profile shows what the live runs recorded:
  // shapes.py in the Test Coverage view, hit and missed lines in its gutter.
  await check('live_coverage', async () => {
    await runCommand('Test: Run All Tests with Coverage');
    const item = page.locator('.test-coverage-list-item', { hasText: 'shapes.py' }).first();
    await item.waitFor({ timeout: 60000 });
    const listed = (await item.textContent()).trim();
    await openFromExplorer('shapes.py');
    const hit = page.locator('.margin-view-overlays .coverage-deco-gutter.coverage-deco-hit');
    const miss = page.locator('.margin-view-overlays .coverage-deco-gutter.coverage-deco-miss');
    await hit.first().waitFor({ timeout: 60000 });
    await miss.first().waitFor({ timeout: 60000 });
    // The gutter class sits on the line number itself: per line, not per function. The
    // only line no test ran is Shape.area's `raise` (3); its `def` (2) ran at import.
    const missed = (await miss.allTextContents()).map((t) => t.trim());
    const hits = (await hit.allTextContents()).map((t) => t.trim());
    if (missed.join(',') !== '3' || !hits.includes('2') || !hits.includes('11')) {
      throw new Error(`gutter: missed lines ${missed.join(',')}, hit lines ${hits.join(',')}`);
    }
    return `Test Coverage lists ${listed}; gutter: lines ${hits.join(',')} hit, ${missed.join(',')} missed`;
  }, ['live_result']);

} finally {
  // The picture for people: the test file with its lenses, the Testing view beside it.
  await dismissNotifications();
  await openFromExplorer('test_shapes.py').catch(() => {});
  await runCommand('Testing: Focus on Test Explorer View').catch(() => {});
  await wait(1000);
  await page.screenshot({ path: path.join(config.outDir, 'vscode.png') }).catch(() => {});
  save();
  await ctx.close();
}
