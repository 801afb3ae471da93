/** Every UI string exists in both languages, with the same placeholders. */
import { describe, expect, it } from 'vitest';
import { messages } from '../../dashboards/src/messages.ts';

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
