#!/usr/bin/env node
// Checks deploy/kubernetes the way `kubectl apply --validate=strict` would, offline, plus
// faultline's own deployment rules. Every error names file:line, the object and the field.
//
//   node check_manifests.js --dir deploy/kubernetes --docs docs/deploy.md --version 0.1.0 \
//     --controller-bin build/src/faultline-controller --injector-bin build/src/faultline-injector \
//     --cli-bin build/src/faultline
//
// Schemas: kubernetes-models carries the Kubernetes OpenAPI schemas compiled to validators
// (types, enums, required fields). Those schemas, like the API's own, allow unknown fields, so
// the validator runs on a proxy that records which fields it looks up: a field the schema never
// asked for is one the schema does not define (what kubectl reports as "unknown field").
// Exit status: 0 all good, 1 errors found, 2 bad usage.
"use strict";

const fs = require("fs");
const path = require("path");
const { spawnSync, spawn } = require("child_process");
const os = require("os");
let YAML;
try {
  YAML = require("yaml");
  require("kubernetes-models/v1");
} catch (e) {
  console.error(`check_manifests: ${e.message.split("\n")[0]}; run scripts/setup-node.sh (npm ci in ${__dirname})`);
  process.exit(2);
}

// What each workload may add back after dropping ALL (docs/deploy.md explains each one).
const ALLOWED_CAPS = {
  "faultline-injector": ["NET_ADMIN", "NET_RAW", "KILL", "SYS_ADMIN", "SYS_PTRACE", "SYS_NICE"],
  "faultline-controller": [],
};
const BINARIES = ["faultline-controller", "faultline-injector"];
const KUSTOMIZATION_KEYS = new Set([
  "apiVersion", "kind", "namespace", "labels", "resources", "configMapGenerator", "images",
]);

class Report {
  constructor() {
    this.errors = [];
  }
  add(where, message) {
    this.errors.push(`${where}: ${message}`);
  }
}

// --- YAML with positions --------------------------------------------------------------------

function loadYamlDocs(file, report) {
  const text = fs.readFileSync(file, "utf8");
  const lineCounter = new YAML.LineCounter();
  // YAML 1.1 like the API machinery's parser: 0440 is octal, as kubectl reads it.
  const docs = YAML.parseAllDocuments(text, { version: "1.1", lineCounter, uniqueKeys: true });
  const out = [];
  for (const doc of docs) {
    for (const e of [...doc.errors, ...doc.warnings]) {
      report.add(`${file}:${e.linePos ? e.linePos[0].line : "?"}`, `YAML: ${e.message.split("\n")[0]}`);
    }
    const value = doc.toJS({ maxAliasCount: 0 });
    if (value == null) continue;
    out.push({ file, doc, value, lineCounter });
  }
  return out;
}

// The line of a field given as a path of keys and indexes; the key's own line when it is a
// map key, else the nearest ancestor that exists.
function lineOf(d, pathParts) {
  let node = d.doc.contents;
  let line = node && node.range ? d.lineCounter.linePos(node.range[0]).line : 1;
  for (const part of pathParts) {
    if (YAML.isMap(node)) {
      const pair = node.items.find((p) => p.key && String(p.key.value ?? p.key) === String(part));
      if (!pair) break;
      if (pair.key && pair.key.range) line = d.lineCounter.linePos(pair.key.range[0]).line;
      node = pair.value;
    } else if (YAML.isSeq(node)) {
      node = node.items[Number(part)];
      if (node && node.range) line = d.lineCounter.linePos(node.range[0]).line;
    } else {
      break;
    }
  }
  return line;
}

function describe(d) {
  const v = d.value;
  return `${v.kind || "?"} ${(v.metadata && v.metadata.name) || "?"}`;
}

function where(d, pathParts) {
  return `${d.file}:${lineOf(d, pathParts)}: ${describe(d)}`;
}

const dotted = (parts) =>
  parts.map((p, i) => (typeof p === "number" ? `[${p}]` : (i ? "." : "") + p)).join("");

// --- Schema validation --------------------------------------------------------------------

function modelFor(apiVersion, kind) {
  if (typeof apiVersion !== "string" || typeof kind !== "string") return null;
  try {
    // "apps/v1" -> kubernetes-models/apps/v1, "v1" (the core group) -> kubernetes-models/v1.
    return require(`kubernetes-models/${apiVersion}`)[kind] || null;
  } catch {
    return null;
  }
}

