#!/usr/bin/env node
/**
 * Writes src/api/contract.gen.ts from ../shared/contract.schema.json with json-schema-to-typescript:
 * one exported type per `$defs` entry (`ocr_result` -> OcrResult, ...) and one for the schema's root.
 *
 *   npm run gen:contract              regenerate the file
 *   npm run gen:contract -- --check   exit 1 when the file is not what the schema gives
 *
 * src/api/contract.test.ts runs generateContract() on the schema too and fails while the committed
 * file and the schema disagree.
 */
import { readFileSync, writeFileSync } from "node:fs";
import { dirname, resolve } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { compile } from "json-schema-to-typescript";

const here = dirname(fileURLToPath(import.meta.url));
export const SCHEMA_PATH = resolve(here, "../../shared/contract.schema.json");
export const OUTPUT_PATH = resolve(here, "../src/api/contract.gen.ts");

const HEADER = `/* eslint-disable */
/**
 * GENERATED FILE, do not edit by hand.
 * Source: shared/contract.schema.json (one type per $defs entry, plus the schema's root).
 * Generator: json-schema-to-typescript, run by web-client/scripts/gen-contract.mjs.
 * Regenerate after changing the schema:  cd web-client && npm run gen:contract
 * (npm test fails while this file and the schema disagree: src/api/contract.test.ts).
 */
`;

/** Names that would shadow a JavaScript/TypeScript global in the generated module get "Body". */
const GLOBAL_NAMES = new Set(["Array", "Boolean", "Date", "Error", "Function", "Map", "Number", "Object", "Promise",
  "Record", "RegExp", "Set", "String", "Symbol"]);

/** The exported name of a `$defs` entry: snake_case key to PascalCase (`job_status` -> JobStatus). */
export function typeName(key) {
  const name = key.split(/[^A-Za-z0-9]+/).filter(Boolean).map((part) => part[0].toUpperCase() + part.slice(1)).join("");
  return GLOBAL_NAMES.has(name) ? `${name}Body` : name;
}

const OPTIONS = {
  bannerComment: "",
  // An interface lists the properties the schema names; extra properties are not typed.
  additionalProperties: false,
  unknownAny: true,
  strictIndexSignatures: true,
  format: true,
};

const DEF_REF = /^#\/\$defs\/([^/]+)$/;

const onlyKeys = (node, keys) =>
  !!node && typeof node === "object" && Object.keys(node).length > 0 && Object.keys(node).every((key) => keys.includes(key));

/** An `allOf` member that only constrains what its siblings declare, as TypeScript (else null):
 * `{"required": ["pages"]}` -> Required<Pick<Base, "pages">>; `{"not": {"required": ["pages"]}}` ->
 * `{ pages?: never }`. json-schema-to-typescript alone makes an open `{[k: string]: unknown}` of the
 * first and drops the second. */
function constraint(member, bases) {
  if (!bases.length) return null;
  if (onlyKeys(member, ["required"]) && Array.isArray(member.required) && member.required.length) {
    return { tsType: `Required<Pick<${bases.join(" & ")}, ${member.required.map((key) => JSON.stringify(key)).join(" | ")}>>` };
  }
  if (onlyKeys(member, ["not"]) && onlyKeys(member.not, ["required"]) && member.not.required?.length === 1) {
    return { tsType: `{ ${JSON.stringify(member.not.required[0])}?: never }` };
  }
  return null;
}

/** A copy of a schema node ready to compile on its own:
 * - a `$ref` to a `$defs` entry becomes a reference by name (`tsType`), so that each compile declares
 *   only its own type and every entry is declared once, under its own name;
 * - `{"type": "object"}` with nothing listed is any object (Record<string, unknown>), not `{}`;
 * - in an `allOf`, a member that only requires (or forbids) a property of a referenced sibling
 *   becomes that in TypeScript (constraint above). */
function prepare(node) {
  if (Array.isArray(node)) return node.map(prepare);
  if (!node || typeof node !== "object") return node;
  const out = Object.fromEntries(Object.entries(node).map(([key, value]) => [key, prepare(value)]));
  const ref = typeof out.$ref === "string" ? DEF_REF.exec(out.$ref) : null;
  if (ref) {
    delete out.$ref;
    out.tsType = typeName(decodeURIComponent(ref[1]));
    return out;
  }
  if (Array.isArray(out.allOf)) {
    const bases = out.allOf.filter((member) => onlyKeys(member, ["tsType", "description"])).map((member) => member.tsType);
    out.allOf = out.allOf.map((member) => constraint(member, bases) ?? member);
  }
  const types = Array.isArray(out.type) ? out.type : [out.type];
  if (types.includes("object") && !("properties" in out) && !("additionalProperties" in out) && !("patternProperties" in out)) {
    out.additionalProperties = true;
  }
  return out;
}

/** The TypeScript source of contract.gen.ts for a parsed schema (in memory; writes nothing). */
export async function generateContract(schema) {
  const { $defs: defs = {}, ...root } = prepare(schema);
  const parts = [await compile(root, "OCRServiceContract", OPTIONS)];
  for (const [key, def] of Object.entries(defs)) {
    const { title: _title, $id: _id, ...body } = def;
    parts.push(await compile({ ...body, title: typeName(key) }, typeName(key), OPTIONS));
  }
  return HEADER + "\n" + parts.map((part) => part.trim()).join("\n\n") + "\n";
}

export function readSchema() {
  return JSON.parse(readFileSync(SCHEMA_PATH, "utf8"));
}

export function readCommitted() {
  try {
    return readFileSync(OUTPUT_PATH, "utf8");
  } catch {
    return null;
  }
}

async function main(argv) {
  const source = await generateContract(readSchema());
  if (argv.includes("--check")) {
    if (readCommitted() !== source) {
      console.error(`${OUTPUT_PATH} is out of date with ${SCHEMA_PATH}: run npm run gen:contract`);
      process.exit(1);
    }
    console.log(`${OUTPUT_PATH} is up to date`);
    return;
  }
  writeFileSync(OUTPUT_PATH, source);
  console.log(`wrote ${OUTPUT_PATH}`);
}

if (process.argv[1] && import.meta.url === pathToFileURL(resolve(process.argv[1])).href) {
  await main(process.argv.slice(2));
}
