// verify.mjs: obs's shipping payloads read back by the ecosystem's own code.
//
// Writes spans, log records and metric points with known values into a
// throwaway database, asks obs.otlp_payload() for the OTLP/HTTP bodies in
// JSON and in protobuf, and decodes them with the protobuf definitions
// generated from opentelemetry-proto that @opentelemetry/otlp-transformer
// ships: the protobuf body is decoded with ExportXServiceRequest.decode(),
// the JSON body goes through fromObject()/verify() of the same message (with
// the OTLP/HTTP JSON rules checked on the way: hex ids, 64-bit integers as
// decimal strings, integer enums), both must give the same message, and
// every field must equal what PostgreSQL stored.  Then obs.cloudwatch_payloads()
// is checked against the PutLogEvents limits with crafted inputs, and
// cloudwatch-receiver.mjs with requests signed by curl --aws-sigv4.
// Prints "ok"/"not ok" lines and "N passed, N failed" last.
import assert from 'node:assert/strict';
import { execFileSync, spawn } from 'node:child_process';
import { createRequire } from 'node:module';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { checkPutLogEvents, eventBytes, MAX_SPAN_MS } from './cloudwatch-limits.mjs';

const require = createRequire(import.meta.url);
const root = require('@opentelemetry/otlp-transformer/build/src/generated/root');
const P = root.opentelemetry.proto;
const REQ = {
    traces: P.collector.trace.v1.ExportTraceServiceRequest,
    logs: P.collector.logs.v1.ExportLogsServiceRequest,
    metrics: P.collector.metrics.v1.ExportMetricsServiceRequest,
};
const DB = 'obs_ship_test';

let passed = 0;
let failed = 0;
function check(name, fn) {
    try {
        fn();
        console.log(`ok - ${name}`);
        passed++;
    } catch (e) {
        console.log(`not ok - ${name}`);
        for (const l of String(e && e.stack || e).split('\n').slice(0, 12)) console.log(`# ${l}`);
        failed++;
    }
}
async function checkAsync(name, fn) {
    try {
        await fn();
        console.log(`ok - ${name}`);
        passed++;
    } catch (e) {
        console.log(`not ok - ${name}`);
        for (const l of String(e && e.stack || e).split('\n').slice(0, 12)) console.log(`# ${l}`);
        failed++;
    }
}

function psql(sql, db = DB) {
    try {
        return execFileSync('psql', ['-X', '-q', '-v', 'ON_ERROR_STOP=1', '-d', db, '-At', '-c', sql], {
            encoding: 'utf8', maxBuffer: 1 << 30, stdio: ['ignore', 'pipe', 'pipe'],
            env: { ...process.env, PGCLIENTENCODING: 'UTF8' },
        });
    } catch (e) {
        throw new Error(`psql failed: ${String(e.stderr || e.message).trim()}\n  SQL: ${sql.slice(0, 300)}`);
    }
}
const lit = (s) => `'${String(s).replace(/'/g, "''")}'`;
const lines = (out) => (out === '' ? [] : out.replace(/\n$/, '').split('\n'));

// ---- fixtures: microseconds since 1970 as BigInt, rendered as UTC text ----
function utcText(us) {
    const ms = us / 1000n;
    const iso = new Date(Number(ms)).toISOString();    // ...SS.mmmZ
    return `${iso.slice(0, 23)}${String(us % 1000n).padStart(3, '0')}+00`;
}
const T0 = BigInt(Date.UTC(2026, 10, 30, 10, 0, 0)) * 1000n;

const TRACE = '0af7651916cd43dd8448eb211c80319c';
const SPANS = [
    { trace_id: TRACE, span_id: 'b7ad6b7169203331', parent: null, op: 'extract', type: 'DATA_FETCH', svc: 'etl',
      start: T0 + 123456n, end: T0 + 1500000n, status: 'ok', error: null,
      tags: { rows: 12, ratio: 0.5, ok: true, name: 'orders', list: [1, 'a', null, 2.25], obj: { x: null, y: { z: false } } } },
    { trace_id: TRACE, span_id: '00f067aa0ba902b7', parent: 'b7ad6b7169203331', op: 'transform', type: 'TRANSFORM', svc: 'etl',
      start: T0 + 1n, end: T0 + 999999n, status: 'error', error: 'boom: "quoted" \u00e9\u20ac',
      tags: { 'service.type': 'shadowed', big: 1e300, neg: -5, huge: 9007199254740993, tiny: 5e-324 } },
    { trace_id: '4bf92f3577b34da6a3ce929d0e0e4736', span_id: 'ffffffffffffffff', parent: null, op: 'GET /v1', type: 'API', svc: 'api',
      start: BigInt(Date.UTC(1971, 5, 1, 10, 0, 0)) * 1000n + 1n, end: BigInt(Date.UTC(1971, 5, 1, 10, 0, 1)) * 1000n, status: 'unset', error: null,
      tags: null },
    { trace_id: '4bf92f3577b34da6a3ce929d0e0e4736', span_id: '0000000000000001', parent: 'ffffffffffffffff', op: 'query', type: 'DATABASE', svc: 'api',
      start: T0 + 86400000000n * 400n, end: T0 + 86400000000n * 400n + 7n, status: 'error', error: null, tags: ['not', 'an', 'object'] },
];

