// Settings → how to start the server and what to pass it at initialize.
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as vscode from 'vscode';
import { featureOptions } from './companion';
import { InitializationOptions, RemoteSetting } from './protocol';

export interface ServerLaunch {
  command: string;
  args: string[];
  /** Which setting chose it, for error messages. */
  from: string;
}

/** Where the extension is installed (set at activation): its bundled server lives there. */
let extensionRoot: string | undefined;
export function setExtensionRoot(root: string): void {
  extensionRoot = root;
}

/** The bundled server's launcher (python-tools-extension-template layout), if packaged. */
export function bundledServer(): string | undefined {
  const script = extensionRoot ? path.join(extensionRoot, 'bundled', 'tool', 'server.py') : undefined;
  return script && fs.existsSync(script) ? script : undefined;
}

export function serverLaunch(cfg = vscode.workspace.getConfiguration('twinls')): ServerLaunch {
  const cmd = cfg.get<string[] | string>('serverCommand') ?? [];
  const parts = (Array.isArray(cmd) ? cmd : cmd ? [cmd] : []).filter((p) => p.trim() !== '');
  if (parts.length > 0) {
    return { command: expand(parts[0]), args: parts.slice(1).map(expand), from: 'twinls.serverCommand' };
  }
  const bundled = bundledServer();
  if (bundled) {
    const python = (cfg.get<string>('serverPython') ?? '').trim() || 'python3';
    return { command: expand(python), args: [bundled], from: 'the bundled server (twinls.serverPython)' };
  }
  return { command: 'twinls', args: [], from: 'the default (twinls on PATH)' };
}

/** The `twinls.python` setting: the project's interpreter for the twins, if set. */
export function pythonSetting(cfg = vscode.workspace.getConfiguration('twinls')): string | undefined {
  const python = (cfg.get<string>('python') ?? '').trim();
  return python ? expand(python) : undefined;
}

/** `${workspaceFolder}` and `~` in paths, as users write them in settings. */
function expand(value: string): string {
  const folder = vscode.workspace.workspaceFolders?.[0]?.uri.fsPath ?? '';
  const home = process.env.HOME ?? '';
  return value.replace(/\$\{workspaceFolder\}/g, folder).replace(/^~(?=\/|$)/, home);
}

/** An error message if the executable cannot be found, else undefined. */
export function missingExecutable(launch: ServerLaunch): string | undefined {
  const found = launch.command.includes(path.sep)
    ? isExecutable(launch.command)
    : (process.env.PATH ?? '').split(path.delimiter).some((dir) => dir && isExecutable(path.join(dir, launch.command)));
  if (found) {
    return undefined;
  }
  return `twinls: cannot start the server: "${launch.command}" (from ${launch.from}) was not found or is not executable. ` +
    'Set "twinls.serverCommand" to the twinls executable, or "twinls.serverPython" to a Python 3.10+ that runs the bundled server.';
}

function isExecutable(file: string): boolean {
  try {
    fs.accessSync(file, fs.constants.X_OK);
    return fs.statSync(file).isFile();
  } catch {
    return false;
  }
}

/** initializationOptions from settings, or a list of what is wrong with them. */
export function initializationOptions(
  cfg = vscode.workspace.getConfiguration('twinls'),
): { options: InitializationOptions; problems: string[] } {
  const problems: string[] = [];
  const options: InitializationOptions = { exclude: [], runTimeout: 60, inspector: true, debugLens: true };

  const pool = cfg.get<unknown>('pool');
  if (Number.isInteger(pool) && (pool as number) >= 0) {
    if ((pool as number) > 0) {
      options.pool = pool as number;
    }
  } else if (pool !== undefined) {
    problems.push(`"twinls.pool" must be a whole number ≥ 0, not ${JSON.stringify(pool)}`);
  }

  const exclude = cfg.get<unknown>('exclude');
  if (Array.isArray(exclude) && exclude.every((g) => typeof g === 'string')) {
    options.exclude = exclude;
  } else if (exclude !== undefined) {
    problems.push(`"twinls.exclude" must be a list of glob strings, not ${JSON.stringify(exclude)}`);
  }

  const timeout = cfg.get<unknown>('runTimeout');
  if (typeof timeout === 'number' && timeout > 0) {
    options.runTimeout = timeout;
  } else if (timeout !== undefined) {
    problems.push(`"twinls.runTimeout" must be a number of seconds > 0, not ${JSON.stringify(timeout)}`);
  }

  const live = cfg.get<unknown>('liveTests');
  if (typeof live === 'boolean') {
    options.liveTests = live;
  } else if (live !== undefined) {
    problems.push(`"twinls.liveTests" must be true or false, not ${JSON.stringify(live)}`);
  }

  const liveMax = cfg.get<unknown>('liveMax');
  if (typeof liveMax === 'number' && Number.isInteger(liveMax) && liveMax >= 1) {
    options.liveMax = liveMax;
  } else if (liveMax !== undefined && liveMax !== null) {
    problems.push(`"twinls.liveMax" must be a whole number >= 1, not ${JSON.stringify(liveMax)}`);
  }

  const cache = cfg.get<unknown>('cache');
  if (typeof cache === 'boolean') {
    options.cache = cache;
  } else if (cache !== undefined) {
    problems.push(`"twinls.cache" must be true or false, not ${JSON.stringify(cache)}`);
  }

  const remotes = cfg.get<unknown>('remotes');
  if (
    Array.isArray(remotes) &&
    remotes.every(
      (r) => typeof r === 'object' && r !== null && typeof r.gateway === 'string' && typeof r.root === 'string',
    )
  ) {
    if (remotes.length > 0) {
      options.remotes = remotes as RemoteSetting[];
    }
  } else if (remotes !== undefined) {
    problems.push(`"twinls.remotes" must be a list of {gateway, root}, not ${JSON.stringify(remotes)}`);
  }

  const features = featureOptions(cfg, problems);
  if (Object.keys(features).length > 0) {
    options.features = features;
  }
  return { options, problems };
}
