/** Where the CLI writes; tests pass their own sinks. */
export interface CliIo {
  stdout: { write(chunk: string): unknown };
  stderr: { write(chunk: string): unknown };
}

export const processIo: CliIo = { stdout: process.stdout, stderr: process.stderr };

/** The CLI's one channel for results: human text on stdout, or JSON with --json. */
export interface Output {
  json: boolean;
  /** Prints data: as JSON with --json, else through the human renderer. */
  result<T>(data: T, human: (data: T) => string): void;
  /** A progress or notice line for humans (stderr, so --json stdout stays parseable). */
  info(line: string): void;
}

export function createOutput(json: boolean, io: CliIo = processIo): Output {
  return {
    json,
    result(data, human) {
      io.stdout.write(json ? `${JSON.stringify(data, null, 2)}\n` : ensureNewline(human(data)));
    },
    info(line) {
      io.stderr.write(`${line}\n`);
    },
  };
}

function ensureNewline(text: string): string {
  return text.length === 0 || text.endsWith('\n') ? text : `${text}\n`;
}

/** A plain aligned text table. */
export function renderTable(headers: readonly string[], rows: readonly (readonly string[])[]): string {
  const widths = headers.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: readonly string[]) =>
    cells
      .map((c, i) => (i === cells.length - 1 ? c : c.padEnd(widths[i]!)))
      .join('  ')
      .trimEnd();
  return [line(headers), ...rows.map(line)].join('\n');
}
