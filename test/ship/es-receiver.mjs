// test/ship/es-receiver.mjs: an Elasticsearch-like _bulk receiver for the
// shipping tests, bound to 127.0.0.1.
//
// It checks every request as Elasticsearch would (POST /_bulk,
// Content-Type application/x-ndjson or the official client's
// application/vnd.elasticsearch+x-ndjson, gzip when Content-Encoding says
// so, NDJSON ending with a newline, action lines {"index":{"_index","_id"}}
// each followed by a JSON document) and answers like Elasticsearch:
// {took, errors, items:[{index:{_index,_id,status,result|error}}]}, with
// the x-elastic-product header the official client requires.  Every line
// is parsed by the Serializer of the official client (@elastic/elasticsearch,
// installed by npm ci in test/ship), and the answers have the shape its
// bulk helper reads: es-client-check.mjs runs helpers.bulk() and bulk()
// of that client against this receiver (test/suites/ship_encode.sh).
// A request that breaks the protocol is answered 400 and counted as a
// violation.  Every accepted document is appended to the log file as one
// JSON line {index, id, doc, auth, attempt}; violations as
// {violation: "..."}.
//
// Control: POST /_control with a JSON body sets the behaviour of the next
// requests: {"mode": "ok"|"status"|"partial"|"slow"|"hang", "status": 500,
// "retry_after": 2, "count": N, "fail_ids": [...], "fail_status": 400,
// "delay_ms": 3000}.  "count" requests get the mode, then it returns to ok.
// GET /_stats answers {requests, docs, violations}.
//
// Usage: node es-receiver.mjs <port> <logfile>
import http from 'node:http';
import fs from 'node:fs';
import zlib from 'node:zlib';
import { Serializer, errors } from '@elastic/elasticsearch';

const port = Number(process.argv[2]);
const logfile = process.argv[3];
const out = fs.openSync(logfile, 'a');
let ctl = { mode: 'ok', count: 0 };
const stats = { requests: 0, docs: 0, violations: 0 };
const log = (o) => fs.writeSync(out, JSON.stringify(o) + '\n');
const serializer = new Serializer();
const product = { 'x-elastic-product': 'Elasticsearch' };

function violation(res, why) {
    stats.violations++;
    log({ violation: why });
    res.writeHead(400, { 'content-type': 'application/json', ...product });
    res.end(serializer.serialize({ error: { type: 'parse_exception', reason: why }, status: 400 }));
}

function nextMode() {
    const m = ctl;
    if (m.mode !== 'ok' && m.count > 0) {
        m.count--;
        if (m.count === 0) ctl = { mode: 'ok', count: 0 };
    }
    return m;
}

const server = http.createServer((req, res) => {
    const chunks = [];
    req.on('data', (c) => chunks.push(c));
    req.on('end', () => {
        let body = Buffer.concat(chunks);
        if (req.url === '/_control' && req.method === 'POST') {
            ctl = { count: 1, ...JSON.parse(body.toString()) };
            res.writeHead(200);
            return res.end('{}');
        }
        if (req.url === '/_stats') {
            res.writeHead(200, { 'content-type': 'application/json' });
            return res.end(JSON.stringify(stats));
        }
        stats.requests++;
        if (req.method !== 'POST' || !req.url.startsWith('/_bulk'))
            return violation(res, `unexpected ${req.method} ${req.url}`);
        if (!/^application\/(x-ndjson|vnd\.elasticsearch\+x-ndjson)\b/.test(req.headers['content-type'] || ''))
            return violation(res, `content-type ${req.headers['content-type']}`);
        if (req.headers['content-encoding'] === 'gzip') {
            try { body = zlib.gunzipSync(body); } catch (e) { return violation(res, 'bad gzip body'); }
        } else if (req.headers['content-encoding'])
            return violation(res, `content-encoding ${req.headers['content-encoding']}`);
        const text = body.toString('utf8');
        if (!text.endsWith('\n')) return violation(res, 'bulk body without the final newline');
        const lines = text.slice(0, -1).split('\n');
        if (lines.length % 2 !== 0) return violation(res, 'odd number of NDJSON lines');
        const actions = [];
        for (let i = 0; i < lines.length; i += 2) {
            let a, d;
            try { a = serializer.deserialize(lines[i]); d = serializer.deserialize(lines[i + 1]); } catch (e) {
                if (!(e instanceof errors.DeserializationError)) throw e;
                return violation(res, `line ${i + 1} or ${i + 2} is not JSON`);
            }
            if (typeof a !== 'object' || a === null || Array.isArray(a))
                return violation(res, `bad action line ${lines[i]}`);
            const keys = Object.keys(a);
            if (keys.length !== 1 || keys[0] !== 'index' || typeof a.index !== 'object' || a.index === null ||
                typeof a.index._index !== 'string' ||
                typeof a.index._id !== 'string' || a.index._id === '')
                return violation(res, `bad action line ${lines[i]}`);
            if (typeof d !== 'object' || d === null || Array.isArray(d))
                return violation(res, `document of ${a.index._id} is not an object`);
            actions.push({ index: a.index._index, id: a.index._id, doc: d });
        }
        const m = nextMode();
        const answer = () => {
            if (m.mode === 'status') {
                const h = { 'content-type': 'application/json', ...product };
                if (m.retry_after) h['retry-after'] = String(m.retry_after);
                log({ refused: m.status, ids: actions.map((x) => x.id) });
                res.writeHead(m.status, h);
                return res.end(serializer.serialize({ error: { type: 'test', reason: `status ${m.status}` }, status: m.status }));
            }
            let errors = false;
            const items = actions.map((x) => {
                if (m.mode === 'partial' && (m.fail_ids || []).includes(x.id)) {
                    errors = true;
                    const st = m.fail_status || 400;
                    log({ item_refused: st, id: x.id });
                    return { index: { _index: x.index, _id: x.id, status: st,
                        error: { type: st === 429 ? 'es_rejected_execution_exception' : 'mapper_parsing_exception',
                                 reason: `refused ${x.id}` } } };
                }
                stats.docs++;
                log({ index: x.index, id: x.id, doc: x.doc, auth: req.headers.authorization || null });
                return { index: { _index: x.index, _id: x.id, _version: 1, result: 'created', status: 201 } };
            });
            res.writeHead(200, { 'content-type': 'application/json', ...product });
            res.end(serializer.serialize({ took: 1, errors, items }));
        };
        if (m.mode === 'slow') {
            log({ delaying: actions.map((x) => x.id) });
            setTimeout(answer, m.delay_ms || 3000);
        }
        else if (m.mode === 'hang') { /* never answer: the client's timeout must fire */ }
        else answer();
    });
});
server.listen(port, '127.0.0.1', () => {
    log({ listening: port });
});
// every test server has a bounded life
setTimeout(() => process.exit(0), Number(process.env.RECEIVER_LIFETIME_MS || 600000)).unref();
