#!/usr/bin/env node
// Test-only OpenTelemetry client: builds spans with the real OpenTelemetry JS SDK and exports
// them over OTLP/gRPC (plaintext, uncompressed) to the controller's trace receiver, or with
// --zipkin URL through the SDK's Zipkin exporter (JSON v2, POST URL) to a Zipkin collector.
//
//   node send_spans.js --endpoint 127.0.0.1:4317 --service checkout --count 100 \
//       [--span NAME] [--error-every K | --error-fraction F] [--latency-ms MS] \
//       [--http-status-500-every K] [--rate PER_SECOND] [--timeout-ms MS]
//
// Every span lasts exactly --latency-ms (explicit start and end times). Which spans are errors is
// deterministic: with --error-every K the K-th, 2K-th, ... spans get status ERROR; with
// --error-fraction F span i (1-based) does when floor(i*F) steps up, so floor(N*F) spans spread
// evenly. --http-status-500-every K sets http.response.status_code (and the older
// http.status_code) to 500 on every K-th span and 200 on the others.
//
// Prints `sent=N errors=E` to stdout: N spans the receiver accepted, E of the spans made that
// have status ERROR or status code 500 (what the receiver counts as errors). Exits 0 when all
// --count spans were exported; 1 when an export failed (it stops at the first failed batch) or
// the receiver rejected spans (partial_success), with the reason on stderr; 2 on bad arguments.
// The exporter's timeout (--timeout-ms, default 3000) bounds each export call.
'use strict';

const { parseArgs } = require('node:util');
const { diag, DiagLogLevel, SpanKind, SpanStatusCode } = require('@opentelemetry/api');
const { ExportResultCode, setGlobalErrorHandler } = require('@opentelemetry/core');
const {
  AlwaysOnSampler,
  BasicTracerProvider,
  BatchSpanProcessor,
} = require('@opentelemetry/sdk-trace-base');
const { OTLPTraceExporter } = require('@opentelemetry/exporter-trace-otlp-grpc');
const { ZipkinExporter } = require('@opentelemetry/exporter-zipkin');
const { defaultResource, resourceFromAttributes } = require('@opentelemetry/resources');
const { ATTR_SERVICE_NAME, ATTR_HTTP_RESPONSE_STATUS_CODE } = require('@opentelemetry/semantic-conventions');

const ATTR_HTTP_STATUS_CODE_OLD = 'http.status_code';
const PROG = 'send_spans';
const BATCH_SIZE = 512;

const USAGE = `usage: node send_spans.js (--endpoint HOST:PORT | --zipkin URL) --service NAME --count N
         [--span NAME] [--error-every K | --error-fraction F] [--latency-ms MS]
         [--http-status-500-every K] [--rate PER_SECOND] [--timeout-ms MS]`;

function usageError(msg) {
  process.stderr.write(`${PROG}: ${msg}\n${USAGE}\n`);
  process.exit(2);
}

function parseNumber(name, raw, { integer = false, min = 0, minExclusive = false, max } = {}) {
  if (raw === undefined) return undefined;
  const v = Number(raw);
  if (raw.trim() === '' || !Number.isFinite(v) || (integer && !Number.isInteger(v)) ||
      (minExclusive ? v <= min : v < min) || (max !== undefined && v > max)) {
    usageError(`--${name}: bad value '${raw}'`);
  }
  return v;
}

function parseOptions() {
  let values;
  try {
    ({ values } = parseArgs({
      options: {
        endpoint: { type: 'string' },
        zipkin: { type: 'string' },
        service: { type: 'string' },
        span: { type: 'string', default: 'GET /' },
        count: { type: 'string' },
        'error-every': { type: 'string' },
        'error-fraction': { type: 'string' },
        'latency-ms': { type: 'string', default: '10' },
        'http-status-500-every': { type: 'string' },
        rate: { type: 'string' },
        'timeout-ms': { type: 'string', default: '3000' },
        help: { type: 'boolean', short: 'h' },
      },
      strict: true,
      allowPositionals: false,
    }));
  } catch (e) {
    usageError(e.message);
  }
  if (values.help) {
    process.stdout.write(`${USAGE}\n`);
    process.exit(0);
  }
  if (!values.endpoint === !values.zipkin) usageError('one of --endpoint and --zipkin is required');
  if (!values.service) usageError('--service is required');
  if (values.count === undefined) usageError('--count is required');
  if (values['error-every'] !== undefined && values['error-fraction'] !== undefined) {
    usageError('--error-every and --error-fraction are mutually exclusive');
  }
  const endpoint = (values.endpoint || '').trim();
  return {
    zipkin: values.zipkin,
    // Without a scheme the exporter would assume https (TLS); the receiver speaks plaintext.
    url: /^[a-z][a-z0-9+.-]*:\/\//i.test(endpoint) ? endpoint : `http://${endpoint}`,
    service: values.service,
    spanName: values.span,
    count: parseNumber('count', values.count, { integer: true }),
    errorEvery: parseNumber('error-every', values['error-every'], { integer: true, min: 1 }),
    errorFraction: parseNumber('error-fraction', values['error-fraction'], { max: 1 }),
    latencyMs: parseNumber('latency-ms', values['latency-ms']),
    http500Every: parseNumber('http-status-500-every', values['http-status-500-every'],
                              { integer: true, min: 1 }),
    rate: parseNumber('rate', values.rate, { minExclusive: true }),
    timeoutMs: parseNumber('timeout-ms', values['timeout-ms'], { integer: true, min: 1 }),
  };
}