const LEVELS = { DEBUG: 5, INFO: 9, WARNING: 13, ERROR: 17, CRITICAL: 21 };
const LOGS = [
    { id: 101, ts: T0 + 42n, level: 'DEBUG', logger: 'etl.extract', message: 'starting', context: { batch: 7, source: 's3://bucket' }, tags: { env: 'prod', retry: 0 },
      trace: TRACE, span: 'b7ad6b7169203331', error: null },
    { id: 102, ts: T0 + 43n, level: 'INFO', logger: 'etl.extract', message: 'tab\tquote" newline\n emoji \u{1F600}', context: null, tags: null, trace: null, span: null, error: null },
    { id: 103, ts: T0 + 1000001n, level: 'WARNING', logger: 'etl.load', message: 'slow', context: { ms: 1234.5 }, tags: { logger: 'shadowed', 'obs.log_id': 1 },
      trace: TRACE, span: null, error: null },
    { id: 104, ts: T0 + 2000000n, level: 'ERROR', logger: 'etl.load', message: 'failed', context: null, tags: null, trace: TRACE, span: '00f067aa0ba902b7',
      error: { sqlstate: '23505', message: 'duplicate key', detail: null } },
    { id: 105, ts: T0 + 3000000n, level: 'CRITICAL', logger: 'etl.load', message: 'gave up', context: { list: [1, 2] }, tags: { n: -1.5 }, trace: null, span: null,
      error: { message: 'x' } },
];

const METRIC_SERIES = [
    { id: 1, name: 'cpu', kind: 'gauge', tags: { host: 'a' } },
    { id: 2, name: 'cpu', kind: 'gauge', tags: { host: 'b', core: 3 } },
    { id: 3, name: 'rows', kind: 'counter', tags: {} },
    { id: 4, name: 'rows', kind: 'gauge', tags: { stage: 'x' } },
];
const POINTS = [
    { series: 1, ts: T0 + 5n, value: '0.1' },
    { series: 2, ts: T0 + 6n, value: '-2.5' },
    { series: 1, ts: T0 + 7n, value: '1e+300' },
    { series: 3, ts: T0 + 8n, value: '42' },
    { series: 3, ts: T0 + 9n, value: '1' },
    { series: 4, ts: T0 + 10n, value: 'NaN' },
    { series: 2, ts: T0 + 11n, value: '5e-324' },
];

function setup() {
    psql(`DROP DATABASE IF EXISTS ${DB}`, 'postgres');
    psql(`CREATE DATABASE ${DB}`, 'postgres');
    psql('CREATE EXTENSION obs CASCADE');
    const j = (v) => (v === null ? 'NULL' : `${lit(JSON.stringify(v))}::jsonb`);
    psql(`INSERT INTO obs.spans (trace_id, span_id, parent_span_id, operation, service_type, service_name, start_time, end_time,
                                 duration_us, status, error, tags) VALUES ${SPANS.map((s) => `(${lit(s.trace_id)}, ${lit(s.span_id)},
            ${s.parent ? lit(s.parent) : 'NULL'}, ${lit(s.op)}, ${lit(s.type)}, ${lit(s.svc)}, ${lit(utcText(s.start))}, ${lit(utcText(s.end))},
            ${s.end - s.start}, ${lit(s.status)}, ${s.error === null ? 'NULL' : lit(s.error)}, ${j(s.tags)})`).join(',')}`);
    psql(`INSERT INTO obs.logs (log_id, ts, level, logger, message, context, tags, trace_id, span_id, error, backend_pid) VALUES
          ${LOGS.map((l) => `(${l.id}, ${lit(utcText(l.ts))}, ${lit(l.level)}, ${lit(l.logger)}, ${lit(l.message)}, ${j(l.context)}, ${j(l.tags)},
            ${l.trace ? lit(l.trace) : 'NULL'}, ${l.span ? lit(l.span) : 'NULL'}, ${j(l.error)}, ${4000 + l.id})`).join(',')}`);
    psql(`INSERT INTO obs.metric_series (series_id, name, kind, tags) OVERRIDING SYSTEM VALUE VALUES
          ${METRIC_SERIES.map((s) => `(${s.id}, ${lit(s.name)}, ${lit(s.kind)}, ${j(s.tags)})`).join(',')};
          INSERT INTO obs.metric_points (series_id, ts, value) VALUES
          ${POINTS.map((p) => `(${p.series}, ${lit(utcText(p.ts))}, ${lit(p.value)}::float8)`).join(',')}`);
}

