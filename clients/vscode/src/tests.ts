// The Testing view, fed from the server's structured run results.
import * as path from 'node:path';
import * as vscode from 'vscode';
import { LensArgument, RunResult, ServerCommand, TestResult, isRunResult } from './protocol';

/** Sends a server command (bypassing the lens middleware) and returns its result. */
export type Execute = (command: string, args: unknown[]) => Promise<unknown>;

const OUTCOME_ICON: Record<string, string> = { passed: '$(pass)', failed: '$(error)', error: '$(error)', skipped: '$(debug-step-over)' };

export class TwinTests implements vscode.Disposable {
  readonly controller = vscode.tests.createTestController('twinls', 'twinls');
  private readonly status = vscode.window.createStatusBarItem('twinls.lastRun', vscode.StatusBarAlignment.Left, 50);
  /** Whether an item is an example (rerun with runExample) and its qualname. */
  private readonly kinds = new WeakMap<vscode.TestItem, { example: boolean; qualname?: string }>();

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
  async track(title: string, send: () => Promise<unknown>, existing?: vscode.TestRun, lens?: LensArgument): Promise<unknown> {
    const run = existing ?? this.controller.createTestRun(new vscode.TestRunRequest(), title, false);
    if (lens?.nodeid && lens.name) {
      // A test lens names its test: show it running before any result.
      run.started(this.itemFor({ nodeid: lens.nodeid, name: lens.name, outcome: 'running', line: lens.line, qualname: lens.qualname }, lens.uri, false));
    }
    this.status.text = `$(sync~spin) ${title}`;
    this.status.show();
    try {
      const result = await vscode.window.withProgress(
        { location: vscode.ProgressLocation.Window, title },
        () => send(),
      );
      if (isRunResult(result)) {
        this.record(result, run);
        this.showSummary(result);
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

  /** Put every test of a result into the tree and mark its outcome in `run`. */
  record(result: RunResult, run: vscode.TestRun): void {
    for (const test of result.tests) {
      const item = this.itemFor(test, result.uri, result.kind === 'example');
      const ms = typeof test.duration === 'number' ? test.duration * 1000 : undefined;
      for (const text of [test.stdout, test.stderr]) {
        if (text) {
          run.appendOutput(text.replace(/\r?\n/g, '\r\n'), undefined, item);
        }
      }
      if (test.value != null) {
        run.appendOutput(`${test.name} → ${test.value}\r\n`, undefined, item);
      }
      switch (test.outcome) {
        case 'passed':
        case 'xpassed':
          run.passed(item, ms);
          break;
        case 'skipped':
        case 'xfailed':
          run.skipped(item);
          break;
        case 'failed':
          run.failed(item, this.messageFor(test, item), ms);
          break;
        default: // error, or anything new: the test could not run as written
          run.errored(item, this.messageFor(test, item), ms);
      }
    }
    this.output.info(`run ${result.kind} ${result.uri}: ${result.outcome} (${result.tests.map((t) => `${t.nodeid}=${t.outcome}`).join(', ')})`);
  }

  private showSummary(result: RunResult): void {
    const tests = result.tests;
    const one = tests.length === 1 ? tests[0] : undefined;
    const ms = typeof result.duration === 'number' ? ` in ${formatMs(result.duration * 1000)}` : '';
    const icon = OUTCOME_ICON[result.outcome] ?? '$(info)';
    let text: string;
    if (one) {
      const value = one.value != null ? ` → ${shorten(String(one.value), 40)}` : '';
      text = `${icon} ${one.name} ${one.outcome}${ms}${value}`;
    } else {
      const counts = new Map<string, number>();
      tests.forEach((t) => counts.set(t.outcome, (counts.get(t.outcome) ?? 0) + 1));
      text = `${icon} ${path.basename(vscode.Uri.parse(result.uri).fsPath)}: ${[...counts].map(([o, n]) => `${n} ${o}`).join(', ') || 'no tests'}${ms}`;
    }
    this.status.text = text;
    this.status.tooltip = 'twinls: last run (click for its output)';
  }

  private itemFor(test: TestResult, fallbackUri: string, example: boolean): vscode.TestItem {
    const uri = vscode.Uri.parse(test.uri ?? fallbackUri);
    let file = this.controller.items.get(uri.toString());
    if (!file) {
      file = this.controller.createTestItem(uri.toString(), path.basename(uri.fsPath), uri);
      this.controller.items.add(file);
    }
    let item = file.children.get(test.nodeid);
    if (!item) {
      item = this.controller.createTestItem(test.nodeid, test.name, uri);
      file.children.add(item);
    }
    this.kinds.set(item, { example, qualname: test.qualname ?? this.kinds.get(item)?.qualname });
    // A lens's and a passing test's line is the definition; a failure's is where it failed.
    if (typeof test.line === 'number' && (!item.range || test.outcome === 'passed' || test.outcome === 'running')) {
      item.range = new vscode.Range(test.line, 0, test.line, 0);
    }
    return item;
  }

  private messageFor(test: TestResult, item: vscode.TestItem): vscode.TestMessage {
    const message = new vscode.TestMessage(test.message || `${test.name} ${test.outcome}`);
    if (item.uri && typeof test.line === 'number') {
      message.location = new vscode.Location(item.uri, new vscode.Position(test.line, 0));
    }
    return message;
  }

  /** The Testing view's own Run: files, tests and examples run again in the twin. */
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
        const [command, arg] = this.commandFor(item);
        if (command === ServerCommand.runFile) {
          iterate(item.children).forEach((child) => run.started(child));
        } else {
          run.started(item);
        }
        try {
          await this.track(`twinls: ${item.label}`, () => this.execute(command, [arg]), run);
        } catch (err) {
          run.errored(item, new vscode.TestMessage(String(err)));
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
    const kind = this.kinds.get(item);
    if (!item.parent || !kind) {
      return [ServerCommand.runFile, { uri }];
    }
    const qualname = kind.qualname ?? item.id.split('::').slice(1).join('::');
    return kind.example
      ? [ServerCommand.runExample, { uri, name: item.label, qualname }]
      : [ServerCommand.runTest, { uri, nodeid: item.id, qualname, name: item.label }];
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

function formatMs(ms: number): string {
  return ms < 1000 ? `${Math.round(ms)} ms` : `${(ms / 1000).toFixed(2)} s`;
}

function shorten(text: string, max: number): string {
  return text.length > max ? `${text.slice(0, max - 1)}…` : text;
}
