// A plain Node.js HTTP/1.1 server for interception tests: keep-alive, pipelining (Node answers
// pipelined requests in order), and a few routes. Usage: node server.js HOST PORT
'use strict';
const http = require('http');
const [host, port] = process.argv.slice(2);
const server = http.createServer((req, res) => {
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