// ---- the OTLP payloads, decoded ----
const OPTS = { longs: String, enums: Number, bytes: String, json: true };
const b64hex = (s) => Buffer.from(s, 'base64').toString('hex');
const ID_FIELDS = new Set(['traceId', 'spanId', 'parentSpanId']);
const LONG_FIELDS = new Set(['timeUnixNano', 'observedTimeUnixNano', 'startTimeUnixNano', 'endTimeUnixNano', 'intValue']);
const ENUM_FIELDS = new Set(['kind', 'code', 'severityNumber', 'aggregationTemporality']);

// the OTLP/HTTP JSON rules; returns a copy with ids as bytes for fromObject
function checkOtlpJson(v, where = '$') {
    if (Array.isArray(v)) return v.map((x, i) => checkOtlpJson(x, `${where}[${i}]`));
    if (v === null || typeof v !== 'object') return v;
    const out = {};
    for (const [k, x] of Object.entries(v)) {
        if (!/^[a-z][A-Za-z]*$/.test(k) && where.endsWith('.values') === false && k !== 'key')
            throw new Error(`${where}.${k}: not a lowerCamelCase field name`);
        if (ID_FIELDS.has(k)) {
            const len = k === 'traceId' ? 32 : 16;
            if (typeof x !== 'string' || !new RegExp(`^[0-9a-f]{${len}}$`).test(x)) throw new Error(`${where}.${k}: ${JSON.stringify(x)} is not ${len} lowercase hex digits`);
            out[k] = Buffer.from(x, 'hex');
        } else if (LONG_FIELDS.has(k)) {
            if (typeof x !== 'string' || !/^-?[0-9]+$/.test(x)) throw new Error(`${where}.${k}: ${JSON.stringify(x)} is not a decimal string`);
            out[k] = x;
        } else if (ENUM_FIELDS.has(k)) {
            if (!Number.isInteger(x)) throw new Error(`${where}.${k}: ${JSON.stringify(x)} is not an integer enum`);
            out[k] = x;
        } else out[k] = checkOtlpJson(x, `${where}.${k}`);
    }
    return out;
}

// drop empty arrays (toObject and the writer differ only there)
function pruneEmpty(v) {
    if (Array.isArray(v)) return v.map(pruneEmpty);
    if (v === null || typeof v !== 'object') return v;
    const out = {};
    for (const [k, x] of Object.entries(v)) if (!(Array.isArray(x) && x.length === 0)) out[k] = pruneEmpty(x);
    return out;
}
function idsToHex(v) {
    if (Array.isArray(v)) return v.map(idsToHex);
    if (v === null || typeof v !== 'object') return v;
    const out = {};
    for (const [k, x] of Object.entries(v)) out[k] = ID_FIELDS.has(k) ? b64hex(x) : idsToHex(x);
    return out;
}

// both encodings of one request; checks they carry the same message and
// returns it as a plain object (ids in hex, 64-bit integers as strings)
function payload(signal, rowsSql, serviceName = null, settings = '') {
    const svc = serviceName === null ? 'NULL' : lit(serviceName);
    const out = lines(psql(`${settings} SELECT convert_from(obs.otlp_payload(${lit(signal)}, (${rowsSql}), false, ${svc}), 'UTF8');
                            SELECT encode(obs.otlp_payload(${lit(signal)}, (${rowsSql}), true, ${svc}), 'hex')`));
    assert.equal(out.length, 2, 'two payloads');
    const Req = REQ[signal];
    const pbMsg = Req.decode(Buffer.from(out[1], 'hex'));
    assert.equal(Req.verify(pbMsg), null);
    const pbObj = pruneEmpty(idsToHex(Req.toObject(pbMsg, OPTS)));
    const json = JSON.parse(out[0]);
    const jsonMsg = Req.fromObject(checkOtlpJson(json));
    assert.equal(Req.verify(jsonMsg), null);
    const jsonObj = pruneEmpty(idsToHex(Req.toObject(jsonMsg, OPTS)));
    // every JSON member is a field of the message (nothing misnamed or unknown)
    assert.deepEqual(jsonObj, pruneEmpty(json), 'the JSON body is exactly a message of the OTLP definitions');
    assert.deepEqual(jsonObj, pbObj, 'the JSON and the protobuf body carry the same message');
    return pbObj;
}

// a JSON value as the AnyValue obs documents
function anyValue(v) {
    if (v === null) return {};
    if (typeof v === 'string') return { stringValue: v };
    if (typeof v === 'boolean') return { boolValue: v };
    if (typeof v === 'number') return Number.isInteger(v) && Math.abs(v) <= 2 ** 53 ? { intValue: String(v) } : { doubleValue: v };
    if (Array.isArray(v)) return { arrayValue: pruneEmpty({ values: v.map(anyValue) }) };
    return { kvlistValue: pruneEmpty({ values: Object.entries(v).map(([key, x]) => ({ key, value: anyValue(x) })) }) };
}
function attrMap(attrs) {
    const m = {};
    for (const a of attrs || []) {
        assert.ok(!(a.key in m), `attribute key ${a.key} is unique`);
        m[a.key] = a.value;
    }
    return m;
}
function tagAttrs(tags, reserved) {
    if (tags === null) return {};
    if (typeof tags !== 'object' || Array.isArray(tags)) return { tags: anyValue(tags) };
    const m = {};
    for (const [k, v] of Object.entries(tags)) if (!reserved.includes(k)) m[k] = anyValue(v);
    return m;
}
function resourceName(r) {
    const a = attrMap(r.resource.attributes);
    assert.deepEqual(Object.keys(a), ['service.name']);
    return a['service.name'].stringValue;
}
function scopeOf(scopes) {
    assert.equal(scopes.length, 1, 'one scope per resource');
    assert.equal(scopes[0].scope.name, 'obs');
    return scopes[0];
}
// stored rows as PostgreSQL renders them, times as exact microseconds
const usOf = (col) => `(extract(epoch FROM ${col}) * 1000000)::bigint::text`;

