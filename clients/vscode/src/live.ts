// Live tests: the toggle, the "live" status bar item, and runs nobody asked for.
//
// The server (server/lsp/live.py) re-runs the tests an unsaved edit affects and sends
// `twinls/runResults` with the run commands' structured result; each lands in the
// Testing view as a run of its own, so its outcomes show there as a lens run's do.
import * as vscode from 'vscode';
import { LanguageClient, State } from 'vscode-languageclient/node';
import { CoverageResult, DiscoveredFile, LiveState, RUN_RESULTS, RunResultsParams, ServerCommand } from './protocol';
import { TwinTests } from './tests';

const TOGGLE_SERVER = ServerCommand.toggleLiveTests;
const DISCOVER = ServerCommand.discoverTests;
const COVERAGE = ServerCommand.coverage;

export class LiveTests implements vscode.Disposable {
  private readonly item = vscode.window.createStatusBarItem('twinls.live', vscode.StatusBarAlignment.Left, 49);
  private on = false;
  /** How many live runs arrived (the e2e test and the tooltip read it). */
  runs = 0;

  constructor(
    private readonly tests: TwinTests,
    private readonly output: vscode.LogOutputChannel,
  ) {
    this.coverageProfile = tests.controller.createRunProfile('Coverage (live tests)', vscode.TestRunProfileKind.Coverage, (req) => this.coverageRun(req), false);
    this.coverageProfile.loadDetailedCoverage = async (_run, fc) => this.details.get(fc) ?? [];
    this.item.name = 'twinls: live tests';
    this.item.command = 'twinls.toggleLive';
    this.show(vscode.workspace.getConfiguration('twinls').get<boolean>('liveTests') === true);
  }

  private timer: ReturnType<typeof setTimeout> | undefined;
  private readonly watching = vscode.workspace.onDidChangeTextDocument((e) => {
    if (this.client && /(^|\/)(test_[^/]*|[^/]*_test)\.py$/.test(e.document.uri.path)) {
      clearTimeout(this.timer);
      this.timer = setTimeout(() => void this.discover(), 500); // kept current with edits
    }
  });
  private client: LanguageClient | undefined;
  /** Tests the last discovery listed (the e2e test reads it). */
  discoveredCount = 0;

  /** What each file's coverage holds in detail (per function), for loadDetailedCoverage. */
  private readonly details = new WeakMap<vscode.FileCoverage, vscode.FileCoverageDetail[]>();
  private readonly coverageProfile: vscode.TestRunProfile;

  /**
   * The Coverage profile: what the tests live mode recorded executed (server:
   * twinls.coverage). Granularity is the function: each function or class is one
   * statement spanning its lines, and one declaration, executed by N tests.
   */
  async coverageRun(req: vscode.TestRunRequest): Promise<void> {
    const client = this.client;
    const run = this.tests.controller.createTestRun(req, 'twinls: coverage', false);
    try {
      if (!client?.isRunning()) {
        return;
      }
      const cov = (await client.sendRequest('workspace/executeCommand', { command: COVERAGE, arguments: [] })) as CoverageResult;
      if (cov.files.length === 0) {
        run.appendOutput('twinls: nothing recorded yet: turn live tests on (Twinls: Toggle Live Tests)\r\n');
      }
      for (const file of cov.files) {
        const details: vscode.FileCoverageDetail[] = [];
        for (const u of file.units) {
          const range = new vscode.Range(u.startLine, 0, u.endLine, 0);
          details.push(new vscode.StatementCoverage(u.tests, range), new vscode.DeclarationCoverage(u.name, u.tests, range));
        }
        const covered = file.units.filter((u) => u.tests > 0).length;
        const count = new vscode.TestCoverageCount(covered, file.units.length);
        const fc = new vscode.FileCoverage(vscode.Uri.parse(file.uri), count, undefined, count);
        this.details.set(fc, details);
        run.addCoverage(fc);
      }
    } finally {
      run.end();
    }
  }

  /** A new client: its live state is the setting's until toggled; its tests are listed once it runs. */
  attach(client: LanguageClient): void {
    this.show(vscode.workspace.getConfiguration('twinls').get<boolean>('liveTests') === true);
    client.onNotification(RUN_RESULTS, (params: RunResultsParams) => this.onResults(params));
    client.onDidChangeState((e) => {
      if (e.newState === State.Running) {
        this.client = client;
        void this.discover();
      }
    });
  }

  /** Every test of the workspace into the Testing view (server: twinls.discoverTests). */
  async discover(): Promise<void> {
    const client = this.client;
    if (!client?.isRunning()) {
      return;
    }
    try {
      const found = (await client.sendRequest('workspace/executeCommand', { command: DISCOVER, arguments: [] })) as { files: DiscoveredFile[] };
      this.discoveredCount = this.tests.discovered(found.files);
      this.output.info(`discovered ${this.discoveredCount} tests in ${found.files.length} files`);
    } catch (err) {
      this.output.warn(`test discovery failed: ${String(err)}`);
    }
  }

  async toggle(client: LanguageClient | undefined): Promise<void> {
    if (!client) {
      return;
    }
    const state = (await client.sendRequest('workspace/executeCommand', { command: TOGGLE_SERVER, arguments: [!this.on] })) as LiveState;
    this.show(state.liveTests);
  }

  onResults(params: RunResultsParams): void {
    this.runs += 1;
    const result = params.result;
    const run = this.tests.controller.createTestRun(new vscode.TestRunRequest(), `twinls: live (${params.reason})`, false);
    try {
      this.tests.record(result, run);
    } finally {
      run.end();
    }
    const failed = result.tests.filter((t) => t.outcome === 'failed' || t.outcome === 'error').length;
    this.output.info(`live run (${params.reason}): ${result.outcome}, ${result.tests.length} tests, ${failed} failing`);
    this.item.tooltip = `twinls: live tests on — last live run ${result.outcome} (${result.tests.length} tests); click to turn off`;
  }

  private show(on: boolean): void {
    this.on = on;
    this.item.text = on ? '$(beaker) live' : '$(circle-slash) live';
    this.item.tooltip = on ? 'twinls: live tests on — click to turn off' : 'twinls: live tests off — click to turn on';
    this.item.show();
  }

  get enabled(): boolean {
    return this.on;
  }

  dispose(): void {
    clearTimeout(this.timer);
    this.watching.dispose();
    this.coverageProfile.dispose();
    this.item.dispose();
  }
}