// Wraps value so every field lookup is recorded. Maps (labels, data, ...) are iterated by the
// validator, which marks them as open to any key.
function tracked(value, seen) {
  if (value === null || typeof value !== "object") return value;
  let rec = seen.get(value);
  if (!rec) {
    rec = { read: new Set(), enumerated: false };
    seen.set(value, rec);
  }
  return new Proxy(value, {
    get(target, key, receiver) {
      if (typeof key === "string") rec.read.add(key);
      return tracked(Reflect.get(target, key, receiver), seen);
    },
    has(target, key) {
      if (typeof key === "string") rec.read.add(key);
      return Reflect.has(target, key);
    },
    ownKeys(target) {
      rec.enumerated = true;
      return Reflect.ownKeys(target);
    },
  });
}

function unknownFields(value, seen, at, out) {
  if (value === null || typeof value !== "object") return;
  const rec = seen.get(value);
  if (Array.isArray(value)) {
    value.forEach((v, i) => unknownFields(v, seen, [...at, i], out));
    return;
  }
  for (const key of Object.keys(value)) {
    if (rec && !rec.enumerated && !rec.read.has(key)) out.push([...at, key]);
    else if (rec) unknownFields(value[key], seen, [...at, key], out);
  }
}

function validateSchema(d, report) {
  const { apiVersion, kind } = d.value;
  const Model = modelFor(apiVersion, kind);
  if (!Model) {
    report.add(where(d, ["kind"]), `no Kubernetes schema for apiVersion ${apiVersion}, kind ${kind}`);
    return;
  }
  const seen = new Map();
  try {
    Model.prototype.validate.call(tracked(d.value, seen));
  } catch (e) {
    for (const err of e.errors || [{ instancePath: "", message: e.message }]) {
      const parts = err.instancePath.split("/").slice(1).map((p) => (/^\d+$/.test(p) ? Number(p) : p));
      const extra = err.params && err.params.allowedValues ? ` (${err.params.allowedValues.join(", ")})` : "";
      report.add(where(d, parts), `${dotted(parts) || "(document)"}: ${err.message}${extra}`);
    }
  }
  const unknown = [];
  unknownFields(d.value, seen, [], unknown);
  for (const parts of unknown) {
    report.add(where(d, parts), `${dotted(parts)}: unknown field "${parts[parts.length - 1]}"`);
  }
}

// --- Kustomization ------------------------------------------------------------------------

function loadKustomization(dir, report) {
  const file = path.join(dir, "kustomization.yaml");
  if (!fs.existsSync(file)) {
    report.add(file, "missing");
    return null;
  }
  const [k] = loadYamlDocs(file, report);
  if (!k) return null;
  for (const key of Object.keys(k.value)) {
    if (!KUSTOMIZATION_KEYS.has(key)) report.add(`${file}:${lineOf(k, [key])}`, `${key}: unknown or unused key`);
  }
  if (k.value.kind !== "Kustomization") report.add(`${file}:${lineOf(k, ["kind"])}`, "kind: must be Kustomization");
  const exists = (rel, at) => {
    if (!fs.existsSync(path.join(dir, rel))) report.add(`${file}:${lineOf(k, at)}`, `${rel}: no such file`);
  };
  (k.value.resources || []).forEach((r, i) => exists(r, ["resources", i]));
  const generated = new Map();
  (k.value.configMapGenerator || []).forEach((g, i) => {
    const files = new Map();
    (g.files || []).forEach((f, j) => {
      const [key, rel] = f.includes("=") ? f.split("=") : [path.basename(f), f];
      exists(rel, ["configMapGenerator", i, "files", j]);
      files.set(key, path.join(dir, rel));
    });
    generated.set(g.name, files);
  });
  // Every manifest here is applied: a file left out of resources would silently not be.
  const listed = new Set([
    "kustomization.yaml",
    ...(k.value.resources || []),
    ...[...generated.values()].flatMap((m) => [...m.values()].map((f) => path.relative(dir, f))),
  ]);
  for (const rel of walkYaml(dir)) {
    if (!listed.has(rel)) report.add(path.join(dir, rel), "not listed in kustomization.yaml resources or configMapGenerator");
  }
  return { k, file, generated, images: k.value.images || [] };
}

function walkYaml(dir, prefix = "") {
  const out = [];
  for (const e of fs.readdirSync(path.join(dir, prefix), { withFileTypes: true })) {
    const rel = path.join(prefix, e.name);
    if (e.isDirectory()) out.push(...walkYaml(dir, rel));
    else if (/\.ya?ml$/.test(e.name)) out.push(rel);
  }
  return out.sort();
}

