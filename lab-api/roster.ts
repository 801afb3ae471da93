/**
 * Class rosters as instructors have them: a CSV exported from Excel or the college's academic
 * system, in UTF-8 (with or without BOM) or, as Excel in China saves "CSV", in GBK/GB18030.
 * Decoding, CSV parsing and row checks live here; the import itself is `Classes.importRoster`.
 */
import { DISPLAY_NAME_MAX_LENGTH } from '../contract/index.ts';
import { type Localized, say } from './errors.ts';

/** Most data rows one import takes (a class, not the whole college). */
export const MAX_ROSTER_ROWS = 1000;
/** Most bytes a roster upload may have. */
export const MAX_ROSTER_BYTES = 2 * 1024 * 1024;

/** 学号: letters, digits and dashes, starting with a letter or digit (it becomes the username). */
export const STUDENT_NUMBER_PATTERN = /^[0-9A-Za-z][0-9A-Za-z-]{3,31}$/;
/** 姓名 becomes the display name. */
export const MAX_NAME_LENGTH = DISPLAY_NAME_MAX_LENGTH;

export type RosterEncoding = 'utf-8' | 'gb18030' | 'utf-16le' | 'utf-16be';

/** Which of the roster's columns a problem is about; null: the file as a whole. */
export type RosterField = 'studentNumber' | 'name' | 'className';

/** What is wrong with a row, as a code a program can act on (the sentence says it to people). */
export type RowProblem =
  | 'UNCLOSED_QUOTE'
  | 'EMPTY_FILE'
  | 'DUPLICATE_COLUMN'
  | 'MISSING_COLUMN'
  | 'NO_STUDENTS'
  | 'TOO_MANY_ROWS'
  | 'STUDENT_NUMBER_MISSING'
  | 'STUDENT_NUMBER_MANGLED'
  | 'STUDENT_NUMBER_INVALID'
  | 'STUDENT_NUMBER_REPEATED'
  | 'NAME_MISSING'
  | 'NAME_TOO_LONG'
  | 'CLASS_MISSING'
  | 'WRONG_CLASS'
  | 'NOT_A_STUDENT'
  | 'USERNAME_TAKEN'
  | 'NAME_DIFFERS';

/**
 * One problem in the file: the spreadsheet row (the header is row 1), the column (its field and
 * its header as written in the file), the problem's code with the values it names, and the
 * sentence in both languages.
 */
export interface RowError {
  row: number;
  field: RosterField | null;
  column: string;
  problem: RowProblem;
  params: Record<string, string | number>;
  message: Localized;
}

