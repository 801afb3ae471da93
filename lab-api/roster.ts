/**
 * Class rosters as instructors have them: a CSV exported from Excel or the college's academic
 * system, in UTF-8 (with or without BOM) or, as Excel in China saves "CSV", in GBK/GB18030.
 * Decoding, CSV parsing and row checks live here; the import itself is `Classes.importRoster`.
 */

/** Most data rows one import takes (a class, not the whole college). */
export const MAX_ROSTER_ROWS = 1000;
/** Most bytes a roster upload may have. */
export const MAX_ROSTER_BYTES = 2 * 1024 * 1024;

/** 学号: letters, digits and dashes, starting with a letter or digit (it becomes the username). */
export const STUDENT_NUMBER_PATTERN = /^[0-9A-Za-z][0-9A-Za-z-]{3,31}$/;
export const MAX_NAME_LENGTH = 100;

export type RosterEncoding = 'utf-8' | 'gb18030' | 'utf-16le' | 'utf-16be';

/** One problem in the file: the spreadsheet row (the header is row 1), the column, a sentence. */
export interface RowError {
  row: number;
  column: string;
  message: string;
}

export interface RosterRow {
  row: number;
  studentNumber: string;
  name: string;
}

/**
 * Bytes → text. A BOM decides; otherwise text that is valid UTF-8 is UTF-8 (GBK-encoded Chinese
 * is practically never valid UTF-8), and anything else is GB18030, the superset of GBK and GB2312.
 */
export function decodeRoster(bytes: Uint8Array): { text: string; encoding: RosterEncoding } {
  if (bytes[0] === 0xef && bytes[1] === 0xbb && bytes[2] === 0xbf) {
    return { text: new TextDecoder('utf-8').decode(bytes.subarray(3)), encoding: 'utf-8' };
  }
  if (bytes[0] === 0xff && bytes[1] === 0xfe) {
    return { text: new TextDecoder('utf-16le').decode(bytes.subarray(2)), encoding: 'utf-16le' };
  }
  if (bytes[0] === 0xfe && bytes[1] === 0xff) {
    return { text: new TextDecoder('utf-16be').decode(bytes.subarray(2)), encoding: 'utf-16be' };
  }
  try {
    return { text: new TextDecoder('utf-8', { fatal: true }).decode(bytes), encoding: 'utf-8' };
  } catch {
    // GB18030's BOM (84 31 95 33) is decoded away by the decoder itself.
    return { text: new TextDecoder('gb18030').decode(bytes).replace(/^\uFEFF/, ''), encoding: 'gb18030' };
  }
}

/**
 * RFC 4180 CSV: fields separated by `delimiter`, optionally quoted with `"` (`""` is a quote
 * inside), records ended by CRLF, LF or CR; a quoted field may span lines. Returns the records
 * with their spreadsheet row numbers (1-based), or where a quote was left open.
 */
export function parseCsv(
  text: string,
  delimiter = ',',
): { records: { row: number; fields: string[] }[]; unterminatedQuoteAt?: number } {
  const records: { row: number; fields: string[] }[] = [];
  let fields: string[] = [];
  let field = '';
  let quoted = false;
  let fieldStarted = false;
  let row = 1;
  let i = 0;
  const endRecord = () => {
    fields.push(field);
    records.push({ row, fields });
    row++;
    fields = [];
    field = '';
    fieldStarted = false;
  };
  while (i < text.length) {
    const c = text[i] as string;
    if (quoted) {
      if (c === '"') {
        if (text[i + 1] === '"') {
          field += '"';
          i += 2;
          continue;
        }
        quoted = false;
      } else {
        field += c;
      }
      i++;
      continue;
    }
    if (c === '"' && !fieldStarted) {
      quoted = true;
      fieldStarted = true;
    } else if (c === delimiter) {
      fields.push(field);
      field = '';
      fieldStarted = false;
    } else if (c === '\r' || c === '\n') {
      endRecord();
      if (c === '\r' && text[i + 1] === '\n') i++;
    } else {
      field += c;
      // Spaces before an opening quote (`a, "b"`) do not make the field unquoted.
      if (c !== ' ' && c !== '\t') fieldStarted = true;
    }
    i++;
  }
  if (quoted) return { records, unterminatedQuoteAt: row };
  if (field !== '' || fields.length > 0) endRecord();
  return { records };
}

type Column = 'studentNumber' | 'name' | 'className';

const HEADER_ALIASES: Record<Column, readonly string[]> = {
  studentNumber: ['学号', '学生学号', '学生编号', 'studentnumber', 'studentno', 'studentid'],
  name: ['姓名', '学生姓名', '名字', 'name', 'studentname', 'fullname', 'displayname'],
  className: ['班级', '班级名称', '行政班', '所在班级', 'class', 'classname'],
};

const COLUMN_LABEL: Record<Column, string> = { studentNumber: '学号', name: '姓名', className: '班级' };

function headerKey(cell: string): string {
  return cell
    .normalize('NFKC')
    .toLowerCase()
    .replace(/[\s_\-.:：*]/g, '');
}

/** Trims ASCII and ideographic spaces (Excel keeps both). */
function clean(cell: string | undefined): string {
  return (cell ?? '').replace(/^[\s\u3000]+|[\s\u3000]+$/g, '');
}

/** Full-width letters and digits (２０２４０１０１) as ASCII, then trimmed. */
function normaliseCode(cell: string | undefined): string {
  return clean((cell ?? '').normalize('NFKC'));
}

