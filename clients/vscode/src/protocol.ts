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
  runFolder: 'twinls.runFolder',
  cancelRun: 'twinls.cancelRun',
  toggleLiveTests: 'twinls.toggleLiveTests',
  discoverTests: 'twinls.discoverTests',
  coverage: 'twinls.coverage',
  inspect: 'twinls.inspect',
  debug: 'twinls.debug',
  parked: 'twinls.parked',
} as const;

/** Commands that lenses carry; their results feed the Testing view. */
export const RUN_COMMANDS: ReadonlySet<string> = new Set([
  ServerCommand.runAt,
  ServerCommand.runTest,
  ServerCommand.runExample,
  ServerCommand.runFile,
  ServerCommand.runFolder,
]);

export interface InitializationOptions {
  pool?: number;
  exclude: string[];
  runTimeout: number;
  /** Providers turned off (companion mode): `{completion: false, ...}`. */
  features?: Record<string, boolean>;
  /** Re-run the tests each unsaved edit affects (server: server/lsp/live.py). */
  liveTests?: boolean;
  /** Run children live runs may use at once (server default: cores - 1, at least 1). */
  liveMax?: number;
  /** The project's interpreter for the twins (server: server/interpreter.py). */
  python?: string | null;
  /** Where `python` came from: "setting" or "python extension". */
  pythonSource?: string;
  /** Per workspace folder (its URI), before `python` (server: interpreter.choices_for). */
  pythonByFolder?: Record<string, FolderPython>;
  /** This client has an inspector: the server adds `Inspect` lenses (lsp/inspect.py). */
  inspector?: boolean;
  /** This client attaches a debugger: the server adds `Debug` lenses (lsp/debugging.py). */
  debugLens?: boolean;
  /** Twin hosts over execnet (server: twin/schema.py RemoteSetting). */
  remotes?: RemoteSetting[];
  /** false: the server keeps no search answers on disk (server: server/cache.py). */
  cache?: boolean;
}

/** One twin host (server: twin/schema.py `RemoteSetting`, checked by twin/remote.py). */
export interface RemoteSetting {
  gateway: string;
  root: string;
  twins?: number;
  ssh_config?: string;
}

/** One workspace folder's interpreter (server: schema.FolderPython). */
export interface FolderPython {
  python: string | null;
  /** "setting" (the folder's twinls.python) or "python extension". */
  pythonSource?: string;
}

/** What the client chose: per folder, else one for the window. */
export interface PythonChoice extends FolderPython {
  pythonByFolder?: Record<string, FolderPython>;
}

/** `workspace/didChangeConfiguration` settings the server follows (server/lsp/interpreter.py). */
export interface PythonSettingChange {
  twinls: PythonChoice;
}

/** The twins' interpreter in `twinls.status` (server: TwinPool.interpreter_info). */
export interface InterpreterInfo {
  path: string;
  source: string;
  is_server: boolean;
  error?: string | null;
  version?: string;
  pytest?: { source: string; version?: string; path?: string };
  /** The workspace folders this interpreter's twins answer for. */
  roots?: string[];
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
  /** The test's own file (`uri`/`line` locate the failure, maybe in another file). */
  fileUri?: string | null;
  /** pytest's failure text (the assertion diff, the traceback). */
  traceback?: string | null;
  /** The failure's frames inside the workspace, outermost first. */
  trace?: { uri: string; line: number }[] | null;
  /** Every failing phase: a teardown error after a failed call is one more. */
  errors?: { when: string; message: string; traceback?: string | null }[] | null;
  /** pytest 9 subtests (`subtests.test()`, `self.subTest()`), in order. */
  subtests?: SubtestResult[] | null;
  /** A live result (an example's value, a failure's frames) for `twinls.inspect`. */
  handle?: string | null;
  /** The slot of the twin that ran it. */
  twin?: number;
}

export interface SubtestResult {
  /** pytest's description: `[msg] (i=1)`. */
  name: string;
  outcome: Outcome;
  /** pytest's category for it (`passed`, `failed`, `subtests passed`, …). */
  category?: string;
  duration?: number | null;
  message?: string | null;
  traceback?: string | null;
  stdout?: string | null;
  stderr?: string | null;
  uri?: string | null;
  line?: number | null;
  trace?: { uri: string; line: number }[] | null;
}

/** The argument a server lens passes to runTest / runExample / runFile (schema.LensArgument). */
export interface LensArgument {
  uri: string;
  line?: number;
  name?: string;
  qualname?: string;
  nodeid?: string;
  /** A test lens's unit kind: `test` or `class`. */
  kind?: string;
  /** An example lens's mode: `call` or `doctest`. */
  mode?: string;
}

