#!/usr/bin/env node
// Proves check_manifests.js fails on broken manifests: copies deploy/kubernetes into a
// temporary directory, breaks one thing at a time and expects an error naming the file, the
// line of the broken text and what is wrong. Also confirms the untouched copy passes, so a
// failure below is the mutation's doing. Same arguments as check_manifests.js.
"use strict";

const fs = require("fs");
const os = require("os");
const path = require("path");
const { checkDir, parseArgs } = require("./check_manifests.js");

// [file, text to replace (must occur exactly once), replacement, expected message part, where]
// where: the error starts with file:line of the replaced text (default); "near": file:<a line
// of an enclosing field> (the text was removed, or the rule is about the whole container);
// "file": the file without a line (checked by running the binaries on it); or another file
// the error must name.
const BREAKS = [
  ["controller-deployment.yaml", "            readOnlyRootFilesystem: true\n",
    "            readOnlyRootFilesystem: true\n            readOnlyRootFileSystem: true\n",
    'unknown field "readOnlyRootFileSystem"'],
  ["controller-service.yaml", "  selector:\n", "  selectors:\n", 'unknown field "selectors"'],
  ["injector-daemonset.yaml", "      hostPID: true\n", '      hostPID: "yes"\n', "spec.template.spec.hostPID: must be boolean"],
  ["injector-daemonset.yaml", "      hostPID: true\n", "      hostPID: true\n      hostPID: true\n", "YAML: Map keys must be unique"],
  ["injector-service.yaml", "kind: Service\n", "kind: Servic\n", "no Kubernetes schema for apiVersion v1, kind Servic"],
  ["controller-pvc.yaml", "      storage: 2Gi\n", "      storage: [2Gi]\n", "spec.resources.requests.storage"],
  ["controller-deployment.yaml", "    type: Recreate\n", "    type: Recreated\n", "spec.strategy.type: must be equal to one of the allowed values"],
  ["injector-daemonset.yaml", "            privileged: false\n", "            privileged: true\n", "privileged: must be set to false"],
  ["injector-daemonset.yaml", "              drop: [ALL]\n", "              drop: [NET_BIND_SERVICE]\n", "capabilities.drop: must include ALL", "near"],
  ["injector-daemonset.yaml", "SYS_PTRACE, SYS_NICE]\n", "SYS_PTRACE, SYS_NICE, SYS_MODULE]\n", "SYS_MODULE is not one faultline-injector needs"],
  ["injector-daemonset.yaml", "      hostPID: true\n", "      hostPID: false\n", "hostPID: must be true"],
  ["injector-daemonset.yaml", "                  fieldPath: spec.nodeName\n", "                  fieldPath: metadata.name\n",
    "env NODE_NAME: must come from the downward API", "near"],
  ["injector-daemonset.yaml", "            - --log-json\n", "            - --log-jsn\n", "--log-jsn is not a flag of faultline-injector"],
  ["controller-deployment.yaml", "            - --store=/var/lib/faultline/faultline.db\n", "            - --store=/data/faultline.db\n",
    "--store /data/faultline.db: must be on a persistentVolumeClaim volume", "near"],
  ["controller-deployment.yaml", "    type: Recreate\n", "    type: RollingUpdate\n", "replicas: 1 and strategy Recreate", "near"],
  ["controller-deployment.yaml", "            allowPrivilegeEscalation: false\n", "", "allowPrivilegeEscalation: must be false", "near"],
  ["controller-deployment.yaml", "              containerPort: 9465\n", "              containerPort: 9466\n", "9466 is not the port of any --*listen flag", "near"],
  ["injector-daemonset.yaml", "          image: faultline:0.1.0\n", "          image: faultline:latest\n", "image tag: must be the project version"],
  ["injector-policy.yaml", "  kinds:\n", "  kind:\n", "faultline-injector refused the policy", "file"],
  ["experiments/pod-network-delay.yaml", "      delay: 100ms\n", "      delay: 100 parsecs\n", "faultline validate failed", "file"],
  ["kustomization.yaml", "  - injector-service.yaml\n", "", "not listed in kustomization.yaml", "injector-service.yaml"],
];

function copyDir(from, to) {
  fs.mkdirSync(to, { recursive: true });
  for (const e of fs.readdirSync(from, { withFileTypes: true })) {
    const src = path.join(from, e.name);
    const dst = path.join(to, e.name);
    if (e.isDirectory()) copyDir(src, dst);
    else fs.copyFileSync(src, dst);
  }
}

async function main() {
  const opts = parseArgs(process.argv.slice(2));
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), "faultline-k8s-broken-"));
  let failures = 0;
  try {
    const pristine = path.join(tmp, "pristine");
    copyDir(opts.dir, pristine);
    const clean = await checkDir({ ...opts, dir: pristine });
    if (clean.length) {
      console.error(`the unmodified copy does not pass, so the cases below prove nothing:\n${clean.join("\n")}`);
      process.exit(1);
    }
    for (const [i, [file, from, to, expected, whereTo]] of BREAKS.entries()) {
      const dir = path.join(tmp, `case${i}`);
      copyDir(opts.dir, dir);
      const target = path.join(dir, file);
      const text = fs.readFileSync(target, "utf8");
      const at = text.indexOf(from);
      if (at < 0 || text.indexOf(from, at + 1) >= 0) {
        console.error(`case ${i}: "${from.trim()}" must occur exactly once in ${file}; update this test with the manifest`);
        failures++;
        continue;
      }
      fs.writeFileSync(target, text.slice(0, at) + to + text.slice(at + from.length));
      let same = 0;
      while (same < from.length && from[same] === to[same]) ++same;
      const line = text.slice(0, at + same).split("\n").length;
      // Errors about the broken text point at its line; whole-file errors name just the file.
      const errors = await checkDir({ ...opts, dir });
      const hit = errors.find((e) => e.includes(expected));
      const prefix = !whereTo ? `${target}:${line}: ` : whereTo === "near" ? `${target}:` :
        whereTo === "file" ? `${target}: ` : `${path.join(dir, whereTo)}: `;
      const lineOk = hit && hit.startsWith(prefix) && (whereTo !== "near" || /^:\d+: /.test(hit.slice(target.length)));
      if (!hit || !lineOk) {
        console.error(`case ${i} (${file}: "${from.trim()}" -> "${to.trim()}"): expected an error containing "${expected}" starting "${prefix}"; got:\n  ${errors.join("\n  ") || "(no errors)"}`);
        failures++;
      } else {
        console.log(`case ${i} rejected as expected: ${hit.slice(tmp.length + 1)}`);
      }
    }
  } finally {
    fs.rmSync(tmp, { recursive: true, force: true });
  }
  if (failures) {
    console.error(`check_rejects_broken: ${failures} of ${BREAKS.length} broken copies were not rejected as expected`);
    process.exit(1);
  }
  console.log(`check_rejects_broken: all ${BREAKS.length} broken copies rejected`);
}

main().catch((e) => {
  console.error(e.stack || String(e));
  process.exit(1);
});
