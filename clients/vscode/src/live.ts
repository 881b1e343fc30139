// Live tests: the toggle, the "live" status bar item, and runs nobody asked for.
//
// The server (server/lsp/live.py) re-runs the tests an unsaved edit affects and sends
// `twinls/runResults` with the run commands' structured result; each lands in the
// Testing view as a run of its own, so its outcomes show there as a lens run's do.
import * as vscode from 'vscode';
import { LanguageClient, State } from 'vscode-languageclient/node';
import { CoveredFile, CoverageResult, DiscoveredFile, LiveState, RUN_RESULTS, RunResultsParams, ServerCommand } from './protocol';
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
    this.coverageProfile = tests.controller.createRunProfile('Coverage (live tests)', vscode.TestRunProfileKind.Coverage, (req) => this.coverageRun(req), true);
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
   * twinls.coverage). Per line: each executable statement, covered or not; per
   * function or class: one declaration, executed by N tests.
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
        const fc = fileCoverage(file);
        this.details.set(fc, coverageDetails(file));
        run.addCoverage(fc);
      }
      this.coveredFiles = cov.files.length;
    } finally {
      run.end();
    }
  }

  /** Files the last Coverage run reported (the e2e test reads it). */
  coveredFiles = 0;

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

/** A file's counts: statements (lines) covered of all, declarations (functions) executed of all. */
export function fileCoverage(file: CoveredFile): vscode.FileCoverage {
  const statements = new vscode.TestCoverageCount(file.covered.length, file.statements);
  const declarations = new vscode.TestCoverageCount(file.units.filter((u) => u.tests > 0).length, file.units.length);
  return new vscode.FileCoverage(vscode.Uri.parse(file.uri), statements, undefined, declarations);
}

/** One StatementCoverage per executable line (covered: 1, else 0), one DeclarationCoverage per unit. */
export function coverageDetails(file: CoveredFile): vscode.FileCoverageDetail[] {
  const details: vscode.FileCoverageDetail[] = [];
  const lines = [...file.covered.map((n) => [n, 1] as const), ...file.uncovered.map((n) => [n, 0] as const)];
  lines.sort((a, b) => a[0] - b[0]);
  for (const [line, hits] of lines) {
    details.push(new vscode.StatementCoverage(hits, new vscode.Position(line, 0)));
  }
  for (const u of file.units) {
    details.push(new vscode.DeclarationCoverage(u.name, u.tests, new vscode.Position(u.startLine, 0)));
  }
  return details;
}