function checkTraces() {
    const stored = JSON.parse(psql(`SELECT json_agg(json_build_object('trace_id', trace_id::text, 'span_id', span_id::text,
        'parent', parent_span_id::text, 'op', operation, 'type', service_type, 'svc', service_name, 'start', ${usOf('start_time')},
        'end', ${usOf('end_time')}, 'status', status, 'error', error, 'tags', tags)) FROM obs.spans`));
    check('stored spans hold the fixture times to the microsecond', () => {
        for (const s of SPANS) {
            const r = stored.find((x) => x.span_id === s.span_id);
            assert.equal(r.start, String(s.start));
            assert.equal(r.end, String(s.end));
        }
    });
    for (const tz of ['UTC', 'America/St_Johns', 'Asia/Kathmandu', 'Africa/Monrovia']) {
        check(`traces (TimeZone ${tz}): every span, id, parent, time to the ns, status and attribute as stored`, () => {
            const req = payload('traces', 'SELECT jsonb_agg(to_jsonb(s) ORDER BY s.span_seq DESC) FROM obs.spans s', null, `SET TimeZone = ${lit(tz)};`);
            const seen = new Set();
            for (const rs of req.resourceSpans) {
                const svc = resourceName(rs);
                const sc = scopeOf(rs.scopeSpans);
                for (const sp of sc.spans) {
                    const r = stored.find((x) => x.span_id === sp.spanId);
                    assert.ok(r, `span ${sp.spanId} was stored`);
                    assert.ok(!seen.has(sp.spanId), 'each span once');
                    seen.add(sp.spanId);
                    assert.equal(svc, r.svc);
                    assert.equal(sp.traceId, r.trace_id);
                    assert.equal(sp.parentSpanId, r.parent ?? undefined);
                    assert.equal(sp.name, r.op);
                    assert.equal(sp.kind, 1);
                    assert.equal(sp.startTimeUnixNano, `${r.start}000`);
                    assert.equal(sp.endTimeUnixNano, `${r.end}000`);
                    assert.deepEqual(attrMap(sp.attributes), { ...tagAttrs(r.tags, ['service.type']), 'service.type': { stringValue: r.type } });
                    const code = { unset: undefined, ok: 1, error: 2 }[r.status];
                    assert.deepEqual(sp.status, pruneEmpty({ ...(code ? { code } : {}), ...(r.error !== null ? { message: r.error } : {}) }));
                }
            }
            assert.equal(seen.size, SPANS.length);
        });
    }
    check('traces: one resource per service_name, service_name argument ignored', () => {
        const req = payload('traces', 'SELECT jsonb_agg(to_jsonb(s)) FROM obs.spans s', 'other');
        assert.deepEqual(req.resourceSpans.map(resourceName).sort(), ['api', 'etl']);
    });
    check('traces: no rows give an empty request', () => {
        assert.deepEqual(payload('traces', "SELECT '[]'::jsonb"), {});
    });
}

