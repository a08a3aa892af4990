// pg.mjs: run SQL through psql (PGHOST/PGPORT/PGUSER come from the
// environment the suite exports).  No driver: psql is what users use too.
import { execFileSync } from 'node:child_process';

const DB = process.env.PGDATABASE || 'postgres';

// Run sql (one or more statements); returns stdout of the last result,
// unaligned and tuples-only.  Throws with psql's stderr on error.
export function psql(sql, extraArgs = [], db = DB, env = {}) {
    try {
        return execFileSync('psql', ['-X', '-q', '-v', 'ON_ERROR_STOP=1', '-d', db, '-At', ...extraArgs, '-c', sql], {
            encoding: 'utf8', maxBuffer: 1 << 30, stdio: ['ignore', 'pipe', 'pipe'],
            env: { ...process.env, PGCLIENTENCODING: 'UTF8', ...env },   // the harness speaks UTF-8
        });
    } catch (e) {
        const err = new Error(`psql failed: ${String(e.stderr || e.message).trim()}\n  SQL: ${sql.slice(0, 300)}`);
        err.stderr = String(e.stderr || '');
        throw err;
    }
}

export function psqlLines(sql) {
    const out = psql(sql);
    return out === '' ? [] : out.replace(/\n$/, '').split('\n');
}

// Rows of a one-column text query, through COPY TO STDOUT: psql's table
// printer drops characters it deems unprintable (U+10FFFF), COPY does not.
// The values are JSON texts, so the only COPY escape in them is \\.
export function copyLines(query) {
    const out = psql(`COPY (${query}) TO STDOUT`);
    const lines = out === '' ? [] : out.replace(/\n$/, '').split('\n');
    return lines.map((l) => l.replace(/\\\\/g, '\\'));
}

export const lit = (s) => `'${String(s).replace(/'/g, "''")}'`;
export const ident = (s) => `"${String(s).replace(/"/g, '""')}"`;
