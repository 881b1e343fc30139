// The Testing view, fed from the server's structured run results.
//
// Items mirror pytest's tree, built from node ids: folder › module › class ›
// test › parametrized case / subtest, each labelled by its node id part. A test
// lives under its own file whatever file its failure was raised in; the failure's
// message points at the failing line, wherever that is, and carries pytest's
// failure text (assertion diff, traceback) and the captured output, which also go
// to Test Results.
import * as path from 'node:path';
import * as vscode from 'vscode';
import { LIVE_MESSAGE, liveMessages } from './inspector';
import { DiscoveredFile, LensArgument, RunResult, ServerCommand, SubtestResult, TestResult, isRunResult } from './protocol';

/** Sends a server command (bypassing the lens middleware) and returns its result. */
export type Execute = (command: string, args: unknown[]) => Promise<unknown>;

type Kind = 'folder' | 'module' | 'class' | 'test' | 'case' | 'subtest' | 'example';

interface Node {
  kind: Kind;
  /** The pytest node id (for folders and modules, their relative path). */
  nodeid: string;
  qualname?: string;
}

const OUTCOME_ICON: Record<string, string> = {
  passed: '$(pass)',
  failed: '$(error)',
  error: '$(error)',
  skipped: '$(debug-step-over)',
  deselected: '$(debug-step-over)',
};

/** pytest's closing-line categories, in its order. */
const CATEGORIES = ['failed', 'passed', 'skipped', 'deselected', 'xfailed', 'xpassed', 'warnings', 'error', 'subtests passed', 'subtests failed', 'subtests skipped'];

export class TwinTests implements vscode.Disposable {
  readonly controller = vscode.tests.createTestController('twinls', 'twinls');
  private readonly status = vscode.window.createStatusBarItem('twinls.lastRun', vscode.StatusBarAlignment.Left, 50);
  private readonly nodes = new WeakMap<vscode.TestItem, Node>();

  constructor(
    private readonly execute: Execute,
    private readonly output: vscode.LogOutputChannel,
  ) {
    this.controller.createRunProfile('Run in twin', vscode.TestRunProfileKind.Run, (req, token) => this.runRequest(req, token), true);
    this.status.name = 'twinls: last run';
    this.status.command = 'testing.showMostRecentOutput';
  }

  /**
   * Run one server command as a test run: progress in the status bar (cancellable
   * from the notification the server's own progress opens), results in the Testing view.
   */
  async track(title: string, send: () => Promise<unknown>, existing?: vscode.TestRun, lens?: LensArgument, started: vscode.TestItem[] = []): Promise<unknown> {
    const run = existing ?? this.controller.createTestRun(new vscode.TestRunRequest(), title, false);
    if (lens?.nodeid && lens.name) {
      // A test lens names its test: show it running before any result.
      const item = this.itemForNodeid(lens.nodeid, vscode.Uri.parse(lens.uri), lens.kind === 'class' ? 'class' : 'test', lens.qualname);
      run.started(item);
      started = [...started, item];
    }
    this.status.text = `$(sync~spin) ${title}`;
    this.status.show();
    try {
      const result = await vscode.window.withProgress({ location: vscode.ProgressLocation.Window, title }, () => send());
      if (isRunResult(result)) {
        const done = this.record(result, run);
        this.settle(started, done, run);
        this.showSummary(result);
        if (result.message) {
          run.appendOutput(`${result.message.replace(/\r?\n/g, '\r\n')}\r\n`);
        }
        if (result.warnings) {
          run.appendOutput(`warnings summary\r\n${result.warnings.replace(/\r?\n/g, '\r\n')}\r\n`);
        }
      } else {
        this.status.text = `$(info) ${title}: no test here`;
      }
      return result;
    } catch (err) {
      this.status.text = `$(error) ${title}: failed`;
      this.output.error(`${title}: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`);
      run.appendOutput(`${String(err)}\r\n`);
      throw err;
    } finally {
      if (!existing) {
        run.end();
      }
    }
  }

