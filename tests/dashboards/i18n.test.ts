/** Every UI string exists in both languages, with the same placeholders. */
import { describe, expect, it } from 'vitest';
import { messages } from '../../dashboards/src/messages.ts';
import { COLUMNS, STATUS_WORDS } from '../../lab-api/index.ts';
import { PROBLEM_CODES } from '../../protocol/index.ts';

const placeholders = (text: string) => [...text.matchAll(/\{(\w+)\}/g)].map((m) => m[1]).sort();

describe('dashboard messages', () => {
  it('has the same keys in zh-CN and en', () => {
    expect(Object.keys(messages.en).sort()).toEqual(Object.keys(messages['zh-CN']).sort());
  });

  it('has no empty message and the same {placeholders} in both languages', () => {
    for (const [key, zh] of Object.entries(messages['zh-CN'])) {
      const en = messages.en[key as keyof typeof messages.en];
      expect(zh.trim(), key).not.toBe('');
      expect(en.trim(), key).not.toBe('');
      expect(placeholders(en), key).toEqual(placeholders(zh));
    }
  });
});

describe('grade exports', () => {
  it('use the words the web app uses for the same numbers and states', () => {
    const same = [
      'studentNumber',
      'name',
      'team',
      'task',
      'attempts',
      'autoScore',
      'adjustments',
      'adjustedScore',
      'mentorScore',
      'finalScore',
      'status',
    ] as const;
    for (const key of same) {
      const header = COLUMNS[key].header;
      expect([header.zh, header.en], key).toEqual([messages['zh-CN'][key], messages.en[key]]);
    }
    for (const [status, words] of Object.entries(STATUS_WORDS)) {
      const key = `grade_${status}` as keyof typeof messages.en;
      expect([words.zh, words.en], status).toEqual([messages['zh-CN'][key], messages.en[key]]);
    }
  });
});

describe("kits' error reports", () => {
  it('have a sentence for every problem code, in Chinese and English', () => {
    for (const code of PROBLEM_CODES) {
      const key = `kitProblem_${code}` as keyof typeof messages.en;
      expect(messages['zh-CN'][key], code).toMatch(/[\u4e00-\u9fff]/);
      expect(messages.en[key], code).toMatch(/[a-z]/);
    }
  });
});
