// Validates an AsyncAPI document with the official parser, offline: the schema of the
// AsyncAPI version and the parser's rules ship in node_modules. Exits 1 on any error or
// warning, printing each with its path in the document.
import { resolve } from "node:path";

import parserPackage from "@asyncapi/parser";

const { Parser, fromFile, DiagnosticSeverity } = parserPackage;

const path = resolve(process.argv[2] ?? new URL("../asyncapi.yaml", import.meta.url).pathname);
const parser = new Parser();
const { document, diagnostics } = await fromFile(parser, path).parse();

const failing = diagnostics.filter(
  (d) => d.severity === DiagnosticSeverity.Error || d.severity === DiagnosticSeverity.Warning,
);
for (const d of diagnostics) {
  const level = DiagnosticSeverity[d.severity].toLowerCase();
  const where = d.path.join(".") || "(document)";
  const line = d.range ? `:${d.range.start.line + 1}` : "";
  console.log(`${path}${line} ${level} ${d.code} at ${where}: ${d.message}`);
}
if (document === undefined || failing.length > 0) {
  console.error(`${path}: not a valid AsyncAPI document (${failing.length} problems).`);
  process.exit(1);
}
console.log(
  `${path}: valid AsyncAPI ${document.version()} ` +
    `(${document.channels().length} channels, ${document.messages().length} messages).`,
);