  /** Put every test of a result into the tree and mark its outcome in `run`; the items marked. */
  record(result: RunResult, run: vscode.TestRun): Map<vscode.TestItem, string> {
    const done = new Map<vscode.TestItem, string>();
    for (const test of result.tests) {
      const fileUri = vscode.Uri.parse(test.fileUri ?? test.uri ?? result.uri);
      const example = result.kind === 'example';
      const item = this.itemForNodeid(test.nodeid, fileUri, example ? 'example' : undefined, test.qualname ?? undefined);
      if (typeof test.line === 'number' && (test.uri ?? fileUri.toString()) === fileUri.toString() && (!item.range || test.outcome === 'passed')) {
        item.range = new vscode.Range(test.line, 0, test.line, 0);
      }
      for (const text of [test.stdout, test.stderr]) {
        if (text) {
          run.appendOutput(crlf(text), undefined, item);
        }
      }
      if (test.value != null) {
        run.appendOutput(`${test.name} → ${test.value}\r\n`, undefined, item);
      }
      for (const sub of test.subtests ?? []) {
        const child = this.subtestItem(item, sub, fileUri);
        this.mark(run, child, sub, sub.outcome);
        done.set(child, sub.outcome);
      }
      this.mark(run, item, test, test.outcome);
      done.set(item, test.outcome);
    }
    this.output.info(`run ${result.kind} ${result.uri}: ${result.outcome} (${result.tests.map((t) => `${t.nodeid}=${t.outcome}`).join(', ')})`);
    return done;
  }

  private mark(run: vscode.TestRun, item: vscode.TestItem, test: TestResult | SubtestResult, outcome: string): void {
    const ms = typeof test.duration === 'number' ? test.duration * 1000 : undefined;
    switch (outcome) {
      case 'passed':
      case 'xpassed':
        run.passed(item, ms);
        break;
      case 'skipped':
      case 'xfailed':
        run.skipped(item);
        break;
      case 'failed':
      case 'error': {
        const message = this.messageFor(test, item);
        if (test.traceback) {
          run.appendOutput(crlf(`${item.label}\n${test.traceback}\n`), message.location, item);
        }
        if (outcome === 'failed') {
          run.failed(item, message, ms);
        } else {
          run.errored(item, message, ms);
        }
        break;
      }
      default: // anything new: the test could not run as written
        run.errored(item, this.messageFor(test, item), ms);
    }
  }

  /**
   * Items the run started that got no result of their own (a class, a parametrized
   * test): their children's results decide, so none is left "skipped" beside a ✓.
   */
  private settle(started: vscode.TestItem[], done: Map<vscode.TestItem, string>, run: vscode.TestRun): void {
    for (const item of started) {
      if (done.has(item)) {
        continue;
      }
      const outcomes: string[] = [];
      done.forEach((outcome, other) => {
        for (let p: vscode.TestItem | undefined = other.parent; p; p = p.parent) {
          if (p === item) {
            outcomes.push(outcome);
          }
        }
      });
      if (outcomes.length === 0) {
        run.skipped(item); // nothing ran: deselected, not found
      } else if (outcomes.some((o) => o === 'failed' || o === 'error')) {
        const bad = outcomes.filter((o) => o === 'failed' || o === 'error').length;
        run.failed(item, new vscode.TestMessage(`${bad} of ${outcomes.length} failed`));
      } else {
        run.passed(item);
      }
    }
  }

  private showSummary(result: RunResult): void {
    const tests = result.tests;
    const one = tests.length === 1 ? tests[0] : undefined;
    const ms = typeof result.duration === 'number' ? ` in ${formatMs(result.duration * 1000)}` : '';
    const icon = OUTCOME_ICON[result.outcome] ?? '$(info)';
    let text: string;
    if (one && result.kind !== 'folder') {
      const value = one.value != null ? ` → ${shorten(String(one.value), 40)}` : '';
      text = `${icon} ${one.qualname || one.name} ${one.outcome}${ms}${value}`;
    } else if (tests.length === 0 && result.message) {
      text = `${icon} ${shorten(result.message.split('\n')[0], 80)}`;
    } else {
      const counts = closingLine(result.summary) || 'no tests ran';
      text = `${icon} ${path.basename(vscode.Uri.parse(result.uri).fsPath)}: ${counts}${ms}`;
    }
    this.status.text = text;
    this.status.tooltip = 'twinls: last run (click for its output)';
  }