function checkLogs() {
    const stored = JSON.parse(psql(`SELECT json_agg(json_build_object('id', log_id, 'ts', ${usOf('ts')}, 'level', level, 'logger', logger,
        'message', message, 'context', context, 'tags', tags, 'trace', trace_id::text, 'span', span_id::text, 'error', error,
        'pid', backend_pid)) FROM obs.logs`));
    const RESERVED = ['logger', 'context', 'error', 'obs.log_id', 'obs.backend_pid'];
    const verifyRecords = (req, service) => {
        const seen = new Set();
        for (const rl of req.resourceLogs) {
            const svc = resourceName(rl);
            for (const lr of scopeOf(rl.scopeLogs).logRecords) {
                const id = Number(attrMap(lr.attributes)['obs.log_id'].intValue);
                const r = stored.find((x) => x.id === id);
                assert.ok(r && !seen.has(id), `log ${id} stored, seen once`);
                seen.add(id);
                assert.equal(svc, service ?? r.logger);
                assert.equal(lr.timeUnixNano, `${r.ts}000`);
                assert.equal(lr.observedTimeUnixNano, `${r.ts}000`);
                assert.equal(lr.severityNumber, LEVELS[r.level]);
                assert.equal(lr.severityText, r.level);
                assert.deepEqual(lr.body, { stringValue: r.message });
                assert.equal(lr.traceId, r.trace ?? undefined);
                assert.equal(lr.spanId, r.span ?? undefined);
                const want = { ...tagAttrs(r.tags, RESERVED), logger: { stringValue: r.logger } };
                if (r.context !== null) want.context = anyValue(r.context);
                if (r.error !== null) want.error = anyValue(r.error);
                want['obs.log_id'] = { intValue: String(r.id) };
                want['obs.backend_pid'] = { intValue: String(r.pid) };
                assert.deepEqual(attrMap(lr.attributes), want);
            }
        }
        assert.equal(seen.size, LOGS.length);
    };
    const rows = 'SELECT jsonb_agg(to_jsonb(l)) FROM obs.logs l';
    check('logs (service_name given): ids, times to the ns, severity, body, attributes as stored', () => {
        const req = payload('logs', rows, 'etl-service', "SET TimeZone = 'Asia/Kathmandu';");
        assert.equal(req.resourceLogs.length, 1);
        verifyRecords(req, 'etl-service');
    });
    check('logs (obs.service_name set): service.name from the setting', () => {
        const req = payload('logs', rows, null, "SET obs.service_name = 'from-setting';");
        assert.equal(req.resourceLogs.length, 1);
        verifyRecords(req, 'from-setting');
    });
    check('logs (no service name): one resource per logger', () => {
        const req = payload('logs', rows, null, "SET obs.service_name = '';");
        assert.deepEqual(req.resourceLogs.map(resourceName).sort(), ['etl.extract', 'etl.load']);
        verifyRecords(req, null);
    });
}

function checkMetrics() {
    const stored = JSON.parse(psql(`SELECT json_agg(json_build_object('name', name, 'kind', kind, 'tags', tags, 'ts', ${usOf('ts')},
        'value', value::text)) FROM obs.metrics`));
    check('metrics: gauges, counters as monotonic delta sums, points with ns times, exact doubles and tag attributes', () => {
        const req = payload('metrics', 'SELECT jsonb_agg(to_jsonb(m)) FROM obs.metrics m', 'metrics-svc');
        assert.equal(req.resourceMetrics.length, 1);
        assert.equal(resourceName(req.resourceMetrics[0]), 'metrics-svc');
        const metrics = scopeOf(req.resourceMetrics[0].scopeMetrics).metrics;
        const keys = metrics.map((m) => `${m.name}/${m.sum ? 'counter' : 'gauge'}`);
        assert.deepEqual([...keys].sort(), ['cpu/gauge', 'rows/counter', 'rows/gauge'], 'one metric per name and kind');
        let n = 0;
        for (const m of metrics) {
            const kind = m.sum ? 'counter' : 'gauge';
            assert.ok(!(m.sum && m.gauge), 'one data kind');
            if (m.sum) {
                assert.equal(m.sum.aggregationTemporality, 1, 'DELTA');
                assert.equal(m.sum.isMonotonic, true);
            }
            const points = (m.sum || m.gauge).dataPoints;
            const want = stored.filter((r) => r.name === m.name && r.kind === kind);
            assert.equal(points.length, want.length);
            for (const p of points) {
                const r = want.find((x) => `${x.ts}000` === p.timeUnixNano);
                assert.ok(r, `point at ${p.timeUnixNano} stored`);
                if (m.sum) assert.equal(p.startTimeUnixNano, p.timeUnixNano);
                else assert.equal(p.startTimeUnixNano, undefined);
                const v = Number(r.value);
                if (Number.isNaN(v)) assert.equal(p.asDouble, 'NaN');
                else assert.ok(Object.is(p.asDouble, v), `${p.asDouble} is ${r.value}`);
                assert.deepEqual(attrMap(p.attributes), tagAttrs(r.tags, []));
                n++;
            }
        }
        assert.equal(n, POINTS.length);
    });
    check('metrics: a NaN value is the string "NaN" in JSON and the NaN double in protobuf', () => {
        const json = psql(`SELECT convert_from(obs.otlp_payload('metrics', (SELECT jsonb_agg(to_jsonb(m)) FROM obs.metrics m WHERE series_id = 4)), 'UTF8')`);
        assert.match(json, /"asDouble":"NaN"/);
        const hex = psql(`SELECT encode(obs.otlp_payload('metrics', (SELECT jsonb_agg(to_jsonb(m)) FROM obs.metrics m WHERE series_id = 4), true), 'hex')`).trim();
        const msg = REQ.metrics.decode(Buffer.from(hex, 'hex'));
        assert.ok(Number.isNaN(msg.resourceMetrics[0].scopeMetrics[0].metrics[0].gauge.dataPoints[0].asDouble));
    });
}

