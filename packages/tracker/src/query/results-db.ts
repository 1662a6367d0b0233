import { randomBytes } from 'node:crypto';
import { rename, rm } from 'node:fs/promises';
import path from 'node:path';
import type { DuckDBConnection, DuckDBInstance } from '@duckdb/node-api';
import { ResultsQueryError } from '../errors.js';
import { type PlainValue, toPlain } from './plain.js';
import { sqlString, viewStatements } from './sources.js';

export type QueryParam = string | number | boolean | null;
export type Row = Record<string, PlainValue>;

/**
 * The results folder in DuckDB (in memory; the files are read at query time, never written):
 * views `results` (every `*_results*.csv`), `failures` (`failed_experiments*.csv`), one per raw
 * JSON document kind (`experiment_setup`, `global_energy`, `raw_ranks`…, each with `folder_id`
 * and `filename`) and `progress` (the journal's latest entry per key). Only views whose files
 * exist are created. Close it when done.
 */
export class ResultsDb {
  readonly resultsDir: string;
  /** Names of the views created. */
  readonly views: readonly string[];
  #instance: DuckDBInstance | undefined;
  #connection: DuckDBConnection | undefined;

  private constructor(resultsDir: string, instance: DuckDBInstance, connection: DuckDBConnection, views: string[]) {
    this.resultsDir = resultsDir;
    this.#instance = instance;
    this.#connection = connection;
    this.views = views;
  }

  static async open(resultsDir: string): Promise<ResultsDb> {
    // Loaded on first use: the native module costs ~0.3 s, which recording never needs.
    const { DuckDBInstance } = await import('@duckdb/node-api');
    const instance = await DuckDBInstance.create(':memory:');
    let connection: DuckDBConnection | undefined;
    try {
      connection = await instance.connect();
      const con = connection;
      const hasRaw = async (glob: string) => {
        const reader = await con.runAndReadAll(`SELECT count(*) AS n FROM glob(${sqlString(glob)})`);
        return Number(reader.getRowObjectsJS()[0]?.n ?? 0) > 0;
      };
      const views = await viewStatements(resultsDir, hasRaw);
      for (const v of views) {
        try {
          await con.run(`CREATE VIEW ${v.name} AS ${v.sql}`);
        } catch (cause) {
          throw new ResultsQueryError(`cannot read ${v.name} in ${resultsDir}: ${(cause as Error).message}`, { cause });
        }
      }
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

  #open(): DuckDBConnection {
    if (!this.#connection) throw new ResultsQueryError('the results database is closed');
    return this.#connection;
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
