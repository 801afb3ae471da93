/**
 * The lab's list queries: optional filters → WHERE, the total with COUNT, one page with
 * LIMIT/OFFSET. Conditions are SQL written here in the code; only values travel as parameters.
 */
import type { LabDb, SqlValue } from '../labdb/index.ts';

/** `text` for a LIKE pattern with `ESCAPE '\'`: its own %, _ and \ match themselves. */
export function escapeLike(text: string): string {
  return text.replace(/[\\%_]/g, (c) => `\\${c}`);
}

/**
 * `column LIKE ?` ignoring ASCII case, on both engines: SQLite's LIKE ignores ASCII case,
 * PostgreSQL's does not, and `lower()` on both sides gives SQLite's answers on either (on
 * PostgreSQL with a non-C locale it also folds other letters). The pattern uses `ESCAPE '\'`
 * (see {@link escapeLike}).
 */
export function likeIgnoringCase(column: string): string {
  return `lower(${column}) LIKE lower(?) ESCAPE '\\'`;
}

/** A WHERE clause from the filters that are set. */
export class Where {
  readonly #conditions: string[] = [];
  readonly #params: SqlValue[] = [];

  /** Adds `condition` (with its `?` parameters) always. */
  and(condition: string, ...params: SqlValue[]): this {
    this.#conditions.push(condition);
    this.#params.push(...params);
    return this;
  }

  /** Adds `condition` with `value` as its one parameter, when a value is given (not undefined, null or ''). */
  when(value: SqlValue | undefined, condition: string): this {
    return value === undefined || value === null || value === '' ? this : this.and(condition, value);
  }

  /** Adds "any of `columns` contains `text`" (ignoring ASCII case, see {@link likeIgnoringCase}), when text is given. */
  contains(text: string | undefined, columns: readonly string[]): this {
    if (!text) return this;
    const like = `%${escapeLike(text)}%`;
    return this.and(`(${columns.map(likeIgnoringCase).join(' OR ')})`, ...columns.map(() => like));
  }

  /** `WHERE …` or '' when no filter is set. */
  get clause(): string {
    return this.#conditions.length > 0 ? `WHERE ${this.#conditions.join(' AND ')}` : '';
  }

  get params(): readonly SqlValue[] {
    return this.#params;
  }
}

/** One page of a list and the number of rows across all pages. */
export interface Page<T> {
  items: T[];
  total: number;
}

/**
 * One page of a list and its total: `SELECT count(*) <from> <where>`, then
 * `<select> <where> ORDER BY <orderBy> LIMIT ? OFFSET ?`.
 */
export async function listPage<Row, T>(
  db: LabDb,
  query: {
    /** The FROM part the conditions need (with their joins), e.g. `FROM classes c`. */
    from: string;
    /** The page's whole `SELECT … FROM …` (its joins may add columns); default `SELECT * <from>`. */
    select?: string;
    where: Where;
    orderBy: string;
    limit: number;
    offset: number;
    map: (row: Row) => T;
  },
): Promise<Page<T>> {
  const { clause, params } = query.where;
  const total = (await db.get<{ n: number }>(`SELECT count(*) AS n ${query.from} ${clause}`, params))?.n ?? 0;
  const select = query.select ?? `SELECT * ${query.from}`;
  const rows = await db.all<Row>(`${select} ${clause} ORDER BY ${query.orderBy} LIMIT ? OFFSET ?`, [
    ...params,
    query.limit,
    query.offset,
  ]);
  return { items: rows.map(query.map), total };
}
