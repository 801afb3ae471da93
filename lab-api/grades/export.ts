/**
 * Grade exports: CSV (UTF-8 with a byte-order mark, so Excel as used in China opens it as UTF-8
 * and not as GBK; CRLF line ends; cells that a spreadsheet would run as a formula are quoted
 * with a leading ') and XLSX (exceljs: a sheet of students, a sheet of teams). Headers in English
 * by default, in Chinese with `headers=zh` — the same words as the web app's; times in the
 * college's time zone.
 */
import ExcelJS from 'exceljs';
import { localTime } from '../time.ts';
import type { Adjustment, AssignmentGrades, StudentGrade, TeamGrade } from './types.ts';

export type HeaderLanguage = 'en' | 'zh';

type Cell = string | number | null;

export interface Column {
  key: string;
  header: { en: string; zh: string };
  /** Characters, for the XLSX column width. */
  width?: number;
}

export interface Table {
  columns: Column[];
  rows: Record<string, Cell>[];
}

export interface Sheet {
  name: { en: string; zh: string };
  table: Table;
}

const BOM = '\uFEFF';

/** A grade's status in words (the web app's `grade_*` messages say the same). */
export const STATUS_WORDS: Record<StudentGrade['status'], { en: string; zh: string }> = {
  final: { en: 'final', zh: '已定分' },
  provisional: { en: 'awaiting mentor score', zh: '待企业评分' },
  'not-graded': { en: 'not graded', zh: '未评分' },
  'no-attempt': { en: 'no attempt', zh: '未作答' },
};

/** Column headers; where the web app shows the same number, the same words (a test compares them). */
export const COLUMNS = {
  className: { key: 'className', header: { en: 'Class', zh: '班级' }, width: 14 },
  studentNumber: { key: 'studentNumber', header: { en: 'Student no.', zh: '学号' }, width: 14 },
  name: { key: 'name', header: { en: 'Name', zh: '姓名' }, width: 12 },
  team: { key: 'team', header: { en: 'Team', zh: '小组' }, width: 12 },
  task: { key: 'task', header: { en: 'Lab task', zh: '实训任务' }, width: 24 },
  dueAt: { key: 'dueAt', header: { en: 'Due', zh: '截止时间' }, width: 18 },
  autoScore: { key: 'autoScore', header: { en: 'Auto score', zh: '自动评分' }, width: 10 },
  adjustments: { key: 'adjustments', header: { en: 'Adjustments', zh: '教师调整' }, width: 40 },
  adjustedScore: { key: 'adjustedScore', header: { en: 'Adjusted score', zh: '调整后评分' }, width: 10 },
  mentorScore: { key: 'mentorScore', header: { en: 'Mentor score', zh: '企业导师评分' }, width: 12 },
  mentorWeight: { key: 'mentorWeight', header: { en: 'Mentor weight (%)', zh: '导师权重(%)' }, width: 10 },
  finalScore: { key: 'finalScore', header: { en: 'Final grade', zh: '最终成绩' }, width: 10 },
  status: { key: 'status', header: { en: 'Status', zh: '状态' }, width: 12 },
  attempts: { key: 'attempts', header: { en: 'Attempts', zh: '作答次数' }, width: 8 },
  gradedAt: { key: 'gradedAt', header: { en: 'Graded at', zh: '评分时间' }, width: 18 },
  members: { key: 'members', header: { en: 'Members', zh: '成员数' }, width: 8 },
  graded: { key: 'graded', header: { en: 'Graded members', zh: '已评分成员' }, width: 10 },
  teamScore: { key: 'teamScore', header: { en: 'Team grade (mean)', zh: '小组成绩(平均)' }, width: 12 },
} satisfies Record<string, Column>;

/** How an export is written: its language, and the time zone its times are in. */
export interface ExportOptions {
  lang: HeaderLanguage;
  /** IANA zone of the college (e.g. Asia/Shanghai); times read as on the classroom's clock. */
  timeZone: string;
  /** A class column (exports that span classes). */
  withClass?: boolean;
}

/** A time in the export's zone, or nothing. */
function exportTime(ms: number | null, timeZone: string): string | null {
  return ms === null ? null : localTime(ms, timeZone);
}

/** "采样频率 16.6→28（陈老师：补测数据）" per adjustment, in the export's language. */
function adjustmentText(adjustments: readonly Adjustment[], lang: HeaderLanguage): string | null {
  if (adjustments.length === 0) return null;
  const number = (n: number) => String(Math.round(n * 100) / 100);
  return adjustments
    .map((a) =>
      lang === 'zh'
        ? `${a.title['zh-CN']} ${number(a.autoScore)}→${number(a.score)}（${a.byName ?? a.by}：${a.reason}）`
        : `${a.title.en} ${number(a.autoScore)}→${number(a.score)} (${a.byName ?? a.by}: ${a.reason})`,
    )
    .join(lang === 'zh' ? '；' : '; ');
}

