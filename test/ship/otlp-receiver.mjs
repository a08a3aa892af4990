// otlp-receiver.mjs: an OTLP/HTTP collector for tests and the demo, on
// 127.0.0.1 and the port given as the first argument (0 or none: an
// ephemeral one); the port is printed alone on the first line of stdout.
//
// It takes POST /v1/traces, /v1/logs and /v1/metrics, in JSON
// (application/json) or protobuf (application/x-protobuf), gzip'd when
// Content-Encoding says so, and decodes every body with the protobuf
// definitions generated from opentelemetry-proto that
// @opentelemetry/otlp-transformer ships (as verify.mjs does):
// ExportXServiceRequest.decode() for protobuf; for JSON the OTLP/HTTP JSON
// rules are checked (lowerCamelCase fields, hex ids, 64-bit integers as
// decimal strings, integer enums), then fromObject() and verify() of the
// same message.  A body that breaks a rule is answered 400 and counted as
// rejected, with the reason in /_requests.
//
// What arrives is recorded: spans {traceId, spanId, parentSpanId, name,
// service, status}, log records {logId (attribute obs.log_id), body,
// severityNumber, traceId, spanId, service}, metric points {name, kind
// (gauge|sum), value, timeUnixNano, attributes}.
//
// Control endpoints (paths starting with /_):
//   GET /_received  {"spans": [...], "logs": [...], "points": [...]}
//   GET /_requests  {"accepted", "rejected", "gzip", "json", "protobuf",
//                    "failed", "errors": [...]}
//   POST /_fail     {"status": 503, "count": 1, "retryAfter": "1"}: answer
//                   the next count export requests with that status
//   POST /_reset    forget everything
import http from 'node:http';
import zlib from 'node:zlib';
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);
const root = require('@opentelemetry/otlp-transformer/build/src/generated/root');
const P = root.opentelemetry.proto;
const REQ = {
    '/v1/traces': P.collector.trace.v1.ExportTraceServiceRequest,
    '/v1/logs': P.collector.logs.v1.ExportLogsServiceRequest,
    '/v1/metrics': P.collector.metrics.v1.ExportMetricsServiceRequest,
};
const OPTS = { longs: String, enums: Number, bytes: String, json: true };
const ID_FIELDS = new Set(['traceId', 'spanId', 'parentSpanId']);
const LONG_FIELDS = new Set(['timeUnixNano', 'observedTimeUnixNano', 'startTimeUnixNano', 'endTimeUnixNano', 'intValue', 'asInt']);
const ENUM_FIELDS = new Set(['kind', 'code', 'severityNumber', 'aggregationTemporality']);

let received = { spans: [], logs: [], points: [] };
let counts = { accepted: 0, rejected: 0, gzip: 0, json: 0, protobuf: 0, failed: 0 };
let errors = [];
let fail = null;

// the OTLP/HTTP JSON rules; a copy with ids as bytes for fromObject()
function checkJson(v, where = '$') {
    if (Array.isArray(v)) return v.map((x, i) => checkJson(x, `${where}[${i}]`));
    if (v === null || typeof v !== 'object') return v;
    const out = {};
    for (const [k, x] of Object.entries(v)) {
        if (!/^[a-z][A-Za-z]*$/.test(k)) throw new Error(`${where}.${k}: not a lowerCamelCase field name`);
        if (ID_FIELDS.has(k)) {
            const len = k === 'traceId' ? 32 : 16;
            if (typeof x !== 'string' || !new RegExp(`^([0-9a-f]{${len}})?$`).test(x))
                throw new Error(`${where}.${k}: ${JSON.stringify(x)} is not ${len} lowercase hex digits`);
            out[k] = Buffer.from(x, 'hex');
        } else if (LONG_FIELDS.has(k)) {
            if (typeof x !== 'string' || !/^-?[0-9]+$/.test(x)) throw new Error(`${where}.${k}: ${JSON.stringify(x)} is not a decimal string`);
            out[k] = x;
        } else if (ENUM_FIELDS.has(k)) {
            if (!Number.isInteger(x)) throw new Error(`${where}.${k}: ${JSON.stringify(x)} is not an integer enum`);
            out[k] = x;
        } else out[k] = checkJson(x, `${where}.${k}`);
    }
    return out;
}

const hex = (b64) => (b64 ? Buffer.from(b64, 'base64').toString('hex') : '');
function anyValue(v) {
    if (!v) return null;
    if ('stringValue' in v) return v.stringValue;
    if ('intValue' in v) return Number(v.intValue);
    if ('doubleValue' in v) return v.doubleValue;
    if ('boolValue' in v) return v.boolValue;
    if ('arrayValue' in v) return (v.arrayValue.values || []).map(anyValue);
    if ('kvlistValue' in v) return attrs(v.kvlistValue.values);
    return null;
}
function attrs(list) {
    const o = {};
    for (const kv of list || []) o[kv.key] = anyValue(kv.value);
    return o;
}

