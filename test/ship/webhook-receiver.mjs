// test/ship/webhook-receiver.mjs: an alert webhook receiver for the
// shipping tests, bound to 127.0.0.1.
//
// Checks every request: POST, Content-Type application/json, a body that
// is one JSON object: a row of obs.alerts (alert_id, metric_name, value,
// threshold, comparison, severity, observed_at) or, for Slack, exactly
// {"text": "<non-empty string>"}.  Logs each accepted one as a JSON line
// {alert_id | text, auth}; violations as {violation}.  Control as in
// es-receiver.mjs: POST /_control {"mode": "status", "status": 500,
// "retry_after": 1, "count": N}.
//
// Usage: node webhook-receiver.mjs <port> <logfile>
import http from 'node:http';
import fs from 'node:fs';

const port = Number(process.argv[2]);
const out = fs.openSync(process.argv[3], 'a');
const log = (o) => fs.writeSync(out, JSON.stringify(o) + '\n');
let ctl = { mode: 'ok', count: 0 };

const server = http.createServer((req, res) => {
    const chunks = [];
    req.on('data', (c) => chunks.push(c));
    req.on('end', () => {
        const text = Buffer.concat(chunks).toString('utf8');
        if (req.url === '/_control') {
            ctl = { count: 1, ...JSON.parse(text) };
            res.writeHead(200);
            return res.end('{}');
        }
        const bad = (why) => { log({ violation: why }); res.writeHead(400); res.end(why); };
        if (req.method !== 'POST') return bad(`method ${req.method}`);
        if (!(req.headers['content-type'] || '').startsWith('application/json'))
            return bad(`content-type ${req.headers['content-type']}`);
        let b;
        try { b = JSON.parse(text); } catch (e) { return bad('body is not JSON'); }
        if (typeof b !== 'object' || b === null || Array.isArray(b)) return bad('body is not an object');
        const slack = req.url.startsWith('/slack');
        if (slack) {
            if (Object.keys(b).length !== 1 || typeof b.text !== 'string' || b.text === '')
                return bad('not a Slack {"text": ...} body');
        } else {
            for (const k of ['alert_id', 'metric_name', 'value', 'threshold', 'comparison', 'severity', 'observed_at'])
                if (!(k in b)) return bad(`alert without ${k}`);
        }
        if (ctl.mode === 'status' && ctl.count > 0) {
            ctl.count--;
            const h = {};
            if (ctl.retry_after) h['retry-after'] = String(ctl.retry_after);
            log({ refused: ctl.status, alert_id: b.alert_id ?? null });
            res.writeHead(ctl.status, h);
            return res.end('{"error":"test"}');
        }
        log(slack ? { text: b.text, auth: req.headers.authorization || null }
                  : { alert_id: b.alert_id, auth: req.headers.authorization || null });
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end('{"ok":true}');
    });
});
server.listen(port, '127.0.0.1', () => log({ listening: port }));
setTimeout(() => process.exit(0), Number(process.env.RECEIVER_LIFETIME_MS || 600000)).unref();