// --- faultline's rules --------------------------------------------------------------------

const helpCache = new Map();

function helpFlags(bin) {
  if (helpCache.has(bin)) return helpCache.get(bin);
  const r = spawnSync(bin, ["--help"], { encoding: "utf8", timeout: 10000 });
  if (r.status !== 0) throw new Error(`${bin} --help exited ${r.status}: ${r.stderr}`);
  const flags = new Set();
  for (const line of r.stdout.split("\n")) {
    const m = line.match(/^\s+(?:-\w,)?(--[a-z][a-z0-9-]*)/);
    if (m) flags.add(m[1]);
  }
  helpCache.set(bin, flags);
  return flags;
}

function podSpecOf(v) {
  return v.spec && v.spec.template && v.spec.template.spec;
}

function flagValue(args, flag) {
  for (let i = 0; i < args.length; ++i) {
    if (args[i] === flag) return args[i + 1];
    if (args[i].startsWith(flag + "=")) return args[i].slice(flag.length + 1);
  }
  return undefined;
}

// The volume mounted at the deepest mountPath that holds file.
function volumeHolding(container, pod, file) {
  let best = null;
  for (const m of container.volumeMounts || []) {
    const mp = m.mountPath.replace(/\/$/, "");
    if ((file === mp || file.startsWith(mp + "/")) && (!best || mp.length > best.mount.mountPath.length)) {
      best = { mount: m, volume: (pod.volumes || []).find((v) => v.name === m.name) };
    }
  }
  return best;
}

function checkWorkload(d, ctx, report) {
  const v = d.value;
  const pod = podSpecOf(v);
  if (!pod) return;
  const base = ["spec", "template", "spec"];
  const name = v.metadata.name;
  if (pod.automountServiceAccountToken !== false)
    report.add(where(d, [...base, "automountServiceAccountToken"]), "automountServiceAccountToken: must be false (faultline never calls the Kubernetes API)");
  if (!ctx.byKind("ServiceAccount").some((sa) => sa.value.metadata.name === pod.serviceAccountName))
    report.add(where(d, [...base, "serviceAccountName"]), `serviceAccountName: no ServiceAccount ${pod.serviceAccountName} in the kustomization`);
  const podSeccomp = pod.securityContext && pod.securityContext.seccompProfile;
  (pod.containers || []).forEach((c, ci) => {
    const at = [...base, "containers", ci];
    const sc = c.securityContext || {};
    const caps = sc.capabilities || {};
    if (sc.privileged !== false)
      report.add(where(d, [...at, "securityContext", "privileged"]), "securityContext.privileged: must be set to false (capabilities are granted one by one)");
    if (!(caps.drop || []).includes("ALL"))
      report.add(where(d, [...at, "securityContext", "capabilities"]), "securityContext.capabilities.drop: must include ALL");
    const allowed = ALLOWED_CAPS[name];
    if (!allowed) report.add(where(d, ["metadata", "name"]), `no capability rule for workload ${name}`);
    (caps.add || []).forEach((cap, i) => {
      if (!allowed || !allowed.includes(cap))
        report.add(where(d, [...at, "securityContext", "capabilities", "add", i]),
          `securityContext.capabilities.add: ${cap} is not one ${name} needs (allowed: ${(allowed || []).join(", ") || "none"})`);
    });
    (caps.add || []).forEach((cap, i) => {
      if (!new RegExp(`^\\| \`CAP_${cap}\``, "m").test(ctx.docsText))
        report.add(where(d, [...at, "securityContext", "capabilities", "add", i]), `${cap}: no row for CAP_${cap} in ${ctx.docsFile}'s privilege table`);
    });
    const sysAdmin = (caps.add || []).includes("SYS_ADMIN");
    if (!sysAdmin && sc.allowPrivilegeEscalation !== false)
      report.add(where(d, [...at, "securityContext"]), "securityContext.allowPrivilegeEscalation: must be false");
    if (sysAdmin && sc.allowPrivilegeEscalation === false)
      report.add(where(d, [...at, "securityContext", "allowPrivilegeEscalation"]), "securityContext.allowPrivilegeEscalation: false contradicts SYS_ADMIN (the API server refuses it)");
    if (sc.readOnlyRootFilesystem !== true)
      report.add(where(d, [...at, "securityContext"]), "securityContext.readOnlyRootFilesystem: must be true");
    const seccomp = sc.seccompProfile || podSeccomp;
    if (!seccomp || seccomp.type !== "RuntimeDefault")
      report.add(where(d, [...at, "securityContext"]), "seccompProfile: must be RuntimeDefault (pod or container)");
    checkContainerCommand(d, ctx, pod, c, at, report);
  });
  (pod.volumes || []).forEach((vol, vi) => {
    const at = [...base, "volumes", vi];
    if (vol.secret) {
      if (!ctx.documentedSecrets.has(vol.secret.secretName))
        report.add(where(d, [...at, "secret", "secretName"]), `secret ${vol.secret.secretName}: ${ctx.docsFile} has no \`kubectl create secret generic ${vol.secret.secretName}\` command`);
      if (vol.secret.defaultMode !== undefined && (vol.secret.defaultMode & 0o007) !== 0)
        report.add(where(d, [...at, "secret", "defaultMode"]), "secret defaultMode: keys must not be readable by others");
    }
    if (vol.configMap && !ctx.kust.generated.has(vol.configMap.name))
      report.add(where(d, [...at, "configMap", "name"]), `configMap ${vol.configMap.name}: not made by the kustomization's configMapGenerator`);
    if (vol.persistentVolumeClaim && !ctx.byKind("PersistentVolumeClaim").some((p) => p.value.metadata.name === vol.persistentVolumeClaim.claimName))
      report.add(where(d, [...at, "persistentVolumeClaim", "claimName"]), `no PersistentVolumeClaim ${vol.persistentVolumeClaim.claimName} in the kustomization`);
  });
}

