// The inspector: a webview panel showing a live result (an example's value, a failed
// test's frames and locals) one level at a time, asked of the server's `twinls.inspect`.
//
// Opened from the `Inspect` lens, the failure's code action, the Testing view's
// failure message and the `Twinls: Inspect Result at Cursor` command (which runs
// the example or test first: the panel shows "running…" and fills in when the
// result arrives). The page expands lazily (a click asks for the next level) and
// renders the mime bundle: images as data URIs, HTML in a sandboxed iframe without
// scripts (`twinls.inspector.allowScripts` turns them on), markdown and LaTeX as
// text. A strict CSP: nothing loads but the page's own nonce'd script and data: images.
import * as crypto from 'node:crypto';
import * as vscode from 'vscode';
import { ServerCommand } from './protocol';

/** Sends `workspace/executeCommand` straight to the server. */
export type Send = (command: string, args: unknown[]) => Promise<unknown>;

/** Testing-view messages of failures whose run child is parked: message -> handle. */
export const liveMessages = new WeakMap<vscode.TestMessage, string>();

export const LIVE_MESSAGE = 'twinls.live';

type FromPage = { type: 'inspect'; id: number; handle: string; offset?: number } | { type: 'open'; uri: string; line: number };

export class Inspector implements vscode.Disposable {
  private panel: vscode.WebviewPanel | undefined;
  private ready: Promise<void> | undefined;
  private markReady: (() => void) | undefined;

  constructor(private readonly send: Send, private readonly output: vscode.LogOutputChannel) {}

  /** Show `handle` (or, while it is a promise, "running…" until it resolves). */
  async show(handle: string | undefined | Promise<string | undefined>, title: string): Promise<void> {
    const panel = this.open(title);
    await this.ready;
    void panel.webview.postMessage({ type: 'pending', title });
    let resolved: string | undefined;
    try {
      resolved = await handle;
    } catch (err) {
      void panel.webview.postMessage({ type: 'error', text: String(err) });
      return;
    }
    if (!resolved) {
      void panel.webview.postMessage({ type: 'error', text: 'this run has no live result (it passed, or parking is off)' });
      return;
    }
    void panel.webview.postMessage({ type: 'root', handle: resolved, title });
  }

  private open(title: string): vscode.WebviewPanel {
    if (this.panel) {
      this.panel.title = `Inspect: ${title}`;
      this.panel.reveal(vscode.ViewColumn.Beside, true);
      return this.panel;
    }
    const panel = vscode.window.createWebviewPanel('twinls.inspector', `Inspect: ${title}`, { viewColumn: vscode.ViewColumn.Beside, preserveFocus: true }, {
      enableScripts: true,
      localResourceRoots: [],
      retainContextWhenHidden: true,
    });
    this.ready = new Promise((resolve) => (this.markReady = resolve));
    const allowScripts = vscode.workspace.getConfiguration('twinls').get<boolean>('inspector.allowScripts', false);
    panel.webview.html = page(crypto.randomBytes(16).toString('base64'), panel.webview.cspSource, allowScripts);
    panel.webview.onDidReceiveMessage((msg: FromPage | { type: 'ready' }) => void this.onMessage(panel, msg));
    panel.onDidDispose(() => (this.panel = undefined));
    this.panel = panel;
    return panel;
  }

  private async onMessage(panel: vscode.WebviewPanel, msg: FromPage | { type: 'ready' }): Promise<void> {
    if (msg.type === 'ready') {
      this.markReady?.();
      return;
    }
    if (msg.type === 'open') {
      const doc = await vscode.workspace.openTextDocument(vscode.Uri.parse(msg.uri));
      await vscode.window.showTextDocument(doc, { viewColumn: vscode.ViewColumn.One, selection: new vscode.Range(msg.line, 0, msg.line, 0) });
      return;
    }
    try {
      const answer = await this.send(ServerCommand.inspect, [msg.handle, { offset: msg.offset ?? 0 }]);
      void panel.webview.postMessage({ type: 'answer', id: msg.id, answer });
    } catch (err) {
      this.output.error(`twinls.inspect ${msg.handle}: ${String(err)}`);
      void panel.webview.postMessage({ type: 'answer', id: msg.id, answer: { handle: msg.handle, error: String(err) } });
    }
  }

  dispose(): void {
    this.panel?.dispose();
  }
}

