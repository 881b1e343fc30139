// The Testing view, fed from the server's structured run results.
import * as path from 'node:path';
import * as vscode from 'vscode';
import { ServerCommand, RunResult, TestResult, isRunResult } from './protocol';

/** Sends a server command (bypassing the lens middleware) and returns its result. */
export type Execute = (command: string, args: unknown[]) => Promise<unknown>;

const OUTCOME_ICON: Record<string, string> = { passed: '$(pass)', failed: '$(error)', error: '$(error)', skipped: '$(debug-step-over)' };

export class TwinTests implements vscode.Disposable {
  readonly controller = vscode.tests.createTestController('twinls', 'twinls');
  private readonly status = vscode.window.createStatusBarItem('twinls.lastRun', vscode.StatusBarAlignment.Left, 50);

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
  async track(title: string, send: () => Promise<unknown>, existing?: vscode.TestRun): Promise<unknown> {
    const run = existing ?? this.controller.createTestRun(new vscode.TestRunRequest(), title, false);
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
      const item = this.itemFor(test, result.uri);
      const ms = test.duration !== undefined ? test.duration * 1000 : undefined;
      for (const text of [test.stdout, test.stderr]) {
        if (text) {
          run.appendOutput(text.replace(/\r?\n/g, '\r\n'), undefined, item);
        }
      }
      if (test.value !== undefined) {
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
    const ms = result.duration !== undefined ? ` in ${formatMs(result.duration * 1000)}` : '';
    const icon = OUTCOME_ICON[result.outcome] ?? '$(info)';
    let text: string;
    if (one) {
      const value = one.value !== undefined ? ` → ${shorten(one.value, 40)}` : '';
      text = `${icon} ${one.name} ${one.outcome}${ms}${value}`;
    } else {
      const counts = new Map<string, number>();
      tests.forEach((t) => counts.set(t.outcome, (counts.get(t.outcome) ?? 0) + 1));
      text = `${icon} ${path.basename(vscode.Uri.parse(result.uri).fsPath)}: ${[...counts].map(([o, n]) => `${n} ${o}`).join(', ') || 'no tests'}${ms}`;
    }
    this.status.text = text;
    this.status.tooltip = 'twinls: last run (click for its output)';
  }

  private itemFor(test: TestResult, fallbackUri: string): vscode.TestItem {
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
    // A passing test's line is its definition; a failure's is where it failed.
    if (test.line !== undefined && (!item.range || test.outcome === 'passed')) {
      item.range = new vscode.Range(test.line, 0, test.line, 0);
    }
    return item;
  }

  private messageFor(test: TestResult, item: vscode.TestItem): vscode.TestMessage {
    const message = new vscode.TestMessage(test.message || `${test.name} ${test.outcome}`);
    if (item.uri && test.line !== undefined) {
      message.location = new vscode.Location(item.uri, new vscode.Position(test.line, 0));
    }
    return message;
  }

  /** The Testing view's own Run: each chosen test runs in the twin at its line. */
  private async runRequest(request: vscode.TestRunRequest, token: vscode.CancellationToken): Promise<void> {
    const run = this.controller.createTestRun(request);
    const cancel = token.onCancellationRequested(() => void this.execute(ServerCommand.cancelRun, []));
    try {
      const queue: vscode.TestItem[] = [];
      const roots = request.include ?? [...iterate(this.controller.items)];
      for (const item of roots) {
        queue.push(...(item.children.size ? [...iterate(item.children)] : [item]));
      }
      for (const item of queue) {
        if (token.isCancellationRequested) {
          run.skipped(item);
          continue;
        }
        if (request.exclude?.includes(item) || !item.uri || !item.range) {
          continue;
        }
        run.started(item);
        const args = [item.uri.toString(), { line: item.range.start.line, character: item.range.start.character }];
        try {
          await this.track(`twinls: ${item.label}`, () => this.execute(ServerCommand.runAt, args), run);
        } catch (err) {
          run.errored(item, new vscode.TestMessage(String(err)));
        }
      }
    } finally {
      cancel.dispose();
      run.end();
    }
  }

  dispose(): void {
    this.controller.dispose();
    this.status.dispose();
  }
}

function* iterate(collection: vscode.TestItemCollection): Generator<vscode.TestItem> {
  for (const [, item] of collection) {
    yield item;
  }
}

function formatMs(ms: number): string {
  return ms < 1000 ? `${Math.round(ms)} ms` : `${(ms / 1000).toFixed(2)} s`;
}

function shorten(text: string, max: number): string {
  return text.length > max ? `${text.slice(0, max - 1)}…` : text;
}
