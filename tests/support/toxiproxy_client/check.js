// Drives `faultline proxy` through Toxiproxy's own Node client, the way a test suite written
// for Toxiproxy would, against a real TCP echo server; measures that each fault happens.
// Usage: node check.js http://127.0.0.1:PORT      (exit 0 = every check passed)
"use strict";
const net = require("node:net");
const assert = require("node:assert/strict");
const { Toxiproxy } = require("toxiproxy-node-client");

const api = process.argv[2];
const log = (...a) => console.log("check:", ...a);

function echoServer() {
  return new Promise((resolve) => {
    const server = net.createServer((s) => {
      s.on("data", (d) => s.write(d));
      s.on("end", () => s.end());
      s.on("error", () => {});
    });
    server.listen(0, "127.0.0.1", () => resolve(server));
  });
}

// Connects to host:port, sends `msg`, resolves with {ms, reply} once as many bytes came back,
// or with {error} / {closed} when the connection fails or ends first.
function roundTrip(hostport, msg = "ping", timeoutMs = 3000) {
  const [host, port] = [hostport.slice(0, hostport.lastIndexOf(":")), Number(hostport.slice(hostport.lastIndexOf(":") + 1))];
  return new Promise((resolve) => {
    const t0 = process.hrtime.bigint();
    let reply = "";
    const s = net.connect(port, host, () => s.write(msg));
    const done = (r) => { clearTimeout(timer); s.destroy(); resolve(r); };
    const timer = setTimeout(() => done({ timeout: true, reply }), timeoutMs);
    s.on("data", (d) => {
      reply += d;
      if (reply.length >= msg.length) done({ ms: Number(process.hrtime.bigint() - t0) / 1e6, reply });
    });
    s.on("error", (e) => done({ error: e.code }));
    s.on("end", () => done({ closed: true, reply }));
  });
}

async function expectStatus(promise, status) {
  await assert.rejects(promise, (e) => {
    assert.match(String(e.message), new RegExp(`status code ${status}`));
    return true;
  });
}

async function main() {
  const echo = await echoServer();
  const upstream = `127.0.0.1:${echo.address().port}`;
  const tp = new Toxiproxy(api);

  const version = await tp.getVersion();
  assert.match(version, /"version"/);
  log("version", version.trim());

  const proxy = await tp.createProxy({ name: "echo", listen: "127.0.0.1:0", upstream });
  assert.equal(proxy.enabled, true);
  assert.notEqual(proxy.listen, "127.0.0.1:0", "the real port is reported");
  await expectStatus(tp.createProxy({ name: "echo", listen: "127.0.0.1:0", upstream }), 409);
  await expectStatus(tp.get("missing"), 404);

  let r = await roundTrip(proxy.listen);
  assert.equal(r.reply, "ping");
  const direct = r.ms;

  const latency = await proxy.addToxic({ type: "latency", attributes: { latency: 150, jitter: 0 } });
  assert.equal(latency.name, "latency_downstream");
  assert.equal(latency.stream, "downstream");
  assert.equal(latency.toxicity, 1);
  assert.deepEqual(latency.attributes, { latency: 150, jitter: 0 });
  await expectStatus(proxy.addToxic({ type: "latency", attributes: { latency: 1 } }), 409);
  r = await roundTrip(proxy.listen);
  assert.ok(r.ms >= 145 && r.ms < 1000, `latency 150 ms gave a ${r.ms} ms round trip`);
  log(`round trip direct ${direct.toFixed(1)} ms, with latency 150 ms: ${r.ms.toFixed(1)} ms`);

  const updated = await latency.update({ attributes: { latency: 300 } });
  assert.deepEqual(updated.attributes, { latency: 300, jitter: 0 }, "a partial update keeps jitter");
  r = await roundTrip(proxy.listen);
  assert.ok(r.ms >= 295, `latency 300 ms gave ${r.ms} ms`);

  const listed = await (await fetch(`${api}/proxies/echo/toxics`)).json();
  assert.deepEqual(listed.map((t) => t.name), ["latency_downstream"]);
  assert.equal((await proxy.getToxic("latency_downstream")).attributes.latency, 300);
  await expectStatus(proxy.getToxic("nope"), 404);
  await updated.remove();
  r = await roundTrip(proxy.listen);
  assert.ok(r.ms < 100, `without the toxic: ${r.ms} ms`);

  // reset_peer: the client's connection is reset.
  await proxy.addToxic({ type: "reset_peer", stream: "upstream", attributes: { timeout: 50 } });
  r = await roundTrip(proxy.listen);
  assert.equal(r.error, "ECONNRESET", JSON.stringify(r));

  // /reset removes every toxic; down (enabled: false) refuses connections until enabled.
  await tp.reset();
  r = await roundTrip(proxy.listen);
  assert.equal(r.reply, "ping");
  const down = await proxy.update({ enabled: false, listen: proxy.listen, upstream });
  assert.equal(down.enabled, false);
  r = await roundTrip(proxy.listen);
  assert.equal(r.error, "ECONNREFUSED", JSON.stringify(r));
  const up = await proxy.update({ enabled: true, listen: proxy.listen, upstream });
  assert.equal(up.enabled, true);
  r = await roundTrip(proxy.listen);
  assert.equal(r.reply, "ping");

  // /populate creates, keeps what is the same, and getAll lists them.
  const populated = await tp.populate([
    { name: "echo", listen: proxy.listen, upstream },
    { name: "second", listen: "127.0.0.1:0", upstream },
  ]);
  assert.deepEqual(Object.keys(populated).sort(), ["echo", "second"]);
  const all = await tp.getAll();
  assert.deepEqual(Object.keys(all).sort(), ["echo", "second"]);
  r = await roundTrip(all.second.listen);
  assert.equal(r.reply, "ping");

  await all.second.remove();
  await proxy.remove();
  await expectStatus(tp.get("echo"), 404);
  r = await roundTrip(proxy.listen);
  assert.equal(r.error, "ECONNREFUSED", "a removed proxy leaves nothing listening");

  // A browser (a page's fetch) is refused.
  const browser = await fetch(`${api}/proxies`, { headers: { "User-Agent": "Mozilla/5.0" } });
  assert.equal(browser.status, 403);
  echo.close();
  log("all checks passed");
}

main().catch((e) => {
  console.error("check failed:", e && e.stack ? e.stack : e);
  process.exit(1);
});
