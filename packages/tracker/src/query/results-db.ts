import { randomBytes } from 'node:crypto';
import { rename, rm } from 'node:fs/promises';
import path from 'node:path';
import type { DuckDBConnection, DuckDBInstance } from '@duckdb/node-api';
import { ResultsQueryError } from '../errors.js';
import { resultsLayout } from '../layout.js';
import { type PlainValue, toPlain } from './plain.js';
import { RAW_VIEWS, RawFiles, rawViewSql } from './raw-views.js';
import { sqlString, viewStatements } from './sources.js';

export type QueryParam = string | number | boolean | null;
export type Row = Record<string, PlainValue>;

/** A raw view's name as a whole word in SQL. */
const MENTIONS = Object.keys(RAW_VIEWS).map((name) => ({ name, re: new RegExp(`\\b${name}\\b`, 'i') }));

/**
 * The results folder in DuckDB (in memory; the files are read at query time, never written):
 * views `results` (every `*_results*.csv`), `failures` (`failed_experiments*.csv`), one per raw
 * JSON document kind (`experiment_setup`, `global_energy`, `raw_ranks`…, each with `folder_id`
 * and `filename`), `timeseries` and `progress` (the journal's latest entry per key). Only views
 * whose files exist are created. The raw views are created when a query first names one, so a
 * query over `results` never lists `raw_results/`. Close it when done.
 */
export class ResultsDb {
  readonly resultsDir: string;
  readonly #eager: readonly string[];
  readonly #raw: RawFiles;
  readonly #created = new Set<string>();
  #instance: DuckDBInstance | undefined;
  #connection: DuckDBConnection | undefined;

  private constructor(resultsDir: string, instance: DuckDBInstance, connection: DuckDBConnection, views: string[]) {
    this.resultsDir = resultsDir;
    this.#instance = instance;
    this.#connection = connection;
    this.#eager = views;
    this.#raw = new RawFiles(resultsLayout(resultsDir).rawDir);
  }

  /**
   * Names of the views whose files exist: `results`, `failures`, the raw kinds, `progress`. The
   * first call lists `raw_results/` (synchronously); `hasView` asks about one view.
   */
  get views(): readonly string[] {
    const raw = this.#raw.allSync();
    return [...this.#eager.filter((v) => v !== 'progress'), ...raw, ...this.#eager.filter((v) => v === 'progress')];
  }

  /** Whether view `name` exists (a raw view: whether any experiment folder holds its files). */
  async hasView(name: string): Promise<boolean> {
    return this.#eager.includes(name) || (name in RAW_VIEWS && (await this.#raw.has(name)));
  }

  static async open(resultsDir: string): Promise<ResultsDb> {
    // Loaded on first use: the native module costs ~0.1 s, which recording never needs.
    const { DuckDBInstance } = await import('@duckdb/node-api');
    const instance = await DuckDBInstance.create(':memory:');
    let connection: DuckDBConnection | undefined;
    try {
      connection = await instance.connect();
      const views = await viewStatements(resultsDir);
      for (const v of views) await create(connection, v.name, v.sql, resultsDir);
      return new ResultsDb(
        path.resolve(resultsDir),
        instance,
        connection,
        views.map((v) => v.name),
      );
    } catch (error) {
      connection?.closeSync();
      instance.closeSync();
      throw error;
    }
  }

  /** Run SQL; rows as plain objects. `params` fill `?`/`$1` (array) or `$name` (object) placeholders. */
  async query(sql: string, params?: readonly QueryParam[] | Record<string, QueryParam>): Promise<Row[]> {
    const con = this.#open();
    await this.#createRawViews(con, sql);
    try {
      const reader = await con.runAndReadAll(sql, params as QueryParam[] | Record<string, QueryParam> | undefined);
      return reader.getRowObjectsJS().map((row) => {
        const out: Row = {};
        for (const [k, v] of Object.entries(row)) out[k] = toPlain(v);
        return out;
      });
    } catch (cause) {
      throw new ResultsQueryError(`query failed: ${(cause as Error).message}`, { cause });
    }
  }

  /**
   * Write a view or a SELECT as Parquet (temp file, then renamed). Returns the rows written.
   */
  async exportParquet(source: string, file: string): Promise<{ file: string; rows: number }> {
    const con = this.#open();
    await this.#createRawViews(con, source);
    const select = /^\w+$/.test(source) ? `SELECT * FROM ${source}` : source;
    const target = path.resolve(file);
    const tmp = `${target}.${randomBytes(4).toString('hex')}.tmp`;
    try {
      const reader = await con.runAndReadAll(`COPY (${select}) TO ${sqlString(tmp)} (FORMAT parquet)`);
      const rows = Number(reader.getRowObjectsJS()[0]?.Count ?? 0);
      await rename(tmp, target);
      return { file: target, rows };
    } catch (cause) {
      await rm(tmp, { force: true });
      throw new ResultsQueryError(`parquet export to ${target} failed: ${(cause as Error).message}`, { cause });
    }
  }

  /** Close the connection and the database. Safe to call twice. */
  close(): void {
    this.#connection?.closeSync();
    this.#instance?.closeSync();
    this.#connection = undefined;
    this.#instance = undefined;
  }

  /** Create the raw views `sql` names that have files and are not created yet. */
  async #createRawViews(con: DuckDBConnection, sql: string): Promise<void> {
    for (const { name, re } of MENTIONS) {
      if (this.#created.has(name) || !re.test(sql) || !(await this.#raw.has(name))) continue;
      await create(con, name, rawViewSql(name, this.#raw.rawDir), this.resultsDir);
      this.#created.add(name);
    }
  }

  #open(): DuckDBConnection {
    if (!this.#connection) throw new ResultsQueryError('the results database is closed');
    return this.#connection;
  }
}

async function create(con: DuckDBConnection, name: string, sql: string, resultsDir: string): Promise<void> {
  try {
    await con.run(`CREATE VIEW ${name} AS ${sql}`);
  } catch (cause) {
    throw new ResultsQueryError(`cannot read ${name} in ${resultsDir}: ${(cause as Error).message}`, { cause });
  }
}

/** Open the results folder in DuckDB, run `fn`, close whatever happens. */
export async function withResultsDb<T>(resultsDir: string, fn: (db: ResultsDb) => Promise<T>): Promise<T> {
  const db = await ResultsDb.open(resultsDir);
  try {
    return await fn(db);
  } finally {
    db.close();
  }
}