/** The panel's page: a tree, filled by messages; everything else is forbidden by its CSP. */
function page(nonce: string, cspSource: string, allowScripts: boolean): string {
  const csp = [
    "default-src 'none'",
    'img-src data:',
    `style-src 'nonce-${nonce}' ${cspSource}`,
    `script-src 'nonce-${nonce}'`,
    'frame-src data:',
  ].join('; ');
  return `<!DOCTYPE html>
<html><head><meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="${csp}">
<style nonce="${nonce}">
body { font-family: var(--vscode-editor-font-family, monospace); font-size: var(--vscode-editor-font-size, 13px); color: var(--vscode-foreground); }
.row { cursor: default; white-space: nowrap; padding: 1px 0; }
.row.open > .twisty::before { content: '▾ '; }
.row.closed > .twisty::before { content: '▸ '; }
.row.leaf > .twisty::before { content: '  '; white-space: pre; }
.name { color: var(--vscode-symbolIcon-variableForeground, #9cdcfe); }
.type { color: var(--vscode-descriptionForeground); margin: 0 .5em; }
.kids { margin-left: 1.2em; }
.mime img { max-width: 100%; image-rendering: pixelated; min-width: 32px; border: 1px solid var(--vscode-panel-border); }
.mime iframe { width: 100%; min-height: 80px; border: 1px solid var(--vscode-panel-border); background: white; }
.mime pre, .error { white-space: pre-wrap; }
.error { color: var(--vscode-errorForeground); }
.label { color: var(--vscode-descriptionForeground); font-size: 90%; }
a { color: var(--vscode-textLink-foreground); cursor: pointer; }
</style></head>
<body><div id="title"></div><div id="root"><em>waiting for a result…</em></div>
<script nonce="${nonce}">
const vscode = acquireVsCodeApi();
const allowScripts = ${allowScripts ? 'true' : 'false'};
let next = 1;
const waiting = new Map();
function ask(handle, offset) {
  const id = next++;
  vscode.postMessage({ type: 'inspect', id, handle, offset: offset || 0 });
  return new Promise((resolve) => waiting.set(id, resolve));
}
function el(tag, cls, text) {
  const e = document.createElement(tag);
  if (cls) e.className = cls;
  if (text !== undefined) e.textContent = text;
  return e;
}
function mime(answer, into) {
  for (const [type, data] of Object.entries(answer.mime || {})) {
    const box = el('div', 'mime');
    box.dataset.mime = type;
    box.append(el('div', 'label', type));
    if (type === 'image/png' || type === 'image/jpeg' || type === 'image/gif') {
      const img = el('img');
      img.src = 'data:' + type + ';base64,' + data;
      box.append(img);
    } else if (type === 'image/svg+xml') {
      const img = el('img');
      img.src = 'data:image/svg+xml;base64,' + btoa(unescape(encodeURIComponent(data)));
      box.append(img);
    } else if (type === 'text/html') {
      const frame = el('iframe');
      frame.setAttribute('sandbox', allowScripts ? 'allow-scripts' : '');
      frame.srcdoc = data;
      box.append(frame);
    } else {
      box.append(el('pre', '', data));
    }
    into.append(box);
  }
  for (const type of answer.mimeCut || []) into.append(el('div', 'label', type + ': too big to show'));
}
function row(child, depth) {
  const r = el('div', 'row ' + (child.handle ? 'closed' : 'leaf'));
  r.dataset.handle = child.handle || '';
  r.dataset.name = child.name;
  r.append(el('span', 'twisty'), el('span', 'name', child.name), el('span', 'type', child.type), el('span', 'repr', child.repr));
  const kids = el('div', 'kids');
  const wrap = el('div', 'node');
  wrap.append(r, kids);
  if (child.handle) {
    r.addEventListener('click', async () => {
      if (r.classList.contains('open')) { r.classList.replace('open', 'closed'); kids.replaceChildren(); return; }
      r.classList.replace('closed', 'open');
      kids.replaceChildren(el('em', '', 'loading…'));
      fill(await ask(child.handle), kids);
    });
  }
  return wrap;
}
function fill(answer, into, offset) {
  if (!offset) into.replaceChildren();
  if (answer.error) into.append(el('div', 'error', answer.error));
  if (answer.gone) return;
  if (!offset) {
    if (answer.location) {
      const a = el('a', 'location', 'go to line ' + (answer.location.line + 1));
      a.addEventListener('click', () => vscode.postMessage({ type: 'open', uri: answer.location.uri, line: answer.location.line }));
      into.append(a);
    }
    mime(answer, into);
    for (const view of answer.views || []) {
      into.append(el('div', 'label', 'view: ' + view.title));
      if (view.error) into.append(el('div', 'error', view.error));
      if (view.mime) mime({ mime: view.mime }, into);
      if (view.child) into.append(row(view.child));
    }
    for (const a of answer.attributes || []) into.append(row(a));
    if (answer.attributesMore) into.append(el('div', 'label', answer.attributesMore + ' more attributes'));
  }
  for (const item of answer.items || []) into.append(row(item));
  if (answer.more) {
    const more = el('a', 'more', 'more…');
    const at = (answer.offset || 0) + (answer.items || []).length;
    more.addEventListener('click', async () => { more.remove(); fill(await ask(answer.handle, at), into, at); });
    into.append(more);
  }
}
window.addEventListener('message', async (event) => {
  const msg = event.data;
  const root = document.getElementById('root');
  if (msg.type === 'answer') { const done = waiting.get(msg.id); waiting.delete(msg.id); if (done) done(msg.answer); return; }
  if (msg.type === 'pending') { document.getElementById('title').textContent = msg.title; root.replaceChildren(el('em', 'pending', 'running…')); return; }
  if (msg.type === 'error') { root.replaceChildren(el('div', 'error', msg.text)); return; }
  if (msg.type === 'root') {
    const answer = await ask(msg.handle);
    const top = row({ name: msg.title, handle: msg.handle, type: answer.type || '', repr: answer.repr || '' });
    root.replaceChildren(top);
    const head = top.querySelector('.row');
    head.classList.replace('closed', 'open');
    fill(answer, top.querySelector('.kids'));
    document.body.dataset.state = 'shown';
  }
});
vscode.postMessage({ type: 'ready' });
</script></body></html>`;
}