  /**
   * Discovery (server: twinls.discoverTests): every listed test gets its item before
   * any run; a module's items that its listing no longer has (a test deleted or
   * renamed in the editor) go. Returns how many tests were listed.
   */
  discovered(files: DiscoveredFile[]): number {
    let n = 0;
    for (const file of files) {
      const uri = vscode.Uri.parse(file.uri);
      const keep = new Set<string>();
      let module: vscode.TestItem | undefined;
      for (const t of file.tests) {
        const kind: Kind | undefined = t.kind === 'class' ? 'class' : t.kind === 'case' ? undefined : 'test';
        const item = this.itemForNodeid(t.nodeid, uri, kind, t.qualname);
        item.range ??= new vscode.Range(t.line, 0, t.line, 0);
        const top = t.nodeid.split('::').slice(0, 2).join('::').split('[')[0];
        keep.add(top);
        module ??= this.itemForNodeid(t.nodeid.split('::')[0], uri);
        n++;
      }
      module?.children.forEach((child) => {
        if (!keep.has(child.id)) {
          module!.children.delete(child.id);
        }
      });
    }
    return n;
  }

  /** The item for a node id, with every parent (folders, module, classes, the test) made. */
  private itemForNodeid(nodeid: string, fileUri: vscode.Uri, leafKind?: Kind, qualname?: string): vscode.TestItem {
    const [file, ...rest] = nodeid.split('::');
    const parts = file.split('/');
    // The workspace root: the file's path less the node id's relative path.
    const filePath = fileUri.fsPath;
    const root = filePath.endsWith(file) ? filePath.slice(0, filePath.length - file.length) : path.dirname(filePath) + path.sep;
    let collection = this.controller.items;
    let parent: vscode.TestItem | undefined;
    for (let i = 0; i < parts.length - 1; i++) {
      const rel = parts.slice(0, i + 1).join('/');
      parent = this.ensure(collection, rel, parts[i], vscode.Uri.file(path.join(root, rel)), { kind: 'folder', nodeid: rel });
      collection = parent.children;
    }
    parent = this.ensure(collection, file, parts[parts.length - 1], fileUri, { kind: 'module', nodeid: file });
    if (rest.length === 0) {
      return parent;
    }
    for (let i = 0; i < rest.length; i++) {
      const last = i === rest.length - 1;
      const id = [file, ...rest.slice(0, i + 1)].join('::');
      const part = rest[i];
      const bracket = last ? part.indexOf('[') : -1;
      if (bracket > 0) {
        // A parametrized case: under its test function, labelled by its parameters.
        const fnId = `${file}::${[...rest.slice(0, i), part.slice(0, bracket)].join('::')}`;
        const fn = this.ensure(parent!.children, fnId, part.slice(0, bracket), fileUri, { kind: 'test', nodeid: fnId, qualname: fnId.split('::').slice(1).join('::') });
        return this.ensure(fn.children, id, part.slice(bracket), fileUri, { kind: 'case', nodeid: id, qualname: id.split('::').slice(1).join('::') });
      }
      const kind: Kind = last ? (leafKind ?? 'test') : 'class';
      parent = this.ensure(parent!.children, id, part, fileUri, { kind, nodeid: id, qualname: last ? (qualname ?? rest.join('::')) : rest.slice(0, i + 1).join('::') });
    }
    return parent!;
  }

  private subtestItem(test: vscode.TestItem, sub: SubtestResult, fileUri: vscode.Uri): vscode.TestItem {
    const parent = this.nodes.get(test);
    const item = this.ensure(test.children, `${test.id} ${sub.name}`, sub.name, fileUri, { kind: 'subtest', nodeid: parent?.nodeid ?? test.id, qualname: parent?.qualname });
    if (typeof sub.line === 'number' && (sub.uri ?? fileUri.toString()) === fileUri.toString()) {
      item.range = new vscode.Range(sub.line, 0, sub.line, 0);
    }
    return item;
  }

  private ensure(collection: vscode.TestItemCollection, id: string, label: string, uri: vscode.Uri, node: Node): vscode.TestItem {
    let item = collection.get(id);
    if (!item) {
      item = this.controller.createTestItem(id, label, uri);
      collection.add(item);
    }
    const known = this.nodes.get(item);
    // A lens may call a class a test until a result shows its children: keep the richer kind.
    if (!known || (known.kind === 'test' && node.kind === 'class') || node.kind === 'example') {
      this.nodes.set(item, node);
    }
    return item;
  }

