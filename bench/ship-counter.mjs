// bench/ship-counter.mjs: a receiver that only counts.  Elasticsearch
// _bulk: documents (NDJSON lines / 2), answered {"errors": false} at once.
// OTLP/HTTP (/v1/traces, /v1/logs, /v1/metrics): requests and bytes,
// answered with an empty export response in the request's encoding.
// GET /count answers the _bulk document count; GET /stats all counters
// as JSON.  Usage: node ship-counter.mjs <port>
import http from 'node:http';
const stats = { docs: 0, bulk_requests: 0, otlp_requests: 0, otlp_bytes: 0 };
http.createServer((req, res) => {
    if (req.method === 'GET') {
        res.end(req.url === '/stats' ? JSON.stringify(stats) : String(stats.docs));
        return;
    }
    const otlp = req.url.startsWith('/v1/');
    let lines = 0;
    let bytes = 0;
    req.on('data', (c) => {
        bytes += c.length;
        if (!otlp) for (let i = c.indexOf(10); i >= 0; i = c.indexOf(10, i + 1)) lines++;
    });
    req.on('end', () => {
        if (otlp) {
            stats.otlp_requests++;
            stats.otlp_bytes += bytes;
            const pb = (req.headers['content-type'] || '').includes('protobuf');
            res.writeHead(200, { 'content-type': pb ? 'application/x-protobuf' : 'application/json' });
            res.end(pb ? '' : '{}');
            return;
        }
        stats.bulk_requests++;
        stats.docs += lines / 2;
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end('{"took":0,"errors":false,"items":[]}');
    });
}).listen(Number(process.argv[2]), '127.0.0.1');
setTimeout(() => process.exit(0), 1800000).unref();
