// bench/ship-counter.mjs: a receiver that only counts Elasticsearch _bulk
// documents (NDJSON lines / 2) and answers {"errors": false} at once.
// GET /count answers the count.  Usage: node ship-counter.mjs <port>
import http from 'node:http';
let docs = 0;
http.createServer((req, res) => {
    if (req.method === 'GET') { res.end(String(docs)); return; }
    let lines = 0;
    req.on('data', (c) => { for (const b of c) if (b === 10) lines++; });
    req.on('end', () => {
        docs += lines / 2;
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end('{"took":0,"errors":false,"items":[]}');
    });
}).listen(Number(process.argv[2]), '127.0.0.1');
setTimeout(() => process.exit(0), 1800000).unref();