function checkContainerCommand(d, ctx, pod, c, at, report) {
  const bin = (c.command || [])[0];
  if (!BINARIES.includes(bin)) {
    report.add(where(d, [...at, "command"]), `command: must run one of ${BINARIES.join(", ")}`);
    return;
  }
  const known = ctx.flags[bin];
  const args = c.args || [];
  args.forEach((a, i) => {
    if (!a.startsWith("--")) return;
    const flag = a.split("=")[0];
    if (!known.has(flag)) report.add(where(d, [...at, "args", i]), `args: ${flag} is not a flag of ${bin} (see ${bin} --help)`);
    for (const m of a.matchAll(/\$\(([A-Za-z_][A-Za-z0-9_]*)\)/g)) {
      if (!(c.env || []).some((e) => e.name === m[1]))
        report.add(where(d, [...at, "args", i]), `args: $(${m[1]}) is not an env variable of the container`);
    }
  });
  // The image: the kustomization's images entry, tagged with the version the binaries report.
  const [image, tag] = String(c.image).split(":");
  const entry = ctx.kust.images.find((e) => e.name === image);
  if (!entry) report.add(where(d, [...at, "image"]), `image ${image}: no entry in kustomization.yaml images`);
  if (tag !== ctx.version || (entry && entry.newTag !== ctx.version))
    report.add(where(d, [...at, "image"]), `image tag: must be the project version ${ctx.version} here and in kustomization.yaml images`);
  // Every port declared is one a flag listens on, and every *-listen flag's port is declared.
  const listens = args.filter((a) => /^--[a-z-]*listen=/.test(a)).map((a) => [a.split("=")[0], a.split(":").pop()]);
  (c.ports || []).forEach((p, i) => {
    if (!listens.some(([, port]) => Number(port) === p.containerPort))
      report.add(where(d, [...at, "ports", i]), `ports: ${p.containerPort} is not the port of any --*listen flag`);
  });
  for (const [flag, port] of listens) {
    if (!(c.ports || []).some((p) => p.containerPort === Number(port)))
      report.add(where(d, [...at, "args"]), `args: ${flag} listens on ${port}, which ports does not declare`);
  }
  const mustBeOn = (flag, kind, why) => {
    const file = flagValue(args, flag);
    if (file === undefined) {
      report.add(where(d, [...at, "args"]), `args: ${flag} is required here (${why})`);
      return;
    }
    const held = volumeHolding(c, pod, file);
    const ok = held && held.volume && kind.some((k) => held.volume[k]);
    if (!ok) report.add(where(d, [...at, "volumeMounts"]), `${flag} ${file}: must be on a ${kind.join(" or ")} volume (${why})`);
    return held;
  };
  if (bin === "faultline-controller") {
    mustBeOn("--store", ["persistentVolumeClaim"], "runs and journals outlive the pod");
    mustBeOn("--audit-log", ["persistentVolumeClaim"], "the audit trail outlives the pod");
    mustBeOn("--token-file", ["secret"], "tokens are secrets");
    mustBeOn("--tls-dir", ["secret"], "keys are secrets");
    const v = d.value;
    if (d.value.kind !== "Deployment" || v.spec.replicas !== 1 || !v.spec.strategy || v.spec.strategy.type !== "Recreate")
      report.add(where(d, ["spec"]), "the controller must be a Deployment with replicas: 1 and strategy Recreate (one SQLite writer)");
    if (!(pod.securityContext && pod.securityContext.runAsNonRoot === true))
      report.add(where(d, ["spec", "template", "spec", "securityContext"]), "securityContext.runAsNonRoot: the controller must not run as root");
  } else {
    mustBeOn("--ledger", ["hostPath"], "a replacement pod must find the ledger to revert what a crash left");
    const policy = mustBeOn("--policy", ["configMap"], "an injector without a policy accepts any fault");
    if (policy && policy.volume && policy.volume.configMap) {
      const key = path.relative(policy.mount.mountPath, flagValue(args, "--policy"));
      const files = ctx.kust.generated.get(policy.volume.configMap.name);
      if (files && !files.has(key))
        report.add(where(d, [...at, "args"]), `--policy: ConfigMap ${policy.volume.configMap.name} has no key ${key}`);
    }
    mustBeOn("--tls-dir", ["secret"], "keys are secrets");
    const v = d.value;
    if (v.kind !== "DaemonSet") report.add(where(d, ["kind"]), "the injector must be a DaemonSet (one per node)");
    if (pod.hostPID !== true) report.add(where(d, ["spec", "template", "spec", "hostPID"]), "hostPID: must be true (process faults act on the node's processes)");
    if (pod.hostNetwork !== true) report.add(where(d, ["spec", "template", "spec", "hostNetwork"]), "hostNetwork: must be true (network faults act on the node's interfaces)");
    if (pod.hostNetwork === true && pod.dnsPolicy !== "ClusterFirstWithHostNet")
      report.add(where(d, ["spec", "template", "spec", "dnsPolicy"]), "dnsPolicy: must be ClusterFirstWithHostNet, or the controller's Service name does not resolve");
    if (flagValue(args, "--node") !== "$(NODE_NAME)")
      report.add(where(d, [...at, "args"]), "args: --node must be $(NODE_NAME)");
    const nodeEnv = (c.env || []).find((e) => e.name === "NODE_NAME");
    const ref = nodeEnv && nodeEnv.valueFrom && nodeEnv.valueFrom.fieldRef;
    if (!ref || ref.fieldPath !== "spec.nodeName")
      report.add(where(d, [...at, "env"]), "env NODE_NAME: must come from the downward API (fieldRef spec.nodeName)");
  }
}