// ---- CloudWatch ----
// (convert_to() checks that each body is valid UTF-8: psql's output would hide a broken character)
function cwBodies(rowsSql, group = 'grp', stream = 'str') {
    return lines(psql(`SELECT convert_from(convert_to(b, 'UTF8'), 'UTF8') FROM obs.cloudwatch_payloads((${rowsSql}), ${lit(group)}, ${lit(stream)}) b`))
        .map((l) => JSON.parse(l));
}
function cwValid(bodies) {
    for (const b of bodies) assert.deepEqual(checkPutLogEvents(b, { logGroupName: 'grp', logStreamName: 'str' }), []);
}
// rows of a scratch table shaped like obs.logs
function cwTable(valuesSql) {
    psql(`DROP TABLE IF EXISTS cw; CREATE TABLE cw (LIKE obs.logs INCLUDING DEFAULTS); INSERT INTO cw ${valuesSql}`);
    return 'SELECT jsonb_agg(to_jsonb(c) ORDER BY c.log_id) FROM cw c';
}
const T0TXT = "timestamptz '2026-11-30 00:00:00+00'";

function checkCloudWatch() {
    check('cloudwatch: each message is the log_json() line of its row, timestamp in ms, sorted', () => {
        const bodies = cwBodies('SELECT jsonb_agg(to_jsonb(l) ORDER BY l.log_id DESC) FROM obs.logs l');
        cwValid(bodies);
        assert.equal(bodies.length, 1);
        const lj = Object.fromEntries(lines(psql('SELECT log_id || \' \' || obs.log_json(l) FROM obs.logs l')).map((l) => [Number(l.split(' ')[0]), JSON.parse(l.slice(l.indexOf(' ') + 1))]));
        const evs = bodies[0].logEvents;
        assert.equal(evs.length, LOGS.length);
        const sorted = [...LOGS].sort((a, b) => (a.ts < b.ts ? -1 : 1));
        evs.forEach((ev, i) => {
            const m = JSON.parse(ev.message);
            assert.equal(m.log_id, sorted[i].id);
            assert.deepEqual(m, lj[m.log_id]);
            assert.equal(ev.timestamp, Number(sorted[i].ts / 1000n));
        });
    });
    check('cloudwatch: no rows give no body', () => assert.deepEqual(cwBodies("SELECT '[]'::jsonb"), []));
    // A log_json() line is 150 bytes or more, so 1 MiB holds fewer than
    // 10,000 events: the byte limit splits first.
    check('cloudwatch: 10,001 events give 2 bodies, the first filled to the byte limit, in order', () => {
        const rows = cwTable(`SELECT g, ${T0TXT} + g * interval '1 ms', 'INFO', 'lg', 'm' || g, NULL, NULL, NULL, NULL, NULL, 1 FROM generate_series(1, 10001) g`);
        const bodies = cwBodies(rows);
        cwValid(bodies);
        assert.equal(bodies.length, 2);
        const size0 = bodies[0].logEvents.reduce((s, e) => s + eventBytes(e), 0);
        assert.ok(size0 + eventBytes(bodies[1].logEvents[0]) > 1048576, 'the next event would not have fit');
        assert.ok(bodies[0].logEvents.length < 10000);
        const all = bodies.flatMap((b) => b.logEvents.map((e) => JSON.parse(e.message).log_id));
        assert.deepEqual(all, Array.from({ length: 10001 }, (_, i) => i + 1));
    });
    check('cloudwatch: 1,048,576 bytes (messages + 26 each) fit in one body, one byte more splits', () => {
        // the line length of a message of k bytes is L0 + k
        const one = cwBodies(cwTable(`VALUES (1, ${T0TXT}, 'INFO', 'lg', 'x', NULL, NULL, NULL, NULL, NULL, 1)`));
        const L0 = Buffer.byteLength(one[0].logEvents[0].message) - 1;
        const n = 5;
        const k = Math.floor((1048576 - n * (L0 + 26)) / n);
        const last = 1048576 - n * (L0 + 26) - (n - 1) * k;
        for (const extra of [0, 1]) {
            const rows = cwTable(`SELECT g, ${T0TXT} + g * interval '1 ms', 'INFO', 'lg', repeat('x', CASE WHEN g = ${n} THEN ${last + extra} ELSE ${k} END),
                                  NULL, NULL, NULL, NULL, NULL, 1 FROM generate_series(1, ${n}) g`);
            const bodies = cwBodies(rows);
            cwValid(bodies);
            const sizes = bodies.map((b) => b.logEvents.reduce((s, e) => s + eventBytes(e), 0));
            if (extra === 0) {
                assert.deepEqual(sizes, [1048576]);
            } else {
                assert.deepEqual(bodies.map((b) => b.logEvents.length), [n - 1, 1]);
                assert.equal(sizes[0] + sizes[1], 1048577);
            }
        }
    });
    check('cloudwatch: a body spans less than 24 hours (25 h apart: split; 24 h - 1 ms: one body; 24 h: split)', () => {
        const hours = (h) => `${T0TXT} + interval '${h}'`;
        const bodiesAt = (offsets) => cwBodies(cwTable(`VALUES ${offsets.map((o, i) => `(${i + 1}, ${hours(o)}, 'INFO', 'lg', 'm', NULL, NULL, NULL, NULL, NULL, 1)`).join(',')}`));
        let b = bodiesAt(['0 h', '12 h', '25 h']);
        cwValid(b);
        assert.deepEqual(b.map((x) => x.logEvents.length), [2, 1]);
        b = bodiesAt(['0 h', '23:59:59.999']);
        assert.deepEqual(b.map((x) => x.logEvents.length), [2]);
        assert.equal(b[0].logEvents[1].timestamp - b[0].logEvents[0].timestamp, MAX_SPAN_MS - 1);
        b = bodiesAt(['0 h', '24 h']);
        assert.deepEqual(b.map((x) => x.logEvents.length), [1, 1]);
    });
    check('cloudwatch: out-of-order rows are sent sorted by time, then log_id', () => {
        const rows = cwTable(`VALUES (1, ${T0TXT} + interval '3 s', 'INFO', 'lg', 'c', NULL, NULL, NULL, NULL, NULL, 1),
                                     (2, ${T0TXT} + interval '1 s', 'INFO', 'lg', 'a', NULL, NULL, NULL, NULL, NULL, 1),
                                     (4, ${T0TXT} + interval '2 s', 'INFO', 'lg', 'b2', NULL, NULL, NULL, NULL, NULL, 1),
                                     (3, ${T0TXT} + interval '2 s', 'INFO', 'lg', 'b1', NULL, NULL, NULL, NULL, NULL, 1)`);
        const b = cwBodies(rows.replace('ORDER BY c.log_id', 'ORDER BY c.log_id DESC'));
        cwValid(b);
        assert.deepEqual(b[0].logEvents.map((e) => JSON.parse(e.message).message), ['a', 'b1', 'b2', 'c']);
    });
    check('cloudwatch: an event over 256 KiB is cut at a UTF-8 boundary with the marker; 262,118 bytes are not cut', () => {
        const one = cwBodies(cwTable(`VALUES (1, ${T0TXT}, 'INFO', 'lg', 'x', NULL, NULL, NULL, NULL, NULL, 1)`));
        const L0 = Buffer.byteLength(one[0].logEvents[0].message) - 1;
        // exactly at the limit, and one byte over
        for (const extra of [0, 1]) {
            const b = cwBodies(cwTable(`VALUES (1, ${T0TXT}, 'INFO', 'lg', repeat('x', ${262118 - L0 + extra}), NULL, NULL, NULL, NULL, NULL, 1)`));
            cwValid(b);
            const msg = b[0].logEvents[0].message;
            if (extra === 0) {
                assert.equal(Buffer.byteLength(msg), 262118);
                assert.equal(JSON.parse(msg).message.length, 262118 - L0);
            } else {
                assert.ok(msg.endsWith('...[obs: cut from 262119 bytes]'), msg.slice(-60));
                assert.ok(Buffer.byteLength(msg) <= 262118);
            }
        }
        // three-byte characters, cut at each alignment
        for (const pad of [0, 1, 2]) {
            const b = cwBodies(cwTable(`VALUES (1, ${T0TXT}, 'INFO', 'lg', repeat('a', ${pad}) || repeat('\u20ac', 100000), NULL, NULL, NULL, NULL, NULL, 1)`));
            cwValid(b);
            const msg = b[0].logEvents[0].message;
            const full = L0 + pad + 300000;
            const marker = `...[obs: cut from ${full} bytes]`;
            assert.ok(msg.endsWith(marker), msg.slice(-60));
            assert.ok(!msg.includes('\ufffd'), 'no broken character');
            const bytes = Buffer.byteLength(msg);
            assert.ok(bytes <= 262118 && bytes > 262118 - 3, `${bytes} bytes`);
            const kept = msg.slice(0, -marker.length);
            assert.ok(kept.startsWith(`{"timestamp":"2026-11-30T00:00:00.000000Z","level":"INFO","logger":"lg","message":"${'a'.repeat(pad)}\u20ac`));
            assert.ok(/^(\u20ac)*$/.test(kept.slice(kept.indexOf('\u20ac'))), 'the kept part is a prefix of the line');
        }
    });
}