// Wall-clock nanoseconds with sub-millisecond resolution: Date.now() anchors a monotonic clock.
const clockBaseNs = BigInt(Date.now()) * 1000000n - process.hrtime.bigint();
const nowNs = () => clockBaseNs + process.hrtime.bigint();
const toHrTime = ns => [Number(ns / 1000000000n), Number(ns % 1000000000n)];
const yieldToEventLoop = () => new Promise(resolve => setImmediate(resolve));
const sleep = ms => new Promise(resolve => setTimeout(resolve, ms));

// Wraps the OTLP exporter so every batch's ExportResult is seen here, whichever path (timer,
// full batch, forceFlush, shutdown) exported it; the SDK itself only logs failures.
class RecordingExporter {
  constructor(inner) {
    this.inner = inner;
    this.inFlight = 0;
    this.idleWaiters = [];
    this.exportedSpans = 0;
    this.failedSpans = 0;
    this.errors = [];
  }
  export(spans, resultCallback) {
    let called = false;
    this.inFlight++;
    this.inner.export(spans, result => {
      if (called) return;
      called = true;
      if (--this.inFlight === 0) this.idleWaiters.splice(0).forEach(resolve => resolve());
      if (result.code === ExportResultCode.SUCCESS) {
        this.exportedSpans += spans.length;
      } else {
        this.failedSpans += spans.length;
        const err = result.error;
        this.errors.push(err ? (err.message || String(err)) : `export failed (code ${result.code})`);
      }
      resultCallback(result);
    });
  }
  // Resolves once no export is in flight.
  idle() {
    return this.inFlight === 0 ? Promise.resolve() : new Promise(resolve => this.idleWaiters.push(resolve));
  }
  forceFlush() { return this.inner.forceFlush ? this.inner.forceFlush() : Promise.resolve(); }
  shutdown() { return this.inner.shutdown(); }
}

// The OTLP exporter reports an ExportTraceServiceResponse.partial_success only through a diag
// warning; pick it up so rejected spans fail the run. Other warnings and errors go to stderr.
const PARTIAL_SUCCESS_PREFIX = 'Received Partial Success response:';
let rejectedSpans = 0;
const rejectMessages = [];
function installDiagLogger() {
  const write = level => (msg, ...args) => {
    if (typeof msg === 'string' && msg.startsWith(PARTIAL_SUCCESS_PREFIX)) {
      try {
        const ps = JSON.parse(String(args[0]));
        rejectedSpans += Number(ps.rejectedSpans ?? ps.rejected_spans ?? 0);
        if (ps.errorMessage) rejectMessages.push(ps.errorMessage);
      } catch (_) { /* keep going; the warning is still printed */ }
    }
    const rest = args.map(a => (a && typeof a.message === 'string' ? a.message
                                : typeof a === 'string' ? a : JSON.stringify(a)));
    process.stderr.write(`${PROG}: otel ${level}: ${[msg, ...rest].join(' ')}\n`);
  };
  diag.setLogger({
    error: write('error'), warn: write('warn'), info: write('info'),
    debug: write('debug'), verbose: write('verbose'),
  }, { logLevel: DiagLogLevel.WARN, suppressOverrideMessage: true });
  // The batch processor reports a failed background export here as well; RecordingExporter has
  // already recorded it, so keep only the reason in case nothing else explains a failure.
  setGlobalErrorHandler(e => { lastGlobalError = e; });
}
let lastGlobalError;

function isErrorSpan(i, opts) {  // i is 1-based
  if (opts.errorEvery !== undefined) return i % opts.errorEvery === 0;
  if (opts.errorFraction !== undefined) {
    const eps = 1e-9;
    return Math.floor(i * opts.errorFraction + eps) > Math.floor((i - 1) * opts.errorFraction + eps);
  }
  return false;
}

