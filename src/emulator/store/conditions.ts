/**
 * The AND-ed conditions of a WHERE clause, with their `?` arguments in order, built from optional filters: the
 * places that list rows by several optional fields (the outbox, the webhook journal, the inspector's searches, the
 * pages) build them the same way.
 */
import type { SqlValue } from './database.js';

export class Conditions {
  readonly sql: string[];
  readonly args: SqlValue[];

  constructor(sql: readonly string[] = [], args: readonly SqlValue[] = []) {
    this.sql = [...sql];
    this.args = [...args];
  }

  /** a condition with its arguments */
  add(sql: string, ...args: SqlValue[]): this {
    this.sql.push(sql);
    this.args.push(...args);
    return this;
  }

  /** `column = ?` when the filter is given; an empty string is not (a query string's `?to=`) */
  equals(column: string, value: SqlValue | undefined): this {
    return value === undefined || value === null || value === '' ? this : this.add(`${column} = ?`, value);
  }

  /** ` WHERE a AND b`, or '' when there is none */
  where(): string {
    return this.sql.length ? ` WHERE ${this.sql.join(' AND ')}` : '';
  }
}