export interface RunResult {
  kind: 'test' | 'example' | 'file' | 'folder';
  uri: string;
  /** What `twinls.cancelRun` takes. */
  runId?: number;
  /** A test's outcome, or `deselected` / `empty` / `error` when no test ran. */
  outcome: Outcome;
  duration?: number | null;
  tests: TestResult[];
  /** pytest's closing-line counts (`failed`, `passed`, `deselected`, `warnings`, …). */
  summary?: Record<string, number>;
  /** pytest's exit code. */
  exitcode?: number | null;
  /** A run-level error in pytest's words (not found, usage, config). */
  message?: string | null;
  /** pytest's warnings summary. */
  warnings?: string | null;
  /** false: pytest stopped before a session. */
  session?: boolean;
  /** The slots of the twins that ran it. */
  twins?: number[];
  /** The collection zygotes that served the run (warm collection; empty: collected cold). */
  /** `file`: the test file it collected; `swapped`: files whose changed function bodies the
   * run swapped into the zygote's code. */
  warm?: { zygote: number; file: string; run: number; swapped: string[] }[];
}

export interface TwinInfo {
  pid: number;
  uptime: number;
  seq: number;
  overlay_files: number | string[];
  hashes?: Record<string, string>;
  slot: number;
  /** Its gateway when it runs on another host (absent: local). */
  remote?: string;
  /** Seconds of the last ping's round trip. */
  rtt?: number;
  /** Calls (chunks of sharded ones included) it answered. */
  calls?: number;
  chunks?: number;
}

/** `twinls.status`'s `server` (schema.ServerStatus). */
export interface ServerStatus {
  pid: number;
  uptime: number;
  seq: number;
  encoding: string;
  roots: string[];
  hashes?: Record<string, string>;
  interpreter?: InterpreterInfo;
  /** What each workspace folder would choose by itself. */
  interpreters_by_root?: Record<string, Partial<InterpreterInfo>>;
  /** Requests and notifications pygls still tracks. */
  pending: number;
  /** Documents whose text was lost after an invalid edit, until reopened or saved. */
  untracked: string[];
}

/** How a host's number of twins was chosen (schema.PoolSizing). */
export interface PoolSizing {
  size: number;
  reason: string;
  free_cores: number | null;
  by_memory: number | null;
  fixed: boolean;
}

/** `twinls.status`'s `pool` (schema.PoolStatus). */
export interface PoolStatus {
  size: number;
  live: number;
  /** Interactive twins live (issue 10: `interactiveTwin`); they are in `lanes`. */
  lanes: number;
  gave_up: number[];
  resyncs: number;
  /** The local twins' sizing; a remote host's is in its `remotes` entry. */
  sizing: PoolSizing;
  /** Interactive calls that stopped the busy search twins (`interactivePause`). */
  paused: number;
  /** Seconds the search twins were stopped in all. */
  paused_s: number;
}

/** `twinls.status`'s `live` (schema.LiveStatus): live tests and their budget. */
export interface LiveStatus {
  on: boolean;
  liveMax: number;
  running: number;
  peak: number;
  waiting: number;
  queued: number;
  owed: number;
  runs: number;
  cancelled: number;
  restored: number;
  saved: number;
}

/** `twinls.status` (schema.Status). */
export interface StatusResult {
  server: ServerStatus;
  pool: PoolStatus;
  live: LiveStatus;
  twins: TwinInfo[];
  /** The interactive twins: no search is dealt to them (issue 10). */
  lanes: TwinInfo[];
  /** Twin hosts (server: RemoteHost.describe). */
  remotes?: {
    gateway: string;
    state: string;
    error: string | null;
    slots: number[];
    size: number | null;
    sizing: PoolSizing | null;
  }[];
}

/** What a server message is about (schema.NoticeCode); it chooses the error buttons. */
export type NoticeCode = 'twin' | 'settings' | 'interpreter';

/** `window/showMessage` params as twinls sends them: LSP's, plus a `code`. */
export interface ServerMessage {
  type: number;
  message: string;
  code?: NoticeCode;
}

export function isRunResult(value: unknown): value is RunResult {
  return typeof value === 'object' && value !== null && Array.isArray((value as RunResult).tests);
}

/** Server → client (server/lsp/live.py): a live run ended. */
export const RUN_RESULTS = 'twinls/runResults';

export interface RunResultsParams {
  live: true;
  /** "baseline" (every test recorded once) or "edit". */
  reason: string;
  /** Each edited file and the units (functions, classes, `<module>`) the edit changed; null: all. */
  changed: { uri: string; units: string[] | null }[];
  result: RunResult;
}

/** `twinls.toggleLiveTests`'s answer. */
export interface LiveState {
  liveTests: boolean;
}

/** `twinls.discoverTests`'s answer (server: server/lsp/discovery.py). */
export interface DiscoveredFile {
  uri: string;
  tests: { nodeid: string; name: string; qualname: string; kind: 'test' | 'class' | 'case'; line: number }[];
}

/** One unit (function, class) of a `CoveredFile` (schema.CoveredUnit). */
export interface CoveredUnit {
  name: string;
  startLine: number;
  endLine: number;
  /** Recorded tests that executed it. */
  tests: number;
}

/** One file of `twinls.coverage` (schema.CoveredFile): per function and per line. */
export interface CoveredFile {
  uri: string;
  units: CoveredUnit[];
  /** 0-based lines of executable statements that ran (server/statements.py). */
  covered: number[];
  /** 0-based lines of executable statements that never ran. */
  uncovered: number[];
  statements: number;
}

/** `twinls.coverage`'s answer (server: server/lsp/live.py), from live runs. */
export interface CoverageResult {
  files: CoveredFile[];
}