async function main() {
  const opts = parseOptions();
  installDiagLogger();

  const exporter = new RecordingExporter(opts.zipkin
    ? new ZipkinExporter({ url: opts.zipkin })
    : new OTLPTraceExporter({
      url: opts.url,
      compression: 'none',  // explicit: OTEL_EXPORTER_OTLP_*COMPRESSION must not turn on gzip
      timeoutMillis: opts.timeoutMs,
    }));
  const provider = new BasicTracerProvider({
    resource: defaultResource().merge(resourceFromAttributes({ [ATTR_SERVICE_NAME]: opts.service })),
    sampler: new AlwaysOnSampler(),  // explicit: OTEL_TRACES_SAMPLER must not drop spans
    forceFlushTimeoutMillis: opts.timeoutMs + 5000,
    spanProcessors: [new BatchSpanProcessor(exporter, {
      maxQueueSize: Math.max(2048, opts.count),  // never drop a span for lack of queue space
      maxExportBatchSize: BATCH_SIZE,
      scheduledDelayMillis: 200,
      exportTimeoutMillis: opts.timeoutMs + 5000,
    })],
  });
  const tracer = provider.getTracer('faultline-send-spans', '0.0.0');

  const latencyNs = BigInt(Math.round(opts.latencyMs * 1e6));
  const t0 = Date.now();
  let errors = 0;
  let created = 0;
  for (let i = 1; i <= opts.count; i++) {
    // Fail fast: once an export has failed the run has failed, and against a receiver that
    // never answers every further batch would wait out its own timeout.
    if (exporter.errors.length) break;
    if (opts.rate !== undefined) {
      const wait = t0 + ((i - 1) * 1000) / opts.rate - Date.now();
      if (wait > 0) await sleep(wait);
    }
    // The span ends now and started exactly --latency-ms earlier.
    const endNs = nowNs();
    const span = tracer.startSpan(opts.spanName, {
      kind: SpanKind.SERVER,
      startTime: toHrTime(endNs - latencyNs),
    });
    let isError = false;
    if (opts.http500Every !== undefined) {
      const code = i % opts.http500Every === 0 ? 500 : 200;
      span.setAttribute(ATTR_HTTP_RESPONSE_STATUS_CODE, code);
      span.setAttribute(ATTR_HTTP_STATUS_CODE_OLD, code);
      isError = code >= 500;
    }
    if (isErrorSpan(i, opts)) {
      span.setStatus({ code: SpanStatusCode.ERROR, message: 'injected error' });
      isError = true;
    }
    if (isError) errors++;
    span.end(toHrTime(endNs));
    created++;
    // Back-pressure: without it a fast loop queues every span and the final flush fires all
    // batches at once, past the exporter's limit of 30 concurrent exports. Yield to the event
    // loop (so the processor can start exporting a full batch) and wait until nothing is in
    // flight; then fewer than a batch of spans is left queued.
    if (i % BATCH_SIZE === 0) {
      do {
        await exporter.idle();
        await yieldToEventLoop();
      } while (exporter.inFlight > 0);
    }
  }

  const failures = [];
  const stoppedEarly = created < opts.count;
  if (!stoppedEarly) {
    // (After an early stop on an export failure the spans still queued stay unsent: flushing
    // them would only wait out another timeout.)
    try {
      await provider.forceFlush();
    } catch (e) {
      failures.push(`force flush: ${e && e.message ? e.message : e}`);
    }
    try {
      await provider.shutdown();
    } catch (e) {
      failures.push(`shutdown: ${e && e.message ? e.message : e}`);
    }
  }

  const accepted = Math.max(0, exporter.exportedSpans - rejectedSpans);
  if (exporter.errors.length) {
    failures.push(`export failed for ${exporter.failedSpans} span(s) to ${opts.zipkin || opts.url}: ` +
                  [...new Set(exporter.errors)].join('; '));
  }
  if (stoppedEarly) failures.push(`stopped after ${created} of ${opts.count} span(s)`);
  if (rejectedSpans > 0) {
    failures.push(`receiver rejected ${rejectedSpans} span(s)` +
                  (rejectMessages.length ? `: ${rejectMessages.join('; ')}` : ''));
  }
  if (!failures.length && exporter.exportedSpans !== opts.count) {
    failures.push(`exported ${exporter.exportedSpans} of ${opts.count} span(s)` +
                  (lastGlobalError ? `: ${lastGlobalError.message || lastGlobalError}` : ''));
  }

  process.stdout.write(`sent=${accepted} errors=${errors}\n`);
  for (const f of failures) process.stderr.write(`${PROG}: ${f}\n`);
  if (failures.length) {
    // Export calls or the gRPC channel may still be pending; don't wait for them.
    process.stderr.write('', () => process.exit(1));
    return;
  }
  // Whatever still holds the event loop open (it should be nothing) must not hang the test.
  setTimeout(() => process.exit(0), 2000).unref();
}

main().catch(e => {
  process.stderr.write(`${PROG}: ${e && e.stack ? e.stack : e}\n`);
  process.exit(1);
});