  /** The failure as VS Code shows it: at the failing line, with pytest's text and the output. */
  private messageFor(test: TestResult | SubtestResult, item: vscode.TestItem): vscode.TestMessage {
    const parts = [test.message || `${item.label} ${test.outcome}`];
    const errors = 'errors' in test ? (test.errors ?? []) : [];
    for (const extra of errors.slice(1)) {
      parts.push(`error in ${extra.when}: ${extra.message}`);
    }
    const frames = test.trace ?? [];
    if (frames.length > 0) {
      parts.push(['Traceback (workspace frames):', ...frames.map((f) => `  ${vscode.workspace.asRelativePath(vscode.Uri.parse(f.uri))}:${f.line + 1}`)].join('\n'));
    }
    if (test.traceback) {
      parts.push(test.traceback);
    }
    if (test.stdout) {
      parts.push(`Captured stdout:\n${test.stdout}`);
    }
    if (test.stderr) {
      parts.push(`Captured stderr:\n${test.stderr}`);
    }
    const message = new vscode.TestMessage(parts.join('\n\n'));
    if ('handle' in test && test.handle) {
      // Its run child is parked: the message's menu offers the inspector (inspectCommands.ts).
      message.contextValue = LIVE_MESSAGE;
      liveMessages.set(message, test.handle);
    }
    const uri = test.uri ? vscode.Uri.parse(test.uri) : item.uri;
    if (uri && typeof test.line === 'number') {
      message.location = new vscode.Location(uri, new vscode.Position(test.line, 0));
    }
    return message;
  }

  /** The Testing view's own Run: folders, files, tests and examples run again in the twin. */
  private async runRequest(request: vscode.TestRunRequest, token: vscode.CancellationToken): Promise<void> {
    const run = this.controller.createTestRun(request);
    const cancel = token.onCancellationRequested(() => void this.execute(ServerCommand.cancelRun, []));
    try {
      for (const item of request.include ?? [...iterate(this.controller.items)]) {
        if (token.isCancellationRequested) {
          break;
        }
        if (request.exclude?.includes(item) || !item.uri) {
          continue;
        }
        const target = this.nodes.get(item)?.kind === 'subtest' && item.parent ? item.parent : item;
        const [command, arg] = this.commandFor(target);
        run.started(target);
        try {
          await this.track(`twinls: ${target.label}`, () => this.execute(command, [arg]), run, undefined, [target]);
        } catch (err) {
          run.errored(target, new vscode.TestMessage(String(err)));
        }
      }
    } finally {
      cancel.dispose();
      run.end();
    }
  }

  /** The server command (and its lens-style argument) that reruns an item. */
  private commandFor(item: vscode.TestItem): [string, LensArgument] {
    const uri = item.uri!.toString();
    const node = this.nodes.get(item);
    if (!node || node.kind === 'module') {
      return [ServerCommand.runFile, { uri }];
    }
    if (node.kind === 'folder') {
      return [ServerCommand.runFolder, { uri }];
    }
    const qualname = node.qualname ?? node.nodeid.split('::').slice(1).join('::');
    if (node.kind === 'example') {
      return [ServerCommand.runExample, { uri, name: String(item.label), qualname }];
    }
    const kind = node.kind === 'class' ? 'class' : 'test';
    return [ServerCommand.runTest, { uri, nodeid: node.nodeid, qualname, name: String(item.label), kind }];
  }

  dispose(): void {
    this.controller.dispose();
    this.status.dispose();
  }
}

function iterate(collection: vscode.TestItemCollection): vscode.TestItem[] {
  const items: vscode.TestItem[] = [];
  collection.forEach((item) => items.push(item));
  return items;
}

/** pytest's closing line from a summary: `1 failed, 2 passed, 1 deselected`. */
function closingLine(summary: Record<string, number> | undefined): string {
  const parts: string[] = [];
  for (const key of CATEGORIES) {
    const n = summary?.[key] ?? 0;
    if (n > 0) {
      const word = key === 'error' ? (n === 1 ? 'error' : 'errors') : key === 'warnings' ? (n === 1 ? 'warning' : 'warnings') : key;
      parts.push(`${n} ${word}`);
    }
  }
  return parts.join(', ');
}

function crlf(text: string): string {
  return text.replace(/\r?\n/g, '\r\n');
}

function formatMs(ms: number): string {
  return ms < 1000 ? `${Math.round(ms)} ms` : `${(ms / 1000).toFixed(2)} s`;
}

function shorten(text: string, max: number): string {
  return text.length > max ? `${text.slice(0, max - 1)}…` : text;
}
