/**
 * The README's table of criterion types, written from the registry (a test keeps the README's
 * copy, between `<!-- criteria-table -->` and `<!-- /criteria-table -->`, equal to it). Print it
 * with `node bin/run-ts.js grading/criteria/docs.ts` (`--zh` for Chinese).
 */
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { CRITERION_PLUGINS } from './index.ts';

export const CRITERIA_TABLE_START = '<!-- criteria-table -->';
export const CRITERIA_TABLE_END = '<!-- /criteria-table -->';

const cell = (text: string) => text.replaceAll('|', '\\|');

/** A Markdown table: each type, its params, what it checks, and when live grading judges it. */
export function criteriaTable(lang: 'en' | 'zh-CN' = 'en'): string {
  const head =
    lang === 'en'
      ? ['type', 'params', 'checks', 'judged live once']
      : ['类型', '参数', '评判内容', '实时评分何时评判'];
  const rows = CRITERION_PLUGINS.map((d) => [
    `\`${cell(d.type)}\` (${cell(d.title[lang])})`,
    `\`${cell(d.paramsHint)}\``,
    cell(d.hint[lang]),
    cell(d.whenJudged[lang]),
  ]);
  // padded as the formatter pads Markdown tables, so the README's copy stays as written
  const widths = head.map((_, k) => Math.max(3, ...[head, ...rows].map((row) => [...(row[k] ?? '')].length)));
  const line = (row: readonly string[]) =>
    `| ${row.map((text, k) => text + ' '.repeat((widths[k] ?? 0) - [...text].length)).join(' | ')} |`;
  return [line(head), line(widths.map((w) => '-'.repeat(w))), ...rows.map(line)].join('\n');
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  console.log(criteriaTable(process.argv.includes('--zh') ? 'zh-CN' : 'en'));
}