// ---- the receiver, with requests signed by curl ----
function startReceiver(env) {
    return new Promise((resolve, reject) => {
        const child = spawn(process.execPath, [path.join(path.dirname(new URL(import.meta.url).pathname), 'cloudwatch-receiver.mjs')],
            { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'inherit'] });
        let buf = '';
        const timer = setTimeout(() => reject(new Error('receiver did not print its port')), 10000);
        child.stdout.on('data', (d) => {
            buf += d;
            const m = /^(\d+)\n/.exec(buf);
            if (m) { clearTimeout(timer); resolve({ child, port: Number(m[1]) }); }
        });
        child.on('exit', (code) => reject(new Error(`receiver exited ${code}`)));
    });
}
function curlPut(port, body, { key = 'AKIDOBSTEST', secret, token = null, target = 'Logs_20140328.PutLogEvents' }) {
    const file = path.join(os.tmpdir(), `obs-cw-body-${process.pid}.json`);
    fs.writeFileSync(file, body);
    const args = ['-sS', '-o', '-', '-w', '\n%{http_code}', '--aws-sigv4', 'aws:amz:us-east-1:logs', '--user', `${key}:${secret}`,
        '-H', `X-Amz-Target: ${target}`, '-H', 'Content-Type: application/x-amz-json-1.1', '--data-binary', `@${file}`];
    if (token) args.push('-H', `X-Amz-Security-Token: ${token}`);
    args.push(`http://127.0.0.1:${port}/`);
    const out = execFileSync('curl', args, { encoding: 'utf8', maxBuffer: 1 << 28 });
    fs.unlinkSync(file);
    const i = out.lastIndexOf('\n');
    return { status: Number(out.slice(i + 1)), body: out.slice(0, i) };
}
async function get(port, p) {
    const r = await fetch(`http://127.0.0.1:${port}${p}`);
    return r.json();
}