function checkService(d, ctx, report) {
  const sel = d.value.spec.selector || {};
  const workloads = ctx.docs.filter((w) => {
    const labels = (podSpecOf(w.value) && w.value.spec.template.metadata.labels) || {};
    return Object.keys(sel).length && Object.entries(sel).every(([k, v]) => labels[k] === v);
  });
  if (!workloads.length) {
    report.add(where(d, ["spec", "selector"]), "spec.selector: matches no pod template in the kustomization");
    return;
  }
  (d.value.spec.ports || []).forEach((p, i) => {
    const target = p.targetPort === undefined ? p.port : p.targetPort;
    const found = workloads.some((w) =>
      podSpecOf(w.value).containers.some((c) => (c.ports || []).some((cp) => cp.name === target || cp.containerPort === target)));
    if (!found) report.add(where(d, ["spec", "ports", i, "targetPort"]), `ports[${i}].targetPort: ${target} is no port of the selected pods`);
  });
}

// The injector itself parses the policy: it starts with a scratch ledger and no controller,
// logs the policy it enforces and is stopped; a bad policy exits 3 naming file:line:column.
function checkPolicy(file, injectorBin, report) {
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), "faultline-policy-check-"));
  return new Promise((resolve) => {
    const child = spawn(injectorBin, ["--insecure", "--controller", "127.0.0.1:9", "--node", "policy-check",
      "--ledger", path.join(tmp, "ledger"), "--policy", file], { stdio: ["ignore", "pipe", "pipe"] });
    let output = "";
    let done = false;
    const finish = (problem) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      if (problem) report.add(file, problem);
      child.kill("SIGTERM");
      child.once("exit", () => {
        fs.rmSync(tmp, { recursive: true, force: true });
        resolve();
      });
      if (child.exitCode !== null || child.signalCode !== null) child.emit("exit");
    };
    const onData = (b) => {
      output += b;
      if (output.includes("injector policy policy=" + file)) finish(null);
    };
    child.stdout.on("data", onData);
    child.stderr.on("data", onData);
    child.on("exit", (code) => finish(`faultline-injector refused the policy (exit ${code}): ${output.trim()}`));
    const timer = setTimeout(() => finish(`faultline-injector did not report the policy within 10s: ${output.trim()}`), 10000);
  });
}