/** One row per student of each assignment; per-criterion columns when there is one assignment. */
export function studentTable(grades: readonly AssignmentGrades[], options: ExportOptions): Table {
  const { lang, timeZone } = options;
  const single = grades.length === 1 ? grades[0] : undefined;
  const lead = options.withClass ? [COLUMNS.className] : [];
  const columns: Column[] = [
    ...lead,
    COLUMNS.studentNumber,
    COLUMNS.name,
    COLUMNS.team,
    COLUMNS.task,
    ...(options.withClass ? [COLUMNS.dueAt] : []),
    COLUMNS.autoScore,
    COLUMNS.adjustments,
    COLUMNS.adjustedScore,
    COLUMNS.mentorScore,
    COLUMNS.mentorWeight,
    COLUMNS.finalScore,
    COLUMNS.status,
    COLUMNS.attempts,
    ...(single?.criteria ?? []).map((c) => ({
      key: `criterion:${c.id}`,
      header: {
        en: `${c.title.en} (${c.weight})`,
        zh: `${c.title['zh-CN']}（${c.weight}分）`,
      },
      width: 16,
    })),
    COLUMNS.gradedAt,
  ];
  const rows = grades.flatMap((g) =>
    g.students.map((s) => {
      const row: Record<string, Cell> = {
        className: g.assignment.className,
        studentNumber: s.studentNumber,
        name: s.displayName,
        team: s.teamName,
        task: g.assignment.taskTitle,
        dueAt: exportTime(g.assignment.dueAt, timeZone),
        autoScore: s.autoScore,
        adjustments: adjustmentText(s.adjustments, lang),
        adjustedScore: s.adjustedScore,
        mentorScore: s.mentorScore,
        mentorWeight: g.mentorWeight,
        finalScore: s.score,
        status: STATUS_WORDS[s.status][lang],
        attempts: s.attempts,
        gradedAt: exportTime(s.gradedAt, timeZone),
      };
      if (single) for (const c of single.criteria) row[`criterion:${c.id}`] = s.criteria[c.id] ?? null;
      return row;
    }),
  );
  return { columns, rows };
}

/** One row per team of each assignment: the mean of its graded members. */
export function teamTable(grades: readonly AssignmentGrades[], lang: HeaderLanguage): Table {
  const teamStatus = (t: TeamGrade) =>
    t.score === null
      ? STATUS_WORDS['not-graded'][lang]
      : t.provisional
        ? STATUS_WORDS.provisional[lang]
        : STATUS_WORDS.final[lang];
  return {
    columns: [COLUMNS.team, COLUMNS.task, COLUMNS.members, COLUMNS.graded, COLUMNS.teamScore, COLUMNS.status],
    rows: grades.flatMap((g) =>
      g.teams.map((t) => ({
        team: t.name,
        task: g.assignment.taskTitle,
        members: t.members,
        graded: t.graded,
        teamScore: t.score,
        status: teamStatus(t),
      })),
    ),
  };
}

/** A cell as text a spreadsheet will not run: text starting with = + - @ (or a tab/CR) gets a leading '. */
function csvCell(value: Cell): string {
  if (value === null) return '';
  let text = String(value);
  if (typeof value === 'string' && /^[=+\-@\t\r]/.test(text)) text = `'${text}`;
  return /[",\r\n]/.test(text) ? `"${text.replaceAll('"', '""')}"` : text;
}

/** CSV in UTF-8 with a BOM and CRLF line ends (RFC 4180). */
export function toCsv(table: Table, lang: HeaderLanguage): Buffer {
  const lines = [
    table.columns.map((c) => csvCell(c.header[lang])).join(','),
    ...table.rows.map((row) => table.columns.map((c) => csvCell(row[c.key] ?? null)).join(',')),
  ];
  return Buffer.from(`${BOM}${lines.join('\r\n')}\r\n`, 'utf8');
}

/** An XLSX workbook, one worksheet per sheet: bold, frozen header row; numbers stay numbers. */
export async function toXlsx(sheets: readonly Sheet[], lang: HeaderLanguage): Promise<Buffer> {
  const workbook = new ExcelJS.Workbook();
  workbook.creator = 'iotlab';
  workbook.created = new Date();
  for (const sheet of sheets) {
    const ws = workbook.addWorksheet(sheet.name[lang], { views: [{ state: 'frozen', ySplit: 1 }] });
    ws.columns = sheet.table.columns.map((c) => ({
      header: c.header[lang],
      key: c.key,
      width: Math.max(c.width ?? 12, Math.min(40, c.header[lang].length * (lang === 'zh' ? 2 : 1) + 2)),
    }));
    ws.getRow(1).font = { bold: true };
    for (const row of sheet.table.rows) {
      const values: Record<string, Cell> = {};
      for (const c of sheet.table.columns) values[c.key] = row[c.key] ?? null;
      ws.addRow(values);
    }
  }
  return Buffer.from(await workbook.xlsx.writeBuffer());
}

export const SHEETS = {
  students: { en: 'Students', zh: '学生成绩' },
  teams: { en: 'Teams', zh: '小组成绩' },
} as const;

/** A file name for Content-Disposition: ASCII fallback and the UTF-8 name (RFC 6266 / 5987). */
export function attachment(name: string, extension: 'csv' | 'xlsx'): string {
  const full = `${name}.${extension}`;
  const ascii = full.replace(/[^\x20-\x7e]/g, '_').replace(/["\\]/g, '_');
  return `attachment; filename="${ascii}"; filename*=UTF-8''${encodeURIComponent(full)}`;
}

export const CONTENT_TYPES = {
  csv: 'text/csv; charset=utf-8',
  xlsx: 'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet',
} as const;
