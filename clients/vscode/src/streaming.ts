// Requests with a partialResultToken: locations arrive as $/progress batches.
// vscode-languageclient sends no such token for references or implementation,
// so these go out as the extension's own requests.
import * as vscode from 'vscode';
import {
  ExecuteCommandRequest,
  ImplementationRequest,
  LanguageClient,
  Location,
  LocationLink,
  ProgressType,
  ReferencesRequest,
} from 'vscode-languageclient/node';
import { ServerCommand } from './protocol';

type LspLocations = Location | Location[] | LocationLink[] | null | undefined;

let counter = 0;
const partialType = new ProgressType<LspLocations>();

/** Send a request with a fresh partialResultToken; feed every batch (and a non-empty final result) to `onBatch`. */
async function stream(
  client: LanguageClient,
  send: (token: string) => Promise<LspLocations>,
  onBatch: (locations: vscode.Location[]) => void,
): Promise<void> {
  const token = `twinls-partial-${process.pid}-${++counter}`;
  const deliver = (value: LspLocations): void => {
    const locations = toCode(client, value);
    if (locations.length > 0) {
      onBatch(locations);
    }
  };
  const subscription = client.onProgress(partialType, token, deliver);
  try {
    deliver(await send(token));
  } finally {
    subscription.dispose();
  }
}

function toCode(client: LanguageClient, value: LspLocations): vscode.Location[] {
  if (!value) {
    return [];
  }
  const items = Array.isArray(value) ? value : [value];
  const p2c = client.protocol2CodeConverter;
  return items.map((item) =>
    LocationLink.is(item)
      ? new vscode.Location(p2c.asUri(item.targetUri), p2c.asRange(item.targetSelectionRange))
      : p2c.asLocation(item as Location),
  );
}

export function streamReferences(
  client: LanguageClient,
  document: vscode.TextDocument,
  position: vscode.Position,
  onBatch: (locations: vscode.Location[]) => void,
  cancel?: vscode.CancellationToken,
): Promise<void> {
  const c2p = client.code2ProtocolConverter;
  return stream(
    client,
    (partialResultToken) =>
      client.sendRequest(
        ReferencesRequest.type,
        { ...c2p.asTextDocumentPositionParams(document, position), context: { includeDeclaration: true }, partialResultToken },
        cancel,
      ),
    onBatch,
  );
}

export function streamImplementations(
  client: LanguageClient,
  document: vscode.TextDocument,
  position: vscode.Position,
  onBatch: (locations: vscode.Location[]) => void,
  cancel?: vscode.CancellationToken,
): Promise<void> {
  const c2p = client.code2ProtocolConverter;
  return stream(
    client,
    (partialResultToken) =>
      client.sendRequest(
        ImplementationRequest.type,
        { ...c2p.asTextDocumentPositionParams(document, position), partialResultToken },
        cancel,
      ),
    onBatch,
  );
}

export function streamImplementors(
  client: LanguageClient,
  name: string,
  onBatch: (locations: vscode.Location[]) => void,
  cancel?: vscode.CancellationToken,
): Promise<void> {
  return stream(
    client,
    (partialResultToken) =>
      client.sendRequest(
        ExecuteCommandRequest.type,
        { command: ServerCommand.findImplementors, arguments: [name, { partialResultToken }] },
        cancel,
      ) as Promise<LspLocations>,
    onBatch,
  );
}