function record(path, obj) {
    if (path === '/v1/traces') {
        for (const rs of obj.resourceSpans || []) {
            const service = attrs(rs.resource && rs.resource.attributes)['service.name'];
            for (const ss of rs.scopeSpans || [])
                for (const s of ss.spans || [])
                    received.spans.push({ traceId: hex(s.traceId), spanId: hex(s.spanId), parentSpanId: hex(s.parentSpanId),
                                          name: s.name, service, status: (s.status && s.status.code) || 0,
                                          startTimeUnixNano: s.startTimeUnixNano, endTimeUnixNano: s.endTimeUnixNano });
        }
    } else if (path === '/v1/logs') {
        for (const rl of obj.resourceLogs || []) {
            const service = attrs(rl.resource && rl.resource.attributes)['service.name'];
            for (const sl of rl.scopeLogs || [])
                for (const l of sl.logRecords || []) {
                    const a = attrs(l.attributes);
                    received.logs.push({ logId: a['obs.log_id'], body: anyValue(l.body), severityNumber: l.severityNumber || 0,
                                         traceId: hex(l.traceId), spanId: hex(l.spanId), service, timeUnixNano: l.timeUnixNano });
                }
        }
    } else {
        for (const rm of obj.resourceMetrics || [])
            for (const sm of rm.scopeMetrics || [])
                for (const m of sm.metrics || []) {
                    const kind = m.gauge ? 'gauge' : m.sum ? 'sum' : 'other';
                    for (const p of (m.gauge || m.sum || {}).dataPoints || [])
                        received.points.push({ name: m.name, kind, value: 'asDouble' in p ? p.asDouble : Number(p.asInt),
                                               timeUnixNano: p.timeUnixNano, attributes: attrs(p.attributes) });
                }
    }
}

function answer(res, status, body, type = 'application/json', headers = {}) {
    const buf = Buffer.isBuffer(body) ? body : Buffer.from(JSON.stringify(body));
    res.writeHead(status, { 'Content-Type': type, 'Content-Length': buf.length, ...headers });
    res.end(buf);
}
function reject(res, why) {
    counts.rejected++;
    errors.push(why);
    answer(res, 400, { code: 3, message: why });
}

function exportRequest(req, res, raw) {
    const Req = REQ[req.url];
    if (!Req) return reject(res, `no such OTLP path ${req.url}`);
    let body = raw;
    const enc = (req.headers['content-encoding'] || '').trim();
    if (enc === 'gzip') {
        try {
            body = zlib.gunzipSync(raw);
        } catch (e) {
            return reject(res, `body is not gzip: ${e.message}`);
        }
        counts.gzip++;
    } else if (enc !== '' && enc !== 'identity') return reject(res, `Content-Encoding ${enc}`);
    const type = (req.headers['content-type'] || '').split(';')[0].trim();
    let msg;
    try {
        if (type === 'application/x-protobuf') msg = Req.decode(body);
        else if (type === 'application/json') msg = Req.fromObject(checkJson(JSON.parse(body.toString('utf8'))));
        else return reject(res, `Content-Type ${type}`);
    } catch (e) {
        return reject(res, `${type} body does not decode: ${e.message}`);
    }
    const bad = Req.verify(msg);
    if (bad) return reject(res, `not a valid ${Req.name}: ${bad}`);
    if (fail && fail.count > 0) {
        fail.count--;
        counts.failed++;
        const headers = fail.retryAfter !== undefined ? { 'Retry-After': String(fail.retryAfter) } : {};
        return answer(res, fail.status, { code: 14, message: 'failing on request' }, 'application/json', headers);
    }
    counts.accepted++;
    counts[type === 'application/json' ? 'json' : 'protobuf']++;
    record(req.url, Req.toObject(msg, OPTS));
    // an empty Export*ServiceResponse: full success
    if (type === 'application/x-protobuf') return answer(res, 200, Buffer.alloc(0), 'application/x-protobuf');
    return answer(res, 200, {});
}

const server = http.createServer((req, res) => {
    const chunks = [];
    req.on('data', (c) => chunks.push(c));
    req.on('end', () => {
        const raw = Buffer.concat(chunks);
        try {
            if (req.url.startsWith('/_')) {
                if (req.method === 'GET' && req.url === '/_received') return answer(res, 200, received);
                if (req.method === 'GET' && req.url === '/_requests') return answer(res, 200, { ...counts, errors });
                if (req.method === 'POST' && req.url === '/_fail') { fail = JSON.parse(raw.toString() || '{}'); return answer(res, 200, {}); }
                if (req.method === 'POST' && req.url === '/_reset') {
                    received = { spans: [], logs: [], points: [] };
                    counts = { accepted: 0, rejected: 0, gzip: 0, json: 0, protobuf: 0, failed: 0 };
                    errors = [];
                    fail = null;
                    return answer(res, 200, {});
                }
                return answer(res, 404, { message: 'no such control endpoint' });
            }
            if (req.method !== 'POST') return reject(res, `method ${req.method}`);
            exportRequest(req, res, raw);
        } catch (e) {
            answer(res, 500, { code: 13, message: e.message });
        }
    });
});

server.listen(Number(process.argv[2] || 0), '127.0.0.1', () => {
    process.stdout.write(`${server.address().port}\n`);
});
for (const sig of ['SIGTERM', 'SIGINT']) process.on(sig, () => server.close(() => process.exit(0)));
