// @vitest-environment node
import { describe, expect, it } from "vitest";
import { generateContract, readCommitted, readSchema, typeName } from "../../scripts/gen-contract.mjs";

describe("contract.gen.ts", () => {
  it("is what json-schema-to-typescript makes of shared/contract.schema.json (else: npm run gen:contract)", async () => {
    const generated = await generateContract(readSchema());
    expect(readCommitted(), "src/api/contract.gen.ts is missing: run npm run gen:contract").not.toBeNull();
    expect(readCommitted(), "the schema changed: run npm run gen:contract in web-client").toBe(generated);
  });

  it("declares one named type for every $defs entry", async () => {
    const schema = readSchema() as { $defs: Record<string, unknown> };
    const generated = await generateContract(schema);
    for (const key of Object.keys(schema.$defs)) {
      expect(generated).toMatch(new RegExp(`^export (interface|type) ${typeName(key)}\\b`, "m"));
    }
    expect(typeName("ocr_result")).toBe("OcrResult");
    expect(typeName("error")).toBe("ErrorBody");
  });

  it("turns allOf members that require or forbid a sibling's property into TypeScript", async () => {
    const generated = await generateContract({
      $defs: {
        fields: { type: "object", required: ["a"], properties: { a: { type: "string" }, pages: { type: "array", items: { type: "integer" } } } },
        with_pages: { allOf: [{ $ref: "#/$defs/fields" }, { required: ["pages"] }] },
        without_pages: { allOf: [{ $ref: "#/$defs/fields" }, { not: { required: ["pages"] } }] },
      },
    });
    expect(generated).toContain('export type WithPages = Fields & Required<Pick<Fields, "pages">>;');
    expect(generated).toContain("export type WithoutPages = Fields & {pages?: never};");
  });

  it("notices a schema change", async () => {
    const schema = readSchema() as { $defs: { page: { properties: Record<string, unknown> } } };
    const changed = structuredClone(schema);
    changed.$defs.page.properties.fingerprint_test_only = { type: "string" };
    expect(await generateContract(changed)).not.toBe(readCommitted());
  });
});
