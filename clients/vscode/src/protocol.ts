// The server's side of the contract: command ids and the shapes they return.
// Server command ids are registered as VS Code commands by vscode-languageclient,
// so the extension's own palette commands use other ids (see package.json).

export const ServerCommand = {
  status: 'twinls.status',
  restart: 'twinls.restart',
  findImplementors: 'twinls.findImplementors',
  runAt: 'twinls.runAt',
  runTest: 'twinls.runTest',
  runExample: 'twinls.runExample',
  runFile: 'twinls.runFile',
  cancelRun: 'twinls.cancelRun',
} as const;

/** Commands that lenses carry; their results feed the Testing view. */
export const RUN_COMMANDS: ReadonlySet<string> = new Set([
  ServerCommand.runAt,
  ServerCommand.runTest,
  ServerCommand.runExample,
  ServerCommand.runFile,
]);

export interface InitializationOptions {
  pool?: number;
  exclude: string[];
  runTimeout: number;
  /** Providers turned off (companion mode): `{completion: false, ...}`. */
  features?: Record<string, boolean>;
  /** The project's interpreter for the twins (server: twin/interpreter.py). */
  python?: string | null;
  /** Where `python` came from: "setting" or "python extension". */
  pythonSource?: string;
}

/** `workspace/didChangeConfiguration` settings the server follows (lsp/interpreter.py). */
export interface PythonSettingChange {
  twinls: { python: string | null; pythonSource?: string };
}

/** The twins' interpreter in `twinls.status` (server: TwinPool.interpreter_info). */
export interface InterpreterInfo {
  path: string;
  source: string;
  is_server: boolean;
  error?: string | null;
  version?: string;
  pytest?: { source: string; version?: string; path?: string };
}

export type Outcome = 'passed' | 'failed' | 'error' | 'skipped' | 'xfailed' | 'xpassed' | string;

export interface TestResult {
  nodeid: string;
  name: string;
  outcome: Outcome;
  // The server sends null for what does not apply.
  duration?: number | null;
  stdout?: string | null;
  stderr?: string | null;
  message?: string | null;
  uri?: string | null;
  line?: number | null;
  value?: string | null;
  /** `TestA::test_b`: what runTest / runExample take back. */
  qualname?: string | null;
}

/** The argument a server lens passes to runTest / runExample / runFile. */
export interface LensArgument {
  uri: string;
  line?: number;
  name?: string;
  qualname?: string;
  nodeid?: string;
  kind?: string;
}

export interface RunResult {
  kind: 'test' | 'example' | 'file';
  uri: string;
  outcome: Outcome;
  duration?: number | null;
  tests: TestResult[];
  summary?: Record<string, unknown>;
}

export interface TwinInfo {
  pid: number;
  uptime: number;
  seq: number;
  overlay_files: number | string[];
  hashes?: Record<string, string>;
  slot: number;
}

export interface StatusResult {
  server: {
    pid: number;
    seq: number;
    encoding: string;
    roots: string[];
    hashes?: Record<string, string>;
    interpreter?: InterpreterInfo;
  };
  pool: { size: number; live: number; gave_up: number[] };
  twins: TwinInfo[];
}

export function isRunResult(value: unknown): value is RunResult {
  return typeof value === 'object' && value !== null && Array.isArray((value as RunResult).tests);
}
