// cloudwatch-limits.mjs: the PutLogEvents rules a request body must keep,
// as the CloudWatch Logs API reference states them.  Shared by the test
// receiver and the encoder suite.  Returns a list of violations (empty: ok).
export const MAX_EVENTS = 10000;
export const MAX_BATCH_BYTES = 1048576;
export const EVENT_OVERHEAD = 26;
export const MAX_EVENT_BYTES = 262144;          // message bytes + 26
export const MAX_SPAN_MS = 24 * 3600 * 1000;

export function eventBytes(ev) {
    return Buffer.byteLength(ev.message, 'utf8') + EVENT_OVERHEAD;
}

export function checkPutLogEvents(body, { logGroupName, logStreamName } = {}) {
    const errors = [];
    if (typeof body !== 'object' || body === null || Array.isArray(body)) return ['body is not a JSON object'];
    if (typeof body.logGroupName !== 'string' || !/^[.\-_/#A-Za-z0-9]{1,512}$/.test(body.logGroupName))
        errors.push(`bad logGroupName ${JSON.stringify(body.logGroupName)}`);
    if (typeof body.logStreamName !== 'string' || !/^[^:*]{1,512}$/.test(body.logStreamName))
        errors.push(`bad logStreamName ${JSON.stringify(body.logStreamName)}`);
    if (logGroupName !== undefined && body.logGroupName !== logGroupName) errors.push(`logGroupName ${body.logGroupName} != ${logGroupName}`);
    if (logStreamName !== undefined && body.logStreamName !== logStreamName) errors.push(`logStreamName ${body.logStreamName} != ${logStreamName}`);
    const evs = body.logEvents;
    if (!Array.isArray(evs) || evs.length === 0) return [...errors, 'logEvents is not a non-empty array'];
    if (evs.length > MAX_EVENTS) errors.push(`${evs.length} events, more than ${MAX_EVENTS}`);
    let bytes = 0;
    evs.forEach((ev, i) => {
        const keys = Object.keys(ev).sort().join(',');
        if (keys !== 'message,timestamp') errors.push(`event ${i} has keys ${keys}`);
        if (!Number.isSafeInteger(ev.timestamp) || ev.timestamp < 0) errors.push(`event ${i}: timestamp ${ev.timestamp} is not a millisecond count`);
        if (typeof ev.message !== 'string' || ev.message.length === 0) { errors.push(`event ${i}: empty or non-string message`); return; }
        const size = eventBytes(ev);
        if (size > MAX_EVENT_BYTES) errors.push(`event ${i} is ${size} bytes, more than ${MAX_EVENT_BYTES}`);
        bytes += size;
        if (i > 0 && ev.timestamp < evs[i - 1].timestamp) errors.push(`event ${i} is older than event ${i - 1}`);
    });
    if (bytes > MAX_BATCH_BYTES) errors.push(`batch is ${bytes} bytes, more than ${MAX_BATCH_BYTES}`);
    const span = evs[evs.length - 1].timestamp - evs[0].timestamp;
    if (span > MAX_SPAN_MS) errors.push(`batch spans ${span} ms, more than 24 hours`);
    return errors;
}
