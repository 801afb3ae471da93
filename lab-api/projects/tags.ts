/**
 * Tags of projects, tasks and mentor profiles (skills, expertise, sensors), kept as JSON arrays
 * of strings: reading such a column, a tag list as stored, and a tag as a LIKE pattern on one.
 */
import { escapeLike } from '../query.ts';

/** A JSON array column's strings (none when it is not one). */
export function jsonList(text: string): string[] {
  try {
    const value: unknown = JSON.parse(text);
    return Array.isArray(value) ? value.filter((item): item is string => typeof item === 'string') : [];
  } catch {
    return [];
  }
}

/** Skill and expertise tags: trimmed, each once (case-insensitively), in the order given. */
export function tags(list: readonly string[]): string[] {
  const seen = new Set<string>();
  const out: string[] = [];
  for (const raw of list) {
    const tag = raw.trim();
    const key = tag.toLowerCase();
    if (tag && !seen.has(key)) {
      seen.add(key);
      out.push(tag);
    }
  }
  return out;
}

/**
 * A JSON array column containing this tag (as a whole element; ASCII case-insensitive), as a
 * LIKE pattern; undefined without a tag (no filter).
 */
export function jsonTagLike(tag: string | undefined): string | undefined {
  return tag ? `%${escapeLike(JSON.stringify(tag.trim()))}%` : undefined;
}
