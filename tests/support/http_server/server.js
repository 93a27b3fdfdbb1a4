// A plain Node.js HTTP/1.1 server for interception tests: keep-alive, pipelining (Node answers
// pipelined requests in order), and a few routes. Usage: node server.js HOST PORT [CERT KEY]
// (with CERT and KEY, PEM files: HTTPS).
'use strict';
const fs = require('fs');
const http = require('http');
const https = require('https');
const [host, port, cert, key] = process.argv.slice(2);
const serve = (handler) => cert
  ? https.createServer({ cert: fs.readFileSync(cert), key: fs.readFileSync(key) }, handler)
  : http.createServer(handler);
const server = serve((req, res) => {
  const send = (status, body, headers = {}) => {
    res.writeHead(status, { 'Content-Type': 'text/plain', ...headers });
    res.end(body);
  };
  let body = '';
  req.on('data', (c) => { body += c; });
  req.on('end', () => {
    if (req.url.startsWith('/v1/quote')) return send(200, 'quote', { 'X-Upstream': 'yes' });
    if (req.url.startsWith('/v1/charge')) return send(200, req.method === 'POST' ? `posted ${body.length}` : 'charged');
    if (req.url.startsWith('/bench')) return send(200, 'ok', { 'Content-Length': '2' });  // bench/http_fault_bench.sh
    if (req.url.startsWith('/chunked')) {
      res.writeHead(200, { 'Content-Type': 'text/plain' });
      res.write('chunk-one;');
      return setTimeout(() => res.end('chunk-two'), 20);
    }
    return send(200, `ok ${req.socket.remotePort}`);
  });
});
server.keepAliveTimeout = 60000;
server.listen(Number(port), host, () => process.stdout.write('listening\n'));
process.on('SIGTERM', () => process.exit(0));
