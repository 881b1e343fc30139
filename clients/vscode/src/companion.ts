// Companion mode: which twinls providers to turn off beside Pylance (the `twinls.features` setting).
import * as vscode from 'vscode';

/** Every provider the server can turn off (keys of the server's `features` option). */
export const FEATURES = [
  'definition', 'declaration', 'typeDefinition', 'completion', 'signatureHelp', 'documentHighlight',
  'rename', 'callHierarchy', 'typeHierarchy', 'hover', 'references', 'implementation',
  'documentSymbol', 'workspaceSymbol', 'codeLens', 'syntaxDiagnostics',
] as const;

/**
 * What Pylance already provides, so "auto" turns it off while Pylance is the Python language
 * server. References stay on (twinls's search is complete and streams; VS Code merges identical
 * locations, and the Twinls: Find References command needs them), as do implementation, type
 * hierarchy and the run lenses, which Pylance does not have.
 */
export const PYLANCE_PROVIDES = new Set<string>([
  'definition', 'declaration', 'typeDefinition', 'completion', 'signatureHelp', 'documentHighlight',
  'rename', 'callHierarchy', 'hover', 'documentSymbol', 'workspaceSymbol', 'syntaxDiagnostics',
]);

/** Pylance is installed and not switched off by `python.languageServer`. */
export function pylanceActive(): boolean {
  if (vscode.extensions.getExtension('ms-python.vscode-pylance') === undefined) {
    return false;
  }
  const server = vscode.workspace.getConfiguration('python').get<string>('languageServer') ?? 'Default';
  return server === 'Default' || server === 'Pylance';
}

/** The server's `features` option: `{name: false}` for every provider turned off. */
export function featureOptions(
  cfg: vscode.WorkspaceConfiguration,
  problems: string[],
  pylance = pylanceActive(),
): Record<string, boolean> {
  const raw = cfg.get<unknown>('features') ?? {};
  const off: Record<string, boolean> = {};
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) {
    problems.push(`"twinls.features" must be an object of feature names, not ${JSON.stringify(raw)}`);
    return off;
  }
  const wanted = raw as Record<string, unknown>;
  for (const name of Object.keys(wanted)) {
    if (!(FEATURES as readonly string[]).includes(name)) {
      problems.push(`"twinls.features" has an unknown feature "${name}" (known: ${FEATURES.join(', ')})`);
    } else if (!['auto', 'on', 'off', true, false].includes(wanted[name] as string | boolean)) {
      problems.push(`"twinls.features.${name}" must be "auto", "on" or "off", not ${JSON.stringify(wanted[name])}`);
    }
  }
  for (const name of FEATURES) {
    const value = wanted[name] ?? 'auto';
    const isOff = value === 'off' || value === false || (value === 'auto' && pylance && PYLANCE_PROVIDES.has(name));
    if (isOff) {
      off[name] = false;
    }
  }
  return off;
}
