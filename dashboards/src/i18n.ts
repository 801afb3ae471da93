import { capitalized, sensorLabel as protocolLabel, sensorStates, sensorUnit } from '../../protocol/index.ts';
/** The UI's language: zh-CN by default, English on request; remembered in localStorage. */
import { type Lang, type MessageKey, messages } from './messages.ts';

export type { Lang, MessageKey };

const STORE = 'iotlab.lang';
let lang: Lang = (() => {
  try {
    const saved = localStorage.getItem(STORE);
    return saved === 'en' || saved === 'zh-CN' ? saved : 'zh-CN';
  } catch {
    return 'zh-CN';
  }
})();
const listeners = new Set<() => void>();

export function currentLang(): Lang {
  return lang;
}

export function setLang(next: Lang): void {
  lang = next;
  try {
    localStorage.setItem(STORE, next);
  } catch {
    // Private mode: the choice lasts for this page only.
  }
  document.documentElement.lang = next;
  for (const listener of listeners) listener();
}

export function onLangChange(listener: () => void): () => void {
  listeners.add(listener);
  return () => listeners.delete(listener);
}

/** A message in the current language, with `{name}` placeholders filled in. */
export function t(key: MessageKey, vars: Record<string, string | number> = {}): string {
  const text: string = messages[lang][key];
  return text.replace(/\{(\w+)\}/g, (whole, name: string) => (name in vars ? String(vars[name]) : whole));
}

/**
 * A text the API gives in both languages ({"zh-CN": …, "en": …}), or a criterion's title as its
 * author wrote it (one string, or one language only).
 */
export function pick(text: string | { 'zh-CN'?: string; en?: string } | undefined | null): string {
  if (!text) return '';
  if (typeof text === 'string') return text;
  return text[lang] || (text['zh-CN'] ?? text.en ?? '');
}

export function formatTime(ms: number | null | undefined): string {
  if (ms === null || ms === undefined) return '—';
  return new Date(ms).toLocaleTimeString(lang, { hour12: false });
}

export function formatDateTime(ms: number | null | undefined): string {
  if (ms === null || ms === undefined) return '—';
  return new Date(ms).toLocaleString(lang, { hour12: false });
}

export function formatNumber(value: number | null | undefined, digits = 1): string {
  if (value === null || value === undefined || Number.isNaN(value)) return '—';
  return value.toLocaleString(lang, { maximumFractionDigits: digits });
}

/** Seconds ago, for "last reading 5 s ago". */
export function ago(ms: number | null | undefined, now = Date.now()): string {
  if (ms === null || ms === undefined) return t('never');
  const seconds = Math.max(0, Math.round((now - ms) / 1000));
  if (seconds < 60) return t('secondsAgo', { n: seconds });
  if (seconds < 3600) return t('minutesAgo', { n: Math.round(seconds / 60) });
  return t('hoursAgo', { n: Math.round(seconds / 3600) });
}

/** A message when the key exists (e.g. `kitProblem_NOT_JSON`), else the fallback. */
export function tOr(key: string, fallback: string): string {
  const table = messages[lang] as Record<string, string>;
  return key in table ? (table[key] as string) : fallback;
}

/** A sensor's name as people read it, from the protocol (温度 / Temperature; derived ones too). */
export function sensorLabel(sensor: string): string {
  const label = protocolLabel(sensor);
  return lang === 'en' ? capitalized(label.en) : label['zh-CN'];
}

/** A reading with its unit; an actuator's (or another state's) 0/1 as words: 开/关, on/off. */
export function readingText(sensor: string, value: number, unit?: string | null): string {
  const states = sensorStates(sensor);
  if (states && (value === 0 || value === 1)) return pick(value === 1 ? states.on : states.off);
  const shown = unit ?? sensorUnit(sensor) ?? '';
  return shown && shown !== '0/1' ? `${formatNumber(value, 2)} ${shown}` : formatNumber(value, 2);
}

/** "数据无中断 0→30（陈老师：补测）": an instructor's change to a criterion, in words. */
export function adjustmentText(a: {
  title: { 'zh-CN': string; en: string };
  autoScore: number;
  score: number;
  byName: string | null;
  by: string;
  reason: string;
}): string {
  return t('adjustment', {
    criterion: pick(a.title),
    from: formatNumber(a.autoScore, 2),
    to: formatNumber(a.score, 2),
    who: a.byName ?? a.by,
    reason: a.reason,
  });
}
