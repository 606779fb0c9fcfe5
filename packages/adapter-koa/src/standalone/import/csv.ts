import { parse } from 'csv-parse/sync';

/** One data record of a CSV file, by header name. */
export interface CsvRecord {
  /** 1-based line where the record ends (the line it is on, for one-line records). */
  readonly line: number;
  readonly values: Readonly<Record<string, string>>;
}

export interface CsvFile {
  /** Header names as written (trimmed). */
  readonly header: readonly string[];
  readonly records: CsvRecord[];
  /** Records that could not be read, with the line and what is wrong. */
  readonly malformed: Array<{ readonly line: number; readonly message: string }>;
}

/**
 * Reads a CSV file with a header row. A malformed record (wrong number of fields, a stray or unclosed
 * quote) is reported with its line and the records after it are still read.
 */
export function readCsv(text: string): CsvFile {
  const lines = text.replace(/^\ufeff/, '').split(/\r?\n/);
  const malformed: Array<{ line: number; message: string }> = [];
  const records: CsvRecord[] = [];
  let header: string[] | undefined;
  const take = (record: string[], line: number): void => {
    if (!header) {
      header = record.map((name) => name.trim());
    } else if (record.length !== header.length) {
      malformed.push({ line, message: `expected ${header.length} fields (${header.join(', ')}), found ${record.length}` });
    } else {
      records.push({ line, values: Object.fromEntries(header.map((name, i) => [name, record[i]!])) });
    }
  };
  // Parse from line index `start`; at a syntax error, report the line after the last good record
  // and parse again from the line after that one.
  for (let start = 0; start < lines.length;) {
    let lastLine = start;
    try {
      parse(lines.slice(start).join('\n'), {
        relax_column_count: true,
        skip_empty_lines: true,
        on_record: (record: string[], context) => {
          lastLine = start + context.lines;
          take(record, lastLine);
          return null;
        },
      });
      break;
    } catch (err) {
      const message = err instanceof Error ? err.message.replace(/ at line \d+| on line \d+/g, '') : String(err);
      malformed.push({ line: lastLine + 1, message });
      start = lastLine + 1;
    }
  }
  return { header: header ?? [], records, malformed };
}
