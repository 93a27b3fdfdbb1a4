#!/usr/bin/env node
// Reads a JUnit XML file with junit2json (a parser nobody here wrote) and prints what a CI
// system would show, one line per test case:
//   SUITE <name> tests=<n> failures=<n> skipped=<n>
//   CASE <classname> | <name> | passed|failed|skipped | <failure or skip message>
// Exits 1 when the file does not parse or its counts disagree with its test cases.
import { readFileSync } from 'node:fs';
import { parse } from 'junit2json';

const file = process.argv[2];
if (!file) {
  process.stderr.write('usage: node summarize.mjs FILE.xml\n');
  process.exit(2);
}
let doc;
try {
  doc = await parse(readFileSync(file, 'utf8'));
} catch (e) {
  process.stderr.write(`summarize: ${file} is not JUnit XML: ${e.message}\n`);
  process.exit(1);
}
let bad = false;
for (const suite of doc.testsuite ?? []) {
  const cases = suite.testcase ?? [];
  const failed = cases.filter(c => c.failure).length;
  const skipped = cases.filter(c => c.skipped).length;
  if (suite.tests !== cases.length || suite.failures !== failed || (suite.skipped ?? 0) !== skipped) {
    process.stderr.write(`summarize: suite ${suite.name}: counts disagree with its test cases\n`);
    bad = true;
  }
  process.stdout.write(`SUITE ${suite.name} tests=${suite.tests} failures=${suite.failures} skipped=${suite.skipped ?? 0}\n`);
  for (const c of cases) {
    const status = c.failure ? 'failed' : c.skipped ? 'skipped' : 'passed';
    const msg = c.failure ? (c.failure[0].message ?? c.failure[0].inner ?? '')
              : c.skipped ? (c.skipped[0].message ?? '') : '';
    process.stdout.write(`CASE ${c.classname} | ${c.name} | ${status} | ${msg}\n`);
  }
}
process.exit(bad ? 1 : 0);