async function checkReceiver() {
    const SECRET = 'obsTestSecretKey/0123456789abcdefEXAMPLE';
    let rx;
    await checkAsync('receiver: listens on 127.0.0.1 and prints its port', async () => {
        rx = await startReceiver({ CW_KEY_ID: 'AKIDOBSTEST', CW_SECRET: SECRET, CW_REGION: 'us-east-1' });
        assert.ok(rx.port > 0);
    });
    if (!rx) return;
    try {
        const bodies = cwBodies(cwTable(`SELECT g, ${T0TXT} + g * interval '1 ms', 'INFO', 'lg', 'm' || g, NULL, NULL, NULL, NULL, NULL, 1 FROM generate_series(1, 10001) g`));
        await checkAsync('receiver: accepts obs.cloudwatch_payloads() bodies signed by curl --aws-sigv4 and records every event in order', async () => {
            for (const b of bodies) {
                const r = curlPut(rx.port, JSON.stringify(b), { secret: SECRET });
                assert.equal(r.status, 200, r.body);
            }
            const evs = await get(rx.port, '/_events');
            assert.deepEqual(evs.map((e) => JSON.parse(e.message).log_id), Array.from({ length: 10001 }, (_, i) => i + 1));
        });
        await checkAsync('receiver: a request signed with a wrong secret is rejected (403 InvalidSignatureException)', async () => {
            const r = curlPut(rx.port, JSON.stringify(bodies[1]), { secret: `${SECRET}x` });
            assert.equal(r.status, 403);
            assert.equal(JSON.parse(r.body).__type, 'InvalidSignatureException');
            assert.equal((await get(rx.port, '/_events')).length, 10001, 'nothing recorded');
        });
        await checkAsync('receiver: a wrong X-Amz-Target and a body over the limits are refused', async () => {
            let r = curlPut(rx.port, JSON.stringify(bodies[1]), { secret: SECRET, target: 'Logs_20140328.CreateLogStream' });
            assert.equal(r.status, 400);
            const twoDays = { ...bodies[1], logEvents: [{ timestamp: 0, message: 'a' }, { timestamp: MAX_SPAN_MS + 1, message: 'b' }] };
            r = curlPut(rx.port, JSON.stringify(twoDays), { secret: SECRET });
            assert.equal(r.status, 400);
            assert.match(r.body, /more than 24 hours/);
            const unsorted = { ...bodies[1], logEvents: [{ timestamp: 5, message: 'a' }, { timestamp: 4, message: 'b' }] };
            r = curlPut(rx.port, JSON.stringify(unsorted), { secret: SECRET });
            assert.equal(r.status, 400);
        });
    } finally {
        rx.child.kill('SIGTERM');
    }
    let rt;
    await checkAsync('receiver with a session token: signed X-Amz-Security-Token accepted, missing token rejected', async () => {
        rt = await startReceiver({ CW_KEY_ID: 'AKIDOBSTEST', CW_SECRET: SECRET, CW_SESSION_TOKEN: 'session/token+123', CW_REGION: 'us-east-1' });
        const body = JSON.stringify({ logGroupName: 'grp', logStreamName: 'str', logEvents: [{ timestamp: 1, message: 'x' }] });
        let r = curlPut(rt.port, body, { secret: SECRET, token: 'session/token+123' });
        assert.equal(r.status, 200, r.body);
        r = curlPut(rt.port, body, { secret: SECRET });
        assert.equal(r.status, 403);
        r = curlPut(rt.port, body, { secret: SECRET, token: 'other' });
        assert.equal(r.status, 403);
    });
    if (rt) rt.child.kill('SIGTERM');
}

try {
    setup();
    console.log('ok - a throwaway database with spans, logs and metric points of known values');
    passed++;
} catch (e) {
    console.log('not ok - a throwaway database with spans, logs and metric points of known values');
    console.log(`# ${e.message}`);
    console.log(`${passed} passed, ${failed + 1} failed`);
    process.exit(1);
}
checkTraces();
checkLogs();
checkMetrics();
checkCloudWatch();
await checkReceiver();
try { psql(`DROP DATABASE IF EXISTS ${DB}`, 'postgres'); } catch { /* leave it */ }
console.log(`${passed} passed, ${failed} failed`);
process.exit(failed ? 1 : 0);