function checkExperiments(ctx, report) {
  const gen = ctx.kust.generated.get("faultline-experiments");
  if (!gen) return;
  for (const file of gen.values()) {
    const r = spawnSync(ctx.cliBin, ["validate", file], { encoding: "utf8", timeout: 20000 });
    if (r.status !== 0) report.add(file, `faultline validate failed: ${(r.stdout + r.stderr).trim()}`);
  }
}

function documentedSecrets(docsFile) {
  const text = fs.readFileSync(docsFile, "utf8");
  return new Set([...text.matchAll(/create secret generic ([a-z0-9-]+)/g)].map((m) => m[1]));
}

async function checkDir(opts) {
  const report = new Report();
  const kust = loadKustomization(opts.dir, report);
  if (!kust) return report.errors;
  const docs = [];
  for (const rel of kust.k.value.resources || []) {
    const file = path.join(opts.dir, rel);
    if (fs.existsSync(file)) docs.push(...loadYamlDocs(file, report));
  }
  const ctx = {
    docs,
    kust,
    version: opts.version,
    cliBin: opts.cliBin,
    docsFile: opts.docs,
    docsText: fs.readFileSync(opts.docs, "utf8"),
    documentedSecrets: documentedSecrets(opts.docs),
    flags: {
      "faultline-controller": helpFlags(opts.controllerBin),
      "faultline-injector": helpFlags(opts.injectorBin),
    },
    byKind: (kind) => docs.filter((x) => x.value.kind === kind),
  };
  for (const d of docs) {
    validateSchema(d, report);
    if (podSpecOf(d.value)) checkWorkload(d, ctx, report);
    if (d.value.kind === "Service" && d.value.spec) checkService(d, ctx, report);
    if (d.value.metadata && d.value.metadata.namespace)
      report.add(where(d, ["metadata", "namespace"]), "metadata.namespace: leave it to the kustomization's namespace");
  }
  for (const kind of ["DaemonSet", "Deployment", "PersistentVolumeClaim", "Namespace"]) {
    if (!ctx.byKind(kind).length) report.add(kust.file, `no ${kind} among the resources`);
  }
  for (const kind of ["Role", "ClusterRole", "RoleBinding", "ClusterRoleBinding"]) {
    for (const d of ctx.byKind(kind)) report.add(where(d, ["kind"]), `${kind}: faultline needs no Kubernetes API access; remove it or explain it in docs/deploy.md and here`);
  }
  const policy = kust.generated.get("faultline-injector-policy");
  if (!policy) report.add(kust.file, "configMapGenerator: no faultline-injector-policy");
  else for (const file of policy.values()) await checkPolicy(file, opts.injectorBin, report);
  checkExperiments(ctx, report);
  return report.errors;
}

function parseArgs(argv) {
  const opts = {};
  const names = { "--dir": "dir", "--docs": "docs", "--version": "version", "--controller-bin": "controllerBin",
    "--injector-bin": "injectorBin", "--cli-bin": "cliBin" };
  for (let i = 0; i < argv.length; i += 2) {
    if (!names[argv[i]] || argv[i + 1] === undefined) throw new Error(`unknown or incomplete argument ${argv[i]}`);
    opts[names[argv[i]]] = argv[i + 1];
  }
  for (const n of Object.values(names)) if (!opts[n]) throw new Error(`missing --${n}`);
  return opts;
}

module.exports = { checkDir, parseArgs };

if (require.main === module) {
  let opts;
  try {
    opts = parseArgs(process.argv.slice(2));
  } catch (e) {
    console.error(`check_manifests: ${e.message}`);
    process.exit(2);
  }
  checkDir(opts).then((errors) => {
    for (const e of errors) console.error(e);
    if (errors.length) {
      console.error(`check_manifests: ${errors.length} error(s) in ${opts.dir}`);
      process.exit(1);
    }
    console.log(`check_manifests: ${opts.dir} ok`);
  });
}