/**
 * Reads a roster's rows, checking every one: a 学号 in the right format, not repeated in the
 * file, a name, and (when the file has a class column) the class's name. All problems are
 * reported, each with its row and column, so the instructor fixes the file once.
 */
export function readRoster(
  text: string,
  className: string,
): { rows: RosterRow[]; errors: RowError[]; hasClassColumn: boolean } {
  const newline = text.search(/[\r\n]/);
  const firstLine = newline < 0 ? text : text.slice(0, newline);
  const delimiter = !firstLine.includes(',') && firstLine.includes('\t') ? '\t' : ',';
  const { records, unterminatedQuoteAt } = parseCsv(text, delimiter);
  const errors: RowError[] = [];
  if (unterminatedQuoteAt !== undefined) {
    errors.push({
      row: unterminatedQuoteAt,
      column: '',
      message: 'a quoted field is never closed: a `"` is missing',
    });
    return { rows: [], errors, hasClassColumn: false };
  }
  const nonEmpty = records.filter((record) => record.fields.some((cell) => clean(cell) !== ''));
  // The header is the first row naming a 学号 and a 姓名 column; exports often put a title above it.
  const headerAt = Math.max(
    0,
    nonEmpty.slice(0, 10).findIndex((record) => {
      const keys = record.fields.map(headerKey);
      return (
        keys.some((key) => HEADER_ALIASES.studentNumber.includes(key)) &&
        keys.some((key) => HEADER_ALIASES.name.includes(key))
      );
    }),
  );
  const header = nonEmpty[headerAt];
  if (!header) {
    errors.push({ row: 1, column: '', message: 'the file is empty: it needs a header row (学号,姓名,班级)' });
    return { rows: [], errors, hasClassColumn: false };
  }
  const columns: Partial<Record<Column, { index: number; label: string }>> = {};
  header.fields.forEach((cell, index) => {
    const key = headerKey(cell);
    for (const column of Object.keys(HEADER_ALIASES) as Column[]) {
      if (!HEADER_ALIASES[column].includes(key)) continue;
      const existing = columns[column];
      if (existing) {
        errors.push({
          row: header.row,
          column: clean(cell),
          message: `two ${COLUMN_LABEL[column]} columns ("${existing.label}" and "${clean(cell)}"): keep one`,
        });
      } else {
        columns[column] = { index, label: clean(cell) };
      }
    }
  });
  for (const column of ['studentNumber', 'name'] as const) {
    if (!columns[column]) {
      errors.push({
        row: header.row,
        column: COLUMN_LABEL[column],
        message: `no ${COLUMN_LABEL[column]} column: the header row needs one of ${HEADER_ALIASES[column].join(', ')}`,
      });
    }
  }
  const numberColumn = columns.studentNumber;
  const nameColumn = columns.name;
  if (errors.length > 0 || !numberColumn || !nameColumn) return { rows: [], errors, hasClassColumn: false };
  const classColumn = columns.className;
  const dataRows = nonEmpty.slice(headerAt + 1);
  if (dataRows.length === 0) {
    errors.push({ row: header.row + 1, column: '', message: 'the file has a header but no students' });
  }
  if (dataRows.length > MAX_ROSTER_ROWS) {
    errors.push({
      row: (dataRows[MAX_ROSTER_ROWS] as { row: number }).row,
      column: '',
      message: `a roster may have at most ${MAX_ROSTER_ROWS} students; split the file`,
    });
    return { rows: [], errors, hasClassColumn: classColumn !== undefined };
  }
  const expectedClass = normaliseCode(className);
  const firstRowOf = new Map<string, number>();
  const rows: RosterRow[] = [];
  for (const record of dataRows) {
    const studentNumber = normaliseCode(record.fields[numberColumn.index]);
    const name = clean(record.fields[nameColumn.index]).normalize('NFC');
    let ok = true;
    const fail = (column: string, message: string) => {
      errors.push({ row: record.row, column, message });
      ok = false;
    };
    if (studentNumber === '') {
      fail(numberColumn.label, '学号 is missing');
    } else if (!STUDENT_NUMBER_PATTERN.test(studentNumber)) {
      fail(
        numberColumn.label,
        /^\d+(\.\d+)?E\+\d+$/i.test(studentNumber)
          ? `学号 "${studentNumber}" was turned into a number by Excel: format the column as text and export again`
          : `学号 "${studentNumber}" is not valid: 4–32 letters, digits or dashes, starting with a letter or digit`,
      );
    } else {
      const first = firstRowOf.get(studentNumber);
      if (first !== undefined)
        fail(numberColumn.label, `学号 ${studentNumber} appears twice (also on row ${first})`);
      else firstRowOf.set(studentNumber, record.row);
    }
    if (name === '') fail(nameColumn.label, '姓名 (name) is empty');
    else if (name.length > MAX_NAME_LENGTH)
      fail(nameColumn.label, `姓名 is longer than ${MAX_NAME_LENGTH} characters`);
    if (classColumn) {
      const given = normaliseCode(record.fields[classColumn.index]);
      if (given !== expectedClass) {
        fail(
          classColumn.label,
          given === ''
            ? `班级 is empty: this roster is for class "${className}"`
            : `班级 "${given}" is not this class ("${className}")`,
        );
      }
    }
    if (ok) rows.push({ row: record.row, studentNumber, name });
  }
  return { rows, errors, hasClassColumn: classColumn !== undefined };
}