function rowError(
  row: number,
  field: RosterField | null,
  column: string,
  problem: RowProblem,
  message: Localized,
  params: Record<string, string | number> = {},
): RowError {
  return { row, field, column, problem, params, message };
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

/**
 * Trims ASCII and ideographic spaces (Excel keeps both) and drops control characters (a NUL from a
 * broken export cannot be stored as text, and none belongs in a name or a 学号).
 */
function clean(cell: string | undefined): string {
  // biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are what it removes
  const printable = (cell ?? '').replace(/[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f]/g, '');
  return printable.replace(/^[\s\u3000]+|[\s\u3000]+$/g, '');
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
    errors.push(
      rowError(
        unterminatedQuoteAt,
        null,
        '',
        'UNCLOSED_QUOTE',
        say('a quoted field is never closed: a `"` is missing', '有一处引号没有闭合：缺少一个 "'),
      ),
    );
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
    errors.push(
      rowError(
        1,
        null,
        '',
        'EMPTY_FILE',
        say(
          'the file is empty: it needs a header row (学号,姓名,班级)',
          '文件是空的：第一行应为表头（学号,姓名,班级）',
        ),
      ),
    );
    return { rows: [], errors, hasClassColumn: false };
  }
  const columns: Partial<Record<Column, { index: number; label: string }>> = {};
  header.fields.forEach((cell, index) => {
    const key = headerKey(cell);
    for (const column of Object.keys(HEADER_ALIASES) as Column[]) {
      if (!HEADER_ALIASES[column].includes(key)) continue;
      const existing = columns[column];
      if (existing) {
        errors.push(
          rowError(
            header.row,
            column,
            clean(cell),
            'DUPLICATE_COLUMN',
            say(
              `two ${COLUMN_LABEL[column]} columns ("${existing.label}" and "${clean(cell)}"): keep one`,
              `有两列${COLUMN_LABEL[column]}（“${existing.label}”和“${clean(cell)}”）：请只保留一列`,
            ),
            { first: existing.label, second: clean(cell) },
          ),
        );
      } else {
        columns[column] = { index, label: clean(cell) };
      }
    }
  });
  for (const column of ['studentNumber', 'name'] as const) {
    if (!columns[column]) {
      errors.push(
        rowError(
          header.row,
          column,
          COLUMN_LABEL[column],
          'MISSING_COLUMN',
          say(
            `no ${COLUMN_LABEL[column]} column: the header row needs one of ${HEADER_ALIASES[column].join(', ')}`,
            `缺少${COLUMN_LABEL[column]}列：表头需要有 ${HEADER_ALIASES[column].join('、')} 之一`,
          ),
        ),
      );
    }
  }
  const numberColumn = columns.studentNumber;
  const nameColumn = columns.name;
  if (errors.length > 0 || !numberColumn || !nameColumn) return { rows: [], errors, hasClassColumn: false };
  const classColumn = columns.className;
  const dataRows = nonEmpty.slice(headerAt + 1);
  if (dataRows.length === 0) {
    errors.push(
      rowError(
        header.row + 1,
        null,
        '',
        'NO_STUDENTS',
        say('the file has a header but no students', '文件只有表头，没有学生'),
      ),
    );
  }
  if (dataRows.length > MAX_ROSTER_ROWS) {
    errors.push(
      rowError(
        (dataRows[MAX_ROSTER_ROWS] as { row: number }).row,
        null,
        '',
        'TOO_MANY_ROWS',
        say(
          `a roster may have at most ${MAX_ROSTER_ROWS} students; split the file`,
          `一份名单最多 ${MAX_ROSTER_ROWS} 名学生，请拆分文件`,
        ),
        { max: MAX_ROSTER_ROWS },
      ),
    );
    return { rows: [], errors, hasClassColumn: classColumn !== undefined };
  }
  const expectedClass = normaliseCode(className);
  const firstRowOf = new Map<string, number>();
  const rows: RosterRow[] = [];
  for (const record of dataRows) {
    const studentNumber = normaliseCode(record.fields[numberColumn.index]);
    const name = clean(record.fields[nameColumn.index]).normalize('NFC');
    let ok = true;
    const fail = (
      field: RosterField,
      problem: RowProblem,
      message: Localized,
      params: Record<string, string | number> = {},
    ) => {
      const column = (field === 'studentNumber' ? numberColumn : field === 'name' ? nameColumn : classColumn)
        ?.label;
      errors.push(rowError(record.row, field, column ?? COLUMN_LABEL[field], problem, message, params));
      ok = false;
    };
    if (studentNumber === '') {
      fail('studentNumber', 'STUDENT_NUMBER_MISSING', say('学号 is missing', '缺少学号'));
    } else if (!STUDENT_NUMBER_PATTERN.test(studentNumber)) {
      if (/^\d+(\.\d+)?E\+\d+$/i.test(studentNumber)) {
        fail(
          'studentNumber',
          'STUDENT_NUMBER_MANGLED',
          say(
            `学号 "${studentNumber}" was turned into a number by Excel: format the column as text and export again`,
            `学号“${studentNumber}”被 Excel 转成了数字：请把该列设为文本格式后重新导出`,
          ),
          { studentNumber },
        );
      } else {
        fail(
          'studentNumber',
          'STUDENT_NUMBER_INVALID',
          say(
            `学号 "${studentNumber}" is not valid: 4–32 letters, digits or dashes, starting with a letter or digit`,
            `学号“${studentNumber}”格式不对：应为 4–32 位字母、数字或短横线，以字母或数字开头`,
          ),
          { studentNumber },
        );
      }
    } else {
      const first = firstRowOf.get(studentNumber);
      if (first !== undefined)
        fail(
          'studentNumber',
          'STUDENT_NUMBER_REPEATED',
          say(
            `学号 ${studentNumber} appears twice (also on row ${first})`,
            `学号 ${studentNumber} 重复（第 ${first} 行也有）`,
          ),
          { studentNumber, firstRow: first },
        );
      else firstRowOf.set(studentNumber, record.row);
    }
    if (name === '') fail('name', 'NAME_MISSING', say('姓名 (name) is empty', '姓名为空'));
    else if (name.length > MAX_NAME_LENGTH)
      fail(
        'name',
        'NAME_TOO_LONG',
        say(`姓名 is longer than ${MAX_NAME_LENGTH} characters`, `姓名超过 ${MAX_NAME_LENGTH} 个字`),
        { max: MAX_NAME_LENGTH },
      );
    if (classColumn) {
      const given = normaliseCode(record.fields[classColumn.index]);
      if (given === '') {
        fail(
          'className',
          'CLASS_MISSING',
          say(
            `班级 is empty: this roster is for class "${className}"`,
            `班级为空：这份名单属于班级“${className}”`,
          ),
          { className },
        );
      } else if (given !== expectedClass) {
        fail(
          'className',
          'WRONG_CLASS',
          say(
            `班级 "${given}" is not this class ("${className}")`,
            `班级“${given}”不是本班（“${className}”）`,
          ),
          { given, className },
        );
      }
    }
    if (ok) rows.push({ row: record.row, studentNumber, name });
  }
  return { rows, errors, hasClassColumn: classColumn !== undefined };
}
